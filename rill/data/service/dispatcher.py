"""``DispatchServer``: the tf.data service's coordinator.

It keeps the registered workers, the registered datasets (their JSON definitions, see
``registry``), and the jobs: which dataset a job reads, how it is sharded, and, for
dynamic sharding, the cursor that hands out splits (ranges of element indices) so that
each element is produced by exactly one worker. It never runs a dataset itself.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid

from rill.core.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from rill.data.service import wire
from rill.data.service.config import DispatcherConfig
from rill.ops._op import tf_export

__all__ = ["DispatchServer"]

# Elements per dynamic split: small enough to balance a few workers, large enough that
# asking for splits is not the bottleneck.
SPLIT_SIZE = 8
OFF, DYNAMIC, FILE, DATA, FILE_OR_DATA, HINT = range(6)
_JOURNAL = "rill_dispatcher_state.json"


class _Job:
    __slots__ = (
        "job_id", "dataset_id", "policy", "num_consumers", "cross_trainer_cache", "key",
        "cursor", "end", "refs", "workers",
    )  # fmt: skip

    def __init__(self, job_id, dataset_id, policy, num_consumers, cache, key, workers):
        self.job_id = job_id
        self.dataset_id = dataset_id
        self.policy = policy
        self.num_consumers = num_consumers
        self.cross_trainer_cache = cache
        self.key = key
        self.cursor = 0
        self.end = None  # total number of elements, once a worker reached the end
        self.refs = 0
        self.workers = workers


def _address_matches(pattern: str, address: str) -> bool:
    host, _, port = address.rpartition(":")
    p_host, sep, p_port = pattern.rpartition(":")
    if not sep:
        return pattern == host
    return p_host == host and p_port in (port, "%port%")


class _DispatcherState:
    """What the dispatcher knows; every method is one RPC."""

    def __init__(self, config: DispatcherConfig):
        self.config = config
        self.lock = threading.Lock()
        self.workers: list[str] = []
        self.datasets: dict[str, dict] = {}
        self.next_id = 1000
        self.jobs: dict[int, _Job] = {}
        self.named: dict = {}
        self.next_job = 0
        self.snapshots: dict[str, dict] = {}
        self._load_journal()

    # journal (fault_tolerant_mode): registered datasets survive a restart ------------
    def _journal_path(self):
        if self.config.fault_tolerant_mode and self.config.work_dir:
            return os.path.join(self.config.work_dir, _JOURNAL)
        return None

    def _load_journal(self):
        path = self._journal_path()
        if path and os.path.exists(path):
            with open(path) as f:
                state = json.load(f)
            self.datasets, self.next_id = state["datasets"], state["next_id"]

    def _write_journal(self):
        path = self._journal_path()
        if path:
            os.makedirs(self.config.work_dir, exist_ok=True)
            tmp = f"{path}.tmp"
            with open(tmp, "w") as f:
                json.dump({"datasets": self.datasets, "next_id": self.next_id}, f)
            os.replace(tmp, path)

    # RPCs -----------------------------------------------------------------------------
    def handle(self, method, args, payload):
        fn = getattr(self, "rpc_" + method, None)
        if fn is None:
            raise ValueError(f"tf.data service dispatcher: unknown request {method!r}.")
        with self.lock:
            return fn(**args), b""

    def rpc_register_worker(self, address):
        if address not in self.workers:
            self.workers.append(address)
        return {}

    def rpc_unregister_worker(self, address):
        if address in self.workers:
            self.workers.remove(address)
        return {}

    def rpc_get_workers(self):
        return {"workers": list(self.workers)}

    def rpc_register_dataset(self, definition, spec, compression, cardinality, dataset_id=None):
        if dataset_id is not None and dataset_id in self.datasets:
            return {"dataset_id": dataset_id}
        if dataset_id is None:
            while str(self.next_id) in self.datasets:
                self.next_id += 1
            dataset_id = str(self.next_id)
            self.next_id += 1
        self.datasets[dataset_id] = {
            "definition": definition,
            "spec": spec,
            "compression": compression,
            "cardinality": cardinality,
        }
        self._write_journal()
        return {"dataset_id": dataset_id}

    def _dataset(self, dataset_id):
        ds = self.datasets.get(dataset_id)
        if ds is None:
            raise wire.service_error(
                NotFoundError,
                "DataServiceDataset",
                f"Dataset id {dataset_id} not found. It must be registered with "
                f"`register_dataset` before calling `from_dataset_id`.",
            )
        return ds

    def rpc_get_dataset(self, dataset_id):
        return dict(self._dataset(dataset_id))

    def rpc_get_or_create_job(
        self, dataset_id, policy, job_name, iteration, num_consumers, cross_trainer_cache
    ):
        info = self._dataset(dataset_id)
        card = info["cardinality"]
        if cross_trainer_cache:
            if not job_name:
                raise wire.service_error(
                    InvalidArgumentError,
                    "DataServiceDataset",
                    "Cross-trainer caching requires named jobs. Got empty `job_name`.",
                )
            if card != -1:
                raise wire.service_error(
                    InvalidArgumentError,
                    "DataServiceDataset",
                    f"Cross-trainer caching requires the input dataset to be infinite. Got "
                    f"input with cardinality {card}.",
                )
        if num_consumers is not None and card >= 0:
            raise wire.service_error(
                InvalidArgumentError,
                "DataServiceDataset",
                f"Coordinated reads (`num_consumers`={num_consumers}) require an infinite "
                f"dataset, so that no worker runs out of data and the consumers stay in "
                f"sync (add `.repeat()`). Got input with cardinality {card}.",
            )
        if policy in (FILE, DATA, FILE_OR_DATA, HINT) and not self.config.worker_addresses:
            raise wire.service_error(
                FailedPreconditionError,
                "DataServiceDataset",
                "Static sharding policies (FILE, DATA, FILE_OR_DATA, HINT) require a fixed "
                "list of workers: set `worker_addresses` in the DispatcherConfig.",
            )
        key = ("named", job_name, iteration) if job_name else ("anonymous", uuid.uuid4().hex)
        job = self.named.get(key)
        if job is not None:
            # consumers that each registered their own copy of the dataset share the job
            # by name; the job's first dataset is the one read
            if job.policy != policy:
                raise wire.service_error(
                    InvalidArgumentError,
                    "DataServiceDataset",
                    f"Tried to join job {job_name!r} with sharding policy {policy}, but the "
                    f"job already exists with policy {job.policy}; all consumers of a job "
                    f"must use the same processing mode.",
                )
        else:
            job = _Job(
                self.next_job, dataset_id, policy, num_consumers, cross_trainer_cache, key,
                list(self.workers),
            )  # fmt: skip
            self.next_job += 1
            self.jobs[job.job_id] = job
            if job_name:
                self.named[key] = job
        job.refs += 1
        if not job.workers:
            job.workers = list(self.workers)
        return {"job_id": job.job_id, "workers": list(job.workers)}

    def _job(self, job_id):
        job = self.jobs.get(job_id)
        if job is None:
            raise wire.service_error(
                NotFoundError, "DataServiceDataset", f"Job {job_id} not found."
            )
        return job

    def rpc_get_job(self, job_id, worker_address):
        job = self._job(job_id)
        out = {
            "dataset_id": job.dataset_id,
            "policy": job.policy,
            "num_consumers": job.num_consumers,
            "cross_trainer_cache": job.cross_trainer_cache,
        }
        if job.policy in (FILE, DATA, FILE_OR_DATA, HINT):
            fixed = list(self.config.worker_addresses)
            index = next(
                (i for i, p in enumerate(fixed) if _address_matches(p, worker_address)), None
            )
            if index is None:
                raise wire.service_error(
                    FailedPreconditionError,
                    "DataServiceWorker",
                    f"Worker {worker_address} is not in the dispatcher's `worker_addresses` "
                    f"{fixed}, which static sharding needs to give it a shard.",
                )
            out.update(num_workers=len(fixed), worker_index=index)
        return out

    def rpc_get_split(self, job_id):
        job = self._job(job_id)
        card = self.datasets[job.dataset_id]["cardinality"]
        limit = job.end if job.end is not None else (card if card >= 0 else None)
        if limit is not None and job.cursor >= limit:
            return {"end_of_splits": True}
        start = job.cursor
        job.cursor += SPLIT_SIZE
        return {"start": start, "stop": job.cursor}

    def rpc_report_end(self, job_id, count):
        job = self._job(job_id)
        job.end = count if job.end is None else min(job.end, count)
        return {}

    def rpc_release_job(self, job_id):
        """A consumer is done; the job ends with its last consumer (``released``)."""
        job = self.jobs.get(job_id)
        if job is not None:
            job.refs -= 1
            if job.refs <= 0:
                del self.jobs[job_id]
                self.named.pop(job.key, None)
                return {"released": True}
        return {"released": job is None}

    # distributed_save ------------------------------------------------------------------
    def rpc_start_snapshot(self, path, dataset_id, compression):
        self._dataset(dataset_id)
        if path in self.snapshots and self.snapshots[path]["state"] != "error":
            raise wire.service_error(
                AlreadyExistsError,
                "DistributedSave",
                f"A distributed save to {path!r} was already started on this dispatcher.",
            )
        if not self.workers:
            raise wire.service_error(
                FailedPreconditionError,
                "DistributedSave",
                "No tf.data service worker is registered with the dispatcher.",
            )
        job = _Job(self.next_job, dataset_id, DYNAMIC, None, False, None, list(self.workers))
        job.refs = 1
        self.next_job += 1
        self.jobs[job.job_id] = job
        snap = {"state": "running", "message": ""}
        self.snapshots[path] = snap
        threading.Thread(
            target=_run_snapshot,
            args=(self, snap, job, path, compression),
            daemon=True,
        ).start()
        return {}

    def rpc_snapshot_status(self, path):
        snap = self.snapshots.get(path)
        if snap is None:
            raise wire.service_error(
                NotFoundError, "DistributedSave", f"No save to {path!r} was started."
            )
        return dict(snap)


def _run_snapshot(state, snap, job, path, compression):
    """Have every worker write its shard of ``job`` under ``path``, then write the spec
    file that makes ``path`` a saved dataset (last, so a partial save never loads)."""
    from rill.data.save_load import _SPEC_FILE

    results: dict = {}

    def one(index, address):
        conn = wire.Connection(address, timeout=None)
        try:
            conn.call(
                "write_shard", job_id=job.job_id, path=path, shard=index, compression=compression
            )
            results[index] = None
        except Exception as e:  # noqa: BLE001 - reported through snapshot_status
            results[index] = e
        finally:
            conn.close()

    threads = [
        threading.Thread(target=one, args=(i, a), daemon=True) for i, a in enumerate(job.workers)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [e for e in results.values() if e is not None]
    with state.lock:
        spec = state.datasets[job.dataset_id]["spec"]
        state.jobs.pop(job.job_id, None)
    if errors:
        snap.update(state="error", message=f"{type(errors[0]).__name__}: {errors[0]}")
        return
    meta = {
        "element_spec": spec,
        "compression": compression,
        "shards": list(range(len(job.workers))),
        "format": "rill-dataset-1",
    }
    with open(os.path.join(path, _SPEC_FILE), "w") as f:
        json.dump(meta, f)
    snap.update(state="done")


@tf_export("data.experimental.service.DispatchServer")
class DispatchServer(wire.ServerHandle):
    """A tf.data service dispatcher running in this process, on loopback.

    It coordinates the ``WorkerServer``s that register with it: ``target`` is the address
    that ``distribute``/``register_dataset``/``from_dataset_id`` take. Datasets registered
    as Python objects are served by workers of the registering process; see
    ``rill.data.service.dataset_from_factory`` for workers in other processes.
    """

    def __init__(self, config=None, start=True):
        config = config or DispatcherConfig()
        if config.fault_tolerant_mode and not config.work_dir:
            raise ValueError(
                "Cannot enable fault tolerant mode without configuring a work dir. Make sure "
                "to set `work_dir` in the `config` object passed to `DispatcherServer`."
            )
        self._config = config
        self._state = _DispatcherState(config)
        self._server = wire.Server(config.port, self._state)
        self._stopped = threading.Event()
        if start:
            self.start()

    def start(self) -> None:
        """Start serving (idempotent)."""
        self._server.start()

    def stop(self) -> None:
        """Stop the server; it cannot be restarted."""
        self._stop()

    def _stop(self) -> None:
        if not self._stopped.is_set():
            self._server.stop()
            self._stopped.set()

    @property
    def target(self) -> str:
        """``"protocol://localhost:port"``: what clients pass as ``service``."""
        return f"{self._config.protocol}://localhost:{self._server.port}"

    def _num_workers(self) -> int:
        with self._state.lock:
            return len(self._state.workers)

    def _wait_for_workers(self, n: int, timeout: float = 10.0) -> None:
        """Block until ``n`` workers registered (tests and scripts starting workers)."""
        deadline = time.monotonic() + timeout
        while self._num_workers() < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self._num_workers()} of {n} workers registered.")
            time.sleep(0.01)
