"""``Operation``, what a node of a functional graph calls (a layer, or an operator applied
to KerasTensors), and ``Node``, one recorded call; as Keras 3's ``keras.src.ops``.

Called on values, an operation computes. Called on KerasTensors, it runs once abstractly:
its eager computation is traced on placeholders of a scratch graph
(``rill.tracing.abstract``), so the ops' shape rules (the same definitions eager execution
and ``rill.function`` use) give the outputs' shapes and dtypes, a layer's weights are
created, and nothing is computed. The call is recorded as a ``Node`` of the operation;
``keras.Model(inputs, outputs)`` walks the nodes back from its outputs (``functional``).
"""

from __future__ import annotations

from rill.core import nest
from rill.core.tensor import TensorSpec
from rill.keras.keras_tensor import KerasTensor
from rill.tracing.abstract import trace_abstract

__all__ = ["Operation", "Node", "any_keras_tensor", "symbolic_outputs"]


def any_keras_tensor(structure) -> bool:
    """Whether the nested ``structure`` holds a KerasTensor (a call on it is symbolic)."""
    for x in nest.flatten(structure):
        if isinstance(x, KerasTensor):
            return True
    return False


def _keras_tensor_spec(x):
    return TensorSpec(x.shape, x.dtype) if isinstance(x, KerasTensor) else None


def symbolic_outputs(name, fn, args, kwargs):
    """Run ``fn(*args, **kwargs)`` abstractly, each KerasTensor replaced by a placeholder of
    a scratch graph (shape rules only, no kernels); its outputs as KerasTensors."""
    _, out = trace_abstract(fn, args, kwargs, name=f"{name}_symbolic", spec_of=_keras_tensor_spec)
    return nest.map_structure(lambda t: KerasTensor(t.shape, t.dtype), out)


class Node:
    """One call of an operation (a layer, or an operator like ``+``) on KerasTensors."""

    def __init__(self, operation, args, kwargs, outputs):
        self.operation = operation
        self.args = tuple(args)
        self.kwargs = dict(kwargs)
        self.input_tensors = [
            x for x in nest.flatten((self.args, self.kwargs)) if isinstance(x, KerasTensor)
        ]
        self.outputs = outputs
        self.output_tensors = nest.flatten(outputs)
        nodes = operation._inbound_nodes
        nodes.append(self)
        for i, t in enumerate(self.output_tensors):
            t._keras_history = (operation, len(nodes) - 1, i)

    @property
    def parent_nodes(self) -> list:
        out = []
        for t in self.input_tensors:
            op, ni, _ = t._keras_history
            out.append(op._inbound_nodes[ni])
        return out

    @property
    def is_input(self) -> bool:
        """A model input's node (an InputLayer's): the one kind of call with no inputs."""
        return not self.input_tensors


class Operation:
    """Base of what functional graphs call: ``Layer`` and the operator nodes.

    Subclasses implement ``call``; ``__call__`` computes on values and records a ``Node``
    on KerasTensors (``symbolic_call``). ``input`` and ``output`` are the KerasTensors of
    the first recorded call.
    """

    _kind = "Operation"  # how error messages name it

    def __init__(self, name: str):
        self.name = name
        self._inbound_nodes = []  # a Node per call on KerasTensors, in call order

    def __call__(self, *args, **kwargs):
        if any_keras_tensor((args, kwargs)):
            return self.symbolic_call(*args, **kwargs)
        return self.call(*args, **kwargs)

    def call(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not implement `call()`.")

    def symbolic_call(self, *args, **kwargs):
        """Call on KerasTensors: infer the outputs abstractly and record the call as a Node."""
        outputs = self._symbolic_outputs(args, kwargs)
        Node(self, args, kwargs, outputs)
        return outputs

    def _symbolic_outputs(self, args, kwargs):
        """The output KerasTensors of a call on KerasTensors: ``call``, traced abstractly."""
        return symbolic_outputs(self.name, self.call, args, kwargs)

    # the functional API ---------------------------------------------------------------------
    def _node_tensors(self, attr):
        nodes = self.__dict__.get("_inbound_nodes")
        if not nodes:
            raise AttributeError(
                f"{self._kind} {self.name!r} has never been called on a keras.Input, so it has "
                f"no `{attr}`."
            )
        node = nodes[0]
        if attr == "input":
            return node.args[0] if node.args else node.outputs
        return node.outputs

    @property
    def input(self):
        """The KerasTensor(s) of the first call on KerasTensors (functional API)."""
        return self._node_tensors("input")

    @property
    def output(self):
        """The KerasTensor(s) the first call on KerasTensors produced (functional API)."""
        return self._node_tensors("output")
