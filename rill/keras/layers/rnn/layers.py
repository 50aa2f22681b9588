"""``RNN`` (any cell over a sequence) and the built-in recurrent layers ``SimpleRNN``,
``LSTM`` and ``GRU`` (an ``RNN`` of their cell, whose weights they own as ``cell``).

A built-in layer with the standard activations (tanh, sigmoid) runs its whole sequence
through ``fused``: one matmul projects the inputs of every time step, then a scan does
one small matmul per step, with a hand-written backward pass. Any other configuration
(another activation, recurrent dropout while training, ``unroll``, a user cell) runs the
cell step by step through the generic loop (``loop.rnn_loop``). Both give Keras 3's
results: same masking, same dropout masks per sequence, same states.
"""

from __future__ import annotations

import rill as tf
import rill.keras.layers.conv_utils as cu
from rill.core import nest
from rill.keras import activations, constraints, initializers, regularizers
from rill.keras.layer import Layer
from rill.keras.layers.input_spec import InputSpec, SpecLayer
from rill.keras.layers.rnn.cells import (
    DropoutRNNCell,
    GRUCell,
    LSTMCell,
    SimpleRNNCell,
    StackedRNNCells,
    _output_dim,
    _units,
    _zeros,
    build_sublayer,
)
from rill.keras.layers.rnn.fused import (
    gru_sequence,
    lstm_sequence,
    project,
    simple_rnn_sequence,
)
from rill.keras.layers.rnn.loop import rnn_loop, time_major

__all__ = ["RNN", "SimpleRNN", "LSTM", "GRU"]

_TANH = (activations.tanh, tf.tanh, tf.math.tanh, tf.nn.tanh)
_SIGMOID = (activations.sigmoid, tf.sigmoid, tf.math.sigmoid, tf.nn.sigmoid)


def _is(fn, options):
    return any(fn is o for o in options)


class RNN(SpecLayer):
    """Run ``cell`` (or a list of cells, stacked) over the time axis of (batch, time, ...)
    inputs. ``call(sequences, initial_state=None, mask=None, training=None)``."""

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if "call" not in dir(cell):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: cell={cell}")
        if "state_size" not in dir(cell):
            raise ValueError(
                "The RNN cell should have a `state_size` attribute (single integer or list of "
                f"integers, one integer per RNN state). Received: cell={cell}"
            )
        super().__init__(**kwargs)
        self.zero_output_for_mask = zero_output_for_mask
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.supports_masking = True
        object.__setattr__(self, "states", None)  # stateful: untracked, as in Keras
        self._expected_batch_size = None
        size = getattr(cell, "state_size", None)
        if size is None:
            raise ValueError("state_size must be specified as property on the RNN cell.")
        if not isinstance(size, (list, tuple, int)):
            raise ValueError(
                "state_size must be an integer, or a list/tuple of integers (one for each "
                "state tensor)."
            )
        self.single_state = isinstance(size, int)

    @property
    def state_size(self):
        s = self.cell.state_size
        return [s] if isinstance(s, int) else list(s)

    # calling ------------------------------------------------------------------------------
    def build(self, sequences_shape, initial_state_shape=None):
        shape = tf.TensorShape(sequences_shape).as_list()
        step_shape = tf.TensorShape([shape[0], *shape[2:]])
        build_sublayer(self.cell, step_shape)
        if self.stateful:
            if self.states is not None:
                self.reset_state()
            else:
                if shape[0] is None:
                    raise ValueError(
                        "When using `stateful=True` in a RNN, the batch size must be static. "
                        f"Found dynamic batch size: sequence.shape={tuple(shape)}"
                    )
                self._create_state_variables(shape[0])
                self._expected_batch_size = shape[0]
        self.built = True

    def _create_state_variables(self, batch_size):
        with tf.init_scope():
            init = self.get_initial_state(batch_size)
            states = nest.map_structure(
                lambda v: tf.Variable(v, trainable=False, name=f"{self.name}/rnn_state"), init
            )
        object.__setattr__(self, "states", states)

    def get_initial_state(self, batch_size):
        fn = getattr(self.cell, "get_initial_state", None)
        if fn is None:
            return [_zeros(batch_size, d, self._dtype) for d in self.state_size]
        init = fn(batch_size=batch_size)
        return list(init) if nest.is_nested(init) else [init]

    def reset_state(self, states=None):
        """Zero the states of a stateful layer (or set them to ``states``)."""
        if self.states is None:
            return
        flat = nest.flatten(self.states)
        values = [None] * len(flat) if states is None else nest.flatten(states)
        if len(values) != len(flat):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: expected {len(flat)} states, got "
                f"{len(values)}."
            )
        for v, value in zip(flat, values):
            v.assign(tf.zeros_like(v) if value is None else tf.cast(value, v.dtype))

    def reset_states(self, states=None):
        self.reset_state(states)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        who = cu.owner(self)
        if sequences.dtype.is_floating and sequences.dtype.name != self._dtype:
            sequences = tf.cast(sequences, self._dtype)
        if self.unroll and sequences.shape[1] is None:
            raise ValueError(
                f"{who}: Cannot unroll a RNN if the time dimension is undefined (input shape "
                f"{sequences.shape}). Specify the time dimension in the `Input()` shape."
            )
        if nest.is_nested(mask):
            mask = nest.flatten(mask)[0]
        if initial_state is None:
            if self.stateful:
                initial_state = nest.map_structure(tf.convert_to_tensor, self.states)
            else:
                initial_state = self.get_initial_state(tf.shape(sequences)[0])
        elif self.stateful and self._expected_batch_size is not None:
            got = sequences.shape[0]
            if got is not None and got != self._expected_batch_size:
                raise ValueError(
                    f"{who}: If an RNN is stateful, the batch size of the input sequences must "
                    f"be the same as the batch size of the initial state.\n- Expected batch "
                    f"size: {self._expected_batch_size}\n- Received batch size: {got}"
                )
        if not nest.is_nested(initial_state):
            initial_state = [initial_state]
        initial_state = nest.map_structure(
            lambda s: tf.cast(tf.convert_to_tensor(s), self._dtype), list(initial_state)
        )
        self._check_states(initial_state, who)
        try:
            fused_out = self._run_fused(sequences, initial_state, mask, training)
            if fused_out is not None:
                last, outputs, states = fused_out
            else:
                self._config_dropout_masks(self.cell, sequences, initial_state, training)
                last, outputs, states = self._run_cell(sequences, initial_state, mask, training)
        finally:
            self._reset_dropout_masks(self.cell)
        if self.stateful:
            for var, value in zip(nest.flatten(self.states), nest.flatten(states)):
                var.assign(value)
        output = outputs if self.return_sequences else last
        if self.return_state:
            return (output, *states)
        return output

    def _check_states(self, states, who):
        want = self.state_size
        flat = nest.flatten(states)
        if len(flat) != len(nest.flatten(want)):
            raise ValueError(
                f"{who}: expected {len(nest.flatten(want))} initial state tensor(s) (state_size="
                f"{self.cell.state_size}), got {len(flat)} with shapes "
                f"{[tuple(s.shape.as_list()) for s in flat]}."
            )
        for s, d in zip(flat, nest.flatten(want)):
            if isinstance(d, int) and s.shape.rank is not None and s.shape[-1] not in (None, d):
                raise ValueError(
                    f"{who}: an initial state has shape {tuple(s.shape.as_list())}, but the "
                    f"cell's state size is {d} (state_size={self.cell.state_size})."
                )

    def _run_cell(self, sequences, initial_state, mask, training):
        kwargs = {}
        if isinstance(self.cell, Layer) and self.cell._call_has_training:
            kwargs["training"] = training

        def step(x_t, states):
            out, new = self.cell(x_t, states, **kwargs)
            return out, new

        size = getattr(self.cell, "output_size", None)
        return rnn_loop(
            step, sequences, initial_state, go_backwards=self.go_backwards, mask=mask,
            unroll=self.unroll, zero_output_for_mask=self.zero_output_for_mask,
            return_all_outputs=self.return_sequences,
            output_shape=(size,) if isinstance(size, int) else None,
        )  # fmt: skip

    def _config_dropout_masks(self, cell, sequences, states, training):
        """Draw each cell's dropout masks once for the whole sequence (before the loop)."""
        if not training:
            return
        like = sequences[:, 0]
        cells = cell.cells if isinstance(cell, StackedRNNCells) else [cell]
        per_cell = states if isinstance(cell, StackedRNNCells) else [states]
        for c, st in zip(cells, per_cell):
            if isinstance(c, DropoutRNNCell):
                c.get_dropout_mask(like)
                c.get_recurrent_dropout_mask(nest.flatten(st)[0])
            dim = _output_dim(c)
            if isinstance(dim, int):
                like = tf.zeros(tf.stack([tf.shape(sequences)[0], dim]), dtype=sequences.dtype)

    def _reset_dropout_masks(self, cell):
        cells = cell.cells if isinstance(cell, StackedRNNCells) else [cell]
        for c in cells:
            if isinstance(c, DropoutRNNCell):
                c.reset_dropout_mask()
                c.reset_recurrent_dropout_mask()

    # the fused path ---------------------------------------------------------------------------
    def _fused_kind(self, training):
        cell = self.cell
        kind = {LSTMCell: "lstm", GRUCell: "gru", SimpleRNNCell: "simple"}.get(type(cell))
        if kind is None or self.unroll or not _is(cell.activation, _TANH):
            return None
        if kind != "simple" and not _is(cell.recurrent_activation, _SIGMOID):
            return None
        if training and cell.recurrent_dropout > 0:
            return None
        if training and 0 < cell.dropout and getattr(cell, "implementation", 2) == 1:
            return None
        return kind

    def _run_fused(self, sequences, initial_state, mask, training):
        kind = self._fused_kind(training)
        if kind is None or sequences.shape.rank != 3:
            return None
        cell = self.cell
        x = sequences
        if training and 0 < cell.dropout < 1:
            x = x * tf.expand_dims(cell.get_dropout_mask(x[:, 0]), 1)
        xt = time_major(x)
        ms = None
        if mask is not None:
            mask = tf.convert_to_tensor(mask)
            ms = tf.expand_dims(tf.transpose(tf.cast(mask, tf.bool), [1, 0]), -1)
        if self.go_backwards:
            xt = tf.reverse(xt, [0])
            ms = None if ms is None else tf.reverse(ms, [0])
        rk = tf.convert_to_tensor(cell.recurrent_kernel)
        if kind == "lstm":
            h0, c0 = initial_state
            hs, c_last = lstm_sequence(xt, cell.kernel, cell.bias, rk, h0, c0, ms)
        elif kind == "gru":
            ib, rb = cell.biases()
            xp = project(xt, cell.kernel, ib)
            hs = gru_sequence(xp, initial_state[0], rk, rb, ms, cell.reset_after)
        else:
            xp = project(xt, cell.kernel, cell.bias)
            hs = simple_rnn_sequence(xp, initial_state[0], rk, ms)
        h_last = hs[-1]
        ys = hs
        if ms is not None:  # a masked step repeats the previous output (zeros before any)
            if self.zero_output_for_mask:
                keep = ms
            else:
                keep = tf.cumsum(tf.cast(ms, tf.int32), axis=0) > 0
            ys = tf.where(keep, hs, tf.zeros_like(hs))
        states = [h_last, c_last] if kind == "lstm" else [h_last]
        outputs = time_major(ys) if self.return_sequences else None
        return ys[-1], outputs, states

    # shapes, masks, config ----------------------------------------------------------------------
    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        shape = tf.TensorShape(sequences_shape).as_list()
        batch, length = shape[0], shape[1]
        out = _output_dim(self.cell)
        if not isinstance(out, int):
            raise ValueError("output_size must be an integer.")
        main = [batch, length, out] if self.return_sequences else [batch, out]
        main = tf.TensorShape(main)
        if not self.return_state:
            return main
        states = []
        for s in self.state_size:
            if isinstance(s, int):
                states.append(tf.TensorShape([batch, s]))
            else:
                states.append([tf.TensorShape([batch, d]) for d in s])
        return (main, *states)

    def compute_mask(self, inputs, mask=None):
        mask = nest.flatten(mask)[0] if mask is not None else None
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None for _ in self.state_size]
        return out

    def get_config(self):
        from rill.keras.saving.serialization_lib import serialize_keras_object

        return {
            **super().get_config(),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
            "cell": serialize_keras_object(self.cell),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from rill.keras.saving.serialization_lib import deserialize_keras_object

        config = dict(config)
        cell = deserialize_keras_object(config.pop("cell"), custom_objects=custom_objects)
        return cls(cell, **config)


def _delegate(*names):
    """Read-only properties forwarding to the cell (``layer.units`` is ``layer.cell.units``)."""

    def add(cls):
        for n in names:
            setattr(cls, n, property(lambda self, n=n: getattr(self.cell, n)))
        return cls

    return add


_COMMON = (
    "units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
    "bias_initializer", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
    "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
    "recurrent_dropout",
)  # fmt: skip


class _BuiltinRNN(RNN):
    """An RNN of one built-in cell: the cell's arguments are the layer's."""

    _cell_class = None
    _cell_name = None

    def __init__(self, cell_kwargs, rnn_kwargs, kwargs):
        _units(type(self).__name__, cell_kwargs["units"])  # the error names the layer
        cell = self._cell_class(
            **cell_kwargs, dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True),
            name=self._cell_name,
        )  # fmt: skip
        super().__init__(cell, **rnn_kwargs, **kwargs)
        self.input_spec = InputSpec(ndim=3)

    def _use_cudnn(self, use_cudnn):
        if use_cudnn not in ("auto", True, False):
            raise ValueError(
                f"{type(self).__name__}: Invalid valid received for argument `use_cudnn`. "
                f"Expected one of {{'auto', True, False}}. Received: use_cudnn={use_cudnn}"
            )
        self.use_cudnn = use_cudnn

    def _layer_config(self, **extra):
        config = super().get_config()
        del config["cell"]
        config.pop("activity_regularizer", None)
        cell = self.cell
        return {
            **config,
            "units": cell.units,
            "activation": activations.serialize(cell.activation),
            **extra.pop("first", {}),
            "use_bias": cell.use_bias,
            "kernel_initializer": initializers.serialize(cell.kernel_initializer),
            "recurrent_initializer": initializers.serialize(cell.recurrent_initializer),
            "bias_initializer": initializers.serialize(cell.bias_initializer),
            **extra.pop("after_init", {}),
            "kernel_regularizer": regularizers.serialize(cell.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(cell.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(cell.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(cell.kernel_constraint),
            "recurrent_constraint": constraints.serialize(cell.recurrent_constraint),
            "bias_constraint": constraints.serialize(cell.bias_constraint),
            "dropout": cell.dropout,
            "recurrent_dropout": cell.recurrent_dropout,
            **extra,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _rnn_kwargs(return_sequences, return_state, go_backwards, stateful, unroll):
    return dict(return_sequences=return_sequences, return_state=return_state,
                go_backwards=go_backwards, stateful=stateful, unroll=unroll)  # fmt: skip


@_delegate(*_COMMON)
class SimpleRNN(_BuiltinRNN):
    """A fully connected RNN: ``h_t = activation(x_t W + h_{t-1} U + b)``."""

    _cell_class = SimpleRNNCell
    _cell_name = "simple_rnn_cell"

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, seed=None,
                 **kwargs):  # fmt: skip
        # As Keras 3.15: SimpleRNN takes `activity_regularizer` but does not apply it.
        cell_kwargs = dict(
            units=units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed,
        )  # fmt: skip
        rnn = _rnn_kwargs(return_sequences, return_state, go_backwards, stateful, unroll)
        super().__init__(cell_kwargs, rnn, kwargs)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    def get_config(self):
        return self._layer_config()


@_delegate(*_COMMON, "recurrent_activation", "unit_forget_bias")
class LSTM(_BuiltinRNN):
    """Long Short-Term Memory (Hochreiter and Schmidhuber, 1997), Keras 3's weights."""

    _cell_class = LSTMCell
    _cell_name = "lstm_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 use_cudnn="auto", **kwargs):  # fmt: skip
        cell_kwargs = dict(
            units=units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            unit_forget_bias=unit_forget_bias, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed,
            implementation=kwargs.pop("implementation", 2),
        )  # fmt: skip
        rnn = _rnn_kwargs(return_sequences, return_state, go_backwards, stateful, unroll)
        super().__init__(cell_kwargs, {**rnn, "activity_regularizer": activity_regularizer},
                         kwargs)  # fmt: skip
        self._use_cudnn(use_cudnn)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    def get_config(self):
        return self._layer_config(
            first={"recurrent_activation": activations.serialize(self.cell.recurrent_activation)},
            after_init={"unit_forget_bias": self.cell.unit_forget_bias},
            seed=self.cell.seed,
        )


@_delegate(*_COMMON, "recurrent_activation", "reset_after")
class GRU(_BuiltinRNN):
    """Gated Recurrent Unit (Cho et al., 2014); ``reset_after=True`` is the cuDNN-compatible
    variant (Keras' default), with a (2, 3 * units) bias."""

    _cell_class = GRUCell
    _cell_name = "gru_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, reset_after=True,
                 use_cudnn="auto", **kwargs):  # fmt: skip
        cell_kwargs = dict(
            units=units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, reset_after=reset_after,
            seed=seed, implementation=kwargs.pop("implementation", 2),
        )  # fmt: skip
        rnn = _rnn_kwargs(return_sequences, return_state, go_backwards, stateful, unroll)
        super().__init__(cell_kwargs, {**rnn, "activity_regularizer": activity_regularizer},
                         kwargs)  # fmt: skip
        self._use_cudnn(use_cudnn)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    def get_config(self):
        return self._layer_config(
            first={"recurrent_activation": activations.serialize(self.cell.recurrent_activation)},
            reset_after=self.cell.reset_after,
            seed=self.cell.seed,
        )
