"""benchmarks/xla.py keeps working: its workloads compute the same values on rill's
executor and on XLA, and the runner prints a row per workload."""

import numpy as np
import pytest

pytest.importorskip("jax")

import rill as tf  # noqa: E402
from tests.benchmark_module import load_benchmark, run_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("xla.py")


def test_chain_matches_numpy_on_both_paths(bench):
    x = np.ones(256, np.float32)
    want = x
    for _ in range(25):  # the chain, written again in NumPy
        want = np.tanh(want * 0.5 + 0.1) - want * 0.01
    for jit in (False, True):
        got = bench.w2(tf, jit)()
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)


def test_runner_prints_a_row_per_workload():
    stdout = run_benchmark(
        "xla.py", "--only", "W2", "--repeat", "1", "--rounds", "1", "--no-tf", "--no-torch"
    )
    # three tables: per call, rill XLA's ratios, first calls
    rows = [line.split() for line in stdout.splitlines() if line.startswith("W2")]
    assert len(rows) == 3
    assert rows[0][1].endswith("ms") and rows[0][2].endswith("ms")  # executor, rill XLA
    assert rows[1][2] == "1.00x"  # rill XLA against itself
    assert rows[2][2].endswith("s")


def test_torch_peers_compute_the_workloads(bench):
    torch = pytest.importorskip("torch")
    want = np.ones(256, np.float32)
    for _ in range(25):
        want = np.tanh(want * 0.5 + 0.1) - want * 0.01
    np.testing.assert_allclose(bench.torch_w2(torch, False)().numpy(), want, rtol=1e-5, atol=1e-6)
    for make in (bench.torch_w3b, bench.torch_w5, bench.torch_w6):
        step = make(torch, False)
        step()  # one Adam step runs end to end (the compiled variants take minutes)


def test_jax_peer_steps_agree_with_and_without_donation(bench):
    jax = pytest.importorskip("jax")
    x = np.random.default_rng(1).normal(size=(128, 784)).astype(np.float32)
    y = np.arange(128) % 10
    finals = []
    for donate in (False, True):
        state, step = bench._jax_mlp_step(jax, donate)
        for _ in range(2):
            state[:] = step(*state, 1.0, x, y)
        finals.append([np.asarray(a) for a in jax.tree_util.tree_leaves(state)])
    for a, b in zip(*finals):
        np.testing.assert_array_equal(a, b)
