"""benchmarks/keras_layers.py's W6 keeps working: rill's worker trains the LSTM model for a
step (this checks that the code runs, not its speed)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_w6_worker_runs_for_rill():
    spec = importlib.util.spec_from_file_location(
        "rill_bench_w6", ROOT / "benchmarks" / "keras_layers.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    best, median = mod.run("rill", threads=1, steps=1, repeats=1, workload="w6")
    assert 0 < best <= median
