"""tf.variable_creator_scope: creators see every tf.Variable argument, chain innermost
first, may change arguments or the result, and stop applying when the scope exits."""

import threading

import pytest

import rill as tf
from rill.core.variable_scope import variable_creator_scope

ARGS = sorted(
    "aggregation caching_device constraint dtype experimental_enable_variable_lifting "
    "import_scope initial_value name shape synchronization trainable validate_shape "
    "variable_def".split()
)


def test_creator_sees_all_args_and_can_change_them():
    seen = []

    def creator(next_creator, **kw):
        seen.append(kw)
        kw["trainable"] = False
        return next_creator(**kw)

    with variable_creator_scope(creator):
        v = tf.Variable(2.0, name="a")
    assert sorted(seen[0]) == ARGS  # the keyword set TF 2.21 passes
    assert seen[0]["initial_value"] == 2.0 and seen[0]["name"] == "a"
    assert not v.trainable and v.numpy() == 2.0
    assert tf.Variable(1.0).trainable  # scope closed: no creator


def test_nesting_order_and_replacement():
    order = []

    def outer(nc, **kw):
        order.append("outer")
        return nc(**kw)

    def inner(nc, **kw):
        order.append("inner")
        kw["initial_value"] = 5.0
        return nc(**kw)

    with variable_creator_scope(outer), variable_creator_scope(inner):
        v = tf.Variable(1.0)
    assert order == ["inner", "outer"] and v.numpy() == 5.0

    sentinel = object()
    with variable_creator_scope(lambda nc, **kw: sentinel):
        assert tf.Variable(1.0) is sentinel


def test_positional_args_and_thread_isolation():
    got = {}

    def creator(nc, **kw):
        got["t"] = kw["trainable"]
        return nc(**kw)

    with variable_creator_scope(creator):
        other = []
        th = threading.Thread(target=lambda: other.append(tf.Variable(1.0, False)))
        th.start()
        th.join()
        assert "t" not in got  # another thread's Variable is not routed through this scope
        tf.Variable(1.0, False)
    assert got["t"] is False


def test_creator_exception_propagates_and_scope_pops():
    def bad(nc, **kw):
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        with variable_creator_scope(bad):
            tf.Variable(1.0)
    assert tf.Variable(3.0).numpy() == 3.0


def test_matches_tf():
    tfr = pytest.importorskip("tensorflow")

    def run(scope, variable):
        log = []

        def creator(nc, **kw):
            log.append(sorted(kw))
            kw["name"] = "renamed"
            return nc(**kw)

        with scope(creator):
            v = variable([1.0, 2.0], name="x")
        return log, v.name, v.numpy().tolist()

    assert run(variable_creator_scope, tf.Variable) == run(tfr.variable_creator_scope, tfr.Variable)
