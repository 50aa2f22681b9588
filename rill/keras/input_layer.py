"""``keras.Input``, ``keras.layers.InputLayer`` and ``KerasTensor``: the symbolic values of
the functional API.

A ``KerasTensor`` is a shape and a dtype with a history (the layer call that produced it);
calling a layer on KerasTensors records a node and infers the output's shape and dtype by
running the layer's ops' shape rules, never their kernels. ``keras.Model(inputs, outputs)``
then replays those nodes on real data.
"""

from __future__ import annotations

from rill.core.dtypes import as_dtype
from rill.core.tensor_shape import TensorShape
from rill.keras.layer import Layer, unique_name

__all__ = ["Input", "InputLayer", "KerasTensor"]

_NOT_A_TENSOR = (
    "A KerasTensor cannot be used as input to a TensorFlow function. A KerasTensor is a "
    "symbolic placeholder for a shape and dtype, used when constructing Keras Functional "
    "models. You can only use it as input to a Keras layer or a Python operator (+, -, *, "
    "/, @, indexing), which become part of the model. Wrap other TensorFlow calls in a "
    "custom layer (subclass keras.layers.Layer) or a keras.layers.Lambda. Received: {}"
)


class KerasTensor:
    """A symbolic tensor of the functional API: shape (with the batch dimension), dtype and
    the layer call that produced it (``_keras_history``)."""

    __array_priority__ = 1000  # NumPy defers `array + kt` to our operators

    def __init__(self, shape, dtype="float32", name=None, sparse=False, ragged=False):
        self.shape = TensorShape(shape)
        self.dtype = as_dtype(dtype)
        self.name = name or unique_name("keras_tensor")
        self.sparse = bool(sparse)
        self.ragged = bool(ragged)
        self._keras_history = None  # (operation, node_index, tensor_index)

    @property
    def ndim(self):
        return self.shape.rank

    def __repr__(self):
        return (
            f"<KerasTensor shape={tuple(self.shape.as_list())}, dtype={self.dtype.name}, "
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


def Input(  # noqa: N802 - Keras' public name
    shape=None,
    batch_size=None,
    dtype=None,
    sparse=None,
    batch_shape=None,
    name=None,
    tensor=None,
    optional=False,
) -> KerasTensor:
    """A model input of per-sample ``shape`` (or full ``batch_shape``)."""
    if batch_shape is None and shape is None:
        raise ValueError(
            "keras.Input: pass `shape` (without the batch dimension) or `batch_shape`."
        )
    layer = InputLayer(
        shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
        batch_shape=batch_shape, name=name, optional=optional,
    )  # fmt: skip
    return layer.output


class InputLayer(Layer):
    """The layer of a model's input: holds the input's KerasTensor and passes data through."""

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 input_tensor=None, optional=False, name=None, input_shape=None, **kwargs):  # fmt: skip
        kwargs.pop("ragged", None)
        if "batch_input_shape" in kwargs:  # Keras 2 configs
            batch_shape = kwargs.pop("batch_input_shape")
        if batch_shape is None:
            shape = shape if shape is not None else input_shape
            if shape is None:
                raise ValueError("InputLayer: pass `shape` or `batch_shape`.")
            batch_shape = (batch_size, *tuple(shape))
        batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        dtype = dtype.name if hasattr(dtype, "name") else dtype
        super().__init__(name=name or unique_name("input_layer"), dtype=dtype, **kwargs)
        self._batch_input_shape = batch_shape
        self.sparse = bool(sparse)
        self.optional = bool(optional)
        self.built = True
        from rill.keras.functional import Node

        tensor = KerasTensor(batch_shape, self._dtype, name=name, sparse=self.sparse)
        Node(self, (), {}, tensor)

    @property
    def batch_shape(self):
        return self._batch_input_shape

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {
            "batch_shape": list(self._batch_input_shape), "dtype": self._dtype,
            "sparse": self.sparse, "ragged": False, "name": self.name, "optional": self.optional,
        }  # fmt: skip


# operators on KerasTensors and Node live in functional.py (imported here so they exist)
import rill.keras.functional  # noqa: E402, F401
