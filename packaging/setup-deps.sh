#!/usr/bin/env bash
# Installs what Blockscope needs to build and test, and nothing that is already there.
# Debian packages come from apt; LibTorch comes from the PyPI torch wheel (pinned), unpacked
# into a private virtual environment outside the source tree so that every clone shares it.
#
#   packaging/setup-deps.sh            install what is missing, print the LibTorch CMake prefix
#   BLOCKSCOPE_TORCH_PREFIX=/path ...   use an existing LibTorch (folder holding share/cmake/Torch)
set -euo pipefail

TORCH_VERSION="${BLOCKSCOPE_TORCH_VERSION:-2.11.0}"   # PyPI wheel built for CUDA 13.0, like the toolkit
DEPS_ROOT="${BLOCKSCOPE_DEPS_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/blockscope}"
VENV="$DEPS_ROOT/torch-$TORCH_VERSION"

log() { printf '[setup] %s\n' "$*" >&2; }

APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  qt6-base-dev qt6-charts-dev qt6-svg-dev libqt6opengl6-dev libgl-dev
  libhdf5-dev libspdlog-dev nlohmann-json3-dev libsentencepiece-dev libcli11-dev libpcre2-dev libicu-dev
  libopenblas0-pthread libclang-rt-14-dev clang-14
  xvfb xauth python3 python3-venv
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
else
  log "Debian packages: all present"
fi

if [ -n "${BLOCKSCOPE_TORCH_PREFIX:-}" ]; then
  [ -d "$BLOCKSCOPE_TORCH_PREFIX/share/cmake/Torch" ] || { log "BLOCKSCOPE_TORCH_PREFIX=$BLOCKSCOPE_TORCH_PREFIX has no share/cmake/Torch"; exit 1; }
  echo "$BLOCKSCOPE_TORCH_PREFIX"
  exit 0
fi

# Debian's python3 (not a pyenv shim) makes the venv reproducible on a fresh machine.
PY=/usr/bin/python3
[ -x "$PY" ] || PY="$(command -v python3)"
stamp="$VENV/.blockscope-ok"
if [ ! -f "$stamp" ]; then
  log "installing LibTorch $TORCH_VERSION from the PyPI torch wheel into $VENV (a few GB, once)"
  mkdir -p "$DEPS_ROOT"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "torch==$TORCH_VERSION" >&2
  touch "$stamp"
else
  log "LibTorch $TORCH_VERSION: present in $VENV"
fi
# Found on disk rather than by importing torch, which is slow and warns without numpy.
prefix="$(ls -d "$VENV"/lib/python3*/site-packages/torch 2>/dev/null | head -n 1)"
[ -d "$prefix/share/cmake/Torch" ] || { log "torch wheel at $prefix has no share/cmake/Torch"; exit 1; }
echo "$prefix"
