"""ParameterServerStrategy + ClusterCoordinator: worker threads, in-process servers."""

import json
import threading

import numpy as np
import pytest

import rill as tf
from rill.distribute.sharded_variable import ShardedVariable
from rill.train.cluster import ClusterSpec

coord_ns = tf.distribute.experimental.coordinator


def _resolver(workers=2, ps=1):
    spec = {"worker": [f"w{i}:1" for i in range(workers)], "ps": [f"p{i}:2" for i in range(ps)]}
    spec["chief"] = ["c:3"]
    return tf.distribute.cluster_resolver.SimpleClusterResolver(
        ClusterSpec(spec), task_type="chief", task_id=0, rpc_layer="grpc"
    )


@pytest.fixture
def make():
    made = []

    def build(workers=2, ps=1, partitioner=None):
        s = tf.distribute.ParameterServerStrategy(_resolver(workers, ps), partitioner)
        c = tf.distribute.coordinator.ClusterCoordinator(s)
        made.append(c)
        return s, c

    yield build
    for c in made:
        try:
            c._shutdown()
        except Exception:
            pass


def test_cluster_validation():
    empty = tf.distribute.cluster_resolver.SimpleClusterResolver(ClusterSpec({}))
    with pytest.raises(ValueError, match="non-empty"):
        tf.distribute.ParameterServerStrategy(empty)
    no_ps = tf.distribute.cluster_resolver.SimpleClusterResolver(ClusterSpec({"worker": ["a:1"]}))
    with pytest.raises(ValueError, match="at least one ps"):
        tf.distribute.ParameterServerStrategy(no_ps)
    no_w = tf.distribute.cluster_resolver.SimpleClusterResolver(ClusterSpec({"ps": ["a:1"]}))
    with pytest.raises(ValueError, match="at least one worker"):
        tf.distribute.ParameterServerStrategy(no_w)
    with pytest.raises(ValueError, match="ParameterServerStrategy"):
        tf.distribute.coordinator.ClusterCoordinator(tf.distribute.OneDeviceStrategy("/cpu:0"))
    assert (
        tf.distribute.experimental.ParameterServerStrategy is tf.distribute.ParameterServerStrategy
    )


def test_tf_config_cluster(monkeypatch, make):
    cfg = {"cluster": {"worker": ["a:1", "b:1", "c:1"], "ps": ["d:1", "e:1"], "chief": ["f:1"]},
           "task": {"type": "chief", "index": 0}}  # fmt: skip
    monkeypatch.setenv("TF_CONFIG", json.dumps(cfg))
    s = tf.distribute.ParameterServerStrategy(
        tf.distribute.cluster_resolver.TFConfigClusterResolver()
    )
    assert s.extended._num_workers == 3 and len(s.extended.parameter_devices) == 2
    assert s.num_replicas_in_sync == 1


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    y = (x @ np.array([[1.5], [-2.0], [0.5]], np.float32) + 0.25).astype(np.float32)
    return x, y


def _sgd_reference(x, y, steps, lr, batch):
    """Plain NumPy SGD on the same batches (the independent reference)."""
    w, b = np.zeros((3, 1), np.float64), np.zeros((1,), np.float64)
    for i in range(steps):
        xb, yb = x[i * batch : (i + 1) * batch], y[i * batch : (i + 1) * batch]
        err = xb @ w + b - yb
        w -= lr * (2 * xb.T @ err / len(xb))
        b -= lr * (2 * err.mean(axis=0))
    return w, b


def test_one_worker_matches_single_process(make):
    x, y = _data()
    s, c = make(workers=1)
    with s.scope():
        w = tf.Variable(tf.zeros([3, 1]))
        b = tf.Variable(tf.zeros([1]))
    lr, batch, steps = 0.1, 4, 6

    @tf.function
    def step(xb, yb):
        def replica(xb, yb):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(tf.matmul(xb, w) + b - yb))
            gw, gb = tape.gradient(loss, [w, b])
            w.assign_sub(lr * gw)
            b.assign_sub(lr * gb)
            return loss

        return s.reduce("SUM", s.run(replica, args=(xb, yb)), axis=None)

    losses = [
        c.schedule(step, args=(x[i * batch : (i + 1) * batch], y[i * batch : (i + 1) * batch]))
        for i in range(steps)
    ]
    c.join()
    assert c.done()
    rw, rb = _sgd_reference(x, y, steps, lr, batch)
    np.testing.assert_allclose(w.numpy(), rw, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b.numpy(), rb, rtol=1e-5, atol=1e-6)
    first = float(np.mean((x[:batch] @ np.zeros((3, 1)) - y[:batch]) ** 2))
    assert losses[0].fetch() == pytest.approx(first, rel=1e-5)


def test_many_workers_each_step_once_and_converges(make):
    x, y = _data(64, seed=1)
    s, c = make(workers=3, ps=2)
    steps = 60
    with s.scope():
        w = tf.Variable(tf.zeros([3, 1]))
        b = tf.Variable(tf.zeros([1]))
        ran = tf.Variable(tf.zeros([steps], tf.int32))
    seen = []
    lock = threading.Lock()

    def step(i, xb, yb):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.matmul(xb, w) + b - yb))
        gw, gb = tape.gradient(loss, [w, b])
        w.assign_sub(0.05 * gw)
        b.assign_sub(0.05 * gb)
        with lock:
            ran.assign_add(tf.one_hot(i, steps, dtype=tf.int32))
            seen.append(tf.distribute.coordinator.experimental_get_current_worker_index())
        return i

    out = []
    for i in range(steps):
        j = (i * 8) % 64
        out.append(c.schedule(step, args=(i, x[j : j + 8], y[j : j + 8])))
    c.join()
    np.testing.assert_array_equal(ran.numpy(), np.ones(steps))  # every step exactly once
    assert c.fetch(out) == list(range(steps))
    assert set(seen) <= {0, 1, 2} and len(seen) == steps
    final = float(np.mean((x @ w.numpy() + b.numpy() - y) ** 2))
    assert final < 0.05 * float(np.mean((y - 0) ** 2))


def test_lost_worker_is_rescheduled(make):
    s, c = make(workers=2)
    with s.scope():
        total = tf.Variable(0.0)
    failed = set()
    lock = threading.Lock()

    def step(i):
        with lock:
            if i % 3 == 0 and i not in failed:  # the first try of every third step is lost
                failed.add(i)
                raise tf.errors.UnavailableError(None, None, "worker preempted")
            total.assign_add(float(i))
        return i * 10

    rvs = [c.schedule(step, args=(i,)) for i in range(12)]
    c.join()
    assert float(total.numpy()) == sum(range(12))  # each step counted once, retries included
    assert [r.fetch() for r in rvs] == [i * 10 for i in range(12)]
    assert failed == {0, 3, 6, 9}


def test_errors_reach_join_and_cancel_the_rest(make):
    s, c = make(workers=1)
    gate = threading.Event()

    def slow():
        gate.wait(10)
        raise tf.errors.InvalidArgumentError(None, None, "bad step")

    failing = c.schedule(slow)
    queued = c.schedule(lambda: 1)
    gate.set()
    with pytest.raises(tf.errors.InvalidArgumentError, match="bad step"):
        c.join()
    with pytest.raises(tf.errors.InvalidArgumentError):
        failing.fetch()
    with pytest.raises(tf.errors.CancelledError):
        queued.get()
    assert c.schedule(lambda: 7).fetch() == 7  # the coordinator is usable again


def test_per_worker_dataset_and_values(make):
    s, c = make(workers=2)

    def dataset_fn():
        k = tf.distribute.coordinator.experimental_get_current_worker_index()
        return tf.data.Dataset.range(k * 100, k * 100 + 6)

    ds = c.create_per_worker_dataset(dataset_fn)
    it = iter(ds)
    pv = coord_ns.PerWorkerValues([tf.constant(0), tf.constant(1)])

    def step(iterator, mine):
        k = tf.distribute.coordinator.experimental_get_current_worker_index()
        assert int(mine) == k
        return k, int(next(iterator))

    results = c.fetch([c.schedule(step, args=(it, pv)) for _ in range(6)])
    by_worker = {0: [], 1: []}
    for k, v in results:
        by_worker[k].append(v)
    for k, vals in by_worker.items():
        assert vals == list(range(k * 100, k * 100 + len(vals)))  # each worker's own stream
    with pytest.raises(ValueError, match="scheduled"):
        tf.distribute.coordinator.experimental_get_current_worker_index()
    one = c.create_per_worker_dataset(tf.data.Dataset.range(1))
    it1 = iter(one)
    c.schedule(lambda i: next(i), args=(it1,))
    c.schedule(lambda i: next(i), args=(it1,))
    c.schedule(lambda i: next(i), args=(it1,))  # three nexts, two workers of one element
    with pytest.raises(tf.errors.OutOfRangeError):
        c.join()
    assert tf.distribute.coordinator.PerWorkerValue is coord_ns.PerWorkerValues


def test_coordinator_is_one_per_strategy(make):
    s, c = make()
    assert tf.distribute.coordinator.ClusterCoordinator(s) is c
    assert c.strategy is s
    rv = c.schedule(lambda: tf.constant([1.0, 2.0]))
    assert isinstance(rv, tf.distribute.coordinator.RemoteValue)
    assert isinstance(rv.get(), tf.Tensor)
    np.testing.assert_array_equal(rv.fetch(), [1.0, 2.0])


def test_sharded_variables_from_partitioner(make):
    part = tf.distribute.experimental.partitioners.FixedShardsPartitioner(3)
    s, c = make(workers=2, ps=2, partitioner=part)
    init = np.arange(20, dtype=np.float32).reshape(10, 2)
    v = s.extended._create_variable(initial_value=init, name="emb")
    assert isinstance(v, ShardedVariable)
    # TF's "div" split: the first 10 % 3 shards take one row more
    assert [int(x.shape[0]) for x in v.variables] == [4, 3, 3]
    assert [x.name for x in v.variables] == ["emb/part_0:0", "emb/part_1:0", "emb/part_2:0"]
    assert [x.device for x in v.variables] == [
        "/job:ps/replica:0/task:0/device:CPU:0",
        "/job:ps/replica:0/task:1/device:CPU:0",
        "/job:ps/replica:0/task:0/device:CPU:0",
    ]
    np.testing.assert_array_equal(v.numpy(), init)
    scalar = s.extended._create_variable(initial_value=3.0)
    assert not isinstance(scalar, ShardedVariable) and float(scalar.numpy()) == 3.0

    # a step on the sharded variable equals the same step on a dense copy
    x = tf.constant(np.ones((2, 10), np.float32))

    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.matmul(x, tf.convert_to_tensor(v)) ** 2)
        grads = tape.gradient(loss, v.variables)
        for var, g in zip(v.variables, grads):
            var.assign_sub(0.01 * g)

    c.schedule(step)
    c.join()
    xn = np.ones((2, 10), np.float32)
    dense = init - 0.01 * xn.T @ (2 * xn @ init)  # d/dV sum((XV)^2) = X^T 2XV
    np.testing.assert_allclose(v.numpy(), dense, rtol=1e-5)
    with pytest.raises(ValueError, match="variable_partitioner must return"):
        bad = tf.distribute.ParameterServerStrategy(_resolver(), lambda shape, dtype: [2, 2])
        bad.extended._create_variable(initial_value=init)
