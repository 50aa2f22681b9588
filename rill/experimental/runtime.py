"""``tf.experimental`` runtime switches and the narrow dtypes.

rill executes eagerly and synchronously on one host executor, so ``async_scope`` (ops
return before they finish in TF), ``async_clear_error`` and ``function_executor_type``
change nothing observable: each op has finished when it returns, and errors raise at the
op that caused them, which is what TF guarantees at the end of an async scope.
"""

from __future__ import annotations

import contextlib

from rill.core import dtypes as _d
from rill.ops._op import tf_export

for _name in (
    "float8_e5m2", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e4m3b11fnuz", "float8_e5m2fnuz",
    "int4", "uint4", "int2", "uint2", "float4_e2m1fn",
):  # fmt: skip
    tf_export(f"experimental.{_name}")(getattr(_d, _name))

_state = {"strict": False, "executor": None}


@tf_export("experimental.async_scope")
@contextlib.contextmanager
def async_scope():
    """Run ops asynchronously inside the scope (in rill every op finishes before it
    returns, so results and errors are those of the synchronous run)."""
    yield


@tf_export("experimental.async_clear_error")
def async_clear_error() -> None:
    """Clear pending asynchronous errors (rill raises each error at its op: none pend)."""


@tf_export("experimental.function_executor_type")
@contextlib.contextmanager
def function_executor_type(executor_type):
    """Use ``executor_type`` for the functions called inside (rill has one executor; the
    name is recorded and visible to ``rill.config`` introspection only)."""
    previous, _state["executor"] = _state["executor"], executor_type
    try:
        yield
    finally:
        _state["executor"] = previous


@tf_export("experimental.enable_strict_mode")
def enable_strict_mode() -> None:
    """Turn on TF's strict mode, in which deprecated behaviours raise instead of warning
    (rill implements none of TF's deprecated behaviours, so there is nothing to refuse)."""
    _state["strict"] = True
