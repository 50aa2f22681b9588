"""TensorArray (the TensorList primitives) under ``jit_compile=True``: each compiled
function against the same function on rill's executor, inputs passed as arguments so that
they are traced values, not constants folded on the host."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("jax")

import rill as tf  # noqa: E402
from rill.errors import InvalidArgumentError  # noqa: E402
from tests.xla.compiled import assert_close, check_compiled  # noqa: E402

_rng = np.random.default_rng(0)
X = tf.constant(_rng.normal(size=(4, 6)).astype(np.float32))
W = _rng.normal(size=(6,)).astype(np.float32)


def _check(fn, *args, tol=1e-5):
    return check_compiled(fn, *args, tol=tol)[0]


# --------------------------------------------------------------------------------------
# writing and reading in loops
# --------------------------------------------------------------------------------------


def test_write_and_stack_in_a_for_range_loop_element_shape_unknown():
    def f(x):
        t = tf.TensorArray(tf.float32, size=4)
        for i in tf.range(4):
            t = t.write(i, x[i] * 2.0)
        return t.stack()

    got = _check(f, X)
    np.testing.assert_allclose(got.numpy(), X.numpy() * 2.0, rtol=1e-6)


def test_write_and_stack_in_a_for_range_loop_element_shape_known():
    def f(x):
        t = tf.TensorArray(tf.float32, size=4, element_shape=[6])
        for i in tf.range(4):
            t = t.write(i, tf.tanh(x[i]))
        return t.stack(), t.size()

    _check(f, X)


def test_unwritten_elements_read_as_zeros():
    def f(x):
        t = tf.TensorArray(tf.float32, size=5)
        for i in tf.range(1, 4):
            t = t.write(i, x[i])
        return t.stack(), t.read(0), t.read(4)

    got = _check(f, X)
    np.testing.assert_array_equal(got[0].numpy()[[0, 4]], 0.0)


def test_read_at_a_traced_index():
    def f(x, k):
        t = tf.TensorArray(tf.float32, size=4).unstack(x)
        return t.read(k), t.read(3 - k)

    for k in range(4):
        got = _check(f, X, tf.constant(k))
        np.testing.assert_array_equal(got[0].numpy(), X.numpy()[k])


def test_a_while_loop_reads_back_earlier_writes():
    def f(x):
        t = tf.TensorArray(tf.float32, size=4, clear_after_read=False)
        t = t.write(0, x[0])
        for i in tf.range(1, 4):
            t = t.write(i, t.read(i - 1) * 0.5 + x[i])
        return t.stack()

    got = _check(f, X)
    want = [X.numpy()[0]]
    for i in range(1, 4):
        want.append(want[-1] * 0.5 + X.numpy()[i])
    np.testing.assert_allclose(got.numpy(), np.stack(want), rtol=1e-5)


def _read_before_write(shape):
    def f(x):
        t = tf.TensorArray(tf.float32, size=4, element_shape=shape)
        for i in tf.range(4):
            if i > 0:  # a read of the list in the body, before the loop's first write
                v = t.read(i - 1) * 0.5 + x[i]
            else:
                v = x[i]
            t = t.write(i, v)
        return t.stack()

    return f


def test_a_loop_that_reads_before_it_writes_needs_the_element_shape():
    _check(_read_before_write([6]), X)
    f = _read_before_write(None)
    with pytest.raises(InvalidArgumentError, match="give the TensorArray an element_shape"):
        tf.function(f, jit_compile=True)(X)
    assert_close(tf.function(f, jit_compile="auto")(X), tf.function(f)(X))  # on the executor


def test_tensor_array_in_a_tf_while_loop_with_another_loop_variable():
    def f(x, n):
        t = tf.TensorArray(tf.float32, size=4)

        def body(i, t, s):
            return i + 1, t.write(i, x[i] * s), s * 2.0

        i, t, s = tf.while_loop(lambda i, t, s: i < n, body, [0, t, tf.constant(1.0)])
        return i, t.stack(), s

    _check(f, X, tf.constant(4))
    _check(f, X, tf.constant(2))  # elements 2 and 3 are never written: zeros


def test_two_tensor_arrays_one_read_from_the_other():
    def f(x):
        a = tf.TensorArray(tf.float32, size=4)
        b = tf.TensorArray(tf.float32, size=4)
        for i in tf.range(4):
            a = a.write(i, x[i] + 1.0)
            b = b.write(i, a.read(i) * x[i])
        return a.stack(), b.stack()

    _check(f, X)


def test_a_write_in_one_branch_of_a_cond():
    def f(x, p):
        t = tf.TensorArray(tf.float32, size=3)
        t = tf.cond(p, lambda: t.write(1, x[0]), lambda: t)
        return t.stack(), t.size()

    _check(f, X, tf.constant(True))
    _check(f, X, tf.constant(False))


def test_nested_loops_and_a_write_under_a_data_dependent_cond():
    def f(x):
        out = tf.TensorArray(tf.float32, size=4)
        flat = tf.TensorArray(tf.float32, size=24)
        for i in tf.range(4):
            inner = tf.TensorArray(tf.float32, size=6)  # a fresh list each iteration
            for j in tf.range(6):
                inner = inner.write(j, x[i, j] + tf.cast(j, tf.float32))
                if x[i, j] > 0:  # written or left as zeros
                    flat = flat.write(i * 6 + j, x[i, j])
            out = out.write(i, inner.stack())
        return out.stack(), flat.stack()

    _check(f, X)


def test_a_python_loop_of_static_writes_with_dynamic_size():
    def f(x):
        t = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        for j in range(3):  # unrolled: static indices, so the list grows statically
            t = t.write(j, x[j] * float(j))
        return t.stack(), t.size()

    _check(f, X)


# --------------------------------------------------------------------------------------
# whole-list operations
# --------------------------------------------------------------------------------------


def test_unstack_gather_and_size():
    def f(x, idx):
        t = tf.TensorArray(tf.float32, size=4).unstack(x * 3.0)
        return t.gather(idx), t.gather([3, 0]), t.size(), t.stack()

    _check(f, X, tf.constant([2, 0, 2], tf.int32))


def test_size_drives_a_loop():
    def f(x):
        t = tf.TensorArray(tf.float32, size=4).unstack(x)
        acc = tf.zeros([6])
        for i in tf.range(t.size()):
            acc = acc + t.read(i)
        return acc

    got = _check(f, X)
    np.testing.assert_allclose(got.numpy(), X.numpy().sum(0), rtol=1e-5)


def test_scatter_at_static_and_traced_indices():
    def f(x, idx):
        t = tf.TensorArray(tf.float32, size=5)
        t = t.scatter([4, 1], x[:2])
        u = tf.TensorArray(tf.float32, size=5, element_shape=[6]).scatter(idx, x[1:3] * 2.0)
        return t.stack(), u.stack()

    _check(f, X, tf.constant([3, 0], tf.int32))


def test_split_and_concat():
    def f(x):
        flat = tf.reshape(x, [24])
        even = tf.TensorArray(tf.float32, size=3).split(flat, [8, 8, 8])
        uneven = tf.TensorArray(tf.float32, size=3, infer_shape=False).split(flat, [4, 15, 5])
        return even.concat(), even.read(1), uneven.concat(), uneven.read(2)

    _check(f, X)


def test_elements_of_different_lengths_written_at_static_indices():
    def f(x):
        t = tf.TensorArray(tf.float32, size=3, infer_shape=False)
        t = t.write(0, x[0, :2]).write(1, x[1]).write(2, x[2, 1:4])
        return t.concat(), t.read(1), t.gather([2])

    _check(f, X)


def test_concat_of_written_elements():
    def f(x):
        pairs = tf.reshape(x, [2, 2, 6])
        t = tf.TensorArray(tf.float32, size=2)
        for i in tf.range(2):
            t = t.write(i, pairs[i])
        return t.concat()

    got = _check(f, X)
    np.testing.assert_array_equal(got.numpy(), X.numpy())


def test_element_shape_known_from_the_tensor_array_when_never_written():
    def f(x):
        t = tf.TensorArray(tf.float32, size=3, element_shape=[2])
        return t.stack() + tf.reduce_sum(x)

    _check(f, X)


# --------------------------------------------------------------------------------------
# gradients: a GradientTape inside the compiled function
# --------------------------------------------------------------------------------------


def test_gradients_through_every_list_operation():
    w = tf.Variable(W)

    def f(x, k):
        with tf.GradientTape() as tape:
            tape.watch(x)
            xw = x * w
            a = tf.TensorArray(tf.float32, size=0, dynamic_size=True)  # grows: Resize
            a = a.write(0, xw[0]).write(2, tf.sin(xw[1]))
            b = tf.TensorArray(tf.float32, size=4).unstack(xw)
            c = tf.TensorArray(tf.float32, size=5).scatter([4, 0], xw[2:])
            d = tf.TensorArray(tf.float32, size=2).split(tf.reshape(xw, [24]), [12, 12])
            loss = (
                tf.reduce_sum(a.stack() ** 2)
                + tf.reduce_sum(b.read(k) * b.read(1))  # read twice: list gradients add
                + tf.reduce_sum(b.gather([3, 3, 0]) ** 2)
                + tf.reduce_sum(tf.cos(c.stack()))
                + tf.reduce_sum(d.concat() * d.read(1)[0])
            )
        return loss, tape.gradient(loss, [w, x])

    _check(f, X, tf.constant(2), tol=1e-4)


def test_map_fn_with_a_tensor_array_inside_and_gradients():
    w = tf.Variable(W[:3])

    def f(x):
        with tf.GradientTape() as tape:
            tape.watch(x)

            def fn(row):
                t = tf.TensorArray(tf.float32, size=3)
                for j in range(3):
                    t = t.write(j, row * w[j])
                return tf.reduce_sum(tf.sin(t.stack()), 0)

            y = tf.map_fn(fn, x)
            loss = tf.reduce_sum(y**2)
        return y, tape.gradient(loss, [w, x])

    _check(f, X, tol=1e-4)


def test_scan_with_a_tensor_array_inside_and_gradients():
    w = tf.Variable(W)

    def f(x):
        with tf.GradientTape() as tape:

            def fn(acc, row):
                t = tf.TensorArray(tf.float32, size=6).unstack(row * w)
                return acc + t.read(0) * t.read(5) + tf.reduce_sum(t.gather([1, 2, 2]))

            y = tf.scan(fn, x, initializer=tf.constant(0.0))
            loss = tf.reduce_sum(y**2)
        return y, tape.gradient(loss, w)

    _check(f, X, tol=1e-4)


def test_a_tensor_array_carried_through_foldl_with_gradients():
    w = tf.Variable(W)

    def f(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            src = tf.TensorArray(tf.float32, size=4).unstack(x * w)  # read inside: captured

            def step(c, row):
                i, t = c
                return i + 1, t.write(i, tf.tanh(src.read(i) * row))

            _, t = tf.foldl(step, x, initializer=(0, tf.TensorArray(tf.float32, size=4)))
            s = t.stack()
            loss = tf.reduce_sum(s**2)
        return s, tape.gradient(loss, [w, x])

    _check(f, X, tol=1e-4)


def test_a_for_range_loop_under_a_tape_lowers_with_a_static_length():
    # a while_loop differentiated by a tape keeps every iteration: its static trip-count
    # bound (the range's length) makes it a fixed-length scan, TensorArray included
    w = tf.Variable(W)

    def f(x):
        with tf.GradientTape() as tape:
            t = tf.TensorArray(tf.float32, size=4)
            for i in tf.range(4):
                t = t.write(i, x[i] * w)
            loss = tf.reduce_sum(t.stack() ** 2)
        return tape.gradient(loss, w)

    _check(f, X, tol=1e-4)


def test_a_for_range_loop_of_traced_length_under_a_tape_does_not_lower():
    # no static bound of the trip count: XLA cannot keep every iteration
    w = tf.Variable(W)

    def f(x, n):
        with tf.GradientTape() as tape:
            t = tf.TensorArray(tf.float32, size=4)
            for i in tf.range(n):
                t = t.write(i, x[i] * w)
            loss = tf.reduce_sum(t.stack() ** 2)
        return tape.gradient(loss, w)

    n = tf.constant(4)
    with pytest.raises(InvalidArgumentError, match="While"):
        tf.function(f, jit_compile=True)(X, n)
    want = tf.function(f)(X, n)
    assert_close(tf.function(f, jit_compile="auto")(X, n), want)


# --------------------------------------------------------------------------------------
# what does not lower
# --------------------------------------------------------------------------------------


def _growing(x, n):
    t = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    for i in tf.range(n):
        t = t.write(i, x[0] * tf.cast(i, tf.float32))
    return t.stack()


def test_a_size_known_only_at_run_time_does_not_lower():
    def f(x, n):
        return tf.TensorArray(tf.float32, size=n).write(0, x[0]).stack()

    with pytest.raises(InvalidArgumentError, match="TensorListReserve.*known when compiling"):
        tf.function(f, jit_compile=True)(X, tf.constant(4))
    got = tf.function(f, jit_compile="auto")(X, tf.constant(3))  # on the executor
    assert_close(got, tf.function(f)(X, tf.constant(3)))
    assert got.shape == (3, 6)


def test_dynamic_size_written_at_traced_indices_does_not_lower():
    n = tf.constant(3)
    with pytest.raises(InvalidArgumentError, match="TensorListSetItem") as e:
        tf.function(_growing, jit_compile=True)(X, n)
    assert "dynamic_size" in str(e.value)
    want = tf.function(_growing)(X, n)
    got = tf.function(_growing, jit_compile="auto")(X, n)  # runs on the executor
    assert_close(got, want)
    assert got.shape == (3, 6)
