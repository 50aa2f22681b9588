"""``tf.Module``: naming, name scopes, and how variables and submodules are found."""

import importlib.util

import pytest

import rill as tf

HAS_TF = importlib.util.find_spec("tensorflow") is not None


def _tree(lib):
    """The same module structure, built with ``lib`` (rill or TensorFlow)."""

    class Net(lib.Module):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.z = lib.Variable(1.0, name="z")
            self.a = [
                lib.Variable(2.0, name="a0", trainable=False),
                {"y": lib.Variable(3.0, name="y"), "b": lib.Variable(4.0, name="b")},
            ]
            self.sub = lib.Module(name="inner")
            self.sub.w = lib.Variable([1.0, 2.0], name="w")
            self.sub.deep = lib.Module(name="deep")
            self.sub.deep.q = lib.Variable(0, name="q")
            self.c = (self.z, lib.Module(name="t"))  # z again: reported once

    return Net()


def _summary(m):
    return (
        m.name,
        [v.name for v in m.variables],
        [v.name for v in m.trainable_variables],
        [v.name for v in m.non_trainable_variables],
        [s.name for s in m.submodules],
    )


def test_exported_at_top_level():
    from rill.core.module import Module

    assert tf.Module is Module


def test_variables_and_submodules_order():
    m = _tree(tf)
    name, variables, trainable, non_trainable, subs = _summary(m)
    assert name == "net"
    # attributes in sorted order (a, c, sub, z), dict entries by sorted key, then submodules
    assert variables == ["a0:0", "b:0", "y:0", "z:0", "w:0", "q:0"]
    assert trainable == ["b:0", "y:0", "z:0", "w:0", "q:0"]
    assert non_trainable == ["a0:0"]
    assert subs == ["t", "inner", "deep"]
    assert isinstance(m.variables, tuple) and isinstance(m.submodules, tuple)


@pytest.mark.skipif(not HAS_TF, reason="TensorFlow not installed")
def test_order_matches_tensorflow():
    import tensorflow

    assert _summary(_tree(tf)) == _summary(_tree(tensorflow))


def test_empty_module_and_cycles():
    m = tf.Module()
    assert m.name == "module"
    assert m.variables == () and m.submodules == () and m.trainable_variables == ()
    m.me = [m]
    m.child = tf.Module(name="child")
    m.child.parent = m
    m.child.v = tf.Variable(1.0)
    assert [s.name for s in m.submodules] == ["child"]
    assert len(m.variables) == 1


def test_default_names_are_snake_case():
    class CamelCaseHTTPThing(tf.Module):
        pass

    assert CamelCaseHTTPThing().name == "camel_case_http_thing"


@pytest.mark.parametrize("bad", ["a b", "1x", "", "a/b"])
def test_invalid_names(bad):
    with pytest.raises(ValueError, match="is not a valid module name"):
        tf.Module(name=bad)


def test_name_scope():
    m = tf.Module(name="m")
    assert m.name_scope.name == "m/"
    with m.name_scope as scope:
        assert scope == "m/"
    with tf.name_scope("outer"):
        inner = tf.Module(name="inner")
    assert inner.name == "inner" and inner.name_scope.name == "outer/inner/"
    with inner.name_scope:
        with m.name_scope as scope:  # a module's scope is absolute
            assert scope == "m/"
        with tf.name_scope("x") as scope:
            assert scope == "outer/inner/x/"
    with tf.name_scope("y") as scope:
        assert scope == "y/"  # the scope stack is restored


def test_with_name_scope():
    seen = []

    class M(tf.Module):
        @tf.Module.with_name_scope
        def __call__(self, x):
            with tf.name_scope("op") as s:
                seen.append(s)
            return x * 2

    m = M(name="mm")
    assert float(m(tf.constant(2.0))) == 4.0
    assert seen == ["mm/op/"]


def test_keras_layers_are_not_modules():
    # as in TF 2.16+ (Keras 3): a layer held by a module is not walked by `variables`
    m = tf.Module()
    m.layer = tf.keras.layers.Dense(2)
    m.layer.build((None, 3))
    m.v = tf.Variable(1.0)
    assert len(m.variables) == 1
