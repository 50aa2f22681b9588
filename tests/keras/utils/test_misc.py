"""Config, pack/unpack, set_random_seed, get_source_inputs, re-exports, legacy
serialization, model_to_dot (with a recording stand-in for pydot)."""

import random
import sys
import types

import numpy as np
import pytest

import rill as tf
from rill.keras import utils


def test_reexports_are_the_saving_objects():
    from rill.keras import saving

    for name in (
        "CustomObjectScope",
        "custom_object_scope",
        "get_custom_objects",
        "register_keras_serializable",
        "serialize_keras_object",
        "deserialize_keras_object",
        "get_registered_name",
        "get_registered_object",
    ):
        assert getattr(utils, name) is getattr(saving, name)
    assert utils.clear_session is tf.keras.backend.clear_session
    assert utils.standardize_dtype(float) == "float32" and utils.standardize_dtype("int") == "int64"


def test_config_attribute_and_item_access_and_freeze():
    c = utils.Config(learning_rate=0.1)
    c.seed = 3
    c["momentum"] = 0.9
    assert c.learning_rate == 0.1 and c["seed"] == 3 and len(c) == 3
    assert list(c) == ["learning_rate", "momentum", "seed"]
    assert c.as_dict() == {"learning_rate": 0.1, "seed": 3, "momentum": 0.9}
    c.freeze()
    with pytest.raises(ValueError, match="frozen"):
        c.x = 1
    with pytest.raises(AttributeError, match="Did you mean 'seed'"):
        _ = c.seeds
    c.unfreeze()
    del c["seed"]
    assert "seed" not in c and c.to_json() == '{"learning_rate": 0.1, "momentum": 0.9}'


def test_pack_unpack_round_trip():
    x, y, w = np.zeros(2), np.ones(2), np.full(2, 0.5)
    assert utils.unpack_x_y_sample_weight(x)[1:] == (None, None)
    assert utils.unpack_x_y_sample_weight([x, y])[2] is None
    assert utils.unpack_x_y_sample_weight(utils.pack_x_y_sample_weight(x, y, w))[2] is w
    assert utils.pack_x_y_sample_weight([x, y]) == ([x, y],)
    with pytest.raises(ValueError, match="sample_weight"):
        utils.unpack_x_y_sample_weight((x, y, w, w))


def test_set_random_seed_repeats_every_source():
    def draw():
        return (
            random.random(),
            np.random.rand(),
            float(tf.random.uniform([]).numpy()),
            float(tf.keras.random.uniform([]).numpy()),
        )

    utils.set_random_seed(7)
    first = draw()
    utils.set_random_seed(7)
    assert draw() == first
    with pytest.raises(ValueError, match="integer"):
        utils.set_random_seed(1.5)


def test_get_source_inputs_walks_back_to_inputs():
    a, b = tf.keras.Input((3,)), tf.keras.Input((3,))
    h = tf.keras.layers.Dense(2)(a)
    out = tf.keras.layers.Add()([h, tf.keras.layers.Dense(2)(b)])
    assert [t is s for t, s in zip(utils.get_source_inputs(out), [a, b])] == [True, True]
    assert utils.get_source_inputs(a)[0] is a
    assert utils.is_keras_tensor(out) and not utils.is_keras_tensor(np.zeros(1))


def test_legacy_serialization_round_trip():
    layer = tf.keras.layers.Dense(3, activation="relu", name="d")
    config = utils.legacy.serialize_keras_object(layer)
    assert config["class_name"] == "Dense" and config["config"]["units"] == 3
    back = utils.legacy.deserialize_keras_object(
        config, module_objects={"Dense": tf.keras.layers.Dense}
    )
    assert isinstance(back, tf.keras.layers.Dense) and back.units == 3 and back.name == "d"
    with pytest.raises(ValueError, match="Unknown object: 'Nope'"):
        utils.legacy.deserialize_keras_object({"class_name": "Nope", "config": {}})


def _fake_pydot():
    """A stand-in for pydot that records what model_to_dot builds."""
    mod = types.ModuleType("pydot")

    class Graph:
        def __init__(self, *a, **k):
            self.nodes, self.edges, self.attrs, self.subgraphs = [], [], dict(k), []

        def set(self, key, value):
            self.attrs[key] = value

        def set_node_defaults(self, **k):
            self.attrs["node_defaults"] = k

        def add_node(self, n):
            self.nodes.append(n)

        def add_edge(self, e):
            self.edges.append(e)

        def add_subgraph(self, g):
            self.subgraphs.append(g)

    class Node:
        def __init__(self, name, label=""):
            self.name, self.label = name, label

        def set(self, *a):
            pass

    class Edge(Node):
        def __init__(self, src, dst):
            self.src, self.dst = src, dst

    mod.Dot, mod.Cluster, mod.Node, mod.Edge = Graph, Graph, Node, Edge
    return mod


def test_model_to_dot_has_a_node_per_layer_and_an_edge_per_connection(monkeypatch):
    monkeypatch.setitem(sys.modules, "pydot", _fake_pydot())
    inp = tf.keras.Input((4,), name="x")
    d1 = tf.keras.layers.Dense(3, name="d1")
    d2 = tf.keras.layers.Dense(2, name="d2")
    h = d1(inp)
    model = tf.keras.Model(inp, tf.keras.layers.Concatenate(name="c")([h, d2(h)]))
    dot = utils.model_to_dot(model, show_shapes=True)
    names = {n.name for n in dot.nodes}
    assert len(dot.nodes) == 4
    edges = {(e.src, e.dst) for e in dot.edges}
    layer = {ly.name: str(id(ly)) for ly in model.layers}
    src = str(id(inp._keras_history[0]))
    assert edges == {(src, layer["d1"]), (layer["d1"], layer["d2"]),
                     (layer["d1"], layer["c"]), (layer["d2"], layer["c"])}  # fmt: skip
    assert names >= set(layer.values())
    assert any("(None, 3)" in n.label for n in dot.nodes)


def test_model_to_dot_without_pydot_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pydot", None)
    model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
    with pytest.raises(ImportError, match="pip install pydot"):
        utils.plot_model(model)
