#!/usr/bin/env bash
# A model far too big for this machine's patience: the Llama-3-8B-shaped synthetic checkpoint of
# make-synthetic-8b.py (bfloat16 shards and a Q4_K GGUF). Prints, per action, wall time and peak
# resident set (the kernel's ru_maxrss of the child), with the weights at the compute dtype beside
# them, so the ratios the issue asks for can be read off:
#   open        constant time (metadata only), against SmolLM2's open in the same run
#   stats       statistics of every tensor stream with bounded memory
#   eval        one 512-token window in bfloat16 on the CPU, peak RSS / weights at bfloat16 (<= 1.15)
#
#   tests/bench/bench_big_model.sh BUILD_DIR SYNTHETIC_DIR [TEXT]
set -euo pipefail
build="${1:?build folder}"
dir="${2:?folder made by make-synthetic-8b.py}"
text="${3:-$(dirname "$0")/../../../shared/data/text/wiki.test.raw}"
cli="$build/app/blockscope-cli"
smol="${BLOCKSCOPE_SMOLLM2:-${XDG_CACHE_HOME:-$HOME/.cache}/blockscope/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf}"
weights_bf16=$((8030261248 * 2))

measure() { # label, command...
  local label="$1"; shift
  local out
  /usr/bin/time -f '%e %M' -o /tmp/bench_big_model.time "$@" > /tmp/bench_big_model.out 2>/tmp/bench_big_model.err \
    || { echo "$label: FAILED"; tail -3 /tmp/bench_big_model.err; return 0; }
  out="$(tail -n 1 /tmp/bench_big_model.time)"
  local secs="${out% *}" kib="${out#* }"
  printf '%-44s wall %8.2f s   peak RSS %8.0f MiB' "$label" "$secs" "$((kib / 1024))"
  if [ -n "${PEAK_AGAINST:-}" ]; then
    python3 -c "import sys; print(f'   = {int(sys.argv[1])*1024/int(sys.argv[2]):.3f} x weights at bfloat16')" "$kib" "$PEAK_AGAINST"
  else
    echo
  fi
}

echo "open (metadata only):"
measure "  SmolLM2-135M Q4_1 GGUF (98 MB)" "$cli" inspect "$smol" --json
measure "  Llama-3-8B shapes, Q4_K GGUF (4.5 GB)" "$cli" inspect "$dir/llama3-8b-q4_k.gguf" --json
measure "  Llama-3-8B shapes, bf16 shards (16 GB)" "$cli" inspect "$dir/hf-bf16" --json
echo "statistics of every tensor (streamed):"
measure "  Q4_K GGUF" "$cli" inspect "$dir/llama3-8b-q4_k.gguf" --stats
measure "  bf16 shards" "$cli" inspect "$dir/hf-bf16" --stats
echo "one 512-token window in bfloat16 on the CPU:"
PEAK_AGAINST=$weights_bf16 measure "  bf16 shards" "$cli" eval "$dir/hf-bf16" --text "$text" --protocol tiny-ts \
  --context 512 --max-windows 1 --dtype bfloat16
PEAK_AGAINST=$weights_bf16 measure "  Q4_K GGUF (dequantised to bf16)" "$cli" eval "$dir/llama3-8b-q4_k.gguf" \
  --text "$text" --protocol tiny-ts --context 512 --max-windows 1 --dtype bfloat16
echo "(weights at bfloat16: $((weights_bf16 / 1048576)) MiB)"
