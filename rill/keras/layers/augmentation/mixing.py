"""The augmentation layers that mix or cut images: MixUp and CutMix (which mix the labels
to match) and RandomErasing."""

from __future__ import annotations

import rill as tf
from rill.keras.layers.augmentation.base import (
    BaseImagePreprocessingLayer,
    batch_size,
    images_of,
    lower_clipped_pair,
    ranked_images,
    sample_shape,
)

__all__ = ["CutMix", "MixUp", "RandomErasing"]


def _random():
    from rill.keras import random  # deferred: keras.random imports keras.ops

    return random


def _float_labels(labels, dtype):
    return labels if labels.dtype.is_floating else tf.cast(labels, dtype)


def _box_mask(layer, images, x0, x1, y0, y1):
    """(batch, H, W, C) (or channels-first) booleans: inside each image's rectangle."""
    dims = images.shape.as_list()
    rank = len(dims)
    last = layer.data_format == "channels_last"
    h_axis = rank - 3 if last else rank - 2
    h, w = dims[h_axis], dims[h_axis + 1]
    dtype = layer.compute_dtype
    gy = tf.reshape(tf.range(h, dtype=dtype), [1, h, 1, 1] if last else [1, 1, h, 1])
    gx = tf.reshape(tf.range(w, dtype=dtype), [1, 1, w, 1] if last else [1, 1, 1, w])

    def col(v):
        return tf.reshape(v, [-1, 1, 1, 1])

    inside = (gx >= col(x0)) & (gx < col(x1)) & (gy >= col(y0)) & (gy < col(y1))
    channels = dims[-1] if last else dims[rank - 3]
    return tf.repeat(inside, channels, axis=3 if last else 1)


def _crop_bounds(layer, images, length, ratio, seed):
    """Start and end of a random span ``ratio * length`` long inside ``[0, length]``."""
    dtype = layer.compute_dtype
    span = tf.cast(ratio * length, dtype)
    start = layer._per_image(images, 0.0, 1.0, dtype, seed) * (length - span)
    return start, start + span


def _hw(layer, images):
    dims = images.shape.as_list()
    rank = len(dims)
    h_axis = rank - 3 if layer.data_format == "channels_last" else rank - 2
    return dims[h_axis], dims[h_axis + 1]


class MixUp(BaseImagePreprocessingLayer):
    """Mixes each image (and label) with another of the batch: ``w x + (1 - w) x'``,
    ``w`` drawn from Beta(alpha, alpha)."""

    _USE_BASE_FACTOR = False

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.alpha = alpha
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        images = images_of(data)
        b = batch_size(images)
        gen = self.generator if seed is None else seed
        order = _random().shuffle(tf.range(b, dtype="int64"), seed=gen)
        weight = tf.reshape(_random().beta(sample_shape(b), self.alpha, self.alpha, seed=gen), [-1])
        return {"mix_weight": weight, "permutation_order": order}

    def _mix(self, x, transformation, shape):
        w = tf.reshape(tf.cast(transformation["mix_weight"], x.dtype), shape)
        return w * x + (1.0 - w) * tf.gather(x, transformation["permutation_order"], axis=0)

    def transform_images(self, images, transformation=None, training=True):
        images = tf.cast(images, self.compute_dtype)
        if not training:
            return images
        return self._mix(images, transformation, [-1, 1, 1, 1])

    def transform_labels(self, labels, transformation, training=True):
        if not training:
            return labels
        return self._mix(_float_labels(labels, self.compute_dtype), transformation, [-1, 1])

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        if not training:
            return segmentation_masks
        masks = _float_labels(segmentation_masks, self.compute_dtype)
        return self._mix(masks, transformation, [-1, 1, 1, 1])

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "seed": self.seed}


class CutMix(BaseImagePreprocessingLayer):
    """Pastes a random rectangle of another image of the batch into each image; labels
    are mixed by the pasted area (single images pass through)."""

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = images_of(data)
        if images.shape.rank == 3:
            return None
        b = batch_size(images)
        h, w = _hw(self, images)
        gen = self.generator if seed is None else seed
        dtype = self.compute_dtype
        alpha = self._uniform([], self.factor[0], self.factor[1], dtype, gen) + 1e-6
        mix = tf.reshape(_random().beta(sample_shape(b), alpha, alpha, dtype=dtype, seed=gen), [-1])
        ratio = tf.sqrt(1.0 - mix)
        x0, x1 = _crop_bounds(self, images, w, ratio, gen)
        y0, y1 = _crop_bounds(self, images, h, ratio, gen)
        masks = _box_mask(self, images, x0, x1, y0, y1)
        weight = 1.0 - (x1 - x0) * (y1 - y0) / (w * h)
        order = _random().shuffle(tf.range(b, dtype="int32"), seed=gen)
        return {"permutation_order": order, "batch_masks": masks, "mix_weight": weight}

    def transform_images(self, images, transformation=None, training=True):
        images = tf.cast(images, self.compute_dtype)
        if not training or transformation is None:
            return images
        other = tf.gather(images, transformation["permutation_order"], axis=0)
        return tf.where(transformation["batch_masks"], other, images)

    def transform_labels(self, labels, transformation, training=True):
        if not training or transformation is None:
            return labels
        labels = _float_labels(labels, self.compute_dtype)
        w = tf.reshape(tf.cast(transformation["mix_weight"], labels.dtype), [-1, 1])
        other = tf.gather(labels, transformation["permutation_order"], axis=0)
        return w * labels + (1.0 - w) * other

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        if not training or transformation is None:
            return segmentation_masks
        other = tf.gather(segmentation_masks, transformation["permutation_order"], axis=0)
        return tf.where(transformation["batch_masks"], other, segmentation_masks)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "seed": self.seed}


class RandomErasing(BaseImagePreprocessingLayer):
    """With a probability drawn from ``factor``, fills a random rectangle of each image
    (its sides ``sqrt(s)`` of the image's, ``s`` drawn from ``scale``) with
    ``fill_value`` (None: Gaussian noise scaled by the top of ``value_range``)."""

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255),
                 seed=None, data_format=None, **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.scale = lower_clipped_pair(scale, "scale", self._FACTOR_BOUNDS)
        self.fill_value = fill_value
        self.value_range = value_range
        self._make_generator(seed)

    def _fill(self, images, seed):
        dtype = self.compute_dtype
        fill = self.fill_value
        if fill is None:
            noise = _random().normal(tf.shape(images), dtype=dtype, seed=seed)
            fill = noise * self.value_range[1]
        else:
            msg = "The `fill_value` argument should be a number (or a list of three numbers) "
            if isinstance(fill, (tuple, list)):
                if len(fill) != 3:
                    raise ValueError(msg)
                fill = tf.ones_like(tf.cast(images, dtype)) * tf.constant(fill, dtype)
            elif isinstance(fill, (int, float)):
                fill = tf.ones_like(tf.cast(images, dtype)) * fill
            else:
                raise ValueError(msg)
        lo, hi = self.value_range
        return tf.clip_by_value(fill, tf.cast(lo, dtype), tf.cast(hi, dtype))

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = ranked_images(data)
        b = batch_size(images)
        h, w = _hw(self, images)
        gen = self.generator if seed is None else seed
        dtype = self.compute_dtype
        sides = tf.sqrt(tf.reshape(
            self._uniform(sample_shape(b, 2), self.scale[0], self.scale[1], dtype, gen), [-1, 2]
        ))  # fmt: skip
        x0, x1 = _crop_bounds(self, images, w, sides[:, 0], gen)
        y0, y1 = _crop_bounds(self, images, h, sides[:, 1], gen)
        masks = _box_mask(self, images, x0, x1, y0, y1)
        p = self._per_image(images, self.factor[0], self.factor[1], seed=gen)
        apply = self._per_image(images, seed=gen) < p
        return {"apply_erasing": apply, "batch_masks": masks, "fill_value": self._fill(images, gen)}

    def transform_images(self, images, transformation=None, training=True):
        images = tf.cast(images, self.compute_dtype)
        if not training or transformation is None:
            return images
        erased = tf.where(transformation["batch_masks"], transformation["fill_value"], images)
        apply = tf.reshape(transformation["apply_erasing"], [-1, 1, 1, 1])
        return tf.where(apply, erased, images)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "scale": self.scale,
            "fill_value": self.fill_value,
            "value_range": self.value_range,
            "seed": self.seed,
        }
