"""Behaviour of rill.ops.clip_ops: clip_by_value / clip_by_norm / clip_by_global_norm /
global_norm / stop_gradient, checked against NumPy formulas and finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

import rill as tf
from rill.errors import InvalidArgumentError


def test_namespaces():
    for name in ("clip_by_value", "clip_by_norm", "clip_by_global_norm", "stop_gradient"):
        assert callable(getattr(tf, name))
    assert callable(tf.linalg.global_norm)
    assert not hasattr(tf, "global_norm")


def _fd_grad(f, x, eps=1e-6):
    """Central finite differences of sum(f(x) * w) for a fixed random w (float64)."""
    w = np.random.default_rng(5).standard_normal(np.shape(f(x)))
    g = np.zeros_like(x)
    for k in range(x.size):
        xp, xm = x.copy(), x.copy()
        xp.flat[k] += eps
        xm.flat[k] -= eps
        g.flat[k] = (np.sum(f(xp) * w) - np.sum(f(xm) * w)) / (2 * eps)
    return g, w


def _tape_grad(f, x, w):
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = tf.reduce_sum(f(xt) * tf.constant(w))
    return tape.gradient(y, xt)


# --------------------------------------------------------------------------------------
# clip_by_value
# --------------------------------------------------------------------------------------


def test_clip_by_value_values_and_dtypes():
    x = np.array([-3.0, -1.0, 0.5, 2.0, 7.0])
    out = tf.clip_by_value(tf.constant(x), -1.5, 2.0)
    assert out.dtype == tf.float64
    np.testing.assert_array_equal(out.numpy(), np.clip(x, -1.5, 2.0))
    iout = tf.clip_by_value(tf.constant([1, 5, 9]), 2, 6)
    assert iout.dtype == tf.int32
    np.testing.assert_array_equal(iout.numpy(), [2, 5, 6])


def test_clip_by_value_broadcasting_bounds():
    x = np.arange(12.0).reshape(3, 4)
    lo = np.array([0.0, 2.0, 4.0, 6.0])
    hi = np.array([[3.0], [6.0], [9.0]])
    out = tf.clip_by_value(tf.constant(x), lo, hi)
    np.testing.assert_array_equal(
        out.numpy(), np.maximum(np.minimum(x, hi), lo)
    )  # lo wins, as in TF


def test_clip_by_value_min_above_max_gives_min():
    out = tf.clip_by_value(tf.constant([1.0, 5.0]), 7.0, 6.0)
    np.testing.assert_array_equal(out.numpy(), [7, 7])


def test_clip_by_value_bounds_may_not_enlarge_t():
    with pytest.raises(ValueError, match="incompatible"):
        tf.clip_by_value(tf.constant([1.0, 5.0]), [[0.0, 0.0], [1.0, 1.0]], 6.0)


def test_clip_by_value_does_not_promote():
    with pytest.raises(InvalidArgumentError):
        tf.clip_by_value(tf.constant([1.0, 5.0]), tf.constant(2), 6.0)


def test_clip_by_value_gradient_passes_where_not_clipped_including_ties():
    x = tf.constant([1.0, 2.0, 2.5, 3.0, 4.0])
    lo = tf.constant(2.0)
    hi = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch([x, lo, hi])
        y = tf.clip_by_value(x, lo, hi)
    gx, glo, ghi = tape.gradient(y, [x, lo, hi])
    np.testing.assert_array_equal(gx.numpy(), [0, 1, 1, 1, 0])
    assert glo.numpy() == 1.0 and ghi.numpy() == 1.0  # one element clipped to each bound


def test_clip_by_value_gradient_matches_finite_differences():
    x = np.array([[-2.3, -0.7, 0.4], [1.1, 2.6, -1.9]])
    f_np = lambda v: np.clip(v, -1.0, 1.5)  # noqa: E731
    num, w = _fd_grad(f_np, x)
    g = _tape_grad(lambda t: tf.clip_by_value(t, -1.0, 1.5), x, w)
    np.testing.assert_allclose(g.numpy(), num, atol=1e-8)


# --------------------------------------------------------------------------------------
# clip_by_norm
# --------------------------------------------------------------------------------------


def _np_clip_by_norm(x, c, axes=None):
    n = np.sqrt(np.sum(x * x, axis=axes, keepdims=True))
    return x * c / np.maximum(n, c)


def test_clip_by_norm_whole_tensor():
    out = tf.clip_by_norm(tf.constant([3.0, 4.0]), 1.0)
    np.testing.assert_allclose(out.numpy(), [0.6, 0.8], rtol=1e-6)
    small = tf.clip_by_norm(tf.constant([0.3, 0.4]), 1.0)
    np.testing.assert_allclose(small.numpy(), [0.3, 0.4], rtol=1e-6)


def test_clip_by_norm_axes():
    x = np.array([[3.0, 4.0], [0.0, 0.1], [6.0, -8.0]])
    out = tf.clip_by_norm(tf.constant(x), 2.0, axes=[1])
    np.testing.assert_allclose(out.numpy(), _np_clip_by_norm(x, 2.0, axes=(1,)), rtol=1e-12)
    out0 = tf.clip_by_norm(tf.constant(x), 5.0, axes=0)
    np.testing.assert_allclose(out0.numpy(), _np_clip_by_norm(x, 5.0, axes=(0,)), rtol=1e-12)


def test_clip_by_norm_vector_clip_norm_broadcasts():
    out = tf.clip_by_norm(tf.constant([3.0, 4.0]), [1.0, 2.0])
    np.testing.assert_allclose(out.numpy(), [0.6, 1.6], rtol=1e-6)


def test_clip_by_norm_zero_tensor_unchanged_with_finite_gradient():
    x = tf.constant([0.0, 0.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.clip_by_norm(x, 1.0)
    np.testing.assert_array_equal(y.numpy(), [0, 0])
    g = tape.gradient(y, x).numpy()
    assert np.all(np.isfinite(g))
    np.testing.assert_array_equal(g, [1, 1])


def test_clip_by_norm_gradient_matches_finite_differences():
    x = np.array([[1.5, -2.0, 0.7], [0.1, 0.2, -0.3]])
    num, w = _fd_grad(lambda v: _np_clip_by_norm(v, 1.0, axes=(1,)), x)
    g = _tape_grad(lambda t: tf.clip_by_norm(t, 1.0, axes=[1]), x, w)
    np.testing.assert_allclose(g.numpy(), num, rtol=1e-6, atol=1e-8)


def test_clip_by_norm_integer_input_raises():
    with pytest.raises(InvalidArgumentError, match="int32"):
        tf.clip_by_norm(tf.constant([3, 4]), 1)


# --------------------------------------------------------------------------------------
# global_norm / clip_by_global_norm
# --------------------------------------------------------------------------------------


def test_global_norm():
    a = np.array([3.0, 4.0])
    b = np.array([[12.0]])
    out = tf.linalg.global_norm([tf.constant(a), None, tf.constant(b)])
    assert out.dtype == tf.float64 and out.shape == ()
    assert out.numpy() == pytest.approx(math.sqrt(np.sum(a * a) + np.sum(b * b)))


def test_global_norm_edge_cases():
    empty = tf.linalg.global_norm([])
    assert empty.dtype == tf.float32 and empty.numpy() == 0.0
    assert tf.linalg.global_norm([None]).numpy() == 0.0
    with pytest.raises(TypeError, match="sequence"):
        tf.linalg.global_norm(tf.constant([3.0, 4.0]))
    with pytest.raises(InvalidArgumentError, match="int32"):
        tf.linalg.global_norm([tf.constant([3, 4])])
    with pytest.raises(InvalidArgumentError, match="float64"):
        tf.linalg.global_norm([tf.constant([3.0]), tf.constant([4.0], tf.float64)])


def test_clip_by_global_norm_scales_all_and_keeps_none():
    a, b = np.array([3.0, 4.0], np.float32), np.float32(12.0)
    clipped, norm = tf.clip_by_global_norm([tf.constant(a), None, tf.constant(b)], 1.0)
    assert isinstance(clipped, list) and clipped[1] is None
    assert norm.numpy() == pytest.approx(13.0)
    np.testing.assert_allclose(clipped[0].numpy(), a / 13, rtol=1e-6)
    np.testing.assert_allclose(clipped[2].numpy(), b / 13, rtol=1e-6)
    assert clipped[0].dtype == tf.float32


def test_clip_by_global_norm_no_clipping_below_threshold():
    clipped, norm = tf.clip_by_global_norm([tf.constant([3.0, 4.0])], 10.0)
    np.testing.assert_allclose(clipped[0].numpy(), [3, 4], rtol=1e-6)
    assert norm.numpy() == pytest.approx(5.0)


def test_clip_by_global_norm_use_norm():
    clipped, norm = tf.clip_by_global_norm([tf.constant([3.0, 4.0])], 1.0, use_norm=10.0)
    np.testing.assert_allclose(clipped[0].numpy(), [0.3, 0.4], rtol=1e-6)
    assert norm.numpy() == pytest.approx(10.0)


def test_clip_by_global_norm_infinite_norm_gives_nan(recwarn):
    clipped, norm = tf.clip_by_global_norm([tf.constant([3.0, np.inf]), tf.constant([1.0])], 1.0)
    assert norm.numpy() == np.inf
    assert np.all(np.isnan(clipped[0].numpy())) and np.all(np.isnan(clipped[1].numpy()))
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_clip_by_global_norm_requires_a_sequence():
    with pytest.raises(TypeError, match="sequence"):
        tf.clip_by_global_norm(tf.constant([3.0, 4.0]), 1.0)


def test_clip_by_global_norm_gradient_matches_finite_differences():
    a = np.array([1.5, -2.0, 0.7])
    b = np.array([0.4, 1.1])

    def f_np(v):
        n = math.sqrt(np.sum(v * v) + np.sum(b * b))
        return v * 1.0 / max(n, 1.0)

    num, w = _fd_grad(f_np, a)
    g = _tape_grad(lambda t: tf.clip_by_global_norm([t, tf.constant(b)], 1.0)[0][0], a, w)
    np.testing.assert_allclose(g.numpy(), num, rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------------------
# stop_gradient
# --------------------------------------------------------------------------------------


def test_stop_gradient_value_and_dtypes():
    x = tf.constant([[1.0, -2.0]], tf.float64)
    y = tf.stop_gradient(x)
    assert y.dtype == tf.float64 and y.shape == (1, 2)
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    assert tf.stop_gradient(tf.constant([1, 2])).dtype == tf.int32
    assert tf.stop_gradient(tf.constant(["a"])).numpy().tolist() == [b"a"]


def test_stop_gradient_blocks_the_tape():
    x = tf.constant([1.5, -2.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = tf.stop_gradient(x) * 2.0
        z = x * tf.stop_gradient(x)  # d/dx = stop_gradient(x) only
    assert tape.gradient(y, x) is None
    np.testing.assert_array_equal(tape.gradient(y, x, unconnected_gradients="zero").numpy(), [0, 0])
    np.testing.assert_array_equal(tape.gradient(z, x).numpy(), x.numpy())


def test_stop_gradient_in_second_order():
    x = tf.constant(1.5)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = x * x * x
        dy = tf.stop_gradient(inner.gradient(y, x))
    assert outer.gradient(dy, x) is None


def test_indexed_slices_stay_sparse_and_are_clipped_by_their_values_norm():
    values = np.array([[3.0, 4.0], [6.0, 8.0]], np.float32)
    s = tf.IndexedSlices(tf.constant(values), tf.constant([0, 0]), tf.constant([3, 2]))
    norm = np.sqrt((values**2).sum())  # over the slices' values, repeated rows included
    r = tf.clip_by_norm(s, 5.0)
    assert isinstance(r, tf.IndexedSlices)
    np.testing.assert_allclose(r.values.numpy(), values * 5.0 / norm, rtol=1e-6)
    np.testing.assert_array_equal(r.indices.numpy(), [0, 0])
    np.testing.assert_array_equal(r.dense_shape.numpy(), [3, 2])
    dense = np.array([1.0, 2.0], np.float32)
    total = np.sqrt((values**2).sum() + (dense**2).sum())
    np.testing.assert_allclose(tf.linalg.global_norm([s, tf.constant(dense)]).numpy(), total)
    clipped, n = tf.clip_by_global_norm([s, None, tf.constant(dense)], 1.0)
    assert isinstance(clipped[0], tf.IndexedSlices) and clipped[1] is None
    np.testing.assert_allclose(clipped[0].values.numpy(), values / total, rtol=1e-6)
    np.testing.assert_allclose(clipped[2].numpy(), dense / total, rtol=1e-6)
    np.testing.assert_allclose(n.numpy(), total, rtol=1e-6)
