"""Tridiagonal and banded matrices: ``tridiagonal_solve``, ``tridiagonal_matmul``,
``banded_triangular_solve`` and ``eigh_tridiagonal``.

Tridiagonal systems are stored "compact": [..., 3, M] rows (superdiagonal, diagonal,
subdiagonal), the superdiagonal's last and the subdiagonal's first entry unused.
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import InvalidArgumentError, UnimplementedError
from rill.ops import lowering_linalg as _lowering
from rill.ops._op import (
    AVal,
    TensorShape,
    bind,
    convert_to_tensor,
    op_error,
    primitive,
    static_value,
    tf_export,
    unbroadcast,
)
from rill.ops.array_ops import cast, stack, zeros_like
from rill.ops.linalg_ops import (
    _LA,
    _batch,
    _check_dtype,
    _conj,
    _dims,
    _fmt,
    _public,
    _same_dtype,
    diag,
    diag_part,
    eigh,
    eigvalsh,
    einsum,
    matrix_transpose,
    triangular_solve,
)
from rill.ops.math_ops import add, multiply, negative
from rill.ops.shape_ops import concat, expand_dims, squeeze

# --------------------------------------------------------------------------------------
# tridiagonal solve
# --------------------------------------------------------------------------------------


def _tsolve_rule(diags, rhs, partial_pivoting=True, perturb_singular=False):
    _same_dtype("TridiagonalSolve", diags, rhs)
    _check_dtype("TridiagonalSolve", diags, _LA)
    dd, db = _dims(diags), _dims(rhs)
    if dd is None or db is None:
        return AVal(TensorShape(None), diags.dtype)
    if len(dd) < 2 or dd[-2] not in (None, 3):
        raise op_error(
            InvalidArgumentError,
            "TridiagonalSolve",
            f"Expected diagonals to have shape [..., 3, M], got {_fmt(dd)}",
        )
    if len(db) < 2:
        raise op_error(
            InvalidArgumentError,
            "TridiagonalSolve",
            f"Expected rhs to have rank >= 2 ([..., M, K]), got {_fmt(db)}",
        )
    if None not in (dd[-1], db[-2]) and dd[-1] != db[-2]:
        raise op_error(
            InvalidArgumentError,
            "TridiagonalSolve",
            f"Expected number of left-hand sided and right-hand sides to be equal, got "
            f"{dd[-1]} and {db[-2]} (diagonals {_fmt(dd)}, rhs {_fmt(db)})",
        )
    return AVal(_batch("TridiagonalSolve", dd[:-2], db[:-2]) + db[-2:], diags.dtype)


def _tsolve_kernel(diags, rhs, partial_pivoting=True, perturb_singular=False, xp=np):
    """Gaussian elimination with partial pivoting on the band (LAPACK's gtsv scheme):
    the loop runs over rows, each step vectorised over the batch and the columns."""
    if diags.dtype != rhs.dtype or diags.ndim < 2 or diags.shape[-2] != 3:
        raise ValueError("bad tridiagonal_solve")
    m = diags.shape[-1]
    if rhs.ndim < 2 or rhs.shape[-2] != m:
        raise ValueError("bad tridiagonal_solve rhs")
    batch = np.broadcast_shapes(diags.shape[:-2], rhs.shape[:-2])  # shape tuples only
    up = xp.broadcast_to(diags[..., 0, :], batch + (m,)).copy()
    dg = xp.broadcast_to(diags[..., 1, :], batch + (m,)).copy()
    lo = xp.broadcast_to(diags[..., 2, :], batch + (m,)).copy()
    b = xp.broadcast_to(rhs, batch + rhs.shape[-2:]).copy()
    if m == 0:
        return b
    up2 = xp.zeros_like(up)
    if m > 0:
        up[..., m - 1] = 0
        lo[..., 0] = 0
    if perturb_singular:
        big = xp.max(xp.abs(diags), axis=(-2, -1))
        tiny = np.finfo(diags.real.dtype).tiny
        pert = xp.broadcast_to(xp.maximum(np.finfo(diags.real.dtype).eps * big, tiny), batch)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i in range(m - 1):
            # copies: the slices below are views that the updates overwrite
            di, li = dg[..., i].copy(), lo[..., i + 1].copy()
            if perturb_singular:
                di = xp.where((di == 0) & (li == 0), pert, di)
            swap = (xp.abs(di) < xp.abs(li)) if partial_pivoting else xp.zeros(batch, bool)
            ui, dn = up[..., i].copy(), dg[..., i + 1].copy()
            un = up[..., i + 1].copy() if i + 1 < m - 1 else xp.zeros_like(ui)
            # no swap: row i+1 -= f row i
            f0 = li / di
            # swap: rows i and i+1 trade places, then the new row i+1 -= f new row i
            f1 = di / li
            bi, bn = b[..., i, :].copy(), b[..., i + 1, :].copy()
            s = swap[..., None]
            dg[..., i] = xp.where(swap, li, di)
            up[..., i] = xp.where(swap, dn, ui)
            up2[..., i] = xp.where(swap, un, 0)
            dg[..., i + 1] = xp.where(swap, ui - f1 * dn, dn - f0 * ui)
            if i + 1 < m - 1:
                up[..., i + 1] = xp.where(swap, -f1 * un, un)
            b[..., i, :] = xp.where(s, bn, bi)
            b[..., i + 1, :] = xp.where(s, bi - f1[..., None] * bn, bn - f0[..., None] * bi)
        last = dg[..., m - 1]
        if perturb_singular:
            last = xp.where(last == 0, pert, last)
        x = xp.zeros_like(b)
        x[..., m - 1, :] = b[..., m - 1, :] / last[..., None]
        if m > 1:
            x[..., m - 2, :] = (b[..., m - 2, :] - up[..., m - 2, None] * x[..., m - 1, :]) / dg[
                ..., m - 2, None
            ]
        for i in range(m - 3, -1, -1):
            x[..., i, :] = (
                b[..., i, :]
                - up[..., i, None] * x[..., i + 1, :]
                - up2[..., i, None] * x[..., i + 2, :]
            ) / dg[..., i, None]
    return x


def _shift(v, k):
    """v[..., i + k] along the last axis, zero outside (k = +1 or -1)."""
    z = zeros_like(v[..., :1])
    return concat([v[..., 1:], z], axis=-1) if k > 0 else concat([z, v[..., :-1]], axis=-1)


def _adjoint_compact(diags):
    """Compact diagonals of the adjoint tridiagonal matrix."""
    sup, main, sub = diags[..., 0, :], diags[..., 1, :], diags[..., 2, :]
    return _conj(stack([_shift(sub, 1), main, _shift(sup, -1)], axis=-2))


def _tsolve_grad(inputs, x, dy, partial_pivoting=True, perturb_singular=False):
    diags, rhs = inputs
    gb = bind(
        tridiagonal_solve_p,
        (_adjoint_compact(diags), dy),
        {"partial_pivoting": partial_pivoting, "perturb_singular": perturb_singular},
    )
    xc = _conj(x)
    g_main = negative(einsum("...ik,...ik->...i", gb, xc))
    g_sup = negative(einsum("...ik,...ik->...i", gb, _shift_rows(xc, 1)))
    g_sub = negative(einsum("...ik,...ik->...i", gb, _shift_rows(xc, -1)))
    gd = stack([g_sup, g_main, g_sub], axis=-2)
    return unbroadcast(gd, diags), unbroadcast(gb, rhs)


def _shift_rows(x, k):
    z = zeros_like(x[..., :1, :])
    return concat([x[..., 1:, :], z], axis=-2) if k > 0 else concat([z, x[..., :-1, :]], axis=-2)


tridiagonal_solve_p = primitive(
    "TridiagonalSolve",
    _tsolve_kernel,
    _tsolve_rule,
    _tsolve_grad,
    dtypes=_LA,
    same_dtype=True,
    lowering=_lowering.tridiagonal_solve,
)


def _to_compact(op, diagonals, diagonals_format, dtype=None):
    if diagonals_format == "compact":
        return convert_to_tensor(diagonals, dtype=dtype)
    if diagonals_format == "sequence":
        if not isinstance(diagonals, (list, tuple)) or len(diagonals) != 3:
            raise ValueError(
                f"Expected diagonals to be a sequence of length 3, got {type(diagonals).__name__}"
            )
        sup, main, sub = (convert_to_tensor(t, dtype=dtype) for t in diagonals)
        return stack([sup, main, sub], axis=-2)
    if diagonals_format == "matrix":
        mat = convert_to_tensor(diagonals, dtype=dtype)
        d = _dims(mat)
        if d is None or len(d) < 2 or d[-1] != d[-2]:
            raise ValueError(
                f"Expected last two dimensions of diagonals to be same, got {mat.shape}"
            )
        main = diag_part(mat)
        if d[-1] is not None and d[-1] < 2:
            z = zeros_like(main)
            return stack([z, main, z], axis=-2)
        z = zeros_like(main[..., :1])
        sup = concat([diag_part(mat, k=1), z], axis=-1)
        sub = concat([z, diag_part(mat, k=-1)], axis=-1)
        return stack([sup, main, sub], axis=-2)
    raise ValueError(f"Unrecognized diagonals_format: {diagonals_format}")


@tf_export("linalg.tridiagonal_solve")
def tridiagonal_solve(diagonals, rhs, diagonals_format="compact", transpose_rhs=False,
                      conjugate_rhs=False, name=None, partial_pivoting=True,
                      perturb_singular=False):  # fmt: skip
    """Solve tridiagonal systems ``A x = rhs``; ``diagonals`` is 'compact' [..., 3, M],
    'sequence' (superdiag, diag, subdiag) or 'matrix' [..., M, M]. ``rhs`` is [..., M, K]
    or a batch of vectors [..., M]."""
    rhs = convert_to_tensor(rhs)
    d = _to_compact("TridiagonalSolve", diagonals, diagonals_format)
    if perturb_singular and not partial_pivoting:
        raise ValueError("partial_pivoting must be True if perturb_singular is True.")
    rr, dr = rhs.shape.rank, d.shape.rank
    vector = rr is not None and dr is not None and rr == dr - 1
    if vector:
        if transpose_rhs:
            raise ValueError("transpose_rhs=True is not supported for a vector right-hand side")
        rhs = expand_dims(rhs, -1)
    elif transpose_rhs:
        rhs = matrix_transpose(rhs)
    if conjugate_rhs:
        rhs = _conj(rhs)
    params = {
        "partial_pivoting": bool(partial_pivoting),
        "perturb_singular": bool(perturb_singular),
    }
    out = bind(tridiagonal_solve_p, (d, rhs), params)
    return squeeze(out, -1) if vector else out


@tf_export("linalg.tridiagonal_matmul")
def tridiagonal_matmul(diagonals, rhs, diagonals_format="compact", name=None):
    """Product of tridiagonal matrices (see ``tridiagonal_solve`` for the formats) with
    ``rhs`` [..., M, N]."""
    rhs = convert_to_tensor(rhs)
    d = _to_compact("TridiagonalMatMul", diagonals, diagonals_format, dtype=rhs.dtype)
    _same_dtype("TridiagonalMatMul", d, rhs)
    dd, db = _dims(d), _dims(rhs)
    if dd is not None and db is not None and None not in (dd[-1], db[-2]) and dd[-1] != db[-2]:
        raise op_error(
            InvalidArgumentError,
            "TridiagonalMatMul",
            f"diagonals {_fmt(dd)} (M={dd[-1]}) do not match rhs {_fmt(db)} (expected [..., M, N])",
        )
    sup, main, sub = (expand_dims(d[..., i, :], -1) for i in range(3))
    out = multiply(main, rhs)
    out = add(out, multiply(sup, _shift_rows(rhs, 1)))
    return add(out, multiply(sub, _shift_rows(rhs, -1)))


# --------------------------------------------------------------------------------------
# banded triangular solve
# --------------------------------------------------------------------------------------


@tf_export("linalg.banded_triangular_solve")
def banded_triangular_solve(bands, rhs, lower=True, adjoint=False, name=None):
    """Solve ``A x = rhs`` for banded triangular A given as ``bands`` [..., K, M]: for
    ``lower`` row 0 is the diagonal and row k holds A[i, i-k] at position i; otherwise the
    last row is the diagonal and row K-1-k holds A[i, i+k] at position i."""
    bands = convert_to_tensor(bands)
    rhs = convert_to_tensor(rhs, dtype=bands.dtype)
    d = _dims(bands)
    if d is None or None in d[-2:] or len(d) < 2:
        raise op_error(
            UnimplementedError,
            "BandedTriangularSolve",
            f"bands must have a static shape [..., K, M], got {bands.shape}",
        )
    k_num, m = d[-2:]
    if k_num < 1 or k_num > m:
        raise op_error(
            InvalidArgumentError,
            "BandedTriangularSolve",
            f"bands {_fmt(d)}: the number of bands K must be in [1, M={m}]",
        )
    dense = None
    for k in range(k_num):
        if lower:
            band = diag(bands[..., k, k:], k=-k, num_rows=m, num_cols=m)
        else:
            band = diag(bands[..., k_num - 1 - k, : m - k], k=k, num_rows=m, num_cols=m)
        dense = band if dense is None else add(dense, band)
    return triangular_solve(dense, rhs, lower=lower, adjoint=adjoint)


# --------------------------------------------------------------------------------------
# eigh_tridiagonal
# --------------------------------------------------------------------------------------


@tf_export("linalg.eigh_tridiagonal")
def eigh_tridiagonal(alpha, beta, eigvals_only=True, select="a", select_range=None, tol=None,
                     name=None):  # fmt: skip
    """Eigenvalues (ascending), and eigenvectors as columns unless ``eigvals_only``, of the
    Hermitian tridiagonal matrix with diagonal ``alpha`` and subdiagonal ``beta``.
    ``select``: 'a' all, 'v' those in the half-open interval (lo, hi], 'i' indices lo..hi."""
    alpha = convert_to_tensor(alpha)
    beta = convert_to_tensor(beta)
    if alpha.dtype.is_complex:
        alpha = _public("math", "real")(alpha)
    if alpha.dtype not in (_d.float32, _d.float64):
        raise ValueError(f"Unsupported dtype {alpha.dtype.name} for alpha: must be real float")
    da, db = _dims(alpha), _dims(beta)
    if da is None or len(da) != 1 or db is None or len(db) != 1:
        raise ValueError(
            f"Only rank-1 alpha and beta are supported, got shapes {alpha.shape} and {beta.shape}"
        )
    n = da[0]
    if n is not None and db[0] is not None and db[0] != max(n - 1, 0):
        raise ValueError(f"beta must have length n - 1 = {n - 1}, got {db[0]}")
    if select not in ("a", "v", "i"):
        raise ValueError("'select' must have a value in {'a', 'v', 'i'}.")
    dtype = beta.dtype if beta.dtype.is_complex else alpha.dtype
    beta = cast(beta, dtype) if beta.dtype is not dtype else beta
    matrix = add(diag(cast(alpha, dtype)), diag(beta, k=-1))
    matrix = add(matrix, diag(_conj(beta), k=1))
    if eigvals_only:
        w, v = eigvalsh(matrix), None
    else:
        w, v = eigh(matrix)
    if select == "a":
        w = cast(_public("math", "real")(w), alpha.dtype) if w.dtype.is_complex else w
        return w if eigvals_only else (w, v)
    if select_range is None:
        raise ValueError(f"select_range is required when select={select!r}")
    lo, hi = (np.asarray(static_value(r) if not isinstance(r, (int, float)) else r)
              for r in select_range)  # fmt: skip
    wr = _public("math", "real")(w) if w.dtype.is_complex else w
    vals = np.asarray(static_value(wr))
    if select == "i":
        idx = np.arange(int(lo), int(hi) + 1)
    else:
        idx = np.nonzero((vals > float(lo)) & (vals <= float(hi)))[0]
    gather = _public("", "gather")
    w_sel = gather(wr, idx)
    w_sel = cast(w_sel, alpha.dtype)
    if eigvals_only:
        return w_sel
    return w_sel, gather(v, idx, axis=-1)
