"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Lambda and the merges."""

from __future__ import annotations

import inspect

import numpy as np

import rill as tf
from rill.keras import activations, constraints, initializers, regularizers
from rill.keras.layer import Layer
from rill.keras.layers.input_spec import InputSpec


class Dense(Layer):
    """``activation(inputs @ kernel + bias)``; inputs of rank > 2 contract their last axis."""

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if int(units) <= 0:
            raise ValueError(f"Dense: units must be a positive integer, got {units!r}.")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        last = input_shape[-1]
        if last is None:
            raise ValueError(
                f"Dense {self.name!r}: the last dimension of the inputs must be known, got "
                f"shape {input_shape}."
            )
        self.kernel = self.add_weight(
            shape=(last, self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
        )
        self.bias = (
            self.add_weight(
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )
            if self.use_bias
            else None
        )
        self.input_spec = InputSpec(min_ndim=2, axes={-1: int(last)})
        self.built = True

    def call(self, inputs):
        if inputs.shape.rank == 2:
            x = tf.matmul(inputs, self.kernel)
        else:
            x = tf.tensordot(inputs, self.kernel, [[inputs.shape.rank - 1], [0]])
        if self.bias is not None:
            x = x + self.bias
        return self.activation(x)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(list(input_shape)[:-1] + [self.units])

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.pop("quantization_config", None) is not None:
            raise ValueError("Dense: quantized layers (`quantization_config`) are not supported.")
        return cls(**config)


class Activation(Layer):
    """Apply an activation function (by name or callable)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def call(self, inputs):
        return self.activation(inputs)

    def get_config(self):
        return {
            **super().get_config(),
            "activation": activations.serialize(self.activation),
        }


class Dropout(Layer):
    """Randomly zero a fraction ``rate`` of the inputs while training; identity otherwise."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= float(rate) <= 1:
            raise ValueError(f"Dropout: rate must be in [0, 1], got {rate!r}.")
        self.rate = float(rate)
        self.noise_shape = noise_shape
        self.seed = seed
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return tf.zeros_like(inputs)
        return tf.nn.dropout(inputs, self.rate, noise_shape=self.noise_shape, seed=self.seed)

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "seed": self.seed,
            "noise_shape": self.noise_shape,
        }


class Flatten(Layer):
    """Flatten all but the batch dimension."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.shape.rank > 2:
            perm = [0, *range(2, inputs.shape.rank), 1]
            inputs = tf.transpose(inputs, perm)
        rest = inputs.shape[1:]
        if rest.is_fully_defined():
            return tf.reshape(inputs, [-1, int(np.prod(rest.as_list(), dtype=np.int64))])
        return tf.reshape(inputs, tf.stack([tf.shape(inputs)[0], -1]))

    def get_config(self):
        return {
            **super().get_config(),
            "data_format": self.data_format or "channels_last",
        }


class Reshape(Layer):
    """Reshape the non-batch dimensions to ``target_shape`` (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)

    def call(self, inputs):
        target = list(self.target_shape)
        rest = inputs.shape[1:]
        if -1 in target and rest.is_fully_defined():
            known = int(np.prod([d for d in target if d != -1], dtype=np.int64))
            total = int(np.prod(rest.as_list(), dtype=np.int64))
            if known == 0 or total % known:
                raise ValueError(
                    f"Reshape {self.name!r}: cannot reshape inputs of shape {inputs.shape} to "
                    f"{self.target_shape}."
                )
            target[target.index(-1)] = total // known
        if -1 not in target:  # batch -1, the rest static: the output shape stays known
            return tf.reshape(inputs, [-1, *target])
        return tf.reshape(inputs, tf.concat([tf.shape(inputs)[:1], tf.constant(target)], 0))

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Lambda(Layer):
    """Wrap a function as a layer (not serialisable safely: ``load_model`` refuses it by
    default)."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.function = function
        self.arguments = arguments or {}
        self._output_shape = output_shape
        self.mask = mask  # the output mask: a tensor, or fn(inputs, mask)
        self.supports_masking = mask is not None
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            params = {}
        self._fn_takes_mask = "mask" in params
        self._fn_takes_training = "training" in params

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_takes_mask:
            kwargs["mask"] = mask
        if self._fn_takes_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        return self.mask(inputs, mask) if callable(self.mask) else self.mask

    def get_config(self):
        from rill.keras.saving import serialization_lib as ser

        config = {"function": ser.lambda_config(self.function)}
        if self._output_shape is not None:
            shape = self._output_shape
            config["output_shape"] = ser.lambda_config(shape) if callable(shape) else shape
        config["arguments"] = ser.serialize_keras_object(self.arguments)
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        """Refuses a ``__lambda__`` (bytecode) unless safe mode is off, explicitly or by the
        enclosing ``load_model(..., safe_mode=False)``."""
        from rill.keras.saving import serialization_lib as ser

        config = dict(config)
        config["function"] = ser.load_lambda(config["function"], custom_objects, safe_mode)
        shape = config.get("output_shape")
        if isinstance(shape, dict):
            config["output_shape"] = ser.load_lambda(shape, custom_objects, safe_mode)
        elif isinstance(shape, list):
            config["output_shape"] = tuple(shape)
        config.pop("mask", None)
        config["arguments"] = ser.deserialize_keras_object(
            config.get("arguments") or {}, custom_objects=custom_objects
        )
        return cls(**config)


def _check_merge_mask(inputs, mask):
    if not isinstance(mask, (tuple, list)):
        raise ValueError(f"`mask` should be a list. Received: mask={mask}")
    if not isinstance(inputs, (tuple, list)):
        raise ValueError(f"`inputs` should be a list. Received: inputs={inputs}")
    if len(mask) != len(inputs):
        raise ValueError(
            "The lists `inputs` and `mask` should have the same length. Received: "
            f"inputs={inputs} of length {len(inputs)}, and mask={mask} of length {len(mask)}"
        )


class _Merge(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        """A step is kept where any input keeps it (None if an input has no mask)."""
        if mask is None:
            return None
        _check_merge_mask(inputs, mask)
        if any(m is None for m in mask):
            return None
        out = tf.cast(mask[0], tf.bool)
        for m in mask[1:]:
            out = tf.logical_or(out, tf.cast(m, tf.bool))
        return out

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) < 1:
            raise ValueError(
                f"{type(self).__name__}: expects a list of inputs, got shape {input_shape}."
            )
        self.built = True


class Add(_Merge):
    """Elementwise sum of a list of inputs."""

    def call(self, inputs):
        return tf.add_n(list(inputs))


class Multiply(_Merge):
    """Elementwise product of a list of inputs."""

    def call(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


class Concatenate(_Merge):
    """Concatenate a list of inputs along ``axis``."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs):
        return tf.concat(list(inputs), self.axis)

    def compute_mask(self, inputs, mask=None):
        """The inputs' masks (all True for an unmasked one) concatenated along ``axis``,
        reduced with ``any`` over the last axis (Keras 3)."""
        if mask is None:
            return None
        _check_merge_mask(inputs, mask)
        if all(m is None for m in mask):
            return None
        masks = []
        for x, m in zip(inputs, mask):
            if m is None:
                masks.append(tf.ones_like(x, dtype=tf.bool))
            elif m.shape.rank < x.shape.rank:
                masks.append(tf.logical_or(tf.expand_dims(m, -1), tf.zeros_like(x, dtype=tf.bool)))
            else:
                masks.append(tf.cast(m, tf.bool))
        return tf.reduce_any(tf.concat(masks, self.axis), axis=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
