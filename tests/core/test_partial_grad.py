"""Gradient rules declared ``partial_grad`` skip the input gradients the tape will not
read: a layer's matmul or convolution on data computes no gradient for the data."""

import numpy as np
import pytest

import rill as tf
from rill.ops import conv_ops, linalg_ops


def _count_calls(monkeypatch, prim):
    calls = []
    kernel = prim.kernel

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return kernel(*args, **kwargs)

    monkeypatch.setattr(prim, "kernel", counting)
    return calls


@pytest.mark.parametrize("watch", ["w", "x", "both"])
def test_matmul_computes_only_the_needed_products(monkeypatch, watch):
    rng = np.random.default_rng(0)
    xn = rng.standard_normal((5, 4)).astype(np.float32)
    wn = rng.standard_normal((4, 3)).astype(np.float32)
    x, w = tf.constant(xn), tf.Variable(wn)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch({"w": [w], "x": [x], "both": [x, w]}[watch])
        y = tf.matmul(x, w)
        loss = tf.reduce_sum(y * y)
    calls = _count_calls(monkeypatch, linalg_ops.matmul_p)
    gx, gw = tape.gradient(loss, [x, w])
    dy = 2 * (xn @ wn)  # d loss / d y, by hand
    assert len(calls) == (2 if watch == "both" else 1)
    if watch == "x":
        assert gw is None
    else:
        np.testing.assert_allclose(gw.numpy(), xn.T @ dy, rtol=1e-5)
    if watch == "w":
        assert gx is None
    else:
        np.testing.assert_allclose(gx.numpy(), dy @ wn.T, rtol=1e-5)


def test_transposed_matmul_skips_the_data_side(monkeypatch):
    rng = np.random.default_rng(1)
    an = rng.standard_normal((4, 5)).astype(np.float32)
    bn = rng.standard_normal((3, 4)).astype(np.float32)
    a, b = tf.constant(an), tf.Variable(bn)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.matmul(a, b, transpose_a=True, transpose_b=True))
    calls = _count_calls(monkeypatch, linalg_ops.matmul_p)
    (gb,) = tape.gradient(loss, [b])
    assert len(calls) == 1
    # loss = sum_ij (a^T b^T)_ij, so d/db[k, l] = sum_i a[l, i]
    np.testing.assert_allclose(gb.numpy(), np.tile(an.sum(axis=1), (3, 1)), rtol=1e-5)


def test_conv2d_skips_the_input_gradient_of_data(monkeypatch):
    rng = np.random.default_rng(2)
    xn = rng.standard_normal((2, 5, 5, 1)).astype(np.float32)
    wn = rng.standard_normal((3, 3, 1, 2)).astype(np.float32)
    x, w = tf.constant(xn), tf.Variable(wn)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.nn.conv2d(x, w, 1, "VALID"))
    bpi = _count_calls(monkeypatch, conv_ops.conv_bpi_p)
    bpf = _count_calls(monkeypatch, conv_ops.conv_bpf_p)
    (gw,) = tape.gradient(loss, [w])
    assert len(bpi) == 0 and len(bpf) == 1
    # d/dw[i, j, 0, c] of the summed VALID correlation: the sum of the 3x3 window sums
    ref = np.zeros_like(wn)
    for i in range(3):
        for j in range(3):
            ref[i, j, 0, :] = xn[:, i : i + 3, j : j + 3, 0].sum()
    np.testing.assert_allclose(gw.numpy(), ref, rtol=1e-5)


def test_second_order_through_a_partial_rule():
    # L = sum(x @ w); dL/dw = x^T @ 1, whose sum is m * sum(x): d/dx of it is m everywhere.
    # The inner tape needs only dw (x is not its source), the outer one differentiates
    # that product with respect to x.
    xn = np.arange(6, dtype=np.float32).reshape(2, 3)
    x, w = tf.constant(xn), tf.Variable(np.ones((3, 4), np.float32))
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            loss = tf.reduce_sum(tf.matmul(x, w))
        gw = inner.gradient(loss, w)
        total = tf.reduce_sum(gw)
    np.testing.assert_allclose(outer.gradient(total, x).numpy(), np.full((2, 3), 4.0))
