"""Application models without TensorFlow: every constructor has TF 2.21's signature, is
reachable from ``tf.keras.applications`` and its module, and builds heads and pooling of
the right shapes; argument errors are the documented ValueErrors."""

import inspect
import json
from pathlib import Path

import numpy as np
import pytest

import rill as tf
from rill.keras import applications as apps

API = json.loads((Path(__file__).parents[3] / "tools/api/tf-2.21.json").read_text())
SPACES = API["namespaces"]
TOP = {k: v for k, v in SPACES["keras.applications"].items() if v[0] == "function"}


def _params(fn):
    return [p.name for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", sorted(TOP))
def test_constructor_signature_matches_tf(name):
    fn = getattr(tf.keras.applications, name)
    assert _params(fn) == TOP[name][1]
    assert fn.__doc__


@pytest.mark.parametrize("space", sorted(k for k in SPACES if k.startswith("keras.applications.")))
def test_module_names_resolve(space):
    module = getattr(tf.keras.applications, space.split(".")[-1])
    for name, (_kind, params) in SPACES[space].items():
        obj = getattr(module, name)
        assert _params(obj) == params, f"{space}.{name}"
        if name in TOP:
            assert obj is getattr(tf.keras.applications, name)


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"include_top": True, "classes": 7}, (2, 7)),
        ({"include_top": False}, (2, 1, 1, 256)),
        ({"include_top": False, "pooling": "avg"}, (2, 256)),
        ({"include_top": False, "pooling": "max"}, (2, 256)),
    ],
)
def test_heads_and_pooling_shapes(kwargs, shape):
    # a narrow MobileNet: alpha 0.25 of the last block's 1024 channels = 256
    m = apps.MobileNet(input_shape=(32, 32, 3), alpha=0.25, weights=None, **kwargs)
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    y = m(x, training=False)
    assert tuple(y.shape) == shape
    if kwargs.get("include_top"):
        np.testing.assert_allclose(np.sum(y.numpy(), axis=-1), 1.0, rtol=1e-5)  # softmax


def test_pooling_max_is_the_spatial_max_of_the_unpooled_output():
    base = apps.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False, weights=None)
    pooled = apps.MobileNetV2(
        input_shape=(32, 32, 3), alpha=0.35, include_top=False, weights=None, pooling="max"
    )
    pooled.set_weights(base.get_weights())
    x = np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    feats = base(x, training=False).numpy()
    np.testing.assert_allclose(pooled(x, training=False).numpy(), feats.max(axis=(1, 2)),
                               rtol=1e-6)  # fmt: skip


def test_input_tensor_is_used_as_the_model_input():
    inp = tf.keras.Input((40, 40, 3))
    m = apps.ResNet50V2(input_tensor=inp, include_top=False, weights=None, pooling="avg")
    assert m.inputs[0] is inp and tuple(m.output.shape) == (None, 2048)


@pytest.mark.parametrize(
    "ctor,kwargs,match",
    [
        (apps.VGG16, {"weights": "nowhere"}, "`weights` argument"),
        (apps.VGG16, {"weights": "imagenet", "classes": 3}, "classes"),
        (apps.Xception, {"input_shape": (70, 70, 3), "include_top": False, "weights": None},
         "at least 71x71"),
        (apps.InceptionV3, {"include_top": True, "input_shape": (None, None, 3), "weights": None},
         "static `input_shape`"),
        (apps.MobileNet, {"weights": "imagenet", "alpha": 0.3}, "alpha"),
        (apps.MobileNet, {"weights": "imagenet", "depth_multiplier": 2}, "depth multiplier"),
        (apps.MobileNetV3Small, {"input_shape": (16, 16, 3), "weights": None}, "32x32"),
        (apps.ConvNeXtTiny, {"weights": "imagenet", "name": "mine"}, "does not match"),
    ],
)  # fmt: skip
def test_argument_errors(ctor, kwargs, match, monkeypatch):
    from rill.keras.utils import file_utils

    monkeypatch.setattr(file_utils, "get_file", lambda *a, **k: pytest.fail("download"))
    with pytest.raises(ValueError, match=match):
        ctor(**kwargs)


@pytest.mark.parametrize("ctor", [apps.DenseNet121, apps.NASNetMobile, apps.ConvNeXtTiny])
def test_channels_last_only_models_refuse_channels_first(ctor):
    old = tf.keras.config.image_data_format()
    tf.keras.config.set_image_data_format("channels_first")
    try:
        with pytest.raises(ValueError, match="channels_first"):
            ctor(weights=None)
    finally:
        tf.keras.config.set_image_data_format(old)


def test_missing_weight_file_path_is_refused(tmp_path):
    with pytest.raises(ValueError, match="path to the weights file"):
        apps.ResNet50(weights=str(tmp_path / "absent.h5"))


def test_legacy_h5_layer_count_mismatch(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "w.h5"
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [b"only"]
        g = f.create_group("only")
        g.attrs["weight_names"] = [b"only/kernel:0"]
        g.create_dataset("only/kernel:0", data=np.zeros((1,)))
    with pytest.raises(ValueError, match="Layer count mismatch"):
        apps.MobileNet(input_shape=(32, 32, 3), alpha=0.25, weights=str(path))
