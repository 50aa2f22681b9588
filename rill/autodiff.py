"""``tf.autodiff``: ``GradientTape`` and ``ForwardAccumulator`` (forward-mode JVPs)."""

from __future__ import annotations

from rill.core import nest
from rill.core.convert import convert_to_tensor
from rill.core.tape import GradientTape, UnconnectedGradients
from rill.ops.array_ops import zeros_like

__all__ = ["ForwardAccumulator", "GradientTape"]


class ForwardAccumulator:
    """Jacobian-vector products of computations run inside ``with acc:``:
    ``acc.jvp(y)`` is the directional derivative of ``y`` along ``tangents`` at
    ``primals``. rill obtains it from two reverse passes: the gradient ``J^T u`` for a
    placeholder cotangent ``u`` is linear in ``u``, and its own gradient along the
    tangents is ``J v``."""

    def __init__(self, primals, tangents):
        self._primals = nest.flatten(primals)
        flat_t = nest.flatten(tangents)
        if len(self._primals) != len(flat_t):
            raise ValueError(
                f"ForwardAccumulator: got {len(self._primals)} primals but {len(flat_t)} "
                f"tangents; each primal needs a tangent of the same shape and dtype"
            )
        self._tangents = []
        for p, t in zip(self._primals, flat_t):
            dtype = getattr(p, "dtype", None)
            t = convert_to_tensor(t, dtype=dtype)
            pshape = getattr(p, "shape", None)
            if pshape is not None and not t.shape.is_compatible_with(pshape):
                raise ValueError(
                    f"ForwardAccumulator: tangent shape {t.shape} does not match its primal's "
                    f"shape {pshape}"
                )
            self._tangents.append(t)
        self._tape = GradientTape(persistent=True)
        self._active = False

    def __enter__(self):
        self._tape.__enter__()
        self._tape.watch(self._primals)
        self._active = True
        return self

    def __exit__(self, *exc):
        self._active = False
        return self._tape.__exit__(*exc)

    def jvp(self, primals, unconnected_gradients=UnconnectedGradients.NONE):
        """The JVP of each tensor in ``primals`` (a nested structure), same structure;
        ``None`` (or zeros with ``UnconnectedGradients.ZERO``) where a tensor does not
        depend on the accumulator's primals."""
        unconnected_gradients = UnconnectedGradients(unconnected_gradients)
        targets = nest.flatten(primals)
        out = [self._jvp_one(convert_to_tensor(t), unconnected_gradients) for t in targets]
        return nest.pack_sequence_as(primals, out)

    def _jvp_one(self, target, unconnected):
        zero = unconnected is UnconnectedGradients.ZERO
        if not (target.dtype.is_floating or target.dtype.is_complex):
            return zeros_like(target) if zero else None
        u = zeros_like(target)
        with GradientTape() as outer:
            outer.watch(u)
            vjps = self._tape.gradient(target, self._primals, output_gradients=u)
        pairs = [(g, v) for g, v in zip(vjps, self._tangents) if g is not None]
        if not pairs:
            return zeros_like(target) if zero else None
        jv = outer.gradient(
            [g for g, _ in pairs],
            u,
            output_gradients=[v for _, v in pairs],
            unconnected_gradients=UnconnectedGradients.ZERO,
        )
        return jv
