"""tf.image.resize and friends against independent references: np.interp for bilinear,
the index formulas for nearest neighbour, exact box integrals for area, Keys' cubic
formula for bicubic, Pillow's resampling for the antialiased filters (Pillow computes
TF's antialiased triangle, Keys cubic and Lanczos-3 resampling exactly), and finite
differences for the gradients."""

import importlib.util

import numpy as np
import pytest

import rill as tf
from tests.gradcheck import assert_grad_matches_finite_differences

RNG = np.random.default_rng(0)
HAS_PIL = importlib.util.find_spec("PIL") is not None
SIZES = [
    ((5, 7), (3, 9)),
    ((16, 12), (5, 30)),
    ((8, 8), (8, 8)),
    ((10, 6), (4, 4)),
    ((1, 5), (3, 2)),
]


def _centers(n_in, n_out):
    return (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5


def bilinear_ref(img, out):
    """Half-pixel-centre bilinear resize of [H, W, C], by np.interp along each axis."""
    h, w, c = img.shape
    ys, xs = _centers(h, out[0]), _centers(w, out[1])
    rows = np.stack(
        [[np.interp(ys, np.arange(h), img[:, j, k]) for k in range(c)] for j in range(w)]
    )
    rows = rows.transpose(2, 0, 1)  # [out_h, w, c]
    return np.stack(
        [[np.interp(xs, np.arange(w), rows[i, :, k]) for k in range(c)] for i in range(out[0])]
    ).transpose(0, 2, 1)


def area_ref(img, out):
    """Average of the input over each output pixel's box, integrated exactly."""

    def weights(n_in, n_out):
        s = n_in / n_out
        lo, hi = np.arange(n_out)[:, None] * s, (np.arange(n_out)[:, None] + 1) * s
        v = np.arange(n_in)[None]
        return np.clip(np.minimum(v + 1, hi) - np.maximum(v, lo), 0, None) / s

    wy, wx = weights(img.shape[0], out[0]), weights(img.shape[1], out[1])
    return np.einsum("ah,bw,hwc->abc", wy, wx, img)


def keys_ref(img, out, a=-0.5):
    """Half-pixel-centre bicubic resize with Keys' kernel; taps outside the image dropped
    and the rest renormalised."""

    def weights(n_in, n_out):
        pos = _centers(n_in, n_out)
        d = np.abs(np.arange(n_in)[None] - pos[:, None])
        w = np.where(d < 1, ((a + 2) * d - (a + 3)) * d * d + 1,
                     np.where(d < 2, ((a * d - 5 * a) * d + 8 * a) * d - 4 * a, 0.0))  # fmt: skip
        return w / w.sum(1, keepdims=True)

    wy, wx = weights(img.shape[0], out[0]), weights(img.shape[1], out[1])
    return np.einsum("ah,bw,hwc->abc", wy, wx, img)


@pytest.mark.parametrize("shape,out", SIZES)
def test_bilinear_matches_interpolation(shape, out):
    img = RNG.random((*shape, 2))
    got = tf.image.resize(img[None], out).numpy()[0]
    np.testing.assert_allclose(got, bilinear_ref(img, out), atol=2e-6)


@pytest.mark.parametrize("shape,out", SIZES)
def test_nearest_matches_index_formula(shape, out):
    img = np.arange(np.prod(shape) * 2).reshape(*shape, 2).astype(np.int32)
    got = tf.image.resize(img, out, "nearest")
    assert got.dtype == tf.int32
    iy = np.minimum(np.floor((np.arange(out[0]) + 0.5) * shape[0] / out[0]), shape[0] - 1).astype(
        int
    )
    ix = np.minimum(np.floor((np.arange(out[1]) + 0.5) * shape[1] / out[1]), shape[1] - 1).astype(
        int
    )
    np.testing.assert_array_equal(got.numpy(), img[iy][:, ix])


@pytest.mark.parametrize("shape,out", SIZES)
def test_area_matches_box_integrals(shape, out):
    img = RNG.random((*shape, 3))
    got = tf.image.resize(img, out, "area").numpy()
    np.testing.assert_allclose(got, area_ref(img, out), atol=5e-6)


@pytest.mark.parametrize("shape,out", SIZES)
def test_bicubic_matches_keys_kernel(shape, out):
    img = RNG.random((*shape, 1))
    got = tf.image.resize(img, out, "bicubic").numpy()
    # TF (and rill) look the weights up in a 1024-step table
    np.testing.assert_allclose(got, keys_ref(img, out), atol=3e-3)


@pytest.mark.skipif(not HAS_PIL, reason="Pillow not installed")
@pytest.mark.parametrize(
    "method,pil", [("bilinear", "BILINEAR"), ("bicubic", "BICUBIC"), ("lanczos3", "LANCZOS")]
)
@pytest.mark.parametrize("out", [(5, 7), (30, 40), (17, 11)])
def test_antialiased_resize_matches_pillow(method, pil, out):
    from PIL import Image

    img = RNG.random((17, 23)).astype(np.float32)
    want = np.asarray(Image.fromarray(img, "F").resize(out[::-1], getattr(Image, pil)))
    got = tf.image.resize(img[None, :, :, None], out, method, antialias=True).numpy()[0, :, :, 0]
    np.testing.assert_allclose(got, want, atol=5e-6)


@pytest.mark.parametrize(
    "method", ["bilinear", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic"]
)
@pytest.mark.parametrize("antialias", [False, True])
def test_every_filter_keeps_a_constant_image_constant(method, antialias):
    img = np.full((1, 9, 13, 2), 0.75, np.float32)
    for out in [(4, 5), (20, 31)]:
        got = tf.image.resize(img, out, method, antialias=antialias).numpy()
        np.testing.assert_allclose(got, 0.75, atol=1e-5)


def test_dtypes_shapes_and_batching():
    u8 = (RNG.random((4, 6, 3)) * 255).astype(np.uint8)
    assert tf.image.resize(u8, [3, 3]).dtype == tf.float32
    assert tf.image.resize(u8, [3, 3], "nearest").dtype == tf.uint8
    assert tf.image.resize(u8.astype(np.float64), [3, 3], "bicubic").dtype == tf.float32
    assert tf.image.resize(u8, [7, 5]).shape == (7, 5, 3)
    assert tf.image.resize(np.zeros((0, 4, 4, 1)), [2, 3]).shape == (0, 2, 3, 1)
    assert tf.image.resize(np.zeros((1, 4, 8, 1)), [6, 6], preserve_aspect_ratio=True).shape == (
        1,
        3,
        6,
        1,
    )
    assert tf.image.ResizeMethod.LANCZOS5 == "lanczos5"


def test_resize_errors_name_the_op():
    x = np.zeros((1, 4, 4, 1), np.float32)
    with pytest.raises(
        tf.errors.InvalidArgumentError, match="ResizeBilinear.*output dimensions must be positive"
    ):
        tf.image.resize(x, [0, 3])
    with pytest.raises(ValueError, match="'size' must be a 1-D Tensor of 2 elements"):
        tf.image.resize(x, [1, 2, 3])
    with pytest.raises(ValueError, match="'images' must have either 3 or 4 dimensions"):
        tf.image.resize(x[0, :, :, 0], [2, 2])
    with pytest.raises(ValueError, match="Resize method is not implemented: foo"):
        tf.image.resize(x, [2, 2], method="foo")
    with pytest.raises(ValueError, match="'size' must be a 1-D int32 Tensor"):
        tf.image.resize(x, [2.5, 2])
    with pytest.raises(
        tf.errors.InvalidArgumentError, match="input image must be of non-zero size"
    ):
        tf.image.resize(np.zeros((1, 0, 4, 1)), [2, 3])
    with pytest.raises(tf.errors.InvalidArgumentError, match="ResizeBilinear"):
        tf.image.resize(np.zeros((1, 2, 2, 1), bool), [2, 2])


@pytest.mark.parametrize(
    "method", ["bilinear", "nearest", "bicubic", "lanczos3", "mitchellcubic", "gaussian"]
)
@pytest.mark.parametrize("antialias", [False, True])
def test_resize_gradients_match_finite_differences(method, antialias):
    img = RNG.random((1, 5, 4, 2))
    w = tf.constant(RNG.standard_normal((1, 7, 3, 2)).astype(np.float32))

    def f(x):
        return tf.reduce_sum(
            tf.cast(tf.image.resize(x, [7, 3], method, antialias=antialias), tf.float32) * w
        )

    # the resize runs in float64 but returns float32: differences of 1e-3
    assert_grad_matches_finite_differences(f, img, eps=1e-3, rtol=2e-3, atol=2e-3)


def test_area_resize_has_no_gradient_like_tf():
    x = tf.constant(RNG.random((1, 4, 4, 1)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.image.resize(x, [2, 2], "area")
    assert tape.gradient(y, x) is None


def test_resize_traces_with_static_output_shape():
    f = tf.function(lambda x: tf.image.resize(x, [5, 6]))
    c = f.get_concrete_function(tf.TensorSpec([None, 8, 8, 3], tf.float32))
    assert c.structured_outputs.shape.as_list() == [None, 5, 6, 3]
    x = RNG.random((2, 8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(f(x).numpy(), tf.image.resize(x, [5, 6]).numpy())


# --------------------------------------------------------------------------------------
# crop_and_resize, extract_glimpse, resize_with_pad, resize_with_crop_or_pad
# --------------------------------------------------------------------------------------


def crop_ref(img, boxes, ind, size, method, extrapolation):
    h, w = img.shape[1:3]
    out = np.zeros((len(boxes), *size, img.shape[3]))
    for b, (y1, x1, y2, x2) in enumerate(boxes):
        for i in range(size[0]):
            y = (
                y1 * (h - 1) + i * (y2 - y1) * (h - 1) / (size[0] - 1)
                if size[0] > 1
                else 0.5 * (y1 + y2) * (h - 1)
            )
            for j in range(size[1]):
                x = (
                    x1 * (w - 1) + j * (x2 - x1) * (w - 1) / (size[1] - 1)
                    if size[1] > 1
                    else 0.5 * (x1 + x2) * (w - 1)
                )
                if not (0 <= y <= h - 1 and 0 <= x <= w - 1):
                    out[b, i, j] = extrapolation
                elif method == "nearest":
                    out[b, i, j] = img[ind[b], int(np.floor(y + 0.5)), int(np.floor(x + 0.5))]
                else:
                    y0, x0 = int(np.floor(y)), int(np.floor(x))
                    y1_, x1_ = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
                    dy, dx = y - y0, x - x0
                    p = img[ind[b]]
                    out[b, i, j] = ((1 - dy) * ((1 - dx) * p[y0, x0] + dx * p[y0, x1_])
                                    + dy * ((1 - dx) * p[y1_, x0] + dx * p[y1_, x1_]))  # fmt: skip
    return out


BOXES = np.array(
    [[0.11, 0.07, 0.83, 0.91], [0.62, 0.71, 0.13, 0.26], [-0.21, 0.18, 0.52, 1.27]], np.float32
)
IND = np.array([0, 1, 1], np.int32)


@pytest.mark.parametrize("method", ["bilinear", "nearest"])
@pytest.mark.parametrize("size", [(3, 4), (1, 1), (1, 5)])
def test_crop_and_resize_matches_reference(method, size):
    img = RNG.random((2, 6, 7, 2)).astype(np.float32)
    got = tf.image.crop_and_resize(img, BOXES, IND, size, method, extrapolation_value=-1.0)
    assert got.dtype == tf.float32 and got.shape == (3, *size, 2)
    np.testing.assert_allclose(
        got.numpy(), crop_ref(img, BOXES, IND, size, method, -1.0), atol=1e-5
    )


def test_crop_and_resize_gradients_match_finite_differences():
    img = RNG.random((2, 6, 7, 2))
    boxes = BOXES.astype(np.float64)
    w = tf.constant(RNG.standard_normal((3, 3, 4, 2)).astype(np.float32))

    def f(x, b):
        return tf.reduce_sum(tf.image.crop_and_resize(x, tf.cast(b, tf.float32), IND, [3, 4]) * w)

    assert_grad_matches_finite_differences(f, img, boxes, eps=1e-4, rtol=1e-2, atol=1e-2)


def test_crop_and_resize_errors():
    img = np.zeros((2, 4, 4, 1), np.float32)
    with pytest.raises(
        tf.errors.OutOfRangeError, match=r"box_index has values outside \[0, batch_size"
    ):
        tf.image.crop_and_resize(img, BOXES[:1], [2], [2, 2])
    with pytest.raises(
        tf.errors.InvalidArgumentError, match="CropAndResize.*crop dimensions must be positive"
    ):
        tf.image.crop_and_resize(img, BOXES[:1], [0], [0, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="boxes must be 2-D"):
        tf.image.crop_and_resize(img, BOXES[:1, :3], [0], [2, 2])


def test_extract_glimpse_places_windows_as_tf_does():
    img = (np.arange(6 * 8).reshape(1, 6, 8, 1) + 1).astype(np.float32)

    def g(off, size, **kw):
        return tf.image.extract_glimpse(img, size, [off], noise="zero", **kw).numpy()[0, :, :, 0]

    # a centred, normalised offset is the window's centre; other offsets its corner
    np.testing.assert_array_equal(g([0.0, 0.0], [2, 3]), img[0, 2:4, 2:5, 0])
    np.testing.assert_array_equal(
        g([1.0, 2.0], [2, 3], centered=False, normalized=False), img[0, 1:3, 2:5, 0]
    )
    np.testing.assert_array_equal(
        g([1.0, 2.0], [2, 3], centered=True, normalized=False), np.array([[39, 40, 0], [47, 48, 0]])
    )
    out = g([-1.0, -1.0], [2, 3], centered=False, normalized=False)
    np.testing.assert_array_equal(out, [[0, 0, 0], [0, 1, 2]])
    noisy = tf.image.extract_glimpse(
        img, [10, 10], [[0.0, 0.0]], centered=False, normalized=False
    ).numpy()
    assert noisy.min() >= 1 and noisy.max() <= 48


@pytest.mark.parametrize("target", [(5, 5), (12, 20), (9, 11), (4, 13)])
def test_resize_with_crop_or_pad_centres_the_image(target):
    img = RNG.random((9, 11, 2)).astype(np.float32)
    got = tf.image.resize_with_crop_or_pad(img, *target).numpy()
    th, tw = target
    want = np.zeros((th, tw, 2), np.float32)
    sy, sx = max((9 - th) // 2, 0), max((11 - tw) // 2, 0)
    dy, dx = max((th - 9) // 2, 0), max((tw - 11) // 2, 0)
    ch, cw = min(th, 9), min(tw, 11)
    want[dy : dy + ch, dx : dx + cw] = img[sy : sy + ch, sx : sx + cw]
    np.testing.assert_array_equal(got, want)


def test_resize_with_pad_keeps_aspect_ratio():
    img = RNG.random((1, 4, 8, 1)).astype(np.float32)
    got = tf.image.resize_with_pad(img, 8, 8).numpy()
    assert got.shape == (1, 8, 8, 1)
    np.testing.assert_array_equal(got[0, :2], 0)
    np.testing.assert_array_equal(got[0, 6:], 0)
    np.testing.assert_allclose(got[:, 2:6], tf.image.resize(img, [4, 8]).numpy(), atol=1e-6)
