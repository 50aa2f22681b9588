"""``ParameterServerStrategy``: asynchronous training of a coordinator, workers and
parameter servers (TF's parameter-server training guide).

The cluster comes from a resolver (``TF_CONFIG``, or a ``SimpleClusterResolver``) that
names at least one ``ps`` and one ``worker`` task. rill runs the whole cluster in the
coordinator's process: the parameter servers are the process's variable store (each
variable records the ``ps`` task it is placed on, round-robin, and a
``variable_partitioner`` splits large ones into ``ShardedVariable`` shards), and each
worker is a thread of ``ClusterCoordinator`` that runs the functions scheduled on it,
reading and updating the shared variables without synchronising with the other workers.
"""

from __future__ import annotations

import inspect
import itertools

from rill.distribute import collective
from rill.distribute.distribute_lib import Strategy, StrategyExtended
from rill.distribute.sharded_variable import PSVariable, ShardedVariable, shard_sizes
from rill.ops._op import tf_export

__all__ = ["ParameterServerStrategy", "ParameterServerStrategyExtended"]

_ALLOWED_JOBS = ("chief", "worker", "ps", "evaluator")


def _verify_cluster(cluster_resolver):
    spec = cluster_resolver.cluster_spec()
    if not spec:
        raise ValueError(
            "Cluster spec must be non-empty in `tf.distribute.cluster_resolver.ClusterResolver`."
        )
    unknown = [j for j in spec.jobs if j not in _ALLOWED_JOBS]
    if unknown:
        raise ValueError(
            f"Unrecognized task_type: {unknown[0]!r}; a ParameterServerStrategy cluster has "
            f"jobs among {list(_ALLOWED_JOBS)}."
        )
    if "ps" not in spec.jobs or spec.num_tasks("ps") < 1:
        raise ValueError("There must be at least one ps.")
    if "worker" not in spec.jobs or spec.num_tasks("worker") < 1:
        raise ValueError("There must be at least one worker.")
    return spec


class ParameterServerStrategyExtended(StrategyExtended):
    """Variable placement on the parameter servers, and the worker count."""

    def __init__(self, container_strategy, cluster_resolver, variable_partitioner):
        spec = _verify_cluster(cluster_resolver)
        self._num_workers = spec.num_tasks("worker")
        self._num_ps = spec.num_tasks("ps")
        super().__init__(
            container_strategy,
            collective.LocalGroup(),
            ("/job:worker/replica:0/task:0/device:CPU:0",),
        )
        self._ps_devices = tuple(
            f"/job:ps/replica:0/task:{i}/device:CPU:0" for i in spec.task_indices("ps")
        )
        self._variable_partitioner = variable_partitioner
        self._next_ps = itertools.count()
        self._used_with_coordinator = False

    @property
    def parameter_devices(self) -> tuple:
        return self._ps_devices

    @property
    def should_checkpoint(self) -> bool:
        return True

    @property
    def should_save_summary(self) -> bool:
        return True

    def _round_robin_device(self) -> str:
        return self._ps_devices[next(self._next_ps) % self._num_ps]

    def _create_variable(self, next_creator=None, **kwargs):
        """A variable on a parameter server, or a ``ShardedVariable`` when the partitioner
        splits it: what the strategy's variable creator makes of ``tf.Variable(**kwargs)``.
        ``next_creator(**kwargs)`` builds one plain variable (default: ``PSVariable``)."""
        make = next_creator
        if self._variable_partitioner is None:
            return self._place(make, kwargs)
        import rill as tf

        name = kwargs.get("name") or "Variable"
        initial_value = kwargs.get("initial_value")
        if initial_value is None:
            raise ValueError(
                "It looks like you are using `ParameterServerStrategy` with a "
                "`variable_partitioner`, and trying to create a variable without specifying "
                "`initial_value`. This is not allowed. Please specify the `initial_value`."
            )
        if callable(initial_value):
            initial_value = _call_initial_value(initial_value)
        value = tf.convert_to_tensor(initial_value, dtype=kwargs.get("dtype"))
        if value.shape.rank == 0:  # scalars are never partitioned
            return self._place(make, {**kwargs, "initial_value": value})
        partitions = self._variable_partitioner(shape=value.shape, dtype=value.dtype)
        if not partitions or partitions[0] == 0 or any(p != 1 for p in partitions[1:]):
            raise ValueError(
                "variable_partitioner must return a list/tuple whose elements are 1 besides "
                f"the first element (non-zero), got: {partitions!r}"
            )
        rows = int(value.shape[0])
        num = min(int(partitions[0]), rows)
        if num <= 1:
            return self._place(make, {**kwargs, "initial_value": value})
        shards, start = [], 0
        for i, size in enumerate(shard_sizes(rows, num)):
            part = value[start : start + size]
            start += size
            shard_kwargs = {**kwargs, "initial_value": part, "name": f"{name}/part_{i}"}
            shard_kwargs.pop("shape", None)
            shards.append(self._place(make, shard_kwargs))
        return ShardedVariable(shards, name=name)

    def _place(self, make, kwargs):
        device = self._round_robin_device()
        return PSVariable(**kwargs, ps_device=device) if make is None else make(**kwargs)


def _call_initial_value(fn):
    """An initializer's value; one taking ``shard_info`` gets the whole variable."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {}
    return fn(shard_info=None) if "shard_info" in params else fn()


@tf_export("distribute.ParameterServerStrategy", "distribute.experimental.ParameterServerStrategy")
class ParameterServerStrategy(Strategy):
    """Asynchronous data parallelism: workers run the functions a ``ClusterCoordinator``
    schedules, against variables held by the parameter servers."""

    def __init__(self, cluster_resolver, variable_partitioner=None):
        self._cluster_resolver = cluster_resolver
        super().__init__(
            ParameterServerStrategyExtended(self, cluster_resolver, variable_partitioner)
        )
        self._cluster_coordinator = None

    @property
    def num_replicas_in_sync(self) -> int:
        return 1

    def __repr__(self):
        ext = self._extended
        return f"<ParameterServerStrategy: {ext._num_workers} worker(s), {ext._num_ps} ps>"
