"""``to_categorical`` and ``normalize``: NumPy in, NumPy out; tensors in, tensors out."""

from __future__ import annotations

import numpy as np


def _is_tensor(x) -> bool:
    from rill.core.tensor import Tensor
    from rill.core.variables import Variable

    return isinstance(x, (Tensor, Variable))


def to_categorical(x, num_classes=None):
    """Class indices -> one-hot rows (a trailing axis of size 1 is replaced by the classes);
    ``num_classes`` defaults to ``max(x) + 1``."""
    if _is_tensor(x):
        import rill as tf

        shape = x.shape.as_list()
        if len(shape) > 1 and shape[-1] == 1:
            x = tf.squeeze(x, -1)
        if num_classes is None:
            num_classes = int(tf.reduce_max(x).numpy()) + 1
        return tf.one_hot(tf.cast(x, "int64"), num_classes, dtype="float32")
    x = np.array(x, dtype="int64")
    shape = x.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = x.reshape(-1)
    if not num_classes:
        num_classes = int(np.max(flat)) + 1
    out = np.zeros((flat.size, num_classes))
    out[np.arange(flat.size), flat] = 1
    return out.reshape(tuple(shape) + (num_classes,))


def normalize(x, axis=-1, order=2):
    """``x`` divided by its ``order``-norm along ``axis`` (zero norms left as 1, so zero
    vectors stay zero)."""
    if isinstance(x, np.ndarray):
        norm = np.atleast_1d(np.linalg.norm(x, order, axis))
        norm[norm == 0] = 1
        return x / np.expand_dims(norm, axis if axis is not None else -1)
    from rill.keras.ops import nn as keras_nn

    return keras_nn.normalize(x, axis=axis, order=order)
