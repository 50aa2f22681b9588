"""rill's ``Scan`` (Keras RNN loops, ``scan``/``map_fn``/``foldl``) as TensorFlow ops.

TensorFlow has no scan op: its own ``tf.scan`` and Keras' RNN loop are a ``While`` whose
loop variables carry TensorLists. The lowering below writes the same thing: each scanned
tensor becomes a ``TensorListFromTensor`` read with ``TensorListGetItem`` at the step's
index, each per-step output a ``TensorListReserve`` filled with ``TensorListSetItem`` and
stacked with ``TensorListStack`` after the loop. Loop variables, in order: the step
counter, the number of steps, the carry, the output lists, the input lists, the
captured tensors, and the handles of any variable the body reads.
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.tracing.graph_def import _set_attr

__all__ = ["lower_scan"]

_I32 = _d.int32


def _shape_vector(shape) -> np.ndarray:
    """A TensorList element shape as TF takes it: dims with -1 unknown, -1 unknown rank."""
    if shape.rank is None:
        return np.int32(-1)
    return np.asarray([-1 if d is None else d for d in shape.as_list()], np.int32)


def _returns(fn, refs, dtypes) -> None:
    """Close FunctionDef ``fn`` returning ``refs`` (through Identity, as TF writes)."""
    sig = fn.fdef.signature
    for i, (ref, dt) in enumerate(zip(refs, dtypes)):
        ret = fn.unique(f"identity_{i}" if i else "identity")
        sig.output_arg.add(name=ret, type=dt.as_datatype_enum)
        fn.fdef.ret[ret] = fn.node("Identity", "Identity", [ref], {"T": dt})[0]
    sig.is_stateful = fn.stateful
    fn.lib.fdefs[sig.name] = fn.fdef


def _body(lib, op, arg_types, elem_dtypes, elem_shapes):
    """The loop body: one step of the scan over the loop variables."""
    from rill.saved_model.exporter import _Fn, _refuse

    p = op.params
    nc, ne, ny = p["nc"], p["ne"], p["ny"]
    sub = p["body_graph"]
    fn = _Fn(lib, lib.fresh_name("scan_while_body"))
    args = [fn.arg(f"arg{i}", dt) for i, dt in enumerate(arg_types)]
    i, n = args[0], args[1]
    carry = args[2 : 2 + nc]
    ylists = args[2 + nc : 2 + nc + ny]
    elists = args[2 + nc + ny : 2 + nc + ny + ne]
    caps = args[2 + nc + ny + ne :]
    if p["reverse"]:  # step i reads and writes position n - 1 - i
        one = fn.const(np.int32(1), _I32, "one")
        last = fn.node("Sub", "last", [n, one], {"T": _I32})[0]
        idx = fn.node("Sub", "index", [last, i], {"T": _I32})[0]
    else:
        idx = i
    slices = []
    for k, (lst, dt, shp) in enumerate(zip(elists, elem_dtypes, elem_shapes)):
        shape = fn.const(_shape_vector(shp), _I32, f"elem_{k}/element_shape")
        attrs = {"element_dtype": dt, "Tshape": _I32}
        slices.append(fn.node("TensorListGetItem", f"elem_{k}", [lst, idx, shape], attrs)[0])
    by_position = [*carry, *slices, *caps]  # the Scan op's inputs, as the body sees them
    env = {id(ph): by_position[j] for ph, j in zip(sub.graph.inputs, sub.arg_idx)}
    lib._body(fn, sub.graph, env)
    outs = [env.get(id(t)) for t in sub.outputs]
    if any(r is None for r in outs):
        raise _refuse("Scan", "an output of its body was not computed by the body")
    new_lists = [
        fn.node(
            "TensorListSetItem",
            f"set_{k}",
            [lst, idx, outs[nc + k]],
            {"element_dtype": sub.outputs[nc + k].dtype},
        )[0]
        for k, lst in enumerate(ylists)
    ]
    one = fn.const(np.int32(1), _I32, "step")
    nxt = fn.node("AddV2", "next", [i, one], {"T": _I32})[0]
    # variables the body reads became resource arguments after ours: pass them through
    res = [fn.var_args[id(v)] for v in fn.variables]
    refs = [nxt, n, *outs[:nc], *new_lists, *elists, *caps, *res]
    types = list(arg_types) + [_d.resource] * len(res)
    _returns(fn, refs, types)
    return fn.fdef.signature.name, fn.variables


def _cond(lib, arg_types):
    """The loop condition: counter < number of steps."""
    from rill.saved_model.exporter import _Fn

    fn = _Fn(lib, lib.fresh_name("scan_while_cond"))
    args = [fn.arg(f"arg{i}", dt) for i, dt in enumerate(arg_types)]
    less = fn.node("Less", "Less", [args[0], args[1]], {"T": _I32})[0]
    _returns(fn, [less], [_d.bool])
    return fn.fdef.signature.name


def lower_scan(lib, fn, op, ins):
    """Write rill's ``Scan`` into FunctionDef ``fn`` as a ``While`` over TensorLists."""
    from rill.core.tensor_shape import TensorShape
    from rill.saved_model.exporter import _refuse

    p = op.params
    if p.get("keep_history"):
        raise _refuse("Scan", "a loop recorded for its gradient")
    nc, ne, ny = p["nc"], p["ne"], p["ny"]
    elems = op.inputs[nc : nc + ne]
    caps = op.inputs[nc + ne :]
    base = op.name
    elists = []
    for k, e in enumerate(elems):
        shape = fn.const(_shape_vector(e.shape[1:]), _I32, f"{base}/elems_{k}/element_shape")
        attrs = {"element_dtype": e.dtype, "shape_type": _I32}
        node = fn.node("TensorListFromTensor", f"{base}/elems_{k}", [ins[nc + k], shape], attrs)
        elists.append(node[0])
    if ne:
        n = fn.node("TensorListLength", f"{base}/n", [elists[0]])[0]
    else:  # nothing to iterate over: no steps (as rill's kernel)
        n = fn.const(np.int32(0), _I32, f"{base}/n")
    y_avals = p["out_avals"][nc:]
    ylists = []
    for k, a in enumerate(y_avals):
        shape = fn.const(_shape_vector(a.shape[1:]), _I32, f"{base}/ys_{k}/element_shape")
        attrs = {"element_dtype": a.dtype, "shape_type": _I32}
        ylists.append(fn.node("TensorListReserve", f"{base}/ys_{k}", [shape, n], attrs)[0])
    zero = fn.const(np.int32(0), _I32, f"{base}/counter")
    arg_types = (
        [_I32, _I32]
        + [t.dtype for t in op.inputs[:nc]]
        + [_d.variant] * (ny + ne)
        + [t.dtype for t in caps]
    )
    body, variables = _body(
        lib, op, arg_types, [e.dtype for e in elems], [e.shape[1:] for e in elems]
    )
    handles = [fn.resource(v) for v in variables]
    all_types = arg_types + [_d.resource] * len(handles)
    cond = _cond(lib, all_types)
    carry_shapes = [
        o.shape if o.shape.is_compatible_with(t.shape) else TensorShape(None)
        for o, t in zip(op.outputs[:nc], op.inputs[:nc])
    ]
    shapes = (
        [TensorShape([])] * 2
        + carry_shapes
        + [TensorShape([])] * (ny + ne)
        + [t.shape for t in caps]
        + [TensorShape([])] * len(handles)
    )
    name = fn.unique(base)
    nd = fn.fdef.node_def.add(name=name, op="While")
    nd.input.extend([zero, n, *ins[:nc], *ylists, *elists, *ins[nc + ne :], *handles])
    _set_attr(nd.attr["T"], all_types)
    _set_attr(nd.attr["output_shapes"], shapes)
    _set_attr(nd.attr["parallel_iterations"], 32)
    nd.attr["cond"].func.name = cond
    nd.attr["body"].func.name = body
    fn.stateful = True
    carry = [f"{name}:output:{2 + k}" for k in range(nc)]
    stacked = []
    for k, a in enumerate(y_avals):
        lst = f"{name}:output:{2 + nc + k}"
        shape = fn.const(_shape_vector(a.shape[1:]), _I32, f"{base}/stack_{k}/element_shape")
        steps = a.shape[0] if a.shape.rank is not None else None
        attrs = {"element_dtype": a.dtype, "num_elements": -1 if steps is None else int(steps)}
        stacked.append(fn.node("TensorListStack", f"{base}/stack_{k}", [lst, shape], attrs)[0])
    return carry + stacked
