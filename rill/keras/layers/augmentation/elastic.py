"""RandomElasticTransform: images displaced by a smooth random field."""

from __future__ import annotations

import rill as tf
from rill.keras.layers.augmentation.base import (
    BaseImagePreprocessingLayer,
    batch_size,
    check_choice,
    sample_shape,
)

__all__ = ["RandomElasticTransform"]

_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _gaussian_1d(support, sigma, dtype):
    """A normalised Gaussian of ``sigma`` over ``support`` taps, zero beyond
    ``3 floor(sigma)`` from the centre: Keras' kernel of ``6 floor(sigma) + 1`` taps,
    embedded in a static support so that ``sigma`` may be a tensor."""
    x = tf.cast(tf.range(support), dtype) - (support - 1) / 2
    radius = 3.0 * tf.floor(sigma)
    k = tf.exp(-0.5 * tf.square(x / tf.maximum(sigma, 1e-6)))  # sigma 0: one tap
    k = tf.where(tf.abs(x) <= radius, k, tf.zeros_like(k))
    return k / tf.reduce_sum(k)


class RandomElasticTransform(BaseImagePreprocessingLayer):
    """With a probability drawn from ``factor``, displaces each pixel by a Gaussian-blurred
    noise field (strength and smoothness proportional to the image size times a factor
    drawn from ``scale``); clips to ``value_range``."""

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_mode="reflect",
                 fill_value=0.0, value_range=(0, 255), seed=None, data_format=None,
                 **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        lo, hi = self._FACTOR_BOUNDS
        msg = (
            f"The `scale` argument should be a number (or a list of two numbers) in the range "
            f"[{lo}, {hi}]. Received: factor={scale}"
        )
        if isinstance(scale, (tuple, list)):
            if len(scale) != 2 or scale[0] > hi or scale[1] < lo:
                raise ValueError(msg)
            self.scale = tuple(sorted(scale))
        elif isinstance(scale, (int, float)):
            if not lo <= scale <= hi:
                raise ValueError(msg)
            self.scale = (max(-abs(scale), lo), abs(scale))
        else:
            raise ValueError(msg)
        check_choice(type(self).__name__, "interpolation", interpolation, ("nearest", "bilinear"))
        check_choice(type(self).__name__, "fill_mode", fill_mode, _FILL_MODES)
        self.interpolation = interpolation
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.value_range = value_range
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training or self.scale[1] == 0 or self.factor[1] == 0:
            return None
        from rill.keras.random import draw_seed

        images = data["images"] if isinstance(data, dict) else data
        gen = self.generator if seed is None else seed
        p = self._per_image(images, self.factor[0], self.factor[1], seed=gen)
        apply = self._per_image(images, seed=gen) < p
        distortion = self._uniform([], self.scale[0], self.scale[1], self.compute_dtype, gen)
        return {"apply_transform": apply, "distortion_factor": distortion,
                "seed": draw_seed(gen)}  # fmt: skip

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        from rill.keras.ops import image as image_ops

        first = self.data_format == "channels_first"
        x = tf.transpose(images, [0, 2, 3, 1]) if first else images
        _, h, w, c = x.shape.as_list()
        if h is None or w is None or c is None:
            raise ValueError(
                "RandomElasticTransform needs static image height, width and channels. "
                f"Received: images.shape={images.shape}"
            )
        b = batch_size(x)
        dtype = x.dtype
        f = tf.cast(transformation["distortion_factor"], dtype)
        alpha = max(h, w) * 0.1 * f
        sigma = min(h, w) * 0.05 * f
        support = 6 * int(min(h, w) * 0.05 * self.scale[1]) + 1  # the widest kernel
        k1 = _gaussian_1d(support, sigma, dtype)
        kernel = tf.reshape(tf.expand_dims(k1, 1) * tf.expand_dims(k1, 0), [support, support, 1, 1])
        # Keras draws both displacements with one seed: they are the same field
        noise = tf.random.stateless_normal(sample_shape(b, h, w, 1), transformation["seed"],
                                           dtype=dtype)  # fmt: skip
        noise = tf.reshape(noise, [-1, h, w, 1]) * sigma
        field = tf.nn.depthwise_conv2d(noise, kernel, [1, 1, 1, 1], "SAME") * alpha
        gy = tf.reshape(tf.range(h, dtype=dtype), [1, h, 1, 1])
        gx = tf.reshape(tf.range(w, dtype=dtype), [1, 1, w, 1])
        py, px = gy + field, gx + field
        full = tf.ones_like(x[..., :1]) * tf.zeros([1, 1, 1, c], dtype)  # (b, h, w, c) zeros
        bi = full + tf.reshape(tf.cast(tf.range(tf.shape(x)[0]), dtype), [-1, 1, 1, 1])
        ci = full + tf.reshape(tf.range(c, dtype=dtype), [1, 1, 1, c])
        coords = tf.stack([bi, full + py, full + px, ci])
        order = ("nearest", "bilinear").index(interpolation)
        out = image_ops.map_coordinates(x, coords, order, fill_mode=self.fill_mode,
                                        fill_value=self.fill_value)  # fmt: skip
        out = tf.where(tf.reshape(transformation["apply_transform"], [-1, 1, 1, 1]), out, x)
        lo, hi = self.value_range
        out = tf.clip_by_value(out, tf.cast(lo, dtype), tf.cast(hi, dtype))
        out = tf.transpose(out, [0, 3, 1, 2]) if first else out
        return tf.cast(out, self.compute_dtype)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training:
            return bounding_boxes
        raise ValueError(
            "RandomElasticTransform: bounding boxes are not supported by rill's implementation yet."
        )

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "scale": self.scale,
            "interpolation": self.interpolation,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "value_range": self.value_range,
            "seed": self.seed,
        }
