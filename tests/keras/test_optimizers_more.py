"""Adafactor, Lamb, Muon, ScheduleFreeAdamW, MultiOptimizer and the legacy names, each
update checked against a NumPy re-implementation of the published rule."""

import numpy as np
import pytest

import rill as tf
from rill import keras
from rill.keras import optimizers as O

W0 = [
    np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], np.float32),
    np.array([1.0, -2.0, 0.5], np.float32),
]
GRADS = [
    [
        np.array([[0.1, -0.2, 0.3], [0.05, 0.4, -0.1]], np.float32),
        np.array([0.2, -0.1, 0.05], np.float32),
    ],
    [
        np.array([[-0.3, 0.1, 0.2], [0.2, -0.1, 0.3]], np.float32),
        np.array([-0.1, 0.3, 0.2], np.float32),
    ],
    [
        np.array([[0.2, 0.2, -0.1], [-0.4, 0.3, 0.1]], np.float32),
        np.array([0.05, 0.05, -0.3], np.float32),
    ],
]


def run(opt, traced=False):
    vs = [tf.Variable(w.copy(), name=f"w{i}") for i, w in enumerate(W0)]
    opt.build(vs)

    def step(g0, g1):
        opt.apply([g0, g1], vs)

    fn = tf.function(step) if traced else step
    for gs in GRADS:
        fn(*[tf.constant(g) for g in gs])
    return [v.numpy() for v in vs]


def rms(x):
    return np.sqrt(np.mean(np.square(x)))


def adafactor_ref(lr=0.001, decay=-0.8, eps1=1e-30, eps2=1e-3, clip=1.0):
    ws = [w.astype(np.float64) for w in W0]
    state = [
        dict(r=np.zeros(w.shape[:-1]), c=np.zeros(w.shape[:-2] + w.shape[-1:]), v=np.zeros(w.shape))
        for w in ws
    ]
    for t, gs in enumerate(GRADS, start=1):
        for w, g, s in zip(ws, gs, state):
            step_lr = min(lr, 1 / np.sqrt(t))
            alpha = max(eps2, rms(w)) * min(step_lr, 1 / np.sqrt(t))
            g2 = g.astype(np.float64) ** 2 + eps1
            b2 = 1 - t**decay
            if w.ndim >= 2:
                s["r"] = b2 * s["r"] + (1 - b2) * g2.mean(-1)
                s["c"] = b2 * s["c"] + (1 - b2) * g2.mean(-2)
                s["v"] = (s["r"] / s["r"].mean(-1, keepdims=True))[..., None] * s["c"][..., None, :]
            else:
                s["v"] = b2 * s["v"] + (1 - b2) * g2
            u = g / np.sqrt(s["v"])
            w -= alpha * u / max(1.0, rms(u) / clip)
    return ws


def lamb_ref(lr=0.001, b1=0.9, b2=0.999, eps=1e-7):
    ws = [w.astype(np.float64) for w in W0]
    ms = [np.zeros_like(w) for w in ws]
    vs = [np.zeros_like(w) for w in ws]
    for t, gs in enumerate(GRADS, start=1):
        for w, g, m, v in zip(ws, gs, ms, vs):
            m += (g - m) * (1 - b1)
            v += (g**2 - v) * (1 - b2)
            update = (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
            wn, un = np.linalg.norm(w), np.linalg.norm(update)
            ratio = wn / un if wn > 0 and un > 0 else 1.0
            w -= ratio * lr * update
    return ws


def newton_schulz(x, steps, a=3.4445, b=-4.7750, c=2.0315):
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T
    x = x / (np.linalg.norm(x) + 1e-7)
    for _ in range(steps):
        xxt = x @ x.T
        x = a * x + (b * xxt + c * xxt @ xxt) @ x
    return x.T if tall else x


def muon_ref(lr=0.001, b1=0.9, b2=0.999, eps=1e-7, mom=0.95, wd=0.004, awd=0.004, rms_rate=0.2):
    ws = [w.astype(np.float64) for w in W0]
    ms = [np.zeros_like(w) for w in ws]
    vs = [np.zeros_like(w) for w in ws]
    for t, gs in enumerate(GRADS, start=1):
        for w in ws:  # decoupled weight decay first
            w -= w * (awd if w.ndim != 2 else wd) * lr
        for w, g, m, v in zip(ws, gs, ms, vs):
            if w.ndim == 2:  # Muon: Nesterov momentum, orthogonalised
                m += g + m * (mom - 1)
                u = newton_schulz(g + mom * m, 5)
                w -= lr * u * np.sqrt(max(w.shape)) * rms_rate
            else:  # AdamW
                alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
                m += (g - m) * (1 - b1)
                v += (g**2 - v) * (1 - b2)
                w -= m * alpha / (np.sqrt(v) + eps)
    return ws


def sf_adamw_ref(lr=0.0025, b1=0.9, b2=0.999, eps=1e-8, warmup=0):
    ys = [w.astype(np.float64) for w in W0]
    zs = [w.astype(np.float64) for w in W0]
    vs = [np.zeros_like(w) for w in ys]
    for t, gs in enumerate(GRADS, start=1):
        step_lr = lr * min(t / warmup, 1.0) if warmup else lr
        for i, g in enumerate(gs):
            vs[i] += (g**2 - vs[i]) * (1 - b2)
            zs[i] = zs[i] - step_lr * g / (np.sqrt(vs[i] / (1 - b2**t)) + eps)
            # as Keras 3.15 computes it: x recovered from y and the *updated* z
            x_old = (ys[i] - (1 - b1) * zs[i]) / b1
            x_new = (1 - 1 / t) * x_old + (1 / t) * zs[i]
            ys[i] = (1 - b1) * zs[i] + b1 * x_new
    return ys


CASES = [
    (lambda: O.Adafactor(), adafactor_ref),
    (
        lambda: O.Adafactor(learning_rate=0.05, clip_threshold=0.5),
        lambda: adafactor_ref(lr=0.05, clip=0.5),
    ),
    (lambda: O.Lamb(), lamb_ref),
    (lambda: O.Lamb(learning_rate=0.01, beta_1=0.8), lambda: lamb_ref(lr=0.01, b1=0.8)),
    (lambda: O.Muon(), muon_ref),
    (lambda: O.Muon(learning_rate=0.02), lambda: muon_ref(lr=0.02)),
    (lambda: O.ScheduleFreeAdamW(), sf_adamw_ref),
    (lambda: O.ScheduleFreeAdamW(warmup_steps=2), lambda: sf_adamw_ref(warmup=2)),
]


@pytest.mark.parametrize("traced", [False, True])
@pytest.mark.parametrize("make, ref", CASES)
def test_update_rule_matches_numpy(make, ref, traced):
    got = run(make(), traced)
    for g, r in zip(got, ref()):
        np.testing.assert_allclose(g, r, rtol=2e-5, atol=2e-6)


def test_slot_variables_like_keras():
    opt = O.Adafactor()
    opt.build([tf.Variable(W0[0]), tf.Variable(W0[1])])
    assert [tuple(v.shape.as_list()) for v in opt.variables] == [
        (), (), (2,), (3,), (2, 3), (), (), (3,),
    ]  # fmt: skip
    muon = O.Muon()
    muon.build([tf.Variable(W0[0]), tf.Variable(W0[1])])
    assert len(muon.variables) == 2 + 2 + 1  # a velocity only for the AdamW variable


@pytest.mark.parametrize("cls", [O.Adafactor, O.Lamb, O.Muon, O.ScheduleFreeAdamW])
def test_config_round_trip(cls):
    opt = cls(learning_rate=0.125)
    back = O.deserialize(O.serialize(opt))
    assert type(back) is cls and back.get_config() == opt.get_config()
    assert O.get(cls.__name__.lower()).__class__ is cls


def test_multi_optimizer_routes_variables_by_path():
    a = keras.Variable(np.ones(2, np.float32), name="encoder/dense/kernel")
    b = keras.Variable(np.ones(2, np.float32), name="head/kernel")
    sgd, sgd_fast = O.SGD(0.1), O.SGD(1.0)
    omap = O.OptimizerMap(default_optimizer=sgd, optimizer_map={"encoder/.*": sgd_fast})
    assert omap["encoder/dense/kernel"] is sgd_fast and omap["head/kernel"] is sgd
    multi = O.MultiOptimizer(omap)
    g = np.array([1.0, 2.0], np.float32)
    multi.apply_gradients([(tf.constant(g), a), (tf.constant(g), b)])
    np.testing.assert_allclose(a.numpy(), 1.0 - 1.0 * g)
    np.testing.assert_allclose(b.numpy(), 1.0 - 0.1 * g)
    assert int(multi.iterations.numpy()) == 1 and multi.optimizers == [sgd_fast, sgd]
    with pytest.raises(AttributeError, match="MultiOptimizer"):
        _ = multi.learning_rate
    with pytest.raises(ValueError, match="LossScaleOptimizer"):
        omap["x"] = O.LossScaleOptimizer(O.SGD())
    chooser = O.MultiOptimizer(
        lambda v: sgd if "head" in v.path else sgd_fast, loss_scale_factor=2.0
    )
    assert sgd.loss_scale_factor is None  # a callable names its optimizers only when built
    chooser.build([a, b])
    assert sgd.loss_scale_factor == 2.0 and sgd_fast.loss_scale_factor == 2.0


@pytest.mark.parametrize("name", ["Adagrad", "Adam", "Ftrl", "Optimizer", "RMSprop", "SGD"])
def test_legacy_optimizers_raise_like_keras_3(name):
    with pytest.raises(ImportError, match="not supported in Keras 3"):
        getattr(O.legacy, name)(learning_rate=0.1)


def test_base_optimizer_takes_positional_arguments():
    opt = O.SGD(0.5)
    assert float(opt.learning_rate.numpy()) == 0.5
    assert O.Optimizer(0.25, name="base").name == "base"
