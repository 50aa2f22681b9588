"""keras.utils.FeatureSpace: the encodings checked against NumPy formulas written here
(standardisation, frequency-ordered one-hot vocabularies, fixed-boundary buckets), the
pipeline against Keras 3 itself on a small structured dataset (skipped without it), and
the symbolic, Dataset.map and saving paths against the eager result."""

from __future__ import annotations

import numpy as np
import pytest

import rill as tf
from rill import keras
from rill.keras.utils import FeatureSpace as FS

DATA = {
    "f": np.array([0.5, 1.5, -2.0, 3.0, 0.0, 2.5, 1.0, -1.0], "float32"),
    "fn": np.array([10.0, 12.0, 9.0, 14.0, 11.0, 13.0, 10.0, 15.0], "float32"),
    "fd": np.array([0.1, 0.4, 0.35, 0.8, 0.9, 0.2, 0.6, 0.05], "float32"),
    "ic": np.array([1, 2, 3, 1, 2, 1, 5, 1], "int32"),
    "sc": np.array(list("abcabada")),
    "sh": np.array(["x", "yy", "zzz", "x", "w", "yy", "q", "x"]),
    "ih": np.array([100, 200, 300, 100, 400, 200, 700, 100], "int32"),
}


def _one_hot_by_frequency(values, oov=1):
    """Lookup one-hot: OOV slot(s) first, then tokens by descending count (ties: Keras
    sorts equal counts by the token, descending)."""
    tokens, counts = np.unique(values, return_counts=True)
    order = sorted(zip(tokens, counts), key=lambda tc: (-tc[1], [-ord(c) for c in str(tc[0])]))
    vocab = [t for t, _ in order]
    out = np.zeros((len(values), oov + len(vocab)), "float32")
    for i, v in enumerate(values):
        out[i, oov + vocab.index(v)] = 1.0
    return out


def test_encodings_match_numpy_formulas():
    fs = FS(
        {
            "fn": "float_normalized",
            "fr": FS.float_rescaled(scale=2.0, offset=1.0),
            "fd": FS.float_discretized(num_bins=3),
            "ic": "integer_categorical",
        },
        output_mode="dict",
    )
    data = {**{k: DATA[k] for k in ("fn", "fd", "ic")}, "fr": DATA["f"]}
    fs.adapt(data)
    out = {k: np.asarray(v) for k, v in fs(data).items()}
    x = DATA["fn"].astype("float64")
    np.testing.assert_allclose(out["fn"][:, 0], (x - x.mean()) / x.std(), rtol=1e-5)
    np.testing.assert_allclose(out["fr"][:, 0], DATA["f"] * 2.0 + 1.0)
    # the one-hot of the bucket each value falls in, between the learnt boundaries
    edges = np.asarray(fs.preprocessors["fd"].bin_boundaries, "float32")
    assert edges.shape == (2,)
    buckets = np.searchsorted(edges, DATA["fd"], side="right")
    np.testing.assert_array_equal(out["fd"], np.eye(3, dtype="float32")[buckets])
    np.testing.assert_array_equal(out["ic"], _one_hot_by_frequency(DATA["ic"]))
    assert all(v.dtype == np.float32 for v in out.values())


def test_concat_is_the_sorted_dict_and_crosses_are_hashed():
    features = {"sc": "string_categorical", "f": "float", "sh": FS.string_hashed(num_bins=4)}
    data = {k: DATA[k] for k in features}
    fs_dict = FS(dict(features), crosses=[("sc", "sh")], crossing_dim=8, output_mode="dict")
    fs_cat = FS(dict(features), crosses=[("sc", "sh")], crossing_dim=8)
    fs_dict.adapt(data)
    fs_cat.adapt(data)
    d = {k: np.asarray(v) for k, v in fs_dict(data).items()}
    assert list(d) == ["f", "sc", "sh", "sc_X_sh"]  # features sorted, then crosses
    np.testing.assert_array_equal(np.asarray(fs_cat(data)), np.concatenate(list(d.values()), -1))
    np.testing.assert_array_equal(d["sc"], _one_hot_by_frequency(DATA["sc"]))
    assert d["sh"].shape == (8, 4) and np.all(d["sh"].sum(-1) == 1)
    assert d["sc_X_sh"].shape == (8, 8) and np.all(d["sc_X_sh"].sum(-1) == 1)
    # equal (sc, sh) pairs hash to the same crossed bin
    keys = [f"{a}|{b}" for a, b in zip(DATA["sc"], DATA["sh"])]
    for i in range(8):
        for j in range(8):
            if keys[i] == keys[j]:
                np.testing.assert_array_equal(d["sc_X_sh"][i], d["sc_X_sh"][j])


def test_single_example_batch_of_one_and_dataset_map():
    fs = FS({"fn": "float_normalized", "sc": "string_categorical"})
    fs.adapt(tf.data.Dataset.from_tensor_slices({k: DATA[k] for k in ("fn", "sc")}))
    full = np.asarray(fs({k: DATA[k] for k in ("fn", "sc")}))
    one = fs({"fn": DATA["fn"][2], "sc": DATA["sc"][2]})
    assert tuple(one.shape) == (full.shape[1],)  # a scalar example: no batch axis
    np.testing.assert_allclose(np.asarray(one), full[2], rtol=1e-6)
    ds = tf.data.Dataset.from_tensor_slices({k: DATA[k] for k in ("fn", "sc")}).batch(3)
    mapped = np.concatenate([np.asarray(b) for b in ds.map(fs)])
    np.testing.assert_allclose(mapped, full, rtol=1e-6)
    two_d = np.asarray(fs({"fn": DATA["fn"][:, None], "sc": DATA["sc"][:, None]}))
    np.testing.assert_array_equal(two_d, full)


def test_inputs_and_encoded_features_build_a_model():
    fs = FS({"fn": "float_normalized", "ic": "integer_categorical", "sc": "string_categorical"})
    data = {k: DATA[k] for k in ("fn", "ic", "sc")}
    fs.adapt(data)
    inputs = fs.get_inputs()
    assert sorted(inputs) == ["fn", "ic", "sc"]
    assert inputs["sc"].dtype == "string" and inputs["ic"].dtype == "int32"
    assert tuple(inputs["fn"].shape) == (None, 1)
    encoded = fs.get_encoded_features()
    assert tuple(encoded.shape) == (None, 1 + 5 + 5)
    model = keras.Model(inputs, encoded)
    np.testing.assert_allclose(
        np.asarray(model({k: v[:, None] for k, v in data.items()})),
        np.asarray(fs(data)),
        rtol=1e-6,
    )


def test_int_output_mode_in_dict_and_errors():
    fs = FS({"ic": FS.integer_categorical(output_mode="int")}, output_mode="dict")
    fs.adapt({"ic": DATA["ic"]})
    out = fs({"ic": DATA["ic"]})["ic"]
    assert out.dtype == tf.int64
    vocab_rank = {1: 1, 2: 2, 5: 3, 3: 4}  # by count (1 x4, 2 x2), ties larger first
    np.testing.assert_array_equal(np.asarray(out)[:, 0], [vocab_rank[v] for v in DATA["ic"]])
    bad = FS({"ic": FS.integer_categorical(output_mode="int")})
    with pytest.raises(ValueError, match="Cannot concatenate"):
        bad.adapt({"ic": DATA["ic"]})
    with pytest.raises(ValueError, match="cannot be None or empty"):
        FS({})
    with pytest.raises(ValueError, match="Invalid feature type"):
        FS({"a": "floaty"})
    with pytest.raises(ValueError, match="output_mode"):
        FS({"a": "float"}, output_mode="list")
    with pytest.raises(ValueError, match="Received unknown features"):
        FS({"a": "float"}, crosses=[("a", "b")])
    with pytest.raises(ValueError, match="output_mode"):
        FS.feature("float32", keras.layers.Rescaling(1.0), "multi_hot")
    with pytest.raises(ValueError, match="call `.adapt"):
        FS({"a": "float_normalized"}).get_encoded_features()
    ready = FS({"a": "float"})  # nothing to adapt: usable at once
    np.testing.assert_array_equal(np.asarray(ready({"a": [1.0, 2.0]})), [[1.0], [2.0]])
    with pytest.raises(ValueError, match="only be called with a dict"):
        ready([1.0, 2.0])
    rescaled_one_hot = FS({"a": FS.feature("float32", keras.layers.Rescaling(1.0), "one_hot")})
    with pytest.raises(ValueError, match="integer dtype"):
        rescaled_one_hot.get_encoded_features()


def test_config_round_trip_and_save_load(tmp_path):
    pytest.importorskip("h5py")
    features = {
        "fn": "float_normalized",
        "sc": FS.string_categorical(max_tokens=4),
        "ih": FS.integer_hashed(num_bins=5),
    }
    data = {k: DATA[k] for k in features}
    fs = FS(features, crosses=[FS.cross(("sc", "ih"), crossing_dim=6)])
    fs.adapt(data)
    config = fs.get_config()
    assert set(config) == {"features", "output_mode", "crosses", "crossing_dim",
                           "hashing_dim", "num_discretization_bins"}  # fmt: skip
    again = FS.from_config(config)
    again.adapt(data)
    np.testing.assert_allclose(np.asarray(again(data)), np.asarray(fs(data)), rtol=1e-6)
    path = str(tmp_path / "fs.keras")
    fs.save(path)
    back = keras.models.load_model(path, custom_objects={"FeatureSpace": FS})
    np.testing.assert_allclose(np.asarray(back(data)), np.asarray(fs(data)), rtol=1e-6)


def _keras_run(mod, tfm, output_mode):
    fsc = mod.utils.FeatureSpace
    fs = fsc(
        {
            "f": fsc.float(),
            "fn": "float_normalized",
            "fd": fsc.float_discretized(num_bins=3),
            "ic": fsc.integer_categorical(),
            "sc": "string_categorical",
            "sh": fsc.string_hashed(num_bins=4),
            "ih": fsc.integer_hashed(num_bins=5),
        },
        crosses=[fsc.cross(("sc", "ic"), crossing_dim=8)],
        output_mode=output_mode,
    )
    fs.adapt(tfm.data.Dataset.from_tensor_slices(DATA))
    out = fs(DATA)
    if output_mode == "dict":
        return {k: v for k, v in out.items()}
    one = fs({k: v[3] for k, v in DATA.items()})
    mapped = list(tfm.data.Dataset.from_tensor_slices(DATA).batch(5).map(fs))
    return {"all": out, "one": one, "mapped0": mapped[0], "mapped1": mapped[1]}


@pytest.mark.parametrize("output_mode", ["concat", "dict"])
def test_against_keras(output_mode):
    k = pytest.importorskip("keras")
    real_tf = pytest.importorskip("tensorflow")
    from tests.keras.keras_compare import assert_matches_keras

    got = _keras_run(keras, tf, output_mode)
    ref = _keras_run(k, real_tf, output_mode)
    assert list(got) == list(ref)
    for name in ref:
        assert_matches_keras(got[name], ref[name], rtol=1e-6, atol=1e-6, err_msg=name)
