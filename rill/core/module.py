"""``tf.Module``: a named container of variables and other modules.

A module finds its state by walking its attributes: every ``Variable`` (and every nested
module) held directly, or inside lists, tuples and dicts, belongs to it. The walk visits
attributes in sorted order (dict entries by sorted key), lists a module's own finds before
those of its submodules, and reports each object once, which is the order TF reports.
"""

from __future__ import annotations

import functools
import re

from rill.core.context import name_scope as _name_scope
from rill.core.variables import is_variable

__all__ = ["Module"]

_IGNORED = frozenset(("_name", "_scope_name", "_module_scope"))


def _snake_case(name: str) -> str:
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


class _ModuleScope(_name_scope):
    """The module's name scope: re-entering it restores its absolute scope (``outer/m/``)
    whatever scope is current, like re-entering a TF name scope whose name ends in '/'."""

    def __init__(self, full_name: str):
        self._name = full_name  # ends with "/"
        self._saved: list = []

    def __enter__(self):
        stack = _name_scope._stack
        self._saved.append(stack[:])
        stack[:] = [self._name[:-1]]
        return self._name

    def __exit__(self, *exc):
        _name_scope._stack[:] = self._saved.pop()


def _leaves(value):
    """Leaves of a nested structure (lists, tuples, dicts by sorted key), in TF's order."""
    if isinstance(value, dict):
        try:
            keys = sorted(value)
        except TypeError:
            keys = list(value)
        for k in keys:
            yield from _leaves(value[k])
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


class Module:
    """Base class of stateful containers: subclass it and assign variables and modules
    as attributes; ``variables``, ``trainable_variables`` and ``submodules`` find them."""

    def __init__(self, name: str | None = None):
        if name is None:
            name = _snake_case(type(self).__name__)
        if not isinstance(name, str) or not (name.isidentifier() and name.isascii()):
            raise ValueError(
                f"{name!r} is not a valid module name. Module names must be valid Python "
                "identifiers (e.g. a valid class name)."
            )
        self._name = name
        with _name_scope(name) as scope:
            self._scope_name = scope
        self._module_scope = _ModuleScope(scope)

    @property
    def name(self) -> str:
        """The module's name (not including its parents' scopes)."""
        return self._name

    @property
    def name_scope(self) -> _name_scope:
        """A name scope for this module's ops; entering it gives ``"outer/name/"``."""
        return self._module_scope

    @property
    def variables(self) -> tuple:
        """Variables of this module and its submodules, each once."""
        return tuple(self._flatten(predicate=is_variable))

    @property
    def trainable_variables(self) -> tuple:
        """The trainable ones of ``variables``."""
        return tuple(self._flatten(predicate=lambda x: is_variable(x) and x.trainable))

    @property
    def non_trainable_variables(self) -> tuple:
        """The non-trainable ones of ``variables``."""
        return tuple(self._flatten(predicate=lambda x: is_variable(x) and not x.trainable))

    @property
    def submodules(self) -> tuple:
        """Every module reachable from this one (not itself), each once."""
        return tuple(self._flatten(predicate=lambda x: isinstance(x, Module)))

    def _flatten(self, recursive: bool = True, predicate=None):
        """Yield, once each, the objects reachable from this module's attributes for which
        ``predicate`` is true: this module's own finds, then each submodule's in turn."""
        predicate = predicate or (lambda x: True)
        seen = {id(self)}
        yield from _walk(self, recursive, predicate, seen, set())

    @classmethod
    def with_name_scope(cls, method):
        """Decorator: run ``method`` inside the module's ``name_scope``."""

        @functools.wraps(method)
        def wrapped(self, *args, **kwargs):
            with self.name_scope:
                return method(self, *args, **kwargs)

        return wrapped


def _walk(module, recursive, predicate, seen, active):
    subs = []
    attrs = vars(module)
    for key in sorted(attrs):
        if key in _IGNORED:
            continue
        for leaf in _leaves(attrs[key]):
            if id(leaf) in seen:
                continue
            seen.add(id(leaf))
            if predicate(leaf):
                yield leaf
            if recursive and isinstance(leaf, Module):
                subs.append(leaf)
    active.add(id(module))
    for sub in subs:
        if id(sub) not in active:
            yield from _walk(sub, recursive, predicate, seen, active)
    active.discard(id(module))
