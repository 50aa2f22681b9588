"""keras.Model / Sequential: fit, evaluate, predict, callbacks, custom train_step."""

import numpy as np
import pytest

import rill as tf
from rill import keras

L = keras.layers


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)
    return x, y


def _linear(seed_w):
    m = keras.Sequential([L.Dense(1, input_shape=(3,))])
    m.build()
    m.set_weights([np.full((3, 1), seed_w, np.float32), np.zeros(1, np.float32)])
    return m


def test_fit_equals_a_manual_sgd_loop():
    x, y = _data()
    m = _linear(0.1)
    m.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    m.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    w, b = np.full((3, 1), 0.1, np.float32), np.zeros(1, np.float32)
    for _ in range(2):
        for s in range(0, 64, 16):
            xb, yb = x[s : s + 16], y[s : s + 16]
            err = xb @ w + b - yb
            w = w - 0.05 * (2 * xb.T @ err / err.size)
            b = b - 0.05 * (2 * err.sum(0) / err.size)
    np.testing.assert_allclose(m.get_weights()[0], w, rtol=1e-5)
    np.testing.assert_allclose(m.get_weights()[1], b, rtol=1e-5, atol=1e-7)


def test_history_validation_evaluate_predict():
    x, y = _data(128)
    m = keras.Sequential([L.Dense(8, activation="relu"), L.Dense(1)])
    m.compile(optimizer="adam", loss="mse", metrics=["mae"])
    h = m.fit(x, y, batch_size=32, epochs=3, validation_split=0.25, verbose=0)
    assert (
        sorted(h.history) == ["loss", "mae", "val_loss", "val_mae"] and len(h.history["loss"]) == 3
    )
    assert h.history["loss"][-1] < h.history["loss"][0]
    loss, mae = m.evaluate(x, y, verbose=0)
    pred = m.predict(x, batch_size=50)
    assert pred.shape == (128, 1)
    np.testing.assert_allclose(mae, np.abs(pred - y).mean(), rtol=1e-4)
    np.testing.assert_allclose(loss, ((pred - y) ** 2).mean(), rtol=1e-4)
    d = m.evaluate(x, y, return_dict=True, verbose=0)
    assert set(d) == {"loss", "mae"}


def test_fit_accepts_a_dataset_and_run_eagerly():
    x, y = _data()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    for eager in (False, True):
        m = _linear(0.0)
        m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", run_eagerly=eager)
        h = m.fit(ds, epochs=3, verbose=0)
        assert h.history["loss"][-1] < h.history["loss"][0]


def test_custom_train_step_and_subclassed_model():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.d1 = L.Dense(4, activation="tanh")
            self.d2 = L.Dense(1)
            self.steps = tf.Variable(0, trainable=False)

        def call(self, x):
            return self.d2(self.d1(x))

        def train_step(self, data):
            self.steps.assign_add(1)
            return super().train_step(data)

    x, y = _data()
    net = Net()
    net.compile(optimizer="sgd", loss="mse")
    net.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert int(net.steps) == 8 and len(net.trainable_weights) == 4


def test_dynamic_layers_run_eagerly():
    seen = []

    class PythonLayer(L.Layer):
        def __init__(self):
            super().__init__(dynamic=True)

        def call(self, x):
            seen.append(type(x).__name__)  # arbitrary Python on concrete values
            return x * float(np.sum(x.numpy()) > -1e9)

    m = keras.Sequential([PythonLayer(), L.Dense(1)])
    m.compile(optimizer="sgd", loss="mse")
    assert m.run_eagerly
    x, y = _data(32)
    m.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert seen and all(s == "EagerTensor" for s in seen)


def test_callbacks_early_stopping_and_lambda():
    x, y = _data()
    m = _linear(0.0)
    m.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")  # no progress: stops early
    ends = []
    es = keras.callbacks.EarlyStopping(monitor="loss", patience=2)
    cb = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: ends.append(epoch))
    m.fit(x, y, epochs=20, verbose=0, shuffle=False, callbacks=[es, cb])
    assert ends == [0, 1, 2] and es.stopped_epoch == 2


def test_progress_output_formats(capsys):
    x, y = _data(32)
    m = _linear(0.0)
    m.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    m.fit(x, y, batch_size=16, epochs=1, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/1" in out and "2/2 - " in out and "- loss: " in out and "- mae: " in out
    m.fit(x, y, batch_size=16, epochs=1, verbose=1)
    assert "2/2 \u2501" in capsys.readouterr().out


def test_class_weight_and_sample_weight_and_on_batch_apis():
    x, y = _data(32)
    m = _linear(0.0)
    m.compile(optimizer="sgd", loss="mse")
    logs = m.train_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss"}
    # one value: Keras 3 returns it alone, not in a list
    assert m.test_on_batch(x, y) == pytest.approx(m.evaluate(x, y, verbose=0))
    assert m.predict_on_batch(x).shape == (32, 1)
    yc = (x[:, :1] > 0).astype(np.float32)
    c = keras.Sequential([L.Dense(1, activation="sigmoid")])
    c.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    c.fit(x, yc, class_weight={0: 1.0, 1: 3.0}, epochs=1, verbose=0)
    assert "accuracy" in c.metrics_names


def test_compile_required():
    with pytest.raises(RuntimeError, match="compile"):
        _linear(0.0).fit(*_data(8), verbose=0)


def test_sequential_with_keras_input_builds_immediately():
    m = keras.Sequential([keras.Input(shape=(3,)), L.Dense(4), L.Dense(1)])
    assert m.built and len(m.weights) == 4 and len(m.layers) == 2
    m2 = keras.Sequential([L.InputLayer(shape=(3,)), L.Dense(2)])
    assert m2(tf.ones([5, 3])).shape == [5, 2]
    with pytest.raises(ValueError, match="first layer"):
        keras.Sequential([L.Dense(2), keras.Input(shape=(3,))])


def test_dataset_as_validation_data():
    x, y = _data(64)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    m = _linear(0.0)
    m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    h = m.fit(ds, validation_data=ds, epochs=2, verbose=0)
    assert h.history["val_loss"][-1] == pytest.approx(m.evaluate(ds, verbose=0), rel=1e-5)


def test_learning_rate_scheduler_sets_the_rate_used_by_the_traced_step():
    x, y = _data(32)
    m = _linear(0.0)
    m.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    sched = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5**epoch)
    h = m.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0, callbacks=[sched])
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])
    # the same three full-batch steps by hand, with those rates
    w, b = np.zeros((3, 1), np.float32), np.zeros(1, np.float32)
    for lr in (0.1, 0.05, 0.025):
        err = x @ w + b - y
        w, b = w - lr * 2 * x.T @ err / err.size, b - lr * 2 * err.sum(0) / err.size
    np.testing.assert_allclose(m.get_weights()[0], w, rtol=1e-5)


def test_reduce_lr_on_plateau_and_csv_logger(tmp_path):
    x, y = _data(32)
    m = _linear(0.0)
    m.compile(optimizer=keras.optimizers.SGD(1e-12), loss="mse")  # a flat loss: a plateau
    cb = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, min_lr=0.0)
    log = tmp_path / "log.csv"
    h = m.fit(
        x, y, epochs=5, shuffle=False, verbose=0, callbacks=[cb, keras.callbacks.CSVLogger(log)]
    )
    lrs = h.history["learning_rate"]
    assert lrs[0] == pytest.approx(1e-12) and lrs[-1] < lrs[0]
    rows = log.read_text().splitlines()
    assert rows[0] == "epoch,learning_rate,loss" and len(rows) == 6 and rows[1].startswith("0,")


def test_on_batch_methods_take_a_list_of_inputs_of_different_shapes():
    # a two-input model: x is a list of arrays (not one array to stack), as in Keras
    a, b = keras.Input((5, 4)), keras.Input((6, 4))
    h = keras.layers.Attention()([a, b])
    m = keras.Model([a, b], keras.layers.Dense(3)(keras.layers.Flatten()(h)))
    m.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(8, 5, 4)).astype("float32"), rng.normal(size=(8, 6, 4)).astype("float32")]
    y = rng.normal(size=(8, 3)).astype("float32")
    want = np.mean((m.predict(x, verbose=0) - y) ** 2)
    np.testing.assert_allclose(m.predict_on_batch(x), m.predict(x, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(m.test_on_batch(x, y), want, rtol=1e-5)
    loss = m.train_on_batch(x, y)
    np.testing.assert_allclose(loss, want, rtol=1e-5)  # the loss before the update
    # a nested Python list is still one array
    m2 = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    m2.compile("sgd", "mse")
    assert m2.predict_on_batch([[1.0, 2.0], [3.0, 4.0]]).shape == (2, 1)
