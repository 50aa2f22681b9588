"""The quantization configs of ``keras.quantizers`` (what ``Model.quantize(config=...)``
takes): int8, int4 and float8 weight/activation quantizer pairs, and the GPTQ and AWQ
calibration settings, each validated and serializable as Keras' are."""

from __future__ import annotations

__all__ = [
    "QuantizationConfig",
    "Int8QuantizationConfig",
    "Int4QuantizationConfig",
    "Float8QuantizationConfig",
    "GPTQConfig",
    "AWQConfig",
]


def _serialize(obj):
    from rill.keras.quantizers import serialize

    return serialize(obj)


def _deserialize(config):
    from rill.keras.quantizers import deserialize

    return None if config is None else deserialize(config)


class QuantizationConfig:
    """A weight quantizer and an activation quantizer for one quantization mode."""

    def __init__(self, weight_quantizer=None, activation_quantizer=None):
        self.weight_quantizer = weight_quantizer
        self.activation_quantizer = activation_quantizer

    @property
    def mode(self) -> str:
        """The quantization mode ('int8', 'int4', 'float8', 'gptq' or 'awq')."""
        raise NotImplementedError(
            "Subclasses must implement this property. Do not instantiate QuantizationConfig "
            "directly."
        )

    def get_config(self):
        """The serialized quantizers."""
        return {"weight_quantizer": _serialize(self.weight_quantizer),
                "activation_quantizer": _serialize(self.activation_quantizer)}  # fmt: skip

    @classmethod
    def from_config(cls, config):
        """A config from ``get_config()``'s dict."""
        return cls(weight_quantizer=_deserialize(config.get("weight_quantizer")),
                   activation_quantizer=_deserialize(config.get("activation_quantizer")))  # fmt: skip

    @staticmethod
    def weight_quantizer_or_default(config, default):
        """``config``'s weight quantizer, or ``default`` when it has none."""
        if config is not None and config.weight_quantizer is not None:
            return config.weight_quantizer
        return default

    @staticmethod
    def activation_quantizer_or_default(config, default):
        """``config``'s activation quantizer (even None), or ``default`` without a config."""
        if config is not None:
            return config.activation_quantizer
        return default


class Int8QuantizationConfig(QuantizationConfig):
    """int8 quantization; the activation quantizer defaults to an ``AbsMaxQuantizer``."""

    def __init__(self, weight_quantizer=None, activation_quantizer="default"):
        from rill.keras.quantizers.quantizers import AbsMaxQuantizer

        if activation_quantizer == "default":
            activation_quantizer = AbsMaxQuantizer()
        super().__init__(weight_quantizer, activation_quantizer)
        if weight_quantizer is not None and weight_quantizer.output_dtype != "int8":
            raise ValueError(
                "Int8QuantizationConfig requires a weight_quantizer with output_dtype='int8'. "
                f"Received: output_dtype={weight_quantizer.output_dtype}"
            )

    @property
    def mode(self) -> str:
        """'int8'."""
        return "int8"


class Int4QuantizationConfig(QuantizationConfig):
    """int4 quantization, per channel (``block_size`` None or -1) or in blocks of
    ``block_size`` input rows; custom quantizers only per channel."""

    def __init__(self, weight_quantizer=None, activation_quantizer="default", block_size=128):
        if activation_quantizer == "default":
            activation_quantizer = None
        super().__init__(weight_quantizer, activation_quantizer)
        if block_size is not None and block_size != -1 and block_size <= 0:
            raise ValueError(
                "block_size must be None, -1, or a positive integer. Received: "
                f"block_size={block_size}"
            )
        self.block_size = block_size
        sub_channel = block_size is not None and block_size > 0
        if sub_channel and (weight_quantizer is not None or activation_quantizer is not None):
            raise ValueError(
                "Int4 sub-channel quantization (block_size > 0) does not support custom "
                "quantizers. Either set block_size to None or -1 for per-channel "
                "quantization, or remove the custom quantizer arguments. Received: "
                f"block_size={block_size}"
            )
        if weight_quantizer is not None:
            if weight_quantizer.value_range != (-8, 7):
                raise ValueError(
                    "Int4QuantizationConfig requires a weight_quantizer with "
                    f"value_range=(-8, 7). Received: value_range={weight_quantizer.value_range}"
                )
            if weight_quantizer.output_dtype != "int8":
                raise ValueError(
                    "Int4QuantizationConfig requires a weight_quantizer with "
                    f"output_dtype='int8'. Received: output_dtype={weight_quantizer.output_dtype}"
                )

    @property
    def mode(self) -> str:
        """'int4'."""
        return "int4"

    def get_config(self):
        """The serialized quantizers and ``block_size``."""
        return {**super().get_config(), "block_size": self.block_size}

    @classmethod
    def from_config(cls, config):
        """A config from ``get_config()``'s dict."""
        return cls(weight_quantizer=_deserialize(config.get("weight_quantizer")),
                   activation_quantizer=_deserialize(config.get("activation_quantizer")),
                   block_size=config.get("block_size", None))  # fmt: skip


class Float8QuantizationConfig(QuantizationConfig):
    """float8 quantization (delayed scaling; no custom quantizers)."""

    def __init__(self):
        super().__init__(None, None)

    @property
    def mode(self) -> str:
        """'float8'."""
        return "float8"

    def get_config(self):
        """An empty dict: the config has no arguments."""
        return {}

    @classmethod
    def from_config(cls, config):
        """A new config (``config`` is empty)."""
        return cls()


def _check_calibration(num_samples, sequence_length, group_size, group_meaning):
    if num_samples <= 0:
        raise ValueError("num_samples must be a positive integer.")
    if sequence_length <= 0:
        raise ValueError("sequence_length must be a positive integer.")
    if group_size < -1 or group_size == 0:
        raise ValueError(
            f"Invalid group_size. Supported values are -1 ({group_meaning}) or a positive "
            f"integer, but got {group_size}."
        )


class GPTQConfig(QuantizationConfig):
    """Settings of GPTQ post-training weight quantization: the calibration data and
    tokenizer, bit width, sample count and length, Hessian damping and grouping."""

    def __init__(self, dataset, tokenizer, *, weight_bits: int = 4, num_samples: int = 128,
                 per_channel: bool = True, sequence_length: int = 512,
                 hessian_damping: float = 0.01, group_size: int = 128,
                 symmetric: bool = False, activation_order: bool = False,
                 quantization_layer_structure: dict | None = None):  # fmt: skip
        super().__init__()
        if weight_bits not in (2, 3, 4, 8):
            raise ValueError(
                f"Unsupported weight_bits {weight_bits}. Supported values are 2, 3, 4, and 8."
            )
        if num_samples <= 0:
            raise ValueError("num_samples must be a positive integer.")
        if sequence_length <= 0:
            raise ValueError("sequence_length must be a positive integer.")
        if hessian_damping < 0 or hessian_damping > 1:
            raise ValueError("hessian_damping must be between 0 and 1.")
        _check_calibration(num_samples, sequence_length, group_size, "whole-tensor")
        self.dataset = dataset
        self.tokenizer = tokenizer
        self.num_samples = num_samples
        self.per_channel = per_channel
        self.sequence_length = sequence_length
        self.hessian_damping = hessian_damping
        self.weight_bits = weight_bits
        self.group_size = group_size
        self.symmetric = symmetric
        self.activation_order = activation_order
        self.quantization_layer_structure = quantization_layer_structure

    def get_config(self):
        """The settings (dataset and tokenizer are not serialized)."""
        return {"dataset": None, "tokenizer": None, "weight_bits": self.weight_bits,
                "num_samples": self.num_samples, "per_channel": self.per_channel,
                "sequence_length": self.sequence_length,
                "hessian_damping": self.hessian_damping, "group_size": self.group_size,
                "symmetric": self.symmetric, "activation_order": self.activation_order,
                "quantization_layer_structure": self.quantization_layer_structure}  # fmt: skip

    @classmethod
    def from_config(cls, config):
        """A config from ``get_config()``'s dict."""
        return cls(**config)

    @property
    def mode(self) -> str:
        """'gptq'."""
        return "gptq"

    def dtype_policy_string(self) -> str:
        """The dtype policy name a GPTQ-quantized layer gets: 'gptq/<bits>/<group>'."""
        return f"gptq/{self.weight_bits}/{self.group_size}"


class AWQConfig(QuantizationConfig):
    """Settings of AWQ (activation-aware 4-bit weight quantization): calibration data and
    tokenizer, sample count and length, grouping and the scale-search grid."""

    def __init__(self, dataset, tokenizer, *, weight_bits: int = 4, num_samples: int = 128,
                 sequence_length: int = 512, group_size: int = 128, num_grid_points: int = 20,
                 quantization_layer_structure: dict | None = None):  # fmt: skip
        super().__init__()
        if weight_bits != 4:
            raise ValueError(
                f"AWQ only supports 4-bit quantization. Received weight_bits={weight_bits}."
            )
        _check_calibration(num_samples, sequence_length, group_size, "per-channel")
        if num_grid_points <= 0:
            raise ValueError("num_grid_points must be a positive integer.")
        self.dataset = dataset
        self.tokenizer = tokenizer
        self.weight_bits = weight_bits
        self.num_samples = num_samples
        self.sequence_length = sequence_length
        self.group_size = group_size
        self.num_grid_points = num_grid_points
        self.quantization_layer_structure = quantization_layer_structure

    @property
    def mode(self) -> str:
        """'awq'."""
        return "awq"

    def dtype_policy_string(self) -> str:
        """The dtype policy name an AWQ-quantized layer gets: 'awq/<bits>/<group>'."""
        return f"awq/{self.weight_bits}/{self.group_size}"

    def get_config(self):
        """The settings (dataset and tokenizer are not serialized)."""
        return {"dataset": None, "tokenizer": None, "weight_bits": self.weight_bits,
                "num_samples": self.num_samples, "sequence_length": self.sequence_length,
                "group_size": self.group_size, "num_grid_points": self.num_grid_points,
                "quantization_layer_structure": self.quantization_layer_structure}  # fmt: skip

    @classmethod
    def from_config(cls, config):
        """A config from ``get_config()``'s dict."""
        return cls(**config)
