"""Elementwise binary arithmetic, comparisons and logical ops (``tf.math`` and top level)."""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.ops import lowering_math as _lowering
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

_NUM = _d.NUMERIC
_REAL = _d.REAL
_BOOL = frozenset([_d.bool])
_INT = _d.INTS


def _conj_if_complex(x):
    """conj(x) for complex tensors (TF's gradient convention), x itself otherwise."""
    if x.dtype.is_complex:
        from rill.ops.unary_ops import conj  # local: import cycle with unary_ops

        return conj(x)
    return x


def _binary_primitive(name, kernel, grad, dtypes, out_dtype=None, **facts):
    """Declare a same-dtype broadcasting binary primitive."""
    return primitive(
        name, kernel, broadcast_rule(name, out_dtype), grad, dtypes=dtypes, same_dtype=True, **facts
    )


# --------------------------------------------------------------------------------------
# Arithmetic
# --------------------------------------------------------------------------------------


def _add_grad(inputs, out, dy):
    x, y = inputs
    return unbroadcast(dy, x), unbroadcast(dy, y)


def _add_kernel(x, y, xp=np):
    if x.dtype == object:  # string tensors live in host memory as NumPy object arrays
        return np.char.add(x.astype(bytes), y.astype(bytes)).astype(object)
    return xp.add(x, y)


add_p = _binary_primitive(
    "AddV2",
    _add_kernel,
    _add_grad,
    _NUM | {_d.string},
    saves=(),
    saves_output=False,
    operator="{0} + {1}",
    inplace_operator="+=",
)
subtract_p = _binary_primitive(
    "Sub",
    "subtract",
    lambda inputs, out, dy: (unbroadcast(dy, inputs[0]), unbroadcast(negative(dy), inputs[1])),
    _NUM,
    saves=(),
    saves_output=False,
    operator="{0} - {1}",
    inplace_operator="-=",
)
multiply_p = _binary_primitive(
    "Mul",
    "multiply",
    lambda inputs, out, dy: (
        unbroadcast(multiply(dy, _conj_if_complex(inputs[1])), inputs[0]),
        unbroadcast(multiply(_conj_if_complex(inputs[0]), dy), inputs[1]),
    ),
    _NUM,
    saves=(0, 1),
    saves_output=False,
    operator="{0} * {1}",
    inplace_operator="*=",
)


def _realdiv_grad(inputs, out, dy):
    x, y = _conj_if_complex(inputs[0]), _conj_if_complex(inputs[1])
    return (
        unbroadcast(realdiv(dy, y), inputs[0]),
        unbroadcast(negative(multiply(dy, realdiv(realdiv(x, y), y))), inputs[1]),
    )


realdiv_p = _binary_primitive(
    "RealDiv",
    "divide",
    _realdiv_grad,
    _d.INEXACT,
    saves=(0, 1),
    saves_output=False,
    operator="{0} / {1}",
    inplace_operator="/=",
)


def _int_zero_check(xp, op, y):
    if not xp.all(y):
        raise op_error(InvalidArgumentError, op, "Integer division by zero")


def _floordiv_kernel(x, y, xp=np):
    if x.dtype.kind in "iu":
        _int_zero_check(xp, "FloorDiv", y)
        return xp.floor_divide(x, y)
    # TF's float kernel is floor(x / y): inf // 1 is inf, -5 // inf is -0 and 1 // 0.1 is
    # 10, where NumPy's floor_divide (the exact quotient) gives nan, -1 and 9
    with np.errstate(divide="ignore", invalid="ignore"):
        return xp.floor(xp.divide(x, y))


def _floormod_kernel(x, y, xp=np):
    if x.dtype.kind in "iu":
        _int_zero_check(xp, "FloorMod", y)
    return xp.remainder(x, y)


def _floormod_grad(inputs, out, dy):
    x, y = inputs
    from rill.ops.unary_ops import floor  # local: import cycle with unary_ops

    return unbroadcast(dy, x), unbroadcast(negative(multiply(dy, floor(realdiv(x, y)))), y)


floordiv_p = _binary_primitive(
    "FloorDiv", _floordiv_kernel, None, _REAL, lowering=_lowering.floor_div
)
floormod_p = _binary_primitive("FloorMod", _floormod_kernel, _floormod_grad, _REAL)


def _truncatediv_kernel(x, y, xp=np):
    if x.dtype.kind in "iu":
        _int_zero_check(xp, "TruncateDiv", y)
        # the floor quotient, one up where it rounded an inexact negative quotient down
        # (through abs(), INT_MIN would stay negative: INT_MIN / 3 came out positive)
        with np.errstate(over="ignore"):  # INT_MIN // -1 wraps to INT_MIN, as in TF's XLA
            q = xp.floor_divide(x, y)
            up = (q * y != x) & ((x < 0) != (y < 0))
        return q + up.astype(q.dtype)
    return xp.trunc(x / y)


truncatediv_p = _binary_primitive(
    "TruncateDiv", _truncatediv_kernel, None, _REAL, lowering=_lowering.truncate_div
)
truncatemod_p = _binary_primitive("TruncateMod", "fmod", None, _REAL)


def _pow_kernel(x, y, xp=np):
    # checked only where a result is computed: TF never looks at y for an empty output
    if x.dtype.kind in "iu" and x.size and xp.any(y < 0):
        raise op_error(
            InvalidArgumentError, "Pow", "Integers to negative integer powers are not allowed"
        )
    return xp.pow(x, y)


def _pow_grad(inputs, out, dy):
    from rill.ops.array_ops import where_v2, zeros_like  # local: import cycle with array_ops
    from rill.ops.unary_ops import log  # local: import cycle with unary_ops

    x, y = inputs
    gx = multiply(
        dy, _conj_if_complex(multiply(y, pow(x, subtract(y, convert_to_tensor(1, y.dtype)))))
    )
    if x.dtype.is_complex:
        safe_log = where_v2(not_equal(x, zeros_like(x)), log(x), zeros_like(x))
    else:
        safe_log = where_v2(greater(x, zeros_like(x)), log(x), zeros_like(x))
    gy = multiply(dy, _conj_if_complex(multiply(out, safe_log)))
    return unbroadcast(gx, inputs[0]), unbroadcast(gy, inputs[1])


pow_p = _binary_primitive("Pow", _pow_kernel, _pow_grad, _NUM, saves=(0, 1), saves_output=True)


def _minmax_grad(cmp):
    def grad(inputs, out, dy):
        from rill.ops.array_ops import where_v2, zeros_like  # local: import cycle with array_ops

        x, y = inputs
        mask = cmp(x, y)  # ties go to x, like TF
        z = zeros_like(dy)
        return unbroadcast(where_v2(mask, dy, z), x), unbroadcast(where_v2(mask, z, dy), y)

    return grad


maximum_p = _binary_primitive(
    "Maximum",
    "maximum",
    _minmax_grad(lambda x, y: greater_equal(x, y)),
    _REAL,
    saves=(0, 1),
    saves_output=False,
)
minimum_p = _binary_primitive(
    "Minimum",
    "minimum",
    _minmax_grad(lambda x, y: less_equal(x, y)),
    _REAL,
    saves=(0, 1),
    saves_output=False,
)
squared_difference_p = _binary_primitive(
    "SquaredDifference",
    lambda x, y, xp=np: xp.square(x - y),
    lambda inputs, out, dy: (
        unbroadcast(
            multiply(dy, multiply(convert_to_tensor(2, inputs[0].dtype), subtract(*inputs))),
            inputs[0],
        ),
        unbroadcast(
            multiply(dy, multiply(convert_to_tensor(-2, inputs[0].dtype), subtract(*inputs))),
            inputs[1],
        ),
    ),
    _NUM,
    saves=(0, 1),
    saves_output=False,
)

neg_p = primitive(
    "Neg",
    "negative",
    unary_rule,
    lambda inputs, out, dy: negative(dy),
    dtypes=_NUM,
    saves=(),
    saves_output=False,
    operator="-{0}",
)


@tf_export("math.add", "add")
def add(x, y, name=None):
    """x + y elementwise, with broadcasting (strings concatenate)."""
    return bind(add_p, binary_args(x, y, hint=True))


@tf_export("math.subtract", "subtract")
def subtract(x, y, name=None):
    return bind(subtract_p, binary_args(x, y, hint=True))


@tf_export("math.multiply", "multiply")
def multiply(x, y, name=None):
    return bind(multiply_p, binary_args(x, y, hint=True))


@tf_export("realdiv")
def realdiv(x, y, name=None):
    return bind(realdiv_p, binary_args(x, y, hint=True))


_INT_TO_FLOAT = {
    _d.int8: _d.float32, _d.uint8: _d.float32, _d.int16: _d.float32, _d.uint16: _d.float32,
    _d.int32: _d.float64, _d.uint32: _d.float64, _d.int64: _d.float64, _d.uint64: _d.float64,
}  # fmt: skip


@tf_export("math.truediv", "truediv", "math.divide", "divide")
def truediv(x, y, name=None):
    """x / y; integer inputs are cast to float first (int32 -> float64, like TF)."""
    x, y = binary_args(x, y, hint=True)
    if x.dtype is not y.dtype:
        raise op_error(
            TypeError,
            "truediv",
            f"x and y must have the same dtype, got {x.dtype.name} != {y.dtype.name}",
        )
    return bind(realdiv_p, _ints_as_floats(x, y))


def _ints_as_floats(x, y):
    """Two tensors of one integer dtype cast to the float TF divides them in (int32 ->
    float64); anything else as it is."""
    ft = _INT_TO_FLOAT.get(x.dtype) if x.dtype is y.dtype else None
    if ft is None:
        return x, y
    from rill.ops.array_ops import cast  # local: import cycle with array_ops

    return cast(x, ft), cast(y, ft)


@tf_export("math.floordiv")
def floordiv(x, y, name=None):
    return bind(floordiv_p, binary_args(x, y, hint=True))


@tf_export("math.floormod", "math.mod")
def floormod(x, y, name=None):
    return bind(floormod_p, binary_args(x, y, hint=True))


@tf_export("truncatediv")
def truncatediv(x, y, name=None):
    return bind(truncatediv_p, binary_args(x, y, hint=True))


@tf_export("truncatemod")
def truncatemod(x, y, name=None):
    return bind(truncatemod_p, binary_args(x, y, hint=True))


@tf_export("math.pow", "pow")
def pow(x, y, name=None):  # noqa: A001 - TF's public name
    return bind(pow_p, binary_args(x, y, hint=True))


@tf_export("math.maximum", "maximum")
def maximum(x, y, name=None):
    return bind(maximum_p, binary_args(x, y, hint=True))


@tf_export("math.minimum", "minimum")
def minimum(x, y, name=None):
    return bind(minimum_p, binary_args(x, y, hint=True))


@tf_export("math.squared_difference")
def squared_difference(x, y, name=None):
    return bind(squared_difference_p, binary_args(x, y, hint=True))


@tf_export("math.negative", "negative")
def negative(x, name=None):
    return bind(neg_p, (convert_to_tensor(x),))


@tf_export("math.divide_no_nan")
def divide_no_nan(x, y, name=None):
    """x / y, with 0 wherever y == 0 (gradient 0 there too); integers divide as floats."""
    return bind(div_no_nan_p, _ints_as_floats(*binary_args(x, y, hint=True)))


def _div_no_nan_kernel(x, y, xp=np):
    if xp is np and y.ndim == 0:  # a scalar divisor (a loss's mean): no masks to build
        return np.asarray(x / y) if y != 0 else np.zeros(x.shape, np.result_type(x, y))
    zero = y == 0
    q = x / xp.where(zero, xp.ones_like(y), y)  # no division by zero, so no warning
    return xp.where(zero, xp.zeros_like(q), q)


def _div_no_nan_grad(inputs, out, dy):
    x, y = _conj_if_complex(inputs[0]), _conj_if_complex(inputs[1])
    return (
        unbroadcast(divide_no_nan(dy, y), inputs[0]),
        unbroadcast(multiply(dy, divide_no_nan(divide_no_nan(negative(x), y), y)), inputs[1]),
    )


div_no_nan_p = _binary_primitive(
    "DivNoNan", _div_no_nan_kernel, _div_no_nan_grad, _d.INEXACT, saves=(0, 1), saves_output=False
)


# --------------------------------------------------------------------------------------
# Comparisons (bool outputs, not differentiable)
# --------------------------------------------------------------------------------------


def _compare_objects(op, x, y):
    """``op`` on string tensors, which live in host memory as NumPy object arrays."""
    return np.asarray(op(x.astype(object), y.astype(object)), dtype=bool)


def _equal_kernel(x, y, xp=np):
    if x.dtype == object or y.dtype == object:
        return _compare_objects(np.equal, x, y)
    return xp.equal(x, y)


def _not_equal_kernel(x, y, xp=np):
    if x.dtype == object or y.dtype == object:
        return _compare_objects(np.not_equal, x, y)
    return xp.not_equal(x, y)


equal_p = _binary_primitive("Equal", _equal_kernel, None, _d.ALL_SET, _d.bool)
not_equal_p = _binary_primitive("NotEqual", _not_equal_kernel, None, _d.ALL_SET, _d.bool)
less_p = _binary_primitive("Less", "less", None, _REAL, _d.bool)
less_equal_p = _binary_primitive("LessEqual", "less_equal", None, _REAL, _d.bool)
greater_p = _binary_primitive("Greater", "greater", None, _REAL, _d.bool)
greater_equal_p = _binary_primitive("GreaterEqual", "greater_equal", None, _REAL, _d.bool)


@tf_export("math.equal", "equal")
def equal(x, y, name=None):
    return bind(equal_p, binary_args(x, y, hint=True))


@tf_export("math.not_equal", "not_equal")
def not_equal(x, y, name=None):
    return bind(not_equal_p, binary_args(x, y, hint=True))


@tf_export("math.less", "less")
def less(x, y, name=None):
    return bind(less_p, binary_args(x, y, hint=True))


@tf_export("math.less_equal", "less_equal")
def less_equal(x, y, name=None):
    return bind(less_equal_p, binary_args(x, y, hint=True))


@tf_export("math.greater", "greater")
def greater(x, y, name=None):
    return bind(greater_p, binary_args(x, y, hint=True))


@tf_export("math.greater_equal", "greater_equal")
def greater_equal(x, y, name=None):
    return bind(greater_equal_p, binary_args(x, y, hint=True))


# --------------------------------------------------------------------------------------
# Logical and bitwise
# --------------------------------------------------------------------------------------

logical_and_p = _binary_primitive("LogicalAnd", "logical_and", None, _BOOL)
logical_or_p = _binary_primitive("LogicalOr", "logical_or", None, _BOOL)
logical_not_p = primitive("LogicalNot", "logical_not", unary_rule, dtypes=_BOOL)
bitwise_and_p = _binary_primitive("BitwiseAnd", "bitwise_and", None, _INT)
bitwise_or_p = _binary_primitive("BitwiseOr", "bitwise_or", None, _INT)
bitwise_xor_p = _binary_primitive("BitwiseXor", "bitwise_xor", None, _INT)
invert_p = primitive("Invert", "bitwise_invert", unary_rule, dtypes=_INT)
left_shift_p = _binary_primitive("LeftShift", "bitwise_left_shift", None, _INT)
right_shift_p = _binary_primitive("RightShift", "bitwise_right_shift", None, _INT)


@tf_export("math.logical_and", "logical_and")
def logical_and(x, y, name=None):
    return bind(logical_and_p, binary_args(x, y, hint=True))


@tf_export("math.logical_or", "logical_or")
def logical_or(x, y, name=None):
    return bind(logical_or_p, binary_args(x, y, hint=True))


@tf_export("math.logical_not", "logical_not")
def logical_not(x, name=None):
    return bind(logical_not_p, (convert_to_tensor(x),))


@tf_export("math.logical_xor")
def logical_xor(x, y, name="LogicalXor"):
    x, y = binary_args(x, y, hint=True)
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)))


@tf_export("bitwise.bitwise_and")
def bitwise_and(x, y, name=None):
    return bind(bitwise_and_p, binary_args(x, y, hint=True))


@tf_export("bitwise.bitwise_or")
def bitwise_or(x, y, name=None):
    return bind(bitwise_or_p, binary_args(x, y, hint=True))


@tf_export("bitwise.bitwise_xor")
def bitwise_xor(x, y, name=None):
    return bind(bitwise_xor_p, binary_args(x, y, hint=True))


@tf_export("bitwise.invert")
def invert(x, name=None):
    return bind(invert_p, (convert_to_tensor(x),))


@tf_export("bitwise.left_shift")
def left_shift(x, y, name=None):
    return bind(left_shift_p, binary_args(x, y, hint=True))


@tf_export("bitwise.right_shift")
def right_shift(x, y, name=None):
    return bind(right_shift_p, binary_args(x, y, hint=True))


_ = AVal
