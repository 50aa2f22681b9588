"""``Tensor`` (the abstract type users see) and ``EagerTensor`` (a NumPy array + DType).

Operators (``+``, ``[]``, ``==`` ...) are installed by ``rill.ops`` so that they run the
same op definitions as the functional API; this module only knows values and metadata.
"""

from __future__ import annotations

import numpy as np

from rill.backend import CPU_DEVICE
from rill.core import dtypes as _d
from rill.core.tensor_shape import TensorShape
from rill.core.type_spec import BatchableTypeSpec, common_shape

__all__ = ["Tensor", "EagerTensor", "TensorSpec"]

_np_to_dtype = {}  # filled lazily; NumPy dtype -> DType for kernel outputs


def dtype_of_array(a) -> _d.DType:
    d = _np_to_dtype.get(a.dtype)
    if d is None:
        if a.dtype.hasobject:  # strings hold bytes; anything else is an opaque variant
            first = a.reshape(-1)[0] if a.size else b""
            return _d.string if isinstance(first, (bytes, str)) else _d.variant
        d = _np_to_dtype[a.dtype] = _d.from_numpy(a.dtype)
    return d


class Tensor:
    """Base class of every tensor: eager values and (in ``rill.function``) symbolic ones."""

    __slots__ = ()
    _array_priority = 100
    __array_priority__ = 100  # make NumPy defer `ndarray + Tensor` to Tensor.__radd__
    # op wrappers redirect calls with a dispatching argument (RaggedTensor, SparseTensor);
    # a class attribute answers their getattr without a failed lookup per argument
    _rill_dispatch = False

    # operator slots are filled in by rill.ops.operators
    def __hash__(self):
        raise TypeError("Tensor is unhashable. Instead, use tensor.ref() as the key.")

    def ref(self):
        """A hashable reference to this tensor (``deref()`` gives it back)."""
        return _Ref(self)

    experimental_ref = ref

    @property
    def ndim(self) -> int:
        return self.shape.rank

    def get_shape(self) -> TensorShape:
        return self.shape

    def set_shape(self, shape):
        if not self.shape.is_compatible_with(shape):
            raise ValueError(
                f"Tensor's shape {self.shape} is not compatible with supplied shape {TensorShape(shape)}."
            )


class _Ref:
    __slots__ = ("_t",)

    def __init__(self, t):
        self._t = t

    def deref(self):
        return self._t

    def __hash__(self):
        return id(self._t)

    def __eq__(self, other):
        return isinstance(other, _Ref) and other._t is self._t

    def __repr__(self):
        return f"<Reference wrapping {self._t!r}>"


class EagerTensor(Tensor):
    """An immutable tensor holding a concrete array."""

    __slots__ = ("_value", "_dtype", "_tid", "__weakref__")

    # NOTE: construction goes through `wrap` below (no __init__ on the hot path).

    @property
    def dtype(self) -> _d.DType:
        return self._dtype

    @property
    def shape(self) -> TensorShape:
        s = _new(TensorShape)  # NumPy shapes are already valid dims: skip validation
        s._dims = self._value.shape
        return s

    @property
    def ndim(self) -> int:
        return self._value.ndim

    @property
    def device(self) -> str:
        return CPU_DEVICE

    @property
    def name(self):
        raise AttributeError("Tensor.name is undefined when eager execution is enabled.")

    @property
    def graph(self):
        raise AttributeError("Tensor.graph is undefined when eager execution is enabled.")

    def numpy(self):
        """The value as a NumPy array (a NumPy scalar for 0-d tensors, like TF)."""
        v = self._value
        if v.ndim == 0:
            return v[()]
        # a broadcast view (a reduction's gradient) is read-only; TF hands out arrays the
        # caller may write to
        return v if v.flags.writeable else v.copy()

    def __array__(self, dtype=None, copy=None):
        v = self._value
        if dtype is not None and v.dtype != dtype:
            return v.astype(dtype)
        return v.copy() if copy else v

    def __len__(self):
        if self._value.ndim == 0:
            raise TypeError("Scalar tensor has no `len()`")
        return self._value.shape[0]

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("Cannot iterate over a scalar tensor.")
        d = self._dtype
        return (wrap(np.asarray(row), d) for row in self._value)

    def __bool__(self):
        return bool(self._value)

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __complex__(self):
        return complex(self._value)

    def __index__(self):
        if not (self._dtype.is_integer or self._dtype.is_bool) or self._value.ndim != 0:
            raise TypeError(
                f"Only integer scalar tensors can be used as an index, got shape "
                f"{self.shape} and dtype {self._dtype.name}."
            )
        return int(self._value)

    def __format__(self, spec):
        if self._value.ndim == 0:
            return format(self._value[()], spec)
        return format(str(self), spec)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        from rill.core.convert import constant

        return constant, (self._value, self._dtype)

    def _numpy_text(self, is_repr=False):
        v = self._value
        if v.ndim == 0:
            x = v[()]
            return repr(x) if isinstance(x, bytes) else str(x)
        return repr(v) if is_repr else str(v)

    def __repr__(self):
        return (
            f"<rill.Tensor: shape={self.shape}, dtype={self._dtype.name}, "
            f"numpy={self._numpy_text(True)}>"
        )

    def __str__(self):
        text = self._numpy_text()
        if "\n" in text:
            text = "\n" + text
        return f"rill.Tensor({text}, shape={self.shape}, dtype={self._dtype.name})"


_replaced: dict = {}  # attribute -> what set_tensor_methods replaced (absent: nothing)


def set_tensor_methods(table: dict | None) -> None:
    """Add ``table``'s methods and properties to every Tensor, or with None take them
    back. ``tf.experimental.numpy.experimental_enable_numpy_behavior`` adds NumPy's
    (``T``, ``reshape``, ``astype``...) and its promoting operators this way, at the
    user's request, as TF does; core itself never calls it."""
    if table is None:
        for name, old in _replaced.items():
            if old is None:
                delattr(Tensor, name)
            else:
                setattr(Tensor, name, old)
        _replaced.clear()
        return
    for name, fn in table.items():
        if name not in _replaced:
            _replaced[name] = Tensor.__dict__.get(name)
        setattr(Tensor, name, fn)


_new = object.__new__
_ndarray = np.ndarray
_asarray = np.asarray


def wrap(value, dtype=None) -> EagerTensor:
    """Wrap a backend array (normalising NumPy scalars to 0-d arrays) as an EagerTensor."""
    if type(value) is not _ndarray:
        value = _asarray(value)
    t = _new(EagerTensor)
    t._value = value
    t._dtype = dtype if dtype is not None else dtype_of_array(value)
    return t


class TensorSpec(BatchableTypeSpec):
    """Describes a tensor: ``shape`` (possibly partial), ``dtype`` and ``name``."""

    __slots__ = ("shape", "dtype", "name")

    def __init__(self, shape, dtype=_d.float32, name=None):
        self.shape = TensorShape(shape)
        self.dtype = _d.as_dtype(dtype)
        self.name = name

    @classmethod
    def from_tensor(cls, tensor, name=None):
        return cls(tensor.shape, tensor.dtype, name)

    @classmethod
    def from_spec(cls, spec, name=None):
        return cls(spec.shape, spec.dtype, name if name is not None else spec.name)

    def is_compatible_with(self, other) -> bool:
        if not hasattr(other, "dtype") or not hasattr(other, "shape"):
            return super().is_compatible_with(other)  # a Python or NumPy value
        return self.dtype == other.dtype and self.shape.is_compatible_with(other.shape)

    def most_specific_compatible_type(self, other) -> TensorSpec:
        if self.dtype != other.dtype:
            raise ValueError(f"No TypeSpec is compatible with both {self} and {other}")
        return TensorSpec(self.shape.most_specific_compatible_shape(other.shape), self.dtype)

    # tf.TypeSpec's API (rill/core/type_spec.py derives the rest from _serialize)
    @property
    def value_type(self):
        return Tensor

    def _serialize(self) -> tuple:
        return (self.shape, self.dtype, self.name)

    @property
    def _component_specs(self):
        return self

    def _to_components(self, value):
        return value

    def _from_components(self, components):
        return components

    def _batch(self, batch_size):
        dims = None if self.shape.rank is None else [batch_size, *self.shape.as_list()]
        return TensorSpec(dims, self.dtype)

    def _unbatch(self):
        if self.shape.rank == 0:
            raise ValueError("Unbatching a tensor is only supported for rank >= 1")
        dims = None if self.shape.rank is None else self.shape.as_list()[1:]
        return TensorSpec(dims, self.dtype)

    def most_specific_common_supertype(self, others):
        """The narrowest TensorSpec covering this one and ``others`` (None on a dtype
        mismatch); a name they do not all share becomes None."""
        if any(type(o) is not TensorSpec or o.dtype != self.dtype for o in others):
            return None
        shape = self.shape
        for o in others:
            shape = common_shape(shape, o.shape)
        name = self.name if all(o.name == self.name for o in others) else None
        return TensorSpec(shape, self.dtype, name)

    def __eq__(self, other):
        return (
            type(other) is type(self)
            and self.shape == other.shape
            and self.dtype == other.dtype
            and self.name == other.name
        )

    def __hash__(self):
        return hash((self.shape, self.dtype, self.name))

    def __repr__(self):
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype!r}, name={self.name!r})"
