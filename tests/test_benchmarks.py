"""The benchmark runner keeps working: every workload runs for NumPy and rill (tiny repeat
counts: this checks that the code runs and computes the right thing, not its speed)."""

import numpy as np
import pytest

import rill
from tests.benchmark_module import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("run.py")


def test_every_workload_runs_for_numpy_and_rill(bench):
    notes = {}
    ops = bench.bench_ops(["numpy", "rill"], quick=True, repeat=1, target_s=1e-3, notes=notes)
    assert list(ops) == list(bench.WORKLOADS)
    for name, row in ops.items():
        assert row["numpy"] > 0, name
        assert row["rill"] is not None and row["rill"] > 0, (name, notes.get(name))
    assert notes == {}, notes


def test_table_and_targets_render(bench):
    ops = bench.bench_ops(
        ["numpy", "rill"], quick=True, repeat=1, target_s=1e-3, only=[bench.CHAIN_ROW + ", eager"]
    )
    ops[bench.CHAIN_ROW + ", compiled"] = {"numpy": 10.0, "rill": None}
    results = {
        "frameworks": ["numpy", "rill"],
        "versions": {"numpy": np.__version__, "rill": rill.__version__},
        "ops": ops,
        "notes": {bench.CHAIN_ROW + ", compiled": {"rill": "failed: ValueError: boom"}},
        "import_s": {},
        "targets": bench.check_targets(ops),
        "checks": {"chain, eager": {"rill": 0.0, "tensorflow": "n/a: not installed"}},
    }
    table = bench.format_table(results)
    assert "failed" in table and "ValueError: boom" in table
    assert "traced chain / NumPy chain: not measured" in table
    assert "chain, eager: rill 0.0e+00, tensorflow n/a: not installed" in table


def test_targets_are_ratios_from_one_run(bench):
    c, m = bench.CHAIN_ROW, bench.ADAM_ROW
    ops = {
        c + ", eager": {"rill": 300.0},
        c + ", compiled": {"numpy": 80.0, "rill": 100.0},
        m + ", compiled": {"numpy": 2000.0, "rill": 2600.0, "tensorflow": 4000.0},
    }
    got = {t["target"]: (round(t["ratio"], 3), t["met"]) for t in bench.check_targets(ops)}
    assert got == {
        "traced chain / NumPy chain": (1.25, True),
        "rill eager chain / traced chain": (3.0, True),
        "rill.function MLP step / tf.function's": (0.65, True),
        "rill.function MLP step / NumPy's": (1.3, False),
    }


def test_chain_is_100_ops_with_tanh_every_tenth(bench):
    assert len(bench.CHAIN_OPS) == 100
    assert [i for i, (op, _) in enumerate(bench.CHAIN_OPS) if op == "tanh"] == list(
        range(9, 100, 10)
    )
    x = bench.chain_input()
    expected = x.astype(np.float64)
    for op, c in bench.CHAIN_OPS:  # independent reference: the op list, interpreted
        expected = (
            np.tanh(expected) if op == "tanh" else expected * c if op == "mul" else expected + c
        )
    f = bench.make_chain(rill.tanh, "test")
    np.testing.assert_allclose(f(rill.constant(x)).numpy(), expected, rtol=1e-5)
    import inspect

    assert inspect.getsource(f).count("\n") == 102  # def, 100 statements, return


def test_numpy_adam_step_matches_finite_differences_of_its_loss(bench):
    """The NumPy floor computes the right gradient: its first Adam step moves each weight
    by about -lr * sign(gradient); compare that sign with a finite difference."""
    params, x, y = bench.mlp_data()

    def loss(ps):
        h1 = np.maximum(x @ ps[0] + ps[1], 0)
        h2 = np.maximum(h1 @ ps[2] + ps[3], 0)
        z = (h2 @ ps[4] + ps[5]).astype(np.float64)
        z -= z.max(1, keepdims=True)
        return np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(len(y)), y])

    ns = bench._numpy_mlp(params, x, y)
    loss0 = ns["step"]()
    assert abs(loss0 - loss(params)) < 1e-5
    after = ns["_params"]()
    rng = np.random.default_rng(1)
    checked = 0
    for k in (4, 5):  # the last layer: weights and biases
        for idx in zip(*[rng.integers(0, n, 5) for n in params[k].shape]):
            bumped = [p.astype(np.float64) for p in params]
            bumped[k][idx] += 1e-4
            fd = (loss(bumped) - loss([p.astype(np.float64) for p in params])) / 1e-4
            step = after[k][idx] - params[k][idx]
            if abs(fd) > 1e-3:
                assert np.sign(step) == -np.sign(fd) and abs(abs(step) - 1e-3) < 1e-4
                checked += 1
    assert checked >= 5


def test_one_adam_step_of_rill_matches_numpy(bench):
    checks = bench.check_graph_workloads(["numpy", "rill"])
    for name, row in checks.items():
        d = row["rill"]
        assert not isinstance(d, str) and d <= 1e-4, (name, d)
