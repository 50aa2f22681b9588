"""Image augmentation layers against NumPy references and their properties: exact where
the transform is fixed by its arguments, ranges and shapes where it is random, identity
in inference, determinism given a seed, every execution mode."""

from __future__ import annotations

import numpy as np
import pytest

import rill as tf
from rill import keras

L = keras.layers
RNG = np.random.RandomState(0)
X = RNG.uniform(0, 255, (3, 6, 7, 3)).astype("float32")

RANDOM_LAYERS = [
    lambda: L.RandomFlip(seed=1),
    lambda: L.RandomRotation(0.2, seed=1),
    lambda: L.RandomZoom(0.3, seed=1),
    lambda: L.RandomTranslation(0.2, 0.3, seed=1),
    lambda: L.RandomShear(0.3, 0.2, seed=1),
    lambda: L.RandomPerspective(seed=1),
    lambda: L.RandomElasticTransform(seed=1),
    lambda: L.RandomContrast(0.5, seed=1),
    lambda: L.RandomBrightness(0.3, seed=1),
    lambda: L.RandomErasing(seed=1),
    lambda: L.RandomGaussianBlur(seed=1),
    lambda: L.RandomGrayscale(seed=1),
    lambda: L.RandomHue(0.5, seed=1),
    lambda: L.RandomSaturation(0.5, seed=1),
    lambda: L.RandomSharpness(0.5, seed=1),
    lambda: L.RandomColorJitter(
        brightness_factor=0.2, contrast_factor=0.2, saturation_factor=0.3, hue_factor=0.2, seed=1
    ),  # fmt: skip
    lambda: L.RandomColorDegeneration(0.5, seed=1),
    lambda: L.RandomInvert(seed=1),
    lambda: L.RandomPosterization(4, seed=1),
    lambda: L.Solarization(0.5, 0.5, seed=1),
    lambda: L.Equalization(),
    lambda: L.MixUp(seed=1),
    lambda: L.CutMix(seed=1),
    lambda: L.AugMix(seed=1),
    lambda: L.RandAugment(seed=1),
]
IDS = [f().__class__.__name__ for f in RANDOM_LAYERS]


def np_of(t):
    return np.asarray(t.numpy() if hasattr(t, "numpy") else t)


# ------------------------------------------------------------------- shared contract
@pytest.mark.parametrize("make", RANDOM_LAYERS, ids=IDS)
def test_inference_is_identity_and_shapes_kept(make):
    layer = make()
    out = layer(X, training=False)
    np.testing.assert_array_equal(np_of(out), X)
    assert layer(X).shape == X.shape
    assert layer(X[0]).shape == X[0].shape  # unbatched in, unbatched out
    assert layer(X).dtype == tf.float32


@pytest.mark.parametrize("make", RANDOM_LAYERS, ids=IDS)
def test_same_seed_same_output_and_config_roundtrip(make):
    a, b = make(), make()
    np.testing.assert_array_equal(np_of(a(X)), np_of(b(X)))
    config = a.get_config()
    if isinstance(a, L.RandomShear):  # Keras 3 stores (-f, f), which its check refuses
        with pytest.raises(ValueError, match="range"):
            type(a).from_config(config)
        return
    clone = type(a).from_config(config)
    assert clone.get_config() == {**config, "name": clone.name}


@pytest.mark.parametrize(
    "make",
    [lambda: L.RandomFlip(seed=3), lambda: L.RandomRotation(0.3, seed=3),
     lambda: L.RandomBrightness(0.4, seed=3), lambda: L.RandomTranslation(0.3, 0.3, seed=3)],
)  # fmt: skip
def test_draws_change_between_calls(make):
    layer = make()
    outs = [np_of(layer(X)) for _ in range(6)]
    assert any(not np.array_equal(outs[0], o) for o in outs[1:])


@pytest.mark.parametrize("make", RANDOM_LAYERS[:9], ids=IDS[:9])
def test_channels_first_is_channels_last_transposed(make):
    last, first = make(), make()
    first.data_format = "channels_first"
    got = np_of(first(np.transpose(X, (0, 3, 1, 2))))
    ref = np_of(last(X))
    np.testing.assert_allclose(np.transpose(got, (0, 2, 3, 1)), ref, rtol=1e-5, atol=1e-3)


def test_random_layers_in_function_dataset_and_functional_model():
    layer = L.RandomRotation(0.2, seed=5)
    eager = np_of(L.RandomRotation(0.2, seed=5)(X))
    traced = tf.function(lambda x: layer(x, training=True))
    np.testing.assert_allclose(np_of(traced(tf.constant(X))), eager, rtol=1e-5, atol=1e-3)
    second = np_of(traced(tf.constant(X)))
    assert not np.allclose(second, eager)  # the seed generator advances inside the graph

    ds = tf.data.Dataset.from_tensor_slices(X).batch(3).map(L.RandomFlip(seed=2))
    (batch,) = list(ds)
    np.testing.assert_array_equal(np_of(batch), np_of(L.RandomFlip(seed=2)(X)))

    inp = keras.Input((6, 7, 3))
    model = keras.Model(inp, L.RandomZoom(0.3, seed=4)(inp))
    np.testing.assert_array_equal(model.predict(X, verbose=0), X)  # inference: identity
    assert model(X, training=True).shape == X.shape


def test_unknown_batch_in_function():
    layer = L.RandomTranslation(0.2, 0.2, seed=1)
    fn = tf.function(lambda x: layer(x), input_signature=[tf.TensorSpec([None, 6, 7, 3])])
    assert fn(tf.constant(X)).shape == X.shape


def test_rank_errors():
    with pytest.raises(ValueError, match="rank 3"):
        L.RandomFlip()(np.zeros((2, 2), "float32"))
    with pytest.raises(NotImplementedError, match="fill_mode"):
        L.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="factor"):
        L.RandomContrast(1.5)


# ------------------------------------------------------------------- exact transforms
def test_flip_is_one_of_the_flips_per_image():
    out = np_of(L.RandomFlip("horizontal_and_vertical", seed=2)(X))
    for o, x in zip(out, X):
        assert np.array_equal(o, x) or np.array_equal(o, x[::-1, ::-1])
    out = np_of(L.RandomFlip("horizontal", seed=2)(X))
    for o, x in zip(out, X):
        assert np.array_equal(o, x) or np.array_equal(o, x[:, ::-1])
    outs = np.stack([np_of(L.RandomFlip("vertical", seed=s)(X[0])) for s in range(12)])
    flipped = [np.array_equal(o, X[0][::-1]) for o in outs]
    assert any(flipped) and not all(flipped)
    assert all(f or np.array_equal(o, X[0]) for f, o in zip(flipped, outs))


def test_crop_window_is_a_slice_shared_by_the_batch():
    out = np_of(L.RandomCrop(4, 5, seed=7)(X))
    assert out.shape == (3, 4, 5, 3)
    hits = [(t, c) for t in range(3) for c in range(3)
            if np.array_equal(out, X[:, t : t + 4, c : c + 5])]  # fmt: skip
    assert len(hits) == 1
    # inference leaves the image whole, as Keras 3 does
    np.testing.assert_array_equal(np_of(L.RandomCrop(4, 5)(X, training=False)), X)


def test_crop_larger_than_image_resizes():
    # Keras slices [0:8, 0:8] from the centred start (0, 0) here, then resizes the 6x7 rest
    out = np_of(L.RandomCrop(8, 8, seed=1)(X))
    ref = np_of(tf.image.resize(X, (8, 8)))
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-3)


def test_zero_rotation_zoom_translation_are_identity():
    for layer in (L.RandomRotation(0.0), L.RandomZoom(0.0), L.RandomTranslation(0.0, 0.0),
                  L.RandomShear(0.0, 0.0)):  # fmt: skip
        np.testing.assert_allclose(np_of(layer(X)), X, rtol=1e-6, atol=1e-3)


def test_half_turn_rotation_reverses_both_axes():
    out = np_of(L.RandomRotation((0.5, 0.5), interpolation="nearest")(X))
    np.testing.assert_allclose(out, X[:, ::-1, ::-1], atol=1e-3)


def test_integer_translation_shifts_pixels():
    # height_factor 1/3 of 6 rows = 2 rows down; constant fill
    out = np_of(L.RandomTranslation((1 / 3, 1 / 3), (0.0, 0.0), fill_mode="constant",
                                    interpolation="nearest")(X))  # fmt: skip
    np.testing.assert_allclose(out[:, 2:], X[:, :-2], atol=1e-3)
    np.testing.assert_array_equal(out[:, :2], 0)


def test_brightness_fixed_factor_is_a_known_shift():
    x = RNG.uniform(0, 1, (2, 4, 4, 3)).astype("float32")
    out = np_of(L.RandomBrightness((0.1, 0.1), value_range=(0, 1))(x))
    np.testing.assert_allclose(out, np.clip(x + 0.1, 0, 1), rtol=1e-6, atol=1e-6)


def test_contrast_is_an_affine_map_about_the_mean():
    x = RNG.uniform(100, 150, (4, 5, 5, 3)).astype("float32")
    out = np_of(L.RandomContrast(0.4, seed=2)(x))
    mean = x.mean(axis=(1, 2), keepdims=True)
    f = ((out - mean) / (x - mean)).reshape(4, -1)
    np.testing.assert_allclose(f, f[:, :1] * np.ones_like(f), rtol=1e-3)
    assert np.all((f[:, 0] >= 0.6 - 1e-4) & (f[:, 0] <= 1.4 + 1e-4))


def test_grayscale_is_luma():
    out = np_of(L.RandomGrayscale(factor=1.0)(X))
    luma = X @ np.array([0.2989, 0.5870, 0.1140], "float32")
    np.testing.assert_allclose(out, np.repeat(luma[..., None], 3, -1), rtol=1e-5)


def test_invert_posterize_solarize_formulas():
    x = RNG.randint(0, 256, (2, 4, 4, 3)).astype("float32")
    np.testing.assert_array_equal(np_of(L.RandomInvert(factor=(1.0, 1.0))(x)), 255 - x)
    bits = 3
    ref = ((x.astype(np.uint8) >> (8 - bits)) << (8 - bits)).astype("float32")
    np.testing.assert_array_equal(np_of(L.RandomPosterization((bits, bits))(x)), ref)
    # threshold and addition 0: every value is at or above the threshold, so inverted
    np.testing.assert_allclose(np_of(L.Solarization()(x)), 255 - x, atol=1e-4)
    x01 = x / 255
    out = np_of(L.Solarization(value_range=(0, 1))(x01))
    np.testing.assert_allclose(out, 1 - x01, atol=1e-6)
    # a random addition a and threshold t per image: y = x + a (no clipping for these
    # values), kept below t and inverted (255 - y) at or above it
    xs = RNG.randint(0, 150, (3, 5, 5, 3)).astype("float32")
    out = np_of(L.Solarization(addition_factor=0.3, threshold_factor=0.6, seed=4)(xs))
    for o, xi in zip(out, xs):
        candidates = [np.round(o - xi, 2), np.round(255 - o - xi, 2)]
        common = set(candidates[0].ravel()) | set(candidates[1].ravel())
        a = [v for v in common if np.all((candidates[0] == v) | (candidates[1] == v))]
        assert a and 0 <= a[0] <= 0.3 * 255 + 0.01
        y = xi + a[0]
        kept = np.isclose(o, y, atol=0.02)
        if kept.any() and (~kept).any():
            assert y[kept].max() < y[~kept].min() + 0.02


def test_solarization_and_posterization_respect_value_range():
    x = RNG.uniform(0, 1, (2, 4, 4, 3)).astype("float32")
    out = np_of(L.RandomPosterization((1, 1), value_range=(0, 1))(x))
    ref = ((x * 255).astype(np.uint8) >> 7 << 7).astype("float32") / 255
    np.testing.assert_allclose(out, ref, rtol=1e-6)


def test_color_degeneration_and_sharpness_limits():
    x = RNG.uniform(0, 255, (2, 5, 5, 3)).astype("float32")
    gray = np.repeat((x @ np.array([0.2989, 0.5870, 0.1140], "float32"))[..., None], 3, -1)
    out = np_of(L.RandomColorDegeneration((1.0, 1.0))(x))
    np.testing.assert_allclose(out, gray, rtol=1e-5, atol=1e-3)
    # sharpness factor 0.5 leaves images as they are
    np.testing.assert_allclose(np_of(L.RandomSharpness((0.5, 0.5))(x)), x, atol=1e-3)
    # factor 0: the 3x3 smoothing kernel (1/13 around, 5/13 in the centre), zero padded
    k = np.full((3, 3), 1 / 13)
    k[1, 1] = 5 / 13
    pad = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    smooth = sum(k[i, j] * pad[:, i : i + 5, j : j + 5] for i in range(3) for j in range(3))
    out = np_of(L.RandomSharpness((0.0, 0.0))(x))
    np.testing.assert_allclose(out, np.clip(smooth, 0, 255), rtol=1e-4, atol=1e-3)


def _np_equalize(x, bins=256):
    """Histogram equalization of each channel of the whole batch, written from the
    definition: lookup table round((cdf - cdf_min) * 255 / (n - cdf_min))."""
    out = np.empty_like(x)
    for c in range(x.shape[-1]):
        ch = x[..., c]
        idx = np.clip((ch * (bins - 1) / 255).astype(np.int32), 0, bins - 1)
        hist = np.bincount(idx.ravel(), minlength=bins)
        if np.count_nonzero(hist) <= 1:
            out[..., c] = ch
            continue
        cdf = np.cumsum(hist)
        cdf_min = cdf[cdf > 0][0]
        lut = np.clip(np.round((cdf - cdf_min) * 255 / (cdf[-1] - cdf_min)), 0, 255)
        out[..., c] = lut[np.clip(ch / 255 * (bins - 1), 0, bins - 1).astype(np.int32)]
    return out


def test_equalization_matches_numpy_reference():
    x = RNG.randint(40, 120, (2, 8, 8, 3)).astype("float32")
    x[..., 2] = 7.0  # a flat channel is left alone
    out = np_of(L.Equalization()(x))
    np.testing.assert_allclose(out, _np_equalize(x), atol=1e-4)
    assert out[..., :2].min() == 0 and out[..., :2].max() == 255
    x01 = x / 255
    out01 = np_of(L.Equalization(value_range=(0, 1))(x01))
    np.testing.assert_allclose(out01, _np_equalize(x) / 255, atol=1e-5)


def test_auto_contrast_stretches_each_channel():
    x = RNG.uniform(50, 100, (2, 4, 4, 3)).astype("float32")
    out = np_of(L.AutoContrast()(x, training=False))  # deterministic: applied in inference
    lo, hi = x.min(axis=(1, 2), keepdims=True), x.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(out, (x - lo) * 255 / (hi - lo), rtol=1e-4, atol=1e-3)


def test_hue_and_saturation_keep_value_and_grayscale():
    gray = np.repeat(RNG.uniform(0, 255, (2, 4, 4, 1)), 3, -1).astype("float32")
    np.testing.assert_allclose(np_of(L.RandomHue(0.8, seed=1)(gray)), gray, atol=1e-3)
    out = np_of(L.RandomSaturation((0.0, 0.0))(X))  # saturation 0: grayscale of max(rgb)
    np.testing.assert_allclose(out, np.repeat(X.max(-1, keepdims=True), 3, -1), rtol=1e-5)


def test_mixup_is_a_convex_combination_and_mixes_labels():
    labels = np.eye(3, dtype="float32")
    out = L.MixUp(alpha=0.5, seed=3)({"images": X, "labels": labels})
    imgs, lab = np_of(out["images"]), np_of(out["labels"])
    np.testing.assert_allclose(lab.sum(-1), 1, rtol=1e-6)
    for i in range(3):
        j = int(np.argmax(np.where(np.arange(3) == i, -1, lab[i]))) if lab[i].max() < 1 else i
        w = lab[i, i] if j != i else 1.0
        np.testing.assert_allclose(imgs[i], w * X[i] + (1 - w) * X[j], rtol=1e-4, atol=1e-2)


def test_cutmix_pastes_from_the_batch_and_weights_labels_by_area():
    labels = np.eye(3, dtype="float32")
    out = L.CutMix(seed=5)({"images": X, "labels": labels})
    imgs, lab = np_of(out["images"]), np_of(out["labels"])
    for i in range(3):
        kept = np.all(imgs[i] == X[i], axis=-1)
        pasted = ~kept
        if pasted.any():
            src = [j for j in range(3) if np.array_equal(imgs[i][pasted], X[j][pasted])]
            assert src
        # the label weight is the continuous box's share: the pasted pixels' share
        # differs from it by at most one row and one column of pixels
        if pasted.any() and not np.isclose(lab[i, i], 1.0):
            assert abs((1 - lab[i, i]) - pasted.mean()) <= (6 + 7) / 42 + 1e-6
    np.testing.assert_allclose(lab.sum(-1), 1, rtol=1e-6)
    np.testing.assert_array_equal(np_of(L.CutMix(seed=1)(X[0])), X[0])  # one image: as is


def test_erasing_fills_one_rectangle():
    out = np_of(L.RandomErasing(factor=(1.0, 1.0), scale=(0.2, 0.3), fill_value=9.0,
                                seed=2)(X))  # fmt: skip
    for o, x in zip(out, X):
        changed = np.any(o != x, axis=-1)
        rows, cols = np.nonzero(changed)
        assert changed.sum() > 0
        box = changed[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        assert box.all()  # a filled rectangle
        np.testing.assert_array_equal(o[changed], 9.0)


def test_gaussian_blur_matches_separable_reference():
    sigma = 0.7
    x = RNG.uniform(0, 255, (1, 6, 6, 1)).astype("float32")
    out = np_of(L.RandomGaussianBlur(factor=(1.0, 1.0), kernel_size=3,
                                     sigma=(sigma, sigma))(x))  # fmt: skip
    g = np.exp(-0.5 * (np.arange(-1, 2) / (sigma + 1e-6)) ** 2)
    g /= g.sum()
    pad = np.pad(x[0, :, :, 0], 1)
    ref = sum(g[i] * g[j] * pad[i : i + 6, j : j + 6] for i in range(3) for j in range(3))
    np.testing.assert_allclose(out[0, :, :, 0], ref, rtol=1e-4, atol=1e-3)


def test_height_width_resize_one_axis():
    out = np_of(L.RandomHeight((0.5, 0.5))(X))
    assert out.shape == (3, 9, 7, 3)
    np.testing.assert_allclose(out, np_of(tf.image.resize(X, (9, 7))), rtol=1e-5, atol=1e-3)
    assert L.RandomWidth((-0.5, -0.5))(X).shape == (3, 6, 3, 3)
    np.testing.assert_array_equal(np_of(L.RandomWidth(0.4)(X, training=False)), X)


def test_elastic_zero_scale_and_perspective_zero_scale_are_identity():
    np.testing.assert_array_equal(np_of(L.RandomElasticTransform(scale=0.0)(X)), X)
    out = np_of(L.RandomPerspective(factor=(1.0, 1.0), scale=0.0)(X))
    np.testing.assert_allclose(out, X, atol=1e-3)


def test_outputs_stay_in_value_range():
    for layer in (L.RandomBrightness(0.8, seed=1), L.RandomContrast(0.9, seed=1),
                  L.RandomSharpness(1.0, seed=1), L.RandomElasticTransform(seed=1),
                  L.AugMix(seed=2)):  # fmt: skip
        out = np_of(layer(X))
        assert out.min() >= 0 and out.max() <= 255


def test_segmentation_masks_follow_geometry_with_nearest():
    masks = RNG.randint(0, 4, (3, 6, 7, 1)).astype("float32")
    out = L.RandomRotation(0.25, seed=1, fill_mode="nearest")(
        {"images": X, "segmentation_masks": masks}
    )
    assert set(np.unique(np_of(out["segmentation_masks"]))) <= {0.0, 1.0, 2.0, 3.0}
    assert out["images"].shape == X.shape


def test_max_num_bounding_boxes_pads_and_truncates():
    boxes = {"boxes": np.arange(24, dtype="float32").reshape(2, 3, 4),
             "labels": np.array([[1, 2, 3], [4, 5, 6]], "int32")}  # fmt: skip
    out = L.MaxNumBoundingBoxes(5, bounding_box_format="xyxy")(
        {"images": X[:2], "bounding_boxes": boxes}
    )
    b, lab = np_of(out["bounding_boxes"]["boxes"]), np_of(out["bounding_boxes"]["labels"])
    np.testing.assert_array_equal(b[:, :3], boxes["boxes"])
    np.testing.assert_array_equal(b[:, 3:], -1)
    np.testing.assert_array_equal(lab, [[1, 2, 3, -1, -1], [4, 5, 6, -1, -1]])
    out = L.MaxNumBoundingBoxes(2, bounding_box_format="xyxy")(
        {"images": X[:2], "bounding_boxes": boxes}
    )
    np.testing.assert_array_equal(np_of(out["bounding_boxes"]["labels"]), [[1, 2], [4, 5]])
