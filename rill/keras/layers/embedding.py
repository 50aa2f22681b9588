"""Embedding (a trainable lookup table, optionally masking id 0) and Masking (masks the
timesteps whose features all equal ``mask_value``)."""

from __future__ import annotations

import rill as tf
import rill.keras.layers.conv_utils as cu
from rill.keras import constraints, initializers, regularizers
from rill.keras.layers.input_spec import SpecLayer

__all__ = ["Embedding", "Masking"]


class Embedding(SpecLayer):
    """Map integer ids in ``[0, input_dim)`` to rows of an ``(input_dim, output_dim)``
    table; with ``mask_zero=True``, id 0 is padding and ``compute_mask`` masks it."""

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        weights=None,
        lora_rank=None,
        lora_alpha=None,
        quantization_config=None,
        **kwargs,
    ):
        kwargs.pop("input_length", None)  # Keras 2's argument, unused
        activity_regularizer = kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        for name, v in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(
                    f"{cu.owner(self)}: `{name}` must be a positive integer. Received: {name}={v} (of type "
                    f"{type(v).__name__})."
                )
        if lora_rank is not None or quantization_config is not None:
            raise NotImplementedError(
                "Embedding: LoRA (`lora_rank`) and quantization are not supported by rill."
            )
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        if weights is not None:
            self.build()
            if not isinstance(weights, (list, tuple)):
                weights = [weights]
            self.set_weights(weights)

    def build(self, input_shape=None):
        if self.built:
            return
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
        )
        self.built = True

    def call(self, inputs):
        if not inputs.dtype.is_integer:
            inputs = tf.cast(inputs, tf.int32)
        return tf.gather(self.embeddings, inputs)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return tf.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape([*tf.TensorShape(input_shape).as_list(), self.output_dim])

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {
            **config,
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "quantization_config": None,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.pop("quantization_config", None) is not None:
            raise ValueError("Embedding: quantized layers are not supported by rill.")
        return cls(**config)


class Masking(SpecLayer):
    """Zero the timesteps whose features all equal ``mask_value``; ``compute_mask`` gives
    False for them (shape: the inputs' without the last axis)."""

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def _keep(self, inputs, keepdims):
        value = tf.cast(self.mask_value, inputs.dtype)
        return tf.reduce_any(tf.not_equal(inputs, value), axis=-1, keepdims=keepdims)

    def call(self, inputs):
        return inputs * tf.cast(self._keep(inputs, True), inputs.dtype)

    def compute_mask(self, inputs, mask=None):
        return self._keep(inputs, False)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
