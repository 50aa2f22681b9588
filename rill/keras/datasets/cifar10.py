"""``keras.datasets.cifar10``: 60,000 32x32 colour images in 10 classes."""

from __future__ import annotations

import os

import numpy as np

from rill.keras.datasets._cifar import finish, load_batch
from rill.keras.utils.file_utils import get_file

__all__ = ["load_data"]


def load_data():
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (50000/10000, 32, 32, 3) and
    uint8 labels (n, 1), from Keras' cached ``cifar-10-python.tar.gz``."""
    path = get_file(
        fname="cifar-10-batches-py-target",
        origin="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        extract=True,
        file_hash="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    )
    path = os.path.join(path, "cifar-10-batches-py")
    batches = [load_batch(os.path.join(path, f"data_batch_{i}")) for i in range(1, 6)]
    x_train = np.concatenate([b[0] for b in batches])
    y_train = np.concatenate([np.asarray(b[1]) for b in batches])
    x_test, y_test = load_batch(os.path.join(path, "test_batch"))
    return finish(x_train, y_train, x_test, y_test, "uint8")
