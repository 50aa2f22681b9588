"""``tf.distribute.Server``: a task's server in a cluster, over rill's own RPC layer.

TF's server is its gRPC runtime, which remote sessions and eager contexts drive. rill has
neither (its workers are MPI ranks), so a ``Server`` here is what can be real without
them: it binds the port of its task in the ``ClusterSpec`` when made (port 0: one the OS
picks), answers ``tf.distribute.experimental.rpc`` clients on it once started (so a
peer can check that the task is up, and a program may serve ``tf.function``\\ s through
the ``rpc`` API on the same listener), and names itself ``grpc://localhost:<port>`` as
TF does. ``join()`` blocks until the server stops, which happens when it is garbage
collected or the process ends (TF has no public stop either).
"""

from __future__ import annotations

import threading

from rill.core import errors
from rill.ops._op import tf_export

__all__ = ["Server"]

_PROTOCOLS = ("grpc",)


def _make_server_def(server_or_cluster_def, job_name, task_index, protocol, config):
    """TF's rules: a ``ServerDef`` with the overrides applied, or one built from a
    cluster whose job and task must be named unless there is only one of each."""
    from rill.train.cluster import ClusterSpec, ServerDef

    if isinstance(server_or_cluster_def, ServerDef):
        server_def = ServerDef()
        server_def.MergeFrom(server_or_cluster_def)
        if job_name is not None:
            server_def.job_name = job_name
        if task_index is not None:
            server_def.task_index = task_index
        if protocol is not None:
            server_def.protocol = protocol
        return server_def
    try:
        cluster_spec = ClusterSpec(server_or_cluster_def)
    except TypeError:
        raise TypeError(
            "Could not convert `server_or_cluster_def` to a `tf.train.ServerDef` or "
            f"`tf.train.ClusterSpec`; got {type(server_or_cluster_def).__name__}."
        ) from None
    if job_name is None:
        if len(cluster_spec.jobs) != 1:
            raise ValueError(
                f"Must specify an explicit `job_name`: the cluster has jobs {cluster_spec.jobs}."
            )
        job_name = cluster_spec.jobs[0]
    if task_index is None:
        indices = cluster_spec.task_indices(job_name)
        if len(indices) != 1:
            raise ValueError(
                f"Must specify an explicit `task_index`: job {job_name!r} has tasks {indices}."
            )
        task_index = indices[0]
    return ServerDef(
        cluster=cluster_spec.as_cluster_def(),
        job_name=job_name,
        task_index=task_index,
        protocol="grpc" if protocol is None else protocol,
    )


def _port_of(server_def) -> int:
    from rill.train.cluster import ClusterSpec

    spec = ClusterSpec(server_def.cluster)
    try:
        address = spec.task_address(server_def.job_name, server_def.task_index)
    except (KeyError, ValueError) as e:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"tf.distribute.Server: task {server_def.task_index} of job "
            f"{server_def.job_name!r} is not in the cluster {spec.as_dict()}.",
        ) from e
    if server_def.port:
        return int(server_def.port)  # ServerDef.port overrides the cluster's
    _, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise errors.InvalidArgumentError(
            None,
            None,
            f"tf.distribute.Server: the address {address!r} of task "
            f"/job:{server_def.job_name}/task:{server_def.task_index} has no port.",
        )
    return int(port)


def _serve(tcp, stopped: threading.Event) -> None:
    # holds the listener, not the Server, so that a dropped Server is collected (and
    # its __del__ stops this loop)
    try:
        tcp.serve_forever()
    finally:
        stopped.set()


@tf_export("distribute.Server")
class Server:
    """The server of one task of a cluster: listens on its port, answers rill RPC
    clients once started, and ``join()`` blocks until it stops."""

    def __init__(
        self,
        server_or_cluster_def,
        job_name=None,
        task_index=None,
        protocol=None,
        config=None,
        start=True,
    ):
        from rill.distribute import rpc

        self._server_def = _make_server_def(
            server_or_cluster_def, job_name, task_index, protocol, config
        )
        # sessions do not exist in rill, so a ConfigProto has nothing to configure
        self._config = config
        if self._server_def.protocol not in _PROTOCOLS:
            raise errors.NotFoundError(
                None,
                None,
                "No server factory registered for the given ServerDef: protocol "
                f"{self._server_def.protocol!r}. The available server factories are: "
                "[ GRPC_SERVER ] (protocol 'grpc').",
            )
        port = _port_of(self._server_def)
        self._rpc = rpc.Server(f"localhost:{port}")
        try:
            # bound now (as TF binds), on every interface, so that target is known and
            # a port already in use fails here
            self._tcp = self._rpc._bind(host="")
        except OSError as e:
            raise errors.UnknownError(
                None,
                None,
                f"Could not start server for /job:{self._server_def.job_name}/task:"
                f"{self._server_def.task_index} on port {port}: {e}.",
            ) from e
        self._thread = None
        self._stopped = threading.Event()
        if start:
            self.start()

    @property
    def server_def(self):
        """The ``tf.train.ServerDef`` describing this server."""
        return self._server_def

    @property
    def target(self) -> str:
        """``grpc://localhost:<port>``, the port bound (the OS's choice for port 0)."""
        return f"grpc://localhost:{self._tcp.server_address[1]}"

    def start(self) -> None:
        """Start answering on the bound port (a second call does nothing)."""
        if self._thread is not None or self._stopped.is_set():
            return
        self._thread = threading.Thread(
            target=_serve,
            args=(self._tcp, self._stopped),
            name=f"rill-server-{self._server_def.job_name}-{self._server_def.task_index}",
            daemon=True,
        )
        self._thread.start()

    def join(self) -> None:
        """Block until the server stops (as in TF, normally for as long as the process
        lives: a task that only serves calls ``join()`` last)."""
        self._stopped.wait()

    def _stop(self) -> None:
        """Stop serving and free the port."""
        if self._thread is not None:
            self._tcp.shutdown()  # this server's own serving loop (see _serve)
        self._rpc._stop()  # closes the socket
        self._stopped.set()

    def __del__(self):
        try:
            if not self._stopped.is_set():
                self._stop()
        except Exception:  # a half-made server, or interpreter shutdown
            pass

    @staticmethod
    def create_local_server(config=None, start=True) -> Server:
        """A server alone in a one-task cluster (job ``"localhost"``) on a port the OS
        picks."""
        return Server({"localhost": ["localhost:0"]}, protocol="grpc", config=config, start=start)
