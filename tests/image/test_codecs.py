"""Image codecs against Pillow (the reference decoder and encoder), TF's channel and bit
depth rules, and the error without Pillow that names the extra to install."""

import importlib.util
import io
import sys
import zlib

import numpy as np
import pytest

import rill as tf

HAS_PIL = importlib.util.find_spec("PIL") is not None
needs_pil = pytest.mark.skipif(not HAS_PIL, reason="Pillow not installed")
RNG = np.random.default_rng(3)
RGB = (RNG.random((13, 17, 3)) * 255).astype(np.uint8)
YY, XX = np.mgrid[0:40, 0:56]
SMOOTH = np.stack([(YY * 5) % 256, (XX * 4) % 256, ((XX + YY) * 3) % 256], -1).astype(np.uint8)


def pil_bytes(array, fmt, mode=None, **kw):
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(array, mode).save(out, fmt, **kw)
    return out.getvalue()


def pil_pixels(data, mode=None):
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    return np.asarray(img.convert(mode) if mode else img)


def gray(rgb):
    r, g, b = (rgb[..., i].astype(np.int64) for i in range(3))
    return ((r * 9797 + g * 19234 + b * 3737) >> 15).astype(np.uint8)


def test_png_round_trip_without_pillow():
    for img in [RGB, RGB[..., :1], RGB[..., :2], np.dstack([RGB, RGB[..., :1]])]:
        data = tf.io.encode_png(img).numpy()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        if HAS_PIL:  # (decode_png takes 0, 1, 3 or 4 channels; 0 keeps the file's)
            np.testing.assert_array_equal(tf.io.decode_png(data).numpy(), img)
    deep = (RNG.random((5, 6, 3)) * 65535).astype(np.uint16)
    data = tf.image.encode_png(deep, compression=9).numpy()
    # the PNG's pixels, read back with zlib: 16-bit big-endian rows after a filter byte
    raw = zlib.decompress(data[data.index(b"IDAT") + 4 :])
    rows = np.frombuffer(raw, np.uint8).reshape(5, -1)[:, 1:]
    np.testing.assert_array_equal(rows.copy().view(">u2").reshape(5, 6, 3), deep)
    with pytest.raises(tf.errors.InvalidArgumentError, match="EncodePng"):
        tf.io.encode_png(RNG.random((2, 2, 3)).astype(np.float32))


@needs_pil
@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA"])
@pytest.mark.parametrize("channels", [0, 1, 3, 4])
def test_decode_png_channel_rules(mode, channels):
    arr = {
        "RGB": RGB,
        "RGBA": np.dstack([RGB, RGB[..., :1]]),
        "L": RGB[..., 0],
        "LA": RGB[..., :2],
    }[mode]
    data = pil_bytes(arr, "PNG", mode)
    got = tf.io.decode_png(data, channels).numpy()
    px = arr if arr.ndim == 3 else arr[..., None]
    c = px.shape[-1]
    rgb = px[..., :3] if c >= 3 else np.repeat(px[..., :1], 3, -1)
    alpha = px[..., -1:] if c in (2, 4) else np.full(px.shape[:2] + (1,), 255, np.uint8)
    want = {
        0: px,
        1: (gray(px) if c >= 3 else px[..., 0])[..., None],
        3: rgb,
        4: np.concatenate([rgb, alpha], -1),
    }[channels]
    np.testing.assert_array_equal(got, want)


@needs_pil
def test_decode_png_bit_depths():
    from PIL import Image

    deep = (RNG.random((5, 6)) * 65535).astype(np.uint16)
    out = io.BytesIO()
    Image.frombuffer("I;16", (6, 5), deep.astype("<u2").tobytes(), "raw", "I;16", 0, 1).save(
        out, "PNG"
    )
    data = out.getvalue()
    np.testing.assert_array_equal(tf.io.decode_png(data, dtype=tf.uint16).numpy()[..., 0], deep)
    np.testing.assert_array_equal(tf.io.decode_png(data).numpy()[..., 0], deep >> 8)
    eight = tf.io.decode_png(pil_bytes(RGB, "PNG"), dtype=tf.uint16).numpy()
    np.testing.assert_array_equal(eight, RGB.astype(np.uint16) * 257)
    as_float = tf.io.decode_image(pil_bytes(RGB, "PNG"), dtype=tf.float32).numpy()
    np.testing.assert_allclose(as_float, RGB / 255, rtol=1e-6)
    # a 4-bit palette image given an alpha channel: libpng fills it with 15, as TF shows
    pal = Image.fromarray(RGB).convert("P", palette=Image.ADAPTIVE, colors=16)
    out = io.BytesIO()
    pal.save(out, "PNG", bits=4)
    four = tf.io.decode_png(out.getvalue(), 4).numpy()
    np.testing.assert_array_equal(four[..., :3], np.asarray(pal.convert("RGB")))
    assert (four[..., 3] == 15).all()


@needs_pil
def test_decode_jpeg_matches_pillow():
    data = pil_bytes(SMOOTH, "JPEG", quality=90)
    np.testing.assert_array_equal(tf.io.decode_jpeg(data).numpy(), pil_pixels(data, "RGB"))
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    img.draft("L", img.size)
    np.testing.assert_array_equal(
        tf.io.decode_jpeg(data, channels=1).numpy()[..., 0], np.asarray(img)
    )
    for ratio in (2, 4, 8):
        img = Image.open(io.BytesIO(data))
        img.draft("RGB", (-(-56 // ratio), -(-40 // ratio)))
        np.testing.assert_array_equal(
            tf.io.decode_jpeg(data, ratio=ratio).numpy(), np.asarray(img.convert("RGB"))
        )
    crop = tf.io.decode_and_crop_jpeg(data, [3, 5, 10, 20]).numpy()
    np.testing.assert_array_equal(crop, pil_pixels(data, "RGB")[3:13, 5:25])
    np.testing.assert_array_equal(tf.io.extract_jpeg_shape(data).numpy(), [40, 56, 3])
    assert tf.io.extract_jpeg_shape(data, tf.int64).dtype == tf.int64
    np.testing.assert_array_equal(
        tf.io.is_jpeg([data, pil_bytes(RGB, "PNG"), b""]).numpy(), [True, False, False]
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="JPEG does not support 4 channels"):
        tf.io.decode_jpeg(data, channels=4)
    with pytest.raises(tf.errors.InvalidArgumentError, match="crop window"):
        tf.io.decode_and_crop_jpeg(data, [35, 5, 10, 20])


@needs_pil
def test_encode_jpeg_options():
    for kw, pil_kw in [({}, {"quality": 95}), ({"quality": 50}, {"quality": 50}),
                       ({"chroma_downsampling": False}, {"quality": 95, "subsampling": 0}),
                       ({"progressive": True}, {"quality": 95, "progressive": True})]:  # fmt: skip
        data = tf.io.encode_jpeg(SMOOTH, **kw).numpy()
        np.testing.assert_array_equal(
            pil_pixels(data), pil_pixels(pil_bytes(SMOOTH, "JPEG", **pil_kw))
        )
    from PIL import Image

    img = Image.open(
        io.BytesIO(
            tf.io.encode_jpeg(
                SMOOTH, density_unit="cm", x_density=100, y_density=50, xmp_metadata="<x/>"
            ).numpy()
        )
    )
    assert (
        img.info["jfif_unit"] == 2 and img.info["jfif_density"] == (100, 50) and "xmp" in img.info
    )
    assert Image.open(io.BytesIO(tf.io.encode_jpeg(SMOOTH[..., :1]).numpy())).mode == "L"
    with pytest.raises(tf.errors.InvalidArgumentError, match="format grayscale expects 1 channels"):
        tf.io.encode_jpeg(SMOOTH, format="grayscale")
    with pytest.raises(tf.errors.InvalidArgumentError, match="image must have 1 or 3 channels"):
        tf.io.encode_jpeg(np.dstack([SMOOTH, SMOOTH[..., :1]]))
    q = tf.image.adjust_jpeg_quality(SMOOTH, 50)
    assert q.dtype == tf.uint8
    np.testing.assert_array_equal(q.numpy(), pil_pixels(pil_bytes(SMOOTH, "JPEG", quality=50)))
    assert tf.image.adjust_jpeg_quality(SMOOTH / 255, 50).dtype == tf.float64
    assert tf.image.stateless_random_jpeg_quality(SMOOTH, 40, 60, seed=[1, 2]).shape == SMOOTH.shape


@needs_pil
def test_gif_webp_bmp_and_decode_image():
    from PIL import Image

    frames = [
        Image.fromarray((RNG.random((9, 11, 3)) * 255).astype(np.uint8)).convert(
            "P", palette=Image.ADAPTIVE, colors=8
        )
        for _ in range(3)
    ]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    gif = out.getvalue()
    got = tf.io.decode_gif(gif).numpy()
    assert got.shape == (3, 9, 11, 3)
    for i, f in enumerate(frames):
        np.testing.assert_array_equal(got[i], np.asarray(f.convert("RGB")))
    assert tf.io.decode_image(gif).shape == (3, 9, 11, 3)
    assert tf.io.decode_image(gif, expand_animations=False).shape == (9, 11, 3)
    assert tf.io.decode_gif(pil_bytes(RGB, "PNG")).shape == (1, 13, 17, 3)
    webp = pil_bytes(RGB, "WEBP", lossless=True)
    np.testing.assert_array_equal(tf.io.decode_webp(webp).numpy(), RGB[None])
    assert tf.io.decode_image(webp, expand_animations=False).shape == (13, 17, 3)
    with pytest.raises(
        tf.errors.InvalidArgumentError, match="Number of channels requested does not match"
    ):
        tf.io.decode_webp(webp, channels=4)
    with pytest.raises(tf.errors.InvalidArgumentError, match="channels must be 0 or 3 for GIF"):
        tf.io.decode_image(gif, channels=1)
    for data in (pil_bytes(RGB, "BMP"), pil_bytes(np.dstack([RGB, RGB[..., :1]]), "BMP", "RGBA")):
        np.testing.assert_array_equal(tf.io.decode_bmp(data, channels=3).numpy(), RGB)
    rgba = tf.io.decode_bmp(pil_bytes(np.dstack([RGB, RGB[..., :1]]), "BMP", "RGBA")).numpy()
    np.testing.assert_array_equal(rgba[..., 3], RGB[..., 0])
    assert tf.io.decode_png(pil_bytes(RGB, "JPEG")).shape == (13, 17, 3)  # any still format


def test_decode_errors_name_the_op():
    with pytest.raises(
        tf.errors.InvalidArgumentError, match="DecodeImage: Unknown image file format"
    ):
        tf.io.decode_image(b"garbage")
    with pytest.raises(
        tf.errors.InvalidArgumentError, match="Trying to decode PNG format using DecodeBmp"
    ):
        tf.io.decode_bmp(tf.io.encode_png(RGB))
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be 0, 3 or 4 for BMP"):
        tf.io.decode_bmp(b"BM" + bytes(60), channels=1)


def test_codecs_without_pillow_name_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)  # makes `import PIL` fail
    with pytest.raises(tf.errors.UnimplementedError, match=r"pip install 'rill\[image\]'"):
        tf.io.decode_png(tf.io.encode_png(RGB))
    with pytest.raises(
        tf.errors.UnimplementedError, match=r"DecodeJpeg.*pip install 'rill\[image\]'"
    ):
        tf.io.decode_jpeg(b"\xff\xd8\xff\xe0" + bytes(20))
    with pytest.raises(tf.errors.UnimplementedError, match=r"EncodeJpeg.*rill\[image\]"):
        tf.io.encode_jpeg(RGB)
    # BMP decoding and PNG encoding need no Pillow
    bmp = (b"BM" + (54 + 2 * 4).to_bytes(4, "little") + bytes(4) + (54).to_bytes(4, "little")
           + (40).to_bytes(4, "little") + (1).to_bytes(4, "little") + (2).to_bytes(4, "little")
           + (1).to_bytes(2, "little") + (24).to_bytes(2, "little") + bytes(24)
           + bytes([1, 2, 3, 0, 4, 5, 6, 0]))  # fmt: skip
    np.testing.assert_array_equal(tf.io.decode_bmp(bmp).numpy(), [[[6, 5, 4]], [[3, 2, 1]]])


def test_decode_jxl_needs_a_plugin():
    if importlib.util.find_spec("pillow_jxl") is not None:
        pytest.skip("a JPEG XL plugin is installed")
    with pytest.raises(tf.errors.UnimplementedError, match="JPEG XL"):
        tf.io.decode_jxl(b"\xff\x0a" + bytes(16))
