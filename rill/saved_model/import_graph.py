"""``tf.import_graph_def`` (also ``tf.graph_util.import_graph_def``): run the nodes of a
TensorFlow ``GraphDef`` (a frozen TF1 graph, say) with rill ops, feeding its placeholders
from ``input_map``, and return the requested tensors."""

from __future__ import annotations

from rill.core.convert import convert_to_tensor
from rill.ops._op import tf_export
from rill.saved_model.importer import _H, FunctionLibrary, _attrs


class _Library:
    """An empty function library (a GraphDef without one)."""

    function = ()


def _order(nodes):
    """Nodes in dependency order (iterative depth-first), control inputs included."""
    by_name = {n.name: n for n in nodes}
    order, state = [], {}
    for start in by_name:
        if state.get(start):
            continue
        stack = [(start, False)]
        while stack:
            name, done = stack.pop()
            if done:
                state[name] = 2
                order.append(by_name[name])
                continue
            if state.get(name):
                continue
            state[name] = 1
            stack.append((name, True))
            for inp in by_name[name].input:
                dep = inp.lstrip("^").split(":")[0]
                if dep in by_name and not state.get(dep):
                    stack.append((dep, False))
    return order


def _key(ref: str) -> tuple:
    name, _, idx = ref.lstrip("^").partition(":")
    return name, int(idx or 0)


@tf_export("import_graph_def", "graph_util.import_graph_def")
def import_graph_def(
    graph_def, input_map=None, return_elements=None, name=None, op_dict=None,
    producer_op_list=None,
):  # fmt: skip
    """Run ``graph_def``'s nodes with rill ops; ``input_map`` maps names in the graph
    (``"x"`` or ``"x:0"``) to tensors that replace them (every Placeholder must be fed);
    returns the tensors named by ``return_elements`` (``"op:i"``; a bare op name gives
    its outputs as a list), or None."""
    if not hasattr(graph_def, "node"):
        raise TypeError(
            f"import_graph_def: graph_def must be a GraphDef proto, got {type(graph_def).__name__}"
        )
    feeds = {}
    for k, v in (input_map or {}).items():
        if not isinstance(k, str):
            raise TypeError(f"import_graph_def: input_map keys must be strings, got {k!r}")
        feeds[_key(k)] = convert_to_tensor(v)
    library = getattr(graph_def, "library", None)
    lib = FunctionLibrary(library if library is not None else _Library())
    unsupported = sorted(
        {n.op for n in graph_def.node if n.op not in _H and n.op not in lib.fdefs}
        - {"Placeholder", "PlaceholderWithDefault"}
    )
    if unsupported:
        raise ValueError(f"import_graph_def: rill cannot run the TensorFlow ops {unsupported}")
    env: dict = {}
    for node in _order(graph_def.node):
        if node.op in ("Placeholder", "PlaceholderWithDefault") and (node.name, 0) not in feeds:
            if node.op == "Placeholder":
                raise ValueError(
                    f"import_graph_def: placeholder {node.name!r} is not fed; map it in "
                    f"input_map (e.g. {{'{node.name}:0': tensor}})"
                )
        ins = []
        for ref in node.input:
            if ref.startswith("^"):
                continue
            n, i = _key(ref)
            ins.append(feeds[(n, i)] if (n, i) in feeds else env[n][i])
        if (node.name, 0) in feeds:
            env[node.name] = [feeds[(node.name, 0)]]
        elif node.op == "PlaceholderWithDefault":
            env[node.name] = [ins[0]]
        elif node.op in lib.fdefs:
            env[node.name] = lib.call(node.op, ins)
        else:
            out = _H[node.op](lib, _attrs(node), ins)
            env[node.name] = list(out) if isinstance(out, (list, tuple)) else [out]
    if return_elements is None:
        return None
    result = []
    for ref in return_elements:
        n, _, idx = ref.partition(":")
        if n not in env:
            raise ValueError(
                f"import_graph_def: requested return element {ref!r} is not in the graph"
            )
        result.append(env[n][int(idx)] if idx else list(env[n]))
    return result
