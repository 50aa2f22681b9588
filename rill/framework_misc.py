"""Small top-level objects of TF's framework: ``tf.AggregationMethod``,
``tf.CriticalSection`` and ``tf.get_logger``."""

from __future__ import annotations

import itertools
import logging
import threading

from rill.ops._op import tf_export


@tf_export("AggregationMethod")
class AggregationMethod:
    """How ``tf.gradients`` sums the gradient contributions to one tensor (rill always
    adds them in one pass, which every method below computes the same)."""

    ADD_N = 0
    DEFAULT = ADD_N
    EXPERIMENTAL_TREE = 1
    EXPERIMENTAL_ACCUMULATE_N = 2


_COUNTER = itertools.count()


@tf_export("CriticalSection")
class CriticalSection:
    """Run functions one at a time: ``execute(fn)`` holds the section's lock while ``fn``
    runs, so concurrent callers (threads, dataset workers) never interleave inside it."""

    def __init__(self, name=None, shared_name=None, critical_section_def=None, import_scope=None):
        if critical_section_def is not None:
            raise ValueError(
                "CriticalSection: critical_section_def is a TF1 graph proto; not supported"
            )
        n = next(_COUNTER)
        self._name = name or (f"CriticalSection_{n}" if n else "CriticalSection")
        self._lock = threading.RLock()
        self._owner = None

    @property
    def name(self) -> str:
        return self._name

    def execute(self, fn, exclusive_resource_access=True, name=None):
        """``fn()``'s result, computed while holding the lock. Calling ``execute`` of the
        same section from inside ``fn`` is an error, as in TF (it would deadlock there)."""
        if self._owner == threading.get_ident():
            raise ValueError(
                f"Attempting to lock CriticalSection {self._name!r} while already inside it "
                f"(a nested execute of the same section would deadlock)"
            )
        with self._lock:
            self._owner = threading.get_ident()
            try:
                return fn()
            finally:
                self._owner = None


@tf_export("get_logger")
def get_logger() -> logging.Logger:
    """The ``"tensorflow"`` logger that TF programs configure (rill's own messages go to
    the ``"rill"`` logger)."""
    return logging.getLogger("tensorflow")
