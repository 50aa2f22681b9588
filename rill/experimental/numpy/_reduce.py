"""tnp's reductions, cumulative functions and products (dot, matmul, einsum, ...).

Integer and bool inputs of ``sum``, ``prod`` and the cumulative functions widen to int64
(uint64 for unsigned), as NumPy's do; ``mean``, ``std`` and ``var`` compute integers in
``result_type(float)``; ``max``/``min`` keep the input's dtype.
"""

from __future__ import annotations

import builtins

import numpy as np

import rill as tf
from rill.core import dtypes as _d
from rill.experimental.numpy._dtypes import as_dtype, float_dtype, promote, result_type, tensor
from rill.ops._op import tf_export

_NS = "experimental.numpy"


def _export(fn):
    return tf_export(f"{_NS}.{fn.__name__}")(fn)


def _axis(axis):
    if isinstance(axis, list):
        return tuple(axis)
    return axis


def _widen_int(a):
    """NumPy's accumulator for integer and bool sums: int64, or uint64 for unsigned."""
    d = a.dtype
    if d is _d.bool or (d.is_integer and not d.is_unsigned and d.size < 8):
        return tf.cast(a, _d.int64)
    if d.is_unsigned and d.size < 8:
        return tf.cast(a, _d.uint64)
    return a


def _prepare(a, dtype, promote_int):
    dtype = as_dtype(dtype)
    a = tensor(a, dtype)
    if dtype is None and (a.dtype.is_integer or a.dtype is _d.bool):
        if promote_int == "int":
            a = _widen_int(a)
        elif promote_int == "float":
            a = tf.cast(a, float_dtype())
    return a


def _reduce_bool_aware(a, fn, axis, keepdims, bool_fn):
    if a.dtype is _d.bool:
        return bool_fn(a, axis=_axis(axis), keepdims=bool(keepdims))
    return fn(a, axis=_axis(axis), keepdims=bool(keepdims))


@_export
def sum(a, axis=None, dtype=None, keepdims=None):  # noqa: A001 - NumPy's name
    """Sum over ``axis`` (ints and bools accumulate in int64)."""
    a = _prepare(a, dtype, "int")
    if a.dtype is _d.bool:
        return tf.reduce_any(a, axis=_axis(axis), keepdims=bool(keepdims))
    return tf.reduce_sum(a, axis=_axis(axis), keepdims=bool(keepdims))


@_export
def prod(a, axis=None, dtype=None, keepdims=None):
    """Product over ``axis`` (ints and bools accumulate in int64)."""
    a = _prepare(a, dtype, "int")
    if a.dtype is _d.bool:
        return tf.reduce_all(a, axis=_axis(axis), keepdims=bool(keepdims))
    return tf.reduce_prod(a, axis=_axis(axis), keepdims=bool(keepdims))


@_export
def mean(a, axis=None, dtype=None, out=None, keepdims=None):
    """Arithmetic mean over ``axis`` (ints average as floats)."""
    _no_out(out, "mean")
    a = _prepare(a, dtype, "float")
    return tf.reduce_mean(a, axis=_axis(axis), keepdims=bool(keepdims))


def _no_out(out, name):
    if out is not None:
        raise ValueError(f"{name}: `out` is not supported: tensors are immutable.")


@_export
def amax(a, axis=None, out=None, keepdims=None):
    """Maximum over ``axis``, in ``a``'s dtype."""
    _no_out(out, "amax")
    a = tensor(a)
    return _reduce_bool_aware(a, tf.reduce_max, axis, keepdims, tf.reduce_any)


@_export
def amin(a, axis=None, out=None, keepdims=None):
    """Minimum over ``axis``, in ``a``'s dtype."""
    _no_out(out, "amin")
    a = tensor(a)
    return _reduce_bool_aware(a, tf.reduce_min, axis, keepdims, tf.reduce_all)


@_export
def max(a, axis=None, keepdims=None):  # noqa: A001 - NumPy's name
    """Maximum over ``axis``."""
    return amax(a, axis=axis, keepdims=keepdims)


@_export
def min(a, axis=None, keepdims=None):  # noqa: A001 - NumPy's name
    """Minimum over ``axis``."""
    return amin(a, axis=axis, keepdims=keepdims)


def _truth(a):
    a = tensor(a)
    return a if a.dtype is _d.bool else tf.not_equal(a, tf.zeros_like(a))


@_export
def all(a, axis=None, keepdims=None):  # noqa: A001 - NumPy's name
    """Whether every element along ``axis`` is true."""
    return tf.reduce_all(_truth(a), axis=_axis(axis), keepdims=bool(keepdims))


@_export
def any(a, axis=None, keepdims=None):  # noqa: A001 - NumPy's name
    """Whether some element along ``axis`` is true."""
    return tf.reduce_any(_truth(a), axis=_axis(axis), keepdims=bool(keepdims))


def _variance(a, axis, ddof, keepdims):
    axis = _axis(axis)
    m = tf.reduce_mean(a, axis=axis, keepdims=True)
    d = a - m
    sq = tf.math.real(d * tf.math.conj(d)) if a.dtype.is_complex else tf.square(d)
    total = tf.reduce_sum(sq, axis=axis, keepdims=bool(keepdims))
    n = tf.cast(tf.size(a), sq.dtype) / tf.cast(tf.size(total), sq.dtype)
    if keepdims:
        n = tf.cast(tf.size(a), sq.dtype) / tf.cast(tf.size(m), sq.dtype)
    return total / (n - tf.cast(ddof, sq.dtype))


@_export
def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=None):
    """Variance over ``axis`` with ``ddof`` delta degrees of freedom."""
    _no_out(out, "var")
    a = _prepare(a, dtype, "float")
    return _variance(a, axis, ddof, keepdims)


@_export
def std(a, axis=None, keepdims=None):
    """Standard deviation over ``axis``."""
    a = _prepare(a, None, "float")
    return tf.sqrt(_variance(a, axis, 0, keepdims))


@_export
def ptp(a, axis=None, keepdims=None):
    """max - min over ``axis``."""
    return tf.subtract(amax(a, axis=axis, keepdims=keepdims), amin(a, axis=axis, keepdims=keepdims))


@_export
def count_nonzero(a, axis=None):
    """How many elements along ``axis`` are non-zero (int64)."""
    return tf.math.count_nonzero(_truth(a), axis=_axis(axis), dtype=_d.int64)


@_export
def average(a, axis=None, weights=None, returned=False):
    """Weighted mean over ``axis``; with ``returned``, also the sum of the weights."""
    a = tensor(a)
    if weights is None:
        if not (a.dtype.is_floating or a.dtype.is_complex):
            a = tf.cast(a, result_type(a.dtype, float_dtype()))
        avg = tf.reduce_mean(a, axis=_axis(axis))
        if returned:
            count = tf.cast(tf.size(a) // tf.size(avg), avg.dtype)
            return avg, tf.broadcast_to(count, tf.shape(avg))
        return avg
    w = tensor(weights)
    out_dtype = result_type(a.dtype, w.dtype, float_dtype())
    if a.dtype.is_floating or a.dtype.is_complex:
        out_dtype = result_type(a.dtype, w.dtype)
    a, w = tf.cast(a, out_dtype), tf.cast(w, out_dtype)
    if axis is not None and w.shape.rank == 1 and a.shape.rank != 1:
        # 1-D weights apply along ``axis``: shape them to broadcast there
        ax = axis % a.shape.rank
        shape = [1] * a.shape.rank
        shape[ax] = -1
        w = tf.reshape(w, shape)
    w = tf.broadcast_to(w, tf.shape(a))
    wsum = tf.reduce_sum(w, axis=_axis(axis))
    avg = tf.reduce_sum(a * w, axis=_axis(axis)) / wsum
    return (avg, wsum) if returned else avg


def _cumulative(fn, a, axis, dtype):
    a = tensor(a, as_dtype(dtype))
    if dtype is None and (a.dtype.is_integer or a.dtype is _d.bool):
        # NumPy's promote_types(dtype, int): int64 for every narrower integer
        a = tf.cast(a, result_type(np.promote_types(a.dtype.np, np.int64)))
    if axis is None:
        a = tf.reshape(a, [-1])
        axis = 0
    return fn(a, axis=axis)


@_export
def cumsum(a, axis=None, dtype=None):
    """Running sum along ``axis`` (flattened when None)."""
    return _cumulative(tf.math.cumsum, a, axis, dtype)


@_export
def cumprod(a, axis=None, dtype=None):
    """Running product along ``axis`` (flattened when None)."""
    return _cumulative(tf.math.cumprod, a, axis, dtype)


def _nan_reduce(fn, fill, a, axis, dtype, keepdims):
    a = tensor(a)
    if a.dtype.is_floating or a.dtype.is_complex:
        nan = tf.math.is_nan(tf.math.real(a) if a.dtype.is_complex else a)
        a = tf.where(nan, tf.cast(fill, a.dtype) * tf.ones_like(a), a)
    return fn(a, axis=axis, dtype=dtype, keepdims=keepdims)


@_export
def nansum(a, axis=None, dtype=None, keepdims=False):
    """Sum treating NaN as zero."""
    return _nan_reduce(sum, 0, a, axis, dtype, keepdims)


@_export
def nanprod(a, axis=None, dtype=None, keepdims=False):
    """Product treating NaN as one."""
    return _nan_reduce(prod, 1, a, axis, dtype, keepdims)


@_export
def nanmean(a, axis=None, dtype=None, keepdims=None):
    """Mean of the non-NaN elements (NaN where all are NaN)."""
    a = tensor(a)
    if not (a.dtype.is_floating or a.dtype.is_complex):
        return mean(a, axis=axis, dtype=dtype, keepdims=keepdims)
    nan = tf.math.is_nan(tf.math.real(a) if a.dtype.is_complex else a)
    total = nansum(a, axis=axis, dtype=dtype, keepdims=keepdims)
    count = sum(tf.logical_not(nan), axis=axis, keepdims=keepdims)
    return total / tf.cast(count, total.dtype)


def _argminmax(fn, a, axis):
    a = tensor(a)
    if a.dtype is _d.bool:
        a = tf.cast(a, _d.int8)
    if axis is None:
        a = tf.reshape(a, [-1])
        axis = 0
    return fn(a, axis=axis, output_type=_d.int64)


@_export
def argmax(a, axis=None):
    """Index of the maximum along ``axis`` (flattened when None; the first on ties)."""
    return _argminmax(tf.argmax, a, axis)


@_export
def argmin(a, axis=None):
    """Index of the minimum along ``axis`` (flattened when None; the first on ties)."""
    return _argminmax(tf.argmin, a, axis)


@_export
def trace(a, offset=0, axis1=0, axis2=1, dtype=None):
    """Sum of the ``offset`` diagonal of the ``axis1``/``axis2`` planes."""
    from rill.experimental.numpy._array import diagonal

    a = tensor(a, as_dtype(dtype))
    r = a.shape.rank
    if offset == 0 and axis1 in (-2, r - 2) and axis2 in (-1, r - 1):
        # the trace of the last two axes stays in a's dtype, as TF's tnp
        return tf.linalg.trace(a)
    d = diagonal(a, offset=offset, axis1=axis1, axis2=axis2)
    return sum(d, axis=-1, dtype=dtype)


# ----------------------------------------------------------------------------- products
def _bool_to_int(a):
    return tf.cast(a, _d.int64) if a.dtype is _d.bool else a


@_export
def matmul(x1, x2):
    """Matrix product with NumPy's rules for 1-D operands and batch broadcasting."""
    a, b = promote(x1, x2)
    is_bool = a.dtype is _d.bool
    a, b = _bool_to_int(a), _bool_to_int(b)
    if a.shape.rank == 0 or b.shape.rank == 0:
        raise ValueError("matmul: an input is a scalar: use multiply for scalar products.")
    va, vb = a.shape.rank == 1, b.shape.rank == 1
    if va:
        a = a[None, :]
    if vb:
        b = b[:, None]
    out = _batched_matmul(a, b)
    if va and vb:
        out = out[..., 0, 0]
    elif va:
        out = out[..., 0, :]
    elif vb:
        out = out[..., 0]
    return tf.cast(out, _d.bool) if is_bool else out


def _batched_matmul(a, b):
    ra, rb = a.shape.rank, b.shape.rank
    if ra > 2 or rb > 2:
        batch = tf.broadcast_dynamic_shape(tf.shape(a)[:-2], tf.shape(b)[:-2])
        a = tf.broadcast_to(a, tf.concat([batch, tf.shape(a)[-2:]], 0))
        b = tf.broadcast_to(b, tf.concat([batch, tf.shape(b)[-2:]], 0))
    return tf.matmul(a, b)


@_export
def dot(a, b):
    """NumPy's dot: products of scalars, vectors, matrices and the last/second-to-last axes."""
    a, b = promote(a, b)
    if a.shape.rank == 0 or b.shape.rank == 0:
        return multiply_any(a, b)
    if b.shape.rank <= 2 and a.shape.rank <= 2:
        return matmul(a, b)
    # contract a's last axis with b's second-to-last
    return tf.tensordot(
        _bool_to_int(a), _bool_to_int(b), [[a.shape.rank - 1], [builtins.max(b.shape.rank - 2, 0)]]
    )


def multiply_any(a, b):
    if a.dtype is _d.bool:
        return tf.logical_and(a, b)
    return a * b


@_export
def vdot(a, b):
    """Dot product of the flattened arguments, conjugating the first."""
    a, b = promote(a, b)
    a, b = tf.reshape(a, [-1]), tf.reshape(b, [-1])
    if a.dtype.is_complex:
        a = tf.math.conj(a)
    return dot(a, b)


@_export
def inner(a, b):
    """Sum-product over the last axes of ``a`` and ``b``."""
    a, b = promote(a, b)
    if a.shape.rank == 0 or b.shape.rank == 0:
        return multiply_any(a, b)
    return tf.tensordot(_bool_to_int(a), _bool_to_int(b), [[-1], [-1]])


@_export
def outer(a, b):
    """Outer product of the flattened arguments."""
    a, b = promote(a, b)
    return multiply_any(tf.reshape(a, [-1, 1]), tf.reshape(b, [1, -1]))


@_export
def tensordot(a, b, axes=2):
    """Sum-product over the given axes (an int: the last/first ``axes`` axes)."""
    a, b = promote(a, b)
    return tf.tensordot(a, b, axes)


@_export
def kron(a, b):
    """Kronecker product."""
    a, b = promote(a, b)
    ra, rb = a.shape.rank, b.shape.rank
    n = builtins.max(ra, rb)
    a = tf.reshape(a, [1] * (n - ra) + a.shape.as_list())
    b = tf.reshape(b, [1] * (n - rb) + b.shape.as_list())
    sa, sb = a.shape.as_list(), b.shape.as_list()
    # interleave: a's axes as (d, 1), b's as (1, d), then merge each pair
    a2 = tf.reshape(a, [x for d in sa for x in (d, 1)])
    b2 = tf.reshape(b, [x for d in sb for x in (1, d)])
    return tf.reshape(multiply_any(a2, b2), [x * y for x, y in zip(sa, sb)])


@_export
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 2- or 3-vectors along the given axes."""
    from rill.keras.ops import numpy as knp

    a, b = promote(a, b)
    return knp.cross(a, b, axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)


@_export
def einsum(subscripts, *operands, **kwargs):
    """Einstein summation over ``operands`` (promoted to one dtype)."""
    ops = promote(*operands)
    return tf.einsum(subscripts, *ops)


@_export
def polyval(p, x):
    """The polynomial with coefficients ``p`` (highest first) at ``x``."""
    p, x = promote(p, x)
    out = tf.zeros_like(x)
    for i in range(p.shape[0]):
        out = out * x + p[i]
    return out


_ = np
