"""Graph introspection as TF's guides use it: ConcreteFunction.graph is a tf.Graph with
operations, tensors by name ("Identity:0"), a GraphDef and a FunctionDef; tf.Graph with
as_default(); function_type and pretty_printed_concrete_signatures."""

from __future__ import annotations

import numpy as np
import pytest

import rill as tf

pytest.importorskip("google.protobuf")


def _fn():
    @tf.function
    def h(x, n=2):
        return tf.sin(x) * n, x

    return h


def test_graph_is_a_tf_graph_with_named_outputs():
    cf = _fn().get_concrete_function(tf.TensorSpec([3], tf.float32))
    g = cf.graph
    assert isinstance(g, tf.Graph) and isinstance(g.get_operations()[0], tf.Operation)
    out0, out1 = g.get_tensor_by_name("Identity:0"), g.get_tensor_by_name("Identity_1:0")
    assert [out0, out1] == cf.outputs
    assert g.get_operation_by_name("Identity").type == "Identity"
    assert g.get_tensor_by_name("x:0") is cf.inputs[0]
    with pytest.raises(KeyError, match="not in the graph"):
        g.get_operation_by_name("nope")
    with pytest.raises(ValueError, match="Tensor name"):
        g.get_tensor_by_name("Identity")
    with pytest.raises(KeyError, match="only has 1 outputs"):
        g.get_tensor_by_name("Identity:3")
    # the identities cost nothing and change no values
    x = np.array([0.1, 0.2, 0.3], np.float32)
    a, b = cf(tf.constant(x))
    np.testing.assert_allclose(a.numpy(), np.sin(x) * 2, rtol=1e-6)
    np.testing.assert_array_equal(b.numpy(), x)


def test_graph_def_and_node_def():
    cf = _fn().get_concrete_function(tf.TensorSpec([3], tf.float32))
    gd = cf.graph.as_graph_def()
    ops = {n.name: n.op for n in gd.node}
    assert ops["x"] == "Placeholder" and ops["Sin"] == "Sin"
    assert ops["Identity"] == "Identity" and ops["Identity_1"] == "Identity"
    node = cf.graph.get_operation_by_name("Sin").node_def
    assert node.op == "Sin" and list(node.input) == ["x"]


def test_function_def_matches_tensorflow_layout():
    cf = _fn().get_concrete_function(tf.TensorSpec([3], tf.float32))
    fd = cf.function_def
    assert fd.signature.name.startswith("__inference_h_")
    assert [a.name for a in fd.signature.input_arg] == ["x"]
    assert [a.name for a in fd.signature.output_arg] == ["identity", "identity_1"]
    assert dict(fd.ret) == {"identity": "Identity:output:0", "identity_1": "Identity_1:output:0"}
    assert sum(n.op == "Identity" for n in fd.node_def) == 2
    tft = pytest.importorskip("tensorflow")

    @tft.function
    def h(x, n=2):
        return tft.sin(x) * n, x

    theirs = h.get_concrete_function(tft.TensorSpec([3], tft.float32)).function_def
    assert [a.name for a in theirs.signature.input_arg] == ["x"]
    assert dict(theirs.ret) == dict(fd.ret)
    assert [a.type for a in theirs.signature.output_arg] == [
        a.type for a in fd.signature.output_arg
    ]


def test_function_type_and_pretty_signatures():
    h = _fn()
    cf = h.get_concrete_function(tf.TensorSpec([3], tf.float32))
    ft = cf.function_type
    assert isinstance(ft, tf.types.experimental.FunctionType)
    assert list(ft.parameters) == ["x", "n"]
    assert "TensorSpec(shape=(3,)" in str(ft.parameters["x"].annotation)
    assert str(ft.parameters["n"].annotation) == "Literal[2]"
    h(tf.constant(1.0))
    text = h.pretty_printed_concrete_signatures()
    assert text.count("Input Parameters:") == 2 and "\n\n" in text
    assert "x (POSITIONAL_OR_KEYWORD): TensorSpec(shape=(), dtype=tf.float32" in text
    assert h.experimental_get_tracing_count() == 2


def test_tf_graph_as_default_builds_symbolic_ops():
    g = tf.Graph()
    with g.as_default():
        c = tf.constant([1.0, 2.0])
        d = tf.square(c)
    assert [op.type for op in g.get_operations()] == ["Const", "Square"]
    assert d.graph is g and d.shape == (2,)
    assert g.get_tensor_by_name(d.name) is d
    assert [n.op for n in g.as_graph_def().node] == ["Const", "Square"]
