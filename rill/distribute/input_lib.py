"""Distributed input: ``InputContext``, ``InputOptions``, ``DistributedDataset`` and its iterator.

``experimental_distribute_dataset`` takes a dataset of *global* batches. Every worker
reads the pipeline and keeps its own contiguous share of each global batch (TF's
``AutoShardPolicy.DATA``: the batch is re-batched to the per-replica size and the pieces
sharded by replica), so each element goes to exactly one replica per epoch and replica
``k`` of ``n`` sees rows ``[k*B/n, (k+1)*B/n)``. A short last batch is split as evenly as
possible (the first ``b % n`` replicas get one row more). ``distribute_datasets_from_function``
gives each worker an ``InputContext`` and iterates what its function returns, untouched.
"""

from __future__ import annotations

import enum
import warnings

import numpy as np

from rill.core import nest
from rill.ops._op import tf_export

__all__ = [
    "InputContext",
    "InputOptions",
    "InputReplicationMode",
    "DistributedDataset",
    "DistributedIterator",
    "split_batch",
]


@tf_export("distribute.InputReplicationMode")
class InputReplicationMode(enum.Enum):
    """Whether an input pipeline feeds a worker (``PER_WORKER``) or a replica."""

    PER_WORKER = "PER_WORKER"
    PER_REPLICA = "PER_REPLICA"


@tf_export("distribute.InputContext")
class InputContext:
    """What an input function needs to shard and batch for its pipeline."""

    def __init__(self, num_input_pipelines=1, input_pipeline_id=0, num_replicas_in_sync=1):
        self._num_input_pipelines = num_input_pipelines
        self._input_pipeline_id = input_pipeline_id
        self._num_replicas_in_sync = num_replicas_in_sync

    @property
    def num_replicas_in_sync(self) -> int:
        return self._num_replicas_in_sync

    @property
    def input_pipeline_id(self) -> int:
        return self._input_pipeline_id

    @property
    def num_input_pipelines(self) -> int:
        return self._num_input_pipelines

    def get_per_replica_batch_size(self, global_batch_size) -> int:
        """``global_batch_size // num_replicas_in_sync``; raises if it does not divide."""
        if global_batch_size % self._num_replicas_in_sync != 0:
            raise ValueError(
                f"The `global_batch_size` {global_batch_size!r} is not divisible by "
                f"`num_replicas_in_sync` {self._num_replicas_in_sync!r}"
            )
        return global_batch_size // self._num_replicas_in_sync

    def __str__(self):
        return (
            f"tf.distribute.InputContext(input pipeline id {self._input_pipeline_id}, "
            f"total: {self._num_input_pipelines})"
        )


@tf_export("distribute.InputOptions")
class InputOptions:
    """Options of ``experimental_distribute_dataset`` and friends (devices are host
    memory here, so the placement fields are accepted and recorded)."""

    def __init__(
        self,
        experimental_fetch_to_device=None,
        experimental_replication_mode=InputReplicationMode.PER_WORKER,
        experimental_place_dataset_on_device=False,
        experimental_per_replica_buffer_size=1,
    ):
        self.experimental_fetch_to_device = experimental_fetch_to_device
        self.experimental_replication_mode = experimental_replication_mode
        self.experimental_place_dataset_on_device = experimental_place_dataset_on_device
        self.experimental_per_replica_buffer_size = experimental_per_replica_buffer_size

    def __repr__(self):
        return f"InputOptions({self.__dict__!r})"


def share(total: int, rank: int, size: int) -> tuple[int, int]:
    """Rows ``[start, stop)`` of a batch of ``total`` that replica ``rank`` keeps."""
    base, extra = divmod(total, size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


def _rows(leaf) -> int:
    return int(np.shape(leaf)[0]) if hasattr(leaf, "shape") else len(leaf)


def split_batch(batch, rank: int, size: int):
    """Replica ``rank``'s contiguous share of a global ``batch`` (any nest of tensors)."""
    if size == 1:
        return batch
    leaves = [leaf for leaf in nest.flatten(batch) if leaf is not None]
    if not leaves:
        return batch
    total = _rows(leaves[0])
    start, stop = share(total, rank, size)
    return nest.map_structure(lambda t: None if t is None else t[start:stop], batch)


def _shard_policy(dataset):
    from rill.data.options import AutoShardPolicy

    try:
        policy = dataset.options().experimental_distribute.auto_shard_policy
    except AttributeError:
        return AutoShardPolicy.AUTO
    return AutoShardPolicy(int(policy)) if policy is not None else AutoShardPolicy.AUTO


@tf_export("distribute.DistributedDataset")
class DistributedDataset:
    """A dataset whose elements are this worker's per-replica batches."""

    def __init__(self, dataset, strategy, options=None, split=True):
        self._dataset = dataset
        self._strategy = strategy
        self._options = options
        self._split = split
        if split:
            from rill.data.options import AutoShardPolicy

            policy = _shard_policy(dataset)
            if policy == AutoShardPolicy.FILE:
                warnings.warn(
                    "AutoShardPolicy.FILE: rill shards the global batches by data; shard "
                    "by file with distribute_datasets_from_function and "
                    "InputContext.input_pipeline_id.",
                    stacklevel=3,
                )
            # OFF: every worker sees every batch, still re-batched to the per-replica size
            self._every_piece = policy == AutoShardPolicy.OFF

    @property
    def element_spec(self):
        return self._dataset.element_spec

    def __iter__(self):
        return DistributedIterator(self)

    def _local_batches(self):
        group = self._strategy.extended._group
        if not self._split:
            yield from self._dataset
            return
        for batch in self._dataset:
            if self._every_piece:
                for k in range(group.size):
                    yield split_batch(batch, k, group.size)
            else:
                yield split_batch(batch, group.rank, group.size)

    def reduce(self, initial_state, reduce_func):
        """Fold ``reduce_func(state, per_replica_batch)`` over this worker's batches."""
        state = initial_state
        for batch in self:
            state = reduce_func(state, batch)
        return state

    def __repr__(self):
        return f"<DistributedDataset over {self._strategy.num_replicas_in_sync} replicas>"


@tf_export("distribute.DistributedIterator")
class DistributedIterator:
    """Iterator over a ``DistributedDataset``'s per-replica batches."""

    def __init__(self, dataset: DistributedDataset):
        self._distributed = dataset
        self._it = dataset._local_batches()

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._it)

    def get_next(self):
        """The next per-replica batch; raises ``OutOfRangeError`` at the end."""
        try:
            return next(self._it)
        except StopIteration:
            from rill.core import errors

            raise errors.OutOfRangeError(None, None, "End of sequence") from None

    def get_next_as_optional(self):
        """The next batch as a ``tf.experimental.Optional`` (empty at the end)."""
        from rill.data.iterator_ops import Optional

        try:
            return Optional.from_value(next(self._it))
        except StopIteration:
            return Optional.empty(self._distributed.element_spec)

    @property
    def element_spec(self):
        return self._distributed.element_spec
