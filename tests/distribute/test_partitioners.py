"""Partitioners: shard counts from the documented formulas, and equal to TF's."""

import math

import numpy as np
import pytest

import rill as tf
from rill.distribute.experimental import partitioners as P

SHAPES = [(6, 1), (10, 3), (1024, 1024), (7,), (3, 5, 2), (1, 8), (100, 64)]
DTYPES = ["float32", "float64", "int8", "string", "bfloat16"]


def _bytes(dtype, per_string):
    return (
        per_string
        if dtype == "string"
        else np.dtype(dtype if dtype != "bfloat16" else "float16").itemsize
    )


def _min_size_formula(shape, dtype, min_bytes, max_shards, per_string, axis):
    total = math.prod(shape) * _bytes(dtype, per_string)
    want = max(1, min(shape[axis], max_shards, math.ceil(total / min_bytes)))
    return [want if i == axis else 1 for i in range(len(shape))]


def _max_size_formula(shape, dtype, max_bytes, max_shards, per_string, axis):
    slice_bytes = math.prod(shape) / shape[axis] * _bytes(dtype, per_string)
    per_shard = max(1, math.floor(max_bytes / slice_bytes))
    n = math.ceil(shape[axis] / per_shard)
    if max_shards:
        n = min(n, max_shards)
    return [n if i == axis else 1 for i in range(len(shape))]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_formulas(shape, dtype):
    for axis in range(len(shape)):
        for num in (1, 2, 5, 1000):
            got = P.FixedShardsPartitioner(num)(tf.TensorShape(shape), dtype, axis=axis)
            assert got == [min(num, shape[axis]) if i == axis else 1 for i in range(len(shape))]
        for mb, ms, ps in [(4, 2, 16), (4, 10, 16), (256 << 10, 1, 16), (7, 1000, 3)]:
            got = P.MinSizePartitioner(mb, ms, ps)(tf.TensorShape(shape), dtype, axis=axis)
            assert got == _min_size_formula(shape, dtype, mb, ms, ps, axis)
        for mb, ms, ps in [(4, None, 16), (4, 2, 16), (1024, None, 16), (30, 3, 5)]:
            got = P.MaxSizePartitioner(mb, ms, ps)(tf.TensorShape(shape), dtype, axis=axis)
            assert got == _max_size_formula(shape, dtype, mb, ms, ps, axis)


def test_documented_examples():
    shape = tf.TensorShape([6, 1])
    assert P.MinSizePartitioner(min_shard_bytes=4, max_shards=2)(shape, tf.float32) == [2, 1]
    assert P.MinSizePartitioner(min_shard_bytes=4, max_shards=10)(shape, tf.float32) == [6, 1]
    assert P.MaxSizePartitioner(max_shard_bytes=4)(shape, tf.float32) == [6, 1]
    assert P.MaxSizePartitioner(max_shard_bytes=4, max_shards=2)(shape, tf.float32) == [2, 1]
    assert P.MaxSizePartitioner(max_shard_bytes=1024)(shape, tf.float32) == [1, 1]
    assert P.FixedShardsPartitioner(2)(tf.TensorShape([10, 3]), tf.float32) == [2, 1]


def test_invalid_arguments():
    for bad in [dict(min_shard_bytes=0), dict(max_shards=0), dict(bytes_per_string=0)]:
        with pytest.raises(ValueError, match=next(iter(bad))):
            P.MinSizePartitioner(**bad)
    for bad in [dict(max_shard_bytes=0), dict(max_shard_bytes=4, max_shards=-1)]:
        with pytest.raises(ValueError, match="must be positive"):
            P.MaxSizePartitioner(**bad)
    with pytest.raises(ValueError, match="axis 2"):
        P.MinSizePartitioner()(tf.TensorShape([3, 3]), tf.float32, axis=2)
    assert issubclass(P.FixedShardsPartitioner, P.Partitioner)


def test_against_tensorflow():
    tf_real = pytest.importorskip("tensorflow")
    Q = tf_real.distribute.experimental.partitioners
    for shape in SHAPES:
        for dtype in DTYPES:
            for axis in range(len(shape)):
                ts, rs = tf_real.TensorShape(shape), tf.TensorShape(shape)
                pairs = [
                    (Q.FixedShardsPartitioner(3), P.FixedShardsPartitioner(3)),
                    (Q.MinSizePartitioner(4, 10), P.MinSizePartitioner(4, 10)),
                    (Q.MinSizePartitioner(7, 1000, 3), P.MinSizePartitioner(7, 1000, 3)),
                    (Q.MinSizePartitioner(), P.MinSizePartitioner()),
                    (Q.MaxSizePartitioner(4), P.MaxSizePartitioner(4)),
                    (Q.MaxSizePartitioner(30, 3, 5), P.MaxSizePartitioner(30, 3, 5)),
                    (Q.MaxSizePartitioner(1024), P.MaxSizePartitioner(1024)),
                ]
                for theirs, ours in pairs:
                    want = theirs(ts, getattr(tf_real, dtype), axis=axis)
                    assert ours(rs, dtype, axis=axis) == list(want), (theirs, shape, dtype, axis)
