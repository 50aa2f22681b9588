"""Keras layers benchmark W5 (issue 14): the compiled training step of a small CNN,
28x28x1 -> Conv2D(32, 3, relu) -> MaxPool2 -> Conv2D(64, 3, relu) -> MaxPool2 -> Flatten ->
Dense(128, relu) -> Dense(10), batch 64, Adam, sparse softmax cross-entropy from logits.

rill's keras vs tf.keras (and a PyTorch / JAX loop where importable), each in a fresh
subprocess of this interpreter, in one run. Each framework runs ``fit`` (PyTorch and JAX
an equivalent loop) over ``--steps`` batches once to compile and warm up, then
``--repeats`` more times; the best time per step is reported.

    PYTHONPATH=. /path/to/peers/bin/python benchmarks/keras_layers.py [--threads N]

W6 (``--workload w6``): the compiled training step of LSTM(128) -> Dense(10) on batches of
32 sequences x 50 steps x 32 features, Adam, sparse softmax cross-entropy from logits;
rill's keras vs tf.keras (and PyTorch's ``nn.LSTM`` where importable).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORKER = r"""
import os, sys, time
import numpy as np
fw, root, steps, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
B = 64
rng = np.random.default_rng(0)
x = rng.standard_normal((B * steps, 28, 28, 1)).astype(np.float32)
y = rng.integers(0, 10, B * steps).astype(np.int64)
times = []
if fw in ("rill", "tensorflow"):
    if fw == "rill":
        sys.path.insert(0, root)
        from rill import keras
    else:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import keras
    L = keras.layers
    m = keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"),
                          L.MaxPooling2D(2), L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2),
                          L.Flatten(), L.Dense(128, activation="relu"), L.Dense(10)])
    m.compile(optimizer="adam",
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    run = lambda: m.fit(x, y, batch_size=B, epochs=1, verbose=0, shuffle=False)
elif fw == "torch":
    import torch
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3),
                        nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 5 * 5, 128),
                        nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    tx = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    ty = torch.from_numpy(y)
    def run():
        for s in range(0, B * steps, B):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(net(tx[s:s + B]), ty[s:s + B])
            loss.backward()
            opt.step()
else:  # jax: the whole step (gradient and a hand-written Adam) under jax.jit
    import jax, jax.numpy as jnp
    k = jax.random.split(jax.random.PRNGKey(0), 4)
    def glorot(key, shape, fan_in, fan_out):
        lim = (6.0 / (fan_in + fan_out)) ** 0.5
        return jax.random.uniform(key, shape, minval=-lim, maxval=lim)
    params = [glorot(k[0], (3, 3, 1, 32), 9, 288), jnp.zeros(32),
              glorot(k[1], (3, 3, 32, 64), 288, 576), jnp.zeros(64),
              glorot(k[2], (1600, 128), 1600, 128), jnp.zeros(128),
              glorot(k[3], (128, 10), 128, 10), jnp.zeros(10)]
    dn = ("NHWC", "HWIO", "NHWC")
    def pool(h):
        return jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
    def loss_fn(p, xb, yb):
        h = jax.nn.relu(jax.lax.conv_general_dilated(xb, p[0], (1, 1), "VALID", dimension_numbers=dn) + p[1])
        h = pool(h)
        h = jax.nn.relu(jax.lax.conv_general_dilated(h, p[2], (1, 1), "VALID", dimension_numbers=dn) + p[3])
        h = pool(h).reshape(xb.shape[0], -1)
        h = jax.nn.relu(h @ p[4] + p[5])
        logits = h @ p[6] + p[7]
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), yb[:, None], 1))
    @jax.jit
    def step(p, m, v, t, xb, yb):
        g = jax.grad(loss_fn)(p, xb, yb)
        t = t + 1
        m = [0.9 * a + 0.1 * b for a, b in zip(m, g)]
        v = [0.999 * a + 0.001 * b * b for a, b in zip(v, g)]
        lr = 1e-3 * jnp.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        p = [a - lr * b / (jnp.sqrt(c) + 1e-7) for a, b, c in zip(p, m, v)]
        return p, m, v, t
    state = [params, [jnp.zeros_like(a) for a in params], [jnp.zeros_like(a) for a in params], 0]
    jx, jy = jnp.asarray(x), jnp.asarray(y)
    def run():
        for s in range(0, B * steps, B):
            state[:] = step(*state, jx[s:s + B], jy[s:s + B])
        jax.block_until_ready(state[0])
run()  # compile / warm up
for _ in range(repeats):
    t = time.perf_counter(); run(); times.append((time.perf_counter() - t) / steps)
print(f"RESULT {min(times) * 1e3:.3f} {float(np.median(times)) * 1e3:.3f}")
"""

WORKER_W6 = r"""
import os, sys, time
import numpy as np
fw, root, steps, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
B, T, F, U = 32, 50, 32, 128
rng = np.random.default_rng(0)
x = rng.standard_normal((B * steps, T, F)).astype(np.float32)
y = rng.integers(0, 10, B * steps).astype(np.int64)
times = []
if fw in ("rill", "tensorflow"):
    if fw == "rill":
        sys.path.insert(0, root)
        from rill import keras
    else:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import keras
    m = keras.Sequential([keras.Input((T, F)), keras.layers.LSTM(U), keras.layers.Dense(10)])
    m.compile(optimizer="adam",
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    run = lambda: m.fit(x, y, batch_size=B, epochs=1, verbose=0, shuffle=False)
elif fw == "torch":
    import torch
    torch.manual_seed(0)
    nn = torch.nn
    lstm, head = nn.LSTM(F, U, batch_first=True), nn.Linear(U, 10)
    opt = torch.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=1e-3)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    def run():
        for s in range(0, B * steps, B):
            opt.zero_grad()
            out, _ = lstm(tx[s:s + B])
            loss = nn.functional.cross_entropy(head(out[:, -1]), ty[s:s + B])
            loss.backward()
            opt.step()
else:
    raise SystemExit(f"W6 has no {fw} variant")
run()  # compile / warm up
for _ in range(repeats):
    t = time.perf_counter(); run(); times.append((time.perf_counter() - t) / steps)
print(f"RESULT {min(times) * 1e3:.3f} {float(np.median(times)) * 1e3:.3f}")
"""

WORKLOADS = {
    "w5": (WORKER, ("rill", "tensorflow", "torch", "jax"),
           "W5: compiled training step, CNN 28x28x1 conv32-pool-conv64-pool-dense128-dense10, "
           "batch 64, Adam"),
    "w6": (WORKER_W6, ("rill", "tensorflow", "torch"),
           "W6: compiled training step, LSTM(128) -> Dense(10), batch 32 x 50 steps x 32 "
           "features, Adam"),
}  # fmt: skip

FRAMEWORKS = ("rill", "tensorflow", "torch", "jax")


def importable(fw):
    if fw == "rill":
        return True
    r = subprocess.run([sys.executable, "-c", f"import {fw}"], capture_output=True)
    return r.returncode == 0


def run(fw, threads, steps, repeats, workload="w5"):
    env = dict(os.environ)
    if threads:
        for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[k] = str(threads)
    worker = WORKLOADS[workload][0]
    r = subprocess.run(
        [sys.executable, "-c", worker, fw, str(ROOT), str(steps), str(repeats)],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    for line in r.stdout.splitlines():
        if line.startswith("RESULT"):
            best, median = (float(v) for v in line.split()[1:])
            return best, median
    print(f"{fw}: failed\n{r.stderr[-2000:]}", file=sys.stderr)
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=None, help="BLAS/OpenMP threads for all")
    p.add_argument("--steps", type=int, default=20, help="batches per timed fit")
    p.add_argument("--repeats", type=int, default=3, help="timed fits (the best is reported)")
    p.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    p.add_argument("--workload", default="w5,w6", help="w5, w6 or both (comma-separated)")
    args = p.parse_args()
    for workload in args.workload.split(","):
        _, supported, title = WORKLOADS[workload]
        fws = [f for f in args.frameworks.split(",") if f in supported and importable(f)]
        times = {fw: run(fw, args.threads, args.steps, args.repeats, workload) for fw in fws}
        print(f"{title}; threads: {args.threads or 'default'}")
        print(f"{'framework':<12}{'best ms/step':>14}{'median':>10}{'rill / it':>12}")
        base = times.get("rill")
        for fw in fws:
            t = times[fw]
            if t is None:
                print(f"{fw:<12}{'failed':>14}")
                continue
            ratio = f"{base[0] / t[0]:.2f}x" if base else "-"
            print(f"{fw:<12}{t[0]:>14.2f}{t[1]:>10.2f}{ratio:>12}")


if __name__ == "__main__":
    main()
