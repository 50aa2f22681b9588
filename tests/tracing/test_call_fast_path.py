"""A concrete function's one-callable path for eager calls (``ConcreteFunction._fast``):
the same results as the general path, which still runs whenever a tape records, a trace
is open, or an input holds a host value the XLA path must transfer."""

from __future__ import annotations

import numpy as np
import pytest

import rill as tf


def _concrete(f, *args):
    return f._cache[tuple((a.dtype, tuple(a.shape)) for a in args)]


def test_single_output_function_takes_the_fast_path_with_the_same_results():
    f = tf.function(lambda x, y: tf.tanh(x * 2.0 + y))
    rng = np.random.default_rng(0)
    for i in range(4):
        x = rng.standard_normal((3, 5)).astype(np.float32)
        y = rng.standard_normal((3, 5)).astype(np.float32)
        out = f(tf.constant(x), tf.constant(y))
        assert out.dtype == tf.float32 and out.shape == (3, 5)
        np.testing.assert_allclose(out.numpy(), np.tanh(x * 2 + y), rtol=1e-6)
        if i:
            assert callable(_concrete(f, tf.constant(x), tf.constant(y))._fast)


def test_several_outputs_keep_the_general_path():
    f = tf.function(lambda x: (x + 1.0, x * 2.0))
    x = tf.constant([1.0, 2.0])
    for _ in range(2):
        a, b = f(x)
    np.testing.assert_array_equal(a.numpy(), [2.0, 3.0])
    np.testing.assert_array_equal(b.numpy(), [2.0, 4.0])
    assert not _concrete(f, x)._fast


def test_a_recording_tape_still_sees_the_function():
    f = tf.function(lambda x: tf.reduce_sum(x * x))
    x = tf.constant([1.0, 2.0, 3.0])
    f(x), f(x)  # the fast path is set up
    assert callable(_concrete(f, x)._fast)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [2.0, 4.0, 6.0])


def test_called_inside_another_function_it_is_traced_there():
    inner = tf.function(lambda x: x * 3.0)
    x = tf.constant([1.0, 2.0])
    inner(x), inner(x)

    @tf.function
    def outer(x):
        return inner(x) + 1.0

    np.testing.assert_array_equal(outer(x).numpy(), [4.0, 7.0])
    ops = [op.type for op in outer.get_concrete_function(x).graph.get_operations()]
    assert "Mul" in ops  # inlined into outer's graph, not run eagerly


def test_xla_fast_path_feeds_device_inputs_and_falls_back_for_host_ones():
    pytest.importorskip("jax")
    f = tf.function(lambda x: tf.tanh(x) * 0.5, jit_compile=True)
    rng = np.random.default_rng(1)
    fixed = tf.constant(rng.standard_normal(8).astype(np.float32))
    for _ in range(4):  # a constant fed every call becomes device-resident
        np.testing.assert_allclose(f(fixed).numpy(), np.tanh(fixed.numpy()) * 0.5, rtol=1e-6)
    cf = _concrete(f, fixed)
    assert callable(cf._fast)
    assert cf._fast((fixed,)) is not None  # a host view of a device array: fast
    fresh = tf.constant(rng.standard_normal(8).astype(np.float32))
    assert cf._fast((fresh,)) is None  # a host value: the general path transfers it
    np.testing.assert_allclose(f(fresh).numpy(), np.tanh(fresh.numpy()) * 0.5, rtol=1e-6)
