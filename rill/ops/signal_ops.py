"""``tf.signal`` beyond the Fourier transforms: framing and overlap-add, windows, the
short-time Fourier transform and its inverse, DCTs (types I-IV), the MDCT, mel filter
banks and MFCCs.

Everything here is composite over public ops (the transforms are ``fft_ops``'s
primitives), so it traces and differentiates. ``frame`` is one gather of a
[frames, frame_length] index grid; ``overlap_and_add`` sums the ceil(frame_length /
frame_step) shifted copies of the frames, a loop over those few segments, never over
frames. The DCTs are computed through real FFTs of twice the length, the standard
identities (Makhoul 1980).
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.ops import (
    array_ops,
    creation_ops,
    indexing_ops,
    math_ops,
    reduction_ops,
    shape_ops,
    unary_ops,
)
from rill.ops._op import convert_to_tensor, is_tensor_like, static_value, tf_export
from rill.ops.fft_ops import irfft, rfft

__all__ = [
    "frame", "overlap_and_add", "hann_window", "hamming_window", "kaiser_window",
    "kaiser_bessel_derived_window", "vorbis_window", "stft", "inverse_stft",
    "inverse_stft_window_fn", "dct", "idct", "mdct", "inverse_mdct",
    "linear_to_mel_weight_matrix", "mfccs_from_log_mel_spectrograms",
]  # fmt: skip

cast = array_ops.cast


def _int(v, what, op):
    """A static Python int from ``v`` (an int or a tensor whose value is known)."""
    if is_tensor_like(v):
        sv = static_value(v)
        if sv is None:
            raise ValueError(f"{op}: {what} must be known when the op is built")
        v = sv
    a = np.asarray(v)
    if a.ndim != 0:
        raise ValueError(f"{op}: {what} must be a scalar, got shape {a.shape}")
    if a.dtype.kind not in "iu":
        raise ValueError(f"{op}: {what} must be an integer, got {a.dtype}")
    return int(a)


# --------------------------------------------------------------------------------------
# frame / overlap_and_add
# --------------------------------------------------------------------------------------


@tf_export("signal.frame")
def frame(signal, frame_length, frame_step, pad_end=False, pad_value=0, axis=-1, name=None):
    """Slide a window of ``frame_length`` samples, ``frame_step`` apart, along ``axis``:
    that axis becomes [num_frames, frame_length]. With ``pad_end`` the signal is padded
    with ``pad_value`` so every sample starts a frame's worth of hops."""
    op = "frame"
    signal = convert_to_tensor(signal)
    if signal.shape.rank is not None and signal.shape.rank < 1:
        raise ValueError(f"{op}: signal must have rank at least 1, got shape {signal.shape}")
    length = _int(frame_length, "frame_length", op)
    step = _int(frame_step, "frame_step", op)
    if length <= 0 or step <= 0:
        raise ValueError(
            f"{op}: frame_length and frame_step must be positive, got {length}, {step}"
        )
    rank = signal.shape.rank
    ax = _int(axis, "axis", op) % rank
    n = signal.shape[ax]
    if n is None:
        raise ValueError(f"{op}: the framed axis must have a known size, got shape {signal.shape}")
    if pad_end:
        frames = -(-n // step)
        extra = max(0, length + step * (frames - 1) - n)
        if extra:
            paddings = [[0, 0]] * rank
            paddings[ax] = [0, extra]
            value = convert_to_tensor(pad_value, dtype=signal.dtype)
            signal = shape_ops.pad(signal, paddings, constant_values=value)
    else:
        frames = max(0, 1 + (n - length) // step)
    idx = np.arange(frames)[:, None] * step + np.arange(length)[None, :]
    if frames == 0:
        idx = np.zeros((0, length), np.int64)
    return indexing_ops.gather(signal, convert_to_tensor(idx.astype(np.int32)), axis=ax)


@tf_export("signal.overlap_and_add")
def overlap_and_add(signal, frame_step, name=None):
    """Sum frames [..., frames, frame_length] placed ``frame_step`` apart into a signal of
    (frames - 1) * frame_step + frame_length samples."""
    op = "overlap_and_add"
    signal = convert_to_tensor(signal)
    if signal.shape.rank is not None and signal.shape.rank < 2:
        raise ValueError(f"{op}: signal must have rank at least 2, got shape {signal.shape}")
    if is_tensor_like(frame_step) and not convert_to_tensor(frame_step).dtype.is_integer:
        raise ValueError(
            f"frame_step must be an integer. Got {convert_to_tensor(frame_step).dtype}"
        )
    step = _int(frame_step, "frame_step", op)
    if step <= 0:
        raise ValueError(f"{op}: frame_step must be positive, got {step}")
    dims = signal.shape.as_list()
    frames, length = dims[-2], dims[-1]
    if frames is None or length is None:
        raise ValueError(f"{op}: the frame axes must have known sizes, got shape {signal.shape}")
    outer = array_ops.shape(signal)[:-2]
    out_len = length + step * (frames - 1) if frames else length
    if step == length:  # frames tile the output exactly
        return array_ops.reshape(signal, shape_ops.concat([outer, [frames * length]], 0))
    segments = -(-length // step)
    rank = len(dims)
    # [..., frames, segments, step]: frame f's segment s lands at block f + s of the output
    padded = shape_ops.pad(signal, [[0, 0]] * (rank - 1) + [[0, segments * step - length]])
    blocks = array_ops.reshape(padded, shape_ops.concat([outer, [frames, segments, step]], 0))
    total = None
    for s in range(segments):  # a few segments, never a loop over frames
        part = blocks[..., s, :]
        part = shape_ops.pad(part, [[0, 0]] * (rank - 2) + [[s, segments - 1 - s], [0, 0]])
        total = part if total is None else total + part
    flat = array_ops.reshape(total, shape_ops.concat([outer, [(frames + segments - 1) * step]], 0))
    return flat[..., :out_len]


# --------------------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------------------


def _window_args(window_length, dtype, op):
    dtype = _d.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"dtype must be a floating point type. Found {dtype}")
    n = convert_to_tensor(window_length, dtype=_d.int32)
    if n.shape.rank not in (None, 0):
        raise ValueError(f"{op}: window_length must be a scalar, got shape {n.shape}")
    return n, dtype


def _raised_cosine(window_length, periodic, dtype, a, b, op):
    n, dtype = _window_args(window_length, dtype, op)
    nv = static_value(n)
    if nv is not None and int(nv) == 1:
        return creation_ops.ones([1], dtype=dtype)
    per = cast(convert_to_tensor(periodic, dtype=_d.bool), _d.int32)
    even = 1 - math_ops.floormod(n, 2)
    denom = cast(n + per * even - 1, dtype)
    count = cast(creation_ops.range(n), dtype)
    window = a - b * unary_ops.cos(convert_to_tensor(2 * np.pi, dtype=dtype) * count / denom)
    return cast(window, dtype)


@tf_export("signal.hann_window")
def hann_window(window_length, periodic=True, dtype=_d.float32, name=None):
    """0.5 - 0.5 cos(2 pi n / N): N = window_length (periodic) or window_length - 1."""
    return _raised_cosine(window_length, periodic, dtype, 0.5, 0.5, "hann_window")


@tf_export("signal.hamming_window")
def hamming_window(window_length, periodic=True, dtype=_d.float32, name=None):
    """0.54 - 0.46 cos(2 pi n / N): N = window_length (periodic) or window_length - 1."""
    return _raised_cosine(window_length, periodic, dtype, 0.54, 0.46, "hamming_window")


def _kaiser_np(length, beta):
    """The Kaiser window in float64: I0(beta sqrt(1 - (2n / (L - 1) - 1)^2)) / I0(beta)."""
    length = int(length)
    if length <= 0:
        return np.zeros(0)
    if length == 1:
        return np.ones(1)
    half = (length - 1) / 2.0
    arg = (np.arange(length) - half) / half
    return np.i0(beta * np.sqrt(np.maximum(0.0, 1.0 - arg * arg))) / np.i0(beta)


@tf_export("signal.kaiser_window")
def kaiser_window(window_length, beta=12.0, dtype=_d.float32, name=None):
    """The Kaiser window of shape parameter ``beta`` (symmetric)."""
    n, dtype = _window_args(window_length, dtype, "kaiser_window")
    nv = static_value(n)
    bv = static_value(beta) if is_tensor_like(beta) else beta
    if nv is not None and bv is not None:
        return convert_to_tensor(
            _kaiser_np(int(nv), float(np.asarray(bv))).astype(dtype.as_numpy_dtype)
        )
    from rill.ops.py_func import numpy_function

    def compute(length, b):
        return _kaiser_np(int(length), float(b)).astype(dtype.as_numpy_dtype)

    out = numpy_function(
        compute, [n, convert_to_tensor(beta, dtype=_d.float64)], dtype, stateful=False
    )
    return array_ops.reshape(out, [-1])


@tf_export("signal.kaiser_bessel_derived_window")
def kaiser_bessel_derived_window(window_length, beta=12.0, dtype=_d.float32, name=None):
    """The Kaiser-Bessel-derived window (for MDCTs): the square root of the normalised
    running sum of a Kaiser window, mirrored."""
    n, dtype = _window_args(window_length, dtype, "kaiser_bessel_derived_window")
    half = n // 2
    k = kaiser_window(half + 1, beta, dtype=dtype)
    csum = reduction_ops.cumsum(k)
    halfw = unary_ops.sqrt(csum[:-1] / csum[-1])
    return shape_ops.concat([halfw, shape_ops.reverse(halfw, [0])], 0)


@tf_export("signal.vorbis_window")
def vorbis_window(window_length, dtype=_d.float32, name=None):
    """The Vorbis power-complementary window, sin(pi / 2 sin^2(pi (n + 0.5) / N))."""
    n, dtype = _window_args(window_length, dtype, "vorbis_window")
    arg = cast(creation_ops.range(n), dtype)
    inner = unary_ops.sin(np.pi / cast(n, dtype) * (arg + 0.5))
    return unary_ops.sin(np.pi / 2.0 * math_ops.pow(inner, convert_to_tensor(2.0, dtype=dtype)))


# --------------------------------------------------------------------------------------
# STFT
# --------------------------------------------------------------------------------------


def _enclosing_power_of_two(n):
    return int(2 ** np.ceil(np.log(n) / np.log(2.0)))


@tf_export("signal.stft")
def stft(
    signals,
    frame_length,
    frame_step,
    fft_length=None,
    window_fn=hann_window,
    pad_end=False,
    name=None,
):
    """Short-time Fourier transform of real ``signals`` [..., samples]: windowed frames'
    real FFTs, [..., frames, fft_length // 2 + 1] (fft_length defaults to the smallest
    power of two >= frame_length)."""
    signals = convert_to_tensor(signals)
    length = _int(frame_length, "frame_length", "stft")
    step = _int(frame_step, "frame_step", "stft")
    n = (
        _enclosing_power_of_two(length)
        if fft_length is None
        else _int(fft_length, "fft_length", "stft")
    )
    frames = frame(signals, length, step, pad_end=pad_end)
    if window_fn is not None:
        frames = frames * window_fn(length, dtype=frames.dtype)
    return rfft(frames, [n])


@tf_export("signal.inverse_stft_window_fn")
def inverse_stft_window_fn(frame_step, forward_window_fn=hann_window, name=None):
    """A window function for ``inverse_stft`` that undoes ``forward_window_fn``'s
    overlap-added energy: the forward window over the sum of the squared windows that
    overlap each sample."""

    def window_fn(frame_length, dtype):
        step = _int(frame_step, "frame_step", "inverse_stft_window_fn")
        length = _int(frame_length, "frame_length", "inverse_stft_window_fn")
        forward = forward_window_fn(length, dtype=dtype)
        overlaps = -(-length // step)
        denom = shape_ops.pad(unary_ops.square(forward), [[0, overlaps * step - length]])
        denom = reduction_ops.reduce_sum(
            array_ops.reshape(denom, [overlaps, step]), 0, keepdims=True
        )
        denom = array_ops.reshape(shape_ops.tile(denom, [overlaps, 1]), [overlaps * step])[:length]
        safe = indexing_ops.where(math_ops.equal(denom, 0.0), array_ops.ones_like(denom), denom)
        return indexing_ops.where(
            math_ops.equal(denom, 0.0), array_ops.zeros_like(forward), forward / safe
        )

    return window_fn


@tf_export("signal.inverse_stft")
def inverse_stft(
    stfts, frame_length, frame_step, fft_length=None, window_fn=hann_window, name=None
):
    """Signals back from their STFTs [..., frames, bins]: inverse real FFTs, cropped or
    padded to ``frame_length``, windowed, overlap-added. Pass
    ``inverse_stft_window_fn(frame_step)`` as ``window_fn`` for perfect reconstruction."""
    stfts = convert_to_tensor(stfts)
    if stfts.shape.rank is not None and stfts.shape.rank < 2:
        raise ValueError(f"inverse_stft: stfts must have rank at least 2, got shape {stfts.shape}")
    length = _int(frame_length, "frame_length", "inverse_stft")
    step = _int(frame_step, "frame_step", "inverse_stft")
    n = (
        _enclosing_power_of_two(length)
        if fft_length is None
        else _int(fft_length, "fft_length", "inverse_stft")
    )
    frames = irfft(stfts, [n])
    have = frames.shape[-1]
    if have > length:
        frames = frames[..., :length]
    elif have < length:
        frames = shape_ops.pad(frames, [[0, 0]] * (frames.shape.rank - 1) + [[0, length - have]])
    if window_fn is not None:
        frames = frames * window_fn(length, dtype=frames.dtype)
    return overlap_and_add(frames, step)


# --------------------------------------------------------------------------------------
# DCT
# --------------------------------------------------------------------------------------


def _check_dct(x, dct_type, n, axis, norm):
    if axis != -1:
        raise NotImplementedError(f"axis must be -1. Got: {axis}")
    if n is not None and n < 1:
        raise ValueError("n should be a positive integer or None")
    if dct_type not in (1, 2, 3, 4):
        raise ValueError("Types I, II, III and IV (I)DCT are supported.")
    if dct_type == 1:
        if norm == "ortho":
            raise ValueError("Normalization is not supported for the Type-I DCT.")
        last = x.shape[-1] if x.shape.rank else None
        if last is not None and last < 2:
            raise ValueError("Type-I DCT requires the dimension to be greater than one.")
    if norm not in (None, "ortho"):
        raise ValueError(f"Unknown normalization. Expected None or 'ortho', got: {norm}")


def _phase(n, sign, dtype):
    """exp(sign * i pi k / (2 n)) for k < n, as a complex tensor."""
    k = np.arange(n)
    return convert_to_tensor(np.exp(sign * 1j * np.pi * k / (2 * n)), dtype=dtype)


def _dct(x, dct_type, norm):
    """DCT of the last axis (length N) of real ``x``, unnormalised or orthonormal."""
    n = x.shape[-1]
    if n is None:
        raise ValueError("dct: the last axis must have a known size")
    real_dtype = x.dtype
    cdtype = _d.complex64 if real_dtype != _d.float64 else _d.complex128
    rank = x.shape.rank
    if dct_type == 1:  # the real part of the FFT of the even extension
        ext = shape_ops.concat([x, shape_ops.reverse(x[..., 1:-1], [-1])], -1)
        return unary_ops.real(rfft(ext))
    if dct_type == 2:
        # 2 Re(e^{-i pi k / 2N} X_k), X the FFT of x zero-padded to 2N
        spec = rfft(x, [2 * n])[..., :n]
        out = unary_ops.real(spec * _phase(n, -1, cdtype)) * 2.0
        if norm == "ortho":
            w = np.full(n, np.sqrt(1.0 / (2 * n)))
            w[0] = np.sqrt(1.0 / (4 * n))
            out = out * convert_to_tensor(w, dtype=real_dtype)
        return out
    if dct_type == 3:
        # x_0 + 2 sum_k x_k cos(pi k (2m + 1) / 2N), through the inverse FFT of 2N points
        if norm == "ortho":
            w = np.full(n, np.sqrt(n * 0.5))
            w[0] = np.sqrt(n)
            x = x * convert_to_tensor(w, dtype=real_dtype)
        else:
            x = x * float(n)
        spec = cast(x, cdtype) * (_phase(n, 1, cdtype) * 2.0)
        return irfft(spec, [2 * n])[..., :n]
    # type 4: the odd outputs of a type-2 DCT of twice the length
    padded = shape_ops.pad(x, [[0, 0]] * (rank - 1) + [[0, n]])
    out = _dct(padded, 2, None)[..., 1::2]
    if norm == "ortho":
        out = out * float(np.sqrt(0.5 / n))
    return out


def _fit_n(x, n):
    if n is None:
        return x
    have = x.shape[-1]
    if have is None:
        raise ValueError("dct: the last axis must have a known size to use n")
    if n <= have:
        return x[..., :n]
    return shape_ops.pad(x, [[0, 0]] * (x.shape.rank - 1) + [[0, n - have]])


@tf_export("signal.dct")
def dct(input, type=2, n=None, axis=-1, norm=None, name=None):  # noqa: A002
    """Discrete cosine transform (types I-IV) of the last axis, truncated or zero-padded
    to ``n``; ``norm="ortho"`` makes types II-IV orthonormal."""
    x = convert_to_tensor(input)
    _check_dct(x, type, n, axis, norm)
    return _dct(_fit_n(x, n), type, norm)


@tf_export("signal.idct")
def idct(input, type=2, n=None, axis=-1, norm=None, name=None):  # noqa: A002
    """Inverse DCT: the DCT of the inverse type (I -> I, II -> III, III -> II, IV -> IV);
    exactly the inverse with ``norm="ortho"``, otherwise scaled by 2N (2(N-1) for type I)."""
    x = convert_to_tensor(input)
    _check_dct(x, type, n, axis, norm)
    return _dct(_fit_n(x, n), {1: 1, 2: 3, 3: 2, 4: 4}[type], norm)


# --------------------------------------------------------------------------------------
# MDCT
# --------------------------------------------------------------------------------------


@tf_export("signal.mdct")
def mdct(signals, frame_length, window_fn=vorbis_window, pad_end=False, norm=None, name=None):
    """Modified DCT of frames of ``frame_length`` (a multiple of 4) hopping by half a frame:
    [..., frames, frame_length // 2]."""
    signals = convert_to_tensor(signals)
    length = _int(frame_length, "frame_length", "mdct")
    if length % 4 != 0:
        raise ValueError("The frame length must be a multiple of 4.")
    frames = frame(signals, length, length // 2, pad_end=pad_end)
    if window_fn is not None:
        frames = frames * window_fn(length, dtype=frames.dtype)
    else:
        frames = frames * float(1.0 / np.sqrt(2))
    q = length // 4
    a, b, c, d = (
        frames[..., :q],
        frames[..., q : 2 * q],
        frames[..., 2 * q : 3 * q],
        frames[..., 3 * q :],
    )
    first = -shape_ops.reverse(c, [-1]) - d
    second = a - shape_ops.reverse(b, [-1])
    return dct(shape_ops.concat([first, second], -1), type=4, norm=norm)


@tf_export("signal.inverse_mdct")
def inverse_mdct(mdcts, window_fn=vorbis_window, norm=None, name=None):
    """Signals back from their MDCTs [..., frames, frame_length // 2] (time-domain alias
    cancellation through overlap-add)."""
    mdcts = convert_to_tensor(mdcts)
    if mdcts.shape.rank is not None and mdcts.shape.rank < 2:
        raise ValueError(f"inverse_mdct: mdcts must have rank at least 2, got shape {mdcts.shape}")
    half = mdcts.shape[-1]
    if half is None:
        raise ValueError("inverse_mdct: the last axis must have a known size")
    if norm is None:
        y = dct(mdcts, type=4) * float(0.5 / half)
    elif norm == "ortho":
        y = dct(mdcts, type=4, norm="ortho")
    else:
        raise ValueError(f"Unknown normalization. Expected None or 'ortho', got: {norm}")
    h = half // 2
    lo, hi = y[..., :h], y[..., h:]
    frames = shape_ops.concat(
        [hi, -shape_ops.reverse(hi, [-1]), -shape_ops.reverse(lo, [-1]), -lo], -1
    )
    if window_fn is not None:
        frames = frames * window_fn(2 * half, dtype=mdcts.dtype)
    else:
        frames = frames * float(1.0 / np.sqrt(2))
    return overlap_and_add(frames, half)


# --------------------------------------------------------------------------------------
# Mel filter banks and MFCCs
# --------------------------------------------------------------------------------------

_MEL_BREAK_HZ = 700.0
_MEL_HIGH_Q = 1127.0


def _hz_to_mel(f):
    return _MEL_HIGH_Q * unary_ops.log(1.0 + f / _MEL_BREAK_HZ)


@tf_export("signal.linear_to_mel_weight_matrix")
def linear_to_mel_weight_matrix(
    num_mel_bins=20, num_spectrogram_bins=129, sample_rate=8000, lower_edge_hertz=125.0,
    upper_edge_hertz=3800.0, dtype=_d.float32, name=None,
):  # fmt: skip
    """[num_spectrogram_bins, num_mel_bins] triangular filters, equally spaced on the mel
    scale (1127 ln(1 + f / 700)) between the edges; multiplying a linear-frequency
    spectrogram by it gives a mel spectrogram. The DC bin gets no weight."""
    dtype = _d.as_dtype(dtype)
    if is_tensor_like(sample_rate) and static_value(sample_rate) is not None:
        sample_rate = static_value(sample_rate).item()
    if num_mel_bins <= 0:
        raise ValueError(f"num_mel_bins must be positive. Got: {num_mel_bins}")
    if lower_edge_hertz < 0.0:
        raise ValueError(f"lower_edge_hertz must be non-negative. Got: {lower_edge_hertz}")
    if lower_edge_hertz >= upper_edge_hertz:
        raise ValueError(
            f"lower_edge_hertz {lower_edge_hertz:.1f} >= upper_edge_hertz {upper_edge_hertz:.1f}"
        )
    if not is_tensor_like(sample_rate):
        if sample_rate <= 0.0:
            raise ValueError(f"sample_rate must be positive. Got: {sample_rate}")
        if upper_edge_hertz > sample_rate / 2:
            raise ValueError(
                "upper_edge_hertz must not be larger than the Nyquist frequency (sample_rate / 2). "
                f"Got {upper_edge_hertz} for sample_rate: {sample_rate}"
            )
    if not dtype.is_floating:
        raise ValueError(f"dtype must be a floating point type. Got: {dtype}")
    rate = cast(sample_rate, dtype)
    lo = convert_to_tensor(lower_edge_hertz, dtype=dtype)
    hi = convert_to_tensor(upper_edge_hertz, dtype=dtype)
    zero = convert_to_tensor(0.0, dtype=dtype)
    freqs = creation_ops.linspace(zero, rate / 2.0, num_spectrogram_bins)[1:]
    bins_mel = array_ops.reshape(_hz_to_mel(freqs), [-1, 1])
    edges = creation_ops.linspace(_hz_to_mel(lo), _hz_to_mel(hi), num_mel_bins + 2)
    lower = array_ops.reshape(edges[:-2], [1, -1])
    center = array_ops.reshape(edges[1:-1], [1, -1])
    upper = array_ops.reshape(edges[2:], [1, -1])
    rising = (bins_mel - lower) / (center - lower)
    falling = (upper - bins_mel) / (upper - center)
    weights = math_ops.maximum(zero, math_ops.minimum(rising, falling))
    return shape_ops.pad(weights, [[1, 0], [0, 0]])


@tf_export("signal.mfccs_from_log_mel_spectrograms")
def mfccs_from_log_mel_spectrograms(log_mel_spectrograms, name=None):
    """Mel-frequency cepstral coefficients: the orthonormally scaled type-II DCT of log-mel
    spectrograms [..., num_mel_bins]."""
    x = convert_to_tensor(log_mel_spectrograms)
    bins = x.shape[-1] if x.shape.rank else None
    if bins == 0:
        raise ValueError(f"num_mel_bins must be positive. Got: {x}")
    if bins is None:
        raise ValueError("mfccs_from_log_mel_spectrograms: num_mel_bins must be known")
    return dct(x, type=2) * float(1.0 / np.sqrt(2.0 * bins))
