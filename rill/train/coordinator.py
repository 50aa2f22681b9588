"""``tf.train.Coordinator``: lets threads stop together when one asks or fails.

Threads poll ``should_stop()``; any thread may ``request_stop(ex)``; the main thread
``join``s them, re-raising the first exception reported (unless it is one of the
``clean_stop_exception_types``, by default ``OutOfRangeError``, which stop cleanly).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time

from rill.core.errors import OutOfRangeError
from rill.ops._op import tf_export

__all__ = ["Coordinator"]


@tf_export("train.Coordinator")
class Coordinator:
    """A stop flag and an exception slot shared by a set of threads."""

    def __init__(self, clean_stop_exception_types=None):
        if clean_stop_exception_types is None:
            clean_stop_exception_types = (OutOfRangeError,)
        self._clean_stop_exception_types = tuple(clean_stop_exception_types)
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._exc_info_to_raise = None
        self._joined = False
        self._registered_threads = set()

    def _filter_exception(self, ex):
        """``ex`` as exc_info to raise, or None for a clean stop."""
        if isinstance(ex, tuple):
            ex2 = ex[1]
        else:
            ex2 = ex
        if isinstance(ex2, self._clean_stop_exception_types):
            return None
        return ex

    def request_stop(self, ex=None) -> None:
        """Ask every thread to stop; ``ex`` (an exception or ``sys.exc_info()``) is kept to
        be re-raised by ``join`` unless it is a clean-stop type or one is already kept."""
        with self._lock:
            ex = self._filter_exception(ex)
            if self._joined and ex is not None:
                # after join nobody is left to raise it to: raise it here, as TensorFlow
                exc = ex[1] if isinstance(ex, tuple) else ex
                raise exc
            if not self._stop_event.is_set():
                if ex and self._exc_info_to_raise is None:
                    if isinstance(ex, tuple):
                        self._exc_info_to_raise = ex
                    else:
                        self._exc_info_to_raise = (type(ex), ex, ex.__traceback__)
                    if not isinstance(self._exc_info_to_raise[1], BaseException):
                        raise ValueError(f"ex must be an exception or sys.exc_info(), got {ex!r}")
                self._stop_event.set()

    def clear_stop(self) -> None:
        """Clear the stop flag and the kept exception, so the coordinator can be reused."""
        with self._lock:
            self._joined = False
            self._exc_info_to_raise = None
            if self._stop_event.is_set():
                self._stop_event.clear()

    def should_stop(self) -> bool:
        """True once a stop has been requested."""
        return self._stop_event.is_set()

    @contextlib.contextmanager
    def stop_on_exception(self):
        """A context in which an exception requests a stop (and is kept) instead of
        propagating."""
        try:
            yield
        except BaseException:  # noqa: BLE001 - any failure stops the threads, as TF
            self.request_stop(ex=sys.exc_info())

    def wait_for_stop(self, timeout=None) -> bool:
        """Block until a stop is requested (or ``timeout`` seconds pass); True if
        stopped."""
        return self._stop_event.wait(timeout)

    def register_thread(self, thread) -> None:
        """Add ``thread`` to the threads ``join`` waits for by default."""
        with self._lock:
            self._registered_threads.add(thread)

    def join(
        self, threads=None, stop_grace_period_secs: float = 120, ignore_live_threads: bool = False
    ) -> None:
        """Wait for a stop request, then for ``threads`` (and the registered ones) to end
        within ``stop_grace_period_secs``; re-raise the kept exception, or raise
        ``RuntimeError`` naming threads still alive (unless ``ignore_live_threads``)."""
        with self._lock:
            registered = set(self._registered_threads)
        threads = registered.union(threads or [])
        while any(t.is_alive() for t in threads) and not self.wait_for_stop(1.0):
            pass
        deadline = time.monotonic() + stop_grace_period_secs
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            time.sleep(0.01)
        stragglers = [t.name for t in threads if t.is_alive()]
        with self._lock:
            self._joined = True
            self._registered_threads = set()
            if self._exc_info_to_raise:
                _, ex, tb = self._exc_info_to_raise
                raise ex.with_traceback(tb)
        if stragglers and not ignore_live_threads:
            raise RuntimeError(
                f"Coordinator stopped with threads still running: {' '.join(stragglers)}"
            )

    @property
    def joined(self) -> bool:
        """Whether ``join`` has run since the last ``clear_stop``."""
        return self._joined

    def raise_requested_exception(self) -> None:
        """Raise the kept exception, if any."""
        with self._lock:
            if self._exc_info_to_raise:
                _, ex, tb = self._exc_info_to_raise
                raise ex.with_traceback(tb)
