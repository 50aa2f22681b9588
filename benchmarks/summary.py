"""TensorBoard summaries benchmark (issue 17), each measurement in a fresh subprocess of
this interpreter:

1. the cost of ``tf.summary.scalar`` inside a traced training step: one SGD step of a
   10-32-1 ReLU MLP (batch 32) under ``rill.function`` / ``tf.function``, with and
   without ``tf.summary.scalar("loss", loss, step=step)`` to a file writer; the cost is
   the difference per step (best of many short alternating runs), each run ending with
   the writer's flush (its background work is part of the price), in process CPU time
   (all threads: steady on a busy machine) and in wall time;
2. the overhead of ``keras.callbacks.TensorBoard`` on the fit benchmark
   (``benchmarks/keras_fit.py``: 784-256-128-10 ReLU MLP, Adam, batch 128): after a
   warm-up epoch, epochs without the callback, with ``TensorBoard(log_dir)`` (defaults:
   epoch logs and the model graph) and with ``histogram_freq=1, update_freq="batch"``,
   alternated, the best epoch of each (wall and process CPU time), and the time spent
   inside the callback's hooks (what the callback adds, free of the machine's noise).

    /path/to/peers/bin/python benchmarks/summary.py [--steps N] [--samples N] [--threads N]

TensorFlow is measured where this interpreter can import it (rill comes from this
checkout). Target: the default callback costs under 5% of the epoch.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STEP_WORKER = r"""
import os, sys, time, tempfile
import numpy as np
fw, root, steps, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if fw == "rill":
    sys.path.insert(0, root)
    import rill as tf
else:
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import tensorflow as tf
    if os.environ.get("BENCH_TF_THREADS"):
        n = int(os.environ["BENCH_TF_THREADS"])
        tf.config.threading.set_inter_op_parallelism_threads(n)
        tf.config.threading.set_intra_op_parallelism_threads(n)
rng = np.random.default_rng(0)
x = tf.constant(rng.standard_normal((32, 10)).astype(np.float32))
y = tf.constant(rng.standard_normal((32, 1)).astype(np.float32))
w1 = tf.Variable(rng.standard_normal((10, 32)).astype(np.float32) * 0.3)
b1 = tf.Variable(np.zeros(32, np.float32))
w2 = tf.Variable(rng.standard_normal((32, 1)).astype(np.float32) * 0.3)
b2 = tf.Variable(np.zeros(1, np.float32))
step = tf.Variable(0, dtype=tf.int64)
params = [w1, b1, w2, b2]

def make_step(with_summary):
    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            h = tf.nn.relu(tf.matmul(x, w1) + b1)
            loss = tf.reduce_mean(tf.square(tf.matmul(h, w2) + b2 - y))
        grads = tape.gradient(loss, params)
        for p, g in zip(params, grads):
            p.assign_sub(0.01 * g)
        if with_summary:
            tf.summary.scalar("loss", loss, step=step)
        step.assign_add(1)
        return loss
    return train_step

logdir = tempfile.mkdtemp()
writer = tf.summary.create_file_writer(logdir)
fns = {"plain": make_step(False), "summary": make_step(True)}
best = {}
with writer.as_default():
    for fn in fns.values():
        for _ in range(50):
            fn(x, y)  # trace, warm up
    writer.flush()
    for _ in range(runs):  # alternate short runs, keep the best of each: noise cancels
        for mode, fn in fns.items():
            t, c = time.perf_counter(), time.process_time()
            for _ in range(steps):
                fn(x, y)
            writer.flush()
            dt = (time.perf_counter() - t) / steps * 1e6
            dc = (time.process_time() - c) / steps * 1e6  # CPU time of every thread
            best[mode] = min(best.get(mode, dt), dt)
            best[mode + "_cpu"] = min(best.get(mode + "_cpu", dc), dc)
writer.close()
print(f"RESULT {best['plain']:.3f} {best['summary']:.3f} {best['plain_cpu']:.3f} "
      f"{best['summary_cpu']:.3f}")
"""

FIT_WORKER = r"""
import os, sys, time, tempfile
import numpy as np
fw, root, n, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(0)
x = rng.standard_normal((n, 784)).astype(np.float32)
y = rng.integers(0, 10, n).astype(np.int64)
if fw == "rill":
    sys.path.insert(0, root)
    from rill import keras
else:
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import tensorflow as tf
    if os.environ.get("BENCH_TF_THREADS"):
        k = int(os.environ["BENCH_TF_THREADS"])
        tf.config.threading.set_inter_op_parallelism_threads(k)
        tf.config.threading.set_intra_op_parallelism_threads(k)
    import keras
m = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(256, activation="relu"),
                      keras.layers.Dense(128, activation="relu"), keras.layers.Dense(10)])
m.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
logdir = tempfile.mkdtemp()
HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
         "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
         "on_test_batch_begin", "on_test_batch_end")
spent = [0.0]  # seconds inside the callback's hooks

def timed(cb):
    for name in HOOKS:
        def hook(*a, _f=getattr(cb, name), **k):
            t = time.perf_counter()
            try:
                return _f(*a, **k)
            finally:
                spent[0] += time.perf_counter() - t
        setattr(cb, name, hook)
    return cb

modes = {
    "none": lambda: [],
    "default": lambda: [timed(keras.callbacks.TensorBoard(os.path.join(logdir, "default")))],
    "histograms+batch": lambda: [timed(keras.callbacks.TensorBoard(
        os.path.join(logdir, "hist"), histogram_freq=1, update_freq="batch"))],
}
m.fit(x, y, batch_size=128, epochs=1, verbose=0)  # warm up (traces the train step)
best = {}
for _ in range(reps):  # alternate the modes, keep each one's best epoch
    for mode, callbacks in modes.items():
        cbs = callbacks()
        spent[0] = 0.0
        t, c = time.perf_counter(), time.process_time()
        m.fit(x, y, batch_size=128, epochs=1, verbose=0, callbacks=cbs)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        best[mode] = min(best.get(mode, wall), wall)
        best[mode + "_cpu"] = min(best.get(mode + "_cpu", cpu), cpu)
        best[mode + "_hooks"] = min(best.get(mode + "_hooks", spent[0]), spent[0])
print("RESULT " + " ".join(f"{best[m]:.4f} {best[m + '_cpu']:.4f} {best[m + '_hooks']:.5f}"
                           for m in modes))
"""


def _run(worker, args, threads):
    env = dict(os.environ)
    if threads:
        for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BENCH_TF_THREADS"):
            env[k] = str(threads)
    r = subprocess.run(
        [sys.executable, "-c", worker, *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
    )
    for line in r.stdout.splitlines():
        if line.startswith("RESULT"):
            values = [float(v) for v in line.split()[1:]]
            return values[0] if len(values) == 1 else values
    tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["no output"]
    return f"failed: {tail[0]}"


def _has_tensorflow() -> bool:
    import importlib.util

    return importlib.util.find_spec("tensorflow") is not None


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=200, help="train steps per timed run")
    p.add_argument("--runs", type=int, default=40, help="timed runs (the best is kept)")
    p.add_argument("--samples", type=int, default=60000, help="fit samples per epoch")
    p.add_argument("--fit-reps", type=int, default=3, help="epochs timed per callback setting")
    p.add_argument("--threads", type=int, default=None, help="BLAS/OpenMP threads")
    p.add_argument("--skip-fit", action="store_true", help="only the traced-step cost")
    args = p.parse_args()
    fws = ["rill"] + (["tensorflow"] if _has_tensorflow() else [])

    print(f"1. tf.summary.scalar in a traced train step (10-32-1 MLP, batch 32), "
          f"best of {args.runs} runs of {args.steps} steps, flush included:")  # fmt: skip
    for fw in fws:
        got = _run(STEP_WORKER, [fw, ROOT, args.steps, args.runs], args.threads)
        if isinstance(got, list):
            base, summ, base_cpu, summ_cpu = got
            print(f"  {fw:10s} CPU time: step {base_cpu:7.1f} us, with scalar {summ_cpu:7.1f} us "
                  f"= {summ_cpu - base_cpu:+6.1f} us per summary; wall time: {base:7.1f} / "
                  f"{summ:7.1f} us = {summ - base:+6.1f} us")  # fmt: skip
        else:
            print(f"  {fw:10s} {got}")
    if args.skip_fit:
        return
    print(f"2. keras.callbacks.TensorBoard on fit (784-256-128-10, Adam, batch 128, "
          f"{args.samples} samples), best of {args.fit_reps} epochs each (alternated):")  # fmt: skip
    for fw in fws:
        got = _run(FIT_WORKER, [fw, ROOT, args.samples, args.fit_reps], args.threads)
        if not isinstance(got, list):
            print(f"  {fw:10s} {got}")
            continue
        (base, base_cpu, _), *others = zip(got[::3], got[1::3], got[2::3])
        print(f"  {fw:10s} no callback: epoch {base:.3f} s (CPU {base_cpu:.3f} s)")
        for mode, (t, c, hooks) in zip(("default", "histograms+batch"), others):
            print(
                f"  {'':10s} {mode}: epoch {t:.3f} s ({(t - base) / base * 100:+.1f}%), CPU "
                f"{c:.3f} s ({(c - base_cpu) / base_cpu * 100:+.1f}%); inside the callback "
                f"{hooks * 1e3:.1f} ms = {hooks / base * 100:.2f}% of the epoch"
            )
    print("  target: the default callback under 5% of the epoch time")


if __name__ == "__main__":
    main()
