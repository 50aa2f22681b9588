"""Cases for rill.ops.nn_more_ops: its primitives are random or integer-valued, so only
their shape and dtype rules are checked here (the composite ops built on them have
their gradients checked in tests/ops/test_nn_more_ops.py)."""

import numpy as np

import rill.ops.nn_more_ops  # noqa: F401 - registers the primitives
from tests.ops.cases import case

_seed3 = np.array([1, 2, 3], np.int64)
case("RandomIndexShuffle", np.int32(5), _seed3, np.int32(20), grad=False, rounds=4)
case(
    "RandomIndexShuffle",
    np.arange(6, dtype=np.int64),
    np.arange(18, dtype=np.int64).reshape(6, 3),
    np.int64(2**35),
    grad=False,
    rounds=6,
)
case(
    "RandomIndexShuffle",
    np.arange(4, dtype=np.uint32),
    _seed3.astype(np.uint32),
    np.arange(10, 14, dtype=np.uint32),
    grad=False,
    rounds=4,
)
case(
    "StatelessParameterizedTruncatedNormal",
    np.array([3, 2], np.int32),
    np.array([4, 5], np.int64),
    np.float64(0.0),
    np.array([1.0, 2.0]),
    np.float64(-1.0),
    np.array([1.0, 10.0]),
    grad=False,
)
case(
    "StatelessParameterizedTruncatedNormal",
    np.array([4], np.int64),
    np.array([1, 1], np.int32),
    np.float32(2.0),
    np.float32(1.0),
    np.float32(3.0),
    np.float32(8.0),
    grad=False,
)
case(
    "LearnedUnigramCandidateSampler",
    np.array([[0, 1], [2, 3]], np.int64),
    grad=False,
    num_true=2,
    num_sampled=3,
    unique=True,
    range_max=5,
    seed=1,
    seed2=2,
)
for _pseudo in (False, True):
    case(
        "FractionalPoolSequences",
        np.array([2, 9, 7, 3], np.int64),
        grad=False,
        pooling_ratio=(1.0, 1.5, 1.3, 1.0),
        pseudo_random=_pseudo,
        seed=3,
        seed2=4,
        stream="FractionalMaxPool",
    )
