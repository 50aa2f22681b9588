"""SparseTensor, SparseTensorSpec and tf.sparse: values against hand-derived references
(checked against TensorFlow 2.21), TF's errors, gradients by finite differences,
rill.function arguments/outputs, and memory proportional to nnz."""

from __future__ import annotations

import tracemalloc
import types

import numpy as np
import pytest

import rill as tf
from rill.ops._op import EXPORTS
from rill.structures import sparse_ops  # noqa: F401 - registers tf.sparse and dispatch
from rill.structures.sparse_tensor import IndexedSlices, SparseTensor, SparseTensorSpec

# the public tf.sparse namespace, as registered (independent of top-level wiring)
S = types.SimpleNamespace(**{k[1]: v for k, v in EXPORTS.items() if k[0] == "sparse"})
ERR = tf.errors.InvalidArgumentError


def sp(ind, vals, shape):
    return SparseTensor(ind, vals, shape)


def check(s, ind, vals, shape, dtype=None):
    assert isinstance(s, SparseTensor)
    ind = np.array(ind, np.int64)
    np.testing.assert_array_equal(s.indices.numpy(), ind.reshape(len(ind), len(shape)))
    np.testing.assert_allclose(s.values.numpy(), np.array(vals), rtol=1e-6)
    np.testing.assert_array_equal(s.dense_shape.numpy(), shape)
    assert s.indices.dtype is tf.int64 and s.dense_shape.dtype is tf.int64
    if dtype is not None:
        assert s.dtype is dtype


X = lambda: sp([[0, 0, 1], [0, 2, 0], [1, 1, 1], [1, 2, 1]], [1.0, -2.0, 3.0, -4.0], [2, 3, 2])  # noqa: E731
A = lambda: sp([[0, 1], [2, 0]], [1.0, 2.0], [4, 3])  # noqa: E731
B = lambda: sp([[0, 1], [1, 1], [3, 2]], [-3.0, 5.0, -1.0], [4, 3])  # noqa: E731


# --------------------------------------------------------------------------------------
# The class
# --------------------------------------------------------------------------------------


def test_construction_properties_and_repr():
    a = A()
    assert a.shape == tf.TensorShape([4, 3]) and a.get_shape() == a.shape and a.ndim == 2
    assert a.dtype is tf.float32 and a.indices.dtype is tf.int64
    r = repr(a)
    assert r.startswith("SparseTensor(indices=") and "values=" in r and "dense_shape=" in r
    assert str(a) == r
    s = sp([[0, 0]], ["a"], [1, 1])
    assert s.dtype is tf.string
    e = sp(np.zeros((0, 2), np.int64), tf.zeros([0]), [2, 2])
    assert e.values.shape == (0,)


@pytest.mark.parametrize(
    "args, exc",
    [
        (([[0, 0]], [1.0, 2.0], [3, 4]), ValueError),  # nnz mismatch
        (([0, 0], [1.0], [3, 4]), ValueError),  # indices rank 1
        (([[0, 0]], [[1.0]], [3, 4]), ValueError),  # values rank 2
        (([[0, 0]], [1.0], [3, 4, 5]), ValueError),  # rank mismatch
        (([[0.5, 0]], [1.0], [3, 4]), TypeError),  # float indices
    ],
)
def test_constructor_errors(args, exc):
    with pytest.raises(exc):
        SparseTensor(*args)


def test_int32_index_tensor_is_rejected_like_tf():
    with pytest.raises(ValueError):
        SparseTensor(tf.constant([[0, 1]], tf.int32), [1], [4, 3])


def test_with_values_set_shape_and_composite():
    a = A()
    b = a.with_values(a.values * 2)
    check(b, [[0, 1], [2, 0]], [2.0, 4.0], [4, 3])
    with pytest.raises(ValueError):
        a.with_values([1.0, 2.0, 3.0])
    with pytest.raises(ValueError):
        a.set_shape([5, 3])
    a.set_shape([None, 3])
    assert SparseTensor.from_value(a) is a
    flat = tf.nest.flatten([a, 1], expand_composites=True)
    assert len(flat) == 4 and flat[1] is a.values
    back = tf.nest.pack_sequence_as([a, 1], flat, expand_composites=True)
    assert isinstance(back[0], SparseTensor) and back[0].shape == (4, 3)


def test_spec():
    spec = SparseTensorSpec([None, 3], tf.float32)
    assert repr(spec) == "SparseTensorSpec(TensorShape([None, 3]), tf.float32)"
    assert repr(SparseTensorSpec()) == "SparseTensorSpec(TensorShape(None), tf.float32)"
    assert spec.value_type is SparseTensor and spec.shape == tf.TensorShape([None, 3])
    assert spec == SparseTensorSpec([None, 3]) and hash(spec) == hash(SparseTensorSpec([None, 3]))
    assert spec.is_compatible_with(A()) and spec.is_compatible_with(SparseTensorSpec([2, 3]))
    assert not spec.is_compatible_with(sp([[0, 1]], [1.0], [4, 4]))
    assert not spec.is_compatible_with(sp([[0, 1]], [1], [4, 3]))
    assert SparseTensorSpec.from_value(A()) == SparseTensorSpec([4, 3], tf.float32)


# --------------------------------------------------------------------------------------
# Conversion and order
# --------------------------------------------------------------------------------------


def test_from_dense_to_dense_roundtrip():
    d = np.array([[0.0, 1.5], [2.0, 0.0]], np.float32)
    s = S.from_dense(d)
    check(s, [[0, 1], [1, 0]], [1.5, 2.0], [2, 2], tf.float32)
    np.testing.assert_array_equal(S.to_dense(s).numpy(), d)
    x = X()
    expect = np.zeros((2, 3, 2), np.float32) + 7
    for i, v in zip(x.indices.numpy(), x.values.numpy()):
        expect[tuple(i)] = v
    np.testing.assert_array_equal(S.to_dense(x, default_value=7.0).numpy(), expect)
    s = S.from_dense(tf.constant(["", "a"]))
    check_ind = s.indices.numpy().tolist()
    assert check_ind == [[1]] and s.values.numpy().tolist() == [b"a"]
    assert S.to_dense(sp([[0]], ["a"], [2])).numpy().tolist() == [b"a", b""]


@pytest.mark.parametrize(
    "ind, msg",
    [
        ([[1, 0], [0, 0]], "out of order"),
        ([[0, 0], [0, 0]], "repeated"),
        ([[0, 0], [5, 0]], "out of bounds"),
    ],
)
def test_to_dense_validates_indices(ind, msg):
    with pytest.raises(ERR, match=msg):
        S.to_dense(sp(ind, [1, 2], [2, 2]))


def test_to_dense_without_validation_last_write_wins():
    u = sp([[1, 0], [0, 2], [0, 0]], [1.0, 2.0, 3.0], [2, 3])
    np.testing.assert_array_equal(
        S.to_dense(u, validate_indices=False).numpy(), [[3, 0, 2], [1, 0, 0]]
    )
    d = S.to_dense(sp([[0, 0], [0, 0]], [1, 2], [2, 2]), validate_indices=False)
    np.testing.assert_array_equal(d.numpy(), [[2, 0], [0, 0]])


def test_reorder():
    u = sp([[1, 0], [0, 2], [0, 0]], [1.0, 2.0, 3.0], [2, 3])
    check(S.reorder(u), [[0, 0], [0, 2], [1, 0]], [3.0, 2.0, 1.0], [2, 3])
    assert S.reorder(u).shape == (2, 3)


def test_to_indicator():
    s = sp([[0, 0], [0, 1], [2, 0]], [3, 1, 4], [3, 2])
    out = S.to_indicator(s, 5)
    assert out.dtype is tf.bool and out.shape == (3, 5)
    expect = np.zeros((3, 5), bool)
    expect[0, [1, 3]] = True
    expect[2, 4] = True
    np.testing.assert_array_equal(out.numpy(), expect)
    with pytest.raises(ERR):
        S.to_indicator(s, 4)


# --------------------------------------------------------------------------------------
# Arithmetic
# --------------------------------------------------------------------------------------


def test_add_sparse_sparse_with_threshold():
    a = sp([[0, 0], [1, 1]], [1.0, 2.0], [2, 2])
    b = sp([[0, 0], [1, 0]], [-1.0, 3.0], [2, 2])
    check(S.add(a, b), [[0, 0], [1, 0], [1, 1]], [0.0, 3.0, 2.0], [2, 2])
    check(S.add(a, b, threshold=0.5), [[1, 0], [1, 1]], [3.0, 2.0], [2, 2])
    # only sums are thresholded; single entries are kept (TF's rule)
    check(S.add(A(), B(), threshold=1.5), [[0, 1], [1, 1], [2, 0], [3, 2]], [-2, 5, 2, -1], [4, 3])


def test_add_sparse_dense_both_orders_and_errors():
    expect = np.ones((4, 3), np.float32)
    expect[0, 1], expect[2, 0] = 2, 3
    np.testing.assert_array_equal(S.add(A(), tf.ones([4, 3])).numpy(), expect)
    np.testing.assert_array_equal(S.add(tf.ones([4, 3]), A()).numpy(), expect)
    with pytest.raises(ERR, match="no broadcasting"):
        S.add(A(), tf.ones([4, 2]))
    with pytest.raises(ERR, match="shapes do not match"):
        S.add(A(), sp([[0, 0]], [1.0], [4, 4]))
    with pytest.raises(ERR):
        S.add(sp([[0, 0]], [1], [2, 2]), sp([[0, 0]], [1.0], [2, 2]))
    with pytest.raises(TypeError, match="At least one input should be SparseTensor"):
        S.add(tf.ones([2]), tf.ones([2]))


@pytest.mark.parametrize("adj_a", [False, True])
@pytest.mark.parametrize("adj_b", [False, True])
def test_sparse_dense_matmul_all_orders(adj_a, adj_b):
    rng = np.random.default_rng(0)
    a = A()
    ad = S.to_dense(a).numpy()

    def op(m, t):
        return m.T if t else m

    inner = op(ad, adj_a).shape[1]
    d = rng.standard_normal((5, inner) if adj_b else (inner, 5)).astype(np.float32)
    got = S.sparse_dense_matmul(a, d, adjoint_a=adj_a, adjoint_b=adj_b).numpy()
    np.testing.assert_allclose(got, op(ad, adj_a) @ op(d, adj_b), rtol=1e-5, atol=1e-6)
    # dense @ sparse
    rows = op(ad, adj_b).shape[0]
    e = rng.standard_normal((rows, 5) if adj_a else (5, rows)).astype(np.float32)
    got = S.sparse_dense_matmul(e, a, adjoint_a=adj_a, adjoint_b=adj_b).numpy()
    np.testing.assert_allclose(got, op(e, adj_a) @ op(ad, adj_b), rtol=1e-5, atol=1e-6)


def test_sparse_dense_matmul_errors():
    with pytest.raises(ERR, match="inner dimension"):
        S.sparse_dense_matmul(A(), tf.ones([4, 3]))
    with pytest.raises(ERR):
        S.sparse_dense_matmul(A(), tf.ones([3, 3], tf.float64))
    with pytest.raises(ERR, match="2 elements"):
        S.sparse_dense_matmul(sp([[0, 0, 0]], [1.0], [1, 2, 2]), tf.ones([2, 3]))
    with pytest.raises(TypeError):
        S.sparse_dense_matmul(A(), A())


def test_complex_adjoint_conjugates():
    a = sp([[0, 1]], np.array([1 + 2j], np.complex128), [2, 2])
    d = np.array([[1 + 1j, 2], [3, 4 - 1j]], np.complex128)
    ad = S.to_dense(a).numpy()
    got = S.sparse_dense_matmul(a, d, adjoint_a=True, adjoint_b=True).numpy()
    np.testing.assert_allclose(got, ad.conj().T @ d.conj().T)


def test_elementwise_mul_div_by_dense():
    check(A() * tf.constant([[1.0, 2.0, 3.0]]), [[0, 1], [2, 0]], [2.0, 2.0], [4, 3])
    check(A() * tf.constant([[1.0], [2.0], [3.0], [4.0]]), [[0, 1], [2, 0]], [1.0, 6.0], [4, 3])
    check(A() * 3.0, [[0, 1], [2, 0]], [3.0, 6.0], [4, 3])
    check(A() / tf.constant([1.0, 2.0, 4.0]), [[0, 1], [2, 0]], [0.5, 2.0], [4, 3])
    check(
        X() * tf.constant([[10.0], [20.0], [30.0]]),
        X().indices.numpy(),
        [10, -60, 60, -120],
        [2, 3, 2],
    )
    i = sp([[0, 1], [2, 0]], [1, 2], [4, 3])
    assert (i / 2).dtype is tf.float64
    with pytest.raises(ERR, match="broadcasts dense to sparse only"):
        A() * tf.ones([5, 3])
    with pytest.raises(ERR):
        A() * tf.ones([2, 4, 3])
    with pytest.raises(ValueError):
        A() * tf.constant([1, 2, 3])
    with pytest.raises(ValueError):
        A() * A()


def test_math_ops_dispatch_on_sparse():
    mul = EXPORTS[("math", "multiply")]
    check(mul(A(), tf.constant([1.0, 2.0, 3.0])), [[0, 1], [2, 0]], [2.0, 2.0], [4, 3])
    check(mul(tf.constant([1.0, 2.0, 3.0]), A()), [[0, 1], [2, 0]], [2.0, 2.0], [4, 3])
    np.testing.assert_array_equal(mul(tf.constant(2.0), tf.constant(3.0)).numpy(), 6.0)
    check(EXPORTS[("", "abs")](B()), B().indices.numpy(), [3.0, 5.0, 1.0], [4, 3])
    check(EXPORTS[("math", "negative")](A()), [[0, 1], [2, 0]], [-1.0, -2.0], [4, 3])
    check(EXPORTS[("math", "square")](A()), [[0, 1], [2, 0]], [1.0, 4.0], [4, 3])


def test_maximum_minimum():
    check(S.maximum(A(), B()), [[0, 1], [1, 1], [2, 0], [3, 2]], [1.0, 5.0, 2.0, 0.0], [4, 3])
    check(S.minimum(A(), B()), [[0, 1], [1, 1], [2, 0], [3, 2]], [-3.0, 0.0, 0.0, -1.0], [4, 3])
    with pytest.raises(ERR, match="shapes do not match"):
        S.maximum(A(), sp([[0, 1]], [1.0], [4, 4]))


def test_softmax():
    s = sp([[0, 0], [0, 2], [1, 1], [2, 0], [2, 1]], [1.0, 2.0, 3.0, 0.0, -1.0], [3, 3])
    e1 = 1 / (1 + np.e)
    check(S.softmax(s), s.indices.numpy(), [e1, 1 - e1, 1.0, 1 - e1, e1], [3, 3])
    check(S.softmax(X()), X().indices.numpy(), [1, 1, 1, 1], [2, 3, 2])
    with pytest.raises(ERR, match="rank >= 2"):
        S.softmax(sp([[0], [2]], [1.0, 2.0], [3]))


# --------------------------------------------------------------------------------------
# Reductions
# --------------------------------------------------------------------------------------


def _dense_ref(s):
    return S.to_dense(s).numpy()


@pytest.mark.parametrize("axis", [None, 0, 1, 2, [0, 2], -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduce_sum_matches_dense(axis, keepdims):
    x = X()
    ref = np.sum(
        _dense_ref(x), axis=tuple(axis) if isinstance(axis, list) else axis, keepdims=keepdims
    )
    np.testing.assert_allclose(S.reduce_sum(x, axis, keepdims=keepdims).numpy(), ref)
    out = S.reduce_sum(x, axis, keepdims=keepdims, output_is_sparse=True)
    assert isinstance(out, SparseTensor)
    np.testing.assert_allclose(S.to_dense(out).numpy(), ref)
    assert out.shape == np.shape(ref)


def test_reduce_max_ignores_implicit_zeros():
    x = X()
    np.testing.assert_array_equal(S.reduce_max(x).numpy(), 3.0)
    np.testing.assert_array_equal(S.reduce_max(x, 1).numpy(), [[-2.0, 1.0], [0.0, 3.0]])
    np.testing.assert_array_equal(S.reduce_max(x, [0, 2]).numpy(), [1.0, 3.0, -2.0])
    check(S.reduce_max(x, 1, output_is_sparse=True), [[0, 0], [0, 1], [1, 1]], [-2, 1, 3], [2, 2])
    np.testing.assert_array_equal(S.reduce_max(sp([[0, 0]], [-1], [2, 2]), 1).numpy(), [-1, 0])
    check(S.reduce_sum(x, output_is_sparse=True), np.zeros((1, 0)), [-2.0], [])


def test_reduce_errors():
    with pytest.raises(ERR, match="Invalid reduction dimension 3"):
        S.reduce_sum(X(), 3)
    with pytest.raises(ERR):
        S.reduce_sum(sp([[0, 0]], [True], [2, 2]), 1)


# --------------------------------------------------------------------------------------
# Structure
# --------------------------------------------------------------------------------------


def test_concat():
    check(
        S.concat(0, [A(), B()]),
        [[0, 1], [2, 0], [4, 1], [5, 1], [7, 2]],
        [1.0, 2.0, -3.0, 5.0, -1.0],
        [8, 3],
    )
    check(
        S.concat(1, [A(), B(), A()]),
        [[0, 1], [0, 4], [0, 7], [1, 4], [2, 0], [2, 6], [3, 5]],
        [1.0, -3.0, 1.0, 5.0, 2.0, 2.0, -1.0],
        [4, 9],
    )
    u = sp([[1, 0], [0, 2], [0, 0]], [1.0, 2.0, 3.0], [2, 3])
    out = S.concat(1, [A(), u], expand_nonconcat_dims=True)
    check(out, [[0, 1], [0, 3], [0, 5], [1, 3], [2, 0]], [1.0, 3.0, 2.0, 1.0, 2.0], [4, 6])
    assert out.shape == (4, 6)
    check(S.concat(-1, [A(), A()]), [[0, 1], [0, 4], [2, 0], [2, 3]], [1, 1, 2, 2], [4, 6])
    with pytest.raises(ERR, match="Input shapes must match"):
        S.concat(1, [A(), u])
    with pytest.raises(ERR, match="Concat dimension must be in range"):
        S.concat(2, [A(), A()])
    with pytest.raises(TypeError):
        S.concat(0, [A(), tf.ones([1, 3])])


def test_reshape():
    x = X()
    out = S.reshape(x, [3, -1])
    check(out, [[0, 1], [1, 0], [2, 1], [2, 3]], [1.0, -2.0, 3.0, -4.0], [3, 4])
    assert out.shape == (3, 4)
    check(S.reshape(x, [-1]), [[1], [4], [9], [11]], [1.0, -2.0, 3.0, -4.0], [12])
    with pytest.raises(ERR, match="multiple of"):
        S.reshape(x, [5, -1])
    with pytest.raises(ERR, match="only one output dimension may be -1"):
        S.reshape(x, [-1, -1])
    with pytest.raises(ERR, match="requested shape has 9"):
        S.reshape(A(), [3, 3])


def test_transpose():
    x = X()
    out = S.transpose(x)
    check(out, [[0, 2, 0], [1, 0, 0], [1, 1, 1], [1, 2, 1]], [-2.0, 1.0, 3.0, -4.0], [2, 3, 2])
    out = S.transpose(x, [1, 0, 2])
    check(out, [[0, 0, 1], [1, 1, 1], [2, 0, 0], [2, 1, 1]], [1.0, 3.0, -2.0, -4.0], [3, 2, 2])
    assert out.shape == (3, 2, 2)
    with pytest.raises(ERR):
        S.transpose(A(), [0, 0])


def test_slice_and_retain():
    x = X()
    check(S.slice(x, [0, 1, 0], [2, 5, 1]), [[0, 1, 0]], [-2.0], [2, 2, 1])
    check(S.slice(x, [1, 1, 1], [1, 1, 1]), [[0, 0, 0]], [3.0], [1, 1, 1])
    check(S.slice(A(), [5, 1], [1, 1]), np.zeros((0, 2)), [], [0, 1])
    with pytest.raises(ERR, match="non-negative size"):
        S.slice(A(), [0, 1], [-1, 1])
    with pytest.raises(ERR, match="vector of length 2"):
        S.slice(A(), [0], [1])
    check(S.retain(x, [True, False, True, False]), [[0, 0, 1], [1, 1, 1]], [1.0, 3.0], [2, 3, 2])
    check(S.retain(A(), [1, 0]), [[0, 1]], [1.0], [4, 3])
    with pytest.raises(ValueError):
        S.retain(A(), [True])


def test_fill_empty_rows():
    out, empty = S.fill_empty_rows(A(), -1.0)
    check(out, [[0, 1], [1, 0], [2, 0], [3, 0]], [1.0, -1.0, 2.0, -1.0], [4, 3])
    np.testing.assert_array_equal(empty.numpy(), [False, True, False, True])
    out, _ = S.fill_empty_rows(sp([[2, 0], [0, 1]], [1.0, 2.0], [4, 3]), 0.0)
    check(out, [[0, 1], [1, 0], [2, 0], [3, 0]], [2.0, 0.0, 1.0, 0.0], [4, 3])
    out, empty = S.fill_empty_rows(sp([[1, 0, 1]], [1.0], [3, 2, 2]), 5.0)
    check(out, [[0, 0, 0], [1, 0, 1], [2, 0, 0]], [5.0, 1.0, 5.0], [3, 2, 2])
    np.testing.assert_array_equal(empty.numpy(), [True, False, True])
    with pytest.raises(ERR):
        S.fill_empty_rows(sp([[5, 0]], [1.0], [2, 2]), 0.0)


def test_reset_shape():
    check(S.reset_shape(A()), [[0, 1], [2, 0]], [1.0, 2.0], [3, 2])
    check(S.reset_shape(A(), [5, 5]), [[0, 1], [2, 0]], [1.0, 2.0], [5, 5])
    e = sp(np.zeros((0, 2), np.int64), tf.zeros([0]), [4, 3])
    check(S.reset_shape(e), np.zeros((0, 2)), [], [0, 0])
    with pytest.raises(ValueError, match=">="):
        S.reset_shape(A(), [3, 5])
    with pytest.raises(ValueError):
        S.reset_shape(A(), [5, 5, 5])


def test_split():
    s = sp([[0, 0], [0, 4], [1, 2], [1, 6]], [1.0, 2.0, 3.0, 4.0], [2, 7])
    parts = S.split(sp_input=s, num_split=3, axis=1)
    check(parts[0], [[0, 0], [1, 2]], [1.0, 3.0], [2, 3])
    check(parts[1], [[0, 1]], [2.0], [2, 2])
    check(parts[2], [[1, 1]], [4.0], [2, 2])
    assert [p.shape for p in parts] == [(2, 3), (2, 2), (2, 2)]
    parts = S.split(A(), 2, 0)
    check(parts[0], [[0, 1]], [1.0], [2, 3])
    check(parts[1], [[0, 0]], [2.0], [2, 3])
    with pytest.raises(ERR, match="num_split"):
        S.split(sp_input=A(), num_split=5, axis=0)


def test_expand_dims():
    check(S.expand_dims(A()), [[0, 1, 0], [2, 0, 0]], [1.0, 2.0], [4, 3, 1])
    check(S.expand_dims(A(), 0), [[0, 0, 1], [0, 2, 0]], [1.0, 2.0], [1, 4, 3])
    out = S.expand_dims(A(), 1)
    check(out, [[0, 0, 1], [2, 0, 0]], [1.0, 2.0], [4, 1, 3])
    assert out.shape == (4, 1, 3)
    with pytest.raises(ERR):
        S.expand_dims(A(), 3)


def test_eye_and_map_values():
    check(S.eye(3), [[0, 0], [1, 1], [2, 2]], [1.0, 1.0, 1.0], [3, 3], tf.float32)
    check(S.eye(2, 3, dtype=tf.int32), [[0, 0], [1, 1]], [1, 1], [2, 3], tf.int32)
    check(S.map_values(EXPORTS[("math", "square")], A()), [[0, 1], [2, 0]], [1.0, 4.0], [4, 3])
    check(S.map_values(EXPORTS[("", "add")], A(), A()), [[0, 1], [2, 0]], [2.0, 4.0], [4, 3])
    check(S.map_values(EXPORTS[("", "add")], A(), 1.0), [[0, 1], [2, 0]], [2.0, 3.0], [4, 3])
    with pytest.raises(ERR, match="Mismatched indices"):
        S.map_values(EXPORTS[("", "add")], A(), sp([[0, 1]], [1.0], [4, 3]))
    with pytest.raises(ValueError, match="No SparseTensor"):
        S.map_values(EXPORTS[("", "add")], 1.0, 2.0)


# --------------------------------------------------------------------------------------
# Counting, segments, mask
# --------------------------------------------------------------------------------------


def test_bincount():
    check(S.bincount([1, 1, 2, 5]), [[1], [2], [5]], [2, 1, 1], [6], tf.int32)
    check(
        S.bincount([[1, 1, 2], [5, 5, 0]], axis=-1),
        [[0, 1], [0, 2], [1, 0], [1, 5]],
        [2, 1, 1, 2],
        [2, 6],
    )
    check(S.bincount([[1, 1, 2], [5, 5, 0]], axis=0), [[0], [1], [2], [5]], [1, 2, 1, 2], [6])
    check(
        S.bincount([1, 1, 2, 5], weights=[1.0, 2.0, 3.0, 4.0]),
        [[1], [2], [5]],
        [3, 3, 4],
        [6],
        tf.float32,
    )
    check(S.bincount([1, 1, 2, 5], binary_output=True), [[1], [2], [5]], [1, 1, 1], [6])
    check(S.bincount([1, 1, 2, 5], minlength=10), [[1], [2], [5]], [2, 1, 1], [10])
    check(S.bincount([1, 1, 2, 5], maxlength=2), [[1]], [2], [2])
    check(S.bincount([1, 1, 2, 5], minlength=3, maxlength=4), [[1], [2]], [2, 1], [4])
    s = sp([[0, 0], [0, 1], [1, 1]], [3, 3, 1], [2, 3])
    check(S.bincount(s, axis=-1), [[0, 3], [1, 1]], [2, 1], [2, 4])
    check(S.bincount(s), [[1], [3]], [1, 2], [4])
    w = sp([[0, 0], [0, 1], [1, 1]], [1.0, 2.0, 3.0], [3, 3])
    check(
        S.bincount(sp(s.indices, s.values, [3, 3]), weights=w, axis=-1),
        [[0, 3], [1, 1]],
        [3.0, 3.0],
        [3, 4],
    )
    check(
        S.bincount(tf.constant([1, 1, 2, 5], tf.int64)), [[1], [2], [5]], [2, 1, 1], [6], tf.int64
    )
    with pytest.raises(ERR, match="non-negative"):
        S.bincount([-1, 2])
    with pytest.raises(ValueError, match="Only 0 and -1"):
        S.bincount([1], axis=1)
    with pytest.raises(ValueError, match="mutually exclusive"):
        S.bincount([1], weights=[1.0], binary_output=True)
    with pytest.raises(ERR):
        S.bincount([1.5])


def test_sparse_segment_ops():
    d = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_allclose(S.segment_sum(d, [0, 2, 1], [0, 0, 1]).numpy(), [[6, 8], [3, 4]])
    np.testing.assert_allclose(
        S.segment_mean(d, [0, 2, 1], [0, 0, 2]).numpy(), [[3, 4], [0, 0], [3, 4]]
    )
    np.testing.assert_allclose(
        S.segment_sqrt_n(d, [0, 2, 1], [0, 0, 2]).numpy(),
        [[6 / np.sqrt(2), 8 / np.sqrt(2)], [0, 0], [3, 4]],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        S.segment_mean(d, [0, 2, 1], [0, 0, 1], num_segments=4).numpy(),
        [[3, 4], [3, 4], [0, 0], [0, 0]],
    )
    with pytest.raises(ERR, match="not increasing"):
        S.segment_sum(d, [0, 2, 1], [1, 0, 0])
    with pytest.raises(ERR):
        S.segment_mean([1, 2, 3], [0, 2, 1], [0, 0, 1])


def test_mask_indexed_slices():
    a = IndexedSlices(
        tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
        tf.constant([12, 26, 37]),
        tf.constant([40, 2]),
    )
    out = S.mask(a, [12, 45])
    assert isinstance(out, IndexedSlices)
    np.testing.assert_array_equal(out.indices.numpy(), [26, 37])
    np.testing.assert_array_equal(out.values.numpy(), [[3, 4], [5, 6]])
    np.testing.assert_array_equal(out.dense_shape.numpy(), [40, 2])


# --------------------------------------------------------------------------------------
# Gradients (finite differences, float64)
# --------------------------------------------------------------------------------------


def _grad_check(f, *xs, eps=1e-6):
    ts = [tf.constant(x) for x in xs]
    with tf.GradientTape() as tape:
        for t in ts:
            tape.watch(t)
        y = f(*ts)
    grads = tape.gradient(y, ts)
    for i, (x, g) in enumerate(zip(xs, grads)):
        num = np.zeros_like(x)
        for k in range(x.size):
            xp, xm = [np.array(v, copy=True) for v in xs], [np.array(v, copy=True) for v in xs]
            xp[i].reshape(-1)[k] += eps
            xm[i].reshape(-1)[k] -= eps
            fp = float(f(*[tf.constant(v) for v in xp]).numpy())
            fm = float(f(*[tf.constant(v) for v in xm]).numpy())
            num.reshape(-1)[k] = (fp - fm) / (2 * eps)
        assert g is not None, f"no gradient for input {i}"
        np.testing.assert_allclose(g.numpy(), num, rtol=1e-5, atol=1e-7)


_IND = [[0, 1], [1, 0], [2, 2], [3, 1]]
_V = np.array([0.5, -1.2, 2.0, 0.3])
_W = np.random.default_rng(3).standard_normal((4, 3))
_SUM = EXPORTS[("", "reduce_sum")]


def _w(x, w=_W):
    return _SUM(
        x * tf.constant(w[: x.shape[0], : x.shape[1]] if x.shape.rank == 2 else w[0, : x.shape[0]])
    )


def test_grad_to_dense():
    _grad_check(lambda v: _w(S.to_dense(SparseTensor(_IND, v, [4, 3]))), _V)


@pytest.mark.parametrize("adj", [(False, False), (True, False), (False, True), (True, True)])
def test_grad_sparse_dense_matmul(adj):
    rng = np.random.default_rng(5)
    b = rng.standard_normal((4, 2) if adj[0] else (3, 2))
    b = b.T.copy() if adj[1] else b

    def f(v, b):
        out = S.sparse_dense_matmul(
            SparseTensor(_IND, v, [4, 3]), b, adjoint_a=adj[0], adjoint_b=adj[1]
        )
        return _SUM(
            out
            * tf.constant(np.arange(out.shape.num_elements(), dtype=np.float64).reshape(out.shape))
        )

    _grad_check(f, _V, b)

    def g(d, v):  # dense @ sparse
        out = S.sparse_dense_matmul(
            d, SparseTensor(_IND, v, [4, 3]), adjoint_a=adj[0], adjoint_b=adj[1]
        )
        return _SUM(
            out
            * tf.constant(np.arange(out.shape.num_elements(), dtype=np.float64).reshape(out.shape))
        )

    d = rng.standard_normal((2, 3) if adj[1] else (2, 4))
    d = d.T.copy() if adj[0] else d
    _grad_check(g, d, _V)


@pytest.mark.parametrize("sparse_out", [False, True])
def test_grad_reductions(sparse_out):
    def f(v, kind):
        s = SparseTensor(_IND, v, [4, 3])
        fn = S.reduce_sum if kind == "sum" else S.reduce_max
        r = fn(s, 1, output_is_sparse=sparse_out)
        r = S.to_dense(r) if sparse_out else r
        return _SUM(r * tf.constant(np.array([1.0, -2.0, 3.0, 0.5])))

    _grad_check(lambda v: f(v, "sum"), _V)
    _grad_check(lambda v: f(v, "max"), _V)
    _grad_check(lambda v: _SUM(S.reduce_sum(SparseTensor(_IND, v, [4, 3])) * 3.0), _V)


def test_grad_structural_ops():
    def spv(v):
        return SparseTensor(_IND, v, [4, 3])

    _grad_check(lambda v: _w(S.to_dense(S.softmax(spv(v)))), _V)
    _grad_check(lambda v: _w(S.to_dense(S.transpose(S.transpose(spv(v))))), _V)
    _grad_check(lambda v: _w(S.to_dense(S.slice(spv(v), [1, 0], [3, 2]))), _V)
    _grad_check(lambda v: _w(S.to_dense(S.add(spv(v), spv(v * v)))), _V)
    _grad_check(lambda v: _w(S.add(spv(v), tf.constant(_W))), _V)
    _grad_check(lambda v, d: _w(S.to_dense(spv(v) * d)), _V, np.array([1.0, -2.0, 0.5]))
    _grad_check(lambda v: _w(S.to_dense(S.maximum(spv(v), S.reorder(spv(-v))))), _V)
    _grad_check(
        lambda v: _w(S.to_dense(S.fill_empty_rows(SparseTensor([[0, 1]], v[:1], [4, 3]), v[1])[0])),
        _V,
    )
    _grad_check(lambda v: _w(S.reduce_sum(S.concat(0, [spv(v), spv(2 * v)]), 0), w=_W.T), _V)


# --------------------------------------------------------------------------------------
# rill.function
# --------------------------------------------------------------------------------------


def test_sparse_function_arguments_and_outputs():
    traces = []

    @tf.function
    def f(s):
        traces.append(s.shape)
        return S.reduce_sum(s, 1), S.reorder(s), S.concat(1, [s, s])

    r, s2, c = f(A())
    np.testing.assert_array_equal(r.numpy(), [1.0, 0.0, 2.0, 0.0])
    assert isinstance(s2, SparseTensor) and s2.shape == (4, 3)
    check(c, [[0, 1], [0, 4], [2, 0], [2, 3]], [1, 1, 2, 2], [4, 6])
    f(sp([[0, 1]], [5.0], [4, 3]))  # another nnz: same trace, like TF
    assert traces == [tf.TensorShape([4, 3])]
    f(sp([[0, 1]], [5.0], [5, 3]))  # another dense shape: a new trace, like TF
    assert len(traces) == 2


def test_sparse_input_signature():
    @tf.function(input_signature=[SparseTensorSpec([None, 3], tf.float32)])
    def h(s):
        assert s.shape.as_list() == [None, 3]
        return S.to_dense(s), S.sparse_dense_matmul(s, tf.ones([3, 2])), S.softmax(s)

    d, m, sm = h(A())
    np.testing.assert_array_equal(m.numpy(), [[1, 1], [0, 0], [2, 2], [0, 0]])
    np.testing.assert_array_equal(h(sp([[0, 1]], [1.0], [2, 3]))[0].numpy(), [[0, 1, 0], [0, 0, 0]])
    check(sm, [[0, 1], [2, 0]], [1.0, 1.0], [4, 3])
    with pytest.raises(TypeError):
        h(sp([[0, 1]], [1], [4, 3]))


def test_graph_gradient_through_sparse():
    @tf.function
    def g(v):
        with tf.GradientTape() as tape:
            tape.watch(v)
            y = _SUM(
                S.sparse_dense_matmul(SparseTensor(_IND, v, [4, 3]), tf.ones([3, 2], tf.float64))
            )
        return tape.gradient(y, v)

    np.testing.assert_allclose(g(tf.constant(_V)).numpy(), [2.0, 2.0, 2.0, 2.0])


# --------------------------------------------------------------------------------------
# Memory proportional to nnz
# --------------------------------------------------------------------------------------


def _big(seed, n=100_000, nnz=1000):
    r = np.random.default_rng(seed)
    lin = r.choice(n * n, nnz, replace=False)
    return SparseTensor(np.stack([lin // n, lin % n], 1), r.standard_normal(nnz), [n, n])


def test_large_sparse_ops_stay_proportional_to_nnz():
    """Memory bounded by nnz, not by the dense shape (their speed is measured by
    benchmarks/suite_timings.py)."""
    n = 100_000
    a, b = _big(1), _big(2)
    dense = tf.constant(np.random.default_rng(0).standard_normal((n, 4)))
    tracemalloc.start()
    try:
        r = S.reorder(a)
        t = S.transpose(a)
        rs = S.reduce_sum(a, 1, output_is_sparse=True)
        rm = S.reduce_max(a, 0, output_is_sparse=True)
        mm = S.sparse_dense_matmul(r, dense)
        mt = S.sparse_dense_matmul(tf.transpose(dense), a)
        c0, c1 = S.concat(0, [a, b]), S.concat(1, [a, b])
        sl = S.slice(a, [0, 0], [n // 2, n // 2])
        rt = S.retain(a, np.arange(1000) % 2 == 0)
        ad = S.add(a, b)
        mx = S.maximum(r, S.reorder(b))
        rsh = S.reshape(a, [n * 10, n // 10])
        sm = S.softmax(r)
        parts = S.split(sp_input=a, num_split=4, axis=1)
        m = a * tf.ones([n, 1], tf.float64)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50e6, f"peak {peak / 1e6:.1f} MB; the dense matrix would be 80 GB"
    assert r.shape == (n, n) and t.shape == (n, n) and rs.shape == (n,) and rm.shape == (n,)
    assert mm.shape == (n, 4) and mt.shape == (4, n)
    assert c0.shape == (2 * n, n) and c1.shape == (n, 2 * n) and sl.shape == (n // 2, n // 2)
    assert rt.values.shape == (500,) and ad.values.shape[0] == 2000 and mx.values.shape[0] == 2000
    assert rsh.shape == (n * 10, n // 10) and sm.values.shape == (1000,) and len(parts) == 4
    assert sum(p.values.shape[0] for p in parts) == 1000 and m.values.shape == (1000,)
    # spot-check values against NumPy on the entries
    ind, v = a.indices.numpy(), a.values.numpy()
    ref = np.zeros((n, 4))
    np.add.at(ref, ind[:, 0], v[:, None] * dense.numpy()[ind[:, 1]])
    np.testing.assert_allclose(mm.numpy(), ref, rtol=1e-10)
    np.testing.assert_allclose(
        mt.numpy().T, S.sparse_dense_matmul(S.transpose(a), dense).numpy(), rtol=1e-10
    )
    rows = rs.indices.numpy()[:, 0]
    np.testing.assert_allclose(rs.values.numpy(), [v[ind[:, 0] == i].sum() for i in rows])


def test_cast_of_a_sparse_tensor_casts_its_values():
    sp = tf.sparse.from_dense(tf.constant([[0, 2], [3, 0]]))
    out = tf.cast(sp, tf.float32)
    assert isinstance(out, tf.SparseTensor) and out.dtype is tf.float32
    np.testing.assert_array_equal(tf.sparse.to_dense(out).numpy(), [[0.0, 2.0], [3.0, 0.0]])
