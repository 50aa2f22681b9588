"""Bounding-box formats and geometry: ``convert_format`` between the nine layouts,
clipping, cropping, padding, the affine transform, and the anchor-delta encoding."""

from __future__ import annotations

import math

SUPPORTED_FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy",
                     "rel_yxyx", "rel_xywh", "rel_center_xywh")  # fmt: skip


def _ops():
    from rill.keras import ops

    return ops


def _split(boxes):
    return _ops().split(boxes, 4, axis=-1)


def _join(*parts):
    return _ops().concatenate(list(parts), axis=-1)


# every format goes through xyxy (absolute corners); "rel_" formats are in image fractions
def _to_xyxy(fmt, b, h, w):
    a, c, d, e = _split(b)
    if fmt == "xyxy":
        return b
    if fmt == "yxyx":
        return _join(c, a, e, d)
    if fmt == "xywh":
        return _join(a, c, a + d, c + e)
    if fmt == "center_xywh":
        return _join(a - d / 2.0, c - e / 2.0, a + d / 2.0, c + e / 2.0)
    if fmt == "center_yxhw":
        return _join(c - e / 2.0, a - d / 2.0, c + e / 2.0, a + d / 2.0)
    if fmt == "rel_xyxy":
        return _join(a * w, c * h, d * w, e * h)
    if fmt == "rel_yxyx":
        return _join(c * w, a * h, e * w, d * h)
    if fmt == "rel_xywh":
        return _join(a * w, c * h, (a + d) * w, (c + e) * h)
    return _join((a - d / 2.0) * w, (c - e / 2.0) * h, (a + d / 2.0) * w, (c + e / 2.0) * h)


def _from_xyxy(fmt, b, h, w):
    x1, y1, x2, y2 = _split(b)
    if fmt == "xyxy":
        return b
    if fmt == "yxyx":
        return _join(y1, x1, y2, x2)
    if fmt == "xywh":
        return _join(x1, y1, x2 - x1, y2 - y1)
    if fmt == "center_xywh":
        return _join(x1 + (x2 - x1) / 2.0, y1 + (y2 - y1) / 2.0, x2 - x1, y2 - y1)
    if fmt == "center_yxhw":
        return _join(y1 + (y2 - y1) / 2.0, x1 + (x2 - x1) / 2.0, y2 - y1, x2 - x1)
    if fmt == "rel_xyxy":
        return _join(x1 / w, y1 / h, x2 / w, y2 / h)
    if fmt == "rel_yxyx":
        return _join(y1 / h, x1 / w, y2 / h, x2 / w)
    if fmt == "rel_xywh":
        return _join(x1 / w, y1 / h, (x2 - x1) / w, (y2 - y1) / h)
    return _join(
        (x1 + (x2 - x1) / 2.0) / w, (y1 + (y2 - y1) / 2.0) / h, (x2 - x1) / w, (y2 - y1) / h
    )


def convert_format(boxes, source, target, height=None, width=None, dtype="float32"):
    """Boxes (..., 4) from format ``source`` to ``target`` (``"xyxy"``, ``"yxyx"``,
    ``"xywh"``, ``"center_xywh"``, ``"center_yxhw"`` and the ``"rel_"`` forms, which need
    ``height`` and ``width``); a dict's ``"boxes"`` entry is converted in place."""
    if isinstance(boxes, dict):
        boxes["boxes"] = convert_format(boxes["boxes"], source, target, height, width, dtype)
        return boxes
    ops = _ops()
    shape = ops.shape(boxes)
    if shape[-1] != 4:
        raise ValueError(
            f"`boxes` must be a tensor with the last dimension of 4. Received: boxes.shape={shape}"
        )
    source, target = source.lower(), target.lower()
    if source not in SUPPORTED_FORMATS or target not in SUPPORTED_FORMATS:
        raise ValueError(
            f"Invalid source or target format {source!r} -> {target!r}. Supported formats: "
            f"{SUPPORTED_FORMATS}"
        )
    if (source.startswith("rel_") or target.startswith("rel_")) and (
        width is None or height is None
    ):
        raise ValueError(
            "convert_format() must receive `height` and `width` transforming between relative "
            f"and absolute formats. convert_format() received source=`{source}`, "
            f"target=`{target}`, but height={height} and width={width}."
        )
    boxes = ops.cast(boxes, dtype)
    if source == target:
        return boxes
    width = None if width is None else ops.cast(width, dtype)
    height = None if height is None else ops.cast(height, dtype)
    if source.startswith("rel_") and target.startswith("rel_"):  # no image size needed
        source, target = source[4:], target[4:]
    return _from_xyxy(target, _to_xyxy(source, boxes, height, width), height, width)


def clip_to_image_size(bounding_boxes, height=None, width=None, bounding_box_format="xyxy"):
    """Clip ``bounding_boxes["boxes"]`` into the image (``xyxy``: [0, width] x [0, height];
    ``rel_xyxy``: [0, 1]); labels of boxes left with no area become -1."""
    if bounding_box_format not in ("xyxy", "rel_xyxy"):
        raise NotImplementedError(
            f"clip_to_image_size supports 'xyxy' and 'rel_xyxy' boxes; got "
            f"{bounding_box_format!r} (convert_format them first)."
        )
    if bounding_box_format == "xyxy" and (height is None or width is None):
        raise ValueError("`height` and `width` must be set if `format='xyxy'`.")
    ops = _ops()
    boxes = ops.convert_to_tensor(bounding_boxes["boxes"])
    labels = bounding_boxes.get("labels")
    if bounding_box_format == "xyxy":
        w, h = ops.cast(width, boxes.dtype), ops.cast(height, boxes.dtype)
    else:
        w = h = ops.cast(1.0, boxes.dtype)
    x1, y1, x2, y2 = _split(boxes)
    boxes = _join(ops.clip(x1, 0, w), ops.clip(y1, 0, h), ops.clip(x2, 0, w), ops.clip(y2, 0, h))
    result = dict(bounding_boxes)
    result["boxes"] = boxes
    if labels is not None:
        x1, y1, x2, y2 = _split(boxes)
        area = ops.squeeze((x2 - x1) * (y2 - y1), axis=-1)
        result["labels"] = ops.where(area > 0, labels, -1)
    return result


def crop(boxes, top, left, height, width, bounding_box_format="xyxy"):
    """``xyxy`` boxes in the frame of the crop window at (``top``, ``left``) of size
    ``height`` x ``width``, clipped to it."""
    if bounding_box_format != "xyxy":
        raise NotImplementedError(f"crop supports 'xyxy' boxes; got {bounding_box_format!r}.")
    ops = _ops()
    x1, y1, x2, y2 = _split(boxes)
    return _join(
        ops.clip(x1 - left, 0, width), ops.clip(y1 - top, 0, height),
        ops.clip(x2 - left, 0, width), ops.clip(y2 - top, 0, height),
    )  # fmt: skip


def pad(boxes, top, left, height=None, width=None, bounding_box_format="xyxy"):
    """``xyxy`` boxes shifted by the padding added above (``top``) and left (``left``)."""
    if bounding_box_format != "xyxy":
        raise NotImplementedError(f"pad supports 'xyxy' boxes; got {bounding_box_format!r}.")
    x1, y1, x2, y2 = _split(boxes)
    return _join(x1 + left, y1 + top, x2 + left, y2 + top)


def _inverse_affine(cx, cy, angle, tx, ty, scale, shear_x, shear_y, height, width):
    # the matrix that maps output pixels back to input pixels (as the image transform uses);
    # for boxes, Keras applies it to the corners as is
    ops = _ops()
    n = ops.shape(angle)[0]
    dtype = angle.dtype
    cx, cy = cx * (width - 1), cy * (height - 1)
    rot = -angle * (math.pi / 180.0)
    tx, ty = -tx * (width - 1), -ty * (height - 1)
    sx, sy = -shear_x * (math.pi / 180.0), -shear_y * (math.pi / 180.0)
    a = ops.cos(rot - sy) / ops.cos(sy)
    b = a * ops.tan(sx) + ops.sin(rot)
    c = -ops.sin(rot - sy) / ops.cos(sy)
    d = ops.cos(rot) - c * ops.tan(sx)
    a0, a1, b0, b1 = d * scale, -b * scale, -c * scale, a * scale
    a2 = cx - a0 * (cx + tx) - a1 * (cy + ty)
    b2 = cy - b0 * (cx + tx) - b1 * (cy + ty)
    zeros, ones = ops.zeros([n], dtype), ops.ones([n], dtype)
    rows = [a0, a1, a2, b0, b1, b2, zeros, zeros, ones]
    return ops.reshape(ops.stack(rows, axis=-1), [n, 3, 3])


def affine_transform(
    boxes, angle, translate_x, translate_y, scale, shear_x, shear_y, height, width,
    center_x=None, center_y=None, bounding_box_format="xyxy",
):  # fmt: skip
    """Batched ``xyxy`` boxes (batch, n, 4) under the affine transform the image layers
    apply (angles in degrees, translations in image fractions, per batch item): the
    axis-aligned hull of the four transformed corners."""
    if bounding_box_format != "xyxy":
        raise NotImplementedError(
            f"affine_transform supports 'xyxy' boxes; got {bounding_box_format!r}."
        )
    ops = _ops()
    angle = ops.convert_to_tensor(angle)
    cast = lambda v: ops.cast(v, angle.dtype)  # noqa: E731
    m = _inverse_affine(
        0.5 if center_x is None else center_x, 0.5 if center_y is None else center_y,
        angle, cast(translate_x), cast(translate_y), cast(scale), cast(shear_x), cast(shear_y),
        height, width,
    )  # fmt: skip
    shape = ops.shape(boxes)
    batch, n = shape[0], shape[1]
    boxes = ops.cast(boxes, m.dtype)
    corners = ops.stack(
        [boxes[..., 0], boxes[..., 1], boxes[..., 2], boxes[..., 1],
         boxes[..., 2], boxes[..., 3], boxes[..., 0], boxes[..., 3]], axis=-1,
    )  # fmt: skip
    corners = ops.reshape(corners, [batch, n, 4, 2])
    corners = ops.concatenate([corners, ops.ones([batch, n, 4, 1], corners.dtype)], axis=-1)
    moved = ops.einsum("bnxy,byz->bnxz", corners, ops.transpose(m[:, :2, :], [0, 2, 1]))
    return ops.concatenate([ops.min(moved, axis=2), ops.max(moved, axis=2)], axis=-1)


def _variance(variance):
    if variance is None:
        return None
    variance = _ops().convert_to_tensor(variance, "float32")
    if variance.shape[-1] != 4:
        raise ValueError(f"`variance` must be length 4, got {variance}")
    return variance


def encode_box_to_deltas(
    anchors, boxes, anchor_format, box_format, encoding_format="center_yxhw", variance=None,
    image_shape=None,
):  # fmt: skip
    """Boxes as offsets from their anchors: centre shifts over the anchor size and log size
    ratios (in ``encoding_format`` order), divided by ``variance`` if given."""
    ops = _ops()
    variance = _variance(variance)
    if encoding_format not in ("center_xywh", "center_yxhw"):
        raise ValueError(
            "`encoding_format` should be one of 'center_xywh' or 'center_yxhw', got "
            f"{encoding_format}"
        )
    h, w = (None, None) if image_shape is None else image_shape[:2]
    a = convert_format(anchors, anchor_format, encoding_format, h, w)
    b = convert_format(boxes, box_format, encoding_format, h, w)
    from rill.keras import config

    a_size = ops.maximum(a[..., 2:], config.epsilon())
    b_size = ops.maximum(b[..., 2:], config.epsilon())
    delta = ops.concatenate([(b[..., :2] - a[..., :2]) / a_size, ops.log(b_size / a_size)], axis=-1)
    return delta if variance is None else delta / variance


def decode_deltas_to_boxes(
    anchors, boxes_delta, anchor_format, box_format, encoded_format="center_yxhw",
    variance=None, image_shape=None,
):  # fmt: skip
    """The inverse of ``encode_box_to_deltas`` (dicts of pyramid levels map level by
    level)."""
    ops = _ops()
    variance = _variance(variance)
    if encoded_format not in ("center_xywh", "center_yxhw"):
        raise ValueError(
            f"`encoded_format` should be 'center_xywh' or 'center_yxhw', but got "
            f"'{encoded_format}'."
        )
    h, w = (None, None) if image_shape is None else image_shape[:2]

    def decode(anchor, delta):
        a = convert_format(anchor, anchor_format, encoded_format, h, w)
        if variance is not None:
            delta = delta * variance
        box = ops.concatenate(
            [delta[..., :2] * a[..., 2:] + a[..., :2], ops.exp(delta[..., 2:]) * a[..., 2:]],
            axis=-1,
        )
        return convert_format(box, encoded_format, box_format, h, w)

    if isinstance(anchors, dict) and isinstance(boxes_delta, dict):
        return {level: decode(anchors[level], boxes_delta[level]) for level in anchors}
    return decode(anchors, boxes_delta)
