"""GradientTape against closed forms and finite differences."""

import numpy as np
import pytest

import rill as tf


def test_polynomial_gradient_closed_form():
    x = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = x * x * x + 2.0 * x
    assert float(tape.gradient(y, x)) == pytest.approx(3 * 9 + 2)


def test_non_scalar_target_is_summed():
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 2 * np.array([1.0, 2.0, 3.0]))


def test_output_gradients_weight_the_target():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    g = tape.gradient(y, x, output_gradients=tf.constant([10.0, 1.0]))
    np.testing.assert_allclose(g.numpy(), [20.0, 4.0])


def test_nested_sources_structure():
    a, b = tf.Variable(2.0), tf.Variable(5.0)
    with tf.GradientTape() as tape:
        y = a * b
    g = tape.gradient(y, {"a": a, "rest": [b]})
    assert float(g["a"]) == 5.0 and float(g["rest"][0]) == 2.0


def test_fan_out_accumulates():
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x + x * 3.0 + x
    assert float(tape.gradient(y, x)) == pytest.approx(2 * 2 + 3 + 1)


def test_non_persistent_tape_single_use():
    x = tf.Variable(1.0)
    with tf.GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent"):
        tape.gradient(y, x)


def test_persistent_tape_reusable():
    x = tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as tape:
        y = x * x
        z = y * y
    assert float(tape.gradient(y, x)) == 4.0
    assert float(tape.gradient(z, x)) == pytest.approx(4 * 8.0)


def test_unwatched_integer_and_unconnected_sources():
    x = tf.constant(1.0)
    i = tf.constant(2)
    v = tf.Variable(1.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(i)
        y = x * 2.0 + v
    assert tape.gradient(y, x) is None  # constant not watched
    assert tape.gradient(y, i) is None  # integers get no gradient
    u = tf.Variable(4.0)
    assert tape.gradient(y, u) is None
    z = tape.gradient(y, u, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    assert float(z) == 0.0


def test_watch_accessed_variables_false():
    a, b = tf.Variable(1.0), tf.Variable(2.0)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(a)
        y = a * b
    ga, gb = tape.gradient(y, [a, b])
    assert float(ga) == 2.0 and gb is None
    assert tape.watched_variables() == (a,)


def test_non_trainable_variables_not_watched():
    v = tf.Variable(3.0, trainable=False)
    with tf.GradientTape() as tape:
        y = v * v
    assert tape.gradient(y, v) is None


def test_stop_recording_and_reset():
    x = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y = x * x
        with tape.stop_recording():
            z = x * 100.0
        w = y + z
    assert float(tape.gradient(w, x)) == 4.0
    with tf.GradientTape() as tape:
        y = x * x * x
        tape.reset()
        y = x * 5.0
    assert float(tape.gradient(y, x)) == 5.0


def test_ops_before_tape_are_not_recorded():
    x = tf.Variable(3.0)
    with tf.GradientTape() as t1:
        y = x * x
    with tf.GradientTape() as t2:
        t2.watch(y)
        z = y * 2.0
    assert t2.gradient(z, x) is None
    assert t1.gradient(y, x) is not None


def test_second_and_third_order():
    x = tf.Variable(2.0)
    with tf.GradientTape() as t3:
        with tf.GradientTape() as t2:
            with tf.GradientTape() as t1:
                y = x * x * x * x
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    assert (float(d1), float(d2), float(d3)) == pytest.approx((4 * 8, 12 * 4, 24 * 2))


def test_gradient_through_variable_updates_sums_reads():
    v = tf.Variable(1.0)
    with tf.GradientTape() as tape:
        a = v * 2.0
        v.assign(5.0)
        b = v * v
        total = a + b
    # d/dv of (2 v_read1 + v_read2^2) with reads at 1 and 5
    assert float(tape.gradient(total, v)) == pytest.approx(2.0 + 10.0)


def test_jacobian_and_batch_jacobian_match_finite_differences():
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]], tf.float64)
    w = tf.constant([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = tf.matmul(x, w) * tf.matmul(x, w)
    j = tape.jacobian(y, x).numpy()
    assert j.shape == (2, 3, 2, 2)
    eps = 1e-6
    xn = x.numpy()
    for idx in np.ndindex(*xn.shape):
        d = np.zeros_like(xn)
        d[idx] = eps
        f = lambda a: (a @ w.numpy()) ** 2  # noqa: E731
        num = (f(xn + d) - f(xn - d)) / (2 * eps)
        np.testing.assert_allclose(j[(..., *idx)], num, rtol=1e-6)
    bj = tape.batch_jacobian(y, x).numpy()
    assert bj.shape == (2, 3, 2)
    for b in range(2):
        np.testing.assert_allclose(bj[b], j[b, :, b, :])


def test_batch_jacobian_traces_and_differentiates_again():
    # y[b, i] = sum_k w[i, k] * x[b, k]^3: dy/dx[b] = w * 3 x[b]^2 (closed form), and the
    # sum of the batch jacobian's entries differentiated again gives sum_i w[i, k] * 6 x.
    x0 = np.array([[1.0, -2.0], [0.5, 3.0], [2.0, 1.0]])
    w = tf.constant([[0.5, -1.0], [2.0, 1.5], [1.0, 1.0]], tf.float64)
    expected = w.numpy()[None] * 3 * x0[:, None, :] ** 2

    def batch_jac(x):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = tf.matmul(x * x * x, w, transpose_b=True)
            bj = inner.batch_jacobian(y, x)
            total = tf.reduce_sum(bj)
        return bj, outer.gradient(total, x)

    x = tf.constant(x0)
    for fn in (batch_jac, tf.function(batch_jac)):
        bj, second = fn(x)
        np.testing.assert_allclose(bj.numpy(), expected)
        np.testing.assert_allclose(second.numpy(), 6 * x0 * w.numpy().sum(axis=0))


def test_custom_gradient_overrides():
    @tf.custom_gradient
    def clipped_identity(x):
        def grad(dy):
            return dy * 0.5

        return x * 1.0, grad

    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = clipped_identity(x) * 4.0
    assert float(tape.gradient(y, x)) == 2.0
    assert float(clipped_identity(x)) == 3.0


def test_custom_gradient_with_variables():
    v = tf.Variable(2.0)

    @tf.custom_gradient
    def scale(x):
        def grad(dy, variables=None):
            return dy * v, [dy * x * 10.0]

        return x * v, grad

    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = scale(x)
    gx, gv = tape.gradient(y, [x, v])
    assert float(gx) == 2.0 and float(gv) == 30.0


def test_custom_gradient_without_variables_kwarg_raises():
    v = tf.Variable(2.0)

    @tf.custom_gradient
    def f(x):
        return x * v, lambda dy: dy

    with tf.GradientTape() as tape:
        x = tf.constant(1.0)
        tape.watch(x)
        with pytest.raises(TypeError, match="variables"):
            f(x)


def test_recompute_grad_matches_plain_gradient():
    def f(x):
        return x * x * x

    g = tf.recompute_grad(f)
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = g(x)
    assert float(tape.gradient(y, x)) == pytest.approx(12.0)


def test_long_chain_does_not_overflow_stack():
    x = tf.Variable(1.0)
    with tf.GradientTape() as tape:
        y = x
        for _ in range(5000):
            y = y * 1.0001
    assert float(tape.gradient(y, x)) == pytest.approx(1.0001**5000, rel=1e-3)


def test_tape_keeps_eager_fast_path_off_only_while_active():
    from rill.core import dispatch

    assert dispatch._slow == 0
    with tf.GradientTape():
        assert dispatch._slow == 1
    assert dispatch._slow == 0


def test_tape_keeps_only_values_the_gradient_reads():
    import gc
    import weakref

    x = tf.Variable(np.ones(1000))
    with tf.GradientTape() as tape:
        added = tf.constant(np.full(1000, 2.0))
        multiplied = tf.constant(np.full(1000, 3.0))
        ref_added, ref_mul = weakref.ref(added), weakref.ref(multiplied)
        y = tf.reduce_sum(tf.nn.relu(x + added) * multiplied)
        del added, multiplied
    gc.collect()
    assert ref_added() is None  # Add's rule needs only shapes: its operand was released
    assert ref_mul() is not None  # Mul's rule reads the other operand's value
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), np.full(1000, 3.0))


def test_stand_ins_share_one_read_only_zero_view_per_shape():
    from rill.core import dispatch

    x = tf.Variable(np.ones((40, 50)))
    views = []
    for _ in range(2):
        with tf.GradientTape() as tape:
            y = x + tf.constant(np.full((40, 50), 2.0))  # AddV2 keeps neither operand
        (entry,) = tape._entries
        views += [t._value for t in entry[2]]
        assert entry[2][0]._tid == x._tid  # the stand-in keeps the operand's tape id
        np.testing.assert_array_equal(tape.gradient(y, x).numpy(), np.ones((40, 50)))
    assert all(v is views[0] for v in views)  # one array per shape and dtype
    assert not views[0].flags.writeable and views[0].shape == (40, 50)
    assert not views[0].any()
    for n in range(1100):  # shapes made on the fly do not pile up
        dispatch._zero_view((n + 1,), np.dtype(np.float32))
    assert len(dispatch._ZERO_VIEWS) <= 1024


def test_higher_order_through_shape_only_ops_on_tensors():
    x0 = np.array([[0.3, -0.2, 0.5], [0.1, 0.4, -0.6]])
    x = tf.constant(x0)
    w = tf.constant(np.array([[1.0, -2.0], [0.5, 0.25], [-1.0, 3.0]]))
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            h = tf.exp(tf.matmul(x + 1.0, w))  # add, matmul, exp (shape-only / output-only saves)
            y = tf.reduce_sum(tf.reshape(h, [-1]))
        g = inner.gradient(y, x)
        z = tf.reduce_sum(g * g)
    gz = outer.gradient(z, x).numpy()

    # closed form: g = exp((x+1)w) w^T; z = sum(g^2); dz/dx via finite differences
    def z_of(a):
        e = np.exp((a + 1.0) @ w.numpy())
        return np.sum((e @ w.numpy().T) ** 2)

    eps, num = 1e-6, np.zeros_like(x0)
    for idx in np.ndindex(*x0.shape):
        d = np.zeros_like(x0)
        d[idx] = eps
        num[idx] = (z_of(x0 + d) - z_of(x0 - d)) / (2 * eps)
    np.testing.assert_allclose(gz, num, rtol=1e-6)
