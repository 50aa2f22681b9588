"""Lowerings of rill/ops/lowering_linalg.py and lowering_math.py under
``tf.function(jit_compile=True)``: integer and float division, diagonals, decompositions
and solvers, sequence, histogram, bit and window ops, integer samplers. Each compiled function takes its tensors as ARGUMENTS (traced,
never folded as constants) and must give the executor's values (the same function without
jit_compile), and gradients taken with a GradientTape inside it the executor's gradients."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("jax")

import rill as tf  # noqa: E402
from rill.errors import InvalidArgumentError  # noqa: E402


def _compiled(fn, *args):
    """``fn`` compiled on ``args``, checked to run as one XLA computation."""
    f = tf.function(fn, jit_compile=True)
    out = f(*args)
    assert f.get_concrete_function(*args)._plan.xla is not None
    return out


def _both(fn, *args):
    """(XLA result, executor result) of ``fn`` on ``args``."""
    return _compiled(fn, *args), tf.function(fn)(*args)


def _close(got, want, tol=1e-6):
    for g, w in zip(tf.nest.flatten(got), tf.nest.flatten(want)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, w.dtype, g.shape, w.shape)
        if w.dtype.kind in "fc":
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol)
        else:
            np.testing.assert_array_equal(g, w)


def _value_and_grads(op, *args):
    """``op(*args)`` and the gradient of a weighted sum of its outputs with respect to each
    float argument (weights distinct per element, so every entry of dy counts)."""
    with tf.GradientTape() as tape:
        for a in args:
            if a.dtype.is_floating or a.dtype.is_complex:
                tape.watch(a)
        outs = op(*args)
        loss = tf.constant(0.0, tf.float64)
        for o in tf.nest.flatten(outs):
            if o.dtype.is_floating:
                w = tf.reshape(tf.cast(tf.range(tf.size(o)), o.dtype), tf.shape(o)) / 7.0 + 1.0
                loss = loss + tf.cast(tf.reduce_sum(o * w), tf.float64)
    wrt = [a for a in args if a.dtype.is_floating]
    return outs, tape.gradient(loss, wrt)


_rng = np.random.default_rng(0)


def _rnd(*shape, dtype=np.float64):
    return tf.constant(_rng.standard_normal(shape).astype(dtype))


# division -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32])
def test_floor_and_truncate_division_with_negative_operands(dtype):
    info = np.iinfo(dtype) if np.dtype(dtype).kind == "i" else None
    xs = [7, -7, 6, -6, 0, 5, -5, 1, -1, 13]
    ys = [2, 2, -4, -4, 3, -5, -5, 3, -3, -1]
    if info is not None:  # INT_MIN and INT_MAX over both signs (INT_MIN / -1 wraps)
        xs += [info.min, info.min, info.min, info.max, info.max, info.min + 1]
        ys += [3, -3, -1, -2, 7, -1]
    x, y = tf.constant(np.array(xs, dtype)), tf.constant(np.array(ys, dtype))

    def f(x, y):
        return x // y, tf.math.floordiv(x, y), tf.truncatediv(x, y), tf.truncatediv(y, x + 100)

    got, want = _both(f, x, y)
    _close(got, want)
    # the executor's numbers are the mathematical ones (no wrapping except INT_MIN / -1)
    q_floor = [a // b for a, b in zip(xs, ys)]
    q_trunc = [int(a / b) if abs(a) < 2**52 else -(-a // b) if (a < 0) != (b < 0) else a // b
               for a, b in zip(xs, ys)]  # fmt: skip
    if info is not None:
        wrap = lambda v: (v - info.min) % 2 ** (8 * np.dtype(dtype).itemsize) + info.min  # noqa: E731
        q_floor, q_trunc = [wrap(v) for v in q_floor], [wrap(v) for v in q_trunc]
    np.testing.assert_array_equal(got[0].numpy(), np.array(q_floor, dtype))
    np.testing.assert_array_equal(got[2].numpy(), np.array(q_trunc, dtype))


def test_float_floor_division_special_values():
    x = tf.constant(np.array([np.inf, -5.0, 1.0, -1.0, 0.0, np.nan, 3.0], np.float32))
    y = tf.constant(np.array([1.0, np.inf, 0.1, 0.0, 0.0, 1.0, -0.0], np.float32))
    got, want = _both(lambda x, y: (x // y, tf.truncatediv(x, y)), x, y)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), w.numpy())


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8])
def test_integer_division_by_zero_follows_xla(dtype):
    """The executor raises; compiled code cannot, and gives TF's XLA numbers: x / 0 is -1
    (all bits set), so truncatediv(x, 0) is -1 and floordiv(x, 0) is -1 for x >= 0 and
    -2 for x < 0 (the quotient -1 rounded down where the signs differ)."""
    xs = [5, 0, 3] if dtype == np.uint8 else [5, 0, -3]
    x = tf.constant(np.array(xs, dtype))
    y = tf.constant(np.zeros(3, dtype))
    fd, td = _compiled(lambda x, y: (tf.math.floordiv(x, y), tf.truncatediv(x, y)), x, y)
    minus_one = np.array(-1).astype(dtype)  # the largest value of an unsigned type
    want_floor = [minus_one] * 3 if dtype == np.uint8 else [-1, -1, -2]
    np.testing.assert_array_equal(fd.numpy(), np.array(want_floor, dtype))
    np.testing.assert_array_equal(td.numpy(), np.full(3, minus_one, dtype))
    with pytest.raises(InvalidArgumentError, match="division by zero"):
        tf.function(lambda x, y: x // y)(x, y)


# diagonals ------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [0, 1, -2])
def test_diag_set_diag_and_diag_part_with_offsets(k):
    m = _rnd(2, 4, 5)
    n = min(4 + min(k, 0), 5 - max(k, 0))
    d = _rnd(2, n)

    def f(m, d):
        return (
            tf.linalg.diag(d, k=k),
            tf.linalg.diag(d, k=k, num_rows=4, num_cols=5, padding_value=0.5),
            tf.linalg.set_diag(m, d, k=k),
            tf.linalg.diag_part(m, k=k),
        )

    got, want = _both(lambda m, d: _value_and_grads(f, m, d), m, d)
    _close(got, want)


# decompositions -------------------------------------------------------------------------


def _signs_fixed(u):
    """``u`` with each column's largest entry made positive (a sign-free form)."""
    u = np.asarray(u)
    idx = np.argmax(np.abs(u), axis=-2)[..., None, :]
    s = np.sign(np.take_along_axis(u, idx, axis=-2))
    return u * np.where(s == 0, 1, s)


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (3, 3)])
@pytest.mark.parametrize("full_matrices", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_svd_values_and_gradient(shape, full_matrices, dtype):
    x = _rnd(*shape, dtype=dtype)
    tol = 1e-4 if dtype == np.float32 else 1e-9

    def f(x):
        s, u, v = tf.linalg.svd(x, full_matrices=full_matrices)
        s_only = tf.linalg.svd(x, compute_uv=False)
        return s, u, v, s_only

    got, want = _both(f, x)
    _close(got[0], want[0], tol)
    _close(got[3], want[3], tol)
    k = min(shape[-2:])
    for g, w in zip(got[1:3], want[1:3]):  # the singular vectors, up to a shared sign
        np.testing.assert_allclose(_signs_fixed(g)[..., :k], _signs_fixed(w)[..., :k], atol=tol)
    u, v = got[1].numpy()[..., :k], got[2].numpy()[..., :k]
    recon = np.einsum("...ik,...k,...jk->...ij", u, got[0].numpy(), v)
    np.testing.assert_allclose(recon, x.numpy(), atol=tol)

    if full_matrices and shape[-1] != shape[-2]:
        return  # no gradient there (TF's rule neither)

    def loss_grad(x):  # a loss that does not see the vectors' signs
        with tf.GradientTape() as tape:
            tape.watch(x)
            s, u, v = tf.linalg.svd(x, full_matrices=full_matrices)
            w = tf.range(1.0, k + 1.0, dtype=x.dtype)
            loss = tf.reduce_sum(s * w) + tf.reduce_sum(u[..., :k] ** 2 * w)
            loss = loss + tf.reduce_sum(tf.linalg.svd(x, compute_uv=False) ** 2)
        return tape.gradient(loss, x)

    got, want = _both(loss_grad, x)
    _close(got, want, 1e-3 if dtype == np.float32 else 1e-8)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128, np.float32, np.complex64])
def test_eigh_values_vectors_and_gradient(dtype):
    a = _rng.standard_normal((2, 4, 4))
    if np.dtype(dtype).kind == "c":
        a = a + 1j * _rng.standard_normal((2, 4, 4))
    a = tf.constant((a + np.conj(np.swapaxes(a, -1, -2))).astype(dtype))
    tol = 1e-9 if dtype in (np.float64, np.complex128) else 1e-4
    # the upper triangle is never read: garbage there must not change anything
    noisy = tf.constant(a.numpy() + np.triu(np.full((4, 4), 100.0), 1).astype(dtype))

    def f(x):
        e, v = tf.linalg.eigh(x)
        return e, v, tf.linalg.eigvalsh(x)

    got, want = _both(f, noisy)
    _close(got[0], want[0], tol)
    _close(got[2], want[2], tol)
    v_got, v_want = got[1].numpy(), want[1].numpy()
    # eigenvectors up to a unit phase per column (signs may differ from NumPy's in float32)
    phase = np.sum(np.conj(v_want) * v_got, axis=-2, keepdims=True)
    np.testing.assert_allclose(np.abs(phase), 1.0, atol=tol)
    np.testing.assert_allclose(v_got, v_want * phase, atol=tol)

    if np.dtype(dtype).kind == "c":
        return

    def loss_grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            e, v = tf.linalg.eigh(x)
            w = tf.constant([1.0, 2.0, 3.0, 4.0], x.dtype)
            loss = tf.reduce_sum(e * w) + tf.reduce_sum(v**2 * w)
        return tape.gradient(loss, x)

    got, want = _both(loss_grad, noisy)
    _close(got, want, 1e-3 if dtype == np.float32 else 1e-8)


def test_eigh_of_a_nan_matrix_is_nan_where_the_executor_raises():
    x = tf.constant(np.array([[[1.0, 0.0], [np.nan, 1.0]], [[2.0, 0.0], [0.0, 3.0]]]))
    e, v = _compiled(lambda x: tf.linalg.eigh(x), x)
    assert np.isnan(e.numpy()[0]).all() and np.isnan(v.numpy()[0]).all()
    np.testing.assert_allclose(e.numpy()[1], [2.0, 3.0])


@pytest.mark.parametrize(
    "dtype, idx", [(np.float64, tf.int32), (np.float32, tf.int64), (np.complex128, tf.int32)]
)
def test_lu_values_permutation_and_gradient(dtype, idx):
    a = _rng.standard_normal((3, 4, 4))
    if dtype == np.complex128:
        a = a + 1j * _rng.standard_normal((3, 4, 4))
    a[1, :, 0] = [0.5, -2.0, 2.0, 1.0]  # a tie for the first pivot: the first one wins
    x = tf.constant(a.astype(dtype))

    def f(x):
        lu, p = tf.linalg.lu(x, output_idx_type=idx)
        return lu, p, tf.linalg.lu_reconstruct(lu, p)

    got, want = _both(f, x)
    tol = 1e-5 if dtype == np.float32 else 1e-10
    _close(got, want, tol)
    np.testing.assert_allclose(got[2].numpy(), a.astype(dtype), rtol=tol * 10, atol=tol * 10)
    if dtype == np.float64:
        got, want = _both(lambda x: _value_and_grads(lambda v: tf.linalg.lu(v).lu, x), x)
        _close(got, want, 1e-9)


@pytest.mark.parametrize("scale", [0.5, 30.0])  # 30: several squarings, unequal per matrix
def test_expm_values_and_gradient(scale):
    a = _rng.standard_normal((3, 3, 3)) * np.array([scale, 1.0, 0.1])[:, None, None]
    x = tf.constant(a)
    got, want = _both(lambda x: _value_and_grads(tf.linalg.expm, x), x)
    _close(got[0], want[0], 1e-9 * max(1.0, np.abs(want[0].numpy()).max()))
    _close(got[1], want[1], 1e-7 * max(1.0, np.abs(want[1][0].numpy()).max()))
    c = tf.constant(
        (_rng.standard_normal((2, 2)) + 1j * _rng.standard_normal((2, 2))).astype(np.complex64)
    )
    got, want = _both(tf.linalg.expm, c)
    _close(got, want, 1e-5)


@pytest.mark.parametrize("pivoting, perturb", [(True, False), (False, False), (True, True)])
def test_tridiagonal_solve_values_and_gradient(pivoting, perturb):
    diags = _rnd(2, 3, 6)
    if perturb:  # a singular system: perturb_singular replaces the zero pivot
        d = diags.numpy().copy()
        d[0, :, 2] = 0.0
        d[0, 2, 3] = 0.0
        diags = tf.constant(d)
    rhs = _rnd(2, 6, 3)

    def solve(d, r):
        return tf.linalg.tridiagonal_solve(
            d, r, partial_pivoting=pivoting, perturb_singular=perturb
        )

    got, want = _both(lambda d, r: _value_and_grads(solve, d, r), diags, rhs)
    _close(got, want, 1e-8 * max(1.0, np.abs(want[0].numpy()).max()))
    # a batch of vectors, broadcast diagonals, the 'sequence' format
    vec = _rnd(6)
    seq = [tf.constant(diags.numpy()[0, i]) for i in range(3)]

    def g(s0, s1, s2, v):
        return tf.linalg.tridiagonal_solve([s0, s1, s2], v, diagonals_format="sequence",
                                           partial_pivoting=pivoting)  # fmt: skip

    if not perturb:
        got, want = _both(g, *seq, vec)
        _close(got, want, 1e-9)
    one = _rnd(1, 3, 1)  # a 1x1 system
    got, want = _both(lambda d, r: tf.linalg.tridiagonal_solve(d, r), one, _rnd(1, 1, 2))
    _close(got, want)


# permutations, sequences, histograms ---------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_invert_permutation(dtype):
    p = tf.constant(_rng.permutation(9).astype(dtype))
    got, want = _both(tf.math.invert_permutation, p)
    _close(got, want)


@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted(side):
    seq = tf.constant(np.sort(np.round(_rng.standard_normal((2, 3, 7)), 1), axis=-1))
    vals = tf.constant(np.concatenate([seq.numpy()[..., :2], _rng.standard_normal((2, 3, 4))], -1))

    def f(s, v):
        return tf.searchsorted(s, v, side=side), tf.searchsorted(s, v, side=side, out_type=tf.int64)

    got, want = _both(f, seq, vals)
    _close(got, want)


@pytest.mark.parametrize("seq_axis, batch_axis", [(1, 0), (0, 1), (2, 0)])
def test_reverse_sequence_with_traced_lengths(seq_axis, batch_axis):
    shape = [3, 4, 5]
    x = _rnd(*shape)
    lengths = tf.constant(np.array([0, 2, shape[seq_axis], 1][: shape[batch_axis]], np.int64))

    def f(x, n):
        return _value_and_grads(lambda v: tf.reverse_sequence(v, n, seq_axis, batch_axis), x)

    got, want = _both(f, x, lengths)
    _close(got, want)


def test_histogram_fixed_width_and_bins():
    values = tf.constant(np.array([-1.0, 0.0, 0.5, 1.9, 2.0, 4.99, 5.0, 7.0, 2.5], np.float32))
    rng = tf.constant(np.array([0.0, 5.0], np.float32))

    def f(v, r):
        return (
            tf.histogram_fixed_width(v, r, nbins=5),
            tf.histogram_fixed_width(v, r, nbins=3, dtype=tf.int64),
            tf.histogram_fixed_width_bins(v, r, nbins=4),
        )

    got, want = _both(f, values, rng)
    _close(got, want)
    ints = tf.constant(np.array([3, 9, 0, 12, 5], np.int32))
    got, want = _both(lambda v, r: tf.histogram_fixed_width(v, r, nbins=4), ints,
                      tf.constant(np.array([0, 10], np.int32)))  # fmt: skip
    _close(got, want)


# bits -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "src, dst, shape",
    [
        (np.float32, tf.int32, (2, 3)),
        (np.int32, tf.int16, (2, 3)),  # adds a last dimension of 2
        (np.int16, tf.int64, (3, 4)),  # consumes a last dimension of 4
        (np.uint8, tf.float32, (2, 4)),
        (np.float64, tf.uint8, (3,)),
        (np.complex64, tf.float32, (3,)),
        (np.complex64, tf.int64, (2,)),
        (np.float32, tf.complex64, (3, 2)),
        (np.int8, tf.uint8, (5,)),
    ],
)
def test_bitcast(src, dst, shape):
    raw = _rng.integers(0, 256, size=int(np.prod(shape)) * np.dtype(src).itemsize, dtype=np.uint8)
    x = raw.view(src).reshape(shape)
    if np.dtype(src).kind in "fc":
        x = np.nan_to_num(x)  # finite bits, so NaN payloads need not survive the trip
    got, want = _both(lambda v: tf.bitcast(v, dst), tf.constant(x))
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got.numpy().view(np.uint8), want.numpy().view(np.uint8))


# pads, repeats, windows -----------------------------------------------------------------


@pytest.mark.parametrize("mode", ["REFLECT", "SYMMETRIC"])
def test_mirror_pad_gradient(mode):
    x = _rnd(2, 4, 5)
    pads = [[0, 1], [3, 2], [1, 4]] if mode == "SYMMETRIC" else [[1, 1], [3, 2], [2, 4]]
    got, want = _both(lambda v: _value_and_grads(lambda t: tf.pad(t, pads, mode=mode), v), x)
    _close(got, want)


@pytest.mark.parametrize("repeats, axis", [([2, 0, 3, 1], 0), (3, 1), ([1, 2, 1], 1), (2, None)])
def test_repeat_and_its_gradient(repeats, axis):
    x = _rnd(4, 3)
    got, want = _both(lambda v: _value_and_grads(lambda t: tf.repeat(t, repeats, axis=axis), v), x)
    _close(got, want)


@pytest.mark.parametrize(
    "shape, sizes, strides, rates, padding",
    [
        ((2, 7, 6, 3), [1, 3, 2, 1], [1, 2, 1, 1], [1, 1, 1, 1], "VALID"),
        ((1, 6, 7, 2), [1, 3, 3, 1], [1, 2, 2, 1], [1, 1, 1, 1], "SAME"),
        ((2, 8, 8, 1), [1, 2, 3, 1], [1, 1, 2, 1], [1, 2, 2, 1], "SAME"),
        ((1, 5, 5, 2), [1, 2, 2, 1], [1, 2, 2, 1], [1, 1, 1, 1], "VALID"),  # no overlap
    ],
)
def test_extract_patches_and_gradient(shape, sizes, strides, rates, padding):
    x = _rnd(*shape)

    def patches(v):
        return tf.image.extract_patches(v, sizes, strides, rates, padding)

    got, want = _both(lambda v: _value_and_grads(patches, v), x)
    _close(got, want)
    ints = tf.constant(_rng.integers(-9, 9, shape).astype(np.int32))
    got, want = _both(patches, ints)
    _close(got, want)


def test_extract_volume_patches():
    x = _rnd(1, 4, 5, 4, 2)
    f = lambda v: tf.extract_volume_patches(v, [1, 2, 3, 2, 1], [1, 1, 2, 2, 1], "SAME")  # noqa: E731
    got, want = _both(lambda v: _value_and_grads(f, v), x)
    _close(got, want)


@pytest.mark.parametrize(
    "shape, ksize, strides, padding, data_format",
    [
        ((2, 6, 6, 2), 2, 2, "VALID", "NHWC"),
        ((1, 5, 7, 2), 3, 2, "SAME", "NHWC"),
        ((1, 2, 5, 6), [2, 3], [2, 1], "SAME", "NCHW"),
        ((2, 9, 2), 3, 2, "VALID", "NWC"),
    ],
)
@pytest.mark.parametrize("ties", [False, True])
def test_max_pool_second_derivative(shape, ksize, strides, padding, data_format, ties):
    """d/dw of <MaxPoolGrad(x, w), c>: MaxPoolGradGrad, each window's first maximum."""
    a = _rng.standard_normal(shape)
    x = tf.constant(np.round(a) if ties else a)

    def f(x, w):
        with tf.GradientTape() as outer:
            outer.watch(w)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = tf.nn.max_pool(x, ksize, strides, padding, data_format=data_format)
                loss = tf.reduce_sum(y * w)
            g = inner.gradient(loss, x)
            c = tf.reshape(tf.cast(tf.range(tf.size(g)), g.dtype), tf.shape(g)) / 5.0
            second = tf.reduce_sum(g * c)
        return g, outer.gradient(second, w)

    y_shape = tf.nn.max_pool(x, ksize, strides, padding, data_format=data_format).shape
    w = _rnd(*y_shape)
    got, want = _both(f, x, w)
    _close(got, want)


# integer random samplers ----------------------------------------------------------------


def test_random_uniform_int_is_in_range_and_fresh_per_call():
    lo, hi = tf.constant(-3), tf.constant(5)
    f = tf.function(
        lambda lo, hi: tf.random.uniform([64, 8], lo, hi, dtype=tf.int32), jit_compile=True
    )
    a, b = f(lo, hi).numpy(), f(lo, hi).numpy()
    assert f.get_concrete_function(lo, hi)._plan.xla is not None
    assert a.dtype == np.int32 and a.shape == (64, 8)
    assert a.min() >= -3 and a.max() < 5 and len(np.unique(a)) == 8
    assert not np.array_equal(a, b)  # a new key each execution, as the executor draws anew
    lo64 = tf.constant(np.int64(10**12))
    c = _compiled(lambda lo: tf.random.uniform([100], lo, lo + 7, dtype=tf.int64, seed=3), lo64)
    assert c.dtype == tf.int64 and c.numpy().min() >= 10**12 and c.numpy().max() < 10**12 + 7


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64, tf.uint32, tf.uint64])
def test_stateless_full_int_is_deterministic_and_covers_the_range(dtype):
    seed = tf.constant([7, 11], tf.int32)
    f = lambda s: tf.random.stateless_uniform([4096], s, minval=None, maxval=None, dtype=dtype)  # noqa: E731
    a, b = _compiled(f, seed).numpy(), _compiled(f, seed).numpy()
    other = _compiled(f, tf.constant([7, 12], tf.int32)).numpy()
    assert a.dtype == dtype.as_numpy_dtype and a.shape == (4096,)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, other)
    info = np.iinfo(a.dtype)
    span = float(info.max) - float(info.min)
    # the whole range is drawn: the extreme tenths both appear, signs both ways if signed
    assert a.min() < info.min + span / 10 and a.max() > info.max - span / 10
