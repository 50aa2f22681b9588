"""Special functions on XLA (rill/ops/lowering_special.py): erf, erfc, erfinv, ndtri,
polygamma, the Bessel functions, Dawson, Ei, Fresnel, Spence, the incomplete gamma and
beta functions and Hurwitz zeta, compiled on traced arguments, against the executor (the
SciPy kernels) over their whole domains, edges (0, poles, +-inf, nan) included; their
gradients taken inside the compiled function; and a GELU model trained with XLA."""

from __future__ import annotations

import math

import numpy as np
import pytest

import rill as tf

pytest.importorskip("jax")
pytest.importorskip("scipy.special")  # the executor's kernels, the reference here

# the executor (NumPy, the reference) warns at the overflowing edges it is asked about
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

inf, nan = math.inf, math.nan
special = tf.math.special

_EDGES = [-inf, inf, nan, 0.0, -0.0]
_SIGNED = [-1e10, -800.0, -90.0, -30.0, -7.3, -2.0, -1.2, -0.2, -1e-30, 1e-30, 1e-8]
_SIGNED += [0.3, 1.0, 1.999, 2.0, 2.001, 3.7, 11.0, 25.0, 60.0, 88.5, 92.0, 700.0, 1e4, 1e10]
_POSITIVE = [-1.0, 1e-30, 1e-8, 0.01, 0.5, 1.0, 1.999, 2.0, 2.001, 4.5, 17.0, 50.0, 88.0]
_POSITIVE += [104.0, 300.0, 700.0, 746.0, 800.0, 1e4, 1e10]
# SciPy's J and Y (the executor's) lose the phase's digits for huge x (3e-6 relative at
# 1e10, where the lowering agrees with the asymptotic form to the last digit)
_SIGNED_JY = [v for v in _SIGNED if abs(v) < 1e5]
_POSITIVE_JY = [v for v in _POSITIVE if v < 1e5]

# name: (function, points, gradient points); the points are float64 values, the
# float32 cases round them (1e-300 to 0, beyond 3.4e38 to inf)
UNARY = {
    "erf": (tf.math.erf, [-30, -5.5, -2.5, -1, -0.3, 0.3, 1, 2.5, 5.5, 9, 30], [-1.7, 0.4, 2]),
    "erfc": (tf.math.erfc, [-30, -5, -1, -0.3, 0.3, 1, 2.5, 5.5, 9, 26, 27, 30], [-1.7, 0.4, 2]),
    "erfinv": (
        tf.math.erfinv,
        [-1.5, -1, -0.9999999, -0.9, -0.5, -1e-20, 0.3, 0.99, 0.9999, 1, 1.1],
        [-0.7, 0.1, 0.9],
    ),
    "ndtri": (
        tf.math.ndtri,
        [-0.1, 1e-300, 1e-30, 1e-10, 0.02, 0.3, 0.5, 0.7, 0.999, 1 - 1e-12, 1, 1.1],
        [0.1, 0.5, 0.93],
    ),
    "bessel_i0": (special.bessel_i0, _SIGNED, [-1.7, 0.4, 3]),
    "bessel_i0e": (special.bessel_i0e, _SIGNED, [-1.7, 0.4, 3]),
    "bessel_i1": (special.bessel_i1, _SIGNED, [-1.7, 0.4, 3]),
    "bessel_i1e": (special.bessel_i1e, _SIGNED, [-1.7, 0.4, 3]),
    "bessel_j0": (special.bessel_j0, _SIGNED_JY, [-1.7, 0.4, 3, 40]),
    "bessel_j1": (special.bessel_j1, _SIGNED_JY, [-1.7, 0.4, 3, 40]),
    "bessel_y0": (special.bessel_y0, _POSITIVE_JY, [0.4, 1.7, 3, 40]),
    "bessel_y1": (special.bessel_y1, _POSITIVE_JY, [0.4, 1.7, 3, 40]),
    "bessel_k0": (special.bessel_k0, _POSITIVE, [0.4, 1.7, 3, 40]),
    "bessel_k0e": (special.bessel_k0e, _POSITIVE, [0.4, 1.7, 3, 40]),
    "bessel_k1": (special.bessel_k1, _POSITIVE, [0.4, 1.7, 3, 40]),
    "bessel_k1e": (special.bessel_k1e, _POSITIVE, [0.4, 1.7, 3, 40]),
    "dawsn": (special.dawsn, _SIGNED, [-1.7, 0.4, 3, 40]),
    "expint": (special.expint, _POSITIVE + [80, 90, 710], [0.4, 1.7, 3, 40]),
    "fresnel_cos": (special.fresnel_cos, _SIGNED + [2e5, 1e200], [-1.7, 0.4, 3, 40]),
    "fresnel_sin": (special.fresnel_sin, _SIGNED + [2e5, 1e200], [-1.7, 0.4, 3, 40]),
    "spence": (special.spence, [-1, 1e-30, 0.01, 0.5, 1, 1.5, 2, 10, 1e3, 1e10], [0.4, 1, 3]),
}


def _grid(*axes):
    """Every combination of the axes' values, as flat float64 arrays."""
    return [g.reshape(-1) for g in np.meshgrid(*[np.asarray(a, np.float64) for a in axes])]


_A = [-1, 0, 1e-20, 0.05, 0.5, 1, 2.5, 10, 100, 1e3, 1e4, 2e5, 1e6, inf, nan]
_X = [-1, 0, 1e-20, 0.01, 0.5, 1, 2.5, 9, 11, 100, 1e3, 1e4, 2e5, 1e6, inf, nan]
_S = [-2, 0, 0.5, 1, 1 + 1e-6, 1.5, 2, 3, 7.5, 60, 1e14, inf, nan]
_Q = [-4.5, -2, -1.5, -0.3, 0, 1e-10, 0.2, 1, 2.5, 10, 1e3, 1e9, inf, -inf, nan]
_N = [-1, 0, 0.5, 1, 2, 3, 7, 20, nan]
_XP = [-4.5, -1.5, -1, -0.3, 0, 1e-10, 0.2, 1, 2.5, 10, 1e3, 1e8, inf, -inf, nan]
_B = [-1, 0, 1e-5, 0.1, 1, 5, 300, 1e4, inf]
_XB = [-0.1, 0, 1e-10, 0.1, 0.5, 0.9, 1 - 1e-10, 1, 1.1, nan]

# name: (function, points per argument, gradient points, which arguments have gradients)
NARY = {
    "igamma": (tf.math.igamma, _grid(_A, _X), _grid([0.3, 1, 7, 30], [0.1, 1, 10, 40]), (0, 1)),
    "igammac": (tf.math.igammac, _grid(_A, _X), _grid([0.3, 1, 7, 30], [0.1, 1, 10, 40]), (0, 1)),
    "betainc": (
        tf.math.betainc,
        _grid(_B, _B, _XB),
        _grid([0.5, 2], [0.7, 3], [0.2, 0.6]),
        (2,),
    ),
    "zeta": (tf.math.zeta, _grid(_S, _Q), _grid([1.5, 3], [-1.5, 0.3, 2, 20]), (1,)),
    "polygamma": (tf.math.polygamma, _grid(_N, _XP), _grid([0, 1, 3], [-1.5, 0.3, 4]), (1,)),
}


def _tolerances(dtype):
    return dict(rtol=2e-5, atol=1e-7) if dtype == tf.float32 else dict(rtol=1e-6, atol=1e-12)


def _pair(fn, wrt):
    """(values at ``xs``, gradients at ``gs`` in the arguments ``wrt``)."""

    def f(xs, gs):
        y = fn(*xs)
        with tf.GradientTape() as tape:
            for g in gs:
                tape.watch(g)
            z = fn(*gs)
        return y, tape.gradient(z, [gs[i] for i in wrt])

    return f


def _compare(fn, points, grad_points, wrt, dtype):
    with np.errstate(over="ignore"):
        xs = [tf.constant(np.asarray(p, np.float64).astype(dtype.as_numpy_dtype)) for p in points]
    gs = [tf.constant(np.asarray(p, dtype.as_numpy_dtype)) for p in grad_points]
    f = _pair(fn, wrt)
    y0, g0 = f(xs, gs)
    y1, g1 = tf.function(f, jit_compile=True)(xs, gs)
    assert y1.dtype == y0.dtype == dtype
    tol = _tolerances(dtype)
    np.testing.assert_allclose(y1.numpy(), y0.numpy(), **tol)
    for a, b in zip(g1, g0):
        assert a.dtype == dtype
        np.testing.assert_allclose(a.numpy(), b.numpy(), **tol)


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_the_executor(name, dtype):
    fn, points, grad_points = UNARY[name]
    _compare(fn, [points + _EDGES], [grad_points], (0,), dtype)


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", sorted(NARY))
def test_nary_matches_the_executor(name, dtype):
    fn, points, grad_points, wrt = NARY[name]
    _compare(fn, points, grad_points, wrt, dtype)


@pytest.mark.parametrize(
    "fn, dtype",
    [(f, d) for f in (tf.math.erf, tf.math.erfc, tf.math.erfinv) for d in (tf.float16, tf.bfloat16)]
    + [(special.bessel_i1e, tf.float16), (special.bessel_k0, tf.float16)],  # no bfloat16
)
def test_half_precision_keeps_its_dtype(fn, dtype):
    x = tf.cast(tf.constant([-3.0, -0.5, 0.0, 0.25, 0.875, 1.5, 4.0]), dtype)
    got = tf.function(fn, jit_compile=True)(x)
    want = fn(x)
    assert got.dtype == want.dtype == dtype
    np.testing.assert_allclose(
        tf.cast(got, tf.float32).numpy(), tf.cast(want, tf.float32).numpy(), rtol=1e-2
    )


def test_igamma_for_huge_a_ends_and_is_normal():
    """P(a, a + k sqrt(a)) = Phi(k) - (k^2 - 1) phi(k) / (3 sqrt(a)) + O(1/a) (Edgeworth;
    SciPy, the executor, is off by up to 3e-7 here). JAX's own series would take ~sqrt(a)
    steps, forever once a + 1 == a; the lowering switches to Temme's expansion."""
    for a in (1e8, 1e20, 1e30, 1e300):
        av = np.full(5, a)
        x = av + np.array([-5.0, -1.0, 0.0, 0.5, 3.0]) * math.sqrt(a)
        k = (x - av) / math.sqrt(a)  # as rounded
        p = tf.function(tf.math.igamma, jit_compile=True)(tf.constant(av), tf.constant(x))
        q = tf.function(tf.math.igammac, jit_compile=True)(tf.constant(av), tf.constant(x))
        p, q = p.numpy(), q.numpy()
        cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in k])
        pdf = np.exp(-0.5 * k * k) / math.sqrt(2 * math.pi)
        want = cdf - (k * k - 1) * pdf / (3 * math.sqrt(a))
        np.testing.assert_allclose(p, want, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(q, 1 - want, rtol=1e-6, atol=1e-8)


def test_igamma_gradient_in_a_for_large_a():
    """IgammaGradA past a = 1e5 (the derivative of Temme's expansion) against a
    five-point difference of the executor's igamma."""
    a = tf.constant(np.full(5, 2e5))
    x = tf.constant(2e5 + math.sqrt(2e5) * np.array([-3.0, -1.0, 0.0, 0.5, 2.0]))

    def grad(a, x):
        with tf.GradientTape() as tape:
            tape.watch(a)
            p = tf.math.igamma(a, x)
        return tape.gradient(p, a)

    got = tf.function(grad, jit_compile=True)(a, x).numpy()
    h = 0.01 * math.sqrt(2e5)
    p = [tf.math.igamma(a + s * h, x).numpy() for s in (-2, -1, 1, 2)]
    want = (p[0] - 8 * p[1] + 8 * p[2] - p[3]) / (12 * h)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)


# --------------------------------------------------------------------------------------
# GELU (erf) in Keras
# --------------------------------------------------------------------------------------


def _gelu_losses(activation, jit):
    keras = tf.keras
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(16, activation=activation), keras.layers.Dense(1)]
    )
    model.compile(keras.optimizers.Adam(0.01), "mse", jit_compile=jit)
    assert model.jit_compile is jit
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 8)).astype(np.float32)
    y = rng.standard_normal((32, 1)).astype(np.float32)
    return [float(model.train_on_batch(x, y)) for _ in range(3)]


@pytest.mark.parametrize(
    "activation",
    ["gelu", lambda v: tf.keras.activations.gelu(v, approximate=False)],
    ids=["gelu", "exact_gelu"],
)
def test_keras_gelu_trains_under_xla_as_on_the_executor(activation):
    want = _gelu_losses(activation, False)
    got = _gelu_losses(activation, True)
    np.testing.assert_allclose(got, want, rtol=1e-4)
    assert want[2] < want[0]


def test_exact_gelu_and_its_gradient_compile():
    x = tf.constant(np.linspace(-6, 6, 25, dtype=np.float32))

    def f(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.keras.activations.gelu(x, approximate=False)
        return y, tape.gradient(y, x)

    (y0, g0), (y1, g1) = f(x), tf.function(f, jit_compile=True)(x)
    # XLA's float32 erf and the kernel's (float64, rounded) may differ by an ulp, which
    # 1 + erf(x) magnifies in the far left tail: absolute 1e-6
    np.testing.assert_allclose(y1.numpy(), y0.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(g1.numpy(), g0.numpy(), rtol=1e-6, atol=1e-6)
