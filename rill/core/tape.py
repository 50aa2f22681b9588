"""``GradientTape``: reverse-mode autodiff over the ops recorded while the tape is active.

Each recording tape keeps the set of tape ids it watches and an ordered list of entries
``(primitive, params, inputs, outputs)``. ``gradient`` walks the entries backwards (an
iterative walk: long tapes cannot overflow the stack), calling each primitive's gradient
rule, which is written with rill ops, so the work is itself recorded by any outer tape.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import inspect
import logging

import numpy as np

from rill.core import dispatch as _dispatch
from rill.core import dtypes as _d
from rill.core import nest
from rill.core.dispatch import Primitive, record, state, tid_of
from rill.core.interfaces import core_ops, grad_add, grad_zeros_like
from rill.core.tensor import EagerTensor, Tensor, wrap
from rill.core.variables import is_variable

__all__ = ["GradientTape", "UnconnectedGradients", "custom_gradient", "recompute_grad"]

_log = logging.getLogger("rill")


class UnconnectedGradients(enum.Enum):
    """What ``gradient`` returns for sources not connected to the target."""

    NONE = "none"
    ZERO = "zero"


class GradientTape:
    """Records operations for automatic differentiation (``tf.GradientTape``)."""

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self._persistent = persistent
        self._watch_accessed = watch_accessed_variables
        self._entries = []
        self._watched = set()
        self._vars = {}  # tid -> Variable, in watch order
        self._recording = False
        self._used = False

    # context -----------------------------------------------------------------------------
    def __enter__(self):
        if self._recording:
            raise ValueError(
                "Tape is still recording; this happens when an already active tape is re-entered."
            )
        self._push()
        return self

    def __exit__(self, *exc):
        if self._recording:
            self._pop()

    def _push(self):
        state.tapes.append(self)
        self._recording = True
        _dispatch._adjust_slow(+1)

    def _pop(self):
        state.tapes.remove(self)
        self._recording = False
        _dispatch._adjust_slow(-1)

    @contextlib.contextmanager
    def stop_recording(self):
        """Temporarily stop recording on every tape of this thread."""
        if not self._recording:
            raise ValueError("Tape.stop_recording() can only be called when the tape is recording.")
        state.stop_recording += 1
        try:
            yield
        finally:
            state.stop_recording -= 1

    def reset(self):
        """Forget everything recorded so far (the tape keeps recording if active)."""
        self._entries = []
        self._watched = set()
        self._vars = {}
        self._used = False

    # watching ----------------------------------------------------------------------------
    def _watch_variable(self, v):
        if v._tid not in self._watched:
            self._watched.add(v._tid)
            self._vars[v._tid] = v

    def watch(self, tensor):
        """Start tracking ``tensor`` (a tensor, variable, or nested structure of them)."""
        for t in nest.flatten(tensor):
            if is_variable(t):
                self._watch_variable(t)
                continue
            if not isinstance(t, Tensor):
                raise ValueError(
                    f"Passed in object {t!r} of type {type(t).__name__!r}, not tf.Tensor or tf.Variable."
                )
            if t.dtype not in _d.DIFFERENTIABLE:
                _log.warning(
                    "The dtype of the watched tensor must be floating (e.g. tf.float32), got %r",
                    t.dtype,
                )
            self._watched.add(tid_of(t))

    def watched_variables(self) -> tuple:
        return tuple(self._vars.values())

    # differentiation -----------------------------------------------------------------------
    def gradient(
        self,
        target,
        sources,
        output_gradients=None,
        unconnected_gradients=UnconnectedGradients.NONE,
    ):
        """Gradients of ``target`` (summed over its elements) w.r.t. ``sources``."""
        if self._used:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of "
                "gradients (or jacobians); create the tape with persistent=True to call "
                "gradient() several times."
            )
        if self._recording and not self._persistent:
            self._pop()
        result = self._gradient(target, sources, output_gradients, unconnected_gradients)
        if not self._persistent:
            self._used = True
            self._entries = []
        return result

    def _gradient(self, target, sources, output_gradients, unconnected):
        if type(unconnected) is not UnconnectedGradients:  # a string ("zero")
            unconnected = UnconnectedGradients(unconnected)
        flat_sources = nest.flatten(sources)
        src_tids = []
        for s in flat_sources:
            if is_variable(s):
                src_tids.append(s._tid)
            elif isinstance(s, Tensor):
                src_tids.append(getattr(s, "_tid", None))
            else:
                raise ValueError(
                    f"GradientTape.gradient: sources must be tensors or variables, got {type(s).__name__}."
                )
        flat_targets = nest.flatten(target)
        if output_gradients is not None:
            flat_og = nest.flatten(output_gradients)
            if len(flat_og) != len(flat_targets):
                raise ValueError("output_gradients must have the same structure as target.")
        else:
            flat_og = [None] * len(flat_targets)

        was_recording = self._recording
        self._recording = False  # the backward pass must not record onto this tape
        try:
            grads = self._backward(flat_targets, flat_og, src_tids)
        finally:
            self._recording = was_recording

        out = []
        for s, tid in zip(flat_sources, src_tids):
            g = grads.get(tid) if tid is not None else None
            if g is None and unconnected is UnconnectedGradients.ZERO:
                g = grad_zeros_like(s)
            out.append(g)
        return nest.pack_sequence_as(sources, out)

    def _backward(self, flat_targets, flat_og, src_tids) -> dict:
        ones_like, add = core_ops.ones_like, _add_grads
        grads = {}
        for t, og in zip(flat_targets, flat_og):
            tid = t._tid if is_variable(t) else getattr(t, "_tid", None)
            if tid is None or (tid not in self._watched):
                continue
            if og is not None:
                seed = core_ops.convert(og, t.dtype)
            elif type(t) is EagerTensor and t._dtype in _d.INEXACT:  # the usual scalar loss
                seed = wrap(np.ones(t._value.shape, t._value.dtype), t._dtype)
            else:
                seed = ones_like(t)
            grads[tid] = add(grads[tid], seed) if tid in grads else seed

        # Forward sweep: only entries reachable from a source can carry its gradient.
        watched = self._watched
        reach = {tid for tid in src_tids if tid is not None and tid in watched}
        useful = []
        for e in self._entries:
            for i in e[2]:
                if getattr(i, "_tid", None) in reach:
                    for o in e[3]:
                        tid = getattr(o, "_tid", None)
                        if tid is not None:
                            reach.add(tid)
                    useful.append(e)
                    break
        keep = set(src_tids)
        inexact = _d.INEXACT
        differentiable = _d.DIFFERENTIABLE  # inexact, and variant (TensorArray lists)
        get = grads.get
        for prim, params, inputs, outs in reversed(useful):
            if prim.grad is None:  # declared not differentiable: contributes nothing
                continue
            if prim.partial_grad:  # the rule skips the input gradients no one will read
                needed = tuple(
                    [
                        getattr(i, "_tid", None) in reach and i.dtype in differentiable
                        for i in inputs
                    ]
                )
                params = {**params, "needed": needed}
            if prim.n_out == 1:
                o = outs[0]
                otid = getattr(o, "_tid", None)
                dy = get(otid)
                if dy is None:
                    continue
                if not isinstance(dy, Tensor):
                    dy = _densify(dy)
                in_grads = prim.grad(inputs, o, dy, **params)
                if otid not in keep:
                    del grads[otid]  # consumed: free it early
            else:
                dys = [get(getattr(o, "_tid", None)) for o in outs]
                if not any(g is not None for g in dys):
                    continue
                dys = tuple(
                    _densify(g)
                    if g is not None
                    else (
                        grad_zeros_like(o)
                        if o.dtype in inexact and not prim.grad_takes_none
                        else None
                    )
                    for g, o in zip(dys, outs)
                )
                in_grads = prim.grad(inputs, tuple(outs), dys, **params)
                for o in outs:
                    otid = getattr(o, "_tid", None)
                    if otid not in keep:
                        grads.pop(otid, None)
            if not isinstance(in_grads, (list, tuple)):
                in_grads = (in_grads,)
            for inp, g in zip(inputs, in_grads):
                if g is None:
                    continue
                tid = getattr(inp, "_tid", None)
                if tid is None or tid not in reach or inp.dtype not in differentiable:
                    continue
                prev = get(tid)
                grads[tid] = g if prev is None else add(prev, g)
        return grads

    def jacobian(
        self,
        target,
        sources,
        unconnected_gradients=UnconnectedGradients.NONE,
        parallel_iterations=None,
        experimental_use_pfor=True,
    ):
        """Full Jacobian: for each source, shape ``target.shape + source.shape``."""
        if self._used:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of gradients (or jacobians)."
            )
        if self._recording and not self._persistent:
            self._pop()
        flat_sources = nest.flatten(sources)
        tshape = tuple(target.shape.as_list())
        n = int(np.prod(tshape)) if tshape else 1
        rows = [[] for _ in flat_sources]
        for i in range(n):
            seed = np.zeros(n, dtype=target.dtype.np)
            seed[i] = 1
            g = self._gradient(
                target,
                flat_sources,
                wrap(seed.reshape(tshape), target.dtype),
                unconnected_gradients,
            )
            for k, gk in enumerate(g):
                rows[k].append(gk)
        if not self._persistent:
            self._used = True
            self._entries = []
        stack, reshape = core_ops.stack, core_ops.reshape
        out = []
        for s, r in zip(flat_sources, rows):
            if any(x is None for x in r):
                out.append(None)
                continue
            sshape = tuple(s.shape.as_list())
            out.append(reshape(stack(r), tshape + sshape))
        return nest.pack_sequence_as(sources, out)

    def batch_jacobian(
        self,
        target,
        source,
        unconnected_gradients=UnconnectedGradients.NONE,
        parallel_iterations=None,
        experimental_use_pfor=True,
    ):
        """Per-example Jacobian: shape ``[batch] + target.shape[1:] + source.shape[1:]``.

        As TensorFlow does, it assumes examples are independent: row ``j`` is the gradient
        of ``target[:, j]`` summed over the batch, one backward pass per target element of
        an example. It is computed with rill ops, so it traces and outer tapes see it."""
        if self._used:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of gradients (or jacobians)."
            )
        if self._recording and not self._persistent:
            self._pop()
        tshape = tuple(target.shape.as_list())
        sshape = tuple(source.shape.as_list())
        if not tshape or not sshape:
            raise ValueError("batch_jacobian: target and source must have a batch dimension.")
        b = tshape[0]
        if sshape[0] != b:
            raise ValueError(
                f"batch_jacobian: target and source must have the same batch size, got "
                f"{b} and {sshape[0]}."
            )
        m = int(np.prod(tshape[1:])) if len(tshape) > 1 else 1
        rows = []
        for j in range(m):
            seed = np.zeros((b, m), dtype=target.dtype.np)
            seed[:, j] = 1
            (g,) = self._gradient(
                target, [source], wrap(seed.reshape(tshape), target.dtype), unconnected_gradients
            )
            rows.append(g)
        if not self._persistent:
            self._used = True
            self._entries = []
        if any(g is None for g in rows):
            return None
        return core_ops.reshape(core_ops.stack(rows, axis=1), tshape + sshape[1:])


def _is_slices(g) -> bool:
    """An ``IndexedSlices`` gradient (duck-typed: core does not import structures)."""
    return not isinstance(g, Tensor) and hasattr(g, "dense_shape") and hasattr(g, "indices")


def _densify(g):
    """Op gradient rules take dense upstream gradients: sum an IndexedSlices into its dense
    shape (rows summed where indices repeat), as TF's converting gradient functions do."""
    if _is_slices(g):
        return core_ops.convert(g, g.dtype)
    return g


def _add_grads(a, b):
    """The sum of two gradients of one value. Two IndexedSlices stay sparse, their rows
    concatenated (TF's aggregation); an IndexedSlices meeting a dense gradient is densified,
    as TF's eager tape does."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return grad_add(a, b)
    if _is_slices(a) and _is_slices(b):
        return _concat_slices(a, b)
    return grad_add(_densify(a), _densify(b))


# Set by rill.structures.slices_gradients (core imports nothing above it): the
# IndexedSlices class, and the sum of two (their rows concatenated).
_slices_class = None
_concat_slices = None


def register_indexed_slices(cls, add) -> None:
    """Called by the structures layer with the ``IndexedSlices`` class and ``add(a, b)``,
    the IndexedSlices holding both's rows."""
    global _slices_class, _concat_slices
    _slices_class, _concat_slices = cls, add


def is_indexed_slices(x) -> bool:
    """Whether ``x`` is an ``IndexedSlices`` (the class the structures layer registered)."""
    return _slices_class is not None and isinstance(x, _slices_class)


def indexed_slices(values, indices, dense_shape):
    """An ``IndexedSlices`` gradient (for gradient rules below the structures layer)."""
    if _slices_class is None:
        raise RuntimeError("IndexedSlices gradients need rill.structures (import rill)")
    return _slices_class(values, indices, dense_shape)


def _custom_grad_rule(grad_fn, n_args, n_vars):
    def rule(inputs, outs, dys, **_):
        dys = dys if isinstance(dys, tuple) else (dys,)
        if n_vars:
            in_grads, var_grads = grad_fn(*dys, variables=list(inputs[n_args:]))
            in_grads = list(in_grads) if isinstance(in_grads, (list, tuple)) else [in_grads]
            return in_grads + list(var_grads)
        g = grad_fn(*dys)
        return list(g) if isinstance(g, (list, tuple)) else [g]

    return rule


def custom_gradient(f=None):
    """Decorator: ``f`` returns ``(outputs, grad_fn)``; ``grad_fn`` defines the gradient."""
    if f is None:
        return custom_gradient

    accepts_vars_cache = []

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        st = state
        if not (_dispatch._slow and (st.tapes or st.graph is not None)):
            result, _ = f(*args, **kwargs)
            return result
        from rill.core.convert import convert_to_tensor

        tensor_args = [convert_to_tensor(a) for a in args]
        prev_log = st.var_access_log
        st.var_access_log = []
        st.stop_recording += 1
        try:
            result, grad_fn = f(*tensor_args, **kwargs)
        finally:
            st.stop_recording -= 1
            accessed, st.var_access_log = st.var_access_log, prev_log
        variables = []
        for v in accessed:
            if v._trainable and all(v is not w for w in variables):
                variables.append(v)
        if not accepts_vars_cache:
            params = inspect.signature(grad_fn).parameters
            accepts_vars_cache.append(
                "variables" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
            )
        if variables and not accepts_vars_cache[0]:
            raise TypeError(
                f"@custom_gradient function {f.__name__} used variables "
                f"{[v.name for v in variables]} but its grad_fn does not accept a `variables` "
                f"keyword argument."
            )
        flat = nest.flatten(result)
        identity = core_ops.identity
        outs = [
            identity(convert_to_tensor(o))
            if st.graph is not None
            else wrap(convert_to_tensor(o)._value, convert_to_tensor(o).dtype)
            for o in flat
        ]
        var_reads = []
        for v in variables:
            r = wrap(v._value, v._dtype)
            r._tid = v._tid
            var_reads.append(r)
        prim = Primitive(
            f"CustomGradient-{f.__name__}",
            None,  # recorded on tapes only: the forward pass already ran
            host=True,
            grad=_custom_grad_rule(grad_fn, len(tensor_args), len(variables)),
            n_out=len(outs),
        )
        if st.tapes and not st.stop_recording:
            for tape in st.tapes:
                if tape._recording and tape._watch_accessed:
                    for v in variables:
                        tape._watch_variable(v)
            record(st.tapes, prim, {}, tuple(tensor_args) + tuple(var_reads), tuple(outs))
        return nest.pack_sequence_as(result, outs)

    return wrapped


def recompute_grad(f):
    """Don't keep ``f``'s intermediates: recompute them when the gradient is needed."""

    @custom_gradient
    def inner(*args, **kwargs):
        result = f(*args, **kwargs)

        def grad(*dys, variables=None):
            with GradientTape() as t:
                t.watch(args)
                out = f(*args, **kwargs)
            srcs = list(args) + list(variables or [])
            g = t.gradient(out, srcs, output_gradients=list(dys) if len(dys) > 1 else dys[0])
            if variables:
                return g[: len(args)], g[len(args) :]
            return g

        return result, grad

    return inner
