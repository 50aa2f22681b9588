"""tf.test's functions and Benchmark: what the build reports (no GPU, CUDA, ROCm or XLA),
benchmark reports in TF's text and binary formats, the decorators, main."""

import importlib.util
import inspect
import os
import subprocess
import sys
import textwrap
import unittest

import pytest

import rill
from rill.core.errors import UnimplementedError

HAS_TF = importlib.util.find_spec("tensorflow") is not None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TF_TEST_NAMES = """Benchmark TestCase assert_equal_graph_def benchmark_config compute_gradient
create_local_cluster disable_with_predicate experimental gpu_device_name is_built_with_cuda
is_built_with_gpu_support is_built_with_rocm is_built_with_xla is_cpu_target_available
is_gpu_available main with_eager_op_as_function""".split()


def test_every_name_of_tf_test():
    for name in TF_TEST_NAMES:
        assert hasattr(rill.test, name), name
    assert rill.test.experimental.sync_devices() is None


def test_build_facts():
    # the build facts are the installed JAX's: the compiler, and its GPU plugins
    import importlib.util

    def installed(*names):
        return any(importlib.util.find_spec(n) for n in names)

    cuda = installed("jax_cuda12_plugin", "jax_cuda13_plugin")
    assert rill.test.is_built_with_cuda() is cuda
    assert rill.test.is_built_with_rocm() is installed("jax_rocm6_plugin", "jax_rocm7_plugin")
    assert rill.test.is_built_with_gpu_support() is (cuda or rill.test.is_built_with_rocm())
    assert rill.test.is_built_with_xla() is installed("jax")
    if not rill.config.list_physical_devices("GPU"):
        assert rill.test.is_gpu_available() is False
        assert (
            rill.test.is_gpu_available(cuda_only=True, min_cuda_compute_capability=(3, 0)) is False
        )
        assert rill.test.gpu_device_name() == ""
    for target in ("x86", "x86_64", "aarch64", "arm", "arm64", "ppc", "powerpc", "s390x"):
        assert rill.test.is_cpu_target_available(target) is True
    for target in ("riscv", "X86", "", "nvptx"):
        with pytest.raises(AssertionError, match="Unknown CPU target"):
            rill.test.is_cpu_target_available(target)
    with pytest.raises(UnimplementedError):
        rill.test.create_local_cluster(1, 1)
    assert rill.test.benchmark_config()["graph_options"]["rewrite_options"] == {
        "dependency_optimization": "OFF"
    }


def test_decorators():
    class C(rill.test.TestCase):
        @rill.test.disable_with_predicate(lambda: True, "skipped here")
        def test_skipped(self):
            raise RuntimeError("must not run")

        @rill.test.disable_with_predicate(lambda: False, "not skipped")
        def test_runs(self):
            self.ran = True

    assert rill.test.with_eager_op_as_function(C) is C
    assert rill.test.with_eager_op_as_function(only_as_function=True)(C) is C
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(C).run(result)
    assert result.testsRun == 2 and len(result.skipped) == 1 and not result.errors
    assert result.skipped[0][1] == "skipped here"


def test_test_session_is_not_collected_as_a_test():
    class C(rill.test.TestCase):
        def test_a(self):
            with self.test_session() as s:
                assert s is None

    assert unittest.defaultTestLoader.getTestCaseNames(C) == ["test_a"]


def test_signatures_follow_tensorflow():
    sig = inspect.signature
    assert list(sig(rill.test.compute_gradient).parameters) == ["f", "x", "delta"]
    assert list(sig(rill.test.Benchmark.report_benchmark).parameters) == [
        "self", "iters", "cpu_time", "wall_time", "throughput", "extras", "name", "metrics",
    ]  # fmt: skip
    assert list(sig(rill.test.TestCase.assertAllClose).parameters) == [
        "self", "a", "b", "rtol", "atol", "msg",
    ]  # fmt: skip
    assert sig(rill.test.TestCase.assertAllClose).parameters["rtol"].default == 1e-6


# ------------------------------------------------------------------------ Benchmark
class MyBench(rill.test.Benchmark):
    def benchmark_report(self):
        self.report_benchmark(
            iters=10, wall_time=0.5, name="xx", extras={"a": 1, "s": "str"},
            metrics=[{"name": "acc", "value": 0.9, "min_value": 0.5}],
        )  # fmt: skip

    def benchmark_op(self):
        return self.run_op_benchmark(
            None, lambda: rill.constant(1.0) + 1, burn_iters=1, min_iters=3
        )


def test_report_benchmark_prints_text_format(capsys, monkeypatch):
    monkeypatch.delenv("TEST_REPORT_FILE_PREFIX", raising=False)
    MyBench().benchmark_report()
    out = capsys.readouterr().out
    assert out.startswith('entry {\n  name: "MyBench.xx"\n  iters: 10\n  wall_time: 0.5\n')
    assert 'key: "a"\n    value {\n      double_value: 1\n' in out
    assert 'string_value: "str"' in out and 'metrics {\n    name: "acc"\n    value: 0.9' in out
    assert rill.test.Benchmark.is_abstract() and not MyBench.is_abstract()


def test_run_op_benchmark(capsys, monkeypatch):
    monkeypatch.delenv("TEST_REPORT_FILE_PREFIX", raising=False)
    r = MyBench().benchmark_op()
    assert set(r) == {"iters", "wall_time", "extras", "name", "throughput"}
    assert r["iters"] == 3 and r["name"] is None and r["throughput"] == 0.0 and r["wall_time"] > 0
    assert set(r["extras"]) == {"wall_time_mean", "wall_time_stdev"}
    assert 'name: "MyBench.benchmark_op"' in capsys.readouterr().out
    calls = []
    r = MyBench().run_op_benchmark(
        None, lambda k: calls.append(k), feed_dict={"k": 1}, burn_iters=2, min_iters=4,
        name="named", extras={"e": 1}, mbs=8,
    )  # fmt: skip
    assert calls == [1] * 6 and r["name"] == "named" and r["extras"]["e"] == 1
    assert r["throughput"] == pytest.approx(8 / r["wall_time"])
    assert 'name: "MyBench.named"' in capsys.readouterr().out
    r = MyBench().run_op_benchmark(None, {"t": rill.constant([1.0])}, min_iters=2)
    assert r["iters"] == 2
    assert MyBench().evaluate({"t": rill.constant([1.0])})["t"].tolist() == [1.0]


def test_report_file_and_main_benchmarks(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_REPORT_FILE_PREFIX", str(tmp_path / "rep_"))
    rill.test.main(["prog", "--benchmarks=MyBench.benchmark_report"])
    path = tmp_path / "rep_MyBench.xx"
    data = path.read_bytes()
    assert data.startswith(b"\n") and b"MyBench.xx" in data
    with pytest.raises(OSError, match="exists"):
        MyBench().benchmark_report()


@pytest.mark.skipif(not HAS_TF, reason="TensorFlow not installed")
def test_report_file_parses_as_tensorflow_benchmark_entries(tmp_path, monkeypatch):
    from tensorflow.core.util import test_log_pb2

    monkeypatch.setenv("TEST_REPORT_FILE_PREFIX", str(tmp_path / "rep_"))
    MyBench().benchmark_report()
    entries = test_log_pb2.BenchmarkEntries.FromString((tmp_path / "rep_MyBench.xx").read_bytes())
    (e,) = entries.entry
    assert e.name == "MyBench.xx" and e.iters == 10 and e.wall_time == 0.5
    assert e.extras["a"].double_value == 1 and e.extras["s"].string_value == "str"
    (m,) = e.metrics
    assert m.name == "acc" and m.value == pytest.approx(0.9) and m.min_value.value == 0.5
    assert not m.HasField("max_value")


def test_main_runs_unittest(tmp_path):
    script = tmp_path / "t.py"
    script.write_text(
        textwrap.dedent(
            """
            import rill as tf

            class T(tf.test.TestCase):
                def test_ok(self):
                    self.assertAllClose(tf.constant([1.0]) * 2, [2.0])

            if __name__ == "__main__":
                tf.test.main()
            """
        )
    )
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "Ran 1 test" in proc.stderr and "OK" in proc.stderr


# ------------------------------------------------------------------------ graph defs
class _Node:
    def __init__(self, name, op, inputs=(), device="", attr=None):
        self.name, self.op, self.input, self.device, self.attr = (
            name,
            op,
            list(inputs),
            device,
            attr or {},
        )


class _Graph:
    def __init__(self, *nodes):
        self.node = list(nodes)


def test_assert_equal_graph_def():
    a = _Graph(_Node("x", "Const"), _Node("y", "Neg", ["x"]))
    b = _Graph(_Node("y", "Neg", ["x"]), _Node("x", "Const"))  # order does not matter
    rill.test.assert_equal_graph_def(a, b)
    with pytest.raises(AssertionError, match="op"):
        rill.test.assert_equal_graph_def(a, _Graph(_Node("x", "Const"), _Node("y", "Abs", ["x"])))
    with pytest.raises(AssertionError, match="nodes"):
        rill.test.assert_equal_graph_def(a, _Graph(_Node("x", "Const")))
    with pytest.raises(TypeError):
        rill.test.assert_equal_graph_def(a, [1])


@pytest.mark.skipif(not HAS_TF, reason="TensorFlow not installed")
def test_assert_equal_graph_def_agrees_with_tensorflow():
    import tensorflow as tf

    def graph(op, order=1):
        g = tf.Graph()
        with g.as_default():
            x = tf.constant(1.0, name="x")
            (tf.math.negative if op == "Neg" else tf.math.abs)(x, name="y")
        gd = g.as_graph_def()
        if order < 0:
            nodes = list(gd.node)[::-1]
            del gd.node[:]
            gd.node.extend(nodes)
        return gd

    pairs = [(graph("Neg"), graph("Neg", -1)), (graph("Neg"), graph("Abs"))]
    for e, a in pairs:
        outcomes = []
        for fn in (tf.test.assert_equal_graph_def, rill.test.assert_equal_graph_def):
            try:
                fn(e, a)
                outcomes.append("pass")
            except AssertionError:
                outcomes.append("fail")
        assert outcomes[0] == outcomes[1]
