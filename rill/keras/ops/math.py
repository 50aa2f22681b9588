"""Keras 3's ``keras.src.ops.math`` functions (exported flat in ``keras.ops``): segment
reductions, top-k, special functions, and Fourier transforms.

Keras passes complex values as ``(real, imag)`` pairs of float tensors. The transforms
are discrete Fourier transforms written as products with cosine and sine matrices (real
matmuls over rill's ops, so they run, trace and differentiate like any other op; O(n^2)
per transformed axis).
"""

from __future__ import annotations

import numpy as np

import rill as tf
from rill.keras.ops._base import cast, complex_from, keras_op, shape_list, tensor

__all__ = [
    "cdist", "erf", "erfc", "erfinv", "extract_sequences", "fft", "fft2", "ifft2", "in_top_k",
    "irfft", "istft", "logdet", "logsumexp", "rfft", "rsqrt", "segment_max", "segment_min",
    "segment_prod", "segment_sum", "stft", "top_k", "view_as_complex", "view_as_real",
]  # fmt: skip


def _op(cls):
    return keras_op(cls, module="math")


# ============================================================================= segments
def _segment_check(data, ids):
    if ids.shape.rank > 1:
        raise ValueError(
            f"Argument `segment_ids` should be an 1-D vector, got shape: {ids.shape.rank}. "
            "Consider either flatten input with segment_ids.reshape((-1)) and "
            "data.reshape((-1, ) + data.shape[len(segment_ids.shape):]) or vectorize with "
            "vmap."
        )
    a, b = ids.shape.as_list()[0], data.shape.as_list()[0]
    if a is not None and b is not None and a != b:
        raise ValueError(
            "Argument `segment_ids` and `data` should have same leading dimension. Got "
            f"{ids.shape} v.s. {data.shape}."
        )


def _segment(sorted_fn, unsorted_fn, count_unique):
    def run(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
        data, ids = tensor(data), tensor(segment_ids)
        _segment_check(data, ids)
        if sorted:
            if num_segments is not None:
                raise ValueError(
                    "Argument `num_segments` cannot be set when sorted is True when using "
                    f"the tensorflow backend.Received: num_segments={num_segments}, "
                    f"sorted={sorted}."
                )
            return sorted_fn(data, ids)
        if num_segments is None:
            if count_unique:
                num_segments = tf.shape(tf.unique(ids)[0])[0]
            else:
                num_segments = tf.cast(tf.reduce_max(ids) + 1, "int32")
        return unsorted_fn(data, ids, num_segments)

    return run


_seg_sum = _segment(tf.math.segment_sum, tf.math.unsorted_segment_sum, True)
_seg_max = _segment(tf.math.segment_max, tf.math.unsorted_segment_max, False)
_seg_min = _segment(tf.math.segment_min, tf.math.unsorted_segment_min, False)
_seg_prod = _segment(tf.math.segment_prod, tf.math.unsorted_segment_prod, False)


@_op("SegmentSum")
def segment_sum(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """Sums of the rows of ``data`` per segment id."""
    return _seg_sum(data, segment_ids, num_segments, sorted)


@_op("SegmentMax")
def segment_max(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """Maxima of the rows of ``data`` per segment id."""
    return _seg_max(data, segment_ids, num_segments, sorted)


@_op("SegmentMin")
def segment_min(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """Minima of the rows of ``data`` per segment id."""
    return _seg_min(data, segment_ids, num_segments, sorted)


@_op("SegmentProd")
def segment_prod(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """Products of the rows of ``data`` per segment id."""
    return _seg_prod(data, segment_ids, num_segments, sorted)


# ======================================================================== misc math ops
@_op("TopK")
def top_k(x, k, sorted=True):  # noqa: A002
    """The ``k`` largest values along the last axis and their indices."""
    return tuple(tf.math.top_k(tensor(x), k, sorted=sorted))


@_op("InTopK")
def in_top_k(targets, predictions, k):
    """Whether each target class is among the top ``k`` predictions."""
    return tf.math.in_top_k(tensor(targets), tensor(predictions), k)


@_op("Logsumexp")
def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over ``axis``, stably."""
    return tf.reduce_logsumexp(tensor(x), axis=axis, keepdims=keepdims)


@_op("CDist")
def cdist(x, y):
    """Euclidean distances between the rows of ``x`` and of ``y`` (batched)."""
    x, y = tensor(x), tensor(y)
    if x.shape.rank < 2 or y.shape.rank < 2:
        raise ValueError("`cdist` inputs must have rank >= 2")
    a, b = x.shape.as_list()[-1], y.shape.as_list()[-1]
    if a is not None and b is not None and a != b:
        raise ValueError("Last dimension of inputs to `cdist` must match")
    d = tf.expand_dims(x, -2) - tf.expand_dims(y, -3)
    return tf.sqrt(tf.reduce_sum(tf.square(d), axis=-1))


def _frames(x, length, step):
    """Frames of ``length`` every ``step`` along the last axis (no padding):
    ``[..., n_frames, length]``."""
    n = shape_list(x)[-1]
    count = 1 + (n - length) // step if isinstance(n, int) else 1 + (n - length) // step
    if isinstance(count, int) and count < 0:
        count = 0
    idx = tf.reshape(tf.range(count) * step, [-1, 1]) + tf.reshape(tf.range(length), [1, -1])
    return tf.gather(x, idx, axis=x.shape.rank - 1)


@_op("ExtractSequences")
def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of ``sequence_length`` every ``sequence_stride`` along the last axis."""
    x = tensor(x)
    return _frames(x, sequence_length, sequence_stride)


@_op("Rsqrt")
def rsqrt(x):
    """1 / sqrt(x)."""
    return tf.math.rsqrt(tensor(x))


@_op("Erf")
def erf(x):
    """The error function."""
    return tf.math.erf(tensor(x))


@_op("Erfc")
def erfc(x):
    """The complementary error function."""
    return tf.math.erfc(tensor(x))


@_op("Erfinv")
def erfinv(x):
    """The inverse error function (half floats compute in float32)."""
    x = tensor(x)
    d = x.dtype.name
    if d in ("bfloat16", "float16"):
        return cast(tf.math.erfinv(cast(x, "float32")), d)
    return tf.math.erfinv(x)


@_op("Logdet")
def logdet(x):
    """log(det(x)) of Hermitian positive-definite matrices."""
    return tf.linalg.logdet(tensor(x))


# ============================================================================== Fourier
def _pair_input(x):
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(
            f"Input `x` should be a tuple of two tensors - real and imaginary.Received: x={x}"
        )
    real, imag = tensor(x[0]), tensor(x[1])
    if real.shape.as_list() != imag.shape.as_list():
        raise ValueError(
            "Input `x` should be a tuple of two tensors - real and imaginary.Both the real "
            "and imaginary parts should have the same shape. Received: x[0].shape = "
            f"{real.shape}, x[1].shape = {imag.shape}"
        )
    if not real.dtype.is_floating or not imag.dtype.is_floating:
        raise ValueError(f"At least one tensor in input `x` is not of type float.Received: x={x}.")
    return real, imag


def _trig(n_in, n_out, dtype, inverse=False):
    """cos and sin of ``2 pi j k / n_in`` for input index j and output index k."""
    j = np.arange(n_in)[:, None]
    k = np.arange(n_out)[None, :]
    angle = 2 * np.pi * ((j * k) % n_in) / n_in
    return tf.constant(np.cos(angle), dtype), tf.constant(np.sin(angle), dtype)


def _static_len(x, what):
    n = x.shape.as_list()[-1]
    if n is None:
        raise ValueError(f"`{what}` needs the length of the transformed axis to be known.")
    return n


def _dft_last(re, im):
    """The DFT of ``re + 1j im`` along the last axis, as (real, imag)."""
    n = _static_len(re, "fft")
    c, s = _trig(n, n, re.dtype)
    return _mm(re, c) + _mm(im, s), _mm(im, c) - _mm(re, s)


def _mm(x, m):
    """``x`` times the matrix ``m`` along its last axis (any rank)."""
    if x.shape.rank == 2:
        return tf.matmul(x, m)
    return tf.tensordot(x, m, [[x.shape.rank - 1], [0]])


def _swap_last(x):
    r = x.shape.rank
    return tf.transpose(x, [*range(r - 2), r - 1, r - 2])


@_op("FFT")
def fft(x):
    """The discrete Fourier transform along the last axis of ``(real, imag)``."""
    re, im = _pair_input(x)
    return _dft_last(re, im)


@_op("FFT2")
def fft2(x):
    """The 2-D discrete Fourier transform over the last two axes of ``(real, imag)``."""
    re, im = _pair_input(x)
    re, im = _dft_last(re, im)
    re, im = _dft_last(_swap_last(re), _swap_last(im))
    return _swap_last(re), _swap_last(im)


@_op("IFFT2")
def ifft2(x):
    """The inverse 2-D discrete Fourier transform of ``(real, imag)``."""
    re, im = _pair_input(x)
    h = tf.cast(tf.shape(re)[-2], re.dtype)
    w = tf.cast(tf.shape(re)[-1], re.dtype)
    fr, fi = fft2.__wrapped__((re, -im))
    return fr / (h * w), -fi / (h * w)


def _fit_last(x, n):
    """``x`` truncated or zero-padded to ``n`` along the last axis."""
    m = _static_len(x, "rfft")
    if m > n:
        return x[..., :n]
    if m < n:
        pad = [[0, 0]] * (x.shape.rank - 1) + [[0, n - m]]
        return tf.pad(x, pad)
    return x


@_op("RFFT")
def rfft(x, fft_length=None):
    """The DFT of a real signal along the last axis: the ``fft_length // 2 + 1``
    non-negative frequencies, as (real, imag)."""
    x = tensor(x)
    if not x.dtype.is_floating:
        x = cast(x, "float32")
    n = _static_len(x, "rfft") if fft_length is None else int(fft_length)
    x = _fit_last(x, n)
    c, s = _trig(n, n // 2 + 1, x.dtype)
    return _mm(x, c), -_mm(x, s)


@_op("IRFFT")
def irfft(x, fft_length=None):
    """The inverse of ``rfft``: a real signal of ``fft_length`` (default ``2 * (m -
    1)``) from ``m`` non-negative frequencies given as (real, imag)."""
    re, im = _pair_input(x)
    m = _static_len(re, "irfft")
    n = 2 * (m - 1) if fft_length is None else int(fft_length)
    bins = n // 2 + 1
    re, im = _fit_last(re, bins), _fit_last(im, bins)
    k = np.arange(bins)[:, None]
    t = np.arange(n)[None, :]
    weight = np.where((k == 0) | ((n % 2 == 0) & (k == n // 2)), 1.0, 2.0) / n
    angle = 2 * np.pi * ((k * t) % n) / n
    c = tf.constant(weight * np.cos(angle), re.dtype)
    s = tf.constant(weight * np.sin(angle), re.dtype)
    return _mm(re, c) - _mm(im, s)


def _window(window, length, dtype):
    if window is None:
        return None
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(
                'If a string is passed to `window`, it must be one of `"hann"`, `"hamming"`. '
                f"Received: window={window}"
            )
        n = np.arange(length)
        a = 0.5 if window == "hann" else 0.54
        w = a - (1 - a) * np.cos(2 * np.pi * n / length)  # periodic
        win = tf.constant(w, dtype)
    else:
        win = tensor(window, dtype)
    if win.shape.rank != 1 or win.shape.as_list()[-1] != length:
        raise ValueError(
            f"The shape of `window` must be equal to [sequence_length].Received: window "
            f"shape={win.shape}"
        )
    return win


def _stride_check(sequence_stride):
    if not isinstance(sequence_stride, int) or sequence_stride <= 0:
        raise ValueError(
            f"`sequence_stride` must be a positive integer. Received: sequence_stride={sequence_stride}"
        )


@_op("STFT")
def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """The short-time Fourier transform of real signals along the last axis:
    ``(real, imag)`` of shape ``[..., frames, fft_length // 2 + 1]``."""
    _stride_check(sequence_stride)
    x = tensor(x)
    if x.dtype.name not in ("float32", "float64"):
        raise TypeError(
            f"Invalid input type. Expected `float32` or `float64`. Received: input type={x.dtype}"
        )
    if fft_length < sequence_length:
        raise ValueError(
            "`fft_length` must equal or larger than `sequence_length`. Received: "
            f"sequence_length={sequence_length}, fft_length={fft_length}"
        )
    win = _window(window, sequence_length, x.dtype)
    if center:
        pad = [[0, 0]] * (x.shape.rank - 1) + [[fft_length // 2, fft_length // 2]]
        x = tf.pad(x, pad, mode="REFLECT")
    left = (fft_length - sequence_length) // 2
    right = fft_length - sequence_length - left
    frames = _frames(x, fft_length, sequence_stride)
    if win is not None:
        frames = frames * tf.pad(win, [[left, right]])
    return rfft.__wrapped__(frames, fft_length)


def _overlap_add(frames, step):
    """Frames ``[..., n, length]`` summed at offsets ``i * step``."""
    n, length = shape_list(frames)[-2:]
    out_len = (n - 1) * step + length
    idx = (np.arange(n)[:, None] * step + np.arange(length)[None, :]).reshape(-1)
    rank = frames.shape.rank
    lead = shape_list(frames)[:-2]
    flat = tf.reshape(frames, [*lead, -1])
    moved = tf.transpose(flat, [rank - 2, *range(rank - 2)])
    summed = tf.math.unsorted_segment_sum(moved, tf.constant(idx, "int32"), out_len)
    return tf.transpose(summed, [*range(1, rank - 1), 0])


@_op("ISTFT")
def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann",
          center=True):  # fmt: skip
    """The inverse of ``stft`` (overlap-add with the window's dual)."""
    _stride_check(sequence_stride)
    re, im = _pair_input(x)
    frames = irfft.__wrapped__((re, im), fft_length)[..., :fft_length]
    win = _window(window, sequence_length, re.dtype)
    n_frames = shape_list(re)[-2]
    if win is not None:
        left = (fft_length - sequence_length) // 2
        right = fft_length - sequence_length - left
        full = tf.pad(win, [[left, right]])
        # the dual window: the window over the sum of the squared windows that overlap
        overlaps = -(-fft_length // sequence_stride)
        sq = tf.pad(tf.square(full), [[0, overlaps * sequence_stride - fft_length]])
        denom = tf.reduce_sum(tf.reshape(sq, [overlaps, sequence_stride]), 0, keepdims=True)
        denom = tf.reshape(tf.tile(denom, [overlaps, 1]), [-1])[:fft_length]
        frames = frames * (full / denom)
    out = _overlap_add(frames, sequence_stride)
    expected = fft_length + sequence_stride * (n_frames - 1)
    start = fft_length // 2 if center else 0
    if length is not None:
        end = start + length
    elif center:
        end = expected - fft_length // 2
    else:
        end = expected
    return out[..., start:end]


@_op("ViewAsComplex")
def view_as_complex(x):
    """A complex64 tensor from ``x``'s last axis of (real, imag) pairs."""
    x = tensor(x)
    if x.shape.rank < 1 or x.shape.as_list()[-1] != 2:
        raise ValueError(
            "Last dimension of input must be size 2 (real and imaginary). Received shape: "
            f"{x.shape}"
        )
    return complex_from(cast(x[..., 0], "float32"), cast(x[..., 1], "float32"))


@_op("ViewAsReal")
def view_as_real(x):
    """The (real, imag) parts of ``x`` stacked on a new last axis."""
    x = tensor(x)
    if x.dtype.is_complex:
        return tf.stack([tf.math.real(x), tf.math.imag(x)], axis=-1)
    return tf.stack([x, tf.zeros_like(x)], axis=-1)
