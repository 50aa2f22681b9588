"""``keras.applications.imagenet_utils``: the ImageNet input preprocessing modes and
``decode_predictions`` (class names from Keras' ``imagenet_class_index.json``)."""

from __future__ import annotations

import json

import numpy as np

from rill.keras.applications._common import (  # noqa: F401 - Keras keeps them here
    correct_pad,
    obtain_input_shape,
    validate_activation,
)
from rill.keras.config import floatx, image_data_format

# the Keras helpers it also holds (obtain_input_shape, correct_pad, validate_activation)
# are importable but not public API
__all__ = ["preprocess_input", "decode_predictions"]

CLASS_INDEX = None
CLASS_INDEX_PATH = (
    "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
)
_CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"

# ImageNet channel statistics: caffe subtracts BGR means on the 0..255 scale; torch
# normalises RGB on the 0..1 scale
_CAFFE_MEAN = (103.939, 116.779, 123.68)
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


def preprocess_input(x, data_format=None, mode="caffe"):
    """Preprocess a batch of images (values in [0, 255]) for an ImageNet model: mode
    ``"caffe"`` (RGB to BGR, minus the channel means), ``"tf"`` (scaled to [-1, 1]) or
    ``"torch"`` (scaled to [0, 1], then normalised per channel). NumPy float input is
    modified in place, as Keras does."""
    if mode not in {"caffe", "tf", "torch"}:
        raise ValueError(
            f"Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode={mode}"
        )
    if data_format is None:
        data_format = image_data_format()
    elif data_format not in {"channels_first", "channels_last"}:
        raise ValueError(
            "Expected data_format to be one of `channels_first` or `channels_last`. "
            f"Received: data_format={data_format}"
        )
    if isinstance(x, np.ndarray):
        return _preprocess_numpy(x, data_format, mode)
    return _preprocess_tensor(x, data_format, mode)


def _channel_shape(ndim: int, data_format: str) -> tuple:
    # the broadcast shape of a per-channel vector against a 3-D or 4-D image batch
    if data_format == "channels_first":
        return (3, 1, 1) if ndim == 3 else (1, 3) + (1,) * (ndim - 2)
    return (1,) * (ndim - 1) + (3,)


def _flip_channels(x, data_format: str):
    if data_format == "channels_first":
        return x[::-1, ...] if x.ndim == 3 else x[:, ::-1, ...]
    return x[..., ::-1]


def _preprocess_numpy(x: np.ndarray, data_format: str, mode: str) -> np.ndarray:
    if not issubclass(x.dtype.type, np.floating):
        x = x.astype(floatx(), copy=False)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    if mode == "torch":
        x /= 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        x = _flip_channels(x, data_format)  # a view: the subtraction still writes through
        mean, std = _CAFFE_MEAN, None
    shape = _channel_shape(x.ndim, data_format)
    x -= np.asarray(mean, x.dtype).reshape(shape)
    if std is not None:
        x /= np.asarray(std, x.dtype).reshape(shape)
    return x


def _preprocess_tensor(x, data_format: str, mode: str):
    from rill.keras import ops

    x = ops.convert_to_tensor(x)
    ndim = len(x.shape)
    if mode == "tf":
        return x / 127.5 - 1.0
    if mode == "torch":
        x = x / 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        axis = (
            0
            if (data_format == "channels_first" and ndim == 3)
            else (1 if data_format == "channels_first" else -1)
        )
        x = ops.flip(x, axis=axis)
        mean, std = _CAFFE_MEAN, None
    shape = _channel_shape(ndim, data_format)
    x = x + ops.convert_to_tensor(-np.asarray(mean).reshape(shape), dtype=x.dtype)
    if std is not None:
        x = x / ops.convert_to_tensor(np.asarray(std).reshape(shape), dtype=x.dtype)
    return x


def decode_predictions(preds, top=5):
    """Decode a batch of ImageNet predictions of shape (samples, 1000) into, per sample,
    the ``top`` ``(class_name, class_description, score)`` tuples, best first."""
    global CLASS_INDEX
    if len(preds.shape) != 2 or preds.shape[1] != 1000:
        raise ValueError(
            "`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape "
            f"(samples, 1000)). Received array with shape: {tuple(preds.shape)}"
        )
    if CLASS_INDEX is None:
        from rill.keras.utils.file_utils import get_file

        path = get_file(
            "imagenet_class_index.json",
            CLASS_INDEX_PATH,
            cache_subdir="models",
            file_hash=_CLASS_INDEX_HASH,
        )
        with open(path) as f:
            CLASS_INDEX = json.load(f)
    preds = np.asarray(preds)
    results = []
    for pred in preds:
        best = pred.argsort()[-top:][::-1]
        row = [tuple(CLASS_INDEX[str(i)]) + (pred[i],) for i in best]
        row.sort(key=lambda r: r[2], reverse=True)
        results.append(row)
    return results


def module_preprocess(mode: str | None):
    """A module's ``preprocess_input(x, data_format=None)`` for one ImageNet mode (None:
    the identity, for models that preprocess inside the network)."""

    def preprocess(x, data_format=None):
        """Preprocess a batch of images for this model family."""
        if mode is None:
            return x
        return preprocess_input(x, data_format=data_format, mode=mode)

    preprocess.__name__ = preprocess.__qualname__ = "preprocess_input"
    return preprocess


def module_decode():
    """A module's ``decode_predictions(preds, top=5)``."""

    def decode(preds, top=5):
        """Decode ImageNet predictions into (class_name, description, score) tuples."""
        return decode_predictions(preds, top=top)

    decode.__name__ = decode.__qualname__ = "decode_predictions"
    return decode
