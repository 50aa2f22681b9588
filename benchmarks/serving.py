"""Load test of rill.serving on loopback: concurrent clients posting :predict requests to a
small digits-sized MLP, with batching off and on; stops by itself.

    .venv/bin/python benchmarks/serving.py [--seconds 20] [--clients 16]

Prints throughput, p50/p99 latency and the error count per mode, and the in-process
per-call time of the same loaded signature (the server's overhead is the difference).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np


def _port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _make_model(path):
    import rill as tf
    from rill import keras

    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64, activation="relu"),
                          keras.layers.Dense(10, activation="softmax")])  # fmt: skip
    tf.saved_model.save(m, os.path.join(path, "1"))


async def _clients(url, n_clients, seconds, body):
    import httpx

    lat, errors = [], 0
    stop = time.perf_counter() + seconds

    async def one(c):
        nonlocal errors
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            r = await c.post(url, content=body, headers={"content-type": "application/json"})
            lat.append(time.perf_counter() - t0)
            errors += r.status_code != 200

    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=n_clients)) as c:
        await asyncio.gather(*[one(c) for _ in range(n_clients)])
    return np.array(lat), errors


def run(seconds, clients):
    import json

    import httpx

    base = tempfile.mkdtemp()
    _make_model(base)
    x = np.random.default_rng(0).normal(size=(1, 64)).astype(np.float32)
    body = json.dumps({"instances": x.tolist()}).encode()
    for batching in (False, True):
        port = _port()
        cmd = [sys.executable, "-m", "rill.serving", "--model_name=digits",
               f"--model_base_path={base}", f"--rest_api_port={port}",
               "--rest_api_host=127.0.0.1", f"--enable_batching={batching}"]  # fmt: skip
        proc = subprocess.Popen(cmd, env=dict(os.environ, PYTHONPATH=os.getcwd()))
        try:
            url = f"http://127.0.0.1:{port}/v1/models/digits"
            for _ in range(300):
                try:
                    if httpx.get(url).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            lat, errors = asyncio.run(_clients(url + ":predict", clients, seconds, body))
            print(f"batching={'on ' if batching else 'off'}: {len(lat) / seconds:8.1f} req/s  "
                  f"p50 {np.percentile(lat, 50) * 1e3:6.2f} ms  p99 "
                  f"{np.percentile(lat, 99) * 1e3:6.2f} ms  errors {errors}")  # fmt: skip
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    import rill as tf

    sig = tf.saved_model.load(os.path.join(base, "1")).signatures["serving_default"]
    (key,) = sig.structured_input_signature[1]
    sig(**{key: x})
    n, t0 = 2000, time.perf_counter()
    for _ in range(n):
        sig(**{key: x})
    print(f"in-process rill signature call: {(time.perf_counter() - t0) / n * 1e6:.1f} us")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--clients", type=int, default=16)
    a = p.parse_args()
    run(a.seconds, a.clients)
