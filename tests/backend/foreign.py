"""A foreign array backend for testing the backend seam: NumPy's arithmetic behind an
array type NumPy does not recognise.

``ForeignArray`` wraps an ndarray but has no ``__array__``, refuses NumPy's ufunc and
array-function protocols, and is not an ``np.ndarray``: a kernel that calls ``np.*`` on
it directly raises or returns something other than a ForeignArray, so the registry-wide
check in ``test_array_backend.py`` catches every kernel that bypasses ``xp``. Its
namespace, ``FOREIGN.xp``, offers every NumPy function, unwrapping arguments and wrapping
array results, the way a real array library (CuPy) mirrors NumPy's API.
"""

from __future__ import annotations

import operator
import types

import numpy as np

from rill.backend import Backend

__all__ = ["ForeignArray", "FOREIGN", "unwrap", "wrap_result"]


class ForeignKernelError(TypeError):
    """A kernel handed a foreign array to NumPy directly instead of to ``xp``."""


def unwrap(x):
    """ndarray views of the ForeignArrays in ``x`` (recursively through containers)."""
    t = type(x)
    if t is ForeignArray:
        return x._a
    if t in (list, tuple):
        return t(unwrap(v) for v in x)
    if t is dict:
        return {k: unwrap(v) for k, v in x.items()}
    if t is slice:
        return slice(unwrap(x.start), unwrap(x.stop), unwrap(x.step))
    return x


def wrap_result(r):
    """ForeignArrays for the ndarrays (and NumPy scalars) in a NumPy result."""
    if isinstance(r, np.ndarray):
        return ForeignArray(r)
    if isinstance(r, np.generic):
        return ForeignArray(np.asarray(r))
    if type(r) in (list, tuple):
        return type(r)(wrap_result(v) for v in r)
    if isinstance(r, tuple):  # named tuples (np.linalg results)
        return type(r)(*(wrap_result(v) for v in r))
    return r


def _method(fn):
    def call(*args, **kwargs):
        return wrap_result(fn(*unwrap(args), **unwrap(kwargs)))

    call.__name__ = getattr(fn, "__name__", "fn")
    return call


class ForeignArray:
    """An array type NumPy does not know: see the module docstring."""

    __slots__ = ("_a",)
    __array_ufunc__ = None  # NumPy ufuncs refuse it; `ndarray op foreign` defers to us
    __hash__ = None

    def __init__(self, a: np.ndarray):
        self._a = a

    def __array_function__(self, func, types, args, kwargs):
        raise ForeignKernelError(
            f"np.{func.__name__} was called directly on a foreign array: use xp.{func.__name__}"
        )

    # attributes and methods of the wrapped array, with array results wrapped
    def __getattr__(self, name):
        attr = getattr(self._a, name)
        return _method(attr) if callable(attr) else wrap_result(attr)

    @property
    def shape(self):
        return self._a.shape

    @property
    def dtype(self):
        return self._a.dtype

    @property
    def ndim(self):
        return self._a.ndim

    @property
    def size(self):
        return self._a.size

    def __getitem__(self, key):
        return wrap_result(self._a[unwrap(key)])

    def __setitem__(self, key, value):
        self._a[unwrap(key)] = unwrap(value)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (wrap_result(v) for v in self._a)

    def __bool__(self):
        return bool(self._a)

    def __int__(self):
        return int(self._a)

    def __float__(self):
        return float(self._a)

    def __complex__(self):
        return complex(self._a)

    def __index__(self):
        return operator.index(self._a)

    def __repr__(self):
        return f"ForeignArray({self._a!r})"


def _binary(op):
    def method(self, other):
        return wrap_result(op(self._a, unwrap(other)))

    return method


def _reflected(op):
    def method(self, other):
        return wrap_result(op(unwrap(other), self._a))

    return method


def _inplace(op):
    def method(self, other):
        self._a = op(self._a, unwrap(other))
        return self

    return method


for _name, _op in [
    ("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
    ("truediv", operator.truediv), ("floordiv", operator.floordiv), ("mod", operator.mod),
    ("pow", operator.pow), ("matmul", operator.matmul), ("and", operator.and_),
    ("or", operator.or_), ("xor", operator.xor), ("lshift", operator.lshift),
    ("rshift", operator.rshift),
]:  # fmt: skip
    setattr(ForeignArray, f"__{_name}__", _binary(_op))
    setattr(ForeignArray, f"__r{_name}__", _reflected(_op))
    setattr(ForeignArray, f"__i{_name}__", _inplace(getattr(operator, f"i{_name}")))
for _name in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(ForeignArray, f"__{_name}__", _binary(getattr(operator, _name)))
for _name, _op in [("neg", operator.neg), ("pos", operator.pos), ("abs", abs),
                   ("invert", operator.invert)]:  # fmt: skip
    setattr(ForeignArray, f"__{_name}__", (lambda op: lambda self: wrap_result(op(self._a)))(_op))


class _Namespace:
    """NumPy's namespace (or a sub-module of it) speaking ForeignArrays."""

    def __init__(self, module):
        self._module = module
        self._cache = {}

    def __getattr__(self, name):
        hit = self._cache.get(name)
        if hit is not None:
            return hit
        attr = getattr(self._module, name)
        if isinstance(attr, types.ModuleType):
            out = _Namespace(attr)
        elif isinstance(attr, type) or not callable(attr):
            out = attr  # dtypes, classes, constants
        else:
            out = _method(attr)
        self._cache[name] = out
        return out


FOREIGN = Backend("foreign-test", _Namespace(np))
