"""Gathers, scatters, scans and segment reductions under ``jit_compile=True`` with their
index inputs traced (function arguments, not constants): values and GradientTape
gradients equal the executor's; out-of-range traced indices follow TF's XLA kernels
(gathers clamp, scatters and segment reductions drop); Keras models with an Embedding
(and MultiHeadAttention) train the same compiled as not."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("jax")

import rill as tf  # noqa: E402
from rill import keras  # noqa: E402
from rill.errors import InvalidArgumentError  # noqa: E402

_rng = np.random.default_rng(0)


def _f32(*shape):
    return tf.constant(_rng.standard_normal(shape).astype(np.float32))


def _i(values, dtype=np.int32):
    return tf.constant(np.asarray(values, dtype))


def _compiled(fn):
    """``fn`` compiled to one XLA computation (an op that does not lower raises)."""
    return tf.function(fn, jit_compile=True)


def _check(fn, *args, tol=1e-5):
    """``fn`` compiled equals ``fn`` run by the executor, output by output."""
    got = _compiled(fn)(*args)
    want = tf.function(fn)(*args)
    got, want = tf.nest.flatten(got), tf.nest.flatten(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = tf.convert_to_tensor(g), tf.convert_to_tensor(w)
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=tol, atol=tol)
    return got


def _with_grad(op, n_diff=1):
    """A function returning ``op(*args)`` and its gradient with respect to its first
    ``n_diff`` arguments (a weighted sum, so every output element counts apart)."""

    def fn(*args):
        with tf.GradientTape() as tape:
            for a in args[:n_diff]:
                tape.watch(a)
            y = op(*args)
            w = tf.reshape(tf.cast(tf.range(tf.size(y)), y.dtype), tf.shape(y)) / 7.0 + 1.0
            loss = tf.reduce_sum(y * w)
        return y, tape.gradient(loss, list(args[:n_diff]))

    return fn


# --------------------------------------------------------------------------------------
# gather
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("idt", [np.int32, np.int64])
@pytest.mark.parametrize(
    "pshape, idx, axis, batch_dims",
    [
        ((5, 3), [4, 0, 4, 2], 0, 0),
        ((2, 5, 3), [[1, 0], [2, 2]], 1, 0),
        ((2, 3, 4), [[1, 0, 3], [2, 2, 0]], 2, 1),
        ((2, 4, 3), [[1, 3], [0, 0]], 1, 1),
        ((4,), 2, 0, 0),
    ],
)
def test_gather(pshape, idx, axis, batch_dims, idt):
    op = lambda p, i: tf.gather(p, i, axis=axis, batch_dims=batch_dims)  # noqa: E731
    _check(_with_grad(op), _f32(*pshape), _i(idx, idt))


def test_gather_rows_of_a_variable_has_the_executors_sparse_gradient():
    table = tf.Variable(_rng.standard_normal((6, 4)).astype(np.float32))

    def fn(ids):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.gather(table, ids) ** 2)
        return loss, tf.convert_to_tensor(tape.gradient(loss, table))

    _check(fn, _i([[1, 5, 1], [0, 2, 1]]))


def test_traced_out_of_range_gather_indices_clamp_as_xla():
    p = _f32(4, 2)
    got = _compiled(lambda p, i: tf.gather(p, i))(p, _i([-3, 1, 9]))
    np.testing.assert_array_equal(got.numpy(), p.numpy()[[0, 1, 3]])
    got = _compiled(lambda p, i: tf.gather_nd(p, i))(p, _i([[5, -1], [1, 1]]))
    np.testing.assert_array_equal(got.numpy(), p.numpy()[[3, 1], [0, 1]])


def test_constant_out_of_range_gather_index_is_the_executors_error():
    def fn(p):
        return tf.gather(p, tf.constant([0, 7]))

    with pytest.raises(InvalidArgumentError, match=r"indices\[1\] = 7 is not in \[0, 4\)"):
        tf.function(fn)(_f32(4))
    with pytest.raises(InvalidArgumentError, match=r"indices\[1\] = 7 is not in \[0, 4\)"):
        _compiled(fn)(_f32(4))


@pytest.mark.parametrize(
    "pshape, idx, batch_dims",
    [
        ((3, 4), [[0, 1], [2, 3], [0, 1]], 0),
        ((3, 4, 2), [[[1], [0]], [[2], [2]]], 0),
        ((2, 3, 4), [[[0, 1]], [[2, 3]]], 1),
    ],
)
def test_gather_nd(pshape, idx, batch_dims):
    op = lambda p, i: tf.gather_nd(p, i, batch_dims=batch_dims)  # noqa: E731
    _check(_with_grad(op), _f32(*pshape), _i(idx, np.int64))


# --------------------------------------------------------------------------------------
# scatter_nd, tensor_scatter_nd_*
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "idx, ushape, shape",
    [([[1], [3], [1]], (3, 2), [4, 2]), ([[0, 1], [2, 0]], (2,), [3, 2])],
)
def test_scatter_nd(idx, ushape, shape):
    op = lambda u, i: tf.scatter_nd(i, u, shape)  # noqa: E731
    _check(_with_grad(op), _f32(*ushape), _i(idx))


def test_traced_out_of_range_scatter_updates_are_dropped_as_xla():
    u = tf.constant([1.0, 2.0, 4.0, 8.0])
    got = _compiled(lambda i, u: tf.scatter_nd(i, u, [3]))(_i([[0], [-1], [3], [2]]), u)
    np.testing.assert_array_equal(got.numpy(), [1.0, 0.0, 8.0])
    t = tf.zeros([2, 2])
    got = _compiled(tf.tensor_scatter_nd_add)(t, _i([[0, 2], [1, 1], [-1, 0]]), u[:3])
    np.testing.assert_array_equal(got.numpy(), [[0.0, 0.0], [0.0, 2.0]])


_TSC = {
    "update": tf.tensor_scatter_nd_update,
    "add": tf.tensor_scatter_nd_add,
    "sub": tf.tensor_scatter_nd_sub,
    "max": tf.tensor_scatter_nd_max,
    "min": tf.tensor_scatter_nd_min,
}


@pytest.mark.parametrize("mode", sorted(_TSC))
def test_tensor_scatter_nd(mode):
    t = tf.constant([[0.1, 0.5], [-0.3, 0.9], [0.2, -0.6], [0.4, 0.0]])
    idx = [[1], [3]] if mode == "update" else [[1], [3], [1]]
    u = tf.constant([[0.7, -0.8], [0.25, 0.45], [0.3, 1.2]][: len(idx)])
    _check(_with_grad(_TSC[mode], 1), t, _i(idx), u)
    # the gradient with respect to the updates too (argument order: tensor, updates, ids)
    op = lambda t, u, i: _TSC[mode](t, i, u)  # noqa: E731
    _check(_with_grad(op, 2), t, u, _i(idx))


def test_tensor_scatter_nd_on_integers_and_booleans():
    t = _i([[1, 2], [3, 4]], np.int64)
    _check(tf.tensor_scatter_nd_sub, t, _i([[0, 1], [0, 1]]), _i([5, 6], np.int64))
    b = tf.constant([False, True, False])
    _check(tf.tensor_scatter_nd_add, b, _i([[0], [0], [1]]), tf.constant([True, False, False]))


# --------------------------------------------------------------------------------------
# scans
# --------------------------------------------------------------------------------------

_SCANS = {
    "cumsum": tf.cumsum,
    "cumprod": tf.math.cumprod,
    "cumulative_logsumexp": tf.math.cumulative_logsumexp,
}


@pytest.mark.parametrize("name", sorted(_SCANS))
@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("axis", [0, -1])
def test_scans(name, exclusive, reverse, axis):
    fn = _SCANS[name]
    x = tf.constant(_rng.uniform(0.5, 1.5, (3, 4)).astype(np.float32))
    op = lambda x: fn(x, axis=axis, exclusive=exclusive, reverse=reverse)  # noqa: E731
    if name == "cumulative_logsumexp" and exclusive:  # -inf heads: the value only
        _check(op, x)
    else:
        _check(_with_grad(op), x)


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64, tf.float16, tf.bfloat16])
def test_scans_keep_their_dtype(dtype):
    x = tf.cast(tf.constant([[1, 2, 3], [2, 1, 1]]), dtype)
    _check(lambda x: tf.cumsum(x, axis=1, exclusive=True), x, tol=1e-2)
    _check(lambda x: tf.math.cumprod(x, axis=0, reverse=True), x, tol=1e-2)
    if dtype.is_floating:
        _check(lambda x: tf.math.cumulative_logsumexp(x, axis=1), x, tol=2e-2)


# --------------------------------------------------------------------------------------
# segment reductions
# --------------------------------------------------------------------------------------

_UNSORTED = {
    "sum": tf.math.unsorted_segment_sum,
    "max": tf.math.unsorted_segment_max,
    "min": tf.math.unsorted_segment_min,
    "prod": tf.math.unsorted_segment_prod,
}
# distinct values (no ties for max and min)
_DATA = np.random.default_rng(4).permutation(18).reshape(6, 3) / 5.0 - 1.5


@pytest.mark.parametrize("name", sorted(_UNSORTED))
@pytest.mark.parametrize("idt", [np.int32, np.int64])
def test_unsorted_segment_reductions(name, idt):
    fn = _UNSORTED[name]
    data = tf.constant(_DATA.astype(np.float32))
    ids = [3, 0, -1, 3, 1, 2]  # a negative id: dropped
    _check(_with_grad(lambda d, i: fn(d, i, 4)), data, _i(ids, idt))
    # segment 4 empty: it holds the identity (max and min: the dtype's extreme value,
    # which a weighted loss would overflow, so their values only)
    op = lambda d, i: fn(d, i, 5)  # noqa: E731
    op = op if name in ("max", "min") else _with_grad(op)
    _check(op, tf.reshape(data, [2, 3, 3]), _i(np.reshape(ids, (2, 3)), idt))


def test_unsorted_segment_mean_and_sqrt_n():
    data = tf.constant(_DATA.astype(np.float32))
    ids = _i([3, 0, -1, 3, 1, 0])
    _check(_with_grad(lambda d, i: tf.math.unsorted_segment_mean(d, i, 5)), data, ids)
    _check(_with_grad(lambda d, i: tf.math.unsorted_segment_sqrt_n(d, i, 5)), data, ids)


@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16, tf.float64, tf.int32])
def test_value_dtypes_are_kept(dtype):
    x = tf.cast(tf.constant(_DATA * 4), dtype)
    ids = _i([3, 0, -1, 3, 1, 2], np.int64)
    tol = 1e-2 if dtype in (tf.float16, tf.bfloat16) else 1e-6
    _check(lambda x, i: tf.gather(x, i, axis=1, batch_dims=0), x, _i([[2, 0], [1, 1]]), tol=tol)
    _check(lambda x, i: tf.gather_nd(x, i), x, _i([[0, 1], [5, 2]]), tol=tol)
    _check(lambda x, i: tf.scatter_nd(i, x, [7, 3]), x, ids[:, None] + 1, tol=tol)
    _check(lambda x, i: tf.tensor_scatter_nd_max(x, i, x[:2] + 1), x, _i([[1], [4]]), tol=tol)
    for fn in (tf.math.unsorted_segment_sum, tf.math.unsorted_segment_min):
        _check(lambda x, i, fn=fn: fn(x, i, 4), x, ids, tol=tol)


def test_traced_segment_ids_out_of_range_are_dropped_as_xla():
    got = _compiled(lambda d, i: tf.math.unsorted_segment_sum(d, i, 2))(
        tf.constant([1.0, 2.0, 4.0, 8.0]), _i([0, 2, 1, -1])
    )
    np.testing.assert_array_equal(got.numpy(), [1.0, 4.0])


def test_a_traced_num_segments_does_not_lower():
    fn = _compiled(lambda d, i, n: tf.math.unsorted_segment_sum(d, i, n))
    with pytest.raises(InvalidArgumentError, match="UnsortedSegmentSum.*num_segments"):
        fn(tf.constant([1.0, 2.0]), _i([0, 1]), _i(2))


_SORTED = {
    "sum": tf.math.segment_sum,
    "mean": tf.math.segment_mean,
    "max": tf.math.segment_max,
    "min": tf.math.segment_min,
    "prod": tf.math.segment_prod,
}


@pytest.mark.parametrize("name", sorted(_SORTED))
def test_sorted_segment_reductions_lower_with_constant_ids(name):
    fn = _SORTED[name]
    op = lambda d: fn(d, tf.constant([0, 0, 2, 2, 2, 3]))  # noqa: E731 - segment 1 empty
    _check(_with_grad(op), tf.constant(_DATA.astype(np.float32)))


def test_sorted_segment_reductions_with_traced_ids_do_not_lower():
    fn = _compiled(tf.math.segment_sum)
    with pytest.raises(InvalidArgumentError, match="SegmentSum.*known when compiling"):
        fn(tf.constant([1.0, 2.0]), _i([0, 1]))


# --------------------------------------------------------------------------------------
# one_hot, bincount, top_k's gradient (PutAlongAxis)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [-1, 0])
def test_one_hot(axis):
    ids = _i([[0, 2], [-1, 5]], np.int64)  # out of range: rows of off_value
    _check(lambda i: tf.one_hot(i, 3, on_value=1.5, off_value=-0.5, axis=axis), ids)


def test_bincount_with_its_length_fixed_by_min_and_max_length():
    arr = _i([[1, 3, 3, 0], [4, 4, 4, 9]])
    w = _f32(2, 4)
    _check(lambda a: tf.math.bincount(a, minlength=5, maxlength=5), arr)
    _check(lambda a, w: tf.math.bincount(a, w, minlength=5, maxlength=5, axis=-1), arr, w)
    _check(lambda a: tf.math.bincount(a, minlength=6, maxlength=4, binary_output=True), arr)


def test_top_k_gradient():
    op = lambda x: tf.math.top_k(x, k=2).values  # noqa: E731
    _check(_with_grad(op), _f32(3, 5))


# --------------------------------------------------------------------------------------
# Keras
# --------------------------------------------------------------------------------------


def _train(jit, attention):
    keras.utils.set_random_seed(0)
    inp = keras.Input((6,), dtype="int32")
    x = keras.layers.Embedding(20, 8)(inp)
    if attention:
        x = keras.layers.MultiHeadAttention(2, 8)(x, x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inp, keras.layers.Dense(3)(x))
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile("adam", loss, jit_compile=jit)
    rng = np.random.default_rng(1)
    xs = rng.integers(0, 20, (8, 6)).astype(np.int32)
    ys = rng.integers(0, 3, (8,)).astype(np.int32)
    return [float(model.train_on_batch(xs, ys)) for _ in range(3)]


@pytest.mark.parametrize("attention", [False, True], ids=["embedding", "attention"])
def test_keras_embedding_model_trains_the_same_compiled(attention):
    got = _train(True, attention)
    want = _train(False, attention)
    np.testing.assert_allclose(got, want, rtol=1e-4)
    assert got[0] != got[-1]  # it trained
