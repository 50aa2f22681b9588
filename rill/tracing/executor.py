"""Compile a traced graph into one flat Python function of kernel calls.

Passes, in one sweep over the ops in program order: identity removal, constant folding
(pure ops whose inputs are all constants run now, once), common-subexpression elimination
(pure ops with the same primitive, params and inputs), then dead-code pruning (ops that
neither feed an output nor have side effects). The survivors become straight-line source
code, ``v3 = k3(v1, v2, axis=p3_axis)``, compiled with ``exec``: a call runs the kernels
with no per-op Python objects to walk.
"""

from __future__ import annotations

import numpy as np

from rill.core.dispatch import kernel_error
from rill.core.errors import OpError
from rill.core.tensor import wrap
from rill.tracing.graph import FuncGraph, const_p, placeholder_p

__all__ = ["compile_graph", "Plan"]


def _same_static(a, b) -> bool:
    return a.shape.is_fully_defined() and a.shape.rank and a.shape == b.shape and a.dtype is b.dtype


_FOLD_LIMIT = 1 << 20  # elements: larger constant results are recomputed per call instead


class _Node:
    __slots__ = ("op", "ins", "outs")

    def __init__(self, op, ins, outs):
        self.op = op
        self.ins = ins  # value keys (ints) of the inputs
        self.outs = outs  # value keys of the outputs


def _params_key(params):
    try:
        key = tuple(sorted(params.items()))
        hash(key)
        return key
    except TypeError:
        return None


class Plan:
    """A compiled graph: ``plan(*arrays) -> tuple of arrays``."""

    def __init__(self, graph: FuncGraph, outputs, out_keys, fn, nodes, consts, source, n_ops):
        self.graph = graph
        self.outputs = outputs
        self.out_keys = out_keys
        self.run = fn
        self.nodes = nodes
        self.consts = consts
        self.source = source
        self.n_ops = n_ops  # ops left after optimisation

    def __call__(self, *arrays):
        try:
            return self.run(*arrays)
        except Exception:  # noqa: BLE001 - find the failing op and report it properly
            return self._interpret(arrays)

    def call_tensors(self, tensors, outputs) -> list:
        """The plan on eager ``tensors``: its results as EagerTensors of ``outputs``' dtypes."""
        arrays = self(*[t._value for t in tensors])
        return [wrap(a, o._dtype) for a, o in zip(arrays, outputs)]

    def fast_call(self, dtype):
        """``call_tensors`` for a graph with one output, of ``dtype``, as one callable
        returning the EagerTensor (a concrete function's per-call path: see
        ``ConcreteFunction._fast``)."""
        run = self.__call__

        def call(tensors):
            return wrap(run(*[t._value for t in tensors])[0], dtype)

        return call

    def _interpret(self, arrays):
        """Run op by op (slow path, after a failure) to raise the error at the right op."""
        env = dict(self.consts)
        for ph, a in zip(self.graph.inputs, arrays):
            env[id(ph)] = a
        for node in self.nodes:
            op = node.op
            args = [env[k] for k in node.ins]
            try:
                r = op.prim.kernel(*args, **op.params)
            except Exception as e:  # noqa: BLE001
                ins = [wrap(np.asarray(a), t.dtype) for a, t in zip(args, op.inputs)]
                err = kernel_error(op.prim, ins, op.params, e)
                raise (
                    type(err)(
                        None,
                        op.prim.name,
                        f"{err} [in op {op.name!r} of {self.graph.name!r}, created at {op.site}]",
                    )
                    if isinstance(err, OpError)
                    else err
                ) from None
            rs = r if op.prim.n_out != 1 else (r,)
            for k, v in zip(node.outs, rs):
                env[k] = np.asarray(v)
        return tuple(env[k] for k in self.out_keys)


def compile_graph(graph: FuncGraph, outputs=None) -> Plan:
    """Optimise ``graph`` and compile it to a ``Plan`` computing ``outputs``."""
    outputs = list(graph.outputs if outputs is None else outputs)
    alias: dict[int, int] = {}
    consts: dict[int, np.ndarray] = {}
    seen: dict = {}
    nodes: list[_Node] = []

    def res(t) -> int:
        k = id(t)
        while k in alias:
            k = alias[k]
        return k

    for op in graph.ops:
        prim = op.prim
        if prim is placeholder_p:
            continue
        if prim is const_p:
            consts[id(op.outputs[0])] = op.params["value"]
            continue
        ins = [res(t) for t in op.inputs]
        if prim.alias and len(ins) == 1:
            alias[id(op.outputs[0])] = ins[0]
            continue
        outs = [id(o) for o in op.outputs]
        if not prim.stateful:
            known = [o._const for o in op.outputs]
            if ins and all(v is not None for v in known):  # the tracer already computed it
                for k, v in zip(outs, known):
                    consts[k] = v
                continue
            if all(k in consts for k in ins):
                folded = _fold(op, [consts[k] for k in ins])
                if folded is not None:
                    for k, v in zip(outs, folded):
                        consts[k] = v
                    continue
            pk = _params_key(op.params)
            if pk is not None:
                key = (
                    prim.name,
                    pk,
                    tuple(("c", id(consts[k])) if k in consts else k for k in ins),
                )
                hit = seen.get(key)
                if hit is not None:
                    for k, h in zip(outs, hit):
                        alias[k] = h
                    continue
                seen[key] = outs
        nodes.append(_Node(op, ins, outs))

    out_keys = [res(t) for t in outputs]
    # dead-code pruning: keep what feeds an output, and every op with side effects
    live = set(out_keys)
    kept = []
    for node in reversed(nodes):
        if node.op.prim.stateful or any(k in live for k in node.outs):
            kept.append(node)
            live.update(node.ins)
    kept.reverse()
    fn, source = _codegen(graph, kept, consts, out_keys)
    return Plan(graph, outputs, out_keys, fn, kept, consts, source, len(kept))


def _fold(op, values):
    out_elems = 0
    for o in op.outputs:
        n = o.shape.num_elements()
        if n is None:
            return None
        out_elems += n
    if out_elems > _FOLD_LIMIT:
        return None
    try:
        r = op.prim.kernel(*values, **op.params)
    except Exception:  # noqa: BLE001 - leave it to raise at run time, at the right op
        return None
    rs = r if op.prim.n_out != 1 else (r,)
    return [np.asarray(v) for v in rs]


def _emit_in_place(op, node, j, names, fresh, last_use, outputs, lines, ns) -> bool:
    """Emit an elementwise op as an in-place update of its first input when that input is
    an array this plan allocated, dead after this op, of the output's shape and dtype:
    small-tensor code then runs without allocating at every step."""
    if op.params or not node.ins or len(node.outs) != 1:
        return False
    k0 = node.ins[0]
    if k0 not in fresh or last_use.get(k0) != j or k0 in outputs or node.ins.count(k0) != 1:
        return False
    x, out = op.inputs[0], op.outputs[0]
    if not _same_static(x, out):
        return False
    name = names[k0]
    aug = op.prim.inplace_operator
    if aug is not None and len(node.ins) == 2:
        lines.append(f"    {name} {aug} {names[node.ins[1]]}")
    elif len(node.ins) == 1 and op.prim.inplace_out:
        lines.append(f"    k{j}({name}, out={name})")
    else:
        return False
    names[node.outs[0]] = name  # the output lives on in the same array
    fresh.add(node.outs[0])
    for k in node.ins[1:]:
        if last_use.get(k) == j and k not in outputs and names[k][0] == "v":
            lines.append(f"    del {names[k]}")
    return True


def _codegen(graph, nodes, consts, out_keys):
    names: dict[int, str] = {}
    ns = {"_asarray": np.asarray}
    for i, ph in enumerate(graph.inputs):
        names[id(ph)] = f"a{i}"
    for j, (k, v) in enumerate(consts.items()):
        names[k] = f"c{j}"
        ns[f"c{j}"] = v
    lines = [f"def run({', '.join(f'a{i}' for i in range(len(graph.inputs)))}):"]
    # free each intermediate right after its last use, as hand-written code would: lower
    # peak memory, and the allocator reuses the same buffers from call to call
    last_use = {}
    for j, node in enumerate(nodes):
        for k in node.ins:
            last_use[k] = j
    outputs = set(out_keys)
    fresh: set = set()  # values in arrays this plan allocated (safe to overwrite when dead)
    counter = 0
    for j, node in enumerate(nodes):
        op = node.op
        ns[f"k{j}"] = op.prim.kernel
        args = [names[k] for k in node.ins]
        if _emit_in_place(op, node, j, names, fresh, last_use, outputs, lines, ns):
            continue
        for pname, pval in op.params.items():
            ns[f"p{j}_{pname}"] = pval
            args.append(f"{pname}=p{j}_{pname}")
        outs = []
        for o, k in zip(op.outputs, node.outs):
            names[k] = f"v{counter}"
            outs.append((f"v{counter}", o))
            counter += 1
        expr = op.prim.operator
        call = expr.format(*args) if expr and not op.params else f"k{j}({', '.join(args)})"
        if op.prim.n_out == 1:
            lines.append(f"    {outs[0][0]} = {call}")
        elif outs:
            lines.append(f"    {', '.join(n for n, _ in outs)}, = {call}")
        else:
            lines.append(f"    {call}")
        for n, o in outs:
            if o.shape.rank in (0, None):  # NumPy ufuncs return scalars for 0-d inputs
                lines.append(f"    {n} = _asarray({n})")
        if op.prim.fresh:
            fresh.update(node.outs)
        else:  # its output may alias its inputs (a view) or keep them (an assignment)
            fresh.difference_update(node.ins)
        dead = sorted(
            {
                names[k]
                for k in node.ins
                if last_use.get(k) == j and k not in outputs and names[k][0] == "v"
            }
        )
        dead += [n for (n, _), k in zip(outs, node.outs) if k not in last_use and k not in outputs]
        if dead:
            lines.append(f"    del {', '.join(dead)}")
    rets = [names[k] for k in out_keys]
    lines.append(f"    return ({', '.join(rets)}{',' if len(rets) == 1 else ''})")
    source = "\n".join(lines)
    exec(compile(source, f"<rill.function {graph.name}>", "exec"), ns)  # noqa: S102
    return ns["run"], source
