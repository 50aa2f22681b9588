"""tnp's array creation, shape manipulation, joining, splitting, indexing and sorting."""

from __future__ import annotations

import builtins
import math as _math

import numpy as np

import rill as tf
from rill.core import dtypes as _d
from rill.core.tensor import Tensor
from rill.experimental.numpy._dtypes import (
    as_dtype,
    float_dtype,
    float_like,
    promote,
    result_type,
    tensor,
)
from rill.ops._op import tf_export

_NS = "experimental.numpy"


def _export(fn):
    return tf_export(f"{_NS}.{fn.__name__}")(fn)


def _shape_arg(shape):
    if isinstance(shape, Tensor):
        return shape
    if isinstance(shape, (int, np.integer)):
        return [int(shape)]
    return [int(s) for s in shape]


def _static(v, what):
    if isinstance(v, Tensor):
        val = tf.get_static_value(v)
        if val is None:
            raise ValueError(f"{what} must be known when the function is traced, got {v}.")
        return val.tolist()
    return v


# --------------------------------------------------------------------------- creation
@_export
def array(val, dtype=None, copy=True, ndmin=0):  # noqa: A002 - NumPy's name
    """A tensor of ``val`` (tnp's dtype inference), with at least ``ndmin`` dimensions."""
    if ndmin > 32:
        raise ValueError(f"array: ndmin bigger than allowable number of dimensions: {ndmin} > 32.")
    t = tensor(val, dtype)
    if copy and t is val:
        t = tf.identity(t)
    if ndmin > t.shape.rank:
        t = tf.reshape(t, [1] * (ndmin - t.shape.rank) + _dims(t))
    return t


def _dims(t):
    dims = t.shape.as_list()
    if None in dims:
        return tf.shape(t)
    return dims


@_export
def asarray(a, dtype=None):
    """``a`` as a tensor (itself when it already is one of ``dtype``)."""
    return tensor(a, dtype)


@_export
def asanyarray(a, dtype=None):
    """``a`` as a tensor."""
    return tensor(a, dtype)


@_export
def ascontiguousarray(a, dtype=None):
    """``a`` as a tensor with at least one dimension."""
    return array(a, dtype=dtype, ndmin=1)


@_export
def copy(a):
    """A copy of ``a``."""
    return array(a, copy=True)


def _filled(shape, value, dtype):
    return tf.fill(_shape_arg(shape), tf.cast(value, dtype))


@_export
def zeros(shape, dtype=float):
    """A tensor of zeros."""
    return _filled(shape, 0, as_dtype(dtype))


@_export
def ones(shape, dtype=float):
    """A tensor of ones."""
    return _filled(shape, 1, as_dtype(dtype))


@_export
def empty(shape, dtype=float):
    """A tensor of ``shape`` (filled with zeros: tensors are never uninitialised)."""
    return zeros(shape, dtype)


@_export
def full(shape, fill_value, dtype=None):
    """A tensor of ``shape`` filled with ``fill_value`` (broadcast)."""
    fill = tensor(fill_value, dtype)
    return tf.broadcast_to(fill, _shape_arg(shape))


def _like_dtype(a, dtype):
    return as_dtype(dtype) if dtype is not None else tensor(a).dtype


@_export
def zeros_like(a, dtype=None):
    """Zeros of ``a``'s shape and dtype (or ``dtype``)."""
    return tf.zeros_like(tensor(a), dtype=_like_dtype(a, dtype))


@_export
def ones_like(a, dtype=None):
    """Ones of ``a``'s shape and dtype (or ``dtype``)."""
    return tf.ones_like(tensor(a), dtype=_like_dtype(a, dtype))


@_export
def empty_like(a, dtype=None):
    """A tensor of ``a``'s shape (zeros)."""
    return zeros_like(a, dtype)


@_export
def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None):
    """``fill_value`` broadcast to ``a``'s shape (or ``shape``) in ``a``'s dtype."""
    if order != "K":
        raise ValueError(f"full_like: only order='K' is supported, got {order!r}.")
    if not subok:
        raise ValueError("full_like: subok=False is not supported.")
    a = tensor(a)
    dtype = _like_dtype(a, dtype)
    target = tf.shape(a) if shape is None else _shape_arg(shape)
    return tf.broadcast_to(tensor(fill_value, dtype), target)


@_export
def eye(N, M=None, k=0, dtype=float):  # noqa: N803 - NumPy's name
    """A 2-D tensor with ones on the ``k``-th diagonal."""
    dtype = as_dtype(dtype)
    M = N if M is None else M  # noqa: N806
    rows = np.arange(N)[:, None]
    cols = np.arange(M)[None, :]
    return tf.constant((cols - rows == k).astype(dtype.np), dtype)


@_export
def identity(n, dtype=float):
    """The ``n`` x ``n`` identity matrix."""
    return eye(n, dtype=dtype)


@_export
def tri(N, M=None, k=0, dtype=None):  # noqa: N803 - NumPy's name
    """Ones at and below the ``k``-th diagonal."""
    dtype = as_dtype(dtype) if dtype is not None else float_dtype()
    M = N if M is None else M  # noqa: N806
    mask = np.arange(M)[None, :] <= np.arange(N)[:, None] + k
    return tf.constant(mask.astype(dtype.np), dtype)


def _tri_mask(m, k, lower):
    m = tensor(m)
    if m.shape.rank < 2:
        raise ValueError(
            f"{'tril' if lower else 'triu'}: the argument must be at least 2-D, got shape {m.shape}."
        )
    n, c = m.shape.as_list()[-2:]
    rows = np.arange(n)[:, None]
    cols = np.arange(c)[None, :]
    keep = cols <= rows + k if lower else cols >= rows + k
    return tf.where(tf.constant(keep), m, tf.zeros_like(m))


@_export
def tril(m, k=0):
    """``m`` with the elements above the ``k``-th diagonal zeroed."""
    return _tri_mask(m, k, True)


@_export
def triu(m, k=0):
    """``m`` with the elements below the ``k``-th diagonal zeroed."""
    return _tri_mask(m, k, False)


@_export
def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in [start, stop) by ``step``."""
    if stop is None:
        start, stop = 0, start
    start, stop, step = (_static(v, "arange bounds") for v in (start, stop, step))
    if step == 0:
        raise ValueError("arange: step must be non-zero.")
    dtype = as_dtype(dtype) if dtype is not None else result_type(start, stop, step)
    n = builtins.max(int(_math.ceil((stop - start) / step)), 0)
    if dtype.is_integer or dtype is _d.bool:
        values = np.arange(n, dtype=np.int64) * int(step) + int(start) if n else np.zeros(0)
        return tf.constant(np.asarray(values).astype(dtype.np), dtype)
    idx = tf.range(n, dtype=_d.float64)
    out = tf.cast(start, _d.float64) + idx * tf.cast(step, _d.float64)
    return tf.cast(out, dtype)


@_export
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=float, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop``."""
    if num < 0:
        raise ValueError(f"linspace: num must be non-negative, got {num}.")
    # TF's tnp (on NumPy 2) takes the dtype of ``start * 1.0`` and ``stop * 1.0`` and
    # ignores ``dtype``
    dtype = result_type(float_like(start), float_like(stop))
    start, stop = tensor(start), tensor(stop)
    work = result_type(start.dtype, stop.dtype, float_dtype())
    if not (work.is_floating or work.is_complex):
        work = float_dtype()
    start, stop = tf.cast(start, work), tf.cast(stop, work)
    div = (num - 1) if endpoint else num
    step = (stop - start) / tf.cast(builtins.max(div, 1), work)
    shape = tf.broadcast_dynamic_shape(tf.shape(start), tf.shape(stop))
    start = tf.broadcast_to(start, shape)
    step_b = tf.broadcast_to(step, shape)
    idx = tf.reshape(tf.cast(tf.range(num), work), [-1] + [1] * start.shape.rank)
    out = start[None] + idx * step_b[None]
    if endpoint and num > 1:
        # the last value is exactly ``stop``, as NumPy's
        out = tf.concat([out[:-1], tf.broadcast_to(stop, shape)[None]], 0)
    if axis != 0:
        out = moveaxis(out, 0, axis)
    out = tf.cast(out, dtype)
    if retstep:
        return out, tf.cast(step, dtype) if div > 0 else tf.cast(np.nan, work)
    return out


@_export
def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """``base ** linspace(start, stop, num)``."""
    out_dtype = (
        as_dtype(dtype) if dtype is not None else result_type(float_like(start), float_like(stop))
    )
    exps = linspace(start, stop, num=num, endpoint=endpoint, dtype=None, axis=axis)
    out = tf.pow(tf.cast(base, exps.dtype), exps)
    return tf.cast(out, out_dtype)


@_export
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` values spaced evenly on a log scale from ``start`` to ``stop``."""
    out_dtype = (
        as_dtype(dtype) if dtype is not None else result_type(float_like(start), float_like(stop))
    )
    start, stop = tensor(start), tensor(stop)
    work = result_type(start.dtype, stop.dtype, float_dtype())
    start, stop = tf.cast(start, work), tf.cast(stop, work)
    logs = linspace(
        tf.math.log(start) / np.log(10.0),
        tf.math.log(stop) / np.log(10.0),
        num=num,
        endpoint=endpoint,
        dtype=None,
        axis=0,
    )
    out = tf.pow(tf.cast(10.0, work), logs)
    # pin the ends to the exact inputs
    n = out.shape[0]
    if n:
        pieces = [start[None]]
        if n > 2 or (n == 2 and not endpoint):
            pieces.append(out[1 : n - 1] if endpoint else out[1:])
        if endpoint and n > 1:
            pieces.append(stop[None])
        out = tf.concat(
            [tf.broadcast_to(p, [p.shape[0]] + out.shape.as_list()[1:]) for p in pieces], 0
        )
    if axis != 0:
        out = moveaxis(out, 0, axis)
    return tf.cast(out, out_dtype)


@_export
def diag(v, k=0):
    """The ``k``-th diagonal of a 2-D ``v``, or a matrix with 1-D ``v`` on it."""
    v = tensor(v)
    if v.shape.rank == 1:
        return tf.linalg.diag(v, k=k)
    if v.shape.rank != 2:
        raise ValueError(f"diag: the input must be 1-D or 2-D, got shape {v.shape}.")
    return diagonal(v, offset=k)


@_export
def diagflat(v, k=0):
    """A matrix with the flattened ``v`` on its ``k``-th diagonal."""
    return diag(tf.reshape(tensor(v), [-1]), k)


@_export
def diagonal(a, offset=0, axis1=0, axis2=1):
    """The ``offset`` diagonal of the planes ``axis1``/``axis2``, as the last axis."""
    a = tensor(a)
    r = a.shape.rank
    axis1, axis2 = axis1 % r, axis2 % r
    rest = [i for i in range(r) if i not in (axis1, axis2)]
    a = tf.transpose(a, rest + [axis1, axis2])
    n, m = a.shape.as_list()[-2:]
    if (offset >= 0 and offset >= m) or (offset < 0 and -offset >= n):
        return tf.zeros(a.shape.as_list()[:-2] + [0], a.dtype)
    return tf.linalg.diag_part(a, k=offset)


@_export
def diag_indices(n, ndim=2):
    """The indices of the main diagonal of an ``n``^``ndim`` array (int64 vectors)."""
    if n < 0:
        raise ValueError(f"diag_indices: n must be non-negative, got {n}.")
    idx = tf.range(n, dtype=_d.int64)
    return tuple(idx for _ in range(ndim))


@_export
def vander(x, N=None, increasing=False):  # noqa: N803 - NumPy's name
    """The Vandermonde matrix of 1-D ``x``: columns are powers of ``x``."""
    x = tensor(x)
    if x.shape.rank != 1:
        raise ValueError(f"vander: x must be 1-D, got shape {x.shape}.")
    n = x.shape[0] if N is None else N
    if x.dtype is _d.bool:
        x = tf.cast(x, _d.int64)
    powers = np.arange(n) if increasing else np.arange(n - 1, -1, -1)
    if n == 0:
        return tf.zeros([x.shape[0], 0], x.dtype)
    cols = [tf.ones_like(x) if p == 0 else _ipow(x, p) for p in powers]
    return tf.stack(cols, axis=1)


def _ipow(x, p):
    out = x
    for _ in range(int(p) - 1):
        out = out * x
    return out


@_export
def meshgrid(*xi, **kwargs):
    """Coordinate matrices from coordinate vectors (``indexing='xy'`` or ``'ij'``)."""
    sparse = kwargs.get("sparse", False)
    indexing = kwargs.get("indexing", "xy")
    copy_ = kwargs.get("copy", True)
    if sparse:
        raise ValueError("meshgrid: sparse=True is not supported.")
    if not copy_:
        raise ValueError("meshgrid: copy=False is not supported.")
    xs = [tf.reshape(tensor(x), [-1]) for x in xi]
    return list(tf.meshgrid(*xs, indexing=indexing))


@_export
def ix_(*args):
    """Open-mesh index arrays: each 1-D argument reshaped along its own axis."""
    n = len(args)
    out = []
    for i, a in enumerate(args):
        a = tensor(a)
        if a.shape.rank != 1:
            raise ValueError(f"ix_: arguments must be 1-D, argument {i} has shape {a.shape}.")
        if a.dtype is _d.bool:
            a = tf.reshape(tf.where(a), [-1])
        elif not a.dtype.is_integer:
            if a.shape[0] == 0:
                a = tf.cast(a, _d.int64)
            else:
                raise TypeError(
                    f"ix_: arguments must be integer or bool, argument {i} is {a.dtype.name}."
                )
        shape = [1] * n
        shape[i] = -1
        out.append(tf.reshape(a, shape))
    return out


# --------------------------------------------------------------------------- shapes
@_export
def shape(a):
    """The shape of ``a`` as a tuple of ints."""
    return tuple(tensor(a).shape.as_list())


@_export
def ndim(a):
    """The number of dimensions of ``a``."""
    return tensor(a).shape.rank


@_export
def size(x, axis=None):
    """The number of elements of ``x`` (or along ``axis``)."""
    dims = tensor(x).shape.as_list()
    if axis is not None:
        return dims[axis]
    return int(np.prod(dims, dtype=np.int64)) if None not in dims else tf.size(x)


@_export
def isscalar(num):
    """Whether ``num`` is a 0-d tensor or a scalar (string and bytes included)."""
    if isinstance(num, Tensor) or getattr(num, "_rill_variable", False):
        return num.shape.rank == 0
    return np.isscalar(num) or (isinstance(num, np.ndarray) and num.ndim == 0)


@_export
def reshape(a, newshape, order="C"):
    """``a`` with shape ``newshape`` (C or Fortran order)."""
    a = tensor(a)
    if order not in ("C", "F"):
        raise ValueError(f"reshape: order must be 'C' or 'F', got {order!r}.")
    if isinstance(newshape, (int, np.integer)):
        newshape = [int(newshape)]
    if order == "F":
        r = a.shape.rank
        a = tf.transpose(a, list(range(r))[::-1])
        newshape = list(_static(newshape, "reshape's shape"))[::-1]
        out = tf.reshape(a, newshape)
        return tf.transpose(out, list(range(len(newshape)))[::-1])
    return tf.reshape(a, newshape)


@_export
def ravel(a):
    """``a`` flattened to 1-D."""
    return tf.reshape(tensor(a), [-1])


@_export
def flatten(a, order="C"):
    """``a`` flattened to 1-D (C or Fortran order)."""
    return reshape(a, [-1], order=order)


@_export
def transpose(a, axes=None):
    """``a`` with its axes permuted (reversed when None)."""
    a = tensor(a)
    if axes is None:
        axes = list(range(a.shape.rank))[::-1]
    return tf.transpose(a, [int(x) % builtins.max(a.shape.rank, 1) for x in axes])


@_export
def swapaxes(a, axis1, axis2):
    """``a`` with two axes exchanged."""
    a = tensor(a)
    r = a.shape.rank
    perm = list(range(r))
    perm[axis1 % r], perm[axis2 % r] = perm[axis2 % r], perm[axis1 % r]
    return tf.transpose(a, perm)


@_export
def moveaxis(a, source, destination):
    """``a`` with axes ``source`` moved to ``destination``."""
    a = tensor(a)
    r = a.shape.rank
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise ValueError(
            f"moveaxis: source {source} and destination {destination} must have the same "
            "number of elements."
        )
    src = [s % r for s in src]
    dst = [d % r for d in dst]
    order = [i for i in range(r) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return tf.transpose(a, order)


@_export
def expand_dims(a, axis):
    """``a`` with a new length-1 axis (or several) at ``axis``."""
    a = tensor(a)
    axes = [axis] if isinstance(axis, int) else list(axis)
    r = a.shape.rank + len(axes)
    axes = sorted(x % r for x in axes)
    for x in axes:
        a = tf.expand_dims(a, x)
    return a


@_export
def squeeze(a, axis=None):
    """``a`` without its length-1 axes (or only ``axis``)."""
    a = tensor(a)
    if axis is None:
        return tf.squeeze(a)
    axes = [axis] if isinstance(axis, int) else list(axis)
    return tf.squeeze(a, axis=axes)


@_export
def broadcast_to(array, shape):  # noqa: A002 - NumPy's name
    """``array`` broadcast to ``shape``."""
    return tf.broadcast_to(tensor(array), _shape_arg(shape))


@_export
def broadcast_arrays(*args, **kwargs):
    """The arguments broadcast against each other."""
    if kwargs.pop("subok", False):
        raise ValueError("broadcast_arrays: subok=True is not supported.")
    if kwargs:
        raise TypeError(f"broadcast_arrays: unexpected keyword arguments {sorted(kwargs)}.")
    ts = [tensor(a) for a in args]
    shape_ = np.broadcast_shapes(*[tuple(t.shape.as_list()) for t in ts])
    return [tf.broadcast_to(t, list(shape_)) for t in ts]


def _atleast(arys, n):
    out = []
    for a in arys:
        a = tensor(a)
        r = a.shape.rank
        if r < n:
            dims = a.shape.as_list()
            if n == 3 and r == 2:
                dims = dims + [1]
            elif n == 3 and r == 1:
                dims = [1] + dims + [1]
            else:
                dims = [1] * (n - r) + dims
            a = tf.reshape(a, dims)
        out.append(a)
    return out[0] if len(out) == 1 else out


@_export
def atleast_1d(*arys):
    """Each argument with at least one dimension."""
    return _atleast(arys, 1)


@_export
def atleast_2d(*arys):
    """Each argument with at least two dimensions (new axes in front)."""
    return _atleast(arys, 2)


@_export
def atleast_3d(*arys):
    """Each argument with at least three dimensions (NumPy's placement of new axes)."""
    return _atleast(arys, 3)


# ------------------------------------------------------------------ joining, splitting
@_export
def concatenate(arys, axis=0):
    """The arrays joined along ``axis`` (flattened first when None)."""
    if not arys:
        raise ValueError("concatenate: need at least one array to concatenate.")
    ts = promote(*arys)
    if axis is None:
        ts = [tf.reshape(t, [-1]) for t in ts]
        axis = 0
    return tf.concat(ts, axis)


@_export
def stack(arrays, axis=0):
    """The arrays (all one shape) stacked along a new ``axis``."""
    if isinstance(arrays, Tensor):
        arrays = tf.unstack(arrays)
    ts = promote(*arrays)
    shapes = {tuple(t.shape.as_list()) for t in ts}
    if len(shapes) > 1:
        raise ValueError(f"stack: all input arrays must have the same shape, got {sorted(shapes)}.")
    return tf.stack(ts, axis=axis)


@_export
def hstack(tup):
    """Join along the second axis (the first for 1-D arrays)."""
    ts = _atleast(tuple(tup), 1)
    ts = ts if isinstance(ts, list) else [ts]
    return concatenate(ts, axis=0 if ts[0].shape.rank == 1 else 1)


@_export
def vstack(tup):
    """Join along the first axis, after making each array at least 2-D."""
    ts = _atleast(tuple(tup), 2)
    return concatenate(ts if isinstance(ts, list) else [ts], axis=0)


@_export
def dstack(tup):
    """Join along the third axis, after making each array at least 3-D."""
    ts = _atleast(tuple(tup), 3)
    return concatenate(ts if isinstance(ts, list) else [ts], axis=2)


@_export
def append(arr, values, axis=None):
    """``values`` appended to ``arr`` along ``axis`` (both flattened when None)."""
    a, v = promote(arr, values)
    if axis is None:
        return tf.concat([tf.reshape(a, [-1]), tf.reshape(v, [-1])], 0)
    return tf.concat([a, v], axis)


def _split(ary, indices_or_sections, axis, name):
    a = tensor(ary)
    n = a.shape.as_list()[axis]
    ios = _static(indices_or_sections, f"{name}'s indices_or_sections")
    if isinstance(ios, (int, np.integer)):
        if ios <= 0 or n % ios:
            raise ValueError(
                f"{name}: array split does not result in an equal division: {n} into {ios}."
            )
        sizes = [n // ios] * int(ios)
    else:
        bounds = (
            [0]
            + [builtins.min(builtins.max(int(i) if i >= 0 else int(i) + n, 0), n) for i in ios]
            + [n]
        )
        sizes = [builtins.max(b - a_, 0) for a_, b in zip(bounds[:-1], bounds[1:])]
        # NumPy gives empty pieces for decreasing indices; starts are the clipped bounds
        starts = bounds[:-1]
        return [_slice_axis(a, s, s + z, axis) for s, z in zip(starts, sizes)]
    return list(tf.split(a, sizes, axis=axis))


def _slice_axis(a, start, stop, axis):
    idx = [slice(None)] * a.shape.rank
    idx[axis] = slice(start, stop)
    return a[tuple(idx)]


@_export
def split(ary, indices_or_sections, axis=0):
    """``ary`` split along ``axis`` into equal sections or at the given indices."""
    return _split(ary, indices_or_sections, axis, "split")


@_export
def hsplit(ary, indices_or_sections):
    """Split along the second axis (the first for 1-D arrays)."""
    a = tensor(ary)
    if a.shape.rank == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions.")
    return _split(a, indices_or_sections, 1 if a.shape.rank > 1 else 0, "hsplit")


@_export
def vsplit(ary, indices_or_sections):
    """Split along the first axis (2-D or more)."""
    a = tensor(ary)
    if a.shape.rank < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions.")
    return _split(a, indices_or_sections, 0, "vsplit")


@_export
def dsplit(ary, indices_or_sections):
    """Split along the third axis (3-D or more)."""
    a = tensor(ary)
    if a.shape.rank < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions.")
    return _split(a, indices_or_sections, 2, "dsplit")


# ------------------------------------------------------------------ rearranging
@_export
def flip(m, axis=None):
    """``m`` reversed along ``axis`` (all axes when None)."""
    m = tensor(m)
    r = m.shape.rank
    if axis is None:
        axes = list(range(r))
    else:
        axes = [axis] if isinstance(axis, int) else list(axis)
    if not axes:
        return m
    return tf.reverse(m, [a % r for a in axes])


@_export
def fliplr(m):
    """``m`` reversed along its second axis."""
    return flip(m, 1)


@_export
def flipud(m):
    """``m`` reversed along its first axis."""
    return flip(m, 0)


@_export
def rot90(m, k=1, axes=(0, 1)):
    """``m`` rotated by 90 degrees ``k`` times in the plane of ``axes``."""
    m = tensor(m)
    if m.shape.rank < 2:
        raise ValueError(f"rot90: the input must be at least 2-D, got shape {m.shape}.")
    a0, a1 = (x % m.shape.rank for x in axes)
    if a0 == a1:
        raise ValueError(f"rot90: axes must be different, got {axes}.")
    k = k % 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, a0), a1)
    if k == 1:
        return swapaxes(flip(m, a1), a0, a1)
    return flip(swapaxes(m, a0, a1), a1)


@_export
def roll(a, shift, axis=None):
    """``a`` shifted cyclically by ``shift`` along ``axis`` (flattened when None)."""
    a = tensor(a)
    if axis is None:
        return tf.reshape(tf.roll(tf.reshape(a, [-1]), shift, 0), _dims(a))
    return tf.roll(a, shift, axis)


@_export
def tile(a, reps):
    """``a`` repeated ``reps`` times along each axis."""
    a = tensor(a)
    reps = _static(reps, "tile's reps")
    reps = [int(reps)] if isinstance(reps, (int, np.integer)) else [int(r) for r in reps]
    r = a.shape.rank
    if len(reps) < r:
        reps = [1] * (r - len(reps)) + reps
    elif len(reps) > r:
        a = tf.reshape(a, [1] * (len(reps) - r) + a.shape.as_list())
    return tf.tile(a, reps)


@_export
def repeat(a, repeats, axis=None):
    """Each element of ``a`` repeated ``repeats`` times along ``axis``."""
    a = tensor(a)
    if axis is None:
        a = tf.reshape(a, [-1])
        axis = 0
    return tf.repeat(a, repeats, axis=axis)


@_export
def pad(array, pad_width, mode, **kwargs):  # noqa: A002 - NumPy's name
    """``array`` padded by ``pad_width`` with ``mode`` 'constant', 'reflect' or 'symmetric'."""
    a = tensor(array)
    mode = mode.lower()
    if mode not in ("constant", "reflect", "symmetric"):
        raise ValueError(
            f"pad: unsupported padding mode {mode!r}: use 'constant', 'reflect' or 'symmetric'."
        )
    pw = np.broadcast_to(np.asarray(_static(pad_width, "pad_width"), np.int64), (a.shape.rank, 2))
    if mode == "constant":
        value = kwargs.get("constant_values", 0)
        return tf.pad(a, pw.tolist(), "CONSTANT", constant_values=tf.cast(value, a.dtype))
    return tf.pad(a, pw.tolist(), mode.upper())


# ------------------------------------------------------------------ indexing
@_export
def take(a, indices, axis=None, out=None, mode="clip"):
    """Elements of ``a`` at ``indices`` along ``axis`` (flattened when None)."""
    if out is not None:
        raise ValueError("take: `out` is not supported: tensors are immutable.")
    if mode not in ("raise", "clip", "wrap"):
        raise ValueError(f"take: invalid mode {mode!r}: use 'raise', 'clip' or 'wrap'.")
    a = tensor(a)
    idx = tensor(indices)
    if not idx.dtype.is_integer:
        raise TypeError(f"take: indices must be integers, got {idx.dtype.name}.")
    if axis is None:
        a = tf.reshape(a, [-1])
        axis = 0
    axis = axis % a.shape.rank
    n = a.shape[axis]
    idx = tf.cast(idx, _d.int64)
    if mode == "clip":
        idx = tf.clip_by_value(idx, 0, builtins.max(n - 1, 0))
    elif mode == "wrap":
        idx = tf.math.floormod(idx, n)
    else:
        idx = tf.where(idx < 0, idx + n, idx)
    return tf.gather(a, idx, axis=axis)


@_export
def take_along_axis(arr, indices, axis):
    """Values of ``arr`` at ``indices`` along ``axis`` (broadcast on the others)."""
    from rill.keras.ops import numpy as knp

    a = tensor(arr)
    idx = tensor(indices)
    if axis is None:
        a = tf.reshape(a, [-1])
        axis = 0
    idx = tf.cast(idx, _d.int64)
    return knp.take_along_axis(a, idx, axis=axis)


@_export
def compress(condition, a, axis=None):
    """The slices of ``a`` along ``axis`` where ``condition`` is true."""
    cond = tensor(condition)
    a = tensor(a)
    if cond.shape.rank != 1:
        raise ValueError(f"compress: condition must be 1-D, got shape {cond.shape}.")
    if axis is None:
        a = tf.reshape(a, [-1])
        axis = 0
    cond = tf.cast(cond, _d.bool)
    n = a.shape[axis]
    c = cond.shape[0]
    if c < n:
        cond = tf.concat([cond, tf.zeros([n - c], _d.bool)], 0)
    elif c > n:
        cond = cond[:n]
    return tf.boolean_mask(a, cond, axis=axis)


@_export
def where(condition, x=None, y=None):
    """``x`` where ``condition`` else ``y``; with one argument, ``nonzero(condition)``."""
    cond = tensor(condition)
    if x is None and y is None:
        return nonzero(cond)
    if x is None or y is None:
        raise ValueError("where: both x and y must be given, or neither.")
    if cond.dtype is not _d.bool:
        cond = tf.not_equal(cond, tf.zeros_like(cond))
    x, y = promote(x, y)
    shape_ = np.broadcast_shapes(*(tuple(t.shape.as_list()) for t in (cond, x, y)))
    return tf.where(*(tf.broadcast_to(t, list(shape_)) for t in (cond, x, y)))


@_export
def nonzero(a):
    """A tuple of int64 index vectors, one per axis, of ``a``'s non-zero elements."""
    a = tensor(a)
    if a.shape.rank == 0:
        raise ValueError("nonzero: the argument must be at least 1-D.")
    truth = a if a.dtype is _d.bool else tf.not_equal(a, tf.zeros_like(a))
    coords = tf.where(truth)
    return tuple(coords[:, i] for i in range(a.shape.rank))


@_export
def select(condlist, choicelist, default=0):
    """From the first true condition's choice, element-wise; ``default`` where none is."""
    if len(condlist) != len(choicelist):
        raise ValueError(
            f"select: condlist and choicelist must be the same length, got {len(condlist)} and "
            f"{len(choicelist)}."
        )
    choices = promote(*choicelist, default)
    out = choices[-1]
    for cond, choice in reversed(list(zip(condlist, choices[:-1]))):
        cond = tensor(cond)
        shape_ = np.broadcast_shapes(*(tuple(t.shape.as_list()) for t in (cond, choice, out)))
        out = tf.where(*(tf.broadcast_to(t, list(shape_)) for t in (cond, choice, out)))
    return out


# ------------------------------------------------------------------ sorting, rounding
def _sort_args(a, axis, kind, order, name):
    if kind not in ("quicksort", "stable", "mergesort", "heapsort", None):
        raise ValueError(f"{name}: invalid kind {kind!r}.")
    if order is not None:
        raise ValueError(f"{name}: `order` is not supported.")
    a = tensor(a)
    if a.dtype.is_complex:
        raise TypeError(f"{name} does not support complex dtypes, got {a.dtype.name}.")
    if axis is None:
        a = tf.reshape(a, [-1])
        axis = -1
    return a, axis


@_export
def sort(a, axis=-1, kind="quicksort", order=None):
    """``a`` sorted along ``axis`` (flattened when None)."""
    a, axis = _sort_args(a, axis, kind, order, "sort")
    if a.dtype is _d.bool:
        return tf.cast(tf.sort(tf.cast(a, _d.int8), axis=axis), _d.bool)
    return tf.sort(a, axis=axis)


@_export
def argsort(a, axis=-1, kind="quicksort", order=None):
    """The int64 indices that sort ``a`` along ``axis`` (stable)."""
    a, axis = _sort_args(a, axis, kind, order, "argsort")
    if a.dtype is _d.bool:
        a = tf.cast(a, _d.int8)
    return tf.cast(tf.argsort(a, axis=axis, stable=True), _d.int64)


@_export
def around(a, decimals=0):
    """``a`` rounded half to even at ``decimals`` decimal places."""
    a = tensor(a)
    if a.dtype is _d.bool:
        return a
    if a.dtype.is_integer:
        if decimals >= 0:
            return a
        f = 10 ** (-decimals)
        return tf.cast(tf.round(tf.cast(a, float_dtype()) / f) * f, a.dtype)
    if a.dtype.is_complex:
        return tf.complex(around(tf.math.real(a), decimals), around(tf.math.imag(a), decimals))
    f = tf.cast(10.0**decimals, a.dtype)
    return tf.round(a * f) / f


@_export
def round(a, decimals=0):  # noqa: A001 - NumPy's name
    """``a`` rounded half to even at ``decimals`` decimal places."""
    return around(a, decimals)


@_export
def clip(a, a_min, a_max):
    """``a`` limited to [a_min, a_max] (one bound may be None)."""
    from rill.experimental.numpy._elementwise import maximum, minimum

    if a_min is None and a_max is None:
        raise ValueError("clip: not more than one of a_min and a_max may be None.")
    if a_min is None:
        return minimum(a, a_max)
    if a_max is None:
        return maximum(a, a_min)
    a, lo, hi = promote(a, a_min, a_max)
    return minimum(maximum(a, lo), hi)


@_export
def diff(a, n=1, axis=-1):
    """The ``n``-th discrete difference along ``axis``."""
    a = tensor(a)
    if n < 0:
        raise ValueError(f"diff: order must be non-negative, got {n}.")
    if a.shape.rank == 0:
        raise ValueError("diff requires input that is at least one dimensional.")
    axis = axis % a.shape.rank
    for _ in range(n):
        hi = _slice_axis(a, 1, None, axis)
        lo = _slice_axis(a, None, -1, axis)
        a = tf.not_equal(hi, lo) if a.dtype is _d.bool else hi - lo
    return a
