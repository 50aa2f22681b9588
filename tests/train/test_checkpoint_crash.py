"""Crash consistency of checkpoint writers: at every instant the newest complete save is
found, and temporaries of killed writers do not survive the next save."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import rill as tf
from rill.train import tensor_bundle

pytest.importorskip("google.protobuf")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
N = 50_000  # floats per save: big enough that a kill often lands inside a write

WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    import rill as tf

    d, keep = sys.argv[1], int(sys.argv[2])
    v = tf.Variable(np.zeros({N}, np.float32))
    n = tf.Variable(0, dtype=tf.int64)
    ck = tf.train.Checkpoint(v=v, n=n)
    mgr = tf.train.CheckpointManager(ck, d, max_to_keep=keep)
    if mgr.latest_checkpoint:
        ck.restore(mgr.latest_checkpoint).assert_consumed()
        assert (v.numpy() == n.numpy()).all(), "restored a mixed checkpoint"
    print("ready", flush=True)
    while True:
        k = int(n.numpy()) + 1
        n.assign(k)
        v.assign(np.full({N}, k, np.float32))
        mgr.save()
        print(k, flush=True)
    """
).format(N=N)


def _temporaries(d):
    return [f for f in os.listdir(d) if f.startswith(".")]


def _check_latest(d, at_least):
    latest = tf.train.latest_checkpoint(d)
    if at_least == 0 and latest is None:
        return 0
    assert latest is not None, "a complete checkpoint exists but latest_checkpoint is None"
    v = tf.Variable(np.zeros(N, np.float32))
    n = tf.Variable(0, dtype=tf.int64)
    tf.train.Checkpoint(v=v, n=n).restore(latest).assert_consumed()
    k = int(n.numpy())
    assert k >= at_least, f"latest checkpoint holds step {k}, but step {at_least} completed"
    np.testing.assert_array_equal(v.numpy(), np.full(N, k, np.float32))
    return k


@pytest.mark.parametrize("keep", [1, 2])
def test_sigkill_during_manager_saves(tmp_path, keep):
    d = str(tmp_path)
    rng = random.Random(keep)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = 0
    temps_seen = kills = 0
    for _ in range(10):
        p = subprocess.Popen(
            [sys.executable, "-c", WRITER, d, str(keep)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        line = p.stdout.readline()
        if line.strip() != "ready":
            p.kill()
            pytest.fail(f"writer failed to start: {line!r} {p.stderr.read()}")
        # the new writer's manager removed the temporaries of the dead ones
        assert not [t for t in _temporaries(d) if f".tmp{p.pid}-" not in t]
        time.sleep(rng.uniform(0.0, 0.4))
        p.send_signal(signal.SIGKILL)
        out, _ = p.communicate()
        kills += 1
        steps = [int(x) for x in out.split()]
        if steps:
            done = max(done, steps[-1])
        temps_seen += bool(_temporaries(d))
        _check_latest(d, done)
    # the next save in this process removes what the killed writers left
    v = tf.Variable(np.zeros(N, np.float32))
    n = tf.Variable(0, dtype=tf.int64)
    ck = tf.train.Checkpoint(v=v, n=n)
    mgr = tf.train.CheckpointManager(ck, d, max_to_keep=keep)
    assert not _temporaries(d)
    mgr.save()
    assert not _temporaries(d)
    assert kills == 10 and done > 0
    print(f"keep={keep}: {kills} kills, {temps_seen} left temporaries, {done} saves completed")


def test_state_file_is_written_before_old_checkpoints_are_deleted(tmp_path, monkeypatch):
    """A crash right after the first deletion: latest_checkpoint still finds the new save."""
    d = str(tmp_path)
    v = tf.Variable(1.0)
    mgr = tf.train.CheckpointManager(tf.train.Checkpoint(v=v), d, max_to_keep=1)
    mgr.save()
    v.assign(2.0)

    class Crash(BaseException):
        pass

    def crash(path, *a, **k):
        raise Crash(path)

    monkeypatch.setattr(os, "remove", crash)
    with pytest.raises(Crash, match="ckpt-1"):
        mgr.save()
    monkeypatch.undo()
    latest = tf.train.latest_checkpoint(d)
    assert latest == os.path.join(d, "ckpt-2")
    w = tf.Variable(0.0)
    tf.train.Checkpoint(v=w).restore(latest)
    assert w.numpy() == 2.0


def test_stale_temporaries_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    d = str(tmp_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = os.path.join(d, f".ckpt-3.index.tmp{dead.pid}-{'a' * 32}")
    mine = tensor_bundle.temp_path(os.path.join(d, "ckpt-4.index"))  # a live (this) process
    other = os.path.join(d, f".unrelated.tmp{dead.pid}-{'b' * 32}")
    for p in (stale, mine, other):
        open(p, "wb").write(b"x")
    tensor_bundle._ACTIVE.add(mine)  # as if this process were writing it now
    try:
        tf.train.CheckpointManager(tf.train.Checkpoint(v=tf.Variable(1.0)), d)
        assert not os.path.exists(stale)
        assert os.path.exists(mine) and os.path.exists(other)
    finally:
        tensor_bundle._ACTIVE.discard(mine)


def test_interrupted_write_leaves_previous_files_and_no_temporaries(tmp_path, monkeypatch):
    prefix = str(tmp_path / "o")
    tf.train.Checkpoint(v=tf.Variable(1.0)).write(prefix)

    class Crash(Exception):
        pass

    def boom(*a, **k):
        raise Crash("disk full")

    monkeypatch.setattr(tensor_bundle.sstable, "build_table", boom)
    with pytest.raises(Crash):
        tf.train.Checkpoint(v=tf.Variable(2.0)).write(prefix)
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["o.data-00000-of-00001", "o.index"]
    w = tf.Variable(0.0)
    tf.train.Checkpoint(v=w).read(prefix).assert_consumed()
    assert w.numpy() == 1.0
