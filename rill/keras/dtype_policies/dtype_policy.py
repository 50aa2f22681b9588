"""Keras 3's dtype policies: the dtype a layer computes in and the dtype of its variables.

``"mixed_float16"`` / ``"mixed_bfloat16"`` compute in 16 bits and keep float32 variables
(layers cast their variables to the compute dtype on read, see ``rill.keras.variables``);
any dtype name uses that dtype for both. The quantized policies describe a quantized
layer's configuration (they parse, compare and serialize as Keras'); rill's layers do not
run quantized kernels, so a layer refuses them with a clear error.
"""

from __future__ import annotations

from rill.keras import config as _config

__all__ = [
    "QUANTIZATION_MODES", "DTypePolicy", "FloatDTypePolicy", "QuantizedDTypePolicy",
    "QuantizedFloat8DTypePolicy", "Int4DTypePolicy", "GPTQDTypePolicy", "AWQDTypePolicy",
    "set_dtype_policy", "dtype_policy",
]  # fmt: skip

QUANTIZATION_MODES = ("int8", "float8", "int4", "gptq", "awq")

_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}


def _standardize(name: str) -> str:
    from rill.keras.ops._dtypes import standardize_dtype

    return standardize_dtype(name)


class DTypePolicy:
    """A layer's dtype policy: ``compute_dtype`` for its computations and outputs,
    ``variable_dtype`` for its weights (``name``: a dtype, ``"mixed_float16"`` or
    ``"mixed_bfloat16"``; ``None`` is the global policy's name)."""

    def __init__(self, name=None):
        if name is None:
            name = dtype_policy().name
        self._name = name
        self._compute_dtype, self._variable_dtype = self._parse_name(name)
        self._quantization_mode = None

    def _parse_name(self, name) -> tuple[str, str]:
        if not isinstance(name, str):
            raise TypeError(
                f"'name' must be a string, such as 'mixed_float16'. Received: name={name} "
                f"(of type {type(name)})"
            )
        if name in _MIXED:
            return _MIXED[name], "float32"
        try:
            dtype = _standardize(name)
        except (ValueError, TypeError):
            raise ValueError(
                f"Cannot convert '{name}' to a mixed precision DTypePolicy. Valid policies "
                "include 'mixed_float16', 'mixed_bfloat16', and the name of any float dtype "
                "such as 'float32'."
            ) from None
        return dtype, dtype

    @property
    def name(self) -> str:
        """The policy's name (``"float32"``, ``"mixed_float16"``, ...)."""
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype of the layer's computations, inputs and outputs."""
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype the layer creates its variables in."""
        return self._variable_dtype

    @property
    def quantization_mode(self):
        """The quantization mode, or ``None`` for a float policy."""
        return self._quantization_mode

    def convert_input(self, x, autocast, dtype):
        """``x`` as a tensor where it is array-like, floating values cast to ``dtype`` when
        ``autocast`` (integer, bool and string values keep their dtype)."""
        from rill.core.convert import convert_to_tensor
        from rill.core.tensor import Tensor
        from rill.core.variables import Variable

        if not isinstance(x, (Tensor, Variable)):
            if not hasattr(x, "__array__"):
                return x  # Python values and other objects pass through, as in Keras
            x = convert_to_tensor(x)
        if autocast and x.dtype.is_floating and x.dtype.name != dtype:
            from rill.ops.array_ops import cast

            return cast(x, dtype)
        return x

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        cls_name = type(self).__name__
        if cls_name == "FloatDTypePolicy":
            cls_name = "DTypePolicy"
        return f'<{cls_name} "{self._name}">'

    def __eq__(self, other):
        plain = (DTypePolicy, FloatDTypePolicy)
        if type(self) in plain:
            if type(other) not in plain:
                return False
        elif type(other) is not type(self):
            return False
        return self._name == other._name

    def __hash__(self):
        return hash((DTypePolicy, self._name))


class FloatDTypePolicy(DTypePolicy):
    """Keras 3's alias of a float ``DTypePolicy``."""


class QuantizedDTypePolicy(DTypePolicy):
    """A quantized layer's policy: ``mode`` (``"int8"``, ``"float8"``, ``"int4"``, ...)
    applied to weights of the ``source_name`` float policy (named
    ``"{mode}_from_{source_name}"``)."""

    def __init__(self, mode, source_name=None):
        if source_name is None:
            source_name = dtype_policy().name
        self._compute_dtype, self._variable_dtype = self._parse_name(source_name)
        self._check_quantization_mode(mode, self._compute_dtype)
        self._name = f"{mode}_from_{source_name}"
        self._source_name = source_name
        self._quantization_mode = mode

    def _check_quantization_mode(self, mode, compute_dtype):
        if mode not in QUANTIZATION_MODES:
            raise ValueError(
                f"Invalid quantization mode. Expected one of {QUANTIZATION_MODES}. "
                f"Received: mode={mode}"
            )
        if compute_dtype == "float16" and mode == "int8":
            raise ValueError(
                f"Quantization mode='{mode}' doesn't work well with compute_dtype='float16'."
            )

    def __eq__(self, other):
        if super().__eq__(other) is False:
            return False
        return (
            self._quantization_mode == other._quantization_mode
            and self._source_name == other._source_name
        )

    __hash__ = DTypePolicy.__hash__

    def get_config(self) -> dict:
        return {"mode": self._quantization_mode, "source_name": self._source_name}


class QuantizedFloat8DTypePolicy(QuantizedDTypePolicy):
    """The float8 quantized policy, with the length of the amax history its scales use."""

    default_amax_history_length = 1024

    def __init__(self, mode, source_name=None, amax_history_length=1024):
        super().__init__(mode=mode, source_name=source_name)
        if not isinstance(amax_history_length, int):
            raise TypeError(
                f"`amax_history_length` must be an integer. Received: "
                f"amax_history_length={amax_history_length}"
            )
        self._amax_history_length = amax_history_length

    @property
    def amax_history_length(self) -> int:
        return self._amax_history_length

    def __eq__(self, other):
        if super().__eq__(other) is False:
            return False
        return self._amax_history_length == other._amax_history_length

    __hash__ = DTypePolicy.__hash__

    def get_config(self) -> dict:
        return {**super().get_config(), "amax_history_length": self._amax_history_length}


def _mode_ints(cls_name, mode, prefix, fmt, count):
    parts = mode.split("/")
    if len(parts) != count + 1 or parts[0] != prefix:
        raise ValueError(f"Invalid mode for {cls_name}. Expected format {fmt}, but got '{mode}'.")
    try:
        return [int(p) for p in parts[1:]]
    except ValueError:
        raise ValueError(
            f"Invalid mode for {cls_name}. The numbers in the mode must be integers. "
            f"Expected format {fmt}, but got '{mode}'."
        ) from None


def _check_group(what, value, mode):
    if value < -1 or value == 0:
        raise ValueError(
            f"Invalid {what} in mode. Supported values are -1 (per-channel) or a positive "
            f"integer, but got {value} from '{mode}'."
        )


class _ModeIntsPolicy(QuantizedDTypePolicy):
    """A quantized policy whose mode carries integers, ``"<kind>/<p1>/.../<group>"``: the
    names in ``_PARAMS``, the last a group (or block) size."""

    _KIND = ""
    _PARAMS: tuple = ()

    def __init__(self, mode, source_name=None):
        fmt = "'" + "/".join([self._KIND, *(f"<{p}>" for p in self._PARAMS)]) + "'"
        values = _mode_ints(type(self).__name__, mode, self._KIND, fmt, len(self._PARAMS))
        self._check_values(mode, *values)
        _check_group(self._PARAMS[-1], values[-1], mode)
        super().__init__(mode=self._KIND, source_name=source_name)
        self._name = f"{mode}_from_{source_name}"
        self.mode = self._KIND
        for name, value in zip(self._PARAMS, values):
            setattr(self, name, value)

    def _check_values(self, mode, *values):
        """Raise for values the kind does not support (beyond the group size)."""

    def _values(self):
        return tuple(getattr(self, p) for p in self._PARAMS)

    def __eq__(self, other):
        if super().__eq__(other) is False:
            return False
        return self._values() == other._values()

    __hash__ = DTypePolicy.__hash__

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": "/".join(map(str, (self._KIND, *self._values())))}


class Int4DTypePolicy(_ModeIntsPolicy):
    """The int4 policy with a block size: ``mode="int4/<block_size>"`` (-1: per channel)."""

    _KIND = "int4"
    _PARAMS = ("block_size",)


class GPTQDTypePolicy(_ModeIntsPolicy):
    """The GPTQ policy: ``mode="gptq/<weight_bits>/<group_size>"`` (bits 2, 3, 4 or 8)."""

    _KIND = "gptq"
    _PARAMS = ("weight_bits", "group_size")

    def _check_values(self, mode, weight_bits, group_size):
        if weight_bits not in (2, 3, 4, 8):
            raise ValueError(
                "Invalid weight_bits in mode. Supported values are 2, 3, 4, and 8, but got "
                f"{weight_bits} from '{mode}'."
            )


class AWQDTypePolicy(_ModeIntsPolicy):
    """The AWQ policy: ``mode="awq/4/<group_size>"`` (4-bit weights only)."""

    _KIND = "awq"
    _PARAMS = ("weight_bits", "group_size")

    def _check_values(self, mode, weight_bits, group_size):
        if weight_bits != 4:
            raise ValueError(
                "Invalid weight_bits in mode. AWQ only supports 4-bit quantization, but got "
                f"{weight_bits} from '{mode}'."
            )


def quantized_policy_from_name(policy: str) -> QuantizedDTypePolicy:
    """The quantized policy named ``"{mode}_from_{source}"`` (``"int8_from_float32"``)."""
    if not isinstance(policy, str):
        raise TypeError(f"`policy` must be a string. Received: policy={policy}")
    if not policy.startswith(QUANTIZATION_MODES):
        raise ValueError("`policy` is incompatible with the current supported quantization.")
    parts = policy.split("_from_")
    if len(parts) != 2:
        raise ValueError(
            "Cannot convert `policy` into a valid pair (`mode`, `source_name`) to "
            f"instantiate `QuantizedDTypePolicy`. Received: policy={policy}"
        )
    mode, source = parts
    if mode.startswith("int4") and "/" in mode:
        return Int4DTypePolicy(mode, source)
    if mode.startswith("gptq"):
        return GPTQDTypePolicy(mode, source)
    if mode.startswith("awq"):
        return AWQDTypePolicy(mode, source)
    if mode.startswith("float8"):
        return QuantizedFloat8DTypePolicy(mode, source)
    return QuantizedDTypePolicy(mode, source)


def set_dtype_policy(policy) -> None:
    """Set the global dtype policy (a ``DTypePolicy`` or a policy name)."""
    if not isinstance(policy, DTypePolicy):
        if not isinstance(policy, str):
            raise ValueError(
                "Invalid `policy` argument. Expected the string name of a policy (such as "
                f"'mixed_float16') or a `DTypePolicy` instance. Received: policy={policy} "
                f"(of type {type(policy)})"
            )
        if policy.startswith(QUANTIZATION_MODES):
            policy = quantized_policy_from_name(policy)
        else:
            policy = DTypePolicy(policy)
    _config._s.dtype_policy = policy


def dtype_policy() -> DTypePolicy:
    """The global dtype policy (``floatx()``'s name until one is set)."""
    policy = _config._s.dtype_policy
    if policy is None:
        policy = DTypePolicy(_config.floatx())
        _config._s.dtype_policy = policy
    return policy
