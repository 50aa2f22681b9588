"""The preprocessing layers against Keras 3 itself (skipped without TensorFlow and
Keras): the same constructor arguments give the same outputs (dtype, shape, values), the
same config, and ``adapt`` learns the same state (vocabularies in Keras' order, IDF
weights, statistics, bin boundaries).

    cd /work/main && PYTHONPATH=. /work/peers/bin/python -m pytest tests/keras/layers/preprocessing
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
TEXT = np.array([
    "The cat sat on the mat.", "The dog ate my homework!", "cat, dog; CAT", "a b c d e f g",
    "Hello,   world... hello again", "ünïcödé wörds ünïcödé",
])  # fmt: skip
WORDS = np.array([["a", "b", "zz"], ["c", "", "a"], ["b", "b", "q"]])
IMG = RNG.uniform(0, 255, (2, 9, 7, 3)).astype("float32")
AUDIO = RNG.standard_normal((2, 3000)).astype("float32")

# (layer name, constructor arguments, input): outputs and configs must match
CASES = [
    ("Normalization", dict(mean=[1.0, 2.0, 3.0], variance=[4.0, 0.0, 9.0]), RNG.standard_normal((4, 3))),
    ("Normalization", dict(axis=None, mean=2.0, variance=3.0), RNG.standard_normal((2, 3, 2))),
    ("Normalization", dict(axis=(1, 2), mean=[[1.0, 2.0]], variance=[[4.0, 9.0]], invert=True),
     RNG.standard_normal((2, 1, 2))),
    ("Rescaling", dict(scale=1 / 255.0, offset=-0.5), IMG),
    ("Rescaling", dict(scale=[1.0, 2.0, 3.0]), IMG),
    ("Resizing", dict(height=4, width=5), IMG),
    ("Resizing", dict(height=12, width=5, interpolation="nearest"), IMG),
    ("Resizing", dict(height=4, width=4, interpolation="bicubic", crop_to_aspect_ratio=True), IMG),
    ("Resizing", dict(height=6, width=3, interpolation="area"), IMG),
    ("Resizing", dict(height=5, width=5, interpolation="lanczos3", antialias=True), IMG),
    ("Resizing", dict(height=6, width=6, pad_to_aspect_ratio=True, fill_value=1.0), IMG),
    ("Resizing", dict(height=6, width=6, interpolation="bilinear"), IMG[0].astype("uint8")),
    ("CenterCrop", dict(height=5, width=3), IMG),
    ("CenterCrop", dict(height=4, width=4), IMG[0]),
    ("CenterCrop", dict(height=12, width=10), IMG),
    ("Discretization", dict(bin_boundaries=[-1.0, 0.0, 0.5]), RNG.standard_normal((3, 4))),
    ("Discretization", dict(bin_boundaries=[-1.0, 0.0, 0.5], output_mode="one_hot"), RNG.standard_normal((5,))),
    ("Discretization", dict(bin_boundaries=[0.0, 1.0], output_mode="count"), np.array([[-1.0, 0.0, 2.0, 0.5]])),
    ("Discretization", dict(bin_boundaries=[0.0, 1.0], output_mode="multi_hot"), np.array([[-1.0, 0.0], [2.0, 2.0]])),
    ("CategoryEncoding", dict(num_tokens=4), np.array([[1, 2, 2], [3, 3, 0]])),
    ("CategoryEncoding", dict(num_tokens=4, output_mode="count"), np.array([[1, 2, 2], [3, 3, 0]])),
    ("CategoryEncoding", dict(num_tokens=4, output_mode="one_hot"), np.array([1, 7, 0])),
    ("CategoryEncoding", dict(num_tokens=4, output_mode="one_hot"), np.array([[1], [3]])),
    ("CategoryEncoding", dict(num_tokens=5, output_mode="multi_hot"), np.array([[[1, 2], [0, 0]]])),
    ("CategoryEncoding", dict(num_tokens=4, output_mode="count", dtype="int32"), np.array([1, 2, 2])),
    ("Hashing", dict(num_bins=7), WORDS),
    ("Hashing", dict(num_bins=7, mask_value=""), WORDS),
    ("Hashing", dict(num_bins=5, salt=[133, 137]), WORDS),
    ("Hashing", dict(num_bins=5, salt=7), WORDS),
    ("Hashing", dict(num_bins=9), np.array([[1, 22, -3], [4, 5, 6]])),
    ("Hashing", dict(num_bins=9), np.array([[1.5, 22.9, -3.2]])),
    ("Hashing", dict(num_bins=6, output_mode="multi_hot"), WORDS),
    ("Hashing", dict(num_bins=6, output_mode="count"), WORDS),
    ("Hashing", dict(num_bins=6, output_mode="one_hot"), WORDS[:, :1]),
    ("Hashing", dict(num_bins=6, dtype="int32"), WORDS),
    ("StringLookup", dict(vocabulary=["a", "b", "c"]), WORDS),
    ("StringLookup", dict(vocabulary=["a", "b", "c"], mask_token="", num_oov_indices=3), WORDS),
    ("StringLookup", dict(vocabulary=["a", "b", "c"], num_oov_indices=2, salt=11), WORDS),
    ("StringLookup", dict(vocabulary=["[UNK]", "a", "b", "c"]), WORDS),
    ("StringLookup", dict(vocabulary=["a", "b", "c"], output_mode="multi_hot"), WORDS),
    ("StringLookup", dict(vocabulary=["a", "b", "c"], output_mode="count", mask_token=""), WORDS),
    ("StringLookup", dict(vocabulary=["a", "b", "c"], output_mode="one_hot"), WORDS[:, 0]),
    ("StringLookup", dict(vocabulary=["a", "b", "c"], output_mode="multi_hot", max_tokens=6,
                          pad_to_max_tokens=True), WORDS),
    ("StringLookup", dict(vocabulary=["a", "b", "c"], output_mode="tf_idf",
                          idf_weights=[0.5, 1.0, 2.0]), WORDS),
    ("StringLookup", dict(vocabulary=["a", "b", "c"], invert=True), np.array([[0, 1, 2], [3, 4, 0]])),
    ("StringLookup", dict(vocabulary=["a", "b", "c"], invert=True, mask_token="<m>"),
     np.array([[0, 1, 2], [3, 4, 0]])),
    ("IntegerLookup", dict(vocabulary=[12, 36, 1138, 42]), np.array([[12, 1138, 42], [42, 1000, 36]])),
    ("IntegerLookup", dict(vocabulary=[12, 36], num_oov_indices=3, mask_token=0), np.array([[12, 0, 7], [-8, 36, 5]])),
    ("IntegerLookup", dict(vocabulary=[12, 36], num_oov_indices=3, oov_method="farmhash"), np.array([[12, 0, 7]])),
    ("IntegerLookup", dict(vocabulary=[12, 36], output_mode="count"), np.array([[12, 12, 7]])),
    ("IntegerLookup", dict(vocabulary=[12, 36], invert=True), np.array([[0, 1, 2, 5]])),
    ("TextVectorization", dict(vocabulary=["the", "cat", "dog"]), TEXT),
    ("TextVectorization", dict(vocabulary=["the", "cat", "dog"], output_sequence_length=4), TEXT),
    ("TextVectorization", dict(vocabulary=["the", "cat", "dog"], output_sequence_length=12), TEXT),
    ("TextVectorization", dict(vocabulary=["the", "cat", "dog"], output_mode="multi_hot"), TEXT),
    ("TextVectorization", dict(vocabulary=["the", "cat", "dog"], output_mode="count",
                               standardize="lower"), TEXT),
    ("TextVectorization", dict(vocabulary=["t", "h", "e", "a"], split="character",
                               standardize=None, output_sequence_length=6), TEXT),
    ("TextVectorization", dict(vocabulary=["the", "the cat", "cat"], ngrams=2), TEXT),
    ("TextVectorization", dict(vocabulary=["the cat sat on the mat.", "x"], split=None,
                               standardize="lower"), TEXT[:, None]),
    ("MelSpectrogram", dict(fft_length=256, sequence_stride=128, num_mel_bins=20), AUDIO),
    ("MelSpectrogram", dict(fft_length=512, sequence_length=300, sequence_stride=100,
                            num_mel_bins=16, power_to_db=False, mag_exp=1.0,
                            sampling_rate=8000, max_freq=3000), AUDIO),
    ("STFTSpectrogram", dict(frame_length=64), AUDIO[..., None]),
    ("STFTSpectrogram", dict(mode="stft", frame_length=50, frame_step=20, fft_length=64,
                             padding="same"), np.stack([AUDIO, -AUDIO], -1)),
    ("STFTSpectrogram", dict(mode="psd", frame_length=32, window="hamming", periodic=True,
                             scaling="spectrum", expand_dims=True), np.stack([AUDIO, AUDIO], -1)),
    ("STFTSpectrogram", dict(mode="angle", frame_length=32),
     AUDIO[..., None]),
]  # fmt: skip


def _id(case):
    name, kwargs, _ = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())[:60]


def _config(layer, module):
    c = json.loads(json.dumps(module.saving.serialize_keras_object(layer), default=str))
    c.pop("build_config", None)
    c["config"].pop("name", None)
    return c


def _fix_float(x):
    """Keras converts float64 inputs to float32 first; do the same for both."""
    x = np.asarray(x)
    return x.astype("float32") if x.dtype == np.float64 else x


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_outputs_and_config_match(case):
    name, kwargs, x = case
    x = _fix_float(x)
    kl = getattr(keras.layers, name)(**kwargs)
    rl = getattr(RK.layers, name)(**kwargs)
    ky, ry = kl(x), rl(x)
    if name == "STFTSpectrogram":
        rl.set_weights(kl.get_weights())  # the initializers agree; this pins the check
        ry = rl(x)
    exact = ry.dtype in (R.string, R.int32, R.int64)
    if ry.dtype == R.string:
        np.testing.assert_array_equal(ry.numpy(), ky.numpy())
    else:
        assert_matches_keras(ry, ky, rtol=2e-4, atol=2e-4, err_msg=name, exact=exact)
    assert _config(rl, RK) == _config(kl, keras)


ADAPT_DATA = [
    ("StringLookup", dict(), WORDS),
    ("StringLookup", dict(max_tokens=3, mask_token=""), WORDS),
    ("StringLookup", dict(output_mode="tf_idf"), WORDS),
    ("StringLookup", dict(num_oov_indices=0, output_mode="count", pad_to_max_tokens=True,
                          max_tokens=8), WORDS),
    ("IntegerLookup", dict(), np.array([[3, 3, 9], [9, 1, 3], [7, 7, 2]])),
    ("IntegerLookup", dict(max_tokens=3, output_mode="multi_hot"), np.array([5, 5, 4, 4, 6, 1, 1])),
    ("TextVectorization", dict(), TEXT),
    ("TextVectorization", dict(max_tokens=6, output_sequence_length=5), TEXT),
    ("TextVectorization", dict(ngrams=(1, 2), output_mode="tf_idf"), TEXT),
    ("TextVectorization", dict(ngrams=3, output_mode="multi_hot", max_tokens=12,
                               pad_to_max_tokens=True), TEXT),
    ("TextVectorization", dict(split="character", output_mode="count"), TEXT),
    ("Discretization", dict(num_bins=4), RNG.standard_normal((50, 3))),
    ("Discretization", dict(num_bins=5, epsilon=0.1, output_mode="one_hot"), RNG.uniform(size=(200,))),
    ("Normalization", dict(), RNG.standard_normal((20, 3)) * 3 + 1),
    ("Normalization", dict(axis=(1, 2)), RNG.standard_normal((10, 2, 4))),
    ("Normalization", dict(axis=None, invert=True), RNG.standard_normal((10, 3))),
]  # fmt: skip


def _state(layer):
    if hasattr(layer, "get_vocabulary"):
        out = {"vocab": [str(t) for t in layer.get_vocabulary()]}
        lookup = getattr(layer, "_lookup_layer", layer)
        w = getattr(lookup, "idf_weights_const", None)
        if w is not None:
            out["idf"] = np.round(np.asarray(w), 5).tolist()
        return out
    if hasattr(layer, "bin_boundaries") and layer.bin_boundaries is not None:
        return {"bins": np.round(layer.bin_boundaries, 5).tolist()}
    return {"weights": [np.round(np.asarray(w), 4).tolist() for w in layer.get_weights()]}


@pytest.mark.parametrize("case", ADAPT_DATA, ids=[_id(c) for c in ADAPT_DATA])
def test_adapt_matches(case):
    name, kwargs, data = case
    data = _fix_float(data)
    kl = getattr(keras.layers, name)(**kwargs)
    rl = getattr(RK.layers, name)(**kwargs)
    kl.adapt(data)
    rl.adapt(data)
    assert _state(rl) == _state(kl)
    x = data[:3]
    ky, ry = kl(x), rl(x)
    assert_matches_keras(ry, ky, rtol=1e-4, atol=1e-5, err_msg=name, exact=ry.dtype.is_integer)
    assert _config(rl, RK) == _config(kl, keras)


@pytest.mark.parametrize(
    "name, kwargs, data",
    [
        ("TextVectorization", dict(), TEXT),
        ("StringLookup", dict(output_mode="tf_idf"), WORDS),
        ("Normalization", dict(), RNG.standard_normal((30, 2)).astype("float32")),
        ("Discretization", dict(num_bins=3), RNG.standard_normal((40,)).astype("float32")),
    ],
)
def test_adapt_from_batched_datasets(name, kwargs, data):
    kl = getattr(keras.layers, name)(**kwargs)
    rl = getattr(RK.layers, name)(**kwargs)
    kl.adapt(T.data.Dataset.from_tensor_slices(data).batch(4))
    rl.adapt(R.data.Dataset.from_tensor_slices(data).batch(4))
    assert _state(rl) == _state(kl)


def test_hashed_crossing_matches():
    ints = np.array([1, 2, 3, 4])
    strs = np.array(["a", "b", "a", "zz"])
    for kwargs in (dict(num_bins=7), dict(num_bins=1000), dict(num_bins=5, output_mode="one_hot")):
        for inputs in ((ints, strs), (strs, strs), (ints[:, None], ints[:, None] * 7),
                       (np.array(3), np.array("x"))):  # fmt: skip
            ky = keras.layers.HashedCrossing(**kwargs)(inputs)
            ry = RK.layers.HashedCrossing(**kwargs)(inputs)
            assert_matches_keras(ry, ky, exact=True, err_msg=str(kwargs))
    assert _config(RK.layers.HashedCrossing(5), RK) == _config(
        keras.layers.HashedCrossing(5), keras
    )


def test_reversible_embedding_matches():
    for kwargs in (
        dict(),
        dict(tie_weights=False, logit_soft_cap=2.0),
        dict(reverse_dtype="float64"),
    ):
        kl = keras.layers.ReversibleEmbedding(10, 4, **kwargs)
        rl = RK.layers.ReversibleEmbedding(10, 4, **kwargs)
        ids = np.array([[1, 2, 9], [0, 3, 3]])
        kl(ids)
        rl(ids)
        assert [w.name for w in kl.weights] == [
            w.name.split("/")[-1].split(":")[0] for w in rl.weights
        ]
        rl.set_weights(kl.get_weights())
        assert_matches_keras(rl(ids), kl(ids))
        h = RNG.standard_normal((2, 3, 4)).astype("float32")
        assert_matches_keras(rl(h, reverse=True), kl(h, reverse=True), rtol=1e-5, atol=1e-6)
        assert _config(rl, RK) == _config(kl, keras)


def test_keras_configs_deserialize_in_rill():
    layers = [
        keras.layers.StringLookup(vocabulary=["a", "b"], output_mode="count"),
        keras.layers.TextVectorization(max_tokens=10, ngrams=2, output_sequence_length=3),
        keras.layers.Discretization(bin_boundaries=[0.0, 1.0]),
        keras.layers.Pipeline([keras.layers.Rescaling(2.0), keras.layers.CenterCrop(2, 2)]),
        keras.layers.Hashing(num_bins=3, salt=5),
    ]
    for kl in layers:
        config = json.loads(json.dumps(keras.layers.serialize(kl), default=str))
        rl = RK.layers.deserialize(config)
        assert type(rl).__name__ == type(kl).__name__
        assert _config(rl, RK) == _config(kl, keras)
