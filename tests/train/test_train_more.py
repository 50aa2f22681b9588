"""tf.train stragglers: ExponentialMovingAverage (against the closed-form recurrence and
TensorFlow), checkpoints_iterator, ClusterSpec (against TensorFlow's ClusterDef bytes),
Coordinator and CheckpointOptions."""

import threading
import time

import numpy as np
import pytest

import rill as tf


def test_ema_recurrence():
    v = tf.Variable([1.0, 2.0], name="w")
    ema = tf.train.ExponentialMovingAverage(0.9)
    ema.apply([v])
    shadow = ema.average(v)
    assert shadow.name == "w/ExponentialMovingAverage:0" and not shadow.trainable
    expected = np.array([1.0, 2.0])
    for x in ([2.0, 0.0], [5.0, -1.0], [0.0, 0.0]):
        v.assign(x)
        ema.apply([v])
        expected = expected - 0.1 * (expected - np.array(x))
        np.testing.assert_allclose(shadow.numpy(), expected, rtol=1e-6)
    assert ema.average_name(v) == "w/ExponentialMovingAverage"
    assert ema.variables_to_restore() == {"w/ExponentialMovingAverage": v}
    assert ema.average(tf.Variable(0.0)) is None
    assert ema.name == "ExponentialMovingAverage"


def test_ema_num_updates_and_errors():
    y = tf.Variable(5.0, name="y")
    ema = tf.train.ExponentialMovingAverage(0.99, num_updates=3)
    ema.apply([y])
    y.assign(1.0)
    ema.apply([y])
    d = min(0.99, (1 + 3) / (10 + 3))
    np.testing.assert_allclose(ema.average(y).numpy(), 5.0 - (1 - d) * (5.0 - 1.0), rtol=1e-6)
    with pytest.raises(TypeError, match="non-Variable"):
        ema.apply([tf.constant(1.0)])
    with pytest.raises(TypeError, match="half, float, or double"):
        ema.apply([tf.Variable(1)])


def test_ema_inside_function():
    v = tf.Variable(2.0)
    ema = tf.train.ExponentialMovingAverage(0.5)

    @tf.function
    def step():
        ema.apply([v])

    step()
    v.assign(4.0)
    step()
    np.testing.assert_allclose(ema.average(v).numpy(), 2.0 - 0.5 * (2.0 - 4.0))


def test_ema_against_tensorflow():
    tfr = pytest.importorskip("tensorflow")
    results = []
    for lib in (tf, tfr):
        v = lib.Variable([1.0, -3.0], name="v")
        n = lib.Variable(0)
        ema = lib.train.ExponentialMovingAverage(0.95, num_updates=n)
        out = []
        for step, x in enumerate(([0.5, 1.0], [2.0, 2.0], [-1.0, 4.0])):
            n.assign(step * 7)
            v.assign(x)
            ema.apply([v])
            out.append(ema.average(v).numpy())
        results.append(np.array(out))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


def test_checkpoints_iterator(tmp_path):
    d = str(tmp_path)
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    first = ckpt.save(d + "/ckpt")
    it = tf.train.checkpoints_iterator(d, timeout=0.2)
    assert next(it) == first

    def later():
        time.sleep(0.3)
        ckpt.save(d + "/ckpt")

    t = threading.Thread(target=later)
    t.start()
    it = tf.train.checkpoints_iterator(d, timeout=3)
    got = [next(it)]
    got.append(next(it))
    t.join()
    assert got[0] == first and got[1] == tf.train.latest_checkpoint(d) != first
    calls = []
    it = tf.train.checkpoints_iterator(
        d, timeout=0.1, timeout_fn=lambda: calls.append(1) or len(calls) >= 2
    )
    assert list(it) == [got[1]] and len(calls) == 2


def test_cluster_spec():
    c = tf.train.ClusterSpec({"worker": ["w0:1", "w1:1"], "ps": {1: "p1:2", 3: "p3:2"}})
    assert c.jobs == ["worker", "ps"]
    assert c.as_dict() == {"worker": ["w0:1", "w1:1"], "ps": {1: "p1:2", 3: "p3:2"}}
    assert c.num_tasks("ps") == 2 and c.task_indices("ps") == [1, 3]
    assert c.task_address("ps", 3) == "p3:2"
    assert c.job_tasks("ps") == [None, "p1:2", None, "p3:2"]
    assert bool(c) and not tf.train.ClusterSpec({})
    assert tf.train.ClusterSpec(c) == c
    for bad in (lambda: c.num_tasks("x"), lambda: c.task_address("ps", 0)):
        with pytest.raises(ValueError):
            bad()
    with pytest.raises(TypeError, match="dictionary"):
        tf.train.ClusterSpec(3)
    with pytest.raises(TypeError, match="must be a list or a dictionary"):
        tf.train.ClusterSpec({"a": 3})


def test_cluster_def_against_tensorflow():
    pytest.importorskip("google.protobuf")
    tfr = pytest.importorskip("tensorflow")
    spec = {"worker": ["w0:1", "w1:1"], "ps": {1: "p1:2"}}
    ours = tf.train.ClusterSpec(spec).as_cluster_def()
    theirs = tfr.train.ClusterSpec(spec).as_cluster_def()
    assert tfr.train.ClusterDef.FromString(ours.SerializeToString()) == theirs
    back = tf.train.ClusterSpec(tf.train.ClusterDef.FromString(theirs.SerializeToString()))
    assert back == tf.train.ClusterSpec(spec)
    sd = tf.train.ServerDef(cluster=ours, job_name="ps", task_index=1, protocol="grpc", port=5)
    assert tfr.train.ServerDef.FromString(sd.SerializeToString()).job_name == "ps"


def test_coordinator_stops_and_reraises():
    coord = tf.train.Coordinator()
    seen = []

    def worker(i):
        with coord.stop_on_exception():
            while not coord.should_stop():
                if i == 2:
                    raise RuntimeError("boom")
                time.sleep(0.01)
            seen.append(i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    with pytest.raises(RuntimeError, match="boom"):
        coord.join(threads, stop_grace_period_secs=5)
    assert sorted(seen) == [0, 1] and coord.joined and coord.should_stop()
    coord.clear_stop()
    assert not coord.should_stop() and not coord.joined


def test_coordinator_clean_stop_and_stragglers():
    coord = tf.train.Coordinator()
    coord.request_stop(tf.errors.OutOfRangeError(None, None, "end"))
    assert coord.should_stop() and coord.wait_for_stop(0.01)
    coord.join([])  # OutOfRangeError is a clean stop: nothing raised
    coord = tf.train.Coordinator()
    ev = threading.Event()
    t = threading.Thread(target=ev.wait, name="stuck")
    t.start()
    coord.register_thread(t)
    coord.request_stop()
    with pytest.raises(RuntimeError, match="stuck"):
        coord.join(stop_grace_period_secs=0.05)
    ev.set()
    t.join()


def test_checkpoint_options():
    o = tf.train.CheckpointOptions()
    assert o.experimental_io_device is None and o.enable_async is False
    assert o.experimental_skip_slot_variables is False and o.experimental_sharding_callback is None
    o = tf.train.CheckpointOptions(experimental_enable_async_checkpoint=True)
    assert o.enable_async and o.experimental_enable_async_checkpoint
    with pytest.raises(AttributeError):
        o.foo = 1
