"""Custom Callback subclasses: every hook is called, in Keras' order, with logs."""

import numpy as np
import pytest

from rill import keras as R

HOOKS = [
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
    "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
    "on_predict_batch_begin", "on_predict_batch_end",
]  # fmt: skip


def _recorder(keras):
    class Recorder(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.calls = []

    for hook in HOOKS:

        def method(self, *args, logs=None, _hook=hook):
            indexed = "batch" in _hook or "epoch" in _hook
            if len(args) > indexed:
                *args, logs = args
            assert len(args) == indexed
            keys = sorted(k for k in (logs or {}) if k != "outputs")
            self.calls.append((_hook, *args, tuple(keys)))

        setattr(Recorder, hook, method)
    return Recorder()


def _run(keras):
    m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    m.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x = np.ones((10, 3), np.float32)
    y = np.zeros((10, 1), np.float32)
    rec = _recorder(keras)
    m.fit(x, y, batch_size=4, epochs=2, validation_data=(x[:5], y[:5]), verbose=0, callbacks=[rec])
    m.evaluate(x, y, batch_size=5, verbose=0, callbacks=[rec])
    m.predict(x, batch_size=8, verbose=0, callbacks=[rec])
    return rec.calls


def test_every_hook_is_called_with_logs():
    calls = _run(R)
    names = [c[0] for c in calls]
    assert set(names) == set(HOOKS)
    assert names.count("on_train_batch_end") == 2 * 3  # 2 epochs of ceil(10/4) batches
    assert names.count("on_test_batch_end") == 2 * 2 + 2  # 2 validations of 5 by 4, evaluate
    assert names.count("on_predict_batch_end") == 2
    epoch_end = [c for c in calls if c[0] == "on_epoch_end"]
    assert epoch_end[0][2] == ("loss", "mae", "val_loss", "val_mae")


def test_hook_sequence_matches_keras():
    pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    assert _run(R) == _run(keras)
