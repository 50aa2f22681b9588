"""A Keras fit with BackupAndRestore under MultiWorkerMirroredStrategy.

argv: backup_dir, out (.npz the chief writes), kill_step (rank 1 SIGKILLs itself before
that global training step; -1: never). Writes the final weights and the epochs this run
trained."""

import os
import signal
import sys

import numpy as np

import rill as tf

backup_dir, out, kill_step = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = np.random.default_rng(0)
x = rng.normal(size=(64, 6)).astype("float32")
y = (np.tanh(x @ rng.normal(size=(6, 1))) + 0.1).astype("float32")

options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=30)
strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
rank = strategy.cluster_resolver.task_id
with strategy.scope():
    tf.random.set_seed(7)
    model = tf.keras.Sequential(
        [
            tf.keras.Input((6,)),
            tf.keras.layers.Dense(8, activation="tanh"),
            tf.keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=tf.keras.optimizers.Adam(0.02), loss="mse")


class Recorder(tf.keras.callbacks.Callback):
    """Which epochs ran; rank 1 dies (SIGKILL, no cleanup) at ``kill_step``."""

    def __init__(self):
        super().__init__()
        self.epochs, self.step = [], 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)

    def on_train_batch_begin(self, batch, logs=None):
        if rank == 1 and self.step == kill_step:
            os.kill(os.getpid(), signal.SIGKILL)
        self.step += 1


rec = Recorder()
callbacks = [rec] if backup_dir == "-" else [tf.keras.callbacks.BackupAndRestore(backup_dir), rec]
model.fit(x, y, batch_size=16, epochs=5, shuffle=False, verbose=0, callbacks=callbacks)
if strategy.extended.should_checkpoint:
    np.savez(out, *model.get_weights(), epochs=np.array(rec.epochs))
