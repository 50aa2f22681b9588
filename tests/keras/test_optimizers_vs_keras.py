"""Differential tests: rill.keras.optimizers against Keras 3 (skipped without TensorFlow).

Run with ``PYTHONPATH=/work/main /work/peers/bin/python -m pytest -p no:cacheprovider
tests/keras/test_optimizers_vs_keras.py``.
"""

import numpy as np
import pytest

tensorflow = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import rill  # noqa: E402
from rill.keras import optimizers as R  # noqa: E402
from tests.keras.keras_compare import assert_matches_keras  # noqa: E402

K = keras.optimizers

A = [np.array([1.0, 3.0, 0.5], np.float32), np.array([[2.0, 0.25], [1.5, 4.0]], np.float32)]
C = [np.array([0.5, -1.0, 2.0], np.float32), np.array([[1.0, -0.5], [0.0, 3.0]], np.float32)]
W0 = [np.array([2.0, 1.0, -1.0], np.float32), np.array([[0.0, 1.5], [-2.0, 0.5]], np.float32)]


def grads_of(values):
    return [a * (w - c) for a, w, c in zip(A, values, C)]


def run_keras(opt, steps):
    vs = [tensorflow.Variable(w.copy(), name=f"w{i}") for i, w in enumerate(W0)]
    for _ in range(steps):
        gs = grads_of([v.numpy() for v in vs])
        opt.apply_gradients(zip([tensorflow.constant(g) for g in gs], vs))
    return [v.numpy() for v in vs], opt


def run_rill(opt, steps, traced=False):
    vs = [rill.Variable(w.copy(), name=f"w{i}") for i, w in enumerate(W0)]

    def step():
        with rill.GradientTape() as tape:
            loss = rill.add_n(
                [
                    0.5 * rill.reduce_sum(rill.constant(a) * rill.square(v - rill.constant(c)))
                    for v, a, c in zip(vs, A, C)
                ]
            )
        opt.apply_gradients(zip(tape.gradient(loss, vs), vs))

    fn = rill.function(step) if traced else step
    for _ in range(steps):
        fn()
    return [v.numpy() for v in vs], opt


CASES = [
    ("SGD", {}),
    ("SGD", {"momentum": 0.9}),
    ("SGD", {"momentum": 0.8, "nesterov": True}),
    ("Adam", {}),
    ("Adam", {"amsgrad": True, "beta_1": 0.8}),
    ("AdamW", {"weight_decay": 0.1}),
    ("RMSprop", {}),
    ("RMSprop", {"momentum": 0.5, "centered": True}),
    ("Adagrad", {"initial_accumulator_value": 0.2}),
    ("Adamax", {}),
    ("Nadam", {}),
    ("Adadelta", {"rho": 0.9}),
    ("Ftrl", {}),
    (
        "Ftrl",
        {
            "l1_regularization_strength": 0.01,
            "l2_regularization_strength": 0.02,
            "l2_shrinkage_regularization_strength": 0.01,
            "beta": 0.1,
            "learning_rate_power": -0.6,
        },
    ),
    ("Lion", {}),
]
EXTRAS = [
    {},
    {"clipnorm": 0.5},
    {"clipvalue": 0.3},
    {"global_clipnorm": 1.0},
    {"weight_decay": 0.05},
    {"use_ema": True, "ema_momentum": 0.9, "ema_overwrite_frequency": 3},
    {"gradient_accumulation_steps": 2},
    {"loss_scale_factor": 2.0},
]


@pytest.mark.parametrize("extra", EXTRAS, ids=lambda e: ",".join(e) or "plain")
@pytest.mark.parametrize("cls_name,hp", CASES, ids=lambda x: str(x) if isinstance(x, str) else "")
@pytest.mark.parametrize("traced", [False, True], ids=["eager", "traced"])
def test_five_steps_match_keras(cls_name, hp, extra, traced):
    kw = {**hp, **extra}
    k_w, k_opt = run_keras(getattr(K, cls_name)(learning_rate=0.1, **kw), 5)
    r_w, r_opt = run_rill(getattr(R, cls_name)(learning_rate=0.1, **kw), 5, traced=traced)
    for a, b in zip(r_w, k_w):
        assert_matches_keras(a, b, rtol=1e-5, atol=1e-6)
    assert_matches_keras(r_opt.iterations.numpy(), k_opt.iterations.numpy(), exact=True)
    assert len(r_opt.variables) == len(k_opt.variables)
    for rv, kv in zip(r_opt.variables, k_opt.variables):
        assert rv.dtype.name == kv.dtype, f"{rv.name}: dtype {rv.dtype.name} vs {kv.dtype}"
        assert_matches_keras(rv.numpy(), kv.numpy(), rtol=1e-5, atol=1e-6, err_msg=rv.name)
        k_name = kv.path.split("/", 1)[1]
        assert rv.name[: -len(":0")].split("/", 1)[1] in (k_name, "u_product")


def test_loss_scale_factor():
    kw = {"loss_scale_factor": 4.0}
    k_opt = K.Adam(learning_rate=0.1, **kw)
    r_opt = R.Adam(learning_rate=0.1, **kw)
    kv = tensorflow.Variable(W0[0].copy())
    rv = rill.Variable(W0[0].copy())
    for _ in range(3):
        k_opt.apply_gradients([(tensorflow.constant(4.0 * grads_of([kv.numpy(), W0[1]])[0]), kv)])
        r_opt.apply_gradients([(rill.constant(4.0 * grads_of([rv.numpy(), W0[1]])[0]), rv)])
    assert_matches_keras(rv.numpy(), kv.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls_name,hp", CASES, ids=lambda x: str(x) if isinstance(x, str) else "")
def test_config_matches_keras(cls_name, hp):
    k = getattr(K, cls_name)(learning_rate=0.05, clipnorm=1.5, **hp).get_config()
    r = getattr(R, cls_name)(learning_rate=0.05, clipnorm=1.5, **hp).get_config()
    k.pop("name")
    r.pop("name")
    assert r == k


SCHEDULES = [
    ("ExponentialDecay", (0.1, 4, 0.5), {}),
    ("ExponentialDecay", (0.1, 4, 0.5), {"staircase": True}),
    ("PiecewiseConstantDecay", ([3, 10, 20], [1.0, 0.5, 0.1, 0.01]), {}),
    ("PolynomialDecay", (0.1, 10), {"end_learning_rate": 0.001, "power": 2.0}),
    ("PolynomialDecay", (0.1, 10), {"power": 0.5, "cycle": True}),
    ("InverseTimeDecay", (0.1, 5, 0.5), {}),
    ("InverseTimeDecay", (0.1, 5, 0.5), {"staircase": True}),
    ("CosineDecay", (0.1, 20), {"alpha": 0.1}),
    ("CosineDecay", (0.0, 20), {"warmup_target": 1.0, "warmup_steps": 5}),
    ("CosineDecayRestarts", (0.1, 5), {}),
    ("CosineDecayRestarts", (0.1, 5), {"t_mul": 1.0, "m_mul": 0.5, "alpha": 0.1}),
    ("CosineDecayRestarts", (0.1, 5), {"t_mul": 1.5, "m_mul": 0.8, "alpha": 0.05}),
]


@pytest.mark.parametrize("name,args,kw", SCHEDULES, ids=lambda x: x if isinstance(x, str) else "")
def test_schedules_match_keras(name, args, kw):
    k = getattr(K.schedules, name)(*args, **kw)
    r = getattr(R.schedules, name)(*args, **kw)
    for s in [0, 1, 2, 3, 4, 5, 7, 10, 11, 15, 20, 23, 24, 25, 26, 40, 100]:
        assert_matches_keras(r(s), k(s), rtol=1e-5, atol=1e-7, err_msg=f"step {s}")
    assert R.schedules.serialize(r) == K.schedules.serialize(k)


def test_schedule_driven_optimizer_matches_keras():
    def k_sched():
        return K.schedules.CosineDecay(0.05, 10, warmup_target=0.2, warmup_steps=2)

    def r_sched():
        return R.schedules.CosineDecay(0.05, 10, warmup_target=0.2, warmup_steps=2)

    k_w, k_opt = run_keras(K.SGD(learning_rate=k_sched(), momentum=0.5), 6)
    r_w, r_opt = run_rill(R.SGD(learning_rate=r_sched(), momentum=0.5), 6, traced=True)
    for a, b in zip(r_w, k_w):
        assert_matches_keras(a, b, rtol=1e-5, atol=1e-6)
    k_cfg, r_cfg = k_opt.get_config(), r_opt.get_config()
    assert r_cfg["learning_rate"] == k_cfg["learning_rate"]


def test_serialize_matches_keras():
    k = K.serialize(K.Adam(learning_rate=0.01, amsgrad=True))
    r = R.serialize(R.Adam(learning_rate=0.01, amsgrad=True))
    k["config"].pop("name")
    r["config"].pop("name")
    assert r == k
    assert type(R.deserialize(k)).__name__ == "Adam"
    for alias in [
        "sgd",
        "adam",
        "adamw",
        "rmsprop",
        "adagrad",
        "adamax",
        "nadam",
        "adadelta",
        "ftrl",
        "lion",
    ]:
        assert type(R.get(alias)).__name__ == type(K.get(alias)).__name__


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("SGD", {"clipnorm": 1.0}),
        ("SGD", {"global_clipnorm": 1.0}),
        ("SGD", {"clipvalue": 0.5}),
        ("SGD", {"momentum": 0.5, "clipvalue": 0.5}),
        ("Adam", {"global_clipnorm": 1.0}),
    ],
)
def test_sparse_gradients_are_clipped_by_their_values_as_keras_does(name, kwargs):
    """A gather's gradient is IndexedSlices with a repeated row: clipping acts on its
    values (norm over the slices, values clipped before the repeated rows are summed)."""

    def run(fw, opt):
        v = fw.Variable(np.ones((5, 3), np.float32))
        for _ in range(2):
            with fw.GradientTape() as tape:
                y = fw.reduce_sum(fw.gather(v, [0, 2, 2]) * 3.0)
            opt.apply_gradients([(tape.gradient(y, v), v)])
        return v.numpy()

    got = run(rill, getattr(R, name)(learning_rate=0.1, **kwargs))
    want = run(tensorflow, getattr(K, name)(learning_rate=0.1, **kwargs))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
