"""Cases for the index primitives of rill.structures.sparse_ops (none is differentiable:
values flow through gather/segment ops, whose gradients are checked with their own cases,
and end to end in tests/structures/test_sparse.py)."""

import numpy as np

import rill.structures.sparse_ops  # noqa: F401 - registers the sparse primitives
from tests.ops.cases import case

i64, i32 = np.int64, np.int32


def _a(*rows):
    return np.array(rows, i64)


_IND = _a([1, 0], [0, 2], [0, 0], [1, 1])
_SHAPE = _a(2, 3)

case("SparseReorder", _IND, _SHAPE, grad=False)
case("SparseReorder", _a([0, 1, 0], [0, 0, 1]), _a(1, 2, 2), grad=False)
case("SparseReorder", np.zeros((0, 2), i64), _SHAPE, grad=False)
case("SparseValidateIndices", _a([0, 0], [0, 2], [1, 1]), _SHAPE, grad=False)
case("SparseUnion", _a([0, 0], [1, 1]), _a([0, 0], [1, 0]), _SHAPE, _SHAPE, grad=False)
case(
    "SparseUnion",
    np.zeros((0, 2), i64),
    _a([1, 0]),
    _SHAPE,
    _SHAPE,
    op="SparseSparseMaximum",
    grad=False,
)
case(
    "SparseGroup",
    _a([0, 0, 1], [0, 2, 0], [1, 1, 1], [1, 2, 1]),
    keep=(0, 2),
    keepdims=False,
    grad=False,
)
case("SparseGroup", _a([0, 0, 1], [0, 2, 0], [1, 1, 1]), keep=(1,), keepdims=True, grad=False)
case("SparseGroup", _a([0, 0], [1, 1]), keep=(), keepdims=False, grad=False)
case("SparseReshape", _a([0, 1], [1, 2]), _SHAPE, _a(3, -1), grad=False)
case("SparseReshape", _a([0, 1], [1, 2]), _SHAPE, _a(6), grad=False)
case("SparseSlice", _a([0, 1], [1, 2], [1, 0]), _SHAPE, _a(0, 1), _a(2, 5), grad=False)
case(
    "SparseConcat", _a([0, 1]), _a([1, 0], [0, 0]), _SHAPE, _SHAPE, axis=1, expand=False, grad=False
)
case("SparseConcat", _a([0, 1]), _a([2, 1]), _SHAPE, _a(3, 2), axis=0, expand=True, grad=False)
case("SparseFillEmptyRows", _a([0, 1], [2, 0]), _a(4, 3), grad=False)
case(
    "SparseBincount",
    np.array([1, 1, 2, 5], i32), np.zeros(0, i64), np.array(0, i64), np.zeros(0, i32),
    minlength=-1, maxlength=-1, binary_output=False, two_d=False, dense2d=False, grad=False,
)  # fmt: skip
case(
    "SparseBincount",
    np.array([3, 3, 1], i64), _a(0, 0, 1), np.array(3, i64), np.array([1.0, 2.0, 3.0]),
    minlength=6, maxlength=-1, binary_output=False, two_d=True, dense2d=False, grad=False,
)  # fmt: skip
case(
    "SparseBincount",
    np.array([[1, 1, 2], [5, 5, 0]], i32), np.zeros(0, i64), np.array(0, i64), np.zeros(0, i32),
    minlength=-1, maxlength=3, binary_output=True, two_d=True, dense2d=True, grad=False,
)  # fmt: skip
case("SparseMaskKeep", np.array([12, 26, 37], i32), np.array([12, 45], i32), grad=False)

# rill.structures.cross_ops: per input (values, row ids), then the batch size
case(
    "SparseCrossV2",
    np.array([b"a", b"b", b"c"], object),
    np.array([0, 0, 1], np.int64),
    np.array([7, 8], np.int64),
    np.array([0, 1], np.int64),
    np.array(2, np.int64),
    n=2,
    hashed=False,
    separator=b"_X_",
    num_buckets=0,
    hash_key=0,
    grad=False,
)
