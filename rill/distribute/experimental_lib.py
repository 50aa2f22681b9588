"""``tf.distribute.experimental``'s option types: communication options and hints,
``ValueContext``."""

from __future__ import annotations

import enum

from rill.ops._op import tf_export

__all__ = [
    "CommunicationImplementation",
    "CommunicationOptions",
    "CollectiveHints",
    "ValueContext",
]


@tf_export(
    "distribute.experimental.CommunicationImplementation",
    "distribute.experimental.CollectiveCommunication",
)
class CommunicationImplementation(enum.Enum):
    """Which collective implementation to use (MPI does them all here)."""

    AUTO = "AUTO"
    RING = "RING"
    NCCL = "NCCL"


@tf_export("distribute.experimental.CommunicationOptions")
class CommunicationOptions:
    """Options of the cross-replica collectives; ``timeout_seconds`` bounds every one of
    them (a rank that does not arrive in time fails the job)."""

    def __init__(
        self,
        bytes_per_pack=0,
        timeout_seconds=None,
        implementation=CommunicationImplementation.AUTO,
    ):
        if bytes_per_pack < 0:
            raise ValueError(f"bytes_per_pack must be non-negative, got {bytes_per_pack}.")
        if isinstance(implementation, str):
            implementation = CommunicationImplementation[implementation.upper()]
        self.bytes_per_pack = bytes_per_pack
        self.timeout_seconds = timeout_seconds
        self.implementation = implementation


@tf_export("distribute.experimental.CollectiveHints")
class CollectiveHints(CommunicationOptions):
    """Deprecated alias of ``CommunicationOptions`` (TF keeps it for old code)."""

    def __init__(self, bytes_per_pack=0, timeout_seconds=None):
        super().__init__(bytes_per_pack, timeout_seconds)


@tf_export("distribute.experimental.ValueContext")
class ValueContext:
    """What ``experimental_distribute_values_from_function`` tells its function."""

    def __init__(self, replica_id_in_sync_group=0, num_replicas_in_sync=1):
        self._replica_id_in_sync_group = replica_id_in_sync_group
        self._num_replicas_in_sync = num_replicas_in_sync

    @property
    def replica_id_in_sync_group(self):
        return self._replica_id_in_sync_group

    @property
    def num_replicas_in_sync(self):
        return self._num_replicas_in_sync

    def __str__(self):
        return (
            f"tf.distribute.ValueContext(replica id {self._replica_id_in_sync_group},  "
            f"total replicas in sync: {self._num_replicas_in_sync})"
        )
