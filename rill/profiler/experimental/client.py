"""``tf.profiler.experimental.client``: profile a process running
``tf.profiler.experimental.server.start(port)``, from another process or this one."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request

from rill.core.errors import InvalidArgumentError, UnavailableError

_GRPC_PREFIX = "grpc://"


def _address(addr: str) -> str:
    addr = addr.strip()
    return addr[len(_GRPC_PREFIX) :] if addr.startswith(_GRPC_PREFIX) else addr


def _request(addr, path, params, timeout_s, attempts):
    url = f"http://{_address(addr)}{path}?{urllib.parse.urlencode(params)}"
    last = None
    for _ in range(max(int(attempts), 1)):
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as r:
                return json.loads(r.read().decode())
        except urllib.error.HTTPError as e:
            body = json.loads(e.read().decode() or "{}")
            last = body.get("error", str(e))
        except (urllib.error.URLError, OSError) as e:
            last = str(getattr(e, "reason", e))
        time.sleep(0.05)
    raise UnavailableError(None, None, f"Failed to profile {addr}: {last}")


def trace(service_addr, logdir, duration_ms, worker_list="", num_tracing_attempts=3,
          options=None) -> None:  # fmt: skip
    """Profile the server(s) at ``service_addr`` (or each of ``worker_list``, comma
    separated) for ``duration_ms`` and write their traces under ``logdir``."""
    from rill.profiler.experimental import write_trace

    if duration_ms <= 0:
        raise InvalidArgumentError(None, None, "duration_ms must be greater than zero.")
    workers = [w for w in (worker_list or service_addr).split(",") if w.strip()]
    timeout_s = duration_ms / 1000.0 + 30.0
    for w in workers:
        body = _request(w, "/trace", {"duration_ms": duration_ms}, timeout_s,
                        num_tracing_attempts)  # fmt: skip
        host = (
            body["host"]
            if len(workers) == 1
            else f"{body['host']}_{_address(w).rsplit(':', 1)[-1]}"
        )
        write_trace(logdir, body["trace"], body["start_wall"], host)


def monitor(service_addr, duration_ms, level=1) -> str:
    """A text summary of the ops the server at ``service_addr`` ran in ``duration_ms``
    (level 2 adds a line per op)."""
    body = _request(service_addr, "/monitor", {"duration_ms": duration_ms, "level": level},
                    duration_ms / 1000.0 + 30.0, 1)  # fmt: skip
    return body["summary"]
