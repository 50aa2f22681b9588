"""``tf.distribute.coordinator``: ``ClusterCoordinator``, ``RemoteValue``,
``PerWorkerValue`` and ``experimental_get_current_worker_index``."""

from rill.distribute import cluster_coordinator as _impl  # noqa: F401 - register the exports
from rill.ops._op import populate as _populate

_populate(globals(), "distribute.coordinator")
del _populate
