#!/usr/bin/env bash
# SLEB and FinerCut on SmolLM2-135M-Instruct: Blockscope against an official-style reimplementation
# (tests/bench/prune_official_style.py: transformers, every candidate re-run from the embedding,
# one window per forward), on the same calibration windows (tests/bench/dump_windows) and the same
# thread count, in one run. Prints each search's wall time (the search only, model loading
# excluded on both sides), the ratio, and whether the removal orders are identical.
#
#   tests/bench/bench_prune_vs_hf.sh BUILD_DIR [THREADS] [SHARED_DATA_DIR]
#
# Settings (environment): METHODS="sleb finercut", SLEB_WINDOWS=4 SLEB_TARGET=2 FINERCUT_WINDOWS=4 FINERCUT_STEPS=2, windows
# of CONTEXT=256 tokens cut from C4 under the sleb protocol. Needs a Python with torch, transformers
# and gguf (default: the LibTorch venv of setup-deps.sh; BLOCKSCOPE_BENCH_PYTHON to change it).
set -euo pipefail
build="${1:?usage: bench_prune_vs_hf.sh BUILD_DIR [THREADS] [SHARED_DATA_DIR]}"
threads="${2:-$(nproc)}"
here="$(cd "$(dirname "$0")" && pwd)"
data="${3:-$(cd "$here/../../.." && pwd)/shared/data}"
py="${BLOCKSCOPE_BENCH_PYTHON:-$HOME/.cache/blockscope/torch-2.11.0/bin/python}"
model="${BLOCKSCOPE_SMOLLM2:-${XDG_CACHE_HOME:-$HOME/.cache}/blockscope/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf}"
text="$data/text/c4_train_first1000.jsonl"
context="${CONTEXT:-256}"
cli="$build/app/blockscope-cli"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS="$threads" TRANSFORMERS_VERBOSITY=error HF_HUB_DISABLE_PROGRESS_BARS=1 TQDM_DISABLE=1

blockscope() { # method target windows [extra options...] -> "seconds order..." of the search
  local method="$1" target="$2" windows="$3"
  shift 3
  rm -f "$work/bs.h5"
  "$cli" prune "$model" --method "$method" --target "$target" --calib "$text" --protocol sleb \
    --context "$context" --calib-windows "$windows" --no-eval --out "$work/bs.h5" --quiet "$@" >/dev/null
  "$cli" report "$work/bs.h5" --format json | "$py" -c '
import json, sys
run = json.load(sys.stdin)[0]
print(run["steps"][-1]["seconds"], ",".join(u for s in run["steps"] for u in s["chosen"]))'
}

official() { # method target windows -> "seconds order"
  "$build/tests/bench/dump_windows" "$model" "$text" sleb "$context" "$3" >"$work/windows.json"
  "$py" "$here/prune_official_style.py" "$model" "$work/windows.json" "$1" "$2" "$threads" | "$py" -c '
import json, sys
r = json.load(sys.stdin)
print(r["seconds"], ",".join(r["order"]))'
}

compare() { # label official-result blockscope-result
  read -r base_s base_order <<<"$2"
  read -r bs_s bs_order <<<"$3"
  local same="identical choices"
  [[ "$base_order" == "$bs_order" ]] || same="DIFFERENT choices: $base_order vs $bs_order"
  "$py" -c "print(f'%-34s %8.1f s  vs official %8.1f s  ->  %.2fx   (%s)' % ('$1', $bs_s, $base_s, $base_s / $bs_s, '$same'))"
}

echo "SmolLM2-135M-Instruct Q4_1 (float32 compute), $threads thread(s), windows of $context tokens from C4"
echo "transformers $("$py" -c 'import transformers; print(transformers.__version__)'), torch $("$py" -c 'import torch; print(torch.__version__)')"
methods="${METHODS:-sleb finercut}"
if [[ " $methods " == *" sleb "* ]]; then
sw="${SLEB_WINDOWS:-4}" st="${SLEB_TARGET:-2}"
echo "SLEB: remove $st blocks, $sw calibration windows"
sleb_official="$(official sleb "$st" "$sw")"
echo "  official-style order: ${sleb_official#* }"
compare "  blockscope (cached, every score)" "$sleb_official" "$(blockscope sleb "$st" "$sw")"
compare "  blockscope --early-stop --batch 1" "$sleb_official" "$(blockscope sleb "$st" "$sw" --early-stop --batch 1)"
fi
if [[ " $methods " == *" finercut "* ]]; then
fw="${FINERCUT_WINDOWS:-4}" fs="${FINERCUT_STEPS:-2}"
echo "FinerCut: $fs steps at level am (js), $fw calibration windows"
finercut_official="$(official finercut "$fs" "$fw")"
echo "  official-style order: ${finercut_official#* }"
compare "  blockscope (cached)" "$finercut_official" "$(blockscope finercut "$fs" "$fw")"
fi
