"""Control flow: ``cond``, ``case``, ``switch_case``, ``while_loop`` (and, built on them,
``map_fn``, ``scan``, ``foldl``, ``foldr``).

Eagerly they run as Python; while tracing a ``rill.function`` they become single graph
nodes holding subgraphs, built by the graph being traced (``TracingGraph.cond``,
``while_loop``, ``scan``; rill.tracing.control_flow implements them).
"""

from __future__ import annotations

from rill.core import dispatch as _dispatch
from rill.core import nest
from rill.ops._op import convert_to_tensor, tf_export
from rill.ops.array_ops import cast, stack
from rill.ops.debugging_ops import assert_less_equal
from rill.ops.math_ops import equal
from rill.ops.reduction_ops import add_n
from rill.ops.shape_ops import concat


def _tracing_graph(tensors):
    """The graph being traced, which builds graph-mode control flow over ``tensors``."""
    g = _dispatch.state.graph
    if g is None:  # a symbolic tensor outlived its trace: reading it says where it came from
        next(t for t in tensors if _dispatch.is_symbolic(t))._value  # noqa: B018
        raise TypeError("control flow on a symbolic tensor outside of a traced function")
    return g


def _pred_value(pred):
    p = convert_to_tensor(pred)
    if p.dtype.name != "bool" or p.shape.rank not in (0, None):
        raise TypeError(
            f"cond: pred must be a scalar bool tensor, got {p.dtype.name} of shape {p.shape}."
        )
    return p


@tf_export("cond")
def cond(pred, true_fn=None, false_fn=None, name=None):
    """Run ``true_fn()`` if ``pred`` else ``false_fn()``; in a graph, both become subgraphs."""
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError("cond: true_fn and false_fn must be callable.")
    if isinstance(pred, bool):
        return true_fn() if pred else false_fn()
    p = _pred_value(pred)
    if _dispatch.is_symbolic(p):
        return _tracing_graph([p]).cond(p, true_fn, false_fn)
    return true_fn() if bool(p) else false_fn()


@tf_export("while_loop")
def while_loop(
    cond,
    body,
    loop_vars,
    shape_invariants=None,
    parallel_iterations=10,
    back_prop=True,
    swap_memory=False,
    maximum_iterations=None,
    name=None,
):
    """Repeat ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``; returns loop_vars."""
    if not callable(cond) or not callable(body):
        raise TypeError("while_loop: cond and body must be callable.")
    single = not isinstance(loop_vars, (list, tuple))
    lv = [loop_vars] if single else list(loop_vars)
    if not lv:
        raise ValueError("while_loop: no loop variables provided.")
    flat = nest.flatten(lv)
    if any(_dispatch.is_symbolic(t) for t in flat) or _dispatch.state.graph is not None:
        out = _tracing_graph(flat).while_loop(cond, body, lv, shape_invariants, maximum_iterations)
        return out[0] if single else out
    n = 0
    while maximum_iterations is None or n < int(maximum_iterations):
        c = cond(*lv)
        if not bool(c):
            break
        new = body(*lv)
        if single or not isinstance(new, (list, tuple)):
            new = [new]
        nest.assert_same_structure(lv, list(new), check_types=False)
        lv = list(new)
        n += 1
    return lv[0] if single else type(loop_vars)(lv) if isinstance(loop_vars, tuple) else lv


@tf_export("case")
def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """Run the fn of the first pair whose pred is true (else ``default``)."""
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else list(pred_fn_pairs)
    for p in pairs:
        if not (isinstance(p, tuple) and len(p) == 2 and callable(p[1])):
            raise TypeError(f"case: each pred_fn_pair must be a (pred, callable) tuple, got {p!r}.")
    if not pairs:
        if default is None:
            raise ValueError("case: pred_fn_pairs is empty and no default is given.")
        return default()
    if exclusive:
        _check_exclusive([p for p, _ in pairs])
    if default is None:
        pairs, default = pairs[:-1], pairs[-1][1]  # TF: the last fn is the fallback
    fn = default
    for pred, f in reversed(pairs):
        fn = (lambda p, t, e: lambda: cond(p, t, e))(pred, f, fn)
    return fn()


@tf_export("switch_case")
def switch_case(branch_index, branch_fns, default=None, name="switch_case"):
    """Run ``branch_fns[branch_index]``; an out-of-range index runs ``default`` (or the last
    branch when there is no default)."""
    items = (
        sorted(branch_fns.items()) if isinstance(branch_fns, dict) else list(enumerate(branch_fns))
    )
    if not items:
        raise ValueError("switch_case: branch_fns must not be empty.")
    for k, f in items:
        if not callable(f):
            raise TypeError(f"switch_case: branch {k} is not callable.")
    idx = convert_to_tensor(branch_index)
    if not idx.dtype.is_integer or idx.shape.rank not in (0, None):
        raise TypeError(
            f"switch_case: branch_index must be a scalar int32 tensor, got {idx.dtype.name} {idx.shape}."
        )
    fallback = default if default is not None else items[-1][1]
    if not _dispatch.is_symbolic(idx):
        i = int(idx)
        for k, f in items:
            if k == i:
                return f()
        return fallback()
    fn = fallback
    for k, f in reversed(items):
        fn = (lambda k, t, e: lambda: cond(equal(idx, k), t, e))(k, f, fn)  # noqa: B023
    return fn()


def _check_exclusive(preds):
    """case(exclusive=True): at most one predicate may be true."""
    count = add_n([cast(convert_to_tensor(p), "int32") for p in preds])
    assert_less_equal(
        count, 1, message="case: more than one condition evaluated as True with exclusive=True"
    )


def _leading_dim(flat_elems, op):
    n = None
    for e in flat_elems:
        if e.shape.rank == 0:
            raise ValueError(
                f"{op}: elements must have a first dimension to iterate over, got a scalar."
            )
        d = e.shape[0]
        if n is not None and d is not None and d != n:
            raise ValueError(
                f"{op}: all elems must have the same first dimension, got {n} and {d}."
            )
        n = d if n is None else n
    return n


def _scan_core(step, init, elems, reverse, op):
    """(final carry, stacked ys) of ``step(carry, elem) -> (carry, y)`` over elems."""
    flat = [convert_to_tensor(e) for e in nest.flatten(elems)]
    if not flat:
        raise ValueError(f"{op}: elems must not be empty.")
    n = _leading_dim(flat, op)
    graph_mode = _dispatch.state.graph is not None or any(_dispatch.is_symbolic(t) for t in flat)
    if graph_mode:
        return _tracing_graph(flat).scan(step, init, nest.pack_sequence_as(elems, flat), reverse)
    carry, ys = init, []
    order = range(n - 1, -1, -1) if reverse else range(n)
    for i in order:
        carry, y = step(carry, nest.pack_sequence_as(elems, [t[i] for t in flat]))
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys:
        raise ValueError(f"{op}: cannot iterate over elements with a first dimension of 0 eagerly.")
    stacked = nest.map_structure(lambda *xs: stack(list(xs)), *ys)
    return carry, stacked


@tf_export("map_fn")
def map_fn(
    fn,
    elems,
    dtype=None,
    parallel_iterations=None,
    back_prop=True,
    swap_memory=False,
    infer_shape=True,
    name=None,
    fn_output_signature=None,
):
    """Apply ``fn`` to each element along the first dimension of ``elems``; stack results."""
    _, ys = _scan_core(lambda c, x: (c, fn(x)), (), elems, False, "map_fn")
    return ys


@tf_export("scan")
def scan(
    fn,
    elems,
    initializer=None,
    parallel_iterations=10,
    back_prop=True,
    swap_memory=False,
    infer_shape=True,
    reverse=False,
    name=None,
):
    """Accumulate ``a = fn(a, x)`` over elems; returns every accumulator, stacked."""
    if initializer is not None:
        _, ys = _scan_core(lambda a, x: (fn(a, x),) * 2, initializer, elems, reverse, "scan")
        return ys
    flat = [convert_to_tensor(e) for e in nest.flatten(elems)]
    first = nest.pack_sequence_as(elems, [t[-1] if reverse else t[0] for t in flat])
    rest = nest.pack_sequence_as(elems, [t[:-1] if reverse else t[1:] for t in flat])
    _, ys = _scan_core(lambda a, x: (fn(a, x),) * 2, first, rest, reverse, "scan")

    def join(f, y):
        f1 = stack([f])
        return concat([y, f1], 0) if reverse else concat([f1, y], 0)

    return nest.map_structure(join, first, ys)


def _fold(fn, elems, initializer, reverse, op):
    flat = [convert_to_tensor(e) for e in nest.flatten(elems)]
    if initializer is None:
        initializer = nest.pack_sequence_as(elems, [t[-1] if reverse else t[0] for t in flat])
        elems = nest.pack_sequence_as(elems, [t[:-1] if reverse else t[1:] for t in flat])
    carry, _ = _scan_core(lambda a, x: (fn(a, x), ()), initializer, elems, reverse, op)
    return carry


@tf_export("foldl")
def foldl(
    fn,
    elems,
    initializer=None,
    parallel_iterations=10,
    back_prop=True,
    swap_memory=False,
    name=None,
):
    """Reduce ``a = fn(a, x)`` over elems from the first element to the last."""
    return _fold(fn, elems, initializer, False, "foldl")


@tf_export("foldr")
def foldr(
    fn,
    elems,
    initializer=None,
    parallel_iterations=10,
    back_prop=True,
    swap_memory=False,
    name=None,
):
    """Reduce ``a = fn(a, x)`` over elems from the last element to the first."""
    return _fold(fn, elems, initializer, True, "foldr")
