"""Sorting and uniqueness: ``tf.sort``, ``tf.argsort``, ``tf.unique``, ``tf.unique_with_counts``."""

from __future__ import annotations

import collections

import numpy as np

from rill.core import dtypes as _d
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    TensorShape,
    bind,
    convert_to_tensor,
    op_error,
    primitive,
    static_value,
    tf_export,
)
from rill.ops.reduction_ops import stable_argsort, take_along_axis

# --------------------------------------------------------------------------------------
# sort / argsort
# --------------------------------------------------------------------------------------


def _argsort_rule(x, axis, descending):
    r = x.rank
    if r is not None:
        if r == 0:
            raise op_error(
                InvalidArgumentError,
                "ArgSort",
                "input must be at least 1-D to be sorted, got a scalar",
            )
        if not -r <= axis < r:
            raise op_error(
                InvalidArgumentError, "ArgSort", f"axis {axis} is out of range for a tensor of rank {r}; "
                f"valid axes are in [{-r}, {r})",
            )  # fmt: skip
    return AVal(x.shape, _d.int32)


def _argsort_kernel(x, axis, descending, xp=np):
    if x.ndim == 0:
        raise ValueError("scalar input")
    return stable_argsort(xp, x, axis, descending).astype(np.int32)


argsort_p = primitive("ArgSort", _argsort_kernel, _argsort_rule, dtypes=_d.REAL)


def _sort_args(values, axis, direction):
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(
            f"Argument `direction` should be one of ASCENDING, DESCENDING. Received: direction={direction}"
        )
    x = convert_to_tensor(values)
    a = static_value(axis)
    if a is None or np.ndim(a) != 0 or np.asarray(a).dtype.kind not in "iu":
        raise ValueError(f"sort: axis must be a constant scalar int, got {axis!r}")
    return x, {"axis": int(a), "descending": direction == "DESCENDING"}


@tf_export("argsort")
def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    """Indices (int32) that sort ``values`` along ``axis``. Ties always keep their original
    order (so ``stable`` is accepted but not needed)."""
    x, params = _sort_args(values, axis, direction)
    return bind(argsort_p, (x,), params)


@tf_export("sort")
def sort(values, axis=-1, direction="ASCENDING", name=None):
    """``values`` sorted along ``axis`` (NaN sorts as the largest value). Differentiable: the
    gradient goes back to the element each output came from."""
    x, params = _sort_args(values, axis, direction)
    return take_along_axis(x, bind(argsort_p, (x,), params), params["axis"])


# --------------------------------------------------------------------------------------
# unique
# --------------------------------------------------------------------------------------

_IDX = frozenset([_d.int32, _d.int64])


def _unique_in_order(xp, x):
    """Unique values in order of first occurrence, the index of each input in them, counts.
    NaNs are all distinct, as in TF."""
    u, first, inv, counts = xp.unique_all(x)
    order = xp.argsort(first, stable=True)
    rank = xp.empty_like(order)
    rank[order] = xp.arange(order.size)
    return u[order], rank[inv.reshape(-1)], counts[order]


def _unique_rule(op, n):
    def rule(x, out_idx):
        if x.rank is not None and x.rank != 1:
            raise op_error(
                InvalidArgumentError, op, f"unique expects a 1D vector, got shape {list(x.shape)}"
            )
        outs = (
            AVal([None], x.dtype),
            AVal(x.shape if x.rank == 1 else TensorShape([None]), out_idx),
        )
        return outs + (AVal([None], out_idx),) * (n - 2)

    return rule


def _unique_kernel(x, out_idx, xp=np):
    if x.ndim != 1:
        raise ValueError("not 1-D")
    y, idx, _ = _unique_in_order(xp, x)
    return y, idx.astype(out_idx.np)


def _unique_counts_kernel(x, out_idx, xp=np):
    if x.ndim != 1:
        raise ValueError("not 1-D")
    y, idx, counts = _unique_in_order(xp, x)
    return y, idx.astype(out_idx.np), counts.astype(out_idx.np)


unique_p = primitive("Unique", _unique_kernel, _unique_rule("Unique", 2), n_out=2)
unique_with_counts_p = primitive(
    "UniqueWithCounts", _unique_counts_kernel, _unique_rule("UniqueWithCounts", 3), n_out=3
)

Unique = collections.namedtuple("Unique", ["y", "idx"])
UniqueWithCounts = collections.namedtuple("UniqueWithCounts", ["y", "idx", "count"])


def _out_idx(op, out_idx):
    d = _d.as_dtype(out_idx)
    if d not in _IDX:
        raise op_error(InvalidArgumentError, op, f"out_idx must be int32 or int64, got {d.name}")
    return d


@tf_export("unique")
def unique(x, out_idx=_d.int32, name=None):
    """The distinct values of 1-D ``x`` in order of first occurrence, and for each element of
    ``x`` its index into them. Returns a namedtuple ``(y, idx)``."""
    t = convert_to_tensor(x)
    return Unique(*bind(unique_p, (t,), {"out_idx": _out_idx("Unique", out_idx)}))


@tf_export("unique_with_counts")
def unique_with_counts(x, out_idx=_d.int32, name=None):
    """Like ``unique``, plus how often each distinct value occurs: ``(y, idx, count)``."""
    t = convert_to_tensor(x)
    return UniqueWithCounts(
        *bind(unique_with_counts_p, (t,), {"out_idx": _out_idx("UniqueWithCounts", out_idx)})
    )
