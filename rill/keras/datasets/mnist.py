"""``keras.datasets.mnist``: 70,000 28x28 grayscale handwritten digits."""

from __future__ import annotations

import numpy as np

from rill.keras.datasets._storage import ORIGIN
from rill.keras.utils.file_utils import get_file

__all__ = ["load_data"]


def load_data(path="mnist.npz"):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (60000/10000, 28, 28) and
    uint8 labels 0-9, from ``~/.keras/datasets/mnist.npz`` (downloaded once)."""
    path = get_file(
        fname=path,
        origin=f"{ORIGIN}mnist.npz",
        file_hash="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    )
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
