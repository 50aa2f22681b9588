"""Python operators on ``Tensor`` and ``Variable``, routed to the same op definitions.

Binary arithmetic gets a fast path for the common eager case (two eager tensors of the
same allowed dtype, or a tensor and a Python scalar, no tape and no tracing): it calls
the primitive's kernel directly and wraps the result. Everything else goes through the
public op, so semantics are identical either way.
"""

from __future__ import annotations

import dis
import operator
import sys

import numpy as np

from rill.core import dispatch as _dispatch
from rill.core import dtypes as _d
from rill.core.dispatch import bind
from rill.core.errors import InvalidArgumentError, op_error
from rill.core.tensor import EagerTensor, Tensor
from rill.core.variables import Variable, sole_owner
from rill.ops import indexing_ops, linalg_ops, unary_ops
from rill.ops import math_ops as m
from rill.ops._op import binary_args, convert_to_tensor, set_eager_pair

_new = object.__new__
_ndarray = np.ndarray
_asarray = np.asarray
_FLOATISH = _d.INEXACT


def _fast_binary(prim, slow, out_dtype=None, reverse=False):
    """Build an operator method with an eager fast path that defers to ``slow``."""
    allowed = prim.dtypes if prim.dtypes is not None else _d.ALL_SET  # None: the kernel checks
    dispatch = _dispatch
    # the primitive's augmented form ("+="), which may write the result into a temporary
    # operand's array (see _temporary); reflected, only where the operands commute
    aug = prim.inplace_operator
    inplace = _AUGMENTED.get(aug) if not reverse or aug in _COMMUTING else None
    # under a tape only where the gradient reads no operand's value (the tape entry would
    # otherwise keep the operand whose array the result overwrote): Add and Sub
    taped_inplace = inplace if prim.saves is not None and not prim.saves else None

    def op(self, other):
        # a plain tf.Variable reads as a tensor of its array when nothing records or traces
        # the read (Keras variables may autocast their reads: they take the slow path)
        ts = type(self)
        if not dispatch._slow and (ts is EagerTensor or ts is Variable):
            d = self._dtype
            to = type(other)
            if to is EagerTensor or to is Variable:
                ok = other._dtype is d
                b = other._value
            else:
                # NumPy 2 keeps a Python scalar "weak" (the array's dtype wins) and raises
                # OverflowError for ints that do not fit, which the slow path reports.
                ok = (to is float and d in _FLOATISH) or to is int
                b = other
            if ok and d in allowed:
                if (
                    inplace is not None
                    and _refcount(self) == _TEMP_REFS
                    and ts is EagerTensor
                    and self._value.nbytes >= _ELIDE_BYTES  # small: no call made
                    and _temporary(self, b, d)
                ):
                    t = _write_into(inplace, self._value, b, d)
                    if t is not None:
                        return t
                # the kernel is read per call: set_backend rebinds it
                a = self._value
                try:
                    out = prim.kernel(b, a) if reverse else prim.kernel(a, b)
                except Exception:  # noqa: BLE001 - re-run through the slow path for the real error
                    pass
                else:
                    t = _new(EagerTensor)
                    t._value = out if type(out) is _ndarray else _asarray(out)
                    t._dtype = out_dtype or d
                    return t
        elif ts is EagerTensor:
            # a tape records (or a trace captures): two eager tensors alike need no
            # conversion, so the op is what the public function would bind; a plain
            # variable is read eagerly as that function reads it (a tape watches the read)
            to = type(other)
            if to is Variable and other._dtype is self._dtype and dispatch.state.graph is None:
                other = other._read()
                to = type(other)
            if to is EagerTensor and other._dtype is self._dtype and self._dtype in allowed:
                if (
                    taped_inplace is not None
                    and _refcount(self) == _TEMP_REFS
                    and self._value.nbytes >= _ELIDE_BYTES
                    and dispatch.only_tapes_slow()
                    and _temporary(self, other._value, self._dtype)
                ):
                    # a layer's ``x @ w + b`` under a tape: the product's array takes the sum
                    # (no one holds the product, and the sum's entry keeps only shapes), then
                    # the op is recorded as bind would record it
                    t = _write_into(taped_inplace, self._value, other._value, self._dtype)
                    if t is not None:
                        operands = (other, self) if reverse else (self, other)
                        dispatch.record_on_tapes(prim, dispatch._EMPTY, operands, (t,))
                        return t
                return bind(prim, (other, self) if reverse else (self, other))
        if getattr(other, "_rill_dispatch", False):
            return NotImplemented  # let RaggedTensor/SparseTensor's reflected operator run
        return slow(other, self) if reverse else slow(self, other)

    return op


# Temporary elision, as NumPy does for its own operators: in ``x * 0.9 + g`` the product
# is a tensor nothing else can reach, so the sum may be written into its array instead of
# a new one. For large arrays this saves an allocation (and its page faults) per op.
# Below 64 kB the checks (about 1 us) cost about what a new array does; above, skipping
# the allocation and writing into memory still in cache pays (measured on the eager MLP
# Adam step, whose 128 kB weights, moments and activations it covers).
_ELIDE_BYTES = 1 << 16
_refcount = sys.getrefcount


def _gil_enabled() -> bool:
    check = getattr(sys, "_is_gil_enabled", None)  # Python 3.13+
    return True if check is None else check()


# Python 3.11+: the one opcode of every binary operator. Off where reference counts are
# not exact (a free-threaded build): elision relies on them.
_BINARY_OP = dis.opmap.get("BINARY_OP") if _gil_enabled() else None
_AUGMENTED = {"+=": operator.iadd, "-=": operator.isub, "*=": operator.imul,
              "/=": operator.itruediv}  # fmt: skip
_COMMUTING = {"+=", "*="}


class _Probe:
    def __add__(self, other):
        return _refcount(self)


# the references an operand evaluated on the interpreter's stack has inside the operator
# method: measured, since they differ between Python versions
_TEMP_REFS = _Probe() + 0


def _temporary(t, b, d) -> bool:
    """Whether the operator may write its result into the array of ``t``, its tensor
    operand (a large one: the caller checked): a float array of the result's shape that
    only ``t`` holds (no view, no other tensor or variable: ``sole_owner``), and ``t``
    itself a value the interpreter evaluated for this operator alone (a C caller such as
    ``sum`` could hold the only reference and read it afterwards, so the calling
    instruction must be the interpreter's own binary operator)."""
    a = t._value
    if (
        d not in _FLOATISH
        or type(a) is not _ndarray
        or (type(b) is _ndarray and b.shape != a.shape and not _trailing(b.shape, a.shape))
        or _BINARY_OP is None
    ):
        return False
    del a  # sole_owner counts the references to the array
    if not sole_owner(t):
        return False
    f = sys._getframe(2)
    return f.f_code.co_code[f.f_lasti] == _BINARY_OP


def _write_into(inplace, a, b, d):
    """``a <op>= b`` (``inplace``, after ``_temporary`` allowed it) as a new tensor over
    ``a``; None if the kernel refused (the operands were checked before writing, so
    nothing was written: the ordinary path then reports the error)."""
    try:
        inplace(a, b)
    except Exception:  # noqa: BLE001
        return None
    t = _new(EagerTensor)
    t._value = a
    t._dtype = d
    return t


def _trailing(small, big) -> bool:
    """Whether an operand of shape ``small`` broadcasts into ``big`` by matching its
    trailing dims (a scalar, or a bias against a batch): ``big`` is the result's shape."""
    return len(small) <= len(big) and big[len(big) - len(small) :] == small


def _slow_only(fn, reverse=False):
    def op(self, other):
        if getattr(other, "_rill_dispatch", False):
            return NotImplemented
        return fn(other, self) if reverse else fn(self, other)

    return op


def _eq(self, other):
    if other is None:
        return False
    if getattr(other, "_rill_dispatch", False):
        return NotImplemented
    try:
        return m.equal(self, other)
    except (TypeError, ValueError, InvalidArgumentError):
        return False


def _ne(self, other):
    if other is None:
        return True
    if getattr(other, "_rill_dispatch", False):
        return NotImplemented
    try:
        return m.not_equal(self, other)
    except (TypeError, ValueError, InvalidArgumentError):
        return True


def _and(x, y):
    x, y = _args(x, y)
    return m.logical_and(x, y) if x.dtype is _d.bool else m.bitwise_and(x, y)


def _or(x, y):
    x, y = _args(x, y)
    return m.logical_or(x, y) if x.dtype is _d.bool else m.bitwise_or(x, y)


def _xor(x, y):
    x, y = _args(x, y)
    return m.logical_xor(x, y) if x.dtype is _d.bool else m.bitwise_xor(x, y)


def _invert(x):
    x = convert_to_tensor(x)
    if x.dtype is _d.bool:
        return m.logical_not(x)
    if x.dtype.is_integer:
        return m.invert(x)
    raise op_error(TypeError, "Invert", f"~ needs a bool or integer tensor, got {x.dtype.name}")


def _args(x, y):
    return binary_args(x, y)


def install():
    """Attach the operators to Tensor and Variable."""
    table = {
        "__add__": _fast_binary(m.add_p, m.add),
        "__radd__": _fast_binary(m.add_p, m.add, reverse=True),
        "__sub__": _fast_binary(m.subtract_p, m.subtract),
        "__rsub__": _fast_binary(m.subtract_p, m.subtract, reverse=True),
        "__mul__": _fast_binary(m.multiply_p, m.multiply),
        "__rmul__": _fast_binary(m.multiply_p, m.multiply, reverse=True),
        "__truediv__": _fast_binary(m.realdiv_p, m.truediv),
        "__rtruediv__": _fast_binary(m.realdiv_p, m.truediv, reverse=True),
        "__floordiv__": _slow_only(m.floordiv),
        "__rfloordiv__": _slow_only(m.floordiv, True),
        "__mod__": _slow_only(m.floormod),
        "__rmod__": _slow_only(m.floormod, True),
        "__pow__": _slow_only(m.pow),
        "__rpow__": _slow_only(m.pow, True),
        "__matmul__": _fast_binary(linalg_ops.matmul_p, linalg_ops.matmul),
        "__rmatmul__": _fast_binary(linalg_ops.matmul_p, linalg_ops.matmul, reverse=True),
        "__lt__": _fast_binary(m.less_p, m.less, _d.bool),
        "__le__": _fast_binary(m.less_equal_p, m.less_equal, _d.bool),
        "__gt__": _fast_binary(m.greater_p, m.greater, _d.bool),
        "__ge__": _fast_binary(m.greater_equal_p, m.greater_equal, _d.bool),
        "__eq__": _eq,
        "__ne__": _ne,
        "__and__": _slow_only(_and),
        "__rand__": _slow_only(_and, True),
        "__or__": _slow_only(_or),
        "__ror__": _slow_only(_or, True),
        "__xor__": _slow_only(_xor),
        "__rxor__": _slow_only(_xor, True),
        "__neg__": lambda self: m.negative(self),
        "__pos__": lambda self: self,
        "__abs__": lambda self: unary_ops.abs(self),
        "__invert__": _invert,
        "__getitem__": indexing_ops.getitem,
    }
    for name, fn in table.items():
        setattr(Tensor, name, fn)
        setattr(Variable, name, fn)
    for op, name in (
        (m.add, "__add__"), (m.subtract, "__sub__"), (m.multiply, "__mul__"),
        (m.truediv, "__truediv__"), (linalg_ops.matmul, "__matmul__"), (m.less, "__lt__"),
        (m.less_equal, "__le__"), (m.greater, "__gt__"), (m.greater_equal, "__ge__"),
    ):  # fmt: skip
        set_eager_pair(op, table[name])
