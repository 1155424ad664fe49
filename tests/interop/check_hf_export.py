"""Reload a Blockscope export with the reference libraries and compare it with Blockscope.

Usage: check_hf_export.py EXPORT_DIR REFERENCE.safetensors [--tolerance 1e-4]

REFERENCE holds what Blockscope computed for the same configuration: "input_ids" (int64 [B, T]),
"logits" (float32 [B, T, V], Blockscope's masked forward of the source model), "dense_logits"
(the unmasked forward, so an export that silently gives back the original model is caught) and
optionally "text_ids" (int64 [N], Blockscope's tokens of the text in the metadata key "text").
Prints one JSON line with what it measured; exits 1 when a check fails.
"""
import argparse
import json
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from interop_common import compare_logits, compare_tokens, load_reference


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("export")
    parser.add_argument("reference")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()

    ref, meta = load_reference(args.reference)
    model = AutoModelForCausalLM.from_pretrained(args.export, dtype=torch.float32)
    out = {"class": type(model).__name__, "layers": model.config.num_hidden_layers}
    failures = []
    compare_logits(model, ref, meta, args.tolerance, out, failures)
    if "layers" in meta and int(meta["layers"]) != model.config.num_hidden_layers:
        failures.append(f"{model.config.num_hidden_layers} layers loaded, {meta['layers']} expected")
    compare_tokens(AutoTokenizer.from_pretrained(args.export), ref, meta, out, failures)
    out["failures"] = failures
    print(json.dumps(out))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
