"""Lowerings to JAX of the diagonal ops, decompositions and solvers, whose NumPy kernels
loop in place or check their inputs on the host. Each is a ``lowering=`` fact of its
primitive; ``ctx`` is ``rill.xla``'s LoweringContext, so this module imports nothing
from JAX itself.

A compiled computation cannot raise on values: where a kernel checks its inputs on the
host (a singular LU pivot, a NaN in a decomposition's input) the lowering documents what
XLA computes instead. Offsets and counts are host-known (params, or ``_static`` inputs),
since XLA's shapes are fixed when compiling.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "matrix_diag",
    "matrix_diag_part",
    "matrix_set_diag",
    "svd",
    "eigh",
    "lu",
    "expm",
    "tridiagonal_solve",
]


# diagonals ------------------------------------------------------------------------------


def matrix_diag(ctx, x, k=0, num_rows=-1, num_cols=-1, padding_value=0):
    """MatrixDiagV3: the diagonal ``k`` scattered into a matrix of ``padding_value``."""
    from rill.ops.linalg_ops import _diag_index, _diag_len, _resolve_rc

    x = ctx.jnp.asarray(x)
    r, c = _resolve_rc(x.shape[-1], k, num_rows, num_cols)
    if _diag_len(r, c, k) != x.shape[-1]:
        raise ValueError("bad diag size")  # the shape rule said why when building
    ri, ci = _diag_index(np, r, c, k)  # host index vectors: a static scatter
    out = ctx.jnp.full(x.shape[:-1] + (r, c), padding_value, dtype=x.dtype)
    return out.at[..., ri, ci].set(x)


def matrix_diag_part(ctx, x, k=0, padding_value=0):
    """MatrixDiagPartV3: a gather of the diagonal ``k``."""
    from rill.ops.linalg_ops import _diag_index

    x = ctx.jnp.asarray(x)
    ri, ci = _diag_index(np, x.shape[-2], x.shape[-1], k)
    return x[..., ri, ci]


def matrix_set_diag(ctx, x, dg, k=0):
    """MatrixSetDiagV3: the diagonal ``k`` replaced by ``dg``."""
    from rill.ops.linalg_ops import _diag_index

    x = ctx.jnp.asarray(x)
    ri, ci = _diag_index(np, x.shape[-2], x.shape[-1], k)
    return x.at[..., ri, ci].set(ctx.jnp.asarray(dg, dtype=x.dtype))


# decompositions -------------------------------------------------------------------------


def _real_dtype(dt):
    dt = np.dtype(dt)
    return {"complex64": np.dtype(np.float32), "complex128": np.dtype(np.float64)}.get(dt.name, dt)


def _poison(ctx, v, bad, nd):
    """``v`` with every output of a bad matrix NaN (``nd``: v's dims per matrix)."""
    return ctx.jnp.where(bad.reshape(bad.shape + (1,) * nd), np.asarray(np.nan, v.dtype), v)


def svd(ctx, x, full_matrices=False, compute_uv=True):
    """Svd: XLA's (LAPACK's gesdd on CPU) ``(s, u, v)``, v = adjoint(vh). As the kernel,
    a matrix with a NaN or an infinity gives all-NaN outputs. On CPU the singular vectors'
    signs are NumPy's (both call LAPACK); another solver (cuSOLVER) may flip a pair of
    vectors (u_i, v_i) together, which leaves ``u diag(s) v^H`` as it was."""
    jnp = ctx.jnp
    x = jnp.asarray(x)
    sdt = _real_dtype(x.dtype)
    bad = ~jnp.all(jnp.isfinite(x), axis=(-2, -1))
    x = jnp.where(bad[..., None, None], jnp.zeros((), x.dtype), x)
    if not compute_uv:
        s = jnp.linalg.svd(x, compute_uv=False).astype(sdt)
        return (_poison(ctx, s, bad, 1),)
    u, s, vh = jnp.linalg.svd(x, full_matrices=full_matrices)
    v = jnp.conj(jnp.swapaxes(vh, -1, -2))
    return (
        _poison(ctx, s.astype(sdt), bad, 1),
        _poison(ctx, u.astype(x.dtype), bad, 2),
        _poison(ctx, v.astype(x.dtype), bad, 2),
    )


def eigh(ctx, x, compute_v=True):
    """SelfAdjointEigV2: XLA's Hermitian eigensolver on the lower triangle alone (no
    symmetrising, as the kernel and TF read it), ascending eigenvalues. Where the executor
    raises (a NaN in the lower triangle, an infinite entry below the diagonal) that
    matrix's outputs are NaN. Eigenvector signs (phases) are the solver's: NumPy's on CPU
    in float64 (both LAPACK's syevd), possibly flipped elsewhere."""
    jnp = ctx.jnp
    x = jnp.asarray(x)
    low_nan = jnp.any(jnp.isnan(jnp.tril(x)), axis=(-2, -1))
    off_inf = ~jnp.all(jnp.isfinite(jnp.tril(x, -1)), axis=(-2, -1))
    bad = low_nan | off_inf
    x = jnp.where(bad[..., None, None], jnp.zeros((), x.dtype), x)
    v, e = ctx.lax.linalg.eigh(x, lower=True, symmetrize_input=False)
    e = _poison(ctx, e.astype(x.dtype), bad, 1)
    if not compute_v:
        return (e,)
    return e, _poison(ctx, v, bad, 2)


def lu(ctx, x, output_idx_type=None):
    """Lu: the kernel's elimination (partial pivoting on the first largest modulus,
    column by column) as one ``fori_loop`` over a batch of matrices, so pivots and
    rounding are the kernel's (LAPACK's getrf pivots complex matrices on |re| + |im|).
    A zero pivot, the executor's "Input is not invertible", leaves inf/NaN in ``lu``
    here: a compiled computation cannot raise on values."""
    jnp, lax = ctx.jnp, ctx.lax
    x = jnp.asarray(x)
    n = x.shape[-1]
    work = x.astype(np.float32) if x.dtype == np.float16 else x
    a = work.reshape((-1, n, n))
    rows = jnp.arange(n)
    perm = jnp.broadcast_to(rows.astype(np.int64), a.shape[:2])

    def step(k, carry):
        a, perm = carry
        mag = jnp.abs(a[:, :, k])
        # rows above k never pivot; a NaN modulus wins, as NumPy's argmax picks it
        piv = jnp.argmax(jnp.where(rows >= k, mag, -1), axis=1)[:, None]
        swap = jnp.where(rows == k, piv, jnp.where(rows == piv, k, rows))  # (batch, n)
        a = jnp.take_along_axis(a, swap[:, :, None], axis=1)
        perm = jnp.take_along_axis(perm, swap, axis=1)
        below = rows > k
        col = a[:, :, k]
        mult = jnp.where(below, col / a[:, k, k][:, None], col)
        a = a.at[:, :, k].set(mult)
        upd = mult[:, :, None] * a[:, k, :][:, None, :]
        a = a - jnp.where(below[:, None] & below[None, :], upd, jnp.zeros((), a.dtype))
        return a, perm

    a, perm = lax.fori_loop(0, n, step, (a, perm))
    out_idx = np.int32 if output_idx_type is None else output_idx_type.np
    return a.reshape(x.shape).astype(x.dtype), perm.reshape(x.shape[:-1]).astype(out_idx)


def expm(ctx, x):
    """MatrixExponential: the kernel's scaling and squaring with the degree-13 Pade
    approximant; each matrix is squared as often as its own 1-norm asks, in a
    ``while_loop`` bounded by the largest count of the batch."""
    from rill.ops.linalg_decomposition_ops import _expm_pade

    jnp, lax = ctx.jnp, ctx.lax
    x = jnp.asarray(x)
    r, s = _expm_pade(x, jnp)
    if s.size == 0:
        return r.astype(x.dtype)

    def square(k, r):
        return jnp.where((k < s)[..., None, None], r @ r, r)

    return lax.fori_loop(0, jnp.max(s), square, r).astype(x.dtype)


def tridiagonal_solve(ctx, diags, rhs, partial_pivoting=True, perturb_singular=False):
    """TridiagonalSolve: the kernel's elimination on the band (gtsv's scheme, row swaps
    where ``partial_pivoting`` finds the subdiagonal larger) as a ``scan`` down the rows,
    then back substitution as a ``scan`` up them; batch and right-hand sides vectorised."""
    jnp, lax = ctx.jnp, ctx.lax
    diags, rhs = jnp.asarray(diags), jnp.asarray(rhs)
    m = diags.shape[-1]
    batch = tuple(np.broadcast_shapes(diags.shape[:-2], rhs.shape[:-2]))
    b = jnp.broadcast_to(rhs, batch + rhs.shape[-2:])
    if m == 0:
        return b
    up = jnp.broadcast_to(diags[..., 0, :], batch + (m,)).at[..., m - 1].set(0)
    dg = jnp.broadcast_to(diags[..., 1, :], batch + (m,))
    lo = jnp.broadcast_to(diags[..., 2, :], batch + (m,))
    zero = jnp.zeros((), diags.dtype)
    pert = None
    if perturb_singular:
        info = np.finfo(_real_dtype(diags.dtype))
        big = jnp.max(jnp.abs(diags), axis=(-2, -1))
        pert = jnp.broadcast_to(jnp.maximum(info.eps * big, info.tiny), batch)
    nb = len(batch)
    # rows leading: the scans walk axis 0
    up, dg, lo, b = (jnp.moveaxis(t, nb, 0) for t in (up, dg, lo, b))

    def eliminate(carry, row):
        di, ui, bi = carry  # row i as earlier steps left it
        li, dn, un, bn = row  # row i + 1 as given (up[m - 1] is zero)
        if pert is not None:
            di = jnp.where((di == 0) & (li == 0), pert.astype(di.dtype), di)
        swap = jnp.abs(di) < jnp.abs(li) if partial_pivoting else jnp.zeros(batch, bool)
        f0 = li / di  # no swap: row i+1 -= f0 row i
        f1 = di / li  # swap: rows trade places, then the new row i+1 -= f1 new row i
        s = swap[..., None]
        done = (
            jnp.where(swap, li, di),
            jnp.where(swap, dn, ui),
            jnp.where(swap, un, zero),
            jnp.where(s, bn, bi),
        )
        nxt = (
            jnp.where(swap, ui - f1 * dn, dn - f0 * ui),
            jnp.where(swap, -f1 * un, un),
            jnp.where(s, bi - f1[..., None] * bn, bn - f0[..., None] * bi),
        )
        return nxt, done

    (last, _, b_last), (dgs, ups, up2s, bs) = lax.scan(
        eliminate, (dg[0], up[0], b[0]), (lo[1:], dg[1:], up[1:], b[1:])
    )
    if pert is not None:
        last = jnp.where(last == 0, pert.astype(last.dtype), last)
    x_last = b_last / last[..., None]

    def substitute(carry, row):
        x1, x2 = carry  # x[i + 1], x[i + 2] (zero past the end: up2[m - 2] is zero)
        d, u, u2, bi = row
        xi = (bi - u[..., None] * x1 - u2[..., None] * x2) / d[..., None]
        return (xi, x1), xi

    _, xs = lax.scan(
        substitute, (x_last, jnp.zeros_like(x_last)), (dgs, ups, up2s, bs), reverse=True
    )
    x = jnp.concatenate([xs, x_last[None]], axis=0)
    return jnp.moveaxis(x, 0, nb)
