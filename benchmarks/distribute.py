"""Distributed training benchmark (issue 20), under ``mpiexec`` on this machine.

1. Samples per second of a Keras ``fit`` (784-256-128-10 ReLU MLP, Adam, global batch
   256, the second epoch timed) with 1, 2, ... processes under
   ``MultiWorkerMirroredStrategy``: the global batch is fixed, so more processes means a
   smaller batch each (strong scaling).
2. All-reduce time against message size (float32 buffers, rill's bucketed collective
   over MPI) with N processes, next to the ring model ``t = a + 2(N-1)/N * bytes / B``
   fitted to the measurements, and the model's projection of a step's communication time
   to 8, 64 and 512 workers on 25 and 100 Gb/s networks.

    python benchmarks/distribute.py [--procs 1 2] [--samples 20000] [--threads 1]

Needs the ``rill[mpi]`` extra (mpi4py, mpich: its ``mpiexec`` sits next to ``python``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FIT_WORKER = r"""
import json, sys, time
import numpy as np
import rill as tf
n_samples = int(sys.argv[1])
rng = np.random.default_rng(0)
x = rng.standard_normal((n_samples, 784)).astype(np.float32)
y = rng.integers(0, 10, n_samples).astype(np.int64)
strategy = tf.distribute.MultiWorkerMirroredStrategy()
with strategy.scope():
    m = tf.keras.Sequential([tf.keras.Input((784,)), tf.keras.layers.Dense(256, activation="relu"),
                             tf.keras.layers.Dense(128, activation="relu"), tf.keras.layers.Dense(10)])
    m.compile(optimizer="adam", loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
m.fit(x, y, batch_size=256, epochs=1, verbose=0)
t = time.perf_counter(); m.fit(x, y, batch_size=256, epochs=1, verbose=0); dt = time.perf_counter() - t
dt = float(strategy.reduce("MEAN", tf.constant(dt), axis=None))  # the ranks wait for each other
if strategy.extended.should_checkpoint:
    print(json.dumps({"procs": strategy.num_replicas_in_sync, "seconds": dt,
                      "samples_per_s": n_samples / dt, "params": int(m.count_params())}))
"""

ALLREDUCE_WORKER = r"""
import json, time
import numpy as np
from rill.distribute import collective
g = collective.world()
rows = []
for exp in range(8, 25, 2):  # 256 B .. 16 MiB... of float32
    n = 2 ** exp // 4
    buf = np.ones(n, np.float32)
    reps = max(3, min(200, int(2e7 // max(buf.nbytes, 1))))
    g.allreduce(buf.copy()); g.barrier()
    times = []
    for _ in range(reps):
        b = buf.copy()
        t = time.perf_counter(); g.allreduce(b); times.append(time.perf_counter() - t)
    rows.append((buf.nbytes, float(np.median(times))))
if g.is_chief:
    print(json.dumps({"procs": g.size, "rows": rows}))
"""


def _mpiexec() -> str:
    beside = Path(sys.executable).with_name("mpiexec")
    exe = str(beside) if beside.exists() else shutil.which("mpiexec")
    if exe is None:
        sys.exit('mpiexec not found: pip install "rill[mpi]"')
    return exe


def _job(n: int, code: str, args: list, threads: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))  # fmt: skip
    cmd = [_mpiexec(), "-n", str(n), sys.executable, "-c", code, *map(str, args)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if res.returncode != 0:
        sys.exit(f"job of {n} failed:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def fit_ring_model(rows, n):
    """Least-squares ``(latency a [s], bandwidth B [bytes/s])`` of ``t = a + f*bytes/B``."""
    import numpy as np

    f = 2 * (n - 1) / n
    size = np.array([r[0] for r in rows], float)
    t = np.array([r[1] for r in rows], float)
    A = np.stack([np.ones_like(size), f * size], axis=1)
    (a, inv_b), *_ = np.linalg.lstsq(A, t, rcond=None)
    return max(a, 0.0), 1.0 / inv_b


def projection(n_bytes: float, compute_s: float, latency_s: float = 50e-6) -> list:
    """Ring all-reduce time and weak-scaling efficiency of a step (per-replica batch fixed)."""
    out = []
    for gbps in (25, 100):
        bw = gbps * 1e9 / 8
        for n in (8, 64, 512):
            comm = 2 * (n - 1) * latency_s + 2 * (n - 1) / n * n_bytes / bw
            out.append((gbps, n, comm, compute_s / (compute_s + comm)))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    p.add_argument("--samples", type=int, default=20000)
    p.add_argument("--threads", type=int, default=1, help="BLAS threads per process")
    args = p.parse_args()

    print("fit: 784-256-128-10 MLP, Adam, global batch 256, second epoch timed")
    fits = []
    for n in args.procs:
        r = _job(n, FIT_WORKER, [args.samples], args.threads)
        fits.append(r)
        speedup = r["samples_per_s"] / fits[0]["samples_per_s"]
        print(f"  {n} process(es): {r['samples_per_s']:9.0f} samples/s  ({speedup:.2f}x)")
    n = max(max(args.procs), 2)
    ar = _job(n, ALLREDUCE_WORKER, [], args.threads)
    a, bw = fit_ring_model(ar["rows"], n)
    print(
        f"\nall-reduce, {n} processes (median): bytes, measured, ring model "
        f"(a = {a * 1e6:.1f} us, B = {bw / 1e9:.2f} GB/s)"
    )
    for size, t in ar["rows"]:
        model = a + 2 * (n - 1) / n * size / bw
        print(f"  {size:>10d}  {t * 1e3:9.3f} ms  {model * 1e3:9.3f} ms")
    params = fits[0]["params"]
    step = fits[0]["seconds"] / (args.samples / 256)
    print(
        f"\nprojection: {params} float32 parameters ({params * 4 / 1e6:.2f} MB of gradients), "
        f"compute {step * 1e3:.1f} ms per step of 256 per replica"
    )
    for gbps, workers, comm, eff in projection(params * 4, step):
        print(
            f"  {gbps:3d} Gb/s {workers:4d} workers: all-reduce {comm * 1e3:7.2f} ms, "
            f"efficiency {eff * 100:5.1f}%"
        )


if __name__ == "__main__":
    main()
