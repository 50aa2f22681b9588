"""Elementwise unary math: abs, exp/log family, trig, special functions, rounding.

Special functions (erf, erfc, erfinv, ndtri, lgamma, digamma, polygamma) use
``scipy.special`` on the NumPy backend when it is importable (looked up lazily, on first
use) and otherwise vectorised fallbacks written here, so SciPy is never a hard dependency.
The lgamma/digamma/polygamma fallbacks are written against the array namespace ``xp`` (any
backend); the erf family's build on Python's ``math.erf``, so those four are host kernels.

Gradients follow TF's conventions, including the complex ones: for a holomorphic ``f``
the input gradient is ``dy * conj(f'(x))``.
"""

from __future__ import annotations

import math

import numpy as np

from rill.core import dtypes as _d
from rill.ops import lowering_special as _lowering_special
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    binary_args,
    bind,
    broadcast_rule,
    convert_to_tensor,
    op_error,
    primitive,
    tf_export,
    unary_rule,
    unbroadcast,
)
from rill.ops.math_ops import (
    add,
    divide_no_nan,
    less,
    multiply,
    negative,
    not_equal,
    realdiv,
    subtract,
)

_FLOATS = _d.FLOATS
_INEXACT = _d.INEXACT
_SIGNED = _FLOATS | frozenset(d for d in _d.INTS if not d.is_unsigned)


# --------------------------------------------------------------------------------------
# Kernel helpers
# --------------------------------------------------------------------------------------


def _in_f64(fn):
    """Kernel evaluating ``fn(xp, *arrays)`` in float64, cast back to the input's dtype
    (special functions)."""

    def kernel(*xs, xp=np):
        dt = xs[0].dtype
        out = fn(xp, *[xp.asarray(x, dtype=xp.float64) for x in xs])
        return xp.asarray(out, dtype=dt)

    return kernel


def _host_in_f64(fn):
    """Host kernel (declared ``host=True``) evaluating ``fn(*numpy_arrays)`` in float64,
    cast back to the input's dtype."""

    def kernel(*xs):
        dt = xs[0].dtype
        return np.asarray(fn(*[np.asarray(x, np.float64) for x in xs]), dtype=dt)

    return kernel


def _bool_rule(x, **_):
    return AVal(x.shape, _d.bool)


def _real_rule(x, **_):
    return AVal(x.shape, x.dtype.real_dtype)


def _conj_if_complex(x):
    """conj(x) for complex tensors, x otherwise (TF's gradient convention)."""
    return conj(x) if x.dtype.is_complex else x


def _const_like(value, like):
    """A constant of ``like``'s dtype."""
    return convert_to_tensor(value, dtype=like.dtype)


def _unary(name, kernel, grad=None, dtypes=_INEXACT, rule=unary_rule, **facts):
    if grad is None:
        return primitive(name, kernel, rule, dtypes=dtypes, **facts)
    return primitive(name, kernel, rule, grad, dtypes=dtypes, **facts)


def _arg(x):
    return convert_to_tensor(x)


# --------------------------------------------------------------------------------------
# SciPy (optional, NumPy backend only) and the fallbacks
# --------------------------------------------------------------------------------------

_use_scipy = True  # tests switch this off to exercise the fallbacks
_scipy_special = None  # None: not looked up yet; False: not importable


def _special(xp):
    """``scipy.special`` if available and enabled and ``xp`` is NumPy (SciPy's functions
    take NumPy arrays only), else None."""
    global _scipy_special
    if xp is not np or not _use_scipy:
        return None
    if _scipy_special is None:
        try:
            import scipy.special as sp  # optional dependency: imported on first use
        except ImportError:  # pragma: no cover - depends on the environment
            sp = False
        _scipy_special = sp
    return _scipy_special or None


_erf_py = np.frompyfunc(math.erf, 1, 1)
_erfc_py = np.frompyfunc(math.erfc, 1, 1)


def _erf_np(x):
    return np.asarray(_erf_py(x), dtype=np.float64)


def _erfc_np(x):
    return np.asarray(_erfc_py(x), dtype=np.float64)


# Lanczos approximation (g = 7, 9 terms) for log-gamma on x >= 0.5.
_LANCZOS = (
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7,
)  # fmt: skip
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _lgamma_pos(xp, x):
    """log|Gamma(x)| for x >= 0.5 (Lanczos, in log form so large x cannot overflow)."""
    z = x - 1.0
    a = xp.full_like(z, _LANCZOS[0])
    for i in range(1, 9):
        a = a + _LANCZOS[i] / (z + i)
    t = z + 7.5
    return _HALF_LOG_2PI + (z + 0.5) * xp.log(t) - t + xp.log(a)


def _lgamma_np(xp, x):
    x = xp.asarray(x, dtype=xp.float64)
    refl = x < 0.5
    out = _lgamma_pos(xp, xp.where(refl, 1.0 - x, x))
    # reflection: Gamma(x) Gamma(1 - x) = pi / sin(pi x); |sin| has period 1
    s = xp.abs(xp.sin(math.pi * (x - xp.floor(x))))
    out = xp.where(refl, xp.log(math.pi / s) - out, out)
    out = xp.where((x == 1) | (x == 2), 0.0, out)  # exact zeros of lgamma
    pole = (x <= 0) & (x == xp.floor(x))
    return xp.where(pole | xp.isinf(x), math.inf, out)


# Asymptotic series of digamma: ln y - 1/(2y) - sum B_2k / (2k y^2k).
_DIGAMMA_C = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)


def _digamma_pos(xp, x):
    """digamma for x > 0: shift to y >= 10 with the recurrence, then the series."""
    small = x < 10
    acc = xp.zeros_like(x)
    y = x
    for _ in range(10):
        acc = xp.where(small, acc + 1.0 / y, acc)
        y = xp.where(small, y + 1.0, y)
    y2 = 1.0 / (y * y)
    series = xp.zeros_like(y)
    for c in reversed(_DIGAMMA_C):
        series = (series + c) * y2
    return xp.log(y) - 0.5 / y - series - acc


def _digamma_np(xp, x):
    x = xp.asarray(x, dtype=xp.float64)
    neg = x <= 0
    out = _digamma_pos(xp, xp.where(neg, 1.0 - x, x))
    # reflection: psi(1 - x) - psi(x) = pi / tan(pi x); tan has period 1
    t = xp.tan(math.pi * (x - xp.floor(x)))
    out = xp.where(neg, out - math.pi / t, out)
    bad = (neg & (x == xp.floor(x))) | (x == -math.inf)
    return xp.where(bad, math.nan, out)


_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798)


def _hurwitz_zeta_np(xp, s, q):
    """Hurwitz zeta(s, q) for s > 1 (Euler-Maclaurin after shifting q past s + 10).

    The shift loops once per unit that the smallest q lies below the threshold, so very
    negative q are slow; SciPy is used instead whenever it is available.
    """
    s, q = xp.broadcast_arrays(xp.asarray(s, dtype=xp.float64), xp.asarray(q, dtype=xp.float64))
    thresh = s + 10.0
    acc = xp.zeros_like(q)
    y = q
    finite = xp.isfinite(y)
    while True:
        m = finite & (y < thresh)
        if not xp.any(m):
            break
        acc = xp.where(m, acc + xp.pow(xp.where(m, y, 1.0), -s), acc)
        y = xp.where(m, y + 1.0, y)
    out = xp.pow(y, 1.0 - s) / (s - 1.0) + 0.5 * xp.pow(y, -s)
    rising = s  # s (s+1) ... (s+2j-2)
    term_pow = xp.pow(y, -s - 1.0)
    fact = 2.0  # (2j)!
    for j, b in enumerate(_BERNOULLI, start=1):
        out = out + b / fact * rising * term_pow
        rising = rising * (s + 2 * j - 1) * (s + 2 * j)
        term_pow = term_pow / (y * y)
        fact *= (2 * j + 1) * (2 * j + 2)
    out = out + acc
    pole = (q <= 0) & (q == xp.floor(q))
    out = xp.where(pole, math.inf, out)
    return xp.where(s <= 1, math.nan, out)


_FACTORIALS = np.array([float(math.factorial(k)) for k in range(171)])  # 171! overflows


def _factorial(xp, n):
    """n! for integer-valued float arrays n >= 0 (inf beyond float64's range)."""
    idx = xp.minimum(n, 170).astype(xp.int64)
    return xp.where(n > 170, math.inf, xp.asarray(_FACTORIALS)[idx])


def _polygamma_np(xp, n, x, zeta, digamma):
    """polygamma(n, x) from ``zeta(xp, s, q)`` (Hurwitz) and ``digamma(xp, x)``."""
    n, x = xp.broadcast_arrays(xp.asarray(n, dtype=xp.float64), xp.asarray(x, dtype=xp.float64))
    valid = (n >= 0) & (n == xp.floor(n)) & xp.isfinite(n)
    n0 = xp.where(valid, n, 0.0)
    higher = n0 >= 1
    s = xp.where(higher, n0 + 1.0, 2.0)
    z = zeta(xp, s, x)
    sign = xp.where(xp.remainder(n0, 2.0) == 1.0, 1.0, -1.0)  # (-1)^(n+1)
    out = xp.where(higher, sign * _factorial(xp, n0) * z, digamma(xp, x))
    return xp.where(valid, out, math.nan)


_W_A = 0.147  # Winitzki's constant for the erfinv starting guess


def _erfinv_guess(log1mx2, sgn):
    """Starting guess for erfinv from ln(1 - x^2) (relative error ~ 2e-3)."""
    b = 2.0 / (np.pi * _W_A) + 0.5 * log1mx2
    return sgn * np.sqrt(np.sqrt(b * b - log1mx2 / _W_A) - b)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erfcinv_np(q):
    """Inverse of erfc for q in (0, 1] (result >= 0), by Newton on log(erfc)."""
    logq = np.log(q)
    y = _erfinv_guess(logq + np.log(2.0 - q), 1.0)
    for _ in range(6):
        e = _erfc_np(y)
        f = np.log(e) - logq
        df = -_TWO_OVER_SQRT_PI * np.exp(-y * y) / e
        step = np.where((e > 0) & np.isfinite(df) & (df != 0), f / df, 0.0)
        y = y - step
    return y


def _erfinv_np(x):
    x = np.asarray(x, np.float64)
    ax = np.abs(x)
    central = ax <= 0.5
    xc = np.where(central, x, 0.0)
    y = _erfinv_guess(np.log1p(-xc * xc), np.sign(xc))
    for _ in range(5):
        y = y - (_erf_np(y) - xc) / (_TWO_OVER_SQRT_PI * np.exp(-y * y))
    q = np.where(central | (ax >= 1), 1.0, 1.0 - ax)  # 1 - |x| is exact for |x| >= 0.5
    tail = np.sign(x) * _erfcinv_np(q)
    out = np.where(central, y, tail)
    out = np.where(ax == 1, np.sign(x) * np.inf, out)
    return np.where((ax > 1) | np.isnan(x), np.nan, out)


def _ndtri_np(p):
    p = np.asarray(p, np.float64)
    lower = p <= 0.5
    q = np.where(lower, 2.0 * p, 2.0 * (1.0 - p))
    qs = np.where((q > 0) & (q <= 1), q, 1.0)
    r = math.sqrt(2.0) * _erfcinv_np(qs)
    out = np.where(lower, -r, r)
    out = np.where(p == 0, -np.inf, np.where(p == 1, np.inf, out))
    return np.where((p < 0) | (p > 1) | np.isnan(p), np.nan, out)


# The erf family runs on host NumPy arrays (``_host_in_f64``): its fallbacks need math.erf.


def _erf_k(x):
    sp = _special(np)
    return sp.erf(x) if sp else _erf_np(x)


def _erfc_k(x):
    sp = _special(np)
    return sp.erfc(x) if sp else _erfc_np(x)


def _erfinv_k(x):
    sp = _special(np)
    return sp.erfinv(x) if sp else _erfinv_np(x)


def _ndtri_k(x):
    sp = _special(np)
    return sp.ndtri(x) if sp else _ndtri_np(x)


# The gamma family runs on any backend (``_in_f64``); SciPy only on NumPy.


def _lgamma_k(xp, x):
    sp = _special(xp)
    if not sp:
        return _lgamma_np(xp, x)
    return xp.where(x == -math.inf, math.inf, sp.gammaln(x))


def _digamma_k(xp, x):
    sp = _special(xp)
    if not sp:
        return _digamma_np(xp, x)
    bad = (x <= 0) & (x == xp.floor(x))  # TF: nan at the poles (SciPy gives +-inf at 0)
    return xp.where(bad, math.nan, sp.digamma(x))


def _polygamma_k(xp, n, x):
    sp = _special(xp)
    if not sp:
        return _polygamma_np(xp, n, x, _hurwitz_zeta_np, _digamma_np)

    def zeta(xp, s, q):
        return xp.where(s <= 1, math.nan, sp.zeta(s, q))

    return _polygamma_np(xp, n, x, zeta, _digamma_k)


# --------------------------------------------------------------------------------------
# Kernels needing care
# --------------------------------------------------------------------------------------


def _sigmoid_kernel(x, xp=np):
    if x.dtype.kind == "c":
        return 1.0 / (1.0 + xp.exp(-x))
    e = xp.exp(-xp.abs(x))  # never overflows
    one = xp.ones((), dtype=x.dtype)
    return xp.where(x >= 0, one / (one + e), e / (one + e)).astype(x.dtype, copy=False)


def _softplus_kernel(x, xp=np):
    return xp.logaddexp(xp.zeros((), dtype=x.dtype), x)


def _rsqrt_kernel(x, xp=np):
    return (xp.ones((), dtype=x.dtype) / xp.sqrt(x)).astype(x.dtype, copy=False)


def _xlogy_kernel(x, y, xp=np):
    out = x * xp.log(y)
    return xp.where(x == 0, xp.zeros((), dtype=out.dtype), out)


def _xlog1py_kernel(x, y, xp=np):
    out = x * xp.log1p(y)
    return xp.where(x == 0, xp.zeros((), dtype=out.dtype), out)


def _xdivy_kernel(x, y, xp=np):
    out = x / y
    return xp.where(x == 0, xp.zeros((), dtype=out.dtype), out)


# --------------------------------------------------------------------------------------
# Primitives
# --------------------------------------------------------------------------------------

abs_p = _unary(
    "Abs", "abs", lambda inputs, out, dy: (multiply(dy, sign(inputs[0])),), dtypes=_SIGNED
)


def _complex_abs_grad(inputs, out, dy):
    x = inputs[0]
    # dy * x / |x|, with 0 where x == 0
    return (multiply(_to_complex(dy, x.dtype), divide_no_nan(x, _to_complex(out, x.dtype))),)


complex_abs_p = _unary("ComplexAbs", "abs", _complex_abs_grad, dtypes=_d.COMPLEX, rule=_real_rule)
sign_p = _unary(
    "Sign", "sign", lambda inputs, out, dy: (_zeros_like(inputs[0]),), dtypes=_SIGNED | _d.COMPLEX
)
reciprocal_p = _unary(
    "Reciprocal",
    "reciprocal",
    lambda inputs, out, dy: (negative(multiply(dy, square(_conj_if_complex(out)))),),
)
square_p = _unary(
    "Square",
    "square",
    lambda inputs, out, dy: (
        multiply(dy, multiply(_const_like(2, dy), _conj_if_complex(inputs[0]))),
    ),
    dtypes=_d.NUMERIC,
)
sqrt_p = _unary(
    "Sqrt",
    "sqrt",
    lambda inputs, out, dy: (realdiv(multiply(dy, _const_like(0.5, dy)), _conj_if_complex(out)),),
)
rsqrt_p = _unary(
    "Rsqrt",
    _rsqrt_kernel,
    lambda inputs, out, dy: (
        multiply(
            multiply(dy, _const_like(-0.5, dy)),
            multiply(square(_conj_if_complex(out)), _conj_if_complex(out)),
        ),
    ),
)
exp_p = _unary(
    "Exp",
    "exp",
    lambda inputs, out, dy: (multiply(dy, _conj_if_complex(out)),),
    saves=(),  # the derivative is a function of the output
    saves_output=True,
)
expm1_p = _unary(
    "Expm1", "expm1", lambda inputs, out, dy: (multiply(dy, exp(_conj_if_complex(inputs[0]))),)
)
log_p = _unary("Log", "log", lambda inputs, out, dy: (realdiv(dy, _conj_if_complex(inputs[0])),))
log1p_p = _unary(
    "Log1p",
    "log1p",
    lambda inputs, out, dy: (realdiv(dy, add(_const_like(1, dy), _conj_if_complex(inputs[0]))),),
)

sin_p = _unary(
    "Sin", "sin", lambda inputs, out, dy: (multiply(dy, cos(_conj_if_complex(inputs[0]))),)
)
cos_p = _unary(
    "Cos",
    "cos",
    lambda inputs, out, dy: (negative(multiply(dy, sin(_conj_if_complex(inputs[0])))),),
)
tan_p = _unary(
    "Tan",
    "tan",
    lambda inputs, out, dy: (multiply(dy, square(reciprocal(cos(_conj_if_complex(inputs[0]))))),),
)


def _one_minus_sq(x):
    return subtract(_const_like(1, x), square(x))


asin_p = _unary(
    "Asin",
    "asin",
    lambda inputs, out, dy: (realdiv(dy, _conj_if_complex(sqrt(_one_minus_sq(inputs[0])))),),
)
acos_p = _unary(
    "Acos",
    "acos",
    lambda inputs, out, dy: (
        negative(realdiv(dy, _conj_if_complex(sqrt(_one_minus_sq(inputs[0]))))),
    ),
)
atan_p = _unary(
    "Atan",
    "atan",
    lambda inputs, out, dy: (
        realdiv(dy, _conj_if_complex(add(_const_like(1, dy), square(inputs[0])))),
    ),
)
sinh_p = _unary(
    "Sinh", "sinh", lambda inputs, out, dy: (multiply(dy, cosh(_conj_if_complex(inputs[0]))),)
)
cosh_p = _unary(
    "Cosh", "cosh", lambda inputs, out, dy: (multiply(dy, sinh(_conj_if_complex(inputs[0]))),)
)
tanh_p = _unary(
    "Tanh",
    "tanh",
    lambda inputs, out, dy: (multiply(dy, _conj_if_complex(_one_minus_sq(out))),),
    saves=(),  # the derivative is a function of the output
    saves_output=True,
)
asinh_p = _unary(
    "Asinh", "asinh", lambda inputs, out, dy: (realdiv(dy, cosh(_conj_if_complex(out))),)
)
acosh_p = _unary(
    "Acosh", "acosh", lambda inputs, out, dy: (realdiv(dy, sinh(_conj_if_complex(out))),)
)
atanh_p = _unary(
    "Atanh",
    "atanh",
    lambda inputs, out, dy: (realdiv(dy, _conj_if_complex(_one_minus_sq(inputs[0]))),),
)


def _atan2_grad(inputs, out, dy):
    y, x = inputs
    r = realdiv(dy, add(square(x), square(y)))
    return unbroadcast(multiply(r, x), y), unbroadcast(negative(multiply(r, y)), x)


atan2_p = primitive(
    "Atan2",
    "atan2",
    broadcast_rule("Atan2"),
    _atan2_grad,
    dtypes=_FLOATS,
    same_dtype=True,
)

sigmoid_p = _unary(
    "Sigmoid",
    _sigmoid_kernel,
    lambda inputs, out, dy: (
        multiply(dy, _conj_if_complex(multiply(out, subtract(_const_like(1, out), out)))),
    ),
    saves=(),  # the derivative is a function of the output
    saves_output=True,
)
softplus_p = _unary(
    "Softplus",
    _softplus_kernel,
    lambda inputs, out, dy: (multiply(dy, sigmoid(inputs[0])),),
    dtypes=_FLOATS,
)

_2_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erf_deriv(x):
    return multiply(_const_like(_2_SQRT_PI, x), exp(negative(square(x))))


erf_p = _unary(
    "Erf",
    _host_in_f64(_erf_k),
    lambda inputs, out, dy: (multiply(dy, _erf_deriv(inputs[0])),),
    dtypes=_FLOATS,
    host=True,
    lowering=_lowering_special.erf,
)
erfc_p = _unary(
    "Erfc",
    _host_in_f64(_erfc_k),
    lambda inputs, out, dy: (negative(multiply(dy, _erf_deriv(inputs[0]))),),
    dtypes=_FLOATS,
    host=True,
    lowering=_lowering_special.erfc,
)
erfinv_p = _unary(
    "Erfinv",
    _host_in_f64(_erfinv_k),
    lambda inputs, out, dy: (
        multiply(dy, multiply(_const_like(math.sqrt(math.pi) / 2, dy), exp(square(out)))),
    ),
    dtypes=_FLOATS,
    host=True,
    lowering=_lowering_special.erfinv,
)
ndtri_p = _unary(
    "Ndtri",
    _host_in_f64(_ndtri_k),
    lambda inputs, out, dy: (
        multiply(
            dy,
            multiply(
                _const_like(math.sqrt(2 * math.pi), dy),
                exp(multiply(_const_like(0.5, out), square(out))),
            ),
        ),
    ),
    dtypes=_FLOATS,
    host=True,
    lowering=_lowering_special.ndtri,
)
lgamma_p = _unary(
    "Lgamma",
    _in_f64(_lgamma_k),
    lambda inputs, out, dy: (multiply(dy, digamma(inputs[0])),),
    dtypes=_FLOATS,
)
digamma_p = _unary(
    "Digamma",
    _in_f64(_digamma_k),
    lambda inputs, out, dy: (multiply(dy, polygamma(_const_like(1, inputs[0]), inputs[0])),),
    dtypes=_FLOATS,
)


def _polygamma_grad(inputs, out, dy):
    a, x = inputs
    return None, unbroadcast(multiply(dy, polygamma(add(a, _const_like(1, a)), x)), x)


polygamma_p = primitive(
    "Polygamma",
    _in_f64(_polygamma_k),
    broadcast_rule("Polygamma"),
    _polygamma_grad,
    dtypes=_FLOATS,
    same_dtype=True,
    lowering=_lowering_special.polygamma,
)

# rounding: TF registers no gradient (tape returns None), except Sign whose gradient is 0
floor_p = _unary("Floor", "floor", dtypes=_FLOATS)
ceil_p = _unary("Ceil", "ceil", dtypes=_FLOATS)
round_p = _unary("Round", "round", dtypes=_FLOATS)  # half to even
rint_p = _unary("Rint", "rint", dtypes=_FLOATS)

is_nan_p = _unary("IsNan", "isnan", dtypes=_FLOATS, rule=_bool_rule)
is_inf_p = _unary("IsInf", "isinf", dtypes=_FLOATS, rule=_bool_rule)
is_finite_p = _unary("IsFinite", "isfinite", dtypes=_FLOATS, rule=_bool_rule)

# complex parts
real_p = _unary(
    "Real",
    "real",
    lambda inputs, out, dy: (_to_complex(dy, inputs[0].dtype),),
    dtypes=_d.COMPLEX,
    rule=_real_rule,
)
imag_p = _unary(
    "Imag",
    "imag",
    lambda inputs, out, dy: (
        multiply(_to_complex(dy, inputs[0].dtype), _const_like(1j, inputs[0])),
    ),
    dtypes=_d.COMPLEX,
    rule=_real_rule,
)
# tf.math.conj returns real tensors as they are; the primitive accepts them too (identity)
conj_p = _unary("Conj", "conj", lambda inputs, out, dy: (conj(dy),), dtypes=_d.NUMERIC)


def _angle_grad(inputs, out, dy):
    x = inputs[0]
    # d angle = (-im + i re) / |x|^2  ==  -1 / (im + i re)
    swapped = add(
        _to_complex(imag(x), x.dtype), multiply(_to_complex(real(x), x.dtype), _const_like(1j, x))
    )
    return (negative(multiply(_to_complex(dy, x.dtype), reciprocal(swapped))),)


angle_p = _unary("Angle", "angle", _angle_grad, dtypes=_d.COMPLEX, rule=_real_rule)


def _xlogy_grad(inputs, out, dy):
    x, y = inputs
    nz = _nonzero(x)
    return unbroadcast(multiply(dy, xlogy(nz, y)), x), unbroadcast(multiply(dy, xdivy(x, y)), y)


def _xlog1py_grad(inputs, out, dy):
    x, y = inputs
    nz = _nonzero(x)
    return (
        unbroadcast(multiply(dy, xlog1py(nz, y)), x),
        unbroadcast(multiply(dy, xdivy(x, add(y, _const_like(1, y)))), y),
    )


def _xdivy_grad(inputs, out, dy):
    x, y = inputs
    nz = _nonzero(x)
    return (
        unbroadcast(multiply(dy, xdivy(nz, y)), x),
        unbroadcast(multiply(dy, xdivy(negative(x), square(y))), y),
    )


def _binary(name, kernel, grad):
    return primitive(name, kernel, broadcast_rule(name), grad, dtypes=_INEXACT, same_dtype=True)


xlogy_p = _binary("Xlogy", _xlogy_kernel, _xlogy_grad)
xlog1py_p = _binary("Xlog1py", _xlog1py_kernel, _xlog1py_grad)
xdivy_p = _binary("Xdivy", _xdivy_kernel, _xdivy_grad)


# --------------------------------------------------------------------------------------
# Gradient helpers (rill ops only)
# --------------------------------------------------------------------------------------


def _zeros_like(x):
    from rill.ops.array_ops import zeros_like  # local: import cycle with array_ops

    return zeros_like(x)


def _to_complex(t, cdtype):
    """Real tensor -> complex tensor of ``cdtype`` (imaginary part 0)."""
    from rill.ops.array_ops import cast  # local: import cycle with array_ops

    return cast(t, cdtype)


def _nonzero(x):
    """1 where x != 0, else 0, in x's dtype."""
    from rill.ops.array_ops import cast  # local: import cycle with array_ops

    return cast(not_equal(x, _zeros_like(x)), x.dtype)


# --------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------


@tf_export("math.abs", "abs")
def abs(x, name=None):  # noqa: A001 - TF's public name
    """|x| elementwise; for complex x, the (real) magnitude."""
    x = _arg(x)
    if x.dtype.is_complex:
        return bind(complex_abs_p, (x,))
    return bind(abs_p, (x,))


@tf_export("math.sign", "sign")
def sign(x, name=None):
    """-1, 0 or 1 elementwise (x / |x| for complex x, 0 at 0). Its gradient is zero."""
    return bind(sign_p, (_arg(x),))


@tf_export("math.reciprocal")
def reciprocal(x, name=None):
    """1 / x elementwise (floating and complex dtypes)."""
    return bind(reciprocal_p, (_arg(x),))


@tf_export("math.reciprocal_no_nan")
def reciprocal_no_nan(x, name=None):
    """1 / x elementwise, with 0 where x is 0."""
    from rill.ops.array_ops import ones_like  # local: import cycle with array_ops

    x = _arg(x)
    if x.dtype not in _INEXACT:
        raise op_error(
            InvalidArgumentError,
            "reciprocal_no_nan",
            f"x has dtype {x.dtype.name}; expected a floating or complex tensor",
        )
    return divide_no_nan(ones_like(x), x)


@tf_export("math.square", "square")
def square(x, name=None):
    """x * x elementwise."""
    return bind(square_p, (_arg(x),))


@tf_export("math.sqrt", "sqrt")
def sqrt(x, name=None):
    """Square root (nan for negative reals; principal branch for complex)."""
    return bind(sqrt_p, (_arg(x),))


@tf_export("math.rsqrt")
def rsqrt(x, name=None):
    """1 / sqrt(x) elementwise."""
    return bind(rsqrt_p, (_arg(x),))


@tf_export("math.exp", "exp")
def exp(x, name=None):
    """e ** x elementwise."""
    return bind(exp_p, (_arg(x),))


@tf_export("math.expm1")
def expm1(x, name=None):
    """exp(x) - 1, accurate for small x."""
    return bind(expm1_p, (_arg(x),))


@tf_export("math.log")
def log(x, name=None):
    """Natural logarithm elementwise."""
    return bind(log_p, (_arg(x),))


@tf_export("math.log1p")
def log1p(x, name=None):
    """log(1 + x), accurate for small x."""
    return bind(log1p_p, (_arg(x),))


@tf_export("math.sin", "sin")
def sin(x, name=None):
    """Sine elementwise."""
    return bind(sin_p, (_arg(x),))


@tf_export("math.cos", "cos")
def cos(x, name=None):
    """Cosine elementwise."""
    return bind(cos_p, (_arg(x),))


@tf_export("math.tan", "tan")
def tan(x, name=None):
    """Tangent elementwise."""
    return bind(tan_p, (_arg(x),))


@tf_export("math.asin", "asin")
def asin(x, name=None):
    """Inverse sine elementwise."""
    return bind(asin_p, (_arg(x),))


@tf_export("math.acos", "acos")
def acos(x, name=None):
    """Inverse cosine elementwise."""
    return bind(acos_p, (_arg(x),))


@tf_export("math.atan", "atan")
def atan(x, name=None):
    """Inverse tangent elementwise."""
    return bind(atan_p, (_arg(x),))


@tf_export("math.atan2", "atan2")
def atan2(y, x, name=None):
    """Angle of the point (x, y), in [-pi, pi], elementwise with broadcasting."""
    return bind(atan2_p, binary_args(y, x))


@tf_export("math.sinh", "sinh")
def sinh(x, name=None):
    """Hyperbolic sine elementwise."""
    return bind(sinh_p, (_arg(x),))


@tf_export("math.cosh", "cosh")
def cosh(x, name=None):
    """Hyperbolic cosine elementwise."""
    return bind(cosh_p, (_arg(x),))


@tf_export("math.tanh", "tanh", "nn.tanh")
def tanh(x, name=None):
    """Hyperbolic tangent elementwise."""
    return bind(tanh_p, (_arg(x),))


@tf_export("math.asinh", "asinh")
def asinh(x, name=None):
    """Inverse hyperbolic sine elementwise."""
    return bind(asinh_p, (_arg(x),))


@tf_export("math.acosh", "acosh")
def acosh(x, name=None):
    """Inverse hyperbolic cosine elementwise (nan below 1 for reals)."""
    return bind(acosh_p, (_arg(x),))


@tf_export("math.atanh", "atanh")
def atanh(x, name=None):
    """Inverse hyperbolic tangent elementwise."""
    return bind(atanh_p, (_arg(x),))


@tf_export("math.sigmoid", "sigmoid", "nn.sigmoid")
def sigmoid(x, name=None):
    """1 / (1 + exp(-x)), computed without overflow."""
    return bind(sigmoid_p, (_arg(x),))


@tf_export("math.softplus", "nn.softplus")
def softplus(features, name=None):
    """log(1 + exp(x)), computed without overflow."""
    return bind(softplus_p, (_arg(features),))


@tf_export("math.log_sigmoid")
def log_sigmoid(x, name=None):
    """log(sigmoid(x)) = -softplus(-x), stable for large |x|."""
    return negative(softplus(negative(_arg(x))))


@tf_export("math.erf")
def erf(x, name=None):
    """Gauss error function elementwise."""
    return bind(erf_p, (_arg(x),))


@tf_export("math.erfc")
def erfc(x, name=None):
    """Complementary error function 1 - erf(x), accurate for large x."""
    return bind(erfc_p, (_arg(x),))


@tf_export("math.erfinv")
def erfinv(x, name=None):
    """Inverse of erf on (-1, 1) (+-inf at +-1, nan outside)."""
    return bind(erfinv_p, (_arg(x),))


@tf_export("math.ndtri")
def ndtri(x, name=None):
    """Inverse of the standard normal CDF on (0, 1)."""
    return bind(ndtri_p, (_arg(x),))


@tf_export("math.lgamma")
def lgamma(x, name=None):
    """log|Gamma(x)| elementwise (inf at the poles 0, -1, -2, ...)."""
    return bind(lgamma_p, (_arg(x),))


@tf_export("math.digamma")
def digamma(x, name=None):
    """Derivative of lgamma (nan at the poles 0, -1, -2, ...)."""
    return bind(digamma_p, (_arg(x),))


@tf_export("math.polygamma")
def polygamma(a, x, name=None):
    """The a-th derivative of digamma (a a non-negative integer value; nan otherwise)."""
    return bind(polygamma_p, binary_args(a, x))


@tf_export("math.floor", "floor")
def floor(x, name=None):
    """Largest integer value not greater than x (floating dtypes)."""
    return bind(floor_p, (_arg(x),))


@tf_export("math.ceil")
def ceil(x, name=None):
    """Smallest integer value not less than x (floating dtypes)."""
    return bind(ceil_p, (_arg(x),))


@tf_export("math.round", "round")
def round(x, name=None):  # noqa: A001 - TF's public name
    """Round to the nearest integer, halves to even; integer tensors are returned as is."""
    x = _arg(x)
    if x.dtype.is_integer:
        return x
    return bind(round_p, (x,))


@tf_export("math.rint")
def rint(x, name=None):
    """Round to the nearest integer, halves to even (floating dtypes)."""
    return bind(rint_p, (_arg(x),))


@tf_export("math.is_nan")
def is_nan(x, name=None):
    """True where x is NaN (floating dtypes)."""
    return bind(is_nan_p, (_arg(x),))


@tf_export("math.is_inf")
def is_inf(x, name=None):
    """True where x is +-inf (floating dtypes)."""
    return bind(is_inf_p, (_arg(x),))


@tf_export("math.is_finite")
def is_finite(x, name=None):
    """True where x is neither inf nor NaN (floating dtypes)."""
    return bind(is_finite_p, (_arg(x),))


def _numeric_or_raise(x, op):
    if x.dtype.is_bool or x.dtype.is_string:
        raise TypeError(
            f"{op}: input must be a numeric tensor, but got tensor with dtype {x.dtype.name}."
        )


@tf_export("math.real")
def real(input, name=None):  # noqa: A002 - TF's argument name
    """Real part; real-valued numeric tensors are returned as is."""
    x = _arg(input)
    if x.dtype.is_complex:
        return bind(real_p, (x,))
    _numeric_or_raise(x, "real")
    return x


@tf_export("math.imag")
def imag(input, name=None):  # noqa: A002
    """Imaginary part; zeros for real-valued tensors."""
    x = _arg(input)
    if x.dtype.is_complex:
        return bind(imag_p, (x,))
    return _zeros_like(x)


@tf_export("math.conj")
def conj(x, name=None):
    """Complex conjugate; real-valued numeric tensors are returned as is."""
    x = _arg(x)
    if x.dtype.is_complex:
        return bind(conj_p, (x,))
    _numeric_or_raise(x, "conj")
    return x


@tf_export("math.angle")
def angle(input, name=None):  # noqa: A002
    """Argument of a complex number; pi for negative reals and 0 otherwise."""
    from rill.ops.array_ops import where_v2  # local: import cycle with array_ops

    x = _arg(input)
    if x.dtype.is_complex:
        return bind(angle_p, (x,))
    if not x.dtype.is_floating:
        raise TypeError(
            f"angle: cannot compute the angle of a {x.dtype.name} tensor; cast it to a float first."
        )
    z = _zeros_like(x)
    return where_v2(less(x, z), _const_like(math.pi, x), z)


@tf_export("math.xlogy")
def xlogy(x, y, name=None):
    """x * log(y), and 0 wherever x is 0."""
    return bind(xlogy_p, binary_args(x, y))


@tf_export("math.xlog1py")
def xlog1py(x, y, name=None):
    """x * log1p(y), and 0 wherever x is 0."""
    return bind(xlog1py_p, binary_args(x, y))


@tf_export("math.xdivy")
def xdivy(x, y, name=None):
    """x / y, and 0 wherever x is 0."""
    return bind(xdivy_p, binary_args(x, y))


@tf_export("math.polyval")
def polyval(coeffs, x, name=None):
    """Evaluate the polynomial coeffs[0] * x**(n-1) + ... + coeffs[n-1] (Horner's rule)."""
    if not isinstance(coeffs, list):
        raise ValueError(f"Argument coeffs must be list type. Received type {type(coeffs)}.")
    x = _arg(x)
    if not coeffs:
        return _zeros_like(x)
    cs = [convert_to_tensor(c) for c in coeffs]
    p = cs[0]
    for c in cs[1:]:
        p = add(c, multiply(p, x))
    return p
