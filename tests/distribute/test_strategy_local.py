"""tf.distribute in one process: contexts, input splitting, reductions, resolvers."""

import json

import numpy as np
import pytest

import rill as tf
from rill.distribute import input_lib
from rill.distribute.resolvers import _expand_hostlist


def _contexts():
    return (tf.distribute.has_strategy(), tf.distribute.in_cross_replica_context(),
            tf.distribute.get_replica_context() is None)  # fmt: skip


def test_contexts_follow_tf():
    outside = _contexts()
    s = tf.distribute.MirroredStrategy()
    with s.scope():
        inside = _contexts()
        assert tf.distribute.get_strategy() is s
        in_run = s.run(_contexts)
        rid = s.run(lambda: tf.distribute.get_replica_context().replica_id_in_sync_group)
    assert tf.distribute.get_strategy() is not s
    # TF 2.21: default replica context outside, cross-replica inside scope, replica in run
    assert outside == (False, False, False)
    assert inside == (True, True, True)
    assert in_run == (True, False, False)
    assert rid == 0


def test_contexts_against_tensorflow():
    real = pytest.importorskip("tensorflow")
    s = real.distribute.OneDeviceStrategy("/cpu:0")
    with s.scope():
        want = (real.distribute.has_strategy(), real.distribute.in_cross_replica_context(),
                real.distribute.get_replica_context() is None)  # fmt: skip
    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
        assert _contexts() == want


def test_mixing_strategies_raises():
    with tf.distribute.MirroredStrategy().scope():
        with pytest.raises(ValueError, match="Mixing different"):
            with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
                pass


def test_experimental_set_strategy():
    s = tf.distribute.MirroredStrategy()
    tf.distribute.experimental_set_strategy(s)
    try:
        assert tf.distribute.get_strategy() is s and tf.distribute.in_cross_replica_context()
        with s.scope(), pytest.raises(RuntimeError):
            tf.distribute.experimental_set_strategy(None)
    finally:
        tf.distribute.experimental_set_strategy(None)
    assert not tf.distribute.has_strategy()


def test_input_context():
    ctx = tf.distribute.InputContext(2, 1, 4)
    assert ctx.get_per_replica_batch_size(8) == 8 // 4
    assert str(ctx) == "tf.distribute.InputContext(input pipeline id 1, total: 2)"
    with pytest.raises(ValueError, match="not divisible"):
        ctx.get_per_replica_batch_size(6)


def test_input_context_against_tensorflow():
    real = pytest.importorskip("tensorflow")
    want = real.distribute.InputContext(3, 2, 6)
    got = tf.distribute.InputContext(3, 2, 6)
    assert str(got) == str(want)
    assert got.get_per_replica_batch_size(12) == want.get_per_replica_batch_size(12)
    assert str(tf.distribute.experimental.ValueContext(1, 4)) == str(
        real.distribute.experimental.ValueContext(1, 4)
    )
    with pytest.raises(ValueError) as ours:
        tf.distribute.NcclAllReduce(-1)
    with pytest.raises(ValueError) as theirs:
        real.distribute.NcclAllReduce(-1)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("total,size", [(12, 2), (5, 3), (2, 4), (23, 6)])
def test_split_batch_is_array_split(total, size):
    x = np.arange(total * 2).reshape(total, 2)
    parts = [np.asarray(input_lib.split_batch(tf.constant(x), r, size)) for r in range(size)]
    for got, want in zip(parts, np.array_split(x, size)):  # NumPy's even split, in order
        np.testing.assert_array_equal(got, want)


def test_one_replica_reduce_gather_run():
    s = tf.distribute.MultiWorkerMirroredStrategy()
    v = np.array([[1.0, 2.0], [3.0, 5.0]], np.float32)
    with s.scope():
        per = s.run(lambda t: t * 2, args=(tf.constant(v),))
        np.testing.assert_allclose(s.reduce("SUM", per, axis=None), v * 2)
        np.testing.assert_allclose(
            s.reduce(tf.distribute.ReduceOp.MEAN, per, axis=0), (v * 2).mean(0)
        )
        np.testing.assert_allclose(
            s.reduce(tf.distribute.ReduceOp.SUM, per, axis=1), (v * 2).sum(1)
        )
        np.testing.assert_allclose(s.gather(per, axis=0), v * 2)
        ctx_sum = s.run(lambda t: tf.distribute.get_replica_context().all_reduce("MEAN", t),
                        args=(tf.constant(v),))  # fmt: skip
        np.testing.assert_allclose(ctx_sum, v)
    assert s.experimental_local_results(per)[0] is per
    ds = tf.data.Dataset.range(7).batch(3)
    got = [b.numpy().tolist() for b in s.experimental_distribute_dataset(ds)]
    assert got == [[0, 1, 2], [3, 4, 5], [6]]
    it = iter(s.experimental_distribute_dataset(ds))
    it.get_next(), it.get_next(), it.get_next()
    with pytest.raises(tf.errors.OutOfRangeError):
        it.get_next()


def test_reduce_op():
    assert tf.distribute.ReduceOp("SUM") is tf.distribute.ReduceOp.SUM
    agg = tf.VariableAggregation.MEAN
    assert tf.distribute.ReduceOp.from_variable_aggregation(agg) is tf.distribute.ReduceOp.MEAN
    with pytest.raises(ValueError):
        tf.distribute.ReduceOp.from_variable_aggregation(tf.VariableAggregation.NONE)


def test_tf_config_resolver(monkeypatch):
    cfg = {"cluster": {"chief": ["c:1"], "worker": ["w0:2", "w1:3"]},
           "task": {"type": "worker", "index": 1}, "rpc_layer": "grpc"}  # fmt: skip
    monkeypatch.setenv("TF_CONFIG", json.dumps(cfg))
    r = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    assert r.cluster_spec().as_dict() == cfg["cluster"]
    assert (r.task_type, r.task_id) == ("worker", 1)
    assert r.master() == "grpc://w1:3"
    assert r.master("chief", 0, rpc_layer="") == "c:1"
    u = tf.distribute.cluster_resolver.UnionResolver(
        r,
        tf.distribute.cluster_resolver.SimpleClusterResolver(tf.train.ClusterSpec({"ps": ["p:4"]})),
    )
    assert u.cluster_spec().as_dict() == {**cfg["cluster"], "ps": ["p:4"]}


def test_slurm_hostlist_and_resolver(monkeypatch):
    assert _expand_hostlist("n[01-03,07],gpu5") == ["n01", "n02", "n03", "n07", "gpu5"]
    monkeypatch.setenv("SLURM_PROCID", "3")
    monkeypatch.setenv("SLURM_NTASKS", "4")
    monkeypatch.setenv("SLURM_JOB_NODELIST", "node[1-2]")
    r = tf.distribute.cluster_resolver.SlurmClusterResolver(
        jobs={"ps": 1, "worker": 3}, port_base=9000
    )
    # 4 tasks on 2 nodes: 2 per node, ports counted per node
    assert r.cluster_spec().as_dict() == {
        "ps": ["node1:9000"],
        "worker": ["node1:9001", "node2:9000", "node2:9001"],
    }
    assert (r.task_type, r.task_id) == ("worker", 2)


def _fit(strategy):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(20, 3)).astype("float32")
    y = rng.normal(size=(20, 1)).astype("float32")
    tf.keras.utils.set_random_seed(5)
    with strategy.scope():
        m = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)])
        m.compile(optimizer="sgd", loss="mse")
    h = m.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0)
    return m.get_weights(), h.history["loss"]


def test_keras_fit_under_a_one_replica_strategy_is_plain_fit():
    plain = _fit(tf.distribute.get_strategy())  # the default strategy: no distribution
    mirrored = _fit(tf.distribute.MirroredStrategy())
    for a, b in zip(plain[0], mirrored[0]):
        np.testing.assert_allclose(b, a, rtol=1e-6)
    np.testing.assert_allclose(mirrored[1], plain[1], rtol=1e-6)
