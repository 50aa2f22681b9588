"""jit_compile benchmarks (issue 19), in one run: rill's executor vs rill on XLA
(``jit_compile=True``) vs a hand-written ``jax.jit`` function, and, where TensorFlow can be
imported, the same workload in TensorFlow with ``jit_compile`` off and on, and where
PyTorch can be, in PyTorch eager and under ``torch.compile``; per workload, with the
first-call cost (trace + lower + compile) of each.

    W2  a 100-op elementwise chain on a (256,) float32 vector
    W3b one Adam step of a 784-256-128-10 MLP, batch 128 (forward, backward, update)
    W4  one fit epoch (10,000 samples, batch 128) of that MLP
    W5  one CNN training step (conv 3x3x32, max pool, dense; batch 64 of 28x28x1)
    W6  one LSTM training step (64 units, 20 steps, batch 32)

    .venv/bin/python benchmarks/xla.py [--repeat N] [--rounds R] [--only W2 W3b ...]
    PYTHONPATH=. peers/bin/python benchmarks/xla.py   # with TensorFlow, PyTorch and JAX

rill and ``jax.jit`` share one JAX CPU client here, configured as rill's compiler sets it
(computations on the calling thread; ``RILL_XLA_ASYNC_DISPATCH=1`` gives both JAX's default
worker-thread dispatch). ``paired.py`` runs each side in a process of its own instead.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _time_interleaved(fns, repeat, rounds=7):
    """``[(first call s, best per-call s)]`` for each of ``fns``: their first calls (trace
    + lower + compile), then ``rounds`` rounds that each time every fn ``repeat`` times in
    turn, so a burst of load on the shared machine spoils one round of every variant rather
    than every run of one; the best round counts."""
    first = []
    for fn in fns:
        t = time.perf_counter()
        fn()
        first.append(time.perf_counter() - t)
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            for _ in range(repeat):
                fn()
            best[i] = min(best[i], (time.perf_counter() - t) / repeat)
    return list(zip(first, best))


def w2(tf, jit):
    f = tf.function(lambda x: _chain(tf.math, x), jit_compile=jit)
    x = tf.constant(np.ones(256, np.float32))
    return lambda: f(x)


def _chain(m, x):
    for _ in range(25):
        x = m.tanh(x * 0.5 + 0.1) - x * 0.01
    return x


def _keras_mlp(keras, jit):
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((784,)), keras.layers.Dense(256, activation="relu"),
                          keras.layers.Dense(128, activation="relu"), keras.layers.Dense(10)])  # fmt: skip
    m.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=jit)
    return m


def w3b(tf, jit):
    m = _keras_mlp(tf.keras, jit)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(128, 784)).astype(np.float32), rng.integers(0, 10, 128)
    return lambda: m.train_on_batch(x, y)


def w4(tf, jit):
    m = _keras_mlp(tf.keras, jit)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(10000, 784)).astype(np.float32), rng.integers(0, 10, 10000)
    return lambda: m.fit(x, y, batch_size=128, epochs=1, verbose=0)


def w5(tf, jit):
    keras = tf.keras
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(32, 3, activation="relu"),
                          keras.layers.MaxPooling2D(), keras.layers.Flatten(), keras.layers.Dense(10)])  # fmt: skip
    m.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=jit)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 28, 28, 1)).astype(np.float32), rng.integers(0, 10, 64)
    return lambda: m.train_on_batch(x, y)


def w6(tf, jit):
    keras = tf.keras
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((20, 16)), keras.layers.LSTM(64), keras.layers.Dense(10)])
    m.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=jit)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 20, 16)).astype(np.float32), rng.integers(0, 10, 32)
    return lambda: m.train_on_batch(x, y)


def jax_w2(jax):
    f = jax.jit(lambda x: _chain(jax.numpy, x))
    x = jax.numpy.ones(256, np.float32)
    return lambda: f(x).block_until_ready()


def _jax_mlp_step(jax, donate=False):
    """The W3b/W4 model in JAX: initial (params, m, v) and a jitted Adam step on a batch;
    ``donate``: the step donates (params, m, v), updating them in place as rill's XLA
    path does with the variables it assigns."""
    jnp = jax.numpy
    rng = np.random.default_rng(0)
    sizes = [784, 256, 128, 10]
    params = [(rng.normal(size=(a, b)).astype(np.float32) * 0.05, np.zeros(b, np.float32))
              for a, b in zip(sizes, sizes[1:])]  # fmt: skip
    m = jax.tree_util.tree_map(jnp.zeros_like, params)
    v = jax.tree_util.tree_map(jnp.zeros_like, params)

    def loss(p, x, y):
        h = x
        for i, (w, b) in enumerate(p):
            h = h @ w + b
            h = jax.nn.relu(h) if i < 2 else h
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(h), y[:, None], 1))

    def step(p, m, v, t, x, y):
        g = jax.grad(loss)(p, x, y)
        m = jax.tree_util.tree_map(lambda a, b: 0.9 * a + 0.1 * b, m, g)
        v = jax.tree_util.tree_map(lambda a, b: 0.999 * a + 0.001 * b * b, v, g)
        lr = 1e-3 * jnp.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        p = jax.tree_util.tree_map(lambda a, b, c: a - lr * b / (jnp.sqrt(c) + 1e-7), p, m, v)
        return p, m, v

    return [params, m, v], jax.jit(step, donate_argnums=(0, 1, 2) if donate else ())


def jax_w3b(jax, donate=False):
    state, step = _jax_mlp_step(jax, donate)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(128, 784)).astype(np.float32), rng.integers(0, 10, 128)

    def run():
        state[:] = step(*state, 1.0, x, y)
        jax.block_until_ready(state[0])

    return run


def jax_w4(jax, donate=False):
    """W4 as a hand-written JAX loop: one shuffled epoch of jitted steps, batch 128 (the
    last, smaller batch is a second compiled shape, as in Keras' fit)."""
    state, step = _jax_mlp_step(jax, donate)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(10000, 784)).astype(np.float32), rng.integers(0, 10, 10000)
    t = [0]

    def run():
        order = rng.permutation(len(x))
        for s in range(0, len(x), 128):
            idx = order[s : s + 128]
            t[0] += 1
            state[:] = step(*state, float(t[0]), x[idx], y[idx])
        jax.block_until_ready(state[0])

    return run


def _torch_train_step(torch, net, x, y, compiled):
    """One training step of ``net`` on the batch (x, y): cross-entropy from logits, Adam
    with Keras' defaults (lr 1e-3, epsilon 1e-7); ``compiled``: the model's forward and
    backward and the optimizer's update each under ``torch.compile``, as PyTorch's
    tutorials compile a training loop."""
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    model = torch.compile(net) if compiled else net
    update = torch.compile(opt.step) if compiled else opt.step

    def step(xb=x, yb=y):
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(xb), yb).backward()
        update()

    return step


def _torch_mlp(torch):
    torch.manual_seed(0)
    nn = torch.nn
    return nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)
    )


def torch_w2(torch, compiled):
    f = torch.compile(lambda x: _chain(torch, x)) if compiled else (lambda x: _chain(torch, x))
    x = torch.ones(256)
    return lambda: f(x)


def torch_w3b(torch, compiled):
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(128, 784)).astype(np.float32))
    return _torch_train_step(
        torch, _torch_mlp(torch), x, torch.from_numpy(rng.integers(0, 10, 128)), compiled
    )


def torch_w4(torch, compiled):
    """W4 in PyTorch: one shuffled epoch of training steps, batch 128 (the last batch
    smaller), from tensors in memory."""
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(10000, 784)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 10, 10000))
    step = _torch_train_step(torch, _torch_mlp(torch), x[:128], y[:128], compiled)

    def run():
        order = torch.randperm(len(x))
        for s in range(0, len(x), 128):
            idx = order[s : s + 128]
            step(x[idx], y[idx])

    return run


def torch_w5(torch, compiled):
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 13 * 13, 10)
    )
    rng = np.random.default_rng(0)  # PyTorch's convolutions take NCHW
    x = torch.from_numpy(rng.normal(size=(64, 1, 28, 28)).astype(np.float32))
    return _torch_train_step(torch, net, x, torch.from_numpy(rng.integers(0, 10, 64)), compiled)


def torch_w6(torch, compiled):
    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.dense = torch.nn.LSTM(16, 64, batch_first=True), torch.nn.Linear(64, 10)

        def forward(self, x):
            return self.dense(self.lstm(x)[0][:, -1])

    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(32, 20, 16)).astype(np.float32))
    return _torch_train_step(torch, Net(), x, torch.from_numpy(rng.integers(0, 10, 32)), compiled)


def _torch():
    """PyTorch on one thread (like rill, JAX and TensorFlow here), or None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch


def _tensorflow():
    """TensorFlow on one intra-op thread (like rill and JAX here), or None."""
    try:
        import tensorflow
    except ImportError:
        return None
    tensorflow.config.threading.set_intra_op_parallelism_threads(1)
    tensorflow.config.threading.set_inter_op_parallelism_threads(1)
    return tensorflow


def _ms(t):
    return f"{t * 1e3:9.3f}ms" if t is not None else f"{'-':>11}"


def main():
    ap = argparse.ArgumentParser()
    # many short rounds: the best round of each variant then more likely falls in a quiet
    # moment of the shared machine than with a few long ones
    ap.add_argument("--repeat", type=int, default=5, help="calls per round (W2: 10x)")
    ap.add_argument("--rounds", type=int, default=21, help="interleaved rounds (W4: a third)")
    ap.add_argument("--only", nargs="+", metavar="W", help="run only these workloads (W2 W3b ...)")
    ap.add_argument("--no-tf", action="store_true", help="leave TensorFlow out")
    ap.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    ap.add_argument(
        "--no-torch-compile", action="store_true", help="PyTorch eager only (compiles take minutes)"
    )
    args = ap.parse_args()
    import rill as tf

    try:
        from rill.backend import jax_runtime as backend

        jax = backend.load()  # before JAX's client exists: the setting then holds for both
    except ImportError:
        jax = None
    real_tf = None if args.no_tf else _tensorflow()
    torch = None if args.no_torch else _torch()
    workloads = [("W2", w2, jax_w2, torch_w2, args.repeat * 10), ("W3b", w3b, jax_w3b, torch_w3b, args.repeat),
                 ("W4", w4, jax_w4, torch_w4, 1), ("W5", w5, None, torch_w5, args.repeat),
                 ("W6", w6, None, torch_w6, args.repeat)]  # fmt: skip
    rows = []
    for name, make, jax_make, torch_make, rep in workloads:
        if args.only and name not in args.only:
            continue
        # variants: rill executor, rill XLA, then those of the peers that can be imported
        fns = {"ex": make(tf, False), "xla": make(tf, True)}
        if jax_make and jax:
            fns["jax"] = jax_make(jax)
            if name in ("W3b", "W4"):  # the loop with its state donated too
                fns["jax_don"] = jax_make(jax, donate=True)
        if real_tf is not None:
            fns["tf"], fns["tf_xla"] = make(real_tf, False), make(real_tf, True)
        if torch is not None:
            fns["torch"] = torch_make(torch, False)
            if not args.no_torch_compile:
                fns["torch_c"] = torch_make(torch, True)
        rounds = max(3, args.rounds // 3) if name == "W4" else args.rounds
        rows.append(
            (name, dict(zip(fns, _time_interleaved(list(fns.values()), rep, rounds=rounds))))
        )
    _print_tables(rows)


_COLUMNS = {"ex": "executor", "xla": "rill XLA", "jax": "jax.jit", "jax_don": "jax donated",
            "tf": "TF", "tf_xla": "TF XLA", "torch": "torch", "torch_c": "torch.compile"}  # fmt: skip


def _print_tables(rows):
    """Per call (best round), then rill XLA's ratio to each other variant, then each
    variant's first call (trace + lower + compile, or PyTorch's compile)."""
    head = "".join(f"{c:>14}" for c in _COLUMNS.values())
    for title, cell in [
        ("per call", lambda t, k: f"{_ms(t[k][1]):>14}"),
        (
            "rill XLA / variant (below 1: rill XLA is faster)",
            lambda t, k: f"{t['xla'][1] / t[k][1]:13.2f}x",
        ),
        ("first call", lambda t, k: f"{t[k][0]:13.2f}s"),
    ]:
        print(f"{title}\n{'':5}{head}")
        for name, t in rows:
            print(f"{name:5}" + "".join(cell(t, k) if k in t else f"{'-':>14}" for k in _COLUMNS))
        print()


if __name__ == "__main__":
    main()
