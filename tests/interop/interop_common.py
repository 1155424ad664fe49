"""What the export checks share: the reference Blockscope wrote and the comparisons with it."""
import torch
from safetensors import safe_open


def load_reference(path):
    """The tensors and metadata of a reference file (see check_hf_export.py)."""
    with safe_open(path, framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, (f.metadata() or {})


def compare_logits(model, ref, meta, tolerance, out, failures):
    """The model's logits against Blockscope's, and against the dense model's (a lost configuration)."""
    model.eval()
    with torch.no_grad():
        logits = model(input_ids=ref["input_ids"]).logits.float()
    diff = (logits - ref["logits"]).abs().max().item()
    from_dense = (logits - ref["dense_logits"]).abs().max().item()
    out["max_abs_diff"] = diff
    out["max_abs_diff_to_dense"] = from_dense
    if not diff <= tolerance:
        failures.append(f"logits differ from Blockscope's by {diff:.3g} (tolerance {tolerance:g})")
    if meta.get("dense") != "1" and from_dense <= 1e-3:
        failures.append("the export computes the dense model's logits: the configuration was lost")


def compare_tokens(tok, ref, meta, out, failures):
    """The tokenizer's ids of the reference text against Blockscope's."""
    if "text_ids" not in ref:
        return
    ids = tok(meta["text"], add_special_tokens=False)["input_ids"]
    ours = ref["text_ids"].tolist()
    out["tokenizer"] = type(tok).__name__
    out["text_tokens"] = len(ids)
    if ids != ours:
        first = next((i for i, (a, b) in enumerate(zip(ids, ours)) if a != b), min(len(ids), len(ours)))
        failures.append(f"tokenizer differs from Blockscope's at token {first}: {ids[first:first + 5]} "
                        f"against {ours[first:first + 5]}")
