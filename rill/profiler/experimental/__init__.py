"""``tf.profiler.experimental``: trace eager ops and named regions, written for TensorBoard.

While a session is active (``start``/``stop`` or ``Profile``), every eager op's kernel is
timed through a hook of the dispatcher, and each ``Trace`` region is recorded; ``stop``
writes them as Chrome trace events to
``<logdir>/plugins/profile/<run>/<host>.trace.json.gz``, the file TensorBoard's profile
plugin reads. Ops inside a compiled ``rill.function`` run as one fused plan and are not
seen one by one; a ``Trace`` around the call times it.
"""

from __future__ import annotations

import collections
import datetime
import gzip
import json
import os
import socket
import threading
import time

from rill.core import dispatch as _dispatch
from rill.core.errors import AlreadyExistsError, UnavailableError

__all__ = ["ProfilerOptions", "Profile", "Trace", "client", "server", "start", "stop"]

ProfilerOptions = collections.namedtuple(
    "ProfilerOptions",
    ["host_tracer_level", "python_tracer_level", "device_tracer_level", "delay_ms"],
)
ProfilerOptions.__new__.__defaults__ = (2, 0, 1, None)
ProfilerOptions.__doc__ = "Options of a profiling session (the levels TF's tracers use)."


class _Session:
    """The events of one profiling session, appended from any thread."""

    def __init__(self, logdir: str, options: ProfilerOptions):
        self.logdir = os.fspath(logdir)
        self.options = options
        self.events: list = []
        self.lock = threading.Lock()
        self.start_wall = time.time()
        self.origin_ns = time.perf_counter_ns()
        self.tids: dict = {}

    def add(self, name, start_ns, end_ns, cat, args=None):
        ident = threading.get_ident()
        with self.lock:
            tid = self.tids.setdefault(ident, len(self.tids) + 1)
            ev = {
                "ph": "X", "name": name, "cat": cat, "pid": 1, "tid": tid,
                "ts": (start_ns - self.origin_ns) / 1000.0,
                "dur": (end_ns - start_ns) / 1000.0,
            }  # fmt: skip
            if args:
                ev["args"] = args
            self.events.append(ev)

    def record_op(self, prim, start_ns, end_ns):
        self.add(prim.name, start_ns, end_ns, "op")

    def trace_document(self) -> dict:
        """The Chrome trace-event document of the recorded events."""
        meta = [{"ph": "M", "name": "process_name", "pid": 1, "args": {"name": "/host:CPU"}}]
        meta += [
            {"ph": "M", "name": "thread_name", "pid": 1, "tid": tid,
             "args": {"name": f"python thread {ident}"}}
            for ident, tid in self.tids.items()
        ]  # fmt: skip
        with self.lock:
            return {"displayTimeUnit": "ns", "traceEvents": meta + list(self.events)}

    def export(self) -> str:
        """Write the trace file; returns its path."""
        return write_trace(self.logdir, self.trace_document(), self.start_wall)


def write_trace(logdir, doc: dict, start_wall: float, host: str | None = None) -> str:
    """Write ``doc`` where TensorBoard's profile plugin looks:
    ``<logdir>/plugins/profile/<run>/<host>.trace.json.gz``; returns the path."""
    run = datetime.datetime.fromtimestamp(start_wall).strftime("%Y_%m_%d_%H_%M_%S")
    folder = os.path.join(os.fspath(logdir), "plugins", "profile", run)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{host or socket.gethostname()}.trace.json.gz")
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(doc, f)
    return path


_session: _Session | None = None
_lock = threading.Lock()


def enabled() -> bool:
    """True while a profiling session is active."""
    return _session is not None


def start(logdir, options=None) -> None:
    """Start profiling into ``logdir``; raises AlreadyExistsError if a session runs."""
    global _session
    with _lock:
        if _session is not None:
            raise AlreadyExistsError(None, None, "Another profiler is running.")
        if options is not None and not isinstance(options, ProfilerOptions):
            raise TypeError(
                f"options must be a tf.profiler.experimental.ProfilerOptions, got "
                f"{type(options).__name__}"
            )
        _session = _Session(logdir, options or ProfilerOptions())
        _dispatch.set_op_timer(_session.record_op)


def stop(save=True) -> None:
    """Stop profiling and, if ``save``, write the trace for TensorBoard."""
    session = _stop_session()
    if save:
        session.export()


def _stop_session() -> _Session:
    global _session
    with _lock:
        if _session is None:
            raise UnavailableError(
                None, None, "Cannot export profiling results. No profiler is running."
            )
        session, _session = _session, None
        _dispatch.set_op_timer(None)
    return session


class Profile:
    """Context manager: profile the ``with`` body into ``logdir``."""

    def __init__(self, logdir, options=None):
        self._logdir = logdir
        self._options = options

    def __enter__(self):
        start(self._logdir, self._options)

    def __exit__(self, typ, value, tb):
        stop()


class Trace:
    """Context manager: a named region in the profile (e.g. a training step), with
    ``kwargs`` (``step_num=...``) as its arguments. Costs nothing when not profiling."""

    def __init__(self, name, **kwargs):
        self._name = name
        self._args = {k: str(v) for k, v in kwargs.items()}
        self._session = _session
        self._start = None

    def __enter__(self):
        if self._session is not None:
            self._start = time.perf_counter_ns()
        return self

    def set_metadata(self, **kwargs):
        """Add arguments to the event (for values known only inside the region)."""
        self._args.update({k: str(v) for k, v in kwargs.items()})

    def __exit__(self, typ, value, tb):
        if self._start is not None and self._session is _session:
            self._session.add(self._name, self._start, time.perf_counter_ns(), "trace",
                              self._args)  # fmt: skip


from rill.profiler.experimental import client, server  # noqa: E402 - they use the above
