#!/usr/bin/env bash
# Downloads the Debian 12 packages that a GPU machine without them needs to build the engine
# (no GUI) and its tests, into .deps/debs. Run this on a Debian 12 machine with network; the
# GPU machine then unpacks them into a private prefix (run-gpu-checks.sh does it). About 40 MB.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="${1:-$repo/.deps/debs}"
mkdir -p "$dest"
packages=(
  # Qt Test (tests) and Qt Core with its moc; libraries a non-Debian image may lack
  qt6-base-dev qt6-base-dev-tools qmake6 qmake6-bin libqt6core6 libqt6test6 libicu72 libdouble-conversion3 libb2-1 libpcre2-16-0
  # HDF5
  libhdf5-dev libhdf5-103-1 libhdf5-cpp-103-1 libhdf5-hl-100 libsz2 libaec0
  # spdlog + fmt, nlohmann-json, SentencePiece, CLI11
  libspdlog-dev libspdlog1.10 libfmt-dev libfmt9 nlohmann-json3-dev libsentencepiece-dev libsentencepiece0
  libprotobuf-lite32 libcli11-dev
  # gloo's headers, for LibTorch's c10d Gloo process group (core/dist)
  libgloo-dev
)
cd "$dest"
apt-get download "${packages[@]}"
ls -la "$dest"
