"""to_categorical, normalize, pad_sequences: NumPy formulas written here, and Keras 3."""

import numpy as np
import pytest

import rill as tf
from rill.keras import utils


def test_to_categorical_matches_identity_rows():
    labels = np.array([[2], [0], [1], [2]])
    got = utils.to_categorical(labels)
    np.testing.assert_array_equal(got, np.eye(3)[labels[:, 0]])
    assert got.dtype == np.float64 and got.shape == (4, 3)
    got = utils.to_categorical(np.array([[0, 1], [3, 2]]), num_classes=5)
    assert got.shape == (2, 2, 5)
    np.testing.assert_array_equal(got.argmax(-1), [[0, 1], [3, 2]])


def test_to_categorical_tensor_stays_tensor():
    got = utils.to_categorical(tf.constant([[1], [0]]), num_classes=3)
    assert isinstance(got, tf.Tensor) and got.dtype == tf.float32
    np.testing.assert_array_equal(got.numpy(), np.eye(3, dtype="float32")[[1, 0]])


@pytest.mark.parametrize("order", [1, 2])
def test_normalize_divides_by_norm(order):
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, -1.0]])
    got = utils.normalize(x, axis=-1, order=order)
    norm = np.sum(np.abs(x) ** order, axis=-1, keepdims=True) ** (1 / order)
    np.testing.assert_allclose(got, x / np.where(norm == 0, 1, norm))


def test_pad_sequences_pre_post_and_truncation():
    seqs = [[1, 2, 3, 4], [5], []]
    np.testing.assert_array_equal(
        utils.pad_sequences(seqs, maxlen=3), [[2, 3, 4], [0, 0, 5], [0, 0, 0]]
    )
    np.testing.assert_array_equal(
        utils.pad_sequences(seqs, maxlen=3, padding="post", truncating="post", value=-1),
        [[1, 2, 3], [5, -1, -1], [-1, -1, -1]],
    )
    out = utils.pad_sequences(seqs)
    assert out.shape == (3, 4) and out.dtype == np.int32
    with pytest.raises(ValueError, match="Padding type"):
        utils.pad_sequences(seqs, padding="middle")
    with pytest.raises(ValueError, match="dtype=object"):
        utils.pad_sequences([["a"]], value="x")


def test_pad_sequences_matches_keras():
    keras = pytest.importorskip("keras")
    seqs = [[1.5, 2], [3, 4, 5, 6, 7], [8]]
    for kw in ({}, {"maxlen": 2, "padding": "post"}, {"dtype": "float32", "value": 9}):
        ref = keras.utils.pad_sequences(seqs, **kw)
        got = utils.pad_sequences(seqs, **kw)
        assert got.dtype == ref.dtype
        np.testing.assert_array_equal(got, ref)
