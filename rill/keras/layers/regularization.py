"""Regularization and noise layers: SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout,
AlphaDropout and ActivityRegularization. The noise layers act only while training; in
inference they return their inputs unchanged."""

from __future__ import annotations

import math

import rill as tf
import rill.keras.layers.conv_utils as cu
from rill.keras import regularizers
from rill.keras.layers.input_spec import InputSpec, SpecLayer

__all__ = [
    "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
    "GaussianDropout", "AlphaDropout", "ActivityRegularization",
]  # fmt: skip


def _check_rate(layer, rate, name="rate"):
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 1:
        raise ValueError(
            f"{cu.owner(layer)}: Invalid value received for argument `{name}`. Expected a float value between 0 "
            f"and 1. Received: {name}={rate}"
        )
    return float(rate)


class _Noise(SpecLayer):
    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_rate(self, rate)
        self.seed = seed
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def compute_mask(self, inputs, mask=None):
        return mask


class _SpatialDropout(_Noise):
    rank = 1

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.data_format = cu.normalize_data_format(data_format, cu.owner(self))
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _noise_shape(self, x):
        s = tf.shape(x)
        ones = [1] * self.rank
        if self.data_format == "channels_first":
            return tf.stack([s[0], s[1], *ones])
        return tf.stack([s[0], *ones, s[-1]])

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return tf.zeros_like(inputs)
        return tf.nn.dropout(inputs, self.rate, noise_shape=self._noise_shape(inputs),
                             seed=self.seed)  # fmt: skip

    def get_config(self):
        return {
            "rate": self.rate,
            "seed": self.seed,
            "name": self.name,
            "dtype": self._dtype,
            "data_format": self.data_format,
        }


class SpatialDropout1D(_SpatialDropout):
    """Dropout of whole feature maps (channels) of (batch, steps, channels) inputs."""

    rank = 1

    def __init__(self, rate, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return config


class SpatialDropout2D(_SpatialDropout):
    """Dropout of whole 2-D feature maps (channels)."""

    rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Dropout of whole 3-D feature maps (channels)."""

    rank = 3


class GaussianNoise(_Noise):
    """Add zero-mean Gaussian noise of standard deviation ``stddev`` while training."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(0.0, seed=seed, **kwargs)
        del self.rate
        self.stddev = _check_rate(self, stddev, "stddev")

    def call(self, inputs, training=None):
        if not training or self.stddev == 0:
            return inputs
        noise = tf.random.normal(tf.shape(inputs), stddev=self.stddev, dtype=inputs.dtype,
                                 seed=self.seed)  # fmt: skip
        return inputs + noise

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_Noise):
    """Multiply by Gaussian noise of mean 1 and standard deviation
    ``sqrt(rate / (1 - rate))`` while training."""

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = tf.random.normal(tf.shape(inputs), mean=1.0, stddev=stddev,
                                 dtype=inputs.dtype, seed=self.seed)  # fmt: skip
        return inputs * noise

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class AlphaDropout(_Noise):
    """Dropout that keeps a SELU network self-normalizing: dropped units are set to SELU's
    negative saturation and the result is affinely rescaled to keep mean and variance."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.noise_shape = noise_shape

    def _noise_shape(self, x):
        if self.noise_shape is None:
            return tf.shape(x)
        s = tf.unstack(tf.shape(x))
        return tf.stack([s[i] if d is None else d for i, d in enumerate(self.noise_shape)])

    def call(self, inputs, training=None):
        if not training or not 0 < self.rate < 1:
            return inputs
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        u = tf.random.uniform(self._noise_shape(inputs), dtype=inputs.dtype, seed=self.seed)
        kept = tf.cast(u >= self.rate, inputs.dtype)
        a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        x = inputs * kept + alpha_p * (1 - kept)
        return a * x + b

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}  # fmt: skip


class ActivityRegularization(SpecLayer):
    """Pass the inputs through, adding ``l1 * sum(|x|) + l2 * sum(x ** 2)`` to the losses."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = float(l1)
        self.l2 = float(l2)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}
