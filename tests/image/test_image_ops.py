"""tf.image's composite ops against NumPy formulas and the standard library's colorsys:
flips and rotations, crops and pads, convert_image_dtype, colour spaces, adjustments,
random (stateful and stateless) variants, PSNR / SSIM / MS-SSIM, gradients and edges."""

import colorsys

import numpy as np
import pytest

import rill as tf
from tests.gradcheck import assert_grad_matches_finite_differences

RNG = np.random.default_rng(2)
IMG = RNG.random((2, 9, 11, 3)).astype(np.float32)


@pytest.mark.parametrize("x", [IMG, IMG[0]], ids=["batch", "single"])
def test_flips_rotations_transposes(x):
    h, w = x.ndim - 3, x.ndim - 2
    np.testing.assert_array_equal(tf.image.flip_left_right(x).numpy(), np.flip(x, w))
    np.testing.assert_array_equal(tf.image.flip_up_down(x).numpy(), np.flip(x, h))
    np.testing.assert_array_equal(tf.image.transpose(x).numpy(), np.swapaxes(x, h, w))
    for k in range(-2, 6):
        np.testing.assert_array_equal(tf.image.rot90(x, k).numpy(), np.rot90(x, k, axes=(h, w)))


def test_flip_errors():
    with pytest.raises(ValueError, match="must be at least three-dimensional"):
        tf.image.flip_left_right(np.ones((3, 3)))
    with pytest.raises(ValueError, match="must have either 3 or 4 dimensions"):
        tf.image.rot90(np.ones((1, 1, 3, 3, 1)))


def test_random_flips_flip_each_image_or_not():
    batch = RNG.random((64, 4, 5, 1)).astype(np.float32)
    for fn, axis in [(tf.image.random_flip_left_right, 2), (tf.image.random_flip_up_down, 1)]:
        out = fn(batch, seed=1).numpy()
        flipped = [np.array_equal(o, np.flip(b, axis - 1)) for o, b in zip(out, batch)]
        same = [np.array_equal(o, b) for o, b in zip(out, batch)]
        assert all(f or s for f, s in zip(flipped, same)) and 10 < sum(flipped) < 54
    a = tf.image.stateless_random_flip_left_right(batch, seed=[1, 2]).numpy()
    b = tf.image.stateless_random_flip_left_right(batch, seed=[1, 2]).numpy()
    np.testing.assert_array_equal(a, b)
    one = tf.image.stateless_random_flip_up_down(batch[0], seed=[3, 4]).numpy()
    assert np.array_equal(one, batch[0]) or np.array_equal(one, batch[0][::-1])


@pytest.mark.parametrize("frac", [0.3, 0.5, 0.77, 1.0])
def test_central_crop(frac):
    h, w = IMG.shape[1:3]
    top, left = int((h - h * frac) / 2), int((w - w * frac) / 2)
    want = IMG[:, top : h - top, left : w - left]
    np.testing.assert_array_equal(tf.image.central_crop(IMG, frac).numpy(), want)
    with pytest.raises(ValueError, match=r"central_fraction must be within \(0, 1\]"):
        tf.image.central_crop(IMG, 0.0)


def test_crop_and_pad_to_bounding_box():
    np.testing.assert_array_equal(
        tf.image.crop_to_bounding_box(IMG, 2, 3, 4, 5).numpy(), IMG[:, 2:6, 3:8]
    )
    padded = tf.image.pad_to_bounding_box(IMG[0], 2, 3, 14, 15).numpy()
    assert padded.shape == (14, 15, 3)
    np.testing.assert_array_equal(padded[2:11, 3:14], IMG[0])
    assert padded.sum() == pytest.approx(IMG[0].sum(), rel=1e-6)
    with pytest.raises(ValueError, match="offset_height must be >= 0"):
        tf.image.crop_to_bounding_box(IMG, -1, 0, 2, 2)
    with pytest.raises(ValueError, match="height must be >= target \\+ offset"):
        tf.image.crop_to_bounding_box(IMG, 8, 0, 2, 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="height must be >= target \\+ offset"):
        tf.image.crop_to_bounding_box(IMG, tf.constant(8), 0, 2, 2)
    with pytest.raises(ValueError, match="width must be <= target - offset"):
        tf.image.pad_to_bounding_box(IMG, 0, 0, 10, 10)


def test_random_crop_takes_a_window():
    x = np.arange(5 * 7).reshape(5, 7, 1)
    for crop in [
        tf.image.random_crop(x, [3, 4, 1], seed=3),
        tf.image.stateless_random_crop(x, [3, 4, 1], seed=[1, 5]),
    ]:
        c = crop.numpy()
        y0, x0 = divmod(int(c[0, 0, 0]), 7)
        np.testing.assert_array_equal(c, x[y0 : y0 + 3, x0 : x0 + 4])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Need value.shape >= size"):
        tf.image.random_crop(x, [6, 2, 1])


def cid_ref(x, src, dst, saturate):
    """convert_image_dtype as TF defines it, in Python."""
    if src == dst:
        return x
    si, di = np.dtype(src).kind in "iu", np.dtype(dst).kind in "iu"
    if si and di:
        smax, dmax = np.iinfo(src).max, np.iinfo(dst).max
        if smax > dmax:
            x = x // ((smax + 1) // (dmax + 1))
            return np.clip(x, np.iinfo(dst).min, dmax).astype(dst) if saturate else x.astype(dst)
        x = np.clip(x, np.iinfo(dst).min, dmax) if saturate else x
        return x.astype(dst) * dst((dmax + 1) // (smax + 1))
    if not si and not di:
        return x.astype(dst)
    if si:
        return x.astype(dst) * dst(1.0 / np.iinfo(src).max)
    y = x * np.asarray(np.iinfo(dst).max + 0.5, src)
    if saturate:  # clamp to the largest value of src's type that dst holds
        hi = np.asarray(np.iinfo(dst).max, src)
        hi = np.nextafter(hi, src(0)) if float(hi) > np.iinfo(dst).max else hi
        y = np.clip(y, np.iinfo(dst).min, hi)
    with np.errstate(invalid="ignore"):  # 1.0 * (2**31 - 0.5) overflows int32, as in TF
        return y.astype(dst)


@pytest.mark.parametrize("src", [np.uint8, np.int16, np.uint16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("dst", [np.uint8, np.int8, np.uint16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("saturate", [False, True])
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast")  # float32 1.0 -> int32
def test_convert_image_dtype(src, dst, saturate):
    if np.dtype(src).kind == "f":
        x = np.array([0.0, 0.1, 0.5, 0.999, 1.0], src)
    else:
        info = np.iinfo(src)
        x = np.array([0, 1, 7, info.max // 3, info.max - 1, info.max], src)
    got = tf.image.convert_image_dtype(x, tf.as_dtype(dst), saturate)
    assert got.dtype == tf.as_dtype(dst)
    np.testing.assert_allclose(got.numpy(), cid_ref(x, src, dst, saturate), rtol=1e-6)


def test_convert_image_dtype_saturates_like_tf():
    # float -> uint8 clamps; float32 -> int32 clamps one float step below 2**31
    got = tf.image.convert_image_dtype(np.array([-0.5, 1.5], np.float32), tf.uint8, saturate=True)
    np.testing.assert_array_equal(got.numpy(), [0, 255])
    got = tf.image.convert_image_dtype(np.array([1.0], np.float32), tf.int32, saturate=True)
    assert got.numpy()[0] == 2147483520
    with pytest.raises(AttributeError, match="dtype must be either floating point or integer"):
        tf.image.convert_image_dtype(IMG, tf.string)


def test_colour_conversions_match_colorsys():
    rgb = RNG.random((40, 3))
    rgb[:4] = [[0, 0, 0], [1, 1, 1], [0.5, 0.5, 0.5], [1, 0, 1]]
    hsv = tf.image.rgb_to_hsv(rgb).numpy()
    np.testing.assert_allclose(hsv, [colorsys.rgb_to_hsv(*p) for p in rgb], atol=1e-12)
    back = tf.image.hsv_to_rgb(hsv).numpy()
    np.testing.assert_allclose(back, rgb, atol=1e-12)
    np.testing.assert_allclose(
        tf.image.hsv_to_rgb(hsv[4:]).numpy(), [colorsys.hsv_to_rgb(*p) for p in hsv[4:]], atol=1e-12
    )
    for to, back_fn in [
        (tf.image.rgb_to_yiq, tf.image.yiq_to_rgb),
        (tf.image.rgb_to_yuv, tf.image.yuv_to_rgb),
    ]:
        np.testing.assert_allclose(back_fn(to(rgb)).numpy(), rgb, atol=1e-4)  # TF's tables
    y = tf.image.rgb_to_yiq(rgb).numpy()[:, 0]
    np.testing.assert_allclose(y, rgb @ [0.299, 0.587, 0.114], atol=1e-12)
    np.testing.assert_allclose(tf.image.rgb_to_yuv(rgb).numpy()[:, 0], y, atol=1e-12)


def test_grayscale_round_trip():
    u8 = (IMG * 255).astype(np.uint8)
    gray = tf.image.rgb_to_grayscale(u8)
    assert gray.dtype == tf.uint8 and gray.shape == (2, 9, 11, 1)
    want = (
        (IMG * 255).astype(np.uint8).astype(np.float32)
        / 255
        @ np.array([0.2989, 0.587, 0.114], np.float32)
    )
    np.testing.assert_array_equal(gray.numpy()[..., 0], (want * 255.5).astype(np.uint8))
    np.testing.assert_array_equal(
        tf.image.grayscale_to_rgb(gray).numpy(), np.repeat(gray.numpy(), 3, -1)
    )
    with pytest.raises(ValueError, match="Last dimension of a grayscale image should be size 1"):
        tf.image.grayscale_to_rgb(IMG)


def test_hue_and_saturation_adjust_in_hsv():
    hsv = tf.image.rgb_to_hsv(IMG).numpy()
    for delta in [0.0, 0.2, -0.45, 1.0]:
        shifted = hsv.copy()
        shifted[..., 0] = np.mod(shifted[..., 0] + delta, 1.0)
        np.testing.assert_allclose(
            tf.image.adjust_hue(IMG, delta).numpy(), tf.image.hsv_to_rgb(shifted).numpy(), atol=1e-6
        )
    for factor in [0.0, 0.5, 3.0]:
        scaled = hsv.copy()
        scaled[..., 1] = np.clip(scaled[..., 1] * factor, 0, 1)
        np.testing.assert_allclose(
            tf.image.adjust_saturation(IMG, factor).numpy(),
            tf.image.hsv_to_rgb(scaled).numpy(),
            atol=1e-6,
        )
    with pytest.raises(ValueError, match=r"delta must be in the interval \[-1, 1\]"):
        tf.image.adjust_hue(IMG, 1.5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="3 channels"):
        tf.image.adjust_hue(RNG.random((2, 2, 4)).astype(np.float32), 0.1)


def test_brightness_contrast_gamma():
    np.testing.assert_allclose(tf.image.adjust_brightness(IMG, 0.25).numpy(), IMG + 0.25, rtol=1e-6)
    mean = IMG.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(
        tf.image.adjust_contrast(IMG, 1.7).numpy(), (IMG - mean) * 1.7 + mean, atol=1e-6
    )
    np.testing.assert_allclose(
        tf.image.adjust_gamma(IMG, 2.2, 0.9).numpy(), 0.9 * IMG**2.2, rtol=1e-5
    )
    u8 = (IMG * 255).astype(np.uint8)
    bright = tf.image.adjust_brightness(u8, 0.5)
    assert bright.dtype == tf.uint8
    want = np.clip(
        u8.astype(np.float32) * np.float32(1 / 255) + np.float32(0.5), 0, None
    ) * np.float32(255.5)
    np.testing.assert_array_equal(bright.numpy(), np.minimum(want, 255).astype(np.uint8))
    with pytest.raises(ValueError, match="Gamma should be a non-negative real number"):
        tf.image.adjust_gamma(IMG, -1.0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="at least 3-D"):
        tf.image.adjust_contrast(np.ones((3, 3), np.float32), 2.0)


@pytest.mark.parametrize(
    "name,args",
    [("brightness", (0.3,)), ("contrast", (0.2, 1.8)), ("saturation", (0.2, 1.8)), ("hue", (0.3,))],
)
def test_random_adjustments_are_deterministic_when_stateless(name, args):
    a = getattr(tf.image, f"stateless_random_{name}")(IMG, *args, seed=[7, 8]).numpy()
    b = getattr(tf.image, f"stateless_random_{name}")(IMG, *args, seed=[7, 8]).numpy()
    c = getattr(tf.image, f"stateless_random_{name}")(IMG, *args, seed=[9, 8]).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert getattr(tf.image, f"random_{name}")(IMG, *args, seed=3).shape == IMG.shape


def test_random_adjustment_argument_checks():
    with pytest.raises(ValueError, match="max_delta must be non-negative"):
        tf.image.random_brightness(IMG, -0.1)
    with pytest.raises(ValueError, match="upper must be > lower"):
        tf.image.random_contrast(IMG, 0.5, 0.5)
    with pytest.raises(ValueError, match="max_delta must be <= 0.5"):
        tf.image.random_hue(IMG, 0.6)
    with pytest.raises(ValueError, match="`min_jpeg_quality` must be less than `max_jpeg_quality`"):
        tf.image.random_jpeg_quality(IMG, 50, 50)


def test_per_image_standardization():
    got = tf.image.per_image_standardization(IMG).numpy()
    mean = IMG.mean(axis=(1, 2, 3), keepdims=True)
    std = np.maximum(IMG.std(axis=(1, 2, 3), keepdims=True), 1 / np.sqrt(IMG[0].size))
    np.testing.assert_allclose(got, (IMG - mean) / std, rtol=1e-5, atol=1e-5)
    flat = tf.image.per_image_standardization(np.full((2, 2, 1), 7, np.uint8))
    assert flat.dtype == tf.float32 and not flat.numpy().any()


def ssim_ref(a, b, max_val, size=11, sigma=1.5, k1=0.01, k2=0.03):
    """SSIM per image (Wang et al. 2004) with a VALID Gaussian window, in float64."""
    g = np.exp(-0.5 * ((np.arange(size) - (size - 1) / 2) / sigma) ** 2)
    win = np.outer(g, g) / np.outer(g, g).sum()
    from numpy.lib.stride_tricks import sliding_window_view as windows

    def blur(x):  # [N, H, W, C] -> VALID weighted means
        return np.einsum("nhwcij,ij->nhwc", windows(x, (size, size), axis=(1, 2)), win)

    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    ma, mb = blur(a), blur(b)
    va, vb, cov = blur(a * a) - ma**2, blur(b * b) - mb**2, blur(a * b) - ma * mb
    lum = (2 * ma * mb + c1) / (ma**2 + mb**2 + c1)
    cs = (2 * cov + c2) / (va + vb + c2)
    return (lum * cs).mean(axis=(1, 2)), cs.mean(axis=(1, 2))  # [N, C] each


def test_psnr_and_ssim_match_their_formulas():
    a = RNG.random((2, 32, 32, 3)).astype(np.float32)
    b = (0.7 * a + 0.3 * RNG.random(a.shape)).astype(np.float32)
    mse = ((a.astype(np.float64) - b) ** 2).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(tf.image.psnr(a, b, 1.0).numpy(), -10 * np.log10(mse), rtol=1e-5)
    np.testing.assert_allclose(
        tf.image.ssim(a, b, 1.0).numpy(),
        ssim_ref(a.astype(np.float64), b, 1.0)[0].mean(-1),
        rtol=1e-4,
    )
    np.testing.assert_allclose(tf.image.ssim(a, a, 1.0).numpy(), 1.0, rtol=1e-6)
    assert tf.image.ssim(a, b, 1.0, return_index_map=True).shape == (2, 22, 22)
    u8a, u8b = (a * 255).astype(np.uint8), (b * 255).astype(np.uint8)
    np.testing.assert_allclose(
        tf.image.ssim(u8a, u8b, 255).numpy(),
        tf.image.ssim(u8a / 255, u8b / 255, 1.0).numpy(),
        rtol=1e-4,
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="smaller than the filter"):
        tf.image.ssim(a[:, :5, :7], b[:, :5, :7], 1.0)


def test_ssim_multiscale_matches_reference():
    a = RNG.random((1, 180, 170, 2)).astype(np.float32)
    b = (0.8 * a + 0.2 * RNG.random(a.shape)).astype(np.float32)
    weights = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
    x, y, mcs = a.astype(np.float64), b.astype(np.float64), []
    for k in range(5):
        if k:  # odd sizes are mirrored by one row / column, then 2x2 average pooling
            pad = [(0, 0), (0, x.shape[1] % 2), (0, x.shape[2] % 2), (0, 0)]
            x, y = np.pad(x, pad, mode="symmetric"), np.pad(y, pad, mode="symmetric")
            x = x.reshape(1, x.shape[1] // 2, 2, x.shape[2] // 2, 2, 2).mean(axis=(2, 4))
            y = y.reshape(1, y.shape[1] // 2, 2, y.shape[2] // 2, 2, 2).mean(axis=(2, 4))
        per_channel, cs = ssim_ref(x, y, 1.0)
        mcs.append(np.maximum(cs, 0))
    stacked = np.stack(mcs[:-1] + [np.maximum(per_channel, 0)], -1)
    want = np.prod(stacked ** np.array(weights), -1).mean(-1)
    np.testing.assert_allclose(tf.image.ssim_multiscale(a, b, 1.0).numpy(), want, rtol=1e-4)


def test_total_variation_gradients_and_sobel():
    tv = tf.image.total_variation(IMG).numpy()
    want = np.abs(np.diff(IMG, axis=1)).sum(axis=(1, 2, 3)) + np.abs(np.diff(IMG, axis=2)).sum(
        axis=(1, 2, 3)
    )
    np.testing.assert_allclose(tv, want, rtol=1e-5)
    dy, dx = tf.image.image_gradients(IMG)
    np.testing.assert_allclose(dy.numpy()[:, :-1], np.diff(IMG, axis=1))
    np.testing.assert_allclose(dx.numpy()[:, :, :-1], np.diff(IMG, axis=2))
    assert not dy.numpy()[:, -1].any() and not dx.numpy()[:, :, -1].any()
    sob = tf.image.sobel_edges(IMG).numpy()
    p = np.pad(IMG, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="reflect")
    ky = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], np.float32)
    ref_y = sum(ky[i, j] * p[:, i : i + 9, j : j + 11] for i in range(3) for j in range(3))
    ref_x = sum(ky.T[i, j] * p[:, i : i + 9, j : j + 11] for i in range(3) for j in range(3))
    np.testing.assert_allclose(sob, np.stack([ref_y, ref_x], -1), atol=1e-5)
    with pytest.raises(ValueError, match="image_gradients expects a 4D tensor"):
        tf.image.image_gradients(IMG[0])


def test_colour_and_quality_ops_differentiate():
    x = RNG.uniform(0.1, 0.9, (1, 12, 12, 3))
    assert_grad_matches_finite_differences(
        lambda t: tf.reduce_sum(tf.image.rgb_to_hsv(t) * [0.3, 1.0, 2.0]), x[0, :3, :3]
    )
    # adjust_saturation computes in float32, as TF's does
    assert_grad_matches_finite_differences(
        lambda t: tf.reduce_sum(tf.square(tf.image.adjust_saturation(t, 0.6))),
        x[0, :2, :2],
        eps=1e-3,
        rtol=1e-2,
        atol=1e-3,
    )
    assert_grad_matches_finite_differences(
        lambda t: tf.reduce_sum(tf.image.total_variation(t)), x[:, :3, :3]
    )
    y = RNG.uniform(0.1, 0.9, (1, 12, 12, 1))
    assert_grad_matches_finite_differences(
        lambda t: tf.reduce_sum(tf.square(tf.image.sobel_edges(t))), y[:, :4, :4]
    )
