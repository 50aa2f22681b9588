"""tf.lookup.experimental.MutableHashTable / DenseHashTable against a Python dict model,
and against TensorFlow where it is installed."""

import importlib.util

import numpy as np
import pytest

import rill as tf


def test_mutable_table_follows_a_dict_model():
    rng = np.random.default_rng(0)
    table = tf.lookup.experimental.MutableHashTable(tf.int64, tf.float32, -1.0)
    model = {}
    for _ in range(30):
        keys = rng.integers(0, 12, 4)
        if rng.random() < 0.7:
            vals = rng.normal(size=4).astype(np.float32)
            table.insert(keys, vals)
            model.update(zip(keys.tolist(), vals.tolist()))
        else:
            table.remove(keys)
            for k in keys.tolist():
                model.pop(k, None)
        probe = np.arange(12)
        want = np.array([model.get(k, -1.0) for k in probe], np.float32)
        np.testing.assert_array_equal(table.lookup(probe).numpy(), want)
        assert int(table.size()) == len(model)
    k, v = table.export()
    assert dict(zip(k.numpy().tolist(), v.numpy().tolist())) == pytest.approx(model)


def test_vector_values_strings_and_shape_errors():
    t = tf.lookup.experimental.MutableHashTable(tf.string, tf.int64, [0, 0])
    t.insert(["a", "b"], [[1, 2], [3, 4]])
    np.testing.assert_array_equal(t.lookup(["b", "x"]).numpy(), [[3, 4], [0, 0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Expected shape"):
        t.insert(["a"], [1, 2, 3])
    with pytest.raises(TypeError):
        t.insert([1], [[1, 2]])


def test_inserts_and_lookups_keep_program_order_in_a_function():
    t = tf.lookup.experimental.MutableHashTable(tf.string, tf.int64, -1)

    @tf.function
    def step(k, v):
        before = t.lookup(k)
        t.insert(k, v)
        return before, t.lookup(k), t.size()

    b, a, n = step(tf.constant(["z"]), tf.constant([9], tf.int64))
    assert b.numpy().tolist() == [-1] and a.numpy().tolist() == [9] and int(n) == 1
    b, a, n = step(tf.constant(["z"]), tf.constant([5], tf.int64))
    assert b.numpy().tolist() == [9] and a.numpy().tolist() == [5] and int(n) == 1


def test_dense_table_refuses_its_reserved_keys():
    d = tf.lookup.experimental.DenseHashTable(tf.int64, tf.int64, -1, empty_key=0, deleted_key=-1)
    d.insert([1, 2], [10, 20])
    d.erase([1])
    np.testing.assert_array_equal(d.lookup([1, 2, 3]).numpy(), [-1, 20, -1])
    for bad in ([0], [-1]):
        with pytest.raises(tf.errors.InvalidArgumentError, match="key"):
            d.insert(bad, [5])
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.lookup.experimental.DenseHashTable(tf.int64, tf.int64, -1, empty_key=3, deleted_key=3)


@pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="TensorFlow not installed"
)
def test_against_tensorflow():
    import tensorflow as real

    ops = [("insert", ["a", "b", "c"], [1, 2, 3]), ("remove", ["b"]), ("insert", ["a"], [7])]
    outs = []
    for lib in (tf, real):
        t = lib.lookup.experimental.MutableHashTable(lib.string, lib.int64, -1)
        for op in ops:
            if op[0] == "insert":
                t.insert(lib.constant(op[1]), lib.constant(op[2], lib.int64))
            else:
                t.remove(lib.constant(op[1]))
        outs.append((t.lookup(lib.constant(["a", "b", "c", "d"])).numpy().tolist(), int(t.size())))
    assert outs[0] == outs[1]
