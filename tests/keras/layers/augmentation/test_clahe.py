"""ContrastLimitedAdaptiveHistogramEqualization against a NumPy CLAHE written here (a loop
over tiles and an explicit bilinear blend of the four nearest tile centres) and against
Keras 3 itself."""

from __future__ import annotations

import numpy as np
import pytest

import rill as tf
from rill import keras as rk

CLAHE = rk.layers.ContrastLimitedAdaptiveHistogramEqualization
RNG = np.random.RandomState(7)


def reference_clahe(img, grid=(8, 8), clip_limit=4.0):
    """One channels-last image on [0, 255] -> CLAHE output (float64), from the definition:
    per-tile clipped histograms -> normalised CDFs, blended between tile centres."""
    h, w, c = img.shape
    gh, gw = grid
    th, tw = -(-h // gh), -(-w // gw)
    padded = np.pad(img, [(0, th * gh - h), (0, tw * gw - w), (0, 0)], mode="symmetric")
    bins = np.clip(np.trunc(padded), 0, 255).astype(int)
    luts = np.zeros((gh, gw, c, 256))
    area = th * tw
    for i in range(gh):
        for j in range(gw):
            for k in range(c):
                tile = bins[i * th : (i + 1) * th, j * tw : (j + 1) * tw, k]
                hist = np.bincount(tile.ravel(), minlength=256).astype(float)
                if clip_limit > 0:
                    limit = clip_limit * area / 256.0
                    excess = np.sum(np.maximum(hist - limit, 0))
                    hist = np.minimum(hist, limit) + excess / 256.0
                cdf = np.cumsum(hist)
                denom = area - cdf[0] or 1.0
                luts[i, j, k] = np.clip((cdf - cdf[0]) * 255.0 / denom, 0, 255)
    out = np.zeros(padded.shape)
    for y in range(th * gh):
        fy = (y - th / 2.0) / th  # position in tile-centre units
        i0 = int(np.floor(fy))
        wy = fy - i0
        r0, r1 = np.clip([i0, i0 + 1], 0, gh - 1)
        for x in range(tw * gw):
            fx = (x - tw / 2.0) / tw
            j0 = int(np.floor(fx))
            wx = fx - j0
            c0, c1 = np.clip([j0, j0 + 1], 0, gw - 1)
            for k in range(c):
                v = bins[y, x, k]
                top = luts[r0, c0, k, v] * (1 - wx) + luts[r0, c1, k, v] * wx
                bot = luts[r1, c0, k, v] * (1 - wx) + luts[r1, c1, k, v] * wx
                out[y, x, k] = top * (1 - wy) + bot * wy
    return out[:h, :w]


@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((2, 16, 16, 3), {}),
        ((1, 13, 11, 2), {"tile_grid_size": (3, 4)}),
        ((1, 20, 12, 1), {"tile_grid_size": (4, 3), "clip_limit": 1.5}),
        ((1, 9, 9, 1), {"tile_grid_size": (2, 2), "clip_limit": 0}),
    ],
)
def test_matches_numpy_reference(shape, kwargs):
    x = RNG.uniform(0, 255, shape).astype("float32")
    got = np.asarray(CLAHE(**kwargs)(x))
    ref = np.stack([reference_clahe(im, kwargs.get("tile_grid_size", (8, 8)),
                                    kwargs.get("clip_limit", 4.0)) for im in x])  # fmt: skip
    assert got.dtype == np.float32 and got.shape == shape
    np.testing.assert_allclose(got, ref, atol=1e-3)


def test_value_range_and_channels_first():
    x = RNG.uniform(0, 1, (2, 3, 10, 12)).astype("float32")
    layer = CLAHE(value_range=(0, 1), tile_grid_size=(2, 3), data_format="channels_first")
    got = np.asarray(layer(x))
    last = np.transpose(x, (0, 2, 3, 1)) * 255.0
    ref = np.stack([reference_clahe(im, (2, 3)) for im in last]) / 255.0
    np.testing.assert_allclose(got, np.transpose(ref, (0, 3, 1, 2)), atol=1e-5)


def test_unbatched_integer_input_and_inference():
    x = RNG.randint(0, 256, (12, 10, 1)).astype("uint8")
    layer = CLAHE(tile_grid_size=(3, 3))
    got = layer(x, training=False)  # deterministic: applied in inference too
    assert got.dtype == tf.uint8 and tuple(got.shape) == (12, 10, 1)
    ref = reference_clahe(x.astype("float64"), (3, 3)).astype("float32")
    # the cast back to uint8 truncates; allow a float32 rounding step at integer edges
    assert np.max(np.abs(np.asarray(got).astype(int) - ref.astype("uint8").astype(int))) <= 1


def test_constant_image_stays_put_and_config_round_trip():
    x = np.full((1, 8, 8, 1), 100.0, "float32")
    out = np.asarray(CLAHE(tile_grid_size=(2, 2))(x))
    np.testing.assert_allclose(out, reference_clahe(x[0], (2, 2))[None], atol=1e-4)
    layer = CLAHE(value_range=(0, 1), clip_limit=2.0, tile_grid_size=(4, 2))
    cfg = layer.get_config()
    assert cfg["clip_limit"] == 2.0 and tuple(cfg["tile_grid_size"]) == (4, 2)
    again = CLAHE.from_config(cfg)
    y = RNG.uniform(0, 1, (1, 8, 8, 2)).astype("float32")
    np.testing.assert_array_equal(np.asarray(again(y)), np.asarray(layer(y)))


def test_functional_and_traced():
    inp = rk.Input((16, 16, 3))
    model = rk.Model(inp, CLAHE(tile_grid_size=(4, 4))(inp))
    assert tuple(model.output_shape) == (None, 16, 16, 3)
    x = RNG.uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    eager = np.asarray(CLAHE(tile_grid_size=(4, 4))(x))
    np.testing.assert_allclose(np.asarray(model(x)), eager, atol=1e-5)
    traced = tf.function(lambda t: CLAHE(tile_grid_size=(4, 4))(t))
    np.testing.assert_allclose(np.asarray(traced(x)), eager, atol=1e-5)


@pytest.mark.parametrize(
    "shape, kwargs, dtype",
    [
        ((2, 13, 11, 3), {}, "float32"),
        ((1, 16, 16, 1), {"tile_grid_size": (4, 4), "clip_limit": 2.0}, "float32"),
        ((10, 9, 2), {"tile_grid_size": (3, 2)}, "float32"),
        ((2, 3, 10, 9), {"data_format": "channels_first", "tile_grid_size": (2, 3)}, "float32"),
        ((1, 8, 8, 3), {"clip_limit": 0}, "float32"),
        ((1, 8, 8, 3), {"value_range": (0, 1)}, "unit"),
        ((1, 12, 12, 1), {}, "uint8"),
        ((1, 12, 12, 1), {}, "int32"),
    ],
)
def test_matches_keras(shape, kwargs, dtype):
    keras = pytest.importorskip("keras")
    from tests.keras.keras_compare import assert_matches_keras

    if dtype == "unit":
        x = RNG.uniform(0, 1, shape).astype("float32")
    elif dtype == "float32":
        x = RNG.uniform(0, 255, shape).astype("float32")
    else:
        x = RNG.randint(0, 256, shape).astype(dtype)
    got = CLAHE(**kwargs)(x)
    ref = keras.layers.ContrastLimitedAdaptiveHistogramEqualization(**kwargs)(x)
    assert_matches_keras(got, ref, rtol=1e-5, atol=1e-3, err_msg=str(kwargs))
