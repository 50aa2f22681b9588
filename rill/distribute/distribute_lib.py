"""``Strategy``, ``StrategyExtended``, ``ReplicaContext`` and the context functions.

Replicas are processes (one per MPI rank); each process runs its replica's step, and the
cross-replica work (all-reduce of gradients and metrics, broadcast of initial values,
gathering results) is a collective of the strategy's ``Group``.

Contexts, as TF has them: outside any ``scope()`` the *default strategy* is current and the
code is in its (only) replica context; inside ``strategy.scope()`` it is in the
cross-replica context (``get_replica_context()`` is None); inside ``strategy.run(fn)``, ``fn``
runs in a ``ReplicaContext`` of that strategy.
"""

from __future__ import annotations

import contextlib
import gc
import threading

from rill.core import dispatch as _dispatch
from rill.core import nest
from rill.distribute import collective
from rill.distribute import tensor_collectives as tc
from rill.distribute.input_lib import DistributedDataset, InputContext
from rill.distribute.values import (
    DistributedValues,
    as_reduce_op,
    local_value,
    regroup,
)
from rill.ops._op import tf_export

__all__ = [
    "Strategy",
    "StrategyExtended",
    "ReplicaContext",
    "RunOptions",
    "get_strategy",
    "has_strategy",
    "in_cross_replica_context",
    "get_replica_context",
    "experimental_set_strategy",
]


class _Stack(threading.local):
    def __init__(self):
        self.entries = []  # (strategy, replica_context or None): innermost last


_stack = _Stack()
_global: list = []  # experimental_set_strategy's strategy (at most one)


def _top():
    if _stack.entries:
        return _stack.entries[-1]
    if _global:
        return _global[0], None
    return _default_strategy(), _default_replica_context()


@tf_export("distribute.get_strategy")
def get_strategy():
    """The current ``Strategy``: the innermost ``scope()``'s, else the default one."""
    return _top()[0]


@tf_export("distribute.has_strategy")
def has_strategy() -> bool:
    """True inside a non-default strategy's ``scope()`` (or its ``run``)."""
    return get_strategy() is not _default_strategy()


@tf_export("distribute.in_cross_replica_context")
def in_cross_replica_context() -> bool:
    """True inside ``strategy.scope()`` but outside ``strategy.run``."""
    return _top()[1] is None


@tf_export("distribute.get_replica_context")
def get_replica_context():
    """The current ``ReplicaContext``; None in the cross-replica context."""
    return _top()[1]


@tf_export("distribute.experimental_set_strategy")
def experimental_set_strategy(strategy):
    """Make ``strategy`` current outside of any scope (``None``: back to the default)."""
    if _stack.entries:
        raise RuntimeError("Must not be called inside a `tf.distribute.Strategy` scope.")
    _global.clear()
    if strategy is not None:
        _global.append(strategy)


@tf_export("distribute.RunOptions")
class RunOptions:
    """Options of ``strategy.run`` (accepted; a process runs its replica's function
    eagerly or traced, as the function itself says)."""

    def __init__(
        self,
        experimental_enable_dynamic_batch_size=True,
        experimental_bucketizing_dynamic_shape=False,
        experimental_xla_options=None,
    ):
        self.experimental_enable_dynamic_batch_size = experimental_enable_dynamic_batch_size
        self.experimental_bucketizing_dynamic_shape = experimental_bucketizing_dynamic_shape
        self.experimental_xla_options = experimental_xla_options


# ----------------------------------------------------------------------------------- extended
@tf_export("distribute.StrategyExtended")
class StrategyExtended:
    """The strategy's lower-level API: its process group and the collectives on it."""

    def __init__(self, container_strategy, group=None, devices=None, cross_device_ops=None):
        self._container_strategy_weakref = container_strategy
        self._group = group if group is not None else collective.LocalGroup()
        self._devices = (
            tuple(devices) if devices else ("/job:localhost/replica:0/task:0/device:CPU:0",)
        )
        self._cross_device_ops = cross_device_ops

    def _container_strategy(self):
        return self._container_strategy_weakref

    @property
    def worker_devices(self) -> tuple:
        return self._devices

    @property
    def parameter_devices(self) -> tuple:
        return self._devices

    @property
    def experimental_require_static_shapes(self) -> bool:
        return False

    @property
    def should_checkpoint(self) -> bool:
        """True on the chief: the worker whose checkpoints count."""
        return self._group.is_chief

    @property
    def should_save_summary(self) -> bool:
        return self._group.is_chief

    @property
    def _in_multi_worker_mode(self) -> bool:
        return self._group.size > 1

    def reduce_to(self, reduce_op, value, destinations=None, options=None):
        """Reduce ``value`` (this worker's replica's) over all replicas."""
        op = as_reduce_op(reduce_op)
        flat = nest.flatten(value)
        out = tc.all_reduce(
            self._group, [local_value(v) for v in flat], "SUM", mean=op.name == "MEAN"
        )
        return nest.pack_sequence_as(value, out)

    def batch_reduce_to(self, reduce_op, value_destination_pairs, options=None):
        """``reduce_to`` of several values in one bucketed collective."""
        op = as_reduce_op(reduce_op)
        values = [local_value(v) for v, _ in value_destination_pairs]
        return tc.all_reduce(self._group, values, "SUM", mean=op.name == "MEAN")

    def update(self, var, fn, args=(), kwargs=None, group=True):
        """Run ``fn(var, *args, **kwargs)``: every replica holds its own copy of ``var``."""
        return fn(var, *args, **(kwargs or {}))

    def value_container(self, value):
        return value

    def variable_created_in_scope(self, v) -> bool:
        return getattr(v, "_rill_strategy", None) is self._container_strategy()

    def colocate_vars_with(self, colocate_with_variable):
        return contextlib.nullcontext()

    def experimental_make_numpy_dataset(self, numpy_input, session=None):
        from rill.data import Dataset

        return Dataset.from_tensor_slices(numpy_input)

    def call_for_each_replica(self, fn, args=(), kwargs=None):
        return self._container_strategy().run(fn, args, kwargs)


# ----------------------------------------------------------------------------------- strategy
def _live_variables_since(tid: int) -> list:
    """Variables created after tape id ``tid`` (in creation order, the same on every rank
    of an SPMD program)."""
    from rill.core.variables import Variable

    found = [o for o in gc.get_objects() if isinstance(o, Variable) and o._tid > tid]
    found.sort(key=lambda v: v._tid)
    return found


@tf_export("distribute.Strategy")
class Strategy:
    """Runs a computation on the replicas of a job and combines their results."""

    def __init__(self, extended):
        self._extended = extended
        self._scope_depth = 0
        self._scope_tid = 0

    @property
    def extended(self) -> StrategyExtended:
        return self._extended

    @property
    def num_replicas_in_sync(self) -> int:
        return self._extended._group.size

    @property
    def cluster_resolver(self):
        return getattr(self, "_cluster_resolver", None)

    # scope ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def scope(self):
        """Variables created inside are mirrored: on leaving the outermost scope every
        replica takes rank 0's values of the variables created in it."""
        current = _top()[0]
        if _stack.entries and current is not self:
            raise ValueError(
                f"Mixing different tf.distribute.Strategy objects: {type(current).__name__} "
                f"is current; cannot enter the scope of {type(self).__name__}."
            )
        outermost = self._scope_depth == 0
        if outermost:
            self._scope_tid = _dispatch.next_tid()
        _stack.entries.append((self, None))
        self._scope_depth += 1
        try:
            yield self
        finally:
            _stack.entries.pop()
            self._scope_depth -= 1
            if outermost and self.num_replicas_in_sync > 1:
                self._broadcast_variables(_live_variables_since(self._scope_tid))

    def _broadcast_variables(self, variables) -> None:
        numeric = [
            v for v in variables if v.dtype.is_floating or v.dtype.is_integer or v.dtype.is_bool
        ]
        tc.broadcast_variables(self._extended._group, numeric)
        for v in variables:
            v._rill_strategy = self

    # running -------------------------------------------------------------------------------
    def run(self, fn, args=(), kwargs=None, options=None):
        """Run ``fn`` as this process's replica, in its ``ReplicaContext``."""
        kwargs = kwargs or {}
        args = nest.map_structure(local_value, args, check_types=False) if args else ()
        kwargs = nest.map_structure(local_value, kwargs) if kwargs else {}
        ctx = ReplicaContext(self, self._extended._group.rank)
        _stack.entries.append((self, ctx))
        try:
            return fn(*args, **kwargs)
        finally:
            _stack.entries.pop()

    def reduce(self, reduce_op, value, axis):
        """Combine the replicas' ``value``s: ``SUM`` or ``MEAN``, first over ``axis`` of
        each (``None``: elementwise across replicas only)."""
        import rill as tf

        op = as_reduce_op(reduce_op)
        v = tf.convert_to_tensor(local_value(value))
        if axis is None:
            return self._extended.reduce_to(op, v)
        total = tf.reduce_sum(v, axis=axis)
        if op.name == "SUM":
            return self._extended.reduce_to(op, total)
        count = tf.cast(tf.shape(v)[axis], total.dtype)
        total, count = tc.all_reduce(self._extended._group, [total, count], "SUM")
        return total / count

    def gather(self, value, axis):
        """Concatenate the replicas' ``value``s along ``axis``, in replica order."""
        return nest.map_structure(
            lambda v: tc.all_gather(self._extended._group, local_value(v), axis), value
        )

    def experimental_local_results(self, value) -> tuple:
        """The values of ``value`` on this process's replicas (a tuple)."""
        if isinstance(value, DistributedValues):
            return value.values
        return (value,)

    def experimental_distribute_dataset(self, dataset, options=None):
        """A dataset of this worker's per-replica batches of ``dataset``'s global batches."""
        return DistributedDataset(dataset, self, options, split=True)

    def distribute_datasets_from_function(self, dataset_fn, options=None):
        """``dataset_fn(InputContext)`` per worker; its batches are per-replica batches."""
        group = self._extended._group
        ctx = InputContext(group.size, group.rank, self.num_replicas_in_sync)
        return DistributedDataset(dataset_fn(ctx), self, options, split=False)

    def experimental_distribute_values_from_function(self, value_fn):
        """``value_fn(ValueContext)`` for this process's replica."""
        from rill.distribute.experimental_lib import ValueContext

        group = self._extended._group
        return regroup([value_fn(ValueContext(group.rank, self.num_replicas_in_sync))])

    def experimental_run(self, fn, input_iterator=None):
        return self.run(fn, (next(input_iterator),) if input_iterator is not None else ())

    def __repr__(self):
        return f"<{type(self).__name__}: {self.num_replicas_in_sync} replica(s)>"


# ----------------------------------------------------------------------------------- replicas
@tf_export("distribute.ReplicaContext")
class ReplicaContext:
    """What a replica's function can ask of the job: its id, and collectives."""

    def __init__(self, strategy, replica_id_in_sync_group):
        self._strategy = strategy
        self._replica_id = replica_id_in_sync_group

    @property
    def strategy(self):
        return self._strategy

    @property
    def replica_id_in_sync_group(self):
        return self._replica_id

    @property
    def num_replicas_in_sync(self) -> int:
        return self._strategy.num_replicas_in_sync

    @property
    def devices(self) -> tuple:
        return self._strategy.extended.worker_devices[:1]

    def all_reduce(self, reduce_op, value, options=None):
        """``value`` (a nest of tensors) reduced over every replica, one bucket per dtype."""
        op = as_reduce_op(reduce_op)
        flat = nest.flatten(value)
        out = tc.all_reduce(self._strategy.extended._group, flat, "SUM", mean=op.name == "MEAN")
        return nest.pack_sequence_as(value, out)

    def all_gather(self, value, axis, options=None):
        """Every replica's ``value`` concatenated along ``axis``."""
        group = self._strategy.extended._group
        return nest.map_structure(lambda v: tc.all_gather(group, v, axis), value)

    def merge_call(self, merge_fn, args=(), kwargs=None):
        """Run ``merge_fn(strategy, *args, **kwargs)`` in the cross-replica context."""
        _stack.entries.append((self._strategy, None))
        try:
            # one replica per process: its values are the replica's own (TF's regroup)
            return merge_fn(self._strategy, *args, **(kwargs or {}))
        finally:
            _stack.entries.pop()

    def __repr__(self):
        return f"ReplicaContext(replica {self._replica_id} of {self.num_replicas_in_sync})"


# the default strategy: one replica, no collectives ---------------------------------------
class _DefaultStrategy(Strategy):
    def __init__(self):
        super().__init__(StrategyExtended(self))

    @contextlib.contextmanager
    def scope(self):
        yield self


_defaults: list = []


def _default_strategy() -> Strategy:
    if not _defaults:
        s = _DefaultStrategy()
        _defaults.extend([s, ReplicaContext(s, 0)])
    return _defaults[0]


def _default_replica_context() -> ReplicaContext:
    _default_strategy()
    return _defaults[1]
