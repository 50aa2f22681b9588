"""tf.io.SparseFeature in parse_example / parse_single_example (against a dense NumPy
reference built from the Example's features, and TF where installed)."""

import numpy as np
import pytest

import rill as tf


def _example(ix, iy, v):
    f = {}
    if ix is not None:
        f["ix"] = tf.train.Feature(int64_list=tf.train.Int64List(value=ix))
        f["iy"] = tf.train.Feature(int64_list=tf.train.Int64List(value=iy))
        f["v"] = tf.train.Feature(float_list=tf.train.FloatList(value=v))
    return tf.train.Example(features=tf.train.Features(feature=f)).SerializeToString()


_ROWS = [([3, 1], [0, 2], [1.5, 2.5]), (None, None, None), ([0], [1], [7.0])]


def _dense_reference():
    out = np.zeros((3, 4, 3), np.float32)
    for b, (ix, iy, v) in enumerate(_ROWS):
        if ix is not None:
            for i, j, x in zip(ix, iy, v):
                out[b, i, j] = x
    return out


def test_parse_example_sparse_feature_2d():
    ser = [_example(*r) for r in _ROWS]
    feats = {
        "sp": tf.io.SparseFeature(["ix", "iy"], "v", tf.float32, [4, 3]),
        "v": tf.io.VarLenFeature(tf.float32),
    }
    out = tf.io.parse_example(ser, feats)
    assert sorted(out) == ["sp", "v"]  # the index features are not returned
    sp = out["sp"]
    assert sp.dense_shape.numpy().tolist() == [3, 4, 3]
    idx = sp.indices.numpy().tolist()
    assert idx == sorted(idx)  # reordered (already_sorted=False)
    np.testing.assert_array_equal(tf.sparse.to_dense(sp).numpy(), _dense_reference())


def test_parse_single_example_sparse_feature_1d():
    out = tf.io.parse_single_example(
        _example(*_ROWS[0]), {"sp": tf.io.SparseFeature("ix", "v", tf.float32, 5)}
    )
    sp = out["sp"]
    assert sp.indices.numpy().tolist() == [[1], [3]]
    np.testing.assert_allclose(sp.values.numpy(), [2.5, 1.5])
    assert sp.dense_shape.numpy().tolist() == [5]


def test_sparse_feature_length_mismatch():
    bad = tf.train.Example(
        features=tf.train.Features(
            feature={
                "ix": tf.train.Feature(int64_list=tf.train.Int64List(value=[1, 2])),
                "v": tf.train.Feature(float_list=tf.train.FloatList(value=[1.0])),
            }
        )
    ).SerializeToString()
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.io.parse_example([bad], {"sp": tf.io.SparseFeature("ix", "v", tf.float32, 4)})


def test_sparse_feature_vs_tf():
    tft = pytest.importorskip("tensorflow")
    ser = [_example(*r) for r in _ROWS]
    ours = tf.io.parse_example(
        ser, {"sp": tf.io.SparseFeature(["ix", "iy"], "v", tf.float32, [4, 3])}
    )
    ref = tft.io.parse_example(
        ser, {"sp": tft.io.SparseFeature(["ix", "iy"], "v", tft.float32, [4, 3])}
    )
    for part in ("indices", "values", "dense_shape"):
        np.testing.assert_array_equal(
            getattr(ours["sp"], part).numpy(), getattr(ref["sp"], part).numpy()
        )
    assert tuple(tf.io.SparseFeature._fields) == tuple(tft.io.SparseFeature._fields)
