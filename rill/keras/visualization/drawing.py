"""Drawing on batches of images as arrays: box outlines (with labels) and class masks."""

from __future__ import annotations

import numpy as np


def _np(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def _data_format(data_format):
    from rill.keras.config import image_data_format

    return data_format or image_data_format()


def _to_uint8(images):
    # float images in [0, 1] are scaled to [0, 255]; others are clipped to it
    if images.dtype.kind == "f" and images.size > 0:
        images = np.clip(images, 0, 1) * 255 if images.max() <= 1.0 else np.clip(images, 0, 255)
    return images.astype("uint8")


def _rectangle(image, x1, y1, x2, y2, color, thickness):
    """Outline [x1, x2] x [y1, y2] (inclusive) with a band ``thickness`` pixels wide,
    centred on the edges; pixels outside the image are skipped."""
    h, w = image.shape[:2]
    half = max(int(thickness), 1) // 2
    lo_t, hi_t = -half, max(int(thickness), 1) - 1 - half
    color = np.asarray(color, image.dtype)[: image.shape[2]]

    def fill(ya, yb, xa, xb):
        ya, yb = max(ya, 0), min(yb, h - 1)
        xa, xb = max(xa, 0), min(xb, w - 1)
        if ya <= yb and xa <= xb:
            image[ya : yb + 1, xa : xb + 1] = color

    fill(y1 + lo_t, y1 + hi_t, x1 + lo_t, x2 + hi_t)  # top
    fill(y2 + lo_t, y2 + hi_t, x1 + lo_t, x2 + hi_t)  # bottom
    fill(y1 + lo_t, y2 + hi_t, x1 + lo_t, x1 + hi_t)  # left
    fill(y1 + lo_t, y2 + hi_t, x2 + lo_t, x2 + hi_t)  # right


def _text_location(x, y, font_scale, thickness):
    # above the box when there is room, else just inside its top-left corner (as Keras)
    font_height = int(font_scale * 12)
    if y - 8 - 2 * font_height > 0:
        return x, y - 8
    return x + 3, y + 2 * font_height + thickness + 3


def _put_text(image, text, origin, color, font_scale):
    """Write ``text`` with its baseline-left at ``origin`` (Pillow's default font)."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise ImportError(
            'draw_bounding_boxes needs Pillow to write class labels: pip install "rill[image]"'
        ) from None
    pil = Image.fromarray(image if image.shape[2] != 1 else image[..., 0])
    try:
        font = ImageFont.load_default(size=max(int(12 * font_scale), 6))
    except TypeError:  # Pillow < 10.1 has one bitmap size
        font = ImageFont.load_default()
    fill = tuple(int(c) for c in color[: image.shape[2]]) if image.shape[2] != 1 else int(color[0])
    ImageDraw.Draw(pil).text(origin, text, fill=fill, font=font, anchor="ls")
    image[...] = np.asarray(pil).reshape(image.shape)


def draw_bounding_boxes(images, bounding_boxes, bounding_box_format, class_mapping=None,
                        color=(128, 128, 128), line_thickness=2, text_thickness=1,
                        font_scale=1.0, data_format=None):  # fmt: skip
    """Outline each image's boxes (label -1: padding, skipped) in ``color``; boxes whose
    label is in ``class_mapping`` get that name (and confidence) written by them.
    Returns uint8 images, channels last."""
    from rill.keras.utils.bounding_boxes.converters import convert_format

    class_mapping = class_mapping or {}
    text_thickness = text_thickness or line_thickness
    data_format = _data_format(data_format)
    images = _np(images)
    if images.ndim != 4:
        raise ValueError(
            f"`images` must be batched 4D tensor. Received: images.shape={images.shape}"
        )
    if not isinstance(bounding_boxes, dict):
        raise TypeError(
            f"`bounding_boxes` should be a dict. Received: bounding_boxes={bounding_boxes} of "
            f"type {type(bounding_boxes)}"
        )
    if "boxes" not in bounding_boxes or "labels" not in bounding_boxes:
        raise ValueError(
            f"`bounding_boxes` should be a dict containing 'boxes' and 'labels' keys. Received: "
            f"bounding_boxes={bounding_boxes}"
        )
    if data_format == "channels_first":
        images = images.transpose(0, 2, 3, 1)
    height, width = images.shape[1], images.shape[2]
    boxes = convert_format(dict(bounding_boxes), bounding_box_format, "xyxy", height, width)
    boxes_np, labels = _np(boxes["boxes"]), _np(boxes["labels"])
    conf = _np(boxes["confidences"]) if "confidences" in boxes else None
    images = _to_uint8(images).copy()
    for i in range(images.shape[0]):
        for j in range(boxes_np[i].shape[0]):
            c = int(np.asarray(labels[i][j]).astype("int32"))
            if c == -1:
                continue
            x1, y1, x2, y2 = (int(v) for v in boxes_np[i][j].astype("int32"))
            _rectangle(images[i], x1, y1, x2, y2, color, line_thickness)
            if c in class_mapping:
                label = class_mapping[c]
                if conf is not None:
                    label = f"{label} | {conf[i][j]:.2f}"
                org = _text_location(x1, y1, font_scale, text_thickness)
                _put_text(images[i], label, org, np.asarray(color), font_scale)
    return images


def _palette(num_classes):
    base = np.array([2**25 - 1, 2**15 - 1, 2**21 - 1])
    return [((i * base) % 255).tolist() for i in range(num_classes)]


def draw_segmentation_masks(images, segmentation_masks, num_classes=None, color_mapping=None,
                            alpha=0.8, blend=True, ignore_index=-1, data_format=None):  # fmt: skip
    """Paint each pixel in its class's color (blended with ``alpha``; ``ignore_index``
    pixels keep the image). Returns uint8 images when blending, else float32 colors,
    channels last."""
    import rill as tf

    data_format = _data_format(data_format)
    images = _np(images)
    masks = _np(segmentation_masks)
    if images.ndim != 4:
        raise ValueError(
            f"`images` must be batched 4D tensor. Received: images.shape={images.shape}"
        )
    if data_format == "channels_first":
        images = images.transpose(0, 2, 3, 1)
        masks = masks.transpose(0, 2, 3, 1)
    if masks.dtype.kind not in "iu":
        raise TypeError(
            f"`segmentation_masks` must be in integer dtype. Received: "
            f"segmentation_masks.dtype={masks.dtype.name}"
        )
    images = images.astype("float32")
    if num_classes is None:
        # as Keras: the largest label (so that class itself gets no color)
        num_classes = int(masks.max())
    colors = (
        _palette(num_classes)
        if color_mapping is None
        else [color_mapping[i] for i in range(num_classes)]
    )
    valid = (masks != ignore_index)[..., 0]
    labels = masks[..., 0]
    drawn = images.copy()
    for k, color in enumerate(colors):
        drawn[labels == k] = np.asarray(color, "float32")[None, :]
    if not blend:
        return tf.constant(drawn, dtype=tf.float32)
    out = images * (1 - alpha) + drawn * alpha
    out = np.where(valid[..., None], out, images)
    return out.astype("uint8")
