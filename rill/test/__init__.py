"""``tf.test``: ``TestCase`` with TensorFlow's assertions, gradient checking, benchmarks,
and what the build has (rill: NumPy on the CPU; no CUDA, ROCm or XLA)."""

import functools as _functools
import sys as _sys
import unittest as _unittest

from rill.backend import jax_runtime as _jax_runtime
from rill.test import experimental
from rill.test._testcase import TestCase
from rill.test.benchmark import Benchmark
from rill.test.gradient_checker import compute_gradient

__all__ = [
    "Benchmark", "TestCase", "assert_equal_graph_def", "benchmark_config",
    "compute_gradient", "create_local_cluster", "disable_with_predicate", "experimental",
    "gpu_device_name", "is_built_with_cuda", "is_built_with_gpu_support",
    "is_built_with_rocm", "is_built_with_xla", "is_cpu_target_available",
    "is_gpu_available", "main", "with_eager_op_as_function",
]  # fmt: skip


def main(argv=None):
    """Run the tests of ``__main__`` (``unittest.main``); with ``--benchmarks=REGEX``
    run the matching ``Class.benchmark*`` methods of the ``Benchmark`` subclasses
    instead."""
    args = list(_sys.argv if argv is None else argv)
    for i, a in enumerate(args):
        if a.startswith("--benchmarks"):
            pattern = (
                a.partition("=")[2] if "=" in a else (args[i + 1] if i + 1 < len(args) else "")
            )
            from rill.test.benchmark import run_benchmarks

            run_benchmarks(pattern or ".")
            return None
    return _unittest.main(module="__main__", argv=args)


def is_built_with_cuda() -> bool:
    """Whether JAX's CUDA plugin is installed (``jax[cuda12]``): rill's compiled functions
    then run on NVIDIA GPUs. Checked without importing JAX."""
    return _jax_runtime.has_plugin("cuda")


def is_built_with_rocm() -> bool:
    """Whether JAX's ROCm plugin is installed (AMD GPUs). Checked without importing JAX."""
    return _jax_runtime.has_plugin("rocm")


def is_built_with_gpu_support() -> bool:
    """Whether a GPU plugin of JAX is installed (CUDA or ROCm)."""
    return is_built_with_cuda() or is_built_with_rocm()


def is_built_with_xla() -> bool:
    """Whether ``jit_compile`` has XLA behind it here: JAX is installed (``rill[xla]``)."""
    return _jax_runtime.available()


def is_gpu_available(cuda_only=False, min_cuda_compute_capability=None) -> bool:
    """Whether a GPU can run (compiled) ops: JAX has one (deprecated in TF for
    ``tf.config.list_physical_devices('GPU')``). ``cuda_only``: an NVIDIA GPU;
    ``min_cuda_compute_capability``: a ``(major, minor)`` it must reach."""
    from rill.config import experimental, list_physical_devices

    for gpu in list_physical_devices("GPU"):
        details = experimental.get_device_details(gpu)
        cc = details.get("compute_capability")
        if cuda_only and cc is None:
            continue
        if min_cuda_compute_capability is not None and (
            cc is None or tuple(cc) < tuple(min_cuda_compute_capability)
        ):
            continue
        return True
    return False


def gpu_device_name() -> str:
    """The name of the first GPU (``"/device:GPU:0"``), or ``""`` where there is none."""
    from rill.config import list_logical_devices

    gpus = list_logical_devices("GPU")
    return gpus[0].name if gpus else ""


_CPU_TARGETS = ("x86", "x86_64", "aarch64", "arm", "arm64", "ppc", "powerpc", "s390x")


def is_cpu_target_available(target) -> bool:
    """Whether code can be built for a CPU architecture (TF: an LLVM target of its XLA
    build). rill runs wherever NumPy does, so every architecture TF knows is available;
    an unknown name fails as in TF."""
    if target not in _CPU_TARGETS:
        raise AssertionError(f"Unknown CPU target: {target}")
    return True


def benchmark_config() -> dict:
    """The session configuration TF's benchmarks run with (Grappler's dependency
    optimisation off), as a dict of the ConfigProto fields it sets: rill has no sessions."""
    return {"graph_options": {"rewrite_options": {"dependency_optimization": "OFF"}}}


def with_eager_op_as_function(cls=None, only_as_function=False):
    """Class decorator of TF's tests for its two eager modes; rill has one, so the class
    is returned unchanged."""
    if cls is None:
        return lambda c: c
    return cls


def disable_with_predicate(pred, skip_message):
    """Decorator: skip the test (with ``skip_message``) when ``pred()`` is true at call
    time."""

    def decorator(func):
        @_functools.wraps(func)
        def wrapper(self, *args, **kwargs):
            if pred():
                self.skipTest(skip_message)
            return func(self, *args, **kwargs)

        return wrapper

    return decorator


def create_local_cluster(num_workers, num_ps, protocol="grpc", worker_config=None, ps_config=None):
    """Not supported: rill runs in one local process, without TensorFlow servers."""
    from rill.core.errors import UnimplementedError

    raise UnimplementedError(
        "tf.test.create_local_cluster: rill has no TensorFlow servers (in-process gRPC "
        "clusters are out of scope)."
    )


def _node_key(node):
    return node.name


def assert_equal_graph_def(expected, actual):
    """Two GraphDef protocol buffers have the same nodes (by name: op, inputs, device
    and attributes), in any order. Raises AssertionError naming the first difference."""
    for what, g in (("expected", expected), ("actual", actual)):
        if not hasattr(g, "node"):
            raise TypeError(f"{what} must be a GraphDef, got {type(g).__name__}.")
    e_nodes = {n.name: n for n in expected.node}
    a_nodes = {n.name: n for n in actual.node}
    missing = sorted(set(e_nodes) - set(a_nodes))
    extra = sorted(set(a_nodes) - set(e_nodes))
    if missing or extra:
        raise AssertionError(
            f"GraphDefs have different nodes: only in expected {missing}, only in actual {extra}."
        )
    for name, e in e_nodes.items():
        a = a_nodes[name]
        if e.op != a.op:
            raise AssertionError(f"Node {name!r}: op {e.op!r} != {a.op!r}.")
        if list(e.input) != list(a.input):
            raise AssertionError(f"Node {name!r}: inputs {list(e.input)} != {list(a.input)}.")
        if e.device != a.device:
            raise AssertionError(f"Node {name!r}: device {e.device!r} != {a.device!r}.")
        if set(e.attr) != set(a.attr):
            raise AssertionError(f"Node {name!r}: attributes {sorted(e.attr)} != {sorted(a.attr)}.")
        for key in e.attr:
            if e.attr[key] != a.attr[key]:
                raise AssertionError(
                    f"Node {name!r}: attribute {key!r} differs: {e.attr[key]} vs {a.attr[key]}."
                )
    e_ver = getattr(expected, "versions", None)
    a_ver = getattr(actual, "versions", None)
    if e_ver is not None and e_ver != a_ver:
        raise AssertionError(f"GraphDef versions differ: {e_ver} vs {a_ver}.")
