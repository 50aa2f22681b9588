"""``keras.ops.numpy``: Keras 3's NumPy-like ops, over rill's public ops.

Each function follows Keras' dtype rules (``_dtypes.result_type``: ``int32 + float32`` is
``float32``, Python scalars are weak, transcendental ops of ints give floats) and returns
what Keras' TensorFlow backend returns. Written once for tensors, each works eagerly, in
``rill.function`` and, through ``keras_op``, on KerasTensors.
"""

from __future__ import annotations

import builtins
import math as _math

import numpy as np

import rill as tf
from rill.keras import config
from rill.keras.ops._base import (
    KerasTensor,
    broadcast_shape,
    cast,
    complex_from,
    dtype_arg,
    float_dtype,
    keras_op,
    promote,
    result_type,
    shape_list,
    standardize_dtype,
    tensor,
)
from rill.keras.ops.core import _vectorize

_INT_NAMES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def _is_int(d: str) -> bool:
    return "int" in d


def _is_float(d: str) -> bool:
    return "float" in d


def _axis(axis, rank):
    """A non-negative axis (or tuple of them) for an array of ``rank``."""
    if axis is None:
        return None
    if isinstance(axis, (list, tuple)):
        return tuple(_axis(a, rank) for a in axis)
    axis = int(axis)
    if not -rank <= axis < builtins.max(rank, 1):
        raise ValueError(f"axis {axis} is out of bounds for array of dimension {rank}")
    return axis % rank if rank else 0


def _rank(x) -> int:
    return x.shape.rank


def _op(name, cls=None):
    """``keras_op`` with Keras' class name derived from the function name."""
    return keras_op(cls or "".join(p.capitalize() for p in name.split("_")))


def _named(fn, name):
    fn.__name__ = fn.__qualname__ = name
    return fn


# ==================================================================== elementwise: unary
def _unary(name, body, doc, cls=None):
    def fn(x):
        return body(tensor(x))

    fn.__doc__ = doc
    return _op(name, cls)(_named(fn, name))


def _transcendental(name, rill_fn, cls=None):
    return _unary(
        name, lambda x: rill_fn(cast(x, float_dtype(x.dtype.name))),
        f"Element-wise ``{name}``; ints compute in floats (``floatx()`` for int64).", cls,
    )  # fmt: skip


sin = _transcendental("sin", tf.sin)
cos = _transcendental("cos", tf.cos)
tan = _transcendental("tan", tf.tan)
arcsin = _transcendental("arcsin", tf.asin)
arccos = _transcendental("arccos", tf.acos)
arctan = _transcendental("arctan", tf.atan)
sinh = _transcendental("sinh", tf.sinh)
cosh = _transcendental("cosh", tf.cosh)
tanh = _transcendental("tanh", tf.tanh)
arcsinh = _transcendental("arcsinh", tf.asinh)
arccosh = _transcendental("arccosh", tf.acosh)
arctanh = _transcendental("arctanh", tf.atanh)
sqrt = _transcendental("sqrt", tf.sqrt)
log = _transcendental("log", tf.math.log)
log1p = _transcendental("log1p", tf.math.log1p)
ceil = _transcendental("ceil", tf.math.ceil)
floor = _transcendental("floor", tf.floor)
log2 = _transcendental("log2", lambda x: tf.math.log(x) / tf.math.log(tf.constant(2, x.dtype)))
log10 = _transcendental("log10", lambda x: tf.math.log(x) / tf.math.log(tf.constant(10, x.dtype)))
exp = _transcendental("exp", tf.exp)
expm1 = _transcendental("expm1", tf.math.expm1)
exp2 = _transcendental("exp2", lambda x: tf.pow(tf.constant(2, x.dtype), x))


def _angle(x):
    if x.dtype.is_complex:
        return tf.math.angle(x)
    x = cast(x, float_dtype(x.dtype.name))
    return tf.where(x < 0, tf.constant(np.pi, x.dtype), tf.zeros_like(x))


angle = _unary("angle", _angle, "The argument (phase) of complex ``x``; pi for negative reals.")


def _sinc(x):
    x = cast(x, float_dtype(x.dtype.name))
    px = x * tf.constant(np.pi, x.dtype)
    safe = tf.where(tf.equal(x, 0), tf.ones_like(px), px)
    return tf.where(tf.equal(x, 0), tf.ones_like(x), tf.sin(safe) / safe)


sinc = _unary("sinc", _sinc, "sin(pi x) / (pi x), 1 at 0.")


def _int_to(x, narrow, wide="float64"):
    """ints of up to 32 bits (and bool) -> ``narrow``; int64 -> ``wide``."""
    d = x.dtype.name
    if d == "int64":
        return cast(x, wide)
    if _is_int(d) or d == "bool":
        return cast(x, narrow)
    return x


deg2rad = _unary(
    "deg2rad", lambda x: (lambda v: v * tf.constant(np.pi / 180.0, v.dtype))(
        _int_to(x, config.floatx())), "Degrees to radians.",
)  # fmt: skip
rad2deg = _unary(
    "rad2deg", lambda x: (lambda v: v * tf.constant(180.0 / np.pi, v.dtype))(
        _int_to(x, config.floatx())), "Radians to degrees.",
)  # fmt: skip


def _cbrt(x):
    d = x.dtype.name
    if d == "int64":
        x = cast(x, "float64")
    elif d not in ("bfloat16", "float16", "float64"):
        x = cast(x, config.floatx())
    return tf.sign(x) * tf.pow(tf.abs(x), tf.constant(1.0 / 3.0, x.dtype))


cbrt = _unary("cbrt", _cbrt, "The real cube root.")


def _abs(x):
    d = x.dtype.name
    if d.startswith("uint") or d == "bool":
        return x
    return tf.abs(x)


absolute = _unary("absolute", _abs, "Element-wise absolute value.")
abs = absolute  # noqa: A001 - Keras' name


def _fabs(x):
    d = x.dtype.name
    if _is_int(d) or d == "bool":
        x = cast(x, config.floatx())
    return tf.abs(x)


fabs = _unary("fabs", _fabs, "Absolute value, as a float.")


def _negative(x):
    return tf.negative(x)


negative = _unary("negative", _negative, "Element-wise ``-x``.")


def _sign(x):
    d = x.dtype.name
    if d in ("uint8", "uint16", "uint32"):
        return cast(tf.sign(cast(x, "int32")), d)
    if d.startswith("uint"):
        return cast(tf.not_equal(x, 0), d)
    if d == "bool":
        return x
    return tf.sign(x)


sign = _unary("sign", _sign, "-1, 0 or 1 by the sign of ``x``.")


def _square(x):
    if x.dtype.name == "bool":
        x = cast(x, "int32")
    return tf.square(x) if not x.dtype.is_unsigned else x * x


square = _unary("square", _square, "Element-wise ``x * x``.")


def _reciprocal(x):
    if x.dtype.is_integer:
        return tf.truncatediv(tf.ones_like(x), x)
    return tf.math.reciprocal(x)


reciprocal = _unary("reciprocal", _reciprocal, "Element-wise ``1 / x``.")


def _round(x, decimals=0):
    d = x.dtype.name
    if decimals == 0:
        return x if (_is_int(d) or d == "bool") else tf.round(x)
    if _is_int(d):
        if decimals > 0:
            return x
        factor = tf.constant(10.0**decimals, config.floatx())
        return cast(tf.round(cast(x, config.floatx()) * factor) / factor, d)
    factor = tf.constant(10.0**decimals, x.dtype)
    return tf.round(x * factor) / factor


@_op("round")
def round(x, decimals=0):  # noqa: A001 - Keras' name
    """Round half to even, to ``decimals`` places (negative: to tens, hundreds...)."""
    return _round(tensor(x), decimals)


def _trunc(x):
    d = x.dtype.name
    if d == "bool" or _is_int(d):
        return x
    return tf.where(x < 0, tf.math.ceil(x), tf.floor(x))


trunc = _unary("trunc", _trunc, "Round towards zero.")


def _signbit(x):
    d = x.dtype.name
    if d == "bool":
        return tf.zeros_like(x, dtype="bool")
    if _is_int(d):
        return x < 0 if not d.startswith("uint") else tf.zeros_like(x, dtype="bool")
    if d in ("float16", "bfloat16"):
        x = cast(x, "float32")
    neg_zero = tf.logical_and(tf.equal(x, 0), tf.math.reciprocal(tf.where(
        tf.equal(x, 0), x, tf.ones_like(x))) < 0)  # fmt: skip
    return tf.logical_or(x < 0, neg_zero)


signbit = _unary("signbit", _signbit, "Whether the sign bit is set (true for -0.0).")


def _float_pred(pred, int_value):
    def body(x):
        if not (x.dtype.is_floating or x.dtype.is_complex):
            return tf.fill(tf.shape(x), tf.constant(int_value))
        return pred(x)

    return body


isnan = _unary("isnan", _float_pred(tf.math.is_nan, False), "Whether ``x`` is NaN.")
isinf = _unary("isinf", _float_pred(tf.math.is_inf, False), "Whether ``x`` is +-inf.")
isfinite = _unary("isfinite", _float_pred(tf.math.is_finite, True), "Whether ``x`` is finite.")
isposinf = _unary(
    "isposinf", _float_pred(lambda x: tf.equal(x, tf.constant(np.inf, x.dtype)), False),
    "Whether ``x`` is +inf.",
)  # fmt: skip
isneginf = _unary(
    "isneginf", _float_pred(lambda x: tf.equal(x, tf.constant(-np.inf, x.dtype)), False),
    "Whether ``x`` is -inf.",
)  # fmt: skip


def _isreal(x):
    if x.dtype.is_complex:
        return tf.equal(tf.math.imag(x), 0)
    return tf.ones_like(x, dtype="bool")


isreal = _unary("isreal", _isreal, "Whether the imaginary part is zero.")


def _real(x):
    return tf.math.real(x) if x.dtype.is_complex else x


def _imag(x):
    return tf.math.imag(x) if x.dtype.is_complex else tf.zeros_like(x)


def _conj(x):
    return tf.math.conj(x) if x.dtype.is_complex else x


real = _unary("real", _real, "The real part.")
imag = _unary("imag", _imag, "The imaginary part (zeros for real ``x``).")
conjugate = _unary("conjugate", _conj, "The complex conjugate.")
conj = _unary("conj", _conj, "The complex conjugate.")


def _logical_not(x):
    return tf.logical_not(cast(x, "bool"))


logical_not = _unary("logical_not", _logical_not, "Element-wise NOT, of ``x`` as bools.")


def _invert(x):
    if x.dtype.name == "bool":
        return tf.logical_not(x)
    return tf.bitwise.invert(x)


bitwise_invert = _unary("bitwise_invert", _invert, "Bitwise NOT.")
bitwise_not = _unary("bitwise_not", _invert, "Bitwise NOT.")


def _i0(x):
    d = x.dtype.name
    if d in ("int64", "float64"):
        x = cast(x, "float64")
    elif d not in ("bfloat16", "float16"):
        x = cast(x, config.floatx())
    out_dtype = x.dtype
    x = cast(x, "float64")
    ax = tf.abs(x)
    small = tf.minimum(ax, 15.0)
    # power series sum_k (x^2/4)^k / (k!)^2 below 15 ...
    t = small * small / 4.0
    coeffs = [1.0 / _math.factorial(k) ** 2 for k in range(60, -1, -1)]
    series = tf.math.polyval([tf.constant(c, "float64") for c in coeffs], t)
    # ... and the asymptotic expansion e^x / sqrt(2 pi x) sum_k prod (2j-1)^2 / (k! (8x)^k)
    big = tf.maximum(ax, 15.0)
    term = tf.ones_like(big)
    total = tf.ones_like(big)
    for k in range(1, 20):
        term = term * ((2 * k - 1) ** 2) / (k * 8.0 * big)
        total = total + term
    asym = tf.exp(big) / tf.sqrt(2 * np.pi * big) * total
    return cast(tf.where(ax < 15.0, series, asym), out_dtype.name)


i0 = _unary("i0", _i0, "The modified Bessel function of the first kind, order 0.")


@_op("nan_to_num")
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """NaN -> ``nan``, +inf -> ``posinf`` (the dtype's max), -inf -> ``neginf`` (its min)."""
    x = tensor(x)
    if not (x.dtype.is_floating or x.dtype.is_complex):
        return x
    if x.dtype.is_complex:
        return complex_from(
            nan_to_num(tf.math.real(x), nan, posinf, neginf),
            nan_to_num(tf.math.imag(x), nan, posinf, neginf),
        )
    info = np.finfo(x.dtype.np) if x.dtype.name != "bfloat16" else None
    hi = posinf if posinf is not None else (info.max if info else x.dtype.max)
    lo = neginf if neginf is not None else (info.min if info else x.dtype.min)
    x = tf.where(tf.math.is_nan(x), tf.constant(nan, x.dtype), x)
    x = tf.where(tf.equal(x, tf.constant(np.inf, x.dtype)), tf.constant(hi, x.dtype), x)
    return tf.where(tf.equal(x, tf.constant(-np.inf, x.dtype)), tf.constant(lo, x.dtype), x)


@_op("clip")
def clip(x, x_min, x_max):
    """``x`` limited to ``[x_min, x_max]`` (bools compute as int32)."""
    x = tensor(x)
    if x.dtype.name == "bool":
        x = cast(x, "int32")
    lo = cast(tensor(x_min), x.dtype.name)
    hi = cast(tensor(x_max), x.dtype.name)
    return tf.minimum(tf.maximum(x, lo), hi)


# =================================================================== elementwise: binary
_WEAK = {"add", "subtract", "multiply", "divide", "true_divide", "divide_no_nan", "floor_divide",
         "fmax", "fmin", "maximum", "minimum", "power"}  # fmt: skip


def _binary(name, body, doc, cls=None, extra=()):
    weak = name in _WEAK  # Python scalars weak here; converted first everywhere else

    def fn(x1, x2):
        a, b = promote(x1, x2, extra=extra, weak=weak)
        return body(a, b)

    fn.__doc__ = doc
    return _op(name, cls)(_named(fn, name))


add = _binary("add", tf.add, "Element-wise ``x1 + x2`` (Keras' dtype promotion).")
subtract = _binary("subtract", tf.subtract, "Element-wise ``x1 - x2``.")
multiply = _binary("multiply", tf.multiply, "Element-wise ``x1 * x2``.")
maximum = _binary("maximum", tf.maximum, "Element-wise maximum (NaN propagates).")
minimum = _binary("minimum", tf.minimum, "Element-wise minimum (NaN propagates).")
equal = _binary("equal", tf.equal, "Element-wise ``x1 == x2``.")
not_equal = _binary("not_equal", tf.not_equal, "Element-wise ``x1 != x2``.")
less = _binary("less", tf.less, "Element-wise ``x1 < x2``.")
less_equal = _binary("less_equal", tf.less_equal, "Element-wise ``x1 <= x2``.")
greater = _binary("greater", tf.greater, "Element-wise ``x1 > x2``.")
greater_equal = _binary("greater_equal", tf.greater_equal, "Element-wise ``x1 >= x2``.")
divide = _binary("divide", tf.divide, "True division; ints divide as floats.", extra=(float,))
true_divide = _binary(
    "true_divide", tf.divide, "True division; ints divide as floats.", extra=(float,)
)
arctan2 = _binary("arctan2", tf.atan2, "The angle of (x2, x1), quadrant-aware.", extra=(float,))


def _floor_divide(a, b):
    if a.dtype.name == "bool":
        a, b = cast(a, "int32"), cast(b, "int32")
        return cast(tf.math.floordiv(a, b), "bool")
    return tf.math.floordiv(a, b)


floor_divide = _binary("floor_divide", _floor_divide, "Division rounded towards -inf.")


def _mod(a, b):
    if a.dtype.name == "bool":
        a, b = cast(a, "int32"), cast(b, "int32")
    return tf.math.floormod(a, b)


mod = _binary("mod", _mod, "The remainder of floor division (sign of the divisor).")


def _fmod(a, b):
    d = a.dtype.name
    if d == "bool":
        a, b, d = cast(a, "int32"), cast(b, "int32"), "int32"
    if d in ("uint8", "uint16", "uint32"):
        return cast(tf.truncatemod(cast(a, "int32"), cast(b, "int32")), d)
    if a.dtype.is_floating:
        return a - b * _trunc(a / b)
    return tf.truncatemod(a, b)


fmod = _binary("fmod", _fmod, "The remainder of truncated division (sign of the dividend).")


@_op("power")
def power(x1, x2):
    """Element-wise ``x1 ** x2``."""
    a, b = promote(x1, x2)
    if a.dtype.is_unsigned:
        return cast(tf.pow(cast(a, "int64"), cast(b, "int64")), a.dtype.name)
    if a.dtype.name == "bool":
        return cast(tf.pow(cast(a, "int32"), cast(b, "int32")), "bool")
    return tf.pow(a, b)


def _logaddexp(a, b):
    hi = tf.maximum(a, b)
    d = tf.abs(a - b)
    out = hi + tf.math.log1p(tf.exp(-d))
    return tf.where(tf.math.is_nan(d), a + b, out)  # inf - inf: the sum (inf or nan)


logaddexp = _binary("logaddexp", _logaddexp, "log(exp(x1) + exp(x2)), stably.", extra=(float,))


def _logaddexp2(a, b):
    ln2 = tf.constant(_math.log(2.0), a.dtype)
    return _logaddexp(a * ln2, b * ln2) / ln2


logaddexp2 = _binary("logaddexp2", _logaddexp2, "log2(2**x1 + 2**x2), stably.", extra=(float,))


def _to_real_float(a, b):
    d = a.dtype.name
    if d == "int64":
        return cast(a, "float64"), cast(b, "float64")
    if _is_int(d) or d == "bool":
        return cast(a, config.floatx()), cast(b, config.floatx())
    return a, b


def _hypot(a, b):
    a, b = _to_real_float(a, b)
    a, b = tf.abs(a), tf.abs(b)
    hi, lo = tf.maximum(a, b), tf.minimum(a, b)
    safe = tf.where(tf.equal(hi, 0), tf.ones_like(hi), hi)
    r = lo / safe
    out = hi * tf.sqrt(1 + r * r)
    return tf.where(tf.math.is_inf(hi), hi, out)


hypot = _binary("hypot", _hypot, "sqrt(x1**2 + x2**2), without overflow.")


def _heaviside(a, b):
    a, b = _to_real_float(a, b)
    return tf.where(a < 0, tf.zeros_like(a), tf.where(a > 0, tf.ones_like(a), b))


heaviside = _binary("heaviside", _heaviside, "0 below zero, 1 above, ``x2`` at zero.")


def _nan_ignoring(pick):
    def body(a, b):
        out = pick(a, b)
        if not a.dtype.is_floating:
            return out
        return tf.where(tf.math.is_nan(a), b, tf.where(tf.math.is_nan(b), a, out))

    return body


fmax = _binary("fmax", _nan_ignoring(tf.maximum), "Element-wise maximum, ignoring NaNs.")
fmin = _binary("fmin", _nan_ignoring(tf.minimum), "Element-wise minimum, ignoring NaNs.")


def _logical(rill_fn):
    def body(x1, x2):
        return rill_fn(cast(tensor(x1), "bool"), cast(tensor(x2), "bool"))

    return body


@_op("logical_and")
def logical_and(x1, x2):
    """Element-wise AND, of the inputs as bools."""
    return _logical(tf.logical_and)(x1, x2)


@_op("logical_or")
def logical_or(x1, x2):
    """Element-wise OR, of the inputs as bools."""
    return _logical(tf.logical_or)(x1, x2)


@_op("logical_xor")
def logical_xor(x1, x2):
    """Element-wise XOR, of the inputs as bools."""
    return _logical(tf.math.logical_xor)(x1, x2)


def _bitwise(name, rill_fn, bool_fn=None, cls=None):
    shift = bool_fn is None

    def fn(x, y):
        x = tensor(x)
        if shift and isinstance(y, int):  # a Python int shift keeps x's dtype
            return rill_fn(x, tf.cast(tf.constant(int(y)), x.dtype))
        y = tensor(y)
        dtype = result_type(x.dtype.name, y.dtype.name)
        x, y = cast(x, dtype), cast(y, dtype)
        if dtype == "bool" and bool_fn is not None:
            return bool_fn(x, y)
        return rill_fn(x, y)

    fn.__doc__ = f"Element-wise ``{name}`` of integers."
    return _op(name, cls)(_named(fn, name))


bitwise_and = _bitwise("bitwise_and", tf.bitwise.bitwise_and, tf.logical_and)
bitwise_or = _bitwise("bitwise_or", tf.bitwise.bitwise_or, tf.logical_or)
bitwise_xor = _bitwise("bitwise_xor", tf.bitwise.bitwise_xor, tf.math.logical_xor)
bitwise_left_shift = _bitwise("bitwise_left_shift", tf.bitwise.left_shift)
bitwise_right_shift = _bitwise("bitwise_right_shift", tf.bitwise.right_shift)
left_shift = _bitwise("left_shift", tf.bitwise.left_shift)
right_shift = _bitwise("right_shift", tf.bitwise.right_shift)


def _iabs(v):
    return v if v.dtype.is_unsigned else tf.abs(v)


def _gcd_body(a, b):
    a, b = _iabs(a), _iabs(b)

    def cond(a, b):
        return tf.reduce_any(tf.not_equal(b, 0))

    def body(a, b):
        nz = tf.not_equal(b, 0)
        safe = tf.where(nz, b, tf.ones_like(b))
        return tf.where(nz, b, a), tf.where(nz, tf.math.floormod(a, safe), b)

    return tf.while_loop(cond, body, (a, b))[0]


def _int_pair(name, x1, x2):
    a, b = tensor(x1), tensor(x2)
    dtype = result_type(a.dtype.name, b.dtype.name)
    if not tf.as_dtype(dtype).is_integer:
        raise TypeError(
            f"Arguments to {name} must be integers. Received: x1.dtype={a.dtype.name}, "
            f"x2.dtype={b.dtype.name}"
        )
    a, b = cast(a, dtype), cast(b, dtype)
    shape = broadcast_shape(shape_list(a), shape_list(b))
    return tf.broadcast_to(a, shape), tf.broadcast_to(b, shape)


@_op("gcd")
def gcd(x1, x2):
    """Greatest common divisor, element-wise (non-negative)."""
    a, b = _int_pair("gcd", x1, x2)
    return _gcd_body(a, b)


@_op("lcm")
def lcm(x1, x2):
    """Least common multiple, element-wise (non-negative; 0 if either is 0)."""
    a, b = _int_pair("lcm", x1, x2)
    g = _gcd_body(a, b)
    safe = tf.where(tf.equal(g, 0), tf.ones_like(g), g)
    return _iabs(a * tf.math.floordiv(b, safe))


@_op("ldexp")
def ldexp(x1, x2):
    """``x1 * 2**x2`` (``x2`` must be integers)."""
    a, b = tensor(x1), tensor(x2)
    if not b.dtype.is_integer:
        raise TypeError(
            f"ldexp exponent must be an integer type. Received: x2 dtype={b.dtype.name}"
        )
    dtype = result_type(a.dtype.name, b.dtype.name, float)
    a = cast(a, dtype)
    out = a * tf.pow(tf.constant(2.0, a.dtype), cast(b, dtype))
    return tf.where(tf.logical_or(tf.math.is_inf(a), tf.equal(a, 0)), a, out)


@_op("nextafter")
def nextafter(x1, x2):
    """The next representable float64 after ``x1`` towards ``x2``, in the result dtype
    (Keras' TensorFlow backend steps in float64, then casts)."""
    a, b = tensor(x1), tensor(x2)
    dtype = result_type(a.dtype.name, b.dtype.name, float)
    a, b = cast(a, "float64"), cast(b, "float64")
    tiny = tf.constant(2.0**-1074, "float64")
    m = tf.abs(a)
    safe = tf.where(tf.equal(m, 0), tf.ones_like(m), m)
    e = tf.floor(tf.math.log(safe) / _math.log(2.0))
    p = tf.pow(tf.constant(2.0, "float64"), e)
    e = tf.where(p > safe, e - 1, tf.where(p * 2 <= safe, e + 1, e))
    p = tf.pow(tf.constant(2.0, "float64"), e)
    ulp = tf.maximum(tf.pow(tf.constant(2.0, "float64"), e - 52), tiny)
    ulp_down = tf.where(tf.equal(m, p), tf.maximum(ulp / 2, tiny), ulp)
    away = tf.equal(tf.sign(b - a), tf.sign(a))  # moving away from zero
    mag = tf.where(away, m + ulp, m - ulp_down)
    out = tf.sign(a) * mag
    out = tf.where(tf.equal(a, 0), tf.sign(b) * tiny, out)
    out = tf.where(tf.equal(a, b), b, out)
    out = tf.where(tf.logical_or(tf.math.is_nan(a), tf.math.is_nan(b)), a + b, out)
    return cast(out, dtype)


@_op("divide_no_nan")
def divide_no_nan(x1, x2):
    """``x1 / x2``, 0 where ``x2`` is 0."""
    a, b = promote(x1, x2)
    if not (a.dtype.is_floating or a.dtype.is_complex):
        dtype = result_type(a.dtype.name, float)
        a, b = cast(a, dtype), cast(b, dtype)
    return tf.math.divide_no_nan(a, b)


def _isclose(a, b, rtol, atol, equal_nan):
    if not (a.dtype.is_floating or a.dtype.is_complex):
        if a.dtype.name == "bool":
            return tf.equal(a, b)
        a64, b64 = cast(a, "float64"), cast(b, "float64")
        return tf.abs(a64 - b64) <= atol + rtol * tf.abs(b64)
    diff = tf.abs(a - b)
    close = diff <= tf.cast(atol, diff.dtype) + tf.cast(rtol, diff.dtype) * tf.abs(b)
    same = tf.equal(a, b)  # equal infinities
    out = tf.logical_or(close, same)
    out = tf.logical_and(out, tf.logical_not(tf.math.logical_xor(
        tf.math.is_inf(a), tf.math.is_inf(b))) if a.dtype.is_floating else out)  # fmt: skip
    if equal_nan:
        out = tf.logical_or(out, tf.logical_and(tf.math.is_nan(a), tf.math.is_nan(b)))
    return out


@_op("isclose")
def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Whether ``|x1 - x2| <= atol + rtol * |x2|``, element-wise."""
    a, b = promote(x1, x2)
    return _isclose(a, b, rtol, atol, equal_nan)


@_op("allclose", "AllClose")
def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Whether ``isclose`` holds everywhere."""
    a, b = promote(x1, x2)
    return tf.reduce_all(_isclose(a, b, rtol, atol, equal_nan))


# =========================================================================== reductions
def _sum_dtype(d: str) -> str:
    if d in ("bool", "int8", "int16"):
        return "int32"
    if d in ("uint8", "uint16"):
        return "uint32"
    return d


@_op("sum")
def sum(x, axis=None, keepdims=False):  # noqa: A001 - Keras' name
    """The sum over ``axis`` (all axes for None); small ints sum as int32/uint32."""
    x = tensor(x)
    x = cast(x, _sum_dtype(x.dtype.name))
    return tf.reduce_sum(x, axis=_axis(axis, _rank(x)), keepdims=keepdims)


@_op("prod")
def prod(x, axis=None, keepdims=False, dtype=None):
    """The product over ``axis``; small ints multiply as int32/uint32."""
    x = tensor(x)
    dtype = (standardize_dtype(dtype) if dtype is not None
             else _sum_dtype(result_type(x.dtype.name)))  # fmt: skip
    x = cast(x, dtype)
    if x.dtype.name == "bool":
        return tf.reduce_all(x, axis=_axis(axis, _rank(x)), keepdims=keepdims)
    return tf.reduce_prod(x, axis=_axis(axis, _rank(x)), keepdims=keepdims)


@_op("mean")
def mean(x, axis=None, keepdims=False):
    """The mean over ``axis``; ints average as float32, half floats accumulate in float32."""
    x = tensor(x)
    d = x.dtype.name
    compute = result_type(d, "float32")
    out_dtype = compute if (_is_int(d) or d == "bool") else d
    out = tf.reduce_mean(cast(x, compute), axis=_axis(axis, _rank(x)), keepdims=keepdims)
    return cast(out, out_dtype)


def _reduce_extreme(rill_fn, combine, x, axis, keepdims, initial):
    x = tensor(x)
    is_bool = x.dtype.name == "bool"
    if is_bool:
        x = cast(x, "int32")
    out = rill_fn(x, axis=_axis(axis, _rank(x)), keepdims=keepdims)
    if initial is not None:
        out = combine(out, tf.cast(initial, out.dtype))
    return cast(out, "bool") if is_bool else out


@_op("max")
def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001 - Keras' name
    """The maximum over ``axis`` (at least ``initial`` when given)."""
    return _reduce_extreme(tf.reduce_max, tf.maximum, x, axis, keepdims, initial)


@_op("min")
def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001 - Keras' name
    """The minimum over ``axis`` (at most ``initial`` when given)."""
    return _reduce_extreme(tf.reduce_min, tf.minimum, x, axis, keepdims, initial)


@_op("amax")
def amax(x, axis=None, keepdims=False):
    """The maximum over ``axis``."""
    return _reduce_extreme(tf.reduce_max, tf.maximum, x, axis, keepdims, None)


@_op("amin")
def amin(x, axis=None, keepdims=False):
    """The minimum over ``axis``."""
    return _reduce_extreme(tf.reduce_min, tf.minimum, x, axis, keepdims, None)


@_op("all")
def all(x, axis=None, keepdims=False):  # noqa: A001 - Keras' name
    """Whether every element (as a bool) is true, over ``axis``."""
    x = cast(tensor(x), "bool")
    return tf.reduce_all(x, axis=_axis(axis, _rank(x)), keepdims=keepdims)


@_op("any")
def any(x, axis=None, keepdims=False):  # noqa: A001 - Keras' name
    """Whether some element (as a bool) is true, over ``axis``."""
    x = cast(tensor(x), "bool")
    return tf.reduce_any(x, axis=_axis(axis, _rank(x)), keepdims=keepdims)


def _var(x, axis, keepdims):
    d = x.dtype.name
    compute = result_type(d, "float32")
    out_dtype = result_type(d, float)
    x = cast(x, compute)
    ax = _axis(axis, _rank(x))
    m = tf.reduce_mean(x, axis=ax, keepdims=True)
    c = x - m
    if c.dtype.is_complex:
        sq = tf.math.real(c * tf.math.conj(c))
    else:
        sq = tf.square(c)
    return cast(tf.reduce_mean(sq, axis=ax, keepdims=keepdims), out_dtype)


@_op("var")
def var(x, axis=None, keepdims=False):
    """The (population) variance over ``axis``."""
    return _var(tensor(x), axis, keepdims)


@_op("std")
def std(x, axis=None, keepdims=False):
    """The (population) standard deviation over ``axis``."""
    x = tensor(x)
    d = x.dtype.name
    if _is_int(d) or d == "bool":
        x = cast(x, config.floatx())
    return tf.sqrt(_var(x, axis, keepdims))


def _arg_extreme(rill_fn, x, axis, keepdims):
    x = tensor(x)
    if x.dtype.name == "bool":
        x = cast(x, "int32")
    if axis is None:
        flat = tf.reshape(x, [-1])
        out = rill_fn(flat, axis=0, output_type="int32")
        if keepdims:
            out = tf.reshape(out, [1] * _rank(x))
        return out
    ax = _axis(axis, _rank(x))
    out = rill_fn(x, axis=ax, output_type="int32")
    return tf.expand_dims(out, ax) if keepdims else out


@_op("argmax")
def argmax(x, axis=None, keepdims=False):
    """The index of the maximum (first on ties), over the flattened ``x`` for None."""
    return _arg_extreme(tf.argmax, x, axis, keepdims)


@_op("argmin")
def argmin(x, axis=None, keepdims=False):
    """The index of the minimum (first on ties), over the flattened ``x`` for None."""
    return _arg_extreme(tf.argmin, x, axis, keepdims)


def _cumulative(rill_fn, x, axis, dtype):
    x = tensor(x, dtype)
    if x.dtype.name == "bool":
        x = cast(x, "int32")
    if axis is None:
        x = tf.reshape(x, [-1])
        axis = 0
    return rill_fn(x, axis=_axis(axis, _rank(x)))


@_op("cumsum")
def cumsum(x, axis=None, dtype=None):
    """Running sums along ``axis`` (of the flattened ``x`` for None)."""
    return _cumulative(tf.math.cumsum, x, axis, dtype)


@_op("cumprod")
def cumprod(x, axis=None, dtype=None):
    """Running products along ``axis`` (of the flattened ``x`` for None)."""
    return _cumulative(tf.math.cumprod, x, axis, dtype)


@_op("count_nonzero")
def count_nonzero(x, axis=None):
    """The number of non-zero elements over ``axis``, as int32."""
    x = tensor(x)
    nz = cast(tf.not_equal(x, tf.zeros((), x.dtype)), "int32")
    return tf.reduce_sum(nz, axis=_axis(axis, _rank(x)))


@_op("ptp")
def ptp(x, axis=None, keepdims=False):
    """Peak to peak: ``max - min`` over ``axis``."""
    x = tensor(x)
    ax = _axis(axis, _rank(x))
    return tf.reduce_max(x, axis=ax, keepdims=keepdims) - tf.reduce_min(
        x, axis=ax, keepdims=keepdims
    )


@_op("average")
def average(x, axis=None, weights=None):
    """The (weighted) mean over ``axis``; 1-D ``weights`` weigh ``axis`` alone."""
    x = tensor(x)
    if weights is None:
        x = cast(x, result_type(x.dtype.name, float))
        return tf.reduce_mean(x, axis=_axis(axis, _rank(x)))
    w = tensor(weights)
    dtype = result_type(x.dtype.name, w.dtype.name, float)
    x, w = cast(x, dtype), cast(w, dtype)
    if axis is None or _rank(x) == _rank(w):
        ax = _axis(axis, _rank(x))
        return tf.reduce_sum(x * w, axis=ax) / tf.reduce_sum(w, axis=ax)
    ax = _axis(axis, _rank(x))
    return _via_float32(lambda a, b: tf.tensordot(a, b, [[ax], [0]]), x, w) / tf.reduce_sum(w)


# quantiles ----------------------------------------------------------------------------
_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(x, q, axis, method, keepdims, ignore_nan=False):
    """NumPy's quantile (``q`` in [0, 1]), on a float ``x``; the q axes come first."""
    if method not in _METHODS:
        raise ValueError(
            f"Invalid value for argument `method`. Expected one of {_METHODS}. "
            f"Received: method={method}"
        )
    q = tensor(q)
    rank = _rank(x)
    axes = tuple(range(rank)) if axis is None else _axis(axis, rank)
    axes = axes if isinstance(axes, tuple) else (axes,)
    keep = [i for i in range(rank) if i not in axes]
    y = tf.transpose(x, keep + list(axes)) if rank else x
    kept_dims = [shape_list(x)[i] for i in keep]
    y = tf.reshape(y, [*kept_dims, -1]) if rank else tf.reshape(y, [1])
    nan = tf.math.is_nan(y)
    if ignore_nan:
        y = tf.where(nan, tf.constant(np.inf, y.dtype), y)
    y = tf.sort(y, axis=-1)
    n_all = tf.cast(tf.shape(y)[-1], "float64")
    n = (
        n_all - tf.reduce_sum(tf.cast(nan, "float64"), -1, keepdims=True)
        if ignore_nan
        else (tf.fill(tf.concat([tf.shape(y)[:-1], [1]], 0), n_all))
    )
    qf = tf.reshape(tf.cast(q, "float64"), [-1])  # (nq,)
    pos = qf * (tf.maximum(n, 1.0) - 1)  # (..., nq)
    lo = tf.floor(pos)
    hi = tf.math.ceil(pos)
    if method == "lower":
        idx_lo = idx_hi = lo
    elif method == "higher":
        idx_lo = idx_hi = hi
    elif method == "nearest":
        idx_lo = idx_hi = tf.round(pos)
    else:
        idx_lo, idx_hi = lo, hi
    last = tf.cast(tf.shape(y)[-1] - 1, "float64")
    g_lo = tf.gather(
        y,
        tf.cast(tf.clip_by_value(idx_lo, 0.0, last), "int32"),
        batch_dims=rank - len(axes) if rank else 0,
        axis=-1,
    )  # noqa: E501
    g_hi = tf.gather(
        y,
        tf.cast(tf.clip_by_value(idx_hi, 0.0, last), "int32"),
        batch_dims=rank - len(axes) if rank else 0,
        axis=-1,
    )  # noqa: E501
    if method == "linear":
        frac = tf.cast(pos - lo, y.dtype)
        out = g_lo + (g_hi - g_lo) * frac
    elif method == "midpoint":
        out = (g_lo + g_hi) * tf.constant(0.5, y.dtype)
    else:
        out = g_lo
    if ignore_nan:
        out = tf.where(tf.equal(n, 0), tf.constant(np.nan, y.dtype), out)
    else:
        any_nan = tf.reduce_any(nan, axis=-1, keepdims=True)
        out = tf.where(any_nan, tf.constant(np.nan, y.dtype), out)
    # (..., nq) -> (nq, ...), then keepdims
    nd = len(kept_dims)
    out = tf.transpose(out, [nd, *range(nd)])
    if keepdims:
        shape = [1 if i in axes else d for i, d in enumerate(shape_list(x))]
        out = tf.reshape(out, [-1, *shape])
    if q.shape.rank == 0:
        out = tf.squeeze(out, 0)
    else:
        out = tf.reshape(out, tf.concat([tf.shape(q), tf.shape(out)[1:]], 0))
    return out


def _quantile_input(x):
    x = tensor(x)
    return cast(x, result_type(x.dtype.name, float))


@_op("quantile")
def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantiles (``q`` in [0, 1]) over ``axis``, NumPy's methods."""
    return _quantile(_quantile_input(x), q, axis, method, keepdims)


@_op("percentile")
def percentile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th percentiles (``q`` in [0, 100]) over ``axis``."""
    q = tensor(q, config.floatx()) / 100.0
    return _quantile(_quantile_input(x), q, axis, method, keepdims)


@_op("median")
def median(x, axis=None, keepdims=False):
    """The median over ``axis``."""
    return _quantile(_quantile_input(x), 0.5, axis, "linear", keepdims)


@_op("nanquantile")
def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """``quantile`` ignoring NaNs."""
    return _quantile(_quantile_input(x), q, axis, method, keepdims, ignore_nan=True)


@_op("nanpercentile")
def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """``percentile`` ignoring NaNs."""
    q = tensor(q, config.floatx()) / 100.0
    return _quantile(_quantile_input(x), q, axis, method, keepdims, ignore_nan=True)


@_op("nanmedian")
def nanmedian(x, axis=None, keepdims=False):
    """``median`` ignoring NaNs."""
    return _quantile(_quantile_input(x), 0.5, axis, "linear", keepdims, ignore_nan=True)


# NaN-ignoring reductions --------------------------------------------------------------
def _not_nan(x):
    return tf.logical_not(tf.math.is_nan(x))


@_op("nansum")
def nansum(x, axis=None, keepdims=False):
    """``sum`` treating NaNs as 0."""
    x = tensor(x)
    if x.dtype.is_floating:
        x = tf.where(tf.math.is_nan(x), tf.zeros_like(x), x)
    return sum.__wrapped__(x, axis, keepdims)


@_op("nanprod")
def nanprod(x, axis=None, keepdims=False):
    """``prod`` treating NaNs as 1."""
    x = tensor(x)
    if x.dtype.is_floating:
        x = tf.where(tf.math.is_nan(x), tf.ones_like(x), x)
    return prod.__wrapped__(x, axis, keepdims)


def _nan_extreme(fill, reduce_fn, x, axis, keepdims):
    x = tensor(x)
    if not x.dtype.is_floating:
        return _reduce_extreme(reduce_fn, None, x, axis, keepdims, None)
    ax = _axis(axis, _rank(x))
    nan = tf.math.is_nan(x)
    out = reduce_fn(tf.where(nan, tf.constant(fill, x.dtype), x), axis=ax, keepdims=keepdims)
    all_nan = tf.reduce_all(nan, axis=ax, keepdims=keepdims)
    return tf.where(all_nan, tf.constant(np.nan, x.dtype), out)


@_op("nanmax")
def nanmax(x, axis=None, keepdims=False):
    """``max`` ignoring NaNs (NaN where all are NaN)."""
    return _nan_extreme(-np.inf, tf.reduce_max, x, axis, keepdims)


@_op("nanmin")
def nanmin(x, axis=None, keepdims=False):
    """``min`` ignoring NaNs (NaN where all are NaN)."""
    return _nan_extreme(np.inf, tf.reduce_min, x, axis, keepdims)


@_op("nanmean")
def nanmean(x, axis=None, keepdims=False):
    """``mean`` of the non-NaN elements."""
    x = tensor(x)
    if not x.dtype.is_floating:
        return mean.__wrapped__(cast(x, "float32") if x.dtype.name == "bool" else x, axis,
                                keepdims)  # fmt: skip
    dtype = result_type(x.dtype.name, float)
    ax = _axis(axis, _rank(x))
    total = tf.reduce_sum(tf.where(tf.math.is_nan(x), tf.zeros_like(x), x), ax, keepdims)
    count = tf.reduce_sum(cast(_not_nan(x), dtype), ax, keepdims)
    return cast(total, dtype) / count


@_op("nanvar")
def nanvar(x, axis=None, keepdims=False):
    """``var`` of the non-NaN elements."""
    x = tensor(x)
    x = cast(x, result_type(x.dtype.name, float))
    if not x.dtype.is_floating:
        return _var(x, axis, keepdims)
    ax = _axis(axis, _rank(x))
    valid = _not_nan(x)
    zero = tf.zeros_like(x)
    count = tf.reduce_sum(cast(valid, x.dtype.name), ax, keepdims=True)
    m = tf.reduce_sum(tf.where(valid, x, zero), ax, keepdims=True) / count
    sq = tf.where(valid, tf.square(x - m), zero)
    return tf.reduce_sum(sq, ax, keepdims) / tf.reduce_sum(cast(valid, x.dtype.name), ax, keepdims)


@_op("nanstd")
def nanstd(x, axis=None, keepdims=False):
    """``std`` of the non-NaN elements."""
    return tf.sqrt(nanvar.__wrapped__(x, axis, keepdims))


def _nan_arg(rill_fn, fill, x, axis, keepdims):
    x = tensor(x)
    if not x.dtype.is_floating:
        return _arg_extreme(rill_fn, x, axis, keepdims)
    nan = tf.math.is_nan(x)
    idx = _arg_extreme(rill_fn, tf.where(nan, tf.constant(fill, x.dtype), x), axis, keepdims)
    if axis is None:
        all_nan = tf.reduce_all(nan)
        if keepdims:
            all_nan = tf.reshape(all_nan, [1] * _rank(x))
    else:
        all_nan = tf.reduce_all(nan, axis=_axis(axis, _rank(x)), keepdims=keepdims)
    return tf.where(all_nan, tf.constant(-1, "int32"), idx)


@_op("nanargmax")
def nanargmax(x, axis=None, keepdims=False):
    """``argmax`` ignoring NaNs (-1 where all are NaN)."""
    return _nan_arg(tf.argmax, -np.inf, x, axis, keepdims)


@_op("nanargmin")
def nanargmin(x, axis=None, keepdims=False):
    """``argmin`` ignoring NaNs (-1 where all are NaN)."""
    return _nan_arg(tf.argmin, np.inf, x, axis, keepdims)


@_op("nancumsum")
def nancumsum(x, axis=None, dtype=None):
    """``cumsum`` treating NaNs as 0."""
    x = tensor(x, dtype)
    if x.dtype.is_floating:
        x = tf.where(tf.math.is_nan(x), tf.zeros_like(x), x)
    return _cumulative(tf.math.cumsum, x, axis, None)


@_op("nancumprod")
def nancumprod(x, axis=None, dtype=None):
    """``cumprod`` treating NaNs as 1."""
    x = tensor(x, dtype)
    if x.dtype.is_floating:
        x = tf.where(tf.math.is_nan(x), tf.ones_like(x), x)
    return _cumulative(tf.math.cumprod, x, axis, None)


# ============================================================================ creation
def _dtype_or_floatx(dtype):
    return standardize_dtype(dtype) if dtype is not None else config.floatx()


def _shape_arg(shape):
    if isinstance(shape, int):
        return [shape]
    if isinstance(shape, (list, tuple)):
        return [int(s) if isinstance(s, (int, np.integer)) else s for s in shape]
    return shape


def zeros(shape, dtype=None):
    """A tensor of zeros (``floatx()`` by default)."""
    return tf.zeros(_shape_arg(shape), dtype=_dtype_or_floatx(dtype))


def ones(shape, dtype=None):
    """A tensor of ones (``floatx()`` by default)."""
    return tf.ones(_shape_arg(shape), dtype=_dtype_or_floatx(dtype))


def empty(shape, dtype=None):
    """An uninitialised tensor: zeros here (``floatx()`` by default)."""
    return tf.zeros(_shape_arg(shape), dtype=_dtype_or_floatx(dtype))


@_op("full")
def full(shape, fill_value, dtype=None):
    """``shape`` filled with ``fill_value`` (``floatx()`` by default)."""
    value = tensor(fill_value, _dtype_or_floatx(dtype))
    return tf.broadcast_to(value, _shape_arg(shape))


def _like_dtype(x, dtype):
    return standardize_dtype(dtype) if dtype is not None else x.dtype.name


@_op("zeros_like")
def zeros_like(x, dtype=None):
    """Zeros of ``x``'s shape (and dtype, unless given)."""
    x = tensor(x)
    return tf.zeros(tf.shape(x), dtype=_like_dtype(x, dtype))


@_op("ones_like")
def ones_like(x, dtype=None):
    """Ones of ``x``'s shape (and dtype, unless given)."""
    x = tensor(x)
    return tf.ones(tf.shape(x), dtype=_like_dtype(x, dtype))


@_op("empty_like")
def empty_like(x, dtype=None):
    """An uninitialised tensor like ``x``: zeros here."""
    x = tensor(x)
    return tf.zeros(tf.shape(x), dtype=_like_dtype(x, dtype))


@_op("full_like")
def full_like(x, fill_value, dtype=None):
    """``fill_value`` in ``x``'s shape (and dtype, unless given)."""
    x = tensor(x)
    dtype = result_type(_like_dtype(x, dtype))
    return tf.broadcast_to(tensor(fill_value, dtype), tf.shape(x))


@_op("array")
def array(x, dtype=None):
    """``x`` as a tensor (of ``dtype``)."""
    return tensor(x, dtype)


@_op("copy")
def copy(x):
    """A copy of ``x`` (tensors are immutable: ``x`` itself, as a tensor)."""
    return tf.identity(tensor(x))


def _static_int(v, what):
    if isinstance(v, (int, np.integer)):
        return int(v)
    value = tf.get_static_value(tensor(v))
    if value is None:
        raise ValueError(f"`{what}` must be known when the op is built. Received: {v}")
    return int(value)


@_op("arange")
def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in ``[start, stop)`` by ``step`` (Keras' dtype inference)."""
    if dtype is None:
        parts = [dtype_arg(start)]
        if stop is not None:
            parts.append(dtype_arg(stop))
        if step is not None:
            parts.append(dtype_arg(step))
        dtype = result_type(*parts)
    dtype = standardize_dtype(dtype)
    if stop is None:
        start, stop = 0, start
    if step is None:
        step = 1
    if dtype in ("int32", "int64", "float32", "float64", "float16", "bfloat16"):
        return tf.range(tensor(start, dtype), tensor(stop, dtype), tensor(step, dtype))
    compute = "float64" if not _is_int(dtype) else "int64"
    return cast(tf.range(tensor(start, compute), tensor(stop, compute),
                         tensor(step, compute)), dtype)  # fmt: skip


@_op("linspace")
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` (inclusive with
    ``endpoint``); with ``retstep`` also the spacing."""
    if num < 0:
        raise ValueError(f"`num` must be a non-negative integer. Received: num={num}")
    if dtype is None:
        dtype = result_type(dtype_arg(start), dtype_arg(stop), float)
    dtype = standardize_dtype(dtype)
    compute = dtype if _is_float(dtype) else result_type(dtype, float)
    a = tensor(start, compute)
    b = tensor(stop, compute)
    div = (num - 1) if endpoint else num
    step = (
        (b - a) / tf.constant(builtins.max(div, 1), compute)
        if div > 0
        else (tf.constant(np.nan, compute))
    )
    if num == 0:
        shape = tf.concat([[0], tf.shape(a + b)], 0)
        out = tf.zeros(shape, compute)
        out = _move_new_axis(out, axis)
    else:
        t = tf.range(num, dtype=compute)
        shape = tf.shape(a + b)
        t = tf.reshape(t, tf.concat([[num], tf.ones_like(shape)], 0))
        out = a + t * tf.broadcast_to(step if div > 0 else tf.zeros_like(a + b), shape)
        if endpoint and num > 1:
            last = tf.expand_dims(tf.broadcast_to(b, shape), 0)
            out = tf.concat([out[:-1], last], 0)
        out = _move_new_axis(out, axis)
    if _is_int(dtype):
        out = tf.floor(out)
    out = cast(out, dtype)
    return (out, step) if retstep else out


def _move_new_axis(out, axis):
    """Move the leading axis of ``out`` to ``axis``."""
    rank = _rank(out)
    axis = axis % rank if rank else 0
    if axis == 0:
        return out
    perm = list(range(1, rank))
    perm.insert(axis, 0)
    return tf.transpose(out, perm)


@_op("logspace")
def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """``base ** linspace(start, stop)``."""
    exponents = linspace.__wrapped__(start, stop, num, endpoint, False, None, axis)
    out = tf.pow(tf.cast(base, exponents.dtype), exponents)
    return cast(out, standardize_dtype(dtype)) if dtype is not None else out


@_op("geomspace")
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` values spaced evenly on a log scale from ``start`` to ``stop``."""
    dtype = _dtype_or_floatx(dtype)
    a = cast(tensor(start), dtype)
    b = cast(tensor(stop), dtype)
    sign = tf.sign(a)
    e = linspace.__wrapped__(tf.math.log(tf.abs(a)), tf.math.log(tf.abs(b)), num, endpoint,
                             False, dtype, axis)  # fmt: skip
    out = tf.exp(e)
    out = out * _expand_like(sign, out, axis)
    if num > 0:  # exact endpoints, as NumPy
        out = _set_along(out, 0, _expand_like(a, out, axis), axis)
        if endpoint and num > 1:
            out = _set_along(out, num - 1, _expand_like(b, out, axis), axis)
    return out


def _expand_like(v, out, axis):
    v = tensor(v)
    if _rank(v) == _rank(out):
        return v
    return tf.expand_dims(v, axis % _rank(out))


def _set_along(out, index, value, axis):
    axis = axis % _rank(out)
    n = shape_list(out)[axis]
    mask_shape = [1] * _rank(out)
    mask_shape[axis] = -1
    mask = tf.reshape(tf.equal(tf.range(n), index), mask_shape)
    return tf.where(mask, tf.broadcast_to(value, tf.shape(out)), out)


def eye(N, M=None, k=0, dtype=None):  # noqa: N803 - Keras' name
    """An ``N x M`` matrix with ones on the ``k``-th diagonal."""
    dtype = _dtype_or_floatx(dtype)
    M = N if M is None else M  # noqa: N806
    rows = tf.reshape(tf.range(N), [-1, 1])
    cols = tf.reshape(tf.range(M), [1, -1])
    return cast(tf.equal(cols - rows, k), dtype)


def identity(n, dtype=None):
    """The ``n x n`` identity matrix."""
    return eye(n, n, 0, dtype)


def tri(N, M=None, k=0, dtype=None):  # noqa: N803 - Keras' name
    """An ``N x M`` matrix with ones at and below the ``k``-th diagonal."""
    dtype = _dtype_or_floatx(dtype)
    M = N if M is None else M  # noqa: N806
    rows = tf.reshape(tf.range(N), [-1, 1])
    cols = tf.reshape(tf.range(M), [1, -1])
    return cast(cols - rows <= k, dtype)


def _tri_mask(x, k, lower):
    shape = shape_list(x)
    rows = tf.reshape(tf.range(shape[-2]), [-1, 1])
    cols = tf.reshape(tf.range(shape[-1]), [1, -1])
    return (cols - rows <= k) if lower else (cols - rows >= k)


@_op("tril")
def tril(x, k=0):
    """``x`` with the elements above the ``k``-th diagonal zeroed."""
    x = tensor(x)
    return tf.where(_tri_mask(x, k, True), x, tf.zeros_like(x))


@_op("triu")
def triu(x, k=0):
    """``x`` with the elements below the ``k``-th diagonal zeroed."""
    x = tensor(x)
    return tf.where(_tri_mask(x, k, False), x, tf.zeros_like(x))


# windows ------------------------------------------------------------------------------
def _window(M, fn):  # noqa: N803
    m = _static_int(M, "x")
    dtype = config.floatx()
    if m < 1:
        return tf.zeros([0], dtype)
    if m == 1:
        return tf.ones([1], dtype)
    n = tf.range(m, dtype="float64")
    return cast(fn(n, float(m - 1)), dtype)


def bartlett(x):
    """The Bartlett (triangular) window of length ``x``."""
    return _window(x, lambda n, d: 1.0 - tf.abs(2.0 * n / d - 1.0))


def blackman(x):
    """The Blackman window of length ``x``."""
    return _window(x, lambda n, d: 0.42 - 0.5 * tf.cos(2 * np.pi * n / d)
                   + 0.08 * tf.cos(4 * np.pi * n / d))  # fmt: skip


def hamming(x):
    """The Hamming window of length ``x``."""
    return _window(x, lambda n, d: 0.54 - 0.46 * tf.cos(2 * np.pi * n / d))


def hanning(x):
    """The Hann window of length ``x``."""
    return _window(x, lambda n, d: 0.5 - 0.5 * tf.cos(2 * np.pi * n / d))


def kaiser(x, beta):
    """The Kaiser window of length ``x`` and shape ``beta``."""

    def fn(n, d):
        b = tf.constant(float(beta), "float64")
        r = 2.0 * n / d - 1.0
        return _i0(b * tf.sqrt(tf.maximum(1.0 - r * r, 0.0))) / _i0(b)

    return _window(x, fn)


# ====================================================================== shape and order
def ndim(x):
    """The rank of ``x`` (a Python int; a KerasTensor's too)."""
    return len(x.shape) if isinstance(x, KerasTensor) else _rank(tensor(x))


@_op("size")
def size(x):
    """The number of elements of ``x``, as a scalar int32 tensor."""
    return tf.size(tensor(x), out_type="int32")


@_op("reshape")
def reshape(x, newshape):
    """``x`` with shape ``newshape`` (one dimension may be -1)."""
    x = tensor(x)
    if isinstance(newshape, (list, tuple)):
        newshape = [-1 if d is None else d for d in newshape]
    return tf.reshape(x, _shape_arg(newshape))


@_op("transpose")
def transpose(x, axes=None):
    """``x`` with its axes permuted (reversed by default)."""
    x = tensor(x)
    if axes is not None:
        axes = list(axes)
        if len(axes) != _rank(x) or sorted(a % builtins.max(_rank(x), 1) for a in axes) != list(
            range(_rank(x))
        ):
            raise ValueError(f"axes don't match array: axes={axes} for rank {_rank(x)}")
        axes = [a % _rank(x) for a in axes]
    return tf.transpose(x, axes)


@_op("expand_dims")
def expand_dims(x, axis):
    """``x`` with new size-1 axes at ``axis`` (an int or a tuple)."""
    x = tensor(x)
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    out_rank = _rank(x) + len(axes)
    for a in sorted(_axis(a, out_rank) for a in axes):
        x = tf.expand_dims(x, a)
    return x


@_op("squeeze")
def squeeze(x, axis=None):
    """``x`` without its size-1 axes (those of ``axis``, which must be 1)."""
    x = tensor(x)
    if axis is None:
        return tf.squeeze(x)
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    dims = x.shape.as_list()
    axes = sorted({_axis(a, _rank(x)) for a in axes})
    for a in axes:
        if dims[a] is not None and dims[a] != 1:
            raise ValueError(f"Cannot squeeze axis={a}, because the dimension is not 1.")
    return tf.squeeze(x, axis=axes) if axes else x


@_op("moveaxis")
def moveaxis(x, source, destination):
    """``x`` with the axes ``source`` moved to ``destination``."""
    x = tensor(x)
    rank = _rank(x)
    src = source if isinstance(source, (list, tuple)) else [source]
    dst = destination if isinstance(destination, (list, tuple)) else [destination]
    if len(src) != len(dst):
        raise ValueError(
            "`source` and `destination` arguments must have the same number of elements, but "
            f"they have {len(src)} and {len(dst)} respectively."
        )
    src = [_axis(a, rank) for a in src]
    dst = [_axis(a, rank) for a in dst]
    perm = [i for i in range(rank) if i not in src]
    for d, s in sorted(zip(dst, src)):
        perm.insert(d, s)
    return tf.transpose(x, perm) if perm != list(range(rank)) else x


@_op("swapaxes")
def swapaxes(x, axis1, axis2):
    """``x`` with axes ``axis1`` and ``axis2`` exchanged."""
    x = tensor(x)
    rank = _rank(x)
    a, b = _axis(axis1, rank), _axis(axis2, rank)
    perm = list(range(rank))
    perm[a], perm[b] = perm[b], perm[a]
    return tf.transpose(x, perm)


@_op("ravel")
def ravel(x):
    """``x`` flattened to 1-D."""
    return tf.reshape(tensor(x), [-1])


@_op("flip")
def flip(x, axis=None):
    """``x`` reversed along ``axis`` (all axes for None)."""
    x = tensor(x)
    rank = _rank(x)
    axes = list(range(rank)) if axis is None else _axis(axis, rank)
    axes = (
        list(axes) if isinstance(axes, tuple) else ([axes] if not isinstance(axes, list) else axes)
    )
    return tf.reverse(x, axes) if axes else x


@_op("fliplr")
def fliplr(x):
    """``x`` reversed along axis 1."""
    x = tensor(x)
    if _rank(x) < 2:
        raise ValueError(f"Input must be >= 2-d. Received: input.shape={x.shape}")
    return tf.reverse(x, [1])


@_op("flipud")
def flipud(x):
    """``x`` reversed along axis 0."""
    x = tensor(x)
    if _rank(x) < 1:
        raise ValueError(f"Input must be >= 1-d. Received: input.shape={x.shape}")
    return tf.reverse(x, [0])


@_op("rot90")
def rot90(array, k=1, axes=(0, 1)):
    """``array`` rotated by 90 degrees ``k`` times in the plane of ``axes``."""
    x = tensor(array)
    if _rank(x) < 2:
        raise ValueError(
            f"Input array must have at least 2 dimensions. Received: array.ndim={_rank(x)}"
        )
    if len(axes) != 2 or axes[0] == axes[1]:
        raise ValueError(f"Invalid axes: {axes}. Axes must be a tuple of two different dimensions.")
    a, b = (_axis(v, _rank(x)) for v in axes)
    k = k % 4
    if k == 0:
        return x
    if k == 2:
        return tf.reverse(x, [a, b])
    perm = list(range(_rank(x)))
    perm[a], perm[b] = perm[b], perm[a]
    if k == 1:
        return tf.transpose(tf.reverse(x, [b]), perm)
    return tf.reverse(tf.transpose(x, perm), [b])


@_op("roll")
def roll(x, shift, axis=None):
    """``x`` shifted circularly by ``shift`` along ``axis`` (of the flattened ``x`` for
    None)."""
    x = tensor(x)
    if axis is None:
        return tf.reshape(tf.roll(tf.reshape(x, [-1]), shift, 0), tf.shape(x))
    return tf.roll(x, shift, axis)


@_op("tile")
def tile(x, repeats):
    """``x`` repeated ``repeats`` times along each axis (NumPy's broadcasting of
    ``repeats`` against the rank)."""
    x = tensor(x)
    reps = [repeats] if isinstance(repeats, int) else list(repeats)
    reps = [int(r) if isinstance(r, (int, np.integer)) else r for r in reps]
    if len(reps) < _rank(x):
        reps = [1] * (_rank(x) - len(reps)) + reps
    while len(reps) > _rank(x):
        x = tf.expand_dims(x, 0)
    return tf.tile(x, reps)


@_op("repeat")
def repeat(x, repeats, axis=None):
    """Each element repeated ``repeats`` times along ``axis`` (flattened for None)."""
    x = tensor(x)
    if axis is None:
        x = tf.reshape(x, [-1])
        axis = 0
    return tf.repeat(x, repeats, axis=axis)


@_op("broadcast_to")
def broadcast_to(x, shape):
    """``x`` broadcast to ``shape``."""
    return tf.broadcast_to(tensor(x), _shape_arg(shape))


def _join_dtype(xs):
    dtypes = {dtype_arg(x) if not isinstance(x, (list, tuple)) else tensor(x).dtype.name
              for x in xs}  # fmt: skip
    return result_type(*dtypes) if len(dtypes) > 1 else None


def _cast_all(xs):
    dtype = _join_dtype(xs)
    return [tensor(x, dtype) for x in xs]


@_op("concatenate")
def concatenate(xs, axis=0):
    """The tensors joined along ``axis`` (flattened first for None)."""
    xs = _cast_all(xs)
    if axis is None:
        xs = [tf.reshape(x, [-1]) for x in xs]
        axis = 0
    return tf.concat(xs, axis=axis)


@_op("stack")
def stack(x, axis=0):
    """The tensors stacked along a new axis ``axis``."""
    return tf.stack(_cast_all(x), axis=axis)


def _atleast(x, n):
    x = tensor(x)
    r = _rank(x)
    if r >= n:
        return x
    if n == 1:
        return tf.reshape(x, [1])
    if n == 2:
        return tf.reshape(x, [1, -1]) if r == 1 else tf.reshape(x, [1, 1])
    if r == 0:
        return tf.reshape(x, [1, 1, 1])
    if r == 1:
        return tf.reshape(x, [1, -1, 1])
    return tf.expand_dims(x, -1)


@_op("hstack")
def hstack(xs):
    """Concatenation along axis 1 (axis 0 for 1-D inputs)."""
    xs = _cast_all(xs)
    xs = [_atleast(x, 1) for x in xs]
    return tf.concat(xs, axis=0 if _rank(xs[0]) == 1 else 1)


@_op("vstack")
def vstack(xs):
    """Concatenation along axis 0 of the inputs as at-least-2-D."""
    return tf.concat([_atleast(x, 2) for x in _cast_all(xs)], axis=0)


@_op("dstack")
def dstack(xs):
    """Concatenation along axis 2 of the inputs as at-least-3-D."""
    return tf.concat([_atleast(x, 3) for x in _cast_all(xs)], axis=2)


@_op("append")
def append(x1, x2, axis=None):
    """``x2`` appended to ``x1`` along ``axis`` (both flattened for None)."""
    a, b = tensor(x1), tensor(x2)
    dtype = result_type(a.dtype.name, b.dtype.name)
    a, b = cast(a, dtype), cast(b, dtype)
    if axis is None:
        return tf.concat([tf.reshape(a, [-1]), tf.reshape(b, [-1])], 0)
    return tf.concat([a, b], axis)


def _split_sizes(total, indices_or_sections):
    if isinstance(indices_or_sections, (int, np.integer)):
        n = int(indices_or_sections)
        if total is not None and total % n:
            raise ValueError(
                f"array split does not result in an equal division: {total} into {n} parts."
            )
        return n
    idx = [int(i) for i in indices_or_sections]
    bounds = [0, *idx, total]
    return [builtins.max(0, builtins.min(b, total) - builtins.min(a, total))
            for a, b in zip(bounds[:-1], bounds[1:])]  # fmt: skip


@_op("split")
def split(x, indices_or_sections, axis=0):
    """``x`` split along ``axis`` into equal sections, or at the given indices."""
    x = tensor(x)
    total = x.shape.as_list()[axis]
    sizes = _split_sizes(total, indices_or_sections)
    return tf.split(x, sizes, axis=axis)


@_op("array_split")
def array_split(x, indices_or_sections, axis=0):
    """Like ``split``, but sections may differ in size by one (the first are larger)."""
    x = tensor(x)
    total = x.shape.as_list()[axis]
    if not isinstance(indices_or_sections, (int, np.integer)):
        return tf.split(x, _split_sizes(total, indices_or_sections), axis=axis)
    n = int(indices_or_sections)
    if n <= 0:
        raise ValueError(f"number sections must be larger than 0. Received: {n}")
    base, extra = divmod(total, n)
    return tf.split(x, [base + 1] * extra + [base] * (n - extra), axis=axis)


def _split_at(x, indices_or_sections, axis, min_rank, name):
    x = tensor(x)
    if _rank(x) < min_rank:
        raise ValueError(f"{name} only works on arrays of {min_rank} or more dimensions")
    return split.__wrapped__(x, indices_or_sections, axis)


@_op("hsplit")
def hsplit(x, indices_or_sections):
    """``split`` along axis 1 (axis 0 for 1-D ``x``)."""
    x = tensor(x)
    return _split_at(x, indices_or_sections, 0 if _rank(x) == 1 else 1, 1, "hsplit")


@_op("vsplit")
def vsplit(x, indices_or_sections):
    """``split`` along axis 0 (``x`` at least 2-D)."""
    return _split_at(x, indices_or_sections, 0, 2, "vsplit")


@_op("dsplit")
def dsplit(x, indices_or_sections):
    """``split`` along axis 2 (``x`` at least 3-D)."""
    return _split_at(x, indices_or_sections, 2, 3, "dsplit")


@_op("pad")
def pad(x, pad_width, mode="constant", constant_values=None):
    """``x`` padded by ``pad_width`` (per axis ``(before, after)``), with ``mode``
    "constant", "reflect" or "symmetric"."""
    x = tensor(x)
    mode = mode.lower()
    if constant_values is not None and mode != "constant":
        raise ValueError(
            "Argument `constant_values` can only be provided when `mode == 'constant'`. "
            f"Received: mode={mode}"
        )
    if mode not in ("constant", "reflect", "symmetric"):
        raise ValueError(
            f"`mode` must be one of 'constant', 'reflect', 'symmetric'. Received: mode={mode}"
        )
    pw = np.asarray(pad_width, dtype=np.int64) if not isinstance(pad_width, tf.Tensor) else None
    if pw is not None:
        pw = np.broadcast_to(pw, (_rank(x), 2))
        pad_width = pw.tolist()
    kwargs = {} if constant_values is None else {"constant_values": constant_values}
    return tf.pad(x, pad_width, mode.upper(), **kwargs)


# =============================================================================== indexing
def _fix_negative(indices, dim):
    return tf.where(indices < 0, indices + tf.cast(dim, indices.dtype), indices)


@_op("take")
def take(x, indices, axis=None):
    """Elements of ``x`` at ``indices`` along ``axis`` (of the flattened ``x`` for None);
    negative indices count from the end."""
    x = tensor(x)
    if axis is None:
        x = tf.reshape(x, [-1])
        axis = 0
    axis = _axis(axis, _rank(x))
    idx = tensor(indices)
    if idx.dtype.is_floating:
        idx = cast(idx, "int32")
    idx = _fix_negative(idx, shape_list(x)[axis])
    return tf.gather(x, idx, axis=axis)


@_op("take_along_axis")
def take_along_axis(x, indices, axis=None):
    """Elements of ``x`` picked by ``indices`` along ``axis`` (NumPy's
    ``take_along_axis``; the other axes broadcast)."""
    x = tensor(x)
    idx = cast(tensor(indices), "int64")
    if axis is None:
        if _rank(idx) != 1:
            raise ValueError(
                f"`indices` must be 1D if axis=None. Received: indices.shape={idx.shape}"
            )
        x = tf.reshape(x, [-1])
        axis = 0
    rank = _rank(x)
    if not -rank <= axis < rank:
        raise ValueError(f"Invalid axis: {axis} for input rank: {rank}")
    axis %= rank
    xs, ids = shape_list(x), shape_list(idx)
    if len(ids) != rank:
        raise ValueError(
            f"`x` and `indices` must have the same number of dimensions. Received: "
            f"x.shape={x.shape}, indices.shape={idx.shape}"
        )
    # the other axes broadcast; the axis keeps each operand's own length
    common = []
    for i, (a, b) in enumerate(zip(xs, ids)):
        if i == axis:
            common.append(None)
        elif isinstance(a, int) and isinstance(b, int):
            if a != b and 1 not in (a, b):
                raise ValueError(
                    f"Incompatible shapes for take_along_axis: {x.shape} and {idx.shape}"
                )
            common.append(builtins.max(a, b))
        else:
            common.append(tf.maximum(a, b))
    x_shape = [xs[axis] if i == axis else d for i, d in enumerate(common)]
    i_shape = [ids[axis] if i == axis else d for i, d in enumerate(common)]
    if builtins.any(isinstance(d, tf.Tensor) for d in x_shape + i_shape):
        x_shape = tf.stack([tf.cast(d, "int32") for d in x_shape])
        i_shape = tf.stack([tf.cast(d, "int32") for d in i_shape])
    x = tf.broadcast_to(x, x_shape)
    idx = tf.broadcast_to(idx, i_shape)
    idx = _fix_negative(idx, xs[axis])
    # move the axis last, gather with batch dims, move it back
    perm = [i for i in range(rank) if i != axis] + [axis]
    inv = np.argsort(perm).tolist()
    out = tf.gather(tf.transpose(x, perm), tf.transpose(idx, perm), batch_dims=rank - 1, axis=-1)
    return tf.transpose(out, inv)


@_op("get_item", "GetItem")
def get_item(x, key):
    """``x[key]``."""
    return tensor(x)[key]


@_op("diag")
def diag(x, k=0):
    """The ``k``-th diagonal of a 2-D ``x``, or a 2-D matrix with 1-D ``x`` on it."""
    x = tensor(x)
    if _rank(x) == 1:
        n = shape_list(x)[0] + builtins.abs(k)
        return tf.linalg.diag(x, k=k, num_rows=n, num_cols=n)
    if _rank(x) == 2:
        return diagonal.__wrapped__(x, k, 0, 1)
    raise ValueError(f"`x` must be 1d or 2d. Received: x.shape={x.shape}")


@_op("diagflat")
def diagflat(x, k=0):
    """A 2-D matrix with the flattened ``x`` on its ``k``-th diagonal."""
    return diag.__wrapped__(tf.reshape(tensor(x), [-1]), k)


@_op("diagonal")
def diagonal(x, offset=0, axis1=0, axis2=1):
    """The ``offset`` diagonal of the ``(axis1, axis2)`` planes, as the last axis."""
    x = tensor(x)
    x = moveaxis.__wrapped__(x, (axis1, axis2), (-2, -1))
    rows, cols = x.shape.as_list()[-2:]
    if rows is not None and cols is not None and (offset <= -rows or offset >= cols):
        shape = tf.concat([tf.shape(x)[:-2], [0]], 0)
        return tf.zeros(shape, x.dtype)
    return tf.linalg.diag_part(x, k=offset)


@_op("trace")
def trace(x, offset=0, axis1=0, axis2=1):
    """The sum of the ``offset`` diagonal of the ``(axis1, axis2)`` planes."""
    x = tensor(x)
    x = cast(x, _sum_dtype(x.dtype.name))
    return tf.reduce_sum(diagonal.__wrapped__(x, offset, axis1, axis2), axis=-1)


@_op("where")
def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` else ``x2``; with only ``condition``, ``nonzero``."""
    c = cast(tensor(condition), "bool")
    if x1 is None and x2 is None:
        return nonzero.__wrapped__(c)
    if x1 is None or x2 is None:
        raise ValueError(
            "`x1` and `x2` either both should be `None` or both should have non-None value."
        )
    a, b = promote(x1, x2)
    return tf.where(c, a, b)


@_op("select")
def select(condlist, choicelist, default=0):
    """The first ``choicelist`` entry whose condition holds, per element, else
    ``default``."""
    if len(condlist) != len(choicelist):
        raise ValueError(
            "condlist and choicelist must have the same length. Received: "
            f"len(condlist)={len(condlist)}, len(choicelist)={len(choicelist)}"
        )
    choices = _cast_all([*choicelist, default])
    out = choices[-1]
    for c, v in reversed(list(zip(condlist, choices[:-1]))):
        c = cast(tensor(c), "bool")
        shape = broadcast_shape(shape_list(c), shape_list(v), shape_list(out))
        out = tf.where(tf.broadcast_to(c, shape), tf.broadcast_to(v, shape),
                       tf.broadcast_to(out, shape))  # fmt: skip
    return out


@_op("nonzero")
def nonzero(x):
    """A tuple with the indices of the non-zero elements, one int32 tensor per axis."""
    x = tensor(x)
    idx = tf.where(cast(x, "bool"))
    return tuple(tf.cast(idx[:, i], "int32") for i in range(_rank(x)))


@_op("unravel_index")
def unravel_index(indices, shape):
    """The coordinates, in an array of ``shape``, of flat ``indices`` (a tuple)."""
    idx = tensor(indices)
    if None in shape:
        raise ValueError(f"`shape` argument cannot contain `None`. Received: shape={shape}")
    coords = []
    for dim in reversed(list(shape)):
        coords.append(tf.math.floormod(idx, dim))
        idx = tf.math.floordiv(idx, dim)
    return tuple(reversed(coords))


@_op("meshgrid")
def meshgrid(*x, indexing="xy"):
    """Coordinate matrices from 1-D coordinate vectors (``"xy"`` or ``"ij"``)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"Valid values for `indexing` are 'xy' and 'ij'. Received: {indexing}")
    return tf.meshgrid(*[tensor(v) for v in x], indexing=indexing)


# ================================================================================ sorting
@_op("sort")
def sort(x, axis=-1):
    """``x`` sorted along ``axis`` (of the flattened ``x`` for None)."""
    x = tensor(x)
    if axis is None:
        x = tf.reshape(x, [-1])
        axis = 0
    if x.dtype.name == "bool":
        return cast(tf.sort(cast(x, "int8"), axis=axis), "bool")
    return tf.sort(x, axis=axis)


@_op("argsort")
def argsort(x, axis=-1):
    """The indices that sort ``x`` along ``axis`` (stable)."""
    x = tensor(x)
    if axis is None:
        x = tf.reshape(x, [-1])
        axis = 0
    if _rank(x) == 0:
        return tf.constant([0], "int32")
    if x.dtype.name == "bool":
        x = cast(x, "uint8")
    return tf.argsort(x, axis=axis, stable=True)


@_op("argpartition")
def argpartition(x, kth, axis=-1):
    """Indices that partition ``x`` along ``axis`` around its ``kth`` element: those of
    the smallest ``kth + 1`` first (in order), then the rest."""
    x = tensor(x)
    if x.dtype.name == "bool":
        x = cast(x, "int32")
    if axis is None:
        x = tf.reshape(x, [-1])
        axis = -1
    x = swapaxes.__wrapped__(x, axis, -1) if _rank(x) > 1 else x
    n = shape_list(x)[-1]
    order = tf.argsort(x, axis=-1, stable=True)
    kth = int(kth) % n if isinstance(n, int) and kth < 0 else int(kth)
    head = order[..., : kth + 1]
    rest = tf.sort(order[..., kth + 1 :], axis=-1)
    out = tf.concat([head, rest], axis=-1)
    return swapaxes.__wrapped__(out, -1, axis) if _rank(out) > 1 else out


def _count_below(sorted_1d, values, right):
    v = tf.expand_dims(values, -1)
    cmp = tf.less_equal(sorted_1d, v) if right else tf.less(sorted_1d, v)
    return tf.reduce_sum(cast(cmp, "int32"), axis=-1)


@_op("searchsorted", "SearchSorted")
def searchsorted(sorted_sequence, values, side="left"):
    """Where ``values`` would be inserted into the 1-D ``sorted_sequence`` to keep it
    sorted (before equal elements for ``"left"``, after them for ``"right"``)."""
    if side not in ("left", "right"):
        raise ValueError(f"`side` must be either 'left' or 'right'. Received: side={side}")
    s, v = tensor(sorted_sequence), tensor(values)
    if _rank(s) != 1:
        raise ValueError(
            "`searchsorted` only supports 1-D sorted sequences. You can use "
            "`keras.ops.vectorized_map` to extend it to N-D sequences. Received: "
            f"sorted_sequence.shape={s.shape}"
        )
    dtype = result_type(s.dtype.name, v.dtype.name)
    return _count_below(cast(s, dtype), cast(v, dtype), side == "right")


@_op("digitize")
def digitize(x, bins):
    """The index of the bin each element of ``x`` falls in (``bins`` increasing):
    ``i`` with ``bins[i-1] <= x < bins[i]``, as int32."""
    x = tensor(x)
    edges = tf.constant([float(b) for b in bins], "float64")
    d = x.dtype.name
    if d == "bool":
        x = cast(x, "int32")
    out = _count_below(edges, cast(x, "float64"), right=True)
    return out


@_op("histogram")
def histogram(x, bins=10, range=None):  # noqa: A002 - Keras' name
    """Counts of the 1-D ``x`` in ``bins`` equal bins over ``range`` (its min and max by
    default), and the bin edges."""
    x = tensor(x)
    if _rank(x) != 1:
        raise ValueError(f"Input tensor must be 1-dimensional. Received: input.shape={x.shape}")
    if not isinstance(bins, int) or bins < 1:
        raise ValueError(f"Argument `bins` should be a non-negative integer. Received: bins={bins}")
    if range is None:
        lo, hi = tf.reduce_min(x), tf.reduce_max(x)
    else:
        lo, hi = tensor(range[0], x.dtype.name), tensor(range[1], x.dtype.name)
    edges = cast(tf.linspace(cast(lo, "float64"), cast(hi, "float64"), bins + 1), x.dtype.name)
    inside = tf.logical_and(x >= lo, x <= hi)
    idx = _count_below(edges[1:-1], x, right=True)
    onehot = tf.one_hot(idx, bins, dtype=x.dtype) * tf.expand_dims(cast(inside, x.dtype.name), -1)
    return tf.reduce_sum(onehot, axis=0), edges


@_op("bincount")
def bincount(x, weights=None, minlength=0, sparse=False):
    """The number of occurrences (or the summed ``weights``) of each non-negative int in
    ``x`` (1-D, or 2-D counted per row)."""
    if sparse:
        raise ValueError("rill's keras.ops.bincount does not produce sparse outputs (sparse=True).")
    x = tensor(x)
    if x.dtype.name not in ("int32", "int64"):
        x = cast(x, "int32")
    if weights is None:
        return tf.math.bincount(x, minlength=minlength, dtype="int32",
                                axis=-1 if _rank(x) == 2 else None)  # fmt: skip
    w = tensor(weights)
    dtype = result_type(x.dtype.name, w.dtype.name)
    compute = "float32" if not _is_int(w.dtype.name) else "int32"
    if w.dtype.name in ("int32", "int64", "float32", "float64"):
        compute = w.dtype.name
    out = tf.math.bincount(x, weights=cast(w, compute), minlength=minlength, dtype=compute,
                           axis=-1 if _rank(x) == 2 else None)  # fmt: skip
    return cast(out, dtype)


@_op("unique")
def unique(x, sorted=True, return_index=False, return_inverse=False, return_counts=False,  # noqa: A002
           axis=None, size=None, fill_value=None):  # fmt: skip
    """The unique elements of ``x`` (sorted), with the first indices, the inverse map and
    the counts as asked; ``size`` pads (with ``fill_value``) or truncates to a static
    length."""
    x = tensor(x)
    if axis is not None:
        return _unique_axis(x, sorted, return_index, return_inverse, return_counts, axis, size,
                            fill_value)  # fmt: skip
    flat = tf.reshape(x, [-1])
    y, inverse, counts = tf.unique_with_counts(flat, out_idx="int32")
    n = tf.shape(y)[0]
    first = tf.math.unsorted_segment_min(tf.range(tf.size(flat)), inverse, n)
    if sorted:
        order = tf.argsort(y, stable=True) if y.dtype.name != "bool" else tf.argsort(
            cast(y, "int8"), stable=True)  # fmt: skip
        y = tf.gather(y, order)
        first = tf.gather(first, order)
        counts = tf.gather(counts, order)
        inverse = tf.gather(tf.argsort(order), inverse)  # the inverse permutation
    if size is not None:
        y = _fit(y, size, 0 if fill_value is None else fill_value)
        first = _fit(first, size, 0)
        counts = _fit(counts, size, 0)
    inverse = tf.reshape(inverse, tf.shape(x)) if _rank(x) != 1 else inverse
    out = [y]
    if return_index:
        out.append(first)
    if return_inverse:
        out.append(inverse)
    if return_counts:
        out.append(counts)
    return out[0] if len(out) == 1 else tuple(out)


def _fit(v, size, fill):
    """``v`` (1-D, or along axis 0) truncated or padded to ``size``."""
    n = tf.shape(v)[0]
    v = v[: builtins.min(size, 2**31 - 1)]
    pad_n = tf.maximum(0, size - n)
    paddings = tf.concat([[[0, pad_n]], tf.zeros([_rank(v) - 1, 2], "int32")], 0)
    return tf.pad(v, paddings, constant_values=tf.cast(fill, v.dtype))


def _unique_axis(x, sort, return_index, return_inverse, return_counts, axis, size, fill_value):
    axis = _axis(axis, _rank(x))
    moved = moveaxis.__wrapped__(x, axis, 0)
    rows = tf.reshape(moved, [shape_list(moved)[0], -1])
    # equal rows: compare every pair
    eq = tf.reduce_all(tf.equal(tf.expand_dims(rows, 1), tf.expand_dims(rows, 0)), axis=-1)
    n = tf.shape(rows)[0]
    first_match = tf.argmax(cast(eq, "int32"), axis=1, output_type="int32")  # first equal row
    is_first = tf.equal(first_match, tf.range(n))
    firsts = tf.reshape(tf.where(is_first), [-1])
    firsts = tf.cast(firsts, "int32")
    if sort:
        keys = tf.gather(rows, firsts)
        order = tf.range(tf.shape(firsts)[0])
        for c in range(shape_list(rows)[1] - 1, -1, -1):
            col = tf.gather(keys[:, c], order)
            order = tf.gather(
                order,
                tf.argsort(col if col.dtype.name != "bool" else cast(col, "int8"), stable=True),
            )
        firsts = tf.gather(firsts, order)
    y = tf.gather(moved, firsts)
    y = moveaxis.__wrapped__(y, 0, axis)
    # inverse: position of each row's first match among firsts
    inverse = tf.argmax(cast(tf.equal(tf.expand_dims(first_match, 1), tf.expand_dims(firsts, 0)),
                             "int32"), axis=1, output_type="int32")  # fmt: skip
    counts = tf.math.unsorted_segment_sum(tf.ones_like(inverse), inverse, tf.shape(firsts)[0])
    out = [y]
    if return_index:
        out.append(firsts)
    if return_inverse:
        out.append(inverse)
    if return_counts:
        out.append(counts)
    return out[0] if len(out) == 1 else tuple(out)


@_op("isin", "IsIn")
def isin(x1, x2, assume_unique=False, invert=False):
    """Whether each element of ``x1`` is in ``x2``."""
    a, b = tensor(x1), tensor(x2)
    dtype = result_type(a.dtype.name, b.dtype.name)
    a, b = cast(a, dtype), cast(b, dtype)
    flat = tf.reshape(b, [-1])
    hit = tf.reduce_any(tf.equal(tf.expand_dims(a, -1), flat), axis=-1)
    return tf.logical_not(hit) if invert else hit


# ========================================================================= linear algebra
def _via_float32(fn, *xs):
    """``fn(*xs)``, computed in float32 for bfloat16 operands (rill's products have no
    bfloat16 kernels) and cast back."""
    if xs and xs[0].dtype.name == "bfloat16":
        return cast(fn(*[cast(x, "float32") for x in xs]), "bfloat16")
    return fn(*xs)


def _int_compute(result):
    """Keras' TF backend multiplies ints as floats: the compute dtype for ``result``."""
    return result if not (_is_int(result) or result == "bool") else result_type(result, float)


@_op("matmul")
def matmul(x1, x2):
    """The matrix product (NumPy's ``matmul``: 1-D operands are vectors, leading axes
    broadcast); int8 x int8 gives int32."""
    a, b = tensor(x1), tensor(x2)
    if a.dtype.name == "int8" and b.dtype.name == "int8":
        result = "int32"
    else:
        result = result_type(a.dtype.name, b.dtype.name)
    compute = _int_compute(result)
    if result == "bool":
        compute = config.floatx()
    a, b = cast(a, compute), cast(b, compute)
    if _rank(a) == 0 or _rank(b) == 0:
        raise ValueError("matmul: inputs must be at least 1-D.")
    squeeze_a = _rank(a) == 1
    squeeze_b = _rank(b) == 1
    if squeeze_a:
        a = tf.expand_dims(a, 0)
    if squeeze_b:
        b = tf.expand_dims(b, -1)
    if _rank(a) != _rank(b) or shape_list(a)[:-2] != shape_list(b)[:-2]:
        batch = broadcast_shape(shape_list(a)[:-2], shape_list(b)[:-2])
        if isinstance(batch, list):
            a = tf.broadcast_to(a, batch + shape_list(a)[-2:])
            b = tf.broadcast_to(b, batch + shape_list(b)[-2:])
        else:
            a = tf.broadcast_to(a, tf.concat([batch, tf.shape(a)[-2:]], 0))
            b = tf.broadcast_to(b, tf.concat([batch, tf.shape(b)[-2:]], 0))
    out = _via_float32(tf.matmul, a, b)
    if squeeze_a:
        out = tf.squeeze(out, -2)
    if squeeze_b:
        out = tf.squeeze(out, -1)
    return cast(out, result)


@_op("dot")
def dot(x1, x2):
    """NumPy's ``dot``: products of scalars, inner products of vectors, matrix products,
    and sums over the last axis of ``x1`` and the second-to-last of ``x2``."""
    a, b = tensor(x1), tensor(x2)
    result = result_type(a.dtype.name, b.dtype.name)
    compute = result_type(result, float)
    a, b = cast(a, compute), cast(b, compute)
    if _rank(a) == 0 or _rank(b) == 0:
        out = a * b
    elif _rank(b) == 1:
        out = _via_float32(lambda u, v: tf.tensordot(u, v, [[_rank(u) - 1], [0]]), a, b)
    else:
        out = _via_float32(lambda u, v: tf.tensordot(u, v, [[_rank(u) - 1], [_rank(v) - 2]]), a, b)
    return cast(out, result)


@_op("vdot")
def vdot(x1, x2):
    """The dot product of the flattened inputs (the first conjugated)."""
    a, b = tensor(x1), tensor(x2)
    result = result_type(a.dtype.name, b.dtype.name)
    compute = result_type(result, float)
    a, b = cast(a, compute), cast(b, compute)
    a = _conj(tf.reshape(a, [-1]))
    return cast(tf.reduce_sum(a * tf.reshape(b, [-1])), result)


@_op("inner")
def inner(x1, x2):
    """Sums of products over the last axes."""
    a, b = tensor(x1), tensor(x2)
    result = result_type(a.dtype.name, b.dtype.name)
    compute = result_type(result, float)
    a, b = cast(a, compute), cast(b, compute)
    if _rank(a) == 0 or _rank(b) == 0:
        out = a * b
    else:
        out = _via_float32(lambda u, v: tf.tensordot(u, v, [[_rank(u) - 1], [_rank(v) - 1]]), a, b)
    return cast(out, result)


@_op("outer")
def outer(x1, x2):
    """The outer product of the flattened inputs."""
    a, b = promote_tensors(x1, x2)
    a, b = tf.reshape(a, [-1, 1]), tf.reshape(b, [1, -1])
    return tf.logical_and(a, b) if a.dtype.is_bool else a * b


def promote_tensors(x1, x2):
    a, b = tensor(x1), tensor(x2)
    dtype = result_type(a.dtype.name, b.dtype.name)
    return cast(a, dtype), cast(b, dtype)


@_op("tensordot")
def tensordot(x1, x2, axes=2):
    """Sums of products over ``axes`` (an int: the last/first ``axes`` axes; or two
    lists)."""
    a, b = tensor(x1), tensor(x2)
    result = result_type(a.dtype.name, b.dtype.name)
    compute = result if result in ("float16", "bfloat16", "float32", "float64", "complex64",
                                   "complex128") else result_type(result, float)  # fmt: skip
    out = _via_float32(lambda u, v: tf.tensordot(u, v, axes), cast(a, compute), cast(b, compute))
    return cast(out, result)


@_op("einsum")
def einsum(subscripts, *operands, **kwargs):
    """Einstein summation over ``operands`` (int8 inputs give int32)."""
    ops = [tensor(o) for o in operands]
    dtypes = {o.dtype.name for o in ops}
    if dtypes == {"int8"}:
        result = "int32"
    else:
        result = result_type(*dtypes)
    compute = _int_compute(result)
    out = _via_float32(lambda *v: tf.einsum(subscripts, *v), *[cast(o, compute) for o in ops])
    return cast(out, result)


@_op("kron")
def kron(x1, x2):
    """The Kronecker product."""
    a, b = promote_tensors(x1, x2)
    ra, rb = _rank(a), _rank(b)
    r = builtins.max(ra, rb)
    a = tf.reshape(a, [1] * (r - ra) + shape_list(a)) if ra < r else a
    b = tf.reshape(b, [1] * (r - rb) + shape_list(b)) if rb < r else b
    sa, sb = shape_list(a), shape_list(b)
    a_i = tf.reshape(a, [v for d in sa for v in (d, 1)])
    b_i = tf.reshape(b, [v for d in sb for v in (1, d)])
    return tf.reshape(a_i * b_i, [da * db for da, db in zip(sa, sb)])


@_op("cross")
def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 2- or 3-vectors along the given axes."""
    a, b = promote_tensors(x1, x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    a = moveaxis.__wrapped__(a, axisa, -1)
    b = moveaxis.__wrapped__(b, axisb, -1)
    na, nb = shape_list(a)[-1], shape_list(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(
            "Dimension must be either 2 or 3 for cross product. "
            f"Received: x1.shape={x1.shape if hasattr(x1, 'shape') else None}, "
            f"x2.shape={x2.shape if hasattr(x2, 'shape') else None}"
        )

    def comp(v, i, n):
        return v[..., i] if i < n else tf.zeros_like(v[..., 0])

    a0, a1, a2 = (comp(a, i, na) for i in range(3))
    b0, b1, b2 = (comp(b, i, nb) for i in range(3))
    if na == 2 and nb == 2:
        return a0 * b1 - a1 * b0
    c = tf.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return moveaxis.__wrapped__(c, -1, axisc)


@_op("correlate")
def correlate(x1, x2, mode="valid"):
    """The cross-correlation of two 1-D sequences (``"valid"``, ``"same"``, ``"full"``)."""
    a, b = tensor(x1), tensor(x2)
    dtype = result_type(a.dtype.name, b.dtype.name)
    if dtype == "int64":
        dtype = "float64"
    elif dtype not in ("bfloat16", "float16", "float64"):
        dtype = "float32"
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"Invalid mode: '{mode}'. Mode must be one of: 'full', 'same', 'valid'.")
    a, b = cast(a, dtype), cast(b, dtype)
    n, m = shape_list(a)[0], shape_list(b)[0]
    full = tf.pad(a, [[m - 1, m - 1]])
    length = n + m - 1
    # windows of the padded sequence, one row per lag
    idx = tf.reshape(tf.range(length), [-1, 1]) + tf.reshape(tf.range(m), [1, -1])
    out = tf.reduce_sum(tf.gather(full, idx) * b, axis=-1)
    if mode == "full":
        return out
    if mode == "same":
        keep = builtins.max(n, m)
        start = (length - keep) // 2
        return out[start : start + keep]
    keep = builtins.max(n, m) - builtins.min(n, m) + 1
    return out[m - 1 : m - 1 + keep] if n >= m else out[n - 1 : n - 1 + keep]


@_op("diff")
def diff(a, n=1, axis=-1):
    """The ``n``-th discrete difference along ``axis``."""
    if n < 0:
        raise ValueError(f"Order `n` must be non-negative. Received n={n}")
    x = tensor(a)
    if _rank(x) == 0:
        raise ValueError(f"`diff` requires input that is at least one dimensional. Received: a={a}")
    axis = _axis(axis, _rank(x))
    for _ in builtins.range(n):
        hi = tf.gather(x, tf.range(1, shape_list(x)[axis]), axis=axis)
        lo = tf.gather(x, tf.range(0, shape_list(x)[axis] - 1), axis=axis)
        x = tf.not_equal(hi, lo) if x.dtype.name == "bool" else hi - lo
    return x


@_op("trapezoid")
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of ``y`` along ``axis`` by the trapezoidal rule (at ``x``, or at
    spacing ``dx``)."""
    y = tensor(y)
    dtype = result_type(y.dtype.name, float)
    y = cast(y, dtype)
    axis = _axis(axis, _rank(y))
    y = moveaxis.__wrapped__(y, axis, -1)
    if x is None:
        d = tf.cast(dx, dtype)
    else:
        xv = tensor(x, dtype)
        d = diff.__wrapped__(xv, 1, axis if _rank(xv) > 1 else -1)
        if _rank(xv) > 1:
            d = moveaxis.__wrapped__(d, axis, -1)
    avg = (y[..., 1:] + y[..., :-1]) * tf.constant(0.5, dtype)
    return tf.reduce_sum(avg * d, axis=-1)


@_op("vander")
def vander(x, N=None, increasing=False):  # noqa: N803 - Keras' name
    """The Vandermonde matrix of the 1-D ``x``: powers ``N-1 ... 0`` (or increasing)."""
    x = tensor(x)
    if _rank(x) != 1:
        raise ValueError(f"Input tensor must be 1-dimensional. Received: input.shape={x.shape}")
    n = shape_list(x)[0] if N is None else N
    if N is not None and N < 0:
        raise ValueError(f"Argument 'N' must be a non-negative integer. Received: N={N}")
    powers = tf.range(n) if increasing else tf.range(n - 1, -1, -1)
    result = result_type(x.dtype.name)
    compute = result_type(result, "float32")
    out = tf.pow(cast(tf.expand_dims(x, -1), compute), cast(powers, compute))
    return cast(out, result)


@_op("corrcoef")
def corrcoef(x):
    """Pearson correlation coefficients of the rows of ``x``."""
    x = tensor(x)
    d = x.dtype.name
    if d in ("bool", "int8", "int16", "int32", "uint8", "uint16", "uint32"):
        x = cast(x, config.floatx())
    if d == "int64":
        x = cast(x, "float64")
    if _rank(x) == 0:
        return tf.constant(np.nan, config.floatx())
    if _rank(x) == 1:
        x = tf.expand_dims(x, 0)
    c = x - tf.reduce_mean(x, axis=-1, keepdims=True)
    n = tf.cast(tf.shape(x)[-1], x.dtype)
    cov = _via_float32(lambda u, v: tf.matmul(u, v), c, _conj(tf.transpose(c))) / (n - 1)
    std = tf.sqrt(_real(tf.linalg.diag_part(cov)))
    denom = tf.cast(tf.reshape(std, [-1, 1]) * tf.reshape(std, [1, -1]), cov.dtype)
    corr = cov / denom
    if corr.dtype.is_complex:
        return complex_from(tf.clip_by_value(tf.math.real(corr), -1.0, 1.0),
                          tf.clip_by_value(tf.math.imag(corr), -1.0, 1.0))  # fmt: skip
    out = tf.clip_by_value(corr, -1.0, 1.0)
    return tf.squeeze(out) if _rank(tensor(x)) == 2 and shape_list(out)[0] == 1 else out


@_op("slogdet")
def slogdet(x):
    """(sign, log|det|) of square matrices (ints computed as ``floatx()``)."""
    x = tensor(x)
    if _rank(x) < 2 or (None not in x.shape.as_list()[-2:] and
                        x.shape.as_list()[-1] != x.shape.as_list()[-2]):  # fmt: skip
        raise ValueError(f"Expected a square matrix. Received input with shape {x.shape}")
    if not (x.dtype.is_floating or x.dtype.is_complex):
        x = cast(x, config.floatx())
    return tuple(_via_float32(lambda m: tuple(tf.linalg.slogdet(m)), x))


@_op("view")
def view(x, dtype=None):
    """``x``'s bytes reinterpreted as ``dtype`` (the last axis rescaled)."""
    x = tensor(x)
    new = tf.as_dtype(standardize_dtype(dtype if dtype else x.dtype.name))
    old = x.dtype
    if new == old:
        return x

    def reinterpret(v):
        return np.ascontiguousarray(v).view(new.np)

    shape = x.shape.as_list()
    osz, nsz = old.np.itemsize, new.np.itemsize
    if shape and shape[-1] is not None and (shape[-1] * osz) % nsz:
        raise ValueError(
            f"Cannot view array of shape {x.shape} and dtype {old.name} as dtype {new.name} "
            "because the total number of bytes is not divisible by the new itemsize."
        )
    if not shape and osz != nsz:
        raise ValueError(
            f"Cannot view array of shape {x.shape} and dtype {old.name} as dtype {new.name} "
            "because the total number of bytes is not divisible by the new itemsize."
        )
    out = tf.numpy_function(reinterpret, [x], new)
    if shape:
        last = None if shape[-1] is None else shape[-1] * osz // nsz
        out = tf.ensure_shape(out, [*shape[:-1], last])
    else:
        out = tf.ensure_shape(out, [])
    return out


def vectorize(pyfunc, *, excluded=None, signature=None):
    """``pyfunc`` vectorized over its tensor arguments' leading axes (NumPy's
    ``vectorize``, for elementwise ``pyfunc`` or a core ``signature`` like
    ``"(n),(n)->()"``)."""
    return _vectorize(pyfunc, excluded=excluded, signature=signature)


__all__ = sorted(
    n for n, v in dict(globals()).items()
    if not n.startswith("_") and callable(v) and getattr(v, "__module__", None) == __name__
    and n not in ("promote_tensors",)
)  # fmt: skip
