"""``keras.ops.rearrange``: einops-style axis rearrangement (reshape + transpose)."""

from __future__ import annotations

import math
import re

import rill as tf
from rill.keras.ops._base import keras_op, shape_list
from rill.keras.ops._base import tensor as _to_tensor

__all__ = ["rearrange"]

_TOKEN = re.compile(r"\(|\)|[A-Za-z_][A-Za-z0-9_]*|\d+")


def _parse(side: str) -> list:
    """``"b (h w) c"`` -> ``[["b"], ["h", "w"], ["c"]]`` (each group one dimension)."""
    groups, current = [], None
    for tok in _TOKEN.findall(side):
        if tok == "(":
            if current is not None:
                raise ValueError(f"Nested parentheses in einops pattern side: {side!r}")
            current = []
        elif tok == ")":
            if current is None:
                raise ValueError(f"Unbalanced parentheses in einops pattern side: {side!r}")
            groups.append(current)
            current = None
        elif current is not None:
            current.append(tok)
        else:
            groups.append([tok])
    if current is not None:
        raise ValueError(f"Unbalanced parentheses in einops pattern side: {side!r}")
    return groups


@keras_op("Rearrange", module="einops")
def rearrange(tensor, pattern, **axes_lengths):
    """Rearrange the axes of ``tensor`` by an einops ``pattern`` such as
    ``"b h w c -> b (h w) c"`` or ``"b (h w) c -> b h w c"`` (with ``h=...``)."""
    x = _to_tensor(tensor)
    if "->" not in pattern:
        raise ValueError(f"Pattern must contain '->'. Received: pattern={pattern!r}")
    left, right = (_parse(s) for s in pattern.split("->"))
    if len(left) != x.shape.rank:
        raise ValueError(
            f"Number of dimensions in pattern ({len(left)}) does not match the tensor's rank "
            f"({x.shape.rank}). Received: pattern={pattern!r}"
        )
    dims = shape_list(x)
    sizes = dict(axes_lengths)
    for group, dim in zip(left, dims):
        unknown = [a for a in group if a not in sizes and not a.isdigit()]
        known = math.prod(int(a) if a.isdigit() else sizes[a] for a in group if a not in unknown)
        if len(unknown) > 1:
            raise ValueError(f"Could not infer sizes for {unknown} in pattern {pattern!r}")
        if unknown:
            sizes[unknown[0]] = dim // known
    elementary = [a for g in left for a in g]
    x = tf.reshape(x, [int(a) if a.isdigit() else sizes[a] for a in elementary])
    order = [a for g in right for a in g if not a.isdigit()]
    missing = set(order) - set(elementary)
    if missing:
        raise ValueError(f"Unknown axes {sorted(missing)} on the right of pattern {pattern!r}")
    x = tf.transpose(x, [elementary.index(a) for a in order])
    out_shape = [math.prod(sizes[a] if not a.isdigit() else int(a) for a in g) for g in right]
    return tf.reshape(x, out_shape)
