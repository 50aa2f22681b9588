"""keras.distillation: losses against NumPy formulas; the Distiller against Keras 3."""

import numpy as np
import pytest

from rill import keras
from rill.keras import distillation as D

RNG = np.random.default_rng(0)
T_LOGITS = RNG.normal(size=(5, 4)).astype("float32")
S_LOGITS = RNG.normal(size=(5, 4)).astype("float32")


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_logits_distillation_is_scaled_kl_of_softened_softmaxes():
    T = 2.5
    loss = D.LogitsDistillation(temperature=T, loss=keras.losses.KLDivergence())
    got = loss.compute_loss(T_LOGITS, S_LOGITS)
    p, q = _softmax(T_LOGITS / T), _softmax(S_LOGITS / T)
    want = np.mean(np.sum(p * np.log(p / q), -1)) * T**2
    np.testing.assert_allclose(float(got), want, rtol=1e-5)
    # the default "kl_divergence" resolves to Keras' function, not the KLDivergence class,
    # so (as in Keras 3.15) it compares the softened logits clipped to [eps, 1] directly
    got = D.LogitsDistillation(temperature=T).compute_loss(T_LOGITS, S_LOGITS)
    a, b = np.clip(T_LOGITS / T, 1e-7, 1), np.clip(S_LOGITS / T, 1e-7, 1)
    np.testing.assert_allclose(float(got), np.mean(np.sum(a * np.log(a / b), -1)), rtol=1e-5)
    mse = D.LogitsDistillation(temperature=T, loss="mse").compute_loss(T_LOGITS, S_LOGITS)
    np.testing.assert_allclose(float(mse), np.mean((T_LOGITS / T - S_LOGITS / T) ** 2), rtol=1e-5)


def test_feature_distillation_sums_losses_over_structure():
    loss = D.FeatureDistillation(loss=["mse", None])
    got = loss.compute_loss([T_LOGITS, T_LOGITS], [S_LOGITS, T_LOGITS])
    np.testing.assert_allclose(float(got), np.mean((T_LOGITS - S_LOGITS) ** 2), rtol=1e-5)
    with pytest.raises(ValueError, match="Loss structure mismatch"):
        loss.validate_outputs(T_LOGITS, S_LOGITS)


def test_argument_errors():
    with pytest.raises(ValueError, match="temperature must be positive"):
        D.LogitsDistillation(temperature=0.0)
    with pytest.raises(ValueError, match="non-`None`"):
        D.FeatureDistillation(loss=None)
    with pytest.raises(NotImplementedError):
        D.DistillationLoss().compute_loss(T_LOGITS, S_LOGITS)
    t, s = _mlp(keras, 8, "teacher"), _mlp(keras, 2, "student")
    with pytest.raises(ValueError, match="between 0.0 and 1.0"):
        D.Distiller(t, s, D.LogitsDistillation(), student_loss_weight=2.0)
    with pytest.raises(ValueError, match="cannot be `None`"):
        D.Distiller(t, s, None)
    with pytest.raises(ValueError, match="In teacher model"):
        D.Distiller(t, s, D.FeatureDistillation(teacher_layer_name="nope"))
    other = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="input shapes are incompatible"):
        D.Distiller(t, other, D.LogitsDistillation())


def _mlp(k, units, name):
    i = k.Input((4,))
    h = k.layers.Dense(units, activation="relu", name=f"{name}_h")(i)
    return k.Model(i, k.layers.Dense(3, name=f"{name}_o")(h), name=name)


def test_fit_trains_student_only_and_config_round_trips():
    t, s = _mlp(keras, 8, "teacher"), _mlp(keras, 2, "student")
    d = D.Distiller(t, s, [D.LogitsDistillation(2.0), D.FeatureDistillation("mse")])
    d.compile("sgd", loss="sparse_categorical_crossentropy")
    before_t = [w.copy() for w in t.get_weights()]
    x, y = RNG.random((16, 4)).astype("float32"), RNG.integers(0, 3, 16)
    hist = d.fit(x, y, epochs=2, verbose=0).history
    assert {"loss", "student_loss", "distillation_loss", "total_loss"} <= set(hist)
    for a, b in zip(before_t, t.get_weights()):
        np.testing.assert_array_equal(a, b)  # the teacher is frozen
    d2 = D.Distiller.from_config(d.get_config())
    assert [type(x) for x in d2.distillation_losses] == [D.LogitsDistillation,
                                                          D.FeatureDistillation]  # fmt: skip
    assert d2.distillation_losses[0].temperature == 2.0


def test_compute_loss_matches_keras():
    k = pytest.importorskip("keras")
    x, y = RNG.random((6, 4)).astype("float32"), RNG.integers(0, 3, 6)
    results = []
    weights = None
    for lib, dl in ((k, k.distillation), (keras, D)):
        t, s = _mlp(lib, 8, "teacher"), _mlp(lib, 2, "student")
        if weights is None:
            weights = (t.get_weights(), s.get_weights())
        t.set_weights(weights[0])
        s.set_weights(weights[1])
        d = dl.Distiller(
            t, s,
            [dl.LogitsDistillation(3.0), dl.FeatureDistillation("mse", "teacher_o", "student_o")],
            distillation_loss_weights=[1.0, 0.25], student_loss_weight=0.4,
        )  # fmt: skip
        d.compile("adam", loss="sparse_categorical_crossentropy")
        loss = d.compute_loss(x, y, d(x))
        results.append((float(loss), float(d.student_loss_tracker.result()),
                        float(d.distillation_loss_tracker.result())))  # fmt: skip
    np.testing.assert_allclose(results[1], results[0], rtol=1e-5)
