"""``keras.quantizers`` against NumPy formulas written here, and against Keras 3 (TF
backend) where TensorFlow is installed."""

import numpy as np
import pytest

import rill as tf
from rill.keras import quantizers as q

RNG = np.random.default_rng(0)
W = RNG.normal(size=(10, 6)).astype("float32")


def keras_quantizers():
    pytest.importorskip("tensorflow")
    import keras

    return keras.quantizers


# ------------------------------------------------------------------- abs max int8
@pytest.mark.parametrize("to_numpy", [False, True])
@pytest.mark.parametrize("axis", [-1, 0, (0, 1)])
def test_abs_max_quantize_formula(axis, to_numpy):
    out, scale = q.abs_max_quantize(tf.constant(W), axis, to_numpy=to_numpy)
    np_axis = tuple(axis) if isinstance(axis, tuple) else axis
    want_scale = 127.0 / (np.max(np.abs(W), axis=np_axis, keepdims=True) + 1e-7)
    want = np.clip(np.round(W * want_scale), -127, 127).astype("int8")
    assert out.dtype == tf.int8 and scale.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), want)
    np.testing.assert_allclose(scale.numpy(), want_scale, rtol=1e-6)
    # dequantizing recovers the input to half a quantization step
    assert np.all(np.abs(out.numpy() / scale.numpy() - W) <= 0.5 / scale.numpy() + 1e-6)


def test_abs_max_quantizer_object_and_config():
    quant = q.AbsMaxQuantizer(axis=0, value_range=(-8, 7))
    assert quant.axis == (0,)
    out, scale = quant(W)
    want_scale = 7.0 / (np.max(np.abs(W), axis=0, keepdims=True) + 1e-7)
    np.testing.assert_array_equal(out.numpy(), np.clip(np.round(W * want_scale), -8, 7))
    config = quant.get_config()
    assert config == {"value_range": (-8, 7), "epsilon": 1e-7, "output_dtype": "int8",
                      "axis": (0,)}  # fmt: skip
    again = q.AbsMaxQuantizer.from_config(config)
    np.testing.assert_array_equal(again(W)[0].numpy(), out.numpy())
    assert "axis" not in q.AbsMaxQuantizer().get_config()
    with pytest.raises(ValueError, match=r"\[-128, 127\]"):
        q.AbsMaxQuantizer(value_range=(-200, 200))


def test_base_quantizer():
    base = q.Quantizer()
    assert base.output_dtype == "int8" and base(W) is W
    with pytest.raises(NotImplementedError):
        base.get_config()
    assert tf.keras.Quantizer is q.Quantizer


# --------------------------------------------------------- grouped with zero point
def _grouped_reference(x, block, qmin, qmax, eps, unit_range_for_flat):
    n, m = x.shape
    groups = -(-n // block)
    xp = np.concatenate([x, np.zeros((groups * block - n, m), x.dtype)]).reshape(groups, block, m)
    lo, hi = xp.min(axis=1), xp.max(axis=1)
    if unit_range_for_flat:  # the tensor path widens constant groups to a unit range
        flat = lo == hi
        lo, hi = np.where(flat, lo - 1, lo), np.where(flat, hi + 1, hi)
    scale = (hi - lo + eps) / (qmax - qmin)
    zero = np.clip(np.round(-lo / scale) + qmin, qmin, qmax)
    out = np.clip(np.round(xp / scale[:, None]) + zero[:, None], qmin, qmax)
    return out.reshape(groups * block, m)[:n].astype("int8"), scale, zero.astype("int8")


@pytest.mark.parametrize("to_numpy", [False, True])
@pytest.mark.parametrize("block", [4, 5, 10])
def test_grouped_quantize_formula(block, to_numpy):
    out, scale, zero = q.abs_max_quantize_grouped_with_zero_point(
        tf.constant(W), block, to_numpy=to_numpy
    )
    w_out, w_scale, w_zero = _grouped_reference(W, block, -8, 7, 1e-7, not to_numpy)
    np.testing.assert_allclose(scale.numpy(), w_scale, rtol=1e-6)
    np.testing.assert_array_equal(zero.numpy(), w_zero)
    assert zero.dtype == tf.int8 and out.dtype == tf.int8
    # ties in round() may fall either way after float rounding of x / scale
    assert np.mean(out.numpy() == w_out) > 0.99
    assert np.max(np.abs(out.numpy().astype(int) - w_out)) <= 1


def test_compute_quantization_parameters_per_channel_and_tensor():
    scale, zero, maxq = q.compute_quantization_parameters(W, bits=4, per_channel=True)
    lo, hi = W.min(axis=1, keepdims=True), W.max(axis=1, keepdims=True)
    np.testing.assert_allclose(scale.numpy(), (hi - lo) / 15, rtol=1e-6)
    np.testing.assert_array_equal(zero.numpy(), np.round(-lo / ((hi - lo) / 15)))
    assert zero.dtype == tf.uint8 and float(maxq) == 15.0
    s2, z2, _ = q.compute_quantization_parameters(W, bits=8, symmetric=True)
    amax = np.abs(W).max()
    np.testing.assert_allclose(s2.numpy(), np.full((10, 1), 2 * amax / 255), rtol=1e-6)
    np.testing.assert_array_equal(z2.numpy(), np.full((10, 1), 128))
    with pytest.raises(ValueError, match="rank"):
        q.compute_quantization_parameters(W[0], bits=4)


# ------------------------------------------------------------------ fake quant
def _fake_quant_reference(x, lo, hi, bits, narrow):
    qmin, qmax = (1.0 if narrow else 0.0), float(2**bits - 1)
    scale = (hi - lo) / (qmax - qmin)
    z = qmin - lo / scale
    z = np.clip(np.sign(z) * np.floor(np.abs(z) + 0.5), qmin, qmax)
    nmin, nmax = (qmin - z) * scale, (qmax - z) * scale
    c = np.clip(x, nmin, nmax)
    return np.floor((c - nmin) / scale + 0.5) * scale + nmin, nmin, nmax


@pytest.mark.parametrize("bits,narrow", [(8, False), (4, True), (2, False)])
def test_fake_quant_matches_formula_and_gradient(bits, narrow):
    x = tf.constant(np.linspace(-1.5, 1.7, 40, dtype="float32"))
    lo, hi = tf.constant(-1.0), tf.constant(1.2)
    with tf.GradientTape() as tape:
        tape.watch([x, lo, hi])
        y = q.fake_quant_with_min_max_vars(x, lo, hi, num_bits=bits, narrow_range=narrow)
        loss = tf.reduce_sum(y * np.arange(40, dtype="float32"))
    want, nmin, nmax = _fake_quant_reference(x.numpy(), -1.0, 1.2, bits, narrow)
    np.testing.assert_allclose(y.numpy(), want, atol=1e-6)
    gx, glo, ghi = tape.gradient(loss, [x, lo, hi])
    up = np.arange(40, dtype="float32")
    xv = x.numpy()
    np.testing.assert_array_equal(gx.numpy(), np.where((xv >= nmin) & (xv <= nmax), up, 0))
    np.testing.assert_allclose(float(glo), up[xv < nmin].sum())
    np.testing.assert_allclose(float(ghi), up[xv > nmax].sum())


def test_fake_quant_per_channel_axis():
    x = RNG.normal(size=(3, 4, 5)).astype("float32")
    lo = np.array([-1.0, -0.5, -2.0, -0.1], "float32")
    hi = np.array([1.0, 0.5, 0.3, 2.0], "float32")
    y = q.fake_quant_with_min_max_vars(x, lo, hi, axis=1)
    for c in range(4):
        want = _fake_quant_reference(x[:, c], lo[c], hi[c], 8, False)[0]
        np.testing.assert_allclose(y.numpy()[:, c], want, atol=1e-6)


# ------------------------------------------------------------------------- float8
def test_compute_float8_scale_cases():
    amax = tf.constant([2.0, 0.0, np.inf], "float32")
    scale = tf.constant([0.5, 0.25, 4.0], "float32")
    got = q.compute_float8_scale(amax, scale, 448.0, margin=1).numpy()
    # new scale = amax / dtype_max * 2**margin; zero / non-finite amax keep the old one
    np.testing.assert_allclose(got, [2.0 / 448.0 * 2, 0.25, 4.0], rtol=1e-6)


def test_compute_float8_amax_history_rolls_and_records():
    hist = tf.constant([1.0, 2.0, 3.0, 4.0])
    got = q.compute_float8_amax_history(tf.constant([[-7.5, 2.0]]), hist)
    np.testing.assert_array_equal(got.numpy(), [7.5, 3.0, 4.0, 1.0])


def test_quantize_and_dequantize_float8():
    pytest.importorskip("ml_dtypes")
    import ml_dtypes

    x = np.array([0.1, -3.3, 1000.0, 12.34], "float32")
    got = q.quantize_and_dequantize(tf.constant(x), 0.5, "float8_e4m3fn", "float32")
    # divide, clip to the format's finite range, round through float8, rescale
    want = np.clip(x / 0.5, -448, 448).astype(ml_dtypes.float8_e4m3fn).astype("float32") * 0.5
    np.testing.assert_array_equal(got.numpy(), want)
    assert got.dtype == tf.float32


# --------------------------------------------------------------------------- int4
@pytest.mark.parametrize("dtype", ["int8", "uint8"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_pack_unpack_int4_round_trip(axis, dtype):
    lo, hi = (-8, 8) if dtype == "int8" else (0, 16)
    arr = RNG.integers(lo, hi, size=(5, 7)).astype(dtype)
    packed, shape, n = q.pack_int4(tf.constant(arr), axis=axis, dtype=dtype)
    assert n == arr.shape[axis] and tuple(packed.shape) == shape
    assert shape[axis] == (arr.shape[axis] + 1) // 2
    # the even element sits in the low nibble, the odd one in the high nibble
    a = np.moveaxis(arr, axis, 0).astype(int)
    p = np.moveaxis(packed.numpy(), axis, 0).astype(int) & 0xFF
    np.testing.assert_array_equal(p & 15, a[::2] & 15)
    np.testing.assert_array_equal((p >> 4)[: a.shape[0] // 2], a[1::2] & 15)
    back = q.unpack_int4(packed, n, axis=axis, dtype=dtype)
    assert back.dtype == tf.as_dtype(dtype)
    np.testing.assert_array_equal(back.numpy(), arr)


def test_int4_errors():
    with pytest.raises(ValueError, match="'int8' or 'uint8'"):
        q.pack_int4(tf.constant(np.zeros(4, "int8")), dtype="int4")
    with pytest.raises(TypeError, match="int8 tensor for packing"):
        q.pack_int4(tf.constant(np.zeros(4, "int32")))
    with pytest.raises(TypeError, match="unpacking"):
        q.unpack_int4(tf.constant(np.zeros(4, "float32")), 8)


# ---------------------------------------------------------------- configs, get, ser.
def test_configs_modes_and_validation():
    assert q.Int8QuantizationConfig().mode == "int8"
    assert isinstance(q.Int8QuantizationConfig().activation_quantizer, q.AbsMaxQuantizer)
    assert q.Int4QuantizationConfig().activation_quantizer is None
    assert q.Float8QuantizationConfig().mode == "float8"
    with pytest.raises(ValueError, match="block_size"):
        q.Int4QuantizationConfig(block_size=0)
    with pytest.raises(ValueError, match="sub-channel"):
        q.Int4QuantizationConfig(weight_quantizer=q.AbsMaxQuantizer(value_range=(-8, 7)))
    with pytest.raises(ValueError, match=r"value_range=\(-8, 7\)"):
        q.Int4QuantizationConfig(weight_quantizer=q.AbsMaxQuantizer(), block_size=None)
    gptq = q.GPTQConfig(None, None, weight_bits=3, group_size=64)
    assert gptq.mode == "gptq" and gptq.dtype_policy_string() == "gptq/3/64"
    assert q.GPTQConfig.from_config(gptq.get_config()).get_config() == gptq.get_config()
    awq = q.AWQConfig(None, None, group_size=-1)
    assert awq.mode == "awq" and awq.dtype_policy_string() == "awq/4/-1"
    for bad in ({"weight_bits": 5}, {"num_samples": 0}, {"hessian_damping": 2.0},
                {"group_size": 0}):  # fmt: skip
        with pytest.raises(ValueError):
            q.GPTQConfig(None, None, **bad)
    with pytest.raises(ValueError, match="4-bit"):
        q.AWQConfig(None, None, weight_bits=8)
    with pytest.raises(NotImplementedError):
        _ = q.QuantizationConfig().mode


def test_get_serialize_deserialize_round_trip():
    quant = q.AbsMaxQuantizer(axis=1, value_range=(-64, 64))
    config = q.serialize(quant)
    assert config["module"] == "keras.quantizers" and config["class_name"] == "AbsMaxQuantizer"
    again = q.deserialize(config)
    assert isinstance(again, q.AbsMaxQuantizer) and again.get_config() == quant.get_config()
    assert q.get(config).axis == (1,)
    assert q.get(None) is None and q.get(quant) is quant
    assert isinstance(q.get("abs_max_quantizer"), q.AbsMaxQuantizer)
    with pytest.raises(ValueError, match="Could not interpret"):
        q.get("no_such_quantizer")
    cfg = q.Int8QuantizationConfig(weight_quantizer=quant)
    back = q.Int8QuantizationConfig.from_config(cfg.get_config())
    assert back.weight_quantizer.get_config() == quant.get_config()


# ------------------------------------------------------------------------ vs Keras
def test_matches_keras_numerics():
    kq = keras_quantizers()
    for axis in (-1, 0):
        ko, ks = kq.abs_max_quantize(W, axis)
        ro, rs = q.abs_max_quantize(W, axis)
        np.testing.assert_array_equal(ro.numpy(), np.asarray(ko))
        np.testing.assert_allclose(rs.numpy(), np.asarray(ks), rtol=1e-6)
    for to_numpy in (False, True):
        k = kq.abs_max_quantize_grouped_with_zero_point(W, 4, to_numpy=to_numpy)
        r = q.abs_max_quantize_grouped_with_zero_point(W, 4, to_numpy=to_numpy)
        for a, b in zip(r, k):
            assert a.dtype.name == np.asarray(b).dtype.name
            np.testing.assert_allclose(a.numpy(), np.asarray(b), rtol=1e-6)
    x = np.linspace(-2, 2, 33, dtype="float32")
    np.testing.assert_allclose(
        q.fake_quant_with_min_max_vars(x, -1.3, 0.9, num_bits=5, narrow_range=True).numpy(),
        np.asarray(kq.fake_quant_with_min_max_vars(x, -1.3, 0.9, num_bits=5, narrow_range=True)),
        atol=1e-6,
    )
    x3 = RNG.normal(size=(2, 3, 4)).astype("float32")
    lo, hi = -np.abs(RNG.normal(size=3)).astype("float32"), np.abs(RNG.normal(size=3))
    np.testing.assert_allclose(
        q.fake_quant_with_min_max_vars(x3, lo, hi.astype("float32"), axis=1).numpy(),
        np.asarray(kq.fake_quant_with_min_max_vars(x3, lo, hi.astype("float32"), axis=1)),
        atol=1e-6,
    )
    arr = RNG.integers(-8, 8, size=(7, 3)).astype("int8")
    kp, kshape, kn = kq.pack_int4(arr, axis=0)
    rp, rshape, rn = q.pack_int4(tf.constant(arr), axis=0)
    np.testing.assert_array_equal(rp.numpy(), np.asarray(kp))
    assert (rshape, rn) == (kshape, kn)
    np.testing.assert_array_equal(q.unpack_int4(rp, rn).numpy(), np.asarray(kq.unpack_int4(kp, kn)))
    hist = np.array([1.0, 5.0, 2.0], "float32")
    np.testing.assert_array_equal(
        q.compute_float8_amax_history(x, tf.constant(hist)).numpy(),
        np.asarray(kq.compute_float8_amax_history(x, hist)),
    )
    amax, scale = np.array([3.0, 0.0], "float32"), np.array([0.5, 2.0], "float32")
    np.testing.assert_allclose(
        q.compute_float8_scale(amax, scale, 57344.0, margin=2).numpy(),
        np.asarray(kq.compute_float8_scale(amax, scale, 57344.0, margin=2)),
        rtol=1e-6,
    )


def test_matches_keras_config_and_get():
    kq = keras_quantizers()
    quant = q.AbsMaxQuantizer(axis=-1)
    kquant = kq.AbsMaxQuantizer(axis=-1)
    assert q.serialize(quant) == kq.serialize(kquant)
    # Keras passes get()'s kwargs dict positionally, so a class name gives axis=()
    assert q.get("AbsMaxQuantizer").axis == kq.get("AbsMaxQuantizer").axis
    for cls in ("Int8QuantizationConfig", "Int4QuantizationConfig"):
        ours, theirs = getattr(q, cls)().get_config(), getattr(kq, cls)().get_config()
        assert ours == theirs
