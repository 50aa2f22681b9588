"""tf.data.experimental: DatasetInitializer, to_variant / from_variant, debug mode and
make_saveable_from_iterator (values checked against Python references and TF)."""

import pytest

import rill as tf


def test_dataset_initializer_fills_a_table():
    keys, values = ["a", "b", "c"], [10, 20, 30]
    init = tf.data.experimental.DatasetInitializer(
        tf.data.Dataset.from_tensor_slices((keys, values))
    )
    assert init.key_dtype == tf.string and init.value_dtype == tf.int32
    table = tf.lookup.StaticHashTable(init, -1)
    queries = ["c", "x", "a", "b"]
    ref = [dict(zip(keys, values)).get(q, -1) for q in queries]
    assert table.lookup(tf.constant(queries)).numpy().tolist() == ref


def test_dataset_initializer_needs_pairs():
    with pytest.raises(TypeError, match="has no len"):
        tf.data.experimental.DatasetInitializer(tf.data.Dataset.range(3))
    with pytest.raises(TypeError, match="pairs"):
        tf.data.experimental.DatasetInitializer(tf.data.Dataset.from_tensor_slices(([1], [2], [3])))


def test_variant_round_trip():
    ds = tf.data.Dataset.range(5).map(lambda x: x * 2)
    v = tf.data.experimental.to_variant(ds)
    assert v.dtype == tf.variant and v.shape == ()
    back = tf.data.experimental.from_variant(v, ds.element_spec)
    assert list(back.as_numpy_iterator()) == [2 * i for i in range(5)]
    with pytest.raises(TypeError):
        tf.data.experimental.from_variant(v, tf.TensorSpec([], tf.string))
    with pytest.raises(TypeError):
        tf.data.experimental.to_variant([1, 2])


def test_make_saveable_from_iterator_fails_eagerly_like_tf():
    it = iter(tf.data.Dataset.range(3))
    with pytest.raises(AttributeError, match="tf.train.Checkpoint"):
        tf.data.experimental.make_saveable_from_iterator(it)


def test_enable_debug_mode_only_eagerly():
    from rill.data import experimental_extra

    @tf.function
    def f():
        tf.data.experimental.enable_debug_mode()
        return tf.constant(1)

    with pytest.raises(ValueError, match="eager"):
        f()
    old = experimental_extra.DEBUG_MODE
    try:
        assert tf.data.experimental.enable_debug_mode() is None
        assert experimental_extra.DEBUG_MODE is True
        # map functions now run eagerly on each element (Python side effects per element)
        seen = []
        ds = tf.data.Dataset.range(3).map(lambda x: (seen.append(type(x).__name__), x * 2)[1])
        assert [int(v) for v in ds] == [0, 2, 4]
        assert seen.count("EagerTensor") == 3
    finally:
        experimental_extra.DEBUG_MODE = old


def test_against_tensorflow():
    tft = pytest.importorskip("tensorflow")
    ds = tft.data.Dataset.from_tensor_slices((["a", "b"], [1, 2]))
    ref = tft.lookup.StaticHashTable(tft.data.experimental.DatasetInitializer(ds), -1)
    ours = tf.lookup.StaticHashTable(
        tf.data.experimental.DatasetInitializer(
            tf.data.Dataset.from_tensor_slices((["a", "b"], [1, 2]))
        ),
        -1,
    )
    q = ["b", "z", "a"]
    assert (
        ours.lookup(tf.constant(q)).numpy().tolist() == ref.lookup(tft.constant(q)).numpy().tolist()
    )
