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
destination under a temporary name (owned by the writer's pid), fsynced and moved into place
with ``os.replace``; the next save removes temporaries of killed writers.

Reading trusts nothing in the file: every dataset's declared shape and dtype is checked
against the variable it fills, and its declared size against the bytes the file holds,
before anything is allocated; a damaged archive or h5 file raises ``ValueError`` (bad
layout, as Keras) or ``DataLossError`` (corrupt bytes), naming the file.
"""

from __future__ import annotations

import datetime
import io
import json
import math
import os
import re
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from rill.core.errors import DataLossError, NotFoundError
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
    declared = getattr(store, "declared", None)
    for i, v in enumerate(own):
        expected = tuple(v.shape.as_list())
        if declared is not None:
            # check what the file declares before reading it: a small crafted file must
            # not make the reader allocate what it claims
            shape, dtype = declared(str(i))
            _check_declared(saveable, v, expected, shape, dtype)
        value = np.asarray(store[str(i)])
        if expected != value.shape:
            raise ValueError(
                f"Layer '{saveable.name}': variable {v.name!r} has shape "
                f"{expected}, but the saved value has shape {value.shape}."
            )
        v.assign(value.astype(v.dtype.as_numpy_dtype))


def _check_declared(saveable, variable, expected: tuple, shape: tuple, dtype) -> None:
    if shape != expected:
        raise ValueError(
            f"Layer '{saveable.name}': variable {variable.name!r} has shape {expected}, but "
            f"the weights file declares shape {shape} for it."
        )
    target = np.dtype(variable.dtype.as_numpy_dtype)
    if dtype.kind not in "biufc":  # numbers only: strings and compounds never cast silently
        raise ValueError(
            f"Layer '{saveable.name}': variable {variable.name!r} has dtype {target.name}, "
            f"but the weights file declares dtype {dtype} for it."
        )


def _walk(saveable, path, visit, visited, where=None):
    """Depth-first over saveables; ``visit(saveable, path)`` once per saveable, where first
    reached. Iterative (a stack of generators): any depth of nesting is walked."""
    stack = [iter([(saveable, path, None)])]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        obj, obj_path, seen_containers = entry
        if seen_containers is not None:  # a list/tuple/dict of saveables
            if id(obj) not in seen_containers:
                seen_containers.add(id(obj))
                stack.append(_container_entries(obj, obj_path, seen_containers))
            continue
        if id(obj) in visited:
            continue
        visited.add(id(obj))
        visit(obj, obj_path)
        stack.append(_saveable_entries(obj, obj_path))


def _saveable_entries(saveable, path):
    """The saveables and containers below ``saveable``, as ``_walk``'s stack entries."""
    for attr, child in _children(saveable):
        child_path = f"{path}/{attr}" if path else attr
        if _is_saveable(child):
            yield child, child_path, None
        elif isinstance(child, (list, tuple, dict)):
            yield child, child_path, set()


def _container_entries(container, path, seen_containers):
    used: dict[str, int] = {}
    items = container.values() if isinstance(container, dict) else container
    for item in items:
        if _is_saveable(item):
            yield item, f"{path}/{_unique(_snake(type(item).__name__), used)}", None
        elif isinstance(item, (list, tuple, dict)):
            yield item, f"{path}/{_unique('container', used)}", seen_containers


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


class _H5Store(Mapping):
    """One ``vars`` group of a weights file, read lazily: a dataset is read only when
    asked for, after its declared size is checked against the bytes the file really
    holds (``declared`` gives shape and dtype without reading)."""

    def __init__(self, h5py, group, path: str, file_size: int, filename: str):
        self._h5py, self._path, self._file_size, self._filename = h5py, path, file_size, filename
        self._datasets: dict = {}
        if group is None:
            return
        for key in group:
            link = group.get(key, getlink=True)
            if not isinstance(link, h5py.HardLink):
                raise ValueError(
                    f"Not allowed: H5 file {filename} with a {type(link).__name__} at "
                    f"{path}/{key!r}"
                )
            ds = group[key]
            if not isinstance(ds, h5py.Dataset) or ds.external or ds.is_virtual:
                raise ValueError(
                    f"Invalid H5 file {filename}: {path}/{key} is not a plain dataset."
                )
            self._datasets[key] = ds

    def __len__(self) -> int:
        return len(self._datasets)

    def __iter__(self):
        return iter(self._datasets)

    def declared(self, key: str) -> tuple:
        """The shape and dtype the file declares for ``key`` (nothing is read)."""
        ds = self._datasets[key]
        return tuple(int(n) for n in ds.shape), ds.dtype

    def __getitem__(self, key: str):
        ds = self._datasets[key]
        self._check_size(key, ds)
        try:
            return ds[()]
        except (OSError, RuntimeError, KeyError) as e:
            raise DataLossError(
                None,
                None,
                f"Corrupt weights file {self._filename}: reading {self._path}/{key} failed: {e}",
            ) from e

    def _check_size(self, key: str, ds) -> None:
        where = f"{self._path}/{key} in {self._filename}"
        if ds.dtype.kind not in "biufcSU?":
            raise ValueError(f"Invalid weights file: {where} has unsupported dtype {ds.dtype}.")
        shape = tuple(int(n) for n in ds.shape)
        nbytes = math.prod(shape) * ds.dtype.itemsize  # Python ints: no overflow
        stored = int(ds.id.get_storage_size())
        filtered = bool(ds.compression) or bool(getattr(ds, "_filters", None))
        if stored > self._file_size:
            raise DataLossError(
                None,
                None,
                f"Corrupt weights file: {where} claims {stored} stored bytes, "
                f"more than the file's {self._file_size}.",
            )
        if not filtered and nbytes > stored:
            raise DataLossError(
                None,
                None,
                f"Corrupt or truncated weights file: {where} declares shape "
                f"{shape} ({ds.dtype}, {nbytes} bytes) but stores only {stored} bytes.",
            )
        if filtered and nbytes > max(_MAX_ZIP_EXPANSION * stored, 1 << 20):
            raise ValueError(
                f"Not allowed: {where} declares shape {shape} ({nbytes} bytes) from "
                f"{stored} compressed bytes: a decompression bomb."
            )


def _read_weights(
    model: Any, source, skip_mismatch: bool = False, filename: str | None = None
) -> None:
    h5py = _h5py()
    if isinstance(source, str):
        filename = filename or source
        if not os.path.exists(source):
            raise NotFoundError(None, None, f"Weights file not found: {source}")
        file_size = os.path.getsize(source)
    else:
        filename = filename or "<weights>"
        file_size = source.seek(0, io.SEEK_END)
        source.seek(0)
    failures: list[tuple[Any, Exception]] = []
    try:
        f = h5py.File(source, "r")
    except OSError as e:
        raise DataLossError(
            None,
            None,
            f"Unable to read weights file {filename}: not a valid HDF5 file "
            f"(truncated or corrupt): {e}",
        ) from e
    with f:

        def visit(saveable, path):
            vars_path = f"{path}/vars" if path else "vars"
            try:
                group = _safe_group(h5py, f, vars_path)
                store = _H5Store(h5py, group, vars_path, file_size, filename)
            except (OSError, RuntimeError, KeyError) as e:
                raise DataLossError(
                    None, None, f"Corrupt weights file {filename}: reading {vars_path} failed: {e}"
                ) from e
            try:
                _load_own(saveable, store)
            except DataLossError:
                raise
            except Exception as e:  # collected: every mismatch is reported together
                failures.append((saveable, e))

        _walk(model, "", visit, set())
    if failures:
        saveable, error = failures[0]
        msg = (
            f"A total of {len(failures)} objects could not be loaded from {filename}. "
            f"Example error message for object {saveable!r}:\n\n{error}\n\nList of objects "
            f"that could not be loaded:\n{[s for s, _ in failures]}"
        )
        if skip_mismatch:
            warnings.warn(msg, stacklevel=3)
        else:
            raise ValueError(msg)


# --------------------------------------------------------------------- atomic writes
def _atomic_write(filepath: str, write) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``filepath``, fsync it, then move
    it into place: ``filepath`` holds its old or its new contents at every instant. The
    temporary is named after the target with this process's pid, so the next save to the
    directory removes those a killed writer left (``tensor_bundle``'s scheme)."""
    from rill.train import tensor_bundle

    filepath = os.path.abspath(filepath)
    directory, base = os.path.split(filepath)
    tensor_bundle.remove_stale_temporaries(directory, base)
    staged = tensor_bundle._Staged()  # registers the temporary as in flight in this process
    try:
        handle = staged.open(filepath)
        handle.close()
        tmp = staged.moves[-1][0]
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        staged.commit()  # rename, then fsync the directory
    except BaseException:
        staged.discard()
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


def _read_member(zf: zipfile.ZipFile, name: str, filepath: str = "") -> bytes:
    where = f" of {filepath}" if filepath else ""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ValueError(
            f"Invalid .keras file{where}: the archive has no {name!r} member (it holds "
            f"{sorted(zf.namelist())[:20]})."
        ) from None
    if info.file_size > (1 << 30) and info.file_size > _MAX_ZIP_EXPANSION * max(
        info.compress_size, 1
    ):
        raise ValueError(
            f"Not allowed: zip member {name!r}{where} looks like a decompression bomb "
            f"({info.compress_size} bytes inflating to {info.file_size})."
        )
    try:
        return zf.read(name)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as e:
        raise DataLossError(
            None, None, f"Corrupt .keras file{where}: member {name!r} cannot be read: {e}"
        ) from e


def _open_zip(filepath: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(filepath, "r")
    except FileNotFoundError:
        raise ValueError(
            f"File not found: filepath={filepath}. Please ensure the file is an accessible "
            "`.keras` zip file."
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
        raise ValueError(
            f"Invalid .keras file {filepath}: not a readable zip archive ({e})."
        ) from e


def _parse_config(data: bytes, filepath: str) -> dict:
    try:
        config = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(
            f"Invalid .keras file {filepath}: {_CONFIG_FILENAME} is not valid JSON ({e})."
        ) from e
    except RecursionError:
        raise ValueError(
            f"Invalid .keras file {filepath}: {_CONFIG_FILENAME} is nested too deeply."
        ) from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"Invalid .keras file {filepath}: {_CONFIG_FILENAME} must hold a serialized model "
            f"(a JSON object with a 'class_name'), got {type(config).__name__}."
        )
    return config


def load_model(
    filepath: str, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True
) -> Any:
    """Rebuild the model in a ``.keras`` archive, then restore its weights (and optimizer
    state when ``compile``)."""
    filepath = os.fspath(filepath)
    with _open_zip(filepath) as zf:
        config = _parse_config(_read_member(zf, _CONFIG_FILENAME, filepath), filepath)
        names = zf.namelist()
        if _VARS_FILENAME not in names:
            raise ValueError(
                f"Invalid .keras file {filepath}: expected a {_VARS_FILENAME} member, found "
                f"{sorted(names)[:20]}."
            )
        weights = io.BytesIO(_read_member(zf, _VARS_FILENAME, filepath))
        assets = {
            n: _read_member(zf, n, filepath)
            for n in names
            if n.startswith(_ASSETS_DIR + "/") and not n.endswith("/")
        }
    if not compile:
        config["compile_config"] = None
    try:
        model = serialization_lib.deserialize_keras_object(
            config, custom_objects=custom_objects, safe_mode=safe_mode
        )
    except RecursionError:
        raise ValueError(
            f"Invalid .keras file {filepath}: the model config is nested too deeply to rebuild."
        ) from None
    _read_weights(model, weights, filename=f"{filepath}/{_VARS_FILENAME}")
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
    filepath = os.fspath(filepath)
    if filepath.endswith(".keras"):
        with _open_zip(filepath) as zf:
            source = io.BytesIO(_read_member(zf, _VARS_FILENAME, filepath))
        _read_weights(model, source, skip_mismatch, filename=f"{filepath}/{_VARS_FILENAME}")
    else:
        _read_weights(model, filepath, skip_mismatch=skip_mismatch)
