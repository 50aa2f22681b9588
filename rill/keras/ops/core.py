"""Keras 3's ``keras.src.ops.core`` functions (exported flat in ``keras.ops``): control
flow, scatter/slice updates, casting and conversion, and shape/dtype helpers.

The loops build on ``rill.while_loop`` / ``rill.cond`` / ``rill.switch_case``, so they run
eagerly and become graph control flow inside ``rill.function``.
"""

from __future__ import annotations

import builtins

import numpy as np

import rill as tf
from rill.core import dispatch as _dispatch
from rill.core.tensor import Tensor
from rill.core.variables import Variable
from rill.keras.ops._base import (
    KerasTensor,
    any_symbolic,
    keras_op,
    record,
    shape_list,
    standardize_dtype,
    tensor,
)
from rill.keras.ops._base import (
    cast as _cast,
)
from rill.tracing.abstract import trace_abstract

__all__ = [
    "associative_scan", "cast", "cond", "convert_to_numpy", "convert_to_tensor",
    "custom_gradient", "dtype", "fori_loop", "is_tensor", "map", "saturate_cast", "scan",
    "scatter", "scatter_update", "shape", "slice", "slice_update", "stop_gradient", "switch",
    "unstack", "vectorized_map", "while_loop",
]  # fmt: skip


def _op(cls):
    return keras_op(cls, module="core")


# ==================================================================== casting, tensors
@_op("Cast")
def cast(x, dtype):
    """``x`` converted to ``dtype``."""
    dtype = standardize_dtype(dtype)
    if isinstance(x, tf.SparseTensor):
        return tf.sparse.map_values(lambda v: tf.cast(v, dtype), x)
    return tf.cast(tensor(x), dtype)


def _limits(dtype):
    if dtype == "bool":
        return 0, 1
    np_dtype = tf.as_dtype(dtype).np
    if "int" in dtype:
        info = np.iinfo(np_dtype)
    else:
        info = np.finfo(np_dtype) if dtype != "bfloat16" else None
    if info is None:
        return -3.3895313892515355e38, 3.3895313892515355e38
    return info.min, info.max


@_op("SaturateCast")
def saturate_cast(x, dtype):
    """``x`` clipped to ``dtype``'s range, then cast (no wrap-around)."""
    dtype = standardize_dtype(dtype)
    x = tensor(x)
    src = x.dtype.name
    in_lo, in_hi = _limits(src)
    out_lo, out_hi = _limits(dtype)
    np_src = x.dtype.np
    lo = np.asarray(builtins.max(in_lo, out_lo)).astype(np_src)
    if lo < out_lo:
        lo = np.nextafter(lo, np.asarray(0, np_src))
    hi = np.asarray(builtins.min(in_hi, out_hi)).astype(np_src)
    if hi > out_hi:
        hi = np.nextafter(hi, np.asarray(0, np_src))
    if src == "bool":
        return tf.cast(x, dtype)
    x = tf.clip_by_value(x, tf.constant(lo, x.dtype), tf.constant(hi, x.dtype))
    return tf.cast(x, dtype)


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """``x`` as a tensor (Keras' rules: Python ints int32, floats float32; ``dtype``
    casts). ``sparse=False`` densifies a SparseTensor, ``ragged=False`` a RaggedTensor."""
    if isinstance(x, KerasTensor):
        if dtype is None or standardize_dtype(dtype) == x.dtype:
            return x
        return record("ConvertToTensor", lambda v: tensor(v, dtype), (x,), {}, "core")
    if isinstance(x, tf.SparseTensor):
        if sparse is not None and not sparse:
            x = tf.sparse.to_dense(x)
        elif dtype is not None:
            return tf.sparse.map_values(lambda v: tf.cast(v, standardize_dtype(dtype)), x)
        else:
            return x
    if isinstance(x, tf.RaggedTensor):
        if ragged is not None and not ragged:
            x = x.to_tensor()
        else:
            return x if dtype is None else tf.ragged.map_flat_values(
                lambda v: tf.cast(v, standardize_dtype(dtype)), x)  # fmt: skip
    return tensor(x, dtype)


def convert_to_numpy(x):
    """``x`` as a NumPy array (sparse and ragged tensors densified)."""
    if isinstance(x, KerasTensor):
        return np.array(x)  # raises: a KerasTensor has no value
    if isinstance(x, tf.SparseTensor):
        x = tf.sparse.to_dense(x)
    elif isinstance(x, tf.RaggedTensor):
        x = x.to_tensor()
    elif isinstance(x, tf.IndexedSlices):
        x = tf.convert_to_tensor(x)
    if isinstance(x, (Tensor, Variable)):
        return np.array(x.numpy())
    return np.array(x)


def is_tensor(x) -> bool:
    """Whether ``x`` is a backend (rill) tensor."""
    return tf.is_tensor(x)


def shape(x) -> tuple:
    """``x``'s shape as a tuple: ints where known, scalar tensors where dynamic (inside
    ``rill.function``); a KerasTensor's shape with None for unknown dimensions."""
    if isinstance(x, KerasTensor):
        return x.shape
    if not isinstance(x, (Tensor, Variable, tf.SparseTensor, tf.RaggedTensor)):
        x = tensor(x)
    if x.shape.rank is None:
        raise ValueError(
            "All tensors passed to `ops.shape` must have a statically known rank. Received: "
            f"x={x} with unknown rank."
        )
    if isinstance(x, (tf.SparseTensor, tf.RaggedTensor)):
        return tuple(x.shape.as_list())
    return tuple(shape_list(x))


def dtype(x) -> str:
    """``x``'s dtype name."""
    return standardize_dtype(x.dtype)


@_op("StopGradient")
def stop_gradient(variable):
    """``variable`` with no gradient flowing through it."""
    return tf.stop_gradient(tensor(variable))


@_op("Unstack")
def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis``, as a list."""
    return tf.unstack(tensor(x), num=num, axis=axis)


# ================================================================= slices and scatters
@_op("Scatter")
def scatter(indices, values, shape):
    """A zero tensor of ``shape`` with ``values`` added at ``indices`` (index tuples along
    the last axis of ``indices``)."""
    return tf.scatter_nd(tensor(indices), tensor(values), shape)


@_op("ScatterUpdate")
def scatter_update(inputs, indices, updates, reduction=None):
    """``inputs`` with ``updates`` written (or combined with ``reduction``: ``"add"``,
    ``"max"``, ``"min"``, ``"mul"``) at ``indices``."""
    if reduction is not None:
        reduction = reduction.lower()
        if reduction not in ("add", "max", "min", "mul"):
            raise ValueError(
                f"Invalid reduction: {reduction}. Supported values are: None, 'add', 'max', "
                "'min', 'mul'."
            )
    x, idx, upd = tensor(inputs), tensor(indices), tensor(updates)
    if reduction is None:
        return tf.tensor_scatter_nd_update(x, idx, upd)
    if reduction == "add":
        return tf.tensor_scatter_nd_add(x, idx, upd)
    if reduction == "max":
        return tf.tensor_scatter_nd_max(x, idx, upd)
    if reduction == "min":
        return tf.tensor_scatter_nd_min(x, idx, upd)
    # products: one update at a time (duplicate indices multiply in turn)
    n = tf.shape(idx)[0]

    def body(i, out):
        at = idx[i : i + 1]
        return i + 1, tf.tensor_scatter_nd_update(out, at, tf.gather_nd(out, at) * upd[i])

    return tf.while_loop(lambda i, _: i < n, body, (tf.constant(0), x))[1]


@_op("Slice")
def slice(inputs, start_indices, shape):  # noqa: A001 - Keras' name
    """The block of ``inputs`` of ``shape`` starting at ``start_indices``."""
    return tf.slice(tensor(inputs), start_indices, shape)


@_op("SliceUpdate")
def slice_update(inputs, start_indices, updates):
    """``inputs`` with the block at ``start_indices`` replaced by ``updates``."""
    x, upd = tensor(inputs), tensor(updates)
    upd = _cast(upd, x.dtype.name)
    rank = x.shape.rank
    start = tf.cast(tf.reshape(tensor(start_indices), [rank]), "int32")
    sizes = tf.shape(upd)
    x_shape = tf.shape(x)
    # pad the update to x's shape (the place it goes), and a mask of that place
    after = x_shape - start - sizes
    paddings = tf.stack([start, after], axis=1)
    placed = tf.pad(upd, paddings)
    mask = tf.pad(tf.ones(sizes, "int32"), paddings) > 0
    return tf.where(mask, placed, x)


# ========================================================================= control flow
def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()`` (a graph conditional when traced)."""
    return tf.cond(pred, true_fn, false_fn)


def switch(index, branches, *operands):
    """``branches[index](*operands)``, the index clipped to the valid range."""
    if any_symbolic((index, *operands), {}):
        return record("Switch", lambda i, *ops: switch(i, branches, *ops), (index, *operands), {},
                      "core")  # fmt: skip
    idx = tf.clip_by_value(tensor(index, "int32"), 0, len(branches) - 1)
    fns = [(lambda b=b: b(*operands)) for b in branches]
    return tf.switch_case(idx, fns)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Run ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``; a single
    (non-tuple) ``loop_vars`` is passed and returned as itself."""
    is_tuple = isinstance(loop_vars, (tuple, list))
    state = tuple(loop_vars) if is_tuple else (loop_vars,)

    def step(*args):
        out = body(*args)
        return tuple(out) if is_tuple else (out,)

    out = tf.while_loop(cond, step, state, maximum_iterations=maximum_iterations)
    out = tuple(out) if isinstance(out, (list, tuple)) else (out,)
    return (type(loop_vars)(out) if isinstance(loop_vars, list) else out) if is_tuple else out[0]


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``."""
    return tf.while_loop(lambda i, val: i < upper, lambda i, val: (i + 1, body_fun(i, val)),
                         (lower, init_val))[1]  # fmt: skip


def _pack_like(structure, flat):
    return tf.nest.pack_sequence_as(structure, flat) if tf.nest.is_nested(structure) else flat[0]


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """JAX-style scan: ``carry, y = f(carry, x)`` over the leading axis of ``xs`` (or
    ``length`` times with ``x=None``); returns the final carry and the stacked ``y``."""
    if not callable(f):
        raise TypeError(f"`f` should be a callable. Received: f={f}")
    if not isinstance(unroll, bool) and (not isinstance(unroll, int) or unroll < 1):
        raise ValueError(
            f"`unroll` must be an positive integer or boolean. Received: unroll={unroll}"
        )
    if xs is None and length is None:
        raise ValueError("Got no `xs` to scan over and `length` not provided.")
    if any_symbolic((init, xs), {}):
        return record("Scan", lambda i, x: scan(f, i, x, length, reverse, unroll), (init, xs), {},
                      "core")  # fmt: skip
    xs_flat = [] if xs is None else [tensor(v) for v in tf.nest.flatten(xs)]
    n = int(length) if length is not None else shape_list(xs_flat[0])[0]
    carry_flat = [tensor(v) for v in tf.nest.flatten(init)]

    def x_at(i):
        return None if xs is None else _pack_like(xs, [v[i] for v in xs_flat])

    def body(i, carry, tas):
        c, y = f(_pack_like(init, list(carry)), x_at(i))
        y_flat = [] if y is None else [tensor(v) for v in tf.nest.flatten(y)]
        tas = tuple(ta.write(i, v) for ta, v in zip(tas, y_flat))
        nxt = i - 1 if reverse else i + 1
        return nxt, tuple(tensor(v) for v in tf.nest.flatten(c)), tas

    # the ys' specs come from tracing f once (no kernels run), so f runs n times, not n + 1
    y_struct, y_specs = _probe(f, init, xs, carry_flat, xs_flat)
    ys_tas = tuple(tf.TensorArray(d, size=n, element_shape=s) for s, d in y_specs)
    start = n - 1 if reverse else 0
    _, carry, tas = tf.while_loop(
        (lambda i, *_: i >= 0) if reverse else (lambda i, *_: i < n),
        body,
        (tf.constant(start), tuple(carry_flat), ys_tas),
    )
    ys = [ta.stack() for ta in tas]
    return _pack_like(init, list(carry)), (None if y_struct is None else _pack_like(y_struct, ys))


def _abstract(fn, args, name):
    """``fn(*args)`` traced abstractly, each TensorSpec leaf of ``args`` a placeholder (shape
    rules only, no kernel runs; tensors of a graph being traced around it are captured)."""
    _, out = trace_abstract(fn, args, name=name, outer=_dispatch.state.graph)
    return out


def _spec(v):
    return tf.TensorSpec(v.shape, v.dtype)


def _probe(f, init, xs, carry_flat, xs_flat):
    """The structure and (shape, dtype) specs of ``f``'s per-step output."""
    carry = _pack_like(init, [_spec(v) for v in carry_flat])
    x = None if xs is None else _pack_like(xs, [tf.TensorSpec(v.shape[1:], v.dtype)
                                                for v in xs_flat])  # fmt: skip
    y = _abstract(lambda c, v: f(c, v)[1], (carry, x), "keras_scan_step")
    if y is None:
        return None, []
    flat = [v if isinstance(v, Tensor) else tensor(v) for v in tf.nest.flatten(y)]
    return y, [(v.shape, v.dtype) for v in flat]


def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive prefix combination of ``elems`` along ``axis`` with the associative
    ``f`` (a Hillis-Steele scan: log2(n) rounds of ``f`` on shifted slices)."""
    if not callable(f):
        raise TypeError(f"`f` should be a callable. Received: f={f}")
    if any_symbolic((elems,), {}):
        return record("AssociativeScan", lambda e: associative_scan(f, e, reverse, axis),
                      (elems,), {}, "core")  # fmt: skip
    flat = [tensor(v) for v in tf.nest.flatten(elems)]
    n = flat[0].shape.as_list()[axis]
    if builtins.any(v.shape.as_list()[axis] != n for v in flat[1:]):
        raise ValueError(
            "Array inputs to associative_scan must have the same first dimension. (saw: "
            f"{[v.shape for v in flat]})"
        )
    if n is None:
        raise ValueError("associative_scan needs the length of the scanned axis to be known.")
    if reverse:
        flat = [tf.reverse(v, [axis]) for v in flat]

    def take(v, start, stop):
        return tf.gather(v, tf.range(start, stop), axis=axis)

    d = 1
    while d < n:
        left = tf.nest.pack_sequence_as(elems, [take(v, 0, n - d) for v in flat])
        right = tf.nest.pack_sequence_as(elems, [take(v, d, n) for v in flat])
        combined = [tensor(v) for v in tf.nest.flatten(f(left, right))]
        flat = [tf.concat([take(v, 0, d), c], axis=axis) for v, c in zip(flat, combined)]
        d *= 2
    if reverse:
        flat = [tf.reverse(v, [axis]) for v in flat]
    return tf.nest.pack_sequence_as(elems, flat)


def map(f, xs):  # noqa: A001 - Keras' name
    """``f`` applied to each slice of ``xs`` along the leading axis, results stacked."""
    if any_symbolic((xs,), {}):
        return record("Map", lambda v: map(f, v), (xs,), {}, "core")
    xs = tf.nest.map_structure(tensor, xs)
    first = tf.nest.map_structure(lambda v: v[0], xs)
    spec = tf.nest.map_structure(lambda v: tf.TensorSpec(v.shape, v.dtype), _spec_of(f, first))
    return tf.map_fn(f, xs, fn_output_signature=spec)


def _spec_of(f, sample):
    """``f``'s output on ``sample`` as traced abstractly (shapes and dtypes only)."""
    specs = tf.nest.map_structure(_spec, sample)
    return tf.nest.map_structure(tensor, _abstract(f, (specs,), "keras_map_step"))


def vectorized_map(function, elements):
    """``function`` over the leading axis of ``elements`` (rill runs it as ``map``)."""
    if any_symbolic((elements,), {}):
        return record("VectorizedMap", lambda v: vectorized_map(function, v), (elements,), {},
                      "core")  # fmt: skip
    return map(function, elements)


def _vectorize(pyfunc, excluded=None, signature=None):
    """NumPy's ``vectorize`` over rill tensors: ``pyfunc`` mapped over the leading axes
    beyond each argument's core dimensions (from ``signature``, none by default)."""
    import functools

    excluded = set(excluded or ())
    core_in = _parse_signature(signature)

    @functools.wraps(pyfunc)
    def wrapped(*args, **kwargs):
        args = list(args)
        dynamic = [i for i in range(len(args)) if i not in excluded]
        tens = {i: tensor(args[i]) for i in dynamic}
        cores = core_in if core_in is not None else [0] * len(dynamic)
        batch_ranks = [tens[i].shape.rank - c for i, c in zip(dynamic, cores)]
        nb = builtins.max(batch_ranks) if batch_ranks else 0
        if nb == 0:
            return pyfunc(*args, **kwargs)
        # broadcast the batch dims
        batch = None
        for i, c in zip(dynamic, cores):
            shp = tf.shape(tens[i])[: tens[i].shape.rank - c]
            shp = tf.concat([tf.ones([nb - (tens[i].shape.rank - c)], "int32"), shp], 0)
            batch = (
                shp if batch is None else tf.shape(tf.zeros(batch, "int8") + tf.zeros(shp, "int8"))
            )
        flat = []
        for i, c in zip(dynamic, cores):
            t = tens[i]
            r = t.shape.rank
            core_shape = tf.shape(t)[r - c :]
            t = tf.reshape(t, tf.concat([tf.ones([nb - (r - c)], "int32"), tf.shape(t)], 0))
            t = tf.broadcast_to(t, tf.concat([batch, core_shape], 0))
            flat.append(tf.reshape(t, tf.concat([[-1], core_shape], 0)))

        def call(slices):
            a = list(args)
            for i, s in zip(dynamic, slices):
                a[i] = s
            return pyfunc(*a, **kwargs)

        out = map(call, tuple(flat))
        return tf.nest.map_structure(
            lambda o: tf.reshape(o, tf.concat([batch, tf.shape(o)[1:]], 0)), out
        )

    return wrapped


def _parse_signature(signature):
    """The number of core dimensions of each input of a gufunc signature (None: none)."""
    if signature is None:
        return None
    import re

    ins = signature.replace(" ", "").split("->")[0]
    return [0 if not g else len(g.split(",")) for g in re.findall(r"\(([^()]*)\)", ins)]


def custom_gradient(f):
    """Decorate ``f(*args)`` returning ``(output, grad_fn)`` so that gradients use
    ``grad_fn(*upstream)``."""
    return tf.custom_gradient(f)
