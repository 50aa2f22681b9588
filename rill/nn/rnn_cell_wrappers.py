"""``tf.nn.RNNCellDropoutWrapper``, ``RNNCellResidualWrapper`` and
``RNNCellDeviceWrapper``: the Keras 2 RNN cell wrappers TF 2 still exports. Each is a
Keras layer around a cell (``cell(inputs, state) -> (output, new_state)``) with the
cell's ``state_size`` and ``output_size``, usable inside ``keras.layers.RNN``.

As in TF, the dropout wrapper always drops (it has no ``training`` switch): a keep
probability of 1 turns a part off. With ``variational_recurrent=True`` one noise
tensor per part is drawn at construction, so every time step drops the same units.
"""

from __future__ import annotations

import hashlib
import numbers

from rill.core import nest
from rill.keras.layer import Layer

__all__ = ["RNNCellDeviceWrapper", "RNNCellDropoutWrapper", "RNNCellResidualWrapper"]


class _RNNCellWrapper(Layer):
    """What the wrappers share: the wrapped cell, its sizes, building and config."""

    def __init__(self, cell, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cell = cell

    @property
    def wrapped_cell(self):
        """The cell inside the wrapper."""
        return self.cell

    @property
    def state_size(self):
        return self.cell.state_size

    @property
    def output_size(self):
        return self.cell.output_size

    def build(self, inputs_shape):
        if not getattr(self.cell, "built", True):
            self.cell.build(inputs_shape)
        self.built = True

    def call(self, inputs, state, **kwargs):
        """One step of the wrapped cell, with the wrapper's transformation."""
        return self._call_wrapped_cell(inputs, state, self._cell_call, **kwargs)

    def _cell_call(self, inputs, state, **kwargs):
        if not getattr(self.cell, "_call_has_training", True):
            kwargs.pop("training", None)
        return self.cell(inputs, state, **kwargs)

    def get_initial_state(self, batch_size=None):
        return self.cell.get_initial_state(batch_size=batch_size)

    def zero_state(self, batch_size, dtype):
        """The cell's zero state (TF 1's ``RNNCell.zero_state``)."""
        fn = getattr(self.cell, "zero_state", None)
        if fn is not None:
            return fn(batch_size, dtype)
        return self.cell.get_initial_state(batch_size=batch_size)

    def get_config(self):
        config = super().get_config()
        config["cell"] = {
            "class_name": type(self.cell).__name__,
            "config": self.cell.get_config(),
        }
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from rill.keras.layers import deserialize

        config = dict(config)
        cell = deserialize(config.pop("cell"), custom_objects=custom_objects)
        return cls(cell, **config)


def _enumerated_map(fn, *structures):
    """Map ``fn(i, *leaves)`` over the flattened leaves of equally nested structures."""
    flat = [nest.flatten(s) for s in structures]
    out = [fn(i, *leaves) for i, leaves in enumerate(zip(*flat))]
    return nest.pack_sequence_as(structures[0], out)


class _DropoutWrapperBase(_RNNCellWrapper):
    """Dropout on a cell's inputs, state and outputs, each kept with its probability."""

    def __init__(
        self,
        cell,
        input_keep_prob=1.0,
        output_keep_prob=1.0,
        state_keep_prob=1.0,
        variational_recurrent=False,
        input_size=None,
        dtype=None,
        seed=None,
        dropout_state_filter_visitor=None,
        **kwargs,
    ):
        import rill as tf

        super().__init__(cell, dtype=dtype, **kwargs)
        if dropout_state_filter_visitor is not None and not callable(dropout_state_filter_visitor):
            raise TypeError("dropout_state_filter_visitor must be callable")
        self._dropout_state_filter = dropout_state_filter_visitor
        for prob, attr in (
            (input_keep_prob, "input_keep_prob"),
            (state_keep_prob, "state_keep_prob"),
            (output_keep_prob, "output_keep_prob"),
        ):
            value = tf.get_static_value(tf.convert_to_tensor(prob))
            if value is not None:
                if value < 0 or value > 1:
                    raise ValueError(f"Parameter {attr} must be between 0 and 1: {value}")
                setattr(self, f"_{attr}", float(value))
            else:
                setattr(self, f"_{attr}", prob)
        self._variational_recurrent = variational_recurrent
        self._input_size = input_size
        self._seed = seed
        self._recurrent_input_noise = None
        self._recurrent_state_noise = None
        self._recurrent_output_noise = None
        if variational_recurrent:
            if dtype is None:
                raise ValueError("When variational_recurrent=True, dtype must be provided")

            def noise(salt):
                def draw(i, size):
                    dims = [1] + tf.TensorShape(size).as_list()
                    return tf.random.uniform(dims, seed=self._gen_seed(salt, i), dtype=dtype)

                return draw

            if not isinstance(self._input_keep_prob, numbers.Real) or self._input_keep_prob < 1:
                if input_size is None:
                    raise ValueError(
                        "When variational_recurrent=True and input_keep_prob < 1.0 or is "
                        "unknown, input_size must be provided"
                    )
                self._recurrent_input_noise = _enumerated_map(noise("input"), input_size)
            self._recurrent_state_noise = _enumerated_map(noise("state"), cell.state_size)
            self._recurrent_output_noise = _enumerated_map(noise("output"), cell.output_size)

    def _gen_seed(self, salt_prefix, index):
        # one reproducible op seed per part and leaf, derived from the user's seed
        if self._seed is None:
            return None
        text = f"{self._seed}{salt_prefix}_{index}".encode()
        return int(hashlib.md5(text).hexdigest()[:8], 16) & 0x7FFFFFFF

    def _dropout(self, values, salt, noise, keep_prob, keep_mask=None):
        import rill as tf

        flat = nest.flatten(values)
        mask = [True] * len(flat) if keep_mask is None else keep_mask
        if not self._variational_recurrent:
            out = [
                tf.nn.dropout(v, rate=1.0 - keep_prob, seed=self._gen_seed(salt, i)) if m else v
                for i, (v, m) in enumerate(zip(flat, mask))
            ]
        else:
            ns = nest.flatten(noise)
            out = [
                (v / keep_prob) * tf.floor(keep_prob + n) if m else v
                for v, m, n in zip(flat, mask, ns)
            ]
        return nest.pack_sequence_as(values, out)

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        def active(p):
            return not isinstance(p, float) or p < 1

        if active(self._input_keep_prob):
            inputs = self._dropout(
                inputs, "input", self._recurrent_input_noise, self._input_keep_prob
            )
        output, new_state = cell_call_fn(inputs, state, **kwargs)
        if active(self._state_keep_prob):
            keep = None
            if self._dropout_state_filter is not None:
                keep = [bool(self._dropout_state_filter(s)) for s in nest.flatten(new_state)]
            new_state = self._dropout(
                new_state, "state", self._recurrent_state_noise, self._state_keep_prob, keep
            )
        if active(self._output_keep_prob):
            output = self._dropout(
                output, "output", self._recurrent_output_noise, self._output_keep_prob
            )
        return output, new_state

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "input_keep_prob": self._input_keep_prob,
                "output_keep_prob": self._output_keep_prob,
                "state_keep_prob": self._state_keep_prob,
                "variational_recurrent": self._variational_recurrent,
                "input_size": self._input_size,
                "seed": self._seed,
            }
        )
        return config


class _ResidualWrapperBase(_RNNCellWrapper):
    """The cell's output plus its input (or ``residual_fn(inputs, outputs)``)."""

    def __init__(self, cell, residual_fn=None, **kwargs):
        super().__init__(cell, **kwargs)
        self._residual_fn = residual_fn

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        outputs, new_state = cell_call_fn(inputs, state, **kwargs)

        def default_residual_fn(inputs, outputs):
            nest.assert_same_structure(inputs, outputs)

            def add(i, o):
                if not i.shape.is_compatible_with(o.shape):
                    raise ValueError(
                        f"RNNCellResidualWrapper: the cell's input shape {i.shape} and output "
                        f"shape {o.shape} must match to be added"
                    )
                return i + o

            return nest.map_structure(add, inputs, outputs)

        fn = self._residual_fn or default_residual_fn
        return fn(inputs, outputs), new_state


class _DeviceWrapperBase(_RNNCellWrapper):
    """The cell run under ``tf.device(device)``."""

    def __init__(self, cell, device, **kwargs):
        super().__init__(cell, **kwargs)
        self._device = device

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        import rill as tf

        with tf.device(self._device):
            return cell_call_fn(inputs, state, **kwargs)

    def zero_state(self, batch_size, dtype):
        import rill as tf

        with tf.device(self._device):
            return super().zero_state(batch_size, dtype)

    def get_config(self):
        config = super().get_config()
        config["device"] = self._device
        return config


class RNNCellDropoutWrapper(_DropoutWrapperBase):
    """Dropout on a cell's inputs, state and outputs, each kept with its probability."""

    def __init__(self, *args, **kwargs):
        # TF's signature: the arguments are those of the base class above
        super().__init__(*args, **kwargs)


class RNNCellResidualWrapper(_ResidualWrapperBase):
    """The cell's output plus its input (or ``residual_fn(inputs, outputs)``)."""

    def __init__(self, *args, **kwargs):
        # TF's signature: the arguments are those of the base class above
        super().__init__(*args, **kwargs)


class RNNCellDeviceWrapper(_DeviceWrapperBase):
    """The cell run under ``tf.device(device)``."""

    def __init__(self, *args, **kwargs):
        # TF's signature: the arguments are those of the base class above
        super().__init__(*args, **kwargs)
