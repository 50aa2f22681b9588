"""Tensor creation: zeros, ones, fill, range, linspace, eye, one_hot, meshgrid."""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    TensorShape,
    attr_int,
    bind,
    broadcast_shapes,
    check_alloc,
    convert_to_tensor,
    is_tensor_like,
    op_error,
    primitive,
    static_value,
    tf_export,
    unbroadcast,
)
from rill.ops.array_ops import broadcast_to, cast, reshape, shape
from rill.ops.math_ops import multiply, subtract, truediv
from rill.ops.reduction_ops import reduce_sum
from rill.ops.shape_ops import concat

# --------------------------------------------------------------------------------------
# fill / zeros / ones
# --------------------------------------------------------------------------------------


def _check_dims(op, dims):
    """Validate a static dims vector (a 1-D array, non-negative) and return it as a list of
    ints."""
    if dims.ndim != 1:
        raise op_error(
            InvalidArgumentError, op, f"dims must represent a vector, got shape {list(dims.shape)}"
        )
    out = [int(v) for v in dims]
    for v in out:
        if v < 0:
            raise op_error(
                InvalidArgumentError, op, f"Dimension {v} must be >= 0 (requested shape {out})"
            )
    return out


def _check_scalar_value(op, value_shape):
    if value_shape.rank is not None and value_shape.rank > 0 and value_shape.as_list() != [1]:
        raise op_error(
            InvalidArgumentError,
            op,
            f"value must represent a scalar, got shape {value_shape.as_list()}",
        )


def _fill_rule(dims, value):
    _check_scalar_value("Fill", value.shape)
    if dims.value is not None:
        return AVal(_check_dims("Fill", dims.value), value.dtype)
    if dims.rank == 1 and dims.shape[0] is not None:
        return AVal([None] * dims.shape[0], value.dtype)
    return AVal(TensorShape(None), value.dtype)


def _fill_kernel(dims, value, xp=np):
    _check_scalar_value("Fill", TensorShape(value.shape))
    out_dims = _check_dims("Fill", dims)
    check_alloc("Fill", out_dims, value.dtype)  # TF's classes, before NumPy tries
    return xp.full(out_dims, value.reshape(()), dtype=value.dtype)


def _fill_grad(inputs, out, dy):
    return None, reshape(reduce_sum(dy), shape(inputs[1]))


fill_p = primitive("Fill", _fill_kernel, _fill_rule, _fill_grad, dtypes=_d.INTS, n_typed=1)


def _shape_arg(op, shape, strict=True):
    """Convert a shape argument (list, tuple, TensorShape, tensor) to an int tensor.

    ``strict``: Python floats raise TypeError (tf.zeros); else they reach the op (tf.fill).
    """
    if isinstance(shape, TensorShape):
        if not shape.is_fully_defined():
            raise ValueError(f"{op}: shape {shape} must be fully defined.")
        shape = shape.as_list()
    if is_tensor_like(shape):
        s = convert_to_tensor(shape)
    elif not strict:
        s = convert_to_tensor(shape, dtype_hint=_d.int32)
        if not s.dtype.is_integer:
            raise op_error(
                InvalidArgumentError,
                op,
                f"dims must be int32 or int64, got {s.dtype.name} ({shape!r})",
            )
    else:
        try:
            s = convert_to_tensor(shape, dtype=_d.int32)
        except ValueError:  # a dimension that does not fit in int32
            s = convert_to_tensor(shape, dtype=_d.int64)
    if not s.dtype.is_integer:
        raise op_error(TypeError, op, f"shape must be an int32 or int64 tensor, got {s.dtype.name}")
    if strict and s.shape.rank == 0:  # tf.zeros(3) is a vector of 3 zeros
        s = reshape(s, [1])
    return s


@tf_export("fill")
def fill(dims, value, name=None, layout=None):
    """A tensor of shape ``dims`` filled with the scalar ``value`` (dtype taken from value)."""
    return bind(fill_p, (_shape_arg("Fill", dims, strict=False), convert_to_tensor(value)))


def _const_scalar(op, v, dtype):
    try:
        return convert_to_tensor(
            np.asarray(v, dtype=dtype.np) if not dtype.is_string else b"", dtype
        )
    except (TypeError, ValueError):
        raise TypeError(f"{op}: cannot create a value {v!r} of dtype {dtype.name}.") from None


@tf_export("zeros")
def zeros(shape, dtype=_d.float32, name=None, layout=None):
    """A tensor of ``shape`` filled with zeros (empty strings for tf.string)."""
    dtype = _d.as_dtype(dtype)
    return fill(_shape_arg("zeros", shape), _const_scalar("zeros", 0, dtype))


@tf_export("ones")
def ones(shape, dtype=_d.float32, name=None, layout=None):
    """A tensor of ``shape`` filled with ones."""
    dtype = _d.as_dtype(dtype)
    if dtype.is_string:
        raise TypeError(f"Cannot convert 1 to EagerTensor of dtype {dtype.name}")
    return fill(_shape_arg("ones", shape), _const_scalar("ones", 1, dtype))


# --------------------------------------------------------------------------------------
# range
# --------------------------------------------------------------------------------------

_RANGE_DTYPES = frozenset(
    [_d.bfloat16, _d.float16, _d.float32, _d.float64, _d.int8, _d.int16, _d.int32, _d.int64,
     _d.uint16, _d.uint32, _d.uint64]
)  # fmt: skip


def _range_size(xp, start, limit, delta):
    """Number of elements of range(start, limit, delta) (scalars of one dtype), validating
    like TF: computed in that dtype."""
    if delta == 0:
        raise op_error(InvalidArgumentError, "Range", f"Requires delta != 0: {delta}")
    if delta > 0 and start > limit:
        raise op_error(
            InvalidArgumentError,
            "Range",
            f"Requires start <= limit when delta > 0: {start}/{limit}",
        )
    if delta < 0 and start < limit:
        raise op_error(
            InvalidArgumentError,
            "Range",
            f"Requires start >= limit when delta < 0: {start}/{limit}",
        )
    if start.dtype.kind in "iu":
        s, l_, d = int(start), int(limit), int(delta)
        n = (abs(l_ - s) + abs(d) - 1) // abs(d)
    else:
        q = float(xp.ceil(xp.abs((limit - start) / delta)))
        if not np.isfinite(q):
            raise op_error(
                InvalidArgumentError, "Range", f"Requires a finite size, got start {start}, "
                f"limit {limit}, delta {delta}",
            )  # fmt: skip
        n = int(q)
    if n > 2**63 - 1:  # TF's int64 size overflows: it reports a negative size
        raise op_error(
            InvalidArgumentError,
            "Range",
            f"Expected a non-negative size: {n} elements overflow int64",
        )
    return n


def _range_scalars(start, limit, delta):
    for name, v in (("start", start), ("limit", limit), ("delta", delta)):
        if v.ndim != 0:
            raise op_error(
                InvalidArgumentError,
                "Range",
                f"{name} must be a scalar, not shape {list(v.shape)}",
            )
    return start[()], limit[()], delta[()]


def _range_kernel(start, limit, delta, xp=np):
    s, l_, d = _range_scalars(start, limit, delta)
    n = _range_size(xp, s, l_, d)
    check_alloc("Range", (n,), start.dtype)
    return (xp.arange(n, dtype=start.dtype) * d + s).astype(start.dtype, copy=False)


def _range_rule(start, limit, delta):
    for name, a in (("start", start), ("limit", limit), ("delta", delta)):
        if a.rank not in (None, 0):
            raise op_error(
                InvalidArgumentError, "Range", f"{name} must be a scalar, not shape {a.shape}"
            )
    if start.value is not None and limit.value is not None and delta.value is not None:
        s, l_, d = _range_scalars(start.value, limit.value, delta.value)
        return AVal([_range_size(np, s, l_, d)], start.dtype)
    return AVal([None], start.dtype)


range_p = primitive("Range", _range_kernel, _range_rule, dtypes=_RANGE_DTYPES, same_dtype=True)

_RANGE_ORDER = [_d.int32, _d.int64, _d.float16, _d.bfloat16, _d.float32, _d.float64]


@tf_export("range")
def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001 - TF's public name
    """Values start, start+delta, ... up to (excluding) limit; range(n) counts from 0.

    Without ``dtype`` the result dtype is the widest of the arguments' dtypes (Python
    ints are int32, floats float32; tensors keep theirs).
    """
    if limit is None:
        start, limit = 0, start
    if dtype is not None:
        dtype = _d.as_dtype(dtype)
    args = []
    for v in (start, limit, delta):
        args.append(
            convert_to_tensor(v) if is_tensor_like(v) else convert_to_tensor(v, dtype=dtype)
        )
    if dtype is None:
        known = [a.dtype for a in args]
        dtype = max(known, key=lambda t: _RANGE_ORDER.index(t) if t in _RANGE_ORDER else -1)
    args = [a if a.dtype is dtype else cast(a, dtype) for a in args]
    return bind(range_p, tuple(args))


# --------------------------------------------------------------------------------------
# linspace
# --------------------------------------------------------------------------------------


def _norm_insert_axis(op, axis, rank):
    """Axis at which a new dimension is inserted into a rank-``rank`` tensor."""
    if not -rank - 1 <= axis <= rank:
        raise op_error(
            InvalidArgumentError,
            op,
            f"Tried to expand dim index {axis} for tensor with {rank} dimensions (valid: "
            f"[{-rank - 1}, {rank}])",
        )
    return axis + rank + 1 if axis < 0 else axis


def _linspace_rule(start, stop, num, axis):
    b = broadcast_shapes("LinSpace", start.shape, stop.shape)
    if num < 0:
        raise op_error(InvalidArgumentError, "LinSpace", f"num must be non-negative, got {num}")
    if b.rank is None:
        return AVal(TensorShape(None), start.dtype)
    dims = b.as_list()
    dims.insert(_norm_insert_axis("LinSpace", axis, len(dims)), num)
    return AVal(dims, start.dtype)


def _linspace_kernel(start, stop, num, axis, xp=np):
    start, stop = xp.broadcast_arrays(start, stop)
    dt = start.dtype
    ax = _norm_insert_axis("LinSpace", axis, start.ndim)
    if num < 0:
        raise op_error(InvalidArgumentError, "LinSpace", f"num must be non-negative, got {num}")
    start, stop = xp.expand_dims(start, axis=ax), xp.expand_dims(stop, axis=ax)
    steps = dt.type(max(num - 1, 1))
    delta = ((stop - start) / steps).astype(dt)
    idx_shape = [1] * start.ndim
    idx_shape[ax] = num
    idx = xp.arange(num, dtype=dt).reshape(idx_shape)
    out = (start + idx * delta).astype(dt)
    sl = [slice(None)] * out.ndim
    if num > 0:  # the first value is exactly ``start`` (0 * inf would make it NaN)
        sl[ax] = slice(0, 1)
        out[tuple(sl)] = start
    if num > 1:  # the last value is exactly ``stop``
        sl[ax] = slice(num - 1, num)
        out[tuple(sl)] = stop
    return out


def _linspace_grad(inputs, out, dy, num, axis):
    start, stop = inputs
    r = dy.shape.rank
    ax = _norm_insert_axis("LinSpace", axis, r - 1)
    t = cast(range(num), dy.dtype)
    if num > 1:
        t = truediv(t, convert_to_tensor(num - 1, dy.dtype))
    t = reshape(t, [num if i == ax else 1 for i in np.arange(r)])
    g_stop = reduce_sum(multiply(dy, t), axis=ax)
    g_start = subtract(reduce_sum(dy, axis=ax), g_stop)
    return unbroadcast(g_start, start), unbroadcast(g_stop, stop)


linspace_p = primitive(
    "LinSpace", _linspace_kernel, _linspace_rule, _linspace_grad, dtypes=_d.FLOATS, same_dtype=True
)


def _static_int(op, value, what):
    """A static Python int from an int-like argument (Python int or integer tensor)."""
    t = (
        convert_to_tensor(value)
        if is_tensor_like(value)
        else convert_to_tensor(value, dtype_hint=_d.int32)
    )
    if not t.dtype.is_integer:
        raise TypeError(
            f"{op}: argument `{what}` must be of type integer, got {value!r} of dtype {t.dtype.name}."
        )
    v = static_value(t)
    if v is None:
        raise op_error(
            InvalidArgumentError, op, f"`{what}` must be a constant, not a symbolic tensor"
        )
    v = np.asarray(v)
    if v.size != 1:
        raise op_error(
            InvalidArgumentError, op, f"`{what}` must be a scalar, got shape {list(v.shape)}"
        )
    return int(v.reshape(()))


@tf_export("linspace")
def linspace(start, stop, num, name=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` (both included), along ``axis``.

    ``start`` and ``stop`` may be broadcastable tensors; integer inputs give float64.
    """
    start = convert_to_tensor(start)
    if start.dtype.is_integer:
        start = cast(start, _d.float64)
    if is_tensor_like(stop):
        stop = convert_to_tensor(stop)
        if stop.dtype.is_integer and start.dtype is _d.float64:
            stop = cast(stop, _d.float64)
        elif stop.dtype is not start.dtype:
            raise ValueError(
                f"linspace: stop has dtype {stop.dtype.name} but start has dtype {start.dtype.name}; "
                f"cast one of them."
            )
    else:
        stop = convert_to_tensor(stop, dtype=start.dtype)
    n = _static_int("LinSpace", num, "num")
    return bind(linspace_p, (start, stop), {"num": n, "axis": int(axis)})


# --------------------------------------------------------------------------------------
# one_hot / eye
# --------------------------------------------------------------------------------------


def _one_hot_rule(indices, on, off, depth, axis):
    if depth < 0:
        raise op_error(InvalidArgumentError, "OneHot", f"depth must be non-negative, got: {depth}")
    for nm, a in (("on_value", on), ("off_value", off)):
        if a.rank not in (None, 0):
            raise op_error(
                InvalidArgumentError, "OneHot", f"{nm} must be a scalar, got shape {a.shape}"
            )
    if on.dtype is not off.dtype:
        raise op_error(
            InvalidArgumentError,
            "OneHot",
            f"on_value has dtype {on.dtype.name} but off_value has dtype {off.dtype.name}",
        )
    if indices.rank is None:
        return AVal(TensorShape(None), on.dtype)
    r = indices.rank + 1
    if not (axis == -1 or 0 <= axis < r):
        raise op_error(
            InvalidArgumentError,
            "OneHot",
            f"Expected axis to be -1 or between [0, {r}).  But received: {axis}",
        )
    dims = indices.shape.as_list()
    dims.insert(r - 1 if axis == -1 else axis, depth)
    return AVal(dims, on.dtype)


def _one_hot_kernel(indices, on, off, depth, axis, xp=np):
    r = indices.ndim + 1
    if depth < 0 or not (axis == -1 or 0 <= axis < r) or on.ndim or off.ndim:
        raise ValueError("invalid arguments")
    hit = indices[..., None].astype(np.int64) == xp.arange(depth, dtype=np.int64)
    out = xp.where(hit, on, off).astype(on.dtype, copy=False)
    return out if axis in (-1, r - 1) else xp.moveaxis(out, -1, axis)


one_hot_p = primitive(
    "OneHot",
    _one_hot_kernel,
    _one_hot_rule,
    dtypes=frozenset([_d.uint8, _d.int8, _d.int32, _d.int64]),
    n_typed=1,
)


@tf_export("one_hot")
def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """One-hot encoding: a new axis of size ``depth`` with ``on_value`` at each index.

    Indices outside [0, depth) (e.g. -1) give rows of ``off_value``. The dtype comes from
    ``dtype``, else on_value/off_value, else float32.
    """
    if dtype is not None:
        dtype = _d.as_dtype(dtype)
    indices = convert_to_tensor(indices)
    vals = {}
    for nm, v in (("on_value", on_value), ("off_value", off_value)):
        if v is None:
            continue
        t = convert_to_tensor(v) if is_tensor_like(v) else convert_to_tensor(v, dtype_hint=dtype)
        if dtype is not None and t.dtype is not dtype:
            raise TypeError(f"dtype {t.dtype!r} of {nm} does not match dtype parameter {dtype!r}")
        vals[nm] = t
    if (
        "on_value" in vals
        and "off_value" in vals
        and vals["on_value"].dtype is not vals["off_value"].dtype
    ):
        raise TypeError(
            f"dtype {vals['on_value'].dtype!r} of on_value does not match dtype "
            f"{vals['off_value'].dtype!r} of off_value"
        )
    if dtype is None:
        dtype = next(iter(vals.values())).dtype if vals else _d.float32
    on = vals.get("on_value")
    off = vals.get("off_value")
    if on is None:
        on = convert_to_tensor(1, dtype=dtype)
    if off is None:
        off = convert_to_tensor(0, dtype=dtype)
    d = _static_int("OneHot", depth, "depth") if is_tensor_like(depth) else depth
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
        raise TypeError(f"Cannot convert {depth!r} to EagerTensor of dtype int32")
    ax = -1 if axis is None else attr_int("axis", axis)
    return bind(one_hot_p, (indices, on, off), {"depth": int(d), "axis": ax})


@tf_export("eye", "linalg.eye")
def eye(num_rows, num_columns=None, batch_shape=None, dtype=_d.float32, name=None):
    """Identity matrix (ones on the main diagonal) of shape batch_shape + [rows, columns]."""
    dtype = _d.as_dtype(dtype)
    if dtype.is_string:
        raise TypeError(f"Cannot convert 1 to EagerTensor of dtype {dtype.name}")
    for v in (num_rows, num_columns):
        if v is not None and not is_tensor_like(v) and not isinstance(v, (int, np.integer)):
            raise TypeError(
                f"Arguments `num_rows` and `num_columns` must be positive integer values. Received: "
                f"num_rows={num_rows}, num_columns={num_columns}"
            )
    n = _static_int("eye", num_rows, "num_rows")
    m = n if num_columns is None else _static_int("eye", num_columns, "num_columns")
    for v in (n, m):
        if v < 0:
            raise op_error(
                InvalidArgumentError,
                "eye",
                f"Dimension {v} must be >= 0 (num_rows={n}, num_columns={m})",
            )
    ones_, zeros_ = (np.ones((), dtype.np), np.zeros((), dtype.np))
    out = one_hot(
        range(n),
        m,
        on_value=convert_to_tensor(ones_, dtype),
        off_value=convert_to_tensor(zeros_, dtype),
    )
    if batch_shape is not None:
        bs = [
            int(v)
            for v in np.asarray(
                static_value(convert_to_tensor(batch_shape, dtype_hint=_d.int32))
            ).reshape(-1)
        ]
        if bs:
            out = broadcast_to(out, bs + [n, m])
    return out


# --------------------------------------------------------------------------------------
# meshgrid
# --------------------------------------------------------------------------------------


@tf_export("meshgrid")
def meshgrid(*args, **kwargs):
    """Coordinate grids from 1-D inputs (``indexing='xy'`` Cartesian or ``'ij'`` matrix)."""
    indexing = kwargs.pop("indexing", "xy")
    kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"Invalid keyword arguments: {list(kwargs)}")
    if indexing not in ("xy", "ij"):
        raise ValueError(
            f"Argument `indexing` parameter must be either 'xy' or 'ij', got '{indexing}'"
        )
    if not args:
        return []
    ts = [reshape(convert_to_tensor(a), [-1]) for a in args]
    for i, t in enumerate(ts[1:], 1):
        if t.dtype is not ts[0].dtype:
            raise op_error(
                InvalidArgumentError,
                "meshgrid",
                f"all inputs must have the same dtype, got {ts[0].dtype.name} (input 0) and "
                f"{t.dtype.name} (input {i})",
            )
    n = len(ts)
    sizes = [t.shape[0] for t in ts]
    if indexing == "xy" and n > 1:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    full = sizes
    if None in sizes:  # unknown lengths while tracing: build the shape from the inputs
        order = [1, 0] + list(np.arange(2, n)) if indexing == "xy" and n > 1 else list(np.arange(n))
        full = concat([shape(ts[k]) for k in order], 0)
    out = []
    for i, t in enumerate(ts):
        pos = 1 - i if indexing == "xy" and n > 1 and i < 2 else i
        target = [-1 if k == pos else 1 for k in np.arange(n)]
        out.append(broadcast_to(reshape(t, target), full))
    return out
