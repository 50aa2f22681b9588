"""benchmarks/keras_layers.py's W6 keeps working: rill's worker trains the LSTM model for a
step (this checks that the code runs, not its speed)."""

from tests.benchmark_module import load_benchmark


def test_w6_worker_runs_for_rill():
    mod = load_benchmark("keras_layers.py")
    best, median = mod.run("rill", threads=1, steps=1, repeats=1, workload="w6")
    assert 0 < best <= median
