"""What core asks of the layers above it, declared in one place.

Core never imports ``rill.ops`` or ``rill.tracing``. Where it needs them, it asks through
one of the two interfaces below, which the upper layers fill explicitly:

* ``TracingGraph``: the protocol of the graph being traced (``dispatch.state.graph``, a
  ``rill.tracing.FuncGraph``). The dispatcher binds ops into it, variables capture and
  assign through it, and the ops layer asks it for graph-mode control flow.
* ``core_ops``: the few ops the tape and conversion run themselves (seeding, summing and
  stacking gradients, packing symbolic tensors), registered once by ``rill.ops`` through
  ``register_core_ops``; and per-dtype gradient algebra (the zero and the sum of
  gradients of list-valued ``variant`` tensors, say), registered with
  ``register_gradient_algebra`` and keyed on the dtype, as JAX keys its on the abstract
  value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

__all__ = [
    "TracingGraph",
    "core_ops",
    "register_core_ops",
    "register_gradient_algebra",
    "grad_zeros_like",
    "grad_add",
]


class TracingGraph(Protocol):
    """What core and the ops layer ask of the graph being traced."""

    def bind(self, prim, inputs: tuple, params: dict) -> Any:
        """Record ``prim`` applied to ``inputs`` (captured into this graph as needed);
        returns its symbolic output(s), computed from the shape rule."""

    def capture_variable(self, var) -> Any:
        """A symbolic read of ``var`` inside this graph."""

    def assign_variable(self, var, value, mode: str, read_value: bool) -> Any:
        """Record an assignment (``mode``: assign, assign_add, assign_sub) to ``var``."""

    def variable_created(self, var) -> None:
        """Note that tracing created ``var`` (tf.function's create-once rule)."""

    def lift_initial_value(self, t) -> Any:
        """The concrete initial value of a variable created while tracing."""

    def cond(self, pred, true_fn: Callable, false_fn: Callable) -> Any:
        """Graph-mode ``tf.cond``."""

    def while_loop(self, cond: Callable, body: Callable, loop_vars, shape_invariants,
                   maximum_iterations) -> Any:  # fmt: skip
        """Graph-mode ``tf.while_loop``."""

    def scan(self, step: Callable, init, elems, reverse: bool) -> Any:
        """Graph-mode scan: ``step(carry, elem) -> (carry, y)`` over ``elems``."""


class _CoreOps:
    """The ops core runs itself; ``None`` until ``rill.ops`` registers them."""

    __slots__ = (
        "ones_like",
        "zeros_like",
        "add",
        "identity",
        "stack",
        "reshape",
        "convert",
        "tensor_scatter_nd_update",
        "tensor_scatter_nd_add",
        "tensor_scatter_nd_sub",
    )

    def __init__(self):
        for name in self.__slots__:
            setattr(self, name, None)


core_ops = _CoreOps()


def register_core_ops(**ops: Callable) -> None:
    """Called by the ``rill.ops`` modules that define them, with the public ops core needs,
    by the names ``_CoreOps`` lists (``convert(value, dtype)`` converts a Python value to
    a tensor of ``dtype``; the others are the public ops of those names)."""
    for name, fn in ops.items():
        if name not in _CoreOps.__slots__:
            raise TypeError(f"register_core_ops: {name!r} is not an op core uses")
        setattr(core_ops, name, fn)


_ALGEBRA: dict = {}  # DType -> (zeros_like, add) for gradients of that dtype


def register_gradient_algebra(dtype, *, zeros_like: Callable, add: Callable) -> None:
    """Gradients of tensors of ``dtype`` are zero-filled with ``zeros_like(t)`` and summed
    with ``add(a, b)`` instead of the dense ops."""
    _ALGEBRA[dtype] = (zeros_like, add)


def grad_zeros_like(t):
    """The zero gradient for ``t`` (what an unconnected or missing gradient stands for)."""
    rule = _ALGEBRA.get(t.dtype)
    return (rule[0] if rule else core_ops.zeros_like)(t)


def grad_add(a, b):
    """The sum of two gradients of one value (where it feeds several ops)."""
    rule = _ALGEBRA.get(a.dtype)
    return (rule[1] if rule else core_ops.add)(a, b)
