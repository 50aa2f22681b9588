"""Silent wrong answers and leaked errors found by fuzzing rill against TF 2.21 (issue 12).

Each test pins TF 2.21's behaviour for one call that rill got wrong: the expected values
are derived in the test (NumPy formulas, closed forms), the expected error classes are the
ones TF raised (checked with TF itself in the differential tests at the end, which skip
without TensorFlow).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import rill as tf
from rill.errors import InvalidArgumentError, ResourceExhaustedError, UnimplementedError
from tests.tf_errors import compare_outcomes

INF, NAN = np.inf, np.nan

# --------------------------------------------------------------------------------------
# values that must be errors
# --------------------------------------------------------------------------------------


def test_sparse_dense_matmul_rejects_negative_indices():
    # a segment sum would drop the row -1 and return [[2, 2], [0, 0]]
    for idx in ([[-1, 0], [0, 1]], [[0, -1]], [[0, 2]], [[2, 0]]):
        sp = tf.sparse.SparseTensor(idx, [1.0] * len(idx), [2, 2])
        with pytest.raises(InvalidArgumentError, match="out of bounds"):
            tf.sparse.sparse_dense_matmul(sp, tf.ones([2, 2]))
    with pytest.raises(InvalidArgumentError, match="out of bounds"):
        sp = tf.sparse.SparseTensor([[0, -1]], [1.0], [2, 2])
        tf.sparse.sparse_dense_matmul(sp, tf.ones([2, 2]), adjoint_a=True)


def test_sparse_dense_matmul_valid_indices_still_multiply():
    idx, vals = [[0, 0], [1, 2], [1, 0]], [2.0, 3.0, -1.0]
    dense = np.arange(12, dtype=np.float32).reshape(3, 4)
    a = np.zeros((2, 3), np.float32)
    for (i, j), v in zip(idx, vals):
        a[i, j] += v
    got = tf.sparse.sparse_dense_matmul(tf.sparse.SparseTensor(idx, vals, [2, 3]), dense)
    np.testing.assert_allclose(got.numpy(), a @ dense)


@pytest.mark.parametrize("axes", [[2], [-3], [0, 5]])
def test_moments_rejects_out_of_range_axes(axes):
    # they used to wrap modulo the rank: axis 2 of a matrix became axis 0
    with pytest.raises(InvalidArgumentError, match="Invalid reduction dimension"):
        tf.nn.moments(tf.ones([2, 3]), axes=axes)


def test_moments_rejects_float_axes_and_keeps_valid_ones():
    with pytest.raises(InvalidArgumentError):
        tf.nn.moments(tf.ones([2, 3]), axes=[1.5])
    x = np.array([[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]], np.float32)
    m, v = tf.nn.moments(tf.constant(x), axes=[-1])
    np.testing.assert_allclose(m.numpy(), x.mean(-1), rtol=1e-6)
    np.testing.assert_allclose(v.numpy(), x.var(-1), rtol=1e-6)


@pytest.mark.parametrize(
    "m",
    [[[NAN, 1.0], [1.0, 2.0]], [[1.0, 0.0], [NAN, 2.0]], [[1.0, 0.0], [-INF, 2.0]]],
)
def test_eigh_of_nan_raises(m):
    # LAPACK returned finite-looking eigenvalues ([-1.41, 1.41] for the first matrix)
    with pytest.raises(InvalidArgumentError, match="not successful"):
        tf.linalg.eigh(tf.constant(m))
    with pytest.raises(InvalidArgumentError, match="not successful"):
        tf.linalg.eigvalsh(tf.constant(m))


def test_eigh_reads_only_the_lower_triangle():
    # a NaN above the diagonal is never read (TF and LAPACK read the lower triangle)
    e = tf.linalg.eigvalsh(tf.constant([[1.0, NAN], [1.0, 2.0]], tf.float64)).numpy()
    lower = np.array([[1.0, 1.0], [1.0, 2.0]])
    np.testing.assert_allclose(e, np.linalg.eigvalsh(lower))


def test_svd_of_non_finite_matrix_is_all_nan():
    # NaN raised "SVD did not converge"; inf gave finite singular vectors
    batch = np.array([[[INF, 1.0], [1.0, 2.0]], [[3.0, 0.0], [0.0, 2.0]]], np.float32)
    s, u, v = tf.linalg.svd(tf.constant(batch))
    assert np.isnan(s.numpy()[0]).all() and np.isnan(u.numpy()[0]).all()
    assert np.isnan(v.numpy()[0]).all()
    np.testing.assert_allclose(s.numpy()[1], [3.0, 2.0])  # the finite matrix is untouched
    s = tf.linalg.svd(tf.constant([[NAN, 1.0, 3.0], [1.0, 2.0, 3.0]]), compute_uv=False)
    assert np.isnan(s.numpy()).all() and s.shape == (2,)
    s, u, v = tf.linalg.svd(tf.constant([[NAN, 1.0, 3.0], [1.0, 2.0, 3.0]]), full_matrices=True)
    assert u.shape == (2, 2) and v.shape == (3, 3) and np.isnan(v.numpy()).all()


def test_size_out_type_string_is_a_type_error():
    with pytest.raises(TypeError):
        tf.size(tf.ones([2]), out_type=tf.string)  # was a variant tensor
    assert tf.size(tf.ones([2, 3]), out_type=tf.float32).numpy() == 6.0


def test_shape_out_type_must_be_an_int_type():
    with pytest.raises(InvalidArgumentError):
        tf.shape(tf.ones([2]), out_type=tf.float32)
    assert tf.shape(tf.ones([2, 3]), out_type=tf.int64).numpy().tolist() == [2, 3]


@pytest.mark.parametrize("axis", [1.5, 1.0])
def test_gather_float_axis_is_rejected_not_truncated(axis):
    with pytest.raises(InvalidArgumentError):
        tf.gather(tf.ones([2, 3]), [0], axis=axis)


def test_float_axes_are_rejected():
    with pytest.raises(InvalidArgumentError):
        tf.nn.softmax(tf.ones([2, 3]), axis=1.5)  # was axis 1
    with pytest.raises(TypeError):
        tf.concat([tf.ones([2])] * 2, axis=0.0)
    # TF takes an integral float (and True) as a softmax axis
    x = np.array([[1.0, 2.0], [3.0, 5.0]], np.float32)
    want = np.exp(x) / np.exp(x).sum(1, keepdims=True)
    np.testing.assert_allclose(tf.nn.softmax(x, axis=1.0).numpy(), want, rtol=1e-6)


def test_cast_to_none_is_a_type_error():
    with pytest.raises(TypeError, match="None"):
        tf.cast(tf.ones([2]), None)  # NumPy reads None as float64


def test_cast_to_or_from_string_is_unimplemented():
    with pytest.raises(UnimplementedError):
        tf.cast(tf.constant([1]), tf.string)
    with pytest.raises(UnimplementedError):
        tf.cast(tf.constant(["1"]), tf.int32)


def test_negative_scalar_repeat_count_raises():
    with pytest.raises(InvalidArgumentError, match="repeats"):
        tf.repeat(tf.ones([2]), -1)  # was an empty result
    with pytest.raises(InvalidArgumentError, match="repeats"):
        tf.repeat(tf.ones([2, 2]), -1, axis=0)
    # a negative count per element repeats that element zero times, as in TF
    got = tf.repeat(tf.constant([1.0, 2.0, 3.0]), [1, -1, 2])
    np.testing.assert_array_equal(got.numpy(), np.repeat([1.0, 2.0, 3.0], [1, 0, 2]))


def test_bincount_negative_maxlength_raises():
    with pytest.raises(InvalidArgumentError, match="non-negative"):
        tf.math.bincount(tf.constant([1, 2]), maxlength=-1)  # was an empty result
    with pytest.raises(InvalidArgumentError, match="non-negative"):
        tf.math.bincount(tf.constant([], tf.int32), maxlength=-1)
    # a negative minlength is ignored
    got = tf.math.bincount(tf.constant([1, 2, 2]), minlength=-1)
    np.testing.assert_array_equal(got.numpy(), np.bincount([1, 2, 2]))


@pytest.mark.parametrize(
    "shape,k,s",
    [([1, 2, 2, 1], 4, 1), ([1, 1, 1, 1], 5, 2), ([0, 0, 0, 0], 2, 1)],
)
def test_pooling_window_overhanging_the_input_raises(shape, k, s):
    # TF's output size (n - k + s) / s, truncated toward zero, is negative here
    for pool in (tf.nn.max_pool2d, tf.nn.avg_pool2d):
        with pytest.raises(InvalidArgumentError, match="output size would be negative"):
            pool(tf.ones(shape), k, s, "VALID")


def test_pooling_window_one_past_the_input_gives_an_empty_result():
    # (2 - 3 + 1) / 1 = 0: an empty output, as in TF; SAME padding keeps the input size
    assert tf.nn.max_pool2d(tf.ones([1, 2, 2, 1]), 3, 1, "VALID").shape == (1, 0, 0, 1)
    assert tf.nn.max_pool2d(tf.ones([1, 2, 2, 1]), 4, 1, "SAME").shape == (1, 2, 2, 1)


def test_clip_by_norm_negative_norm_counts_as_zero():
    # t * c / max(norm, c) with c = -1 flipped the sign: [-0.6, -0.8]
    np.testing.assert_array_equal(tf.clip_by_norm(tf.constant([3.0, 4.0]), -1.0).numpy(), [0, 0])
    got = tf.clip_by_norm(tf.constant([3.0, 4.0]), tf.constant(-10.0))
    np.testing.assert_array_equal(got.numpy(), [0.0, 0.0])
    # a per-element bound: [max(-1, 0), 2] -> t * c / max(5, c)
    got = tf.clip_by_norm(tf.constant([3.0, 4.0]), [-1.0, 2.0]).numpy()
    np.testing.assert_allclose(got, np.array([3.0, 4.0]) * np.array([0.0, 2.0]) / 5.0)


def test_linspace_endpoints_are_exact_even_when_infinite():
    # start + 0 * inf was NaN
    np.testing.assert_array_equal(tf.linspace(0.0, INF, 3).numpy(), [0.0, INF, INF])
    np.testing.assert_array_equal(tf.linspace(-INF, 0.0, 3).numpy(), [-INF, NAN, 0.0])
    np.testing.assert_array_equal(tf.linspace(0.0, NAN, 3).numpy(), [0.0, NAN, NAN])
    np.testing.assert_allclose(tf.linspace(1.0, 2.0, 5).numpy(), np.linspace(1.0, 2.0, 5))


def test_softmax_of_inf_is_nan_like_tf():
    # exp(inf - inf) is NaN in TF's stable softmax: every entry of the row is NaN
    assert np.isnan(tf.nn.softmax(tf.constant([INF, 1.0])).numpy()).all()
    np.testing.assert_array_equal(tf.nn.softmax(tf.constant([-INF, 1.0])).numpy(), [0.0, 1.0])


@pytest.mark.parametrize("axis", [0, -1, None])
def test_argmax_of_a_scalar_raises(axis):
    for f in (tf.argmax, tf.argmin):
        with pytest.raises(InvalidArgumentError, match=r"range \[0, 0\)"):
            f(tf.constant(3.0), axis=axis)


@pytest.mark.parametrize(
    "value",
    [[1, "a"], ["a", 1], [1.5, "a"], [True, 1], [True, 1.5], [1, 1j], [b"a", 1], [[1], ["a"]]],
)
def test_constant_of_mixed_types_is_a_value_error(value):
    with pytest.raises(ValueError, match="mixed"):
        tf.constant(value)  # [1, "a"] was [b"1", b"a"]


def test_constant_of_uniform_types_still_converts():
    assert tf.constant([1, 2.5]).dtype == tf.float32
    assert tf.constant([[True], [False]]).dtype == tf.bool
    assert tf.constant(["a", b"b"]).dtype == tf.string
    assert tf.constant([np.float32(1), 2]).dtype == tf.float32


def test_broadcast_to_checks_the_size_of_its_result():
    # it returned a zero-stride view of 2**40 elements, which a reduction then walked
    with pytest.raises(ResourceExhaustedError, match="OOM"):
        tf.broadcast_to(tf.constant(1.0), [2**20, 2**20])
    with pytest.raises(InvalidArgumentError, match="2\\*\\*63 - 1"):
        tf.broadcast_to(tf.constant(1.0), [2**62, 4])
    np.testing.assert_array_equal(
        tf.broadcast_to(tf.constant([1, 2]), [3, 2]).numpy(), np.broadcast_to([1, 2], (3, 2))
    )


# --------------------------------------------------------------------------------------
# leaked errors and allocation failures
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: tf.constant(1.0, shape=[2**40]),
        lambda: tf.zeros([2**40]),
        lambda: tf.fill([2**40], 1.0),
        lambda: tf.ones([2**62]),
        lambda: tf.range(2**40),
        lambda: tf.tile(tf.ones([2]), [2**40]),
    ],
)
def test_allocation_failures_are_resource_exhausted(make):
    # a bare MemoryError, or an InvalidArgumentError carrying NumPy's message, before
    with pytest.raises(ResourceExhaustedError) as e:
        make()
    assert "Unable to allocate" not in str(e.value) and "array is too big" not in str(e.value)


def test_element_count_past_int64_is_invalid_argument():
    with pytest.raises(InvalidArgumentError, match="2\\*\\*63 - 1"):
        tf.ones([2**62, 4])


def test_constant_shape_argument_errors_are_tfs():
    with pytest.raises(ValueError, match="Dimension -2 must be >= 0"):
        tf.constant(1.0, shape=[-2])  # was NumPy's "negative dimensions are not allowed"
    for bad in (["a"], [1.5]):
        with pytest.raises(TypeError, match="Dimension value must be integer"):
            tf.constant(1.0, shape=bad)  # was an int() conversion error
    assert tf.constant(1.0, shape=5).shape == (5,)


def test_scatter_nd_of_strings_concatenates():
    # NumPy tried 0 + b"a"
    got = tf.scatter_nd([[0], [0], [2]], tf.constant(["a", "b", "c"]), [3])
    assert got.numpy().tolist() == [b"ab", b"", b"c"]


def test_gather_nd_into_empty_params_raises():
    with pytest.raises(InvalidArgumentError, match="params is empty"):
        tf.gather_nd(tf.ones([0]), tf.zeros([0], tf.int32))


def test_unsorted_segment_negative_count_raises():
    with pytest.raises(InvalidArgumentError, match="non-negative"):
        tf.math.unsorted_segment_sum(tf.ones([0]), tf.zeros([0], tf.int32), -1)


def test_float_floordiv_is_floor_of_the_quotient():
    # NumPy's floor_divide gives nan for inf // 1, -1 for -5 // inf and 9 for 1 // 0.1
    x = np.array([INF, -INF, 5.0, -5.0, 1.0, 1.0, 7.0], np.float32)
    y = np.array([1.0, 2.0, INF, INF, 0.0, 0.1, -2.0], np.float32)
    with np.errstate(divide="ignore"):
        want = np.floor(x / y)
    np.testing.assert_array_equal(tf.math.floordiv(x, y).numpy(), want)


# --------------------------------------------------------------------------------------
# valid inputs that were rejected
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "in_shape,target,want",
    [
        ([0, 3], [-1, 0], (3, 0)),
        ([0, 3], [0, -1], (0, 3)),
        ([3, 0, 2], [2, -1, 0], (2, 3, 0)),
        ([0], [-1, 0, 5], (0, 0, 5)),
    ],
)
def test_reshape_infers_minus_one_next_to_a_zero_dim(in_shape, target, want):
    # TF leaves zero dims out of both products: -1 is the product of the non-zero input dims
    # divided by that of the non-zero target dims
    nz_in = int(np.prod([d for d in in_shape if d]))
    nz_t = int(np.prod([d for d in target if d > 0]))
    assert nz_in // nz_t in want
    assert tf.reshape(tf.ones(in_shape), target).shape == want


def test_reshape_of_a_non_empty_tensor_to_a_zero_dim_raises():
    with pytest.raises(InvalidArgumentError):
        tf.reshape(tf.ones([2, 3]), [-1, 0])


@pytest.mark.parametrize(
    "pool,shape,want",
    [
        (lambda x: tf.nn.max_pool2d(x, 2, 2, "VALID"), [1, 4, 4, 0], (1, 2, 2, 0)),
        (lambda x: tf.nn.avg_pool2d(x, 2, 2, "SAME"), [1, 4, 4, 0], (1, 2, 2, 0)),
        (lambda x: tf.nn.max_pool3d(x, 2, 2, "VALID"), [1, 2, 2, 2, 0], (1, 1, 1, 1, 0)),
        (lambda x: tf.nn.max_pool1d(x, 2, 2, "VALID"), [2, 0, 1], (2, 0, 1)),
    ],
)
def test_pooling_of_empty_dimensions(pool, shape, want):
    # NumPy could not infer the -1 of reshape((-1, 4, 4, 0))
    assert pool(tf.ones(shape)).shape == want


@pytest.mark.parametrize(
    "call,want",
    [
        (lambda: tf.math.segment_sum(tf.ones([2, 0]), [0, 1]), (2, 0)),
        (lambda: tf.math.segment_mean(tf.ones([2, 0]), [0, 1]), (2, 0)),
        (lambda: tf.math.segment_max(tf.ones([2, 0]), [0, 1]), (2, 0)),
        (lambda: tf.math.unsorted_segment_sum(tf.ones([2, 0]), [0, 1], 3), (3, 0)),
        (lambda: tf.math.unsorted_segment_mean(tf.ones([2, 0, 3]), [0, 1], 3), (3, 0, 3)),
        (lambda: tf.math.unsorted_segment_prod(tf.ones([2, 2, 0]), [[0, 1], [1, 1]], 3), (3, 0)),
    ],
)
def test_segment_ops_of_empty_dimensions(call, want):
    assert call().shape == want


# --------------------------------------------------------------------------------------
# retracing warnings
# --------------------------------------------------------------------------------------


def test_retracing_warns_a_bounded_number_of_times():
    f = tf.function(lambda x: x + 1)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        for n in range(1, 201):
            f(tf.ones([2, n]))
    msgs = [str(w.message) for w in rec if issubclass(w.category, tf.tracing.RetracingWarning)]
    assert f.experimental_get_tracing_count() == 200
    assert len(msgs) == 2  # TF prints 2 for 1,000 retraces
    assert "argument 'x': shape (2, 5) -> (2, 6)" in msgs[0]
    assert "shape (2, 6) -> (2, 7)" in msgs[1] and "silenced" in msgs[1]


def test_retracing_warnings_are_counted_per_function():
    f, g = tf.function(lambda x: x * 2), tf.function(lambda x: x * 3)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        for n in range(1, 12):
            f(tf.ones([n]))
            g(tf.ones([n]))
    assert sum(issubclass(w.category, tf.tracing.RetracingWarning) for w in rec) == 4


# --------------------------------------------------------------------------------------
# the same calls under TensorFlow (skipped without it)
# --------------------------------------------------------------------------------------

DIFFERENTIAL = [
    "tf.sparse.sparse_dense_matmul(tf.sparse.SparseTensor([[-1, 0], [0, 1]], [1., 2.], [2, 2]), tf.ones([2, 2]))",
    "tf.nn.moments(tf.ones([2, 3]), axes=[2])[0]",
    "tf.linalg.eigh(tf.constant([[np.nan, 1.], [1., 2.]]))[0]",
    "tf.linalg.svd(tf.constant([[np.inf, 1.], [1., 2.]]))[1]",
    "tf.size(tf.ones([2]), out_type=tf.string)",
    "tf.gather(tf.ones([2, 3]), [0], axis=1.5)",
    "tf.cast(tf.ones([2]), None)",
    "tf.repeat(tf.ones([2]), -1)",
    "tf.math.bincount(tf.constant([1, 2]), maxlength=-1)",
    "tf.nn.max_pool2d(tf.ones([1, 2, 2, 1]), 4, 1, 'VALID')",
    "tf.nn.max_pool2d(tf.ones([1, 2, 2, 1]), 3, 1, 'VALID')",
    "tf.clip_by_norm(tf.constant([3., 4.]), -1.)",
    "tf.linspace(0., np.inf, 3)",
    "tf.nn.softmax(tf.constant([np.inf, 1.]))",
    "tf.argmax(tf.constant(3.), axis=0)",
    "tf.constant([1, 'a'])",
    "tf.constant([True, 1])",
    "tf.broadcast_to(tf.constant(1.), [2**20, 2**20])",
    "tf.broadcast_to(tf.constant(1.), [2**62, 4])",
    "tf.zeros([2**40])",
    "tf.ones([2**62, 4])",
    "tf.reshape(tf.ones([0, 3]), [-1, 0])",
    "tf.nn.max_pool2d(tf.ones([1, 4, 4, 0]), 2, 2, 'VALID')",
    "tf.math.segment_sum(tf.ones([2, 0]), [0, 1])",
    "tf.math.unsorted_segment_sum(tf.ones([2, 0]), [0, 1], 3)",
    "tf.scatter_nd([[0], [0]], tf.constant(['a', 'b']), [2])",
    "tf.math.floordiv(tf.constant([np.inf, -5., 1.]), tf.constant([1., np.inf, .1]))",
    "tf.cast(tf.constant([1]), tf.string)",
    "tf.stack([tf.constant(0.), tf.constant(0., tf.float64)])",
    "tf.stack([tf.constant(0.), tf.constant(0.)], axis=1)",
]


@pytest.mark.parametrize("expr", DIFFERENTIAL)
def test_matches_tensorflow(expr):
    real = pytest.importorskip("tensorflow")

    def outcome(lib):
        try:
            r = eval(expr, {"tf": lib, "np": np})  # noqa: S307 - the expressions above
            return ("value", r)
        except Exception as e:  # noqa: BLE001
            return ("raise", e)

    r, t = outcome(tf), outcome(real)
    if compare_outcomes(r, t, expr):
        return
    rv, tv = r[1].numpy(), t[1].numpy()
    assert r[1].dtype.name == t[1].dtype.name and rv.shape == tv.shape, expr
    if rv.dtype.kind in "fc":
        np.testing.assert_allclose(rv, tv, rtol=1e-6, equal_nan=True, err_msg=expr)
    else:
        np.testing.assert_array_equal(rv, tv, err_msg=expr)
