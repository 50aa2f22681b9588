"""Behaviour of tf.nn activations, softmax, losses and normalization against NumPy formulas."""

import math

import numpy as np
import pytest

import rill as tf
from rill.core.errors import InvalidArgumentError

rng = np.random.default_rng(3)


def _grad(f, x):
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = f(xt)
    return tape.gradient(y, xt).numpy()


def _np_log_softmax(x, axis=-1):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


# --- activations ----------------------------------------------------------------------


def test_rectifier_values():
    x = rng.standard_normal((4, 5)) * 4
    np.testing.assert_allclose(tf.nn.relu(x).numpy(), np.maximum(x, 0))
    np.testing.assert_allclose(tf.nn.relu6(x).numpy(), np.clip(x, 0, 6))
    np.testing.assert_allclose(tf.nn.elu(x).numpy(), np.where(x > 0, x, np.exp(x) - 1), rtol=1e-12)
    a, s = 1.6732632423543772, 1.0507009873554805
    np.testing.assert_allclose(
        tf.nn.selu(x).numpy(), s * np.where(x > 0, x, a * (np.exp(x) - 1)), rtol=1e-12
    )
    np.testing.assert_allclose(tf.nn.leaky_relu(x).numpy(), np.where(x > 0, x, 0.2 * x))
    np.testing.assert_allclose(
        tf.nn.leaky_relu(x, alpha=0.01).numpy(), np.where(x > 0, x, 0.01 * x)
    )
    np.testing.assert_allclose(tf.nn.softsign(x).numpy(), x / (1 + np.abs(x)), rtol=1e-12)


def test_rectifier_dtypes():
    assert tf.nn.relu(tf.constant([-1, 2])).dtype == tf.int32
    assert tf.nn.relu6(tf.constant([-1, 9])).numpy().tolist() == [0, 6]
    y = tf.nn.leaky_relu(tf.constant([-1, 2]))
    assert y.dtype == tf.float32
    np.testing.assert_allclose(y.numpy(), [-0.2, 2.0])
    with pytest.raises(InvalidArgumentError):
        tf.nn.elu(tf.constant([1, 2]))
    with pytest.raises(InvalidArgumentError):
        tf.nn.softsign(tf.constant([1, 2]))


def test_activation_gradients_at_kinks_follow_tf():
    x = np.array([-1.0, 0.0, 3.0, 6.0])
    np.testing.assert_array_equal(_grad(tf.nn.relu, x), [0, 0, 1, 1])
    np.testing.assert_array_equal(_grad(tf.nn.relu6, x), [0, 0, 1, 0])
    np.testing.assert_allclose(_grad(tf.nn.elu, x), [math.exp(-1), 1, 1, 1])
    np.testing.assert_allclose(_grad(tf.nn.leaky_relu, x), [0.2, 0.2, 1, 1])
    np.testing.assert_allclose(_grad(tf.nn.softsign, x), 1 / (1 + np.abs(x)) ** 2)
    s = 1.0507009873554805
    np.testing.assert_allclose(
        _grad(tf.nn.selu, x), [s * 1.6732632423543772 * math.exp(-1), s, s, s]
    )


def test_elu_second_derivative():
    xt = tf.constant([-0.7, 0.4])
    with tf.GradientTape() as t2:
        t2.watch(xt)
        with tf.GradientTape() as t1:
            t1.watch(xt)
            y = tf.nn.elu(xt)
        g = t1.gradient(y, xt)
    np.testing.assert_allclose(t2.gradient(g, xt).numpy(), [math.exp(-0.7), 0.0], rtol=1e-6)


def test_gelu_and_silu():
    x = rng.standard_normal(7) * 2
    erf = np.vectorize(math.erf)
    np.testing.assert_allclose(
        tf.nn.gelu(x).numpy(), 0.5 * x * (1 + erf(x / math.sqrt(2))), rtol=1e-12
    )
    approx = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(tf.nn.gelu(x, approximate=True).numpy(), approx, rtol=1e-12)
    with pytest.raises(ValueError):
        tf.nn.gelu(tf.constant([1, 2]))
    np.testing.assert_allclose(tf.nn.silu(x).numpy(), x / (1 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_allclose(
        tf.nn.swish(x, beta=2.0).numpy(), x / (1 + np.exp(-2 * x)), rtol=1e-12
    )
    np.testing.assert_allclose(
        _grad(tf.nn.gelu, x),
        0.5 * (1 + erf(x / math.sqrt(2))) + x * np.exp(-(x**2) / 2) / math.sqrt(2 * math.pi),
        rtol=1e-10,
    )


# --- softmax --------------------------------------------------------------------------


def test_softmax_values_axis_and_stability():
    x = rng.standard_normal((3, 4, 5)) * 3
    for axis in (-1, 0, 1):
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        np.testing.assert_allclose(
            tf.nn.softmax(x, axis=axis).numpy(), e / e.sum(axis=axis, keepdims=True), rtol=1e-12
        )
        np.testing.assert_allclose(
            tf.nn.log_softmax(x, axis=axis).numpy(), _np_log_softmax(x, axis), rtol=1e-12
        )
    big = tf.constant([1000.0, 1000.0, -1000.0])
    np.testing.assert_allclose(tf.nn.softmax(big).numpy(), [0.5, 0.5, 0.0])
    np.testing.assert_allclose(
        tf.nn.log_softmax(big).numpy(), [-math.log(2), -math.log(2), -2000 - math.log(2)], rtol=1e-6
    )
    assert tf.math.softmax is tf.nn.softmax
    assert tf.nn.softmax(tf.constant([1.0, 2.0], tf.float16)).dtype == tf.float16


def test_softmax_errors():
    with pytest.raises(InvalidArgumentError):
        tf.nn.softmax(tf.constant([1, 2]))
    with pytest.raises(InvalidArgumentError):
        tf.nn.softmax(tf.constant(1.0))
    with pytest.raises(InvalidArgumentError):
        tf.nn.softmax(tf.ones([2, 2]), axis=2)


def test_softmax_gradients():
    x = rng.standard_normal((2, 3))
    w = rng.standard_normal((2, 3))
    sm = np.exp(_np_log_softmax(x))
    g = _grad(lambda t: tf.reduce_sum(tf.nn.softmax(t) * w), x)
    np.testing.assert_allclose(g, sm * (w - (w * sm).sum(-1, keepdims=True)), rtol=1e-10)
    g = _grad(lambda t: tf.reduce_sum(tf.nn.log_softmax(t) * w), x)
    np.testing.assert_allclose(g, w - sm * w.sum(-1, keepdims=True), rtol=1e-10)


# --- cross-entropies --------------------------------------------------------------------


def test_softmax_cross_entropy_values_and_grads():
    x = rng.standard_normal((3, 4))
    lab = rng.uniform(size=(3, 4))
    lab /= lab.sum(-1, keepdims=True)
    loss = tf.nn.softmax_cross_entropy_with_logits(labels=lab, logits=x)
    np.testing.assert_allclose(loss.numpy(), -(lab * _np_log_softmax(x)).sum(-1), rtol=1e-12)
    xt, lt = tf.constant(x), tf.constant(lab)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([xt, lt])
        loss = tf.nn.softmax_cross_entropy_with_logits(labels=lt, logits=xt)
    np.testing.assert_allclose(
        tape.gradient(loss, xt).numpy(), np.exp(_np_log_softmax(x)) - lab, rtol=1e-10
    )
    np.testing.assert_allclose(tape.gradient(loss, lt).numpy(), -_np_log_softmax(x), rtol=1e-10)


def test_softmax_cross_entropy_gradient_uses_tf_convention():
    # TF's fused kernel returns softmax - labels even when labels don't sum to one
    x = tf.constant([[0.0, 0.0, 1.0]])
    lab = tf.constant([[1.0, 1.0, 0.0]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.softmax_cross_entropy_with_logits(labels=lab, logits=x)
    sm = np.exp(_np_log_softmax(x.numpy()))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), sm - lab.numpy(), rtol=1e-6)


def test_softmax_cross_entropy_axis_broadcast_errors():
    x = rng.standard_normal((3, 2))
    lab = np.full((3, 2), 1 / 3)
    y = tf.nn.softmax_cross_entropy_with_logits(labels=lab, logits=x, axis=0)
    np.testing.assert_allclose(y.numpy(), -(lab * _np_log_softmax(x, 0)).sum(0), rtol=1e-12)
    y = tf.nn.softmax_cross_entropy_with_logits(labels=np.full((1, 2), 0.5), logits=x)
    assert y.shape == (3,)
    assert (
        tf.nn.softmax_cross_entropy_with_logits(labels=tf.ones([3]), logits=tf.ones([3])).shape
        == ()
    )
    with pytest.raises(InvalidArgumentError):
        tf.nn.softmax_cross_entropy_with_logits(labels=tf.ones([3, 2]), logits=tf.ones([3, 3]))


@pytest.mark.parametrize("shape,axis", [((2, 3, 4), 1), ((2, 3, 4), 0), ((2, 3, 4), -1), ((5,), 0)])
def test_softmax_cross_entropy_any_axis_and_rank(shape, axis):
    # TF's op takes [batch, classes] rows: the wrapper moves the axis last and flattens;
    # values and both gradients against the closed forms along ``axis``
    x = rng.standard_normal(shape)
    lab = rng.uniform(0.1, 1.0, shape)
    lab /= lab.sum(axis=axis, keepdims=True)
    w = rng.standard_normal(np.delete(shape, axis % len(shape)))
    xt, lt = tf.constant(x), tf.constant(lab)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([xt, lt])
        y = tf.nn.softmax_cross_entropy_with_logits(labels=lt, logits=xt, axis=axis)
        s = tf.reduce_sum(y * w)
    lsm = _np_log_softmax(x, axis)
    np.testing.assert_allclose(y.numpy(), -(lab * lsm).sum(axis), rtol=1e-12)
    wk = np.expand_dims(w, axis)
    np.testing.assert_allclose(tape.gradient(s, xt).numpy(), wk * (np.exp(lsm) - lab), rtol=1e-10)
    np.testing.assert_allclose(tape.gradient(s, lt).numpy(), -wk * lsm, rtol=1e-10)


def test_softmax_cross_entropy_traced_without_a_static_rank():
    x = rng.standard_normal((2, 3, 4))
    lab = np.full((2, 3, 4), 0.25)
    spec = [tf.TensorSpec(None, tf.float64)] * 2
    last = tf.function(
        lambda a, b: tf.nn.softmax_cross_entropy_with_logits(b, a), input_signature=spec
    )
    np.testing.assert_allclose(
        last(x, lab).numpy(), -(lab * _np_log_softmax(x)).sum(-1), rtol=1e-12
    )
    first = tf.function(
        lambda a, b: tf.nn.softmax_cross_entropy_with_logits(b, a, axis=0), input_signature=spec
    )
    with pytest.raises(ValueError, match="axis=0 needs logits of known rank"):
        first(x, lab)


def test_sparse_softmax_cross_entropy():
    x = rng.standard_normal((2, 3, 5))
    lab = np.array([[0, 4, 2], [1, 1, 3]])
    y = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=lab, logits=x)
    onehot = np.eye(5)[lab]
    np.testing.assert_allclose(y.numpy(), -(onehot * _np_log_softmax(x)).sum(-1), rtol=1e-12)
    assert y.dtype == tf.float64 and y.shape == (2, 3)
    g = _grad(lambda t: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=lab, logits=t), x)
    np.testing.assert_allclose(g, np.exp(_np_log_softmax(x)) - onehot, rtol=1e-10)


def test_sparse_softmax_cross_entropy_of_strided_logits():
    # logits whose array is a transposed view (as a transpose's output is): the loss and
    # its gradient do not depend on the memory layout
    base = rng.standard_normal((5, 3, 2))
    lab = np.array([[0, 4, 2], [1, 1, 3]])
    x = tf.transpose(tf.constant(base))  # shape (2, 3, 5)
    assert not x._value.flags.c_contiguous  # else this test checks nothing new
    want = np.transpose(base)
    onehot = np.eye(5)[lab]
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=lab, logits=x)
    np.testing.assert_allclose(y.numpy(), -(onehot * _np_log_softmax(want)).sum(-1), rtol=1e-12)
    g = tape.gradient(y, x).numpy()
    np.testing.assert_allclose(g, np.exp(_np_log_softmax(want)) - onehot, rtol=1e-10)


def test_sparse_softmax_cross_entropy_second_order_matches_dense():
    x = rng.standard_normal((2, 4))
    lab = np.array([3, 0])
    w = rng.standard_normal((2, 4))

    def hv(f):
        xt = tf.constant(x)
        with tf.GradientTape() as t2:
            t2.watch(xt)
            with tf.GradientTape() as t1:
                t1.watch(xt)
                y = f(xt)
            g = t1.gradient(y, xt)
            s = tf.reduce_sum(g * w)
        return t2.gradient(s, xt).numpy()

    sparse = hv(lambda t: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=lab, logits=t))
    sm = np.exp(_np_log_softmax(x))
    np.testing.assert_allclose(sparse, sm * (w - (w * sm).sum(-1, keepdims=True)), rtol=1e-10)


def test_sparse_softmax_cross_entropy_errors():
    with pytest.raises(InvalidArgumentError, match="valid range"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.constant([0, 3]), logits=tf.zeros([2, 3])
        )
    with pytest.raises(InvalidArgumentError):
        tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.constant([0, -1]), logits=tf.zeros([2, 3])
        )
    with pytest.raises(InvalidArgumentError):
        tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.constant([0.0, 1.0]), logits=tf.zeros([2, 3])
        )
    with pytest.raises(ValueError):
        tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.constant([0, 1, 1]), logits=tf.zeros([2, 3])
        )


def test_sigmoid_cross_entropy():
    x = np.array([-100.0, -2.0, 0.0, 1.5, 100.0])
    z = np.array([0.0, 1.0, 0.5, 0.2, 1.0])
    y = tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x).numpy()
    ref = np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-30)
    assert np.all(np.isfinite(y))
    g = _grad(lambda t: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=t), x)
    np.testing.assert_allclose(g, 1 / (1 + np.exp(-x)) - z, rtol=1e-10, atol=1e-30)
    with pytest.raises(ValueError):
        tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones([3]), logits=tf.ones([2]))


def test_weighted_and_poisson_losses():
    x = rng.standard_normal(6)
    z = rng.uniform(size=6)
    q = 2.5
    sig = 1 / (1 + np.exp(-x))
    ref = -(q * z * np.log(sig) + (1 - z) * np.log(1 - sig))
    np.testing.assert_allclose(
        tf.nn.weighted_cross_entropy_with_logits(z, x, q).numpy(), ref, rtol=1e-10
    )
    t = np.array([0.5, 1.0, 2.0, 4.0])
    c = rng.standard_normal(4)
    full = np.exp(c) - c * t + np.where(t > 1, t * np.log(t) - t + 0.5 * np.log(2 * np.pi * t), 0)
    np.testing.assert_allclose(tf.nn.log_poisson_loss(t, c).numpy(), np.exp(c) - c * t, rtol=1e-12)
    np.testing.assert_allclose(
        tf.nn.log_poisson_loss(t, c, compute_full_loss=True).numpy(), full, rtol=1e-12
    )


# --- losses, normalization ----------------------------------------------------------------


def test_l2_loss_and_l2_normalize():
    x = rng.standard_normal((3, 4))
    y = tf.nn.l2_loss(tf.constant(x.astype(np.float32)))
    assert y.dtype == tf.float32 and y.shape == ()
    np.testing.assert_allclose(y.numpy(), (x**2).sum() / 2, rtol=1e-5)
    with pytest.raises(InvalidArgumentError):
        tf.nn.l2_loss(tf.constant([1, 2]))
    np.testing.assert_allclose(
        tf.nn.l2_normalize(x, axis=1).numpy(),
        x / np.linalg.norm(x, axis=1, keepdims=True),
        rtol=1e-12,
    )
    np.testing.assert_allclose(tf.nn.l2_normalize(x).numpy(), x / np.linalg.norm(x), rtol=1e-12)


def test_bias_add():
    x, b = rng.standard_normal((2, 3, 4)), rng.standard_normal(4)
    np.testing.assert_allclose(tf.nn.bias_add(x, b).numpy(), x + b)
    b3 = rng.standard_normal(3)
    np.testing.assert_allclose(tf.nn.bias_add(x, b3, data_format="NCHW").numpy(), x + b3[:, None])
    np.testing.assert_allclose(tf.nn.bias_add(x, b3, data_format="NC...").numpy(), x + b3[:, None])
    xt, bt = tf.constant(x), tf.constant(b3)
    with tf.GradientTape() as tape:
        tape.watch(bt)
        y = tf.nn.bias_add(xt, bt, data_format="NCHW")
    np.testing.assert_allclose(tape.gradient(y, bt).numpy(), np.full(3, 8.0))
    assert tf.nn.bias_add(tf.constant([[1, 2]]), tf.constant([3, 4])).numpy().tolist() == [[4, 6]]
    with pytest.raises(InvalidArgumentError):
        tf.nn.bias_add(tf.ones([2, 3]), tf.ones([2]))
    with pytest.raises(InvalidArgumentError):
        tf.nn.bias_add(tf.ones([3]), tf.ones([3]))
    with pytest.raises(InvalidArgumentError):
        tf.nn.bias_add(tf.ones([2, 3]), tf.ones([1, 3]))
    with pytest.raises(ValueError):
        tf.nn.bias_add(tf.ones([2, 3]), tf.ones([3]), data_format="HWC")


def test_moments_and_batch_normalization():
    x = rng.standard_normal((4, 3, 5))
    m, v = tf.nn.moments(x, axes=[0, 2])
    np.testing.assert_allclose(m.numpy(), x.mean(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(v.numpy(), x.var(axis=(0, 2)), rtol=1e-12)
    m, v = tf.nn.moments(x, axes=[1], keepdims=True)
    assert m.shape == (4, 1, 5) and v.shape == (4, 1, 5)
    m, v = tf.nn.moments(tf.constant([1.0, 2.0, 4.0], tf.float16), axes=[0])
    assert m.dtype == tf.float16
    np.testing.assert_allclose(float(m.numpy()), 7 / 3, rtol=1e-3)
    np.testing.assert_allclose(float(v.numpy()), np.var([1, 2, 4]), rtol=1e-3)
    mean, var, off, sc = (
        rng.standard_normal(5),
        rng.uniform(0.5, 2, 5),
        rng.standard_normal(5),
        rng.standard_normal(5),
    )
    y = tf.nn.batch_normalization(x, mean, var, off, sc, 1e-3)
    np.testing.assert_allclose(y.numpy(), sc * (x - mean) / np.sqrt(var + 1e-3) + off, rtol=1e-10)
    y = tf.nn.batch_normalization(x, mean, var, None, None, 1e-3)
    np.testing.assert_allclose(y.numpy(), (x - mean) / np.sqrt(var + 1e-3), rtol=1e-10)


def test_moments_gradient():
    x = rng.standard_normal((3, 4))
    g = _grad(lambda t: tf.nn.moments(t, axes=[0])[1], x)
    np.testing.assert_allclose(g, 2 * (x - x.mean(0)) / 3, rtol=1e-10)


# --- dropout, embeddings --------------------------------------------------------------------


def test_dropout():
    x = tf.ones([200, 100])
    y = tf.nn.dropout(x, rate=0.25, seed=5).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    assert abs(1 - kept.mean() - 0.25) < 0.02
    assert tf.nn.dropout(x, rate=0.0) is x
    with pytest.raises(ValueError):
        tf.nn.dropout(x, rate=1.0)
    with pytest.raises(ValueError):
        tf.nn.dropout(tf.ones([3], tf.int32), rate=0.5)
    y = tf.nn.dropout(tf.ones([50, 4]), rate=0.5, noise_shape=[50, 1]).numpy()
    assert np.all(y == y[:, :1])
    xt = tf.constant(np.ones((10, 10)))
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = tf.nn.dropout(xt, rate=0.5)
    np.testing.assert_allclose(
        tape.gradient(y, xt).numpy(), y.numpy()
    )  # x == 1: dy/dx equals the scaled mask


def test_embedding_lookup():
    p = rng.standard_normal((5, 3))
    ids = np.array([[4, 0], [2, 2]])
    np.testing.assert_allclose(tf.nn.embedding_lookup(p, ids).numpy(), p[ids])
    parts = [tf.constant(p[:3]), tf.constant(p[3:])]
    np.testing.assert_allclose(tf.nn.embedding_lookup(parts, [4, 1]).numpy(), p[[4, 1]])
    q = np.array([[3.0, 4.0], [0.3, 0.4]])
    np.testing.assert_allclose(
        tf.nn.embedding_lookup(q, [1, 0], max_norm=1.0).numpy(), [[0.3, 0.4], [0.6, 0.8]]
    )
    with pytest.raises(InvalidArgumentError):
        tf.nn.embedding_lookup(q, [2])
    pt = tf.constant(p)
    with tf.GradientTape() as tape:
        tape.watch(pt)
        y = tf.reduce_sum(tf.nn.embedding_lookup(pt, [1, 1, 3]))
    g = tape.gradient(y, pt)
    g = (
        tf.convert_to_tensor(g).numpy()
        if hasattr(g, "numpy")
        else np.asarray(tf.convert_to_tensor(g))
    )
    np.testing.assert_allclose(g, np.array([0, 2, 0, 1, 0])[:, None] * np.ones((5, 3)))


def test_misc_helpers():
    x = np.array([0.0, 1.0, 0.0, 2.0])
    np.testing.assert_allclose(tf.nn.zero_fraction(x).numpy(), 0.5)
    c = tf.nn.crelu(tf.constant([[-1.0, 2.0]]))
    np.testing.assert_allclose(c.numpy(), [[0, 2, 1, 0]])
    np.testing.assert_allclose(
        tf.nn.compute_average_loss(tf.constant([1.0, 2.0, 3.0, 6.0])).numpy(), 3.0
    )


def test_dropout_follows_global_seed_semantics():
    x = tf.ones([1000])
    tf.random.set_seed(7)
    a1, a2 = tf.nn.dropout(x, 0.5), tf.nn.dropout(x, 0.5)
    tf.random.set_seed(7)
    b1, b2 = tf.nn.dropout(x, 0.5), tf.nn.dropout(x, 0.5)
    np.testing.assert_array_equal(a1.numpy(), b1.numpy())  # reproducible after set_seed
    np.testing.assert_array_equal(a2.numpy(), b2.numpy())
    assert not np.array_equal(a1.numpy(), a2.numpy())  # successive calls differ
    kept = a1.numpy() != 0
    assert 0.4 < kept.mean() < 0.6 and np.allclose(a1.numpy()[kept], 2.0)


def test_kink_gradients_follow_tf_at_exactly_zero():
    # TF's rules at the kink: relu'(0) = 0, relu6'(0) = relu6'(6) = 0, leaky_relu'(0) = alpha.
    x = tf.constant([-1.0, 0.0, 1.0, 6.0, 7.0])
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        r, r6, lr = tf.nn.relu(x), tf.nn.relu6(x), tf.nn.leaky_relu(x, alpha=0.2)
    np.testing.assert_array_equal(t.gradient(r, x).numpy(), [0, 0, 1, 1, 1])
    np.testing.assert_array_equal(t.gradient(r6, x).numpy(), [0, 0, 1, 0, 0])
    np.testing.assert_allclose(t.gradient(lr, x).numpy(), [0.2, 0.2, 1, 1, 1])


def test_dropout_with_an_unknown_batch_dimension_in_a_traced_function():
    f = tf.function(lambda x: tf.nn.dropout(x, 0.5))
    cf = f.get_concrete_function(tf.TensorSpec([None, 4]))
    assert cf.outputs[0].shape.as_list() == [None, 4]
    y = f(tf.ones([1000, 4])).numpy()
    kept = y != 0
    assert y.shape == (1000, 4) and 0.4 < kept.mean() < 0.6 and np.allclose(y[kept], 2.0)
