"""RaggedTensor, RaggedTensorSpec and tf.ragged: values, dtypes, shapes and errors as in
TF 2.21 (expected values derived by hand and checked against TensorFlow), ragged dispatch
of TF's public ops, rill.function tracing and gradients through flat_values.

The last section compares the same expressions under rill and TensorFlow; it is skipped
unless TensorFlow is importable.
"""

import importlib.util

import numpy as np
import pytest

import rill as tf
from rill.ops import _op
from rill.structures import ragged_ops as ro
from rill.structures import sparse_tensor as sparse
from rill.structures.ragged_tensor import RaggedTensor, RaggedTensorSpec
from tests.tf_errors import compare_outcomes


def T(path):
    """The public op exported as ``path`` ("math.add", "reduce_sum"), dispatch included."""
    ns, _, leaf = path.rpartition(".")
    return _op.EXPORTS[(ns, leaf)]


C = ro.constant


def rt_():
    return C([[1, 2], [3], [], [4, 5, 6]])


def r3_():
    return C([[[1, 2], [3]], [], [[4], [], [5, 6, 7]]])


def check(x, expected, dtype=None, shape=None):
    if isinstance(x, RaggedTensor):
        assert x.to_list() == expected
    else:
        np.testing.assert_allclose(np.asarray(x.numpy(), dtype=float), np.asarray(expected, float))
    if dtype is not None:
        assert x.dtype.name == dtype
    if shape is not None:
        assert x.shape.as_list() == shape


# --------------------------------------------------------------------------------------
# construction
# --------------------------------------------------------------------------------------


def test_constant_infers_ragged_rank_dtype_and_shape():
    rt = rt_()
    assert isinstance(rt, RaggedTensor) and rt.dtype is tf.int32
    assert rt.row_splits.dtype is tf.int64 and rt.row_splits.numpy().tolist() == [0, 2, 3, 3, 6]
    assert rt.shape.as_list() == [4, None] and rt.ragged_rank == 1
    r3 = r3_()
    assert r3.ragged_rank == 2 and r3.shape.as_list() == [3, None, None]
    check(C([[1.0, 2.5], [3.0]]), [[1.0, 2.5], [3.0]], "float32")
    check(C([["a", b"b"], ["c"]]), [[b"a", b"b"], [b"c"]], "string")
    check(C([[True], [False, True]]), [[True], [False, True]], "bool")
    check(C([[1, 2], [3]], dtype=tf.float64), [[1.0, 2.0], [3.0]], "float64")
    check(C([[1, 2**40], [3]]), [[1, 2**40], [3]], "int64")
    assert C([[1], []], row_splits_dtype=tf.int32).row_splits.dtype is tf.int32
    check(C([np.array([1, 2]), np.array([3])]), [[1, 2], [3]])


def test_constant_ragged_rank_and_inner_shape():
    x = C([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1)
    assert x.ragged_rank == 1 and x.shape.as_list() == [2, None, 2]
    assert x.flat_values.shape.as_list() == [3, 2]
    y = C([[[1, 2]], [[3, 4], [5, 6]]], inner_shape=(2,))
    assert y.ragged_rank == 1 and y.shape.as_list() == [2, None, 2]
    assert C([[[]], [[]]], ragged_rank=1).shape.as_list() == [2, None, 0]
    assert C([[], [[1, 2]]]).shape.as_list() == [2, None, None]
    e = C([[]])
    assert e.dtype is tf.float32 and e.to_list() == [[]]


def test_constant_without_ragged_dims_is_dense():
    for value, expected in (([1, 2, 3], [1, 2, 3]), (5, 5), ([], [])):
        t = C(value)
        assert not isinstance(t, RaggedTensor)
        assert np.asarray(t.numpy()).tolist() == expected
    assert C([]).dtype is tf.float32
    assert C([[1, 2], [3, 4]], ragged_rank=0).shape.as_list() == [2, 2]


@pytest.mark.parametrize(
    "kwargs, err",
    [
        (dict(pylist=[[1, 2], [[3]]]), ValueError),
        (dict(pylist=[[1, 2], [3]], ragged_rank=2), ValueError),
        (dict(pylist=[[1, 2], [3]], ragged_rank=0), ValueError),
        (dict(pylist=[[[1, 2]], [[3, 4], [5]]], ragged_rank=1), ValueError),
        (dict(pylist=[[[1, 2]], [[3, 4], [5, 6]]], inner_shape=(3,)), TypeError),
        (dict(pylist=[[1, 2], [3]], dtype=tf.string), TypeError),
        (dict(pylist=[[1.5, 2], [3]], dtype=tf.int32), TypeError),
    ],
)
def test_constant_errors(kwargs, err):
    with pytest.raises(err):
        C(**kwargs)


def test_factories():
    R = RaggedTensor
    check(R.from_row_splits([1, 2, 3], [0, 2, 3]), [[1, 2], [3]])
    check(R.from_row_lengths([1, 2, 3], [2, 1]), [[1, 2], [3]])
    check(R.from_value_rowids([1, 2, 3, 4], [0, 0, 2, 2], nrows=4), [[1, 2], [], [3, 4], []])
    check(R.from_value_rowids([1, 2, 3, 4], [0, 0, 2, 2]), [[1, 2], [], [3, 4]])
    check(R.from_row_starts([1, 2, 3, 4], [0, 1, 1]), [[1], [], [2, 3, 4]])
    check(R.from_row_limits([1, 2, 3, 4], [1, 1, 4]), [[1], [], [2, 3, 4]])
    nested = [[[1, 2]], [[], [3, 4]]]
    check(R.from_nested_row_splits([1, 2, 3, 4], [[0, 1, 3], [0, 2, 2, 4]]), nested)
    check(R.from_nested_row_lengths([1, 2, 3, 4], [[1, 2], [2, 0, 2]]), nested)
    check(R.from_nested_value_rowids([1, 2, 3, 4], [[0, 1, 1], [0, 0, 2, 2]]), nested)
    u = R.from_uniform_row_length([1, 2, 3, 4, 5, 6], 2)
    check(u, [[1, 2], [3, 4], [5, 6]], shape=[3, 2])
    x = R.from_row_splits([[1, 2], [3, 4], [5, 6]], [0, 1, 3])
    check(x, [[[1, 2]], [[3, 4], [5, 6]]], shape=[2, None, 2])
    s32 = R.from_row_splits([1, 2, 3], tf.constant([0, 1, 3], tf.int32))
    assert s32.row_splits.dtype is tf.int32
    inner = R.from_row_splits([1, 2, 3], [0, 2, 3])
    check(R.from_row_splits(inner, [0, 1, 2]), [[[1, 2]], [[3]]], shape=[2, None, None])


@pytest.mark.parametrize(
    "make, err",
    [
        (
            lambda: RaggedTensor.from_row_splits([1, 2, 3], [0, 2, 4]),
            tf.errors.InvalidArgumentError,
        ),
        (
            lambda: RaggedTensor.from_row_splits([1, 2, 3], [1, 2, 3]),
            tf.errors.InvalidArgumentError,
        ),
        (
            lambda: RaggedTensor.from_row_splits([1, 2, 3], [0, 2, 1, 3]),
            tf.errors.InvalidArgumentError,
        ),
        (lambda: RaggedTensor.from_row_splits([1, 2, 3], []), ValueError),
        (lambda: RaggedTensor.from_row_splits([1, 2, 3], [[0, 3]]), ValueError),
        (lambda: RaggedTensor.from_row_splits([1, 2, 3], [0.0, 3.0]), ValueError),
        (lambda: RaggedTensor.from_row_splits(5, [0, 0]), ValueError),
        (lambda: RaggedTensor.from_row_splits([1], tf.constant([0, 1], tf.int16)), ValueError),
        (lambda: RaggedTensor.from_row_lengths([1, 2, 3], [2, 2]), tf.errors.InvalidArgumentError),
        (lambda: RaggedTensor.from_row_lengths([1, 2, 3], [4, -1]), tf.errors.InvalidArgumentError),
        (
            lambda: RaggedTensor.from_value_rowids([1, 2, 3, 4], [0, 2, 0, 2]),
            tf.errors.InvalidArgumentError,
        ),
        (lambda: RaggedTensor.from_value_rowids([1, 2, 3, 4], [0, 0, 2, 2], nrows=2), ValueError),
        (lambda: RaggedTensor.from_value_rowids([1, 2, 3, 4], [0, 0, 2]), ValueError),
        (
            lambda: RaggedTensor.from_row_starts([1, 2, 3, 4], [1, 1, 1]),
            tf.errors.InvalidArgumentError,
        ),
        (
            lambda: RaggedTensor.from_row_limits([1, 2, 3, 4], [1, 1, 3]),
            tf.errors.InvalidArgumentError,
        ),
        (lambda: RaggedTensor.from_uniform_row_length([1, 2, 3, 4, 5, 6], 4), ValueError),
        (lambda: RaggedTensor([1], [0, 1]), ValueError),
    ],
)
def test_factory_validation(make, err):
    with pytest.raises(err):
        make()


def test_mismatched_splits_dtypes_raise():
    inner = RaggedTensor.from_row_splits([1, 2, 3], [0, 2, 3])
    with pytest.raises(ValueError, match="same dtype"):
        RaggedTensor.from_row_splits(inner, tf.constant([0, 1, 2], tf.int32))


def test_from_tensor():
    R = RaggedTensor.from_tensor
    t = tf.constant([[1, 2, 0], [3, 0, 0], [4, 5, 6]])
    check(R(t), [[1, 2, 0], [3, 0, 0], [4, 5, 6]], shape=[3, 3])
    check(R(t, padding=0), [[1, 2], [3], [4, 5, 6]], shape=[3, None])
    check(R(t, lengths=[1, 0, 3]), [[1], [], [4, 5, 6]])
    check(R(t, lengths=[1, 0, 4]), [[1], [], [4, 5, 6]])  # clipped to the width
    assert R(t, padding=0, row_splits_dtype=tf.int32).row_splits.dtype is tf.int32
    t3 = tf.constant([[[1, 0], [0, 0]], [[2, 3], [0, 0]]])
    check(R(t3, padding=[0, 0]), [[[1, 0]], [[2, 3]]], shape=[2, None, 2])
    check(R(t3, ragged_rank=2), [[[1, 0], [0, 0]], [[2, 3], [0, 0]]], shape=[2, 2, 2])
    check(R(t3, ragged_rank=2, padding=0), [[[1], []], [[2, 3], []]], shape=[2, 2, None])
    check(R(t3, ragged_rank=2, lengths=([1, 2], [1, 0, 2])), [[[1]], [[], [0, 0]]])
    check(R(t3, lengths=[-1, 1]), [[], [[2, 3]]])
    check(R(tf.zeros([2, 0]), padding=0.0), [[], []])
    check(R(tf.zeros([0, 3])), [], shape=[0, 3])
    with pytest.raises(ValueError, match="not both"):
        R(t, padding=0, lengths=[1, 0, 3])
    with pytest.raises(ValueError, match="incompatible"):
        R(t3, padding=0)
    with pytest.raises(ValueError, match="rank"):
        R([1, 2])
    with pytest.raises(ValueError, match="rank at least 4"):
        R(t3, ragged_rank=3)


def test_from_tensor_nan_padding_is_never_stripped():
    x = RaggedTensor.from_tensor(tf.constant([[1.0, np.nan]]), padding=np.nan)
    assert x.row_lengths().numpy().tolist() == [2]


def test_sparse_round_trip():
    st = sparse.SparseTensor([[0, 0], [0, 1], [2, 0]], [1, 2, 3], [4, 3])
    check(RaggedTensor.from_sparse(st), [[1, 2], [], [3], []])
    assert RaggedTensor.from_sparse(st, row_splits_dtype=tf.int32).row_splits.dtype is tf.int32
    with pytest.raises(tf.errors.InvalidArgumentError, match="right-ragged"):
        RaggedTensor.from_sparse(sparse.SparseTensor([[0, 1], [2, 0]], [1, 3], [4, 3]))
    with pytest.raises(ValueError, match="rank"):
        RaggedTensor.from_sparse(sparse.SparseTensor([[0, 0, 0]], [1], [1, 1, 1]))
    s = r3_().to_sparse()
    assert s.indices.numpy().tolist() == [
        [0, 0, 0], [0, 0, 1], [0, 1, 0], [2, 0, 0], [2, 2, 0], [2, 2, 1], [2, 2, 2],
    ]  # fmt: skip
    assert s.values.numpy().tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert s.dense_shape.numpy().tolist() == [3, 3, 3]
    s = C([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1).to_sparse()
    assert s.indices.numpy().tolist()[-2:] == [[1, 0, 0], [1, 0, 1]]
    assert s.dense_shape.numpy().tolist() == [2, 2, 2]


# --------------------------------------------------------------------------------------
# properties and conversion
# --------------------------------------------------------------------------------------


def test_partition_properties():
    r3 = r3_()
    assert r3.row_lengths().numpy().tolist() == [2, 0, 3]
    assert r3.row_lengths().dtype is tf.int64
    assert r3.row_lengths(axis=2).to_list() == [[2, 1], [], [1, 0, 3]]
    assert r3.row_lengths(axis=-1).to_list() == [[2, 1], [], [1, 0, 3]]
    assert int(r3.row_lengths(axis=0)) == 3
    assert [x.numpy().tolist() for x in r3.nested_row_lengths()] == [[2, 0, 3], [2, 1, 1, 0, 3]]
    assert r3.value_rowids().numpy().tolist() == [0, 0, 2, 2, 2]
    assert [x.numpy().tolist() for x in r3.nested_value_rowids()][1] == [0, 0, 1, 2, 4, 4, 4]
    assert int(r3.nrows()) == 3 and r3.nrows(out_type=tf.int32).dtype is tf.int32
    assert r3.row_starts().numpy().tolist() == [0, 2, 2]
    assert r3.row_limits().numpy().tolist() == [2, 2, 5]
    assert [s.numpy().tolist() for s in r3.nested_row_splits] == [[0, 2, 2, 5], [0, 2, 3, 4, 4, 7]]
    assert r3.flat_values.numpy().tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert r3.values.to_list() == [[1, 2], [3], [4], [], [5, 6, 7]]
    assert r3.bounding_shape().numpy().tolist() == [3, 3, 3]
    assert int(r3.bounding_shape(axis=1)) == 3
    assert r3.bounding_shape(out_type=tf.int32).dtype is tf.int32
    rt31 = C([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1)
    assert rt31.bounding_shape().numpy().tolist() == [2, 2, 2]
    assert rt31.row_lengths(axis=2).to_list() == [[2, 2], [2]]
    assert rt31.row_lengths(axis=2).dtype is tf.int64
    assert rt_().uniform_row_length is None
    assert int(RaggedTensor.from_uniform_row_length([1, 2, 3, 4], 2).uniform_row_length) == 2


def test_with_values_and_splits_dtype():
    r3 = r3_()
    check(r3.with_values(r3.values * 2), [[[2, 4], [6]], [], [[8], [], [10, 12, 14]]])
    check(r3.with_flat_values(r3.flat_values * 2), [[[2, 4], [6]], [], [[8], [], [10, 12, 14]]])
    with pytest.raises(ValueError, match="incompatible"):
        r3.with_values(tf.constant([1]))
    r32 = r3.with_row_splits_dtype(tf.int32)
    assert all(s.dtype is tf.int32 for s in r32.nested_row_splits)
    assert r32.to_list() == r3.to_list()


def test_to_tensor():
    r3 = r3_()
    dense = r3.to_tensor()
    assert dense.shape.as_list() == [3, 3, 3]
    assert dense.numpy()[2].tolist() == [[4, 0, 0], [0, 0, 0], [5, 6, 7]]
    assert r3.to_tensor(shape=[2, 2, 2]).numpy().tolist() == [[[1, 2], [3, 0]], [[0, 0], [0, 0]]]
    padded = r3.to_tensor(shape=[None, 4, None], default_value=-1)
    assert padded.shape.as_list() == [3, 4, 3]
    assert padded.numpy()[0].tolist() == [[1, 2, -1], [3, -1, -1], [-1, -1, -1], [-1, -1, -1]]
    rt = rt_()
    assert rt.to_tensor(default_value=9, shape=[2, 5]).numpy().tolist() == [
        [1, 2, 9, 9, 9], [3, 9, 9, 9, 9],
    ]  # fmt: skip
    rt31 = C([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1)
    assert rt31.to_tensor(default_value=[7, 8]).numpy().tolist() == [
        [[1, 2], [3, 4]], [[5, 6], [7, 8]],
    ]  # fmt: skip
    s = C([[b"a"], [b"b", b"c"]]).to_tensor()
    assert s.numpy().tolist() == [[b"a", b""], [b"b", b"c"]]
    assert C([[]]).to_tensor().shape.as_list() == [1, 0]


def test_to_list_and_numpy():
    assert r3_().to_list() == [[[1, 2], [3]], [], [[4], [], [5, 6, 7]]]
    n = rt_().numpy()
    assert n.dtype == object and n.shape == (4,)
    assert [x.tolist() for x in n] == [[1, 2], [3], [], [4, 5, 6]]
    assert n[0].dtype == np.int32
    uniform = C([[1, 2], [3, 4]]).numpy()
    assert uniform.dtype == np.int32 and uniform.shape == (2, 2)
    empty = RaggedTensor.from_row_splits(tf.zeros([0, 3]), [0]).numpy()
    assert empty.shape == (0, 0, 3)


def test_repr_matches_tensorflow_layout():
    assert repr(rt_()) == "<rill.RaggedTensor [[1, 2], [3], [], [4, 5, 6]]>"
    assert str(rt_()) == repr(rt_())
    assert repr(C([[1.0, 2.5], [3.0]])) == "<rill.RaggedTensor [[1.0, 2.5], [3.0]]>"
    assert repr(C([["a", "b"], ["c"]])) == "<rill.RaggedTensor [[b'a', b'b'], [b'c']]>"
    assert repr(C([[True], [False, True]])) == "<rill.RaggedTensor [[True], [False, True]]>"
    assert (
        repr(C([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1))
        == "<rill.RaggedTensor [[[1, 2],\n  [3, 4]], [[5, 6]]]>"
    )
    assert repr(C([[[1, 2]], [[3, 4], [5, 6]]], inner_shape=(2,))) == (
        "<rill.RaggedTensor [[[1, 2]], [[3, 4],\n            [5, 6]]]>"
    )
    assert repr(C([list(range(1200)), [1]])) == (
        "<rill.RaggedTensor [[0, 1, 2, ..., 1197, 1198, 1199], [1]]>"
    )


def test_iteration_and_truthiness():
    assert [r.numpy().tolist() for r in rt_()] == [[1, 2], [3], [], [4, 5, 6]]
    with pytest.raises(TypeError):
        bool(rt_())
    with pytest.raises(TypeError):
        hash(rt_())
    with pytest.raises(TypeError):
        len(rt_())


# --------------------------------------------------------------------------------------
# indexing
# --------------------------------------------------------------------------------------


def test_indexing_outer_dimension():
    rt = rt_()
    assert rt[0].numpy().tolist() == [1, 2] and not isinstance(rt[0], RaggedTensor)
    assert rt[-1].numpy().tolist() == [4, 5, 6]
    assert rt[tf.constant(1)].numpy().tolist() == [3]
    check(rt[1:3], [[3], []])
    check(rt[1:], [[3], [], [4, 5, 6]])
    check(rt[::2], [[1, 2], []])
    check(rt[::-1], [[4, 5, 6], [], [3], [1, 2]])
    assert int(rt[0, 1]) == 2 and int(rt[3, -1]) == 6
    with pytest.raises(IndexError, match="out of bounds"):
        rt[4]
    with pytest.raises(tf.errors.InvalidArgumentError):
        rt[-5]
    with pytest.raises(ValueError):
        rt[0, 5]


def test_indexing_ragged_and_uniform_dimensions():
    rt, r3 = rt_(), r3_()
    check(rt[:, 1:3], [[2], [], [], [5, 6]])
    check(rt[:, -1:], [[2], [3], [], [6]])
    check(rt[:, :1], [[1], [3], [], [4]])
    check(rt[:, ::2], [[1], [3], [], [4, 6]])
    check(rt[:, ::-1], [[2, 1], [3], [], [6, 5, 4]])
    check(rt[:, -1::-2], [[2], [3], [], [6, 4]])
    check(rt[:, 5:], [[], [], [], []])
    check(rt[1:3, 1:], [[], []])
    check(rt[..., :1], [[1], [3], [], [4]])
    for key in ((slice(None), 1), (slice(None), 0), (Ellipsis, 0)):
        with pytest.raises(ValueError, match="inner ragged dimension"):
            rt[key]
    with pytest.raises(ValueError, match="too many indices"):
        rt[:, :, 0]
    assert int(r3[2, 2, 1]) == 6
    check(r3[:, :, :1], [[[1], [3]], [], [[4], [], [5]]])
    check(r3[2], [[4], [], [5, 6, 7]])
    check(r3[2, :, 1:], [[], [], [6, 7]])
    check(r3[1:, ..., ::-1], [[], [[4], [], [7, 6, 5]]])
    rt31 = C([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1)
    check(rt31[:, :, 0], [[1, 3], [5]])
    check(rt31[..., 1], [[2, 4], [6]])
    assert int(rt31[1, 0, 1]) == 6


def test_indexing_newaxis():
    rt = rt_()
    x = rt[tf.newaxis]
    check(x, [[[1, 2], [3], [], [4, 5, 6]]], shape=[1, 4, None])
    y = rt[:, tf.newaxis]
    check(y, [[[1, 2]], [[3]], [[]], [[4, 5, 6]]], shape=[4, 1, None])
    z = C([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1)[..., tf.newaxis]
    check(z, [[[[1], [2]], [[3], [4]]], [[[5], [6]]]], shape=[2, None, 2, 1])


# --------------------------------------------------------------------------------------
# elementwise ops and dispatch
# --------------------------------------------------------------------------------------


def test_python_operators():
    rt, rf = rt_(), C([[1.0, 2.0], [3.0], [], [4.0, 5.0, 6.0]])
    check(rt + 1, [[2, 3], [4], [], [5, 6, 7]], "int32")
    check(1 + rt, [[2, 3], [4], [], [5, 6, 7]])
    check(2 - rt, [[1, 0], [-1], [], [-2, -3, -4]])
    check(rt * rt, [[1, 4], [9], [], [16, 25, 36]])
    check(rt / 2, [[0.5, 1.0], [1.5], [], [2.0, 2.5, 3.0]], "float64")
    check(rt // 2, [[0, 1], [1], [], [2, 2, 3]])
    check(rt % 2, [[1, 0], [1], [], [0, 1, 0]])
    check(rt**2, [[1, 4], [9], [], [16, 25, 36]])
    check(2**rt, [[2, 4], [8], [], [16, 32, 64]])
    check(-rt, [[-1, -2], [-3], [], [-4, -5, -6]])
    check(abs(-rt), [[1, 2], [3], [], [4, 5, 6]])
    check(rt < 3, [[True, True], [False], [], [False, False, False]], "bool")
    check(rt >= 3, [[False, False], [True], [], [True, True, True]])
    check(rt == 2, [[False, True], [False], [], [False, False, False]])
    check(rt != 2, [[True, False], [True], [], [True, True, True]])
    check(rt == rt, [[True, True], [True], [], [True, True, True]])
    check(~(rt > 1), [[True, False], [False], [], [False, False, False]])
    check((rt > 1) & (rt < 5), [[False, True], [True], [], [True, False, False]])
    check((rt > 1) | (rt < 2), [[True, True], [True], [], [True, True, True]])
    check((rt > 1) ^ (rt < 2), [[True, True], [True], [], [True, True, True]])
    check(rf + np.float32(1), [[2.0, 3.0], [4.0], [], [5.0, 6.0, 7.0]], "float32")
    assert (rt == None) is False and (rt != None) is True  # noqa: E711


def test_dispatch_through_tf_namespaces():
    rt, rf = rt_(), C([[1.0, 2.0], [3.0], [], [4.0, 5.0, 6.0]])
    check(T("math.add")(rt, 1), [[2, 3], [4], [], [5, 6, 7]])
    check(T("add")(1, rt), [[2, 3], [4], [], [5, 6, 7]])
    check(T("math.add")(x=rt, y=2), [[3, 4], [5], [], [6, 7, 8]])
    check(T("maximum")(rt, 2), [[2, 2], [3], [], [4, 5, 6]])
    check(T("cast")(rt, tf.float64), [[1.0, 2.0], [3.0], [], [4.0, 5.0, 6.0]], "float64")
    check(T("cast")(rt, dtype=tf.float32), rt.to_list(), "float32")
    check(T("nn.relu")(rf - 3), [[0.0, 0.0], [0.0], [], [1.0, 2.0, 3.0]])
    check(T("nn.leaky_relu")(rf - 3, alpha=0.5), [[-1.0, -0.5], [0.0], [], [1.0, 2.0, 3.0]])
    np.testing.assert_allclose(T("exp")(rf).flat_values.numpy(), np.exp([1, 2, 3, 4, 5, 6]), 1e-6)
    np.testing.assert_allclose(
        T("math.sqrt")(rf).flat_values.numpy(), np.sqrt([1, 2, 3, 4, 5, 6]), 1e-6
    )
    check(T("logical_not")(rt > 2), [[True, True], [False], [], [False, False, False]])
    check(T("math.equal")(rt, 2), [[False, True], [False], [], [False, False, False]])
    check(T("math.squared_difference")(rt, 1), [[0, 1], [4], [], [9, 16, 25]])
    check(T("clip_by_value")(rt, 2, 4), [[2, 2], [3], [], [4, 4, 4]])
    check(T("math.divide_no_nan")(rf, 0.0), [[0.0, 0.0], [0.0], [], [0.0, 0.0, 0.0]])
    check(T("ones_like")(rt), [[1, 1], [1], [], [1, 1, 1]])
    check(
        T("zeros_like")(rt, dtype=tf.float32), [[0.0, 0.0], [0.0], [], [0.0, 0.0, 0.0]], "float32"
    )
    check(T("add_n")([rt, rt, rt]), [[3, 6], [9], [], [12, 15, 18]])
    assert int(T("size")(rt)) == 6 and int(T("rank")(r3_())) == 3
    check(T("identity")(rt), rt.to_list())
    # dense calls are unchanged
    assert T("math.add")(tf.constant(1), 2).numpy() == 3


def test_ragged_broadcasting():
    rt, r3 = rt_(), r3_()
    check(rt + tf.constant([[10], [20], [30], [40]]), [[11, 12], [23], [], [44, 45, 46]])
    check(rt * tf.constant([[1], [2], [3], [4]]), [[1, 2], [6], [], [16, 20, 24]])
    check(r3 + tf.constant([[[1]], [[2]], [[3]]]), [[[2, 3], [4]], [], [[7], [], [8, 9, 10]]])
    check(r3 + tf.constant([[1]]), [[[2, 3], [4]], [], [[5], [], [6, 7, 8]]])
    rt31 = C([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1)
    check(rt31 + tf.constant([10, 20]), [[[11, 22], [13, 24]], [[15, 26]]])
    check(rt31 + tf.constant([[[10, 20]], [[30, 40]]]), [[[11, 22], [13, 24]], [[35, 46]]])
    check(C([[1, 2], [3, 4]]) + tf.constant([10, 20]), [[11, 22], [13, 24]])
    check(np.array([[1], [2], [3], [4]], np.int32) + rt, [[2, 3], [5], [], [8, 9, 10]])
    for other in (tf.constant([1, 2]), tf.constant([[1], [2]])):
        with pytest.raises(tf.errors.InvalidArgumentError, match="broadcast"):
            rt + other


def test_mismatched_partitions_and_dtypes_raise():
    rt = rt_()
    with pytest.raises(tf.errors.InvalidArgumentError, match="identical ragged splits"):
        rt + C([[1], [2, 3], [], [4, 5, 6]])
    with pytest.raises(tf.errors.InvalidArgumentError):
        rt + C([[1]])
    with pytest.raises(ValueError, match="mismatched row_splits dtypes"):
        rt + C([[1, 2], [3], [], [4, 5, 6]], row_splits_dtype=tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError):
        rt + C([[1.0, 2.0], [3.0], [], [4.0, 5.0, 6.0]])


def test_where():
    rt = rt_()
    check(T("where")(rt > 2, rt, rt * 10), [[10, 20], [3], [], [4, 5, 6]])
    check(T("where")(rt > 2, rt, 0), [[0, 0], [3], [], [4, 5, 6]])
    check(T("where")(rt > 2, 5, 0), [[0, 0], [5], [], [5, 5, 5]])
    coords = T("where")(rt > 2)
    assert coords.dtype is tf.int64 and coords.numpy().tolist() == [[1, 0], [3, 0], [3, 1], [3, 2]]
    assert T("where")(r3_() > 1).numpy().tolist()[:2] == [[0, 0, 1], [0, 1, 0]]
    with pytest.raises(ValueError):
        T("where")(rt > 2, rt)


# --------------------------------------------------------------------------------------
# reductions
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "axis, expected",
    [
        (None, 28),
        (0, [[5, 2], [3], [5, 6, 7]]),
        (1, [[4, 2], [], [9, 6, 7]]),
        (2, [[3, 3], [], [4, 0, 18]]),
        (-1, [[3, 3], [], [4, 0, 18]]),
        ([0, 1], [13, 8, 7]),
        ([1, 2], [6, 0, 22]),
        ([0, 2], [7, 3, 18]),
    ],
)
def test_reduce_sum_axes(axis, expected):
    check(T("reduce_sum")(r3_(), axis=axis), expected)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # mean of an empty row
def test_reductions():
    rt = rt_()
    rf = C([[1.0, 2.0], [3.0], [], [4.0, 5.0, 6.0]])
    check(T("reduce_sum")(rt, axis=1), [3, 3, 0, 15], "int32", [4])
    check(T("reduce_sum")(rt, axis=0), [8, 7, 6], "int32")
    check(T("reduce_sum")(rt, axis=1, keepdims=True), [[3], [3], [0], [15]], shape=[4, 1])
    check(T("reduce_sum")(rt, axis=0, keepdims=True), [[8, 7, 6]], shape=[1, 3])
    check(T("reduce_sum")(r3_(), axis=1, keepdims=True), [[[4, 2]], [[]], [[9, 6, 7]]])
    check(T("reduce_max")(r3_(), axis=0), [[4, 2], [3], [5, 6, 7]])
    check(T("reduce_prod")(rt, axis=1), [2, 3, 1, 120])
    check(T("reduce_min")(rt, axis=0), [1, 2, 6])
    assert int(T("reduce_max")(rt)) == 6
    mx = T("reduce_max")(rt, axis=1).numpy()
    assert mx.tolist() == [2, 3, np.iinfo(np.int32).min, 6]
    mn = T("reduce_min")(rf, axis=1).numpy()
    assert mn[2] == np.finfo(np.float32).max
    mean = T("reduce_mean")(rt, axis=1)
    assert mean.dtype is tf.float64 and np.isnan(mean.numpy()[2])
    np.testing.assert_allclose(mean.numpy()[[0, 1, 3]], [1.5, 3.0, 5.0])
    np.testing.assert_allclose(T("reduce_mean")(rf, axis=0).numpy(), [8 / 3, 3.5, 6.0], 1e-6)
    assert float(T("reduce_mean")(rf)) == 3.5
    check(T("reduce_any")(rt > 2, axis=1), [False, True, False, True], "bool")
    check(T("reduce_all")(rt > 2, axis=1), [False, True, True, True], "bool")
    var = T("math.reduce_variance")(rf, axis=1).numpy()
    np.testing.assert_allclose(var[[0, 1, 3]], [0.25, 0.0, 2 / 3], atol=1e-5)
    std = T("math.reduce_std")(rf, axis=1).numpy()
    np.testing.assert_allclose(std[[0, 1, 3]], [0.5, 0.0, np.sqrt(2 / 3)], atol=1e-5)
    rt31 = C([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1)
    check(T("reduce_sum")(rt31, axis=0), [[6, 8], [3, 4]])
    check(T("reduce_sum")(rt31, axis=1), [[4, 6], [5, 6]])
    check(T("reduce_sum")(rt31, axis=2), [[3, 7], [11]])
    with pytest.raises(ValueError, match="out of bounds"):
        T("reduce_sum")(rt, axis=3)


# --------------------------------------------------------------------------------------
# concat, stack, gather, boolean_mask
# --------------------------------------------------------------------------------------


def test_concat():
    a, b, c = C([[1, 2], [3]]), C([[4], [], [5, 6]]), C([[7], [8, 9]])
    d = tf.constant([[10, 11], [12, 13]])
    concat = T("concat")
    check(concat([a, b], 0), [[1, 2], [3], [4], [], [5, 6]])
    check(concat([a, c], 1), [[1, 2, 7], [3, 8, 9]])
    check(concat([a, c], -1), [[1, 2, 7], [3, 8, 9]])
    check(concat([a, d], 1), [[1, 2, 10, 11], [3, 12, 13]])
    check(concat([d, a], 0), [[10, 11], [12, 13], [1, 2], [3]])
    r3 = C([[[1, 2], [3]], [[4]]])
    check(concat([r3, r3], 2), [[[1, 2, 1, 2], [3, 3]], [[4, 4]]])
    check(concat([r3, r3], 1), [[[1, 2], [3], [1, 2], [3]], [[4], [4]]])
    check(concat([a], 0), [[1, 2], [3]])
    with pytest.raises(tf.errors.InvalidArgumentError):
        concat([a, b], 1)
    with pytest.raises(ValueError, match="rank"):
        concat([a, r3], 0)
    with pytest.raises(ValueError, match="out of bounds"):
        concat([a, a], 2)
    with pytest.raises(tf.errors.InvalidArgumentError):
        concat([a, T("cast")(c, tf.float32)], 0)


def test_stack():
    a, b, c = C([[1, 2], [3]]), C([[4], [], [5, 6]]), C([[7], [8, 9]])
    d = tf.constant([[10, 11], [12, 13]])
    stack = T("stack")
    check(stack([a, b], 0), [[[1, 2], [3]], [[4], [], [5, 6]]], shape=[2, None, None])
    check(stack([a, c], 1), [[[1, 2], [7]], [[3], [8, 9]]], shape=[2, None, None])
    check(stack([a, d], 1), [[[1, 2], [10, 11]], [[3], [12, 13]]])
    check(stack([a, a], 2), [[[1, 1], [2, 2]], [[3, 3]]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="identical ragged splits"):
        stack([a, c], 2)
    with pytest.raises(ValueError, match="out of bounds"):
        stack([a, c], 3)
    check(ro.stack([a, b]), [[[1, 2], [3]], [[4], [], [5, 6]]])
    r = ro.stack([[1, 2], [3]])
    check(r, [[1, 2], [3]])
    assert r.row_splits.dtype is tf.int32
    dense = ro.stack([d, d], 1)
    assert not isinstance(dense, RaggedTensor) and dense.shape.as_list() == [2, 2, 2]
    check(ro.stack([d, a], 1), [[[10, 11], [1, 2]], [[12, 13], [3]]])


def test_gather():
    b = C([[4], [], [5, 6]])
    gather = T("gather")
    check(gather(b, [2, 0, 2]), [[5, 6], [4], [5, 6]])
    g2 = gather(b, [[2, 0], [1, 1]])
    check(g2, [[[5, 6], [4]], [[], []]], shape=[2, None, None])
    check(gather(C([[[1, 2], [3]], [[4]]]), [1, 0]), [[[4]], [[1, 2], [3]]])
    assert gather(b, 1).numpy().tolist() == []
    check(gather(b, C([[2], [0, 1]])), [[[5, 6]], [[4], []]])
    for bad in ([3], [-1]):
        with pytest.raises(tf.errors.InvalidArgumentError, match="not in"):
            gather(b, bad)


def test_gather_dense_params_with_ragged_indices():
    out = T("gather")(tf.constant([10, 20, 30]), C([[2], [], [0, 1]]))
    check(out, [[30], [], [10, 20]])


def test_boolean_mask():
    b, r3 = C([[4], [], [5, 6]]), C([[[1, 2], [3]], [[4]]])
    d = tf.constant([[10, 11], [12, 13]])
    check(ro.boolean_mask(b, b > 4), [[], [], [5, 6]])
    check(ro.boolean_mask(d, [[True, False], [False, False]]), [[10], []])
    dense = ro.boolean_mask(d, [True, False])
    assert not isinstance(dense, RaggedTensor) and dense.numpy().tolist() == [[10, 11]]
    check(ro.boolean_mask(r3, C([[True, False], [True]])), [[[1, 2]], [[4]]])
    check(ro.boolean_mask(r3, [False, True]), [[[4]]])
    check(ro.boolean_mask(r3, r3 > 1), [[[2], [3]], [[4]]])
    m = ro.boolean_mask(tf.zeros([2, 3, 2]), [[True, False, True], [False, False, True]])
    check(m, [[[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0]]], shape=[2, None, 2])
    check(T("boolean_mask")(b, [True, False, True]), [[4], [5, 6]])
    with pytest.raises(ValueError, match="incompatible"):
        ro.boolean_mask(b, [True, False])
    with pytest.raises(tf.errors.InvalidArgumentError, match="identical ragged splits"):
        ro.boolean_mask(b, C([[True], [True], [False, False]]))
    with pytest.raises(TypeError):
        ro.boolean_mask(b, [1, 0, 1])


# --------------------------------------------------------------------------------------
# tf.ragged functions
# --------------------------------------------------------------------------------------


def test_ragged_range():
    check(ro.range([3, 5, 2]), [[0, 1, 2], [0, 1, 2, 3, 4], [0, 1]], "int32")
    check(ro.range([0, 5, 8], [3, 3, 12]), [[0, 1, 2], [], [8, 9, 10, 11]])
    check(ro.range(0, [3, 3, 5], 2), [[0, 2], [0, 2], [0, 2, 4]])
    check(ro.range([0.0, 1.0], [1.0, 2.0], 0.5), [[0.0, 0.5], [1.0, 1.5]], "float32")
    check(ro.range(5, 0, -2), [[5, 3, 1]])
    check(ro.range(3), [[0, 1, 2]])
    check(ro.range([3], dtype=tf.float32), [[0.0, 1.0, 2.0]], "float32")
    check(ro.range([0, 10], [10, 0], [3, -4]), [[0, 3, 6, 9], [10, 6, 2]])
    assert ro.range([3], row_splits_dtype=tf.int32).row_splits.dtype is tf.int32
    check(ro.range(tf.constant([2, 3], tf.int64)), [[0, 1], [0, 1, 2]], "int64")
    with pytest.raises(tf.errors.InvalidArgumentError, match="delta != 0"):
        ro.range([1], 5, 0)


def test_segment_ids_and_row_splits():
    ids = ro.row_splits_to_segment_ids([0, 3, 3, 5, 6, 9])
    assert ids.dtype is tf.int64 and ids.numpy().tolist() == [0, 0, 0, 2, 2, 3, 4, 4, 4]
    assert ro.row_splits_to_segment_ids(tf.constant([0, 3, 3], tf.int32)).dtype is tf.int32
    assert ro.row_splits_to_segment_ids([0, 3, 3], out_type=tf.int32).dtype is tf.int32
    s = ro.segment_ids_to_row_splits([0, 0, 0, 2, 2, 3, 4, 4, 4])
    assert s.dtype is tf.int64 and s.numpy().tolist() == [0, 3, 3, 5, 6, 9]
    assert ro.segment_ids_to_row_splits([0, 0, 2], num_segments=5).numpy().tolist() == [
        0, 2, 2, 3, 3, 3,
    ]  # fmt: skip
    assert ro.segment_ids_to_row_splits([0, 0, 2], out_type=tf.int32).dtype is tf.int32
    assert ro.segment_ids_to_row_splits(tf.constant([0, 2], tf.int32)).dtype is tf.int32
    assert ro.segment_ids_to_row_splits([]).numpy().tolist() == [0]
    with pytest.raises(tf.errors.InvalidArgumentError):
        ro.row_splits_to_segment_ids([1, 0])


def test_map_flat_values():
    a = C([[1, 2], [3]])
    check(ro.map_flat_values(T("ones_like"), a), [[1, 1], [1]])
    check(ro.map_flat_values(T("multiply"), a, a), [[1, 4], [9]])
    check(ro.map_flat_values(T("add"), a, 5), [[6, 7], [8]])
    check(ro.map_flat_values(lambda x, y: x * y, a, y=a), [[1, 4], [9]])
    check(ro.map_flat_values(lambda xs: xs[0] + xs[1], [a, a]), [[2, 4], [6]])
    r3 = C([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1)
    check(ro.map_flat_values(lambda x: x * 2, r3), [[[2, 4], [6, 8]], [[10, 12]]])
    dense = ro.map_flat_values(T("add"), tf.constant([[10, 11]]), 5)
    assert dense.numpy().tolist() == [[15, 16]]
    with pytest.raises(ValueError):
        ro.map_flat_values(T("multiply"), a, C([[1], [2, 3]]))
    with pytest.raises(ValueError, match="outer-dimension size"):
        ro.map_flat_values(lambda x: x[:1], a)


def test_stack_dynamic_partitions():
    x = ro.stack_dynamic_partitions(["a", "b", "c", "d", "e"], [3, 0, 2, 2, 3], 5)
    check(x, [[b"b"], [], [b"c", b"d"], [b"a", b"e"], []])
    assert x.row_splits.dtype is tf.int32
    y = ro.stack_dynamic_partitions(C([[4], [], [5, 6]]), [1, 0, 1], 2)
    check(y, [[[]], [[4], [5, 6]]])


# --------------------------------------------------------------------------------------
# RaggedTensorSpec and rill.function
# --------------------------------------------------------------------------------------


def test_spec():
    s = RaggedTensorSpec([2, None], tf.int32)
    assert repr(s) == "RaggedTensorSpec(TensorShape([2, None]), tf.int32, 1, tf.int64)"
    assert s.ragged_rank == 1 and s.value_type is RaggedTensor and s.row_splits_dtype is tf.int64
    assert RaggedTensorSpec(shape=[None, None, 3]).ragged_rank == 2
    assert RaggedTensorSpec(ragged_rank=2).shape.rank is None
    assert RaggedTensorSpec([2], tf.int32).ragged_rank == 0
    b = C([[4], [], [5, 6]])
    assert RaggedTensorSpec.from_value(b) == RaggedTensorSpec([3, None], tf.int32)
    assert RaggedTensorSpec.from_value(r3_()).shape.as_list() == [3, None, None]
    assert RaggedTensorSpec([None, None], tf.int32).is_compatible_with(b)
    assert not RaggedTensorSpec([None, None], tf.float32).is_compatible_with(b)
    assert not RaggedTensorSpec([2, None], tf.int32).is_compatible_with(b)
    assert not RaggedTensorSpec([None, None, None], tf.int32).is_compatible_with(b)
    assert not RaggedTensorSpec(
        [None, None], tf.int32, row_splits_dtype=tf.int32
    ).is_compatible_with(b)
    assert hash(RaggedTensorSpec([3, None], tf.int32)) == hash(
        RaggedTensorSpec([3, None], tf.int32)
    )
    fv = tf.TensorSpec([None, 4], tf.int32)
    assert RaggedTensorSpec([3, None, 4], tf.int32, flat_values_spec=fv).flat_values_spec == fv
    for bad in (
        lambda: RaggedTensorSpec(),
        lambda: RaggedTensorSpec([2, None, 3], tf.int32, ragged_rank=3),
        lambda: RaggedTensorSpec(flat_values_spec=fv),
    ):
        with pytest.raises(ValueError):
            bad()


def test_function_with_ragged_input_signature_traces_once():
    traces = []

    @tf.function(input_signature=[RaggedTensorSpec([None, None], tf.int32)])
    def f(x):
        traces.append(x.shape.as_list())
        return T("reduce_sum")(x, axis=1), x * 2, x[:, :1], x.to_tensor()

    s, y, head, dense = f(C([[4], [], [5, 6]]))
    assert s.numpy().tolist() == [4, 0, 11] and y.to_list() == [[8], [], [10, 12]]
    assert head.to_list() == [[4], [], [5]] and dense.numpy().tolist() == [[4, 0], [0, 0], [5, 6]]
    s, y, head, dense = f(C([[1, 2, 3]]))
    assert s.numpy().tolist() == [6] and y.to_list() == [[2, 4, 6]]
    assert traces == [[None, None]]
    with pytest.raises(TypeError, match="input_signature"):
        f(C([[1.0, 2.0]]))


def test_function_retraces_per_number_of_rows_like_tensorflow():
    traces = []

    @tf.function
    def g(x):
        traces.append(x.shape.as_list())
        return x + 1, T("reduce_max")(x, axis=0), T("concat")([x, x], 1), T("gather")(x, [1, 0])

    out = g(C([[4], [], [5, 6]]))
    assert out[0].to_list() == [[5], [], [6, 7]] and out[1].numpy().tolist() == [5, 6]
    assert out[2].to_list() == [[4, 4], [], [5, 6, 5, 6]] and out[3].to_list() == [[], [4]]
    out = g(C([[1, 2, 3], [1], [4, 5]]))  # same number of rows: no retrace
    assert out[1].numpy().tolist() == [4, 5, 3]
    g(C([[1, 2, 3], [4]]))
    assert traces == [[3, None], [2, None]]


def test_ragged_through_while_loop_and_nested_structures():
    @tf.function
    def h(pair):
        x, n = pair["x"], pair["n"]
        return {"y": x * n, "rows": x.nrows()}

    out = h({"x": C([[1.0], [2.0, 3.0]]), "n": tf.constant(2.0)})
    assert out["y"].to_list() == [[2.0], [4.0, 6.0]] and int(out["rows"]) == 2


# --------------------------------------------------------------------------------------
# gradients
# --------------------------------------------------------------------------------------


def _fd_check(f, x0, eps=1e-6):
    x = tf.constant(x0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = f(x)
    g = tape.gradient(out, x).numpy()
    fd = np.array(
        [
            (float(f(tf.constant(x0 + eps * e))) - float(f(tf.constant(x0 - eps * e)))) / (2 * eps)
            for e in np.eye(x0.size).reshape((x0.size,) + x0.shape)
        ]
    ).reshape(x0.shape)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6)


def test_gradients_reach_flat_values():
    x0 = np.array([0.3, -1.2, 0.7, 2.0, 0.1, -0.4])
    S = T("reduce_sum")

    def f(x):
        rt = RaggedTensor.from_row_splits(x, [0, 2, 2, 5, 6])
        y = (
            rt * rt
            + T("sin")(rt) * 2.0
            + rt * tf.constant([[1.0], [2.0], [3.0], [4.0]], tf.float64)
        )
        s = S(y, axis=1)
        m = T("reduce_max")(rt, axis=0)
        d = y.to_tensor(default_value=0.5)
        sl = rt[:, ::-1][1:].to_tensor()
        c = T("concat")([rt, y], 1)
        g = T("gather")(rt, [3, 0, 3])
        return (
            S(s * s) + S(m) + S(d * d) + S(sl * tf.constant([1.0, 2.0, 3.0], tf.float64))
            + S(T("reduce_mean")(c, axis=0)) + S(g.flat_values * g.flat_values * g.flat_values)
        )  # fmt: skip

    _fd_check(f, x0)


def test_gradients_through_nested_ragged_and_broadcast_operand():
    x0 = np.array([0.5, -0.25, 1.5, 0.75, -1.0])
    w0 = np.array([[2.0], [-1.0]])

    def f(x, w):
        rt = RaggedTensor.from_nested_row_lengths(x, [[2, 1], [2, 0, 3]])
        y = T("reduce_sum")(rt, axis=2) * w
        return T("reduce_sum")(T("square")(y.to_tensor()))

    _fd_check(lambda x: f(x, tf.constant(w0)), x0)
    _fd_check(lambda w: f(tf.constant(x0), w), w0)


# --------------------------------------------------------------------------------------
# differential tests against TensorFlow (skipped unless it is installed)
# --------------------------------------------------------------------------------------

EXPRESSIONS = [
    "tf.ragged.constant([[[1,2]],[[3,4],[5,6]]], ragged_rank=1, inner_shape=(2,))",
    "tf.ragged.constant([[[]], [[1]]])", "tf.ragged.constant([[[1,2]],[]], ragged_rank=1)",
    "tf.RaggedTensor.from_uniform_row_length(tf.ragged.constant([[1],[2,3],[],[4]]), 2)",
    "tf.RaggedTensor.from_tensor(t, padding=0)", "tf.RaggedTensor.from_tensor(t3, ragged_rank=2, padding=0)",
    "rt[:, -2:-1]", "rt[:, :-5]", "rt[:, 1::-1]", "rt[-2:, ::-1]", "r3[:, 1:, :]", "rt31[:, :1, ::-1]",
    "r3[:, tf.newaxis, :, tf.newaxis]", "rt[..., 0]", "rt31[:, 0]",
    "tf.reduce_sum(r3, axis=[0, 2])", "tf.reduce_max(rt31, axis=[1, 2])", "tf.reduce_all(rt > 2, axis=0)",
    "tf.math.reduce_variance(rf)", "tf.reduce_sum(tf.ragged.constant([[]]), axis=0)",
    "tf.where(b > 4, b, tf.ragged.constant([[1],[2]]))", "r3 + tf.constant([1,2])", "rt31 * rt31",
    "tf.concat([rt31, rt31], 2)", "tf.concat([a, a.with_row_splits_dtype(tf.int32)], 0)",
    "tf.stack([d, a], 0)", "tf.ragged.stack([d, d])", "tf.gather(b, tf.constant([], tf.int32))",
    "tf.ragged.boolean_mask(r3, tf.ragged.constant([[True, False], [], [True, False, True]]))",
    "tf.ragged.segment_ids_to_row_splits([1, 0])", "tf.ragged.range([1.5], 4.)",
    "tf.ragged.stack_dynamic_partitions(b, [1, 0, 1], 2)",
    "tf.ragged.map_flat_values(lambda x: tf.reduce_sum(x, -1), r3)",
    "rt.to_tensor(shape=[6, 2])", "tf.ragged.constant([[]], ragged_rank=1, inner_shape=(0,)).to_tensor()",
]  # fmt: skip


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="needs TensorFlow")
@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_against_tensorflow(expr):
    import tensorflow as real_tf

    class Rill:
        """``tf`` for rill, reading the export table (so dispatch wrappers are seen even
        before rill's namespaces are rebuilt)."""

        def __init__(self, ns=""):
            self._ns = ns

        def __getattr__(self, name):
            if self._ns == "" and name in ("math", "nn", "ragged"):
                return Rill(name)
            if name in ("RaggedTensor", "RaggedTensorSpec"):
                return {"RaggedTensor": RaggedTensor, "RaggedTensorSpec": RaggedTensorSpec}[name]
            obj = _op.EXPORTS.get((self._ns, name))
            return (
                obj if obj is not None else getattr(getattr(tf, self._ns) if self._ns else tf, name)
            )

    def norm(x):
        if hasattr(x, "ragged_rank") and hasattr(x, "to_list"):
            shape = x.shape.as_list()
            return (
                "ragged",
                x.to_list(),
                x.dtype.name,
                shape,
                x.ragged_rank,
                x.row_splits.dtype.name,
            )
        v = np.asarray(x.numpy())
        return ("dense", v.tolist(), x.dtype.name, list(v.shape))

    def run(lib):
        c = lib.ragged.constant
        env = dict(
            tf=lib, np=np, rt=c([[1, 2], [3], [], [4, 5, 6]]),
            r3=c([[[1, 2], [3]], [], [[4], [], [5, 6, 7]]]),
            rt31=c([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1),
            rf=c([[1.0, 2.0], [3.0], [], [4.0, 5.0, 6.0]]),
            a=c([[1, 2], [3]]), b=c([[4], [], [5, 6]]), d=lib.constant([[10, 11], [12, 13]]),
            t=lib.constant([[1, 2, 0], [3, 0, 0], [4, 5, 6]]),
            t3=lib.constant([[[1, 0], [0, 0]], [[2, 3], [0, 0]]]),
        )  # fmt: skip
        try:
            return norm(eval(expr, env))
        except Exception as e:  # noqa: BLE001 - the error class is the observable
            return ("raise", e)

    expected, got = run(real_tf), run(Rill())
    if not compare_outcomes(got, expected, expr):
        assert got == expected
