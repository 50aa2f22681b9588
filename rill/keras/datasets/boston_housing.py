"""``keras.datasets.boston_housing``: 506 Boston suburbs, 13 features, median home value."""

from __future__ import annotations

import numpy as np

from rill.keras.datasets._storage import ORIGIN, check_test_split, shuffle_split
from rill.keras.utils.file_utils import get_file

__all__ = ["load_data"]


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """``(x_train, y_train), (x_test, y_test)``: float64 features (n, 13) and targets,
    shuffled with ``seed``, the last ``test_split`` the test set."""
    check_test_split(test_split)
    path = get_file(
        path,
        origin=f"{ORIGIN}boston_housing.npz",
        file_hash="f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5",
    )
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    return shuffle_split(x, y, test_split, seed)
