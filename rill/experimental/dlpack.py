"""``tf.experimental.dlpack``: zero-copy exchange of tensors with other array libraries
through DLPack capsules (NumPy's ``__dlpack__`` protocol)."""

from __future__ import annotations

import numpy as np

from rill.core.convert import convert_to_tensor
from rill.core.tensor import wrap
from rill.ops._op import tf_export

_CPU = 1  # DLPack's kDLCPU


class _Capsule:
    """Lets NumPy's ``from_dlpack`` consume a bare capsule (it expects an object with
    ``__dlpack__``)."""

    def __init__(self, capsule):
        self._capsule = capsule

    def __dlpack__(self, **_):
        return self._capsule

    def __dlpack_device__(self):
        return (_CPU, 0)


@tf_export("experimental.dlpack.to_dlpack")
def to_dlpack(tf_tensor):
    """A DLPack capsule sharing ``tf_tensor``'s memory (consume it once)."""
    arr = np.ascontiguousarray(convert_to_tensor(tf_tensor).numpy())
    return arr.__dlpack__()


@tf_export("experimental.dlpack.from_dlpack")
def from_dlpack(dlcapsule):
    """A tensor over the memory of a DLPack capsule (e.g. from ``to_dlpack`` or another
    library's ``__dlpack__()``) on the CPU."""
    if type(dlcapsule).__name__ != "PyCapsule":
        raise TypeError(
            f"from_dlpack: expected a DLPack capsule, got {type(dlcapsule).__name__}; pass "
            f"x.__dlpack__() for an object with the DLPack protocol"
        )
    return wrap(np.from_dlpack(_Capsule(dlcapsule)))
