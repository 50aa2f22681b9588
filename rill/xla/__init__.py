"""A compiler behind ``jit_compile``: rill graphs lowered to XLA through JAX.

``rill.function(jit_compile=True)`` lowers each concrete function's optimised graph into
one JAX function (each op through its primitive's ``lowering`` fact, or its kernel called
with ``xp=jax.numpy``) and ``jax.jit``-s it. JAX is optional (``pip install "rill[xla]"``)
and imported only when a compiled function is first built.
"""

from __future__ import annotations

from rill.backend.jax_runtime import available, install_hint
from rill.xla.context import LoweringContext, NotLowerable
from rill.xla.jit import XlaPlan, compile_graph_xla, lowers

__all__ = [
    "available",
    "install_hint",
    "LoweringContext",
    "NotLowerable",
    "XlaPlan",
    "compile_graph_xla",
    "lowers",
]
