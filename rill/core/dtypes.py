"""``DType``: TensorFlow's dtype objects, each backed by a NumPy dtype."""

from __future__ import annotations

import builtins

import numpy as np

from rill.backend import ml_dtype_np

__all__ = ["DType", "as_dtype"]


class DType:
    """A tensor element type with TensorFlow's name, enum and predicates."""

    __slots__ = (
        "name",
        "_np",
        "_enum",
        "is_floating",
        "is_integer",
        "is_complex",
        "is_bool",
        "is_unsigned",
        "is_string",
        "is_variant",
        "is_quantized",
        "_real",
    )

    def __init__(self, name, np_dtype, enum, kind):
        self.name = name
        self._np = np_dtype  # np.dtype, or None until resolved (bfloat16)
        self._enum = enum
        self.is_floating = kind == "f"
        self.is_integer = kind in "iu"
        self.is_unsigned = kind == "u"
        self.is_complex = kind == "c"
        self.is_bool = kind == "b"
        self.is_string = kind == "S"
        self.is_variant = kind == "V"
        # TF's quantized types (qint8, ...) store their integers in a one-field record
        self.is_quantized = kind == "q"
        self._real = None

    # NumPy views ----------------------------------------------------------------------
    @property
    def np(self) -> np.dtype:
        """The NumPy dtype that stores this type (object for strings)."""
        if self._np is None:
            if self.name == "resource":
                raise TypeError("tf.resource has no NumPy equivalent.")
            # bfloat16, float8_*, int4, ...: NumPy types defined by ml_dtypes
            self._np = ml_dtype_np(self.name)
            _BY_NP.setdefault(self._np, self)
        return self._np

    @property
    def as_numpy_dtype(self):
        return self.np.type

    @property
    def as_datatype_enum(self) -> int:
        return self._enum

    @property
    def base_dtype(self) -> DType:
        return self

    @property
    def real_dtype(self) -> DType:
        if self is complex64:
            return float32
        if self is complex128:
            return float64
        return self

    @property
    def is_numpy_compatible(self) -> bool:
        return self is not resource

    @property
    def size(self) -> int:
        return 1 if self.is_string or self.is_variant else self.np.itemsize

    def _limit(self, which: str):
        if self.is_quantized or not (self.is_floating or self.is_integer or self.is_bool):
            raise TypeError(f"Cannot find {which}imum value of {self.name}.")
        if self.is_bool:
            return which == "max"
        if self.np.type.__module__.startswith("ml_dtypes"):
            import ml_dtypes  # its finfo/iinfo know the types NumPy's don't

            info = (ml_dtypes.finfo if self.is_floating else ml_dtypes.iinfo)(self.np)
        else:
            info = (np.finfo if self.is_floating else np.iinfo)(self.np)
        return (float if self.is_floating else int)(getattr(info, which))

    @property
    def min(self):
        return self._limit("min")

    @property
    def max(self):
        return self._limit("max")

    def is_compatible_with(self, other) -> bool:
        return self is as_dtype(other)

    # identity -------------------------------------------------------------------------
    def __eq__(self, other):
        if other is self:
            return True
        if other is None:
            return False
        try:
            return self is as_dtype(other)
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    # every DType is one of the module's singletons (copies and pickles come back through
    # as_dtype), so identity hashing is consistent with __eq__ and costs no Python call:
    # `dtype in some_set` runs on every op's dtype check
    __hash__ = object.__hash__

    def __repr__(self):
        return f"tf.{self.name}"

    def __reduce__(self):
        return as_dtype, (self.name,)


def _make(name, np_dtype, enum, kind):
    return DType(name, None if np_dtype is None else np.dtype(np_dtype), enum, kind)


float16 = _make("float16", np.float16, 19, "f")
bfloat16 = _make("bfloat16", None, 14, "f")
float32 = _make("float32", np.float32, 1, "f")
float64 = _make("float64", np.float64, 2, "f")
int8 = _make("int8", np.int8, 6, "i")
int16 = _make("int16", np.int16, 5, "i")
int32 = _make("int32", np.int32, 3, "i")
int64 = _make("int64", np.int64, 9, "i")
uint8 = _make("uint8", np.uint8, 4, "u")
uint16 = _make("uint16", np.uint16, 17, "u")
uint32 = _make("uint32", np.uint32, 22, "u")
uint64 = _make("uint64", np.uint64, 23, "u")
bool = _make("bool", np.bool_, 10, "b")  # noqa: A001 - TF's public name
complex64 = _make("complex64", np.complex64, 8, "c")
complex128 = _make("complex128", np.complex128, 18, "c")
string = _make("string", object, 7, "S")
# Opaque Python values flowing through graphs (a loop's history, a TensorArray's list).
variant = _make("variant", object, 21, "V")

# Quantized integers (TF's qint8...): DTypes with TF's enums and NumPy record dtypes
qint8 = _make("qint8", [("qint8", np.int8)], 11, "q")
quint8 = _make("quint8", [("quint8", np.uint8)], 12, "q")
qint16 = _make("qint16", [("qint16", np.int16)], 15, "q")
quint16 = _make("quint16", [("quint16", np.uint16)], 16, "q")
qint32 = _make("qint32", [("qint32", np.int32)], 13, "q")
# A handle to a resource (a variable's buffer in TF); rill's variables are Python objects
resource = _make("resource", None, 20, "R")
# Narrow floats and integers of ``tf.dtypes.experimental``, stored by ml_dtypes' types
float8_e5m2 = _make("float8_e5m2", None, 24, "f")
float8_e4m3fn = _make("float8_e4m3fn", None, 25, "f")
float8_e4m3fnuz = _make("float8_e4m3fnuz", None, 26, "f")
float8_e4m3b11fnuz = _make("float8_e4m3b11fnuz", None, 27, "f")
float8_e5m2fnuz = _make("float8_e5m2fnuz", None, 28, "f")
int4 = _make("int4", None, 29, "i")
uint4 = _make("uint4", None, 30, "u")
int2 = _make("int2", None, 31, "i")
uint2 = _make("uint2", None, 32, "u")
float4_e2m1fn = _make("float4_e2m1fn", None, 33, "f")

half = float16
double = float64

ALL = (
    float16, bfloat16, float32, float64, int8, int16, int32, int64,
    uint8, uint16, uint32, uint64, bool, complex64, complex128, string, variant,
)  # fmt: skip
FLOATS = frozenset(d for d in ALL if d.is_floating)
INTS = frozenset(d for d in ALL if d.is_integer)
COMPLEX = frozenset(d for d in ALL if d.is_complex)
REAL = FLOATS | INTS
NUMERIC = REAL | COMPLEX
INEXACT = FLOATS | COMPLEX
# Dtypes whose tensors carry gradients on a tape: inexact values, and variant (a
# TensorArray's list, whose gradient is a list).
DIFFERENTIABLE = INEXACT | {variant}
ALL_SET = frozenset(ALL)

QUANTIZED_DTYPES = frozenset([qint8, quint8, qint16, quint16, qint32])
# Outside ALL: no op but cast and the comparisons takes them (as in TF)
EXPERIMENTAL = (
    float8_e5m2, float8_e4m3fn, float8_e4m3fnuz, float8_e4m3b11fnuz, float8_e5m2fnuz,
    int4, uint4, int2, uint2, float4_e2m1fn,
)  # fmt: skip

_BY_NAME = {d.name: d for d in ALL + tuple(QUANTIZED_DTYPES) + EXPERIMENTAL + (resource,)}
_BY_NAME.update(
    half=float16, float=float32, double=float64, int=int32, long=int64,
    bool_=bool, str=string, bytes=string, object=string,
)  # fmt: skip
_BY_ENUM = {d._enum: d for d in _BY_NAME.values()}
_BY_NP = {
    d._np: d for d in ALL + tuple(QUANTIZED_DTYPES) if d._np is not None and d._np.kind != "O"
}
_PY_TYPES = {builtins.float: float32, builtins.bool: bool, builtins.object: string,
             builtins.str: string, builtins.bytes: string, builtins.complex: complex128}  # fmt: skip


def from_numpy(np_dtype) -> DType:
    """DType of a NumPy dtype (bytes/str/object arrays are ``string``)."""
    d = _BY_NP.get(np_dtype)
    if d is not None:
        return d
    np_dtype = np.dtype(np_dtype)
    d = _BY_NP.get(np_dtype)
    if d is not None:
        return d
    if np_dtype.kind in "OSU":
        return string
    d = _BY_NAME.get(np_dtype.name)
    if d is not None and d.np == np_dtype:  # an ml_dtypes type (bfloat16, float8_*, ...)
        return d
    raise TypeError(f"Cannot convert NumPy dtype {np_dtype} to a rill DType.")


def as_dtype(type_value) -> DType:
    """Convert a DType, name, enum, NumPy dtype or Python type to a ``DType``."""
    if isinstance(type_value, DType):
        return type_value
    if isinstance(type_value, str):
        d = _BY_NAME.get(type_value)
        if d is not None:
            return d
    elif isinstance(type_value, int) and not isinstance(type_value, builtins.bool):
        d = _BY_ENUM.get(type_value)
        if d is not None:
            return d
    elif isinstance(type_value, type) and type_value in _PY_TYPES:
        return _PY_TYPES[type_value]
    elif hasattr(type_value, "dtype") and isinstance(type_value.dtype, DType):
        return type_value.dtype
    try:
        return from_numpy(np.dtype(type_value))
    except TypeError:
        pass
    raise TypeError(f"Cannot convert {type_value!r} to a rill DType.")
