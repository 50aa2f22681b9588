"""``tf.audio``: 16-bit PCM WAV files to float32 samples in [-1, 1) and back."""

from __future__ import annotations

import struct

import numpy as np

from rill.core import dtypes as _d
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    bind,
    convert_to_tensor,
    op_error,
    primitive,
    tf_export,
)

_SCALE = 32768.0  # int16 full scale: a sample s decodes to s / 32768


def _wav_error(msg: str):
    return op_error(InvalidArgumentError, "DecodeWav", msg)


def _read_wav(data: bytes):
    """(int16 samples of shape (frames, channels), sample rate) of a PCM WAV file."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise _wav_error(f"not a RIFF/WAVE file ({len(data)} bytes, header {data[:12]!r})")
    pos, fmt, samples = 12, None, None
    while pos + 8 <= len(data):
        tag, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8 : pos + 8 + size]
        if len(body) < size:
            raise _wav_error(f"chunk {tag!r} declares {size} bytes but only {len(body)} remain")
        if tag == b"fmt ":
            if size < 16:
                raise _wav_error(f"fmt chunk is {size} bytes, expected at least 16")
            fmt = struct.unpack_from("<HHIIHH", body)
        elif tag == b"data":
            samples = body
        pos += 8 + size + (size & 1)  # chunks are word-aligned
    if fmt is None or samples is None:
        raise _wav_error("missing the 'fmt ' or 'data' chunk")
    audio_format, channels, rate, _, _, bits = fmt
    if audio_format != 1 or bits != 16:
        raise _wav_error(
            f"can only read 16-bit PCM WAV files, got format {audio_format} with {bits} bits"
        )
    if channels < 1:
        raise _wav_error(f"the file declares {channels} channels")
    frames = len(samples) // (2 * channels)
    pcm = np.frombuffer(samples[: frames * 2 * channels], "<i2").reshape(frames, channels)
    return pcm, rate


def _decode_kernel(contents, desired_channels, desired_samples):
    data = contents.item() if isinstance(contents, np.ndarray) else contents
    pcm, rate = _read_wav(bytes(data))
    audio = pcm.astype(np.float32) / _SCALE
    if desired_channels > 0:
        if desired_channels <= audio.shape[1]:
            audio = audio[:, :desired_channels]
        else:  # missing channels repeat the file's last one
            extra = np.repeat(audio[:, -1:], desired_channels - audio.shape[1], axis=1)
            audio = np.concatenate([audio, extra], axis=1)
    if desired_samples >= 0:
        if desired_samples <= audio.shape[0]:
            audio = audio[:desired_samples]
        else:
            pad = np.zeros((desired_samples - audio.shape[0], audio.shape[1]), np.float32)
            audio = np.concatenate([audio, pad])
    return np.ascontiguousarray(audio), np.array(rate, np.int32)


def _decode_rule(contents, desired_channels, desired_samples):
    frames = desired_samples if desired_samples >= 0 else None
    channels = desired_channels if desired_channels > 0 else None
    return AVal([frames, channels], _d.float32), AVal([], _d.int32)


decode_wav_p = primitive("DecodeWav", _decode_kernel, _decode_rule, n_out=2, host=True)


class DecodeWav(tuple):
    """``(audio, sample_rate)`` with those field names, as TF returns."""

    __slots__ = ()

    audio = property(lambda self: self[0])
    sample_rate = property(lambda self: self[1])


@tf_export("audio.decode_wav")
def decode_wav(contents, desired_channels=-1, desired_samples=-1, name=None):
    """``(audio, sample_rate)`` of a 16-bit PCM WAV file: float32 samples of shape
    ``[frames, channels]`` in [-1, 1), channels cut or the last repeated to
    ``desired_channels``, frames cut or zero-padded to ``desired_samples``."""
    c = convert_to_tensor(contents)
    if c.dtype is not _d.string or c.shape.rank not in (None, 0):
        raise op_error(
            InvalidArgumentError,
            "DecodeWav",
            f"contents must be a scalar string, got {c.dtype.name}{c.shape}",
        )
    p = {"desired_channels": int(desired_channels), "desired_samples": int(desired_samples)}
    return DecodeWav(bind(decode_wav_p, (c,), p))


def _encode_kernel(audio, sample_rate):
    if audio.ndim != 2:
        raise ValueError(f"audio must be 2-D [frames, channels], got shape {audio.shape}")
    frames, channels = audio.shape
    rate = int(sample_rate)
    # round half away from zero, then saturate to int16, as TF writes samples
    scaled = audio.astype(np.float64) * _SCALE
    pcm = np.clip(np.sign(scaled) * np.floor(np.abs(scaled) + 0.5), -32768, 32767).astype("<i2")
    body = pcm.tobytes()
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + len(body), b"WAVE", b"fmt ", 16, 1, channels, rate,
        rate * channels * 2, channels * 2, 16, b"data", len(body),
    )  # fmt: skip
    return np.array(header + body, dtype=object)


encode_wav_p = primitive(
    "EncodeWav", _encode_kernel, lambda audio, sample_rate: AVal([], _d.string), host=True
)


@tf_export("audio.encode_wav")
def encode_wav(audio, sample_rate, name=None):
    """A 16-bit PCM WAV file (scalar string) of float32 ``audio`` ``[frames, channels]``;
    samples outside [-1, 1) saturate."""
    a = convert_to_tensor(audio, dtype=_d.float32)
    if a.shape.rank not in (None, 2):
        raise op_error(
            InvalidArgumentError,
            "EncodeWav",
            f"audio must be 2-D [frames, channels], got shape {a.shape}",
        )
    return bind(encode_wav_p, (a, convert_to_tensor(sample_rate, dtype=_d.int32)))
