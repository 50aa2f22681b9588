"""``keras.datasets.fashion_mnist``: 70,000 28x28 grayscale images of 10 kinds of clothing,
read from the four gzipped IDX files Keras caches in ``datasets/fashion-mnist``."""

from __future__ import annotations

import gzip
import os

import numpy as np

from rill.keras.datasets._storage import ORIGIN
from rill.keras.utils.file_utils import get_file

__all__ = ["load_data"]

_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)


def _idx(path: str, header: int) -> np.ndarray:
    with gzip.open(path, "rb") as f:  # IDX: a fixed header, then raw uint8 values
        return np.frombuffer(f.read(), np.uint8, offset=header)


def load_data():
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (60000/10000, 28, 28) and
    uint8 labels 0-9."""
    subdir = os.path.join("datasets", "fashion-mnist")
    paths = [get_file(name, origin=ORIGIN + name, cache_subdir=subdir) for name in _FILES]
    y_train, y_test = _idx(paths[0], 8), _idx(paths[2], 8)
    x_train = _idx(paths[1], 16).reshape(len(y_train), 28, 28)
    x_test = _idx(paths[3], 16).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)
