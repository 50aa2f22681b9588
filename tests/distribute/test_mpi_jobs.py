"""Real MPI jobs: data-parallel training agrees with one process, sharding gives each
element to one replica, and a failing or stalled rank ends the job (bounded by time)."""

import time

import numpy as np
import pytest

from tests.distribute.mpi_jobs import check, require_mpi, run


@pytest.fixture(autouse=True)
def _mpi():
    require_mpi()


@pytest.mark.parametrize("n", [2, 3])
def test_keras_fit_on_n_processes_equals_one_process(tmp_path, n):
    one, many = tmp_path / "one.npz", tmp_path / "many.npz"
    check(run(1, "fit_equivalence.py", one))
    check(run(n, "fit_equivalence.py", many))
    a, b = np.load(one), np.load(many)
    assert int(b["n"]) == n and int(a["n"]) == 1
    weights = [k for k in a.files if k.startswith("arr_")]
    assert len(weights) == 4
    for k in weights + ["pred"]:
        np.testing.assert_allclose(b[k], a[k], rtol=1e-5, atol=1e-6, err_msg=k)
    # the logs (History, evaluate) are the global ones, on every rank
    np.testing.assert_allclose(b["loss"], a["loss"], rtol=1e-5)
    np.testing.assert_allclose(b["ev"], a["ev"], rtol=1e-5)
    w = np.load(str(many) + ".worker.npz")
    np.testing.assert_allclose(w["loss"], a["loss"], rtol=1e-5)
    np.testing.assert_allclose(w["pred"], a["pred"], rtol=1e-5, atol=1e-6)
    assert a["loss"][-1] < a["loss"][0]  # it trained


def test_custom_loop_with_strategy_run_equals_one_process(tmp_path):
    one, two = tmp_path / "one.npz", tmp_path / "two.npz"
    check(run(1, "custom_loop.py", one))
    check(run(2, "custom_loop.py", two))
    a, b = np.load(one), np.load(two)
    np.testing.assert_array_equal(b["ids"], [0, 1])  # replica ids, gathered in order
    for k in [k for k in a.files if k.startswith("arr_")] + ["losses"]:
        np.testing.assert_allclose(b[k], a[k], rtol=1e-5, atol=1e-6, err_msg=k)


def test_sharded_dataset_gives_each_element_to_one_replica_per_epoch(tmp_path):
    check(run(2, "shard_dataset.py", tmp_path / "seen"))
    parts = [np.load(tmp_path / f"seen.rank{r}.npz") for r in (0, 1)]
    for key in ("data_0", "data_1", "fn_0"):
        got = np.concatenate([p[key] for p in parts])
        np.testing.assert_array_equal(np.sort(got), np.arange(23), err_msg=key)
    # DATA sharding: each global batch of 6 is split 3 + 3 (the last, of 5, 3 + 2)
    rows = np.arange(23).reshape(-1, 1)
    first = [r for b in range(0, 23, 6) for r in rows[b : b + 6][: (min(6, 23 - b) + 1) // 2, 0]]
    np.testing.assert_array_equal(parts[0]["data_0"], first)
    for p in parts:  # strategy.reduce summed the replicas' shares: every element once
        assert int(p["total"]) == sum(range(23))


def test_a_rank_that_raises_fails_the_job_with_its_error():
    start = time.monotonic()
    res = run(2, "failing_rank.py", "raise", timeout=90)
    assert res.returncode != 0
    assert "replica 1 failed on purpose" in res.stderr
    assert time.monotonic() - start < 60


def test_a_stalled_rank_fails_the_job_by_the_collective_timeout():
    start = time.monotonic()
    res = run(2, "failing_rank.py", "stall", timeout=90)
    assert res.returncode != 0
    assert "DeadlineExceededError" in res.stderr and "within 3 s" in res.stderr
    assert time.monotonic() - start < 45  # the 3 s limit, not rank 1's 60 s sleep
