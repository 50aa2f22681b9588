"""``tf.experimental.numpy.random``: NumPy-style sampling over rill's random ops.

Draws use rill's global seed (``seed`` sets it, like ``tf.random.set_seed``); floats come
in ``result_type(float)`` (float64 unless ``prefer_float32``).
"""

from __future__ import annotations

import numpy as np

import rill as tf
from rill.core import dtypes as _d
from rill.experimental.numpy._dtypes import as_dtype, float_dtype, tensor
from rill.ops._op import tf_export

_NS = "experimental.numpy.random"


def _export(fn):
    return tf_export(f"{_NS}.{fn.__name__}")(fn)


def _size(size):
    if size is None:
        return []
    if isinstance(size, (int, np.integer)):
        return [int(size)]
    return [int(s) for s in size]


@_export
def seed(s):
    """Set the global random seed."""
    try:
        s = int(s)
    except TypeError:
        raise ValueError(f"seed: `s` must be an integer, got {s!r}.") from None
    tf.random.set_seed(s)


@_export
def standard_normal(size=None):
    """Samples of N(0, 1) of shape ``size``."""
    return tf.random.normal(_size(size), dtype=float_dtype())


@_export
def randn(*args):
    """Samples of N(0, 1) of shape ``args``."""
    return standard_normal(size=args)


@_export
def uniform(low=0.0, high=1.0, size=None):
    """Samples of U[low, high) of shape ``size`` (the bounds' broadcast shape when None)."""
    dtype = float_dtype()
    low, high = tensor(low, dtype), tensor(high, dtype)
    if size is None:
        shape = np.broadcast_shapes(tuple(low.shape.as_list()), tuple(high.shape.as_list()))
        size = list(shape)
    u = tf.random.uniform(_size(size), dtype=dtype)
    return low + (high - low) * u


@_export
def random(size=None):
    """Samples of U[0, 1) of shape ``size``."""
    return uniform(0.0, 1.0, size)


@_export
def rand(*size):
    """Samples of U[0, 1) of shape ``size``."""
    return uniform(0.0, 1.0, size)


@_export
def randint(low, high=None, size=None, dtype=np.int64):
    """Integers drawn uniformly from [low, high) (from [0, low) without ``high``)."""
    low = int(low)
    if high is None:
        low, high = 0, low
    d = as_dtype(dtype)
    if d not in (_d.int32, _d.int64):
        raise ValueError(f"randint: dtype must be int32 or int64, got {dtype}.")
    return tf.random.uniform(_size(size), minval=low, maxval=int(high), dtype=d)


@_export
def poisson(lam=1.0, size=None):
    """Samples of Poisson(``lam``) of shape ``size`` (int64)."""
    return tf.random.poisson(_size(size), lam, dtype=_d.int64)
