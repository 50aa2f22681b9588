"""tf.linalg decompositions, matrix functions and banded solvers against NumPy/SciPy
formulas, finite differences and (when installed) TensorFlow itself."""

import numpy as np
import pytest

import rill as tf
from rill.errors import InvalidArgumentError
from tests.gradcheck import (
    assert_complex_grad_matches_finite_differences,
    assert_grad_matches_finite_differences,
)

rng = np.random.default_rng(7)


def r(*shape):
    return rng.standard_normal(shape)


def spd(*shape):
    a = r(*shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def close(a, b, **kw):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), **kw)


# ----------------------------------------------------------------------------- LU


def test_lu_factors_reconstruct_with_row_permutation():
    a = r(2, 4, 4)
    lu, p = tf.linalg.lu(a)
    assert p.dtype == tf.int32 and lu.shape == (2, 4, 4)
    lower = np.tril(lu.numpy(), -1) + np.eye(4)
    upper = np.triu(lu.numpy())
    rows = np.take_along_axis(a, p.numpy()[..., None], axis=-2)
    close(lower @ upper, rows, rtol=1e-12, atol=1e-12)
    assert np.all(np.abs(np.tril(lu.numpy(), -1)) <= 1 + 1e-12)  # partial pivoting bound
    close(tf.linalg.lu_reconstruct(lu, p), a, rtol=1e-12, atol=1e-12)


def test_lu_solve_and_inverse_match_numpy():
    a, b = r(3, 3), r(3, 2)
    lu, p = tf.linalg.lu(a, output_idx_type=tf.int64)
    assert p.dtype == tf.int64
    close(tf.linalg.lu_solve(lu, p, b), np.linalg.solve(a, b), rtol=1e-10)
    close(tf.linalg.lu_matrix_inverse(lu, p), np.linalg.inv(a), rtol=1e-10)


def test_lu_complex_and_singular():
    a = r(3, 3) + 1j * r(3, 3)
    lu, p = tf.linalg.lu(a)
    close(tf.linalg.lu_reconstruct(lu, p), a, rtol=1e-12)
    with pytest.raises(InvalidArgumentError, match="not invertible"):
        tf.linalg.lu(np.zeros((2, 2)))
    with pytest.raises(InvalidArgumentError):
        tf.linalg.lu(np.ones((2, 2), np.int32))


def test_lu_gradient_through_reconstruction_and_solve():
    a = np.array([[1.0, 2.0, 0.5], [4.0, 1.0, 1.5], [2.0, 7.0, 1.0]])
    b = r(3, 2)
    w = r(3, 3)

    def f(x):
        lu, p = tf.linalg.lu(x)
        return tf.reduce_sum(lu * w) + tf.reduce_sum(tf.linalg.lu_solve(lu, p, b))

    assert_grad_matches_finite_differences(f, a, rtol=1e-5, atol=1e-7)


# ----------------------------------------------------------------------------- eig


def test_eig_satisfies_definition():
    a = r(2, 4, 4)
    e, v = tf.linalg.eig(a)
    assert e.dtype == tf.complex128 and v.dtype == tf.complex128
    e, v = e.numpy(), v.numpy()
    close(a @ v, v * e[..., None, :], atol=1e-10)
    close(np.linalg.norm(v, axis=-2), 1.0, rtol=1e-10)
    got = np.sort_complex(tf.linalg.eigvals(a.astype(np.float32)).numpy())
    close(got, np.sort_complex(np.linalg.eigvals(a)), rtol=1e-4, atol=1e-5)
    assert tf.eigvals is tf.linalg.eigvals and tf.eig is tf.linalg.eig


def test_eig_gradient():
    a = np.array([[2.0, 0.3, 0.1], [0.2, -1.0, 0.4], [0.5, 0.1, 3.0]])  # distinct real eigenvalues
    we = np.array([0.7, -1.2, 0.4])

    def f_vals(x):
        e = tf.linalg.eigvals(x)
        return tf.reduce_sum(tf.math.real(e) * we)

    assert_grad_matches_finite_differences(f_vals, a, rtol=1e-5, atol=1e-7)

    def f_vecs(x):  # |v|^2 is invariant to each eigenvector's sign
        e, v = tf.linalg.eig(x)
        return tf.reduce_sum(tf.math.real(v * tf.math.conj(v)) * a) + tf.reduce_sum(tf.math.real(e))

    assert_grad_matches_finite_differences(f_vecs, a, rtol=1e-5, atol=1e-7)
    z = a + 0.3j * np.array([[0.1, 0.2, 0.0], [0.3, 0.1, 0.2], [0.0, 0.4, 0.1]])
    assert_complex_grad_matches_finite_differences(lambda t: tf.linalg.eigvals(t), z, rtol=1e-5)


def test_eig_rejects_non_square():
    with pytest.raises(InvalidArgumentError, match="square"):
        tf.linalg.eig(np.ones((2, 3)))


# ------------------------------------------------------------------- matrix functions


def _expm_taylor(a, terms=80):
    out, term = np.eye(a.shape[-1]), np.eye(a.shape[-1])
    for k in range(1, terms):
        term = term @ a / k
        out = out + term
    return out


def test_expm_matches_taylor_series_and_squaring():
    a = 0.5 * r(3, 3)
    close(tf.linalg.expm(a), _expm_taylor(a), rtol=1e-12)
    big = 3.0 * r(2, 3, 3)  # norms above theta_13 need scaling and squaring
    got = tf.linalg.expm(big).numpy()
    for i in range(2):
        e = _expm_taylor(big[i] / 16) ** 1
        close(got[i], np.linalg.matrix_power(e, 16), rtol=1e-9)
    d = np.array([1.0, -2.0, 0.5])
    close(tf.linalg.expm(np.diag(d)), np.diag(np.exp(d)), rtol=1e-14)


def test_expm_gradient():
    a = 0.7 * r(3, 3)
    w = r(3, 3)
    assert_grad_matches_finite_differences(lambda x: tf.reduce_sum(tf.linalg.expm(x) * w), a,
                                           rtol=1e-5, atol=1e-7)  # fmt: skip


def test_sqrtm_squares_back_and_nan_for_negative_eigenvalues():
    a = spd(2, 3, 3)
    s = tf.linalg.sqrtm(a).numpy()
    close(s @ s, a, rtol=1e-10)
    e, v = np.linalg.eigh(a)
    close(s, (v * np.sqrt(e)[..., None, :]) @ np.swapaxes(v, -1, -2), rtol=1e-10)
    assert tf.matrix_square_root is tf.linalg.sqrtm
    assert np.all(np.isnan(tf.linalg.sqrtm(np.diag([1.0, -1.0])).numpy()))
    c = a[0] + 0.2j * r(3, 3)
    sc = tf.linalg.sqrtm(c).numpy()
    close(sc @ sc, c, rtol=1e-10)


def test_sqrtm_gradient():
    a = spd(3, 3)
    w = r(3, 3)
    assert_grad_matches_finite_differences(lambda x: tf.reduce_sum(tf.linalg.sqrtm(x) * w), a,
                                           rtol=1e-5, atol=1e-7)  # fmt: skip


def test_logm_inverts_expm_and_needs_complex():
    a = 0.3 * (r(3, 3) + 1j * r(3, 3))
    close(tf.linalg.logm(tf.linalg.expm(a)), a, rtol=1e-9, atol=1e-12)
    with pytest.raises(InvalidArgumentError, match="complex"):
        tf.linalg.logm(np.eye(2))


# ------------------------------------------------------------ least squares, pinv, rank


def test_lstsq_fast_solves_regularised_normal_equations():
    a, b = r(5, 3), r(5, 2)
    lam = 0.3
    ref = np.linalg.solve(a.T @ a + lam * np.eye(3), a.T @ b)
    close(tf.linalg.lstsq(a, b, l2_regularizer=lam), ref, rtol=1e-10)
    wide = r(2, 4)
    ref_wide = wide.T @ np.linalg.solve(wide @ wide.T + lam * np.eye(2), b[:2])
    close(tf.linalg.lstsq(wide, b[:2], l2_regularizer=lam), ref_wide, rtol=1e-10)
    close(tf.linalg.lstsq(a, b, fast=False), np.linalg.lstsq(a, b, rcond=None)[0], rtol=1e-10)


def test_lstsq_gradient():
    a, b = r(4, 2), r(4, 1)
    assert_grad_matches_finite_differences(
        lambda x, y: tf.reduce_sum(tf.linalg.lstsq(x, y, l2_regularizer=0.1)), a, b
    )


def test_pinv_and_matrix_rank():
    a = r(4, 2) @ r(2, 3)  # rank 2
    close(tf.linalg.pinv(a), np.linalg.pinv(a, rcond=10 * 4 * np.finfo(float).eps), rtol=1e-8)
    assert tf.linalg.matrix_rank(a).numpy() == 2
    assert tf.linalg.matrix_rank(a).dtype == tf.int32
    assert list(tf.linalg.matrix_rank(np.stack([np.eye(3), np.ones((3, 3))])).numpy()) == [3, 1]
    assert tf.linalg.matrix_rank(np.eye(3), tol=2.0).numpy() == 0


def test_tensor_diag_round_trip():
    x = np.arange(6.0).reshape(2, 3)
    t = tf.linalg.tensor_diag(x).numpy()
    assert t.shape == (2, 3, 2, 3)
    ref = np.zeros((2, 3, 2, 3))
    for i in range(2):
        for j in range(3):
            ref[i, j, i, j] = x[i, j]
    close(t, ref)
    close(tf.linalg.tensor_diag_part(t), x)
    with pytest.raises(InvalidArgumentError, match="even"):
        tf.linalg.tensor_diag_part(np.ones((2, 3, 3)))
    with pytest.raises(InvalidArgumentError, match="do not match"):
        tf.linalg.tensor_diag_part(np.ones((2, 3)))


# ---------------------------------------------------------------- banded / tridiagonal


def _dense_tridiag(c):
    """A[i, i] = c[1, i], A[i, i+1] = c[0, i], A[i+1, i] = c[2, i+1]."""
    n = c.shape[-1]
    out = np.zeros(c.shape[:-2] + (n, n))
    i = np.arange(n)
    out[..., i, i] = c[..., 1, :]
    out[..., i[:-1], i[1:]] = c[..., 0, :-1]
    out[..., i[1:], i[:-1]] = c[..., 2, 1:]
    return out


def test_tridiagonal_solve_formats_and_pivoting():
    c = r(2, 3, 5)
    b = r(2, 5, 3)
    dense = _dense_tridiag(c)
    ref = np.linalg.solve(dense, b)
    close(tf.linalg.tridiagonal_solve(c, b), ref, rtol=1e-9)
    seq = [c[..., 0, :], c[..., 1, :], c[..., 2, :]]
    close(tf.linalg.tridiagonal_solve(seq, b, diagonals_format="sequence"), ref, rtol=1e-9)
    close(tf.linalg.tridiagonal_solve(dense, b, diagonals_format="matrix"), ref, rtol=1e-9)
    close(
        tf.linalg.tridiagonal_solve(c, np.swapaxes(b, -1, -2), transpose_rhs=True), ref, rtol=1e-9
    )
    close(tf.linalg.tridiagonal_solve(c, b[..., 0]), ref[..., 0], rtol=1e-9)
    zero_diag = np.array([[1.0, 2.0, 0.0], [0.0, 0.0, 3.0], [0.0, 4.0, 5.0]])  # needs pivoting
    dz = _dense_tridiag(zero_diag)
    close(
        tf.linalg.tridiagonal_solve(zero_diag, np.ones((3, 1))),
        np.linalg.solve(dz, np.ones((3, 1))),
    )
    assert np.all(np.isnan(tf.linalg.tridiagonal_solve(np.zeros((3, 4)), np.ones((4, 1))).numpy()))
    with pytest.raises(InvalidArgumentError, match="equal"):
        tf.linalg.tridiagonal_solve(c[0], np.ones((4, 1)))


def test_tridiagonal_matmul_and_gradients():
    c, b = r(3, 4), r(4, 2)
    close(tf.linalg.tridiagonal_matmul(c, b), _dense_tridiag(c) @ b, rtol=1e-12)
    c2 = c.copy()
    c2[1] += 4.0
    assert_grad_matches_finite_differences(
        lambda d, y: tf.reduce_sum(tf.square(tf.linalg.tridiagonal_solve(d, y))), c2, b
    )
    assert_grad_matches_finite_differences(
        lambda d, y: tf.reduce_sum(tf.square(tf.linalg.tridiagonal_matmul(d, y))), c, b
    )


def test_banded_triangular_solve_layout():
    bands = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]])
    lower = np.diag(bands[0]) + np.diag(bands[1, 1:], -1)
    upper = np.diag(bands[1]) + np.diag(bands[0, :3], 1)
    b = r(4, 2)
    close(tf.linalg.banded_triangular_solve(bands, b), np.linalg.solve(lower, b), rtol=1e-12)
    close(tf.linalg.banded_triangular_solve(bands, b, lower=False), np.linalg.solve(upper, b),
          rtol=1e-12)  # fmt: skip
    close(tf.linalg.banded_triangular_solve(bands, b, adjoint=True), np.linalg.solve(lower.T, b),
          rtol=1e-12)  # fmt: skip


def test_eigh_tridiagonal_selects():
    alpha, beta = r(5), r(4)
    dense = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
    ref = np.linalg.eigvalsh(dense)
    close(tf.linalg.eigh_tridiagonal(alpha, beta), ref, rtol=1e-12)
    close(tf.linalg.eigh_tridiagonal(alpha, beta, select="i", select_range=[1, 3]), ref[1:4])
    lo, hi = ref[1] - 1e-3, ref[3]
    close(tf.linalg.eigh_tridiagonal(alpha, beta, select="v", select_range=[lo, hi]), ref[1:4])
    w, v = tf.linalg.eigh_tridiagonal(alpha, beta, eigvals_only=False)
    close(dense @ v.numpy(), v.numpy() * w.numpy(), atol=1e-10)


# ------------------------------------------------------------------ against TensorFlow


def test_against_tensorflow():
    tft = pytest.importorskip("tensorflow")
    a = np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 10]])
    lu, p = tf.linalg.lu(a)
    lu_t, p_t = tft.linalg.lu(a)
    close(lu, lu_t.numpy(), rtol=1e-12)
    close(p, p_t.numpy())
    close(tf.linalg.expm(a), tft.linalg.expm(a).numpy(), rtol=1e-8)
    s = np.array([[4.0, 1.0], [0.0, 9.0]])
    close(tf.linalg.sqrtm(s), tft.linalg.sqrtm(s).numpy(), rtol=1e-10)
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    for fn in ("sqrtm", "expm"):
        ts, tt = tf.constant(s), tft.constant(s)
        with tf.GradientTape() as g1:
            g1.watch(ts)
            y1 = tf.reduce_sum(getattr(tf.linalg, fn)(ts) * w)
        with tft.GradientTape() as g2:
            g2.watch(tt)
            y2 = tft.reduce_sum(getattr(tft.linalg, fn)(tt) * w)
        close(g1.gradient(y1, ts), g2.gradient(y2, tt).numpy(), rtol=1e-7)
    c = tft.constant(np.array([[1.0, 2, 3, 0], [4, 5, 6, 7], [0, 8, 9, 10]]))
    rhs = np.ones((4, 2))
    close(tf.linalg.tridiagonal_solve(c.numpy(), rhs),
          tft.linalg.tridiagonal_solve(c, tft.constant(rhs)).numpy(), rtol=1e-12)  # fmt: skip
    bands = np.array([[1.0, 2, 3, 4], [5, 6, 7, 8]])
    for lower in (True, False):
        close(tf.linalg.banded_triangular_solve(bands, rhs, lower=lower),
              tft.linalg.banded_triangular_solve(bands, rhs, lower=lower).numpy(), rtol=1e-12)  # fmt: skip
    m = np.ones((2, 3)) + np.eye(2, 3)
    close(tf.linalg.pinv(m), tft.linalg.pinv(m).numpy(), rtol=1e-10)
    close(tf.linalg.lstsq(m.T, np.ones((3, 1)), l2_regularizer=0.5),
          tft.linalg.lstsq(m.T, np.ones((3, 1)), l2_regularizer=0.5).numpy(), rtol=1e-10)  # fmt: skip
    close(tf.linalg.logm(a + 0j), tft.linalg.logm(a + 0j).numpy(), rtol=1e-8)
    w_tf = tft.linalg.eigh_tridiagonal(np.array([1.0, 2, 3]), np.array([1.0, 1]))
    close(tf.linalg.eigh_tridiagonal(np.array([1.0, 2, 3]), np.array([1.0, 1])), w_tf.numpy())
