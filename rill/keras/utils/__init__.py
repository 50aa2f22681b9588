"""``keras.utils``: data loading (datasets from folders and arrays, ``PyDataset``,
``get_file``), image files, progress bars, seeds, and the serialization helpers (the same
objects as ``keras.saving``)."""

from rill.keras.backend import clear_session
from rill.keras.ops._dtypes import standardize_dtype
from rill.keras.saving import (
    CustomObjectScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)
from rill.keras.utils import bounding_boxes, legacy
from rill.keras.utils.config import Config
from rill.keras.utils.data_packing import pack_x_y_sample_weight, unpack_x_y_sample_weight
from rill.keras.utils.dataset_utils import split_dataset, timeseries_dataset_from_array
from rill.keras.utils.directory_datasets import (
    audio_dataset_from_directory,
    image_dataset_from_directory,
    text_dataset_from_directory,
)
from rill.keras.utils.feature_space import FeatureSpace
from rill.keras.utils.file_utils import get_file
from rill.keras.utils.graph_utils import get_source_inputs, is_keras_tensor
from rill.keras.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from rill.keras.utils.io import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from rill.keras.utils.model_visualization import model_to_dot, plot_model
from rill.keras.utils.numerical import normalize, to_categorical
from rill.keras.utils.progbar import Progbar
from rill.keras.utils.py_dataset import PyDataset, Sequence
from rill.keras.utils.rng import set_random_seed
from rill.keras.utils.sequence_padding import pad_sequences

__all__ = [
    "Config", "CustomObjectScope", "FeatureSpace", "Progbar", "PyDataset", "Sequence",
    "array_to_img", "audio_dataset_from_directory", "bounding_boxes", "clear_session",
    "custom_object_scope", "deserialize_keras_object", "disable_interactive_logging",
    "enable_interactive_logging", "get_custom_objects", "get_file", "get_registered_name",
    "get_registered_object", "get_source_inputs", "image_dataset_from_directory",
    "img_to_array", "is_interactive_logging_enabled", "is_keras_tensor", "legacy", "load_img",
    "model_to_dot", "normalize", "pack_x_y_sample_weight", "pad_sequences", "plot_model",
    "register_keras_serializable", "save_img", "serialize_keras_object", "set_random_seed",
    "split_dataset", "standardize_dtype", "text_dataset_from_directory",
    "timeseries_dataset_from_array", "to_categorical", "unpack_x_y_sample_weight",
]  # fmt: skip
