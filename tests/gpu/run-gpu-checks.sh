#!/usr/bin/env bash
# Builds the engine without the GUI against the machine's CUDA-enabled LibTorch and runs the
# gpu-labelled tests and the GPU benchmarks, writing logs to LOGDIR.
#
#   tests/gpu/run-gpu-checks.sh LOGDIR
#
# LibTorch: $BLOCKSCOPE_TORCH_PREFIX, else the `torch` package of python3.
# Other dependencies: the system's, or Debian packages unpacked into a private prefix from
# .deps/debs (see tests/gpu/fetch-debs.sh) when that folder holds .deb files.
# Test data: $BLOCKSCOPE_SHARED_DATA (default ../shared/data); tests that need it skip without.
set -uo pipefail

logdir="${1:?usage: tests/gpu/run-gpu-checks.sh LOGDIR}"
mkdir -p "$logdir"
logdir="$(cd "$logdir" && pwd)"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${BLOCKSCOPE_GPU_BUILD_DIR:-$repo/build-gpu}"
jobs="${BLOCKSCOPE_JOBS:-$(nproc)}"
summary="$logdir/summary.txt"
: > "$summary"
say() { echo "$*" | tee -a "$summary"; }

{ nvidia-smi || true; } > "$logdir/nvidia-smi.txt" 2>&1
[ -d /usr/local/cuda/bin ] && export PATH="/usr/local/cuda/bin:$PATH"

torch_prefix="${BLOCKSCOPE_TORCH_PREFIX:-}"
if [ -z "$torch_prefix" ]; then
  torch_prefix="$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)" || true
fi
if [ ! -d "$torch_prefix/share/cmake/Torch" ]; then
  say "FAIL: no LibTorch found (set BLOCKSCOPE_TORCH_PREFIX or install torch for python3)"
  exit 1
fi
say "LibTorch: $torch_prefix"

cmake_args=(-S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
            -DBLOCKSCOPE_BUILD_GUI=OFF -DBLOCKSCOPE_BUILD_TESTS=ON -DBLOCKSCOPE_WITH_CUDA=ON
            -DBLOCKSCOPE_CUDA_ARCHITECTURES="${BLOCKSCOPE_CUDA_ARCHITECTURES:-90}")
prefix_path="$torch_prefix"

debs=("$repo"/.deps/debs/*.deb)
if [ -e "${debs[0]}" ]; then
  root="${BLOCKSCOPE_DEPS_PREFIX:-$repo/.deps/root}"
  mkdir -p "$root"
  for f in "${debs[@]}"; do dpkg-deb -x "$f" "$root"; done
  lib="$root/usr/lib/x86_64-linux-gnu"
  say "Debian packages unpacked into $root"
  prefix_path="$prefix_path;$root/usr;$lib/cmake"
  export LD_LIBRARY_PATH="$lib:$lib/hdf5/serial${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # Only the unpacked .pc files, with their /usr paths rebased into the prefix.
  export PKG_CONFIG_LIBDIR="$lib/pkgconfig:$root/usr/share/pkgconfig"
  export PKG_CONFIG_SYSROOT_DIR="$root"
  # HDF5's compiler wrappers hard-code /usr: name its pieces instead.
  cmake_args+=(-DHDF5_C_COMPILER_EXECUTABLE=HDF5_C_COMPILER_EXECUTABLE-NOTFOUND
               -DHDF5_CXX_COMPILER_EXECUTABLE=HDF5_CXX_COMPILER_EXECUTABLE-NOTFOUND
               -DHDF5_C_INCLUDE_DIR="$root/usr/include/hdf5/serial"
               -DHDF5_CXX_INCLUDE_DIR="$root/usr/include/hdf5/serial"
               -DHDF5_C_LIBRARY_hdf5="$lib/hdf5/serial/libhdf5.so"
               -DHDF5_CXX_LIBRARY_hdf5="$lib/hdf5/serial/libhdf5.so"
               -DHDF5_CXX_LIBRARY_hdf5_cpp="$lib/hdf5/serial/libhdf5_cpp.so"
               -DCLI11_INCLUDE_DIR="$root/usr/include")
  # Qt's tools (moc) are found through the unpacked cmake files; they need the unpacked libs.
  export QT_HOST_PATH="$root/usr"
fi
cmake_args+=(-DCMAKE_PREFIX_PATH="$prefix_path")

say "configure: cmake ${cmake_args[*]}"
if ! cmake "${cmake_args[@]}" > "$logdir/configure.log" 2>&1; then
  say "FAIL: configure (see configure.log)"; tail -30 "$logdir/configure.log"; exit 1
fi
grep -q "CudaKernels" "$logdir/configure.log" && grep -A2 "enabled:" "$logdir/configure.log" | tee -a "$summary" >/dev/null
if ! cmake --build "$build" -j "$jobs" > "$logdir/build.log" 2>&1; then
  say "FAIL: build (see build.log)"; grep -E "error" "$logdir/build.log" | head -20; exit 1
fi
say "build: ok"

status=0
(cd "$build" && ctest -L gpu --output-on-failure --timeout 600) > "$logdir/ctest-gpu.log" 2>&1 || status=1
tail -n 5 "$logdir/ctest-gpu.log" | tee -a "$summary"
for b in "$build"/tests/bench/bench_*gpu*; do
  [ -f "$b" ] && [ -x "$b" ] || continue
  name="$(basename "$b")"
  if "$b" > "$logdir/$name.log" 2>&1; then say "$name: $(tail -n 2 "$logdir/$name.log" | head -n 1)"; else say "FAIL: $name"; status=1; fi
done
# Two ranks on the GPU(s) against one process (issue 16): the same trace, scores to the last bit.
cli="$build/app/blockscope-cli"
data="${BLOCKSCOPE_SHARED_DATA:-$repo/../shared/data}"
if [ -x "$cli" ] && [ -f "$data/models/stories260K/stories260K.bin" ]; then
  ranks_args=(prune "$data/models/stories260K/stories260K.bin" --method sleb --target 2 --device cuda
              --calib "$data/text/tinystories_valid_head.txt" --calib-windows 8 --eval-windows 8 --threads 1)
  rm -f "$logdir/ranks-1.h5" "$logdir/ranks-2.h5"
  if "$cli" "${ranks_args[@]}" --out "$logdir/ranks-1.h5" > "$logdir/ranks.log" 2>&1 \
     && "$cli" "${ranks_args[@]}" --out "$logdir/ranks-2.h5" --nproc 2 >> "$logdir/ranks.log" 2>&1 \
     && python3 - "$cli" "$logdir/ranks-1.h5" "$logdir/ranks-2.h5" >> "$logdir/ranks.log" 2>&1 <<'PY'
import json, subprocess, sys
def steps(path):
    run = json.loads(subprocess.check_output([sys.argv[1], "report", path, "--format", "json"]))[-1]
    for s in run["steps"]:
        s.pop("seconds", None)
    return run["steps"]
sys.exit(0 if steps(sys.argv[2]) == steps(sys.argv[3]) else 1)
PY
  then say "two ranks on cuda: the same trace as one process"
  else say "FAIL: two ranks on cuda (see ranks.log)"; status=1
  fi
fi
say "result: $([ $status -eq 0 ] && echo PASS || echo FAIL)"
exit $status
