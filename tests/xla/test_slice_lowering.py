"""Slices at traced positions under jit_compile: ``x[i]`` in a loop, ``x[i, 2:5]``,
``tf.slice(x, [i, 0], [2, 3])`` compile to dynamic slices of static size, with values and
gradients equal to the executor's; a slice whose size depends on traced values raises
TF's error naming it."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("jax")

import rill as tf  # noqa: E402
from rill.core.errors import InvalidArgumentError  # noqa: E402

X = np.arange(24, dtype=np.float32).reshape(4, 6)

SLICES = {
    "x[i]": lambda x, i: x[i],
    "x[i, 2:5]": lambda x, i: x[i, 2:5],
    "x[:, i]": lambda x, i: x[:, i],
    "x[i, None, ::2]": lambda x, i: x[i, None, ::2],
    "x[..., i]": lambda x, i: x[..., i],
    "x[i, -1]": lambda x, i: x[i, -1],
    "slice": lambda x, i: tf.slice(x, [i, 1], [2, 3]),
    "slice to the end": lambda x, i: tf.slice(x, [i, 0], [2, -1]),
    "strided_slice": lambda x, i: tf.strided_slice(
        x, [i, 0], [i + 1, 6], [1, 2], shrink_axis_mask=1
    ),
}


def _value_and_grad(fn, jit, i):
    @tf.function(jit_compile=jit)
    def g(x, i):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x, i)
            loss = tf.reduce_sum(y * y)
        return y, tape.gradient(loss, x)

    return [t.numpy() for t in g(tf.constant(X), tf.constant(i))]


@pytest.mark.parametrize("name", sorted(SLICES))
@pytest.mark.parametrize("i", [0, 1, -2])
def test_traced_slices_match_the_executor(name, i):
    if name.startswith("slice") and i < 0:
        pytest.skip("tf.slice takes no negative begin")
    want = _value_and_grad(SLICES[name], False, i)
    got = _value_and_grad(SLICES[name], True, i)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_array_equal(g, w)


def test_indexing_in_a_loop_compiles():
    @tf.function(jit_compile=True)
    def weighted_rows(x):
        s = tf.zeros([6])
        for k in tf.range(tf.shape(x)[0]):
            s += x[k] * tf.cast(k, tf.float32)
        return s

    np.testing.assert_array_equal(
        weighted_rows(tf.constant(X)).numpy(), (X * np.arange(4)[:, None]).sum(0)
    )


def test_a_slice_of_traced_size_names_the_op():
    f = tf.function(lambda x, i: x[i : i + 2], jit_compile=True)
    with pytest.raises(InvalidArgumentError, match="StridedSlice.*XLA needs static shapes"):
        f(tf.constant(X), tf.constant(1))
    # the executor runs it
    got = tf.function(lambda x, i: x[i : i + 2])(tf.constant(X), tf.constant(1))
    np.testing.assert_array_equal(got.numpy(), X[1:3])


@pytest.mark.parametrize("dtype", [tf.int32, tf.float32, tf.complex64])
def test_stacking_known_and_traced_scalars_compiles(dtype):
    # Pack records the known elements of an integer vector (a slice's bounds) only
    f = tf.function(
        lambda a: tf.stack([tf.constant(1, dtype), a, tf.constant(3, dtype)]), jit_compile=True
    )
    got = f(tf.constant(2, dtype))
    assert got.dtype == dtype
    np.testing.assert_array_equal(got.numpy(), np.array([1, 2, 3], dtype.as_numpy_dtype))
