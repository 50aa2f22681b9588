"""tf.summary eagerly: every op's values, steps, tags and metadata read back with
TensorBoard's own reader; the step rules; record_if; writers and their files."""

from __future__ import annotations

import io
import os
import re
import socket
import struct
import threading
import wave
import zlib

import numpy as np
import pytest

import rill as tf
from tests.summary.events import (
    accumulator,
    by_tag,
    event_files,
    loaded_events,
    only_file,
    raw_events,
    summaries,
    tensor_values,
)

pytest.importorskip("google.protobuf")


@pytest.fixture
def logdir(tmp_path):
    return str(tmp_path / "logs")


def _png_pixels(data: bytes) -> np.ndarray:
    """Decode the PNGs rill writes (8-bit, filter 0, one IDAT) without a PNG library."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n : pos + 12 + n])
        assert crc == zlib.crc32(kind + body)
        chunks.setdefault(kind, b"")
        chunks[kind] += body
        pos += 12 + n
    w, h, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    c = {0: 1, 4: 2, 2: 3, 6: 4}[color]
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(h, 1 + w * c)
    assert depth == 8 and not raw[:, 0].any()
    return raw[:, 1:].reshape(h, w, c)


# ------------------------------------------------------------------------------- files
def test_file_name_first_event_and_framing(logdir):
    w = tf.summary.create_file_writer(logdir)
    path = w.path
    name = os.path.basename(path)
    m = re.fullmatch(r"events\.out\.tfevents\.(\d{10})\.(.+)\.(\d+)\.(\d+)\.v2", name)
    assert m, name
    assert m.group(2) == socket.gethostname() and int(m.group(3)) == os.getpid()
    # the file and its version event exist as soon as the writer does
    first = raw_events(path)
    assert len(first) == 1 and first[0].file_version == "brain.Event:2"
    assert first[0].wall_time == float(int(m.group(1)))
    w.close()
    w2 = tf.summary.create_file_writer(logdir, filename_suffix=".mine")
    assert w2.path.endswith(".mine") and int(w2.path.split(".")[-2]) > int(m.group(4))
    w2.close()
    w3 = tf.summary.create_file_writer(logdir, filename_suffix="abc")  # a dot is added
    assert re.search(r"\.\d+\.abc$", w3.path)
    w3.close()


def test_scalars_read_back_by_tensorboard(logdir):
    w = tf.summary.create_file_writer(logdir)
    values = [0.5, 0.25, 1e-3, -7.0, 3]
    with w.as_default():
        for i, v in enumerate(values):
            assert bool(tf.summary.scalar("loss", v, step=i))
        tf.summary.scalar("acc", tf.constant(0.75, tf.float64), step=10, description="accuracy")
        tf.summary.scalar("flag", True, step=11)
    w.close()
    acc = accumulator(logdir)
    assert sorted(acc.Tags()["tensors"]) == ["acc", "flag", "loss"]
    got = tensor_values(acc, "loss")
    assert [s for s, _ in got] == list(range(5))
    np.testing.assert_array_equal([v for _, v in got], np.float32(values))
    assert all(v.dtype == np.float32 and v.shape == () for _, v in got)
    assert tensor_values(acc, "acc") == [(10, np.float32(0.75))]
    assert tensor_values(acc, "flag") == [(11, np.float32(1.0))]
    md = acc.SummaryMetadata("acc")
    assert md.plugin_data.plugin_name == "scalars" and md.summary_description == "accuracy"
    # wall times never go backwards within a file
    walls = [e.wall_time for e in raw_events(only_file(logdir))]
    assert walls == sorted(walls)


def test_histogram_buckets_as_tensorboard_computes_them(logdir):
    from tensorboard.plugins.histogram.summary_v2 import histogram_pb

    rng = np.random.default_rng(0)
    cases = {
        "normal": (rng.normal(size=(50, 7)).astype(np.float32), None),
        "ints": (np.arange(10), 4),
        "single": (np.full(5, 2.5), 6),
        "empty": (np.zeros((0,), np.float32), None),
        "none": (np.arange(3.0), 0),
    }
    w = tf.summary.create_file_writer(logdir)
    with w.as_default(step=2):
        for name, (data, buckets) in cases.items():
            tf.summary.histogram(name, data, buckets=buckets)
    w.close()
    got = by_tag(only_file(logdir))
    for name, (data, buckets) in cases.items():
        want = histogram_pb(name, data, buckets=buckets).value[0].tensor
        from tensorboard.util import tensor_util

        expected = tensor_util.make_ndarray(want)
        ((step, value),) = got[name]
        assert step == 2 and value.dtype == np.float64
        np.testing.assert_array_equal(value, expected, err_msg=name)
    assert accumulator(logdir).SummaryMetadata("normal").plugin_data.plugin_name == "histograms"


def test_images_as_pngs(logdir):
    rng = np.random.default_rng(1)
    floats = rng.uniform(-0.2, 1.2, size=(4, 5, 6, 3)).astype(np.float32)
    gray = rng.integers(0, 256, size=(2, 3, 4, 1)).astype(np.uint8)
    wide = rng.integers(-(2**31), 2**31 - 1, size=(1, 2, 2, 4)).astype(np.int32)
    w = tf.summary.create_file_writer(logdir)
    with w.as_default(step=0):
        tf.summary.image("floats", floats, max_outputs=2)
        tf.summary.image("gray", gray)
        tf.summary.image("wide", wide, step=5)
        tf.summary.image("none", floats, max_outputs=0)
    w.close()
    got = by_tag(only_file(logdir))
    ((step, v),) = got["floats"]
    assert v.shape == (4,) and v[0] == b"6" and v[1] == b"5"  # width, height, then PNGs
    want = np.clip(floats * np.float32(255.5), 0, 255).astype(np.uint8)
    for i in range(2):
        np.testing.assert_array_equal(_png_pixels(v[2 + i]), want[i])
    ((_, v),) = got["gray"]
    assert v.shape == (4,)
    for i in range(2):
        np.testing.assert_array_equal(_png_pixels(v[2 + i]), gray[i])
    ((step, v),) = got["wide"]
    assert step == 5
    np.testing.assert_array_equal(_png_pixels(v[2]), np.clip(wide[0] // 2**23, 0, 255))
    ((_, v),) = got["none"]
    assert list(v) == [b"6", b"5"]


def test_text_and_generic_write(logdir):
    w = tf.summary.create_file_writer(logdir)
    md = tf.summary.experimental  # noqa: F841 - the namespace exists
    with w.as_default(step=1):
        tf.summary.text("note", "hello *world*")
        tf.summary.text("table", tf.constant([["a", "b"], ["c", "é"]]))
        tf.summary.write("raw", tf.constant([1, 2, 3]))
        tf.summary.write("lazy", lambda: tf.constant(2.5, tf.float64), step=4)
        from rill.core.protos import message_classes

        meta = message_classes()["SummaryMetadata"](display_name="dn")
        meta.plugin_data.plugin_name = "custom"
        tf.summary.write("meta", 1.0, metadata=meta)
        tf.summary.write("meta_bytes", 1.0, metadata=meta.SerializeToString())
    w.close()
    path = only_file(logdir)
    got = by_tag(path)
    assert got["note"] == [(1, np.array(b"hello *world*", object))]
    np.testing.assert_array_equal(
        got["table"][0][1], np.array([[b"a", b"b"], [b"c", "é".encode()]], object)
    )
    np.testing.assert_array_equal(got["raw"][0][1], np.array([1, 2, 3], np.int32))
    assert got["lazy"][0][0] == 4 and got["lazy"][0][1].dtype == np.float64
    plugins = {tag: p for _, _, tag, p, _ in summaries(path)}
    assert plugins["note"] == "text" and plugins["raw"] == "" and plugins["meta"] == "custom"
    ev = [e for e in raw_events(path) if e.summary.value and e.summary.value[0].tag == "raw"][0]
    assert not ev.summary.value[0].HasField("metadata")  # no metadata given: none written
    metas = [e.summary.value[0].metadata for e in raw_events(path)[1:]]
    assert metas[-1] == metas[-2]


def test_audio_as_wav(logdir):
    t = np.linspace(0, 1, 800, dtype=np.float32)
    clips = np.stack([np.stack([np.sin(2 * np.pi * f * t), 0.5 * np.cos(2 * np.pi * f * t)], 1)
                      for f in (220, 440, 880, 1760)])  # fmt: skip
    w = tf.summary.create_file_writer(logdir)
    with w.as_default(step=3):
        tf.summary.audio("tone", clips, 8000, max_outputs=3)
    w.close()
    ((step, v),) = by_tag(only_file(logdir))["tone"]
    assert step == 3 and v.shape == (3, 2) and list(v[:, 1]) == [b""] * 3
    for i in range(3):
        with wave.open(io.BytesIO(v[i, 0])) as f:
            assert (f.getnchannels(), f.getsampwidth(), f.getframerate()) == (2, 2, 8000)
            pcm = np.frombuffer(f.readframes(f.getnframes()), "<i2").reshape(-1, 2)
        want = np.clip(np.round(clips[i] * 32768), -32768, 32767)
        np.testing.assert_array_equal(pcm, want)
    md = accumulator(logdir).SummaryMetadata("tone")
    assert md.plugin_data.plugin_name == "audio" and md.plugin_data.content == b"\x10\x0b"
    with pytest.raises(ValueError, match="Unknown encoding"):
        tf.summary.audio("x", clips, 8000, step=0, encoding="mp3")


# -------------------------------------------------------------------------- step rules
def test_step_rules(logdir):
    w = tf.summary.create_file_writer(logdir)
    # without a writer nothing is written and no step is needed
    assert not bool(tf.summary.scalar("a", 1.0))
    assert tf.summary.experimental.get_step() is None
    with w.as_default():
        with pytest.raises(ValueError, match="No step set"):
            tf.summary.scalar("a", 1.0)
        with pytest.raises(ValueError, match="No step set"):
            tf.summary.histogram("a", [1.0])
        with pytest.raises(ValueError, match="must be a scalar"):
            tf.summary.scalar("a", 1.0, step=[1, 2])
        with pytest.raises(TypeError):
            tf.summary.scalar("a", 1.0, step=1.5)
        with tf.summary.record_if(False):  # not recording: no step needed
            assert not bool(tf.summary.scalar("a", 1.0))
        tf.summary.experimental.set_step(7)
        try:
            tf.summary.scalar("from_set_step", 1.0)
            step_var = tf.Variable(11, dtype=tf.int64)
            tf.summary.scalar("from_variable", 2.0, step=step_var)
            with w.as_default(step=20):
                assert tf.summary.experimental.get_step() == 20
                tf.summary.scalar("from_as_default", 3.0)
            assert tf.summary.experimental.get_step() == 7
        finally:
            tf.summary.experimental.set_step(None)
    w.close()
    got = by_tag(only_file(logdir))
    assert got["from_set_step"][0][0] == 7
    assert got["from_variable"][0][0] == 11
    assert got["from_as_default"][0][0] == 20


def test_errors_as_tensorflow_raises(logdir):
    with pytest.raises(ValueError, match="Expected scalar shape"):
        tf.summary.scalar("a", [1.0, 2.0])  # checked even without a writer
    with pytest.raises(TypeError, match="must be of type tf.string"):
        tf.summary.text("a", 1)
    with pytest.raises(ValueError, match="cannot be None"):
        tf.summary.create_file_writer(None)
    w = tf.summary.create_file_writer(logdir)
    with w.as_default(step=0):
        with pytest.raises(ValueError, match="rank 4"):
            tf.summary.image("a", np.zeros((2, 2, 3)))
        with pytest.raises(AttributeError, match="floating point or integer"):
            tf.summary.image("a", np.zeros((1, 2, 2, 3), bool))
        with pytest.raises(tf.errors.InvalidArgumentError, match="channels"):
            tf.summary.image("a", np.zeros((1, 2, 2, 5), np.float32))
        with pytest.raises(tf.errors.InvalidArgumentError):
            tf.summary.image("a", np.zeros((1, 2, 2, 3), np.float32), max_outputs=-1)
        with pytest.raises(ValueError, match="rank 3"):
            tf.summary.audio("a", np.zeros((2, 3)), 100)
        with pytest.raises(ValueError, match="graph_data"):
            tf.summary.graph(3)
        with pytest.raises(ValueError, match="Must enable trace"):
            tf.summary.trace_export("x", step=0)
        with pytest.raises(ValueError, match="Invalid argument to flush"):
            tf.summary.flush(3)
    w.close()
    w.close()  # idempotent
    w.flush()  # a no-op once closed
    for enter in (w.as_default, w.set_as_default, w.init):
        with pytest.raises(RuntimeError, match="already closed"):
            enter()
    w3 = tf.summary.create_file_writer(logdir)
    w3.set_as_default()
    try:
        w3.close()
        with pytest.raises(tf.errors.NotFoundError):
            tf.summary.scalar("y", 1.0, step=0)
    finally:
        tf.summary.create_noop_writer().set_as_default()  # does not reset the default
        from rill.summary.writer import state

        state.writer = None


def test_record_if_and_should_record(logdir):
    assert not bool(tf.summary.should_record_summaries())
    w = tf.summary.create_file_writer(logdir)
    with w.as_default():
        assert bool(tf.summary.should_record_summaries())
        with tf.summary.record_if(False):
            assert not bool(tf.summary.should_record_summaries())
            assert not bool(tf.summary.scalar("off", 1.0, step=0))
        with tf.summary.record_if(tf.constant(False)):
            assert not bool(tf.summary.scalar("off_tensor", 1.0, step=0))
        for i in range(6):
            with tf.summary.record_if(lambda i=i: i % 3 == 0):
                tf.summary.scalar("every3", float(i), step=i)
    w.close()
    got = by_tag(only_file(logdir))
    assert set(got) == {"every3"} and [s for s, _ in got["every3"]] == [0, 3]


def test_noop_writer_and_flush(logdir):
    noop = tf.summary.create_noop_writer()
    assert isinstance(noop, tf.summary.SummaryWriter)
    with noop.as_default() as x:
        assert x is None
        assert not bool(tf.summary.scalar("a", 1.0, step=0))
    noop.flush(), noop.close(), noop.init(), noop.set_as_default()
    assert tf.summary.flush() is None  # no default writer: nothing to do
    w = tf.summary.create_file_writer(logdir, max_queue=1000, flush_millis=10**9)
    with w.as_default() as got:
        assert got is w
        tf.summary.scalar("a", 1.0, step=0)
        assert len(raw_events(w.path)) == 1  # queued, not yet in the file
        tf.summary.flush()
        assert len(raw_events(w.path)) == 2
        tf.summary.scalar("b", 1.0, step=0)
    assert len(raw_events(w.path)) == 3  # leaving as_default flushes
    with noop.as_default():  # the outer default stays in place
        pass
    w.close()


def test_name_scopes_prefix_tags(logdir):
    w = tf.summary.create_file_writer(logdir)
    with tf.name_scope("outer"), w.as_default(step=0):
        tf.summary.scalar("in/x", 1.0)
        with tf.summary.experimental.summary_scope("foo bar", "dflt") as (tag, scope):
            assert tag == "outer/foo bar" and scope == "outer/foobar/"
            tf.summary.write(tag, 2.0)
    w.close()
    assert set(by_tag(only_file(logdir))) == {"outer/in/x", "outer/foo bar"}


def test_thread_local_default_writer(logdir):
    w = tf.summary.create_file_writer(logdir)
    seen = {}
    with w.as_default(step=1):

        def other():
            seen["writer"] = tf.summary.should_record_summaries().numpy()
            seen["step"] = tf.summary.experimental.get_step()

        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert seen == {"writer": False, "step": None}
    w.close()


def test_write_raw_pb(logdir):
    from rill.core.protos import message_classes

    summary = message_classes()["Summary"]()
    summary.value.add(tag="legacy", simple_value=1.5)
    w = tf.summary.create_file_writer(logdir)
    with w.as_default():
        with pytest.raises(ValueError, match="No step set"):
            tf.summary.experimental.write_raw_pb(summary.SerializeToString())
        tf.summary.experimental.write_raw_pb(summary.SerializeToString(), step=9)
    w.close()
    events = loaded_events(only_file(logdir))  # TensorBoard migrates simple_value to tensors
    (ev,) = [e for e in events if e.summary.value]
    assert ev.step == 9 and ev.summary.value[0].tag == "legacy"


def test_unclosed_writer_is_flushed_when_dropped(logdir):
    import gc

    w = tf.summary.create_file_writer(logdir)
    with w.as_default(step=0):
        tf.summary.scalar("dropped", 1.0)
        w._events._max_queue = 10**6  # would stay queued
    path = w.path
    del w
    gc.collect()
    assert "dropped" in by_tag(path)


def test_event_files_per_writer(logdir):
    a = tf.summary.create_file_writer(os.path.join(logdir, "a"))
    b = tf.summary.create_file_writer(os.path.join(logdir, "b"))
    with a.as_default(step=0):
        tf.summary.scalar("x", 1.0)
        with b.as_default(step=1):
            tf.summary.scalar("x", 2.0)
        tf.summary.scalar("x", 3.0)
    a.close()
    b.close()
    files = event_files(logdir)
    assert len(files) == 2
    assert [s for s, _ in by_tag(a.path)["x"]] == [0, 0]
    assert [s for s, _ in by_tag(b.path)["x"]] == [1]


def test_missing_protobuf_names_the_extra(monkeypatch, tmp_path):
    import sys

    from rill.core import protos

    monkeypatch.setattr(protos, "_built", 0)  # as if no message class were built yet
    monkeypatch.setattr(protos, "_CLASSES", {})
    monkeypatch.setitem(sys.modules, "google.protobuf", None)
    with pytest.raises(ImportError, match=r"rill\[proto\]"):
        tf.summary.create_file_writer(str(tmp_path))
    assert not bool(tf.summary.scalar("x", 1.0, step=0))  # no writer: nothing needed
