"""Collectives on rill tensors: one bucket per dtype, eagerly or as a host op in a graph.

Eagerly the tensors' arrays go straight to the group. Inside ``tf.function`` the same
host function runs as a stateful ``numpy_function`` op (never folded, run every call),
and the outputs get back their static shapes.
"""

from __future__ import annotations

import numpy as np

import rill as tf
from rill.core import dispatch as _dispatch
from rill.distribute.collective import Group

__all__ = ["all_reduce", "all_gather", "broadcast_variables"]


def _bucketed(group: Group, arrays: list, op: str, mean: bool) -> list:
    """All-reduce ``arrays`` with one collective per dtype over a flat bucket."""
    out = [None] * len(arrays)
    by_dtype: dict = {}
    for i, a in enumerate(arrays):
        by_dtype.setdefault(np.asarray(a).dtype, []).append(i)
    for dtype, idx in by_dtype.items():
        parts = [np.asarray(arrays[i]).reshape(-1) for i in idx]
        flat = group.allreduce(np.concatenate(parts) if len(parts) > 1 else parts[0].copy(), op)
        if mean:
            flat = (flat / group.size).astype(dtype, copy=False)
        start = 0
        for i in idx:
            shape = np.shape(arrays[i])
            n = int(np.prod(shape, dtype=np.int64))
            out[i] = flat[start : start + n].reshape(shape)
            start += n
    return out


def _in_graph() -> bool:
    return _dispatch.state.graph is not None


def _restore_shapes(outs, tensors):
    fixed = []
    for o, t in zip(outs, tensors):
        shape = t.shape
        fixed.append(tf.reshape(o, shape.as_list() if shape.is_fully_defined() else tf.shape(t)))
    return fixed


def all_reduce(group: Group, tensors: list, op: str = "SUM", mean: bool = False) -> list:
    """Reduce each tensor over the replicas (``mean``: then divide by their number)."""
    tensors = [tf.convert_to_tensor(t) for t in tensors]
    if group.size == 1 or not tensors:
        return tensors
    if not _in_graph():
        arrays = _bucketed(group, [t.numpy() for t in tensors], op, mean)
        return [tf.convert_to_tensor(a, t.dtype) for a, t in zip(arrays, tensors)]

    def host(*arrays):
        return _bucketed(group, list(arrays), op, mean)

    outs = tf.numpy_function(host, tensors, [t.dtype for t in tensors], stateful=True)
    return _restore_shapes(outs, tensors)


def all_gather(group: Group, tensor, axis: int = 0):
    """Concatenate every replica's ``tensor`` along ``axis``, in replica order."""
    t = tf.convert_to_tensor(tensor)
    if group.size == 1:
        return t
    rank = t.shape.rank
    if rank is None or rank == 0:
        raise ValueError(
            f"all_gather: the value must have a known rank of at least 1 to gather along "
            f"axis {axis}; got shape {t.shape}."
        )
    ax = axis + rank if axis < 0 else axis
    if not 0 <= ax < rank:
        raise ValueError(f"all_gather: axis {axis} is out of range for shape {t.shape}.")

    def host(a):
        moved = np.moveaxis(np.asarray(a), ax, 0)
        return np.moveaxis(group.allgather(moved), 0, ax)

    if not _in_graph():
        return tf.convert_to_tensor(host(t.numpy()), t.dtype)
    out = tf.numpy_function(host, [t], t.dtype, stateful=True)
    dims = t.shape.as_list()
    dims[ax] = None
    return tf.ensure_shape(out, dims)


def broadcast_variables(group: Group, variables: list, root: int = 0) -> None:
    """Give every replica ``root``'s values of ``variables`` (eagerly; one call per dtype)."""
    if group.size == 1 or not variables:
        return
    by_dtype: dict = {}
    for v in variables:
        by_dtype.setdefault(np.dtype(v.dtype.as_numpy_dtype), []).append(v)
    for dtype, vs in by_dtype.items():
        flat = np.concatenate([np.asarray(v.numpy(), dtype).reshape(-1) for v in vs])
        flat = group.broadcast(flat, root)
        start = 0
        for v in vs:
            shape = np.shape(v.numpy())
            n = int(np.prod(shape, dtype=np.int64))
            v.assign(flat[start : start + n].reshape(shape))
            start += n
