"""ModelCheckpoint, BackupAndRestore and a tf.summary writer (TF's guide pattern) under
MultiWorkerMirroredStrategy. argv: a directory; the chief writes there ``result.npz``
(trained weights, History) and every rank ``listing.rank<r>.txt`` after its fit."""

import os
import sys

import numpy as np

import rill as tf

root = sys.argv[1]
rng = np.random.default_rng(1)
x = rng.normal(size=(32, 4)).astype("float32")
y = (x @ rng.normal(size=(4, 1))).astype("float32")

strategy = tf.distribute.MultiWorkerMirroredStrategy()
rank = strategy.cluster_resolver.task_id
with strategy.scope():
    tf.random.set_seed(3)
    model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(1)])
    model.compile(optimizer=tf.keras.optimizers.SGD(0.05), loss="mse")

written = []  # the paths this rank's callbacks saved to


def _recording(save):
    def wrapper(path, *args, **kwargs):
        written.append(os.path.relpath(os.fspath(path), root))
        return save(path, *args, **kwargs)

    return wrapper


model.save_weights, model.save = _recording(model.save_weights), _recording(model.save)

logdir = os.path.join(root, "logs")
writer = (
    tf.summary.create_file_writer(logdir)
    if strategy.extended.should_save_summary
    else tf.summary.create_noop_writer()
)


class Summaries(tf.keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        with writer.as_default():
            tf.summary.scalar("loss", logs["loss"], step=epoch)


callbacks = [
    tf.keras.callbacks.ModelCheckpoint(
        os.path.join(root, "ckpt", "w-{epoch}.weights.h5"), save_weights_only=True
    ),
    tf.keras.callbacks.ModelCheckpoint(os.path.join(root, "model.keras"), save_freq=3),
    tf.keras.callbacks.BackupAndRestore(os.path.join(root, "backup"), delete_checkpoint=False),
    Summaries(),
]
history = model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=callbacks)
writer.flush()
# everything every rank sees once all are done
strategy.reduce("SUM", tf.constant(1.0), axis=None)
listing = sorted(
    os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs + _
)
with open(os.path.join(root, f"listing.rank{rank}.txt"), "w") as f:
    f.write("\n".join(p for p in listing if not p.startswith(("listing.", "written."))))
with open(os.path.join(root, f"written.rank{rank}.txt"), "w") as f:
    f.write("\n".join(written))
if strategy.extended.should_checkpoint:
    np.savez(os.path.join(root, "result.npz"), *model.get_weights(),
             loss=np.array(history.history["loss"]))  # fmt: skip
