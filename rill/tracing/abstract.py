"""Tracing a Python function abstractly: specs in, a ``FuncGraph`` out.

``trace_abstract`` makes a graph, a placeholder for each input spec, and runs the function
with that graph current: every op it calls then runs its shape rule instead of its kernel
(``graph.graph_bind``) and is appended to the graph. ``rill.function``, graph-mode
``cond``/``while_loop``/``scan`` and their gradients, ``Dataset.map``, Keras'
``compute_output_shape`` and the functional API all trace through it.
"""

from __future__ import annotations

import contextlib

import numpy as np

from rill.core import dispatch as _dispatch
from rill.core import nest
from rill.core.tensor import Tensor, TensorSpec
from rill.tracing.graph import FuncGraph

__all__ = ["trace_abstract", "tracing"]


@contextlib.contextmanager
def tracing(graph: FuncGraph):
    """Make ``graph`` the one ops are added to (on this thread)."""
    st = _dispatch.state
    prev = st.graph
    st.graph = graph
    _dispatch._adjust_slow(+1)
    try:
        yield graph
    finally:
        st.graph = prev
        _dispatch._adjust_slow(-1)


def _default_spec(x):
    """TensorSpecs and composite specs are inputs (SparseTensor and RaggedTensor values
    count as composite specs: a value describes its own relaxed spec)."""
    return x if isinstance(x, TensorSpec) or hasattr(x, "_rill_component_specs") else None


def _placeholders(graph: FuncGraph, spec):
    """The value standing for ``spec`` in ``graph``: a placeholder for a TensorSpec, a
    composite rebuilt from one placeholder per component otherwise."""
    if isinstance(spec, TensorSpec):
        return graph.placeholder(spec.shape, spec.dtype, name=spec.name or "x")
    if hasattr(spec, "_rill_component_specs"):  # SparseTensorSpec, RaggedTensorSpec...
        comps = spec._rill_component_specs()
        phs = [graph.placeholder(c.shape, c.dtype, name="component") for c in comps]
        return spec._rill_from_components(phs)
    # a composite value without specs (TensorArray, IndexedSlices): shaped like its parts
    comps = spec._rill_components()
    phs = [graph.placeholder(c.shape, c.dtype, name="component") for c in comps]
    return spec._rill_rebuild(phs)


def trace_abstract(fn, args=(), kwargs=None, *, name, outer=None, spec_of=None, feeds=None):
    """Trace ``fn(*args, **kwargs)`` into a new ``FuncGraph`` named ``name``, with the input
    leaves of ``args`` and ``kwargs`` (nested structures) replaced by placeholders of the
    graph; returns ``(graph, result)``. Nothing is computed: ops run their shape rules.

    - ``spec_of(leaf)``: the spec a leaf stands for, or None for a leaf passed to ``fn`` as
      it is. By default TensorSpecs and composite specs are inputs, nothing else. A
      TensorSpec gives one placeholder (named by the spec, else ``x``); a composite spec,
      or a composite value (a TensorArray), one per component.
    - ``outer``: the graph being traced that this one is a subgraph of (a branch or loop
      body); its tensors used by ``fn`` are captured as extra placeholders.
    - ``feeds``: the values of the call being traced, one per placeholder (tensors or
      arrays), when known: a variable created while tracing may take its initial value
      from them.

    ``fn``'s result is returned as it is; callers capture or convert its leaves.
    """
    graph = FuncGraph(name, outer)
    spec_of = _default_spec if spec_of is None else spec_of

    def feed(x):
        spec = spec_of(x)
        return x if spec is None else _placeholders(graph, spec)

    args = nest.map_structure(feed, args)
    kwargs = nest.map_structure(feed, kwargs) if kwargs else {}
    if feeds is not None and len(feeds) == len(graph.inputs):
        graph.feeds = {
            id(ph): np.asarray(v._value if isinstance(v, Tensor) else v)
            for ph, v in zip(graph.inputs, feeds)
        }
    with tracing(graph):
        result = fn(*args, **kwargs)
    return graph, result
