"""``layer.weights`` / ``trainable_weights`` / ``non_trainable_weights`` in Keras 3's order:
depth-first, each layer's own weights (trainable ones first) before its sublayers', in
tracking order. References: the order written out by hand from that rule, and Keras 3
itself (variable paths, and get_weights/set_weights exchanged both ways; skipped without
Keras).

    cd /work/main && PYTHONPATH=. /work/peers/bin/python -m pytest tests/keras/test_weight_order.py
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from rill import keras


def _outer(k):
    class Outer(k.layers.Layer):
        def __init__(self):
            super().__init__(name="outer")
            self.a = k.layers.Dense(2, name="a")
            self.inner = k.Sequential(
                [k.layers.Dense(2, name="i1"), k.layers.BatchNormalization(name="bn")],
                name="inner",
            )

        def build(self, shape):
            self.w = self.add_weight(shape=(1,), name="w")
            self.nt = self.add_weight(shape=(1,), name="nt", trainable=False)
            self.a.build(shape)
            self.inner.build((None, 2))
            self.w2 = self.add_weight(shape=(1,), name="w2")

        def call(self, x):
            return self.inner(self.a(x))

    return Outer()


def _short(v) -> str:
    """'layer/var' from rill's 'layer/var:0' or Keras' 'outer/.../layer/var' path."""
    name = getattr(v, "path", None) or v.name
    return "/".join(name.split(":")[0].split("/")[-2:])


def test_depth_first_own_weights_first():
    layer = _outer(keras)
    layer(np.ones((1, 3), "float32"))
    expect = ["outer/w", "outer/w2", "outer/nt", "a/kernel", "a/bias", "i1/kernel", "i1/bias",
              "bn/gamma", "bn/beta", "bn/moving_mean", "bn/moving_variance"]  # fmt: skip
    assert [_short(v) for v in layer.weights] == expect
    trainable = [n for n in expect if n not in ("outer/nt", "bn/moving_mean", "bn/moving_variance")]
    assert [_short(v) for v in layer.trainable_weights] == trainable
    assert [_short(v) for v in layer.non_trainable_weights] == [
        "outer/nt", "bn/moving_mean", "bn/moving_variance"
    ]  # fmt: skip
    assert [w.shape for w in layer.get_weights()] == [tuple(v.shape) for v in layer.weights]


def test_freezing_keeps_the_order():
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d0"),
                          keras.layers.BatchNormalization(name="b"),
                          keras.layers.Dense(2, name="d1")])  # fmt: skip
    before = [_short(v) for v in m.weights]
    m.layers[1].trainable = False
    assert [_short(v) for v in m.weights] == before
    assert [_short(v) for v in m.trainable_weights] == [
        "d0/kernel",
        "d0/bias",
        "d1/kernel",
        "d1/bias",
    ]
    assert [_short(v) for v in m.non_trainable_weights] == [
        "b/gamma", "b/beta", "b/moving_mean", "b/moving_variance"
    ]  # fmt: skip
    m.trainable = False
    assert m.trainable_weights == [] and len(m.non_trainable_weights) == len(before)


@pytest.fixture(scope="module")
def K():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    pytest.importorskip("tensorflow")
    return pytest.importorskip("keras")


def _models(k):
    out = {"outer": _outer(k)}
    out["seq_bn"] = k.Sequential([k.layers.Dense(3), k.layers.BatchNormalization(),
                                  k.layers.Dense(2)])  # fmt: skip
    out["bidi"] = k.Sequential([k.layers.Bidirectional(k.layers.LSTM(2, return_sequences=True)),
                                k.layers.GRU(2)])  # fmt: skip
    i = k.Input((4, 3))
    h = k.layers.MultiHeadAttention(2, 2)(i, i)
    h = k.layers.LayerNormalization()(h)
    out["functional_mha"] = k.Model(i, k.layers.TimeDistributed(k.layers.Dense(2))(h))
    return out


@pytest.mark.parametrize("name", ["outer", "seq_bn", "bidi", "functional_mha"])
def test_order_and_values_match_keras(K, name):
    ours, theirs = _models(keras)[name], _models(K)[name]
    x = np.random.default_rng(0).standard_normal((2, 4, 3)).astype("float32")
    if name in ("outer", "seq_bn"):
        x = x[:, 0]
    ours(x)
    theirs(x)
    assert [tuple(v.shape) for v in ours.weights] == [tuple(v.shape) for v in theirs.weights]
    assert [_short(v).split("/")[-1] for v in ours.weights] == [
        _short(v).split("/")[-1] for v in theirs.weights
    ]
    assert [_short(v).split("/")[-1] for v in ours.trainable_weights] == [
        _short(v).split("/")[-1] for v in theirs.trainable_weights
    ]
    theirs.set_weights(ours.get_weights())  # same order: the same function
    np.testing.assert_allclose(np.asarray(theirs(x)), ours(x).numpy(), rtol=1e-5, atol=1e-6)
    ours.set_weights([np.asarray(w) * 0.5 for w in theirs.get_weights()])
    theirs.set_weights([w * 0.5 for w in theirs.get_weights()])
    np.testing.assert_allclose(np.asarray(theirs(x)), ours(x).numpy(), rtol=1e-5, atol=1e-6)
