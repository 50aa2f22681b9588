"""The functional API: keras.Input, KerasTensors, keras.Model(inputs, outputs), multi-output
compile, sharing, nesting, config, summary. References are NumPy formulas over the layers'
own weights."""

import json

import numpy as np
import pytest

import rill as tf
from rill import keras

L = keras.layers
rng = np.random.default_rng(0)


def _dense_np(layer, x, act=lambda v: v):
    k, b = layer.get_weights()
    return act(x @ k + b)


def _two_io():
    a = keras.Input(shape=(4,), name="a")
    b = keras.Input(shape=(2,), name="b")
    d = L.Dense(3, name="d")
    h = L.Concatenate(name="cat")([d(a), b])
    o1 = L.Dense(1, name="o1")(h)
    o2 = L.Dense(3, activation="softmax", name="o2")(h)
    return keras.Model(inputs=[a, b], outputs=[o1, o2], name="two_io")


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_keras_tensors_carry_shapes_and_dtypes_without_computing():
    a = keras.Input(shape=(4,), name="a")
    assert a.shape == (None, 4) and a.dtype == "float32" and a.name == "a"
    h = L.Dense(3)(a)
    assert h.shape == (None, 3)
    i = keras.Input(shape=(5,), dtype="int32")
    e = L.Lambda(lambda t: tf.cast(t, "float32") * 2.0)(i)
    assert e.dtype == "float32" and e.shape == (None, 5)
    s = (h * 2.0 + h)[:, :2]
    assert s.shape == (None, 2)
    assert (h @ np.ones((3, 7), np.float32)).shape == (None, 7)
    with pytest.raises(ValueError, match="KerasTensor cannot be used as input"):
        np.asarray(h)
    with pytest.raises(TypeError, match="Python bool"):
        bool(h)


def test_model_type_layers_and_io_properties():
    m = _two_io()
    assert type(m).__name__ == "Functional" and isinstance(m, keras.Model)
    assert [layer.name for layer in m.layers] == ["a", "d", "b", "cat", "o1", "o2"]
    assert m.output_names == ["o1", "o2"]
    assert m.input_shape == [(None, 4), (None, 2)]
    assert m.output_shape == [(None, 1), (None, 3)]
    assert m.get_layer("d") is m.layers[1] and m.get_layer(index=3).name == "cat"
    assert m.get_layer("d").output.shape == (None, 3)
    assert len(m.weights) == 6 and m.count_params() == 4 * 3 + 3 + 5 * 1 + 1 + 5 * 3 + 3


def test_predict_matches_numpy_over_the_layers_weights():
    m = _two_io()
    xa = rng.standard_normal((7, 4)).astype(np.float32)
    xb = rng.standard_normal((7, 2)).astype(np.float32)
    h = np.concatenate([_dense_np(m.get_layer("d"), xa), xb], -1)
    p1, p2 = m.predict([xa, xb], verbose=0)
    np.testing.assert_allclose(p1, _dense_np(m.get_layer("o1"), h), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p2, _dense_np(m.get_layer("o2"), h, _softmax), rtol=1e-5, atol=1e-6)
    # a dict of inputs by input name works too, in either order
    q1, q2 = m({"b": xb, "a": xa})
    np.testing.assert_allclose(q1.numpy(), p1, rtol=1e-6)


def test_layer_sharing_and_nested_models():
    shared = L.Dense(2, name="shared")
    x1, x2 = keras.Input(shape=(3,)), keras.Input(shape=(3,))
    siamese = keras.Model([x1, x2], L.Subtract()([shared(x1), shared(x2)]))
    assert len(siamese.weights) == 2 and len(shared._inbound_nodes) == 2
    u = rng.standard_normal((4, 3)).astype(np.float32)
    v = rng.standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(
        siamese.predict([u, v], verbose=0),
        _dense_np(shared, u) - _dense_np(shared, v),
        rtol=1e-5,
        atol=1e-6,
    )
    # a model used as a layer of another model shares its weights
    inner_in = keras.Input(shape=(3,))
    inner = keras.Model(inner_in, L.Dense(2, activation="relu", name="inner_d")(inner_in))
    outer_in = keras.Input(shape=(3,))
    outer = keras.Model(outer_in, L.Dense(1, name="head")(inner(outer_in)))
    assert outer.layers[1] is inner and len(outer.weights) == 4
    ref = _dense_np(outer.get_layer("head"), inner.predict(u, verbose=0))
    np.testing.assert_allclose(outer.predict(u, verbose=0), ref, rtol=1e-5, atol=1e-6)


def test_training_flag_reaches_layers_in_the_graph():
    i = keras.Input(shape=(200,))
    m = keras.Model(i, L.Dropout(0.5)(i))
    x = np.ones((2, 200), np.float32)
    np.testing.assert_array_equal(m(x, training=False).numpy(), x)
    dropped = m(x, training=True).numpy()
    assert set(np.unique(dropped)) <= {0.0, 2.0} and (dropped == 0).any()
    fixed = keras.Model(i, L.Dropout(0.5)(i, training=True))  # fixed at build time
    assert (fixed(x, training=False).numpy() == 0).any()


def test_errors_name_what_went_wrong():
    a, b = keras.Input(shape=(2,), name="left"), keras.Input(shape=(2,), name="right")
    out = L.Add()([a, b])
    with pytest.raises(ValueError, match="Graph disconnected.*right"):
        keras.Model(a, out)
    with pytest.raises(ValueError, match="keras.Input"):
        keras.Model(L.Dense(2)(a), out)
    m = keras.Model([a, b], out)
    with pytest.raises(ValueError, match="expects 2 input"):
        m(np.ones((1, 2), np.float32))
    with pytest.raises(ValueError, match=r"expected shape \(None, 2\), found shape \(1, 3\)"):
        m([np.ones((1, 3), np.float32), np.ones((1, 3), np.float32)])
    with pytest.raises(ValueError, match="KerasTensor cannot be used as input"):
        tf.nn.relu(a)
    with pytest.raises(ValueError, match='name "twin" is used 2 times'):
        keras.Model(a, L.Dense(2, name="twin")(L.Dense(2, name="twin")(a)))


def test_multi_output_fit_reports_keras_names_and_weighted_total():
    m = _two_io()
    m.compile(
        optimizer=keras.optimizers.SGD(0.0),  # no update: the logs are pure functions of x, y
        loss={"o1": "mse", "o2": "sparse_categorical_crossentropy"},
        loss_weights={"o1": 2.0, "o2": 0.5},
        metrics={"o2": ["accuracy"], "o1": ["mae"]},
    )
    xa = rng.standard_normal((10, 4)).astype(np.float32)
    xb = rng.standard_normal((10, 2)).astype(np.float32)
    y1 = rng.standard_normal((10, 1)).astype(np.float32)
    y2 = rng.integers(0, 3, 10)
    logs = m.fit([xa, xb], [y1, y2], batch_size=10, epochs=1, verbose=0).history
    assert list(logs) == ["loss", "o1_loss", "o1_mae", "o2_accuracy", "o2_loss"]  # sorted, as Keras
    p1, p2 = m.predict([xa, xb], verbose=0)
    mse = np.mean((p1 - y1) ** 2)
    ce = np.mean(-np.log(p2[np.arange(10), y2]))
    np.testing.assert_allclose(logs["o1_loss"][0], mse, rtol=1e-5)
    np.testing.assert_allclose(logs["o2_loss"][0], ce, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"][0], 2.0 * mse + 0.5 * ce, rtol=1e-5)
    np.testing.assert_allclose(logs["o1_mae"][0], np.mean(np.abs(p1 - y1)), rtol=1e-5)
    np.testing.assert_allclose(logs["o2_accuracy"][0], np.mean(p2.argmax(-1) == y2))


def test_loss_is_averaged_over_samples_not_batches():
    i = keras.Input(shape=(3,))
    m = keras.Model(i, L.Dense(1)(i))
    m.compile(optimizer="sgd", loss="mse")
    x = rng.standard_normal((10, 3)).astype(np.float32)
    y = rng.standard_normal((10, 1)).astype(np.float32)
    p = m.predict(x, verbose=0)
    # batches of 4, 4, 2: the short batch weighs 2/10, as Keras 3 weighs by batch size
    np.testing.assert_allclose(
        m.evaluate(x, y, batch_size=4, verbose=0), np.mean((p - y) ** 2), rtol=1e-5
    )


def test_metrics_ignore_sample_weight_and_weighted_metrics_use_it():
    i = keras.Input(shape=(3,))
    m = keras.Model(i, L.Dense(1)(i))
    m.compile(optimizer="sgd", loss="mae", metrics=["mse"], weighted_metrics=["mse"])
    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = rng.standard_normal((8, 1)).astype(np.float32)
    w = rng.uniform(0.1, 2.0, 8).astype(np.float32)
    logs = m.evaluate(x, y, sample_weight=w, batch_size=8, verbose=0, return_dict=True)
    err = (m.predict(x, verbose=0) - y)[:, 0] ** 2
    np.testing.assert_allclose(logs["mse"], err.mean(), rtol=1e-5)
    np.testing.assert_allclose(logs["weighted_mse"], (w * err).sum() / w.sum(), rtol=1e-5)


def test_config_round_trip_rebuilds_the_same_graph():
    a = keras.Input(shape=(4,), name="a")
    b = keras.Input(shape=(2,), name="b")
    h = L.Dense(3, name="d")(a)
    t = -(h * 2.0 + h)[:, :2] / (h[:, 1:] + 3.0)
    out = L.Dense(1, name="o")(L.Concatenate(name="cat")([t, b]))
    m = keras.Model({"a": a, "b": b}, {"out": out, "aux": t}, name="rt")
    cfg = json.loads(json.dumps(m.get_config()))
    assert cfg["input_layers"] == {"a": ["a", 0, 0], "b": ["b", 0, 0]}
    assert cfg["output_layers"] == {"out": ["o", 0, 0], "aux": ["true_divide", 0, 0]}
    m2 = type(m).from_config(cfg)
    assert [x.name for x in m2.layers] == [x.name for x in m.layers]
    m2.set_weights(m.get_weights())
    x = {"a": rng.standard_normal((3, 4)).astype(np.float32), "b": np.ones((3, 2), np.float32)}
    for k in ("out", "aux"):
        np.testing.assert_array_equal(m(x)[k].numpy(), m2(x)[k].numpy())


def test_summary_has_connected_to_only_for_branching_graphs():
    lines = []
    _two_io().summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Connected to" in text and "d[0][0]," in text and "b[0][0]" in text
    assert " Total params: 39 (156.00 B)" in lines
    i = keras.Input(shape=(3,))
    chain = keras.Model(i, L.Dense(2)(L.Dense(4)(i)))
    lines = []
    chain.summary(print_fn=lines.append)
    assert "Connected to" not in "\n".join(lines)
    assert " Total params: 26 (104.00 B)" in lines


def test_dynamic_layer_needs_compute_output_shape():
    class Doubling(L.Layer):
        def call(self, x):
            return x * 2.0 if float(tf.reduce_sum(x)) >= 0 else x

    class DoublingShaped(Doubling):
        def compute_output_shape(self, input_shape):
            return input_shape

    i = keras.Input(shape=(3,))
    with pytest.raises(TypeError, match="compute_output_shape"):
        Doubling(dynamic=True)(i)
    m = keras.Model(i, DoublingShaped(dynamic=True)(i))
    assert m.run_eagerly
    np.testing.assert_array_equal(
        m.predict(np.ones((2, 3), np.float32), verbose=0), 2 * np.ones((2, 3))
    )


@pytest.mark.parametrize(
    "layer, ref",
    [
        (L.Subtract, lambda a, b, c: a - b),
        (L.Average, lambda a, b, c: (a + b + c) / 3),
        (L.Maximum, lambda a, b, c: np.maximum(np.maximum(a, b), c)),
        (L.Minimum, lambda a, b, c: np.minimum(np.minimum(a, b), c)),
    ],
)
def test_merge_layers(layer, ref):
    xs = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(3)]
    ins = [keras.Input(shape=(3,)) for _ in range(3)]
    n = 2 if layer is L.Subtract else 3
    m = keras.Model(ins[:n], layer()(ins[:n]))
    np.testing.assert_allclose(m.predict(xs[:n], verbose=0), ref(*xs), rtol=1e-6)
    if layer is L.Subtract:
        with pytest.raises(ValueError, match="exactly 2"):
            layer()(ins)


def test_dynamic_layer_with_several_outputs():
    class Split(L.Layer):
        def call(self, x):
            half = int(x.shape[-1]) // 2
            scale = 2.0 if float(tf.reduce_sum(x)) > -1e30 else 1.0  # needs a concrete value
            return [x[:, :half], x[:, half:] * scale]

        def compute_output_shape(self, input_shape):
            half = input_shape[-1] // 2
            return [(input_shape[0], half), (input_shape[0], input_shape[-1] - half)]

    i = keras.Input(shape=(4,))
    a, b = Split(dynamic=True)(i)
    assert a.shape == (None, 2) and b.shape == (None, 2)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    pa, pb = keras.Model(i, [a, b]).predict(x, verbose=0)
    np.testing.assert_array_equal(pa, x[:, :2])
    np.testing.assert_allclose(pb, 2 * x[:, 2:])
