"""Lower one registry case of a primitive, as the graph lowering would, for the
registry-wide checks: inputs traced as JAX values (integer ones, which are shapes, axes
and indices in practice, kept as host constants when the op needs them known)."""

from __future__ import annotations

import numpy as np

from rill.backend.jax_runtime import load
from rill.xla.context import LoweringContext, NotLowerable


def _call(prim, ctx, ins, params):
    if prim.lowering is not None:
        return prim.lowering(ctx, *ins, **params)
    if prim.host:
        raise NotLowerable(f"{prim.name} runs on the host and has no lowering")
    return prim.kernel_for(ctx.jnp)(*ins, **params)


def _split(inputs, const_mask):
    return [x for x, c in zip(inputs, const_mask) if not c]


def _fill(inputs, const_mask, dyn):
    it = iter(dyn)
    return [x if c else next(it) for x, c in zip(inputs, const_mask)]


def lower_case(prim, inputs, params):
    """(outputs as NumPy arrays, None) or (None, the reason it does not lower)."""
    jax = load()
    if any(x.dtype.kind in "OSUV" for x in inputs):
        return None, "strings or variant inputs, which XLA has no type for"
    masks = [[False] * len(inputs), [x.dtype.kind in "iu" for x in inputs]]
    reason = None
    for mask in masks:

        def f(dyn, mask=mask):
            var = params.get("var")  # variable ops: the variable's value as the state
            state = {} if var is None else {id(var): jax.numpy.asarray(var._value)}
            ctx = LoweringContext(jax, state)
            r = _call(prim, ctx, _fill(inputs, mask, dyn), params)
            rs = r if prim.n_out != 1 else (r,)
            return [jax.numpy.asarray(v) for v in rs]

        dyn = [jax.numpy.asarray(x) for x in _split(inputs, mask)]
        try:
            jax.make_jaxpr(f)(dyn)  # traces: what jit would see
            outs = f(dyn)  # eager: the values
        except NotLowerable as e:
            reason = e.reason
            continue
        except Exception as e:  # noqa: BLE001 - recorded as the reason
            reason = f"{type(e).__name__}: {str(e)[:200]}"
            continue
        return [np.asarray(o) for o in outs], None
    return None, reason
