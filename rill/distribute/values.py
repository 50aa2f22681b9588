"""``ReduceOp`` and the distributed values: ``DistributedValues``, ``PerReplica``, ``Mirrored``.

A replica is a process, so a process holds exactly one replica's value: a
``DistributedValues`` here wraps the local replicas' values (one, or several for
``experimental_distribute_values_from_function`` callers that build them by hand).
"""

from __future__ import annotations

import enum

from rill.core.variables import VariableAggregation
from rill.ops._op import tf_export

__all__ = ["ReduceOp", "DistributedValues", "PerReplica", "Mirrored", "regroup", "local_value"]


@tf_export("distribute.ReduceOp")
class ReduceOp(enum.Enum):
    """How values from the replicas combine: ``SUM`` or ``MEAN``."""

    SUM = "SUM"
    MEAN = "MEAN"

    @staticmethod
    def from_variable_aggregation(aggregation) -> ReduceOp:
        """The ``ReduceOp`` of a ``tf.VariableAggregation`` (``SUM`` or ``MEAN``)."""
        table = {VariableAggregation.SUM: ReduceOp.SUM, VariableAggregation.MEAN: ReduceOp.MEAN}
        if aggregation not in table:
            raise ValueError(
                f"Could not convert from `tf.VariableAggregation` {aggregation!r} to "
                "`tf.distribute.ReduceOp` type: only SUM and MEAN have one."
            )
        return table[aggregation]


def as_reduce_op(op) -> ReduceOp:
    """``ReduceOp`` from itself or its name (``"SUM"``, ``"MEAN"``)."""
    if isinstance(op, ReduceOp):
        return op
    if isinstance(op, str) and op.upper() in ("SUM", "MEAN"):
        return ReduceOp[op.upper()]
    raise ValueError(f"reduce_op must be a tf.distribute.ReduceOp (SUM or MEAN); got {op!r}.")


@tf_export("distribute.DistributedValues")
class DistributedValues:
    """Values of one logical tensor, one per local replica (``.values``)."""

    def __init__(self, values):
        self._values = tuple(values)

    @property
    def values(self) -> tuple:
        return self._values

    def __len__(self):
        return len(self._values)

    def __repr__(self):
        body = ",\n".join(f"  {i}: {v!r}" for i, v in enumerate(self._values))
        return f"{type(self).__name__}:{{\n{body}\n}}"


class PerReplica(DistributedValues):
    """Different values on each replica (inputs, per-replica results)."""


class Mirrored(DistributedValues):
    """The same value on every replica."""


def local_value(value):
    """The one local replica's component of ``value`` (itself when not distributed)."""
    if isinstance(value, DistributedValues):
        if len(value.values) != 1:
            raise ValueError(
                f"A process runs one replica, but this {type(value).__name__} has "
                f"{len(value.values)} local values."
            )
        return value.values[0]
    return value


def regroup(values: list, cls=PerReplica):
    """The result of a per-replica call: the value itself for one local replica (as TF
    returns plain tensors then), else a ``cls`` of the values."""
    return values[0] if len(values) == 1 else cls(values)
