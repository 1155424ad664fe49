#!/usr/bin/env python3
"""Writes seed corpora for the fuzzers into OUTDIR/<target>/.

Small hand-made files cover each format's features (GGUF F32/F16/Q8_0/Q4_K tensors and every
metadata type, safetensors dtypes, llama2.c shared/unshared classifiers, config.json variants);
the real assets from the shared data folder are copied in when present. Nothing here is meant to
be committed: pass a folder outside the repository, e.g. /tmp/blockscope-corpus.

usage: make-seeds.py OUTDIR [SHARED_DATA_DIR]
"""
import json
import os
import shutil
import struct
import sys


def gguf_string(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def tiny_gguf(alignment=None):
    d, ff, v = 32, 64, 16
    kv = []

    def add(key, vtype, payload):
        kv.append(gguf_string(key) + struct.pack("<I", vtype) + payload)

    add("general.architecture", 8, gguf_string("llama"))
    for key, val in [("context_length", 128), ("embedding_length", d), ("block_count", 1),
                     ("feed_forward_length", ff), ("attention.head_count", 4), ("attention.head_count_kv", 2),
                     ("rope.dimension_count", 8)]:
        add("llama." + key, 4, struct.pack("<I", val))
    add("llama.attention.layer_norm_rms_epsilon", 6, struct.pack("<f", 1e-5))
    add("llama.rope.freq_base", 12, struct.pack("<d", 10000.0))
    add("general.flag", 7, b"\x01")
    add("general.i64", 11, struct.pack("<q", -3))
    if alignment:
        add("general.alignment", 4, struct.pack("<I", alignment))
    add("tokenizer.ggml.model", 8, gguf_string("llama"))
    add("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, v) + b"".join(gguf_string("t%d" % i) for i in range(v)))
    add("tokenizer.ggml.scores", 9, struct.pack("<IQ", 6, v) + struct.pack("<%df" % v, *[-i for i in range(v)]))
    add("tokenizer.ggml.token_type", 9, struct.pack("<IQ", 5, v) + struct.pack("<%di" % v, *([1] * v)))
    add("tokenizer.ggml.bos_token_id", 4, struct.pack("<I", 1))
    add("x.nested", 9, struct.pack("<IQ", 9, 1) + struct.pack("<IQ", 0, 2) + b"ab")

    def f32(n):
        return struct.pack("<%df" % n, *[(i % 97) * 0.01 - 0.5 for i in range(n)])

    tensors = [("token_embd.weight", [d, v], 0, f32(d * v)), ("blk.0.attn_norm.weight", [d], 0, f32(d)),
               ("blk.0.attn_q.weight", [d, 32], 0, f32(d * 32)), ("blk.0.attn_k.weight", [d, 16], 0, f32(d * 16)),
               ("blk.0.attn_v.weight", [d, 16], 0, f32(d * 16)),
               ("blk.0.attn_output.weight", [32, d], 1, struct.pack("<H", 0x3C00) * (32 * d)),
               ("blk.0.ffn_norm.weight", [d], 30, struct.pack("<H", 0x3F80) * d),
               ("blk.0.ffn_gate.weight", [d, ff], 0, f32(d * ff)),
               ("blk.0.ffn_up.weight", [d, ff], 8, (struct.pack("<H", 0x3800) + bytes(range(32))) * ff),
               ("blk.0.ffn_down.weight", [ff, d], 0, f32(ff * d)), ("output_norm.weight", [d], 0, f32(d)),
               ("extra.q4k", [256, 1], 12, b"\x11" * 144)]
    align = alignment or 32
    infos, data = b"", b""
    for name, ne, t, payload in tensors:
        infos += gguf_string(name) + struct.pack("<I", len(ne)) + struct.pack("<%dQ" % len(ne), *ne)
        infos += struct.pack("<IQ", t, len(data))
        data += payload + b"\0" * ((-len(payload)) % align)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv)) + b"".join(kv) + infos
    return head + b"\0" * ((-len(head)) % align) + data


def safetensors(entries, metadata=None):
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, payload in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((-len(text)) % 8)
    return struct.pack("<Q", len(text)) + text + data


def tiny_safetensors():
    d, ff, v = 32, 64, 16

    def f32(*shape):
        n = 1
        for s in shape:
            n *= s
        return struct.pack("<%df" % n, *[(i % 89) * 0.02 - 0.7 for i in range(n)])

    return safetensors([
        ("model.embed_tokens.weight", "F32", [v, d], f32(v, d)),
        ("model.layers.0.mlp.gate_proj.weight", "F32", [ff, d], f32(ff, d)),
        ("model.layers.0.mlp.up_proj.weight", "F16", [ff, d], struct.pack("<H", 0x3C00) * (ff * d)),
        ("model.layers.0.mlp.down_proj.weight", "BF16", [d, ff], struct.pack("<H", 0x3F80) * (ff * d)),
        ("model.norm.weight", "F64", [d], struct.pack("<%dd" % d, *range(d))),
        ("x.i8", "I8", [4], b"\x01\x02\x03\x04"), ("x.bool", "BOOL", [], b"\x01"),
        ("x.empty", "F32", [0, 3], b""), ("x.u64", "U64", [1], struct.pack("<Q", 7)),
    ], {"format": "pt"})


def tiny_llama2c(unshared=False):
    dim, hidden, layers, heads, kv_heads, vocab, seq = 8, 16, 1, 2, 1, 8, 4
    hs = dim // heads
    kv_dim = kv_heads * hs
    floats = vocab * dim + layers * (2 * dim + 2 * dim * dim + 2 * kv_dim * dim + 3 * dim * hidden) + dim + seq * hs
    if unshared:
        floats += vocab * dim
    header = struct.pack("<7i", dim, hidden, layers, heads, kv_heads, -vocab if unshared else vocab, seq)
    return header + struct.pack("<%df" % floats, *[(i % 13) * 0.1 for i in range(floats)])


def tiny_tokenizer():
    pieces = [b"<unk>", b"\n<s>\n", b"\n</s>\n", b" ", b"a", b"b", b"ab", b" ab"]
    out = struct.pack("<i", max(len(p) for p in pieces))
    for i, p in enumerate(pieces):
        out += struct.pack("<fi", -float(i), len(p)) + p
    return out


def configs():
    base = {"model_type": "llama", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
            "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 16, "max_position_embeddings": 128,
            "tie_word_embeddings": False, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "bos_token_id": 1,
            "eos_token_id": [2, 3], "hidden_act": "silu", "architectures": ["LlamaForCausalLM"]}
    yield "llama.json", base
    yield "llama3.json", dict(base, rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                   "high_freq_factor": 4.0, "original_max_position_embeddings": 8192})
    yield "linear.json", dict(base, rope_scaling={"type": "linear", "factor": 2.0}, head_dim=16)
    yield "mistral.json", dict(base, model_type="mistral", sliding_window=4096)
    yield "qwen2.json", dict(base, model_type="qwen2", use_sliding_window=True, sliding_window=64,
                             auto_map={"AutoModel": "x.Y"})


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    shared = sys.argv[2] if len(sys.argv) > 2 else None
    seeds = {
        "gguf": {"tiny.gguf": tiny_gguf(), "tiny-align64.gguf": tiny_gguf(64)},
        "safetensors": {"tiny.safetensors": tiny_safetensors()},
        "llama2c": {"tiny.bin": tiny_llama2c(), "tiny-unshared.bin": tiny_llama2c(True)},
        "llama2ctokenizer": {"tiny.bin": tiny_tokenizer()},
        "json": {name: json.dumps(cfg, indent=1).encode() for name, cfg in configs()},
    }
    seeds["json"]["bom.json"] = b"\xef\xbb\xbf" + seeds["json"]["llama.json"]
    st = tiny_safetensors()
    seeds["json"]["safetensors-header.json"] = st[8:8 + struct.unpack("<Q", st[:8])[0]]
    copies = {"gguf": ["models/stories260K/stories260K.gguf"], "llama2c": ["models/stories260K/stories260K.bin"],
              "llama2ctokenizer": ["models/stories260K/tok512.bin"]}
    for target, files in seeds.items():
        os.makedirs(os.path.join(out, target), exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(out, target, name), "wb") as f:
                f.write(data)
        for rel in copies.get(target, []) if shared else []:
            src = os.path.join(shared, rel)
            if os.path.exists(src):
                shutil.copy(src, os.path.join(out, target, os.path.basename(rel)))
    # The experiment reader: the committed format-1 file; a format-2 one is written by the
    # test suites (tst_experimentcheck keeps none), or by any `blockscope-cli prune --out`.
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.makedirs(os.path.join(out, "experiment"), exist_ok=True)
    shutil.copy(os.path.join(repo, "tests", "fixtures", "experiments", "format-v1.h5"),
                os.path.join(out, "experiment", "format-v1.h5"))
    print("seeds written to", out)


if __name__ == "__main__":
    main()
