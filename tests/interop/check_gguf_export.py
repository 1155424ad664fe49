"""Read a Blockscope GGUF export with the gguf package and transformers and compare it with Blockscope.

Usage: check_gguf_export.py FILE.gguf REFERENCE.safetensors [--tolerance 1e-4] [--type Q4_1]

REFERENCE is as for check_hf_export.py ("input_ids", "logits", "dense_logits", optional
"text_ids" with the metadata "text", "dense", "layers"). The gguf package must read every tensor
(dequantised, finite), the block count and the tensor names must match the layers kept, and with
--type every matrix must have that type (or F32 where its rows are not whole blocks);
transformers must load the file (gguf_file=) to Blockscope's logits within the tolerance and its
tokenizer must give Blockscope's tokens. Prints one JSON line; exits 1 when a check fails.
"""
import argparse
import json
import os
import re
import sys

import numpy as np
import torch
from gguf import GGUFReader
from gguf.quants import dequantize
from transformers import AutoModelForCausalLM, AutoTokenizer

from interop_common import compare_logits, compare_tokens, load_reference


def field_value(reader, key):
    field = reader.fields[key]
    return field.contents()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("gguf")
    parser.add_argument("reference")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--type")
    args = parser.parse_args()

    ref, meta = load_reference(args.reference)
    failures = []
    reader = GGUFReader(args.gguf)
    arch = field_value(reader, "general.architecture")
    blocks = int(field_value(reader, f"{arch}.block_count"))
    layers = {int(m.group(1)) for t in reader.tensors if (m := re.match(r"blk\.(\d+)\.", t.name))}
    types = {}
    for t in reader.tensors:
        values = dequantize(t.data, t.tensor_type)
        if not np.isfinite(values).all():
            failures.append(f"{t.name}: not finite after dequantisation")
        types[t.name] = t.tensor_type.name
    if "layers" in meta and blocks != int(meta["layers"]):
        failures.append(f"block_count {blocks}, {meta['layers']} expected")
    if layers != set(range(blocks)):
        failures.append(f"tensors of blocks {sorted(layers)} for block_count {blocks}")
    if args.type:
        odd = {n: t for n, t in types.items()
               if len(next(x for x in reader.tensors if x.name == n).shape) > 1 and t not in (args.type, "F32")}
        if odd:
            failures.append(f"matrices not {args.type}: {odd}")

    folder, name = os.path.split(os.path.abspath(args.gguf))
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    out = {"architecture": arch, "block_count": blocks, "class": type(model).__name__,
           "types": sorted(set(types.values()))}
    compare_logits(model, ref, meta, args.tolerance, out, failures)
    compare_tokens(AutoTokenizer.from_pretrained(folder, gguf_file=name), ref, meta, out, failures)
    out["failures"] = failures
    print(json.dumps(out))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
