"""Running one fuzzed call and judging its outcome: a value, a deliberate error, or a leak.

A deliberate error is one of TF's classes (``rill.errors``, or the built-in TypeError /
ValueError / IndexError / NotImplementedError TF itself raises from Python), raised by
rill's own code with rill's message. A leak is anything else: a NumPy exception class, a
bare MemoryError, RecursionError or AttributeError, an error raised inside NumPy, or a
Python/NumPy internal message (``int()`` conversions, reshape failures) passed through,
even when wrapped in a TF class.
"""

from __future__ import annotations

import collections
import os
import re
import traceback

import numpy as np

import rill

# what the fuzz run saw, for the closing summary (tests/fuzz/conftest.py prints it)
STATS: collections.Counter = collections.Counter()

_DELIBERATE = (rill.errors.OpError, TypeError, ValueError, IndexError, NotImplementedError)

# messages of Python's and NumPy's own errors: seen in an error from rill, they mean a
# failure in rill's code was passed on instead of being checked for
LEAK_PATTERNS = re.compile(
    "|".join(
        (
            r"invalid literal for int\(\)",
            r"int\(\) argument must be",
            r"could not convert string to float",
            r"cannot reshape array",
            r"unsupported operand type",
            r"object of type .* has no len",
            r"is out of bounds for axis",
            r"(tuple|list) index out of range",
            r"'NoneType' object",
            r"has no attribute",
            r"not subscriptable",
            r"only integer scalar arrays",
            r"negative dimensions are not allowed",
            r"Unable to allocate",
            r"must be real number",
            r"cannot be interpreted as an integer",
            r"not supported between instances",
            r"unhashable type",
            r"iterator is too large",
            r"array is too big",
            r"maximum supported dimension",
            r"Maximum allowed dimension",
            r"operands could not be broadcast together",
            r"integer division or modulo by zero|integer modulo by zero|float division by zero",
        )
    )
)


def run(lib, call, args):
    """``("value", result)`` or ``("raise", exception)`` for ``call(lib, args)``."""
    try:
        return ("value", call(lib, args))
    except Exception as e:  # noqa: BLE001 - every outcome is data here
        return ("raise", e)


def _raised_in_numpy(exc: BaseException) -> bool:
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and f"{os.sep}numpy{os.sep}" in frames[-1].filename


def leak_reason(exc: BaseException) -> str | None:
    """Why ``exc`` (raised by rill) is a leaked error rather than a deliberate one; None if
    it is deliberate."""
    cls = type(exc)
    if not isinstance(exc, _DELIBERATE):
        return f"{cls.__module__}.{cls.__qualname__} is not one of TF's error classes"
    if not (cls.__module__ == "builtins" or cls.__module__.startswith("rill")):
        return f"{cls.__module__}.{cls.__qualname__} is a foreign subclass of {cls.__mro__[1].__name__}"
    if _raised_in_numpy(exc):
        return "raised inside NumPy, not by a check of rill's"
    m = LEAK_PATTERNS.search(str(exc))
    if m:
        return f"passes on a Python/NumPy internal message ({m.group(0)!r})"
    return None


def outcome_class(out) -> str:
    """A short name for an outcome: ``value`` or the exception class."""
    if out[0] == "value":
        return "value"
    return type(out[1]).__name__


def as_numpy(result):
    """A result as a list of (dtype name, ndarray) (ops may return tuples or lists)."""
    items = result if isinstance(result, (list, tuple)) else [result]
    out = []
    for r in items:
        dt = getattr(r.dtype, "name", str(r.dtype))
        out.append((dt, np.asarray(r.numpy())))
    return out


def assert_same_values(r, t, what: str) -> None:
    """rill's and TF's results agree in count, dtype, shape and value (NaN equals NaN)."""
    rv, tv = as_numpy(r), as_numpy(t)
    assert len(rv) == len(tv), f"{what}: {len(rv)} outputs vs TF's {len(tv)}"
    for (rd, ra), (td, ta) in zip(rv, tv):
        assert rd == td, f"{what}: dtype {rd} vs TF's {td}"
        assert ra.shape == ta.shape, f"{what}: shape {ra.shape} vs TF's {ta.shape}"
        if ra.dtype.kind in "fc":
            np.testing.assert_allclose(ra, ta, rtol=2e-5, atol=1e-6, equal_nan=True, err_msg=what)
        else:
            np.testing.assert_array_equal(ra, ta, err_msg=what)
