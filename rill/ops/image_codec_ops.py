"""Image codecs: decoding PNG, JPEG, GIF, BMP and WebP (and JPEG XL where a Pillow plugin
provides it), encoding PNG and JPEG, and the JPEG helpers (``is_jpeg``,
``extract_jpeg_shape``, ``adjust_jpeg_quality`` and its random and stateless-random
forms).

The codecs run on the host through Pillow, an optional dependency (``pip install
'rill[image]'``) imported on first use; without it they raise ``UnimplementedError``
saying so. PNG encoding needs only ``zlib`` and works without Pillow.

What rill reproduces of TF's decoders: every decoder but ``decode_bmp`` reads any of the
still formats (the format comes from the data, as in TF); channel conversions (gray from
RGB as libpng computes it, alpha dropped or set to opaque); 16-bit PNGs to 8 bits by
their high byte and 8 bits to 16 by x257; GIF frames composited; WebP always 4-D. Where
Pillow cannot follow TF: JPEG decoding uses libjpeg's accurate integer IDCT (TF's
``dct_method="INTEGER_ACCURATE"``; TF's default, the fast IDCT, differs by a few levels)
and always upsamples chroma smoothly (``fancy_upscaling=False`` has no effect).
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import UnimplementedError
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    bind,
    convert_to_tensor,
    op_error,
    primitive,
    tf_export,
)
from rill.ops.image_ops import _uniform, convert_image_dtype

__all__ = [
    "decode_png", "decode_jpeg", "decode_and_crop_jpeg", "decode_gif", "decode_bmp",
    "decode_webp", "decode_jxl", "decode_image", "encode_png", "encode_jpeg", "is_jpeg",
    "extract_jpeg_shape", "adjust_jpeg_quality", "random_jpeg_quality",
    "stateless_random_jpeg_quality",
]  # fmt: skip


def _pil(op):
    """Pillow's Image module, or UnimplementedError naming the extra to install."""
    try:
        from PIL import Image
    except ImportError:
        raise op_error(
            UnimplementedError, op,
            "image decoding and JPEG encoding need Pillow, an optional dependency of rill: "
            "pip install 'rill[image]'",
        ) from None  # fmt: skip
    return Image


def _bytes(contents, op):
    a = np.asarray(contents)
    if a.ndim != 0:
        raise op_error(
            InvalidArgumentError, op, f"contents must be a scalar string, got shape {list(a.shape)}"
        )
    v = a.item()
    return bytes(v) if not isinstance(v, str) else v.encode()


_FORMATS = "JPEG, JPEG XL, PNG, GIF, BMP, WebP"


def _sniff(data):
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:4] == b"\x89PNG":
        return "PNG"
    if data[:4] == b"GIF8":
        return "GIF"
    if data[:2] == b"BM":
        return "BMP"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    if data[:2] == b"\xff\x0a" or data[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n":
        return "JPEG XL"
    return None


def _open(data, fmt, op):
    image = _pil(op)
    if fmt == "JPEG XL":
        try:
            import pillow_jxl  # noqa: F401 - registers Pillow's JPEG XL plugin
        except ImportError:
            raise op_error(
                UnimplementedError, op,
                "JPEG XL decoding needs a Pillow JPEG XL plugin (pip install pillow-jxl-plugin)",
            ) from None  # fmt: skip
    try:
        img = image.open(io.BytesIO(data))
        img.load()
    except Exception as e:  # noqa: BLE001 - any decoder failure is bad input
        raise op_error(InvalidArgumentError, op, f"Invalid {fmt} data: {e}") from None
    return img


def _pixels(img):
    """An image's pixels as [H, W, C] (uint8, or uint16 for 16-bit grayscale)."""
    mode = img.mode
    if mode == "P" or mode == "PA":
        img = img.convert("RGBA" if ("transparency" in img.info or mode == "PA") else "RGB")
    elif mode == "1":
        img = img.convert("L")
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        img = img.convert("RGB")
    elif mode.startswith("I;16") or mode == "I":
        a = np.asarray(img)
        return np.clip(a, 0, 65535).astype(np.uint16)[..., None]
    elif mode == "F":
        a = np.asarray(img)
        return np.clip(a, 0, 255).astype(np.uint8)[..., None]
    elif mode == "La":
        img = img.convert("LA")
    elif mode == "RGBa":
        img = img.convert("RGBA")
    a = np.asarray(img)
    return a[..., None] if a.ndim == 2 else a


def _gray(rgb):
    """Gray from RGB as libpng's rgb_to_gray computes it (0.299, 0.587 in 1/32768ths)."""
    r, g, b = (rgb[..., i].astype(np.int64) for i in range(3))
    return ((r * 9797 + g * 19234 + b * 3737) >> 15).astype(rgb.dtype)


def _with_channels(a, channels, op, opaque=None):
    """Convert [H, W, C] pixels to ``channels`` (0: as they are). An added alpha channel
    is ``opaque`` (default: the dtype's maximum)."""
    c = a.shape[-1]
    if channels in (0, c):
        return a
    full = np.iinfo(a.dtype).max if opaque is None else opaque
    if channels == 1:
        return a[..., :1] if c <= 2 else _gray(a)[..., None]
    if channels == 3:
        return np.repeat(a[..., :1], 3, axis=-1) if c <= 2 else a[..., :3]
    if channels == 4:
        alpha = a[..., 1:2] if c == 2 else np.full(a.shape[:-1] + (1,), full, a.dtype)
        rgb = np.repeat(a[..., :1], 3, axis=-1) if c <= 2 else a[..., :3]
        return np.concatenate([rgb, alpha], axis=-1)
    raise op_error(InvalidArgumentError, op, f"channels must be 0, 1, 3 or 4, got {channels}")


def _depth(a, dtype):
    """Pixels (uint8 or uint16) in ``dtype``: uint8, uint16 or float32 in [0, 1]."""
    if dtype == np.uint8:
        return (a >> 8).astype(np.uint8) if a.dtype == np.uint16 else a
    if dtype == np.uint16:
        return a.astype(np.uint16) * np.uint16(257) if a.dtype == np.uint8 else a
    return (a.astype(np.float32) / np.float32(np.iinfo(a.dtype).max)).astype(np.float32)


def _decode_bmp(data, op):
    """Pixels of an uncompressed 8-, 24- or 32-bit BMP: [H, W, 1 | 3 | 4] uint8 (8-bit
    BMPs read as grayscale, 32-bit with their fourth byte as alpha, as TF reads them)."""

    def u(lo, hi, signed=False):
        return int.from_bytes(data[lo:hi], "little", signed=signed)

    if len(data) < 34:
        raise op_error(InvalidArgumentError, op, "Invalid BMP data: header too short")
    offset, width, height, bpp, compression = (
        u(10, 14),
        u(18, 22, True),
        u(22, 26, True),
        u(28, 30),
        u(30, 34),
    )
    if bpp not in (8, 24, 32) or compression not in (0, 3) or width <= 0 or height == 0:
        raise op_error(
            InvalidArgumentError, op,
            f"Invalid BMP data: only uncompressed 8-, 24- and 32-bit images are supported, got "
            f"{bpp} bits per pixel, compression {compression}, size {width}x{height}",
        )  # fmt: skip
    rows, c = abs(height), bpp // 8
    stride = (bpp * width + 31) // 32 * 4
    if offset + stride * rows > len(data):
        raise op_error(InvalidArgumentError, op, "Invalid BMP data: the pixel data is truncated")
    raw = np.frombuffer(data, np.uint8, stride * rows, offset).reshape(rows, stride)
    px = raw[:, : width * c].reshape(rows, width, c)
    if height > 0:  # stored bottom-up
        px = px[::-1]
    if c >= 3:  # BGR(A) -> RGB(A)
        px = np.concatenate([px[..., 2::-1], px[..., 3:]], axis=-1)
    return np.ascontiguousarray(px)


def _frames(img):
    """Every frame of an animation, composited, as [N, H, W, 3 or 4]."""
    out = []
    for i in range(getattr(img, "n_frames", 1)):
        img.seek(i)
        frame = img.convert(
            "RGBA" if img.mode in ("RGBA", "PA") and img.format == "WEBP" else "RGB"
        )
        out.append(np.asarray(frame))
    return np.stack(out)


# --------------------------------------------------------------------------------------
# One decoding kernel for every decode op
# --------------------------------------------------------------------------------------


def _decode(contents, op, accept, channels=0, dtype=_d.uint8, expand_animations=True,
            ratio=1, crop=None):  # fmt: skip
    data = _bytes(contents, op)
    fmt = _sniff(data)
    if fmt is None:
        raise op_error(
            InvalidArgumentError, op, f"Unknown image file format. One of {_FORMATS} required."
        )
    if fmt not in accept:
        name = fmt.lower().replace(" ", "")
        raise op_error(
            InvalidArgumentError, op,
            f"Trying to decode {fmt} format using {op} op. Use `decode_{name}` or "
            "`decode_image` instead.",
        )  # fmt: skip
    np_dtype = dtype.as_numpy_dtype
    if fmt == "GIF" or fmt == "WebP":
        if fmt == "GIF" and channels not in (0, 3):
            raise op_error(
                InvalidArgumentError, op, f"channels must be 0 or 3 for GIF, got {channels}"
            )
        img = _open(data, fmt, op)
        frames = _frames(img)
        if fmt == "WebP" and channels not in (0, frames.shape[-1]):
            raise op_error(
                InvalidArgumentError, op,
                f"Number of channels requested does not match input: {channels} vs "
                f"{frames.shape[-1]}",
            )  # fmt: skip
        if not expand_animations:
            frames = frames[0]
        return _depth(frames, np_dtype)
    if fmt == "BMP" and channels not in (0, 3, 4):
        raise op_error(
            InvalidArgumentError, op, f"`channels` must be 0, 3 or 4 for BMP, but got {channels}"
        )
    if fmt == "JPEG" and channels not in (0, 1, 3):
        raise op_error(InvalidArgumentError, op, f"JPEG does not support {channels} channels")
    if channels not in (0, 1, 3, 4):
        raise op_error(
            InvalidArgumentError, op, f"`channels` must be 0, 1, 3 or 4 but got {channels}"
        )
    if fmt == "BMP":
        return _depth(_with_channels(_decode_bmp(data, op), channels, op), np_dtype)
    img = _pil(op).open(io.BytesIO(data)) if fmt == "JPEG" else _open(data, fmt, op)
    if fmt == "JPEG":
        if ratio not in (1, 2, 4, 8):
            raise op_error(InvalidArgumentError, op, f"ratio must be 1, 2, 4 or 8, got {ratio}")
        want = "L" if channels == 1 else ("RGB" if channels == 3 else img.mode)
        if ratio != 1 or want != img.mode:
            img.draft(want, (-(-img.width // ratio), -(-img.height // ratio)))
        try:
            img.load()
        except Exception as e:  # noqa: BLE001
            raise op_error(
                InvalidArgumentError, op, f"jpeg::Uncompress failed. Invalid JPEG data: {e}"
            ) from None
    a = _pixels(img)
    if crop is not None:
        y, x, h, w = (int(v) for v in crop)
        if y < 0 or x < 0 or h <= 0 or w <= 0 or y + h > a.shape[0] or x + w > a.shape[1]:
            raise op_error(
                InvalidArgumentError, op,
                f"jpeg::Uncompress failed. Invalid JPEG data or crop window {[y, x, h, w]} "
                f"for an image of {list(a.shape[:2])}",
            )  # fmt: skip
        a = a[y : y + h, x : x + w]
    opaque = None
    if fmt == "PNG" and len(data) > 24 and data[24] < 8:
        # libpng fills a missing alpha with the image's own bit depth's maximum
        opaque = (1 << data[24]) - 1
    return _depth(_with_channels(a, channels, op, opaque), np_dtype)


def _image_rule(rank):
    def rule(contents, *rest, channels=0, dtype=_d.uint8, **_):
        c = channels if channels else None
        shape = [None] * (rank - 1) + [c] if rank else None
        return AVal(shape, dtype)

    return rule


def _host(op, accept, frames=False, **fixed):
    def kernel(contents, channels=0, dtype=_d.uint8, **p):
        out = _decode(contents, op, accept, channels=channels, dtype=dtype, **fixed, **p)
        return out[None] if frames and out.ndim == 3 else out

    return kernel


_STILL = ("JPEG", "PNG", "GIF", "BMP", "WebP", "JPEG XL")

decode_png_p = primitive(
    "DecodePng", _host("DecodePng", _STILL, expand_animations=False), _image_rule(3), host=True
)
decode_gif_p = primitive(
    "DecodeGif", _host("DecodeGif", _STILL, frames=True), _image_rule(4), host=True
)
decode_bmp_p = primitive(
    "DecodeBmp", _host("DecodeBmp", ("BMP",), expand_animations=False), _image_rule(3), host=True
)
decode_webp_p = primitive(
    "DecodeWebP", _host("DecodeWebP", ("WebP",), frames=True), _image_rule(4), host=True
)
decode_jxl_p = primitive(
    "DecodeJxl", _host("DecodeJxl", ("JPEG XL",), expand_animations=False), _image_rule(3),
    host=True,
)  # fmt: skip


def _jpeg_kernel(contents, channels=0, ratio=1, fancy_upscaling=True, try_recover_truncated=False,
                 acceptable_fraction=1.0, dct_method=""):  # fmt: skip
    return _decode(contents, "DecodeJpeg", _STILL, channels=channels, ratio=ratio,
                   expand_animations=False)  # fmt: skip


def _crop_jpeg_kernel(contents, crop_window, channels=0, ratio=1, fancy_upscaling=True,
                      try_recover_truncated=False, acceptable_fraction=1.0, dct_method=""):  # fmt: skip
    w = np.asarray(crop_window).reshape(-1)
    if w.shape[0] != 4:
        raise op_error(
            InvalidArgumentError, "DecodeAndCropJpeg",
            f"crop_window must be [y, x, height, width], got {list(w)}",
        )  # fmt: skip
    return _decode(contents, "DecodeAndCropJpeg", ("JPEG",), channels=channels, ratio=ratio,
                   expand_animations=False, crop=w)  # fmt: skip


decode_jpeg_p = primitive("DecodeJpeg", _jpeg_kernel, _image_rule(3), host=True)
decode_crop_jpeg_p = primitive("DecodeAndCropJpeg", _crop_jpeg_kernel, _image_rule(3), host=True)


def _decode_image_kernel(contents, channels=0, dtype=_d.uint8, expand_animations=True):
    return _decode(contents, "DecodeImage", _STILL, channels=channels, dtype=dtype,
                   expand_animations=expand_animations)  # fmt: skip


def _decode_image_rule(contents, channels=0, dtype=_d.uint8, expand_animations=True):
    return AVal(None if expand_animations else [None, None, channels or None], dtype)


decode_image_p = primitive("DecodeImage", _decode_image_kernel, _decode_image_rule, host=True)


def _extract_jpeg_shape_kernel(contents, output_type=_d.int32):
    op = "ExtractJpegShape"
    data = _bytes(contents, op)
    if _sniff(data) != "JPEG":
        raise op_error(InvalidArgumentError, op, "Invalid JPEG data: not a JPEG stream")
    try:
        img = _pil(op).open(io.BytesIO(data))
    except Exception as e:  # noqa: BLE001
        raise op_error(InvalidArgumentError, op, f"Invalid JPEG data: {e}") from None
    c = {"L": 1, "CMYK": 4}.get(img.mode, 3)
    return np.array([img.height, img.width, c], dtype=output_type.as_numpy_dtype)


extract_jpeg_shape_p = primitive(
    "ExtractJpegShape", _extract_jpeg_shape_kernel,
    lambda contents, output_type=_d.int32: AVal([3], output_type), host=True,
)  # fmt: skip


def _is_jpeg_kernel(contents):
    a = np.asarray(contents, dtype=object)
    flat = [bytes(v)[:3] == b"\xff\xd8\xff" for v in a.reshape(-1)]
    return np.array(flat, dtype=bool).reshape(a.shape)


is_jpeg_p = primitive(
    "IsJpeg", _is_jpeg_kernel, lambda contents: AVal(contents.shape, _d.bool), host=True
)

# --------------------------------------------------------------------------------------
# Encoders
# --------------------------------------------------------------------------------------


def _check_image(op, a, channels):
    if a.ndim != 3:
        raise op_error(
            InvalidArgumentError, op, f"image must be 3-dimensional, got shape {list(a.shape)}"
        )
    if a.shape[-1] not in channels:
        raise op_error(
            InvalidArgumentError, op,
            f"image must have {' or '.join(map(str, channels))} channels, got {list(a.shape)}",
        )  # fmt: skip


def _png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _encode_png_kernel(image, compression=-1):
    """PNG bytes of an 8- or 16-bit [H, W, 1..4] image, written with zlib (no Pillow)."""
    op = "EncodePng"
    a = np.asarray(image)
    _check_image(op, a, (1, 2, 3, 4))
    if not -1 <= compression <= 9:
        raise op_error(
            InvalidArgumentError, op, f"compression must be in [-1, 9], got {compression}"
        )
    h, w, c = a.shape
    depth = 16 if a.dtype == np.uint16 else 8
    color = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    rows = a.astype(">u2" if depth == 16 else np.uint8).reshape(h, -1).view(np.uint8)
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rows], axis=1).tobytes()  # filter 0
    header = struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, 0)
    data = zlib.compress(raw, compression)
    png = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
    png += _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b"")
    return np.asarray(png, dtype=object)


encode_png_p = primitive(
    "EncodePng", _encode_png_kernel, lambda image, compression=-1: AVal([], _d.string),
    dtypes=frozenset({_d.uint8, _d.uint16}), host=True,
)  # fmt: skip


def _jpeg_bytes(a, op, format="", quality=95, progressive=False, optimize_size=False,  # noqa: A002
                chroma_downsampling=True, density_unit="in", x_density=300, y_density=300,
                xmp_metadata=""):  # fmt: skip
    _check_image(op, a, (1, 3))
    if format == "grayscale" and a.shape[-1] != 1:
        raise op_error(
            InvalidArgumentError, op, f"format grayscale expects 1 channels, got {list(a.shape)}"
        )
    if format == "rgb" and a.shape[-1] != 3:
        raise op_error(
            InvalidArgumentError, op, f"format rgb expects 3 channels, got {list(a.shape)}"
        )
    if not 0 <= quality <= 100:
        raise op_error(InvalidArgumentError, op, f"quality must be in [0,100], got {quality}")
    if density_unit not in ("in", "cm"):
        raise op_error(
            InvalidArgumentError, op, f"density_unit must be 'in' or 'cm', got {density_unit!r}"
        )
    image = _pil(op)
    img = image.fromarray(a[..., 0] if a.shape[-1] == 1 else a, "L" if a.shape[-1] == 1 else "RGB")
    out = io.BytesIO()
    kw = {
        "quality": int(quality), "progressive": bool(progressive), "optimize": bool(optimize_size),
        "subsampling": 2 if chroma_downsampling else 0, "dpi": (int(x_density), int(y_density)),
    }  # fmt: skip
    if xmp_metadata:
        kw["xmp"] = xmp_metadata.encode() if isinstance(xmp_metadata, str) else bytes(xmp_metadata)
    img.save(out, "JPEG", **kw)
    data = bytearray(out.getvalue())
    # the JFIF header's density unit (Pillow writes inches): byte 13 of the APP0 segment
    if density_unit == "cm" and data[6:11] == b"JFIF\x00":
        data[13] = 2
    return bytes(data)


def _encode_jpeg_kernel(image, **p):
    return np.asarray(_jpeg_bytes(np.asarray(image), "EncodeJpeg", **p), dtype=object)


encode_jpeg_p = primitive(
    "EncodeJpeg", _encode_jpeg_kernel, lambda image, **_: AVal([], _d.string),
    dtypes=frozenset({_d.uint8}), host=True,
)  # fmt: skip


def _encode_jpeg_vq_kernel(images, quality):
    q = int(np.asarray(quality))
    return np.asarray(
        _jpeg_bytes(np.asarray(images), "EncodeJpegVariableQuality", quality=q), dtype=object
    )


encode_jpeg_vq_p = primitive(
    "EncodeJpegVariableQuality", _encode_jpeg_vq_kernel,
    lambda images, quality: AVal([], _d.string), dtypes=frozenset({_d.uint8}), n_typed=1,
    host=True,
)  # fmt: skip

# --------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------


def _contents(contents):
    return convert_to_tensor(contents, dtype=_d.string)


def _int_param(v, what):
    if hasattr(v, "numpy"):
        v = v.numpy()
    return int(v)


@tf_export("image.decode_png", "io.decode_png")
def decode_png(contents, channels=0, dtype=_d.uint8, name=None):
    """Decode a PNG (or a JPEG, BMP or single-frame GIF) to [height, width, channels]
    uint8 or uint16."""
    dtype = _d.as_dtype(dtype)
    if dtype not in (_d.uint8, _d.uint16):
        raise TypeError(f"decode_png: dtype must be uint8 or uint16, got {dtype.name}")
    params = {"channels": _int_param(channels, "channels"), "dtype": dtype}
    return bind(decode_png_p, (_contents(contents),), params)


@tf_export("image.decode_jpeg", "io.decode_jpeg")
def decode_jpeg(contents, channels=0, ratio=1, fancy_upscaling=True, try_recover_truncated=False,
                acceptable_fraction=1, dct_method="", name=None):  # fmt: skip
    """Decode a JPEG (or another still format) to uint8 [height, width, channels];
    ``ratio`` 2, 4 or 8 downscales while decoding."""
    params = {
        "channels": _int_param(channels, "channels"), "ratio": int(ratio),
        "fancy_upscaling": bool(fancy_upscaling), "try_recover_truncated": bool(try_recover_truncated),
        "acceptable_fraction": float(acceptable_fraction), "dct_method": str(dct_method),
    }  # fmt: skip
    return bind(decode_jpeg_p, (_contents(contents),), params)


@tf_export("image.decode_and_crop_jpeg", "io.decode_and_crop_jpeg")
def decode_and_crop_jpeg(contents, crop_window, channels=0, ratio=1, fancy_upscaling=True,
                         try_recover_truncated=False, acceptable_fraction=1, dct_method="",
                         name=None):  # fmt: skip
    """Decode the ``crop_window`` [y, x, height, width] of a JPEG."""
    params = {
        "channels": _int_param(channels, "channels"), "ratio": int(ratio),
        "fancy_upscaling": bool(fancy_upscaling), "try_recover_truncated": bool(try_recover_truncated),
        "acceptable_fraction": float(acceptable_fraction), "dct_method": str(dct_method),
    }  # fmt: skip
    window = convert_to_tensor(crop_window, dtype=_d.int32)
    return bind(decode_crop_jpeg_p, (_contents(contents), window), params)


@tf_export("image.decode_gif", "io.decode_gif")
def decode_gif(contents, name=None):
    """Decode every frame of a GIF: uint8 [num_frames, height, width, 3]."""
    return bind(decode_gif_p, (_contents(contents),), {"channels": 0, "dtype": _d.uint8})


@tf_export("image.decode_bmp", "io.decode_bmp")
def decode_bmp(contents, channels=0, name=None):
    """Decode a BMP to uint8 [height, width, channels] (channels 0, 3 or 4)."""
    params = {"channels": _int_param(channels, "channels"), "dtype": _d.uint8}
    return bind(decode_bmp_p, (_contents(contents),), params)


@tf_export("image.decode_webp", "io.decode_webp")
def decode_webp(contents, channels=0, dtype=_d.uint8, name=None):
    """Decode a WebP (still or animated) to [num_frames, height, width, channels]."""
    params = {"channels": _int_param(channels, "channels"), "dtype": _d.as_dtype(dtype)}
    return bind(decode_webp_p, (_contents(contents),), params)


@tf_export("image.decode_jxl", "io.decode_jxl")
def decode_jxl(contents, channels=0, dtype=_d.uint8, name=None):
    """Decode a JPEG XL image (needs a Pillow JPEG XL plugin) to [height, width, channels]."""
    params = {"channels": _int_param(channels, "channels"), "dtype": _d.as_dtype(dtype)}
    return bind(decode_jxl_p, (_contents(contents),), params)


@tf_export("image.decode_image", "io.decode_image")
def decode_image(contents, channels=None, dtype=_d.uint8, name=None, expand_animations=True):
    """Decode any supported image, detecting its format: [height, width, channels], or
    [num_frames, height, width, channels] for GIF and WebP unless ``expand_animations`` is
    False (then the first frame). ``dtype`` other than uint8/uint16/float32 converts with
    ``convert_image_dtype``."""
    dtype = _d.as_dtype(dtype)
    direct = dtype in (_d.uint8, _d.uint16, _d.float32)
    params = {
        "channels": 0 if channels is None else _int_param(channels, "channels"),
        "dtype": dtype if direct else _d.uint16,
        "expand_animations": bool(expand_animations),
    }
    out = bind(decode_image_p, (_contents(contents),), params)
    if not direct:
        out = convert_image_dtype(out, dtype)
    return out


@tf_export("image.encode_png", "io.encode_png")
def encode_png(image, compression=-1, name=None):
    """Encode a uint8 or uint16 [height, width, 1..4] image as PNG bytes."""
    return bind(encode_png_p, (convert_to_tensor(image),), {"compression": int(compression)})


@tf_export("image.encode_jpeg", "io.encode_jpeg")
def encode_jpeg(image, format="", quality=95, progressive=False, optimize_size=False,  # noqa: A002
                chroma_downsampling=True, density_unit="in", x_density=300, y_density=300,
                xmp_metadata="", name=None):  # fmt: skip
    """Encode a uint8 [height, width, 1 or 3] image as JPEG bytes."""
    params = {
        "format": format, "quality": int(quality), "progressive": bool(progressive),
        "optimize_size": bool(optimize_size), "chroma_downsampling": bool(chroma_downsampling),
        "density_unit": density_unit, "x_density": int(x_density), "y_density": int(y_density),
        "xmp_metadata": xmp_metadata,
    }  # fmt: skip
    return bind(encode_jpeg_p, (convert_to_tensor(image),), params)


@tf_export("image.is_jpeg", "io.is_jpeg")
def is_jpeg(contents, name=None):
    """Whether each string starts with the JPEG signature (FF D8 FF)."""
    return bind(is_jpeg_p, (_contents(contents),))


@tf_export("image.extract_jpeg_shape", "io.extract_jpeg_shape")
def extract_jpeg_shape(contents, output_type=_d.int32, name=None):
    """[height, width, channels] of a JPEG, from its header."""
    return bind(
        extract_jpeg_shape_p, (_contents(contents),), {"output_type": _d.as_dtype(output_type)}
    )


@tf_export("image.adjust_jpeg_quality")
def adjust_jpeg_quality(image, jpeg_quality, dct_method="", name=None):
    """``image`` after a round trip through JPEG at ``jpeg_quality`` (0-100), in its dtype."""
    image = convert_to_tensor(image)
    channels = image.shape[-1] if image.shape.rank else None
    orig = image.dtype
    u8 = convert_image_dtype(image, _d.uint8, saturate=True)
    q = convert_to_tensor(jpeg_quality, dtype=_d.int32)
    data = bind(encode_jpeg_vq_p, (u8, q))
    params = {
        "channels": channels or 0, "ratio": 1, "fancy_upscaling": True,
        "try_recover_truncated": False, "acceptable_fraction": 1.0, "dct_method": dct_method,
    }  # fmt: skip
    decoded = bind(decode_jpeg_p, (data,), params)
    return convert_image_dtype(decoded, orig, saturate=True)


def _check_jpeg_range(lo, hi):
    if lo < 0 or hi < 0 or lo > 100 or hi > 100:
        raise ValueError("jpeg encoding range must be between 0 and 100.")
    if lo >= hi:
        raise ValueError("`min_jpeg_quality` must be less than `max_jpeg_quality`.")


@tf_export("image.random_jpeg_quality")
def random_jpeg_quality(image, min_jpeg_quality, max_jpeg_quality, seed=None):
    """``adjust_jpeg_quality`` with a quality drawn uniformly from [min, max)."""
    _check_jpeg_range(min_jpeg_quality, max_jpeg_quality)
    q = _uniform(seed, False, min_jpeg_quality, max_jpeg_quality, dtype=_d.int32)
    return adjust_jpeg_quality(image, q)


@tf_export("image.stateless_random_jpeg_quality")
def stateless_random_jpeg_quality(image, min_jpeg_quality, max_jpeg_quality, seed):
    """``random_jpeg_quality`` as a function of ``seed`` (shape [2])."""
    _check_jpeg_range(min_jpeg_quality, max_jpeg_quality)
    q = _uniform(seed, True, min_jpeg_quality, max_jpeg_quality, dtype=_d.int32)
    return adjust_jpeg_quality(image, q)
