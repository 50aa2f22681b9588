"""TF's tutorial "Multi-worker training with Keras" (main.py), as published, but for the
paths (argv[1] is the directory standing for /tmp), ``steps_per_epoch`` (argv[2], 70 in
the tutorial) and the report at the end (argv[3]: the History, the weights and the saved
model's weights, for the test)."""

import json
import os
import sys

import mnist_setup
import numpy as np

import rill as tf

tmp, steps, report = sys.argv[1], int(sys.argv[2]), sys.argv[3]

per_worker_batch_size = 64
tf_config = json.loads(os.environ["TF_CONFIG"])
num_workers = len(tf_config["cluster"]["worker"])

strategy = tf.distribute.MultiWorkerMirroredStrategy()

global_batch_size = per_worker_batch_size * num_workers
multi_worker_dataset = mnist_setup.mnist_dataset(global_batch_size)

with strategy.scope():
    # Model building/compiling need to be within `strategy.scope()`.
    multi_worker_model = mnist_setup.build_and_compile_cnn_model()

# Fault tolerance: the tutorial's BackupAndRestore callback
callbacks = [tf.keras.callbacks.BackupAndRestore(backup_dir=os.path.join(tmp, "backup"))]
history = multi_worker_model.fit(
    multi_worker_dataset, epochs=3, steps_per_epoch=steps, callbacks=callbacks
)

# Model saving, as the tutorial does it: the chief writes the real path, the others a
# temporary directory they delete
model_path = os.path.join(tmp, "keras-model.keras")


def _is_chief(task_type, task_id):
    # Note: there are two possible `TF_CONFIG` configurations.
    #   1) In addition to `worker` tasks, a `chief` task type is use;
    #      in this case, this function should be modified to
    #      `return task_type == 'chief'`.
    #   2) Only `worker` task type is used; in this case, worker 0 is
    #      regarded as the chief. The implementation demonstrated here
    #      is for this case.
    # For the purpose of this Colab section, the `task_type` is `None` case
    # is added because it is effectively run with only a single worker.
    return (task_type == "worker" and task_id == 0) or task_type is None


def _get_temp_dir(dirpath, task_id):
    base_dirpath = "workertemp_" + str(task_id)
    temp_dir = os.path.join(dirpath, base_dirpath)
    tf.io.gfile.makedirs(temp_dir)
    return temp_dir


def write_filepath(filepath, task_type, task_id):
    dirpath = os.path.dirname(filepath)
    base = os.path.basename(filepath)
    if not _is_chief(task_type, task_id):
        dirpath = _get_temp_dir(dirpath, task_id)
    return os.path.join(dirpath, base)


task_type, task_id = (strategy.cluster_resolver.task_type, strategy.cluster_resolver.task_id)
write_model_path = write_filepath(model_path, task_type, task_id)
multi_worker_model.save(write_model_path)
if not _is_chief(task_type, task_id):
    tf.io.gfile.rmtree(os.path.dirname(write_model_path))

# (the report for the test, not part of the tutorial)
if _is_chief(task_type, task_id):
    saved = tf.keras.models.load_model(model_path)
    np.savez(report, *multi_worker_model.get_weights(), saved=saved.get_weights()[0],
             loss=np.array(history.history["loss"]), acc=np.array(history.history["accuracy"]),
             n=strategy.num_replicas_in_sync)  # fmt: skip
else:
    np.savez(report + f".rank{task_id}", *multi_worker_model.get_weights())
