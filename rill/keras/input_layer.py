"""``keras.Input`` and ``keras.layers.InputLayer``: where the symbolic values of the
functional API (``KerasTensor``, re-exported here) enter a model.

An ``InputLayer`` holds one KerasTensor, recorded as the output of a node with no inputs;
calling layers on it records further nodes (``operation``), and ``keras.Model(inputs,
outputs)`` replays them on real data.
"""

from __future__ import annotations

from rill.core.dtypes import as_dtype
from rill.keras.keras_tensor import KerasTensor
from rill.keras.layer import Layer
from rill.keras.naming import unique_name
from rill.keras.operation import Node

__all__ = ["Input", "InputLayer", "KerasTensor"]


def Input(  # noqa: N802 - Keras' public name
    shape=None,
    batch_size=None,
    dtype=None,
    sparse=None,
    ragged=None,
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
        shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse, ragged=ragged,
        batch_shape=batch_shape, name=name, optional=optional,
    )  # fmt: skip
    return layer.output


class InputLayer(Layer):
    """The layer of a model's input: holds the input's KerasTensor and passes data through."""

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, ragged=None,
                 batch_shape=None, input_tensor=None, optional=False, name=None,
                 input_shape=None, **kwargs):  # fmt: skip
        if sparse and ragged:
            raise ValueError("You cannot pass both `sparse=True` and `ragged=True` to Input.")
        if "batch_input_shape" in kwargs:  # Keras 2 configs
            batch_shape = kwargs.pop("batch_input_shape")
        if batch_shape is None:
            shape = shape if shape is not None else input_shape
            if shape is None:
                raise ValueError("InputLayer: pass `shape` or `batch_shape`.")
            batch_shape = (batch_size, *tuple(shape))
        batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        # Keras 3: the input's dtype is `floatx()` unless given, whatever the dtype policy
        from rill.keras.config import floatx

        dtype = floatx() if dtype is None else dtype
        dtype = dtype.name if hasattr(dtype, "name") else as_dtype(dtype).name
        super().__init__(name=name or unique_name("input_layer"), **kwargs)
        self._input_dtype = dtype
        self._batch_input_shape = batch_shape
        self.sparse = bool(sparse)
        self.ragged = bool(ragged)
        self.optional = bool(optional)
        self.built = True
        tensor = KerasTensor(batch_shape, dtype, name=name, sparse=self.sparse, ragged=self.ragged)
        Node(self, (), {}, tensor)

    @property
    def dtype(self) -> str:
        """The dtype of the input (``floatx()`` unless given)."""
        return self._input_dtype

    @property
    def batch_shape(self):
        return self._batch_input_shape

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {
            "batch_shape": list(self._batch_input_shape), "dtype": self._input_dtype,
            "sparse": self.sparse, "ragged": self.ragged, "name": self.name,
            "optional": self.optional,
        }  # fmt: skip
