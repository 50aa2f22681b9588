"""``tf.experimental.ExtensionType``: user-defined composite values with typed fields.

A subclass declares its fields as class annotations (``values: tf.Tensor``,
``name: str = "x"``, ``shape: typing.Tuple[int, ...]``, nested extension types,
``typing.Mapping[str, tf.Tensor]``, ``typing.Optional[...]``). Instances are immutable:
the constructor (generated, or the user's own ``__init__``) converts and checks each field,
then calls ``__validate__``. Each subclass gets a nested ``Spec`` class (an
``ExtensionTypeSpec``) describing values without their data.

Values speak rill's composite protocol (``_rill_components``: the flat list of tensors in
field order; ``_rill_component_specs``: their specs), so they pass through
``rill.function`` (a retrace only when the spec changes), ``tf.nest`` with
``expand_composites`` and ``tf.data``.
"""

from __future__ import annotations

import collections.abc as _abc
import inspect
import sys
import typing

from rill.core.tensor import Tensor, TensorSpec
from rill.core.type_spec import BatchableTypeSpec, TypeSpec
from rill.ops._op import tf_export

__all__ = [
    "ExtensionType", "BatchableExtensionType", "ExtensionTypeSpec",
    "BatchableExtensionTypeSpec", "ExtensionTypeBatchEncoder", "as_dict", "ImmutableDict",
]  # fmt: skip

_MISSING = inspect.Parameter.empty
_NONE_TYPE = type(None)
_PY_TYPES = (int, float, str, bytes, bool, _NONE_TYPE)


class ImmutableDict(_abc.Mapping):
    """A read-only mapping: the value of a ``typing.Mapping`` field."""

    __slots__ = ("_d",)

    def __init__(self, *args, **kwargs):
        self._d = dict(*args, **kwargs)

    def __getitem__(self, k):
        return self._d[k]

    def __iter__(self):
        return iter(self._d)

    def __len__(self):
        return len(self._d)

    def __repr__(self):
        return f"ImmutableDict({self._d!r})"


# --------------------------------------------------------------------------------------
# fields: annotations, conversion, specs, components
# --------------------------------------------------------------------------------------


class _Field(typing.NamedTuple):
    name: str
    annotation: object
    default: object


def _resolve_annotations(cls) -> dict:
    """The class's own annotations, with string annotations (``from __future__ import
    annotations``) evaluated in the defining module."""
    raw = cls.__dict__.get("__annotations__", {})
    mod = sys.modules.get(cls.__module__)
    glb = dict(vars(mod)) if mod is not None else {}
    out = {}
    for name, ann in raw.items():
        if isinstance(ann, str):
            ann = eval(ann, glb, dict(vars(cls)))  # noqa: S307 - the class's own source
        out[name] = ann
    return out


def _collect_fields(cls) -> tuple:
    fields = {}
    for base in reversed(cls.__mro__):
        if base.__dict__.get("_tf_extension_type_abstract") or not issubclass(base, ExtensionType):
            continue
        for name, ann in _resolve_annotations(base).items():
            if name.startswith("_tf_extension_type") or typing.get_origin(ann) is typing.ClassVar:
                continue
            default = base.__dict__.get(name, _MISSING)
            _check_annotation(ann, f"In field {name!r}")
            fields[name] = _Field(name, ann, default)
    return tuple(fields.values())


def _is_union(ann) -> bool:
    import types

    return typing.get_origin(ann) in (typing.Union, types.UnionType)


def _check_annotation(ann, where):
    """TypeError for annotations ExtensionType fields cannot hold (as TF rejects them)."""
    if ann in _PY_TYPES or ann is None:
        return
    if isinstance(ann, type):
        if issubclass(ann, (Tensor, TypeSpec, ExtensionType)) or hasattr(ann, "_rill_components"):
            return
        from rill.core.dtypes import DType
        from rill.core.tensor_shape import TensorShape

        if issubclass(ann, (DType, TensorShape)):
            return
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is tuple and args:
        for a in args:
            if a is not Ellipsis:
                _check_annotation(a, where)
        return
    if origin in (_abc.Mapping, dict, typing.Mapping) and len(args) == 2:
        _check_annotation(args[0], where)
        _check_annotation(args[1], where)
        return
    if _is_union(ann):
        for a in args:
            _check_annotation(a, where)
        return
    raise TypeError(f"{where}: Unsupported type annotation {ann!r}")


def _type_name(ann) -> str:
    return getattr(ann, "__name__", repr(ann))


def _convert(value, ann, path: str, spec_mode: bool):
    """``value`` converted to a field of annotation ``ann`` (a spec of one in
    ``spec_mode``); TypeError naming the field's ``path`` when it does not fit."""
    if ann is None or ann is _NONE_TYPE:
        if value is None:
            return None
        raise TypeError(f"{path}: expected None, got {type(value).__name__!r}")
    if ann in _PY_TYPES:
        if type(value) is ann or (ann is not bool and isinstance(value, ann)
                                  and not isinstance(value, bool)):  # fmt: skip
            return value
        raise TypeError(f"{path}: expected {ann.__name__!r}, got {type(value).__name__!r}")
    if isinstance(ann, type) and issubclass(ann, Tensor):
        if spec_mode:
            if isinstance(value, TensorSpec):
                return value
            raise TypeError(f"{path}: expected a TensorSpec, got {type(value).__name__!r}")
        from rill.core.convert import convert_to_tensor

        if isinstance(value, TypeSpec) or hasattr(value, "_rill_components"):
            raise TypeError(f"{path}: expected a Tensor, got {type(value).__name__!r}")
        try:
            return convert_to_tensor(value)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{path}: expected a Tensor, got {value!r} ({e})") from None
    if isinstance(ann, type) and issubclass(ann, TypeSpec):
        if isinstance(value, ann):
            return value
        raise TypeError(f"{path}: expected {ann.__name__!r}, got {type(value).__name__!r}")
    if isinstance(ann, type) and (
        issubclass(ann, ExtensionType) or hasattr(ann, "_rill_components")
    ):
        if spec_mode:
            if isinstance(value, TypeSpec) and issubclass(_value_type(value), ann):
                return value
        elif isinstance(value, ann):
            return value
        raise TypeError(f"{path}: expected {ann.__name__!r}, got {type(value).__name__!r}")
    if isinstance(ann, type):  # DType, TensorShape
        from rill.core.dtypes import DType, as_dtype
        from rill.core.tensor_shape import TensorShape

        if issubclass(ann, DType):
            try:
                return as_dtype(value)
            except (TypeError, ValueError):
                raise TypeError(f"{path}: expected a DType, got {value!r}") from None
        if issubclass(ann, TensorShape):
            try:
                return TensorShape(value)
            except (TypeError, ValueError):
                raise TypeError(f"{path}: expected a TensorShape, got {value!r}") from None
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is tuple:
        if not isinstance(value, (tuple, list)):
            raise TypeError(f"{path}: expected 'tuple', got {type(value).__name__!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(
                _convert(v, args[0], f"{path}[{i}]", spec_mode) for i, v in enumerate(value)
            )
        if len(args) != len(value):
            raise TypeError(f"{path}: expected a tuple of length {len(args)}, got {len(value)}")
        return tuple(_convert(v, a, f"{path}[{i}]", spec_mode) for i, (v, a) in enumerate(
            zip(value, args)))  # fmt: skip
    if origin in (_abc.Mapping, dict, typing.Mapping):
        if not isinstance(value, _abc.Mapping):
            raise TypeError(f"{path}: expected 'Mapping', got {type(value).__name__!r}")
        kt, vt = args
        return ImmutableDict(
            (_convert(k, kt, f"{path}", spec_mode), _convert(v, vt, f"{path}[{k!r}]", spec_mode))
            for k, v in value.items()
        )
    if _is_union(ann):
        for a in args:  # the first member the value converts to, as TF tries them in order
            try:
                return _convert(value, a, path, spec_mode)
            except TypeError:
                continue
        names = ", ".join(_type_name(a) for a in args)
        raise TypeError(f"{path}: expected one of ({names}), got {type(value).__name__!r}")
    raise TypeError(f"{path}: unsupported annotation {ann!r}")


def _value_type(spec):
    try:
        return spec.value_type
    except NotImplementedError:
        return object


def _spec_of(value):
    """A field value's spec: TensorSpec for a tensor, the composite's own spec, Python
    values (and containers of them) as they are."""
    if isinstance(value, Tensor):
        return TensorSpec(value.shape, value.dtype)
    if isinstance(value, ExtensionType):
        return value._type_spec
    if hasattr(value, "_rill_components"):
        from rill.core.type_spec import type_spec_from_value

        return type_spec_from_value(value)
    if isinstance(value, tuple):
        return tuple(_spec_of(v) for v in value)
    if isinstance(value, ImmutableDict):
        return ImmutableDict((k, _spec_of(v)) for k, v in value.items())
    return value


def _flat_components(value, out: list) -> None:
    if isinstance(value, Tensor):
        out.append(value)
    elif hasattr(value, "_rill_components"):
        out.extend(value._rill_components())
    elif isinstance(value, tuple):
        for v in value:
            _flat_components(v, out)
    elif isinstance(value, ImmutableDict):
        for k in value:
            _flat_components(value[k], out)


def _flat_component_specs(spec, out: list) -> None:
    if isinstance(spec, TensorSpec):
        out.append(spec)
    elif hasattr(spec, "_rill_component_specs"):
        out.extend(spec._rill_component_specs())
    elif isinstance(spec, tuple):
        for s in spec:
            _flat_component_specs(s, out)
    elif isinstance(spec, ImmutableDict):
        for k in spec:
            _flat_component_specs(spec[k], out)


def _rebuild(spec, it):
    """The field value for ``spec`` from the component iterator ``it``."""
    if isinstance(spec, TensorSpec):
        return next(it)
    if hasattr(spec, "_rill_component_specs"):
        n = len(spec._rill_component_specs())
        return spec._rill_from_components([next(it) for _ in range(n)])
    if isinstance(spec, tuple):
        return tuple(_rebuild(s, it) for s in spec)
    if isinstance(spec, ImmutableDict):
        return ImmutableDict((k, _rebuild(spec[k], it)) for k in spec)
    return spec


def _skeleton(spec):
    """A hashable key of everything in a spec but its tensors' shapes and dtypes (which
    rill.function keys separately, component by component)."""
    if isinstance(spec, TensorSpec):
        return "T"
    if hasattr(spec, "_rill_component_specs"):
        key = spec._rill_static_key() if hasattr(spec, "_rill_static_key") else None
        return (type(spec), key)
    if isinstance(spec, tuple):
        return tuple(_skeleton(s) for s in spec)
    if isinstance(spec, ImmutableDict):
        return tuple((k, _skeleton(spec[k])) for k in spec)
    try:
        hash(spec)
        return spec
    except TypeError:
        return ("id", id(spec))


def _signature(fields) -> inspect.Signature:
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)]
    params += [
        inspect.Parameter(f.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=f.default)
        for f in fields
    ]
    try:
        return inspect.Signature(params)
    except ValueError:  # a field without a default after one with: all keyword-only
        return inspect.Signature(
            params[:1] + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params[1:]]
        )


# --------------------------------------------------------------------------------------
# ExtensionType
# --------------------------------------------------------------------------------------


def _frozen_setattr(self, name, value):
    if self.__dict__.get("_tf_extension_type_frozen", False):
        raise AttributeError(
            f"Cannot mutate attribute `{name}` outside the custom constructor of ExtensionType."
        )
    object.__setattr__(self, name, value)


def _frozen_delattr(self, name):
    if self.__dict__.get("_tf_extension_type_frozen", False):
        raise AttributeError(
            f"Cannot mutate attribute `{name}` outside the custom constructor of ExtensionType."
        )
    object.__delattr__(self, name)


@tf_export("experimental.ExtensionType")
class ExtensionType:
    """Base class of user-defined composite values: subclass it and annotate fields."""

    _rill_dispatch = True  # TF-namespace ops dispatch on it (dispatch_for_api)
    _tf_extension_type_abstract = True
    _tf_extension_type_fields: tuple = ()
    __setattr__ = _frozen_setattr
    __delattr__ = _frozen_delattr

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("_tf_extension_type_abstract"):
            return
        fields = _collect_fields(cls)
        cls._tf_extension_type_fields = fields
        user_init = cls.__dict__.get("__init__")
        if user_init is not None:
            cls.__init__ = _wrap_user_init(user_init)
        else:
            cls.__init__ = _generated_init(cls, fields)
        _make_spec_class(cls)

    def __init__(self, *args, **kwargs):
        if type(self).__dict__.get("_tf_extension_type_abstract"):
            raise AssertionError(
                f"{type(self).__name__} is an abstract base class: subclass it and declare "
                "fields with annotations."
            )

    # field conversion, after a constructor ---------------------------------------------
    def _tf_extension_type_convert_fields(self):
        d = self.__dict__
        for f in self._tf_extension_type_fields:
            if f.name not in d:
                if f.default is _MISSING:
                    raise ValueError(
                        f"Field {f.name!r} of {type(self).__qualname__} was not set by its "
                        "constructor."
                    )
                d[f.name] = f.default
            d[f.name] = _convert(d[f.name], f.annotation, f.name, spec_mode=False)
        extra = [k for k in d if not k.startswith("_tf_extension_type") and k not in
                 {f.name for f in self._tf_extension_type_fields}]  # fmt: skip
        if extra:
            raise AttributeError(
                f"The custom constructor of {type(self).__qualname__} set {extra[0]!r}, "
                "which is not a field (declare it as an annotation)."
            )

    # value API --------------------------------------------------------------------------
    @property
    def _type_spec(self):
        d = self.__dict__
        spec = type(self).Spec.__new__(type(self).Spec)
        sd = spec.__dict__
        for f in self._tf_extension_type_fields:
            sd[f.name] = _spec_of(d[f.name])
        sd["_tf_extension_type_frozen"] = True
        return spec

    def __repr__(self):
        items = ", ".join(f"{f.name}={self.__dict__[f.name]!r}" for f in
                          self._tf_extension_type_fields)  # fmt: skip
        return f"{type(self).__qualname__}({items})"

    def __eq__(self, other):
        """A bool scalar tensor: same type, same spec and every component equal."""
        import rill

        if type(other) is not type(self):
            return rill.constant(False)
        if self._type_spec != other._type_spec:
            return rill.constant(False)
        a, b = self._rill_components(), other._rill_components()
        if not a:
            return rill.constant(True)
        eqs = [rill.reduce_all(rill.equal(x, y)) for x, y in zip(a, b)]
        return rill.reduce_all(rill.stack(eqs))

    def __ne__(self, other):
        import rill

        return rill.logical_not(self.__eq__(other))

    __hash__ = None  # values hold tensors, as in TF

    # rill's composite protocol ------------------------------------------------------------
    def _rill_components(self) -> list:
        out = []
        d = self.__dict__
        for f in self._tf_extension_type_fields:
            _flat_components(d[f.name], out)
        return out

    def _rill_rebuild(self, components):
        return self._type_spec._rill_from_components(components)

    def _rill_component_specs(self) -> list:
        return self._type_spec._rill_component_specs()

    def _rill_from_components(self, components):
        return self._type_spec._rill_from_components(components)

    def _rill_static_key(self):
        return self._type_spec._rill_static_key()


def _finish(self):
    self._tf_extension_type_convert_fields()
    self.__dict__["_tf_extension_type_frozen"] = True
    validate = getattr(self, "__validate__", None)
    if validate is not None:
        validate()


def _generated_init(cls, fields):
    sig = _signature(fields)

    def __init__(self, *args, **kwargs):
        try:
            bound = sig.bind(self, *args, **kwargs)
        except TypeError as e:
            raise TypeError(str(e)) from None
        bound.apply_defaults()
        d = self.__dict__
        for name, value in list(bound.arguments.items())[1:]:
            d[name] = value
        _finish(self)

    __init__.__signature__ = sig
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _wrap_user_init(init):
    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        if type(self).__init__ is __init__ or not self.__dict__.get(
            "_tf_extension_type_frozen", False
        ):
            _finish(self)

    __init__.__wrapped__ = init
    __init__.__qualname__ = init.__qualname__
    __init__.__doc__ = init.__doc__
    return __init__


# --------------------------------------------------------------------------------------
# Specs
# --------------------------------------------------------------------------------------


@tf_export("experimental.ExtensionTypeSpec")
class ExtensionTypeSpec(TypeSpec):
    """Base class of the ``Spec`` classes of extension types: one spec per field."""

    _tf_extension_type_value_type = None
    __setattr__ = _frozen_setattr
    __delattr__ = _frozen_delattr

    def __init__(self, *args, **kwargs):
        vt = type(self)._tf_extension_type_value_type
        if vt is None:
            raise AssertionError("ExtensionTypeSpec is abstract: use SomeExtensionType.Spec")
        fields = vt._tf_extension_type_fields
        try:
            bound = _signature(fields).bind(self, *args, **kwargs)
        except TypeError as e:
            raise TypeError(str(e)) from None
        bound.apply_defaults()
        d = self.__dict__
        for f in fields:
            v = bound.arguments[f.name]
            d[f.name] = _convert(_spec_of(v), f.annotation, f.name, spec_mode=True)
        d["_tf_extension_type_frozen"] = True

    @property
    def value_type(self):
        return type(self)._tf_extension_type_value_type

    @classmethod
    def from_value(cls, value):
        return value._type_spec

    def _fields(self):
        return self.value_type._tf_extension_type_fields

    def _serialize(self) -> tuple:
        return tuple(self.__dict__[f.name] for f in self._fields())

    @classmethod
    def _deserialize(cls, serialization):
        spec = cls.__new__(cls)
        vt = cls._tf_extension_type_value_type
        for f, v in zip(vt._tf_extension_type_fields, serialization):
            spec.__dict__[f.name] = ImmutableDict(v) if isinstance(v, dict) else v
        spec.__dict__["_tf_extension_type_frozen"] = True
        return spec

    @property
    def _component_specs(self):
        return self._rill_component_specs()

    def _to_components(self, value):
        return value._rill_components()

    def _from_components(self, components):
        return self._rill_from_components(components)

    def __repr__(self):
        def show(v):  # a spec shows its mappings as plain dicts, as TF's do
            return repr(dict(v)) if isinstance(v, ImmutableDict) else repr(v)

        items = ", ".join(f"{f.name}={show(self.__dict__[f.name])}" for f in self._fields())
        return f"{type(self).__qualname__}({items})"

    # rill's composite-spec protocol -----------------------------------------------------
    def _rill_component_specs(self) -> list:
        out = []
        for f in self._fields():
            _flat_component_specs(self.__dict__[f.name], out)
        return out

    def _rill_from_components(self, components):
        vt = self.value_type
        it = iter(components)
        value = vt.__new__(vt)
        d = value.__dict__
        for f in self._fields():
            d[f.name] = _rebuild(self.__dict__[f.name], it)
        d["_tf_extension_type_frozen"] = True
        return value

    def _rill_is_compatible(self, value) -> bool:
        return isinstance(value, self.value_type) and self.is_compatible_with(value._type_spec)

    def _rill_static_key(self):
        return (self.value_type, tuple(_skeleton(self.__dict__[f.name]) for f in self._fields()))


# --------------------------------------------------------------------------------------
# Batchable extension types
# --------------------------------------------------------------------------------------


def _batch_field(spec, n):
    if isinstance(spec, BatchableTypeSpec):
        return spec._batch(n)
    if isinstance(spec, tuple):
        return tuple(_batch_field(s, n) for s in spec)
    if isinstance(spec, ImmutableDict):
        return ImmutableDict((k, _batch_field(spec[k], n)) for k in spec)
    if isinstance(spec, TypeSpec):
        raise ValueError(f"{spec!r} is not batchable")
    return spec


def _unbatch_field(spec):
    if isinstance(spec, BatchableTypeSpec):
        return spec._unbatch()
    if isinstance(spec, tuple):
        return tuple(_unbatch_field(s) for s in spec)
    if isinstance(spec, ImmutableDict):
        return ImmutableDict((k, _unbatch_field(spec[k])) for k in spec)
    if isinstance(spec, TypeSpec):
        raise ValueError(f"{spec!r} is not batchable")
    return spec


@tf_export("experimental.ExtensionTypeBatchEncoder")
class ExtensionTypeBatchEncoder:
    """How a BatchableExtensionType's spec batches: by default each field's spec is
    batched (tensors gain a leading dimension), Python fields stay as they are."""

    def batch(self, spec, batch_size):
        """The spec of a batch of ``batch_size`` values of ``spec``."""
        ser = tuple(_batch_field(s, batch_size) for s in spec._serialize())
        return spec._deserialize(ser)

    def unbatch(self, spec):
        """The spec of one element of a batch ``spec`` describes."""
        return spec._deserialize(tuple(_unbatch_field(s) for s in spec._serialize()))

    def encode(self, spec, value, minimum_rank=0):
        """The components a value is batched by (its flat tensors)."""
        return value._rill_components()

    def decode(self, spec, encoded_value):
        """The value of ``spec`` whose components are ``encoded_value``."""
        return spec._rill_from_components(list(encoded_value))

    def encoding_specs(self, spec):
        """The specs of ``encode``'s components."""
        return spec._rill_component_specs()


class BatchableExtensionTypeSpec(ExtensionTypeSpec, BatchableTypeSpec):
    """The spec of a BatchableExtensionType: ``_batch`` / ``_unbatch`` through its
    ``__batch_encoder__``."""

    __batch_encoder__ = ExtensionTypeBatchEncoder()

    def _batch(self, batch_size):
        return self.__batch_encoder__.batch(self, batch_size)

    def _unbatch(self):
        return self.__batch_encoder__.unbatch(self)

    # what tf.data needs to slice and batch values (see _dense_components)
    def _rill_batch_values(self, values):
        """One value of ``self._batch(len(values))`` stacking ``values`` (of this spec)."""
        import rill

        _dense_components(self)
        comps = [v._rill_components() for v in values]
        stacked = [rill.stack(list(col)) for col in zip(*comps)]
        return self._batch(len(values))._rill_from_components(stacked)

    def _rill_unbatch_value(self, value) -> list:
        """The values of ``self._unbatch()`` that the batch ``value`` holds."""
        import rill

        inner = self._unbatch()
        _dense_components(inner)
        comps = value._rill_components()
        if not comps:
            raise ValueError(f"Cannot unbatch {value!r}: it has no tensor fields.")
        rows = [rill.unstack(c) for c in comps]
        return [inner._rill_from_components(list(r)) for r in zip(*rows)]


def _dense_components(spec) -> None:
    """Batching stacks components one to one: every field must be a tensor or a batchable
    extension type of tensors (a ragged or sparse field would change its components)."""
    for f in spec._fields():
        v = spec.__dict__[f.name]
        ok = (
            isinstance(v, TensorSpec)
            or isinstance(v, BatchableExtensionTypeSpec)
            or not (isinstance(v, (TypeSpec, tuple, ImmutableDict)))
        )
        if not ok:
            raise TypeError(
                f"{type(spec).__qualname__}: field {f.name!r} ({v!r}) cannot be batched by "
                "stacking; give the type a __batch_encoder__."
            )
        if isinstance(v, BatchableExtensionTypeSpec):
            _dense_components(v)


@tf_export("experimental.BatchableExtensionType")
class BatchableExtensionType(ExtensionType):
    """An ExtensionType whose values can be batched and unbatched (tf.data, map_fn):
    every tensor field gains a leading batch dimension."""

    _tf_extension_type_abstract = True


def _make_spec_class(cls) -> None:
    """Give ``cls`` its ``Spec``: the user's nested ``Spec`` class (for extra methods and
    properties) over ExtensionTypeSpec, or a bare subclass of it."""
    user = cls.__dict__.get("Spec")
    base = (
        BatchableExtensionTypeSpec if issubclass(cls, BatchableExtensionType) else ExtensionTypeSpec
    )
    bases = (base,)
    ns = {"_tf_extension_type_value_type": cls, "__module__": cls.__module__}
    if user is not None and not (isinstance(user, type) and issubclass(user, ExtensionTypeSpec)):
        bases = (user, base) if user.__bases__ != (object,) else (base,)
        for k, v in user.__dict__.items():
            if k not in ("__dict__", "__weakref__"):
                ns.setdefault(k, v)
    encoder = cls.__dict__.get("__batch_encoder__")
    if encoder is not None:
        ns["__batch_encoder__"] = encoder
    spec_cls = type("Spec", bases, ns)
    spec_cls.__qualname__ = f"{cls.__qualname__}.Spec"
    type.__setattr__(cls, "Spec", spec_cls)


@tf_export("experimental.extension_type.as_dict")
def as_dict(value) -> dict:
    """The fields of an ExtensionType value, as a dict ``{name: value}``."""
    return {f.name: value.__dict__[f.name] for f in value._tf_extension_type_fields}
