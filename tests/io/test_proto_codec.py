"""tf.io.decode_proto / encode_proto on a message described by a FileDescriptorSet file
(built here), against the protobuf messages themselves and against TensorFlow."""

import numpy as np
import pytest

import rill as tf

pb = pytest.importorskip("google.protobuf")


def _descriptor_set(path):
    from google.protobuf import descriptor_pb2

    f = descriptor_pb2.FileDescriptorProto(name="rill_codec_test.proto", package="rillcodec")
    f.syntax = "proto2"
    inner = f.message_type.add(name="Inner")
    inner.field.add(name="x", number=1, type=5, label=1)
    rec = f.message_type.add(name="Rec")
    T = descriptor_pb2.FieldDescriptorProto
    rec.field.add(name="a", number=1, type=T.TYPE_INT32, label=T.LABEL_OPTIONAL, default_value="7")
    rec.field.add(name="b", number=2, type=T.TYPE_FLOAT, label=T.LABEL_REPEATED)
    rec.field.add(name="c", number=3, type=T.TYPE_STRING, label=T.LABEL_OPTIONAL)
    rec.field.add(name="d", number=4, type=T.TYPE_INT64, label=T.LABEL_REPEATED)
    rec.field.add(
        name="sub", number=5, type=T.TYPE_MESSAGE, label=T.LABEL_OPTIONAL,
        type_name=".rillcodec.Inner",
    )  # fmt: skip
    rec.field.add(name="e", number=6, type=T.TYPE_BOOL, label=T.LABEL_REPEATED)
    rec.field.add(name="f", number=7, type=T.TYPE_DOUBLE, label=T.LABEL_OPTIONAL)
    fds = descriptor_pb2.FileDescriptorSet(file=[f])
    path.write_bytes(fds.SerializeToString())
    return str(path)


def _classes(source):
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    fds = descriptor_pb2.FileDescriptorSet()
    fds.ParseFromString(open(source, "rb").read())
    pool = descriptor_pool.DescriptorPool()
    for fd in fds.file:
        pool.Add(fd)
    get = getattr(message_factory, "GetMessageClass", None)
    if get is None:
        get = message_factory.MessageFactory(pool).GetPrototype
    return get(pool.FindMessageTypeByName("rillcodec.Rec")), get(
        pool.FindMessageTypeByName("rillcodec.Inner")
    )


FIELDS = ["a", "b", "c", "d", "sub", "e", "f"]
TYPES = [tf.int32, tf.float32, tf.string, tf.int64, tf.string, tf.bool, tf.float64]


def _messages(Rec, Inner):
    m1 = Rec(a=3, b=[1.5, 2.5, 3.5], c="hé", d=[10], e=[True, False], f=0.25)
    m1.sub.x = 9
    m2 = Rec(d=[-1, 2**40])  # a, c, f unset: decoded as absent (size 0), padded by defaults
    return [m1.SerializeToString(), m2.SerializeToString()]


@pytest.fixture
def source(tmp_path):
    return _descriptor_set(tmp_path / "codec.desc")


def test_decode_proto_sizes_values_and_defaults(source):
    Rec, Inner = _classes(source)
    ser = _messages(Rec, Inner)
    sizes, values = tf.io.decode_proto(ser, "rillcodec.Rec", FIELDS, TYPES, source)
    assert sizes.dtype == tf.int32
    np.testing.assert_array_equal(sizes.numpy(), [[1, 3, 1, 1, 1, 2, 1], [0, 0, 0, 2, 0, 0, 0]])
    a, b, c, d, sub, e, f = (v.numpy() for v in values)
    np.testing.assert_array_equal(a, [[3], [7]])  # proto2 default 7 pads the absent field
    np.testing.assert_allclose(b, [[1.5, 2.5, 3.5], [0, 0, 0]])
    assert c.tolist() == [["hé".encode()], [b""]]
    np.testing.assert_array_equal(d, [[10, 0], [-1, 2**40]])
    inner = Inner()
    inner.ParseFromString(sub[0, 0])
    assert inner.x == 9 and sub[1, 0] == b""
    np.testing.assert_array_equal(e, [[True, False], [False, False]])
    np.testing.assert_allclose(f, [[0.25], [0.0]])
    assert [v.dtype for v in values] == TYPES


def test_encode_decode_round_trip(source):
    Rec, Inner = _classes(source)
    ser = _messages(Rec, Inner)
    sizes, values = tf.io.decode_proto(ser, "rillcodec.Rec", FIELDS, TYPES, source)
    again = tf.io.encode_proto(sizes, values, FIELDS, "rillcodec.Rec", source)
    for raw, want in zip(again.numpy(), ser):
        got, ref = Rec(), Rec()
        got.ParseFromString(raw)
        ref.ParseFromString(want)
        assert got == ref


def test_text_format_and_local_pool():
    from rill.core import protos

    shape = protos.message_classes()["TensorShapeProto"]()
    shape.dim.add(size=4)
    shape.dim.add(size=2, name="x")
    sizes, values = tf.io.decode_proto(
        [shape.SerializeToString()], "tensorflow.TensorShapeProto", ["dim"], [tf.string]
    )
    assert sizes.numpy().tolist() == [[2]]
    text = b"dim { size: 4 } unknown_rank: true"
    sizes, values = tf.io.decode_proto(
        text, "tensorflow.TensorShapeProto", ["unknown_rank"], [tf.bool], message_format="text"
    )
    assert sizes.numpy().tolist() == [1] and values[0].numpy().tolist() == [True]


def test_errors(source):
    with pytest.raises(tf.errors.InvalidArgumentError, match="Unknown field"):
        tf.io.decode_proto([b""], "rillcodec.Rec", ["zz"], [tf.int32], source)
    with pytest.raises(tf.errors.InvalidArgumentError, match="No descriptor"):
        tf.io.decode_proto([b""], "rillcodec.Nope", ["a"], [tf.int32], source)
    with pytest.raises(tf.errors.InvalidArgumentError, match="output type"):
        tf.io.decode_proto([b""], "rillcodec.Rec", ["a"], [tf.string], source)
    with pytest.raises(tf.errors.InvalidArgumentError, match="larger"):
        tf.io.encode_proto([[3]], [[[1]]], ["a"], "rillcodec.Rec", source)


def test_against_tensorflow(source):
    tft = pytest.importorskip("tensorflow")
    Rec, Inner = _classes(source)
    ser = _messages(Rec, Inner)
    ours = tf.io.decode_proto(ser, "rillcodec.Rec", FIELDS, TYPES, source)
    tf_types = [getattr(tft, t.name) for t in TYPES]
    ref = tft.io.decode_proto(ser, "rillcodec.Rec", FIELDS, tf_types, source)
    np.testing.assert_array_equal(ours[0].numpy(), ref[0].numpy())
    for o, r in zip(ours[1], ref[1]):
        assert o.shape == tuple(r.shape)
        if o.dtype == tf.string:
            assert o.numpy().tolist() == r.numpy().tolist()
        else:
            np.testing.assert_array_equal(o.numpy(), r.numpy())
    enc_ours = tf.io.encode_proto(ours[0], ours[1], FIELDS, "rillcodec.Rec", source).numpy()
    enc_ref = tft.io.encode_proto(ref[0], ref[1], FIELDS, "rillcodec.Rec", source).numpy()
    for a, b in zip(enc_ours, enc_ref):
        ma, mb = Rec(), Rec()
        ma.ParseFromString(a)
        mb.ParseFromString(b)
        assert ma == mb
