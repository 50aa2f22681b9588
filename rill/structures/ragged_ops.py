"""``tf.ragged`` functions and the ragged versions of TF's public ops.

Elementwise ops act on ``flat_values`` (operands must share row partitions; dense
operands broadcast into the ragged shape by TF's rules); reductions, ``concat``,
``stack``, ``gather``, ``boolean_mask`` and ``where`` rebuild row partitions with integer
bookkeeping and move values with ``gather``, so gradients reach the values. Calls through
TF's namespaces (``tf.math.add(rt, 1)``, ``tf.reduce_sum(rt, axis=1)``) reach these
functions through ``dispatch_for``.
"""

from __future__ import annotations

import builtins
import functools
import inspect

import numpy as np

from rill.core import dtypes as _d
from rill.core import nest
from rill.core.convert import convert_to_tensor
from rill.core.errors import InvalidArgumentError
from rill.core.tensor import Tensor
from rill.ops import array_ops as _a
from rill.ops import creation_ops as _cr
from rill.ops import indexing_ops as _ix
from rill.ops import math_ops as _m
from rill.ops import reduction_ops as _r
from rill.ops import shape_ops as _s
from rill.ops import sort_ops as _so
from rill.ops import unary_ops as _u
from rill.ops._op import EXPORTS, dispatch_for, is_tensor_like, op_error, tf_export
from rill.structures.ragged_tensor import (
    RaggedTensor,
    _eager,
    _int,
    _np,
    _outer_size,
    _ranges,
    _rowids,
    _splits_arg,
    _tensor,
)

__all__ = [
    "constant", "range", "row_splits_to_segment_ids", "segment_ids_to_row_splits",
    "map_flat_values", "boolean_mask", "stack", "stack_dynamic_partitions",
]  # fmt: skip

_builtin_range = builtins.range


def _is_rt(x) -> bool:
    return isinstance(x, RaggedTensor)


def _c(value, dtype):
    """A scalar constant of ``dtype``."""
    return _tensor(np.array(value, dtype.np))


def _zero1(dtype):
    return _tensor(np.zeros(1, dtype.np))


def _splits_from_lengths(lengths):
    return _s.concat([_zero1(lengths.dtype), _r.cumsum(lengths)], 0)


def _positions(rt):
    """The position of each value within its row."""
    rowids = rt.value_rowids()
    n = _outer_size(rt.values, rowids.dtype)
    return _cr.range(n, dtype=rowids.dtype) - _ix.gather(rt.row_splits, rowids)


def _take(values, idx):
    """Rows ``idx`` of ``values`` (a tensor or a RaggedTensor) along dimension 0."""
    if _is_rt(values):
        return _gather_rows(values, idx)
    return _ix.gather(values, idx)


def _take_range(values, a: int, b: int):
    """Rows ``a:b`` of ``values`` (eager row partitions): cheap slices, differentiable."""
    if not _is_rt(values):
        return values[a:b]
    s = values.row_splits._value
    inner = _take_range(values.values, int(s[a]), int(s[b]))
    return RaggedTensor._make(inner, _tensor(s[a : b + 1] - s[a]))


def _gather_rows(rt, idx):
    s = rt.row_splits
    idx = _a.cast(_tensor(idx), s.dtype)
    starts = _ix.gather(s[:-1], idx)
    limits = _ix.gather(s[1:], idx)
    splits, vidx = _ranges(starts, limits, None, s.dtype)
    return RaggedTensor._make(_take(rt.values, vidx), splits)


def _ragged_rank(x) -> int:
    return x.ragged_rank if _is_rt(x) else 0


def _rank(x):
    return x.shape.rank


# --------------------------------------------------------------------------------------
# ragged.constant
# --------------------------------------------------------------------------------------


def _is_seq(x) -> bool:
    return isinstance(x, (list, tuple)) or (isinstance(x, np.ndarray) and x.ndim > 0)


def _depths(pylist):
    """(set of the depths of scalars, deepest list level) of a nested Python list."""
    scalar, deepest = set(), 0
    stack = [(pylist, 0)]
    while stack:
        x, d = stack.pop()
        if isinstance(x, np.ndarray) and x.ndim > 0:
            deepest = max(deepest, d + x.ndim)
            if x.size:
                scalar.add(d + x.ndim)
        elif isinstance(x, (list, tuple)):
            deepest = max(deepest, d + 1)
            stack.extend((c, d + 1) for c in x)
        else:
            scalar.add(d)
    return scalar, deepest


@tf_export("ragged.constant")
def constant(
    pylist, dtype=None, ragged_rank=None, inner_shape=None, name=None, row_splits_dtype=_d.int64
):
    """A RaggedTensor from a nested Python list (a dense tensor if ``ragged_rank`` is 0).

    ``ragged_rank`` defaults to the nesting depth of the scalars minus 1 minus
    ``len(inner_shape)``; the innermost ``len(inner_shape)`` levels must be uniform.
    """
    sdt = _d.as_dtype(row_splits_dtype)
    if sdt not in (_d.int32, _d.int64):
        raise ValueError("row_splits_dtype must be int32 or int64")
    dtype = None if dtype is None else _d.as_dtype(dtype)
    inner_shape = None if inner_shape is None else tuple(int(d) for d in inner_shape)
    n_inner = len(inner_shape) if inner_shape is not None else 0
    scalar, deepest = _depths(pylist)
    if len(scalar) > 1:
        raise ValueError("all scalar values must have the same nesting depth")
    depth = scalar.pop() if scalar else deepest
    if ragged_rank is None:
        ragged_rank = max(0, depth - 1 - n_inner)
    elif not isinstance(ragged_rank, (int, np.integer)) or ragged_rank < 0:
        raise ValueError(f"ragged_rank must be a non-negative integer, got {ragged_rank!r}")
    if scalar is not None and depth and ragged_rank >= depth and _depths(pylist)[0]:
        raise ValueError(
            f"pylist has scalar values depth {depth}, but ragged_rank={ragged_rank} requires "
            f"scalar value depth greater than {ragged_rank}"
        )
    if inner_shape is not None and _depths(pylist)[0] and depth != ragged_rank + 1 + n_inner:
        raise ValueError(
            f"pylist has scalar values depth {depth}, but ragged_rank={ragged_rank} and "
            f"inner_shape={inner_shape} require depth {ragged_rank + 1 + n_inner}"
        )
    if ragged_rank == 0:
        t = convert_to_tensor(pylist, dtype=dtype)
        if inner_shape is not None and tuple(t.shape.as_list()[1:]) != inner_shape:
            raise ValueError(f"inner values have shape {t.shape[1:]}, expected {inner_shape}")
        return t
    items = list(pylist)
    nested_lengths = []
    for _ in _builtin_range(ragged_rank):
        lengths, nxt = [], []
        for c in items:
            if not _is_seq(c):
                raise ValueError("all scalar values must have the same nesting depth")
            lengths.append(len(c))
            nxt.extend(c)
        nested_lengths.append(np.array(lengths, sdt.np))
        items = nxt
    if not items:
        shape = (0,) + (inner_shape or ())
        flat = convert_to_tensor(np.zeros(shape, (dtype or _d.float32).np), dtype=dtype)
    else:
        try:
            flat = convert_to_tensor(items, dtype=dtype)
        except ValueError as e:
            if "non-rectangular" in str(e):
                raise ValueError("inner values have inconsistent shape") from None
            raise
        if inner_shape is not None and tuple(flat.shape.as_list()[1:]) != inner_shape:
            raise TypeError(
                f"inner values have shape {tuple(flat.shape.as_list()[1:])}, but "
                f"inner_shape={inner_shape}"
            )
    return RaggedTensor.from_nested_row_lengths(
        flat, [_tensor(v) for v in nested_lengths], validate=False
    )


# --------------------------------------------------------------------------------------
# ragged.range, segment ids
# --------------------------------------------------------------------------------------

_RANGE_ORDER = (_d.int32, _d.int64, _d.float32, _d.float64)


@tf_export("ragged.range")
def range(  # noqa: A001 - TF's public name
    starts, limits=None, deltas=1, dtype=None, name=None, row_splits_dtype=_d.int64
) -> RaggedTensor:
    """Row ``i`` is ``range(starts[i], limits[i], deltas[i])`` (scalars broadcast);
    ``range(n)`` counts from 0."""
    if limits is None:
        starts, limits = 0, starts
    dtype = None if dtype is None else _d.as_dtype(dtype)
    args = [
        convert_to_tensor(v) if is_tensor_like(v) else convert_to_tensor(v, dtype=dtype)
        for v in (starts, limits, deltas)
    ]
    if dtype is None:
        known = [a.dtype for a in args]
        dtype = max(known, key=lambda t: _RANGE_ORDER.index(t) if t in _RANGE_ORDER else -1)
    args = [a if a.dtype is dtype else _a.cast(a, dtype) for a in args]
    splits, values = _ranges(*args, splits_type=_d.as_dtype(row_splits_dtype))
    return RaggedTensor._make(values, splits)


@tf_export("ragged.row_splits_to_segment_ids")
def row_splits_to_segment_ids(splits, name=None, out_type=None) -> Tensor:
    """The row of each value: ``[0, 3, 3, 5]`` -> ``[0, 0, 0, 2, 2]``."""
    s = _splits_arg(splits, "splits")
    if s.shape.rank is not None and s.shape.rank != 1:
        raise ValueError(f"Shape {tuple(s.shape.as_list())} must have rank 1")
    return _rowids(s, None if out_type is None else _d.as_dtype(out_type))


@tf_export("ragged.segment_ids_to_row_splits")
def segment_ids_to_row_splits(segment_ids, num_segments=None, out_type=None, name=None):
    """Row splits from the row of each value: ``[0, 0, 0, 2, 2]`` -> ``[0, 3, 3, 5]``."""
    ids = _splits_arg(segment_ids, "segment_ids")
    if ids.shape.rank is not None and ids.shape.rank != 1:
        raise ValueError(f"Shape {tuple(ids.shape.as_list())} must have rank 1")
    out = ids.dtype if out_type is None else _d.as_dtype(out_type)
    if num_segments is None:
        num = _r.reduce_max(_s.concat([_c([-1], ids.dtype), ids], 0)) + _c(1, ids.dtype)
    else:
        num = _a.cast(_tensor(num_segments), ids.dtype)
    lengths = _r.unsorted_segment_sum(_a.ones_like(ids), ids, num)
    return _splits_from_lengths(_a.cast(lengths, out))


# --------------------------------------------------------------------------------------
# Partitions: comparison, ragged rank, broadcasting
# --------------------------------------------------------------------------------------


def _same_splits(sa, sb, what="Inputs must have identical ragged splits"):
    """Raise unless row splits ``sa`` and ``sb`` are equal (checked when eager)."""
    if sa is sb:
        return
    if sa.dtype is not sb.dtype:
        raise ValueError(
            "Input RaggedTensors have mismatched row_splits dtypes; use "
            "RaggedTensor.with_row_splits_dtype() to convert them to compatible dtypes."
        )
    va, vb = _np(sa), _np(sb)
    if va is not None and vb is not None:
        if va.shape != vb.shape or not np.array_equal(va, vb):
            raise op_error(
                InvalidArgumentError,
                "RaggedTensor",
                f"{what}: row_splits {va.tolist()[:10]} vs {vb.tolist()[:10]}",
            )
    elif not sa.shape.is_compatible_with(sb.shape):
        raise op_error(InvalidArgumentError, "RaggedTensor", f"{what}: {sa.shape} vs {sb.shape}")


def _same_partition(a, b, what="Inputs must have identical ragged splits"):
    if a.row_splits_dtype is not b.row_splits_dtype:
        _same_splits(a.row_splits, b.row_splits, what)
    if a.ragged_rank != b.ragged_rank:
        raise ValueError(f"{what}: ragged ranks differ ({a.ragged_rank} vs {b.ragged_rank})")
    for sa, sb in zip(a.nested_row_splits, b.nested_row_splits):
        _same_splits(sa, sb, what)


def _uniform_levels(dense, levels, sdt):
    """``dense`` with its outer ``levels`` + 1 dimensions as uniform ragged dimensions."""
    return _from_tensor(dense, None, None, levels, sdt)


def _raise_ragged_rank(x, k, sdt=None):
    """``x`` (dense or ragged) with ragged rank ``k`` (uniform partitions added inside)."""
    r = _ragged_rank(x)
    if r >= k:
        return x
    if not _is_rt(x):
        return _uniform_levels(x, k, sdt or _d.int64)
    inner = _uniform_levels(x.flat_values, k - r, x.row_splits_dtype)
    return x.with_flat_values(inner)


def _broadcast_dense(rt, y):
    """``y`` (dense) rearranged to broadcast against ``rt.flat_values`` by TF's ragged
    broadcasting: dimensions of ``y`` that line up with ragged ones must be 1 or match
    every row."""
    yr, rank, k = _rank(y), _rank(rt), rt.ragged_rank
    if yr is None or rank is None:
        raise ValueError("ragged broadcasting needs operands of known rank")
    if yr <= rank - k - 1:
        return y
    if yr > rank:
        raise op_error(
            InvalidArgumentError,
            "RaggedTensor",
            f"cannot broadcast a tensor of rank {yr} against a RaggedTensor of rank {rank}",
        )
    dims = [1] * (rank - yr) + y.shape.as_list()
    if None in dims[: k + 1]:
        ys = _np(_a.shape(y))
        if ys is None:
            raise ValueError("ragged broadcasting needs the outer dimensions of the dense operand")
        dims = [1] * (rank - yr) + [int(d) for d in ys]
    sdt = rt.row_splits_dtype
    nrows = rt.nrows()
    n_static = rt._static_nrows()
    d0 = dims[0]
    if d0 == 1:
        idx = _a.zeros_like(_cr.range(nrows, dtype=sdt))
    elif n_static is None or d0 == n_static:
        idx = _cr.range(nrows, dtype=sdt)
    else:
        raise op_error(
            InvalidArgumentError,
            "RaggedTensor",
            f"Unable to broadcast: dimension 0 of the dense operand is {d0}, but the "
            f"RaggedTensor has {n_static} rows",
        )
    cur = rt
    for level in _builtin_range(k):
        d = dims[level + 1]
        rowids = cur.value_rowids()
        parent = _ix.gather(idx, rowids)
        if d == 1:
            idx = parent
        else:
            lengths = _np(cur.row_lengths())
            if lengths is not None and lengths.size and np.any(lengths != d):
                raise op_error(
                    InvalidArgumentError,
                    "RaggedTensor",
                    f"Unable to broadcast: dimension {level + 1} of the dense operand is {d}, "
                    f"but the RaggedTensor's row lengths there are {lengths.tolist()[:10]}",
                )
            idx = parent * _c(d, sdt) + _positions(cur)
        cur = cur.values
    flat_y = _a.reshape(y, [-1] + dims[k + 1 :])
    return _ix.gather(flat_y, idx)


def _operand(x, hint):
    if _is_rt(x) or x is None:
        return x
    if is_tensor_like(x):
        return convert_to_tensor(x)
    if hint is not None:
        try:
            return convert_to_tensor(x, dtype=hint)
        except (TypeError, ValueError):
            pass
    return convert_to_tensor(x)


def _elementwise(fn, operands, hints=None, **kwargs):
    """``fn`` applied to the flat values of ragged operands with one row partition,
    dense operands broadcast into it; a RaggedTensor with that partition."""
    hints = hints or [None] * len(operands)
    ref = max((o for o in operands if _is_rt(o)), key=lambda o: o.ragged_rank)
    ops = [_operand(o, h) for o, h in zip(operands, hints)]
    flat = []
    for o in ops:
        if o is None:
            flat.append(None)
        elif _is_rt(o):
            if o is not ref:
                o = _raise_ragged_rank(o, ref.ragged_rank)
                _same_partition(ref, o)
            flat.append(o.flat_values)
        else:
            flat.append(_broadcast_dense(ref, o))
    return ref.with_flat_values(fn(*flat, **kwargs))


@tf_export("ragged.map_flat_values")
def map_flat_values(op, *args, **kwargs):
    """``op`` applied to the flat values of the RaggedTensors among its arguments (which
    must share a row partition); the result has that partition."""
    found = []

    def strip(x):
        if _is_rt(x):
            found.append(x)
            return x.flat_values
        return x

    new_args = nest.map_structure(strip, list(args))
    new_kwargs = {k: nest.map_structure(strip, v) for k, v in kwargs.items()}
    if not found:
        return op(*args, **kwargs)
    ref = found[0]
    for o in found[1:]:
        if o.ragged_rank != ref.ragged_rank:
            raise ValueError(
                "map_flat_values: the RaggedTensor arguments have different ragged ranks"
            )
        _same_partition(ref, o, "partitions have incompatible row_splits")
    out = op(*new_args, **new_kwargs)
    n = ref.flat_values.shape[0] if ref.flat_values.shape.rank else None
    m = out.shape[0] if isinstance(out, (Tensor, RaggedTensor)) and out.shape.rank else None
    if (
        not isinstance(out, (Tensor, RaggedTensor))
        or (out.shape.rank == 0)
        or (n is not None and m is not None and n != m)
    ):
        shape = tuple(out.shape.as_list()) if hasattr(out, "shape") else ()
        raise ValueError(
            "tf.ragged.map_flat_values requires that the output of `op` have the same "
            f"outer-dimension size as flat_values of any ragged inputs. (output shape: "
            f"{shape}; expected outer dimension size: {n})"
        )
    return ref.with_flat_values(out)


# --------------------------------------------------------------------------------------
# from_tensor and element coordinates
# --------------------------------------------------------------------------------------


def _from_tensor(tensor, lengths, padding, ragged_rank, sdt):
    t = _tensor(tensor)
    if lengths is not None and padding is not None:
        raise ValueError("Specify argument `lengths` or `padding`, but not both.")
    if not isinstance(ragged_rank, (int, np.integer)) or ragged_rank < 1:
        raise ValueError(f"ragged_rank must be a positive integer, got {ragged_rank!r}")
    rank = t.shape.rank
    if rank is not None and rank < 2:
        raise ValueError(
            "The rank of a RaggedTensor must be greater than 1, i.e., a list of scalars "
            f"won't have ragged dimensions. Received argument `tensor` with rank {rank}."
        )
    if rank is not None and rank <= ragged_rank:
        raise ValueError(
            f"Shape {tuple(t.shape.as_list())} must have rank at least {ragged_rank + 1}"
        )
    shape = _a.shape(t, out_type=sdt)
    if ragged_rank > 1:
        if lengths is not None:
            if not (isinstance(lengths, (list, tuple)) and len(lengths) == ragged_rank):
                raise ValueError(
                    f"lengths must be a list of {ragged_rank} row-length vectors for "
                    f"ragged_rank={ragged_rank}"
                )
            outer = _from_tensor(t, lengths[0], None, 1, sdt)
            rest = lengths[1] if ragged_rank == 2 else tuple(lengths[1:])
            return outer.with_values(_from_tensor(outer.values, rest, None, ragged_rank - 1, sdt))
        inner_t = _a.reshape(t, _s.concat([_c([-1], sdt), shape[ragged_rank:]], 0))
        result = _from_tensor(inner_t, None, padding, 1, sdt)
        for j in reversed(_builtin_range(1, ragged_rank)):
            nrows = _r.reduce_prod(shape[:j])
            result = RaggedTensor.from_uniform_row_length(result, shape[j], nrows, validate=False)
        return result
    n, m = shape[0], shape[1]
    if lengths is None and padding is None:
        values = _a.reshape(t, _s.concat([_c([-1], sdt), shape[2:]], 0))
        return RaggedTensor.from_uniform_row_length(values, m, n, validate=False)
    cols = _cr.range(m, dtype=sdt)
    if lengths is not None:
        L = _a.cast(_splits_arg(lengths, "lengths"), sdt)
        if L.shape.rank is not None and L.shape.rank != 1:
            raise ValueError(f"Shape {tuple(L.shape.as_list())} must have rank 1 (lengths)")
        L = _m.minimum(_m.maximum(L, _c(0, sdt)), m)
    else:
        p = _tensor(padding, t.dtype) if not is_tensor_like(padding) else convert_to_tensor(padding)
        inner = t.shape.as_list()[2:] if rank is not None else None
        if inner is not None and p.shape.rank is not None and p.shape.as_list() != inner:
            raise ValueError(
                f"Shapes {tuple(p.shape.as_list())} and {tuple(inner)} are incompatible"
            )
        is_pad = _m.equal(t, p)
        if rank is not None and rank > 2:
            is_pad = _r.reduce_all(is_pad, axis=list(_builtin_range(2, rank)))
        keep = _ix.where(_m.logical_not(is_pad), _s.expand_dims(cols + _c(1, sdt), 0), _c(0, sdt))
        L = _m.maximum(_r.reduce_max(keep, axis=1), _c(0, sdt))
    mask = _m.less(_s.expand_dims(cols, 0), _s.expand_dims(L, 1))
    values = _ix.boolean_mask(t, mask)
    return RaggedTensor._make(values, _splits_from_lengths(L), cached_row_lengths=L)


def _element_indices(rt, with_inner=False):
    """The coordinates of every row of ``flat_values`` ([n, ragged_rank + 1]), or with
    ``with_inner`` of every scalar element ([size, rank])."""
    coords = None
    cur = rt
    while _is_rt(cur):
        rowids = cur.value_rowids()
        pos = _s.expand_dims(_positions(cur), 1)
        if coords is None:
            coords = _s.concat([_s.expand_dims(rowids, 1), pos], 1)
        else:
            coords = _s.concat([_ix.gather(coords, rowids), pos], 1)
        cur = cur.values
    if not with_inner or _rank(cur) == 1:
        return coords
    inner = _ix.where(_a.ones_like(cur, dtype=_d.bool))
    return _s.concat([_ix.gather(coords, inner[:, 0]), _a.cast(inner[:, 1:], coords.dtype)], 1)


# --------------------------------------------------------------------------------------
# Indexing
# --------------------------------------------------------------------------------------


def _is_int_key(k) -> bool:
    if isinstance(k, (bool, np.bool_)):
        return False
    if isinstance(k, (int, np.integer)):
        return True
    return isinstance(k, Tensor) and k.dtype.is_integer and k.shape.rank == 0


def ragged_getitem(rt, key):
    """``rt[key]``: ints and slices on the outer dimension, slices (not ints) on ragged
    dimensions, anything on uniform inner dimensions, ``...`` and ``tf.newaxis``."""
    if isinstance(key, list):
        key = tuple(key)
    if not isinstance(key, tuple):
        key = (key,)
    n_ell = sum(1 for k in key if k is Ellipsis)
    if n_ell > 1:
        raise ValueError("An index can only have a single ellipsis ('...')")
    if n_ell:
        rank = _rank(rt)
        if rank is None:
            raise ValueError("Ellipsis indexing needs a RaggedTensor of known rank")
        i = next(j for j, k in enumerate(key) if k is Ellipsis)
        real = sum(1 for k in key if k is not None and k is not Ellipsis)
        key = key[:i] + (slice(None),) * max(rank - real, 0) + key[i + 1 :]
    core, newaxes, out_pos = [], [], 0
    for k in key:
        if k is None:
            newaxes.append(out_pos)
            out_pos += 1
        else:
            core.append(k)
            if not _is_int_key(k):
                out_pos += 1
    rank = _rank(rt)
    if rank is not None and len(core) > rank:
        raise op_error(
            InvalidArgumentError,
            "RaggedTensor.__getitem__",
            f"too many indices ({len(core)}) for a RaggedTensor of rank {rank}",
        )
    result = _getitem(rt, core)
    for p in newaxes:
        result = expand_dims(result, p)
    return result


def _getitem(x, keys):
    if not keys:
        return x
    if not _is_rt(x):
        return x[tuple(keys)]
    k, rest = keys[0], keys[1:]
    if _is_int_key(k):
        return _getitem(_row(x, k), rest)
    if isinstance(k, slice):
        return _inner(_slice_rows(x, k), rest)
    raise TypeError(f"Unsupported key type for RaggedTensor indexing: {k!r}")


def _row(rt, i):
    s = _np(rt.row_splits)
    if s is not None and (not isinstance(i, Tensor) or _eager(i)):
        i, n = _int(i), s.size - 1
        if i >= n:
            raise IndexError(f"Row key {i} out of bounds")
        if i < -n:
            raise op_error(
                InvalidArgumentError,
                "RaggedTensor.__getitem__",
                f"row index {i} is out of bounds for a RaggedTensor with {n} rows",
            )
        i %= n
        return _take_range(rt.values, int(s[i]), int(s[i + 1]))
    sdt = rt.row_splits_dtype
    i = _a.cast(_tensor(i), sdt)
    i = _ix.where(i < _c(0, sdt), i + rt.nrows(), i)
    a = _ix.gather(rt.row_splits, i)
    b = _ix.gather(rt.row_splits, i + _c(1, sdt))
    return _take(rt.values, _cr.range(a, b, dtype=sdt))


def _slice_key(k):
    return tuple(None if v is None else _int(v) for v in (k.start, k.stop, k.step))


def _slice_rows(rt, k):
    start, stop, step = _slice_key(k)
    s = _np(rt.row_splits)
    if s is not None:
        n = s.size - 1
        a, b, st = slice(start, stop, step).indices(n)
        if st == 1:
            return _take_range(rt, a, max(a, b))
        return _gather_rows(rt, _tensor(np.arange(a, b, st, dtype=s.dtype)))
    idx = _cr.range(rt.nrows(), dtype=rt.row_splits_dtype)[start:stop:step]
    return _gather_rows(rt, idx)


def _inner(rt, keys):
    """``keys`` applied to dimensions 1, 2, ... of ``rt``."""
    if not keys:
        return rt
    k, rest = keys[0], keys[1:]
    if _is_int_key(k):
        raise ValueError("Cannot index into an inner ragged dimension.")
    if not isinstance(k, slice):
        raise TypeError(f"Unsupported key type for RaggedTensor indexing: {k!r}")
    if rest:
        v = rt.values
        v = _inner(v, rest) if _is_rt(v) else v[(slice(None),) + tuple(rest)]
        rt = rt.with_values(v)
    if k == slice(None):
        return rt
    return _slice_ragged_dim(rt, k)


def _slice_ragged_dim(rt, k):
    """Each row of ``rt`` sliced by Python slice ``k``."""
    start, stop, step = _slice_key(k)
    step = 1 if step is None else step
    if step == 0:
        raise ValueError("slice step cannot be zero")
    sdt = rt.row_splits_dtype
    L = rt.row_lengths()
    zero, minus1 = _c(0, sdt), _c(-1, sdt)

    def bound(v, default, lo, hi):
        if v is None:
            return default
        if v >= 0:
            return _m.minimum(_c(v, sdt), hi)
        return _m.maximum(L + _c(v, sdt), lo)

    if step > 0:
        b = bound(start, _a.zeros_like(L), zero, L)
        e = bound(stop, L, zero, L)
        count = _m.maximum(_m.floordiv(e - b + _c(step - 1, sdt), _c(step, sdt)), zero)
    else:
        last = L - _c(1, sdt)
        b = bound(start, last, minus1, last)
        e = bound(stop, _a.zeros_like(L) + minus1, minus1, last)
        count = _m.maximum(_m.floordiv(b - e + _c(-step - 1, sdt), _c(-step, sdt)), zero)
    starts = rt.row_splits[:-1] + b
    limits = starts + count * _c(step, sdt)
    splits, vidx = _ranges(starts, limits, _c(step, sdt), sdt)
    return RaggedTensor._make(_take(rt.values, vidx), splits)


# --------------------------------------------------------------------------------------
# Shape ops: expand_dims, concat, stack
# --------------------------------------------------------------------------------------


def expand_dims(input, axis, name=None):  # noqa: A002
    """``input`` with a new dimension of size 1 at ``axis``."""
    x = input
    if not _is_rt(x):
        return _s.expand_dims(x, axis)
    rank = _rank(x)
    axis = int(axis)
    if not -rank - 1 <= axis <= rank:
        raise ValueError(f"axis={axis} out of bounds: expected {-rank - 1}<=axis<={rank}")
    if axis < 0:
        axis += rank + 1
    sdt = x.row_splits_dtype
    if axis == 0:
        splits = _s.concat([_zero1(sdt), _a.reshape(x.nrows(), [1])], 0)
        return RaggedTensor._make(x, splits, uniform_row_length=x._static_nrows())
    if axis == 1:
        splits = _cr.range(x.nrows() + _c(1, sdt), dtype=sdt)
        return RaggedTensor._make(x, splits, uniform_row_length=1)
    return x.with_values(expand_dims(x.values, axis - 1))


def _norm_axis(axis, rank, extra=0):
    axis = int(axis)
    if not -rank - extra <= axis < rank + extra:
        raise ValueError(
            f"axis={axis} out of bounds: expected {-rank - extra}<=axis<{rank + extra}"
        )
    return axis % (rank + extra)


def _check_ranks_dtypes(items, op):
    r0 = _rank(items[0])
    for x in items[1:]:
        if _rank(x) != r0:
            raise ValueError(f"Shape {x.shape} must have rank {r0}")
    d0 = items[0].dtype
    for i, x in enumerate(items[1:], 1):
        if x.dtype is not d0:
            raise op_error(
                InvalidArgumentError,
                op,
                f"input #{i} has dtype {x.dtype.name} but input #0 has dtype {d0.name}",
            )
    sdts = {x.row_splits_dtype for x in items if _is_rt(x)}
    if len(sdts) > 1:
        raise ValueError(
            "Input RaggedTensors have mismatched row_splits dtypes; use "
            "RaggedTensor.with_row_splits_dtype() to convert them to compatible dtypes."
        )
    return r0, (sdts.pop() if sdts else _d.int64)


def ragged_concat(values, axis, name=None):
    """Concatenate RaggedTensors (and dense tensors) along ``axis``."""
    items = [
        v if _is_rt(v) else _tensor(v)
        for v in (values if isinstance(values, (list, tuple)) else [values])
    ]
    if not any(_is_rt(x) for x in items):
        return _s.concat(items, axis)
    if len(items) == 1:
        return items[0]
    rank, sdt = _check_ranks_dtypes(items, "ConcatV2")
    axis = _norm_axis(axis, rank)
    k = max(_ragged_rank(x) for x in items)
    items = [_raise_ragged_rank(x, k, sdt) for x in items]
    return _concat(items, axis)


def _concat(items, axis):
    if not _is_rt(items[0]):
        return _s.concat(items, axis)
    sdt = items[0].row_splits_dtype
    if axis == 0:
        values = _concat([x.values for x in items], 0)
        parts, off = [items[0].row_splits], items[0].row_splits[-1]
        for x in items[1:]:
            parts.append(x.row_splits[1:] + off)
            off = off + x.row_splits[-1]
        return RaggedTensor._make(values, _s.concat(parts, 0))
    if axis == 1:
        ns = [_np(x.nrows()) for x in items]
        for i, n in enumerate(ns[1:], 1):
            if n is not None and ns[0] is not None and n != ns[0]:
                raise op_error(
                    InvalidArgumentError,
                    "ConcatV2",
                    f"Input tensors at index 0 and {i} have incompatible shapes: {ns[0]} vs "
                    f"{n} rows",
                )
        combined = _concat([x.values for x in items], 0)
        starts, limits, off = [], [], _c(0, sdt)
        for x in items:
            starts.append(x.row_splits[:-1] + off)
            limits.append(x.row_splits[1:] + off)
            off = off + _outer_size(x.values, sdt)
        starts = _a.reshape(_a.stack(starts, axis=1), [-1])
        limits = _a.reshape(_a.stack(limits, axis=1), [-1])
        _, vidx = _ranges(starts, limits, None, sdt)
        lengths = _r.add_n([x.row_lengths() for x in items])
        return RaggedTensor._make(_take(combined, vidx), _splits_from_lengths(lengths))
    for x in items[1:]:
        _same_splits(items[0].row_splits, x.row_splits)
    return items[0].with_values(_concat([x.values for x in items], axis - 1))


def ragged_stack(values, axis=0, name=None):
    """Stack RaggedTensors (and dense tensors) along a new ``axis``."""
    items = [v if _is_rt(v) else _tensor(v) for v in values]
    if not items:
        raise ValueError("stack needs at least one value")
    rank, _ = _check_ranks_dtypes(items, "Pack")
    axis = _norm_axis(axis, rank, extra=1) if axis >= 0 else _norm_axis(axis, rank + 1)
    expanded = [expand_dims(x, axis) for x in items]
    if not any(_is_rt(x) for x in expanded):
        expanded[0] = _uniform_levels(expanded[0], 1, _d.int64)
    return ragged_concat(expanded, axis)


@tf_export("ragged.stack")
def stack(values, axis=0, name=None):
    """Stack tensors or RaggedTensors along a new ``axis`` (rows may differ in length).
    Dense inputs stacked along axis > 0 give a dense tensor, as in TF."""
    items = [v if _is_rt(v) else _tensor(v) for v in values]
    if any(_is_rt(x) for x in items):
        return ragged_stack(items, axis)
    rank, _ = _check_ranks_dtypes(items, "Pack")
    axis = _norm_axis(axis, rank, extra=1) if axis >= 0 else _norm_axis(axis, rank + 1)
    if axis > 0:
        return _a.stack(items, axis)
    if rank == 1:
        lengths = _a.stack([_outer_size(x, _d.int32) for x in items])
        return RaggedTensor._make(_s.concat(items, 0), _splits_from_lengths(lengths))
    rows = [_no_uniform(_uniform_levels(_s.expand_dims(x, 0), 2, _d.int64)) for x in items]
    return ragged_concat(rows, 0)


def _no_uniform(x):
    """``x`` with every ragged dimension reported as ragged (no static row length)."""
    if not _is_rt(x):
        return x
    return RaggedTensor._make(
        _no_uniform(x.values), x.row_splits, cached_row_lengths=x._row_lengths,
        cached_value_rowids=x._value_rowids, cached_nrows=x._nrows,
    )  # fmt: skip


@tf_export("ragged.stack_dynamic_partitions")
def stack_dynamic_partitions(data, partitions, num_partitions, name=None) -> RaggedTensor:
    """Row ``p`` holds the rows of ``data`` whose partition is ``p``, in order."""
    parts = _tensor(partitions)
    if _is_rt(data):
        sdt = data.row_splits_dtype
    else:
        data = _tensor(data)
        sdt = parts.dtype if parts.dtype in (_d.int32, _d.int64) else _d.int64
    order = _so.argsort(parts, stable=True)
    n = _a.cast(_tensor(num_partitions), parts.dtype)
    counts = _r.unsorted_segment_sum(_a.ones_like(parts), parts, n)
    return RaggedTensor._make(_take(data, order), _splits_from_lengths(_a.cast(counts, sdt)))


# --------------------------------------------------------------------------------------
# gather, boolean_mask, where
# --------------------------------------------------------------------------------------


def ragged_gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    """Rows of ``params`` at ``indices`` (either may be ragged)."""
    if (axis not in (None, 0)) or batch_dims != 0:
        raise ValueError("gather on RaggedTensors supports only axis=0 and batch_dims=0")
    if _is_rt(indices):
        return indices.with_flat_values(ragged_gather(params, indices.flat_values))
    if not _is_rt(params):
        return _ix.gather(params, indices)
    idx = _tensor(indices)
    if not idx.dtype.is_integer:
        raise TypeError(f"indices must be int32 or int64, got {idx.dtype.name}")
    r = _rank(idx)
    if r == 0:
        return _row(params, idx)
    sdt = params.row_splits_dtype
    n = params.nrows()
    iv = _np(idx)
    nv = _np(n)
    if iv is not None and nv is not None and iv.size:
        bad = np.flatnonzero((iv.reshape(-1) < 0) | (iv.reshape(-1) >= nv))
        if bad.size:
            j = int(bad[0])
            raise op_error(
                InvalidArgumentError,
                "RaggedGather",
                f"indices[{j}] = {iv.reshape(-1)[j]} is not in [0, {int(nv)})",
            )
    result = _gather_rows(params, _a.reshape(idx, [-1]))
    if r is not None and r > 1:
        dims = _a.shape(idx, out_type=sdt)
        for j in reversed(_builtin_range(1, r)):
            result = RaggedTensor.from_uniform_row_length(
                result, dims[j], _r.reduce_prod(dims[:j]), validate=False
            )
    return _no_uniform(result)


@tf_export("ragged.boolean_mask")
def boolean_mask(data, mask, name=None):
    """Keep the items of ``data`` where ``mask`` is True; the masked dimension becomes
    ragged. ``mask``'s shape (dense or ragged) must be a prefix of ``data``'s."""
    if not _is_rt(mask):
        mask = _tensor(mask, _d.bool) if not is_tensor_like(mask) else convert_to_tensor(mask)
    if mask.dtype is not _d.bool:
        raise TypeError(f"mask must be a bool tensor, got dtype {mask.dtype.name}")
    if not _is_rt(data):
        data = _tensor(data)
    mr = _rank(mask)
    if _is_rt(mask):
        if not _is_rt(data):
            data = _uniform_levels(data, mask.ragged_rank, mask.row_splits_dtype)
        return _mask_ragged(data, mask)
    if mr == 1:
        n, m = _outer_static_any(data), mask.shape[0]
        if n is not None and m is not None and n != m:
            raise ValueError(f"Shapes ({m},) and ({n},) are incompatible")
        if _is_rt(data):
            return _gather_rows(data, _ix.where(mask)[:, 0])
        return _ix.boolean_mask(data, mask)
    if mr is None or mr == 0:
        raise ValueError("mask must have rank at least 1")
    sdt = data.row_splits_dtype if _is_rt(data) else _d.int64
    mask_rt = _uniform_levels(mask, mr - 1, sdt)
    if not _is_rt(data):
        data = _uniform_levels(data, mr - 1, sdt)
    else:
        data = _raise_ragged_rank(data, mr - 1, sdt)
    return _no_uniform(_mask_ragged(data, mask_rt))


def _outer_static_any(x):
    if _is_rt(x):
        return x._static_nrows()
    return x.shape[0] if x.shape.rank else None


def _mask_ragged(data, mask):
    if data.ragged_rank < mask.ragged_rank:
        raise ValueError("mask has more ragged dimensions than data")
    for sd, sm in zip(data.nested_row_splits, mask.nested_row_splits):
        _same_splits(sd, sm)
    return _mask_level(data, mask)


def _mask_level(data, mask):
    if _is_rt(mask.values):
        return data.with_values(_mask_level(data.values, mask.values))
    keep = mask.values
    if _rank(keep) != 1:
        raise ValueError("a ragged mask's flat values must be a vector")
    sdt = data.row_splits_dtype
    lengths = _r.unsorted_segment_sum(_a.cast(keep, sdt), mask.value_rowids(), mask.nrows())
    v = data.values
    kept = _gather_rows(v, _ix.where(keep)[:, 0]) if _is_rt(v) else _ix.boolean_mask(v, keep)
    return RaggedTensor._make(kept, _splits_from_lengths(lengths), cached_row_lengths=lengths)


def ragged_where(condition, x=None, y=None, name=None):
    """Elementwise choice between ragged ``x`` and ``y``; without them, the coordinates
    of the True elements of a ragged ``condition`` (int64 [n, rank])."""
    if x is None and y is None:
        if not _is_rt(condition):
            return _ix.where(condition)
        flat = condition.flat_values
        coords = _element_indices(condition)
        hits = _ix.where(flat)
        out = _s.concat([_ix.gather(coords, hits[:, 0]), _a.cast(hits[:, 1:], coords.dtype)], 1)
        return _a.cast(out, _d.int64)
    if x is None or y is None:
        raise ValueError("x and y must both be None or both be non-None")
    hint = next((o.dtype for o in (x, y) if _is_rt(o) or is_tensor_like(o)), None)
    return _elementwise(_ix.where, [condition, x, y], [_d.bool, hint, hint])


# --------------------------------------------------------------------------------------
# Reductions
# --------------------------------------------------------------------------------------

_DENSE_REDUCE = {
    "sum": _r.reduce_sum, "prod": _r.reduce_prod, "max": _r.reduce_max,
    "min": _r.reduce_min, "any": _r.reduce_any, "all": _r.reduce_all,
}  # fmt: skip
_SEGMENT = {
    "sum": _r.unsorted_segment_sum, "prod": _r.unsorted_segment_prod,
    "max": _r.unsorted_segment_max, "min": _r.unsorted_segment_min,
}  # fmt: skip


def _segment(kind, data, ids, n):
    if kind == "any":
        return _m.greater(_r.unsorted_segment_sum(_a.cast(data, _d.int32), ids, n), 0)
    if kind == "all":
        miss = _a.cast(_m.logical_not(data), _d.int32)
        return _m.equal(_r.unsorted_segment_sum(miss, ids, n), 0)
    return _SEGMENT[kind](data, ids, n)


def _segment_aggregate(kind, data, ids, n):
    """Rows of ``data`` combined by segment (ragged rows combine elementwise, the result
    rows as long as the longest combined row)."""
    if not _is_rt(data):
        return _segment(kind, data, ids, n)
    sdt = data.row_splits_dtype
    ids = _a.cast(ids, sdt)
    out_len = _m.maximum(_r.unsorted_segment_max(data.row_lengths(), ids, n), _c(0, sdt))
    out_splits = _splits_from_lengths(out_len)
    rowids = data.value_rowids()
    new_ids = _ix.gather(out_splits, _ix.gather(ids, rowids)) + _positions(data)
    values = _segment_aggregate(kind, data.values, new_ids, out_splits[-1])
    return RaggedTensor._make(values, out_splits, cached_row_lengths=out_len)


def _reduce_axis(kind, x, axis):
    if not _is_rt(x):
        return _DENSE_REDUCE[kind](x, axis=axis)
    if axis == 0:
        sdt = x.row_splits_dtype
        width = _r.reduce_max(_s.concat([x.row_lengths(), _zero1(sdt)], 0))
        return _segment_aggregate(kind, x.values, _positions(x), width)
    if axis == 1:
        return _segment_aggregate(kind, x.values, x.value_rowids(), x.nrows())
    return x.with_values(_reduce_axis(kind, x.values, axis - 1))


def _ragged_div(a, b):
    if _is_rt(a):
        return a.with_flat_values(_m.truediv(a.flat_values, b.flat_values))
    return _m.truediv(a, b)


def ragged_reduce(kind, input_tensor, axis=None, keepdims=False):
    """Reduce a RaggedTensor over ``axis`` (None: all); the result is dense once no
    ragged dimension remains."""
    x = input_tensor
    if kind in ("mean", "variance", "std"):
        if x.dtype.is_integer or x.dtype is _d.bool:
            if kind != "mean" or x.dtype is _d.bool:
                raise TypeError(
                    f"reduce_{kind} needs a floating-point RaggedTensor, got {x.dtype.name}"
                )
            x = map_flat_values(_a.cast, x, _d.float64)
        if kind == "mean":
            total = ragged_reduce("sum", x, axis, keepdims)
            count = ragged_reduce("sum", map_flat_values(_a.ones_like, x), axis, keepdims)
            return _ragged_div(total, count)
        m = ragged_reduce("mean", x, axis, keepdims)
        m2 = ragged_reduce("mean", map_flat_values(_u.square, x), axis, keepdims)
        sq = map_flat_values(_u.square, m) if _is_rt(m) else _u.square(m)
        var = _elementwise(_m.subtract, [m2, sq]) if _is_rt(m2) else _m.subtract(m2, sq)
        if kind == "variance":
            return var
        return map_flat_values(_u.sqrt, var) if _is_rt(var) else _u.sqrt(var)
    rank = _rank(x)
    if axis is None:
        out = _DENSE_REDUCE[kind](x.flat_values)
        return _a.reshape(out, [1] * rank) if keepdims else out
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    if not axes:
        return x
    norm = set()
    for a in axes:
        a = _int(a)
        if not -rank <= a < rank:
            raise ValueError(f"axis={a} out of bounds: expected {-rank}<=axis<{rank}")
        norm.add(a % rank)
    for a in sorted(norm, reverse=True):
        x = _reduce_axis(kind, x, a)
    if keepdims:
        for a in sorted(norm):
            x = expand_dims(x, a)
    return x


# --------------------------------------------------------------------------------------
# Dispatch registration
# --------------------------------------------------------------------------------------

_UNARY = (
    "abs acos acosh asin asinh atan atanh ceil conj cos cosh digamma erf erfc erfinv exp "
    "expm1 floor imag is_finite is_inf is_nan lgamma log log1p log_sigmoid logical_not ndtri "
    "negative real reciprocal reciprocal_no_nan rint round rsqrt sigmoid sign sin sinh "
    "softplus softsign sqrt square tan tanh cast angle identity stop_gradient ones_like "
    "zeros_like relu relu6 elu selu leaky_relu gelu silu"
).split()
_BINARY = (
    "add subtract multiply truediv divide realdiv floordiv floormod mod truncatediv "
    "truncatemod pow maximum minimum equal not_equal less less_equal greater greater_equal "
    "logical_and logical_or logical_xor squared_difference atan2 xdivy xlogy xlog1py "
    "divide_no_nan"
).split()
_REDUCE = {
    "reduce_sum": "sum", "reduce_prod": "prod", "reduce_max": "max", "reduce_min": "min",
    "reduce_mean": "mean", "reduce_any": "any", "reduce_all": "all",
    "reduce_variance": "variance", "reduce_std": "std",
}  # fmt: skip


def _public(name, namespaces=("", "math", "nn")):
    """The undecorated public op exported as ``name`` (first namespace that has it)."""
    for ns in namespaces:
        obj = EXPORTS.get((ns, name))
        if obj is not None:
            return obj.__wrapped__ if hasattr(obj, "_table") else obj
    return None


@functools.cache
def _params(fn):
    return [
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def _split_args(fn, n, args, kwargs):
    """(the first ``n`` parameters' values, the rest as keywords without ``name``)."""
    names = _params(fn)
    bound = dict(zip(names, args))
    bound.update(kwargs)
    bound.pop("name", None)
    operands = [bound.pop(p, None) for p in names[:n]]
    return operands, bound


def _binary_handler(fn):
    def handler(*args, **kwargs):
        (x, y), rest = _split_args(fn, 2, args, kwargs)
        hint = next((o.dtype for o in (x, y) if _is_rt(o) or is_tensor_like(o)), None)
        return _elementwise(fn, [x, y], [hint, hint], **rest)

    return handler


def _unary_handler(fn):
    def handler(*args, **kwargs):
        kwargs.pop("name", None)
        return map_flat_values(fn, *args, **kwargs)

    return handler


def _reduce_handler(kind):
    def handler(input_tensor, axis=None, keepdims=False, name=None):
        return ragged_reduce(kind, input_tensor, axis, keepdims)

    return handler


def _register_all():
    done = set()

    def reg(fn, handler):
        if fn is None or fn in done:
            return
        done.add(fn)
        dispatch_for(fn, RaggedTensor)(handler)

    for name in _UNARY:
        fn = _public(name)
        reg(fn, _unary_handler(fn) if fn is not None else None)
    for name in _BINARY:
        fn = _public(name)
        reg(fn, _binary_handler(fn) if fn is not None else None)
    for name, kind in _REDUCE.items():
        reg(_public(name), _reduce_handler(kind))
    clip = _public("clip_by_value")

    def clip_handler(t, clip_value_min, clip_value_max, name=None):
        d = t.dtype
        return _elementwise(clip, [t, clip_value_min, clip_value_max], [d, d, d])

    reg(clip, clip_handler)
    reg(_public("where"), ragged_where)
    reg(_public("concat"), ragged_concat)
    reg(_public("stack"), ragged_stack)
    reg(_public("gather"), ragged_gather)
    reg(_public("expand_dims"), expand_dims)

    def mask_handler(tensor, mask, axis=None, name=None):
        if axis not in (None, 0):
            raise ValueError("boolean_mask on RaggedTensors supports only axis=0")
        return boolean_mask(tensor, mask)

    reg(_public("boolean_mask"), mask_handler)

    def size_handler(input, out_type=None, name=None):  # noqa: A002
        return _s.size(input.flat_values, out_type=out_type or _d.int32)

    reg(_public("size"), size_handler)
    reg(_public("rank"), lambda input, name=None: _c(_rank(input), _d.int32))  # noqa: A006

    def add_n_handler(inputs, name=None):
        out = inputs[0]
        for x in inputs[1:]:
            out = _elementwise(_m.add, [out, x])
        return out

    reg(_public("add_n"), add_n_handler)


_register_all()


# --------------------------------------------------------------------------------------
# Python operators
# --------------------------------------------------------------------------------------


def _op(fn, reverse=False):
    if reverse:
        return lambda self, other: _elementwise(fn, [other, self], [self.dtype, None])
    return lambda self, other: _elementwise(fn, [self, other], [None, self.dtype])


def _eq(fn, none_result):
    def op(self, other):
        if other is None:
            return none_result
        return _elementwise(fn, [self, other], [None, self.dtype])

    return op


def _install_operators():
    table = {
        "__add__": _op(_m.add), "__radd__": _op(_m.add, True),
        "__sub__": _op(_m.subtract), "__rsub__": _op(_m.subtract, True),
        "__mul__": _op(_m.multiply), "__rmul__": _op(_m.multiply, True),
        "__truediv__": _op(_m.truediv), "__rtruediv__": _op(_m.truediv, True),
        "__floordiv__": _op(_m.floordiv), "__rfloordiv__": _op(_m.floordiv, True),
        "__mod__": _op(_m.floormod), "__rmod__": _op(_m.floormod, True),
        "__pow__": _op(_m.pow), "__rpow__": _op(_m.pow, True),
        "__lt__": _op(_m.less), "__le__": _op(_m.less_equal),
        "__gt__": _op(_m.greater), "__ge__": _op(_m.greater_equal),
        "__eq__": _eq(_m.equal, False), "__ne__": _eq(_m.not_equal, True),
        "__and__": _op(_m.logical_and), "__rand__": _op(_m.logical_and, True),
        "__or__": _op(_m.logical_or), "__ror__": _op(_m.logical_or, True),
        "__xor__": _op(_m.logical_xor), "__rxor__": _op(_m.logical_xor, True),
        "__invert__": lambda self: map_flat_values(_m.logical_not, self),
        "__neg__": lambda self: map_flat_values(_m.negative, self),
        "__pos__": lambda self: self,
        "__abs__": lambda self: map_flat_values(_u.abs, self),
    }  # fmt: skip
    for name, fn in table.items():
        setattr(RaggedTensor, name, fn)
    RaggedTensor.__hash__ = RaggedTensor.__dict__["__hash__"]


_install_operators()


def _register_more():
    # the dispatch of more ops for ragged arguments, and (with no better home that
    # loads with rill.structures) IndexedSlices gradients
    from rill.structures import ragged_dispatch, slices_gradients  # noqa: F401

    ragged_dispatch.register()


_register_more()
