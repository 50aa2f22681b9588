"""``tf.distribute.experimental.partitioners``: how many shards a variable is split into.

A partitioner maps ``(shape, dtype, axis)`` to a list of partition counts, one per axis,
all 1 except ``axis``. ``ParameterServerStrategy`` splits each variable it creates into
that many ``ShardedVariable`` shards, placed round-robin on the parameter servers.
"""

from __future__ import annotations

import math

from rill.core import dtypes as _dtypes
from rill.core.tensor_shape import TensorShape
from rill.ops._op import tf_export

__all__ = ["Partitioner", "FixedShardsPartitioner", "MinSizePartitioner", "MaxSizePartitioner"]


def _element_bytes(dtype, bytes_per_string: int) -> int:
    dtype = _dtypes.as_dtype(dtype)
    return bytes_per_string if dtype == _dtypes.string else dtype.size


def _axis_size(shape: TensorShape, axis: int, who: str) -> int:
    if axis >= len(shape):
        raise ValueError(
            f"{who}: cannot partition a variable of shape {shape} along axis {axis}; it has "
            f"only {len(shape)} axes."
        )
    size = shape[axis]
    if size is None:
        raise ValueError(f"{who}: axis {axis} of shape {shape} is unknown; cannot partition.")
    return int(size)


@tf_export("distribute.experimental.partitioners.Partitioner")
class Partitioner:
    """Base class: ``partitioner(shape, dtype, axis=0)`` returns partitions per axis."""

    def __call__(self, shape, dtype, axis=0) -> list:
        """The number of partitions of each axis of ``shape`` (a ``TensorShape``)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement __call__(shape, dtype, axis=0)."
        )


@tf_export("distribute.experimental.partitioners.FixedShardsPartitioner")
class FixedShardsPartitioner(Partitioner):
    """``num_shards`` shards (fewer when the axis is shorter)."""

    def __init__(self, num_shards):
        self._num_shards = num_shards

    def __call__(self, shape, dtype, axis=0) -> list:
        shape = TensorShape(shape)
        result = [1] * len(shape)
        result[axis] = min(self._num_shards, _axis_size(shape, axis, "FixedShardsPartitioner"))
        return result


def _positive(name: str, value) -> None:
    if value < 1:
        raise ValueError(f"Argument `{name}` must be positive. Received: {value}")


@tf_export("distribute.experimental.partitioners.MinSizePartitioner")
class MinSizePartitioner(Partitioner):
    """As many shards as keep each at least ``min_shard_bytes``, at most ``max_shards``."""

    def __init__(self, min_shard_bytes=256 << 10, max_shards=1, bytes_per_string=16):
        _positive("min_shard_bytes", min_shard_bytes)
        _positive("max_shards", max_shards)
        _positive("bytes_per_string", bytes_per_string)
        self._min_shard_bytes = min_shard_bytes
        self._max_shards = max_shards
        self._bytes_per_string = bytes_per_string

    def __call__(self, shape, dtype, axis=0) -> list:
        shape = TensorShape(shape)
        size = _axis_size(shape, axis, "MinSizePartitioner")
        total = shape.num_elements() * _element_bytes(dtype, self._bytes_per_string)
        result = [1] * len(shape)
        wanted = int(math.ceil(total / self._min_shard_bytes))
        result[axis] = max(1, min(size, self._max_shards, wanted))
        return result


@tf_export("distribute.experimental.partitioners.MaxSizePartitioner")
class MaxSizePartitioner(Partitioner):
    """As few shards as keep each at most ``max_shard_bytes`` (``max_shards`` caps them)."""

    def __init__(self, max_shard_bytes, max_shards=None, bytes_per_string=16):
        _positive("max_shard_bytes", max_shard_bytes)
        if max_shards is not None and max_shards < 1:
            raise ValueError(f"Argument `max_shards` must be positive. Received: {max_shards}")
        _positive("bytes_per_string", bytes_per_string)
        self._max_shard_bytes = max_shard_bytes
        self._max_shards = max_shards
        self._bytes_per_string = bytes_per_string

    def __call__(self, shape, dtype, axis=0) -> list:
        shape = TensorShape(shape)
        if not shape.is_fully_defined():
            raise ValueError(f"MaxSizePartitioner: shape {shape} is not fully defined.")
        size = _axis_size(shape, axis, "MaxSizePartitioner")
        elem = _element_bytes(dtype, self._bytes_per_string)
        # the bytes of one slice along `axis`; whole slices are never split
        slice_bytes = shape.num_elements() / size * elem if size else float(elem)
        per_shard = max(1, math.floor(self._max_shard_bytes / slice_bytes))
        shards = int(math.ceil(size / per_shard))
        if self._max_shards:
            shards = min(self._max_shards, shards)
        result = [1] * len(shape)
        result[axis] = shards
        return result
