"""The colour augmentation layers: brightness, contrast, hue, saturation, sharpness,
grayscale, colour degeneration and jitter, inversion, posterization, solarization,
Gaussian blur, and the deterministic AutoContrast and Equalization."""

from __future__ import annotations

import rill as tf
from rill.keras.layers.augmentation.base import (
    BaseImagePreprocessingLayer,
    check_value_range,
    factor_pair,
    images_of,
    lower_clipped_pair,
    ranked_images,
)

__all__ = [
    "AutoContrast", "Equalization", "RandomBrightness", "RandomColorDegeneration",
    "RandomColorJitter", "RandomContrast", "RandomGaussianBlur", "RandomGrayscale", "RandomHue",
    "RandomInvert", "RandomPosterization", "RandomSaturation", "RandomSharpness", "Solarization",
]  # fmt: skip


def _image_ops():
    from rill.keras.ops import image  # deferred: keras.ops is large

    return image


def _clip(x, lo, hi):
    return tf.clip_by_value(x, tf.cast(lo, x.dtype), tf.cast(hi, x.dtype))


def _per_image_4d(v):
    return tf.reshape(v, [-1, 1, 1, 1])


class _ColorLayer(BaseImagePreprocessingLayer):
    """A layer that changes pixel values only: masks and boxes pass through."""

    _CONFIG_KEYS = ("factor", "value_range", "seed")

    def _init_factor_range_seed(self, factor, value_range, seed, check_range=True):
        """Set ``factor``, ``value_range`` (sorted and checked where Keras does) and the seed."""
        self._set_factor(factor)
        self.value_range = check_value_range(value_range) if check_range else value_range
        self._make_generator(seed)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def compute_output_shape(self, input_shape):
        return input_shape


class RandomBrightness(_ColorLayer):
    """Adds a random delta, ``factor`` times the value range, to each image; clips to
    ``value_range``."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(factor=factor, **kwargs)
        self._make_generator(seed)
        self.value_range = check_value_range(value_range)

    def get_random_transformation(self, data, training=True, seed=None):
        images = ranked_images(data)
        if not training:
            return None
        delta = self._per_image(images, self.factor[0], self.factor[1], seed=seed)
        return {"rgb_delta": _per_image_4d(delta) * (self.value_range[1] - self.value_range[0])}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        images = images + tf.cast(transformation["rgb_delta"], images.dtype)
        return _clip(images, self.value_range[0], self.value_range[1])


class RandomContrast(_ColorLayer):
    """Scales each image's deviation from its per-channel mean by a random factor in
    ``[1 - lower, 1 + upper]``; clips to ``value_range``."""

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(**kwargs)
        self._init_factor_range_seed(factor, value_range, seed, check_range=False)

    def get_random_transformation(self, data, training=True, seed=None):
        images = ranked_images(data)
        if not training:
            return None
        f = self._per_image(images, 1.0 - self.factor[0], 1.0 + self.factor[1],
                            self.compute_dtype, seed)  # fmt: skip
        return {"contrast_factor": _per_image_4d(f)}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        images = tf.cast(images, self.compute_dtype)
        axes = [1, 2] if self.data_format == "channels_last" else [2, 3]
        mean = tf.reduce_mean(images, axis=axes, keepdims=True)
        f = tf.cast(transformation["contrast_factor"], images.dtype)
        return _clip((images - mean) * f + mean, self.value_range[0], self.value_range[1])


class RandomGrayscale(_ColorLayer):
    """Converts each image to grayscale (luma, kept in every channel) with probability
    ``factor``."""

    _USE_BASE_FACTOR = False

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if factor < 0 or factor > 1:
            raise ValueError(f"`factor` should be between 0 and 1. Received: factor={factor}")
        self.factor = factor
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        return _per_image_4d(self._per_image(images_of(data), seed=seed) < self.factor)

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        gray = _image_ops().rgb_to_grayscale(images, data_format=self.data_format)
        return tf.where(transformation, gray, images)

    _CONFIG_KEYS = ("factor",)


class RandomHue(_ColorLayer):
    """Rotates each image's hue by a random fraction (up to ``factor / 2`` of a turn,
    either way)."""

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._init_factor_range_seed(factor, value_range, seed, check_range=False)

    def get_random_transformation(self, data, training=True, seed=None):
        images = ranked_images(data)
        sign = tf.where(self._per_image(images, seed=seed) > 0.5, -1.0, 1.0)
        f = self._per_image(images, self.factor[0], self.factor[1], seed=seed)
        return {"factor": sign * f * 0.5}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        ops = _image_ops()
        images = tf.cast(images, self.compute_dtype)
        images = self._transform_value_range(images, self.value_range, (0, 1), self.compute_dtype)
        shift = tf.reshape(tf.cast(transformation["factor"], images.dtype), [-1, 1, 1])
        hsv = ops.rgb_to_hsv(images, data_format=self.data_format)
        axis = 3 if self.data_format == "channels_last" else 1
        h, s, v = tf.unstack(hsv, axis=axis)
        h = h + shift
        h = tf.where(h > 1.0, h - 1.0, h)
        h = tf.where(h < 0.0, h + 1.0, h)
        images = ops.hsv_to_rgb(tf.stack([h, s, v], axis=axis), data_format=self.data_format)
        images = tf.clip_by_value(images, 0.0, 1.0)
        images = self._transform_value_range(images, (0, 1), self.value_range, self.compute_dtype)
        return tf.cast(images, self.compute_dtype)


class RandomSaturation(_ColorLayer):
    """Multiplies each image's saturation by ``f / (1 - f)``, ``f`` drawn from
    ``factor`` (0.5: unchanged, 0: grayscale, 1: fully saturated)."""

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._init_factor_range_seed(factor, value_range, seed)

    def get_random_transformation(self, data, training=True, seed=None):
        images = ranked_images(data, "Received:")
        f = self._per_image(images, self.factor[0], self.factor[1], seed=seed)
        from rill.keras import config

        return {"factor": f / (1 - f + config.epsilon())}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        ops = _image_ops()
        images = tf.cast(images, self.compute_dtype)
        f = tf.reshape(tf.cast(transformation["factor"], images.dtype), [-1, 1, 1])
        hsv = ops.rgb_to_hsv(images, data_format=self.data_format)
        axis = 3 if self.data_format == "channels_last" else 1
        h, s, v = tf.unstack(hsv, axis=axis)
        s = _clip(s * f, self.value_range[0], self.value_range[1])
        return ops.hsv_to_rgb(tf.stack([h, s, v], axis=axis), data_format=self.data_format)


class RandomSharpness(_ColorLayer):
    """Blends each image with a smoothed copy: a factor ``f`` gives
    ``image + (1 - 2 f) (smoothed - image)`` (0.5: unchanged, above: sharper)."""

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._init_factor_range_seed(factor, value_range, seed)

    def get_random_transformation(self, data, training=True, seed=None):
        images = ranked_images(data, "Received:")
        return {"factor": self._per_image(images, self.factor[0], self.factor[1], seed=seed)}

    def transform_images(self, images, transformation, training=True):
        images = tf.cast(images, self.compute_dtype)
        if not training:
            return images
        first = self.data_format == "channels_first"
        if first:
            images = tf.transpose(images, [0, 3, 2, 1])  # Keras swaps axes -3 and -1
        f = _per_image_4d(tf.cast(transformation["factor"] * 2, self.compute_dtype))
        a, b = 1.0 / 13.0, 5.0 / 13.0
        kernel = tf.constant([[a, a, a], [a, b, a], [a, a, a]], self.compute_dtype)
        channels = images.shape[-1] if images.shape[-1] is not None else tf.shape(images)[-1]
        kernel = tf.tile(tf.reshape(kernel, [3, 3, 1, 1]), [1, 1, channels, 1])
        smooth = tf.nn.depthwise_conv2d(images, kernel, [1, 1, 1, 1], "SAME")
        images = images + (1.0 - f) * (smooth - images)
        images = _clip(images, self.value_range[0], self.value_range[1])
        if first:
            images = tf.transpose(images, [0, 3, 2, 1])
        return images


class RandomColorDegeneration(_ColorLayer):
    """Moves each image towards its grayscale version by a random fraction."""

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._init_factor_range_seed(factor, value_range, seed)

    def get_random_transformation(self, data, training=True, seed=None):
        images = ranked_images(data, "Received:")
        f = self._per_image(images, self.factor[0], self.factor[1], seed=seed)
        return {"factor": _per_image_4d(f)}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        images = tf.cast(images, self.compute_dtype)
        f = tf.cast(transformation["factor"], self.compute_dtype)
        gray = _image_ops().rgb_to_grayscale(images, data_format=self.data_format)
        images = images + f * (gray - images)
        return _clip(images, self.value_range[0], self.value_range[1])

    def compute_output_shape(self, input_shape):
        if len(input_shape) not in (3, 4):
            raise ValueError(
                "Invalid images rank: expected rank 3 (single image) or rank 4 (batch of "
                f"images). Received: input_shape={input_shape}"
            )
        channels = input_shape[-1 if self.data_format == "channels_last" else -3]
        if channels is not None and channels != 3:
            raise ValueError(
                f"Input images must have 3 channels, but received images with {channels} channels."
            )
        return input_shape


class RandomInvert(_ColorLayer):
    """Inverts each image (``value_range[1] - x``) with a probability drawn from
    ``factor``."""

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._init_factor_range_seed(factor, value_range, seed, check_range=False)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = ranked_images(data)
        p = self._per_image(images, self.factor[0], self.factor[1], seed=seed)
        return {"apply_inversion": self._per_image(images, seed=seed) < p}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        images = tf.cast(images, self.compute_dtype)
        apply = _per_image_4d(transformation["apply_inversion"])
        return tf.where(apply, tf.cast(self.value_range[1], images.dtype) - images, images)


class RandomPosterization(_ColorLayer):
    """Keeps only the ``b`` most significant bits of each 8-bit channel value, ``b``
    drawn from ``factor`` (in [1, 8])."""

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (1, 8)
    _MAX_FACTOR = 8

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._init_factor_range_seed(factor, value_range, seed)

    def get_random_transformation(self, data, training=True, seed=None):
        from rill.keras import random
        from rill.keras.layers.augmentation.base import batch_size, sample_shape

        images = ranked_images(data, "Received:")
        b = batch_size(images)
        lo, hi = int(self.factor[0]), int(self.factor[1])
        if lo != hi:
            bits = random.randint(sample_shape(b), lo, hi, dtype="uint8",
                                  seed=self.generator if seed is None else seed)  # fmt: skip
            bits = tf.reshape(bits, [-1])
        else:
            bits = tf.fill(sample_shape(b), tf.constant(lo, "uint8"))
        return {"shift_factor": tf.constant(self._MAX_FACTOR, "uint8") - bits}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        shift = _per_image_4d(transformation["shift_factor"])
        dtype = self.compute_dtype
        x = self._transform_value_range(tf.cast(images, dtype), self.value_range, (0, 255), dtype)
        x = tf.cast(x, "uint8")
        x = tf.bitwise.left_shift(tf.bitwise.right_shift(x, shift), shift)
        return self._transform_value_range(tf.cast(x, dtype), (0, 255), self.value_range, dtype)


class Solarization(_ColorLayer):
    """Adds a random amount to each image (on the 0-255 scale, clipped), then inverts the
    values above a random threshold."""

    _USE_BASE_FACTOR = False
    _MSG = (
        "The `addition_factor` and `threshold_factor` arguments should be a number (or a "
        "list of two numbers) in the range [0, 1]. "
    )

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255),
                 seed=None, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self._make_generator(seed)
        self.addition_factor = factor_pair(addition_factor, "addition_factor", (0, 1), self._MSG,
                                           symmetric=False)  # fmt: skip
        self.threshold_factor = factor_pair(threshold_factor, "threshold_factor", (0, 1),
                                            self._MSG, symmetric=False)  # fmt: skip
        self.value_range = check_value_range(value_range)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = images_of(data)
        dtype = self.compute_dtype
        add = self._per_image(images, self.addition_factor[0], self.addition_factor[1] * 255,
                              dtype, seed)  # fmt: skip
        thr = self._per_image(images, self.threshold_factor[0], self.threshold_factor[1] * 255,
                              dtype, seed)  # fmt: skip
        return {"additions": _per_image_4d(add), "thresholds": _per_image_4d(thr)}

    def transform_images(self, images, transformation, training=True):
        dtype = self.compute_dtype
        images = tf.cast(images, dtype)
        if not training or transformation is None:
            return images
        x = self._transform_value_range(images, self.value_range, (0, 255), dtype)
        x = tf.clip_by_value(x + transformation["additions"], 0.0, 255.0)
        x = tf.where(x < transformation["thresholds"], x, 255 - x)
        return self._transform_value_range(x, (0, 255), self.value_range, dtype)

    _CONFIG_KEYS = ("value_range", "addition_factor", "threshold_factor", "seed")


class AutoContrast(_ColorLayer):
    """Stretches each image's channels to span the value range (applied in training and
    inference alike)."""

    _USE_BASE_FACTOR = False

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = check_value_range(value_range)

    def transform_images(self, images, transformation=None, training=True):
        dtype = self.compute_dtype
        original = tf.cast(images, dtype)
        x = self._transform_value_range(original, self.value_range, (0, 255), dtype)
        # Keras reduces over axes 1 and 2 of the batch whatever the data format
        low = tf.reduce_min(x, axis=[1, 2], keepdims=True)
        high = tf.reduce_max(x, axis=[1, 2], keepdims=True)
        scale = 255.0 / (high - low)
        x = tf.clip_by_value(x * scale - low * scale, 0.0, 255.0)
        x = self._transform_value_range(x, (0, 255), self.value_range, dtype)
        return tf.where(tf.math.is_nan(x), original, x)  # flat channels stay as they were

    _CONFIG_KEYS = ("value_range",)


class Equalization(_ColorLayer):
    """Histogram equalization of each channel (over the whole batch, as Keras), with
    ``bins`` bins; in training only."""

    _USE_BASE_FACTOR = False

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.bins = bins
        self.value_range = check_value_range(value_range)

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        images = tf.cast(images, self.compute_dtype)
        first = self.data_format == "channels_first"
        x = tf.transpose(images, [0, 2, 3, 1]) if first else images
        out = self._equalize(x)
        return tf.transpose(out, [0, 3, 1, 2]) if first else out

    def _equalize(self, x):
        """Channels-last ``x``: each channel through its own lookup table."""
        nbins = self.bins
        lo, hi = self.value_range
        dtype = x.dtype
        scale = 255.0 / (hi - lo)
        scaled = x * scale - lo * scale  # onto [0, 255]
        c = x.shape[-1]
        flat = tf.reshape(tf.cast(scaled, "float32"), [-1, c])
        bins = tf.clip_by_value(tf.cast(flat * (nbins - 1) / 255.0, "int32"), 0, nbins - 1)
        offsets = tf.range(c, dtype="int32") * nbins
        hist = tf.reshape(
            tf.math.bincount(tf.reshape(bins + offsets, [-1]), minlength=c * nbins),
            [c, nbins],
        )
        cdf = tf.cumsum(hist, axis=1)
        big = tf.fill(tf.shape(cdf), tf.reduce_max(cdf) + 1)
        cdf_min = tf.reduce_min(tf.where(cdf > 0, cdf, big), axis=1, keepdims=True)
        denom = cdf[:, -1:] - cdf_min
        denom = tf.where(tf.equal(denom, 0), tf.ones_like(denom), denom)
        lut = tf.cast(cdf - cdf_min, "float32") * 255.0 / tf.cast(denom, "float32")
        lut = tf.clip_by_value(tf.round(lut), 0.0, 255.0)
        idx = tf.cast(tf.clip_by_value(flat / 255.0 * (nbins - 1), 0.0, nbins - 1.0), "int32")
        equalized = tf.gather(tf.reshape(lut, [-1]), idx + offsets)
        flat_channel = tf.math.count_nonzero(hist, axis=1) <= 1  # nothing to spread
        equalized = tf.where(flat_channel, flat, equalized)
        out = equalized * ((hi - lo) / 255.0) + lo  # back onto the value range
        return tf.cast(tf.reshape(out, tf.shape(x)), dtype)

    _CONFIG_KEYS = ("bins", "value_range")


class RandomGaussianBlur(_ColorLayer):
    """Blurs each image, with a probability drawn from ``factor``, by a Gaussian kernel of
    ``kernel_size`` whose sigma (per axis) is drawn from ``sigma``."""

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255),
                 data_format=None, seed=None, **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.kernel_size = self._kernel_size(kernel_size)
        self.sigma = lower_clipped_pair(sigma, "sigma", self._FACTOR_BOUNDS)
        self.value_range = value_range
        self._make_generator(seed)

    @staticmethod
    def _kernel_size(k):
        msg = f"kernel_size must be an odd number. Received: kernel_size={k}"
        if isinstance(k, (tuple, list)):
            if len(k) != 2:
                raise ValueError(
                    "The `kernel_size` argument should be a number (or a list of two numbers) "
                    f"Received: kernel_size={k}"
                )
            if k[0] % 2 == 0 or k[1] % 2 == 0:
                raise ValueError(msg)
            return tuple(k)
        if not isinstance(k, (int, float)) or k % 2 == 0:
            raise ValueError(msg)
        return (k, k)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = ranked_images(data)
        p = self._per_image(images, self.factor[0], self.factor[1], seed=seed)
        apply = self._per_image(images, seed=seed) < p
        sigma = self._uniform([2], self.sigma[0], self.sigma[1], self.compute_dtype, seed) + 1e-6
        return {"should_apply_blur": apply, "blur_factor": sigma}

    def transform_images(self, images, transformation=None, training=True):
        images = tf.cast(images, self.compute_dtype)
        if not training or transformation is None:
            return images
        sigma = transformation["blur_factor"]
        blurred = _image_ops().gaussian_blur(images, kernel_size=self.kernel_size,
                                             sigma=(sigma[0], sigma[1]),
                                             data_format=self.data_format)  # fmt: skip
        images = tf.where(_per_image_4d(transformation["should_apply_blur"]), blurred, images)
        return _clip(images, self.value_range[0], self.value_range[1])

    _CONFIG_KEYS = ("factor", "kernel_size", "sigma", "value_range", "seed")


class RandomColorJitter(_ColorLayer):
    """RandomBrightness, RandomContrast, RandomSaturation and RandomHue in turn, each
    where its factor is given."""

    _USE_BASE_FACTOR = False

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None,
                 saturation_factor=None, hue_factor=None, seed=None, data_format=None,
                 **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        self._make_generator(seed)
        self.random_brightness = self.random_contrast = None
        self.random_saturation = self.random_hue = None
        if brightness_factor is not None:
            self.random_brightness = RandomBrightness(brightness_factor, value_range, seed=seed)
        if contrast_factor is not None:
            self.random_contrast = RandomContrast(contrast_factor, value_range, seed=seed)
        if saturation_factor is not None:
            self.random_saturation = RandomSaturation(saturation_factor, value_range, seed=seed)
        if hue_factor is not None:
            self.random_hue = RandomHue(hue_factor, value_range, seed=seed)

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        images = tf.cast(images, self.compute_dtype)
        for layer in (self.random_brightness, self.random_contrast, self.random_saturation,
                      self.random_hue):  # fmt: skip
            if layer is not None:
                t = layer.get_random_transformation(images, seed=self.generator)
                images = layer.transform_images(images, t)
        return tf.cast(images, self.compute_dtype)

    _CONFIG_KEYS = ("value_range", "brightness_factor", "contrast_factor", "saturation_factor",
                    "hue_factor", "seed")  # fmt: skip
