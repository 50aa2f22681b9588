"""A ``While`` differentiated by a GradientTape under ``jit_compile=True``: with a static
bound of its trip count (``maximum_iterations``, a for loop over a tensor of static length)
it lowers to a fixed-length ``lax.scan`` with the iterations past the condition masked, and
its ``WhileGrad`` to the reverse scan. Compiled results (inputs as function arguments)
against the executor's (the same function without jit_compile)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("jax")

import rill as tf  # noqa: E402
from rill.errors import InvalidArgumentError  # noqa: E402
from tests.xla.compiled import assert_close, check_compiled  # noqa: E402

_rng = np.random.default_rng(0)
W = (_rng.normal(size=(3, 3)) * 0.5).astype(np.float32)
X = _rng.normal(size=(5, 3)).astype(np.float32)


def _check(fn, *args, tol=1e-5):
    return check_compiled(fn, *args, tol=tol)[1]


def _while_bounds(cf):
    return [op.params["max_iterations"] for op in cf.graph.ops if op.prim.name == "While"]


def test_an_rnn_loop_over_a_static_range_compiles_with_its_gradient():
    w = tf.Variable(W)

    def step(x):
        with tf.GradientTape() as tape:
            h = tf.zeros([3])
            for i in tf.range(5):
                h = tf.tanh(tf.linalg.matvec(w, h) + x[i])
            loss = tf.reduce_sum(h * h)
        return loss, tape.gradient(loss, w)

    cf = _check(step, tf.constant(X))
    assert _while_bounds(cf) == [5]  # the hint: no op added to the graph


def test_a_loop_over_a_tensor_of_static_length():
    w = tf.Variable(W)

    def step(x):
        with tf.GradientTape() as tape:
            h = tf.zeros([3])
            for row in x:
                h = tf.sin(tf.linalg.matvec(w, h)) + row
            loss = tf.reduce_sum(h**2)
        return loss, tape.gradient(loss, w)

    cf = _check(step, tf.constant(X))
    assert _while_bounds(cf) == [5]


def test_while_loop_with_maximum_iterations_stopped_earlier_by_its_condition():
    w = tf.Variable(np.float32(0.7))

    def f(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            i, y = tf.while_loop(
                lambda i, y: i < 4,
                lambda i, y: (i + 1, tf.sin(y) * w + y),
                [0, x],
                maximum_iterations=7,
            )
            loss = tf.reduce_sum(y**2)
        return i, loss, tape.gradient(loss, [x, w])

    x = tf.constant(X[0])
    cf = _check(f, x)
    assert _while_bounds(cf) == [7]
    assert int(tf.function(f, jit_compile=True)(x)[0]) == 4  # 4 real iterations of 7


def test_maximum_iterations_below_the_condition_stops_the_loop():
    w = tf.Variable(np.float32(0.9))

    def f(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            (y,) = tf.while_loop(lambda y: tf.reduce_sum(y) < 1e6, lambda y: [y * w + 1.0], [x],
                                 maximum_iterations=tf.constant(3))  # fmt: skip
            loss = tf.reduce_sum(y)
        return loss, tape.gradient(loss, [x, w])

    cf = _check(f, tf.constant(X[1]))
    assert _while_bounds(cf) == [3]


@pytest.mark.parametrize("threshold", [0.5, 2.0, 100.0])
def test_a_for_range_loop_with_a_data_dependent_break(threshold):
    w = tf.Variable(W)

    def f(x, thr):
        with tf.GradientTape() as tape:
            tape.watch(x)
            h = tf.zeros([3])
            n = tf.constant(0)
            for i in tf.range(5):
                h = tf.tanh(tf.linalg.matvec(w, h) + x[i])
                n += 1
                if tf.reduce_sum(h * h) > thr:
                    break
            loss = tf.reduce_sum(h * h)
        return n, loss, tape.gradient(loss, [w, x])

    args = (tf.constant(X), tf.constant(np.float32(threshold)))
    _check(f, *args)
    got = tf.function(f, jit_compile=True)(*args)
    ref = tf.function(f)(*args)
    assert int(got[0]) == int(ref[0])


def test_nested_for_range_loops():
    w = tf.Variable(W)
    s = tf.Variable(np.array([0.5, -1.0], np.float32))

    def f(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            h = tf.zeros([3])
            for i in tf.range(4):
                for j in tf.range(2):
                    h = tf.tanh(tf.linalg.matvec(w, h) + x[i] * s[j])
            loss = tf.reduce_sum(h * h)
        return loss, tape.gradient(loss, [w, s, x])

    cf = _check(f, tf.constant(X), tol=1e-4)
    assert _while_bounds(cf) == [4]


def test_a_loop_of_traced_length_raises_naming_while_and_runs_with_auto():
    w = tf.Variable(W)

    def f(x, n):
        with tf.GradientTape() as tape:
            h = tf.zeros([3])
            for i in tf.range(n):
                h = tf.tanh(tf.linalg.matvec(w, h) + x[i])
            loss = tf.reduce_sum(h * h)
        return loss, tape.gradient(loss, w)

    args = (tf.constant(X), tf.constant(4))
    with pytest.raises(InvalidArgumentError, match=r"While(.|\n)*maximum_iterations"):
        tf.function(f, jit_compile=True)(*args)
    ref = tf.function(f)(*args)
    assert_close(tf.function(f, jit_compile="auto")(*args), ref)
    cf = tf.function(f).get_concrete_function(*args)
    assert _while_bounds(cf) == [None]


def test_a_loop_that_assigns_a_variable_under_a_tape_does_not_lower():
    c = tf.Variable(0.0)

    def f(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = x
            for _i in tf.range(3):
                c.assign_add(1.0)
                y = y * 2.0 + c
        return tape.gradient(y, x)

    with pytest.raises(InvalidArgumentError, match="assigns variables"):
        tf.function(f, jit_compile=True)(tf.constant(1.0))


def test_without_a_tape_the_loop_stays_a_while_loop():
    def f(x):
        h = tf.zeros([3])
        for i in tf.range(5):
            h = tf.tanh(h + x[i])
        return h

    cf = _check(f, tf.constant(X))
    assert _while_bounds(cf) == [5]


def _make_model():
    rng = np.random.default_rng(3)
    return (
        tf.Variable((rng.normal(size=(3, 4)) * 0.3).astype(np.float32), name="wx"),
        tf.Variable((rng.normal(size=(4, 4)) * 0.3).astype(np.float32), name="wh"),
        tf.Variable(np.zeros(4, np.float32), name="b"),
    )


def _train(jit_compile, xs, ys, steps=3):
    wx, wh, b = _make_model()
    params = [wx, wh, b]
    opt = tf.keras.optimizers.Adam(learning_rate=0.05)

    @tf.function(jit_compile=jit_compile)
    def train_step(xs, ys):
        with tf.GradientTape() as tape:
            h = tf.zeros([xs.shape[1], 4])
            for t in tf.range(xs.shape[0]):
                h = tf.tanh(tf.matmul(xs[t], wx) + tf.matmul(h, wh) + b)
            loss = tf.reduce_mean((tf.reduce_sum(h, axis=1) - ys) ** 2)
        grads = tape.gradient(loss, params)
        opt.apply_gradients(zip(grads, params))
        return loss

    losses = [float(train_step(xs, ys)) for _ in range(steps)]
    if jit_compile:
        assert train_step.get_concrete_function(xs, ys)._plan.xla is not None
    return losses, [p.numpy() for p in params]


def test_a_keras_style_training_step_with_an_optimizer():
    rng = np.random.default_rng(4)
    xs = tf.constant(rng.normal(size=(6, 2, 3)).astype(np.float32))
    ys = tf.constant(rng.normal(size=(2,)).astype(np.float32))
    got = _train(True, xs, ys)
    ref = _train(False, xs, ys)
    assert_close(got, ref, 1e-4)
    assert got[0][-1] < got[0][0]


def test_the_hint_is_not_exported_and_an_imported_while_has_none(tmp_path):
    pytest.importorskip("google.protobuf")
    from rill.saved_model.load import read_saved_model

    class Looper(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([5, 3], tf.float32)])
        def run(self, x):
            h = tf.zeros([3])
            for i in tf.range(5):
                h = tf.tanh(h + x[i])
            return h

    m = Looper()
    assert _while_bounds(m.run.get_concrete_function()) == [5]
    tf.saved_model.save(m, str(tmp_path))
    meta = read_saved_model(str(tmp_path)).meta_graphs[0]
    nodes = [n for f in meta.graph_def.library.function for n in f.node_def if n.op == "While"]
    assert nodes and all(
        set(n.attr) <= {"T", "output_shapes", "parallel_iterations", "cond", "body"} for n in nodes
    )
    loaded = tf.saved_model.load(str(tmp_path))
    x = tf.constant(X)
    assert_close(loaded.run(x), m.run(x))
    g = tf.function(lambda x: loaded.run(x)).get_concrete_function(x).graph
    bounds = [op.params.get("max_iterations") for op in _all_ops(g) if op.prim.name == "While"]
    assert bounds and all(b is None for b in bounds)


def _all_ops(graph):
    for op in graph.ops:
        yield op
        for p in op.params.values():
            if hasattr(p, "graph") and hasattr(p, "arg_idx"):
                yield from _all_ops(p.graph)
            elif hasattr(p, "ops") and hasattr(p, "inputs"):
                yield from _all_ops(p)
