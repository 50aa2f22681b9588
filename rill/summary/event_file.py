"""TensorBoard event files: ``Event`` protocol buffers in TFRecord framing, written by a
background thread.

A file is named ``events.out.tfevents.<seconds>.<host>.<pid>.<n><suffix>`` (``n`` counts
the files this process opened) and starts with an ``Event`` holding ``file_version:
"brain.Event:2"``, written and flushed when the file is created.

``EventFileWriter.add`` is all a summary op does at run time: it stamps the wall time and
appends the op's data to a queue, under one lock (so wall times never go backwards in a
file). A background thread turns queued items into events (histogram buckets, PNGs, WAVs,
``TensorProto``s, serialization, CRCs) and writes them, as TensorFlow's writer does:
when more than ``max_queue`` items wait, when ``flush_millis`` have passed since the last
write, and on ``flush()`` and ``close()`` (both synchronous: the events are in the file
when they return). The thread writes at most every 50 ms, so that a fast training loop
hands it summaries in batches instead of waking it (and contending for the GIL) every
few steps. The queue is bounded: a producer that gets ``_QUEUE_LIMIT`` items ahead
of the disk waits for the thread instead of growing memory without limit. Writers still
open at interpreter exit are closed (flushed) then.
"""

from __future__ import annotations

import atexit
import itertools
import os
import socket
import threading
import time
import warnings
import weakref
from collections import deque

import numpy as np

from rill.core import dtypes as _d
from rill.core.protos import message_classes
from rill.data.tfrecord import TFRecordWriter
from rill.summary import encoding

__all__ = ["EventFileWriter", "FILE_VERSION", "WRITER_NAME"]

FILE_VERSION = "brain.Event:2"
WRITER_NAME = "rill.summary"  # Event.source_metadata.writer: the program that wrote the file
_QUEUE_LIMIT = 1 << 16  # queued items before producers wait for the writer thread
_MIN_INTERVAL_S = 0.05  # the writer thread rests this long after each write
_DT_DOUBLE, _DT_STRING = _d.float64.as_datatype_enum, _d.string.as_datatype_enum

_file_ids = itertools.count()  # the <n> of event file names, per process
_open: weakref.WeakSet = weakref.WeakSet()  # writers to close at interpreter exit


class EventFileWriter:
    """One event file in ``logdir`` and the thread that writes to it."""

    def __init__(self, logdir: str, max_queue: int = 10, flush_millis: int = 120_000,
                 filename_suffix: str = ".v2"):  # fmt: skip
        self._classes = message_classes()  # fails early, naming the extra, without protobuf
        self.logdir = logdir
        os.makedirs(logdir, exist_ok=True)
        now = time.time()
        if not filename_suffix.startswith("."):  # as TensorFlow names them ("" gives ".")
            filename_suffix = "." + filename_suffix
        name = (
            f"events.out.tfevents.{int(now):010d}.{socket.gethostname()}.{os.getpid()}."
            f"{next(_file_ids)}{filename_suffix}"
        )
        self.path = os.path.join(logdir, name)
        self._records = TFRecordWriter(self.path)
        first = self._classes["Event"](wall_time=float(int(now)), file_version=FILE_VERSION)
        first.source_metadata.writer = WRITER_NAME
        self._records.write(first.SerializeToString())
        self._records.flush()
        self._max_queue = max(0, int(max_queue))
        self._flush_secs = max(0.0, float(flush_millis) / 1000.0)
        self._queue: deque = deque()
        self._cv = threading.Condition(threading.Lock())
        self._io = threading.Lock()  # one drain at a time: events reach the file in order
        self._thread = None
        self._closed = False
        self._flush_soon = False  # request_flush(): the thread writes without waiting
        self._resting = False  # the thread rests after a write (see _run)
        self._error = None
        _open.add(self)

    @property
    def closed(self) -> bool:
        return self._closed

    # producers ------------------------------------------------------------------------
    def add(self, item: list) -> bool:
        """Queue ``item`` (``[kind, wall_time, step, ...]``; the wall time is set here).
        False if the writer is closed."""
        cv = self._cv
        with cv:
            if self._closed:
                return False
            item[1] = time.time()
            q = self._queue
            q.append(item)
            n = len(q)
            if self._thread is None:
                self._start()
            if n > self._max_queue and not self._resting:
                cv.notify_all()
            while len(q) >= _QUEUE_LIMIT and not self._closed:
                cv.notify_all()
                cv.wait(0.1)  # back-pressure: let the thread catch up
        return True

    def _start(self):
        t = threading.Thread(target=self._run, name=f"rill-summary-{self.path}", daemon=True)
        self._thread = t
        t.start()

    # the background thread ------------------------------------------------------------
    def _run(self):
        cv = self._cv
        while True:
            deadline = time.monotonic() + self._flush_secs
            with cv:
                while (
                    not self._closed
                    and not self._flush_soon
                    and len(self._queue) <= self._max_queue
                ):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    cv.wait(left)
                if self._closed:
                    return  # close() drains what is left
                self._flush_soon = False
            self._drain()
            # At most one write per _MIN_INTERVAL_S: a fast producer's summaries are
            # written in batches, waking this thread (and taking the GIL from the
            # training thread) rarely. Only close() (or a full queue) ends the rest early.
            with cv:
                self._resting = True
                if not self._closed:
                    cv.wait(_MIN_INTERVAL_S)
                self._resting = False

    def _drain(self):
        with self._io:
            with self._cv:
                items = list(self._queue)
                self._queue.clear()
                self._cv.notify_all()  # producers waiting on a full queue
            if self._records is None:
                return
            write = self._records.write
            for item in items:
                try:
                    for record in self._encode(item):
                        write(record)
                except Exception as e:  # noqa: BLE001 - one bad item must not stop the rest
                    if self._error is None:
                        self._error = e
                    warnings.warn(
                        f"rill.summary: could not write a summary to {self.path}: {e!r}",
                        RuntimeWarning,
                        stacklevel=1,
                    )
            self._records.flush()

    # encoding ---------------------------------------------------------------------------
    def _encode(self, item):
        """The serialized events of one queued item."""
        kind, wall, step = item[0], item[1], item[2]
        Event = self._classes["Event"]
        if kind == "graph":
            return [Event(wall_time=wall, step=step, graph_def=item[3]).SerializeToString()]
        if kind == "raw_pb":
            Summary = self._classes["Summary"]
            return [
                Event(wall_time=wall, step=step, summary=Summary.FromString(s)).SerializeToString()
                for s in item[3]
            ]
        tag, metadata, data = item[3], item[4], item[5]
        if kind == "tensor":
            dtype_enum = item[6].as_datatype_enum
        elif kind == "histogram":
            data, dtype_enum = encoding.histogram_buckets(data, item[6]), _DT_DOUBLE
        elif kind == "image":
            data, dtype_enum = _images(data, item[6]), _DT_STRING
        elif kind == "audio":
            data, dtype_enum = _audio(data, item[6], item[7]), _DT_STRING
        else:
            raise ValueError(f"unknown summary kind {kind!r}")
        return [encoding.tensor_event(wall, step, tag, metadata, data, dtype_enum)]

    # flushing and closing -------------------------------------------------------------
    def request_flush(self):
        """Have the background thread write what is queued now, without waiting for it."""
        with self._cv:
            if self._closed or not self._queue:
                return
            self._flush_soon = True
            if self._thread is None:
                self._start()
            if not self._resting:
                self._cv.notify_all()

    def flush(self):
        """Write every queued event to the file (returns when they are there)."""
        if self._closed:
            return
        self._drain()
        self._raise_error()

    def _raise_error(self):
        e, self._error = self._error, None
        if e is not None:
            raise e

    def close(self):
        """Flush and close the file (idempotent)."""
        with self._cv:
            if self._closed:
                return
            self._closed = True
            self._cv.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self._drain()
        with self._io:
            self._records.close()
            self._records = None
        _open.discard(self)
        self._raise_error()


def _images(data: np.ndarray, max_outputs: int) -> np.ndarray:
    """Width, height, then each of the first ``max_outputs`` images as PNG."""
    images = encoding.image_to_uint8(data)
    out = [str(images.shape[2]).encode(), str(images.shape[1]).encode()]
    out += [encoding.encode_png(im) for im in images[:max_outputs]]
    arr = np.empty(len(out), object)
    arr[:] = out
    return arr


def _audio(data: np.ndarray, sample_rate: int, max_outputs: int) -> np.ndarray:
    """``[k, 2]``: each of the first ``max_outputs`` clips as WAV, and an empty label."""
    clips = data[:max_outputs]
    arr = np.empty((len(clips), 2), object)
    for i, clip in enumerate(clips):
        arr[i, 0] = encoding.encode_wav(clip, sample_rate)
        arr[i, 1] = b""
    return arr


@atexit.register
def _close_all():
    for w in list(_open):
        try:
            w.close()
        except Exception:  # noqa: BLE001 - never fail interpreter exit
            pass
