#!/usr/bin/env python3
"""Byte-level corruptions of an experiment file, each read by blockscope-h5check in its own process.

    tests/fuzz/corrupt_experiments.py FILE.h5 build/app/blockscope-h5check [N] [SEED]

Damage as in tests/core/tst_experimentcheck (a few random bytes, a truncation, a run of up to 512
bytes overwritten); prints how the reader ended: read, refused with an error, crashed (signal), or
hung (killed after 20 s). In the app and the CLI a crash or hang of the checker is an error naming
the file (core/store/experimentcheck.h); run this to see how often libhdf5 would otherwise have
taken the process down.
"""
import collections
import os
import random
import signal
import subprocess
import sys
import tempfile


def damage(data: bytes, i: int, rng: random.Random) -> bytes:
    b = bytearray(data)
    if i % 3 == 0:
        for _ in range(1 + rng.randrange(8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif i % 3 == 1:
        del b[rng.randrange(len(b)):]
    else:
        at = rng.randrange(len(b))
        n = min(1 + rng.randrange(512), len(b) - at)
        fill = rng.randrange(256)
        noise = rng.randrange(2)
        for k in range(n):
            b[at + k] = rng.randrange(256) if noise else fill
    return bytes(b)


def main() -> int:
    path, checker = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    original = open(path, "rb").read()
    tally = collections.Counter()
    examples = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            f = os.path.join(tmp, f"damaged-{i}.h5")
            open(f, "wb").write(damage(original, i, rng))
            try:
                r = subprocess.run([checker, f], capture_output=True, timeout=20)
                if r.returncode == 0:
                    kind = "read"
                elif r.returncode == 1:
                    kind = "refused"
                elif r.returncode < 0:
                    kind = "crashed (" + signal.Signals(-r.returncode).name + ")"
                else:
                    kind = f"exit {r.returncode}"
            except subprocess.TimeoutExpired:
                kind = "hung"
            tally[kind] += 1
            examples.setdefault(kind, i)
    print(f"{n} corruptions of {path} ({len(original)} bytes):")
    for kind, count in sorted(tally.items()):
        print(f"  {kind:24s} {count:4d}   (first: corruption {examples[kind]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
