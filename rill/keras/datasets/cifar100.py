"""``keras.datasets.cifar100``: 60,000 32x32 colour images in 100 classes (20 groups)."""

from __future__ import annotations

import os

from rill.keras.datasets._cifar import finish, load_batch
from rill.keras.utils.file_utils import get_file

__all__ = ["load_data"]


def load_data(label_mode="fine"):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (50000/10000, 32, 32, 3) and
    int64 labels (n, 1) (Keras keeps the pickled lists' type): the 100 ``"fine"`` classes or the 20 ``"coarse"`` ones."""
    if label_mode not in ("fine", "coarse"):
        raise ValueError(
            f'`label_mode` must be one of `"fine"`, `"coarse"`. Received: label_mode={label_mode}.'
        )
    path = get_file(
        fname="cifar-100-python-target",
        origin="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        extract=True,
        file_hash="85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
    )
    path = os.path.join(path, "cifar-100-python")
    x_train, y_train = load_batch(os.path.join(path, "train"), f"{label_mode}_labels")
    x_test, y_test = load_batch(os.path.join(path, "test"), f"{label_mode}_labels")
    return finish(x_train, y_train, x_test, y_test, "int64")
