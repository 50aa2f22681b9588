"""A loopback tf.data service cluster for each test, stopped afterwards."""

import pytest

import rill as tf

svc = tf.data.experimental.service


class Cluster:
    """A dispatcher and ``n`` in-process workers on 127.0.0.1 (any free ports)."""

    def __init__(self, n, dispatcher_config=None, worker_ports=None):
        self.dispatcher = svc.DispatchServer(dispatcher_config)
        addr = self.dispatcher.target.split("://")[1]
        ports = worker_ports or [0] * n
        self.workers = [
            svc.WorkerServer(svc.WorkerConfig(dispatcher_address=addr, port=p)) for p in ports
        ]

    @property
    def target(self):
        return self.dispatcher.target

    def stop(self):
        for w in self.workers:
            w._stop()
        self.dispatcher._stop()


@pytest.fixture
def make_cluster():
    made = []

    def make(n=1, **kw):
        c = Cluster(n, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.stop()
