"""Cases for the image primitives: resampling (rill.ops.image_resize_ops), boxes and
non-max suppression (rill.ops.image_box_ops) and codecs (rill.ops.image_codec_ops).

Resize kernels whose output is float32 whatever the input (as TF's are) get a larger
finite-difference step; crop boxes stay away from pixel boundaries so the bilinear
weights' kinks do not fall inside a step.
"""

import importlib.util
import io

import numpy as np

import rill
from rill.core import dtypes as d
from tests.ops.cases import case, rnd

F32 = dict(eps=1e-3, rtol=2e-3, atol=2e-3)  # float32 outputs
I32 = np.int32


def _size(h, w):
    return np.array([h, w], I32)


# --------------------------------------------------------------------------------------
# Resize and its gradients
# --------------------------------------------------------------------------------------

_CENTERS = [dict(align_corners=False, half_pixel_centers=True),
            dict(align_corners=True, half_pixel_centers=False),
            dict(align_corners=False, half_pixel_centers=False)]  # fmt: skip

for _p in _CENTERS:
    for _shape, _out in (((2, 4, 5, 2), (7, 3)), ((1, 6, 3, 1), (2, 5))):
        case("ResizeBilinear", rnd(*_shape), _size(*_out), **_p, **F32)
        case("ResizeBicubic", rnd(*_shape), _size(*_out), **_p, **F32)
        case("ResizeNearestNeighbor", rnd(*_shape), _size(*_out), **_p)
        g = rnd(_shape[0], *_out, _shape[3])
        case("ResizeBilinearGrad", g, rnd(*_shape), **_p, wrt=(0,))
        case("ResizeBicubicGrad", g, rnd(*_shape), **_p, wrt=(0,))
        case("ResizeNearestNeighborGrad", g, _size(*_shape[1:3]), **_p)
case("ResizeBilinear", np.arange(24, dtype=np.uint8).reshape(1, 4, 3, 2), _size(3, 5),
     align_corners=False, half_pixel_centers=True, grad=False)  # fmt: skip
case("ResizeNearestNeighbor", np.arange(24, dtype=np.int32).reshape(1, 4, 3, 2), _size(3, 5),
     align_corners=False, half_pixel_centers=True, grad=False)  # fmt: skip
case("ResizeArea", rnd(2, 5, 6, 2), _size(3, 4), align_corners=False, grad=False)
case("ResizeArea", rnd(1, 3, 4, 1), _size(7, 5), align_corners=True, grad=False)

for _k in ("lanczos3", "lanczos5", "gaussian", "mitchellcubic", "keyscubic", "triangle", "box"):
    for _aa in (False, True):
        for _shape, _out in (((1, 9, 7, 2), (4, 10)), ((2, 3, 4, 1), (5, 2))):
            scale = (np.array(_out) / np.array(_shape[1:3])).astype(np.float32)
            tr = np.array([0.0, 0.25], np.float32)
            p = dict(kernel_type=_k, antialias=_aa)
            case("ScaleAndTranslate", rnd(*_shape), _size(*_out), scale, tr, **p, wrt=(0,), **F32)
            case("ScaleAndTranslateGrad", rnd(_shape[0], *_out, _shape[3]), rnd(*_shape), scale, tr,
                 **p, wrt=(0,))  # fmt: skip

# --------------------------------------------------------------------------------------
# CropAndResize
# --------------------------------------------------------------------------------------

_BOXES = np.array([[0.11, 0.07, 0.83, 0.91], [0.62, 0.71, 0.13, 0.26], [-0.21, 0.18, 0.52, 1.27]])
_BOX_IND = np.array([0, 1, 1], I32)
for _method in ("bilinear", "nearest"):
    for _crop in ((3, 4), (1, 1), (1, 5)):
        p = dict(method=_method, extrapolation_value=-0.5)
        wrt = (0, 1) if _method == "bilinear" else (0,)
        case("CropAndResize", rnd(2, 6, 7, 2), _BOXES, _BOX_IND, _size(*_crop), wrt=wrt, **p, **F32)
        case("CropAndResizeGradImage", rnd(3, *_crop, 2), _BOXES, _BOX_IND,
             np.array([2, 6, 7, 2], I32), T=d.float64, method=_method, wrt=(0,))  # fmt: skip
    case("CropAndResizeGradBoxes", rnd(3, 3, 4, 2), rnd(2, 6, 7, 2), _BOXES, _BOX_IND,
         method="bilinear", grad=False)  # fmt: skip
case("CropAndResize", np.arange(84, dtype=np.uint8).reshape(1, 6, 7, 2), _BOXES[:1], _BOX_IND[:1],
     _size(2, 2), method="bilinear", extrapolation_value=0.0, grad=False)  # fmt: skip

case("ExtractGlimpseV2", rnd(2, 6, 8, 3).astype(np.float32), _size(3, 4),
     np.array([[0.1, -0.3], [0.9, 0.9]], np.float32), centered=True, normalized=True,
     uniform_noise=False, noise="zero", grad=False)  # fmt: skip
case("ExtractGlimpseV2", rnd(1, 5, 5, 1).astype(np.float32), _size(4, 4),
     np.array([[3.0, -2.0]], np.float32), centered=False, normalized=False, uniform_noise=False,
     noise="uniform", grad=False)  # fmt: skip

# --------------------------------------------------------------------------------------
# Non-max suppression and boxes
# --------------------------------------------------------------------------------------

_rng = np.random.default_rng(5)
_corner = _rng.uniform(0, 8, (12, 2))
_BX = np.concatenate([_corner, _corner + _rng.uniform(0.5, 3, (12, 2))], 1).astype(np.float32)
_SC = _rng.uniform(0, 1, 12).astype(np.float32)
_f = np.float32

case("NonMaxSuppressionV3", _BX, _SC, I32(8), _f(0.3), _f(0.2), grad=False)
case("NonMaxSuppressionV3", _BX.astype(np.float16), _SC.astype(np.float16), I32(20), _f(0.5),
     _f(-np.inf), grad=False)  # fmt: skip
case("NonMaxSuppressionV4", _BX, _SC, I32(8), _f(0.3), _f(0.2), pad_to_max_output_size=True,
     grad=False)  # fmt: skip
case("NonMaxSuppressionV4", _BX, _SC, I32(3), _f(0.7), _f(-np.inf), pad_to_max_output_size=False,
     grad=False)  # fmt: skip
for _sigma in (0.0, 0.5):
    case("NonMaxSuppressionV5", _BX, _SC, I32(6), _f(0.4), _f(0.1), _f(_sigma),
         pad_to_max_output_size=True, grad=False)  # fmt: skip
case("NonMaxSuppressionWithOverlaps", _rng.uniform(0, 1, (12, 12)).astype(np.float32), _SC, I32(5),
     _f(0.6), _f(-np.inf), grad=False)  # fmt: skip
case("NonMaxSuppressionPadded", np.stack([_BX, _BX[::-1]]), np.stack([_SC, _SC]), I32(6),
     _f(0.5), _f(0.1), canonicalized_coordinates=False, tile_size=512, sorted_input=False,
     grad=False)  # fmt: skip
case("CombinedNonMaxSuppression", (_BX / 12).reshape(2, 6, 1, 4),
     _rng.uniform(0, 1, (2, 6, 3)).astype(np.float32), I32(4), I32(7), _f(0.5), _f(0.1),
     pad_per_class=False, clip_boxes=True, grad=False)  # fmt: skip
case("CombinedNonMaxSuppression", np.repeat((_BX / 12).reshape(2, 6, 1, 4), 3, axis=2),
     _rng.uniform(0, 1, (2, 6, 3)).astype(np.float32), I32(2), I32(20), _f(0.5), _f(-np.inf),
     pad_per_class=True, clip_boxes=False, grad=False)  # fmt: skip
case("DrawBoundingBoxesV2", rnd(2, 7, 9, 3).astype(np.float32),
     _rng.uniform(-0.3, 1.3, (2, 4, 4)).astype(np.float32),
     np.array([[1, 0, 0, 1], [0, 1, 0, 1]], np.float32), grad=False)  # fmt: skip
case(
    "DrawBoundingBoxesV2",
    rnd(1, 5, 5, 1).astype(np.float32),
    np.array([[[0.1, 0.1, 0.8, 0.9]]], np.float32),
    np.zeros((0, 4), np.float32),
    grad=False,
)

_SAMPLE = dict(aspect_ratio_range=(0.75, 1.33), area_range=(0.05, 1.0), max_attempts=100,
               use_image_if_no_bounding_boxes=False)  # fmt: skip
case("SampleDistortedBoundingBoxV2", np.array([40, 60, 3], I32),
     np.array([[[0.1, 0.2, 0.5, 0.9]]], np.float32), _f(0.1), seed=3, seed2=7, **_SAMPLE,
     grad=False)  # fmt: skip
case("StatelessSampleDistortedBoundingBox", np.array([40, 60, 3], I32),
     np.array([[[0.1, 0.2, 0.5, 0.9]]], np.float32), _f(0.1), np.array([1, 2], I32), **_SAMPLE,
     grad=False)  # fmt: skip

_H, _W, _A = 3, 4, 2
case("GenerateBoundingBoxProposals", _rng.uniform(0, 1, (1, _H, _W, _A)).astype(np.float32),
     _rng.normal(0, 0.1, (1, _H, _W, 4 * _A)).astype(np.float32),
     np.array([[40.0, 60.0, 1.0, 0.0, 0.0]], np.float32),
     np.tile(np.array([0, 0, 16, 16], np.float32), (_H, _W, _A)).reshape(_H, _W, 4 * _A)
     + np.repeat(np.arange(_W, dtype=np.float32) * 8, 4 * _A).reshape(1, _W, 4 * _A),
     _f(0.7), I32(20), _f(4.0), post_nms_topn=5, grad=False)  # fmt: skip

# --------------------------------------------------------------------------------------
# Codecs
# --------------------------------------------------------------------------------------


def _string(b):
    a = np.empty((), dtype=object)
    a[()] = b
    return a


_PIX = (np.arange(6 * 5 * 3) * 7 % 256).astype(np.uint8).reshape(6, 5, 3)
_PNG = rill.io.encode_png(_PIX).numpy()  # written with zlib: no Pillow needed
_BMP = (b"BM" + (54 + 6 * 16).to_bytes(4, "little") + bytes(4) + (54).to_bytes(4, "little")
        + (40).to_bytes(4, "little") + (5).to_bytes(4, "little") + (6).to_bytes(4, "little")
        + (1).to_bytes(2, "little") + (24).to_bytes(2, "little") + bytes(24)
        + np.pad(_PIX[::-1, :, ::-1].reshape(6, 15), [(0, 0), (0, 1)]).tobytes())  # fmt: skip


def _pil_bytes(fmt, **kw):
    """``_PIX`` saved by Pillow, or a stand-in with the format's signature (the kernel then
    raises UnimplementedError before parsing it, and the case is skipped)."""
    try:
        from PIL import Image
    except ImportError:
        return {"JPEG": b"\xff\xd8\xff\xe0", "GIF": b"GIF89a", "WEBP": b"RIFF\0\0\0\0WEBP"}[fmt]
    out = io.BytesIO()
    Image.fromarray(_PIX).save(out, fmt, **kw)
    return out.getvalue()


_JPEG = _pil_bytes("JPEG", quality=90)
_GIF = _pil_bytes("GIF")
_WEBP = _pil_bytes("WEBP", lossless=True)
_JXL = b"\xff\x0a" + bytes(16)
if importlib.util.find_spec("pillow_jxl") is not None:
    import pillow_jxl  # noqa: F401

    _JXL = _pil_bytes("JXL")

for _ch in (0, 1, 3, 4):
    case("DecodePng", _string(_PNG), channels=_ch, dtype=d.uint8, grad=False)
case("DecodePng", _string(_PNG), channels=0, dtype=d.uint16, grad=False)
case("DecodeBmp", _string(_BMP), channels=0, dtype=d.uint8, grad=False)
case("DecodeBmp", _string(_BMP), channels=4, dtype=d.uint8, grad=False)
case("DecodeGif", _string(_GIF), channels=0, dtype=d.uint8, grad=False)
case("DecodeWebP", _string(_WEBP), channels=0, dtype=d.uint8, grad=False)
case("DecodeJxl", _string(_JXL), channels=0, dtype=d.uint8, grad=False)
_J = dict(ratio=1, fancy_upscaling=True, try_recover_truncated=False, acceptable_fraction=1.0,
          dct_method="")  # fmt: skip
case("DecodeJpeg", _string(_JPEG), channels=0, **_J, grad=False)
case("DecodeJpeg", _string(_JPEG), channels=1, **{**_J, "ratio": 2}, grad=False)
case("DecodeAndCropJpeg", _string(_JPEG), np.array([1, 1, 3, 2], I32), channels=3, **_J, grad=False)
case("DecodeImage", _string(_PNG), channels=0, dtype=d.float32, expand_animations=True, grad=False)
case("DecodeImage", _string(_GIF), channels=3, dtype=d.uint8, expand_animations=False, grad=False)
case("ExtractJpegShape", _string(_JPEG), output_type=d.int64, grad=False)
case("IsJpeg", np.array([_JPEG, _PNG, b""], dtype=object), grad=False)
case("EncodePng", _PIX, compression=-1, grad=False)
case("EncodePng", (_PIX[..., :2].astype(np.uint16) * 257), compression=9, grad=False)
case("EncodeJpeg", _PIX, format="", quality=80, progressive=False, optimize_size=False,
     chroma_downsampling=True, density_unit="in", x_density=300, y_density=300, xmp_metadata="",
     grad=False)  # fmt: skip
case("EncodeJpegVariableQuality", _PIX[..., :1], I32(50), grad=False)
