"""``tf.dynamic_partition`` and ``tf.dynamic_stitch``: each is the other's gradient."""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    bind,
    convert_to_tensor,
    op_error,
    primitive,
    tf_export,
)
from rill.ops.array_ops import reshape, shape, zeros_like
from rill.ops.creation_ops import range as _range
from rill.ops.indexing_ops import gather
from rill.ops.reduction_ops import reduce_prod


def _partition_rule(data, partitions, num_partitions):
    ps, ds = partitions.shape, data.shape
    if ps.rank is not None and ds.rank is not None:
        if ps.rank > ds.rank or not ds[: ps.rank].is_compatible_with(ps):
            raise op_error(
                InvalidArgumentError,
                "DynamicPartition",
                f"data.shape must start with partitions.shape, got data.shape = {ds} and "
                f"partitions.shape = {ps}",
            )
        suffix = ds.as_list()[ps.rank :]
        return tuple(AVal([None] + suffix, data.dtype) for _ in range(num_partitions))
    return tuple(AVal(None, data.dtype) for _ in range(num_partitions))


def _partition_kernel(data, partitions, num_partitions, xp=np):
    if xp.any(partitions < 0) or xp.any(partitions >= num_partitions):
        bad = partitions[(partitions < 0) | (partitions >= num_partitions)].reshape(-1)[0]
        raise ValueError(f"partitions has the value {bad}, not in [0, {num_partitions})")
    flat_p = partitions.reshape(-1)
    flat_d = data.reshape((flat_p.size,) + data.shape[partitions.ndim :])
    return tuple(flat_d[flat_p == i] for i in range(num_partitions))


def _partition_grad(inputs, outs, dys, num_partitions):
    data, partitions = inputs
    dys = [zeros_like(o) if d is None else d for o, d in zip(outs, dys)]
    positions = reshape(_range(reduce_prod(shape(partitions))), shape(partitions))
    idx = dynamic_partition(positions, partitions, num_partitions)
    return reshape(dynamic_stitch(idx, dys), shape(data)), None


dynamic_partition_p = primitive(
    "DynamicPartition",
    _partition_kernel,
    _partition_rule,
    _partition_grad,
    n_out=-1,  # num_partitions outputs
    n_typed=1,
    saves=(1,),
    saves_output=False,
)


@tf_export("dynamic_partition")
def dynamic_partition(data, partitions, num_partitions, name=None):
    """Split ``data`` into ``num_partitions`` tensors: row ``i`` (indexing ``data`` by the
    leading ``partitions.shape``) goes to output ``partitions[i]``, in order."""
    data = convert_to_tensor(data)
    partitions = convert_to_tensor(partitions)
    if partitions.dtype is not _d.int32:
        raise TypeError(f"dynamic_partition: partitions must be int32, got {partitions.dtype}")
    n = int(num_partitions)
    if n < 1:
        raise ValueError(f"dynamic_partition: num_partitions must be >= 1, got {n}")
    return list(bind(dynamic_partition_p, (data, partitions), {"num_partitions": n}))


def _stitch_rule(*args, n):
    indices, data = args[:n], args[n:]
    suffix = None
    for i, (ix, d) in enumerate(zip(indices, data)):
        if ix.shape.rank is None or d.shape.rank is None:
            continue
        if not d.shape[: ix.shape.rank].is_compatible_with(ix.shape):
            raise op_error(
                InvalidArgumentError,
                "DynamicStitch",
                f"data[{i}].shape = {d.shape} does not start with indices[{i}].shape = {ix.shape}",
            )
        s = d.shape[ix.shape.rank :]
        if suffix is not None and not s.is_compatible_with(suffix):
            raise op_error(
                InvalidArgumentError,
                "DynamicStitch",
                f"the data shapes past their indices' must agree, got {suffix} and {s} (data[{i}])",
            )
        suffix = s
    return AVal(None if suffix is None else [None] + suffix.as_list(), data[0].dtype)


def _stitch_kernel(*args, n, xp=np):
    indices, data = args[:n], args[n:]
    suffix = data[0].shape[indices[0].ndim :]
    size = max((int(ix.max()) + 1 for ix in indices if ix.size), default=0)
    if any(ix.size and ix.min() < 0 for ix in indices):
        raise ValueError("indices must be non-negative")
    out = xp.zeros((size,) + suffix, dtype=data[0].dtype)
    for ix, d in zip(indices, data):  # in order: a later index overwrites an earlier one
        out[ix.reshape(-1)] = d.reshape((ix.size,) + suffix)
    return out


def _stitch_grad(inputs, out, dy, n):
    return (None,) * n + tuple(gather(dy, ix) for ix in inputs[:n])


dynamic_stitch_p = primitive(
    "DynamicStitch",
    _stitch_kernel,
    _stitch_rule,
    _stitch_grad,
    saves_output=False,  # reads the index inputs (their count is the n param)
)


@tf_export("dynamic_stitch")
def dynamic_stitch(indices, data, name=None):
    """Merge: ``out[indices[m][i], ...] = data[m][i, ...]``; where an index repeats, the
    later ``(m, i)`` wins. The output has ``max(indices) + 1`` rows."""
    indices = [convert_to_tensor(i) for i in indices]
    if len(indices) != len(data) or not indices:
        raise ValueError(
            f"dynamic_stitch: indices and data must be non-empty lists of the same length, "
            f"got {len(indices)} and {len(data)}"
        )
    if any(i.dtype is not _d.int32 for i in indices):
        raise TypeError("dynamic_stitch: indices must be int32 tensors")
    data = [convert_to_tensor(d) for d in data]
    data = [convert_to_tensor(d, dtype=data[0].dtype) for d in data]
    return bind(dynamic_stitch_p, tuple(indices) + tuple(data), {"n": len(indices)})
