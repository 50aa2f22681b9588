"""``tf.keras``: Keras 3's API on rill. Submodules load on first use, so ``import rill``
and ``import rill.keras`` stay light (no optional dependency is imported until used)."""

import importlib as _importlib

_SUBMODULES = (
    "activations",
    "backend",
    "callbacks",
    "config",
    "constraints",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "ops",
    "optimizers",
    "random",
    "regularizers",
    "saving",
    "tree",
)


def __getattr__(name):
    if name in _SUBMODULES:
        return _importlib.import_module(f"rill.keras.{name}")
    if name in ("Model", "Sequential"):
        return getattr(_importlib.import_module("rill.keras.models"), name)
    if name == "Input":
        return _importlib.import_module("rill.keras.input_layer").Input
    if name == "KerasTensor":
        return _importlib.import_module("rill.keras.keras_tensor").KerasTensor
    raise AttributeError(f"module 'rill.keras' has no attribute {name!r}")
