"""What the summary ops compute from their data, on NumPy arrays, as TensorFlow does:
histogram buckets, images as 8-bit PNGs, audio as 16-bit WAVs, summary metadata, and the
serialized ``Event`` of a tensor summary.

Everything here runs in the summary writer's background thread (or while validating a
call), never on the hot path of a training step; none of it needs ``protobuf``. The
protobuf wire format is written directly where it is simple and frequent (metadata and
tensor events: a scalar event costs a few microseconds instead of building messages); the
bytes are exactly what protobuf serializes (fields in number order, proto3 defaults
omitted), which tests/summary checks against the message classes.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

__all__ = [
    "histogram_buckets", "image_to_uint8", "encode_png", "encode_wav", "summary_metadata",
    "tensor_event", "DEFAULT_BUCKET_COUNT",
]  # fmt: skip

DEFAULT_BUCKET_COUNT = 30


# --------------------------------------------------------------------------------------
# Histograms (TensorBoard's bucketing, in float64)
# --------------------------------------------------------------------------------------


def histogram_buckets(data: np.ndarray, bucket_count: int) -> np.ndarray:
    """A ``[bucket_count, 3]`` float64 array of ``[left edge, right edge, count]`` rows.

    ``bucket_count`` equal-width buckets span [min, max]; a value falls in bucket
    ``floor((x - min) / width)``, the maximum in the last one. No data gives all zeros;
    one distinct value gives buckets whose edges are all that value, every count in the
    last bucket. A non-positive count gives no buckets."""
    n = max(0, int(bucket_count))
    x = np.asarray(data).reshape(-1).astype(np.float64)
    if n == 0 or x.size == 0:
        return np.zeros((n, 3), np.float64)
    lo, hi = x.min(), x.max()
    span = hi - lo
    if span == 0:
        edges = np.full(n, hi, np.float64)
        counts = np.zeros(n, np.float64)
        counts[-1] = x.size
        return np.stack([edges, edges, counts], axis=1)
    width = span / np.float64(n)
    with np.errstate(invalid="ignore", over="ignore"):
        index = np.floor((x - lo) / width)
        index = np.where(np.isfinite(index), index, -1).astype(np.int64)
    index = np.minimum(index, n - 1)
    counts = np.bincount(index[index >= 0], minlength=n).astype(np.float64)
    # edges as TensorFlow's linspace computes them (start + i * step), the last one the max
    edges = np.arange(n + 1, dtype=np.float64) * (span / np.float64(n)) + lo
    edges[0], edges[-1] = lo, hi
    return np.stack([edges[:-1], edges[1:], counts], axis=1)


# --------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------


def image_to_uint8(x: np.ndarray) -> np.ndarray:
    """``tf.image.convert_image_dtype(x, tf.uint8, saturate=True)``: floats in [0, 1] are
    scaled by 255.5 and clipped, wider integers divided down to 8 bits, int8 doubled."""
    dt = x.dtype
    if dt == np.uint8:
        return x
    if dt.kind in "iu":
        in_max = int(np.iinfo(dt).max)
        if in_max > 255:  # divide down (floor), then saturate
            scaled = x // dt.type((in_max + 1) // 256)
            return np.clip(scaled.astype(np.int64), 0, 255).astype(np.uint8)
        # int8: saturate to [0, 127], then scale up
        return np.clip(x.astype(np.int16), 0, 255).astype(np.uint8) * np.uint8(2)
    if dt.kind == "f" or dt.name == "bfloat16":
        scaled = x * dt.type(255.5)
        with np.errstate(invalid="ignore"):
            clipped = np.clip(scaled, dt.type(0), dt.type(255))
            return np.nan_to_num(clipped.astype(np.float32), nan=0.0).astype(np.uint8)
    raise AttributeError("image dtype must be either floating point or integer")


_PNG_COLOR = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (gray, gray+alpha, RGB, RGBA)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(image: np.ndarray, compression: int = 6) -> bytes:
    """An ``[height, width, channels]`` uint8 image (1 to 4 channels) as PNG bytes."""
    h, w, c = image.shape
    raw = np.zeros((h, 1 + w * c), np.uint8)  # each row: filter type 0, then its pixels
    raw[:, 1:] = image.reshape(h, w * c)
    header = struct.pack(">IIBBBBB", w, h, 8, _PNG_COLOR[c], 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(raw.tobytes(), compression)),
            _chunk(b"IEND", b""),
        )
    )


# --------------------------------------------------------------------------------------
# Audio
# --------------------------------------------------------------------------------------


def encode_wav(clip: np.ndarray, sample_rate: int) -> bytes:
    """A ``[frames, channels]`` float clip in [-1, 1] as a 16-bit PCM WAV file (samples
    are ``round(x * 32768)`` clipped to int16, as ``tf.audio.encode_wav``)."""
    frames, channels = clip.shape
    x = np.asarray(clip, np.float32) * np.float32(32768.0)
    samples = np.clip(np.round(x), -32768, 32767).astype("<i2")
    data = samples.tobytes()
    fmt = struct.pack(
        "<HHIIHH", 1, channels, sample_rate, sample_rate * channels * 2, channels * 2, 16
    )
    return b"".join(
        (
            b"RIFF",
            struct.pack("<I", 36 + len(data)),
            b"WAVE",
            b"fmt ",
            struct.pack("<I", len(fmt)),
            fmt,
            b"data",
            struct.pack("<I", len(data)),
            data,
        )
    )


# --------------------------------------------------------------------------------------
# SummaryMetadata bytes (encoded here so that no protobuf is needed to build them)
# --------------------------------------------------------------------------------------


def _varint_slow(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_VARINTS = [_varint_slow(n) for n in range(1 << 14)]  # lengths, steps, enums: a lookup


def _varint(n: int) -> bytes:
    return _VARINTS[n] if n < 16384 else _varint_slow(n)


def _field_bytes(number: int, data: bytes) -> bytes:
    """A length-delimited field (omitted when empty, as proto3 does)."""
    if not data:
        return b""
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def summary_metadata(plugin_name: str, content: bytes = b"", description=None, display_name=None):
    """Serialized ``SummaryMetadata`` naming the TensorBoard plugin that shows the data
    (``plugin_data``), with ``display_name`` and ``summary_description`` if given."""
    plugin = _field_bytes(1, plugin_name.encode()) + _field_bytes(2, content)
    out = _varint(1 << 3 | 2) + _varint(len(plugin)) + plugin  # plugin_data is always set
    out += _field_bytes(2, (display_name or "").encode())
    out += _field_bytes(3, (description or "").encode())
    return out


# --------------------------------------------------------------------------------------
# Tensor summary events (Event{wall_time, step, summary{value{tag, tensor, metadata}}})
# --------------------------------------------------------------------------------------

_pack_double = struct.Struct("<d").pack
_U64 = 1 << 64


def _ld(tag_byte: bytes, data: bytes) -> bytes:
    return tag_byte + _varint(len(data)) + data


def _shape_bytes(shape) -> bytes:
    out = b""
    for n in shape:
        out += _ld(b"\x12", b"\x08" + _varint(n) if n else b"")  # dim {size}
    return out


_HEADERS: dict = {}  # (dtype enum, shape) -> TensorProto's dtype and tensor_shape fields
_VALUES: dict = {}  # (tag, metadata) -> Summary.Value's tag field, metadata field


def tensor_event(wall_time: float, step: int, tag: str, metadata: bytes, x: np.ndarray,
                 dtype_enum: int) -> bytes:  # fmt: skip
    """The serialized ``Event`` of one tensor summary value (``x`` a NumPy array; strings
    as an object array of bytes)."""
    key = (dtype_enum, x.shape)
    header = _HEADERS.get(key)
    if header is None:
        header = (b"\x08" + _varint(dtype_enum) if dtype_enum else b"") + _ld(
            b"\x12", _shape_bytes(x.shape)
        )
        if len(_HEADERS) < 4096:
            _HEADERS[key] = header
    if x.dtype == object:
        content = b"".join(
            _ld(b"\x42", v if isinstance(v, bytes) else str(v).encode())
            for v in x.reshape(-1).tolist()
        )  # string_val
    elif x.size:
        content = _ld(b"\x22", x.astype(x.dtype.newbyteorder("<"), copy=False).tobytes())
    else:
        content = b""
    parts = _VALUES.get((tag, metadata))
    if parts is None:
        parts = (_field_bytes(1, tag.encode()), _ld(b"\x4a", metadata) if metadata else b"")
        if len(_VALUES) < 4096:
            _VALUES[(tag, metadata)] = parts
    value = parts[0] + _ld(b"\x42", header + content) + parts[1]
    event = b"\x09" + _pack_double(wall_time) if wall_time else b""
    if step:
        event += b"\x10" + _varint(step % _U64)
    return event + _ld(b"\x2a", _ld(b"\x0a", value))
