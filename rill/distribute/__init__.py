"""``tf.distribute``: data-parallel strategies whose replicas are processes joined by MPI.

``mpiexec -n 4 python train.py`` runs four replicas of an unchanged TF2 script using
``MultiWorkerMirroredStrategy`` (the ``rill[mpi]`` extra: mpi4py and MPICH). MPI is
imported only when a strategy is made under an MPI launcher.
"""

from rill.distribute import (  # noqa: F401 - register the exports
    cluster_coordinator,
    cross_device_ops,
    distribute_lib,
    experimental_lib,
    input_lib,
    ps_strategy,
    resolvers,
    server,
    strategies,
    values,
)
from rill.distribute import cluster_resolver, coordinator, experimental  # public sub-namespaces
from rill.ops._op import populate as _populate

_populate(globals(), "distribute")
del _populate
