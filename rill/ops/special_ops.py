"""Special functions: Bessel, Dawson, exponential integral, Fresnel, Spence, the incomplete
gamma and beta functions and Hurwitz zeta (``tf.math`` and ``tf.math.special``).

Kernels evaluate ``scipy.special`` in float64 on host arrays and cast back. SciPy is the
optional extra ``rill[scipy]``, imported on first use; without it the functions with a
short accurate NumPy form (``bessel_i0``, ``bessel_i0e``) fall back to it and the others
raise ``MissingExtraError`` (both an ``ImportError`` and TF's ``UnimplementedError``).
SciPy's values at the edges (negative arguments, poles) are remapped to TF's.

Gradients are TF's: closed forms from the recurrences, and for the incomplete gamma in its
first argument a dedicated primitive (``IgammaGradA``) as in TF.
"""

from __future__ import annotations

import math

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import UnimplementedError
from rill.ops import lowering_special as _lowering
from rill.ops._op import (
    binary_args,
    bind,
    broadcast_rule,
    op_error,
    primitive,
    tf_export,
    unary_rule,
    unbroadcast,
)
from rill.ops.array_ops import where_v2
from rill.ops.math_ops import add, equal, multiply, negative, realdiv, subtract
from rill.ops.unary_ops import _arg, cos, exp, lgamma, log, sign, sin, square
from rill.ops.unary_ops import _const_like as _const

_BESSEL_DTYPES = frozenset({_d.float16, _d.float32, _d.float64})
_F32_F64 = frozenset({_d.float32, _d.float64})


class MissingExtraError(UnimplementedError, ImportError):
    """An op needs an optional dependency that is not installed (names the extra)."""


_use_scipy = True  # tests switch this off to exercise the NumPy fallbacks


def _scipy_special(op: str):
    """``scipy.special``, or None when SciPy is disabled or missing."""
    if not _use_scipy:
        return None
    try:
        import scipy.special as sp  # optional dependency: imported on first use
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return sp


def _require_scipy(op: str):
    sp = _scipy_special(op)
    if sp is None:
        raise op_error(
            MissingExtraError,
            op,
            'this special function needs SciPy; install it with pip install "rill[scipy]"',
        )
    return sp


def _host_f64(op, fn):
    """Host kernel: ``fn(scipy_special_or_None, *float64_arrays)``, cast back to the dtype
    of input 0 (so float16/float32 are computed in double and rounded once)."""

    def kernel(*xs):
        dt = xs[0].dtype
        with np.errstate(all="ignore"):
            out = fn(_scipy_special(op), *[np.asarray(x, np.float64) for x in xs])
        return np.asarray(out, dtype=dt)

    kernel.__name__ = f"_{op.lower()}_kernel"
    return kernel


def _scipy_only(op, name, fix=None):
    """Kernel body calling ``scipy.special.<name>``, then ``fix(x, out)`` for TF's edges."""

    def fn(sp, x):
        if sp is None:
            _require_scipy(op)
        out = getattr(sp, name)(x)
        return out if fix is None else fix(x, out)

    return fn


# --------------------------------------------------------------------------------------
# NumPy fallbacks (only where a short accurate form exists)
# --------------------------------------------------------------------------------------

# Asymptotic series of I0(x) e^-x sqrt(2 pi x) in 1/x: coefficient k is
# prod_{j<k} (2j+1)^2 / (k! 8^k); 12 terms give double precision for x >= 30.
_I0E_ASYMPTOTIC = [1.0]
for _k in range(1, 12):
    _I0E_ASYMPTOTIC.append(_I0E_ASYMPTOTIC[-1] * (2 * _k - 1) ** 2 / (8.0 * _k))


def _i0e_np(x):
    ax = np.abs(x)
    big = ax >= 30.0
    small = np.i0(np.where(big, 0.0, ax)) * np.exp(-np.where(big, 0.0, ax))
    t = 1.0 / np.where(big, ax, 30.0)
    series = np.zeros_like(t)
    for c in reversed(_I0E_ASYMPTOTIC):
        series = series * t + c
    large = series / np.sqrt(2.0 * math.pi * np.where(big, ax, 30.0))
    return np.where(big, large, small)


def _i0_fn(sp, x):
    return sp.i0(x) if sp is not None else np.i0(x)


def _i0e_fn(sp, x):
    return sp.i0e(x) if sp is not None else _i0e_np(x)


# TF's values outside SciPy's domain: K is +inf for x < 0 and Y is -inf (SciPy: nan); Y1 is
# nan at 0 (SciPy: -inf).
def _k_fix(x, out):
    return np.where(x < 0, np.inf, out)


def _y0_fix(x, out):
    return np.where(x < 0, -np.inf, out)


def _y1_fix(x, out):
    return np.where(x < 0, -np.inf, np.where(x == 0, np.nan, out))


def _expint_fix(x, out):
    return np.where(x < 0, np.nan, out)  # TF defines Ei on x >= 0 only


def _fresnel(which):
    def fn(sp, x):
        if sp is None:
            _require_scipy(f"Fresnel{which.capitalize()}")
        s, c = sp.fresnel(x)
        return s if which == "sin" else c

    return fn


def _unary_p(op, fn, grad, dtypes, lowering):
    return primitive(
        op, _host_f64(op, fn), unary_rule, grad, dtypes=dtypes, host=True, lowering=lowering
    )


def _safe_recip(x):
    """(1 / x with x == 0 replaced by 1, mask x == 0) for the 0/0 limits of the gradients."""
    zero = equal(x, _const(0, x))
    return realdiv(_const(1, x), where_v2(zero, _const(1, x), x)), zero


# --------------------------------------------------------------------------------------
# Gradients (TF's closed forms)
# --------------------------------------------------------------------------------------


def _i0_grad(inputs, out, dy):
    return (multiply(dy, bessel_i1(inputs[0])),)


def _i0e_grad(inputs, out, dy):
    x = inputs[0]
    return (multiply(dy, subtract(bessel_i1e(x), multiply(sign(x), out))),)


def _i1_grad(inputs, out, dy):
    x = inputs[0]
    inv, zero = _safe_recip(x)
    d = subtract(bessel_i0(x), multiply(out, inv))
    # TF defines I1'(0) as 1 (the true limit is 1/2); rill matches TF's gradient
    return (multiply(dy, where_v2(zero, _const(1.0, x), d)),)


def _i1e_grad(inputs, out, dy):
    x = inputs[0]
    inv, zero = _safe_recip(x)
    d = subtract(bessel_i0e(x), multiply(out, add(sign(x), inv)))
    return (multiply(dy, where_v2(zero, _const(0.5, x), d)),)


def _j0_grad(inputs, out, dy):
    return (multiply(dy, negative(bessel_j1(inputs[0]))),)


def _j1_grad(inputs, out, dy):
    x = inputs[0]
    inv, zero = _safe_recip(x)  # J1(x) / x -> 1/2 at 0
    d = subtract(bessel_j0(x), multiply(out, inv))
    return (multiply(dy, where_v2(zero, _const(0.5, x), d)),)


def _k0_grad(inputs, out, dy):
    return (multiply(dy, negative(bessel_k1(inputs[0]))),)


def _k0e_grad(inputs, out, dy):
    return (multiply(dy, subtract(out, bessel_k1e(inputs[0]))),)


def _k1_grad(inputs, out, dy):
    x = inputs[0]
    d = subtract(negative(bessel_k0(x)), realdiv(out, x))
    return (multiply(dy, d),)


def _k1e_grad(inputs, out, dy):
    x = inputs[0]
    d = subtract(multiply(out, subtract(_const(1, x), realdiv(_const(1, x), x))), bessel_k0e(x))
    return (multiply(dy, d),)


def _y0_grad(inputs, out, dy):
    return (multiply(dy, negative(bessel_y1(inputs[0]))),)


def _y1_grad(inputs, out, dy):
    x = inputs[0]
    return (multiply(dy, subtract(bessel_y0(x), realdiv(out, x))),)


def _dawsn_grad(inputs, out, dy):
    x = inputs[0]
    return (multiply(dy, subtract(_const(1, x), multiply(_const(2, x), multiply(x, out)))),)


def _expint_grad(inputs, out, dy):
    x = inputs[0]
    return (multiply(dy, realdiv(exp(x), x)),)


def _half_pi_x2(x):
    return multiply(_const(math.pi / 2, x), square(x))


def _fresnel_cos_grad(inputs, out, dy):
    return (multiply(dy, cos(_half_pi_x2(inputs[0]))),)


def _fresnel_sin_grad(inputs, out, dy):
    return (multiply(dy, sin(_half_pi_x2(inputs[0]))),)


def _spence_grad(inputs, out, dy):
    x = inputs[0]
    one = equal(x, _const(1, x))  # log(x) / (1 - x) -> -1 at x = 1
    d = realdiv(log(x), subtract(_const(1, x), x))
    return (multiply(dy, where_v2(one, _const(-1, x), d)),)


# --------------------------------------------------------------------------------------
# Unary primitives
# --------------------------------------------------------------------------------------

bessel_i0_p = _unary_p("BesselI0", _i0_fn, _i0_grad, _BESSEL_DTYPES, _lowering.bessel_i0)
bessel_i0e_p = _unary_p("BesselI0e", _i0e_fn, _i0e_grad, _BESSEL_DTYPES, _lowering.bessel_i0e)
bessel_i1_p = _unary_p(
    "BesselI1", _scipy_only("BesselI1", "i1"), _i1_grad, _BESSEL_DTYPES, _lowering.bessel_i1
)
bessel_i1e_p = _unary_p(
    "BesselI1e", _scipy_only("BesselI1e", "i1e"), _i1e_grad, _BESSEL_DTYPES, _lowering.bessel_i1e
)
bessel_j0_p = _unary_p(
    "BesselJ0", _scipy_only("BesselJ0", "j0"), _j0_grad, _BESSEL_DTYPES, _lowering.bessel_j0
)
bessel_j1_p = _unary_p(
    "BesselJ1", _scipy_only("BesselJ1", "j1"), _j1_grad, _BESSEL_DTYPES, _lowering.bessel_j1
)
bessel_k0_p = _unary_p(
    "BesselK0", _scipy_only("BesselK0", "k0", _k_fix), _k0_grad, _BESSEL_DTYPES, _lowering.bessel_k0
)
bessel_k0e_p = _unary_p(
    "BesselK0e",
    _scipy_only("BesselK0e", "k0e", _k_fix),
    _k0e_grad,
    _BESSEL_DTYPES,
    _lowering.bessel_k0e,
)
bessel_k1_p = _unary_p(
    "BesselK1", _scipy_only("BesselK1", "k1", _k_fix), _k1_grad, _BESSEL_DTYPES, _lowering.bessel_k1
)
bessel_k1e_p = _unary_p(
    "BesselK1e",
    _scipy_only("BesselK1e", "k1e", _k_fix),
    _k1e_grad,
    _BESSEL_DTYPES,
    _lowering.bessel_k1e,
)
bessel_y0_p = _unary_p(
    "BesselY0",
    _scipy_only("BesselY0", "y0", _y0_fix),
    _y0_grad,
    _BESSEL_DTYPES,
    _lowering.bessel_y0,
)
bessel_y1_p = _unary_p(
    "BesselY1",
    _scipy_only("BesselY1", "y1", _y1_fix),
    _y1_grad,
    _BESSEL_DTYPES,
    _lowering.bessel_y1,
)
dawsn_p = _unary_p("Dawsn", _scipy_only("Dawsn", "dawsn"), _dawsn_grad, _F32_F64, _lowering.dawsn)
expint_p = _unary_p(
    "Expint", _scipy_only("Expint", "expi", _expint_fix), _expint_grad, _F32_F64, _lowering.expint
)
fresnel_cos_p = _unary_p(
    "FresnelCos", _fresnel("cos"), _fresnel_cos_grad, _F32_F64, _lowering.fresnel_cos
)
fresnel_sin_p = _unary_p(
    "FresnelSin", _fresnel("sin"), _fresnel_sin_grad, _F32_F64, _lowering.fresnel_sin
)
spence_p = _unary_p(
    "Spence", _scipy_only("Spence", "spence"), _spence_grad, _F32_F64, _lowering.spence
)


@tf_export("math.special.bessel_i0", "math.bessel_i0")
def bessel_i0(x, name=None):
    """Modified Bessel function of the first kind of order 0."""
    return bind(bessel_i0_p, (_arg(x),))


@tf_export("math.special.bessel_i0e", "math.bessel_i0e")
def bessel_i0e(x, name=None):
    """Exponentially scaled I0: ``exp(-|x|) * I0(x)``."""
    return bind(bessel_i0e_p, (_arg(x),))


@tf_export("math.special.bessel_i1", "math.bessel_i1")
def bessel_i1(x, name=None):
    """Modified Bessel function of the first kind of order 1."""
    return bind(bessel_i1_p, (_arg(x),))


@tf_export("math.special.bessel_i1e", "math.bessel_i1e")
def bessel_i1e(x, name=None):
    """Exponentially scaled I1: ``exp(-|x|) * I1(x)``."""
    return bind(bessel_i1e_p, (_arg(x),))


@tf_export("math.special.bessel_j0")
def bessel_j0(x, name=None):
    """Bessel function of the first kind of order 0."""
    return bind(bessel_j0_p, (_arg(x),))


@tf_export("math.special.bessel_j1")
def bessel_j1(x, name=None):
    """Bessel function of the first kind of order 1."""
    return bind(bessel_j1_p, (_arg(x),))


@tf_export("math.special.bessel_k0")
def bessel_k0(x, name=None):
    """Modified Bessel function of the second kind of order 0 (+inf for x <= 0)."""
    return bind(bessel_k0_p, (_arg(x),))


@tf_export("math.special.bessel_k0e")
def bessel_k0e(x, name=None):
    """Exponentially scaled K0: ``exp(x) * K0(x)``."""
    return bind(bessel_k0e_p, (_arg(x),))


@tf_export("math.special.bessel_k1")
def bessel_k1(x, name=None):
    """Modified Bessel function of the second kind of order 1 (+inf for x <= 0)."""
    return bind(bessel_k1_p, (_arg(x),))


@tf_export("math.special.bessel_k1e")
def bessel_k1e(x, name=None):
    """Exponentially scaled K1: ``exp(x) * K1(x)``."""
    return bind(bessel_k1e_p, (_arg(x),))


@tf_export("math.special.bessel_y0")
def bessel_y0(x, name=None):
    """Bessel function of the second kind of order 0 (-inf for x <= 0)."""
    return bind(bessel_y0_p, (_arg(x),))


@tf_export("math.special.bessel_y1")
def bessel_y1(x, name=None):
    """Bessel function of the second kind of order 1 (-inf for x < 0, nan at 0)."""
    return bind(bessel_y1_p, (_arg(x),))


@tf_export("math.special.dawsn")
def dawsn(x, name=None):
    """Dawson's integral ``exp(-x^2) * integral_0^x exp(t^2) dt``."""
    return bind(dawsn_p, (_arg(x),))


@tf_export("math.special.expint")
def expint(x, name=None):
    """Exponential integral Ei(x) (nan for x < 0)."""
    return bind(expint_p, (_arg(x),))


@tf_export("math.special.fresnel_cos")
def fresnel_cos(x, name=None):
    """Fresnel cosine integral ``integral_0^x cos(pi t^2 / 2) dt``."""
    return bind(fresnel_cos_p, (_arg(x),))


@tf_export("math.special.fresnel_sin")
def fresnel_sin(x, name=None):
    """Fresnel sine integral ``integral_0^x sin(pi t^2 / 2) dt``."""
    return bind(fresnel_sin_p, (_arg(x),))


@tf_export("math.special.spence")
def spence(x, name=None):
    """Spence's function ``integral_1^x log(t) / (1 - t) dt`` (nan for x < 0)."""
    return bind(spence_p, (_arg(x),))


# --------------------------------------------------------------------------------------
# Incomplete gamma and beta, Hurwitz zeta
# --------------------------------------------------------------------------------------


def _igamma_domain(a, x, out):
    # TF: nan for a <= 0 or x < 0 (SciPy gives 1 or 0 at a == 0)
    return np.where((a <= 0) | (x < 0), np.nan, out)


def _igamma_fn(sp, a, x):
    if sp is None:
        _require_scipy("Igamma")
    return _igamma_domain(a, x, sp.gammainc(a, x))


def _igammac_fn(sp, a, x):
    if sp is None:
        _require_scipy("Igammac")
    return _igamma_domain(a, x, sp.gammaincc(a, x))


def _igamma_grad_a_fn(sp, a, x):
    """d/da P(a, x) by Richardson-extrapolated central differences of SciPy's gammainc in
    float64 (SciPy has no closed form; the error, ~1e-9 relative, is far below float32's
    resolution and below what TF's own series reach in single precision)."""
    if sp is None:
        _require_scipy("IgammaGradA")
    h = 1e-3 * np.maximum(a, 1e-2)
    h = np.minimum(h, 0.5 * a)  # stay inside a > 0

    def d(step):
        return (sp.gammainc(a + step, x) - sp.gammainc(a - step, x)) / (2.0 * step)

    out = (4.0 * d(h / 2) - d(h)) / 3.0
    out = np.where(x == 0, 0.0, out)
    return np.where((a <= 0) | (x < 0), np.nan, out)


def _betainc_fn(sp, a, b, x):
    if sp is None:
        _require_scipy("Betainc")
    out = sp.betainc(a, b, x)
    return np.where((a <= 0) | (b <= 0) | (x < 0) | (x > 1), np.nan, out)


def _zeta_fn(sp, x, q):
    """Hurwitz zeta with TF's conventions at q <= 0 (SciPy differs there)."""
    if sp is None:
        _require_scipy("Zeta")
    out = sp.zeta(x, q)
    x_int = x == np.floor(x)
    q_pole = (q <= 0) & (q == np.floor(q))
    # at the poles of q: +inf for even integer x, nan otherwise
    pole_val = np.where(x_int & (np.remainder(x, 2.0) == 0), np.inf, np.nan)
    out = np.where(q_pole, pole_val, out)
    out = np.where((q < 0) & ~q_pole & ~x_int, np.nan, out)  # q^-x undefined
    return np.where(x == 1, np.inf, np.where(x < 1, np.nan, out))


def _igamma_grad(inputs, out, dy):
    a, x = inputs
    da, dx = _igamma_partials(a, x)
    return unbroadcast(multiply(dy, da), a), unbroadcast(multiply(dy, dx), x)


def _igammac_grad(inputs, out, dy):
    a, x = inputs
    da, dx = _igamma_partials(a, x)
    return (unbroadcast(negative(multiply(dy, da)), a), unbroadcast(negative(multiply(dy, dx)), x))


def _igamma_partials(a, x):
    """(dP/da, dP/dx); dP/dx = exp(-x + (a - 1) log x - lgamma(a))."""
    da = bind(igamma_grad_a_p, binary_args(a, x))
    one = _const(1, a)
    dx = exp(subtract(subtract(multiply(subtract(a, one), log(x)), x), lgamma(a)))
    return da, dx


def _betainc_grad(inputs, out, dy):
    a, b, x = inputs
    # TF differentiates only in x: x^(a-1) (1-x)^(b-1) / B(a, b); a, b get no gradient
    one = _const(1, x)
    log_beta = subtract(add(lgamma(a), lgamma(b)), lgamma(add(a, b)))
    log_d = subtract(
        add(
            multiply(subtract(a, one), log(x)),
            multiply(subtract(b, one), log(subtract(one, x))),
        ),
        log_beta,
    )
    return None, None, unbroadcast(multiply(dy, exp(log_d)), x)


def _zeta_grad(inputs, out, dy):
    x, q = inputs
    # d/dq zeta(x, q) = -x zeta(x + 1, q); TF gives no gradient for x
    dq = negative(multiply(x, zeta(add(x, _const(1, x)), q)))
    return None, unbroadcast(multiply(dy, dq), q)


def _binary_p(op, fn, grad, lowering):
    facts = dict(dtypes=_F32_F64, same_dtype=True, host=True, lowering=lowering)
    kernel = _host_f64(op, fn)
    if grad is None:
        return primitive(op, kernel, broadcast_rule(op), **facts)
    return primitive(op, kernel, broadcast_rule(op), grad, **facts)


igamma_p = _binary_p("Igamma", _igamma_fn, _igamma_grad, _lowering.igamma)
igammac_p = _binary_p("Igammac", _igammac_fn, _igammac_grad, _lowering.igammac)
igamma_grad_a_p = _binary_p("IgammaGradA", _igamma_grad_a_fn, None, _lowering.igamma_grad_a)
betainc_p = _binary_p("Betainc", _betainc_fn, _betainc_grad, _lowering.betainc)
zeta_p = _binary_p("Zeta", _zeta_fn, _zeta_grad, _lowering.zeta)


@tf_export("math.igamma")
def igamma(a, x, name=None):
    """Regularized lower incomplete gamma function P(a, x)."""
    return bind(igamma_p, binary_args(a, x))


@tf_export("math.igammac")
def igammac(a, x, name=None):
    """Regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    return bind(igammac_p, binary_args(a, x))


@tf_export("math.betainc")
def betainc(a, b, x, name=None):
    """Regularized incomplete beta function I_x(a, b)."""
    a, b = binary_args(a, b)
    a, x = binary_args(a, x)
    return bind(betainc_p, (a, b, x))


@tf_export("math.zeta")
def zeta(x, q, name=None):
    """Hurwitz zeta function: sum over n >= 0 of (q + n)^-x."""
    return bind(zeta_p, binary_args(x, q))


@tf_export("math.lbeta")
def lbeta(x, name=None):
    """log|B(x)| of the multivariate beta function, reduced over the last dimension."""
    from rill.ops.reduction_ops import reduce_sum  # local: reduction_ops imports this layer

    x = _arg(x)
    return subtract(reduce_sum(lgamma(x), axis=-1), lgamma(reduce_sum(x, axis=-1)))


@tf_export("math.erfcinv")
def erfcinv(x, name=None):
    """Inverse of erfc on (0, 2)."""
    from rill.ops.unary_ops import ndtri

    x = _arg(x)
    return multiply(ndtri(multiply(x, _const(0.5, x))), _const(-1.0 / math.sqrt(2.0), x))


from rill.ops import math_extra_ops  # noqa: E402, F401 - registers the smaller tf.math ops
