"""The spec classes of values above core (``tf.TensorArraySpec``, ``tf.OptionalSpec``) and
``tf.type_spec_from_value``, which knows every value type rill has."""

from __future__ import annotations

from rill.core import dtypes as _d
from rill.core import type_spec as _ts
from rill.core.tensor_shape import TensorShape
from rill.core.type_spec import NoneTensorSpec, TypeSpec
from rill.ops._op import tf_export
from rill.ops.tensor_array import TensorArray

__all__ = ["TensorArraySpec", "OptionalSpec", "type_spec_from_value"]

tf_export("TypeSpec")(TypeSpec)
tf_export("NoneTensorSpec")(NoneTensorSpec)


@tf_export("TensorArraySpec")
class TensorArraySpec(TypeSpec):
    """Describes a TensorArray: its elements' shape and dtype, whether it grows, and
    whether it infers the element shape from its first write."""

    __slots__ = ("_element_shape", "_dtype", "_dynamic_size", "_infer_shape")

    def __init__(self, element_shape=None, dtype=_d.float32, dynamic_size=False,
                 infer_shape=True):  # fmt: skip
        self._element_shape = TensorShape(element_shape)
        self._dtype = _d.as_dtype(dtype)
        self._dynamic_size = dynamic_size
        self._infer_shape = infer_shape

    @property
    def value_type(self):
        return TensorArray

    def _serialize(self) -> tuple:
        return (self._element_shape, self._dtype, self._dynamic_size, self._infer_shape)

    @staticmethod
    def from_value(value) -> TensorArraySpec:
        if not isinstance(value, TensorArray):
            raise ValueError(f"Expected a TensorArray, got {type(value).__name__}")
        return TensorArraySpec(
            value.element_shape, value.dtype, value.dynamic_size, bool(value._infer_shape)
        )

    def __repr__(self):
        ser = ", ".join(repr(x) for x in self._serialize())
        return f"TensorArraySpec({ser})"


@tf_export("OptionalSpec")
class OptionalSpec(TypeSpec):
    """Describes a ``tf.experimental.Optional``: the spec of the value it may hold."""

    __slots__ = ("_element_spec",)

    def __init__(self, element_spec):
        self._element_spec = element_spec

    @property
    def element_spec(self):
        return self._element_spec

    @property
    def value_type(self):
        from rill.data.iterator_ops import Optional

        return Optional

    def _serialize(self) -> tuple:
        return (self._element_spec,)

    @staticmethod
    def from_value(value) -> OptionalSpec:
        return OptionalSpec(value.element_spec)

    def __repr__(self):
        return f"OptionalSpec({self._element_spec!r},)"


@tf_export("type_spec_from_value")
def type_spec_from_value(value) -> TypeSpec:
    """The TypeSpec of ``value``: a TensorSpec for tensors and what converts to one, the
    composite's own spec (SparseTensor, RaggedTensor, IndexedSlices, ExtensionType...),
    ``NoneTensorSpec()`` for None; TypeError for anything else."""
    if isinstance(value, TensorArray):
        return TensorArraySpec.from_value(value)
    if getattr(value, "_rill_dataset", False):
        from rill.data.dataset_ops import DatasetSpec

        return DatasetSpec(value.element_spec)
    from rill.data.iterator_ops import Optional

    if isinstance(value, Optional):
        return OptionalSpec(value.element_spec)
    return _ts.type_spec_from_value(value)
