"""The preprocessing layers against NumPy references written here, inside
``Dataset.map`` and the functional API, and their argument errors (no TensorFlow needed)."""

from __future__ import annotations

import collections
import json

import numpy as np
import pytest

import rill as tf
from rill import keras

L = keras.layers
RNG = np.random.default_rng(1)


def test_normalization_adapt_is_mean_and_variance():
    x = RNG.standard_normal((40, 3)) * [1.0, 5.0, 0.1] + [0.0, 3.0, -2.0]
    layer = L.Normalization()
    layer.adapt(x)
    np.testing.assert_allclose(layer.adapt_mean.numpy(), x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), x.var(0), rtol=1e-5)
    y = layer(x.astype("float32")).numpy()
    np.testing.assert_allclose(y, (x - x.mean(0)) / x.std(0), rtol=1e-4, atol=1e-5)
    # batches merged one by one give the moments of the whole
    batched = L.Normalization()
    batched.adapt(tf.data.Dataset.from_tensor_slices(x.astype("float32")).batch(7))
    np.testing.assert_allclose(batched.adapt_variance.numpy(), x.var(0), rtol=1e-4)
    inv = L.Normalization(mean=x.mean(0), variance=x.var(0), invert=True)
    np.testing.assert_allclose(inv(y).numpy(), x, rtol=1e-4, atol=1e-4)


def test_normalization_zero_variance_floors_at_epsilon():
    y = L.Normalization(mean=1.0, variance=0.0)(np.array([[1.0, 2.0]])).numpy()
    np.testing.assert_allclose(y, [[0.0, 1.0 / 1e-7]], rtol=1e-5)


def test_category_encoding_is_bincount():
    ids = RNG.integers(0, 6, (5, 4))
    count = L.CategoryEncoding(6, output_mode="count")(ids).numpy()
    want = np.stack([np.bincount(r, minlength=6) for r in ids])
    np.testing.assert_array_equal(count, want)
    np.testing.assert_array_equal(L.CategoryEncoding(6)(ids).numpy(), want > 0)
    w = RNG.uniform(size=ids.shape).astype("float32")
    weighted = L.CategoryEncoding(6, output_mode="count")(ids, count_weights=w).numpy()
    want_w = np.stack([np.bincount(r, weights=c, minlength=6) for r, c in zip(ids, w)])
    np.testing.assert_allclose(weighted, want_w, rtol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-negative"):
        L.CategoryEncoding(6)(np.array([[1, -1]]))


def test_discretization_is_digitize():
    bounds = [-0.5, 0.0, 0.7]
    x = RNG.standard_normal((4, 5)).astype("float32")
    x[0, :3] = bounds  # on a boundary: the bucket above, as np.digitize
    y = L.Discretization(bin_boundaries=bounds)(x)
    assert y.dtype == tf.int32
    np.testing.assert_array_equal(y.numpy(), np.digitize(x, bounds))


def test_discretization_adapt_quantiles_of_uniform_data():
    x = np.linspace(0.0, 1.0, 10001)
    layer = L.Discretization(num_bins=4, epsilon=0.001)
    layer.adapt(x)
    np.testing.assert_allclose(layer.bin_boundaries, [0.25, 0.5, 0.75], atol=2e-3)


def test_string_lookup_against_a_dict():
    vocab = ["fish", "cat", "dog"]
    words = np.array([["cat", "bird", "fish"], ["dog", "dog", "emu"]])
    ids = L.StringLookup(vocabulary=vocab)(words).numpy()
    index = {w: i + 1 for i, w in enumerate(vocab)}
    np.testing.assert_array_equal(ids, [[index.get(w, 0) for w in r] for r in words])
    back = L.StringLookup(vocabulary=vocab, invert=True)(ids).numpy()
    np.testing.assert_array_equal(back, [[(w if w in index else "[UNK]").encode() for w in r] for r in words])  # fmt: skip


def test_lookup_adapt_orders_by_frequency_then_token_descending():
    tokens = "b a c a b d b e e".split()
    layer = L.StringLookup()
    layer.adapt(np.array(tokens))
    counts = collections.Counter(tokens)
    want = sorted(counts, key=lambda t: (-counts[t], tuple(-ord(c) for c in t)))
    assert layer.get_vocabulary() == ["[UNK]", *want]
    assert layer.vocabulary_size() == len(want) + 1
    ints = L.IntegerLookup(max_tokens=4, mask_token=0)
    ints.adapt(np.array([5, 5, 9, 9, 9, 2, 0, 0, 0, 0]))
    assert ints.get_vocabulary() == [0, -1, 9, 5]


def test_lookup_vocabulary_file_and_set_vocabulary(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("x\ny\nz\n")
    layer = L.StringLookup(vocabulary=str(path))
    assert layer.get_vocabulary() == ["[UNK]", "x", "y", "z"]
    np.testing.assert_array_equal(layer(np.array(["z", "q"])).numpy(), [3, 0])
    layer.set_vocabulary(["q"])
    np.testing.assert_array_equal(layer(np.array(["z", "q"])).numpy(), [0, 1])
    with pytest.raises(ValueError, match="repeated"):
        layer.set_vocabulary(["a", "a"])
    with pytest.raises(ValueError, match="does not exist"):
        L.StringLookup(vocabulary=str(tmp_path / "missing.txt"))


def test_tf_idf_weights_from_adapt():
    docs = np.array([["a", "b"], ["a", "a"], ["c", "a"]])
    layer = L.StringLookup(output_mode="tf_idf")
    layer.adapt(docs)
    vocab = layer.get_vocabulary()[1:]
    df = {t: sum(t in d for d in docs.tolist()) for t in vocab}
    idf = [np.log(1 + 3 / (1 + df[t])) for t in vocab]
    want = np.array([np.mean(idf), *idf], np.float32)
    np.testing.assert_allclose(layer.idf_weights_const.numpy(), want, rtol=1e-6)
    y = layer(np.array([["a", "a"]])).numpy()
    np.testing.assert_allclose(y[0, 1 + vocab.index("a")], 2 * idf[vocab.index("a")], rtol=1e-6)


def test_text_vectorization_tokens_and_padding():
    layer = L.TextVectorization(output_sequence_length=5)
    layer.adapt(["Dogs, dogs and cats!", "cats"])
    vocab = layer.get_vocabulary()
    assert vocab[:2] == ["", "[UNK]"]
    y = layer(["The dogs.", "cats and dogs and dogs and dogs"]).numpy()
    idx = {w: i for i, w in enumerate(vocab)}
    np.testing.assert_array_equal(y[0], [1, idx["dogs"], 0, 0, 0])
    np.testing.assert_array_equal(y[1], [idx["cats"], idx["and"], idx["dogs"], idx["and"], idx["dogs"]])  # fmt: skip
    ragged = L.TextVectorization(vocabulary=["a"], ragged=True)(["a b", "a"])
    assert ragged.to_list() == [[2, 1], [2]]


def test_hashing_mask_and_bins_are_consistent():
    x = np.array(["a", "", "b", "", "a"])
    plain = L.Hashing(num_bins=4)(x).numpy()
    masked = L.Hashing(num_bins=5, mask_value="")(x).numpy()
    assert (masked[x == ""] == 0).all()
    # unmasked values hash into num_bins - 1 buckets, shifted up by one
    np.testing.assert_array_equal(masked[x != ""], plain[x != ""] + 1)
    assert masked[0] == masked[4]


def test_resizing_nearest_and_center_crop_by_indexing():
    img = np.arange(2 * 8 * 6 * 1, dtype="float32").reshape(2, 8, 6, 1)
    y = L.Resizing(4, 3, interpolation="nearest")(img).numpy()
    # half-pixel centers: output i samples input floor((i + 0.5) * 2) = 2i + 1
    np.testing.assert_array_equal(y, img[:, 1::2, 1::2])
    c = L.CenterCrop(4, 2)(img).numpy()
    np.testing.assert_array_equal(c, img[:, 2:6, 2:4])
    assert L.Rescaling(0.5, 1.0)(img).numpy().tolist() == (img * 0.5 + 1.0).tolist()


def test_mel_weight_matrix_is_triangular_on_the_htk_scale():
    from rill.keras.layers.preprocessing.audio import mel_weight_matrix

    m = mel_weight_matrix(4, 65, 8000, 100.0, 3000.0)
    assert m.shape == (65, 4) and (m[0] == 0).all()
    mel = lambda f: 1127.0 * np.log(1 + f / 700.0)  # noqa: E731
    centers = np.linspace(mel(100.0), mel(3000.0), 6)[1:-1]
    freqs = np.linspace(0, 4000, 65)
    for j, c in enumerate(centers):  # each filter peaks at the bin nearest its center
        assert abs(mel(freqs[np.argmax(m[:, j])]) - c) < mel(freqs[1]) + 60


def test_layers_inside_dataset_map():
    lookup = L.StringLookup(vocabulary=["a", "b"])
    text = L.TextVectorization(vocabulary=["x", "y"], output_sequence_length=3)
    norm = L.Normalization(mean=2.0, variance=4.0)
    ds = tf.data.Dataset.from_tensor_slices(np.array(["a", "c", "b"]))
    assert [int(v) for v in ds.map(lookup)] == [1, 0, 2]
    ds = tf.data.Dataset.from_tensor_slices(np.array(["x y z", "y"])).map(text)
    assert [v.numpy().tolist() for v in ds] == [[2, 3, 1], [3, 0, 0]]
    ds = tf.data.Dataset.from_tensor_slices(np.array([[2.0], [6.0]], "float32")).map(norm)
    assert [v.numpy().tolist() for v in ds] == [[0.0], [2.0]]
    hashing = L.Hashing(num_bins=5)
    eager = hashing(np.array(["p", "q"])).numpy().tolist()
    assert [int(v) for v in tf.data.Dataset.from_tensor_slices(np.array(["p", "q"])).map(hashing)] == eager  # fmt: skip


def test_functional_model_with_preprocessing():
    inputs = keras.Input(shape=(3,))
    x = L.Normalization(mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 9.0])(inputs)
    x = L.Discretization(bin_boundaries=[0.0], output_mode="count")(x)
    model = keras.Model(inputs, x)
    y = model(np.array([[2.0, 0.0, 3.0]], "float32")).numpy()
    np.testing.assert_array_equal(y, [[1.0, 2.0]])  # z-scores 1, -1, 0 -> buckets 1, 0, 1


def test_pipeline_and_serialization_round_trip():
    p = L.Pipeline([L.Rescaling(2.0), L.Normalization(mean=1.0, variance=1.0)])
    x = np.array([[1.0, 3.0]], "float32")
    np.testing.assert_array_equal(p(x).numpy(), 2 * x - 1)
    config = json.loads(json.dumps(L.serialize(p)))
    q = L.deserialize(config)
    assert [type(layer).__name__ for layer in q.layers] == ["Rescaling", "Normalization"]
    np.testing.assert_array_equal(q(x).numpy(), p(x).numpy())
    with pytest.raises(ValueError, match="not a `keras.layers.Layer`"):
        L.deserialize(keras.initializers.serialize(keras.initializers.Zeros()))
    assert L.Input is keras.Input


def test_reversible_embedding_reverse_is_transposed_matmul():
    layer = L.ReversibleEmbedding(6, 3, logit_soft_cap=1.5)
    emb = layer(np.array([[0, 5]])).numpy()
    table = layer.embeddings.numpy()
    np.testing.assert_array_equal(emb[0], table[[0, 5]])
    h = RNG.standard_normal((2, 3)).astype("float32")
    want = np.tanh(h @ table.T / 1.5) * 1.5
    np.testing.assert_allclose(layer(h, reverse=True).numpy(), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: L.CategoryEncoding(), "num_tokens must be set"),
        (lambda: L.Discretization(), "either `num_bins` or `bin_boundaries`"),
        (lambda: L.Discretization(bin_boundaries=[0.0], num_bins=2), "should not be set"),
        (lambda: L.Hashing(num_bins=0), "non-positive"),
        (lambda: L.Hashing(num_bins=3, dtype="float32"), "integer type"),
        (lambda: L.StringLookup(max_tokens=1), "greater than 1"),
        (lambda: L.StringLookup(invert=True, output_mode="count"), "must be `'int'`"),
        (lambda: L.StringLookup(output_mode="tf_idf", vocabulary=["a"]), "idf_weights"),
        (lambda: L.IntegerLookup(vocabulary_dtype="int32"), "int64"),
        (
            lambda: L.TextVectorization(output_mode="count", output_sequence_length=3),
            "must not be set",
        ),
        (lambda: L.TextVectorization(split="comma"), "split"),
        (lambda: L.Normalization(mean=1.0), "both `mean` and `variance`"),
        (lambda: L.MelSpectrogram(fft_length=64, sequence_length=128), "fft_length"),
        (lambda: L.STFTSpectrogram(frame_length=32, frame_step=64), "frame_step"),
        (lambda: L.Resizing(2, 2, interpolation="cubic"), "interpolation"),
    ],
)
def test_invalid_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_call_before_vocabulary_and_oov_without_indices():
    with pytest.raises(RuntimeError, match="vocabulary before calling"):
        L.StringLookup(output_mode="multi_hot")(np.array(["a"]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="OOV values"):
        L.StringLookup(vocabulary=["a"], num_oov_indices=0)(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="adapt"):
        L.StringLookup(vocabulary=["a"]).adapt(np.array(["b"]))
