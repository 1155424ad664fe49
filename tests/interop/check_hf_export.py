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
from safetensors import safe_open
from transformers import AutoModelForCausalLM, AutoTokenizer


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("export")
    parser.add_argument("reference")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()

    with safe_open(args.reference, framework="pt") as f:
        ref = {k: f.get_tensor(k) for k in f.keys()}
        meta = f.metadata() or {}
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(args.export, dtype=torch.float32)
    model.eval()
    with torch.no_grad():
        logits = model(input_ids=ref["input_ids"]).logits.float()
    diff = (logits - ref["logits"]).abs().max().item()
    from_dense = (logits - ref["dense_logits"]).abs().max().item()
    expect_dense = meta.get("dense") == "1"
    out = {
        "class": type(model).__name__,
        "layers": model.config.num_hidden_layers,
        "max_abs_diff": diff,
        "max_abs_diff_to_dense": from_dense,
    }
    failures = []
    if not diff <= args.tolerance:
        failures.append(f"logits differ from Blockscope's by {diff:.3g} (tolerance {args.tolerance:g})")
    if not expect_dense and from_dense <= 1e-3:
        failures.append("the export computes the dense model's logits: the configuration was lost")
    if "layers" in meta and int(meta["layers"]) != model.config.num_hidden_layers:
        failures.append(f"{model.config.num_hidden_layers} layers loaded, {meta['layers']} expected")

    if "text_ids" in ref:
        tok = AutoTokenizer.from_pretrained(args.export)
        ids = tok(meta["text"], add_special_tokens=False)["input_ids"]
        ours = ref["text_ids"].tolist()
        out["tokenizer"] = type(tok).__name__
        out["text_tokens"] = len(ids)
        if ids != ours:
            first = next((i for i, (a, b) in enumerate(zip(ids, ours)) if a != b), min(len(ids), len(ours)))
            failures.append(f"tokenizer differs from Blockscope's at token {first}: {ids[first:first + 5]} "
                            f"against {ours[first:first + 5]}")
    out["failures"] = failures
    print(json.dumps(out))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
