"""What every ``keras.ops`` function shares: Keras' conversion of arguments to tensors,
dtype helpers, and the ``keras_op`` decorator that turns a call on KerasTensors into a
node of the functional graph.

An op is written once, over rill's public ops, for real tensors; the same function runs
eagerly, inside ``rill.function`` (where the ops are traced), and on KerasTensors (where
``keras_op`` records an operation whose outputs come from the ops' shape rules).
"""

from __future__ import annotations

import functools

import numpy as np

import rill as tf
from rill.core.tensor import Tensor
from rill.core.variables import Variable
from rill.keras import config
from rill.keras.keras_tensor import KerasTensor
from rill.keras.naming import snake_case, unique_name
from rill.keras.ops._dtypes import result_type, standardize_dtype

__all__ = [
    "OPERATIONS", "KerasTensor", "any_symbolic", "broadcast_shape", "cast", "complex_from",
    "dtype_arg", "float_dtype", "get_operation", "keras_op", "promote", "record", "result_type",
    "shape_list", "standardize_dtype", "tensor",
]  # fmt: skip

_PY_SCALARS = (bool, int, float, complex)


# ------------------------------------------------------------------------- conversion
def tensor(x, dtype=None):
    """``keras.ops.convert_to_tensor`` on the TensorFlow backend: Python ints become int32
    (int64 if too large), floats float32, NumPy arrays keep their dtype; a ``dtype`` casts
    (ints and bools are converted first and then cast, as Keras does)."""
    if dtype is not None:
        dtype = standardize_dtype(dtype)
    if isinstance(x, Tensor):
        return x if dtype is None or x.dtype.name == dtype else tf.cast(x, dtype)
    if isinstance(x, Variable):
        x = x.value()
        return x if dtype is None or x.dtype.name == dtype else tf.cast(x, dtype)
    if isinstance(x, KerasTensor):
        raise ValueError(
            "A KerasTensor is symbolic: it cannot be converted to a tensor. Use it as input "
            f"to a Keras layer or a keras.ops function. Received: {x}"
        )
    if dtype is None:
        if isinstance(x, (list, tuple)) and x:
            return _from_sequence(x)
        return tf.convert_to_tensor(x)
    if isinstance(x, np.ndarray) or dtype == "bool" or "int" in dtype:
        return tf.cast(tf.convert_to_tensor(x), dtype)
    return tf.convert_to_tensor(x, dtype=dtype)


def _from_sequence(x):
    leaves = tf.nest.flatten(x)
    if any(isinstance(v, (Tensor, Variable)) for v in leaves):
        dtype = result_type(*(dtype_arg(v) for v in leaves))
        return tf.convert_to_tensor(tf.nest.map_structure(lambda v: tensor(v, dtype), x))
    if all(isinstance(v, _PY_SCALARS) for v in leaves):
        return tf.convert_to_tensor(x)
    dtype = result_type(*(dtype_arg(v) for v in leaves))
    return tf.convert_to_tensor(np.asarray(x, dtype=tf.as_dtype(dtype).np))


def cast(x, dtype):
    """``x`` (a tensor) as ``dtype``; itself when it already is."""
    dtype = standardize_dtype(dtype)
    return x if x.dtype.name == dtype else tf.cast(x, dtype)


# ------------------------------------------------------------------------------ dtypes
def dtype_arg(x):
    """What Keras feeds ``result_type`` for an argument: a tensor's or array's dtype, a
    Python scalar's type (weak for int and float), a list's converted dtype."""
    if isinstance(x, KerasTensor):
        return x.dtype
    if isinstance(x, (Tensor, Variable)):
        return x.dtype.name
    if isinstance(x, (np.ndarray, np.generic)):
        return x.dtype.name
    if isinstance(x, _PY_SCALARS):
        return type(x)
    return tensor(x).dtype.name


def promote(*xs, extra=(), weak=True):
    """Convert ``xs`` to tensors of their Keras result dtype, with ``extra`` dtypes (e.g.
    ``float``) joining the promotion. With ``weak``, Python scalars take the other
    operands' type (``add``, ``multiply``...); without, they are converted first (int32,
    float32), as most of Keras' ops do."""
    if not weak:
        xs = [tensor(x) for x in xs]
    dtype = result_type(*(dtype_arg(x) for x in xs), *extra)
    return [tensor(x, dtype) for x in xs]


def float_dtype(dtype: str) -> str:
    """The float dtype Keras computes a transcendental op of ``dtype`` in: ``floatx()``
    for int64, otherwise the promotion of ``dtype`` with a weak float."""
    return config.floatx() if dtype == "int64" else result_type(dtype, float)


def complex_from(real, imag):
    """The complex tensor ``real + 1j * imag`` (complex128 for float64 parts)."""
    dtype = "complex128" if real.dtype.name == "float64" else "complex64"
    return tf.cast(real, dtype) + tf.cast(imag, dtype) * tf.constant(1j, dtype)


def broadcast_shape(*shapes):
    """The broadcast of ``shapes`` (lists of ints, or 1-D int tensors): a list when all
    are static, else an int32 tensor."""
    lists = [s for s in shapes if isinstance(s, (list, tuple))]
    if len(lists) == len(shapes) and all(isinstance(d, int) for s in lists for d in s):
        return list(np.broadcast_shapes(*[tuple(s) for s in lists]))
    acc = None
    for s in shapes:
        if isinstance(s, (list, tuple)):
            s = tf.stack([tf.cast(d, "int32") for d in s]) if s else tf.zeros([0], "int32")
        z = tf.zeros(s, "int8")
        acc = z if acc is None else acc + z
    return tf.shape(acc)


def shape_list(x) -> list:
    """Each dimension of ``x`` as a Python int where known, else a scalar tensor."""
    dims = x.shape.as_list()
    if None not in dims:
        return dims
    dyn = tf.shape(x)
    return [d if d is not None else dyn[i] for i, d in enumerate(dims)]


# ------------------------------------------------------------------- symbolic calls
def any_symbolic(args, kwargs) -> bool:
    """Whether a KerasTensor is among the arguments (looking into lists, tuples, dicts)."""
    for x in args:
        if isinstance(x, KerasTensor) or (
            isinstance(x, (list, tuple, dict)) and _nested_symbolic(x)
        ):
            return True
    for x in kwargs.values():
        if isinstance(x, KerasTensor) or (
            isinstance(x, (list, tuple, dict)) and _nested_symbolic(x)
        ):
            return True
    return False


def _nested_symbolic(x) -> bool:
    return any(isinstance(v, KerasTensor) for v in tf.nest.flatten(x))


def record(class_name: str, fn, args, kwargs, module: str = "numpy"):
    """Apply ``fn`` to KerasTensors: a node of the functional graph, named like Keras'
    operation (``"sin"``, ``"sin_1"``...), whose outputs' shapes and dtypes come from
    tracing ``fn`` abstractly (shape rules only). A model replays the node by calling
    ``fn`` on the real values."""
    from rill.keras.functional import Operator

    op = Operator(class_name, fn, name=unique_name(snake_case(class_name)))
    op.keras_class = class_name
    op.keras_module = f"keras.src.ops.{module}"
    return op(*args, **kwargs)


# Keras' operation class name -> (the function computing it, its keras.src.ops module), for
# rebuilding operation nodes from a model config
OPERATIONS: dict[str, tuple] = {}


def get_operation(class_name: str):
    """``(function, module)`` of Keras' operation ``class_name`` (``"Sum"``, ``"Conv"``...);
    the function computes on tensors and takes Keras' config entries as keywords."""
    return OPERATIONS[class_name]


def keras_op(class_name: str, module: str = "numpy"):
    """Decorator: the function is Keras' operation ``class_name``; called with a
    KerasTensor among its arguments it records a node instead of computing."""

    def deco(fn):
        OPERATIONS.setdefault(class_name, (fn, f"keras.src.ops.{module}"))

        @functools.wraps(fn)
        def op(*args, **kwargs):
            if any_symbolic(args, kwargs):
                return record(class_name, fn, args, kwargs, module)
            return fn(*args, **kwargs)

        op.keras_class = class_name
        return op

    return deco
