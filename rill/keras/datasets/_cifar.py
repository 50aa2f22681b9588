"""Reading the CIFAR pickled batches (Python 2 pickles of a dict of arrays and lists)."""

from __future__ import annotations

import numpy as np

from rill.keras import config
from rill.keras.datasets._storage import ArrayUnpickler


def load_batch(fpath: str, label_key: str = "labels"):
    """``(data (n, 3, 32, 32) uint8, labels list)`` from one batch file."""
    with open(fpath, "rb") as f:
        d = ArrayUnpickler(f, encoding="bytes").load()
    d = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in d.items()}
    data = np.asarray(d["data"])
    return data.reshape(data.shape[0], 3, 32, 32), d[label_key]


def finish(x_train, y_train, x_test, y_test, label_dtype):
    """Labels as (n, 1) columns of ``label_dtype``, images channels-last unless Keras' image
    format is channels_first."""
    y_train = np.asarray(y_train, label_dtype).reshape(-1, 1)
    y_test = np.asarray(y_test, label_dtype).reshape(-1, 1)
    x_train, x_test = np.asarray(x_train, "uint8"), np.asarray(x_test, "uint8")
    if config.image_data_format() == "channels_last":
        x_train, x_test = x_train.transpose(0, 2, 3, 1), x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)
