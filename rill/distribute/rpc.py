"""``tf.distribute.experimental.rpc``: call registered ``tf.function``s of a server.

The wire is rill's own, over TCP from the standard library: each message is a 4-byte
length, a JSON header, then the raw bytes of its tensors. A tensor travels as its dtype
name, shape and little-endian buffer (strings as lengths plus bytes), and is rebuilt
with ``np.frombuffer``: nothing received is ever unpickled or evaluated. Only
``rpc_layer="grpc"`` is accepted, as in TF, so programs keep their spelling.
"""

from __future__ import annotations

import json
import socket
import socketserver
import struct
import threading

import numpy as np

from rill import errors
from rill.core import dtypes as _dtypes
from rill.core import nest
from rill.ops._op import tf_export

__all__ = ["Server", "Client", "StatusOrResult"]

_MAX_MESSAGE = 1 << 31


# --------------------------------------------------------------------------- the wire
def _encode_tensors(tensors) -> tuple[list, bytes]:
    metas, chunks = [], []
    for t in tensors:
        dtype = t.dtype
        arr = np.asarray(t.numpy() if hasattr(t, "numpy") else t)
        if dtype == _dtypes.string:
            items = [x if isinstance(x, bytes) else str(x).encode() for x in arr.reshape(-1)]
            metas.append(
                {"dtype": "string", "shape": list(arr.shape), "lengths": [len(x) for x in items]}
            )
            chunks.extend(items)
        else:
            data = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
            metas.append({"dtype": dtype.name, "shape": list(arr.shape), "nbytes": len(data)})
            chunks.append(data)
    return metas, b"".join(chunks)


def _decode_tensors(metas, payload: bytes) -> list:
    import rill as tf

    out, pos = [], 0
    for m in metas:
        shape = tuple(int(d) for d in m["shape"])
        if m["dtype"] == "string":
            items = []
            for n in m["lengths"]:
                items.append(payload[pos : pos + n])
                pos += n
            arr = np.array(items, dtype=object).reshape(shape)
            out.append(tf.constant(arr, dtype=tf.string))
            continue
        dtype = _dtypes.as_dtype(m["dtype"])  # a dtype name rill knows, or an error
        n = int(m["nbytes"])
        np_dtype = np.dtype(dtype.as_numpy_dtype).newbyteorder("<")
        arr = np.frombuffer(payload[pos : pos + n], dtype=np_dtype).reshape(shape)
        pos += n
        out.append(tf.constant(arr.astype(arr.dtype.newbyteorder("=")), dtype=dtype))
    if pos != len(payload):
        raise errors.DataLossError(None, None, "rpc: message payload longer than its tensors.")
    return out


def _send(sock, header: dict, tensors=()) -> None:
    metas, payload = _encode_tensors(tensors)
    head = json.dumps({**header, "tensors": metas}).encode()
    sock.sendall(struct.pack("<II", len(head), len(payload)) + head + payload)


def _recv_exact(sock, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise errors.UnavailableError(None, None, "rpc: connection closed by the peer.")
        buf += chunk
    return bytes(buf)


def _recv(sock) -> tuple[dict, list]:
    head_len, payload_len = struct.unpack("<II", _recv_exact(sock, 8))
    if head_len > _MAX_MESSAGE or payload_len > _MAX_MESSAGE:
        raise errors.DataLossError(None, None, "rpc: message too large.")
    header = json.loads(_recv_exact(sock, head_len).decode())
    return header, _decode_tensors(header.get("tensors", []), _recv_exact(sock, payload_len))


# specs as JSON: nests of TensorSpecs, lists, tuples, dicts and None
def _spec_to_json(spec):
    from rill.core.tensor import TensorSpec

    if spec is None:
        return None
    if isinstance(spec, TensorSpec):
        shape = None if spec.shape.rank is None else list(spec.shape.as_list())
        return {"spec": [shape, spec.dtype.name]}
    if isinstance(spec, dict):
        return {"dict": {str(k): _spec_to_json(v) for k, v in spec.items()}}
    if isinstance(spec, (list, tuple)):
        return {"tuple" if isinstance(spec, tuple) else "list": [_spec_to_json(s) for s in spec]}
    raise TypeError(f"rpc: cannot describe output of type {type(spec).__name__} as a spec.")


def _spec_from_json(j):
    from rill.core.tensor import TensorSpec

    if j is None:
        return None
    if "spec" in j:
        shape, dtype = j["spec"]
        return TensorSpec(shape, _dtypes.as_dtype(dtype))
    if "dict" in j:
        return {k: _spec_from_json(v) for k, v in j["dict"].items()}
    if "tuple" in j:
        return tuple(_spec_from_json(v) for v in j["tuple"])
    return [_spec_from_json(v) for v in j["list"]]


def _error_class(code: int):
    for name in dir(errors):
        cls = getattr(errors, name)
        if (
            isinstance(cls, type)
            and issubclass(cls, errors.OpError)
            and cls is not errors.OpError
            and getattr(cls, "error_code", None) == code
        ):
            return cls
    return errors.UnknownError


def _parse_address(address: str) -> tuple[str, int]:
    host, sep, port = str(address).rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"rpc: address must be 'host:port'; got {address!r}.")
    return host.strip("[]") or "localhost", int(port)


def _check_layer(rpc_layer) -> None:
    if rpc_layer != "grpc":
        raise ValueError("Only GRPC backend is supported at the moment.")


# --------------------------------------------------------------------------- server
class _Method:
    def __init__(self, concrete):
        self.fn = concrete
        args, _ = concrete.structured_input_signature
        self.input_specs = tuple(args)
        self.output_specs = nest.map_structure(_spec_of, concrete.structured_outputs)


def _spec_of(t):
    from rill.core.tensor import TensorSpec

    return TensorSpec(t.shape, t.dtype) if hasattr(t, "dtype") else None


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        server = self.server.rpc_server
        try:
            header, tensors = _recv(self.request)
        except Exception:  # a malformed request: drop the connection
            return
        if header.get("op") == "list":
            methods = {
                name: {
                    "inputs": [_spec_to_json(s) for s in m.input_specs],
                    "outputs": _spec_to_json(m.output_specs),
                }
                for name, m in server._methods.items()
            }
            _send(self.request, {"code": 0, "methods": methods})
            return
        try:
            flat = server._invoke(header.get("method"), tensors)
        except Exception as e:
            code = getattr(e, "error_code", errors.UNKNOWN)
            message = getattr(e, "message", None) or str(e)
            _send(self.request, {"code": int(code), "message": message})
            return
        _send(self.request, {"code": 0}, flat)


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@tf_export("distribute.experimental.rpc.Server")
class Server:
    """Serves registered ``tf.function``s to ``Client``s."""

    @staticmethod
    def create(rpc_layer, address) -> Server:
        """A server for ``address`` (``"host:port"``); ``rpc_layer`` must be ``"grpc"``."""
        _check_layer(rpc_layer)
        return Server(address)

    def __init__(self, address):
        self._address = _parse_address(address)
        self._methods: dict = {}
        self._tcp = None
        self._serving = False
        self._lock = threading.Lock()

    @property
    def address(self) -> str:
        """``host:port`` the server listens on (the bound port once started)."""
        host, port = self._tcp.server_address[:2] if self._tcp else self._address
        return f"{host}:{port}"

    def register(self, method_name: str, func) -> None:
        """Serve ``func`` (a ``tf.function`` with an ``input_signature``, or a concrete
        function) as ``method_name``."""
        from rill.tracing.polymorphic import ConcreteFunction, Function

        if isinstance(func, Function):
            if func.input_signature is None and func._sig.parameters:
                raise ValueError("Input signature not specified for the function.")
            func = func.get_concrete_function()
        if not isinstance(func, ConcreteFunction):
            raise ValueError("Only TF functions are supported with Register method")
        with self._lock:
            self._methods[method_name] = _Method(func)

    def start(self) -> None:
        """Start serving, on a background thread."""
        if self._serving:
            return
        self._serving = True
        threading.Thread(
            target=self._bind().serve_forever, name="rill-rpc-server", daemon=True
        ).start()

    def _bind(self, host=None):
        """The listening socket, bound now if it is not yet (on ``host``, default the
        address's own): ``tf.distribute.Server`` binds when it is made, as TF does, and
        serves later."""
        if self._tcp is None:
            addr_host, port = self._address
            self._tcp = _TCPServer((addr_host if host is None else host, port), _Handler)
            self._tcp.rpc_server = self
        return self._tcp

    def _invoke(self, method_name, tensors) -> list:
        method = self._methods.get(method_name)
        if method is None:
            raise errors.UnimplementedError(
                None,
                None,
                f"rpc: method {method_name!r} is not registered with this server; "
                f"registered: {sorted(self._methods)}.",
            )
        specs = nest.flatten(method.input_specs)
        if len(specs) != len(tensors):
            raise errors.InvalidArgumentError(
                None,
                None,
                f"rpc method {method_name!r} takes {len(specs)} tensors; got {len(tensors)}.",
            )
        for spec, t in zip(specs, tensors):
            if t.dtype != spec.dtype or not spec.shape.is_compatible_with(t.shape):
                raise errors.InvalidArgumentError(
                    None,
                    None,
                    f"rpc method {method_name!r}: argument {t.dtype.name}{list(t.shape)} "
                    f"does not match its spec {spec}.",
                )
        args = nest.pack_sequence_as(method.input_specs, tensors)
        result = method.fn(*args)
        return [t for t in nest.flatten(result) if t is not None]

    def _stop(self) -> None:
        """Stop serving and close the socket."""
        if self._tcp is not None:
            if self._serving:  # shutdown() waits for a serving loop: only when one runs
                self._tcp.shutdown()
            self._tcp.server_close()
            self._tcp = None
        self._serving = False


# --------------------------------------------------------------------------- client
@tf_export("distribute.experimental.rpc.Client")
class Client:
    """Calls the methods of a ``Server``: ``call(...)`` or ``client.<method>(...)``."""

    @staticmethod
    def create(rpc_layer, address, name="", timeout_in_ms=0) -> Client:
        """A client of the server at ``address``, with a method (and ``<method>_blocking``)
        per method the server has registered."""
        _check_layer(rpc_layer)
        return Client(address, name, timeout_in_ms)

    def __init__(self, address, name="", timeout_in_ms=0):
        self._address = _parse_address(address)
        self._name = name
        self._timeout_in_ms = timeout_in_ms
        self._method_registry: dict = {}
        header, _ = self._exchange({"op": "list"}, (), timeout_in_ms)
        for method, desc in header.get("methods", {}).items():
            inputs = tuple(_spec_from_json(s) for s in desc["inputs"])
            outputs = _spec_from_json(desc["outputs"])
            self._method_registry[method] = outputs
            self._add_method(method, inputs, outputs)

    def _add_method(self, method_name, input_specs, output_specs):
        def call(*args, timeout_in_ms=0):
            if input_specs:
                nest.assert_same_structure(tuple(args), input_specs)
            return self.call(method_name, list(args), output_specs, timeout_in_ms)

        def call_blocking(*args, timeout_in_ms=0):
            result = call(*args, timeout_in_ms=timeout_in_ms)
            result._wait()
            if result._code == 0:
                return result.get_value()
            raise _error_class(result._code)(None, None, result._message)

        call.__doc__ = f"RPC call of method {method_name!r} (returns a StatusOrResult)."
        call_blocking.__doc__ = f"RPC call of method {method_name!r}: its value, or its error."
        self.__dict__[method_name] = call
        self.__dict__[method_name + "_blocking"] = call_blocking

    def _exchange(self, header, tensors, timeout_in_ms):
        timeout_ms = timeout_in_ms or self._timeout_in_ms
        try:
            with socket.create_connection(
                self._address, timeout=timeout_ms / 1000 if timeout_ms else None
            ) as sock:
                _send(sock, header, tensors)
                return _recv(sock)
        except TimeoutError as e:
            raise errors.DeadlineExceededError(
                None,
                None,
                f"rpc to {self._address[0]}:{self._address[1]} timed out after {timeout_ms} ms.",
            ) from e
        except OSError as e:
            raise errors.UnavailableError(
                None, None, f"rpc: cannot reach {self._address[0]}:{self._address[1]}: {e}"
            ) from e

    def call(self, method_name, args=None, output_specs=None, timeout_in_ms=0):
        """Start a call of ``method_name`` on the server; returns a ``StatusOrResult`` that
        blocks until it is done."""
        import rill as tf

        flat = [tf.convert_to_tensor(a) for a in nest.flatten(args if args is not None else [])]
        return StatusOrResult(self, method_name, flat, output_specs, timeout_in_ms)


class StatusOrResult:
    """The status and result of one ``Client.call`` (it runs on a background thread)."""

    def __init__(self, client, method_name, flat_args, output_specs, timeout_in_ms):
        self._output_specs = output_specs
        self._code, self._message, self._values = None, "", []
        self._thread = threading.Thread(
            target=self._run, args=(client, method_name, flat_args, timeout_in_ms), daemon=True
        )
        self._thread.start()

    def _run(self, client, method_name, flat_args, timeout_in_ms):
        try:
            header, values = client._exchange(
                {"op": "call", "method": method_name}, flat_args, timeout_in_ms
            )
            self._code, self._message, self._values = (
                header["code"],
                header.get("message", ""),
                values,
            )
        except errors.OpError as e:
            self._code, self._message = e.error_code, e.message
        except Exception as e:  # anything else is the call's failure, not the thread's
            self._code, self._message = errors.UNKNOWN, f"{type(e).__name__}: {e}"

    def _wait(self):
        self._thread.join()

    def is_ok(self):
        """True (a bool tensor) when the call succeeded; blocks until it is done."""
        import rill as tf

        self._wait()
        return tf.constant(self._code == 0)

    def get_error(self):
        """``(error code, message)`` as int64 and string tensors; blocks."""
        import rill as tf

        self._wait()
        return tf.constant(self._code, tf.int64), tf.constant(self._message)

    def get_value(self):
        """The method's result, structured as ``output_specs`` (None without them)."""
        self._wait()
        if self._code != 0:
            raise _error_class(self._code)(None, None, self._message)
        if self._output_specs is None:
            return None
        return nest.pack_sequence_as(self._output_specs, self._values)
