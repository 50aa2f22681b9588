"""``tf.gradients`` and ``tf.hessians``: symbolic differentiation of the graph being
traced (TF's graph-mode API; eagerly, TF and rill point to ``tf.GradientTape``).

The graph's operations are replayed, in creation order, as the entries of a tape that
watches every tensor; its backward pass then adds the gradient ops to the same graph."""

from __future__ import annotations

from rill.core import dispatch as _dispatch
from rill.core import nest
from rill.core.tape import GradientTape, UnconnectedGradients
from rill.ops._op import convert_to_tensor, tf_export

_REGISTRY: dict = {}


@tf_export("RegisterGradient")
class RegisterGradient:
    """Decorator registering a gradient function for ops of type ``op_type`` (TF's
    registry; registering a type twice raises KeyError, as TF does)."""

    def __init__(self, op_type: str):
        if not isinstance(op_type, str):
            raise TypeError("op_type must be a string")
        self._op_type = op_type

    def __call__(self, f):
        _register(self._op_type, f)
        return f


def _register(op_type: str, f) -> None:
    if op_type in _REGISTRY or op_type in _dispatch.REGISTRY:
        raise KeyError(f"Registering two gradient with name '{op_type}'!")
    _REGISTRY[op_type] = f


@tf_export("no_gradient")
def no_gradient(op_type: str) -> None:
    """Declare that ops of type ``op_type`` have no gradient."""
    if not isinstance(op_type, str):
        raise TypeError("op_type must be a string")
    _register(op_type, None)


def _graph_tape(graph, stop) -> GradientTape:
    tape = GradientTape(persistent=True)
    entries, watched = [], set()
    for op in graph.ops:
        outs = tuple(op.outputs)
        for t in list(op.inputs) + list(outs):
            watched.add(_dispatch.tid_of(t))
        if any(_dispatch.tid_of(o) in stop for o in outs):
            continue  # a stop_gradients tensor: nothing flows back through its op
        entries.append((op.prim, op.params, tuple(op.inputs), outs))
    for t in graph.inputs:
        watched.add(_dispatch.tid_of(t))
    tape._entries = entries
    tape._watched = watched
    return tape


@tf_export("gradients")
def gradients(
    ys,
    xs,
    grad_ys=None,
    name="gradients",
    gate_gradients=False,
    aggregation_method=None,
    stop_gradients=None,
    unconnected_gradients=UnconnectedGradients.NONE,
):
    """The symbolic partial derivatives of ``sum(ys)`` with respect to each of ``xs``
    (a list, one entry per x; None where unconnected), inside a traced function."""
    graph = _dispatch.state.graph
    if graph is None:
        raise RuntimeError(
            "tf.gradients is not supported when eager execution is enabled. Use "
            "tf.GradientTape instead."
        )
    ys = [convert_to_tensor(y) for y in nest.flatten(ys)]
    xs_list = nest.flatten(xs)
    stop = {_dispatch.tid_of(convert_to_tensor(s)) for s in nest.flatten(stop_gradients or [])}
    tape = _graph_tape(graph, stop)
    og = None if grad_ys is None else nest.flatten(grad_ys)
    if og is not None and len(og) != len(ys):
        raise ValueError(f"gradients: {len(og)} grad_ys for {len(ys)} ys; pass one per y (or None)")
    out = tape.gradient(
        ys, xs_list, output_gradients=og, unconnected_gradients=unconnected_gradients
    )
    return list(out)


@tf_export("hessians")
def hessians(ys, xs, gate_gradients=False, aggregation_method=None, name="hessians"):
    """For each x, the Hessian of ``sum(ys)``: shape ``x.shape + x.shape`` (inside a traced
    function; x's shape must be known)."""
    from rill.ops.array_ops import reshape, stack, zeros_like

    xs_list = nest.flatten(xs)
    grads = gradients(ys, xs_list)
    out = []
    for x, g in zip(xs_list, grads):
        if g is None:
            out.append(None)
            continue
        x = convert_to_tensor(x)
        n = x.shape.num_elements()
        if n is None:
            raise ValueError(f"hessians: the shape of {x.name} must be known, got {x.shape}")
        flat = reshape(convert_to_tensor(g), [-1])
        rows = []
        for i in range(n):
            (h,) = gradients(flat[i], [x])
            rows.append(reshape(zeros_like(x) if h is None else convert_to_tensor(h), [-1]))
        dims = x.shape.as_list()
        out.append(reshape(stack(rows), dims + dims))
    return out
