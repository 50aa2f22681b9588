"""``tf.space_to_batch(_nd)``, ``tf.batch_to_space`` and
``tf.required_space_to_batch_paddings``: blocks of space moved into the batch and back,
composed of pad / reshape / transpose (so differentiable to any order)."""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.ops._op import (
    InvalidArgumentError,
    convert_to_tensor,
    op_error,
    static_value,
    tf_export,
)
from rill.ops.array_ops import reshape, shape
from rill.ops.shape_ops import pad, transpose


def _static_ints(op, what, value, ndim):
    v = static_value(value) if not isinstance(value, (list, tuple, np.ndarray)) else value
    if v is None:
        raise ValueError(f"{op}: {what} must be known when the op is built, got {value!r}")
    a = np.asarray(v, dtype=np.int64)
    if a.ndim != ndim:
        raise op_error(InvalidArgumentError, op, f"{what} must be {ndim}-D, got shape {a.shape}")
    return a


def _dims(op, x, m):
    dims = x.shape.as_list() if x.shape.rank is not None else None
    if dims is None or any(d is None for d in dims[1 : 1 + m]):
        raise ValueError(f"{op}: the input's rank and spatial dimensions must be static")
    if len(dims) < m + 1:
        raise op_error(
            InvalidArgumentError,
            op,
            f"input rank should be >= {m + 1} for a block_shape of length {m}, got {len(dims)}",
        )
    return dims


@tf_export("space_to_batch_nd", "space_to_batch")
def space_to_batch_nd(input, block_shape, paddings, name=None):  # noqa: A002
    """Pad the ``M`` spatial dims (after the batch dim) by ``paddings``, cut them into
    ``block_shape`` blocks, and move each block offset into the batch dimension."""
    x = convert_to_tensor(input)
    block = _static_ints("SpaceToBatchND", "block_shape", block_shape, 1)
    m = block.size
    pads = _static_ints("SpaceToBatchND", "paddings", paddings, 2)
    if pads.shape != (m, 2) or (pads < 0).any() or (block < 1).any():
        raise op_error(
            InvalidArgumentError,
            "SpaceToBatchND",
            f"paddings must be a non-negative [{m}, 2] array and block_shape positive, got "
            f"paddings {pads.tolist()} and block_shape {block.tolist()}",
        )
    dims = _dims("SpaceToBatchND", x, m)
    padded = [dims[1 + i] + pads[i].sum() for i in range(m)]
    for i in range(m):
        if padded[i] % block[i]:
            raise op_error(
                InvalidArgumentError,
                "SpaceToBatchND",
                f"padded_shape[{i}]={padded[i]} is not divisible by block_shape[{i}]={block[i]}",
            )
    rest = dims[1 + m :]
    full = [[0, 0]] + pads.tolist() + [[0, 0]] * len(rest)
    y = pad(x, full) if pads.any() else x
    b = shape(y)[0] if dims[0] is None else dims[0]
    # (B, S1/b1, b1, ..., SM/bM, bM, rest) -> (b1, ..., bM, B, S1/b1, ..., SM/bM, rest)
    split = [b]
    for i in range(m):
        split += [padded[i] // block[i], int(block[i])]
    y = reshape(y, split + rest)
    perm = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)]
    perm += list(range(1 + 2 * m, 1 + 2 * m + len(rest)))
    y = transpose(y, perm)
    nb = int(np.prod(block))
    return reshape(
        y,
        [-1 if dims[0] is None else dims[0] * nb]
        + [p // k for p, k in zip(padded, block.tolist())]
        + rest,
    )


@tf_export("batch_to_space")
def batch_to_space(input, block_shape, crops, name=None):  # noqa: A002
    """The inverse of ``space_to_batch_nd``: move ``prod(block_shape)`` batch groups back
    into the spatial dims as blocks, then crop them by ``crops``."""
    x = convert_to_tensor(input)
    block = _static_ints("BatchToSpaceND", "block_shape", block_shape, 1)
    m = block.size
    crops_a = _static_ints("BatchToSpaceND", "crops", crops, 2)
    if crops_a.shape != (m, 2) or (crops_a < 0).any() or (block < 1).any():
        raise op_error(
            InvalidArgumentError,
            "BatchToSpaceND",
            f"crops must be a non-negative [{m}, 2] array and block_shape positive, got "
            f"crops {crops_a.tolist()} and block_shape {block.tolist()}",
        )
    dims = _dims("BatchToSpaceND", x, m)
    nb = int(np.prod(block))
    if dims[0] is not None and dims[0] % nb:
        raise op_error(
            InvalidArgumentError,
            "BatchToSpaceND",
            f"input batch dimension ({dims[0]}) is not divisible by the product of "
            f"block_shape ({nb})",
        )
    sp, rest = dims[1 : 1 + m], dims[1 + m :]
    y = reshape(x, block.tolist() + [-1] + sp + rest)
    # (b1..bM, B', S1..SM, rest) -> (B', S1, b1, ..., SM, bM, rest)
    perm = [m]
    for i in range(m):
        perm += [m + 1 + i, i]
    perm += list(range(2 * m + 1, 2 * m + 1 + len(rest)))
    y = transpose(y, perm)
    full = [s * int(k) for s, k in zip(sp, block)]
    y = reshape(y, [-1] + full + rest)
    for i, (lo, hi) in enumerate(crops_a.tolist()):
        if lo + hi > full[i]:
            raise op_error(
                InvalidArgumentError,
                "BatchToSpaceND",
                f"crops {crops_a[i].tolist()} remove more than the {full[i]} elements of "
                f"spatial dimension {i}",
            )
    if crops_a.any():
        idx = (slice(None),) + tuple(
            slice(lo, f - hi) for (lo, hi), f in zip(crops_a.tolist(), full)
        )
        y = y[idx]
    return y


@tf_export("required_space_to_batch_paddings")
def required_space_to_batch_paddings(input_shape, block_shape, base_paddings=None, name=None):
    """``(paddings, crops)`` making ``input_shape`` (padded by ``base_paddings``) divisible
    by ``block_shape``: the extra padding goes at the end, and ``crops`` removes it."""
    shp = _static_ints("required_space_to_batch_paddings", "input_shape", input_shape, 1)
    block = _static_ints("required_space_to_batch_paddings", "block_shape", block_shape, 1)
    if base_paddings is None:
        base = np.zeros((block.size, 2), np.int64)
    else:
        base = _static_ints("required_space_to_batch_paddings", "base_paddings", base_paddings, 2)
    start = base[:, 0]
    full = shp + start + base[:, 1]
    extra = (block - full % block) % block
    end = base[:, 1] + extra
    paddings = np.stack([start, end], axis=1)
    crops = np.stack([np.zeros_like(extra), extra], axis=1)
    return (
        convert_to_tensor(paddings.astype(np.int32), dtype=_d.int32),
        convert_to_tensor(crops.astype(np.int32), dtype=_d.int32),
    )
