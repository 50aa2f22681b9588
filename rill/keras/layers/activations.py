"""Activation layers: ReLU, LeakyReLU, PReLU (learned slopes), ELU, Softmax (with a mask)
and ThresholdedReLU (Keras 2's; Keras 3 dropped it)."""

from __future__ import annotations

import rill as tf
import rill.keras.layers.conv_utils as cu
from rill.keras import activations as act
from rill.keras import constraints, initializers, regularizers
from rill.keras.layers.input_spec import InputSpec, SpecLayer

__all__ = ["ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "ThresholdedReLU"]


class _Elementwise(SpecLayer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def compute_mask(self, inputs, mask=None):
        return mask


class ReLU(_Elementwise):
    """``max_value`` if x >= max_value; x if threshold <= x; else
    ``negative_slope * (x - threshold)``."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError(
                f"{cu.owner(self)}: max_value of a ReLU layer cannot be a negative value. Received: "
                f"max_value={max_value}"
            )
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError(
                f"{cu.owner(self)}: negative_slope of a ReLU layer cannot be None or a negative value. Received: "
                f"negative_slope={negative_slope}"
            )
        if threshold is None or threshold < 0.0:
            raise ValueError(
                f"{cu.owner(self)}: threshold of a ReLU layer cannot be None or a negative value. Received: "
                f"threshold={threshold}"
            )
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold

    def call(self, inputs):
        return act.relu(inputs, negative_slope=self.negative_slope, max_value=self.max_value,
                        threshold=self.threshold)  # fmt: skip

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}  # fmt: skip


class LeakyReLU(_Elementwise):
    """``x`` for x >= 0, ``negative_slope * x`` otherwise."""

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:  # Keras 2's name
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(
                f"{cu.owner(self)}: The negative_slope value of a Leaky ReLU layer cannot be None or negative "
                f"value. Expected a float. Received: negative_slope={negative_slope}"
            )
        self.negative_slope = negative_slope

    def call(self, inputs):
        return tf.nn.leaky_relu(inputs, alpha=self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class PReLU(_Elementwise):
    """Leaky ReLU with a learned slope ``alpha`` per element (shared along
    ``shared_axes``): ``x`` for x >= 0, ``alpha * x`` otherwise."""

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None,
                 alpha_constraint=None, shared_axes=None, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = list(shared_axes)
        else:
            self.shared_axes = [shared_axes]

    def build(self, input_shape):
        d = cu.dims(input_shape)
        shape = list(d[1:])
        for a in self.shared_axes or ():
            shape[a - 1] = 1
        if None in shape:
            raise ValueError(
                f"PReLU {self.name!r}: every non-shared axis of the inputs must have a known "
                f"size, got input shape {tuple(d)} with shared_axes={self.shared_axes}."
            )
        self.alpha = self.add_weight(
            name="alpha", shape=tuple(shape), initializer=self.alpha_initializer,
            regularizer=self.alpha_regularizer, constraint=self.alpha_constraint,
        )  # fmt: skip
        axes = {i: d[i] for i in range(1, len(d)) if i not in (self.shared_axes or ())}
        self.input_spec = InputSpec(ndim=len(d), axes=axes)
        self.built = True

    def call(self, inputs):
        pos = tf.nn.relu(inputs)
        neg = -tf.cast(self.alpha, inputs.dtype) * tf.nn.relu(-inputs)
        return pos + neg

    def get_config(self):
        return {
            **super().get_config(),
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        }


class ELU(_Elementwise):
    """``x`` for x > 0, ``alpha * (exp(x) - 1)`` otherwise."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha

    def call(self, inputs):
        return act.elu(inputs, alpha=self.alpha)

    def get_config(self):
        config = super().get_config()
        return {"name": config.pop("name"), "alpha": self.alpha, **config}


def _large_negative(dtype):
    return -3e4 if dtype in (tf.float16, tf.bfloat16) else -1e9


class Softmax(_Elementwise):
    """Softmax over ``axis`` (an int or a list); positions where ``mask`` is False get
    probability 0."""

    def call(self, inputs, mask=None):
        x = inputs
        if mask is not None:
            mask = tf.convert_to_tensor(mask)
            ms, xs = mask.shape.as_list(), x.shape.as_list()
            if len(ms) > len(xs) or any(
                m is not None and i is not None and m not in (1, i)
                for m, i in zip(ms[::-1], xs[::-1])
            ):
                raise ValueError(
                    f"{cu.owner(self)}: The `mask` must be broadcastable to `inputs`: each mask dimension must be 1 "
                    f"or match the corresponding input dimension. Received: inputs.shape="
                    f"{tuple(xs)}, mask.shape={tuple(ms)}"
                )
            if mask.dtype != tf.bool:
                mask = mask > tf.cast(0.5, mask.dtype)
            x = tf.where(mask, x, tf.cast(_large_negative(x.dtype), x.dtype))
        if isinstance(self.axis, (list, tuple)) and len(self.axis) > 1:
            y = tf.exp(x - tf.reduce_logsumexp(x, axis=list(self.axis), keepdims=True))
        else:
            axis = self.axis[0] if isinstance(self.axis, (list, tuple)) else self.axis
            y = tf.nn.softmax(x, axis=axis)
        if mask is not None:
            y = tf.where(mask, y, tf.zeros_like(y))
        return y

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class ThresholdedReLU(_Elementwise):
    """``x`` for x > theta, 0 otherwise (Keras 2's layer)."""

    def __init__(self, theta=1.0, **kwargs):
        super().__init__(**kwargs)
        if theta is None or theta < 0:
            raise ValueError(
                f"{cu.owner(self)}: The theta value of a Thresholded ReLU layer cannot be None or negative. "
                f"Received: theta={theta}"
            )
        self.theta = float(theta)

    def call(self, inputs):
        return tf.where(inputs > tf.cast(self.theta, inputs.dtype), inputs,
                        tf.zeros_like(inputs))  # fmt: skip

    def get_config(self):
        return {**super().get_config(), "theta": self.theta}
