"""Questions about functional-API tensors: ``is_keras_tensor``, ``get_source_inputs``."""

from __future__ import annotations

from rill.keras.backend import is_keras_tensor

__all__ = ["is_keras_tensor", "get_source_inputs"]


def get_source_inputs(tensor) -> list:
    """The ``keras.Input`` tensors that ``tensor`` is computed from (in first-seen order,
    each once); a tensor with no layer history is its own source."""
    history = getattr(tensor, "_keras_history", None)
    if not history or not history[0] or not history[0]._inbound_nodes:
        return [tensor] if hasattr(tensor, "_keras_history") else tensor
    # iterative depth-first walk: deep models would overflow a recursive one
    sources: list = []
    stack = [tensor]
    while stack:
        t = stack.pop()
        history = getattr(t, "_keras_history", None)
        if not history or not history[0] or not history[0]._inbound_nodes:
            found = [t]
        else:
            node = history[0]._inbound_nodes[history[1]]
            if not node.is_input:
                stack.extend(reversed(node.input_tensors))
                continue
            found = list(node.output_tensors)
        for s in found:
            if all(s is not x for x in sources):
                sources.append(s)
    return sources
