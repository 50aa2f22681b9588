"""What the preprocessing layers share: input conversion (strings, ragged and sparse
tensors pass through), iterating the batches given to ``adapt``, argument checks, and
the categorical encodings (one-hot, multi-hot, count) of integer ids."""

from __future__ import annotations

import numpy as np

import rill as tf
from rill.core.tensor import Tensor
from rill.core.variables import Variable
from rill.keras.layer import Layer

__all__ = [
    "PreprocessingLayer", "as_tensor", "batches", "check_choice", "encode_categorical",
    "is_composite", "to_numpy",
]  # fmt: skip


def is_composite(x) -> bool:
    """A RaggedTensor or a SparseTensor."""
    return isinstance(x, (tf.RaggedTensor, tf.SparseTensor))


def as_tensor(x, dtype=None):
    """``x`` as a Tensor (ragged and sparse tensors kept), cast to ``dtype`` if given."""
    if is_composite(x):
        if dtype is not None and x.dtype != tf.as_dtype(dtype):
            return _map_values(x, lambda v: tf.cast(v, dtype))
        return x
    if not isinstance(x, (Tensor, Variable)):
        a = to_numpy(x)
        if a.dtype.kind in "OSU":
            x = tf.constant(a, dtype=tf.string)
        else:
            x = tf.convert_to_tensor(a)
    if dtype is not None and x.dtype != tf.as_dtype(dtype):
        x = tf.cast(x, dtype)
    return x


def _map_values(x, fn):
    if isinstance(x, tf.SparseTensor):
        return tf.SparseTensor(x.indices, fn(x.values), x.dense_shape)
    return x.with_flat_values(fn(x.flat_values))


def to_numpy(x) -> np.ndarray:
    """A NumPy array of ``x``; string data as an object array of ``bytes``."""
    if isinstance(x, (Tensor, Variable)):
        a = np.asarray(x.numpy())
    elif is_composite(x):
        a = to_numpy(x.values if isinstance(x, tf.SparseTensor) else x.flat_values)
    else:
        a = np.asarray(x)
    if a.dtype.kind in "SU" or (a.dtype.kind == "O" and a.size and _is_text(a.flat[0])):
        out = np.empty(a.shape, dtype=object)
        out.reshape(-1)[:] = [_as_bytes(s) for s in a.reshape(-1).tolist()]
        return out
    return a


def _is_text(s) -> bool:
    return isinstance(s, (bytes, str, np.ndarray))


def _as_bytes(s) -> bytes:
    if isinstance(s, np.ndarray):  # a 0-d element of a batched string array
        s = s.item()
    return s.encode("utf-8") if isinstance(s, str) else bytes(s)


def batches(data, steps=None):
    """The batches of ``adapt``'s ``data``: a Dataset or an iterable of batches yields
    each (the features of ``(x, y)`` pairs), anything else is one batch."""
    if isinstance(data, tf.data.Dataset):
        it = iter(data.take(steps) if steps is not None else data)
    elif hasattr(data, "__iter__") and not isinstance(
        data, (list, tuple, np.ndarray, Tensor, Variable, str, bytes)
    ):
        it = iter(data)
    else:
        yield data
        return
    for i, b in enumerate(it):
        if steps is not None and i >= steps:
            return
        b = b[0] if isinstance(b, tuple) else b
        if isinstance(b, Tensor) and b.dtype == tf.string:
            # batched string elements can arrive as 0-d arrays inside the object array
            b = tf.constant(to_numpy(b), dtype=tf.string)
        yield b


def check_choice(layer_name: str, arg: str, value, allowed, allow_none=False, allow_callable=False):
    """Raise ValueError unless ``value`` is one of ``allowed`` (or None / a callable)."""
    if value is None and allow_none:
        return
    if callable(value) and allow_callable:
        return
    if value in allowed:
        return
    extra = (" or None" if allow_none else "") + (" or a callable" if allow_callable else "")
    raise ValueError(
        f"The `{arg}` argument of layer {layer_name} received an invalid value {value!r}. "
        f"Allowed values are: {', '.join(repr(a) for a in allowed)}{extra}."
    )


def encode_categorical(inputs, output_mode, depth, dtype, count_weights=None):
    """Integer ids as one-hot vectors, or their multi-hot / count reduction over axis 1
    (axis 0 for a vector), as Keras' ``encode_categorical_inputs``; ids outside
    ``[0, depth)`` count nowhere."""
    if output_mode == "int":
        return tf.cast(inputs, dtype)
    x = inputs
    if x.shape.rank == 0:
        x = tf.expand_dims(x, -1)
    if output_mode == "one_hot":
        if x.shape.rank > 1 and x.shape[-1] == 1:
            x = tf.squeeze(x, -1)
        return tf.one_hot(tf.cast(x, tf.int64), depth, dtype=dtype)
    if output_mode not in ("multi_hot", "count"):
        raise ValueError(f"Unknown output_mode {output_mode!r}")
    axis = 1 if x.shape.rank > 1 else 0
    if count_weights is not None:
        dtype = count_weights.dtype
    hot = tf.one_hot(tf.cast(x, tf.int64), depth, dtype=dtype)
    if output_mode == "multi_hot":
        return tf.reduce_max(hot, axis=axis)
    if count_weights is not None:
        hot = hot * tf.expand_dims(count_weights, -1)
    return tf.reduce_sum(hot, axis=axis)


def check_non_negative(layer, ids) -> None:
    """Keras' bincount refuses negative ids in multi-hot and count modes (eagerly)."""
    if isinstance(ids, Tensor):
        try:
            a = ids.numpy()
        except Exception:  # a symbolic tensor while tracing: no value to check
            return
        if a is not None and a.size and a.min() < 0:
            raise tf.errors.InvalidArgumentError(
                None,
                None,
                f"{type(layer).__name__} {layer.name!r}: input must be non-negative; "
                f"found {int(a.min())}.",
            )


class PreprocessingLayer(Layer):
    """A layer whose inputs may be strings, lists, ragged or sparse tensors: converted
    here, not with the float dtype hint of ``Layer.__call__``."""

    def __call__(self, inputs, *args, **kwargs):
        from rill.keras.keras_tensor import KerasTensor

        if isinstance(inputs, (list, tuple)) and self._nested_inputs:
            inputs = type(inputs)(x if isinstance(x, KerasTensor) else as_tensor(x) for x in inputs)
        elif not isinstance(inputs, KerasTensor):
            inputs = as_tensor(inputs)
        if is_composite(inputs):  # Layer.__call__ would convert it to a dense tensor
            if not self.built:
                self.build(inputs.shape)
                self.built = True
            return self.call(inputs, *args, **kwargs)
        return super().__call__(inputs, *args, **kwargs)

    _nested_inputs = False
