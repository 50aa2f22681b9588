"""SavedModels for TF1-style loaders (the saver restore graph) and the export of rill's
``Scan`` (Keras RNNs, ``tf.scan``) as TF's ``While`` over TensorLists.

Without TensorFlow the rill side runs (the saver's structure, rill reloading its RNN and
scan exports against NumPy formulas); with it, TF 2.21 loads the directories, its
``saved_model_cli run`` restores the variables through ``SaverDef`` and prints rill's
values, and a TF1 session runs the save graph into a checkpoint TF reads back.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("google.protobuf")

import rill as tf  # noqa: E402
from rill import keras  # noqa: E402
from rill.saved_model.load import read_saved_model  # noqa: E402


class Affine(tf.Module):
    def __init__(self):
        super().__init__()
        self.w = tf.Variable([[1.0, -2.0], [0.5, 3.0]])
        self.b = tf.Variable([0.25, -1.0])

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="x")])
    def __call__(self, x):
        return {"y": tf.matmul(x, self.w) + self.b}


class Scanner(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="xs")])
    def run(self, xs):
        fwd = tf.scan(lambda a, x: a + x, xs)
        back = tf.scan(lambda a, x: a * 0.5 + x, xs, reverse=True)
        return {"fwd": fwd, "back": back}


class XentGradient(tf.Module):
    """A signature that returns gradients: the cross-entropies' backprop outputs must be
    written as TF's ops (they have the same two outputs)."""

    labels = np.array([1, 3, 0], np.int32)

    def __init__(self):
        super().__init__()
        self.w = tf.Variable(_x((2, 4), 9))

    @tf.function(input_signature=[tf.TensorSpec([3, 2], tf.float32, name="x")])
    def run(self, x):
        with tf.GradientTape(persistent=True) as tape:
            logits = tf.matmul(x, self.w)
            sparse = tf.nn.sparse_softmax_cross_entropy_with_logits(self.labels, logits)
            dense = tf.nn.softmax_cross_entropy_with_logits(
                np.eye(4, dtype="f")[self.labels], logits
            )
            loss, dense_loss = tf.reduce_mean(sparse), tf.reduce_mean(dense)
        return {"dw": tape.gradient(loss, self.w), "dense_dw": tape.gradient(dense_loss, self.w)}


def _xent_gradient_reference(x, w, labels):
    z = x @ w
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    return x.T @ p / len(labels)


def _scanner_reference(xs):
    fwd = np.cumsum(xs, axis=0)
    back = np.zeros_like(xs)
    acc = None
    for i in range(len(xs) - 1, -1, -1):  # tf.scan without initializer starts from xs[-1]
        acc = xs[i] if acc is None else acc * 0.5 + xs[i]
        back[i] = acc
    return fwd, back


def _rnn_model():
    keras.utils.set_random_seed(3)
    return keras.Sequential(
        [
            keras.Input((5, 3)),
            keras.layers.LSTM(4, return_sequences=True),
            keras.layers.GRU(2, go_backwards=True),
        ]
    )


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


# -- rill side (no TensorFlow) ----------------------------------------------------------------


def test_saver_def_names_restore_graph_over_every_variable(tmp_path):
    tf.saved_model.save(Affine(), str(tmp_path))
    meta = read_saved_model(str(tmp_path)).meta_graphs[0]
    sd = meta.saver_def
    assert sd.version == 2 and sd.filename_tensor_name == "saver_filename:0"
    nodes = {n.name: n for n in meta.graph_def.node}
    assert nodes["saver_filename"].op == "Placeholder"
    restore = nodes[sd.restore_op_name]
    save = nodes[sd.save_tensor_name.split(":")[0]]
    handles = [nodes[i] for i in restore.input[1:]]
    assert [h.op for h in handles] == ["VarHandleOp"] * 2
    assert list(save.input[: len(restore.input)]) == list(restore.input)
    fdefs = {f.signature.name: f for f in meta.graph_def.library.function}
    (rv2,) = [n for n in fdefs[restore.attr["f"].func.name].node_def if n.op == "RestoreV2"]
    names_node = [n for n in fdefs[restore.attr["f"].func.name].node_def
                  if n.name == rv2.input[1].split(":")[0]][0]  # fmt: skip
    names = [s.decode() for s in names_node.attr["value"].tensor.string_val]
    # every key the restore graph reads is one the bundle holds
    in_bundle = {k for k, _ in tf.train.list_variables(str(tmp_path / "variables/variables"))}
    assert set(names) == in_bundle
    assert {"w/.ATTRIBUTES/VARIABLE_VALUE", "b/.ATTRIBUTES/VARIABLE_VALUE"} <= set(names)


def test_skip_saver_option_writes_no_saver(tmp_path):
    opts = tf.saved_model.SaveOptions(experimental_skip_saver=True)
    tf.saved_model.save(Affine(), str(tmp_path), options=opts)
    meta = read_saved_model(str(tmp_path)).meta_graphs[0]
    assert not meta.HasField("saver_def")


def test_scan_export_round_trips_in_rill(tmp_path):
    tf.saved_model.save(Scanner(), str(tmp_path))
    loaded = tf.saved_model.load(str(tmp_path))
    xs = _x((4, 3), 1)
    got = loaded.signatures["serving_default"](xs=xs)
    want_fwd, want_back = _scanner_reference(xs)
    np.testing.assert_allclose(got["fwd"].numpy(), want_fwd, rtol=1e-6)
    np.testing.assert_allclose(got["back"].numpy(), want_back, rtol=1e-6)


def test_scan_is_written_as_while_over_tensor_lists(tmp_path):
    tf.saved_model.save(Scanner(), str(tmp_path))
    meta = read_saved_model(str(tmp_path)).meta_graphs[0]
    ops = {n.op for f in meta.graph_def.library.function for n in f.node_def}
    assert {"While", "TensorListFromTensor", "TensorListReserve", "TensorListGetItem",
            "TensorListSetItem", "TensorListStack"} <= ops  # fmt: skip
    assert "Scan" not in ops


def test_gradient_of_sparse_cross_entropy_exports_and_round_trips(tmp_path):
    m = XentGradient()
    tf.saved_model.save(m, str(tmp_path / "m"), signatures=m.run)
    x = _x((3, 2), 10)
    sig = tf.saved_model.load(str(tmp_path / "m")).signatures["serving_default"]
    want = _xent_gradient_reference(x, m.w.numpy(), m.labels)
    out = sig(x=tf.constant(x))
    np.testing.assert_allclose(out["dw"].numpy(), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["dense_dw"].numpy(), want, rtol=1e-5, atol=1e-6)


def test_keras_rnn_export_round_trips_in_rill(tmp_path):
    model = _rnn_model()
    x = _x((2, 5, 3))
    tf.saved_model.save(model, str(tmp_path))
    sig = tf.saved_model.load(str(tmp_path)).signatures["serving_default"]
    (key,) = sig.structured_input_signature[1]
    np.testing.assert_allclose(sig(**{key: x})["output_0"].numpy(), model(x).numpy(), rtol=1e-5)


def test_rnn_export_matches_numpy_simple_rnn(tmp_path):
    # an independent reference: SimpleRNN's recurrence written in NumPy
    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input((6, 2)), keras.layers.SimpleRNN(3)])
    x = _x((4, 6, 2), 2)
    tf.saved_model.save(model, str(tmp_path))
    sig = tf.saved_model.load(str(tmp_path)).signatures["serving_default"]
    (key,) = sig.structured_input_signature[1]
    k, rk, b = [v.numpy() for v in model.weights]
    h = np.zeros((4, 3), np.float32)
    for t in range(6):
        h = np.tanh(x[:, t] @ k + h @ rk + b)
    np.testing.assert_allclose(sig(**{key: x})["output_0"].numpy(), h, rtol=1e-5, atol=1e-6)


# -- TensorFlow loads and runs what rill wrote -------------------------------------------------


def _tf_env():
    pytest.importorskip("tensorflow")  # skip cleanly without TF
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("PYTHONPATH", None)  # TF's own process, without rill on the path
    return env


def _saved_model_cli():
    exe = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    if not os.path.isfile(exe):
        pytest.skip("saved_model_cli is not installed next to this Python")
    return exe


def _cli_run(path, inputs: dict, outdir):
    spec = ";".join(f"{k}={v}" for k, v in inputs.items())
    cmd = [_saved_model_cli(), "run", "--dir", str(path), "--tag_set", "serve",
           "--signature_def", "serving_default", "--inputs", spec, "--outdir", str(outdir)]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=_tf_env(), cwd="/")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Result for output key" in out.stdout
    return out.stdout


def test_saved_model_cli_run_restores_module_variables(tmp_path):
    m = Affine()
    tf.saved_model.save(m, str(tmp_path / "m"))
    x = _x((3, 2), 4)
    np.save(tmp_path / "x.npy", x)
    _cli_run(tmp_path / "m", {"x": tmp_path / "x.npy"}, tmp_path / "out")
    got = np.load(tmp_path / "out" / "y.npy")
    w = np.array([[1.0, -2.0], [0.5, 3.0]], np.float32)
    np.testing.assert_allclose(got, x @ w + np.array([0.25, -1.0], np.float32), rtol=1e-6)


def test_saved_model_cli_run_keras_rnn(tmp_path):
    model = _rnn_model()
    x = _x((2, 5, 3), 6)
    tf.saved_model.save(model, str(tmp_path / "m"))
    np.save(tmp_path / "x.npy", x)
    sig = tf.saved_model.load(str(tmp_path / "m")).signatures["serving_default"]
    (key,) = sig.structured_input_signature[1]
    _cli_run(tmp_path / "m", {key: tmp_path / "x.npy"}, tmp_path / "out")
    got = np.load(tmp_path / "out" / "output_0.npy")
    np.testing.assert_allclose(got, model(x).numpy(), rtol=1e-5, atol=1e-6)


_TF_SCRIPT = r"""
import sys, numpy as np, tensorflow as tf
path, mode = sys.argv[1], sys.argv[2]
if mode == "tf2":
    sig = tf.saved_model.load(path).signatures["serving_default"]
    (key,) = sig.structured_input_signature[1]
    out = sig(**{key: tf.constant(np.load(sys.argv[3]))})
    for k in sorted(out):
        np.save(sys.argv[4] + "/" + k + ".npy", out[k].numpy())
else:  # TF1: restore through the SaverDef, then save through it into a new checkpoint
    tf.compat.v1.disable_eager_execution()
    with tf.compat.v1.Session(graph=tf.Graph()) as sess:
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
        sd = meta.saver_def
        sess.run(sd.save_tensor_name, {sd.filename_tensor_name: sys.argv[3]})
    reader = tf.train.load_checkpoint(sys.argv[3])
    for k in sorted(reader.get_variable_to_shape_map()):
        if k != "_CHECKPOINTABLE_OBJECT_GRAPH":
            np.save(sys.argv[4] + "/" + k.split("/")[0] + ".npy", reader.get_tensor(k))
"""


def _run_tf(*args):
    env = _tf_env()
    out = subprocess.run([sys.executable, "-c", _TF_SCRIPT, *map(str, args)],
                         capture_output=True, text=True, timeout=300, env=env, cwd="/")  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]


def test_tensorflow_runs_rill_rnn_and_scan_exports(tmp_path):
    model = _rnn_model()
    x = _x((3, 5, 3), 7)
    tf.saved_model.save(model, str(tmp_path / "rnn"))
    np.save(tmp_path / "x.npy", x)
    (tmp_path / "o1").mkdir()
    _run_tf(tmp_path / "rnn", "tf2", tmp_path / "x.npy", tmp_path / "o1")
    np.testing.assert_allclose(np.load(tmp_path / "o1" / "output_0.npy"), model(x).numpy(),
                               rtol=1e-5, atol=1e-6)  # fmt: skip

    tf.saved_model.save(Scanner(), str(tmp_path / "scan"))
    xs = _x((5, 3), 8)
    np.save(tmp_path / "xs.npy", xs)
    (tmp_path / "o2").mkdir()
    _run_tf(tmp_path / "scan", "tf2", tmp_path / "xs.npy", tmp_path / "o2")
    fwd, back = _scanner_reference(xs)
    np.testing.assert_allclose(np.load(tmp_path / "o2" / "fwd.npy"), fwd, rtol=1e-6)
    np.testing.assert_allclose(np.load(tmp_path / "o2" / "back.npy"), back, rtol=1e-6)


def test_tensorflow_runs_rill_exported_gradient(tmp_path):
    m = XentGradient()
    tf.saved_model.save(m, str(tmp_path / "m"), signatures=m.run)
    x = _x((3, 2), 11)
    np.save(tmp_path / "x.npy", x)
    (tmp_path / "o").mkdir()
    _run_tf(tmp_path / "m", "tf2", tmp_path / "x.npy", tmp_path / "o")
    want = _xent_gradient_reference(x, m.w.numpy(), m.labels)
    np.testing.assert_allclose(np.load(tmp_path / "o" / "dw.npy"), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.load(tmp_path / "o" / "dense_dw.npy"), want, rtol=1e-5, atol=1e-6)


def test_tf1_session_saves_through_saver_def(tmp_path):
    m = Affine()
    m.w.assign([[2.0, 0.0], [1.0, -1.0]])  # values TF must restore, then save again
    tf.saved_model.save(m, str(tmp_path / "m"))
    (tmp_path / "o").mkdir()
    (tmp_path / "ckpt").mkdir()  # SaveV2 writes into an existing folder (tf.train.Saver makes it)
    _run_tf(tmp_path / "m", "tf1", tmp_path / "ckpt" / "saved", tmp_path / "o")
    np.testing.assert_array_equal(np.load(tmp_path / "o" / "w.npy"), [[2.0, 0.0], [1.0, -1.0]])
    np.testing.assert_array_equal(np.load(tmp_path / "o" / "b.npy"), [0.25, -1.0])
