"""Shape manipulation: transpose, expand_dims, squeeze, concat, split, tile, pad, reverse,
roll, repeat, rank, size, shape_n, ensure_shape."""

from __future__ import annotations

import itertools

import numpy as np

from rill.core import dtypes as _d
from rill.ops import lowering_math as _lowering
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    TensorShape,
    bind,
    convert_to_tensor,
    is_tensor_like,
    op_error,
    primitive,
    static_value,
    tf_export,
)
from rill.ops.array_ops import identity, reshape, shape, stack
from rill.ops.reduction_ops import reduce_sum

# --------------------------------------------------------------------------------------
# Argument helpers
# --------------------------------------------------------------------------------------


def _static_ints(op, value, what, err=InvalidArgumentError):
    """Static integer values of an argument (int, list, array or constant int tensor)."""
    if is_tensor_like(value):
        t = convert_to_tensor(value)
    else:
        try:
            t = convert_to_tensor(value, dtype_hint=_d.int32)
        except (TypeError, ValueError) as e:
            raise op_error(err, op, f"`{what}` must be integers: {e}") from None
    if not t.dtype.is_integer:
        raise op_error(err, op, f"`{what}` must be int32 or int64, got {t.dtype.name} ({value!r})")
    v = static_value(t)
    if v is None:
        raise op_error(
            InvalidArgumentError, op, f"`{what}` must be a constant, not a symbolic tensor"
        )
    return np.asarray(v)


def _as_tuple(op, value, what, err=InvalidArgumentError):
    return tuple(int(v) for v in _static_ints(op, value, what, err).reshape(-1))


def _static_int(op, value, what, err=InvalidArgumentError):
    v = _static_ints(op, value, what, err)
    if v.size != 1:
        raise op_error(
            InvalidArgumentError, op, f"`{what}` must be a scalar, got shape {list(v.shape)}"
        )
    return int(v.reshape(()))


def _check_axis(op, axis, rank, msg=None):
    """Normalise ``axis`` into [0, rank) or raise InvalidArgumentError."""
    if not -rank <= axis < rank:
        raise op_error(
            InvalidArgumentError,
            op,
            msg
            or f"axis {axis} is out of range for a tensor of rank {rank}; valid axes are in [{-rank}, {rank})",
        )
    return axis % rank


# --------------------------------------------------------------------------------------
# rank / size / shape_n
# --------------------------------------------------------------------------------------

rank_p = primitive(
    "Rank",
    lambda x, xp=np: xp.asarray(x.ndim, dtype=np.int32),
    lambda x: AVal([], _d.int32, None if x.rank is None else np.array(x.rank, np.int32)),
    shape_only=True,
)


@tf_export("rank")
def rank(input, name=None):  # noqa: A002 - TF's argument name
    """The number of dimensions of a tensor, as an int32 scalar."""
    return bind(rank_p, (convert_to_tensor(input),))


size_p = primitive(
    "Size",
    lambda x, out_type, xp=np: xp.asarray(x.size).astype(out_type.np),
    lambda x, out_type: AVal([], out_type),
    shape_only=True,
)


@tf_export("size")
def size(input, out_type=None, name=None):  # noqa: A002
    """The number of elements of a tensor (int32 unless ``out_type`` says otherwise)."""
    out_type = _d.int32 if out_type is None else _d.as_dtype(out_type)
    if out_type in (_d.string, _d.variant, _d.resource):
        # TF builds the count as a constant of out_type: a number cannot become one of these
        raise TypeError(f"Size: cannot convert the element count to dtype {out_type.name}")
    return bind(size_p, (convert_to_tensor(input),), {"out_type": out_type})


@tf_export("shape_n")
def shape_n(input, out_type=_d.int32, name=None):  # noqa: A002
    """The shapes of a list of tensors."""
    return [shape(x, out_type=out_type) for x in input]


# --------------------------------------------------------------------------------------
# transpose
# --------------------------------------------------------------------------------------


def _check_perm(perm, r):
    if len(perm) != r:
        raise op_error(
            InvalidArgumentError,
            "Transpose",
            f"transpose expects a vector of size {r}. But input(1) is a vector of size {len(perm)}",
        )
    norm = []
    for p in perm:
        if not -r <= p < r:
            raise op_error(
                InvalidArgumentError,
                "Transpose",
                f"{p} is out of range [0 .. {r}) (perm {list(perm)})",
            )
        norm.append(p % r)
    for i in range(r):
        if i not in norm:
            raise op_error(
                InvalidArgumentError,
                "Transpose",
                f"{i} is missing from {{{','.join(map(str, perm))}}}.",
            )
    return norm


def _transpose_rule(x, perm, conjugate):
    if x.rank is None:
        return AVal(TensorShape(None), x.dtype)
    d = x.shape.as_list()
    return AVal([d[p] for p in _check_perm(perm, x.rank)], x.dtype)


def _transpose_kernel(x, perm, conjugate, xp=np):
    y = xp.permute_dims(x, _check_perm(perm, x.ndim))
    return xp.conj(y) if conjugate and y.dtype.kind == "c" else y


def _transpose_grad(inputs, out, dy, perm, conjugate):
    r = len(perm)
    inv = [0] * r
    for i, p in enumerate(perm):
        inv[p % r] = i
    return (transpose(dy, inv, conjugate=conjugate),)


transpose_p = primitive(
    "Transpose",
    _transpose_kernel,
    _transpose_rule,
    _transpose_grad,
    saves=(),
    saves_output=False,
)


@tf_export("transpose")
def transpose(a, perm=None, conjugate=False, name="transpose"):
    """Permute dimensions (reverse them by default); conjugate=True also conjugates complex."""
    x = convert_to_tensor(a)
    if perm is None:
        if x.shape.rank is None:
            raise ValueError("transpose: perm=None needs a tensor of known rank.")
        perm = tuple(np.arange(x.shape.rank)[::-1].tolist())
    else:
        perm = _as_tuple("Transpose", perm, "perm")
    return bind(transpose_p, (x,), {"perm": perm, "conjugate": bool(conjugate)})


# --------------------------------------------------------------------------------------
# expand_dims / squeeze
# --------------------------------------------------------------------------------------


def _expand_axis(axis, r):
    if not -r - 1 <= axis <= r:
        raise op_error(
            InvalidArgumentError,
            "ExpandDims",
            f"Tried to expand dim index {axis} for tensor with {r} dimensions (valid: [{-r - 1}, {r}]).",
        )
    return axis + r + 1 if axis < 0 else axis


def _expand_dims_rule(x, axis):
    if x.rank is None:
        return AVal(TensorShape(None), x.dtype)
    d = x.shape.as_list()
    d.insert(_expand_axis(axis, x.rank), 1)
    return AVal(d, x.dtype)


expand_dims_p = primitive(
    "ExpandDims",
    lambda x, axis, xp=np: xp.expand_dims(x, axis=_expand_axis(axis, x.ndim)),
    _expand_dims_rule,
    lambda inputs, out, dy, axis: (reshape(dy, shape(inputs[0])),),
    saves=(),
    saves_output=False,
)


@tf_export("expand_dims")
def expand_dims(input, axis, name=None):  # noqa: A002
    """Insert a dimension of size 1 at ``axis`` (in [-rank-1, rank])."""
    # TF: a float axis cannot become its int32 tensor (TypeError); a string tensor can, and
    # the op rejects its dtype (InvalidArgumentError)
    err = InvalidArgumentError if isinstance(axis, (str, bytes)) else TypeError
    v = _static_ints("ExpandDims", axis, "axis", err=err)
    if v.size != 1:
        raise op_error(
            InvalidArgumentError,
            "ExpandDims",
            f"'dim' must be a tensor with a single value, got {v.tolist()}",
        )
    return bind(expand_dims_p, (convert_to_tensor(input),), {"axis": int(v.reshape(()))})


def _squeeze_dims(op, dims, axis):
    """Output dims of squeezing ``axis`` (empty tuple: every size-1 dim) from ``dims``."""
    r = len(dims)
    if not axis:
        if None in dims:
            return None  # which dims go depends on unknown sizes
        return [d for d in dims if d != 1]
    drop = set()
    for a in axis:
        if not -r <= a < r:
            raise op_error(
                InvalidArgumentError,
                op,
                f"Tried to squeeze dim index {a} for tensor with {r} dimensions.",
            )
        a %= r
        if dims[a] is not None and dims[a] != 1:
            raise op_error(
                InvalidArgumentError,
                op,
                f"Can not squeeze dim[{a}], expected a dimension of 1, got {dims[a]} (shape {dims})",
            )
        drop.add(a)
    return [d for i, d in enumerate(dims) if i not in drop]


def _squeeze_rule(x, axis):
    out = None if x.rank is None else _squeeze_dims("Squeeze", x.shape.as_list(), axis)
    return AVal(TensorShape(out), x.dtype)


squeeze_p = primitive(
    "Squeeze",
    lambda x, axis, xp=np: x.reshape(_squeeze_dims("Squeeze", list(x.shape), axis)),
    _squeeze_rule,
    lambda inputs, out, dy, axis: (reshape(dy, shape(inputs[0])),),
    saves=(),
    saves_output=False,
)


@tf_export("squeeze")
def squeeze(input, axis=None, name=None):  # noqa: A002
    """Remove size-1 dimensions (all of them, or those listed in ``axis``)."""
    if axis is None:
        ax = ()
    else:
        if is_tensor_like(axis):
            raise TypeError(f"Expected list for 'axis' argument to 'squeeze' Op, not {axis!r}.")
        ax = axis if isinstance(axis, (list, tuple)) else [axis]
        for a in ax:
            if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
                raise TypeError(f"Expected int for argument 'axis' not {a!r}.")
        ax = tuple(int(a) for a in ax)
    return bind(squeeze_p, (convert_to_tensor(input),), {"axis": ax})


# --------------------------------------------------------------------------------------
# concat / split
# --------------------------------------------------------------------------------------


def _convert_list(values):
    """Convert a list of tensor-likes to one dtype: the first tensor's, else the first value's."""
    values = list(values)
    dtype = next((convert_to_tensor(v).dtype for v in values if is_tensor_like(v)), None)
    out = []
    for v in values:
        if is_tensor_like(v):
            out.append(convert_to_tensor(v))
        else:
            t = convert_to_tensor(v, dtype=dtype)
            dtype = dtype or t.dtype
            out.append(t)
    return out


def _concat_rule(*xs, axis):
    first = next((x for x in xs if x.rank is not None), None)
    for i, x in enumerate(xs):
        if x.dtype is not xs[0].dtype:
            raise op_error(
                InvalidArgumentError,
                "ConcatV2",
                f"all inputs must have the same dtype: input #{i} has dtype {x.dtype.name} but input #0 "
                f"has dtype {xs[0].dtype.name}",
            )
    if first is None:
        return AVal(TensorShape(None), xs[0].dtype)
    r = first.rank
    if r == 0:
        raise op_error(
            InvalidArgumentError, "ConcatV2", "Can't concatenate scalars (use tf.stack instead)"
        )
    ax = _check_axis(
        "ConcatV2",
        axis,
        r,
        f"Expected concatenating dimensions in the range [{-r}, {r}), but got {axis}",
    )
    out = first.shape.as_list()
    out[ax] = 0
    i0 = xs.index(first)
    for i, x in enumerate(xs):
        if x.rank is None:
            out[ax] = None
            continue
        d = x.shape.as_list()
        if x.rank != r:
            raise op_error(
                InvalidArgumentError,
                "ConcatV2",
                f"Ranks of all input tensors should match: shape[{i0}] = {first.shape.as_list()} vs. "
                f"shape[{i}] = {d}",
            )
        for k in np.arange(r):
            if k == ax:
                continue
            if out[k] is not None and d[k] is not None and out[k] != d[k]:
                raise op_error(
                    InvalidArgumentError,
                    "ConcatV2",
                    f"Dimension {k} in both shapes must be equal: shape[{i0}] = {first.shape.as_list()} "
                    f"vs. shape[{i}] = {d} (only dimension {ax}, the concat axis, may differ)",
                )
            if out[k] is None:
                out[k] = d[k]
        out[ax] = None if out[ax] is None or d[ax] is None else out[ax] + d[ax]
    return AVal(out, xs[0].dtype)


def _concat_kernel(*xs, axis, xp=np):
    return xp.concat(xs, axis=axis)


def _concat_grad(inputs, out, dy, axis):
    r = dy.shape.rank
    ax = axis % r
    sizes = [x.shape[ax] for x in inputs]
    if None in sizes:  # unknown sizes while tracing: take them from the runtime shapes
        sizes = concat([split(shape(x), r)[ax] for x in inputs], 0)
    return tuple(split(dy, sizes, ax))


concat_p = primitive("ConcatV2", _concat_kernel, _concat_rule, _concat_grad, same_dtype=True)


@tf_export("concat")
def concat(values, axis, name="concat"):
    """Join tensors along an existing ``axis`` (the other dimensions must match)."""
    if is_tensor_like(values):
        values = [values]
    ts = _convert_list(values)
    if not ts:
        raise op_error(
            InvalidArgumentError, "ConcatV2", "values must be a non-empty list of tensors"
        )
    if len(ts) == 1:
        return identity(ts[0])
    if isinstance(axis, float):  # TF cannot make its int32 axis tensor from a float
        raise TypeError(f"ConcatV2: `axis` must be an integer, got {axis!r}")
    ax = _static_int("ConcatV2", axis, "axis")
    return bind(concat_p, tuple(ts), {"axis": ax})


def _split_rule(x, num, axis):
    if num < 1:
        raise op_error(InvalidArgumentError, "Split", f"num_split must be at least 1, got {num}")
    if x.rank is None:
        return tuple(AVal(TensorShape(None), x.dtype) for _ in np.arange(num))
    r = x.rank
    ax = _check_axis(
        "Split", axis, r, f"-input rank(-{r}) <= split_dim < input rank ({r}), but got {axis}"
    )
    d = x.shape.as_list()
    if d[ax] is not None:
        if d[ax] % num:
            raise op_error(
                InvalidArgumentError,
                "Split",
                f"Number of ways to split should evenly divide the split dimension, but got split_dim "
                f"{ax} (size = {d[ax]}) and num_split {num}",
            )
        d[ax] //= num
    return tuple(AVal(d, x.dtype) for _ in np.arange(num))


def _split_kernel(x, num, axis, xp=np):
    _split_rule(AVal(TensorShape(x.shape), _d.float32), num, axis)
    return tuple(xp.split(x, num, axis=axis))


split_p = primitive(
    "Split",
    _split_kernel,
    _split_rule,
    lambda inputs, outs, dys, num, axis: (concat(list(dys), axis),),
    n_out=-1,
)


def _resolve_sizes(sizes, dim):
    """Resolve a -1 in ``sizes`` against dimension ``dim`` (None if unknown)."""
    sizes = [int(s) for s in sizes]
    if len(sizes) == 1:
        if dim is not None and sizes[0] != dim:
            raise op_error(
                InvalidArgumentError,
                "SplitV",
                f"If there is only one output, it must have the same size as the input. Input size: "
                f"{dim} output size: {sizes[0]}",
            )
        return [dim]
    if sum(s == -1 for s in sizes) > 1:
        raise op_error(
            InvalidArgumentError,
            "SplitV",
            f"There can only be one -1 in the input (sizes {sizes}).",
        )
    for s in sizes:
        if s < -1:
            raise op_error(
                InvalidArgumentError, "SplitV", f"split sizes must be >= 0 (or one -1), got {sizes}"
            )
    known = sum(s for s in sizes if s != -1)
    if dim is None:
        return [None if s == -1 else s for s in sizes]
    if (-1 in sizes and known > dim) or (-1 not in sizes and known != dim):
        raise op_error(
            InvalidArgumentError,
            "SplitV",
            f"Determined shape must either match input shape along split_dim exactly if fully specified, "
            f"or be less than the size of the input along split_dim if not fully specified.  Got: {known} "
            f"(sizes {sizes}, dimension size {dim})",
        )
    return [dim - known if s == -1 else s for s in sizes]


def _splitv_rule(x, sizes, num, axis):
    if sizes.rank not in (None, 1) or (sizes.shape.rank == 1 and sizes.shape[0] not in (None, num)):
        raise op_error(
            InvalidArgumentError,
            "SplitV",
            f"size of the split_tensor must be 1-D and have the same elements as outputs got {sizes.shape}",
        )
    if x.rank is None:
        return tuple(AVal(TensorShape(None), x.dtype) for _ in np.arange(num))
    r = x.rank
    ax = _check_axis(
        "SplitV", axis, r, f"-input rank(-{r}) <= split_dim < input rank ({r}), but got {axis}"
    )
    d = x.shape.as_list()
    if sizes.value is None:
        res = [None] * num
    else:
        res = _resolve_sizes(sizes.value, d[ax])
    return tuple(AVal(d[:ax] + [s] + d[ax + 1 :], x.dtype) for s in res)


def _splitv_kernel(x, sizes, num, axis, xp=np):
    if sizes.ndim != 1 or sizes.size != num:
        raise ValueError("bad sizes")
    ax = axis % x.ndim if x.ndim else axis
    res = _resolve_sizes(sizes, x.shape[ax])
    return tuple(xp.split(x, list(itertools.accumulate(res))[:-1], axis=ax))


splitv_p = primitive(
    "SplitV",
    _splitv_kernel,
    _splitv_rule,
    lambda inputs, outs, dys, num, axis: (concat(list(dys), axis), None),
    n_out=-1,
)


@tf_export("split")
def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Split into ``num_or_size_splits`` equal pieces, or pieces of the listed sizes (one may
    be -1), along ``axis``. Returns a list of tensors."""
    x = convert_to_tensor(value)
    ax = _static_int("Split", axis, "axis", err=TypeError)
    if isinstance(num_or_size_splits, (int, np.integer)) and not isinstance(
        num_or_size_splits, bool
    ):
        n = int(num_or_size_splits)
        out = bind(split_p, (x,), {"num": n, "axis": ax})
    else:
        if is_tensor_like(num_or_size_splits):
            s = convert_to_tensor(num_or_size_splits)
            if s.shape.rank == 0:
                raise ValueError(
                    "Rank-0 tensors are not supported as the num_or_size_splits argument to split. "
                    f"Argument provided: {s}"
                )
        else:
            s = convert_to_tensor(num_or_size_splits, dtype_hint=_d.int32)
        if not s.dtype.is_integer:
            raise op_error(
                InvalidArgumentError,
                "SplitV",
                f"size_splits must be int32 or int64, got {s.dtype.name}",
            )
        n = num
        if n is None:
            n = s.shape[0] if s.shape.rank == 1 else None
            if n is None:
                raise ValueError(f"Cannot infer argument `num` from shape {s.shape}")
        if n < 1:
            raise op_error(
                InvalidArgumentError, "SplitV", f"num_split must be at least 1, got {n} sizes"
            )
        out = bind(splitv_p, (x, s), {"num": int(n), "axis": ax})
    return list(out) if isinstance(out, tuple) else [out]


# --------------------------------------------------------------------------------------
# tile
# --------------------------------------------------------------------------------------


def _check_multiples(multiples, r):
    if len(multiples) != r:
        raise op_error(
            InvalidArgumentError,
            "Tile",
            f"Expected multiples argument to be a vector of length {r} but got length {len(multiples)}",
        )
    for i, m in enumerate(multiples):
        if m < 0:
            raise op_error(
                InvalidArgumentError, "Tile", f"Expected multiples[{i}] >= 0, but got {m}"
            )


def _tile_rule(x, multiples):
    if x.rank is None:
        return AVal([None] * len(multiples), x.dtype)
    _check_multiples(multiples, x.rank)
    return AVal(
        [None if d is None else d * m for d, m in zip(x.shape.as_list(), multiples)], x.dtype
    )


def _tile_kernel(x, multiples, xp=np):
    _check_multiples(multiples, x.ndim)
    total = 1
    for d, m in zip(x.shape, multiples):
        if total * d * int(m) > 2**63 - 1:  # NumPy would wrap the size to a negative dim
            raise op_error(
                InvalidArgumentError, "Tile",
                f"Encountered overflow when multiplying {total * d} with {int(m)}",
            )  # fmt: skip
        total *= d * int(m)
    return xp.tile(x, multiples) if multiples else x.copy()


def _tile_grad(inputs, out, dy, multiples):
    x = inputs[0]
    r = len(multiples)
    if r == 0:
        return (dy,)
    if x.shape.is_fully_defined():
        inter = [v for m, d in zip(multiples, x.shape.as_list()) for v in (m, d)]
    else:
        inter = reshape(
            stack([convert_to_tensor(list(multiples), _d.int32), shape(x)], axis=1), [-1]
        )
    return (reduce_sum(reshape(dy, inter), axis=list(np.arange(0, 2 * r, 2))),)


tile_p = primitive("Tile", _tile_kernel, _tile_rule, _tile_grad)


@tf_export("tile")
def tile(input, multiples, name=None):  # noqa: A002
    """Repeat the whole tensor ``multiples[i]`` times along each dimension i."""
    m = _static_ints("Tile", multiples, "multiples")
    if m.ndim != 1:
        raise op_error(
            InvalidArgumentError,
            "Tile",
            f"Expected multiples to be 1-D, but got shape {list(m.shape)}",
        )
    return bind(tile_p, (convert_to_tensor(input),), {"multiples": tuple(int(v) for v in m)})


# --------------------------------------------------------------------------------------
# pad
# --------------------------------------------------------------------------------------


def _check_paddings(op, paddings, r, dims=None, mode=None):
    if len(paddings) != r:
        raise op_error(
            InvalidArgumentError,
            op,
            f"The first dimension of paddings must be the rank of inputs[{len(paddings)},2] {dims} "
            f"(the tensor has rank {r})",
        )
    for i, (b, a) in enumerate(paddings):
        if b < 0 or a < 0:
            raise op_error(
                InvalidArgumentError, op, f"Paddings must be non-negative: {b} {a} (dimension {i})"
            )
        if mode is None or dims is None or dims[i] is None:
            continue
        n = dims[i]
        if mode == "REFLECT" and (b >= n or a >= n):
            raise op_error(
                InvalidArgumentError,
                op,
                f"paddings must be less than the dimension size: {b}, {a} not less than {n} (dimension {i}; "
                f"REFLECT padding needs paddings < size)",
            )
        if mode == "SYMMETRIC" and (b > n or a > n):
            raise op_error(
                InvalidArgumentError,
                op,
                f"paddings must be no greater than the dimension size: {b}, {a} greater than {n} "
                f"(dimension {i}; SYMMETRIC padding needs paddings <= size)",
            )


def _padded_dims(x, paddings):
    if x.rank is None:
        return [None] * len(paddings)
    return [None if d is None else d + b + a for d, (b, a) in zip(x.shape.as_list(), paddings)]


def _pad_rule(x, c, paddings):
    if c.rank not in (None, 0):
        raise op_error(
            InvalidArgumentError, "PadV2", f"constant_values must be a scalar, got shape {c.shape}"
        )
    if x.rank is not None:
        _check_paddings("PadV2", paddings, x.rank, x.shape.as_list())
    return AVal(_padded_dims(x, paddings), x.dtype)


def _pad_kernel(x, c, paddings, xp=np):
    _check_paddings("PadV2", paddings, x.ndim, list(x.shape))
    if c.ndim:
        raise ValueError("constant_values must be a scalar")
    if x.dtype == object:
        out = xp.full([d + b + a for d, (b, a) in zip(x.shape, paddings)], c[()], dtype=object)
        out[tuple(slice(b, b + d) for d, (b, _) in zip(x.shape, paddings))] = x
        return out
    return xp.pad(x, paddings, mode="constant", constant_values=c)


def _crop(dy, paddings):
    """The centre of ``dy`` once ``paddings`` are removed from each side (via split)."""
    for i, (b, a) in enumerate(paddings):
        if b or a:
            dy = split(dy, [b, -1, a], axis=i)[1]
    return dy


pad_p = primitive(
    "PadV2",
    _pad_kernel,
    _pad_rule,
    lambda inputs, out, dy, paddings: (_crop(dy, paddings), None),
    same_dtype=True,
)


def _mirror_pad_rule(x, paddings, mode):
    if x.rank is not None:
        _check_paddings("MirrorPad", paddings, x.rank, x.shape.as_list(), mode)
    return AVal(_padded_dims(x, paddings), x.dtype)


def _mirror_pad_kernel(x, paddings, mode, xp=np):
    _check_paddings("MirrorPad", paddings, x.ndim, list(x.shape), mode)
    return xp.pad(x, paddings, mode=mode.lower())


mirror_pad_p = primitive(
    "MirrorPad",
    _mirror_pad_kernel,
    _mirror_pad_rule,
    lambda inputs, out, dy, paddings, mode: (
        bind(mirror_pad_grad_p, (dy,), {"paddings": paddings, "mode": mode}),
    ),
)


def _mirror_pad_grad_rule(dy, paddings, mode):
    if dy.rank is None:
        return AVal([None] * len(paddings), dy.dtype)
    if dy.rank != len(paddings):
        raise op_error(
            InvalidArgumentError,
            "MirrorPadGrad",
            f"paddings {paddings} do not match rank {dy.rank}",
        )
    return AVal(
        [None if d is None else d - b - a for d, (b, a) in zip(dy.shape.as_list(), paddings)],
        dy.dtype,
    )


def _mirror_pad_grad_kernel(dy, paddings, mode, xp=np):
    """Fold the padded borders of ``dy`` back onto the elements they were copied from."""
    off = 1 if mode == "REFLECT" else 0
    out = dy
    for ax, (b, a) in enumerate(paddings):
        if not (b or a):
            continue
        out = xp.moveaxis(out, ax, 0)
        n = out.shape[0] - b - a
        core = out[b : b + n].copy()
        if b:
            core[off : off + b] += out[:b][::-1]
        if a:
            core[n - off - a : n - off] += out[b + n :][::-1]
        out = xp.moveaxis(core, 0, ax)
    return xp.ascontiguousarray(out) if out is not dy else dy.copy()


mirror_pad_grad_p = primitive(
    "MirrorPadGrad",
    _mirror_pad_grad_kernel,
    _mirror_pad_grad_rule,
    lambda inputs, out, dy, paddings, mode: (
        bind(mirror_pad_p, (dy,), {"paddings": paddings, "mode": mode}),
    ),
    lowering=_lowering.mirror_pad_grad,
)


@tf_export("pad")
def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None):
    """Pad with ``paddings[i] = [before, after]`` along each dimension i.

    mode: CONSTANT (``constant_values``), REFLECT (mirror without the edge; paddings < size)
    or SYMMETRIC (mirror including the edge; paddings <= size), case-insensitive.
    """
    m = str(mode).upper()
    if m not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        raise ValueError(
            'Value of argument `mode` expected to be one of "CONSTANT", "REFLECT", or "SYMMETRIC". '
            f"Received `mode` = {m}"
        )
    x = convert_to_tensor(tensor)
    op = "PadV2" if m == "CONSTANT" else "MirrorPad"
    p = _static_ints(op, paddings, "paddings")
    if p.ndim != 2 or p.shape[1] != 2:
        raise op_error(
            InvalidArgumentError, op, f"paddings must be a matrix with 2 columns: {list(p.shape)}"
        )
    pt = tuple((int(b), int(a)) for b, a in p)
    if m == "CONSTANT":
        if x.dtype.is_string and isinstance(constant_values, int) and constant_values == 0:
            constant_values = b""  # the default pads strings with empty strings
        c = (
            convert_to_tensor(constant_values)
            if is_tensor_like(constant_values)
            else convert_to_tensor(constant_values, dtype=x.dtype)
        )
        return bind(pad_p, (x, c), {"paddings": pt})
    return bind(mirror_pad_p, (x,), {"paddings": pt, "mode": m})


# --------------------------------------------------------------------------------------
# reverse / roll
# --------------------------------------------------------------------------------------


def _reverse_axes(axis, r):
    out = []
    for i, a in enumerate(axis):
        if not -r <= a < r:
            raise op_error(
                InvalidArgumentError,
                "ReverseV2",
                f"'axis'[{i}] = {a} is out of valid range [0, {r - 1}]",
            )
        if a % r in out:
            raise op_error(
                InvalidArgumentError, "ReverseV2", f"axis {a % r} specified more than once."
            )
        out.append(a % r)
    return tuple(out)


def _reverse_rule(x, axis):
    if x.rank is not None:
        _reverse_axes(axis, x.rank)
    return AVal(x.shape, x.dtype)


reverse_p = primitive(
    "ReverseV2",
    lambda x, axis, xp=np: xp.flip(x, axis=_reverse_axes(axis, x.ndim)) if axis else x.copy(),
    _reverse_rule,
    lambda inputs, out, dy, axis: (reverse(dy, list(axis)),),
)


@tf_export("reverse")
def reverse(tensor, axis, name=None):
    """Reverse the order of elements along each dimension listed in ``axis`` (a 1-D list)."""
    v = _static_ints("ReverseV2", axis, "axis")
    if v.ndim != 1:
        raise op_error(
            InvalidArgumentError, "ReverseV2", f"'dims' must be 1-dimension, not {v.ndim}"
        )
    return bind(reverse_p, (convert_to_tensor(tensor),), {"axis": tuple(int(a) for a in v)})


def _roll_axes(shift, axis, r):
    if len(shift) != len(axis):
        raise op_error(
            InvalidArgumentError,
            "Roll",
            f"shift and axis must have the same size (shift {list(shift)}, axis {list(axis)})",
        )
    for a in axis:
        if not -r <= a < r:
            raise op_error(
                InvalidArgumentError, "Roll", f"axis {a} is out of range for a tensor of rank {r}"
            )
    return tuple(a % r for a in axis)


def _roll_rule(x, shift, axis):
    if x.rank is not None:
        _roll_axes(shift, axis, x.rank)
    return AVal(x.shape, x.dtype)


roll_p = primitive(
    "Roll",
    lambda x, shift, axis, xp=np: (
        xp.roll(x, shift, axis=_roll_axes(shift, axis, x.ndim)) if shift else x.copy()
    ),
    _roll_rule,
    lambda inputs, out, dy, shift, axis: (roll(dy, [-s for s in shift], list(axis)),),
)


@tf_export("roll")
def roll(input, shift, axis, name=None):  # noqa: A002
    """Shift elements cyclically by ``shift[i]`` along ``axis[i]`` (repeated axes add up)."""
    s = _static_ints("Roll", shift, "shift")
    a = _static_ints("Roll", axis, "axis")
    if s.ndim > 1 or a.ndim > 1 or s.shape != a.shape:
        raise op_error(
            InvalidArgumentError,
            "Roll",
            f"shift and axis must have the same size and be scalars or 1-D (shift {s.tolist()}, axis {a.tolist()})",
        )
    return bind(
        roll_p,
        (convert_to_tensor(input),),
        {
            "shift": tuple(int(v) for v in s.reshape(-1)),
            "axis": tuple(int(v) for v in a.reshape(-1)),
        },
    )


# --------------------------------------------------------------------------------------
# repeat
# --------------------------------------------------------------------------------------


def _repeat_rule(x, repeats, axis):
    d = x.shape.as_list()
    n = d[axis]
    if len(repeats) == 1:
        d[axis] = None if n is None else n * repeats[0]
    else:
        if n is not None and n != len(repeats):
            raise op_error(
                InvalidArgumentError,
                "Repeat",
                f"{len(repeats)} repeats for dimension {axis} of size {n}",
            )
        d[axis] = sum(repeats)
    return AVal(d, x.dtype)


def _repeat_kernel(x, repeats, axis, xp=np):
    if len(repeats) != 1 and x.shape[axis] != len(repeats):
        raise ValueError("repeats do not match the dimension")
    return xp.repeat(
        x, repeats[0] if len(repeats) == 1 else xp.asarray(repeats, dtype=np.int64), axis=axis
    )


def _repeat_grad_rule(dy, repeats, axis):
    d = dy.shape.as_list()
    if len(repeats) == 1:
        d[axis] = None if d[axis] is None or not repeats[0] else d[axis] // repeats[0]
    else:
        d[axis] = len(repeats)
    return AVal(d, dy.dtype)


def _repeat_grad_kernel(dy, repeats, axis, xp=np):
    """Sum each block of repeated copies back into the element it came from."""
    y = xp.moveaxis(dy, axis, 0)
    if len(repeats) == 1:
        if not repeats[0]:
            raise ValueError("cannot infer the size of the repeated dimension from 0 repeats")
        reps = (repeats[0],) * (y.shape[0] // repeats[0])
    else:
        reps = repeats
    out = xp.zeros((len(reps),) + y.shape[1:], dtype=dy.dtype)
    if y.shape[0]:
        if xp is np:  # one reduceat call (a NumPy ufunc method) for every block
            counts = np.asarray(reps, dtype=np.int64)
            nz = counts > 0
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            out[nz] = np.add.reduceat(y, starts[nz], axis=0)
        else:
            start = 0
            for i, n in enumerate(reps):
                if n > 0:
                    out[i] = xp.sum(y[start : start + n], axis=0)
                start += n
    return xp.moveaxis(out, 0, axis)


repeat_p = primitive(
    "Repeat",
    _repeat_kernel,
    _repeat_rule,
    lambda inputs, out, dy, repeats, axis: (
        bind(repeat_grad_p, (dy,), {"repeats": repeats, "axis": axis}),
    ),
    lowering=_lowering.repeat,
)
repeat_grad_p = primitive(
    "RepeatGrad",
    _repeat_grad_kernel,
    _repeat_grad_rule,
    lambda inputs, out, dy, repeats, axis: (
        bind(repeat_p, (dy,), {"repeats": repeats, "axis": axis}),
    ),
    lowering=_lowering.repeat_grad,
)


@tf_export("repeat")
def repeat(input, repeats, axis=None, name=None):  # noqa: A002
    """Repeat each element ``repeats`` times (a scalar, or one count per element) along
    ``axis``; axis=None repeats the elements of the flattened tensor."""
    x = convert_to_tensor(input)
    if axis is None:
        x = reshape(x, [-1])
        axis = 0
    elif is_tensor_like(axis) or not isinstance(axis, (int, np.integer)):
        raise TypeError(
            f"Argument `axis` must be an int. Received `axis` = {axis} of type {type(axis).__name__}"
        )
    r = x.shape.rank
    if r is None:
        raise ValueError("repeat: the input must have a known rank.")
    if r == 0:
        x, r = reshape(x, [1]), 1
    if not -r <= axis < r:
        raise ValueError(f"axis={axis} out of bounds: expected {-r}<=axis<{r}")
    axis %= r
    reps = _static_ints("Repeat", repeats, "repeats", err=TypeError)
    if reps.ndim > 1:
        raise ValueError(f"Shape {reps.shape} must have rank at most 1")
    if reps.size == 1 and reps.reshape(-1)[0] < 0:
        # TF tiles by a single count (scalar or one-element list) and rejects a negative
        # one; per-element counts clamp to zero
        raise op_error(
            InvalidArgumentError,
            "Repeat",
            f"`repeats` must be >= 0, but got {int(reps.reshape(-1)[0])}",
        )
    reps = np.maximum(reps.reshape(-1), 0)  # negative counts repeat zero times, like TF
    n = x.shape[axis]
    if reps.size == 1 and n is not None:
        reps = np.full(n, reps[0])
    elif n is not None and reps.size != n:
        raise ValueError(f"Dimensions {n} and {reps.size} are not compatible")
    return bind(repeat_p, (x,), {"repeats": tuple(int(v) for v in reps), "axis": axis})


# --------------------------------------------------------------------------------------
# ensure_shape
# --------------------------------------------------------------------------------------


def _ensure_shape_check(actual, expected):
    if not TensorShape(actual).is_compatible_with(expected):
        raise op_error(
            InvalidArgumentError,
            "EnsureShape",
            f"Shape of tensor input {_fmt(actual)} is not compatible with expected shape {_fmt(expected)}.",
        )


def _fmt(s):
    s = TensorShape(s)
    return (
        "<unknown>"
        if s.rank is None
        else "[" + ",".join("?" if d is None else str(d) for d in s) + "]"
    )


def _ensure_shape_rule(x, shape):
    _ensure_shape_check(x.shape, shape)
    return AVal(x.shape.merge_with(shape), x.dtype)


def _ensure_shape_kernel(x, shape, xp=np):
    _ensure_shape_check(x.shape, shape)
    return x


ensure_shape_p = primitive(
    "EnsureShape", _ensure_shape_kernel, _ensure_shape_rule, lambda inputs, out, dy, shape: (dy,)
)


@tf_export("ensure_shape")
def ensure_shape(x, shape, name=None):
    """Return ``x`` unchanged after checking its shape is compatible with ``shape``
    (None entries match any size); InvalidArgumentError otherwise."""
    return bind(ensure_shape_p, (convert_to_tensor(x),), {"shape": TensorShape(shape)})
