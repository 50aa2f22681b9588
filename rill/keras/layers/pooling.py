"""Pooling layers: Max/Average Pooling 1D/2D/3D, their global and adaptive forms.

Max and average pooling call ``tf.nn.max_pool`` and ``tf.nn.avg_pool``, as TF's Keras
does (ties go to the window's first maximum; SAME average pooling averages only the real
elements). Adaptive pooling splits each axis into ``output_size`` windows
``[floor(i * n / o), ceil((i + 1) * n / o))`` and pools one axis at a time (a max or a
mean over a box is one over each of its axes in turn).
"""

from __future__ import annotations

import numpy as np

import rill as tf
import rill.keras.layers.conv_utils as cu
from rill.errors import InvalidArgumentError
from rill.keras.layers.input_spec import InputSpec, SpecLayer

__all__ = [
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
    "AveragePooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D",
    "AvgPool3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalAvgPool1D",
    "GlobalAvgPool2D", "GlobalAvgPool3D", "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D",
    "AdaptiveMaxPooling3D", "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D",
    "AdaptiveAveragePooling3D",
]  # fmt: skip


def max_pool(x, pool_size, strides, padding, data_format):
    """``tf.nn.max_pool`` with the layer's arguments."""
    return tf.nn.max_pool(x, pool_size, strides, padding.upper(), data_format=data_format)


def avg_pool(x, pool_size, strides, padding, data_format):
    """``tf.nn.avg_pool`` with the layer's arguments."""
    return tf.nn.avg_pool(x, pool_size, strides, padding.upper(), data_format=data_format)


class BasePooling(SpecLayer):
    rank = 2
    _pool = staticmethod(max_pool)

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):  # fmt: skip
        super().__init__(name=name, **kwargs)
        r, who = self.rank, cu.owner(self)
        self.pool_size = cu.normalize_tuple(pool_size, r, "pool_size", who=who)
        strides = pool_size if strides is None else strides
        self.strides = cu.normalize_tuple(strides, r, "strides", who=who)
        # (Keras lets TF's op reject it: InvalidArgumentError, a ValueError in rill)
        self.padding = cu.normalize_padding(padding, who=who, error=InvalidArgumentError)
        self.data_format = cu.normalize_data_format(data_format, who)
        self.input_spec = InputSpec(ndim=r + 2)

    def call(self, inputs):
        fmt = cu.tf_data_format(self.data_format, self.rank)
        return self._pool(inputs, self.pool_size, self.strides, self.padding, fmt)

    def compute_output_shape(self, input_shape):
        d = cu.dims(input_shape)
        cf = self.data_format == "channels_first"
        spatial = d[2:] if cf else d[1:-1]
        out = [
            cu.conv_output_length(n, k, self.padding, s)
            for n, k, s in zip(spatial, self.pool_size, self.strides)
        ]
        out = [None if o is None else max(o, 0) for o in out]
        return tf.TensorShape([d[0], d[1], *out] if cf else [d[0], *out, d[-1]])

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }


class MaxPooling1D(BasePooling):
    """Max over windows of ``pool_size`` steps."""

    rank = 1

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):  # fmt: skip
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling2D(BasePooling):
    """Max over windows of ``pool_size`` pixels."""

    rank = 2

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):  # fmt: skip
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling3D(BasePooling):
    """Max over windows of ``pool_size`` voxels."""

    rank = 3

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):  # fmt: skip
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling1D(BasePooling):
    """Mean over windows of ``pool_size`` steps (``same`` padding averages real steps)."""

    rank = 1
    _pool = staticmethod(avg_pool)


class AveragePooling2D(BasePooling):
    """Mean over windows of ``pool_size`` pixels."""

    rank = 2
    _pool = staticmethod(avg_pool)


class AveragePooling3D(BasePooling):
    """Mean over windows of ``pool_size`` voxels."""

    rank = 3
    _pool = staticmethod(avg_pool)


# ------------------------------------------------------------------------------------------
# global pooling
# ------------------------------------------------------------------------------------------


class BaseGlobalPooling(SpecLayer):
    rank = 2
    _max = True

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = cu.normalize_data_format(data_format)
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _axes(self):
        r = self.rank
        return (
            list(range(2, r + 2)) if self.data_format == "channels_first" else list(range(1, r + 1))
        )

    def call(self, inputs):
        reduce = tf.reduce_max if self._max else tf.reduce_mean
        return reduce(inputs, axis=self._axes(), keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        d = cu.dims(input_shape)
        axes = self._axes()
        if self.keepdims:
            return tf.TensorShape([1 if i in axes else v for i, v in enumerate(d)])
        return tf.TensorShape([v for i, v in enumerate(d) if i not in axes])

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}  # fmt: skip


class GlobalMaxPooling1D(BaseGlobalPooling):
    """Max over the steps axis."""

    rank = 1


class GlobalMaxPooling2D(BaseGlobalPooling):
    """Max over the spatial axes."""

    rank = 2


class GlobalMaxPooling3D(BaseGlobalPooling):
    """Max over the spatial axes."""

    rank = 3


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Mean over the steps axis; with a mask (batch, steps), over the unmasked steps only."""

    rank = 1
    _max = False

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        step_axis = 2 if self.data_format == "channels_first" else 1
        m = tf.cast(mask, inputs.dtype)
        m = tf.expand_dims(m, 1 if self.data_format == "channels_first" else 2)
        total = tf.reduce_sum(inputs * m, axis=step_axis, keepdims=self.keepdims)
        count = tf.reduce_sum(m, axis=step_axis, keepdims=self.keepdims)
        return total / count

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling2D(BaseGlobalPooling):
    """Mean over the spatial axes."""

    rank = 2
    _max = False


class GlobalAveragePooling3D(BaseGlobalPooling):
    """Mean over the spatial axes."""

    rank = 3
    _max = False


# ------------------------------------------------------------------------------------------
# adaptive pooling
# ------------------------------------------------------------------------------------------


def _windows(n, o):
    """Start and end (exclusive) of each of ``o`` adaptive windows over ``n`` positions."""
    j = np.arange(o)
    starts = np.minimum((j * n) // o, n - 1)
    ends = np.minimum(-((-(j + 1) * n) // o), n)
    return starts, ends


def _adaptive_max_axis(x, axis, o):
    n = x.shape[axis]
    starts, ends = _windows(n, o)
    width = int((ends - starts).max())
    idx = np.minimum(starts[:, None] + np.arange(width), ends[:, None] - 1)  # repeat the last
    g = tf.gather(x, tf.constant(idx.reshape(-1).astype(np.int32)), axis=axis)
    dims = x.shape.as_list()
    head = cu.leading_shape(x, x.shape.rank - axis)
    tail = [o, width] + dims[axis + 1 :]
    g = tf.reshape(g, cu.with_tail(head, tail))
    return tf.reduce_max(g, axis=axis + 1)


def _adaptive_mean_axis(x, axis, o):
    n = x.shape[axis]
    starts, ends = _windows(n, o)
    w = np.zeros((n, o), np.float64)
    for j, (a, b) in enumerate(zip(starts, ends)):
        w[a:b, j] = 1.0 / (b - a)
    r = x.shape.rank
    y = tf.tensordot(x, tf.constant(w.astype(x.dtype.as_numpy_dtype)), [[axis], [0]])
    perm = [*range(axis), r - 1, *range(axis, r - 1)]  # the pooled axis back in its place
    return tf.transpose(y, perm)


class BaseAdaptivePooling(SpecLayer):
    rank = 2
    _max = True

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.output_size = cu.normalize_tuple(output_size, self.rank, "output_size")
        self.data_format = cu.normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        x = cu.to_channels_last(inputs, self.data_format)
        pool = _adaptive_max_axis if self._max else _adaptive_mean_axis
        for i, o in enumerate(self.output_size):
            if x.shape[1 + i] is None:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: the spatial dimensions of the inputs "
                    f"must be known, got input shape {tuple(inputs.shape.as_list())}."
                )
            x = pool(x, 1 + i, o)
        return cu.to_channels_first(x, self.data_format)

    def compute_output_shape(self, input_shape):
        d = cu.dims(input_shape)
        if self.data_format == "channels_first":
            return tf.TensorShape([d[0], d[1], *self.output_size])
        return tf.TensorShape([d[0], *self.output_size, d[-1]])

    def get_config(self):
        return {**super().get_config(), "output_size": self.output_size,
                "data_format": self.data_format}  # fmt: skip


class AdaptiveMaxPooling1D(BaseAdaptivePooling):
    """Max pooling to a fixed number of steps, whatever the input length."""

    rank = 1


class AdaptiveMaxPooling2D(BaseAdaptivePooling):
    """Max pooling to a fixed spatial size, whatever the input size."""

    rank = 2


class AdaptiveMaxPooling3D(BaseAdaptivePooling):
    """Max pooling to a fixed spatial size, whatever the input size."""

    rank = 3


class AdaptiveAveragePooling1D(BaseAdaptivePooling):
    """Average pooling to a fixed number of steps, whatever the input length."""

    rank = 1
    _max = False


class AdaptiveAveragePooling2D(BaseAdaptivePooling):
    """Average pooling to a fixed spatial size, whatever the input size."""

    rank = 2
    _max = False


class AdaptiveAveragePooling3D(BaseAdaptivePooling):
    """Average pooling to a fixed spatial size, whatever the input size."""

    rank = 3
    _max = False


MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = (
    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D,
)  # fmt: skip
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D,
)  # fmt: skip
