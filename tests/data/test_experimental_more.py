"""tf.data.experimental additions: values against closed forms / NumPy and, where
TensorFlow is installed, against TensorFlow on the same inputs."""

import os
import sqlite3

import numpy as np
import pytest

import rill as tf

E = tf.data.experimental


def _list(ds):
    return list(ds.as_numpy_iterator())


def test_counter():
    assert _list(E.Counter(2, 3).take(4)) == [2, 5, 8, 11]
    ds = E.Counter(start=5, step=-2, dtype=tf.int32)
    assert ds.element_spec == tf.TensorSpec([], tf.int32)
    assert _list(ds.take(3)) == [5, 3, 1]
    assert int(ds.cardinality()) == tf.data.INFINITE_CARDINALITY


def test_random_dataset_reproducible():
    a = _list(E.RandomDataset(seed=7).take(5))
    b = _list(E.RandomDataset(seed=7).take(5))
    assert a == b and len(set(a)) == 5
    ds = E.RandomDataset(seed=7, rerandomize_each_iteration=True).take(3)
    assert _list(ds) != _list(ds)
    assert isinstance(E.RandomDataset(1), tf.data.Dataset)


def test_from_list():
    ds = E.from_list([(1, "a"), (2, "b")])
    assert _list(ds) == [(1, b"a"), (2, b"b")]
    assert E.from_list([[1], [2, 3]]).element_spec.shape.as_list() == [None]
    with pytest.raises(ValueError):
        E.from_list([])


def test_group_by_reducer_against_numpy():
    x = np.arange(20, dtype=np.int64)
    reducer = E.Reducer(lambda k: np.int64(0), lambda s, v: s + v, lambda s: s * 10)
    ds = tf.data.Dataset.from_tensor_slices(x).apply(E.group_by_reducer(lambda v: v % 3, reducer))
    assert sorted(_list(ds)) == sorted(int(x[x % 3 == k].sum()) * 10 for k in range(3))


def test_dense_to_sparse_batch():
    rows = [np.arange(2), np.arange(3) + 10, np.arange(1) + 20]
    ds = tf.data.Dataset.from_generator(
        lambda: iter(rows), output_signature=tf.TensorSpec([None], tf.int64)
    )
    out = list(ds.apply(E.dense_to_sparse_batch(2, [4])))
    dense0 = tf.sparse.to_dense(out[0]).numpy()
    np.testing.assert_array_equal(dense0, [[0, 1, 0, 0], [10, 11, 12, 0]])
    np.testing.assert_array_equal(out[1].dense_shape.numpy(), [1, 4])
    with pytest.raises(tf.errors.InvalidArgumentError, match="incompatible with the row shape"):
        list(ds.apply(E.dense_to_sparse_batch(2, [2])))


def test_rejection_resample_reaches_target():
    # class 1 is a quarter of the input; the target is half and half
    ds = tf.data.Dataset.range(4000).apply(
        E.rejection_resample(
            lambda x: tf.cast(x % 4 == 0, tf.int32), [0.5, 0.5], [0.75, 0.25], seed=3
        )
    )
    classes = np.array([c for c, _ in ds.as_numpy_iterator()])
    # class 1 is always kept (1000 of them), class 0 kept with probability 1/3
    assert (classes == 1).sum() == 1000
    frac = (classes == 1).mean()
    assert abs(frac - 0.5) < 0.05
    pairs = list(ds.take(3).as_numpy_iterator())
    assert all(c == int(v % 4 == 0) for c, v in pairs)


def _examples(n):
    ex = []
    for i in range(n):
        e = tf.train.Example()
        e.features.feature["a"].int64_list.value.append(i)
        e.features.feature["y"].float_list.value.append(i / 2)
        ex.append(e.SerializeToString())
    return ex


_FEATS = {"a": ("int64", []), "y": ("float32", [])}


def _feats():
    return {k: tf.io.FixedLenFeature(shape, getattr(tf, dt)) for k, (dt, shape) in _FEATS.items()}


def test_parse_example_dataset():
    pytest.importorskip("google.protobuf")
    arr = np.empty((2, 2), object)  # already-batched serialized vectors
    arr.reshape(-1)[:] = _examples(4)
    ds = tf.data.Dataset.from_tensor_slices(arr).apply(E.parse_example_dataset(_feats()))
    got = _list(ds)
    np.testing.assert_array_equal(got[0]["a"], [0, 1])
    np.testing.assert_array_equal(got[1]["y"], [1.0, 1.5])


def test_make_batched_features_dataset(tmp_path):
    pytest.importorskip("google.protobuf")
    arr = np.empty(5, object)
    arr[:] = _examples(5)
    path = str(tmp_path / "r.tfrecord")
    E.TFRecordWriter(path).write(tf.data.Dataset.from_tensor_slices(arr))
    ds = E.make_batched_features_dataset(
        path, 2, _feats(), label_key="y", num_epochs=1, shuffle=False
    )
    batches = _list(ds)
    np.testing.assert_array_equal(np.concatenate([f["a"] for f, _ in batches]), np.arange(5))
    np.testing.assert_allclose(np.concatenate([y for _, y in batches]), np.arange(5) / 2)


def test_tfrecord_writer_read_by_tensorflow(tmp_path):
    tfr = pytest.importorskip("tensorflow")
    path = str(tmp_path / "w.tfrecord.gz")
    E.TFRecordWriter(path, "GZIP").write(tf.data.Dataset.from_tensor_slices(["p", "qq", ""]))
    got = list(tfr.data.TFRecordDataset(path, "GZIP").as_numpy_iterator())
    assert got == [b"p", b"qq", b""]
    with pytest.raises(TypeError, match="scalar `tf.string`"):
        E.TFRecordWriter(path).write(tf.data.Dataset.range(2))


def test_snapshot(tmp_path):
    calls = []
    src = tf.data.Dataset.from_generator(
        lambda: (calls.append(1) or i for i in range(4)),
        output_signature=tf.TensorSpec([], tf.int64),
    )
    ds = src.apply(E.snapshot(str(tmp_path / "snap")))
    assert _list(ds) == [0, 1, 2, 3]
    n = len(calls)
    assert _list(ds) == [0, 1, 2, 3] and len(calls) == n  # read back, not recomputed
    assert os.path.exists(tmp_path / "snap")


def test_pad_to_cardinality():
    ds = tf.data.Dataset.from_tensor_slices({"a": [1, 2], "s": ["x", "y"]}).apply(
        E.pad_to_cardinality(4)
    )
    got = _list(ds)
    assert [g["valid"] for g in got] == [True, True, False, False]
    assert [g["a"] for g in got] == [1, 2, 0, 0] and got[3]["s"] == b""
    assert int(ds.cardinality()) == 4
    with pytest.raises(ValueError, match="cardinality"):
        tf.data.Dataset.from_tensor_slices({"a": [1, 2]}).apply(E.pad_to_cardinality(1))
    with pytest.raises(ValueError, match="dictionary"):
        tf.data.Dataset.range(2).apply(E.pad_to_cardinality(3))


def test_tables_from_dataset():
    keys = tf.data.Dataset.from_tensor_slices(["a", "b", "c"])
    t = E.index_table_from_dataset(keys)
    np.testing.assert_array_equal(t.lookup(tf.constant(["c", "a", "z"])).numpy(), [2, 0, -1])
    t = E.index_table_from_dataset(keys, num_oov_buckets=2)
    ids = t.lookup(tf.constant(["b", "zz"])).numpy()
    assert ids[0] == 1 and 3 <= ids[1] < 5
    pairs = tf.data.Dataset.from_tensor_slices((["x", "y"], [10, 20]))
    t = E.table_from_dataset(pairs, default_value=-5)
    np.testing.assert_array_equal(t.lookup(tf.constant(["y", "q"])).numpy(), [20, -5])


def test_sql_dataset(tmp_path):
    db = str(tmp_path / "d.sqlite")
    con = sqlite3.connect(db)
    con.execute("create table t (name text, n integer, x real)")
    con.executemany("insert into t values (?, ?, ?)", [("a", 1, 0.5), ("b", 2, 1.5)])
    con.commit()
    con.close()
    ds = E.SqlDataset(
        "sqlite", db, "select name, n, x from t order by n", (tf.string, tf.int32, tf.float64)
    )
    assert _list(ds) == [(b"a", 1, 0.5), (b"b", 2, 1.5)]
    with pytest.raises(tf.errors.InvalidArgumentError, match="not supported"):
        E.SqlDataset("mysql", db, "select 1", tf.int32)


def test_helpers():
    ds = tf.data.Dataset.range(5)
    assert int(E.at(ds, 3)) == 3
    with pytest.raises(tf.errors.OutOfRangeError):
        E.at(ds, 5)
    assert E.get_structure(ds) == tf.TensorSpec([], tf.int64)
    assert E.get_structure(iter(ds)) == tf.TensorSpec([], tf.int64)
    with pytest.raises(TypeError):
        E.get_structure(3)
    assert _list(ds.apply(E.copy_to_device("/cpu:0"))) == list(range(5))
    assert _list(ds.apply(E.prefetch_to_device("/cpu:0", 2))) == list(range(5))
    spec = tf.data.IteratorSpec(ds.element_spec)
    assert spec.is_compatible_with(iter(ds)) and spec.element_spec == ds.element_spec
    assert list(tf.data.NumpyIterator(ds)) == list(range(5))
    assert E.SHARD_HINT == -1


def test_against_tensorflow():
    tfr = pytest.importorskip("tensorflow")
    lib_ours, lib_tf = tf, tfr
    a = list(lib_ours.data.experimental.Counter(3, 2).take(4).as_numpy_iterator())
    b = list(lib_tf.data.experimental.Counter(3, 2).take(4).as_numpy_iterator())
    assert a == b
    elems = [(1, "a"), (2, "b")]
    assert _list(lib_ours.data.experimental.from_list(elems)) == list(
        lib_tf.data.experimental.from_list(elems).as_numpy_iterator()
    )
    x = np.arange(9, dtype=np.int64)
    ours = lib_ours.data.Dataset.from_tensor_slices({"a": x[:3]}).apply(
        lib_ours.data.experimental.pad_to_cardinality(5)
    )
    theirs = lib_tf.data.Dataset.from_tensor_slices({"a": x[:3]}).apply(
        lib_tf.data.experimental.pad_to_cardinality(5)
    )
    o, t = _list(ours), list(theirs.as_numpy_iterator())
    assert [(d["a"], d["valid"]) for d in o] == [(d["a"], d["valid"]) for d in t]
    rows = [np.arange(2), np.arange(3)]

    def sparse(lib):
        ds = lib.data.Dataset.from_generator(
            lambda: iter(rows), output_signature=lib.TensorSpec([None], lib.int64)
        )
        sp = next(iter(ds.apply(lib.data.experimental.dense_to_sparse_batch(2, [5]))))
        return sp.indices.numpy(), sp.values.numpy(), sp.dense_shape.numpy()

    for u, v in zip(sparse(tf), sparse(tfr)):
        np.testing.assert_array_equal(u, v)
    red = lambda lib: lib.data.experimental.Reducer(
        lambda k: np.int64(0), lambda s, v: s + v, lambda s: s
    )
    o = sorted(
        _list(
            tf.data.Dataset.from_tensor_slices(x).apply(
                E.group_by_reducer(lambda v: v % 2, red(tf))
            )
        )
    )
    t = sorted(
        tfr.data.Dataset.from_tensor_slices(x)
        .apply(tfr.data.experimental.group_by_reducer(lambda v: v % 2, red(tfr)))
        .as_numpy_iterator()
    )
    assert o == t
