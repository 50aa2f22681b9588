"""Behaviour tests for rill.ops.linalg_ops against NumPy references."""

import numpy as np
import pytest

import rill as tf
from rill.core.errors import FailedPreconditionError, InvalidArgumentError

rng = np.random.default_rng(42)


def r(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def cplx(*shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def spd(*shape):
    a = r(*shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def close(x, y, **kw):
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), **kw)


def grad_of(f, *xs):
    ts = [tf.constant(x) for x in xs]
    with tf.GradientTape() as tape:
        for t in ts:
            tape.watch(t)
        y = f(*ts)
    return [g.numpy() for g in tape.gradient(y, ts)]


# ------------------------------------------------------------------------- matmul


@pytest.mark.parametrize(
    "sa,sb", [((2, 3), (3, 4)), ((5, 2, 3), (3, 4)), ((2, 1, 2, 3), (4, 3, 2)), ((0, 3), (3, 2))]
)
def test_matmul_values_and_batch_broadcasting(sa, sb):
    a, b = r(*sa), r(*sb)
    out = tf.matmul(a, b)
    assert out.dtype == tf.float64
    close(out, np.matmul(a, b), rtol=1e-12)
    close(tf.constant(a) @ tf.constant(b), np.matmul(a, b), rtol=1e-12)


def test_matmul_transpose_and_adjoint_flags():
    a, b = cplx(2, 4, 3), cplx(5, 4)
    close(tf.matmul(a, b, transpose_a=True, transpose_b=True), np.swapaxes(a, -1, -2) @ b.T)
    close(
        tf.matmul(a, b, adjoint_a=True, adjoint_b=True),
        np.conj(np.swapaxes(a, -1, -2)) @ b.conj().T,
    )
    close(tf.matmul(a, b, adjoint_a=True, transpose_b=True), np.conj(np.swapaxes(a, -1, -2)) @ b.T)
    x, y = r(4, 3), r(4, 2)
    close(tf.matmul(x, y, adjoint_a=True), x.T @ y)


def test_matmul_dtypes_and_conversion():
    assert tf.matmul([[1.0, 2.0]], [[3.0], [4.0]]).dtype == tf.float32
    out = tf.matmul([[1, 2]], [[3], [4]])
    assert out.dtype == tf.int32 and out.numpy()[0, 0] == 11
    i8 = tf.constant(np.full((2, 3), 100, np.int8))
    out = tf.matmul(i8, tf.constant(np.ones((3, 2), np.int8)), output_type=tf.int32)
    assert out.dtype == tf.int32 and out.numpy()[0, 0] == 300  # no int8 overflow


def test_matmul_errors():
    with pytest.raises(InvalidArgumentError, match=r"In\[0\]: \[2,3\], In\[1\]: \[4,5\]"):
        tf.matmul(tf.ones((2, 3)), tf.ones((4, 5)))
    with pytest.raises(InvalidArgumentError):
        tf.matmul(tf.ones((2, 3)), tf.ones((3, 2), tf.float64))
    with pytest.raises(InvalidArgumentError, match="ndims"):
        tf.matmul(tf.ones(3), tf.ones((3, 2)))
    with pytest.raises(InvalidArgumentError, match="ndims"):
        tf.matmul(tf.ones(3), tf.ones(3))
    with pytest.raises(InvalidArgumentError, match="batch"):
        tf.matmul(tf.ones((2, 2, 3)), tf.ones((3, 3, 2)))
    with pytest.raises(InvalidArgumentError):
        tf.matmul(tf.ones((2, 2), tf.bool), tf.ones((2, 2), tf.bool))
    with pytest.raises(ValueError, match="Only one of"):
        tf.matmul(tf.ones((2, 2)), tf.ones((2, 2)), transpose_a=True, adjoint_a=True)


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_gradient_unbroadcasts_batch(ta, tb):
    a = r(3, 4) if not ta else r(4, 3)
    b = r(2, 4, 5) if not tb else r(2, 5, 4)
    w = r(2, 3, 5)
    ga, gb = grad_of(
        lambda x, y: tf.reduce_sum(tf.matmul(x, y, transpose_a=ta, transpose_b=tb) * w), a, b
    )
    A = a.T if ta else a
    B = np.swapaxes(b, -1, -2) if tb else b
    gA = np.einsum("bik,bjk->ij", w, B)  # summed over the broadcast batch
    gB = np.einsum("ij,bik->bjk", A, w)
    close(ga, gA.T if ta else gA, rtol=1e-10)
    close(gb, np.swapaxes(gB, -1, -2) if tb else gB, rtol=1e-10)


def test_matvec():
    a, b = r(2, 3, 4), r(4)
    close(tf.linalg.matvec(a, b), a @ b)
    close(tf.linalg.matvec(a, r(2, 3)[0], transpose_a=True).shape, (2, 4))
    with pytest.raises(InvalidArgumentError):
        tf.linalg.matvec(tf.ones((2, 3)), tf.ones(4))


# ------------------------------------------------------------------ tensordot / einsum


def test_tensordot():
    a, b = r(2, 3, 4), r(3, 4, 5)
    close(tf.tensordot(a, b, 2), np.tensordot(a, b, 2))
    close(tf.tensordot(a, b, [[1, 2], [0, 1]]), np.tensordot(a, b, [[1, 2], [0, 1]]))
    close(
        tf.tensordot(a, b, [[0], [2]]) if False else tf.tensordot(a, b, [1, 0]),
        np.tensordot(a, b, [1, 0]),
    )
    assert tf.tensordot(r(2, 3), r(3, 4), 0).shape == (2, 3, 3, 4)
    with pytest.raises(ValueError, match="must not be larger"):
        tf.tensordot(r(2, 3), r(3, 4), 3)
    with pytest.raises(ValueError, match="Different number"):
        tf.tensordot(r(2, 3), r(3, 4), [[1], [0, 1]])
    with pytest.raises(InvalidArgumentError):
        tf.tensordot(r(2, 3), r(4, 4), 1)
    ga, gb = grad_of(lambda x, y: tf.reduce_sum(tf.tensordot(x, y, [[1, 2], [0, 1]])), a, b)
    close(ga, np.broadcast_to(b.sum(-1), a.shape))


@pytest.mark.parametrize(
    "eq,shapes",
    [
        ("ij,jk->ik", [(2, 3), (3, 4)]),
        ("ij,jk", [(2, 3), (3, 4)]),
        ("ii->", [(3, 3)]),
        ("ii", [(3, 3)]),
        ("ii->i", [(3, 3)]),
        ("ij->ji", [(2, 3)]),
        ("ba", [(2, 3)]),
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
        ("i,j->ij", [(3,), (4,)]),
        ("...ij,...jk->...ik", [(2, 1, 2, 3), (5, 3, 4)]),
        ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ],
)
def test_einsum_values(eq, shapes):
    xs = [r(*s) for s in shapes]
    out = tf.einsum(eq, *xs)
    ref = np.einsum(eq, *xs)
    assert out.shape == ref.shape
    close(out, ref, rtol=1e-10)


def test_einsum_int_and_errors():
    x = np.arange(6, dtype=np.int32).reshape(2, 3)
    out = tf.einsum("ij->j", x)
    assert out.dtype == tf.int32
    close(out, x.sum(0))
    with pytest.raises(ValueError, match="expecting 2"):
        tf.einsum("ij,jk->ik", tf.ones((2, 3)))
    with pytest.raises(InvalidArgumentError, match="Expected dimension"):
        tf.einsum("ij,jk->ik", tf.ones((2, 3)), tf.ones((4, 4)))
    with pytest.raises(InvalidArgumentError, match="Expected dimension"):  # labels never broadcast
        tf.einsum("ij,ij->ij", tf.ones((1, 3)), tf.ones((2, 3)))
    with pytest.raises(InvalidArgumentError):
        tf.einsum("ij,jk->ik", tf.ones((2, 3)), tf.ones((3, 4), tf.float64))
    with pytest.raises(ValueError, match="not present"):
        tf.einsum("ij->ijk", tf.ones((2, 3)))
    with pytest.raises(InvalidArgumentError, match="ellipsis"):
        tf.einsum("...ij->ij", tf.ones((2, 4, 3)))


def test_einsum_gradients():
    (g,) = grad_of(lambda x: tf.einsum("ii->", x), r(3, 3))
    close(g, np.eye(3))
    (g,) = grad_of(lambda x: tf.einsum("iij->", x), r(3, 3, 2))
    close(g, np.broadcast_to(np.eye(3)[:, :, None], (3, 3, 2)))
    a, b = r(2, 1, 2, 3), r(5, 3, 4)
    w = r(2, 5, 2, 4)
    ga, gb = grad_of(lambda x, y: tf.reduce_sum(tf.einsum("...ij,...jk->...ik", x, y) * w), a, b)
    close(ga, np.einsum("abik,bjk->aij", w, b)[:, None], rtol=1e-10)
    close(gb, np.einsum("abik,aoij->bjk", w, a), rtol=1e-10)


# ------------------------------------------------------------- transposes / diagonals


def test_matrix_transpose_adjoint_trace():
    x = cplx(2, 3, 4)
    close(tf.linalg.matrix_transpose(x), np.swapaxes(x, -1, -2))
    close(tf.linalg.matrix_transpose(x, conjugate=True), np.conj(np.swapaxes(x, -1, -2)))
    close(tf.linalg.adjoint(x), np.conj(np.swapaxes(x, -1, -2)))
    with pytest.raises(ValueError):
        tf.linalg.matrix_transpose(tf.ones(3))
    y = r(2, 3, 4)
    close(tf.linalg.trace(y), np.trace(y, axis1=-2, axis2=-1))
    z = r(2, 3, 3)
    close(tf.linalg.trace(z), np.trace(z, axis1=-2, axis2=-1))
    assert tf.linalg.trace(np.ones((3, 3), np.int32)).dtype == tf.int32


def test_diag_family():
    d = r(2, 3)
    out = tf.linalg.diag(d)
    assert out.shape == (2, 3, 3)
    close(out[1], np.diag(d[1]))
    close(tf.linalg.diag([1, 2], k=1, num_rows=4), np.pad(np.diag([1, 2], 1), ((0, 1), (0, 0))))
    close(tf.linalg.diag([1, 2], k=-1), np.diag([1, 2], -1))
    close(tf.linalg.diag([1.0, 2.0], padding_value=9.0), [[1.0, 9.0], [9.0, 2.0]])
    with pytest.raises(InvalidArgumentError):
        tf.linalg.diag([1, 2], k=1, num_rows=3, num_cols=4)
    m = np.arange(12).reshape(3, 4)
    for k in (0, 1, -2, 3):
        close(tf.linalg.diag_part(m, k=k), np.diag(m, k))
    with pytest.raises(InvalidArgumentError, match="out of bound"):
        tf.linalg.diag_part(m, k=5)
    x = r(2, 3, 4)
    dg = r(2, 3)
    out = tf.linalg.set_diag(x, dg).numpy()
    ref = x.copy()
    for b in range(2):
        np.fill_diagonal(ref[b], dg[b])
    close(out, ref)
    with pytest.raises(InvalidArgumentError):
        tf.linalg.set_diag(x, r(2, 2))
    gx, gd = grad_of(
        lambda a, b: tf.reduce_sum(tf.linalg.set_diag(a, b) * np.arange(24.0).reshape(2, 3, 4)),
        x,
        dg,
    )
    w = np.arange(24.0).reshape(2, 3, 4)
    close(gd, np.stack([np.diag(w[i]) for i in range(2)]))
    close(gx, w * (1 - np.eye(3, 4)))


def test_band_part():
    x = r(2, 4, 5)
    close(tf.linalg.band_part(x, 1, 0), np.tril(x) - np.tril(x, -2))
    close(tf.linalg.band_part(x, -1, 0), np.tril(x))
    close(tf.linalg.band_part(x, 0, -1), np.triu(x))
    close(tf.linalg.band_part(x, -1, -1), x)
    with pytest.raises(InvalidArgumentError, match="num_lower"):
        tf.linalg.band_part(tf.ones((2, 3)), 5, 1)


# ---------------------------------------------------------------- inverse, det, solve


def test_inverse_det_slogdet_logdet():
    a = r(3, 4, 4) + 4 * np.eye(4)
    close(tf.linalg.inv(a), np.linalg.inv(a), rtol=1e-10)
    close(tf.linalg.inv(a, adjoint=True), np.linalg.inv(np.swapaxes(a, -1, -2)), rtol=1e-10)
    close(tf.linalg.det(a), np.linalg.det(a), rtol=1e-10)
    sign, logabs = tf.linalg.slogdet(-a)
    s_ref, l_ref = np.linalg.slogdet(-a)
    close(sign, s_ref)
    close(logabs, l_ref, rtol=1e-10)
    assert tf.linalg.slogdet(a).log_abs_determinant.dtype == tf.float64
    p = spd(2, 3, 3)
    close(tf.linalg.logdet(p), np.log(np.linalg.det(p)), rtol=1e-10)
    with pytest.raises(InvalidArgumentError, match="not invertible"):
        tf.linalg.inv(np.ones((3, 3)))
    with pytest.raises(InvalidArgumentError, match="square"):
        tf.linalg.inv(np.ones((3, 2)))
    with pytest.raises(InvalidArgumentError, match="rank"):
        tf.linalg.inv(np.ones(3))
    with pytest.raises(InvalidArgumentError):
        tf.linalg.inv(np.eye(3, dtype=np.int32))
    assert tf.linalg.det(np.ones((3, 3))).numpy() == 0.0


def test_inverse_and_det_gradients():
    a = r(3, 3) + 3 * np.eye(3)
    (g,) = grad_of(lambda x: tf.linalg.det(x), a)
    close(g, np.linalg.det(a) * np.linalg.inv(a).T, rtol=1e-10)  # Jacobi's formula
    (g,) = grad_of(lambda x: tf.linalg.slogdet(x)[1], a)
    close(g, np.linalg.inv(a).T, rtol=1e-10)
    (g,) = grad_of(lambda x: tf.linalg.trace(tf.linalg.inv(x)), a)
    ai = np.linalg.inv(a)
    close(g, -(ai @ ai).T, rtol=1e-10)


def test_solves():
    a, b = r(2, 3, 3) + 3 * np.eye(3), r(2, 3, 2)
    close(tf.linalg.solve(a, b), np.linalg.solve(a, b), rtol=1e-10)
    close(
        tf.linalg.solve(a, b, adjoint=True), np.linalg.solve(np.swapaxes(a, -1, -2), b), rtol=1e-10
    )
    with pytest.raises(InvalidArgumentError, match="same rank"):
        tf.linalg.solve(a, r(3, 1))
    with pytest.raises(InvalidArgumentError, match="outer dimensions"):
        tf.linalg.solve(a, r(1, 3, 1))
    with pytest.raises(InvalidArgumentError, match="not invertible"):
        tf.linalg.solve(np.ones((3, 3)), np.ones((3, 1)))
    low = np.tril(a) + 9 * np.triu(r(3, 3), 1)  # the upper triangle must be ignored
    close(tf.linalg.triangular_solve(low, b), np.linalg.solve(np.tril(low), b), rtol=1e-10)
    close(
        tf.linalg.triangular_solve(low, b[0], lower=False, adjoint=True),
        np.linalg.solve(np.swapaxes(np.triu(low), -1, -2), b[0]),
        rtol=1e-10,
    )
    c = np.linalg.cholesky(spd(3, 3))
    rhs = r(3, 2)
    close(tf.linalg.cholesky_solve(c, rhs), np.linalg.solve(c @ c.T, rhs), rtol=1e-9)


# --------------------------------------------------------------------- decompositions


def _sym_fd(f, a, e, eps=1e-6):
    return (f(a + eps * e) - f(a - eps * e)) / (2 * eps)


def test_cholesky_values_and_symmetric_gradient():
    a = spd(2, 4, 4)
    low = tf.linalg.cholesky(a).numpy()
    close(low, np.linalg.cholesky(a), rtol=1e-10)
    noisy = a + np.triu(r(2, 4, 4), 1)  # only the lower triangle is read
    close(tf.linalg.cholesky(noisy), low, rtol=1e-12)
    assert np.isnan(tf.linalg.cholesky(-np.eye(3)).numpy()).all()  # not PD: NaN like TF, no error
    w = r(2, 4, 4)
    (g,) = grad_of(lambda x: tf.reduce_sum(tf.linalg.cholesky(x) * w), a)
    close(g, np.swapaxes(g, -1, -2), rtol=1e-10)  # TF returns the symmetric gradient
    e = r(2, 4, 4)
    e = e + np.swapaxes(e, -1, -2)
    fd = _sym_fd(lambda m: np.sum(np.linalg.cholesky(m) * w), a, e)
    close(np.sum(g * e), fd, rtol=1e-6)


def test_qr():
    a = r(2, 5, 3)
    q, rr = tf.linalg.qr(a)
    assert q.shape == (2, 5, 3) and rr.shape == (2, 3, 3)
    close(q.numpy() @ rr.numpy(), a, atol=1e-12)
    close(
        np.swapaxes(q.numpy(), -1, -2) @ q.numpy(),
        np.broadcast_to(np.eye(3), (2, 3, 3)),
        atol=1e-12,
    )
    close(np.tril(rr.numpy(), -1), 0)
    q, rr = tf.linalg.qr(a, full_matrices=True)
    assert q.shape == (2, 5, 5) and rr.shape == (2, 5, 3)
    assert tf.linalg.qr(r(3, 5)).r.shape == (3, 5)


def test_svd_order_and_reconstruction():
    a = r(2, 5, 3)
    s, u, v = tf.linalg.svd(a)
    assert s.shape == (2, 3) and u.shape == (2, 5, 3) and v.shape == (2, 3, 3)
    close(s, np.linalg.svd(a, compute_uv=False), rtol=1e-10)
    rec = np.einsum("bik,bk,bjk->bij", u.numpy(), s.numpy(), v.numpy())  # a = u diag(s) v^T
    close(rec, a, atol=1e-12)
    s, u, v = tf.linalg.svd(a, full_matrices=True)
    assert u.shape == (2, 5, 5) and v.shape == (2, 3, 3)
    only = tf.linalg.svd(a, compute_uv=False)
    assert isinstance(only, tf.Tensor) and only.shape == (2, 3)
    c = cplx(3, 3)
    s, u, v = tf.linalg.svd(c)
    assert s.dtype == tf.float64 and u.dtype == tf.complex128
    close(u.numpy() @ np.diag(s.numpy()) @ v.numpy().conj().T, c, atol=1e-12)


def test_svd_gradient_of_singular_values():
    a = r(4, 3)
    (g,) = grad_of(lambda x: tf.reduce_sum(tf.linalg.svd(x, compute_uv=False)), a)
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    close(g, u @ vh, rtol=1e-10)  # d(sum s)/dA = U V^T


def test_eigh_and_gradient():
    a = spd(2, 4, 4) + np.diag([0.0, 1.0, 2.0, 3.0])
    e, v = tf.linalg.eigh(a)
    close(e, np.linalg.eigvalsh(a), rtol=1e-10)
    close(np.einsum("bij,bjk->bik", a, v.numpy()), v.numpy() * e.numpy()[:, None, :], atol=1e-10)
    close(tf.linalg.eigvalsh(a), np.linalg.eigvalsh(a), rtol=1e-10)
    assert tf.linalg.eigh(np.eye(2, dtype=np.complex64))[0].dtype == tf.complex64
    w = r(2, 4)
    (g,) = grad_of(lambda x: tf.reduce_sum(tf.linalg.eigvalsh(x) * w), a)
    e_sym = r(2, 4, 4)
    e_sym = e_sym + np.swapaxes(e_sym, -1, -2)
    fd = _sym_fd(lambda m: np.sum(np.linalg.eigvalsh(m) * w), a, e_sym)
    close(np.sum(g * e_sym), fd, rtol=1e-6)
    wv = r(2, 4, 4)

    def f_np(m):
        ev, vv = np.linalg.eigh(m)
        return np.sum(ev * w) + np.sum(np.abs(vv) * wv)  # abs: independent of the sign choice

    (g,) = grad_of(
        lambda x: (
            tf.reduce_sum(tf.linalg.eigh(x)[0] * w)
            + tf.reduce_sum(tf.abs(tf.linalg.eigh(x)[1]) * wv)
        ),
        a,
    )
    close(np.sum(g * e_sym), _sym_fd(f_np, a, e_sym), rtol=1e-5)


# --------------------------------------------------------------------- cross / norms


def test_cross():
    a, b = r(4, 3), r(4, 3)
    close(tf.linalg.cross(a, b), np.cross(a, b))
    with pytest.raises(InvalidArgumentError, match="same shape"):
        tf.linalg.cross(tf.ones((2, 3)), tf.ones(3))
    with pytest.raises(FailedPreconditionError):
        tf.linalg.cross(tf.ones((2, 4)), tf.ones((2, 4)))


def test_norm_vectors_and_matrices():
    x = r(2, 3, 4)
    close(tf.norm(x), np.sqrt(np.sum(x**2)))
    close(tf.norm(x, ord=1), np.abs(x).sum())
    close(tf.norm(x, ord=3), np.sum(np.abs(x) ** 3) ** (1 / 3))
    close(tf.norm(x, ord=np.inf, axis=1), np.abs(x).max(1))
    close(tf.norm(x, axis=-1), np.linalg.norm(x, axis=-1))
    assert tf.norm(x, axis=-1, keepdims=True).shape == (2, 3, 1)
    for o in ("fro", 1, 2, np.inf):
        close(
            tf.linalg.norm(x, ord=o, axis=[1, 2]), np.linalg.norm(x, ord=o, axis=(1, 2)), rtol=1e-10
        )
    close(tf.norm(x, ord=1, axis=[0, 2]), np.linalg.norm(x, ord=1, axis=(0, 2)), rtol=1e-10)
    close(tf.norm(x, ord=2, axis=[2, 0]), np.linalg.norm(x, ord=2, axis=(2, 0)), rtol=1e-10)
    assert tf.norm(x, ord=2, axis=[1, 2], keepdims=True).shape == (2, 1, 1)
    assert tf.norm(np.float32([3, 4])).dtype == tf.float32
    assert tf.norm(np.array([1 + 1j, 2])).dtype == tf.complex128


def test_norm_errors():
    x = tf.ones((2, 3, 4))
    with pytest.raises(ValueError, match="vector norm"):
        tf.norm(x, ord="fro")
    with pytest.raises(ValueError, match="vector norm"):
        tf.norm(x, ord=-1)
    with pytest.raises(ValueError, match="matrix norm"):
        tf.norm(x, ord=3, axis=[1, 2])
    with pytest.raises(ValueError, match="axis"):
        tf.norm(x, axis=[0, 1, 2])
    with pytest.raises(ValueError, match="axis"):
        tf.norm(x, axis=[1, 1])


def test_norm_gradient_and_normalize():
    x = r(3, 4)
    (g,) = grad_of(lambda t: tf.norm(t), x)
    close(g, x / np.linalg.norm(x), rtol=1e-10)
    (g,) = grad_of(lambda t: tf.norm(t, ord=2, axis=[0, 1]), x)
    u, _, vh = np.linalg.svd(x)
    close(g, np.outer(u[:, 0], vh[0]), rtol=1e-8)
    n, nn = tf.linalg.normalize(x, axis=1)
    close(n, x / np.linalg.norm(x, axis=1, keepdims=True))
    assert nn.shape == (3, 1)


def test_bfloat16_matmul_is_float32_rounded_back():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 4)).astype(ml_dtypes.bfloat16)
    b = rng.normal(size=(4, 2)).astype(ml_dtypes.bfloat16)
    got = tf.matmul(a, b, transpose_b=False)
    assert got.dtype == tf.bfloat16
    want = (a.astype(np.float32) @ b.astype(np.float32)).astype(ml_dtypes.bfloat16)
    np.testing.assert_array_equal(got.numpy(), want)
