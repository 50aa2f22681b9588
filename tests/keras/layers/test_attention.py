"""Attention layers without Keras: MultiHeadAttention, GroupQueryAttention, Attention and
AdditiveAttention against NumPy references (masks, causality, scores), eagerly, inside
rill.function and in the functional API; a transformer block trains with fit and a
GradientTape loop; configs round-trip; bad arguments raise ValueError.

The differential tests against Keras 3 are in test_attention_vs_keras.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import rill as tf
from rill import keras

L = keras.layers
RNG = np.random.default_rng(0)
Q = RNG.standard_normal((2, 4, 6)).astype("float32")
V = RNG.standard_normal((2, 5, 6)).astype("float32")
AMASK = RNG.random((2, 4, 5)) > 0.3


def _softmax(x, mask=None):
    if mask is not None:
        x = np.where(mask, x, -1e9)
    e = np.exp(x - x.max(-1, keepdims=True))
    p = e / e.sum(-1, keepdims=True)
    return p if mask is None else np.where(mask, p, 0)


def np_mha(layer, q, v, mask=None):
    """Reference multi-head attention from the layer's weights: (output, scores)."""
    wq, bq, wk, bk, wv, bv, wo, bo = (w.numpy().astype("float64") for w in layer.weights)
    qh = np.einsum("btd,dnh->btnh", q, wq) + bq
    kh = np.einsum("bsd,dnh->bsnh", v, wk) + bk
    vh = np.einsum("bsd,dnh->bsnh", v, wv) + bv
    s = np.einsum("btnh,bsnh->bnts", qh, kh) / np.sqrt(wq.shape[-1])
    p = _softmax(s, None if mask is None else mask[:, None])
    out = np.einsum("bnts,bsnh->btnh", p, vh)
    return np.einsum("btnh,nhd->btd", out, wo) + bo, p


def test_multi_head_attention_matches_numpy_reference():
    layer = L.MultiHeadAttention(num_heads=2, key_dim=3)
    layer(Q, V)
    assert [w.name.split("/")[0] for w in layer.weights[::2]] == [
        "query", "key", "value", "attention_output"]  # fmt: skip
    assert [tuple(w.shape.as_list()) for w in layer.weights] == [
        (6, 2, 3), (2, 3), (6, 2, 3), (2, 3), (6, 2, 3), (2, 3), (2, 3, 6), (6,)]  # fmt: skip
    mask = AMASK.copy()
    mask[0, 1] = True  # no fully masked row: both of Keras' paths agree on it
    ref, ref_p = np_mha(layer, Q, V, mask)
    out, scores = layer(Q, V, attention_mask=mask, return_attention_scores=True)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(scores.numpy(), ref_p, rtol=1e-5, atol=1e-6)
    fast = layer(Q, V, attention_mask=mask)  # the fused path (no scores returned)
    np.testing.assert_allclose(fast.numpy(), ref, rtol=1e-5, atol=1e-5)
    traced = tf.function(lambda q, v: layer(q, v, attention_mask=mask))(Q, V)
    np.testing.assert_allclose(traced.numpy(), ref, rtol=1e-5, atol=1e-5)
    causal = np.tril(np.ones((4, 4), bool))[None]
    ref_c, _ = np_mha(layer, Q, Q, np.broadcast_to(causal, (2, 4, 4)))
    np.testing.assert_allclose(
        layer(Q, Q, use_causal_mask=True).numpy(), ref_c, rtol=1e-5, atol=1e-5
    )
    vm = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
    ref_v, _ = np_mha(layer, Q, V, np.broadcast_to(vm[:, None], (2, 4, 5)))
    np.testing.assert_allclose(layer(Q, V, value_mask=vm).numpy(), ref_v, rtol=1e-5, atol=1e-5)


def test_fully_masked_rows_follow_keras_paths():
    layer = L.MultiHeadAttention(2, 3)
    mask = np.ones((2, 4, 5), bool)
    mask[0, 2] = False
    fused = layer(Q, V, attention_mask=mask).numpy()
    _, scores = layer(Q, V, attention_mask=mask, return_attention_scores=True)
    np.testing.assert_array_equal(scores.numpy()[0, :, 2], 0)  # softmax layer: zeros
    vh = np.einsum("bsd,dnh->bsnh", V, layer.weights[4].numpy()) + layer.weights[5].numpy()
    uniform = (
        np.einsum("snh,nhd->d", vh[0] / 5, layer.weights[6].numpy()) + layer.weights[7].numpy()
    )
    np.testing.assert_allclose(fused[0, 2], uniform, rtol=1e-5, atol=1e-5)  # fused: uniform


def test_attention_axes_output_shape_and_gate():
    x = RNG.standard_normal((2, 3, 4, 5)).astype("float32")
    layer = L.MultiHeadAttention(2, 3, value_dim=4, attention_axes=(1, 2), output_shape=(7,))
    out, scores = layer(x, x, return_attention_scores=True)
    assert out.shape == (2, 3, 4, 7) and scores.shape == (2, 2, 3, 4, 3, 4)
    np.testing.assert_allclose(scores.numpy().reshape(2, 2, 12, 12).sum(-1), 1, rtol=1e-5)
    gated = L.MultiHeadAttention(2, 3, use_gate=True)
    gated(Q, V)
    assert [w.name.split("/")[0] for w in gated.weights[::2]] == [
        "query", "key", "gate", "value", "attention_output"]  # fmt: skip


def test_group_query_attention_equals_mha_with_repeated_heads():
    gqa = L.GroupQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2)
    out = gqa(Q, V, attention_mask=AMASK | np.eye(4, 5, dtype=bool)[None])
    mha = L.MultiHeadAttention(4, 3)
    mha(Q, V)
    wq, bq, wk, bk, wv, bv, wo, bo = (w.numpy() for w in gqa.weights)
    mha.set_weights([wq, bq, np.repeat(wk, 2, 1), np.repeat(bk, 2, 0), np.repeat(wv, 2, 1),
                     np.repeat(bv, 2, 0), wo, bo])  # fmt: skip
    ref = mha(Q, V, attention_mask=AMASK | np.eye(4, 5, dtype=bool)[None])
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)
    assert gqa.name.startswith("grouped_query_attention")
    with pytest.raises(ValueError, match="divisible"):
        L.GroupQueryAttention(3, 5, 2)


def test_dot_concat_and_additive_attention_match_numpy():
    qm = np.array([[1, 1, 0, 1], [1, 1, 1, 0]], bool)
    vm = np.array([[1, 1, 0, 1, 1], [1, 0, 0, 0, 1]], bool)
    dot = L.Attention(use_scale=True)
    dot([Q, V])
    dot.set_weights([np.float32(0.7)])
    p = _softmax(0.7 * Q @ V.transpose(0, 2, 1), vm[:, None])
    out, w = dot([Q, V], mask=[qm, vm], return_attention_scores=True)
    np.testing.assert_allclose(w.numpy(), p, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.numpy(), np.where(qm[..., None], p @ V, 0), rtol=1e-5, atol=1e-5)
    concat = L.Attention(score_mode="concat")
    s = np.tanh(Q[:, :, None] + V[:, None]).sum(-1)
    np.testing.assert_allclose(concat([Q, V]).numpy(), _softmax(s) @ V, rtol=1e-5, atol=1e-5)
    add = L.AdditiveAttention()
    add([Q, V])
    scale = add.weights[0].numpy()
    s = (scale * np.tanh(Q[:, :, None] + V[:, None])).sum(-1)
    causal = np.tril(np.ones((4, 5), bool))
    got = add([Q, V], use_causal_mask=True).numpy()
    np.testing.assert_allclose(
        got, _softmax(np.where(causal, s, s - 1e9)) @ V, rtol=1e-5, atol=1e-5
    )
    with pytest.raises(ValueError, match="list of inputs"):
        L.Attention()(Q)


def transformer_block(x, heads=2, dim=8):
    att = L.MultiHeadAttention(heads, dim // heads, dropout=0.1)(x, x, use_causal_mask=True)
    h = L.LayerNormalization()(x + att)
    ff = L.Dense(dim)(L.Dense(2 * dim, activation="relu")(h))
    return L.LayerNormalization()(h + ff)


def test_transformer_block_trains_with_fit_and_a_tape():
    inp = keras.Input((None, 8))
    model = keras.Model(inp, L.Dense(1)(L.GlobalAveragePooling1D()(transformer_block(inp))))
    x = RNG.standard_normal((32, 6, 8)).astype("float32")
    y = x[:, :, :2].mean((1, 2))[:, None]
    model.compile(keras.optimizers.Adam(0.01), "mse")
    hist = model.fit(x, y, batch_size=16, epochs=8, verbose=0).history["loss"]
    assert hist[-1] < hist[0]
    assert model.predict(x[:3, :4], verbose=0).shape == (3, 1)  # another length, same model
    mha = L.MultiHeadAttention(2, 4)
    opt = keras.optimizers.SGD(0.05)
    losses = []
    for _ in range(4):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(mha(Q, V) - 1.0))
        grads = tape.gradient(loss, mha.trainable_weights)
        assert all(g is not None for g in grads)
        opt.apply_gradients(zip(grads, mha.trainable_weights))
        losses.append(float(loss))
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("make,call", [
    (lambda: L.MultiHeadAttention(2, 3, value_dim=2, output_shape=5, dropout=0.2),
     lambda lyr: lyr(Q, V)),
    (lambda: L.GroupQueryAttention(3, 4, 2, use_gate=True), lambda lyr: lyr(Q, V)),
    (lambda: L.Attention(use_scale=True, score_mode="concat"), lambda lyr: lyr([Q, V])),
    (lambda: L.AdditiveAttention(use_scale=False), lambda lyr: lyr([Q, V])),
], ids=["mha", "gqa", "attention", "additive"])  # fmt: skip
def test_config_round_trips(make, call):
    layer = make()
    call(layer)
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    call(clone)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(call(clone).numpy(), call(layer).numpy(), rtol=1e-6)


@pytest.mark.parametrize("make", [
    lambda: L.MultiHeadAttention(0, 3),
    lambda: L.MultiHeadAttention(2, -1),
    lambda: L.MultiHeadAttention(2, 3, value_dim=0),
    lambda: L.MultiHeadAttention(2, 3, attention_axes="x"),
    lambda: L.MultiHeadAttention(2, 3, sliding_window=0),
    lambda: L.Attention(score_mode="cos"),
])  # fmt: skip
def test_bad_arguments_raise_value_error(make):
    with pytest.raises(ValueError):
        make()


def test_mismatched_key_and_value_shapes_name_the_layer():
    layer = L.MultiHeadAttention(2, 3, name="att")
    with pytest.raises(
        ValueError, match=r"'att'.*value_shape=\(2, 5, 6\) and key_shape=\(2, 4, 6\)"
    ):
        layer(Q, V, key=Q)
