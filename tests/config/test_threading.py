"""tf.config.threading bounds real threads: intra-op the BLAS pools (through the optional
threadpoolctl), inter-op tf.data's parallel map and interleave workers."""

import sys
import threading

import numpy as np
import pytest

import rill
from rill.config import threading as config_threading


def test_intra_op_limits_the_blas_pools():
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        return [
            p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"
        ]

    original = blas_threads()
    if not original:
        pytest.skip("NumPy's BLAS is not visible to threadpoolctl")
    rill.config.threading.set_intra_op_parallelism_threads(1)
    assert rill.config.threading.get_intra_op_parallelism_threads() == 1
    assert blas_threads() == [1] * len(original)
    a = rill.constant(np.ones((64, 64), np.float32))
    assert rill.matmul(a, a).numpy()[0, 0] == 64.0
    rill.config.threading.set_intra_op_parallelism_threads(0)  # the pools' own size again
    assert blas_threads() == original


def test_intra_op_without_threadpoolctl_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install 'rill\[threads\]'"):
        rill.config.threading.set_intra_op_parallelism_threads(2)
    assert rill.config.threading.get_intra_op_parallelism_threads() == 0
    rill.config.threading.set_intra_op_parallelism_threads(0)  # no limit: nothing to import


def _peak_map_workers(par, n=16):
    active, peak, threads = [0], [0], set()
    lock = threading.Lock()

    def f(x):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            threads.add(threading.current_thread().name)
        threading.Event().wait(0.002)
        with lock:
            active[0] -= 1
        return x

    ds = rill.data.Dataset.range(n).map(
        lambda x: rill.py_function(f, [x], rill.int64), num_parallel_calls=par
    )
    assert [int(v) for v in ds] == list(range(n))
    return peak[0], threads


def test_inter_op_bounds_parallel_map():
    peak, _ = _peak_map_workers(8)
    assert peak > 2  # unbounded: several workers overlap
    rill.config.threading.set_inter_op_parallelism_threads(2)
    peak, _ = _peak_map_workers(8)
    assert peak <= 2
    peak, _ = _peak_map_workers(rill.data.AUTOTUNE)
    assert peak <= 2


def test_negative_inter_op_runs_in_the_callers_thread():
    rill.config.threading.set_inter_op_parallelism_threads(-1)
    peak, threads = _peak_map_workers(8)
    assert peak == 1 and threads == {threading.current_thread().name}


def test_private_threadpool_wins_over_inter_op():
    rill.config.threading.set_inter_op_parallelism_threads(1)
    opts = rill.data.Options()
    opts.threading.private_threadpool_size = 3
    active, peak = [0], [0]
    lock = threading.Lock()
    barrier = threading.Barrier(3, timeout=30)

    def f(x):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        barrier.wait()  # three calls must overlap
        with lock:
            active[0] -= 1
        return x

    ds = (
        rill.data.Dataset.range(9)
        .map(lambda x: rill.py_function(f, [x], rill.int64), num_parallel_calls=8)
        .with_options(opts)
    )
    assert sorted(int(v) for v in ds) == list(range(9)) and peak[0] == 3


def _peak_interleave_threads(cycle=4):
    peak = [0]
    lock = threading.Lock()

    def f(x):
        live = sum(t.name == "rill-data-prefetch" for t in threading.enumerate())
        with lock:
            peak[0] = max(peak[0], live)
        threading.Event().wait(0.001)
        return x

    def inner(x):
        return rill.data.Dataset.range(4).map(lambda y: rill.py_function(f, [y], rill.int64))

    ds = rill.data.Dataset.range(8).interleave(inner, cycle_length=cycle, num_parallel_calls=cycle)
    assert len([int(v) for v in ds]) == 32
    return peak[0]


def test_inter_op_bounds_parallel_interleave():
    assert _peak_interleave_threads() > 2
    rill.config.threading.set_inter_op_parallelism_threads(2)
    assert _peak_interleave_threads() <= 2


def test_thread_settings_round_trip():
    t = rill.config.threading
    assert t.get_inter_op_parallelism_threads() == 0 and t.get_intra_op_parallelism_threads() == 0
    t.set_inter_op_parallelism_threads(np.int64(3))
    assert t.get_inter_op_parallelism_threads() == 3
    with pytest.raises(TypeError):
        t.set_inter_op_parallelism_threads(True)
    assert config_threading._blas_limits[0] is None
