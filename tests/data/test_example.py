"""tf.train.Example protos, tf.io.parse_example / parse_single_example, serialize_tensor."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import rill as tf
from rill.core.errors import InvalidArgumentError
from rill.data import example as E

# Example{a: int64 [1, 2, 3], s: bytes [b"x", b"yz"], b: float [1.5], c: int64 [4, 5]} as
# serialized by TensorFlow 2.21.
TF_EXAMPLE = (
    b"\n:\n\x0c\n\x01a\x12\x07\x1a\x05\n\x03\x01\x02\x03\n\x0e\n\x01s\x12\t\n\x07\n\x01x\n\x02yz"
    b"\n\r\n\x01b\x12\x08\x12\x06\n\x04\x00\x00\xc0?\n\x0b\n\x01c\x12\x06\x1a\x04\n\x02\x04\x05"
)


def test_missing_protobuf_names_the_extra(monkeypatch):
    from rill.core import protos

    monkeypatch.setattr(protos, "_built", 0)  # as if no message class were built yet
    monkeypatch.setattr(protos, "_CLASSES", {})
    monkeypatch.setitem(sys.modules, "google.protobuf", None)
    with pytest.raises(ImportError, match=r"rill\[proto\]"):
        E.Example()
    with pytest.raises(tf.errors.UnimplementedError, match="protobuf"):
        E.serialize_tensor(tf.constant(1.0))


pytest.importorskip("google.protobuf")


def _example(**features):
    feats = {}
    for k, v in features.items():
        if isinstance(v[0], bytes):
            feats[k] = E.Feature(bytes_list=E.BytesList(value=v))
        elif isinstance(v[0], float):
            feats[k] = E.Feature(float_list=E.FloatList(value=v))
        else:
            feats[k] = E.Feature(int64_list=E.Int64List(value=v))
    return E.Example(features=E.Features(feature=feats)).SerializeToString()


# ---------------------------------------------------------------------------- messages


def test_messages_are_wire_compatible():
    ex = E.Example.FromString(TF_EXAMPLE)
    assert isinstance(ex, E.Example) and not isinstance(b"", E.Example)
    fmap = ex.features.feature
    assert list(fmap["a"].int64_list.value) == [1, 2, 3]
    assert list(fmap["s"].bytes_list.value) == [b"x", b"yz"]
    assert fmap["b"].WhichOneof("kind") == "float_list"
    again = E.Example.FromString(ex.SerializeToString())
    assert again == ex
    # one map entry serializes exactly as TensorFlow does
    one = E.Example(
        features=E.Features(feature={"a": E.Feature(int64_list=E.Int64List(value=[1, 2, 3]))})
    )
    assert one.SerializeToString() == b"\n\x0e\n\x0c\n\x01a\x12\x07\x1a\x05\n\x03\x01\x02\x03"


def test_sequence_example_fields():
    se = E.SequenceExample()
    se.context.feature["len"].int64_list.value.append(2)
    fl = se.feature_lists.feature_list["tok"]
    fl.feature.add().bytes_list.value.append(b"hi")
    fl.feature.add().bytes_list.value.append(b"there")
    blob = se.SerializeToString()
    assert blob.startswith(b"\n")  # field 1, context
    back = E.SequenceExample.FromString(blob)
    assert [f.bytes_list.value[0] for f in back.feature_lists.feature_list["tok"].feature] == [
        b"hi",
        b"there",
    ]


# ---------------------------------------------------------------------------- parsing

SPEC = {
    "a": E.FixedLenFeature([3], tf.int64),
    "b": E.FixedLenFeature([], tf.float32),
    "m": E.FixedLenFeature([2], tf.float32, default_value=[7.0, 8.0]),
}


def test_parse_single_example_dense():
    out = E.parse_single_example(TF_EXAMPLE, SPEC)
    assert sorted(out) == ["a", "b", "m"]
    np.testing.assert_array_equal(out["a"].numpy(), [1, 2, 3])
    assert out["a"].dtype == tf.int64 and out["b"].dtype == tf.float32
    assert out["b"].shape == () and float(out["b"].numpy()) == 1.5
    np.testing.assert_array_equal(out["m"].numpy(), [7.0, 8.0])


def test_parse_example_batch_and_shapes():
    other = _example(a=[4, 5, 6], b=[2.5], m=[1.0, 2.0])
    out = E.parse_example([TF_EXAMPLE, other], SPEC)
    np.testing.assert_array_equal(out["a"].numpy(), [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(out["b"].numpy(), np.float32([1.5, 2.5]))
    np.testing.assert_array_equal(out["m"].numpy(), [[7, 8], [1, 2]])
    r = E.parse_example([TF_EXAMPLE], {"a": E.FixedLenFeature([3, 1], tf.int64)})
    assert r["a"].shape == (1, 3, 1)
    s = E.parse_example([TF_EXAMPLE], {"s": E.FixedLenFeature([2], tf.string)})
    assert s["s"].numpy().tolist() == [[b"x", b"yz"]]


def test_parse_errors_match_tensorflow():
    with pytest.raises(
        InvalidArgumentError, match="Feature: q .* is required but could not be found"
    ):
        E.parse_single_example(TF_EXAMPLE, {"q": E.FixedLenFeature([], tf.int64)})
    with pytest.raises(InvalidArgumentError, match=r"Values size: 3 but output shape: \[2\]"):
        E.parse_example([TF_EXAMPLE], {"a": E.FixedLenFeature([2], tf.int64)})
    with pytest.raises(InvalidArgumentError, match="Data types don't match"):
        E.parse_single_example(TF_EXAMPLE, {"a": E.FixedLenFeature([3], tf.float32)})
    with pytest.raises(InvalidArgumentError, match="Could not parse example input"):
        E.parse_single_example(b"\xff\xff\xff", SPEC)
    with pytest.raises(InvalidArgumentError, match="scalar or vector"):
        E.parse_example([[TF_EXAMPLE]], SPEC)
    with pytest.raises(ValueError, match="scalar"):
        E.parse_single_example([TF_EXAMPLE], SPEC)
    with pytest.raises(ValueError, match="FixedLenSequenceFeature"):
        E.parse_example([TF_EXAMPLE], {"a": E.FixedLenFeature([None], tf.int64)})
    with pytest.raises(ValueError, match="unsupported dtype int32"):
        E.parse_example([TF_EXAMPLE], {"a": E.FixedLenFeature([3], tf.int32)})


def test_fixed_len_sequence_feature_pads():
    empty = E.Example().SerializeToString()
    out = E.parse_example(
        [TF_EXAMPLE, empty],
        {
            "a": E.FixedLenSequenceFeature([], tf.int64, allow_missing=True),
            "b": E.FixedLenSequenceFeature([], tf.float32, allow_missing=True, default_value=-1.0),
        },
    )
    np.testing.assert_array_equal(out["a"].numpy(), [[1, 2, 3], [0, 0, 0]])
    np.testing.assert_array_equal(out["b"].numpy(), np.float32([[1.5], [-1.0]]))
    pairs = E.parse_example(
        [_example(p=[1, 2, 3, 4]), _example(p=[5, 6])],
        {"p": E.FixedLenSequenceFeature([2], tf.int64)},
    )["p"]
    np.testing.assert_array_equal(pairs.numpy(), [[[1, 2], [3, 4]], [[5, 6], [0, 0]]])
    with pytest.raises(InvalidArgumentError, match="required"):
        E.parse_example([empty], {"a": E.FixedLenSequenceFeature([], tf.int64)})
    with pytest.raises(InvalidArgumentError, match="not a multiple of 2"):
        E.parse_example([TF_EXAMPLE], {"a": E.FixedLenSequenceFeature([2], tf.int64)})


def test_ragged_feature_single_is_dense():
    out = E.parse_single_example(
        TF_EXAMPLE,
        {"r": E.RaggedFeature(tf.int64, value_key="c"), "x": E.RaggedFeature(tf.float32)},
    )
    np.testing.assert_array_equal(out["r"].numpy(), [4, 5])
    assert out["x"].shape == (0,) and out["x"].dtype == tf.float32


def test_ragged_feature_batch():
    out = E.parse_example(
        [TF_EXAMPLE, _example(c=[7])],
        {"r": E.RaggedFeature(tf.int64, value_key="c", row_splits_dtype=tf.int64)},
    )["r"]
    assert out.to_list() == [[4, 5], [7]]
    assert out.row_splits.dtype == tf.int64


def test_var_len_feature():
    single = E.parse_single_example(TF_EXAMPLE, {"s": E.VarLenFeature(tf.string)})["s"]
    np.testing.assert_array_equal(single.indices.numpy(), [[0], [1]])
    assert single.values.numpy().tolist() == [b"x", b"yz"]
    np.testing.assert_array_equal(single.dense_shape.numpy(), [2])
    batch = E.parse_example(
        [TF_EXAMPLE, _example(a=[9])],
        {"a": E.VarLenFeature(tf.int64), "z": E.VarLenFeature(tf.int64)},
    )
    np.testing.assert_array_equal(batch["a"].indices.numpy(), [[0, 0], [0, 1], [0, 2], [1, 0]])
    np.testing.assert_array_equal(batch["a"].values.numpy(), [1, 2, 3, 9])
    np.testing.assert_array_equal(batch["a"].dense_shape.numpy(), [2, 3])
    assert batch["z"].indices.shape == (0, 2)
    np.testing.assert_array_equal(batch["z"].dense_shape.numpy(), [2, 0])


def test_parse_inside_function():
    @tf.function
    def parse(s):
        return E.parse_example(s, SPEC)

    out = parse(tf.constant([TF_EXAMPLE, TF_EXAMPLE]))
    np.testing.assert_array_equal(out["a"].numpy(), [[1, 2, 3], [1, 2, 3]])
    conc = parse.get_concrete_function(tf.TensorSpec([None], tf.string))
    shapes = {k: v.shape.as_list() for k, v in conc.structured_outputs.items()}
    assert shapes == {"a": [None, 3], "b": [None], "m": [None, 2]}


def test_unsupported_partitions():
    with pytest.raises(tf.errors.UnimplementedError, match="partitions"):
        E.parse_example(
            [TF_EXAMPLE],
            {"r": E.RaggedFeature(tf.int64, partitions=[E.RaggedFeature.RowLengths("c")])},
        )


# ---------------------------------------------------------------------------- tensors

TF_SERIALIZED = [
    (np.float32([[1, 2], [3, 4]]), b'\x08\x01\x12\x08\x12\x02\x08\x02\x12\x02\x08\x02"\x10'
     b"\x00\x00\x80?\x00\x00\x00@\x00\x00@@\x00\x00\x80@"),
    (np.int32(3), b'\x08\x03\x12\x00"\x04\x03\x00\x00\x00'),
    (np.array([b"a", b"bc"], object), b"\x08\x07\x12\x04\x12\x02\x08\x02B\x01aB\x02bc"),
    (np.bool_(True), b'\x08\n\x12\x00"\x01\x01'),
    (np.uint8([1, 2]), b'\x08\x04\x12\x04\x12\x02\x08\x02"\x02\x01\x02'),
    (np.zeros((0, 3), np.float32), b"\x08\x01\x12\x06\x12\x00\x12\x02\x08\x03"),
    (np.complex64([1 + 2j]), b'\x08\x08\x12\x04\x12\x02\x08\x01"\x08\x00\x00\x80?\x00\x00\x00@'),
    (np.float16([1.5]), b'\x08\x13\x12\x04\x12\x02\x08\x01"\x02\x00>'),
]  # fmt: skip


@pytest.mark.parametrize("value,blob", TF_SERIALIZED, ids=lambda x: getattr(x, "dtype", None))
def test_serialize_tensor_matches_tensorflow(value, blob):
    t = tf.constant(value)
    s = E.serialize_tensor(t)
    assert s.dtype == tf.string and s.shape == ()
    assert s.numpy() == blob
    back = E.parse_tensor(blob, t.dtype)
    assert back.dtype == t.dtype and back.shape == t.shape
    np.testing.assert_array_equal(back.numpy(), t.numpy())


def test_parse_tensor_typed_value_fields():
    T = E.message_classes()["TensorProto"]
    p = T(dtype=1, float_val=[5.0])
    p.tensor_shape.dim.add(size=3)
    np.testing.assert_array_equal(
        E.parse_tensor(p.SerializeToString(), tf.float32).numpy(), [5, 5, 5]
    )
    p = T(dtype=9, int64_val=[1, 2])
    p.tensor_shape.dim.add(size=2)
    np.testing.assert_array_equal(E.parse_tensor(p.SerializeToString(), tf.int64).numpy(), [1, 2])


def test_parse_tensor_errors():
    blob = E.serialize_tensor(tf.constant(1.0)).numpy()
    with pytest.raises(
        InvalidArgumentError, match=r"Type mismatch .*\(float32\) and dtype \(int32\)"
    ):
        E.parse_tensor(blob, tf.int32)
    with pytest.raises(InvalidArgumentError, match="Could not parse"):
        E.parse_tensor(b"\xff\xff", tf.int32)


def test_serialize_tensor_in_function():
    @tf.function
    def rt(x):
        return E.parse_tensor(E.serialize_tensor(x), tf.float32)

    np.testing.assert_array_equal(rt(tf.constant([1.0, 2.0])).numpy(), [1.0, 2.0])
