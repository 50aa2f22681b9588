"""``keras.callbacks.BackupAndRestore`` survives a crash at any step of a save: the
newest complete backup (weights and epoch that belong together) is restored."""

import os

import numpy as np
import pytest

import rill as tf

pytest.importorskip("h5py")
keras = tf.keras


class Crash(BaseException):
    pass


def _model(seed):
    m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    rs = np.random.RandomState(seed)
    m.set_weights([rs.randn(3, 2).astype(np.float32), rs.randn(2).astype(np.float32)])
    return m


def _backup(cb, model, epoch):
    cb.set_model(model)
    cb._save(epoch, None, {})


def _restored(d, double):
    cb = keras.callbacks.BackupAndRestore(d, double_checkpoint=double)
    m = _model(99)
    cb.set_model(m)
    m._initial_epoch = 0
    cb.on_train_begin()
    return m._initial_epoch, m.get_weights()


@pytest.mark.parametrize("double", [False, True])
def test_crash_at_every_step_of_a_save_restores_a_matching_pair(tmp_path, monkeypatch, double):
    real_replace = os.replace
    first, second = _model(1), _model(2)
    for n in range(1, 8):
        d = str(tmp_path / f"{double}-{n}")
        cb = keras.callbacks.BackupAndRestore(d, double_checkpoint=double)
        _backup(cb, first, 0)  # complete backup of epoch 0
        calls = [0]

        def replace(src, dst, _n=n, _calls=calls):
            _calls[0] += 1
            if _calls[0] == _n:
                raise Crash(dst)
            return real_replace(src, dst)

        monkeypatch.setattr(os, "replace", replace)
        try:
            _backup(cb, second, 1)
            crashed = False
        except Crash:
            crashed = True
        monkeypatch.undo()
        epoch, weights = _restored(d, double)
        # the epoch restored always comes with the weights saved at that epoch
        want = {1: first, 2: second}[epoch]
        for a, b in zip(weights, want.get_weights()):
            np.testing.assert_array_equal(a, b)
        if not crashed:
            assert epoch == 2
        # and nothing temporary survives the next save
        _backup(keras.callbacks.BackupAndRestore(d, double_checkpoint=double), second, 2)
        assert not [f for f in os.listdir(d) if f.endswith(".tmp") or f.startswith(".")]
        assert _restored(d, double)[0] == 3
