"""keras.models.clone_model, to_json/model_from_json, save_model, Keras 3's evaluate
results for custom steps, load_model of registered custom layers, and KerasTensor's
tuple shape and string dtype. References: the original models' own outputs, and Keras 3
where noted (its behaviour, checked when this was written, is restated in each test)."""

import numpy as np
import pytest

import rill as tf

keras = tf.keras
L = keras.layers
X = np.random.default_rng(0).normal(size=(4, 4)).astype(np.float32)


def _functional():
    inp = keras.Input((4,), name="feat")
    h = L.Dense(3, name="d1")(inp)
    return keras.Model(inp, L.Dense(2, name="d2")(h + 1.0), name="fm")


def test_clone_functional_gives_fresh_layers_of_the_same_architecture():
    m = _functional()
    c = keras.models.clone_model(m)
    assert type(c).__name__ == "Functional" and c.name == "fm"
    assert [layer.name for layer in c.layers] == ["feat", "d1", "d2"]
    assert all(a is not b for a, b in zip(c.layers[1:], m.layers[1:]))
    assert not np.allclose(c.layers[1].kernel.numpy(), m.layers[1].kernel.numpy())
    c.set_weights(m.get_weights())  # same architecture: the weights fit and the outputs agree
    np.testing.assert_allclose(c(X).numpy(), m(X).numpy(), rtol=1e-6)


def test_clone_function_and_call_function():
    m = _functional()
    calls = []

    def call_function(op, *args, **kwargs):
        calls.append(op.name)
        return op(*args, **kwargs)

    shared = keras.models.clone_model(m, clone_function=lambda layer: layer,
                                      call_function=call_function)  # fmt: skip
    assert calls[0] == "d1" and calls[1].startswith("add") and calls[2] == "d2"  # ops too
    assert shared.layers[1] is m.layers[1]  # shared weights: the same outputs
    np.testing.assert_allclose(shared(X).numpy(), m(X).numpy(), rtol=1e-6)
    renamed = keras.models.clone_model(
        m, clone_function=lambda layer: L.Dense(layer.units, name=layer.name + "_c")
    )
    assert [layer.name for layer in renamed.layers] == ["feat", "d1_c", "d2_c"]


def test_clone_with_input_tensors():
    m = _functional()
    new_in = keras.Input((4,), name="other")
    c = keras.models.clone_model(m, input_tensors=new_in)
    assert c.inputs[0] is new_in
    with pytest.raises(ValueError, match="KerasTensor"):
        keras.models.clone_model(m, input_tensors=np.ones((1, 4)))


def test_clone_sequential():
    s = keras.Sequential([keras.Input((5,)), L.Dense(2, name="a"), L.Dense(1, name="b")],
                         name="sq")  # fmt: skip
    s.compile(optimizer="sgd", loss="mse")
    c = keras.models.clone_model(s)
    assert type(c) is keras.Sequential and c.name == "sq" and c.built and c.compiled
    assert [layer.name for layer in c.layers] == ["a", "b"] and c.inputs[0].shape == (None, 5)
    new_in = keras.Input((5,), name="newin")
    c2 = keras.models.clone_model(s, input_tensors=new_in)
    assert c2.inputs[0].name == "newin"
    with pytest.raises(ValueError, match="call_function"):
        keras.models.clone_model(s, call_function=lambda op, *a, **k: op(*a, **k))


def test_clone_recursive_clones_nested_models():
    inner = keras.Sequential([keras.Input((4,)), L.Dense(3)], name="inner")
    inp = keras.Input((4,))
    outer = keras.Model(inp, L.Dense(1)(inner(inp)))
    flat = keras.models.clone_model(outer)
    deep = keras.models.clone_model(outer, recursive=True)
    assert type(flat.layers[1]) is keras.Sequential and type(deep.layers[1]) is keras.Sequential
    assert deep.layers[1] is not inner and deep.layers[1].layers[0] is not inner.layers[0]


def test_to_json_and_model_from_json():
    m = _functional()
    text = m.to_json()
    import json

    cfg = json.loads(text)
    assert cfg["class_name"] == "Functional" and cfg["config"]["name"] == "fm"
    again = keras.models.model_from_json(text)
    assert [layer.name for layer in again.layers] == ["feat", "d1", "d2"]
    again.set_weights(m.get_weights())
    np.testing.assert_allclose(again(X).numpy(), m(X).numpy(), rtol=1e-6)


def test_save_model_function(tmp_path):
    pytest.importorskip("h5py")
    m = _functional()
    path = str(tmp_path / "m.keras")
    keras.models.save_model(m, path)
    back = keras.models.load_model(path)
    np.testing.assert_allclose(back(X).numpy(), m(X).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="extension"):
        keras.models.save_model(m, str(tmp_path / "m.bin"))


@keras.saving.register_keras_serializable(package="rill_tests")
class _Scale(L.Layer):
    """A registered layer whose get_config leaves out the base config (so its name)."""

    def __init__(self, factor=2.0):
        super().__init__()
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return x * self.w * self.factor

    def get_config(self):
        return {"factor": self.factor}


def test_load_model_with_registered_layer_that_drops_its_name(tmp_path):
    pytest.importorskip("h5py")
    # Keras 3 rebuilds such a layer under a fresh name and still wires the saved nodes
    _Scale(1.0)  # takes the first generated name, so the saved one differs from the reload's
    inp = keras.Input((4,))
    m = keras.Model(inp, L.Dense(2)(_Scale(3.0)(inp)))
    path = str(tmp_path / "reg.keras")
    m.save(path)
    back = keras.models.load_model(path)
    np.testing.assert_allclose(back(X).numpy(), m(X).numpy(), rtol=1e-6)


class _CustomStep(keras.Model):
    def test_step(self, data):
        x, y = data[0], data[1]
        y_pred = self(x, training=False)
        return {"zeta": tf.reduce_mean(tf.square(y_pred - y)), "alpha": tf.reduce_mean(y_pred),
                "loss": tf.reduce_mean(y)}  # fmt: skip


def test_evaluate_with_custom_test_step_returns_every_value():
    inp = keras.Input((4,))
    m = _CustomStep(inp, L.Dense(1)(inp))
    m.compile(optimizer="sgd", loss="mse")
    y = np.ones((4, 1), np.float32)
    logs = m.evaluate(X, y, verbose=0, return_dict=True)
    assert sorted(logs) == ["alpha", "loss", "zeta"]
    pred = m.predict(X, verbose=0)
    np.testing.assert_allclose(logs["alpha"], pred.mean(), rtol=1e-5)
    np.testing.assert_allclose(logs["zeta"], ((pred - y) ** 2).mean(), rtol=1e-5)
    # Keras 3: the model's metrics in order (the loss), then the other keys sorted
    values = m.evaluate(X, y, verbose=0)
    assert values == pytest.approx([logs["loss"], logs["alpha"], logs["zeta"]])
    assert m.test_on_batch(X, y) == pytest.approx(values)


def test_keras_tensor_shape_is_a_tuple_and_dtype_a_name():
    i = keras.Input((784,))
    assert type(i.shape) is tuple and i.shape == (None, 784)
    assert i.dtype == "float32" and isinstance(i.dtype, str) and i.ndim == 2
    j = keras.Input(shape=(None, 3), batch_size=4, dtype="int32")
    assert j.shape == (4, None, 3) and j.dtype == "int32"
    d = L.Dense(5)(i)
    assert d.shape == (None, 5) and d.dtype == "float32"
    assert "shape=(None, 784), dtype=float32" in repr(i)
