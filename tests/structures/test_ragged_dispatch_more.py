"""one_hot and nn.dropout on RaggedTensors (TF dispatches both): the flat values are
transformed, the row partition kept; checked against NumPy and TF where installed."""

from __future__ import annotations

import numpy as np
import pytest

import rill as tf


def test_one_hot_ragged():
    rt = tf.ragged.constant([[1, 2], [3], []])
    out = tf.one_hot(rt, 4)
    assert isinstance(out, tf.RaggedTensor)
    np.testing.assert_array_equal(out.row_splits.numpy(), [0, 2, 3, 3])
    np.testing.assert_array_equal(out.flat_values.numpy(), np.eye(4, dtype=np.float32)[[1, 2, 3]])
    tft = pytest.importorskip("tensorflow")
    theirs = tft.one_hot(tft.ragged.constant([[1, 2], [3], []]), 4)
    assert out.to_list() == theirs.to_list()


def test_dropout_ragged_keeps_partition_and_scales():
    rt = tf.ragged.constant([[1.0, 2.0], [3.0], []])
    out = tf.nn.dropout(rt, 0.5, seed=1)
    assert isinstance(out, tf.RaggedTensor)
    np.testing.assert_array_equal(out.row_splits.numpy(), [0, 2, 3, 3])
    v, x = out.flat_values.numpy(), np.array([1.0, 2.0, 3.0])
    assert np.all((v == 0) | np.isclose(v, 2 * x))  # kept values are scaled by 1/(1-rate)


def test_tf_dtypes_names_dispatch_on_ragged_tensors_like_the_top_level():
    r = tf.ragged.constant([[1.0, 2.0], [3.0]])
    assert tf.dtypes.cast is tf.cast and tf.dtypes.complex is tf.complex
    assert tf.dtypes.complex(r, r).to_list() == [[1 + 1j, 2 + 2j], [3 + 3j]]
    assert tf.dtypes.saturate_cast(r * 100.0, tf.int8).to_list() == [[100, 127], [127]]
