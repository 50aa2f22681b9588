"""One concrete function as one XLA computation: ``XlaPlan``, the ``Plan`` of ``jit_compile``.

The executor's optimised plan (folded, deduplicated, pruned) is lowered op by op into a
JAX function ``(inputs, variable values) -> (assigned variables' values, outputs)`` that
``jax.jit`` compiles once per input shape. After each call the assigned variables get
their new values, so side effects are the executor's: each keeps the device array XLA
computed until something reads it (``core.variables.defer_value``), and the next call
donates that buffer, so XLA updates the variable in place.
"""

from __future__ import annotations

import weakref

import numpy as np

from rill.backend.jax_runtime import load
from rill.core import runtime as _runtime
from rill.core.errors import InvalidArgumentError
from rill.core.tensor import EagerTensor, wrap
from rill.core.variables import defer_value, defer_values, held_values
from rill.xla.context import LoweringContext, NotLowerable, assigned_variables

__all__ = ["XlaPlan", "compile_graph_xla", "lowers", "unsupported_error"]


def _check_types(graph, outputs):
    for t in list(graph.inputs) + list(outputs):
        if t.dtype.is_string or t.dtype.is_variant:
            raise NotLowerable(
                f"the computation takes or returns a {t.dtype.name} tensor ({t.name}), "
                f"which XLA has no type for",
                _producer(t),
            )


def _producer(t):
    """The op that computes ``t``, looking through the Identity ops a function puts on
    its outputs (the error names the user's op, e.g. AsString, not the Identity)."""
    op = getattr(t, "op", None)
    while op is not None and op.prim.alias and op.inputs:
        source = getattr(op.inputs[0], "op", None)
        if source is None:  # the identity of a graph input: it is the producer
            break
        op = source
    return op


_settings = _runtime.settings

# dtypes whose device arrays NumPy cannot view in place (bfloat16 comes back as a copy):
# values of these stay on the host and jit's dispatch transfers them each call
_NO_HOST_VIEW: set = set()


class XlaPlan:
    """A compiled graph: ``plan(*arrays) -> tuple of arrays``, run by XLA."""

    def __init__(self, graph, plan):
        jax = load()
        _check_types(graph, plan.outputs)
        self.graph = graph
        self.plan = plan  # the executor's plan: the optimised nodes lowered here
        self.variables = list(graph.variables)
        self._var_ids = [id(v) for v in self.variables]
        known = set(self._var_ids)
        assigned = {k: v for k, v in assigned_variables(graph).items() if k in known}
        # an assigned variable of a fully defined shape gives its buffer to the update
        # (donation: XLA writes the new value in place of the old); jit copies a host
        # value first, and skips donating a buffer a host view still reads, so only the
        # device array an earlier call left deferred in the variable is updated in place
        self._donated = [id(v) in assigned and v.shape.is_fully_defined() for v in self.variables]
        donating = [v for v, d in zip(self.variables, self._donated) if d]
        # JAX gives a donated buffer to the first result of its shape and dtype that has
        # none yet: the donating variables' new values come first, in their inputs' order,
        # so that each takes its own variable's buffer. Any other pairing (a loss taking a
        # scalar variable's buffer, two moments swapped) makes XLA copy every donated
        # buffer in and out to stay correct (measured on W3b: 22 copies, 2.6 MB a step).
        rest = [v for v in assigned.values() if not v.shape.is_fully_defined()]
        self.assigned = donating + rest
        self._assigned_ids = [id(v) for v in self.assigned]
        self._n_assigned = len(self.assigned)
        self._n_in = len(graph.inputs)
        self._n_out = len(plan.out_keys)
        # one output and nothing to write back: the jitted function returns the bare array
        # (no result tuple for jit's dispatch to build and the caller to index)
        self._bare = self._n_out == 1 and not self.assigned
        self._host_inputs: dict = {}  # id -> weakref of last call's host-valued tensors
        self._jax = jax
        self._device_type = type(jax.numpy.zeros(()))  # jaxlib's concrete Array class
        # one flat argument list (inputs, then variables) and one flat result (assigned
        # variables, then outputs): the cheapest call for jit's C++ dispatch
        donate = tuple(self._n_in + i for i, d in enumerate(self._donated) if d)
        self._fn = jax.jit(self._lowered, donate_argnums=donate)

    def _lowered(self, *flat):
        n = self._n_in
        ctx = LoweringContext(self._jax, dict(zip(self._var_ids, flat[n:])))
        outs = ctx.run_plan(self.plan, self.graph, list(flat[:n]))
        if self._bare:
            return ctx.dynamic(outs[0])
        return (*[ctx.vars[k] for k in self._assigned_ids], *[ctx.dynamic(o) for o in outs])

    def _on_device(self, a):
        """The JAX array that ``a`` is a host view of (an earlier XLA call's result: on CPU
        ``np.asarray`` shares its buffer), passed back as is to skip the transfer; else
        ``a``. A buffer a host view reads is never donated (a donated argument is a
        deferred value or a host copy), so the view's values are the array's."""
        o = _device_array_of(a, self._device_type)
        return a if o is None else o

    def _resident(self, holder):
        """The device array of tensor ``holder``'s value. A host value is transferred once
        and ``holder`` keeps a read-only host view of the device copy (same values), so
        later calls pass it without a transfer."""
        a = holder._value
        d = self._on_device(a)
        if d is a:
            if a.dtype in _NO_HOST_VIEW:
                return a  # jit's C++ dispatch transfers it, as for a fresh tensor
            d = self._jax.device_put(a)  # ~75 us of Python: worth it only for reused values
            view = np.asarray(d)
            if self._on_device(view) is not d:  # e.g. bfloat16: NumPy sees it through a copy
                _NO_HOST_VIEW.add(a.dtype)
                return a
            holder._value = view
        return d

    def _tensor_args(self, tensors) -> list:
        """The device arrays or host arrays to pass for eager ``tensors``. A host array is
        transferred by jit's C++ dispatch (a few us); a tensor that comes back as a host
        value in the next call (a constant fed every call) is made device-resident once
        instead. Fresh tensors (a new batch each step) stay on the cheap path."""
        args = _device_args(tensors, self._device_type)
        return args if args is not None else self._tensor_args_with_host(tensors)

    def _tensor_args_with_host(self, tensors) -> list:
        """``_tensor_args`` where some tensor holds a host value."""
        seen, self._host_inputs = self._host_inputs, {}
        args = []
        for t in tensors:
            a = t._value
            d = self._on_device(a)
            if d is a:
                r = seen.get(id(t))
                if r is not None and r() is t:
                    d = self._resident(t)
                else:
                    self._host_inputs[id(t)] = weakref.ref(t)
            args.append(d)
        return args

    def lower(self, *arrays):
        """Trace and lower for these inputs (raises ``NotLowerable``); JAX's Lowered."""
        return self._fn.lower(*arrays, *[v._value for v in self.variables])

    def _variable_args(self) -> list:
        """The variables' device arrays. A variable holds its value deferred on the device
        between calls (as an assignment leaves it): a host value (new, or read since) is
        put there once, without a transfer when it is a view of a device array. A host
        value to be donated is passed as it is: jit copies it, so the buffer XLA updates
        is never one a host array or another argument shares."""
        values = held_values(self.variables)
        if np.ndarray not in set(map(type, values)):  # all deferred since the last call
            return values
        for i, (v, a) in enumerate(zip(self.variables, values)):
            if type(a) is np.ndarray and not self._donated[i]:
                d = self._on_device(a)
                values[i] = d = self._jax.device_put(a) if d is a else d
                defer_value(v, d)
        return values

    def _write_back(self, res):
        """Give the assigned variables their new values, deferred: the results stay on the
        device until read, and the next call passes (and donates) them as they are."""
        defer_values(self.assigned, res[: self._n_assigned])

    def _run(self, inputs) -> tuple:
        """The computation on device or host ``inputs`` and the variables; its outputs (the
        assigned variables get their new values). In a ``tf.device`` scope that names a
        device JAX has, it runs there (rill's arrays are uncommitted: JAX moves them)."""
        device = _settings.device_scopes and _runtime.compiled_device(_runtime.current_device())
        if device:
            with self._jax.default_device(device):
                res = self._fn(*inputs, *self._variable_args())
        else:
            res = self._fn(*inputs, *self._variable_args())
        if self._bare:
            return (res,)
        if self.assigned:
            self._write_back(res)
            return res[self._n_assigned :]
        return res

    def __call__(self, *arrays):
        return tuple([np.asarray(r) for r in self._run(map(self._on_device, arrays))])

    def call_tensors(self, tensors, outputs) -> list:
        """The computation on eager ``tensors``: its results as EagerTensors of ``outputs``'
        dtypes (the per-call path: every step before the dispatch delays the computation)."""
        res = self._run(self._tensor_args(tensors))
        return [wrap(np.asarray(r), o._dtype) for r, o in zip(res, outputs)]

    def fast_call(self, dtype):
        """``call_tensors`` for a computation with one output, of ``dtype``, and no
        variables, as one callable on eager tensors that returns the EagerTensor, or None
        when an input holds a host value or a ``tf.device`` scope is open (the caller then
        takes ``call_tensors``, which makes a reused input device-resident and places the
        computation). None where variables or several outputs need the general path.
        Each Python step saved counts: between XLA calls a step costs two to three times
        what it does alone (``_device_args`` on W2: 0.7 us alone, about 2 us there)."""
        if self.variables or not self._bare:
            return None
        fn, dev, asarray, new = self._fn, self._device_type, np.asarray, object.__new__

        def call(tensors):
            args = _device_args(tensors, dev)
            if args is None or _settings.device_scopes:  # the general path places it
                return None
            out = new(EagerTensor)  # wrap(), inlined
            out._value = asarray(fn(*args))
            out._dtype = dtype
            return out

        return call


def _device_array_of(a, device_type):
    """The device array (of ``device_type``) that host array ``a`` views the whole of, or
    None. A view of a host view (sliced, reshaped, reversed) has that host view, not the
    buffer, as its base, so it fails the first test; the shape, dtype and contiguity tests
    reject arrays made from the buffer another way (``np.frombuffer(o, np.int32)``)."""
    b = a.base
    if type(b) is memoryview:
        o = b.obj
        if (
            type(o) is device_type
            and a.shape == b.shape
            and a.dtype == o.dtype
            and a.flags.c_contiguous
        ):
            return o
    return None


def _device_args(tensors, device_type):
    """The device arrays eager ``tensors`` are host views of, or None if one of them holds
    a host value (the per-call path: one loop, no method calls)."""
    args = []
    for t in tensors:
        o = _device_array_of(t._value, device_type)
        if o is None:
            return None
        args.append(o)
    return args


def compile_graph_xla(graph, outputs=None) -> XlaPlan:
    """``graph`` optimised by the executor's passes and lowered to one jitted computation."""
    from rill.tracing.executor import compile_graph

    return XlaPlan(graph, compile_graph(graph, outputs))


def lowers(graph, *arrays) -> bool:
    """Whether ``graph`` lowers to XLA for inputs ``arrays`` (traces it; compiles nothing)."""
    try:
        compile_graph_xla(graph).lower(*arrays)
    except NotLowerable:
        return False
    return True


def unsupported_error(e: NotLowerable, graph_name: str) -> InvalidArgumentError:
    """TF's error for a graph that must compile but holds an op XLA cannot take."""
    op = e.op
    kind = op.prim.name if op is not None else "?"
    where = f"\nThe op is created at: {op.site}" if op is not None and op.site else ""
    name = op.name if op is not None else "?"
    msg = (
        f"Detected unsupported operations when trying to compile graph {graph_name} with "
        f"jit_compile=True: {kind} (op {name!r}: {e.reason}){where}"
    )
    return InvalidArgumentError(None, kind, msg)


_warned_missing = False


class JitPlan:
    """``jit_compile``'s plan: XLA, or rill's executor where the graph does not lower
    (``mode`` "auto") or JAX is missing; with ``mode`` True an op that does not lower is
    TF's InvalidArgumentError, naming it and the user's line."""

    def __init__(self, graph, plan, mode, name):
        self.plan = plan
        self._mode = mode
        self._name = name
        self.xla = None
        try:
            self.xla = XlaPlan(graph, plan)
        except NotLowerable as e:
            self._fail(e)

    def _fail(self, e: NotLowerable):
        if self._mode is True:
            raise unsupported_error(e, self._name) from None
        # "auto": the executor runs what XLA cannot (an instance attribute shadows the
        # method below)
        self.xla = None
        self.call_tensors = self.plan.call_tensors

    def fast_call(self, dtype):
        """XLA's one-callable path (``XlaPlan.fast_call``) once a call has run on XLA; the
        executor's where the graph fell back to it; None before the first call."""
        if self.xla is None:
            return self.plan.fast_call(dtype)
        if self.call_tensors != self.xla.call_tensors:  # not compiled yet
            return None
        return self.xla.fast_call(dtype)

    def call_tensors(self, tensors, outputs) -> list:
        """The plan on eager ``tensors`` (see ``Plan.call_tensors``); the first call lowers
        and compiles (JAX traces lazily), and later ones go straight to XLA."""
        try:
            out = self.xla.call_tensors(tensors, outputs)
        except NotLowerable as e:
            self._fail(e)
            return self.plan.call_tensors(tensors, outputs)
        self.call_tensors = self.xla.call_tensors
        return out


def jit_plan(graph, plan, mode, name):
    """The plan a concrete function runs under ``jit_compile=mode`` (True or "auto")."""
    global _warned_missing
    from rill.backend.jax_runtime import available, install_hint

    if not available():
        if mode is True and not _warned_missing:
            import warnings

            _warned_missing = True
            warnings.warn(
                f"jit_compile=True needs rill's XLA compiler, which is not installed: "
                f"{install_hint()}. Running on rill's executor instead.",
                RuntimeWarning,
                stacklevel=4,
            )
        return plan
    return JitPlan(graph, plan, mode, name)
