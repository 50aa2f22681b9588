"""tf.signal beyond the FFTs, against NumPy and SciPy: framing and overlap-add, windows,
STFT and its inverse, DCTs (SciPy's scipy.fft.dct), the MDCT (its defining sum), mel
filter banks, MFCCs, and gradients through them."""

import numpy as np
import pytest

import rill as tf
from tests.gradcheck import assert_grad_matches_finite_differences

scipy_fft = pytest.importorskip("scipy.fft")
windows = pytest.importorskip("scipy.signal.windows")
RNG = np.random.default_rng(4)


def frame_ref(x, length, step, pad_end=False, pad_value=0.0):
    """Frames of the last axis, by slicing."""
    n = x.shape[-1]
    if pad_end:
        frames = -(-n // step)
        extra = max(0, length + step * (frames - 1) - n)
        x = np.concatenate([x, np.full(x.shape[:-1] + (extra,), pad_value, x.dtype)], -1)
    else:
        frames = max(0, 1 + (n - length) // step)
    if not frames:
        return np.zeros(x.shape[:-1] + (0, length), x.dtype)
    return np.stack([x[..., f * step : f * step + length] for f in range(frames)], -2)


@pytest.mark.parametrize("length,step", [(8, 3), (8, 8), (5, 7), (60, 3), (1, 1)])
@pytest.mark.parametrize("pad_end", [False, True])
def test_frame_matches_slicing(length, step, pad_end):
    x = RNG.standard_normal((2, 3, 50))
    got = tf.signal.frame(x, length, step, pad_end, pad_value=2.5).numpy()
    np.testing.assert_array_equal(got, frame_ref(x, length, step, pad_end, 2.5))
    inner = tf.signal.frame(x, length, step, pad_end, axis=1).numpy()
    assert inner.shape[:2] == (2, (-(-3 // step) if pad_end else max(0, 1 + (3 - length) // step)))


@pytest.mark.parametrize("step", [1, 2, 3, 4, 9, 12])
def test_overlap_and_add_sums_shifted_frames(step):
    frames = RNG.standard_normal((2, 7, 9))
    want = np.zeros((2, 9 + step * 6))
    for f in range(7):
        want[:, f * step : f * step + 9] += frames[:, f]
    np.testing.assert_allclose(tf.signal.overlap_and_add(frames, step).numpy(), want, atol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 7, 16])
def test_windows_match_scipy(n):
    for periodic in (True, False):
        # as in TF, an odd periodic window is the symmetric one (only even lengths differ)
        sym = not (periodic and n % 2 == 0)
        np.testing.assert_allclose(
            tf.signal.hann_window(n, periodic, tf.float64).numpy(),
            windows.hann(n, sym=sym),
            atol=1e-12,
        )
        np.testing.assert_allclose(
            tf.signal.hamming_window(n, periodic, tf.float64).numpy(),
            windows.hamming(n, sym=sym),
            atol=1e-12,
        )
    for beta in (0.5, 6.0, 12.0, 40.0):
        np.testing.assert_allclose(
            tf.signal.kaiser_window(n, beta, tf.float64).numpy(),
            windows.kaiser(n, beta),
            rtol=1e-10,
        )
    if n % 2 == 0:
        np.testing.assert_allclose(tf.signal.kaiser_bessel_derived_window(n, 4.0, tf.float64).numpy(),
                                   windows.kaiser_bessel_derived(n, 4.0), rtol=1e-9)  # fmt: skip
    k = np.arange(n)
    vorbis = np.sin(np.pi / 2 * np.sin(np.pi * (k + 0.5) / n) ** 2)
    np.testing.assert_allclose(tf.signal.vorbis_window(n, tf.float64).numpy(), vorbis, atol=1e-12)
    assert tf.signal.hann_window(n).dtype == tf.float32
    with pytest.raises(ValueError, match="dtype must be a floating point type"):
        tf.signal.hann_window(n, dtype=tf.int32)


def test_stft_and_its_inverse():
    x = RNG.standard_normal((2, 1000))
    for length, step, n, pad_end in [
        (256, 64, None, False),
        (200, 80, 256, True),
        (100, 30, 64, False),
    ]:
        got = tf.signal.stft(tf.constant(x), length, step, n, pad_end=pad_end).numpy()
        fft_len = n or 256
        frames = frame_ref(x, length, step, pad_end)
        want = np.fft.rfft(frames * windows.hann(length, sym=False), fft_len)
        np.testing.assert_allclose(got, want, atol=1e-9)
    # perfect reconstruction away from the ends with the inverse window
    s = tf.signal.stft(tf.constant(x), 256, 64)
    y = tf.signal.inverse_stft(s, 256, 64, window_fn=tf.signal.inverse_stft_window_fn(64)).numpy()
    np.testing.assert_allclose(y[:, 256:-256], x[:, 256 : y.shape[1] - 256], atol=1e-9)
    assert tf.signal.stft(x.astype(np.float32), 64, 32).dtype == tf.complex64


@pytest.mark.parametrize("dct_type", [1, 2, 3, 4])
@pytest.mark.parametrize("norm", [None, "ortho"])
@pytest.mark.parametrize("n", [None, 10, 20])
def test_dct_matches_scipy(dct_type, norm, n):
    if dct_type == 1 and norm == "ortho":
        pytest.skip("TF has no orthonormal type-I DCT")
    x = RNG.standard_normal((3, 16))
    got = tf.signal.dct(tf.constant(x), dct_type, n, norm=norm).numpy()
    np.testing.assert_allclose(got, scipy_fft.dct(x, dct_type, n, norm=norm), atol=1e-10)
    inverse = {1: 1, 2: 3, 3: 2, 4: 4}[dct_type]
    got = tf.signal.idct(tf.constant(x), dct_type, n, norm=norm).numpy()
    np.testing.assert_allclose(got, scipy_fft.dct(x, inverse, n, norm=norm), atol=1e-10)
    if norm == "ortho":
        np.testing.assert_allclose(
            tf.signal.idct(
                tf.signal.dct(tf.constant(x), dct_type, norm=norm), dct_type, norm=norm
            ).numpy(),
            x,
            atol=1e-10,
        )


def test_dct_argument_errors():
    x = np.ones((2, 4), np.float32)
    with pytest.raises(NotImplementedError, match="axis must be -1"):
        tf.signal.dct(x, axis=0)
    with pytest.raises(ValueError, match="Types I, II, III and IV"):
        tf.signal.dct(x, type=5)
    with pytest.raises(ValueError, match="Normalization is not supported for the Type-I DCT"):
        tf.signal.dct(x, type=1, norm="ortho")
    with pytest.raises(
        ValueError, match="Type-I DCT requires the dimension to be greater than one"
    ):
        tf.signal.dct(x[:, :1], type=1)
    with pytest.raises(ValueError, match="n should be a positive integer"):
        tf.signal.dct(x, n=0)


def mdct_ref(frames):
    """The MDCT's defining sum over frames [..., 2N]: N outputs each, times 2 (TF's
    unnormalised MDCT goes through its unnormalised type-IV DCT, which carries a 2)."""
    two_n = frames.shape[-1]
    n = two_n // 2
    k, m = np.arange(n)[:, None], np.arange(two_n)[None]
    basis = np.cos(np.pi / n * (m + 0.5 + n / 2) * (k + 0.5))
    return 2 * frames @ basis.T


@pytest.mark.parametrize("length", [16, 32])
def test_mdct_matches_its_definition_and_inverts(length):
    x = RNG.standard_normal((2, 400))
    window = np.sin(np.pi / 2 * np.sin(np.pi * (np.arange(length) + 0.5) / length) ** 2)
    got = tf.signal.mdct(tf.constant(x), length).numpy()
    np.testing.assert_allclose(got, mdct_ref(frame_ref(x, length, length // 2) * window), atol=1e-9)
    ortho = tf.signal.mdct(tf.constant(x), length, norm="ortho")
    back = tf.signal.inverse_mdct(ortho, norm="ortho").numpy()
    h = length // 2
    np.testing.assert_allclose(back[:, h:-h], x[:, h : back.shape[1] - h], atol=1e-9)
    with pytest.raises(ValueError, match="multiple of 4"):
        tf.signal.mdct(x, 6)


def test_mel_matrix_matches_its_formula():
    got = tf.signal.linear_to_mel_weight_matrix(40, 257, 16000, 20.0, 8000.0, tf.float64).numpy()

    def mel(f):
        return 1127.0 * np.log(1.0 + f / 700.0)

    freqs = mel(np.linspace(0, 8000, 257))[1:, None]
    edges = np.linspace(mel(20.0), mel(8000.0), 42)
    lo, mid, hi = edges[:-2], edges[1:-1], edges[2:]
    want = np.maximum(0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)))
    np.testing.assert_allclose(got, np.vstack([np.zeros((1, 40)), want]), atol=1e-12)
    with pytest.raises(ValueError, match="Nyquist"):
        tf.signal.linear_to_mel_weight_matrix(upper_edge_hertz=5000.0)
    with pytest.raises(ValueError, match="num_mel_bins must be positive"):
        tf.signal.linear_to_mel_weight_matrix(0)


def test_mfccs_are_a_scaled_dct():
    x = RNG.standard_normal((2, 5, 13))
    want = scipy_fft.dct(x, 2) / np.sqrt(2 * 13)
    np.testing.assert_allclose(
        tf.signal.mfccs_from_log_mel_spectrograms(tf.constant(x)).numpy(), want, atol=1e-10
    )


def test_gradients_through_stft_dct_and_framing():
    x = RNG.standard_normal((1, 40))

    def spectral_energy(t):
        s = tf.signal.stft(t, 16, 8, 16)
        return tf.reduce_sum(tf.math.real(s) ** 2 + tf.math.imag(s) * 0.5)

    assert_grad_matches_finite_differences(spectral_energy, x)
    assert_grad_matches_finite_differences(
        lambda t: tf.reduce_sum(tf.signal.dct(t, 2, norm="ortho") * np.arange(40.0)), x
    )
    assert_grad_matches_finite_differences(
        lambda t: tf.reduce_sum(tf.signal.dct(t, 4) ** 2), x[:, :12]
    )
    assert_grad_matches_finite_differences(
        lambda t: tf.reduce_sum(tf.signal.overlap_and_add(tf.signal.frame(t, 8, 3), 3) ** 2), x
    )


def test_signal_ops_trace_into_functions():
    f = tf.function(lambda t: tf.signal.inverse_stft(tf.signal.stft(t, 64, 16), 64, 16))
    x = RNG.standard_normal((2, 300)).astype(np.float32)
    np.testing.assert_allclose(
        f(x).numpy(), tf.signal.inverse_stft(tf.signal.stft(x, 64, 16), 64, 16).numpy(), atol=1e-5
    )
