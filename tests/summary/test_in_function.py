"""Summaries inside rill.function: written at call time, once per call, with each
call's values and steps; the writer and recording condition are the trace's."""

from __future__ import annotations

import time

import numpy as np
import pytest

import rill as tf
from tests.summary.events import by_tag, only_file, raw_events

pytest.importorskip("google.protobuf")


@pytest.fixture
def logdir(tmp_path):
    return str(tmp_path / "logs")


def test_once_per_call_at_call_time(logdir):
    w = tf.summary.create_file_writer(logdir)
    step = tf.Variable(0, dtype=tf.int64)
    traces = []

    @tf.function
    def train_step(x):
        traces.append(1)
        loss = tf.reduce_sum(x * x)
        tf.summary.scalar("loss", loss, step=step)
        tf.summary.histogram("x", x, step=step)
        step.assign_add(1)
        return loss

    with w.as_default():
        losses = [float(train_step(tf.constant([float(i), 1.0]))) for i in range(5)]
    w.close()
    assert len(traces) == 1
    got = by_tag(only_file(logdir))
    assert [s for s, _ in got["loss"]] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose([float(v) for _, v in got["loss"]], losses)
    assert [s for s, _ in got["x"]] == [0, 1, 2, 3, 4]
    assert got["x"][3][1][:, 2].sum() == 2  # the histogram of that call's x


def test_python_step_is_fixed_when_traced_and_writer_is_the_traces(logdir):
    w = tf.summary.create_file_writer(logdir)

    @tf.function
    def f(x):
        return tf.summary.scalar("y", x, step=5)

    assert not bool(f(tf.constant(1.0)))  # traced without a writer: never writes
    with w.as_default():
        assert not bool(f(tf.constant(2.0)))

    @tf.function
    def g(x):
        return tf.summary.scalar("y", x, step=5)

    with w.as_default():
        assert bool(g(tf.constant(3.0)))
    assert bool(g(tf.constant(4.0)))  # the trace's writer, even outside as_default
    w.close()
    assert [(s, float(v)) for s, v in by_tag(only_file(logdir))["y"]] == [(5, 3.0), (5, 4.0)]


def test_as_default_inside_the_function(logdir):
    w = tf.summary.create_file_writer(logdir, max_queue=1000, flush_millis=10**9)

    @tf.function
    def f(x):
        with w.as_default(step=2):
            tf.summary.scalar("inside", x)
        return x

    for i in range(3):
        f(tf.constant(float(i)))
    # leaving as_default inside the function asks the writer thread to flush each call
    deadline = time.monotonic() + 5
    while len(raw_events(w.path)) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(raw_events(w.path)) == 4  # in the file before any flush() or close()
    w.close()
    assert [float(v) for _, v in by_tag(only_file(logdir))["inside"]] == [0.0, 1.0, 2.0]


def test_tensor_record_condition_becomes_a_cond(logdir):
    w = tf.summary.create_file_writer(logdir)
    step = tf.Variable(0, dtype=tf.int64)

    @tf.function
    def f(x):
        with tf.summary.record_if(lambda: tf.equal(step % 3, 0)):
            tf.summary.scalar("every3", x, step=step)
            r = tf.summary.should_record_summaries()
        step.assign_add(1)
        return r

    with w.as_default():
        recorded = [bool(f(tf.constant(float(i)))) for i in range(7)]
    w.close()
    assert recorded == [True, False, False, True, False, False, True]
    got = by_tag(only_file(logdir))["every3"]
    assert [(s, float(v)) for s, v in got] == [(0, 0.0), (3, 3.0), (6, 6.0)]


def test_default_step_variable(logdir):
    w = tf.summary.create_file_writer(logdir)
    step = tf.Variable(100, dtype=tf.int64)

    @tf.function
    def f(x):
        tf.summary.scalar("s", x)
        tf.summary.text("t", "x")
        step.assign_add(10)

    with w.as_default(step=step):
        for i in range(3):
            f(tf.constant(float(i)))
    w.close()
    assert [s for s, _ in by_tag(only_file(logdir))["s"]] == [100, 110, 120]


def test_summaries_in_a_loop_and_under_a_tape(logdir):
    w = tf.summary.create_file_writer(logdir)
    v = tf.Variable(1.0)

    @tf.function
    def f(n):
        i = tf.constant(0, tf.int64)
        while i < n:
            tf.summary.scalar("i", tf.cast(i, tf.float32), step=i)
            i += 1
        return v * 2.0

    with w.as_default():
        f(tf.constant(3, tf.int64))
        with tf.GradientTape() as tape:
            y = f(tf.constant(2, tf.int64))
        assert float(tape.gradient(y, v)) == 2.0
    w.close()
    assert [s for s, _ in by_tag(only_file(logdir))["i"]] == [0, 1, 2, 0, 1]


def test_image_and_audio_in_a_function(logdir):
    w = tf.summary.create_file_writer(logdir)

    @tf.function
    def f(x):
        tf.summary.image("img", x, step=0, max_outputs=1)
        tf.summary.audio("aud", x[:, :, 0, :1], 4000, step=0)
        return x

    with w.as_default():
        f(tf.constant(np.random.default_rng(0).uniform(size=(2, 3, 4, 3)).astype(np.float32)))
    w.close()
    got = by_tag(only_file(logdir))
    assert got["img"][0][1].shape == (3,) and got["aud"][0][1].shape == (2, 2)
