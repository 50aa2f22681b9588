"""Behaviour tests for rill.ops.indexing_ops (references: NumPy indexing and small loops)."""

import numpy as np
import pytest

import rill as tf
from rill.core.errors import InvalidArgumentError

A = np.arange(24.0).reshape(2, 3, 4)
RNG = np.random.default_rng(7)


def T(a, dtype=None):
    return tf.constant(a, dtype=dtype)


def grad_of(fn, x):
    x = T(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return tape.gradient(y, x)


# --------------------------------------------------------------------------------------
# __getitem__
# --------------------------------------------------------------------------------------

KEYS = [
    0, -1, (1, 2), (-2, -3, -4), np.int64(1), slice(None), slice(1, None), slice(None, None, -1),
    (slice(None), slice(None, None, 2)), (slice(None), slice(2, 0, -1)), (Ellipsis, 1),
    (Ellipsis, slice(1, 3)), (None,), (None, 0, None), (0, Ellipsis, None), (slice(-5, 7),),
    (slice(None), slice(-1, None, -2), slice(3, 0, -3)), (1, None, slice(None), -2), (),
    (slice(5, 10),), (Ellipsis,), (0, 1, 2), (slice(None, None, 3), Ellipsis, 1),
]  # fmt: skip


@pytest.mark.parametrize("key", KEYS, ids=repr)
def test_getitem_matches_numpy(key):
    out = T(A)[key]
    ref = A[key]
    assert out.shape == ref.shape
    assert out.dtype is tf.float64
    np.testing.assert_array_equal(out.numpy(), ref)


def test_getitem_scalar_tensor_indices():
    x = T(A)
    for dt in (tf.int32, tf.int64):
        np.testing.assert_array_equal(x[T(1, dt)].numpy(), A[1])
        np.testing.assert_array_equal(x[:, T(1, dt) : T(3, dt), T(-1, dt)].numpy(), A[:, 1:3, -1])
        np.testing.assert_array_equal(x[:: T(-1, dt)].numpy(), A[::-1])
    np.testing.assert_array_equal(x[T(1), T(2, tf.int64)].numpy(), A[1, 2])
    np.testing.assert_array_equal(x[np.array(1)].numpy(), A[1])


def test_getitem_list_is_a_sequence_of_indices_like_tf():
    np.testing.assert_array_equal(T(A)[[0, 1]].numpy(), A[0, 1])
    assert T(A)[[]].shape == A.shape


@pytest.mark.parametrize(
    "key",
    [1.0, "a", [0, [1]], np.array([0, 1]), slice(0.5, None), (0, 1.5)],
    ids=repr,
)
def test_getitem_invalid_index_types_raise_typeerror(key):
    with pytest.raises(TypeError, match="Only integers, slices"):
        T(A)[key]


def test_getitem_rank1_or_float_tensor_index_raises_typeerror():
    for bad in (T([0, 1]), T(1.0), T(1, tf.int8)):
        with pytest.raises(TypeError, match="scalar tf.int32/tf.int64 tensors"):
            T(A)[bad]
    with pytest.raises(TypeError):
        T(A)[1 : T([2])]


def test_getitem_errors():
    x = T(A)
    with pytest.raises(InvalidArgumentError, match="slice index 2 of dimension 0 out of bounds"):
        x[2]
    with pytest.raises(InvalidArgumentError, match="slice index -4 of dimension 1 out of bounds"):
        x[:, -4]
    with pytest.raises(InvalidArgumentError, match="input has only 3 dims"):
        x[0, 1, 2, 3]
    with pytest.raises(InvalidArgumentError, match="Multiple ellipses"):
        x[..., ...]
    with pytest.raises(InvalidArgumentError, match="must be non-zero"):
        x[::0]
    with pytest.raises(InvalidArgumentError, match="scalar input"):
        T(3.0)[0]
    assert T(3.0)[None].shape == (1,)
    assert T(3.0)[...].shape == ()


def test_getitem_bool_mask_routes_to_boolean_mask():
    m = np.array([True, False])
    np.testing.assert_array_equal(T(A)[m].numpy(), A[m])
    m2 = np.array([[True, False, True], [False, False, True]])
    np.testing.assert_array_equal(T(A)[T(m2)].numpy(), A[m2])
    with pytest.raises(ValueError, match="mask cannot be scalar"):
        T(A)[True]
    with pytest.raises(ValueError, match="mask cannot be scalar"):
        T(A)[T(True)]


def test_getitem_preserves_dtypes():
    for dt in (tf.int32, tf.bool, tf.string, tf.float16):
        x = (
            tf.cast(T([[1, 0], [0, 1]]), dt)
            if dt is not tf.string
            else T([[b"a", b"b"], [b"c", b"d"]])
        )
        assert x[0].dtype is dt
        assert x[1, 1].dtype is dt
        assert x[1, 1].shape == ()
    assert T([[b"a", b"b"], [b"c", b"d"]])[1, 0].numpy() == b"c"


@pytest.mark.parametrize(
    "key", [(1, slice(None, None, -2)), (Ellipsis, None, slice(1, 3)), (slice(None), 0)], ids=repr
)
def test_getitem_gradient_scatters_into_zeros(key):
    w = RNG.standard_normal(A[key].shape)
    g = grad_of(lambda x: tf.reduce_sum(x[key] * T(w)), A)
    ref = np.zeros_like(A)
    ref[key] = w
    np.testing.assert_allclose(g.numpy(), ref)


def test_getitem_second_order():
    x = T(A)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(x[1:, ::2] ** 3)
        g = inner.gradient(y, x)
        z = tf.reduce_sum(g)
    gg = outer.gradient(z, x)
    mask = np.zeros_like(A)
    mask[1:, ::2] = 1
    np.testing.assert_allclose(g.numpy(), 3 * A**2 * mask)
    np.testing.assert_allclose(gg.numpy(), 6 * A * mask)


def test_variable_slicing_and_gradient():
    v = tf.Variable(A)
    np.testing.assert_array_equal(v[0, 1:].numpy(), A[0, 1:])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(v[-1, :, 2] * 2.0)
    g = tape.gradient(y, v)
    ref = np.zeros_like(A)
    ref[-1, :, 2] = 2.0
    np.testing.assert_allclose(g.numpy(), ref)


# --------------------------------------------------------------------------------------
# strided_slice / slice
# --------------------------------------------------------------------------------------


def test_strided_slice_masks():
    x = T(A)
    out = tf.strided_slice(x, [1, -1], [0, -4], [-1, -2], begin_mask=1, end_mask=1)
    np.testing.assert_array_equal(out.numpy(), A[::-1, -1:-4:-2])
    # new axis takes precedence over shrink; an ellipsis over a new axis
    assert tf.strided_slice(
        x, [0, 0], [1, 2], [1, 1], new_axis_mask=1, shrink_axis_mask=1
    ).shape == (1, 2, 3, 4)
    out = tf.strided_slice(
        x, [0, 0, 0], [1, 2, 1], [1, 1, 1], ellipsis_mask=1, new_axis_mask=2, shrink_axis_mask=4
    )
    np.testing.assert_array_equal(out.numpy(), A[..., None, 0])
    out = tf.strided_slice(x, [1, 2], [2, 3], shrink_axis_mask=3)  # strides default to 1
    np.testing.assert_array_equal(out.numpy(), A[1, 2])
    # the end of a shrunk dim is ignored
    assert tf.strided_slice(x, [1], [5], [1], shrink_axis_mask=1).shape == (3, 4)


def test_strided_slice_errors():
    x = T(A)
    with pytest.raises(InvalidArgumentError, match="1D equal size"):
        tf.strided_slice(x, [0], [1], [1, 1])
    with pytest.raises(InvalidArgumentError, match="only stride 1 allowed"):
        tf.strided_slice(x, [0], [1], [-1], shrink_axis_mask=1)
    with pytest.raises(InvalidArgumentError):
        tf.strided_slice(x, [0.0], [1.0])


def test_strided_slice_int64_and_gradient():
    b = T([0, 1], tf.int64)
    e = T([2, 3], tf.int64)
    out = tf.strided_slice(T(A), b, e)
    np.testing.assert_array_equal(out.numpy(), A[0:2, 1:3])
    g = grad_of(lambda x: tf.reduce_sum(tf.strided_slice(x, b, e)), A)
    ref = np.zeros_like(A)
    ref[0:2, 1:3] = 1
    np.testing.assert_array_equal(g.numpy(), ref)


def test_slice_values_and_size_minus_one():
    x = T(A)
    np.testing.assert_array_equal(tf.slice(x, [0, 1, 1], [2, 1, -1]).numpy(), A[0:2, 1:2, 1:])
    np.testing.assert_array_equal(
        tf.slice(x, T([1, 0, 2], tf.int64), [-1, 3, 2]).numpy(), A[1:, 0:3, 2:4]
    )
    assert tf.slice(x, [0, 3, 0], [2, 0, 4]).shape == (2, 0, 4)


def test_slice_errors():
    x = T(A)
    with pytest.raises(InvalidArgumentError, match=r"Expected size\[1\] in \[0, 2\], but got 5"):
        tf.slice(x, [0, 1, 1], [2, 5, 1])
    with pytest.raises(InvalidArgumentError, match=r"Expected begin\[1\] in \[0, 3\], but got 4"):
        tf.slice(x, [0, 4, 1], [2, -1, 1])
    with pytest.raises(InvalidArgumentError, match=r"Expected begin\[0\] in \[0, 2\], but got -1"):
        tf.slice(x, [-1, 1, 1], [2, 1, 1])
    with pytest.raises(InvalidArgumentError, match="1-D tensors of size 3"):
        tf.slice(x, [0, 1], [2, 1])
    with pytest.raises(InvalidArgumentError):
        tf.slice(x, [0.0, 1, 1], [1, 1, 1])


def test_slice_gradient_and_second_order():
    x = T(A)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(tf.slice(x, [1, 0, 1], [-1, 2, -1]) ** 2)
        g = inner.gradient(y, x)
        z = tf.reduce_sum(g)
    mask = np.zeros_like(A)
    mask[1:, 0:2, 1:] = 1
    np.testing.assert_allclose(g.numpy(), 2 * A * mask)
    np.testing.assert_allclose(outer.gradient(z, x).numpy(), 2 * mask)


# --------------------------------------------------------------------------------------
# gather / gather_nd
# --------------------------------------------------------------------------------------


def test_gather_axes_and_defaults():
    x = T(A)
    idx = [[2, 0], [1, 1]]
    for axis in (0, 1, 2, -1, -2):
        n = A.shape[axis]
        ii = np.array(idx) % n
        out = tf.gather(x, ii, axis=axis)
        np.testing.assert_array_equal(out.numpy(), np.take(A, ii, axis=axis))
    assert tf.gather(x, 1).shape == (3, 4)
    assert tf.gather(x, T([1, 0], tf.int64)).shape == (2, 3, 4)
    assert tf.gather(x, [1], axis=T(1)).shape == (2, 1, 4)
    assert tf.gather(T([b"a", b"b"]), [1, 1]).numpy().tolist() == [b"b", b"b"]


def test_gather_batch_dims():
    ii = np.array([[2, 0, 1], [1, 1, 0]])
    out = tf.gather(T(A), ii, axis=2, batch_dims=1)
    ref = np.stack([A[b][:, ii[b]] for b in range(2)])
    np.testing.assert_array_equal(out.numpy(), ref)
    # axis defaults to batch_dims; negative batch_dims counts from the indices' rank
    jj = np.array([[2, 0], [1, 2]])
    out = tf.gather(T(A), jj, batch_dims=-1)
    np.testing.assert_array_equal(out.numpy(), np.stack([A[b][jj[b]] for b in range(2)]))
    kk = np.array([[[0, 3], [1, 1], [2, 0]], [[3, 3], [0, 1], [2, 2]]])
    out = tf.gather(T(A), kk, axis=2, batch_dims=2)
    ref = np.take_along_axis(A, kk, axis=2)
    np.testing.assert_array_equal(out.numpy(), ref)


def test_gather_errors():
    with pytest.raises(InvalidArgumentError, match=r"indices\[1\] = 7 is not in \[0, 5\)"):
        tf.gather(T(np.arange(5)), [1, 7])
    with pytest.raises(InvalidArgumentError, match=r"indices\[1,0\] = -1 is not in \[0, 5\)"):
        tf.gather(T(np.arange(5)), [[1, 2], [-1, 0]])
    with pytest.raises(InvalidArgumentError, match="at least rank 4"):
        tf.gather(T(A), [1], axis=3)
    with pytest.raises(
        InvalidArgumentError, match=r"batch_dims \(2\) must be less than or equal to axis \(1\)"
    ):
        tf.gather(T(A), [[1]], axis=1, batch_dims=2)
    with pytest.raises(InvalidArgumentError, match="should be equal to indices.shape"):
        tf.gather(T(A), [[0, 1], [1, 0], [0, 0]], axis=2, batch_dims=1)
    with pytest.raises(InvalidArgumentError):
        tf.gather(T(A), [1.0])


def test_gather_gradient_accumulates_duplicates():
    idx = np.array([3, 0, 3, 3, 1])
    w = RNG.standard_normal((5, 2))
    x = RNG.standard_normal((4, 2))
    g = grad_of(lambda t: tf.reduce_sum(tf.gather(t, idx) * T(w)), x)
    onehot = (idx[:, None] == np.arange(4)[None]).astype(float)  # [5, 4]
    # an IndexedSlices, as TF gives for gathered rows: its dense form sums duplicates
    assert isinstance(g, tf.IndexedSlices)
    np.testing.assert_allclose(tf.convert_to_tensor(g).numpy(), onehot.T @ w)
    # along axis 1, with a 2-D index
    idx2 = np.array([[1, 1], [0, 2]])
    w2 = RNG.standard_normal((2, 2, 2, 4))
    g = grad_of(lambda t: tf.reduce_sum(tf.gather(t, idx2, axis=1) * T(w2)), A)
    ref = np.zeros_like(A)
    for i in range(2):
        for j in range(2):
            ref[:, idx2[i, j], :] += w2[:, i, j, :]
    np.testing.assert_allclose(g.numpy(), ref)


def test_gather_second_order():
    idx = [0, 2, 2, 2]
    x = T(np.array([1.0, 2.0, 3.0]))
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(tf.gather(x, idx) ** 2)
        g = tf.convert_to_tensor(inner.gradient(y, x))  # IndexedSlices -> dense
        z = tf.reduce_sum(g)
    counts = np.array([1.0, 0.0, 3.0])
    np.testing.assert_allclose(g.numpy(), 2 * counts * x.numpy())
    np.testing.assert_allclose(tf.convert_to_tensor(outer.gradient(z, x)).numpy(), 2 * counts)


def test_gather_nd():
    x = T(A)
    ii = np.array([[1, 2], [0, 0], [1, 0]])
    np.testing.assert_array_equal(tf.gather_nd(x, ii).numpy(), A[ii[:, 0], ii[:, 1]])
    jj = np.array([[[1, 2, 3]], [[0, 1, 0]]])
    np.testing.assert_array_equal(
        tf.gather_nd(x, jj).numpy(), A[jj[..., 0], jj[..., 1], jj[..., 2]]
    )
    assert tf.gather_nd(x, [1]).shape == (3, 4)
    assert tf.gather_nd(x, np.zeros((2, 0), np.int32)).shape == (2, 2, 3, 4)
    kk = np.array([[[0, 1]], [[1, 2]]])
    out = tf.gather_nd(x, kk, batch_dims=1)
    ref = np.stack([A[b][kk[b, :, 0], kk[b, :, 1]] for b in range(2)])
    np.testing.assert_array_equal(out.numpy(), ref)


def test_gather_nd_errors_and_gradient():
    with pytest.raises(
        InvalidArgumentError,
        match=r"indices\[0\] = \[0, 3\] does not index into param shape \[2,3,4\]",
    ):
        tf.gather_nd(T(A), [[0, 3]])
    with pytest.raises(InvalidArgumentError, match="saw: 4 vs. 3"):
        tf.gather_nd(T(A), [[0, 1, 2, 3]])
    with pytest.raises(InvalidArgumentError, match="at least a vector"):
        tf.gather_nd(T(A), 1)
    ii = np.array([[1, 2], [1, 2], [0, 0]])
    w = RNG.standard_normal((3, 4))
    g = grad_of(lambda t: tf.reduce_sum(tf.gather_nd(t, ii) * T(w)), A)
    ref = np.zeros_like(A)
    for r, (a, b) in enumerate(ii):
        ref[a, b] += w[r]
    np.testing.assert_allclose(g.numpy(), ref)


# --------------------------------------------------------------------------------------
# scatter_nd / tensor_scatter_nd_*
# --------------------------------------------------------------------------------------


def _loop_scatter(base, idx, upd, op):
    out = base.copy()
    for i, u in zip(
        np.asarray(idx).reshape(-1, np.shape(idx)[-1]),
        np.asarray(upd).reshape((-1,) + base.shape[np.shape(idx)[-1] :]),
    ):
        out[tuple(i)] = op(out[tuple(i)], u)
    return out


def test_scatter_nd_duplicates_add():
    idx = [[1], [1], [3]]
    out = tf.scatter_nd(idx, T([1.0, 2.0, 5.0]), [4])
    np.testing.assert_array_equal(out.numpy(), [0.0, 3.0, 0.0, 5.0])
    assert tf.scatter_nd(idx, [1, 2, 5], [4]).dtype is tf.int32
    np.testing.assert_array_equal(
        tf.scatter_nd(idx, [True, False, True], [4]).numpy(), [False, True, False, True]
    )
    idx2 = np.array([[0, 1], [2, 0], [0, 1]])
    upd = RNG.standard_normal((3, 5))
    out = tf.scatter_nd(idx2, T(upd), [3, 2, 5])
    np.testing.assert_allclose(out.numpy(), _loop_scatter(np.zeros((3, 2, 5)), idx2, upd, np.add))


def test_scatter_nd_errors_and_gradient():
    with pytest.raises(
        InvalidArgumentError, match=r"indices\[0\] = \[5\] does not index into shape \[4\]"
    ):
        tf.scatter_nd([[5]], [1.0], [4])
    with pytest.raises(InvalidArgumentError, match="updates"):
        tf.scatter_nd([[1]], [1.0, 2.0], [4])
    with pytest.raises(TypeError):
        tf.scatter_nd([[1]], [1.0], [4.0])
    w = RNG.standard_normal(4)
    g = grad_of(lambda u: tf.reduce_sum(tf.scatter_nd([[1], [1], [3]], u, [4]) * T(w)), np.ones(3))
    np.testing.assert_allclose(g.numpy(), w[[1, 1, 3]])


@pytest.mark.parametrize(
    "fn,op",
    [
        (tf.tensor_scatter_nd_add, np.add),
        (tf.tensor_scatter_nd_sub, np.subtract),
        (tf.tensor_scatter_nd_max, np.maximum),
        (tf.tensor_scatter_nd_min, np.minimum),
        (tf.tensor_scatter_nd_update, lambda a, b: b),
    ],
)
def test_tensor_scatter_values(fn, op):
    base = RNG.standard_normal((4, 3))
    idx = np.array([[2], [0], [2]])
    upd = RNG.standard_normal((3, 3))
    out = fn(T(base), idx, T(upd))
    np.testing.assert_allclose(out.numpy(), _loop_scatter(base, idx, upd, op))
    idx2 = np.array([[0, 1], [3, 2]])
    out = fn(T(base), idx2, T(upd[0, :2]))
    np.testing.assert_allclose(out.numpy(), _loop_scatter(base, idx2, upd[0, :2], op))


def test_tensor_scatter_conversion_and_errors():
    out = tf.tensor_scatter_nd_update(T([[1.0, 5.0], [3.0, 3.0]]), [[0]], [[4, 2]])
    assert out.dtype is tf.float32
    np.testing.assert_array_equal(out.numpy(), [[4.0, 2.0], [3.0, 3.0]])
    with pytest.raises(InvalidArgumentError, match="does not index into shape"):
        tf.tensor_scatter_nd_update(tf.zeros([4]), [[5]], [1.0])
    with pytest.raises(InvalidArgumentError, match="updates"):
        tf.tensor_scatter_nd_update(tf.zeros([4]), [[1]], [1.0, 2.0])
    with pytest.raises(InvalidArgumentError):
        tf.tensor_scatter_nd_add(tf.zeros([4]), [[1]], T([1], tf.int32))
    with pytest.raises(TypeError):
        tf.tensor_scatter_nd_add(tf.zeros([4], tf.int32), [[1]], [1.5])


def _both_grads(fn, t, idx, u):
    t, u = T(t), T(u)
    with tf.GradientTape() as tape:
        tape.watch([t, u])
        y = tf.reduce_sum(fn(t, idx, u))
    return [g.numpy() for g in tape.gradient(y, [t, u])]


def test_tensor_scatter_gradients():
    t = np.array([1.0, 5.0, 3.0])
    u = np.array([4.0, 5.0, 7.0, 0.5])
    idx = [[0], [1], [1], [2]]
    gt, gu = _both_grads(tf.tensor_scatter_nd_update, t, idx, u)
    np.testing.assert_array_equal(gt, [0, 0, 0])
    np.testing.assert_array_equal(gu, [1, 1, 1, 1])
    gt, gu = _both_grads(tf.tensor_scatter_nd_sub, t, idx, u)
    np.testing.assert_array_equal(gt, [1, 1, 1])
    np.testing.assert_array_equal(gu, [-1, -1, -1, -1])
    # max: out = [4, 7, 3]; the winners get the gradient
    gt, gu = _both_grads(tf.tensor_scatter_nd_max, t, idx, u)
    np.testing.assert_array_equal(gt, [0, 0, 1])
    np.testing.assert_array_equal(gu, [1, 0, 1, 0])
    # min: out = [1, 5, 0.5]; at index 1 the tensor (5) ties with update 5: split evenly
    gt, gu = _both_grads(tf.tensor_scatter_nd_min, t, idx, u)
    np.testing.assert_array_equal(gt, [1, 0.5, 0])
    np.testing.assert_array_equal(gu, [0, 0.5, 0, 1])


# --------------------------------------------------------------------------------------
# where / boolean_mask
# --------------------------------------------------------------------------------------


def test_where_coordinates():
    c = RNG.standard_normal((3, 4, 2)) > 0
    out = tf.where(c)
    assert out.dtype is tf.int64
    np.testing.assert_array_equal(out.numpy(), np.argwhere(c))
    np.testing.assert_array_equal(tf.where(T([1, 0, 3])).numpy(), [[0], [2]])
    assert tf.where(np.zeros((2, 2), bool)).shape == (0, 2)
    with pytest.raises(InvalidArgumentError):
        tf.where(True)
    with pytest.raises(InvalidArgumentError):
        tf.where(T(["a", ""]))


def test_where_select():
    c = np.array([[True, False, True]])
    x = RNG.standard_normal((2, 3))
    out = tf.where(c, T(x), T(-1.0, tf.float64))
    np.testing.assert_array_equal(out.numpy(), np.where(c, x, -1.0))
    with pytest.raises(ValueError, match="both be non-None or both be None"):
        tf.where([True, False], x=[1, 2])
    with pytest.raises(ValueError, match="both be non-None or both be None"):
        tf.where([True, False], y=[1, 2])
    g = grad_of(lambda t: tf.reduce_sum(tf.where(c, t, tf.zeros_like(t))), x)
    np.testing.assert_array_equal(g.numpy(), np.broadcast_to(c, x.shape).astype(float))


def test_boolean_mask():
    m = np.array([True, False])
    np.testing.assert_array_equal(tf.boolean_mask(T(A), m).numpy(), A[m])
    m1 = np.array([True, False, True])
    np.testing.assert_array_equal(tf.boolean_mask(T(A), m1, axis=1).numpy(), A[:, m1])
    m2 = np.array(
        [[True, False, True, False], [True, True, False, False], [False, False, False, True]]
    )
    np.testing.assert_array_equal(tf.boolean_mask(T(A), m2, axis=1).numpy(), A[:, m2])
    np.testing.assert_array_equal(tf.boolean_mask(T(A), m1, axis=-2).numpy(), A[:, m1])
    # a numeric mask counts non-zero entries as true, like TF
    np.testing.assert_array_equal(tf.boolean_mask(T(A), T([1, 0])).numpy(), A[:1])
    assert tf.boolean_mask(T(A), np.zeros((2, 3), bool)).shape == (0, 4)


def test_boolean_mask_errors_and_gradient():
    with pytest.raises(ValueError, match="mask cannot be scalar"):
        tf.boolean_mask(T(A), True)
    with pytest.raises(ValueError, match=r"Shapes \(2,\) and \(3,\) are incompatible"):
        tf.boolean_mask(T(A), [True, False, True])
    with pytest.raises(ValueError, match="incompatible"):
        tf.boolean_mask(T(A), [True, False], axis=-1)
    m = np.array([[True, False, True], [False, True, True]])
    w = RNG.standard_normal((4, 4))
    g = grad_of(lambda t: tf.reduce_sum(tf.boolean_mask(t, m) * T(w)), A)
    ref = np.zeros_like(A)
    ref[m] = w
    np.testing.assert_allclose(g.numpy(), ref)
