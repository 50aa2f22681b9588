"""tf.gradients / tf.hessians inside traced functions, RegisterGradient / no_gradient:
closed forms, and TF itself where installed."""

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

import rill as tf


def test_gradients_and_hessians_match_closed_forms():
    @tf.function
    def f(x):
        y = x**3 + tf.sin(x)
        (g,) = tf.gradients(y, [x])
        (h,) = tf.hessians(tf.reduce_sum(x**3), x)
        return g, h

    x = np.array([1.0, 2.0], np.float32)
    g, h = f(tf.constant(x))
    np.testing.assert_allclose(g.numpy(), 3 * x**2 + np.cos(x), rtol=1e-6)
    np.testing.assert_allclose(h.numpy(), np.diag(6 * x), rtol=1e-6)


def test_stop_gradients_grad_ys_and_unconnected():
    @tf.function
    def s(x):
        y = x * 2.0
        z = y * y
        a = tf.gradients(z, x, stop_gradients=[y])[0]  # x reaches z only through y
        b = tf.gradients(z, [x, y])
        c = tf.gradients([z, y], [x], grad_ys=[tf.constant(2.0), tf.constant(3.0)])
        d = tf.gradients(z, [x, tf.constant(1.0)], unconnected_gradients="zero")
        return a is None, b, c, d

    none, b, c, d = s(tf.constant(3.0))
    assert bool(none)
    assert [float(v) for v in b] == [24.0, 12.0]  # dz/dx = 8x, dz/dy = 2y
    assert [float(v) for v in c] == [2 * 24.0 + 3 * 2.0]
    assert [float(v) for v in d] == [24.0, 0.0]


def test_eager_gradients_point_to_the_tape_and_registry_rejects_duplicates():
    with pytest.raises(RuntimeError, match="GradientTape"):
        tf.gradients(tf.constant(1.0), tf.constant(2.0))
    with pytest.raises(KeyError, match="two gradient"):
        tf.RegisterGradient("MatMul")(lambda op, g: g)
    tf.RegisterGradient("RillTestCustomOp")(lambda op, g: g)
    with pytest.raises(KeyError):
        tf.no_gradient("RillTestCustomOp")
    tf.no_gradient("RillTestOtherOp")


@pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="TensorFlow not installed"
)
def test_against_tensorflow():
    script = """
import numpy as np, {lib} as tf
@tf.function
def f(x):
    y = x**3 + tf.sin(x) * x
    g = tf.gradients(y, [x])[0]
    h = tf.hessians(tf.reduce_sum(tf.tanh(x) * x**2), x)[0]
    z = (x * 2.0) ** 2
    return g, h, tf.gradients([z, x], [x], grad_ys=[tf.constant([2.0, 1.0]), tf.constant([3.0, 1.0])])[0]
print([np.round(v.numpy(), 4).tolist() for v in f(tf.constant([0.5, -1.5]))])
"""
    outs = []
    for lib in ("rill", "tensorflow"):
        r = subprocess.run(
            [sys.executable, "-c", script.format(lib=lib)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 0, r.stderr[-1500:]
        outs.append(r.stdout.strip().splitlines()[-1])
    assert outs[0] == outs[1]


# --- a variable read several times in a graph cond, and side effects under a tape -------


def test_cond_gradient_counts_each_read_of_a_variable_once():
    # each branch reads w in the enclosing graph (one If input per read); reads of one
    # variable share its tape id, so the gradient must land on the variable once
    w = tf.Variable(2.0)

    @tf.function(autograph=False)
    def inside(x):
        with tf.GradientTape() as t:
            h = tf.cond(x > 0, lambda: w * w * w, lambda: w * 5.0)
        return t.gradient(h, w)

    assert inside(tf.constant(1.0)).numpy() == 3 * 2.0**2  # d(w^3)/dw
    assert inside(tf.constant(-1.0)).numpy() == 5.0
    f = tf.function(lambda x: tf.cond(x > 0, lambda: w * w * w, lambda: w + 0.0), autograph=False)
    with tf.GradientTape() as t:  # a tape outside the function replays its If
        h = f(tf.constant(1.0))
    assert t.gradient(h, w).numpy() == 12.0


def test_gradients_of_control_flow_do_not_repeat_its_assignments():
    # the gradient replays a branch or loop body: its assignments happened in the forward
    # pass already (a counter counted twice before)
    w, c = tf.Variable(2.0), tf.Variable(0.0)

    @tf.function
    def loop():
        with tf.GradientTape() as t:
            h = tf.constant(1.0)
            for _ in tf.range(3):
                c.assign_add(1.0)
                h = h * w
        return t.gradient(h, w)

    assert loop().numpy() == 3 * 2.0**2 and c.numpy() == 3.0

    @tf.function
    def branch(x):
        with tf.GradientTape() as t:
            if x > 0:
                c.assign_add(1.0)
                h = w * w
            else:
                h = w
        return t.gradient(h, w)

    c.assign(0.0)
    assert branch(tf.constant(1.0)).numpy() == 4.0 and c.numpy() == 1.0

    @tf.function
    def scanned(xs):
        with tf.GradientTape() as t:

            def step(a, x):
                c.assign_add(1.0)
                return a + x * w

            loss = tf.reduce_sum(tf.scan(step, xs, initializer=tf.constant(0.0)))
        return t.gradient(loss, w)

    c.assign(0.0)
    # y = [w, 3w, 6w]: d(sum)/dw = 1 + 3 + 6
    assert scanned(tf.constant([1.0, 2.0, 3.0])).numpy() == 10.0 and c.numpy() == 3.0
