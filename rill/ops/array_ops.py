"""Core array ops the rest of rill builds on: shape, reshape, cast, identity, *_like,
stack/unstack, broadcasting and the 3-argument ``where``."""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import UnimplementedError
from rill.core.interfaces import register_core_ops
from rill.ops import lowering_rules as _lowering
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    TensorShape,
    attr_int,
    binary_args,
    bind,
    broadcast_shapes,
    check_alloc,
    convert_to_tensor,
    is_tensor_like,
    op_error,
    primitive,
    tf_export,
    unary_rule,
    unbroadcast,
)

# --------------------------------------------------------------------------------------
# shape / reshape
# --------------------------------------------------------------------------------------


def _shape_rule(x, out_type):
    return AVal([x.rank], out_type)


shape_p = primitive(
    "Shape",
    lambda x, out_type, xp=np: xp.asarray(x.shape, dtype=out_type.np),
    _shape_rule,
    shape_only=True,
)


@tf_export("shape")
def shape(input, out_type=_d.int32, name=None):  # noqa: A002 - TF's argument name
    """The shape of a tensor, as a 1-D int tensor."""
    out_type = _d.as_dtype(out_type)
    if out_type not in (_d.int32, _d.int64):
        raise op_error(
            InvalidArgumentError, "Shape", f"out_type must be int32 or int64, got {out_type.name}"
        )
    return bind(shape_p, (convert_to_tensor(input),), {"out_type": out_type})


def _reshape_target(op, in_shape, target):
    """Resolve a -1 in ``target`` against ``in_shape`` (partial shapes allowed)."""
    target = [int(t) for t in target]
    if sum(t == -1 for t in target) > 1:
        raise op_error(
            InvalidArgumentError, op, f"only one input size may be -1, not both in {target}"
        )
    known = in_shape.num_elements()
    prod = 1
    for t in target:
        if t != -1:
            prod *= t
    if -1 in target and 0 in target:
        return _infer_with_zero_dims(op, in_shape, target)
    if -1 in target:
        if known is None:
            return [None if t == -1 else t for t in target]
        if prod == 0 or known % prod:
            raise op_error(
                InvalidArgumentError,
                op,
                f"Input to reshape is a tensor with {known} values, but the requested shape "
                f"{target} cannot be made to match (the product of the known dims is {prod})",
            )
        return [known // prod if t == -1 else t for t in target]
    if known is not None and known != prod:
        raise op_error(
            InvalidArgumentError,
            op,
            f"Input to reshape is a tensor with {known} values, but the requested shape has "
            f"{prod} ({target})",
        )
    return target


def _infer_with_zero_dims(op, in_shape, target):
    """The -1 of a target that has a 0 dim, by TF's rule: both sides' zero dims are left out
    of the products, so ``reshape(zeros([0, 3]), [-1, 0])`` is ``[3, 0]``."""
    dims = in_shape.as_list() if in_shape.rank is not None else None
    if dims is None or None in dims:
        return [None if t == -1 else t for t in target]
    prod = 1
    for t in target:
        if t > 0:
            prod *= t
    n_in, in_has_zero = 1, False
    for d in dims:
        if d == 0:
            in_has_zero = True
        else:
            n_in *= d
    if not in_has_zero:  # a non-empty input cannot fill a target with a 0 dim
        raise op_error(
            InvalidArgumentError,
            op,
            f"Input to reshape is a tensor with {in_shape.num_elements()} values, but the "
            f"requested shape {target} has 0 (it has a 0 dimension)",
        )
    return [n_in // prod if t == -1 else t for t in target]


def _reshape_rule(x, s):
    if s.value is not None:
        return AVal(_reshape_target("Reshape", x.shape, s.value.reshape(-1)), x.dtype)
    n = s.shape[0] if s.rank == 1 else None
    return AVal(TensorShape(None) if n is None else [None] * n, x.dtype)


def _reshape_kernel(x, s, xp=np):
    target = s.reshape(-1).tolist()
    if -1 not in target:  # the common case: NumPy checks the element count itself
        try:
            return x.reshape(target)
        except (ValueError, TypeError):
            pass  # the checked path below raises TF's error
    return x.reshape(_reshape_target("Reshape", TensorShape(x.shape), target))


reshape_p = primitive(
    "Reshape",
    _reshape_kernel,
    _reshape_rule,
    lambda inputs, out, dy: (reshape(dy, shape(inputs[0])), None),
    saves=(),
    saves_output=False,
)


@tf_export("reshape")
def reshape(tensor, shape, name=None):
    """Reshape to ``shape`` (one dimension may be -1)."""
    s = convert_to_tensor(shape, dtype_hint=_d.int32)
    if not s.dtype.is_integer:
        raise op_error(
            TypeError, "Reshape", f"shape must be an int32 or int64 tensor, got {s.dtype.name}"
        )
    return bind(reshape_p, (convert_to_tensor(tensor), s))


# --------------------------------------------------------------------------------------
# cast, identity, *_like
# --------------------------------------------------------------------------------------


def _cast_kernel(x, dtype, xp=np):
    if dtype is _d.string or x.dtype == object:
        raise op_error(
            UnimplementedError,  # TF's class: the kernel does not exist, the input is fine
            "Cast",
            "casting to or from string is not supported; "
            "use tf.strings.to_number / tf.strings.as_string",
        )
    if x.dtype.kind == "c" and not dtype.is_complex:
        x = x.real
    return x.astype(dtype.np)


def _cast_grad(inputs, out, dy, dtype):
    src = inputs[0].dtype
    if src in _d.INEXACT and dtype in _d.INEXACT:
        return (cast(dy, src),)
    return (None,)


cast_p = primitive(
    "Cast",
    _cast_kernel,
    lambda x, dtype: AVal(x.shape, dtype),
    _cast_grad,
    saves=(),
    saves_output=False,
)


@tf_export("cast", "dtypes.cast")
def cast(x, dtype, name=None):
    """Cast to ``dtype`` (floats to ints truncate toward zero, like TF)."""
    if dtype is None:  # NumPy would read None as float64
        raise TypeError("cast: cannot convert the argument `dtype`: None to a rill DType.")
    dtype = _d.as_dtype(dtype)
    x = convert_to_tensor(x) if not _is_py_number(x) else convert_to_tensor(x, dtype_hint=dtype)
    if x.dtype is dtype:
        return x
    return bind(cast_p, (x,), {"dtype": dtype})


def _is_py_number(x):
    return isinstance(x, (int, float, complex, list, tuple)) and not isinstance(x, bool)


identity_p = primitive(
    "Identity",
    lambda x: x,
    unary_rule,
    lambda inputs, out, dy: (dy,),
    host=True,
    alias=True,
    saves=(),
    saves_output=False,
    lowering=_lowering.identity,
)


@tf_export("identity")
def identity(input, name=None):  # noqa: A002
    """Return a tensor with the same value (a new tensor on the tape)."""
    return bind(identity_p, (convert_to_tensor(input),))


# lowered to host constants: XLA shapes are static, so the values are known while compiling
# (a slice gradient's strides, ones_like(begin), stay static that way)
zeros_like_p = primitive("ZerosLike", "zeros_like", unary_rule, lowering=_lowering.filled(0))
ones_like_p = primitive("OnesLike", "ones_like", unary_rule, lowering=_lowering.filled(1))


@tf_export("zeros_like")
def zeros_like(input, dtype=None, name=None):  # noqa: A002
    x = convert_to_tensor(input)
    out = bind(zeros_like_p, (x,))
    return out if dtype is None else cast(out, dtype)


@tf_export("ones_like")
def ones_like(input, dtype=None, name=None):  # noqa: A002
    x = convert_to_tensor(input)
    out = bind(ones_like_p, (x,))
    return out if dtype is None else cast(out, dtype)


# --------------------------------------------------------------------------------------
# stack / unstack
# --------------------------------------------------------------------------------------


def _stack_rule(*xs, axis):
    s = xs[0].shape
    for x in xs[1:]:
        if not s.is_compatible_with(x.shape):
            raise op_error(
                InvalidArgumentError,
                "Pack",
                f"Shapes of all inputs must match: values[0].shape = {list(xs[0].shape)} != "
                f"values[{xs.index(x)}].shape = {list(x.shape)}",
            )
        s = s.merge_with(x.shape)
    if s.rank is None:
        return AVal(TensorShape(None), xs[0].dtype)
    dims = s.as_list()
    r = len(dims) + 1
    if not -r <= axis < r:
        raise op_error(InvalidArgumentError, "Pack", f"axis {axis} out of range [{-r}, {r})")
    dims.insert(axis % r, len(xs))
    return AVal(dims, xs[0].dtype)


stack_p = primitive(
    "Pack",
    lambda *xs, axis, xp=np: xp.stack(xs, axis=axis),
    _stack_rule,
    lambda inputs, out, dy, axis: unstack(dy, num=len(inputs), axis=axis),
    same_dtype=True,
    saves=(),
    saves_output=False,
    lowering=_lowering.pack,
)


@tf_export("stack")
def stack(values, axis=0, name="stack"):
    """Stack a list of rank-R tensors into one rank-(R+1) tensor."""
    ts = [convert_to_tensor(v) for v in values]
    if not ts:
        raise ValueError("stack: values must be a non-empty list of tensors.")
    if len({t.dtype for t in ts}) > 1:
        # Python values take the first tensor's dtype; tensors of two dtypes are the op's
        # InvalidArgumentError, as in TF
        first = next((t.dtype for v, t in zip(values, ts) if is_tensor_like(v)), ts[0].dtype)
        ts = [
            t if is_tensor_like(v) else convert_to_tensor(v, dtype=first)
            for v, t in zip(values, ts)
        ]
    axis = attr_int("axis", axis)
    r = ts[0].shape.rank
    if r is not None and not -(r + 1) <= axis < r + 1:
        # TF checks this in Python, before the op: ValueError, not the op's error
        raise ValueError(f"stack: argument `axis` = {axis} not in range [{-(r + 1)}, {r + 1})")
    return bind(stack_p, tuple(ts), {"axis": axis})


def _unstack_rule(x, num, axis):
    dims = x.shape.as_list()
    del dims[axis]
    return tuple(AVal(dims, x.dtype) for _ in range(num))


def _unstack_kernel(x, num, axis, xp=np):
    return tuple(xp.moveaxis(x, axis, 0))


unstack_p = primitive(
    "Unpack",
    _unstack_kernel,
    _unstack_rule,
    lambda inputs, outs, dys, num, axis: (stack(list(dys), axis=axis),),
    n_out=-1,  # as many outputs as `num`
    saves=(),
    saves_output=False,
)


@tf_export("unstack")
def unstack(value, num=None, axis=0, name="unstack"):
    """Split a tensor along ``axis`` into a list of tensors of rank R-1."""
    x = convert_to_tensor(value)
    r = x.shape.rank
    if r is None or r == 0:
        raise ValueError(
            f"unstack: cannot unstack a tensor of unknown or zero rank (shape {x.shape})."
        )
    axis = attr_int("axis", axis)
    if not -r <= axis < r:
        raise ValueError(f"unstack: axis {axis} is out of range for a tensor of rank {r}.")
    axis %= r
    n = x.shape[axis]
    if num is None:
        if n is None:
            raise ValueError(f"unstack: cannot infer num from shape {x.shape}.")
        num = n
    elif n is not None and num != n:
        raise ValueError(f"unstack: num={num} does not match dimension {axis} of shape {x.shape}.")
    out = bind(unstack_p, (x,), {"num": int(num), "axis": axis})
    return list(out) if isinstance(out, tuple) else [out]


# --------------------------------------------------------------------------------------
# broadcasting
# --------------------------------------------------------------------------------------


def _bcast_to_rule(x, s):
    if s.value is None:
        return AVal(
            TensorShape(None) if s.rank != 1 or s.shape[0] is None else [None] * s.shape[0], x.dtype
        )
    target = TensorShape([int(v) for v in s.value])
    b = broadcast_shapes("BroadcastTo", x.shape, target)
    if b != target:
        raise op_error(
            InvalidArgumentError, "BroadcastTo", f"cannot broadcast shape {x.shape} to {target}"
        )
    return AVal(target, x.dtype)


def _broadcast_to_kernel(x, s, xp=np):
    dims = tuple(s.tolist()) if type(s) is np.ndarray else tuple(int(v) for v in s)
    if dims == x.shape:
        return x
    if len(dims) >= x.ndim:  # TF allocates before it compares the shapes
        check_alloc("BroadcastTo", dims, x.dtype)
    if len(dims) < x.ndim or any(a not in (1, b) for a, b in zip(x.shape[::-1], dims[::-1])):
        raise op_error(
            InvalidArgumentError,
            "BroadcastTo",
            f"cannot broadcast shape {list(x.shape)} to {list(dims)}",
        )
    # (a broadcast view costs nothing, but TF allocates the result: refusing what TF could
    # not hold keeps a reduction of a 2**40-element view from running without bound)
    if xp is np and type(x) is np.ndarray and x.flags.c_contiguous and x.size:
        return _zero_strided_view(x, dims)
    try:
        return xp.broadcast_to(x, dims)
    except ValueError:  # NumPy cannot represent the shape, even without elements
        raise op_error(
            InvalidArgumentError,
            "BroadcastTo",
            f"shape {list(dims)} is too large for a NumPy array (its dims multiply past 2**63)",
        ) from None


def _zero_strided_view(x, dims):
    """``np.broadcast_to(x, dims)`` for a C-contiguous ``x`` whose shape broadcasts to
    ``dims``: the same read-only view, built directly (NumPy's version is Python code that
    costs several microseconds, paid by every reduction's gradient)."""
    lead = len(dims) - x.ndim
    strides = (0,) * lead + tuple(0 if a == 1 else st for a, st in zip(x.shape, x.strides))
    v = np.ndarray(dims, x.dtype, x, 0, strides)
    v.flags.writeable = False
    return v


broadcast_to_p = primitive(
    "BroadcastTo",
    _broadcast_to_kernel,
    _bcast_to_rule,
    lambda inputs, out, dy: (sum_to_shape(dy, shape(inputs[0])), None),
    saves=(),
    saves_output=False,
)


@tf_export("broadcast_to")
def broadcast_to(input, shape, name=None):  # noqa: A002
    """Broadcast a tensor to a compatible shape."""
    return bind(
        broadcast_to_p, (convert_to_tensor(input), convert_to_tensor(shape, dtype_hint=_d.int32))
    )


def _sum_to_shape_kernel(dy, s, xp=np):
    s = tuple(s.tolist()) if type(s) is np.ndarray else tuple(int(v) for v in s)
    lead = dy.ndim - len(s)
    if lead:
        dy = dy.sum(axis=tuple(range(lead)))
        if dy.shape == s:  # a bias's gradient: nothing more to sum
            return dy
    axes = tuple(i for i, d in enumerate(s) if d == 1 and dy.shape[i] != 1)
    if axes:
        dy = dy.sum(axis=axes, keepdims=True)
    return dy.reshape(s)


def _sum_to_shape_rule(dy, s):
    if s.value is not None:
        return AVal([int(v) for v in s.value], dy.dtype)
    return AVal(TensorShape(None) if s.shape[0] is None else [None] * s.shape[0], dy.dtype)


sum_to_shape_p = primitive(
    "SumToShape",
    _sum_to_shape_kernel,
    _sum_to_shape_rule,
    lambda inputs, out, dy: (broadcast_to(dy, shape(inputs[0])), None),
    saves=(),
    saves_output=False,
)


def sum_to_shape(dy, shape):
    """Sum ``dy`` over broadcast dimensions so it has ``shape`` (gradient helper)."""
    return bind(
        sum_to_shape_p, (convert_to_tensor(dy), convert_to_tensor(shape, dtype_hint=_d.int32))
    )


@tf_export("broadcast_static_shape")
def broadcast_static_shape(shape_x, shape_y):
    return broadcast_shapes("broadcast_static_shape", TensorShape(shape_x), TensorShape(shape_y))


@tf_export("broadcast_dynamic_shape")
def broadcast_dynamic_shape(shape_x, shape_y):
    a = [int(v) for v in np.asarray(convert_to_tensor(shape_x)._value)]
    b = [int(v) for v in np.asarray(convert_to_tensor(shape_y)._value)]
    return convert_to_tensor(
        broadcast_shapes("broadcast_dynamic_shape", TensorShape(a), TensorShape(b)).as_list(),
        _d.int32,
    )


# --------------------------------------------------------------------------------------
# where (3-argument select)
# --------------------------------------------------------------------------------------


def _select_rule(c, x, y):
    if c.dtype is not _d.bool:
        raise op_error(
            InvalidArgumentError, "SelectV2", f"condition must be bool, got {c.dtype.name}"
        )
    if x.dtype is not y.dtype:
        raise op_error(
            InvalidArgumentError,
            "SelectV2",
            f"x and y must have the same dtype, got {x.dtype.name} and {y.dtype.name}",
        )
    s = broadcast_shapes("SelectV2", broadcast_shapes("SelectV2", c.shape, x.shape), y.shape)
    return AVal(s, x.dtype)


def _select_kernel(c, x, y, xp=np):
    if c.dtype != np.bool_ or x.dtype != y.dtype:
        raise TypeError("dtype mismatch")
    return xp.where(c, x, y)


def _select_grad(inputs, out, dy):
    c, x, y = inputs
    z = zeros_like(dy)
    return None, unbroadcast(where_v2(c, dy, z), x), unbroadcast(where_v2(c, z, dy), y)


select_p = primitive(
    "SelectV2", _select_kernel, _select_rule, _select_grad, saves=(0,), saves_output=False
)


def where_v2(condition, x, y):
    """Elementwise select with broadcasting (the 3-argument form of ``tf.where``)."""
    x, y = binary_args(x, y)
    return bind(select_p, (convert_to_tensor(condition), x, y))


# The ops core runs itself (rill.core.interfaces): core never imports rill.ops.
register_core_ops(
    ones_like=lambda t: ones_like(t),
    zeros_like=lambda t: zeros_like(t),
    add=lambda a, b: _add(a, b),
    identity=identity,
    stack=stack,
    reshape=reshape,
    convert=lambda v, dtype: convert_to_tensor(v, dtype=dtype),
)


def _add(a, b):
    from rill.ops.math_ops import add  # local: import cycle with math_ops

    return add(a, b)
