"""Keras 3's top-level scopes: ``name_scope`` (prefixes the paths of variables created
inside), ``device``, ``SymbolicScope``, ``RematScope`` and ``remat``."""

from __future__ import annotations

import contextlib
import threading
from collections import namedtuple

__all__ = ["name_scope", "device", "SymbolicScope", "RematScope", "remat", "current_path"]


class _State(threading.local):
    def __init__(self):
        self.names = []  # open name_scopes
        self.symbolic = None
        self.remat = []  # open RematScopes


_state = _State()


class name_scope:  # noqa: N801 - Keras' public name
    """Open a sub-namespace for the paths of the variables created inside (``name`` has
    no ``/``); with ``deduplicate``, re-entering the same caller's scope adds nothing."""

    def __init__(self, name, caller=None, deduplicate=True, override_parent=None):
        if not isinstance(name, str) or "/" in name:
            raise ValueError(
                "Argument `name` must be a string and cannot contain character `/`. "
                f"Received: name={name}"
            )
        self.name = name
        self.caller = caller
        self.deduplicate = deduplicate
        self.override_parent = override_parent
        self._pop_on_exit = False

    def __enter__(self):
        stack = _state.names
        if self.deduplicate and stack:
            top = stack[-1]
            if self.caller is not None and top.caller is self.caller and top.name == self.name:
                return self  # the same caller's scope again: nothing to add
        stack.append(self)
        self._pop_on_exit = True
        return self

    def __exit__(self, *exc):
        if self._pop_on_exit:
            _state.names.pop()
            self._pop_on_exit = False


def current_path() -> str:
    """The ``/``-joined names of the open name scopes ("" outside any)."""
    parts = []
    for scope in _state.names:
        if scope.override_parent is not None:
            parts = [p for p in scope.override_parent.split("/") if p]
        parts.append(scope.name)
    return "/".join(parts)


@contextlib.contextmanager
def device(device_name):
    """Run the ops inside on ``device_name`` (``"cpu"``, ``"gpu:0"``, ...): rill places
    them as ``tf.device`` does."""
    from rill.core.context import device as _device

    if not isinstance(device_name, str):
        raise ValueError(f"Invalid value for argument `device_name`. Received: {device_name}")
    with _device(device_name):
        yield


class SymbolicScope:
    """Marks the symbolic stage (shape inference on KerasTensors)."""

    def __enter__(self):
        self.original_scope = _state.symbolic
        _state.symbolic = self
        return self

    def __exit__(self, *exc):
        _state.symbolic = self.original_scope


def in_symbolic_scope() -> bool:
    return _state.symbolic is not None


_REMAT_MODES = ("full", "activations", "larger_than", "list_of_layers", None)
RematMode = namedtuple("RematMode", ["mode", "output_size_threshold", "layer_names"])


class RematScope:
    """Request rematerialization (recomputing activations in the backward pass instead
    of storing them) for the layers called inside. It trades memory for time only:
    values and gradients are the same, and rill records the request
    (``get_current_remat_mode``) without changing how layers run."""

    def __init__(self, mode="full", output_size_threshold=1024, layer_names=None):
        if mode not in _REMAT_MODES:
            raise ValueError(
                f"Invalid mode '{mode}'. Supported modes are: 'full', 'activations', "
                "'larger_than', 'list_of_layers', or  None."
            )
        self.mode = mode
        self.output_size_threshold = output_size_threshold
        self.layer_names = layer_names or []
        self._pop_on_exit = False

    def __enter__(self):
        _state.remat.append(self)
        self._pop_on_exit = True
        return self

    def __exit__(self, *exc):
        if self._pop_on_exit:
            _state.remat.pop()
            self._pop_on_exit = False


def get_current_remat_mode():
    """The innermost ``RematScope``'s settings, or ``None`` (also for ``mode=None``)."""
    if not _state.remat:
        return None
    top = _state.remat[-1]
    if top.mode is None:
        return None
    return RematMode(top.mode, top.output_size_threshold, top.layer_names)


def remat(f):
    """``f`` whose backward pass recomputes its forward pass instead of keeping its
    intermediate values (``tf.recompute_grad``): same values and gradients, less memory."""
    from rill.core.tape import recompute_grad

    return recompute_grad(f)
