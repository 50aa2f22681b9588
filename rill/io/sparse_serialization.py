"""``tf.io.serialize_sparse`` / ``serialize_many_sparse`` / ``deserialize_many_sparse``.

A serialized SparseTensor is a string vector of three ``TensorProto`` serializations (the
bytes of ``tf.io.serialize_tensor``): its indices, values and dense shape, so what
TensorFlow serializes rill reads back, and the reverse. Needs ``protobuf``
(``rill[proto]``), imported at first use.
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.data.example import _parse_tensor_kernel, _serialize_kernel
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    bind,
    op_error,
    primitive,
    tf_export,
)

__all__ = ["serialize_sparse", "serialize_many_sparse", "deserialize_many_sparse"]


def _triple(indices, values, shape) -> list:
    return [_serialize_kernel(a).item() for a in (indices, values, shape)]


def _check_sorted(op, indices):
    """TensorFlow's many-sparse ops need indices in row-major order."""
    for i in range(1, len(indices)):
        if tuple(indices[i]) <= tuple(indices[i - 1]):
            idx = ",".join(str(v) for v in indices[i])
            raise op_error(
                InvalidArgumentError,
                op,
                f"indices[{i}] = [{idx}] is out of order. Many sparse ops require sorted "
                f"indices. Use `tf.sparse.reorder` to create a correctly ordered copy.",
            )


def _serialize_kernel_one(indices, values, shape):
    out = np.empty(3, object)
    out[:] = _triple(indices, values, shape)
    return out


def _serialize_many_kernel(indices, values, shape):
    if len(shape) < 2:
        raise op_error(
            InvalidArgumentError,
            "SerializeManySparse",
            f"Rank of input SparseTensor should be > 1, but saw rank: {len(shape)}",
        )
    _check_sorted("SerializeManySparse", indices)
    n = int(shape[0])
    out = np.empty((n, 3), object)
    rows = indices[:, 0] if len(indices) else np.zeros(0, np.int64)
    for b in range(n):
        m = rows == b
        out[b] = _triple(np.ascontiguousarray(indices[m, 1:]), values[m], shape[1:])
    return out


def _sparse_rule(op, out_shape):
    def rule(indices, values, shape):
        if indices.dtype is not _d.int64 or shape.dtype is not _d.int64:
            raise op_error(InvalidArgumentError, op, "indices and dense_shape must be int64")
        return AVal(out_shape(shape), _d.string)

    return rule


serialize_sparse_p = primitive(
    "SerializeSparse",
    _serialize_kernel_one,
    _sparse_rule("SerializeSparse", lambda s: [3]),
    host=True,
)
serialize_many_sparse_p = primitive(
    "SerializeManySparse",
    _serialize_many_kernel,
    _sparse_rule("SerializeManySparse", lambda s: [None, 3]),
    host=True,
)


def _deserialize_kernel(serialized, *, dtype, rank):
    op = "DeserializeManySparse"
    if serialized.ndim != 2 or serialized.shape[1] != 3:
        raise op_error(
            InvalidArgumentError,
            op,
            f"Serialized sparse should be a matrix with 3 columns, got shape {list(serialized.shape)}",
        )
    all_idx, all_val, shapes = [], [], []
    for b, (si, sv, ss) in enumerate(serialized.tolist()):
        idx = _parse_tensor_kernel(np.array(si, object), out_type=_d.int64)
        try:
            val = _parse_tensor_kernel(np.array(sv, object), out_type=dtype)
        except InvalidArgumentError:
            raise op_error(
                InvalidArgumentError,
                op,
                f"Requested SparseTensor of type {dtype.name} but SparseTensor[{b}].values has "
                f"another dtype",
            ) from None
        shp = _parse_tensor_kernel(np.array(ss, object), out_type=_d.int64)
        if shapes and len(shp) != len(shapes[0]):
            raise op_error(
                InvalidArgumentError,
                op,
                f"Inconsistent shape across SparseTensors: rank prior to SparseTensor[{b}] was: "
                f"{len(shapes[0])} but rank of SparseTensor[{b}] is: {len(shp)}",
            )
        if idx.ndim != 2 or idx.shape[1] != len(shp) or len(idx) != len(val):
            raise op_error(
                InvalidArgumentError,
                op,
                f"SparseTensor[{b}] is malformed: indices shape {list(idx.shape)}, values shape "
                f"{list(val.shape)}, dense_shape {shp.tolist()}",
            )
        all_idx.append(np.concatenate([np.full((len(idx), 1), b, np.int64), idx], 1))
        all_val.append(val)
        shapes.append(shp)
    r = len(shapes[0]) if shapes else (rank - 1 if rank is not None else 0)
    if not shapes:
        return np.zeros((0, r + 1), np.int64), np.zeros(0, dtype.np), np.zeros(r + 1, np.int64)
    dense = np.concatenate([[len(shapes)], np.max(np.stack(shapes), 0)]).astype(np.int64)
    values = (
        np.concatenate(all_val)
        if dtype is not _d.string
        else np.concatenate(all_val).astype(object)
    )
    return np.concatenate(all_idx), values, dense


def _deserialize_rule(serialized, *, dtype, rank):
    if serialized.dtype is not _d.string:
        raise op_error(
            InvalidArgumentError,
            "DeserializeManySparse",
            "serialized_sparse must be a string tensor",
        )
    return (
        AVal([None, rank], _d.int64),
        AVal([None], dtype),
        AVal([rank], _d.int64),
    )


deserialize_many_sparse_p = primitive(
    "DeserializeManySparse", _deserialize_kernel, _deserialize_rule, n_out=3, host=True
)


def _sparse(sp_input, op):
    from rill.structures.sparse_tensor import SparseTensor

    if not isinstance(sp_input, SparseTensor):
        try:
            sp_input = SparseTensor.from_value(sp_input)
        except (TypeError, AttributeError, ValueError):
            raise TypeError(
                f"{op}: sp_input must be a SparseTensor, got {type(sp_input).__name__}"
            ) from None
    return sp_input


def _check_out_type(op, out_type):
    if _d.as_dtype(out_type) is not _d.string:
        raise TypeError(
            f"{op}: out_type {_d.as_dtype(out_type).name} is not supported; rill serializes "
            f"sparse tensors to tf.string only"
        )


@tf_export("io.serialize_sparse")
def serialize_sparse(sp_input, out_type=_d.string, name=None):
    """A string vector of 3: ``sp_input``'s indices, values and dense shape, each a
    serialized ``TensorProto``."""
    _check_out_type("serialize_sparse", out_type)
    sp = _sparse(sp_input, "serialize_sparse")
    return bind(serialize_sparse_p, (sp.indices, sp.values, sp.dense_shape))


@tf_export("io.serialize_many_sparse")
def serialize_many_sparse(sp_input, out_type=_d.string, name=None):
    """A ``[N, 3]`` string matrix: row ``i`` is ``serialize_sparse`` of ``sp_input[i]``
    (``sp_input`` of rank >= 2 with ``N`` rows and indices in row-major order)."""
    _check_out_type("serialize_many_sparse", out_type)
    sp = _sparse(sp_input, "serialize_many_sparse")
    return bind(serialize_many_sparse_p, (sp.indices, sp.values, sp.dense_shape))


@tf_export("io.deserialize_many_sparse")
def deserialize_many_sparse(serialized_sparse, dtype, rank=None, name=None):
    """Stack ``N`` serialized SparseTensors (a ``[N, 3]`` string matrix) into one of rank
    ``R + 1``: row ``i`` holds the ``i``-th, and the dense shape is ``N`` followed by the
    largest of their dense shapes."""
    from rill.ops._op import convert_to_tensor
    from rill.structures.sparse_tensor import SparseTensor

    s = convert_to_tensor(serialized_sparse, dtype=_d.string)
    if s.shape.rank is not None and (s.shape.rank != 2 or s.shape[1] not in (None, 3)):
        raise op_error(
            InvalidArgumentError,
            "DeserializeManySparse",
            f"Serialized sparse should be a matrix with 3 columns, got shape {s.shape}",
        )
    params = {"dtype": _d.as_dtype(dtype), "rank": None if rank is None else int(rank)}
    idx, vals, shape = bind(deserialize_many_sparse_p, (s,), params)
    return SparseTensor(idx, vals, shape)
