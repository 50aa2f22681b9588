"""tf.distribute.experimental.rpc over loopback TCP: values, structures, errors."""

import socket
import struct

import numpy as np
import pytest

import rill as tf
from rill.distribute.experimental import rpc

I32 = tf.TensorSpec([], tf.int32)


@tf.function(input_signature=[I32, I32])
def _add(a, b):
    return tf.add(a, b)


@tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float64), tf.TensorSpec([], tf.string)])
def _stats(x, tag):
    return {"sum": tf.reduce_sum(x, axis=0), "pair": (tf.shape(x), tf.strings.join([tag, "!"]))}


@tf.function(input_signature=[tf.TensorSpec([], tf.float32)])
def _positive(x):
    tf.debugging.assert_positive(x)
    return x


@tf.function
def _no_args():
    return tf.constant([1, 2, 3], tf.int64)


@pytest.fixture(scope="module")
def server():
    s = rpc.Server.create("grpc", "localhost:0")
    s.register("addition", _add)
    s.register("stats", _stats)
    s.register("positive", _positive)
    s.register("no_args", _no_args)
    s.register("concrete", _add.get_concrete_function())
    s.start()
    yield s
    s._stop()


@pytest.fixture
def client(server):
    return rpc.Client.create("grpc", server.address, name="test")


def test_call_and_generated_methods(client):
    r = client.call("addition", [tf.constant(2), tf.constant(3)], tf.TensorSpec((), tf.int32))
    assert bool(r.is_ok()) and int(r.get_value()) == 5
    code, msg = r.get_error()
    assert code.dtype == tf.int64 and int(code) == 0
    assert int(client.addition(tf.constant(40), tf.constant(2)).get_value()) == 42
    assert int(client.addition_blocking(tf.constant(-7), tf.constant(3))) == -4
    assert int(client.concrete_blocking(tf.constant(1), tf.constant(1))) == 2
    np.testing.assert_array_equal(client.no_args_blocking().numpy(), [1, 2, 3])
    # call without output specs: TF returns None
    assert client.call("addition", [tf.constant(1), tf.constant(1)]).get_value() is None


def test_structures_and_strings(client):
    x = np.random.default_rng(0).normal(size=(5, 2))
    out = client.stats_blocking(tf.constant(x), tf.constant("hi"))
    np.testing.assert_allclose(out["sum"].numpy(), x.sum(axis=0))
    assert out["sum"].dtype == tf.float64
    np.testing.assert_array_equal(out["pair"][0].numpy(), [5, 2])
    assert out["pair"][1].numpy() == b"hi!"


def test_remote_errors(client):
    r = client.positive(tf.constant(-1.0))
    assert not bool(r.is_ok())
    code, msg = r.get_error()
    assert int(code) == tf.errors.INVALID_ARGUMENT and b"Condition" in msg.numpy()
    with pytest.raises(tf.errors.InvalidArgumentError):
        client.positive_blocking(tf.constant(-1.0))
    with pytest.raises(tf.errors.InvalidArgumentError):
        r.get_value()
    bad = client.call("addition", [tf.constant(1.0), tf.constant(2.0)])  # wrong dtype
    assert int(bad.get_error()[0]) == tf.errors.INVALID_ARGUMENT
    missing = client.call("nope", [])
    assert int(missing.get_error()[0]) == tf.errors.UNIMPLEMENTED
    with pytest.raises(ValueError):  # structure checked on the client, as TF
        client.addition(tf.constant(1))


def test_construction_errors(server):
    with pytest.raises(ValueError, match="GRPC"):
        rpc.Server.create("http", "localhost:0")
    with pytest.raises(ValueError, match="GRPC"):
        rpc.Client.create("http", server.address)
    with pytest.raises(ValueError, match="Input signature"):
        server.register("nosig", tf.function(lambda a: a))
    with pytest.raises(ValueError, match="Only TF functions"):
        server.register("plain", lambda a: a)
    s = socket.socket()
    s.bind(("localhost", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(tf.errors.UnavailableError):
        rpc.Client.create("grpc", f"localhost:{port}")


def test_garbage_is_not_executed(server, client):
    # a frame whose header names a dtype rill does not know is refused, not interpreted
    host, port = server.address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        head = b'{"op": "call", "method": "addition", "tensors": [{"dtype": "object", "shape": [], "nbytes": 0}]}'
        sock.sendall(struct.pack("<II", len(head), 0) + head)
        assert sock.recv(10) == b""  # the server drops the connection
    assert int(client.addition_blocking(tf.constant(1), tf.constant(2))) == 3  # still serving


def test_against_tensorflow_signature():
    tf_real = pytest.importorskip("tensorflow")
    rpc_tf = tf_real.distribute.experimental.rpc
    import inspect

    for name in ("create",):
        assert list(inspect.signature(getattr(rpc_tf.Client, name)).parameters) == list(
            inspect.signature(getattr(rpc.Client, name)).parameters
        )
        assert list(inspect.signature(getattr(rpc_tf.Server, name)).parameters) == list(
            inspect.signature(getattr(rpc.Server, name)).parameters
        )
    assert list(inspect.signature(rpc_tf.Client.call).parameters) == list(
        inspect.signature(rpc.Client.call).parameters
    )
