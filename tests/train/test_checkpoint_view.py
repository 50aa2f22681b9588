"""tf.train.CheckpointView / TrackableView and tf.train.experimental sharding policies."""

import os

import numpy as np
import pytest

import rill as tf


class _Net(tf.Module):
    def __init__(self):
        super().__init__()
        self.a = tf.Variable(1.0)
        self.sub = tf.Module()
        self.sub.b = tf.Variable([2.0, 3.0])


def _save(tmp_path, root):
    return tf.train.Checkpoint(model=root).save(os.path.join(tmp_path, "ckpt"))


def test_checkpoint_view_walks_the_stored_graph(tmp_path):
    net = _Net()
    view = tf.train.CheckpointView(_save(tmp_path, net))
    top = view.children(0)
    assert set(top) == {"model", "save_counter"}
    model = view.children(top["model"])
    assert set(model) == {"a", "sub"}
    assert set(view.children(model["sub"])) == {"b"}
    paths = view._descendants_with_paths()
    assert view.descendants()[0] == 0 and len(view.descendants()) == 6
    assert sorted(paths.values()) == sorted(
        ["root", "root.model", "root.save_counter", "root.model.a", "root.model.sub",
         "root.model.sub.b"]
    )  # fmt: skip


def test_match_and_diff(tmp_path):
    net = _Net()
    view = tf.train.CheckpointView(_save(tmp_path, net))
    other = _Net()
    other.extra = tf.Variable(5.0)
    del other.sub
    live = tf.train.Checkpoint(model=other)
    matched, only_ckpt, only_live = view.diff(live)
    model_id = view.children(0)["model"]
    a_id = view.children(model_id)["a"]
    assert matched[0] is live and matched[model_id] is other and matched[a_id] is other.a
    sub_id = view.children(model_id)["sub"]
    assert sub_id in only_ckpt and view.children(sub_id)["b"] in only_ckpt
    assert any(t is other.extra for t in only_live)
    with pytest.raises(ValueError, match="Trackable"):
        view.match(3)


def test_trackable_view():
    net = _Net()
    view = tf.train.TrackableView(net)
    assert view.root is net
    kids = tf.train.TrackableView.children(net)
    assert kids["a"] is net.a and kids["sub"] is net.sub
    desc = view.descendants()
    assert desc[0] is net and len(desc) == 4 and any(d is net.sub.b for d in desc)


def test_checkpoint_view_rejects_a_missing_object_graph(tmp_path):
    from rill.train.tensor_bundle import write_bundle

    prefix = os.path.join(tmp_path, "plain")
    write_bundle(prefix, [("v", np.zeros(2, np.float32), tf.float32)])
    with pytest.raises(ValueError, match="object-based"):
        tf.train.CheckpointView(prefix)


def test_checkpoint_view_reads_a_tf_checkpoint(tmp_path):
    tft = pytest.importorskip("tensorflow")
    m = tft.Module()
    m.v = tft.Variable(1.0)
    m.w = [tft.Variable(2.0), tft.Variable(3.0)]
    path = tft.train.Checkpoint(m=m).save(os.path.join(tmp_path, "tf"))
    ours, ref = tf.train.CheckpointView(path), tft.train.CheckpointView(path)
    assert ours.descendants() == ref.descendants()
    for n in ref.descendants():
        assert ours.children(n) == ref.children(n)


def test_shard_by_task_policy():
    st = [
        tf.train.experimental.ShardableTensor(
            None,
            tf.constant(float(i)),
            tf.float32,
            None,
            f"v{i}",
            tf.TensorShape([]),
            "",
            f"v{i}/.ATTRIBUTES/VARIABLE_VALUE",
            None,
        )  # fmt: skip
        for i in range(3)
    ]
    policy = tf.train.experimental.ShardByTaskPolicy()
    shards = policy(st)
    assert len(shards) == 1
    assert {k: float(v[""]) for k, v in shards[0].items()} == {
        f"v{i}/.ATTRIBUTES/VARIABLE_VALUE": float(i) for i in range(3)
    }
    assert "task" in policy.description
    assert hash(policy) == hash(tf.train.experimental.ShardByTaskPolicy())
    with pytest.raises(TypeError):
        tf.train.experimental.ShardingCallback()
