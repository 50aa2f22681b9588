"""tnp's NumPy behaviour on Tensors, its modes, gradients and tracing (NumPy references)."""

from __future__ import annotations

import numpy as np
import pytest

import rill as tf
import rill.experimental.numpy as tnp
from rill.experimental.numpy._behavior import _disable_numpy_behavior
from tests.gradcheck import assert_grad_matches_finite_differences


@pytest.fixture
def numpy_mode():
    """Enable NumPy behaviour for one test, and take it back after."""
    yield tnp.experimental_enable_numpy_behavior
    _disable_numpy_behavior()


def test_methods_absent_until_enabled(numpy_mode):
    t = tf.constant([[1, 2, 3], [4, 5, 6]], tf.int32)
    assert not hasattr(t, "reshape") and not hasattr(t, "T")
    numpy_mode()
    x = np.array([[1, 2, 3], [4, 5, 6]], np.int32)
    np.testing.assert_array_equal(t.T.numpy(), x.T)
    np.testing.assert_array_equal(t.reshape(3, 2).numpy(), x.reshape(3, 2))
    np.testing.assert_array_equal(t.reshape((6,)).numpy(), x.reshape((6,)))
    np.testing.assert_array_equal(t.reshape(3, 2, order="F").numpy(), x.reshape(3, 2, order="F"))
    np.testing.assert_array_equal(t.ravel().numpy(), x.ravel())
    np.testing.assert_array_equal(t.flatten().numpy(), x.flatten())
    np.testing.assert_array_equal(t.transpose().numpy(), x.transpose())
    assert t.astype(np.float32).dtype == tf.float32
    assert t.astype(tf.float64).dtype == tf.float64
    assert t.size == x.size and t.tolist() == x.tolist()
    assert int(t.max()) == x.max() and int(t.min()) == x.min()
    assert float(t.mean()) == x.mean() and t.mean().dtype == tf.float64
    np.testing.assert_array_equal(t.clip(2, 4).numpy(), x.clip(2, 4))
    assert +t is t and t.data is t
    f = tf.constant([1.25, 2.75])
    np.testing.assert_array_equal(
        round(f, 1).numpy(), np.round(np.array([1.25, 2.75], np.float32), 1)
    )
    _disable_numpy_behavior()
    assert not hasattr(t, "reshape") and not hasattr(t, "T")


def test_legacy_operators_promote_like_numpy(numpy_mode):
    i32 = tf.constant([1, 2], tf.int32)
    f32 = tf.constant([0.5, 1.5], tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError):
        i32 + f32  # TF's own rule before enabling
    numpy_mode()
    cases = [
        (lambda a, b: a + b, i32, f32), (lambda a, b: a * b, i32, 1.5), (lambda a, b: a - b, f32, 2),
        (lambda a, b: a / b, i32, i32), (lambda a, b: a < b, i32, f32), (lambda a, b: b**a, i32, 2.0),
        (lambda a, b: a // b, f32, i32), (lambda a, b: a & b, i32, True),
    ]  # fmt: skip
    for op, a, b in cases:
        got = op(a, b)
        want = np.asarray(op(np.asarray(a), np.asarray(b) if isinstance(b, tf.Tensor) else b))
        assert got.dtype.np == want.dtype, (got.dtype, want.dtype)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)


def test_off_mode_keeps_tf_operators(numpy_mode):
    numpy_mode(dtype_conversion_mode="off")
    t = tf.constant([1, 2], tf.int32)
    assert t.T.shape == (2,)
    with pytest.raises(tf.errors.InvalidArgumentError):
        t + tf.constant([1.0, 2.0])


def test_prefer_float32(numpy_mode):
    numpy_mode(prefer_float32=True)
    assert tnp.asarray(1.5).dtype == tf.float32
    assert tnp.asarray([1.5, 2.0]).dtype == tf.float32
    assert tnp.add(tnp.ones(2, tnp.float16), 1.5).dtype == tf.float32
    assert tnp.result_type(1.0) == tf.float32
    _disable_numpy_behavior()
    assert tnp.asarray(1.5).dtype == tf.float64


def test_unsupported_modes():
    with pytest.raises(ValueError, match="not supported"):
        tnp.experimental_enable_numpy_behavior(dtype_conversion_mode="safe")


def test_numpy_indexing(numpy_mode):
    x = np.arange(24).reshape(2, 3, 4)
    t = tf.constant(x)
    numpy_mode()
    for key in [([0, 1], [1, 2]), (slice(None), [2, 0]), (1, [0, 0, 2], slice(1, 3)),
                (np.array([[0, 1]]), Ellipsis, [3]), (tf.constant([1, 0]),), (x[..., 0] > 5,)]:  # fmt: skip
        np_key = tuple(np.asarray(k) if isinstance(k, tf.Tensor) else k for k in key)
        np.testing.assert_array_equal(t[key].numpy(), x[np_key])


def test_gradients_through_tnp():
    def f(a, b):
        return tnp.sum(tnp.logaddexp(a, b) * tnp.sinc(a) + tnp.hypot(a, b) + tnp.cbrt(b))

    a = np.array([0.3, -1.2, 2.0])
    b = np.array([1.1, 0.4, -0.7])
    assert_grad_matches_finite_differences(f, a, b)

    def g(m):
        return tnp.mean(tnp.var(tnp.matmul(m, tnp.transpose(m)), axis=0)) + tnp.trace(tnp.tril(m))

    assert_grad_matches_finite_differences(g, np.array([[0.5, -1.0], [2.0, 0.3]]))


def test_gradient_through_numpy_indexing(numpy_mode):
    numpy_mode()
    x = tf.constant(np.arange(6.0).reshape(2, 3))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tnp.sum(x[[0, 1, 1], [2, 0, 2]] ** 2)
    want = np.zeros((2, 3))
    for i, j in [(0, 2), (1, 0), (1, 2)]:
        want[i, j] += 2 * np.arange(6.0).reshape(2, 3)[i, j]
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), want)


def test_inside_function():
    @tf.function
    def f(a, b):
        return tnp.concatenate([tnp.cumsum(a, axis=1), tnp.outer(b, b)[:2]], axis=0)

    a = np.arange(6.0).reshape(2, 3)
    b = np.array([1.0, 2.0, 3.0])
    got = f(tf.constant(a), tf.constant(b))
    want = np.concatenate([np.cumsum(a, axis=1), np.outer(b, b)[:2]], axis=0)
    np.testing.assert_allclose(got.numpy(), want)
