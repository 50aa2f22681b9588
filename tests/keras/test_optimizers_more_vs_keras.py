"""Differential tests: the newer optimizers and LossScaleOptimizer against Keras 3
(skipped without TensorFlow). Run with ``PYTHONPATH=. /work/peers/bin/python -m pytest
tests/keras/test_optimizers_more_vs_keras.py``."""

import numpy as np
import pytest

tensorflow = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import rill  # noqa: E402
from rill.keras import optimizers as R  # noqa: E402
from tests.keras.test_optimizers_more import GRADS, W0, run  # noqa: E402

K = keras.optimizers


def run_keras(opt):
    vs = [keras.Variable(w.copy(), name=f"w{i}") for i, w in enumerate(W0)]
    opt.build(vs)
    for gs in GRADS:
        opt.apply([tensorflow.constant(g) for g in gs], vs)
    return [np.asarray(v.numpy()) for v in vs]


CASES = [
    ("Adafactor", {}),
    ("Adafactor", {"learning_rate": 0.05, "relative_step": False, "beta_2_decay": -0.5}),
    ("Lamb", {"learning_rate": 0.01}),
    ("Muon", {}),
    ("Muon", {"learning_rate": 0.02, "nesterov": False, "rms_rate": None}),
    ("ScheduleFreeAdamW", {"warmup_steps": 2}),
    ("AdamW", {"use_ema": True}),
]


@pytest.mark.parametrize("traced", [False, True])
@pytest.mark.parametrize("name, kwargs", CASES)
def test_matches_keras(name, kwargs, traced):
    want = run_keras(getattr(K, name)(**kwargs))
    got = run(getattr(R, name)(**kwargs), traced)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("traced", [False, True])
def test_loss_scale_optimizer_matches_keras(traced):
    seq = [np.array([4.0, np.inf], np.float32), np.array([1.0, 2.0], np.float32)] * 2
    seq += [np.array([0.5, 0.5], np.float32)] * 3
    kv = keras.Variable(np.ones(2, np.float32))
    ko = K.LossScaleOptimizer(K.Adam(0.1), initial_scale=4.0, dynamic_growth_steps=2)
    ko.build([kv])
    rv = rill.Variable(np.ones(2, np.float32))
    ro = R.LossScaleOptimizer(R.Adam(0.1), initial_scale=4.0, dynamic_growth_steps=2)
    ro.build([rv])
    step = (
        rill.function(lambda g: ro.apply([g], [rv])) if traced else (lambda g: ro.apply([g], [rv]))
    )
    for g in seq:
        ko.apply([tensorflow.constant(g)], [kv])
        step(rill.constant(g))
        np.testing.assert_allclose(rv.numpy(), np.asarray(kv.numpy()), rtol=1e-6)
        assert float(ro.dynamic_scale.numpy()) == float(ko.dynamic_scale.numpy())
        assert int(ro.step_counter.numpy()) == int(ko.step_counter.numpy())
        assert int(ro.iterations.numpy()) == int(ko.iterations.numpy())
    assert ro.get_config()["initial_scale"] == ko.get_config()["initial_scale"]


def test_dtype_policy_configs_match_keras():
    from rill.keras import dtype_policies as D

    for name in ["float32", "mixed_float16", "int8_from_float32", "float8_from_float32",
                 "int4/64_from_float32", "gptq/4/128_from_float32", "awq/4/-1_from_float32"]:  # fmt: skip
        k = keras.dtype_policies.get(name)
        r = D.get(name)
        assert type(r).__name__ == type(k).__name__
        assert (r.name, r.compute_dtype, r.variable_dtype, r.quantization_mode) == (
            k.name, k.compute_dtype, k.variable_dtype, k.quantization_mode,
        )  # fmt: skip
        assert D.serialize(r) == keras.dtype_policies.serialize(k)
