"""tf.signal under rill and under TensorFlow itself: the FFTs (1-3 D, real, with
fft_length), framing, overlap-add, windows, STFT and inverse, DCTs, MDCT, mel matrices and
MFCCs; their gradients; and the error class of every bad input (tests/tf_errors.py).
TF 2.21 has no CPU kernel for the N-D transforms (fftnd & co.), so those are checked
against NumPy in test_fft.py instead.

Skipped unless TensorFlow is importable; run with
``PYTHONPATH=. /work/peers/bin/python -m pytest tests/signal/test_against_tensorflow.py``.
"""

import importlib.util

import numpy as np
import pytest

import rill
from tests.tf_errors import compare_outcomes

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="TensorFlow not installed"
)

_rng = np.random.default_rng(11)
Z64 = (_rng.standard_normal((3, 4, 5, 6)) + 1j * _rng.standard_normal((3, 4, 5, 6))).astype(
    np.complex64
)
Z128 = Z64.astype(np.complex128) * 1.5
X32 = _rng.standard_normal((3, 4, 5, 6)).astype(np.float32)
X64 = X32.astype(np.float64) * 0.5
SIG = _rng.standard_normal((2, 1000)).astype(np.float32)
SIG64 = SIG.astype(np.float64)
FRAMES = _rng.standard_normal((2, 7, 9)).astype(np.float32)
LOGMEL = _rng.standard_normal((2, 5, 13)).astype(np.float32)
D16 = _rng.standard_normal((3, 16)).astype(np.float32)

EXPRESSIONS = [
    *[f"tf.signal.{f}(tf.constant({z}))" for f in ("fft", "ifft", "fft2d", "ifft2d", "fft3d", "ifft3d") for z in ("Z64", "Z128")],
    *[f"tf.signal.{f}(tf.constant({x}), {fl})"
      for r, f in ((1, "rfft"), (2, "rfft2d"), (3, "rfft3d"))
      for x in ("X32", "X64")
      for fl in (None, [4, 6, 8][-r:], [3, 5, 5][-r:], [9, 2, 7][-r:])],  # fmt: skip
    *[f"tf.signal.{f}(tf.constant({z}), {fl})"
      for r, f in ((1, "irfft"), (2, "irfft2d"), (3, "irfft3d"))
      for z in ("Z64", "Z128")
      for fl in (None, [4, 6, 8][-r:], [3, 5, 5][-r:], [9, 2, 7][-r:])],  # fmt: skip
    "tf.signal.fft(np.ones(4, np.float32))", "tf.signal.fft(tf.ones(4))", "tf.signal.rfft(np.ones(4, np.int32))",
    "tf.signal.rfft(tf.ones(4, tf.int32))", "tf.signal.irfft(tf.ones(4))", "tf.signal.fft2d(tf.ones(4, tf.complex64))",
    "tf.signal.rfft2d(tf.ones([3, 4]), [4])", "tf.signal.fft([1 + 2j, 3j])", "tf.signal.rfft([1.0, 2.0, 3.0])",
    *[f"tf.signal.{f}(X32, {a})" for f in ("fftshift", "ifftshift") for a in (None, 0, [1, 2], -1)],
    *[f"tf.signal.frame(SIG, {fl}, {st}, {pe}, pad_value=2.5, axis={ax})"
      for fl, st in ((8, 3), (8, 8), (5, 7), (600, 3), (1, 1)) for pe in (False, True) for ax in (-1, 0, 1)],  # fmt: skip
    *[f"tf.signal.overlap_and_add(FRAMES, {st})" for st in (1, 2, 3, 4, 9, 12)],
    "tf.signal.overlap_and_add(FRAMES, tf.constant(2.0))",
    *[f"tf.signal.{w}({n}, {p}, tf.{d})" for w in ("hann_window", "hamming_window") for n in (1, 2, 7, 16) for p in (True, False) for d in ("float32", "float64")],
    *[f"tf.signal.{w}({n}, {b}, tf.{d})" for w in ("kaiser_window", "kaiser_bessel_derived_window") for n in (1, 2, 7, 16) for b in (0.5, 12.0, 40.0) for d in ("float32", "float64")],
    *[f"tf.signal.vorbis_window({n}, tf.{d})" for n in (1, 7, 16) for d in ("float32", "float64")],
    "tf.signal.hann_window(4, dtype=tf.int32)",
    *[f"tf.signal.stft({s}, {fl}, {st}, {n}, pad_end={pe})"
      for s in ("SIG", "tf.constant(SIG64)") for fl, st, n in ((256, 64, None), (200, 80, 256), (100, 30, 64), (128, 128, 128)) for pe in (False, True)],  # fmt: skip
    *[f"tf.signal.inverse_stft(tf.signal.stft(SIG, {fl}, {st}, {n}), {fl}, {st}, {n})" for fl, st, n in ((256, 64, None), (200, 80, 256), (100, 30, 64))],
    *[f"tf.signal.inverse_stft(tf.signal.stft(SIG, {fl}, {st}), {fl}, {st}, window_fn=tf.signal.inverse_stft_window_fn({st}))" for fl, st in ((256, 64), (100, 30))],
    *[f"tf.signal.{f}(D16, {t}, {n}, norm={nm!r})" for f in ("dct", "idct") for t in (1, 2, 3, 4) for n in (None, 10, 20) for nm in (None, "ortho")],
    "tf.signal.dct(D16, axis=0)", "tf.signal.dct(D16, n=0)", "tf.signal.dct(D16[:, :1], type=1)",
    *[f"tf.signal.mdct(SIG, {fl}, {w}, norm={nm!r})" for fl in (16, 32) for w in ("tf.signal.vorbis_window", "tf.signal.kaiser_bessel_derived_window", "None") for nm in (None, "ortho")],
    *[f"tf.signal.inverse_mdct(tf.signal.mdct(SIG, 32, norm={nm!r}), norm={nm!r})" for nm in (None, "ortho")],
    "tf.signal.mdct(SIG, 6)",
    *[f"tf.signal.linear_to_mel_weight_matrix({a}dtype=tf.{d})" for a in ("", "40, 257, 16000, 20.0, 8000.0, ", "10, 33, 4000, 0.0, 1000.0, ") for d in ("float32", "float64")],
    "tf.signal.linear_to_mel_weight_matrix(0)", "tf.signal.linear_to_mel_weight_matrix(upper_edge_hertz=5000.0)",
    "tf.signal.linear_to_mel_weight_matrix(lower_edge_hertz=300.0, upper_edge_hertz=200.0)",
    "tf.signal.mfccs_from_log_mel_spectrograms(LOGMEL)",
]  # fmt: skip

GRADIENTS = [
    "tf.math.real(tf.signal.rfft(x))", "tf.math.imag(tf.signal.rfft(x, [9]))", "tf.math.real(tf.signal.rfft(x, [4]))",
    "tf.math.real(tf.signal.rfft2d(x))", "tf.math.imag(tf.signal.rfft2d(x, [3, 7]))",
    "tf.signal.irfft(tf.signal.rfft(x) * tf.constant(1 + 0.5j, tf.complex64))",
    "tf.signal.irfft(tf.signal.rfft(x) * tf.constant(1 - 0.5j, tf.complex64), [7])",
    "tf.signal.irfft2d(tf.signal.rfft2d(x) * tf.constant(0.3 + 2j, tf.complex64), [4, 6])",
    "tf.math.real(tf.signal.fft(tf.cast(x, tf.complex64) * (1 + 2j)))", "tf.math.imag(tf.signal.ifft2d(tf.cast(x, tf.complex64) * (2 - 1j)))",
    "tf.math.real(tf.signal.fft3d(tf.cast(x[None], tf.complex64)))",
    "tf.math.abs(tf.signal.stft(tf.reshape(x, [-1]), 8, 4))", "tf.signal.dct(x, 2, norm='ortho')", "tf.signal.dct(x, 4)",
    "tf.signal.idct(x, 2)", "tf.signal.frame(x, 3, 2)", "tf.signal.overlap_and_add(tf.reshape(x, [3, 2, 4]), 3)",
    "tf.signal.mfccs_from_log_mel_spectrograms(x)", "tf.signal.mdct(tf.reshape(x, [-1]), 8)",
]  # fmt: skip


# TensorFlow's own gradients fail (shape errors inside its gradient functions) when
# fft_length differs from what the input implies; rill's match finite differences there
# (tests/signal/test_fft.py)
TF_GRADIENT_FAILS = {
    "tf.math.imag(tf.signal.rfft2d(x, [3, 7]))",
    "tf.math.real(tf.signal.rfft(x, [4]))",
    "tf.signal.irfft(tf.signal.rfft(x) * tf.constant(1 - 0.5j, tf.complex64), [7])",
    "tf.signal.irfft2d(tf.signal.rfft2d(x) * tf.constant(0.3 + 2j, tf.complex64), [4, 6])",
}


def _run(lib, expr):
    env = {k: v for k, v in globals().items() if k.isupper()}
    try:
        out = eval(expr, {"tf": lib, "np": np, **env})  # noqa: S307
    except Exception as e:  # noqa: BLE001 - the error class is the observable
        return ("raise", e)
    outs = out if isinstance(out, (list, tuple)) else [out]
    return ("ok", [(np.asarray(o), o.dtype.name) for o in outs])


def _compare(r, t, what):
    if compare_outcomes(r, t, what):
        return
    assert len(r[1]) == len(t[1]), what
    for (rv, rd), (tv, td) in zip(r[1], t[1]):
        assert rd == td, f"{what}: dtype {rd} vs {td}"
        assert rv.shape == tv.shape, f"{what}: shape {rv.shape} vs {tv.shape}"
        if rv.dtype.kind in "fc":
            scale = max(1.0, float(np.abs(tv).max())) if tv.size else 1.0
            tol = 3e-5 if rd in ("float32", "complex64") else 1e-10
            np.testing.assert_allclose(rv, tv, rtol=tol, atol=tol * scale, err_msg=what)
        else:
            np.testing.assert_array_equal(rv, tv, err_msg=what)


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_signal_expression_matches_tensorflow(expr):
    import tensorflow as tf

    _compare(_run(rill, expr), _run(tf, expr), expr)


@pytest.mark.parametrize(
    "expr",
    [
        pytest.param(e, marks=pytest.mark.xfail(strict=True, reason="TF's gradient raises"))
        if e in TF_GRADIENT_FAILS
        else e
        for e in GRADIENTS
    ],
)
def test_signal_gradient_matches_tensorflow(expr):
    import tensorflow as tf

    x0 = _rng.standard_normal((3, 8)).astype(np.float32)
    w = _rng.standard_normal(1000).astype(np.float32)

    def grad(lib):
        x = lib.constant(x0)
        with lib.GradientTape() as tape:
            tape.watch(x)
            y = eval(expr, {"tf": lib, "x": x, "np": np})  # noqa: S307
            n = int(np.prod(y.shape))
            loss = lib.reduce_sum(lib.reshape(y, [-1]) * lib.constant(np.resize(w, n)))
        return tape.gradient(loss, x).numpy()

    np.testing.assert_allclose(grad(rill), grad(tf), rtol=1e-4, atol=1e-4, err_msg=expr)
