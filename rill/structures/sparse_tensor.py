"""``tf.SparseTensor``, ``tf.SparseTensorSpec`` and ``tf.IndexedSlices``.

A SparseTensor is three tensors: ``indices`` (int64 ``[N, rank]``), ``values`` (``[N]``)
and ``dense_shape`` (int64 ``[rank]``). It is a composite value (``_rill_components``), so
it flows through ``rill.nest``, ``rill.function`` arguments and outputs, and
``input_signature`` (with :class:`SparseTensorSpec`). Its static ``shape`` comes from
``dense_shape`` when that is known, else from what the op that made it could infer.

The ops on it live in :mod:`rill.structures.sparse_ops`.
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.core.convert import convert_to_tensor, register_tensor_conversion_function
from rill.core.tensor import Tensor, TensorSpec
from rill.core.tensor_shape import TensorShape
from rill.core.type_spec import BatchableTypeSpec
from rill.ops._op import static_value, tf_export

__all__ = ["SparseTensor", "SparseTensorSpec", "IndexedSlices", "IndexedSlicesSpec"]


def _with_rank(t, rank: int, what: str) -> None:
    r = t.shape.rank
    if r is not None and r != rank:
        raise ValueError(f"Shape {t.shape} must have rank {rank} ({what} of a SparseTensor)")


def _merge_dim(a, b) -> None:
    if a is not None and b is not None and a != b:
        raise ValueError(f"Dimensions {a} and {b} are not compatible")


def _shape_from(dense_shape) -> TensorShape:
    """The static shape a ``dense_shape`` tensor describes (None dims where unknown)."""
    v = static_value(dense_shape)
    if v is not None:
        return TensorShape([int(d) for d in np.asarray(v).reshape(-1)])
    n = dense_shape.shape[0] if dense_shape.shape.rank == 1 else None
    return TensorShape(None) if n is None else TensorShape([None] * n)


@tf_export("SparseTensor", "sparse.SparseTensor")
class SparseTensor:
    """A tensor stored as the coordinates and values of its non-default entries.

    ``SparseTensor(indices, values, dense_shape)``: ``indices`` int64 ``[N, rank]`` (in
    row-major order for most ops: ``tf.sparse.reorder`` restores it), ``values`` ``[N]``
    and ``dense_shape`` int64 ``[rank]``.
    """

    _rill_dispatch = True  # tf.math ops with a SparseTensor argument dispatch to sparse_ops
    __slots__ = ("_indices", "_values", "_dense_shape", "_shape", "__weakref__")

    def __init__(self, indices, values, dense_shape):
        indices = convert_to_tensor(indices, dtype=_d.int64)
        values = convert_to_tensor(values)
        dense_shape = convert_to_tensor(dense_shape, dtype=_d.int64)
        _with_rank(indices, 2, "indices")
        _with_rank(values, 1, "values")
        _with_rank(dense_shape, 1, "dense_shape")
        ish = indices.shape.as_list() if indices.shape.rank is not None else [None, None]
        if values.shape.rank is not None:
            _merge_dim(ish[0], values.shape[0])
        if dense_shape.shape.rank is not None:
            _merge_dim(ish[1], dense_shape.shape[0])
        self._indices = indices
        self._values = values
        self._dense_shape = dense_shape
        self._shape = _shape_from(dense_shape)

    @classmethod
    def _from_parts(cls, indices, values, dense_shape, shape=None) -> SparseTensor:
        """Build from tensors already of the right dtypes (no conversion or checks);
        ``shape`` adds static shape information the ops inferred."""
        st = object.__new__(cls)
        st._indices = indices
        st._values = values
        st._dense_shape = dense_shape
        s = _shape_from(dense_shape)
        if shape is not None:
            shape = TensorShape(shape)
            if s.rank is None or shape.is_compatible_with(s):
                s = shape.merge_with(s) if s.rank is not None else shape
        st._shape = s
        return st

    @classmethod
    def from_value(cls, sparse_tensor_value) -> SparseTensor:
        if isinstance(sparse_tensor_value, SparseTensor):
            return sparse_tensor_value
        v = sparse_tensor_value
        if all(hasattr(v, a) for a in ("indices", "values", "dense_shape")):
            return cls(v.indices, v.values, v.dense_shape)
        raise TypeError(f"Expected a SparseTensor or SparseTensorValue, got {type(v).__name__}")

    # properties ---------------------------------------------------------------------------
    @property
    def indices(self) -> Tensor:
        """int64 ``[N, rank]``: the coordinates of the stored entries."""
        return self._indices

    @property
    def values(self) -> Tensor:
        """``[N]``: the stored entries."""
        return self._values

    @property
    def dense_shape(self) -> Tensor:
        """int64 ``[rank]``: the shape of the dense tensor this represents."""
        return self._dense_shape

    @property
    def dtype(self):
        return self._values.dtype

    @property
    def shape(self) -> TensorShape:
        return self._shape

    @property
    def ndim(self):
        return self._shape.rank

    def get_shape(self) -> TensorShape:
        return self._shape

    def set_shape(self, shape) -> None:
        """Merge more static shape information in (a ValueError if incompatible)."""
        shape = TensorShape(shape)
        if not self._shape.is_compatible_with(shape):
            raise ValueError(
                f"SparseTensor's shape {self._shape} is not compatible with supplied shape {shape}."
            )
        self._shape = self._shape.merge_with(shape) if self._shape.rank is not None else shape

    def with_values(self, new_values) -> SparseTensor:
        """A SparseTensor with the same indices and dense shape and ``new_values``."""
        new_values = convert_to_tensor(new_values)
        _with_rank(new_values, 1, "values")
        _merge_dim(self._values.shape[0], new_values.shape[0])
        return SparseTensor._from_parts(self._indices, new_values, self._dense_shape, self._shape)

    # composite protocol (rill.nest, rill.function) -----------------------------------------
    def _rill_components(self):
        return [self._indices, self._values, self._dense_shape]

    def _rill_rebuild(self, components) -> SparseTensor:
        ind, vals, shape = components
        return SparseTensor._from_parts(ind, vals, shape, self._shape)

    def _rill_static_key(self):
        return _static_key(self._shape, self.dtype)

    @property
    def _type_spec(self) -> SparseTensorSpec:
        return SparseTensorSpec(self._shape, self.dtype)

    # A value also describes its own relaxed spec, so rill.function keys and traces it by
    # (shape, dtype) like TF, not by its number of entries.
    def _rill_component_specs(self):
        return SparseTensorSpec(self._shape, self.dtype)._rill_component_specs()

    def _rill_from_components(self, components) -> SparseTensor:
        return SparseTensorSpec(self._shape, self.dtype)._rill_from_components(components)

    # operators ------------------------------------------------------------------------------
    def __mul__(self, other):
        from rill.structures import sparse_ops

        return sparse_ops._cwise(self, other, "mul")

    def __truediv__(self, other):
        from rill.structures import sparse_ops

        return sparse_ops._cwise(self, other, "truediv")

    __div__ = __truediv__

    def __repr__(self):
        return (
            f"SparseTensor(indices={self._indices}, values={self._values}, "
            f"dense_shape={self._dense_shape})"
        )

    __str__ = __repr__


def _static_key(shape: TensorShape, dtype):
    return (None if shape.rank is None else tuple(shape.as_list()), dtype)


@tf_export("SparseTensorSpec")
class SparseTensorSpec(BatchableTypeSpec):
    """Describes a SparseTensor: its (possibly partial) dense ``shape`` and ``dtype``."""

    __slots__ = ("_shape", "_dtype")

    def __init__(self, shape=None, dtype=_d.float32):
        self._shape = TensorShape(shape)
        self._dtype = _d.as_dtype(dtype)

    @property
    def shape(self) -> TensorShape:
        return self._shape

    @property
    def dtype(self):
        return self._dtype

    @property
    def value_type(self):
        return SparseTensor

    @classmethod
    def from_value(cls, value) -> SparseTensorSpec:
        return cls(value.shape, value.dtype)

    def is_compatible_with(self, spec_or_value) -> bool:
        o = spec_or_value
        if not isinstance(o, (SparseTensor, SparseTensorSpec)):
            return False
        return o.dtype == self._dtype and self._shape.is_compatible_with(o.shape)

    def most_specific_compatible_type(self, other) -> SparseTensorSpec:
        if not isinstance(other, SparseTensorSpec) or other.dtype != self._dtype:
            raise ValueError(f"No TypeSpec is compatible with both {self!r} and {other!r}")
        return SparseTensorSpec(
            self._shape.most_specific_compatible_shape(other.shape), self._dtype
        )

    # tf.TypeSpec's API ---------------------------------------------------------------------
    def _serialize(self) -> tuple:
        return (self._shape, self._dtype)

    @property
    def _component_specs(self):
        return self._rill_component_specs()

    def _to_components(self, value):
        return value._rill_components()

    def _from_components(self, components):
        return self._rill_from_components(components)

    def _batch(self, batch_size):
        dims = None if self._shape.rank is None else [batch_size, *self._shape.as_list()]
        return SparseTensorSpec(dims, self._dtype)

    def _unbatch(self):
        dims = None if self._shape.rank is None else self._shape.as_list()[1:]
        return SparseTensorSpec(dims, self._dtype)

    # composite-spec protocol (rill.function input_signature) ------------------------------
    def _rill_component_specs(self):
        rank = self._shape.rank
        return [
            TensorSpec([None, rank], _d.int64),
            TensorSpec([None], self._dtype),
            TensorSpec([rank], _d.int64),
        ]

    def _rill_from_components(self, components) -> SparseTensor:
        ind, vals, shape = components
        return SparseTensor._from_parts(ind, vals, shape, self._shape)

    def _rill_is_compatible(self, value) -> bool:
        return isinstance(value, SparseTensor) and self.is_compatible_with(value)

    def _rill_static_key(self):
        return _static_key(self._shape, self._dtype)

    def __eq__(self, other):
        return (
            type(other) is type(self)
            and self._shape == other._shape
            and self._dtype == other._dtype
        )

    def __hash__(self):
        return hash((SparseTensorSpec, _static_key(self._shape, self._dtype)))

    def __repr__(self):
        return f"SparseTensorSpec({self._shape!r}, {self._dtype!r})"


@tf_export("IndexedSlices")
class IndexedSlices:
    """Slices of a dense tensor: ``values[i]`` is row ``indices[i]`` of a tensor of shape
    ``dense_shape`` (TF's representation of sparse gradients; ``tf.sparse.mask`` takes it)."""

    __slots__ = ("_values", "_indices", "_dense_shape")

    def __init__(self, values, indices, dense_shape=None):
        self._values = convert_to_tensor(values)
        self._indices = convert_to_tensor(indices)
        self._dense_shape = None if dense_shape is None else convert_to_tensor(dense_shape)

    @property
    def values(self):
        return self._values

    @property
    def indices(self):
        return self._indices

    @property
    def dense_shape(self):
        return self._dense_shape

    @property
    def dtype(self):
        return self._values.dtype

    @property
    def shape(self) -> TensorShape:
        if self._dense_shape is None:
            return TensorShape(None)
        return _shape_from(self._dense_shape)

    @property
    def _type_spec(self) -> IndexedSlicesSpec:
        ds = self._dense_shape
        shape = self.shape
        if ds is None and self._values.shape.rank is not None:  # rows of unknown count
            shape = TensorShape([None]).concatenate(self._values.shape[1:])
        return IndexedSlicesSpec(
            shape,
            self.dtype,
            self._indices.dtype,
            None if ds is None else ds.dtype,
            self._indices.shape.merge_with(self._values.shape[:1]),
        )

    def _rill_components(self):
        c = [self._values, self._indices]
        return c if self._dense_shape is None else c + [self._dense_shape]

    def _rill_rebuild(self, components):
        return IndexedSlices(*components)

    def __repr__(self):
        ds = "None" if self._dense_shape is None else str(self._dense_shape)
        return f"IndexedSlices(indices={self._indices}, values={self._values}, dense_shape={ds})"


@tf_export("IndexedSlicesSpec")
class IndexedSlicesSpec(BatchableTypeSpec):
    """Describes an IndexedSlices: the dense ``shape`` and ``dtype`` it stands for, the
    dtypes of its indices and dense shape (None: no dense shape) and the indices' shape."""

    __slots__ = ("_shape", "_values_dtype", "_indices_dtype", "_dense_shape_dtype",
                 "_indices_shape")  # fmt: skip

    def __init__(
        self, shape=None, dtype=_d.float32, indices_dtype=_d.int64, dense_shape_dtype=None,
        indices_shape=None,
    ):  # fmt: skip
        self._shape = TensorShape(shape)
        self._values_dtype = _d.as_dtype(dtype)
        self._indices_dtype = _d.as_dtype(indices_dtype)
        self._dense_shape_dtype = (
            None if dense_shape_dtype is None else _d.as_dtype(dense_shape_dtype)
        )
        self._indices_shape = TensorShape(indices_shape).with_rank(1)

    shape = property(lambda self: self._shape)
    dtype = property(lambda self: self._values_dtype)

    @property
    def value_type(self):
        return IndexedSlices

    def _serialize(self) -> tuple:
        return (
            self._shape, self._values_dtype, self._indices_dtype, self._dense_shape_dtype,
            self._indices_shape,
        )  # fmt: skip

    def _rill_component_specs(self) -> list:
        n = self._indices_shape.as_list()
        values = TensorSpec(
            None if self._shape.rank is None else n + self._shape.as_list()[1:],
            self._values_dtype,
        )
        comps = [values, TensorSpec(n, self._indices_dtype)]
        if self._dense_shape_dtype is not None:
            comps.append(TensorSpec([self._shape.rank], self._dense_shape_dtype))
        return comps

    def _rill_from_components(self, components) -> IndexedSlices:
        return IndexedSlices(*components)

    def _rill_is_compatible(self, value) -> bool:
        return isinstance(value, IndexedSlices) and self.is_compatible_with(value._type_spec)

    @property
    def _component_specs(self):
        return self._rill_component_specs()

    def _to_components(self, value):
        return value._rill_components()

    def _from_components(self, components):
        return self._rill_from_components(components)

    def __repr__(self):
        ser = ", ".join(repr(x) for x in self._serialize())
        return f"IndexedSlicesSpec({ser})"


def _indexed_slices_to_tensor(value, dtype=None, name=None, as_ref=False):
    """``tf.convert_to_tensor(IndexedSlices)``: the dense tensor, rows summed where an
    index repeats (as TF densifies a sparse gradient)."""
    import rill

    if dtype is not None and _d.as_dtype(dtype) is not value.dtype:
        raise ValueError(
            f"Tensor conversion requested dtype {_d.as_dtype(dtype).name} for IndexedSlices "
            f"with dtype {value.dtype.name}"
        )
    if value.dense_shape is None:
        raise ValueError(
            f"Tensor conversion requested for IndexedSlices without dense_shape: {value!s}"
        )
    return rill.math.unsorted_segment_sum(value.values, value.indices, value.dense_shape[0])


register_tensor_conversion_function(IndexedSlices, _indexed_slices_to_tensor)
