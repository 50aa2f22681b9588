"""``tf.config.optimizer``: graph optimiser settings (Grappler's, and XLA auto-clustering).

rill compiles traced graphs with its own passes (constant folding, common subexpressions,
dead code) and has no XLA auto-clustering; these settings are recorded and reported back
as TF reports them.
"""

from __future__ import annotations

__all__ = ["get_experimental_options", "set_experimental_options", "get_jit", "set_jit"]

# Grappler's boolean options, in the order TF reports them
_BOOL_OPTIONS = (
    "layout_optimizer", "constant_folding", "shape_optimization", "remapping",
    "arithmetic_optimization", "dependency_optimization", "loop_optimization",
    "function_optimization", "debug_stripper", "disable_model_pruning",
    "scoped_allocator_optimization", "pin_to_host_optimization", "implementation_selector",
    "auto_mixed_precision", "use_plugin_optimizers", "disable_meta_optimizer",
    "auto_mixed_precision_onednn_bfloat16", "auto_mixed_precision_mkl",
)  # fmt: skip
_ALWAYS_REPORTED = ("disable_model_pruning", "disable_meta_optimizer")

_options: dict = {}
_jit = [""]


def set_experimental_options(options) -> None:
    """Set some of Grappler's options (``{"constant_folding": False, ...}``). Known
    boolean options and ``min_graph_nodes`` are kept (a None value resets an option to
    its default); unknown names are ignored, as in TF."""
    for key, value in dict(options).items():
        if key not in _BOOL_OPTIONS and key != "min_graph_nodes":
            continue
        if value is None:
            _options.pop(key, None)
        elif key in _BOOL_OPTIONS:
            _options[key] = bool(value)
        elif key == "min_graph_nodes":
            _options[key] = int(value)


def get_experimental_options() -> dict:
    """The options set so far, with ``disable_model_pruning`` and
    ``disable_meta_optimizer`` always reported (False by default)."""
    out = {}
    for key in _BOOL_OPTIONS:
        if key in _options:
            out[key] = _options[key]
        elif key in _ALWAYS_REPORTED:
            out[key] = False
    if _options.get("min_graph_nodes"):
        out["min_graph_nodes"] = _options["min_graph_nodes"]
    return out


def set_jit(enabled) -> None:
    """Turn XLA auto-clustering on (True, 1 or ``"autoclustering"``) or off (anything
    else). rill has no auto-clustering; the setting is recorded."""
    on = enabled == "autoclustering" or (not isinstance(enabled, str) and enabled == 1)
    _jit[0] = "autoclustering" if on else ""


def get_jit() -> str:
    """``"autoclustering"`` if ``set_jit`` turned it on, else ``""``."""
    return _jit[0]
