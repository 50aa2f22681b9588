"""Layer assets (lookup vocabularies) travel inside .keras archives, laid out as Keras 3
lays them out (``assets/<layer path>/vocabulary.txt``), both ways with Keras."""

import importlib.util
import os
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import rill as tf

keras = tf.keras
HAS_TF = importlib.util.find_spec("tensorflow") is not None


def _model(lib):
    lookup = lib.keras.layers.StringLookup(name="lookup")
    lookup.adapt(np.array(["a", "b", "b", "c", "c", "c"]))
    inp = lib.keras.Input((1,), dtype="string")
    return lib.keras.Model(inp, lookup(inp))


def test_adapted_vocabulary_survives_a_keras_file(tmp_path):
    pytest.importorskip("h5py")
    model = _model(tf)
    path = str(tmp_path / "m.keras")
    model.save(path)
    assert "assets/layers/string_lookup/vocabulary.txt" in zipfile.ZipFile(path).namelist() or any(
        n.startswith("assets/") and n.endswith("vocabulary.txt")
        for n in zipfile.ZipFile(path).namelist()
    )
    back = keras.models.load_model(path)
    x = np.array([["c"], ["a"], ["zz"]])
    np.testing.assert_array_equal(back(x).numpy(), model(x).numpy())
    assert back.get_layer("lookup").get_vocabulary() == ["[UNK]", "c", "b", "a"]


@pytest.mark.skipif(not HAS_TF, reason="TensorFlow/Keras not installed")
def test_keras_reads_rills_assets_and_rill_reads_keras(tmp_path):
    pytest.importorskip("h5py")
    rill_path = str(tmp_path / "rill.keras")
    _model(tf).save(rill_path)
    keras_path = str(tmp_path / "keras.keras")
    script = textwrap.dedent(
        f"""
        import numpy as np, keras
        m = keras.models.load_model({rill_path!r})
        print(m(np.array([["c"], ["a"], ["zz"]])).numpy().ravel().tolist())
        lookup = keras.layers.StringLookup(name="lookup")
        lookup.adapt(np.array(["x", "y", "y"]))
        inp = keras.Input((1,), dtype="string")
        keras.Model(inp, lookup(inp)).save({keras_path!r})
        """
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("PYTHONPATH", None)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[1, 3, 0]"
    back = keras.models.load_model(keras_path)
    assert back.get_layer("lookup").get_vocabulary() == ["[UNK]", "y", "x"]
