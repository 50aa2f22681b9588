""".keras and .weights.h5 files of an LSTM model (with GRU, Bidirectional and
TimeDistributed layers) and of a transformer block (MultiHeadAttention) move both ways
between Keras 3 and rill: the same layers, weights, optimizer state and predictions; and
``fit`` from the same weights ends at the same weights in both frameworks.

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
from tests.keras.layers.test_saving_layers_vs_keras import assert_same_state  # noqa: E402

RNG = np.random.default_rng(0)
XS = RNG.standard_normal((16, 7, 3)).astype("float32")
YS = RNG.integers(0, 3, 16)
XT = RNG.standard_normal((16, 6, 8)).astype("float32")
YT = RNG.standard_normal((16, 1)).astype("float32")


def lstm_model(k):
    L = k.layers
    inp = k.Input((7, 3), name="seq")
    h = L.LSTM(5, return_sequences=True, name="lstm")(inp)
    h = L.Bidirectional(L.GRU(4, return_sequences=True), name="bi")(h)
    h = L.TimeDistributed(L.Dense(3), name="td")(h)
    h = L.SimpleRNN(4, go_backwards=True, name="rnn")(h)
    return k.Model(inp, L.Dense(3, name="out")(h), name="lstm_model")


def transformer(k):
    L = k.layers
    inp = k.Input((6, 8), name="tokens")
    att = L.MultiHeadAttention(2, 4, name="mha")(inp, inp, use_causal_mask=True)
    h = L.LayerNormalization(name="ln1")(inp + att)
    ff = L.Dense(8, name="ff2")(L.Dense(16, activation="relu", name="ff1")(h))
    h = L.LayerNormalization(name="ln2")(h + ff)
    return k.Model(inp, L.Dense(1, name="out")(L.GlobalAveragePooling1D(name="pool")(h)),
                   name="transformer")  # fmt: skip


CASES = {
    "lstm": (lstm_model, XS, YS, "sparse_categorical_crossentropy"),
    "transformer": (transformer, XT, YT, "mse"),
}
_TRAINED = {}


def _loss(k, loss):
    return (
        k.losses.SparseCategoricalCrossentropy(from_logits=True) if "categorical" in loss else loss
    )


def trained(k, case):
    key = (k.__name__, case)
    if key not in _TRAINED:
        make, x, y, loss = CASES[case]
        model = make(k)
        model.compile(optimizer=k.optimizers.Adam(learning_rate=0.01), loss=_loss(k, loss))
        model.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
        _TRAINED[key] = model
    return _TRAINED[key]


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
    make, x, y, loss = CASES[case]
    km, rm = make(keras), make(rk)
    for k, model in ((keras, km), (rk, rm)):
        model.compile(optimizer=k.optimizers.Adam(learning_rate=0.01), loss=_loss(k, loss))
    for kl, rl in zip(km.layers, rm.layers):  # per layer: Keras orders model.weights by layer
        rl.set_weights(kl.get_weights())
    hk = km.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False).history["loss"]
    hr = rm.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False).history["loss"]
    np.testing.assert_allclose(hr, hk, rtol=1e-3)
    for kl, rl in zip(km.layers, rm.layers):
        for kw, rw in zip(kl.weights, rl.weights):
            np.testing.assert_allclose(np.asarray(rw), np.asarray(kw), rtol=2e-3, atol=2e-4,
                                       err_msg=f"{kl.name}/{kw.name}")  # fmt: skip
