"""Normalization: shift and scale features by a mean and variance, given or learned from
data by ``adapt`` (a running, batch-weighted merge of per-batch moments)."""

from __future__ import annotations

import math

import numpy as np

import rill as tf
from rill.keras.layers.preprocessing._common import PreprocessingLayer, batches, to_numpy

__all__ = ["Normalization"]

_EPSILON = 1e-7  # keras.config.epsilon(): the floor of the standard deviation


class Normalization(PreprocessingLayer):
    """``(x - mean) / sqrt(variance)`` per position of the kept ``axis`` (``invert``:
    ``mean + x * sqrt(variance)``); statistics given or computed by ``adapt``."""

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(axis)
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        self.supports_masking = True
        self._build_input_shape = None
        self.mean = None
        if (mean is not None) != (variance is not None):
            raise ValueError(
                "Normalization: when setting values directly, both `mean` and `variance` "
                f"must be set. Received: mean={mean} and variance={variance}"
            )
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    "Normalization: `mean` and `variance` must have the same shape. "
                    f"Received: mean shape {np.shape(mean)} and variance shape "
                    f"{np.shape(variance)}"
                )
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError(
                    "Normalization: the rank of `mean` must be at most the number of axes "
                    f"({len(self.axis)}). Received: mean shape {np.shape(mean)} for axis "
                    f"{self.axis}"
                )

    def build(self, input_shape):
        if input_shape is None:
            return
        input_shape = tuple(tf.TensorShape(input_shape).as_list())
        ndim = len(input_shape)
        self._build_input_shape = input_shape
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                f"Normalization {self.name!r}: all `axis` values must be in the range "
                f"[-ndim, ndim). Received inputs with ndim={ndim}, while axis={self.axis}"
            )
        self._keep_axis = tuple(sorted(d % ndim for d in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError(
                    f"Normalization {self.name!r}: all `axis` values to be kept must have a "
                    f"known shape. Received axis={self.axis}, inputs.shape={input_shape}, "
                    f"with unknown axis at index {d}"
                )
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = [input_shape[d] if d in self._keep_axis else 1 for d in range(ndim)]
        self._mean_and_var_shape = tuple(input_shape[d] for d in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(
                name="mean", shape=self._mean_and_var_shape, initializer="zeros", trainable=False
            )
            self.adapt_variance = self.add_weight(
                name="variance",
                shape=self._mean_and_var_shape,
                initializer="ones",
                trainable=False,
            )
            self.count = self.add_weight(
                name="count", shape=(), dtype="int64", initializer="zeros", trainable=False
            )
            self.built = True
            self.finalize_state()
        else:
            mean = np.asarray(self.input_mean, dtype=np.float64)
            variance = np.asarray(self.input_variance, dtype=np.float64)
            if mean.ndim:  # the trailing kept axes take the given statistics' axes
                expanded = [1] * ndim
                for i in range(1, mean.ndim + 1):
                    expanded[self._keep_axis[-i]] = mean.shape[-i]
                mean, variance = mean.reshape(expanded), variance.reshape(expanded)
            shape = self._broadcast_shape
            self.mean = tf.constant(np.broadcast_to(mean, shape), dtype=self.dtype)
            self.variance = tf.constant(np.broadcast_to(variance, shape), dtype=self.dtype)
            self.built = True

    def adapt(self, data):
        """Compute the mean and variance of ``data`` (an array, a tensor, or a Dataset or
        iterable of batches) over the axes not kept."""
        if isinstance(data, tf.data.Dataset):
            spec = data.element_spec
            spec = spec[0] if isinstance(spec, tuple) else spec
            if len(spec.shape) == 1:  # unbatched scalars: Keras batches them
                data = data.batch(128)
            source = batches(data)
        elif isinstance(data, (np.ndarray, tf.Tensor)) or not hasattr(data, "__iter__"):
            source = iter([data])
        else:
            source = batches(data)
        first = next(source, None)
        if first is None:
            raise ValueError(
                f"Normalization {self.name!r}: adapt() received an empty iterable (no "
                "batches). Pass a non-empty array or iterable of batches."
            )
        first = to_numpy(first)
        if not self.built:
            self.build(first.shape)
        else:
            for d in self._keep_axis:
                if first.shape[d] != self._build_input_shape[d]:
                    raise ValueError(
                        f"Normalization {self.name!r}: the layer was built with "
                        f"input_shape={self._build_input_shape}, but adapt() is being "
                        f"called with data with an incompatible shape, data.shape="
                        f"{first.shape}"
                    )
        total_mean = np.zeros(self._mean_and_var_shape)
        total_var = np.zeros(self._mean_and_var_shape)
        total_count = 0
        for batch in _chain(first, source):
            batch = to_numpy(batch).astype(np.float64)
            for d in self._keep_axis:
                if batch.shape[d] != self._build_input_shape[d]:
                    raise ValueError(
                        f"Normalization {self.name!r}: adapt() got a batch of shape "
                        f"{batch.shape}, incompatible with {self._build_input_shape}."
                    )
            b_mean = batch.mean(axis=self._reduce_axis)
            b_var = batch.var(axis=self._reduce_axis)
            b_count = math.prod(batch.shape[d] for d in self._reduce_axis)
            total_count += b_count
            w = b_count / total_count  # merge the batch's moments into the running ones
            new_mean = total_mean * (1 - w) + b_mean * w
            total_var = (total_var + (total_mean - new_mean) ** 2) * (1 - w) + (
                b_var + (b_mean - new_mean) ** 2
            ) * w
            total_mean = new_mean
        self.adapt_mean.assign(total_mean.astype(np.float32))
        self.adapt_variance.assign(total_var.astype(np.float32))
        self.finalize_state()

    def finalize_state(self):
        """Refresh the broadcast statistics from the adapted weights."""
        if self.input_mean is not None or not self.built:
            return
        self.mean = tf.cast(tf.reshape(self.adapt_mean, self._broadcast_shape), self.dtype)
        self.variance = tf.cast(tf.reshape(self.adapt_variance, self._broadcast_shape), self.dtype)

    def set_weights(self, weights):
        super().set_weights(weights)
        self.finalize_state()

    def call(self, inputs):
        if self.mean is None:
            raise ValueError(
                f"Normalization {self.name!r}: you must call `.build(input_shape)` on the "
                "layer before using it."
            )
        inputs = tf.cast(inputs, self.dtype)
        if self.input_mean is None:  # read the variables: adapt may change them later
            mean = tf.reshape(tf.cast(self.adapt_mean, self.dtype), self._broadcast_shape)
            var = tf.reshape(tf.cast(self.adapt_variance, self.dtype), self._broadcast_shape)
        else:
            mean, var = self.mean, self.variance
        std = tf.maximum(tf.sqrt(var), tf.constant(_EPSILON, self.dtype))
        if self.invert:
            return mean + inputs * std
        return (inputs - mean) / std

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "invert": self.invert,
            "mean": np.array(self.input_mean).tolist(),
            "variance": np.array(self.input_variance).tolist(),
        }

    def get_build_config(self):
        if self._build_input_shape:
            return {"input_shape": list(self._build_input_shape)}
        return None

    def build_from_config(self, config):
        if config:
            self.build(config["input_shape"])


def _chain(first, rest):
    yield first
    yield from rest
