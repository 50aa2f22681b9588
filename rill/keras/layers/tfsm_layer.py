"""``keras.layers.TFSMLayer``: a TensorFlow SavedModel's endpoint as a Keras layer."""

from __future__ import annotations

from rill.keras.layer import Layer


class TFSMLayer(Layer):
    """Calls endpoint ``call_endpoint`` of the SavedModel at ``filepath`` (inference);
    its variables are the layer's weights."""

    def __init__(self, filepath, call_endpoint="serve", call_training_endpoint=None,
                 trainable=True, name=None, dtype=None):  # fmt: skip
        super().__init__(trainable=trainable, name=name, dtype=dtype)
        from rill.saved_model import load

        self.filepath = filepath
        self.call_endpoint = call_endpoint
        self.call_training_endpoint = call_training_endpoint
        self._reloaded = load(filepath)
        fn = getattr(self._reloaded, call_endpoint, None)
        if fn is None:
            fn = self._reloaded.signatures.get(call_endpoint)
        if fn is None:
            raise ValueError(
                f"The endpoint '{call_endpoint}' is not an attribute of the reloaded "
                f"SavedModel, nor one of its signatures {sorted(self._reloaded.signatures)}."
            )
        self._call_fn = fn
        self._training_fn = (
            getattr(self._reloaded, call_training_endpoint) if call_training_endpoint else None
        )
        self.built = True

    @property
    def weights(self):
        return list(self._reloaded.variables)

    @property
    def trainable_weights(self):
        return [v for v in self._reloaded.variables if v.trainable] if self.trainable else []

    @property
    def non_trainable_weights(self):
        return [v for v in self.weights if all(v is not w for w in self.trainable_weights)]

    def call(self, inputs, training=False, **kwargs):
        fn = self._training_fn if training and self._training_fn else self._call_fn
        if hasattr(fn, "structured_input_signature") and not isinstance(
            fn.structured_input_signature[0], tuple
        ):
            return fn(inputs)
        args, kw = fn.concrete_functions[0].structured_input_signature if hasattr(
            fn, "concrete_functions") else fn.structured_input_signature  # fmt: skip
        if kw and not args:
            (key,) = kw if len(kw) == 1 else (None,)
            if key is None:
                return fn(**inputs)
            out = fn(**{key: inputs})
            return out[next(iter(out))] if isinstance(out, dict) and len(out) == 1 else out
        return fn(inputs)

    def get_config(self):
        config = super().get_config()
        config.update(filepath=self.filepath, call_endpoint=self.call_endpoint,
                      call_training_endpoint=self.call_training_endpoint)  # fmt: skip
        return config
