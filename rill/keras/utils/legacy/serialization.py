"""Keras 2's object serialization: ``{"class_name": name, "config": get_config()}``, with
nested objects marked ``__passive_serialization__``. Names resolve only through the
registry, the custom-object scope and the tables passed in (never by importing)."""

from __future__ import annotations

import inspect
from contextlib import nullcontext

from rill.keras.saving import object_registration as registry

_PASSIVE = "__passive_serialization__"


def serialize_keras_object(instance):
    """An object with ``get_config`` -> ``{"class_name", "config"}``; a function or class
    -> its registered name."""
    instance = inspect.unwrap(instance) if callable(instance) else instance
    if instance is None:
        return None
    if hasattr(instance, "get_config"):
        config = {}
        for key, item in instance.get_config().items():
            if isinstance(item, str):
                config[key] = item
                continue
            try:
                serialized = serialize_keras_object(item)
            except ValueError:
                config[key] = item
                continue
            if isinstance(serialized, dict) and not isinstance(item, dict):
                serialized[_PASSIVE] = True
            config[key] = serialized
        return {"class_name": registry.get_registered_name(type(instance)), "config": config}
    if hasattr(instance, "__name__"):
        return registry.get_registered_name(instance)
    raise ValueError(f"Cannot serialize {instance} because it doesn't implement `get_config()`.")


def _unknown(kind, name):
    return ValueError(
        f"Unknown {kind}: '{name}'. Please ensure you are using a "
        "`keras.utils.custom_object_scope` and that this object is included in the scope."
    )


def _lookup(name, custom_objects, module_objects):
    return registry.get_registered_object(name, custom_objects, module_objects)


def deserialize_keras_object(
    identifier, module_objects=None, custom_objects=None, printable_module_name="object"
):
    """The inverse of ``serialize_keras_object``: a ``{"class_name", "config"}`` dict ->
    ``cls.from_config(config)``; a name -> the function, or an instance of the class."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        if "class_name" not in identifier or "config" not in identifier:
            raise ValueError(
                f"Improper config format for {identifier}. Expecting python dict contains "
                "`class_name` and `config` as keys"
            )
        name = identifier["class_name"]
        cls = _lookup(name, custom_objects, module_objects)
        if cls is None:
            raise _unknown(printable_module_name, name)
        config = identifier["config"]
        if isinstance(config, dict):
            config = dict(config)
            for key, item in list(config.items()):
                if key == "name":
                    continue
                if isinstance(item, dict) and _PASSIVE in item:
                    item = {k: v for k, v in item.items() if k != _PASSIVE}
                    config[key] = deserialize_keras_object(
                        item, module_objects, custom_objects, "config_item"
                    )
                elif isinstance(item, str) and inspect.isfunction(
                    _lookup(item, custom_objects, module_objects)
                ):
                    config[key] = _lookup(item, custom_objects, module_objects)
        # rill's scopes replace the outer one: enter one only when there is something to add
        scope = registry.CustomObjectScope(custom_objects) if custom_objects else nullcontext()
        with scope:
            if hasattr(cls, "from_config"):
                params = inspect.signature(cls.from_config).parameters
                if "custom_objects" in params:
                    merged = {**registry.get_custom_objects(), **(custom_objects or {})}
                    return cls.from_config(config, custom_objects=merged)
                return cls.from_config(config)
            return cls(**config)
    if isinstance(identifier, str):
        obj = _lookup(identifier, custom_objects, module_objects)
        if obj is None:
            raise _unknown(printable_module_name, identifier)
        return obj() if inspect.isclass(obj) else obj
    if inspect.isfunction(identifier):
        return identifier
    raise ValueError(f"Could not interpret serialized {printable_module_name}: {identifier}")
