"""Checkpointing what is not a variable: a tf.data iterator (its position), a
tf.random.Generator (its state variable), tf.train.experimental.PythonState; restore(None)
and SavedModel directories. TF's own checkpoints of the same objects are read back."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import rill as tf


def test_iterator_position_round_trips(tmp_path):
    ds = tf.data.Dataset.range(20).map(lambda x: x * 3).batch(2)
    it = iter(ds)
    ckpt = tf.train.Checkpoint(step=tf.Variable(0), iterator=it)
    first = [next(it).numpy().tolist() for _ in range(3)]
    assert first == [[0, 3], [6, 9], [12, 15]]
    path = ckpt.save(str(tmp_path / "ckpt"))
    after_save = [next(it).numpy().tolist() for _ in range(2)]
    assert after_save == [[18, 21], [24, 27]]
    ckpt.restore(path).assert_consumed()
    # the reference: the same dataset iterated in NumPy from the saved position (3 batches)
    expected = (np.arange(20) * 3).reshape(10, 2)[3:5].tolist()
    assert [next(it).numpy().tolist() for _ in range(2)] == expected


def test_iterator_restores_into_a_fresh_program(tmp_path):
    it = iter(tf.data.Dataset.range(10))
    ckpt = tf.train.Checkpoint(it=it)
    for _ in range(4):
        next(it)
    path = ckpt.write(str(tmp_path / "w"))
    it2 = iter(tf.data.Dataset.range(10))
    tf.train.Checkpoint(it=it2).read(path).assert_consumed()
    assert [int(x) for x in it2] == list(range(4, 10))
    keys = dict(tf.train.list_variables(path))
    assert "it/.ATTRIBUTES/ITERATOR_STATE" in keys  # TF's key for an iterator


def test_iterator_advanced_before_tracking_is_refused(tmp_path):
    it = iter(tf.data.Dataset.range(5))
    next(it)
    with pytest.raises(ValueError, match="advanced before a checkpoint"):
        tf.train.Checkpoint(it=it).write(str(tmp_path / "x"))


def test_restoring_into_an_advanced_untracked_iterator_works(tmp_path):
    it = iter(tf.data.Dataset.range(6))
    ckpt = tf.train.Checkpoint(it=it)
    next(it)
    path = ckpt.write(str(tmp_path / "p"))
    other = iter(tf.data.Dataset.range(6))
    next(other)
    next(other)  # advanced before a checkpoint saw it: restoring does not need its state
    ckpt2 = tf.train.Checkpoint(it=other)
    ckpt2.read(path).assert_consumed()
    assert int(next(other)) == 1
    # once restored, its position is known again and it can be saved
    path2 = ckpt2.write(str(tmp_path / "p2"))
    third = iter(tf.data.Dataset.range(6))
    tf.train.Checkpoint(it=third).read(path2).assert_consumed()
    assert [int(x) for x in third] == [2, 3, 4, 5]


def test_iterator_at_end_restores_at_end(tmp_path):
    it = iter(tf.data.Dataset.range(3))
    ckpt = tf.train.Checkpoint(it=it)
    assert [int(x) for x in it] == [0, 1, 2]
    path = ckpt.write(str(tmp_path / "end"))
    it2 = iter(tf.data.Dataset.range(3))
    tf.train.Checkpoint(it=it2).read(path)
    with pytest.raises(StopIteration):
        next(it2)


def test_generator_state_round_trips(tmp_path):
    g = tf.random.Generator.from_seed(7)
    ckpt = tf.train.Checkpoint(generator=g)
    g.normal([3])
    path = ckpt.save(str(tmp_path / "g"))
    expected = g.normal([4]).numpy()
    g.normal([5])  # move on
    ckpt.restore(path).assert_consumed()
    np.testing.assert_array_equal(g.normal([4]).numpy(), expected)
    keys = dict(tf.train.list_variables(path))
    assert keys["generator/_state_var/.ATTRIBUTES/VARIABLE_VALUE"] == [3]  # TF's key and shape


class _Counter(tf.train.experimental.PythonState):
    def __init__(self, n=0):
        self.n = n

    def serialize(self):
        return str(self.n)

    def deserialize(self, string_value):
        self.n = int(string_value)


def test_python_state_round_trips(tmp_path):
    c = _Counter(41)
    ckpt = tf.train.Checkpoint(counter=c)
    path = ckpt.save(str(tmp_path / "p"))
    c.n = 0
    ckpt.restore(path).assert_consumed()
    assert c.n == 41
    with pytest.raises(TypeError):
        tf.train.experimental.PythonState()  # abstract, as in TF


def test_restore_none_restores_nothing():
    v = tf.Variable(3.0)
    status = tf.train.Checkpoint(v=v).restore(None)
    status.expect_partial()
    status.initialize_or_restore()
    with pytest.raises(AssertionError):
        status.assert_consumed()
    assert float(v.numpy()) == 3.0


def test_restore_a_directory_without_saved_model_is_not_found(tmp_path):
    with pytest.raises(tf.errors.NotFoundError, match="latest_checkpoint"):
        tf.train.Checkpoint(v=tf.Variable(1.0)).restore(str(tmp_path))


def test_restore_from_saved_model_directory(tmp_path):
    v = tf.Variable([1.0, 2.0])
    ckpt = tf.train.Checkpoint(v=v)
    d = tmp_path / "sm"
    (d / "variables").mkdir(parents=True)
    (d / "saved_model.pb").write_bytes(b"")
    ckpt.write(str(d / "variables" / "variables"))
    v.assign([0.0, 0.0])
    tf.train.Checkpoint(v=v).restore(str(d)).assert_nontrivial_match()
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])


_TF_WRITER = """
import tensorflow as tf
g = tf.random.Generator.from_seed(11)
g.normal([3])
class C(tf.train.experimental.PythonState):
    def __init__(self): self.n = 5
    def serialize(self): return str(self.n)
    def deserialize(self, v): self.n = int(v)
path = tf.train.Checkpoint(generator=g, counter=C()).write({prefix!r})
import numpy as np
np.save({out!r}, g.state.numpy())
"""


def test_reads_tensorflow_generator_and_python_state(tmp_path):
    pytest.importorskip("tensorflow")
    prefix, out = str(tmp_path / "tfck"), str(tmp_path / "state.npy")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_TF_WRITER.format(prefix=prefix, out=out))],
        check=True,
        env=env,
        capture_output=True,
        timeout=120,
    )
    g = tf.random.Generator.from_seed(0)
    c = _Counter()
    tf.train.Checkpoint(generator=g, counter=c).read(prefix).assert_consumed()
    assert c.n == 5
    # the generator's state is TF's, after its draw of 3 normals
    np.testing.assert_array_equal(g.state.numpy(), np.load(out))
