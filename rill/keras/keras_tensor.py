"""``KerasTensor``: the symbolic value of the functional API.

A KerasTensor is a shape and a dtype with a history: the operation call that produced it
(``_keras_history``). Calling a layer on KerasTensors records a node and infers the
output's shape and dtype by running the layer's ops' shape rules, never their kernels;
Python operators on KerasTensors (``kt + 1``, ``a @ b``, ``kt[:, 0]``) record operator
nodes the same way, as Keras 3 records ``keras.ops`` calls. ``keras.Model(inputs,
outputs)`` then replays the nodes on real data.

This module is a leaf of ``rill.keras``: the operator nodes belong to the functional graph
(``rill.keras.functional``), which ``_apply`` looks up when an operator is first applied.
"""

from __future__ import annotations

import numpy as np

from rill.core.dtypes import as_dtype
from rill.core.tensor_shape import TensorShape
from rill.keras.naming import unique_name

__all__ = ["KerasTensor"]

_NOT_A_TENSOR = (
    "A KerasTensor cannot be used as input to a TensorFlow function. A KerasTensor is a "
    "symbolic placeholder for a shape and dtype, used when constructing Keras Functional "
    "models. You can only use it as input to a Keras layer or a Python operator (+, -, *, "
    "/, @, indexing), which become part of the model. Wrap other TensorFlow calls in a "
    "custom layer (subclass keras.layers.Layer) or a keras.layers.Lambda. Received: {}"
)


def _apply(op: str, *args):
    """Record the operator ``op`` (``"add"``, ``"getitem"``...) applied to ``args`` as a node
    of the functional graph; its output KerasTensor(s)."""
    from rill.keras.functional import Operator  # above this leaf module: found on first use

    return Operator(op)(*args)


def _binary(op: str, reflected: bool = False):
    def method(self, other):
        if isinstance(other, (np.ndarray, np.generic)) and other.dtype.kind == "f":
            other = other.astype(self.dtype)  # a NumPy float takes the tensor's precision
        return _apply(op, other, self) if reflected else _apply(op, self, other)

    method.__name__ = op
    return method


def _unary(op: str):
    def method(self):
        return _apply(op, self)

    method.__name__ = op
    return method


class KerasTensor:
    """A symbolic tensor of the functional API: shape (with the batch dimension), dtype and
    the layer call that produced it (``_keras_history``)."""

    __array_priority__ = 1000  # NumPy defers `array + kt` to our operators

    def __init__(self, shape, dtype="float32", name=None, sparse=False, ragged=False):
        # Keras 3's public forms: a plain tuple (None for unknown sizes) and a dtype name
        self.shape = tuple(TensorShape(shape).as_list())
        self.dtype = as_dtype(dtype).name
        self.name = name or unique_name("keras_tensor")
        self.sparse = bool(sparse)
        self.ragged = bool(ragged)
        self._keras_history = None  # (operation, node_index, tensor_index)

    @property
    def ndim(self) -> int:
        """The rank (the length of ``shape``)."""
        return len(self.shape)

    def __repr__(self):
        return (
            f"<KerasTensor shape={self.shape}, dtype={self.dtype}, "
            f"sparse={self.sparse}, ragged={self.ragged}, name={self.name}>"
        )

    def __array__(self, *args, **kwargs):
        raise ValueError(_NOT_A_TENSOR.format(self))

    def __bool__(self):
        raise TypeError(
            f"A KerasTensor is symbolic: it has no value to be used as a Python bool. "
            f"Received: {self}"
        )

    def __iter__(self):
        raise TypeError(f"A KerasTensor is symbolic and cannot be iterated. Received: {self}")

    __hash__ = object.__hash__

    # operators: each records an operator node, which applies rill's op to the real values
    __add__ = _binary("add")
    __radd__ = _binary("add", reflected=True)
    __sub__ = _binary("subtract")
    __rsub__ = _binary("subtract", reflected=True)
    __mul__ = _binary("multiply")
    __rmul__ = _binary("multiply", reflected=True)
    __truediv__ = _binary("divide")
    __rtruediv__ = _binary("divide", reflected=True)
    __floordiv__ = _binary("floor_divide")
    __rfloordiv__ = _binary("floor_divide", reflected=True)
    __pow__ = _binary("power")
    __rpow__ = _binary("power", reflected=True)
    __mod__ = _binary("mod")
    __rmod__ = _binary("mod", reflected=True)
    __matmul__ = _binary("matmul")
    __rmatmul__ = _binary("matmul", reflected=True)
    __lt__ = _binary("less")
    __le__ = _binary("less_equal")
    __gt__ = _binary("greater")
    __ge__ = _binary("greater_equal")
    __neg__ = _unary("negative")
    __abs__ = _unary("absolute")

    def __getitem__(self, key):
        return _apply("getitem", self, key)
