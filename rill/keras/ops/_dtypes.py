"""Keras 3's dtype names and its type promotion (``keras.backend.result_type``).

Keras promotes like JAX, not like TensorFlow: types form a lattice and two types combine
to their least upper bound, so ``int32 + float32`` is ``float32`` and ``uint8 + int8`` is
``int16``. Python ``int`` and ``float`` are *weak*: they sit low in the lattice and take
the other operand's type (``bfloat16 + 1.0`` stays ``bfloat16``); a result that is still
weak gets the precision of ``floatx()``. On the TensorFlow backend ``uint64`` results
become ``uint32`` and ``complex128`` ones ``complex64``.
"""

from __future__ import annotations

import functools

import numpy as np

from rill.keras import config

__all__ = ["ALLOWED", "is_float_dtype", "is_int_dtype", "result_type", "standardize_dtype"]

ALLOWED = (
    "float16", "float32", "float64", "uint8", "uint16", "uint32", "uint64", "int8", "int16",
    "int32", "int64", "bfloat16", "bool", "string", "float8_e4m3fn", "float8_e5m2",
    "complex64", "complex128",
)  # fmt: skip
_FLOAT8 = ("float8_e4m3fn", "float8_e5m2")
_PYTHON = {bool: "bool", int: "int64", float: "float32", str: "string", complex: "complex128",
           "int": "int64"}  # fmt: skip

# each type's immediate supertypes; "int", "float" are the weak Python types
_UP = {
    "bool": ("int",),
    "int": ("uint8", "int8", "float"),
    "uint8": ("uint16", "int16"),
    "uint16": ("uint32", "int32"),
    "uint32": ("uint64", "int64"),
    "uint64": ("float",),
    "int8": ("int16",),
    "int16": ("int32",),
    "int32": ("int64",),
    "int64": ("float",),
    "float": ("bfloat16", "float16", "complex"),
    "bfloat16": ("float32",),
    "float16": ("float32",),
    "float32": ("float64", "complex64"),
    "float64": ("complex128",),
    "complex": ("complex64",),
    "complex64": ("complex128",),
    "complex128": (),
}
_TO_32_BIT = {"uint64": "uint32", "complex128": "complex64"}


@functools.cache
def _upset(t: str) -> frozenset:
    """``t`` and every type it promotes to."""
    out = {t}
    for u in _UP[t]:
        out |= _upset(u)
    return frozenset(out)


@functools.cache
def _join(types: frozenset) -> str:
    for t in types:
        if t not in _UP:
            raise ValueError(f"dtype={t!r} is not a valid dtype for Keras type promotion.")
    common = functools.reduce(frozenset.intersection, (_upset(t) for t in types))
    least = [c for c in common if common <= _upset(c)]
    if len(least) != 1:
        raise ValueError(
            f"Input dtypes {tuple(sorted(types))} have no available implicit dtype promotion "
            "path. Try explicitly casting inputs to the desired output type."
        )
    return least[0]


def standardize_dtype(dtype) -> str:
    """A dtype's Keras name: ``None`` -> ``floatx()``, Python ``int`` -> ``"int64"``,
    NumPy dtypes and types, rill/TF DTypes and names -> their name."""
    if dtype is None:
        return config.floatx()
    dtype = _PYTHON.get(dtype, dtype)
    if hasattr(dtype, "name"):  # DType, np.dtype
        dtype = dtype.name
    elif isinstance(dtype, type) and issubclass(dtype, np.generic):
        dtype = np.dtype(dtype).name
    elif not isinstance(dtype, str) and hasattr(dtype, "__name__"):
        dtype = dtype.__name__
    if dtype not in ALLOWED:
        raise ValueError(f"Invalid dtype: {dtype}")
    return dtype


def _of(value):
    """(dtype, weak) for an argument of ``result_type``."""
    if value is int or value is float:
        return standardize_dtype(value), True
    return standardize_dtype(value), False


def _weak(dtype: str) -> str:
    if dtype == "bool":
        return dtype
    if "float" in dtype:
        return "float"
    if "int" in dtype:
        return "int"
    return dtype


def result_type(*dtypes) -> str:
    """The dtype Keras computes in for operands of these dtypes (types or names; Python
    ``int``/``float`` are weak); ``floatx()`` for none."""
    if not dtypes:
        return config.floatx()
    for d in dtypes:
        if isinstance(d, str) and d in _FLOAT8:
            raise ValueError(
                "There is no implicit conversions from float8 dtypes to others. You must "
                f"cast it internally. Received: {dtypes}"
            )
    pairs = [_of(config.floatx() if d is None else d) for d in dtypes]
    names = [p[0] for p in pairs]
    weaks = [p[1] for p in pairs]
    if len(names) == 1:
        out, weak = names[0], weaks[0]
    elif len(set(names)) == 1 and not all(weaks):
        out, weak = names[0], False
    elif all(weaks):
        out, weak = _join(frozenset(names)), True
    else:
        out = _join(frozenset(_weak(n) if w else n for n, w in zip(names, weaks)))
        weak = out in ("int", "float", "complex")
    if weak and out != "bool":
        bits = config.floatx()[-2:]
        kind = "f" if out == "bfloat16" else out[0]
        out = {"i": f"int{bits}", "u": f"uint{bits}"}.get(kind, f"float{bits}")
    return _TO_32_BIT.get(out, out)


def is_float_dtype(dtype) -> bool:
    d = standardize_dtype(dtype)
    return d.startswith("float") or d.startswith("bfloat")


def is_int_dtype(dtype) -> bool:
    d = standardize_dtype(dtype)
    return d.startswith("int") or d.startswith("uint")
