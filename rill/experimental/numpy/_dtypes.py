"""tnp's dtype rules: NumPy's type classes, ``result_type`` and conversion of arguments.

TF's NumPy API promotes like NumPy (``np.result_type``, where a Python scalar is weak and
``int32 + float32`` is ``float64``), except that with ``prefer_float32`` a Python float or
complex counts as ``float32`` / ``complex64``. This module holds that mode (set by
``experimental_enable_numpy_behavior``) and converts every argument under it.
"""

from __future__ import annotations

import numbers

import numpy as np

from rill.core import dtypes as _d
from rill.core.tensor import Tensor
from rill.ops._op import tf_export

_NS = "experimental.numpy"

# TF's tnp exports NumPy's own scalar type classes (tnp.float32 is np.float32)
bool_ = np.bool_
complex64 = np.complex64
complex128 = np.complex128
complex_ = np.complex128
float16 = np.float16
float32 = np.float32
float64 = np.float64
float_ = np.float64
inexact = np.inexact
int_ = np.int_
int8 = np.int8
int16 = np.int16
int32 = np.int32
int64 = np.int64
object_ = np.object_
string_ = np.bytes_
unicode_ = np.str_
uint8 = np.uint8
uint16 = np.uint16
uint32 = np.uint32
uint64 = np.uint64
iinfo = np.iinfo
issubdtype = np.issubdtype

for _n in (
    "bool_ complex64 complex128 complex_ float16 float32 float64 float_ inexact int_ int8 "
    "int16 int32 int64 object_ string_ unicode_ uint8 uint16 uint32 uint64 iinfo issubdtype"
).split():
    tf_export(f"{_NS}.{_n}")(globals()[_n])


class _Mode:
    """The process-wide switches of ``experimental_enable_numpy_behavior``."""

    prefer_float32 = False
    allow_float64 = True
    conversion_mode = "off"  # TF's operators promote only once "legacy" is enabled
    methods_enabled = False


mode = _Mode()

_TO_32 = {np.dtype("float64"): np.dtype("float32"), np.dtype("complex128"): np.dtype("complex64")}


def _canonical(dtype: np.dtype) -> np.dtype:
    if not mode.allow_float64:
        return _TO_32.get(dtype, dtype)
    return dtype


def _np_arg(x):
    """What ``np.result_type`` should see for one argument."""
    if isinstance(x, bool):
        return x
    if isinstance(x, float):
        return np.float32(x) if mode.prefer_float32 else x
    if isinstance(x, complex):
        return np.complex64(x) if mode.prefer_float32 else x
    if isinstance(x, numbers.Real) and not isinstance(x, np.generic):
        return x
    if isinstance(x, Tensor) or getattr(x, "_rill_variable", False):
        return x.dtype.np
    if isinstance(x, _d.DType):
        return x.np
    if isinstance(x, (list, tuple)):
        raise ValueError(
            f"result_type cannot take a sequence argument of type {type(x).__name__}: "
            "pass its elements one by one."
        )
    return x


def _flatten(xs):
    out = []
    for x in xs:
        if isinstance(x, (list, tuple)):
            out.extend(_flatten(x))
        else:
            out.append(x)
    return out


@tf_export(f"{_NS}.result_type")
def result_type(*arrays_and_dtypes) -> _d.DType:
    """The dtype NumPy's promotion gives ``arrays_and_dtypes``, under tnp's mode."""
    args = [_np_arg(x) for x in _flatten(arrays_and_dtypes)]
    if not args:
        args = [np.asarray([])]
    return _d.as_dtype(_canonical(np.result_type(*args)))


@tf_export(f"{_NS}.promote_types")
def promote_types(type1, type2) -> np.dtype:
    """NumPy's ``promote_types`` on tnp or rill dtypes (a NumPy dtype, as TF returns)."""
    return _canonical(np.promote_types(_np_type(type1), _np_type(type2)))


@tf_export(f"{_NS}.finfo")
def finfo(dtype) -> np.finfo:
    """NumPy's ``finfo`` for a tnp, NumPy or rill float dtype."""
    return np.finfo(_np_type(dtype))


def _np_type(dtype):
    if isinstance(dtype, _d.DType):
        return dtype.np
    if isinstance(dtype, Tensor) or getattr(dtype, "_rill_variable", False):
        return dtype.dtype.np
    return dtype


def default_float_type() -> _d.DType:
    """float64 unless ``prefer_float32`` (or float64 is disallowed)."""
    if mode.prefer_float32 or not mode.allow_float64:
        return _d.float32
    return _d.float64


def float_dtype() -> _d.DType:
    """``result_type(float)``: what non-float inputs of a float-valued function become."""
    return result_type(float)


def float_like(x):
    """What ``x * 1.0`` would be, as a ``result_type`` argument (TF's linspace uses it)."""
    if isinstance(x, (bool, int, float)):
        return float(x)
    if isinstance(x, complex):
        return x
    return result_type(_np_arg(x) if not isinstance(x, (list, tuple)) else result_type(x), 1.0)


def as_dtype(dtype):
    """A rill DType for any dtype argument (None stays None)."""
    if dtype is None:
        return None
    return result_type(dtype)


def tensor(x, dtype=None) -> Tensor:
    """``x`` as a rill tensor under tnp's rules; with ``dtype``, cast to it."""
    from rill.ops.array_ops import cast

    if dtype is not None:
        dtype = as_dtype(dtype)
    if getattr(x, "_rill_variable", False):
        x = x.value()
    if isinstance(x, Tensor):
        return x if dtype is None or x.dtype == dtype else cast(x, dtype)
    return _from_python(x, dtype)


def _from_python(x, dtype):
    from rill.core.convert import convert_to_tensor
    from rill.ops.array_ops import cast, stack

    if dtype is None:
        if isinstance(x, str):
            dtype = _d.string
        elif isinstance(x, bytes):
            dtype = _d.string
        else:
            dtype = result_type(x)
    leaves = _flatten([x]) if isinstance(x, (list, tuple)) else ()
    if any(isinstance(v, Tensor) or getattr(v, "_rill_variable", False) for v in leaves):
        # a nested list holding tensors: stack it with rill ops so gradients flow
        return stack([tensor(v, dtype) for v in x])
    if dtype is _d.string:
        return convert_to_tensor(x, _d.string)
    if isinstance(x, int) and not isinstance(x, bool) and x >= 2**63 and dtype.is_integer:
        return (
            convert_to_tensor(np.asarray(x, np.uint64))
            if dtype is _d.uint64
            else cast(convert_to_tensor(np.asarray(x, np.uint64)), dtype)
        )
    arr = np.asarray(x)
    if arr.dtype != dtype.np:
        arr = arr.astype(dtype.np)
    return convert_to_tensor(arr, dtype)


def promote(*xs):
    """Convert ``xs`` to tensors of one dtype, their ``result_type``."""
    dtype = result_type(*xs)
    return [tensor(x, dtype) for x in xs]
