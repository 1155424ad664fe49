#!/usr/bin/env bash
# The two commands of the README.
#
#   packaging/blockscope.sh run [MODEL]   install what is missing, build, open the app
#   packaging/blockscope.sh test          install what is missing, build, run every CPU test
#
# Environment: BLOCKSCOPE_BUILD_DIR (default build), BLOCKSCOPE_JOBS (default: number of cores),
# BLOCKSCOPE_TORCH_PREFIX (use another LibTorch), BLOCKSCOPE_CMAKE_ARGS (extra configure args).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mode="${1:-}"
[ -n "$mode" ] && shift || true
case "$mode" in
  run|test|build) ;;
  *) echo "usage: packaging/blockscope.sh run [MODEL] | test | build" >&2; exit 2 ;;
esac

torch_prefix="$(bash packaging/setup-deps.sh)"
[ -d /usr/local/cuda/bin ] && export PATH="/usr/local/cuda/bin:$PATH"
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
# Clones in other folders (CI clones afresh each time) share cache entries: paths are hashed
# relative to the checkout, and the working directory is left out of the hash.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$here}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"
build="${BLOCKSCOPE_BUILD_DIR:-build}"
jobs="${BLOCKSCOPE_JOBS:-$(nproc)}"

cmake_args=(-S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH="$torch_prefix"
            -DBLOCKSCOPE_BUILD_GUI=ON -DBLOCKSCOPE_BUILD_TESTS=ON)
if [ "$mode" = test ]; then
  cmake_args+=(-DBLOCKSCOPE_WARNINGS_AS_ERRORS=ON)
fi
# shellcheck disable=SC2206
cmake_args+=(${BLOCKSCOPE_CMAKE_ARGS:-})
cmake "${cmake_args[@]}"
cmake --build "$build" -j "$jobs"

case "$mode" in
  build) ;;
  test)
    cd "$build"
    # The setup fetched SmolLM2 (or failed): its tests must run, not skip.
    export BLOCKSCOPE_SMOLLM2_REQUIRED=1
    QT_QPA_PLATFORM=offscreen ctest --output-on-failure --label-exclude gpu -j "$jobs" --timeout 900
    ;;
  run)
    if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
      echo "No display: starting the app under Xvfb (set DISPLAY to use your desktop)." >&2
      exec xvfb-run -a -s "-screen 0 1600x1000x24" "$build/app/blockscope" "$@"
    fi
    exec "$build/app/blockscope" "$@"
    ;;
esac
