"""tf.types.experimental: rill's functions and tensors are instances of TF's abstract
types (the isinstance results TF 2.21 gives for the same objects)."""

import inspect

import numpy as np
import pytest

import rill as tf

E = tf.types.experimental


def test_functions_are_instances():
    f = tf.function(lambda x: x * 2.0)
    assert isinstance(f, E.PolymorphicFunction) and isinstance(f, E.GenericFunction)
    assert isinstance(f, E.Callable)
    cf = f.get_concrete_function(tf.TensorSpec([2]))
    assert isinstance(cf, E.ConcreteFunction) and isinstance(cf, E.Callable)
    assert not isinstance(cf, E.PolymorphicFunction)
    assert not isinstance(lambda x: x, E.Callable)


def test_tensor_like():
    for v in (tf.constant(1), tf.Variable(1.0), 1, 2.0, True, "a", b"b", [1], (1,), np.ones(2),
              np.float32(1)):  # fmt: skip
        assert isinstance(v, E.TensorLike), v
    assert not isinstance(tf.ragged.constant([[1]]), E.TensorLike)
    assert not isinstance(None, E.TensorLike)


def test_trace_type_and_protocol():
    assert isinstance(tf.TensorSpec([1]), E.TraceType)

    class WithType:
        def __tf_tracing_type__(self, context):
            return tf.TensorSpec([])

    assert isinstance(WithType(), E.SupportsTracingProtocol)
    assert not isinstance(object(), E.SupportsTracingProtocol)


def test_function_type_is_a_signature():
    p = inspect.Parameter("x", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ft = E.FunctionType([p], return_annotation=None)
    assert isinstance(ft, inspect.Signature)
    assert list(ft.parameters) == ["x"]


def test_distributed_values():
    m = E.distributed.Mirrored([1, 1])
    p = E.distributed.PerReplica([1, 2])
    assert m.values == (1, 1) and p.values == (1, 2)
    assert not isinstance(p, E.distributed.Mirrored)


def test_isinstance_agrees_with_tensorflow():
    real = pytest.importorskip("tensorflow")
    RE = real.types.experimental
    values = [1, 2.0, "a", [1], (1,), np.ones(2), None]
    for v in values:
        assert isinstance(v, E.TensorLike) == isinstance(v, RE.TensorLike), v
    f, rf = tf.function(lambda x: x), real.function(lambda x: x)
    for name in ("PolymorphicFunction", "GenericFunction", "Callable", "ConcreteFunction"):
        assert isinstance(f, getattr(E, name)) == isinstance(rf, getattr(RE, name)), name
