"""The ``.keras`` archive and the ``.weights.h5`` file, in Keras 3's layout.

A ``.keras`` file is a zip of ``metadata.json``, ``config.json`` (the model's
``serialize_keras_object``) and ``model.weights.h5``. In the h5 file every saveable (a
layer, a model, an optimizer) owns a group ``<path>/vars`` (attribute ``name``) holding its
own variables as datasets ``"0"``, ``"1"``, ... The paths come from walking the model:

- a Sequential or functional model's ``layers`` first, under ``layers/<key>``, where the key
  is the snake-cased class name made unique (``dense``, ``dense_1``): never the layer's
  name, which is not reproducible;
- then its attributes in sorted order, public before private: a saveable attribute ``enc``
  is saved at ``enc``, a list/tuple/dict of saveables ``blocks`` at ``blocks/<key>``
  (``optimizer`` is one such attribute: ``optimizer/vars/<i>``);
- every saveable is written once, where first reached.

h5py is an optional extra (``pip install 'rill[h5]'``), imported only here, when a weights
file is actually read or written. Writes are atomic: the file is written next to its
destination under a temporary name and moved into place with ``os.replace``.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import re
import tempfile
import warnings
import zipfile
from typing import Any

import numpy as np

from rill.keras.saving import serialization_lib

__all__ = ["load_model", "load_weights_only", "save_model", "save_weights_only"]

_CONFIG_FILENAME = "config.json"
_METADATA_FILENAME = "metadata.json"
_VARS_FILENAME = "model.weights.h5"
_MAX_ZIP_EXPANSION = 1000  # a member that inflates more than this is a decompression bomb


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError(
            "Reading or writing Keras weights (.keras, .weights.h5) needs h5py, an optional "
            "dependency of rill: pip install 'rill[h5]'"
        ) from None
    return h5py


# ------------------------------------------------------------------------------ walking
def _snake(name: str) -> str:
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


_skip_cache: set | None = None


def _skipped_attributes() -> set:
    """A plain layer's own attributes (and a model's bookkeeping): never children."""
    global _skip_cache
    if _skip_cache is None:
        from rill.keras.layer import Layer

        _skip_cache = set(vars(Layer(name="_skipset_probe"))) | {"_stack", "_fns", "history"}
    return _skip_cache


def _is_saveable(obj: Any) -> bool:
    from rill.keras.layer import Layer
    from rill.keras.optimizers import Optimizer

    return isinstance(obj, (Layer, Optimizer))


def _children(saveable: Any):
    """(attribute, child) pairs in Keras 3's visiting order."""
    from rill.keras.layer import Layer

    if not isinstance(saveable, Layer):
        return  # an optimizer's state is its own variables
    if _is_layer_container_model(saveable):
        yield "layers", list(saveable.layers)
    names = [k for k in vars(saveable) if not k.startswith("__") and k not in _skipped_attributes()]
    for name in sorted(names, key=lambda n: f"~{n}" if n.startswith("_") else n):
        yield name, vars(saveable)[name]


def _is_layer_container_model(obj: Any) -> bool:
    from rill.keras.models import Sequential

    # Sequential, or a functional model (whose `layers` include its InputLayers)
    return isinstance(obj, Sequential) or serialization_lib.is_functional(obj)


def _own_variables(saveable: Any) -> list:
    """A layer's own variables in Keras' order: trainable, then non-trainable."""
    tracked = saveable._tracked_variables()
    return [v for v in tracked if v.trainable] + [v for v in tracked if not v.trainable]


def _save_own(saveable: Any, store: dict) -> None:
    if hasattr(saveable, "save_own_variables"):
        saveable.save_own_variables(store)
        return
    for i, v in enumerate(_own_variables(saveable)):
        store[str(i)] = v.numpy()


def _load_own(saveable: Any, store: dict) -> None:
    if hasattr(saveable, "load_own_variables"):
        saveable.load_own_variables(store)
        return
    own = _own_variables(saveable)
    if len(store) != len(own):
        if not own and not getattr(saveable, "built", True):
            raise ValueError(
                f"Layer '{saveable.name}' was never built and thus it doesn't have any "
                f"variables. However the weights file lists {len(store)} variables for this "
                "layer. Build the layer (call it on data, or `build(input_shape)`) before "
                "loading its weights."
            )
        raise ValueError(
            f"Layer '{saveable.name}' expected {len(own)} variables, but received "
            f"{len(store)} variables during loading. Expected: {[v.name for v in own]}"
        )
    for i, v in enumerate(own):
        value = np.asarray(store[str(i)])
        if tuple(v.shape.as_list()) != value.shape:
            raise ValueError(
                f"Layer '{saveable.name}': variable {v.name!r} has shape "
                f"{tuple(v.shape.as_list())}, but the saved value has shape {value.shape}."
            )
        v.assign(value.astype(v.dtype.as_numpy_dtype))


def _walk(saveable, path, visit, visited, where=None):
    """Depth-first over saveables; ``visit(saveable, path)`` once per saveable."""
    if id(saveable) in visited:
        return
    visited.add(id(saveable))
    visit(saveable, path)
    for attr, child in _children(saveable):
        child_path = f"{path}/{attr}" if path else attr
        if _is_saveable(child):
            _walk(child, child_path, visit, visited)
        elif isinstance(child, (list, tuple, dict)):
            _walk_container(child, child_path, visit, visited, set())


def _walk_container(container, path, visit, visited, seen_containers):
    if id(container) in seen_containers:
        return
    seen_containers.add(id(container))
    used: dict[str, int] = {}
    items = container.values() if isinstance(container, dict) else container
    for item in items:
        if _is_saveable(item):
            key = _unique(_snake(type(item).__name__), used)
            _walk(item, f"{path}/{key}", visit, visited)
        elif isinstance(item, (list, tuple, dict)):
            key = _unique("container", used)
            _walk_container(item, f"{path}/{key}", visit, visited, seen_containers)


def _unique(name: str, used: dict) -> str:
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


# ------------------------------------------------------------------------- h5 weights
def _write_weights(model: Any, target) -> None:
    """Write ``model``'s state into the h5 file ``target`` (a path or a file object)."""
    h5py = _h5py()
    with h5py.File(target, "w") as f:

        def visit(saveable, path):
            group = f.create_group(f"{path}/vars" if path else "vars")
            name = getattr(saveable, "name", None)
            if isinstance(name, str):
                group.attrs["name"] = name
            store: dict = {}
            _save_own(saveable, store)
            for key, value in store.items():
                group[key] = np.asarray(value)

        _walk(model, "", visit, set())


def _safe_group(h5py, parent, path: str):
    """The group at ``path``, refusing links out of the file; ``None`` if absent."""
    node = parent
    for part in path.split("/"):
        if part not in node:
            return None
        link = node.get(part, getlink=True)
        if not isinstance(link, h5py.HardLink):
            raise ValueError(f"Not allowed: H5 file with a {type(link).__name__} at {path!r}")
        node = node[part]
        if not isinstance(node, h5py.Group):
            raise ValueError(f"Invalid H5 file: {path!r} is not a group.")
    return node


def _read_group(h5py, group) -> dict:
    out = {}
    if group is None:
        return out
    for key in group:
        link = group.get(key, getlink=True)
        if not isinstance(link, h5py.HardLink):
            raise ValueError(f"Not allowed: H5 file with a {type(link).__name__} ({key!r})")
        ds = group[key]
        if not isinstance(ds, h5py.Dataset) or ds.external or ds.is_virtual:
            raise ValueError(f"Invalid H5 file: {key!r} is not a plain dataset.")
        out[key] = ds[()]
    return out


def _read_weights(model: Any, source, skip_mismatch: bool = False) -> None:
    h5py = _h5py()
    failures: list[tuple[Any, Exception]] = []
    with h5py.File(source, "r") as f:

        def visit(saveable, path):
            group = _safe_group(h5py, f, f"{path}/vars" if path else "vars")
            store = _read_group(h5py, group)
            try:
                _load_own(saveable, store)
            except Exception as e:  # collected: every mismatch is reported together
                failures.append((saveable, e))

        _walk(model, "", visit, set())
    if failures:
        saveable, error = failures[0]
        msg = (
            f"A total of {len(failures)} objects could not be loaded. Example error message "
            f"for object {saveable!r}:\n\n{error}\n\nList of objects that could not be "
            f"loaded:\n{[s for s, _ in failures]}"
        )
        if skip_mismatch:
            warnings.warn(msg, stacklevel=3)
        else:
            raise ValueError(msg)


# --------------------------------------------------------------------- atomic writes
def _atomic_write(filepath: str, write) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``filepath``, then move it into
    place: a crash or an error never leaves a torn or half-written file behind."""
    directory = os.path.dirname(os.path.abspath(filepath))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


# ---------------------------------------------------------------------------- .keras
def _metadata() -> str:
    from rill import __rill_version__

    return json.dumps(
        {
            # Keras reads the producer's version under this key; it is rill's version
            "keras_version": __rill_version__,
            "producer": "rill",
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        }
    )


def save_model(model: Any, filepath: str) -> None:
    """Write ``model`` as a ``.keras`` archive at ``filepath`` (atomically)."""
    if not model.built:
        warnings.warn(
            "You are saving a model that has not yet been built. It might not contain any "
            "weights yet. Consider building the model first by calling it on some data.",
            stacklevel=3,
        )
    config_json = json.dumps(serialization_lib.serialize_keras_object(model))
    weights = io.BytesIO()
    _write_weights(model, weights)

    assets = _collect_assets(model)

    def write(path):
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr(_METADATA_FILENAME, _metadata())
            zf.writestr(_CONFIG_FILENAME, config_json)
            zf.writestr(_VARS_FILENAME, weights.getvalue())
            for name, data in assets:
                zf.writestr(name, data)

    _atomic_write(filepath, write)


def _read_member(zf: zipfile.ZipFile, name: str) -> bytes:
    info = zf.getinfo(name)
    if info.file_size > (1 << 30) and info.file_size > _MAX_ZIP_EXPANSION * max(
        info.compress_size, 1
    ):
        raise ValueError(f"Not allowed: zip member {name!r} looks like a decompression bomb.")
    return zf.read(name)


def load_model(
    filepath: str, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True
) -> Any:
    """Rebuild the model in a ``.keras`` archive, then restore its weights (and optimizer
    state when ``compile``)."""
    with zipfile.ZipFile(filepath, "r") as zf:
        config = json.loads(_read_member(zf, _CONFIG_FILENAME))
        names = zf.namelist()
        if _VARS_FILENAME not in names:
            raise ValueError(f"Expected a {_VARS_FILENAME} file in {filepath}.")
        weights = io.BytesIO(_read_member(zf, _VARS_FILENAME))
        assets = {
            n: _read_member(zf, n)
            for n in names
            if n.startswith(_ASSETS_DIR + "/") and not n.endswith("/")
        }
    if not compile:
        config["compile_config"] = None
    model = serialization_lib.deserialize_keras_object(
        config, custom_objects=custom_objects, safe_mode=safe_mode
    )
    _read_weights(model, weights)
    if assets:
        _restore_assets(model, assets)
    return model


# ------------------------------------------------------------------- assets (vocabularies)
_ASSETS_DIR = "assets"


def _collect_assets(model) -> list:
    """``(zip member name, bytes)`` of every file the model's layers write with
    ``save_assets(dir)`` (lookup vocabularies...), under ``assets/<the layer's path>/``
    as Keras 3 lays them out."""
    out = []

    def visit(saveable, path):
        if not callable(getattr(saveable, "save_assets", None)):
            return
        with tempfile.TemporaryDirectory() as tmp:
            saveable.save_assets(tmp)
            for root, _, files in os.walk(tmp):
                for f in sorted(files):
                    full = os.path.join(root, f)
                    rel = os.path.relpath(full, tmp).replace(os.sep, "/")
                    prefix = f"{_ASSETS_DIR}/{path}" if path else _ASSETS_DIR
                    with open(full, "rb") as fh:
                        out.append((f"{prefix}/{rel}", fh.read()))

    _walk(model, "", visit, set())
    return out


def _restore_assets(model, assets: dict) -> None:
    """Give each layer with ``load_assets(dir)`` a directory holding its saved files."""

    def visit(saveable, path):
        if not callable(getattr(saveable, "load_assets", None)):
            return
        prefix = (f"{_ASSETS_DIR}/{path}" if path else _ASSETS_DIR) + "/"
        mine = {n[len(prefix) :]: d for n, d in assets.items() if n.startswith(prefix)}
        # only this layer's own files, not those of layers nested below it
        mine = {rel: d for rel, d in mine.items() if "/" not in rel}
        if not mine:
            return
        with tempfile.TemporaryDirectory() as tmp:
            for rel, data in mine.items():
                with open(os.path.join(tmp, rel), "wb") as fh:
                    fh.write(data)
            saveable.load_assets(tmp)

    _walk(model, "", visit, set())


def save_weights_only(model: Any, filepath: str) -> None:
    """Write ``model``'s weights (and optimizer state) to a ``.weights.h5`` file."""
    if not model.built:
        raise ValueError(
            "You are saving a model that has not yet been built. Try building the model "
            "first by calling it on some data or by using `build()`."
        )
    _atomic_write(filepath, lambda path: _write_weights(model, path))


def load_weights_only(model: Any, filepath: str, skip_mismatch: bool = False) -> None:
    """Load weights from a ``.weights.h5`` file or a ``.keras`` archive into ``model``."""
    if not model.built:
        raise ValueError(
            "You are loading weights into a model that has not yet been built. Try "
            "building the model first by calling it on some data or by using `build()`."
        )
    if str(filepath).endswith(".keras"):
        with zipfile.ZipFile(filepath, "r") as zf:
            source = io.BytesIO(_read_member(zf, _VARS_FILENAME))
    else:
        source = filepath
    _read_weights(model, source, skip_mismatch=skip_mismatch)
