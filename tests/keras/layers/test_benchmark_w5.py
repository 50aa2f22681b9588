"""benchmarks/keras_layers.py (W5) keeps working: rill's worker trains the CNN for a step
(tiny sizes: this checks that the code runs, not its speed)."""

from tests.benchmark_module import load_benchmark


def test_w5_worker_runs_for_rill():
    mod = load_benchmark("keras_layers.py")
    best, median = mod.run("rill", threads=1, steps=1, repeats=1)
    assert 0 < best <= median
