"""MaxNumBoundingBoxes: bounding boxes padded or truncated to a fixed count."""

from __future__ import annotations

import rill as tf
from rill.keras.layers.augmentation.base import BaseImagePreprocessingLayer

__all__ = ["MaxNumBoundingBoxes"]


class MaxNumBoundingBoxes(BaseImagePreprocessingLayer):
    """Keeps the first ``max_number`` boxes (and labels) of each image, padding with
    ``fill_value`` where there are fewer; images pass through."""

    _USE_BASE_FACTOR = False

    def __init__(self, max_number, fill_value=-1, **kwargs):
        super().__init__(**kwargs)
        self.max_number = int(max_number)
        self.fill_value = int(fill_value)

    def transform_images(self, images, transformation=None, training=True):
        return images

    def transform_segmentation_masks(self, segmentation_masks, transformation=None, training=True):
        return segmentation_masks

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        boxes, labels = bounding_boxes["boxes"], bounding_boxes["labels"]
        n = self.max_number
        pad = tf.maximum(n - tf.shape(boxes)[1], 0)
        boxes = tf.pad(boxes[:, :n], tf.stack([[0, 0], tf.stack([0, pad]), [0, 0]]),
                       constant_values=tf.cast(self.fill_value, boxes.dtype))  # fmt: skip
        labels = tf.pad(labels[:, :n], tf.stack([[0, 0], tf.stack([0, pad])]),
                        constant_values=tf.cast(self.fill_value, labels.dtype))  # fmt: skip
        return {**bounding_boxes, "boxes": tf.reshape(boxes, [-1, n, 4]),
                "labels": tf.reshape(labels, [-1, n])}  # fmt: skip

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, dict) and "bounding_boxes" in input_shape:
            boxes = input_shape["bounding_boxes"]
            extra = set(boxes) - {"boxes", "labels"}
            if extra:
                raise KeyError(
                    f"There are unsupported keys in `bounding_boxes`: {list(extra)}. Only "
                    "`boxes` and `labels` are supported."
                )
            b_shape, l_shape = list(boxes["boxes"]), list(boxes["labels"])
            b_shape[1] = l_shape[1] = self.max_number
            input_shape = {**input_shape,
                           "bounding_boxes": {"boxes": b_shape, "labels": l_shape}}  # fmt: skip
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_number": self.max_number}
