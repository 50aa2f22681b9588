"""The runtime of converted code (``rill.autograph.operators``).

Python values and eager tensors must give exactly Python's semantics. For symbolic
tensors the overloads must call the graph ops with the right functions and loop
variables: those paths are checked here with a stand-in symbolic tensor and recording
``cond``/``while_loop`` (the real graph ops are covered by test_graph.py).
"""

import numpy as np
import pytest

import rill as tf
from rill.autograph import operators as ops
from rill.core.tensor import Tensor
from rill.ops import control_flow

# --------------------------------------------------------------------------------------
# Python and eager semantics
# --------------------------------------------------------------------------------------


class State:
    """get_state/set_state over a dict, as converted code builds them."""

    def __init__(self, **values):
        self.v = dict(values)
        self.names = tuple(values)

    def get(self):
        return tuple(self.v[n] for n in self.names)

    def set(self, values):
        self.v.update(zip(self.names, values))


@pytest.mark.parametrize("cond", [True, False, 1, 0, "", "s", [], [0], None])
def test_if_stmt_python_truthiness(cond):
    ran = []
    ops.if_stmt(cond, lambda: ran.append("body"), lambda: ran.append("else"), None, None, (), 0)
    assert ran == (["body"] if cond else ["else"])


def test_if_stmt_eager_tensor_is_python_if():
    ran = []
    s = State(y=0)
    ops.if_stmt(
        tf.constant(False), lambda: ran.append(1), lambda: ran.append(2), s.get, s.set, ("y",), 1
    )
    assert ran == [2]
    with pytest.raises(ValueError, match="ambiguous"):
        ops.if_stmt(tf.constant([1, 2]), lambda: None, lambda: None, s.get, s.set, ("y",), 1)


def test_while_stmt_python():
    s = State(i=0, acc=[])

    def test():
        return s.v["i"] < 4

    def body():
        s.v["acc"].append(s.v["i"])
        s.v["i"] += 1

    ops.while_stmt(test, body, s.get, s.set, s.names, {})
    assert s.v == {"i": 4, "acc": [0, 1, 2, 3]}


def test_for_stmt_python_with_extra_test_stops_before_next_item():
    pulled = []

    def gen():
        for i in range(10):
            pulled.append(i)
            yield i

    seen = []
    ops.for_stmt(gen(), lambda: len(seen) < 3, seen.append, None, None, (), {})
    assert seen == [0, 1, 2]
    assert pulled == [0, 1, 2]  # the iterator is not advanced past the break
    seen.clear()
    ops.for_stmt([1, 2], lambda: False, seen.append, None, None, (), {})
    assert seen == []


def test_for_stmt_eager_tensor_iterates_rows():
    rows = []
    ops.for_stmt(tf.constant([[1, 2], [3, 4]]), None, rows.append, None, None, (), {})
    assert [r.numpy().tolist() for r in rows] == [[1, 2], [3, 4]]


def test_for_stmt_delegates_to_hook():
    calls = []

    class Source:
        def __rill_for_stmt__(self, extra_test, body, get_state, set_state, names, opts):
            calls.append((names, opts))
            for v in (7, 8):
                body(v)

    seen = []
    ops.for_stmt(Source(), None, seen.append, None, None, ("a",), {"iterate_names": "v"})
    assert seen == [7, 8] and calls == [(("a",), {"iterate_names": "v"})]


def test_if_exp_and_or_not_are_lazy_python():
    calls = []

    def f(v):
        def g():
            calls.append(v)
            return v

        return g

    assert ops.if_exp(1, f("a"), f("b"), "1") == "a" and calls == ["a"]
    calls.clear()
    assert ops.and_(f(0), f("rhs")) == 0 and calls == [0]
    calls.clear()
    assert ops.and_(f(2), f("rhs")) == "rhs" and calls == [2, "rhs"]
    calls.clear()
    assert ops.or_(f("x"), f("rhs")) == "x" and calls == ["x"]
    calls.clear()
    assert ops.or_(f(""), f(None)) is None and calls == ["", None]
    assert ops.not_([]) is True and ops.not_(3) is False
    assert ops.not_(tf.constant(True)) is False  # eager: Python's `not`


def test_undefined_loads():
    u = ops.Undefined("y")
    assert ops.ld(5) == 5 and ops.ld(None) is None
    with pytest.raises(UnboundLocalError, match="'y' is used before assignment"):
        ops.ld(u)

    def unbound():
        return zz  # noqa: F821 - the NameError is the point

    assert isinstance(ops.ldu(unbound, "zz"), ops.Undefined)
    assert ops.ldu(unbound, "zz").symbol_name == "zz"
    assert ops.ldu(lambda: 3, "x") == 3

    class Empty:
        pass

    assert isinstance(ops.ldu(lambda: Empty().missing, "o.missing"), ops.Undefined)
    assert ops.retval(ops.UndefinedReturnValue()) is None and ops.retval(0) == 0


def test_assert_stmt_python():
    assert ops.assert_stmt(True, lambda: "never") is None
    with pytest.raises(AssertionError, match="^boom$"):
        ops.assert_stmt(0, lambda: "boom")
    with pytest.raises(AssertionError) as info:
        ops.assert_stmt(tf.constant(False), None, "x > 0")
    assert info.value.args == ()


def test_len_range_print_builtins_python(capsys):
    assert ops.len_([1, 2, 3]) == 3
    assert ops.len_(tf.constant([[1], [2]])) == 2

    class Sized:
        def __rill_len__(self):
            return 11

    assert ops.len_(Sized()) == 11
    assert ops.range_(3) == range(3) and ops.range_(1, 7, 2) == range(1, 7, 2)
    assert ops.range_(tf.constant(2)) == range(2)  # eager: Python's range
    ops.print_("a", 1, sep="-")
    assert capsys.readouterr().out == "a-1\n"


def test_converted_call_routes_builtins():
    assert ops.converted_call(len, ([1, 2],), None) == 2
    assert ops.converted_call(range, (2, 4), None) == range(2, 4)
    assert ops.converted_call(max, (1, 5), {"key": lambda v: -v}) == 1


# --------------------------------------------------------------------------------------
# Symbolic paths, with a stand-in symbolic tensor
# --------------------------------------------------------------------------------------


class Sym(Tensor):
    """A stand-in symbolic tensor: it carries a value (so the recorded graph ops can run
    the branches and loops for real), counts as symbolic for
    ``rill.core.dispatch.is_symbolic``, and, with the ``Recorder`` installed, every op
    with a Sym input returns a Sym, as ops on traced tensors return traced tensors."""

    __slots__ = ("_value", "_dtype")

    def __init__(self, value, dtype=None):
        t = tf.constant(value, dtype=dtype)
        self._value = t._value
        self._dtype = t.dtype

    @classmethod
    def of(cls, array):
        from rill.core.tensor import dtype_of_array

        s = cls.__new__(cls)
        s._value = np.asarray(array)
        s._dtype = dtype_of_array(s._value)
        return s

    @property
    def dtype(self):
        return self._dtype

    @property
    def shape(self):
        return tf.TensorShape(self._value.shape)

    def __bool__(self):
        raise TypeError("symbolic tensor used as a Python bool")

    def __int__(self):  # for the test's own checks of the values computed
        return int(self._value)

    def __float__(self):
        return float(self._value)


class _SymGraph:
    """A stand-in for the graph being traced (rill.core.interfaces.TracingGraph): ops run
    their kernels and return Sym."""

    def bind(self, prim, inputs, params):
        out = prim.kernel(*[t._value for t in inputs], **params)
        return Sym.of(out) if prim.n_out == 1 else tuple(Sym.of(o) for o in out)


class Recorder:
    """Records ``cond``/``while_loop`` calls (running them eagerly) and makes ops on Sym
    inputs return Sym."""

    def __init__(self, monkeypatch):
        from rill.core import dispatch

        self.conds, self.loops = [], []
        monkeypatch.setattr(control_flow, "cond", self.cond)
        monkeypatch.setattr(control_flow, "while_loop", self.while_loop)
        monkeypatch.setattr(dispatch.state, "graph", _SymGraph())
        monkeypatch.setattr(dispatch, "_slow", dispatch._slow + 1)

    def cond(self, pred, true_fn, false_fn, name=None):
        t = true_fn()  # a graph cond traces both branches
        f = false_fn()
        self.conds.append({"pred": pred, "true": t, "false": f})
        return t if bool(np.asarray(pred._value)) else f

    def while_loop(self, cond, body, loop_vars, shape_invariants=None, maximum_iterations=None):
        self.loops.append(
            {"init": list(loop_vars), "inv": shape_invariants, "max": maximum_iterations}
        )
        lv = list(loop_vars)
        n = 0
        while bool(np.asarray(cond(*lv)._value)):
            if maximum_iterations is not None and n >= maximum_iterations:
                break
            lv = list(body(*lv))
            n += 1
        return lv


def values(xs):
    return [np.asarray(x._value).tolist() if isinstance(x, Tensor) else x for x in xs]


def test_is_symbolic_sees_the_stand_in():
    from rill.core import dispatch

    assert dispatch.is_symbolic(Sym(1)) and not dispatch.is_symbolic(tf.constant(1))


@pytest.mark.parametrize("pred,expected", [(True, 10), (False, 20)])
def test_if_stmt_symbolic_calls_cond(monkeypatch, pred, expected):
    rec = Recorder(monkeypatch)
    s = State(y=0, tmp=5)
    traced = []

    def body():
        traced.append("body")
        s.v["y"] = 10
        s.v["tmp"] = 99

    def orelse():
        traced.append("else")
        assert s.v["tmp"] == 5  # state was restored before this branch
        s.v["y"] = 20

    ops.if_stmt(Sym(pred), body, orelse, s.get, s.set, ("y", "tmp"), 1)
    assert traced == ["body", "else"] and len(rec.conds) == 1
    assert int(s.v["y"]) == expected and isinstance(s.v["y"], Tensor)
    assert s.v["tmp"] == 5  # not an output: restored to its value before the `if`
    assert values(rec.conds[0]["true"]) == [10] and values(rec.conds[0]["false"]) == [20]


def test_if_stmt_symbolic_without_outputs_still_traces_both(monkeypatch):
    rec = Recorder(monkeypatch)
    traced = []
    ops.if_stmt(
        Sym(True), lambda: traced.append(1), lambda: traced.append(2), tuple, lambda v: 0, (), 0
    )
    assert traced == [1, 2] and len(rec.conds) == 1


def test_if_stmt_nested_structures_and_constants(monkeypatch):
    Recorder(monkeypatch)
    marker = object()
    s = State(pair=(0, [0.0]), obj=marker)

    def body():
        s.v["pair"] = (1, [1.5])

    def orelse():
        s.v["pair"] = (2, [2.5])

    ops.if_stmt(Sym(False), body, orelse, s.get, s.set, ("pair", "obj"), 2)
    a, (b,) = s.v["pair"]
    assert (int(a), float(b)) == (2, 2.5)
    assert s.v["obj"] is marker  # the same Python object in both branches passes through


def test_if_stmt_predicate_must_be_scalar_bool(monkeypatch):
    Recorder(monkeypatch)
    with pytest.raises(TypeError, match="Condition of if statement expected to be `rill.bool`"):
        ops.if_stmt(Sym(1), lambda: None, lambda: None, tuple, None, (), 0)
    with pytest.raises(TypeError, match="rill.bool"):
        ops.if_stmt(Sym([True, False]), lambda: None, lambda: None, tuple, None, (), 0)


def _branch_error(monkeypatch, body_value, else_value, name="y", before=None):
    Recorder(monkeypatch)
    s = State(**{name: ops.Undefined(name) if before is None else before})

    def setter(v):
        def fn():
            if v is not _SKIP:
                s.v[name] = v

        return fn

    ops.if_stmt(Sym(True), setter(body_value), setter(else_value), s.get, s.set, (name,), 1)
    return s.v[name]


_SKIP = object()


def test_if_stmt_variable_defined_in_one_branch(monkeypatch):
    with pytest.raises(ValueError, match="'y' must also be initialized in the else branch"):
        _branch_error(monkeypatch, 1, _SKIP)
    with pytest.raises(ValueError, match="'y' must also be initialized in the main branch"):
        _branch_error(monkeypatch, _SKIP, 1)
    # undefined in both branches: stays undefined (only an error if it is read)
    assert isinstance(_branch_error(monkeypatch, _SKIP, _SKIP), ops.Undefined)


def test_if_stmt_branch_consistency_errors(monkeypatch):
    with pytest.raises(
        TypeError, match="'y' has dtype int32 in the main branch, but dtype float32 in the else"
    ):
        _branch_error(monkeypatch, 1, 2.0)
    with pytest.raises(ValueError, match="'y' is None at the end of the else branch"):
        _branch_error(monkeypatch, 1, None, before=0)
    with pytest.raises(ValueError, match="'y' must have the same nested structure"):
        _branch_error(monkeypatch, [1], [1, 2])
    with pytest.raises(TypeError, match="depends on a tensor condition must be a tensor"):
        _branch_error(monkeypatch, object(), object())


def test_if_stmt_return_in_one_branch(monkeypatch):
    Recorder(monkeypatch)
    s = State(retval_=ops.UndefinedReturnValue())

    def ret():
        s.v["retval_"] = 1

    with pytest.raises(ValueError, match="the else branch must also have a return statement"):
        ops.if_stmt(Sym(True), ret, lambda: None, s.get, s.set, ("retval_",), 1)


@pytest.mark.parametrize("returns_in", ["main", "else"])
def test_if_stmt_fillable_return_value_gets_a_placeholder(monkeypatch, returns_in):
    rec = Recorder(monkeypatch)
    s = State(do_return=False, retval_=ops.UndefinedReturnValue(True))

    def ret():
        s.v["do_return"] = True
        s.v["retval_"] = 7.5

    body, orelse = (ret, lambda: None) if returns_in == "main" else (lambda: None, ret)
    ops.if_stmt(Sym(returns_in == "main"), body, orelse, s.get, s.set, s.names, 2)
    assert bool(s.v["do_return"]._value) is True and float(s.v["retval_"]) == 7.5
    # the branch without a return carries zeros of the same dtype
    # the branch traced second (after a swap, the main branch) carries zeros
    assert values(rec.conds[-1]["false"]) == [False, 0.0]
    # a return in the else branch is traced first by swapping the branches
    assert bool(rec.conds[-1]["pred"]._value) is True


def test_while_stmt_symbolic_calls_while_loop(monkeypatch):
    rec = Recorder(monkeypatch)
    n = Sym(5)
    marker = _Opaque("keep")
    s = State(i=0, total=0.0, name=marker)

    def body():
        s.v["total"] = s.v["total"] + tf.cast(s.v["i"], tf.float32)
        s.v["i"] = s.v["i"] + 1

    ops.while_stmt(lambda: s.v["i"] < n, body, s.get, s.set, s.names, {})
    assert len(rec.loops) == 1
    loop = rec.loops[0]
    assert values(loop["init"]) == [0, 0.0]  # tensors only; the object is a constant
    assert [t.dtype for t in loop["init"]] == [tf.int32, tf.float32]
    assert int(s.v["i"]) == 5 and float(s.v["total"]) == 10.0 and s.v["name"] is marker


def test_while_stmt_switches_to_a_graph_loop_midway(monkeypatch):
    rec = Recorder(monkeypatch)
    x = Sym(2)
    s = State(i=0)

    def test():
        return s.v["i"] < 7

    def body():
        s.v["i"] = s.v["i"] + x  # after one Python iteration, `i` is symbolic

    s.v["i"] = 0
    ops.while_stmt(test, body, s.get, s.set, s.names, {})
    assert len(rec.loops) == 1 and values(rec.loops[0]["init"]) == [2]
    assert int(s.v["i"]) == 8


def test_while_stmt_loop_variable_errors(monkeypatch):
    Recorder(monkeypatch)
    n = Sym(3)

    def run(init, update, opts=None):
        s = State(i=0, v=init)

        def body():
            s.v["v"] = update(s.v["v"])
            s.v["i"] = s.v["i"] + 1

        ops.while_stmt(lambda: s.v["i"] < n, body, s.get, s.set, s.names, opts or {})
        return s.v["v"]

    with pytest.raises(
        TypeError, match="'v' has dtype int32 before the loop, but dtype float32 after one"
    ):
        run(0, lambda v: 1.5)
    with pytest.raises(
        ValueError,
        match=r"'v' has shape \(1,\) before the loop, but shape \(2,\) after one iteration. "
        "Use rill.autograph.experimental.set_loop_options",
    ):
        run(tf.zeros([1]), lambda v: tf.concat([v, [1.0]], 0))
    with pytest.raises(ValueError, match="'v' does not keep its nested structure"):
        run([0], lambda v: [v[0], v[0]])
    with pytest.raises(TypeError, match="'v' is a _Opaque before the loop and is reassigned"):
        run(_Opaque("a"), lambda v: _Opaque("b"))
    keep = _Opaque("same")
    assert run(keep, lambda v: v) is keep  # unchanged Python objects pass through


class _Opaque:
    def __init__(self, tag):
        self.tag = tag

    def __eq__(self, other):
        return False

    __hash__ = object.__hash__


def test_while_stmt_shape_invariants_and_maximum_iterations(monkeypatch):
    rec = Recorder(monkeypatch)
    n = Sym(3)
    v0 = tf.zeros([1])
    s = State(i=0, v=v0)

    def body():
        s.v["v"] = tf.concat([s.v["v"], [1.0]], 0)
        s.v["i"] = s.v["i"] + 1

    opts = {"shape_invariants": [(v0, tf.TensorShape([None]))], "maximum_iterations": 2}
    ops.while_stmt(lambda: s.v["i"] < n, body, s.get, s.set, s.names, opts)
    loop = rec.loops[0]
    assert [str(x) for x in loop["inv"]] == ["()", "(None,)"] and loop["max"] == 2
    assert s.v["v"].shape.as_list() == [3]


def test_while_stmt_undefined_variable_is_initialized_by_the_first_iteration(monkeypatch):
    rec = Recorder(monkeypatch)
    n = Sym(3)
    s = State(i=0, z=ops.Undefined("z"))

    def body():
        s.v["i"] = s.v["i"] + 1
        s.v["z"] = tf.cast(s.v["i"], tf.float32) * 10.0

    ops.while_stmt(lambda: s.v["i"] < n, body, s.get, s.set, s.names, {})
    assert len(rec.conds) == 1  # first iteration under cond(test, first, zeros)
    assert values(rec.conds[0]["false"]) == [0, 0.0]
    assert values(rec.loops[0]["init"]) == [1, 10.0]
    assert int(s.v["i"]) == 3 and float(s.v["z"]) == 30.0


def test_while_stmt_variable_never_defined_by_the_body(monkeypatch):
    Recorder(monkeypatch)
    n = Sym(3)
    s = State(i=0, z=ops.Undefined("z"))

    def body():
        s.v["i"] = s.v["i"] + 1

    with pytest.raises(ValueError, match="'z' must be defined before the loop"):
        ops.while_stmt(lambda: s.v["i"] < n, body, s.get, s.set, s.names, {})


def test_for_stmt_over_symbolic_tensor(monkeypatch):
    rec = Recorder(monkeypatch)
    xs = Sym([1.0, 2.0, 4.0])
    s = State(total=0.0)
    seen = []

    def body(x):
        seen.append(x)
        s.v["total"] = s.v["total"] + x

    ops.for_stmt(xs, None, body, s.get, s.set, s.names, {"iterate_names": "x"})
    assert float(s.v["total"]) == 7.0
    assert values(rec.loops[0]["init"]) == [0, 0.0]  # the index, then the loop variable
    assert [float(v) for v in seen] == [1.0, 2.0, 4.0]


def test_for_stmt_symbolic_with_break_flag(monkeypatch):
    Recorder(monkeypatch)
    xs = Sym([1, 5, 2, 9])
    s = State(brk=False, total=0)

    def body(x):
        s.v["total"] = s.v["total"] + x
        s.v["brk"] = tf.greater(s.v["total"], 5)

    def extra():
        return ops.not_(s.v["brk"]) if isinstance(s.v["brk"], Tensor) else not s.v["brk"]

    ops.for_stmt(xs, extra, body, s.get, s.set, s.names, {})
    assert int(s.v["total"]) == 6


def test_for_stmt_python_list_with_symbolic_break_guards_the_rest(monkeypatch):
    rec = Recorder(monkeypatch)
    limit = Sym(4)
    s = State(brk=False, total=0)

    def body(x):
        s.v["total"] = s.v["total"] + x
        s.v["brk"] = s.v["total"] > limit  # a tensor-dependent break

    ops.for_stmt([1, 2, 3, 4], lambda: ops.not_(s.v["brk"]), body, s.get, s.set, s.names, {})
    assert len(rec.conds) == 3  # iterations after the first run under cond(not break_)
    assert int(s.v["total"]) == 6 and bool(s.v["brk"]._value)


def test_logical_operators_symbolic(monkeypatch):
    rec = Recorder(monkeypatch)
    t, f = Sym(True), Sym(False)
    assert bool(ops.and_(lambda: t, lambda: f)._value) is False and len(rec.conds) == 1
    assert bool(ops.or_(lambda: f, lambda: True)._value) is True and len(rec.conds) == 2
    assert bool(ops.not_(f)._value) is True
    v = ops.if_exp(t, lambda: 1, lambda: 2, "c")
    assert int(v) == 1 and len(rec.conds) == 3
    with pytest.raises(TypeError, match="if_exp"):
        ops.if_exp(t, lambda: 1, lambda: 2.0, "c")


def test_assert_len_range_print_symbolic(monkeypatch):
    from rill.ops import debugging_ops

    asserts = []
    monkeypatch.setattr(debugging_ops, "Assert", lambda c, data: asserts.append((c, data)))
    ops.assert_stmt(Sym(True), lambda: "msg", "x > 0")
    ops.assert_stmt(Sym(True), None, "x > 0")
    assert [d for _, d in asserts] == [["msg"], ["Assertion failed: x > 0"]]
    assert ops.len_(Sym([[1], [2], [3]])) == 3
    with pytest.raises(ValueError, match="non-scalar"):
        ops.len_(Sym(1))
    r = ops.range_(Sym(3))
    assert isinstance(r, Tensor) and r.numpy().tolist() == [0, 1, 2]
    printed = []
    monkeypatch.setattr(tf, "print", lambda *a, **k: printed.append((a, k)), raising=False)
    x = Sym(1)
    ops.print_("x is", x, sep=":")
    import sys

    assert printed == [(("x is", x), {"sep": ":", "output_stream": sys.stdout})]
