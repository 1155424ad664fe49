#!/usr/bin/env bash
# The whole workbench on SmolLM2-135M-Instruct (Q4_1 GGUF, 30 blocks, 49,152-token vocabulary), from
# the command line, with the wall time and peak resident set of each action on this machine. The
# settings are small enough for a two-core machine (each is printed); the searches are the real ones.
#
#   tests/bench/bench_smollm2_workbench.sh BUILD_DIR OUT_DIR [SHARED_DATA_DIR]
set -euo pipefail
build="${1:?build folder}"
out="${2:?output folder}"
data="${3:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/data}"
cli="$build/app/blockscope-cli"
model="${BLOCKSCOPE_SMOLLM2:-${XDG_CACHE_HOME:-$HOME/.cache}/blockscope/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf}"
wiki="$data/text/wiki.test.raw"
c4="$data/text/c4_train_first1000.jsonl"
mkdir -p "$out"
rm -f "$out/smollm2.h5"

measure() { # label, command...
  local label="$1"; shift
  local res
  /usr/bin/time -f '%e %M' -o "$out/$label.time" "$@" > "$out/$label.out" 2>"$out/$label.err" \
    || { echo "$label: FAILED (see $out/$label.err)"; tail -3 "$out/$label.err"; return 0; }
  res="$(tail -n 1 "$out/$label.time")"
  local secs="${res% *}" kib="${res#* }"
  printf '%-34s %9.1f s  %7d MiB   %s\n' "$label" "$secs" "$((kib / 1024))" "${*:2:12}"
}

echo "action                              wall      peak RSS   command (after blockscope-cli)"
measure inspect "$cli" inspect "$model"
measure inspect-stats "$cli" inspect "$model" --stats
for p in tiny-ts sleb evopress sliding finercut; do
  measure "eval-$p" "$cli" eval "$model" --text "$wiki" --protocol "$p" --max-windows 8 --json
done
measure eval-bf16-tiny-ts "$cli" eval "$model" --text "$wiki" --protocol tiny-ts --max-windows 8 --dtype bfloat16 --json
measure prune-shortgpt "$cli" prune "$model" --method shortgpt --target 4 --calib "$c4" --calib-windows 8 \
  --eval-text "$wiki" --eval-windows 8 --out "$out/smollm2.h5" --quiet
measure prune-angular "$cli" prune "$model" --method angular --target 4 --calib "$c4" --calib-windows 8 \
  --eval-text "$wiki" --eval-windows 8 --out "$out/smollm2.h5" --quiet
measure prune-sleb "$cli" prune "$model" --method sleb --target 2 --calib "$c4" --calib-windows 4 \
  --eval-text "$wiki" --eval-windows 8 --out "$out/smollm2.h5" --quiet
measure prune-finercut "$cli" prune "$model" --method finercut --target 3 --calib "$c4" --calib-windows 2 \
  --eval-text "$wiki" --eval-windows 8 --out "$out/smollm2.h5" --quiet
# EvoPress's last selection stage needs 8,192 calibration tokens: 16 tiny-ts windows.
measure prune-evopress "$cli" prune "$model" --method evopress --target 2 --generations 3 --offspring 4 \
  --calib "$c4" --calib-windows 16 --eval-text "$wiki" --eval-windows 8 --out "$out/smollm2.h5" --quiet
measure report "$cli" report "$out/smollm2.h5"
measure ppa "$cli" ppa "$model" --experiment "$out/smollm2.h5" --run run-0003 --seq 128 --runs 3 --warmup 1 \
  --threads 2 --predict-for H100,RTX4090
# Windows of 4,096 tokens (64 blocks of 64): the evopress preset's streams, since tiny-ts windows
# stay inside paragraphs, which in WikiText are far shorter.
measure gates-train-4096 "$cli" gates train "$model" --calib "$wiki" --out "$out/smollm2-B64.seergate.safetensors" \
  --protocol evopress --context 4096 --block 64 --steps 40 --batch 1 --calib-windows 6 --held-out 2 \
  --eval-every 20 --quiet
measure gates-eval-4096 "$cli" gates eval "$model" --gates "$out/smollm2-B64.seergate.safetensors" --text "$wiki" \
  --protocol evopress --context 4096 --density 1,0.5,0.25 --windows 2 --json
measure attention-8192 "$cli" attention "$model" --text "$wiki" --layer 15 --head mean --block 64 \
  --max-tokens 8192 --gates "$out/smollm2-B64.seergate.safetensors" --density 0.5 --png "$out/attention-8192.png"
