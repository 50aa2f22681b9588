"""``experimental_enable_numpy_behavior``: NumPy's methods and promotion on every Tensor.

Enabling adds ``T``, ``size``, ``tolist``, ``reshape``, ``ravel``, ``astype``... to
``Tensor`` and, in the ``"legacy"`` conversion mode, makes its binary operators promote
mixed dtypes NumPy's way (``int32 + float32`` is ``float64``) where TF would raise.
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.core.tensor import Tensor, set_tensor_methods
from rill.experimental.numpy._array import around, clip, flatten, ravel, reshape, transpose
from rill.experimental.numpy._dtypes import mode, result_type, tensor
from rill.experimental.numpy._reduce import amax, amin, mean
from rill.ops._op import tf_export

_MODES = ("off", "legacy")
_AUTO_MODES = ("safe", "all")


def _t(self):
    """The transpose (axes reversed)."""
    return transpose(self)


def _size(self):
    """The number of elements, or None when the shape is not fully known."""
    dims = self.shape.as_list()
    if self.shape.rank is None or None in dims:
        return None
    return np.prod(dims, dtype=np.int64)


def _tolist(self):
    """The value as nested Python lists."""
    if not hasattr(self, "numpy"):
        raise ValueError("Symbolic Tensors do not support the tolist API.")
    return np.asarray(self.numpy()).tolist()


def _reshape(self, *newshape, **kwargs):
    """``reshape(2, 3)`` or ``reshape((2, 3))``, with ``order='C'`` or ``'F'``."""
    if len(newshape) == 1 and not isinstance(newshape[0], (int, np.integer)):
        newshape = newshape[0]
    return reshape(self, newshape, order=kwargs.get("order", "C"))


def _transpose(self, *axes):
    if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
        axes = axes[0]
    return transpose(self, axes if axes else None)


def _astype(self, dtype):
    """The tensor cast to ``dtype`` (a NumPy type, a rill DType or a name)."""
    from rill.ops.array_ops import cast

    return cast(self, _d.as_dtype(np.dtype(dtype) if isinstance(dtype, type) else dtype))


def _round(self, ndigits=None):
    return around(self, 0 if ndigits is None else ndigits)


_PROMOTED_OPS = (
    "__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ "
    "__floordiv__ __rfloordiv__ __mod__ __rmod__ __pow__ __rpow__ __matmul__ __rmatmul__ "
    "__lt__ __le__ __gt__ __ge__ __and__ __rand__ __or__ __ror__ __xor__ __rxor__"
).split()
_PY_SCALARS = (bool, int, float, complex)


def _promoting(op):
    """The operator ``op`` with NumPy's promotion of its operands applied first."""

    def method(self, other):
        if isinstance(other, Tensor):
            if other.dtype is self.dtype:
                return op(self, other)
        elif not isinstance(other, (*_PY_SCALARS, np.ndarray, np.generic, list, tuple)):
            return op(self, other)  # RaggedTensor, Variable...: their own rules
        dtype = result_type(self, other)
        return op(tensor(self, dtype), tensor(other, dtype))

    method.__name__ = getattr(op, "__name__", "op")
    return method


def _is_index_array(k, alone: bool) -> bool:
    if isinstance(k, (list, np.ndarray)):
        return True
    if isinstance(k, Tensor) and k.shape.rank != 0:
        # a lone boolean mask is TF's boolean_mask already (and works when traced)
        return k.dtype.is_integer or not alone
    return False


def _numpy_getitem(base):
    """``base`` (rill's TF-style indexing) extended with NumPy's array indexing."""

    def getitem(self, key):
        parts = key if isinstance(key, tuple) else (key,)
        if not any(_is_index_array(k, len(parts) == 1) for k in parts):
            return base(self, key)
        return _gather_by_positions(self, parts)

    return getitem


def _gather_by_positions(x, parts):
    """NumPy's advanced indexing, exactly: index an array of flat positions with the key
    in NumPy, then gather those positions (so gradients flow to ``x``)."""
    from rill.ops.array_ops import reshape
    from rill.ops.indexing_ops import gather

    dims = x.shape.as_list()
    if x.shape.rank is None or None in dims:
        raise ValueError(
            f"Integer-array indexing needs a fully known shape, got {x.shape}: use "
            "tf.gather or tf.gather_nd."
        )
    key = []
    for k in parts:
        if isinstance(k, Tensor):
            value = getattr(k, "numpy", None)
            if value is None:
                raise ValueError(
                    "Integer-array indexing with a symbolic index tensor is not supported: "
                    "use tf.gather or tf.gather_nd."
                )
            k = np.asarray(value())
        key.append(k)
    positions = np.arange(int(np.prod(dims, dtype=np.int64))).reshape(dims)[tuple(key)]
    flat = gather(reshape(x, [-1]), positions.reshape(-1))
    return reshape(flat, list(positions.shape))


def _methods(conversion_mode: str) -> dict:
    table = {
        "T": property(_t),
        "size": property(_size),
        "data": property(lambda self: self),
        "__pos__": lambda self: self,
        "tolist": _tolist,
        "transpose": _transpose,
        "flatten": flatten,
        "reshape": _reshape,
        "ravel": ravel,
        "clip": clip,
        "astype": _astype,
        "__round__": _round,
        "max": amax,
        "mean": mean,
        "min": amin,
        "__getitem__": _numpy_getitem(Tensor.__dict__["__getitem__"]),
    }
    if conversion_mode == "legacy":
        for name in _PROMOTED_OPS:
            current = Tensor.__dict__.get(name)
            if current is not None:
                table[name] = _promoting(current)
    return table


@tf_export("experimental.numpy.experimental_enable_numpy_behavior")
def experimental_enable_numpy_behavior(prefer_float32=False, dtype_conversion_mode="legacy"):
    """Give every Tensor NumPy's methods (``T``, ``reshape``, ``astype``...) and, with
    ``dtype_conversion_mode="legacy"``, NumPy's promotion in its operators;
    ``prefer_float32`` makes Python floats float32 in tnp's dtype inference."""
    if dtype_conversion_mode in _AUTO_MODES:
        raise ValueError(
            f"experimental_enable_numpy_behavior: dtype_conversion_mode "
            f"{dtype_conversion_mode!r} (TF's WeakTensor auto-conversion) is not supported "
            "by rill; use 'legacy' (NumPy's promotion) or 'off'."
        )
    if dtype_conversion_mode not in _MODES:
        raise ValueError(
            f"experimental_enable_numpy_behavior: invalid dtype_conversion_mode "
            f"{dtype_conversion_mode!r}: expected one of 'off', 'legacy', 'safe', 'all'."
        )
    # start from the plain Tensor so that enabling twice does not wrap twice
    set_tensor_methods(None)
    set_tensor_methods(_methods(dtype_conversion_mode))
    mode.prefer_float32 = bool(prefer_float32)
    mode.conversion_mode = dtype_conversion_mode
    mode.methods_enabled = True


def _disable_numpy_behavior() -> None:
    """Undo ``experimental_enable_numpy_behavior`` (rill's own tests use it)."""
    set_tensor_methods(None)
    mode.prefer_float32 = False
    mode.conversion_mode = "off"
    mode.methods_enabled = False
