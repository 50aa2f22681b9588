"""IndexedSlices as gradients: registers the class with the tape (gradient rules below the
structures layer build it through ``rill.core.tape.indexed_slices``) and how two such
gradients of one tensor sum: their rows concatenated, as TF aggregates them."""

from __future__ import annotations

from rill.core import tape as _tape
from rill.ops.array_ops import cast
from rill.ops.shape_ops import concat
from rill.structures.sparse_tensor import IndexedSlices

__all__ = []


def _sum_slices(a: IndexedSlices, b: IndexedSlices) -> IndexedSlices:
    """Two IndexedSlices gradients of one tensor summed: their rows concatenated."""
    ib = b.indices if b.indices.dtype is a.indices.dtype else cast(b.indices, a.indices.dtype)
    return IndexedSlices(concat([a.values, b.values], 0), concat([a.indices, ib], 0), a.dense_shape)


_tape.register_indexed_slices(IndexedSlices, _sum_slices)
