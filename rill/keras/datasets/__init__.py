"""``keras.datasets``: the small classic datasets, read from (and cached in) the same
files and folder as Keras' own loaders (``~/.keras/datasets``)."""

from rill.keras.datasets import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)

__all__ = [
    "boston_housing",
    "california_housing",
    "cifar10",
    "cifar100",
    "fashion_mnist",
    "imdb",
    "mnist",
    "reuters",
]
