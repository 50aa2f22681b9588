"""``tf.keras.quantizers``: quantizers, quantization configs and the quantization
arithmetic of Keras 3 (int8 abs-max, int4 packing, float8 scaling, fake quantization)."""

from __future__ import annotations

import inspect

from rill.keras.quantizers.quantization_config import (
    AWQConfig,
    Float8QuantizationConfig,
    GPTQConfig,
    Int4QuantizationConfig,
    Int8QuantizationConfig,
    QuantizationConfig,
)
from rill.keras.quantizers.quantizers import (
    AbsMaxQuantizer,
    Quantizer,
    abs_max_quantize,
    abs_max_quantize_grouped_with_zero_point,
    compute_float8_amax_history,
    compute_float8_scale,
    compute_quantization_parameters,
    fake_quant_with_min_max_vars,
    pack_int4,
    quantize_and_dequantize,
    unpack_int4,
)

__all__ = [
    "AWQConfig", "AbsMaxQuantizer", "Float8QuantizationConfig", "GPTQConfig",
    "Int4QuantizationConfig", "Int8QuantizationConfig", "QuantizationConfig", "Quantizer",
    "abs_max_quantize", "abs_max_quantize_grouped_with_zero_point",
    "compute_float8_amax_history", "compute_float8_scale", "compute_quantization_parameters",
    "deserialize", "fake_quant_with_min_max_vars", "get", "pack_int4",
    "quantize_and_dequantize", "serialize", "unpack_int4",
]  # fmt: skip

_CLASSES = (Quantizer, AbsMaxQuantizer, QuantizationConfig, Int8QuantizationConfig,
            Int4QuantizationConfig, Float8QuantizationConfig, AWQConfig)  # fmt: skip


def _snake(name: str) -> str:
    from rill.keras.naming import snake_case

    return snake_case(name)


# the names ``get`` and ``deserialize`` resolve: class names and their snake_case forms
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({_snake(cls.__name__): cls for cls in _CLASSES})


def serialize(initializer):
    """The Keras config dict of a quantizer or quantization config."""
    from rill.keras.saving.serialization_lib import serialize_keras_object

    config = serialize_keras_object(initializer)
    # rill's built-in quantizers are written under Keras' public module, as Keras does
    if isinstance(config, dict) and type(initializer) in _CLASSES:
        if config.get("registered_name") in (None, type(initializer).__name__):
            config["module"] = "keras.quantizers"
            config["registered_name"] = None
    return config


def deserialize(config, custom_objects=None):
    """A quantizer or quantization config from its config dict."""
    from rill.keras.saving.serialization_lib import deserialize_keras_object

    return deserialize_keras_object(
        config, module_objects=ALL_OBJECTS_DICT, custom_objects=custom_objects
    )


def get(identifier, **kwargs):
    """A quantizer from an identifier: None, a config dict, a class name, or a quantizer
    (returned as is)."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier, None)
    else:
        obj = identifier
    if not callable(obj):
        raise ValueError(f"Could not interpret quantizer identifier: {identifier}")
    if inspect.isclass(obj):
        # Keras passes the kwargs dict as the first positional argument; kept for parity
        obj = obj(kwargs)
    return obj
