"""Keras masks: made by ``Embedding(mask_zero=True)`` and ``Masking``, carried by the
tensors (eager, traced and symbolic), passed on by layers that support masking and
consumed through the ``mask`` call argument (RNNs, pooling, attention, Softmax), as in
Keras 3. References: padding invariance (a padded sequence gives exactly the result of the
unpadded one), NumPy formulas, and Keras 3 itself with the same weights (those tests skip
without Keras).

    cd /work/main && PYTHONPATH=. /work/peers/bin/python -m pytest tests/keras/test_masking.py
"""

from __future__ import annotations

import gc
import os
import warnings

import numpy as np
import pytest

import rill as tf
from rill import keras
from rill.keras.layer import get_keras_mask, set_keras_mask

L = keras.layers
IDS = np.array([[3, 1, 4, 0, 0], [2, 0, 0, 0, 0], [5, 9, 2, 6, 5]], "int32")


def _pad(ids, extra):
    return np.concatenate([ids, np.zeros((ids.shape[0], extra), ids.dtype)], axis=1)


def _classifier(kind="lstm", bidirectional=False):
    rnn = {"lstm": L.LSTM, "gru": L.GRU, "simple": L.SimpleRNN}[kind](4)
    if bidirectional:
        rnn = L.Bidirectional(rnn)
    return keras.Sequential([L.Embedding(10, 3, mask_zero=True), rnn, L.Dense(2)])


# ------------------------------------------------------------------------ the side table
def test_mask_attaches_to_tensors_and_dies_with_them():
    x = tf.constant([1.0, 2.0])
    m = tf.constant([True, False])
    assert get_keras_mask(x) is None
    set_keras_mask(x, m)
    assert get_keras_mask(x) is m
    assert get_keras_mask(tf.constant([1.0, 2.0])) is None  # another tensor: no mask
    set_keras_mask(x, None)
    assert get_keras_mask(x) is None
    from rill.keras import layer as layer_mod

    y = tf.constant([3.0])
    set_keras_mask(y, m)
    before = len(layer_mod._MASKS)
    del y
    gc.collect()
    assert len(layer_mod._MASKS) == before - 1  # no leak: the entry went with the tensor


# ------------------------------------------------------------------ producing the masks
def test_embedding_and_masking_make_masks_eagerly():
    e = L.Embedding(10, 3, mask_zero=True)
    np.testing.assert_array_equal(get_keras_mask(e(IDS)).numpy(), IDS != 0)
    assert get_keras_mask(L.Embedding(10, 3)(IDS)) is None
    x = np.random.default_rng(1).standard_normal((2, 4, 3)).astype("float32")
    x[0, 2] = 0.0
    x[1, 0] = 0.0
    y = L.Masking(0.0)(x)
    np.testing.assert_array_equal(get_keras_mask(y).numpy(), np.any(x != 0.0, axis=-1))
    np.testing.assert_allclose(y.numpy(), x)  # masked steps were zeros already


def test_symbolic_tensors_carry_masks():
    i = keras.Input((None,), dtype="int32")
    h = L.Embedding(10, 3, mask_zero=True)(i)
    assert h._keras_mask.shape == (None, None) and h._keras_mask.dtype == "bool"
    d = L.Dense(2)(h)  # Dense supports masking: passes the mask on
    assert d._keras_mask.shape == (None, None)
    assert getattr(L.Flatten()(L.Embedding(10, 3)(i)), "_keras_mask", None) is None
    assert getattr(L.LSTM(2)(h), "_keras_mask", None) is None  # consumed
    assert L.LSTM(2, return_sequences=True)(h)._keras_mask.shape == (None, None)


def test_layer_that_does_not_support_masking_warns():
    class Plain(L.Layer):
        def call(self, x):
            return x * 2.0

    h = L.Embedding(10, 3, mask_zero=True)(IDS)
    with pytest.warns(UserWarning, match="does not support masking"):
        out = Plain()(h)
    assert get_keras_mask(out) is None


def test_custom_layer_compute_mask_supports_masking_by_default():
    class Halve(L.Layer):
        def call(self, x):
            return x * 1.0  # a new tensor (the input itself already carries a mask)

        def compute_mask(self, inputs, previous_mask=None):
            return tf.logical_and(previous_mask, inputs[..., 0] > 0)

    assert Halve().supports_masking
    h = L.Masking(0.0)(np.array([[[1.0], [-1.0], [0.0]]], "float32"))
    np.testing.assert_array_equal(get_keras_mask(Halve()(h)).numpy(), [[True, False, False]])


# ------------------------------------------------------------ padding invariance (eager,
# Sequential, functional, traced): extra padding must not change anything
@pytest.mark.parametrize("kind,bidi", [("lstm", False), ("gru", False), ("simple", True)])
def test_padding_does_not_change_the_classifier(kind, bidi):
    model = _classifier(kind, bidi)
    ref = model(IDS).numpy()
    for extra in (1, 4):
        np.testing.assert_allclose(model(_pad(IDS, extra)).numpy(), ref, rtol=1e-6, atol=1e-6)
    # a row's result is the result of its unpadded sequence alone
    np.testing.assert_allclose(model(IDS[1:2, :1]).numpy(), ref[1:2], rtol=1e-6, atol=1e-6)


def test_padding_invariance_functional_and_traced():
    i = keras.Input((None,), dtype="int32")
    h = L.Embedding(10, 3, mask_zero=True)(i)
    h = L.LSTM(4, return_sequences=True)(h)
    h = L.GlobalAveragePooling1D()(h)
    model = keras.Model(i, L.Dense(2)(h))
    ref = model(IDS).numpy()
    np.testing.assert_allclose(model(_pad(IDS, 3)).numpy(), ref, rtol=1e-6, atol=1e-6)
    fn = tf.function(lambda x: model(x))
    np.testing.assert_allclose(fn(_pad(IDS, 2)).numpy(), ref, rtol=1e-6, atol=1e-6)
    # predict goes through the compiled path too
    np.testing.assert_allclose(model.predict(_pad(IDS, 1), verbose=0), ref, rtol=1e-6, atol=1e-6)


def test_mask_passes_through_nested_sequential():
    inner = keras.Sequential([L.Dense(3), L.Dropout(0.5)])
    model = keras.Sequential([L.Embedding(10, 3, mask_zero=True), inner, L.LSTM(2)])
    ref = model(IDS).numpy()
    np.testing.assert_allclose(model(_pad(IDS, 2)).numpy(), ref, rtol=1e-6, atol=1e-6)


# -------------------------------------------------------------------- consuming the masks
def test_global_average_pooling_uses_the_mask():
    x = np.random.default_rng(2).standard_normal((3, 5, 2)).astype("float32")
    e = L.Embedding(10, 2, mask_zero=True)
    h = e(IDS)
    out = L.GlobalAveragePooling1D()(h).numpy()
    table = e.embeddings.numpy()
    m = (IDS != 0)[..., None]
    expect = (table[IDS] * m).sum(1) / m.sum(1)
    np.testing.assert_allclose(out, expect, rtol=1e-6)
    del x


def test_softmax_uses_the_mask():
    # a Lambda that keeps the mask turns the embeddings into (batch, steps) scores
    e = L.Embedding(10, 2, mask_zero=True)
    scores = L.Lambda(lambda x: tf.reduce_sum(x, -1), mask=lambda i, m: m)(e(IDS))
    y = L.Softmax(axis=-1)(scores).numpy()
    z = e.embeddings.numpy()[IDS].sum(-1)
    m = IDS != 0
    expect = np.exp(np.where(m, z, -np.inf) - np.where(m, z, -np.inf).max(-1, keepdims=True))
    expect = expect / expect.sum(-1, keepdims=True)
    np.testing.assert_allclose(y, expect, rtol=1e-6, atol=1e-7)


def test_multi_head_attention_ignores_padded_keys():
    emb = L.Embedding(10, 4, mask_zero=True)
    mha = L.MultiHeadAttention(2, 3)
    x = emb(IDS)
    ref = mha(x, x).numpy()
    xp = emb(_pad(IDS, 2))
    out = mha(xp, xp).numpy()
    keep = IDS != 0  # a padded query attends to nothing: its row is not compared
    np.testing.assert_allclose(out[:, : IDS.shape[1]][keep], ref[keep], rtol=1e-5, atol=1e-6)
    # the output carries the query's mask; as in Keras, the call consumed the inputs' masks
    assert get_keras_mask(xp) is None
    xp = emb(_pad(IDS, 2))
    np.testing.assert_array_equal(get_keras_mask(mha(xp, xp)).numpy(), _pad(IDS, 2) != 0)


def test_explicit_mask_argument_wins():
    x = np.ones((1, 3, 2), "float32")
    explicit = np.array([[True, False, False]])
    out = L.GlobalAveragePooling1D()(L.Masking(5.0)(x), mask=explicit).numpy()
    np.testing.assert_allclose(out, [[1.0, 1.0]])


def test_concatenate_combines_masks():
    a = L.Masking(0.0)(np.array([[[1.0], [0.0]]], "float32"))
    b = tf.constant([[[2.0], [3.0]]])
    out = L.Concatenate(axis=1)([a, b])
    np.testing.assert_array_equal(get_keras_mask(out).numpy(), [[True, False, True, True]])
    added = L.Add()([a, L.Masking(0.0)(np.array([[[0.0], [0.0]]], "float32"))])
    np.testing.assert_array_equal(get_keras_mask(added).numpy(), [[True, False]])


def test_lambda_mask_argument():
    lam = L.Lambda(lambda x: x + 1.0, mask=lambda inputs, mask: tf.reduce_any(inputs > 1.5, -1))
    out = lam(np.array([[[1.0], [2.0]]], "float32"))
    np.testing.assert_array_equal(get_keras_mask(out).numpy(), [[False, True]])  # of inputs


# ------------------------------------------------------------------- against Keras 3
@pytest.fixture(scope="module")
def K():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    pytest.importorskip("tensorflow")
    return pytest.importorskip("keras")


def _both(K, build):
    """The same model built from rill and from Keras, with rill's weights copied over."""
    ours, theirs = build(keras), build(K)
    ours(IDS)
    theirs(IDS)
    theirs.set_weights(ours.get_weights())
    return ours, theirs


@pytest.mark.parametrize(
    "name",
    ["lstm", "gru_seq_pool", "bidirectional", "masking_gru", "time_distributed", "mha"],
)
def test_masked_models_match_keras(K, name):
    def build(k):
        ll = k.layers
        if name == "lstm":
            return k.Sequential([ll.Embedding(10, 3, mask_zero=True), ll.LSTM(4), ll.Dense(2)])
        if name == "gru_seq_pool":
            return k.Sequential([ll.Embedding(10, 3, mask_zero=True),
                                 ll.GRU(4, return_sequences=True),
                                 ll.GlobalAveragePooling1D(), ll.Dense(2)])  # fmt: skip
        if name == "bidirectional":
            return k.Sequential([ll.Embedding(10, 3, mask_zero=True),
                                 ll.Bidirectional(ll.LSTM(3, return_sequences=True)),
                                 ll.LSTM(2)])  # fmt: skip
        if name == "masking_gru":
            i = k.Input((None,), dtype="int32")
            h = ll.Embedding(10, 3)(i)
            h = ll.Masking(0.0)(ll.Multiply()([h, k.ops.expand_dims(k.ops.cast(
                k.ops.not_equal(i, 0), "float32"), -1)]))  # fmt: skip
            return k.Model(i, ll.GRU(3)(h))
        if name == "time_distributed":
            return k.Sequential([ll.Embedding(10, 3, mask_zero=True),
                                 ll.TimeDistributed(ll.Dense(4)), ll.SimpleRNN(2)])  # fmt: skip
        i = k.Input((None,), dtype="int32")
        h = ll.Embedding(10, 4, mask_zero=True)(i)
        h = ll.MultiHeadAttention(2, 3)(h, h)
        return k.Model(i, ll.GlobalAveragePooling1D()(h))

    if name == "masking_gru" and not hasattr(keras.ops, "not_equal"):
        pytest.skip("keras.ops.not_equal missing")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = _both(K, build)
        for ids in (IDS, _pad(IDS, 2)):
            np.testing.assert_allclose(
                ours(ids).numpy(), np.asarray(theirs(ids)), rtol=1e-5, atol=1e-6, err_msg=name
            )


def test_mask_values_match_keras(K):
    x = np.array([[[1.0, 0.0], [0.0, 0.0], [2.0, 2.0]]], "float32")
    ours = get_keras_mask(L.Masking(0.0)(x)).numpy()
    theirs = np.asarray(K.layers.Masking(0.0)(x)._keras_mask)
    np.testing.assert_array_equal(ours, theirs)
    ours = get_keras_mask(L.Embedding(10, 2, mask_zero=True)(IDS)).numpy()
    theirs = np.asarray(K.layers.Embedding(10, 2, mask_zero=True)(IDS)._keras_mask)
    np.testing.assert_array_equal(ours, theirs)
