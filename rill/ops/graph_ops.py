"""Ops about a program's structure more than its values: ``tf.identity_n``, ``tf.tuple``,
``tf.group``, ``tf.no_op``, ``tf.control_dependencies``, ``tf.scalar_mul``,
``tf.parallel_stack``, ``tf.timestamp``, ``tf.approx_top_k``, ``tf.vectorized_map``,
``tf.grad_pass_through`` and the predicates ``tf.inside_function``,
``tf.is_symbolic_tensor``, ``tf.get_current_name_scope``."""

from __future__ import annotations

import builtins
import collections
import contextlib
import time

import numpy as np

from rill.core import dispatch as _dispatch
from rill.core import dtypes as _d
from rill.core import nest
from rill.core.context import name_scope
from rill.core.tape import custom_gradient
from rill.ops._op import (
    AVal,
    EagerTensor,
    Tensor,
    bind,
    convert_to_tensor,
    primitive,
    tf_export,
)
from rill.ops.array_ops import identity, stack
from rill.ops.control_flow import map_fn
from rill.ops.reduction_ops import top_k
from rill.ops.shape_ops import transpose


@tf_export("identity_n")
def identity_n(input, name=None):  # noqa: A002
    """A list of identities of the tensors in ``input`` (each a new tensor on the tape)."""
    return [identity(t) for t in input]


@tf_export("tuple")
def tuple(tensors, control_inputs=None, name=None):  # noqa: A001 - TF's public name
    """The tensors, each available only once all of them (and ``control_inputs``) are:
    rill runs a function's ops in program order, so this is their identities."""
    if control_inputs is not None and not isinstance(control_inputs, (list, builtins.tuple)):
        raise TypeError("tf.tuple: control_inputs must be a list or tuple")
    return [None if t is None else identity(t) for t in tensors]


@tf_export("group")
def group(*inputs, **kwargs):
    """Wait for ``inputs`` (no value). ``None``, as TF's eager and traced results are
    used: rill runs a function's stateful ops in program order, so nothing is lost."""
    unknown = set(kwargs) - {"name"}
    if unknown:
        raise TypeError(f"tf.group: unknown keyword arguments {sorted(unknown)}")
    return None


@tf_export("no_op")
def no_op(name=None):
    """Does nothing (``None``)."""
    return None


@tf_export("control_dependencies")
@contextlib.contextmanager
def control_dependencies(control_inputs):
    """Ops created inside run after ``control_inputs``. rill executes a function's ops in
    program order, so the context only validates its argument (a list of tensors,
    operations, ``None`` or a callable, as TF accepts)."""
    if callable(control_inputs):
        control_inputs()
    elif control_inputs is not None and not isinstance(control_inputs, (list, builtins.tuple)):
        raise TypeError(
            f"tf.control_dependencies: control_inputs must be a list of tensors or "
            f"operations, got {type(control_inputs).__name__}"
        )
    yield None


@tf_export("scalar_mul", "math.scalar_mul")
def scalar_mul(scalar, x, name=None):
    """``scalar * x`` for a scalar ``scalar`` (an IndexedSlices stays one)."""
    s = convert_to_tensor(scalar)
    if s.shape.rank != 0:
        raise ValueError(f"scalar_mul: the scalar must be 0-D, got shape {s.shape}")
    values = getattr(x, "values", None)
    if values is not None and hasattr(x, "indices") and hasattr(x, "dense_shape"):
        return type(x)(s * values, x.indices, x.dense_shape)
    x = convert_to_tensor(x)
    return convert_to_tensor(scalar, dtype=x.dtype) * x


@tf_export("parallel_stack")
def parallel_stack(values, name="parallel_stack"):
    """``tf.stack(values)``; TF allows it only in graphs (inside a ``rill.function``)."""
    if _dispatch.state.graph is None:
        raise RuntimeError("tf.parallel_stack() is not compatible with eager execution.")
    return stack(values)


timestamp_p = primitive(
    "Timestamp",
    lambda: np.array(time.time(), np.float64),
    lambda: AVal([], _d.float64),
    stateful=True,  # a new time on every run, never folded into a constant
    host=True,
)


@tf_export("timestamp")
def timestamp(name=None):
    """Seconds since the epoch (float64), taken when the op runs."""
    return bind(timestamp_p, ())


ApproxTopK = collections.namedtuple("ApproxTopK", ["values", "indices"])


@tf_export("approx_top_k")
def approx_top_k(
    input,  # noqa: A002
    k,
    reduction_dimension=-1,
    recall_target=0.95,
    is_max_k=True,
    reduction_input_size_override=-1,
    aggregate_to_topk=True,
    name=None,
):
    """The ``k`` largest (``is_max_k``) or smallest values along ``reduction_dimension``
    and their indices. rill computes them exactly (recall 1, above any target)."""
    x = convert_to_tensor(input)
    r = x.shape.rank
    if r is None:
        raise ValueError("approx_top_k: the input's rank must be known")
    ax = reduction_dimension % r
    perm = [i for i in range(r) if i != ax] + [ax]
    inv = list(np.argsort(perm))
    xt = transpose(x, perm) if ax != r - 1 else x
    values, indices = top_k(xt if is_max_k else -xt, k=int(k))
    if not is_max_k:
        values = -values
    if ax != r - 1:
        values, indices = transpose(values, inv), transpose(indices, inv)
    return ApproxTopK(values, indices)


@tf_export("vectorized_map")
def vectorized_map(fn, elems, fallback_to_while_loop=True, warn=True):
    """``fn`` applied to each slice of ``elems`` along its first dimension, results
    stacked; elementwise bodies run on the whole batch at once in rill's map."""
    return map_fn(fn, elems)


@tf_export("grad_pass_through")
def grad_pass_through(f):
    """Wrap ``f`` so its result's gradient passes straight to its inputs (as if ``f`` were
    the identity), e.g. through a variable assignment or a non-differentiable op."""

    @custom_gradient
    def pass_through(*args, **kwargs):
        def grad(*dys, variables=None):
            flat = nest.flatten(dys)
            out = flat[0] if len(args) == 1 else builtins.tuple(flat[: len(args)])
            return (out, [None] * len(variables)) if variables else out

        return f(*args, **kwargs), grad

    return pass_through


@tf_export("inside_function")
def inside_function() -> bool:
    """Whether the caller is being traced into a ``rill.function``'s graph."""
    return _dispatch.state.graph is not None


@tf_export("is_symbolic_tensor")
def is_symbolic_tensor(tensor) -> bool:
    """True for a tensor of a graph being traced (no value yet), not an eager tensor."""
    return isinstance(tensor, Tensor) and not isinstance(tensor, EagerTensor)


@tf_export("get_current_name_scope")
def get_current_name_scope() -> str:
    """The ``/``-joined names of the ``tf.name_scope``s entered, ``""`` outside any."""
    return "/".join(name_scope._stack)
