"""``keras.legacy.saving``: Keras 2's ``{"class_name", "config"}`` serialization (the same
functions as ``keras.utils.legacy``)."""

from rill.keras.utils.legacy.serialization import (
    deserialize_keras_object,
    serialize_keras_object,
)

__all__ = ["deserialize_keras_object", "serialize_keras_object"]
