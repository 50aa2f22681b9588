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


def _integer_mask(inputs):
    return [x.dtype.kind in "iu" for x in inputs]


def lower_case(prim, inputs, params):
    """``(outputs as NumPy arrays, None, the positions of the integer inputs that must be
    host constants)`` or ``(None, the reason it does not lower, None)``. The positions are
    found by tracing each integer input alone, the others kept constant, where the case
    does not lower with every input traced."""
    if any(x.dtype.kind in "OSUV" for x in inputs):
        return None, "strings or variant inputs, which XLA has no type for", None
    traced = [False] * len(inputs)
    outs, reason = _lower_with_masks(prim, inputs, params, [traced])
    if reason is None:
        return outs, None, set()
    ints = _integer_mask(inputs)
    outs, reason = _lower_with_masks(prim, inputs, params, [ints])
    if reason is not None:
        return None, reason, None
    needed = set()
    for i, is_int in enumerate(ints):
        if is_int:
            mask = [c and j != i for j, c in enumerate(ints)]
            if _lower_with_masks(prim, inputs, params, [mask], values=False)[1] is not None:
                needed.add(i)
    return outs, None, needed


def _lower_with_masks(prim, inputs, params, masks, values=True):
    """Lower with the inputs of each mask's False positions traced, trying the masks in
    turn: (outputs, None) from the first that lowers (outputs None unless ``values``), or
    (None, the last reason)."""
    jax = load()
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
            if not values:
                return None, None
            outs = f(dyn)  # eager: the values
        except NotLowerable as e:
            reason = e.reason
            continue
        except Exception as e:  # noqa: BLE001 - recorded as the reason
            reason = f"{type(e).__name__}: {str(e)[:200]}"
            continue
        return [np.asarray(o) for o in outs], None
    return None, reason
