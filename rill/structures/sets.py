"""``tf.sets``: set operations over the last dimension of dense or sparse tensors.

``intersection``, ``union`` and ``difference`` treat each position of all but the last
dimension of ``a`` and ``b`` as one set (the elements along the last dimension, duplicates
ignored) and return a SparseTensor holding each result set sorted ascending in the last
dimension, whose size is the largest result set. ``size`` counts the distinct elements of
each set of a SparseTensor. Integer (int8/16/32/64, uint8/16) and string values.

Each op is a non-differentiable primitive, as in TF (``DenseToDenseSetOperation``,
``DenseToSparseSetOperation``, ``SparseToSparseSetOperation``, ``SetSize``), so the ops
also run inside ``rill.function``. The kernels are vectorised: every set element is one
``(group, value)`` pair, and sorting all pairs at once finds duplicates and common elements.
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    Tensor,
    TensorShape,
    bind,
    convert_to_tensor,
    op_error,
    primitive,
    tf_export,
)

__all__ = ["intersection", "union", "difference", "size"]

_VALID = frozenset([_d.int8, _d.int16, _d.int32, _d.int64, _d.uint8, _d.uint16, _d.string])
_OPS = ("intersection", "union", "a-b", "b-a")


# --------------------------------------------------------------------------------------
# Vectorised kernels over (group, value) pairs
# --------------------------------------------------------------------------------------


def _fmt(shape) -> str:
    return "[" + ",".join(str(int(d)) for d in shape) + "]"


def _dense_pairs(op, x):
    """Group ids and values of a dense input: group = flat index over all but the last dim."""
    if x.ndim < 2:
        raise op_error(InvalidArgumentError, op, f"Shape {_fmt(x.shape)} has rank {x.ndim} < 2")
    n = x.shape[-1]
    groups = int(np.prod(x.shape[:-1], dtype=np.int64))
    return np.repeat(np.arange(groups, dtype=np.int64), n), x.reshape(-1), tuple(x.shape[:-1])


def _sparse_pairs(op, indices, values, dense_shape, validate):
    """Group ids and values of a sparse input, checking its indices like TF."""
    shape = np.asarray(dense_shape, dtype=np.int64).reshape(-1)
    indices = np.asarray(indices, dtype=np.int64)
    if shape.size < 2:
        raise op_error(
            InvalidArgumentError,
            op,
            f"Invalid rank {shape.size}: a sparse set input needs rank >= 2 "
            f"(dense_shape {_fmt(shape)})",
        )
    if indices.ndim != 2 or indices.shape[1] != shape.size or values.shape != indices.shape[:1]:
        raise op_error(
            InvalidArgumentError,
            op,
            f"indices {list(indices.shape)}, values {list(values.shape)} and dense_shape "
            f"{_fmt(shape)} do not describe a SparseTensor",
        )
    if indices.size:
        bad = ((indices < 0) | (indices >= shape)).any(axis=1)
        if bad.any():
            i = int(np.argmax(bad))
            raise op_error(
                InvalidArgumentError,
                op,
                f"indices[{i}] = {_fmt(indices[i])} is out of bounds: need 0 <= index < "
                f"{_fmt(shape)}",
            )
        if validate and len(indices) > 1:
            step = indices[1:] - indices[:-1]
            nz = step != 0
            first = nz.argmax(axis=1)
            sign = step[np.arange(len(step)), first]
            repeated, backwards = ~nz.any(axis=1), sign < 0
            wrong = repeated | backwards
            if wrong.any():
                i = int(np.argmax(wrong))
                what = (
                    "is repeated"
                    if repeated[i]
                    else "is out of order. Many sparse ops require sorted indices; "
                    "use `tf.sparse.reorder` to create a correctly ordered copy"
                )
                raise op_error(
                    InvalidArgumentError, op, f"indices[{i + 1}] = {_fmt(indices[i + 1])} {what}"
                )
    group_shape = tuple(int(d) for d in shape[:-1])
    groups = np.ravel_multi_index(tuple(indices[:, :-1].T), group_shape) if indices.size else None
    if groups is None:
        groups = np.zeros(0, np.int64)
    return groups.astype(np.int64, copy=False), values, group_shape


def _codes(*value_arrays):
    """Integer keys that sort like the values: int64 for integers, ranks for strings."""
    if value_arrays[0].dtype != object:
        return [v.astype(np.int64, copy=False) for v in value_arrays], None
    allv = np.concatenate(value_arrays)
    uniq, inv = np.unique(allv, return_inverse=True)
    out, start = [], 0
    for v in value_arrays:
        out.append(inv[start : start + len(v)].astype(np.int64, copy=False))
        start += len(v)
    return out, uniq


def _dedupe(groups, keys):
    order = np.lexsort((keys, groups))
    g, k = groups[order], keys[order]
    keep = np.ones(len(g), bool)
    keep[1:] = (g[1:] != g[:-1]) | (k[1:] != k[:-1])
    return g[keep], k[keep]


def _combine(set_operation, ga, ka, gb, kb):
    """The result pairs of a set operation, sorted by (group, key)."""
    ga, ka = _dedupe(ga, ka)
    gb, kb = _dedupe(gb, kb)
    g, k = np.concatenate([ga, gb]), np.concatenate([ka, kb])
    src = np.concatenate([np.zeros(len(ga), np.int8), np.ones(len(gb), np.int8)])
    order = np.lexsort((src, k, g))
    g, k, src = g[order], k[order], src[order]
    pair = (g[1:] == g[:-1]) & (k[1:] == k[:-1])  # element i and i+1 are one value, a then b
    common = np.zeros(len(g), bool)
    common[:-1] |= pair
    common[1:] |= pair
    if set_operation == "union":
        keep = ~(common & (src == 1))
    elif set_operation == "intersection":
        keep = common & (src == 0)
    elif set_operation == "a-b":
        keep = ~common & (src == 0)
    else:  # "b-a"
        keep = ~common & (src == 1)
    return g[keep], k[keep]


def _to_sparse_arrays(groups, keys, uniq, dtype, group_shape):
    """(indices, values, dense_shape) of sorted result pairs, as TF lays them out."""
    n_groups = int(np.prod(group_shape, dtype=np.int64))
    counts = np.bincount(groups, minlength=n_groups) if n_groups else np.zeros(0, np.int64)
    width = int(counts.max()) if counts.size else 0
    starts = np.cumsum(counts) - counts
    col = np.arange(len(groups), dtype=np.int64) - starts[groups]
    lead = np.unravel_index(groups, group_shape) if len(group_shape) else ()
    indices = np.stack([*lead, col], axis=1).astype(np.int64) if len(groups) else None
    if indices is None:
        indices = np.zeros((0, len(group_shape) + 1), np.int64)
    values = uniq[keys] if uniq is not None else keys.astype(dtype)
    dense_shape = np.array([*group_shape, width], np.int64)
    return indices, values, dense_shape


def _check_groups(op, sa, sb):
    if sa != sb:
        raise op_error(InvalidArgumentError, op, f"Mismatched shapes {_fmt(sa)} vs {_fmt(sb)}")


def _run(op, set_operation, pa, pb, dtype):
    ga, va, sa = pa
    gb, vb, sb = pb
    _check_groups(op, sa, sb)
    (ka, kb), uniq = _codes(va, vb)
    g, k = _combine(set_operation, ga, ka, gb, kb)
    return _to_sparse_arrays(g, k, uniq, dtype, sa)


def _dd_kernel(a, b, set_operation, validate_indices):
    op = "DenseToDenseSetOperation"
    return _run(op, set_operation, _dense_pairs(op, a), _dense_pairs(op, b), a.dtype)


def _ds_kernel(a, b_indices, b_values, b_shape, set_operation, validate_indices):
    op = "DenseToSparseSetOperation"
    pb = _sparse_pairs(op, b_indices, b_values, b_shape, validate_indices)
    return _run(op, set_operation, _dense_pairs(op, a), pb, a.dtype)


def _ss_kernel(
    a_indices, a_values, a_shape, b_indices, b_values, b_shape, set_operation, validate_indices
):
    op = "SparseToSparseSetOperation"
    pa = _sparse_pairs(op, a_indices, a_values, a_shape, validate_indices)
    pb = _sparse_pairs(op, b_indices, b_values, b_shape, validate_indices)
    return _run(op, set_operation, pa, pb, a_values.dtype)


def _set_size_kernel(indices, values, dense_shape, validate_indices):
    g, v, group_shape = _sparse_pairs("SetSize", indices, values, dense_shape, validate_indices)
    (k,), _ = _codes(v)
    g, _ = _dedupe(g, k)
    n_groups = int(np.prod(group_shape, dtype=np.int64))
    return np.bincount(g, minlength=n_groups).astype(np.int32).reshape(group_shape)


# --------------------------------------------------------------------------------------
# Shape rules
# --------------------------------------------------------------------------------------


def _dense_rank(op, x: AVal):
    if x.rank is not None and x.rank < 2:
        raise op_error(InvalidArgumentError, op, f"Shape {x.shape.as_list()} has rank {x.rank} < 2")
    return x.rank


def _sparse_rank(op, dense_shape: AVal):
    n = dense_shape.shape[0] if dense_shape.rank == 1 else None
    n = None if n is None else int(n)
    if n is not None and n < 2:
        raise op_error(InvalidArgumentError, op, f"Invalid rank {n}: sets need rank >= 2")
    return n


def _outputs(rank, dtype):
    return (
        AVal([None, rank], _d.int64),
        AVal([None], dtype),
        AVal([rank], _d.int64),
    )


def _dd_rule(a, b, set_operation, validate_indices):
    op = "DenseToDenseSetOperation"
    ra, rb = _dense_rank(op, a), _dense_rank(op, b)
    if ra is not None and rb is not None:
        sa, sb = a.shape.as_list()[:-1], b.shape.as_list()[:-1]
        if ra != rb or any(x is not None and y is not None and x != y for x, y in zip(sa, sb)):
            raise op_error(InvalidArgumentError, op, f"Mismatched shapes {sa} vs {sb}")
    return _outputs(ra if ra is not None else rb, a.dtype)


def _ds_rule(a, b_indices, b_values, b_shape, set_operation, validate_indices):
    op = "DenseToSparseSetOperation"
    return _outputs(_dense_rank(op, a), a.dtype)


def _ss_rule(
    a_indices, a_values, a_shape, b_indices, b_values, b_shape, set_operation, validate_indices
):
    op = "SparseToSparseSetOperation"
    ra, rb = _sparse_rank(op, a_shape), _sparse_rank(op, b_shape)
    return _outputs(ra if ra is not None else rb, a_values.dtype)


def _set_size_rule(indices, values, dense_shape, validate_indices):
    n = _sparse_rank("SetSize", dense_shape)
    if dense_shape.value is not None:
        return AVal([int(d) for d in np.asarray(dense_shape.value)[:-1]], _d.int32)
    return AVal(TensorShape(None) if n is None else [None] * (n - 1), _d.int32)


dense_to_dense_p = primitive("DenseToDenseSetOperation", _dd_kernel, _dd_rule, n_out=3, host=True)
dense_to_sparse_p = primitive("DenseToSparseSetOperation", _ds_kernel, _ds_rule, n_out=3, host=True)
sparse_to_sparse_p = primitive(
    "SparseToSparseSetOperation", _ss_kernel, _ss_rule, n_out=3, host=True
)
set_size_p = primitive("SetSize", _set_size_kernel, _set_size_rule, host=True)


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def _sparse_cls():
    from rill.structures.sparse_tensor import SparseTensor

    return SparseTensor


def _is_sparse(x) -> bool:
    if isinstance(x, _sparse_cls()):
        return True
    return not isinstance(x, (Tensor, np.ndarray)) and all(
        hasattr(x, a) for a in ("indices", "values", "dense_shape")
    )


def _as_input(x, what: str, api: str):
    """A SparseTensor (as-is, or from a SparseTensorValue) or a dense tensor, checked."""
    if _is_sparse(x):
        x = _sparse_cls().from_value(x)
        dtype = x.values.dtype
    else:
        x = convert_to_tensor(x)
        dtype = x.dtype
    if dtype not in _VALID:
        ok = ", ".join(sorted(d.name for d in _VALID))
        raise TypeError(f"{api}: '{what}' has invalid dtype {dtype.name}; supported: {ok}.")
    return x, dtype


def _result(indices, values, dense_shape, group_shape):
    static = None if group_shape is None else TensorShape(list(group_shape) + [None])
    return _sparse_cls()._from_parts(indices, values, dense_shape, static)


def _set_operation(api, a, b, set_operation, validate_indices):
    a, da = _as_input(a, "a", api)
    b, db = _as_input(b, "b", api)
    if da is not db:
        raise TypeError(f"{api}: types don't match, {da.name} vs {db.name}; cast one with tf.cast.")
    sparse_cls = _sparse_cls()
    a_sp, b_sp = isinstance(a, sparse_cls), isinstance(b, sparse_cls)
    if a_sp and not b_sp:  # only dense,sparse exists: swap (difference flips its direction)
        a, b, a_sp, b_sp = b, a, False, True
        set_operation = {"a-b": "b-a", "b-a": "a-b"}.get(set_operation, set_operation)
    params = {"set_operation": set_operation, "validate_indices": bool(validate_indices)}
    if a_sp:
        prim, inputs = sparse_to_sparse_p, (a.indices, a.values, a.dense_shape)
        inputs += (b.indices, b.values, b.dense_shape)
        group = a.shape[:-1] if a.shape.rank is not None else None
    elif b_sp:
        prim, inputs = dense_to_sparse_p, (a, b.indices, b.values, b.dense_shape)
        group = a.shape[:-1] if a.shape.rank is not None else None
    else:
        prim, inputs = dense_to_dense_p, (a, b)
        group = a.shape[:-1] if a.shape.rank is not None else None
    indices, values, dense_shape = bind(prim, inputs, params)
    return _result(indices, values, dense_shape, None if group is None else group.as_list())


@tf_export("sets.intersection")
def intersection(a, b, validate_indices: bool = True):
    """Set intersection over the last dimension of ``a`` and ``b`` (dense tensors or
    SparseTensors with row-major indices; all but the last dimension must match).

    Returns a SparseTensor of the same rank whose rows hold the common elements, sorted.
    """
    return _set_operation("tf.sets.intersection", a, b, "intersection", validate_indices)


@tf_export("sets.union")
def union(a, b, validate_indices: bool = True):
    """Set union over the last dimension of ``a`` and ``b``; a SparseTensor of sorted rows."""
    return _set_operation("tf.sets.union", a, b, "union", validate_indices)


@tf_export("sets.difference")
def difference(a, b, aminusb: bool = True, validate_indices: bool = True):
    """Set difference over the last dimension: ``a - b`` (or ``b - a`` if ``aminusb`` is
    False); a SparseTensor of sorted rows."""
    return _set_operation("tf.sets.difference", a, b, "a-b" if aminusb else "b-a", validate_indices)


@tf_export("sets.size")
def size(a, validate_indices: bool = True) -> Tensor:
    """The number of distinct elements of each set (last dimension) of SparseTensor ``a``:
    an int32 tensor shaped like all but the last dimension of ``a``."""
    if not _is_sparse(a):
        raise TypeError(f"tf.sets.size: expected a SparseTensor, got {type(a).__name__}.")
    a, _ = _as_input(a, "a", "tf.sets.size")
    params = {"validate_indices": bool(validate_indices)}
    return bind(set_size_p, (a.indices, a.values, a.dense_shape), params)
