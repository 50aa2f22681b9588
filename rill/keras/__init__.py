"""``tf.keras``: Keras 3's API on rill. Submodules load on first use, so ``import rill``
and ``import rill.keras`` stay light (no optional dependency is imported until used)."""

import importlib as _importlib

_SUBMODULES = (
    "activations",
    "applications",
    "backend",
    "callbacks",
    "config",
    "constraints",
    "datasets",
    "distillation",
    "distribution",
    "dtype_policies",
    "export",
    "initializers",
    "layers",
    "legacy",
    "losses",
    "metrics",
    "mixed_precision",
    "models",
    "ops",
    "optimizers",
    "preprocessing",
    "quantizers",
    "random",
    "regularizers",
    "saving",
    "tree",
    "utils",
    "visualization",
    "wrappers",
)


# top-level names: name -> (module, attribute), imported on first use
_NAMES = {
    "Model": ("rill.keras.models", "Model"),
    "Sequential": ("rill.keras.models", "Sequential"),
    "Input": ("rill.keras.input_layer", "Input"),
    "KerasTensor": ("rill.keras.keras_tensor", "KerasTensor"),
    "Layer": ("rill.keras.layer", "Layer"),
    "Loss": ("rill.keras.losses", "Loss"),
    "Metric": ("rill.keras.metrics", "Metric"),
    "Optimizer": ("rill.keras.optimizers", "Optimizer"),
    "Initializer": ("rill.keras.initializers", "Initializer"),
    "Regularizer": ("rill.keras.regularizers", "Regularizer"),
    "Quantizer": ("rill.keras.quantizers", "Quantizer"),
    "InputSpec": ("rill.keras.layers.input_spec", "InputSpec"),
    "Variable": ("rill.keras.variables", "Variable"),
    "StatelessScope": ("rill.keras.variables", "StatelessScope"),
    "Operation": ("rill.keras.operation", "Operation"),
    "Function": ("rill.keras.function", "Function"),
    "DTypePolicy": ("rill.keras.dtype_policies", "DTypePolicy"),
    "FloatDTypePolicy": ("rill.keras.dtype_policies", "FloatDTypePolicy"),
    "name_scope": ("rill.keras.scopes", "name_scope"),
    "device": ("rill.keras.scopes", "device"),
    "SymbolicScope": ("rill.keras.scopes", "SymbolicScope"),
    "RematScope": ("rill.keras.scopes", "RematScope"),
    "remat": ("rill.keras.scopes", "remat"),
}

# the Keras release whose API rill.keras follows (what keras.version() reports)
__version__ = "3.15.1"


def version() -> str:
    """The version of the Keras API rill implements."""
    return __version__


def __getattr__(name):
    if name in _SUBMODULES:
        return _importlib.import_module(f"rill.keras.{name}")
    where = _NAMES.get(name)
    if where is not None:
        return getattr(_importlib.import_module(where[0]), where[1])
    raise AttributeError(f"module 'rill.keras' has no attribute {name!r}")
