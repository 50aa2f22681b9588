"""benchmarks/data_pipeline.py keeps working (tiny sizes: that it runs and computes the
right sums, not its speed)."""

from tests.benchmark_module import load_benchmark


def _bench():
    return load_benchmark("data_pipeline.py")


def test_workloads_run_for_rill():
    b = _bench()
    assert b.workload_map_batch("rill", 3000, 1) > 0
    assert b.workload_sleep_map("rill", 16, False, 1) > 0  # checks its sum itself
    assert b.workload_sleep_map("rill", 64, True, 1) > 0  # the speed-up is not asserted here
