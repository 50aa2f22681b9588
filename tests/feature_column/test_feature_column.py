"""tf.feature_column: columns' metadata and the dense tensors input_layer builds, against
NumPy formulas and against TF (tf.compat.v1.feature_column.input_layer)."""

import numpy as np
import pytest

import rill as tf
import rill.feature_column as fc

FEATURES = {
    "n": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
    "x": [[0.5, -1.0], [3.0, 1.0], [0.0, 0.0]],
    "v": [["a", "zz"], ["b", ""], ["q", "a"]],
    "i": [[1, 2], [3, -1], [-1, -1]],
    "h": [["p", "q"], ["r", ""], ["s", "s"]],
    "hi": [[1, 2], [3, -1], [40, 50]],
    "i2": [[1, 2], [3, -1], [0, 0]],
    "w": [[0.5, 2.0], [3.0, 0.0], [1.0, 1.0]],
    "vi": [[10, 99], [30, -1], [20, 20]],
}


def _init(shape, dtype=None, partition_info=None, **kwargs):
    return np.arange(np.prod(shape), dtype=np.float32).reshape(shape) / 7


def _columns(m, int64=tf.int64):
    """The same columns built with module ``m`` (rill's or TF's tf.feature_column)."""
    vocab = m.categorical_column_with_vocabulary_list("v", ["a", "b"])
    bucket = m.bucketized_column(m.numeric_column("x", shape=2), [0.0, 1.0])
    wcol = m.weighted_categorical_column(m.categorical_column_with_identity("i2", 4), "w")
    return [
        m.numeric_column("n", shape=2, normalizer_fn=lambda x: x * 2),
        bucket,
        m.indicator_column(
            m.categorical_column_with_vocabulary_list("v", ["a", "b"], num_oov_buckets=3)
        ),  # fmt: skip
        m.embedding_column(m.categorical_column_with_identity("i", 4), 2, initializer=_init),
        m.embedding_column(
            m.categorical_column_with_hash_bucket("h", 5), 2, combiner="sqrtn", initializer=_init
        ),  # fmt: skip
        m.indicator_column(m.categorical_column_with_hash_bucket("hi", 6, dtype=int64)),
        m.indicator_column(m.crossed_column(["h", vocab], 12)),
        m.indicator_column(m.crossed_column(["h", "hi"], 12, hash_key=7)),
        m.indicator_column(m.crossed_column([bucket, "h"], 10)),
        m.indicator_column(wcol),
        m.embedding_column(wcol, 2, combiner="sum", initializer=_init),
        m.indicator_column(
            m.categorical_column_with_vocabulary_list("vi", [10, 20, 30], default_value=0)
        ),  # fmt: skip
    ]


def test_numeric_and_bucketized_closed_form():
    n = fc.numeric_column("n", shape=2)
    b = fc.bucketized_column(fc.numeric_column("x", shape=2), [0.0, 1.0])
    out = fc.input_layer(FEATURES, [n, b]).numpy()
    x = np.array(FEATURES["x"])
    buckets = np.searchsorted([0.0, 1.0], x, side="right")  # boundaries <= x
    onehot = np.eye(3)[buckets].reshape(3, 6)
    # columns are concatenated in the order of their names: "n" < "x_bucketized"
    np.testing.assert_array_equal(out, np.concatenate([np.array(FEATURES["n"]), onehot], 1))
    assert out.dtype == np.float32


def test_indicator_counts_and_weighted_sums():
    ind = fc.indicator_column(fc.categorical_column_with_identity("i2", 4))
    w = fc.indicator_column(fc.weighted_categorical_column(
        fc.categorical_column_with_identity("i2", 4), "w"))  # fmt: skip
    out = fc.input_layer(FEATURES, [ind, w]).numpy()
    # row 2 has id 0 twice; -1 entries are dropped (0.0 weights likewise)
    np.testing.assert_array_equal(out[:, :4], [[0, 1, 1, 0], [0, 0, 0, 1], [2, 0, 0, 0]])
    np.testing.assert_array_equal(out[:, 4:], [[0, 0.5, 2, 0], [0, 0, 0, 3], [2, 0, 0, 0]])


@pytest.mark.parametrize("combiner", ["sum", "mean", "sqrtn"])
def test_embedding_combiners_and_gradient(combiner):
    col = fc.embedding_column(fc.categorical_column_with_identity("i", 4), 2, combiner=combiner,
                              initializer=_init)  # fmt: skip
    table = _init((4, 2))
    state = {}
    with tf.GradientTape() as tape:
        out = fc.input_layer(FEATURES, [col], cols_to_vars=state)
        loss = tf.reduce_sum(out * tf.constant([[1.0, 2.0]]))
    ids = [[1, 2], [3], []]
    want = np.zeros((3, 2), np.float32)
    grad = np.zeros((4, 2), np.float32)
    for r, row in enumerate(ids):
        if row:
            div = {"sum": 1, "mean": len(row), "sqrtn": np.sqrt(len(row))}[combiner]
            want[r] = table[row].sum(0) / div
            for i in row:
                grad[i] += np.array([1.0, 2.0]) / div
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6)
    (var,) = state[col]
    g = tf.convert_to_tensor(tape.gradient(loss, var))  # densify IndexedSlices
    np.testing.assert_allclose(g.numpy(), grad, rtol=1e-6)
    again = fc.input_layer(FEATURES, [col], cols_to_vars=state)  # the same table is reused
    assert state[col] == [var]
    np.testing.assert_array_equal(again.numpy(), out.numpy())


def test_shared_embeddings_share_one_table():
    a, b = fc.shared_embeddings([fc.categorical_column_with_identity("i", 4),
                                 fc.categorical_column_with_identity("i2", 4)], 3,
                                initializer=_init)  # fmt: skip
    out = fc.input_layer(FEATURES, [a, b]).numpy()
    assert a.shared_embedding_column_creator is b.shared_embedding_column_creator
    table = _init((4, 3))
    # sorted by name, "i2_shared_embedding" comes before "i_shared_embedding"
    np.testing.assert_allclose(out[0, 3:], table[[1, 2]].mean(0), rtol=1e-6)
    np.testing.assert_allclose(out[2, :3], table[0], rtol=1e-6)
    assert a.name == "i_shared_embedding" and a.variable_shape == (3,)


def test_vocabulary_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("a\nb\nc\n")
    col = fc.categorical_column_with_vocabulary_file("v", str(path))
    assert col.vocabulary_size == 3 and col.num_buckets == 3 and col.default_value == -1
    out = fc.input_layer(FEATURES, [fc.indicator_column(col)]).numpy()
    np.testing.assert_array_equal(out, [[1, 0, 0], [0, 1, 0], [1, 0, 0]])
    seq = fc.sequence_categorical_column_with_vocabulary_file("v", str(path), num_oov_buckets=2)
    assert seq.num_buckets == 5 and seq.name == "v"


def test_parse_spec_names_and_reprs():
    cols = _columns(fc)
    with pytest.raises(ValueError, match="different parse_spec for key hi"):
        fc.make_parse_example_spec(cols)  # "hi" is int64, but a string as a raw crossed key
    spec = fc.make_parse_example_spec(cols[:7] + cols[8:])
    assert spec["n"] == tf.io.FixedLenFeature((2,), tf.float32)
    assert spec["h"] == tf.io.VarLenFeature(tf.string)
    assert spec["hi"] == tf.io.VarLenFeature(tf.int64) and spec["w"] == tf.io.VarLenFeature(
        tf.float32
    )
    assert cols[6].categorical_column.name == "h_X_v"
    assert cols[1].variable_shape == (2, 3) and cols[1].num_buckets == 6
    assert repr(fc.numeric_column("a")) == (
        "NumericColumn(key='a', shape=(1,), default_value=None, dtype=tf.float32, "
        "normalizer_fn=None)"
    )
    assert fc.sequence_numeric_column("s").default_value == 0.0


def test_errors():
    with pytest.raises(ValueError, match="must be a string"):
        fc.numeric_column(3)
    with pytest.raises(ValueError, match="sorted list"):
        fc.bucketized_column(fc.numeric_column("x"), [1.0, 0.0])
    with pytest.raises(ValueError, match="not supported for crossing"):
        fc.crossed_column([fc.categorical_column_with_hash_bucket("a", 3), "b"], 4)
    with pytest.raises(ValueError, match="DenseColumn"):
        fc.input_layer(FEATURES, [fc.categorical_column_with_identity("i", 4)])
    with pytest.raises(ValueError, match="Duplicate feature column name"):
        fc.input_layer(FEATURES, [fc.numeric_column("n", shape=2)] * 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[0, 2\)"):
        fc.input_layer(FEATURES, [fc.indicator_column(fc.categorical_column_with_identity("i", 2))])
    with pytest.raises(ValueError, match="both num_oov_buckets and default_value"):
        fc.categorical_column_with_vocabulary_list("v", ["a"], default_value=0, num_oov_buckets=1)


def test_input_layer_matches_tensorflow():
    real = pytest.importorskip("tensorflow")
    want = real.compat.v1.feature_column.input_layer(
        FEATURES, _columns(real.feature_column, real.int64)
    )
    got = fc.input_layer(FEATURES, _columns(fc))
    assert got.shape == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-7)


def test_reprs_and_specs_match_tensorflow():
    real = pytest.importorskip("tensorflow")
    ours, theirs = _columns(fc), _columns(real.feature_column, real.int64)
    for a, b in zip(ours, theirs):
        assert a.name == b.name
        if not hasattr(a, "dimension"):  # embedding reprs show the initializer object
            assert repr(a).replace("lambda", "") .split("normalizer_fn")[0] == \
                repr(b).replace("lambda", "").split("normalizer_fn")[0]  # fmt: skip
    with pytest.raises(ValueError, match="different parse_spec"):
        real.feature_column.make_parse_example_spec(theirs)
    spec = fc.make_parse_example_spec(ours[:7] + ours[8:])
    tspec = real.feature_column.make_parse_example_spec(theirs[:7] + theirs[8:])
    assert sorted(spec) == sorted(tspec)
    for k in spec:
        assert type(spec[k]).__name__ == type(tspec[k]).__name__
        assert spec[k].dtype.name == tspec[k].dtype.name
