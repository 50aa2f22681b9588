"""benchmarks/suite_timings.py keeps working (tiny sizes: that each workload runs and
checks its own result, not how fast)."""

from tests.benchmark_module import load_benchmark


def test_workloads_run_and_check_their_results():
    b = load_benchmark("suite_timings.py")
    assert b.workload_conv_gradient(batch=1, repeat=1) > 0
    assert b.workload_sparse_ops(n=1000, nnz=50, repeat=1) > 0
    assert b.workload_queue_stress(n=400, repeat=1) > 0
    assert b.workload_dequeue_timeout(repeat=1) > 0
