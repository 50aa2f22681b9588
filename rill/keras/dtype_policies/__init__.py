"""``keras.dtype_policies``: the dtype policies of layers, and ``get`` / ``serialize`` /
``deserialize`` (class names resolve only through this module's table)."""

from __future__ import annotations

from rill.keras.dtype_policies.dtype_policy import (
    QUANTIZATION_MODES,
    AWQDTypePolicy,
    DTypePolicy,
    FloatDTypePolicy,
    GPTQDTypePolicy,
    Int4DTypePolicy,
    QuantizedDTypePolicy,
    QuantizedFloat8DTypePolicy,
    dtype_policy,
    quantized_policy_from_name,
    set_dtype_policy,  # noqa: F401  (for rill.keras.config and mixed_precision)
)
from rill.keras.dtype_policies.dtype_policy_map import DTypePolicyMap

__all__ = [
    "AWQDTypePolicy", "DTypePolicy", "DTypePolicyMap", "FloatDTypePolicy", "GPTQDTypePolicy",
    "Int4DTypePolicy", "QuantizedDTypePolicy", "QuantizedFloat8DTypePolicy", "deserialize",
    "get", "serialize",
]  # fmt: skip

_CLASSES = (
    AWQDTypePolicy, DTypePolicy, DTypePolicyMap, FloatDTypePolicy, GPTQDTypePolicy,
    Int4DTypePolicy, QuantizedDTypePolicy, QuantizedFloat8DTypePolicy,
)  # fmt: skip
_TABLE = {c.__name__: c for c in _CLASSES}
_TOP_LEVEL = ("DTypePolicy", "FloatDTypePolicy")  # exported as keras.<name> too


def serialize(dtype_policy) -> dict:
    """The Keras 3 config dict of a policy: ``{"module", "class_name", "config",
    "registered_name"}``."""
    if not isinstance(dtype_policy, DTypePolicy):
        raise TypeError(
            f"serialize() expects a DTypePolicy. Received: {dtype_policy!r} of type "
            f"{type(dtype_policy).__name__}."
        )
    name = type(dtype_policy).__name__
    builtin = _TABLE.get(name) is type(dtype_policy)
    if builtin:
        module = "keras" if name in _TOP_LEVEL else "keras.dtype_policies"
        registered = None
    else:
        from rill.keras.saving import serialization_lib

        return serialization_lib.serialize_keras_object(dtype_policy)
    return {"module": module, "class_name": name, "config": dtype_policy.get_config(),
            "registered_name": registered}  # fmt: skip


def deserialize(config, custom_objects=None) -> DTypePolicy:
    """The policy a ``serialize`` dict describes (``custom_objects`` for other classes)."""
    if isinstance(config, DTypePolicy):
        return config
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "Could not interpret serialized DTypePolicy: expected a dict with 'class_name' "
            f"and 'config'. Received: {config!r}"
        )
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _TABLE.get(name)
    if cls is None:
        from rill.keras.saving import object_registration

        cls = object_registration.get_registered_object(
            config.get("registered_name") or name, custom_objects
        )
    if cls is None:
        raise ValueError(
            f"Unknown DTypePolicy class: '{name}'. Known: {sorted(_TABLE)}; pass other "
            "classes in `custom_objects`."
        )
    inner = config.get("config") or {}
    if cls is DTypePolicyMap:
        return cls.from_config(inner, custom_objects=custom_objects)
    return cls.from_config(inner)


def get(identifier) -> DTypePolicy:
    """A policy from ``None`` (the global one), a name (``"mixed_float16"``,
    ``"int8_from_float32"``), a config dict, a ``DTypePolicy`` or a dtype."""
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier.startswith(QUANTIZATION_MODES):
            return quantized_policy_from_name(identifier)
        return DTypePolicy(identifier)
    try:
        from rill.keras.ops._dtypes import standardize_dtype

        return DTypePolicy(standardize_dtype(identifier))
    except Exception:
        raise ValueError(
            "Cannot interpret `dtype` argument. Expected a string or an instance of "
            f"DTypePolicy. Received: dtype={identifier}"
        ) from None
