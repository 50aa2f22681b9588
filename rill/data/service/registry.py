"""How a registered dataset's definition reaches the workers.

A rill dataset is a Python object (closures over Python iterators), so it cannot be sent
as a graph the way TF ships a ``GraphDef``, and rill never unpickles bytes from the
network. Two definitions travel instead, both plain JSON:

- ``{"local": key, "process": token}``: the dataset object stays in the process that
  registered it, and workers running in that same process look it up by ``key``;
- ``{"factory": name, "kwargs": {...}}``: the dataset was built by
  ``dataset_from_factory(name, **kwargs)`` and any process that registered the factory
  ``name`` (by importing the module that calls ``register_dataset_factory``) rebuilds it.
"""

from __future__ import annotations

import json
import os
import threading
import uuid

from rill.core.errors import FailedPreconditionError, NotFoundError
from rill.data.service import wire

__all__ = ["register_dataset_factory", "dataset_from_factory", "definition_of", "resolve"]

PROCESS_TOKEN = f"{os.getpid()}-{uuid.uuid4().hex}"

_lock = threading.Lock()
_local: dict = {}
_factories: dict = {}


def register_dataset_factory(name: str, fn) -> None:
    """Make ``fn(**kwargs) -> Dataset`` buildable by name in this process, so that
    tf.data service workers in other processes can rebuild datasets made with
    ``dataset_from_factory(name, ...)`` (each process registers the same factories)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"A dataset factory needs a non-empty string name, got {name!r}.")
    if not callable(fn):
        raise TypeError(f"Dataset factory {name!r} must be callable, got {type(fn).__name__}.")
    with _lock:
        _factories[name] = fn


def dataset_from_factory(name: str, **kwargs):
    """The dataset ``factory(**kwargs)`` of a registered factory, tagged so that
    ``register_dataset``/``distribute`` ship it by name: workers in any process that
    registered ``name`` can serve it. ``kwargs`` must be JSON values."""
    try:
        json.dumps(kwargs)
    except TypeError as e:
        raise TypeError(
            f"dataset_from_factory({name!r}): arguments must be JSON values (numbers, "
            f"strings, lists, dicts) so that they can be sent to workers: {e}"
        ) from None
    ds = _build(name, kwargs)
    ds._service_factory = {"factory": name, "kwargs": kwargs}
    return ds


def _build(name, kwargs):
    with _lock:
        fn = _factories.get(name)
    if fn is None:
        raise wire.service_error(
            NotFoundError,
            "DatasetFactory",
            f"No dataset factory named {name!r} is registered in this process (pid "
            f"{os.getpid()}); call rill.data.service.register_dataset_factory({name!r}, fn) "
            f"here too. Registered: {sorted(_factories)}.",
        )
    from rill.data.dataset_ops import DatasetV2

    ds = fn(**kwargs)
    if not isinstance(ds, DatasetV2):
        raise TypeError(f"Dataset factory {name!r} returned {type(ds).__name__}, not a Dataset.")
    return ds


def definition_of(dataset) -> dict:
    """The JSON definition of ``dataset`` that workers resolve with ``resolve``."""
    d = {"local": uuid.uuid4().hex, "process": PROCESS_TOKEN}
    with _lock:
        _local[d["local"]] = dataset
    factory = getattr(dataset, "_service_factory", None)
    if factory is not None:
        d.update(factory)
    return d


def resolve(definition: dict, dataset_id: str):
    """The dataset a definition names, in this process."""
    if definition.get("process") == PROCESS_TOKEN:
        with _lock:
            ds = _local.get(definition.get("local"))
        if ds is not None:
            return ds
    if "factory" in definition:
        return _build(definition["factory"], definition.get("kwargs", {}))
    raise wire.service_error(
        FailedPreconditionError,
        "DataServiceWorker",
        f"Dataset {dataset_id} was registered as a Python object by another process; a "
        f"worker can only serve it in the process that registered it (rill datasets are "
        f"Python objects and are never pickled). To serve it from other processes, build "
        f"it with rill.data.service.dataset_from_factory(name, ...) after "
        f"register_dataset_factory(name, fn) in every process.",
    )
