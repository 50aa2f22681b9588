"""Layer wrappers: ``Wrapper`` (the base), ``TimeDistributed`` (a layer applied to every
time step) and ``Bidirectional`` (an RNN run forwards and backwards, outputs merged).

``TimeDistributed`` runs a layer that treats every example independently (Dense,
convolutions, pooling, activations, ...) once on the batch and time axes folded together;
any other layer (BatchNormalization, whose training statistics are per call, or a user
layer) is called once per time step as Keras does: a Python loop for a known number of
steps, a ``map_fn`` (one graph loop) while tracing an unknown one.
"""

from __future__ import annotations

import rill as tf
import rill.keras.layers.conv_utils as cu
from rill.keras.layer import Layer
from rill.keras.layers.input_spec import SpecLayer
from rill.keras.layers.rnn.cells import build_sublayer

__all__ = ["Wrapper", "TimeDistributed", "Bidirectional"]


def _serialize(obj):
    from rill.keras.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(obj)


def _deserialize(config, custom_objects=None):
    from rill.keras.saving.serialization_lib import deserialize_keras_object

    return deserialize_keras_object(config, custom_objects=custom_objects)


class Wrapper(SpecLayer):
    """A layer that wraps another one (``layer``), which it builds and serializes."""

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"{type(self).__name__}: Layer {layer} supplied to Wrapper isn't a supported "
                "layer type. Please ensure wrapped layer is a valid Keras layer."
            )
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        build_sublayer(self.layer, input_shape)
        self.built = True

    def get_config(self):
        return {**super().get_config(), "layer": _serialize(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer = _deserialize(config.pop("layer"), custom_objects)
        return cls(layer, **config)


def _per_example_classes():
    """Built-in layers that act on each example alone: folding time into the batch gives
    exactly the per-step results."""
    from rill.keras.layers import activations as act
    from rill.keras.layers import convolutional, core, einsum_dense, embedding, pooling, reshaping
    from rill.keras.layers import normalization as norm

    return (
        core.Dense, core.Activation, core.Flatten, core.Reshape, convolutional.BaseConv,
        pooling.BasePooling, pooling.BaseGlobalPooling, pooling.BaseAdaptivePooling,
        einsum_dense.EinsumDense, einsum_dense.Identity, embedding.Embedding,
        norm.LayerNormalization, norm.RMSNormalization, norm.UnitNormalization,
        act._Elementwise, reshaping.Permute, reshaping.RepeatVector,
    )  # fmt: skip


class TimeDistributed(Wrapper):
    """Apply ``layer`` to every temporal slice of (batch, time, ...) inputs."""

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                "Please initialize `TimeDistributed` layer with a `keras.layers.Layer` "
                f"instance. Received: {layer}"
            )
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def _child_shape(self, input_shape):
        dims = cu.dims(input_shape)
        if dims is None or len(dims) < 3:
            raise ValueError(
                "`TimeDistributed` Layer should be passed an `input_shape` with at least 3 "
                f"dimensions, received: {None if dims is None else tuple(dims)}"
            )
        return tf.TensorShape([dims[0], *dims[2:]])

    def build(self, input_shape):
        super().build(self._child_shape(input_shape))

    def compute_output_shape(self, input_shape):
        dims = cu.dims(input_shape)
        child = tf.TensorShape(self.layer.compute_output_shape(self._child_shape(input_shape)))
        return tf.TensorShape([child[0], dims[1], *child.as_list()[1:]])

    def call(self, inputs, training=None, mask=None):
        if mask is not None:
            mask = tf.convert_to_tensor(mask)
            ms, xs = mask.shape.as_list(), inputs.shape.as_list()
            if len(ms) < 2:
                raise ValueError(
                    "The `mask` passed to the `TimeDistributed` layer must be at least 2D (e.g., "
                    f"`(batch_size, timesteps)`), but it has {len(ms)} dimension(s) with shape "
                    f"{tuple(ms)}."
                )
            if any(a is not None and b is not None and a != b for a, b in zip(xs[:2], ms[:2])):
                raise ValueError(
                    f"The `mask` passed to the `TimeDistributed` layer has a shape {tuple(ms)} "
                    f"that is incompatible with the input shape {tuple(xs)}. The first two "
                    "dimensions of the mask (batch size and timesteps) must match the input's "
                    f"first two dimensions. Expected mask shape prefix: ({xs[0]}, {xs[1]})."
                )
        layer = self.layer

        def kwargs_for(m):
            kw = {}
            if layer._call_has_mask and m is not None:
                kw["mask"] = m
            if layer._call_has_training:
                kw["training"] = training
            return kw

        if isinstance(layer, _per_example_classes()):
            flat = tf.reshape(inputs, cu.with_tail([-1], inputs.shape.as_list()[2:]))
            fm = (
                None
                if mask is None
                else tf.reshape(mask, cu.with_tail([-1], mask.shape.as_list()[2:]))
            )
            y = layer.call(flat, **kwargs_for(fm))
            head = tf.shape(inputs)[:2]
            tail = y.shape.as_list()[1:]
            if None in tail:
                shape = tf.concat([head, tf.shape(y)[1:]], 0)
            else:
                shape = tf.concat([head, tf.constant(tail, tf.int32)], 0)
            out = tf.reshape(y, shape)
            return tf.ensure_shape(out, [inputs.shape[0], inputs.shape[1], *tail])
        xt = tf.transpose(inputs, [1, 0, *range(2, inputs.shape.rank)])
        mt = None if mask is None else tf.transpose(mask, [1, 0, *range(2, mask.shape.rank)])
        n = xt.shape[0]
        if n is not None:
            xs = tf.unstack(xt)
            mts = [None] * n if mt is None else tf.unstack(mt)
            ys = tf.stack([layer.call(x, **kwargs_for(m)) for x, m in zip(xs, mts)])
        elif mt is None:
            ys = tf.map_fn(lambda x: layer.call(x, **kwargs_for(None)), xt)
        else:
            ys = tf.map_fn(lambda e: layer.call(e[0], **kwargs_for(e[1])), (xt, mt),
                           fn_output_signature=inputs.dtype)  # fmt: skip
        return tf.transpose(ys, [1, 0, *range(2, ys.shape.rank)])


_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


class Bidirectional(SpecLayer):
    """Run a recurrent ``layer`` forwards (``forward_layer``, a copy of it) and backwards
    (``backward_layer``: a copy with ``go_backwards=True``, or the one given), and merge
    the two outputs (``merge_mode``: "concat", "sum", "mul", "ave", or None for both)."""

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                "Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. "
                f"Received: {layer}"
            )
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(
                "Bidirectional: `backward_layer` need to be a `keras.layers.Layer` instance. "
                f"Received: {backward_layer}"
            )
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Bidirectional: Invalid merge mode. Received: {merge_mode}. Merge mode should "
                'be one of {"sum", "mul", "ave", "concat", None}'
            )
        super().__init__(**kwargs)
        config = _serialize(layer)
        config["config"]["name"] = "forward_" + _strip(layer.name, "forward_")
        self.forward_layer = _deserialize(config)
        if backward_layer is None:
            config = _serialize(layer)
            config["config"]["go_backwards"] = True
            config["config"]["name"] = "backward_" + _strip(layer.name, "backward_")
            self.backward_layer = _deserialize(config)
        else:
            self.backward_layer = backward_layer
        if hasattr(layer, "use_cudnn"):
            self.forward_layer.use_cudnn = layer.use_cudnn
            self.backward_layer.use_cudnn = layer.use_cudnn
        self._verify()
        for sub in (self.forward_layer, self.backward_layer):
            if getattr(sub, "zero_output_for_mask", None) is not None:
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self._initial_weights = list(weights) if weights else None
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self.input_spec = layer.input_spec

    def _verify(self):
        fwd, bwd = self.forward_layer, self.backward_layer
        if fwd.go_backwards == bwd.go_backwards:
            raise ValueError(
                "Bidirectional: Forward layer and backward layer should have different "
                f"`go_backwards` value. Received: forward_layer.go_backwards {fwd.go_backwards}, "
                f"backward_layer.go_backwards={bwd.go_backwards}"
            )
        for a in ("stateful", "return_sequences", "return_state"):
            if getattr(fwd, a) != getattr(bwd, a):
                raise ValueError(
                    "Bidirectional: Forward layer and backward layer are expected to have the "
                    f'same value for attribute "{a}", got "{getattr(fwd, a)}" for forward layer '
                    f'and "{getattr(bwd, a)}" for backward layer'
                )

    def build(self, sequences_shape, initial_state_shape=None):
        for sub in (self.forward_layer, self.backward_layer):
            build_sublayer(sub, sequences_shape)
        if self._initial_weights:
            half = len(self._initial_weights) // 2
            self.forward_layer.set_weights(self._initial_weights[:half])
            self.backward_layer.set_weights(self._initial_weights[half:])
            self._initial_weights = None
        self.built = True

    def call(self, sequences, initial_state=None, mask=None, training=None):
        kwargs = {}
        if self.forward_layer._call_has_training:
            kwargs["training"] = training
        if self.forward_layer._call_has_mask and mask is not None:
            kwargs["mask"] = mask
        fwd_state = bwd_state = None
        if initial_state is not None:
            initial_state = list(initial_state)
            half = len(initial_state) // 2
            fwd_state, bwd_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer(sequences, initial_state=fwd_state, **kwargs)
        y_rev = self.backward_layer(sequences, initial_state=bwd_state, **kwargs)
        states = ()
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = tf.reverse(y_rev, [1])
        output = _merge(self.merge_mode, y, y_rev)
        if self.return_state:
            return (*output, *states) if self.merge_mode is None else (output, *states)
        return output

    @property
    def states(self):
        f, b = self.forward_layer.states, self.backward_layer.states
        if f and b:
            return tuple(f) + tuple(b)
        return None

    def reset_state(self):
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    def reset_states(self):
        self.reset_state()

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        out = self.forward_layer.compute_output_shape(sequences_shape)
        states = ()
        if self.return_state:
            out, states = out[0], tuple(out[1:])
        out = tf.TensorShape(out)
        if self.merge_mode == "concat":
            out = tf.TensorShape([*out.as_list()[:-1], None if out[-1] is None else 2 * out[-1]])
        if self.merge_mode is None:
            result = (out, out)
            return result + states + states if self.return_state else result
        return (out, *states, *states) if self.return_state else out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, list):
            mask = mask[0]
        if self.return_sequences:
            out = (mask, mask) if not self.merge_mode else mask
        else:
            out = (None, None) if not self.merge_mode else None
        if self.return_state and self.states is not None:
            none = tuple(None for _ in self.states)
            return (out, *none, *none)
        return out

    def get_config(self):
        return {
            **super().get_config(),
            "merge_mode": self.merge_mode,
            "layer": _serialize(self.forward_layer),
            "backward_layer": _serialize(self.backward_layer),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layer"] = _deserialize(config["layer"], custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            config["backward_layer"] = _deserialize(backward, custom_objects)
        return cls(**config)


def _strip(name, prefix):
    return name[len(prefix) :] if name.startswith(prefix) else name


def _merge(mode, y, y_rev):
    if mode == "concat":
        return tf.concat([y, y_rev], -1)
    if mode == "sum":
        return y + y_rev
    if mode == "ave":
        return (y + y_rev) / 2
    if mode == "mul":
        return y * y_rev
    return (y, y_rev)
