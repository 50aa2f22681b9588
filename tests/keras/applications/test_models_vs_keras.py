"""rill's application models against Keras 3's: the same architecture (parameter count,
layer names, weight shapes in order) and the same outputs with the same weights, which
Keras saves and rill loads (``.weights.h5``, and Keras 2's ``.h5`` layout that the
published ImageNet weights use).

Run with the peers environment: PYTHONPATH=. /work/peers/bin/python -m pytest
tests/keras/applications/test_models_vs_keras.py
"""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
pytest.importorskip("h5py")

from rill import keras as rk  # noqa: E402
from tests.keras.applications.apps_compare import (  # noqa: E402
    HEAVY,
    class_table,
    layer_table,
    perturb,
)

heavy = pytest.mark.skipif(not HEAVY, reason="slow in Keras: set RILL_HEAVY_TESTS=1")

# (rill module, constructor, input shape, extra kwargs, layers auto-named?)
LIGHT = [
    ("resnet", "ResNet50", (32, 32, 3), {}, False),
    ("mobilenet", "MobileNet", (32, 32, 3), {"alpha": 0.25}, True),
    ("mobilenet_v2", "MobileNetV2", (32, 32, 3), {"alpha": 0.35}, True),
    ("mobilenet_v3", "MobileNetV3Small", (32, 32, 3), {"alpha": 0.75}, True),
    ("efficientnet", "EfficientNetB0", (32, 32, 3), {}, True),
    ("efficientnet_v2", "EfficientNetV2B0", (32, 32, 3), {}, True),
    ("convnext", "ConvNeXtTiny", (32, 32, 3), {}, True),
]
HEAVY_MODELS = [
    ("resnet", "ResNet101", (32, 32, 3), {}, False),
    ("resnet_v2", "ResNet50V2", (32, 32, 3), {}, True),
    ("vgg16", "VGG16", (32, 32, 3), {}, False),
    ("vgg19", "VGG19", (32, 32, 3), {"pooling": "max", "include_top": False}, True),
    ("mobilenet_v3", "MobileNetV3Large", (32, 32, 3), {"minimalistic": True}, True),
    ("efficientnet_v2", "EfficientNetV2S", (32, 32, 3), {}, True),
    ("densenet", "DenseNet121", (32, 32, 3), {}, True),
    ("xception", "Xception", (71, 71, 3), {}, True),
    ("inception_v3", "InceptionV3", (75, 75, 3), {}, True),
    ("inception_resnet_v2", "InceptionResNetV2", (75, 75, 3), {}, True),
    ("nasnet", "NASNetMobile", (32, 32, 3), {"include_top": False, "pooling": "avg"}, True),
]


def _build_pair(module, fn, shape, kwargs):
    kwargs = {"classifier_activation": None, **kwargs}
    if kwargs.get("include_top") is False:
        kwargs.pop("classifier_activation")
    keras.backend.clear_session()
    rk.backend.clear_session()
    km = getattr(keras.applications, fn)(weights=None, input_shape=shape, **kwargs)
    mod = __import__(f"rill.keras.applications.{module}", fromlist=[fn])
    rm = getattr(mod, fn)(weights=None, input_shape=shape, **kwargs)
    return km, rm


def _check(module, fn, shape, kwargs, auto_named, tmp_path):
    km, rm = _build_pair(module, fn, shape, kwargs)
    assert rm.name == km.name
    assert rm.count_params() == km.count_params()
    table = class_table if auto_named else layer_table
    assert table(rm) == table(km)
    # explicitly named layers keep Keras' names (what the h5 files are keyed by)
    named = [n for n, _ in layer_table(km) if not n.split("_")[-1].isdigit()]
    assert set(named) <= {n for n, _ in layer_table(rm)}
    perturb(km)
    path = str(tmp_path / f"{fn}.weights.h5")
    km.save_weights(path)
    rm.load_weights(path)
    x = np.random.default_rng(1).uniform(0, 255, (2, *shape)).astype("float32")
    want = np.asarray(km(x, training=False))
    got = np.asarray(rm(x, training=False))
    assert got.shape == want.shape
    scale = max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * scale)


@pytest.mark.parametrize("module,fn,shape,kwargs,auto", LIGHT, ids=[m[1] for m in LIGHT])
def test_model_matches_keras(module, fn, shape, kwargs, auto, tmp_path):
    _check(module, fn, shape, kwargs, auto, tmp_path)


@heavy
@pytest.mark.parametrize(
    "module,fn,shape,kwargs,auto", HEAVY_MODELS, ids=[m[1] for m in HEAVY_MODELS]
)
def test_heavy_model_matches_keras(module, fn, shape, kwargs, auto, tmp_path):
    _check(module, fn, shape, kwargs, auto, tmp_path)


def _legacy_h5(model, path):
    # Keras 2's layout (what the published ImageNet files use), written by Keras 3
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


def test_legacy_h5_weights_load_by_path(tmp_path):
    km, rm = _build_pair("mobilenet_v3", "MobileNetV3Small", (32, 32, 3), {"alpha": 0.75})
    perturb(km, seed=3)
    path = str(tmp_path / "weights.h5")
    _legacy_h5(km, path)
    rm2 = rk.applications.MobileNetV3Small(
        input_shape=(32, 32, 3), alpha=0.75, weights=path, classifier_activation=None
    )
    x = np.random.default_rng(2).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(
        np.asarray(rm2(x, training=False)), np.asarray(km(x, training=False)), atol=1e-5
    )


def test_imagenet_weights_come_through_get_file(tmp_path, monkeypatch):
    """weights='imagenet' asks get_file for Keras' file, origin and hash, then loads it
    (here a file Keras wrote, standing in for the download)."""
    km = keras.applications.ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3))
    perturb(km, seed=5)
    path = str(tmp_path / "resnet50_notop.h5")
    _legacy_h5(km, path)
    calls = []

    def fake_get_file(fname, origin, cache_subdir="datasets", file_hash=None, **kw):
        calls.append((fname, origin, cache_subdir, file_hash))
        return path

    from rill.keras.utils import file_utils

    monkeypatch.setattr(file_utils, "get_file", fake_get_file)
    rm = rk.applications.ResNet50(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    name = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert calls == [
        (
            name,
            "https://storage.googleapis.com/tensorflow/keras-applications/resnet/" + name,
            "models",
            "4d473c1dd8becc155b73f8504c6f6626",
        )
    ]
    x = np.random.default_rng(4).uniform(0, 255, (1, 32, 32, 3)).astype("float32")
    want = np.asarray(km(x, training=False))
    # float32 through 50 layers: compare relative to the output's scale
    np.testing.assert_allclose(
        np.asarray(rm(x, training=False)), want, atol=1e-5 * float(np.abs(want).max())
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"input_shape": (31, 31, 3), "include_top": False},
        {"input_shape": (None, None, 3), "include_top": True},
        {"weights": "imagenet", "classes": 10},
        {"weights": "no/such/file.h5"},
        {"weights": "imagenet", "classifier_activation": "relu", "input_shape": (224, 224, 3)},
        {"weights": "imagenet", "include_top": True, "input_shape": (64, 64, 3)},
    ],
)
def test_argument_errors_match_keras(kwargs, monkeypatch):
    from rill.keras.utils import file_utils

    def no_download(*a, **k):
        raise AssertionError("no download expected")

    monkeypatch.setattr(file_utils, "get_file", no_download)
    with pytest.raises(ValueError) as want:
        keras.applications.ResNet50(**kwargs)
    with pytest.raises(ValueError) as got:
        rk.applications.ResNet50(**kwargs)
    assert str(got.value).split(";")[0][:60] == str(want.value).split(";")[0][:60]


@pytest.mark.parametrize(
    "args",
    [
        ((None, 224, 32, "channels_last", True), {}),
        ((None, 224, 32, "channels_last", False), {}),
        ((None, 224, 32, "channels_first", False), {}),
        (((64, 64, 1), 224, 32, "channels_last", False), {}),
        (((3, 64, 48), 224, 32, "channels_first", False), {}),
        (((224, 224, 3), 224, 32, "channels_last", True), {"weights": "imagenet"}),
        ((None, 299, 75, "channels_last", True), {"weights": "imagenet"}),
    ],
)
def test_obtain_input_shape_matches_keras(args, recwarn):
    from keras.src.applications import imagenet_utils as kiu

    from rill.keras.applications import imagenet_utils as riu

    pos, kw = args
    assert tuple(riu.obtain_input_shape(*pos, **kw)) == tuple(kiu.obtain_input_shape(*pos, **kw))


def test_input_tensor_and_pooling_match_keras():
    keras.backend.clear_session()
    rk.backend.clear_session()
    kin = keras.Input((48, 48, 3))
    rin = rk.Input((48, 48, 3))
    km = keras.applications.MobileNetV2(
        input_tensor=kin, include_top=False, pooling="max", weights=None, alpha=0.35
    )
    rm = rk.applications.MobileNetV2(
        input_tensor=rin, include_top=False, pooling="max", weights=None, alpha=0.35
    )
    assert rm.name == km.name
    assert tuple(rm.output.shape) == tuple(km.output.shape)
    assert rm.count_params() == km.count_params()


# the rest of the family: same builders, other sizes; built only (no forward pass)
STRUCTURE_ONLY = [
    ("resnet", "ResNet152"), ("resnet_v2", "ResNet101V2"), ("resnet_v2", "ResNet152V2"),
    *[("efficientnet", f"EfficientNetB{i}") for i in range(1, 8)],
    *[("efficientnet_v2", f"EfficientNetV2{s}") for s in ("B1", "B2", "B3", "M", "L")],
    ("densenet", "DenseNet169"), ("densenet", "DenseNet201"), ("nasnet", "NASNetLarge"),
    *[("convnext", f"ConvNeXt{s}") for s in ("Small", "Base", "Large", "XLarge")],
]  # fmt: skip


@heavy
@pytest.mark.parametrize("module,fn", STRUCTURE_ONLY, ids=[m[1] for m in STRUCTURE_ONLY])
def test_heavy_structure_matches_keras(module, fn):
    km, rm = _build_pair(module, fn, (32, 32, 3), {"include_top": False})
    assert rm.count_params() == km.count_params()
    assert class_table(rm) == class_table(km)
