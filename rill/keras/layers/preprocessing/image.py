"""Rescaling, Resizing and CenterCrop: the deterministic image preprocessing layers."""

from __future__ import annotations

import rill as tf
from rill.keras import config as _config
from rill.keras.layers.preprocessing._common import PreprocessingLayer

__all__ = ["CenterCrop", "Rescaling", "Resizing"]

_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5")


def _data_format(data_format):
    fmt = data_format or _config.image_data_format()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(
            "`data_format` must be 'channels_last' or 'channels_first'. "
            f"Received: data_format={data_format!r}"
        )
    return fmt


def _ops():
    from rill.keras import ops  # deferred: keras.ops is large and only needed on call

    return ops


class Rescaling(PreprocessingLayer):
    """``inputs * scale + offset`` in the layer's dtype (``scale`` / ``offset`` may be
    per-channel sequences)."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.supports_masking = True

    def call(self, inputs):
        scale = tf.cast(self.scale, self.dtype)
        offset = tf.cast(self.offset, self.dtype)
        if scale.shape.rank and _config.image_data_format() == "channels_first":
            scale = tf.reshape(scale, scale.shape.as_list() + [1] * (3 - scale.shape.rank))
        return tf.cast(inputs, self.dtype) * scale + offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        from rill.keras.saving.serialization_lib import serialize_keras_object

        return {
            **super().get_config(),
            "scale": serialize_keras_object(self.scale),
            "offset": serialize_keras_object(self.offset),
        }


class Resizing(PreprocessingLayer):
    """Resize images (rank 3 or 4) to ``(height, width)`` with ``interpolation``,
    optionally cropping or padding first to keep the aspect ratio."""

    def __init__(
        self,
        height,
        width,
        interpolation="bilinear",
        crop_to_aspect_ratio=False,
        pad_to_aspect_ratio=False,
        fill_mode="constant",
        fill_value=0.0,
        antialias=False,
        data_format=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(
                f"Resizing: invalid value for argument `interpolation`. Expected one of "
                f"{_INTERPOLATIONS}. Received: interpolation={interpolation!r}"
            )
        self.height = height
        self.width = width
        self.interpolation = interpolation
        self.data_format = _data_format(data_format)
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = bool(antialias)

    def call(self, inputs):
        ops = _ops()
        resized = ops.image.resize(
            inputs,
            size=(self.height, self.width),
            interpolation=self.interpolation,
            antialias=self.antialias,
            crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            pad_to_aspect_ratio=self.pad_to_aspect_ratio,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            data_format=self.data_format,
        )
        if resized.dtype == inputs.dtype:
            return resized
        if inputs.dtype.is_integer:  # integer images come back rounded and clipped
            resized = tf.round(resized)
        return ops.saturate_cast(resized, inputs.dtype)

    def compute_output_shape(self, input_shape):
        shape = list(tf.TensorShape(input_shape).as_list())
        h, w = (-3, -2) if self.data_format == "channels_last" else (-2, -1)
        shape[h], shape[w] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "data_format": self.data_format,
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "antialias": self.antialias,
        }


class CenterCrop(PreprocessingLayer):
    """The central ``(height, width)`` window of images (rank 3 or 4); an image smaller
    than that is cropped to the target aspect ratio and resized up (bilinear)."""

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = height
        self.width = width
        self.data_format = _data_format(data_format)

    def call(self, inputs):
        x = tf.cast(inputs, self.dtype)
        rank = x.shape.rank
        if rank not in (3, 4):
            raise ValueError(
                f"CenterCrop {self.name!r}: expected images of rank 3 (unbatched) or 4 "
                f"(batched); received shape {x.shape}."
            )
        first = self.data_format == "channels_first"
        h_axis = rank - (2 if first else 3)
        in_h, in_w = x.shape[h_axis], x.shape[h_axis + 1]
        if in_h is None or in_w is None:
            dyn = tf.shape(x)
            in_h = in_h if in_h is not None else dyn[h_axis]
            in_w = in_w if in_w is not None else dyn[h_axis + 1]
        if (
            isinstance(in_h, int)
            and isinstance(in_w, int)
            and (in_h < self.height or in_w < self.width)
        ):
            return _ops().image.resize(
                x,
                size=(self.height, self.width),
                crop_to_aspect_ratio=True,
                data_format=self.data_format,
            )
        top, left = (in_h - self.height) // 2, (in_w - self.width) // 2
        index = [slice(None)] * rank
        index[h_axis] = slice(top, top + self.height)
        index[h_axis + 1] = slice(left, left + self.width)
        return x[tuple(index)]

    def compute_output_shape(self, input_shape):
        shape = list(tf.TensorShape(input_shape).as_list())
        if len(shape) not in (3, 4):
            raise ValueError(
                "`input_shape` must be a non-nested tuple or list of rank-1 with size 3 "
                "(unbatched) or 4 (batched)."
            )
        h = len(shape) - (2 if self.data_format == "channels_first" else 3)
        shape[h], shape[h + 1] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "data_format": self.data_format,
            "height": self.height,
            "width": self.width,
        }
