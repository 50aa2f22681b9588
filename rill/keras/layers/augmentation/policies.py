"""Augmentation policies built from the other layers: AugMix and RandAugment."""

from __future__ import annotations

import random as _py_random

import rill as tf
from rill.keras.layers.augmentation.base import BaseImagePreprocessingLayer
from rill.keras.layers.augmentation.color import (
    AutoContrast,
    Equalization,
    RandomBrightness,
    RandomColorDegeneration,
    RandomContrast,
    RandomPosterization,
    RandomSharpness,
    Solarization,
)
from rill.keras.layers.augmentation.geometric import (
    RandomRotation,
    RandomShear,
    RandomTranslation,
)

__all__ = ["AugMix", "RandAugment"]

_GEOMETRIC = ("random_shear", "random_translation", "random_rotation")
_TONAL = ("random_posterization", "solarization", "auto_contrast", "equalization")
_EXTRA = ("random_brightness", "random_color_degeneration", "random_contrast", "random_sharpness")


def _make_ops(layer, names, factor, value_range, interpolation, seed, data_format, dtype):
    """The member layers, as attributes of ``layer`` named as in Keras."""
    common = {"seed": seed, "data_format": data_format, "dtype": dtype}
    makers = {
        "random_shear": lambda: RandomShear(x_factor=factor, y_factor=factor,
                                            interpolation=interpolation, **common),
        "random_translation": lambda: RandomTranslation(
            height_factor=factor, width_factor=factor, interpolation=interpolation, **common),
        "random_rotation": lambda: RandomRotation(factor=factor, interpolation=interpolation,
                                                  **common),
        "random_brightness": lambda: RandomBrightness(factor=factor, value_range=value_range,
                                                      **common),
        "random_color_degeneration": lambda: RandomColorDegeneration(
            factor=factor, value_range=value_range, **common),
        "random_contrast": lambda: RandomContrast(factor=factor, value_range=value_range,
                                                  **common),
        "random_sharpness": lambda: RandomSharpness(factor=factor, value_range=value_range,
                                                    **common),
        "solarization": lambda: Solarization(addition_factor=factor, threshold_factor=factor,
                                             value_range=value_range, **common),
        "random_posterization": lambda: RandomPosterization(
            factor=max(1, int(8 * factor[1])), value_range=value_range, **common),
        "auto_contrast": lambda: AutoContrast(value_range=value_range, data_format=data_format,
                                              dtype=dtype),
        "equalization": lambda: Equalization(value_range=value_range, data_format=data_format,
                                             dtype=dtype),
    }  # fmt: skip
    for name in names:
        setattr(layer, name, makers[name]())


class AugMix(BaseImagePreprocessingLayer):
    """AugMix: ``num_chains`` chains of up to ``chain_depth`` random operations, mixed with
    Dirichlet weights, then blended with the original by a Beta(alpha, alpha) weight."""

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, value_range=(0, 255), num_chains=3, chain_depth=3, factor=0.3, alpha=1.0,
                 all_ops=True, interpolation="bilinear", seed=None, data_format=None,
                 **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self.num_chains = num_chains
        self.chain_depth = chain_depth
        self._set_factor(factor)
        self.alpha = alpha
        self.all_ops = all_ops
        self.interpolation = interpolation
        self._make_generator(seed)
        # which operations a chain applies is chosen in Python (as Keras does), from a
        # generator of the layer's own so that a seed fixes the choice
        self._chooser = _py_random.Random(seed)
        self._augment_layers = list(_GEOMETRIC + _TONAL + (_EXTRA if all_ops else ()))
        _make_ops(self, self._augment_layers, self.factor, value_range, interpolation, seed,
                  data_format, self.dtype_policy.name)  # fmt: skip

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        from rill.keras import random

        gen = self.generator if seed is None else seed
        gammas = random.gamma([self.num_chains], self.alpha, seed=gen)
        weights = gammas / tf.reduce_sum(gammas, axis=-1, keepdims=True)
        weight_sample = random.beta([], self.alpha, self.alpha, seed=gen)
        chains = []
        for _ in range(self.num_chains):
            steps = []
            for _ in range(self.chain_depth):
                name = self._chooser.choice(self._augment_layers + [None])
                if name is None:
                    continue
                op = getattr(self, name)
                steps.append((name, op.get_random_transformation(data, seed=gen)))
            chains.append(steps)
        return {"chain_mixing_weights": weights, "weight_sample": weight_sample,
                "chain_transforms": chains}  # fmt: skip

    def _mix(self, x, transformation, method):
        dtype = x.dtype
        weights = tf.cast(transformation["chain_mixing_weights"], dtype)
        ws = tf.cast(transformation["weight_sample"], dtype)
        mixed = tf.zeros_like(x)
        for i, chain in enumerate(transformation["chain_transforms"]):
            y = x
            for name, t in chain:
                y = getattr(getattr(self, name), method)(y, t)
            mixed = mixed + tf.cast(y, dtype) * weights[i]
        return ws * x + (1 - ws) * mixed

    def transform_images(self, images, transformation, training=True):
        images = tf.cast(images, self.compute_dtype)
        if not training:
            return images
        out = self._mix(images, transformation, "transform_images")
        lo, hi = self.value_range
        out = tf.clip_by_value(out, tf.cast(lo, out.dtype), tf.cast(hi, out.dtype))
        return tf.cast(out, self.compute_dtype)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        if not training:
            return segmentation_masks
        masks = tf.cast(segmentation_masks, self.compute_dtype)
        return self._mix(masks, transformation, "transform_segmentation_masks")

    def get_config(self):
        return {
            **super().get_config(),
            "value_range": self.value_range,
            "num_chains": self.num_chains,
            "chain_depth": self.chain_depth,
            "factor": self.factor,
            "alpha": self.alpha,
            "all_ops": self.all_ops,
            "interpolation": self.interpolation,
            "seed": self.seed,
        }


class RandAugment(BaseImagePreprocessingLayer):
    """RandAugment: ``num_ops`` operations, each picked at random per call from eleven
    geometric and colour layers of strength ``factor``."""

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _AUGMENT_LAYERS = [
        "random_shear", "random_translation", "random_rotation", "random_brightness",
        "random_color_degeneration", "random_contrast", "random_sharpness",
        "random_posterization", "solarization", "auto_contrast", "equalization",
    ]  # fmt: skip

    def __init__(self, value_range=(0, 255), num_ops=2, factor=0.5, interpolation="bilinear",
                 seed=None, data_format=None, **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self.num_ops = num_ops
        self._set_factor(factor)
        self.interpolation = interpolation
        self._make_generator(seed)
        _make_ops(self, self._AUGMENT_LAYERS, self.factor, value_range, interpolation, seed,
                  data_format, self.dtype_policy.name)  # fmt: skip

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        from rill.keras import random

        gen = self.generator if seed is None else seed
        idx = random.randint([self.num_ops], 0, len(self._AUGMENT_LAYERS), seed=gen)
        transforms = {
            name: getattr(self, name).get_random_transformation(data, training=True, seed=gen)
            for name in self._AUGMENT_LAYERS
        }
        return {"transforms": transforms, "layer_idxes": idx}

    def _apply(self, x, transformation, method):
        idx = transformation["layer_idxes"]
        for i in range(self.num_ops):
            for j, (name, t) in enumerate(transformation["transforms"].items()):
                y = getattr(getattr(self, name), method)(x, t)
                x = tf.where(tf.equal(idx[i], j), tf.cast(y, x.dtype), x)
        return x

    def transform_images(self, images, transformation, training=True):
        images = tf.cast(images, self.compute_dtype)
        if not training:
            return images
        return tf.cast(self._apply(images, transformation, "transform_images"), self.compute_dtype)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        if not training:
            return segmentation_masks
        return self._apply(segmentation_masks, transformation, "transform_segmentation_masks")

    def get_config(self):
        return {
            **super().get_config(),
            "value_range": self.value_range,
            "num_ops": self.num_ops,
            "factor": self.factor,
            "interpolation": self.interpolation,
            "seed": self.seed,
        }
