"""``tf.distribute.cluster_resolver``: the public namespace of the cluster resolvers."""

from rill.distribute import cloud_resolvers as _cloud  # noqa: F401 - register the exports
from rill.distribute import resolvers as _impl  # noqa: F401 - register the exports
from rill.distribute.resolvers import MPIClusterResolver  # noqa: F401 - rill's own
from rill.ops._op import populate as _populate

_populate(globals(), "distribute.cluster_resolver")
del _populate
