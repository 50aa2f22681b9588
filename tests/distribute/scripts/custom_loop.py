"""TF's distributed custom training loop (strategy.run in a tf.function), unchanged
but for its data; the chief saves the trained weights and per-step losses to argv[1]."""

import sys

import numpy as np

import rill as tf

rng = np.random.default_rng(1)
x = rng.normal(size=(48, 4)).astype("float32")
y = (x @ rng.normal(size=(4, 1))).astype("float32")

strategy = tf.distribute.MultiWorkerMirroredStrategy()
GLOBAL_BATCH_SIZE = 12
dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(GLOBAL_BATCH_SIZE)
dist_dataset = strategy.experimental_distribute_dataset(dataset)

with strategy.scope():
    tf.random.set_seed(7 + strategy.cluster_resolver.task_id)  # rank 0's init must win
    model = tf.keras.Sequential(
        [
            tf.keras.Input((4,)),
            tf.keras.layers.Dense(3, activation="relu"),
            tf.keras.layers.Dense(1),
        ]
    )
    optimizer = tf.keras.optimizers.SGD(learning_rate=0.05)
    loss_object = tf.keras.losses.MeanSquaredError(reduction="none")

    def compute_loss(labels, predictions):
        per_example_loss = loss_object(labels, predictions)
        return tf.nn.compute_average_loss(per_example_loss, global_batch_size=GLOBAL_BATCH_SIZE)


def train_step(inputs):
    features, labels = inputs
    with tf.GradientTape() as tape:
        predictions = model(features, training=True)
        loss = compute_loss(labels, predictions)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss


@tf.function
def distributed_train_step(dataset_inputs):
    per_replica_losses = strategy.run(train_step, args=(dataset_inputs,))
    return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica_losses, axis=None)


losses = []
for _epoch in range(3):
    for batch in dist_dataset:
        losses.append(float(distributed_train_step(batch)))

ids = strategy.gather(
    tf.constant(
        [strategy.run(lambda: tf.distribute.get_replica_context().replica_id_in_sync_group)]
    ),
    axis=0,
)
if strategy.extended.should_checkpoint:
    np.savez(sys.argv[1], *model.get_weights(), losses=np.array(losses), ids=ids.numpy())
