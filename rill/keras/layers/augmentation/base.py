"""The base of the image augmentation layers: Keras 3's call contract for images (rank 3
or 4) or dicts of ``images`` / ``labels`` / ``segmentation_masks``, the factor and value-range
arguments, seeded sampling and the helpers the layers share.

A layer draws one *transformation* per call (``get_random_transformation``) and applies it
to each part of the input (``transform_images``, ``transform_labels``, ...). As in Keras,
``training`` defaults to True: calling a layer directly augments; ``predict`` and
``training=False`` do not.
"""

from __future__ import annotations

import math

import rill as tf
from rill.core.tensor import Tensor
from rill.core.variables import Variable
from rill.keras import config as _config
from rill.keras.layer import Layer

__all__ = ["BaseImagePreprocessingLayer"]


def _random():
    from rill.keras import random  # deferred: keras.random imports keras.ops

    return random


def batch_size(images):
    """The batch size of rank-4 ``images`` (a Python int where static), 1 for rank 3."""
    if images.shape.rank == 3:
        return 1
    b = images.shape[0]
    return b if b is not None else tf.shape(images)[0]


def sample_shape(b, *rest):
    """A shape ``(b, *rest)`` for a sampler: a list, or a stacked tensor when ``b`` is."""
    if isinstance(b, int):
        return [b, *rest]
    return tf.stack([tf.cast(b, "int32"), *[tf.constant(r, "int32") for r in rest]])


def spatial_dims(images, data_format):
    """(height, width) of ``images``, Python ints where static."""
    rank = images.shape.rank
    h_axis = rank - 3 if data_format == "channels_last" else rank - 2
    dims = images.shape.as_list()
    h, w = dims[h_axis], dims[h_axis + 1]
    if h is None or w is None:
        dyn = tf.shape(images)
        h = h if h is not None else dyn[h_axis]
        w = w if w is not None else dyn[h_axis + 1]
    return h, w


def check_value_range(value_range):
    """``value_range`` sorted, or the ValueError Keras raises."""
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError(
            "The `value_range` argument should be a list of two numbers. "
            f"Received: value_range={value_range}"
        )
    return sorted(value_range)


def factor_pair(factor, name, bounds, message=None, symmetric=True):
    """(lower, upper) of a ``factor`` argument: a pair (sorted) or a number ``f`` giving
    ``(-f, f)`` (``symmetric``) or ``(0, f)``, each inside ``bounds``."""
    lo, hi = bounds
    msg = message or (
        f"The `{name}` argument should be a number (or a list of two numbers) in the range "
        f"[{lo}, {hi}]. "
    )
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or any(not lo <= f <= hi for f in factor):
            raise ValueError(msg + f"Received: {name}={factor}")
        return tuple(sorted(factor))
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        if not lo <= factor <= hi:
            raise ValueError(msg + f"Received: {name}={factor}")
        f = abs(factor)
        return (-f, f) if symmetric else (0, factor)
    raise ValueError(msg + f"Received: {name}={factor}")


def lower_clipped_pair(value, name, bounds):
    """Keras' reading of RandomGaussianBlur's ``sigma`` and RandomErasing's ``scale``: a
    pair (sorted; its error says ``factor=``) or a number ``f``, giving
    ``(max(-f, lo), f)``."""
    lo, hi = bounds
    msg = (
        f"The `{name}` argument should be a number (or a list of two numbers) in the range "
        f"[{lo}, {hi}]. "
    )
    if isinstance(value, (tuple, list)):
        if len(value) != 2 or value[0] > hi or value[1] < lo:
            raise ValueError(msg + f"Received: factor={value}")
        return tuple(sorted(value))
    low, high = factor_pair(value, name, (lo, hi), msg)
    return (max(low, lo), high)


def images_of(data):
    """The images of a layer's input: the ``images`` entry of a dict, else the input."""
    return data["images"] if isinstance(data, dict) else data


def ranked_images(data, received="Received"):
    """``images_of(data)``, or Keras' ValueError unless they are rank 3 or 4 (the layers
    word it with or without a colon: ``received``)."""
    images = images_of(data)
    if images.shape.rank not in (3, 4):
        raise ValueError(
            f"Expected the input image to be rank 3 or 4. {received} inputs.shape={images.shape}"
        )
    return images


def check_choice(layer, arg, value, allowed):
    """Keras raises NotImplementedError for an unknown fill mode or interpolation."""
    if value not in allowed:
        raise NotImplementedError(
            f"{layer}: unknown `{arg}` {value!r}. Expected one of {tuple(allowed)}."
        )


class BaseImagePreprocessingLayer(Layer):
    """An image augmentation layer: draws a transformation per call and applies it to
    images, labels and segmentation masks (``training=False``: the identity, except for
    the layers that are deterministic)."""

    _USE_BASE_FACTOR = True
    _FACTOR_BOUNDS = (-1, 1)
    _CONFIG_KEYS: tuple = ()  # the attributes get_config adds, in Keras' order

    def __init__(self, factor=None, bounding_box_format=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.bounding_box_format = bounding_box_format
        self.data_format = _config.standardize_data_format(data_format)
        if self._USE_BASE_FACTOR:
            self._set_factor(factor or 0.0)
        elif factor is not None:
            raise ValueError(
                f"Layer {type(self).__name__} does not take a `factor` argument. "
                f"Received: factor={factor}"
            )

    def _set_factor(self, factor):
        lo, hi = self._FACTOR_BOUNDS
        msg = (
            "The `factor` argument should be a number (or a list of two numbers) in the "
            f"range [{lo}, {hi}]. Received: factor={factor}"
        )
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2 or factor[0] > hi or factor[1] < lo:
                raise ValueError(msg)
            self.factor = tuple(sorted(factor))
        elif isinstance(factor, (int, float)) and not isinstance(factor, bool):
            if factor < lo or factor > hi:
                raise ValueError(msg)
            f = abs(factor)
            self.factor = (max(-f, lo), f)
        else:
            raise ValueError(msg)

    # the seed -----------------------------------------------------------------------------
    def _make_generator(self, seed):
        self.seed = seed
        self.generator = _random().SeedGenerator(seed)

    def _uniform(self, shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
        """Uniform samples drawn with ``seed`` (default: this layer's generator)."""
        return _random().uniform(shape, minval=minval, maxval=maxval, dtype=dtype,
                                 seed=self.generator if seed is None else seed)  # fmt: skip

    def _per_image(self, images, minval=0.0, maxval=1.0, dtype=None, seed=None):
        """One uniform sample per image: shape (batch,) (1 for a single image)."""
        return tf.reshape(
            self._uniform(sample_shape(batch_size(images)), minval, maxval, dtype, seed), [-1]
        )

    # the transformation contract ----------------------------------------------------------
    def get_random_transformation(self, data, training=True, seed=None):
        """The random parameters of one call (None: nothing to sample)."""
        return None

    def _transform_images(self, images, transformation, interpolation):
        raise NotImplementedError(f"{type(self).__name__} must define _transform_images")

    def transform_images(self, images, transformation, training=True):
        """Batched ``images`` transformed (in the compute dtype)."""
        images = tf.cast(images, self.compute_dtype)
        if training:
            images = self._transform_images(images, transformation, self.interpolation)
        return images

    def transform_labels(self, labels, transformation, training=True):
        """Labels, unchanged unless the layer mixes images."""
        return labels

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        """Masks moved as the images are, sampled with nearest interpolation."""
        if training:
            return self._transform_images(segmentation_masks, transformation, "nearest")
        return segmentation_masks

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        """Bounding boxes: unchanged by the colour layers; the geometric ones override."""
        return bounding_boxes

    # call ---------------------------------------------------------------------------------
    @staticmethod
    def _is_batched(images):
        rank = images.shape.rank
        if rank not in (3, 4):
            raise ValueError(
                "Expected image tensor to have rank 3 (single image) or 4 (batch of images). "
                f"Received: data.shape={images.shape}"
            )
        return rank == 4

    def _on_batch(self, fn, x, transformation, training, batched):
        """``fn`` on a batch: a single example is given a batch axis, then loses it."""
        if batched:
            return fn(x, transformation, training=training)
        return tf.squeeze(fn(tf.expand_dims(x, 0), transformation, training=training), 0)

    def call(self, data, training=True):
        training = True if training is None else bool(training)  # Keras' default: augment
        if isinstance(data, dict):
            data = {k: _as_tensor(v) if k != "bounding_boxes" else v for k, v in data.items()}
            if "images" not in data:
                raise ValueError(
                    f"{type(self).__name__}: a dict input needs an 'images' entry. Received "
                    f"keys: {sorted(data)}"
                )
            batched = self._is_batched(data["images"])
            transformation = self.get_random_transformation(data, training=training)
            out = dict(data)
            out["images"] = self._on_batch(
                self.transform_images, data["images"], transformation, training, batched
            )
            if "bounding_boxes" in data:
                if not self.bounding_box_format:
                    raise ValueError(
                        "You passed an input with a 'bounding_boxes' key, but you didn't "
                        "specify a bounding box format. Pass a `bounding_box_format` "
                        f"argument to your {type(self).__name__} layer, e.g. "
                        "`bounding_box_format='xyxy'`."
                    )
                out["bounding_boxes"] = self._boxes(data["bounding_boxes"], transformation,
                                                    training, batched)  # fmt: skip
            if "labels" in data:
                out["labels"] = self._on_batch(
                    self.transform_labels, data["labels"], transformation, training, batched
                )
            if "segmentation_masks" in data:
                out["segmentation_masks"] = self._on_batch(
                    self.transform_segmentation_masks, data["segmentation_masks"],
                    transformation, training, batched,
                )  # fmt: skip
            return out
        data = _as_tensor(data)
        batched = self._is_batched(data)
        transformation = self.get_random_transformation(data, training=training)
        return self._on_batch(self.transform_images, data, transformation, training, batched)

    def _boxes(self, boxes, transformation, training, batched):
        boxes = {k: _as_tensor(v) for k, v in boxes.items()}
        if batched:
            return self.transform_bounding_boxes(boxes, transformation, training=training)
        one = {k: tf.expand_dims(v, 0) if k in ("boxes", "labels") else v for k, v in boxes.items()}
        out = self.transform_bounding_boxes(one, transformation, training=training)
        return {k: tf.squeeze(v, 0) if k in ("boxes", "labels") else v for k, v in out.items()}

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = {**super().get_config(), "data_format": self.data_format}
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        config.update((k, getattr(self, k)) for k in self._CONFIG_KEYS)
        return config

    # shared helpers -----------------------------------------------------------------------
    def _transform_value_range(self, images, original_range, target_range, dtype="float32"):
        """``images`` mapped linearly from ``original_range`` onto ``target_range``."""
        if original_range[0] == target_range[0] and original_range[1] == target_range[1]:
            return images
        images = tf.cast(images, dtype)
        o_lo, o_hi = (tf.cast(v, dtype) for v in original_range)
        t_lo, t_hi = (tf.cast(v, dtype) for v in target_range)
        return (images - o_lo) / (o_hi - o_lo) * (t_hi - t_lo) + t_lo

    def _compute_affine_matrix(self, center_x, center_y, angle, translate_x, translate_y, scale,
                               shear_x, shear_y, height, width):  # fmt: skip
        """(batch, 8) projective transforms (output -> input pixel) for a rotation by
        ``angle`` degrees about the relative centre, a shear (degrees), a scale and a
        translation in pixels: Keras' parametrisation ``scale @ shear @ rotation``."""
        rad = math.pi / 180.0
        angle = angle * rad
        shx, shy = tf.tan(shear_x * rad), tf.tan(shear_y * rad)
        dtype = angle.dtype
        cx = center_x * (tf.cast(width, dtype) - 1)
        cy = center_y * (tf.cast(height, dtype) - 1)
        cos, sin = tf.cos(angle), tf.sin(angle)
        a0 = scale * (cos + shx * sin)
        a1 = scale * (-sin + shx * cos)
        a2 = translate_x + cx - cx * a0 - cy * a1
        b0 = scale * (shy * cos + sin)
        b1 = scale * (cos - shy * sin)
        b2 = translate_y + cy - cx * b0 - cy * b1
        zero = tf.zeros_like(a0)
        return tf.stack([a0, a1, a2, b0, b1, b2, zero, zero], axis=1)


def _as_tensor(x):
    if isinstance(x, (Tensor, Variable)):
        return x
    return tf.convert_to_tensor(x)
