"""LU, eigen-decomposition of general matrices, matrix functions (expm, logm, sqrtm),
least squares, pseudo-inverse and rank: the rest of ``tf.linalg``.

Kernels work on batches of matrices (the last two dimensions) with the array namespace
``xp``; gradient rules are written with rill's public ops, so they differentiate again.
Tridiagonal and banded solvers live in ``linalg_banded_ops`` (imported below).
"""

from __future__ import annotations

import collections

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import InvalidArgumentError, UnimplementedError
from rill.ops import lowering_linalg as _lowering
from rill.ops._op import (
    AVal,
    TensorShape,
    binary_args,
    bind,
    convert_to_tensor,
    op_error,
    primitive,
    static_value,
    tf_export,
)
from rill.ops.array_ops import cast, reshape
from rill.ops.creation_ops import eye, one_hot
from rill.ops.linalg_ops import (
    _LA,
    _check_dtype,
    _conj,
    _const,
    _dims,
    _fmt,
    _matmul_modes,
    _matrix_dims,
    _public,
    _real,
    _real_of,
    adjoint,
    band_part,
    cholesky,
    cholesky_solve,
    diag,
    diag_part,
    einsum,
    matmul,
    set_diag,
    solve,
    svd,
    triangular_solve,
)
from rill.ops.math_ops import add, multiply, subtract
from rill.ops.shape_ops import concat

_FLOAT_LA = frozenset([_d.float32, _d.float64])
_CPLX = frozenset([_d.complex64, _d.complex128])
_LU_DT = _LA | {_d.float16}
_COMPLEX_OF = {
    _d.float16: _d.complex64,
    _d.float32: _d.complex64,
    _d.float64: _d.complex128,
    _d.complex64: _d.complex64,
    _d.complex128: _d.complex128,
}
_NP_COMPLEX_OF = {t.np: c.np for t, c in _COMPLEX_OF.items()}


def _square_rule(op, allowed, out_dtype=None):
    def rule(x, **_):
        _check_dtype(op, x, allowed)
        _matrix_dims(op, x, square=True)
        return AVal(x.shape, out_dtype(x.dtype) if out_dtype else x.dtype)

    return rule


def _require_square(x):
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError("not a batch of square matrices")  # the shape rule says why


def _cplx(x):
    return x if x.dtype.is_complex else cast(x, _COMPLEX_OF[x.dtype])


def _back_to(g, dtype):
    """A complex gradient for an input of ``dtype`` (its real part for real inputs)."""
    return g if dtype.is_complex else cast(_real(g), dtype)


# --------------------------------------------------------------------------------------
# LU
# --------------------------------------------------------------------------------------


def _lu_factor(xp, a):
    """In-place batched LU with partial pivoting of ``a`` [B, n, n]; returns the row
    permutation [B, n] with ``a_in[perm] = L @ U`` (the loop is over columns, each step
    vectorised over the batch and the trailing block)."""
    b, n = a.shape[0], a.shape[-1]
    perm = xp.zeros((b, n), dtype=xp.int64) + xp.arange(n)
    rows = xp.arange(b)
    for k in range(n):
        piv = k + xp.argmax(xp.abs(a[:, k:, k]), axis=1)
        top, prow = a[rows, k].copy(), a[rows, piv].copy()
        a[rows, k], a[rows, piv] = prow, top
        pk, pp = perm[rows, k].copy(), perm[rows, piv].copy()
        perm[rows, k], perm[rows, piv] = pp, pk
        d = a[:, k, k]
        if bool(xp.any(d == 0)):
            raise op_error(InvalidArgumentError, "Lu", "Input is not invertible.")
        a[:, k + 1 :, k] = a[:, k + 1 :, k] / d[:, None]
        a[:, k + 1 :, k + 1 :] -= a[:, k + 1 :, k : k + 1] * a[:, k : k + 1, k + 1 :]
    return perm


def _lu_kernel(x, output_idx_type=_d.int32, xp=np):
    _require_square(x)
    work = x.astype(np.float32) if x.dtype == np.float16 else x.astype(x.dtype, copy=True)
    n = x.shape[-1]
    flat = work.reshape((-1, n, n))
    perm = _lu_factor(xp, flat)
    lu = flat.reshape(x.shape).astype(x.dtype, copy=False)
    return lu, perm.reshape(x.shape[:-1]).astype(output_idx_type.np)


def _lu_rule(x, output_idx_type=_d.int32):
    a = _square_rule("Lu", _LU_DT)(x)
    d = _dims(x)
    return a, AVal(TensorShape(None) if d is None else d[:-1], output_idx_type)


def _unit_lower(lu):
    low = band_part(lu, -1, 0)
    return set_diag(low, _public("", "ones_like")(diag_part(lu)))


def _perm_matrix(perm, dtype, n):
    """P with ``P @ x == x[perm]`` along the rows."""
    return one_hot(perm, n, dtype=dtype)


def _lu_grad(inputs, outs, dys, output_idx_type=_d.int32):
    # P A = L U. With M = L^-1 d(PA) U^-1: dL = L stril(M), dU = triu(M) U, so
    # grad(PA) = L^-H [stril(L^H gL) + triu(gU U^H)] U^-H and grad A = P^T grad(PA).
    (a,), (lu, perm), (g, _) = inputs, outs, dys
    n = _dims(a)[-1]
    low, up = _unit_lower(lu), band_part(lu, 0, -1)
    gl = band_part(_matmul_modes(low, "H", g, "N"), -1, 0)
    gl = subtract(gl, diag(diag_part(gl)))
    gu = band_part(_matmul_modes(g, "N", up, "H"), 0, -1)
    mid = triangular_solve(low, add(gl, gu), lower=True, adjoint=True)
    gpa = adjoint(triangular_solve(up, adjoint(mid), lower=False, adjoint=False))
    return (_matmul_modes(_perm_matrix(perm, a.dtype, n), "T", gpa, "N"),)


lu_p = primitive(
    "Lu", _lu_kernel, _lu_rule, _lu_grad, n_out=2, dtypes=_LU_DT, lowering=_lowering.lu
)

Lu = collections.namedtuple("Lu", ["lu", "p"])


@tf_export("linalg.lu")
def lu(input, output_idx_type=_d.int32, name=None):  # noqa: A002
    """LU decomposition with partial pivoting: ``(lu, p)`` with ``input[..., p, :] ==
    L @ U``, L unit lower triangular (below the diagonal of ``lu``), U its upper part."""
    t = _d.as_dtype(output_idx_type)
    if t not in (_d.int32, _d.int64):
        raise TypeError(f"lu: output_idx_type must be int32 or int64, got {t.name}")
    return Lu(*bind(lu_p, (convert_to_tensor(input),), {"output_idx_type": t}))


def _check_perm(op, perm, n):
    p = static_value(perm)
    if p is None:
        return
    p = np.asarray(p)
    if p.size and not np.all(np.sort(p, axis=-1) == np.arange(n)):
        raise op_error(
            InvalidArgumentError,
            op,
            f"perm must be a permutation of [0, {n}) in its last dimension, got {p.tolist()}",
        )


def _lu_args(op, lower_upper, perm, validate_args):
    lower_upper = convert_to_tensor(lower_upper)
    perm = convert_to_tensor(perm)
    d = _matrix_dims(op, lower_upper, square=True)
    if d is not None and validate_args and d[-1] is not None:
        _check_perm(op, perm, d[-1])
    return lower_upper, perm, d[-1] if d is not None else None


@tf_export("linalg.lu_reconstruct")
def lu_reconstruct(lower_upper, perm, validate_args=False, name=None):
    """The matrix whose LU decomposition is ``(lower_upper, perm)``."""
    lower_upper, perm, n = _lu_args("lu_reconstruct", lower_upper, perm, validate_args)
    prod = matmul(_unit_lower(lower_upper), band_part(lower_upper, 0, -1))
    return _matmul_modes(_perm_matrix(perm, lower_upper.dtype, n), "T", prod, "N")


@tf_export("linalg.lu_solve")
def lu_solve(lower_upper, perm, rhs, validate_args=False, name=None):
    """Solve ``A x = rhs`` given A's LU decomposition ``(lower_upper, perm)``."""
    lower_upper, perm, n = _lu_args("lu_solve", lower_upper, perm, validate_args)
    lower_upper, rhs = binary_args(lower_upper, rhs)
    if validate_args:
        db = _dims(rhs)
        if db is not None and (len(db) < 2 or (n is not None and db[-2] not in (None, n))):
            raise ValueError(
                f"lu_solve: rhs must have shape [..., {n}, K] to match lower_upper, got {_fmt(db)}"
            )
    permuted = matmul(_perm_matrix(perm, lower_upper.dtype, n), rhs)
    y = triangular_solve(_unit_lower(lower_upper), permuted, lower=True)
    return triangular_solve(lower_upper, y, lower=False)


@tf_export("linalg.lu_matrix_inverse")
def lu_matrix_inverse(lower_upper, perm, validate_args=False, name=None):
    """Inverse of the matrix whose LU decomposition is ``(lower_upper, perm)``."""
    lower_upper, perm, n = _lu_args("lu_matrix_inverse", lower_upper, perm, validate_args)
    d = _dims(lower_upper)
    ident = eye(n, batch_shape=d[:-2], dtype=lower_upper.dtype)
    return lu_solve(lower_upper, perm, ident)


# --------------------------------------------------------------------------------------
# eig
# --------------------------------------------------------------------------------------


def _eig_rule(x, compute_v=True):
    _check_dtype("Eig", x, _LA)
    d = _matrix_dims("Eig", x, square=True)
    ct = _COMPLEX_OF[x.dtype]
    e = AVal(TensorShape(None) if d is None else d[:-1], ct)
    return (e, AVal(x.shape, ct)) if compute_v else (e,)


def _eig_kernel(x, compute_v=True, xp=np):
    _require_square(x)
    ct = _NP_COMPLEX_OF[x.dtype]
    if not compute_v:
        return (xp.linalg.eigvals(x).astype(ct),)
    e, v = xp.linalg.eig(x)
    return e.astype(ct), v.astype(ct)


def _eig_grad(inputs, outs, dys, compute_v=True):
    # A = V E V^-1:  grad A = V^-H (diag(gE) + conj(F) o (V^H gV - V^H V Re(diag(V^H gV)))) V^H,
    # F_ij = 1 / (e_j - e_i) off the diagonal (the last term keeps V's columns unit-norm).
    a = inputs[0]
    if compute_v:
        (e, v), (ge, gv) = outs, dys
    else:
        e, v = eig(a)
        ge, gv = dys[0], None
    vh = adjoint(v)
    mid = diag(ge)
    if gv is not None:
        one = _public("", "ones_like")(e)
        diff = subtract(einsum("...j,...i->...ij", e, one), einsum("...i,...j->...ij", e, one))
        f = _conj(_safe_reciprocal(diff))
        vgv = matmul(vh, gv)
        norm_term = matmul(matmul(vh, v), diag(cast(_real(diag_part(vgv)), vgv.dtype)))
        mid = add(mid, multiply(f, subtract(vgv, norm_term)))
    g = solve(vh, matmul(mid, vh))
    return (_back_to(g, a.dtype),)


def _safe_reciprocal(x):
    """1/x off the diagonal, 0 on it (and where x is exactly 0)."""
    zero = _public("", "zeros_like")(x)
    nz = _public("math", "not_equal")(x, zero)
    safe = _public("", "where")(nz, x, _public("", "ones_like")(x))
    inv = _public("math", "reciprocal")(safe)
    inv = _public("", "where")(nz, inv, zero)
    return set_diag(inv, _public("", "zeros_like")(diag_part(inv)))


eig_p = primitive("Eig", _eig_kernel, _eig_rule, _eig_grad, n_out=-1, dtypes=_LA)


@tf_export("linalg.eig", "eig")
def eig(tensor, name=None):
    """Eigen-decomposition of general square matrices: complex ``(e, v)`` with the
    eigenvectors (unit norm) in the columns of ``v``."""
    return tuple(bind(eig_p, (convert_to_tensor(tensor),), {"compute_v": True}))


@tf_export("linalg.eigvals", "eigvals")
def eigvals(tensor, name=None):
    """Complex eigenvalues of general square matrices."""
    return bind(eig_p, (convert_to_tensor(tensor),), {"compute_v": False})[0]


# --------------------------------------------------------------------------------------
# matrix functions
# --------------------------------------------------------------------------------------

# Higham (2005): the degree-13 Pade approximant of exp, accurate to double precision for
# ||A||_1 <= THETA_13; larger matrices are scaled by 2^-s and the result squared s times.
_PADE13 = (
    64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
    129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
    40840800.0, 960960.0, 16380.0, 182.0, 1.0,
)  # fmt: skip
_THETA13 = 5.371920351148152


def _expm_pade(x, xp):
    """The scaled Pade approximant of exp(x) and the scaling exponents ``s``: exp(x) is
    the approximant squared ``s`` times, per matrix (shared by the kernel and the XLA
    lowering, which square differently)."""
    n = x.shape[-1]
    norm = xp.max(xp.sum(xp.abs(x), axis=-2), axis=-1) if n else xp.zeros(x.shape[:-2])
    with np.errstate(divide="ignore", invalid="ignore"):
        s = xp.ceil(xp.log2(norm / _THETA13))
    s = xp.where(xp.isfinite(s) & (s > 0), s, 0).astype(xp.int64)
    a = x / (2.0**s)[..., None, None].astype(xp.real(x).dtype)
    b = _PADE13
    ident = xp.eye(n, dtype=x.dtype)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2
             + b[1] * ident)  # fmt: skip
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2
    v = v + b[0] * ident
    return xp.linalg.solve(v - u, v + u), s


def _expm_kernel(x, xp=np):
    _require_square(x)
    r, s = _expm_pade(x, xp)
    top = int(xp.max(s)) if s.size else 0
    for k in range(top):  # square each matrix as often as its own scaling asks
        r = xp.where((k < s)[..., None, None], r @ r, r)
    return r.astype(x.dtype, copy=False)


def _expm_grad(inputs, out, dy):
    # The Frechet derivative's adjoint: expm([[A^H, G], [0, A^H]]) has it in the top right.
    a = inputs[0]
    n = _dims(a)[-1]
    ah = adjoint(a)
    zero = _public("", "zeros_like")(a)
    block = concat([concat([ah, dy], axis=-1), concat([zero, ah], axis=-1)], axis=-2)
    big = expm(block)
    return (big[..., :n, n:],)


expm_p = primitive(
    "MatrixExponential",
    _expm_kernel,
    _square_rule("MatrixExponential", _LA),
    _expm_grad,
    dtypes=_LA,
    lowering=_lowering.expm,
)


@tf_export("linalg.expm")
def expm(input, name=None):  # noqa: A002
    """Matrix exponential of each square matrix (scaling and squaring, Pade 13)."""
    x = convert_to_tensor(input)
    d = _matrix_dims("MatrixExponential", x)
    if d is not None and None not in d[-2:] and d[-1] != d[-2]:
        raise op_error(
            InvalidArgumentError,
            "MatrixExponential",
            f"expm needs square matrices, got shape {_fmt(d)}",
        )
    return bind(expm_p, (x,))


def _eig_function(xp, x, fn):
    """V fn(E) V^-1 in complex arithmetic, for diagonalizable ``x``."""
    ct = _NP_COMPLEX_OF[x.dtype]
    e, v = xp.linalg.eig(x)
    v = v.astype(ct)
    fe = fn(e.astype(ct))
    return (v * fe[..., None, :]) @ xp.linalg.inv(v), e


def _logm_kernel(x, xp=np):
    _require_square(x)
    if x.shape[-1] == 0:
        return x.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out, _ = _eig_function(xp, x, xp.log)
    return out.astype(x.dtype)


logm_p = primitive(
    "MatrixLogarithm", _logm_kernel, _square_rule("MatrixLogarithm", _CPLX), dtypes=_CPLX
)


@tf_export("linalg.logm")
def logm(input, name=None):  # noqa: A002
    """Principal matrix logarithm of complex square matrices (not differentiable, as in TF)."""
    return bind(logm_p, (convert_to_tensor(input),))


def _sqrtm_kernel(x, xp=np):
    _require_square(x)
    if x.shape[-1] == 0:
        return x.copy()
    try:
        out, e = _eig_function(xp, x, xp.sqrt)
    except np.linalg.LinAlgError:  # defective eigenvectors: no eigen-decomposition
        return xp.full(x.shape, xp.nan, dtype=x.dtype)
    if x.dtype.kind == "c":
        return out.astype(x.dtype)
    # A real matrix with a negative real eigenvalue has no real square root: NaNs, like TF.
    bad = xp.any((e.imag == 0) & (e.real < 0), axis=-1)
    return xp.where(bad[..., None, None], xp.nan, out.real).astype(x.dtype)


def _sqrtm_grad(inputs, out, dy):
    # X X = A: the cotangent S solves X^H S + S X^H = G. In X's eigenbasis (X = V D V^-1)
    # that is S = V^-H [(V^H G V^-H) / (conj(d_i) + conj(d_j))] V^H.
    a = inputs[0]
    d, v = eig(out)
    vh = adjoint(v)
    g = _cplx(dy)
    inner = adjoint(solve(v, adjoint(matmul(vh, g))))  # V^H G V^-H
    one = _public("", "ones_like")(d)
    denom = _conj(add(einsum("...i,...j->...ij", d, one), einsum("...j,...i->...ij", d, one)))
    s = solve(vh, matmul(_public("math", "divide")(inner, denom), vh))
    return (_back_to(s, a.dtype),)


sqrtm_p = primitive(
    "MatrixSquareRoot",
    _sqrtm_kernel,
    _square_rule("MatrixSquareRoot", _LA),
    _sqrtm_grad,
    dtypes=_LA,
)


@tf_export("linalg.sqrtm", "matrix_square_root")
def sqrtm(input, name=None):  # noqa: A002
    """Principal square root of each square matrix (NaN for a real matrix with a negative
    real eigenvalue, as TF's real Schur method gives)."""
    return bind(sqrtm_p, (convert_to_tensor(input),))


# --------------------------------------------------------------------------------------
# least squares, pseudo-inverse, rank
# --------------------------------------------------------------------------------------


def _ls_rule(a, b):
    _check_dtype("MatrixSolveLs", a, _LA)
    _check_dtype("MatrixSolveLs", b, _LA, 1)
    da, db = _matrix_dims("MatrixSolveLs", a), _matrix_dims("MatrixSolveLs", b, i=1)
    if da is None or db is None:
        return AVal(TensorShape(None), a.dtype)
    if None not in (da[-2], db[-2]) and da[-2] != db[-2]:
        raise op_error(
            InvalidArgumentError,
            "MatrixSolveLs",
            f"matrix and rhs must have the same number of rows: matrix {_fmt(da)}, rhs {_fmt(db)}",
        )
    return AVal(da[:-2] + [da[-1], db[-1]], a.dtype)


def _ls_kernel(a, b, xp=np):
    if a.dtype != b.dtype or a.ndim < 2 or a.shape[-2] != b.shape[-2]:
        raise ValueError("bad lstsq")
    m, n = a.shape[-2:]
    if m == 0 or n == 0:
        return xp.zeros(a.shape[:-2] + (n, b.shape[-1]), dtype=a.dtype)
    # minimum-norm least squares (TF's complete orthogonal decomposition gives the same)
    rcond = np.finfo(a.dtype).eps * max(m, n)
    return (xp.linalg.pinv(a, rcond=rcond) @ b).astype(a.dtype, copy=False)


# TF defines no gradient for fast=False (it raises): this primitive is not differentiable.
matrix_solve_ls_p = primitive("MatrixSolveLs", _ls_kernel, _ls_rule, dtypes=_LA, same_dtype=True)


@tf_export("linalg.lstsq")
def lstsq(matrix, rhs, l2_regularizer=0.0, fast=True, name=None):
    """Least-squares solution of ``matrix @ x = rhs``; ``fast`` solves the (regularised)
    normal equations by Cholesky, otherwise the minimum-norm solution (``l2_regularizer``
    ignored, not differentiable)."""
    a, b = binary_args(matrix, rhs)
    if not fast:
        return bind(matrix_solve_ls_p, (a, b))
    _ls_rule(a, b)
    d = _dims(a)
    if d is None or None in d[-2:]:
        raise op_error(UnimplementedError, "lstsq", "lstsq needs static matrix dimensions")
    m, n = d[-2:]
    lam = _const(static_value(l2_regularizer) if not isinstance(l2_regularizer, (int, float))
                 else l2_regularizer, a.dtype)  # fmt: skip
    if m >= n:
        gram = add(_matmul_modes(a, "H", a, "N"), multiply(lam, eye(n, dtype=a.dtype)))
        return cholesky_solve(cholesky(gram), _matmul_modes(a, "H", b, "N"))
    gram = add(_matmul_modes(a, "N", a, "H"), multiply(lam, eye(m, dtype=a.dtype)))
    return _matmul_modes(a, "H", cholesky_solve(cholesky(gram), b), "N")


def _default_rtol(x, factor):
    d = _dims(x)
    eps = np.finfo(_real_of(x.dtype).np).eps
    return factor * max(d[-2:]) * eps


@tf_export("linalg.pinv")
def pinv(a, rcond=None, validate_args=False, name=None):
    """Moore-Penrose pseudo-inverse via the SVD; singular values below ``rcond`` times the
    largest are treated as zero (default ``10 * max(M, N) * eps``)."""
    a = convert_to_tensor(a)
    if a.dtype not in _LA:
        raise TypeError(
            f"pinv: input must be float32, float64, complex64 or complex128, got {a.dtype.name}"
        )
    _matrix_dims("pinv", a)
    if rcond is None:
        rcond = _default_rtol(a, 10.0)
    s, u, v = svd(a, full_matrices=False, compute_uv=True)
    cutoff = multiply(
        _const(rcond, s.dtype), _public("math", "reduce_max")(s, axis=-1, keepdims=True)
    )
    keep = _public("math", "greater")(s, cutoff)
    safe = _public("", "where")(keep, s, _public("", "ones_like")(s))
    s_inv = _public("", "where")(
        keep, _public("math", "reciprocal")(safe), _public("", "zeros_like")(s)
    )
    s_inv = cast(s_inv, a.dtype) if a.dtype.is_complex else s_inv
    return einsum("...ik,...k,...jk->...ij", v, s_inv, _conj(u))


@tf_export("linalg.matrix_rank")
def matrix_rank(a, tol=None, validate_args=False, name=None):
    """Number of singular values above ``tol`` (default ``eps * max(M, N) * max(s)``), int32."""
    a = convert_to_tensor(a)
    _matrix_dims("matrix_rank", a)
    s = svd(a, compute_uv=False)
    if tol is None:
        tol = multiply(
            _const(_default_rtol(a, 1.0), s.dtype),
            _public("math", "reduce_max")(s, axis=-1, keepdims=True),
        )
    else:
        tol = cast(convert_to_tensor(tol), s.dtype)
    above = cast(_public("math", "greater")(s, tol), _d.int32)
    return _public("math", "reduce_sum")(above, axis=-1)


# --------------------------------------------------------------------------------------
# tensor_diag
# --------------------------------------------------------------------------------------


@tf_export("linalg.tensor_diag")
def tensor_diag(diagonal, name=None):
    """A rank-2k tensor with ``diagonal`` (rank k) on its diagonal: out[i.., i..] = d[i..]."""
    x = convert_to_tensor(diagonal)
    d = _dims(x)
    if d is None or None in d:
        raise op_error(UnimplementedError, "Diag", "tensor_diag needs a static input shape")
    if not d:
        raise op_error(InvalidArgumentError, "Diag", "Input must be at least rank 1, got 0")
    n = int(np.prod(d))
    return reshape(diag(reshape(x, [n])), d + d)


@tf_export("linalg.tensor_diag_part")
def tensor_diag_part(input, name=None):  # noqa: A002
    """The diagonal of a rank-2k tensor: out[i..] = input[i.., i..]."""
    x = convert_to_tensor(input)
    d = _dims(x)
    if d is None or None in d:
        raise op_error(UnimplementedError, "DiagPart", "tensor_diag_part needs a static shape")
    r = len(d)
    if r == 0 or r % 2:
        raise op_error(
            InvalidArgumentError,
            "DiagPart",
            f"The rank of the tensor should be even and positive, got shape {_fmt(d)}",
        )
    k = r // 2
    for i in range(k):
        if d[i] != d[i + k]:
            raise op_error(
                InvalidArgumentError,
                "DiagPart",
                f"Invalid shape {_fmt(d)}: dimensions {i} and {i + k} do not match.",
            )
    n = int(np.prod(d[:k]))
    return reshape(diag_part(reshape(x, [n, n])), d[:k])


from rill.ops import linalg_banded_ops  # noqa: E402, F401 - registers the banded solvers
