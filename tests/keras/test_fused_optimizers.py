"""The fused eager optimizer update (``Optimizer._update_arrays``): the same values, bit
for bit, as ``update_step`` over rill ops, used only where no one could tell them apart."""

import numpy as np
import pytest

import rill as tf
from rill import keras
from rill.keras.optimizers import _base

SHAPES = [(5, 3), (3,), ()]

MAKERS = {
    "adam": lambda: keras.optimizers.Adam(),
    "adam_amsgrad": lambda: keras.optimizers.Adam(learning_rate=0.01, amsgrad=True, beta_1=0.8),
    "adamw": lambda: keras.optimizers.AdamW(learning_rate=0.01),
    "adam_schedule": lambda: keras.optimizers.Adam(
        keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)
    ),
    "adam_clip": lambda: keras.optimizers.Adam(global_clipnorm=0.5),
    "sgd": lambda: keras.optimizers.SGD(0.1),
    "sgd_momentum": lambda: keras.optimizers.SGD(0.1, momentum=0.9),
    "sgd_nesterov": lambda: keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
}


def _run(make, fused, dtype=np.float32, steps=4, keep_reads=False):
    rng = np.random.default_rng(0)
    vs = [keras.Variable(rng.standard_normal(s).astype(dtype)) for s in SHAPES]
    opt = make()
    reads = []
    original = _base.Optimizer._fusable
    if not fused:
        _base.Optimizer._fusable = lambda *a: False
    try:
        for _ in range(steps):
            gs = [tf.constant(rng.standard_normal(s).astype(dtype)) for s in SHAPES]
            if keep_reads:
                reads.append([(v.read_value(), v.numpy()) for v in vs])
            opt.apply_gradients(zip(gs, vs))
    finally:
        _base.Optimizer._fusable = original
    return [v.numpy() for v in vs] + [w.numpy() for w in opt.variables], reads


@pytest.mark.parametrize("name", sorted(MAKERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_fused_equals_the_op_path_bit_for_bit(name, dtype):
    fused, _ = _run(MAKERS[name], True, dtype)
    ops, _ = _run(MAKERS[name], False, dtype)
    assert len(fused) == len(ops)
    for a, b in zip(fused, ops):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_adam_matches_the_formula():
    # Keras' Adam, written out in NumPy: m, v moments, bias correction folded into alpha
    g = np.array([0.5, -1.0, 2.0], np.float32)
    w0 = np.array([1.0, 2.0, 3.0], np.float32)
    v = keras.Variable(w0.copy())
    opt = keras.optimizers.Adam(learning_rate=0.1)
    m_ref, v_ref, w_ref = np.zeros(3), np.zeros(3), w0.astype(np.float64)
    for t in range(1, 4):
        opt.apply_gradients([(tf.constant(g), v)])
        m_ref = m_ref + (g - m_ref) * 0.1
        v_ref = v_ref + (g * g - v_ref) * 0.001
        alpha = 0.1 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        w_ref = w_ref - m_ref * alpha / (np.sqrt(v_ref) + 1e-7)
    np.testing.assert_allclose(v.numpy(), w_ref, rtol=1e-5)


def test_fused_path_runs_eagerly_and_not_when_traced_or_recorded(monkeypatch):
    calls = []
    original = keras.optimizers.Adam._update_arrays

    def spy(self, *args):
        calls.append(1)
        return original(self, *args)

    monkeypatch.setattr(keras.optimizers.Adam, "_update_arrays", spy)
    v = keras.Variable(np.ones(3, np.float32))
    opt = keras.optimizers.Adam()
    g = tf.constant(np.ones(3, np.float32))
    opt.apply_gradients([(g, v)])
    assert len(calls) == 1
    with tf.GradientTape():  # a recording tape: the op path (a tape may watch the reads)
        opt.apply_gradients([(g, v)])
    assert len(calls) == 1

    @tf.function
    def step():
        opt.apply_gradients([(g, v)])

    step()
    assert len(calls) == 1
    assert int(opt.iterations.numpy()) == 3


def test_a_subclass_overriding_update_step_is_honoured():
    class Halved(keras.optimizers.SGD):
        def update_step(self, gradient, variable, learning_rate):
            variable.assign_sub(gradient * 0.5)

    v = keras.Variable(np.ones(2, np.float32))
    Halved(0.1).apply_gradients([(tf.constant(np.ones(2, np.float32)), v)])
    np.testing.assert_array_equal(v.numpy(), [0.5, 0.5])


def test_mixed_gradient_dtype_takes_the_casting_path():
    v = keras.Variable(np.ones(2, np.float32))
    keras.optimizers.SGD(0.5).apply_gradients([(tf.constant(np.ones(2, np.float64)), v)])
    np.testing.assert_array_equal(v.numpy(), [0.5, 0.5])
    assert v.dtype == "float32"


def test_tensors_read_before_the_update_keep_their_values():
    fused, reads = _run(MAKERS["adam"], True, keep_reads=True)
    for step in reads:
        for tensor, snapshot in step:
            np.testing.assert_array_equal(tensor.numpy(), snapshot)


def test_against_keras():
    tf_ = pytest.importorskip("tensorflow")
    k3 = pytest.importorskip("keras")
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((4, 3)).astype(np.float32)
    grads = [rng.standard_normal((4, 3)).astype(np.float32) for _ in range(3)]
    for make_r, make_k in (
        (lambda: keras.optimizers.Adam(0.01), lambda: k3.optimizers.Adam(0.01)),
        (
            lambda: keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
            lambda: k3.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
        ),
    ):
        vr, vk = keras.Variable(w0.copy()), tf_.Variable(w0.copy())
        opt_r, opt_k = make_r(), make_k()
        for g in grads:
            opt_r.apply_gradients([(tf.constant(g), vr)])
            opt_k.apply_gradients([(tf_.constant(g), vk)])
        np.testing.assert_allclose(vr.numpy(), vk.numpy(), rtol=1e-6, atol=1e-7)
