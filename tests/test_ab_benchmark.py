"""benchmarks/ab.py keeps working: it times the eager step of two checkouts in fresh
processes and summarises them."""

import re

from tests.benchmark_module import ROOT, run_benchmark


def test_two_checkouts_are_timed_and_compared():
    out = run_benchmark(
        "ab.py", str(ROOT), str(ROOT), "--tiny", "--rounds", "2", "--samples", "2", "--steps", "3"
    )
    for name in ("old", "new"):
        m = re.search(
            rf"^{name}: per-process minimum median ([0-9.]+) us, best ([0-9.]+) us", out, re.M
        )
        assert m and 0 < float(m.group(2)) <= float(m.group(1)), out
    assert re.search(r"new minimum lower in [0-2] of 2 rounds", out), out
