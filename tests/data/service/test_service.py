"""tf.data.experimental.service: real loopback servers, element sets checked against a
local iteration of the same dataset."""

import collections
import os
import socket
import subprocess
import sys
import threading

import numpy as np
import pytest

import rill as tf
from rill import errors
from tests.data.service import factories  # noqa: F401 - registers "test_squares"

svc = tf.data.experimental.service
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def values(ds):
    return [np.asarray(x).item() for x in ds.as_numpy_iterator()]


def local(ds):
    return values(ds)


def test_parallel_epochs_each_worker_produces_the_whole_dataset(make_cluster):
    c = make_cluster(2)
    ds = tf.data.Dataset.range(12).map(lambda x: 3 * x + 1)
    got = values(ds.apply(svc.distribute("parallel_epochs", c.target)))
    want = collections.Counter(local(ds) * 2)  # two workers, one full epoch each
    assert collections.Counter(got) == want


def test_parallel_epochs_one_worker_keeps_order(make_cluster):
    c = make_cluster(1)
    ds = tf.data.Dataset.range(7).map(lambda x: x * x)
    assert values(ds.apply(svc.distribute(svc.ShardingPolicy.OFF, c.target))) == local(ds)


def test_distributed_epoch_produces_each_element_exactly_once(make_cluster):
    c = make_cluster(3)
    ds = tf.data.Dataset.range(100).map(lambda x: x * 7 - 3)
    got = values(ds.apply(svc.distribute("distributed_epoch", c.target)))
    assert sorted(got) == sorted(local(ds))


def test_distributed_epoch_shared_job_splits_elements_among_consumers(make_cluster):
    c = make_cluster(2)
    ds = tf.data.Dataset.range(200)
    consumers = [
        ds.apply(svc.distribute("distributed_epoch", c.target, job_name="shared")) for _ in range(2)
    ]
    its = [iter(d.as_numpy_iterator()) for d in consumers]
    firsts = [next(it).item() for it in its]  # both consumers joined the job
    out = [[f] for f in firsts]

    def drain(i):
        out[i].extend(x.item() for x in its[i])

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(out[0] + out[1]) == list(range(200))


def test_register_dataset_and_from_dataset_id(make_cluster):
    c = make_cluster(1)
    ds = tf.data.Dataset.from_tensor_slices(
        {"a": np.arange(6, dtype=np.float32).reshape(3, 2), "s": [b"x", b"yz", b""]}
    )
    dataset_id = svc.register_dataset(c.target, ds)
    assert dataset_id.dtype == tf.string and dataset_id.shape == ()
    # the element spec comes from the dispatcher when not given
    read = svc.from_dataset_id("parallel_epochs", c.target, dataset_id)
    assert read.element_spec == ds.element_spec
    got, want = list(read.as_numpy_iterator()), list(ds.as_numpy_iterator())
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g["a"], w["a"])
        assert g["s"] == w["s"]


def test_register_dataset_with_requested_id_reuses_it(make_cluster):
    c = make_cluster(1)
    first = svc.register_dataset(c.target, tf.data.Dataset.range(3), dataset_id="mine")
    again = svc.register_dataset(c.target, tf.data.Dataset.range(99), dataset_id="mine")
    assert first.numpy() == again.numpy() == b"mine"
    # the dataset registered first is the one served
    read = svc.from_dataset_id("parallel_epochs", c.target, "mine")
    assert values(read) == [0, 1, 2]
    a = svc.register_dataset(c.target, tf.data.Dataset.range(3))
    b = svc.register_dataset(c.target, tf.data.Dataset.range(3))
    assert a.numpy() != b.numpy()


def test_coordinated_reads_round_robin(make_cluster):
    c = make_cluster(1)
    n = 5
    ds = tf.data.Dataset.range(n).repeat()
    readers = [
        ds.apply(
            svc.distribute(
                "parallel_epochs", c.target, job_name="rounds", consumer_index=i, num_consumers=2
            )
        )
        for i in range(2)
    ]
    its = [iter(r.as_numpy_iterator()) for r in readers]
    got = [[next(it).item()] for it in its]  # both consumers joined before either stops
    for i, it in enumerate(its):
        got[i].extend(next(it).item() for _ in range(5))
    # round r holds the stream's elements 2r and 2r+1; consumer i gets the i-th of each
    for i in range(2):
        assert got[i] == [(2 * r + i) % n for r in range(6)]


def test_static_data_sharding(make_cluster):
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    cfg = svc.DispatcherConfig(worker_addresses=[f"localhost:{p}" for p in ports])
    c = make_cluster(2, dispatcher_config=cfg, worker_ports=ports)
    ds = tf.data.Dataset.range(31)
    got = values(ds.apply(svc.distribute(svc.ShardingPolicy.DATA, c.target)))
    assert sorted(got) == list(range(31))


def test_static_sharding_needs_worker_addresses(make_cluster):
    c = make_cluster(1)
    ds = tf.data.Dataset.range(3).apply(svc.distribute(svc.ShardingPolicy.DATA, c.target))
    with pytest.raises(errors.FailedPreconditionError, match="worker_addresses"):
        values(ds)


def _counting_dataset():
    """An infinite dataset whose every produced element is a new number: re-reading a
    cached element is the only way two trainers can see equal values."""
    counter = iter(range(10**9))

    def gen():
        while True:
            yield next(counter)

    return tf.data.Dataset.from_generator(
        gen, output_signature=tf.TensorSpec([], tf.int64)
    ).repeat()


def test_cross_trainer_cache_shares_elements(make_cluster):
    c = make_cluster(1)
    ds = _counting_dataset()
    dataset_id = svc.register_dataset(c.target, ds)

    def trainer(tid):
        return iter(
            svc.from_dataset_id(
                "parallel_epochs",
                c.target,
                dataset_id,
                job_name="cached",
                cross_trainer_cache=svc.CrossTrainerCache(tid),
            ).as_numpy_iterator()
        )

    a, b = trainer("A"), trainer("B")
    got_a = [next(a).item() for _ in range(5)]
    got_b = [next(b).item() for _ in range(5)]
    assert got_a == got_b == [0, 1, 2, 3, 4]  # B re-read what A consumed
    a2 = trainer("A")  # the same trainer id never re-reads: it continues A's stream
    assert [next(a2).item() for _ in range(3)] == [5, 6, 7]
    assert [next(b).item() for _ in range(3)] == [5, 6, 7]


def test_cross_trainer_cache_requirements(make_cluster):
    c = make_cluster(1)
    cache = svc.CrossTrainerCache("t")
    finite = tf.data.Dataset.range(4).apply(
        svc.distribute("parallel_epochs", c.target, job_name="j", cross_trainer_cache=cache)
    )
    with pytest.raises(errors.InvalidArgumentError, match="infinite"):
        values(finite)
    unnamed = (
        tf.data.Dataset.range(4)
        .repeat()
        .apply(svc.distribute("parallel_epochs", c.target, cross_trainer_cache=cache))
    )
    with pytest.raises(errors.InvalidArgumentError, match="named jobs"):
        next(iter(unnamed))
    with pytest.raises(ValueError, match="non-empty trainer ID"):
        svc.CrossTrainerCache("")


def test_argument_errors(make_cluster):
    c = make_cluster(1)
    with pytest.raises(ValueError, match="processing mode"):
        svc.distribute("everything", c.target)
    with pytest.raises(ValueError, match="compression"):
        svc.distribute("parallel_epochs", c.target, compression="GZIP")
    ds = tf.data.Dataset.range(3)
    with pytest.raises(ValueError, match="job_name"):
        svc.distribute("parallel_epochs", c.target, consumer_index=0, num_consumers=2)(ds)
    with pytest.raises(ValueError, match="both"):
        svc.distribute("parallel_epochs", c.target, job_name="x", consumer_index=0)(ds)
    with pytest.raises(ValueError, match="multiple"):
        svc.distribute("parallel_epochs", "grpc://a://b")(ds)
    with pytest.raises(errors.NotFoundError, match="nope not found"):
        svc.from_dataset_id("parallel_epochs", c.target, "nope", element_spec=ds.element_spec)
    with pytest.raises(ValueError, match="work dir"):
        svc.DispatchServer(svc.DispatcherConfig(fault_tolerant_mode=True))
    with pytest.raises(ValueError, match="dispatcher_address"):
        svc.WorkerServer(svc.WorkerConfig(None))
    finite = ds.apply(
        svc.distribute(
            "parallel_epochs", c.target, job_name="co", consumer_index=0, num_consumers=1
        )
    )
    with pytest.raises(errors.InvalidArgumentError, match="infinite"):
        values(finite)


def test_snappy_compression_round_trips(make_cluster):
    c = make_cluster(1)
    ds = tf.data.Dataset.range(20).map(lambda x: tf.fill([50], tf.cast(x, tf.float32)))
    got = list(ds.apply(svc.distribute("parallel_epochs", c.target, compression="SNAPPY")))
    want = list(ds.as_numpy_iterator())
    np.testing.assert_array_equal(np.stack([g.numpy() for g in got]), np.stack(want))


def test_max_outstanding_requests_bounded_prefetch(make_cluster):
    c = make_cluster(2)
    ds = tf.data.Dataset.range(40)
    read = ds.apply(svc.distribute("distributed_epoch", c.target, max_outstanding_requests=1))
    assert sorted(values(read)) == list(range(40))


def test_servers_report_addresses_and_workers(make_cluster):
    c = make_cluster(2)
    assert c.target.startswith("grpc://localhost:")
    assert c.dispatcher._address == c.target.split("://")[1]
    assert c.dispatcher._num_workers() == 2
    c.workers[1]._stop()
    assert c.dispatcher._num_workers() == 1
    # a job started now runs on the remaining worker only
    ds = tf.data.Dataset.range(5)
    assert values(ds.apply(svc.distribute("parallel_epochs", c.target))) == [0, 1, 2, 3, 4]


def test_fault_tolerant_dispatcher_keeps_registered_datasets(tmp_path, make_cluster):
    cfg = svc.DispatcherConfig(work_dir=str(tmp_path), fault_tolerant_mode=True)
    first = svc.DispatchServer(cfg)
    dataset_id = svc.register_dataset(first.target, tf.data.Dataset.range(4).map(lambda x: -x))
    first._stop()
    second = svc.DispatchServer(cfg)  # a restarted dispatcher reads its journal
    addr = second.target.split("://")[1]
    worker = svc.WorkerServer(svc.WorkerConfig(dispatcher_address=addr))
    try:
        read = svc.from_dataset_id("parallel_epochs", second.target, dataset_id)
        assert values(read) == [0, -1, -2, -3]
    finally:
        worker._stop()
        second._stop()


def test_distributed_save_then_load(tmp_path, make_cluster):
    c = make_cluster(2)
    ds = tf.data.Dataset.range(57).map(lambda x: (x, tf.cast(x, tf.float32) / 2))
    path = str(tmp_path / "saved")
    assert tf.data.experimental.distributed_save(ds, path, c.dispatcher._address) is None
    loaded = tf.data.Dataset.load(path)
    assert loaded.element_spec == ds.element_spec
    got = sorted((int(a), float(b)) for a, b in loaded.as_numpy_iterator())
    assert got == sorted((int(a), float(b)) for a, b in ds.as_numpy_iterator())
    with pytest.raises(errors.AlreadyExistsError):
        tf.data.experimental.distributed_save(ds, path, c.target)


def test_distributed_save_compressed(tmp_path, make_cluster):
    c = make_cluster(1)
    ds = tf.data.Dataset.range(10)
    path = str(tmp_path / "gz")
    tf.data.experimental.distributed_save(ds, path, c.target, compression="GZIP")
    assert sorted(values(tf.data.Dataset.load(path))) == list(range(10))
    with pytest.raises(ValueError, match="compression"):
        tf.data.experimental.distributed_save(ds, path, c.target, compression="LZ4")


def test_service_options():
    opts = tf.data.experimental.ServiceOptions()
    assert opts.pinned is None
    opts.pinned = True
    assert opts.pinned is True
    with pytest.raises(AttributeError):
        opts.unknown = 1


@pytest.fixture
def remote_worker(make_cluster):
    """A dispatcher here and one worker in a subprocess (which imported the factories)."""
    c = make_cluster(0)
    addr = c.dispatcher._address
    code = (
        "import sys, tests.data.service.factories\n"
        "import rill as tf\n"
        "s = tf.data.experimental.service\n"
        f"w = s.WorkerServer(s.WorkerConfig(dispatcher_address={addr!r}))\n"
        "print('ready', flush=True)\n"
        "sys.stdin.read()\n"
        "w._stop()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        c.dispatcher._wait_for_workers(1)
        yield c
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_worker_in_another_process_builds_factory_datasets(remote_worker):
    c = remote_worker
    ds = svc.dataset_from_factory("test_squares", n=25)
    got = values(ds.apply(svc.distribute("distributed_epoch", c.target)))
    assert sorted(got) == [i * i for i in range(25)]


def test_worker_in_another_process_rejects_object_datasets(remote_worker):
    ds = tf.data.Dataset.range(3).apply(svc.distribute("parallel_epochs", remote_worker.target))
    with pytest.raises(errors.FailedPreconditionError, match="dataset_from_factory"):
        values(ds)


def test_factory_errors():
    with pytest.raises(errors.NotFoundError, match="no_such_factory"):
        svc.dataset_from_factory("no_such_factory")
    with pytest.raises(TypeError, match="JSON"):
        svc.dataset_from_factory("test_squares", n=object())


def test_configs_match_tensorflow():
    tf_real = pytest.importorskip("tensorflow")
    real = tf_real.data.experimental.service
    assert svc.DispatcherConfig()._asdict() == real.DispatcherConfig()._asdict()
    assert svc.WorkerConfig("h:1")._asdict() == real.WorkerConfig("h:1")._asdict()
    assert {p.name: int(p) for p in svc.ShardingPolicy} == {
        p.name: int(p) for p in real.ShardingPolicy
    }
