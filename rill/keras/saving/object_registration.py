"""The registry of custom Keras objects: ``register_keras_serializable`` and the
``custom_object_scope``.

Deserialization resolves a class or function name only through the tables here (plus the
``custom_objects`` a caller passes and rill's own built-ins): never by importing a module
named in a file.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

__all__ = [
    "CustomObjectScope",
    "custom_object_scope",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
]

_GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}  # "package>name" -> object
_GLOBAL_CUSTOM_NAMES: dict[Any, str] = {}  # object -> "package>name"


class _Scopes(threading.local):
    def __init__(self):
        self.stack: list[dict] = []


_scopes = _Scopes()


def _scope_objects() -> dict:
    # Keras 3: the innermost scope replaces (does not merge with) the outer ones.
    return _scopes.stack[-1] if _scopes.stack else {}


class CustomObjectScope:
    """``with CustomObjectScope({"MyLayer": MyLayer}):`` makes those names resolvable by
    deserialization in this thread, for the duration of the block."""

    def __init__(self, custom_objects: dict | None):
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self) -> CustomObjectScope:
        _scopes.stack.append(self.custom_objects)
        return self

    def __exit__(self, *exc) -> None:
        _scopes.stack.pop()


custom_object_scope = CustomObjectScope


def get_custom_objects() -> dict:
    """The live global dictionary of registered objects (``"package>name"`` keys); scoped
    objects are not in it."""
    return _GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable:
    """Decorator registering a class or function under ``"package>name"`` (``name``
    defaults to its ``__name__``), so configs naming it load without ``custom_objects``."""

    def decorator(arg):
        class_name = name if name is not None else arg.__name__
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        registered = f"{package}>{class_name}"
        _GLOBAL_CUSTOM_OBJECTS[registered] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered
        return arg

    return decorator


def get_registered_name(obj: Any) -> str:
    """The name ``obj`` was registered under, else its ``__name__``."""
    try:
        return _GLOBAL_CUSTOM_NAMES[obj]
    except (KeyError, TypeError):  # unhashable objects are never registered
        return obj.__name__


def get_registered_object(
    name: str, custom_objects: dict | None = None, module_objects: dict | None = None
) -> Any:
    """The object for ``name``: from the current custom-object scope, the registry,
    ``custom_objects`` then ``module_objects`` (Keras' order); ``None`` if none has it."""
    for table in (_scope_objects(), _GLOBAL_CUSTOM_OBJECTS, custom_objects, module_objects):
        if table and name in table:
            return table[name]
    return None


def _is_registered(obj: Any) -> bool:
    try:
        return obj in _GLOBAL_CUSTOM_NAMES
    except TypeError:
        return False
