"""``tf.py_function`` and ``tf.numpy_function``: Python code as an op, run at call time.

Each is a stateful primitive whose kernel calls the user's Python function, so inside a
traced ``rill.function`` the Python runs on every call (never folded, deduplicated or
pruned). ``py_function`` hands the function EagerTensors and is differentiable: its
gradient runs the function again under a GradientTape. ``numpy_function`` hands it NumPy
arrays and is not differentiable. The outputs' shapes are unknown to tracing.
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np

from rill.core import dispatch as _dispatch
from rill.core import dtypes as _d
from rill.core import errors as _errors
from rill.core.tape import GradientTape
from rill.core.tensor import wrap
from rill.ops._op import AVal, TensorShape, bind, convert_to_tensor, primitive, tf_export

__all__ = ["py_function", "numpy_function", "eager_py_func"]


@contextlib.contextmanager
def _isolated():
    """Run user Python as plain eager code: no graph being traced, no outer tape recording
    (a kernel runs at execution time, whatever the caller was doing)."""
    st = _dispatch.state
    saved = st.tapes, st.stop_recording, st.graph
    st.tapes, st.stop_recording, st.graph = [], 0, None
    try:
        yield
    finally:
        st.tapes, st.stop_recording, st.graph = saved


_ERROR_FOR = (
    (StopIteration, _errors.OutOfRangeError),
    (MemoryError, _errors.ResourceExhaustedError),
    (NotImplementedError, _errors.UnimplementedError),
    (ValueError, _errors.InvalidArgumentError),
    (TypeError, _errors.InvalidArgumentError),
)


def _raise_from_python(op, func, exc):
    """Re-raise an exception from the user's function as the rill error TF would give."""
    if isinstance(exc, _errors.OpError):
        raise exc
    cls = next((c for t, c in _ERROR_FOR if isinstance(exc, t)), _errors.UnknownError)
    name = getattr(func, "__name__", repr(func))
    raise _errors.op_error(cls, op, f"{type(exc).__name__} in {name}: {exc}") from exc


def _as_outputs(op, func, result, tout):
    """The function's result as a list with one entry per output dtype."""
    if not tout:
        return []
    if isinstance(result, (list, tuple)):
        result = list(result)
    else:
        result = [result]
    if len(result) != len(tout):
        name = getattr(func, "__name__", repr(func))
        raise _errors.op_error(
            _errors.InvalidArgumentError,
            op,
            f"{name} returns {len(result)} values, but expects to see {len(tout)} values "
            f"(Tout={[t.name for t in tout]})",
        )
    return result


def _to_array(op, i, value, dtype):
    try:
        t = convert_to_tensor(value, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise _errors.op_error(
            _errors.InvalidArgumentError,
            op,
            f"{i}-th value returned by the Python function cannot be converted to "
            f"{dtype.name} (Tout[{i}]): {e}",
        ) from None
    return t._value


def _out_rule(*_, func, Tout, **__):
    return tuple(AVal(TensorShape(None), t) for t in Tout)


# --------------------------------------------------------------------------------------
# py_function
# --------------------------------------------------------------------------------------


def _eager_py_func_kernel(*args, func, Tout):
    with _isolated():
        try:
            result = func(*[wrap(a) for a in args])
        except Exception as e:  # noqa: BLE001 - the user's error becomes an op error
            _raise_from_python("EagerPyFunc", func, e)
        outs = _as_outputs("EagerPyFunc", func, result, Tout)
        return tuple(_to_array("EagerPyFunc", i, v, t) for i, (v, t) in enumerate(zip(outs, Tout)))


def _eager_py_func_grad(inputs, outs, dys, func, Tout):
    wrt = tuple(i for i, x in enumerate(inputs) if x.dtype in _d.INEXACT)
    used = tuple(j for j, (d, t) in enumerate(zip(dys, Tout)) if d is not None and t in _d.INEXACT)
    if not wrt or not used:
        return (None,) * len(inputs)
    grads = bind(
        py_func_grad_p,
        tuple(inputs) + tuple(dys[j] for j in used),
        {"func": func, "Tout": Tout, "n_in": len(inputs), "grad_of": wrt, "used": used},
    )
    out = [None] * len(inputs)
    for i, g in zip(wrt, grads):
        out[i] = g
    return tuple(out)


def _py_func_grad_kernel(*args, func, Tout, n_in, grad_of, used):
    with _isolated():
        xs = [wrap(a) for a in args[:n_in]]
        try:
            with GradientTape() as tape:
                for i in grad_of:
                    tape.watch(xs[i])
                result = func(*xs)
                outs = _as_outputs("EagerPyFuncGrad", func, result, Tout)
                targets = [convert_to_tensor(outs[j], dtype=Tout[j]) for j in used]
        except _errors.OpError:
            raise
        except Exception as e:  # noqa: BLE001
            _raise_from_python("EagerPyFuncGrad", func, e)
        grads = tape.gradient(
            targets,
            [xs[i] for i in grad_of],
            output_gradients=[wrap(d) for d in args[n_in:]],
            unconnected_gradients="zero",
        )
        return tuple(g._value for g in grads)


def _py_func_grad_rule(*avals, func, Tout, n_in, grad_of, used):
    return tuple(AVal(avals[i].shape, avals[i].dtype) for i in grad_of)


# Every kernel here calls the user's Python function: host=True.
eager_py_func_p = primitive(
    "EagerPyFunc",
    _eager_py_func_kernel,
    _out_rule,
    _eager_py_func_grad,
    n_out=-1,
    stateful=True,
    host=True,
)
py_func_grad_p = primitive(
    "EagerPyFuncGrad",
    _py_func_grad_kernel,
    _py_func_grad_rule,
    n_out=-1,
    stateful=True,
    host=True,
)


def _check_args(op_name, func, inp, Tout, call):
    """TF's argument rules; returns a decorator when ``func`` is None."""
    if Tout is None:
        raise TypeError(
            f"Missing required argument: 'Tout'. If using tf.{op_name} as a decorator, set "
            f"`Tout` by name: `@tf.{op_name}(Tout=tout)`."
        )
    if func is None:
        if inp is not None:
            raise TypeError(
                f"Don't set the `inp` argument when using tf.{op_name} as a decorator (`func=None`)."
            )

        def decorator(fn):
            @functools.wraps(fn)
            def wrapper(*args):
                return call(fn, list(args))

            return wrapper

        return decorator
    if inp is None:
        raise TypeError(
            f"Missing argument `inp`: the list of arguments to the function, unless tf.{op_name} "
            f"is used as a decorator (`func=None`)."
        )
    if not callable(func):
        raise TypeError(f"tf.{op_name}: func must be callable, got {type(func).__name__}.")
    return None


def _touts(Tout):
    """(tuple of DTypes, whether the caller gets a list back)."""
    if isinstance(Tout, (list, tuple)):
        return tuple(_d.as_dtype(t) for t in Tout), True
    return (_d.as_dtype(Tout),), False


def _inputs(inp):
    out = []
    for x in inp:
        if getattr(x, "_rill_variable", False):
            x = x.read_value()
        out.append(convert_to_tensor(x))
    return tuple(out)


def _finish(outs, as_list):
    outs = list(outs) if isinstance(outs, tuple) else [outs]
    return outs if as_list else outs[0]


@tf_export("py_function")
def eager_py_func(func=None, inp=None, Tout=None, name=None):
    """Run ``func`` on EagerTensors as an op: ``tf.py_function(func, inp, Tout)``.

    Inside a traced function it runs on every call. ``Tout`` is a dtype (one output) or a
    list of dtypes (a list of outputs; ``[]`` for none). Differentiable once.
    """

    def call(fn, args):
        tout, as_list = _touts(Tout)
        outs = bind(eager_py_func_p, _inputs(args), {"func": fn, "Tout": tout})
        return _finish(outs, as_list)

    deco = _check_args("py_function", func, inp, Tout, call)
    if deco is not None:
        return deco
    return call(func, list(inp))


py_function = eager_py_func


# --------------------------------------------------------------------------------------
# numpy_function
# --------------------------------------------------------------------------------------


def _np_result(i, value, dtype):
    """NumPy results must already have the declared dtype (as in TF's graphs); plain
    Python values are converted to it."""
    if isinstance(value, (np.ndarray, np.generic)):
        a = np.asarray(value)
        if a.dtype.kind in "USO":
            return _to_array("PyFunc", i, a, dtype)
        if a.dtype != dtype.np:
            raise _errors.op_error(
                _errors.InvalidArgumentError,
                "PyFunc",
                f"{i}-th value returned by the Python function is {a.dtype}, but expects "
                f"{dtype.name} (Tout[{i}]); cast it with .astype(np.{dtype.np.name})",
            )
        return a
    return _to_array("PyFunc", i, value, dtype)


def _py_func_kernel(*args, func, Tout):
    with _isolated():
        try:
            result = func(*[np.array(a) for a in args])  # copies: func may write into them
        except Exception as e:  # noqa: BLE001
            _raise_from_python("PyFunc", func, e)
        outs = _as_outputs("PyFunc", func, result, Tout)
        return tuple(_np_result(i, v, t) for i, (v, t) in enumerate(zip(outs, Tout)))


py_func_p = primitive("PyFunc", _py_func_kernel, _out_rule, n_out=-1, stateful=True, host=True)
py_func_stateless_p = primitive("PyFuncStateless", _py_func_kernel, _out_rule, n_out=-1, host=True)


@tf_export("numpy_function")
def numpy_function(func=None, inp=None, Tout=None, stateful=True, name=None):
    """Run ``func`` on NumPy arrays as an op: ``tf.numpy_function(func, inp, Tout)``.

    Inside a traced function it runs on every call (with ``stateful=False`` identical calls
    may be merged or folded). Not differentiable.
    """

    def call(fn, args):
        tout, as_list = _touts(Tout)
        prim = py_func_p if stateful else py_func_stateless_p
        outs = bind(prim, _inputs(args), {"func": fn, "Tout": tout})
        return _finish(outs, as_list)

    deco = _check_args("numpy_function", func, inp, Tout, call)
    if deco is not None:
        return deco
    return call(func, list(inp))
