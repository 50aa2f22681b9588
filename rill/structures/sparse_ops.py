"""``tf.sparse``: operations on :class:`SparseTensor`, in memory proportional to nnz.

Design: the work on *coordinates* (sorting, merging, grouping, slicing, reshaping index
rows) is done by a few non-differentiable primitives with vectorised NumPy kernels; each
returns the new indices plus an integer map (a permutation, positions, segment ids) that
says where every output value comes from. The *values* then move through ordinary,
differentiable rill ops (``gather``, ``unsorted_segment_sum``, ``boolean_mask``,
``scatter_nd``...), so gradients reach ``values`` and everything traces into
``rill.function`` graphs. Nothing is densified unless the op's result is dense in TF too
(``to_dense``, ``to_indicator``, dense reductions, sparse + dense).
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.core import nest
from rill.core.errors import InvalidArgumentError
from rill.ops import math_ops as _m
from rill.ops import unary_ops as _u
from rill.ops._op import (
    AVal,
    Tensor,
    bind,
    convert_to_tensor,
    dispatch_for,
    op_error,
    primitive,
    static_value,
    tf_export,
)
from rill.ops.array_ops import cast, reshape, shape, stack, zeros_like
from rill.ops.clip_ops import stop_gradient
from rill.ops.creation_ops import fill, ones, zeros
from rill.ops.creation_ops import range as _range
from rill.ops.indexing_ops import (
    boolean_mask,
    gather,
    gather_nd,
    scatter_nd,
    tensor_scatter_nd_add,
    tensor_scatter_nd_update,
    where,
)
from rill.ops.reduction_ops import reduce_max as _dense_reduce_max
from rill.ops.reduction_ops import segment_sum as _segment_sum
from rill.ops.reduction_ops import (
    unsorted_segment_max,
    unsorted_segment_min,
    unsorted_segment_sum,
)
from rill.ops.shape_ops import concat as _concat
from rill.ops.shape_ops import transpose as _transpose
from rill.structures.sparse_tensor import IndexedSlices, SparseTensor

__all__ = [
    "from_dense", "to_dense", "to_indicator", "reorder", "add", "sparse_dense_matmul",
    "reduce_sum", "reduce_max", "concat", "reshape_sparse", "transpose", "slice", "retain",
    "fill_empty_rows", "reset_shape", "maximum", "minimum", "softmax", "split", "expand_dims",
    "bincount", "segment_sum", "segment_mean", "segment_sqrt_n", "mask", "map_values", "eye",
]  # fmt: skip

_i64 = np.int64
int64 = _d.int64


# --------------------------------------------------------------------------------------
# Index kernels (NumPy, vectorised)
# --------------------------------------------------------------------------------------


def _cmp_prev(ind: np.ndarray) -> np.ndarray:
    """Sign of the lexicographic comparison of each row with the previous one ([N-1])."""
    if len(ind) < 2 or ind.shape[1] == 0:
        return np.zeros(max(len(ind) - 1, 0), _i64)
    d = ind[1:] - ind[:-1]
    first = (d != 0).argmax(axis=1)
    return np.sign(d[np.arange(len(d)), first])


def _row_order(ind: np.ndarray) -> np.ndarray:
    """Stable permutation putting the rows of ``ind`` in row-major (lexicographic) order."""
    n, k = ind.shape
    if n < 2 or k == 0 or bool(np.all(_cmp_prev(ind) >= 0)):
        return np.arange(n, dtype=_i64)
    if k == 1:
        return np.argsort(ind[:, 0], kind="stable").astype(_i64)
    return np.lexsort(ind.T[::-1]).astype(_i64)


def _groups(sub: np.ndarray):
    """Group equal rows: (segment id of each row [N], the distinct rows sorted [M, k])."""
    n = len(sub)
    perm = _row_order(sub)
    s = sub[perm]
    starts = np.ones(n, bool)
    if n > 1:
        starts[1:] = _cmp_prev(s) != 0
    seg = np.empty(n, _i64)
    seg[perm] = np.cumsum(starts) - 1
    return seg, s[starts]


def _fmt(v) -> str:
    return "[" + ",".join(str(int(x)) for x in np.asarray(v).reshape(-1)) + "]"


def _err(op, msg):
    return op_error(InvalidArgumentError, op, msg)


def _reorder_kernel(ind, dense_shape):
    perm = _row_order(ind)
    return ind[perm], perm


def _reorder_rule(ind, dense_shape):
    return AVal(ind.shape, int64), AVal([ind.shape[0] if ind.rank else None], int64)


reorder_p = primitive("SparseReorder", _reorder_kernel, _reorder_rule, n_out=2, host=True)


def _validate_kernel(ind, dense_shape):
    """The indices, after checking they are in bounds, sorted and unique (SparseToDense)."""
    n = len(ind)
    bad = np.full(n, 3)  # 0 out of bounds, 1 out of order, 2 repeated, 3 fine
    oob = np.any((ind < 0) | (ind >= dense_shape), axis=1) if n else np.zeros(0, bool)
    c = _cmp_prev(ind)
    bad[1:][c == 0] = 2
    bad[1:][c < 0] = 1
    bad[oob] = 0
    wrong = np.flatnonzero(bad < 3)
    if len(wrong):
        i = int(wrong[0])
        what = {
            0: f"is out of bounds: need 0 <= index < {_fmt(dense_shape)}",
            1: "is out of order. Many sparse ops require sorted indices; use "
            "tf.sparse.reorder to create a correctly ordered copy",
            2: "is repeated",
        }[int(bad[i])]
        raise _err("SparseToDense", f"indices[{i}] = {_fmt(ind[i])} {what}")
    return ind


validate_p = primitive(
    "SparseValidateIndices", _validate_kernel, lambda ind, ds: AVal(ind.shape, int64), host=True
)


def _check_same_shape(op, a, b):
    if len(a) != len(b):
        raise _err(op, f"Operands' ranks do not match: got {len(a)} and {len(b)}")
    diff = np.flatnonzero(a != b)
    if len(diff):
        d = int(diff[0])
        raise _err(op, f"Operands' shapes do not match: got {a[d]} and {b[d]} for dimension {d}")


def _union_kernel(a, b, a_shape, b_shape, op="SparseAdd"):
    _check_same_shape(op, a_shape, b_shape)
    seg, out = _groups(np.concatenate([a, b]))
    in_a = np.zeros(len(out), bool)
    in_b = np.zeros(len(out), bool)
    in_a[seg[: len(a)]] = True
    in_b[seg[len(a) :]] = True
    return out, seg, in_a & in_b


def _union_rule(a, b, a_shape, b_shape, op="SparseAdd"):
    k = a.shape[1] if a.rank else None
    na = a.shape[0] if a.rank else None
    nb = b.shape[0] if b.rank else None
    n = na + nb if na is not None and nb is not None else None
    return AVal([None, k], int64), AVal([n], int64), AVal([None], _d.bool)


union_p = primitive("SparseUnion", _union_kernel, _union_rule, n_out=3, host=True)


def _group_kernel(ind, keep=(), keepdims=False):
    seg, out = _groups(ind[:, list(keep)])
    if keepdims:
        full = np.zeros((len(out), ind.shape[1]), _i64)
        full[:, list(keep)] = out
        out = full
    return seg, out


def _group_rule(ind, keep=(), keepdims=False):
    n = ind.shape[0] if ind.rank else None
    k = (ind.shape[1] if ind.rank else None) if keepdims else len(keep)
    return AVal([n], int64), AVal([None, k], int64)


group_p = primitive("SparseGroup", _group_kernel, _group_rule, n_out=2, host=True)


def _reshape_kernel(ind, dense_shape, new_shape):
    op = "SparseReshape"
    new = np.array(new_shape, _i64)
    unknown = np.flatnonzero(new == -1)
    if len(unknown) > 1:
        raise _err(
            op, f"only one output dimension may be -1, not both {unknown[0]} and {unknown[1]}"
        )
    neg = np.flatnonzero(new < -1)
    if len(neg):
        raise _err(op, f"size {neg[0]} must be non-negative, not {new[neg[0]]}")
    total = int(np.prod(dense_shape, dtype=_i64))
    if len(unknown):
        known = int(np.prod(np.delete(new, unknown), dtype=_i64))
        if known == 0 or total % known:
            shown = new.copy()
            shown[unknown] = total // known if known else 0
            raise _err(
                op,
                f"Input to reshape is a SparseTensor with {total} dense values, but the "
                f"requested shape requires a multiple of {known}. input_shape="
                f"{_fmt(dense_shape)} output_shape={_fmt(shown)}",
            )
        new[unknown] = total // known
    if int(np.prod(new, dtype=_i64)) != total:
        raise _err(
            op,
            f"Input to reshape is a tensor with {total} dense values, but the requested shape "
            f"has {int(np.prod(new, dtype=_i64))}. input_shape={_fmt(dense_shape)} "
            f"output_shape={_fmt(new)}",
        )

    def strides(dims):
        s = np.ones(len(dims), _i64)
        if len(dims) > 1:
            s[:-1] = np.cumprod(dims[::-1], dtype=_i64)[::-1][1:]
        return s

    lin = ind @ strides(np.asarray(dense_shape, _i64)) if ind.shape[1] else np.zeros(len(ind), _i64)
    out = (lin[:, None] // np.maximum(strides(new), 1)) % np.maximum(new, 1)
    return out.astype(_i64), new


def _reshape_rule(ind, dense_shape, new_shape):
    k = new_shape.shape[0] if new_shape.rank else None
    return AVal([ind.shape[0] if ind.rank else None, k], int64), AVal([k], int64)


reshape_p = primitive("SparseReshape", _reshape_kernel, _reshape_rule, n_out=2, host=True)


def _slice_kernel(ind, dense_shape, start, size):
    op = "SparseSlice"
    r = len(dense_shape)
    for name, v in (("start", start), ("size", size)):
        if len(v) != r:
            raise _err(op, f"Expected {name} to be a vector of length {r} but got length {len(v)}")
        if np.any(v < 0):
            raise _err(op, f"Expected a non-negative {name}, got {int(v[v < 0][0])}")
    end = np.minimum(start + size, dense_shape)
    out_shape = np.maximum(end - start, 0).astype(_i64)
    keep = np.all((ind >= start) & (ind < end), axis=1) if r else np.ones(len(ind), bool)
    pos = np.flatnonzero(keep).astype(_i64)
    return (ind[pos] - start).astype(_i64), pos, out_shape


def _slice_rule(ind, dense_shape, start, size):
    k = ind.shape[1] if ind.rank else None
    return AVal([None, k], int64), AVal([None], int64), AVal([k], int64)


slice_p = primitive("SparseSlice", _slice_kernel, _slice_rule, n_out=3, host=True)


def _concat_kernel(*args, axis=0, expand=False):
    op = "SparseConcat"
    n = len(args) // 2
    inds, shapes = args[:n], [np.asarray(s, _i64) for s in args[n:]]
    r = len(shapes[0])
    for i, s in enumerate(shapes):
        if len(s) != r:
            raise _err(
                op,
                f"Ranks of all input tensors must match: expected {r} but got {len(s)} at position {i}",
            )
    if not -r <= axis < r:
        raise _err(op, f"Concat dimension must be in range [{-r}, {r}), got {axis}")
    axis %= r
    out_shape = shapes[0].copy()
    if expand:
        out_shape = np.max(shapes, axis=0)
    else:
        for i, s in enumerate(shapes):
            for d in range(r):
                if d != axis and s[d] != out_shape[d]:
                    raise _err(
                        op,
                        f"Input shapes must match: expected {out_shape[d]} for dimension {d} "
                        f"but got {s[d]} at position {i}",
                    )
    offsets = np.concatenate([[0], np.cumsum([s[axis] for s in shapes])]).astype(_i64)
    out_shape[axis] = offsets[-1]
    parts = []
    for i, x in enumerate(inds):
        x = np.array(x, _i64)
        x[:, axis] += offsets[i]
        parts.append(x)
    allind = np.concatenate(parts) if parts else np.zeros((0, r), _i64)
    perm = _row_order(allind)
    return allind[perm], perm, out_shape.astype(_i64)


def _concat_rule(*args, axis=0, expand=False):
    n = len(args) // 2
    counts = [a.shape[0] if a.rank else None for a in args[:n]]
    total = None if None in counts else sum(counts)
    k = args[0].shape[1] if args[0].rank else None
    return AVal([total, k], int64), AVal([total], int64), AVal([k], int64)


concat_p = primitive("SparseConcat", _concat_kernel, _concat_rule, n_out=3, host=True)


def _fill_kernel(ind, dense_shape):
    op = "SparseFillEmptyRows"
    if len(dense_shape) < 1:
        raise _err(op, "the SparseTensor must have rank >= 1")
    nrows = int(dense_shape[0])
    rows = ind[:, 0] if len(ind) else np.zeros(0, _i64)
    bad = np.flatnonzero((rows < 0) | (rows >= nrows))
    if len(bad):
        raise _err(op, f"indices({bad[0]}, 0) is invalid: {rows[bad[0]]} >= {nrows}")
    empty = np.bincount(rows, minlength=nrows)[:nrows] == 0
    erows = np.flatnonzero(empty).astype(_i64)
    new = np.zeros((len(erows), ind.shape[1]), _i64)
    new[:, 0] = erows
    allrows = np.concatenate([rows, erows])
    src = np.concatenate([np.arange(len(ind), dtype=_i64), np.full(len(erows), len(ind), _i64)])
    order = np.argsort(allrows, kind="stable")
    return np.concatenate([ind, new])[order], src[order], empty


def _fill_rule(ind, dense_shape):
    k = ind.shape[1] if ind.rank else None
    return AVal([None, k], int64), AVal([None], int64), AVal([None], _d.bool)


fill_empty_rows_p = primitive("SparseFillEmptyRows", _fill_kernel, _fill_rule, n_out=3, host=True)


def _bincount_kernel(values, rows, nrows, weights, minlength=-1, maxlength=-1,
                     binary_output=False, two_d=False, dense2d=False):  # fmt: skip
    op = "SparseBincount"
    v = np.asarray(values)
    if dense2d:
        rows = np.repeat(np.arange(v.shape[0], dtype=_i64), v.shape[1])
        nrows = v.shape[0]
    v = v.reshape(-1).astype(_i64)
    rows = np.asarray(rows, _i64).reshape(-1)
    if not two_d:
        rows = np.zeros(len(v), _i64)
    if np.any(v < 0):
        raise _err(op, "Input values must all be non-negative")
    size = (int(v.max()) if len(v) else 0) + 1
    size = max(size, minlength)
    if maxlength >= 0:
        size = min(size, maxlength)
    w = np.asarray(weights).reshape(-1) if len(weights) else None
    keep = v < size
    v, rows = v[keep], rows[keep]
    lin = rows * size + v
    uniq, inv = np.unique(lin, return_inverse=True)
    out_dtype = np.asarray(weights).dtype if w is not None else np.asarray(values).dtype
    if binary_output:
        vals = np.ones(len(uniq), out_dtype)
    elif w is not None:
        vals = np.bincount(inv, weights=w[keep], minlength=len(uniq)).astype(out_dtype)
    else:
        vals = np.bincount(inv, minlength=len(uniq)).astype(out_dtype)
    if two_d:
        ind = np.stack([uniq // size, uniq % size], axis=1).astype(_i64)
        shp = np.array([int(nrows), size], _i64)
    else:
        ind = uniq.astype(_i64)[:, None]
        shp = np.array([size], _i64)
    return ind, vals, shp


def _bincount_rule(values, rows, nrows, weights, minlength=-1, maxlength=-1,
                   binary_output=False, two_d=False, dense2d=False):  # fmt: skip
    k = 2 if two_d else 1
    dt = weights.dtype if (weights.shape.rank and weights.shape[0] != 0) else values.dtype
    if binary_output:
        dt = values.dtype
    return AVal([None, k], int64), AVal([None], dt), AVal([k], int64)


bincount_p = primitive("SparseBincount", _bincount_kernel, _bincount_rule, n_out=3, host=True)


def _mask_keep_kernel(indices, mask_indices):
    return np.flatnonzero(~np.isin(indices, mask_indices)).astype(_i64)


mask_keep_p = primitive(
    "SparseMaskKeep", _mask_keep_kernel, lambda i, m: AVal([None], int64), host=True
)


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _check(sp, op="") -> SparseTensor:
    if not isinstance(sp, SparseTensor):
        where = f"tf.sparse.{op}: " if op else ""
        raise TypeError(f"{where}Input must be a SparseTensor, got {type(sp).__name__}.")
    return sp


def _rank(sp: SparseTensor, op: str) -> int:
    r = sp.shape.rank
    if r is None and sp.indices.shape.rank == 2:
        r = sp.indices.shape[1]
    if r is None:
        raise ValueError(f"tf.sparse.{op} needs a SparseTensor of known rank.")
    return r


def _int64(x) -> Tensor:
    if isinstance(x, Tensor):
        return x if x.dtype is int64 else cast(x, int64)
    return convert_to_tensor(np.asarray(x, dtype=_i64) if not _is_tensorish(x) else x, dtype=int64)


def _is_tensorish(x) -> bool:
    return isinstance(x, Tensor) or getattr(x, "_rill_variable", False)


def _count(t) -> Tensor:
    """Number of rows of ``t`` as an int64 scalar tensor."""
    return gather(shape(t, out_type=int64), 0)


def _cols(ind, cols) -> Tensor:
    return gather(ind, np.asarray(cols, _i64), axis=1)


def _static_int(x, what):
    v = static_value(x) if _is_tensorish(x) else x
    if v is None:
        raise ValueError(f"{what} must be known statically (a Python int or a constant).")
    return int(np.asarray(v))


def _zero(dtype):
    if dtype is _d.string:
        return convert_to_tensor(b"", dtype=dtype)
    return zeros([], dtype)


def _make(ind, vals, ds, shape=None) -> SparseTensor:
    return SparseTensor._from_parts(ind, vals, ds, shape)


def _check_dtype(op, a: SparseTensor, other_dtype):
    if other_dtype is not a.dtype:
        raise _err(op, f"the operands' dtypes differ: {a.dtype.name} vs {other_dtype.name}")


# --------------------------------------------------------------------------------------
# Conversion
# --------------------------------------------------------------------------------------


@tf_export("sparse.from_dense")
def from_dense(tensor, name=None) -> SparseTensor:
    """A SparseTensor of the non-zero (non-empty for strings) entries of a dense tensor."""
    t = convert_to_tensor(tensor)
    if t.shape.rank == 0:
        raise _err("from_dense", "the input must have rank >= 1, got a scalar")
    ind = where(_m.not_equal(t, _zero(t.dtype)))
    return _make(ind, gather_nd(t, ind), shape(t, out_type=int64), t.shape)


@tf_export("sparse.to_dense")
def to_dense(sp_input, default_value=None, validate_indices=True, name=None) -> Tensor:
    """The dense tensor: ``values`` at ``indices``, ``default_value`` (0) elsewhere.

    With ``validate_indices`` the indices must be in bounds, sorted and unique."""
    sp = _check(sp_input, "to_dense")
    ind = sp.indices
    if validate_indices:
        ind = bind(validate_p, (ind, sp.dense_shape))
    d = (
        _zero(sp.dtype)
        if default_value is None
        else convert_to_tensor(default_value, dtype=sp.dtype)
    )
    return tensor_scatter_nd_update(fill(sp.dense_shape, d), ind, sp.values)


@tf_export("sparse.to_indicator")
def to_indicator(sp_input, vocab_size, name=None) -> Tensor:
    """Dense bool ``[..., vocab_size]``: True at ``[i..., id]`` for each id in row ``i...``."""
    sp = _check(sp_input, "to_indicator")
    if sp.dtype not in (_d.int32, _d.int64):
        raise _err("to_indicator", f"sp_input.values must be int32 or int64, got {sp.dtype.name}")
    r = _rank(sp, "to_indicator")
    ids = reshape(cast(sp.values, int64), [-1, 1])
    ind = _concat([_cols(sp.indices, range(r - 1)), ids], 1)
    vs = _int64(vocab_size)
    ds = _concat([gather(sp.dense_shape, np.arange(r - 1, dtype=_i64)), reshape(vs, [1])], 0)
    out = tensor_scatter_nd_update(fill(ds, False), ind, _m.not_equal(ids[:, 0], -1))
    return out


@tf_export("sparse.reorder")
def reorder(sp_input, name=None) -> SparseTensor:
    """The same SparseTensor with its entries in canonical row-major order."""
    sp = _check(sp_input, "reorder")
    ind, perm = bind(reorder_p, (sp.indices, sp.dense_shape))
    return _make(ind, gather(sp.values, perm), sp.dense_shape, sp.shape)


# --------------------------------------------------------------------------------------
# Arithmetic
# --------------------------------------------------------------------------------------


@tf_export("sparse.add")
def add(a, b, threshold=0):
    """``a + b``. Sparse + sparse is sparse (entries whose sum has magnitude below
    ``threshold`` are dropped); sparse + dense (either order) is dense."""
    sa, sb = isinstance(a, SparseTensor), isinstance(b, SparseTensor)
    if not (sa or sb):
        raise TypeError("At least one input should be SparseTensor; do you mean to use tf.add()?")
    if sa and sb:
        _check_dtype("SparseAdd", a, b.dtype)
        ind, seg, both = bind(union_p, (a.indices, b.indices, a.dense_shape, b.dense_shape))
        vals = unsorted_segment_sum(_concat([a.values, b.values], 0), seg, _count(ind))
        rt = a.dtype.real_dtype if a.dtype.is_complex else a.dtype
        th = convert_to_tensor(threshold, dtype=rt)
        thv = static_value(th)
        if thv is None or thv != 0:  # like TF, only sums of two entries are thresholded
            keep = _m.logical_or(_m.logical_not(both), _m.greater_equal(_u.abs(vals), th))
            ind, vals = boolean_mask(ind, keep), boolean_mask(vals, keep)
        st = a.shape.merge_with(b.shape) if a.shape.is_compatible_with(b.shape) else a.shape
        return _make(ind, vals, a.dense_shape, st)
    sp, d = (a, b) if sa else (b, a)
    d = convert_to_tensor(d, dtype_hint=sp.dtype)
    _check_dtype("SparseTensorDenseAdd", sp, d.dtype)
    ss, ds = sp.shape, d.shape
    if ss.rank is not None and ds.rank is not None:
        if ss.rank != ds.rank:
            raise _err("SparseTensorDenseAdd", f"ranks differ: sparse {ss.rank} vs dense {ds.rank}")
        for i, (x, y) in enumerate(zip(ss.as_list(), ds.as_list())):
            if x is not None and y is not None and x != y:
                raise _err(
                    "SparseTensorDenseAdd",
                    f"Dimension {i} does not equal (no broadcasting is supported): sparse side "
                    f"{x} vs dense side {y}",
                )
    return tensor_scatter_nd_add(d, sp.indices, sp.values)


def _sp_dense_product(rows, cols, vals, nout, dense):
    """sum_k vals[k] * dense[cols[k]] into row rows[k]: the sparse-dense matmul kernel."""
    prod = gather(dense, cols) * reshape(vals, [-1, 1])
    return unsorted_segment_sum(prod, rows, nout)


def _adj(t):
    return _transpose(t, conjugate=t.dtype.is_complex)


@tf_export("sparse.sparse_dense_matmul")
def sparse_dense_matmul(sp_a, b, adjoint_a=False, adjoint_b=False, name=None) -> Tensor:
    """Matrix product of a rank-2 SparseTensor and a dense matrix (either order), with
    optional adjoints; ``O(nnz * k)`` time and memory."""
    op = "SparseTensorDenseMatMul"
    if isinstance(sp_a, SparseTensor) and isinstance(b, SparseTensor):
        raise TypeError(
            "sparse_dense_matmul: both operands are SparseTensors; densify one with "
            "tf.sparse.to_dense."
        )
    if isinstance(sp_a, SparseTensor):
        sp, dense, flip = sp_a, convert_to_tensor(b, dtype_hint=sp_a.dtype), False
        t_sp, c_sp = adjoint_a, adjoint_a
        dense = _adj(dense) if adjoint_b else dense
    elif isinstance(b, SparseTensor):
        # C = A' B'  <=>  C^T = B'^T A'^T, a sparse-dense product
        sp, dense, flip = b, convert_to_tensor(sp_a, dtype_hint=b.dtype), True
        t_sp, c_sp = not adjoint_b, adjoint_b
        dense = _u.conj(dense) if adjoint_a and dense.dtype.is_complex else dense
        dense = dense if adjoint_a else _transpose(dense)
    else:
        raise TypeError("sparse_dense_matmul: one operand must be a SparseTensor.")
    if _rank(sp, "sparse_dense_matmul") != 2:
        raise _err(op, f"Tensor 'a_shape' must have 2 elements, got shape {sp.shape}")
    if dense.dtype is not sp.dtype:
        raise _err(
            op, f"the sparse values are {sp.dtype.name} but the dense matrix is {dense.dtype.name}"
        )
    if dense.shape.rank is not None and dense.shape.rank != 2:
        raise _err(op, f"the dense operand must be a matrix, got shape {dense.shape}")
    rows, cols = _cols(sp.indices, [0]), _cols(sp.indices, [1])
    rows, cols = reshape(rows, [-1]), reshape(cols, [-1])
    nrows, ncols = gather(sp.dense_shape, 0), gather(sp.dense_shape, 1)
    srows, scols = sp.shape.as_list() if sp.shape.rank == 2 else [None, None]
    if t_sp:
        rows, cols, nrows, ncols, srows, scols = cols, rows, ncols, nrows, scols, srows
    vals = _u.conj(sp.values) if c_sp and sp.dtype.is_complex else sp.values
    inner = dense.shape[0] if dense.shape.rank == 2 else None
    if scols is not None and inner is not None and scols != inner:
        raise _err(
            op,
            f"Cannot multiply A and B because inner dimension does not match: {scols} vs. "
            f"{inner}. Did you forget a transpose? Dimensions of A: [{srows}, {scols}]. "
            f"Dimensions of B: {list(dense.shape)}",
        )
    _check_matmul_indices(op, rows, cols, nrows, inner if inner is not None else ncols)
    out = _sp_dense_product(rows, cols, vals, nrows, dense)
    return _transpose(out) if flip else out


def _check_matmul_indices(op, rows, cols, nrows, ncols) -> None:
    """Rejects sparse indices outside the output rows or the dense matrix's rows, as TF's
    kernel does: a segment sum would silently drop them (negative ids) instead."""
    rv, cv, nr = static_value(rows), static_value(cols), static_value(nrows)
    nc = ncols if isinstance(ncols, int) else static_value(ncols)
    for name, v, n in (("m", rv, nr), ("k", cv, nc)):
        if v is None or n is None:
            continue  # traced: the values are not known here
        bad = np.flatnonzero((v < 0) | (v >= int(n)))
        if bad.size:
            i = int(bad[0])
            raise _err(op, f"{name} ({int(v[i])}) from sparse index {i} out of bounds (>={int(n)})")


# --------------------------------------------------------------------------------------
# Reductions
# --------------------------------------------------------------------------------------


def _axes(op, axis, rank) -> tuple:
    if axis is None:
        return tuple(range(rank))
    v = static_value(axis) if _is_tensorish(axis) else axis
    if v is None:
        raise ValueError(f"tf.sparse.{op}: axis must be known statically.")
    out = set()
    for a in np.asarray(v).reshape(-1).tolist():
        if not -rank <= a < rank:
            raise _err(op, f"Invalid reduction dimension {a}, for input with {rank} dimensions.")
        out.add(a % rank)
    return tuple(sorted(out))


def _reduce(kind, sp_input, axis, keepdims, output_is_sparse):
    op = f"Sparse{kind}"
    sp = _check(sp_input, f"reduce_{kind.lower()}")
    r = _rank(sp, f"reduce_{kind.lower()}")
    if sp.dtype in (_d.bool, _d.string):
        raise _err(op, f"values of dtype {sp.dtype.name} cannot be reduced; cast them first")
    axes = _axes(op, axis, r)
    keep = tuple(i for i in range(r) if i not in axes)
    keepdims = bool(keepdims)
    kmask = np.array([i in keep for i in range(r)], _i64)
    dims = sp.shape.as_list() if sp.shape.rank is not None else [None] * r
    if keepdims:
        ds = sp.dense_shape * kmask + (1 - kmask)
        static = [d if i in keep else 1 for i, d in enumerate(dims)]
    else:
        ds = gather(sp.dense_shape, np.asarray(keep, _i64))
        static = [dims[i] for i in keep]
    if kind == "ReduceSum" and not output_is_sparse:
        if keepdims:
            ind = sp.indices * kmask
        else:
            ind = _cols(sp.indices, keep)
        return scatter_nd(ind, sp.values, ds)
    seg, ind = bind(group_p, (sp.indices,), {"keep": keep, "keepdims": keepdims})
    segfn = unsorted_segment_sum if kind == "ReduceSum" else unsorted_segment_max
    vals = segfn(sp.values, seg, _count(ind))
    if output_is_sparse:
        return _make(ind, vals, ds, static)
    return scatter_nd(ind, vals, ds)


@tf_export("sparse.reduce_sum")
def reduce_sum(sp_input, axis=None, keepdims=None, output_is_sparse=False, name=None):
    """Sum over ``axis`` (all by default); dense result, or sparse with ``output_is_sparse``."""
    return _reduce("ReduceSum", sp_input, axis, keepdims, output_is_sparse)


@tf_export("sparse.reduce_max")
def reduce_max(sp_input, axis=None, keepdims=None, output_is_sparse=False, name=None):
    """Maximum over ``axis`` of the *stored* entries only (implicit zeros are ignored;
    positions with no entry are 0 in a dense result)."""
    return _reduce("ReduceMax", sp_input, axis, keepdims, output_is_sparse)


# --------------------------------------------------------------------------------------
# Structure
# --------------------------------------------------------------------------------------


@tf_export("sparse.concat")
def concat(axis, sp_inputs, expand_nonconcat_dims=False, name=None) -> SparseTensor:
    """Concatenate SparseTensors along ``axis``; with ``expand_nonconcat_dims`` the other
    dimensions grow to the largest input's instead of having to match."""
    if not isinstance(sp_inputs, (list, tuple)) or not sp_inputs:
        raise TypeError("tf.sparse.concat: sp_inputs must be a non-empty list of SparseTensors.")
    for s in sp_inputs:
        _check(s, "concat")
    first = sp_inputs[0]
    for s in sp_inputs[1:]:
        _check_dtype("SparseConcat", first, s.dtype)
    ax = _static_int(axis, "tf.sparse.concat: axis")
    r = _rank(first, "concat")
    if len(sp_inputs) == 1:
        return first
    ind, perm, ds = bind(
        concat_p,
        tuple(s.indices for s in sp_inputs) + tuple(s.dense_shape for s in sp_inputs),
        {"axis": ax, "expand": bool(expand_nonconcat_dims)},
    )
    vals = gather(_concat([s.values for s in sp_inputs], 0), perm)
    static = None
    shapes = [s.shape for s in sp_inputs]
    if all(s.rank == r for s in shapes) and -r <= ax < r:
        a = ax % r
        static = []
        for d in range(r):
            col = [s[d] for s in shapes]
            if None in col:
                static.append(None)
            elif d == a:
                static.append(sum(col))
            else:
                static.append(max(col))
    return _make(ind, vals, ds, static)


@tf_export("sparse.reshape")
def reshape_sparse(sp_input, shape, name=None) -> SparseTensor:
    """The same entries in a dense shape of the same size (one dimension may be -1)."""
    sp = _check(sp_input, "reshape")
    new = _int64(shape)
    ind, ds = bind(reshape_p, (sp.indices, sp.dense_shape, new))
    static = None
    nv = static_value(new)
    if nv is not None:
        nv = [int(x) for x in np.asarray(nv).reshape(-1)]
        if -1 in nv and sp.shape.is_fully_defined():
            total = int(np.prod(sp.shape.as_list()))
            known = int(np.prod([x for x in nv if x != -1]))
            nv = [total // known if x == -1 and known else x for x in nv]
        static = [None if x == -1 else x for x in nv]
    return _make(ind, sp.values, ds, static)


reshape_sparse.__name__ = "reshape"


@tf_export("sparse.transpose")
def transpose(sp_input, perm=None, name=None) -> SparseTensor:
    """Permute the dimensions (reverse them by default); the result is reordered."""
    sp = _check(sp_input, "transpose")
    r = _rank(sp, "transpose")
    p = (
        list(range(r))[::-1]
        if perm is None
        else [
            int(x)
            for x in np.asarray(static_value(perm) if _is_tensorish(perm) else perm).reshape(-1)
        ]
    )
    if sorted(p) != list(range(r)):
        raise _err("SparseTranspose", f"perm {p} is not a permutation of the {r} dimensions")
    pa = np.asarray(p, _i64)
    ind, order = bind(reorder_p, (gather(sp.indices, pa, axis=1), gather(sp.dense_shape, pa)))
    ds = gather(sp.dense_shape, pa)
    static = [sp.shape[i] for i in p] if sp.shape.rank == r else None
    return _make(ind, gather(sp.values, order), ds, static)


@tf_export("sparse.slice")
def slice(sp_input, start, size, name=None) -> SparseTensor:  # noqa: A001 - TF's name
    """The entries inside ``[start, start + size)`` (clipped to the dense shape), shifted
    to start at 0."""
    sp = _check(sp_input, "slice")
    ind, pos, ds = bind(slice_p, (sp.indices, sp.dense_shape, _int64(start), _int64(size)))
    return _make(ind, gather(sp.values, pos), ds)


@tf_export("sparse.retain")
def retain(sp_input, to_retain) -> SparseTensor:
    """Keep the entries where the bool vector ``to_retain`` (length nnz) is True."""
    sp = _check(sp_input, "retain")
    keep = convert_to_tensor(to_retain)
    if keep.shape.rank is not None and keep.shape.rank != 1:
        raise ValueError(f"Shape {keep.shape} must have rank 1 (to_retain)")
    n, k = sp.values.shape[0], keep.shape[0] if keep.shape.rank == 1 else None
    if n is not None and k is not None and n != k:
        raise ValueError(f"Dimensions {n} and {k} are not compatible")
    if keep.dtype is not _d.bool:
        keep = _m.not_equal(keep, zeros([], keep.dtype))
    return _make(
        boolean_mask(sp.indices, keep), boolean_mask(sp.values, keep), sp.dense_shape, sp.shape
    )


@tf_export("sparse.fill_empty_rows")
def fill_empty_rows(sp_input, default_value, name=None):
    """Add ``default_value`` at ``[row, 0, ..., 0]`` for every empty row; returns the
    SparseTensor (ordered by row) and the bool vector of which rows were empty."""
    sp = _check(sp_input, "fill_empty_rows")
    d = convert_to_tensor(default_value, dtype=sp.dtype)
    ind, src, empty = bind(fill_empty_rows_p, (sp.indices, sp.dense_shape))
    vals = gather(_concat([sp.values, reshape(d, [1])], 0), src)
    return _make(ind, vals, sp.dense_shape, sp.shape), empty


@tf_export("sparse.reset_shape")
def reset_shape(sp_input, new_shape=None) -> SparseTensor:
    """Change the dense shape: to ``new_shape`` (no smaller than the current one), or by
    default to the tightest shape holding the indices."""
    sp = _check(sp_input, "reset_shape")
    r = _rank(sp, "reset_shape")
    if new_shape is None:
        ds = _m.maximum(_dense_reduce_max(sp.indices, 0) + 1, zeros([], int64))
        return _make(sp.indices, sp.values, ds)
    ns = _int64(new_shape)
    if ns.shape.rank != 1:
        raise ValueError(f"Shape {ns.shape} must have rank 1 (new_shape)")
    if ns.shape[0] is not None and ns.shape[0] != r:
        raise ValueError(f"Dimensions {ns.shape[0]} and {r} are not compatible")
    nv, cv = static_value(ns), static_value(sp.dense_shape)
    if nv is not None and cv is not None and np.any(np.asarray(nv) < np.asarray(cv)):
        raise ValueError(
            "Requested new_shape should have dimension sizes >= sp_input.shape. Found "
            f"new_shape ({np.asarray(nv)}), sp_input.shape ({np.asarray(cv)})."
        )
    return _make(sp.indices, sp.values, ns)


def _minmax(kind, sp_a, sp_b):
    op = f"SparseSparse{kind}"
    a, b = _check(sp_a, kind.lower()), _check(sp_b, kind.lower())
    _check_dtype(op, a, b.dtype)
    ind, seg, both = bind(union_p, (a.indices, b.indices, a.dense_shape, b.dense_shape), {"op": op})
    segfn = unsorted_segment_max if kind == "Maximum" else unsorted_segment_min
    m = segfn(_concat([a.values, b.values], 0), seg, _count(ind))
    pair = _m.maximum if kind == "Maximum" else _m.minimum
    vals = where(both, m, pair(m, zeros_like(m)))
    return _make(ind, vals, a.dense_shape, a.shape)


@tf_export("sparse.maximum")
def maximum(sp_a, sp_b, name=None) -> SparseTensor:
    """Elementwise maximum of two SparseTensors of one shape (a missing entry counts as 0)."""
    return _minmax("Maximum", sp_a, sp_b)


@tf_export("sparse.minimum")
def minimum(sp_a, sp_b, name=None) -> SparseTensor:
    """Elementwise minimum of two SparseTensors of one shape (a missing entry counts as 0)."""
    return _minmax("Minimum", sp_a, sp_b)


@tf_export("sparse.softmax")
def softmax(sp_input, name=None) -> SparseTensor:
    """Softmax over the stored entries of each innermost row (missing entries are absent,
    not zeros). Rank >= 2."""
    sp = _check(sp_input, "softmax")
    r = _rank(sp, "softmax")
    if r < 2:
        raise _err("SparseSoftmax", f"Input should have rank >= 2, but received shape: {sp.shape}")
    if not sp.dtype.is_floating:
        raise _err("SparseSoftmax", f"values must be float, got {sp.dtype.name}")
    seg, groups = bind(group_p, (sp.indices,), {"keep": tuple(range(r - 1)), "keepdims": False})
    n = _count(groups)
    mx = stop_gradient(unsorted_segment_max(sp.values, seg, n))
    e = _u.exp(sp.values - gather(mx, seg))
    s = unsorted_segment_sum(e, seg, n)
    return _make(sp.indices, e / gather(s, seg), sp.dense_shape, sp.shape)


@tf_export("sparse.split")
def split(sp_input=None, num_split=None, axis=None, name=None) -> list:
    """Split into ``num_split`` SparseTensors along ``axis``; the first ``dim % num_split``
    pieces get one extra slice."""
    sp = _check(sp_input, "split")
    if num_split is None or axis is None:
        raise ValueError("tf.sparse.split: num_split and axis are required.")
    n = _static_int(num_split, "tf.sparse.split: num_split")
    r = _rank(sp, "split")
    ax = _static_int(axis, "tf.sparse.split: axis")
    if not -r <= ax < r:
        raise _err("SparseSplit", f"axis {ax} is out of range for rank {r}")
    ax %= r
    dim_s = sp.shape[ax] if sp.shape.rank == r else None
    if dim_s is not None and not 1 <= n <= max(dim_s, 1):
        raise _err(
            "SparseSplit",
            f"Input num_split should be between 1 and the splitting dimension size ({dim_s}), "
            f"got {n}",
        )
    onehot = np.zeros(r, _i64)
    onehot[ax] = 1
    dim = gather(sp.dense_shape, ax)
    base, extra = dim // n, dim % n
    out = []
    for i in range(n):
        start = base * i + _m.minimum(extra, np.int64(i))
        size = base + cast(_m.less(np.int64(i), extra), int64)
        st = [
            None if d is None else d
            for d in (sp.shape.as_list() if sp.shape.rank == r else [None] * r)
        ]
        if dim_s is not None:
            st[ax] = dim_s // n + (1 if i < dim_s % n else 0)
        else:
            st[ax] = None
        piece = slice(sp, onehot * start, sp.dense_shape * (1 - onehot) + onehot * size)
        out.append(_make(piece.indices, piece.values, piece.dense_shape, st))
    return out


@tf_export("sparse.expand_dims")
def expand_dims(sp_input, axis=None, name=None) -> SparseTensor:
    """Insert a dimension of size 1 at ``axis`` (the end by default)."""
    sp = _check(sp_input, "expand_dims")
    r = _rank(sp, "expand_dims")
    a = -1 if axis is None else _static_int(axis, "tf.sparse.expand_dims: axis")
    if not -(r + 1) <= a <= r:
        raise _err("SparseExpandDims", f"axis {a} is out of range for rank {r}: [{-(r + 1)}, {r}]")
    a %= r + 1
    zcol = zeros(stack([_count(sp.indices), np.int64(1)]), int64)
    ind = _concat([_cols(sp.indices, range(a)), zcol, _cols(sp.indices, range(a, r))], 1)
    ds = _concat(
        [
            gather(sp.dense_shape, np.arange(a, dtype=_i64)),
            convert_to_tensor(np.ones(1, _i64)),
            gather(sp.dense_shape, np.arange(a, r, dtype=_i64)),
        ],
        0,
    )
    static = None
    if sp.shape.rank is not None:
        d = sp.shape.as_list()
        static = d[:a] + [1] + d[a:]
    return _make(ind, sp.values, ds, static)


# --------------------------------------------------------------------------------------
# Counting and segments
# --------------------------------------------------------------------------------------


def _is_ragged(x) -> bool:
    return hasattr(x, "flat_values") and hasattr(x, "value_rowids") and hasattr(x, "nrows")


@tf_export("sparse.bincount")
def bincount(values, weights=None, axis=0, minlength=None, maxlength=None,
             binary_output=False, name=None) -> SparseTensor:  # fmt: skip
    """Counts of each non-negative integer in ``values`` as a SparseTensor: over all
    values (``axis=0``) or per row (``axis=-1``); dense, sparse or ragged input."""
    if axis is None:
        axis = 0
    if axis not in (0, -1):
        raise ValueError(
            f"Unsupported value for argument axis={axis}. Only 0 and -1 are currently supported."
        )
    if binary_output and weights is not None:
        raise ValueError(
            "Arguments `binary_output` and `weights` are mutually exclusive. Please specify "
            "only one."
        )
    dense2d = False
    if isinstance(values, SparseTensor):
        vals, rows, nrows = (
            values.values,
            reshape(_cols(values.indices, [0]), [-1]),
            gather(values.dense_shape, 0),
        )
    elif _is_ragged(values):
        vals, rows, nrows = (
            values.flat_values,
            cast(values.value_rowids(), int64),
            cast(values.nrows(), int64),
        )
    else:
        vals = convert_to_tensor(values)
        if axis == -1 and vals.shape.rank not in (1, 2):
            raise _err(
                "DenseBincount",
                f"Input must be a 1 or 2-dimensional tensor. Got: {list(vals.shape)}",
            )
        dense2d = axis == -1 and vals.shape.rank == 2
        rows, nrows = zeros([0], int64), zeros([], int64)
    if vals.dtype not in (_d.int32, _d.int64):
        raise _err("SparseBincount", f"values must be int32 or int64, got {vals.dtype.name}")
    two_d = dense2d or (axis == -1 and (isinstance(values, SparseTensor) or _is_ragged(values)))
    if weights is None:
        w = zeros([0], vals.dtype)
    else:
        w = (
            weights.values
            if isinstance(weights, SparseTensor)
            else (weights.flat_values if _is_ragged(weights) else convert_to_tensor(weights))
        )
        w = reshape(w, [-1])
    params = {
        "minlength": -1 if minlength is None else _static_int(minlength, "minlength"),
        "maxlength": -1 if maxlength is None else _static_int(maxlength, "maxlength"),
        "binary_output": bool(binary_output),
        "two_d": bool(two_d),
        "dense2d": dense2d,
    }
    ind, out, ds = bind(bincount_p, (vals, rows, _int64(nrows), w), params)
    return _make(ind, out, ds)


def _sparse_segment(kind, data, indices, segment_ids, num_segments):
    x = convert_to_tensor(data)
    if kind != "sum" and not x.dtype.is_floating:
        raise _err(f"SparseSegment{kind.capitalize()}", f"data must be float, got {x.dtype.name}")
    g = gather(x, indices)
    ids = convert_to_tensor(segment_ids)
    if num_segments is None:
        s = _segment_sum(g, ids)
        n = _segment_sum(ones(shape(ids), x.dtype), ids) if kind != "sum" else None
    else:
        s = unsorted_segment_sum(g, ids, num_segments)
        n = (
            unsorted_segment_sum(ones(shape(ids), x.dtype), ids, num_segments)
            if kind != "sum"
            else None
        )
    if n is None:
        return s
    n = _m.maximum(n, ones([], x.dtype))
    if kind == "sqrt_n":
        n = _u.sqrt(n)
    extra = (x.shape.rank or 1) - 1
    return s / reshape(n, [-1] + [1] * extra)


@tf_export("sparse.segment_sum")
def segment_sum(data, indices, segment_ids, num_segments=None, name=None, sparse_gradient=False):
    """Sum of ``data[indices]`` rows by (sorted) ``segment_ids``."""
    return _sparse_segment("sum", data, indices, segment_ids, num_segments)


@tf_export("sparse.segment_mean")
def segment_mean(data, indices, segment_ids, num_segments=None, name=None, sparse_gradient=False):
    """Mean of ``data[indices]`` rows by (sorted) ``segment_ids`` (empty segments give 0)."""
    return _sparse_segment("mean", data, indices, segment_ids, num_segments)


@tf_export("sparse.segment_sqrt_n")
def segment_sqrt_n(data, indices, segment_ids, num_segments=None, name=None, sparse_gradient=False):
    """Sum of ``data[indices]`` rows by segment, divided by sqrt(segment size)."""
    return _sparse_segment("sqrt_n", data, indices, segment_ids, num_segments)


@tf_export("sparse.mask")
def mask(a, mask_indices, name=None):
    """The IndexedSlices ``a`` without the slices whose index is in ``mask_indices``."""
    keep = bind(mask_keep_p, (convert_to_tensor(a.indices), convert_to_tensor(mask_indices)))
    cls = type(a) if isinstance(a, IndexedSlices) else IndexedSlices
    return cls(gather(a.values, keep), gather(a.indices, keep), a.dense_shape)


# --------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------


@tf_export("sparse.map_values")
def map_values(op, *args, **kwargs) -> SparseTensor:
    """``op`` applied to the ``values`` of the SparseTensor arguments (which must share
    their indices); other arguments are passed as they are."""
    sps = [x for x in nest.flatten([list(args), kwargs]) if isinstance(x, SparseTensor)]
    if not sps:
        raise ValueError("No SparseTensor in argument list of map_values")
    first = sps[0]
    for s in sps[1:]:
        a, b = static_value(first.indices), static_value(s.indices)
        same = first.indices is s.indices or (
            a is not None and b is not None and a.shape == b.shape and bool(np.all(a == b))
        )
        if not same and (a is not None and b is not None):
            raise _err("map_values", "Mismatched indices! The SparseTensors must share indices.")

    def unwrap(x):
        return x.values if isinstance(x, SparseTensor) else x

    new_args = nest.map_structure(unwrap, list(args))
    new_kwargs = {k: nest.map_structure(unwrap, v) for k, v in kwargs.items()}
    return first.with_values(op(*new_args, **new_kwargs))


@tf_export("sparse.eye")
def eye(num_rows, num_columns=None, dtype=_d.float32, name=None) -> SparseTensor:
    """A sparse ``[num_rows, num_columns]`` identity matrix."""
    n = _int64(num_rows)
    m = n if num_columns is None else _int64(num_columns)
    k = _m.minimum(n, m)
    d = _range(k, dtype=int64)
    ind = stack([d, d], axis=1)
    return _make(ind, ones(reshape(k, [1]), _d.as_dtype(dtype)), stack([n, m]))


def _cwise(sp: SparseTensor, other, kind: str) -> SparseTensor:
    """``sp * dense`` / ``sp / dense``: the dense side broadcasts into the sparse shape
    (never the other way), read only at the stored entries."""
    op = "SparseDenseCwiseMul" if kind == "mul" else "SparseDenseCwiseDiv"
    if isinstance(other, SparseTensor):
        raise ValueError(
            f"{op}: multiplying or dividing two SparseTensors elementwise is not supported; "
            f"use tf.sparse.map_values(tf.multiply, a, b) when they share indices."
        )
    d = convert_to_tensor(other, dtype=sp.dtype)
    r = _rank(sp, "mul")
    rd = d.shape.rank
    if rd is None:
        raise ValueError(f"{op}: the dense operand must have a known rank.")
    ss = sp.shape.as_list() if sp.shape.rank == r else [None] * r
    ok = rd <= r and all(
        x is None or y is None or y in (1, x) for x, y in zip(ss[r - rd :], d.shape.as_list())
    )
    if not ok:
        raise _err(
            op,
            f"SparseDenseBinaryOpShared broadcasts dense to sparse only; got incompatible "
            f"shapes: {ss} vs. {list(d.shape)}",
        )
    if rd == 0:
        g = d
    else:
        bmask = cast(_m.not_equal(shape(d, out_type=int64), np.int64(1)), int64)
        g = gather_nd(d, _cols(sp.indices, range(r - rd, r)) * bmask)
    vals = _m.multiply(sp.values, g) if kind == "mul" else _m.truediv(sp.values, g)
    return _make(sp.indices, vals, sp.dense_shape, sp.shape)


# tf.math ops with a SparseTensor argument ------------------------------------------------


@dispatch_for(_m.multiply, SparseTensor)
def _multiply_dispatch(x, y, name=None):
    return _cwise(x, y, "mul") if isinstance(x, SparseTensor) else _cwise(y, x, "mul")


@dispatch_for(_m.truediv, SparseTensor)
def _truediv_dispatch(x, y, name=None):
    if not isinstance(x, SparseTensor):
        raise TypeError("tf.math.truediv: a dense tensor cannot be divided by a SparseTensor.")
    return _cwise(x, y, "truediv")


def _unary(fn):
    def handler(x, name=None):
        return _check(x).with_values(fn(x.values))

    handler.__name__ = f"sparse_{getattr(fn, '__name__', 'op')}"
    return handler


# zero-preserving elementwise ops map over the stored values, as in TF
for _fn in (_u.abs, _m.negative, _u.sign, _u.sqrt, _u.square, _u.sin, _u.tan, _u.tanh,
            _u.asin, _u.asinh, _u.atan, _u.atanh, _u.erf):  # fmt: skip
    dispatch_for(_fn, SparseTensor)(_unary(_fn))
del _fn


@dispatch_for(cast, SparseTensor)
def _sparse_cast(x, dtype, name=None):
    """tf.cast of a SparseTensor casts its values (zeros stay zeros)."""
    return _check(x).with_values(cast(x.values, dtype))
