"""Max pooling on XLA: where the windows tile the input it lowers to a reduction over a
reshape (its gradient to a first-maximum mask) instead of reduce_window and its
select-and-scatter VJP; values and gradients equal the executor's, ties included."""

from __future__ import annotations

import numpy as np
import pytest

import rill as tf

pytest.importorskip("jax")


def _value_and_grad(x, ksize, strides, padding, data_format):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.max_pool(x, ksize, strides, padding, data_format=data_format)
        # a weight per output element, so each window's gradient is told apart
        w = tf.reshape(tf.range(tf.size(y), dtype=y.dtype), tf.shape(y)) / 7.0
        loss = tf.reduce_sum(y * w)
    return y, tape.gradient(loss, x)


@pytest.mark.parametrize(
    "shape, ksize, strides, padding, data_format",
    [
        ((3, 28, 28, 2), 2, 2, "VALID", "NHWC"),  # tiled
        ((3, 27, 29, 2), 2, 2, "VALID", "NHWC"),  # tiled, a row and a column left over
        ((3, 28, 28, 2), 2, 2, "SAME", "NHWC"),  # SAME with nothing to pad: tiled
        ((3, 27, 28, 2), 2, 2, "SAME", "NHWC"),  # padded: reduce_window
        ((3, 12, 12, 2), [2, 3], [2, 3], "VALID", "NHWC"),  # tiled, unequal windows
        ((3, 2, 12, 12), 2, 2, "VALID", "NCHW"),
        ((3, 12, 2), 3, 3, "VALID", "NWC"),
        ((2, 6, 6, 6, 2), 2, 2, "VALID", "NDHWC"),
        ((3, 12, 12, 2), 3, 2, "VALID", "NHWC"),  # overlapping windows: reduce_window
    ],
)
@pytest.mark.parametrize("ties", [False, True])
def test_max_pool_and_its_gradient_match_the_executor(
    shape, ksize, strides, padding, data_format, ties
):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    if ties:
        x = np.round(x)  # many windows with several equal maxima: the first one wins
    x = tf.constant(x)
    args = (ksize, strides, padding, data_format)
    y0, g0 = _value_and_grad(x, *args)
    y1, g1 = tf.function(_value_and_grad, jit_compile=True)(x, *args)
    np.testing.assert_allclose(y1.numpy(), y0.numpy())
    np.testing.assert_allclose(g1.numpy(), g0.numpy(), rtol=1e-6)
    if ties:  # each window's gradient went to exactly one element
        nonzero = np.count_nonzero(g0.numpy())
        assert nonzero <= y0.numpy().size


@pytest.mark.parametrize("dtype", [tf.bfloat16, tf.float16, tf.int32])
def test_tiled_max_pool_gradient_in_other_dtypes(dtype):
    rng = np.random.default_rng(1)
    x = tf.cast(tf.constant(np.round(rng.standard_normal((2, 8, 8, 3)) * 2)), dtype)
    pool = lambda v: tf.nn.max_pool(v, 2, 2, "VALID")  # noqa: E731
    np.testing.assert_array_equal(tf.function(pool, jit_compile=True)(x).numpy(), pool(x).numpy())
    if dtype.is_floating:
        got = tf.function(_value_and_grad, jit_compile=True)(x, 2, 2, "VALID", "NHWC")
        want = _value_and_grad(x, 2, 2, "VALID", "NHWC")
        np.testing.assert_array_equal(got[1].numpy(), want[1].numpy())
