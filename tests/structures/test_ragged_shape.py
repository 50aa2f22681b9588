"""tf.experimental.RowPartition and DynamicRaggedShape: partitions from each encoding
(checked against the NumPy definitions), tf.shape of a RaggedTensor, shapes from lengths,
and ones / zeros / fill / reshape to a ragged shape; the same calls in TF where installed."""

from __future__ import annotations

import numpy as np
import pytest

import rill as tf

RP = tf.experimental.RowPartition
DRS = tf.experimental.DynamicRaggedShape


def _splits_from_lengths(lengths):
    return np.concatenate([[0], np.cumsum(lengths)])


@pytest.mark.parametrize(
    "make",
    [
        lambda: RP.from_row_lengths([2, 0, 3]),
        lambda: RP.from_row_splits([0, 2, 2, 5]),
        lambda: RP.from_value_rowids([0, 0, 2, 2, 2], nrows=3),
        lambda: RP.from_row_starts([0, 2, 2], nvals=5),
        lambda: RP.from_row_limits([2, 2, 5]),
    ],
)
def test_row_partition_encodings_agree(make):
    rp = make()
    lengths = np.array([2, 0, 3])
    splits = _splits_from_lengths(lengths)
    np.testing.assert_array_equal(rp.row_splits().numpy(), splits)
    np.testing.assert_array_equal(rp.row_lengths().numpy(), lengths)
    np.testing.assert_array_equal(rp.value_rowids().numpy(), np.repeat(np.arange(3), lengths))
    np.testing.assert_array_equal(rp.row_starts().numpy(), splits[:-1])
    np.testing.assert_array_equal(rp.row_limits().numpy(), splits[1:])
    np.testing.assert_array_equal(rp.offsets_in_rows().numpy(), [0, 1, 0, 1, 2])
    assert int(rp.nrows()) == 3 and int(rp.nvals()) == 5 and rp.static_nrows == 3
    assert rp.dtype == tf.int64 and not rp.is_uniform() and rp.uniform_row_length() is None


def test_row_partition_uniform_dtype_and_errors():
    u = RP.from_uniform_row_length(2, nvals=6)
    np.testing.assert_array_equal(u.row_splits().numpy(), [0, 2, 4, 6])
    assert u.is_uniform() and u.static_uniform_row_length == 2
    assert RP.from_row_lengths([1, 2], dtype=tf.int32).dtype == tf.int32
    assert RP.from_row_lengths([1, 2]).with_dtype(tf.int32).row_splits().dtype == tf.int32
    with pytest.raises(ValueError, match="private"):
        RP([0, 1])
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError)):
        RP.from_row_splits([0, 3, 2])  # splits must not decrease


def test_shape_of_ragged_tensor():
    rt = tf.ragged.constant([[1, 2], [], [3]])
    s = tf.shape(rt)
    assert isinstance(s, DRS)
    assert repr(s) == "<DynamicRaggedShape lengths=[3, (2, 0, 1)] num_row_partitions=1>"
    assert s.dtype == tf.int32 and tf.shape(rt, out_type=tf.int64).dtype == tf.int64
    assert int(s[0]) == 3 and s.rank == 2 and s.num_row_partitions == 1 and s.inner_rank == 1
    assert s.static_lengths() == [3, (2, 0, 1)]
    with pytest.raises(ValueError, match="Index 1 is not uniform"):
        s[1]
    deep = tf.shape(tf.ragged.constant([[[1], [2]], [[3]]]))
    assert deep.static_lengths() == [2, (2, 1), (1, 1, 1)]


def test_from_lengths_and_building_ragged_values():
    d = DRS.from_lengths([3, (2, 0, 1), 2])
    assert d.static_lengths() == [3, (2, 0, 1), 2] and d.num_row_partitions == 1
    np.testing.assert_array_equal(d.inner_shape.numpy(), [3, 2])
    assert not d.is_uniform(1) and d.is_uniform(2) and int(d[2]) == 2
    assert tf.ones(d).to_list() == [[[1.0, 1.0], [1.0, 1.0]], [], [[1.0, 1.0]]]
    s = tf.shape(tf.ragged.constant([[1, 2], [], [3]]))
    assert tf.zeros(s, tf.int32).to_list() == [[0, 0], [], [0]]
    assert tf.fill(s, 7).to_list() == [[7, 7], [], [7]]
    assert tf.reshape(tf.constant([4, 5, 6]), s).to_list() == [[4, 5], [], [6]]
    dense = DRS.from_tensor(tf.zeros([2, 3]))
    assert dense.num_row_partitions == 0 and dense.static_lengths() == [2, 3]
    with pytest.raises(ValueError, match="rows"):
        DRS.from_lengths([2, (1, 1, 1)])


def test_matches_tensorflow():
    tft = pytest.importorskip("tensorflow")
    for lib in (tf, tft):
        rt = lib.ragged.constant([[1.0, 2.0], [], [3.0]])
        s = lib.shape(rt)
        d = lib.experimental.DynamicRaggedShape.from_lengths([2, (1, 3), 2])
        got = (repr(s), s.static_lengths(), repr(d), lib.ones(d).to_list())
        if lib is tf:
            mine = got
        else:
            theirs = got
    assert mine == theirs
