"""``CrossDeviceOps`` and TF's named all-reduce algorithms.

Every replica is a process, so the cross-device reduction is MPI's all-reduce whichever
class is named; the classes are accepted (``MirroredStrategy(cross_device_ops=...)``) and
reduce through the strategy's group.
"""

from __future__ import annotations

from rill.core import nest
from rill.distribute import collective
from rill.distribute import tensor_collectives as tc
from rill.distribute.values import as_reduce_op, local_value
from rill.ops._op import tf_export

__all__ = ["CrossDeviceOps", "NcclAllReduce", "HierarchicalCopyAllReduce", "ReductionToOneDevice"]


@tf_export("distribute.CrossDeviceOps")
class CrossDeviceOps:
    """Reduces and broadcasts values across replicas (here: across the job's processes)."""

    def __init__(self):
        self._group = None

    def _group_or_world(self):
        return self._group if self._group is not None else collective.world()

    def reduce(self, reduce_op, per_replica_value, destinations, options=None):
        """``per_replica_value`` reduced (``SUM``/``MEAN``) over the replicas."""
        op = as_reduce_op(reduce_op)
        flat = [local_value(v) for v in nest.flatten(per_replica_value)]
        out = tc.all_reduce(self._group_or_world(), flat, "SUM", mean=op.name == "MEAN")
        return nest.pack_sequence_as(per_replica_value, out)

    def batch_reduce(self, reduce_op, value_destination_pairs, options=None):
        """Several reductions in one bucketed collective."""
        op = as_reduce_op(reduce_op)
        values = [local_value(v) for v, _ in value_destination_pairs]
        return tc.all_reduce(self._group_or_world(), values, "SUM", mean=op.name == "MEAN")

    def broadcast(self, tensor, destinations):
        """``tensor`` as every replica sees it: rank 0's value."""
        import numpy as np

        import rill as tf

        t = tf.convert_to_tensor(tensor)
        return tf.convert_to_tensor(self._group_or_world().broadcast(np.array(t.numpy())), t.dtype)


@tf_export("distribute.ReductionToOneDevice")
class ReductionToOneDevice(CrossDeviceOps):
    """TF's reduce-on-one-device algorithm; here an MPI all-reduce."""

    def __init__(self, reduce_to_device=None, accumulation_fn=None):
        super().__init__()
        self.reduce_to_device = reduce_to_device
        self.accumulation_fn = accumulation_fn


class _PackedAllReduce(CrossDeviceOps):
    def __init__(self, num_packs=1):
        if num_packs < 0:
            raise ValueError(
                f"NCCL all-reduce requires num_packs >= 0, but {num_packs} is specified"
            )
        super().__init__()
        self.num_packs = num_packs


@tf_export("distribute.NcclAllReduce")
class NcclAllReduce(_PackedAllReduce):
    """TF's NCCL all-reduce; here MPI's (the gradients are already one packed bucket)."""


@tf_export("distribute.HierarchicalCopyAllReduce")
class HierarchicalCopyAllReduce(_PackedAllReduce):
    """TF's hierarchical-copy all-reduce; here MPI's."""
