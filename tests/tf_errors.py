"""The one table by which differential tests compare errors with TensorFlow.

When TensorFlow raises, rill must raise the class ``TF_TO_RILL`` maps TensorFlow's class to:
same-named ``tf.errors`` classes map to their ``rill.errors`` twins, built-in exceptions to
themselves. A class counts by its most specific entry in the table (the first one in its
MRO), so a rill ``InvalidArgumentError`` (a ``ValueError`` in rill) does not pass for TF's
plain ``ValueError``, nor a plain ``ValueError`` for TF's ``InvalidArgumentError``.
A TensorFlow class missing from the table fails the test: add it here, deliberately.

This module imports no TensorFlow; it reads TensorFlow's classes off the exceptions.
"""

from __future__ import annotations

import builtins

import rill

# tf.errors classes, each mirrored by the same name in rill.errors
OP_ERRORS = (
    "OpError", "CancelledError", "UnknownError", "InvalidArgumentError",
    "DeadlineExceededError", "NotFoundError", "AlreadyExistsError", "PermissionDeniedError",
    "UnauthenticatedError", "ResourceExhaustedError", "FailedPreconditionError", "AbortedError",
    "OutOfRangeError", "UnimplementedError", "InternalError", "UnavailableError",
    "DataLossError",
)  # fmt: skip

# built-in exceptions TensorFlow raises from its Python layer: rill raises the same
BUILTIN_ERRORS = (
    "ValueError", "TypeError", "IndexError", "KeyError", "AttributeError",
    "NotImplementedError", "RuntimeError", "ZeroDivisionError", "OverflowError",
    "StopIteration",
)  # fmt: skip

# TensorFlow's class (as "tf.errors.X" or the built-in's name) -> the rill class to raise
TF_TO_RILL: dict[str, type] = {
    **{f"tf.errors.{n}": getattr(rill.errors, n) for n in OP_ERRORS},
    **{n: getattr(builtins, n) for n in BUILTIN_ERRORS},
}
_RILL_CLASSES = {c: key for key, c in TF_TO_RILL.items()}


def tf_key(exc: BaseException) -> str:
    """TensorFlow's exception as a key of ``TF_TO_RILL``: its most specific tf.errors or
    built-in class (the first of its MRO in the table); its own name if none is."""
    for c in type(exc).__mro__:
        if c.__module__.startswith("tensorflow") and c.__name__ in OP_ERRORS:
            return f"tf.errors.{c.__name__}"
        if c.__module__ == "builtins" and c.__name__ in BUILTIN_ERRORS:
            return c.__name__
    return f"{type(exc).__module__}.{type(exc).__qualname__}"


def rill_class(exc: BaseException) -> type | None:
    """rill's exception by its most specific class in the table (None: not in it)."""
    for c in type(exc).__mro__:
        if c in _RILL_CLASSES:
            return c
    return None


def _name(c):
    return "None" if c is None else f"{c.__module__}.{c.__qualname__}"


def assert_same_error(rill_exc: BaseException, tf_exc: BaseException, what: str = "") -> None:
    """rill raised ``rill_exc`` where TensorFlow raised ``tf_exc``: the classes must match
    through ``TF_TO_RILL``."""
    key = tf_key(tf_exc)
    assert key in TF_TO_RILL, (
        f"{what}: TensorFlow raised {key} ({tf_exc}), which tests/tf_errors.py does not map: "
        f"add it to TF_TO_RILL"
    )
    want, got = TF_TO_RILL[key], rill_class(rill_exc)
    assert got is want, (
        f"{what}: TensorFlow raised {key}, so rill must raise {_name(want)}; it raised "
        f"{type(rill_exc).__name__} (counted as {_name(got)}): {rill_exc}"
    )


def compare_outcomes(rill_out, tf_out, what: str = "") -> bool:
    """For results captured as ``("raise", exception)`` or anything else: if either side
    raised, both must, with classes matching through the table; returns True then (the
    caller has nothing left to compare), False when neither raised."""
    r_raised = isinstance(rill_out, tuple) and rill_out[:1] == ("raise",)
    t_raised = isinstance(tf_out, tuple) and tf_out[:1] == ("raise",)
    if not (r_raised or t_raised):
        return False
    assert r_raised, f"{what}: TensorFlow raised {tf_key(tf_out[1])} ({tf_out[1]}), rill did not"
    assert t_raised, f"{what}: rill raised {type(rill_out[1]).__name__} ({rill_out[1]}), TF did not"
    assert_same_error(rill_out[1], tf_out[1], what)
    return True
