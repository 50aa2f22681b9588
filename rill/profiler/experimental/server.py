"""``tf.profiler.experimental.server``: let another process profile this one.

``start(port)`` serves on ``port`` (a background thread, HTTP): a client's ``trace``
profiles this process for the requested time and receives the trace; ``monitor``
receives a text summary of the ops run in that time.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
import urllib.parse

from rill.core.errors import AlreadyExistsError

_servers: dict = {}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server hook's name
        from rill.profiler import experimental as prof

        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        duration_ms = float(query.get("duration_ms", ["1000"])[0])
        if url.path not in ("/trace", "/monitor"):
            self.send_error(404, f"unknown request {url.path}: use /trace or /monitor")
            return
        try:
            prof.start("")  # logdir unused: the trace goes back to the client
        except AlreadyExistsError as e:
            self._reply(409, {"error": str(e)})
            return
        start_wall = time.time()
        time.sleep(duration_ms / 1000.0)
        session = prof._stop_session()
        doc = session.trace_document()
        if url.path == "/trace":
            body = {"host": socket.gethostname(), "start_wall": start_wall, "trace": doc}
        else:
            level = int(query.get("level", ["1"])[0])
            body = {"summary": _summary(doc["traceEvents"], duration_ms, level)}
        self._reply(200, body)

    def _reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # noqa: A002 - quiet: no line per request
        pass


def _summary(events, duration_ms, level) -> str:
    ops = [e for e in events if e.get("ph") == "X" and e.get("cat") == "op"]
    busy_ms = sum(e["dur"] for e in ops) / 1000.0
    lines = [
        f"Profiled {duration_ms:.0f} ms: {len(ops)} ops, kernel time {busy_ms:.3f} ms "
        f"({100.0 * busy_ms / max(duration_ms, 1e-9):.1f}% of the interval)"
    ]
    if level >= 2:
        per = {}
        for e in ops:
            n, t = per.get(e["name"], (0, 0.0))
            per[e["name"]] = (n + 1, t + e["dur"] / 1000.0)
        for name, (n, t) in sorted(per.items(), key=lambda kv: -kv[1][1]):
            lines.append(f"  {name}: {n} calls, {t:.3f} ms")
    return "\n".join(lines)


def start(port) -> None:
    """Serve profiling requests on ``port`` (all interfaces) from a daemon thread."""
    port = int(port)
    if port in _servers:
        raise AlreadyExistsError(None, None, f"A profiler server is already running on {port}.")
    srv = http.server.ThreadingHTTPServer(("", port), _Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, name=f"profiler-server-{port}",
                              daemon=True)  # fmt: skip
    thread.start()
    _servers[port] = srv


def _stop_all() -> None:
    """Shut the servers down (tests)."""
    for port, srv in list(_servers.items()):
        srv.shutdown()
        srv.server_close()
        del _servers[port]
