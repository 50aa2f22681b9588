"""What Keras' training loops do differently under a strategy of several replicas.

``Model.fit``/``evaluate``/``predict`` call in here only when the model was compiled
inside ``strategy.scope()`` of a strategy with more than one replica:

- each global batch is split, and this replica keeps its contiguous share;
- before the first batch every replica takes rank 0's weights (and NumPy's random state,
  so that shuffling draws the same permutation everywhere);
- the loss a replica differentiates is divided by the number of replicas, and the
  optimizer sums the gradients over the replicas (``aggregate_gradients``): the update is
  the gradient of the mean loss over the global batch, as TF computes it;
- the metrics' state is summed over the replicas before each result, so the logs (and
  History) agree on every rank; the progress bar prints on the chief only.
"""

from __future__ import annotations

import os
import shutil
import sys

import numpy as np

from rill.core import nest
from rill.distribute import tensor_collectives as tc
from rill.distribute.input_lib import DistributedDataset, split_batch

__all__ = [
    "Replicas",
    "current_strategy",
    "aggregate_gradients",
    "scale_loss",
    "worker_group",
    "write_dirpath",
    "write_filepath",
    "remove_temp_dirpath",
    "broadcast_ints",
]


def current_strategy():
    """The strategy of the current scope, or None (default strategy)."""
    from rill.distribute import distribute_lib

    return distribute_lib.get_strategy() if distribute_lib.has_strategy() else None


def _group_of(strategy):
    return strategy.extended._group


def aggregate_gradients(optimizer, grads: list, variables: list) -> list:
    """The gradients summed over the replicas, in one bucketed all-reduce (unchanged with
    one replica). Called by ``Optimizer.apply`` before the update."""
    strategy = current_strategy() or getattr(optimizer, "_distribute_strategy", None)
    if strategy is None or strategy.num_replicas_in_sync == 1:
        return grads
    return tc.all_reduce(_group_of(strategy), grads, "SUM")


def scale_loss(model, loss):
    """``loss`` divided by the replicas of the model's strategy (summed gradients then
    make the gradient of the global mean)."""
    strategy = getattr(model, "_distribute_strategy", None)
    if strategy is None or strategy.num_replicas_in_sync == 1:
        return loss
    return loss / strategy.num_replicas_in_sync


class _LocalBatches:
    """This replica's share of each global batch of ``batches`` (a model's ``_Batches``)."""

    def __init__(self, batches, replicas):
        self._batches = batches
        self._replicas = replicas
        self.steps = getattr(batches, "steps", None)

    def __iter__(self):
        group = self._replicas.group
        source = getattr(self._batches, "dataset", None)
        if isinstance(source, DistributedDataset):  # already per-replica batches
            for batch in source:
                yield self._replicas._unpack(batch)
            return
        first = True
        for bx, by, bsw in self._batches:
            if first:
                self._replicas.sync_weights(bx)
                first = False
            yield (
                split_batch(bx, group.rank, group.size),
                None if by is None else split_batch(by, group.rank, group.size),
                None if bsw is None else split_batch(bsw, group.rank, group.size),
            )


class Replicas:
    """The hooks of one model's fit/evaluate/predict under a multi-replica strategy."""

    def __init__(self, model, strategy):
        self.model = model
        self.strategy = strategy
        self.group = _group_of(strategy)

    @staticmethod
    def _unpack(batch):
        if isinstance(batch, tuple):
            return tuple(batch) + (None,) * (3 - len(batch))
        return batch, None, None

    def wrap(self, batches):
        """Local batches of ``batches``; NumPy's random state made rank 0's."""
        state = np.random.get_state()
        key = self.group.broadcast(np.asarray(state[1], np.uint32))
        np.random.set_state((state[0], key, 0, 0, 0.0))
        return _LocalBatches(batches, self)

    def verbose(self, verbose):
        """The progress bar on the chief only."""
        return verbose if self.group.is_chief else 0

    def sync_weights(self, first_x=None):
        """Build the model if it is not (on this replica's share of the first batch),
        then give every replica rank 0's weights and optimizer state."""
        model = self.model
        if not model.built and first_x is not None:
            model(split_batch(first_x, self.group.rank, self.group.size))
        variables = list(model.variables)
        opt = getattr(model, "optimizer", None)
        if opt is not None and getattr(opt, "built", False):
            variables += list(opt.variables)
        self.strategy._broadcast_variables(variables)

    def logs(self, results) -> dict:
        """The step's logs with every metric's state summed over the replicas; other
        values a custom step returns are averaged."""
        model = self.model
        metrics = [m for m in model.metrics if m.variables]
        states = [v for m in metrics for v in m.variables]
        local = [np.array(v.numpy()) for v in states]
        extra = sorted(k for k in results if k not in model.get_metrics_result())
        buf = np.concatenate(
            [a.astype(np.float64).reshape(-1) for a in local]
            + [np.asarray([float(np.mean(np.asarray(results[k])))]) for k in extra]
            or [np.zeros(0)]
        )
        total = self.group.allreduce(buf, "SUM")
        start = 0
        for v, a in zip(states, local):
            v.assign(total[start : start + a.size].reshape(a.shape).astype(a.dtype))
            start += a.size
        logs = {}
        try:
            for m in model.metrics:
                r = m.result()
                if isinstance(r, dict):
                    logs.update({k: float(x) for k, x in r.items()})
                else:
                    logs[m.name] = float(r)
        finally:
            for v, a in zip(states, local):  # each replica keeps accumulating its own state
                v.assign(a)
        for i, k in enumerate(extra):
            logs[k] = float(total[start + i]) / self.group.size
        return {k: logs[k] for k in sorted(logs) if k in results}

    def gather(self, outputs):
        """Every replica's predictions, concatenated in replica order (= batch order)."""
        return nest.map_structure(lambda t: tc.all_gather(self.group, t, 0), outputs)


def replicas_of(model):
    """``Replicas`` for a model compiled under a multi-replica strategy, else None."""
    if "rill.distribute" not in sys.modules:
        return None
    strategy = getattr(model, "_distribute_strategy", None)
    if strategy is None or strategy.num_replicas_in_sync == 1:
        return None
    return Replicas(model, strategy)


# Files under several replicas (TF's Keras ``distributed_file_utils`` behaviour): every
# rank runs the saving callbacks, but only the chief writes the real path; the others
# write beside it under ``workertemp_<task>`` and delete that at once, so that no two
# processes ever write the same file.


def worker_group(model):
    """The process group of the model's multi-replica strategy, or None (one replica)."""
    replicas = replicas_of(model)
    return None if replicas is None else replicas.group


def write_dirpath(dirpath: str, group) -> str:
    """``dirpath`` on the chief (or with no group); ``<dirpath>/workertemp_<task>`` on
    the other ranks."""
    if group is None or group.is_chief:
        return dirpath
    return os.path.join(dirpath, f"workertemp_{group.rank}")


def write_filepath(filepath: str, group) -> str:
    """Where this rank writes ``filepath``: itself on the chief, else the same name in
    this rank's ``workertemp_<task>`` directory beside it."""
    dirpath, base = os.path.split(filepath)
    return os.path.join(write_dirpath(dirpath, group), base)


def remove_temp_dirpath(dirpath: str, group) -> None:
    """Delete this rank's ``workertemp_<task>`` directory of ``dirpath`` (not the chief's
    files: nothing happens on the chief)."""
    if group is None or group.is_chief:
        return
    shutil.rmtree(write_dirpath(dirpath, group), ignore_errors=True)


def broadcast_ints(group, values) -> list:
    """The chief's ``values`` (a few ints) on every rank."""
    return [int(v) for v in group.broadcast(np.asarray(values, np.int64))]
