"""Overlap measures between two sets of boxes: IoU (pairwise matrix) and CIoU
(element-wise, with centre-distance and aspect-ratio penalties)."""

from __future__ import annotations

import math

from rill.keras.utils.bounding_boxes.converters import convert_format


def compute_iou(
    boxes1, boxes2, bounding_box_format, use_masking=False, mask_val=-1, image_shape=None
):
    """The IoU of every box in ``boxes1`` (n, 4) with every box in ``boxes2`` (m, 4): (n,
    m), or batched (b, n, m). With ``use_masking``, pairs with a padding box (all
    coordinates negative) get ``mask_val``."""
    from rill.keras import config, ops

    rank1, rank2 = len(ops.shape(boxes1)), len(ops.shape(boxes2))
    for name, rank in (("boxes1", rank1), ("boxes2", rank2)):
        if rank not in (2, 3):
            raise ValueError(
                f"compute_iou() expects {name} to be batched, or to be unbatched. Received "
                f"len(boxes1.shape)={rank1}, len(boxes2.shape)={rank2}. Expected either "
                f"len({name}.shape)=2 or len({name}.shape)=3."
            )
    if "rel" in bounding_box_format and image_shape is None:
        raise ValueError(
            "When using relative bounding box formats (e.g. `rel_yxyx`) the `image_shape` "
            f"argument must be provided. Received `image_shape`: {image_shape}"
        )
    h, w = (None, None) if image_shape is None else image_shape[:2]
    b1 = convert_format(boxes1, bounding_box_format, "yxyx", h, w)
    b2 = convert_format(boxes2, bounding_box_format, "yxyx", h, w)
    y1a, x1a, y2a, x2a = ops.split(b1, 4, axis=-1)
    y1b, x1b, y2b, x2b = ops.split(b2, 4, axis=-1)
    perm = [1, 0] if rank2 == 2 else [0, 2, 1]
    inter_h = ops.minimum(y2a, ops.transpose(y2b, perm)) - ops.maximum(
        y1a, ops.transpose(y1b, perm)
    )
    inter_w = ops.minimum(x2a, ops.transpose(x2b, perm)) - ops.maximum(
        x1a, ops.transpose(x1b, perm)
    )
    inter = ops.maximum(inter_h, 0.0) * ops.maximum(inter_w, 0.0)
    area1 = ops.squeeze((y2a - y1a) * (x2a - x1a), axis=-1)
    area2 = ops.squeeze((y2b - y1b) * (x2b - x1b), axis=-1)
    union = ops.expand_dims(area1, -1) + ops.expand_dims(area2, 1 if rank2 == 3 else 0) - inter
    iou = ops.divide(inter, union + config.epsilon())
    if not use_masking:
        return iou
    perm1 = [1, 0] if rank1 == 2 else [0, 2, 1]
    pad1 = ops.less(ops.max(b1, axis=-1, keepdims=True), 0.0)
    pad2 = ops.less(ops.max(b2, axis=-1, keepdims=True), 0.0)
    masked = ops.logical_or(pad1, ops.transpose(pad2, perm1))
    return ops.where(masked, ops.cast(mask_val, iou.dtype) * ops.ones_like(iou), iou)


def compute_ciou(boxes1, boxes2, bounding_box_format, image_shape=None):
    """Complete IoU of matching boxes (element-wise over the leading axes): IoU minus the
    squared centre distance over the enclosing box's squared diagonal, minus the
    aspect-ratio consistency term."""
    from rill.keras import ops
    from rill.keras.config import epsilon

    if "rel" in bounding_box_format:
        raise ValueError(
            "When using relative bounding box formats (e.g. `rel_yxyx`) the `image_shape` "
            f"argument must be provided. Received `image_shape`: {image_shape}"
        )
    h, w = (None, None) if image_shape is None else image_shape[:2]
    b1 = convert_format(boxes1, bounding_box_format, "xyxy", h, w)
    b2 = convert_format(boxes2, bounding_box_format, "xyxy", h, w)
    x1a, y1a, x2a, y2a = ops.split(b1, 4, axis=-1)
    x1b, y1b, x2b, y2b = ops.split(b2, 4, axis=-1)
    eps = epsilon()
    w1, h1 = x2a - x1a, y2a - y1a + eps
    w2, h2 = x2b - x1b, y2b - y1b + eps
    inter = ops.maximum(ops.minimum(x2a, x2b) - ops.maximum(x1a, x1b), 0) * ops.maximum(
        ops.minimum(y2a, y2b) - ops.maximum(y1a, y1b), 0
    )
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = ops.squeeze(ops.divide(inter, union + eps), axis=-1)
    cw = ops.maximum(x2a, x2b) - ops.minimum(x1a, x1b)
    ch = ops.maximum(y2a, y2b) - ops.minimum(y1a, y1b)
    diagonal = ops.squeeze(cw**2 + ch**2 + eps, axis=-1)
    centres = ops.squeeze(
        ((x1a + x2a) / 2 - (x1b + x2b) / 2) ** 2 + ((y1a + y2a) / 2 - (y1b + y2b) / 2) ** 2,
        axis=-1,
    )
    v = ops.squeeze(
        4 / math.pi**2 * ops.power(ops.arctan(w2 / h2) - ops.arctan(w1 / h1), 2), axis=-1
    )
    alpha = v / (v - iou + (1 + eps))
    return iou - (centres / diagonal + v * alpha)
