"""``tf.TypeSpec``: the common base of rill's spec classes, and ``tf.NoneTensorSpec``.

A TypeSpec describes a value (a Tensor, a SparseTensor, an ExtensionType...) without its
data. Subclasses give ``value_type``, ``_serialize()`` (the constructor arguments, as a
tuple) and, for composite values, ``_component_specs`` / ``_to_components`` /
``_from_components``. From the serialization this base derives equality, hashing,
``is_compatible_with``, ``is_subtype_of`` and ``most_specific_common_supertype``, field by
field: shapes compare as shapes, nested specs recursively, anything else by equality.

rill's tracing machinery reads the ``_rill_component_specs`` protocol instead (flat lists
of TensorSpecs); the spec classes that flow through ``rill.function`` implement both.
"""

from __future__ import annotations

import collections.abc as _abc

from rill.core.tensor_shape import TensorShape

__all__ = [
    "TraceType", "TypeSpec", "BatchableTypeSpec", "NoneTensorSpec", "common_shape",
    "type_spec_from_value",
]  # fmt: skip


class TraceType:
    """The type of a value as ``rill.function`` sees it when it decides to retrace."""

    __slots__ = ()

    def is_subtype_of(self, other) -> bool:
        """True if every value of this type is also a value of ``other``."""
        raise NotImplementedError(f"{type(self).__name__}.is_subtype_of")

    def most_specific_common_supertype(self, others):
        """The narrowest type that ``self`` and all of ``others`` are subtypes of, or None."""
        raise NotImplementedError(f"{type(self).__name__}.most_specific_common_supertype")

    def placeholder_value(self, placeholder_context=None):
        """A value of this type to trace with."""
        raise NotImplementedError(f"{type(self).__name__}.placeholder_value")


_FAIL = object()  # "these two fields have no common supertype"


def _field_compatible(a, b) -> bool:
    if isinstance(a, TensorShape) and isinstance(b, TensorShape):
        return a.is_compatible_with(b)
    if isinstance(a, TypeSpec) and isinstance(b, TypeSpec):
        return a.is_compatible_with(b)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_field_compatible(x, y) for x, y in zip(a, b))
    if isinstance(a, _abc.Mapping) and isinstance(b, _abc.Mapping):
        return sorted(a) == sorted(b) and all(_field_compatible(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _field_subtype(a, b) -> bool:
    """Is field value ``a`` at least as specific as ``b``?"""
    if isinstance(a, TensorShape) and isinstance(b, TensorShape):
        if b.rank is None:
            return True
        if a.rank != b.rank:
            return False
        return all(y is None or x == y for x, y in zip(a.as_list(), b.as_list()))
    if isinstance(a, TypeSpec) and isinstance(b, TypeSpec):
        return a.is_subtype_of(b)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_field_subtype(x, y) for x, y in zip(a, b))
    if isinstance(a, _abc.Mapping) and isinstance(b, _abc.Mapping):
        return sorted(a) == sorted(b) and all(_field_subtype(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def common_shape(a: TensorShape, b: TensorShape) -> TensorShape:
    """The narrowest shape both ``a`` and ``b`` fit: differing dimensions become None,
    differing ranks an unknown rank."""
    if a.rank is None or b.rank is None or a.rank != b.rank:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.as_list(), b.as_list())])


def _field_supertype(a, b):
    if isinstance(a, TensorShape) and isinstance(b, TensorShape):
        return common_shape(a, b)
    if isinstance(a, TypeSpec) and isinstance(b, TypeSpec):
        s = a.most_specific_common_supertype([b])
        return _FAIL if s is None else s
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        if len(a) != len(b) or type(a) is not type(b):
            return _FAIL
        out = [_field_supertype(x, y) for x, y in zip(a, b)]
        return _FAIL if any(o is _FAIL for o in out) else type(a)(out)
    if isinstance(a, _abc.Mapping) and isinstance(b, _abc.Mapping):
        if sorted(a) != sorted(b):
            return _FAIL
        out = {k: _field_supertype(a[k], b[k]) for k in a}
        return _FAIL if any(o is _FAIL for o in out.values()) else out
    return a if type(a) is type(b) and a == b else _FAIL


def _hashable(x):
    if isinstance(x, _abc.Mapping):
        return tuple((k, _hashable(x[k])) for k in sorted(x))
    if isinstance(x, (list, tuple)):
        return tuple(_hashable(v) for v in x)
    return x


class TypeSpec(TraceType):
    """Describes a value's type: what ``rill.function`` keys traces on, what
    ``input_signature`` and ``Dataset.element_spec`` hold."""

    __slots__ = ()

    # what subclasses define ---------------------------------------------------------------
    @property
    def value_type(self):
        """The Python type of the values this spec describes."""
        raise NotImplementedError(f"{type(self).__name__}.value_type")

    def _serialize(self) -> tuple:
        """The constructor arguments that rebuild this spec (``type(self)(*ser)``)."""
        raise NotImplementedError(f"{type(self).__name__}._serialize")

    @classmethod
    def _deserialize(cls, serialization):
        return cls(*serialization)

    @property
    def _component_specs(self):
        """The specs of the parts a value is made of (a nested structure)."""
        raise NotImplementedError(f"{type(self).__name__}._component_specs")

    def _to_components(self, value):
        raise NotImplementedError(f"{type(self).__name__}._to_components")

    def _from_components(self, components):
        raise NotImplementedError(f"{type(self).__name__}._from_components")

    # derived from the serialization -------------------------------------------------------
    def is_compatible_with(self, spec_or_value) -> bool:
        """True if ``spec_or_value`` (a spec or a value) could have this spec's type."""
        other = spec_or_value
        if not isinstance(other, TypeSpec):
            try:
                other = type_spec_from_value(other)
            except (TypeError, ValueError):
                return False
        if type(other) is not type(self):
            return False
        return _field_compatible(self._serialize(), other._serialize())

    def is_subtype_of(self, other) -> bool:
        """True if every value this spec describes is also described by ``other``."""
        if type(other) is not type(self):
            return False
        return _field_subtype(self._serialize(), other._serialize())

    def most_specific_common_supertype(self, others):
        """The narrowest spec that this one and each of ``others`` are subtypes of (shapes
        relax dimension by dimension), or None when there is none."""
        ser = self._serialize()
        for o in others:
            if type(o) is not type(self):
                return None
            ser = _field_supertype(ser, o._serialize())
            if ser is _FAIL:
                return None
        return self._deserialize(ser)

    def most_specific_compatible_type(self, other):
        """Like ``most_specific_common_supertype([other])``, raising ValueError on none."""
        s = self.most_specific_common_supertype([other])
        if s is None:
            raise ValueError(f"No TypeSpec is compatible with both {self} and {other}")
        return s

    def __eq__(self, other):
        if type(other) is not type(self):
            return False
        return _hashable(self._serialize()) == _hashable(other._serialize())

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((type(self), _hashable(self._serialize())))

    def __repr__(self):
        return f"{type(self).__name__}{self._serialize()!r}"


class BatchableTypeSpec(TypeSpec):
    """A TypeSpec whose values can be batched: subclasses define ``_batch(batch_size)``
    (the spec of a batch) and ``_unbatch()`` (the spec of one element). No defaults: the
    data layer looks the two up and falls back to its own rules where they are absent."""

    __slots__ = ()


class NoneTensorSpec(BatchableTypeSpec):
    """The spec of ``None`` where a composite value expects an optional part."""

    __slots__ = ()

    def __init__(self):
        pass

    @property
    def value_type(self):
        return type(None)

    def _serialize(self) -> tuple:
        return ()

    @property
    def _component_specs(self):
        return []

    def _to_components(self, value):
        return []

    def _from_components(self, components):
        return None

    def _batch(self, batch_size):
        return self

    def _unbatch(self):
        return self

    def is_compatible_with(self, spec_or_value) -> bool:
        return spec_or_value is None or isinstance(spec_or_value, NoneTensorSpec)

    def __repr__(self):
        return "NoneTensorSpec()"


def type_spec_from_value(value) -> TypeSpec:
    """The TypeSpec of ``value``: its ``_type_spec`` when it has one (composites),
    ``NoneTensorSpec()`` for None, else the TensorSpec of ``convert_to_tensor(value)``."""
    if isinstance(value, TypeSpec):
        raise TypeError(f"Could not build a TypeSpec for {value!r}: it is a TypeSpec already.")
    if value is None:
        return NoneTensorSpec()
    spec = getattr(value, "_type_spec", None)
    if isinstance(spec, TypeSpec):
        return spec
    from rill.core.convert import convert_to_tensor
    from rill.core.tensor import TensorSpec

    if getattr(value, "_rill_variable", False):
        return TensorSpec(value.shape, value.dtype)
    try:
        t = convert_to_tensor(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"Could not build a TypeSpec for {value!r} of unsupported type {type(value)}."
        ) from None
    return TensorSpec(t.shape, t.dtype)
