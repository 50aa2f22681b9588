"""The strategies: ``MultiWorkerMirroredStrategy`` (a replica per MPI rank),
``MirroredStrategy`` and ``OneDeviceStrategy`` (one process: rill's CPU backend is one
device, so one replica, as TF has on a single CPU), ``CentralStorageStrategy``."""

from __future__ import annotations

import logging

from rill.distribute import collective
from rill.distribute.distribute_lib import Strategy, StrategyExtended
from rill.distribute.experimental_lib import CommunicationOptions
from rill.ops._op import tf_export

__all__ = [
    "MirroredStrategy",
    "MultiWorkerMirroredStrategy",
    "OneDeviceStrategy",
    "CentralStorageStrategy",
]

_log = logging.getLogger("rill")
_CPU = "/job:localhost/replica:0/task:0/device:CPU:0"


def _check_devices(devices):
    if devices is None:
        return (_CPU,)
    devices = tuple(devices)
    if not devices:
        raise ValueError(
            "Got an empty `devices` list. Please make sure the `devices` you pass in is not empty."
        )
    if len(set(devices)) != len(devices):
        raise ValueError(f"No duplicates allowed in `devices` argument: {devices}")
    return devices


@tf_export("distribute.MirroredStrategy")
class MirroredStrategy(Strategy):
    """Synchronous replicas on one machine's devices: here the one CPU device."""

    def __init__(self, devices=None, cross_device_ops=None):
        devices = _check_devices(devices)
        # one process holds one replica; several local devices would be several replicas
        # in TF, but rill computes on one CPU device per process
        super().__init__(
            StrategyExtended(self, collective.LocalGroup(), devices[:1], cross_device_ops)
        )


@tf_export("distribute.OneDeviceStrategy")
class OneDeviceStrategy(Strategy):
    """Everything on one device: one replica."""

    def __init__(self, device):
        super().__init__(StrategyExtended(self, collective.LocalGroup(), (device,)))


@tf_export("distribute.experimental.CentralStorageStrategy")
class CentralStorageStrategy(Strategy):
    """Variables on one device, compute on the local ones: one replica here."""

    def __init__(self, compute_devices=None, parameter_device=None):
        super().__init__(
            StrategyExtended(self, collective.LocalGroup(), _check_devices(compute_devices))
        )


@tf_export("distribute.MultiWorkerMirroredStrategy")
class MultiWorkerMirroredStrategy(Strategy):
    """Synchronous data parallelism across processes: one replica per MPI rank.

    Launch with ``mpiexec -n N python train.py`` (or ``srun``); launched plainly the job
    is one replica, and the strategy says so in the ``rill`` log.
    """

    def __init__(self, cluster_resolver=None, communication_options=None):
        if communication_options is None:
            communication_options = CommunicationOptions()
        if not isinstance(communication_options, CommunicationOptions):
            raise ValueError(
                "communication_options must be a tf.distribute.experimental.CommunicationOptions; "
                f"got {communication_options!r}."
            )
        self._communication_options = communication_options
        group = collective.world(communication_options.timeout_seconds)
        if cluster_resolver is None:
            from rill.distribute.resolvers import MPIClusterResolver

            cluster_resolver = MPIClusterResolver()
        self._cluster_resolver = cluster_resolver
        if group.size == 1:
            _log.warning(
                "MultiWorkerMirroredStrategy: not launched by MPI (mpiexec/srun), so this job "
                "is one worker with one replica."
            )
        super().__init__(
            StrategyExtended(
                self, group, (f"/job:worker/replica:0/task:{group.rank}/device:CPU:0",)
            )
        )


@tf_export("distribute.experimental.MultiWorkerMirroredStrategy")
class _ExperimentalMultiWorkerMirroredStrategy(MultiWorkerMirroredStrategy):
    """The older signature: ``(communication, cluster_resolver)``."""

    def __init__(self, communication=None, cluster_resolver=None):
        from rill.distribute.experimental_lib import CommunicationImplementation

        impl = communication or CommunicationImplementation.AUTO
        super().__init__(cluster_resolver, CommunicationOptions(implementation=impl))
