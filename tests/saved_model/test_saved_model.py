"""tf.saved_model: TF-written fixtures run in rill (CI, no TF), rill's SavedModels round-trip
in rill, and (where TensorFlow is installed) load in TensorFlow with the same values."""

import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("google.protobuf")

import rill as tf  # noqa: E402
from rill import keras  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def _fixture_inputs(name):
    d = np.load(os.path.join(FIXTURES, name + ".npz"))
    ins = {k[3:]: d[k] for k in d.files if k.startswith("in_")}
    ins = {k: v.astype(object) if v.dtype.kind == "S" else v for k, v in ins.items()}
    outs = {k[4:]: d[k] for k in d.files if k.startswith("out_")}
    return ins, outs


@pytest.mark.parametrize("name", ["mlp", "convnet", "lstm", "looper"])
def test_tf_written_fixture_runs_in_rill(name):
    # expected values: what TF 2.21 computed when it wrote the fixture (make_fixtures.py)
    loaded = tf.saved_model.load(os.path.join(FIXTURES, name))
    ins, expected = _fixture_inputs(name)
    got = loaded.signatures["serving_default"](**ins)
    assert sorted(got) == sorted(expected)
    for k, want in expected.items():
        value = got[k].numpy()
        if want.dtype.kind == "S":
            assert value.astype(bytes).tolist() == want.tolist()
        else:
            assert value.dtype == want.dtype
            np.testing.assert_allclose(value, want, rtol=1e-5, atol=1e-6)


def test_tf_written_module_function_and_variable():
    loaded = tf.saved_model.load(os.path.join(FIXTURES, "looper"))
    assert float(loaded.scale.numpy()) == 1.5  # the Variable(1.5) make_fixtures.py saved
    ins, expected = _fixture_inputs("looper")
    out = loaded.run(ins["x"], ins["n"], ins["words"])
    np.testing.assert_allclose(out["y"].numpy(), expected["y"])


def test_loaded_signature_metadata():
    sig = tf.saved_model.load(os.path.join(FIXTURES, "looper")).signatures["serving_default"]
    specs = sig.structured_input_signature[1]
    assert sorted(specs) == ["n", "words", "x"]
    assert specs["words"].dtype == tf.string and specs["n"].shape.rank == 0


class Looper(tf.Module):
    def __init__(self):
        super().__init__()
        self.scale = tf.Variable(1.5)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None], tf.float32, name="x"),
            tf.TensorSpec([], tf.int32, name="n"),
        ]
    )
    def run(self, x, n):
        i = tf.constant(0)
        acc = x
        while i < n:
            acc = acc * self.scale + 1.0
            i += 1
        if tf.reduce_sum(acc) > 0:
            acc = acc - 1.0
        else:
            acc = acc + 1.0
        return {"y": acc}


def _looper_reference(x, n, scale=1.5):
    acc = x.astype(np.float64)
    for _ in range(n):
        acc = acc * scale + 1.0
    return (acc - 1.0 if acc.sum() > 0 else acc + 1.0).astype(np.float32)


def test_module_round_trip_in_rill(tmp_path):
    m = Looper()
    tf.saved_model.save(m, str(tmp_path))
    for f in ("saved_model.pb", "fingerprint.pb", "variables/variables.index",
              "variables/variables.data-00000-of-00001"):  # fmt: skip
        assert (tmp_path / f).is_file(), f
    assert (tmp_path / "assets").is_dir()
    assert tf.saved_model.contains_saved_model(str(tmp_path))
    loaded = tf.saved_model.load(str(tmp_path))
    x = np.array([1.0, -2.0, 0.5], np.float32)
    want = _looper_reference(x, 3)
    np.testing.assert_allclose(
        loaded.signatures["serving_default"](x=x, n=np.int32(3))["y"].numpy(), want
    )
    np.testing.assert_allclose(loaded.run(x, 3)["y"].numpy(), want)
    fp = tf.saved_model.experimental.read_fingerprint(str(tmp_path))
    assert fp.version == 1 and len(fp.singleprint().split("/")) == 4


def _mlp():
    keras.utils.set_random_seed(1)
    return keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3, activation="relu"),
         keras.layers.Dense(2, activation="softmax")]
    )  # fmt: skip


def test_keras_model_round_trip_in_rill(tmp_path):
    model = _mlp()
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    tf.saved_model.save(model, str(tmp_path))
    sig = tf.saved_model.load(str(tmp_path)).signatures["serving_default"]
    (key,) = sig.structured_input_signature[1]
    w1, b1, w2, b2 = [v.numpy() for v in model.weights]
    h = np.maximum(x @ w1 + b1, 0) @ w2 + b2
    want = np.exp(h) / np.exp(h).sum(-1, keepdims=True)  # the model's formula in NumPy
    np.testing.assert_allclose(sig(**{key: x})["output_0"].numpy(), want, rtol=1e-5)


def test_unmapped_primitive_is_refused_at_save(tmp_path):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def f(x):
        return tf.argsort(x)  # rill's ArgSort primitive has no TF op

    with pytest.raises(tf.errors.UnimplementedError, match="ArgSort"):
        tf.saved_model.save(f, str(tmp_path))


def test_unsupported_op_named_at_load(tmp_path):
    import shutil

    from rill.saved_model.load import read_saved_model

    shutil.copytree(os.path.join(FIXTURES, "mlp"), tmp_path / "m")
    sm = read_saved_model(str(tmp_path / "m"))
    for f in sm.meta_graphs[0].graph_def.library.function:
        for node in f.node_def:
            if node.op == "Relu":
                node.op = "NoSuchOpV9"
    (tmp_path / "m" / "saved_model.pb").write_bytes(sm.SerializeToString())
    with pytest.raises(tf.errors.UnimplementedError, match="NoSuchOpV9"):
        tf.saved_model.load(str(tmp_path / "m"))


def test_missing_saved_model(tmp_path):
    assert not tf.saved_model.contains_saved_model(str(tmp_path))
    with pytest.raises(OSError, match="SavedModel file does not exist"):
        tf.saved_model.load(str(tmp_path))


def test_constants_match_tensorflow():
    sm = tf.saved_model
    assert (sm.SERVING, sm.TRAINING, sm.DEFAULT_SERVING_SIGNATURE_DEF_KEY) == (
        "serve", "train", "serving_default")  # fmt: skip
    assert sm.PREDICT_METHOD_NAME == "tensorflow/serving/predict"
    assert (sm.VARIABLES_DIRECTORY, sm.SAVED_MODEL_FILENAME_PB) == ("variables", "saved_model.pb")


# -- TensorFlow loads what rill wrote ---------------------------------------------------------

_TF_CHECK = r"""
import sys, numpy as np, tensorflow as tf
path, kind = sys.argv[1], sys.argv[2]
loaded = tf.saved_model.load(path)
sig = loaded.signatures["serving_default"]
if kind == "looper":
    x = np.array([1.0, -2.0, 0.5], np.float32)
    print(repr(sig(x=tf.constant(x), n=tf.constant(3))["y"].numpy().tolist()))
    print(repr(loaded.run(tf.constant(x), tf.constant(3))["y"].numpy().tolist()))
    print(sorted(tf.train.load_checkpoint(path + "/variables/variables").get_variable_to_shape_map()))
else:
    x = np.load(sys.argv[3])
    (key,) = sig.structured_input_signature[1]
    print(repr(sig(**{key: tf.constant(x)})["output_0"].numpy().tolist()))
"""


def _tf_python():
    tf_real = pytest.importorskip("tensorflow")  # noqa: F841 - skip cleanly without TF
    return sys.executable


def _run_tf(*args):
    exe = _tf_python()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("PYTHONPATH", None)  # TF's own process, without rill on the path
    out = subprocess.run([exe, "-c", _TF_CHECK, *args], capture_output=True, text=True,
                         timeout=240, env=env, cwd="/")  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return [eval(line) for line in out.stdout.strip().splitlines()]  # noqa: S307 - our own output


def test_tensorflow_loads_rill_module(tmp_path):
    tf.saved_model.save(Looper(), str(tmp_path))
    sig_y, fn_y, keys = _run_tf(str(tmp_path), "looper")
    want = _looper_reference(np.array([1.0, -2.0, 0.5], np.float32), 3).tolist()
    assert sig_y == want and fn_y == want
    assert "scale/.ATTRIBUTES/VARIABLE_VALUE" in keys


def test_tensorflow_loads_rill_keras_model(tmp_path):
    model = _mlp()
    x = np.random.default_rng(2).normal(size=(3, 4)).astype(np.float32)
    tf.saved_model.save(model, str(tmp_path / "m"))
    np.save(tmp_path / "x.npy", x)
    (got,) = _run_tf(str(tmp_path / "m"), "keras", str(tmp_path / "x.npy"))
    np.testing.assert_allclose(np.array(got), model(x).numpy(), rtol=1e-5)


def test_model_export_export_archive_and_tfsm_layer(tmp_path):
    model = _mlp()
    x = np.random.default_rng(4).normal(size=(2, 4)).astype(np.float32)
    model.export(str(tmp_path / "exp"), verbose=False)
    loaded = tf.saved_model.load(str(tmp_path / "exp"))
    np.testing.assert_allclose(loaded.serve(x).numpy(), model(x).numpy(), rtol=1e-5)
    layer = keras.layers.TFSMLayer(str(tmp_path / "exp"), call_endpoint="serve")
    wrapped = keras.Sequential([keras.Input((4,)), layer])
    np.testing.assert_allclose(wrapped(x).numpy(), model(x).numpy(), rtol=1e-5)
    assert len(layer.weights) == 4

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("call", lambda t: model(t) * 2.0, [tf.TensorSpec([None, 4], tf.float32)])
    archive.add_variable_collection("extra", [model.weights[0]])
    archive.write_out(str(tmp_path / "arch"), verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / "arch"))
    np.testing.assert_allclose(reloaded.call(x).numpy(), 2 * model(x).numpy(), rtol=1e-5)
    np.testing.assert_allclose(reloaded.extra[0].numpy(), model.weights[0].numpy())
