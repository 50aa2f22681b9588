"""Pipeline: layers applied one after the other, outside of any model (usable in
``Dataset.map``); unlike Sequential it is not a model and builds nothing itself."""

from __future__ import annotations

from rill.keras.layer import Layer

__all__ = ["Pipeline"]


class Pipeline(Layer):
    """Call ``layers`` in order, each on the previous one's output."""

    def __init__(self, layers, name=None):
        super().__init__(name=name)
        self._pipeline_layers = layers

    @property
    def layers(self) -> list:
        return self._pipeline_layers

    def call(self, inputs, training=True, mask=None):
        outputs = inputs
        for layer in self._pipeline_layers:
            kwargs = {}
            if getattr(layer, "_call_has_mask", False) and mask is not None:
                kwargs["mask"] = mask
            if getattr(layer, "_call_has_training", False) and training is not None:
                kwargs["training"] = training
            outputs = layer(inputs, **kwargs)
            inputs = outputs
            mask = getattr(outputs, "_keras_mask", None)
        return outputs

    def build(self, input_shape=None):
        self.built = True

    def get_config(self):
        from rill.keras.saving.serialization_lib import serialize_keras_object

        return {"layers": serialize_keras_object(self._pipeline_layers), "name": self.name}

    @classmethod
    def from_config(cls, config):
        from rill.keras.saving.serialization_lib import deserialize_keras_object

        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError(
                "`Pipeline` config must contain a `layers` key mapping to a list of "
                f"serialized layers. Received config with layers={layers}."
            )
        config = {**config, "layers": [deserialize_keras_object(x) for x in layers]}
        return cls(**config)
