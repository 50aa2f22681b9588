"""Convolutional LSTMs (Shi et al., 2015): ``ConvLSTM1D``, ``ConvLSTM2D``, ``ConvLSTM3D``.

An LSTM whose input and recurrent transforms are convolutions: the kernel is
``(*kernel_size, channels, 4 * filters)``, the recurrent kernel ``(*kernel_size,
filters, 4 * filters)`` (a stride-1 "same" convolution of the state), gates i, f, c, o as
in Keras. The input convolution of every time step is computed at once (time folded into
the batch), so the time loop (one graph loop while tracing) does only the recurrent
convolution. ``channels_first`` inputs are transposed to channels-last and back.
"""

from __future__ import annotations

import rill as tf
import rill.keras.layers.conv_utils as cu
from rill.keras import activations, constraints, initializers, regularizers
from rill.keras.layers.input_spec import InputSpec, SpecLayer
from rill.keras.layers.rnn.cells import DropoutRNNCell, _rate
from rill.keras.layers.rnn.layers import RNN
from rill.keras.layers.rnn.loop import rnn_loop

__all__ = ["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"]


def conv(x, kernel, strides, dilation, padding):
    """Channels-last convolution (``tf.nn.convolution``)."""
    return tf.nn.convolution(x, kernel, strides=list(strides), padding=padding.upper(),
                             dilations=list(dilation))  # fmt: skip


class ConvLSTMCell(SpecLayer, DropoutRNNCell):
    """One step of a convolutional LSTM over channels-last (batch, *spatial, channels)."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        who = f"ConvLSTM{rank}D"
        self.rank = rank
        self.seed = seed
        self.filters = cu.positive_int(filters, "filters", who)
        self.kernel_size = cu.normalize_tuple(kernel_size, rank, "kernel_size", who=who)
        self.strides = cu.normalize_tuple(strides, rank, "strides", who=who)
        self.padding = cu.normalize_padding(padding, ("valid", "same"), who)
        self.data_format = cu.normalize_data_format(data_format, who)
        self.dilation_rate = cu.normalize_tuple(dilation_rate, rank, "dilation_rate", who=who)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{who}: Specifying `strides > 1` is not compatible with `dilation_rate > 1`. "
                f"Please provide `strides=1` or `dilation_rate=1`. Received: "
                f"strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = unit_forget_bias
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _rate(dropout)
        self.recurrent_dropout = _rate(recurrent_dropout)
        self.dropout_mask_count = 4
        self.state_size = [self.filters, self.filters]
        self.output_size = None

    def build(self, inputs_shape, states_shape=None):
        d = cu.dims(inputs_shape)
        first = self.data_format == "channels_first"
        self.spatial_dims = tuple(d[2:] if first else d[1:-1])
        who = cu.owner(self)
        if None in self.spatial_dims:
            raise ValueError(
                f"{who}: ConvLSTM layers only support static input shapes for the spatial "
                f"dimension. Received invalid input shape: input_shape={tuple(d)}"
            )
        c = d[1] if first else d[-1]
        if c is None:
            raise ValueError(
                f"{who}: The channel dimension of the inputs (last axis) should be defined. "
                f"Found None. Full input shape received: input_shape={tuple(d)}"
            )
        self.input_dim = c
        f4 = 4 * self.filters
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, c, f4), name="kernel", initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )  # fmt: skip
        self.recurrent_kernel = self.add_weight(
            shape=(*self.kernel_size, self.filters, f4), name="recurrent_kernel",
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )  # fmt: skip
        self.bias = None
        if self.use_bias:
            base, f = self.bias_initializer, self.filters

            def forget_one(shape, dtype=None):
                return tf.concat([base((f,), dtype=dtype), tf.ones((f,), dtype=dtype or "float32"),
                                  base((2 * f,), dtype=dtype)], 0)  # fmt: skip

            self.bias = self.add_weight(
                shape=(f4,), name="bias",
                initializer=forget_one if self.unit_forget_bias else self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )  # fmt: skip
        self.built = True

    def out_spatial(self):
        return [cu.conv_output_length(n, k, self.padding, s, dl) for n, k, s, dl in
                zip(self.spatial_dims, self.kernel_size, self.strides, self.dilation_rate)]  # fmt: skip

    def get_initial_state(self, batch_size=None):
        shape = [*self.out_spatial(), self.filters]
        if tf.is_tensor(batch_size):
            full = tf.concat([tf.reshape(batch_size, [1]), tf.constant(shape, tf.int32)], 0)
            z = tf.ensure_shape(tf.zeros(full, dtype=self._dtype), [None, *shape])
        else:
            z = tf.zeros((batch_size, *shape), dtype=self._dtype)
        z = cu.to_channels_first(z, self.data_format)
        return [z, z]

    def input_transform(self, x, masks):
        """The input convolution of channels-last ``x`` (n, *spatial, c), per gate with its
        dropout mask when ``masks`` are given: (n, *out, 4 * filters)."""
        k = self.kernel
        if masks is None:
            y = conv(x, k, self.strides, self.dilation_rate, self.padding)
        else:
            ks = tf.split(k, 4, axis=-1)
            y = tf.concat([conv(x * m, kk, self.strides, self.dilation_rate, self.padding)
                           for m, kk in zip(masks, ks)], -1)  # fmt: skip
        return y if self.bias is None else y + self.bias

    def recurrent_step(self, xc, states, rmasks=None):
        """One step from the precomputed input convolution ``xc`` (channels-last)."""
        h, c = states
        one = (1,) * self.rank
        rk = self.recurrent_kernel
        if rmasks is None:
            z = xc + conv(h, rk, one, one, "same")
        else:
            rks = tf.split(rk, 4, axis=-1)
            z = xc + tf.concat(
                [conv(h * m, kk, one, one, "same") for m, kk in zip(rmasks, rks)], -1
            )
        zi, zf, zc, zo = tf.split(z, 4, axis=-1)
        ract = self.recurrent_activation
        c = ract(zf) * c + ract(zi) * self.activation(zc)
        h = ract(zo) * self.activation(c)
        return h, [h, c]

    def call(self, inputs, states, training=False):
        x = cu.to_channels_last(inputs, self.data_format)
        st = [cu.to_channels_last(s, self.data_format) for s in states]
        masks = self.get_dropout_mask(x) if training and 0 < self.dropout < 1 else None
        rmasks = (self.get_recurrent_dropout_mask(st[0])
                  if training and 0 < self.recurrent_dropout < 1 else None)  # fmt: skip
        h, (h, c) = self.recurrent_step(self.input_transform(x, masks), st, rmasks)
        h, c = (cu.to_channels_first(t, self.data_format) for t in (h, c))
        return h, [h, c]

    def get_config(self):
        return {
            **super().get_config(),
            **_conv_lstm_args(self),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }


def _conv_lstm_args(cell):
    return {
        "filters": cell.filters,
        "kernel_size": cell.kernel_size,
        "strides": cell.strides,
        "padding": cell.padding,
        "data_format": cell.data_format,
        "dilation_rate": cell.dilation_rate,
        "activation": activations.serialize(cell.activation),
        "recurrent_activation": activations.serialize(cell.recurrent_activation),
        "use_bias": cell.use_bias,
        "kernel_initializer": initializers.serialize(cell.kernel_initializer),
        "recurrent_initializer": initializers.serialize(cell.recurrent_initializer),
        "bias_initializer": initializers.serialize(cell.bias_initializer),
        "unit_forget_bias": cell.unit_forget_bias,
    }


class ConvLSTM(RNN):
    """The shared layer: an RNN of a ``ConvLSTMCell`` over (batch, time, *spatial, channels)
    (or channels-first) inputs."""

    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, **kwargs):  # fmt: skip
        cell = ConvLSTMCell(
            rank=self.rank, filters=filters, kernel_size=kernel_size, strides=strides,
            padding=padding, data_format=data_format, dilation_rate=dilation_rate,
            activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
            name="conv_lstm_cell", dtype=kwargs.get("dtype"),
        )  # fmt: skip
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful,
                         activity_regularizer=activity_regularizer, **kwargs)  # fmt: skip
        self.input_spec = InputSpec(ndim=self.rank + 3)

    def _check_states(self, states, who):
        if len(states) != 2:
            raise ValueError(
                f"{who}: expected 2 initial state tensors (h and c), got {len(states)}."
            )

    def _run_cell(self, sequences, initial_state, mask, training):
        cell = self.cell
        x = sequences
        if cell.data_format == "channels_first":  # (b, t, c, *s) -> (b, t, *s, c)
            x = tf.transpose(x, [0, 1, *range(3, x.shape.rank), 2])
            initial_state = [cu.to_channels_last(s, "channels_first") for s in initial_state]
        masks = rmasks = None
        if training and 0 < cell.dropout < 1:
            masks = [tf.expand_dims(m, 1) for m in cell.get_dropout_mask(x[:, 0])]
        if training and 0 < cell.recurrent_dropout < 1:
            rmasks = cell.get_recurrent_dropout_mask(initial_state[0])
        # every step's input convolution at once: time folded into the batch
        head = tf.shape(x)[:2]
        flat = tf.reshape(x, tf.concat([[-1], tf.shape(x)[2:]], 0))
        if masks is not None:  # each sequence's masks, the same at every step
            masks = [tf.reshape(tf.broadcast_to(m, tf.shape(x)), tf.shape(flat)) for m in masks]
        xc = cell.input_transform(flat, masks)
        out_shape = [*cell.out_spatial(), 4 * cell.filters]
        xc = tf.reshape(xc, tf.concat([head, tf.constant(out_shape, tf.int32)], 0))
        xc = tf.ensure_shape(xc, [x.shape[0], x.shape[1], *out_shape])

        def step(xc_t, states):
            return cell.recurrent_step(xc_t, states, rmasks)

        last, outputs, states = rnn_loop(
            step, xc, list(initial_state), go_backwards=self.go_backwards, mask=mask,
            zero_output_for_mask=self.zero_output_for_mask,
            return_all_outputs=self.return_sequences,
            output_shape=(*cell.out_spatial(), cell.filters),
        )  # fmt: skip
        if cell.data_format == "channels_first":
            last = cu.to_channels_first(last, "channels_first")
            states = [cu.to_channels_first(s, "channels_first") for s in states]
            if outputs is not None:
                r = outputs.shape.rank
                outputs = tf.transpose(outputs, [0, 1, r - 1, *range(2, r - 1)])
        return last, outputs, states

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        d = cu.dims(sequences_shape)
        if not self.cell.built:
            self.cell.build([d[0], *d[2:]])
        state = [*self.cell.out_spatial(), self.cell.filters]
        if self.cell.data_format == "channels_first":
            state = [state[-1], *state[:-1]]
        out = tf.TensorShape([d[0], d[1], *state] if self.return_sequences else [d[0], *state])
        if self.return_state:
            s = tf.TensorShape([d[0], *state])
            return (out, s, s)
        return out

    def get_config(self):
        config = RNN.get_config(self)
        del config["cell"]
        config.pop("activity_regularizer", None)
        cell = self.cell
        return {
            **config,
            **_conv_lstm_args(cell),
            "kernel_regularizer": regularizers.serialize(cell.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(cell.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(cell.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(cell.kernel_constraint),
            "recurrent_constraint": constraints.serialize(cell.recurrent_constraint),
            "bias_constraint": constraints.serialize(cell.bias_constraint),
            "dropout": cell.dropout,
            "recurrent_dropout": cell.recurrent_dropout,
            "seed": cell.seed,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


for _name in ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
              "activation", "recurrent_activation", "use_bias", "kernel_initializer",
              "recurrent_initializer", "bias_initializer", "unit_forget_bias",
              "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
              "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
              "recurrent_dropout"):  # fmt: skip
    setattr(ConvLSTM, _name, property(lambda self, n=_name: getattr(self.cell, n)))


class ConvLSTM1D(ConvLSTM):
    """Convolutional LSTM over (batch, time, steps, channels) sequences."""

    rank = 1


class ConvLSTM2D(ConvLSTM):
    """Convolutional LSTM over (batch, time, rows, cols, channels) sequences."""

    rank = 2


class ConvLSTM3D(ConvLSTM):
    """Convolutional LSTM over (batch, time, depth, rows, cols, channels) sequences."""

    rank = 3
