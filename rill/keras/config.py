"""``tf.keras.config``: Keras 3's global settings (default float type, fuzz factor, image
layout, safety and debugging switches).

rill stands in for TensorFlow, so ``backend()`` is ``"tensorflow"`` and ``set_backend``
accepts only that. Settings are process-wide, as in Keras; ``KERAS_MAX_EPOCHS`` and
``KERAS_MAX_STEPS_PER_EPOCH`` in the environment set the debugging caps at import.
"""

from __future__ import annotations

import os

__all__ = [
    "backend", "disable_flash_attention", "disable_interactive_logging",
    "disable_traceback_filtering", "dtype_policy", "enable_flash_attention",
    "enable_interactive_logging", "enable_traceback_filtering",
    "enable_unsafe_deserialization", "epsilon", "floatx", "image_data_format",
    "is_flash_attention_enabled", "is_interactive_logging_enabled", "is_nnx_enabled",
    "is_traceback_filtering_enabled", "max_epochs", "max_steps_per_epoch", "set_backend",
    "set_dtype_policy", "set_epsilon", "set_floatx", "set_image_data_format",
    "set_max_epochs", "set_max_steps_per_epoch",
]  # fmt: skip

_FLOATX_CHOICES = ("bfloat16", "float16", "float32", "float64")
_FORMATS = ("channels_first", "channels_last")


def _env_int(name):
    value = os.environ.get(name)
    return int(value) if value else None


class _Settings:
    """The process-wide values behind the getters below."""

    floatx = "float32"
    epsilon = 1e-7
    image_data_format = "channels_last"
    flash_attention = None  # None: Keras' default (use it where supported); False: off
    traceback_filtering = True
    interactive_logging = True
    dtype_policy = None  # a DTypePolicy once set (or first asked for)
    max_epochs = _env_int("KERAS_MAX_EPOCHS")
    max_steps_per_epoch = _env_int("KERAS_MAX_STEPS_PER_EPOCH")


_s = _Settings


# ---------------------------------------------------------------------- numeric defaults
def floatx() -> str:
    """The default float type, as a string (``"float32"`` unless set)."""
    return _s.floatx


def set_floatx(value) -> None:
    """Set the default float type: ``"bfloat16"``, ``"float16"``, ``"float32"`` or
    ``"float64"``."""
    if value not in _FLOATX_CHOICES:
        raise ValueError(f"Unknown `floatx` value: {value}. Expected one of {set(_FLOATX_CHOICES)}")
    _s.floatx = str(value)


def epsilon() -> float:
    """The fuzz factor added to denominators (``1e-7`` unless set)."""
    return _s.epsilon


def set_epsilon(value) -> None:
    _s.epsilon = value


def image_data_format() -> str:
    """``"channels_last"`` (NHWC, the default) or ``"channels_first"`` (NCHW)."""
    return _s.image_data_format


def _check_format(data_format) -> str:
    data_format = str(data_format).lower()
    if data_format not in _FORMATS:
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    return data_format


def set_image_data_format(data_format) -> None:
    _s.image_data_format = _check_format(data_format)


def standardize_data_format(data_format) -> str:
    """``data_format``, or the global one for ``None``, checked and lower-cased."""
    return image_data_format() if data_format is None else _check_format(data_format)


# ------------------------------------------------------------------------------ backend
def backend() -> str:
    """The backend's name: rill implements TensorFlow's, so ``"tensorflow"``."""
    return "tensorflow"


def set_backend(backend) -> None:
    """Keras reloads itself on another backend; rill is the TensorFlow backend, so only
    ``"tensorflow"`` is accepted (and changes nothing)."""
    if backend != "tensorflow":
        raise ValueError(
            f"rill implements Keras' 'tensorflow' backend only; it cannot switch to "
            f"backend={backend!r}."
        )


def is_nnx_enabled() -> bool:
    """Flax NNX integration is a JAX-backend feature: always ``False`` here."""
    return False


# --------------------------------------------------------------------------- switches
def enable_unsafe_deserialization() -> None:
    """Allow loading objects whose config holds Python bytecode (``Lambda`` layers)."""
    from rill.keras.saving import serialization_lib

    serialization_lib.enable_unsafe_deserialization()


def enable_flash_attention() -> None:
    """Let attention layers use a fused kernel where one applies (Keras' default)."""
    _s.flash_attention = None


def disable_flash_attention() -> None:
    _s.flash_attention = False


def is_flash_attention_enabled():
    """``False`` once disabled; ``None`` (Keras' "enabled where supported") otherwise."""
    return _s.flash_attention


def enable_traceback_filtering() -> None:
    _s.traceback_filtering = True


def disable_traceback_filtering() -> None:
    _s.traceback_filtering = False


def is_traceback_filtering_enabled() -> bool:
    return _s.traceback_filtering


def enable_interactive_logging() -> None:
    """Progress bars and summaries are printed (the default)."""
    _s.interactive_logging = True


def disable_interactive_logging() -> None:
    """Progress bars and summaries go to Python's logging instead of stdout."""
    _s.interactive_logging = False


def is_interactive_logging_enabled() -> bool:
    return _s.interactive_logging


# ------------------------------------------------------------------------ debug caps
def set_max_epochs(max_epochs) -> None:
    """Cap every ``fit`` at ``max_epochs`` epochs (``None``: no cap); for debugging."""
    _s.max_epochs = max_epochs


def max_epochs():
    return _s.max_epochs


def set_max_steps_per_epoch(max_steps_per_epoch) -> None:
    """Cap the steps of each epoch of ``fit``/``evaluate``/``predict`` (``None``: none)."""
    _s.max_steps_per_epoch = max_steps_per_epoch


def max_steps_per_epoch():
    return _s.max_steps_per_epoch


# ------------------------------------------------------------------------ dtype policy
# The policy classes live in rill.keras.dtype_policies; these names stay here for Keras'
# keras.config API (the class loads on first use, keeping this module import-light).
def set_dtype_policy(policy) -> None:
    """Set the global dtype policy from a ``DTypePolicy`` or its name."""
    from rill.keras.dtype_policies.dtype_policy import set_dtype_policy as _set

    _set(policy)


def dtype_policy():
    """The global dtype policy (``floatx()``'s name when none was set)."""
    from rill.keras.dtype_policies.dtype_policy import dtype_policy as _get

    return _get()


def __getattr__(name):
    if name == "DTypePolicy":
        from rill.keras.dtype_policies import DTypePolicy

        return DTypePolicy
    raise AttributeError(f"module 'rill.keras.config' has no attribute {name!r}")
