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


def test_xla_fast_path_never_feeds_a_device_array_for_a_view_of_part_of_it():
    # An XLA result's host value views the whole device array; a view of it (reversed,
    # reshaped, sliced, reinterpreted) shares its buffer but not its layout, so the
    # device array must not be passed in its place
    pytest.importorskip("jax")
    make = tf.function(lambda x: x * 2.0, jit_compile=True)
    x = tf.constant(np.arange(1, 9, dtype=np.float32))
    y = make(x)
    base = y.numpy()
    views = {
        "reversed": (tf.reverse(y, [0]), base[::-1]),
        "reshaped": (tf.reshape(y, [2, 4]), base.reshape(2, 4)),
        "sliced": (y[2:6], base[2:6]),
        "bitcast": (tf.bitcast(y, tf.int32), base.view(np.int32)),
    }
    for name, (view, want) in views.items():
        g = tf.function(lambda v: v + tf.ones_like(v), jit_compile=True)
        for _ in range(3):  # the third call takes the fast path
            got = g(view).numpy()
            np.testing.assert_array_equal(got, want + 1, err_msg=name)


def test_xla_fast_path_rejects_the_buffer_reinterpreted():
    # an array made from the device buffer under another dtype has the buffer as its base
    # and the same shape: only the dtype test tells it from the device array's own view
    jax = pytest.importorskip("jax")
    make = tf.function(lambda x: x * 2.0, jit_compile=True)
    x = tf.constant(np.arange(1, 9, dtype=np.float32))
    g = tf.function(lambda v: v + 1, jit_compile=True)
    for _ in range(3):
        y = make(x)
        o = y._value.base.obj
        assert isinstance(o, jax.Array)
        ints = tf.constant(0, tf.int32)
        ints._value = np.frombuffer(o, np.int32)  # the same buffer, read as int32
        np.testing.assert_array_equal(g(ints).numpy(), y.numpy().view(np.int32) + 1)


def test_tuples_of_eager_tensors_find_the_general_path_s_concrete_function():
    # Keras' steps take one tuple (x, y[, sample_weight]): its key and graph inputs are
    # read without nest's walk, and must be the ones the general path computes
    from rill.tracing.polymorphic import _eager_key_and_leaves, _key, _tensor_leaves

    x = tf.constant(np.ones((2, 3), np.float32))
    y = tf.constant(np.arange(2, dtype=np.int64))
    for args in [((x, y),), ((x, y, x),), (x, (y,)), ((),), ((x,), x)]:
        key, leaves = _eager_key_and_leaves(args)
        assert key == _key(list(args))
        assert [id(t) for t in leaves] == [id(t) for t in _tensor_leaves(list(args))]
    for args in [([x, y],), ((x, 1.0),), ((x, (y,)),), ((x, None),), (np.ones(2),)]:
        assert _eager_key_and_leaves(args) is None  # the general path's


def test_a_step_on_a_tuple_traces_once_per_signature_with_the_same_results():
    traces = []

    @tf.function
    def step(data):
        x, y = data
        traces.append(1)
        return {"loss": tf.reduce_sum(x) * tf.cast(tf.reduce_sum(y), tf.float32)}

    rng = np.random.default_rng(0)
    for n in (4, 4, 4, 5, 5, 4):
        xa, ya = rng.standard_normal((n, 3)).astype(np.float32), rng.integers(0, 5, n)
        got = step((tf.constant(xa), tf.constant(ya)))["loss"].numpy()
        np.testing.assert_allclose(got, xa.sum() * ya.sum(), rtol=1e-5)
    assert len(traces) == 2  # batch 4, then batch 5
    # a list is another structure than a tuple: its own trace, as the general key says
    step([tf.constant(xa), tf.constant(ya)])
    assert len(traces) == 3


def test_dict_outputs_keep_their_keys_order_and_values():
    # a flat dict of tensors (Keras' logs) is rebuilt without nest's walk: the same keys,
    # in the function's order, each with its own tensor; other structures keep nest's path
    @tf.function
    def flat(x):
        return {"b": x * 2.0, "a": x + 1.0, "c": -x}

    @tf.function
    def mixed(x):
        return {"b": x * 2.0, "a": 3, "c": {"d": -x}}

    x = tf.constant([1.0, 2.0])
    for _ in range(3):
        got = flat(x)
        assert list(got) == ["b", "a", "c"]
        np.testing.assert_array_equal(got["b"].numpy(), [2.0, 4.0])
        np.testing.assert_array_equal(got["a"].numpy(), [2.0, 3.0])
        np.testing.assert_array_equal(got["c"].numpy(), [-1.0, -2.0])
        other = mixed(x)
        assert list(other) == ["b", "a", "c"] and other["a"] == 3
        np.testing.assert_array_equal(other["c"]["d"].numpy(), [-1.0, -2.0])
    assert _concrete(flat, x)._dict_outputs  # the direct path was taken
    assert not _concrete(mixed, x)._dict_outputs
