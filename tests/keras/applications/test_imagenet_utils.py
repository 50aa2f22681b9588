"""``preprocess_input`` (each mode against its formula, NumPy and tensor input, both data
formats, in-place on NumPy floats as Keras) and ``decode_predictions`` reading the class
index through ``get_file`` from a cache folder."""

import hashlib
import json

import numpy as np
import pytest

import rill as tf
from rill.keras import applications as apps
from rill.keras.applications import imagenet_utils

RGB = np.random.default_rng(0).uniform(0, 255, (2, 4, 5, 3)).astype("float32")
CAFFE_MEAN = np.array([103.939, 116.779, 123.68], "float32")  # BGR means, 0..255 scale
TORCH_MEAN = np.array([0.485, 0.456, 0.406], "float32")
TORCH_STD = np.array([0.229, 0.224, 0.225], "float32")


def expected(x, mode):
    """The mode's formula, channels last."""
    if mode == "tf":
        return x / 127.5 - 1.0
    if mode == "torch":
        return (x / 255.0 - TORCH_MEAN) / TORCH_STD
    return x[..., ::-1] - CAFFE_MEAN


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_numpy_input_matches_formula(mode):
    got = imagenet_utils.preprocess_input(RGB.copy(), mode=mode)
    np.testing.assert_allclose(got, expected(RGB, mode), rtol=1e-5, atol=1e-4)
    assert got.dtype == np.float32


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_tensor_input_matches_formula(mode):
    got = imagenet_utils.preprocess_input(tf.constant(RGB), mode=mode)
    assert isinstance(got, tf.Tensor) and got.dtype == tf.float32
    np.testing.assert_allclose(got.numpy(), expected(RGB, mode), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("mode", ["caffe", "torch"])
@pytest.mark.parametrize("tensor", [False, True])
def test_channels_first_moves_the_channel_axis(mode, tensor):
    x = np.moveaxis(RGB, -1, 1).copy()
    x = tf.constant(x) if tensor else x
    got = imagenet_utils.preprocess_input(x, data_format="channels_first", mode=mode)
    got = got.numpy() if tensor else got
    np.testing.assert_allclose(np.moveaxis(got, 1, -1), expected(RGB, mode), atol=1e-4)
    # a single image (3-D) too
    one = np.moveaxis(RGB[0], -1, 0).copy()
    got1 = imagenet_utils.preprocess_input(one, data_format="channels_first", mode=mode)
    np.testing.assert_allclose(np.moveaxis(got1, 0, -1), expected(RGB[:1], mode)[0], atol=1e-4)


def test_float_numpy_is_modified_in_place_and_ints_are_cast():
    x = RGB.copy()
    out = imagenet_utils.preprocess_input(x, mode="tf")
    assert out is x
    ints = np.full((1, 2, 2, 3), 255, "uint8")
    out = imagenet_utils.preprocess_input(ints, mode="tf")
    assert out.dtype == np.float32 and np.all(out == 1.0) and ints[0, 0, 0, 0] == 255


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        imagenet_utils.preprocess_input(RGB.copy(), mode="keras")
    with pytest.raises(ValueError, match="data_format"):
        imagenet_utils.preprocess_input(RGB.copy(), data_format="channels_middle")


@pytest.mark.parametrize(
    "module,mode",
    [("resnet", "caffe"), ("resnet50", "caffe"), ("vgg16", "caffe"), ("vgg19", "caffe"),
     ("resnet_v2", "tf"), ("mobilenet", "tf"), ("mobilenet_v2", "tf"), ("xception", "tf"),
     ("inception_v3", "tf"), ("inception_resnet_v2", "tf"), ("nasnet", "tf"),
     ("densenet", "torch"), ("mobilenet_v3", None), ("efficientnet", None),
     ("efficientnet_v2", None), ("convnext", None)],
)  # fmt: skip
def test_each_module_uses_its_models_mode(module, mode):
    fn = getattr(apps, module).preprocess_input
    got = fn(RGB.copy())
    want = RGB if mode is None else expected(RGB, mode)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_matches_keras(mode, data_format):
    pytest.importorskip("tensorflow")
    from keras.src.applications import imagenet_utils as kiu

    x = RGB if data_format == "channels_last" else np.moveaxis(RGB, -1, 1)
    want = kiu.preprocess_input(x.copy(), data_format=data_format, mode=mode)
    got = imagenet_utils.preprocess_input(x.copy(), data_format=data_format, mode=mode)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-5)


@pytest.fixture
def class_index(tmp_path, monkeypatch):
    """A small class index in a Keras cache folder, with its hash in place of the real
    file's (so get_file accepts it without downloading)."""
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    data = json.dumps(index).encode()
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "imagenet_class_index.json").write_bytes(data)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(imagenet_utils, "_CLASS_INDEX_HASH", hashlib.md5(data).hexdigest())
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    return index


def test_decode_predictions_reads_the_cached_index(class_index):
    preds = np.random.default_rng(1).random((2, 1000)).astype("float32")
    out = apps.resnet50.decode_predictions(preds, top=3)
    for row, p in zip(out, preds):
        best = np.argsort(p)[::-1][:3]
        assert [r[:2] for r in row] == [tuple(class_index[str(i)]) for i in best]
        assert [r[2] for r in row] == [p[i] for i in best]
    assert imagenet_utils.CLASS_INDEX == class_index  # cached for the next call


def test_decode_predictions_rejects_other_shapes(class_index):
    with pytest.raises(ValueError, match=r"\(samples, 1000\)"):
        imagenet_utils.decode_predictions(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="1000"):
        imagenet_utils.decode_predictions(np.zeros((1000,)))


def test_correct_pad_matches_same_padding_windows():
    # odd size: symmetric (k//2 each side); even: one less before, as TF's 'same' pads
    odd = tf.keras.Input((7, 7, 3))
    even = tf.keras.Input((8, 8, 3))
    assert imagenet_utils.correct_pad(odd, 3) == ((1, 1), (1, 1))
    assert imagenet_utils.correct_pad(even, 3) == ((0, 1), (0, 1))
    assert imagenet_utils.correct_pad(even, (5, 5)) == ((1, 2), (1, 2))
    unknown = tf.keras.Input((None, None, 3))
    assert imagenet_utils.correct_pad(unknown, 3) == ((0, 1), (0, 1))
