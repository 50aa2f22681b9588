"""LinearOperator family: every method against the dense NumPy matrix each operator
stands for (built independently in the test), plus TensorFlow on fixed inputs."""

import numpy as np
import pytest

import rill as tf
from tests.gradcheck import assert_grad_matches_finite_differences

rng = np.random.default_rng(11)
L = tf.linalg


def r(*shape):
    return rng.standard_normal(shape)


def spd(n):
    a = r(n, n)
    return a @ a.T + n * np.eye(n)


def close(a, b, **kw):
    kw.setdefault("rtol", 1e-9)
    kw.setdefault("atol", 1e-9)
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), **kw)


def _circulant_dense(spec):
    n = spec.shape[-1]
    col = np.fft.ifft(spec)
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return col[..., (i - j) % n]


def _toeplitz_dense(col, row):
    n = len(col)
    return np.array([[col[i - j] if i >= j else row[j - i] for j in range(n)] for i in range(n)])


def _householder_dense(v):
    return np.eye(len(v)) - 2 * np.outer(v, v.conj()) / np.vdot(v, v)


def _cases():
    """(operator, dense reference) pairs, all float64 or complex128 square operators."""
    d = r(2, 3) + 3.0
    m = r(2, 3, 3) + 3 * np.eye(3)
    tril = np.tril(r(3, 3)) + 3 * np.eye(3)
    a1, a2 = spd(2), r(3, 3) + 3 * np.eye(3)
    u = r(3, 2)
    base = np.abs(r(3)) + 2.0
    tri = r(3, 4)
    tri[1] += 4.0
    perm = np.array([2, 0, 3, 1])
    spec = np.fft.fft(np.array([4.0, 1.0, 0.5, 1.0]))  # symmetric kernel: real spectrum
    spec2 = np.fft.fft2(np.array([[4.0, 0.5, 0.5], [1.0, 0.2, 0.2]]))
    col, row = np.array([4.0, 1.0, 0.5]), np.array([4.0, -1.0, 2.0])
    v = r(4)
    blk = r(2, 2)
    yield "full", L.LinearOperatorFullMatrix(m), m
    yield "diag", L.LinearOperatorDiag(d), np.einsum("bi,ij->bij", d, np.eye(3))
    yield (
        "identity",
        L.LinearOperatorIdentity(3, batch_shape=[2], dtype=tf.float64),
        np.broadcast_to(np.eye(3), (2, 3, 3)),
    )
    yield (
        "scaled",
        L.LinearOperatorScaledIdentity(3, np.array([2.0, -3.0])),
        np.array([2.0, -3.0])[:, None, None] * np.eye(3),
    )
    yield "tril", L.LinearOperatorLowerTriangular(tril), tril
    yield (
        "composition",
        L.LinearOperatorComposition([L.LinearOperatorFullMatrix(a2), L.LinearOperatorDiag(base)]),
        a2 @ np.diag(base),
    )
    yield "inversion", L.LinearOperatorInversion(L.LinearOperatorFullMatrix(a2)), np.linalg.inv(a2)
    yield "adjoint", L.LinearOperatorAdjoint(L.LinearOperatorFullMatrix(a2)), a2.T
    yield (
        "blockdiag",
        L.LinearOperatorBlockDiag([L.LinearOperatorFullMatrix(a1), L.LinearOperatorDiag(base)]),
        _blockdiag(a1, np.diag(base)),
    )
    yield (
        "kronecker",
        L.LinearOperatorKronecker([L.LinearOperatorFullMatrix(a1), L.LinearOperatorFullMatrix(a2)]),
        np.kron(a1, a2),
    )
    yield (
        "lowrank",
        L.LinearOperatorLowRankUpdate(
            L.LinearOperatorDiag(base), u, diag_update=np.array([0.5, 2.0])
        ),
        np.diag(base) + u @ np.diag([0.5, 2.0]) @ u.T,
    )
    yield (
        "circulant",
        L.LinearOperatorCirculant(spec, input_output_dtype=tf.complex128),
        _circulant_dense(spec),
    )
    yield (
        "circulant2d",
        L.LinearOperatorCirculant2D(spec2, input_output_dtype=tf.complex128),
        _circulant2d_dense(spec2),
    )
    yield "toeplitz", L.LinearOperatorToeplitz(col, row), _toeplitz_dense(col, row)
    yield "tridiag", L.LinearOperatorTridiag(tri), _tridiag_dense(tri)
    yield "householder", L.LinearOperatorHouseholder(v), _householder_dense(v)
    yield "permutation", L.LinearOperatorPermutation(perm, dtype=tf.float64), np.eye(4)[perm]
    yield (
        "blocklower",
        L.LinearOperatorBlockLowerTriangular(
            [
                [L.LinearOperatorFullMatrix(a1)],
                [L.LinearOperatorFullMatrix(blk), L.LinearOperatorFullMatrix(a1)],
            ]
        ),
        np.block([[a1, np.zeros((2, 2))], [blk, a1]]),
    )


def _blockdiag(a, b):
    out = np.zeros((a.shape[0] + b.shape[0],) * 2)
    out[: a.shape[0], : a.shape[0]] = a
    out[a.shape[0] :, a.shape[0] :] = b
    return out


def _circulant2d_dense(spec):
    n0, n1 = spec.shape
    n = n0 * n1
    cols = [
        np.fft.ifft2(spec * np.fft.fft2(np.eye(n)[:, k].reshape(n0, n1))).reshape(n)
        for k in range(n)
    ]
    return np.stack(cols, axis=1)


def _tridiag_dense(c):
    n = c.shape[-1]
    out = np.diag(c[1])
    out += np.diag(c[0, :-1], 1) + np.diag(c[2, 1:], -1)
    assert out.shape == (n, n)
    return out


CASES = list(_cases())


@pytest.mark.parametrize("name,operator,dense", CASES, ids=[c[0] for c in CASES])
def test_operator_matches_dense(name, operator, dense):
    dense = np.asarray(dense)
    n = dense.shape[-1]
    batch = dense.shape[:-2]
    assert operator.shape.as_list() == list(dense.shape)
    assert operator.batch_shape.as_list() == list(batch)
    assert list(operator.shape_tensor().numpy()) == list(dense.shape)
    assert operator.domain_dimension.value == n and operator.range_dimension.value == n
    assert operator.tensor_rank == dense.ndim
    close(operator.to_dense(), dense)
    dt = operator.dtype.np
    x = r(*batch, n, 2).astype(dt)
    dh = np.conj(np.swapaxes(dense, -1, -2))
    close(operator.matmul(x), dense @ x)
    close(operator @ x, dense @ x)
    close(operator.matmul(x, adjoint=True), dh @ x)
    close(operator.matmul(np.swapaxes(x, -1, -2), adjoint_arg=True), dense @ x)
    close(operator.matvec(x[..., 0]), (dense @ x)[..., 0])
    close(operator.matvec(x[..., 0], adjoint=True), (dh @ x)[..., 0])
    close(operator.solve(x), np.linalg.solve(dense, x), rtol=1e-8)
    close(operator.solve(x, adjoint=True), np.linalg.solve(dh, x), rtol=1e-8)
    close(operator.solvevec(x[..., 0]), np.linalg.solve(dense, x)[..., 0], rtol=1e-8)
    close(operator.determinant(), np.linalg.det(dense), rtol=1e-8)
    close(operator.log_abs_determinant(), np.linalg.slogdet(dense)[1], rtol=1e-8)
    close(operator.diag_part(), np.diagonal(dense, axis1=-2, axis2=-1))
    close(operator.trace(), np.trace(dense, axis1=-2, axis2=-1))
    y = r(*dense.shape).astype(dt)
    close(operator.add_to_tensor(y), dense + y)
    close(operator.adjoint().to_dense(), dh)
    close(operator.inverse().to_dense(), np.linalg.inv(dense), rtol=1e-8)
    close(operator.H.matmul(x), dh @ x)


def test_structured_results():
    d = L.LinearOperatorDiag([1.0, 2.0])
    f = L.LinearOperatorFullMatrix(tf.eye(2))
    assert type(d.inverse()) is L.LinearOperatorDiag and type(d @ d) is L.LinearOperatorDiag
    assert type(d.matmul(f)) is L.LinearOperatorComposition
    assert (
        type(f.inverse()) is L.LinearOperatorInversion
        and type(f.adjoint()) is L.LinearOperatorAdjoint
    )
    k = L.LinearOperatorKronecker([d, f])
    assert (
        type(k.inverse()) is L.LinearOperatorKronecker
        and k.name == "LinearOperatorDiag_x_LinearOperatorFullMatrix"
    )
    assert (
        L.LinearOperatorComposition([d, f]).name == "LinearOperatorDiag_o_LinearOperatorFullMatrix"
    )
    assert L.LinearOperatorInversion(d).name == "LinearOperatorDiag_inv"
    assert d.is_self_adjoint is True and d.is_non_singular is None
    assert d.parameters["name"] == "LinearOperatorDiag"
    h = L.LinearOperatorHouseholder([1.0, 2.0, 2.0])
    close(h.eigvals(), [-1.0, 1.0, 1.0])
    pd = L.LinearOperatorFullMatrix(spd(3), is_self_adjoint=True, is_positive_definite=True)
    chol = pd.cholesky()
    assert type(chol) is L.LinearOperatorLowerTriangular
    close(chol.to_dense() @ np.swapaxes(chol.to_dense().numpy(), -1, -2), pd.to_dense(), rtol=1e-10)
    close(pd.eigvals(), np.linalg.eigvalsh(pd.to_dense().numpy()))


def test_hints_and_errors():
    with pytest.raises(ValueError, match="non-singular"):
        L.LinearOperatorFullMatrix(np.eye(2), is_positive_definite=True, is_non_singular=False)
    with pytest.raises(TypeError, match="dtype"):
        L.LinearOperatorFullMatrix(np.ones((2, 2), np.int32))
    with pytest.raises(ValueError, match="not compatible"):
        L.LinearOperatorDiag([1.0, 2.0]).matmul(tf.ones((3, 1)))
    rect = L.LinearOperatorFullMatrix(tf.ones((2, 3)))
    assert rect.is_square is False
    with pytest.raises(NotImplementedError, match="not be square"):
        rect.solve(tf.ones((2, 1)))
    with pytest.raises(NotImplementedError, match="not be square"):
        rect.determinant()
    with pytest.raises(ValueError, match="Cholesky"):
        L.LinearOperatorFullMatrix(np.eye(2)).cholesky()
    with pytest.raises(ValueError, match="num_columns"):
        L.LinearOperatorZeros(2, 3)
    z = L.LinearOperatorZeros(2, 3, is_square=False)
    close(z.matmul(np.ones((3, 4), np.float32)), np.zeros((2, 4)))
    with pytest.raises(tf.errors.InvalidArgumentError):
        L.LinearOperatorDiag([1.0, 0.0]).assert_non_singular()
    with pytest.raises(NotImplementedError, match="self-adjoint"):
        L.LinearOperatorFullMatrix(np.array([[1.0, 2.0], [0.0, 1.0]])).eigvals()


def test_rectangular_and_broadcast_batches():
    m = r(2, 3, 4)
    op = L.LinearOperatorFullMatrix(m)
    x = r(5, 1, 4, 2)
    close(op.matmul(x), m @ x)
    comp = L.LinearOperatorComposition([L.LinearOperatorFullMatrix(r(2, 3)), op])
    assert comp.shape.as_list() == [2, 2, 4]
    close(comp.to_dense(), comp.operators[0].to_dense().numpy() @ m)
    adj = L.LinearOperatorAdjoint(op)
    assert adj.shape.as_list() == [2, 4, 3]


def test_operator_gradient_through_solve_and_logdet():
    base = np.abs(r(3)) + 2.0
    u = r(3, 1)

    def f(d, uu):
        op = L.LinearOperatorLowRankUpdate(L.LinearOperatorDiag(d), uu)
        return tf.reduce_sum(op.solve(tf.ones((3, 1), tf.float64))) + op.log_abs_determinant()

    assert_grad_matches_finite_differences(f, base, u)


def test_conjugate_gradient():
    a = spd(4)
    b = r(4)
    op = L.LinearOperatorFullMatrix(a, is_self_adjoint=True, is_positive_definite=True)
    state = L.experimental.conjugate_gradient(op, b, tol=1e-12, max_iter=50)
    close(state.x, np.linalg.solve(a, b), rtol=1e-8)
    assert 0 < int(state.i) <= 50


def test_against_tensorflow():
    tft = pytest.importorskip("tensorflow")
    spec = np.array([6.0, 1.0, 2.0], np.float32)
    ours = L.LinearOperatorCirculant(spec).to_dense().numpy()
    theirs = tft.linalg.LinearOperatorCirculant(spec).to_dense().numpy()
    assert ours.dtype == theirs.dtype
    close(ours, theirs, rtol=1e-5, atol=1e-6)
    pairs = [
        (
            L.LinearOperatorToeplitz([1.0, 2, 3], [9.0, 4, 5]),
            tft.linalg.LinearOperatorToeplitz([1.0, 2, 3], [9.0, 4, 5]),
        ),
        (
            L.LinearOperatorTridiag([[1.0, 2, 0], [3, 4, 5], [0, 6, 7]]),
            tft.linalg.LinearOperatorTridiag([[1.0, 2, 0], [3, 4, 5], [0, 6, 7]]),
        ),
        (
            L.LinearOperatorHouseholder([1.0, 2.0, 2.0]),
            tft.linalg.LinearOperatorHouseholder([1.0, 2.0, 2.0]),
        ),
        (L.LinearOperatorPermutation([1, 2, 0]), tft.linalg.LinearOperatorPermutation([1, 2, 0])),
    ]
    for ours, theirs in pairs:
        close(ours.to_dense(), theirs.to_dense().numpy(), rtol=1e-6, atol=1e-6)
        close(ours.determinant(), theirs.determinant().numpy(), rtol=1e-5)
        assert ours.dtype.name == theirs.dtype.name
        assert ours.is_self_adjoint == theirs.is_self_adjoint
    lr = L.LinearOperatorLowRankUpdate(
        L.LinearOperatorDiag([1.0, 2.0]), u=np.ones((2, 1), np.float32)
    )
    lr_t = tft.linalg.LinearOperatorLowRankUpdate(
        tft.linalg.LinearOperatorDiag([1.0, 2.0]), u=tft.ones((2, 1))
    )
    close(lr.solve(np.ones((2, 1), np.float32)), lr_t.solve(tft.ones((2, 1))).numpy(), rtol=1e-6)
    assert (
        lr.is_self_adjoint == lr_t.is_self_adjoint
        and lr.is_diag_update_positive == lr_t.is_diag_update_positive
    )
