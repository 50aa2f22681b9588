"""``keras.utils.PyDataset`` (alias ``Sequence``): batches made by Python code, indexed,
optionally prepared ahead by a pool of worker threads; and the adapter ``fit`` iterates."""

from __future__ import annotations

import itertools
import random
import warnings
from collections import deque


class PyDataset:
    """Subclass and define ``__len__`` (or ``num_batches``) and ``__getitem__(index)``
    returning a batch: ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``.

    ``workers > 1`` prepares up to ``max_queue_size`` batches ahead on that many threads
    (``use_multiprocessing`` is accepted; rill's workers are threads either way, so
    ``__getitem__`` need not be picklable).
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _defaults_if_super_not_called(self):
        missing = [a for a in ("_workers", "_use_multiprocessing", "_max_queue_size")
                   if not hasattr(self, a)]  # fmt: skip
        if missing:
            self._workers = getattr(self, "_workers", 1)
            self._use_multiprocessing = getattr(self, "_use_multiprocessing", False)
            self._max_queue_size = getattr(self, "_max_queue_size", 10)
            warnings.warn(
                f"{type(self).__name__} should call `super().__init__(**kwargs)` in its "
                "constructor (`**kwargs` may set `workers`, `use_multiprocessing`, "
                "`max_queue_size`); using workers=1.",
                stacklevel=3,
            )

    @property
    def workers(self):
        self._defaults_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        self._defaults_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        self._defaults_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        """The batch at position ``index``."""
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index).")

    def __iter__(self):
        try:
            n = self.num_batches
        except NotImplementedError:
            n = None
        for index in range(n) if n is not None else itertools.count():
            yield self[index]

    @property
    def num_batches(self):
        """The number of batches (``len(self)``), or None for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            f"{type(self).__name__} must define `__len__` or the `num_batches` property."
        )

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch."""


Sequence = PyDataset


def _standardize(batch):
    if isinstance(batch, dict):
        return batch
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        return (batch,)
    if len(batch) not in (1, 2, 3):
        raise ValueError(
            "PyDataset.__getitem__() must return a tuple or a dict: (inputs,), (inputs, "
            f"targets) or (inputs, targets, sample_weights). Received a tuple of {len(batch)}: "
            f"{str(batch)[:100]}"
        )
    return batch


class PyDatasetAdapter:
    """Iterating it runs one epoch of ``py_dataset``: ``on_epoch_begin``, every batch in
    order (shuffled batch order with ``shuffle``), ``on_epoch_end``. Batches come back as
    tuples ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` (or the dict given)."""

    def __init__(self, py_dataset: PyDataset, shuffle: bool = False):
        if not isinstance(py_dataset, PyDataset):
            raise TypeError(f"PyDatasetAdapter expects a PyDataset; got {type(py_dataset)}")
        self.py_dataset = py_dataset
        self.shuffle = shuffle

    @property
    def num_batches(self):
        """Batches per epoch, or None when the dataset is endless."""
        try:
            return self.py_dataset.num_batches
        except NotImplementedError:
            return None

    def _indices(self):
        n = self.num_batches
        if n is None:
            return itertools.count()
        order = list(range(n))
        if self.shuffle:
            random.shuffle(order)
        return iter(order)

    def __iter__(self):
        ds = self.py_dataset
        ds.on_epoch_begin()
        workers = ds.workers
        indices = self._indices()
        if workers > 1 or (workers > 0 and ds.use_multiprocessing):
            yield from self._pooled(indices, max(workers, 1), max(ds.max_queue_size, 1))
        else:
            for i in indices:
                try:
                    batch = ds[i]
                except IndexError:
                    if self.num_batches is None:  # an endless dataset may still end
                        break
                    raise
                yield _standardize(batch)
        ds.on_epoch_end()

    def _pooled(self, indices, workers, queue_size):
        from concurrent.futures import ThreadPoolExecutor

        ds = self.py_dataset
        with ThreadPoolExecutor(workers, thread_name_prefix="PyDataset") as pool:
            pending: deque = deque()
            for i in itertools.islice(indices, queue_size):
                pending.append(pool.submit(ds.__getitem__, i))
            while pending:
                batch = pending.popleft().result()  # in index order, whatever finishes first
                for i in itertools.islice(indices, 1):
                    pending.append(pool.submit(ds.__getitem__, i))
                yield _standardize(batch)
