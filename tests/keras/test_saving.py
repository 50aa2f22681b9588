"""keras.saving: the registry, config (de)serialization, .keras / .weights.h5 round trips."""

import json
import os
import sys
import threading
import warnings
import zipfile

import numpy as np
import pytest

import rill as tf
from rill import keras
from rill.keras import activations, initializers, layers, losses, metrics, optimizers, saving
from rill.keras.saving import saving_lib, serialization_lib

pytest.importorskip("h5py")

X = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
Y = np.random.default_rng(1).normal(size=(16, 2)).astype("float32")


def make_model(compiled=True):
    model = keras.Sequential(
        [
            keras.Input((4,)),
            layers.Dense(8, activation="relu"),
            layers.Dropout(0.25),
            layers.Reshape((2, 4)),
            layers.Flatten(),
            layers.Activation("tanh"),
            layers.Dense(2),
        ]
    )
    if compiled:
        model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
    return model


@pytest.fixture(autouse=True)
def clean_registry():
    before = dict(saving.get_custom_objects())
    yield
    saving.get_custom_objects().clear()
    saving.get_custom_objects().update(before)


# ------------------------------------------------------------------------- round trips
def test_keras_file_round_trip_predicts_identically(tmp_path):
    model = make_model()
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        meta = json.loads(zf.read("metadata.json"))
        config = json.loads(zf.read("config.json"))
    assert meta["keras_version"] == tf.__rill_version__ and "date_saved" in meta
    assert config["class_name"] == "Sequential" and config["module"] == "keras"
    assert config["config"]["layers"][0]["class_name"] == "InputLayer"
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
    loaded = saving.load_model(path)
    assert [type(x) for x in loaded.layers] == [type(x) for x in model.layers]
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert int(loaded.optimizer.iterations.numpy()) == 4


def test_training_continues_exactly_after_load(tmp_path):
    def model():
        m = keras.Sequential(
            [keras.Input((4,)), layers.Dense(5, activation="tanh"), layers.Dense(2)]
        )
        m.compile(optimizer="adam", loss="mse")
        return m

    a = model()
    a.fit(X, Y, epochs=2, batch_size=4, verbose=0, shuffle=False)
    a.save(tmp_path / "a.keras")
    b = keras.models.load_model(tmp_path / "a.keras")
    a.fit(X, Y, epochs=2, batch_size=4, verbose=0, shuffle=False)
    b.fit(X, Y, epochs=2, batch_size=4, verbose=0, shuffle=False)
    for va, vb in zip(a.weights, b.weights):
        np.testing.assert_array_equal(va.numpy(), vb.numpy())


def test_load_model_without_compile(tmp_path):
    model = make_model()
    model.fit(X, Y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = saving.load_model(tmp_path / "m.keras", compile=False)
    assert not getattr(loaded, "_compiled", False)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


def test_weights_round_trip_and_layout(tmp_path):
    import h5py

    model = make_model()
    model.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    with h5py.File(path) as f:
        assert f["vars"].attrs["name"] == model.name
        assert f["layers/dense/vars/0"].shape == (4, 8)
        assert f["layers/dense_1/vars/1"].shape == (2,)
        assert "layers/dropout/vars" in f and len(f["layers/dropout/vars"]) == 0
        assert f["optimizer/vars/0"][()] == model.optimizer.iterations.numpy()
        assert len(f["optimizer/vars"]) == len(model.optimizer.variables)
    other = make_model()
    other.optimizer.build(other.trainable_variables)
    other.load_weights(path)
    np.testing.assert_array_equal(other.predict(X, verbose=0), model.predict(X, verbose=0))
    for a, b in zip(model.optimizer.variables, other.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_load_weights_from_keras_archive(tmp_path):
    model = make_model(compiled=False)
    model.save(tmp_path / "m.keras")
    other = make_model(compiled=False)
    other.load_weights(tmp_path / "m.keras")
    np.testing.assert_array_equal(other.predict(X, verbose=0), model.predict(X, verbose=0))


def test_subclassed_model_weights_use_attribute_paths(tmp_path):
    import h5py

    class Net(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.enc = layers.Dense(3)
            self.blocks = [layers.Dense(3), layers.Dense(2)]

        def call(self, x):
            x = self.enc(x)
            for b in self.blocks:
                x = b(x)
            return x

    net = Net()
    net(X)
    net.save_weights(tmp_path / "n.weights.h5")
    with h5py.File(tmp_path / "n.weights.h5") as f:
        assert {"enc/vars/0", "blocks/dense/vars/0", "blocks/dense_1/vars/1"} <= {
            n for n in _names(f)
        }
    twin = Net()
    twin(X)
    twin.load_weights(tmp_path / "n.weights.h5")
    np.testing.assert_array_equal(twin(X).numpy(), net(X).numpy())


def _names(f):
    out = []
    f.visit(out.append)
    return out


# ------------------------------------------------------------------------------ errors
def test_path_and_state_errors(tmp_path):
    model = make_model()
    with pytest.raises(ValueError, match="Invalid filepath extension"):
        model.save(tmp_path / "m.bin")
    with pytest.raises(ValueError, match="must end in `.weights.h5`"):
        model.save_weights(tmp_path / "m.h5")
    with pytest.raises(ValueError, match="File not found"):
        saving.load_model(tmp_path / "missing.keras")
    with pytest.raises(ValueError, match="File format not supported"):
        saving.load_model(tmp_path / "m.pb")
    unbuilt = keras.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="not yet been built"):
        unbuilt.save_weights(tmp_path / "u.weights.h5")
    model.save_weights(tmp_path / "m.weights.h5")
    with pytest.raises(FileExistsError, match="overwrite"):
        model.save_weights(tmp_path / "m.weights.h5", overwrite=False)
    with pytest.raises(ValueError, match="not yet been built"):
        unbuilt.load_weights(tmp_path / "m.weights.h5")


def test_mismatched_weights_raise_or_warn(tmp_path):
    model = make_model(compiled=False)
    model.save_weights(tmp_path / "m.weights.h5")
    other = keras.Sequential([keras.Input((4,)), layers.Dense(8, use_bias=False), layers.Dense(2)])
    with pytest.raises(ValueError, match="expected 1 variables, but received 2"):
        other.load_weights(tmp_path / "m.weights.h5")
    with pytest.warns(UserWarning, match="could not be loaded"):
        other.load_weights(tmp_path / "m.weights.h5", skip_mismatch=True)
    wrong = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(2)])
    with pytest.raises(ValueError, match="shape"):
        wrong.load_weights(tmp_path / "m.weights.h5")


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    model = make_model(compiled=False)
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    before = path.read_bytes()

    def torn(m, target):
        with open(target, "wb") as f:
            f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(saving_lib, "_write_weights", torn)
    with pytest.raises(OSError, match="disk full"):
        model.save_weights(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.weights.h5"]  # no temporary file left behind
    monkeypatch.undo()
    model.save(tmp_path / "m.keras")
    before = (tmp_path / "m.keras").read_bytes()

    def crash():  # fails after the archive was opened and partly written
        raise OSError("crash mid-archive")

    monkeypatch.setattr(saving_lib, "_metadata", crash)
    with pytest.raises(OSError, match="crash mid-archive"):
        model.save(tmp_path / "m.keras")
    assert (tmp_path / "m.keras").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.keras", "m.weights.h5"]


def test_missing_h5py_gives_clear_error(tmp_path, monkeypatch):
    model = make_model(compiled=False)
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"pip install 'rill\[h5\]'"):
        model.save_weights(tmp_path / "m.weights.h5")


# ------------------------------------------------------------------ registry and scopes
def test_register_keras_serializable():
    @saving.register_keras_serializable(package="my_pkg")
    class Scale(layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    assert saving.get_registered_name(Scale) == "my_pkg>Scale"
    assert saving.get_registered_object("my_pkg>Scale") is Scale
    assert saving.get_custom_objects()["my_pkg>Scale"] is Scale
    assert saving.get_registered_name(layers.Dense) == "Dense"
    assert saving.get_registered_object("nope") is None
    config = saving.serialize_keras_object(Scale(3.0, name="s"))
    assert config["registered_name"] == "my_pkg>Scale" and config["class_name"] == "Scale"
    back = saving.deserialize_keras_object(json.loads(json.dumps(config)))
    assert isinstance(back, Scale) and back.factor == 3.0 and back.name == "s"

    with pytest.raises(ValueError, match="get_config"):

        @saving.register_keras_serializable()
        class NoConfig:
            pass

    @saving.register_keras_serializable("fns", name="twice")
    def double(x):
        return 2 * x

    assert saving.get_registered_name(double) == "fns>twice"
    assert activations.get("fns>twice") is double
    assert activations.serialize(double) == "fns>twice"


def test_custom_objects_and_scope():
    class Halve(layers.Layer):
        def call(self, x):
            return x / 2

    config = saving.serialize_keras_object(Halve(name="h"))
    with pytest.raises(TypeError, match="Could not locate class 'Halve'"):
        saving.deserialize_keras_object(config)
    assert isinstance(saving.deserialize_keras_object(config, {"Halve": Halve}), Halve)
    with saving.custom_object_scope({"Halve": Halve}):
        assert isinstance(saving.deserialize_keras_object(config), Halve)
        assert saving.get_registered_object("Halve") is Halve
        seen = []
        t = threading.Thread(target=lambda: seen.append(saving.get_registered_object("Halve")))
        t.start()
        t.join()
        assert seen == [None]  # the scope is thread-local
    assert saving.get_registered_object("Halve") is None

    def my_init(shape, dtype=None):
        return tf.ones(shape, dtype=dtype) * 3

    with saving.CustomObjectScope({"my_init": my_init}):
        assert initializers.get("my_init") is my_init
        layer = layers.Dense(2, kernel_initializer="my_init")
    assert layer.kernel_initializer is my_init


def test_config_names_are_never_imported():
    name = "rill_test_module_that_must_not_be_imported"
    sys.modules.pop(name, None)
    for config in (
        {"module": name, "class_name": "Evil", "config": {}, "registered_name": "Evil"},
        {"module": "os", "class_name": "system", "config": {}, "registered_name": None},
        {"module": name, "class_name": "function", "config": "boom", "registered_name": "boom"},
    ):
        with pytest.raises(TypeError, match="Could not locate"):
            saving.deserialize_keras_object(config)
    assert name not in sys.modules
    with pytest.raises(ValueError, match="Unknown loss class"):
        losses.deserialize({"module": "os", "class_name": "system", "config": {}})


def test_safe_mode_refuses_lambda_layers(tmp_path):
    layer = layers.Lambda(lambda x: x * 3 + 1, name="lam")
    with pytest.warns(UserWarning, match="lambda"):
        fn_config = saving.serialize_keras_object(lambda x: x)
    with pytest.raises(ValueError, match="safe_mode=False"):
        saving.deserialize_keras_object(fn_config)
    config = json.loads(json.dumps(saving.serialize_keras_object(layer)))
    assert config["config"]["function"]["class_name"] == "__lambda__"
    with pytest.raises(ValueError, match="safe_mode=False"):
        saving.deserialize_keras_object(config)
    with pytest.raises(ValueError, match="safe_mode=False"):
        layers.Lambda.from_config(config["config"])  # outside any scope: refused too
    back = saving.deserialize_keras_object(config, safe_mode=False)
    np.testing.assert_allclose(back(tf.constant([1.0, 2.0])).numpy(), [4.0, 7.0])
    with serialization_lib.SafeModeScope(False):
        assert serialization_lib.in_safe_mode() is False
    assert serialization_lib.in_safe_mode() is None


def test_safe_mode_on_load_model(tmp_path):
    model = keras.Sequential([keras.Input((2,)), layers.Lambda(lambda x: x * 2), layers.Dense(1)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(tmp_path / "lam.keras")
    with pytest.raises(ValueError, match="safe_mode=False"):
        saving.load_model(tmp_path / "lam.keras")
    loaded = saving.load_model(tmp_path / "lam.keras", safe_mode=False)
    x = np.ones((3, 2), "float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_named_function_in_lambda_needs_registration():
    def triple(x):
        return x * 3

    config = saving.serialize_keras_object(layers.Lambda(triple))
    assert config["config"]["function"] == {
        "module": "builtins", "class_name": "function", "config": "triple",
        "registered_name": "function",
    }  # fmt: skip
    with pytest.raises(TypeError, match="Could not locate function 'triple'"):
        saving.deserialize_keras_object(config)
    back = saving.deserialize_keras_object(config, custom_objects={"triple": triple})
    assert back.function is triple


# --------------------------------------------------------------------- value encoding
def test_serialize_values():
    ser = saving.serialize_keras_object
    de = saving.deserialize_keras_object
    assert ser(None) is None and ser(3) == 3 and ser("a") == "a"
    assert ser((1, [2, 3])) == (1, [2, 3])
    assert ser(np.float32(1.5)) == 1.5 and ser(np.array(2)) == 2
    arr = ser(np.arange(3, dtype="int16"))
    assert arr == {"class_name": "__numpy__", "config": {"value": [0, 1, 2], "dtype": "int16"}}
    back = de(arr)
    assert back.dtype == np.int16 and back.tolist() == [0, 1, 2]
    assert ser(tf.float16) == "float16" and ser(np.dtype("float64")) == "float64"
    assert ser(tf.TensorShape([None, 3])) == [None, 3] and ser(tf.TensorShape(None)) is None
    t = de(ser(tf.constant([[1.0, 2.0]])))
    assert isinstance(t, tf.Tensor) and t.numpy().tolist() == [[1.0, 2.0]]
    assert de(ser(b"hi")) == b"hi" and de(ser(slice(1, None, 2))) == slice(1, None, 2)
    assert de(ser(Ellipsis)) is Ellipsis
    assert ser(activations.relu) == {
        "module": "builtins", "class_name": "function", "config": "relu",
        "registered_name": "function",
    }  # fmt: skip
    assert de(ser(activations.relu)) is activations.relu
    assert de(ser(losses.mean_squared_error)) is losses.mean_squared_error
    assert de({"a": [1, {"b": 2}]}) == {"a": [1, {"b": 2}]}
    with pytest.raises(TypeError, match="get_config"):
        ser(object())


def test_builtin_objects_round_trip_in_keras_format():
    for obj in (
        optimizers.Adam(learning_rate=0.05, beta_1=0.8),
        losses.Huber(delta=2.0),
        metrics.AUC(num_thresholds=11),
        initializers.VarianceScaling(2.0, "fan_out"),
        layers.Dense(3, activation="relu", kernel_regularizer="l2", name="d"),
    ):
        config = json.loads(json.dumps(saving.serialize_keras_object(obj)))
        assert config["module"].startswith("keras.") and config["registered_name"] is None
        back = saving.deserialize_keras_object(config)
        assert type(back) is type(obj) and back.get_config() == obj.get_config()


def test_layer_configs_match_keras_keys():
    d = layers.Dense(3, name="d").get_config()
    assert d["dtype"] == {
        "module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
        "registered_name": None,
    }  # fmt: skip
    assert "batch_input_shape" not in layers.Dense(3, input_shape=(4,)).get_config()
    assert d["quantization_config"] is None
    assert layers.Flatten().get_config()["data_format"] == "channels_last"
    assert layers.Reshape((2, -1)).get_config()["target_shape"] == [2, -1]
    # a Keras 3 config (dtype policy, newer optional keys) loads
    keras_config = {
        "module": "keras.layers", "class_name": "Dense", "registered_name": None,
        "config": {**d, "kernel_initializer": {
            "module": "keras.initializers", "class_name": "GlorotUniform",
            "config": {"seed": None, "input_axes": None, "output_axes": None},
            "registered_name": None}},
        "build_config": {"input_shape": [None, 4]},
    }  # fmt: skip
    layer = saving.deserialize_keras_object(keras_config)
    assert layer.built and layer.kernel.shape.as_list() == [4, 3] and layer.dtype == "float32"


def test_catalog_get_accepts_keras_forms():
    assert activations.get(None) is activations.linear
    assert activations.get({"module": "builtins", "class_name": "function", "config": "relu",
                            "registered_name": "function"}) is activations.relu  # fmt: skip
    assert isinstance(initializers.get(initializers.Zeros), initializers.Zeros)
    cfg = {"module": "keras.initializers", "class_name": "Constant", "config": {"value": 2.0},
           "registered_name": None}  # fmt: skip
    assert initializers.get(cfg).value == 2.0
    assert isinstance(metrics.get("mean_squared_error"), metrics.MeanSquaredError)
    assert isinstance(optimizers.get("ADAM"), optimizers.Adam)
    with pytest.raises(ValueError, match="Unknown activation"):
        activations.get("nope")
    with pytest.raises(ValueError, match="Could not interpret"):
        initializers.get(42)
