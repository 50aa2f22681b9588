"""tnp's element-wise math: unary and binary functions, comparisons, logic and bit ops.

Binary functions promote both arguments to their tnp ``result_type`` first; float-valued
unary functions of integers compute in ``result_type(float)`` (float64 by default, as TF
does for every integer width), then each calls rill's public op.
"""

from __future__ import annotations

import builtins

import numpy as np

import rill as tf
from rill.core import dtypes as _d
from rill.experimental.numpy._dtypes import float_dtype, mode, promote, result_type, tensor
from rill.ops._op import tf_export

_NS = "experimental.numpy"


def _export(fn):
    return tf_export(f"{_NS}.{fn.__name__}")(fn)


def _inexact(d: _d.DType) -> bool:
    return d.is_floating or d.is_complex


def _to_float(x):
    """``x`` as a tensor, cast to tnp's float type unless already float or complex."""
    x = tensor(x)
    return x if _inexact(x.dtype) else tf.cast(x, float_dtype())


def _unary_float(name, fn, doc):
    def f(x):
        return fn(_to_float(x))

    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return _export(f)


sqrt = _unary_float("sqrt", tf.sqrt, "Square root, element-wise (ints give floats).")
exp = _unary_float("exp", tf.exp, "e**x, element-wise.")
log = _unary_float("log", tf.math.log, "Natural logarithm, element-wise.")
log1p = _unary_float("log1p", tf.math.log1p, "log(1 + x), element-wise.")
expm1 = _unary_float("expm1", tf.math.expm1, "exp(x) - 1, element-wise.")
sin = _unary_float("sin", tf.sin, "Sine, element-wise.")
cos = _unary_float("cos", tf.cos, "Cosine, element-wise.")
tan = _unary_float("tan", tf.tan, "Tangent, element-wise.")
sinh = _unary_float("sinh", tf.sinh, "Hyperbolic sine, element-wise.")
cosh = _unary_float("cosh", tf.cosh, "Hyperbolic cosine, element-wise.")
tanh = _unary_float("tanh", tf.tanh, "Hyperbolic tangent, element-wise.")
arcsin = _unary_float("arcsin", tf.asin, "Inverse sine, element-wise.")
arccos = _unary_float("arccos", tf.acos, "Inverse cosine, element-wise.")
arctan = _unary_float("arctan", tf.atan, "Inverse tangent, element-wise.")
arcsinh = _unary_float("arcsinh", tf.asinh, "Inverse hyperbolic sine, element-wise.")
arccosh = _unary_float("arccosh", tf.acosh, "Inverse hyperbolic cosine, element-wise.")
arctanh = _unary_float("arctanh", tf.atanh, "Inverse hyperbolic tangent, element-wise.")


def _log_base(base):
    ln_base = np.log(base)  # a NumPy float64, which TF's tnp divides by

    def f(x):
        out = tf.math.log(x)
        if mode.conversion_mode == "legacy":
            # NumPy's promotion of x with a float64 scalar: float64 results, as in TF
            out = tf.cast(out, result_type(out.dtype, ln_base))
        return out / tf.cast(ln_base, out.dtype)

    return f


log2 = _unary_float("log2", _log_base(2.0), "Base-2 logarithm, element-wise.")
log10 = _unary_float("log10", _log_base(10.0), "Base-10 logarithm, element-wise.")
exp2 = _unary_float("exp2", lambda x: tf.pow(tf.cast(2.0, x.dtype), x), "2**x, element-wise.")


def _times_py_float(x, c):
    """``x * c`` for a Python float ``c`` the way TF's tnp computes it: under "legacy"
    promotion the float joins NumPy's promotion (float32 with prefer_float32)."""
    if mode.conversion_mode == "legacy":
        x = tf.cast(x, result_type(x.dtype, c))
    return x, tf.cast(c, x.dtype)


def _deg2rad(x):
    x, c = _times_py_float(x, np.pi / 180.0)
    return x * c


deg2rad = _unary_float("deg2rad", _deg2rad, "Degrees to radians.")
rad2deg = _unary_float(
    "rad2deg", lambda x: x * tf.cast(180.0 / np.pi, x.dtype), "Radians to degrees."
)


def _cbrt(x):
    # odd root: the sign is taken out so negative inputs have a real root
    x, third = _times_py_float(x, 1.0 / 3.0)
    return tf.sign(x) * tf.pow(tf.abs(x), third)


cbrt = _unary_float("cbrt", _cbrt, "Cube root, element-wise.")


def _sinc(x):
    safe = tf.where(tf.equal(x, 0), tf.ones_like(x), x)
    px = safe * tf.cast(np.pi, x.dtype)
    return tf.where(tf.equal(x, 0), tf.ones_like(x), tf.sin(px) / px)


sinc = _unary_float("sinc", _sinc, "sin(pi x) / (pi x), 1 at 0.")


def _int_or_float(name, fn, doc):
    """A rounding function: integers (and bools) pass through, floats round."""

    def f(x):
        x = tensor(x)
        if x.dtype.is_integer or x.dtype is _d.bool:
            return x
        return fn(x)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return _export(f)


@_export
def ceil(x):
    """Ceiling, element-wise (ints become floats, as in TF)."""
    return tf.math.ceil(_to_float(x))


@_export
def floor(x):
    """Floor, element-wise (ints become floats, as in TF)."""
    return tf.floor(_to_float(x))


@_export
def fix(x):
    """Round towards zero, element-wise."""
    x = _to_float(x)
    return tf.where(x < 0, tf.math.ceil(x), tf.floor(x))


@_export
def absolute(x):
    """Absolute value, element-wise (complex inputs give their magnitude)."""
    x = tensor(x)
    if x.dtype is _d.bool:
        return x
    return tf.abs(x)


@_export
def abs(x):  # noqa: A001 - NumPy's name
    """Absolute value, element-wise."""
    return absolute(x)


@_export
def fabs(x):
    """Absolute value, element-wise (TF's tnp keeps integer dtypes)."""
    return absolute(x)


@_export
def negative(x):
    """-x, element-wise (bool flips, as NumPy's logical negation)."""
    x = tensor(x)
    if x.dtype is _d.bool:
        return tf.logical_not(x)
    return tf.negative(x)


@_export
def positive(x):
    """+x: the argument as an array."""
    return tensor(x)


@_export
def reciprocal(x):
    """1 / x, element-wise (ints become floats)."""
    x = _to_float(x)
    return tf.math.reciprocal(x)


@_export
def square(x):
    """x * x, element-wise."""
    x = tensor(x)
    if x.dtype is _d.bool:
        return tf.logical_and(x, x)
    return tf.square(x)


@_export
def sign(x, out=None, where=None, **kwargs):
    """-1, 0 or 1 by the sign of ``x`` (x / |x| for complex)."""
    if out is not None or where is not None or kwargs:
        raise ValueError("sign: `out`, `where` and extra keyword arguments are not supported.")
    x = tensor(x)
    if x.dtype.is_unsigned:
        return tf.cast(x > 0, x.dtype)
    if x.dtype.is_complex:
        mag = tf.cast(tf.abs(x), x.dtype)
        safe = tf.where(tf.equal(mag, 0), tf.ones_like(mag), mag)
        return tf.where(tf.equal(mag, 0), tf.zeros_like(x), x / safe)
    return tf.sign(x)


@_export
def signbit(x):
    """True where the sign bit is set (including -0.0)."""
    x = tensor(x)
    if x.dtype is _d.bool:
        return tf.fill(tf.shape(x), False)
    if x.dtype.is_unsigned:
        return tf.zeros_like(x, dtype=_d.bool)
    if x.dtype.is_integer:
        return x < 0
    # -0.0 < 0 is False: atan2(x, -1) is -pi for -0.0 and +pi for +0.0, with x's sign
    # elsewhere (and no division by zero)
    return tf.atan2(x, -tf.ones_like(x)) < 0


@_export
def conjugate(x):
    """Complex conjugate, element-wise."""
    x = tensor(x)
    return tf.math.conj(x) if x.dtype.is_complex else x


@_export
def conj(x):
    """Complex conjugate, element-wise."""
    return conjugate(x)


@_export
def real(val):
    """The real part (real inputs pass through)."""
    val = tensor(val)
    return tf.math.real(val) if val.dtype.is_complex else val


@_export
def imag(val):
    """The imaginary part (zeros for real inputs)."""
    val = tensor(val)
    return tf.math.imag(val) if val.dtype.is_complex else tf.zeros_like(val)


@_export
def angle(z, deg=False):
    """The argument of complex ``z`` (radians, or degrees with ``deg``)."""
    z = tensor(z)
    if z.dtype.is_complex:
        out = tf.math.angle(z)
    else:
        z = _to_float(z)
        out = tf.where(z < 0, tf.cast(np.pi, z.dtype) * tf.ones_like(z), tf.zeros_like(z))
    if deg:
        out = out * tf.cast(180.0 / np.pi, out.dtype)
    return out


def _inexact_test(x, test, otherwise=False):
    """``test(x)`` for floating and complex ``x``; integers and bools are never NaN or
    infinite, so for them every element is ``otherwise``."""
    x = tensor(x)
    if not _inexact(x.dtype):
        return (tf.ones_like if otherwise else tf.zeros_like)(x, dtype=_d.bool)
    return test(x)


def _is_nan(x):
    if x.dtype.is_complex:
        return tf.logical_or(tf.math.is_nan(tf.math.real(x)), tf.math.is_nan(tf.math.imag(x)))
    return tf.math.is_nan(x)


@_export
def isnan(x):
    """True where ``x`` is NaN."""
    return _inexact_test(x, _is_nan)


@_export
def isinf(x):
    """True where ``x`` is +inf or -inf."""
    return _inexact_test(x, tf.math.is_inf)


@_export
def isfinite(x):
    """True where ``x`` is neither infinite nor NaN."""
    return _inexact_test(x, tf.math.is_finite, otherwise=True)


@_export
def isposinf(x):
    """True where ``x`` is +inf."""
    return _inexact_test(x, lambda x: tf.equal(x, tf.cast(np.inf, x.dtype)))


@_export
def isneginf(x):
    """True where ``x`` is -inf."""
    return _inexact_test(x, lambda x: tf.equal(x, tf.cast(-np.inf, x.dtype)))


@_export
def iscomplex(x):
    """True where the imaginary part is non-zero."""
    x = tensor(x)
    if not x.dtype.is_complex:
        return tf.zeros_like(x, dtype=_d.bool)
    return tf.not_equal(tf.math.imag(x), 0)


@_export
def isreal(x):
    """True where the imaginary part is zero."""
    return tf.logical_not(iscomplex(x))


@_export
def iscomplexobj(x):
    """Whether ``x``'s dtype is complex."""
    return bool(tensor(x).dtype.is_complex)


@_export
def isrealobj(x):
    """Whether ``x``'s dtype is not complex."""
    return not iscomplexobj(x)


# ---------------------------------------------------------------------------- binary
def _binary(name, fn, doc):
    def f(x1, x2):
        a, b = promote(x1, x2)
        return fn(a, b)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return _export(f)


def _bool_or(fn_bool, fn):
    return lambda a, b: fn_bool(a, b) if a.dtype is _d.bool else fn(a, b)


def _as_int8(fn):
    def g(a, b):
        if a.dtype is _d.bool:
            a, b = tf.cast(a, _d.int8), tf.cast(b, _d.int8)
        return fn(a, b)

    return g


add = _binary("add", _bool_or(tf.logical_or, tf.add), "x1 + x2, element-wise.")
subtract = _binary("subtract", tf.subtract, "x1 - x2, element-wise.")
multiply = _binary("multiply", _bool_or(tf.logical_and, tf.multiply), "x1 * x2, element-wise.")
maximum = _binary(
    "maximum", _bool_or(tf.logical_or, tf.maximum), "Element-wise maximum (NaN propagates)."
)
minimum = _binary(
    "minimum", _bool_or(tf.logical_and, tf.minimum), "Element-wise minimum (NaN propagates)."
)
floor_divide = _binary("floor_divide", _as_int8(tf.math.floordiv), "x1 // x2, element-wise.")
mod = _binary("mod", _as_int8(tf.math.floormod), "x1 % x2 (sign of the divisor).")
remainder = _binary("remainder", _as_int8(tf.math.floormod), "x1 % x2 (sign of the divisor).")
arctan2 = _binary(
    "arctan2",
    lambda a, b: tf.atan2(*(_to_float(v) for v in (a, b))),
    "Quadrant-aware arctan(x1 / x2).",
)


def _true_divide(a, b):
    if a.dtype is _d.bool:
        a, b = tf.cast(a, float_dtype()), tf.cast(b, float_dtype())
    return tf.truediv(a, b)


true_divide = _binary("true_divide", _true_divide, "x1 / x2 (ints give floats).")
divide = _binary("divide", _true_divide, "x1 / x2 (ints give floats).")


@_export
def divmod(x1, x2):  # noqa: A001 - NumPy's name
    """``(floor_divide(x1, x2), mod(x1, x2))``."""
    return floor_divide(x1, x2), mod(x1, x2)


def _power(a, b):
    if a.dtype.is_integer and not a.dtype.is_unsigned:
        # NumPy refuses negative integer powers of integers; TF's pow of ints does too,
        # so only the value matters: compute through int arithmetic
        return tf.pow(a, b)
    if a.dtype is _d.bool:
        return tf.cast(tf.pow(tf.cast(a, _d.int8), tf.cast(b, _d.int8)), _d.int8)
    return tf.pow(a, b)


power = _binary("power", _power, "x1 ** x2, element-wise.")


@_export
def float_power(x1, x2):
    """x1 ** x2 (TF's tnp computes it as ``power``, in the promoted dtype)."""
    return power(x1, x2)


@_export
def hypot(x1, x2):
    """sqrt(x1**2 + x2**2), element-wise (squares first, then tnp's promotion)."""
    return sqrt(add(square(x1), square(x2)))


def _logaddexp(a, b):
    a, b = _to_float(a), _to_float(b)
    amax = tf.maximum(a, b)
    # equal infinities would give inf - inf = nan: their sum is the max itself
    delta = tf.where(tf.equal(a, b), tf.zeros_like(a), a - b)
    return amax + tf.math.log1p(tf.exp(-tf.abs(delta)))


def _logaddexp2(a, b):
    a, b = _to_float(a), _to_float(b)
    ln2 = tf.cast(np.log(2.0), a.dtype)
    return _logaddexp(a * ln2, b * ln2) / ln2


logaddexp = _binary("logaddexp", _logaddexp, "log(exp(x1) + exp(x2)), stably.")
logaddexp2 = _binary("logaddexp2", _logaddexp2, "log2(2**x1 + 2**x2), stably.")


def _heaviside(a, b):
    zero = tf.zeros_like(a)
    one = tf.ones_like(a)
    return tf.where(a < 0, zero, tf.where(a > 0, one, b))


heaviside = _binary("heaviside", _heaviside, "0 for x1 < 0, x2 at 0, 1 for x1 > 0.")


def _nextafter(a, b):
    from rill.keras.ops.numpy import nextafter as keras_nextafter

    a, b = _to_float(a), _to_float(b)
    return tf.cast(keras_nextafter(a, b), a.dtype)


nextafter = _binary("nextafter", _nextafter, "The next float after x1 towards x2.")


def _int_pair(name, keras_fn):
    def g(a, b):
        if not (a.dtype.is_integer or a.dtype is _d.bool):
            raise TypeError(
                f"{name} needs integer arguments, got {a.dtype.name}: only integers have "
                "a greatest common divisor."
            )
        is_bool = a.dtype is _d.bool
        if is_bool:
            a, b = tf.cast(a, _d.int8), tf.cast(b, _d.int8)
        out = tf.cast(keras_fn(a, b), a.dtype)
        return tf.cast(out, _d.bool) if is_bool else out

    return g


def _keras(name):
    def call(a, b):
        from rill.keras.ops import numpy as knp

        return getattr(knp, name)(a, b)

    return call


gcd = _binary("gcd", _int_pair("gcd", _keras("gcd")), "Greatest common divisor of |x1|, |x2|.")
lcm = _binary("lcm", _int_pair("lcm", _keras("lcm")), "Least common multiple of |x1|, |x2|.")


# ------------------------------------------------------------------------ comparisons
def _comparison(name, fn, doc):
    def f(x1, x2):
        a, b = promote(x1, x2)
        if a.dtype is _d.bool and name not in ("equal", "not_equal"):
            a, b = tf.cast(a, _d.int32), tf.cast(b, _d.int32)
        return fn(a, b)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return _export(f)


equal = _comparison("equal", tf.equal, "x1 == x2, element-wise.")
not_equal = _comparison("not_equal", tf.not_equal, "x1 != x2, element-wise.")
greater = _comparison("greater", tf.greater, "x1 > x2, element-wise.")
greater_equal = _comparison("greater_equal", tf.greater_equal, "x1 >= x2, element-wise.")
less = _comparison("less", tf.less, "x1 < x2, element-wise.")
less_equal = _comparison("less_equal", tf.less_equal, "x1 <= x2, element-wise.")


def _truth(x):
    x = tensor(x)
    return x if x.dtype is _d.bool else tf.not_equal(x, tf.zeros_like(x))


def _logical(name, fn, doc):
    def f(x1, x2):
        return fn(_truth(x1), _truth(x2))

    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return _export(f)


logical_and = _logical("logical_and", tf.logical_and, "Truth of x1 and x2, element-wise.")
logical_or = _logical("logical_or", tf.logical_or, "Truth of x1 or x2, element-wise.")
logical_xor = _logical("logical_xor", tf.math.logical_xor, "Truth of x1 xor x2.")


@_export
def logical_not(x):
    """Truth of not x, element-wise."""
    return tf.logical_not(_truth(x))


def _bitwise(name, fn, bool_fn, doc):
    def g(a, b):
        if a.dtype is _d.bool:
            return bool_fn(a, b)
        if not a.dtype.is_integer:
            raise TypeError(f"{name} needs integer or bool arguments, got {a.dtype.name}.")
        return fn(a, b)

    return _binary(name, g, doc)


bitwise_and = _bitwise(
    "bitwise_and", tf.bitwise.bitwise_and, tf.logical_and, "x1 & x2, element-wise."
)
bitwise_or = _bitwise("bitwise_or", tf.bitwise.bitwise_or, tf.logical_or, "x1 | x2.")
bitwise_xor = _bitwise(
    "bitwise_xor", tf.bitwise.bitwise_xor, tf.math.logical_xor, "x1 ^ x2, element-wise."
)


@_export
def bitwise_not(x):
    """~x, element-wise (logical not for bools)."""
    x = tensor(x)
    if x.dtype is _d.bool:
        return tf.logical_not(x)
    if not x.dtype.is_integer:
        raise TypeError(f"bitwise_not needs an integer or bool argument, got {x.dtype.name}.")
    return tf.bitwise.invert(x)


# --------------------------------------------------------------------- closeness
@_export
def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a - b| <= atol + rtol * |b|, element-wise (infinities equal only themselves)."""
    a, b = promote(a, b)
    if not _inexact(a.dtype):
        a, b = tf.cast(a, float_dtype()), tf.cast(b, float_dtype())
    dtype = a.dtype.real_dtype
    close = tf.abs(a - b) <= tf.cast(atol, dtype) + tf.cast(rtol, dtype) * tf.abs(b)
    both_inf = tf.logical_and(
        tf.math.is_inf(tf.math.real(a) if a.dtype.is_complex else a), tf.equal(a, b)
    )
    out = tf.logical_or(tf.logical_and(close, isfinite(a)), both_inf)
    if equal_nan:
        out = tf.logical_or(out, tf.logical_and(isnan(a), isnan(b)))
    return out


@_export
def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element of ``a`` is close to ``b`` (a bool tensor)."""
    return tf.reduce_all(isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


@_export
def array_equal(a1, a2):
    """True if both have one shape and equal elements (a bool tensor)."""
    a, b = promote(a1, a2)
    if a.shape.as_list() != b.shape.as_list():
        return tf.constant(False)
    return tf.reduce_all(tf.equal(a, b))


_ = builtins
