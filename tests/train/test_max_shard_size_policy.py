"""tf.train.experimental.MaxShardSizePolicy and sharded checkpoints (one data file per
shard, large tensors saved in slices), checked by reassembling with NumPy and against TF."""

import os

import numpy as np
import pytest

import rill as tf
from rill.train.tensor_bundle import BundleReader, parse_slice_spec

Policy = tf.train.experimental.MaxShardSizePolicy
CPU = "/job:localhost/replica:0/task:0/device:CPU:0"


def _st(mod, key, value, spec=""):
    t = mod.constant(value)
    return mod.train.experimental.ShardableTensor(
        None, t, t.dtype, CPU, key, t.shape, spec, key, None
    )


def _nbytes(t) -> int:
    a = np.asarray(t.numpy())
    if a.dtype == object:
        return sum(len(x) for x in a.reshape(-1).tolist())
    return a.nbytes


def _reassemble(shards, key, full_shape, dtype):
    """The whole tensor ``key`` rebuilt from its slices in ``shards`` (NumPy), checking
    that the slices tile it exactly once."""
    out = np.zeros(full_shape, dtype)
    seen = np.zeros(full_shape, int)
    for shard in shards:
        for spec, t in shard.get(key, {}).items():
            if not spec:
                out[...] = t.numpy()
                seen += 1
                continue
            full, extents = parse_slice_spec(spec)
            assert full == list(full_shape)
            where = tuple(slice(s, s + n) for s, n in extents)
            assert list(t.shape) == [n for _, n in extents]
            out[where] = t.numpy()
            seen[where] += 1
    assert (seen == 1).all()
    return out


CASES = [
    ("fits", 1000, [("a", np.arange(5, dtype=np.float32)), ("b", np.float32(2))]),
    ("rows", 40, [("s", np.float32(3)), ("v", np.arange(24, dtype=np.float32).reshape(6, 4))]),
    ("axis1", 30, [("a", np.arange(21, dtype=np.float32).reshape(3, 7))]),
    ("mixed", 64, [("a", np.arange(30, dtype=np.int64)), ("b", np.ones((5, 3), np.float64))]),
    ("empty", 30, [("a", np.zeros((0, 7), np.float32)), ("b", np.arange(3, dtype=np.int32))]),
    ("strings", 10, [("a", np.array([b"abc", b"defghijk", b"x"])), ("b", b"hello world!")]),
]


@pytest.mark.parametrize("name,limit,tensors", CASES, ids=[c[0] for c in CASES])
def test_shards_tile_tensors_within_limit(name, limit, tensors):
    shards = Policy(limit)([_st(tf, k, v) for k, v in tensors])
    for shard in shards:
        pieces = [t for slices in shard.values() for t in slices.values()]
        # over the limit only as a lone piece that cannot be cut (TF's documented case)
        assert sum(_nbytes(t) for t in pieces) <= limit or len(pieces) == 1
    for key, value in tensors:
        value = np.asarray(value)
        got = _reassemble(shards, key, value.shape, value.dtype)
        np.testing.assert_array_equal(got, value)


def test_uncuttable_slices_get_their_own_shards():
    # every row, column and fibre of a (3, 5, 7) float32 tensor is over 40 bytes
    value = np.arange(105, dtype=np.float32).reshape(3, 5, 7)
    shards = Policy(40)([_st(tf, "a", value)])
    np.testing.assert_array_equal(_reassemble(shards, "a", value.shape, value.dtype), value)
    for shard in shards:
        (slices,) = shard.values()
        assert len(slices) == 1  # one (oversized) slice per shard


def test_description_and_hash():
    assert Policy(10).description == "Split tensors into shards with a max shard size."
    assert hash(Policy(10)) == hash(Policy(10)) and hash(Policy(10)) != hash(Policy(11))


def _model():
    v = tf.Variable(np.arange(24, dtype=np.float32).reshape(6, 4))
    w = tf.Variable(np.arange(5, dtype=np.int64))
    s = tf.Variable(3.0)
    return tf.train.Checkpoint(v=v, w=w, s=s), (v, w, s)


def test_sharded_checkpoint_round_trip(tmp_path):
    ck, (v, w, s) = _model()
    opts = tf.train.CheckpointOptions(experimental_sharding_callback=Policy(40))
    path = ck.write(str(tmp_path / "ck"), options=opts)
    files = sorted(f for f in os.listdir(tmp_path) if ".data-" in f)
    shards = Policy(40)(
        [_st(tf, k, x) for k, x in [("s", 3.0), ("v", v.numpy()), ("w", w.numpy())]]
    )
    assert files == [f"ck.data-{i:05d}-of-{len(shards):05d}" for i in range(len(shards))]
    reader = BundleReader(path)
    assert sorted(reader.keys()) == sorted(
        ["_CHECKPOINTABLE_OBJECT_GRAPH"] + [f"{n}/.ATTRIBUTES/VARIABLE_VALUE" for n in "svw"]
    )
    want = (v.numpy().copy(), w.numpy().copy())
    v.assign(np.zeros((6, 4), np.float32))
    w.assign(np.zeros(5, np.int64))
    ck.read(path).assert_consumed()
    np.testing.assert_array_equal(v.numpy(), want[0])
    np.testing.assert_array_equal(w.numpy(), want[1])
    # save() and CheckpointManager pass the options on too
    path = tf.train.CheckpointManager(ck, str(tmp_path / "m"), 2).save(options=opts)
    assert os.path.exists(path + f".data-00000-of-{len(files):05d}")


def test_string_variable_sharded(tmp_path):
    words = tf.Variable(np.array([b"alpha", b"be", b"gamma-delta", b""] * 3))
    ck = tf.train.Checkpoint(words=words)
    opts = tf.train.CheckpointOptions(experimental_sharding_callback=Policy(16))
    path = ck.write(str(tmp_path / "ck"), options=opts)
    want = words.numpy().copy()
    words.assign(np.array([b""] * 12))
    ck.read(path)
    assert words.numpy().tolist() == want.tolist()


def test_tensorflow_reads_ours_and_policy_matches(tmp_path):
    real = pytest.importorskip("tensorflow")
    for name, limit, tensors in CASES:
        ours = Policy(limit)([_st(tf, k, v) for k, v in tensors])
        theirs = real.train.experimental.MaxShardSizePolicy(limit)(
            [_st(real, k, v) for k, v in tensors]
        )

        def layout(shards):
            return [
                {k: {s: list(t.shape) for s, t in d.items()} for k, d in sh.items()}
                for sh in shards
            ]

        assert layout(ours) == layout(theirs), name
    ck, (v, w, s) = _model()
    opts = tf.train.CheckpointOptions(experimental_sharding_callback=Policy(40))
    path = ck.write(str(tmp_path / "ours"), options=opts)
    tv, tw, ts = real.Variable(tf.zeros((6, 4))), real.Variable([0] * 5, dtype="int64"), None
    ts = real.Variable(0.0)
    real.train.Checkpoint(v=tv, w=tw, s=ts).read(path).assert_consumed()
    np.testing.assert_array_equal(tv.numpy(), v.numpy())
    np.testing.assert_array_equal(tw.numpy(), w.numpy())
    assert ts.numpy() == s.numpy()
    # and TF's own sharded checkpoint of the same values is the same files
    their = real.train.Checkpoint(v=tv, w=tw, s=ts)
    real_opts = real.train.CheckpointOptions(
        experimental_sharding_callback=real.train.experimental.MaxShardSizePolicy(40)
    )
    tpath = their.write(str(tmp_path / "theirs"), options=real_opts)
    for suffix in [".index"] + [f".data-0000{i}-of-00004" for i in range(4)]:
        with open(path + suffix, "rb") as a, open(tpath + suffix, "rb") as b:
            assert a.read() == b.read(), suffix
    v.assign(np.zeros((6, 4), np.float32))
    ck.read(tpath).assert_consumed()
    np.testing.assert_array_equal(v.numpy(), tv.numpy())


def test_checkpoint_options_take_only_a_sharding_callback():
    # TF raises ValueError for anything that is not a ShardingCallback
    with pytest.raises(ValueError, match="ShardingCallback"):
        tf.train.CheckpointOptions(experimental_sharding_callback=3)
    policy = tf.train.experimental.MaxShardSizePolicy(max_shard_size=1024)
    opts = tf.train.CheckpointOptions(experimental_sharding_callback=policy)
    assert opts.experimental_sharding_callback is policy
