"""``plot_model`` / ``model_to_dot``: a model's layer graph as Graphviz DOT, through pydot
(optional: ``pip install pydot`` and Graphviz's ``dot`` program for images)."""

from __future__ import annotations

import html
import os


def _pydot():
    try:
        import pydot
    except ImportError:
        raise ImportError(
            "You must install pydot (`pip install pydot`) and Graphviz "
            "(https://graphviz.org/download/) for model_to_dot / plot_model to work."
        ) from None
    return pydot


def _shape_text(value) -> str:
    if value is None:
        return "?"
    if isinstance(value, dict):
        value = list(value.values())
    # KerasTensors iterate (like tensors), so only real containers are unpacked
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    try:
        shapes = [tuple(t.shape.as_list() if hasattr(t.shape, "as_list") else t.shape)
                  for t in values]  # fmt: skip
    except (AttributeError, ValueError):
        return "?"
    return str(shapes[0]) if len(shapes) == 1 else ", ".join(map(str, shapes))


def _label(layer, show_shapes, show_dtype, show_layer_names, show_layer_activations,
           show_trainable) -> str:  # fmt: skip
    kind = type(layer).__name__
    title = f"<b>{html.escape(layer.name)}</b> ({kind})" if show_layer_names else f"<b>{kind}</b>"
    rows = [title]
    activation = getattr(layer, "activation", None)
    if show_layer_activations and activation is not None:
        name = getattr(activation, "__name__", None) or str(activation)
        rows.append(f"Activation: <b>{html.escape(name)}</b>")
    cols = []
    if show_shapes:
        if kind != "InputLayer":
            cols.append(f"Input shape: <b>{_shape_text(_safe(layer, 'input'))}</b>")
        cols.append(f"Output shape: <b>{_shape_text(_safe(layer, 'output'))}</b>")
    if show_dtype:
        out = _safe(layer, "output")
        dtype = getattr(getattr(out, "dtype", None), "name", None)
        cols.append(f"Output dtype: <b>{dtype or '?'}</b>")
    if show_trainable and getattr(layer, "weights", None):
        cols.append("<b>Trainable</b>" if layer.trainable else "<b>Non-trainable</b>")
    width = max(1, len(cols))
    table = '<<table border="0" cellborder="1" cellpadding="10">'
    for row in rows:
        table += f'<tr><td colspan="{width}">{row}</td></tr>'
    if cols:
        table += "<tr>" + "".join(f"<td>{c}</td>" for c in cols) + "</tr>"
    return table + "</table>>"


def _safe(layer, attr):
    try:
        return getattr(layer, attr)
    except (AttributeError, ValueError):
        return None


def _layers_and_edges(model):
    """The layers to draw and the (source, destination) pairs between them."""
    from rill.keras.models import Sequential

    if isinstance(model, Sequential):
        layers = list(model.layers)
        return layers, list(zip(layers, layers[1:]))
    graph = getattr(model, "_graph", None)
    if graph is None:  # a subclassed model: its graph is Python code, drawn as one box
        return [model], []
    layers = list(graph.operations)
    edges = []
    for node in graph.nodes:
        if node.is_input:
            continue
        for t in node.input_tensors:
            source = t._keras_history[0] if t._keras_history else None
            if source is not None and (source, node.operation) not in edges:
                edges.append((source, node.operation))
    return layers, edges


def model_to_dot(
    model,
    show_shapes=False,
    show_dtype=False,
    show_layer_names=True,
    rankdir="TB",
    expand_nested=False,
    dpi=200,
    subgraph=False,
    show_layer_activations=False,
    show_trainable=False,
    splines="ortho",
    **kwargs,
):
    """A ``pydot.Dot`` graph (a ``pydot.Cluster`` with ``subgraph``) with one node per layer
    and an edge per connection; ``expand_nested`` draws nested models as clusters."""
    if not model.built:
        raise ValueError(
            "This model has not yet been built. Build the model first by calling `build()` or "
            "by calling the model on a batch of data."
        )
    pydot = _pydot()
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name)
        dot.set("label", model.name)
        dot.set("labeljust", "l")
    else:
        dot = pydot.Dot()
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set("splines", splines)
        dot.set_node_defaults(shape="record")
    options = (show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable)
    layers, edges = _layers_and_edges(model)
    from rill.keras.models import Model

    for layer in layers:
        if expand_nested and isinstance(layer, Model) and layer is not model:
            dot.add_subgraph(
                model_to_dot(layer, show_shapes, show_dtype, show_layer_names, rankdir,
                             expand_nested, dpi, True, show_layer_activations, show_trainable)
            )  # fmt: skip
            continue
        node = pydot.Node(str(id(layer)), label=_label(layer, *options))
        node.set("fontname", "Helvetica")
        node.set("border", "0")
        node.set("margin", "0")
        dot.add_node(node)
    for src, dst in edges:
        if expand_nested:  # connect to the first/last layer inside a drawn cluster
            while isinstance(src, Model) and _layers_and_edges(src)[0]:
                src = _layers_and_edges(src)[0][-1]
            while isinstance(dst, Model) and _layers_and_edges(dst)[0]:
                dst = _layers_and_edges(dst)[0][0]
        edge = pydot.Edge(str(id(src)), str(id(dst)))
        edge.set("penwidth", "2")
        dot.add_edge(edge)
    return dot


def plot_model(
    model,
    to_file="model.png",
    show_shapes=False,
    show_dtype=False,
    show_layer_names=False,
    rankdir="TB",
    expand_nested=False,
    dpi=200,
    show_layer_activations=False,
    show_trainable=False,
    splines="ortho",
    **kwargs,
):
    """Draw the model's graph into ``to_file`` (format from its extension, PNG by default)
    with Graphviz."""
    if not model.built:
        raise ValueError(
            "This model has not yet been built. Build the model first by calling `build()` or "
            "by calling the model on a batch of data."
        )
    pydot = _pydot()
    try:
        pydot.Dot.create(pydot.Dot())
    except (OSError, getattr(pydot, "PydotException", OSError)):
        raise ImportError(
            "You must install Graphviz (see instructions at https://graphviz.org/download/) "
            "for `plot_model` to work: its `dot` program was not found."
        ) from None
    dot = model_to_dot(
        model, show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
        rankdir=rankdir, expand_nested=expand_nested, dpi=dpi,
        show_layer_activations=show_layer_activations, show_trainable=show_trainable,
        splines=splines, **kwargs,
    )  # fmt: skip
    to_file = str(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    dot.write(to_file, format=extension)
    if extension != "pdf":
        try:
            from IPython import display

            return display.Image(filename=to_file)
        except ImportError:
            pass
    return None
