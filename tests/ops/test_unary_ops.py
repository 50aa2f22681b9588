"""Behaviour of rill.ops.unary_ops: values, dtypes, namespaces, errors, gradients, and
both implementations of the special functions (SciPy and the NumPy fallbacks)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import rill as tf
from rill.errors import InvalidArgumentError
from rill.ops import unary_ops as u
from tests.gradcheck import assert_complex_grad_matches_finite_differences

EULER = 0.5772156649015329
ZETA3 = 1.2020569031595942


@pytest.fixture(params=["scipy", "numpy"])
def special_impl(request, monkeypatch):
    """Run a test with SciPy's special functions and again with the NumPy fallbacks."""
    if request.param == "scipy":
        pytest.importorskip("scipy.special")
    else:
        monkeypatch.setattr(u, "_use_scipy", False)
    return request.param


def grad_of(f, x, order=1):
    """d^order/dx^order of sum(f(x)) through nested tapes."""
    x = tf.constant(x)

    def g(k):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = f(x) if k == 1 else g(k - 1)
        return tape.gradient(y, x)

    return g(order)


# --------------------------------------------------------------------------------------
# Namespaces and signatures
# --------------------------------------------------------------------------------------

TOP_AND_MATH = (
    "abs sign square sqrt exp sin cos tan asin acos atan atan2 sinh cosh tanh asinh acosh "
    "atanh sigmoid floor round"
).split()
MATH_ONLY = (
    "reciprocal reciprocal_no_nan rsqrt expm1 log log1p softplus log_sigmoid erf erfc erfinv "
    "ndtri lgamma digamma polygamma ceil rint is_nan is_inf is_finite polyval real imag conj "
    "angle xlogy xdivy xlog1py"
).split()


@pytest.mark.parametrize("name", TOP_AND_MATH)
def test_exported_top_level_and_math(name):
    assert getattr(tf, name) is getattr(tf.math, name)


@pytest.mark.parametrize("name", MATH_ONLY)
def test_exported_in_math_only(name):
    assert callable(getattr(tf.math, name))
    assert not hasattr(tf, name), f"TF 2 has no tf.{name}"


def test_nn_aliases():
    assert tf.nn.sigmoid is tf.math.sigmoid
    assert tf.nn.softplus is tf.math.softplus
    assert tf.nn.tanh is tf.math.tanh


# --------------------------------------------------------------------------------------
# Values against NumPy / math references
# --------------------------------------------------------------------------------------

_X = np.linspace(-0.9, 0.9, 7)
_P = np.linspace(0.3, 3.0, 7)
_R = np.array([-4.3, -2.7, -1.2, -0.4, 0.2, 1.6, 3.9])  # no integers or halves
_G = np.array([-3.7, -2.5, -1.2, -0.3, 0.1, 0.5, 1.0, 1.5, 2.0, 3.3, 10.7, 40.0, 171.5])

NUMPY_REFS = [
    ("abs", np.abs, _X), ("sign", np.sign, _X), ("square", np.square, _X),
    ("reciprocal", lambda v: 1.0 / v, _P), ("sqrt", np.sqrt, _P),
    ("rsqrt", lambda v: 1.0 / np.sqrt(v), _P), ("exp", np.exp, _X), ("expm1", np.expm1, _X),
    ("log", np.log, _P), ("log1p", np.log1p, _X), ("sin", np.sin, _X), ("cos", np.cos, _X),
    ("tan", np.tan, _X), ("asin", np.arcsin, _X), ("acos", np.arccos, _X),
    ("atan", np.arctan, _X * 5), ("sinh", np.sinh, _X), ("cosh", np.cosh, _X),
    ("tanh", np.tanh, _X), ("asinh", np.arcsinh, _X * 5), ("acosh", np.arccosh, _P + 1),
    ("atanh", np.arctanh, _X), ("sigmoid", lambda v: 1 / (1 + np.exp(-v)), _X * 10),
    ("softplus", lambda v: np.log(1 + np.exp(v)), _X * 10),
    ("log_sigmoid", lambda v: -np.log(1 + np.exp(-v)), _X * 10),
    ("floor", np.floor, _R), ("ceil", np.ceil, _R), ("rint", np.rint, _R),
]  # fmt: skip


@pytest.mark.parametrize("name,ref,x", NUMPY_REFS, ids=[r[0] for r in NUMPY_REFS])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_match_numpy(name, ref, x, dtype):
    out = getattr(tf.math, name)(tf.constant(x.astype(dtype)))
    assert out.dtype == tf.as_dtype(dtype)
    assert out.shape == x.shape
    tol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(out.numpy(), ref(x), rtol=tol, atol=tol)


def test_values_keep_shape_rank3_and_scalar():
    x = np.linspace(0.1, 2, 24).reshape(2, 3, 4)
    assert tf.math.log(x).shape == (2, 3, 4)
    s = tf.math.exp(tf.constant(1.0, tf.float64))
    assert s.shape == () and s.numpy() == pytest.approx(math.e)


def test_python_scalars_convert_like_tf():
    assert tf.math.exp(1.0).dtype == tf.float32
    assert tf.math.abs(-3).dtype == tf.int32 and tf.math.abs(-3).numpy() == 3


def test_atan2_quadrants_and_broadcasting():
    y = np.array([1.0, 1.0, -1.0, -1.0])
    x = np.array([[1.0], [-1.0]])
    out = tf.math.atan2(tf.constant(y), tf.constant(x))
    assert out.shape == (2, 4)
    np.testing.assert_allclose(out.numpy(), np.arctan2(y, x))
    assert tf.math.atan2(1.0, -1.0).numpy() == pytest.approx(3 * math.pi / 4)


def test_round_is_half_to_even():
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 2.4, 2.6])
    np.testing.assert_array_equal(tf.round(x).numpy(), [-2, -2, -0, 0, 2, 2, 4, 2, 3])
    np.testing.assert_array_equal(tf.math.rint(x).numpy(), tf.round(x).numpy())


def test_round_returns_integer_tensors_unchanged():
    x = tf.constant([1, -7, 3])
    out = tf.round(x)
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), [1, -7, 3])


def test_is_nan_inf_finite_return_bool():
    x = tf.constant([1.0, np.nan, np.inf, -np.inf, 0.0])
    assert tf.math.is_nan(x).dtype == tf.bool
    np.testing.assert_array_equal(tf.math.is_nan(x).numpy(), [0, 1, 0, 0, 0])
    np.testing.assert_array_equal(tf.math.is_inf(x).numpy(), [0, 0, 1, 1, 0])
    np.testing.assert_array_equal(tf.math.is_finite(x).numpy(), [1, 0, 0, 0, 1])


def test_sigmoid_and_softplus_are_stable():
    x = tf.constant([-1000.0, -100.0, 0.0, 100.0, 1000.0])
    s = tf.sigmoid(x).numpy()
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(s, [0, math.exp(-100) / (1 + math.exp(-100)), 0.5, 1, 1], atol=1e-30)
    sp = tf.math.softplus(x).numpy()
    np.testing.assert_allclose(
        sp, [0, math.log1p(math.exp(-100)), math.log(2), 100, 1000], rtol=1e-6, atol=1e-40
    )
    ls = tf.math.log_sigmoid(x).numpy()
    np.testing.assert_allclose(ls, [-1000, -100, -math.log(2), 0, 0], rtol=1e-6, atol=1e-40)


def test_abs_of_complex_is_real_magnitude():
    z = tf.constant([3 + 4j, -1j], tf.complex64)
    out = tf.abs(z)
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), [5, 1])


def test_sign_of_complex_is_unit_phase():
    z = np.array([3 + 4j, 0j, -2 + 0j])
    np.testing.assert_allclose(tf.sign(tf.constant(z)).numpy(), [0.6 + 0.8j, 0, -1])


def test_complex_parts_and_angle():
    z = np.array([1 + 2j, -3 - 0.5j, -1 + 0j])
    t = tf.constant(z)
    assert tf.math.real(t).dtype == tf.float64
    np.testing.assert_array_equal(tf.math.real(t).numpy(), z.real)
    np.testing.assert_array_equal(tf.math.imag(t).numpy(), z.imag)
    np.testing.assert_array_equal(tf.math.conj(t).numpy(), np.conj(z))
    np.testing.assert_allclose(tf.math.angle(t).numpy(), np.arctan2(z.imag, z.real))


def test_complex_part_functions_on_real_tensors():
    x = tf.constant([-2.0, 0.0, 3.0])
    assert tf.math.real(x) is x
    assert tf.math.conj(x) is x
    np.testing.assert_array_equal(tf.math.imag(x).numpy(), [0, 0, 0])
    np.testing.assert_array_equal(tf.math.angle(x).numpy(), np.float32([math.pi, 0, 0]))
    with pytest.raises(TypeError):
        tf.math.real(tf.constant([True]))
    with pytest.raises(TypeError):
        tf.math.angle(tf.constant([1]))


def test_xlogy_xdivy_xlog1py_are_zero_where_x_is_zero():
    x = tf.constant([0.0, 0.0, 2.0, 3.0])
    y = tf.constant([0.0, -1.0, 3.0, 0.5])
    np.testing.assert_allclose(
        tf.math.xlogy(x, y).numpy(), [0, 0, 2 * math.log(3), 3 * math.log(0.5)], rtol=1e-6
    )
    np.testing.assert_allclose(tf.math.xdivy(x, y).numpy(), [0, 0, 2 / 3, 6], rtol=1e-6)
    np.testing.assert_allclose(
        tf.math.xlog1py(x, y).numpy(), [0, 0, 2 * math.log(4), 3 * math.log(1.5)], rtol=1e-6
    )
    assert np.isnan(tf.math.xlogy(1.0, -1.0).numpy())


def test_reciprocal_no_nan():
    out = tf.math.reciprocal_no_nan(tf.constant([0.0, 2.0, -4.0]))
    np.testing.assert_array_equal(out.numpy(), [0, 0.5, -0.25])
    with pytest.raises(InvalidArgumentError):
        tf.math.reciprocal_no_nan(tf.constant([1, 2]))


def test_polyval():
    x = np.array([-1.5, 0.0, 2.0])
    out = tf.math.polyval([3.0, -2.0, 0.5], tf.constant(x, tf.float32))
    np.testing.assert_allclose(out.numpy(), np.polyval([3.0, -2.0, 0.5], x), rtol=1e-6)
    assert tf.math.polyval([1, 2, 3], 2).numpy() == 11
    assert tf.math.polyval([1, 2, 3], 2).dtype == tf.int32
    empty = tf.math.polyval([], tf.constant([1.0, 2.0]))
    np.testing.assert_array_equal(empty.numpy(), [0, 0])
    with pytest.raises(ValueError, match="list"):
        tf.math.polyval(tf.constant([1.0, 2.0]), 2.0)
    with pytest.raises(InvalidArgumentError):  # no implicit promotion float32 -> float64
        tf.math.polyval([1.0, 2.0], tf.constant(2.0, tf.float64))


def test_polyval_gradient():
    x = np.array([0.3, -1.2], np.float32)
    g = grad_of(lambda t: tf.math.polyval([2.0, -1.0, 4.0, 1.0], t), x)
    np.testing.assert_allclose(g.numpy(), 6 * x**2 - 2 * x + 4, rtol=1e-6)


# --------------------------------------------------------------------------------------
# dtype rules and errors
# --------------------------------------------------------------------------------------

FLOAT_OR_COMPLEX_ONLY = (
    "sqrt rsqrt exp expm1 log log1p sin cos tan asin tanh sigmoid reciprocal".split()
)
FLOAT_ONLY = "softplus erf erfc lgamma digamma floor ceil rint is_nan is_inf is_finite".split()


@pytest.mark.parametrize("name", FLOAT_OR_COMPLEX_ONLY + FLOAT_ONLY)
def test_integer_input_raises_naming_the_dtype(name):
    with pytest.raises(InvalidArgumentError, match="int32"):
        getattr(tf.math, name)(tf.constant([1, 2]))


@pytest.mark.parametrize("name", FLOAT_ONLY)
def test_complex_input_rejected_for_real_only_ops(name):
    with pytest.raises(InvalidArgumentError, match="complex128"):
        getattr(tf.math, name)(tf.constant([1 + 1j]))


@pytest.mark.parametrize("name", FLOAT_OR_COMPLEX_ONLY)
def test_complex_input_accepted(name):
    z = np.array([0.3 + 0.4j, -0.2 + 0.1j])
    out = getattr(tf.math, name)(tf.constant(z))
    assert out.dtype == tf.complex128


def test_integer_dtypes_where_tf_allows_them():
    x = tf.constant([-3, 0, 4], tf.int64)
    np.testing.assert_array_equal(tf.abs(x).numpy(), [3, 0, 4])
    assert tf.abs(x).dtype == tf.int64
    np.testing.assert_array_equal(tf.sign(x).numpy(), [-1, 0, 1])
    assert tf.square(tf.constant([3], tf.uint8)).numpy()[0] == 9
    with pytest.raises(InvalidArgumentError, match="uint8"):
        tf.abs(tf.constant([3], tf.uint8))
    with pytest.raises(InvalidArgumentError, match="bool"):
        tf.abs(tf.constant([True]))


def test_binary_ops_do_not_promote():
    with pytest.raises(InvalidArgumentError, match="float64"):
        tf.math.atan2(tf.constant([1.0]), tf.constant([1.0], tf.float64))
    with pytest.raises(InvalidArgumentError):
        tf.math.xlogy(tf.constant([1.0]), tf.constant([1.0], tf.float64))


def test_broadcast_error_names_shapes():
    with pytest.raises(InvalidArgumentError, match=r"\[2\] vs. \[3\]"):
        tf.math.atan2(tf.constant([1.0, 2.0]), tf.constant([1.0, 2.0, 3.0]))


def test_float16_is_supported_and_kept():
    x = tf.constant(np.array([0.5, 1.0], np.float16))
    for f in (tf.math.exp, tf.math.sigmoid, tf.math.erf, tf.math.lgamma, tf.math.softplus):
        assert f(x).dtype == tf.float16


# --------------------------------------------------------------------------------------
# Gradients (TF's conventions)
# --------------------------------------------------------------------------------------


def test_abs_gradient_is_sign_and_zero_at_zero():
    g = grad_of(tf.abs, np.array([-2.0, 0.0, 3.0]))
    np.testing.assert_array_equal(g.numpy(), [-1, 0, 1])


def test_sign_gradient_is_zero_and_rounding_gradients_are_none():
    x = np.array([-1.3, 0.7])
    np.testing.assert_array_equal(grad_of(tf.sign, x).numpy(), [0, 0])
    for f in (tf.math.floor, tf.math.ceil, tf.math.round, tf.math.rint):
        assert grad_of(f, x) is None
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y = f(xt)
        assert tape.gradient(y, xt, unconnected_gradients="zero").numpy().tolist() == [0, 0]


def test_first_derivatives_closed_form():
    x = np.array([0.3, -0.6, 0.8])
    p = np.array([0.4, 1.3, 2.5])
    checks = [
        (tf.sqrt, p, 0.5 / np.sqrt(p)),
        (tf.math.rsqrt, p, -0.5 * p**-1.5),
        (tf.sigmoid, x, np.exp(-x) / (1 + np.exp(-x)) ** 2),
        (tf.tanh, x, 1 - np.tanh(x) ** 2),
        (tf.math.softplus, x, 1 / (1 + np.exp(-x))),
        (tf.math.erf, x, 2 / math.sqrt(math.pi) * np.exp(-(x**2))),
        (tf.math.erfc, x, -2 / math.sqrt(math.pi) * np.exp(-(x**2))),
        (tf.math.reciprocal, p, -1 / p**2),
        (tf.math.log1p, x, 1 / (1 + x)),
        (tf.math.expm1, x, np.exp(x)),
        (tf.tan, x, 1 / np.cos(x) ** 2),
        (tf.acos, x, -1 / np.sqrt(1 - x**2)),
        (tf.atanh, x, 1 / (1 - x**2)),
        (tf.asinh, x, 1 / np.sqrt(1 + x**2)),
        (tf.acosh, p + 1, 1 / np.sqrt((p + 1) ** 2 - 1)),
    ]
    for f, v, ref in checks:
        np.testing.assert_allclose(grad_of(f, v).numpy(), ref, rtol=1e-10, err_msg=f.__name__)


def test_second_derivatives():
    x = np.array([0.3, -1.1, 2.0])
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(
        grad_of(tf.sigmoid, x, 2).numpy(), s * (1 - s) * (1 - 2 * s), rtol=1e-10
    )
    t = np.tanh(x)
    np.testing.assert_allclose(grad_of(tf.tanh, x, 2).numpy(), -2 * t * (1 - t**2), rtol=1e-10)
    p = np.array([0.5, 1.0, 4.0])
    np.testing.assert_allclose(grad_of(tf.sqrt, p, 2).numpy(), -0.25 * p**-1.5, rtol=1e-10)
    np.testing.assert_allclose(grad_of(tf.math.log, p, 3).numpy(), 2 / p**3, rtol=1e-10)


def test_lgamma_derivatives_are_digamma_then_trigamma(special_impl):
    x = np.array([1.0, 0.5, 2.0])
    d1 = grad_of(tf.math.lgamma, x).numpy()
    np.testing.assert_allclose(d1, [-EULER, -EULER - 2 * math.log(2), 1 - EULER], rtol=1e-12)
    d2 = grad_of(tf.math.lgamma, x, 2).numpy()
    np.testing.assert_allclose(d2, [math.pi**2 / 6, math.pi**2 / 2, math.pi**2 / 6 - 1], rtol=1e-10)
    d3 = grad_of(tf.math.digamma, np.array([1.0]), 2).numpy()  # polygamma(2, 1) = -2 zeta(3)
    np.testing.assert_allclose(d3, [-2 * ZETA3], rtol=1e-10)


def test_polygamma_gradient_wrt_order_is_none():
    a = tf.constant([1.0, 2.0])
    x = tf.constant([0.5, 1.5])
    with tf.GradientTape() as tape:
        tape.watch([a, x])
        y = tf.math.polygamma(a, x)
    ga, gx = tape.gradient(y, [a, x])
    assert ga is None
    np.testing.assert_allclose(gx.numpy(), tf.math.polygamma(a + 1.0, x).numpy())


def test_xlogy_gradient_at_zero_x_follows_tf():
    x = tf.constant([0.0, 2.0])
    y = tf.constant([0.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch([x, y])
        z = tf.math.xlogy(x, y)
    gx, gy = tape.gradient(z, [x, y])
    np.testing.assert_allclose(gx.numpy(), [0, math.log(3)], rtol=1e-6)
    np.testing.assert_allclose(gy.numpy(), [0, 2 / 3], rtol=1e-6)


@pytest.mark.parametrize(
    "f",
    [tf.math.real, tf.math.imag, tf.math.conj, tf.math.angle, tf.abs, tf.exp, tf.math.log, tf.sqrt,
     tf.sin, tf.tanh, tf.sigmoid, tf.math.reciprocal, tf.square, tf.math.rsqrt, tf.asin, tf.atan],
    ids=lambda f: f.__name__,
)  # fmt: skip
def test_complex_gradients_match_finite_differences(f):
    z = np.array([0.3 + 0.4j, -0.5 + 0.2j, 0.6 - 0.7j])
    assert_complex_grad_matches_finite_differences(f, z)


# --------------------------------------------------------------------------------------
# Special functions: both implementations against independent references
# --------------------------------------------------------------------------------------


def test_erf_erfc_match_math(special_impl):
    x = np.array([-6.0, -2.5, -1.0, -1e-3, 0.0, 0.3, 1.7, 4.0, 27.0])
    np.testing.assert_allclose(
        tf.math.erf(x).numpy(), [math.erf(v) for v in x], rtol=1e-14, atol=1e-300
    )
    np.testing.assert_allclose(
        tf.math.erfc(x).numpy(), [math.erfc(v) for v in x], rtol=1e-13, atol=1e-300
    )
    assert tf.math.erf(tf.constant([0.5], tf.float32)).dtype == tf.float32


def test_lgamma_matches_math(special_impl):
    got = tf.math.lgamma(_G).numpy()
    np.testing.assert_allclose(got, [math.lgamma(v) for v in _G], rtol=1e-13, atol=1e-14)
    assert tf.math.lgamma(np.array([1.0, 2.0])).numpy().tolist() == [0.0, 0.0]


def test_lgamma_poles_and_infinities(special_impl):
    out = tf.math.lgamma(np.array([0.0, -1.0, -7.0, np.inf, -np.inf, np.nan])).numpy()
    assert np.all(np.isposinf(out[:5])) and np.isnan(out[5])
    big = tf.math.lgamma(np.array([1e30])).numpy()[0]
    assert big == pytest.approx(1e30 * (math.log(1e30) - 1), rel=1e-12)


def test_digamma_matches_derivative_of_lgamma(special_impl):
    h = 1e-5
    ref = [(math.lgamma(v + h) - math.lgamma(v - h)) / (2 * h) for v in _G[:-1]]
    np.testing.assert_allclose(tf.math.digamma(_G[:-1]).numpy(), ref, rtol=1e-7, atol=1e-8)


def test_digamma_known_values_and_poles(special_impl):
    x = np.array([1.0, 0.5, 2.0, 1e-8, 1e8])
    ref = [-EULER, -EULER - 2 * math.log(2), 1 - EULER, -1e8 - EULER, math.log(1e8) - 0.5e-8]
    np.testing.assert_allclose(tf.math.digamma(x).numpy(), ref, rtol=1e-12)
    out = tf.math.digamma(np.array([0.0, -1.0, -3.0, -np.inf, np.inf])).numpy()
    assert np.all(np.isnan(out[:4])) and out[4] == np.inf


def test_polygamma_closed_forms(special_impl):
    a = np.array([0.0, 1.0, 1.0, 2.0, 3.0, 1.0])
    x = np.array([1.0, 1.0, 0.5, 1.0, 1.0, -0.5])
    ref = [-EULER, math.pi**2 / 6, math.pi**2 / 2, -2 * ZETA3, math.pi**4 / 15, math.pi**2 / 2 + 4]
    np.testing.assert_allclose(tf.math.polygamma(a, x).numpy(), ref, rtol=1e-11)


def test_polygamma_invalid_order_is_nan(special_impl):
    out = tf.math.polygamma(np.array([0.5, -1.0, np.nan]), np.array([1.0, 1.0, 1.0])).numpy()
    assert np.all(np.isnan(out))


def test_polygamma_matches_finite_differences_of_digamma(special_impl):
    x = np.array([0.7, 2.3, 9.5, 15.0])
    h = 1e-5
    fd = (tf.math.digamma(x + h).numpy() - tf.math.digamma(x - h).numpy()) / (2 * h)
    np.testing.assert_allclose(tf.math.polygamma(np.ones(4), x).numpy(), fd, rtol=1e-7)


def test_polygamma_requires_same_dtype():
    with pytest.raises(TypeError):
        tf.math.polygamma(1, 0.5)  # like TF: 0.5 cannot be converted to a's int32


def test_erfinv_inverts_erf(special_impl):
    x = np.array([-0.999999, -0.9, -0.5, -0.1, 0.0, 0.2, 0.5, 0.7, 0.99, 1 - 1e-12])
    y = tf.math.erfinv(x).numpy()
    np.testing.assert_allclose([math.erf(v) for v in y], x, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose([math.erfc(v) for v in y[-2:]], 1 - x[-2:], rtol=1e-9)
    edge = tf.math.erfinv(np.array([-1.0, 1.0, 1.5, np.nan])).numpy()
    assert edge[0] == -np.inf and edge[1] == np.inf and np.all(np.isnan(edge[2:]))


def test_ndtri_inverts_normal_cdf(special_impl):
    p = np.array([1e-300, 1e-20, 1e-3, 0.025, 0.3, 0.5, 0.7, 0.975, 1 - 1e-10])
    y = tf.math.ndtri(p).numpy()
    cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in y])
    np.testing.assert_allclose(cdf, p, rtol=1e-9)
    assert y[5] == 0 and y[7] == pytest.approx(1.959963984540054, rel=1e-14)
    edge = tf.math.ndtri(np.array([0.0, 1.0, -0.1, 1.1])).numpy()
    assert edge[0] == -np.inf and edge[1] == np.inf and np.all(np.isnan(edge[2:]))


@pytest.mark.filterwarnings(
    "ignore::RuntimeWarning"
)  # helpers called outside the kernels' errstate
def test_fallbacks_agree_with_scipy():
    sp = pytest.importorskip("scipy.special")
    x = np.linspace(-4.3, 6.1, 41)
    np.testing.assert_allclose(u._lgamma_np(np, x), sp.gammaln(x), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(u._digamma_np(np, x), sp.digamma(x), rtol=1e-11, atol=1e-12)
    q = np.linspace(0.05, 8, 17)
    for s in (2.0, 3.0, 5.0, 11.0):
        np.testing.assert_allclose(u._hurwitz_zeta_np(np, s, q), sp.zeta(s, q), rtol=1e-12)
    np.testing.assert_allclose(
        u._hurwitz_zeta_np(np, 2.0, np.array([-1.5, -0.5])), sp.zeta(2.0, [-1.5, -0.5]), rtol=1e-12
    )
    v = np.linspace(-0.9999, 0.9999, 31)
    np.testing.assert_allclose(u._erfinv_np(v), sp.erfinv(v), rtol=1e-12)
    pp = np.array([1e-200, 1e-8, 0.01, 0.4, 0.6, 0.99])
    np.testing.assert_allclose(u._ndtri_np(pp), sp.ndtri(pp), rtol=1e-12)


def _special_calls():
    tf.math.lgamma(np.array([0.0, -1.0, np.inf]))
    tf.math.digamma(np.array([0.0, -2.0]))
    tf.math.log(np.array([0.0, -1.0]))
    return tf.sqrt(np.array([-1.0]))


def test_special_functions_do_not_warn():
    # In a fresh interpreter, as a user runs it (pytest resets warning filters per test).
    import subprocess
    import sys

    code = (
        "import numpy as np, rill as tf\n"
        "tf.math.lgamma(np.array([0.0, -1.0, np.inf])); tf.math.digamma(np.array([0.0, -2.0]))\n"
        "tf.math.log(np.array([0.0, -1.0])); tf.sqrt(np.array([-1.0]))\n"
    )
    r = subprocess.run(
        [sys.executable, "-W", "default", "-c", code], capture_output=True, text=True
    )
    assert r.returncode == 0 and "Warning" not in r.stderr, r.stderr


def test_special_functions_work_under_warnings_as_errors():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # like `python -W error` / pytest -W error
        assert np.isnan(_special_calls().numpy()[0])
