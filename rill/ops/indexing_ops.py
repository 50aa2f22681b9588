"""Indexing: ``Tensor.__getitem__``, slice, strided_slice, gather/scatter, where, boolean_mask.

Everything that slices goes through one ``StridedSlice`` primitive with TF's
begin/end/strides inputs and five bit masks (static params); its gradient is the
``StridedSliceGrad`` primitive, whose own gradient is ``StridedSlice`` again. Gather and
scatter gradients are dense, except gathering rows (axis 0), whose gradient is an
``IndexedSlices`` as in TF (the tape concatenates such gradients, densifies them where they
meet dense ones, and op gradient rules receive them dense).
"""

from __future__ import annotations

import builtins
import math
import numbers

import numpy as np

from rill.core import dispatch as _dispatch
from rill.core import dtypes as _d
from rill.core.interfaces import register_core_ops
from rill.core.tape import indexed_slices as _indexed_slices
from rill.core.tensor_shape import Dimension
from rill.ops import lowering_indexing as _lix
from rill.ops import lowering_rules as _lowering
from rill.ops._op import (
    AVal,
    EagerTensor,
    InvalidArgumentError,
    TensorShape,
    bind,
    convert_to_tensor,
    is_tensor_like,
    op_error,
    primitive,
    static_value,
    tf_export,
    wrap,
)
from rill.ops.array_ops import cast, ones_like, reshape, shape, stack, where_v2, zeros_like
from rill.ops.math_ops import add, equal, multiply, negative, realdiv

_pyslice = builtins.slice
_IAE = InvalidArgumentError
_INDEX_DTYPES = frozenset([_d.int16, _d.int32, _d.int64])
_SLICE_INDEX_DTYPES = frozenset([_d.int32, _d.int64])


def _check_index_dtype(op, dtype, what, allowed=_INDEX_DTYPES):
    if dtype not in allowed:
        ok = ", ".join(sorted(d.name for d in allowed))
        raise op_error(
            _IAE, op, f"{what} must be an integer tensor of dtype {ok}, got dtype {dtype.name}"
        )


def _dims(a):
    """Static dims held in an array (a shape tensor's value) as a tuple of Python ints."""
    return tuple(int(v) for v in a.reshape(-1))


def _ufunc_at(xp, name, target, ix, upd):
    """``target[ix] = name(target[ix], upd)`` in place, applied once per index even where
    ``ix`` (a tuple of integer index arrays) repeats one: NumPy's unbuffered ``ufunc.at``."""
    if xp is np:
        getattr(np, name).at(target, ix, upd)
        return
    # The array API has no unbuffered scatter: one element (or slice) at a time, in order.
    fn = getattr(xp, name)
    ix = xp.broadcast_arrays(*ix)
    rest = target.shape[len(ix) :]
    flat_ix = [a.reshape(-1) for a in ix]
    flat_upd = xp.broadcast_to(upd, ix[0].shape + rest).reshape((-1,) + rest)
    for n in range(flat_upd.shape[0]):
        key = tuple(int(a[n]) for a in flat_ix)
        target[key] = fn(target[key], flat_upd[n])


def _fmt(shape):
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


# --------------------------------------------------------------------------------------
# StridedSlice: the spec walk shared by the kernel, the shape rule and the gradient
# --------------------------------------------------------------------------------------

_MASK_NAMES = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")


def _dense_spec(rank, n, ellipsis_mask, new_axis_mask, shrink_axis_mask):
    """Map the ``n`` sparse spec entries onto the input's ``rank`` dims.

    Returns a list of ``(kind, dim, i)``: kind is "all" (a dim covered by the ellipsis),
    "new" (tf.newaxis), "index" (shrink the dim) or "range" (a strided range); ``dim`` is
    the input dim it applies to and ``i`` the sparse entry it comes from.
    """
    op = "StridedSlice"
    kinds = []
    n_ellipsis = 0
    for i in range(n):
        bit = 1 << i
        if ellipsis_mask & bit:
            n_ellipsis += 1
            kinds.append("ellipsis")
        elif new_axis_mask & bit:
            kinds.append("new")
        elif shrink_axis_mask & bit:
            kinds.append("index")
        else:
            kinds.append("range")
    if n_ellipsis > 1:
        raise op_error(_IAE, op, "Multiple ellipses in slice spec not allowed")
    if not n_ellipsis:
        kinds.append("ellipsis")  # an implicit trailing ellipsis covers the remaining dims
    fill = rank - sum(k in ("index", "range") for k in kinds)
    spec, dim = [], 0
    for i, k in enumerate(kinds):
        if k == "ellipsis":
            for _ in range(max(fill, 0)):
                spec.append(("all", dim, i))
                dim += 1
        elif k == "new":
            spec.append(("new", None, i))
        else:
            if dim >= rank:
                if rank == 0:
                    raise op_error(_IAE, op, "Attempting to slice scalar input.")
                raise op_error(
                    _IAE,
                    op,
                    f"Index out of range using input dim {dim}; input has only {rank} dims",
                )
            spec.append((k, dim, i))
            dim += 1
    return spec


def _walk(
    dims,
    n,
    begin,
    end,
    strides,
    begin_mask,
    end_mask,
    ellipsis_mask,
    new_axis_mask,
    shrink_axis_mask,
):
    """Resolve a strided-slice spec against input ``dims`` (entries may be None).

    ``begin``/``end``/``strides`` are integer arrays, or None when their values are unknown.
    Returns ``(key, out_dims)``: a NumPy basic-indexing key (meaningful only when all values
    are known) and the output dims (None where unknown).
    """
    op = "StridedSlice"
    spec = _dense_spec(len(dims), n, ellipsis_mask, new_axis_mask, shrink_axis_mask)
    known = begin is not None and end is not None and strides is not None
    key, out = [], []
    for kind, dim, i in spec:
        if kind == "all":
            key.append(_pyslice(None))
            out.append(dims[dim])
        elif kind == "new":
            key.append(None)
            out.append(1)
        elif not known:
            if kind == "range":
                out.append(None)
        else:
            s = int(strides[i])
            if s == 0:
                raise op_error(_IAE, op, f"strides[{i}] must be non-zero")
            size = dims[dim]
            if kind == "index":
                if s < 0:
                    raise op_error(_IAE, op, "only stride 1 allowed on non-range indexing.")
                b = int(begin[i])
                if size is not None and not -size <= b < size:
                    raise op_error(_IAE, op, f"slice index {b} of dimension {dim} out of bounds.")
                key.append(b)
            else:
                bit = 1 << i
                b = None if begin_mask & bit else int(begin[i])
                e = None if end_mask & bit else int(end[i])
                sl = _pyslice(b, e, s)
                key.append(sl)
                out.append(None if size is None else len(range(*sl.indices(size))))
    return tuple(key), out


def _check_bes(op, b, e, s):
    """begin, end and strides must be 1-D and of equal length; returns that length."""
    shapes = [x.shape for x in (b, e, s)]
    if (
        any(sh.rank not in (None, 1) for sh in shapes)
        or len({sh[0] for sh in shapes if sh.rank == 1 and sh[0] is not None}) > 1
    ):
        raise op_error(
            _IAE, op,
            "Expected begin, end, and strides to be 1D equal size tensors, but got shapes "
            f"{_fmt(shapes[0])}, {_fmt(shapes[1])}, and {_fmt(shapes[2])} instead.",
        )  # fmt: skip
    for x, what in ((b, "begin"), (e, "end"), (s, "strides")):
        _check_index_dtype(op, x.dtype, what)
    for sh in shapes:
        if sh.rank == 1 and sh[0] is not None:
            return sh[0]
    return None


def _ss_rule(x, b, e, s, **masks):
    n = _check_bes("StridedSlice", b, e, s)
    if x.rank is None or n is None:
        return AVal(TensorShape(None), x.dtype)
    _, out = _walk(x.shape.as_list(), n, b.value, e.value, s.value, **masks)
    return AVal(out, x.dtype)


def _ss_kernel(x, b, e, s, *, xp=np, **masks):
    if b.ndim != 1 or e.shape != b.shape or s.shape != b.shape or b.dtype.kind not in "iu":
        raise ValueError("invalid begin/end/strides")  # the shape rule words the error
    key, _ = _walk(x.shape, b.shape[0], b, e, s, **masks)
    return x[key + (Ellipsis,)]  # the trailing `...` keeps a full index an array, not a scalar


def _ss_grad(inputs, out, dy, **masks):
    x, b, e, s = inputs
    return bind(strided_slice_grad_p, (shape(x), b, e, s, dy), masks), None, None, None


# x is read only for its shape
strided_slice_p = primitive(
    "StridedSlice",
    _ss_kernel,
    _ss_rule,
    _ss_grad,
    saves=(1, 2, 3),
    saves_output=False,
    lowering=_lowering.strided_slice,
)


def _ssg_rule(sh, b, e, s, dy, **masks):
    _check_bes("StridedSliceGrad", b, e, s)
    if sh.value is not None:
        return AVal(list(_dims(sh.value)), dy.dtype)
    n = sh.shape[0] if sh.rank == 1 else None
    return AVal(TensorShape(None) if n is None else [None] * n, dy.dtype)


def _ssg_kernel(sh, b, e, s, dy, *, xp=np, **masks):
    dims = _dims(sh)
    key, _ = _walk(dims, b.shape[0], b, e, s, **masks)
    out = xp.zeros(dims, dtype=dy.dtype)
    out[key] = dy
    return out


strided_slice_grad_p = primitive(
    "StridedSliceGrad",
    _ssg_kernel,
    _ssg_rule,
    lambda inputs, out, ddy, **masks: (
        None, None, None, None, bind(strided_slice_p, (ddy,) + tuple(inputs[1:4]), masks)
    ),
    lowering=_lowering.strided_slice_grad,
)  # fmt: skip


def _masks(*masks):
    """The five mask params, in TF's order, as a params dict."""
    return dict(zip(_MASK_NAMES, (int(m) for m in masks)))


@tf_export("strided_slice")
def strided_slice(
    input_,
    begin,
    end,
    strides=None,
    begin_mask=0,
    end_mask=0,
    ellipsis_mask=0,
    new_axis_mask=0,
    shrink_axis_mask=0,
    var=None,
    name=None,
):
    """Strided slice with TF's bit masks (bit ``i`` of a mask refers to spec entry ``i``).

    ``begin_mask``/``end_mask``: ignore begin[i]/end[i] (use the full range);
    ``ellipsis_mask``: entry i is ``...``; ``new_axis_mask``: entry i inserts a size-1 dim;
    ``shrink_axis_mask``: entry i indexes (and removes) a dim at ``begin[i]``.
    """
    x = convert_to_tensor(input_)
    b = convert_to_tensor(begin, dtype_hint=_d.int32)
    e = _convert_like(end, b)
    s = ones_like(b) if strides is None else _convert_like(strides, b)
    if len({b.dtype, e.dtype, s.dtype}) > 1:
        raise op_error(
            _IAE, "StridedSlice",
            f"begin, end and strides must have the same dtype, got {b.dtype.name}, "
            f"{e.dtype.name} and {s.dtype.name}",
        )  # fmt: skip
    return bind(
        strided_slice_p,
        (x, b, e, s),
        _masks(begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask),
    )


def _convert_like(v, ref):
    """Convert an index argument, using ``ref``'s integer dtype for Python values."""
    if is_tensor_like(v):
        return convert_to_tensor(v)
    return convert_to_tensor(v, dtype_hint=ref.dtype if ref.dtype.is_integer else _d.int32)


# --------------------------------------------------------------------------------------
# Tensor.__getitem__
# --------------------------------------------------------------------------------------

_INDEX_ERROR = (
    "Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar "
    "tf.int32/tf.int64 tensors are valid indices, got {!r}"
)


def _index_value(idx):
    """A valid index as a Python int (when its value is known) or a scalar int tensor."""
    if isinstance(idx, numbers.Integral):
        if isinstance(idx, bool):
            raise op_error(
                _IAE, "StridedSlice",
                f"a Python bool ({idx}) is not a valid index inside a slice spec; index "
                "dtypes must be int16, int32 or int64 (a bool tensor on its own is a mask)",
            )  # fmt: skip
        return int(idx)
    if isinstance(idx, Dimension) and idx.value is not None:
        return int(idx.value)
    dtype = getattr(idx, "dtype", None)
    if dtype is None:
        raise TypeError(_INDEX_ERROR.format(idx))
    try:
        dt = _d.as_dtype(dtype)
    except (TypeError, ValueError):
        raise TypeError(_INDEX_ERROR.format(idx)) from None
    rank = np.ndim(idx) if isinstance(idx, np.ndarray) else idx.shape.rank
    if dt not in _SLICE_INDEX_DTYPES or rank not in (0, None):
        raise TypeError(_INDEX_ERROR.format(idx))
    v = static_value(idx)
    if v is not None:
        return int(v)
    return idx  # a symbolic scalar tensor


def _is_bool_mask(key):
    if isinstance(key, bool):
        return True
    if isinstance(key, np.ndarray):
        return key.dtype == np.bool_
    return is_tensor_like(key) and key.dtype is _d.bool


def _pack_indices(vals):
    """Pack index values (ints and scalar int tensors) into one 1-D int tensor."""
    if all(type(v) is int for v in vals):
        lo, hi = (min(vals), max(vals)) if vals else (0, 0)
        dt = np.int32 if -(2**31) <= lo and hi < 2**31 else np.int64
        return wrap(np.array(vals, dtype=dt))
    dt = _d.int64 if any(not isinstance(v, int) and v.dtype is _d.int64 for v in vals) else _d.int32
    ts = [convert_to_tensor(v, dtype=dt) if isinstance(v, int) else cast(v, dt) for v in vals]
    return stack(ts)


def getitem(tensor, key):
    """``tensor[key]`` with TF's rules: ints, slices, ``...``, ``tf.newaxis``, scalar int
    tensors; a boolean tensor/array key is a mask (``tf.boolean_mask``)."""
    if _is_bool_mask(key):
        return boolean_mask(tensor, key)
    if not isinstance(key, (tuple, list)):
        key = (key,)
    begin, end, strides = [], [], []
    bm = em = elm = nm = sm = 0
    for i, k in enumerate(key):
        bit = 1 << i
        if isinstance(k, _pyslice):
            if k.start is None:
                begin.append(0)
                bm |= bit
            else:
                begin.append(_index_value(k.start))
            if k.stop is None:
                end.append(0)
                em |= bit
            else:
                end.append(_index_value(k.stop))
            strides.append(1 if k.step is None else _index_value(k.step))
        elif k is Ellipsis:
            begin.append(0), end.append(0), strides.append(1)
            elm |= bit
        elif k is None:
            begin.append(0), end.append(0), strides.append(1)
            nm |= bit
        else:
            v = _index_value(k)
            begin.append(v)
            end.append(v + 1 if type(v) is int else v)  # the end of a shrunk dim is unused
            strides.append(1)
            sm |= bit
    x = convert_to_tensor(tensor)
    params = {
        "begin_mask": bm,
        "end_mask": em,
        "ellipsis_mask": elm,
        "new_axis_mask": nm,
        "shrink_axis_mask": sm,
    }
    if (
        not _dispatch._slow
        and type(x) is EagerTensor
        and all(type(v) is int for v in begin + end + strides)
    ):
        # eager fast path (no tape, no tracing): same spec walk and errors, no index tensors
        a = x._value
        np_key, _ = _walk(a.shape, len(begin), begin, end, strides, **params)
        return wrap(a[np_key + (Ellipsis,)], x._dtype)  # `...`: an array, never a scalar
    ins = (x, _pack_indices(begin), _pack_indices(end), _pack_indices(strides))
    if len({t.dtype for t in ins[1:]}) > 1:
        ins = (x,) + tuple(cast(t, _d.int64) for t in ins[1:])
    return bind(strided_slice_p, ins, params)


# --------------------------------------------------------------------------------------
# tf.slice
# --------------------------------------------------------------------------------------


def _slice_check(dims, b, sz, bshape, sshape):
    """Validate tf.slice arguments; returns the output dims (None where unknown)."""
    op = "Slice"
    r = len(dims)
    if (
        bshape.rank not in (None, 1)
        or sshape.rank not in (None, 1)
        or any(sh.rank == 1 and sh[0] is not None and sh[0] != r for sh in (bshape, sshape))
    ):
        raise op_error(
            _IAE, op,
            f"Expected begin and size arguments to be 1-D tensors of size {r}, but got shapes "
            f"{_fmt(bshape)} and {_fmt(sshape)} instead.",
        )  # fmt: skip
    out = []
    for i, n in enumerate(dims):
        bi = None if b is None else int(b[i])
        si = None if sz is None else int(sz[i])
        if bi is not None and n is not None and not 0 <= bi <= n:
            raise op_error(_IAE, op, f"Expected begin[{i}] in [0, {n}], but got {bi}")
        if si == -1:
            out.append(None if bi is None or n is None else n - bi)
            continue
        if si is not None and bi is not None and n is not None and not 0 <= si <= n - bi:
            raise op_error(_IAE, op, f"Expected size[{i}] in [0, {n - bi}], but got {si}")
        if si is not None and si < 0:
            raise op_error(_IAE, op, f"Expected size[{i}] to be -1 or non-negative, but got {si}")
        out.append(si)
    return out


def _slice_rule(x, b, sz):
    _check_index_dtype("Slice", b.dtype, "begin", _SLICE_INDEX_DTYPES)
    _check_index_dtype("Slice", sz.dtype, "size", _SLICE_INDEX_DTYPES)
    if x.rank is None:
        return AVal(TensorShape(None), x.dtype)
    return AVal(_slice_check(x.shape.as_list(), b.value, sz.value, b.shape, sz.shape), x.dtype)


def _slice_kernel(x, b, sz, xp=np):
    out = _slice_check(x.shape, b, sz, TensorShape(b.shape), TensorShape(sz.shape))
    key = tuple(_pyslice(int(bi), int(bi) + n) for bi, n in zip(b, out))
    return x[key + (Ellipsis,)]  # `...`: a 0-d input stays an array, not a scalar


def _slice_grad(inputs, out, dy):
    x, b, sz = inputs
    sh = shape(x, out_type=b.dtype)
    end = where_v2(equal(sz, -1), sh, add(b, sz))
    return (
        bind(strided_slice_grad_p, (sh, b, end, ones_like(b), dy), _masks(0, 0, 0, 0, 0)),
        None,
        None,
    )


slice_p = primitive("Slice", _slice_kernel, _slice_rule, _slice_grad, lowering=_lowering.slice_op)


@tf_export("slice")
def slice(input_, begin, size, name=None):  # noqa: A001 - TF's public name
    """Extract ``size[i]`` elements from ``begin[i]`` along each dim (size -1: to the end)."""
    x = convert_to_tensor(input_)
    b = convert_to_tensor(begin, dtype_hint=_d.int32)
    sz = _convert_like(size, b)
    _check_index_dtype("Slice", b.dtype, "begin", _SLICE_INDEX_DTYPES)
    _check_index_dtype("Slice", sz.dtype, "size", _SLICE_INDEX_DTYPES)
    if b.dtype is not sz.dtype:
        b, sz = cast(b, _d.int64), cast(sz, _d.int64)
    return bind(slice_p, (x, b, sz))


# --------------------------------------------------------------------------------------
# gather
# --------------------------------------------------------------------------------------


def _gather_check(op, pdims, idims, axis, batch_dims, idtype):
    """Shape checks for GatherV2; returns the output dims (None where unknown)."""
    _check_index_dtype(op, idtype, "indices")
    if pdims is None or idims is None:
        return None
    if len(pdims) < axis + 1:
        raise op_error(_IAE, op, f"Shape must be at least rank {axis + 1} but is rank {len(pdims)}")
    if batch_dims > axis:
        raise op_error(
            _IAE, op, f"batch_dims ({batch_dims}) must be less than or equal to axis ({axis})."
        )
    if batch_dims > len(idims):
        raise op_error(
            _IAE,
            op,
            f"Expected batch_dims in the range [{-len(idims)}, {len(idims)}], but got {batch_dims}",
        )
    for j in range(batch_dims):
        p, q = pdims[j], idims[j]
        if p is not None and q is not None and p != q:
            raise op_error(
                _IAE, op, f"params.shape[{j}]: {p} should be equal to indices.shape[{j}]: {q}"
            )
    return list(pdims[:axis]) + list(idims[batch_dims:]) + list(pdims[axis + 1 :])


def _gather_rule(params, indices, axis, batch_dims, _sparse_grad=False):
    pd = None if params.rank is None else params.shape.as_list()
    idd = None if indices.rank is None else indices.shape.as_list()
    out = _gather_check("GatherV2", pd, idd, axis, batch_dims, indices.dtype)
    return AVal(TensorShape(out), params.dtype)


def _check_range(xp, op, indices, n):
    bad = (indices < 0) | (indices >= n)
    if bad.any():
        pos = tuple(int(p) for p in xp.argwhere(bad)[0]) if indices.ndim else ()
        where = "[" + ",".join(map(str, pos)) + "]" if pos else ""
        raise op_error(_IAE, op, f"indices{where} = {indices[pos]} is not in [0, {n})")


def _batched_gather_index(xp, pdims, indices, axis, b):
    """Advanced-index tuple selecting ``params[b..., pre..., indices[b..., i...], post...]``."""
    pre, post = pdims[b:axis], pdims[axis + 1 :]
    ni = indices.ndim - b
    rank = b + len(pre) + ni + len(post)

    def arange_along(n, pos):
        sh = [1] * rank
        sh[pos] = n
        return xp.arange(n).reshape(sh)

    idx = [arange_along(pdims[j], j) for j in range(b)]
    idx += [arange_along(n, b + j) for j, n in enumerate(pre)]
    idx.append(
        indices.reshape(indices.shape[:b] + (1,) * len(pre) + indices.shape[b:] + (1,) * len(post))
    )
    idx += [arange_along(n, b + len(pre) + ni + k) for k, n in enumerate(post)]
    return tuple(idx)


def _gather_kernel(params, indices, axis, batch_dims, _sparse_grad=False, xp=np):
    _gather_check("GatherV2", params.shape, indices.shape, axis, batch_dims, _np_dtype(indices))
    _check_range(xp, "GatherV2", indices, params.shape[axis])
    if batch_dims == 0:
        return xp.take(params, indices, axis=axis)
    return params[_batched_gather_index(xp, params.shape, indices, axis, batch_dims)]


def _np_dtype(a):
    try:
        return _d.as_dtype(a.dtype)
    except (TypeError, ValueError):
        return _d.string


def _gather_grad(inputs, out, dy, axis, batch_dims, _sparse_grad=False):
    """Gathering rows (axis 0, no batch dims) through ``tf.gather`` or from a variable has
    an ``IndexedSlices`` gradient, as in TF (``_sparse_grad``): the upstream rows with the
    flattened indices, over the params' int32 shape. Other gathers (rill's composite ops
    that are single kernels with dense gradients in TF) scatter-add into a dense one."""
    params, indices = inputs
    if not _sparse_grad or axis != 0 or batch_dims != 0:
        return (
            bind(
                gather_grad_p,
                (dy, indices, shape(params)),
                {"axis": axis, "batch_dims": batch_dims},
            ),
            None,
        )
    from rill.ops.shape_ops import concat, size

    dense_shape = shape(params, out_type=_d.int32)
    n = reshape(size(indices, out_type=_d.int32), [1])
    values = reshape(dy, concat([n, dense_shape[1:]], 0))
    return _indexed_slices(values, reshape(indices, [-1]), dense_shape), None


gather_p = primitive(
    "GatherV2",
    _gather_kernel,
    _gather_rule,
    _gather_grad,
    saves=(1,),  # params only for its shape
    saves_output=False,
    lowering=_lix.gather,
)


def _gather_grad_kernel(dy, indices, sh, axis, batch_dims, xp=np):
    pdims = _dims(sh)
    out = xp.zeros(pdims, dtype=dy.dtype)
    if batch_dims == 0:
        om = xp.moveaxis(out, axis, 0)  # a view: (gathered axis, other dims...)
        ni = indices.ndim
        d = xp.moveaxis(dy, tuple(range(axis, axis + ni)), tuple(range(ni)))
        _ufunc_at(xp, "add", om, (indices.reshape(-1),), d.reshape((-1,) + om.shape[1:]))
    else:
        _ufunc_at(xp, "add", out, _batched_gather_index(xp, pdims, indices, axis, batch_dims), dy)
    return out


def _gather_grad_rule(dy, indices, sh, axis, batch_dims):
    if sh.value is not None:
        return AVal(list(_dims(sh.value)), dy.dtype)
    n = sh.shape[0] if sh.rank == 1 else None
    return AVal(TensorShape(None) if n is None else [None] * n, dy.dtype)


# Scatter-add of a gather's upstream gradient into zeros of the params' shape (TF computes
# the same sum with UnsortedSegmentSum and returns it as IndexedSlices).
gather_grad_p = primitive(
    "GatherV2Grad",
    _gather_grad_kernel,
    _gather_grad_rule,
    lambda inputs, out, ddy, axis, batch_dims: (
        bind(gather_p, (ddy, inputs[1]), {"axis": axis, "batch_dims": batch_dims}),
        None,
        None,
    ),
    lowering=_lix.gather_grad,
)


def _static_int(v, what):
    if isinstance(v, (str, bytes)):  # int() would leak its own ValueError
        raise TypeError(f"Expected int for argument '{what}' not {v!r}.")
    sv = static_value(v)
    if sv is None or np.ndim(sv) != 0:
        raise ValueError(f"gather: {what} must be a static scalar integer, got {v!r}")
    return int(sv)


def _gather(params, indices, axis, batch_dims, sparse_grad):
    """Gather slices of ``params`` along ``axis`` at ``indices`` (out-of-range indices raise).

    Output shape: ``params.shape[:axis] + indices.shape[batch_dims:] + params.shape[axis+1:]``.
    ``axis`` defaults to ``batch_dims``. With ``sparse_grad``, gathering rows has an
    ``IndexedSlices`` gradient.
    """
    p = convert_to_tensor(params)
    idx = convert_to_tensor(indices)
    _check_index_dtype("GatherV2", idx.dtype, "indices")
    batch_dims = _static_int(batch_dims, "batch_dims")
    if batch_dims < 0:
        ri = idx.shape.rank
        if ri is None:
            raise ValueError("gather: a negative batch_dims needs indices of known rank")
        if batch_dims < -ri:
            raise op_error(
                _IAE,
                "GatherV2",
                f"Expected batch_dims in the range [{-ri}, {ri}], but got {batch_dims}",
            )
        batch_dims += ri
    if axis is not None and np.asarray(static_value(axis)).dtype.kind not in "iu":
        # TF's axis input takes only int32/int64: a float is rejected, never truncated
        raise op_error(_IAE, "GatherV2", f"`axis` must be int32 or int64, got {axis!r}")
    axis = batch_dims if axis is None else _static_int(axis, "axis")
    if axis < 0:
        r = p.shape.rank
        if r is None:
            raise ValueError("gather: a negative axis needs params of known rank")
        if axis < -r:
            raise op_error(
                _IAE, "GatherV2", f"Expected axis in the range [{-r}, {r}), but got {axis}"
            )
        axis += r
    attrs = {"axis": axis, "batch_dims": batch_dims}
    if sparse_grad and axis == 0 and batch_dims == 0:
        attrs["_sparse_grad"] = True
    return bind(gather_p, (p, idx), attrs)


@tf_export("gather")
def _gather_v2(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    """Gather slices of ``params`` along ``axis`` at ``indices``; the gradient of gathered
    rows (axis 0) is an ``IndexedSlices``, as in TF."""
    return _gather(params, indices, axis, batch_dims, True)


_gather_v2.__name__ = _gather_v2.__qualname__ = "gather"


def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    """``tf.gather`` as rill's own ops use it: the gradient is an ``IndexedSlices`` for
    rows of a variable (TF's ResourceGather), dense otherwise (rill composes with gather
    several ops TF runs as single kernels with dense gradients)."""
    return _gather(params, indices, axis, batch_dims, getattr(params, "_rill_variable", False))


# --------------------------------------------------------------------------------------
# gather_nd / scatter_nd
# --------------------------------------------------------------------------------------


def _check_nd_lookups(params_shape, n_lookups):
    """TF refuses any GatherNd lookup into an empty params, even of a zero-depth index."""
    if math.prod(params_shape) == 0 and n_lookups > 0:
        raise op_error(
            _IAE, "GatherNd",
            f"Requested more than 0 entries, but params is empty. Params shape: "
            f"{list(params_shape)}",
        )  # fmt: skip


def _with_batch_coords(xp, indices, b):
    """Prepend the batch coordinates to each index vector (turns batch_dims=b into 0)."""
    if b == 0:
        return indices
    bd, inner = indices.shape[:b], indices.shape[b:-1]
    grid = xp.moveaxis(xp.indices(bd, dtype=indices.dtype), 0, -1)
    grid = xp.broadcast_to(grid.reshape(bd + (1,) * len(inner) + (b,)), bd + inner + (b,))
    return xp.concat([grid, indices], axis=-1)


def _nd_check(op, pdims, idims, b, target="param shape"):
    """Common GatherNd/ScatterNd checks; returns the output dims or None when unknown."""
    if idims is None or pdims is None:
        return None
    if len(idims) < 1:
        raise op_error(_IAE, op, "indices must be at least a vector")
    if b >= len(idims):
        raise op_error(
            _IAE, op, f"batch_dims ({b}) must be less than the rank of indices ({len(idims)})"
        )
    k = idims[-1]
    if k is None:
        return None
    if b + k > len(pdims):
        raise op_error(
            _IAE, op,
            f"index innermost dimension length must be <= {'params' if target == 'param shape' else 'output'} "
            f"rank; saw: {b + k} vs. {len(pdims)}",
        )  # fmt: skip
    for j in range(b):
        p, q = pdims[j], idims[j]
        if p is not None and q is not None and p != q:
            raise op_error(
                _IAE, op, f"batch dimension {j} of params ({p}) and indices ({q}) must be equal"
            )
    return list(idims[:-1]) + list(pdims[b + k :])


def _nd_flat(xp, op, full, dims, target):
    """Flatten index vectors to ``[N, K]`` and check that each indexes into ``dims``."""
    k = full.shape[-1]
    flat = full.reshape(math.prod(full.shape[:-1]), k)
    bad = ((flat < 0) | (flat >= xp.asarray(dims[:k], dtype=np.int64))).any(axis=1)
    if bad.any():
        n = int(xp.argmax(bad))
        pos = np.unravel_index(n, full.shape[:-1])  # Python ints in, host ints out
        where = ",".join(str(int(p)) for p in pos)
        vec = ", ".join(str(int(v)) for v in flat[n])
        raise op_error(
            _IAE,
            op,
            f"indices[{where}] = [{vec}] does not index into {target} [{','.join(map(str, dims))}]",
        )
    return flat


def _gather_nd_rule(params, indices, batch_dims):
    _check_index_dtype("GatherNd", indices.dtype, "indices")
    pd = None if params.rank is None else params.shape.as_list()
    idd = None if indices.rank is None else indices.shape.as_list()
    return AVal(TensorShape(_nd_check("GatherNd", pd, idd, batch_dims)), params.dtype)


def _gather_nd_kernel(params, indices, batch_dims, xp=np):
    _check_index_dtype("GatherNd", _np_dtype(indices), "indices")
    out_dims = _nd_check("GatherNd", params.shape, indices.shape, batch_dims)
    full = _with_batch_coords(xp, indices, batch_dims)
    flat = _nd_flat(xp, "GatherNd", full, params.shape, "param shape")
    k = flat.shape[1]
    _check_nd_lookups(params.shape, flat.shape[0])
    if k == 0:
        g = xp.broadcast_to(params, (flat.shape[0],) + params.shape)
    else:
        g = params[tuple(flat.T)]
    return xp.ascontiguousarray(g).reshape(out_dims)


gather_nd_p = primitive(
    "GatherNd",
    _gather_nd_kernel,
    _gather_nd_rule,
    lambda inputs, out, dy, batch_dims: (
        bind(
            scatter_nd_p,
            (inputs[1], dy, shape(inputs[0], out_type=inputs[1].dtype)),
            {"batch_dims": batch_dims},
        ),
        None,
    ),
    lowering=_lix.gather_nd,
)


@tf_export("gather_nd")
def gather_nd(params, indices, batch_dims=0, name=None):
    """Gather slices of ``params`` addressed by the index vectors in ``indices[..., :]``.

    Output shape: ``indices.shape[:-1] + params.shape[batch_dims + indices.shape[-1]:]``.
    """
    p = convert_to_tensor(params)
    idx = convert_to_tensor(indices)
    _check_index_dtype("GatherNd", idx.dtype, "indices")
    b = _static_int(batch_dims, "batch_dims")
    if b < 0:
        raise op_error(_IAE, "GatherNd", f"batch_dims must be non-negative, got {b}")
    return bind(gather_nd_p, (p, idx), {"batch_dims": b})


def _scatter_updates_check(op, out_dims, idims, udims, b, k):
    """updates must have shape indices.shape[:-1] + out_dims[b + k:]."""
    if out_dims is None or idims is None or udims is None or k is None:
        return
    want = list(idims[:-1]) + list(out_dims[b + k :])
    ok = len(want) == len(udims) and all(
        w is None or u is None or w == u for w, u in zip(want, udims)
    )
    if not ok:
        raise op_error(
            _IAE, op,
            f"updates has shape {_fmt(udims)} but indices of shape {_fmt(idims)} into a tensor of "
            f"shape {_fmt(out_dims)} need updates of shape indices.shape[:-1] + "
            f"shape[{b + k}:] = {_fmt(want)}",
        )  # fmt: skip


def _scatter_nd_rule(indices, updates, sh, batch_dims):
    _check_index_dtype("ScatterNd", indices.dtype, "indices")
    _check_index_dtype("ScatterNd", sh.dtype, "shape")
    if sh.value is not None:
        dims = list(_dims(sh.value))
    else:
        n = sh.shape[0] if sh.rank == 1 else None
        return AVal(TensorShape(None) if n is None else [None] * n, updates.dtype)
    idd = None if indices.rank is None else indices.shape.as_list()
    ud = None if updates.rank is None else updates.shape.as_list()
    _nd_check("ScatterNd", dims, idd, batch_dims, "shape")
    _scatter_updates_check("ScatterNd", dims, idd, ud, batch_dims, None if idd is None else idd[-1])
    return AVal(dims, updates.dtype)


_SCATTER_UFUNC = {"add": "add", "sub": "subtract", "max": "maximum", "min": "minimum"}


def _scatter_into(xp, op, out, indices, updates, b, mode):
    """Combine ``updates`` into ``out`` (modified in place) at ``indices``."""
    dims = out.shape
    _nd_check(op, dims, indices.shape, b, "shape")
    _scatter_updates_check(op, dims, indices.shape, updates.shape, b, indices.shape[-1])
    full = _with_batch_coords(xp, indices, b)
    flat = _nd_flat(xp, op, full, dims, "shape")
    k = flat.shape[1]
    upd = updates.reshape((flat.shape[0],) + dims[k:])
    target = out[None] if k == 0 else out  # k == 0: every update hits the whole tensor
    ix = (xp.zeros(flat.shape[0], dtype=np.intp),) if k == 0 else tuple(flat.T)
    if mode == "update":
        target[ix] = upd
    else:
        name = _SCATTER_UFUNC[mode]
        if out.dtype == np.bool_ and mode == "add":
            name = "logical_or"
        _ufunc_at(xp, name, target, ix, upd)
    return out


def _scatter_nd_kernel(indices, updates, sh, batch_dims, xp=np):
    _check_index_dtype("ScatterNd", _np_dtype(indices), "indices")
    if updates.dtype == object:  # strings: TF starts from b"" and concatenates duplicates
        out = np.full(_dims(sh), b"", dtype=object)
    else:
        out = xp.zeros(_dims(sh), dtype=updates.dtype)
    return _scatter_into(xp, "ScatterNd", out, indices, updates, batch_dims, "add")


scatter_nd_p = primitive(
    "ScatterNd",
    _scatter_nd_kernel,
    _scatter_nd_rule,
    lambda inputs, out, dy, batch_dims: (
        None,
        bind(gather_nd_p, (dy, inputs[0]), {"batch_dims": batch_dims}),
        None,
    ),
    lowering=_lix.scatter_nd,
)


@tf_export("scatter_nd")
def scatter_nd(indices, updates, shape, name=None):
    """A zero tensor of ``shape`` with ``updates`` added at ``indices`` (duplicates add)."""
    idx = convert_to_tensor(indices)
    _check_index_dtype("ScatterNd", idx.dtype, "indices")
    u = convert_to_tensor(updates)
    if u.shape.rank == 0:  # TF's ScatterNd takes no scalar updates, even for a full index
        raise op_error(_IAE, "ScatterNd", "Updates shape must have rank at least one. Found:[]")
    sh = (
        convert_to_tensor(shape)
        if is_tensor_like(shape)
        else convert_to_tensor(shape, dtype=idx.dtype)
    )
    return bind(scatter_nd_p, (idx, u, sh), {"batch_dims": 0})


# --------------------------------------------------------------------------------------
# tensor_scatter_nd_*
# --------------------------------------------------------------------------------------


def _tsc_rule(op):
    def rule(t, indices, updates):
        _check_index_dtype(op, indices.dtype, "indices")
        if updates.dtype is not t.dtype:
            raise op_error(
                _IAE, op,
                f"updates must have the tensor's dtype {t.dtype.name}, got {updates.dtype.name}",
            )  # fmt: skip
        td = None if t.rank is None else t.shape.as_list()
        idd = None if indices.rank is None else indices.shape.as_list()
        ud = None if updates.rank is None else updates.shape.as_list()
        _nd_check(op, td, idd, 0, "shape")
        _scatter_updates_check(op, td, idd, ud, 0, None if idd is None else idd[-1])
        return AVal(t.shape, t.dtype)

    return rule


def _tsc_kernel(op, mode):
    def kernel(t, indices, updates, xp=np):
        if updates.dtype != t.dtype:
            raise TypeError("dtype mismatch")  # the shape rule words the error
        return _scatter_into(xp, op, t.copy(), indices, updates, 0, mode)

    return kernel


def _tsc_update_grad(inputs, out, dy):
    t, idx, u = inputs
    return tensor_scatter_nd_update(dy, idx, zeros_like(u)), None, gather_nd(dy, idx)


def _tsc_add_grad(inputs, out, dy):
    return dy, None, gather_nd(dy, inputs[1])


def _tsc_sub_grad(inputs, out, dy):
    return dy, None, negative(gather_nd(dy, inputs[1]))


def _tsc_minmax_grad(inputs, out, dy):
    """Like TF: the gradient is split evenly between the tensor value and updates that tie
    for the selected extreme."""
    t, idx, u = inputs
    t_sel = cast(equal(t, out), dy.dtype)
    u_sel = cast(equal(u, gather_nd(out, idx)), dy.dtype)
    count = add(scatter_nd(idx, u_sel, shape(t, out_type=idx.dtype)), t_sel)
    g = realdiv(dy, count)
    return multiply(g, t_sel), None, multiply(gather_nd(g, idx), u_sel)


_TSC = {}
for _name, _mode, _grad, _dts in (
    ("TensorScatterUpdate", "update", _tsc_update_grad, None),
    ("TensorScatterAdd", "add", _tsc_add_grad, _d.NUMERIC | {_d.bool}),
    ("TensorScatterSub", "sub", _tsc_sub_grad, _d.NUMERIC),
    ("TensorScatterMax", "max", _tsc_minmax_grad, _d.REAL),
    ("TensorScatterMin", "min", _tsc_minmax_grad, _d.REAL),
):
    _TSC[_mode] = primitive(
        _name,
        _tsc_kernel(_name, _mode),
        _tsc_rule(_name),
        _grad,
        dtypes=_dts,
        n_typed=1,
        lowering=_lix.tensor_scatter(_name, _mode),
    )


def _tsc(mode, tensor, indices, updates):
    t = convert_to_tensor(tensor)
    idx = convert_to_tensor(indices)
    u = (
        convert_to_tensor(updates)
        if is_tensor_like(updates)
        else convert_to_tensor(updates, dtype=t.dtype)
    )
    return bind(_TSC[mode], (t, idx, u))


@tf_export("tensor_scatter_nd_update")
def tensor_scatter_nd_update(tensor, indices, updates, name=None):
    """A copy of ``tensor`` with the slices at ``indices`` replaced by ``updates``."""
    return _tsc("update", tensor, indices, updates)


@tf_export("tensor_scatter_nd_add")
def tensor_scatter_nd_add(tensor, indices, updates, name=None):
    """A copy of ``tensor`` with ``updates`` added at ``indices`` (duplicates add)."""
    return _tsc("add", tensor, indices, updates)


@tf_export("tensor_scatter_nd_sub")
def tensor_scatter_nd_sub(tensor, indices, updates, name=None):
    """A copy of ``tensor`` with ``updates`` subtracted at ``indices``."""
    return _tsc("sub", tensor, indices, updates)


@tf_export("tensor_scatter_nd_max")
def tensor_scatter_nd_max(tensor, indices, updates, name=None):
    """A copy of ``tensor`` with each slice at ``indices`` the maximum of itself and ``updates``."""
    return _tsc("max", tensor, indices, updates)


@tf_export("tensor_scatter_nd_min")
def tensor_scatter_nd_min(tensor, indices, updates, name=None):
    """A copy of ``tensor`` with each slice at ``indices`` the minimum of itself and ``updates``."""
    return _tsc("min", tensor, indices, updates)


# --------------------------------------------------------------------------------------
# where, boolean_mask
# --------------------------------------------------------------------------------------


def _where_rule(c):
    if c.rank == 0:
        raise op_error(_IAE, "Where", "the condition must have rank >= 1 (got a scalar)")
    return AVal([None, c.rank], _d.int64)


def _where_kernel(c, xp=np):
    if c.ndim == 0:
        raise ValueError("scalar condition")
    return xp.argwhere(c).astype(np.int64)


where_p = primitive("Where", _where_kernel, _where_rule, dtypes=_d.NUMERIC | {_d.bool})


@tf_export("where")
def where(condition, x=None, y=None, name=None):
    """With ``x`` and ``y``: elementwise select with broadcasting. Without: the int64
    coordinates ``[num_true, rank]`` of the true (non-zero) elements of ``condition``."""
    if x is None and y is None:
        return bind(where_p, (convert_to_tensor(condition),))
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    return where_v2(condition, x, y)


def _shape_str(dims):
    return str(tuple(dims)) if dims is not None else "<unknown>"


@tf_export("boolean_mask")
def boolean_mask(tensor, mask, axis=None, name="boolean_mask"):
    """Keep the entries of ``tensor`` where ``mask`` is true; the mask (rank k) covers dims
    ``axis .. axis+k-1``, which are flattened into one dim of the result."""
    t = convert_to_tensor(tensor)
    m = convert_to_tensor(mask)
    k = m.shape.rank
    if k is None:
        raise ValueError(
            "Number of mask dimensions must be specified, even if some dimensions are None.  "
            "E.g. shape=[None] is ok, but shape=None is not."
        )
    if k == 0:
        raise ValueError("mask cannot be scalar.")
    axis = 0 if axis is None else _static_int(axis, "axis")
    r = t.shape.rank
    if r is not None:
        covered = t.shape.as_list()[axis : axis + k]
        if not TensorShape(covered).is_compatible_with(m.shape):
            raise ValueError(
                f"Shapes {_shape_str(covered)} and {_shape_str(m.shape.as_list())} are incompatible"
            )
        axis %= max(r, 1)
        dims = t.shape.as_list()
        masked = [
            a if a is not None else b for a, b in zip(dims[axis : axis + k], m.shape.as_list())
        ]
        if None not in dims[:axis] + dims[axis + k :] and None not in masked:
            n = int(np.prod(masked, dtype=np.int64))
            new_shape = dims[:axis] + [n] + dims[axis + k :]
        else:
            s = shape(t)
            parts = (
                [getitem(s, i) for i in range(axis)]
                + [-1]
                + [getitem(s, i) for i in range(axis + k, r)]
            )
            new_shape = stack([convert_to_tensor(p, dtype=_d.int32) for p in parts])
    else:
        raise ValueError("boolean_mask: the tensor must have a known rank")
    flat = reshape(t, new_shape) if k != 1 else t
    keep = reshape(bind(where_p, (reshape(m, [-1]),)), [-1])
    return gather(flat, keep, axis=axis)


# Variable.scatter_nd_* in core run these ops (rill.core.interfaces).
register_core_ops(
    tensor_scatter_nd_update=tensor_scatter_nd_update,
    tensor_scatter_nd_add=tensor_scatter_nd_add,
    tensor_scatter_nd_sub=tensor_scatter_nd_sub,
)
