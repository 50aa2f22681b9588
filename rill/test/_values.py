"""NumPy values of composite tensors, as ``TestCase.evaluate`` returns them (TF's
``SparseTensorValue`` and ``RaggedTensorValue``), and the conversions the assertions use."""

from __future__ import annotations

import collections

import numpy as np

__all__ = ["SparseTensorValue", "RaggedTensorValue", "evaluate_leaf", "is_ragged", "to_list"]


class SparseTensorValue(
    collections.namedtuple("SparseTensorValue", ["indices", "values", "dense_shape"])
):
    """A SparseTensor's components as NumPy arrays."""

    __slots__ = ()


class RaggedTensorValue:
    """A RaggedTensor's components as NumPy arrays: ``values`` (an array, or another
    RaggedTensorValue for more ragged dimensions) split into rows by ``row_splits``."""

    def __init__(self, values, row_splits):
        self._values = values
        self._row_splits = row_splits

    @property
    def values(self):
        return self._values

    @property
    def row_splits(self):
        return self._row_splits

    @property
    def flat_values(self):
        v = self._values
        while isinstance(v, RaggedTensorValue):
            v = v.values
        return v

    @property
    def nested_row_splits(self) -> tuple:
        out, v = [self._row_splits], self._values
        while isinstance(v, RaggedTensorValue):
            out.append(v.row_splits)
            v = v.values
        return tuple(out)

    @property
    def ragged_rank(self) -> int:
        return len(self.nested_row_splits)

    @property
    def dtype(self):
        return self.flat_values.dtype

    @property
    def shape(self) -> tuple:
        return (
            len(self._row_splits) - 1,
            *([None] * self.ragged_rank),
            *self.flat_values.shape[1:],
        )

    def to_list(self) -> list:
        values = self._values
        items = values.to_list() if isinstance(values, RaggedTensorValue) else values.tolist()
        s = self._row_splits
        return [items[s[i] : s[i + 1]] for i in range(len(s) - 1)]

    def __repr__(self):
        return f"tf.RaggedTensorValue(values={self._values!r}, row_splits={self._row_splits!r})"


def _ragged_value(r) -> RaggedTensorValue:
    from rill.structures.ragged_tensor import RaggedTensor

    values = r.values
    values = _ragged_value(values) if isinstance(values, RaggedTensor) else values.numpy()
    return RaggedTensorValue(values, np.asarray(r.row_splits.numpy()))


def is_ragged(x) -> bool:
    from rill.structures.ragged_tensor import RaggedTensor

    return isinstance(x, (RaggedTensor, RaggedTensorValue))


def to_list(x) -> list:
    """A ragged value as nested Python lists."""
    return x.to_list()


def evaluate_leaf(x):
    """One leaf of ``TestCase.evaluate``: tensors and variables to NumPy, composite
    tensors to their ``*Value``; None stays None; anything else is TF's ValueError."""
    from rill.core.tensor import Tensor
    from rill.core.variables import is_variable
    from rill.structures.ragged_tensor import RaggedTensor
    from rill.structures.sparse_tensor import SparseTensor

    if x is None:
        return None
    if isinstance(x, Tensor) or is_variable(x):
        return x.numpy()
    if isinstance(x, RaggedTensor):
        return _ragged_value(x)
    if isinstance(x, SparseTensor):
        return SparseTensorValue(x.indices.numpy(), x.values.numpy(), x.dense_shape.numpy())
    raise ValueError(
        f"Unsupported type {type(x).__name__!r}: evaluate() takes tensors, variables, "
        f"sparse and ragged tensors (and None) in nested structures."
    )
