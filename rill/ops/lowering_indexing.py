"""Lowerings to JAX of the gathers, scatters, scans and segment reductions, whose NumPy
kernels check index values on the host, scatter with ``ufunc.at`` or use NumPy API that
``jax.numpy`` lacks. Each is a ``lowering=`` fact of its primitive; ``ctx`` is
``rill.xla``'s LoweringContext, so this module imports nothing from JAX itself.

Index values known when compiling (host constants) are checked as the kernels check them,
so an out-of-range one is the executor's error. A traced index cannot raise inside a
compiled computation; those follow TF's XLA kernels: a gather clamps each index into
range, a scatter (and a segment reduction, built on one) skips the updates whose index is
out of range, negative ones included.
"""

from __future__ import annotations

import math

import numpy as np

from rill.core.errors import NotLowerable
from rill.ops._op import InvalidArgumentError, op_error
from rill.ops.lowering_rules import _is_host, _static

__all__ = [
    "gather",
    "gather_grad",
    "gather_nd",
    "scatter_nd",
    "tensor_scatter",
    "scan",
    "unsorted_segment",
    "sorted_segment",
    "segment_gather",
    "put_along_axis",
    "dense_bincount",
]


def _index(ctx, idx):
    """Integer indices as int32 or int64 (JAX arrays): narrower or unsigned ones widened,
    so that clamping to a dim and moving an index past one cannot overflow."""
    dt = np.dtype(idx.dtype)
    want = dt if dt in (np.int32, np.int64) else np.dtype(np.int64)
    return ctx.jnp.asarray(idx, dtype=want)


def _dropped_if_negative(ctx, idx, n):
    """``idx`` with negative entries moved to ``n``: JAX's scatter wraps an index in
    [-n, 0) as NumPy does, while XLA's (TF's) drops it; ``mode="drop"`` drops ``n``."""
    return ctx.jnp.where(idx < 0, np.asarray(n, idx.dtype), idx)


def _known_int(v, what):
    """A host-known scalar integer (a count that fixes an output's shape)."""
    (n,) = _static(v, what)
    return n


# --------------------------------------------------------------------------------------
# gather
# --------------------------------------------------------------------------------------


def gather(ctx, params, indices, axis, batch_dims, _sparse_grad=False):
    """GatherV2. Constant indices are checked as the kernel checks them; traced ones are
    clamped into [0, params.shape[axis] - 1], as XLA's gather clamps (from an empty axis
    the result is zeros)."""
    from rill.ops.indexing_ops import _batched_gather_index, _check_range, _gather_check, _np_dtype

    jnp = ctx.jnp
    _gather_check("GatherV2", params.shape, indices.shape, axis, batch_dims, _np_dtype(indices))
    n = params.shape[axis]
    if _is_host(indices):
        _check_range(np, "GatherV2", indices, n)
    if n == 0:
        dims = (*params.shape[:axis], *indices.shape[batch_dims:], *params.shape[axis + 1 :])
        return jnp.zeros(dims, params.dtype)
    idx = jnp.clip(_index(ctx, indices), 0, n - 1)
    if batch_dims == 0:
        return jnp.take(params, idx, axis=axis, mode="clip")
    return jnp.asarray(params)[_batched_gather_index(jnp, params.shape, idx, axis, batch_dims)]


def gather_grad(ctx, dy, indices, sh, axis, batch_dims):
    """GatherV2Grad: ``dy`` scatter-added into zeros of the params' (static) shape; an
    out-of-range index adds nothing (TF's gather gradient is an unsorted segment sum,
    which drops them under XLA)."""
    from rill.ops.indexing_ops import _batched_gather_index

    jnp = ctx.jnp
    pdims = tuple(_static(sh, "GatherV2Grad's params shape"))
    dy = jnp.asarray(dy)
    idx = _dropped_if_negative(ctx, _index(ctx, indices), pdims[axis])
    if batch_dims:
        ix = _batched_gather_index(jnp, pdims, idx, axis, batch_dims)
        return jnp.zeros(pdims, dy.dtype).at[ix].add(dy, mode="drop")
    # the gathered axis first, then the other params dims: one row per index
    moved = (pdims[axis], *pdims[:axis], *pdims[axis + 1 :])
    ni = idx.ndim
    d = jnp.moveaxis(dy, tuple(range(axis, axis + ni)), tuple(range(ni)))
    d = jnp.reshape(d, (math.prod(idx.shape), *moved[1:]))
    out = jnp.zeros(moved, dy.dtype).at[jnp.reshape(idx, (-1,))].add(d, mode="drop")
    return jnp.moveaxis(out, 0, axis)


# --------------------------------------------------------------------------------------
# gather_nd / scatter_nd / tensor_scatter_nd_*
# --------------------------------------------------------------------------------------


def _nd_index_vectors(ctx, indices, b):
    """The index vectors as ``[N, K]`` (batch coordinates prepended), int32 or int64."""
    from rill.ops.indexing_ops import _with_batch_coords

    full = _with_batch_coords(ctx.jnp, _index(ctx, indices), b)
    return ctx.jnp.reshape(full, (math.prod(full.shape[:-1]), full.shape[-1]))


def _check_nd_host(op, indices, b, dims, target):
    """Constant index vectors: the kernel's range check (its error, as the executor's)."""
    from rill.ops.indexing_ops import _nd_flat, _with_batch_coords

    return _nd_flat(np, op, _with_batch_coords(np, indices, b), dims, target)


def gather_nd(ctx, params, indices, batch_dims):
    """GatherNd. Constant index vectors are checked as the kernel checks them; traced ones
    have each coordinate clamped into its dim, as XLA's gather clamps (from an empty
    params the result is zeros)."""
    from rill.ops.indexing_ops import _check_nd_lookups, _nd_check

    jnp = ctx.jnp
    out_dims = _nd_check("GatherNd", params.shape, indices.shape, batch_dims)
    if _is_host(indices):
        flat = _check_nd_host("GatherNd", indices, batch_dims, params.shape, "param shape")
        _check_nd_lookups(params.shape, flat.shape[0])
    if math.prod(params.shape) == 0:
        return jnp.zeros(out_dims, params.dtype)
    flat = _nd_index_vectors(ctx, indices, batch_dims)
    n, k = flat.shape
    p = jnp.asarray(params)
    if k == 0:
        g = jnp.broadcast_to(p, (n, *p.shape))
    else:
        hi = np.asarray(p.shape[:k], flat.dtype) - 1
        flat = jnp.clip(flat, 0, hi)
        g = p[tuple(flat[:, j] for j in range(k))]
    return jnp.reshape(g, out_dims)


def _scatter(ctx, op, base, indices, updates, b, mode):
    """``updates`` combined into ``base`` at the index vectors; an update whose vector is
    out of range in any coordinate is skipped (XLA's scatter)."""
    from rill.ops.indexing_ops import _nd_check, _scatter_updates_check

    jnp = ctx.jnp
    dims = tuple(base.shape)
    _nd_check(op, dims, indices.shape, b, "shape")
    _scatter_updates_check(op, dims, indices.shape, updates.shape, b, indices.shape[-1])
    if _is_host(indices):
        _check_nd_host(op, indices, b, dims, "shape")
    flat = _nd_index_vectors(ctx, indices, b)
    n, k = flat.shape
    upd = jnp.reshape(jnp.asarray(updates), (n, *dims[k:]))
    if k == 0:  # every update covers the whole tensor
        target, ix = base[None], (jnp.zeros((n,), flat.dtype),)
    else:
        target = base
        ix = tuple(_dropped_if_negative(ctx, flat[:, j], dims[j]) for j in range(k))
    ref = target.at[ix]
    if mode == "update":
        out = ref.set(upd, mode="drop")
    elif mode == "add" and base.dtype == np.bool_:
        out = ref.max(upd, mode="drop")  # a logical or, as the kernel combines booleans
    elif mode == "add":
        out = ref.add(upd, mode="drop")
    elif mode == "sub":
        out = ref.add(-upd, mode="drop")  # unsigned: the same wrap-around as subtracting
    else:
        out = getattr(ref, mode)(upd, mode="drop")  # max, min
    return out[0] if k == 0 else out


def scatter_nd(ctx, indices, updates, sh, batch_dims):
    """ScatterNd: ``updates`` added into zeros of the (static) shape; out-of-range index
    vectors are skipped, as XLA's scatter skips them (constant ones raise, as the kernel)."""
    dims = tuple(_static(sh, "ScatterNd's shape"))
    base = ctx.jnp.zeros(dims, np.dtype(updates.dtype))
    return _scatter(ctx, "ScatterNd", base, indices, updates, batch_dims, "add")


def tensor_scatter(op, mode):
    """The lowering of TensorScatter{Update,Add,Sub,Max,Min} (``mode``): out-of-range index
    vectors are skipped, as XLA's scatter skips them (constant ones raise, as the kernel).
    Duplicate indices of an update leave one of their values, in no promised order (TF's
    rule too)."""

    def lowering(ctx, t, indices, updates):
        if np.dtype(updates.dtype) != np.dtype(t.dtype):
            raise TypeError("dtype mismatch")  # the shape rule words the error
        return _scatter(ctx, op, ctx.jnp.asarray(t), indices, updates, 0, mode)

    return lowering


# --------------------------------------------------------------------------------------
# scans
# --------------------------------------------------------------------------------------

_SCANS = {  # kind -> (lax function name, the value an exclusive scan starts from)
    "sum": ("cumsum", 0),
    "prod": ("cumprod", 1),
    "logsumexp": ("cumlogsumexp", -np.inf),
}


def scan(kind):
    """The lowering of Cumsum, Cumprod or CumulativeLogsumexp (``kind``): the inclusive
    ``lax`` scan, shifted by one along the axis (the identity first) when exclusive."""
    name, identity = _SCANS[kind]

    def lowering(ctx, x, axis, exclusive, reverse):
        jnp, lax = ctx.jnp, ctx.lax
        x = jnp.asarray(x)
        ax = axis % x.ndim
        out = getattr(lax, name)(x, axis=ax, reverse=reverse)
        if exclusive:
            n = x.shape[ax]
            head = jnp.full_like(lax.slice_in_dim(out, 0, min(n, 1), axis=ax), identity)
            if reverse:
                parts = [lax.slice_in_dim(out, min(n, 1), n, axis=ax), head]
            else:
                parts = [head, lax.slice_in_dim(out, 0, max(n - 1, 0), axis=ax)]
            out = jnp.concatenate(parts, axis=ax)
        return out.astype(x.dtype)

    return lowering


# --------------------------------------------------------------------------------------
# segment reductions
# --------------------------------------------------------------------------------------

_AT = {"Sum": "add", "Prod": "mul", "Max": "max", "Min": "min"}


def _segment_reduce(ctx, kind, data, flat_ids, num, lead):
    """Rows of ``data`` (its first ``lead`` dims flattened) reduced into ``num`` segments
    by a scatter; ids outside [0, num) are dropped. Empty segments hold the kernel's
    identity (the dtype's extreme value for max and min)."""
    from rill.ops.reduction_ops import _SEG

    jnp = ctx.jnp
    data = jnp.asarray(data)
    rest = tuple(data.shape[lead:])
    d = jnp.reshape(data, (math.prod(data.shape[:lead]), *rest))
    ids = _dropped_if_negative(ctx, _index(ctx, flat_ids), num)
    init = jnp.full((num, *rest), _SEG[kind][1](np.dtype(data.dtype)), data.dtype)
    return getattr(init.at[ids], _AT[kind])(d, mode="drop")


def unsorted_segment(kind):
    """The lowering of UnsortedSegment{Sum,Max,Min,Prod} (``kind``). ``num_segments`` fixes
    the output's shape, so it must be known when compiling. Constant ids are checked as the
    kernel checks them; traced ids outside [0, num_segments) are dropped (negative ones, as
    the kernel drops them, and too large ones, as XLA's scatter drops them)."""
    op = "UnsortedSegment" + kind

    def lowering(ctx, data, ids, num_segments):
        from rill.ops.reduction_ops import _check_unsorted_ids, _unsorted_check

        _unsorted_check(op, data.shape, ids.shape, np.shape(num_segments))
        num = _known_int(num_segments, f"{op}'s num_segments")
        if _is_host(ids):
            _check_unsorted_ids(op, ids.reshape(-1), num)
        else:
            _check_unsorted_ids(op, np.zeros(0, np.int64), num)  # num_segments itself
        flat = ctx.jnp.reshape(ids, (-1,))
        return _segment_reduce(ctx, kind, data, flat, num, ids.ndim)

    return lowering


def sorted_segment(kind):
    """The lowering of Segment{Sum,Mean,Max,Min,Prod} (``kind``): its output has (last id +
    1) rows, a size XLA must know when compiling, so only segment ids known then (host
    constants, checked as the kernel checks them) lower; traced ids are ``NotLowerable``
    (tf.math.unsorted_segment_* with a constant num_segments lowers)."""
    op = "Segment" + kind

    def lowering(ctx, data, ids):
        from rill.ops.reduction_ops import _seg_ids_check

        if not _is_host(ids):
            raise NotLowerable(
                f"{op}'s output size is its last segment id + 1, so the ids must be known "
                f"when compiling; use tf.math.unsorted_segment_{kind.lower()} with a "
                f"constant num_segments"
            )
        if len(data.shape) == 0:
            raise op_error(InvalidArgumentError, op, "input must be at least rank 1")
        num = _seg_ids_check(op, ids, data.shape[0])
        jnp = ctx.jnp
        counts = np.bincount(ids.astype(np.intp), minlength=num)
        per_row = (num,) + (1,) * (len(data.shape) - 1)
        if kind == "Mean":
            s = _segment_reduce(ctx, "Sum", data, ids, num, 1)
            c = np.maximum(counts, 1).reshape(per_row)
            dt = np.dtype(data.dtype)
            if dt.kind == "i":  # truncated towards zero, as the kernel (and TF) divide
                return ((jnp.abs(s) // c) * jnp.sign(s)).astype(dt)
            if dt.kind == "u":
                return (s // c).astype(dt)
            return (s / c.astype(dt)).astype(dt)
        out = _segment_reduce(ctx, kind, data, ids, num, 1)
        if kind in ("Max", "Min") and num:  # empty segments give 0 in the sorted ops
            out = jnp.where((counts == 0).reshape(per_row), jnp.zeros((), out.dtype), out)
        return out

    return lowering


def segment_gather(ctx, params, ids):
    """SegmentGather (the segment reductions' gradient helper): ``params[ids]`` along
    axis 0, zeros where an id is outside [0, params.shape[0]) (negative ones, as the
    kernel; too large ones, whose entries the forward scatter dropped)."""
    jnp = ctx.jnp
    n = params.shape[0]
    dims = (*ids.shape, *params.shape[1:])
    if n == 0:
        return jnp.zeros(dims, params.dtype)
    idx = _index(ctx, ids)
    g = jnp.take(params, jnp.clip(idx, 0, n - 1), axis=0, mode="clip")
    keep = jnp.reshape((idx >= 0) & (idx < n), (*ids.shape, *(1,) * (len(params.shape) - 1)))
    return jnp.where(keep, g, jnp.zeros((), g.dtype))


# --------------------------------------------------------------------------------------
# put_along_axis, bincount
# --------------------------------------------------------------------------------------


def put_along_axis(ctx, u, idx, s, axis):
    """PutAlongAxis: ``u`` added into zeros of the (static) shape at ``idx`` along
    ``axis``. An index in [-n, 0) counts from the end, as in the kernel (NumPy's
    ``add.at``); one out of [-n, n) is skipped (XLA's scatter) where the kernel raises."""
    jnp = ctx.jnp
    dims = tuple(_static(s, "PutAlongAxis's shape"))
    idx = _index(ctx, idx)
    rank = idx.ndim
    grids = []
    for j, m in enumerate(idx.shape):
        if j == axis:
            grids.append(idx)
        else:
            grids.append(jnp.arange(m).reshape((1,) * j + (m,) + (1,) * (rank - j - 1)))
    return jnp.zeros(dims, np.dtype(u.dtype)).at[tuple(grids)].add(u, mode="drop")


def dense_bincount(ctx, arr, weights, minlength, maxlength, axis, binary_output):
    """DenseBincount. The output's length is max(arr) + 1 bounded by minlength and
    maxlength, which XLA must know when compiling: it lowers when ``arr`` is a host
    constant (checked as the kernel checks it), or when the bounds fix the length
    (minlength >= maxlength, as Keras' CategoryEncoding passes them). Traced values outside
    [0, length) are not counted (the kernel drops those above; XLA's scatter drops
    negative ones, which the kernel rejects)."""
    jnp = ctx.jnp
    if _is_host(arr):
        if arr.size and arr.min() < 0:
            raise op_error(InvalidArgumentError, "DenseBincount", "Input arr must be non-negative!")
        size = int(arr.max()) + 1 if arr.size else 0
        size = max(size, minlength) if minlength is not None else size
    elif maxlength is not None and (maxlength <= 0 or (minlength or 0) >= maxlength):
        size = maxlength
    else:
        raise NotLowerable(
            "DenseBincount's output length is max(arr) + 1, so arr must be known when "
            "compiling unless minlength >= maxlength fix it"
        )
    size = max(min(size, maxlength) if maxlength is not None else size, 0)
    wdt = np.dtype(weights.dtype)
    per_row = axis != 0 and len(arr.shape) > 1
    rows = arr.shape[0] if per_row else 1
    a = jnp.reshape(_index(ctx, arr), (rows, -1))
    # each row's values into its own block of ``size`` bins; any other value past them all
    flat = a + size * jnp.arange(rows, dtype=a.dtype)[:, None]
    flat = jnp.where((a >= 0) & (a < size), flat, rows * size)
    flat = jnp.reshape(flat, (-1,))
    nb = rows * size
    if binary_output or math.prod(weights.shape) == 0:
        counts = jnp.zeros((nb,), np.int64).at[flat].add(1, mode="drop")
        out = (counts > 0) if binary_output else counts
    else:
        # accumulated as the kernel accumulates (float64, complex128, exact integers)
        acc = wdt if wdt.kind in "iu" else np.result_type(wdt, np.float64)
        w = jnp.reshape(jnp.asarray(weights, dtype=acc), (-1,))
        out = jnp.zeros((nb,), acc).at[flat].add(w, mode="drop")
    out = out.astype(wdt)
    return jnp.reshape(out, (rows, size) if per_row else (size,))
