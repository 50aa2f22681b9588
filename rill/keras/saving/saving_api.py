"""``keras.saving.save_model`` / ``load_model`` / ``save_weights`` / ``load_weights``: the
path checks and errors of Keras 3, over ``saving_lib``."""

from __future__ import annotations

import os
import zipfile
from typing import Any

from rill.keras.saving import saving_lib

__all__ = ["load_model", "load_weights", "save_model", "save_weights"]


def _refuse_overwrite(filepath: str, overwrite: bool) -> None:
    # Keras asks on the terminal; a library must not block on input, so rill raises.
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(
            f"File {filepath!r} already exists and overwrite=False. Pass overwrite=True to "
            "replace it."
        )


def save_model(
    model: Any, filepath: str, overwrite: bool = True, zipped: bool | None = None, **kwargs: Any
) -> None:
    """Save ``model`` (architecture, weights, compile state and optimizer variables) as a
    Keras 3 ``.keras`` zip archive. The write is atomic; with ``overwrite=False`` an
    existing file raises ``FileExistsError`` (Keras would prompt on the terminal)."""
    kwargs.pop("include_optimizer", None)
    save_format = kwargs.pop("save_format", None)
    if save_format:
        raise ValueError(
            "The `save_format` argument is deprecated in Keras 3. Please remove this argument "
            "and pass a file path with a `.keras` extension. "
            f"Received: save_format={save_format}"
        )
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {list(kwargs)}")
    filepath = os.fspath(filepath)
    if zipped is False:
        raise ValueError(
            "zipped=False (saving an unzipped model directory) is not supported by rill; "
            "save a `.keras` file."
        )
    if filepath.endswith((".h5", ".hdf5")):
        raise ValueError(
            "Saving a model in the legacy HDF5 format (`.h5`) is not supported by rill. Use "
            f"the native Keras format, e.g. `model.save('my_model.keras')`. Received: "
            f"filepath={filepath}."
        )
    if not filepath.endswith(".keras"):
        raise ValueError(
            "Invalid filepath extension for saving. Please add either a `.keras` extension "
            "for the native Keras format (recommended) or a `.h5` extension. Use "
            "`model.export(filepath)` if you want to export a SavedModel for use with "
            f"TFLite/TFServing/etc. Received: filepath={filepath}."
        )
    _refuse_overwrite(filepath, overwrite)
    saving_lib.save_model(model, filepath)


def load_model(
    filepath: str,
    custom_objects: dict | None = None,
    compile: bool = True,
    safe_mode: bool = True,
) -> Any:
    """Load a model saved as ``.keras`` (by rill or Keras 3). Classes named in the file
    resolve only through ``custom_objects``, registered objects and rill's built-ins;
    ``safe_mode=True`` refuses lambdas (bytecode)."""
    filepath = os.fspath(filepath)
    if filepath.endswith(".keras"):
        if not os.path.exists(filepath) or not zipfile.is_zipfile(filepath):
            raise ValueError(
                f"File not found: filepath={filepath}. Please ensure the file is an "
                "accessible `.keras` zip file."
            )
        return saving_lib.load_model(
            filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode
        )
    if filepath.endswith((".h5", ".hdf5")):
        raise ValueError(
            f"Loading legacy HDF5 model files (`.h5`) is not supported by rill: {filepath}. "
            "Re-save the model in the `.keras` format."
        )
    raise ValueError(
        f"File format not supported: filepath={filepath}. Keras 3 only supports V3 `.keras` "
        "files and legacy H5 format files (`.h5` extension). Note that the legacy "
        "SavedModel format is not supported by `load_model()` in Keras 3."
    )


def save_weights(model: Any, filepath: str, overwrite: bool = True, **kwargs: Any) -> None:
    """Save the weights (and optimizer state) of ``model`` to a ``.weights.h5`` file, in
    Keras 3's layout. Atomic; ``overwrite=False`` on an existing file raises
    ``FileExistsError``."""
    if kwargs.get("max_shard_size") is not None:
        raise ValueError("Sharded weights (`max_shard_size`) are not supported by rill.")
    filepath = os.fspath(filepath)
    if not filepath.endswith(".weights.h5"):
        raise ValueError(f"The filename must end in `.weights.h5`. Received: filepath={filepath}")
    _refuse_overwrite(filepath, overwrite)
    saving_lib.save_weights_only(model, filepath)


def load_weights(model: Any, filepath: str, skip_mismatch: bool = False, **kwargs: Any) -> None:
    """Load weights from a ``.weights.h5`` file or a ``.keras`` archive into ``model``
    (which must be built). With ``skip_mismatch``, mismatched objects warn instead of
    raising."""
    kwargs.pop("objects_to_skip", None)
    if kwargs.pop("by_name", None) is not None:
        raise ValueError(
            f"`by_name` only supports loading legacy '.h5' or '.hdf5' files. Received: {filepath}"
        )
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    filepath = os.fspath(filepath)
    if filepath.endswith((".keras", ".weights.h5")):
        saving_lib.load_weights_only(model, filepath, skip_mismatch=skip_mismatch)
        return
    raise ValueError(
        f"File format not supported: filepath={filepath}. rill supports `.weights.h5` and "
        "`.keras` files."
    )
