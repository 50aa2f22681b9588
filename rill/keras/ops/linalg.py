"""``keras.ops.linalg``: Keras 3's linear algebra ops over ``rill.linalg``.

Inputs must be (batches of) matrices; ints are passed on as Keras' TensorFlow backend does
(so the decompositions raise for them), except ``norm``, which computes in floats.
``eig`` and ``lu_factor`` have no rill primitive: they run NumPy's LAPACK through
``rill.numpy_function`` (no gradient), in eager and traced code alike.
"""

from __future__ import annotations

import numpy as np

import rill as tf
from rill.keras import config
from rill.keras.ops._base import cast, keras_op, result_type, shape_list, tensor
from rill.keras.ops.numpy import moveaxis

__all__ = [
    "cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp", "lstsq", "lu_factor",
    "matrix_rank", "norm", "pinv", "qr", "solve", "solve_triangular", "svd",
]  # fmt: skip


def _op(cls):
    return keras_op(cls, module="linalg")


def _assert_2d(*xs):
    for a in xs:
        if a.shape.rank < 2:
            raise ValueError(
                f"Expected input to have rank >= 2. Received input with shape {a.shape}."
            )


def _assert_square(*xs):
    for a in xs:
        m, n = a.shape.as_list()[-2:]
        if m is not None and n is not None and m != n:
            raise ValueError(
                f"Expected a square matrix. Received non-square input with shape {a.shape}"
            )


def _assert_1d(*xs):
    for a in xs:
        if a.shape.rank < 1:
            raise ValueError(f"Expected input to have rank >= 1. Received scalar input {a}.")


def _assert_compat(a, b):
    sa, sb = a.shape.as_list(), b.shape.as_list()
    if len(sa) == len(sb) and None not in (sa[-2], sb[-2]) and sa[-2] != sb[-2]:
        raise ValueError(
            "Incompatible shapes between `a` and `b`. Expected `a.shape[-2] == b.shape[-2]`. "
            f"Received: a.shape={a.shape}, b.shape={b.shape}"
        )
    if len(sa) == len(sb) - 1 and None not in (sa[-1], sb[-1]) and sa[-1] != sb[-1]:
        raise ValueError(
            "Incompatible shapes between `a` and `b`. Expected `a.shape[-1] == b.shape[-1]`. "
            f"Received: a.shape={a.shape}, b.shape={b.shape}"
        )


def _matrix(x, square=True):
    x = tensor(x)
    _assert_2d(x)
    if square:
        _assert_square(x)
    return x


def _in_float32(fn, *xs):
    """``fn(*xs)`` computed in float32 for half-precision inputs (rill's decompositions
    have float32/float64 kernels), the outputs cast back."""
    half = xs[0].dtype.name if xs[0].dtype.name in ("float16", "bfloat16") else None
    if half is None:
        return fn(*xs)
    out = fn(*[cast(x, "float32") if x.dtype.is_floating else x for x in xs])
    return tf.nest.map_structure(lambda v: cast(v, half) if v.dtype.is_floating else v, out)


@_op("Cholesky")
def cholesky(x, upper=False):
    """The Cholesky factor of a positive-definite matrix (lower, or upper with
    ``upper``)."""
    x = _matrix(x)
    out = tf.debugging.check_numerics(_in_float32(tf.linalg.cholesky, x), "Cholesky")
    return tf.linalg.adjoint(out) if upper else out


@_op("CholeskyInverse")
def cholesky_inverse(x, upper=False):
    """The inverse of ``A`` from its Cholesky factor ``x`` (``A = x x^H``, or ``x^H x``
    with ``upper``)."""
    x = _matrix(x)
    eye = tf.eye(shape_list(x)[-1], dtype=x.dtype)
    inv_factor = tf.linalg.triangular_solve(x, tf.broadcast_to(eye, tf.shape(x)), lower=not upper)
    if upper:
        return tf.matmul(inv_factor, tf.linalg.adjoint(inv_factor))
    return tf.matmul(tf.linalg.adjoint(inv_factor), inv_factor)


@_op("Det")
def det(x):
    """The determinant."""
    return _in_float32(tf.linalg.det, _matrix(x))


@_op("Eig")
def eig(x):
    """Eigenvalues and right eigenvectors of a general square matrix (complex)."""
    x = _matrix(x)
    out = tf.complex64 if x.dtype.name in ("float32", "complex64", "float16") else tf.complex128

    def run(a):
        w, v = np.linalg.eig(a)
        return w.astype(out.np), v.astype(out.np)

    w, v = tf.numpy_function(run, [x], [out, out], stateful=False)
    shape = x.shape.as_list()
    return tf.ensure_shape(w, shape[:-1]), tf.ensure_shape(v, shape)


@_op("Eigh")
def eigh(x):
    """Eigenvalues (ascending) and eigenvectors of a symmetric/Hermitian matrix."""
    return tuple(_in_float32(lambda m: tuple(tf.linalg.eigh(m)), _matrix(x)))


@_op("Inv")
def inv(x):
    """The matrix inverse."""
    return _in_float32(tf.linalg.inv, _matrix(x))


def _lu_numpy(a):
    """LU with partial pivoting of square matrices: (LU packed, the row permutation ``p``
    with ``a[p] == L @ U``)."""
    a = np.array(a, copy=True)
    n = a.shape[-1]
    batch = a.reshape(-1, n, n)
    perms = np.tile(np.arange(n, dtype=np.int32), (batch.shape[0], 1))
    for m, p in zip(batch, perms):
        for k in range(n - 1):
            piv = k + int(np.argmax(np.abs(m[k:, k])))
            if piv != k:
                m[[k, piv]] = m[[piv, k]]
                p[[k, piv]] = p[[piv, k]]
            if m[k, k] != 0:
                m[k + 1 :, k] /= m[k, k]
                m[k + 1 :, k + 1 :] -= np.outer(m[k + 1 :, k], m[k, k + 1 :])
    return batch.reshape(a.shape), perms.reshape(a.shape[:-1])


@_op("LuFactor")
def lu_factor(x):
    """The LU factorisation with partial pivoting: the packed ``L\\U`` and the pivots as
    Keras' TensorFlow backend returns them (the inverse of the row permutation)."""
    x = tensor(x)
    _assert_2d(x)
    try:
        _assert_square(x)
    except ValueError as e:
        raise ValueError(
            f"LU decomposition failed: {e}. LU decomposition is only supported for square "
            "matrices in Tensorflow."
        ) from None
    lu, perm = tf.numpy_function(_lu_numpy, [x], [x.dtype, tf.int32], stateful=False)
    lu = tf.ensure_shape(lu, x.shape)
    perm = tf.ensure_shape(perm, x.shape.as_list()[:-1])
    return lu, tf.argsort(perm, axis=-1)


def _norm_dtype(x):
    d = x.dtype.name
    return config.floatx() if d == "int64" else result_type(d, float)


@_op("Norm")
def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - Keras' name
    """A vector norm (one axis) or matrix norm (two axes): NumPy's ``ord`` values."""
    if isinstance(ord, str) and ord not in ("fro", "nuc"):
        raise ValueError(
            f"Invalid `ord` argument. Expected one of {{'fro', 'nuc'}} when using string. "
            f"Received: ord={ord}"
        )
    x = tensor(x)
    rank = x.shape.rank
    axes = (
        tuple(range(rank))
        if axis is None
        else (axis if isinstance(axis, (list, tuple)) else (axis,))
    )
    if any(a < -rank or a >= rank for a in axes):
        raise ValueError(
            "All `axis` values must be in the range [-ndim, ndim). Received inputs with "
            f"ndim={rank}, while axis={axes}"
        )
    axes = tuple(a % rank for a in axes)
    x = cast(x, _norm_dtype(x))
    ax = axes[0] if len(axes) == 1 else list(axes)
    absx = tf.abs(x)
    if len(axes) == 1:
        if ord is None or ord == 2:
            sq = tf.math.real(x * tf.math.conj(x)) if x.dtype.is_complex else x * x
            return tf.sqrt(tf.reduce_sum(sq, axis=ax, keepdims=keepdims))
        if ord == float("inf"):
            return tf.reduce_max(absx, axis=ax, keepdims=keepdims)
        if ord == float("-inf"):
            return tf.reduce_min(absx, axis=ax, keepdims=keepdims)
        if ord == 0:
            return tf.reduce_sum(cast(tf.not_equal(x, 0), x.dtype.name), axis=ax,
                                 keepdims=keepdims)  # fmt: skip
        if isinstance(ord, str):
            raise ValueError(f"Invalid `ord` argument for vector norm. Received: ord={ord}")
        p = tf.constant(ord, absx.dtype)
        return tf.pow(tf.reduce_sum(tf.pow(absx, p), axis=ax, keepdims=keepdims), 1.0 / p)
    if len(axes) != 2:
        raise ValueError(f"Invalid axis values. Received: axis={axis}")
    row, col = axes
    if ord is None or ord == "fro":
        sq = tf.math.real(x * tf.math.conj(x)) if x.dtype.is_complex else x * x
        return tf.sqrt(tf.reduce_sum(sq, axis=list(axes), keepdims=keepdims))
    if ord in (1, -1, float("inf"), float("-inf")):
        summed_axis, reduced_axis = (row, col) if ord in (1, -1) else (col, row)
        pick = tf.reduce_max if ord in (1, float("inf")) else tf.reduce_min
        sums = tf.reduce_sum(absx, axis=summed_axis, keepdims=keepdims)
        if not keepdims and reduced_axis > summed_axis:
            reduced_axis -= 1
        return pick(sums, axis=reduced_axis, keepdims=keepdims)
    if ord in ("nuc", 2, -2):
        m = moveaxis.__wrapped__(x, (row, col), (-2, -1))
        s = tf.linalg.svd(m, compute_uv=False)
        out = {2: tf.reduce_max, -2: tf.reduce_min, "nuc": tf.reduce_sum}[ord](s, axis=-1)
        if keepdims:
            out = tf.expand_dims(tf.expand_dims(out, row), col)
        return out
    raise ValueError(f"Invalid `ord` argument for matrix norm. Received: ord={ord}")


@_op("Qr")
def qr(x, mode="reduced"):
    """The QR decomposition (``"reduced"`` or ``"complete"``)."""
    if mode not in ("reduced", "complete"):
        raise ValueError(
            "`mode` argument value not supported. Expected one of {'reduced', 'complete'}. "
            f"Received: mode={mode}"
        )
    x = _matrix(x, square=False)
    return tuple(_in_float32(lambda m: tuple(tf.linalg.qr(m, full_matrices=mode == "complete")), x))


def _solve_with(fn, a, b):
    a, b = tensor(a), tensor(b)
    _assert_2d(a)
    _assert_square(a)
    _assert_1d(b)
    _assert_compat(a, b)
    if b.shape.rank == a.shape.rank - 1:
        return tf.squeeze(_in_float32(fn, a, tf.expand_dims(b, -1)), -1)
    return _in_float32(fn, a, b)


@_op("Solve")
def solve(a, b):
    """``x`` with ``a @ x == b`` (``b`` a vector or a matrix)."""
    return _solve_with(tf.linalg.solve, a, b)


@_op("SolveTriangular")
def solve_triangular(a, b, lower=False):
    """``x`` with ``a @ x == b`` for a triangular ``a`` (upper unless ``lower``)."""
    return _solve_with(lambda m, r: tf.linalg.triangular_solve(m, r, lower=lower), a, b)


@_op("SVD")
def svd(x, full_matrices=True, compute_uv=True):
    """``(u, s, vh)`` with ``x == u @ diag(s) @ vh``; ``s`` alone without
    ``compute_uv``."""
    x = _matrix(x, square=False)
    if not compute_uv:
        return _in_float32(lambda m: tf.linalg.svd(m, full_matrices=full_matrices,
                                                   compute_uv=False), x)  # fmt: skip
    s, u, v = _in_float32(lambda m: tuple(tf.linalg.svd(m, full_matrices=full_matrices)), x)
    return u, s, tf.linalg.adjoint(v)


def _eps(dtype):
    return float(np.finfo(dtype.np).eps) if dtype.name != "bfloat16" else 2.0**-7


@_op("Lstsq")
def lstsq(a, b, rcond=None):
    """The least-squares solution of ``a @ x == b`` (singular values below ``rcond``
    times the largest are dropped)."""
    a, b = tensor(a), tensor(b)
    if a.shape.as_list()[0] != b.shape.as_list()[0]:
        raise ValueError("Leading dimensions of input arrays must match")
    vector = b.shape.rank == 1
    if vector:
        b = b[:, None]
    if a.shape.rank != 2:
        raise TypeError(f"{a.shape.rank}-dimensional array given. Array must be two-dimensional")
    if b.shape.rank != 2:
        raise TypeError(
            f"{b.shape.rank}-dimensional array given. Array must be one or two-dimensional"
        )
    m, n = shape_list(a)
    eps = _eps(a.dtype)
    cut = eps * max(m, n) if rcond is None else (eps if rcond < 0 else rcond)
    s, u, v = tf.linalg.svd(a, full_matrices=False)
    keep = s >= tf.constant(cut, s.dtype) * s[0]
    s_inv = tf.where(keep, 1.0 / tf.where(keep, s, tf.ones_like(s)), tf.zeros_like(s))
    s_inv = tf.cast(s_inv, a.dtype)[:, None]
    x = tf.matmul(v, s_inv * tf.matmul(tf.linalg.adjoint(u), cast(b, a.dtype.name)))
    return tf.reshape(x, [-1]) if vector else x


@_op("MatrixRank")
def matrix_rank(x, tol=None):
    """The number of singular values above ``tol`` (by default ``max(s) * max(m, n) *
    eps``), as int32."""
    x = _matrix(x, square=False)
    s = tf.linalg.svd(x, compute_uv=False)
    if tol is None:
        m, n = shape_list(x)[-2:]
        tol = tf.reduce_max(s, axis=-1, keepdims=True) * (
            tf.cast(tf.maximum(m, n), s.dtype) * _eps(s.dtype)
        )
    else:
        tol = tf.expand_dims(tf.cast(tol, s.dtype), -1)
    return tf.reduce_sum(cast(s > tol, "int32"), axis=-1)


@_op("Pinv")
def pinv(x, rcond=None):
    """The Moore-Penrose pseudo-inverse (singular values below ``rcond`` times the
    largest dropped; by default ``10 * max(m, n) * eps``)."""
    x = _matrix(x, square=False)
    s, u, v = tf.linalg.svd(x, full_matrices=False)
    if rcond is None:
        m, n = shape_list(x)[-2:]
        rcond = 10.0 * max(m, n) * _eps(s.dtype)
    cut = tf.constant(rcond, s.dtype) * tf.reduce_max(s, axis=-1, keepdims=True)
    keep = s > cut
    s_inv = tf.where(keep, 1.0 / tf.where(keep, s, tf.ones_like(s)), tf.zeros_like(s))
    return tf.matmul(v * tf.cast(s_inv, x.dtype)[..., None, :], tf.linalg.adjoint(u))


def jvp(fun, primals, tangents, has_aux=False):
    """The Jacobian-vector product of ``fun`` at ``primals`` along ``tangents``: returns
    ``(outputs, output tangents)`` (and ``aux`` with ``has_aux``). rill computes it by
    differentiating a vector-Jacobian product (reverse mode twice)."""
    flat_p = [tensor(p) for p in tf.nest.flatten(primals)]
    flat_t = [cast(tensor(t), p.dtype.name) for t, p in zip(tf.nest.flatten(tangents), flat_p)]
    packed = tf.nest.pack_sequence_as(primals, flat_p)
    with tf.GradientTape(persistent=True) as outer:
        with tf.GradientTape() as inner:
            for p in flat_p:
                inner.watch(p)
            result = fun(*packed)
        out, aux = (result[0], result[1]) if has_aux else (result, None)
        flat_out = tf.nest.flatten(out)
        dummies = [tf.zeros_like(o) for o in flat_out]
        for d in dummies:
            outer.watch(d)
        grads = inner.gradient(flat_out, flat_p, output_gradients=dummies,
                               unconnected_gradients="zero")  # fmt: skip
    tangents_out = []
    for d in dummies:
        g = outer.gradient(grads, d, output_gradients=flat_t, unconnected_gradients="zero")
        tangents_out.append(g)
    del outer
    tangents_out = tf.nest.pack_sequence_as(out, tangents_out)
    return (out, tangents_out, aux) if has_aux else (out, tangents_out)
