"""Graph functions: tracing Python into graphs, optimising and running them.

``rill.function`` (the decorator) lives in ``polymorphic``; graphs in ``graph``; tracing a
function abstractly (specs in, a graph out: ``trace_abstract``) in ``abstract``; the
optimiser and code generator in ``executor``; graph-mode control flow in ``control_flow``.
"""

from rill.tracing.graph import FuncGraph, Operation, SymbolicTensor
from rill.tracing.polymorphic import ConcreteFunction, Function, RetracingWarning, function
from rill.tracing import control_flow  # noqa: F401 - installs graph-mode cond/while_loop
from rill.tracing import gradients as _gradients  # noqa: F401 - tf.gradients, tf.hessians
