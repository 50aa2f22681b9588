"""The gradient of gather / embedding_lookup is an IndexedSlices (TF's behaviour): its
densified value matches finite differences, IndexedSlices gradients concatenate, meet dense
ones as dense, reach Keras optimizers and Variable.scatter_*."""

from __future__ import annotations

import numpy as np
import pytest

import rill as tf


def _params():
    return np.arange(15, dtype=np.float64).reshape(5, 3) / 7.0


def test_gather_gradient_is_indexed_slices():
    p = tf.Variable(_params())
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.gather(p, [[0, 2], [2, 4]]) * 3.0)
    g = tape.gradient(y, p)
    assert isinstance(g, tf.IndexedSlices)
    assert g.indices.numpy().tolist() == [0, 2, 2, 4]  # indices flattened
    assert g.values.shape == (4, 3) and g.dense_shape.dtype == tf.int32
    assert g.dense_shape.numpy().tolist() == [5, 3]
    # densified: d/dp sum(3 * p[idx]) = 3 * (count of each row)
    expected = 3.0 * np.bincount([0, 2, 2, 4], minlength=5)[:, None] * np.ones((1, 3))
    np.testing.assert_allclose(tf.convert_to_tensor(g).numpy(), expected)


def test_gather_gradient_matches_finite_differences():
    idx = tf.constant([3, 0, 3])
    w = np.random.default_rng(0).standard_normal((3, 3))

    def f(x):
        return tf.reduce_sum(tf.gather(x, idx) ** 2 * w)

    x0 = _params()
    xt = tf.constant(x0)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = f(xt)
    g = tf.convert_to_tensor(tape.gradient(y, xt)).numpy()
    num, eps = np.zeros_like(x0), 1e-6
    for k in range(x0.size):
        d = np.zeros(x0.size)
        d[k] = eps
        d = d.reshape(x0.shape)
        num.flat[k] = (float(f(tf.constant(x0 + d))) - float(f(tf.constant(x0 - d)))) / (2 * eps)
    np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8)


def test_gather_gradient_of_watched_tensor_and_embedding_lookup_of_variable():
    x = tf.constant(_params())
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.gather(x, tf.constant([1, 1], tf.int64)))
    g = tape.gradient(y, x)
    assert isinstance(g, tf.IndexedSlices) and g.indices.dtype == tf.int64
    np.testing.assert_allclose(g.values.numpy(), np.ones((2, 3)))
    table = tf.Variable(_params())
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.nn.embedding_lookup(table, [[0, 4]]))
    g = tape.gradient(y, table)
    assert isinstance(g, tf.IndexedSlices) and g.indices.numpy().tolist() == [0, 4]


def test_composite_ops_tf_runs_as_kernels_keep_dense_gradients():
    # rill builds sparse_dense_matmul from gathers; TF's kernel has a dense gradient
    sp = tf.sparse.from_dense(tf.constant([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]], tf.float64))
    b = tf.constant(np.ones((3, 2)))
    with tf.GradientTape() as tape:
        tape.watch(b)
        y = tf.reduce_sum(tf.sparse.sparse_dense_matmul(sp, b))
    g = tape.gradient(y, b)
    assert not isinstance(g, tf.IndexedSlices)
    # d/db sum(A @ b) = A^T @ ones
    a = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]])
    np.testing.assert_allclose(g.numpy(), a.T @ np.ones((2, 2)))


def test_two_slices_concatenate_and_dense_contributions_densify():
    p = tf.Variable(_params())
    with tf.GradientTape(persistent=True) as tape:
        a = tf.reduce_sum(tf.gather(p, [0, 2]) * 2.0) + tf.reduce_sum(tf.gather(p, [1]))
        b = tf.reduce_sum(tf.gather(p, [0, 2])) + tf.reduce_sum(p)
    ga = tape.gradient(a, p)
    assert isinstance(ga, tf.IndexedSlices)
    # TF's order: the later op's rows first (the backward pass meets it first)
    assert ga.indices.numpy().tolist() == [1, 0, 2]
    np.testing.assert_allclose(ga.values.numpy(), [[1.0] * 3, [2.0] * 3, [2.0] * 3])
    gb = tape.gradient(b, p)
    assert not isinstance(gb, tf.IndexedSlices)
    np.testing.assert_allclose(
        gb.numpy(), (1.0 + np.array([1, 0, 1, 0, 0])[:, None]) * np.ones((1, 3))
    )


def test_slices_flowing_into_an_op_are_densified():
    p = tf.Variable(_params())
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.gather(p * 3.0, [4, 4]))
    g = tape.gradient(y, p)
    assert not isinstance(g, tf.IndexedSlices)  # Mul's gradient is dense, as in TF
    np.testing.assert_allclose(g.numpy(), 6.0 * (np.arange(5) == 4)[:, None] * np.ones((1, 3)))


def test_gather_on_other_axes_stays_dense():
    p = tf.Variable(_params())
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.gather(p, [0, 2], axis=1))
    g = tape.gradient(y, p)
    assert not isinstance(g, tf.IndexedSlices)
    np.testing.assert_allclose(g.numpy(), np.tile([1.0, 0.0, 1.0], (5, 1)))


def test_gradient_inside_function_is_slices():
    p = tf.Variable(_params())

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(tf.gather(p, [1, 3]))
        return tape.gradient(y, p)

    g = step()
    assert isinstance(g, tf.IndexedSlices)
    np.testing.assert_allclose(
        tf.convert_to_tensor(g).numpy(), (np.isin(np.arange(5), [1, 3]))[:, None] * np.ones((1, 3))
    )


def test_keras_optimizer_applies_slices():
    p = tf.Variable(_params())
    start = p.numpy().copy()
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.gather(p, [0, 0, 3]))
    g = tape.gradient(y, p)
    tf.keras.optimizers.SGD(learning_rate=0.5).apply_gradients([(g, p)])
    expected = start - 0.5 * np.bincount([0, 0, 3], minlength=5)[:, None]
    np.testing.assert_allclose(p.numpy(), expected)


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_keras_sgd_matches_dense_gradients(momentum):
    """Sparse (plain SGD scatters rows) and dense (momentum) updates both equal the
    update from the densified gradient."""
    start = _params()
    sparse_v, dense_v = tf.Variable(start), tf.Variable(start)
    opt_s = tf.keras.optimizers.SGD(learning_rate=0.1, momentum=momentum)
    opt_d = tf.keras.optimizers.SGD(learning_rate=0.1, momentum=momentum)
    for _ in range(2):
        with tf.GradientTape(persistent=True) as tape:
            ys = tf.reduce_sum(tf.gather(sparse_v, [1, 4, 1]) ** 2)
            yd = tf.reduce_sum(tf.gather(dense_v, [1, 4, 1]) ** 2)
        opt_s.apply_gradients([(tape.gradient(ys, sparse_v), sparse_v)])
        opt_d.apply_gradients([(tf.convert_to_tensor(tape.gradient(yd, dense_v)), dense_v)])
    np.testing.assert_allclose(sparse_v.numpy(), dense_v.numpy(), rtol=1e-12)
    assert int(opt_s.iterations.numpy()) == 2


@pytest.mark.parametrize(
    "kind, ufunc",
    [
        ("add", np.add),
        ("sub", np.subtract),
        ("mul", np.multiply),
        ("div", np.divide),
        ("min", np.minimum),
        ("max", np.maximum),
    ],
)
def test_variable_scatter_accepts_slices(kind, ufunc):
    start = _params()
    v = tf.Variable(start)
    vals = np.array([[2.0] * 3, [3.0] * 3, [0.5] * 3])
    idx = np.array([1, 3, 1])
    getattr(v, f"scatter_{kind}")(tf.IndexedSlices(tf.constant(vals), tf.constant(idx)))
    expected = start.copy()
    for i, row in zip(idx, vals):  # duplicates apply one after another
        expected[i] = ufunc(expected[i], row)
    np.testing.assert_allclose(v.numpy(), expected)


def test_variable_scatter_update_and_type_error():
    v = tf.Variable(_params())
    v.scatter_update(tf.IndexedSlices(tf.constant([[9.0, 9.0, 9.0]], tf.float64), [2]))
    assert v.numpy()[2].tolist() == [9.0, 9.0, 9.0]
    with pytest.raises(TypeError, match="IndexedSlices"):
        v.scatter_add(tf.constant([1.0]))


def test_matches_tensorflow():
    tft = pytest.importorskip("tensorflow")
    for lib in (tf, tft):
        p = lib.Variable(_params())
        with lib.GradientTape() as tape:
            y = tf_sum = lib.reduce_sum(lib.gather(p, [[4], [1]]) * 2.0)
            y = tf_sum + lib.reduce_sum(lib.gather(p, [1]))
        g = tape.gradient(y, p)
        if lib is tf:
            mine = (g.indices.numpy(), g.values.numpy(), g.dense_shape.numpy())
        else:
            theirs = (g.indices.numpy(), g.values.numpy(), g.dense_shape.numpy())
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a, b)
