#!/usr/bin/env python3
"""A synthetic checkpoint with the shapes of Llama-3-8B, far too big for a laptop's patience: random
weights (normal, std 0.02; norms 1) as

  OUT/hf-bf16/          config.json, model-0000K-of-0000N.safetensors (about 5 GB each) with
                        model.safetensors.index.json, and SmolLM2's tokenizer.json (ids < 49,152 are
                        valid Llama-3 ids, so texts can be evaluated)
  OUT/llama3-8b-q4_k.gguf  the same shapes as a GGUF: every matrix Q4_K (random 4-bit codes and
                        6-bit scales under small float16 super-scales), norms F32, SmolLM2's
                        byte-level vocabulary as the embedded tokenizer

Used by tests/bench/bench_big_model.sh to show that opening takes constant time, statistics stream
with bounded memory and a 512-token window evaluates in bfloat16 within 1.15 x the weights.

    ~/.cache/blockscope/torch-2.11.0/bin/python tests/bench/make-synthetic-8b.py OUT [TOKENIZER_FOLDER]

SYNTHETIC_GGUF_ONLY=1 rewrites only the GGUF. TOKENIZER_FOLDER defaults to ~/.cache/blockscope/smollm2/hf-float32 (made by the setup). Values are
tiled from a 16 M-element random pool with a different offset per tensor: random enough for
statistics and a forward pass, and written at disk speed (about 21 GB in all).
"""
import json
import os
import struct
import sys

import numpy as np

L, D, F, H, KV, V = 32, 4096, 14336, 32, 8, 128256
SHARD_BYTES = 5 * 1000 ** 3
POOL = 1 << 24


def tensors():
    """(HF name, GGUF name, shape) in the order Llama-3 checkpoints list them."""
    yield "model.embed_tokens.weight", "token_embd.weight", (V, D)
    for l in range(L):
        p, g = f"model.layers.{l}.", f"blk.{l}."
        yield p + "input_layernorm.weight", g + "attn_norm.weight", (D,)
        yield p + "self_attn.q_proj.weight", g + "attn_q.weight", (D, D)
        yield p + "self_attn.k_proj.weight", g + "attn_k.weight", (KV * D // H, D)
        yield p + "self_attn.v_proj.weight", g + "attn_v.weight", (KV * D // H, D)
        yield p + "self_attn.o_proj.weight", g + "attn_output.weight", (D, D)
        yield p + "post_attention_layernorm.weight", g + "ffn_norm.weight", (D,)
        yield p + "mlp.gate_proj.weight", g + "ffn_gate.weight", (F, D)
        yield p + "mlp.up_proj.weight", g + "ffn_up.weight", (F, D)
        yield p + "mlp.down_proj.weight", g + "ffn_down.weight", (D, F)
    yield "model.norm.weight", "output_norm.weight", (D,)
    yield "lm_head.weight", "output.weight", (V, D)


def tiled(pool, n, offset):
    reps = -(-(n + offset) // pool.size)
    return np.tile(pool, reps)[offset:offset + n]


def bf16_bytes(name, shape, pool, rng):
    n = int(np.prod(shape))
    if len(shape) == 1:
        return np.full(n, 0x3F80, dtype=np.uint16).tobytes()  # 1.0
    return tiled(pool, n, int(rng.integers(0, pool.size))).tobytes()


def write_hf(out, tok_folder, rng):
    os.makedirs(out, exist_ok=True)
    normal = rng.normal(0, 0.02, POOL).astype(np.float32)
    pool = (normal.view(np.uint32) >> 16).astype(np.uint16)  # truncation to bfloat16 is fine here
    entries = list(tensors())
    shards, current, size = [], [], 0
    for e in entries:
        b = int(np.prod(e[2])) * 2
        if current and size + b > SHARD_BYTES:
            shards.append(current)
            current, size = [], 0
        current.append(e)
        size += b
    shards.append(current)
    weight_map, total = {}, 0
    for k, shard in enumerate(shards):
        fname = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
        header, offset = {}, 0
        for hf, _, shape in shard:
            b = int(np.prod(shape)) * 2
            header[hf] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + b]}
            offset += b
            weight_map[hf] = fname
        header["__metadata__"] = {"format": "pt"}
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 8)
        with open(os.path.join(out, fname), "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for hf, _, shape in shard:
                f.write(bf16_bytes(hf, shape, pool, rng))
        total += offset
        print(f"  {fname}: {offset / 1e9:.2f} GB", flush=True)
    json.dump({"metadata": {"total_size": total}, "weight_map": weight_map},
              open(os.path.join(out, "model.safetensors.index.json"), "w"), indent=1)
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": D,
              "intermediate_size": F, "num_hidden_layers": L, "num_attention_heads": H, "num_key_value_heads": KV,
              "head_dim": D // H, "vocab_size": V, "max_position_embeddings": 8192, "rms_norm_eps": 1e-5,
              "rope_theta": 500000.0, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
              "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu"}
    json.dump(config, open(os.path.join(out, "config.json"), "w"), indent=1)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        src = os.path.join(tok_folder, name)
        if os.path.exists(src):
            with open(src, "rb") as a, open(os.path.join(out, name), "wb") as b:
                b.write(a.read())
    return total


def write_gguf(path, tok_gguf, rng):
    import gguf
    from gguf import GGMLQuantizationType as T
    w = gguf.GGUFWriter(path, "llama")
    w.add_context_length(8192)
    w.add_embedding_length(D)
    w.add_block_count(L)
    w.add_feed_forward_length(F)
    w.add_head_count(H)
    w.add_head_count_kv(KV)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(500000.0)
    w.add_rope_dimension_count(D // H)
    w.add_vocab_size(V)
    if tok_gguf:
        r = gguf.GGUFReader(tok_gguf)
        f = r.fields
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre("smollm")
        w.add_token_list([bytes(f["tokenizer.ggml.tokens"].parts[i]) for i in f["tokenizer.ggml.tokens"].data])
        w.add_token_types([int(f["tokenizer.ggml.token_type"].parts[i][0]) for i in f["tokenizer.ggml.token_type"].data])
        w.add_token_merges([bytes(f["tokenizer.ggml.merges"].parts[i]) for i in f["tokenizer.ggml.merges"].data])
        w.add_bos_token_id(1)
        w.add_eos_token_id(2)
    # Q4_K blocks: random 6-bit scales/mins and 4-bit codes under float16 super-scales d = dmin = 4e-5,
    # so that values d·sc·q - dmin·m span about ±0.04, like the bfloat16 weights' std of 0.02.
    blocks = rng.integers(0, 256, size=(POOL // 256, 144), dtype=np.uint8)
    blocks[:, 0:2] = np.frombuffer(np.float16(4e-5).tobytes(), dtype=np.uint8)
    blocks[:, 2:4] = np.frombuffer(np.float16(4e-5).tobytes(), dtype=np.uint8)
    pool = blocks.reshape(-1)
    for _, name, shape in tensors():
        n = int(np.prod(shape))
        if len(shape) == 1:
            w.add_tensor(name, np.ones(shape, dtype=np.float32))
            continue
        nb = n // 256
        data = tiled(pool, nb * 144, int(rng.integers(0, POOL // 256)) * 144).reshape(shape[0], shape[1] // 256 * 144)
        w.add_tensor(name, data, raw_dtype=T.Q4_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file(progress=False)
    w.close()


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    out = sys.argv[1]
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "blockscope", "smollm2")
    tok_folder = sys.argv[2] if len(sys.argv) == 3 else os.path.join(cache, "hf-float32")
    tok_gguf = os.path.join(cache, "SmolLM2-135M-Instruct.Q4_1.gguf")
    rng = np.random.default_rng(8)
    if os.environ.get("SYNTHETIC_GGUF_ONLY") != "1":
        print("writing the bfloat16 safetensors shards", flush=True)
        total = write_hf(os.path.join(out, "hf-bf16"), tok_folder, rng)
        print(f"  {total / 1e9:.2f} GB of weights", flush=True)
    print("writing the Q4_K GGUF", flush=True)
    write_gguf(os.path.join(out, "llama3-8b-q4_k.gguf"), tok_gguf if os.path.exists(tok_gguf) else None, rng)
    print(f"  {os.path.getsize(os.path.join(out, 'llama3-8b-q4_k.gguf')) / 1e9:.2f} GB", flush=True)


if __name__ == "__main__":
    main()
