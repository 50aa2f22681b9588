"""More merge layers: Subtract, Average, Maximum, Minimum, Dot, and the functional forms
(add, subtract, ..., dot); Add, Multiply and Concatenate live with the core layers."""

from __future__ import annotations

import rill as tf
from rill.keras.layer import get_keras_mask, set_keras_mask
from rill.keras.layers.core import Add, Concatenate, Multiply, _Merge

__all__ = [
    "Subtract", "Average", "Maximum", "Minimum", "Dot", "add", "subtract", "multiply",
    "average", "maximum", "minimum", "concatenate", "dot",
]  # fmt: skip


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


def _merge_masked(op, inputs):
    """``op`` folded over ``inputs`` as Keras 3 does for Maximum and Minimum, which have no
    identity element: where an input is masked out, the running result stands in for it
    (and it for a masked-out running result), so masked steps never win. The output keeps
    the OR of the masks when every input has one."""
    out, out_mask = None, None
    for x in inputs:
        mask = get_keras_mask(x)
        if mask is not None:
            mask = tf.broadcast_to(tf.expand_dims(tf.cast(mask, tf.bool), -1), tf.shape(x))
        if out is None:
            out, out_mask = x, mask
            continue
        if mask is not None:
            x = tf.where(mask, x, out)
        if out_mask is not None:
            out = tf.where(out_mask, out, x)
        out_mask = None if mask is None or out_mask is None else tf.logical_or(out_mask, mask)
        out = op(out, x)
    if out_mask is not None:
        set_keras_mask(out, tf.reduce_any(out_mask, axis=-1))
    return out


class Maximum(_Merge):
    """Elementwise maximum of a list of inputs (masked steps filled from the others)."""

    def call(self, inputs):
        return _merge_masked(tf.maximum, inputs)


class Minimum(_Merge):
    """Elementwise minimum of a list of inputs (masked steps filled from the others)."""

    def call(self, inputs):
        return _merge_masked(tf.minimum, inputs)


class Dot(_Merge):
    """Batched dot product of two inputs along ``axes`` (an int, or one per input); with
    ``normalize=True``, of their L2-normalized versions (cosine similarity)."""

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)) or len(axes) != 2:
                raise ValueError(
                    f"Invalid format for argument `axes`: list of 2 integers expected, or an "
                    f"int. Received: axes={axes}"
                )
            if not all(isinstance(a, int) for a in axes):
                raise ValueError(
                    f"Invalid format for argument `axes`: list of 2 integers expected. "
                    f"Received: axes={axes}"
                )
            axes = tuple(axes)
        self.axes = axes
        self.normalize = bool(normalize)
        self.supports_masking = True

    def _axes_for(self, shapes):
        if isinstance(self.axes, int):
            axes = [self.axes, self.axes]
        else:
            axes = list(self.axes)
        return [a % len(s) if a < 0 else a for a, s in zip(axes, shapes)]

    def _check(self, shapes):
        if not isinstance(shapes, (list, tuple)) or len(shapes) != 2:
            raise ValueError(
                f"A `Dot` layer should be called on a list of 2 inputs. Received: input_shape="
                f"{shapes}"
            )
        s1, s2 = (list(s) for s in shapes)
        if s1[0] is not None and s2[0] is not None and s1[0] != s2[0]:
            raise ValueError(
                f"Cannot do batch_dot on inputs with different batch sizes. Received inputs "
                f"with shapes {tuple(s1)} and {tuple(s2)}."
            )
        a1, a2 = self._axes_for([s1, s2])
        if s1[a1] is not None and s2[a2] is not None and s1[a1] != s2[a2]:
            raise ValueError(
                f"Incompatible input shapes: axis values {s1[a1]} (at axis {a1}) != {s2[a2]} "
                f"(at axis {a2}). Full input shapes: {tuple(s1)}, {tuple(s2)}"
            )
        return a1, a2

    def build(self, input_shape):
        self._check([tf.TensorShape(s).as_list() for s in input_shape])
        self.built = True

    def call(self, inputs):
        x, y = inputs
        a1, a2 = self._check([x.shape.as_list(), y.shape.as_list()])
        if self.normalize:
            x = tf.math.l2_normalize(x, axis=a1)
            y = tf.math.l2_normalize(y, axis=a2)
        letters = "bcdefghijklmnopqrstuvwxyz"
        rx, ry = x.shape.rank, y.shape.rank
        xs = ["a"] + list(letters[: rx - 1])
        ys = ["a"] + list(letters[rx - 1 : rx + ry - 2])
        ys[a2] = xs[a1]
        out = [c for i, c in enumerate(xs) if i != a1] + [
            c for i, c in enumerate(ys) if i not in (0, a2)
        ]
        z = tf.einsum(f"{''.join(xs)},{''.join(ys)}->{''.join(out)}", x, y)
        if z.shape.rank == 1:
            z = tf.expand_dims(z, 1)
        return z

    def compute_output_shape(self, input_shape):
        s1, s2 = (tf.TensorShape(s).as_list() for s in input_shape)
        a1, a2 = self._check([s1, s2])
        out = [d for i, d in enumerate(s1) if i != a1] + [
            d for i, d in enumerate(s2) if i not in (0, a2)
        ]
        return tf.TensorShape(out if len(out) > 1 else out + [1])

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


# the functional forms: keras.layers.add([a, b]) is Add()([a, b])


def add(inputs, **kwargs):
    """Elementwise sum of a list of inputs (``Add()(inputs)``)."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """``inputs[0] - inputs[1]`` (``Subtract()(inputs)``)."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Elementwise product of a list of inputs (``Multiply()(inputs)``)."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Elementwise mean of a list of inputs (``Average()(inputs)``)."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Elementwise maximum of a list of inputs (``Maximum()(inputs)``)."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Elementwise minimum of a list of inputs (``Minimum()(inputs)``)."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """Concatenation of a list of inputs along ``axis`` (``Concatenate(axis)(inputs)``)."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """Batched dot product of two inputs (``Dot(axes, normalize)(inputs)``)."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
