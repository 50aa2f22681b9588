"""More merge layers: Subtract, Average, Maximum, Minimum (Add, Multiply and Concatenate
live with the core layers)."""

from __future__ import annotations

import rill as tf
from rill.keras.layers.core import _Merge

__all__ = ["Subtract", "Average", "Maximum", "Minimum"]


class Subtract(_Merge):
    """``inputs[0] - inputs[1]`` for a list of exactly two inputs."""

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError(f"Subtract: expects a list of exactly 2 inputs, got {input_shape}.")
        self.built = True

    def call(self, inputs):
        return inputs[0] - inputs[1]


class Average(_Merge):
    """Elementwise mean of a list of inputs."""

    def call(self, inputs):
        return tf.add_n(list(inputs)) / float(len(inputs))


class Maximum(_Merge):
    """Elementwise maximum of a list of inputs."""

    def call(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = tf.maximum(out, x)
        return out


class Minimum(_Merge):
    """Elementwise minimum of a list of inputs."""

    def call(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = tf.minimum(out, x)
        return out
