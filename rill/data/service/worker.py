"""``WorkerServer``: runs datasets for the tf.data service and serves their elements.

A worker keeps one *task* per job it serves: an iterator over its part of the dataset
(the whole dataset, its static shard, or the dynamic splits it claims from the
dispatcher) and the bookkeeping of how consumers read it: first come first served,
coordinated rounds (``num_consumers``), or a sliding-window cache shared by trainers.
"""

from __future__ import annotations

import os
import threading
import zlib

from rill.core.errors import UnimplementedError
from rill.data.service import registry, wire
from rill.data.service.config import WorkerConfig
from rill.data.service.dispatcher import DATA, DYNAMIC, FILE, FILE_OR_DATA, HINT, OFF
from rill.ops._op import tf_export

__all__ = ["WorkerServer"]

# Elements a cross-trainer cache keeps (TF bounds it in bytes; rill by count).
CACHE_ELEMENTS = 1024


def _split_iter(dataset, job_id, dispatcher):
    """The elements of ``dataset`` inside the splits this worker claims: it walks its own
    copy of the pipeline and skips the elements that other workers claimed. Each element
    goes to exactly one worker when the dataset's order is deterministic."""
    it = dataset._iter()
    pos = 0
    while True:
        h, _ = dispatcher.call("get_split", job_id=job_id)
        if h.get("end_of_splits"):
            return
        start, stop = h["start"], h["stop"]
        while pos < stop:
            try:
                leaves = next(it)
            except StopIteration:
                dispatcher.call("report_end", job_id=job_id, count=pos)
                return
            pos += 1
            if pos > start:
                yield leaves


class _Task:
    """One job's stream on this worker."""

    def __init__(self, worker, job_id):
        self.lock = threading.Lock()
        info, _ = worker.dispatcher.call("get_job", job_id=job_id, worker_address=worker.address)
        ds_info, _ = worker.dispatcher.call("get_dataset", dataset_id=info["dataset_id"])
        dataset = registry.resolve(ds_info["definition"], info["dataset_id"])
        self.specs = dataset._leaf_specs
        self.compress = ds_info["compression"] == "SNAPPY"
        policy = info["policy"]
        if policy == OFF:
            self.it = dataset._iter()
        elif policy == DYNAMIC:
            self.it = _split_iter(dataset, job_id, worker.dispatcher)
        elif policy in (DATA, FILE_OR_DATA):
            # rill cannot split a pipeline by its files, so FILE_OR_DATA takes DATA's path
            self.it = dataset.shard(info["num_workers"], info["worker_index"])._iter()
        else:
            name = {FILE: "FILE", HINT: "HINT"}.get(policy, str(policy))
            raise wire.service_error(
                UnimplementedError,
                "DataServiceWorker",
                f"ShardingPolicy.{name} rewrites the pipeline's file reader (or its "
                f"`shard(SHARD_HINT, ...)`), which rill's Python-object datasets cannot do; "
                f"use ShardingPolicy.DATA, DYNAMIC or OFF.",
            )
        self.num_consumers = info["num_consumers"]
        self.rounds: dict = {}  # coordinated reads: round -> {consumer: element}
        self.cached = info["cross_trainer_cache"]
        self.cache: list = []  # cross-trainer cache: a window of encoded elements
        self.cache_start = 0  # index of cache[0] in the task's stream
        self.cursors: dict = {}  # trainer id -> next index

    def _next(self):
        """The next encoded element, or None at the end."""
        try:
            leaves = next(self.it)
        except StopIteration:
            return None
        data = wire.encode_element(leaves, self.specs)
        return zlib.compress(data, 1) if self.compress else data

    def get(self, consumer_index=None, round_index=None, trainer_id=None):
        with self.lock:
            if self.cached:
                return self._get_cached(trainer_id)
            if round_index is None:
                return self._next()
            # a round is num_consumers consecutive elements, one per consumer
            r = self.rounds.get(round_index)
            if r is None:
                r = self.rounds[round_index] = {c: self._next() for c in range(self.num_consumers)}
            out = r.pop(consumer_index, None)
            if not r:
                del self.rounds[round_index]
            return out

    def _get_cached(self, trainer_id):
        k = max(self.cursors.get(trainer_id, 0), self.cache_start)
        while k >= self.cache_start + len(self.cache):
            data = self._next()
            if data is None:
                return None
            self.cache.append(data)
            if len(self.cache) > CACHE_ELEMENTS:
                self.cache.pop(0)
                self.cache_start += 1
            k = max(k, self.cache_start)
        self.cursors[trainer_id] = k + 1
        return self.cache[k - self.cache_start]


class _WorkerState:
    def __init__(self, config: WorkerConfig):
        self.config = config
        self.dispatcher = wire.Connection(config.dispatcher_address)
        self.address = None
        self.lock = threading.Lock()
        self.tasks: dict[int, _Task] = {}

    def task(self, job_id) -> _Task:
        with self.lock:
            t = self.tasks.get(job_id)
        if t is None:
            t = _Task(self, job_id)
            with self.lock:
                t = self.tasks.setdefault(job_id, t)
        return t

    def handle(self, method, args, payload):
        if method == "get_element":
            job_id = args["job_id"]
            t = self.task(job_id)
            data = t.get(args.get("consumer_index"), args.get("round"), args.get("trainer_id"))
            if data is None:
                return {"end_of_sequence": True, "compressed": False}, b""
            return {"end_of_sequence": False, "compressed": t.compress}, data
        if method == "release_task":
            with self.lock:
                self.tasks.pop(args["job_id"], None)
            return {}, b""
        if method == "write_shard":
            return self._write_shard(**args), b""
        raise ValueError(f"tf.data service worker: unknown request {method!r}.")

    def _write_shard(self, job_id, path, shard, compression):
        from rill.data.save_load import _open

        t = _Task(self, job_id)
        os.makedirs(path, exist_ok=True)
        n = 0
        with _open(os.path.join(path, f"shard_{shard:05d}.rill"), "wb", compression) as f:
            while True:
                data = t._next()
                if data is None:
                    break
                f.write(zlib.decompress(data) if t.compress else data)
                n += 1
        return {"elements": n}


@tf_export("data.experimental.service.WorkerServer")
class WorkerServer(wire.ServerHandle):
    """A tf.data service worker running in this process, on loopback.

    It registers with the dispatcher at ``config.dispatcher_address`` when it starts, then
    runs the datasets of the jobs that consumers read and streams their elements. It can
    serve datasets registered as Python objects by this same process, and datasets built
    with ``rill.data.service.dataset_from_factory`` from a factory registered here.
    """

    def __init__(self, config, start=True):
        if config.dispatcher_address is None:
            raise ValueError(
                "Must specify a `dispatcher_address` in the `config` passed to `WorkerServer`."
            )
        self._config = config
        self._state = _WorkerState(config)
        self._server = wire.Server(config.port, self._state)
        self._state.address = config.worker_address.replace("%port%", str(self._server.port))
        self._started = False
        self._stopped = threading.Event()
        if start:
            self.start()

    def start(self) -> None:
        """Start serving and register with the dispatcher."""
        if not self._started:
            self._server.start()
            self._state.dispatcher.call("register_worker", address=self._state.address)
            self._started = True

    def stop(self) -> None:
        """Unregister from the dispatcher and stop serving."""
        self._stop()

    def _stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self._started:
            try:
                self._state.dispatcher.call("unregister_worker", address=self._state.address)
            except Exception:  # noqa: BLE001, S110 - the dispatcher may be gone already
                pass
        self._state.dispatcher.close()
        self._server.stop()

    def _num_tasks(self) -> int:
        with self._state.lock:
            return len(self._state.tasks)
