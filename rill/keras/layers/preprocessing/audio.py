"""MelSpectrogram (audio to a mel-scaled, optionally dB, spectrogram) and
STFTSpectrogram (an STFT as two convolutions with trainable Fourier kernels)."""

from __future__ import annotations

import math
import warnings

import numpy as np

import rill as tf
from rill.keras.layers.input_spec import InputSpec, SpecLayer
from rill.keras.layers.preprocessing._common import PreprocessingLayer
from rill.keras.layers.preprocessing.image import _data_format

__all__ = ["MelSpectrogram", "STFTSpectrogram"]

_EPSILON = 1e-7  # keras.config.epsilon()
# the HTK mel scale: mel = Q * ln(1 + f / BREAK)
_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def _ops():
    from rill.keras import ops  # deferred: keras.ops is large

    return ops


def _hertz_to_mel(f):
    return _MEL_HIGH_FREQUENCY_Q * np.log(1.0 + f / _MEL_BREAK_FREQUENCY_HERTZ)


def mel_weight_matrix(num_mel_bins, num_spectrogram_bins, sampling_rate, lower_hz, upper_hz):
    """Triangular mel filters, ``(num_spectrogram_bins, num_mel_bins)`` float32; the DC
    bin gets no weight (computed in float32, as Keras does)."""
    f32 = np.float32
    nyquist = f32(sampling_rate) / f32(2.0)
    linear = np.linspace(f32(0), nyquist, num_spectrogram_bins, dtype=f32)[1:]
    bins_mel = _hertz_to_mel(linear).astype(f32)[:, None]
    edges = np.linspace(
        _hertz_to_mel(f32(lower_hz)), _hertz_to_mel(f32(upper_hz)), num_mel_bins + 2, dtype=f32
    )
    lower, center, upper = edges[:-2][None], edges[1:-1][None], edges[2:][None]
    lower_slopes = (bins_mel - lower) / (center - lower)
    upper_slopes = (upper - bins_mel) / (upper - center)
    weights = np.maximum(f32(0), np.minimum(lower_slopes, upper_slopes))
    return np.pad(weights, [[1, 0], [0, 0]]).astype(f32)


class MelSpectrogram(PreprocessingLayer):
    """Audio ``(batch, samples)`` to a mel spectrogram ``(batch, num_mel_bins, frames)``:
    centered STFT magnitudes to the power ``mag_exp``, mel filters, then (with
    ``power_to_db``) decibels floored ``top_db`` below the maximum."""

    def __init__(
        self,
        fft_length=2048,
        sequence_stride=512,
        sequence_length=None,
        window="hann",
        sampling_rate=16000,
        num_mel_bins=128,
        min_freq=20.0,
        max_freq=None,
        power_to_db=True,
        top_db=80.0,
        mag_exp=2.0,
        min_power=1e-10,
        ref_power=1.0,
        **kwargs,
    ):
        self.fft_length = fft_length
        self.sequence_stride = sequence_stride
        self.sequence_length = sequence_length or fft_length
        if self.fft_length < self.sequence_length:
            raise ValueError(
                "`fft_length` must be greater than or equal to `sequence_length`. Received: "
                f"`sequence_length`={self.sequence_length}, `fft_length`={self.fft_length}."
            )
        self.window = window
        self.sampling_rate = sampling_rate
        self.num_mel_bins = num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        super().__init__(**kwargs)

    def call(self, inputs):
        ops = _ops()
        dtype = self.dtype if self.dtype in ("float32", "float64") else "float32"
        x = tf.cast(inputs, dtype)
        real, imag = ops.stft(
            x,
            sequence_length=self.sequence_length,
            sequence_stride=self.sequence_stride,
            fft_length=self.fft_length,
            window=self.window,
            center=True,
        )
        spec = tf.pow(tf.sqrt(tf.square(real) + tf.square(imag)), tf.cast(self.mag_exp, dtype))
        matrix = mel_weight_matrix(
            self.num_mel_bins, spec.shape[-1], self.sampling_rate, self.min_freq, self.max_freq
        )
        out = tf.tensordot(spec, tf.constant(matrix, dtype), axes=1)
        if self.power_to_db:
            out = self._db(out, dtype)
        out = ops.swapaxes(out, -1, -2)
        return tf.cast(out, self.dtype)

    def _db(self, power, dtype):
        ten = tf.constant(10.0, dtype)
        floor = tf.constant(self.min_power, dtype)
        db = ten * (tf.math.log(tf.maximum(power, floor)) / tf.math.log(tf.constant(10.0, dtype)))
        ref = max(abs(self.ref_power), self.min_power)
        db = db - tf.constant(10.0 * math.log10(ref), dtype)
        # the floor is below the maximum of the whole batch, as in Keras
        return tf.maximum(db, tf.reduce_max(db) - tf.constant(self.top_db, dtype))

    def compute_output_shape(self, input_shape):
        shape = list(tf.TensorShape(input_shape).as_list())
        frames = lambda n: (
            None if n is None else (n + self.sequence_stride + 1) // self.sequence_stride
        )  # noqa: E731
        if len(shape) == 1:
            return [self.num_mel_bins, frames(shape[0])]
        return [shape[0], self.num_mel_bins, frames(shape[1])]

    def get_config(self):
        return {
            **super().get_config(),
            "fft_length": self.fft_length,
            "sequence_stride": self.sequence_stride,
            "sequence_length": self.sequence_length,
            "window": self.window,
            "sampling_rate": self.sampling_rate,
            "num_mel_bins": self.num_mel_bins,
            "min_freq": self.min_freq,
            "max_freq": self.max_freq,
            "power_to_db": self.power_to_db,
            "top_db": self.top_db,
            "mag_exp": self.mag_exp,
            "min_power": self.min_power,
            "ref_power": self.ref_power,
        }


_STFT_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")


class STFTSpectrogram(SpecLayer):
    """The STFT of ``(batch, time, channels)`` signals as strided convolutions with
    (trainable) windowed Fourier kernels; ``mode`` picks log / magnitude / PSD / real /
    imaginary / angle, or the stacked real and imaginary parts."""

    def __init__(
        self,
        mode="log",
        frame_length=256,
        frame_step=None,
        fft_length=None,
        window="hann",
        periodic=False,
        scaling="density",
        padding="valid",
        expand_dims=False,
        data_format=None,
        **kwargs,
    ):
        if frame_step is not None and (frame_step > frame_length or frame_step < 1):
            raise ValueError(
                "`frame_step` should be a positive integer not greater than `frame_length`. "
                f"Received frame_step={frame_step}, frame_length={frame_length}"
            )
        if fft_length is not None and fft_length < frame_length:
            raise ValueError(
                "`fft_length` should be not less than `frame_length`. Received "
                f"fft_length={fft_length}, frame_length={frame_length}"
            )
        if fft_length is not None and (fft_length & -fft_length) != fft_length:
            warnings.warn(
                f"`fft_length` is recommended to be a power of two. Received fft_length={fft_length}",
                stacklevel=2,
            )
        if mode not in _STFT_MODES:
            raise ValueError(
                f"Output mode is invalid, it must be one of {', '.join(_STFT_MODES)}. "
                f"Received: mode={mode}"
            )
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(
                "Scaling is invalid, it must be `None`, 'density' or 'spectrum'. Received "
                f"scaling={scaling}"
            )
        if padding not in ("valid", "same"):
            raise ValueError(f"Padding is invalid, it should be 'valid', 'same'. Received: padding={padding}")  # fmt: skip
        super().__init__(**kwargs)
        self.mode = mode
        self.frame_length = frame_length
        self.frame_step = frame_step
        self._frame_step = frame_step or frame_length // 2
        self.fft_length = fft_length
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))
        self.window = window
        self.periodic = periodic
        self.scaling = scaling
        self.padding = padding
        self.expand_dims = expand_dims
        self.data_format = _data_format(data_format)
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape):
        from rill.keras import initializers

        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        if self.mode != "imag":
            self.real_kernel = self.add_weight(
                name="real_kernel",
                shape=shape,
                initializer=initializers.STFT("real", self.window, self.scaling, self.periodic),
            )
        if self.mode != "real":
            self.imag_kernel = self.add_weight(
                name="imag_kernel",
                shape=shape,
                initializer=initializers.STFT("imag", self.window, self.scaling, self.periodic),
            )
        self.built = True

    def _conv(self, x, kernel):
        """Each channel convolved alone: ``(batch, channels, freq, frames)``."""
        ops = _ops()
        last = self.data_format == "channels_last"
        if last:
            time, channels = x.shape[1], x.shape[2]
            x = tf.reshape(tf.transpose(x, [0, 2, 1]), [-1, time, 1])
        else:
            channels, time = x.shape[1], x.shape[2]
            x = tf.reshape(x, [-1, 1, time])
        y = ops.conv(
            x, tf.cast(kernel, x.dtype), padding=self.padding, strides=self._frame_step,
            data_format=self.data_format,
        )  # fmt: skip
        if last:
            y = tf.transpose(y, [0, 2, 1])
        return tf.reshape(y, [-1, channels, y.shape[1], y.shape[2]])

    def _arrange(self, y):
        channels, freq, frames = y.shape[1], y.shape[2], y.shape[3]
        if self.data_format == "channels_last":
            if self.expand_dims:
                return tf.transpose(y, [0, 3, 2, 1])
            return tf.transpose(tf.reshape(y, [-1, channels * freq, frames]), [0, 2, 1])
        if self.expand_dims:
            return tf.transpose(y, [0, 1, 3, 2])
        return tf.reshape(y, [-1, channels * freq, frames])

    def call(self, inputs):
        if inputs.dtype.name not in ("float16", "float32", "float64"):
            raise TypeError(
                "Invalid input type. Expected `float16`, `float32` or `float64`. Received: "
                f"input type={inputs.dtype.name}"
            )
        real = self._conv(inputs, self.real_kernel) if self.mode != "imag" else None
        imag = self._conv(inputs, self.imag_kernel) if self.mode != "real" else None
        if self.mode == "real":
            return self._arrange(real)
        if self.mode == "imag":
            return self._arrange(imag)
        if self.mode == "angle":
            return self._arrange(tf.math.atan2(imag, real))
        if self.mode == "stft":
            return self._arrange(tf.concat([real, imag], axis=2))
        power = tf.square(real) + tf.square(imag)
        if self.mode == "psd":  # one-sided: the bins between DC and Nyquist count twice
            return self._arrange(
                power + tf.pad(power[:, :, 1:-1, :], [[0, 0], [0, 0], [1, 1], [0, 0]])
            )
        eps = tf.constant(_EPSILON, power.dtype)
        magnitude = self._arrange(tf.sqrt(tf.maximum(power, eps)))
        if self.mode == "magnitude":
            return magnitude
        return tf.math.log(tf.maximum(magnitude, eps))

    def compute_output_shape(self, input_shape):
        shape = list(tf.TensorShape(input_shape).as_list())
        last = self.data_format == "channels_last"
        batch, time, channels = (shape[0], shape[1], shape[2]) if last else (shape[0], shape[2], shape[1])  # fmt: skip
        freq = self._fft_length // 2 + 1
        if self.mode == "stft":
            freq *= 2
        if time is None:
            frames = None
        elif self.padding == "valid":
            frames = (time - self.frame_length) // self._frame_step + 1
        else:
            frames = -(-time // self._frame_step)
        if self.expand_dims:
            return (batch, frames, freq, channels) if last else (batch, channels, frames, freq)
        return (batch, frames, freq * channels) if last else (batch, freq * channels, frames)

    def get_config(self):
        return {
            **super().get_config(),
            "mode": self.mode,
            "frame_length": self.frame_length,
            "frame_step": self.frame_step,
            "fft_length": self.fft_length,
            "window": self.window,
            "periodic": self.periodic,
            "scaling": self.scaling,
            "padding": self.padding,
            "data_format": self.data_format,
            "expand_dims": self.expand_dims,
        }
