"""Graph-mode ``cond`` and ``while_loop``: single ops that hold traced subgraphs.

An ``If`` op runs one of two compiled branch graphs; a ``While`` op runs compiled cond and
body graphs until the condition fails. Tensors of the enclosing graph used by a branch or
body are captured as extra op inputs, so gradients reach them. A ``While`` recorded by a
tape keeps each iteration's loop variables; its gradient (``WhileGrad``) runs the body's
vector-Jacobian product backwards over that history, so data-dependent iteration counts
differentiate correctly.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

from rill.core import dispatch as _dispatch
from rill.core import dtypes as _d
from rill.core import nest
from rill.core.dispatch import AVal, bind, primitive
from rill.core.errors import InvalidArgumentError, op_error
from rill.core.interfaces import grad_zeros_like
from rill.core.tensor import Tensor, TensorSpec
from rill.core.tensor_shape import TensorShape
from rill.ops import control_flow as _cf
from rill.tracing.abstract import trace_abstract
from rill.tracing.executor import compile_graph
from rill.tracing.graph import FuncGraph, assign_variable_p, read_variable_p, replay

__all__ = ["SubGraph"]


class SubGraph:
    """A traced branch/body: its graph, the op inputs that feed its placeholders, and its
    compiled plan. Hashed by identity (it is an op parameter)."""

    def __init__(self, graph: FuncGraph, outputs, arg_idx):
        self.graph = graph
        self.outputs = list(outputs)
        self.arg_idx = list(arg_idx)  # for each graph input: its index among the op's inputs
        self._plan = None

    def run(self, args) -> tuple:
        plan = self._plan
        if plan is None:
            plan = self._plan = compile_graph(self.graph, self.outputs)
        return plan(*[args[i] for i in self.arg_idx])

    def replay(self, args, effects=True) -> list:
        return replay(self.graph, [args[i] for i in self.arg_idx], self.outputs, effects)

    def __repr__(self):
        return f"<SubGraph {self.graph.name}: {len(self.graph.ops)} ops>"


def _to_tensor(x):
    from rill.core.convert import convert_to_tensor

    if getattr(x, "_rill_variable", False):
        return x.read_value()
    return convert_to_tensor(x)


def _trace(fn, name, specs=()):
    """Trace ``fn`` into a subgraph of the current graph; returns (graph, flat outputs,
    structure). ``specs``: (shape, dtype) of the arguments ``fn`` takes."""

    def traced(*phs):
        result = fn(*phs)
        g = _dispatch.state.graph  # the subgraph: outputs become its tensors inside the trace
        flat = [
            None if x is None else g.capture(_to_tensor(x))
            for x in nest.flatten(result, expand_composites=True)
        ]
        return result, flat

    args = [TensorSpec(s, d, name="loop_var") for s, d in specs]
    g, (result, flat) = trace_abstract(traced, args, name=name, outer=_dispatch.state.graph)
    _demote_assigned_reads(g)
    return g, flat, result


def _assigned_vars(g: FuncGraph) -> set:
    """ids of the variables ``g`` assigns, including inside its own control-flow ops."""
    out = set()
    for op in g.ops:
        if op.prim is assign_variable_p:
            out.add(id(op.params["var"]))
        for p in op.params.values():
            if isinstance(p, SubGraph):
                out |= _assigned_vars(p.graph)
    return out


def _demote_assigned_reads(g: FuncGraph, assigned=None):
    """Variables are read in the enclosing graph (so gradients reach them) unless they are
    assigned inside the control-flow op (``assigned``; by default what ``g`` assigns):
    then the read must happen inside, in program order, on every run."""
    assigned = _assigned_vars(g) if assigned is None else assigned
    if not assigned:
        return
    kept = []
    for var, ph in g.lifted_reads:
        if id(var) not in assigned:
            kept.append((var, ph))
            continue
        ph._op.prim = read_variable_p  # read inside, at this read's place in the program
        ph._op.params = {"var": var}
        g.inputs.remove(ph)
        for key, (_, p) in list(g.captures.items()):
            if p is ph:
                del g.captures[key]
    g.lifted_reads = kept


def _captures(graphs, first: int):
    """Union of the outer tensors captured by ``graphs`` (in order), and for each graph the
    index of each of its inputs among ``first`` leading inputs + the union."""
    union, where = [], {}
    for g in graphs:
        for outer, _ in g.captures.values():
            if id(outer) not in where:
                where[id(outer)] = first + len(union)
                union.append(outer)
    idxs = []
    for g in graphs:
        ph_to_outer = {id(ph): outer for outer, ph in g.captures.values()}
        own = [i for i in range(first)]
        idx = []
        k = 0
        for ph in g.inputs:
            outer = ph_to_outer.get(id(ph))
            if outer is None:
                idx.append(own[k])
                k += 1
            else:
                idx.append(where[id(outer)])
        idxs.append(idx)
    return union, idxs


def _merge_shape(a: TensorShape, b: TensorShape) -> TensorShape:
    return a.most_specific_compatible_shape(b)


def _replay_vjp(sub: SubGraph, args, sources, dys) -> list:
    """Gradients w.r.t. ``sources`` of ``sub``'s outputs weighted by ``dys``, by replaying
    ``sub`` on ``args`` under a tape (eagerly, or into the graph being traced), without its
    variable assignments: the forward pass made them already."""
    from rill.core.tape import GradientTape, UnconnectedGradients

    with GradientTape() as tape:
        for x in sources:
            if x.dtype in _d.DIFFERENTIABLE:
                tape.watch(x)
        res = sub.replay(args, effects=False)
    pairs = [(r, d) for r, d in zip(res, dys) if r.dtype in _d.DIFFERENTIABLE]
    grads = tape.gradient(
        [r for r, _ in pairs],
        list(sources),
        output_gradients=[d for _, d in pairs],
        unconnected_gradients=UnconnectedGradients.ZERO,
    )
    # Reads of one variable stand for the variable on tapes (one id), so the tape gives
    # each of them the variable's whole gradient; the op's caller sums its inputs'
    # gradients into the variable, so only the first read may carry it.
    seen, out = set(), []
    for s, g in zip(sources, grads):
        tid = getattr(s, "_tid", None)
        if tid is not None and tid in seen and g is not None:
            g = grad_zeros_like(g)
        seen.add(tid)
        out.append(g)
    return out


def _vjp_graph(sub: SubGraph, x_avals, dy_avals) -> SubGraph:
    """A standalone compiled graph: (inputs of ``sub``, d outputs) -> d inputs."""
    n = len(x_avals)

    def vjp(*phs):
        xs, ds = list(phs[:n]), list(phs[n:])
        from rill.core.tape import _densify  # a gather's IndexedSlices: the loop sums

        g = _dispatch.state.graph
        return [g.capture(_densify(x)) for x in _replay_vjp(sub, xs, xs, ds)]

    specs = [TensorSpec(a.shape, a.dtype, name="x") for a in x_avals]
    specs += [TensorSpec(a.shape, a.dtype, name="dy") for a in dy_avals]
    g, outs = trace_abstract(vjp, specs, name=sub.graph.name + "_vjp")
    g.outputs = outs
    return SubGraph(g, outs, list(range(len(specs))))


# --------------------------------------------------------------------------------------
# cond
# --------------------------------------------------------------------------------------


def _if_kernel(pred, *args, then_branch, else_branch, out_avals):
    return (then_branch if pred else else_branch).run((pred,) + args)


def _if_rule(pred, *args, then_branch, else_branch, out_avals):
    return tuple(out_avals)


def _if_grad(inputs, outs, dys, then_branch, else_branch, out_avals):
    if not inputs[1:]:
        return (None,)
    dys = [d if d is not None else grad_zeros_like(o) for d, o in zip(dys, outs)]

    def make(branch):
        return lambda: _replay_vjp(branch, inputs, inputs[1:], dys)

    grads = _cf.cond(inputs[0], make(then_branch), make(else_branch))
    return (None, *grads)


# Control-flow kernels run compiled subgraphs (whose kernels are bound to the backend) and
# do no array math of their own: declared host, called as they are.
def _if_lowering(ctx, pred, *args, then_branch, else_branch, out_avals):
    return ctx.cond(then_branch, else_branch, (pred, *args), [a.dtype.np for a in out_avals])


if_p = primitive(
    "If", _if_kernel, _if_rule, _if_grad, n_out=-1, stateful=True, host=True, lowering=_if_lowering
)


def graph_cond(pred, true_fn, false_fn):
    gt, ot, rt = _trace(lambda: true_fn(), "cond_true")
    gf, of, rf = _trace(lambda: false_fn(), "cond_false")
    try:
        nest.assert_same_structure(rt, rf, check_types=False)
        if len(ot) != len(of):
            raise ValueError("different numbers of tensors")
    except (ValueError, TypeError) as e:
        raise ValueError(
            f"cond: true_fn and false_fn must return the same structure of values, got "
            f"{rt!r} and {rf!r} ({e})"
        ) from None
    avals = []
    for i, (a, b) in enumerate(zip(ot, of)):
        if (a is None) != (b is None):
            raise ValueError(f"cond: output {i} is None in one branch only.")
        if a is None:
            continue
        if a.dtype is not b.dtype:
            raise TypeError(
                f"cond: output {i} has dtype {a.dtype.name} in true_fn but {b.dtype.name} in "
                f"false_fn; both branches must return the same dtypes."
            )
        avals.append(AVal(_merge_shape(a.shape, b.shape), a.dtype))
    union, (it, if_) = _captures([gt, gf], 1)
    outs_t = [t for t in ot if t is not None]
    outs_f = [t for t in of if t is not None]
    params = {
        "then_branch": SubGraph(gt, outs_t, it),
        "else_branch": SubGraph(gf, outs_f, if_),
        "out_avals": tuple(avals),
    }
    out = bind(if_p, (pred, *union), params)
    out = list(out) if isinstance(out, tuple) else [out]
    it_out = iter(out)
    flat = [None if t is None else next(it_out) for t in ot]
    return nest.pack_sequence_as(rt, flat, expand_composites=True)


# --------------------------------------------------------------------------------------
# while_loop
# --------------------------------------------------------------------------------------


def _while_kernel(*args, cond_graph, body_graph, n, out_avals, keep_history, max_iterations=None):
    # ``max_iterations`` is a static hint for XLA (a bound of the trip count): the
    # condition alone decides here
    vars_ = list(args[:n])
    caps = args[n:]
    history = []
    while bool(cond_graph.run(tuple(vars_) + caps)[0]):
        if keep_history:
            history.append(tuple(vars_))
        vars_ = [np.asarray(v) for v in body_graph.run(tuple(vars_) + caps)]
    if keep_history:
        h = np.empty((), dtype=object)
        h[()] = history
        return (*vars_, h)
    return tuple(vars_)


def _while_rule(*args, cond_graph, body_graph, n, out_avals, keep_history, max_iterations=None):
    if keep_history:
        return (*out_avals, AVal([], _d.variant))
    return tuple(out_avals)


def _while_grad(
    inputs, outs, dys, cond_graph, body_graph, n, out_avals, keep_history, max_iterations=None
):
    if not keep_history:
        raise op_error(
            InvalidArgumentError,
            "While",
            "this loop ran without a recording tape, so its iterations were not kept; "
            "compute the loop inside the GradientTape block",
        )
    caps = inputs[n:]
    dvars = [d if d is not None else grad_zeros_like(o) for d, o in zip(dys[:n], outs[:n])]
    vjp = _body_vjp(body_graph, n, inputs)
    avals = tuple(AVal(t.shape, t.dtype) for t in inputs)
    res = bind(while_grad_p, (outs[n], *dvars, *caps), {"vjp": vjp, "n": n, "avals": avals})
    return tuple(res)


def _body_vjp(body: SubGraph, n: int, inputs) -> SubGraph:
    """(loop vars, captures, d next vars) -> (d vars, d captures)."""
    avals = [AVal(t.shape, t.dtype) for t in inputs]
    return _vjp_graph(body, avals, avals[:n])


def _while_grad_kernel(history, *args, vjp, n, avals):
    dvars = list(args[:n])
    caps = args[n:]
    dcaps = [np.zeros(np.shape(c), dtype=np.asarray(c).dtype) for c in caps]
    for vars_i in reversed(history[()]):
        r = vjp.run(tuple(vars_i) + tuple(caps) + tuple(dvars))
        dvars = [np.asarray(v) for v in r[:n]]
        dcaps = [a + np.asarray(b) for a, b in zip(dcaps, r[n:])]
    return (*dvars, *dcaps)


def _while_grad_lowering(ctx, history, *args, vjp, n, avals):
    return ctx.while_grad(history, args, vjp, n, avals)


while_grad_p = primitive(
    "WhileGrad",
    _while_grad_kernel,
    lambda history, *args, vjp, n, avals: tuple(avals),
    n_out=-1,
    host=True,
    lowering=_while_grad_lowering,
)


def _while_lowering(
    ctx, *args, cond_graph, body_graph, n, out_avals, keep_history, max_iterations=None
):
    dtypes = [a.dtype.np for a in out_avals]
    return ctx.while_loop(cond_graph, body_graph, n, args, dtypes, keep_history, max_iterations)


while_p = primitive(
    "While",
    _while_kernel,
    _while_rule,
    _while_grad,
    n_out=-1,
    stateful=True,
    keeps_history=True,
    host=True,
    lowering=_while_lowering,
)


class _Bound(threading.local):
    """The static trip-count bound that the next ``graph_while_loop`` of this thread takes
    (set by AutoGraph around a loop over a tensor of static length: ``iteration_bound``)."""

    value = None


_bound_state = _Bound()


@contextlib.contextmanager
def iteration_bound(bound):
    """Context manager: the While that ``graph_while_loop`` builds next (not the loops in
    its body) gets ``max_iterations=bound`` (an int, or None for unknown)."""
    saved, _bound_state.value = _bound_state.value, bound
    try:
        yield
    finally:
        _bound_state.value = saved


def _take_bound():
    b, _bound_state.value = _bound_state.value, None
    return b


def _host_int(x):
    """``x`` as a Python int when the host knows it now (an int, a constant), else None."""
    if isinstance(x, bool) or getattr(x, "_rill_variable", False):
        return None
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, Tensor):
        from rill.ops._op import static_value

        v = static_value(x)
        if v is not None and x.dtype.is_integer and np.size(v) == 1:
            return int(np.asarray(v).reshape(()))
    return None


def _min_bound(a, b):
    if a is None:
        return b
    return a if b is None else min(a, b)


def graph_while_loop(cond, body, loop_vars, shape_invariants, maximum_iterations, _bound=None):
    bound = _min_bound(_take_bound(), _bound)
    structure = list(loop_vars)
    if maximum_iterations is not None:
        bound = _min_bound(bound, _host_int(maximum_iterations))
        if bound is not None:
            bound = max(bound, 0)
        from rill.ops.math_ops import add, less, logical_and

        mx = _to_tensor(maximum_iterations)
        user_cond, user_body = cond, body

        def cond(*args):
            return logical_and(less(args[-1], mx), user_cond(*args[:-1]))

        def body(*args):
            out = user_body(*args[:-1])
            out = list(out) if isinstance(out, (list, tuple)) else [out]
            return [*out, add(args[-1], 1)]

        from rill.core.convert import convert_to_tensor

        structure = structure + [convert_to_tensor(0)]
        out = graph_while_loop(
            cond, body, structure, _extend(shape_invariants, structure), None, bound
        )
        return list(out[:-1])

    flat = [_to_tensor(v) for v in nest.flatten(structure, expand_composites=True)]
    if shape_invariants is not None:
        shapes = _invariant_shapes(shape_invariants, structure, flat)
    else:
        shapes = [t.shape for t in flat]
    specs = [(s, t.dtype) for s, t in zip(shapes, flat)]
    names = _loop_var_names(structure)

    def as_args(phs):
        return nest.pack_sequence_as(structure, phs, expand_composites=True)

    gc, oc, _ = _trace(lambda *phs: cond(*as_args(phs)), "while_cond", specs)
    if (
        len(oc) != 1
        or oc[0] is None
        or oc[0].dtype is not _d.bool
        or oc[0].shape.rank not in (0, None)
    ):
        raise TypeError(f"while_loop: cond must return a scalar bool tensor, got {oc}.")

    def body_fn(*phs):
        out = body(*as_args(phs))
        if len(structure) == 1 and not isinstance(out, (list, tuple)):
            out = [out]
        try:
            nest.assert_same_structure(structure, list(out), check_types=False)
        except (ValueError, TypeError):
            raise ValueError(
                f"while_loop: body must return the same structure as loop_vars "
                f"({structure!r}), got {out!r}."
            ) from None
        return list(out)

    gb, ob, _ = _trace(body_fn, "while_body", specs)
    # a variable the body assigns must be re-read by the condition on every iteration
    _demote_assigned_reads(gc, _assigned_vars(gb))
    for name, t, o, (s, dt) in zip(names, flat, ob, specs):
        if o.dtype is not dt:
            raise TypeError(
                f"while_loop: loop variable {name} has dtype {dt.name} before the loop but "
                f"{o.dtype.name} after one iteration; a loop variable must keep its dtype."
            )
        if not s.is_compatible_with(o.shape):
            raise ValueError(
                f"while_loop: loop variable {name} enters the loop with shape {t.shape}, but "
                f"has shape {o.shape} after one iteration. To allow the shape to vary across "
                f"iterations, use the `shape_invariants` argument of tf.while_loop (e.g. "
                f"tf.TensorShape([None])) to specify a less-specific shape."
            )
    n = len(flat)
    union, (ic, ib) = _captures([gc, gb], n)
    keep = _dispatch.recording()
    params = {
        "cond_graph": SubGraph(gc, oc, ic),
        "body_graph": SubGraph(gb, ob, ib),
        "n": n,
        "out_avals": tuple(AVal(s, dt) for s, dt in specs),
        "keep_history": keep,
        "max_iterations": None if bound is None else int(bound),
    }
    out = bind(while_p, (*flat, *union), params)
    out = list(out)[:n]
    return nest.pack_sequence_as(structure, out, expand_composites=True)


def _extend(shape_invariants, structure):
    if shape_invariants is None:
        return None
    return list(shape_invariants) + [TensorShape([])]


def _invariant_shapes(shape_invariants, structure, flat):
    inv = shape_invariants
    if len(structure) == 1 and not isinstance(inv, (list, tuple)):
        inv = [inv]
    leaves = nest.flatten(list(inv)) if not isinstance(inv, TensorShape) else [inv]
    # TensorShapes are leaves; lists inside shape_invariants mirror loop_vars
    out = []
    for s in leaves:
        out.append(s if isinstance(s, TensorShape) else TensorShape(s))
    if len(out) != len(flat):
        raise ValueError(
            f"while_loop: shape_invariants must match the structure of loop_vars: got "
            f"{len(out)} shapes for {len(flat)} loop variables."
        )
    return out


def _loop_var_names(structure):
    return [f"#{i}" for i in range(len(nest.flatten(structure)))]


_ = Tensor


# --------------------------------------------------------------------------------------
# scan (map_fn, foldl and foldr are scans)
# --------------------------------------------------------------------------------------


def _scan_kernel(*args, body_graph, nc, ne, ny, out_avals, reverse, keep_history):
    carry = list(args[:nc])
    elems = args[nc : nc + ne]
    caps = args[nc + ne :]
    n = len(elems[0]) if ne else 0
    order = range(n - 1, -1, -1) if reverse else range(n)
    ys = [[None] * n for _ in range(ny)]
    history = []
    for i in order:
        if keep_history:
            history.append(tuple(carry))
        r = body_graph.run(tuple(carry) + tuple(e[i] for e in elems) + tuple(caps))
        carry = [np.asarray(v) for v in r[:nc]]
        for k in range(ny):
            ys[k][i] = np.asarray(r[nc + k])
    stacked = []
    for k, a in enumerate(out_avals[nc:]):
        if n:
            stacked.append(np.stack(ys[k]))
        else:
            dims = [0] + [d or 0 for d in a.shape.as_list()[1:]]
            stacked.append(np.zeros(dims, a.dtype.np))
    outs = (*carry, *stacked)
    if keep_history:
        h = np.empty((), dtype=object)
        h[()] = history
        return (*outs, h)
    return outs


def _scan_rule(*args, body_graph, nc, ne, ny, out_avals, reverse, keep_history):
    return (*out_avals, AVal([], _d.variant)) if keep_history else tuple(out_avals)


def _scan_grad(inputs, outs, dys, body_graph, nc, ne, ny, out_avals, reverse, keep_history):
    if not keep_history:
        raise op_error(
            InvalidArgumentError,
            "Scan",
            "this scan ran without a recording tape, so its steps were not kept; compute it "
            "inside the GradientTape block",
        )
    n_out = nc + ny
    dys = [d if d is not None else grad_zeros_like(o) for d, o in zip(dys[:n_out], outs[:n_out])]
    # the body's inputs: carry, one element slice of each elems, captures
    slice_avals = [AVal(t.shape[1:], t.dtype) for t in inputs[nc : nc + ne]]
    step_avals = [AVal(t.shape, t.dtype) for t in inputs[:nc]] + slice_avals
    step_avals += [AVal(t.shape, t.dtype) for t in inputs[nc + ne :]]
    dy_avals = [AVal(o.shape, o.dtype) for o in outs[:nc]] + [
        AVal(o.shape[1:], o.dtype) for o in outs[nc:n_out]
    ]
    vjp = _vjp_graph(body_graph, step_avals, dy_avals)
    avals = tuple(AVal(t.shape, t.dtype) for t in inputs)
    params = {"vjp": vjp, "nc": nc, "ne": ne, "ny": ny, "reverse": reverse, "avals": avals}
    res = bind(scan_grad_p, (outs[n_out], *inputs[nc:], *dys), params)
    return tuple(res)


def _scan_grad_kernel(history, *args, vjp, nc, ne, ny, reverse, avals):
    elems = args[:ne]
    rest = args[ne:]
    n_caps = len(avals) - nc - ne
    caps = rest[:n_caps]
    dys = rest[n_caps:]
    dcarry = [np.asarray(d) for d in dys[:nc]]
    dstacked = dys[nc:]
    n = len(elems[0]) if ne else 0
    order = list(range(n - 1, -1, -1) if reverse else range(n))
    delems = [np.zeros(np.shape(e), np.asarray(e).dtype) for e in elems]
    dcaps = [np.zeros(np.shape(c), np.asarray(c).dtype) for c in caps]
    hist = history[()]
    for step in range(len(order) - 1, -1, -1):
        i = order[step]
        carry_i = hist[step]
        args_i = tuple(carry_i) + tuple(e[i] for e in elems) + tuple(caps)
        r = vjp.run(args_i + tuple(dcarry) + tuple(d[i] for d in dstacked))
        dcarry = [np.asarray(v) for v in r[:nc]]
        for k in range(ne):
            delems[k][i] = r[nc + k]
        dcaps = [a + np.asarray(b) for a, b in zip(dcaps, r[nc + ne :])]
    return (*dcarry, *delems, *dcaps)


def _scan_lowering(ctx, *args, body_graph, nc, ne, ny, out_avals, reverse, keep_history):
    dtypes = [a.dtype.np for a in out_avals]
    return ctx.scan(body_graph, nc, ne, args, dtypes, reverse, keep_history)


def _scan_grad_lowering(ctx, history, *args, vjp, nc, ne, ny, reverse, avals):
    return ctx.scan_grad(history, args, vjp, nc, ne, reverse, avals)


scan_grad_p = primitive(
    "ScanGrad",
    _scan_grad_kernel,
    lambda history, *args, vjp, nc, ne, ny, reverse, avals: tuple(avals),
    n_out=-1,
    host=True,
    lowering=_scan_grad_lowering,
)
scan_p = primitive(
    "Scan",
    _scan_kernel,
    _scan_rule,
    _scan_grad,
    n_out=-1,
    stateful=True,
    keeps_history=True,
    host=True,
    lowering=_scan_lowering,
)


def graph_scan(step, init, elems, reverse):
    """Run ``step(carry, elem) -> (carry, y)`` over the first dimension of ``elems``
    (nested structures), as one Scan op. Returns (final carry, stacked ys)."""
    flat_init = [_to_tensor(v) for v in nest.flatten(init, expand_composites=True)]
    flat_elems = [_to_tensor(v) for v in nest.flatten(elems)]
    for e in flat_elems:
        if e.shape.rank == 0:
            raise ValueError(
                f"scan/map_fn: elements must have a first dimension to iterate over, got a scalar {e}."
            )
    nc, ne = len(flat_init), len(flat_elems)
    specs = [(t.shape, t.dtype) for t in flat_init] + [(t.shape[1:], t.dtype) for t in flat_elems]
    y_struct = []

    def step_fn(*phs):
        carry = nest.pack_sequence_as(init, list(phs[:nc]), expand_composites=True) if nc else None
        elem = nest.pack_sequence_as(elems, list(phs[nc:]))
        new_carry, y = step(carry, elem)
        flat_c = nest.flatten(new_carry, expand_composites=True) if nc else []
        if len(flat_c) != nc:
            raise ValueError(
                "scan: fn must return a value with the same structure as the initializer."
            )
        y_struct.append(y)
        return list(flat_c) + nest.flatten(y)

    gb, ob, _ = _trace(step_fn, "scan_body", specs)
    for i, (t, o) in enumerate(zip(flat_init, ob[:nc])):
        if o.dtype is not t.dtype:
            raise TypeError(
                f"scan: the accumulator #{i} has dtype {t.dtype.name} initially but "
                f"{o.dtype.name} after one step; it must keep its dtype."
            )
        if not t.shape.is_compatible_with(o.shape):
            raise ValueError(
                f"scan: the accumulator #{i} has shape {t.shape} initially but {o.shape} "
                f"after one step; it must keep its shape."
            )
    ny = len(ob) - nc
    union, (ib,) = _captures([gb], nc + ne)
    n = flat_elems[0].shape[0] if ne else 0
    out_avals = tuple(AVal(t.shape, t.dtype) for t in flat_init) + tuple(
        AVal(TensorShape([n]).concatenate(o.shape), o.dtype) for o in ob[nc:]
    )
    params = {
        "body_graph": SubGraph(gb, ob, ib),
        "nc": nc,
        "ne": ne,
        "ny": ny,
        "out_avals": out_avals,
        "reverse": bool(reverse),
        "keep_history": _dispatch.recording(),
    }
    out = list(bind(scan_p, (*flat_init, *flat_elems, *union), params))
    carry = nest.pack_sequence_as(init, out[:nc], expand_composites=True) if nc else None
    ys = nest.pack_sequence_as(y_struct[0], out[nc : nc + ny])
    return carry, ys
