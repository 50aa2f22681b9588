"""``tf.distribute.coordinator``: ``ClusterCoordinator`` schedules functions on the workers
of a ``ParameterServerStrategy`` and hands back ``RemoteValue``s.

Each worker is a thread that takes closures from one queue, first come first served, so a
scheduled function runs on whichever worker is free, as in TF. A closure that fails
because its worker was lost (``UnavailableError`` or ``AbortedError``: the errors TF
reports for a preempted worker) goes back to the front of the queue and runs again on a
worker; any other error is the job's: the closures still queued are cancelled and the
error is raised by the next ``schedule``, ``join`` or ``done`` (and by the failed
closure's ``RemoteValue``).
"""

from __future__ import annotations

import collections
import logging
import threading

from rill import errors
from rill.core import nest
from rill.ops._op import tf_export

__all__ = [
    "ClusterCoordinator",
    "RemoteValue",
    "PerWorkerValues",
    "experimental_get_current_worker_index",
]

_log = logging.getLogger("rill")
_RETRYABLE = (errors.UnavailableError, errors.AbortedError)


class _WorkerLocal(threading.local):
    index = None  # the worker index while a worker thread runs a closure or dataset_fn


_worker = _WorkerLocal()


@tf_export("distribute.coordinator.experimental_get_current_worker_index")
def experimental_get_current_worker_index() -> int:
    """The index of the worker running the current scheduled function or ``dataset_fn``."""
    if _worker.index is None:
        raise ValueError(
            "experimental_get_current_worker_index() must be called inside a function "
            "scheduled by ClusterCoordinator.schedule or a dataset_fn given to "
            "ClusterCoordinator.create_per_worker_dataset."
        )
    return _worker.index


# --------------------------------------------------------------------------- values
@tf_export(
    "distribute.coordinator.PerWorkerValue",
    "distribute.experimental.coordinator.PerWorkerValues",
)
class PerWorkerValues:
    """One value per worker; a scheduled function given it sees its worker's value."""

    def __init__(self, values):
        self._values = tuple(values)

    def __repr__(self):
        return f"{type(self).__name__}({list(self._values)!r})"


class _Pending:
    pass


_PENDING = _Pending()


@tf_export("distribute.coordinator.RemoteValue", "distribute.experimental.coordinator.RemoteValue")
class RemoteValue:
    """The future result of a scheduled function."""

    def __init__(self):
        self._ready = threading.Event()
        self._value = _PENDING
        self._error = None

    def _set(self, value=None, error=None):
        self._value, self._error = value, error
        self._ready.set()

    def _wait(self):
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self._value

    def get(self):
        """The function's result (tensors stay tensors); waits for it to be computed and
        raises the error that the function raised."""
        return self._wait()

    def fetch(self):
        """The function's result with its tensors as NumPy values; waits, as ``get``."""

        def to_numpy(x):
            return x.numpy() if hasattr(x, "numpy") else x

        return nest.map_structure(to_numpy, self._wait())

    def __repr__(self):
        state = "ready" if self._ready.is_set() else "pending"
        return f"<RemoteValue ({state})>"


class _Closure:
    """One scheduled call: the function, its arguments and its ``RemoteValue``."""

    def __init__(self, fn, args, kwargs):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.output = RemoteValue()
        self.attempts = 0

    def _resolve(self, index):
        def one(x):
            if isinstance(x, PerWorkerValues):
                return x._values[index]
            if isinstance(x, RemoteValue):
                return x.get()
            return x

        args = nest.map_structure(one, self.args) if self.args else ()
        kwargs = nest.map_structure(one, self.kwargs) if self.kwargs else {}
        return args, kwargs

    def run(self, index, strategy):
        from rill.distribute import distribute_lib

        self.attempts += 1
        args, kwargs = self._resolve(index)
        distribute_lib._stack.entries.append((strategy, None))
        try:
            return self.fn(*args, **kwargs)
        except StopIteration as e:  # a per-worker iterator ran out: TF's end of sequence
            raise errors.OutOfRangeError(None, None, "End of sequence") from e
        finally:
            distribute_lib._stack.entries.pop()


# --------------------------------------------------------------------------- the queue
class _ClosureQueue:
    """Closures waiting for a worker, the count in flight, and the job's first error."""

    def __init__(self):
        self._cv = threading.Condition()
        self._waiting = collections.deque()
        self._inflight = 0
        self._error = None
        self._closed = False

    def put(self, closure, front=False):
        with self._cv:
            self._raise_error()
            (self._waiting.appendleft if front else self._waiting.append)(closure)
            self._cv.notify_all()

    def take(self):
        """The next closure for a worker (blocks); None when the coordinator is closed."""
        with self._cv:
            while not self._waiting and not self._closed:
                self._cv.wait()
            if self._closed:
                return None
            self._inflight += 1
            return self._waiting.popleft()

    def finished(self, closure, value=None, error=None, retry=False):
        with self._cv:
            self._inflight -= 1
            if retry:
                self._waiting.appendleft(closure)
            elif error is not None:
                closure.output._set(error=error)
                if self._error is None:
                    self._error = error
                for c in self._waiting:  # the job failed: what waits is not run
                    c.output._set(
                        error=errors.CancelledError(
                            None, None, f"Cancelled: an earlier closure failed with {error!r}."
                        )
                    )
                self._waiting.clear()
            else:
                closure.output._set(value)
            self._cv.notify_all()

    def _raise_error(self):
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def join(self):
        with self._cv:
            while self._waiting or self._inflight:
                self._cv.wait()
            self._raise_error()

    def done(self) -> bool:
        with self._cv:
            self._raise_error()
            return not self._waiting and not self._inflight

    def close(self):
        with self._cv:
            self._closed = True
            self._cv.notify_all()


def _worker_loop(queue: _ClosureQueue, index: int, strategy) -> None:
    _worker.index = index
    while True:
        closure = queue.take()
        if closure is None:
            return
        try:
            value = closure.run(index, strategy)
        except _RETRYABLE as e:
            _log.warning(
                "ClusterCoordinator: worker %d failed (%s); rescheduling its closure.",
                index,
                type(e).__name__,
            )
            queue.finished(closure, retry=True)
        except Exception as e:  # the function's own error: the job's error
            queue.finished(closure, error=e)
        else:
            queue.finished(closure, value)


# --------------------------------------------------------------------------- coordinator
@tf_export(
    "distribute.coordinator.ClusterCoordinator",
    "distribute.experimental.coordinator.ClusterCoordinator",
)
class ClusterCoordinator:
    """Schedules functions on the workers of a ``ParameterServerStrategy``."""

    def __new__(cls, strategy):
        existing = getattr(strategy, "_cluster_coordinator", None)
        if existing is not None:  # one coordinator per strategy, as TF
            return existing
        return super().__new__(cls)

    def __init__(self, strategy):
        if getattr(self, "_strategy", None) is not None:
            return
        from rill.distribute.ps_strategy import ParameterServerStrategy

        if not isinstance(strategy, ParameterServerStrategy):
            raise ValueError(
                "Only `tf.distribute.experimental.ParameterServerStrategy` is supported to "
                "work with `tf.distribute.experimental.coordinator.ClusterCoordinator`; got "
                f"{type(strategy).__name__}."
            )
        self._strategy = strategy
        strategy._cluster_coordinator = self
        strategy.extended._used_with_coordinator = True
        self._num_workers = strategy.extended._num_workers
        self._queue = _ClosureQueue()
        self._threads = [
            threading.Thread(
                target=_worker_loop,
                args=(self._queue, i, strategy),
                name=f"rill-ps-worker-{i}",
                daemon=True,
            )
            for i in range(self._num_workers)
        ]
        for t in self._threads:
            t.start()

    @property
    def strategy(self):
        return self._strategy

    def schedule(self, fn, args=None, kwargs=None) -> RemoteValue:
        """Queue ``fn(*args, **kwargs)`` for a free worker; returns its ``RemoteValue``.
        ``PerWorkerValues`` arguments become the running worker's value."""
        if not callable(fn):
            raise TypeError(f"ClusterCoordinator.schedule: fn must be callable; got {fn!r}.")
        closure = _Closure(fn, tuple(args or ()), dict(kwargs or {}))
        self._queue.put(closure)
        return closure.output

    def join(self) -> None:
        """Wait until every scheduled function has run; raise the first error if one did."""
        self._queue.join()

    def done(self) -> bool:
        """Whether every scheduled function has finished (raises the first error)."""
        return self._queue.done()

    def fetch(self, val):
        """``val`` with each ``RemoteValue`` in it replaced by its fetched result."""
        return nest.map_structure(lambda v: v.fetch() if isinstance(v, RemoteValue) else v, val)

    def create_per_worker_dataset(self, dataset_fn):
        """A dataset on every worker: ``dataset_fn()`` called once per worker (a dataset
        itself is shared as is); iterate it for per-worker iterators."""
        return _PerWorkerDataset(dataset_fn, self._num_workers)

    def _create_per_worker_resources(self, fn, args=None, kwargs=None) -> PerWorkerValues:
        """``fn`` run once per worker (as that worker), its results per worker."""
        values = []
        for i in range(self._num_workers):
            _worker.index, previous = i, _worker.index
            try:
                values.append(fn(*(args or ()), **(kwargs or {})))
            finally:
                _worker.index = previous
        return PerWorkerValues(values)

    def _shutdown(self) -> None:
        """Stop the worker threads once the queue is drained (tests, interpreter exit)."""
        self._queue.join()
        self._queue.close()
        for t in self._threads:
            t.join()
        self._strategy._cluster_coordinator = None


class _PerWorkerDataset:
    """A dataset on each worker; ``iter()`` gives a ``PerWorkerValues`` of iterators."""

    def __init__(self, dataset_fn, num_workers):
        datasets = []
        for i in range(num_workers):
            _worker.index, previous = i, _worker.index
            try:
                datasets.append(dataset_fn() if callable(dataset_fn) else dataset_fn)
            finally:
                _worker.index = previous
        self._datasets = datasets

    def __iter__(self):
        return _PerWorkerIterator([iter(d) for d in self._datasets])

    def build(self):
        """The per-worker datasets (TF builds them lazily; here they exist already)."""
        return self


class _PerWorkerIterator(PerWorkerValues):
    """Each worker's iterator: pass it to a scheduled function, which calls ``next``."""

    def __iter__(self):
        return self

    def __next__(self):
        raise TypeError(
            "A per-worker iterator yields elements only inside a function scheduled with "
            "ClusterCoordinator.schedule: pass the iterator to it and call next() there."
        )
