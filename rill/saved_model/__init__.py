"""``tf.saved_model``: TensorFlow's SavedModel format, written and read by rill.

``save`` writes a directory TensorFlow 2.21 loads (``tf.saved_model.load``,
``saved_model_cli``); ``load`` reads SavedModels written by TensorFlow or rill and runs
their functions with rill's ops. Needs ``protobuf`` (``pip install "rill[proto]"``).
"""

from __future__ import annotations

import os as _os

from rill.saved_model import experimental
from rill.saved_model.constants import (
    ASSETS_DIRECTORY, ASSETS_KEY, CLASSIFY_INPUTS, CLASSIFY_METHOD_NAME, CLASSIFY_OUTPUT_CLASSES,
    CLASSIFY_OUTPUT_SCORES, DEBUG_DIRECTORY, DEBUG_INFO_FILENAME_PB,
    DEFAULT_SERVING_SIGNATURE_DEF_KEY, GPU, PREDICT_INPUTS, PREDICT_METHOD_NAME, PREDICT_OUTPUTS,
    REGRESS_INPUTS, REGRESS_METHOD_NAME, REGRESS_OUTPUTS, SAVED_MODEL_FILENAME_PB,
    SAVED_MODEL_FILENAME_PBTXT, SAVED_MODEL_SCHEMA_VERSION, SERVING, TPU, TRAINING,
    VARIABLES_DIRECTORY, VARIABLES_FILENAME,
)  # fmt: skip
from rill.saved_model.load import LoadOptions, load
from rill.saved_model.save import SaveOptions, save


def contains_saved_model(export_dir) -> bool:
    """Whether ``export_dir`` holds a SavedModel (``saved_model.pb`` or ``.pbtxt``)."""
    export_dir = _os.fspath(export_dir)
    return _os.path.isfile(_os.path.join(export_dir, SAVED_MODEL_FILENAME_PB)) or _os.path.isfile(
        _os.path.join(export_dir, SAVED_MODEL_FILENAME_PBTXT)
    )


class Asset:
    """A file a SavedModel carries in ``assets/`` (its path, as a string tensor)."""

    def __init__(self, path):
        self.asset_path = _os.fspath(path) if not hasattr(path, "numpy") else path
