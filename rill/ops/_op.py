"""Shared machinery for declaring ops: exports, shape-rule helpers, argument conversion.

Every public op module uses these so that an op is: one ``primitive(...)`` declaration
(kernel, shape rule, gradient rule) and one thin public function with TF's signature.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from rill.core import dispatch as _dispatch
from rill.core import dtypes as _d
from rill.core.convert import convert_to_tensor
from rill.core.dispatch import AVal, bind, primitive
from rill.core.errors import InvalidArgumentError, ResourceExhaustedError, op_error
from rill.core.tensor import EagerTensor, Tensor, wrap
from rill.core.tensor_shape import TensorShape
from rill.core.variables import Variable

__all__ = [
    "tf_export", "EXPORTS", "AVal", "bind", "primitive", "convert_to_tensor", "wrap",
    "EagerTensor", "Tensor", "TensorShape", "unary_rule", "broadcast_rule", "broadcast_shapes",
    "reduce_rule", "same_rule", "binary_args", "normalize_axis", "static_value", "op_error",
    "InvalidArgumentError", "unbroadcast", "is_tensor_like", "static_int",
    "check_alloc", "attr_int",
]  # fmt: skip

# --------------------------------------------------------------------------------------
# Exports: (namespace, name) -> object. Namespaces are "" (top level), "math", "nn", ...
# --------------------------------------------------------------------------------------
EXPORTS: dict[tuple[str, str], object] = {}


def tf_export(*names):
    """Register a public function under TF names like ``"add"`` and ``"math.add"``."""

    def deco(obj):
        for n in names:
            ns, _, leaf = n.rpartition(".")
            EXPORTS[(ns, leaf)] = obj
        return obj

    return deco


def dispatch_for(fn, cls):
    """Decorator: calls of the public op ``fn`` (through TF's namespaces, e.g.
    ``tf.math.add``) with an argument of type ``cls`` (a RaggedTensor, a SparseTensor...)
    run the decorated handler instead. Dense calls pay one loop over the arguments; rill's
    own modules import ops directly and are never redirected."""

    def deco(handler):
        wrapper = _DISPATCHERS.get(fn)
        if wrapper is None:
            table = []
            pair = [_EAGER_PAIR.get(fn, fn)]

            def wrapper(*args, **kwargs):
                if not kwargs:  # the eager hot path: eager tensors and plain variables,
                    # which never dispatch (user types, subclasses included, are searched)
                    if len(args) == 2:  # a binary op: its operator's fast path if it has one
                        x, y = args
                        if type(x) is EagerTensor and type(y) is EagerTensor:
                            return pair[0](x, y)
                        if type(x) in _PLAIN and type(y) in _PLAIN:
                            return pair[0](x, y)
                    else:
                        for a in args:
                            if type(a) not in _PLAIN:
                                break
                        else:
                            return fn(*args)
                h = _find_handler(table, args) or _find_handler(table, kwargs.values())
                if h is not None:
                    return h(*args, **kwargs)
                return fn(*args, **kwargs)

            wrapper.__name__ = getattr(fn, "__name__", "op")
            wrapper.__doc__ = fn.__doc__
            wrapper.__wrapped__ = fn
            wrapper._table = table
            wrapper._pair = pair
            _DISPATCHERS[fn] = wrapper
            for (ns, leaf), obj in list(EXPORTS.items()):
                if obj is fn:
                    EXPORTS[(ns, leaf)] = wrapper
                    # a namespace populated before this registration holds the bare op
                    mod = sys.modules.get(f"rill.{ns}" if ns else "rill")
                    if mod is not None and mod.__dict__.get(leaf) is fn:
                        setattr(mod, leaf, wrapper)
        wrapper._table.append((cls, handler))
        return handler

    return deco


# argument types that never dispatch: the wrappers' hot path passes them straight on
_PLAIN = frozenset({EagerTensor, Variable})


# op -> the Python operator method that computes it (math.add -> Tensor.__add__): called
# with two eager tensors it gives exactly the op's result, through the operators' fast
# path, so ``tf.add(a, b)`` costs what ``a + b`` does (set by rill.ops.operators)
_EAGER_PAIR: dict = {}


def set_eager_pair(fn, method) -> None:
    """Route ``fn(x, y)`` on two eager tensors through operator ``method``."""
    _EAGER_PAIR[fn] = method
    wrapper = _DISPATCHERS.get(fn)
    if wrapper is not None:
        wrapper._pair[0] = method


def dispatch_handlers(fn) -> list:
    """The ``(types, handler)`` registrations of the public op ``fn``, in order."""
    wrapper = _DISPATCHERS.get(fn)
    return [] if wrapper is None else list(wrapper._table)


def remove_dispatch(fn, handler) -> None:
    """Undo ``dispatch_for(fn, ...)(handler)``."""
    wrapper = _DISPATCHERS.get(fn)
    if wrapper is not None:
        wrapper._table[:] = [(c, h) for c, h in wrapper._table if h is not handler]


_DISPATCHERS: dict = {}


def _find_handler(table, values):
    """The handler for the first dispatching argument (looking one level into lists, for
    ops like concat and stack that take a list of tensors)."""
    for a in values:
        if isinstance(a, (list, tuple)):
            for b in a:
                if getattr(b, "_rill_dispatch", False):
                    return _handler_for(table, b)
        elif getattr(a, "_rill_dispatch", False):
            return _handler_for(table, a)
    return None


def _handler_for(table, value):
    for cls, h in table:
        if isinstance(value, cls):
            return h
    return None


def populate(namespace: dict, ns: str) -> None:
    """Fill a public module's globals with everything exported under ``ns``."""
    for (space, leaf), obj in EXPORTS.items():
        if space == ns:
            namespace[leaf] = obj


# --------------------------------------------------------------------------------------
# Shape rules
# --------------------------------------------------------------------------------------


def broadcast_shapes(op: str, a: TensorShape, b: TensorShape) -> TensorShape:
    """NumPy/TF broadcasting of two partial shapes, with a clear error."""
    if a.rank is None or b.rank is None:
        return TensorShape(None)
    da, db = a.as_list(), b.as_list()
    n = max(len(da), len(db))
    da = [1] * (n - len(da)) + da
    db = [1] * (n - len(db)) + db
    out = []
    for x, y in zip(da, db):
        if x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif x is None or y is None:
            out.append(x if y is None else y)
        elif x == y:
            out.append(x)
        else:
            raise op_error(
                InvalidArgumentError,
                op,
                f"Incompatible shapes: {list(a)} vs. {list(b)} (dimension {x} vs. {y} cannot "
                f"be broadcast; each pair of dimensions must be equal or one of them 1)",
            )
    return TensorShape(out)


def unary_rule(x: AVal, **_) -> AVal:
    return AVal(x.shape, x.dtype)


def same_rule(op_name: str):
    """Shape rule for elementwise binary ops whose output dtype is the input dtype."""

    def rule(x: AVal, y: AVal, **_):
        return AVal(broadcast_shapes(op_name, x.shape, y.shape), x.dtype)

    return rule


def broadcast_rule(op_name: str, out_dtype=None):
    """Shape rule for broadcasting n-ary ops; output dtype fixed or that of input 0."""

    def rule(*avals, **_):
        s = avals[0].shape
        for a in avals[1:]:
            s = broadcast_shapes(op_name, s, a.shape)
        return AVal(s, out_dtype or avals[0].dtype)

    return rule


def normalize_axis(op: str, axis, rank):
    """Axis (int, list or None) -> sorted tuple of non-negative axes, validated."""
    if axis is None:
        return tuple(range(rank)) if rank is not None else None
    axes = [int(a) for a in (axis if isinstance(axis, (list, tuple)) else [axis])]
    if rank is None:
        return tuple(axes)
    out = []
    for a in axes:
        if not -rank <= a < max(rank, 1):
            raise op_error(
                InvalidArgumentError,
                op,
                f"axis {a} is out of range for a tensor of rank {rank}; "
                f"valid axes are in [{-rank}, {rank})",
            )
        out.append(a % rank if rank else 0)
    return tuple(sorted(set(out)))


def reduce_rule(op_name: str, out_dtype=None):
    """Shape rule for reductions with ``axis`` (tuple or None) and ``keepdims`` params."""

    def rule(x: AVal, axis=None, keepdims=False, **_):
        dt = out_dtype or x.dtype
        if x.rank is None:
            return AVal(TensorShape(None), dt)
        axes = normalize_axis(op_name, axis, x.rank)
        dims = x.shape.as_list()
        if keepdims:
            out = [1 if i in axes else d for i, d in enumerate(dims)]
        else:
            out = [d for i, d in enumerate(dims) if i not in axes]
        return AVal(out, dt)

    return rule


# --------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------


def is_tensor_like(x) -> bool:
    return isinstance(x, Tensor) or getattr(x, "_rill_variable", False)


def _adopt_hint(value, dtype):
    """Convert a non-tensor operand to its peer's dtype if it can take it; otherwise keep
    its own (1.5 next to an int32 tensor stays float32) so the op reports the mismatch as
    InvalidArgumentError. This is what TF's arithmetic wrappers (``+``, ``tf.add``) do.
    Out-of-range ints still raise: TF would wrap them around silently."""
    try:
        return convert_to_tensor(value, dtype=dtype)
    except TypeError:
        return convert_to_tensor(value)


def _adopt_strict(value, dtype):
    return convert_to_tensor(value, dtype=dtype)


def binary_args(x, y, hint=False):
    """Convert two op arguments the way TF's eager ops do: the first tensor fixes the dtype.

    A Python value that cannot take that dtype raises TypeError, as TF's generated ops do;
    with ``hint=True`` (the arithmetic ops) it keeps its own dtype instead.
    """
    if type(x) is EagerTensor and type(y) is EagerTensor:
        return x, y
    adopt = _adopt_hint if hint else _adopt_strict
    if is_tensor_like(x):
        x = convert_to_tensor(x)
        if is_tensor_like(y):  # two tensors: a dtype mismatch is the op's error to report
            return x, convert_to_tensor(y)
        return x, adopt(y, x.dtype)
    if is_tensor_like(y):
        y = convert_to_tensor(y)
        return adopt(x, y.dtype), y
    x = convert_to_tensor(x)
    return x, adopt(y, x.dtype)


def static_value(x):
    """The concrete NumPy value of a tensor-like if known now (eager or constant), else None."""
    if type(x) is EagerTensor:
        return x._value
    if isinstance(x, Tensor):
        return getattr(x, "_const", None)
    if getattr(x, "_rill_variable", False):
        return None if _dispatch._slow and _dispatch.state.graph is not None else x._value
    return np.asarray(x)


_PHYS_BYTES: list = []


def _physical_memory() -> int:
    """This machine's physical memory in bytes (cached; 2**63 when the OS does not say)."""
    if not _PHYS_BYTES:
        try:
            _PHYS_BYTES.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            _PHYS_BYTES.append(2**63)
    return _PHYS_BYTES[0]


def check_alloc(op: str, dims, dtype) -> None:
    """Checks a result's size before it is made, as TF's allocator does: more than 2**63 - 1
    elements is InvalidArgumentError, more bytes than the machine has ResourceExhaustedError.
    Zero-stride views (broadcast_to) must pass through here, or a later op materialises or
    loops over a tensor that TF would never have created."""
    n = 1
    for d in dims:
        if int(d) < 0:
            raise op_error(InvalidArgumentError, op, f"Dimension {int(d)} must be >= 0")
        n *= int(d)
    if n > 2**63 - 1:
        raise op_error(
            InvalidArgumentError, op, f"Shape {list(dims)} would have more than 2**63 - 1 elements"
        )
    itemsize = getattr(getattr(dtype, "np", dtype), "itemsize", 8) or 8
    if n * itemsize > _physical_memory():
        raise op_error(
            ResourceExhaustedError,
            op,
            f"OOM when allocating tensor with shape{list(dims)} and type "
            f"{getattr(dtype, 'name', dtype)}: {n * itemsize} bytes, more than this machine's "
            f"{_physical_memory()}",
        )


def attr_int(what: str, value) -> int:
    """An int attribute taken as TF's op wrappers take one: a number truncates like
    ``int()``, anything else (a string, None) is TypeError naming the argument, never
    ``int()``'s own ValueError."""
    v = static_value(value) if is_tensor_like(value) else value
    if isinstance(v, (str, bytes, np.str_, np.bytes_)) or v is None:
        raise TypeError(f"Expected int for argument '{what}' not {value!r}.")
    try:
        return int(v)
    except (TypeError, ValueError):
        raise TypeError(f"Expected int for argument '{what}' not {value!r}.") from None


def static_int(op: str, what: str, value, error: type = InvalidArgumentError) -> int:
    """A scalar integer argument (Python int, NumPy or tensor integer) as an int; floats,
    bools and strings raise ``error`` naming the op, as TF's integer attrs do, instead of
    being truncated by ``int()``."""
    v = static_value(value) if is_tensor_like(value) else value
    if isinstance(v, (bool, np.bool_)) or not (
        isinstance(v, (int, np.integer)) or (isinstance(v, np.ndarray) and v.dtype.kind in "iu")
    ):
        raise op_error(error, op, f"`{what}` must be an int32 or int64 scalar, got {value!r}")
    if np.ndim(v) != 0:
        raise op_error(error, op, f"`{what}` must be a scalar, got shape {list(np.shape(v))}")
    return int(v)


# --------------------------------------------------------------------------------------
# Gradient helpers
# --------------------------------------------------------------------------------------


def _array_ops():
    """rill.ops.array_ops, which imports this module (so it is not imported at its top);
    looked up once, as the gradient helpers run per op."""
    global _ARRAY_OPS
    if _ARRAY_OPS is None:
        from rill.ops import array_ops

        _ARRAY_OPS = array_ops
    return _ARRAY_OPS


_ARRAY_OPS = None


def static_shape_tensor(dims) -> EagerTensor:
    """An int32 shape tensor of the known dims ``dims`` (ints), built directly: a gradient
    rule's target shape, without converting a Python list op by op."""
    return wrap(np.array(dims, np.int32), _d.int32)


def unbroadcast(dy, x):
    """Sum ``dy`` down to ``x``'s shape (undoing broadcasting in the forward op)."""
    if type(x) is EagerTensor and type(dy) is EagerTensor:
        xs = x._value.shape
        if xs == dy._value.shape:  # the common case, without TensorShapes
            return dy
        return _array_ops().sum_to_shape(dy, static_shape_tensor(xs))  # a bias's gradient
    array_ops = _array_ops()
    xs = x.shape
    if xs.is_fully_defined():
        if xs == dy.shape:
            return dy
        return array_ops.sum_to_shape(dy, xs.as_list())  # a constant: no Shape op to run
    return array_ops.sum_to_shape(dy, array_ops.shape(x))


_ = (_d,)
