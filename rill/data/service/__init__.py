"""``tf.data.experimental.service``: rill's own tf.data service.

A ``DispatchServer`` and ``WorkerServer``s are TCP servers on loopback (standard library
only; see ``wire`` for the frame format). ``distribute``/``from_dataset_id`` datasets
start a job on each iteration and stream the workers' elements back. rill datasets are
Python objects that are never pickled: a dataset registered as an object is served by
workers of the registering process; ``dataset_from_factory`` makes one that workers in
other processes rebuild from a factory they registered under the same name.
"""

from rill.data.service import client, config, dispatcher, worker  # noqa: F401 - exports
from rill.data.service.registry import dataset_from_factory, register_dataset_factory
from rill.ops._op import populate as _populate

_populate(globals(), "data.experimental.service")
del _populate

__all__ = [
    "CrossTrainerCache", "DispatchServer", "DispatcherConfig", "ShardingPolicy", "WorkerConfig",
    "WorkerServer", "distribute", "from_dataset_id", "register_dataset",
    "dataset_from_factory", "register_dataset_factory",
]  # fmt: skip
