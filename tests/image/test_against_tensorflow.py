"""tf.image under rill and under TensorFlow itself, on fixed images: every resize method
with and without antialiasing, up and down, every dtype rule; crops, pads, flips; colour
conversions and adjustments; convert_image_dtype's rounding and saturation; SSIM, PSNR;
non-max suppression in all its forms; drawing boxes; codecs; gradients; and the error
class of every bad input (through tests/tf_errors.py).

Skipped unless TensorFlow is importable; run with
``PYTHONPATH=. /work/peers/bin/python -m pytest tests/image/test_against_tensorflow.py``.
"""

import importlib.util
import io

import numpy as np
import pytest

import rill
from tests.tf_errors import compare_outcomes

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="TensorFlow not installed"
)

_rng = np.random.default_rng(7)
IMG = _rng.random((2, 9, 11, 3)).astype(np.float32)
U8 = (IMG * 255).astype(np.uint8)
BIG = _rng.random((1, 40, 36, 2)).astype(np.float32)
HSV = np.stack([_rng.random(40) * 1.4 - 0.2, _rng.random(40), _rng.random(40)], -1).astype(
    np.float32
)
_c = _rng.uniform(0, 10, (60, 2))
BOXES = np.concatenate([_c, _c + _rng.uniform(0.2, 3, (60, 2))], 1).astype(np.float32)
SCORES = _rng.random(60).astype(np.float32)
CBOXES = (BOXES[:40] / 13).reshape(2, 20, 1, 4)
CSCORES = _rng.random((2, 20, 3)).astype(np.float32)
CROP = np.array(
    [[0.11, 0.07, 0.83, 0.91], [0.62, 0.71, 0.13, 0.26], [-0.21, 0.18, 0.52, 1.27]], np.float32
)
DRAW = _rng.uniform(-0.3, 1.3, (2, 5, 4)).astype(np.float32)
COLORS = _rng.random((3, 4)).astype(np.float32)
SSIM_A = _rng.random((2, 24, 26, 3)).astype(np.float32)
SSIM_B = (0.7 * SSIM_A + 0.3 * _rng.random(SSIM_A.shape)).astype(np.float32)
MS_A = _rng.random((1, 181, 179, 3)).astype(np.float32)
MS_B = (0.8 * MS_A + 0.2 * _rng.random(MS_A.shape)).astype(np.float32)


def _pil(array, fmt, **kw):
    if importlib.util.find_spec("PIL") is None:
        return b""
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(array).save(out, fmt, **kw)
    return out.getvalue()


YY, XX = np.mgrid[0:40, 0:56]
SMOOTH = np.stack([(YY * 5) % 256, (XX * 4) % 256, ((XX + YY) * 3) % 256], -1).astype(np.uint8)
PNG, JPEG, BMP = _pil(U8[0], "PNG"), _pil(SMOOTH, "JPEG", quality=90), _pil(U8[0], "BMP")
GIF = _pil(U8[0], "GIF")

RESIZE = [
    f"tf.image.resize({src}, {size}, '{m}', antialias={aa})"
    for src in ("IMG", "U8", "BIG", "IMG[0]", "tf.cast(IMG, tf.float64)")
    for size in ("[5, 7]", "[17, 30]", "[9, 11]", "[3, 20]")
    for m in (
        "bilinear",
        "nearest",
        "bicubic",
        "area",
        "lanczos3",
        "lanczos5",
        "gaussian",
        "mitchellcubic",
    )
    for aa in (False, True)
    if not (src != "IMG" and size not in ("[5, 7]", "[17, 30]"))
]
RAW_RESIZE = [
    f"raw.{op}(images=BIG, size=[{s}], align_corners={ac}, half_pixel_centers={hp})"
    for op in ("ResizeBilinear", "ResizeNearestNeighbor", "ResizeBicubic")
    for s in ("13, 50", "7, 5")
    for ac, hp in ((False, True), (True, False), (False, False))
] + [f"raw.ResizeArea(images=BIG, size=[{s}], align_corners={ac})" for s in ("13, 50", "7, 5") for ac in (False, True)] + [
    f"raw.ScaleAndTranslate(images=BIG, size=[21, 13], scale=[{sc}], translation=[{tr}], kernel_type='{k}', antialias={aa})"
    for k in ("lanczos1", "lanczos3", "lanczos5", "gaussian", "box", "triangle", "keyscubic", "mitchellcubic")
    for sc, tr in (("0.5, 0.4", "0.0, 0.0"), ("0.6, 0.3", "2.5, -1.25"))
    for aa in (False, True)
]  # fmt: skip

EXPRESSIONS = RESIZE + RAW_RESIZE + [
    # resize errors and variants
    "tf.image.resize(IMG, [0, 3])", "tf.image.resize(IMG, [1, 2, 3])", "tf.image.resize(IMG[0, :, :, 0], [2, 2])",
    "tf.image.resize(IMG, [2, 2], method='foo')", "tf.image.resize(IMG, [2.5, 2])", "tf.image.resize(tf.zeros([1, 0, 4, 1]), [2, 3])",
    "tf.image.resize(tf.zeros([0, 4, 4, 1]), [2, 3])", "tf.image.resize(tf.zeros([1, 4, 8, 1]), [6, 6], preserve_aspect_ratio=True)",
    "tf.image.resize(tf.zeros([1, 2, 2, 1], tf.bool), [2, 2])", "tf.image.resize(tf.zeros([1, 2, 2, 1], tf.complex64), [2, 2])",
    "raw.ResizeBilinear(images=BIG, size=[2, 2], align_corners=True, half_pixel_centers=True)",
    "raw.ResizeBilinear(images=BIG[0], size=[2, 2])",
    "tf.image.resize_with_pad(IMG, 12, 20)", "tf.image.resize_with_pad(IMG, 5, 5, 'nearest')", "tf.image.resize_with_pad(IMG[0], 7, 30, 'area')",
    "tf.image.resize_with_pad(IMG, 1, 1)", "tf.image.resize_with_crop_or_pad(IMG, 5, 5)", "tf.image.resize_with_crop_or_pad(IMG, 12, 20)",
    "tf.image.resize_with_crop_or_pad(IMG[0], 4, 13)", "tf.image.resize_with_crop_or_pad(IMG, 0, 6)",
    # crops, pads, flips
    "tf.image.crop_and_resize(IMG, CROP, [0, 1, 1], [3, 4])", "tf.image.crop_and_resize(IMG, CROP, [0, 1, 1], [1, 1], 'nearest', -1.0)",
    "tf.image.crop_and_resize(U8, CROP, [0, 1, 1], [1, 5])", "tf.image.crop_and_resize(IMG, CROP, [0, 2, 1], [3, 4])",
    "tf.image.crop_and_resize(IMG, CROP[:, :3], [0, 1, 1], [3, 4])", "tf.image.crop_and_resize(IMG, CROP, [0, 1, 1], [0, 4])",
    "tf.image.extract_glimpse(IMG, [3, 4], [[0.1, -0.3], [0.9, 0.9]], noise='zero')",
    "tf.image.extract_glimpse(IMG, [5, 5], [[1.0, 2.0], [-2.0, 3.0]], centered=False, normalized=False, noise='zero')",
    "tf.image.extract_glimpse(IMG, [2, 3], [[1.0, 2.0], [3.0, 1.0]], centered=True, normalized=False, noise='zero')",
    "tf.image.extract_glimpse(IMG, [2, 3], [[0.3, -0.2], [0.5, 0.5]], centered=False, normalized=True, noise='zero')",
    "tf.image.extract_glimpse(IMG, [3, 3], [[0.0, 0.0]], noise='zero')", "tf.image.extract_glimpse(IMG, [3, 3], [[0.0, 0.0], [0.0, 0.0]], noise='foo')",
    "tf.image.extract_patches(IMG, [1, 3, 3, 1], [1, 2, 2, 1], [1, 1, 1, 1], 'VALID')",
    "tf.image.flip_left_right(IMG)", "tf.image.flip_up_down(IMG[0])", "tf.image.transpose(IMG)", "tf.image.rot90(IMG, 3)",
    "tf.image.rot90(IMG[0], -1)", "tf.image.flip_left_right(np.ones((3, 3)))", "tf.image.rot90(np.ones((1, 1, 3, 3, 1)))",
    "tf.image.central_crop(IMG, 0.5)", "tf.image.central_crop(IMG[0], 0.77)", "tf.image.central_crop(IMG, 0.0)",
    "tf.image.crop_to_bounding_box(IMG, 2, 3, 4, 5)", "tf.image.crop_to_bounding_box(IMG, -1, 0, 2, 2)",
    "tf.image.crop_to_bounding_box(IMG, 8, 0, 2, 2)", "tf.image.crop_to_bounding_box(IMG, tf.constant(8), 0, 2, 2)",
    "tf.image.pad_to_bounding_box(IMG[0], 2, 3, 14, 15)", "tf.image.pad_to_bounding_box(IMG, 0, 0, 4, 6)",
    "tf.image.pad_to_bounding_box(IMG, 0, 0, tf.constant(4), 20)",
    # dtype conversion
    *[f"tf.image.convert_image_dtype({x}, tf.{d}, {s})"
      for x in ("U8", "IMG", "tf.cast(U8, tf.int32) * 1000000", "tf.cast(U8, tf.uint16) * 250", "tf.cast(IMG - 0.25, tf.float64) * 1.5",
                "tf.cast(IMG, tf.float16)")
      for d in ("uint8", "int8", "uint16", "int16", "int32", "float16", "float32", "float64")
      for s in (False, True)
      # out-of-range floats cast to integers unclamped: TF's cast is undefined there
      if s or d.startswith("float") or "IMG - 0.25" not in x],  # fmt: skip
    "tf.image.convert_image_dtype(IMG, tf.string)", "tf.image.convert_image_dtype(tf.ones([2], tf.bool), tf.float32)",
    # colour
    "tf.image.rgb_to_hsv(IMG)", "tf.image.rgb_to_hsv(tf.cast(IMG, tf.float64))", "tf.image.hsv_to_rgb(HSV)",
    "tf.image.rgb_to_hsv(np.array([[0, 0, 0], [1, 1, 1], [.5, .5, .5], [1, 0, 1], [.2, .2, .1]], np.float32))",
    "tf.image.rgb_to_hsv(tf.ones([2, 2, 4]))", "tf.image.rgb_to_grayscale(IMG)", "tf.image.rgb_to_grayscale(U8)",
    "tf.image.grayscale_to_rgb(tf.constant(IMG[..., :1]))", "tf.image.rgb_to_yiq(IMG)", "tf.image.yiq_to_rgb(IMG)",
    "tf.image.rgb_to_yuv(IMG)", "tf.image.yuv_to_rgb(IMG)", "tf.image.rgb_to_yiq(tf.ones([3, 3, 3], tf.int32))",
    *[f"tf.image.adjust_hue({x}, {d})" for x in ("IMG", "U8", "tf.cast(IMG, tf.float64)") for d in (0.0, 0.2, -0.5, 1.0)],
    *[f"tf.image.adjust_saturation({x}, {f})" for x in ("IMG", "U8") for f in (0.0, 0.5, 2.0)],
    *[f"tf.image.adjust_contrast({x}, {f})" for x in ("IMG", "U8", "tf.cast(U8, tf.int32)") for f in (0.0, 0.5, 2.0)],
    *[f"tf.image.adjust_brightness({x}, {d})" for x in ("IMG", "U8") for d in (-0.3, 0.4)],
    *[f"tf.image.adjust_gamma({x}, {g}, 1.3)" for x in ("IMG", "U8") for g in (0.5, 2.0)],
    "tf.image.adjust_hue(IMG, 1.5)", "tf.image.adjust_hue(tf.ones([2, 2, 4]), 0.1)", "tf.image.adjust_saturation(tf.ones([2, 2, 4]), 0.1)",
    "tf.image.adjust_contrast(tf.ones([3, 3]), 2.0)", "tf.image.adjust_gamma(IMG, -1.0)",
    "tf.image.per_image_standardization(IMG)", "tf.image.per_image_standardization(U8)", "tf.image.per_image_standardization(np.ones((3, 3)))",
    "tf.image.random_brightness(IMG, -0.1)", "tf.image.random_contrast(IMG, 0.5, 0.5)", "tf.image.random_hue(IMG, 0.6)",
    "tf.image.random_saturation(IMG, -0.5, 0.5)", "tf.image.random_jpeg_quality(IMG, 50, 50)", "tf.image.random_crop(IMG, [3, 20, 2, 1])",
    # metrics, gradients, edges
    "tf.image.psnr(SSIM_A, SSIM_B, 1.0)", "tf.image.psnr(tf.cast(SSIM_A * 255, tf.uint8), tf.cast(SSIM_B * 255, tf.uint8), 255)",
    "tf.image.ssim(SSIM_A, SSIM_B, 1.0)", "tf.image.ssim(SSIM_A, SSIM_B, 1.0, return_index_map=True)",
    "tf.image.ssim(SSIM_A, SSIM_B, 1.0, filter_size=7, filter_sigma=0.8, k1=0.02, k2=0.05)",
    "tf.image.ssim(tf.cast(SSIM_A * 255, tf.uint8), tf.cast(SSIM_B * 255, tf.uint8), 255)",
    "tf.image.ssim_multiscale(MS_A, MS_B, 1.0)", "tf.image.ssim_multiscale(SSIM_A, SSIM_B, 1.0, power_factors=(0.5, 0.5), filter_size=5)",
    "tf.image.ssim(SSIM_A[:, :5, :7], SSIM_B[:, :5, :7], 1.0)", "tf.image.psnr(tf.ones((5, 7, 1)), tf.ones((5, 6, 1)), 1.0)",
    "tf.image.total_variation(tf.constant(IMG))", "tf.image.total_variation(tf.constant(IMG[0]))", "tf.image.total_variation(tf.ones((5, 7)))",
    "tf.image.image_gradients(tf.constant(IMG))", "tf.image.sobel_edges(tf.constant(IMG))", "tf.image.image_gradients(tf.ones((5, 7, 1)))",
    # non-max suppression
    *[f"tf.image.non_max_suppression(BOXES, SCORES, {m}, {t}, {s})" for m in (0, 7, 100) for t in (0.0, 0.4, 1.0) for s in ("-np.inf", 0.5)],
    *[f"tf.image.non_max_suppression_with_scores(BOXES, {s}, 30, 0.5, {st}, {sig})"
      for s in ("SCORES", "-SCORES") for st in ("-np.inf", 0.2) for sig in (0.0, 0.5, 1.3)],  # fmt: skip
    "tf.image.non_max_suppression_overlaps(np.abs(np.sin(np.outer(SCORES, SCORES) * 50)), SCORES, 10, 0.6)",
    *[f"tf.image.non_max_suppression_padded(tf.constant(BOXES), tf.constant(SCORES), 12, {t}, {s}, pad_to_max_output_size={p})"
      for t in (0.0, 0.5) for s in ("-np.inf", 0.3) for p in (False, True)],  # fmt: skip
    "tf.image.non_max_suppression_padded(tf.constant(BOXES.reshape(2, 1, 30, 4)), tf.constant(SCORES.reshape(2, 1, 30)), 9, 0.5, pad_to_max_output_size=True)",
    *[f"tf.image.combined_non_max_suppression(CBOXES, CSCORES, {p}, {t}, 0.5, {s}, {ppc}, {c})"
      for p, t in ((4, 7), (2, 30)) for s in ("-np.inf", 0.3) for ppc in (False, True) for c in (False, True)],  # fmt: skip
    "tf.image.non_max_suppression(BOXES[:, :3], SCORES, 3)", "tf.image.non_max_suppression(BOXES, SCORES[:3], 3)",
    "tf.image.non_max_suppression(BOXES, SCORES, -1)", "tf.image.non_max_suppression(BOXES, SCORES, 3, 1.5)",
    "tf.image.non_max_suppression(tf.cast(BOXES, tf.float64), tf.cast(SCORES, tf.float64), 3)",
    "tf.image.non_max_suppression_with_scores(BOXES, SCORES, 3, soft_nms_sigma=-1.0)",
    "tf.image.combined_non_max_suppression(CBOXES[..., :3], CSCORES, 2, 3)", "tf.image.combined_non_max_suppression(CBOXES, CSCORES, 0, 3)",
    "tf.image.combined_non_max_suppression(CBOXES, CSCORES, 2, 0)",
    # drawing
    "tf.image.draw_bounding_boxes(IMG, DRAW, COLORS)", "tf.image.draw_bounding_boxes(IMG, DRAW, None)",
    "tf.image.draw_bounding_boxes(IMG[..., :1], DRAW, None)", "tf.image.draw_bounding_boxes(tf.concat([IMG, IMG[..., :1]], -1), DRAW, COLORS)",
    "tf.image.draw_bounding_boxes(IMG[..., :2], DRAW, COLORS)", "tf.image.draw_bounding_boxes(IMG[:1], DRAW, COLORS)",
    "tf.image.draw_bounding_boxes(tf.concat([IMG, IMG[..., :1]], -1), DRAW, COLORS[:, :3])",
    # codecs (Pillow-made files; JPEG decoding with TF's accurate IDCT, the one Pillow has)
    "tf.io.decode_png(PNG)", "tf.io.decode_png(PNG, 1)", "tf.io.decode_png(PNG, 4)", "tf.io.decode_png(PNG, dtype=tf.uint16)",
    "tf.io.decode_jpeg(JPEG, dct_method='INTEGER_ACCURATE')", "tf.io.decode_jpeg(JPEG, 1, dct_method='INTEGER_ACCURATE')",
    "tf.io.decode_jpeg(JPEG, ratio=4, dct_method='INTEGER_ACCURATE')", "tf.io.decode_jpeg(JPEG, 4)",
    "tf.io.decode_and_crop_jpeg(JPEG, [3, 5, 10, 20], dct_method='INTEGER_ACCURATE')", "tf.io.extract_jpeg_shape(JPEG)",
    "tf.io.decode_bmp(BMP)", "tf.io.decode_bmp(BMP, 4)", "tf.io.decode_bmp(BMP, 1)", "tf.io.decode_bmp(PNG)", "tf.io.decode_gif(GIF)",
    "tf.io.decode_image(PNG, dtype=tf.float32)", "tf.io.decode_image(GIF)", "tf.io.decode_image(GIF, expand_animations=False)",
    "tf.io.decode_image(b'garbage')", "tf.io.is_jpeg([JPEG, PNG])", "tf.io.decode_png(tf.io.encode_png(U8[0]))",
    "tf.io.decode_png(tf.io.encode_png(tf.cast(U8[0], tf.uint16) * 257), dtype=tf.uint16)",
    "tf.io.decode_jpeg(tf.io.encode_jpeg(SMOOTH, quality=80), dct_method='INTEGER_ACCURATE')",
    "tf.io.encode_jpeg(SMOOTH, format='grayscale')", "tf.io.encode_png(IMG[0])",
]  # fmt: skip

GRADIENTS = [
    *[f"tf.image.resize(x, [7, 13], '{m}', antialias={aa})" for m in ("bilinear", "nearest", "bicubic", "lanczos3", "gaussian", "mitchellcubic") for aa in (False, True)],
    *[f"tf.image.resize(x, [3, 4], '{m}', antialias={aa})" for m in ("bilinear", "bicubic", "lanczos5") for aa in (False, True)],
    "raw.ResizeBilinear(images=x, size=[6, 14], align_corners=True)",
    "raw.ResizeNearestNeighbor(images=x, size=[6, 14], align_corners=True)",
    "raw.ResizeBicubic(images=x, size=[3, 14])",
    "tf.image.crop_and_resize(x, CROP, [0, 1, 1], [3, 4])", "tf.image.crop_and_resize(x, CROP, [0, 1, 1], [1, 5], 'nearest')",
    "tf.image.rgb_to_hsv(x)", "tf.image.per_image_standardization(x)",
    "tf.image.total_variation(x)", "tf.image.sobel_edges(x)", "tf.image.rgb_to_grayscale(x)", "tf.image.rgb_to_yiq(x)",
]  # fmt: skip

# TensorFlow crashes (a double free) decoding Pillow's animated WebP, and its fast IDCT
# (the default) differs from Pillow's accurate one by a few levels: neither is tested here.


class _RillRawOps:
    """The TF raw ops these tests call, as rill's primitives (rill has no tf.raw_ops)."""

    _DEFAULTS = {"ResizeArea": {"align_corners": False}, "ScaleAndTranslate": {}}

    def __getattr__(self, op):
        from rill.core.dispatch import REGISTRY, bind

        def call(images, size, scale=None, translation=None, **attrs):
            args = [rill.convert_to_tensor(images), rill.convert_to_tensor(size, dtype=rill.int32)]
            if scale is not None:
                args += [
                    rill.convert_to_tensor(scale, dtype=rill.float32),
                    rill.convert_to_tensor(translation, dtype=rill.float32),
                ]
            params = dict(
                self._DEFAULTS.get(op, {"align_corners": False, "half_pixel_centers": False})
            )
            params.update(attrs)
            return bind(REGISTRY[op], tuple(args), params)

        return call


def _raw(lib):
    return _RillRawOps() if lib is rill else lib.raw_ops


def _run(lib, expr):
    env = {k: v for k, v in globals().items() if k.isupper()}
    try:
        out = eval(expr, {"tf": lib, "np": np, "raw": _raw(lib), **env})  # noqa: S307
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
            scale = max(1.0, float(np.nanmax(np.abs(tv)))) if tv.size else 1.0
            tol = 2e-3 if rd == "float16" else 2e-5
            np.testing.assert_allclose(
                rv, tv, rtol=tol, atol=tol * scale, err_msg=what, equal_nan=True
            )
        else:
            np.testing.assert_array_equal(rv, tv, err_msg=what)


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_image_expression_matches_tensorflow(expr):
    import tensorflow as tf

    if "PNG" in expr or "JPEG" in expr or "BMP" in expr or "GIF" in expr:
        pytest.importorskip("PIL")
    _compare(_run(rill, expr), _run(tf, expr), expr)


@pytest.mark.parametrize("expr", GRADIENTS)
def test_image_gradient_matches_tensorflow(expr):
    import tensorflow as tf

    x0 = IMG.astype(np.float32)
    w = _rng.standard_normal(1000).astype(np.float32)

    def grad(lib):
        x = lib.constant(x0)
        with lib.GradientTape() as tape:
            tape.watch(x)
            y = lib.cast(
                eval(expr, {"tf": lib, "x": x, "np": np, "CROP": CROP, "raw": _raw(lib)}),
                lib.float32,
            )  # noqa: S307
            n = int(np.prod(y.shape))
            loss = lib.reduce_sum(lib.reshape(y, [-1]) * lib.constant(np.resize(w, n)))
        return tape.gradient(loss, x).numpy()

    np.testing.assert_allclose(grad(rill), grad(tf), rtol=1e-4, atol=1e-5, err_msg=expr)
