"""tf.import_graph_def: a GraphDef's nodes run with rill ops (built here by hand, and
written by TensorFlow where it is installed), against NumPy."""

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

import rill as tf

pytest.importorskip("google.protobuf")
from rill.saved_model.protos import classes  # noqa: E402


def _node(gd, name, op, inputs=(), **attrs):
    n = gd.node.add(name=name, op=op)
    n.input.extend(inputs)
    for k, v in attrs.items():
        if k == "value":
            n.attr[k].tensor.CopyFrom(tf.make_tensor_proto(v))
        elif k in ("T", "dtype"):
            n.attr[k].type = v.as_datatype_enum
        else:
            n.attr[k].b = v
    return n


def _mlp_graph(w):
    gd = classes()["GraphDef"]()
    _node(gd, "x", "Placeholder", dtype=tf.float32)
    _node(gd, "w", "Const", value=w, dtype=tf.float32)
    _node(gd, "mm", "MatMul", ["x", "w"], T=tf.float32, transpose_a=False, transpose_b=False)
    _node(gd, "one", "Const", value=np.float32(1.0), dtype=tf.float32)
    _node(gd, "add", "AddV2", ["mm", "one"], T=tf.float32)
    _node(gd, "relu", "Relu", ["add"], T=tf.float32)
    _node(gd, "out", "Identity", ["relu"], T=tf.float32)
    return gd


def test_a_hand_built_graph_runs_on_fed_inputs():
    w = np.array([[1.0, 2.0], [3.0, -4.0]], np.float32)
    x = np.array([[1.0, 1.0], [2.0, -1.0]], np.float32)
    gd = _mlp_graph(w)
    (y,) = tf.import_graph_def(gd, input_map={"x:0": x}, return_elements=["out:0"])
    np.testing.assert_allclose(y.numpy(), np.maximum(x @ w + 1.0, 0.0))
    # feeding an inner tensor replaces it (everything upstream is ignored)
    (y2,) = tf.import_graph_def(
        gd,
        input_map={"x": x, "add:0": np.full((2, 2), -1.0, np.float32)},
        return_elements=["out:0"],
    )
    assert (y2.numpy() == 0).all()
    assert tf.graph_util.import_graph_def is tf.import_graph_def
    assert tf.import_graph_def(gd, input_map={"x:0": x}) is None


def test_errors_name_the_problem():
    gd = _mlp_graph(np.eye(2, dtype=np.float32))
    with pytest.raises(ValueError, match="placeholder 'x' is not fed"):
        tf.import_graph_def(gd)
    with pytest.raises(ValueError, match="not in the graph"):
        tf.import_graph_def(
            gd, input_map={"x:0": np.eye(2, dtype=np.float32)}, return_elements=["nope:0"]
        )
    _node(gd, "weird", "SomeOpTfHasButRillDoesNot", ["x"])
    with pytest.raises(ValueError, match="SomeOpTfHasButRillDoesNot"):
        tf.import_graph_def(gd, input_map={"x:0": np.eye(2, dtype=np.float32)})


@pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="TensorFlow not installed"
)
def test_a_graph_written_by_tensorflow(tmp_path):
    path = tmp_path / "g.pb"
    script = f"""
import numpy as np, tensorflow as tf
@tf.function
def f(x):
    h = tf.nn.relu(tf.matmul(x, tf.constant([[1., 2.], [3., -4.]])) + 1.0)
    return tf.reduce_sum(tf.tanh(h), axis=1), tf.reduce_max(x)
gd = f.get_concrete_function(tf.TensorSpec([None, 2], tf.float32)).graph.as_graph_def()
open({str(path)!r}, "wb").write(gd.SerializeToString())
x = tf.constant([[1., 1.], [2., -1.], [0.5, 0.25]])
print([np.round(v.numpy(), 5).tolist() for v in f(x)])
"""
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-1500:]
    want = r.stdout.strip().splitlines()[-1]
    gd = classes()["GraphDef"].FromString(path.read_bytes())
    x = np.array([[1.0, 1.0], [2.0, -1.0], [0.5, 0.25]], np.float32)
    outs = tf.import_graph_def(
        gd, input_map={"x:0": x}, return_elements=["Identity:0", "Identity_1:0"]
    )
    assert str([np.round(v.numpy(), 5).tolist() for v in outs]) == want
