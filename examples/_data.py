"""The breast cancer data (examples/data), standardised and split, for the Keras examples."""

from pathlib import Path

import numpy as np


def breast_cancer(seed=42):
    data = np.loadtxt(
        Path(__file__).parent / "data" / "breast_cancer.csv",
        delimiter=",",
        skiprows=1,
        dtype=np.float32,
    )
    x, y = data[:, :-1], data[:, -1:]
    order = np.random.default_rng(seed).permutation(len(x))
    test, train = order[: len(x) // 5], order[len(x) // 5 :]
    mean, std = x[train].mean(0), x[train].std(0)
    x = (x - mean) / std
    return (x[train], y[train]), (x[test], y[test])


def digits(seed=0):
    """UCI handwritten digits (8x8 images, 10 classes): pixels scaled to [0, 1], split 80/20."""
    data = np.loadtxt(
        Path(__file__).parent / "data" / "digits.csv.gz", delimiter=",", dtype=np.float32
    )
    x, y = data[:, :-1] / 16.0, data[:, -1].astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    test, train = order[: len(x) // 5], order[len(x) // 5 :]
    return (x[train], y[train]), (x[test], y[test])
