"""Reshaping layers: Permute, RepeatVector, Cropping1D/2D/3D, ZeroPadding1D/2D/3D and
UpSampling1D/2D/3D (nearest neighbour, and bilinear for 2-D with TF's half-pixel centres)."""

from __future__ import annotations

import numpy as np

import rill as tf
import rill.keras.layers.conv_utils as cu
from rill.keras.layers.input_spec import InputSpec, SpecLayer

__all__ = [
    "Permute", "RepeatVector", "Cropping1D", "Cropping2D", "Cropping3D", "ZeroPadding1D",
    "ZeroPadding2D", "ZeroPadding3D", "UpSampling1D", "UpSampling2D", "UpSampling3D",
]  # fmt: skip

_ORD = {0: "1st", 1: "2nd", 2: "3rd"}


class Permute(SpecLayer):
    """Permute the non-batch axes: ``dims`` is a permutation of 1..rank-1."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                f"{cu.owner(self)}: Invalid permutation argument `dims` for Permute Layer. The set of indices in "
                f"`dims` must be consecutive and start from 1. Received dims={self.dims}"
            )
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs):
        return tf.transpose(inputs, [0, *self.dims])

    def compute_output_shape(self, input_shape):
        d = cu.dims(input_shape)
        return tf.TensorShape([d[0], *(d[i] for i in self.dims)])

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(SpecLayer):
    """(batch, features) -> (batch, n, features)."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(
                f"{cu.owner(self)}: Expected an integer value for `n`, got {type(n).__name__}."
            )
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        return tf.tile(tf.expand_dims(inputs, 1), [1, self.n, 1])

    def compute_output_shape(self, input_shape):
        d = cu.dims(input_shape)
        return tf.TensorShape([d[0], self.n, d[1]])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


# ------------------------------------------------------------------------------------------
# cropping and zero padding
# ------------------------------------------------------------------------------------------


def _pairs(value, rank, name, describe, who):
    """An int, ``rank`` ints (symmetric) or ``rank`` pairs -> a tuple of ``rank`` pairs."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{who}: `{name}` must be non-negative. Received: {name}={value}")
        return ((value, value),) * rank
    if not hasattr(value, "__len__") or len(value) != rank:
        raise ValueError(f"{who}: `{name}` should be {describe}. Received: {name}={value}")
    return tuple(
        cu.normalize_tuple(v, 2, f"{_ORD[i]} entry of {name}", allow_zero=True, who=who)
        for i, v in enumerate(value)
    )


class _Cropping(SpecLayer):
    rank = 2

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = cu.normalize_data_format(data_format, cu.owner(self))
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _spatial_axes(self):
        first = 2 if self.data_format == "channels_first" else 1
        return list(range(first, first + self.rank))

    def _check(self, shape):
        d = cu.dims(shape)
        for a, (lo, hi) in zip(self._spatial_axes(), self._crops()):
            if d[a] is not None and lo + hi >= d[a]:
                raise ValueError(
                    f"{cu.owner(self)}: `cropping` parameter of `{type(self).__name__}` layer must be smaller than "
                    f"the input length. Received: inputs.shape={tuple(d)}, "
                    f"cropping={self.cropping}"
                )

    def _crops(self):
        return self.cropping

    def call(self, inputs):
        self._check(inputs.shape)
        idx = [slice(None)] * inputs.shape.rank
        for a, (lo, hi) in zip(self._spatial_axes(), self._crops()):
            idx[a] = slice(lo, -hi if hi else None)
        return inputs[tuple(idx)]

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        d = cu.dims(input_shape)
        for a, (lo, hi) in zip(self._spatial_axes(), self._crops()):
            if d[a] is not None:
                d[a] = d[a] - lo - hi
        return tf.TensorShape(d)

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping,
                "data_format": self.data_format}  # fmt: skip


class Cropping1D(_Cropping):
    """Crop ``cropping = (start, end)`` steps of (batch, steps, features) inputs."""

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, **kwargs)
        self.cropping = cu.normalize_tuple(
            cropping, 2, "cropping", allow_zero=True, who=cu.owner(self)
        )

    def _crops(self):
        return (self.cropping,)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return config


class Cropping2D(_Cropping):
    """Crop ``((top, bottom), (left, right))`` pixels (or symmetric ints)."""

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)
        self.cropping = _pairs(
            cropping, 2, "cropping",
            "either an int, a tuple of 2 ints (symmetric_height_crop, symmetric_width_crop), "
            "or a tuple of 2 tuples of 2 ints ((top_crop, bottom_crop), (left_crop, right_crop))",
            cu.owner(self),
        )  # fmt: skip


class Cropping3D(_Cropping):
    """Crop ``((d1, d2), (h1, h2), (w1, w2))`` voxels (or symmetric ints)."""

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)
        self.cropping = _pairs(
            cropping, 3, "cropping",
            "either an int, a tuple of 3 ints (symmetric_dim1_crop, symmetric_dim2_crop, "
            "symmetric_dim3_crop), or a tuple of 3 tuples of 2 ints", cu.owner(self),
        )  # fmt: skip


class _ZeroPadding(SpecLayer):
    rank = 2

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = cu.normalize_data_format(data_format, cu.owner(self))
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _pads(self):
        return self.padding

    def call(self, inputs):
        pads = [[0, 0]] * (self.rank + 2)
        first = 2 if self.data_format == "channels_first" else 1
        for i, p in enumerate(self._pads()):
            pads[first + i] = list(p)
        return tf.pad(inputs, pads)

    def compute_output_shape(self, input_shape):
        d = cu.dims(input_shape)
        first = 2 if self.data_format == "channels_first" else 1
        for i, (lo, hi) in enumerate(self._pads()):
            if d[first + i] is not None:
                d[first + i] += lo + hi
        return tf.TensorShape(d)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding,
                "data_format": self.data_format}  # fmt: skip


class ZeroPadding1D(_ZeroPadding):
    """Pad ``padding = (start, end)`` zero steps (or a symmetric int)."""

    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.padding = cu.normalize_tuple(
            padding, 2, "padding", allow_zero=True, who=cu.owner(self)
        )

    def _pads(self):
        return (self.padding,)


class ZeroPadding2D(_ZeroPadding):
    """Pad ``((top, bottom), (left, right))`` rows and columns of zeros (or symmetric ints)."""

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.padding = _pairs(
            padding, 2, "padding",
            "either an int, a tuple of 2 ints (symmetric_height_pad, symmetric_width_pad), or "
            "a tuple of 2 tuples of 2 ints ((top_pad, bottom_pad), (left_pad, right_pad))",
            cu.owner(self),
        )  # fmt: skip


class ZeroPadding3D(_ZeroPadding):
    """Pad ``((d1, d2), (h1, h2), (w1, w2))`` planes of zeros (or symmetric ints)."""

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.padding = _pairs(
            padding, 3, "padding",
            "either an int, a tuple of 3 ints (symmetric_dim1_pad, symmetric_dim2_pad, "
            "symmetric_dim3_pad), or a tuple of 3 tuples of 2 ints", cu.owner(self),
        )  # fmt: skip


# ------------------------------------------------------------------------------------------
# upsampling
# ------------------------------------------------------------------------------------------


def _bilinear_axis(x, axis, scale):
    """Linear interpolation of ``x`` to ``n * scale`` samples along ``axis`` (half-pixel
    centres, edges clamped: TF's ``resize(method="bilinear")``)."""
    n = x.shape[axis]
    out = np.arange(n * scale, dtype=np.float64)
    src = (out + 0.5) / scale - 0.5
    lo = np.floor(src)
    frac = src - lo
    i0 = np.clip(lo, 0, n - 1).astype(np.int32)
    i1 = np.clip(lo + 1, 0, n - 1).astype(np.int32)
    shape = [1] * x.shape.rank
    shape[axis] = -1
    w = tf.reshape(tf.constant(frac.astype(x.dtype.as_numpy_dtype)), shape)
    a = tf.gather(x, tf.constant(i0), axis=axis)
    b = tf.gather(x, tf.constant(i1), axis=axis)
    return a + (b - a) * w


class _UpSampling(SpecLayer):
    rank = 2

    def __init__(self, size, data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.data_format = cu.normalize_data_format(data_format, cu.owner(self))
        self.size = cu.normalize_tuple(size, self.rank, "size", who=cu.owner(self))
        self.interpolation = str(interpolation).lower()
        if self.interpolation not in ("nearest", "bilinear"):
            known = ("bicubic", "lanczos3", "lanczos5", "area")
            if self.interpolation in known:
                raise NotImplementedError(
                    f"{type(self).__name__}: interpolation={interpolation!r} is not "
                    "implemented in rill; use 'nearest' or 'bilinear'."
                )
            raise ValueError(
                f"{cu.owner(self)}: Invalid value for argument `interpolation`: expected one of ('nearest', "
                f"'bilinear', 'bicubic', 'lanczos3', 'lanczos5', 'area'). Received: "
                f"interpolation={interpolation}"
            )
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _axes(self):
        first = 2 if self.data_format == "channels_first" else 1
        return range(first, first + self.rank)

    def call(self, inputs):
        x = inputs
        for a, s in zip(self._axes(), self.size):
            if s == 1:
                continue
            if self.interpolation == "nearest":
                x = tf.repeat(x, s, axis=a)
            else:
                if x.shape[a] is None:
                    raise ValueError(
                        f"{type(self).__name__} {self.name!r}: bilinear upsampling needs known "
                        f"spatial dimensions, got input shape {tuple(inputs.shape.as_list())}."
                    )
                x = _bilinear_axis(x, a, s)
        return x

    def compute_output_shape(self, input_shape):
        d = cu.dims(input_shape)
        for a, s in zip(self._axes(), self.size):
            if d[a] is not None:
                d[a] *= s
        return tf.TensorShape(d)


class UpSampling1D(_UpSampling):
    """Repeat each step ``size`` times."""

    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(size, **kwargs)

    def get_config(self):
        return {**super().get_config(), "size": self.size[0]}


class UpSampling2D(_UpSampling):
    """Upsample rows and columns by ``size`` (nearest neighbour or bilinear)."""

    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format, interpolation, **kwargs)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}  # fmt: skip


class UpSampling3D(_UpSampling):
    """Repeat each voxel ``size`` times along each spatial axis."""

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}
