"""tf.distribute.Server: TF's ServerDef rules (checked against TF where installed), a real
listener on the task's port that rill RPC clients reach, and join() blocking until it
stops."""

import gc
import re
import socket
import threading

import pytest

import rill as tf
from rill import errors

pytest.importorskip("google.protobuf")


def _free_port():
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def test_local_server_listens_on_its_target_and_answers_rpc_clients():
    server = tf.distribute.Server.create_local_server()
    m = re.fullmatch(r"grpc://localhost:(\d+)", server.target)
    assert m and int(m.group(1)) > 0
    port = int(m.group(1))
    with socket.create_connection(("localhost", port), timeout=5):
        pass
    client = tf.distribute.experimental.rpc.Client.create("grpc", f"localhost:{port}")
    assert client._method_registry == {}  # a server with no methods registered
    sd = server.server_def
    assert (sd.job_name, sd.task_index, sd.protocol) == ("localhost", 0, "grpc")
    assert tf.train.ClusterSpec(sd.cluster).as_dict() == {"localhost": ["localhost:0"]}
    server._stop()


def test_cluster_task_binds_its_port_before_start():
    port = _free_port()
    cluster = tf.train.ClusterSpec({"worker": ["localhost:0", f"localhost:{port}"]})
    server = tf.distribute.Server(cluster, job_name="worker", task_index=1, start=False)
    assert server.target == f"grpc://localhost:{port}"
    # bound already: a second server on the same task fails, as TF's does
    with pytest.raises(errors.UnknownError, match=str(port)):
        tf.distribute.Server(cluster, job_name="worker", task_index=1)
    server.start()
    server.start()  # a second start does nothing
    with socket.create_connection(("localhost", port), timeout=5):
        pass
    server._stop()


def test_join_blocks_until_the_server_stops():
    server = tf.distribute.Server.create_local_server()
    joined = threading.Event()
    t = threading.Thread(target=lambda: (server.join(), joined.set()), daemon=True)
    t.start()
    assert not joined.wait(0.3)  # still serving
    server._stop()
    assert joined.wait(5)


def test_dropped_server_frees_its_port():
    server = tf.distribute.Server.create_local_server()
    port = int(server.target.rsplit(":", 1)[1])
    del server
    gc.collect()
    with socket.socket() as s:  # the port is free again
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("", port))


def _server_def_errors(mod):
    """(class name, key phrase) of each bad construction, for rill or TF."""
    out = []
    cases = [
        (({"a": ["x:1"], "b": ["y:1"]},), {}),
        (({"a": ["x:1", "x:2"]},), {}),
        ((3,), {}),
        (({"a": ["localhost:1"]},), {"protocol": "http"}),
    ]
    for args, kwargs in cases:
        with pytest.raises(Exception) as info:
            mod.distribute.Server(*args, start=False, **kwargs)
        out.append(type(info.value).__name__)
    return out


def test_bad_definitions_raise_tf_errors():
    assert _server_def_errors(tf) == ["ValueError", "ValueError", "TypeError", "NotFoundError"]
    with pytest.raises(ValueError, match="job_name"):
        tf.distribute.Server({"a": ["x:1"], "b": ["y:1"]})
    with pytest.raises(ValueError, match="task_index"):
        tf.distribute.Server({"a": ["x:1", "x:2"]})


def test_matches_tensorflow():
    real = pytest.importorskip("tensorflow")
    assert _server_def_errors(real) == _server_def_errors(tf)
    cluster = {"ps": [f"localhost:{_free_port()}"], "worker": [f"localhost:{_free_port()}"]}
    # each rill server is stopped before TF's binds the same port (TF's are never freed)
    ours = tf.distribute.Server(cluster, job_name="worker", start=False)
    got = ours.server_def.SerializeToString(deterministic=True)
    ours._stop()
    want = real.distribute.Server(cluster, job_name="worker", start=False).server_def
    assert got == want.SerializeToString(deterministic=True)
    # a ServerDef's fields are overridden by the arguments
    sd = tf.train.ServerDef()
    sd.ParseFromString(want.SerializeToString())
    real_sd = real.train.ServerDef()
    real_sd.ParseFromString(want.SerializeToString())
    ours = tf.distribute.Server(sd, job_name="ps", task_index=0, start=False)
    got = ours.server_def.SerializeToString(deterministic=True)
    assert ours.target == "grpc://localhost:" + cluster["ps"][0].split(":")[1]
    ours._stop()
    exp = real.distribute.Server(real_sd, job_name="ps", task_index=0, start=False)
    assert got == exp.server_def.SerializeToString(deterministic=True)
    assert exp.target == "grpc://localhost:" + cluster["ps"][0].split(":")[1]
