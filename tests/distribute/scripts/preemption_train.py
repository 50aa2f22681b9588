"""A custom training loop under MultiWorkerMirroredStrategy wrapped in
PreemptionCheckpointHandler.run, as in TF's failure-handling tutorial.

argv: workdir, total_steps, sleep_s (per step, so that a test can interrupt it), and
optionally "watcher" (the notice is the file <workdir>/notice, polled by a
termination_watcher_fn, instead of SIGTERM). Each rank writes its pid to
<workdir>/pid.rank<r> and prints "rank <r> start <step> <total_run_calls>" and then
"rank <r> step <n>" after each step; the chief saves the weights to <workdir>/result.npz
when training completes."""

import os
import sys
import time

import numpy as np

import rill as tf

workdir, total_steps, sleep_s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
use_watcher = len(sys.argv) > 4 and sys.argv[4] == "watcher"
GLOBAL_BATCH = 8

rng = np.random.default_rng(3)
x = rng.normal(size=(total_steps * GLOBAL_BATCH, 4)).astype("float32")
y = (x @ rng.normal(size=(4, 1)) + 0.5).astype("float32")

options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=60)
strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
rank = strategy.cluster_resolver.task_id
n = strategy.num_replicas_in_sync
with open(os.path.join(workdir, f"pid.rank{rank}"), "w") as f:
    f.write(str(os.getpid()))

with strategy.scope():
    tf.random.set_seed(7)
    model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(1)])
    optimizer = tf.keras.optimizers.SGD(learning_rate=0.05, momentum=0.9)
    step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")

checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step)
config = None
if use_watcher:
    notice = os.path.join(workdir, "notice")
    config = tf.distribute.experimental.TerminationConfig(
        termination_watcher_fn=lambda: rank == n - 1 and os.path.exists(notice)
    )
handler = tf.distribute.experimental.PreemptionCheckpointHandler(
    strategy.cluster_resolver, checkpoint, os.path.join(workdir, "ckpt"), config
)
print(f"rank {rank} start {int(step.numpy())} {handler.total_run_calls}", flush=True)


def train_step(xb, yb):
    with tf.GradientTape() as tape:
        per_example = tf.reduce_sum(tf.square(model(xb) - yb), axis=1)
        loss = tf.nn.compute_average_loss(per_example, global_batch_size=GLOBAL_BATCH)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


def distributed_train_step(xb, yb):
    per_replica = strategy.run(train_step, args=(xb, yb))
    return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)


while int(step.numpy()) < total_steps:
    s = int(step.numpy())
    # this rank's share of the step's global batch
    lo = s * GLOBAL_BATCH + rank * (GLOBAL_BATCH // n)
    hi = lo + GLOBAL_BATCH // n
    handler.run(distributed_train_step, tf.constant(x[lo:hi]), yb=tf.constant(y[lo:hi]))
    step.assign_add(1)
    print(f"rank {rank} step {s + 1}", flush=True)
    time.sleep(sleep_s)

if strategy.extended.should_checkpoint:
    np.savez(os.path.join(workdir, "result.npz"), *model.get_weights())
