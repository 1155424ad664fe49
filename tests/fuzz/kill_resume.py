#!/usr/bin/env python3
"""Kills `blockscope-cli prune` with SIGKILL at random moments and resumes it, over and over,
then checks that the experiment file opened after every kill and that the finished run equals an
uninterrupted one (issue: nothing lost mid-step).

    tests/fuzz/kill_resume.py BUILD_DIR MODEL TEXT [--kills 50] [--seed 1] [--work DIR]
                              [--methods sleb,finercut,evopress] [--real]

For each method (SLEB, FinerCut, EvoPress) it runs the search once without interruption, then
again with `--resume` after each kill until it finishes. A kill lands uniformly in 20-100% of the
uninterrupted run's wall time, counted from the start of the attempt. Prints one line per kill and a
summary; exits 1 when a file did not open or a resumed run differs.
"""
import argparse
import json
import math
import os
import random
import signal
import subprocess
import sys
import time

METHODS = {
    "sleb": ["--method", "sleb", "--target", "3", "--calib-windows", "160", "--naive"],
    "finercut": ["--method", "finercut", "--target", "6", "--calib-windows", "40"],
    "evopress": ["--method", "evopress", "--target", "2", "--generations", "24", "--calib-windows", "64"],
}


# A real model (SmolLM2-135M: 30 blocks, 49,152-token vocabulary): a few candidates a second.
REAL = {
    "sleb": ["--method", "sleb", "--target", "2", "--calib-windows", "2"],
    "finercut": ["--method", "finercut", "--target", "2", "--calib-windows", "2"],
    "evopress": ["--method", "evopress", "--target", "1", "--generations", "3", "--calib-windows", "8",
                 "--offspring", "8"],
}


def report(cli, path):
    r = subprocess.run([cli, "report", path, "--format", "json"], capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def steps_of(text):
    runs = json.loads(text)
    assert len(runs) == 1, f"{len(runs)} runs"
    return runs[0]["steps"], runs[0]["status"]


def close(a, b):
    if a is None or b is None:
        return a == b
    return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def compare(whole, got):
    """Differences between two traces, wall time aside; scores may differ in the last bits (1e-9)."""
    problems, exact = [], True
    if len(whole) != len(got):
        return [f"{len(got)} steps, expected {len(whole)}"], False
    for a, b in zip(whole, got):
        i = a["index"]
        for key in ("index", "kind", "chosen", "mask", "removed_so_far", "evaluations", "unit_forwards", "tokens",
                    "rng_state", "near_tie", "readmitted"):
            if a[key] != b[key]:
                problems.append(f"step {i}: {key} differs")
        ca, cb = a["candidates"], b["candidates"]
        if [c["unit"] for c in ca] != [c["unit"] for c in cb]:
            problems.append(f"step {i}: candidate units differ")
        for x, y in zip(ca, cb):
            exact = exact and x["score"] == y["score"]
            if not close(x["score"], y["score"]):
                problems.append(f"step {i}: {x['unit']} scored {y['score']} against {x['score']}")
        exact = exact and a["chosen_score"] == b["chosen_score"]
        if a["evo"] is not None:
            ea, eb = a["evo"], b["evo"]
            for key in ("parent", "population", "stage_sequences", "winner_is_parent"):
                if ea[key] != eb[key]:
                    problems.append(f"step {i}: evo {key} differs")
            if [o["genome"] for o in ea["offspring"]] != [o["genome"] for o in eb["offspring"]]:
                problems.append(f"step {i}: offspring differ")
            for x, y in zip(ea["offspring"], eb["offspring"]):
                for key in ("stage1_fitness", "final_fitness"):
                    exact = exact and x[key] == y[key]
                    if not close(x[key], y[key]):
                        problems.append(f"step {i}: offspring {key} {y[key]} against {x[key]}")
    return problems, exact


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("model")
    ap.add_argument("text")
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", default="/tmp/blockscope-kill-resume")
    ap.add_argument("--methods", default="sleb,finercut,evopress")
    ap.add_argument("--real", action="store_true", help="budgets for a real model such as SmolLM2-135M")
    args = ap.parse_args()
    cli = os.path.join(args.build, "app", "blockscope-cli")
    os.makedirs(args.work, exist_ok=True)
    rng = random.Random(args.seed)
    methods = args.methods.split(",")
    per_method = [args.kills // len(methods) + (1 if i < args.kills % len(methods) else 0) for i in range(len(methods))]
    failures = 0
    summary = []
    for method, kills in zip(methods, per_method):
        base = [cli, "prune", args.model, "--calib", args.text, "--no-eval", "--quiet"] + (
            REAL if args.real else METHODS)[method]
        whole_path = os.path.join(args.work, f"{method}-whole.h5")
        killed_path = os.path.join(args.work, f"{method}-killed.h5")
        for p in (whole_path, killed_path):
            for suffix in ("", ".journal"):
                if os.path.exists(p + suffix):
                    os.remove(p + suffix)
        t0 = time.monotonic()
        subprocess.run(base + ["--out", whole_path], check=True, capture_output=True)
        wall = time.monotonic() - t0
        rc, whole_json, err = report(cli, whole_path)
        assert rc == 0, err
        whole, _ = steps_of(whole_json)
        done, chains, attempts, reused, opened, equal, exact_all = 0, 0, 0, 0, 0, 0, True
        while done < kills:
            # A chain: a fresh file, killed and resumed until the run finishes.
            chains += 1
            for suffix in ("", ".journal"):
                if os.path.exists(killed_path + suffix):
                    os.remove(killed_path + suffix)
            finished, first = False, True
            while not finished:
                attempts += 1
                cmd = base + ["--out", killed_path] + ([] if first else ["--resume"])
                first = False
                p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                delay = rng.uniform(0.05, 1.0) * wall
                try:
                    out, err = p.communicate(timeout=delay if done < kills else None)
                except subprocess.TimeoutExpired:
                    p.send_signal(signal.SIGKILL)
                    p.communicate()
                    done += 1
                    journal = os.path.exists(killed_path + ".journal")
                    if not os.path.exists(killed_path):
                        print(f"{method}: kill {done} at {delay:.1f} s: killed before the file existed")
                        first = True
                        continue
                    rc, text, err = report(cli, killed_path)
                    if rc != 0:
                        failures += 1
                        print(f"{method}: kill {done} at {delay:.1f} s: the file does not open: {err.strip()}")
                        break
                    opened += 1
                    steps, status = steps_of(text)
                    print(f"{method}: kill {done} at {delay:.1f} s: opens, {len(steps)} steps, status {status}"
                          + (", journal present" if journal else ""), flush=True)
                    continue
                if p.returncode != 0:
                    print(f"{method}: attempt {attempts} failed (exit {p.returncode}): {err.strip()}")
                    failures += 1
                    break
                finished = True
                for line in out.splitlines():
                    if "candidate scores reused" in line:
                        reused += int(line.split("candidate scores reused")[0].split(",")[-1].strip())
            if not finished:
                continue
            rc, text, err = report(cli, killed_path)
            got, status = steps_of(text)
            problems, exact = compare(whole, got)
            exact_all = exact_all and exact
            if problems or status != "complete":
                failures += 1
                print(f"{method}: chain {chains}: DIFFERS ({status}): " + "; ".join(problems[:5]))
            else:
                equal += 1
        summary.append(f"{method}: {done} kills in {chains} runs ({attempts} processes), {opened} files opened after"
                       f" a kill, {reused} candidate scores reused, uninterrupted {wall:.1f} s; {equal}/{chains}"
                       f" resumed runs equal the uninterrupted one"
                       + (" bit for bit" if exact_all else " (scores within 1e-9)"))
    print()
    for s in summary:
        print(s)
    print("failures:", failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
