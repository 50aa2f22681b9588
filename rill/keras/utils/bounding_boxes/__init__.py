"""``keras.utils.bounding_boxes``: converting, clipping and transforming bounding boxes,
and measuring their overlap."""

from rill.keras.utils.bounding_boxes.converters import (
    affine_transform,
    clip_to_image_size,
    convert_format,
    crop,
    decode_deltas_to_boxes,
    encode_box_to_deltas,
    pad,
)
from rill.keras.utils.bounding_boxes.iou import compute_ciou, compute_iou

__all__ = [
    "affine_transform", "clip_to_image_size", "compute_ciou", "compute_iou", "convert_format",
    "crop", "decode_deltas_to_boxes", "encode_box_to_deltas", "pad",
]  # fmt: skip
