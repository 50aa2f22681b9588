"""Two rill checkouts on the eager MLP Adam step, in alternating fresh processes.

    python benchmarks/ab.py OLD_CHECKOUT NEW_CHECKOUT [--rounds 20] [--tiny]

Each round starts one process per checkout (old first in even rounds, new first in odd
ones). A process runs ``run.py``'s eager MLP Adam step (784-256-128-10, batch 128, or
4-4-4-3, batch 4 with ``--tiny``, where framework overhead is the whole step) from its
own checkout, and takes ``--samples`` timings of ``--steps`` steps. The summary gives,
per checkout, the median and the best of the per-process minima, the median of the
per-process medians, and in how many rounds the new checkout's minimum was lower. On a
shared machine a process's memory state moves its time as much as a small change does,
so only many processes tell them apart. Use ``git worktree add DIR REV`` for the old
checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

_CHILD = r"""
import json, sys, time
root, tiny, samples, steps = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3]), int(sys.argv[4])
sys.path[:0] = [root, root + "/benchmarks"]
import run
if tiny:
    run.MLP_SIZES, run.MLP_BATCH = (4, 4, 4, 3), 4
s = run._adam_mlp_setup(False)("rill")
f, x, y = s["f"], s["x"], s["y"]
for _ in range(10):
    f(x, y)
out = []
for _ in range(samples):
    t = time.perf_counter()
    for _ in range(steps):
        f(x, y)
    out.append((time.perf_counter() - t) / steps)
print(json.dumps(out))
"""


def _process(root: str, args) -> list:
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), PYTHONPATH="")
    cmd = [sys.executable, "-c", _CHILD, os.path.abspath(root), "1" if args.tiny else "0"]
    cmd += [str(args.samples), str(args.steps)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode:
        raise SystemExit(f"{root}: the step failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--samples", type=int, default=10, help="timings per process")
    ap.add_argument("--steps", type=int, default=None, help="steps per timing")
    ap.add_argument("--tiny", action="store_true", help="the 4-4-4-3 model")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    if args.steps is None:
        args.steps = 400 if args.tiny else 20
    runs = {"old": [], "new": []}
    for r in range(args.rounds):
        order = ("old", "new") if r % 2 == 0 else ("new", "old")
        for name in order:
            runs[name].append(_process(getattr(args, name), args))
    unit, scale = ("us", 1e6) if args.tiny else ("ms", 1e3)
    for name, samples in runs.items():
        mins = [min(s) for s in samples]
        medians = [statistics.median(s) for s in samples]
        print(
            f"{name}: per-process minimum median {statistics.median(mins) * scale:.3f} {unit}, "
            f"best {min(mins) * scale:.3f} {unit}; per-process median median "
            f"{statistics.median(medians) * scale:.3f} {unit}"
        )
    wins = sum(min(n) < min(o) for n, o in zip(runs["new"], runs["old"]))
    print(f"new minimum lower in {wins} of {args.rounds} rounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
