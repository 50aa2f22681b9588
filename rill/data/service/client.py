"""The consumer side of the tf.data service: ``register_dataset``, ``from_dataset_id``,
``distribute``, ``distributed_save``, and their options."""

from __future__ import annotations

import enum
import itertools
import os
import queue
import threading
import time
import zlib

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import NotFoundError, UnavailableError, op_error
from rill.core.tensor import Tensor, wrap
from rill.data import structure as _s
from rill.data.options import _OptionsBase
from rill.data.service import registry, wire
from rill.ops._op import tf_export

__all__ = [
    "ShardingPolicy", "CrossTrainerCache", "ServiceOptions", "register_dataset",
    "from_dataset_id", "distribute", "distributed_save",
]  # fmt: skip

COMPRESSION_AUTO = "AUTO"
COMPRESSION_SNAPPY = "SNAPPY"
_PARALLEL_EPOCHS = "parallel_epochs"
_DISTRIBUTED_EPOCH = "distributed_epoch"
_POLL_S = 0.05


@tf_export("data.experimental.service.ShardingPolicy")
class ShardingPolicy(enum.IntEnum):
    """How a job's dataset is divided among workers: OFF (each worker produces all of
    it), DYNAMIC (workers claim splits from the dispatcher: each element once), DATA
    (worker ``i`` of the configured ``worker_addresses`` keeps every ``i``-th element),
    FILE_OR_DATA (DATA in rill: it cannot shard by files), FILE and HINT (not in rill)."""

    OFF = 0
    DYNAMIC = 1
    FILE = 2
    DATA = 3
    FILE_OR_DATA = 4
    HINT = 5


@tf_export("data.experimental.service.CrossTrainerCache")
class CrossTrainerCache:
    """Share a job's elements among concurrent trainers: what one trainer consumed stays
    in a sliding-window cache for trainers with other ``trainer_id``s; a trainer never
    reads an element twice. Needs a named job and an infinite dataset."""

    def __init__(self, trainer_id):
        if not trainer_id:
            raise ValueError("tf.data service cross-trainer cache requires a non-empty trainer ID.")
        self.trainer_id = trainer_id


@tf_export("data.experimental.ServiceOptions")
class ServiceOptions(_OptionsBase):
    """Options of the tf.data service client (``pinned``: place received elements in
    pinned memory; rill's host arrays need nothing, so it is kept for compatibility)."""

    _fields = {"pinned": None}


# --------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------


def _policy(processing_mode) -> ShardingPolicy:
    if isinstance(processing_mode, ShardingPolicy):
        return processing_mode
    if processing_mode == _PARALLEL_EPOCHS:
        return ShardingPolicy.OFF
    if processing_mode == _DISTRIBUTED_EPOCH:
        return ShardingPolicy.DYNAMIC
    raise ValueError(
        "tf.data service processing mode should be a "
        '`tf.data.experimental.service.ShardingPolicy`, `"parallel_epochs"`, or '
        f'`"distributed_epoch"`. Got {processing_mode!r}.'
    )


def _check_compression(compression) -> None:
    valid = [COMPRESSION_AUTO, None, COMPRESSION_SNAPPY]
    if compression not in valid:
        raise ValueError(f"Invalid `compression` argument: {compression}. Must be one of {valid}.")


def _address(service) -> str:
    if isinstance(service, tuple):
        return service[1]
    if not isinstance(service, str):
        raise ValueError(
            f"`service` must be a string, but `service` was of type {type(service)}. "
            f"service={service}"
        )
    if not service:
        raise ValueError("`service` must not be empty")
    parts = service.split("://")
    if len(parts) > 2:
        raise ValueError(f"Malformed `service` string has multiple '://': {service}.")
    return parts[-1]


def _dataset_id_str(dataset_id) -> str:
    if isinstance(dataset_id, Tensor):
        dataset_id = dataset_id.numpy()
    if isinstance(dataset_id, np.ndarray):
        dataset_id = dataset_id.item()
    if isinstance(dataset_id, bytes):
        return dataset_id.decode()
    return str(dataset_id)


def _check_job_name(job_name) -> str | None:
    if job_name is None:
        return None
    if isinstance(job_name, Tensor):
        job_name = _dataset_id_str(job_name)
    if not isinstance(job_name, str):
        raise ValueError(
            f"`job_name` must be a string or Tensor, but `job_name` was of type "
            f"{type(job_name)}. job_name={job_name}."
        )
    if not job_name:
        raise ValueError("`job_name` must not be empty")
    return job_name


# --------------------------------------------------------------------------------------
# register_dataset / from_dataset_id / distribute
# --------------------------------------------------------------------------------------


@tf_export("data.experimental.service.register_dataset")
def register_dataset(service, dataset, compression="AUTO", dataset_id=None) -> Tensor:
    """Register ``dataset`` with the dispatcher at ``service``; the dataset id, a scalar
    string tensor, is what ``from_dataset_id`` reads.

    rill datasets are Python objects and are never pickled: a dataset registered this way
    is served by workers running in this process. For workers in other processes, build
    it with ``rill.data.service.dataset_from_factory(name, **kwargs)`` from a factory
    registered (``register_dataset_factory``) in every process. Elements must be dense
    tensors. ``compression="SNAPPY"`` compresses elements on the wire (with zlib: rill
    has no snappy); ``"AUTO"`` lets the runtime choose, and on loopback it does not.
    """
    _check_compression(compression)
    from rill.data.save_load import _check_dense, spec_to_json

    _check_dense(_s.flatten(dataset.element_spec), "service")
    conn = wire.Connection(_address(service))
    try:
        h, _ = conn.call(
            "register_dataset",
            definition=registry.definition_of(dataset),
            spec=spec_to_json(dataset.element_spec),
            compression=compression,
            cardinality=int(dataset._card),
            dataset_id=None if dataset_id is None else _dataset_id_str(dataset_id),
        )
    finally:
        conn.close()
    return wrap(np.asarray(h["dataset_id"].encode(), object), _d.string)


@tf_export("data.experimental.service.from_dataset_id")
def from_dataset_id(
    processing_mode,
    service,
    dataset_id,
    element_spec=None,
    job_name=None,
    consumer_index=None,
    num_consumers=None,
    max_outstanding_requests=None,
    data_transfer_protocol=None,
    cross_trainer_cache=None,
    target_workers="AUTO",
):
    """A dataset that reads the registered dataset ``dataset_id`` from the tf.data service
    at ``service``, sharded among the workers by ``processing_mode``.

    ``job_name`` shares one job among consumers (each element goes to one of them;
    first come first served, or in strict rounds of ``num_consumers`` consecutive elements
    when ``consumer_index``/``num_consumers`` are set). ``cross_trainer_cache`` lets
    trainers with different ids re-read what others consumed.
    """
    policy = _policy(processing_mode)
    address = _address(service)
    job_name = _check_job_name(job_name)
    if (consumer_index is None) != (num_consumers is None):
        raise ValueError(
            "Must either set both `consumer_index` and `num_consumers`, or neither. "
            f"consumer_index={consumer_index}, num_consumers={num_consumers}"
        )
    if num_consumers is not None:
        if job_name is None:
            raise ValueError(
                "`job_name` must be set when setting `num_consumers`. num_consumers was set "
                f"to {num_consumers}."
            )
        if not 0 <= int(consumer_index) < int(num_consumers):
            raise ValueError(
                f"`consumer_index` must be in [0, num_consumers={num_consumers}), got "
                f"{consumer_index}."
            )
    if target_workers not in ("AUTO", "ANY", "LOCAL"):
        raise ValueError(
            f"`target_workers` must be one of 'AUTO', 'ANY', 'LOCAL', got {target_workers!r}."
        )
    dataset_id = _dataset_id_str(dataset_id)
    conn = wire.Connection(address)
    try:
        info, _ = conn.call("get_dataset", dataset_id=dataset_id)
    finally:
        conn.close()
    if element_spec is None:
        from rill.data.save_load import spec_from_json

        element_spec = spec_from_json(info["spec"])
    reader = _Reader(
        address=address,
        dataset_id=dataset_id,
        policy=int(policy),
        job_name=job_name,
        consumer_index=None if consumer_index is None else int(consumer_index),
        num_consumers=None if num_consumers is None else int(num_consumers),
        max_outstanding=max_outstanding_requests,
        trainer_id=None if cross_trainer_cache is None else cross_trainer_cache.trainer_id,
        specs=_s.flatten(element_spec),
    )
    from rill.data.dataset_ops import UNKNOWN, DatasetV2

    ds = DatasetV2(reader.iterate, element_spec, UNKNOWN, kind="_DataServiceDataset")
    if job_name is not None:
        # a shared job is already split among its consumers: do not auto-shard it again
        from rill.data.options import AutoShardPolicy, Options

        opts = Options()
        opts.experimental_distribute.auto_shard_policy = AutoShardPolicy.OFF
        ds = ds.with_options(opts)
    return ds


@tf_export("data.experimental.service.distribute")
def distribute(
    processing_mode,
    service,
    job_name=None,
    consumer_index=None,
    num_consumers=None,
    max_outstanding_requests=None,
    data_transfer_protocol=None,
    compression="AUTO",
    cross_trainer_cache=None,
    target_workers="AUTO",
):
    """A transformation (for ``Dataset.apply``) that runs the dataset on the tf.data
    service at ``service`` and reads its elements back: ``register_dataset`` then
    ``from_dataset_id`` (see both for the arguments and rill's limits)."""
    _policy(processing_mode)
    _check_compression(compression)

    def apply(dataset):
        dataset_id = register_dataset(service, dataset, compression=compression)
        return from_dataset_id(
            processing_mode,
            service,
            dataset_id,
            dataset.element_spec,
            job_name=job_name,
            consumer_index=consumer_index,
            num_consumers=num_consumers,
            max_outstanding_requests=max_outstanding_requests,
            data_transfer_protocol=data_transfer_protocol,
            cross_trainer_cache=cross_trainer_cache,
            target_workers=target_workers,
        )

    return apply


class _Reader:
    """Starts a job on each iteration of a ``from_dataset_id`` dataset and reads it."""

    def __init__(self, **kw):
        self.__dict__.update(kw)
        # a named job is shared per iteration: the n-th iteration of every consumer
        # reads the same job, as TF's iteration counter does
        self._iterations = itertools.count()

    def iterate(self, ctx):
        dispatcher = wire.Connection(self.address)
        iteration = next(self._iterations)
        while True:
            h, _ = dispatcher.call(
                "get_or_create_job",
                dataset_id=self.dataset_id,
                policy=self.policy,
                job_name=self.job_name,
                iteration=iteration,
                num_consumers=self.num_consumers,
                cross_trainer_cache=self.trainer_id is not None,
            )
            if h["workers"]:
                break
            # no worker yet: TF's consumers wait for one to register
            dispatcher.call("release_job", job_id=h["job_id"])
            time.sleep(_POLL_S)
        job_id, workers = h["job_id"], h["workers"]
        conns = [wire.Connection(a) for a in workers]
        try:
            if self.num_consumers is not None:
                yield from self._coordinated(job_id, conns)
            else:
                yield from self._first_come(job_id, conns)
        finally:
            try:
                released = dispatcher.call("release_job", job_id=job_id)[0]["released"]
            except Exception:  # noqa: BLE001 - the dispatcher may be stopped
                released = True
            dispatcher.close()
            for c in conns:
                if released:  # the last consumer of the job frees the workers' tasks
                    try:
                        c.call("release_task", job_id=job_id)
                    except Exception:  # noqa: BLE001, S110 - a stopped worker has no task
                        pass
                c.close()

    def _fetch(self, conn, job_id, **args):
        """One element from a worker: leaves, or None at the end of its task."""
        try:
            h, body = conn.call("get_element", job_id=job_id, trainer_id=self.trainer_id, **args)
        except (UnavailableError, NotFoundError):
            return None  # a worker that went away: its task is over (at most once)
        if h["end_of_sequence"]:
            return None
        if h["compressed"]:
            body = zlib.decompress(body)
        return wire.decode_element(body, self.specs)

    def _coordinated(self, job_id, conns):
        # round r is served by worker r mod n: every consumer reads the same worker per round
        for r in itertools.count():
            leaves = self._fetch(
                conns[r % len(conns)], job_id, consumer_index=self.consumer_index, round=r
            )
            if leaves is None:
                return
            yield leaves

    def _first_come(self, job_id, conns):
        if len(conns) == 1 and self.max_outstanding in (None, -1, 1):
            while (leaves := self._fetch(conns[0], job_id)) is not None:
                yield leaves
            return
        # one reader thread per worker, all feeding one bounded queue
        n = self.max_outstanding
        q: queue.Queue = queue.Queue(maxsize=max(1, 2 * len(conns) if n in (None, -1) else n))
        stop = threading.Event()
        done = object()

        def read(conn):
            try:
                while not stop.is_set():
                    leaves = self._fetch(conn, job_id)
                    item = done if leaves is None else leaves
                    while not stop.is_set():
                        try:
                            q.put(item, timeout=_POLL_S)
                            break
                        except queue.Full:
                            continue
                    if item is done:
                        return
            except Exception as e:  # noqa: BLE001 - re-raised in the consumer
                q.put(e)

        threads = [threading.Thread(target=read, args=(c,), daemon=True) for c in conns]
        for t in threads:
            t.start()
        live = len(threads)
        try:
            while live:
                item = q.get()
                if item is done:
                    live -= 1
                elif isinstance(item, Exception):
                    raise item
                else:
                    yield item
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=5)


# --------------------------------------------------------------------------------------
# distributed_save
# --------------------------------------------------------------------------------------


@tf_export("data.experimental.distributed_save")
def distributed_save(dataset, path, data_service_address, compression="AUTO"):
    """Save ``dataset`` to directory ``path`` through the tf.data service at
    ``data_service_address``: the workers split the dataset dynamically and each writes
    its shard in rill's ``Dataset.save`` format, loadable with ``Dataset.load(path)``.

    Unlike TF, which returns once the save has started (``load(..., wait=True)`` waits
    for it), this returns when the save is complete, so ``load`` may follow at once.
    ``compression``: ``"AUTO"``/``None`` (none) or ``"GZIP"``/``"ZLIB"``.
    """
    if compression not in (COMPRESSION_AUTO, None, "GZIP", "ZLIB", "NONE"):
        raise ValueError(
            f"Invalid `compression` argument: {compression}. Must be one of "
            f"['AUTO', None, 'GZIP', 'ZLIB']."
        )
    file_compression = None if compression in (COMPRESSION_AUTO, "NONE") else compression
    path = os.path.abspath(os.fspath(path))
    dataset_id = _dataset_id_str(register_dataset(data_service_address, dataset, compression=None))
    conn = wire.Connection(_address(data_service_address))
    try:
        conn.call("start_snapshot", path=path, dataset_id=dataset_id, compression=file_compression)
        while True:
            h, _ = conn.call("snapshot_status", path=path)
            if h["state"] == "done":
                return None
            if h["state"] == "error":
                raise op_error(
                    _error_class(h["message"]),
                    "DistributedSave",
                    f"Saving the dataset to {path!r} failed: {h['message']}",
                )
            time.sleep(_POLL_S)
    finally:
        conn.close()


def _error_class(message: str):
    """The rill error class named at the start of ``"ClassName: message"``."""
    from rill.core import errors

    cls = getattr(errors, message.split(":", 1)[0], None)
    return cls if isinstance(cls, type) and issubclass(cls, errors.OpError) else errors.UnknownError
