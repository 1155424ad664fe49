#!/usr/bin/env bash
# Regenerates the PNGs in this folder from a build of the `blockscope` executable, headless under
# Xvfb. Usage: make-screenshots.sh BUILD_DIR [SHARED_DATA_DIR]
set -euo pipefail
build=${1:?usage: make-screenshots.sh BUILD_DIR [SHARED_DATA_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
data=${2:-$here/../../../shared/data}
app="$build/app/blockscope"
model="$data/models/stories260K/stories260K.bin"
run() { xvfb-run -a -s "-screen 0 1600x1000x24" "$app" "$@"; }

broken=$(mktemp --suffix=-model.bin)
scratch=$(mktemp -d)
experiment="$scratch/demo-pruning.h5"
trap 'rm -rf "$broken" "$scratch"' EXIT
head -c 20 /dev/zero >"$broken" # a llama2.c header cut short

run "$model" --select model.layers.0.self_attn.q_proj.weight --size 1600x1000 --screenshot "$here/main-window.png"
run "$model" --select "Block 2/MLP" --size 1600x1000 --screenshot "$here/group-details.png"
run "$broken" --size 1200x700 --screenshot "$here/open-error.png"
# Without a path the app opens the bundled demo model.
run --select "Block 1/Attention" --size 1600x1000 --screenshot "$here/demo-model.png"

# The pruning page: a SLEB and a FinerCut run on the demo model in one experiment file, the
# FinerCut run selected with attention 3 switched off for what-if, then both runs compared.
demo="$here/../demo-model"
text="$data/text/tinyshakespeare.txt"
"$build/app/blockscope-cli" prune "$demo" --method sleb --target 2 --calib "$text" --eval-windows 16 \
    --out "$experiment" --quiet
"$build/app/blockscope-cli" prune "$demo" --method finercut --target 6 --calib "$text" --eval-windows 16 \
    --out "$experiment" --quiet
run --experiment "$experiment" --page pruning --runs run-0002 --what-if "attn 3" --size 1800x1050 \
    --screenshot "$here/pruning-page.png"
run --experiment "$experiment" --page pruning --runs run-0001,run-0002 --size 1800x1050 \
    --screenshot "$here/pruning-compare.png"

# The PPA page: both runs measured here with one CPU thread (steadier on a busy machine) and
# modelled by this machine's calibrated roofline; quality against prefill throughput with the Pareto
# frontier and the dense model, the FinerCut run's points and its last step's block shares.
for id in run-0001 run-0002; do
    "$build/app/blockscope-cli" ppa "$demo" --experiment "$experiment" --run "$id" --threads 1 >/dev/null
done
run --experiment "$experiment" --page ppa --size 1800x1050 --screenshot "$here/ppa-page.png"

# The attention page on stories260K: gates trained by the CLI (tiny recipe, B 16), then the maps of
# layer 2 for the first TinyStories paragraphs; gate training live in the app; the perplexity-
# against-sparsity sweep of those gates and the static baseline; the token view of a short text.
stories="$data/text/tinystories_valid_head.txt"
gates="$scratch/stories260K-B16.seergate.safetensors"
"$build/app/blockscope-cli" gates train "$model" --calib "$stories" --out "$gates" --quiet
run "$model" --page attention --gates "$gates" --layer 2 --size 1800x1050 --screenshot "$here/attention-page.png"
run "$model" --page attention --attention-tab training --train-gates "$scratch/trained-in-app.seergate.safetensors" \
    --size 1800x1050 --screenshot "$here/gate-training.png"
run "$model" --page attention --gates "$gates" --attention-tab sweep --sweep --size 1800x1050 \
    --screenshot "$here/sparsity-sweep.png"
printf '%s\n' "Once upon a time, there was a little girl named Lily. She loved to play outside in the sun." \
    "One day, she saw a big red ball in the park. She ran to it and kicked it high into the sky." \
    "The ball flew over the trees, and Lily laughed and laughed." >"$scratch/short.txt"
run "$model" --page attention --gates "$gates" --attention-text "$scratch/short.txt" --layer 2 --attention-tab tokens \
    --size 1800x1050 --screenshot "$here/attention-tokens.png"

# A damaged experiment file (a fuzzer input that crashes libhdf5) opened in the app: an error banner.
cp "$here/../../tests/fixtures/experiments/damaged-h5hg-segv.h5" "$scratch/colleague.h5"
run --experiment "$scratch/colleague.h5" --page pruning --size 1500x900 --screenshot "$here/damaged-experiment.png"

# SmolLM2-135M-Instruct, the real model the setup fetches (Q4_1 GGUF, 30 blocks): the model tree with
# each tensor's storage format, the pruning page over the runs of tests/bench/bench_smollm2_workbench.sh
# (their experiment file, passed as SMOLLM2_EXPERIMENT), the attention page with the B 64 gates that
# bench trained on 4,096-token windows, over a long text, and the PPA page.
smol="${BLOCKSCOPE_SMOLLM2:-${XDG_CACHE_HOME:-$HOME/.cache}/blockscope/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf}"
if [ -f "$smol" ] && [ -n "${SMOLLM2_EXPERIMENT:-}" ]; then
    run "$smol" --select "Block 14/MLP" --size 1800x1050 --screenshot "$here/smollm2-model.png"
    run "$smol" --experiment "$SMOLLM2_EXPERIMENT" --page pruning --runs run-0004 \
        --what-if "attn 6, attn 17, block 14" --size 1800x1050 --screenshot "$here/smollm2-pruning.png"
    if [ -f "${SMOLLM2_GATES:-}" ]; then
        head -c 18000 "$data/text/wiki.test.raw" >"$scratch/long.txt"
        run "$smol" --page attention --gates "$SMOLLM2_GATES" --attention-text "$scratch/long.txt" --layer 15 \
            --size 1800x1050 --screenshot "$here/smollm2-attention.png"
    fi
    run "$smol" --page attention --attention-tab training --train-gates "$scratch/smollm2-app.seergate.safetensors" \
        --train-steps 30 --size 1800x1050 --screenshot "$here/smollm2-gate-training.png"
    run "$smol" --experiment "$SMOLLM2_EXPERIMENT" --page ppa --size 1800x1050 --screenshot "$here/smollm2-ppa.png"
    # Started in the app as a user would: SLEB removing one block (2 calibration windows, 4 for
    # evaluation) into a new file, Compute PPA for that run, and the map of an 8,192-token text.
    rm -f "$scratch/smollm2-app.h5"
    run "$smol" --page pruning --prune "sleb,target=1,calib=2,eval=4,out=$scratch/smollm2-app.h5" \
        --size 1800x1050 --screenshot "$here/smollm2-app-sleb.png"
    # The same search caught mid-step: the layer map fills in as each candidate is scored.
    rm -f "$scratch/smollm2-live.h5" "$scratch/smollm2-live.h5.journal"
    run "$smol" --page pruning --prune "sleb,target=2,calib=2,eval=4,out=$scratch/smollm2-live.h5,shot=40" \
        --size 1800x1050 --screenshot "$here/smollm2-app-sleb-live.png"
    run "$smol" --experiment "$scratch/smollm2-app.h5" --page ppa --compute-ppa \
        --size 1800x1050 --screenshot "$here/smollm2-app-ppa.png"
    if [ -f "${SMOLLM2_GATES:-}" ]; then
        head -c 40000 "$data/text/wiki.test.raw" >"$scratch/long8k.txt"
        run "$smol" --page attention --gates "$SMOLLM2_GATES" --attention-text "$scratch/long8k.txt" --layer 15 \
            --size 1800x1050 --screenshot "$here/smollm2-app-attention-8192.png"
    fi
fi
