"""``RaggedTensor``: tensors whose rows have different lengths, and ``RaggedTensorSpec``.

A RaggedTensor is ``values`` (a tensor, or another RaggedTensor for more ragged
dimensions) partitioned into rows by ``row_splits`` (int64 by default, or int32): row
``i`` is ``values[row_splits[i]:row_splits[i + 1]]``. Every operation is written with
rill ops on the components, so ragged code records on tapes (gradients reach the values)
and traces into ``rill.function`` graphs. Two non-differentiable primitives do the index
bookkeeping: ``RaggedRowIds`` (row splits -> the row of each value) and ``RaggedRange``
(rows of evenly spaced numbers).
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.core.convert import convert_to_tensor
from rill.core.errors import InvalidArgumentError
from rill.core.tensor import EagerTensor, Tensor, TensorSpec
from rill.core.tensor_shape import TensorShape
from rill.core.type_spec import BatchableTypeSpec
from rill.ops import array_ops as _a
from rill.ops import creation_ops as _cr
from rill.ops import indexing_ops as _ix
from rill.ops import math_ops as _m
from rill.ops import reduction_ops as _r
from rill.ops import shape_ops as _s
from rill.ops._op import AVal, bind, is_tensor_like, op_error, primitive, tf_export

__all__ = ["RaggedTensor", "RaggedTensorSpec"]

_SPLIT_DTYPES = (_d.int32, _d.int64)


# --------------------------------------------------------------------------------------
# Primitives: the index bookkeeping (integer outputs, not differentiable)
# --------------------------------------------------------------------------------------


def _rowids_kernel(splits, out_type, xp=np):
    if splits.ndim != 1 or splits.size == 0:
        raise ValueError(f"row_splits must be a non-empty vector, got shape {list(splits.shape)}")
    lengths = xp.diff(splits)
    if lengths.size and lengths.min() < 0:
        raise ValueError(
            f"row_splits must be sorted in ascending order, got {[int(v) for v in splits]}"
        )
    return xp.repeat(xp.arange(lengths.size, dtype=out_type.np), lengths)


def _rowids_rule(splits, out_type):
    if splits.rank is not None and splits.rank != 1:
        raise ValueError(f"row_splits must be a vector, got shape {splits.shape}")
    n = None
    if splits.value is not None and splits.value.size:
        n = int(splits.value[-1] - splits.value[0])
    return AVal([n], out_type)


rowids_p = primitive("RaggedRowIds", _rowids_kernel, _rowids_rule, dtypes=_SPLIT_DTYPES)


def _range_counts(xp, starts, limits, deltas):
    if xp.any(deltas == 0):
        raise ValueError("Requires delta != 0")
    if starts.dtype.kind in "iu":
        counts = -((starts - limits) // deltas)
    else:
        counts = xp.ceil((limits - starts) / deltas)
    return xp.maximum(counts, 0).astype(np.int64)


def _range_kernel(starts, limits, deltas, splits_type, xp=np):
    for name, v in (("starts", starts), ("limits", limits), ("deltas", deltas)):
        if v.ndim > 1:
            raise ValueError(f"{name} must be a scalar or vector, got shape {list(v.shape)}")
    starts, limits, deltas = xp.broadcast_arrays(
        xp.atleast_1d(starts), xp.atleast_1d(limits), xp.atleast_1d(deltas)
    )
    counts = _range_counts(xp, starts, limits, deltas)
    splits = xp.zeros(counts.size + 1, dtype=splits_type.np)
    splits[1:] = xp.cumsum(counts)
    rows = xp.repeat(xp.arange(counts.size), counts)
    pos = xp.arange(int(splits[-1]), dtype=np.int64) - splits[:-1][rows]
    values = starts[rows] + (pos * deltas[rows]).astype(starts.dtype)
    return splits, values.astype(starts.dtype, copy=False)


def _range_rule(starts, limits, deltas, splits_type):
    ranks = [a.rank for a in (starts, limits, deltas)]
    if any(r is not None and r > 1 for r in ranks):
        raise ValueError("starts, limits and deltas must be scalars or vectors")
    n = None
    if all(r == 0 for r in ranks):
        n = 1
    else:
        for a in (starts, limits, deltas):
            if a.rank == 1 and a.shape[0] is not None:
                n = a.shape[0]
    return AVal([None if n is None else n + 1], splits_type), AVal([None], starts.dtype)


range_p = primitive(
    "RaggedRange",
    _range_kernel,
    _range_rule,
    n_out=2,
    same_dtype=True,
    dtypes=(_d.int32, _d.int64, _d.float32, _d.float64),
)


def _rowids(splits, out_type=None):
    return bind(rowids_p, (splits,), {"out_type": out_type or splits.dtype})


def _ranges(starts, limits, deltas=None, splits_type=_d.int64):
    """(splits, values) of the rows ``range(starts[i], limits[i], deltas[i])``."""
    if deltas is None:
        deltas = _tensor(np.array(1, starts.dtype.np))
    return bind(range_p, (starts, limits, deltas), {"splits_type": splits_type})


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _eager(t) -> bool:
    return type(t) is EagerTensor


def _np(t):
    """The NumPy value of an eager tensor, else None."""
    return t._value if type(t) is EagerTensor else None


def _tensor(x, dtype=None):
    if isinstance(x, Tensor) and dtype is None:
        return x
    return convert_to_tensor(x, dtype=dtype)


def _splits_arg(x, what) -> Tensor:
    """An int32/int64 tensor of row-partition values (Python lists become int64)."""
    if is_tensor_like(x):
        t = convert_to_tensor(x)
    else:
        arr = np.asarray(x)
        if arr.size and arr.dtype.kind not in "iu":
            raise ValueError(f"{what} must have dtype int32 or int64")
        t = convert_to_tensor(arr.astype(np.int64) if arr.size else np.zeros(arr.shape, np.int64))
    if t.dtype not in _SPLIT_DTYPES:
        raise ValueError(f"{what} must have dtype int32 or int64")
    return t


def _values_arg(values):
    if isinstance(values, RaggedTensor):
        return values
    t = _tensor(values)
    if t.shape.rank == 0:
        raise ValueError(
            f"values must have rank at least 1 (the dimension the row partition splits), "
            f"got a scalar of dtype {t.dtype.name}"
        )
    return t


def _check_vector(t, what):
    if t.shape.rank is not None and t.shape.rank != 1:
        raise ValueError(f"Shape {tuple(t.shape.as_list())} must have rank 1 ({what})")


def _check_dtype_match(values, splits):
    if isinstance(values, RaggedTensor) and values.row_splits.dtype is not splits.dtype:
        raise ValueError(
            f"Argument `row_partition` of RaggedTensor must have same dtype as Argument "
            f"`values`. ({splits.dtype!r} vs. {values.row_splits.dtype!r}). Use "
            f"RaggedTensor.with_row_splits_dtype() to convert one of them."
        )


def _outer_static(values):
    """Static size of dimension 0 of ``values`` (a tensor or RaggedTensor), or None."""
    if isinstance(values, RaggedTensor):
        return values._static_nrows()
    s = values.shape
    return s[0] if s.rank else None


def _outer_size(values, dtype):
    """Size of dimension 0 of ``values`` as a scalar tensor of ``dtype``."""
    n = _outer_static(values)
    if n is not None:
        return _tensor(np.array(n, dtype.np))
    if isinstance(values, RaggedTensor):
        return values.nrows(out_type=dtype)
    return _a.cast(_a.shape(values, out_type=dtype)[0], dtype)


def _invalid(op, msg):
    return op_error(InvalidArgumentError, op, f"Arguments do not form a valid RaggedTensor: {msg}")


def _validate_splits(op, splits, values):
    """Eager checks that ``splits`` partitions ``values`` (skipped for symbolic tensors)."""
    s = _np(splits)
    if s is None:
        return
    if s[0] != 0:
        raise _invalid(op, f"row_splits[0] must be 0, got {s[0]}")
    if s.size > 1 and np.any(s[1:] < s[:-1]):
        raise _invalid(op, f"row_splits must be sorted in ascending order, got {s.tolist()}")
    n = _outer_static(values)
    if n is not None and s[-1] != n:
        raise _invalid(
            op,
            f"row_splits[-1] ({s[-1]}) must equal the number of values ({n}), got splits "
            f"{s.tolist()}",
        )


def _int(x):
    return int(x.numpy()) if isinstance(x, Tensor) else int(x)


# --------------------------------------------------------------------------------------
# RaggedTensor
# --------------------------------------------------------------------------------------


@tf_export("RaggedTensor")
class RaggedTensor:
    """A tensor with one or more ragged dimensions: ``values`` split into rows by
    ``row_splits``. Build one with ``rill.ragged.constant`` or a ``from_*`` factory."""

    _rill_dispatch = True  # TF-namespace ops called with a RaggedTensor dispatch to ragged_ops
    __array_priority__ = 200  # `ndarray + ragged` defers to RaggedTensor.__radd__
    __array_ufunc__ = None

    def __init__(
        self, values, row_splits, cached_row_lengths=None, cached_value_rowids=None,
        cached_nrows=None, internal=False, uniform_row_length=None,
    ):  # fmt: skip
        if not internal:
            raise ValueError(
                "RaggedTensor constructor is private; please use one of the factory methods "
                "instead (e.g., RaggedTensor.from_row_lengths())"
            )
        self._values = values
        self._row_splits = row_splits
        self._row_lengths = cached_row_lengths
        self._value_rowids = cached_value_rowids
        self._nrows = cached_nrows
        self._uniform = uniform_row_length  # a static int when every row has this length

    @classmethod
    def _make(cls, values, row_splits, **cache):
        return cls(values, row_splits, internal=True, **cache)

    # factories -----------------------------------------------------------------------
    @classmethod
    def from_row_splits(cls, values, row_splits, name=None, validate=True) -> RaggedTensor:
        """Row ``i`` is ``values[row_splits[i]:row_splits[i+1]]``."""
        values = _values_arg(values)
        splits = _splits_arg(row_splits, "row_splits")
        _check_vector(splits, "row_splits")
        if splits.shape.rank == 1 and splits.shape[0] == 0:
            raise ValueError("row_splits tensor may not be empty.")
        _check_dtype_match(values, splits)
        if validate:
            _validate_splits("from_row_splits", splits, values)
        return cls._make(values, splits)

    @classmethod
    def from_row_lengths(cls, values, row_lengths, name=None, validate=True) -> RaggedTensor:
        """Row ``i`` holds the next ``row_lengths[i]`` values."""
        values = _values_arg(values)
        lengths = _splits_arg(row_lengths, "row_lengths")
        _check_vector(lengths, "row_lengths")
        _check_dtype_match(values, lengths)
        v = _np(lengths)
        if validate and v is not None:
            if v.size and v.min() < 0:
                raise _invalid("from_row_lengths", f"row_lengths must be >= 0, got {v.tolist()}")
            n = _outer_static(values)
            if n is not None and v.sum() != n:
                raise _invalid(
                    "from_row_lengths",
                    f"sum(row_lengths) ({v.sum()}) must equal the number of values ({n})",
                )
        zero = _a.zeros_like(lengths[:1])
        splits = _s.concat([zero, _r.cumsum(lengths)], 0)
        return cls._make(values, splits, cached_row_lengths=lengths)

    @classmethod
    def from_value_rowids(
        cls, values, value_rowids, nrows=None, name=None, validate=True
    ) -> RaggedTensor:
        """``values[j]`` goes to row ``value_rowids[j]`` (sorted); ``nrows`` defaults to
        ``value_rowids[-1] + 1``."""
        values = _values_arg(values)
        rowids = _splits_arg(value_rowids, "value_rowids")
        _check_vector(rowids, "value_rowids")
        _check_dtype_match(values, rowids)
        n_vals = _outer_static(values)
        if rowids.shape.rank == 1 and None not in (rowids.shape[0], n_vals):
            if rowids.shape[0] != n_vals:
                raise ValueError(
                    f"Shapes ({n_vals},) and ({rowids.shape[0]},) are incompatible "
                    f"(values and value_rowids)"
                )
        r = _np(rowids)
        if nrows is None:
            if r is not None:
                nrows_t = _tensor(np.array(r[-1] + 1 if r.size else 0, rowids.dtype.np))
            else:
                last = _r.reduce_max(_s.concat([_a.cast([-1], rowids.dtype), rowids], 0))
                nrows_t = last + _a.cast(1, rowids.dtype)
        else:
            nrows_t = _a.cast(_tensor(nrows), rowids.dtype)
        if validate and r is not None:
            if r.size and (r.min() < 0 or np.any(np.diff(r) < 0)):
                raise _invalid(
                    "from_value_rowids",
                    f"value_rowids must be non-negative and sorted, got {r.tolist()}",
                )
            nv = _np(nrows_t)
            if nv is not None and r.size and nv < r[-1] + 1:
                raise ValueError(
                    f"Expected nrows >= value_rowids[-1] + 1; got nrows={int(nv)}, "
                    f"value_rowids[-1]={r[-1]}"
                )
        lengths = _r.unsorted_segment_sum(_a.ones_like(rowids), rowids, nrows_t)
        splits = _s.concat([_a.zeros_like(lengths[:1]), _r.cumsum(lengths)], 0)
        if _np(nrows_t) is not None and int(_np(nrows_t)) == 0:
            splits = _cr.zeros([1], rowids.dtype)
        return cls._make(values, splits, cached_row_lengths=lengths, cached_value_rowids=rowids)

    @classmethod
    def from_row_starts(cls, values, row_starts, name=None, validate=True) -> RaggedTensor:
        """Row ``i`` starts at ``row_starts[i]`` and ends where the next row starts."""
        values = _values_arg(values)
        starts = _splits_arg(row_starts, "row_starts")
        _check_vector(starts, "row_starts")
        _check_dtype_match(values, starts)
        n = _a.reshape(_outer_size(values, starts.dtype), [1])
        return cls.from_row_splits(values, _s.concat([starts, n], 0), validate=validate)

    @classmethod
    def from_row_limits(cls, values, row_limits, name=None, validate=True) -> RaggedTensor:
        """Row ``i`` ends at ``row_limits[i]`` and starts where the previous row ends."""
        values = _values_arg(values)
        limits = _splits_arg(row_limits, "row_limits")
        _check_vector(limits, "row_limits")
        _check_dtype_match(values, limits)
        zero = _cr.zeros([1], limits.dtype)
        return cls.from_row_splits(values, _s.concat([zero, limits], 0), validate=validate)

    @classmethod
    def from_uniform_row_length(
        cls, values, uniform_row_length, nrows=None, validate=True, name=None
    ) -> RaggedTensor:
        """Rows of ``uniform_row_length`` values each."""
        values = _values_arg(values)
        length = _splits_arg(uniform_row_length, "uniform_row_length")
        dt = length.dtype if is_tensor_like(uniform_row_length) else _d.int64
        if isinstance(values, RaggedTensor):
            dt = values.row_splits.dtype
        length = _a.cast(length, dt)
        n_vals = _outer_size(values, dt)
        lv, nv = _np(length), _np(n_vals)
        if nrows is None:
            if lv is not None and lv == 0:
                raise ValueError("nrows is required when uniform_row_length is 0")
            nrows_t = _m.floordiv(n_vals, length)
        else:
            nrows_t = _a.cast(_tensor(nrows), dt)
        if validate and lv is not None and nv is not None and _np(nrows_t) is not None:
            if int(_np(nrows_t)) * int(lv) != int(nv):
                raise _invalid(
                    "from_uniform_row_length",
                    f"nrows ({int(_np(nrows_t))}) * uniform_row_length ({int(lv)}) must equal "
                    f"the number of values ({int(nv)})",
                )
        splits = _cr.range(nrows_t + _a.cast(1, dt), dtype=dt) * length
        return cls._make(values, splits, uniform_row_length=int(lv) if lv is not None else None)

    @classmethod
    def from_nested_row_splits(
        cls, flat_values, nested_row_splits, name=None, validate=True
    ) -> RaggedTensor:
        """A RaggedTensor with one ragged dimension per entry of ``nested_row_splits``."""
        if isinstance(nested_row_splits, Tensor):
            raise TypeError("nested_row_splits must be a list of Tensors")
        result = flat_values
        for splits in reversed(list(nested_row_splits)):
            result = cls.from_row_splits(result, splits, validate=validate)
        return result

    @classmethod
    def from_nested_row_lengths(
        cls, flat_values, nested_row_lengths, name=None, validate=True
    ) -> RaggedTensor:
        """A RaggedTensor with one ragged dimension per entry of ``nested_row_lengths``."""
        if isinstance(nested_row_lengths, Tensor):
            raise TypeError("nested_row_lengths must be a list of Tensors")
        result = flat_values
        for lengths in reversed(list(nested_row_lengths)):
            result = cls.from_row_lengths(result, lengths, validate=validate)
        return result

    @classmethod
    def from_nested_value_rowids(
        cls, flat_values, nested_value_rowids, nested_nrows=None, name=None, validate=True
    ) -> RaggedTensor:
        """A RaggedTensor with one ragged dimension per entry of ``nested_value_rowids``."""
        ids = list(nested_value_rowids)
        nrows = [None] * len(ids) if nested_nrows is None else list(nested_nrows)
        if len(nrows) != len(ids):
            raise ValueError("nested_nrows must have the same length as nested_value_rowids")
        result = flat_values
        for r, n in reversed(list(zip(ids, nrows))):
            result = cls.from_value_rowids(result, r, n, validate=validate)
        return result

    @classmethod
    def from_tensor(
        cls, tensor, lengths=None, padding=None, ragged_rank=1, name=None,
        row_splits_dtype=_d.int64,
    ) -> RaggedTensor:  # fmt: skip
        """Rows of a dense tensor, trimmed to ``lengths`` or by stripping trailing
        ``padding``; the outer ``ragged_rank`` dimensions become ragged."""
        from rill.structures.ragged_ops import _from_tensor

        return _from_tensor(tensor, lengths, padding, ragged_rank, _d.as_dtype(row_splits_dtype))

    @classmethod
    def from_sparse(cls, st_input, name=None, row_splits_dtype=_d.int64) -> RaggedTensor:
        """The rows of a rank-2 SparseTensor whose entries fill each row from the left."""
        dt = _d.as_dtype(row_splits_dtype)
        shape_v = st_input.dense_shape
        if shape_v.shape.rank is not None and shape_v.shape[0] not in (None, 2):
            raise ValueError("rank(st_input) must be 2.")
        idx = _a.cast(st_input.indices, dt)
        i = _np(idx)
        if i is not None and i.shape[0]:
            rows, cols = i[:, 0], i[:, 1]
            starts = np.r_[True, rows[1:] != rows[:-1]]
            run = np.arange(rows.size) - np.maximum.accumulate(
                np.where(starts, np.arange(rows.size), 0)
            )
            if np.any(np.diff(rows) < 0) or np.any(cols != run):
                raise op_error(
                    InvalidArgumentError,
                    "RaggedTensor.from_sparse",
                    "SparseTensor is not right-ragged: each row's entries must be at "
                    "columns 0, 1, 2, ... in row-major order",
                )
        nrows = _a.cast(_a.reshape(st_input.dense_shape, [-1])[0], dt)
        return cls.from_value_rowids(st_input.values, idx[:, 0], nrows, validate=False)

    # properties ----------------------------------------------------------------------
    @property
    def values(self):
        """The concatenated rows (a tensor or a RaggedTensor)."""
        return self._values

    @property
    def row_splits(self) -> Tensor:
        return self._row_splits

    @property
    def flat_values(self) -> Tensor:
        v = self._values
        while isinstance(v, RaggedTensor):
            v = v._values
        return v

    @property
    def nested_row_splits(self) -> tuple:
        out, rt = [], self
        while isinstance(rt, RaggedTensor):
            out.append(rt._row_splits)
            rt = rt._values
        return tuple(out)

    @property
    def ragged_rank(self) -> int:
        v = self._values
        return 1 + (v.ragged_rank if isinstance(v, RaggedTensor) else 0)

    @property
    def dtype(self) -> _d.DType:
        return self.flat_values.dtype

    @property
    def row_splits_dtype(self) -> _d.DType:
        return self._row_splits.dtype

    def _static_nrows(self):
        s = self._row_splits.shape
        return None if s.rank is None or s[0] is None else s[0] - 1

    @property
    def shape(self) -> TensorShape:
        """Static shape: None for ragged dimensions (and unknown sizes)."""
        vs = self._values.shape
        if vs.rank is None:
            return TensorShape(None)
        return TensorShape([self._static_nrows(), self._uniform] + vs.as_list()[1:])

    def get_shape(self) -> TensorShape:
        return self.shape

    @property
    def ndim(self):
        return self.shape.rank

    @property
    def uniform_row_length(self):
        """The length of every row when it is known to be uniform, else None."""
        if self._uniform is None:
            return None
        return _tensor(np.array(self._uniform, self._row_splits.dtype.np))

    def row_lengths(self, axis=1, name=None):
        """Lengths of the rows of ragged dimension ``axis`` (a tensor for axis 1, ragged
        for deeper axes; ``axis=0`` gives the number of rows)."""
        if not isinstance(axis, (int, np.integer)):
            raise TypeError(f"axis must be an int, got {axis!r}")
        rank = self.shape.rank
        if axis < 0 and rank is not None:
            axis += rank
        if axis == 0:
            return self.nrows()
        if axis == 1:
            if self._row_lengths is None:
                s = self._row_splits
                self._row_lengths = s[1:] - s[:-1]
            return self._row_lengths
        if isinstance(self._values, RaggedTensor):
            return self.with_values(self._values.row_lengths(axis - 1))
        if rank is not None and 0 <= axis < rank:
            dim = self._values.shape[axis - 1]
            sdt = self.row_splits_dtype
            dims = _a.shape(self._values, out_type=sdt)[: axis - 1]
            lengths = _cr.fill(dims, _tensor(np.array(dim, sdt.np)))
            return self.with_values(lengths)
        raise ValueError(f"axis={axis} out of bounds for a RaggedTensor of rank {rank}")

    def value_rowids(self, name=None) -> Tensor:
        """The row of each value."""
        if self._value_rowids is None:
            self._value_rowids = _rowids(self._row_splits)
        return self._value_rowids

    def nested_value_rowids(self, name=None) -> tuple:
        out, rt = [], self
        while isinstance(rt, RaggedTensor):
            out.append(rt.value_rowids())
            rt = rt._values
        return tuple(out)

    def nested_row_lengths(self, name=None) -> tuple:
        out, rt = [], self
        while isinstance(rt, RaggedTensor):
            out.append(rt.row_lengths())
            rt = rt._values
        return tuple(out)

    def nrows(self, out_type=None, name=None) -> Tensor:
        """The number of rows (a scalar of ``out_type``, default the row-splits dtype)."""
        dt = self._row_splits.dtype if out_type is None else _d.as_dtype(out_type)
        if self._nrows is None:
            n = self._static_nrows()
            if n is not None:
                self._nrows = _tensor(np.array(n, self._row_splits.dtype.np))
            else:
                s = self._row_splits
                self._nrows = _a.shape(s, out_type=s.dtype)[0] - _a.cast(1, s.dtype)
        return self._nrows if dt is self._nrows.dtype else _a.cast(self._nrows, dt)

    def row_starts(self, name=None) -> Tensor:
        return self._row_splits[:-1]

    def row_limits(self, name=None) -> Tensor:
        return self._row_splits[1:]

    def bounding_shape(self, axis=None, name=None, out_type=None) -> Tensor:
        """The smallest dense shape that holds every row (ragged dims: their longest row)."""
        dt = self._row_splits.dtype if out_type is None else _d.as_dtype(out_type)
        dims = [self.nrows(out_type=dt)]
        rt = self
        while isinstance(rt, RaggedTensor):
            lengths = _a.cast(rt.row_lengths(), dt)
            dims.append(_r.reduce_max(_s.concat([lengths, _cr.zeros([1], dt)], 0)))
            rt = rt._values
        inner = _a.shape(rt, out_type=dt)[1:]
        shape = _s.concat([_a.stack(dims), inner], 0)
        if axis is None:
            return shape
        return shape[axis]

    # with_* --------------------------------------------------------------------------
    def with_values(self, new_values) -> RaggedTensor:
        """This row partition over ``new_values`` (same number of rows as ``values``)."""
        new_values = _values_arg(new_values)
        _check_dtype_match(new_values, self._row_splits)
        old, new = _outer_static(self._values), _outer_static(new_values)
        if old is not None and new is not None and old != new:
            raise ValueError(f"Shapes ({new},) and ({old},) are incompatible (new values)")
        return RaggedTensor._make(
            new_values,
            self._row_splits,
            cached_row_lengths=self._row_lengths,
            cached_value_rowids=self._value_rowids,
            cached_nrows=self._nrows,
            uniform_row_length=self._uniform,
        )

    def with_flat_values(self, new_values) -> RaggedTensor:
        """This nested row partition over ``new_values`` in place of ``flat_values``."""
        if isinstance(self._values, RaggedTensor):
            return self.with_values(self._values.with_flat_values(new_values))
        return self.with_values(new_values)

    def with_row_splits_dtype(self, dtype) -> RaggedTensor:
        """A copy whose row partitions use ``dtype`` (int32 or int64)."""
        dtype = _d.as_dtype(dtype)
        if dtype not in _SPLIT_DTYPES:
            raise ValueError(f"dtype must be int32 or int64, got {dtype.name}")
        if dtype is self._row_splits.dtype:
            return self
        v = self._values
        if isinstance(v, RaggedTensor):
            v = v.with_row_splits_dtype(dtype)
        return RaggedTensor._make(
            v, _a.cast(self._row_splits, dtype), uniform_row_length=self._uniform
        )

    # conversion ----------------------------------------------------------------------
    def to_tensor(self, default_value=None, name=None, shape=None) -> Tensor:
        """A dense tensor, rows padded with ``default_value`` (zeros by default) to the
        longest row; ``shape`` (None entries: keep) truncates or pads each dimension."""
        inner = self._values
        if isinstance(inner, RaggedTensor):
            inner = inner.to_tensor(default_value)
        dt = self.dtype
        sdt = self._row_splits.dtype
        lengths = self.row_lengths()
        width = _r.reduce_max(_s.concat([lengths, _cr.zeros([1], sdt)], 0))
        n_vals = _outer_size(inner, sdt)
        cols = _cr.range(width, dtype=sdt)
        starts = self._row_splits[:-1]
        mask = _m.less(_s.expand_dims(cols, 0), _s.expand_dims(lengths, 1))
        index = _ix.where(mask, _s.expand_dims(starts, 1) + _s.expand_dims(cols, 0), n_vals)
        if default_value is None:
            default = _cr.zeros([], dt) if dt is not _d.string else _tensor(b"")
        else:
            default = _tensor(default_value, dt)
        inner_shape = _a.shape(inner, out_type=sdt)[1:]
        pad_row = _a.broadcast_to(default, _s.concat([[1], inner_shape], 0))
        out = _ix.gather(_s.concat([inner, pad_row], 0), index)
        if shape is not None:
            out = _fit_shape(out, shape, default)
        return out

    def to_list(self) -> list:
        """The rows as nested Python lists (eager only)."""
        self._require_eager("to_list")
        items = self.flat_values._value.tolist()
        for s in reversed(self.nested_row_splits):
            b = s._value.tolist()
            items = [items[i:j] for i, j in zip(b[:-1], b[1:])]
        return items

    def numpy(self):
        """A NumPy array: an object array of row arrays when lengths differ, as in TF."""
        self._require_eager("numpy")
        v = self._values
        vals = v.numpy() if isinstance(v, RaggedTensor) else v._value
        b = self._row_splits._value.tolist()
        rows = [vals[i:j] for i, j in zip(b[:-1], b[1:])]
        if not rows:
            return np.zeros((0, 0) + vals.shape[1:], dtype=vals.dtype)
        if all(len(r) == len(rows[0]) for r in rows):
            try:
                return np.array(rows)
            except ValueError:
                pass
        out = np.empty(len(rows), dtype=object)
        for i, r in enumerate(rows):
            out[i] = r
        return out

    def to_sparse(self, name=None):
        """A SparseTensor with an entry per value, in row-major order."""
        from rill.structures.ragged_ops import _element_indices
        from rill.structures.sparse_tensor import SparseTensor

        flat = self.flat_values
        idx = _a.cast(_element_indices(self, with_inner=True), _d.int64)
        values = _a.reshape(flat, [-1])
        return SparseTensor(idx, values, self.bounding_shape(out_type=_d.int64))

    def _is_eager(self) -> bool:
        return all(_eager(t) for t in self._rill_components())

    def _require_eager(self, what):
        if not self._is_eager():
            raise ValueError(f"RaggedTensor.{what}() is only available in eager mode.")

    # composite protocol (rill.core.nest, rill.function) --------------------------------
    def _rill_components(self) -> list:
        return [self.flat_values, *self.nested_row_splits]

    def _rill_rebuild(self, components) -> RaggedTensor:
        return _from_components(components, self._uniforms())

    def _rill_static_key(self):
        return (self.ragged_rank, self._row_splits.dtype)

    # A value is its own spec with relaxed component shapes, so that rill.function traces
    # once per number of rows (as TF does) rather than once per number of values.
    def _rill_component_specs(self) -> list:
        return self._type_spec._rill_component_specs()

    def _rill_from_components(self, components) -> RaggedTensor:
        return _from_components(components, self._uniforms())

    def _uniforms(self):
        out, rt = [], self
        while isinstance(rt, RaggedTensor):
            out.append(rt._uniform)
            rt = rt._values
        return out

    @property
    def _type_spec(self) -> RaggedTensorSpec:
        return RaggedTensorSpec.from_value(self)

    # Python protocol -----------------------------------------------------------------
    def __repr__(self):
        if self._is_eager():
            with np.printoptions(formatter={"all": _format_item}):
                text = _format_item(self.numpy())
            return f"<rill.RaggedTensor {text}>"
        return f"rill.RaggedTensor(values={self._values!r}, row_splits={self._row_splits!r})"

    __str__ = __repr__

    def __getitem__(self, key):
        from rill.structures.ragged_ops import ragged_getitem

        return ragged_getitem(self, key)

    def __iter__(self):
        if not _eager(self._row_splits):
            raise TypeError("Iterating over a symbolic RaggedTensor is not allowed.")
        for i in range(self._row_splits._value.size - 1):
            yield self[i]

    def __bool__(self):
        raise TypeError("RaggedTensor may not be used as a boolean.")

    def __hash__(self):
        raise TypeError("RaggedTensor is unhashable.")


def _format_item(x):
    if isinstance(x, np.ndarray):
        return np.array2string(x, separator=", ")
    return str(x)


def _from_components(components, uniforms=None):
    flat, splits = components[0], list(components[1:])
    uniforms = uniforms or [None] * len(splits)
    result = flat
    for s, u in reversed(list(zip(splits, uniforms))):
        result = RaggedTensor._make(result, s, uniform_row_length=u)
    return result


def _fit_shape(dense, shape, default):
    """Truncate or pad (with ``default``) each dimension of ``dense`` to ``shape``."""
    target = TensorShape(shape)
    if target.rank is None:
        return dense
    if dense.shape.rank is not None and target.rank != dense.shape.rank:
        raise ValueError(
            f"shape {target} must have the rank of the dense tensor ({dense.shape.rank})"
        )
    dims = target.as_list()
    dense = dense[tuple(slice(None) if d is None else slice(0, d) for d in dims)]
    cur = _a.shape(dense, out_type=_d.int64)
    pads = []
    for i, d in enumerate(dims):
        extra = (
            _cr.zeros([], _d.int64) if d is None else _m.maximum(_a.cast(d, _d.int64) - cur[i], 0)
        )
        pads.append(_a.stack([_cr.zeros([], _d.int64), extra]))
    out = _s.pad(dense, _a.stack(pads), constant_values=default)
    static = [d if d is not None else s for d, s in zip(dims, dense.shape.as_list())]
    return out if _eager(out) else _s.ensure_shape(out, static)


# --------------------------------------------------------------------------------------
# RaggedTensorSpec
# --------------------------------------------------------------------------------------


@tf_export("RaggedTensorSpec")
class RaggedTensorSpec(BatchableTypeSpec):
    """Describes a RaggedTensor: shape (None for ragged dims), dtype, ragged_rank and
    row-splits dtype. Use it in ``rill.function(input_signature=...)``."""

    __slots__ = ("_shape", "_dtype", "_ragged_rank", "_row_splits_dtype", "_flat_values_spec")

    def __init__(
        self, shape=None, dtype=_d.float32, ragged_rank=None, row_splits_dtype=_d.int64,
        flat_values_spec=None,
    ):  # fmt: skip
        self._shape = TensorShape(shape)
        self._dtype = _d.as_dtype(dtype)
        self._row_splits_dtype = _d.as_dtype(row_splits_dtype)
        if self._row_splits_dtype not in _SPLIT_DTYPES:
            raise ValueError("row_splits_dtype must be int32 or int64")
        if flat_values_spec is not None:
            if dtype is None or _d.as_dtype(dtype) is not flat_values_spec.dtype:
                raise ValueError("dtype must be the same as flat_values_spec.dtype")
        self._flat_values_spec = flat_values_spec
        rank = self._shape.rank
        if ragged_rank is None:
            if rank is None:
                raise ValueError("Must specify ragged_rank or a shape with a known rank.")
            ragged_rank = rank - 1
        if not isinstance(ragged_rank, (int, np.integer)):
            raise TypeError(f"Argument `ragged_rank` must be an int, got {ragged_rank!r}")
        if rank is not None and not (0 <= ragged_rank < max(rank, 1)):
            raise ValueError(
                f"Argument `ragged_rank` ({ragged_rank}) must be less than rank ({rank})."
            )
        self._ragged_rank = int(ragged_rank)

    @classmethod
    def from_value(cls, value) -> RaggedTensorSpec:
        if isinstance(value, RaggedTensor):
            return cls(value.shape, value.dtype, value.ragged_rank, value.row_splits_dtype)
        t = _tensor(value)
        return cls(t.shape, t.dtype, 0)

    shape = property(lambda self: self._shape)
    dtype = property(lambda self: self._dtype)
    ragged_rank = property(lambda self: self._ragged_rank)
    row_splits_dtype = property(lambda self: self._row_splits_dtype)
    flat_values_spec = property(lambda self: self._flat_values_spec)

    @property
    def value_type(self):
        return RaggedTensor if self._ragged_rank > 0 else Tensor

    def _flat_spec(self) -> TensorSpec:
        if self._flat_values_spec is not None:
            return self._flat_values_spec
        if self._shape.rank is None:
            return TensorSpec(None, self._dtype)
        return TensorSpec([None] + self._shape.as_list()[self._ragged_rank + 1 :], self._dtype)

    # composite spec protocol (rill.function)
    def _rill_component_specs(self) -> list:
        if self._ragged_rank == 0:
            return [TensorSpec(self._shape, self._dtype)]
        n = self._shape[0] if self._shape.rank else None
        outer = TensorSpec([None if n is None else n + 1], self._row_splits_dtype)
        inner = [TensorSpec([None], self._row_splits_dtype)] * (self._ragged_rank - 1)
        return [self._flat_spec(), outer, *inner]

    def _rill_from_components(self, components):
        if self._ragged_rank == 0:
            return components[0]
        return _from_components(components)

    def _rill_static_key(self):
        return (self._ragged_rank, self._row_splits_dtype)

    def _rill_is_compatible(self, value) -> bool:
        if not isinstance(value, RaggedTensor):
            return False
        return (
            value.dtype is self._dtype
            and value.ragged_rank == self._ragged_rank
            and value.row_splits_dtype is self._row_splits_dtype
            and self._shape.is_compatible_with(value.shape)
        )

    def is_compatible_with(self, spec_or_value) -> bool:
        if isinstance(spec_or_value, RaggedTensorSpec):
            o = spec_or_value
            return (
                o._dtype is self._dtype
                and o._ragged_rank == self._ragged_rank
                and o._row_splits_dtype is self._row_splits_dtype
                and self._shape.is_compatible_with(o._shape)
            )
        return self._rill_is_compatible(spec_or_value)

    def most_specific_compatible_type(self, other) -> RaggedTensorSpec:
        if not (
            isinstance(other, RaggedTensorSpec)
            and other._dtype is self._dtype
            and other._ragged_rank == self._ragged_rank
            and other._row_splits_dtype is self._row_splits_dtype
        ):
            raise ValueError(f"No TypeSpec is compatible with both {self} and {other}")
        shape = self._shape.most_specific_compatible_shape(other._shape)
        return RaggedTensorSpec(shape, self._dtype, self._ragged_rank, self._row_splits_dtype)

    def _key(self):
        return (self._shape, self._dtype, self._ragged_rank, self._row_splits_dtype)

    # tf.TypeSpec's API
    def _serialize(self) -> tuple:
        s = (self._shape, self._dtype, self._ragged_rank, self._row_splits_dtype)
        return s if self._flat_values_spec is None else s + (self._flat_values_spec,)

    @property
    def _component_specs(self):
        return self._rill_component_specs()

    def _to_components(self, value):
        return value._rill_components() if self._ragged_rank else [value]

    def _from_components(self, components):
        return self._rill_from_components(components)

    def __eq__(self, other):
        return type(other) is type(self) and self._key() == other._key()

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        extra = f", {self._flat_values_spec!r}" if self._flat_values_spec is not None else ""
        return (
            f"RaggedTensorSpec({self._shape!r}, {self._dtype!r}, {self._ragged_rank}, "
            f"{self._row_splits_dtype!r}{extra})"
        )


from rill.structures import ragged_ops as _ragged_ops  # noqa: E402, F401 - operators, dispatch
