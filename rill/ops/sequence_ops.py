"""Ops on sequences and sorted data: ``tf.sequence_mask``, ``tf.reverse_sequence``,
``tf.searchsorted``, ``tf.unravel_index``, ``tf.histogram_fixed_width(_bins)``."""

from __future__ import annotations

import math

import numpy as np

from rill.core import dtypes as _d
from rill.ops import lowering_math as _lowering
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    attr_int,
    bind,
    convert_to_tensor,
    op_error,
    primitive,
    static_value,
    tf_export,
)
from rill.ops.array_ops import cast
from rill.ops.creation_ops import range as _range
from rill.ops.math_ops import less
from rill.ops.reduction_ops import reduce_max
from rill.ops.shape_ops import expand_dims

_INDEX = frozenset([_d.int32, _d.int64])


@tf_export("sequence_mask")
def sequence_mask(lengths, maxlen=None, dtype=_d.bool, name=None):
    """``mask[..., j] = j < lengths[...]``: a mask of shape ``lengths.shape + [maxlen]``
    (``maxlen`` defaults to the largest length)."""
    lengths = convert_to_tensor(lengths)
    if lengths.dtype not in _INDEX:
        raise TypeError(f"sequence_mask: lengths must be int32 or int64, got {lengths.dtype.name}")
    if maxlen is None:
        maxlen = reduce_max(lengths) if lengths.shape.num_elements() != 0 else 0
    maxlen = convert_to_tensor(maxlen)
    if maxlen.shape.rank not in (None, 0):
        raise ValueError(f"sequence_mask: maxlen must be a scalar, got shape {maxlen.shape}")
    row = _range(cast(maxlen, lengths.dtype), dtype=lengths.dtype)
    mask = less(row, expand_dims(lengths, -1))
    dtype = _d.as_dtype(dtype)
    return mask if dtype is _d.bool else cast(mask, dtype)


# --------------------------------------------------------------------------------------
# reverse_sequence: its own inverse, so its gradient is itself
# --------------------------------------------------------------------------------------


def _reverse_sequence_rule(x, lengths, seq_axis, batch_axis):
    r = x.shape.rank
    if r is not None:
        for what, ax in (("seq_axis", seq_axis), ("batch_axis", batch_axis)):
            if not 0 <= ax < r:
                raise op_error(
                    InvalidArgumentError,
                    "ReverseSequence",
                    f"{what}={ax} is out of range for an input of rank {r}",
                )
        if seq_axis == batch_axis:
            raise op_error(
                InvalidArgumentError, "ReverseSequence", "seq_axis and batch_axis must differ"
            )
        nb, nl = x.shape[batch_axis], lengths.shape[0] if lengths.shape.rank else None
        if nb is not None and nl is not None and nb != nl:
            raise op_error(
                InvalidArgumentError,
                "ReverseSequence",
                f"len(seq_lengths) is {nl} but input.shape[batch_axis={batch_axis}] is {nb}",
            )
    return AVal(x.shape, x.dtype)


def _reverse_sequence_kernel(x, lengths, seq_axis, batch_axis, xp=np):
    n = x.shape[seq_axis]
    if xp.any(lengths < 0) or xp.any(lengths > n):
        raise ValueError(f"seq_lengths must be in [0, {n}] (the input's seq_axis size)")
    t = xp.arange(n)
    ln = lengths.reshape(-1, 1)
    # index along the sequence axis, per batch row: the first len[b] reversed, rest kept
    idx = xp.where(t < ln, ln - 1 - t, t)  # (batch, seq)
    shape = [1] * x.ndim
    shape[batch_axis], shape[seq_axis] = idx.shape
    if batch_axis > seq_axis:
        idx = idx.T
        shape[seq_axis], shape[batch_axis] = idx.shape
    return xp.take_along_axis(x, idx.reshape(shape), axis=seq_axis)


def _reverse_sequence_grad(inputs, out, dy, seq_axis, batch_axis):
    p = {"seq_axis": seq_axis, "batch_axis": batch_axis}
    return bind(reverse_sequence_p, (dy, inputs[1]), p), None


reverse_sequence_p = primitive(
    "ReverseSequence",
    _reverse_sequence_kernel,
    _reverse_sequence_rule,
    _reverse_sequence_grad,
    n_typed=1,
    saves=(1,),
    saves_output=False,
    lowering=_lowering.reverse_sequence,
)


@tf_export("reverse_sequence")
def reverse_sequence(input, seq_lengths, seq_axis=None, batch_axis=None, name=None):  # noqa: A002
    """Reverse the first ``seq_lengths[b]`` elements along ``seq_axis`` of each batch row
    ``b`` (along ``batch_axis``); the rest stay in place."""
    x, lengths = convert_to_tensor(input), convert_to_tensor(seq_lengths)
    if lengths.dtype not in _INDEX:
        raise TypeError(f"reverse_sequence: seq_lengths must be int32/int64, got {lengths.dtype}")
    r = x.shape.rank
    seq_axis = 0 if seq_axis is None else attr_int("seq_dim", seq_axis)
    batch_axis = 0 if batch_axis is None else attr_int("batch_dim", batch_axis)
    if r is not None:
        seq_axis, batch_axis = seq_axis % r if seq_axis < 0 else seq_axis, batch_axis % r
    p = {"seq_axis": seq_axis, "batch_axis": batch_axis}
    return bind(reverse_sequence_p, (x, lengths), p)


# --------------------------------------------------------------------------------------
# searchsorted
# --------------------------------------------------------------------------------------


def _searchsorted_rule(seq, values, side, out_type):
    if seq.shape.rank is not None and values.shape.rank is not None:
        if seq.shape.rank != values.shape.rank:
            raise op_error(
                InvalidArgumentError,
                "SearchSorted",
                f"sorted_sequence and values must have the same rank, got shapes "
                f"{seq.shape} and {values.shape}",
            )
        if not seq.shape[:-1].is_compatible_with(values.shape[:-1]):
            raise op_error(
                InvalidArgumentError,
                "SearchSorted",
                f"sorted_sequence and values must have the same leading (batch) dimensions, "
                f"got shapes {seq.shape} and {values.shape}",
            )
    if seq.dtype is not values.dtype:
        raise op_error(
            InvalidArgumentError,
            "SearchSorted",
            f"sorted_sequence is {seq.dtype.name} but values is {values.dtype.name}",
        )
    return AVal(values.shape, out_type)


def _searchsorted_kernel(seq, values, side, out_type, xp=np):
    n = seq.shape[-1]
    s2 = seq.reshape(-1, n)
    v2 = values.reshape(s2.shape[0], -1)
    out = xp.empty(v2.shape, dtype=out_type.np)
    for i in range(s2.shape[0]):  # one vectorised binary search per batch row
        out[i] = xp.searchsorted(s2[i], v2[i], side=side)
    return out.reshape(values.shape)


searchsorted_p = primitive(
    "SearchSorted",
    _searchsorted_kernel,
    _searchsorted_rule,
    dtypes=_d.REAL,
    lowering=_lowering.searchsorted,
)


@tf_export("searchsorted")
def searchsorted(sorted_sequence, values, side="left", out_type=_d.int32, name=None):
    """For each of ``values[..., j]``, the index in the sorted innermost row
    ``sorted_sequence[...]`` where it would be inserted (before equal values with
    ``side="left"``, after them with ``"right"``)."""
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    out_type = _d.as_dtype(out_type)
    if out_type not in _INDEX:
        raise TypeError(f"searchsorted: out_type must be int32 or int64, got {out_type.name}")
    seq, vals = convert_to_tensor(sorted_sequence), convert_to_tensor(values)
    if seq.dtype is not vals.dtype and not isinstance(values, type(seq)):
        vals = convert_to_tensor(values, dtype=seq.dtype)
    return bind(searchsorted_p, (seq, vals), {"side": side, "out_type": out_type})


# --------------------------------------------------------------------------------------
# unravel_index
# --------------------------------------------------------------------------------------


def _unravel_rule(indices, dims):
    if dims.shape.rank not in (None, 1):
        raise op_error(InvalidArgumentError, "UnravelIndex", f"dims must be 1-D, got {dims.shape}")
    if indices.shape.rank is not None and indices.shape.rank > 1:
        raise op_error(
            InvalidArgumentError,
            "UnravelIndex",
            f"indices must be a scalar or 1-D, got shape {indices.shape}",
        )
    n = dims.shape[0] if dims.shape.rank == 1 else None
    if indices.shape.rank == 0:
        return AVal([n], indices.dtype)
    m = indices.shape[0] if indices.shape.rank == 1 else None
    return AVal([n, m], indices.dtype)


def _unravel_kernel(indices, dims, xp=np):
    if xp.any(dims <= 0) and indices.size:
        raise ValueError(f"dims must be positive, got {dims.tolist()}")
    total = math.prod(int(d) for d in dims)
    if xp.any(indices < 0) or xp.any(indices >= total):
        raise ValueError(f"index is out of bound as with dims {dims.tolist()}")
    return xp.stack(xp.unravel_index(indices, tuple(int(d) for d in dims))).astype(indices.dtype)


unravel_index_p = primitive(
    "UnravelIndex", _unravel_kernel, _unravel_rule, dtypes=_INDEX, same_dtype=True
)


@tf_export("unravel_index")
def unravel_index(indices, dims, name=None):
    """Flat indices into a row-major array of shape ``dims`` as coordinates: shape
    ``[len(dims)]`` for a scalar index, ``[len(dims), n]`` for ``n`` indices."""
    indices = convert_to_tensor(indices)
    return bind(unravel_index_p, (indices, convert_to_tensor(dims, dtype=indices.dtype)))


# --------------------------------------------------------------------------------------
# histograms
# --------------------------------------------------------------------------------------


def _bin_index(xp, values, value_range, nbins):
    lo, hi = value_range[0], value_range[1]
    if not hi > lo:
        raise ValueError(f"value_range must be increasing, got [{lo}, {hi}]")
    if nbins <= 0:
        raise ValueError(f"nbins must be positive, got {nbins}")
    scaled = (values.astype(np.float64) - lo) / (float(hi) - float(lo))
    return xp.clip(xp.floor(scaled * nbins), 0, nbins - 1).astype(np.int64)


def _histogram_rule(values, value_range, nbins, dtype):
    return AVal([nbins], dtype)


def _histogram_kernel(values, value_range, nbins, dtype, xp=np):
    idx = _bin_index(xp, values.reshape(-1), value_range, nbins)
    return xp.bincount(idx, minlength=nbins).astype(dtype.np)


def _histogram_bins_kernel(values, value_range, nbins, dtype, xp=np):
    return _bin_index(xp, values, value_range, nbins).astype(dtype.np)


histogram_p = primitive(
    "HistogramFixedWidth",
    _histogram_kernel,
    _histogram_rule,
    dtypes=_d.REAL,
    same_dtype=True,
    lowering=_lowering.histogram,
)
histogram_bins_p = primitive(
    "HistogramFixedWidthBins",
    _histogram_bins_kernel,
    lambda values, value_range, nbins, dtype: AVal(values.shape, dtype),
    dtypes=_d.REAL,
    same_dtype=True,
    lowering=_lowering.histogram_bins,
)


def _histogram_args(op, values, value_range, nbins, dtype):
    values = convert_to_tensor(values)
    value_range = convert_to_tensor(value_range, dtype=values.dtype)
    n = static_value(nbins)
    if n is None or np.ndim(n) != 0:
        raise ValueError(f"{op}: nbins must be a constant scalar, got {nbins!r}")
    if int(n) <= 0:
        raise op_error(InvalidArgumentError, op, f"nbins should be a positive number, got {n}")
    dtype = _d.as_dtype(dtype)
    if dtype not in _INDEX:
        raise TypeError(f"{op}: dtype must be int32 or int64, got {dtype.name}")
    if value_range.shape.rank is not None and value_range.shape.as_list() != [2]:
        raise op_error(
            InvalidArgumentError, op, f"value_range must have shape [2], got {value_range.shape}"
        )
    return (values, value_range), {"nbins": int(n), "dtype": dtype}


@tf_export("histogram_fixed_width")
def histogram_fixed_width(values, value_range, nbins=100, dtype=_d.int32, name=None):
    """Counts of ``values`` in ``nbins`` equal bins spanning ``value_range``; values below
    the range count in the first bin, above it in the last."""
    args, params = _histogram_args("HistogramFixedWidth", values, value_range, nbins, dtype)
    return bind(histogram_p, args, params)


@tf_export("histogram_fixed_width_bins")
def histogram_fixed_width_bins(values, value_range, nbins=100, dtype=_d.int32, name=None):
    """The bin index of each of ``values`` (same shape), bins as in
    ``histogram_fixed_width``."""
    args, params = _histogram_args("HistogramFixedWidthBins", values, value_range, nbins, dtype)
    # TF 2.21 returns int32 bin indices whatever ``dtype`` says; so does rill
    return bind(histogram_bins_p, args, {**params, "dtype": _d.int32})
