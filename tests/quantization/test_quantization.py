"""tf.quantization: fake quantization, quantize-and-dequantize, quantize / dequantize /
quantized_concat, against NumPy references, closed-form gradients and TensorFlow."""

import numpy as np
import pytest

import rill as tf
import rill.quantization as q
from tests.gradcheck import assert_grad_matches_closed_form

# no value sits on a rounding tie of the grids used (float32 vs float64 would differ there)
X = np.array([[-7.0, -1.3, 0.0, 0.4, 0.55], [2.2, 5.9, 6.5, -6.01, 3.14]], np.float32)


def _ref_fake_quant(x, mn, mx, num_bits=8, narrow_range=False):
    """TF's documented nudging, in float64: the grid of 2**num_bits steps over [mn, mx]
    shifted so that 0.0 falls on it."""
    qmin, qmax = (1 if narrow_range else 0), 2**num_bits - 1
    scale = (mx - mn) / (qmax - qmin)
    zp = np.clip(np.round(qmin - mn / scale), qmin, qmax)
    nmin, nmax = (qmin - zp) * scale, (qmax - zp) * scale
    c = np.clip(x.astype(np.float64), nmin, nmax)
    return np.floor((c - nmin) / scale + 0.5) * scale + nmin, nmin, nmax


@pytest.mark.parametrize("mn,mx,bits,narrow", [(-6, 6, 8, False), (-0.3, 2.7, 8, True),
                                               (0.5, 3.0, 4, False), (-5, -1, 8, False)])  # fmt: skip
def test_fake_quant_matches_nudged_grid(mn, mx, bits, narrow):
    want, _, _ = _ref_fake_quant(X, mn, mx, bits, narrow)
    got = q.fake_quant_with_min_max_args(X, mn, mx, bits, narrow)
    assert got.dtype == tf.float32 and got.shape == X.shape
    np.testing.assert_allclose(got.numpy(), want, atol=2e-6)
    v = q.fake_quant_with_min_max_vars(X, np.float32(mn), np.float32(mx), bits, narrow)
    np.testing.assert_array_equal(v.numpy(), got.numpy())


def test_per_channel_is_the_per_tensor_op_on_each_channel():
    mins, maxs = np.float32([-1, -2, -3, 0.1, -6]), np.float32([1, 2, 3, 4, 6])
    got = q.fake_quant_with_min_max_vars_per_channel(X, mins, maxs).numpy()
    for c in range(X.shape[1]):
        col = q.fake_quant_with_min_max_vars(X[:, c], mins[c], maxs[c]).numpy()
        np.testing.assert_array_equal(got[:, c], col)


def test_fake_quant_gradients_closed_form():
    # straight through inside the nudged range; the rest goes to min (below) / max (above)
    _, nmin, nmax = _ref_fake_quant(X, -6.0, 6.0)
    inside = ((X >= nmin) & (X <= nmax)).astype(np.float32)
    w = np.arange(1, X.size + 1, dtype=np.float32).reshape(X.shape)

    def f_args(x):
        return tf.reduce_sum(q.fake_quant_with_min_max_args(x, -6.0, 6.0) * w)

    assert_grad_matches_closed_form(f_args, [X], [w * inside])

    def f_vars(x, mn, mx):
        return tf.reduce_sum(q.fake_quant_with_min_max_vars(x, mn, mx) * w)

    mn, mx = np.float32(-6.0), np.float32(6.0)
    want = [w * inside, np.sum(w * (X < nmin)), np.sum(w * (X > nmax))]
    assert_grad_matches_closed_form(f_vars, [X, mn, mx], want)


def test_per_channel_gradients_closed_form():
    mins, maxs = np.float32([-1, -2, -3, 0.1, -6]), np.float32([1, 2, 3, 4, 6])
    w = np.arange(1, X.size + 1, dtype=np.float32).reshape(X.shape)
    inside, below, above = [], [], []
    for c in range(X.shape[1]):
        _, lo, hi = _ref_fake_quant(X[:, c], float(mins[c]), float(maxs[c]))
        inside.append((X[:, c] >= lo) & (X[:, c] <= hi))
        below.append(np.sum(w[:, c] * (X[:, c] < lo)))
        above.append(np.sum(w[:, c] * (X[:, c] > hi)))

    def f(x, mn, mx):
        return tf.reduce_sum(q.fake_quant_with_min_max_vars_per_channel(x, mn, mx) * w)

    want = [w * np.stack(inside, 1), np.float32(below), np.float32(above)]
    assert_grad_matches_closed_form(f, [X, mins, maxs], want)


def test_gradient_ops_are_the_tape_gradients():
    g = np.arange(X.size, dtype=np.float32).reshape(X.shape)
    _, nmin, nmax = _ref_fake_quant(X, -2.0, 3.0)
    out = q.fake_quant_with_min_max_args_gradient(g, X, -2.0, 3.0)
    np.testing.assert_array_equal(out.numpy(), g * ((X >= nmin) & (X <= nmax)))
    dx, dmin, dmax = q.fake_quant_with_min_max_vars_gradient(g, X, -2.0, 3.0)
    assert float(dmin) == np.sum(g[X < nmin]) and float(dmax) == np.sum(g[X > nmax])


def _ref_qdq(x, mn, mx, signed=True, bits=8, narrow=False, half_up=False):
    """Scale so that the range's larger side fills the integer range, round, scale back."""
    lo = (-(2 ** (bits - 1)) + narrow) if signed else 0
    hi = 2 ** (bits - 1) - 1 if signed else 2**bits - 1
    s_min = lo / mn if lo * mn > 0 else np.inf
    s_max = hi / mx if hi * mx > 0 else np.inf
    s = min(s_min, s_max)
    lo_r, hi_r = (mn, hi / s) if s_min < s_max else (lo / s, mx)
    v = np.clip(x.astype(np.float64), lo_r, hi_r) * s
    return (np.floor(v + 0.5) if half_up else np.rint(v)) / s


@pytest.mark.parametrize("kw", [dict(), dict(num_bits=4, narrow_range=True),
                                dict(round_mode="HALF_UP"), dict(signed_input=False)])  # fmt: skip
def test_quantize_and_dequantize_matches_reference(kw):
    x = X.astype(np.float64)
    mn, mx = (-2.5, 3.0) if kw.get("signed_input", True) else (0.0, 3.0)
    got = q.quantize_and_dequantize_v2(x, mn, mx, range_given=True, **kw)
    want = _ref_qdq(x, mn, mx, kw.get("signed_input", True), kw.get("num_bits", 8),
                    kw.get("narrow_range", False), kw.get("round_mode") == "HALF_UP")  # fmt: skip
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    # without range_given the range is the input's own
    got = q.quantize_and_dequantize(x, 0.0, 0.0, **kw)
    want = _ref_qdq(x, x.min(), x.max(), kw.get("signed_input", True), kw.get("num_bits", 8),
                    kw.get("narrow_range", False), kw.get("round_mode") == "HALF_UP")  # fmt: skip
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


def test_quantize_and_dequantize_per_axis():
    mins, maxs = np.float32([-1, -2, -3, -4, -5]), np.float32([1, 2, 3, 4, 5])
    got = q.quantize_and_dequantize_v2(X, mins, maxs, range_given=True, axis=1).numpy()
    for c in range(5):
        want = q.quantize_and_dequantize_v2(X[:, c], mins[c], maxs[c], range_given=True)
        np.testing.assert_array_equal(got[:, c], want.numpy())


def test_quantize_and_dequantize_gradients_closed_form():
    x = X.astype(np.float64)
    w = np.arange(1, x.size + 1, dtype=np.float64).reshape(x.shape)

    def v1(t):
        return tf.reduce_sum(q.quantize_and_dequantize(t, -2.0, 3.0, range_given=True) * w)

    def v2(t):
        return tf.reduce_sum(q.quantize_and_dequantize_v2(t, -2.0, 3.0, range_given=True) * w)

    assert_grad_matches_closed_form(v1, [x], [w])  # V1's gradient: the identity
    assert_grad_matches_closed_form(v2, [x], [w * ((x >= -2.0) & (x <= 3.0))])


def test_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="min has to be smaller"):
        q.fake_quant_with_min_max_args(X, 1.0, -1.0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_bits"):
        q.fake_quant_with_min_max_args(X, num_bits=1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="float32"):
        q.fake_quant_with_min_max_args(X.astype(np.float64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid range"):
        q.quantize_and_dequantize_v2(X, 3.0, 1.0, range_given=True)
    with pytest.raises(tf.errors.InvalidArgumentError, match="only supported for mode 'SCALED'"):
        q.quantize(X, -1.0, 1.0, tf.qint8, round_mode="HALF_TO_EVEN")
    with pytest.raises(tf.errors.InvalidArgumentError, match="quantized dtype"):
        q.quantize(X, -1.0, 1.0, tf.int8)


def _ints(t):
    a = np.asarray(t.numpy())
    return a.view(a.dtype.fields[a.dtype.names[0]][0]) if a.dtype.names else a


def test_quantize_min_combined_closed_form():
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 3.0], np.float32)
    out = q.quantize(x, -1.0, 1.0, tf.quint8)
    assert out.output.dtype == tf.quint8
    # (x - min) * 255 / (max - min), rounded, saturating outside [min, max]
    np.testing.assert_array_equal(
        _ints(out.output), np.floor((np.clip(x, -1, 1) + 1) * 127.5 + 0.5)
    )
    back = q.dequantize(out.output, out.output_min, out.output_max)
    np.testing.assert_allclose(back.numpy(), np.clip(x, -1, 1), atol=1 / 255 + 1e-6)


def test_quantize_scaled_round_trip():
    x = np.array([-1.0, -0.25, 0.0, 0.3, 0.999], np.float32)
    out = q.quantize(x, -1.0, 1.0, tf.qint8, mode="SCALED")
    np.testing.assert_array_equal(_ints(out.output), np.round(x * 127).clip(-128, 127))
    back = q.dequantize(out.output, out.output_min, out.output_max, mode="SCALED")
    np.testing.assert_allclose(back.numpy(), np.round(x * 127) / 127, rtol=1e-6)


# ---------------------------------------------------------------------------- TensorFlow


@pytest.fixture(scope="module")
def real_tf():
    return pytest.importorskip("tensorflow")


def _np(t):
    a = np.asarray(t.numpy() if hasattr(t, "numpy") else t)
    return a.view(a.dtype.fields[a.dtype.names[0]][0]) if a.dtype.names else a


@pytest.mark.parametrize("mn,mx,bits,narrow", [(-6, 6, 8, False), (-0.3, 2.7, 8, True),
                                               (-5, -1, 8, False), (-2.1, 3.3, 16, False)])  # fmt: skip
def test_fake_quant_matches_tensorflow(real_tf, mn, mx, bits, narrow):
    x = np.random.default_rng(0).uniform(-8, 8, (50, 5)).astype(np.float32)
    g = np.random.default_rng(1).normal(size=x.shape).astype(np.float32)
    T, R = real_tf.quantization, q
    np.testing.assert_array_equal(
        R.fake_quant_with_min_max_args(x, mn, mx, bits, narrow).numpy(),
        T.fake_quant_with_min_max_args(x, mn, mx, bits, narrow).numpy())  # fmt: skip
    mins = np.float32([mn, mn - 1, 0, -1, mn])
    maxs = np.float32([mx, mx + 1, 2, 1, mx + 0.3])
    np.testing.assert_array_equal(
        R.fake_quant_with_min_max_vars_per_channel(x, mins, maxs, bits, narrow).numpy(),
        T.fake_quant_with_min_max_vars_per_channel(x, mins, maxs, bits, narrow).numpy())  # fmt: skip
    for a, b in zip(
        R.fake_quant_with_min_max_vars_gradient(g, x, np.float32(mn), np.float32(mx), bits, narrow),
        T.fake_quant_with_min_max_vars_gradient(g, x, mn, mx, bits, narrow),
    ):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fn", ["quantize_and_dequantize", "quantize_and_dequantize_v2"])
@pytest.mark.parametrize("kw", [dict(), dict(range_given=True), dict(num_bits=4, narrow_range=True),
                                dict(round_mode="HALF_UP", signed_input=False)])  # fmt: skip
def test_quantize_and_dequantize_matches_tensorflow(real_tf, fn, kw):
    x = np.random.default_rng(2).uniform(-3, 4, (6, 5)).astype(np.float32)
    mn, mx = (0.0, 3.0) if kw.get("signed_input", True) is False else (-2.5, 3.0)
    if kw.get("signed_input", True) is False:
        x = np.abs(x)
    want = getattr(real_tf.quantization, fn)(x, mn, mx, **kw).numpy()
    np.testing.assert_array_equal(getattr(q, fn)(x, mn, mx, **kw).numpy(), want)


_EXACT = [(T, m) for T in ("qint8", "quint8", "qint16", "quint16", "qint32")
          for m in ("MIN_COMBINED", "SCALED")] + [("quint8", "MIN_FIRST"), ("quint16", "MIN_FIRST")]  # fmt: skip


@pytest.mark.parametrize("T,mode", _EXACT + [("qint8", "MIN_FIRST"), ("qint32", "MIN_FIRST")])
@pytest.mark.parametrize("rng_", [(-3.0, 5.0), (0.0, 5.0)])
def test_quantize_dequantize_match_tensorflow(real_tf, T, mode, rng_):
    x = np.random.default_rng(3).uniform(-3, 5, (4, 6)).astype(np.float32)
    t = real_tf.quantization.quantize(x, *rng_, getattr(real_tf, T), mode=mode)
    r = q.quantize(x, *rng_, getattr(tf, T), mode=mode)
    assert r.output.dtype == getattr(tf, T)
    assert float(r.output_min) == float(t.output_min)
    assert float(r.output_max) == float(t.output_max)
    td = real_tf.quantization.dequantize(t.output, t.output_min, t.output_max, mode=mode)
    rd = q.dequantize(r.output, r.output_min, r.output_max, mode=mode)
    if (T, mode) in _EXACT:
        np.testing.assert_array_equal(_np(r.output), _np(t.output))
        np.testing.assert_array_equal(rd.numpy(), td.numpy())
    else:  # signed MIN_FIRST: TF's kernels round some values one float32 ulp apart
        ulp = 256 if T == "qint32" else 1  # two float32 ulps of 2**31, or one step
        np.testing.assert_allclose(_np(r.output), _np(t.output), rtol=0, atol=ulp)
        np.testing.assert_allclose(rd.numpy(), td.numpy(), rtol=1e-6, atol=3e-7)


def test_quantize_per_axis_matches_tensorflow(real_tf):
    x = np.random.default_rng(4).uniform(-3, 5, (3, 4)).astype(np.float32)
    mn, mx = np.float32([-1, -2, -3, -4]), np.float32([1, 2, 3, 4])
    t = real_tf.quantization.quantize(x, mn, mx, real_tf.qint8, mode="SCALED", axis=1)
    r = q.quantize(x, mn, mx, tf.qint8, mode="SCALED", axis=1)
    np.testing.assert_array_equal(_np(r.output), _np(t.output))
    np.testing.assert_array_equal(r.output_max.numpy(), t.output_max.numpy())


def test_quantized_concat_matches_tensorflow(real_tf):
    x = np.random.default_rng(5).uniform(-3, 5, (3, 4)).astype(np.float32)
    ta = real_tf.quantization.quantize(x, -3.0, 5.0, real_tf.quint8, mode="MIN_FIRST")
    tb = real_tf.quantization.quantize(2 * x, -1.0, 10.0, real_tf.quint8, mode="MIN_FIRST")
    ra = q.quantize(x, -3.0, 5.0, tf.quint8, mode="MIN_FIRST")
    rb = q.quantize(2 * x, -1.0, 10.0, tf.quint8, mode="MIN_FIRST")
    t = real_tf.quantization.quantized_concat(
        1, [ta.output, tb.output], [ta.output_min, tb.output_min], [ta.output_max, tb.output_max])  # fmt: skip
    r = q.quantized_concat(
        1, [ra.output, rb.output], [ra.output_min, rb.output_min], [ra.output_max, rb.output_max])  # fmt: skip
    assert r.output.shape == (3, 8)
    np.testing.assert_array_equal(_np(r.output), _np(t.output))
    assert (float(r.output_min), float(r.output_max)) == (float(t.output_min), float(t.output_max))
