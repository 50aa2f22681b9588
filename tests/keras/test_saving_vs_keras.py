"""Files written by Keras 3 load in rill and vice versa (.keras and .weights.h5).

Run with the peers environment: PYTHONPATH=. /work/peers/bin/python -m pytest
tests/keras/test_saving_vs_keras.py
"""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
pytest.importorskip("h5py")

from rill import keras as rk  # noqa: E402
from tests.keras.keras_compare import assert_matches_keras  # noqa: E402

X = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
Y = np.random.default_rng(1).normal(size=(16, 2)).astype("float32")


def stack(k, rate=0.3):
    """The same architecture in Keras (k=keras) or rill (k=rill.keras)."""
    return k.Sequential(
        [
            k.Input((4,)),
            k.layers.Dense(8, activation="relu"),
            k.layers.Dropout(rate),
            k.layers.Reshape((2, 4)),
            k.layers.Flatten(),
            k.layers.Activation("tanh"),
            k.layers.Dense(2),
        ]
    )


def trained(k):
    model = stack(k, rate=0.0)  # training continues in both: no framework-specific noise
    model.compile(optimizer=k.optimizers.Adam(learning_rate=0.01), loss="mse")
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    return model


def assert_same_state(a, b):
    """Same weights and optimizer variables: dtypes, shapes and values, bit for bit."""
    assert len(a.weights) == len(b.weights)
    for va, vb in zip(a.weights, b.weights):
        assert_matches_keras(va, vb, exact=True, err_msg=va.name)
    oa, ob = a.optimizer.variables, b.optimizer.variables
    assert len(oa) == len(ob)
    for va, vb in zip(oa, ob):
        assert_matches_keras(va, vb, exact=True, err_msg=va.name)


def continue_training(model):
    model.fit(X, Y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    return [np.asarray(v) for v in model.weights]


@pytest.mark.parametrize("writer", ["keras", "rill"])
def test_trained_sequential_files_move_both_ways(tmp_path, writer):
    src_k, dst_k = (keras, rk) if writer == "keras" else (rk, keras)
    src = trained(src_k)
    src.save(tmp_path / "m.keras")
    dst = dst_k.models.load_model(tmp_path / "m.keras")
    assert [type(x).__name__ for x in dst.layers] == [type(x).__name__ for x in src.layers]
    assert_same_state(src, dst)
    assert_matches_keras(dst.predict(X, verbose=0), src.predict(X, verbose=0), 1e-5, 1e-6)
    for a, b in zip(continue_training(dst), continue_training(src)):
        assert_matches_keras(a, b, rtol=1e-4, atol=1e-6)


def test_uncompiled_model_both_ways(tmp_path):
    ref = stack(keras)
    ref.save(tmp_path / "k.keras")
    ours = rk.models.load_model(tmp_path / "k.keras")
    assert_matches_keras(ours.predict(X, verbose=0), ref.predict(X, verbose=0), 1e-5, 1e-6)
    ours.save(tmp_path / "r.keras")
    back = keras.models.load_model(tmp_path / "r.keras")
    assert_matches_keras(back.predict(X, verbose=0), ref.predict(X, verbose=0), 1e-5, 1e-6)


def test_weights_files_both_ways(tmp_path):
    ref = trained(keras)
    ref.save_weights(tmp_path / "k.weights.h5")
    ours = stack(rk, rate=0.0)
    ours.compile(optimizer=rk.optimizers.Adam(learning_rate=0.01), loss="mse")
    ours.optimizer.build(ours.trainable_variables)
    ours.load_weights(tmp_path / "k.weights.h5")
    assert_same_state(ref, ours)

    mine = trained(rk)
    mine.save_weights(tmp_path / "r.weights.h5")
    theirs = stack(keras, rate=0.0)
    theirs.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    theirs.optimizer.build(theirs.trainable_variables)
    theirs.load_weights(tmp_path / "r.weights.h5")
    assert_same_state(mine, theirs)
    assert_matches_keras(theirs.predict(X, verbose=0), mine.predict(X, verbose=0), 1e-5, 1e-6)


def branchy(k):
    """A functional model with two inputs, a shared layer, operators and two outputs."""
    a, b = k.Input((4,), name="a"), k.Input((2,), name="b")
    shared = k.layers.Dense(3, activation="tanh", name="shared")
    h = k.layers.Concatenate(name="cat")([shared(a), b])
    aux = (h * 2.0 + h)[:, :3] - shared(a)
    out = k.layers.Dense(2, name="out")(k.layers.Add(name="merge")([aux, h[:, 2:]]))
    model = k.Model([a, b], [out, aux], name="branchy")
    model.compile(optimizer=k.optimizers.Adam(0.01), loss=["mse", "mae"], loss_weights=[1.0, 0.5])
    return model


XB = [X, X[:, :2] * 0.5]
YB = [Y, np.zeros((16, 3), np.float32)]


@pytest.mark.parametrize("writer", ["keras", "rill"])
def test_functional_files_move_both_ways(tmp_path, writer):
    src_k, dst_k = (keras, rk) if writer == "keras" else (rk, keras)
    src = branchy(src_k)
    src.fit(XB, YB, epochs=1, batch_size=8, verbose=0, shuffle=False)
    src.save(tmp_path / "f.keras")
    dst = dst_k.models.load_model(tmp_path / "f.keras")
    assert [x.name for x in dst.layers] == [x.name for x in src.layers]
    assert_same_state(src, dst)
    for p, q in zip(dst.predict(XB, verbose=0), src.predict(XB, verbose=0)):
        assert_matches_keras(p, q, rtol=1e-5, atol=1e-6)
