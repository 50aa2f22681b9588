"""``tf.make_tensor_proto`` and ``tf.make_ndarray``: arrays to and from TensorFlow's
``TensorProto`` (through the optional protobuf extra, ``rill[proto]``)."""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.core import protos as _protos
from rill.ops._op import tf_export


@tf_export("make_tensor_proto")
def make_tensor_proto(values, dtype=None, shape=None, verify_shape=False, allow_broadcast=False):
    """A ``TensorProto`` of ``values`` (a tensor, array or nested list), as ``dtype`` and
    ``shape``. A single value fills a larger ``shape`` (stored once); numbers of more than
    one element go in ``tensor_content``, as TensorFlow writes them."""
    if hasattr(values, "numpy"):
        values = values.numpy()
    dt = None if dtype is None else _d.as_dtype(dtype)
    arr = np.asarray(values, dtype=None if dt is None or dt.is_string else dt.np)
    if dt is None:
        dt = _d.string if arr.dtype.kind in "OSU" else _d.from_numpy(arr.dtype)
        if arr.dtype == np.float64 and not isinstance(values, np.ndarray):
            dt, arr = _d.float32, arr.astype(np.float32)  # Python floats are float32 in TF
        elif arr.dtype == np.int64 and not isinstance(values, np.ndarray):
            dt, arr = _d.int32, arr.astype(np.int32)
    if dt.is_string:
        arr = np.asarray(arr, dtype=object)
    if shape is None:
        shape = arr.shape
    shape = tuple(int(d) for d in shape)
    size = int(np.prod(shape, dtype=np.int64))
    if arr.size != size:
        if verify_shape:
            raise TypeError(f"Expected Tensor's shape: {shape}, but got {arr.shape}.")
        if allow_broadcast:
            arr = np.broadcast_to(arr, shape)
        elif arr.size != 1:
            raise ValueError(
                f"Too many elements provided. Needed at most {size}, but received {arr.size}"
                if arr.size > size
                else f"Expected {size} elements for shape {list(shape)}, got {arr.size}"
            )
    proto = _protos.make_tensor_proto(
        arr.reshape(-1)[:1] if arr.size == 1 else arr.reshape(shape), dt, compact=True
    )
    del proto.tensor_shape.dim[:]
    for d in shape:
        proto.tensor_shape.dim.add(size=d)
    return proto


@tf_export("make_ndarray")
def make_ndarray(tensor) -> np.ndarray:
    """The NumPy array a ``TensorProto`` holds."""
    return _protos.array_from_tensor_proto(tensor)
