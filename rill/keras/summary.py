"""``Model.summary()``: the layer table Keras 3 prints (box-drawn, ``Connected to`` for
functional models with branches), and the parameter totals with their sizes in bytes."""

from __future__ import annotations

import textwrap

import numpy as np

__all__ = ["print_summary"]


def _size(variables) -> tuple[int, int]:
    count = sum(int(np.prod(v.shape.as_list(), dtype=np.int64)) for v in variables)
    nbytes = sum(
        int(np.prod(v.shape.as_list(), dtype=np.int64)) * v.dtype.np.itemsize for v in variables
    )
    return count, nbytes


def _human(nbytes: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if nbytes < 1024 or unit == "GB":
            return f"{nbytes:.2f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.2f} GB"  # pragma: no cover


def _shape_str(shape) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, (list, tuple)) and shape and not isinstance(shape[0], (int, type(None))):
        return ", ".join(_shape_str(s) for s in shape)
    return str(tuple(shape))


def _rows(model, functional: bool):
    from rill.keras.input_layer import InputLayer

    graph = model._graph
    rows = []
    layers = graph.layers if functional else model.layers
    for layer in layers:
        if not functional and isinstance(layer, InputLayer):
            continue
        if graph is not None and layer.__dict__.get("_inbound_nodes"):
            nodes = [
                n for n in layer._inbound_nodes if id(n) in graph.node_set
            ] or layer._inbound_nodes
            outs = [list(t.shape) for t in nodes[0].output_tensors]
            shape = _shape_str(outs[0] if len(outs) == 1 else outs)
        else:
            shape = _shape_str(getattr(layer, "_last_output_shape", None))
        params = f"{_size(layer.weights)[0]:,}" if layer.built else "0 (unbuilt)"
        row = [f"{layer.name} ({type(layer).__name__})", shape, params]
        if functional:
            links = []
            for node in layer.__dict__.get("_inbound_nodes", []):
                if graph is not None and id(node) not in graph.node_set:
                    continue
                for t in node.input_tensors:
                    op, ni, ti = t._keras_history
                    links.append(f"{op.name}[{ni}][{ti}]")
            row.append(", ".join(links) or "-")
        rows.append(row)
    return rows


def _cells(text: str, width: int) -> list[str]:
    """``text`` wrapped to ``width`` at spaces (so "a[0][0], b[0][0]" breaks after a comma)."""
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


def print_summary(model, line_length=None, positions=None, print_fn=None) -> None:
    """Print ``model``'s layers, output shapes and parameter counts like Keras 3."""
    from rill.keras.models import Sequential

    print_fn = print_fn or print
    functional = model._graph is not None and not isinstance(model, Sequential)
    if functional:  # Keras drops "Connected to" when the graph is a plain chain
        nodes = model._graph.run_nodes
        functional = any(len(n.input_tensors) != 1 for n in nodes) or len(
            {id(t) for n in nodes for t in n.input_tensors}
        ) != len(nodes)
    headers = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if functional else [])
    rows = _rows(model, functional)
    if functional:  # sized to the content, within an 80-column terminal like rich does
        natural = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
        budget = (line_length or 76) - 3 * len(headers) - 1
        widths = natural[:]
        while sum(widths) > budget and max(widths) > 12:
            widths[widths.index(max(widths))] -= 1
    else:
        widths = [31, 22, 13] if line_length is None else [
            max(8, int((line_length - 10) * f)) for f in (0.43, 0.31, 0.18)
        ]  # fmt: skip
    aligns = ["<", "<", ">", "<"]

    def line(cells_per_col):
        height = max(len(c) for c in cells_per_col)
        out = []
        for k in range(height):
            parts = []
            for col, (cells, w) in enumerate(zip(cells_per_col, widths)):
                text = cells[k] if k < len(cells) else ""
                parts.append(" " + format(text, f"{aligns[col]}{w}") + " ")
            out.append("\u2502" + "\u2502".join(parts) + "\u2502")
        return out

    def rule(left, mid, right, fill):
        return left + mid.join(fill * (w + 2) for w in widths) + right

    print_fn(f'Model: "{model.name}"')
    print_fn(rule("\u250f", "\u2533", "\u2513", "\u2501"))
    header = (
        "\u2503"
        + "\u2503".join(
            " " + format(h, f"{aligns[i]}{w}") + " "
            for i, (h, w) in enumerate(zip(headers, widths))
        )
        + "\u2503"
    )
    print_fn(header)
    print_fn(rule("\u2521", "\u2547", "\u2529", "\u2501"))
    for i, row in enumerate(rows):
        for text in line([_cells(c, w) for c, w in zip(row, widths)]):
            print_fn(text)
        if i < len(rows) - 1:
            print_fn(rule("\u251c", "\u253c", "\u2524", "\u2500"))
    print_fn(rule("\u2514", "\u2534", "\u2518", "\u2500"))
    total, total_b = _size(model.weights)
    trainable, trainable_b = _size(model.trainable_weights)
    print_fn(f" Total params: {total:,} ({_human(total_b)})")
    print_fn(f" Trainable params: {trainable:,} ({_human(trainable_b)})")
    print_fn(f" Non-trainable params: {total - trainable:,} ({_human(total_b - trainable_b)})")
    opt = getattr(model, "optimizer", None)
    if opt is not None and getattr(opt, "_trainable_variables", None):
        count, nbytes = _size(opt.variables)
        print_fn(f" Optimizer params: {count:,} ({_human(nbytes)})")
