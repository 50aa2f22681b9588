"""TensorFlow's error classes.

Each subclasses ``OpError`` and, where TF users would catch a built-in, that built-in too
(``InvalidArgumentError`` is a ``ValueError``, ``UnimplementedError`` a
``NotImplementedError``, ``OutOfRangeError`` an ``IndexError``-free ``OpError`` as in TF).
"""

from __future__ import annotations

import os
import sys

OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND = 0, 1, 2, 3, 4, 5
ALREADY_EXISTS, PERMISSION_DENIED, RESOURCE_EXHAUSTED, FAILED_PRECONDITION = 6, 7, 8, 9
ABORTED, OUT_OF_RANGE, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS = 10, 11, 12, 13, 14, 15
UNAUTHENTICATED = 16


class OpError(Exception):
    """Base of the errors raised when an op fails (``message``, ``op``, ``error_code``)."""

    error_code = UNKNOWN

    def __init__(self, node_def=None, op=None, message="", *args):
        # TF's signature is (node_def, op, message); accept a bare message too.
        if message == "" and isinstance(node_def, str) and op is None:
            node_def, message = None, node_def
        super().__init__(message)
        self.node_def = node_def
        self.op = op
        self.message = message

    def __str__(self):
        return self.message


def _cls(name, code, *bases, doc=""):
    cls = type(name, (OpError, *bases), {"error_code": code, "__doc__": doc})
    cls.__module__ = __name__
    return cls


CancelledError = _cls("CancelledError", CANCELLED, doc="An operation was cancelled.")
UnknownError = _cls("UnknownError", UNKNOWN, doc="An unknown error.")
InvalidArgumentError = _cls(
    "InvalidArgumentError", INVALID_ARGUMENT, ValueError, doc="An op got an invalid argument."
)
DeadlineExceededError = _cls("DeadlineExceededError", DEADLINE_EXCEEDED, TimeoutError)
NotFoundError = _cls("NotFoundError", NOT_FOUND, doc="A requested entity was not found.")
AlreadyExistsError = _cls("AlreadyExistsError", ALREADY_EXISTS)
PermissionDeniedError = _cls("PermissionDeniedError", PERMISSION_DENIED, PermissionError)
UnauthenticatedError = _cls("UnauthenticatedError", UNAUTHENTICATED)
ResourceExhaustedError = _cls("ResourceExhaustedError", RESOURCE_EXHAUSTED, MemoryError)
FailedPreconditionError = _cls(
    "FailedPreconditionError",
    FAILED_PRECONDITION,
    doc="The system is not in a state to run the op.",
)
AbortedError = _cls("AbortedError", ABORTED)
OutOfRangeError = _cls("OutOfRangeError", OUT_OF_RANGE, doc="Iterated or read past the end.")
UnimplementedError = _cls("UnimplementedError", UNIMPLEMENTED, NotImplementedError)
InternalError = _cls("InternalError", INTERNAL)
UnavailableError = _cls("UnavailableError", UNAVAILABLE)
DataLossError = _cls("DataLossError", DATA_LOSS, doc="Unrecoverable data loss or corruption.")

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_call_site() -> str:
    """``file:line`` of the innermost stack frame outside the rill package."""
    f = sys._getframe(1)
    while f is not None:
        fn = f.f_code.co_filename
        # skip rill's own modules and the code rill.function generates ("<rill.function f>")
        if not fn.startswith("<rill.") and not os.path.abspath(fn).startswith(_PKG_DIR):
            return f"{fn}:{f.f_lineno}"
        f = f.f_back
    return "<unknown>"


def op_error(cls, op: str, detail: str) -> OpError:
    """An error of ``cls`` whose message names the op and the user's call site."""
    msg = f"{op}: {detail} (called from {user_call_site()})"
    if issubclass(cls, OpError):
        return cls(None, op, msg)
    return cls(msg)


class OperatorNotAllowedInGraphError(TypeError):
    """A Python operation on a symbolic tensor that needs its value (``bool(t)``, iterating
    a tensor of unknown length) while a function is being traced."""


class NotLowerable(Exception):
    """An op that the compiler (``rill.xla``) cannot lower; ``op``: the graph operation,
    once known. Here, below the ops, so that an op's ``lowering`` rule can raise it."""

    def __init__(self, reason: str, op=None):
        super().__init__(reason)
        self.reason = reason
        self.op = op
