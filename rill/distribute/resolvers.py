"""Cluster resolvers: who the workers are, and which one this process is.

``TFConfigClusterResolver`` reads TF's ``TF_CONFIG``; ``SlurmClusterResolver`` reads
Slurm's environment; ``MPIClusterResolver`` (rill's) reads the MPI launcher's. With MPI
the process group itself is MPI's world, so a resolver only names the task.
"""

from __future__ import annotations

import abc
import collections
import json
import os
import re
import socket

from rill.ops._op import tf_export
from rill.train.cluster import ClusterSpec

__all__ = [
    "ClusterResolver",
    "SimpleClusterResolver",
    "TFConfigClusterResolver",
    "SlurmClusterResolver",
    "UnionResolver",
    "MPIClusterResolver",
]


@tf_export("distribute.cluster_resolver.ClusterResolver")
class ClusterResolver(abc.ABC):
    """The cluster a job runs on: its ``ClusterSpec`` and this task's type and index."""

    task_type = None
    task_id = None
    rpc_layer = None

    @abc.abstractmethod
    def cluster_spec(self) -> ClusterSpec:
        """The jobs and their task addresses."""

    def master(self, task_type=None, task_id=None, rpc_layer=None) -> str:
        """The address of task ``task_type:task_id`` (this task's by default)."""
        task_type = self.task_type if task_type is None else task_type
        task_id = self.task_id if task_id is None else task_id
        if task_type is None or task_id is None:
            return ""
        addr = self.cluster_spec().task_address(task_type, task_id)
        layer = rpc_layer if rpc_layer is not None else self.rpc_layer
        return f"{layer}://{addr}" if layer else addr

    def num_accelerators(self, task_type=None, task_id=None, config_proto=None) -> dict:
        """Accelerators per kind on the task: none on rill's CPU backend."""
        return collections.defaultdict(int)

    @property
    def environment(self) -> str:
        return ""


@tf_export("distribute.cluster_resolver.SimpleClusterResolver")
class SimpleClusterResolver(ClusterResolver):
    """A resolver over a given ``ClusterSpec``."""

    def __init__(
        self,
        cluster_spec,
        master="",
        task_type=None,
        task_id=None,
        environment="",
        num_accelerators=None,
        rpc_layer=None,
    ):
        self._cluster_spec = cluster_spec
        self._master = master
        self.task_type = task_type
        self.task_id = task_id
        self._environment = environment
        self._num_accelerators = dict(num_accelerators or {})
        self.rpc_layer = rpc_layer

    def cluster_spec(self):
        return self._cluster_spec

    def master(self, task_type=None, task_id=None, rpc_layer=None):
        if task_type is not None and task_id is not None:
            return super().master(task_type, task_id, rpc_layer)
        layer = rpc_layer if rpc_layer is not None else self.rpc_layer
        return f"{layer}://{self._master}" if layer and self._master else self._master

    def num_accelerators(self, task_type=None, task_id=None, config_proto=None):
        return collections.defaultdict(int, self._num_accelerators)

    @property
    def environment(self):
        return self._environment


def _tf_config() -> dict:
    raw = os.environ.get("TF_CONFIG")
    return json.loads(raw) if raw else {}


@tf_export("distribute.cluster_resolver.TFConfigClusterResolver")
class TFConfigClusterResolver(ClusterResolver):
    """The cluster and task described by the ``TF_CONFIG`` environment variable (JSON)."""

    def __init__(self, task_type=None, task_id=None, rpc_layer=None, environment=None):
        self._task_type = task_type
        self._task_id = task_id
        self._rpc_layer = rpc_layer
        self._environment = environment

    @property
    def task_type(self):
        if self._task_type is None:
            task = _tf_config().get("task", {})
            return str(task["type"]) if "type" in task else None
        return self._task_type

    @task_type.setter
    def task_type(self, value):
        self._task_type = value

    @property
    def task_id(self):
        if self._task_id is None:
            task = _tf_config().get("task", {})
            return int(task["index"]) if "index" in task else None
        return self._task_id

    @task_id.setter
    def task_id(self, value):
        self._task_id = value

    @property
    def rpc_layer(self):
        return self._rpc_layer if self._rpc_layer is not None else _tf_config().get("rpc_layer")

    @rpc_layer.setter
    def rpc_layer(self, value):
        self._rpc_layer = value

    @property
    def environment(self):
        return (
            self._environment if self._environment is not None else _tf_config().get("environment")
        )

    def cluster_spec(self):
        return ClusterSpec(_tf_config().get("cluster", {}))

    def master(self, task_type=None, task_id=None, rpc_layer=None):
        task_type = self.task_type if task_type is None else task_type
        task_id = self.task_id if task_id is None else task_id
        if task_type is None or task_id is None:
            return ""
        return super().master(task_type, task_id, rpc_layer)


def _expand_hostlist(spec: str) -> list:
    """Slurm's compressed host list (``node[01-03,07],gpu5``) as names."""
    hosts = []
    for part in re.findall(r"[^,\[]+(?:\[[^\]]*\])?", spec):
        m = re.fullmatch(r"([^\[]+)\[([^\]]*)\]", part)
        if not m:
            hosts.append(part)
            continue
        prefix, ranges = m.groups()
        for r in ranges.split(","):
            if "-" in r:
                lo, hi = r.split("-")
                hosts.extend(f"{prefix}{i:0{len(lo)}d}" for i in range(int(lo), int(hi) + 1))
            else:
                hosts.append(prefix + r)
    return hosts


@tf_export("distribute.cluster_resolver.SlurmClusterResolver")
class SlurmClusterResolver(ClusterResolver):
    """The cluster of a Slurm job step: tasks from ``SLURM_*`` variables, in task order."""

    def __init__(
        self,
        jobs=None,
        port_base=8888,
        gpus_per_node=None,
        gpus_per_task=None,
        tasks_per_node=None,
        auto_set_gpu=True,
        rpc_layer="grpc",
    ):
        if "SLURM_PROCID" not in os.environ:
            raise RuntimeError("SlurmClusterResolver: not running under Slurm (no SLURM_PROCID).")
        self._rank = int(os.environ["SLURM_PROCID"])
        self._ntasks = int(
            os.environ.get("SLURM_STEP_NUM_TASKS", os.environ.get("SLURM_NTASKS", "1"))
        )
        self._jobs = dict(jobs or {"worker": self._ntasks})
        if sum(self._jobs.values()) != self._ntasks:
            raise ValueError(
                f"SlurmClusterResolver: the jobs {self._jobs} ask for "
                f"{sum(self._jobs.values())} tasks but Slurm started {self._ntasks}."
            )
        self._port_base = port_base
        self.rpc_layer = rpc_layer
        nodes = _expand_hostlist(
            os.environ.get(
                "SLURM_STEP_NODELIST", os.environ.get("SLURM_JOB_NODELIST", socket.gethostname())
            )
        )
        per_node = tasks_per_node or -(-self._ntasks // max(len(nodes), 1))
        self._addresses = [
            f"{nodes[min(i // per_node, len(nodes) - 1)]}:{port_base + i % per_node}"
            for i in range(self._ntasks)
        ]
        start = 0
        for name, count in self._jobs.items():
            if start <= self._rank < start + count:
                self.task_type, self.task_id = name, self._rank - start
            start += count

    def cluster_spec(self):
        spec, start = {}, 0
        for name, count in self._jobs.items():
            spec[name] = self._addresses[start : start + count]
            start += count
        return ClusterSpec(spec)


@tf_export("distribute.cluster_resolver.UnionResolver")
class UnionResolver(ClusterResolver):
    """The union of several resolvers' clusters; the first one names the task."""

    def __init__(self, *args, **kwargs):
        if not args:
            raise ValueError("At least one ClusterResolver is required.")
        for a in args:
            if not isinstance(a, ClusterResolver):
                raise TypeError(
                    f"All arguments must be a sub-class of `ClusterResolver`; got {a!r}."
                )
        self._resolvers = args
        self.task_type = kwargs.pop("task_type", args[0].task_type)
        self.task_id = kwargs.pop("task_id", args[0].task_id)
        self.rpc_layer = kwargs.pop("rpc_layer", args[0].rpc_layer)

    def cluster_spec(self):
        merged: dict = {}
        for r in self._resolvers:
            for job, tasks in r.cluster_spec().as_dict().items():
                if job in merged:
                    raise KeyError(f"Duplicate job {job!r} in the resolvers' cluster specs.")
                merged[job] = tasks
        return ClusterSpec(merged)


class MPIClusterResolver(ClusterResolver):
    """The job an MPI launcher started (``mpiexec``/``srun``): workers are its ranks."""

    def __init__(self, timeout=None):
        from rill.distribute import collective

        self._group = collective.world(timeout)
        self.task_type = "worker"
        self.task_id = self._group.rank

    def cluster_spec(self):
        host = socket.gethostname()
        return ClusterSpec({"worker": [f"{host}:{i}" for i in range(self._group.size)]})
