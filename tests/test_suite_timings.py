"""benchmarks/suite_timings.py keeps working (tiny sizes: that each workload runs and
checks its own result, not how fast)."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_workloads_run_and_check_their_results():
    spec = importlib.util.spec_from_file_location(
        "rill_bench_suite_timings", ROOT / "benchmarks" / "suite_timings.py"
    )
    b = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = b
    try:
        spec.loader.exec_module(b)
    finally:
        sys.modules.pop(spec.name, None)
    assert b.workload_conv_gradient(batch=1, repeat=1) > 0
    assert b.workload_sparse_ops(n=1000, nnz=50, repeat=1) > 0
    assert b.workload_queue_stress(n=400, repeat=1) > 0
    assert b.workload_dequeue_timeout(repeat=1) > 0
