"""Graphs for TensorBoard's Graphs dashboard: graph_to_graph_def, tf.summary.graph and
tf.summary.trace_on / trace_export, read back with TensorBoard's own code."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import rill as tf
from rill.tracing.graph_def import graph_to_graph_def
from tests.summary.events import accumulator, only_file, raw_events

pytest.importorskip("google.protobuf")

from tensorboard.backend import process_graph  # noqa: E402
from tensorboard.compat.proto import config_pb2, graph_pb2  # noqa: E402
from tensorboard.plugins.graph import graph_util  # noqa: E402


def _function():
    v = tf.Variable(2.0, name="scale")

    @tf.function
    def f(x):
        y = tf.nn.relu(x * v + 1.0)
        if tf.reduce_sum(y) > 0:
            y = y * 2.0
        v.assign_add(1.0)
        return y

    return f, v


def test_graph_def_nodes_inputs_and_attrs():
    f, v = _function()
    graph = f.get_concrete_function(tf.constant([1.0, 2.0])).graph
    gd = graph_pb2.GraphDef.FromString(
        graph_to_graph_def(graph, add_shapes=True).SerializeToString()
    )
    nodes = {n.name: n for n in gd.node}
    assert len(nodes) == len(gd.node)  # unique names
    x = nodes["x"]
    assert x.op == "Placeholder" and x.attr["dtype"].type == 1
    assert [d.size for d in x.attr["shape"].shape.dim] == [2]
    var = nodes["scale"]
    assert var.op == "VarHandleOp" and var.attr["dtype"].type == 1
    reads = [n for n in gd.node if n.op == "ReadVariableOp"]
    assert reads and all(n.input == ["scale"] for n in reads)
    (mul,) = [n for n in gd.node if n.op == "Mul" and "/" not in n.name]
    assert set(mul.input) == {"x", reads[0].name} and mul.attr["T"].type == 1
    consts = [n for n in gd.node if n.op == "Const"]
    assert any(n.attr["value"].tensor.float_val == [1.0] for n in consts)
    assert nodes["If"].op == "If" and nodes["If"].attr["then_branch"].func.name == "If/then_branch"
    assert any(n.name.startswith("If/then_branch/") and n.op == "Mul" for n in gd.node)
    (assign,) = [n for n in gd.node if n.op == "AssignAddVariableOp"]
    assert assign.input[0] == "scale"
    # every input names a node of the graph
    for n in gd.node:
        for i in n.input:
            assert i.split(":")[0].lstrip("^") in nodes, (n.name, i)
    relu = [n for n in gd.node if n.op == "Relu"][0]
    assert [d.size for d in relu.attr["_output_shapes"].list.shape[0].dim] == [2]
    assert gd.versions.producer > 0
    # TensorBoard's own preparation of a graph for its UI accepts it
    process_graph.prepare_graph_for_ui(gd, limit_attr_size=1024, large_attrs_key="_too_large")


def test_summary_graph(tmp_path):
    f, _ = _function()
    graph = f.get_concrete_function(tf.constant([1.0, 2.0])).graph
    w = tf.summary.create_file_writer(str(tmp_path))
    assert not bool(tf.summary.graph(graph))  # no default writer
    with w.as_default():
        assert bool(tf.summary.graph(graph))
        gd = graph_to_graph_def(graph)
        assert bool(tf.summary.graph(gd))  # a GraphDef message works too

        @tf.function
        def inside():
            tf.summary.graph(graph)

        with pytest.raises(ValueError, match="graph context"):
            inside()
    w.close()
    graphs = [e for e in raw_events(only_file(tmp_path)) if e.WhichOneof("what") == "graph_def"]
    assert len(graphs) == 2 and all(e.step == 0 for e in graphs)
    run_graph = accumulator(tmp_path).Graph()
    assert {n.op for n in run_graph.node} >= {"Placeholder", "Mul", "Relu", "VarHandleOp"}


def test_trace_export(tmp_path):
    @tf.function
    def g(x):
        return tf.matmul(x, x) + 1.0

    g(tf.ones((2, 2)))  # traced before the trace starts: still collected when it runs

    @tf.function
    def h(x):
        return tf.tanh(x)

    w = tf.summary.create_file_writer(str(tmp_path))
    tf.summary.trace_on(graph=True)
    g(tf.ones((2, 2)))
    g(tf.ones((2, 2)))  # once
    t = threading.Thread(target=lambda: h(tf.ones(3)))  # every thread
    t.start()
    t.join()
    with w.as_default():
        tf.summary.trace_export("my_trace", step=3)
    with pytest.raises(ValueError, match="Must enable trace"):
        tf.summary.trace_export("again", step=0)
    tf.summary.trace_on()
    tf.summary.trace_off()  # discards
    w.close()
    acc = accumulator(tmp_path)
    assert acc.SummaryMetadata("my_trace").plugin_data.plugin_name == "graph_run_metadata_graph"
    assert acc.SummaryMetadata("my_trace").plugin_data.content == b"1"
    ((event),) = acc.Tensors("my_trace")
    assert event.step == 3
    meta = config_pb2.RunMetadata.FromString(event.tensor_proto.string_val[0])
    assert len(meta.function_graphs) == 2
    ops = [{n.op for n in fg.pre_optimization_graph.node} for fg in meta.function_graphs]
    assert "MatMul" in ops[0] and "Tanh" in ops[1]
    # what TensorBoard's graph plugin does with it
    merged = graph_util.merge_graph_defs([fg.pre_optimization_graph for fg in meta.function_graphs])
    process_graph.prepare_graph_for_ui(merged)
    assert len(merged.node) == sum(
        len(fg.pre_optimization_graph.node) for fg in meta.function_graphs
    )


def test_graph_def_of_loops_and_strings():
    @tf.function
    def f(n, s):
        i = tf.constant(0)
        acc = tf.constant(0.0)
        while i < n:
            acc += tf.cast(i, tf.float32)
            i += 1
        return acc, tf.strings.join([s, "!"])

    graph = f.get_concrete_function(tf.constant(3), tf.constant("a")).graph
    gd = graph_pb2.GraphDef.FromString(graph_to_graph_def(graph).SerializeToString())
    ops = {n.op for n in gd.node}
    assert "While" in ops and any(n.name.startswith("While/body_graph/") for n in gd.node)
    consts = [n for n in gd.node if n.op == "Const" and n.attr["dtype"].type == 7]
    assert any(list(n.attr["value"].tensor.string_val) == [b"!"] for n in consts)
    np.testing.assert_equal(len({n.name for n in gd.node}), len(gd.node))
