"""GraphDefs: a traced ``FuncGraph`` as TensorFlow's ``GraphDef`` protocol buffer.

``graph_to_graph_def(graph)`` gives the graph TensorBoard's graph dashboard draws (through
``tf.summary.graph``, ``tf.summary.trace_export`` and the Keras TensorBoard callback),
and what ``Graph.as_graph_def()`` returns. Each operation becomes a ``NodeDef`` with its
op's TF name, its inputs as ``"node"`` (output 0) or ``"node:i"``, and as attributes the
op's parameters that have a TF attribute form (numbers, strings, dtypes, shapes, arrays;
``T``, the first input's dtype, unless the op names it itself). Constants carry their
``value`` and ``dtype``, placeholders their ``dtype`` and ``shape``. Each variable the
graph reads or assigns is one ``VarHandleOp`` node named after it, the input of its
``ReadVariableOp`` / ``Assign*VariableOp`` nodes. The branches and bodies of control-flow
ops are inlined under the op's name (``cond/then_branch/...``), their inputs shown as
``Identity`` nodes of the op's inputs. ``add_shapes`` adds ``_output_shapes``.

Needs the ``protobuf`` package (``rill[proto]``).
"""

from __future__ import annotations

import re

import numpy as np

from rill.core import dtypes as _d
from rill.core.protos import make_tensor_proto, message_classes
from rill.core.tensor_shape import TensorShape
from rill.tracing.control_flow import SubGraph
from rill.tracing.graph import (
    FuncGraph,
    assign_variable_p,
    const_p,
    placeholder_p,
    read_variable_p,
)

__all__ = ["graph_to_graph_def", "GRAPH_DEF_VERSION"]

# The GraphDef version TensorFlow 2.21 writes (``tf.version.GRAPH_DEF_VERSION``).
GRAPH_DEF_VERSION = 2474

_ASSIGN_OPS = {
    "assign": "AssignVariableOp",
    "assign_add": "AssignAddVariableOp",
    "assign_sub": "AssignSubVariableOp",
}
_BAD_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.\-/>]")


def graph_to_graph_def(graph: FuncGraph, add_shapes: bool = False):
    """``graph`` as a ``GraphDef`` message (``tensorflow.GraphDef``)."""
    classes = message_classes()
    gd = classes["GraphDef"]()
    gd.versions.producer = GRAPH_DEF_VERSION
    _Converter(gd, add_shapes).graph(graph, "", None)
    return gd


def _node_name(name: str) -> str:
    name = _BAD_NAME_CHARS.sub("_", name)
    return name if name and name[0] not in "_-/>" else "n" + name


def _set_shape(proto, shape: TensorShape) -> None:
    proto.SetInParent()
    if shape.rank is None:
        proto.unknown_rank = True
        return
    for d in shape.as_list():
        proto.dim.add(size=-1 if d is None else d)


def _set_attr(av, value) -> bool:
    """Fill AttrValue ``av`` from a Python value; False if it has no attribute form."""
    if isinstance(value, (bool, np.bool_)):
        av.b = bool(value)
    elif isinstance(value, (int, np.integer)):
        if not -(1 << 63) <= int(value) < (1 << 63):
            return False
        av.i = int(value)
    elif isinstance(value, (float, np.floating)):
        av.f = float(value)
    elif isinstance(value, str):
        av.s = value.encode("utf-8", "surrogatepass")
    elif isinstance(value, bytes):
        av.s = value
    elif isinstance(value, _d.DType):
        av.type = value.as_datatype_enum
    elif isinstance(value, TensorShape):
        _set_shape(av.shape, value)
    elif isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufcO" and value.dtype.name != "bfloat16":
            return False
        av.tensor.CopyFrom(make_tensor_proto(value, compact=True))
    elif isinstance(value, (tuple, list)):
        return _set_list(av, value)
    else:
        return False
    return True


def _set_list(av, values) -> bool:
    lst = av.list
    if not values:
        lst.SetInParent()
        return True
    if all(isinstance(v, (bool, np.bool_)) for v in values):
        lst.b.extend(bool(v) for v in values)
    elif all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        lst.i.extend(int(v) for v in values)
    elif all(isinstance(v, (int, float, np.integer, np.floating)) for v in values):
        lst.f.extend(float(v) for v in values)
    elif all(isinstance(v, str) for v in values):
        lst.s.extend(v.encode("utf-8", "surrogatepass") for v in values)
    elif all(isinstance(v, _d.DType) for v in values):
        lst.type.extend(v.as_datatype_enum for v in values)
    elif all(isinstance(v, TensorShape) for v in values):
        for v in values:
            _set_shape(lst.shape.add(), v)
    else:
        av.Clear()
        return False
    return True


class _Converter:
    def __init__(self, gd, add_shapes):
        self.gd = gd
        self.add_shapes = add_shapes
        self.used: set = set()
        self.var_nodes: dict = {}  # id(variable) -> its VarHandleOp node name

    def _unique(self, base: str) -> str:
        name, n = base, 0
        while name in self.used:
            n += 1
            name = f"{base}_{n}"
        self.used.add(name)
        return name

    def _node(self, name, op, inputs=(), attrs=None, outputs=()):
        node = self.gd.node.add(name=name, op=op)
        node.input.extend(inputs)
        for k, v in (attrs or {}).items():
            _set_attr(node.attr[k], v)
        if self.add_shapes and outputs:
            shapes = node.attr["_output_shapes"].list
            for t in outputs:
                _set_shape(shapes.shape.add(), t.shape)
        return node

    def _variable(self, var) -> str:
        name = self.var_nodes.get(id(var))
        if name is None:
            base = _node_name(str(getattr(var, "name", "") or "Variable").split(":")[0])
            name = self.var_nodes[id(var)] = self._unique(base)
            attrs = {"dtype": var.dtype, "shape": TensorShape(var.shape), "shared_name": base}
            self._node(name, "VarHandleOp", attrs=attrs)
        return name

    def graph(self, graph: FuncGraph, prefix: str, feeds):
        """Add ``graph``'s ops, node names prefixed with ``prefix``; ``feeds`` maps each
        of its inputs (by id) to the outer tensor name that feeds it, for subgraphs."""
        names: dict = {}  # id(op) -> node name

        def ref(t) -> str:
            base = names.get(id(t.op))
            if base is None:  # a tensor of an enclosing graph (should not happen)
                base = _node_name(t.op.name)
            return base if t._index == 0 else f"{base}:{t._index}"

        for op in graph.ops:
            name = names[id(op)] = self._unique(_node_name(prefix + op.name))
            prim, params = op.prim, op.params
            if prim is placeholder_p:
                var = params.get("lifted_var")
                outer = feeds.get(id(op.outputs[0])) if feeds else None
                t = op.outputs[0]
                if outer is not None:
                    self._node(name, "Identity", [outer], {"T": t.dtype}, op.outputs)
                elif var is not None:
                    self._node(
                        name,
                        "ReadVariableOp",
                        [self._variable(var)],
                        {"dtype": t.dtype},
                        op.outputs,
                    )
                else:
                    attrs = {"dtype": t.dtype, "shape": t.shape}
                    self._node(name, "Placeholder", (), attrs, op.outputs)
            elif prim is const_p:
                t = op.outputs[0]
                attrs = {"value": np.asarray(params["value"]), "dtype": t.dtype}
                node = self._node(name, "Const", (), attrs, op.outputs)
                if t.dtype is not _d.string and node.attr["value"].tensor.dtype != (
                    t.dtype.as_datatype_enum
                ):
                    node.attr["value"].tensor.dtype = t.dtype.as_datatype_enum
            elif prim is read_variable_p:
                var = params["var"]
                attrs = {"dtype": var.dtype}
                self._node(name, "ReadVariableOp", [self._variable(var)], attrs, op.outputs)
            elif prim is assign_variable_p:
                var = params["var"]
                self._node(
                    name,
                    _ASSIGN_OPS.get(params.get("mode"), "AssignVariableOp"),
                    [self._variable(var), ref(op.inputs[0])],
                    {"dtype": var.dtype},
                )
            else:
                self._generic(op, name, ref)

    def _generic(self, op, name, ref):
        inputs = [ref(t) for t in op.inputs]
        node = self._node(name, op.prim.name, inputs, None, op.outputs)
        params = op.params
        if op.inputs and "T" not in params:
            _set_attr(node.attr["T"], op.inputs[0].dtype)
        for key, value in params.items():
            if key.startswith("_"):  # rill's own facts (e.g. _sparse_grad), not TF attributes
                continue
            if isinstance(value, SubGraph):
                self._subgraph(node, name, key, value, inputs)
            elif isinstance(value, FuncGraph):
                node.attr[key].func.name = value.name
            elif not _set_attr(node.attr[key], value):
                del node.attr[key]

    def _subgraph(self, node, name, key, sub: SubGraph, inputs):
        node.attr[key].func.name = f"{name}/{key}"
        feeds = {}
        for j, ph in enumerate(sub.graph.inputs):
            if j < len(sub.arg_idx) and sub.arg_idx[j] < len(inputs):
                feeds[id(ph)] = inputs[sub.arg_idx[j]]
        self.graph(sub.graph, f"{name}/{key}/", feeds)
