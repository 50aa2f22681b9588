"""``tf.experimental.RowPartition`` and ``tf.experimental.DynamicRaggedShape``.

A RowPartition is how one ragged dimension splits a flat list of values into rows (its
``row_splits``, optionally marked uniform); a DynamicRaggedShape is the shape of a ragged
(or dense) tensor: its row partitions, outermost first, and the dense ``inner_shape`` of
its flat values. ``tf.shape(ragged)`` returns one; ``tf.ones`` / ``tf.zeros`` / ``tf.fill``
and ``tf.reshape`` accept one and build a RaggedTensor.

Partitions are computed by the RaggedTensor factories (on placeholder values), so they are
validated, and their errors read, as the RaggedTensor's.
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.core.convert import convert_to_tensor
from rill.ops import array_ops as _a
from rill.ops import creation_ops as _cr
from rill.ops import shape_ops as _s
from rill.ops._op import static_value, tf_export
from rill.structures.ragged_tensor import RaggedTensor

__all__ = ["RowPartition", "DynamicRaggedShape"]


def _dtype(dtype, dtype_hint, value) -> _d.DType:
    if dtype is not None:
        return _d.as_dtype(dtype)
    d = getattr(value, "dtype", None)
    if d in (_d.int32, _d.int64):
        return d
    return _d.as_dtype(dtype_hint) if dtype_hint is not None else _d.int64


def _placeholder_values(nvals):
    """Values standing in for a partition's items (only their count matters)."""
    return _cr.zeros(_a.reshape(_a.cast(nvals, _d.int64), [1]), _d.int8)


def _int(t, dtype):
    t = convert_to_tensor(t)
    return t if t.dtype is dtype else _a.cast(t, dtype)


@tf_export("experimental.RowPartition")
class RowPartition:
    """How a ragged dimension partitions a flat list of values into rows."""

    def __init__(
        self, row_splits, row_lengths=None, value_rowids=None, nrows=None,
        uniform_row_length=None, nvals=None, internal=False,
    ):  # fmt: skip
        if internal is not True:
            raise ValueError(
                "RowPartition constructor is private; please use one of the factory "
                "methods instead (e.g., RowPartition.from_row_lengths())"
            )
        self._row_splits = row_splits
        self._uniform_row_length = uniform_row_length

    @classmethod
    def _from_ragged(cls, rt, uniform=None) -> RowPartition:
        return cls(rt.row_splits, uniform_row_length=uniform, internal=True)

    # factories ---------------------------------------------------------------------------
    @classmethod
    def from_row_splits(cls, row_splits, validate=True, dtype=None, dtype_hint=None):
        """Row ``i`` holds items ``row_splits[i]:row_splits[i+1]``."""
        dt = _dtype(dtype, dtype_hint, row_splits)
        splits = _int(row_splits, dt)
        nvals = splits[-1] if splits.shape[0] != 0 else 0
        rt = RaggedTensor.from_row_splits(_placeholder_values(nvals), splits, validate=validate)
        return cls._from_ragged(rt)

    @classmethod
    def from_row_lengths(cls, row_lengths, validate=True, dtype=None, dtype_hint=None):
        """Row ``i`` holds the next ``row_lengths[i]`` items."""
        dt = _dtype(dtype, dtype_hint, row_lengths)
        lengths = _int(row_lengths, dt)
        from rill.ops.reduction_ops import reduce_sum

        rt = RaggedTensor.from_row_lengths(
            _placeholder_values(reduce_sum(lengths)), lengths, validate=validate
        )
        return cls._from_ragged(rt)

    @classmethod
    def from_value_rowids(
        cls, value_rowids, nrows=None, validate=True, dtype=None, dtype_hint=None
    ):
        """Item ``j`` belongs to row ``value_rowids[j]`` (sorted); ``nrows`` rows."""
        dt = _dtype(dtype, dtype_hint, value_rowids)
        ids = _int(value_rowids, dt)
        n = _s.shape(ids, out_type=_d.int64)[0]
        rt = RaggedTensor.from_value_rowids(
            _placeholder_values(n), ids, None if nrows is None else _int(nrows, dt),
            validate=validate,
        )  # fmt: skip
        return cls._from_ragged(rt)

    @classmethod
    def from_row_starts(cls, row_starts, nvals, validate=True, dtype=None, dtype_hint=None):
        """Row ``i`` starts at ``row_starts[i]``; ``nvals`` items in all."""
        dt = _dtype(dtype, dtype_hint, row_starts)
        rt = RaggedTensor.from_row_starts(
            _placeholder_values(nvals), _int(row_starts, dt), validate=validate
        )
        return cls._from_ragged(rt)

    @classmethod
    def from_row_limits(cls, row_limits, validate=True, dtype=None, dtype_hint=None):
        """Row ``i`` ends at ``row_limits[i]``."""
        dt = _dtype(dtype, dtype_hint, row_limits)
        limits = _int(row_limits, dt)
        nvals = limits[-1] if limits.shape[0] != 0 else 0
        rt = RaggedTensor.from_row_limits(_placeholder_values(nvals), limits, validate=validate)
        return cls._from_ragged(rt)

    @classmethod
    def from_uniform_row_length(
        cls, uniform_row_length, nvals=None, nrows=None, validate=True, dtype=None,
        dtype_hint=None,
    ):  # fmt: skip
        """Rows of ``uniform_row_length`` items each."""
        dt = _dtype(dtype, dtype_hint, uniform_row_length)
        length = _int(uniform_row_length, dt)
        if nvals is None:
            if nrows is None:
                raise ValueError("from_uniform_row_length: nvals or nrows must be given")
            nvals = _int(nrows, dt) * length
        rt = RaggedTensor.from_uniform_row_length(
            _placeholder_values(nvals), length,
            None if nrows is None else _int(nrows, dt), validate=validate,
        )  # fmt: skip
        return cls._from_ragged(rt, uniform=length)

    # views -------------------------------------------------------------------------------
    def _rt(self) -> RaggedTensor:
        splits = self._row_splits
        return RaggedTensor.from_row_splits(_placeholder_values(splits[-1]), splits, validate=False)

    @property
    def dtype(self) -> _d.DType:
        return self._row_splits.dtype

    def row_splits(self):
        return self._row_splits

    def row_lengths(self):
        return self._row_splits[1:] - self._row_splits[:-1]

    def row_starts(self):
        return self._row_splits[:-1]

    def row_limits(self):
        return self._row_splits[1:]

    def value_rowids(self):
        return self._rt().value_rowids()

    def nrows(self):
        return _s.shape(self._row_splits, out_type=self.dtype)[0] - 1

    def nvals(self):
        return self._row_splits[-1]

    def offsets_in_rows(self):
        """Each item's position within its row."""
        from rill.ops.indexing_ops import gather

        ids = self.value_rowids()
        return _cr.range(self.nvals(), dtype=self.dtype) - gather(self.row_starts(), ids)

    def uniform_row_length(self):
        """The length of every row if the partition is uniform, else None."""
        return self._uniform_row_length

    def is_uniform(self) -> bool:
        return self._uniform_row_length is not None

    @property
    def static_nrows(self):
        n = self._row_splits.shape[0]
        return None if n is None else n - 1

    @property
    def static_nvals(self):
        v = static_value(self._row_splits)
        return None if v is None or len(v) == 0 else int(v[-1])

    @property
    def static_uniform_row_length(self):
        u = self._uniform_row_length
        v = None if u is None else static_value(u)
        return None if v is None else int(v)

    def with_dtype(self, dtype) -> RowPartition:
        dtype = _d.as_dtype(dtype)
        if dtype is self.dtype:
            return self
        u = self._uniform_row_length
        return RowPartition(
            _a.cast(self._row_splits, dtype),
            uniform_row_length=None if u is None else _a.cast(u, dtype),
            internal=True,
        )

    def __repr__(self):
        v = static_value(self._row_splits)
        splits = np.array2string(v) if v is not None else repr(self._row_splits)
        if self._uniform_row_length is not None:
            return f"tf.RowPartition(row_splits={splits}, uniform_row_length=...)"
        return f"tf.RowPartition(row_splits={splits})"


@tf_export("experimental.DynamicRaggedShape")
class DynamicRaggedShape:
    """The shape of a ragged or dense tensor: row partitions (outermost first) and the
    ``inner_shape`` of the flat values."""

    _rill_dispatch = True  # tf.ones / zeros / fill / reshape given one build ragged values

    def __init__(
        self, row_partitions, inner_shape, dtype=None, validate=True, static_inner_shape=None
    ):
        row_partitions = tuple(row_partitions)
        for rp in row_partitions:
            if not isinstance(rp, RowPartition):
                raise TypeError(f"row_partitions must be RowPartitions, got {rp!r}")
        inner = convert_to_tensor(inner_shape)
        if dtype is None:
            dtype = row_partitions[0].dtype if row_partitions else inner.dtype
            if dtype not in (_d.int32, _d.int64):
                dtype = _d.int64
        dtype = _d.as_dtype(dtype)
        self._row_partitions = tuple(rp.with_dtype(dtype) for rp in row_partitions)
        self._inner_shape = inner if inner.dtype is dtype else _a.cast(inner, dtype)
        if self._inner_shape.shape.rank != 1:
            raise ValueError(f"inner_shape must be a vector, got shape {inner.shape}")
        if validate and row_partitions:
            for outer, inner_rp in zip(self._row_partitions, self._row_partitions[1:]):
                _check_equal(outer.nvals(), inner_rp.nrows(), "row partitions do not chain")
            _check_equal(
                self._row_partitions[-1].nvals(),
                self._inner_shape[0],
                "the last row partition's nvals must equal inner_shape[0]",
            )

    # constructors ------------------------------------------------------------------------
    @classmethod
    def from_tensor(cls, t, dtype=None) -> DynamicRaggedShape:
        """The shape of ``t`` (a tensor or RaggedTensor)."""
        if isinstance(t, RaggedTensor):
            dt = _d.as_dtype(dtype) if dtype is not None else t.row_splits.dtype
            parts, level = [], t
            while isinstance(level, RaggedTensor):
                u = level.uniform_row_length
                parts.append(RowPartition(level.row_splits, uniform_row_length=u, internal=True))
                level = level.values
            return cls(parts, _s.shape(level, out_type=dt), dtype=dt, validate=False)
        t = convert_to_tensor(t)
        dt = _d.as_dtype(dtype) if dtype is not None else _d.int64
        return cls([], _s.shape(t, out_type=dt), dtype=dt, validate=False)

    @classmethod
    def from_row_partitions(cls, row_partitions, dtype=None) -> DynamicRaggedShape:
        """The shape with these partitions and a 1-D ``inner_shape`` (their last nvals)."""
        row_partitions = tuple(row_partitions)
        if not row_partitions:
            raise ValueError("from_row_partitions needs at least one RowPartition")
        last = row_partitions[-1]
        return cls(row_partitions, _a.reshape(last.nvals(), [1]), dtype=dtype)

    @classmethod
    def from_lengths(cls, lengths, num_row_partitions=None, dtype=_d.int64):
        """From ``lengths``: an int per uniform dimension, a tuple of row lengths per ragged
        one (``[3, (2, 0, 1), 2]``)."""
        dtype = _d.as_dtype(dtype)
        lengths = list(lengths)
        if not lengths:
            return cls([], _cr.zeros([0], dtype), dtype=dtype)
        if isinstance(lengths[0], (tuple, list)):
            raise ValueError("from_lengths: the first dimension cannot be ragged")
        last_ragged = max((i for i, x in enumerate(lengths) if isinstance(x, (tuple, list))),
                          default=0)  # fmt: skip
        n = last_ragged if num_row_partitions is None else int(num_row_partitions)
        if n < last_ragged:
            raise ValueError(
                f"num_row_partitions={n} is too small for ragged dimension {last_ragged}"
            )
        parts, nrows = [], int(lengths[0])
        for x in lengths[1 : n + 1]:
            if isinstance(x, (tuple, list)):
                if len(x) != nrows:
                    raise ValueError(f"from_lengths: {x} has {len(x)} rows, expected {nrows}")
                parts.append(RowPartition.from_row_lengths(list(x), dtype=dtype))
                nrows = int(sum(x))
            else:
                parts.append(RowPartition.from_uniform_row_length(int(x), nrows=nrows, dtype=dtype))
                nrows *= int(x)
        inner = [nrows] + [int(x) for x in lengths[n + 1 :]]
        return cls(parts, convert_to_tensor(np.array(inner, dtype.as_numpy_dtype)), dtype=dtype)

    # properties --------------------------------------------------------------------------
    @property
    def row_partitions(self) -> tuple:
        return self._row_partitions

    @property
    def inner_shape(self):
        return self._inner_shape

    @property
    def dtype(self) -> _d.DType:
        return self._inner_shape.dtype

    @property
    def num_row_partitions(self) -> int:
        return len(self._row_partitions)

    @property
    def inner_rank(self) -> int:
        return self._inner_shape.shape[0]

    @property
    def rank(self) -> int:
        r = self.inner_rank
        return None if r is None else r + self.num_row_partitions

    def is_uniform(self, axis) -> bool:
        """Whether dimension ``axis`` has one length for every row."""
        axis = self._axis(axis)
        if axis == 0 or axis > self.num_row_partitions:
            return True
        return self._row_partitions[axis - 1].is_uniform()

    def _axis(self, axis) -> int:
        rank = self.rank
        if axis < 0:
            if rank is None:
                raise ValueError("a negative axis needs a known rank")
            axis += rank
        if rank is not None and not 0 <= axis < rank:
            raise IndexError(f"Index {axis} is out of range for a shape of rank {rank}")
        return axis

    def __getitem__(self, index):
        if not isinstance(index, int):
            raise TypeError("DynamicRaggedShape supports integer indices only in rill")
        axis = self._axis(index)
        k = self.num_row_partitions
        if axis == 0:
            return self._row_partitions[0].nrows() if k else self._inner_shape[0]
        if axis <= k:
            u = self._row_partitions[axis - 1].uniform_row_length()
            if u is None:
                raise ValueError(f"Index {index} is not uniform")
            return u
        return self._inner_shape[axis - k]

    def static_lengths(self, ragged_lengths=True) -> list:
        """Each dimension's length: an int (None if unknown), or for a ragged dimension
        the tuple of its row lengths (None when ``ragged_lengths`` is False)."""
        out = []
        k = self.num_row_partitions
        if k:
            out.append(self._row_partitions[0].static_nrows)
            for rp in self._row_partitions:
                u = rp.static_uniform_row_length
                if u is not None:
                    out.append(u)
                elif ragged_lengths:
                    v = static_value(rp.row_lengths())
                    out.append(None if v is None else tuple(int(x) for x in v))
                else:
                    out.append(None)
            inner = static_value(self._inner_shape)
            out.extend([None] * (self.inner_rank - 1) if inner is None else
                       [int(x) for x in inner[1:]])  # fmt: skip
            return out
        inner = static_value(self._inner_shape)
        return [None] * (self.inner_rank or 0) if inner is None else [int(x) for x in inner]

    def with_dtype(self, dtype) -> DynamicRaggedShape:
        return DynamicRaggedShape(
            self._row_partitions, self._inner_shape, dtype=dtype, validate=False
        )

    def _with_flat_values(self, flat_values):
        """A RaggedTensor (or tensor) of this shape with these flat values."""
        out = flat_values
        for rp in reversed(self._row_partitions):
            u = rp.uniform_row_length()
            if u is not None:
                out = RaggedTensor.from_uniform_row_length(out, u, rp.nrows(), validate=False)
            else:
                out = RaggedTensor.from_row_splits(out, rp.row_splits(), validate=False)
        return out

    def __repr__(self):
        parts = []
        for x in self.static_lengths():
            parts.append("(" + ", ".join(str(v) for v in x) + ")" if isinstance(x, tuple)
                         else str(x))  # fmt: skip
        return (
            f"<DynamicRaggedShape lengths=[{', '.join(parts)}] "
            f"num_row_partitions={self.num_row_partitions}>"
        )


def _check_equal(a, b, what: str) -> None:
    va, vb = static_value(a), static_value(b)
    if va is not None and vb is not None and int(va) != int(vb):
        raise ValueError(f"DynamicRaggedShape: {what} ({int(va)} != {int(vb)})")


# --------------------------------------------------------------------------------------
# Ops taking or giving a DynamicRaggedShape
# --------------------------------------------------------------------------------------


def shape(input, out_type=None, name=None):  # noqa: A002 - TF's argument name
    """``tf.shape`` of a RaggedTensor: its DynamicRaggedShape (``out_type`` int32 by
    default, as for dense tensors)."""
    return DynamicRaggedShape.from_tensor(input, dtype=out_type or _d.int32)


def ones(shape, dtype=_d.float32, name=None, layout=None):  # noqa: A002
    """``tf.ones`` of a DynamicRaggedShape: a RaggedTensor of ones."""
    return shape._with_flat_values(_cr.ones(shape.inner_shape, dtype))


def zeros(shape, dtype=_d.float32, name=None, layout=None):  # noqa: A002
    """``tf.zeros`` of a DynamicRaggedShape: a RaggedTensor of zeros."""
    return shape._with_flat_values(_cr.zeros(shape.inner_shape, dtype))


def fill(dims, value, name=None, layout=None):
    """``tf.fill`` of a DynamicRaggedShape: a RaggedTensor holding ``value``."""
    return dims._with_flat_values(_cr.fill(dims.inner_shape, value))


def reshape(tensor, shape, name=None):
    """``tf.reshape`` to a DynamicRaggedShape: the values of ``tensor`` (flattened) laid
    out in that shape."""
    values = tensor.flat_values if isinstance(tensor, RaggedTensor) else convert_to_tensor(tensor)
    flat = _a.reshape(values, shape.inner_shape)
    return shape._with_flat_values(flat)


def register() -> None:
    """Dispatch ``tf.shape`` on RaggedTensors and the shape-taking ops on shapes."""
    from rill.ops._op import EXPORTS, dispatch_for

    def undispatched(name):
        fn = EXPORTS.get(("", name))
        return getattr(fn, "__wrapped__", fn) if fn is not None else None

    fn = undispatched("shape")
    if fn is not None:
        dispatch_for(fn, RaggedTensor)(shape)
    for name, handler in (("ones", ones), ("zeros", zeros), ("fill", fill),
                          ("reshape", reshape)):  # fmt: skip
        fn = undispatched(name)
        if fn is not None:
            dispatch_for(fn, DynamicRaggedShape)(handler)
