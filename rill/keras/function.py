"""``keras.Function``: the graph of operations between KerasTensor inputs and outputs,
callable on values (what a functional ``Model`` runs, without weights tracking or
training)."""

from __future__ import annotations

from rill.keras.naming import unique_name
from rill.keras.operation import Operation

__all__ = ["Function"]


class Function(Operation):
    """A callable graph from ``inputs`` (``keras.Input`` tensors, possibly nested) to
    ``outputs`` (KerasTensors computed from them)."""

    def __init__(self, inputs, outputs, name=None):
        from rill.keras.functional import _Graph

        super().__init__(name or unique_name("function"))
        self._graph = _Graph(self.name, inputs, outputs)

    @property
    def inputs(self):
        return self._graph.inputs

    @property
    def outputs(self):
        return self._graph.outputs

    @property
    def operations(self) -> list:
        return list(self._graph.operations)

    def call(self, inputs, training=None):
        """The outputs' values for ``inputs`` (structured like the graph's inputs)."""
        return self._graph.run(inputs, training=training)

    def __repr__(self):
        return f"<Function name={self.name}>"
