"""tf.io file ops, byte decoders, sparse serialization and SequenceExample parsing:
against NumPy / the standard library, and against TensorFlow on the same inputs (bytes
written by one read back by the other)."""

import base64
import gzip
import os
import zlib

import numpy as np
import pytest

import rill as tf

pytest.importorskip("google.protobuf")


def S(*xs):
    """A string tensor value (object array: keeps trailing NUL bytes)."""
    a = np.empty(len(xs), object)
    a[:] = xs
    return a


def _tf():
    return pytest.importorskip("tensorflow")


# ----------------------------------------------------------------------------- files


def test_read_write_file(tmp_path):
    p = str(tmp_path / "sub" / "dir" / "a.bin")
    tf.io.write_file(p, tf.constant(S(b"\x00ab\x00")[0]))
    with open(p, "rb") as f:
        assert f.read() == b"\x00ab\x00"  # parents created, bytes exact
    assert tf.io.read_file(p).numpy() == b"\x00ab\x00"
    with pytest.raises(tf.errors.NotFoundError, match="No such file"):
        tf.io.read_file(str(tmp_path / "zz"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="scalar"):
        tf.io.read_file([p])


def test_read_file_in_function(tmp_path):
    p = str(tmp_path / "a")
    with open(p, "wb") as f:
        f.write(b"xyz")
    f = tf.function(lambda n: tf.strings.length(tf.io.read_file(n)))
    assert int(f(tf.constant(p))) == 3


def test_matching_files(tmp_path):
    for n in ("b.txt", "a.txt", "c.csv"):
        open(tmp_path / n, "w").close()
    d = str(tmp_path)
    got = tf.io.matching_files(d + "/*.txt").numpy().tolist()
    assert got == sorted(os.path.join(d, n).encode() for n in ("a.txt", "b.txt"))
    got = tf.io.matching_files([d + "/*.csv", d + "/a*"]).numpy().tolist()
    assert got == [(d + "/c.csv").encode(), (d + "/a.txt").encode()]
    assert tf.io.matching_files(d + "/none*").shape == (0,)
    v = tf.io.match_filenames_once(d + "/*.csv")
    assert v.numpy().tolist() == [(d + "/c.csv").encode()]


def test_write_graph(tmp_path):
    from google.protobuf import text_format

    f = tf.function(lambda x: x * 2.0)
    g = f.get_concrete_function(tf.TensorSpec([], tf.float32)).graph
    path = tf.io.write_graph(g, str(tmp_path / "logs"), "g.pbtxt")
    assert path == os.path.join(str(tmp_path / "logs"), "g.pbtxt")
    from rill.tracing.graph_def import graph_to_graph_def

    gd = graph_to_graph_def(g)
    assert any(n.op == "Mul" for n in gd.node)
    with open(path) as fh:
        parsed = text_format.Parse(fh.read(), type(gd)())
    assert parsed == gd
    path = tf.io.write_graph(gd, str(tmp_path), "g.pb", as_text=False)
    with open(path, "rb") as fh:
        assert type(gd).FromString(fh.read()) == gd


# ----------------------------------------------------------------------------- decoders


def test_decode_raw_against_numpy():
    rng = np.random.default_rng(0)
    for dt in (np.int16, np.float32, np.float64, np.int64, np.uint8, np.complex64):
        a = rng.normal(size=(3, 4)).astype(dt)
        strings = S(*(row.tobytes() for row in a))
        out = tf.io.decode_raw(strings, tf.as_dtype(dt))
        np.testing.assert_array_equal(out.numpy(), a)
        big = S(*(row.astype(np.dtype(dt).newbyteorder(">")).tobytes() for row in a))
        np.testing.assert_array_equal(
            tf.io.decode_raw(big, tf.as_dtype(dt), little_endian=False).numpy(), a
        )


def test_decode_raw_fixed_length_and_errors():
    out = tf.io.decode_raw(S(b"\x01\x00\x02", b"\x03"), tf.int16, fixed_length=4)
    np.testing.assert_array_equal(out.numpy(), [[1, 2], [3, 0]])
    np.testing.assert_array_equal(tf.io.decode_raw(S(b"ab\x00c"), tf.bool).numpy(), [[1, 1, 0, 1]])
    assert tf.io.decode_raw(S(b"", b""), tf.int32).shape == (2, 0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="same size"):
        tf.io.decode_raw(S(b"\x01\x00\x02", b"\x03"), tf.int16)
    with pytest.raises(TypeError, match="string"):
        tf.io.decode_raw(S(b"ab"), tf.string)


def test_base64_against_stdlib():
    data = [b"hello?>", b"\xff\xfe\xfd", b"", b"a"]
    enc = tf.io.encode_base64(S(*data)).numpy().tolist()
    assert enc == [base64.urlsafe_b64encode(x).rstrip(b"=") for x in data]
    enc = tf.io.encode_base64(S(*data), pad=True).numpy().tolist()
    assert enc == [base64.urlsafe_b64encode(x) for x in data]
    assert tf.io.decode_base64(S(*enc)).numpy().tolist() == data
    with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid character"):
        tf.io.decode_base64(S(b"aGVsbG8/Pg"))  # '/' is not web-safe
    with pytest.raises(tf.errors.InvalidArgumentError, match="1 modulo 4"):
        tf.io.decode_base64(S(b"a"))


def test_decode_compressed_against_stdlib():
    raw = [b"abc" * 50, b""]
    out = tf.io.decode_compressed(S(*(zlib.compress(x) for x in raw)), "ZLIB")
    assert out.numpy().tolist() == raw
    out = tf.io.decode_compressed(S(*(gzip.compress(x) for x in raw)), "GZIP")
    assert out.numpy().tolist() == raw
    assert tf.io.decode_compressed(S(b"raw")).numpy().tolist() == [b"raw"]
    with pytest.raises(tf.errors.DataLossError):
        tf.io.decode_compressed(S(b"raw"), "ZLIB")
    with pytest.raises(tf.errors.InvalidArgumentError, match="ZLIB"):
        tf.io.decode_compressed(S(b"raw"), "LZ4")


def test_decode_csv():
    cols = tf.io.decode_csv(['1,2.5,"a,b",x', '3,,"q""r",'], [[0], [1.0], [""], ["d"]])
    assert [c.dtype for c in cols] == [tf.int32, tf.float32, tf.string, tf.string]
    np.testing.assert_array_equal(cols[0].numpy(), [1, 3])
    np.testing.assert_array_equal(cols[1].numpy(), [2.5, 1.0])
    assert cols[2].numpy().tolist() == [b"a,b", b'q"r']
    assert cols[3].numpy().tolist() == [b"x", b"d"]
    a, b = tf.io.decode_csv(
        [["1;NA"], ["2;3"]], [[0], tf.constant([7], tf.int64)], field_delim=";", na_value="NA"
    )
    assert a.shape == (2, 1) and b.dtype == tf.int64
    np.testing.assert_array_equal(b.numpy(), [[7], [3]])
    a, b = tf.io.decode_csv(["1,2,3,4"], [[0], [0.0]], select_cols=[1, 3])
    assert a.numpy().tolist() == [2] and b.numpy().tolist() == [4.0]
    x, y = tf.io.decode_csv(['1,"2"'], [[0], [""]], use_quote_delim=False)
    assert y.numpy().tolist() == [b'"2"']
    E = tf.errors.InvalidArgumentError
    with pytest.raises(E, match="Field 1 is required but missing in record 0"):
        tf.io.decode_csv(["1,"], [[0], tf.constant([], tf.int32)])
    with pytest.raises(E, match="Expect 2 fields but have 3 in record 0"):
        tf.io.decode_csv(["1,2,3"], [[0], [0]])
    with pytest.raises(E, match="not a valid int32: 0x10"):
        tf.io.decode_csv(["0x10"], [[0]])
    with pytest.raises(E, match="not a valid int32: 9999999999"):
        tf.io.decode_csv(["9999999999"], [[0]])
    with pytest.raises(E, match="Quoted field"):
        tf.io.decode_csv(['1,"x'], [[0], [""]])
    with pytest.raises(E, match="Unquoted fields"):
        tf.io.decode_csv(['a"b'], [[""]])
    with pytest.raises(ValueError, match="strictly increasing"):
        tf.io.decode_csv(["1,2"], [[0], [0]], select_cols=[1, 0])


def test_decode_csv_against_tensorflow():
    tfr = _tf()
    records = ["1,2.5,x", "-3, 1e2 ,", '+4,nan,"q"']
    defaults = [[0], [0.0], ["d"]]
    ours = tf.io.decode_csv(records, defaults)
    theirs = tfr.io.decode_csv(records, defaults)
    for a, b in zip(ours, theirs):
        assert a.dtype.name == b.dtype.name
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_decode_json_example_against_tensorflow():
    tfr = _tf()
    js = '{"features": {"feature": {"a": {"int64List": {"value": ["1", "2"]}}, "b": {"floatList": {"value": [1.5]}}}}}'
    ours = tf.io.decode_json_example(js).numpy()
    theirs = tfr.io.decode_json_example(js).numpy()
    assert tfr.train.Example.FromString(ours) == tfr.train.Example.FromString(theirs)
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.io.decode_json_example("{not json")


def test_codecs_against_tensorflow():
    tfr = _tf()
    data = S(b"\x01\x00\x02\x00", b"\xff\xfe\x00\x80")
    for dt in ("int16", "uint8", "float16"):
        for le in (True, False):
            np.testing.assert_array_equal(
                tf.io.decode_raw(data, getattr(tf, dt), little_endian=le).numpy(),
                tfr.io.decode_raw(data, getattr(tfr, dt), little_endian=le).numpy(),
            )
    assert (
        tf.io.encode_base64(data, pad=True).numpy().tolist()
        == tfr.io.encode_base64(data, pad=True).numpy().tolist()
    )


# ----------------------------------------------------------------------------- sparse


def test_serialize_sparse_roundtrip_and_tf_bytes():
    sp = tf.sparse.SparseTensor([[0, 1], [2, 0]], [1.5, 2.5], [3, 4])
    s = tf.io.serialize_sparse(sp)
    assert s.shape == (3,) and s.dtype == tf.string
    parts = [
        tf.io.parse_tensor(s[i], t).numpy() for i, t in enumerate([tf.int64, tf.float32, tf.int64])
    ]
    np.testing.assert_array_equal(parts[0], [[0, 1], [2, 0]])
    np.testing.assert_array_equal(parts[1], [1.5, 2.5])
    np.testing.assert_array_equal(parts[2], [3, 4])


def test_serialize_many_and_deserialize():
    sp = tf.sparse.SparseTensor([[0, 1, 1], [1, 0, 0], [1, 2, 3]], [1, 2, 3], [2, 3, 4])
    m = tf.io.serialize_many_sparse(sp)
    assert m.shape == (2, 3)
    back = tf.io.deserialize_many_sparse(m, tf.int32)
    np.testing.assert_array_equal(back.indices.numpy(), sp.indices.numpy())
    np.testing.assert_array_equal(back.values.numpy(), [1, 2, 3])
    np.testing.assert_array_equal(back.dense_shape.numpy(), [2, 3, 4])
    # rows of different shapes: the dense shape is the largest
    a = tf.io.serialize_sparse(tf.sparse.SparseTensor([[0, 1], [1, 0]], [1, 2], [2, 3]))
    b = tf.io.serialize_sparse(tf.sparse.SparseTensor([[0, 4], [2, 2]], [3, 4], [3, 5]))
    r = tf.io.deserialize_many_sparse(tf.stack([b, a]), tf.int32)
    np.testing.assert_array_equal(r.indices.numpy(), [[0, 0, 4], [0, 2, 2], [1, 0, 1], [1, 1, 0]])
    np.testing.assert_array_equal(r.dense_shape.numpy(), [2, 3, 5])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Rank of input SparseTensor"):
        tf.io.serialize_many_sparse(tf.sparse.SparseTensor([[0]], [1], [2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of order"):
        tf.io.serialize_many_sparse(tf.sparse.SparseTensor([[1, 0], [0, 1]], [1, 2], [2, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Requested SparseTensor of type"):
        tf.io.deserialize_many_sparse(tf.stack([a]), tf.int64)


def test_sparse_serialization_against_tensorflow():
    tfr = _tf()
    idx, vals, shape = [[0, 1], [2, 0]], np.array([1.5, 2.5], np.float32), [3, 4]
    ours = tf.io.serialize_sparse(tf.sparse.SparseTensor(idx, vals, shape)).numpy()
    theirs = tfr.io.serialize_sparse(tfr.sparse.SparseTensor(idx, vals, shape)).numpy()
    assert ours.tolist() == theirs.tolist()  # same bytes
    many = tfr.io.serialize_many_sparse(
        tfr.sparse.SparseTensor([[0, 1, 1], [1, 0, 0], [1, 2, 3]], [1, 2, 3], [2, 3, 4])
    ).numpy()
    r = tf.io.deserialize_many_sparse(many, tf.int32)
    t = tfr.io.deserialize_many_sparse(many, tfr.int32)
    np.testing.assert_array_equal(r.indices.numpy(), t.indices.numpy())
    np.testing.assert_array_equal(r.values.numpy(), t.values.numpy())
    np.testing.assert_array_equal(r.dense_shape.numpy(), t.dense_shape.numpy())


# ----------------------------------------------------------------------------- sequence


def _seq_example(ctx, lists):
    se = tf.train.SequenceExample()
    for k, v in ctx.items():
        se.context.feature[k].int64_list.value.extend(v)
    for k, rows in lists.items():
        fl = se.feature_lists.feature_list[k]
        for r in rows:
            f = fl.feature.add()
            if isinstance(r[0], float):
                f.float_list.value.extend(r)
            else:
                f.int64_list.value.extend(r)
    return se.SerializeToString()


_A = (
    {"c": [1]},
    {"x": [[1, 2], [3, 4], [5, 6]], "v": [[1], [2, 3]], "f": [[1.5]], "w": [[1], [2, 3]]},
)
_B = ({"c": [2]}, {"x": [[7, 8]], "v": [[4, 5, 6]], "w": [[4, 5, 6]]})


def _features(lib):
    cf = {"c": lib.io.FixedLenFeature([], lib.int64), "cv": lib.io.VarLenFeature(lib.int64)}
    sf = {
        "x": lib.io.FixedLenSequenceFeature([2], lib.int64),
        "v": lib.io.VarLenFeature(lib.int64),
        "f": lib.io.FixedLenSequenceFeature([], lib.float32, allow_missing=True),
        "r": lib.io.RaggedFeature(lib.int64, value_key="w"),
    }
    return cf, sf


def test_parse_sequence_example_values():
    a, b = _seq_example(*_A), _seq_example(*_B)
    ctx, fl, lens = tf.io.parse_sequence_example(S(a, b), *_features(tf))
    np.testing.assert_array_equal(ctx["c"].numpy(), [1, 2])
    np.testing.assert_array_equal(
        fl["x"].numpy(), [[[1, 2], [3, 4], [5, 6]], [[7, 8], [0, 0], [0, 0]]]
    )
    np.testing.assert_array_equal(lens["x"].numpy(), [3, 1])
    np.testing.assert_array_equal(lens["f"].numpy(), [1, 0])
    np.testing.assert_array_equal(fl["f"].numpy(), [[1.5], [0.0]])
    np.testing.assert_array_equal(fl["v"].dense_shape.numpy(), [2, 2, 3])
    assert fl["r"].to_list() == [[[1], [2, 3]], [[4, 5, 6]]]
    ctx, fl = tf.io.parse_single_sequence_example(a, *_features(tf))
    assert int(ctx["c"]) == 1 and fl["x"].shape == (3, 2)
    np.testing.assert_array_equal(fl["v"].indices.numpy(), [[0, 0], [1, 0], [1, 1]])
    assert fl["r"].to_list() == [[1], [2, 3]]
    with pytest.raises(tf.errors.InvalidArgumentError, match="Feature list 'f' is required"):
        tf.io.parse_single_sequence_example(
            b, None, {"f": tf.io.FixedLenSequenceFeature([], tf.float32)}
        )
    with pytest.raises(tf.errors.InvalidArgumentError, match="unexpected number of values"):
        tf.io.parse_single_sequence_example(
            b, None, {"x": tf.io.FixedLenSequenceFeature([3], tf.int64)}
        )
    with pytest.raises(ValueError, match="at least one"):
        tf.io.parse_single_sequence_example(b)


def test_parse_sequence_example_against_tensorflow():
    tfr = _tf()
    a, b = _seq_example(*_A), _seq_example(*_B)
    ours = tf.io.parse_sequence_example(S(a, b), *_features(tf))
    theirs = tfr.io.parse_sequence_example([a, b], *_features(tfr))
    for o, t in zip(ours, theirs):
        assert sorted(o) == sorted(t)
        for k in o:
            if hasattr(t[k], "to_list"):
                assert o[k].to_list() == t[k].to_list()
            elif hasattr(t[k], "indices"):
                for part in ("indices", "values", "dense_shape"):
                    np.testing.assert_array_equal(
                        getattr(o[k], part).numpy(), getattr(t[k], part).numpy()
                    )
            else:
                assert o[k].dtype.name == t[k].dtype.name
                np.testing.assert_array_equal(o[k].numpy(), t[k].numpy())


def test_parse_sequence_example_in_dataset_map():
    a, b = _seq_example(*_A), _seq_example(*_B)
    cf, sf = _features(tf)
    ds = tf.data.Dataset.from_tensor_slices(S(a, b)).map(
        lambda s: tf.io.parse_single_sequence_example(s, cf, {"x": sf["x"]})[1]["x"]
    )
    got = [x.tolist() for x in ds.as_numpy_iterator()]
    assert got == [[[1, 2], [3, 4], [5, 6]], [[7, 8]]]
