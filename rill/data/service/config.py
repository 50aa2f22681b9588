"""``DispatcherConfig`` and ``WorkerConfig``: the settings of the tf.data service servers."""

from __future__ import annotations

import collections

from rill.ops._op import tf_export

__all__ = ["DispatcherConfig", "WorkerConfig", "DEFAULT_PROTOCOL"]

# TF's default; rill's servers speak their own framing over TCP whatever the name says
DEFAULT_PROTOCOL = "grpc"


def _time_or_placeholder(value):
    # TF stores "unset" as 0 and "never" (-1) as 1; the servers pick the real defaults
    if value is None:
        return 0
    if value == -1:
        return 1
    return value


_DISPATCHER_FIELDS = [
    "port", "protocol", "work_dir", "fault_tolerant_mode", "worker_addresses",
    "job_gc_check_interval_ms", "job_gc_timeout_ms", "worker_timeout_ms",
    "worker_max_concurrent_snapshots",
]  # fmt: skip


@tf_export("data.experimental.service.DispatcherConfig")
class DispatcherConfig(collections.namedtuple("DispatcherConfig", _DISPATCHER_FIELDS)):
    """Configuration of a dispatcher: ``port`` (0: any free port), ``protocol``,
    ``work_dir`` and ``fault_tolerant_mode`` (journal registered datasets there),
    ``worker_addresses`` (the fixed worker list that static sharding needs), and timeouts.
    """

    __slots__ = ()

    def __new__(
        cls,
        port=0,
        protocol=None,
        work_dir=None,
        fault_tolerant_mode=False,
        worker_addresses=None,
        job_gc_check_interval_ms=None,
        job_gc_timeout_ms=None,
        worker_timeout_ms=None,
        worker_max_concurrent_snapshots=0,
    ):
        return super().__new__(
            cls,
            port,
            DEFAULT_PROTOCOL if protocol is None else protocol,
            work_dir,
            fault_tolerant_mode,
            worker_addresses,
            _time_or_placeholder(job_gc_check_interval_ms),
            _time_or_placeholder(job_gc_timeout_ms),
            worker_timeout_ms,
            worker_max_concurrent_snapshots,
        )


_WORKER_FIELDS = [
    "dispatcher_address", "worker_address", "port", "protocol", "heartbeat_interval_ms",
    "dispatcher_timeout_ms", "data_transfer_protocol", "data_transfer_address",
]  # fmt: skip


@tf_export("data.experimental.service.WorkerConfig")
class WorkerConfig(collections.namedtuple("WorkerConfig", _WORKER_FIELDS)):
    """Configuration of a worker: the ``dispatcher_address`` it registers with, the
    ``worker_address`` it advertises (``%port%`` is replaced by the bound port), ``port``
    (0: any free port), ``protocol`` and timeouts."""

    __slots__ = ()

    def __new__(
        cls,
        dispatcher_address,
        worker_address=None,
        port=0,
        protocol=None,
        heartbeat_interval_ms=None,
        dispatcher_timeout_ms=None,
        data_transfer_protocol=None,
        data_transfer_address=None,
    ):
        return super().__new__(
            cls,
            dispatcher_address,
            "localhost:%port%" if worker_address is None else worker_address,
            port,
            DEFAULT_PROTOCOL if protocol is None else protocol,
            _time_or_placeholder(heartbeat_interval_ms),
            _time_or_placeholder(dispatcher_timeout_ms),
            data_transfer_protocol,
            "localhost:%dts_port%" if data_transfer_address is None else data_transfer_address,
        )
