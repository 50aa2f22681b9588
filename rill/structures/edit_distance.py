"""``tf.edit_distance``: Levenshtein distances between the sequences of two SparseTensors."""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.ops._op import AVal, InvalidArgumentError, bind, op_error, primitive, tf_export
from rill.structures.sparse_tensor import SparseTensor


def _sequences(indices, values, shape_prefix):
    """{row-major position of an index prefix: its values ordered by the last index}."""
    if not len(values):
        return {}
    order = np.lexsort(indices.T[::-1])
    idx, vals = indices[order], values[order]
    flat = (
        np.ravel_multi_index(idx[:, :-1].T, shape_prefix)
        if shape_prefix
        else np.zeros(len(idx), np.int64)
    )
    cuts = np.flatnonzero(np.diff(flat)) + 1
    return {int(g[0]): v for g, v in zip(np.split(flat, cuts), np.split(vals, cuts))}


def _levenshtein(a, b) -> int:
    """Edit distance by dynamic programming, one NumPy row at a time."""
    if len(a) == 0 or len(b) == 0:
        return max(len(a), len(b))
    prev = np.arange(len(b) + 1)
    for i, x in enumerate(a, 1):
        sub = prev[:-1] + (b != x)
        cur = np.empty_like(prev)
        cur[0] = i
        # insertions chain along the row: a running minimum of (value - position)
        best = np.minimum(sub, prev[1:] + 1)
        cur[1:] = np.minimum.accumulate(np.concatenate([[i], best]) - np.arange(len(b) + 1))[
            1:
        ] + np.arange(1, len(b) + 1)
        prev = cur
    return int(prev[-1])


def _edit_distance_kernel(hi, hv, hs, ti, tv, ts, normalize):
    if hs.size != ts.size:
        raise ValueError(
            f"hypothesis and truth must have the same rank, got {hs.size} and {ts.size}"
        )
    out_shape = tuple(int(d) for d in np.maximum(hs[:-1], ts[:-1]))
    hyp = _sequences(hi, hv, out_shape)
    tru = _sequences(ti, tv, out_shape)
    out = np.zeros(int(np.prod(out_shape)), np.float32)
    empty = hv[:0]
    for pos in set(hyp) | set(tru):
        h, t = hyp.get(pos, empty), tru.get(pos, empty)
        d = float(_levenshtein(h, t))
        if normalize:
            d = d / len(t) if len(t) else (np.inf if len(h) else 0.0)
        out[pos] = d
    return out.reshape(out_shape)


def _edit_distance_rule(hi, hv, hs, ti, tv, ts, normalize):
    n = hs.shape[0] if hs.shape.rank == 1 else None
    return AVal(None if n is None else [None] * (n - 1), _d.float32)


edit_distance_p = primitive("EditDistance", _edit_distance_kernel, _edit_distance_rule, host=True)


@tf_export("edit_distance")
def edit_distance(hypothesis, truth, normalize=True, name="edit_distance"):
    """The Levenshtein distance between each sequence of ``hypothesis`` and of ``truth``
    (SparseTensors whose last dimension runs along the sequences), divided by the truth's
    length when ``normalize`` (an empty truth gives inf, or 0 against an empty hypothesis)."""
    for what, s in (("hypothesis", hypothesis), ("truth", truth)):
        if not isinstance(s, SparseTensor):
            raise TypeError(f"edit_distance: {what} must be a SparseTensor, got {type(s).__name__}")
    if hypothesis.dtype is not truth.dtype:
        raise op_error(
            InvalidArgumentError,
            "EditDistance",
            f"hypothesis values are {hypothesis.dtype.name} but truth values are "
            f"{truth.dtype.name}; they must have the same dtype",
        )
    args = (
        hypothesis.indices, hypothesis.values, hypothesis.dense_shape,
        truth.indices, truth.values, truth.dense_shape,
    )  # fmt: skip
    return bind(edit_distance_p, args, {"normalize": bool(normalize)})
