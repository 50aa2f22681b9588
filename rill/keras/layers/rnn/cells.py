"""Recurrent cells: one time step of a recurrence, ``cell(x_t, states) -> (y_t, new_states)``.

``SimpleRNNCell``, ``LSTMCell`` (gates in Keras' order i, f, c, o) and ``GRUCell`` (z, r, h;
``reset_after`` applies the reset gate after the recurrent matmul, with a separate
recurrent bias) own Keras 3's weights: ``kernel`` (input, k * units), ``recurrent_kernel``
(units, k * units) and ``bias``. ``StackedRNNCells`` chains cells into one.

Dropout: a cell draws its input and recurrent dropout masks once per sequence (the
``RNN`` layer asks for them before its time loop and forgets them after), so every time
step of a sequence drops the same units, as in Keras.
"""

from __future__ import annotations

import rill as tf
from rill.core import nest
from rill.keras import activations, constraints, initializers, regularizers
from rill.keras.layer import Layer
from rill.keras.layers.input_spec import SpecLayer

__all__ = [
    "DropoutRNNCell",
    "SimpleRNNCell",
    "LSTMCell",
    "GRUCell",
    "StackedRNNCells",
]


def _units(layer_name, units):
    if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
        raise ValueError(
            f"{layer_name}: Received an invalid value for argument `units`, expected a positive "
            f"integer, got {units}."
        )
    return units


def _rate(value):
    return min(1.0, max(0.0, float(value)))


class DropoutRNNCell:
    """Mixin: the per-sequence dropout masks of a cell with ``dropout`` and
    ``recurrent_dropout`` rates (``dropout_mask_count`` masks per kind when set: one per
    gate, Keras' ``implementation=1``)."""

    def _make_masks(self, like, rate):
        count = getattr(self, "dropout_mask_count", None)
        ones = tf.ones_like(like)

        def one():
            return tf.nn.dropout(ones, rate, seed=self.seed)

        return one() if count is None else [one() for _ in range(count)]

    def get_dropout_mask(self, step_input):
        if self.__dict__.get("_dropout_mask") is None and self.dropout > 0:
            self.__dict__["_dropout_mask"] = self._make_masks(step_input, self.dropout)
        return self.__dict__.get("_dropout_mask")

    def get_recurrent_dropout_mask(self, step_input):
        if self.__dict__.get("_recurrent_dropout_mask") is None and self.recurrent_dropout > 0:
            self.__dict__["_recurrent_dropout_mask"] = self._make_masks(
                step_input, self.recurrent_dropout
            )
        return self.__dict__.get("_recurrent_dropout_mask")

    def reset_dropout_mask(self):
        self.__dict__["_dropout_mask"] = None

    def reset_recurrent_dropout_mask(self):
        self.__dict__["_recurrent_dropout_mask"] = None


class _Cell(SpecLayer, DropoutRNNCell):
    """What the three built-in cells share: arguments, weights, config."""

    _gates = 1  # blocks of `units` columns in the kernels

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        _units(type(self).__name__, units)
        implementation = kwargs.pop("implementation", 2)
        super().__init__(**kwargs)
        self.implementation = implementation
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _rate(dropout)
        self.recurrent_dropout = _rate(recurrent_dropout)
        self.seed = seed
        self.state_size = units
        self.output_size = units

    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        dim = tf.TensorShape(input_shape)[-1]
        if dim is None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: the last dimension of the inputs must be "
                f"known, got input shape {tf.TensorShape(input_shape)}."
            )
        n = self._gates * self.units
        self.kernel = self.add_weight(
            shape=(dim, n), name="kernel", initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )  # fmt: skip
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, n), name="recurrent_kernel",
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )  # fmt: skip
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=self._bias_shape(), name="bias", initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )  # fmt: skip
        self.built = True

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [_zeros(batch_size, d, self._dtype) for d in sizes]

    def _config(self, **extra):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {
            **config,
            "units": self.units,
            "activation": activations.serialize(self.activation),
            **extra.pop("first", {}),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            **extra.pop("after_init", {}),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            **extra,
            "seed": self.seed,
        }


def _first(states):
    return states[0] if isinstance(states, (list, tuple)) else states


def _dropped(training, rate, x, mask):
    return x * mask if training and 0.0 < rate < 1.0 and mask is not None else x


class SimpleRNNCell(_Cell):
    """``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``."""

    def call(self, sequence, states, training=False):
        prev = _first(states)
        dp = self.get_dropout_mask(sequence) if training else None
        rdp = self.get_recurrent_dropout_mask(prev) if training else None
        if dp is not None:
            sequence = sequence * dp
        h = tf.matmul(sequence, self.kernel)
        if self.bias is not None:
            h = h + self.bias
        if rdp is not None:
            prev = prev * rdp
        out = self.activation(h + tf.matmul(prev, self.recurrent_kernel))
        return out, [out] if isinstance(states, (list, tuple)) else out

    def get_config(self):
        return self._config()


class LSTMCell(_Cell):
    """The LSTM step: gates ``i, f, o = recurrent_activation(...)``, candidate
    ``g = activation(...)``, ``c_t = f * c_{t-1} + i * g``, ``h_t = o * activation(c_t)``.
    ``unit_forget_bias`` initialises the forget gate's bias to 1."""

    _gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):  # fmt: skip
        super().__init__(
            units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, **kwargs,
        )  # fmt: skip
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
        if self.recurrent_dropout != 0.0:
            self.implementation = 1
        if self.implementation == 1:
            self.dropout_mask_count = 4
        self.state_size = [units, units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, u = self.bias_initializer, self.units

        def init(shape, dtype=None):
            return tf.concat(
                [base((u,), dtype=dtype), tf.ones((u,), dtype=dtype or "float32"),
                 base((2 * u,), dtype=dtype)], 0,
            )  # fmt: skip

        return init

    def call(self, inputs, states, training=False):
        h, c = states[0], states[1]
        u, act, ract = self.units, self.activation, self.recurrent_activation
        if self.implementation == 1:
            dp = self.get_dropout_mask(inputs) if training else None
            rdp = self.get_recurrent_dropout_mask(h) if training else None
            xs = [_dropped(training, self.dropout, inputs, None if dp is None else dp[k])
                  for k in range(4)]  # fmt: skip
            hs = [_dropped(training, self.recurrent_dropout, h, None if rdp is None else rdp[k])
                  for k in range(4)]  # fmt: skip
            z = []
            for k in range(4):
                zk = tf.matmul(xs[k], self.kernel[:, k * u : (k + 1) * u])
                if self.bias is not None:
                    zk = zk + self.bias[k * u : (k + 1) * u]
                z.append(zk + tf.matmul(hs[k], self.recurrent_kernel[:, k * u : (k + 1) * u]))
        else:
            dp = self.get_dropout_mask(inputs) if training else None
            x = _dropped(training, self.dropout, inputs, dp)
            zz = tf.matmul(x, self.kernel) + tf.matmul(h, self.recurrent_kernel)
            if self.bias is not None:
                zz = zz + self.bias
            z = tf.split(zz, 4, axis=1)
        i, f, o = ract(z[0]), ract(z[1]), ract(z[3])
        c = f * c + i * act(z[2])
        h = o * act(c)
        return h, [h, c]

    def get_config(self):
        return self._config(
            first={"recurrent_activation": activations.serialize(self.recurrent_activation)},
            after_init={"unit_forget_bias": self.unit_forget_bias},
        )


class GRUCell(_Cell):
    """The GRU step: ``z, r = recurrent_activation(...)``, candidate
    ``hh = activation(x W_h + r * (h U_h + b_h))`` (``reset_after``) or
    ``activation(x W_h + (r * h) U_h)``, and ``h_t = z * h_{t-1} + (1 - z) * hh``."""

    _gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, reset_after=True,
                 seed=None, **kwargs):  # fmt: skip
        super().__init__(
            units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, **kwargs,
        )  # fmt: skip
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = reset_after
        if self.recurrent_dropout != 0.0:
            self.implementation = 1
        if self.implementation == 1:
            self.dropout_mask_count = 3

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def biases(self):
        """(input bias, recurrent bias), each (3 * units,) or None."""
        if self.bias is None:
            return None, None
        if self.reset_after:
            return self.bias[0], self.bias[1]
        return self.bias, None

    def call(self, inputs, states, training=False):
        h = _first(states)
        u, act, ract = self.units, self.activation, self.recurrent_activation
        ib, rb = self.biases()
        K, RK = self.kernel, self.recurrent_kernel
        if self.implementation == 1:
            dp = self.get_dropout_mask(inputs) if training else None
            rdp = self.get_recurrent_dropout_mask(h) if training else None
            xs = [_dropped(training, self.dropout, inputs, None if dp is None else dp[k])
                  for k in range(3)]  # fmt: skip
            hs = [_dropped(training, self.recurrent_dropout, h, None if rdp is None else rdp[k])
                  for k in range(3)]  # fmt: skip
            x = [tf.matmul(xs[k], K[:, k * u : (k + 1) * u]) for k in range(3)]
            if ib is not None:
                x = [x[k] + ib[k * u : (k + 1) * u] for k in range(3)]
            rz = tf.matmul(hs[0], RK[:, :u])
            rr = tf.matmul(hs[1], RK[:, u : 2 * u])
            if self.reset_after and rb is not None:
                rz, rr = rz + rb[:u], rr + rb[u : 2 * u]
            z, r = ract(x[0] + rz), ract(x[1] + rr)
            if self.reset_after:
                rh = tf.matmul(hs[2], RK[:, 2 * u :])
                if rb is not None:
                    rh = rh + rb[2 * u :]
                rh = r * rh
            else:
                rh = tf.matmul(r * hs[2], RK[:, 2 * u :])
            hh = act(x[2] + rh)
        else:
            dp = self.get_dropout_mask(inputs) if training else None
            xm = tf.matmul(_dropped(training, self.dropout, inputs, dp), K)
            if ib is not None:
                xm = xm + ib
            xz, xr, xh = tf.split(xm, 3, axis=-1)
            if self.reset_after:
                inner = tf.matmul(h, RK)
                if rb is not None:
                    inner = inner + rb
                rz, rr, rh = tf.split(inner, 3, axis=-1)
            else:
                rz, rr = tf.split(tf.matmul(h, RK[:, : 2 * u]), 2, axis=-1)
            z, r = ract(xz + rz), ract(xr + rr)
            rh = r * rh if self.reset_after else tf.matmul(r * h, RK[:, 2 * u :])
            hh = act(xh + rh)
        h = z * h + (1 - z) * hh
        return h, [h] if isinstance(states, (list, tuple)) else h

    def get_config(self):
        return self._config(
            first={"recurrent_activation": activations.serialize(self.recurrent_activation)},
            reset_after=self.reset_after,
        )


def _output_dim(cell):
    size = getattr(cell, "output_size", None)
    if size is not None:
        return size
    s = cell.state_size
    return s[0] if isinstance(s, (list, tuple)) else s


class StackedRNNCells(SpecLayer):
    """Cells applied one after the other at each time step: the output of one is the input
    of the next; the state is the list of the cells' states."""

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if "call" not in dir(cell):
                raise ValueError(
                    f"StackedRNNCells: All cells must have a `call` method. Received cell "
                    f"without a `call` method: {cell}"
                )
            if "state_size" not in dir(cell):
                raise ValueError(
                    f"StackedRNNCells: All cells must have a `state_size` attribute. Received "
                    f"cell without a `state_size`: {cell}"
                )
        self.cells = list(cells)

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        return _output_dim(self.cells[-1])

    def get_initial_state(self, batch_size=None):
        out = []
        for cell in self.cells:
            fn = getattr(cell, "get_initial_state", None)
            if fn is not None:
                out.append(fn(batch_size=batch_size))
            else:
                sizes = cell.state_size
                one = isinstance(sizes, int)
                zs = [_zeros(batch_size, d, self._dtype) for d in ([sizes] if one else sizes)]
                out.append(zs[0] if one else zs)
        return out

    def call(self, inputs, states, training=False, **kwargs):
        new_states = []
        for cell, st in zip(self.cells, states):
            was_list = nest.is_nested(st)
            st = list(st) if was_list else [st]
            if isinstance(cell, Layer) and cell._call_has_training:
                kwargs["training"] = training
            else:
                kwargs.pop("training", None)
            inputs, st = cell(inputs, st, **kwargs)
            if not nest.is_nested(st):
                st = [st]
            if len(st) == 1 and not was_list:
                st = st[0]
            new_states.append(st)
        if len(new_states) == 1:
            new_states = new_states[0]
        return inputs, new_states

    def build(self, input_shape):
        shape = tf.TensorShape(input_shape).as_list()
        for cell in self.cells:
            build_sublayer(cell, tf.TensorShape(shape))
            shape = [shape[0], _output_dim(cell)]
        self.built = True

    def get_config(self):
        from rill.keras.saving.serialization_lib import serialize_keras_object

        return {**super().get_config(), "cells": [serialize_keras_object(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from rill.keras.saving.serialization_lib import deserialize_keras_object

        config = dict(config)
        cells = [deserialize_keras_object(c, custom_objects=custom_objects)
                 for c in config.pop("cells")]  # fmt: skip
        return cls(cells, **config)


def build_sublayer(layer, shape):
    """Build a cell (or a wrapped layer) its owner builds directly, recording the shape as
    its build_config as Keras does."""
    if not isinstance(layer, Layer):
        return
    if getattr(layer, "_build_input_shape", None) is None:
        layer._build_input_shape = shape
    if not layer.built:
        layer.build(shape)
        layer.built = True


def _zeros(batch_size, d, dtype):
    if tf.is_tensor(batch_size):  # (batch, d), the batch known at run time only
        return tf.ensure_shape(tf.zeros(tf.stack([batch_size, d]), dtype=dtype), [None, d])
    return tf.zeros((batch_size, d), dtype=dtype)
