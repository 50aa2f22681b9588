"""``keras.utils.legacy``: Keras 2's ``{"class_name", "config"}`` serialization, for
configs written by tf.keras 2.x."""

from rill.keras.utils.legacy.serialization import (
    deserialize_keras_object,
    serialize_keras_object,
)

__all__ = ["deserialize_keras_object", "serialize_keras_object"]
