"""Summary writers and the per-thread summary state: ``tf.summary.create_file_writer``,
``create_noop_writer``, ``SummaryWriter``, ``record_if``, ``should_record_summaries``,
``flush`` and ``tf.summary.experimental.get_step`` / ``set_step``.

As in TensorFlow, the default writer, the default step and the recording condition
belong to the thread that sets them (``writer.as_default()`` in one thread does not make
it the default in another); one writer may be shared by any number of threads.
"""

from __future__ import annotations

import os
import threading
import weakref

import numpy as np

from rill.core import dispatch as _dispatch
from rill.core import dtypes as _d
from rill.core.context import init_scope
from rill.core.convert import constant
from rill.core.dispatch import bind, primitive
from rill.core.errors import UnimplementedError
from rill.core.tensor import Tensor
from rill.ops._op import tf_export
from rill.summary.event_file import EventFileWriter

__all__ = [
    "SummaryWriter", "create_file_writer", "create_noop_writer", "record_if",
    "should_record_summaries", "flush", "get_step", "set_step",
]  # fmt: skip


class _State(threading.local):
    def __init__(self):
        self.writer = None  # the default SummaryWriter of this thread
        self.step = None  # the default step: an int, a tensor or a Variable
        self.is_recording = None  # record_if's condition: bool, bool tensor or callable


state = _State()


# --------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------


@tf_export("summary.SummaryWriter")
class SummaryWriter:
    """A summary writer: ``as_default()`` / ``set_as_default()`` make it the default of
    the current thread (optionally with a default ``step``); ``flush()``, ``close()``."""

    def set_as_default(self, step=None):
        """Make this the current thread's default writer (and ``step`` its default step,
        when not None) until another writer is set."""
        self.as_default(step).__enter__()

    def as_default(self, step=None):
        """A context manager that makes this the current thread's default writer (and
        ``step``, when not None, the default step); on exit it restores the previous
        ones and flushes this writer."""
        return _DefaultWriter(self, step)

    def init(self):
        """Initialise the writer (file writers are ready when created)."""
        raise NotImplementedError()

    def flush(self):
        raise NotImplementedError()

    def close(self):
        raise NotImplementedError()


class _DefaultWriter:
    """``SummaryWriter.as_default()``: a class, so that ``set_as_default`` can enter it
    without ever exiting."""

    __slots__ = ("_writer", "_step", "_old_writer", "_old_step")

    def __init__(self, writer, step):
        self._writer = writer
        self._step = step
        self._old_writer = None
        self._old_step = None

    def __enter__(self):
        st = state
        self._old_writer = st.writer
        st.writer = self._writer
        if self._step is not None:
            self._old_step = st.step
            st.step = self._step
        return self._writer

    def __exit__(self, *exc):
        st = state
        st.writer.flush()
        st.writer = self._old_writer
        if self._step is not None:
            st.step = self._old_step
        return False


class _FileWriter(SummaryWriter):
    """What ``create_file_writer`` returns: writes an event file in ``logdir``."""

    def __init__(self, logdir, max_queue, flush_millis, filename_suffix):
        self._events = EventFileWriter(logdir, max_queue, flush_millis, filename_suffix)
        self._logdir = logdir
        # dropped without close(): flushed and closed when garbage collected
        self._finalizer = weakref.finalize(self, self._events.close)

    @property
    def logdir(self) -> str:
        return self._logdir

    @property
    def path(self) -> str:
        """The event file this writer writes."""
        return self._events.path

    def _check_open(self):
        if self._events.closed:
            raise RuntimeError(f"SummaryWriter {self!r} is already closed")

    def set_as_default(self, step=None):
        self._check_open()
        super().set_as_default(step)

    def as_default(self, step=None):
        self._check_open()
        return super().as_default(step)

    def init(self):
        self._check_open()

    def flush(self):
        """Write every pending summary to the file (no-op once closed). Inside a
        ``rill.function``: an op that asks the writer's thread to write at each call."""
        if _dispatch.state.graph is not None:
            bind(flush_summary_p, (), {"writer": self})
            return None
        self._events.flush()

    def close(self):
        """Flush and close the file (idempotent)."""
        self._events.close()

    def __repr__(self):
        state_ = "closed" if self._events.closed else "open"
        return f"<rill.summary.SummaryWriter logdir={self._logdir!r} ({state_})>"


def _flush_kernel(*, writer):
    writer._events.request_flush()
    return ()


flush_summary_p = primitive(
    "FlushSummaryWriter", _flush_kernel, lambda **_: (), n_out=-1, stateful=True, host=True
)


class _NoopWriter(SummaryWriter):
    """What ``create_noop_writer`` returns: every method does nothing, and ``as_default``
    leaves the current default writer in place."""

    def set_as_default(self, step=None):
        pass

    def as_default(self, step=None):
        return _Nothing()

    def init(self):
        pass

    def flush(self):
        pass

    def close(self):
        pass

    def __repr__(self):
        return "<rill.summary.SummaryWriter (no-op)>"


class _Nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _python_value(name, value, kind):
    if isinstance(value, Tensor):
        if _dispatch.is_symbolic(value):
            raise ValueError(
                f"Invalid graph Tensor argument '{name}={value}' to create_file_writer() "
                f"inside a rill.function: the writer is created when the function is "
                f"traced, so it cannot consume tensors computed inside it."
            )
        value = value.numpy()
    if isinstance(value, np.ndarray):
        value = value.item()
    if isinstance(value, bytes) and kind is str:
        value = value.decode()
    return kind(value)


@tf_export("summary.create_file_writer")
def create_file_writer(
    logdir,
    max_queue=None,
    flush_millis=None,
    filename_suffix=None,
    name=None,
    experimental_trackable=False,
    experimental_mesh=None,
):
    """A ``SummaryWriter`` writing an event file in ``logdir`` (created if missing):
    summaries are queued and written by a background thread when more than
    ``max_queue`` (10) wait, every ``flush_millis`` (120000) ms, and on ``flush()`` /
    ``close()``; the file name ends with ``filename_suffix`` (``".v2"``). Inside a
    ``rill.function`` the writer is created when the function is traced."""
    if logdir is None:
        raise ValueError("Argument `logdir` cannot be None")
    if experimental_mesh is not None:
        raise UnimplementedError("create_file_writer: DTensor meshes are not supported by rill")
    logdir = (
        os.fspath(logdir)
        if isinstance(logdir, (str, os.PathLike))
        else _python_value("logdir", logdir, str)
    )
    max_queue = 10 if max_queue is None else _python_value("max_queue", max_queue, int)
    flush_millis = (
        120_000 if flush_millis is None else _python_value("flush_millis", flush_millis, float)
    )
    suffix = (
        ".v2" if filename_suffix is None else _python_value("filename_suffix", filename_suffix, str)
    )
    with init_scope():
        return _FileWriter(logdir, max_queue, flush_millis, suffix)


@tf_export("summary.create_noop_writer")
def create_noop_writer():
    """A summary writer that does nothing (a placeholder where a writer is expected)."""
    return _NoopWriter()


@tf_export("summary.flush")
def flush(writer=None, name=None):
    """Write ``writer``'s (by default the default writer's) pending summaries to its file;
    returns when they are there. Without a writer, does nothing."""
    if writer is None:
        writer = state.writer
        if writer is None:
            return None
    if isinstance(writer, SummaryWriter):
        return writer.flush()
    raise ValueError(f"Invalid argument to flush(): {writer!r}")


# --------------------------------------------------------------------------------------
# Recording condition and default step
# --------------------------------------------------------------------------------------


@tf_export("summary.record_if")
def record_if(condition):
    """``with tf.summary.record_if(condition):`` summaries inside record only when
    ``condition`` holds: a bool, a boolean tensor, or a callable returning one (called
    when each summary is written, or, inside a ``rill.function``, when it is traced)."""
    return _RecordIf(condition)


class _RecordIf:
    __slots__ = ("_condition", "_old")

    def __init__(self, condition):
        self._condition = condition
        self._old = None

    def __enter__(self):
        st = state
        self._old = st.is_recording
        st.is_recording = self._condition

    def __exit__(self, *exc):
        state.is_recording = self._old
        return False


def recording_condition():
    """Whether summaries record now: True, False, or a boolean tensor (a condition whose
    value is known only when the traced function runs). False without a default writer."""
    st = state
    if st.writer is None:
        return False
    cond = st.is_recording
    if cond is None:
        return True
    if callable(cond):
        cond = cond()
    if isinstance(cond, Tensor):
        if _dispatch.is_symbolic(cond):
            const = getattr(cond, "_const", None)
            return cond if const is None else bool(const)
        return bool(cond.numpy())
    return bool(cond)


@tf_export("summary.should_record_summaries")
def should_record_summaries():
    """A boolean tensor: True if summaries written now would be recorded (a default
    writer is set and the ``record_if`` condition holds)."""
    cond = recording_condition()
    if isinstance(cond, Tensor):
        return cond
    return constant(cond, dtype=_d.bool)


@tf_export("summary.experimental.get_step")
def get_step():
    """The default step of the current thread (``set_step``), or None."""
    return state.step


@tf_export("summary.experimental.set_step")
def set_step(step):
    """Set the current thread's default step for summaries (an int, a tensor or a
    ``Variable``; None unsets it). A Python int is fixed into a ``rill.function`` when it
    is traced; use a Variable for a step that changes between calls."""
    state.step = step
