"""``keras.datasets.california_housing``: 20,640 California districts (1990 census), 8
features, median house value."""

from __future__ import annotations

import numpy as np

from rill.keras.datasets._storage import ORIGIN, check_test_split, shuffle_split
from rill.keras.utils.file_utils import get_file

__all__ = ["load_data"]


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """``(x_train, y_train), (x_test, y_test)``: float features (n, 8) and targets, all
    20,640 rows (``"large"``) or the first 600 (``"small"``), shuffled with ``seed``."""
    check_test_split(test_split)
    path = get_file(
        path,
        origin=f"{ORIGIN}california_housing.npz",
        file_hash="1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f",
    )
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    elif version != "large":
        raise ValueError(
            f"Argument `version` must be one of 'small', 'large'. Received: version={version}"
        )
    return shuffle_split(x, y, test_split, seed)
