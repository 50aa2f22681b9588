""".keras and .weights.h5 files of a convnet and a BatchNormalization model move both ways
between Keras 3 and rill: the same layers, weights, optimizer state and predictions.

    cd /work/main && PYTHONPATH=. /work/peers/bin/python -m pytest tests/keras/layers
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
pytest.importorskip("h5py")

from rill import keras as rk  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.standard_normal((16, 10, 10, 2)).astype("float32")
Y = RNG.integers(0, 3, 16)
XB = RNG.standard_normal((16, 5)).astype("float32")
YB = RNG.standard_normal((16, 1)).astype("float32")


def convnet(k):
    L = k.layers
    return k.Sequential([
        k.Input((10, 10, 2)),
        L.Conv2D(4, 3, activation="relu", padding="same"),
        L.BatchNormalization(),
        L.MaxPooling2D(2),
        L.SeparableConv2D(4, 3, padding="same"),
        L.DepthwiseConv2D(2, depth_multiplier=2),
        L.Conv2DTranspose(3, 2, strides=2),
        L.Cropping2D(1),
        L.ZeroPadding2D(1),
        L.UpSampling2D(2),
        L.AveragePooling2D(2),
        L.GlobalMaxPooling2D(),
        L.Dense(3),
    ])  # fmt: skip


def bn_model(k):
    L = k.layers
    inp = k.Input((5,), name="x")
    h = L.Dense(4, use_bias=False, name="d1")(inp)  # (a bias before BN gets no gradient)
    h = L.BatchNormalization(momentum=0.8, name="bn")(h)
    h = L.LayerNormalization(name="ln")(L.PReLU(name="prelu")(h))
    return k.Model(inp, L.Dense(1, name="out")(h), name="bn_model")


CASES = {
    "convnet": (convnet, X, Y, "sparse_categorical_crossentropy"),
    "bn": (bn_model, XB, YB, "mse"),
}


_TRAINED = {}


def trained(k, case):
    """The model of ``case`` fitted for two epochs in framework ``k`` (once per session:
    the tests only save, load and predict with it)."""
    key = (k.__name__, case)
    if key not in _TRAINED:
        make, x, y, loss = CASES[case]
        model = make(k)
        if "categorical" in loss:
            loss = k.losses.SparseCategoricalCrossentropy(from_logits=True)
        model.compile(optimizer=k.optimizers.Adam(learning_rate=0.01), loss=loss)
        model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
        _TRAINED[key] = model
    return _TRAINED[key]


def assert_same_state(a, b):
    assert [type(x).__name__ for x in a.layers] == [type(x).__name__ for x in b.layers]
    for la, lb in zip(a.layers, b.layers):  # per layer: Keras 3 orders model.weights by layer
        assert len(la.weights) == len(lb.weights), la.name
        for va, vb in zip(la.weights, lb.weights):
            np.testing.assert_allclose(np.asarray(va), np.asarray(vb), rtol=1e-6, atol=1e-7)
    if getattr(a, "optimizer", None) is not None and getattr(b, "optimizer", None) is not None:
        oa, ob = a.optimizer.variables, b.optimizer.variables
        assert len(oa) == len(ob)
        for va, vb in zip(oa, ob):
            np.testing.assert_allclose(np.asarray(va), np.asarray(vb), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("writer", ["keras", "rill"])
def test_model_files_move_both_ways(tmp_path, case, writer):
    src_k, dst_k = (keras, rk) if writer == "keras" else (rk, keras)
    src = trained(src_k, case)
    src.save(tmp_path / "m.keras")
    dst = dst_k.models.load_model(tmp_path / "m.keras")
    assert_same_state(src, dst)
    x = CASES[case][1]
    np.testing.assert_allclose(dst.predict(x, verbose=0), src.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-5)  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("writer", ["keras", "rill"])
def test_weights_files_move_both_ways(tmp_path, case, writer):
    src_k, dst_k = (keras, rk) if writer == "keras" else (rk, keras)
    make, x, _, _ = CASES[case]
    src = trained(src_k, case)
    src.save_weights(tmp_path / "m.weights.h5")
    dst = make(dst_k)
    dst.load_weights(tmp_path / "m.weights.h5")
    for la, lb in zip(src.layers, dst.layers):
        for va, vb in zip(la.weights, lb.weights):
            np.testing.assert_array_equal(np.asarray(va), np.asarray(vb))
    np.testing.assert_allclose(dst.predict(x, verbose=0), src.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-5)  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_fit_from_the_same_weights_matches_keras(case):
    """Training (fit, BatchNormalization's moving statistics included) from the same
    weights ends at the same weights in both frameworks."""
    make, x, y, loss = CASES[case]
    models = []
    for k in (keras, rk):
        model = make(k)
        lo = (
            k.losses.SparseCategoricalCrossentropy(from_logits=True)
            if "categorical" in loss
            else loss
        )
        model.compile(optimizer=k.optimizers.Adam(learning_rate=0.01), loss=lo)
        models.append(model)
    km, rm = models
    for kl, rl in zip(km.layers, rm.layers):
        rl.set_weights(kl.get_weights())
    hk = km.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False).history["loss"]
    hr = rm.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False).history["loss"]
    np.testing.assert_allclose(hr, hk, rtol=1e-3)
    for kl, rl in zip(km.layers, rm.layers):
        for kw, rw in zip(kl.weights, rl.weights):
            np.testing.assert_allclose(np.asarray(rw), np.asarray(kw), rtol=2e-3, atol=2e-4,
                                       err_msg=f"{kl.name}/{kw.name}")  # fmt: skip
