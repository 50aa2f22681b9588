"""Context managers TF code uses around ops: ``device``, ``name_scope``, ``init_scope``."""

from __future__ import annotations

import contextlib

from rill.core import dispatch as _dispatch
from rill.core import runtime as _runtime

__all__ = ["device", "name_scope", "init_scope"]


@contextlib.contextmanager
def device(device_name):
    """Place ops on a device. Eager ops and the executor run on the CPU: every spelling of
    it is accepted ("cpu", "CPU:0", "/CPU:0", "/device:CPU:0",
    "/job:localhost/replica:0/task:0/device:CPU:0"). A function compiled with
    ``jit_compile`` runs on the device of the scope it is called in: a GPU or TPU that JAX
    has ("/GPU:0"), else JAX's default device. With soft placement on (the default) any
    device type is accepted, and where it does not exist the ops run on the CPU, as in
    TF; with it off, a device that does not exist raises ``InvalidArgumentError`` here,
    when the scope is entered (TF raises at its first op). ``device(None)`` clears the
    outer scopes. Entering a scope initialises rill's devices (``rill.core.runtime``)."""
    d = _runtime.check_placement(device_name)
    _runtime.ensure_initialized()
    _runtime.push_device_scope(d)
    try:
        yield
    finally:
        _runtime.pop_device_scope()


class name_scope:  # noqa: N801 - TF's public name
    """Group op names under a prefix (names are informational in eager mode)."""

    _stack: list = []

    def __init__(self, name):
        if not isinstance(name, str) or not name:
            raise ValueError(f"name_scope needs a non-empty string name, got {name!r}")
        self._name = name

    @property
    def name(self):
        return self._name

    def __enter__(self):
        name_scope._stack.append(self._name)
        return "/".join(name_scope._stack) + "/"

    def __exit__(self, *exc):
        name_scope._stack.pop()


@contextlib.contextmanager
def init_scope():
    """Run the body eagerly even while a function is being traced (variable creation)."""
    st = _dispatch.state
    saved = st.graph
    if saved is None:
        yield
        return
    st.graph = None
    _dispatch._adjust_slow(-1)
    try:
        yield
    finally:
        _dispatch._adjust_slow(+1)
        st.graph = saved
