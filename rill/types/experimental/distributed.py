"""``tf.types.experimental.distributed``: the values of distribution strategies."""

from __future__ import annotations

from rill.ops._op import tf_export

__all__ = ["Mirrored", "PerReplica"]


class DistributedValues:
    """Values with one component per replica."""

    @property
    def values(self) -> tuple:
        """The per-replica components."""
        return tuple(self._values)

    def __init__(self, values):
        self._values = tuple(values)

    def __repr__(self):
        return f"{type(self).__name__}({list(self._values)!r})"


@tf_export("types.experimental.distributed.PerReplica")
class PerReplica(DistributedValues):
    """A value that may differ from replica to replica."""


@tf_export("types.experimental.distributed.Mirrored")
class Mirrored(DistributedValues):
    """A value kept identical on every replica."""
