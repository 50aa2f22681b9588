"""Image augmentation layers against Keras 3: each layer's transformation is drawn by
rill, handed to both rill's and Keras' ``transform_images``, and the images compared
(the sampled numbers themselves differ, since rill's random kernels are its own)."""

from __future__ import annotations

import numpy as np
import pytest

from rill import keras as rk

keras = pytest.importorskip("keras")

RNG = np.random.RandomState(1)
X = RNG.uniform(0, 255, (3, 7, 6, 3)).astype("float32")
X_FIRST = np.ascontiguousarray(np.transpose(X, (0, 3, 1, 2)))


def _np(t):
    return np.asarray(t.numpy() if hasattr(t, "numpy") else t)


def _as_numpy(tree):
    if isinstance(tree, dict):
        return {k: _as_numpy(v) for k, v in tree.items()}
    if isinstance(tree, (tuple, list)):
        return type(tree)(_as_numpy(v) for v in tree)
    return tree if tree is None or isinstance(tree, (int, float)) else _np(tree)


def _column(*keys):
    """Keras keeps these per-image values as (batch, 1) columns."""

    def fix(t, x):
        return {**t, **{k: t[k].reshape(-1, 1) for k in keys}}

    return fix


def _with_shape(t, x):
    return {**t, "input_shape": x.shape}


# (name, rill kwargs, how Keras wants the transformation, tolerance)
CASES = [
    ("RandomFlip", {"seed": 1}, _with_shape, 0),
    ("RandomFlip", {"mode": "vertical", "seed": 2}, _with_shape, 0),
    *[
        (
            "RandomRotation",
            {"factor": 0.3, "fill_mode": m, "interpolation": i, "seed": 3},
            None,
            1e-3,
        )
        for m in ("reflect", "wrap", "constant", "nearest")
        for i in ("bilinear", "nearest")
    ],  # fmt: skip
    ("RandomRotation", {"factor": 0.2, "fill_value": 7.0, "fill_mode": "constant"}, None, 1e-3),
    ("RandomTranslation", {"height_factor": 0.3, "width_factor": 0.4, "seed": 4}, None, 1e-3),
    (
        "RandomTranslation",
        {
            "height_factor": 0.5,
            "width_factor": 0.2,
            "fill_mode": "wrap",
            "interpolation": "nearest",
            "seed": 5,
        },
        None,
        1e-3,
    ),  # fmt: skip
    (
        "RandomZoom",
        {"height_factor": 0.4, "width_factor": (-0.3, 0.2), "seed": 6},
        _column("height_zoom", "width_zoom"),
        1e-3,
    ),  # fmt: skip
    (
        "RandomZoom",
        {"height_factor": (-0.5, -0.2), "fill_mode": "nearest", "seed": 7},
        _column("height_zoom", "width_zoom"),
        1e-3,
    ),  # fmt: skip
    ("RandomShear", {"x_factor": 0.4, "y_factor": 0.3, "seed": 8}, None, 1e-3),
    ("RandomPerspective", {"factor": 0.8, "scale": 0.6, "seed": 9}, None, 2e-2),
    ("RandomCrop", {"height": 4, "width": 5, "seed": 10}, None, 0),
    ("RandomContrast", {"factor": 0.6, "seed": 11}, None, 1e-3),
    ("RandomBrightness", {"factor": 0.5, "seed": 12}, None, 1e-3),
    ("RandomHue", {"factor": 0.7, "seed": 13}, None, 2e-2),
    ("RandomSaturation", {"factor": 0.7, "seed": 14}, None, 2e-2),
    ("RandomSharpness", {"factor": 0.9, "seed": 15}, None, 1e-3),
    ("RandomColorDegeneration", {"factor": 0.8, "seed": 16}, None, 1e-3),
    ("RandomInvert", {"factor": 0.7, "seed": 17}, None, 0),
    ("RandomPosterization", {"factor": (2, 6), "seed": 18}, None, 0),
    ("Solarization", {"addition_factor": 0.3, "threshold_factor": 0.7, "seed": 19}, None, 1e-3),
    ("AutoContrast", {}, None, 1e-3),
    ("Equalization", {}, None, 0),
    ("Equalization", {"bins": 32, "value_range": (0, 255)}, None, 0),
    (
        "RandomGaussianBlur",
        {"factor": 0.9, "kernel_size": 5, "sigma": 0.9, "seed": 20},
        None,
        1e-3,
    ),  # fmt: skip
    ("RandomGrayscale", {"factor": 0.6, "seed": 21}, None, 1e-3),
    ("MixUp", {"alpha": 0.4, "seed": 22}, None, 1e-3),
    ("CutMix", {"seed": 23}, None, 0),
    ("RandomErasing", {"factor": 0.9, "fill_value": 3.0, "seed": 24}, None, 0),
]


@pytest.mark.parametrize("name,kwargs,fix,atol", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])  # fmt: skip
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_transform_images_matches_keras(name, kwargs, fix, atol, data_format):
    kwargs = dict(kwargs)
    if name not in ("Solarization", "AutoContrast", "RandomBrightness", "RandomContrast"):
        kwargs["data_format"] = data_format
    elif data_format == "channels_first":
        pytest.skip(f"{name} takes no data_format")
    x = X if data_format == "channels_last" else X_FIRST
    ours = getattr(rk.layers, name)(**kwargs)
    theirs = getattr(keras.layers, name)(**kwargs)
    t = ours.get_random_transformation(rk.ops.convert_to_tensor(x), training=True)
    got = _np(ours.transform_images(rk.ops.convert_to_tensor(x), t))
    t = _as_numpy(t)
    if fix is not None:
        t = fix(t, x)
    ref = np.asarray(theirs.transform_images(x, t))
    assert got.dtype == ref.dtype and got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=atol, err_msg=name)


@pytest.mark.parametrize(
    "name,kwargs",
    [("RandomFlip", {"seed": 1}), ("RandomRotation", {"factor": 0.2}),
     ("RandomZoom", {"height_factor": 0.2}), ("RandomCrop", {"height": 3, "width": 3, "seed": 1}),
     ("RandomTranslation", {"height_factor": 0.1, "width_factor": 0.2}),
     ("RandomContrast", {"factor": 0.2}), ("RandomBrightness", {"factor": 0.2}),
     ("RandomShear", {"x_factor": 0.2}), ("RandomPerspective", {}),
     ("RandomElasticTransform", {"seed": 3}), ("RandomErasing", {}),
     ("RandomGaussianBlur", {"kernel_size": (3, 5)}), ("RandomGrayscale", {"factor": 0.2}),
     ("RandomHue", {"factor": 0.1}), ("RandomSaturation", {"factor": 0.3}),
     ("RandomSharpness", {"factor": 0.3}), ("RandomColorDegeneration", {"factor": 0.3}),
     ("RandomColorJitter", {"brightness_factor": 0.1, "hue_factor": 0.2}),
     ("RandomInvert", {}), ("RandomPosterization", {"factor": 4}),
     ("Solarization", {"addition_factor": 0.1}), ("AutoContrast", {"value_range": (0, 1)}),
     ("Equalization", {"bins": 64}), ("MixUp", {}), ("CutMix", {"factor": 0.5}),
     ("AugMix", {"num_chains": 2}), ("RandAugment", {"num_ops": 3}),
     ("MaxNumBoundingBoxes", {"max_number": 4})],
)  # fmt: skip
def test_get_config_matches_keras(name, kwargs):
    ours = getattr(rk.layers, name)(name="aug", **kwargs).get_config()
    theirs = getattr(keras.layers, name)(name="aug", **kwargs).get_config()
    if "seed" not in kwargs and "seed" in theirs and name == "RandomCrop":
        theirs["seed"] = ours["seed"]  # a random default seed
    assert ours.keys() == theirs.keys()
    for k in ours:
        if k == "dtype":
            continue
        a, b = ours[k], theirs[k]
        assert (list(a) if isinstance(a, tuple) else a) == (
            list(b) if isinstance(b, tuple) else b
        ), k


def test_zero_or_collapsed_factors_match_keras_calls():
    """Calls whose outcome is fixed by the arguments, compared end to end."""
    x = X[0]
    cases = [
        ("RandomRotation", {"factor": (0.25, 0.25), "fill_mode": "constant"}),
        ("RandomTranslation", {"height_factor": (0.2, 0.2), "width_factor": (-0.3, -0.3)}),
        ("RandomZoom", {"height_factor": (0.3, 0.3), "width_factor": (-0.2, -0.2)}),
        ("RandomBrightness", {"factor": (0.1, 0.1)}),
        ("RandomPosterization", {"factor": (3, 3)}),
        ("RandomColorDegeneration", {"factor": (0.5, 0.5)}),
        ("RandomInvert", {"factor": (1.0, 1.0)}),
        ("RandomGrayscale", {"factor": 1.0}),
        ("AutoContrast", {}),
        ("Equalization", {}),
        ("Solarization", {}),
    ]
    for name, kwargs in cases:
        for inp in (X, x):
            got = _np(getattr(rk.layers, name)(**kwargs)(inp))
            ref = np.asarray(getattr(keras.layers, name)(**kwargs)(inp))
            np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-3, err_msg=name)
            assert got.dtype == ref.dtype, name


def test_legacy_height_width_config_matches_tf_keras():
    tf = pytest.importorskip("tensorflow")
    for name in ("RandomHeight", "RandomWidth"):
        theirs = getattr(tf.keras.layers, name)(0.2, name="aug", seed=3).get_config()
        ours = getattr(rk.layers, name)(0.2, name="aug", seed=3).get_config()
        assert ours.keys() == theirs.keys()
        out = getattr(rk.layers, name)((0.5, 0.5))(X)
        ref = getattr(tf.keras.layers, name)((0.5, 0.5))(X)
        np.testing.assert_allclose(_np(out), np.asarray(ref), rtol=1e-5, atol=1e-3)


def test_flip_bounding_boxes_match_keras():
    boxes = {"boxes": np.array([[[1, 2, 5, 6], [0, 0, 3, 4]], [[2, 1, 9, 7], [4, 4, 6, 6]]],
                               "float32"),
             "labels": np.array([[1, 2], [3, 4]], "float32")}  # fmt: skip
    images = RNG.uniform(0, 1, (2, 8, 10, 3)).astype("float32")
    for mode in ("horizontal", "vertical", "horizontal_and_vertical"):
        ours = rk.layers.RandomFlip(mode, bounding_box_format="xyxy", seed=1)
        t = {"flips": rk.ops.convert_to_tensor(np.array([True, False]).reshape(2, 1, 1, 1)),
             "image_hw": (8, 10)}  # fmt: skip
        got = ours.transform_bounding_boxes({k: rk.ops.convert_to_tensor(v)
                                             for k, v in boxes.items()}, t)  # fmt: skip
        theirs = keras.layers.RandomFlip(mode, bounding_box_format="xyxy")
        ref = theirs.transform_bounding_boxes(
            {k: v.copy() for k, v in boxes.items()},
            {"flips": np.array([True, False]).reshape(2, 1, 1, 1), "input_shape": images.shape},
        )
        np.testing.assert_allclose(_np(got["boxes"]), np.asarray(ref["boxes"]), atol=1e-5)
        # the whole call: boxes follow the images' flips
        out = ours({"images": images, "bounding_boxes": boxes})
        flipped = ~np.all(_np(out["images"]) == images, axis=(1, 2, 3))
        b = _np(out["bounding_boxes"]["boxes"])
        np.testing.assert_array_equal(np.all(b == boxes["boxes"], axis=(1, 2)), ~flipped)
