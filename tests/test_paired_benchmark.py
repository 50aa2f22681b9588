"""benchmarks/paired.py keeps working: each pair of turns gives one ratio, the turns
alternate which side runs first, and the runner prints a row per target."""

import pytest

from tests.benchmark_module import load_benchmark, run_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("paired.py")


def test_ratios_are_per_pair_and_sides_alternate(bench, monkeypatch):
    order = []

    def side(name, seconds_per_call):
        def timer(n):
            order.append(name)
            return seconds_per_call * n

        return timer

    # rill takes 3 ms a call, the peer 2 ms: every pair's ratio is 1.5
    monkeypatch.setattr(bench, "_pair", lambda name: (side("rill", 3e-3), side("peer", 2e-3), 4))
    m = bench.measure("W3b", rounds=4, turn_s=0.05)
    assert m["ratios"] == pytest.approx([1.5] * 4)
    assert m["rill"] == pytest.approx(3e-3 / 4) and m["peer"] == pytest.approx(2e-3 / 4)
    timed = order[-8:]  # the four pairs after warm-up and calibration
    assert timed == ["rill", "peer", "peer", "rill", "rill", "peer", "peer", "rill"]


def test_runner_prints_a_row_per_target():
    pytest.importorskip("jax")
    stdout = run_benchmark("paired.py", "--only", "W2", "add", "--rounds", "3", "--turn", "0.01")
    rows = {line.split()[0]: line for line in stdout.splitlines()[1:]}
    assert set(rows) == {"W2", "add"}
    assert "target <= 1.5x" in rows["W2"]
    try:
        import torch  # noqa: F401
    except ImportError:
        assert "skipped" in rows["add"]
    else:
        assert "target <= 1.0x" in rows["add"]


def test_each_side_runs_in_a_worker_process_of_its_own(bench):
    pytest.importorskip("jax")
    try:
        ours, theirs, per = bench._pair_in_workers("W2")
        assert per == 1
        assert ours(3) > 0 and theirs(3) > 0
        pids = {w.proc.pid for w in bench._WORKERS}
        assert len(pids) == 2  # two processes, neither of them this one
    finally:
        while bench._WORKERS:
            bench._WORKERS.pop().stop()


def test_a_missing_peer_is_reported_as_an_import_error(bench, monkeypatch):
    try:
        import torch  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("PyTorch is installed: the peer side builds")
    try:
        with pytest.raises(ImportError):
            bench._pair_in_workers("add")
    finally:
        while bench._WORKERS:
            bench._WORKERS.pop().stop()
