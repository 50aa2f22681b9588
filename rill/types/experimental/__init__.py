"""``tf.types.experimental``: abstract types that rill's tensors and functions are
instances of (``isinstance(f, tf.types.experimental.PolymorphicFunction)``...)."""

from __future__ import annotations

import abc
import inspect
import typing

import numpy as np

from rill.core.tensor import Tensor
from rill.core.type_spec import TraceType
from rill.core.variables import Variable
from rill.ops._op import populate as _populate
from rill.ops._op import tf_export
from rill.tracing import polymorphic as _poly
from rill.types.experimental import distributed  # noqa: F401

__all__ = [
    "Callable", "ConcreteFunction", "GenericFunction", "PolymorphicFunction",
    "AtomicFunction", "FunctionType", "TensorLike", "TraceType", "SupportsTracingProtocol",
    "distributed",
]  # fmt: skip


@tf_export("types.experimental.Callable")
class Callable(abc.ABC):
    """Base of callable TF functions: ``function_type`` describes how they are called."""

    @property
    def function_type(self):
        """The FunctionType (parameters and their types) of this callable."""
        return _function_type_of(self)

    @abc.abstractmethod
    def __call__(self, *args, **kwargs):
        """Run the function."""


@tf_export("types.experimental.PolymorphicFunction", "types.experimental.GenericFunction")
class PolymorphicFunction(Callable):
    """A function traced once per input type (what ``rill.function`` returns)."""

    @abc.abstractmethod
    def get_concrete_function(self, *args, **kwargs):
        """The ConcreteFunction for these arguments (tracing it if needed)."""


GenericFunction = PolymorphicFunction


@tf_export("types.experimental.ConcreteFunction")
class ConcreteFunction(Callable):
    """A function traced for one input signature (one graph)."""


@tf_export("types.experimental.AtomicFunction")
class AtomicFunction(Callable):
    """The innermost callable graph function (rill's ConcreteFunction plays this part)."""


PolymorphicFunction.register(_poly.Function)
ConcreteFunction.register(_poly.ConcreteFunction)
AtomicFunction.register(_poly.ConcreteFunction)


@tf_export("types.experimental.FunctionType")
class FunctionType(inspect.Signature):
    """The parameters (with their TraceTypes as annotations) a function is called with."""

    def __init__(self, parameters=None, *, return_annotation=inspect.Signature.empty,
                 __validate_parameters__=True):  # fmt: skip
        super().__init__(
            parameters, return_annotation=return_annotation,
            __validate_parameters__=__validate_parameters__,
        )  # fmt: skip


def _function_type_of(fn) -> FunctionType:
    target = getattr(fn, "python_function", fn)
    sig = inspect.signature(target)
    return FunctionType(list(sig.parameters.values()), return_annotation=sig.return_annotation)


tf_export("types.experimental.TraceType")(TraceType)


@tf_export("types.experimental.SupportsTracingProtocol")
@typing.runtime_checkable
class SupportsTracingProtocol(typing.Protocol):
    """A value that gives ``rill.function`` its own TraceType."""

    @abc.abstractmethod
    def __tf_tracing_type__(self, context) -> TraceType:
        """The TraceType of this value."""


TensorLike = typing.Union[  # noqa: UP007 - TF's TensorLike is a typing.Union
    Tensor, Variable, int, float, bool, str, bytes, complex, tuple, list, np.ndarray, np.generic
]
tf_export("types.experimental.TensorLike")(TensorLike)

_populate(globals(), "types.experimental")
del _populate
