"""``tf.variable_creator_scope``: a per-thread chain of functions that every
``tf.Variable(...)`` construction passes through."""

from __future__ import annotations

import contextlib
import threading

__all__ = ["variable_creator_scope", "CreatorHook"]

# The keyword arguments a creator receives: every parameter of ``tf.Variable``, as in TF.
_VARIABLE_ARGS = (
    "initial_value", "trainable", "validate_shape", "caching_device", "name", "variable_def",
    "dtype", "import_scope", "constraint", "synchronization", "aggregation", "shape",
    "experimental_enable_variable_lifting",
)  # fmt: skip

_local = threading.local()
# Scopes open on any thread: while zero, constructing a Variable skips the thread-local look-up.
_open = 0
_open_lock = threading.Lock()


def _stack() -> list:
    s = getattr(_local, "stack", None)
    if s is None:
        s = _local.stack = []
    return s


class CreatorHook(type):
    """Metaclass of ``Variable``: routes ``Variable(...)`` (the base class only, as TF)
    through the active creators, innermost scope first."""

    def __call__(cls, *args, **kwargs):
        if not _open or cls.__dict__.get("_rill_creator_base") is not True:
            return super().__call__(*args, **kwargs)
        stack = getattr(_local, "stack", None)
        if not stack:
            return super().__call__(*args, **kwargs)
        from rill.core.variables import Variable

        defaults = Variable.__init__.__defaults__
        names = _VARIABLE_ARGS
        if len(args) > len(names):
            raise TypeError(
                f"Variable() takes at most {len(names)} positional arguments ({len(args)} given)"
            )
        full = dict(zip(names, defaults, strict=True))
        for k in kwargs:
            if k not in full:
                raise TypeError(f"Variable() got an unexpected keyword argument {k!r}")
        full.update(zip(names, args))
        full.update(kwargs)
        make = type.__call__

        def base(**kw):
            return make(cls, **kw)

        # The outermost scope's creator is called last, so it wraps the real constructor.
        chain = base
        for creator in stack:
            chain = _bind(creator, chain)
        return chain(**full)


def _bind(creator, next_creator):
    def call(**kw):
        return creator(next_creator, **kw)

    return call


@contextlib.contextmanager
def variable_creator_scope(variable_creator):
    """Inside the block, ``tf.Variable(...)`` calls ``variable_creator(next_creator, **kwargs)``;
    nested scopes chain, the innermost first."""
    global _open
    stack = _stack()
    stack.append(variable_creator)
    with _open_lock:
        _open += 1
    try:
        yield
    finally:
        with _open_lock:
            _open -= 1
        stack.pop()
