"""Recurrent layers and wrappers without Keras: outputs against NumPy references, the fused
and step-by-step paths against each other and against finite differences, one graph loop
for any sequence length, masking, state, dropout, training and configs.

The differential tests against Keras 3 itself are in test_recurrent_vs_keras.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import rill as tf
from rill import keras

L = keras.layers
RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 5, 4)).astype("float32")
MASK = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)


# ------------------------------------------------------------------------------------------
# NumPy references
# ------------------------------------------------------------------------------------------


def _sig(x):
    return 1 / (1 + np.exp(-x))


def np_step(kind, x, states, w, reset_after=True):
    """One step of the reference cells (float64): (output, new states)."""
    k, rk = w[0], w[1]
    b = w[2] if len(w) > 2 else None
    u = rk.shape[0]
    if kind == "SimpleRNN":
        h = np.tanh(x @ k + (0 if b is None else b) + states[0] @ rk)
        return h, [h]
    if kind == "LSTM":
        h, c = states
        z = x @ k + h @ rk + (0 if b is None else b)
        i, f, g, o = (
            _sig(z[:, :u]),
            _sig(z[:, u : 2 * u]),
            np.tanh(z[:, 2 * u : 3 * u]),
            _sig(z[:, 3 * u :]),
        )
        c = f * c + i * g
        h = o * np.tanh(c)
        return h, [h, c]
    h = states[0]
    ib, rb = (None, None) if b is None else ((b[0], b[1]) if reset_after else (b, None))
    xm = x @ k + (0 if ib is None else ib)
    if reset_after:
        inner = h @ rk + (0 if rb is None else rb)
        z = _sig(xm[:, :u] + inner[:, :u])
        r = _sig(xm[:, u : 2 * u] + inner[:, u : 2 * u])
        hh = np.tanh(xm[:, 2 * u :] + r * inner[:, 2 * u :])
    else:
        zr = h @ rk[:, : 2 * u]
        z = _sig(xm[:, :u] + zr[:, :u])
        r = _sig(xm[:, u : 2 * u] + zr[:, u:])
        hh = np.tanh(xm[:, 2 * u :] + (r * h) @ rk[:, 2 * u :])
    h = z * h + (1 - z) * hh
    return h, [h]


def np_rnn(kind, x, w, mask=None, go_backwards=False, states=None, reset_after=True):
    """The reference recurrence with Keras' masking: (outputs in processing order, last
    output, final states)."""
    x = x.astype("float64")
    w = [np.asarray(v, "float64") for v in w]
    b, t = x.shape[:2]
    u = w[1].shape[0]
    n_states = 2 if kind == "LSTM" else 1
    states = (
        [np.zeros((b, u))] * n_states
        if states is None
        else [np.asarray(s, "float64") for s in states]
    )
    order = range(t - 1, -1, -1) if go_backwards else range(t)
    prev, outs = np.zeros((b, u)), []
    for i in order:
        y, new = np_step(kind, x[:, i], states, w, reset_after)
        if mask is not None:
            m = mask[:, i : i + 1]
            y = np.where(m, y, prev)
            new = [np.where(m, a, s) for a, s in zip(new, states)]
        states, prev = new, y
        outs.append(y)
    return np.stack(outs, 1), prev, states


def _weights(layer, scale=0.5, seed=1):
    rng = np.random.default_rng(seed)
    values = [(rng.standard_normal(w.shape) * scale).astype("float32") for w in layer.weights]
    layer.set_weights(values)
    return values


CASES = [
    ("LSTM", {}),
    ("LSTM", dict(go_backwards=True, use_bias=False)),
    ("GRU", {}),
    ("GRU", dict(reset_after=False, go_backwards=True)),
    ("GRU", dict(use_bias=False)),
    ("SimpleRNN", {}),
]


@pytest.mark.parametrize("kind,kwargs", CASES, ids=[f"{k}{v}" for k, v in CASES])
@pytest.mark.parametrize("masked", [False, True], ids=["nomask", "mask"])
def test_outputs_match_numpy_reference_eager_and_traced(kind, kwargs, masked):
    layer = getattr(L, kind)(3, return_sequences=True, return_state=True, **kwargs)
    layer(X)
    w = _weights(layer)
    mask = MASK if masked else None
    ref_seq, ref_last, ref_states = np_rnn(kind, X, w, mask, kwargs.get("go_backwards", False),
                                           reset_after=kwargs.get("reset_after", True))  # fmt: skip
    m = None if mask is None else tf.constant(mask)
    eager = layer(tf.constant(X), mask=m)
    traced = tf.function(lambda x: layer(x, mask=m))(tf.constant(X))
    for got in (eager, traced):
        np.testing.assert_allclose(got[0].numpy(), ref_seq, rtol=1e-5, atol=1e-6)
        for g, r in zip(got[1:], ref_states):
            np.testing.assert_allclose(g.numpy(), r, rtol=1e-5, atol=1e-6)
    last = getattr(L, kind)(3, **kwargs)
    last(X)
    last.set_weights(w)
    np.testing.assert_allclose(last(X, mask=m).numpy(), ref_last, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind,kwargs", CASES, ids=[f"{k}{v}" for k, v in CASES])
def test_fused_and_stepwise_paths_agree_on_gradients(kind, kwargs):
    """The fused sequence (hand-written backward pass) against the cell run step by step
    (``unroll=True``: autodiff through every op), with a mask and an initial state."""
    fused = getattr(L, kind)(3, return_sequences=True, return_state=True, **kwargs)
    steps = getattr(L, kind)(3, return_sequences=True, return_state=True, unroll=True, **kwargs)
    fused(X)
    steps(X)
    steps.set_weights(_weights(fused))
    n = 2 if kind == "LSTM" else 1
    init = [tf.constant(RNG.standard_normal((3, 3)).astype("float32")) for _ in range(n)]
    up = [RNG.standard_normal(s).astype("float32") for s in [(3, 5, 3)] + [(3, 3)] * n]

    def grads(layer, mode):
        x = tf.constant(X)

        def run(x):
            with tf.GradientTape() as tape:
                tape.watch([x, *init])
                out = layer(x, initial_state=init, mask=tf.constant(MASK))
                loss = tf.add_n([tf.reduce_sum(o * u) for o, u in zip(out, up)])
            return tape.gradient(loss, [x, *init, *layer.trainable_weights])

        return [g.numpy() for g in (tf.function(run)(x) if mode == "traced" else run(x))]

    for mode in ("eager", "traced"):
        for a, b in zip(grads(fused, mode), grads(steps, mode)):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
def test_gradients_match_finite_differences(kind):
    """float64 layers: the input and initial-state gradients through compute_gradient, the
    weights' (the recurrent kernel's is computed by the fused backward pass itself) by
    central differences on each element."""
    layer = getattr(L, kind)(2, return_sequences=True, return_state=True, dtype="float64")
    x = RNG.standard_normal((2, 4, 3))
    layer(x)
    _weights(layer)
    mask = tf.constant(MASK[:2, :4])
    n = 2 if kind == "LSTM" else 1
    h0 = [RNG.standard_normal((2, 2)) for _ in range(n)]

    def f(x, *init):
        out = layer(x, initial_state=list(init), mask=mask)
        return tf.concat([tf.reshape(o, [-1]) for o in out], 0)

    theoretical, numerical = tf.test.compute_gradient(f, [x, *h0])
    for t, num in zip(theoretical, numerical):
        np.testing.assert_allclose(t, num, rtol=1e-6, atol=1e-7)
    up = RNG.standard_normal(f(x, *h0).shape)

    def loss():
        return float(tf.reduce_sum(f(x, *h0) * up))

    with tf.GradientTape() as tape:
        value = tf.reduce_sum(f(x, *h0) * up)
    grads = tape.gradient(value, layer.trainable_weights)
    for var, g in zip(layer.trainable_weights, grads):
        base, num, eps = var.numpy(), np.zeros(var.shape), 1e-6
        for idx in np.ndindex(*base.shape):
            for sign in (1, -1):
                moved = base.copy()
                moved[idx] += sign * eps
                var.assign(moved)
                num[idx] += sign * loss() / (2 * eps)
        var.assign(base)
        np.testing.assert_allclose(g.numpy(), num, rtol=1e-6, atol=1e-7, err_msg=var.name)


def test_one_graph_loop_for_every_sequence_length():
    layer = L.LSTM(4, return_sequences=True)
    spec = tf.TensorSpec([None, None, 4], tf.float32)
    f = tf.function(lambda x: layer(x), input_signature=[spec])

    def train(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x))
        return tape.gradient(loss, layer.trainable_weights)

    g = tf.function(train, input_signature=[spec])
    for t in (2, 5, 9):
        x = RNG.standard_normal((3, t, 4)).astype("float32")
        assert f(x).shape == (3, t, 4)
        ref = train(tf.constant(x))
        for a, b in zip(g(x), ref):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    assert f.experimental_get_tracing_count() == 1
    assert g.experimental_get_tracing_count() == 1
    ops = [op.prim.name for op in f.get_concrete_function().graph.ops]
    assert ops.count("Scan") == 1 and ops.count("MatMul") == 1  # one loop, one projection
    unrolled = L.LSTM(4, unroll=True)
    ops = [op.prim.name for op in tf.function(unrolled).get_concrete_function(
        tf.TensorSpec([None, 5, 4], tf.float32)).graph.ops]  # fmt: skip
    assert "Scan" not in ops


def test_generic_cell_loop_is_one_graph_loop():
    layer = L.RNN(L.LSTMCell(3, activation="relu"))
    f = tf.function(lambda x: layer(x), input_signature=[tf.TensorSpec([None, None, 4])])
    for t in (2, 6):
        f(RNG.standard_normal((2, t, 4)).astype("float32"))
    assert f.experimental_get_tracing_count() == 1
    assert [op.prim.name for op in f.get_concrete_function().graph.ops].count("Scan") == 1


def test_functional_model_runs_any_length_and_masked_padding_keeps_state():
    inp = keras.Input((None, 4))
    lstm = L.LSTM(3)
    model = keras.Model(inp, lstm(inp))
    for t in (2, 7):
        assert model.predict(RNG.standard_normal((2, t, 4)).astype("float32"), verbose=0).shape == (
            2,
            3,
        )
    # zero padding with a mask gives each sequence's own final state
    lengths = [5, 2, 3]
    padded = X.copy()
    mask = np.zeros((3, 5), bool)
    for i, n in enumerate(lengths):
        padded[i, n:] = 0
        mask[i, :n] = True
    for layer in (lstm, L.GRU(3), L.SimpleRNN(3), L.LSTM(3, go_backwards=True)):
        layer(X)
        got = layer(padded, mask=mask).numpy()
        for i, n in enumerate(lengths):
            alone = layer(X[i : i + 1, :n]).numpy()
            np.testing.assert_allclose(got[i : i + 1], alone, rtol=1e-5, atol=1e-6)


def test_stateful_layers_carry_state_and_reset():
    layer = L.LSTM(3, stateful=True, return_sequences=True)
    inp = keras.Input(batch_shape=(3, None, 4))
    model = keras.Model(inp, layer(inp))
    whole = L.LSTM(3, return_sequences=True)
    whole(X)
    whole.set_weights(layer.get_weights())
    a = model(X[:, :2]).numpy()
    b = model(X[:, 2:]).numpy()
    np.testing.assert_allclose(np.concatenate([a, b], 1), whole(X).numpy(), rtol=1e-5, atol=1e-6)
    assert len(layer.weights) == 3  # the states are not weights
    layer.reset_states()
    np.testing.assert_allclose(model(X[:, :2]).numpy(), a, rtol=1e-6)
    with pytest.raises(ValueError, match="batch size must be static"):
        L.GRU(2, stateful=True)(keras.Input((None, 4)))


def test_dropout_masks_are_per_sequence_and_only_in_training():
    for kwargs in (
        dict(dropout=0.5),
        dict(recurrent_dropout=0.5),
        dict(dropout=0.3, recurrent_dropout=0.3),
    ):
        for cls in (L.LSTM, L.GRU, L.SimpleRNN):
            layer = cls(4, return_sequences=True, **kwargs)
            x = tf.constant(X)
            infer = layer(x).numpy()
            np.testing.assert_array_equal(layer(x, training=False).numpy(), infer)
            trained = tf.function(lambda x, layer=layer: layer(x, training=True))(x).numpy()
            assert trained.shape == infer.shape and not np.allclose(trained, infer)
    # input dropout zeroes the same features at every step: a dropped feature's column of
    # the kernel gets no gradient
    layer = L.SimpleRNN(2, dropout=0.5, seed=3)
    ones = tf.ones((1, 6, 8))
    with tf.GradientTape() as tape:
        y = layer(ones, training=True)
    dead = np.abs(tape.gradient(y, layer.cell.kernel).numpy()).sum(1) == 0
    assert 0 < dead.sum() < 8


def test_fit_and_gradient_tape_loop_train_recurrent_models():
    x = RNG.standard_normal((32, 6, 3)).astype("float32")
    y = (x.sum(axis=(1, 2)) > 0).astype("int32")
    model = keras.Sequential([
        keras.Input((None, 3)), L.Bidirectional(L.GRU(4, return_sequences=True)),
        L.LSTM(4, dropout=0.1), L.Dense(2),
    ])  # fmt: skip
    model.compile(keras.optimizers.Adam(0.05),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
    hist = model.fit(x, y, batch_size=16, epochs=6, verbose=0).history["loss"]
    assert hist[-1] < hist[0]
    rnn = L.SimpleRNN(4)
    head = L.Dense(1)
    opt = keras.optimizers.SGD(0.1)
    losses = []
    target = tf.constant(x[:, :, 0].sum(1, keepdims=True))
    for _ in range(5):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(head(rnn(x)) - target))
        vs = rnn.trainable_weights + head.trainable_weights
        opt.apply_gradients(zip(tape.gradient(loss, vs), vs))
        losses.append(float(loss))
    assert losses[-1] < losses[0]


class MinimalRNNCell(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), name="rk")

    def call(self, inputs, states):
        out = tf.matmul(inputs, self.kernel) + tf.matmul(states[0], self.recurrent_kernel)
        return out, [out]


def test_user_cells_and_stacked_cells():
    layer = L.RNN(MinimalRNNCell(3), return_sequences=True)
    out = layer(X).numpy()
    k, rk = (w.numpy() for w in layer.weights)
    h, ref = np.zeros((3, 3)), []
    for t in range(5):
        h = X[:, t] @ k + h @ rk
        ref.append(h)
    np.testing.assert_allclose(out, np.stack(ref, 1), rtol=1e-5, atol=1e-5)
    traced = tf.function(lambda x: layer(x))(tf.constant(X)).numpy()
    np.testing.assert_allclose(traced, out, rtol=1e-6)
    stacked = L.RNN([L.SimpleRNNCell(2), L.LSTMCell(3), MinimalRNNCell(2)], return_state=True)
    y, s1, s2, s3 = stacked(X)  # each cell's states, as its get_initial_state gives them
    assert y.shape == (3, 2) and [t.shape for t in s1] == [(3, 2)]
    assert [t.shape for t in s2] == [(3, 3)] * 2
    np.testing.assert_allclose(y.numpy(), s3.numpy())  # no get_initial_state: one tensor
    cell = L.LSTMCell(3)
    h, (h2, c2) = cell(X[:, 0], [tf.zeros((3, 3)), tf.zeros((3, 3))])
    np.testing.assert_allclose(h.numpy(), h2.numpy())
    ref, _, _ = np_rnn("LSTM", X[:, :1], [w.numpy() for w in cell.weights])
    np.testing.assert_allclose(h.numpy(), ref[:, 0], rtol=1e-5, atol=1e-6)


def test_bidirectional_and_time_distributed():
    bi = L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode=None)
    f, b = bi(X)
    w = _weights(bi)
    ref_f, _, _ = np_rnn("LSTM", X, w[:3])
    ref_b, _, _ = np_rnn("LSTM", X, w[3:], go_backwards=True)
    f, b = bi(X)
    np.testing.assert_allclose(f.numpy(), ref_f, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b.numpy(), ref_b[:, ::-1], rtol=1e-5, atol=1e-6)
    cat = L.Bidirectional(L.GRU(3, name="enc"), merge_mode="concat")
    assert cat(X).shape == (3, 6)
    assert [lyr.name for lyr in (cat.forward_layer, cat.backward_layer)] == [
        "forward_enc",
        "backward_enc",
    ]
    td = L.TimeDistributed(L.Dense(2))
    y = td(X)
    k, bias = (v.numpy() for v in td.weights)
    np.testing.assert_allclose(y.numpy(), X @ k + bias, rtol=1e-5, atol=1e-6)
    bn = L.TimeDistributed(L.BatchNormalization())
    y = bn(X, training=True).numpy()  # statistics per time step, as Keras computes them
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    f = tf.function(
        lambda x: bn(x, training=True), input_signature=[tf.TensorSpec([None, None, 4])]
    )
    np.testing.assert_allclose(f(X).numpy(), y, rtol=1e-5, atol=1e-5)
    inp = keras.Input((None, 4))
    model = keras.Model(inp, L.TimeDistributed(L.Dense(5))(inp))
    assert model.output.shape == (None, None, 5)


def _clone(layer):
    return type(layer).from_config(layer.get_config())


@pytest.mark.parametrize("make", [
    lambda: L.LSTM(3, return_sequences=True, go_backwards=True, dropout=0.1, seed=2),
    lambda: L.GRU(3, reset_after=False, return_state=True, recurrent_dropout=0.2),
    lambda: L.SimpleRNN(3, activation="relu", use_bias=False),
    lambda: L.RNN([L.GRUCell(2), L.LSTMCell(3)], return_sequences=True),
    lambda: L.Bidirectional(L.LSTM(2, return_sequences=True), merge_mode="ave"),
    lambda: L.TimeDistributed(L.Dense(2)),
], ids=["lstm", "gru", "simple", "stacked", "bidirectional", "time_distributed"])  # fmt: skip
def test_config_round_trips(make):
    layer = make()
    layer(X)
    clone = _clone(layer)
    clone(X)
    assert clone.get_config() == layer.get_config()
    clone.set_weights(layer.get_weights())
    a, b = layer(X), clone(X)
    for u, v in zip(tf.nest.flatten(a), tf.nest.flatten(b)):
        np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-6)


@pytest.mark.parametrize("make,shape,match", [
    (lambda: L.LSTM(3), (2, 4), "expected ndim=3"),
    (lambda: L.LSTM(0), None, "units"),
    (lambda: L.GRU(-2), None, "units"),
    (lambda: L.LSTM(3, use_cudnn="yes"), None, "use_cudnn"),
    (lambda: L.LSTM(3, unroll=True), "unknown_time", "unroll"),
    (lambda: L.Bidirectional(L.LSTM(3), merge_mode="max"), None, "merge mode"),
    (lambda: L.Bidirectional(L.LSTM(3), backward_layer=L.LSTM(3)), None, "go_backwards"),
    (lambda: L.TimeDistributed(L.Dense(2)), (2, 3), "at least 3"),
    (lambda: L.RNN(object()), None, "call"),
])  # fmt: skip
def test_bad_arguments_raise_value_errors_naming_the_problem(make, shape, match):
    with pytest.raises(ValueError, match=match):
        layer = make()
        if shape == "unknown_time":
            layer(keras.Input((None, 4)))
        elif shape is not None:
            layer(np.zeros(shape, "float32"))


def test_wrong_initial_state_names_the_layer_and_shapes():
    layer = L.LSTM(3, name="enc")
    with pytest.raises(ValueError, match=r"LSTM 'enc'.*2 initial state"):
        layer(X, initial_state=[tf.zeros((3, 3))])
    with pytest.raises(ValueError, match=r"shape \(3, 5\).*state size is 3"):
        layer(X, initial_state=[tf.zeros((3, 5)), tf.zeros((3, 5))])


def test_conv_lstm_matches_its_cell_step_by_step_and_trains():
    x = RNG.standard_normal((2, 4, 6, 5, 3)).astype("float32")
    layer = L.ConvLSTM2D(2, 3, padding="same", return_sequences=True, return_state=True)
    seq, h, c = layer(x)
    assert [t.shape for t in (seq, h, c)] == [(2, 4, 6, 5, 2), (2, 6, 5, 2), (2, 6, 5, 2)]
    states = layer.cell.get_initial_state(2)
    steps = []
    for t in range(4):  # the cell alone: each step's input convolution done per step
        y, states = layer.cell(x[:, t], states)
        steps.append(y.numpy())
    np.testing.assert_allclose(seq.numpy(), np.stack(steps, 1), rtol=1e-5, atol=1e-6)
    spec = tf.TensorSpec([None, None, 6, 5, 3])
    f = tf.function(lambda x: layer(x)[0], input_signature=[spec])
    np.testing.assert_allclose(f(x).numpy(), seq.numpy(), rtol=1e-5, atol=1e-6)
    assert f(x[:, :2]).shape == (2, 2, 6, 5, 2) and f.experimental_get_tracing_count() == 1
    model = keras.Sequential([keras.Input((None, 6, 5, 3)), L.ConvLSTM2D(2, 3, dropout=0.2),
                              L.GlobalAveragePooling2D(), L.Dense(1)])  # fmt: skip
    model.compile(keras.optimizers.Adam(0.05), "mse")
    xs = RNG.standard_normal((16, 3, 6, 5, 3)).astype("float32")
    ys = 3 * xs[:, -1, :, :, 0].mean(axis=(1, 2))[:, None]  # the last frame's channel 0
    hist = model.fit(xs, ys, batch_size=8, epochs=8, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    one = L.ConvLSTM1D(3, 2, strides=2, go_backwards=True)
    one(x[:, :, :, 0])
    clone = type(one).from_config(one.get_config())
    clone(x[:, :, :, 0])
    clone.set_weights(one.get_weights())
    np.testing.assert_allclose(clone(x[:, :, :, 0]).numpy(), one(x[:, :, :, 0]).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="static input shapes"):
        L.ConvLSTM2D(2, 3)(keras.Input((None, None, 5, 3)))
    with pytest.raises(ValueError, match="dilation_rate"):
        L.ConvLSTM3D(2, 3, strides=2, dilation_rate=2)


@pytest.mark.parametrize("make,shape", [
    (lambda: L.LSTM(3, return_state=True), (3, 5, 4)),
    (lambda: L.GRU(3, return_sequences=True, go_backwards=True), (3, 5, 4)),
    (lambda: L.SimpleRNN(3, return_sequences=True, return_state=True), (3, 5, 4)),
    (lambda: L.RNN(L.LSTMCell(3, activation="relu"), return_state=True), (3, 5, 4)),
    (lambda: L.RNN([L.GRUCell(2), L.SimpleRNNCell(5)], return_sequences=True), (3, 5, 4)),
    (lambda: L.Bidirectional(L.LSTM(3, return_sequences=True)), (3, 5, 4)),
    (lambda: L.Bidirectional(L.GRU(3, return_state=True), merge_mode="sum"), (3, 5, 4)),
    (lambda: L.TimeDistributed(L.Conv1D(2, 2)), (3, 5, 6, 4)),
    (lambda: L.ConvLSTM1D(2, 3, return_sequences=True, return_state=True), (3, 5, 6, 4)),
])  # fmt: skip
def test_symbolic_shapes_agree_with_eager_and_compute_output_shape(make, shape):
    layer = make()
    x = RNG.standard_normal(shape).astype("float32")
    eager = [t.shape.as_list() for t in tf.nest.flatten(layer(x))]
    symbolic = [list(t.shape) for t in tf.nest.flatten(layer(keras.Input(shape[1:])))]
    assert symbolic == [[None, *s[1:]] for s in eager]
    computed = layer.compute_output_shape(tf.TensorShape([None, *shape[1:]]))
    assert _shape_list(computed) == symbolic


def _shape_list(s):
    """A (nested) structure of shapes as a flat list of lists."""
    if isinstance(s, tf.TensorShape):
        return [s.as_list()]
    if all(d is None or isinstance(d, int) for d in s):
        return [list(s)]
    return [d for item in s for d in _shape_list(item)]
