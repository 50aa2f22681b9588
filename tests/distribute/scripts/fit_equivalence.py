"""A Keras fit under MultiWorkerMirroredStrategy; writes the trained weights (chief) to argv[1]."""

import sys

import numpy as np

import rill as tf

out = sys.argv[1]
rng = np.random.default_rng(0)
x = rng.normal(size=(48, 5)).astype("float32")
y = (x @ rng.normal(size=(5, 1)) + 0.1).astype("float32")

strategy = tf.distribute.MultiWorkerMirroredStrategy()
with strategy.scope():
    # a different seed per rank: the mirrored initial values must come from rank 0
    tf.random.set_seed(1 + 100 * strategy.cluster_resolver.task_id)
    model = tf.keras.Sequential(
        [
            tf.keras.Input((5,)),
            tf.keras.layers.Dense(8, activation="tanh"),
            tf.keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
if strategy.cluster_resolver.task_id == 0:
    tf.random.set_seed(1)  # rank 0's weights must be a 1-process run's
history = model.fit(x, y, batch_size=12, epochs=3, shuffle=False, verbose=0)
# a tf.data pipeline of global batches, as TF's multi-worker Keras guide feeds fit
model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(12), epochs=1, verbose=0)
ev = model.evaluate(x, y, batch_size=12, verbose=0)
pred = model.predict(x, batch_size=12, verbose=0)
if strategy.extended.should_checkpoint:
    np.savez(
        out,
        *[w for w in model.get_weights()],
        loss=np.array(history.history["loss"]),
        ev=np.array(ev),
        pred=pred,
        n=strategy.num_replicas_in_sync,
    )
else:
    np.savez(out + ".worker", loss=np.array(history.history["loss"]), ev=np.array(ev), pred=pred)
