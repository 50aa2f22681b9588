"""Graphs: symbolic tensors, operations and ``FuncGraph``, and how ops get into them.

While a function is traced, ``rill.core.dispatch`` hands every op to ``graph_bind``: the
primitive's shape rule runs instead of its kernel and the op is appended to the current
graph. The same primitive definitions therefore serve eager execution, tapes and tracing.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess

import numpy as np

from rill.core import dispatch as _dispatch
from rill.core import dtypes as _d
from rill.core.dispatch import AVal, Primitive, primitive
from rill.core.errors import (
    InvalidArgumentError,
    OperatorNotAllowedInGraphError,
    op_error,
    user_call_site,
)
from rill.core.tensor import EagerTensor, Tensor, wrap
from rill.core.tensor_shape import TensorShape

__all__ = ["SymbolicTensor", "Operation", "FuncGraph", "replay"]

_new = object.__new__


class EscapedTensorError(TypeError):
    """A tensor of a finished trace was used as if it had a value."""

    _rill_user_error = True  # reported as is, not wrapped by the op that hit it


class SymbolicTensor(Tensor):
    """A tensor of a graph being traced: known shape (maybe partial) and dtype, no value."""

    __slots__ = ("_graph", "_op", "_index", "_shape", "_dtype", "_const", "_tid", "__weakref__")

    @property
    def shape(self) -> TensorShape:
        return self._shape

    @property
    def dtype(self) -> _d.DType:
        return self._dtype

    @property
    def ndim(self):
        return self._shape.rank

    @property
    def op(self) -> Operation:
        return self._op

    @property
    def graph(self) -> FuncGraph:
        return self._graph

    @property
    def name(self) -> str:
        return f"{self._op.name}:{self._index}"

    @property
    def device(self) -> str:
        return ""

    @property
    def _value(self):
        raise EscapedTensorError(
            f"The symbolic tensor {self.name!r} was created while tracing "
            f"{self._graph.name!r} and is used outside that trace. A tensor computed inside a "
            f"rill.function exists only during tracing: return it from the function instead "
            f"of storing it in a Python variable."
        )

    def set_shape(self, shape):
        """Narrow the static shape (TF's set_shape): it must be compatible with the known one."""
        if not self._shape.is_compatible_with(shape):
            raise ValueError(
                f"Tensor's shape {self._shape} is not compatible with supplied shape {TensorShape(shape)}."
            )
        self._shape = self._shape.merge_with(shape)

    def numpy(self):
        raise NotImplementedError(
            f"Cannot convert the symbolic tensor {self.name!r} to a NumPy value while "
            f"tracing; use rill ops inside rill.function, or tf.py_function for NumPy code."
        )

    def __array__(self, dtype=None, copy=None):
        self.numpy()

    def __bool__(self):
        raise OperatorNotAllowedInGraphError(
            f"Using the symbolic tensor {self.name!r} as a Python bool is not allowed while "
            f"tracing: its value is not known yet. Use tf.cond / tf.while_loop, or keep "
            f"autograph=True so that `if`/`while` on tensors are converted."
        )

    def __len__(self):
        d = self._shape[0] if self._shape.rank else None
        if d is None:
            raise TypeError(
                f"len is not well defined for the symbolic tensor {self.name!r} of shape "
                f"{self._shape}; use tf.shape(x)[0]."
            )
        return d

    def __iter__(self):
        d = self._shape[0] if self._shape.rank else None
        if d is None:
            raise OperatorNotAllowedInGraphError(
                f"Cannot iterate over the symbolic tensor {self.name!r} of shape {self._shape} "
                f"(unknown first dimension); use tf.while_loop or a `for` over tf.range."
            )
        from rill.ops.array_ops import unstack

        return iter(unstack(self, num=d))

    def __index__(self):
        raise TypeError(f"The symbolic tensor {self.name!r} cannot be used as a Python index.")

    def __repr__(self):
        return f"<rill.Tensor '{self.name}' shape={self._shape} dtype={self._dtype.name}>"

    __str__ = __repr__


def _symbolic(graph, op, index, aval) -> SymbolicTensor:
    t = _new(SymbolicTensor)
    t._graph = graph
    t._op = op
    t._index = index
    t._shape = aval.shape
    t._dtype = aval.dtype
    t._const = aval.value
    return t


class Operation:
    """A node of a graph: a primitive applied to tensors, with static params."""

    __slots__ = ("graph", "prim", "params", "inputs", "outputs", "name", "site")

    def __init__(self, graph, prim, params, inputs, name, site):
        self.graph = graph
        self.prim = prim
        self.params = params
        self.inputs = inputs
        self.outputs = []
        self.name = name
        self.site = site  # the user's file:line that created the op

    @property
    def type(self) -> str:
        return self.prim.name

    def get_attr(self, name):
        return self.params[name]

    def values(self) -> tuple:
        """The op's outputs, as a tuple."""
        return tuple(self.outputs)

    @property
    def device(self) -> str:
        return ""

    @property
    def control_inputs(self) -> list:
        return []

    @property
    def node_def(self):
        """This op as a ``NodeDef`` (the node ``graph.as_graph_def()`` holds for it)."""
        gd = self.graph.as_graph_def()
        for node in gd.node:
            if node.name == self.name:
                return node
        raise ValueError(f"Operation {self.name!r} has no NodeDef of its own.")

    def __repr__(self):
        ins = ", ".join(t.name for t in self.inputs)
        return f"<rill.Operation '{self.name}' type={self.type} inputs=[{ins}]>"


# Graph-only primitives: inputs, constants and variable access. Their kernels do no array
# math of their own, so they are declared host (called as they are, on any backend).
def _no_kernel(*_, **__):
    raise RuntimeError("placeholders are fed by the executor, never run")


placeholder_p = primitive("Placeholder", _no_kernel, lambda **_: None, host=True)
const_p = primitive(
    "Const",
    lambda value: value,
    lambda value: AVal(
        value.shape, _d.from_numpy(value.dtype) if value.dtype != object else _d.string, value
    ),
    host=True,
)
read_variable_p = primitive(
    "ReadVariableOp",
    lambda var: var._value,
    lambda var: AVal(var.shape, var.dtype),
    stateful=True,  # reads must stay ordered with assignments
    host=True,
    lowering=lambda ctx, var: ctx.read_variable(var),
)


_NO_VALUE = np.zeros((0,), np.int32)
_NO_VALUE.flags.writeable = False  # one shared empty result (read-only: no one can fill it)


def _assign_kernel(value, var, mode):
    var._apply(mode, value)
    return _NO_VALUE


assign_variable_p = primitive(
    "AssignVariableOp",
    _assign_kernel,
    lambda value, var, mode: AVal([0], _d.int32),
    stateful=True,
    host=True,
    lowering=lambda ctx, value, var, mode: ctx.assign_variable(var, mode, value),
)


class FuncGraph:
    """The graph of one traced function: operations in program order, inputs, outputs."""

    _ids = itertools.count()

    def __init__(self, name: str, outer: FuncGraph | None = None):
        self.name = name
        self.outer_graph = outer
        self.ops: list[Operation] = []
        self.inputs: list[SymbolicTensor] = []
        self.outputs: list[SymbolicTensor] = []
        self.captures: dict = {}  # id(outer tensor) -> (outer tensor, inner placeholder)
        self.variables: list = []  # variables this graph reads or writes
        self.created_variables: list = []
        self.lifted_reads: list = []  # (variable, placeholder fed by an outer read), per read
        self.feeds: dict = {}  # id(placeholder) -> the value of the call being traced
        self.structured_outputs = None
        self._const_cache: dict = {}
        self._names: dict = {}
        self._seed_counter = 0

    # building ---------------------------------------------------------------------------
    def _unique(self, base: str) -> str:
        n = self._names.get(base, 0)
        self._names[base] = n + 1
        return base if n == 0 else f"{base}_{n}"

    def add_op(self, prim: Primitive, inputs, params, avals, name=None) -> Operation:
        op = Operation(self, prim, params, list(inputs), self._unique(name or prim.name), None)
        if prim is not placeholder_p and prim is not const_p:
            op.site = user_call_site()
        avals = avals if isinstance(avals, tuple) else (avals,)
        op.outputs = [_symbolic(self, op, i, a) for i, a in enumerate(avals)]
        self.ops.append(op)
        return op

    def placeholder(self, shape, dtype, name="x") -> SymbolicTensor:
        op = self.add_op(placeholder_p, (), {}, AVal(TensorShape(shape), dtype), name=name)
        t = op.outputs[0]
        self.inputs.append(t)
        return t

    def constant(self, array: np.ndarray) -> SymbolicTensor:
        key = id(array)
        hit = self._const_cache.get(key)
        if hit is not None and hit[0] is array:
            return hit[1]
        dtype = _d.string if array.dtype == object else _d.from_numpy(array.dtype)
        op = self.add_op(
            const_p, (), {"value": array}, AVal(array.shape, dtype, array), name="Const"
        )
        t = op.outputs[0]
        self._const_cache[key] = (array, t)  # keeps `array` alive, so ids stay unique
        return t

    def capture(self, t) -> SymbolicTensor:
        """This graph's tensor for ``t``: a constant for eager values, a placeholder for
        tensors of an enclosing graph (filled by the control-flow op that owns this graph)."""
        if type(t) is EagerTensor:
            c = self.constant(t._value)
            if t.dtype is not c.dtype:  # strings / variant share the object storage
                c._dtype = t.dtype
            return c
        if t._graph is self:
            return t
        hit = self.captures.get(id(t))
        if hit is not None:
            return hit[1]
        if self.outer_graph is None or not self._encloses(t._graph):
            raise op_error(
                InvalidArgumentError,
                "capture",
                f"the tensor {t.name!r} belongs to another trace ({t._graph.name!r}); tensors "
                f"cannot be shared between separately traced functions",
            )
        outer = self.outer_graph.capture(t)  # through every level in between
        ph = self.placeholder(t.shape, t.dtype, name="capture")
        ph._const = getattr(t, "_const", None)
        self.captures[id(t)] = (outer, ph)
        return ph

    def _encloses(self, g) -> bool:
        o = self.outer_graph
        while o is not None:
            if o is g:
                return True
            o = o.outer_graph
        return False

    def capture_variable(self, var) -> SymbolicTensor:
        if all(v is not var for v in self.variables):
            self.variables.append(var)
        if self.outer_graph is not None:
            # A branch or loop body reads the variable in the enclosing graph, as an op
            # input, so gradients reach it (undone if the subgraph also assigns it). One
            # placeholder per read: if undone, each read must stay where it was made.
            ph = self.capture(self.outer_graph.capture_variable(var))
            ph._op.params = {"lifted_var": var}
            self.lifted_reads.append((var, ph))
            ph._tid = var._tid
            return ph
        out = self.add_op(read_variable_p, (), {"var": var}, AVal(var.shape, var.dtype)).outputs[0]
        out._tid = var._tid  # every read of a variable stands for the variable on tapes
        return out

    def assign_variable(self, var, value, mode, read_value):
        if all(v is not var for v in self.variables):
            self.variables.append(var)
        value = self.capture(value) if isinstance(value, Tensor) else value
        self.add_op(assign_variable_p, (value,), {"var": var, "mode": mode}, AVal([0], _d.int32))
        return var if read_value else None

    def variable_created(self, var):
        self.created_variables.append(var)

    # rill.core.interfaces.TracingGraph: what core and the ops layer ask of this graph ---
    def bind(self, prim: Primitive, inputs, params):
        """Record ``prim`` on ``inputs`` (see ``graph_bind``)."""
        return graph_bind(self, prim, inputs, params)

    # Graph-mode control flow builds subgraphs with FuncGraph, so it lives in
    # rill.tracing.control_flow, which imports this module: imported here at call time.
    def cond(self, pred, true_fn, false_fn):
        from rill.tracing.control_flow import graph_cond

        return graph_cond(pred, true_fn, false_fn)

    def while_loop(self, cond, body, loop_vars, shape_invariants, maximum_iterations):
        from rill.tracing.control_flow import graph_while_loop

        return graph_while_loop(cond, body, loop_vars, shape_invariants, maximum_iterations)

    def scan(self, step, init, elems, reverse):
        from rill.tracing.control_flow import graph_scan

        return graph_scan(step, init, elems, reverse)

    def lift_initial_value(self, t):
        """The concrete value of a tensor computed while tracing, for a variable's initial
        value: evaluable only if it does not depend on the function's inputs."""
        try:
            values = evaluate(self, [t], self.feeds)
        except _DependsOnInput:
            raise ValueError(
                "A tf.Variable created inside a rill.function has an initial value that "
                "depends on the function's inputs; create the variable outside the function "
                "or initialise it from constants (e.g. tf.zeros(shape))."
            ) from None
        return wrap(values[0], t.dtype)

    # inspection -------------------------------------------------------------------------
    def get_operations(self) -> list[Operation]:
        return list(self.ops)

    def get_operation_by_name(self, name: str) -> Operation:
        for op in self.ops:
            if op.name == name:
                return op
        raise KeyError(f"The name {name!r} refers to an Operation not in the graph.")

    def get_tensor_by_name(self, name: str) -> SymbolicTensor:
        """The tensor named ``"op_name:output_index"``."""
        if not isinstance(name, str):
            raise TypeError(f"Tensor names are strings (or similar), not {type(name).__name__}.")
        op_name, sep, index = name.rpartition(":")
        if not sep or not index.isdigit():
            raise ValueError(
                f"The name {name!r} looks a like an Operation name, not a Tensor name "
                "(a Tensor name is 'op_name:output_index', e.g. 'Identity:0')."
            )
        op = self.get_operation_by_name(op_name)
        i = int(index)
        if i >= len(op.outputs):
            raise KeyError(
                f"The name {name!r} refers to a Tensor which does not exist. The operation, "
                f"{op_name!r}, exists but only has {len(op.outputs)} outputs."
            )
        return op.outputs[i]

    def as_graph_def(self, from_version=None, add_shapes=False):
        """The graph as TF's ``GraphDef`` protocol buffer (needs ``rill[proto]``)."""
        from rill.tracing.graph_def import graph_to_graph_def

        return graph_to_graph_def(self, add_shapes=add_shapes)

    def as_default(self):
        """A context in which ops are added to this graph (symbolic: nothing runs)."""
        from rill.tracing.abstract import tracing

        return tracing(self)

    @property
    def building_function(self) -> bool:
        return self.outer_graph is not None or type(self) is FuncGraph

    @property
    def finalized(self) -> bool:
        return False

    @property
    def version(self) -> int:
        return len(self.ops)

    def to_dot(self) -> str:
        """The graph in Graphviz DOT: one node per op, edges labelled with shapes."""
        lines = [
            f'digraph "{self.name}" {{',
            "  rankdir=TB;",
            '  node [shape=box, fontname="Helvetica"];',
        ]
        ids = {id(op): f"n{i}" for i, op in enumerate(self.ops)}
        for op in self.ops:
            style = ""
            if op.prim is placeholder_p:
                style = ", shape=ellipse, style=filled, fillcolor=lightblue"
            elif op.prim is const_p:
                style = ", shape=ellipse, style=filled, fillcolor=lightgrey"
            elif op.prim.stateful:
                style = ", style=filled, fillcolor=lightyellow"
            lines.append(f'  {ids[id(op)]} [label="{op.name}\\n{op.type}"{style}];')
            for t in op.inputs:
                if id(t.op) in ids:
                    lines.append(
                        f'  {ids[id(t.op)]} -> {ids[id(op)]} [label="{t.dtype.name}{t.shape}"];'
                    )
        for i, t in enumerate(self.outputs):
            lines.append(
                f'  out{i} [label="output {i}", shape=ellipse, style=filled, fillcolor=palegreen];'
            )
            lines.append(f'  {ids[id(t.op)]} -> out{i} [label="{t.dtype.name}{t.shape}"];')
        lines.append("}")
        return "\n".join(lines)

    def to_svg(self) -> str:
        """The graph as SVG, rendered by Graphviz's ``dot`` (which must be installed)."""
        dot = shutil.which("dot")
        if dot is None:
            raise RuntimeError(
                "Graphviz's `dot` is not installed; use to_dot() and render it elsewhere."
            )
        return subprocess.run(
            [dot, "-Tsvg"], input=self.to_dot(), capture_output=True, text=True, check=True
        ).stdout

    def __repr__(self):
        return f"<rill.FuncGraph {self.name!r}: {len(self.ops)} ops>"


# --------------------------------------------------------------------------------------
# Tracing: every op while a graph is current comes here
# --------------------------------------------------------------------------------------

_FOLD_LIMIT = 1 << 16  # elements: fold constant subexpressions up to this size while tracing


def graph_bind(g: FuncGraph, prim: Primitive, inputs, params):
    """Record ``prim`` on ``inputs`` in ``g``: the shape rule gives the outputs' specs (and
    their values, where constants or static shapes fix them)."""
    ins = tuple(g.capture(t) for t in inputs)
    avals = tuple(AVal(t.shape, t.dtype, t._const) for t in ins)
    out = prim.shape_rule(*avals, **params)
    outs = out if isinstance(out, tuple) else (out,)
    if not prim.stateful:
        outs = _propagate_constants(prim, ins, params, avals, outs)
    op = g.add_op(prim, ins, params, outs)
    return op.outputs[0] if prim.n_out == 1 else tuple(op.outputs)


def _propagate_constants(prim, ins, params, avals, outs):
    """Fill in output values known at trace time (from constants, or from static shapes
    for Shape/Size/Rank), so shape-dependent code downstream sees concrete values."""
    if prim.shape_only and ins and ins[0].shape.is_fully_defined():
        vals = (None,) * len(outs)
    elif all(a.value is not None for a in avals) and all(
        a.shape.is_fully_defined() and a.shape.num_elements() <= _FOLD_LIMIT for a in avals
    ):
        vals = None
    else:
        return outs
    try:
        if vals is not None:  # shape ops: run on a stand-in of the right shape
            dummy = np.lib.stride_tricks.as_strided(
                np.zeros(1), ins[0].shape.as_list(), [0] * ins[0].shape.rank
            )
            r = prim.kernel(dummy, **params)
        else:
            r = prim.kernel(*[a.value for a in avals], **params)
    except Exception:  # noqa: BLE001 - the kernel will raise the real error at run time
        return outs
    rs = r if prim.n_out != 1 else (r,)
    return tuple(AVal(o.shape, o.dtype, np.asarray(v)) for o, v in zip(outs, rs))


class _DependsOnInput(Exception):
    pass


def evaluate(graph: FuncGraph, tensors, feeds=None) -> list:
    """Concrete values of graph tensors that depend only on constants, variables and the
    placeholders in ``feeds``."""
    memo = dict(feeds or {})

    def value(t):
        key = id(t)
        if key in memo:
            return memo[key]
        if t._const is not None:
            memo[key] = t._const
            return t._const
        op = t._op
        if op.prim is placeholder_p:
            raise _DependsOnInput()
        args = [value(x) for x in op.inputs]
        r = op.prim.kernel(*args, **op.params)
        rs = r if op.prim.n_out != 1 else (r,)
        for o, v in zip(op.outputs, rs):
            memo[id(o)] = np.asarray(v)
        return memo[key]

    return [value(t) for t in tensors]


# --------------------------------------------------------------------------------------
# Replay: run a graph's ops through the dispatcher (recorded by tapes, or into a graph)
# --------------------------------------------------------------------------------------


def replay(graph: FuncGraph, args, outputs=None, effects=True) -> list:
    """Run ``graph`` op by op through ``bind`` with ``args`` for its inputs (eager tensors,
    or tensors of the graph being traced). Tapes record every op, so this is how a traced
    function is differentiated: as the ops it is made of. ``effects=False`` skips its
    variable assignments: a gradient replays a body whose effects the forward pass had
    already (a loop's counter must not count twice)."""
    env = {id(ph): a for ph, a in zip(graph.inputs, args)}
    for op in graph.ops:
        prim = op.prim
        if prim is placeholder_p:
            continue
        if prim is const_p:
            v = op.outputs[0]
            env[id(v)] = wrap(op.params["value"], v.dtype)
            continue
        if prim is read_variable_p:
            env[id(op.outputs[0])] = op.params["var"]._read()
            continue
        if prim is assign_variable_p:
            if effects:
                var = op.params["var"]
                var._update(op.params["mode"], env[id(op.inputs[0])], False)
            continue
        ins = tuple(env[id(t)] for t in op.inputs)
        params = op.params
        if prim.keeps_history and not params["keep_history"] and _dispatch.recording():
            params = {**params, "keep_history": True}  # a tape now records this loop
        out = _dispatch.bind(prim, ins, params)
        outs = out if isinstance(out, tuple) else (out,)
        for o, v in zip(op.outputs, outs):
            env[id(o)] = v
    return [
        env[id(t)] if id(t) in env else t
        for t in (outputs if outputs is not None else graph.outputs)
    ]


class _GraphMeta(type):
    # every FuncGraph is a tf.Graph, as TF's FuncGraph subclasses Graph
    def __instancecheck__(cls, obj):
        return isinstance(obj, FuncGraph)


class Graph(FuncGraph, metaclass=_GraphMeta):
    """``tf.Graph``: a graph ops are added to under ``as_default()``. Its tensors are
    symbolic (nothing runs them: rill has no ``Session``); inspect it with
    ``get_operations()``, ``get_tensor_by_name()`` and ``as_graph_def()``."""

    def __init__(self):
        super().__init__("graph")


def _export_graph_classes():
    from rill.ops._op import tf_export

    tf_export("Graph")(Graph)
    tf_export("Operation")(Operation)


_export_graph_classes()
