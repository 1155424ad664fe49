#!/usr/bin/env bash
# Forward throughput and peak memory: Blockscope's decoder against Hugging Face transformers
# (PyTorch eager, default attention) on the same ~100M-parameter random Llama, sequence 512,
# float32 on CPU, same thread count, in the same run. Prints both and the ratio.
#
#   tests/bench/bench_forward_vs_hf.sh BUILD_DIR [THREADS]
# Needs a Python with torch and transformers (default: the LibTorch venv of setup-deps.sh;
# `pip install transformers safetensors` into it once).
set -euo pipefail
build="${1:?usage: bench_forward_vs_hf.sh BUILD_DIR [THREADS]}"
threads="${2:-$(nproc)}"
py="${BLOCKSCOPE_BENCH_PYTHON:-$HOME/.cache/blockscope/torch-2.11.0/bin/python}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$py" - "$work/model" <<'PY'
import sys, torch, transformers
torch.manual_seed(0)
cfg = transformers.LlamaConfig(hidden_size=768, intermediate_size=2048, num_hidden_layers=12,
                               num_attention_heads=12, num_key_value_heads=4, vocab_size=32000,
                               max_position_embeddings=2048, tie_word_embeddings=False)
transformers.LlamaForCausalLM(cfg).save_pretrained(sys.argv[1], safe_serialization=True)
PY

hf=$("$py" - "$work/model" "$threads" <<'PY'
import resource, statistics, sys, time, torch, transformers
torch.set_num_threads(int(sys.argv[2]))
model = transformers.LlamaForCausalLM.from_pretrained(sys.argv[1], torch_dtype=torch.float32).eval()
tokens = torch.randint(0, model.config.vocab_size, (1, 512))
with torch.no_grad():
    model(tokens)
    times = []
    for _ in range(5):
        t0 = time.perf_counter(); model(tokens); times.append(time.perf_counter() - t0)
med = statistics.median(times)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
params = sum(p.numel() for p in model.parameters()) / 1e6
print(f"{512/med:.1f} {rss:.0f} {med:.3f} {min(times):.3f} {max(times):.3f} {params:.1f}")
PY
)
read -r hf_tps hf_rss hf_med hf_min hf_max hf_params <<<"$hf"
echo "transformers $("$py" -c 'import transformers; print(transformers.__version__)'): params ${hf_params}M threads $threads seq 512 median ${hf_med} s (min $hf_min max $hf_max) -> $hf_tps tokens/s, peak RSS $hf_rss MB"
bs=$("$build/tests/bench/bench_forward" "$work/model" 512 5 "$threads")
echo "$bs"
bs_tps=$(echo "$bs" | sed -E 's/.*-> ([0-9.]+) tokens\/s.*/\1/')
bs_rss=$(echo "$bs" | sed -E 's/.*peak RSS ([0-9.]+) MB.*/\1/')
python3 -c "print(f'ratio blockscope/transformers: throughput {float($bs_tps)/float($hf_tps):.2f}x, peak memory {float($bs_rss)/float($hf_rss):.2f}x')"
