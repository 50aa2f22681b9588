"""tf.math.special and the incomplete gamma / beta / zeta functions: values against SciPy
formulas and against TensorFlow itself, gradients against TensorFlow and finite
differences, TF's edge values, dtype errors, and the NumPy fallbacks without SciPy."""

from __future__ import annotations

import math

import numpy as np
import pytest

import rill
from rill.errors import InvalidArgumentError, UnimplementedError
from rill.ops import special_ops
from tests.gradcheck import assert_grad_matches_finite_differences

sp = pytest.importorskip("scipy.special")

UNARY = {
    "bessel_i0": sp.i0, "bessel_i0e": sp.i0e, "bessel_i1": sp.i1, "bessel_i1e": sp.i1e,
    "bessel_j0": sp.j0, "bessel_j1": sp.j1, "bessel_k0": sp.k0, "bessel_k0e": sp.k0e,
    "bessel_k1": sp.k1, "bessel_k1e": sp.k1e, "bessel_y0": sp.y0, "bessel_y1": sp.y1,
    "dawsn": sp.dawsn, "expint": sp.expi, "fresnel_cos": lambda x: sp.fresnel(x)[1],
    "fresnel_sin": lambda x: sp.fresnel(x)[0], "spence": sp.spence,
}  # fmt: skip
POSITIVE_ONLY = {"bessel_k0", "bessel_k0e", "bessel_k1", "bessel_k1e", "bessel_y0", "bessel_y1",
                 "expint", "spence"}  # fmt: skip
X_ALL = np.array([-3.7, -1.2, -0.3, 0.25, 0.9, 1.0, 2.4, 7.5, 31.0])
X_POS = np.array([0.05, 0.25, 0.9, 1.0, 2.4, 7.5, 31.0])


def _tf():
    return pytest.importorskip("tensorflow")


@pytest.mark.parametrize("name", sorted(UNARY))
def test_values_match_scipy_in_float64(name):
    x = X_POS if name in POSITIVE_ONLY else X_ALL
    got = getattr(rill.math.special, name)(rill.constant(x)).numpy()
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, UNARY[name](x), rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_values_and_gradients_match_tensorflow(name):
    tf = _tf()
    x = np.array([-2.1, -0.6, 0.0, 0.3, 1.0, 1.7, 4.2], np.float32)
    xr, xt = rill.constant(x), tf.constant(x)
    with rill.GradientTape() as tape:
        tape.watch(xr)
        y = getattr(rill.math.special, name)(xr)
    g = tape.gradient(y, xr)
    with tf.GradientTape() as ttape:
        ttape.watch(xt)
        yt = getattr(tf.math.special, name)(xt)
    gt = ttape.gradient(yt, xt)
    assert y.dtype == rill.float32
    np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(g.numpy(), gt.numpy(), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["bessel_i0", "bessel_i0e", "bessel_i1", "bessel_i1e"])
def test_bessel_i_also_in_tf_math(name):
    assert getattr(rill.math, name) is getattr(rill.math.special, name)


def test_edge_values_follow_tensorflow_conventions():
    x = rill.constant([-1.0, 0.0])
    s = rill.math.special
    # K diverges to +inf left of 0, Y to -inf; Y1 is nan at 0 (SciPy: nan / -inf)
    np.testing.assert_array_equal(s.bessel_k0(x).numpy(), [np.inf, np.inf])
    np.testing.assert_array_equal(s.bessel_k1e(x).numpy(), [np.inf, np.inf])
    np.testing.assert_array_equal(s.bessel_y0(x).numpy(), [-np.inf, -np.inf])
    assert np.isneginf(s.bessel_y1(x).numpy()[0]) and np.isnan(s.bessel_y1(x).numpy()[1])
    ei = s.expint(x).numpy()
    assert np.isnan(ei[0]) and np.isneginf(ei[1])  # Ei only on x >= 0
    assert np.isnan(s.spence(-1.0).numpy())


def test_gradient_limits_at_zero_and_one():
    s = rill.math.special
    x = rill.constant([0.0, 1.0])
    with rill.GradientTape(persistent=True) as tape:
        tape.watch(x)
        i1, i1e, j1, sp_ = s.bessel_i1(x), s.bessel_i1e(x), s.bessel_j1(x), s.spence(x)
    # I1(x)/x and J1(x)/x tend to 1/2; Spence'(1) = lim log(x)/(1 - x) = -1. TF's
    # gradient of I1 at 0 is 1 instead of I1'(0) = 1/2; rill follows TF
    assert tape.gradient(i1, x).numpy()[0] == 1.0
    assert tape.gradient(i1e, x).numpy()[0] == 0.5
    assert tape.gradient(j1, x).numpy()[0] == 0.5
    assert tape.gradient(sp_, x).numpy()[1] == -1.0


def test_gradients_match_finite_differences():
    x = np.array([0.4, 1.3, 2.9])
    for f in (rill.math.special.bessel_k1e, rill.math.special.fresnel_sin):
        assert_grad_matches_finite_differences(lambda t, f=f: rill.reduce_sum(f(t)), x)


def test_dtypes():
    s = rill.math.special
    assert s.bessel_j0(np.float16([1.0])).dtype == rill.float16
    with pytest.raises(InvalidArgumentError, match="BesselJ0"):
        s.bessel_j0(rill.constant([1, 2]))
    with pytest.raises(InvalidArgumentError, match="Dawsn"):  # no half kernel in TF either
        s.dawsn(np.float16([1.0]))
    with pytest.raises(InvalidArgumentError, match="Igamma"):
        rill.math.igamma(np.float16(1.0), np.float16(1.0))


def test_without_scipy_i0_falls_back_and_others_name_the_extra(monkeypatch):
    monkeypatch.setattr(special_ops, "_use_scipy", False)
    x = np.array([-45.0, -31.0, -3.0, 0.0, 0.5, 12.0, 29.9, 30.0, 80.0, 700.0])
    np.testing.assert_allclose(rill.math.bessel_i0e(x).numpy(), sp.i0e(x), rtol=1e-14)
    np.testing.assert_allclose(rill.math.bessel_i0(x[:-1]).numpy(), sp.i0(x[:-1]), rtol=1e-14)
    for exc in (ImportError, UnimplementedError):
        with pytest.raises(exc, match=r"rill\[scipy\]"):
            rill.math.special.bessel_j0(1.0)
    with pytest.raises(ImportError, match=r"rill\[scipy\]"):
        rill.math.igamma(1.0, 1.0)


# ------------------------------------------------------------------ igamma, betainc, zeta


def _regularized_lower_gamma(a, x, terms=400):
    """P(a, x) by its power series x^a e^-x sum x^n / Gamma(a + n + 1) (in log space)."""
    out = []
    for ai, xi in zip(a, x):
        total = sum(math.exp(n * math.log(xi) - math.lgamma(ai + n + 1)) for n in range(terms))
        out.append(math.exp(ai * math.log(xi) - xi) * total)
    return np.array(out)


def test_igamma_igammac_values():
    a = np.array([0.5, 1.0, 2.0, 3.5, 10.0])
    x = np.array([0.3, 1.0, 2.5, 0.7, 12.0])
    p = rill.math.igamma(a, x).numpy()
    np.testing.assert_allclose(p, _regularized_lower_gamma(a, x), rtol=1e-12)
    np.testing.assert_allclose(rill.math.igammac(a, x).numpy(), 1 - p, rtol=1e-12)
    # P(1, x) = 1 - e^-x in closed form
    np.testing.assert_allclose(rill.math.igamma(1.0, [0.5, 2.0]).numpy(), 1 - np.exp([-0.5, -2.0]))


def test_igamma_domain_and_gradients_match_tensorflow():
    tf = _tf()
    a = np.array([0.5, 1.0, 2.0, 3.0, -1.0, 1.0, 0.0], np.float32)
    x = np.array([0.3, 1.0, 2.5, 0.0, 1.0, -1.0, 1.0], np.float32)
    for fn in ("igamma", "igammac"):
        ar, xr = rill.constant(a), rill.constant(x)
        at, xt = tf.constant(a), tf.constant(x)
        with rill.GradientTape(persistent=True) as t1:
            t1.watch([ar, xr])
            y = getattr(rill.math, fn)(ar, xr)
        with tf.GradientTape(persistent=True) as t2:
            t2.watch([at, xt])
            yt = getattr(tf.math, fn)(at, xt)
        np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-6, equal_nan=True)
        for g, gt in zip(t1.gradient(y, [ar, xr]), t2.gradient(yt, [at, xt])):
            np.testing.assert_allclose(g.numpy()[:4], gt.numpy()[:4], rtol=1e-4, atol=1e-6)


def test_igamma_gradient_in_a_matches_finite_differences():
    a, x = np.array([0.7, 2.0, 5.0]), np.array([1.1, 0.4, 6.0])
    assert_grad_matches_finite_differences(
        lambda s, t: rill.reduce_sum(rill.math.igamma(s, t)), a, x, rtol=1e-6
    )


def test_betainc_values_and_gradient():
    tf = _tf()
    a = np.array([1.0, 2.0, 0.5, 3.0], np.float32)
    b = np.array([1.0, 2.0, 1.5, 1.0], np.float32)
    x = np.array([0.2, 0.5, 0.9, 0.3], np.float32)
    # closed forms: I_x(1, 1) = x; I_x(2, 2) = 3x^2 - 2x^3; I_x(a, 1) = x^a
    want = [0.2, 3 * 0.25 - 2 * 0.125, None, 0.3**3]
    got = rill.math.betainc(a, b, x).numpy()
    for g, w in zip(got, want):
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=1e-6)
    np.testing.assert_allclose(got, tf.math.betainc(a, b, x).numpy(), rtol=1e-6)
    ar, br, xr = (rill.constant(v) for v in (a, b, x))
    with rill.GradientTape() as tape:
        tape.watch([ar, br, xr])
        y = rill.math.betainc(ar, br, xr)
    ga, gb, gx = tape.gradient(y, [ar, br, xr])
    assert ga is None and gb is None  # TF differentiates betainc in x only
    at, bt, xt = (tf.constant(v) for v in (a, b, x))
    with tf.GradientTape() as ttape:
        ttape.watch(xt)
        yt = tf.math.betainc(at, bt, xt)
    np.testing.assert_allclose(gx.numpy(), ttape.gradient(yt, xt).numpy(), rtol=1e-5)


def test_zeta_values_edges_and_gradient():
    tf = _tf()
    # zeta(2, 1) = pi^2 / 6, zeta(4, 1) = pi^4 / 90, zeta(2, 2) = pi^2 / 6 - 1
    np.testing.assert_allclose(
        rill.math.zeta([2.0, 4.0, 2.0], [1.0, 1.0, 2.0]).numpy(),
        [math.pi**2 / 6, math.pi**4 / 90, math.pi**2 / 6 - 1],
        rtol=1e-6,
    )
    x = np.array([1.0, 0.5, 2.0, 2.0, 3.0, 3.0, 2.5, 2.0], np.float32)
    q = np.array([1.0, 1.0, -1.0, 0.0, 0.0, -1.5, -1.5, 2.5], np.float32)
    np.testing.assert_allclose(
        rill.math.zeta(x, q).numpy(), tf.math.zeta(x, q).numpy(), rtol=1e-5, equal_nan=True
    )
    xr, qr = rill.constant([2.0, 3.5]), rill.constant([0.5, 2.0])
    with rill.GradientTape() as tape:
        tape.watch([xr, qr])
        y = rill.math.zeta(xr, qr)
    gx, gq = tape.gradient(y, [xr, qr])
    assert gx is None
    # d/dq sum (q + n)^-x = -x zeta(x + 1, q)
    np.testing.assert_allclose(
        gq.numpy(), -np.array([2.0, 3.5]) * sp.zeta([3.0, 4.5], [0.5, 2.0]), rtol=1e-5
    )


def test_lbeta_and_erfcinv():
    tf = _tf()
    z = np.array([[1.0, 2.0], [0.5, 3.0], [2.0, 2.0]])
    want = [sum(math.lgamma(v) for v in r) - math.lgamma(sum(r)) for r in z]
    np.testing.assert_allclose(rill.math.lbeta(z).numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(rill.math.lbeta(np.zeros((2, 0))).numpy(), [-np.inf, -np.inf])
    zr = rill.constant(z.astype(np.float32))
    zt = tf.constant(z.astype(np.float32))
    with rill.GradientTape() as t1:
        t1.watch(zr)
        y = rill.math.lbeta(zr)
    with tf.GradientTape() as t2:
        t2.watch(zt)
        yt = tf.math.lbeta(zt)
    np.testing.assert_allclose(t1.gradient(y, zr).numpy(), t2.gradient(yt, zt).numpy(), rtol=1e-5)

    q = np.array([0.2, 0.5, 0.9, 1.0, 1.6])
    np.testing.assert_allclose(rill.math.erfcinv(q).numpy(), sp.erfcinv(q), rtol=1e-12, atol=1e-15)
    qf = q.astype(np.float32)
    np.testing.assert_allclose(
        rill.math.erfcinv(qf).numpy(), tf.math.erfcinv(qf).numpy(), rtol=1e-6, atol=1e-7
    )
