"""The runtime of AutoGraph-converted code: the ``ag__`` that ``rill.autograph.to_code``
output calls.

Every overload decides at run time, from the value it is given:

- a Python value or an eager tensor: plain Python semantics (``if_stmt`` is ``if``,
  ``while_stmt`` is ``while``; a Python loop inside a traced function unrolls);
- a symbolic tensor (one being traced into a graph): the graph op
  (``rill.ops.control_flow.cond`` / ``while_loop``), with branch and loop functions built
  from the converted body and the ``get_state``/``set_state`` pair that reads and writes
  the variables the statement modifies.

Control-flow overloads take the converted code's closures:

- ``body``/``orelse``: run the branch or the loop body (the loop body of ``for_stmt``
  takes the current element);
- ``get_state()``: the current values of the statement's variables, as a tuple ordered
  like ``symbol_names``; ``set_state(values)`` assigns them.
"""

from __future__ import annotations

import builtins as _builtins
import functools as _functools

import numpy as _np

from rill.core import dispatch as _dispatch
from rill.core import nest as _nest
from rill.core.tensor import Tensor as _Tensor
from rill.ops import control_flow as _cf

__all__ = [
    "Undefined", "UndefinedReturnValue", "ld", "ldu", "retval", "if_stmt", "while_stmt",
    "for_stmt", "if_exp", "and_", "or_", "not_", "assert_stmt", "len_", "range_", "print_",
    "converted_call",
]  # fmt: skip


# --------------------------------------------------------------------------------------
# Undefined values
# --------------------------------------------------------------------------------------


class Undefined:
    """Placeholder value of a variable that has not been assigned yet."""

    __slots__ = ("symbol_name",)

    def __init__(self, symbol_name: str):
        self.symbol_name = symbol_name

    def read(self):
        raise UnboundLocalError(f"'{self.symbol_name}' is used before assignment")

    def __repr__(self):
        return f"<undefined {self.symbol_name}>"


class UndefinedReturnValue:
    """Placeholder of a function's return value before a ``return`` statement ran.

    ``fillable`` is set by the converter when every path through the function ends in
    ``return`` (or ``raise``): then a branch of a tensor ``if`` that has not returned yet
    may carry a zero placeholder, because a later ``return`` overwrites it.
    """

    __slots__ = ("fillable",)

    def __init__(self, fillable: bool = False):
        self.fillable = fillable

    def __repr__(self):
        return "<undefined return value>"


_UNDEFINED = (Undefined, UndefinedReturnValue)


def ld(v):
    """Load a variable: raise UnboundLocalError if it is still undefined."""
    if type(v) is Undefined:
        v.read()
    return v


def ldu(load_fn, name: str):
    """Load a variable that may not exist yet (an unbound name or missing attribute)."""
    try:
        return load_fn()
    except (NameError, AttributeError):
        return Undefined(name)


def retval(v):
    """The value a converted function returns (None if no ``return`` ran)."""
    return None if type(v) is UndefinedReturnValue else v


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _is_staged(x) -> bool:
    """True if ``x`` decides control flow in a graph (a symbolic tensor, or a Variable
    while a function is being traced)."""
    if _dispatch.is_symbolic(x):
        return True
    return getattr(x, "_rill_variable", False) and _dispatch.state.graph is not None


def _to_tensor(x, dtype=None):
    from rill.core.convert import convert_to_tensor

    return convert_to_tensor(x, dtype=dtype)


def _describe(name: str) -> str:
    if name.startswith("retval_"):
        return "the return value"
    return f"'{name}'"


def _pred(cond, what: str):
    c = cond if isinstance(cond, _Tensor) else _to_tensor(cond)
    if c.dtype.name != "bool" or c.shape.rank not in (0, None):
        raise TypeError(
            f"Condition of {what} expected to be `rill.bool` scalar, got {c!r} (dtype "
            f"{c.dtype.name}, shape {_shape_str(c.shape)}); compare it explicitly (for "
            "example `x > 0`), or, to check for None, use `is not None`."
        )
    return c


def _shape_str(shape) -> str:
    if shape.rank is None:
        return "<unknown>"
    dims = shape.as_list()
    return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"


_CONVERTIBLE = (bool, int, float, complex, str, bytes, _np.generic, _np.ndarray)


def _tensor_like(x) -> bool:
    return isinstance(x, (_Tensor, *_CONVERTIBLE)) or getattr(x, "_rill_variable", False)


def _as_tensor_leaf(x):
    return x if isinstance(x, _Tensor) else _to_tensor(x)


def _placeholder():
    return _to_tensor(0)


def _same_object(a, b) -> bool:
    if a is b:
        return True
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # noqa: BLE001 - objects with odd __eq__ are simply different
        return False


def _type_name(x) -> str:
    return "None" if x is None else f"a {type(x).__name__}"


# --------------------------------------------------------------------------------------
# Conditionals
# --------------------------------------------------------------------------------------


class _Swap(Exception):
    """The branch traced first lacks a return value that the other branch has: trace the
    branches in the other order so the placeholder can copy the real value's spec."""


def _fillable(v) -> bool:
    return isinstance(v, UndefinedReturnValue) and v.fillable


def _branch_outputs(values, other):
    """(flat tensors, per-output description) of one branch's outputs; ``other`` is the
    description of the branch traced before it, if any."""
    flat, desc = [], []
    for i, v in enumerate(values):
        o = other[i] if other is not None else None
        if isinstance(v, _UNDEFINED):
            if _fillable(v) and o is not None and o[0] == "val":
                kinds = []
                for kind, leaf in o[2]:
                    flat.append(_zeros_like_spec(leaf) if kind == "t" else _placeholder())
                    kinds.append((kind, leaf))
                desc.append(("filled", v, kinds))
                continue
            desc.append(("undef", v, None))
            flat.append(_placeholder())
            continue
        if o is not None and o[0] == "undef" and _fillable(o[1]):
            raise _Swap()
        kinds = []
        for leaf in _nest.flatten(v, expand_composites=True):
            if _tensor_like(leaf):
                t = _as_tensor_leaf(leaf)
                kinds.append(("t", t))
                flat.append(t)
            else:
                kinds.append(("o", leaf))
                flat.append(_placeholder())
        desc.append(("val", v, kinds))
    return flat, desc


def _verify_branches(main, orelse, names):
    for name, (km, vm, lm), (ke, ve, le) in zip(names, main, orelse):
        who = _describe(name)
        if km == "filled" or ke == "filled":
            continue
        if km == "undef" or ke == "undef":
            if km == ke:
                continue
            branch = "main" if km == "undef" else "else"
            missing = vm if km == "undef" else ve
            if isinstance(missing, UndefinedReturnValue):
                raise ValueError(
                    f"the {branch} branch must also have a return statement (the condition "
                    "is a tensor, so both branches are traced and must return the same kind "
                    "of value)."
                )
            raise ValueError(
                f"{who} must also be initialized in the {branch} branch (it is assigned in "
                f"the other branch of an `if` whose condition is a tensor, and used after it)."
            )
        try:
            _nest.assert_same_structure(vm, ve, check_types=False, expand_composites=True)
        except (ValueError, TypeError) as e:
            raise ValueError(
                f"{who} must have the same nested structure in the main and else branches: {e}"
            ) from None
        for (a_kind, a), (b_kind, b) in zip(lm, le):
            if a_kind == "t" and b_kind == "t":
                if a.dtype != b.dtype:
                    raise TypeError(
                        f"{who} has dtype {a.dtype.name} in the main branch, but dtype "
                        f"{b.dtype.name} in the else branch"
                    )
            elif a_kind == "o" and b_kind == "o":
                if not _same_object(a, b):
                    raise TypeError(
                        f"{who} is {a!r} in the main branch but {b!r} in the else branch; a "
                        "value that depends on a tensor condition must be a tensor."
                    )
            else:
                obj, branch = (a, "main") if a_kind == "o" else (b, "else")
                if obj is None:
                    raise ValueError(f"{who} is None at the end of the {branch} branch.")
                raise TypeError(
                    f"{who} is {_type_name(obj)} at the end of the {branch} branch but a "
                    "tensor in the other; a value that depends on a tensor condition must be "
                    "a tensor in both branches."
                )


_OTHER = {"main": "else", "else": "main"}


def _staged_cond(pred, true_fn, false_fn, names, swapped=False):
    """Run ``cond`` on two functions returning tuples of values named ``names``; return
    the merged tuple."""
    rec = {}

    def wrap(fn, label):
        def branch():
            values = tuple(fn())
            flat, desc = _branch_outputs(values, rec.get(_OTHER[label]))
            rec[label] = desc
            if len(rec) == 2:
                _verify_branches(rec["main"], rec["else"], names)
            return flat if flat else [_placeholder()]

        return branch

    try:
        if swapped:
            from rill.ops import math_ops

            out = _cf.cond(
                math_ops.logical_not(pred), wrap(false_fn, "else"), wrap(true_fn, "main")
            )
        else:
            out = _cf.cond(pred, wrap(true_fn, "main"), wrap(false_fn, "else"))
    except _Swap:
        if swapped:
            raise ValueError("both branches must have a return statement.") from None
        return _staged_cond(pred, true_fn, false_fn, names, swapped=True)
    if not isinstance(out, (list, tuple)):
        out = [out]
    out = list(out)
    result, k = [], 0
    for dm, de in zip(rec["main"], rec["else"]):
        kind, v, kinds = dm if dm[0] == "val" else de
        if kind != "val":
            result.append(v)
            k += 1
            continue
        leaves = []
        for leaf_kind, leaf in kinds:
            leaves.append(out[k] if leaf_kind == "t" else leaf)
            k += 1
        result.append(_nest.pack_sequence_as(v, leaves, expand_composites=True))
    return tuple(result)


def if_stmt(cond, body, orelse, get_state, set_state, symbol_names, nouts):
    """Functional ``if``: a graph ``cond`` when ``cond`` is a symbolic tensor, else Python.

    ``symbol_names`` names what ``get_state`` returns; the first ``nouts`` are the
    statement's outputs (assigned in a branch and used after it), the rest are only
    restored before each branch.
    """
    if _is_staged(cond):
        _staged_if(cond, body, orelse, get_state, set_state, tuple(symbol_names), nouts)
    elif cond:
        body()
    else:
        orelse()


def _staged_if(cond, body, orelse, get_state, set_state, symbol_names, nouts):
    pred = _pred(cond, "if statement")
    init = tuple(get_state())

    def run(fn):
        def branch():
            set_state(init)
            fn()
            return tuple(get_state())[:nouts]

        return branch

    outs = _staged_cond(pred, run(body), run(orelse), symbol_names[:nouts])
    set_state(tuple(outs) + init[nouts:])


def if_exp(cond, if_true, if_false, expr_repr=""):
    """Functional ``a if cond else b`` (lazy in both branches)."""
    if _is_staged(cond):
        pred = _pred(cond, f"if expression `{expr_repr}`" if expr_repr else "if expression")
        label = f"if_exp({expr_repr})" if expr_repr else "if_exp"
        return _staged_cond(pred, lambda: (if_true(),), lambda: (if_false(),), (label,))[0]
    return if_true() if cond else if_false()


def and_(a_fn, b_fn):
    """Lazy ``a and b``: ``b`` is evaluated only when ``a`` is true (in a graph, in a
    ``cond`` branch)."""
    a = a_fn()
    if _is_staged(a):
        pa = _pred(a, "`and`")
        return _cf.cond(pa, lambda: _pred(b_fn(), "`and`"), lambda: pa)
    return b_fn() if a else a


def or_(a_fn, b_fn):
    """Lazy ``a or b``: ``b`` is evaluated only when ``a`` is false."""
    a = a_fn()
    if _is_staged(a):
        pa = _pred(a, "`or`")
        return _cf.cond(pa, lambda: pa, lambda: _pred(b_fn(), "`or`"))
    return a if a else b_fn()


def not_(a):
    """``not a``; a symbolic tensor gives ``logical_not``."""
    if _is_staged(a):
        from rill.ops import math_ops

        return math_ops.logical_not(_pred(a, "`not`"))
    return not a


# --------------------------------------------------------------------------------------
# Loops
# --------------------------------------------------------------------------------------


def while_stmt(test, body, get_state, set_state, symbol_names, opts=None):
    """Functional ``while``: a graph ``while_loop`` once the test is a symbolic tensor.

    A loop whose test starts as a Python value runs as Python (unrolled when traced); if
    the test becomes a tensor after some iterations (a tensor ``break`` or a variable that
    became a tensor), the remaining iterations are staged as a ``while_loop``.
    """
    opts = opts or {}
    c = test()
    while True:
        if _is_staged(c):
            _staged_while(c, test, body, get_state, set_state, tuple(symbol_names), opts)
            return
        if not c:
            return
        body()
        c = test()


def for_stmt(iter_, extra_test, body, get_state, set_state, symbol_names, opts=None):
    """Functional ``for``.

    - ``iter_`` with a ``__rill_for_stmt__(extra_test, body, get_state, set_state,
      symbol_names, opts)`` method (Datasets): the method runs the loop;
    - a symbolic tensor (``rill.range(n)`` with a tensor ``n``, or any tensor, iterated
      over its first dimension): a graph ``while_loop``;
    - anything else: a Python ``for`` (``extra_test`` is checked after each iteration; if
      it becomes a tensor, the remaining iterations run under a graph ``cond``).
    """
    opts = opts or {}
    hook = getattr(type(iter_), "__rill_for_stmt__", None)
    if hook is not None:
        return hook(iter_, extra_test, body, get_state, set_state, symbol_names, opts)
    if _is_staged(iter_) or (isinstance(iter_, _Tensor) and _dispatch.state.graph is not None):
        # (a concrete tensor captured by a traced function also becomes a graph loop
        # rather than one unrolled step per row)
        return _staged_for(iter_, extra_test, body, get_state, set_state, tuple(symbol_names), opts)
    names = tuple(symbol_names)
    c = True if extra_test is None else extra_test()
    staged = _is_staged(c)
    if not staged and not c:
        return
    for item in iter_:
        if staged:
            _guarded_iteration(c, item, body, get_state, set_state, names)
        else:
            body(item)
        if extra_test is not None:
            c = extra_test()
            staged = _is_staged(c)
            if not staged and not c:
                return  # before the iterator is advanced again, as Python's `break`


def _noop():
    pass


def _guarded_iteration(c, item, body, get_state, set_state, names):
    _staged_if(c, _functools.partial(body, item), _noop, get_state, set_state, names, len(names))


class _VarSpec:
    """How one loop variable travels through a while_loop: its tensor leaves are loop
    variables, its other leaves (Python objects the body leaves alone) are constants."""

    __slots__ = ("name", "value", "kinds", "n")

    def __init__(self, name, value):
        self.name = name
        self.value = value
        self.kinds = []  # per leaf: ("t", tensor) or ("o", object)
        for leaf in _nest.flatten(value, expand_composites=True):
            if _tensor_like(leaf):
                self.kinds.append(("t", _as_tensor_leaf(leaf)))
            else:
                self.kinds.append(("o", leaf))
        self.n = sum(1 for k, _ in self.kinds if k == "t")

    def tensors(self):
        return [t for k, t in self.kinds if k == "t"]

    def tensorized(self):
        """The value with its tensor-like leaves (Python numbers...) as tensors."""
        return self.rebuild(self.tensors())

    def rebuild(self, flat):
        it = iter(flat)
        leaves = [next(it) if k == "t" else obj for k, obj in self.kinds]
        return _nest.pack_sequence_as(self.value, leaves, expand_composites=True)


def _shape_within(shape, invariant) -> bool:
    if invariant.rank is None:
        return True
    if shape.rank != invariant.rank:
        return False
    return all(i is None or s == i for s, i in zip(shape.as_list(), invariant.as_list()))


def _check_iteration(spec: _VarSpec, new, invariants):
    """The tensor leaves of ``new`` (a loop variable after one iteration), checked against
    the value it had before the loop."""
    who = _describe(spec.name)
    if isinstance(new, _UNDEFINED):
        raise ValueError(f"{who} must be defined at the end of every iteration of the loop.")
    try:
        _nest.assert_same_structure(spec.value, new, check_types=False, expand_composites=True)
    except (ValueError, TypeError):
        raise ValueError(
            f"{who} does not keep its nested structure through the loop: it is {spec.value!r} "
            f"before the loop and {new!r} after one iteration."
        ) from None
    out = []
    for (kind, before), after in zip(spec.kinds, _nest.flatten(new, expand_composites=True)):
        if kind == "o":
            if not _same_object(before, after):
                raise TypeError(
                    f"{who} is {_type_name(before)} before the loop and is reassigned in the "
                    "loop body; the variables a tensor-dependent loop updates must be tensors, "
                    "numbers, or lists, tuples or dicts of them."
                )
            continue
        if not _tensor_like(after):
            raise TypeError(
                f"{who} is a tensor before the loop, but {_type_name(after)} after one iteration."
            )
        t = _as_tensor_leaf(after)
        if t.dtype != before.dtype:
            raise TypeError(
                f"{who} has dtype {before.dtype.name} before the loop, but dtype "
                f"{t.dtype.name} after one iteration"
            )
        inv = invariants.get(id(before), before.shape)
        if not _shape_within(t.shape, inv):
            raise ValueError(
                f"{who} has shape {_shape_str(before.shape)} before the loop, but shape "
                f"{_shape_str(t.shape)} after one iteration. Use "
                "rill.autograph.experimental.set_loop_options to set shape invariants."
            )
        out.append(t)
    return out


def _is_null(v) -> bool:
    return v is None or isinstance(v, _UNDEFINED)


def _zeros_like_spec(t):
    from rill.ops import creation_ops

    dims = [0 if d is None else d for d in t.shape.as_list()] if t.shape.rank is not None else []
    return creation_ops.zeros(dims, dtype=t.dtype)


def _user_invariants(opts, values):
    """``shape_invariants=[(var, shape), ...]`` from set_loop_options, keyed by the id of
    the tensor leaf they constrain (leaves are matched by identity)."""
    pairs = opts.get("shape_invariants")
    if not pairs:
        return {}
    from rill.core.tensor_shape import TensorShape

    ids = {}
    for v in values:
        for leaf in _nest.flatten(v, expand_composites=True):
            ids[id(leaf)] = leaf
    out = {}
    for var, shape in pairs:
        for leaf in _nest.flatten(var, expand_composites=True):
            if id(leaf) in ids:
                out[id(leaf)] = shape if isinstance(shape, TensorShape) else TensorShape(shape)
    return out


def _staged_loop(first_test, cond_user, body_user, aux, get_state, set_state, names, opts):
    """Stage a loop as ``while_loop``.

    ``cond_user(aux)`` and ``body_user(aux)`` run with the state already set;
    ``body_user`` returns the new ``aux`` (the loop's own counters). ``first_test`` is the
    test's value for the initial state.
    """
    init = tuple(get_state())
    user_inv = _user_invariants(opts, init)
    # Loop variables are tensors from the start (Python numbers included), also for the
    # first iteration that defines undefined ones.
    init = tuple(v if _is_null(v) else _VarSpec(n, v).tensorized() for n, v in zip(names, init))
    aux = [_as_tensor_leaf(a) for a in aux]
    if any(_is_null(v) for v in init):
        init, aux = _initialize_nulls(first_test, body_user, aux, init, get_state, set_state, names)
    specs = [_VarSpec(n, v) for n, v in zip(names, init)]
    invariants = {}
    for spec in specs:
        for kind, t in spec.kinds:
            if kind == "t" and id(t) in user_inv:
                invariants[id(t)] = user_inv[id(t)]
    if not aux and not any(s.n for s in specs):
        aux = [_to_tensor(0)]  # while_loop needs a loop variable; the body passes it on
    k = len(aux)

    def restore(flat, templates=None):
        vals, i = [], 0
        for j, s in enumerate(specs):
            part = flat[i : i + s.n]
            if templates is None:
                vals.append(s.rebuild(part))
            else:  # rebuilt like the body's output (a TensorArray keeps what writes taught it)
                leaves = iter(part)
                like = _nest.flatten(templates[j], expand_composites=True)
                vals.append(
                    _nest.pack_sequence_as(
                        templates[j],
                        [
                            next(leaves) if kind == "t" else obj
                            for (kind, _), obj in zip(s.kinds, like)
                        ],
                        expand_composites=True,
                    )
                )
            i += s.n
        set_state(tuple(vals))

    last = {}

    def w_cond(*flat):
        restore(flat[k:])
        return _pred(cond_user(list(flat[:k])), "while loop")

    def w_body(*flat):
        restore(flat[k:])
        new_aux = list(body_user(list(flat[:k])))
        new = tuple(get_state())
        out = []
        for s, v in zip(specs, new):
            out.extend(_check_iteration(s, v, invariants))
        last["values"] = new
        return [_as_tensor_leaf(a) for a in new_aux] + out

    flat_init = list(aux)
    for s in specs:
        flat_init.extend(s.tensors())
    kw = {}
    if invariants:
        kw["shape_invariants"] = [a.shape for a in aux] + [
            invariants.get(id(t), t.shape) for s in specs for t in s.tensors()
        ]
    if opts.get("maximum_iterations") is not None:
        kw["maximum_iterations"] = opts["maximum_iterations"]
    from rill.tracing.control_flow import iteration_bound

    # a static bound of the trip count (a for loop over a tensor of static length): a hint
    # for XLA on the While op, which adds no op to the graph
    with iteration_bound(opts.get("_static_trip_bound")):
        out = _cf.while_loop(w_cond, w_body, flat_init, **kw)
    if not isinstance(out, (list, tuple)):
        out = [out]
    restore(list(out)[k:], last.get("values"))


def _initialize_nulls(first_test, body_user, aux, init, get_state, set_state, names):
    """Give loop variables that are undefined (or None) before the loop a value: the first
    iteration runs under ``cond(first_test, ...)``, whose other branch supplies zeros of
    the same dtype and shape. Returns the new (init, aux)."""
    nulls = [_is_null(v) for v in init]
    rec = {}

    def first():
        set_state(init)
        new_aux = list(body_user(list(aux)))
        new = tuple(get_state())
        flat = [_as_tensor_leaf(a) for a in new_aux]
        desc = []
        for name, before, after, null in zip(names, init, new, nulls):
            if null and isinstance(after, _UNDEFINED):
                if isinstance(after, UndefinedReturnValue):
                    desc.append(("same", after))
                    continue
                raise ValueError(
                    f"'{name}' must be defined before the loop: it is used after the loop "
                    "(or in the next iteration) but the loop body does not always assign it."
                )
            if null:
                if after is None:
                    desc.append(("same", after))
                    continue
                spec = _VarSpec(name, after)
                desc.append(("new", spec))
                flat.extend(spec.tensors())
            else:
                spec = _VarSpec(name, before)
                flat.extend(_check_iteration(spec, after, {}))
                desc.append(("kept", spec))
        rec["desc"] = desc
        rec["n_aux"] = len(new_aux)
        return flat or [_placeholder()]

    def skip():
        if "desc" not in rec:
            raise NotImplementedError(
                "rill.autograph: staging a loop whose variables are undefined before it "
                "needs cond to trace its true branch first."
            )
        flat = [_as_tensor_leaf(a) for a in aux]
        for kind, payload in rec["desc"]:
            if kind == "new":
                flat.extend(_zeros_like_spec(t) for t in payload.tensors())
            elif kind == "kept":
                flat.extend(payload.tensors())
        return flat or [_placeholder()]

    out = _cf.cond(_pred(first_test, "while loop"), first, skip)
    if not isinstance(out, (list, tuple)):
        out = [out]
    out = list(out)
    n_aux = rec["n_aux"]
    new_aux, i, vals = out[:n_aux], n_aux, []
    for before, (kind, payload) in zip(init, rec["desc"]):
        if kind == "same":
            vals.append(payload if isinstance(payload, UndefinedReturnValue) else before)
            continue
        vals.append(payload.rebuild(out[i : i + payload.n]))
        i += payload.n
    set_state(tuple(vals))
    return tuple(vals), new_aux


def _staged_while(c, test, body, get_state, set_state, names, opts):
    def cond_user(aux):
        return test()

    def body_user(aux):
        body()
        return aux

    _staged_loop(c, cond_user, body_user, [], get_state, set_state, names, opts)


def _range_inputs(t):
    op = getattr(t, "op", None)
    if getattr(op, "type", None) != "Range":
        return None
    try:
        inputs = list(op.inputs)
    except Exception:  # noqa: BLE001 - an op without readable inputs: iterate the tensor
        return None
    return inputs if len(inputs) == 3 else None


def _static_length(iter_):
    """The static first dimension of the tensor a for loop iterates (a Range's output
    included), or None."""
    shape = getattr(iter_, "shape", None)
    if not hasattr(shape, "rank") or shape.rank in (None, 0):
        return None
    d0 = shape.as_list()[0]
    return None if d0 is None else int(d0)


def _staged_for(iter_, extra_test, body, get_state, set_state, names, opts):
    import rill

    bound = _static_length(iter_)
    if bound is not None:  # a `break` only makes the trip count smaller
        opts = {**opts, "_static_trip_bound": bound}
    rng = _range_inputs(iter_)
    if rng is not None:
        start, limit, delta = rng
        if start.dtype.is_integer:
            n = rill.maximum(-((start - limit) // delta), 0)
        else:
            n = rill.cast(rill.maximum(rill.math.ceil((limit - start) / delta), 0), "int32")
        n = rill.cast(n, "int32")

        def element(i):
            return start + rill.cast(i, start.dtype) * delta

    else:
        t = _to_tensor(iter_)
        if t.shape.rank == 0:
            raise TypeError("Cannot iterate over a scalar tensor.")
        d0 = t.shape.as_list()[0] if t.shape.rank is not None else None
        n = d0 if d0 is not None else rill.shape(t, out_type="int32")[0]

        def element(i):
            return rill.gather(t, i)

    def cond_user(aux):
        c = aux[0] < n
        if extra_test is not None:
            e = extra_test()
            if _is_staged(e):
                c = rill.logical_and(c, _pred(e, "for loop"))
            elif not e:
                c = rill.logical_and(c, False)
        return c

    def body_user(aux):
        body(element(aux[0]))
        return [aux[0] + 1]

    zero = _to_tensor(0)
    first = rill.less(zero, n)
    if extra_test is not None:
        e = extra_test()
        if _is_staged(e):
            first = rill.logical_and(first, _pred(e, "for loop"))
        elif not e:
            return
    _staged_loop(first, cond_user, body_user, [zero], get_state, set_state, names, opts)


# --------------------------------------------------------------------------------------
# Statements and builtins
# --------------------------------------------------------------------------------------


def assert_stmt(expression1, expression2=None, source=""):
    """Functional ``assert``: a graph ``Assert`` for a symbolic condition, else Python's."""
    if _is_staged(expression1):
        from rill.ops import debugging_ops

        msg = expression2() if expression2 is not None else f"Assertion failed: {source}"
        data = list(msg) if isinstance(msg, (list, tuple)) else [msg]
        return debugging_ops.Assert(_pred(expression1, "assert statement"), data)
    if not expression1:
        if expression2 is None:
            raise AssertionError()
        raise AssertionError(expression2())
    return None


def len_(s):
    """``len``: a symbolic tensor gives its static first dimension, or a tensor."""
    if _is_staged(s):
        t = _to_tensor(s)
        if t.shape.rank == 0:
            raise ValueError("len requires a non-scalar tensor, got one of shape ()")
        d0 = t.shape.as_list()[0] if t.shape.rank is not None else None
        if d0 is not None:
            return d0
        import rill

        return rill.shape(t, out_type="int32")[0]
    size = getattr(type(s), "__rill_len__", None)
    if size is not None:
        return size(s)
    return len(s)


def range_(start_or_stop, stop=None, step=None):
    """``range``: ``rill.range`` when an argument is a symbolic tensor (or any tensor while
    tracing), so that a ``for`` over it becomes a graph loop; Python's range otherwise."""
    args = [a for a in (start_or_stop, stop, step) if a is not None]
    tracing = _dispatch.state.graph is not None
    if any(_is_staged(a) or (tracing and isinstance(a, _Tensor)) for a in args):
        import rill

        if stop is None:
            return rill.range(start_or_stop)
        return rill.range(start_or_stop, stop, 1 if step is None else step)
    return _builtins.range(*args)


def print_(*objects, **kwargs):
    """``print`` (with Feature.BUILTIN_FUNCTIONS): ``rill.print`` when an argument is a
    symbolic tensor, so it prints on every call; Python's print otherwise."""
    if any(_is_staged(o) for o in objects):
        import rill

        p = getattr(rill, "print", None)
        if p is not None:
            import sys

            kw = {k: v for k, v in kwargs.items() if k in ("sep", "end")}
            kw["output_stream"] = kwargs.get("file") or sys.stdout  # where print writes
            return p(*objects, **kw)
    return _builtins.print(*objects, **kwargs)


BUILTIN_OVERLOADS = {_builtins.len: len_, _builtins.range: range_, _builtins.print: print_}

_converter = None


def converted_call(f, args, kwargs=None, caller_fn_scope=None, options=None):
    """Call ``f(*args, **kwargs)``, converting ``f`` first if it is user code."""
    global _converter
    if _converter is None:
        from rill.autograph import converter

        _converter = converter
    return _converter.converted_call(f, args, kwargs)
