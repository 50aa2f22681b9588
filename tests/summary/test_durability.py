"""Nothing is lost: many threads, exceptions, interpreter exit; and a writer killed with
SIGKILL leaves a file whose complete records all read back (a torn last record is
skipped by TensorBoard's reader)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import rill as tf
from tests.summary.events import (
    by_tag,
    event_files,
    event_pb2,
    loaded_events,
    only_file,
    raw_events,
)

pytest.importorskip("google.protobuf")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _python(code: str, *args, **kwargs):
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_100k_scalars_from_4_threads(tmp_path):
    w = tf.summary.create_file_writer(str(tmp_path))
    n_threads, per_thread = 4, 25_000
    errors = []

    def work(k):
        try:
            with w.as_default():
                for i in range(per_thread):
                    tf.summary.scalar(f"thread{k}", float(i), step=i)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.close()
    assert not errors
    # framing checked by rill's reader (TensorBoard's pure-Python one takes seconds
    # here), every record parsed by TensorBoard's Event class
    from rill.data.tfrecord import tf_record_iterator

    events = [event_pb2.Event.FromString(r) for r in tf_record_iterator(only_file(tmp_path))]
    assert len(events) == 1 + n_threads * per_thread
    walls = [e.wall_time for e in events[1:]]
    assert walls == sorted(walls)
    seen = {}
    for e in events[1:]:
        (v,) = e.summary.value
        seen.setdefault(v.tag, []).append(e.step)
    for k in range(n_threads):
        assert seen[f"thread{k}"] == list(range(per_thread))  # each thread's order kept


def test_exception_inside_as_default_loses_nothing(tmp_path):
    w = tf.summary.create_file_writer(str(tmp_path), max_queue=10**6, flush_millis=10**9)
    with pytest.raises(RuntimeError, match="boom"):
        with w.as_default(step=0):
            for i in range(50):
                tf.summary.scalar("x", float(i), step=i)
            raise RuntimeError("boom")
    # flushed on the way out, before close
    assert [s for s, _ in by_tag(w.path)["x"]] == list(range(50))
    w.close()


def test_interpreter_exit_flushes_open_writers(tmp_path):
    code = """
        import sys
        import rill as tf
        w = tf.summary.create_file_writer(sys.argv[1], max_queue=10**6, flush_millis=10**9)
        w.set_as_default(step=0)
        for i in range(200):
            tf.summary.scalar("x", float(i), step=i)
        tf.summary.text("t", "last words")
        if sys.argv[2] == "exception":
            raise SystemError("uncaught")
        if sys.argv[2] == "sys.exit":
            sys.exit(3)
    """
    ways = {"return": 0, "exception": 1, "sys.exit": 3}
    procs = {how: _python(code, str(tmp_path / how), how) for how in ways}  # in parallel
    for how, p in procs.items():
        out, err = p.communicate(timeout=60)
        assert p.returncode == ways[how], err
        got = by_tag(only_file(tmp_path / how))
        assert [s for s, _ in got["x"]] == list(range(200)) and "t" in got, how


def test_sigkill_leaves_readable_records(tmp_path):
    code = """
        import sys, time
        import rill as tf
        w = tf.summary.create_file_writer(sys.argv[1], max_queue=5)
        with w.as_default():
            i = 0
            while True:
                tf.summary.scalar("x", float(i), step=i)
                tf.summary.histogram("h", [float(i), 1.0, 2.0], step=i)
                if i == 500:
                    w.flush()
                    print("flushed", flush=True)
                if i > 500:
                    time.sleep(0.0005)
                i += 1
    """
    p = _python(code, str(tmp_path))
    try:
        assert p.stdout.readline().strip() == "flushed"
        time.sleep(0.3)  # the thread keeps writing: killed at some point mid-stream
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
        p.stdout.close()
        p.stderr.close()
    assert p.returncode == -signal.SIGKILL
    path = only_file(tmp_path)
    steps = [
        e.step for e in loaded_events(path) if e.summary.value and e.summary.value[0].tag == "x"
    ]
    assert steps[:501] == list(range(501)) and steps == list(range(len(steps)))

    # a record torn anywhere (header, data, crc) is skipped, never a crash
    size = os.path.getsize(path)
    whole = len(raw_events(path))
    for cut in (1, 5, 12, 20, 30):
        torn = str(tmp_path / f"torn{cut}" / os.path.basename(path))
        os.makedirs(os.path.dirname(torn))
        shutil.copyfile(path, torn)
        with open(torn, "r+b") as f:
            f.truncate(size - cut)
        events = loaded_events(torn)
        assert whole - 1 <= len(events) <= whole
        assert [e.step for e in events[1:]] == [e.step for e in raw_events(path)[1 : len(events)]]
    assert len(event_files(tmp_path)) == 6
