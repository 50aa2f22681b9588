"""ModelCheckpoint and BackupAndRestore: what they write, when, and that a killed fit
resumes exactly (reference: the same fit run without interruption)."""

import os

import numpy as np
import pytest

pytest.importorskip("h5py")

import rill as tf  # noqa: E402
from rill import keras  # noqa: E402

L = keras.layers


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)
    return x, y


def _model(weights=None):
    m = keras.Sequential([keras.Input((3,)), L.Dense(4, activation="tanh"), L.Dense(1)])
    if weights is not None:
        m.set_weights(weights)
    m.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    return m


def test_model_checkpoint_best_only_writes_on_improvement(tmp_path):
    x, y = _data()
    m = _model()
    pattern = str(tmp_path / "m-{epoch:02d}-{val_loss:.3f}.keras")
    cb = keras.callbacks.ModelCheckpoint(pattern, save_best_only=True, monitor="val_loss")
    h = m.fit(x, y, validation_data=(x[:16], y[:16]), epochs=5, batch_size=8, shuffle=False,
              verbose=0, callbacks=[cb]).history  # fmt: skip
    best, expected = np.inf, []
    for epoch, v in enumerate(h["val_loss"]):
        if v < best:
            best = v
            expected.append(f"m-{epoch + 1:02d}-{v:.3f}.keras")
    assert sorted(os.listdir(tmp_path)) == sorted(expected)
    last = keras.models.load_model(str(tmp_path / expected[-1]))
    assert last.evaluate(x[:16], y[:16], verbose=0) == pytest.approx(best, rel=1e-5)


def test_model_checkpoint_weights_only_and_path_rules(tmp_path):
    x, y = _data()
    m = _model()
    path = str(tmp_path / "w.weights.h5")
    m.fit(
        x,
        y,
        epochs=2,
        verbose=0,
        callbacks=[keras.callbacks.ModelCheckpoint(path, save_weights_only=True)],
    )
    other = _model()
    other.load_weights(path)
    for a, b in zip(m.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        keras.callbacks.ModelCheckpoint(str(tmp_path / "w.h5"), save_weights_only=True)
    with pytest.raises(ValueError, match=r"\.keras"):
        keras.callbacks.ModelCheckpoint(str(tmp_path / "m.h5"))


def test_model_checkpoint_crash_mid_write_keeps_the_previous_file(tmp_path, monkeypatch):
    x, y = _data()
    m = _model()
    path = str(tmp_path / "m.weights.h5")
    m.fit(
        x,
        y,
        epochs=1,
        verbose=0,
        callbacks=[keras.callbacks.ModelCheckpoint(path, save_weights_only=True)],
    )
    saved = [w.copy() for w in m.get_weights()]
    import h5py

    real = h5py.File.create_dataset if hasattr(h5py.File, "create_dataset") else None
    calls = {"n": 0}

    def dying(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 2:  # some weights already written: the crash tears the file
            raise OSError("disk died")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(h5py.Group, "create_dataset", dying)
    with pytest.raises(OSError, match="disk died"):
        m.fit(
            x,
            y,
            epochs=1,
            verbose=0,
            callbacks=[keras.callbacks.ModelCheckpoint(path, save_weights_only=True)],
        )
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["m.weights.h5"]  # no temp file left behind
    fresh = _model()
    fresh.load_weights(path)
    for a, b in zip(saved, fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


class _Crash(keras.callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt("killed")


def test_backup_and_restore_resumes_a_killed_fit_exactly(tmp_path):
    x, y = _data()
    init = _model().get_weights()
    reference = _model(init)
    ref_hist = reference.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0).history

    backup = str(tmp_path / "backup")
    m = _model(init)
    with pytest.raises(KeyboardInterrupt):
        m.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0,
              callbacks=[keras.callbacks.BackupAndRestore(backup), _Crash(3)])  # fmt: skip
    assert sorted(os.listdir(backup)) == ["latest.weights.h5", "training_metadata.json"]

    resumed = _model()  # a new process: fresh weights and optimizer, restored from the backup
    seen = []
    hist = resumed.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0,
                       callbacks=[keras.callbacks.BackupAndRestore(backup),
                                  keras.callbacks.LambdaCallback(
                                      on_epoch_begin=lambda e, logs: seen.append(e))]).history  # fmt: skip
    assert seen == [3, 4]
    np.testing.assert_allclose(hist["loss"], ref_hist["loss"][3:], rtol=1e-6)
    for a, b in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert int(resumed.optimizer.iterations) == int(reference.optimizer.iterations)
    assert not os.path.exists(backup)  # a finished fit deletes its backup


def test_backup_and_restore_argument_checks(tmp_path):
    with pytest.raises(ValueError, match="backup_dir"):
        keras.callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        keras.callbacks.BackupAndRestore(str(tmp_path), save_freq=0)
    assert tf.__name__ == "rill"


def test_model_checkpoint_every_n_batches(tmp_path):
    x, y = _data()  # 48 samples, batches of 8: 6 batches per epoch
    pattern = str(tmp_path / "w-{epoch}-{batch}.weights.h5")
    cb = keras.callbacks.ModelCheckpoint(pattern, save_weights_only=True, save_freq=4)
    _model().fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[cb])
    # every 4th batch counted across epochs: batches 4 and 8, 12 (epoch 2 batches 2 and 6)
    assert sorted(os.listdir(tmp_path)) == [
        "w-1-4.weights.h5",
        "w-2-2.weights.h5",
        "w-2-6.weights.h5",
    ]
    with pytest.raises(ValueError, match="save_freq"):
        keras.callbacks.ModelCheckpoint(pattern, save_weights_only=True, save_freq=0)
