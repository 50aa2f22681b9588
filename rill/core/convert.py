"""Converting Python values, NumPy arrays and Variables to tensors, with TF's dtype rules.

Python ints become int32 (int64 if they do not fit), floats float32, complex complex128,
str/bytes string; NumPy arrays keep their dtype. A requested dtype must be compatible
(TF's rule: ints -> any int/float/complex, floats -> floats/complex), and out-of-range
ints raise instead of wrapping around.
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import ResourceExhaustedError, op_error
from rill.core.interfaces import core_ops
from rill.core.tensor import EagerTensor, Tensor, wrap

__all__ = ["convert_to_tensor", "constant", "register_tensor_conversion_function"]

_conversion_fns: list = []  # (type, fn(value, dtype) -> Tensor)


def register_tensor_conversion_function(base_type, conversion_func, priority=100):
    """Register ``conversion_func(value, dtype=None, name=None, as_ref=False)`` for a type."""
    _conversion_fns.append((priority, base_type, conversion_func))
    _conversion_fns.sort(key=lambda e: e[0])
    _conversion_for_type.clear()


# type -> its conversion function (None: no registered one), found once per type: the
# priority-ordered isinstance scan would otherwise run on every conversion of a variable
_conversion_for_type: dict = {}


def _conversion_for(tv):
    fn = next((f for _, base, f in _conversion_fns if issubclass(tv, base)), None)
    _conversion_for_type[tv] = fn
    return fn


_INT_RANGE = {d: (int(np.iinfo(d.np).min), int(np.iinfo(d.np).max)) for d in _d.INTS}


def _compatible(desired: _d.DType, inferred: _d.DType) -> bool:
    if desired is inferred:
        return True
    if desired.is_integer:
        return inferred.is_integer
    if desired.is_floating:
        return inferred.is_floating or inferred.is_integer
    if desired.is_complex:
        return inferred.is_complex or inferred.is_floating or inferred.is_integer
    return False


def _encode_strings(a: np.ndarray) -> np.ndarray:
    out = np.empty(a.shape, dtype=object)
    flat = out.reshape(-1)
    for i, s in enumerate(a.reshape(-1)):
        if isinstance(s, str):
            s = s.encode("utf-8")
        elif not isinstance(s, bytes):
            raise TypeError(
                f"Failed to convert elements of {a!r} to Tensor: {s!r} is not a string."
            )
        flat[i] = s
    return out


def _short(value) -> str:
    r = repr(value)
    return r if len(r) < 120 else r[:117] + "..."


def _check_int_range(arr, dtype, value):
    if arr.size:
        lo, hi = _INT_RANGE[dtype]
        if int(arr.min()) < lo or int(arr.max()) > hi:
            raise ValueError(
                f"Can't convert Python int {_short(value)} to {dtype.name}: out of range "
                f"[{lo}, {hi}]."
            )


def _from_numpy(value, dtype):
    arr = np.asarray(value)
    if arr.dtype.kind in "USO":
        arr = _encode_strings(arr)
        inferred = _d.string
    else:
        inferred = _d.from_numpy(arr.dtype)
    if dtype is None or dtype is inferred:
        return arr.copy() if arr is value else arr, inferred
    if not _compatible(dtype, inferred):
        raise TypeError(
            f"Cannot convert provided value to a Tensor. Provided value: {_short(value)} "
            f"(dtype {inferred.name}); requested dtype: {dtype.name}."
        )
    return arr.astype(dtype.np), dtype


def _infer_python(arr: np.ndarray, value):
    kind = arr.dtype.kind
    if kind == "b":
        return _d.bool
    if kind in "iu":
        if kind == "u" or (arr.size and (arr.max() > 2**31 - 1 or arr.min() < -(2**31))):
            _check_int_range(arr, _d.int64, value)
            return _d.int64
        return _d.int32
    if kind == "f":
        return _d.float32
    if kind == "c":
        return _d.complex128
    if kind in "US" or (kind == "O" and all(isinstance(x, (str, bytes)) for x in arr.reshape(-1))):
        return _d.string
    raise TypeError(f"Can't convert {_short(value)} (of type {type(value).__name__}) to a Tensor.")


_KIND_OF_TYPE = {bool: "bool", np.bool_: "bool", str: "string", bytes: "string",
                 complex: "complex", int: "number", float: "number"}  # fmt: skip


def _mixed_kinds(value) -> set | None:
    """The element kinds of a nested Python sequence when it mixes kinds TF will not
    combine after its first element (bools, numbers, complex numbers, strings); None when
    it does not."""
    types, stack = set(), [value]
    while stack:  # iterative: deep nesting must not overflow the stack
        seq = stack.pop()
        ts = set(map(type, seq))
        if list in ts or tuple in ts:
            stack.extend(x for x in seq if type(x) is list or type(x) is tuple)
        types |= ts
    kinds = {k for k in map(_kind_of, types) if k is not None}
    first = value
    while type(first) in (list, tuple) and first:
        first = first[0]
    # like TF, the first element's kind decides what may follow: an int takes a later bool,
    # a complex takes later numbers, a bool or a string takes nothing else
    allowed = _MAY_FOLLOW.get(_kind_of(type(first)), set())
    return kinds if not kinds <= allowed else None


_MAY_FOLLOW = {
    "bool": {"bool"},
    "number": {"number", "bool"},
    "complex": {"complex", "number", "bool"},
    "string": {"string"},
}


def _kind_of(t) -> str | None:
    k = _KIND_OF_TYPE.get(t)
    if k is None and isinstance(t, type) and issubclass(t, np.generic):
        k = {"b": "bool", "c": "complex", "U": "string", "S": "string"}.get(
            np.dtype(t).kind, "number"
        )
    return k


def _flat_numbers(value, dtype):
    """(array, DType) for a flat list or tuple of only Python ints or only Python floats,
    the common case (shapes, axes, small constants), without NumPy's inference and its
    range reductions; None for anything else (the general path decides)."""
    kinds = set(map(type, value))
    if kinds == _INT_ONLY:
        lo, hi = min(value), max(value)
        if -(2**31) <= lo and hi < 2**31:
            inferred = _d.int32
        elif -(2**63) <= lo and hi < 2**63:
            inferred = _d.int64
        else:
            return None
    elif kinds == _FLOAT_ONLY:
        inferred = _d.float32
    else:
        return None
    if dtype is not None and dtype is not inferred:
        return None
    return np.array(value, inferred.np), inferred


_INT_ONLY, _FLOAT_ONLY = {int}, {float}


def _from_python(value, dtype):
    if (type(value) is list or type(value) is tuple) and value:
        fast = _flat_numbers(value, dtype)
        if fast is not None:
            return fast
    if isinstance(value, (list, tuple)) and _contains_tensor(value):
        return _pack(value, dtype)
    try:
        arr = np.array(value)
    except OverflowError:
        raise ValueError(
            f"Can't convert Python int {_short(value)} to a Tensor: out of range for int64."
        ) from None
    except (ValueError, TypeError):
        try:  # str and bytes mixed (NumPy refuses them together): strings of objects
            arr = np.array(value, dtype=object)
        except ValueError:
            arr = None
        if (
            arr is None
            or arr.dtype != object
            or not all(isinstance(x, (str, bytes)) for x in arr.reshape(-1))
        ):
            raise ValueError(
                f"Can't convert non-rectangular Python sequence to Tensor: {_short(value)}"
            ) from None
    if arr.dtype.kind in "SU":
        # NumPy's fixed-width strings drop trailing NUL bytes ("a\x00" -> "a"); keep the
        # Python objects as they are
        arr = np.array(value, dtype=object)
    if arr.dtype.kind == "O":
        flat = arr.reshape(-1)
        if all(isinstance(x, (str, bytes)) for x in flat):
            arr = arr.astype(object)
        elif all(isinstance(x, int) for x in flat):
            raise ValueError(
                f"Can't convert Python int {_short(value)} to a Tensor: out of range for int64."
            )
        else:
            raise ValueError(
                f"Can't convert {_short(value)} to a Tensor: mixed or unsupported element types."
            )
    elif isinstance(value, (list, tuple)) and _mixed_kinds(value):
        # NumPy would coerce silently ([1, "a"] -> strings, [True, 1] -> ints): TF refuses
        raise ValueError(
            f"Can't convert Python sequence with mixed types to Tensor: {_short(value)} mixes "
            f"{' and '.join(sorted(_mixed_kinds(value)))} elements."
        )
    if arr.size == 0 and dtype is not None:
        return arr.astype(dtype.np), dtype  # [] converts to any dtype
    inferred = _infer_python(arr, value)
    if inferred is _d.string:
        arr = _encode_strings(arr)
    if dtype is None or dtype is inferred:
        if inferred is not _d.string:
            return arr.astype(inferred.np, copy=False), inferred
        return arr, inferred
    if inferred is _d.int32 or inferred is _d.int64:
        if dtype.is_integer:
            _check_int_range(arr, dtype, value)
            return arr.astype(dtype.np), dtype
        if dtype.is_floating or dtype.is_complex:
            return arr.astype(dtype.np), dtype
    elif inferred is _d.float32 and (dtype.is_floating or dtype.is_complex):
        return arr.astype(dtype.np), dtype
    elif inferred is _d.complex128 and dtype.is_complex:
        return arr.astype(dtype.np), dtype
    elif inferred is _d.bool and (dtype.is_integer or dtype.is_floating or dtype.is_complex):
        return arr.astype(dtype.np), dtype
    raise TypeError(f"Cannot convert {_short(value)} to EagerTensor of dtype {dtype.name}")


def _contains_tensor(value) -> bool:
    for v in value:
        if isinstance(v, Tensor) or (isinstance(v, (list, tuple)) and _contains_tensor(v)):
            return True
        if hasattr(v, "_rill_variable"):
            return True
    return False


def _pack(value, dtype):
    parts = [convert_to_tensor(v, dtype) for v in value]
    dt = dtype or next((p.dtype for p in parts), _d.float32)
    for p in parts:
        if p.dtype is not dt:
            raise TypeError(
                f"Cannot pack tensors of dtypes {p.dtype.name} and {dt.name} into one Tensor."
            )
    if any(type(p) is not EagerTensor for p in parts):
        return core_ops.stack(parts), dt
    return np.stack([p._value for p in parts]), dt


def _to_array(value, dtype):
    """(array, DType) for a non-tensor value, honouring a requested dtype."""
    tv = type(value)
    if tv is float:
        if dtype is None or dtype is _d.float32:
            return np.asarray(value, np.float32), _d.float32
        if dtype.is_floating or dtype.is_complex:
            return np.asarray(value, dtype.np), dtype
        raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype {dtype.name}")
    if tv is int:
        if dtype is None:
            dtype = _d.int32 if -(2**31) <= value < 2**31 else _d.int64
        if dtype.is_integer:
            lo, hi = _INT_RANGE[dtype]
            if not lo <= value <= hi:
                raise ValueError(
                    f"Can't convert Python int {value} to {dtype.name}: out of range [{lo}, {hi}]."
                )
            return np.asarray(value, dtype.np), dtype
        if dtype.is_floating or dtype.is_complex:
            return np.asarray(value, dtype.np), dtype
        raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype {dtype.name}")
    if tv is bool:
        if dtype is None or dtype is _d.bool:
            return np.asarray(value), _d.bool
        if dtype.is_integer or dtype.is_floating or dtype.is_complex:
            return np.asarray(value, dtype.np), dtype  # True -> 1, as TF converts it
        raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype {dtype.name}")
    if tv is list or tv is tuple:
        return _from_python(value, dtype)
    if isinstance(value, (np.ndarray, np.generic)):
        return _from_numpy(value, dtype)
    if isinstance(value, (str, bytes)):
        if dtype is not None and dtype is not _d.string:
            raise TypeError(f"Cannot convert {_short(value)} to EagerTensor of dtype {dtype.name}")
        arr = np.empty((), dtype=object)
        arr[()] = value.encode("utf-8") if isinstance(value, str) else value
        return arr, _d.string
    if isinstance(value, (list, tuple, int, float, complex, bool)):
        return _from_python(value, dtype)
    if hasattr(value, "__array__"):
        return _from_numpy(np.asarray(value), dtype)
    raise TypeError(
        f"Can't convert {_short(value)} of type {type(value).__name__} to a Tensor; "
        f"expected a Tensor, a NumPy array, a Python scalar or a nested list."
    )


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None):
    """Convert ``value`` to a Tensor (TF's ``tf.convert_to_tensor``)."""
    if type(value) is EagerTensor and dtype is None:
        return value
    if dtype is not None:
        dtype = _d.as_dtype(dtype)
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype is not dtype:
            raise ValueError(
                f"Tensor conversion requested dtype {dtype.name} for Tensor with dtype "
                f"{value.dtype.name}: {value!r}"
            )
        return value
    tv = type(value)
    fn = _conversion_for_type[tv] if tv in _conversion_for_type else _conversion_for(tv)
    if fn is not None:
        return fn(value, dtype=dtype, name=name)
    if dtype is None and dtype_hint is not None:
        try:
            arr, dt = _to_array(value, _d.as_dtype(dtype_hint))
        except (TypeError, ValueError):
            pass
        else:
            # a list holding tensors comes back packed (a Pack op while tracing)
            return arr if isinstance(arr, Tensor) else wrap(arr, dt)
    arr, dt = _to_array(value, dtype)
    return arr if isinstance(arr, Tensor) else wrap(arr, dt)


def _constant_shape(shape) -> tuple:
    """``tf.constant``'s ``shape`` argument as a tuple of non-negative ints, with TF's errors."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    out = []
    for d in shape:
        if isinstance(d, (bool, np.bool_)) or not hasattr(d, "__index__"):
            raise TypeError(
                f"Dimension value must be integer or None or have an __index__ method, got "
                f"value {d!r} with type {type(d)}"
            )
        d = d.__index__()
        if d < 0:
            raise ValueError(f"Dimension {d} must be >= 0")
        out.append(d)
    return tuple(out)


def constant(value, dtype=None, shape=None, name="Const"):
    """Create a constant tensor (``tf.constant``): ``shape`` reshapes or broadcasts a scalar."""
    if isinstance(value, Tensor) and dtype is not None and value.dtype is not _d.as_dtype(dtype):
        raise TypeError(
            f"Expected tensor {_short(value)} with dtype {_d.as_dtype(dtype).name}, but got dtype "
            f"{value.dtype.name}; use tf.cast to change a tensor's dtype."
        )
    t = convert_to_tensor(value, dtype)
    if shape is None:
        return t
    if type(t) is not EagerTensor:
        raise TypeError("tf.constant with a shape needs a concrete value; use tf.reshape instead.")
    shape = _constant_shape(shape)
    v = t._value
    n = 1
    for d in shape:  # Python ints: np.prod would overflow int64 silently
        n *= d
    if v.size == n:
        try:
            return wrap(v.reshape(shape), t.dtype)
        except ValueError:  # NumPy cannot represent the shape, even empty (TF can)
            raise ValueError(
                f"tf.constant: shape {list(shape)} is too large for a NumPy array"
            ) from None
    if v.size == 1:
        if n > 2**63 - 1:
            raise ValueError(f"tf.constant: shape {list(shape)} has more than 2**63 - 1 elements")
        try:
            return wrap(np.full(shape, v.reshape(())[()], dtype=v.dtype), t.dtype)
        except MemoryError:  # TF's class for a failed allocation, never a bare one
            raise op_error(
                ResourceExhaustedError,
                "Const",
                f"OOM when allocating tensor with shape{list(shape)} and type {t.dtype.name}",
            ) from None
        except ValueError:  # NumPy cannot represent the shape, even empty (TF can)
            raise ValueError(
                f"tf.constant: shape {list(shape)} is too large for a NumPy array"
            ) from None
    raise TypeError(
        f"Eager execution of tf.constant with unsupported shape. Tensor {_short(value)} "
        f"(converted from a value with {v.size} elements) cannot be reshaped to {list(shape)} "
        f"({n} elements)."
    )
