"""The op registry and the one dispatcher every op goes through.

A ``Primitive`` is declared once with its kernel (backend arrays in, arrays out), its
shape/dtype rule (abstract values in, abstract values out: what tracing runs instead of
the kernel) and its gradient rule (written with rill's public ops, so gradients can be
traced and differentiated again).

Hot path: with no tape recording and nothing being traced anywhere (``_slow == 0``), an
op converts its inputs, calls the kernel and wraps the result; nothing else.
"""

from __future__ import annotations

import functools
import itertools
import threading
import time
import warnings

import numpy as np

from rill import backend as _backends
from rill.core import dtypes as _d
from rill.core.errors import InvalidArgumentError, OpError, ResourceExhaustedError, op_error
from rill.core.tensor import EagerTensor, _np_to_dtype, dtype_of_array, wrap
from rill.core.tensor import Tensor as _Tensor
from rill.core.tensor_shape import TensorShape

_new = object.__new__
_DIFFERENTIABLE = _d.DIFFERENTIABLE
_ndarray = np.ndarray
_asarray = np.asarray

__all__ = ["Primitive", "primitive", "bind", "AVal", "REGISTRY"]

# TF returns inf/nan silently where NumPy warns (log(0), inf - inf, x / 0). Kernels run in
# rill's modules, so one filter scoped to them silences exactly those warnings, at no
# per-op cost (np.errstate would cost microseconds per call) and without touching the
# user's own NumPy code.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"rill(\.|$)")

# --------------------------------------------------------------------------------------
# Execution state
# --------------------------------------------------------------------------------------

_slow = 0  # tapes recording + graphs being built, over all threads; 0 -> eager fast path
_slow_lock = threading.Lock()


def is_slow() -> bool:
    return _slow != 0


def _adjust_slow(delta: int):
    global _slow
    with _slow_lock:
        _slow += delta


class _ThreadState(threading.local):
    def __init__(self):
        self.tapes = []  # active GradientTapes, innermost last
        self.stop_recording = 0  # >0 inside tape.stop_recording()
        self.graph = None  # the graph being traced (an interfaces.TracingGraph), or None
        self.var_access_log = None  # a list while custom_gradient logs variable reads


state = _ThreadState()

next_tid = itertools.count(1).__next__  # tape ids: unique for the process, never reused

# --------------------------------------------------------------------------------------
# Abstract values and primitives
# --------------------------------------------------------------------------------------


class AVal:
    """Abstract value for shape rules: a (partial) shape, a dtype, and the value if known."""

    __slots__ = ("shape", "dtype", "value")

    def __init__(self, shape, dtype, value=None):
        self.shape = shape if isinstance(shape, TensorShape) else TensorShape(shape)
        self.dtype = dtype
        self.value = value

    @classmethod
    def of(cls, t) -> AVal:
        v = getattr(t, "_value", None) if type(t) is EagerTensor else getattr(t, "_const", None)
        return cls(t.shape, t.dtype, v)

    @property
    def rank(self):
        return self.shape.rank

    def __repr__(self):
        return f"AVal({self.shape}, {self.dtype.name})"


class Primitive:
    """One op and every fact about it, declared once (see ``primitive``).

    Read by the dispatcher (kernel, dtype constraints), the tape (gradient rule, what it
    saves), the tracer (shape rule, ``shape_only``, ``keeps_history``), the executor
    (``alias``, ``fresh``, ``operator``, ``inplace_operator``, ``inplace_out``) and the
    compiler (``lowering``, read by ``rill.xla``).
    """

    __slots__ = (
        "name",
        "impl",
        "kernel",
        "host",
        "shape_rule",
        "grad",
        "n_out",
        "dtypes",
        "same_dtype",
        "n_typed",
        "stateful",
        "simple_check",
        "saves",
        "saves_output",
        "alias",
        "fresh",
        "operator",
        "inplace_operator",
        "inplace_out",
        "shape_only",
        "keeps_history",
        "lowering",
        "partial_grad",
        "grad_takes_none",
        "__weakref__",
    )

    def __init__(
        self,
        name,
        kernel,
        shape_rule=None,
        grad=None,
        n_out=1,
        dtypes=None,
        same_dtype=False,
        n_typed=None,
        stateful=False,
        saves=None,
        saves_output=True,
        host=False,
        alias=False,
        fresh=None,
        operator=None,
        inplace_operator=None,
        inplace_out=None,
        shape_only=False,
        keeps_history=False,
        lowering=None,
        partial_grad=False,
        grad_takes_none=False,
    ):
        self.name = name
        # The kernel as declared: an array-API function name ("subtract"), a function
        # ``impl(x, y, axis, xp=np)`` whose last parameter is the array namespace,
        # defaulting to NumPy's (the NumPy backend calls it with no wrapper; another
        # backend passes ``xp=``), or (host=True) ``impl(*arrays, **params)`` called
        # as it is: host-memory work on NumPy arrays (strings, variant lists, callbacks,
        # I/O, NumPy's random streams) and structural kernels that do no array math of
        # their own (graph inputs, variable access, control flow running subgraphs).
        _check_kernel(name, kernel, host)
        self.impl = kernel
        self.host = host
        self.kernel = None  # ``impl`` bound to the active backend (set_backend)
        self.shape_rule = shape_rule
        self.grad = grad
        self.n_out = n_out  # 1, a fixed count, or -1 for "a tuple whose length the params set"
        self.dtypes = dtypes
        self.same_dtype = same_dtype
        self.n_typed = n_typed
        self.stateful = stateful  # random ops, py_function: never folded or deduplicated
        # dtype constraint that bind() can check inline: all inputs one allowed dtype
        self.simple_check = same_dtype and n_typed is None
        # What the gradient rule reads, so a tape keeps only that alive: `saves` is None
        # (every input's value) or the indices of inputs whose values it reads (others
        # only need shape and dtype); `saves_output` whether it reads the outputs' values.
        # The registry-wide gradient check runs every rule through a tape, so a wrong
        # declaration fails it.
        self.saves = None if saves is None else frozenset(saves)
        self.saves_output = saves_output
        # Its single output is its single input, unchanged (Identity): the executor
        # forwards the value instead of calling the kernel.
        self.alias = alias
        # Python operator form of the kernel ("{0} * {1}"), which NumPy dispatches faster
        # than a ufunc call; the registry checks it computes exactly what the kernel does.
        self.operator = operator
        self.inplace_operator = inplace_operator  # augmented form ("*="), same contract
        self._bind_kernel(_backend)
        ufunc = isinstance(self.kernel, np.ufunc)
        # The kernel always returns a newly allocated array (never a view, a variable's
        # array or an input), so a compiled plan may overwrite it once it is dead.
        self.fresh = (ufunc or operator is not None) if fresh is None else fresh
        self.inplace_out = ufunc if inplace_out is None else inplace_out  # accepts out=
        # Its value follows from its input's static shape (Shape, Size, Rank): the tracer
        # knows it whenever that shape is fully defined.
        self.shape_only = shape_only
        # Takes a ``keep_history`` param: whether to keep what its gradient needs (a
        # loop's per-iteration values); switched on when a tape records its replay.
        self.keeps_history = keeps_history
        # How the compiler (``rill.xla``) lowers the op to JAX: ``lowering(ctx, *arrays,
        # **params) -> array(s)``, where ``ctx`` offers ``jnp``, ``lax``, random keys and
        # subgraph lowering. None: a device kernel lowers as itself with ``xp=jax.numpy``
        # (array-API-clean kernels lower for free); a host kernel without one does not lower.
        self.lowering = lowering
        # The gradient rule takes ``needed``: a tuple of bools, one per input, saying which
        # input gradients the tape will use, and skips the others (returns None for them).
        # A matmul or convolution whose one input is data then computes no gradient for it.
        self.partial_grad = partial_grad
        # A multi-output op's gradient rule takes None for an output no gradient reached,
        # instead of zeros the tape would have to make (and the rule multiply through):
        # the backprop output of a cross-entropy is only differentiated for a second
        # derivative.
        self.grad_takes_none = grad_takes_none

    def _bind_kernel(self, backend):
        self.kernel = self.impl if self.host else self.kernel_for(backend.xp)

    def kernel_for(self, xp):
        """The device kernel bound to the array namespace ``xp`` (not for host kernels)."""
        impl = self.impl
        if isinstance(impl, str):
            return getattr(xp, impl)
        if _xp_first(impl):  # the older form, impl(xp, *arrays): bound with a partial
            return functools.partial(impl, xp)
        if _xp_default(impl) is xp:
            return impl  # no wrapper on the eager path
        return functools.partial(impl, xp=xp)

    def __repr__(self):
        return f"<Primitive {self.name}>"


_NO_XP = object()


def _xp_default(kernel):
    """The default of a kernel's ``xp`` parameter (its last positional parameter, or a
    keyword-only one), or ``_NO_XP``."""
    kw = getattr(kernel, "__kwdefaults__", None) or {}
    if "xp" in kw:
        return kw["xp"]
    code = getattr(kernel, "__code__", None)
    defaults = getattr(kernel, "__defaults__", None)
    if code is not None and defaults and code.co_varnames[code.co_argcount - 1] == "xp":
        return defaults[-1]
    return _NO_XP


def _xp_first(kernel) -> bool:
    code = getattr(kernel, "__code__", None)
    return code is not None and code.co_argcount > 0 and code.co_varnames[0] == "xp"


def _check_kernel(name, kernel, host) -> None:
    """A device kernel is an array-API function name, or takes the array namespace as its
    last parameter ``xp=np``."""
    if host or isinstance(kernel, str):
        return
    if _xp_default(kernel) is _NO_XP and not _xp_first(kernel):
        raise TypeError(
            f"Primitive {name!r}: a kernel takes the array namespace as its last parameter "
            f"`xp=np` (keyword-only after *arrays), is an array-API function name (e.g. "
            f"'add'), or is declared host=True; got {kernel!r}"
        )


REGISTRY: dict[str, Primitive] = {}

NOT_DIFFERENTIABLE = "not_differentiable"

_backend = _backends.NUMPY  # the backend every registered kernel is bound to


def primitive(name, kernel, shape_rule, grad=NOT_DIFFERENTIABLE, **facts) -> Primitive:
    """Declare and register a primitive: ``kernel`` (see ``Primitive.impl``), its
    ``shape_rule`` (abstract values in, abstract values out), its ``grad`` rule (required
    unless marked not differentiable) and the facts ``Primitive`` documents."""
    if name in REGISTRY:
        raise ValueError(f"Primitive {name!r} is already registered.")
    p = Primitive(name, kernel, shape_rule, None if grad is NOT_DIFFERENTIABLE else grad, **facts)
    REGISTRY[name] = p
    return p


def active_backend() -> _backends.Backend:
    """The backend whose array namespace the registered kernels are bound to."""
    return _backend


def set_backend(backend: _backends.Backend) -> _backends.Backend:
    """Bind every registered kernel to ``backend``'s array namespace; returns the previous
    backend. Process-wide: meant for a whole program (or a test), not per call."""
    global _backend
    previous, _backend = _backend, backend
    for p in REGISTRY.values():
        p._bind_kernel(backend)
    return previous


# --------------------------------------------------------------------------------------
# Dispatch
# --------------------------------------------------------------------------------------

_EMPTY = {}


def check_dtypes(prim: Primitive, inputs) -> None:
    """Raise InvalidArgumentError if inputs violate the primitive's dtype constraints."""
    typed = inputs if prim.n_typed is None else inputs[: prim.n_typed]
    allowed = prim.dtypes
    first = None
    for i, t in enumerate(typed):
        d = t.dtype
        if allowed is not None and d not in allowed:
            ok = sorted(x.name for x in allowed)
            raise op_error(
                InvalidArgumentError,
                prim.name,
                f"input #{i} has dtype {d.name}, which this op does not support; "
                f"supported dtypes: {', '.join(ok)}",
            )
        if prim.same_dtype:
            if first is None:
                first = d
            elif d is not first:
                raise op_error(
                    InvalidArgumentError,
                    prim.name,
                    f"input #{i} has dtype {d.name} but input #0 has dtype {first.name}; "
                    f"rill does not promote dtypes implicitly, cast one side with "
                    f"tf.cast(x, tf.{first.name})",
                )


def _describe(inputs) -> str:
    return ", ".join(
        f"{t.dtype.name}{list(t.shape) if t.shape.rank is not None else '[?]'}" for t in inputs
    )


def kernel_error(prim: Primitive, inputs, params, exc: Exception) -> Exception:
    """Turn a kernel failure into a rill error naming the op, the shapes and the call site."""
    if isinstance(exc, OpError) or getattr(exc, "_rill_user_error", False):
        return exc
    if prim.shape_rule is not None:
        try:  # the shape rule gives the precise message when the inputs are invalid
            prim.shape_rule(*[AVal.of(t) for t in inputs], **params)
        except (OpError, ValueError, TypeError) as rule_exc:
            if isinstance(rule_exc, OpError):
                return rule_exc
            return op_error(InvalidArgumentError, prim.name, str(rule_exc))
        except Exception:  # noqa: BLE001 - a buggy rule must not mask the kernel error
            pass
    if isinstance(exc, MemoryError) or "array is too big" in str(exc):
        # an allocation failed, or its byte count overflowed: TF's OOM class, not bad input
        return op_error(
            ResourceExhaustedError,
            prim.name,
            f"OOM when allocating the result (inputs: {_describe(inputs)}): this machine "
            f"cannot hold it",
        )
    if "Maximum allowed dimension exceeded" in str(exc):  # NumPy's words for it
        return op_error(
            InvalidArgumentError,
            prim.name,
            f"a dimension of the result would exceed 2**63 - 1 (inputs: {_describe(inputs)})",
        )
    return op_error(InvalidArgumentError, prim.name, f"{exc} (inputs: {_describe(inputs)})")


def _quiet_rerun(prim, inputs, params, exc):
    """Re-run a kernel whose inf/nan warning was turned into an error by the user's
    warning filters (``-W error``): TF computes such values silently."""
    if not isinstance(exc, (RuntimeWarning, FloatingPointError)):
        raise kernel_error(prim, inputs, params, exc) from None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return prim.kernel(*[t._value for t in inputs], **params)
        except Exception as e:  # noqa: BLE001
            raise kernel_error(prim, inputs, params, e) from None


def _run_kernel(prim, inputs, params):
    try:
        if params:
            out = prim.kernel(*[t._value for t in inputs], **params)
        elif len(inputs) == 2:  # the common binary op: no list to build, no keywords
            out = prim.kernel(inputs[0]._value, inputs[1]._value)
        elif len(inputs) == 1:  # and the common unary op
            out = prim.kernel(inputs[0]._value)
        else:
            out = prim.kernel(*[t._value for t in inputs])
    except Exception as e:  # noqa: BLE001 - every kernel failure becomes a rill error
        out = _quiet_rerun(prim, inputs, params, e)
    if prim.n_out == 1:  # ``wrap(out)``, inlined: this runs once per eager op
        if type(out) is not _ndarray:
            out = _asarray(out)
        t = _new(EagerTensor)
        t._value = out
        d = _np_to_dtype.get(out.dtype)
        t._dtype = d if d is not None else dtype_of_array(out)
        return t
    return tuple(wrap(o) for o in out)


def bind(prim: Primitive, inputs: tuple, params: dict = _EMPTY):
    """Apply ``prim`` to converted ``inputs``: eagerly, recording on tapes, or into a graph."""
    if prim.simple_check:
        # common case inlined: every input shares one allowed dtype
        d = inputs[0]._dtype
        for t in inputs:
            if t._dtype is not d:
                check_dtypes(prim, inputs)
        if prim.dtypes is not None and d not in prim.dtypes:
            check_dtypes(prim, inputs)
    elif len(inputs) == 1 and prim.n_typed is None:
        # a unary op: its one dtype against the allowed ones (check_dtypes says what failed)
        if prim.dtypes is not None and inputs[0]._dtype not in prim.dtypes:
            check_dtypes(prim, inputs)
    elif prim.dtypes is not None or prim.same_dtype:
        check_dtypes(prim, inputs)
    if _slow:
        return _bind_slow(prim, inputs, params)
    return _run_kernel(prim, inputs, params)


def only_tapes_slow() -> bool:
    """True when ops take the slow path for tapes alone (no trace, no op timer, no output
    check): an eager op may then compute its own way and ``record_on_tapes`` itself."""
    return state.graph is None and _op_timer is None and _output_check is None


def record_on_tapes(prim, params, inputs, outs) -> None:
    """Record an op on this thread's recording tapes (``bind`` does, after running it)."""
    st = state
    # an op without a gradient rule contributes nothing to a gradient: not recorded
    if st.tapes and not st.stop_recording and prim.grad is not None:
        record(st.tapes, prim, params, inputs, outs)


def _bind_slow(prim, inputs, params):
    st = state
    # read the hooks once: another thread may remove them while this op runs
    timer, output_check = _op_timer, _output_check
    if st.graph is not None:
        out = st.graph.bind(prim, inputs, params)
    else:
        for t in inputs:
            if type(t) is not EagerTensor:
                # a symbolic tensor that escaped its trace: reading its value raises the
                # error that says where it came from
                out = t._value
                raise TypeError(f"{prim.name}: got a symbolic tensor outside of a traced function.")
        if timer is None:
            out = _run_kernel(prim, inputs, params)
        else:  # tf.profiler is tracing: time the kernel
            t0 = _perf_ns()
            out = _run_kernel(prim, inputs, params)
            timer(prim, t0, _perf_ns())
    if st.tapes:
        record_on_tapes(prim, params, inputs, out if prim.n_out != 1 else (out,))
    if output_check is not None:  # tf.debugging.enable_check_numerics (after recording:
        out = output_check(prim, inputs, out)  # in a graph it may add ops on the outputs)
    return out


# An output check installed by tf.debugging.enable_check_numerics (rill.debugging): it
# sees every op's outputs and may raise, or in a graph return checked replacements. While
# one is installed every op takes the slow path, so the eager hot path never tests it.
_output_check = None


def set_output_check(fn) -> None:
    """Install ``fn(prim, inputs, out) -> out`` to run after every op, or remove it (None)."""
    global _output_check
    if (fn is None) != (_output_check is None):
        _adjust_slow(1 if fn is not None else -1)
    _output_check = fn


# An op timer installed by tf.profiler (rill.profiler) while it traces: called with each
# eager op's primitive and its kernel's start and end (time.perf_counter_ns). Like the
# output check, installing it moves every op to the slow path; the hot path never tests it.
_op_timer = None
_perf_ns = time.perf_counter_ns


def set_op_timer(fn) -> None:
    """Install ``fn(prim, start_ns, end_ns)`` to run after every eager op, or remove it."""
    global _op_timer
    if (fn is None) != (_op_timer is None):
        _adjust_slow(1 if fn is not None else -1)
    _op_timer = fn


def is_symbolic(x) -> bool:
    """True for a tensor being traced into a graph (not a concrete eager value)."""
    return isinstance(x, _Tensor) and type(x) is not EagerTensor


def recording() -> bool:
    """True if a tape on this thread would record an op now (so e.g. a loop keeps history)."""
    st = state
    return bool(st.tapes) and not st.stop_recording


def tid_of(t) -> int:
    """The tape id of a tensor, assigned on first use."""
    try:
        return t._tid
    except AttributeError:
        tid = t._tid = next_tid()
        return tid


def _stand_in(t):
    """``t`` for a tape entry when the gradient rule needs only its shape and dtype: the
    same tape id, shape and dtype, over a zero-strided view instead of ``t``'s data, so the
    data can be freed once nothing else holds it."""
    v = t._value if type(t) is EagerTensor else None
    # a small array costs less to keep than a stand-in costs to build (and weighs about as
    # much): only data worth freeing is replaced
    if v is None or v.nbytes <= _KEEP_BYTES or v.dtype.hasobject:
        return t
    s = _new(EagerTensor)
    s._value = _zero_view(v.shape, v.dtype)
    s._dtype = t._dtype
    tid = getattr(t, "_tid", None)
    if tid is not None:
        s._tid = tid
    return s


def _zero_view(shape, dtype):
    """An all-zero array of ``shape`` viewing one element. It is read-only, so one per
    shape and dtype serves every stand-in (a training step makes the same ones each time)."""
    key = (shape, dtype)
    view = _ZERO_VIEWS.get(key)
    if view is None:
        zero = _ZEROS.get(dtype)
        if zero is None:
            zero = _ZEROS[dtype] = np.zeros(1, dtype)
            zero.flags.writeable = False
        if len(_ZERO_VIEWS) >= 1024:  # shapes made on the fly must not pile up
            _ZERO_VIEWS.clear()
        view = _ZERO_VIEWS[key] = np.ndarray(shape, dtype, zero, 0, (0,) * len(shape))
    return view


_KEEP_BYTES = 1024  # arrays up to this size stay in tape entries as they are
_ZEROS = {}  # dtype -> a read-only one-element zero buffer that stand-ins view
_ZERO_VIEWS = {}  # (shape, dtype) -> the zero-strided view of that buffer


def _entry(prim, params, inputs, outs):
    """The tape entry for an op, keeping alive only the values its gradient reads."""
    keep = prim.saves
    if keep is not None and len(keep) < len(inputs):
        inputs = tuple([t if i in keep else _stand_in(t) for i, t in enumerate(inputs)])
    if not prim.saves_output:
        outs = (_stand_in(outs[0]),) if len(outs) == 1 else tuple(map(_stand_in, outs))
    return (prim, params, inputs, outs)


def record(tapes, prim, params, inputs, outs) -> None:
    """Record an op on every recording tape that watches one of its inputs."""
    entry = None
    for tape in tapes:
        if not tape._recording:
            continue
        watched = tape._watched
        for t in inputs:
            tid = getattr(t, "_tid", None)
            if tid is not None and tid in watched:
                break
        else:
            continue
        for o in outs:
            if o._dtype in _DIFFERENTIABLE:
                # outputs are new tensors: the first tape to record them numbers them
                otid = getattr(o, "_tid", None)
                if otid is None:
                    otid = o._tid = next_tid()
                watched.add(otid)
        if entry is None:
            entry = _entry(prim, params, inputs, outs)
        tape._entries.append(entry)
