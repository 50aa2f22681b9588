"""Binary arithmetic: values, TF's dtype rules, errors, complex gradient convention."""

import warnings

import numpy as np
import pytest

import rill as tf


def test_complex_gradients_are_conjugated_like_tf():
    # For holomorphic f, TF's tape returns conj(f'(z)) * upstream.
    x0, y0 = np.array([1 + 2j, 0.5 - 1j]), np.array([2 - 1j, 1 + 1j])
    x, y = tf.constant(x0), tf.constant(y0)
    with tf.GradientTape(persistent=True) as t:
        t.watch([x, y])
        m, d, p = x * y, x / y, x**y
    gx, gy = t.gradient(m, [x, y])
    np.testing.assert_allclose(gx.numpy(), np.conj(y0))
    np.testing.assert_allclose(gy.numpy(), np.conj(x0))
    gx, gy = t.gradient(d, [x, y])
    np.testing.assert_allclose(gx.numpy(), np.conj(1 / y0))
    np.testing.assert_allclose(gy.numpy(), np.conj(-x0 / y0**2))
    gx, gy = t.gradient(p, [x, y])
    np.testing.assert_allclose(gx.numpy(), np.conj(y0 * x0 ** (y0 - 1)))
    np.testing.assert_allclose(gy.numpy(), np.conj(x0**y0 * np.log(x0)))


def test_inf_nan_results_are_silent_like_tf_but_user_numpy_still_warns():
    import subprocess
    import sys

    code = (
        "import numpy as np, rill as tf\n"
        "a = tf.constant([np.inf, 1.0]); print((a - a).numpy(), (a / 0.0).numpy())\n"
        "np.log(np.zeros(1))\n"
    )
    r = subprocess.run(
        [sys.executable, "-W", "default", "-c", code], capture_output=True, text=True
    )
    assert r.returncode == 0 and "nan" in r.stdout
    # rill is silent; the user's own NumPy call still warns
    assert r.stderr.count("RuntimeWarning") == 1 and "<string>:3" in r.stderr, r.stderr
    a = tf.constant([np.inf, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # -W error must not turn inf/nan into exceptions
        out = (a - a).numpy()
        assert np.isnan(tf.math.log(tf.constant(-1.0)).numpy())
    assert np.isnan(out[0])


def test_pow_of_negative_int_exponent_raises():
    with pytest.raises(tf.errors.InvalidArgumentError, match="negative integer powers"):
        tf.pow(tf.constant([2]), tf.constant([-1]))


@pytest.mark.parametrize(
    "fn, ref",
    [
        (tf.truncatediv, lambda x, y: np.trunc(x / y).astype(x.dtype)),
        (tf.truncatemod, np.fmod),
        (tf.math.floordiv, np.floor_divide),
        (tf.math.floormod, np.mod),
    ],
)
def test_integer_division_variants(fn, ref):
    x, y = np.array([7, -7, 7, -7], np.int32), np.array([2, 2, -2, -2], np.int32)
    got = fn(x, y)
    assert got.dtype is tf.int32
    np.testing.assert_array_equal(got.numpy(), ref(x, y))


def test_maximum_gradient_ties_go_to_x():
    x, y = tf.constant([1.0, 2.0, 3.0]), tf.constant([1.0, 5.0, 0.0])
    with tf.GradientTape(persistent=True) as t:
        t.watch([x, y])
        mx, mn = tf.maximum(x, y), tf.minimum(x, y)
    np.testing.assert_array_equal(t.gradient(mx, x).numpy(), [1, 0, 1])
    np.testing.assert_array_equal(t.gradient(mx, y).numpy(), [0, 1, 0])
    np.testing.assert_array_equal(t.gradient(mn, x).numpy(), [1, 1, 0])


def test_divide_no_nan_and_its_gradient():
    x, y = tf.constant([1.0, 2.0]), tf.constant([0.0, 4.0])
    with tf.GradientTape() as t:
        t.watch(x)
        z = tf.math.divide_no_nan(x, y)
    np.testing.assert_array_equal(z.numpy(), [0.0, 0.5])
    np.testing.assert_array_equal(t.gradient(z, x).numpy(), [0.0, 0.25])


def test_divide_no_nan_is_zero_wherever_y_is_zero_even_for_nan_or_inf_x():
    x = np.array([[np.nan, np.inf, 3.0], [1.0, -2.0, 0.0]], np.float32)
    y = np.array([0.0, 4.0, 0.0], np.float32)
    got = tf.math.divide_no_nan(tf.constant(x), tf.constant(y)).numpy()
    with np.errstate(all="ignore"):
        want = np.where(y == 0, np.float32(0), x / y)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.float32
    # integers divide as floats (int32 -> float64), like tf.math.truediv
    q = tf.math.divide_no_nan(tf.constant([3, 4]), tf.constant([0, 8]))
    assert q.dtype == tf.float64
    np.testing.assert_array_equal(q.numpy(), [0.0, 0.5])


def test_divide_no_nan_gradient_with_respect_to_y_is_the_quotient_rule_or_zero():
    x, y = tf.Variable([1.0, 2.0, 3.0]), tf.Variable([0.0, 2.0, 4.0])
    with tf.GradientTape() as t:
        z = tf.reduce_sum(tf.math.divide_no_nan(x, y))
    gx, gy = t.gradient(z, [x, y])
    xv, yv = x.numpy(), y.numpy()
    safe = np.where(yv == 0, 1.0, yv)
    np.testing.assert_allclose(gx.numpy(), np.where(yv == 0, 0.0, 1 / safe))
    np.testing.assert_allclose(gy.numpy(), np.where(yv == 0, 0.0, -xv / safe**2))


def test_logical_xor_and_bitwise_shifts():
    p, q = tf.constant([True, True, False, False]), tf.constant([True, False, True, False])
    np.testing.assert_array_equal(tf.math.logical_xor(p, q).numpy(), [False, True, True, False])
    np.testing.assert_array_equal(
        tf.bitwise.left_shift(tf.constant([1, 3]), tf.constant([2, 1])).numpy(), [4, 6]
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="bool"):
        tf.logical_and(tf.constant([1]), tf.constant([1]))
