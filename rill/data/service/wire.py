"""The tf.data service's wire protocol: length-prefixed frames over TCP, standard library only.

A frame is ``header length (u32) | payload length (u64) | header | payload``: the header is
a small JSON object (the method and its arguments, or a reply's status), the payload the
raw bytes of dataset elements in rill's saved-dataset leaf encoding (``save_load``).
Nothing received is unpickled or executed: a header is JSON, an element is arrays.
"""

from __future__ import annotations

import io
import json
import socket
import socketserver
import struct
import threading

from rill.core import errors as _errors

_FRAME = struct.Struct("<IQ")
_MAX_HEADER = 1 << 24  # a header is a few hundred bytes; anything bigger is not ours


def _recv_exact(sock, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        b = sock.recv(min(n - got, 1 << 20))
        if not b:
            return None
        chunks.append(b)
        got += len(b)
    return b"".join(chunks)


def send_msg(sock, header: dict, payload: bytes = b"") -> None:
    """Send one frame."""
    h = json.dumps(header).encode()
    sock.sendall(_FRAME.pack(len(h), len(payload)) + h + payload)


def recv_msg(sock) -> tuple[dict, bytes] | None:
    """Receive one frame; None when the peer closed the connection."""
    head = _recv_exact(sock, _FRAME.size)
    if head is None:
        return None
    hlen, plen = _FRAME.unpack(head)
    if hlen > _MAX_HEADER:
        raise ConnectionError("tf.data service: malformed frame (header too large).")
    h = _recv_exact(sock, hlen)
    p = _recv_exact(sock, plen) if plen else b""
    if h is None or p is None:
        return None
    return json.loads(h.decode()), p


# --------------------------------------------------------------------------------------
# Errors across the wire: by class name, resolved only among rill's error classes
# --------------------------------------------------------------------------------------

_PLAIN = {
    "ValueError": ValueError,
    "TypeError": TypeError,
    "NotImplementedError": NotImplementedError,
}


def service_error(cls, op: str, detail: str) -> Exception:
    """An error raised inside a server: the caller's call site is in another thread or
    process, so unlike ``op_error`` it names only the op."""
    return cls(None, op, f"{op}: {detail}")


def error_reply(exc: BaseException) -> dict:
    """The reply header that carries ``exc`` to the caller."""
    return {"ok": False, "error": type(exc).__name__, "message": str(exc)}


def raise_reply(header: dict, op: str) -> None:
    """Raise the error a reply carries, as the same rill error class where there is one."""
    name, msg = header.get("error", ""), header.get("message", "")
    cls = getattr(_errors, name, None)
    if isinstance(cls, type) and issubclass(cls, _errors.OpError):
        raise cls(None, op, msg)
    if name in _PLAIN:
        raise _PLAIN[name](msg)
    raise _errors.InternalError(None, op, f"{name}: {msg}")


# --------------------------------------------------------------------------------------
# Client side
# --------------------------------------------------------------------------------------


def split_address(address: str) -> tuple[str, int]:
    """``"localhost:5050"`` -> ``("127.0.0.1", 5050)`` (the servers bind to loopback)."""
    if "://" in address:
        address = address.split("://", 1)[1]
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"tf.data service: malformed address {address!r}; expected 'host:port'.")
    if host in ("localhost", "", "0.0.0.0"):
        host = "127.0.0.1"  # skip the IPv6 attempt that "localhost" may resolve to first
    return host, int(port)


class Connection:
    """A persistent connection to one server; calls from several threads take turns."""

    def __init__(self, address: str, timeout: float | None = 60.0):
        self.address = address
        self._timeout = timeout
        self._sock = None
        self._lock = threading.Lock()

    def call(self, method: str, payload: bytes = b"", **args) -> tuple[dict, bytes]:
        """Send ``method(**args)`` and return the reply (raising the error it carries)."""
        with self._lock:
            for attempt in (0, 1):
                try:
                    if self._sock is None:
                        self._sock = socket.create_connection(
                            split_address(self.address), timeout=self._timeout
                        )
                    send_msg(self._sock, {"method": method, **args}, payload)
                    reply = recv_msg(self._sock)
                    if reply is None:
                        raise ConnectionError("connection closed by the server")
                    break
                except OSError as e:
                    self._close_locked()
                    # a kept-alive connection may have gone stale: retry once on a fresh one
                    if attempt == 1:
                        raise _errors.UnavailableError(
                            None,
                            method,
                            f"tf.data service at {self.address} is unreachable ({e}).",
                        ) from None
        header, body = reply
        if not header.get("ok", False):
            raise_reply(header, method)
        return header, body

    def _close_locked(self):
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def close(self) -> None:
        """Close the connection (a later call reconnects)."""
        with self._lock:
            self._close_locked()


# --------------------------------------------------------------------------------------
# Server side
# --------------------------------------------------------------------------------------


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        srv = self.server
        srv.track(self.request, True)
        try:
            while True:
                try:
                    msg = recv_msg(self.request)
                except (OSError, ValueError):
                    return
                if msg is None:
                    return
                header, payload = msg
                try:
                    reply, body = srv.owner.handle(header.pop("method", ""), header, payload)
                    reply = {"ok": True, **reply}
                except Exception as e:  # noqa: BLE001 - every failure goes back to the caller
                    reply, body = error_reply(e), b""
                try:
                    send_msg(self.request, reply, body)
                except OSError:
                    return
        finally:
            srv.track(self.request, False)


class Server(socketserver.ThreadingTCPServer):
    """A loopback TCP server that answers each frame with ``owner.handle(method, args,
    payload) -> (reply dict, payload)``, one thread per connection."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, owner):
        self.owner = owner
        self._conns: set = set()
        self._conns_lock = threading.Lock()
        super().__init__(("127.0.0.1", int(port)), _Handler)
        self._thread = None

    @property
    def port(self) -> int:
        return self.server_address[1]

    def track(self, sock, add: bool) -> None:
        with self._conns_lock:
            (self._conns.add if add else self._conns.discard)(sock)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread = None
        self.server_close()
        # wake the per-connection threads blocked in recv so that clients see EOF
        with self._conns_lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class ServerHandle:
    """What the dispatcher and worker servers share: a ``Server`` (``_server``) run until
    ``_stopped`` is set by the subclass's ``_stop``."""

    def join(self) -> None:
        """Block until the server is stopped."""
        while not self._stopped.wait(0.5):
            pass

    def __del__(self):
        try:
            self._stop()
        except Exception:  # noqa: BLE001, S110 - interpreter shutdown
            pass

    @property
    def _address(self) -> str:
        return f"localhost:{self._server.port}"


# --------------------------------------------------------------------------------------
# Elements
# --------------------------------------------------------------------------------------


def encode_element(leaves, specs) -> bytes:
    """One element (a tuple of NumPy leaves) as bytes, in the saved-dataset leaf encoding."""
    from rill.data.save_load import _encode_leaf

    return b"".join(_encode_leaf(a, sp) for a, sp in zip(leaves, specs))


def decode_element(data: bytes, specs) -> tuple:
    """The element (a tuple of NumPy leaves) that ``encode_element`` wrote."""
    from rill.data.save_load import read_elements

    for leaves in read_elements(io.BytesIO(data), specs, "<tf.data service>"):
        return leaves
    return ()
