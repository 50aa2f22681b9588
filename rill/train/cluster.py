"""``tf.train.ClusterSpec`` and the ``ClusterDef`` / ``JobDef`` / ``ServerDef`` protocol
buffers that describe a cluster of TensorFlow servers (job names -> task index ->
``host:port``).

The messages are declared with TensorFlow's package, names and field numbers
(``tensorflow/core/protobuf/cluster.proto`` and ``tensorflow_server.proto``), so their
bytes are TensorFlow's; ``ServerDef``'s session-config, device-filter and replica fields
are not declared (parsing keeps them as unknown fields). They need ``protobuf``
(``rill[proto]``), imported at first use. rill runs no gRPC servers (``tf.distribute``
runs replicas as processes), so these describe clusters for code that passes them on.
"""

from __future__ import annotations

from rill.core import protos as _protos
from rill.ops._op import tf_export

__all__ = ["ClusterSpec", "ClusterDef", "JobDef", "ServerDef"]

_S, _M, _I32 = _protos.STRING, _protos.MSG, _protos.INT32
_field, _message, _map_entry = _protos.field, _protos.message, _protos.map_entry

_protos.declare(
    "rill/tensorflow_cluster.proto",
    [
        _message(
            "JobDef",
            _field("name", 1, _S),
            _field("tasks", 2, _M, "JobDef.TasksEntry", repeated=True),
            nested=[_map_entry("TasksEntry", _I32, _S)],
        ),
        _message("ClusterDef", _field("job", 1, _M, "JobDef", repeated=True)),
        _message(
            "ServerDef",
            _field("cluster", 1, _M, "ClusterDef"),
            _field("job_name", 2, _S),
            _field("task_index", 3, _I32),
            _field("protocol", 5, _S),
            _field("port", 6, _I32),
        ),
    ],
)


class _LazyMessageType(type):
    """Metaclass of the stand-ins below: a class (as TensorFlow's message classes are)
    whose calls, attributes and ``isinstance`` go to the protobuf class built at first
    use, so protobuf is imported only then."""

    def __call__(cls, *args, **kwargs):
        return _protos.message_classes()[cls._message](*args, **kwargs)

    def __getattr__(cls, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(_protos.message_classes()[cls._message], attr)

    def __instancecheck__(cls, obj):
        real = _protos.built_classes().get(cls._message)
        return real is not None and isinstance(obj, real)


def _lazy(name):
    doc = f"TensorFlow's ``tensorflow.{name}`` protocol buffer message."
    return _LazyMessageType(name, (), {"_message": name, "__doc__": doc, "__module__": __name__})


ClusterDef = tf_export("train.ClusterDef")(_lazy("ClusterDef"))
JobDef = tf_export("train.JobDef")(_lazy("JobDef"))
ServerDef = tf_export("train.ServerDef")(_lazy("ServerDef"))


def _is_cluster_def(x) -> bool:
    return getattr(getattr(x, "DESCRIPTOR", None), "full_name", None) == "tensorflow.ClusterDef"


@tf_export("train.ClusterSpec")
class ClusterSpec:
    """A cluster as jobs of tasks: ``{"worker": ["w0:2222", "w1:2222"], "ps": {3: "p3:2222"}}``
    (a list gives tasks 0..n-1, a dict sparse task indices)."""

    def __init__(self, cluster):
        if isinstance(cluster, dict):
            spec = {}
            for job, tasks in cluster.items():
                if isinstance(tasks, (list, tuple)):
                    spec[job] = dict(enumerate(tasks))
                elif isinstance(tasks, dict):
                    spec[job] = {int(i): a for i, a in tasks.items()}
                else:
                    raise TypeError(
                        f"The tasks for job {job!r} must be a list or a dictionary from integers "
                        f"to strings."
                    )
        elif isinstance(cluster, ClusterSpec):
            spec = {job: dict(tasks) for job, tasks in cluster._spec.items()}
        elif _is_cluster_def(cluster):
            spec = {}
            for job in cluster.job:
                if job.name in spec:
                    raise ValueError(f"Duplicated job name: {job.name!r}")
                spec[job.name] = dict(job.tasks)
        else:
            raise TypeError(
                "`cluster` must be a dictionary mapping one or more job names to lists of "
                "network addresses, or a `ClusterDef` protocol buffer"
            )
        for job, tasks in spec.items():
            for i, addr in tasks.items():
                if not isinstance(addr, str):
                    raise TypeError(
                        f"Task {i} of job {job!r} must be a string address, got {addr!r}"
                    )
        self._spec = spec

    def __bool__(self) -> bool:
        return bool(self._spec)

    __nonzero__ = __bool__

    def __eq__(self, other) -> bool:
        return isinstance(other, ClusterSpec) and self._spec == other._spec

    def __ne__(self, other) -> bool:
        return not self == other

    def __hash__(self):
        return hash(tuple(sorted((j, tuple(sorted(t.items()))) for j, t in self._spec.items())))

    def __repr__(self) -> str:
        d = self.as_dict()
        return "ClusterSpec({" + ", ".join(f"{k!r}: {d[k]!r}" for k in sorted(d)) + "})"

    __str__ = __repr__

    def _tasks(self, job_name) -> dict:
        try:
            return self._spec[job_name]
        except KeyError:
            raise ValueError(f"No such job in cluster: {job_name!r}") from None

    def as_dict(self) -> dict:
        """``{job: [addresses]}`` for jobs whose tasks are 0..n-1, ``{job: {index:
        address}}`` otherwise."""
        out = {}
        for job, tasks in self._spec.items():
            idx = sorted(tasks)
            out[job] = (
                [tasks[i] for i in idx]
                if idx == list(range(len(idx)))
                else dict(sorted(tasks.items()))
            )
        return out

    def as_cluster_def(self):
        """The cluster as a ``tf.train.ClusterDef`` (jobs in name order)."""
        cd = ClusterDef()
        for job in sorted(self._spec):
            j = cd.job.add(name=job)
            for i, addr in sorted(self._spec[job].items()):
                j.tasks[i] = addr
        return cd

    @property
    def jobs(self) -> list:
        """The job names."""
        return list(self._spec)

    def num_tasks(self, job_name) -> int:
        """How many tasks ``job_name`` has."""
        return len(self._tasks(job_name))

    def task_indices(self, job_name) -> list:
        """The task indices of ``job_name``, ascending."""
        return sorted(self._tasks(job_name))

    def task_address(self, job_name, task_index) -> str:
        """The address of task ``task_index`` of ``job_name``."""
        tasks = self._tasks(job_name)
        try:
            return tasks[task_index]
        except KeyError:
            raise ValueError(f"No task with index {task_index!r} in job {job_name!r}") from None

    def job_tasks(self, job_name) -> list:
        """The addresses of ``job_name``'s tasks by index, None where an index is unused."""
        tasks = self._tasks(job_name)
        out = [None] * (max(tasks) + 1 if tasks else 0)
        for i, addr in tasks.items():
            out[i] = addr
        return out
