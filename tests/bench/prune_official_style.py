"""SLEB and FinerCut as the official codes run them, written here from the papers' algorithms
(pruning.md §3, §4): Hugging Face transformers, every candidate re-run from the embedding, one
window per forward, the dense reference computed once. The baseline of bench_prune_vs_hf.sh.

    python prune_official_style.py MODEL.gguf WINDOWS.json sleb|finercut TARGET THREADS

MODEL.gguf is loaded with transformers (dequantised to float32); WINDOWS.json holds the token ids
of the calibration windows (tests/bench/dump_windows). Prints one JSON line: the removal order in
Blockscope's unit labels, every candidate score, full forwards and the search's wall time.
"""
import json
import math
import os
import sys
import time

import torch
import transformers


def load(path):
    folder, name = os.path.split(os.path.abspath(path))
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    return model.eval()


def logits_of(model, ids):
    return model(torch.tensor([ids]), use_cache=False).logits[0].float()


def sleb(model, windows, k, early=1, latter=1):
    """Greedy block removal; score = sum over windows of T x mean NLL (strict '<': lowest position wins)."""
    layers = model.model.layers
    alive = list(range(len(layers)))
    order, scores, forwards = [], [], 0

    def score():
        nonlocal forwards
        total = 0.0
        for w in windows:
            ids = w["ids"]
            first = w["first_target"]
            lp = torch.log_softmax(logits_of(model, ids)[first - 1:-1], -1)
            target = torch.tensor(ids[first:])
            nll = -lp.gather(1, target[:, None]).squeeze(1).double()
            total += nll.mean().item() * len(ids)
            forwards += 1
        return total

    for _ in range(k):
        best, best_j, phase = math.inf, -1, []
        for j in range(early, len(alive) - latter):
            model.model.layers = torch.nn.ModuleList([layers[a] for a in alive if a != alive[j]])
            s = score()
            phase.append(s)
            if s < best:
                best, best_j = s, j
        model.model.layers = layers
        order.append(f"block {alive[best_j]}")
        scores.append(phase)
        alive.pop(best_j)
    model.model.layers = layers
    return order, scores, forwards


class Zero(torch.nn.Module):
    """An MLP that is switched off: the residual stream passes unchanged."""

    def forward(self, x):
        return torch.zeros_like(x)


def zero_attention(hidden_states, *args, **kwargs):
    return torch.zeros_like(hidden_states), None


def finercut(model, windows, steps, exclude=0.0):
    """Greedy sublayer removal with js_finercut against the dense logits (computed once)."""
    layers = model.model.layers
    L = len(layers)
    units = sorted([(f"model.layers.{l}.self_attn.o_proj", "attn", l) for l in range(L)]
                   + [(f"model.layers.{l}.mlp.down_proj", "mlp", l) for l in range(L)])
    U = len(units)
    E = math.floor(U * exclude / 2) + 1
    excl = [u for u in units if u[2] < E]
    cand = [u for u in units if u[2] >= E]
    ref = []
    for w in windows:
        lp = torch.log_softmax(logits_of(model, w["ids"]), -1)
        ref.append((lp, lp.exp()))
    forwards = len(windows)
    mlps = {l: layers[l].mlp for l in range(L)}

    def switch(unit, off):
        _, kind, l = unit
        if kind == "mlp":
            layers[l].mlp = Zero() if off else mlps[l]
        elif off:
            layers[l].self_attn.forward = zero_attention
        else:
            del layers[l].self_attn.forward  # the class's forward again

    def js():
        nonlocal forwards
        num, den = 0.0, 0
        for w, (logP, P) in zip(windows, ref):
            logQ = torch.log_softmax(logits_of(model, w["ids"]), -1)
            M = 0.5 * (P + logQ.exp())
            num += 0.5 * (M * (2.0 * M.clamp_min(1e-45).log() - logP - logQ)).sum(-1).double().sum().item()
            den += logQ.numel()
            forwards += 1
        return num / den

    pruned, scores = [], []
    for _ in range(steps):
        step = []
        for u in cand:
            switch(u, True)
            step.append(js())
            switch(u, False)
        k = min(range(len(step)), key=lambda i: (step[i], i))
        unit = cand.pop(k)
        switch(unit, True)
        pruned.append(unit)
        scores.append(step)
        if len(pruned) == math.floor(U * exclude) + 1:
            cand += excl
    for u in pruned:
        switch(u, False)
    return [f"{kind} {l}" for _, kind, l in pruned], scores, forwards


def main():
    model_path, windows_path, method, target, threads = sys.argv[1:6]
    torch.set_num_threads(int(threads))
    windows = json.load(open(windows_path))["windows"]
    model = load(model_path)
    with torch.no_grad():
        t0 = time.perf_counter()
        if method == "sleb":
            order, scores, forwards = sleb(model, windows, int(target))
        else:
            order, scores, forwards = finercut(model, windows, int(target))
        seconds = time.perf_counter() - t0
    print(json.dumps({"order": order, "scores": scores, "forwards": forwards, "seconds": seconds,
                      "threads": torch.get_num_threads(), "transformers": transformers.__version__}))


if __name__ == "__main__":
    main()
