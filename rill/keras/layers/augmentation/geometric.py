"""The geometric augmentation layers: flips, crops, and the affine / projective warps
(rotation, zoom, translation, shear, perspective) sampled by ``keras.ops.image``'s
projective transform, plus the legacy RandomHeight / RandomWidth resizes."""

from __future__ import annotations

import rill as tf
from rill.keras.layers.augmentation.base import (
    BaseImagePreprocessingLayer,
    batch_size,
    check_choice,
    factor_pair,
    images_of,
    sample_shape,
    spatial_dims,
)
from rill.keras.layers.augmentation.sampling import projective_warp

__all__ = [
    "RandomCrop", "RandomFlip", "RandomHeight", "RandomPerspective", "RandomRotation",
    "RandomShear", "RandomTranslation", "RandomWidth", "RandomZoom",
]  # fmt: skip

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("nearest", "bilinear")


def _image_ops():
    from rill.keras.ops import image  # deferred: keras.ops is large

    return image


class _AffineLayer(BaseImagePreprocessingLayer):
    """A layer warping images by (batch, 8) projective transforms."""

    _USE_BASE_FACTOR = False

    def _check_sampling(self, fill_mode, interpolation):
        check_choice(type(self).__name__, "fill_mode", fill_mode, _FILL_MODES)
        check_choice(type(self).__name__, "interpolation", interpolation, _INTERPOLATIONS)
        self.fill_mode = fill_mode
        self.interpolation = interpolation

    def _init_sampling(self, fill_mode, interpolation, fill_value, seed):
        """Check and set the sampling arguments the warping layers share, and the seed."""
        self._check_sampling(fill_mode, interpolation)
        self.fill_value = fill_value
        self._make_generator(seed)

    def _warp(self, images, transforms, interpolation):
        return projective_warp(images, transforms, interpolation, self.fill_mode,
                               self.fill_value, self.data_format)  # fmt: skip

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training:
            return bounding_boxes
        raise ValueError(
            f"{type(self).__name__}: bounding boxes are not supported by rill's "
            "implementation of this layer yet; pass images, labels and segmentation masks."
        )


class RandomFlip(BaseImagePreprocessingLayer):
    """Flips each image horizontally and/or vertically with probability 1/2."""

    _USE_BASE_FACTOR = False

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
            raise ValueError(
                f"RandomFlip layer {self.name} received an unknown mode argument {mode}"
            )
        self._make_generator(seed)
        self.mode = mode

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = images_of(data)
        flips = self._per_image(images, seed=seed) <= 0.5
        hw = spatial_dims(images, self.data_format)  # for the boxes' relative coordinates
        return {"flips": tf.reshape(flips, [-1, 1, 1, 1]), "image_hw": hw}

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        flips = transformation["flips"]
        h_axis, w_axis = (1, 2) if self.data_format == "channels_last" else (2, 3)
        out = images
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            out = tf.where(flips, tf.reverse(out, [w_axis]), out)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            out = tf.where(flips, tf.reverse(out, [h_axis]), out)
        return out

    interpolation = "nearest"  # flips move whole pixels

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return self.transform_images(segmentation_masks, transformation, training=training)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training or transformation is None:
            return bounding_boxes
        from rill.keras.utils.bounding_boxes import converters

        fmt = self.bounding_box_format
        h, w = transformation["image_hw"]
        boxes = converters.convert_format(bounding_boxes, source=fmt, target="rel_xyxy",
                                          height=h, width=w)  # fmt: skip
        b = boxes["boxes"]
        flips = tf.reshape(transformation["flips"], [-1, 1, 1])
        x1, y1, x2, y2 = (b[..., i : i + 1] for i in range(4))
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            b = tf.where(flips, tf.concat([1 - x2, y1, 1 - x1, y2], -1), b)
            x1, y1, x2, y2 = (b[..., i : i + 1] for i in range(4))
        if self.mode in ("vertical", "horizontal_and_vertical"):
            b = tf.where(flips, tf.concat([x1, 1 - y2, x2, 1 - y1], -1), b)
        boxes = {**boxes, "boxes": b}
        return converters.convert_format(boxes, source="rel_xyxy", target=fmt, height=h, width=w)

    _CONFIG_KEYS = ("seed", "mode")


class RandomRotation(_AffineLayer):
    """Rotates each image by a random angle of ``factor`` turns (a fraction of 2 pi)
    about its centre."""

    _USE_BASE_FACTOR = True

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):  # fmt: skip
        super().__init__(factor=factor, data_format=data_format, **kwargs)
        self._init_sampling(fill_mode, interpolation, fill_value, seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = images_of(data)
        h, w = spatial_dims(images, self.data_format)
        angle = self._per_image(images, self.factor[0] * 360.0, self.factor[1] * 360.0,
                                seed=seed)  # fmt: skip
        zero, one = tf.zeros_like(angle), tf.ones_like(angle)
        matrix = self._compute_affine_matrix(0.5, 0.5, angle, zero, zero, one, zero, zero, h, w)
        return {"angle": angle, "rotation_matrix": matrix}

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        return self._warp(images, transformation["rotation_matrix"], interpolation)

    _CONFIG_KEYS = ("factor", "fill_mode", "fill_value", "interpolation", "seed")


class RandomTranslation(_AffineLayer):
    """Shifts each image by random fractions of its height and width."""

    _MSG = (
        "The `factor` argument should be a number (or a list of two numbers) in the range "
        "[-1.0, 1.0]. "
    )

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear",
                 seed=None, fill_value=0.0, data_format=None, **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = factor_pair(
            height_factor, "height_factor", (-1.0, 1.0), self._MSG
        )
        self.width_factor = width_factor
        self.width_lower, self.width_upper = factor_pair(
            width_factor, "width_factor", (-1.0, 1.0), self._MSG
        )
        self._init_sampling(fill_mode, interpolation, fill_value, seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = images_of(data)
        h, w = spatial_dims(images, self.data_format)
        dy = self._per_image(images, self.height_lower, self.height_upper, seed=seed)
        dx = self._per_image(images, self.width_lower, self.width_upper, seed=seed)
        dy, dx = dy * tf.cast(h, dy.dtype), dx * tf.cast(w, dx.dtype)
        return {"translations": tf.stack([dx, dy], axis=1)}

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        return self._warp(images, self._matrix(transformation["translations"]), interpolation)

    @staticmethod
    def _matrix(translations):
        one, zero = tf.ones_like(translations[:, 0]), tf.zeros_like(translations[:, 0])
        return tf.stack([one, zero, -translations[:, 0], zero, one, -translations[:, 1],
                         zero, zero], axis=1)  # fmt: skip

    _CONFIG_KEYS = (
        "height_factor",
        "width_factor",
        "fill_mode",
        "interpolation",
        "seed",
        "fill_value",
    )


class RandomZoom(_AffineLayer):
    """Zooms each image about its centre: a factor ``f`` makes the image ``1 + f`` times
    smaller (positive: zoom out) along each axis."""

    _MSG = (
        "The `height_factor` and `width_factor` arguments should be a number (or a list of "
        "two numbers) in the range (-1.0, 1.0]. "
    )

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = self._pair(height_factor, "height_factor")
        self.width_factor = width_factor
        if width_factor is not None:
            self.width_lower, self.width_upper = self._pair(width_factor, "width_factor")
        self._init_sampling(fill_mode, interpolation, fill_value, seed)

    def _pair(self, factor, name):
        values = factor if isinstance(factor, (tuple, list)) else [factor]
        if any(isinstance(v, (int, float)) and v <= -1.0 for v in values):
            raise ValueError(self._MSG + f"Received: input_number={min(values)}")
        return factor_pair(factor, name, (-1.0, 1.0), self._MSG)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = images_of(data)
        hz = self._per_image(images, 1.0 + self.height_lower, 1.0 + self.height_upper,
                             seed=seed)  # fmt: skip
        if self.width_factor is not None:
            wz = self._per_image(images, 1.0 + self.width_lower, 1.0 + self.width_upper,
                                 seed=seed)  # fmt: skip
        else:
            wz = hz
        return {"height_zoom": hz, "width_zoom": wz}

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        h, w = spatial_dims(images, self.data_format)
        wz, hz = transformation["width_zoom"], transformation["height_zoom"]
        x_off = (tf.cast(w, "float32") - 1.0) / 2.0 * (1.0 - wz)
        y_off = (tf.cast(h, "float32") - 1.0) / 2.0 * (1.0 - hz)
        zero = tf.zeros_like(wz)
        matrix = tf.stack([wz, zero, x_off, zero, hz, y_off, zero, zero], axis=1)
        return self._warp(images, matrix, interpolation)

    _CONFIG_KEYS = (
        "height_factor",
        "width_factor",
        "fill_mode",
        "interpolation",
        "seed",
        "fill_value",
    )


class RandomShear(_AffineLayer):
    """Shears each image along x and y by random amounts of random sign."""

    _MSG = (
        "The `factor` argument should be a number (or a list of two numbers) in the range "
        "[0, 1.0]. "
    )

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear", fill_mode="reflect",
                 fill_value=0.0, data_format=None, seed=None, **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.x_factor = factor_pair(x_factor, "x_factor", (0.0, 1.0), self._MSG)
        self.y_factor = factor_pair(y_factor, "y_factor", (0.0, 1.0), self._MSG)
        self._init_sampling(fill_mode, interpolation, fill_value, seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = images_of(data)
        dtype = self.compute_dtype
        sign = tf.where(self._per_image(images, 0.0, 1.0, dtype, seed) > 0.5, -1.0, 1.0)
        shear_y = self._per_image(images, self.y_factor[0], self.y_factor[1], dtype, seed)
        shear_x = self._per_image(images, self.x_factor[0], self.x_factor[1], dtype, seed)
        sign = tf.cast(sign, dtype)
        return {"shear_factor": tf.stack([shear_x * sign, shear_y * sign], axis=1)}

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        s = tf.cast(transformation["shear_factor"], "float32")
        one, zero = tf.ones_like(s[:, 0]), tf.zeros_like(s[:, 0])
        matrix = tf.stack([one, s[:, 0], zero, s[:, 1], one, zero, zero, zero], axis=1)
        return self._warp(images, matrix, interpolation)

    _CONFIG_KEYS = ("x_factor", "y_factor", "fill_mode", "interpolation", "seed", "fill_value")


class RandomPerspective(_AffineLayer):
    """With probability drawn from ``factor``, moves each image's four corners by random
    fractions (up to ``scale / 2``) of their coordinates and warps the image to match."""

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0.0,
                 seed=None, data_format=None, **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        if scale < 0.0 or scale > 1.0:
            raise ValueError(
                f"The `scale` argument should be a number in the range [0,1]. Received: "
                f"scale={scale}"
            )
        self.scale = scale
        self.fill_value = fill_value
        check_choice(type(self).__name__, "interpolation", interpolation, _INTERPOLATIONS)
        self.interpolation = interpolation
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = images_of(data)
        b = batch_size(images)
        h, w = spatial_dims(images, self.data_format)
        prob = self._per_image(images, self.factor[0], self.factor[1], seed=seed)
        apply = self._per_image(images, 0.0, 1.0, seed=seed) < prob
        dtype = self.compute_dtype
        move = tf.reshape(
            self._uniform(
                sample_shape(b, 4, 2), -0.5 * self.scale, 0.5 * self.scale, dtype, seed
            ),  # fmt: skip
            [-1, 4, 2],
        )
        wm, hm = tf.cast(w, dtype) - 1, tf.cast(h, dtype) - 1
        zero = tf.zeros_like(wm)
        corners = tf.reshape(tf.stack([zero, zero, wm, zero, zero, hm, wm, hm]), [1, 4, 2])
        start = corners * tf.ones_like(move)
        return {
            "apply_perspective": apply,
            "start_points": start,
            "end_points": start + start * move,
        }

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        from rill.keras.ops.image import _homography

        start = tf.cast(transformation["start_points"], "float32")
        end = tf.cast(transformation["end_points"], "float32")
        out = projective_warp(images, _homography(start, end), interpolation, "constant",
                              self.fill_value, self.data_format)  # fmt: skip
        apply = tf.reshape(transformation["apply_perspective"], [-1, 1, 1, 1])
        return tf.where(apply, out, images)

    _CONFIG_KEYS = ("factor", "scale", "interpolation", "fill_value", "seed")


class RandomCrop(BaseImagePreprocessingLayer):
    """Crops a random ``(height, width)`` window (the same for the whole batch); an image
    smaller than that is centre-cropped to the aspect ratio and resized."""

    _USE_BASE_FACTOR = False

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        super().__init__(name=name, data_format=data_format, **kwargs)
        self.height = height
        self.width = width
        if seed is None:
            import random as _py_random  # Keras draws a default seed here

            seed = _py_random.randint(1, int(1e9))
        self._make_generator(seed)
        first = self.data_format == "channels_first"
        self.height_axis, self.width_axis = (-2, -1) if first else (-3, -2)

    def get_random_transformation(self, data, training=True, seed=None):
        images = images_of(data)
        dims = images.shape.as_list()
        in_h, in_w = dims[self.height_axis], dims[self.width_axis]
        if in_h is None or in_w is None:
            raise ValueError(
                "RandomCrop requires the input to have a fully defined height and width. "
                f"Received: images.shape={images.shape}"
            )
        if training and in_h > self.height and in_w > self.width:
            gen = self.generator if seed is None else seed
            top = tf.cast(self._uniform([], 0.0, float(in_h - self.height + 1), seed=gen), "int32")
            left = tf.cast(self._uniform([], 0.0, float(in_w - self.width + 1), seed=gen), "int32")
            return top, left
        crop_h = max(min(in_h, int(float(in_w * self.height) / self.width)), 1)
        crop_w = max(min(in_w, int(float(in_h * self.width) / self.height)), 1)
        return int(float(in_h - crop_h) / 2), int(float(in_w - crop_w) / 2)

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        images = tf.cast(images, self.compute_dtype)
        top, left = transformation
        if self.data_format == "channels_last":
            out = images[:, top : top + self.height, left : left + self.width, :]
        else:
            out = images[:, :, top : top + self.height, left : left + self.width]
        dims = out.shape.as_list()
        if dims[self.height_axis] != self.height or dims[self.width_axis] != self.width:
            out = _image_ops().resize(out, size=(self.height, self.width),
                                      data_format=self.data_format)  # fmt: skip
            out = tf.cast(out, self.compute_dtype)
        return out

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return self.transform_images(segmentation_masks, transformation, training=training)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training:
            return bounding_boxes
        raise ValueError(
            "RandomCrop: bounding boxes are not supported by rill's implementation yet."
        )

    def compute_output_shape(self, input_shape, *args, **kwargs):
        shape = list(input_shape)
        shape[self.height_axis] = self.height
        shape[self.width_axis] = self.width
        return tuple(shape)

    _CONFIG_KEYS = ("height", "width", "seed")


class _RandomResize(BaseImagePreprocessingLayer):
    """Legacy ``RandomHeight`` / ``RandomWidth``: resize one axis by ``1 + f``, ``f``
    drawn once per call from the factor range (channels-last images)."""

    _USE_BASE_FACTOR = False
    _AXIS = -3
    _WHAT = "height"

    def __init__(self, factor, interpolation="bilinear", seed=None, **kwargs):
        super().__init__(**kwargs)
        self._make_generator(seed)
        self.factor = factor
        if isinstance(factor, (tuple, list)):
            self.lower, self.upper = factor[0], factor[1]
        else:
            self.lower, self.upper = -factor, factor
        if self.upper < self.lower:
            raise ValueError(
                "`factor` argument cannot have an upper bound lesser than the lower bound. "
                f"Received: factor={factor}"
            )
        if self.lower < -1.0 or self.upper < -1.0:
            raise ValueError(
                f"`factor` argument must have values larger than -1. Received: factor={factor}"
            )
        self.interpolation = interpolation

    def call(self, inputs, training=True):
        inputs = tf.cast(tf.convert_to_tensor(inputs), self.compute_dtype)
        if training is False:
            return inputs
        scale = self._uniform([], 1.0 + self.lower, 1.0 + self.upper)
        shape = tf.shape(inputs)
        rank = inputs.shape.rank
        axis = rank + self._AXIS
        size = [shape[rank - 3], shape[rank - 2]]
        i = axis - (rank - 3)
        size[i] = tf.cast(scale * tf.cast(shape[axis], "float32"), "int32")
        out = tf.image.resize(inputs, tf.stack(size), method=self.interpolation)
        return tf.cast(out, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        shape[self._AXIS] = None
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.pop("data_format", None)
        return {**config, "factor": self.factor, "interpolation": self.interpolation,
                "seed": self.seed}  # fmt: skip


class RandomHeight(_RandomResize):
    """Resizes the images' height by a random factor ``1 + f``, ``f`` in ``factor``."""


class RandomWidth(_RandomResize):
    """Resizes the images' width by a random factor ``1 + f``, ``f`` in ``factor``."""

    _AXIS = -2
    _WHAT = "width"
