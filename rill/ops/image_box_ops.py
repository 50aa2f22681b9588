"""Bounding boxes: non-max suppression (hard, soft, by overlaps, padded, combined over
classes), drawing boxes, sampling distorted crops and region proposals.

Greedy NMS keeps a box unless a kept box before it (in score order) overlaps it too much.
The kernels decide that for a tile of boxes at once: the boxes kept in earlier tiles
suppress whole rows of the tile in one comparison, and inside the tile the "kept" set is
the fixed point of ``keep = alive & ~any(keep[i] & overlaps[i, j] for i < j)``, reached by
iterating that vectorised update (each round settles at least one more box, in practice a
handful of rounds settle the tile). Nothing loops over boxes in Python, except soft-NMS:
there every selection rescales the scores of the boxes still waiting, so its loop runs
once per selection (TF's kernel is sequential there too), each step vectorised over the
boxes.

Overlaps are computed as TF's CPU kernels compute them, in the boxes' float type: corners
in either order, zero for a box of zero area, suppression when IoU > threshold.
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    bind,
    convert_to_tensor,
    is_tensor_like,
    op_error,
    primitive,
    tf_export,
)

__all__ = [
    "non_max_suppression", "non_max_suppression_with_scores", "non_max_suppression_overlaps",
    "non_max_suppression_padded", "combined_non_max_suppression", "draw_bounding_boxes",
    "sample_distorted_bounding_box", "stateless_sample_distorted_bounding_box",
    "generate_bounding_box_proposals",
]  # fmt: skip

_BOX_DTYPES = frozenset({_d.float16, _d.float32})
_TILE = 512

# --------------------------------------------------------------------------------------
# Overlaps and the greedy selection
# --------------------------------------------------------------------------------------


def _iou(xp, a, b):
    """IoU of boxes ``a`` [..., n, 4] against ``b`` [..., m, 4]: [..., n, m]."""
    ay0, ay1 = xp.minimum(a[..., 0], a[..., 2]), xp.maximum(a[..., 0], a[..., 2])
    ax0, ax1 = xp.minimum(a[..., 1], a[..., 3]), xp.maximum(a[..., 1], a[..., 3])
    by0, by1 = xp.minimum(b[..., 0], b[..., 2]), xp.maximum(b[..., 0], b[..., 2])
    bx0, bx1 = xp.minimum(b[..., 1], b[..., 3]), xp.maximum(b[..., 1], b[..., 3])
    area_a = ((ay1 - ay0) * (ax1 - ax0))[..., :, None]
    area_b = ((by1 - by0) * (bx1 - bx0))[..., None, :]
    ih = xp.minimum(ay1[..., :, None], by1[..., None, :]) - xp.maximum(
        ay0[..., :, None], by0[..., None, :]
    )
    iw = xp.minimum(ax1[..., :, None], bx1[..., None, :]) - xp.maximum(
        ax0[..., :, None], bx0[..., None, :]
    )
    inter = xp.maximum(ih, 0) * xp.maximum(iw, 0)
    union = area_a + area_b - inter
    ok = (area_a > 0) & (area_b > 0)
    return xp.where(ok, inter / xp.where(ok, union, 1), 0)


def _greedy_keep(xp, valid, suppress, max_out):
    """Greedy selection over boxes in priority order.

    ``valid`` [B, n] marks candidates; ``suppress(rows, cols)`` gives [B, len(rows),
    len(cols)] booleans (box ``rows[i]``, once kept, removes box ``cols[j]``), for index
    arrays of positions. Returns ``keep`` [B, n]: at most ``max_out`` per row."""
    bsz, n = valid.shape
    keep = xp.zeros((bsz, n), dtype=bool)
    if n == 0 or max_out <= 0:
        return keep
    for start in range(0, n, _TILE):  # tiles of boxes, not boxes
        stop = min(n, start + _TILE)
        cols = np.arange(start, stop)
        alive = valid[:, start:stop]
        if start:
            earlier = suppress(np.arange(start), cols) & keep[:, :start, None]
            alive = alive & ~xp.any(earlier, axis=1)
        within = suppress(cols, cols) & xp.asarray(np.triu(np.ones((cols.size,) * 2, bool), 1))
        cur = alive
        while True:  # the fixed point; each round settles at least one more box
            nxt = alive & ~xp.any(within & cur[:, :, None], axis=1)
            if bool(xp.all(nxt == cur)):
                break
            cur = nxt
        keep[:, start:stop] = cur
        if bool(xp.all(xp.sum(keep, axis=1) >= max_out)):
            break
    return keep & (xp.cumsum(keep, axis=1) <= max_out)


def _priority(xp, scores):
    """Positions in descending score order, ties by index (TF's candidate order)."""
    return xp.argsort(-xp.astype(scores, np.float64), axis=-1, stable=True)


def _nms_core(xp, boxes, scores, max_out, iou_thr, score_thr):
    """Hard greedy NMS of one set of boxes: selected indices (int32, score order)."""
    order = _priority(xp, scores)
    sboxes = xp.take(boxes, order, axis=0)
    valid = (xp.take(scores, order) > score_thr)[None]

    def suppress(rows, cols):
        return (_iou(xp, sboxes[rows], sboxes[cols]) > iou_thr)[None]

    keep = _greedy_keep(xp, valid, suppress, max_out)[0]
    return xp.astype(order[keep], np.int32)


def _soft_nms(xp, boxes, scores, max_out, iou_thr, score_thr, sigma):
    """Soft-NMS with TF's lazy rescoring: the best waiting candidate is rescored by the
    boxes selected since it was last scored; it is selected if its score did not change,
    else it waits again with its new score (dropped once at or below the threshold)."""
    ftype = scores.dtype
    n = scores.shape[0]
    key = xp.astype(scores, ftype)
    alive = key > score_thr
    seen = np.zeros(n, np.int64)  # how many selections each candidate has been rescored by
    scale = ftype.type(-0.5 / sigma)
    sel, sel_scores, sel_boxes = [], [], []
    neg_inf = xp.asarray(-np.inf, dtype=ftype)
    while len(sel) < max_out and bool(xp.any(alive)):
        j = int(xp.argmax(xp.where(alive, key, neg_inf)))
        score = key[j]
        if seen[j] < len(sel):
            ious = _iou(xp, boxes[j : j + 1], xp.stack(sel_boxes[seen[j] :]))[0]
            decay = xp.exp(scale * ious * ious)
            steps = xp.cumprod(xp.concat([xp.reshape(score, (1,)), xp.astype(decay, ftype)]))
            seen[j] = len(sel)
            if bool(xp.any(steps[1:] <= score_thr)):
                alive[j] = False
                continue
            new = steps[-1]
            if bool(new != score):
                key[j] = new
                continue
        alive[j] = False
        sel.append(j)
        sel_scores.append(score)
        sel_boxes.append(boxes[j])
    idx = xp.asarray(np.asarray(sel, np.int32))
    vals = xp.stack(sel_scores) if sel_scores else xp.zeros((0,), dtype=ftype)
    return idx, xp.astype(vals, ftype)


# --------------------------------------------------------------------------------------
# NonMaxSuppressionV3 / V4 / V5 / WithOverlaps
# --------------------------------------------------------------------------------------


def _check_nms_inputs(op, boxes, scores, max_output_size, iou_threshold, what="boxes"):
    if what == "boxes":
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise op_error(
                InvalidArgumentError, op,
                f"boxes must be 2-D [num_boxes, 4] (4 columns), got shape {list(boxes.shape)}",
            )  # fmt: skip
    elif boxes.ndim != 2 or boxes.shape[0] != boxes.shape[1]:
        raise op_error(
            InvalidArgumentError, op,
            f"overlaps must be a square 2-D matrix, got shape {list(boxes.shape)}",
        )  # fmt: skip
    if scores.ndim != 1 or scores.shape[0] != boxes.shape[0]:
        raise op_error(
            InvalidArgumentError, op,
            f"scores has incompatible shape {list(scores.shape)} for {what} "
            f"{list(boxes.shape)} (expected [{boxes.shape[0]}])",
        )  # fmt: skip
    if max_output_size.ndim != 0:
        raise op_error(
            InvalidArgumentError, op,
            f"max_output_size must be 0-D, got shape {list(max_output_size.shape)}",
        )  # fmt: skip
    m = int(max_output_size)
    if m < 0:
        raise op_error(InvalidArgumentError, op, f"output size must be non-negative, got {m}")
    thr = float(iou_threshold)
    if not 0 <= thr <= 1:
        name = "overlap_threshold" if what == "overlaps" else "iou_threshold"
        raise op_error(InvalidArgumentError, op, f"{name} must be in [0, 1], got {thr}")
    return m, thr


def _pad(xp, v, m, dtype):
    out = xp.zeros((m,), dtype=dtype)
    out[: v.shape[0]] = v
    return out


def _nms_rule(op, n_out):
    def rule(boxes, scores, max_output_size, *rest, **p):
        if boxes.rank is not None and boxes.rank != 2:
            raise op_error(InvalidArgumentError, op, f"boxes must be 2-D, got shape {boxes.shape}")
        if max_output_size.rank not in (None, 0):
            raise op_error(
                InvalidArgumentError, op,
                f"max_output_size must be 0-D, got shape {max_output_size.shape}",
            )  # fmt: skip
        m = None
        if p.get("pad_to_max_output_size") and max_output_size.value is not None:
            m = int(max_output_size.value)
        outs = [AVal([m], _d.int32)]
        if n_out == 3:
            outs.append(AVal([m], scores.dtype))
        if n_out >= 2:
            outs.append(AVal([], _d.int32))
        return outs[0] if n_out == 1 else tuple(outs)

    return rule


def _v3_kernel(boxes, scores, max_output_size, iou_threshold, score_threshold, *, xp=np):
    m, thr = _check_nms_inputs("NonMaxSuppressionV3", boxes, scores, max_output_size, iou_threshold)
    return _nms_core(xp, boxes, scores, m, thr, float(score_threshold))


def _v4_kernel(
    boxes,
    scores,
    max_output_size,
    iou_threshold,
    score_threshold,
    pad_to_max_output_size=False,
    *,
    xp=np,
):
    m, thr = _check_nms_inputs("NonMaxSuppressionV4", boxes, scores, max_output_size, iou_threshold)
    idx = _nms_core(xp, boxes, scores, m, thr, float(score_threshold))
    count = xp.asarray(idx.shape[0], dtype=np.int32)
    if pad_to_max_output_size:
        idx = _pad(xp, idx, m, np.int32)
    return idx, count


def _v5_kernel(boxes, scores, max_output_size, iou_threshold, score_threshold, soft_nms_sigma,
    pad_to_max_output_size=False, *, xp=np):  # fmt: skip
    op = "NonMaxSuppressionV5"
    m, thr = _check_nms_inputs(op, boxes, scores, max_output_size, iou_threshold)
    sigma = float(soft_nms_sigma)
    if sigma < 0:
        raise op_error(InvalidArgumentError, op, f"soft_nms_sigma must be >= 0, got {sigma}")
    if sigma > 0:
        idx, vals = _soft_nms(xp, boxes, scores, m, thr, float(score_threshold), sigma)
    else:
        idx = _nms_core(xp, boxes, scores, m, thr, float(score_threshold))
        vals = xp.take(scores, xp.astype(idx, np.int64))
    count = xp.asarray(idx.shape[0], dtype=np.int32)
    if pad_to_max_output_size:
        idx, vals = _pad(xp, idx, m, np.int32), _pad(xp, vals, m, scores.dtype)
    return idx, vals, count


def _overlaps_kernel(
    overlaps, scores, max_output_size, overlap_threshold, score_threshold, *, xp=np
):
    op = "NonMaxSuppressionWithOverlaps"
    m, thr = _check_nms_inputs(
        op, overlaps, scores, max_output_size, overlap_threshold, what="overlaps"
    )
    order = _priority(xp, scores)
    ov = xp.take(xp.take(overlaps, order, axis=0), order, axis=1)
    valid = (xp.take(scores, order) > float(score_threshold))[None]

    def suppress(rows, cols):  # overlaps[candidate, selected], as TF reads them
        return (xp.transpose(ov[cols][:, rows]) > thr)[None]

    keep = _greedy_keep(xp, valid, suppress, m)[0]
    return xp.astype(order[keep], np.int32)


nms_v3_p = primitive(
    "NonMaxSuppressionV3", _v3_kernel, _nms_rule("NonMaxSuppressionV3", 1),
    dtypes=_BOX_DTYPES, n_typed=2, same_dtype=True,
)  # fmt: skip
nms_v4_p = primitive(
    "NonMaxSuppressionV4", _v4_kernel, _nms_rule("NonMaxSuppressionV4", 2),
    n_out=2, dtypes=_BOX_DTYPES, n_typed=2, same_dtype=True,
)  # fmt: skip
nms_v5_p = primitive(
    "NonMaxSuppressionV5", _v5_kernel, _nms_rule("NonMaxSuppressionV5", 3),
    n_out=3, dtypes=_BOX_DTYPES, n_typed=2, same_dtype=True,
)  # fmt: skip
nms_overlaps_p = primitive(
    "NonMaxSuppressionWithOverlaps", _overlaps_kernel,
    _nms_rule("NonMaxSuppressionWithOverlaps", 1),
    dtypes=frozenset({_d.float32}), n_typed=2, same_dtype=True,
)  # fmt: skip


def _nms_args(boxes, scores, max_output_size, thresholds, dtype=None):
    boxes = convert_to_tensor(boxes, dtype=dtype)
    scores = convert_to_tensor(scores, dtype=boxes.dtype if not is_tensor_like(scores) else None)
    m = convert_to_tensor(max_output_size, dtype=_d.int32)
    ts = [convert_to_tensor(t, dtype=_d.float32) for t in thresholds]
    return boxes, scores, m, ts


@tf_export("image.non_max_suppression")
def non_max_suppression(
    boxes, scores, max_output_size, iou_threshold=0.5, score_threshold=float("-inf"), name=None
):
    """Indices (int32, by descending score) of the boxes greedy non-max suppression keeps:
    at most ``max_output_size``, none overlapping a better kept box by IoU >
    ``iou_threshold``, none scoring at or below ``score_threshold``."""
    b, s, m, (t, st) = _nms_args(boxes, scores, max_output_size, [iou_threshold, score_threshold])
    return bind(nms_v3_p, (b, s, m, t, st))


@tf_export("image.non_max_suppression_with_scores")
def non_max_suppression_with_scores(
    boxes, scores, max_output_size, iou_threshold=0.5, score_threshold=float("-inf"),
    soft_nms_sigma=0.0, name=None,
):  # fmt: skip
    """Like ``non_max_suppression``, also returning the selected boxes' scores; with
    ``soft_nms_sigma`` > 0, overlapping boxes are rescored by exp(-IoU^2 / (2 sigma))
    instead of removed (Soft-NMS, Bodla et al. 2017)."""
    b, s, m, (t, st, sig) = _nms_args(
        boxes, scores, max_output_size, [iou_threshold, score_threshold, soft_nms_sigma]
    )
    idx, vals, _ = bind(nms_v5_p, (b, s, m, t, st, sig), {"pad_to_max_output_size": False})
    return idx, vals


@tf_export("image.non_max_suppression_overlaps")
def non_max_suppression_overlaps(
    overlaps, scores, max_output_size, overlap_threshold=0.5, score_threshold=float("-inf"),
    name=None,
):  # fmt: skip
    """Greedy non-max suppression given the pairwise ``overlaps`` [n, n] of the boxes
    instead of their coordinates (box i suppresses box j when overlaps[j, i] exceeds
    ``overlap_threshold``)."""
    o = convert_to_tensor(overlaps, dtype=_d.float32)
    s = convert_to_tensor(scores, dtype=_d.float32)
    m = convert_to_tensor(max_output_size, dtype=_d.int32)
    t = convert_to_tensor(overlap_threshold, dtype=_d.float32)
    st = convert_to_tensor(score_threshold, dtype=_d.float32)
    return bind(nms_overlaps_p, (o, s, m, t, st))


# --------------------------------------------------------------------------------------
# non_max_suppression_padded (TF's batched, tiled algorithm and its quirks)
# --------------------------------------------------------------------------------------


def _padded_kernel(boxes, scores, max_output_size, iou_threshold, score_threshold,
    canonicalized_coordinates=False, tile_size=512, sorted_input=False, *, xp=np):  # fmt: skip
    op = "NonMaxSuppressionPadded"
    if boxes.ndim < 2 or boxes.shape[-1] != 4 or tuple(scores.shape) != tuple(boxes.shape[:-1]):
        raise op_error(
            InvalidArgumentError, op,
            f"boxes must be [..., num_boxes, 4] and scores [..., num_boxes], got "
            f"{list(boxes.shape)} and {list(scores.shape)}",
        )  # fmt: skip
    m = int(max_output_size)
    n = boxes.shape[-2]
    batch = tuple(boxes.shape[:-2])
    b = xp.reshape(xp.astype(boxes, np.float32), (-1, n, 4))
    s = xp.reshape(xp.astype(scores, np.float32), (-1, n))
    st = float(score_threshold)
    if st != float("-inf"):  # boxes at or below the threshold become empty, scored zero
        mask = s > np.float32(st)
        s = xp.where(mask, s, np.float32(0))
        b = xp.where(mask[..., None], b, np.float32(0))
    if not canonicalized_coordinates and b.shape[0] and n:
        # TF decides the corner order of every box from the first box of the first batch
        if bool(b[0, 0, 0] > b[0, 0, 2]):
            b = xp.stack([b[..., 2], b[..., 1], b[..., 0], b[..., 3]], axis=-1)
        if bool(b[0, 0, 1] > b[0, 0, 3]):
            b = xp.stack([b[..., 0], b[..., 3], b[..., 2], b[..., 1]], axis=-1)
    if sorted_input:  # the caller's order is the priority order
        order = xp.broadcast_to(xp.arange(n)[None], s.shape)
    else:
        order = _priority(xp, s)
    sb = xp.take_along_axis(b, order[..., None], axis=1)
    thr = np.float32(float(iou_threshold))

    def suppress(rows, cols):
        a, c = sb[:, rows], sb[:, cols]
        y0 = xp.maximum(a[..., :, None, 0], c[..., None, :, 0])
        y1 = xp.minimum(a[..., :, None, 2], c[..., None, :, 2])
        x0 = xp.maximum(a[..., :, None, 1], c[..., None, :, 1])
        x1 = xp.minimum(a[..., :, None, 3], c[..., None, :, 3])
        inter = xp.maximum(y1 - y0, 0) * xp.maximum(x1 - x0, 0)
        area_a = ((a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1]))[..., :, None]
        area_c = ((c[..., 2] - c[..., 0]) * (c[..., 3] - c[..., 1]))[..., None, :]
        return inter / (area_a + area_c - inter + np.float32(1e-8)) >= thr

    if thr > 0:
        keep = _greedy_keep(xp, xp.ones(sb.shape[:2], dtype=bool), suppress, n)
    else:  # TF's tiled loop keeps its whole first tile and suppresses every later one
        keep = xp.broadcast_to(xp.arange(n)[None] < max(int(tile_size), 1), sb.shape[:2])
    # TF counts a kept box as selected only if one of its coordinates is positive
    keep = keep & xp.any(sb > 0, axis=-1)
    keep = keep & (xp.cumsum(keep, axis=1) <= m)
    count = xp.astype(xp.sum(keep, axis=1), np.int32)
    # the kept positions first, in score order, then zeros
    rank = xp.where(keep, xp.arange(n)[None], n + xp.arange(n)[None])
    pos = xp.argsort(rank, axis=1, stable=True)[:, :m]
    idx = xp.take_along_axis(order, pos, axis=1) if n else xp.zeros((b.shape[0], 0), np.int64)
    if idx.shape[1] < m:
        idx = xp.concat([idx, xp.zeros((idx.shape[0], m - idx.shape[1]), dtype=idx.dtype)], axis=1)
    slots = xp.arange(m)[None] < count[:, None]
    idx = xp.where(slots, xp.astype(idx, np.int32), np.int32(0))
    return xp.reshape(idx, (*batch, m)), xp.reshape(count, batch)


def _padded_rule(boxes, scores, max_output_size, iou_threshold, score_threshold, **_):
    m = None if max_output_size.value is None else int(max_output_size.value)
    if boxes.rank is None:
        return AVal(None, _d.int32), AVal(None, _d.int32)
    batch = boxes.shape.as_list()[:-2]
    return AVal([*batch, m], _d.int32), AVal(batch, _d.int32)


nms_padded_p = primitive(
    "NonMaxSuppressionPadded", _padded_kernel, _padded_rule, n_out=2,
    dtypes=frozenset({_d.float16, _d.float32, _d.float64}), n_typed=2,
)  # fmt: skip


@tf_export("image.non_max_suppression_padded")
def non_max_suppression_padded(
    boxes, scores, max_output_size, iou_threshold=0.5, score_threshold=float("-inf"),
    pad_to_max_output_size=False, name=None, sorted_input=False,
    canonicalized_coordinates=False, tile_size=512,
):  # fmt: skip
    """Greedy non-max suppression of batches of boxes ([..., num_boxes, 4]) returning
    ``(indices, num_valid)``, the indices padded with zeros to ``max_output_size`` when
    ``pad_to_max_output_size``. As in TF, boxes overlapping by IoU >= ``iou_threshold``
    are suppressed and a box with no positive coordinate is never selected."""
    boxes = convert_to_tensor(boxes)
    scores = convert_to_tensor(scores)
    if not pad_to_max_output_size and boxes.shape.rank is not None and boxes.shape.rank > 2:
        raise ValueError(
            f"'pad_to_max_output_size' (value {pad_to_max_output_size}) must be True for "
            "batched input"
        )
    m = convert_to_tensor(max_output_size, dtype=_d.int32)
    t = convert_to_tensor(iou_threshold, dtype=_d.float32)
    st = convert_to_tensor(score_threshold, dtype=_d.float32)
    params = {
        "canonicalized_coordinates": bool(canonicalized_coordinates),
        "tile_size": int(tile_size),
        "sorted_input": bool(sorted_input),
    }
    idx, count = bind(nms_padded_p, (boxes, scores, m, t, st), params)
    if not pad_to_max_output_size:
        from rill.ops.indexing_ops import slice as _slice

        idx = _slice(idx, [0], [count])
    return idx, count


# --------------------------------------------------------------------------------------
# CombinedNonMaxSuppression
# --------------------------------------------------------------------------------------


def _combined_kernel(boxes, scores, max_output_size_per_class, max_total_size, iou_threshold, score_threshold,
    pad_per_class=False, clip_boxes=True, *, xp=np):  # fmt: skip
    op = "CombinedNonMaxSuppression"
    if boxes.ndim != 4 or boxes.shape[3] != 4:
        raise op_error(
            InvalidArgumentError, op,
            f"boxes must be 4-D [batch, num_boxes, q, 4] (4 columns), got {list(boxes.shape)}",
        )  # fmt: skip
    bsz, n, q, _ = boxes.shape
    if scores.ndim != 3 or scores.shape[0] != bsz or scores.shape[1] != n:
        raise op_error(
            InvalidArgumentError, op,
            f"scores has incompatible shape {list(scores.shape)} for boxes {list(boxes.shape)}",
        )  # fmt: skip
    k = scores.shape[2]
    if q not in (1, k):
        raise op_error(
            InvalidArgumentError, op,
            f"third dimension of boxes must be either 1 or num classes ({k}), got {q}",
        )  # fmt: skip
    per_class, total = int(max_output_size_per_class), int(max_total_size)
    if per_class <= 0:
        raise op_error(InvalidArgumentError, op, "max_size_per_class must be positive")
    if total <= 0:
        raise op_error(InvalidArgumentError, op, "max_total_size must be > 0")
    thr = float(iou_threshold)
    if not 0 <= thr <= 1:
        raise op_error(InvalidArgumentError, op, f"iou_threshold must be in [0, 1], got {thr}")
    st = float(score_threshold)
    # one NMS problem per (image, class): [B * K, n]
    cls_boxes = xp.broadcast_to(boxes, (bsz, n, k, 4)) if q == 1 else boxes
    cls_boxes = xp.reshape(xp.transpose(cls_boxes, (0, 2, 1, 3)), (bsz * k, n, 4))
    cls_scores = xp.reshape(xp.transpose(scores, (0, 2, 1)), (bsz * k, n))
    order = _priority(xp, cls_scores)
    sb = xp.take_along_axis(cls_boxes, order[..., None], axis=1)
    ss = xp.take_along_axis(cls_scores, order, axis=1)

    def suppress(rows, cols):
        return _iou(xp, sb[:, rows], sb[:, cols]) > thr

    keep = _greedy_keep(xp, ss > st, suppress, per_class)
    # merge each image's classes, best first (class-major order among equal scores)
    kept_scores = xp.reshape(xp.where(keep, ss, -np.inf), (bsz, k * n))
    merged = _priority(xp, kept_scores)
    limit = min(total, per_class * k) if pad_per_class else total
    take = merged[:, :limit]
    valid = xp.take_along_axis(kept_scores, take, axis=1) > -np.inf
    count = xp.astype(xp.sum(valid, axis=1), np.int32)
    flat_boxes = xp.reshape(sb, (bsz, k * n, 4))
    out_boxes = xp.take_along_axis(flat_boxes, take[..., None], axis=1)
    out_scores = xp.take_along_axis(xp.reshape(ss, (bsz, k * n)), take, axis=1)
    out_classes = xp.astype(take // n, np.float32)
    if clip_boxes:
        out_boxes = xp.clip(out_boxes, 0, 1)
    if take.shape[1] < limit:  # fewer candidates than slots
        extra = limit - take.shape[1]
        out_boxes = xp.concat([out_boxes, xp.zeros((bsz, extra, 4), dtype=out_boxes.dtype)], axis=1)
        out_scores = xp.concat([out_scores, xp.zeros((bsz, extra), dtype=out_scores.dtype)], axis=1)
        out_classes = xp.concat([out_classes, xp.zeros((bsz, extra), dtype=np.float32)], axis=1)
        valid = xp.concat([valid, xp.zeros((bsz, extra), dtype=bool)], axis=1)
    zero = np.float32(0)
    out_boxes = xp.astype(xp.where(valid[..., None], out_boxes, zero), np.float32)
    out_scores = xp.astype(xp.where(valid, out_scores, zero), np.float32)
    out_classes = xp.where(valid, out_classes, zero)
    return out_boxes, out_scores, out_classes, count


def _combined_rule(
    boxes, scores, max_output_size_per_class, max_total_size, iou_threshold, score_threshold,
    pad_per_class=False, clip_boxes=True,
):  # fmt: skip
    op = "CombinedNonMaxSuppression"
    if boxes.rank is not None and boxes.rank != 4:
        raise op_error(InvalidArgumentError, op, f"boxes must be 4-D, got shape {boxes.shape}")
    if scores.rank is not None and scores.rank != 3:
        raise op_error(InvalidArgumentError, op, f"scores must be 3-D, got shape {scores.shape}")
    b = boxes.shape[0] if boxes.rank is not None else None
    m = None
    if max_total_size.value is not None:
        m = int(max_total_size.value)
        k = scores.shape[2] if scores.rank is not None else None
        if pad_per_class:
            per = max_output_size_per_class.value
            m = None if per is None or k is None else min(m, int(per) * k)
    return (
        AVal([b, m, 4], _d.float32),
        AVal([b, m], _d.float32),
        AVal([b, m], _d.float32),
        AVal([b], _d.int32),
    )


combined_nms_p = primitive(
    "CombinedNonMaxSuppression", _combined_kernel, _combined_rule, n_out=4,
    dtypes=frozenset({_d.float32}), n_typed=2, same_dtype=True,
)  # fmt: skip


@tf_export("image.combined_non_max_suppression")
def combined_non_max_suppression(
    boxes, scores, max_output_size_per_class, max_total_size, iou_threshold=0.5,
    score_threshold=float("-inf"), pad_per_class=False, clip_boxes=True, name=None,
):  # fmt: skip
    """Greedy non-max suppression per image and class, then the best ``max_total_size``
    detections of each image over all classes: ``(nmsed_boxes, nmsed_scores,
    nmsed_classes, valid_detections)``, zero-padded."""
    b = convert_to_tensor(boxes, dtype=_d.float32)
    s = convert_to_tensor(scores, dtype=_d.float32)
    per = convert_to_tensor(max_output_size_per_class, dtype=_d.int32)
    total = convert_to_tensor(max_total_size, dtype=_d.int32)
    t = convert_to_tensor(iou_threshold, dtype=_d.float32)
    st = convert_to_tensor(score_threshold, dtype=_d.float32)
    params = {"pad_per_class": bool(pad_per_class), "clip_boxes": bool(clip_boxes)}
    return bind(combined_nms_p, (b, s, per, total, t, st), params)


# --------------------------------------------------------------------------------------
# DrawBoundingBoxesV2
# --------------------------------------------------------------------------------------

_DEFAULT_COLORS = np.array(
    [[1, 1, 0, 1], [0, 0, 1, 1], [1, 0, 0, 1], [0, 1, 0, 1], [0.5, 0, 0.5, 1],
     [0.5, 0.5, 0, 1], [0.5, 0, 0, 1], [0, 0, 0.5, 1], [0, 1, 1, 1], [1, 0, 1, 1]],
    np.float32,
)  # fmt: skip


def _draw_kernel(images, boxes, colors, *, xp=np):
    op = "DrawBoundingBoxesV2"
    if images.ndim != 4:
        raise op_error(
            InvalidArgumentError,
            op,
            f"The rank of the images should be 4, got {list(images.shape)}",
        )
    n, h, w, depth = images.shape
    if depth not in (1, 3, 4):
        raise op_error(
            InvalidArgumentError, op,
            f"Channel depth should be either 1 (GRY), 3 (RGB), or 4 (RGBA), got {depth}",
        )  # fmt: skip
    if boxes.ndim != 3 or boxes.shape[0] != n:
        raise op_error(
            InvalidArgumentError, op,
            f"The batch sizes should be the same: images {list(images.shape)}, boxes "
            f"{list(boxes.shape)}",
        )  # fmt: skip
    if boxes.shape[2] != 4:
        raise op_error(
            InvalidArgumentError, op,
            f"The size of the third dimension of the box must be 4. Received: {boxes.shape[2]}",
        )  # fmt: skip
    if colors.ndim != 2 or colors.shape[0] == 0:  # TF's palette; white on grayscale
        colors = xp.asarray(_DEFAULT_COLORS if depth > 1 else np.ones((1, 4), np.float32))
    elif colors.shape[1] < depth:
        raise op_error(
            InvalidArgumentError, op,
            f"colors must have equal or more channels than the image provided: "
            f"{list(colors.shape)}",
        )  # fmt: skip
    nb = boxes.shape[1]
    out = xp.asarray(images, copy=True)
    if nb == 0 or h == 0 or w == 0:
        return out
    b = xp.astype(boxes, np.float32)
    # corners in whole pixels, truncated toward zero as TF's kernel casts them
    r0 = xp.astype(xp.trunc(b[..., 0] * np.float32(h - 1)), np.int64)  # [N, nb]
    c0 = xp.astype(xp.trunc(b[..., 1] * np.float32(w - 1)), np.int64)
    r1 = xp.astype(xp.trunc(b[..., 2] * np.float32(h - 1)), np.int64)
    c1 = xp.astype(xp.trunc(b[..., 3] * np.float32(w - 1)), np.int64)
    drawn = (r0 <= r1) & (c0 <= c1) & (r0 < h) & (r1 >= 0) & (c0 < w) & (c1 >= 0)
    rows = xp.reshape(xp.arange(h), (1, 1, h, 1))
    cols = xp.reshape(xp.arange(w), (1, 1, 1, w))
    e = lambda v: v[:, :, None, None]  # noqa: E731
    in_rows = (rows >= e(r0)) & (rows <= e(r1))
    in_cols = (cols >= e(c0)) & (cols <= e(c1))
    outline = ((rows == e(r0)) | (rows == e(r1))) & in_cols | (
        (cols == e(c0)) | (cols == e(c1))
    ) & in_rows
    outline = outline & e(drawn)  # [N, nb, h, w]
    # the last box drawn over a pixel gives its colour
    last = nb - 1 - xp.argmax(xp.flip(outline, axis=1), axis=1)  # [N, h, w]
    hit = xp.any(outline, axis=1)
    palette = xp.astype(colors[:, :depth], out.dtype)
    color = xp.take(palette, last % palette.shape[0], axis=0)  # [N, h, w, depth]
    return xp.where(hit[..., None], color, out)


def _draw_rule(images, boxes, colors):
    op = "DrawBoundingBoxesV2"
    if images.rank is not None and images.rank != 4:
        raise op_error(
            InvalidArgumentError, op, f"The rank of the images should be 4, got {images.shape}"
        )
    return AVal(images.shape, images.dtype)


draw_boxes_p = primitive(
    "DrawBoundingBoxesV2", _draw_kernel, _draw_rule, dtypes=_BOX_DTYPES, n_typed=1,
)  # fmt: skip


@tf_export("image.draw_bounding_boxes")
def draw_bounding_boxes(images, boxes, colors, name=None):
    """Draw the outlines of ``boxes`` [batch, num_boxes, 4] (normalised y1, x1, y2, x2)
    on ``images`` [batch, height, width, 1|3|4], box i in ``colors[i % len(colors)]``
    (RGBA rows; a default palette when ``colors`` is None or empty)."""
    if is_tensor_like(images):
        images = convert_to_tensor(images)
    else:
        images = convert_to_tensor(images)
        if images.dtype not in _BOX_DTYPES:
            images = convert_to_tensor(np.asarray(images.numpy(), np.float32))
    boxes = convert_to_tensor(boxes, dtype=_d.float32)
    if colors is None:
        colors = np.zeros((0, 4), np.float32)
    colors = convert_to_tensor(colors, dtype=_d.float32)
    return bind(draw_boxes_p, (images, boxes, colors))


# --------------------------------------------------------------------------------------
# SampleDistortedBoundingBoxV2 / StatelessSampleDistortedBoundingBox
# --------------------------------------------------------------------------------------


def _sample_box(op, gen, image_size, bounding_boxes, min_object_covered, aspect_ratio_range,
                area_range, max_attempts, use_image_if_no_bounding_boxes):  # fmt: skip
    """One random crop (begin, size, box) covering enough of a bounding box. All attempts
    are drawn and checked at once; the first that fits wins, else the whole image."""
    size = np.asarray(image_size).reshape(-1)
    if size.shape[0] != 3:
        raise op_error(
            InvalidArgumentError, op,
            f"image_size must be 1-D with 3 elements [height, width, channels], got {list(size)}",
        )  # fmt: skip
    h, w = int(size[0]), int(size[1])
    if h <= 0 or w <= 0:
        raise op_error(
            InvalidArgumentError, op, f"image height and width must be positive, got {[h, w]}"
        )
    bb = np.asarray(bounding_boxes, np.float32)
    if bb.ndim != 3 or bb.shape[-1] != 4:
        raise op_error(
            InvalidArgumentError, op,
            f"bounding_boxes must be 3-D [batch, N, 4], got shape {list(bb.shape)}",
        )  # fmt: skip
    bb = bb.reshape(-1, 4)
    if bb.shape[0] == 0:
        if not use_image_if_no_bounding_boxes:
            raise op_error(
                InvalidArgumentError, op,
                "No bounding boxes provided as input. One must enable "
                "use_image_if_no_bounding_boxes if you wish to not provide any bounding boxes.",
            )  # fmt: skip
        bb = np.array([[0, 0, 1, 1]], np.float32)
    if (
        np.any(bb < 0)
        or np.any(bb > 1)
        or np.any(bb[:, 0] > bb[:, 2])
        or np.any(bb[:, 1] > bb[:, 3])
    ):
        raise op_error(
            InvalidArgumentError, op,
            "All bounding box coordinates must be in [0.0, 1.0] with ymin <= ymax and "
            "xmin <= xmax",
        )  # fmt: skip
    lo_a, hi_a = (float(v) for v in aspect_ratio_range)
    lo_s, hi_s = (float(v) for v in area_range)
    if lo_a <= 0 or lo_a > hi_a:
        raise op_error(
            InvalidArgumentError,
            op,
            f"aspect_ratio_range must be positive and ordered, got {[lo_a, hi_a]}",
        )
    if lo_s <= 0 or lo_s > hi_s or hi_s > 1:
        raise op_error(
            InvalidArgumentError,
            op,
            f"area_range must be within (0, 1] and ordered, got {[lo_s, hi_s]}",
        )
    k = int(max_attempts)
    if k <= 0:
        raise op_error(InvalidArgumentError, op, f"max_attempts must be positive, got {k}")
    area = float(h * w)
    ratio = gen.uniform(lo_a, hi_a, k)
    min_h = np.rint(np.sqrt(lo_s * area / ratio))
    max_h = np.rint(np.sqrt(hi_s * area / ratio))
    max_h = np.where(np.rint(max_h * ratio) > w, np.floor((w + 0.5 - 1e-7) / ratio), max_h)
    max_h = np.minimum(max_h, h)
    min_h = np.minimum(min_h, max_h)
    ch = np.floor(min_h + gen.random(k) * (max_h - min_h + 1)).astype(np.int64)
    ch = np.minimum(ch, max_h.astype(np.int64))
    cw = np.rint(ch * ratio).astype(np.int64)
    carea = (ch * cw).astype(np.float64)
    ok = (ch > 0) & (cw > 0) & (ch <= h) & (cw <= w)
    ok &= (carea >= lo_s * area) & (carea <= hi_s * area)
    y0 = np.floor(gen.random(k) * (np.maximum(h - ch, 0) + 1)).astype(np.int64)
    x0 = np.floor(gen.random(k) * (np.maximum(w - cw, 0) + 1)).astype(np.int64)
    # coverage of each given box by each candidate crop, in pixels
    by0, bx0 = bb[:, 0] * h, bb[:, 1] * w
    by1, bx1 = bb[:, 2] * h, bb[:, 3] * w
    iy = np.minimum(y0[:, None] + ch[:, None], by1[None]) - np.maximum(y0[:, None], by0[None])
    ix = np.minimum(x0[:, None] + cw[:, None], bx1[None]) - np.maximum(x0[:, None], bx0[None])
    inter = np.maximum(iy, 0) * np.maximum(ix, 0)
    barea = (by1 - by0) * (bx1 - bx0)
    covered = np.where(barea[None] > 0, inter / np.where(barea[None] > 0, barea[None], 1), 0)
    ok &= np.any(covered >= float(min_object_covered), axis=1) | (float(min_object_covered) <= 0)
    if ok.any():
        i = int(np.argmax(ok))
        oy, ox, th, tw = int(y0[i]), int(x0[i]), int(ch[i]), int(cw[i])
    else:
        oy, ox, th, tw = 0, 0, h, w
    begin = np.array([oy, ox, 0], dtype=size.dtype)
    sz = np.array([th, tw, -1], dtype=size.dtype)
    box = np.array([[[oy / h, ox / w, (oy + th) / h, (ox + tw) / w]]], np.float32)
    return begin, sz, box


def _sample_rule(image_size, bounding_boxes, *rest, **_):
    return (
        AVal([3], image_size.dtype),
        AVal([3], image_size.dtype),
        AVal([1, 1, 4], _d.float32),
    )


def _sample_kernel(image_size, bounding_boxes, min_object_covered, seed=0, seed2=0,
                   aspect_ratio_range=(0.75, 1.33), area_range=(0.05, 1.0), max_attempts=100,
                   use_image_if_no_bounding_boxes=False):  # fmt: skip
    from rill.ops.random_ops import _stream

    # seeds (0, 0): a fresh random stream, as TF's kernel does
    gen = _stream("SampleDistortedBoundingBoxV2", _d.float32, (seed or seed2) or None, seed2)
    return _sample_box(
        "SampleDistortedBoundingBoxV2", gen, image_size, bounding_boxes, float(min_object_covered),
        aspect_ratio_range, area_range, max_attempts, use_image_if_no_bounding_boxes,
    )  # fmt: skip


def _stateless_sample_kernel(image_size, bounding_boxes, min_object_covered, seed,
                             aspect_ratio_range=(0.75, 1.33), area_range=(0.05, 1.0),
                             max_attempts=100, use_image_if_no_bounding_boxes=False):  # fmt: skip
    from rill.ops.random_ops import _seed_gen

    gen = _seed_gen("StatelessSampleDistortedBoundingBox", np.asarray(seed))
    return _sample_box(
        "StatelessSampleDistortedBoundingBox", gen, image_size, bounding_boxes,
        float(min_object_covered), aspect_ratio_range, area_range, max_attempts,
        use_image_if_no_bounding_boxes,
    )  # fmt: skip


sample_box_p = primitive(
    "SampleDistortedBoundingBoxV2", _sample_kernel, _sample_rule, n_out=3, stateful=True,
    host=True,  # draws from NumPy's random streams
)  # fmt: skip
stateless_sample_box_p = primitive(
    "StatelessSampleDistortedBoundingBox", _stateless_sample_kernel, _sample_rule, n_out=3,
    host=True,
)  # fmt: skip

_INT_SIZES = frozenset({_d.uint8, _d.int8, _d.int16, _d.int32, _d.int64})


def _sample_params(aspect_ratio_range, area_range, max_attempts, use_image_if_no_bounding_boxes):
    return {
        "aspect_ratio_range": tuple(float(v) for v in (aspect_ratio_range or (0.75, 1.33))),
        "area_range": tuple(float(v) for v in (area_range or (0.05, 1.0))),
        "max_attempts": int(100 if max_attempts is None else max_attempts),
        "use_image_if_no_bounding_boxes": bool(use_image_if_no_bounding_boxes),
    }


def _sample_inputs(image_size, bounding_boxes, min_object_covered):
    size = convert_to_tensor(image_size)
    if size.dtype not in _INT_SIZES:
        raise TypeError(f"image_size must be an integer tensor, got {size.dtype.name}")
    return (
        size,
        convert_to_tensor(bounding_boxes, dtype=_d.float32),
        convert_to_tensor(min_object_covered, dtype=_d.float32),
    )


@tf_export("image.sample_distorted_bounding_box")
def sample_distorted_bounding_box(
    image_size, bounding_boxes, seed=0, min_object_covered=0.1, aspect_ratio_range=None,
    area_range=None, max_attempts=None, use_image_if_no_bounding_boxes=None, name=None,
):  # fmt: skip
    """A random crop of an image of ``image_size`` (height, width, channels) that covers
    at least ``min_object_covered`` of one of ``bounding_boxes``, within the aspect-ratio
    and area ranges: ``(begin, size, bboxes)`` for ``tf.slice`` and drawing."""
    from rill.ops.random_ops import get_seed

    s1, s2 = get_seed(seed) if seed else (0, 0)
    params = _sample_params(aspect_ratio_range, area_range, max_attempts,
                            use_image_if_no_bounding_boxes)  # fmt: skip
    params.update(seed=int(s1 or 0), seed2=int(s2 or 0))
    return bind(
        sample_box_p, _sample_inputs(image_size, bounding_boxes, min_object_covered), params
    )


@tf_export("image.stateless_sample_distorted_bounding_box")
def stateless_sample_distorted_bounding_box(
    image_size, bounding_boxes, seed, min_object_covered=0.1, aspect_ratio_range=None,
    area_range=None, max_attempts=None, use_image_if_no_bounding_boxes=None, name=None,
):  # fmt: skip
    """``sample_distorted_bounding_box`` as a function of ``seed`` (shape [2])."""
    from rill.ops.random_ops import _seed_tensor

    params = _sample_params(aspect_ratio_range, area_range, max_attempts,
                            use_image_if_no_bounding_boxes)  # fmt: skip
    size, boxes, cover = _sample_inputs(image_size, bounding_boxes, min_object_covered)
    seed = _seed_tensor(seed, "stateless_sample_distorted_bounding_box")
    return bind(stateless_sample_box_p, (size, boxes, cover, seed), params)


# --------------------------------------------------------------------------------------
# GenerateBoundingBoxProposals
# --------------------------------------------------------------------------------------

_BBOX_XFORM_CLIP = float(np.log(1000.0 / 16.0))


def _proposals_kernel(scores, bbox_deltas, image_info, anchors, nms_threshold, pre_nms_topn,
                      min_size, post_nms_topn=300, *, xp=np):  # fmt: skip
    op = "GenerateBoundingBoxProposals"
    if scores.ndim != 4:
        raise op_error(InvalidArgumentError, op, f"scores must be 4-D, got {list(scores.shape)}")
    n, h, w, a = scores.shape
    if tuple(bbox_deltas.shape) != (n, h, w, 4 * a):
        raise op_error(
            InvalidArgumentError, op,
            f"bbox_deltas must be [{n}, {h}, {w}, {4 * a}], got {list(bbox_deltas.shape)}",
        )  # fmt: skip
    if image_info.ndim != 2 or image_info.shape[0] != n or image_info.shape[1] < 3:
        raise op_error(
            InvalidArgumentError, op, f"image_info must be [{n}, 5], got {list(image_info.shape)}"
        )
    if anchors.ndim != 3 or int(np.prod(anchors.shape)) != h * w * a * 4:
        raise op_error(
            InvalidArgumentError, op,
            f"anchors must be 3-D with {h * w * a * 4} elements ([height, width, "
            f"4 x num_anchors]), got {list(anchors.shape)}",
        )  # fmt: skip
    total = h * w * a
    pre = min(int(pre_nms_topn), total)
    post = int(post_nms_topn)
    thr = float(nms_threshold)
    f = np.float32
    s = xp.reshape(xp.astype(scores, f), (n, total))
    d = xp.reshape(xp.astype(bbox_deltas, f), (n, total, 4))
    anc = xp.reshape(xp.astype(anchors, f), (total, 4))
    order = _priority(xp, s)[:, :pre]
    s = xp.take_along_axis(s, order, axis=1)
    d = xp.take_along_axis(d, order[..., None], axis=1)
    anc = xp.take(anc, order, axis=0)  # [n, pre, 4]
    # decode (Faster R-CNN's parameterisation), clip to the image, drop small boxes
    ah = anc[..., 2] - anc[..., 0]
    aw = anc[..., 3] - anc[..., 1]
    cy = anc[..., 0] + f(0.5) * ah + d[..., 0] * ah
    cx = anc[..., 1] + f(0.5) * aw + d[..., 1] * aw
    ph = ah * xp.exp(xp.minimum(d[..., 2], f(_BBOX_XFORM_CLIP)))
    pw = aw * xp.exp(xp.minimum(d[..., 3], f(_BBOX_XFORM_CLIP)))
    info = xp.astype(image_info, f)
    ih, iw, scale = info[:, 0:1], info[:, 1:2], info[:, 2:3]
    y1 = xp.clip(cy - f(0.5) * ph, f(0), ih)
    x1 = xp.clip(cx - f(0.5) * pw, f(0), iw)
    y2 = xp.clip(cy + f(0.5) * ph, f(0), ih)
    x2 = xp.clip(cx + f(0.5) * pw, f(0), iw)
    boxes = xp.stack([y1, x1, y2, x2], axis=-1)
    big = xp.minimum(y2 - y1, x2 - x1) >= xp.astype(min_size, f) * scale

    def suppress(rows, cols):
        return _iou(xp, boxes[:, rows], boxes[:, cols]) > thr

    keep = _greedy_keep(xp, big, suppress, post)
    count = xp.sum(keep, axis=1)
    rank = xp.where(keep, xp.arange(pre)[None], pre + xp.arange(pre)[None])
    pos = xp.argsort(rank, axis=1, stable=True)[:, :post]
    rois = xp.take_along_axis(boxes, pos[..., None], axis=1)
    probs = xp.take_along_axis(s, pos, axis=1)
    if rois.shape[1] < post:
        extra = post - rois.shape[1]
        rois = xp.concat([rois, xp.zeros((n, extra, 4), dtype=f)], axis=1)
        probs = xp.concat([probs, xp.zeros((n, extra), dtype=f)], axis=1)
    slots = xp.arange(post)[None] < count[:, None]
    return xp.where(slots[..., None], rois, f(0)), xp.where(slots, probs, f(0))


def _proposals_rule(scores, bbox_deltas, image_info, anchors, nms_threshold, pre_nms_topn,
                    min_size, post_nms_topn=300):  # fmt: skip
    op = "GenerateBoundingBoxProposals"
    for name, v, r in (("scores", scores, 4), ("bbox_deltas", bbox_deltas, 4),
                       ("image_info", image_info, 2), ("anchors", anchors, 3)):  # fmt: skip
        if v.rank is not None and v.rank != r:
            raise op_error(
                InvalidArgumentError, op, f"{name} must be rank {r}, got shape {v.shape}"
            )
    n = scores.shape[0] if scores.rank is not None else None
    return AVal([n, post_nms_topn, 4], _d.float32), AVal([n, post_nms_topn], _d.float32)


proposals_p = primitive(
    "GenerateBoundingBoxProposals", _proposals_kernel, _proposals_rule, n_out=2,
    dtypes=frozenset({_d.float32}), n_typed=4, same_dtype=True,
)  # fmt: skip


@tf_export("image.generate_bounding_box_proposals")
def generate_bounding_box_proposals(
    scores, bbox_deltas, image_info, anchors, nms_threshold=0.7, pre_nms_topn=6000,
    min_size=16, post_nms_topn=300, name=None,
):  # fmt: skip
    """Region proposals (Faster R-CNN, arXiv:1506.01497 eq. 2): decode the best
    ``pre_nms_topn`` anchors' deltas [dy, dx, dh, dw], clip them to the image
    (``image_info`` rows: height, width, scale), drop boxes smaller than ``min_size`` *
    scale, suppress overlaps above ``nms_threshold`` and return the best
    ``post_nms_topn``: ``(rois [N, post, 4], roi_probabilities [N, post])``, zero-padded.

    TF has this kernel on GPU only; rill's runs anywhere."""
    inputs = tuple(
        convert_to_tensor(v, dtype=_d.float32) for v in (scores, bbox_deltas, image_info, anchors)
    )
    extra = (
        convert_to_tensor(nms_threshold, dtype=_d.float32),
        convert_to_tensor(pre_nms_topn, dtype=_d.int32),
        convert_to_tensor(min_size, dtype=_d.float32),
    )
    return bind(proposals_p, inputs + extra, {"post_nms_topn": int(post_nms_topn)})
