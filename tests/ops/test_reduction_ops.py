"""Behaviour tests for rill.ops.reduction_ops: values against NumPy/closed forms, dtypes,
TF's defaults and the errors TF raises."""

import math

import numpy as np
import pytest

import rill as tf
from rill.core.errors import InvalidArgumentError

rng = np.random.default_rng(7)


def grad(f, x):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x).numpy()


# --------------------------------------------------------------------------------------
# reductions
# --------------------------------------------------------------------------------------

REDUCTIONS = [
    (tf.reduce_sum, np.sum),
    (tf.reduce_mean, np.mean),
    (tf.reduce_max, np.max),
    (tf.reduce_min, np.min),
    (tf.reduce_prod, np.prod),
    (tf.math.reduce_std, np.std),
    (tf.math.reduce_variance, np.var),
    (
        tf.math.reduce_euclidean_norm,
        lambda a, axis=None, keepdims=False: np.sqrt(np.sum(a * a, axis, keepdims=keepdims)),
    ),
    (
        tf.reduce_logsumexp,
        lambda a, axis=None, keepdims=False: np.log(np.sum(np.exp(a), axis, keepdims=keepdims)),
    ),
]


@pytest.mark.parametrize("axis", [None, 0, 1, -1, [0, 2], (-3, -1), []])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("tf_fn,np_fn", REDUCTIONS, ids=lambda f: getattr(f, "__name__", "ref"))
def test_reductions_match_numpy(tf_fn, np_fn, axis, keepdims):
    x = rng.uniform(0.5, 1.5, size=(2, 3, 4))
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    out = tf_fn(tf.constant(x), axis=axis, keepdims=keepdims)
    ref = np_fn(x, axis=np_axis, keepdims=keepdims)
    assert out.dtype == tf.float64
    assert out.shape == np.shape(ref)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12)


def test_axis_as_tensor_and_top_level_names():
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(tf.reduce_sum(x, axis=tf.constant([1])).numpy(), x.sum(1))
    np.testing.assert_allclose(tf.math.reduce_max(x, axis=tf.constant(-1)).numpy(), x.max(-1))
    assert tf.reduce_sum is tf.math.reduce_sum and tf.reduce_logsumexp is tf.math.reduce_logsumexp
    assert not hasattr(tf, "reduce_std") and not hasattr(tf, "cumprod")


def test_default_dtypes():
    assert tf.reduce_sum([1, 2]).dtype == tf.int32
    assert tf.reduce_sum([1.0, 2.0]).dtype == tf.float32
    assert tf.reduce_mean(tf.constant([1, 2], tf.int64)).dtype == tf.int64
    assert tf.reduce_any([True, False]).dtype == tf.bool


def test_reduce_mean_of_ints_truncates():
    x = np.array([[-1, -2, 4], [3, 5, 8], [7, -20, 0]], np.int32)
    out = tf.reduce_mean(x, axis=1)
    ref = np.trunc(x.sum(1) / 3).astype(np.int32)  # -1/3 -> 0, 16/3 -> 5, -13/3 -> -4
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), ref)
    # accumulates wider than the dtype: 200 + 200 does not wrap in uint8
    assert tf.reduce_mean(tf.constant([200, 200], tf.uint8)).numpy() == 200


def test_empty_reductions():
    e = tf.zeros([0, 3])
    np.testing.assert_array_equal(tf.reduce_sum(e, axis=0).numpy(), np.zeros(3))
    np.testing.assert_array_equal(tf.reduce_prod(e, axis=0).numpy(), np.ones(3))
    assert np.all(np.isneginf(tf.reduce_max(e, axis=0).numpy()))
    assert np.all(np.isposinf(tf.reduce_min(e, axis=0).numpy()))
    assert np.all(np.isnan(tf.reduce_mean(e, axis=0).numpy()))
    ei = tf.zeros([0, 2], tf.int32)
    assert list(tf.reduce_max(ei, axis=0).numpy()) == [np.iinfo(np.int32).min] * 2
    assert list(tf.reduce_mean(ei, axis=0).numpy()) == [0, 0]


def test_any_all():
    b = rng.standard_normal((3, 4)) > 0
    np.testing.assert_array_equal(tf.reduce_any(b, axis=1).numpy(), b.any(1))
    np.testing.assert_array_equal(
        tf.reduce_all(b, axis=0, keepdims=True).numpy(), b.all(0, keepdims=True)
    )
    with pytest.raises(InvalidArgumentError):
        tf.reduce_any(tf.constant([1.0]))
    with pytest.raises(InvalidArgumentError):
        tf.reduce_all(tf.constant([1]))


def test_reduction_errors():
    x = tf.zeros([2, 3])
    with pytest.raises(InvalidArgumentError, match="reduction dimension"):
        tf.reduce_sum(x, axis=2)
    with pytest.raises(InvalidArgumentError, match="duplicate"):
        tf.reduce_sum(x, axis=[1, -1])
    with pytest.raises(InvalidArgumentError):
        tf.reduce_sum(tf.constant(3.0), axis=0)
    with pytest.raises(TypeError):
        tf.reduce_sum(x, axis=1.0)
    with pytest.raises(InvalidArgumentError):
        tf.reduce_sum(tf.constant([True]))
    with pytest.raises(InvalidArgumentError):
        tf.reduce_max(tf.constant([True]))
    with pytest.raises(TypeError):
        tf.math.reduce_std(tf.constant([1, 2]))
    with pytest.raises(TypeError):
        tf.math.reduce_variance(tf.constant([1, 2]))
    with pytest.raises(InvalidArgumentError):
        tf.reduce_logsumexp(tf.constant([1, 2]))


def test_euclidean_norm_int_and_logsumexp_stability():
    assert tf.math.reduce_euclidean_norm([3, 4, 1]).numpy() == math.isqrt(26)
    x = np.array([1000.0, 1000.0, -1000.0])
    out = tf.reduce_logsumexp(tf.constant(x))
    np.testing.assert_allclose(out.numpy(), 1000.0 + math.log(2.0), rtol=1e-12)
    assert np.isneginf(tf.reduce_logsumexp(tf.constant([-np.inf, -np.inf])).numpy())
    g = grad(tf.reduce_logsumexp, np.array([1000.0, 1000.0, 999.0]))
    e = np.exp([0.0, 0.0, -1.0])
    np.testing.assert_allclose(g, e / e.sum(), rtol=1e-12)


def test_max_min_gradient_splits_ties():
    x = np.array([[1.0, 3.0, 3.0, 2.0], [2.0, 2.0, 2.0, 0.5]])
    np.testing.assert_allclose(
        grad(lambda t: tf.reduce_max(t, axis=1), x),
        (x == x.max(1, keepdims=True)) / np.array([[2.0], [3.0]]),
    )
    np.testing.assert_allclose(grad(tf.reduce_min, x), (x == x.min()) * 1.0)


def test_prod_gradient_with_zeros():
    x = np.array([1.5, 0.0, 3.0, -2.0])
    expected = np.array([np.prod(np.delete(x, i)) for i in range(x.size)])  # product of the others
    np.testing.assert_allclose(grad(tf.reduce_prod, x), expected)
    assert expected[1] == -9.0 and np.all(expected[[0, 2, 3]] == 0)
    x2 = np.array([[0.0, 2.0, 0.0], [1.0, 0.0, 4.0]])
    expected2 = np.array([[np.prod(np.delete(r, i)) for i in range(3)] for r in x2])
    np.testing.assert_allclose(grad(lambda t: tf.reduce_prod(t, axis=1), x2), expected2)
    # several axes at once, with a zero
    x3 = rng.uniform(0.5, 2.0, size=(2, 3, 2))
    x3[1, 2, 0] = 0.0
    g = grad(
        lambda t: tf.reduce_sum(
            tf.reduce_prod(t, axis=[0, 2]) * tf.constant([1.0, 2.0, 3.0], tf.float64)
        ),
        x3,
    )
    ref = np.zeros_like(x3)
    for i, j, k in np.ndindex(*x3.shape):
        sl = x3[:, j, :].copy()
        sl[i, k] = 1.0
        ref[i, j, k] = (j + 1) * np.prod(sl)  # weight times the product of the others
    np.testing.assert_allclose(g, ref)


def test_prod_second_derivative():
    x = tf.constant([2.0, 3.0, 5.0], tf.float64)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_prod(x)
        g = inner.gradient(y, x)  # [bc, ac, ab]
        s = tf.reduce_sum(g * tf.constant([1.0, 10.0, 100.0], tf.float64))
    h = outer.gradient(s, x)
    # d/da (bc + 10ac + 100ab) = 10c + 100b, etc.
    np.testing.assert_allclose(h.numpy(), [10 * 5 + 100 * 3, 5 + 100 * 2, 3 + 10 * 2])


def test_mean_gradient():
    x = rng.standard_normal((2, 3, 4))
    np.testing.assert_allclose(
        grad(lambda t: tf.reduce_mean(t, axis=[0, 2]), x), np.full(x.shape, 1 / 8)
    )


# --------------------------------------------------------------------------------------
# argmax / argmin, count_nonzero, l2_normalize
# --------------------------------------------------------------------------------------


def test_argmax_argmin():
    x = rng.standard_normal((3, 5))
    out = tf.argmax(x)
    assert out.dtype == tf.int64
    np.testing.assert_array_equal(out.numpy(), x.argmax(0))  # axis None means 0
    np.testing.assert_array_equal(tf.math.argmin(x, axis=-1).numpy(), x.argmin(-1))
    assert tf.argmax([1, 5, 5], output_type=tf.int32).dtype == tf.int32
    assert tf.argmax([1, 5, 5]).numpy() == 1  # first of the ties
    assert tf.argmax([True, False, True]).numpy() == 0
    assert tf.argmax([1.0, np.nan, 5.0]).numpy() == 2
    with pytest.raises(InvalidArgumentError):
        tf.argmax(tf.zeros([2, 3]), axis=2)
    with pytest.raises(InvalidArgumentError):
        tf.argmax(tf.zeros([0]))
    with pytest.raises(InvalidArgumentError):
        tf.argmax([1, 2], output_type=tf.float32)
    with pytest.raises(TypeError):
        tf.argmax(tf.zeros([2, 3]), axis=[1])


def test_count_nonzero():
    x = np.array([[0, 1.5, 2], [0, 0, -1]])
    out = tf.math.count_nonzero(x, axis=1, keepdims=True)
    assert out.dtype == tf.int64
    np.testing.assert_array_equal(out.numpy(), np.count_nonzero(x, axis=1, keepdims=True))
    assert tf.math.count_nonzero(x).numpy() == 3
    assert tf.math.count_nonzero(x, dtype=tf.float32).dtype == tf.float32
    assert tf.math.count_nonzero(["", "a", "bc"]).numpy() == 2
    assert tf.math.count_nonzero([True, False, True]).numpy() == 2


def test_l2_normalize():
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(
        tf.math.l2_normalize(x, axis=1).numpy(), x / np.linalg.norm(x, axis=1, keepdims=True)
    )
    np.testing.assert_allclose(tf.nn.l2_normalize(x).numpy(), x / np.linalg.norm(x))
    np.testing.assert_allclose(
        tf.math.l2_normalize(x, dim=0).numpy(), x / np.linalg.norm(x, axis=0)
    )
    z = tf.math.l2_normalize(tf.constant([0.0, 0.0]))
    np.testing.assert_array_equal(z.numpy(), [0.0, 0.0])
    g = grad(lambda t: tf.math.l2_normalize(t, epsilon=1e-4), np.array([0.0, 0.0]))
    np.testing.assert_allclose(g, [100.0, 100.0])  # 1 / sqrt(epsilon) below the epsilon floor
    with pytest.raises(TypeError):
        tf.math.l2_normalize(tf.constant([3, 4]))


# --------------------------------------------------------------------------------------
# scans
# --------------------------------------------------------------------------------------


def _np_scan(fn, ident, x, axis, exclusive, reverse):
    if reverse:
        x = np.flip(x, axis)
    out = fn(x, axis=axis)
    if exclusive:
        out = np.moveaxis(out, axis, 0)
        out = np.concatenate([np.full_like(out[:1], ident), out[:-1]])
        out = np.moveaxis(out, 0, axis)
    return np.flip(out, axis) if reverse else out


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_scans_match_numpy(exclusive, reverse, axis):
    x = rng.uniform(0.5, 1.5, size=(3, 4))
    kw = dict(axis=axis, exclusive=exclusive, reverse=reverse)
    np.testing.assert_allclose(
        tf.cumsum(x, **kw).numpy(), _np_scan(np.cumsum, 0, x, axis, exclusive, reverse)
    )
    np.testing.assert_allclose(
        tf.math.cumprod(x, **kw).numpy(), _np_scan(np.cumprod, 1, x, axis, exclusive, reverse)
    )
    with np.errstate(divide="ignore"):
        ref = np.log(_np_scan(np.cumsum, 0, np.exp(x), axis, exclusive, reverse))
        np.testing.assert_allclose(tf.math.cumulative_logsumexp(x, **kw).numpy(), ref, rtol=1e-12)


def test_scan_defaults_dtypes_errors():
    assert tf.cumsum([1, 2, 3]).dtype == tf.int32
    np.testing.assert_array_equal(
        tf.cumsum([1, 2, 3], exclusive=True, reverse=True).numpy(), [5, 3, 0]
    )
    np.testing.assert_allclose(
        tf.math.cumulative_logsumexp([1000.0, 1000.0]).numpy(), [1000.0, 1000.0 + math.log(2)]
    )
    with pytest.raises(InvalidArgumentError, match="scan axis"):
        tf.cumsum([1.0, 2.0], axis=1)
    with pytest.raises(InvalidArgumentError):
        tf.cumsum(3.0)
    with pytest.raises(InvalidArgumentError):
        tf.cumsum([True, False])
    with pytest.raises(InvalidArgumentError):
        tf.math.cumulative_logsumexp([1, 2])


def test_scan_gradients():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    w = tf.constant([1.0, 10.0, 100.0, 1000.0], tf.float64)
    # d/dx_i sum_k w_k cumsum_k = sum_{k>=i} w_k
    np.testing.assert_allclose(
        grad(lambda t: tf.reduce_sum(tf.cumsum(t) * w), x), [1111, 1110, 1100, 1000]
    )
    # exclusive + reverse: out_k = sum_{j>k} x_j, so d/dx_i = sum_{k<i} w_k
    np.testing.assert_allclose(
        grad(lambda t: tf.reduce_sum(tf.cumsum(t, exclusive=True, reverse=True) * w), x),
        [0, 1, 11, 111],
    )
    # cumprod with a zero gives TF's values (the zero's own gradient is 0, like TF)
    np.testing.assert_allclose(
        grad(lambda t: tf.reduce_sum(tf.math.cumprod(t)), np.array([1.0, 0.0, 3.0, 2.0])),
        [1.0, 0.0, 0.0, 0.0],
    )


def test_exclusive_cumulative_logsumexp_gradient():
    x = np.array([0.3, -1.2, 2.0, 0.7])
    w = np.array([1.0, -10.0, 3.0, 5.0])
    g = grad(
        lambda t: tf.reduce_sum(
            tf.math.cumulative_logsumexp(t, exclusive=True)[1:] * tf.constant(w[1:])
        ),
        x,
    )
    out = np.log(np.concatenate([[0.0], np.cumsum(np.exp(x))[:-1]])[1:])  # out_k for k >= 1
    ref = np.array(
        [sum(w[k] * np.exp(x[i] - out[k - 1]) for k in range(i + 1, 4)) for i in range(4)]
    )
    np.testing.assert_allclose(g, ref, rtol=1e-10)


# --------------------------------------------------------------------------------------
# top_k, in_top_k
# --------------------------------------------------------------------------------------


def test_top_k_values_indices_and_ties():
    x = rng.standard_normal((3, 6))
    r = tf.math.top_k(x, k=3)
    order = np.argsort(-x, axis=-1)[:, :3]
    np.testing.assert_array_equal(r.indices.numpy(), order)
    np.testing.assert_array_equal(r.values.numpy(), np.take_along_axis(x, order, -1))
    assert r.indices.dtype == tf.int32 and r.values is r[0]
    v, i = tf.nn.top_k([3, 3, 1, 3, 2])  # default k=1
    assert v.numpy().tolist() == [3] and i.numpy().tolist() == [0]
    assert tf.math.top_k([3, 3, 1, 3, 2], k=3).indices.numpy().tolist() == [
        0,
        1,
        3,
    ]  # lower index first
    assert tf.math.top_k([1.0, np.nan, 3.0], k=2).indices.numpy().tolist() == [
        1,
        2,
    ]  # NaN is largest
    assert tf.math.top_k([1, 5, 3], k=2, index_type=tf.int64).indices.dtype == tf.int64


def test_top_k_errors():
    with pytest.raises(InvalidArgumentError, match="at least k"):
        tf.math.top_k([3, 3], k=3)
    with pytest.raises(InvalidArgumentError):
        tf.math.top_k([3, 3], k=-1)
    with pytest.raises(InvalidArgumentError):
        tf.math.top_k(3.0)
    with pytest.raises(InvalidArgumentError):
        tf.math.top_k([True, False])


def test_top_k_gradient():
    x = np.array([[1.0, 4.0, 2.0, 3.0], [0.0, -1.0, 5.0, 2.0]])
    w = np.array([[1.0, 10.0], [100.0, 1000.0]])
    g = grad(lambda t: tf.reduce_sum(tf.math.top_k(t, 2).values * tf.constant(w)), x)
    ref = np.zeros_like(x)
    idx = np.argsort(-x, axis=1)[:, :2]
    np.put_along_axis(ref, idx, w, axis=1)
    np.testing.assert_allclose(g, ref)


def test_in_top_k():
    p = rng.standard_normal((20, 5)).astype(np.float32)
    t = rng.integers(0, 5, size=20).astype(np.int32)
    for k in (1, 2, 5):
        ref = np.sum(p > p[np.arange(20), t][:, None], axis=1) < k
        np.testing.assert_array_equal(tf.math.in_top_k(t, p, k).numpy(), ref)
    ties = [[0.5, 0.5, 0.1]] * 3
    assert tf.math.in_top_k([1, 0, 2], ties, 1).numpy().tolist() == [True, True, False]
    assert tf.nn.in_top_k([3], [[0.5, 0.5, 0.1]], 1).numpy().tolist() == [False]  # out of range
    assert tf.math.in_top_k([1], [[np.nan, 0.5, 0.1]], 3).numpy().tolist() == [
        False
    ]  # non-finite row
    assert tf.math.in_top_k(tf.constant([0], tf.int64), [[0.3, 0.5, 0.1]], 2).dtype == tf.bool


# --------------------------------------------------------------------------------------
# bincount
# --------------------------------------------------------------------------------------


def test_bincount():
    a = rng.integers(0, 7, size=30)
    out = tf.math.bincount(tf.constant(a, tf.int32))
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), np.bincount(a))
    np.testing.assert_array_equal(
        tf.math.bincount(a, minlength=10).numpy(), np.bincount(a, minlength=10)
    )
    np.testing.assert_array_equal(tf.math.bincount(a, maxlength=3).numpy(), np.bincount(a)[:3])
    w = rng.standard_normal(30).astype(np.float32)
    ow = tf.math.bincount(a, weights=w, dtype=tf.float64)
    assert ow.dtype == tf.float32  # the weights' dtype wins
    np.testing.assert_allclose(ow.numpy(), np.bincount(a, weights=w), rtol=1e-5)
    assert tf.math.bincount(a, dtype=tf.float32).dtype == tf.float32
    np.testing.assert_array_equal(tf.math.bincount([[1, 2], [0, 0]]).numpy(), [2, 1, 1])
    np.testing.assert_array_equal(
        tf.math.bincount([[1, 2], [0, 0]], axis=-1).numpy(), [[0, 1, 1], [2, 0, 0]]
    )
    np.testing.assert_array_equal(
        tf.math.bincount([[1, 2], [0, 0]], binary_output=True).numpy(), [1, 1, 1]
    )
    assert tf.math.bincount(tf.constant([], tf.int32)).shape == (0,)
    with pytest.raises(InvalidArgumentError, match="non-negative"):
        tf.math.bincount([1, -3])
    with pytest.raises(ValueError):
        tf.math.bincount([1, 2], weights=[1.0, 2.0], binary_output=True)
    with pytest.raises(ValueError):
        tf.math.bincount([1, 2], axis=1)


# --------------------------------------------------------------------------------------
# segment ops
# --------------------------------------------------------------------------------------


def _np_segment(fn, data, ids, num, empty):
    out = np.full((num,) + data.shape[ids.ndim :], empty, dtype=data.dtype)
    flat_d = data.reshape((-1,) + data.shape[ids.ndim :])
    flat_i = ids.reshape(-1)
    for s in range(num):
        rows = flat_d[flat_i == s]
        if len(rows):
            out[s] = fn(rows, axis=0)
    return out


@pytest.mark.parametrize(
    "tf_fn,np_fn", [(tf.math.segment_sum, np.sum), (tf.math.segment_mean, np.mean), (tf.math.segment_max, np.max),
                    (tf.math.segment_min, np.min), (tf.math.segment_prod, np.prod)],
)  # fmt: skip
def test_sorted_segments(tf_fn, np_fn):
    data = rng.standard_normal((6, 2))
    ids = np.array([0, 0, 2, 2, 2, 4])
    out = tf_fn(data, ids)
    empty = 1.0 if np_fn is np.prod else 0.0
    np.testing.assert_allclose(out.numpy(), _np_segment(np_fn, data, ids, 5, empty))


def test_segment_mean_int_and_errors():
    out = tf.math.segment_mean(tf.constant([1, 4, 5, -3, -4]), [0, 0, 1, 2, 2])
    np.testing.assert_array_equal(
        out.numpy(), np.trunc(np.array([5 / 2, 5, -7 / 2])).astype(np.int32)
    )
    with pytest.raises(InvalidArgumentError, match="not increasing"):
        tf.math.segment_sum([1.0, 2.0, 3.0], [1, 0, 2])
    with pytest.raises(InvalidArgumentError):
        tf.math.segment_sum([1.0, 2.0, 3.0], [-1, 0, 2])
    with pytest.raises(InvalidArgumentError, match="same size"):
        tf.math.segment_sum([1.0, 2.0, 3.0], [0, 0])
    with pytest.raises(InvalidArgumentError, match="vector"):
        tf.math.segment_sum([[1.0, 2.0], [3.0, 4.0]], [[0, 0], [1, 1]])
    with pytest.raises(InvalidArgumentError):
        tf.math.segment_sum([1.0, 2.0], [0.0, 1.0])


def test_unsorted_segments():
    data = rng.standard_normal((2, 3, 2)).astype(np.float32)
    ids = np.array([[3, 0, -1], [3, 1, 0]])
    valid = ids >= 0
    for tf_fn, np_fn, empty in [
        (tf.math.unsorted_segment_sum, np.sum, 0.0),
        (tf.math.unsorted_segment_max, np.max, np.finfo(np.float32).min),
        (tf.math.unsorted_segment_min, np.min, np.finfo(np.float32).max),
        (tf.math.unsorted_segment_prod, np.prod, 1.0),
    ]:
        out = tf_fn(data, ids, 5)
        assert out.shape == (5, 2) and out.dtype == tf.float32
        ref = _np_segment(np_fn, data[valid][None], ids[valid][None], 5, empty)
        np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6)
    mean = tf.math.unsorted_segment_mean(tf.constant([1, 2, 3, 4]), [3, 0, 0, 3], 5)
    assert mean.dtype == tf.float64  # integer data: true division, as TF
    np.testing.assert_allclose(mean.numpy(), [2.5, 0, 0, 2.5, 0])
    sq = tf.math.unsorted_segment_sqrt_n(
        [1.0, 2.0, 3.0, 4.0], [3, 0, 0, 3], tf.constant(5, tf.int64)
    )
    np.testing.assert_allclose(sq.numpy(), [5 / math.sqrt(2), 0, 0, 5 / math.sqrt(2), 0], rtol=1e-6)
    with pytest.raises(InvalidArgumentError, match="out of range"):
        tf.math.unsorted_segment_sum([1.0, 2.0], [0, 7], 5)
    with pytest.raises(InvalidArgumentError, match="scalar"):
        tf.math.unsorted_segment_sum([1.0, 2.0], [0, 1], [5])


def test_segment_gradients():
    x = np.array([1.0, 3.0, 3.0, 2.0])
    # ties share the gradient; dropped ids get none
    np.testing.assert_allclose(
        grad(lambda t: tf.math.segment_max(t, [0, 0, 0, 1]), x), [0, 0.5, 0.5, 1]
    )
    np.testing.assert_allclose(
        grad(lambda t: tf.math.unsorted_segment_max(t, [0, 0, -1, 1], 3), x), [0, 1, 0, 1]
    )
    w = tf.constant([1.0, 2.0, 3.0], tf.float64)
    np.testing.assert_allclose(
        grad(lambda t: tf.math.unsorted_segment_sum(t, [0, 0, -1, 1], 3) * w, x), [1, 1, 0, 2]
    )
    np.testing.assert_allclose(
        grad(lambda t: tf.math.segment_mean(t, [0, 0, 0, 2]), x), [1 / 3, 1 / 3, 1 / 3, 1]
    )
    # products with zeros: one zero -> product of the others for it, 0 for the others
    z = np.array([1.5, 0.0, 3.0, 2.0, 0.0, 0.0])
    ids = [0, 0, 0, 1, 2, 2]
    np.testing.assert_allclose(
        grad(lambda t: tf.math.segment_prod(t, ids), z), [0, 4.5, 0, 1, 0, 0]
    )
    np.testing.assert_allclose(
        grad(lambda t: tf.math.unsorted_segment_prod(t, ids, 3), z), [0, 4.5, 0, 1, 0, 0]
    )


def test_add_n():
    xs = [rng.standard_normal((2, 3)) for _ in range(3)]
    np.testing.assert_allclose(tf.add_n(xs).numpy(), xs[0] + xs[1] + xs[2])
    with pytest.raises(ValueError):
        tf.add_n([])


def test_second_derivatives_logsumexp_and_top_k():
    x = tf.constant([1.0, 3.0, 2.0], tf.float64)
    v = tf.constant([1.0, 2.0, 3.0], tf.float64)
    with tf.GradientTape() as t2:
        t2.watch(x)
        with tf.GradientTape() as t1:
            t1.watch(x)
            y = tf.reduce_logsumexp(x)
        s = tf.reduce_sum(t1.gradient(y, x) * v)
    p = np.exp([1.0, 3.0, 2.0])
    p /= p.sum()
    np.testing.assert_allclose(
        t2.gradient(s, x).numpy(), (np.diag(p) - np.outer(p, p)) @ v.numpy()
    )  # Hessian @ v
    with tf.GradientTape() as t2:
        t2.watch(x)
        with tf.GradientTape() as t1:
            t1.watch(x)
            y = tf.reduce_sum(tf.math.top_k(x, 2).values * tf.math.top_k(x, 2).values)
        s = tf.reduce_sum(t1.gradient(y, x) * v)
    np.testing.assert_allclose(
        t2.gradient(s, x).numpy(), [0.0, 2 * 2.0, 2 * 3.0]
    )  # d2(x^2)=2 on the top 2


def test_l2_normalize_module_function_and_complex():
    # The public names may be bound to another module's l2_normalize; test this one directly.
    from rill.ops import reduction_ops

    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(
        reduction_ops.l2_normalize(x, axis=1).numpy(), x / np.linalg.norm(x, axis=1, keepdims=True)
    )
    np.testing.assert_allclose(
        reduction_ops.l2_normalize(x, dim=[0, 1]).numpy(), x / np.linalg.norm(x)
    )
    g = grad(lambda t: reduction_ops.l2_normalize(t, epsilon=1e-4), np.array([0.0, 0.0]))
    np.testing.assert_allclose(g, [100.0, 100.0])
    z = np.array([3 + 4j, 1j])
    np.testing.assert_allclose(
        reduction_ops.l2_normalize(z).numpy(), z / np.sqrt(np.sum(np.abs(z) ** 2))
    )
    with pytest.raises(ValueError):
        reduction_ops.l2_normalize(x, axis=0, dim=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape,axis,keepdims",
    [
        ((128, 10), None, False),
        ((128, 10), 1, True),
        ((7,), None, False),
        ((3, 4, 5), [0, 2], False),
    ],
)
def test_float_sum_and_mean_equal_numpys_bit_for_bit(dtype, shape, axis, keepdims):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    ax = tuple(axis) if isinstance(axis, list) else axis
    got_sum = tf.reduce_sum(tf.constant(x), axis=axis, keepdims=keepdims).numpy()
    got_mean = tf.reduce_mean(tf.constant(x), axis=axis, keepdims=keepdims).numpy()
    np.testing.assert_array_equal(got_sum, np.sum(x, axis=ax, keepdims=keepdims))
    np.testing.assert_array_equal(got_mean, np.mean(x, axis=ax, keepdims=keepdims))
    assert got_sum.dtype == dtype and got_mean.dtype == dtype
