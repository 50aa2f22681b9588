"""Default names of Keras objects: ``dense``, ``dense_1``... (a leaf module: layers,
operations and KerasTensors all take their names from here)."""

from __future__ import annotations

import re
import threading

__all__ = ["unique_name", "snake_case"]

_names: dict[str, int] = {}
_names_lock = threading.Lock()


def snake_case(name: str) -> str:
    """``DenseLayer`` -> ``dense_layer``."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


def unique_name(base: str) -> str:
    """``dense``, ``dense_1``, ``dense_2``... like Keras' automatic layer names."""
    with _names_lock:
        n = _names.get(base, 0)
        _names[base] = n + 1
    return base if n == 0 else f"{base}_{n}"
