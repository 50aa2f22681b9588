"""``tf.experimental.StructuredTensor``: a tensor of structures (dicts of named fields).

A StructuredTensor of shape ``[D1..DN]`` holds fields whose values (Tensor, RaggedTensor
or StructuredTensor) all share those ``N`` outer dimensions; ``st[i1..iN]`` is one
structure. Eager-first; as a ``rill.function`` argument it travels as its field values.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rill.core import dtypes as _d
from rill.core.convert import convert_to_tensor
from rill.core.tensor import Tensor, TensorSpec
from rill.core.tensor_shape import TensorShape, as_shape
from rill.ops import array_ops as _a
from rill.ops import indexing_ops as _ix
from rill.ops._op import tf_export
from rill.structures.ragged_shape import RowPartition
from rill.structures.ragged_tensor import RaggedTensor

_INDENT = "\n            "


def _field_shape(v) -> TensorShape:
    return v.shape if isinstance(v, (Tensor, RaggedTensor, StructuredTensor)) else TensorShape(None)


def _convert_field(v):
    # Python values become tensors; nested lists become RaggedTensors like from_pyval.
    if isinstance(v, (Tensor, RaggedTensor, StructuredTensor)):
        return v
    if isinstance(v, Mapping):
        return StructuredTensor.from_pyval(dict(v))
    return convert_to_tensor(v)


def _nrows_of(v):
    if isinstance(v, (RaggedTensor, StructuredTensor)):
        return _a.cast(v.nrows(), _d.int64)
    return _a.shape(v, out_type=_d.int64)[0]


def _partitions_of(v, rank):
    """The ``rank - 1`` row partitions of the outer dims of field ``v``."""
    if isinstance(v, StructuredTensor):
        return v.row_partitions
    parts, level = [], v
    for _ in range(rank - 1):
        if isinstance(level, RaggedTensor):
            parts.append(RowPartition._from_ragged(level, level.uniform_row_length))
            level = level.values
        else:
            # A dense dim: uniform rows; the outer dims of `level` fold into its rows.
            shp = _a.shape(level, out_type=_d.int64)
            n = _a.reshape(shp[0] * shp[1], [])
            parts.append(RowPartition.from_uniform_row_length(shp[1], nvals=n, dtype=_d.int64))
            level = _a.reshape(level, _concat_shape([-1], shp[2:]))
    return tuple(parts)


def _concat_shape(head, tail):
    from rill.ops.shape_ops import concat

    return concat([convert_to_tensor(np.array(head, np.int64)), _a.cast(tail, _d.int64)], 0)


@tf_export("experimental.StructuredTensor")
class StructuredTensor:
    """A multidimensional collection of structures with the same schema."""

    def __init__(self, fields, ragged_shape):
        """Builds from ``fields`` (a dict) and a ``DynamicRaggedShape``; prefer ``from_fields``."""
        if not isinstance(fields, Mapping):
            raise TypeError(f"fields must be a dictionary, got {type(fields).__name__}")
        rank = ragged_shape.rank
        static = [None] * rank
        lengths = ragged_shape.static_lengths() if rank else []
        for i, x in enumerate(lengths):
            static[i] = x if isinstance(x, int) else None
        nrows = ragged_shape[0] if rank else None
        self._init(dict(fields), TensorShape(static), nrows, ragged_shape.row_partitions)

    def _init(self, fields, shape, nrows, row_partitions):
        self._fields = fields
        self._shape = shape
        self._nrows = nrows
        self._row_partitions = tuple(row_partitions or ())

    @classmethod
    def _make(cls, fields, shape, nrows, row_partitions):
        st = cls.__new__(cls)
        st._init(fields, shape, nrows, row_partitions)
        return st

    # constructors ------------------------------------------------------------------------
    @classmethod
    def from_fields(
        cls, fields, shape=(), nrows=None, row_partitions=None, validate=False
    ) -> StructuredTensor:
        """A StructuredTensor whose field ``k`` is ``fields[k]`` (sharing the outer ``shape``)."""
        shape = as_shape(shape)
        rank = shape.rank
        if rank is None:
            raise ValueError("StructuredTensor's shape must have known rank.")
        if not isinstance(fields, Mapping):
            raise TypeError(f"fields must be a dictionary, got {type(fields).__name__}")
        if rank < 2 and row_partitions:
            raise ValueError("row_partitions must be None or [] if shape.rank<2")
        if rank == 0 and nrows is not None:
            raise ValueError("nrows must be None if shape.rank==0")
        out = {}
        for k, v in fields.items():
            if not isinstance(k, str):
                raise TypeError(f"Unexpected type for key in `fields`: {k!r}")
            v = _convert_field(v)
            fshape = _field_shape(v)
            if fshape.rank is not None and fshape.rank < rank:
                raise ValueError(
                    f"StructuredTensor.from_fields: field {k!r} has shape {fshape}, whose "
                    f"rank is less than the StructuredTensor's rank {rank}"
                )
            shape = shape.merge_with(fshape[:rank])  # raises "Shapes ... are not compatible"
            out[k] = v
        if rank > 0 and nrows is None:
            if not out:
                if shape[0] is None:
                    raise ValueError(
                        "nrows must be specified if rank>0 and fields is empty "
                        "and the shape's first dimension is unknown"
                    )
                nrows = shape[0]
            else:
                nrows = _nrows_of(next(iter(out.values())))
        if nrows is not None:
            nrows = _a.cast(convert_to_tensor(nrows), _d.int64)
            if shape[0] is None:
                static = nrows.numpy() if hasattr(nrows, "numpy") else None
                if static is not None:
                    shape = TensorShape([int(static)] + shape.as_list()[1:])
        if rank > 1 and row_partitions is None:
            if out:
                row_partitions = _partitions_of(next(iter(out.values())), rank)
            elif shape.is_fully_defined():
                # A fully known shape gives uniform partitions.
                dims, n, row_partitions = shape.as_list(), shape[0], []
                for d in dims[1:]:
                    row_partitions.append(
                        RowPartition.from_uniform_row_length(d, nrows=n, dtype=_d.int64)
                    )
                    n *= d
            else:
                raise ValueError("row_partitions must be specified if rank>1 and fields is empty")
        if validate and rank > 0:
            for k, v in out.items():
                got = _nrows_of(v)
                if int(got.numpy()) != int(nrows.numpy()):
                    raise ValueError(f"field {k!r} has {int(got.numpy())} rows, expected nrows")
        return cls._make(out, shape, nrows, row_partitions)

    @classmethod
    def from_pyval(cls, pyval, typespec=None):
        """A StructuredTensor (or Tensor/RaggedTensor) from nested Python dicts and lists."""
        if typespec is not None:
            # Typed parsing is not implemented; refuse rather than ignore the spec.
            raise ValueError("rill's StructuredTensor.from_pyval supports only typespec=None")
        return _from_pyval(pyval, ())

    # properties --------------------------------------------------------------------------
    @property
    def shape(self) -> TensorShape:
        """The static shape of this StructuredTensor (its outer dimensions)."""
        return self._shape

    @property
    def rank(self) -> int:
        """The number of dimensions of this StructuredTensor."""
        return self._shape.rank

    @property
    def row_partitions(self) -> tuple:
        """The row partitions of dims 1..rank-1 (empty for rank < 2)."""
        return self._row_partitions

    def nrows(self):
        """The number of rows (``shape[0]``), an int64 scalar; ``None`` when rank is 0."""
        return self._nrows

    def field_names(self) -> tuple:
        """The names of this StructuredTensor's fields, in insertion order."""
        return tuple(self._fields)

    def field_value(self, field_name):
        """The value of field ``field_name`` (a string or a tuple path of strings)."""
        if isinstance(field_name, (list, tuple)):
            value = self
            for f in field_name:
                if not isinstance(value, StructuredTensor):
                    raise KeyError(f"Field path {field_name} not found in {self}")
                value = value.field_value(f)
            return value
        return self._fields[field_name]

    @property
    def _type_spec(self) -> StructuredTensor.Spec:
        return StructuredTensor.Spec(self._shape, {k: _spec_of(v) for k, v in self._fields.items()})

    def _is_eager(self) -> bool:
        return all(hasattr(c, "numpy") for c in self._rill_components())

    # transforms --------------------------------------------------------------------------
    def with_updates(self, updates, validate=False) -> StructuredTensor:
        """A copy with fields added, replaced (value or callable), or deleted (``None``)."""
        fields = dict(self._fields)
        for name, value in updates.items():
            path = (name,) if isinstance(name, str) else tuple(name)
            if not path:
                raise ValueError("Empty field path in with_updates")
            fields = _update(self, fields, path, value, validate)
        return StructuredTensor.from_fields(
            fields, self._shape, self._nrows, self._row_partitions or None, validate
        )

    def promote(self, source_path, new_name) -> StructuredTensor:
        """Copies the field at ``source_path`` up one level, naming it ``new_name``."""
        source_path = (source_path,) if isinstance(source_path, str) else tuple(source_path)
        if len(source_path) < 2:
            raise ValueError("source_path must have length at least 2")
        value = self.field_value(source_path)
        parent = self.field_value(source_path[:-2]) if len(source_path) > 2 else self
        child = parent.field_value(source_path[-2])
        merged = value
        # The value keeps the parent's dims plus the child's; merge the child's outer dims
        # into the parent's innermost dim (TF's rule) when the parent is not scalar.
        if parent.rank > 0 and child.rank > parent.rank:
            merged = _merge_dims_value(value, parent.rank - 1, child.rank - 1)
        new_path = source_path[:-2] + (new_name,)
        return self.with_updates({new_path: merged})

    def partition_outer_dimension(self, row_partition) -> StructuredTensor:
        """Splits the outer dimension into rows per ``row_partition`` (rank grows by 1)."""
        if not isinstance(row_partition, RowPartition):
            raise TypeError("row_partition must be a RowPartition.")
        if self.rank == 0:
            raise ValueError(f"Shape {self.shape} must have rank at least 1")
        fields = {k: _partition_value(v, row_partition) for k, v in self._fields.items()}
        nrows = row_partition.static_nrows
        shape = TensorShape([nrows, None] + self._shape.as_list()[1:])
        if row_partition.is_uniform():
            shape = TensorShape(
                [nrows, row_partition.static_uniform_row_length] + self._shape.as_list()[1:]
            )
        parts = (row_partition.with_dtype(_d.int64),) + self._row_partitions
        return StructuredTensor._make(
            fields, shape, _a.cast(row_partition.nrows(), _d.int64), parts
        )

    def merge_dims(self, outer_axis, inner_axis) -> StructuredTensor:
        """Merges dimensions ``outer_axis..inner_axis`` (inclusive) into one."""
        rank = self.rank
        if rank is None or rank == 0:
            raise ValueError("merge_dims requires a StructuredTensor of known rank >= 1")
        outer_axis = outer_axis + rank if outer_axis < 0 else outer_axis
        inner_axis = inner_axis + rank if inner_axis < 0 else inner_axis
        if not 0 <= outer_axis < rank or not 0 <= inner_axis < rank:
            raise ValueError(
                f"Expected outer_axis ({outer_axis}) and inner_axis ({inner_axis}) to be "
                f"in the range [{-rank}, {rank})"
            )
        if outer_axis > inner_axis:
            raise ValueError(
                f"Expected outer_axis ({outer_axis}) to be less than or equal to "
                f"inner_axis ({inner_axis})"
            )
        if outer_axis == inner_axis:
            return self
        fields = {k: _merge_dims_value(v, outer_axis, inner_axis) for k, v in self._fields.items()}
        dims = self._shape.as_list()
        merged = dims[outer_axis : inner_axis + 1]
        size = None if None in merged else int(np.prod(merged))
        new_shape = TensorShape(dims[:outer_axis] + [size] + dims[inner_axis + 1 :])
        if outer_axis == 0:
            nrows = _compose_nvals(self, inner_axis)
            if size is None and hasattr(nrows, "numpy"):
                size = int(nrows.numpy())
                new_shape = TensorShape([size] + dims[inner_axis + 1 :])
        else:
            nrows = self._nrows
        parts = _merge_partitions(self._row_partitions, outer_axis, inner_axis)
        return StructuredTensor._make(fields, new_shape, nrows, parts)

    # conversion --------------------------------------------------------------------------
    def to_pyval(self):
        """This StructuredTensor as nested Python dicts (rank 0) or lists of dicts."""
        if not self._is_eager():
            raise ValueError("StructuredTensor.to_pyval() is only supported in eager mode.")
        result = {}
        for k, v in self._fields.items():
            if isinstance(v, StructuredTensor):
                v = v.to_pyval()
            elif isinstance(v, RaggedTensor):
                v = v.to_list()
            else:
                v = v.numpy()
                if isinstance(v, np.ndarray):
                    v = v.tolist()
            result[k] = v
        if self.rank == 0:
            return result
        if not result:
            return _empty_dicts(self)
        return _field_major_to_node_major(list(result), list(result.values()), self.rank)

    # indexing ----------------------------------------------------------------------------
    def __getitem__(self, key):
        key = tuple(key) if isinstance(key, list) else key if isinstance(key, tuple) else (key,)
        if not key:
            return self
        rank = self.rank
        if rank == 0:
            k0 = key[0]
            if isinstance(k0, slice) and k0 == slice(None):
                fields = {n: _getitem(v, key[1:]) for n, v in self._fields.items()}
                return StructuredTensor.from_fields(fields, self._shape)
            if not isinstance(k0, (str, bytes)):
                raise ValueError(
                    "Key for indexing a StructuredTensor must be a string or a full slice (':')"
                )
            k0 = k0.decode() if isinstance(k0, bytes) else k0
            return _getitem(self._fields[k0], key[1:])
        if len(key) <= rank:
            dims = self._shape.as_list()
            for d, k in enumerate(key):
                if isinstance(k, slice):
                    if k != slice(None):
                        dims[d] = None
                elif isinstance(k, (int, np.integer, Tensor)):
                    dims[d] = -1  # dropped below
                elif k is None:
                    raise ValueError("Slicing not supported for tf.newaxis")
                else:
                    raise ValueError(f"Slicing not supported for {k!r}")
            fields = {n: _getitem(v, key) for n, v in self._fields.items()}
            return StructuredTensor.from_fields(fields, [d for d in dims if d != -1])
        name = key[rank]
        if not isinstance(name, (str, bytes)):
            raise ValueError("Key for indexing a StructuredTensor must be a string")
        name = name.decode() if isinstance(name, bytes) else name
        return _getitem(self._fields[name], key[:rank] + key[rank + 1 :])

    def __repr__(self):
        items = sorted(self._fields.items())
        body = ",\n        ".join(f'"{k}": {str(v).replace(chr(10), _INDENT)}' for k, v in items)
        return f"<StructuredTensor(\n    fields={{\n        {body}}},\n    shape={self._shape})>"

    __str__ = __repr__

    # composite protocol (rill.nest, rill.function) ---------------------------------------
    def _rill_components(self) -> list:
        out = []
        for v in self._fields.values():
            out.extend(v._rill_components() if hasattr(v, "_rill_components") else [v])
        if self._nrows is not None:
            out.append(self._nrows)
        for rp in self._row_partitions:
            out.append(rp.row_splits())
        return out

    def _rill_static_key(self):
        return (
            tuple(self._shape.as_list()) if self.rank else (),
            tuple(
                (k, type(v).__name__, v._rill_static_key() if hasattr(v, "_rill_static_key")
                 else None, len(v._rill_components()) if hasattr(v, "_rill_components") else 1)
                for k, v in self._fields.items()
            ),
            self._nrows is not None,
            tuple(rp.static_uniform_row_length for rp in self._row_partitions),
        )  # fmt: skip

    def _rill_rebuild(self, components) -> StructuredTensor:
        comps, i, fields = list(components), 0, {}
        for k, v in self._fields.items():
            if hasattr(v, "_rill_components"):
                n = len(v._rill_components())
                fields[k] = v._rill_rebuild(comps[i : i + n])
            else:
                n = 1
                fields[k] = comps[i]
            i += n
        nrows = None
        if self._nrows is not None:
            nrows, i = comps[i], i + 1
        parts = []
        for rp in self._row_partitions:
            u = rp.uniform_row_length() if rp.is_uniform() else None
            parts.append(RowPartition(comps[i], uniform_row_length=u, internal=True))
            i += 1
        return StructuredTensor._make(fields, self._shape, nrows, parts)

    class Spec:
        """The type of a StructuredTensor: its shape and its fields' specs."""

        def __init__(self, shape, field_specs):
            self._shape = as_shape(shape)
            self._fields = dict(field_specs)

        @property
        def _field_specs(self) -> dict:
            return self._fields

        @property
        def shape(self) -> TensorShape:
            """The static shape of the described StructuredTensors."""
            return self._shape

        @property
        def rank(self):
            """The rank of the described StructuredTensors."""
            return self._shape.rank

        @property
        def value_type(self):
            """``StructuredTensor``."""
            return StructuredTensor

        def is_compatible_with(self, spec_or_value) -> bool:
            """Whether ``spec_or_value`` has a compatible shape and the same field types."""
            other = (
                spec_or_value._type_spec
                if isinstance(spec_or_value, StructuredTensor)
                else spec_or_value
            )
            if not isinstance(other, StructuredTensor.Spec):
                return False
            if set(other._fields) != set(self._fields):
                return False
            return self._shape.is_compatible_with(other._shape) and all(
                self._fields[k].is_compatible_with(other._fields[k]) for k in self._fields
            )

        def __eq__(self, other):
            return (
                isinstance(other, StructuredTensor.Spec)
                and self._shape == other._shape
                and self._fields == other._fields
            )

        def __hash__(self):
            return hash((tuple(self._shape.as_list()) if self.rank else (), tuple(self._fields)))

        def __repr__(self):
            fields = ", ".join(f"{k!r}: {v!r}" for k, v in self._fields.items())
            return f"StructuredTensor.Spec(_fields={{{fields}}}, shape={self._shape})"


StructuredTensor.Spec.__qualname__ = "StructuredTensor.Spec"


# helpers ---------------------------------------------------------------------------------
def _spec_of(v):
    if isinstance(v, (RaggedTensor, StructuredTensor)):
        return v._type_spec
    return TensorSpec(v.shape, v.dtype)


def _getitem(v, key):
    return v.__getitem__(key) if key else v


def _update(st, fields, path, value, validate):
    name = path[0]
    if len(path) > 1:
        if name not in fields or not isinstance(fields[name], StructuredTensor):
            raise ValueError(f"Field {'.'.join(path)} cannot be updated: {name!r} is not a "
                             "StructuredTensor field")  # fmt: skip
        fields[name] = fields[name].with_updates({path[1:]: value}, validate)
        return fields
    if value is None:
        if name not in fields:
            raise ValueError(f"Field {name} is not present, cannot be deleted")
        del fields[name]
    elif callable(value):
        if name not in fields:
            raise ValueError(f"Field {name} is not present, cannot apply a function to it")
        fields[name] = value(fields[name])
    else:
        fields[name] = value
    return fields


def _from_pyval(pyval, path):
    from rill.structures.ragged_ops import constant as ragged_constant

    if isinstance(pyval, dict):
        fields = {k: _from_pyval(v, path + (k,)) for k, v in pyval.items()}
        return StructuredTensor.from_fields(fields, ())
    if isinstance(pyval, (list, tuple)):
        keys: dict = {}
        rank = _struct_depth(pyval, keys)
        if rank is None:
            try:
                return ragged_constant(pyval)
            except Exception as exc:
                raise ValueError(f"Error parsing path {path!r}") from exc
        columns: dict = {k: [] for k in keys}
        for child in pyval:
            _fill_columns(child, columns, rank - 1)
        fields = {k: _from_pyval(v, path + (k,)) for k, v in columns.items()}
        if not fields:
            return _empty_dict_st(pyval, rank)
        try:
            return StructuredTensor.from_fields(fields, [None] * rank)
        except Exception as exc:
            raise ValueError(f"Error parsing path {path!r}") from exc
    try:
        return convert_to_tensor(pyval)
    except Exception as exc:
        raise ValueError(f"Error parsing path {path!r}") from exc


def _struct_depth(pyval, keys):
    """Depth of list nesting above the dicts in ``pyval`` (None if it holds no dicts);
    collects the dicts' keys. Mixed depths are an error."""
    if isinstance(pyval, dict):
        for k in pyval:
            keys.setdefault(k, None)
        return 0
    if isinstance(pyval, (list, tuple)):
        depths = {_struct_depth(x, keys) for x in pyval} - {None}
        if not depths:
            return None
        if len(depths) > 1:
            raise ValueError("Value must be a nested list of dictionaries of uniform depth")
        return depths.pop() + 1
    return None


def _fill_columns(pyval, columns, depth):
    # Field-major view: columns[k] mirrors the list nesting, holding each dict's value.
    if depth == 0 or isinstance(pyval, dict):
        for k, col in columns.items():
            if k not in pyval:
                raise ValueError(f"Key {k!r} missing from some of the dictionaries")
            col.append(pyval[k])
        return
    children = {k: [] for k in columns}
    for item in pyval:
        _fill_columns(item, children, depth - 1)
    for k, col in columns.items():
        col.append(children[k])


def _empty_dict_st(pyval, rank):
    if rank == 1:
        return StructuredTensor.from_fields({}, (len(pyval),), nrows=len(pyval))
    from rill.structures.ragged_ops import constant as ragged_constant

    def zeros(x):
        return 0 if isinstance(x, dict) else [zeros(y) for y in x]

    rt = ragged_constant(zeros(pyval), dtype=_d.int64)
    parts = _partitions_of(rt, rank)
    shape = [len(pyval)] + [None] * (rank - 1)
    return StructuredTensor.from_fields({}, shape, nrows=len(pyval), row_partitions=parts)


def _field_major_to_node_major(keys, values, depth):
    if depth == 0:
        return dict(zip(keys, values))
    n = len(values[0])
    return [_field_major_to_node_major(keys, [v[i] for v in values], depth - 1) for i in range(n)]


def _empty_dicts(st):
    n = int(st.nrows().numpy())
    if st.rank == 1:
        return [{} for _ in range(n)]

    def build(level, start, stop):
        if level == len(st.row_partitions):
            return [{} for _ in range(start, stop)]
        splits = st.row_partitions[level].row_splits().numpy()
        return [build(level + 1, int(splits[i]), int(splits[i + 1])) for i in range(start, stop)]

    return build(0, 0, n)


def _partition_value(v, rp):
    if isinstance(v, StructuredTensor):
        return v.partition_outer_dimension(rp)
    if rp.is_uniform() and isinstance(v, Tensor):
        u = rp.static_uniform_row_length
        if u is not None:
            return RaggedTensor.from_uniform_row_length(v, u)
    return RaggedTensor.from_row_splits(v, _a.cast(rp.row_splits(), _d.int64), validate=False)


def _merge_dims_value(v, outer, inner):
    if outer == inner:
        return v
    if isinstance(v, StructuredTensor):
        return v.merge_dims(outer, inner)
    if isinstance(v, RaggedTensor):
        if outer > 0:
            # Merge inside each row; the outer splits must then index the merged values.
            inner_values = v.values
            merged = _merge_dims_value(inner_values, outer - 1, inner - 1)
            if outer == 1:
                splits = _a.cast(v.row_splits, _d.int64)
                new_splits = _ix.gather(_row_offsets(inner_values, inner - 1), splits)
                return RaggedTensor.from_row_splits(merged, new_splits, validate=False)
            return v.with_values(merged)
        # outer == 0: the result's rows are the items at depth `inner`.
        level = v
        for _ in range(inner):
            if isinstance(level, RaggedTensor):
                level = level.values
            else:
                shp = _a.shape(level, out_type=_d.int64)
                level = _a.reshape(level, _concat_shape([-1], shp[2:]))
        return level
    shp = _a.shape(v, out_type=_d.int64)
    from rill.ops.reduction_ops import reduce_prod

    size = _a.reshape(reduce_prod(shp[outer : inner + 1]), [1])
    from rill.ops.shape_ops import concat

    new = concat([shp[:outer], size, shp[inner + 1 :]], 0)
    return _a.reshape(v, new)


def _row_offsets(v, depth):
    """For each row boundary of ``v``'s outer dim, the offset of its items at ``depth``
    (a length nrows+1 vector); depth 0 is the identity."""
    if isinstance(v, StructuredTensor):
        n = v.nrows()
        offsets = _range(n)
        for rp in v.row_partitions[:depth]:
            offsets = _ix.gather(_a.cast(rp.row_splits(), _d.int64), offsets)
        return offsets
    n = _nrows_of(v)
    offsets = _range(n)
    level = v
    for _ in range(depth):
        if isinstance(level, RaggedTensor):
            offsets = _ix.gather(_a.cast(level.row_splits, _d.int64), offsets)
            level = level.values
        else:
            shp = _a.shape(level, out_type=_d.int64)
            offsets = offsets * shp[1]
            level = _a.reshape(level, _concat_shape([-1], shp[2:]))
    return offsets


def _range(n):
    from rill.ops.creation_ops import range as _rng

    return _rng(_a.cast(n, _d.int64) + 1, dtype=_d.int64)


def _compose_nvals(st, inner_axis):
    # The merged outer dim's size is the number of items at depth `inner_axis`.
    return _a.cast(st.row_partitions[inner_axis - 1].nvals(), _d.int64)


def _merge_partitions(parts, outer, inner):
    """Row partitions after merging dims outer..inner (partition j describes dim j+1)."""
    parts = list(parts)
    if outer == 0:
        return tuple(parts[inner:])
    splits = _a.cast(parts[outer - 1].row_splits(), _d.int64)
    for rp in parts[outer:inner]:
        splits = _ix.gather(_a.cast(rp.row_splits(), _d.int64), splits)
    merged = RowPartition.from_row_splits(splits, validate=False, dtype=_d.int64)
    return tuple(parts[: outer - 1] + [merged] + parts[inner:])
