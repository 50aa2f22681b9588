"""tf.experimental.StructuredTensor: Python references and differential checks vs TF."""

import numpy as np
import pytest

import rill
from rill.structures.ragged_shape import RowPartition
from rill.structures.structured_tensor import StructuredTensor as ST

PYVALS = [
    [{"a": [1, 2, 3]}, {"a": [8, 9]}],
    {"foo": 12, "bar": {"x": [1.0, 2.0], "y": "hi"}},
    [[{"a": 1}, {"a": 2}], [{"a": 3}]],
    {"x": [{"y": 1}, {"y": 2}]},
    [{}, {}],
    [[{}], [{}, {}]],
]


def _plain(x):
    # np scalars -> python, bytes kept: the reference is the input itself.
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, str):
        return x.encode()
    return x


@pytest.mark.parametrize("pyval", PYVALS)
def test_pyval_round_trip(pyval):
    assert _plain(ST.from_pyval(pyval).to_pyval()) == _plain(pyval)


def test_shape_fields_and_getitem():
    st = ST.from_fields({"x": [1, 2, 3], "y": [[1.0, 2.0], [3, 4], [5, 6]]}, shape=[3])
    assert st.shape.as_list() == [3] and st.rank == 1 and int(st.nrows().numpy()) == 3
    assert st.nrows().dtype == rill.int64
    assert st.field_names() == ("x", "y")
    assert _plain(st[1].to_pyval()) == {"x": 2, "y": [3.0, 4.0]}
    assert _plain(st[1:].to_pyval()) == [{"x": 2, "y": [3.0, 4.0]}, {"x": 3, "y": [5.0, 6.0]}]
    np.testing.assert_array_equal(st[1, "y"].numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(st[:, "x"].numpy(), [1, 2, 3])
    with pytest.raises(ValueError, match="not compatible"):
        ST.from_fields({"x": [1, 2]}, shape=[3])
    with pytest.raises(KeyError):
        st.field_value("nope")


def test_nested_path_promote_updates():
    st = ST.from_pyval({"foo": 12, "bar": {"x": [1.0, 2.0]}})
    np.testing.assert_array_equal(st.field_value(("bar", "x")).numpy(), [1.0, 2.0])
    p = ST.from_pyval({"x": [{"y": 1}, {"y": 2}]}).promote(("x", "y"), "z")
    np.testing.assert_array_equal(p.field_value("z").numpy(), [1, 2])
    s3 = ST.from_fields({"x": [1, 2, 3]}, shape=[3])
    u = s3.with_updates({"z": [7, 8, 9], "x": None})
    assert u.field_names() == ("z",)
    d = s3.with_updates({"x": lambda v: v * 2})
    np.testing.assert_array_equal(d.field_value("x").numpy(), [2, 4, 6])


def test_partition_and_merge_dims():
    st = ST.from_fields({"x": [1, 2, 3], "y": [[1.0, 2.0], [3, 4], [5, 6]]}, shape=[3])
    p = st.partition_outer_dimension(RowPartition.from_row_lengths([2, 1]))
    assert p.shape.as_list() == [2, None]
    want = [[{"x": 1, "y": [1.0, 2.0]}, {"x": 2, "y": [3.0, 4.0]}], [{"x": 3, "y": [5.0, 6.0]}]]
    assert _plain(p.to_pyval()) == want
    m = p.merge_dims(0, 1)
    assert _plain(m.to_pyval()) == _plain(st.to_pyval()) and m.shape.as_list() == [3]
    # rank-3 merge of inner dims: each row's sublists concatenated (Python reference).
    v = [[[{"a": 1}], [{"a": 2}, {"a": 3}]], [[{"a": 4}]]]
    got = ST.from_pyval(v).merge_dims(1, 2).to_pyval()
    ref = [[d for sub in row for d in sub] for row in v]
    assert _plain(got) == ref


def test_spec():
    st = ST.from_fields({"x": [1, 2, 3]}, shape=[3])
    spec = st._type_spec
    assert isinstance(spec, ST.Spec) and spec.shape.as_list() == [3]
    assert spec.is_compatible_with(st) and spec.value_type is ST


@pytest.mark.parametrize("pyval", PYVALS[:4])
def test_vs_tf(pyval):
    tf = pytest.importorskip("tensorflow")
    ref = tf.experimental.StructuredTensor.from_pyval(pyval)
    got = ST.from_pyval(pyval)
    assert got.shape.as_list() == ref.shape.as_list() if ref.shape.rank else got.rank == 0
    assert _plain(got.to_pyval()) == _plain(ref.to_pyval())
    # repr matches TF's apart from the "tf." / "rill." prefix
    assert repr(got).replace("rill.", "tf.") == repr(ref)
