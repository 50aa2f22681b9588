"""Small top-level objects of TF's framework: ``tf.AggregationMethod``,
``tf.CriticalSection``, ``tf.get_logger`` and ``tf.nondifferentiable_batch_function``."""

from __future__ import annotations

import functools
import itertools
import logging
import threading
import time

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


# --------------------------------------------------------------------------------------
# tf.nondifferentiable_batch_function: concurrent calls batched into one
# --------------------------------------------------------------------------------------


class _Pending:
    """One caller's inputs, its result once computed, and the events it waits on."""

    __slots__ = ("args", "rows", "result", "error", "done", "lead")

    def __init__(self, args, rows):
        self.args, self.rows = args, rows
        self.result = self.error = None
        self.done, self.lead = threading.Event(), threading.Event()


class _Batcher:
    """Collects concurrent calls: the first waiting caller leads, waits until the batch is
    full or the timeout passes, runs ``fn`` once on the concatenated inputs and hands each
    caller its rows of the outputs; the next waiting caller then leads."""

    def __init__(self, fn, max_batch_size, timeout_s, allowed_batch_sizes):
        self.fn, self.max, self.timeout = fn, int(max_batch_size), float(timeout_s)
        self.allowed = sorted(int(a) for a in allowed_batch_sizes or [])
        self.queue: list[_Pending] = []
        self.cond = threading.Condition()

    def __call__(self, *args):
        from rill.core.convert import convert_to_tensor

        tensors = [convert_to_tensor(a) for a in args]
        if not tensors or any(t.shape.rank in (None, 0) for t in tensors):
            raise ValueError("batch_function: every argument must be a tensor of rank >= 1")
        rows = tensors[0].shape[0]
        if any(t.shape[0] != rows for t in tensors):
            raise ValueError("batch_function: all arguments must have the same first dimension")
        me = _Pending(tensors, rows)
        with self.cond:
            self.queue.append(me)
            if len(self.queue) == 1:
                me.lead.set()
            self.cond.notify_all()
            while not (me.done.is_set() or me.lead.is_set()):
                self.cond.wait()
        if not me.done.is_set():
            self._lead(me)
        me.done.wait()
        if me.error is not None:
            raise me.error
        return me.result

    def _lead(self, me):
        deadline = time.monotonic() + self.timeout
        with self.cond:
            while sum(p.rows for p in self.queue) < self.max:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            batch, total = [], 0
            for p in list(self.queue):
                if batch and total + p.rows > self.max:
                    break
                batch.append(p)
                total += p.rows
            for p in batch:
                self.queue.remove(p)
            if self.queue:  # the next caller leads the next batch
                self.queue[0].lead.set()
                self.cond.notify_all()
        self._run(batch, total)

    def _run(self, batch, total):
        from rill.ops.shape_ops import concat

        try:
            inputs = [concat([p.args[i] for p in batch], 0) for i in range(len(batch[0].args))]
            pad = next((a for a in self.allowed if a >= total), total) - total
            if pad:  # up to the next allowed batch size, by repeating the last row
                inputs = [concat([x] + [x[-1:]] * pad, 0) for x in inputs]
            out = self.fn(*inputs)
            flat = list(out) if isinstance(out, (list, tuple)) else [out]
            start = 0
            for p in batch:
                parts = [o[start : start + p.rows] for o in flat]
                if isinstance(out, (list, tuple)):
                    p.result = tuple(parts) if isinstance(out, tuple) else parts
                else:
                    p.result = parts[0]
                start += p.rows
        except Exception as e:  # noqa: BLE001 - every caller of the batch sees the error
            for p in batch:
                p.error = e
        with self.cond:
            for p in batch:
                p.done.set()
            self.cond.notify_all()


@tf_export("nondifferentiable_batch_function")
def nondifferentiable_batch_function(
    num_batch_threads, max_batch_size, batch_timeout_micros, allowed_batch_sizes=None,
    max_enqueued_batches=10, autograph=True, enable_large_batch_splitting=True,
):  # fmt: skip
    """Decorator: calls of the function made concurrently (from several threads) are
    batched, their inputs concatenated along the first dimension (up to
    ``max_batch_size`` rows, waiting at most ``batch_timeout_micros``), the function run
    once, and each caller given its rows of the outputs. No gradient flows through."""
    if max_batch_size <= 0:
        raise ValueError(f"max_batch_size must be positive, got {max_batch_size}")
    if allowed_batch_sizes and max(allowed_batch_sizes) != max_batch_size:
        raise ValueError(
            f"the largest allowed_batch_sizes ({max(allowed_batch_sizes)}) must equal "
            f"max_batch_size ({max_batch_size})"
        )

    def decorator(fn):
        batcher = _Batcher(fn, max_batch_size, batch_timeout_micros / 1e6, allowed_batch_sizes)

        @functools.wraps(fn)
        def wrapper(*args):
            from rill.core import dispatch

            if dispatch.state.graph is not None:  # while tracing: one call, no batching
                return fn(*args)
            return batcher(*args)

        return wrapper

    return decorator
