"""Recurrent layers, cells and wrappers against Keras 3 itself (skipped without TensorFlow
and Keras): the same constructor arguments give the same weights (names, shapes, order)
and serialized config; with the same weight values, the same outputs and gradients (eager
and inside rill.function, with masks, initial states and both directions); the same
errors; stateful layers carry the same states.

    cd /work/main && PYTHONPATH=. /work/peers/bin/python -m pytest tests/keras/layers
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
T = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import rill as R  # noqa: E402
from rill import keras as RK  # noqa: E402
from tests.keras.keras_compare import assert_matches_keras  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 5, 4)).astype("float32")
MASK = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)

# (layer, constructor kwargs); every case runs with and without a mask
SPECS = [
    ("LSTM", dict(units=3)),
    ("LSTM", dict(units=3, return_sequences=True, return_state=True, go_backwards=True)),
    ("LSTM", dict(units=3, return_sequences=True, unit_forget_bias=False, use_bias=False)),
    ("LSTM", dict(units=3, activation="relu", recurrent_activation="hard_sigmoid",
                  return_sequences=True)),
    ("LSTM", dict(units=3, return_sequences=True, unroll=True, go_backwards=True)),
    ("GRU", dict(units=3, return_sequences=True)),
    ("GRU", dict(units=3, reset_after=False, return_state=True, go_backwards=True)),
    ("GRU", dict(units=3, use_bias=False, return_sequences=True)),
    ("GRU", dict(units=3, activation="relu", return_sequences=True)),
    ("SimpleRNN", dict(units=3, return_sequences=True, return_state=True)),
    ("SimpleRNN", dict(units=3, activation="relu", go_backwards=True)),
]  # fmt: skip


def _id(spec):
    return spec[0] + ",".join(f"{k}={v}" for k, v in spec[1].items())


def _set_same_weights(kl, rl, seed=1):
    rng = np.random.default_rng(seed)
    values = [
        (
            rng.uniform(0.5, 1.5, w.shape)
            if "variance" in w.name
            else rng.standard_normal(w.shape) * 0.5
        ).astype("float32")
        for w in kl.weights
    ]
    kl.set_weights(values)
    rl.set_weights(values)
    assert [(w.name, tuple(w.shape)) for w in kl.weights] == [
        (w.name.split("/")[-1].split(":")[0], tuple(w.shape.as_list())) for w in rl.weights
    ]


def _config(fw_keras, layer):
    config = json.loads(json.dumps(fw_keras.saving.serialize_keras_object(layer), default=str))

    def clean(c):  # Keras 3.15's optional initializer keys, and the per-run names
        if isinstance(c, dict):
            return {k: clean(v) for k, v in c.items() if k != "name"
                    and not (k in ("input_axes", "output_axes") and v is None)}  # fmt: skip
        if isinstance(c, list):
            return [clean(v) for v in c]
        return c

    return clean(config)


def _flat(out):
    return [np.asarray(o) for o in R.nest.flatten(out)]


def _run(fw, layer, x, mask, init, upstream, traced=False):
    """Outputs, and gradients of sum(outputs * upstream) w.r.t. x, the initial states and
    the trainable weights."""

    def go(x):
        with fw.GradientTape() as tape:
            tape.watch(x)
            for s in init or []:
                tape.watch(s)
            out = layer(x, mask=mask, initial_state=init)
            flat = fw.nest.flatten(out)
            loss = fw.add_n([fw.reduce_sum(o * u) for o, u in zip(flat, upstream)])
        return flat, tape.gradient(loss, [x, *(init or []), *layer.trainable_weights])

    x = fw.constant(x)
    out, grads = R.function(go)(x) if traced else go(x)
    return _flat(out), [np.asarray(g) for g in grads]


@pytest.mark.parametrize("spec", SPECS, ids=[_id(s) for s in SPECS])
def test_recurrent_layers_match_keras(spec):
    name, kwargs = spec
    kl, rl = getattr(keras.layers, name)(**kwargs), getattr(RK.layers, name)(**kwargs)
    kl(X)
    rl(R.constant(X))
    _set_same_weights(kl, rl)
    assert _config(RK, rl) == _config(keras, kl)
    again = RK.saving.deserialize_keras_object(keras.saving.serialize_keras_object(kl))
    assert type(again) is type(rl)
    assert {**again.get_config(), "name": None} == {**rl.get_config(), "name": None}
    n_states = 2 if name == "LSTM" else 1
    init_values = [RNG.standard_normal((3, 3)).astype("float32") for _ in range(n_states)]
    for mask in (None, MASK):
        for with_init in (False, True):
            k_init = [T.constant(v) for v in init_values] if with_init else None
            r_init = [R.constant(v) for v in init_values] if with_init else None
            k_out = _flat(kl(X, mask=mask, initial_state=k_init))
            up = [RNG.standard_normal(o.shape).astype("float32") for o in k_out]
            k_out, k_grads = _run(T, kl, X, mask, k_init, up)
            for traced in (False, True):
                r_out, r_grads = _run(R, rl, X, None if mask is None else R.constant(mask),
                                      r_init, up, traced)  # fmt: skip
                what = f"{name} mask={mask is not None} init={with_init} traced={traced}"
                for a, b in zip(r_out, k_out):
                    assert_matches_keras(a, b, rtol=1e-5, atol=1e-5, err_msg=what)
                assert len(r_grads) == len(k_grads)
                for a, b in zip(r_grads, k_grads):
                    assert_matches_keras(a, b, rtol=1e-4, atol=1e-5, err_msg=what + " gradient")


def test_training_mode_without_dropout_matches_and_dropout_keeps_shapes():
    for name in ("LSTM", "GRU", "SimpleRNN"):
        kl, rl = getattr(keras.layers, name)(3), getattr(RK.layers, name)(3)
        kl(X)
        rl(X)
        _set_same_weights(kl, rl)
        assert_matches_keras(np.asarray(rl(X, training=True)), np.asarray(kl(X, training=True)),
                             rtol=1e-5, atol=1e-6)  # fmt: skip
        for kw in (dict(dropout=0.5), dict(recurrent_dropout=0.5)):
            k = getattr(keras.layers, name)(3, return_sequences=True, **kw)
            r = getattr(RK.layers, name)(3, return_sequences=True, **kw)
            assert np.asarray(r(X, training=True)).shape == tuple(k(X, training=True).shape)
            assert _config(RK, r) == _config(keras, k)


CELLS = [
    ("SimpleRNNCell", dict(units=3)),
    ("LSTMCell", dict(units=3, unit_forget_bias=False)),
    ("GRUCell", dict(units=3)),
    ("GRUCell", dict(units=3, reset_after=False)),
]


@pytest.mark.parametrize("spec", CELLS, ids=[_id(s) for s in CELLS])
def test_cells_match_keras(spec):
    name, kwargs = spec
    kc, rc = getattr(keras.layers, name)(**kwargs), getattr(RK.layers, name)(**kwargs)
    n = 2 if name == "LSTMCell" else 1
    states = [RNG.standard_normal((3, 3)).astype("float32") for _ in range(n)]
    kc(X[:, 0], [T.constant(s) for s in states])
    rc(X[:, 0], [R.constant(s) for s in states])
    _set_same_weights(kc, rc)
    assert _config(RK, rc) == _config(keras, kc)
    k_out = kc(X[:, 0], [T.constant(s) for s in states])
    r_out = rc(X[:, 0], [R.constant(s) for s in states])
    for a, b in zip(_flat(r_out), _flat(k_out)):
        assert_matches_keras(a, b, rtol=1e-5, atol=1e-6)


def test_stacked_cells_and_generic_rnn_match_keras():
    def make(L):
        return L.RNN([L.SimpleRNNCell(2), L.LSTMCell(3), L.GRUCell(2)], return_sequences=True,
                     return_state=True)  # fmt: skip

    kl, rl = make(keras.layers), make(RK.layers)
    kl(X)
    rl(X)
    _set_same_weights(kl, rl)
    assert _config(RK, rl) == _config(keras, kl)
    for mask in (None, MASK):
        k_out = _flat(kl(X, mask=mask))
        up = [RNG.standard_normal(o.shape).astype("float32") for o in k_out]
        k_out, k_grads = _run(T, kl, X, mask, None, up)
        for traced in (False, True):
            r_out, r_grads = _run(R, rl, X, mask, None, up, traced)
            for a, b in zip(r_out + r_grads, k_out + k_grads):
                assert_matches_keras(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_matches_keras(merge_mode):
    def make(L):
        return L.Bidirectional(L.LSTM(3, return_sequences=True, return_state=True),
                               merge_mode=merge_mode)  # fmt: skip

    kl, rl = make(keras.layers), make(RK.layers)
    kl(X)
    rl(X)
    _set_same_weights(kl, rl)
    assert _config(RK, rl) == _config(keras, kl)
    for mask in (None, MASK):
        k_out = _flat(kl(X, mask=mask))
        up = [RNG.standard_normal(o.shape).astype("float32") for o in k_out]
        k_out, k_grads = _run(T, kl, X, mask, None, up)
        r_out, r_grads = _run(R, rl, X, mask, None, up, traced=True)
        for a, b in zip(r_out + r_grads, k_out + k_grads):
            assert_matches_keras(a, b, rtol=1e-4, atol=1e-5)
    gk = keras.layers.Bidirectional(keras.layers.GRU(2), backward_layer=keras.layers.GRU(
        2, go_backwards=True, reset_after=False))  # fmt: skip
    gr = RK.layers.Bidirectional(RK.layers.GRU(2), backward_layer=RK.layers.GRU(
        2, go_backwards=True, reset_after=False))  # fmt: skip
    gk(X)
    gr(X)
    _set_same_weights(gk, gr)
    assert_matches_keras(np.asarray(gr(X)), np.asarray(gk(X)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("inner,shape", [
    (lambda L: L.Dense(3, activation="relu"), (3, 5, 4)),
    (lambda L: L.Conv2D(2, 2), (2, 3, 5, 4, 2)),
    (lambda L: L.BatchNormalization(), (3, 5, 4)),
], ids=["dense", "conv2d", "batchnorm"])  # fmt: skip
def test_time_distributed_matches_keras(inner, shape):
    x = RNG.standard_normal(shape).astype("float32")
    kl, rl = (
        keras.layers.TimeDistributed(inner(keras.layers)),
        RK.layers.TimeDistributed(inner(RK.layers)),
    )
    kl(x)
    rl(x)
    _set_same_weights(kl, rl)
    assert _config(RK, rl) == _config(keras, kl)
    for training in (False, True):
        with T.GradientTape() as tape:
            k_y = kl(x, training=training)
            up = np.random.default_rng(2).standard_normal(k_y.shape).astype("float32")
            loss = T.reduce_sum(k_y * up)
        k_g = tape.gradient(loss, kl.trainable_weights)
        with R.GradientTape() as tape:
            r_y = rl(x, training=training)
            loss = R.reduce_sum(r_y * up)
        r_g = tape.gradient(loss, rl.trainable_weights)
        assert_matches_keras(np.asarray(r_y), np.asarray(k_y), rtol=1e-5, atol=1e-5)
        for a, b in zip(r_g, k_g):
            assert_matches_keras(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)
        for a, b in zip(rl.weights, kl.weights):  # moving statistics after training
            assert_matches_keras(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_stateful_layers_match_keras():
    def make(k):
        inp = k.Input(batch_shape=(3, None, 4))
        return k.Model(inp, k.layers.GRU(3, stateful=True, return_sequences=True)(inp))

    km, rm = make(keras), make(RK)
    rm.set_weights(km.get_weights())
    for part in (X[:, :2], X[:, 2:]):
        assert_matches_keras(np.asarray(rm(part)), np.asarray(km(part)), rtol=1e-5, atol=1e-6)
    km.layers[1].reset_state()
    rm.layers[1].reset_state()
    assert_matches_keras(np.asarray(rm(X)), np.asarray(km(X)), rtol=1e-5, atol=1e-6)
    assert len(rm.weights) == len(km.weights)


ERRORS = [
    ("LSTM", dict(units=0), None),
    ("GRU", dict(units=-1), None),
    ("SimpleRNN", dict(units=2), (2, 4)),
    ("LSTM", dict(units=2, use_cudnn="maybe"), None),
    ("Bidirectional", dict(layer="LSTM", merge_mode="max"), None),
    ("TimeDistributed", dict(layer="Dense"), (2, 3)),
    ("GRU", dict(units=2, stateful=True), "unknown batch"),
]  # fmt: skip


def _error(fw_k, name, kwargs, shape):
    kwargs = dict(kwargs)
    if isinstance(kwargs.get("layer"), str):
        inner = getattr(fw_k.layers, kwargs["layer"])
        kwargs["layer"] = inner(2)
    try:
        layer = getattr(fw_k.layers, name)(**kwargs)
        if shape == "unknown batch":
            layer(fw_k.Input((None, 4)))
        elif shape is not None:
            layer(np.zeros(shape, "float32"))
    except Exception as e:  # noqa: BLE001 - the class is what is compared
        return e
    return None


@pytest.mark.parametrize("name,kwargs,shape", ERRORS, ids=[f"{n}{k}{s}" for n, k, s in ERRORS])
def test_bad_arguments_raise_what_keras_raises(name, kwargs, shape):
    ke, re_ = _error(keras, name, kwargs, shape), _error(RK, name, kwargs, shape)
    assert ke is not None and re_ is not None, (ke, re_)
    assert type(ke).__name__ in [c.__name__ for c in type(re_).__mro__], (ke, re_)


CONV = [
    ("ConvLSTM1D", dict(filters=2, kernel_size=3), (2, 4, 7, 3)),
    ("ConvLSTM2D", dict(filters=2, kernel_size=(3, 2), padding="same", return_sequences=True,
                        return_state=True, go_backwards=True), (2, 4, 5, 6, 3)),
    ("ConvLSTM2D", dict(filters=2, kernel_size=2, strides=2, data_format="channels_first",
                        return_sequences=True), (2, 4, 3, 6, 6)),
    ("ConvLSTM3D", dict(filters=2, kernel_size=2, dilation_rate=2), (2, 3, 5, 5, 5, 2)),
]  # fmt: skip


@pytest.mark.parametrize("spec", CONV, ids=[f"{n}{k}" for n, k, _ in CONV])
def test_conv_lstm_matches_keras(spec):
    """(TF's CPU kernels lack channels_first convolutions: Keras runs the channels_last
    twin on transposed inputs.)"""
    name, kwargs, shape = spec
    x = RNG.standard_normal(shape).astype("float32")
    first = kwargs.get("data_format") == "channels_first"
    kkw = {k: v for k, v in kwargs.items() if k != "data_format"}
    kx = np.moveaxis(x, 2, -1) if first else x
    kl, rl = getattr(keras.layers, name)(**kkw), getattr(RK.layers, name)(**kwargs)
    kl(kx)
    rl(x)
    _set_same_weights(kl, rl)
    kc, rc = _config(keras, kl), _config(RK, rl)
    if first:
        for c in (kc, rc):
            c["config"].pop("data_format")
            c.pop("build_config")
    assert rc == kc

    def back(a):  # Keras' channels-last results in the channels-first layout
        return np.moveaxis(a, -1, 2 if a.ndim == x.ndim else 1) if first else a

    mask = np.ones(shape[:2], bool)
    mask[0, 1] = mask[1, -1] = False
    for m in (None, mask):
        k_out = [back(np.asarray(o)) for o in T.nest.flatten(kl(kx, mask=m))]
        up = [RNG.standard_normal(o.shape).astype("float32") for o in k_out]
        kt = T.constant(kx)
        with T.GradientTape() as tape:
            tape.watch(kt)
            flat = T.nest.flatten(kl(kt, mask=m))
            loss = T.add_n([T.reduce_sum(o * np.moveaxis(u, 2 if u.ndim == x.ndim else 1, -1)
                                         if first else o * u) for o, u in zip(flat, up)])  # fmt: skip
        k_grads = tape.gradient(loss, [kt, *kl.trainable_weights])
        k_grads = [back(np.asarray(k_grads[0]))] + [np.asarray(g) for g in k_grads[1:]]
        r_out, r_grads = _run(R, rl, x, m, None, up, traced=True)
        for a, b in zip(r_out + r_grads, k_out + k_grads):
            assert_matches_keras(a, b, rtol=1e-4, atol=1e-5, err_msg=name)
