"""``keras.layers.serialize`` / ``deserialize``: a layer to and from Keras 3's config
dict (class names resolve only through rill's registry, never by importing)."""

from __future__ import annotations

__all__ = ["deserialize", "serialize"]


def serialize(layer) -> dict:
    """The Keras 3 config dict of ``layer`` (``module``, ``class_name``, ``config``...)."""
    from rill.keras.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """The layer described by ``config`` (as written by ``serialize``)."""
    from rill.keras.layer import Layer
    from rill.keras.saving.serialization_lib import deserialize_keras_object

    obj = deserialize_keras_object(config, custom_objects=custom_objects)
    if not isinstance(obj, Layer):
        raise ValueError(
            "`keras.layers.deserialize` was passed a `config` object that is not a "
            f"`keras.layers.Layer`. Received: {config}"
        )
    return obj
