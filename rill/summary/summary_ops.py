"""The summary ops: ``tf.summary.write``, ``scalar``, ``histogram``, ``image``, ``text``,
``audio``, ``graph``, ``trace_on`` / ``trace_off`` / ``trace_export``, and
``tf.summary.experimental.write_raw_pb`` / ``summary_scope``.

A summary is written by the ``WriteSummary`` primitive: stateful, host-side, it hands its
data to the writer's queue when it runs. Eagerly that is at the call; inside a
``rill.function`` it is an op of the graph, so each call of the function writes once, at
call time, with the step and data of that call (a Python step is fixed when tracing; a
``Variable`` step is read at each call). The default writer and the ``record_if``
condition are those of the thread at trace time, as in TensorFlow; a condition that is a
tensor becomes a ``cond`` around the write. Bucketing, image and audio encoding happen
later, in the writer's thread.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
import warnings

import numpy as np

from rill.core import dispatch as _dispatch
from rill.core import dtypes as _d
from rill.core.context import name_scope
from rill.core.convert import constant, convert_to_tensor
from rill.core.dispatch import AVal, bind, primitive
from rill.core.errors import InvalidArgumentError, NotFoundError, op_error
from rill.core.protos import message_classes
from rill.core.tensor import Tensor
from rill.ops._op import tf_export
from rill.ops.array_ops import cast
from rill.ops.control_flow import cond as _cond
from rill.summary import encoding
from rill.summary.writer import _FileWriter, get_step, recording_condition, state
from rill.tracing.graph import FuncGraph
from rill.tracing.graph_def import graph_to_graph_def
from rill.tracing.polymorphic import start_collecting_graphs, stop_collecting_graphs

__all__ = [
    "write", "scalar", "histogram", "image", "text", "audio", "graph", "trace_on",
    "trace_off", "trace_export", "write_raw_pb", "summary_scope",
]  # fmt: skip

_NO_STEP = (
    "No step set. Please specify one either through the `step` argument or through "
    "tf.summary.experimental.set_step()"
)

# --------------------------------------------------------------------------------------
# The primitives
# --------------------------------------------------------------------------------------


def _closed(writer):
    return op_error(
        NotFoundError,
        "WriteSummary",
        f"the summary writer for {writer.logdir!r} is closed; create a new one "
        f"(tf.summary.create_file_writer) to write more summaries",
    )


def _write_kernel(step, data, *extra, writer, tag, metadata, kind, options):
    _enqueue(writer, int(step.reshape(-1)[0]), data, extra, tag, metadata, kind, options)
    return np.array(True)


def _enqueue(writer, step, data, extra, tag, metadata, kind, options):
    """Hand a summary to ``writer``'s queue (a copy of its data: arrays may be reused)."""
    events = writer._events
    if kind == "tensor" or kind == "histogram":
        item = [kind, 0.0, step, tag, metadata, np.array(data), options[0]]
    elif kind == "image":
        _check_image(data)
        item = ["image", 0.0, step, tag, metadata, np.array(data[: options[0]]), options[0]]
    elif kind == "audio":
        if data.ndim != 3:
            raise op_error(
                InvalidArgumentError, "EncodeWav", f"audio data must have rank 3, got {data.shape}"
            )
        rate = int(extra[0]) if extra else options[0]
        clips = np.array(data[: options[1]], np.float32)
        item = ["audio", 0.0, step, tag, metadata, clips, rate, options[1]]
    elif kind == "raw_pb":
        item = ["raw_pb", 0.0, step, _parse_summaries(data)]
    else:
        raise ValueError(f"WriteSummary: unknown kind {kind!r}")
    if not events.add(item):
        raise _closed(writer)


def _check_image(data):
    if data.ndim != 4:
        raise op_error(
            InvalidArgumentError, "EncodePng", f"images must have rank 4, got shape {data.shape}"
        )
    if not 1 <= data.shape[-1] <= 4:
        raise op_error(
            InvalidArgumentError,
            "EncodePng",
            f"image must have 1, 2, 3, or 4 channels, got {data.shape[-1]}",
        )


def _parse_summaries(data) -> list:
    """The serialized ``Summary`` protos of a string tensor, checked."""
    summary = message_classes()["Summary"]  # (names the extra if protobuf is missing)
    from google.protobuf.message import DecodeError

    out = []
    for s in np.asarray(data, object).reshape(-1).tolist():
        s = s if isinstance(s, bytes) else str(s).encode()
        try:
            summary.FromString(s)
        except DecodeError:
            raise op_error(
                InvalidArgumentError, "WriteRawProtoSummary", "failed to parse a Summary proto"
            ) from None
        out.append(s)
    return out


def _write_rule(step, data, *extra, writer, tag, metadata, kind, options):
    if step.shape.rank is not None and step.shape.num_elements() not in (None, 1):
        raise ValueError(
            f"Argument `step` must be a scalar. Received step with shape {step.shape}."
        )
    return AVal([], _d.bool)


write_summary_p = primitive("WriteSummary", _write_kernel, _write_rule, stateful=True, host=True)


# --------------------------------------------------------------------------------------
# The generic write
# --------------------------------------------------------------------------------------

_TRUE = constant(True)
_FALSE = constant(False)


def _false():
    return _FALSE


def _step_tensor(step):
    """The step as an int64 scalar tensor (a Variable is read: at call time in a trace)."""
    t = convert_to_tensor(step, dtype=_d.int64)
    n = t.shape.num_elements()
    if n is not None and n != 1:
        raise ValueError(f"Argument `step` must be a scalar. Received step with shape {t.shape}.")
    return t


@functools.lru_cache(maxsize=1024)
def _metadata(plugin_name, description=None, content=b""):
    return encoding.summary_metadata(plugin_name, content, description)


def _serialize_metadata(metadata) -> bytes:
    if metadata is None:
        return b""
    if isinstance(metadata, (bytes, bytearray)):
        return bytes(metadata)
    if hasattr(metadata, "SerializeToString"):
        return metadata.SerializeToString()
    if isinstance(metadata, Tensor) and metadata.dtype is _d.string:
        return bytes(metadata.numpy())
    raise TypeError(
        f"metadata must be a SummaryMetadata proto or its serialized bytes, got "
        f"{type(metadata).__name__}: {metadata!r}"
    )


def _step(step):
    """A step argument: a Python int as is, anything else as an int64 scalar tensor."""
    return step if type(step) is int else _step_tensor(step)


def _write(tag, data, step, metadata: bytes, kind="tensor", options=(), extra=()):
    """Write ``data`` (a tensor or array, or a callable called only when recording) under
    ``tag`` to the default writer; a boolean tensor: whether it was written."""
    if step is not None:
        step = _step(step)
    writer = state.writer
    if writer is None or not isinstance(writer, _FileWriter):
        return _FALSE
    if step is None:
        step = state.step
    recording = recording_condition()
    if recording is False:
        return _FALSE

    def record():
        if step is None:
            raise ValueError(_NO_STEP)
        s = _step(step)
        value = data() if callable(data) else data
        if _dispatch.state.graph is None:  # eagerly: the kernel, without dispatch
            if type(value) is not np.ndarray:
                value = convert_to_tensor(value)
                opts = (value.dtype,) if kind == "tensor" else options
                value = value._value
            else:
                opts = (_d.from_numpy(value.dtype),) if kind == "tensor" else options
            step_int = s if type(s) is int else int(s._value.reshape(-1)[0])
            args = [e._value if isinstance(e, Tensor) else e for e in extra]
            _enqueue(writer, step_int, value, args, tag, metadata, kind, opts)
            return _TRUE
        value = convert_to_tensor(value)
        opts = (value.dtype,) if kind == "tensor" else options
        params = {"writer": writer, "tag": tag, "metadata": metadata, "kind": kind, "options": opts}
        s = convert_to_tensor(s, dtype=_d.int64) if type(s) is int else s
        return bind(write_summary_p, (s, value, *extra), params)

    if recording is True:
        return record()
    return _cond(recording, record, _false)


@tf_export("summary.write")
def write(tag, tensor, step=None, metadata=None, name=None):
    """Write ``tensor`` (or the result of calling it, only when recording) under ``tag``
    to the default writer, with ``metadata`` (a ``SummaryMetadata`` proto or its bytes).
    Returns a boolean tensor: False when there is no default writer or recording is off.
    ``step`` defaults to ``tf.summary.experimental.get_step()``, which must then be set."""
    return _write(_tag_string(tag), tensor, step, _serialize_metadata(metadata))


def _tag_string(tag) -> str:
    if isinstance(tag, Tensor):  # a string tensor known now (eagerly, or a constant)
        value = tag._const if _dispatch.is_symbolic(tag) else tag.numpy()
        if value is None:
            raise ValueError(f"the summary tag must be known when tracing, got {tag}")
        tag = np.asarray(value, object).item()
    return tag.decode() if isinstance(tag, bytes) else str(tag)


# --------------------------------------------------------------------------------------
# Tags and scopes
# --------------------------------------------------------------------------------------

_INVALID_SCOPE_CHARS = re.compile(r"[^-_/.A-Za-z0-9]")


def _tag(name) -> str:
    """The summary tag of ``name``: prefixed by the enclosing name scopes."""
    stack = name_scope._stack
    return "/".join((*stack, name)) if stack else name


@tf_export("summary.experimental.summary_scope")
@contextlib.contextmanager
def summary_scope(name, default_name="summary", values=None):
    """For custom summary ops: a name scope for ``name`` that yields ``(tag, scope)``,
    the tag being ``name`` prefixed by the enclosing name scopes (not uniquified, any
    characters kept)."""
    name = name or default_name
    tag = _tag(name)
    with name_scope(_INVALID_SCOPE_CHARS.sub("", name) or default_name) as scope:
        yield tag, scope


# --------------------------------------------------------------------------------------
# Typed summaries (TensorBoard's plugins)
# --------------------------------------------------------------------------------------


def _static_int(what, value, default):
    if value is None:
        return default
    if isinstance(value, Tensor):
        v = value._const if _dispatch.is_symbolic(value) else value.numpy()
        if v is None:
            raise ValueError(f"{what} must be known when the summary is written, got {value}")
        value = v
    return int(np.asarray(value).reshape(()))


@tf_export("summary.scalar")
def scalar(name, data, step=None, description=None):
    """Write a scalar (cast to float32) for TensorBoard's Scalars dashboard."""
    tag = _tag(name)
    if type(data) is float or type(data) is int:  # the common case, without a tensor
        data = np.array(data, np.float32)
    else:
        data = convert_to_tensor(data)
        rank = data.shape.rank
        if rank is not None and rank != 0:
            raise ValueError(f"Expected scalar shape, saw shape: {data.shape}.")
        if data.dtype is not _d.float32:
            data = cast(data, _d.float32)
    return _write(tag, data, step, _metadata("scalars", description))


@tf_export("summary.histogram")
def histogram(name, data, step=None, buckets=None, description=None):
    """Write a histogram of ``data``'s elements (``buckets`` equal-width buckets over
    [min, max], 30 by default) for TensorBoard's Histograms and Distributions."""
    tag = _tag(name)
    data = convert_to_tensor(data)
    n = max(0, _static_int("buckets", buckets, encoding.DEFAULT_BUCKET_COUNT))

    def buckets_data():
        return data if data.dtype is _d.float64 else cast(data, _d.float64)

    md = _metadata("histograms", description)
    return _write(tag, buckets_data, step, md, "histogram", (n,))


@tf_export("summary.image")
def image(name, data, step=None, max_outputs=3, description=None):
    """Write up to ``max_outputs`` images of ``data`` (``[k, height, width, channels]``,
    1 to 4 channels; floats in [0, 1] or integers, converted to uint8) as PNGs for
    TensorBoard's Images dashboard."""
    tag = _tag(name)

    def images():
        d = convert_to_tensor(data)
        shape = d.shape
        if shape.rank is not None and shape.rank != 4:
            raise ValueError(
                f"Tensor  must have rank 4.  Received rank {shape.rank}, shape {shape}"
            )
        if not (d.dtype.is_floating or d.dtype.is_integer):
            raise AttributeError("image dtype must be either floating point or integer")
        c = shape[-1] if shape.rank else None
        if c is not None and not 1 <= c <= 4:
            raise op_error(
                InvalidArgumentError,
                "EncodePng",
                f"image must have 1, 2, 3, or 4 channels, got {c}",
            )
        return d

    n = _static_int("max_outputs", max_outputs, 3)

    def checked():
        if n < 0:
            raise op_error(
                InvalidArgumentError,
                "assert_non_negative",
                f"Condition x >= 0 did not hold element-wise: x (max_outputs) = {n}",
            )
        return images()

    return _write(tag, checked, step, _metadata("images", description), "image", (n,))


@tf_export("summary.text")
def text(name, data, step=None, description=None):
    """Write a string tensor (any shape; Markdown) for TensorBoard's Text dashboard."""
    tag = _tag(name)
    data = convert_to_tensor(data)
    if data.dtype is not _d.string:
        raise TypeError(f"tensor must be of type tf.string; got tf.{data.dtype.name}")
    return _write(tag, data, step, _metadata("text", description))


_AUDIO_CONTENT = b"\x10\x0b"  # AudioPluginData {encoding: WAV (11)}


@tf_export("summary.audio")
def audio(name, data, sample_rate, step=None, max_outputs=3, encoding=None, description=None):
    """Write up to ``max_outputs`` clips of ``data`` (``[k, frames, channels]`` floats in
    [-1, 1]) as 16-bit WAVs at ``sample_rate`` Hz for TensorBoard's Audio dashboard."""
    if encoding is None:
        encoding = "wav"
    if encoding != "wav":
        raise ValueError(f"Unknown encoding: {encoding!r}")
    tag = _tag(name)
    n = _static_int("max_outputs", max_outputs, 3)
    extra = ()
    rate = None
    if isinstance(sample_rate, Tensor) and _dispatch.is_symbolic(sample_rate):
        extra = (sample_rate,)
    else:
        rate = _static_int("sample_rate", sample_rate, None)

    def clips():
        d = convert_to_tensor(data)
        if d.shape.rank is not None and d.shape.rank != 3:
            raise ValueError(
                f"Tensor  must have rank 3.  Received rank {d.shape.rank}, shape {d.shape}"
            )
        if n < 0:
            raise op_error(
                InvalidArgumentError,
                "assert_non_negative",
                f"Condition x >= 0 did not hold element-wise: x (max_outputs) = {n}",
            )
        return d if d.dtype is _d.float32 else cast(d, _d.float32)

    md = _metadata("audio", description, _AUDIO_CONTENT)
    return _write(tag, clips, step, md, "audio", (rate, n), extra)


def _is_graph_def(x) -> bool:
    return getattr(getattr(x, "DESCRIPTOR", None), "full_name", None) == "tensorflow.GraphDef"


@tf_export("summary.graph")
def graph(graph_data):
    """Write a graph (a traced function's ``FuncGraph``, e.g. ``f.get_concrete_function(
    ...).graph``, or a ``GraphDef``) for TensorBoard's Graphs dashboard. Eager only."""
    if _dispatch.state.graph is not None:
        raise ValueError("graph() cannot be invoked inside a graph context.")
    writer = state.writer
    if writer is None or not isinstance(writer, _FileWriter):
        return _FALSE
    if recording_condition() is not True:
        return _FALSE
    if isinstance(graph_data, FuncGraph):
        data = graph_to_graph_def(graph_data, add_shapes=True).SerializeToString()
    elif _is_graph_def(graph_data):
        data = graph_data.SerializeToString()
    else:
        raise ValueError(
            f"Argument 'graph_data' is not tf.Graph or tf.compat.v1.GraphDef. Received "
            f"graph_data={graph_data} of type {type(graph_data).__name__}."
        )
    if not writer._events.add(["graph", 0.0, 0, data]):
        raise _closed(writer)
    return _TRUE


@tf_export("summary.experimental.write_raw_pb")
def write_raw_pb(tensor, step=None, name=None):
    """Write serialized ``Summary`` protos (a string tensor of them) as they are."""
    if step is not None:
        step = _step_tensor(step)
    if state.writer is None:
        return _FALSE
    if step is None:
        step = get_step()
        if step is None:
            raise ValueError(_NO_STEP)
    data = convert_to_tensor(tensor, dtype=_d.string)
    return _write("", data, step, b"", "raw_pb")


# --------------------------------------------------------------------------------------
# Traces: the graphs of the functions that run, for the Graphs dashboard
# --------------------------------------------------------------------------------------

_trace_lock = threading.Lock()
_trace = None  # the list of graphs being collected while a trace is on


def _warn(msg):
    warnings.warn(msg, RuntimeWarning, stacklevel=3)


@tf_export("summary.trace_on")
def trace_on(graph=True, profiler=False, profiler_outdir=None):
    """Start collecting the graph of every ``rill.function`` that runs (in every thread),
    for ``trace_export``. rill has no profiler: ``profiler=True`` collects graphs only."""
    global _trace
    if _dispatch.state.graph is not None:
        _warn("Cannot enable trace inside a tf.function.")
        return
    with _trace_lock:
        if _trace is not None:
            _warn("Trace already enabled")
            return
        if profiler:
            _warn("rill has no profiler: tf.summary.trace_on(profiler=True) collects graphs only")
        _trace = start_collecting_graphs()


@tf_export("summary.trace_off")
def trace_off():
    """Stop the trace and discard what it collected."""
    global _trace
    with _trace_lock:
        graphs, _trace = _trace, None
    if graphs is not None:
        stop_collecting_graphs(graphs)


@tf_export("summary.trace_export")
def trace_export(name, step=None, profiler_outdir=None):
    """Stop the trace and write the graphs it collected (one ``RunMetadata`` whose
    function graphs TensorBoard's Graphs dashboard shows under the tag ``name``) to the
    default writer."""
    if step is not None:
        step = _step_tensor(step)
    if _dispatch.state.graph is not None:
        _warn("Cannot export trace inside a tf.function.")
        return
    with _trace_lock:
        graphs = _trace
        if graphs is None:
            raise ValueError("Must enable trace before export through tf.summary.trace_on.")
    try:
        if state.writer is not None:
            meta = message_classes()["RunMetadata"]()
            for g in list(graphs):
                fg = meta.function_graphs.add()
                fg.pre_optimization_graph.CopyFrom(graph_to_graph_def(g, add_shapes=True))
            data = constant(meta.SerializeToString(), dtype=_d.string)
            md = _metadata("graph_run_metadata_graph", None, b"1")
            _write(_tag(name), data, step, md)
    finally:
        trace_off()
