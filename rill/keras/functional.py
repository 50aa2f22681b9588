"""The functional API: the graph of nodes recorded by calling operations (layers, and
operators like ``+``) on KerasTensors, and the ``Functional`` model that replays it.

Calling an operation on KerasTensors infers its outputs abstractly and records a ``Node``
(``rill.keras.operation``). ``keras.Model(inputs, outputs)`` walks the nodes back from the
outputs, orders them by depth like Keras, and its ``call`` replays them on real tensors.
"""

from __future__ import annotations

import collections

import numpy as np

from rill.core import nest
from rill.core.tensor import Tensor
from rill.core.tensor_shape import TensorShape
from rill.core.variables import Variable
from rill.keras.input_layer import InputLayer
from rill.keras.keras_tensor import KerasTensor
from rill.keras.layer import Layer, get_keras_mask, set_keras_mask
from rill.keras.naming import snake_case, unique_name
from rill.keras.operation import Node, Operation

__all__ = ["Node", "Operator", "symbolic_call"]


def symbolic_call(layer, inputs, args, kwargs):
    """Call ``layer`` on KerasTensors: infer outputs through the shape rules, record a Node
    (what ``Layer.__call__`` does on KerasTensors: ``Operation.symbolic_call``)."""
    return layer.symbolic_call(inputs, *args, **kwargs)


# ------------------------------------------------------------------------------------------
# operators on KerasTensors (Keras 3 records them as keras.ops operations)
# ------------------------------------------------------------------------------------------


class Operator(Operation):
    """An operator applied to KerasTensors (``kt + 1``, ``a @ b``, ``kt[:, 0]``): called on
    them it records a node, and the node applies rill's op to the real values."""

    def __init__(self, op: str, fn=None, name=None):
        self.op = op
        self.fn = _rill_fn(op) if fn is None else fn  # what the node applies to values
        super().__init__(name or unique_name(_op_name(op)))

    def call(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def __repr__(self):
        return f"<Operation {self.op} name={self.name}>"


_Operation = Operator  # its former name (keras.ops builds its nodes with it)


# operator -> (Keras 3 operation class, its default name)
_KERAS_OPS = {
    "add": "Add", "subtract": "Subtract", "multiply": "Multiply", "divide": "TrueDivide",
    "floor_divide": "FloorDivide", "power": "Power", "mod": "Mod", "matmul": "Matmul",
    "less": "Less", "less_equal": "LessEqual", "greater": "Greater",
    "greater_equal": "GreaterEqual", "negative": "Negative", "absolute": "Absolute",
    "getitem": "GetItem",
}  # fmt: skip
_OPS_BY_CLASS = {v: k for k, v in _KERAS_OPS.items()}


def _op_name(op: str) -> str:
    return snake_case(_KERAS_OPS[op])


def _rill_fn(op):
    import rill

    return (
        {"negative": rill.negative, "absolute": rill.abs, "getitem": lambda x, k: x[k]}.get(op)
        or getattr(rill.math, op, None)
        or getattr(rill.linalg, op)
    )


# ------------------------------------------------------------------------------------------
# the graph of a functional model
# ------------------------------------------------------------------------------------------


class _Graph:
    """The nodes between a model's inputs and outputs, in the order they run."""

    def __init__(self, model_name, inputs, outputs):
        for t in nest.flatten(inputs):
            if not isinstance(t, KerasTensor):
                raise ValueError(
                    f"keras.Model: all `inputs` must be keras.Input tensors; got "
                    f"{type(t).__name__}: {t!r}"
                )
            op = t._keras_history[0] if t._keras_history else None
            if not isinstance(op, InputLayer):
                raise ValueError(
                    f"keras.Model: input {t.name!r} is not a keras.Input (it was produced by "
                    f"{getattr(op, 'name', op)!r}); every model input must come from keras.Input."
                )
        for t in nest.flatten(outputs):
            if not isinstance(t, KerasTensor):
                raise ValueError(
                    f"keras.Model: all `outputs` must be KerasTensors (results of calling layers "
                    f"on keras.Input); got {type(t).__name__}: {t!r}"
                )
        self.inputs = inputs
        self.outputs = outputs
        self.flat_inputs = nest.flatten(inputs)
        self.flat_outputs = nest.flatten(outputs)
        self._map(model_name)

    def _map(self, model_name):
        depth: dict[int, int] = {}  # id(node) -> depth (outputs 0, growing towards inputs)
        nodes: dict[int, Node] = {}
        order: dict[int, int] = {}  # id(node) -> traversal (post-order) index
        input_ids = {id(t) for t in self.flat_inputs}
        seen_layers = []

        seen_layer_ids: set = set()

        def parent_of(t, node):
            parent = t._keras_history[0]._inbound_nodes[t._keras_history[1]]
            if id(t) not in input_ids and parent.is_input:
                raise ValueError(
                    f"Graph disconnected: cannot find the value of tensor {t.name!r} (input "
                    f"{parent.operation.name!r}) needed by layer {node.operation.name!r}: it "
                    f"is not one of the model's inputs "
                    f"{[x.name for x in self.flat_inputs]}. Layers reached without problem: "
                    f"{[layer.name for layer in seen_layers]}."
                )
            return parent

        def visit(root):
            # depth-first post-order with an explicit stack: a model thousands of layers
            # deep must not exhaust Python's recursion limit
            if id(root) in order:
                return
            path = {id(root)}
            stack = [(root, iter(root.input_tensors))]
            while stack:
                node, pending = stack[-1]
                for t in pending:
                    parent = parent_of(t, node)
                    if id(parent) in order:
                        continue
                    if id(parent) in path:
                        raise ValueError(
                            f"keras.Model {model_name!r}: the layer graph has a cycle."
                        )
                    path.add(id(parent))
                    stack.append((parent, iter(parent.input_tensors)))
                    break
                else:
                    stack.pop()
                    path.discard(id(node))
                    nodes[id(node)] = node
                    order[id(node)] = len(order)
                    if id(node.operation) not in seen_layer_ids:
                        seen_layer_ids.add(id(node.operation))
                        seen_layers.append(node.operation)

        for t in self.flat_outputs:
            if t._keras_history is None:
                raise ValueError(f"keras.Model: output {t!r} has no layer history.")
            visit(t._keras_history[0]._inbound_nodes[t._keras_history[1]])
        # depths: a node is deeper than every node that consumes its outputs
        for nid in sorted(order, key=order.get, reverse=True):
            node = nodes[nid]
            d = depth.setdefault(nid, 0)
            for parent in node.parent_nodes:
                if id(parent) in nodes:
                    depth[id(parent)] = max(depth.get(id(parent), 0), d + 1)
        # an input no output depends on still belongs to the model, at the bottom
        max_depth = max(depth.values(), default=0)
        for t in self.flat_inputs:
            node = t._keras_history[0]._inbound_nodes[t._keras_history[1]]
            if id(node) not in nodes:
                nodes[id(node)] = node
                order[id(node)] = len(order)
                depth[id(node)] = max_depth
        self.nodes = sorted(nodes.values(), key=lambda n: (-depth[id(n)], order[id(n)]))
        # operations ordered by their deepest node, ties in traversal order
        op_depth, op_order, ops = {}, {}, []
        for n in self.nodes:
            op = n.operation
            if id(op) not in op_depth:
                ops.append(op)
                op_order[id(op)] = order[id(n)]
            op_depth[id(op)] = max(op_depth.get(id(op), 0), depth[id(n)])
        self.operations = sorted(ops, key=lambda o: (-op_depth[id(o)], op_order[id(o)]))
        self.layers = [o for o in self.operations if isinstance(o, Layer)]
        self.run_nodes = [n for n in self.nodes if not n.is_input]
        name_counts = collections.Counter(op.name for op in self.operations)
        for name, count in name_counts.items():
            if count > 1:
                raise ValueError(
                    f'The name "{name}" is used {count} times in the model '
                    f"{model_name!r}. All operation names should be unique."
                )
        self.node_set = {id(n) for n in self.nodes}

    # running ------------------------------------------------------------------------------
    def flatten_inputs(self, data) -> list:
        if isinstance(self.inputs, dict):
            if not isinstance(data, dict):
                flat = nest.flatten(data)
                if len(flat) != len(self.flat_inputs):
                    raise ValueError(
                        f"The model expects {len(self.flat_inputs)} inputs "
                        f"{sorted(self.inputs)}, but received {len(flat)}."
                    )
                return flat
            return [_lookup(data, k, self.inputs[k].name) for k in sorted(self.inputs)]
        if isinstance(data, dict):
            return [_lookup(data, t._keras_history[0].name, t.name) for t in self.flat_inputs]
        flat = (
            [data]
            if isinstance(data, (Tensor, Variable, np.ndarray)) or not nest.is_nested(data)
            else nest.flatten(data)
        )
        if len(flat) != len(self.flat_inputs):
            raise ValueError(
                f"The model expects {len(self.flat_inputs)} input(s) "
                f"{[t.name for t in self.flat_inputs]}, but received {len(flat)}."
            )
        return flat

    def run(self, data, training=None, mask=None):
        """The outputs for ``data``; ``mask`` (one per input, or None) is attached to the
        inputs, and each layer passes the masks on as Keras 3 does (``_keras_mask``)."""
        import rill

        values = {}
        flat_data = self.flatten_inputs(data)
        masks = [None] * len(flat_data) if mask is None else nest.flatten(mask)
        for t, x, m in zip(self.flat_inputs, flat_data, masks):
            m = get_keras_mask(x) if m is None else m
            if not isinstance(x, (Tensor, Variable)):
                x = rill.convert_to_tensor(np.asarray(x) if not np.isscalar(x) else x)
            t_dtype = rill.as_dtype(t.dtype)  # a KerasTensor's dtype is a name
            if x.dtype != t_dtype and (t_dtype.is_floating or not x.dtype.is_floating):
                x = rill.cast(x, t_dtype)  # floats are never silently truncated to ints
            _check_rank(t, x)
            if m is not None:
                set_keras_mask(x, m)
            values[id(t)] = x
        for node in self.run_nodes:
            args, kwargs = nest.map_structure(
                lambda v: values[id(v)] if isinstance(v, KerasTensor) else v,
                (node.args, node.kwargs),
            )
            if isinstance(node.operation, Layer):
                if "training" not in kwargs and node.operation._call_has_training:
                    kwargs["training"] = training
                out = node.operation(*args, **kwargs)
            else:
                out = node.operation.fn(*args, **kwargs)
            for t, v in zip(node.output_tensors, nest.flatten(out)):
                values[id(t)] = v
        return nest.map_structure(lambda t: values[id(t)], self.outputs)


class _Spec:
    def __init__(self, name, shape):
        self.name, self.shape = name, shape


def _lookup(data, *keys):
    for k in keys:
        if k in data:
            return data[k]
    raise ValueError(
        f"Missing input {keys[0]!r} in the dict passed to the model; got keys {sorted(data)}."
    )


def _check_rank(spec, x):
    spec = _Spec(spec.name, TensorShape(spec.shape))  # a KerasTensor's shape is a tuple
    if spec.shape.rank is not None and x.shape.rank is not None and spec.shape.rank != x.shape.rank:
        raise ValueError(
            f"Input {spec.name!r} is incompatible with the model: expected shape "
            f"{tuple(spec.shape.as_list())}, found shape {tuple(x.shape.as_list())} (rank "
            f"{x.shape.rank} instead of {spec.shape.rank})."
        )
    if spec.shape.rank is not None and x.shape.rank is not None:
        for a, b in zip(spec.shape.as_list()[1:], x.shape.as_list()[1:]):
            if a is not None and b is not None and a != b:
                raise ValueError(
                    f"Input {spec.name!r} is incompatible with the model: expected shape "
                    f"{tuple(spec.shape.as_list())}, found shape {tuple(x.shape.as_list())}."
                )


# ------------------------------------------------------------------------------------------
# config: Keras 3's format (layers with their inbound nodes, input_layers, output_layers)
# ------------------------------------------------------------------------------------------


def _node_indices(graph) -> dict:
    """id(node) -> its index among its operation's nodes that belong to this model."""
    out = {}
    for op in graph.operations:
        k = 0
        for node in op.__dict__.get("_inbound_nodes", []):
            if id(node) in graph.node_set:
                out[id(node)] = k
                k += 1
    return out


def _history(t, indices):
    op, ni, ti = t._keras_history
    return [op.name, indices.get(id(op._inbound_nodes[ni]), 0), ti]


def _serialize_arg(x, indices):
    from rill.keras.saving.serialization_lib import serialize_keras_object

    if isinstance(x, KerasTensor):
        return {
            "class_name": "__keras_tensor__",
            "config": {
                "shape": list(x.shape), "dtype": x.dtype,
                "keras_history": _history(x, indices),
            },
        }  # fmt: skip
    if isinstance(x, (list, tuple)):  # may hold KerasTensors: their history is reindexed
        return [_serialize_arg(v, indices) for v in x]
    if isinstance(x, dict):
        return {k: _serialize_arg(v, indices) for k, v in x.items()}
    return serialize_keras_object(x)


def _io_config(structure, indices):
    if isinstance(structure, dict):
        return {k: _history(v, indices) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [_history(v, indices) for v in structure]
    return _history(structure, indices)


def graph_config(model) -> dict:
    """``get_config`` of a functional model, in Keras 3's layout."""
    from rill.keras.saving.serialization_lib import serialize_keras_object

    graph = model._graph
    indices = _node_indices(graph)
    layers = []
    for op in graph.operations:
        if isinstance(op, Layer):
            entry = dict(serialize_keras_object(op))
        else:
            cls = _KERAS_OPS[op.op]
            entry = {"module": "keras.src.ops.numpy", "class_name": cls,
                     "config": {"name": op.name}, "registered_name": cls}  # fmt: skip
        entry["name"] = op.name
        entry["inbound_nodes"] = [
            {
                "args": [_serialize_arg(a, indices) for a in node.args],
                "kwargs": {k: _serialize_arg(v, indices) for k, v in node.kwargs.items()},
            }
            for node in op.__dict__.get("_inbound_nodes", [])
            if id(node) in graph.node_set and not node.is_input
        ]
        layers.append(entry)
    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layers,
        "input_layers": _io_config(graph.inputs, indices),
        "output_layers": _io_config(graph.outputs, indices),
    }


def graph_from_config(config: dict, custom_objects=None):
    """(inputs, outputs, kwargs) rebuilt from ``graph_config``'s output: every layer is
    deserialized, then called on the KerasTensors its nodes name, in dependency order."""
    from rill.keras.saving.serialization_lib import deserialize_keras_object

    ops = {}
    pending = []  # (operation, node config) in the order they were saved
    for entry in config["layers"]:
        name = entry.get("name") or entry["config"].get("name")
        if str(entry.get("module") or "").startswith("keras.src.ops"):
            op_key = _OPS_BY_CLASS.get(entry["class_name"])
            if op_key is None:
                raise ValueError(
                    f"Unknown operation {entry['class_name']!r} in the model config; rill knows "
                    f"{sorted(_OPS_BY_CLASS)}."
                )
            op = Operator(op_key, name=name)
        else:
            layer_cfg = {k: v for k, v in entry.items() if k not in ("name", "inbound_nodes")}
            op = deserialize_keras_object(layer_cfg, custom_objects=custom_objects)
        ops[name] = op
        # keyed by the name in the config: a layer whose get_config omits `name` is rebuilt
        # under a generated one, but the saved nodes still refer to it by the saved name
        pending.extend((name, op, node) for node in entry.get("inbound_nodes", []))
    made: dict[tuple, KerasTensor] = {}
    for name, op in ops.items():
        if isinstance(op, InputLayer):
            made[(name, 0, 0)] = op.output
    count = {name: 0 for name in ops}

    def resolve(x):
        if isinstance(x, dict) and x.get("class_name") == "__keras_tensor__":
            key = tuple(x["config"]["keras_history"])
            if key not in made:
                raise KeyError(key)
            return made[key]
        if isinstance(x, list):
            return [resolve(v) for v in x]
        if isinstance(x, dict) and "class_name" not in x:
            return {k: resolve(v) for k, v in x.items()}
        return deserialize_keras_object(x) if isinstance(x, dict) else x

    while pending:
        progressed = False
        for item in list(pending):
            name, op, node = item
            try:
                args = [resolve(a) for a in node.get("args", [])]
                kwargs = {k: resolve(v) for k, v in node.get("kwargs", {}).items()}
            except KeyError:
                continue  # an input of this node isn't made yet
            out = op(*args, **kwargs)
            for i, t in enumerate(nest.flatten(out)):
                made[(name, count[name], i)] = t
            count[name] += 1
            pending.remove(item)
            progressed = True
        if not progressed:
            raise ValueError(
                "Cannot rebuild the functional model from its config: some layers' inputs are "
                f"never produced: {[op.name for _, op, _ in pending]}."
            )

    def io(spec):
        if isinstance(spec, dict):
            return {k: made[tuple(v)] for k, v in spec.items()}
        if spec and isinstance(spec[0], (list, tuple)):
            return [made[tuple(v)] for v in spec]
        return made[tuple(spec)]

    kwargs = {"name": config.get("name"), "trainable": config.get("trainable", True)}
    return io(config["input_layers"]), io(config["output_layers"]), kwargs
