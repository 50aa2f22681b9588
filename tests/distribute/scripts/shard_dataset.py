"""Each replica writes the elements it received, per epoch, to argv[1].rank<k>.npz."""

import sys

import numpy as np

import rill as tf

strategy = tf.distribute.MultiWorkerMirroredStrategy()
rank = strategy.cluster_resolver.task_id
n_elements, batch = 23, 6  # a short last global batch: 23 = 3*6 + 5
seen = {}
dist = strategy.experimental_distribute_dataset(tf.data.Dataset.range(n_elements).batch(batch))
for epoch in range(2):
    seen[f"data_{epoch}"] = np.concatenate([b.numpy() for b in dist])


def dataset_fn(ctx):
    ds = tf.data.Dataset.range(n_elements).shard(ctx.num_input_pipelines, ctx.input_pipeline_id)
    return ds.batch(ctx.get_per_replica_batch_size(4))


from_fn = strategy.distribute_datasets_from_function(dataset_fn)
seen["fn_0"] = np.concatenate([b.numpy() for b in from_fn])
# a global reduction over the replicas' shares: the sum of every element, once
total = strategy.reduce("SUM", tf.reduce_sum(tf.constant(seen["data_0"])), axis=None)
np.savez(f"{sys.argv[1]}.rank{rank}.npz", total=total.numpy(), **seen)
