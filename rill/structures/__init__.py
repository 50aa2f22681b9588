"""Data structures beyond dense tensors: SparseTensor, RaggedTensor, string ops, sets and
queues. Importing this package registers them (ops, namespaces, dispatch)."""

from rill.structures import (  # noqa: F401 - registration
    sampled_matmul,
    cross_ops,
    edit_distance,
    queues,
    ragged_ops,
    ragged_tensor,
    sets,
    sparse_ops,
    sparse_tensor,
    string_ops,
)
from rill.structures.ragged_tensor import RaggedTensor, RaggedTensorSpec
from rill.structures.sparse_tensor import IndexedSlices, SparseTensor, SparseTensorSpec
