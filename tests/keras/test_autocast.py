"""Input autocasting, keras.Variable, StatelessScope and the keras top-level scopes
(references: NumPy arithmetic, dtype rules stated by Keras 3's docs, finite values)."""

import numpy as np
import pytest

import rill as tf
from rill import keras


class Record(keras.layers.Layer):
    """Passes its input through, remembering the dtype it arrived in."""

    def call(self, x):
        self.seen = x.dtype
        return x


def test_float64_numpy_input_is_cast_to_the_compute_dtype():
    layer = Record()
    assert layer(np.ones((2, 3))).dtype == tf.float32 and layer.seen == tf.float32
    assert layer(tf.constant(np.ones(2))).dtype == tf.float32  # float64 tensor too
    assert Record(dtype="float64")(np.ones(2, np.float32)).dtype == tf.float64


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_])
def test_integer_and_bool_inputs_keep_their_dtype(dtype):
    layer = Record()
    out = layer(np.ones((2, 2), dtype))
    assert out.dtype == tf.as_dtype(dtype)


def test_autocast_false_keeps_float64():
    layer = Record(autocast=False)
    assert layer(np.ones(3)).dtype == tf.float64
    assert layer.autocast is False


def test_embedding_takes_int64_ids_and_dense_float64_data():
    emb = keras.layers.Embedding(10, 4)
    ids = np.array([[1, 2], [3, 9]], np.int64)
    out = emb(ids)
    np.testing.assert_array_equal(out.numpy(), emb.embeddings.numpy()[ids])
    dense = keras.layers.Dense(2)
    x = np.random.default_rng(0).normal(size=(3, 4))
    y = dense(x)
    assert y.dtype == tf.float32
    expected = x.astype(np.float32) @ dense.kernel.numpy() + dense.bias.numpy()
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6)


def test_float64_data_trains_and_predicts_in_a_float32_model():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3))  # float64
    y = x @ np.array([[1.0], [-2.0], [0.5]])
    inp = keras.Input((3,))
    model = keras.Model(inp, keras.layers.Dense(1)(inp))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    hist = model.fit(x, y, epochs=30, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < 1e-3
    p = model.predict(x, verbose=0)
    assert p.dtype == np.float32
    np.testing.assert_allclose(p, y, atol=0.05)
    assert model(x).dtype == tf.float32


def test_keyword_tensor_arguments_are_cast_too():
    class Add(keras.layers.Layer):
        def call(self, x, other=None):
            return x + other

    out = Add()(np.ones(2, np.float32), other=np.full(2, 0.5))
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), [1.5, 1.5])


def test_inner_autocast_false_layer_sees_float32_variables():
    seen = {}

    class Inner(keras.layers.Layer):
        def build(self, s):
            self.w = self.add_weight(shape=(), initializer="ones")

        def call(self, x):
            seen["inner"] = self.w.dtype
            return x

    class Outer(keras.layers.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.inner = Inner(dtype="float32", autocast=False)
            self.v = None

        def build(self, s):
            self.v = self.add_weight(shape=(), initializer="ones")

        def call(self, x):
            seen["outer"] = self.v.dtype
            return self.inner(tf.cast(x, "float32"))

    Outer(dtype="mixed_float16")(np.ones(2))
    assert seen == {"outer": tf.float16, "inner": tf.float32}


# ------------------------------------------------------------------- keras.Variable
def test_keras_variable_constructor():
    v = keras.Variable(initializer=keras.initializers.Constant(2.0), shape=(2, 3), name="v")
    assert v.dtype == tf.float32 and v.shape.as_list() == [2, 3] and v.path == "v"
    np.testing.assert_array_equal(v.numpy(), np.full((2, 3), 2.0, np.float32))
    w = keras.Variable(np.arange(3), dtype="float64", trainable=False, autocast=False)
    assert w.dtype == tf.float64 and not w.trainable and not w.autocast
    assert isinstance(w, tf.Variable) and w.aggregation == "none"
    with pytest.raises(ValueError, match="shape"):
        keras.Variable(initializer=keras.initializers.Zeros())
    with pytest.raises(ValueError, match="aggregation"):
        keras.Variable(1.0, aggregation="bogus")
    with keras.name_scope("block"):
        assert keras.Variable(1.0, name="x").path == "block/x"
    with pytest.raises(ValueError, match="cannot contain"):
        keras.name_scope("a/b")


def test_stateless_scope_collects_assignments():
    v = keras.Variable(np.array([1.0, 2.0], np.float32))
    with keras.StatelessScope(state_mapping=[(v, np.array([10.0, 20.0]))]) as scope:
        np.testing.assert_array_equal(tf.convert_to_tensor(v).numpy(), [10.0, 20.0])
        v.assign_add(np.array([1.0, 1.0], np.float32))
        np.testing.assert_array_equal(tf.convert_to_tensor(v).numpy(), [11.0, 21.0])
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])  # the variable is untouched
    np.testing.assert_array_equal(scope.get_current_value(v).numpy(), [11.0, 21.0])
    with pytest.raises(ValueError, match="shape"):
        keras.StatelessScope(state_mapping=[(v, np.zeros(3))])


def test_stateless_scope_runs_a_layer_with_other_weights():
    layer = keras.layers.Dense(2, use_bias=False)
    x = np.array([[1.0, 2.0]], np.float32)
    layer(x)
    k = np.array([[1.0, 0.0], [0.0, 3.0]], np.float32)
    with keras.StatelessScope(state_mapping=[(layer.kernel, k)], collect_losses=True) as s:
        out = layer(x)
        layer.add_loss(tf.constant(1.5))
    np.testing.assert_allclose(out.numpy(), x @ k)
    assert len(s.losses) == 1


# -------------------------------------------------------------------- other scopes
def test_remat_gives_the_same_values_and_gradients():
    def f(x):
        return tf.sin(x) * x

    x = tf.constant([0.3, 1.2])
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        a, b = f(x), keras.remat(f)(x)
    np.testing.assert_allclose(a.numpy(), b.numpy())
    xs = x.numpy()
    np.testing.assert_allclose(t.gradient(b, x).numpy(), np.cos(xs) * xs + np.sin(xs), rtol=1e-6)
    with keras.RematScope(mode="larger_than", output_size_threshold=10) as s:
        from rill.keras.scopes import get_current_remat_mode

        assert get_current_remat_mode().output_size_threshold == 10 and s.mode == "larger_than"
    assert get_current_remat_mode() is None
    with pytest.raises(ValueError, match="Invalid mode"):
        keras.RematScope(mode="bogus")


def test_top_level_names():
    from rill.keras.scopes import in_symbolic_scope

    with keras.SymbolicScope():
        assert in_symbolic_scope()
    assert not in_symbolic_scope()
    with keras.device("cpu"):
        assert float(tf.constant(1.0) + 1.0) == 2.0
    assert keras.version() == "3.15.1"
    assert keras.Layer is keras.layers.Layer and keras.Optimizer is keras.optimizers.Optimizer
    assert keras.Loss is keras.losses.Loss and keras.Metric is keras.metrics.Metric
    assert keras.FloatDTypePolicy is keras.dtype_policies.FloatDTypePolicy


def test_keras_function_runs_the_graph():
    inp = keras.Input((2,))
    out = keras.layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros")(inp) * 2.0
    fn = keras.Function(inp, out)
    x = np.array([[1.0, 2.0], [3.0, -1.0]], np.float32)
    np.testing.assert_allclose(fn(x).numpy(), 2.0 * x.sum(1, keepdims=True))
    assert fn.inputs is inp and fn.outputs is out
