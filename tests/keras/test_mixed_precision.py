"""Dtype policies, mixed precision and dynamic loss scaling (references: NumPy formulas
in float16, the loss-scaling rule written out step by step, and float32 training)."""

import sys
from pathlib import Path

import numpy as np
import pytest

import rill as tf
from rill import keras
from rill.keras import dtype_policies as dp
from rill.keras import mixed_precision as mp


@pytest.fixture(autouse=True)
def _reset_policy():
    yield
    keras.config.set_dtype_policy("float32")


# ------------------------------------------------------------------------- policies
@pytest.mark.parametrize(
    "name, compute, variable",
    [
        ("float32", "float32", "float32"),
        ("float64", "float64", "float64"),
        ("mixed_float16", "float16", "float32"),
        ("mixed_bfloat16", "bfloat16", "float32"),
        ("int32", "int32", "int32"),
    ],
)
def test_policy_dtypes(name, compute, variable):
    p = dp.DTypePolicy(name)
    assert (p.name, p.compute_dtype, p.variable_dtype) == (name, compute, variable)
    assert p.quantization_mode is None
    assert repr(p) == f'<DTypePolicy "{name}">'
    assert dp.deserialize(dp.serialize(p)) == p


def test_policy_errors_equality_and_aliases():
    with pytest.raises(ValueError, match="mixed_float16"):
        dp.DTypePolicy("mixed_float32")
    with pytest.raises(TypeError, match="must be a string"):
        dp.DTypePolicy(3)
    with pytest.raises(ValueError, match="Cannot interpret"):
        dp.get(3)
    assert dp.FloatDTypePolicy("float16") == dp.DTypePolicy("float16")
    assert repr(dp.FloatDTypePolicy("float16")) == '<DTypePolicy "float16">'
    assert dp.DTypePolicy("float16") != dp.DTypePolicy("float32")
    assert mp.Policy is dp.DTypePolicy and mp.DTypePolicy is dp.DTypePolicy
    assert keras.DTypePolicy is dp.DTypePolicy
    assert dp.get(np.float16) == dp.DTypePolicy("float16")
    assert dp.get({"class_name": "DTypePolicy", "config": {"name": "bfloat16"}}).name == "bfloat16"
    assert dp.serialize(dp.DTypePolicy("mixed_float16")) == {
        "module": "keras", "class_name": "DTypePolicy",
        "config": {"name": "mixed_float16"}, "registered_name": None,
    }  # fmt: skip


def test_global_policy_functions_are_one_setting():
    assert mp.global_policy().name == "float32"
    mp.set_global_policy("mixed_float16")
    assert keras.config.dtype_policy().name == "mixed_float16"
    assert mp.dtype_policy() is keras.config.dtype_policy()
    assert dp.get(None).name == "mixed_float16"
    mp.set_dtype_policy(dp.DTypePolicy("float64"))
    assert mp.global_policy().compute_dtype == "float64"
    with pytest.raises(ValueError, match="Invalid `policy`"):
        mp.set_global_policy(3)


def test_quantized_policies_parse_and_serialize():
    q = dp.get("int8_from_float32")
    assert type(q) is dp.QuantizedDTypePolicy
    assert (q.name, q.quantization_mode, q.compute_dtype) == (
        "int8_from_float32",
        "int8",
        "float32",
    )
    assert q.get_config() == {"mode": "int8", "source_name": "float32"}
    f8 = dp.get("float8_from_mixed_bfloat16")
    assert type(f8) is dp.QuantizedFloat8DTypePolicy
    assert (f8.compute_dtype, f8.variable_dtype, f8.amax_history_length) == (
        "bfloat16", "float32", 1024,
    )  # fmt: skip
    assert dp.deserialize(dp.serialize(f8)) == f8
    assert dp.get("int4/128_from_float32").block_size == 128
    g = dp.GPTQDTypePolicy("gptq/4/64", "float32")
    assert (g.weight_bits, g.group_size, g.name) == (4, 64, "gptq/4/64_from_float32")
    assert dp.AWQDTypePolicy("awq/4/-1", "float32").group_size == -1
    with pytest.raises(ValueError, match="AWQ only supports 4-bit"):
        dp.AWQDTypePolicy("awq/8/64", "float32")
    with pytest.raises(ValueError, match="Invalid quantization mode"):
        dp.QuantizedDTypePolicy("int3", "float32")
    with pytest.raises(ValueError, match="float16"):
        dp.QuantizedDTypePolicy("int8", "mixed_float16")
    with pytest.raises(NotImplementedError, match="quantized"):
        keras.layers.Dense(2, dtype="int8_from_float32")


def test_dtype_policy_map_lookup_and_config():
    m = dp.DTypePolicyMap(default_policy="float32")
    m["encoder/dense"] = "float16"
    m["decoder/.*"] = "bfloat16"
    assert m["encoder/dense"].name == "float16"
    assert m["decoder/attention/query"].name == "bfloat16"
    assert m["other"].name == "float32" and m.compute_dtype == "float32"
    assert len(m) == 2 and "encoder/dense" in m and m.name == "map_float32"
    with pytest.raises(ValueError, match="already exist"):
        m["encoder/dense"] = "float32"
    m["decoder/attention/.*"] = "float64"  # two patterns now match the query path
    with pytest.raises(ValueError, match="matches multiple"):
        m["decoder/attention/query"]
    back = dp.deserialize(dp.serialize(m))
    assert dict((k, v.name) for k, v in back.items()) == {k: v.name for k, v in m.items()}


# --------------------------------------------------------------------- mixed layers
def test_mixed_float16_dense_computes_in_float16_with_float32_variables():
    mp.set_global_policy("mixed_float16")
    layer = keras.layers.Dense(3)
    x = np.random.default_rng(0).normal(size=(4, 5))  # float64 data
    y = layer(x)
    assert layer.dtype_policy.name == "mixed_float16"
    assert (layer.compute_dtype, layer.variable_dtype, layer.dtype) == (
        "float16", "float32", "float32",
    )  # fmt: skip
    assert layer.kernel.dtype == tf.float32 and layer.bias.dtype == tf.float32
    assert y.dtype == tf.float16
    w, b = (v.numpy().astype(np.float16) for v in (layer.kernel, layer.bias))
    expected = x.astype(np.float16) @ w + b
    np.testing.assert_allclose(y.numpy(), expected, rtol=2e-3, atol=2e-3)
    # gradients reach the float32 variables in float32
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.cast(layer(x), "float32"))
    gk, gb = tape.gradient(loss, [layer.kernel, layer.bias])
    assert gk.dtype == tf.float32 and gb.dtype == tf.float32
    np.testing.assert_allclose(gk.numpy(), np.tile(x.sum(0)[:, None], (1, 3)), rtol=2e-3)
    np.testing.assert_allclose(gb.numpy(), np.full(3, 4.0))
    cfg = layer.get_config()["dtype"]
    assert cfg["config"]["name"] == "mixed_float16"
    assert keras.layers.Dense.from_config(layer.get_config()).dtype_policy.name == "mixed_float16"


def test_variables_autocast_only_inside_a_mixed_call():
    seen = {}

    class Probe(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(2,), initializer="ones")
            self.n = self.add_weight(shape=(2,), initializer="ones", autocast=False)

        def call(self, x):
            seen["w"], seen["n"] = self.w.dtype, tf.convert_to_tensor(self.n).dtype
            seen["read"] = tf.convert_to_tensor(self.w).dtype
            return x * self.w

    layer = Probe(dtype="mixed_float16")
    out = layer(np.ones((1, 2), np.float32))
    assert out.dtype == tf.float16
    assert seen == {"w": tf.float16, "n": tf.float32, "read": tf.float16}
    assert layer.w.dtype == tf.float32  # outside the call: the variable's own dtype


def test_mixed_bfloat16_elementwise_layer():
    class Scale(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=input_shape[-1:], initializer="ones")

        def call(self, x):
            return x * self.w + 1.0

    mp.set_global_policy("mixed_bfloat16")
    layer = Scale()
    layer(np.zeros((1, 3)))  # builds
    layer.w.assign([0.5, 2.0, 3.0])
    x = np.array([[1.0, 2.5, 1.0 / 3.0]])
    y = layer(x)
    assert y.dtype == tf.bfloat16 and layer.w.dtype == tf.float32
    bf16 = tf.bfloat16.as_numpy_dtype
    expected = (x.astype(bf16) * np.array([0.5, 2.0, 3.0]).astype(bf16) + bf16(1.0)).astype(bf16)
    np.testing.assert_array_equal(y.numpy().astype(np.float32), expected.astype(np.float32))


def test_final_float32_softmax_and_float32_loss_under_mixed_float16():
    mp.set_global_policy("mixed_float16")
    inp = keras.Input((4,))
    h = keras.layers.Dense(8, activation="relu")(inp)
    logits = keras.layers.Dense(3)(h)
    out = keras.layers.Activation("softmax", dtype="float32")(logits)
    model = keras.Model(inp, out)
    assert logits.dtype == tf.float16 and out.dtype == tf.float32
    x = np.random.default_rng(1).normal(size=(6, 4))
    p = model.predict(x, verbose=0)
    assert p.dtype == np.float32
    np.testing.assert_allclose(p.sum(-1), np.ones(6), rtol=1e-5)
    loss = keras.losses.SparseCategoricalCrossentropy()(np.array([0, 1, 2, 0, 1, 2]), p)
    assert loss.dtype == tf.float32


def test_compile_wraps_the_optimizer_under_mixed_float16_only():
    mp.set_global_policy("mixed_float16")
    m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    m.compile(optimizer="sgd", loss="mse")
    assert isinstance(m.optimizer, mp.LossScaleOptimizer)
    assert m.optimizer.name == "loss_scale_optimizer"
    m2 = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    m2.compile(optimizer="sgd", loss="mse", auto_scale_loss=False)
    assert not isinstance(m2.optimizer, mp.LossScaleOptimizer)
    mp.set_global_policy("mixed_bfloat16")  # bfloat16's range needs no loss scaling
    m3 = keras.Sequential([keras.Input((2,)), keras.layers.Activation("linear")])
    m3.compile(optimizer="sgd", loss="mse")
    assert not isinstance(m3.optimizer, mp.LossScaleOptimizer)


def test_digits_mixed_float16_matches_float32_accuracy():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
    from _data import digits

    (xtr, ytr), (xte, yte) = digits()

    def train(policy):
        mp.set_global_policy(policy)
        tf.random.set_seed(0)
        m = keras.Sequential([
            keras.Input((64,)),
            keras.layers.Dense(64, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed=1)),
            keras.layers.Dense(10, kernel_initializer=keras.initializers.GlorotUniform(seed=2)),
            keras.layers.Activation("softmax", dtype="float32"),
        ])  # fmt: skip
        m.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
        m.fit(xtr.astype(np.float64), ytr, epochs=5, batch_size=64, shuffle=False, verbose=0)
        return m, m.evaluate(xte, yte, verbose=0)[1]

    m32, acc32 = train("float32")
    m16, acc16 = train("mixed_float16")
    assert acc32 > 0.9
    assert abs(acc16 - acc32) < 0.03
    assert all(v.dtype == tf.float32 for v in m16.weights)
    assert isinstance(m16.optimizer, mp.LossScaleOptimizer)
    assert int(m16.optimizer.iterations.numpy()) == 5 * int(np.ceil(len(xtr) / 64))


# ------------------------------------------------------------------- loss scaling
def _reference_scaling(grads_seq, initial, growth):
    """The dynamic loss-scaling rule, written out: (scale, counter, applied) per step."""
    scale, counter, out = initial, 0, []
    for g in grads_seq:
        finite = np.all(np.isfinite(g))
        applied = g / scale if finite else None
        if finite:
            if counter == growth - 1:
                counter, scale = 0, scale * 2
            else:
                counter += 1
        else:
            counter, scale = 0, scale / 2
        out.append((scale, counter, applied))
    return out


@pytest.mark.parametrize("traced", [False, True])
def test_loss_scale_optimizer_dynamic_rule(traced):
    seq = [np.array([4.0, 8.0], np.float32)] * 3 + [np.array([np.inf, 1.0], np.float32)]
    seq += [np.array([np.nan, 1.0], np.float32), np.array([2.0, 2.0], np.float32)]
    v = tf.Variable(np.zeros(2, np.float32))
    opt = mp.LossScaleOptimizer(
        keras.optimizers.SGD(1.0), initial_scale=8.0, dynamic_growth_steps=2
    )
    opt.build([v])
    apply = (
        tf.function(lambda g: opt.apply([g], [v])) if traced else (lambda g: opt.apply([g], [v]))
    )
    w = np.zeros(2, np.float32)
    for g, (scale, counter, applied) in zip(seq, _reference_scaling(seq, 8.0, 2)):
        apply(tf.constant(g))
        if applied is not None:
            w = w - applied  # SGD with learning rate 1 on the unscaled gradient
        np.testing.assert_allclose(v.numpy(), w)
        assert float(opt.dynamic_scale.numpy()) == scale
        assert int(opt.step_counter.numpy()) == counter
    assert int(opt.iterations.numpy()) == 4  # the two non-finite steps were skipped


def test_loss_scale_optimizer_api():
    inner = keras.optimizers.Adam(0.5, loss_scale_factor=4.0)
    opt = mp.LossScaleOptimizer(inner)
    assert inner.loss_scale_factor is None  # never scaled twice
    assert float(opt.scale_loss(tf.constant(3.0)).numpy()) == 3.0 * 2.0**15
    assert float(opt.learning_rate.numpy()) == 0.5
    opt.learning_rate = 0.25
    assert float(inner.learning_rate.numpy()) == 0.25
    v = tf.Variable([1.0])
    opt.build([v])
    assert [x.name.split("/")[-1] for x in opt.variables][:4] == [
        "iteration:0", "learning_rate:0", "step_counter:0", "dynamic_scale:0",
    ]  # fmt: skip
    cfg = opt.get_config()
    assert cfg["initial_scale"] == 2.0**15 and cfg["dynamic_growth_steps"] == 2000
    back = mp.LossScaleOptimizer.from_config(cfg)
    assert isinstance(back.inner_optimizer, keras.optimizers.Adam)
    assert keras.optimizers.deserialize(keras.optimizers.serialize(opt)).initial_scale == 2.0**15
    with pytest.raises(ValueError, match="does not support `clipnorm`"):
        mp.LossScaleOptimizer(keras.optimizers.SGD(), clipnorm=1.0)
    with pytest.raises(ValueError, match="dynamic=False"):
        mp.LossScaleOptimizer(keras.optimizers.SGD(), dynamic=False)


def test_fit_scales_the_loss_with_loss_scale_factor():
    # SGD with loss_scale_factor: fit scales the loss and apply divides the gradients
    # back, so the step equals plain SGD's (w <- w - lr * dL/dw, dL/dw = 2 x (w x - y) / n)
    x = np.array([[1.0], [2.0]], np.float32)
    y = np.array([[3.0], [5.0]], np.float32)
    m = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")]
    )
    m.compile(optimizer=keras.optimizers.SGD(0.1, loss_scale_factor=1024.0), loss="mse")
    m.fit(x, y, batch_size=2, epochs=1, verbose=0, shuffle=False)
    grad = np.mean(2 * x * (0.0 * x - y))
    np.testing.assert_allclose(m.weights[0].numpy().ravel(), [-0.1 * grad], rtol=1e-6)
