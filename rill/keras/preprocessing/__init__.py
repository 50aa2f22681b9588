"""``keras.preprocessing``: Keras' legacy preprocessing API (``image``, ``sequence``,
``text``) and the dataset builders it re-exports from ``keras.utils``."""

from rill.keras.preprocessing import image, sequence, text
from rill.keras.utils.dataset_utils import timeseries_dataset_from_array
from rill.keras.utils.directory_datasets import (
    image_dataset_from_directory,
    text_dataset_from_directory,
)

__all__ = [
    "image",
    "image_dataset_from_directory",
    "sequence",
    "text",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
]
