"""jit_compile benchmarks (issue 19), in one run: rill's executor vs rill on XLA
(``jit_compile=True``) vs a hand-written ``jax.jit`` function, and, where TensorFlow can be
imported, the same workload in TensorFlow with ``jit_compile`` off and on; per workload,
with the first-call cost (trace + lower + compile) of each.

    W2  a 100-op elementwise chain on a (256,) float32 vector
    W3b one Adam step of a 784-256-128-10 MLP, batch 128 (forward, backward, update)
    W4  one fit epoch (10,000 samples, batch 128) of that MLP
    W5  one CNN training step (conv 3x3x32, max pool, dense; batch 64 of 28x28x1)
    W6  one LSTM training step (64 units, 20 steps, batch 32)

    .venv/bin/python benchmarks/xla.py [--repeat N] [--rounds R] [--only W2 W3b ...]
    PYTHONPATH=. peers/bin/python benchmarks/xla.py   # with TensorFlow (and JAX) installed

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
    args = ap.parse_args()
    import rill as tf

    try:
        from rill.backend import jax_runtime as backend

        jax = backend.load()  # before JAX's client exists: the setting then holds for both
    except ImportError:
        jax = None
    real_tf = None if args.no_tf else _tensorflow()
    rows = []
    for name, make, jax_make, rep in [("W2", w2, jax_w2, args.repeat * 10), ("W3b", w3b, jax_w3b, args.repeat),
                                      ("W4", w4, jax_w4, 1), ("W5", w5, None, args.repeat),
                                      ("W6", w6, None, args.repeat)]:  # fmt: skip
        if args.only and name not in args.only:
            continue
        # variants: rill executor, rill XLA, then jax.jit, TF graph, TF XLA where available
        fns = {"ex": make(tf, False), "xla": make(tf, True)}
        if jax_make and jax:
            fns["jax"] = jax_make(jax)
            if name in ("W3b", "W4"):  # the loop with its state donated too
                fns["jax_don"] = jax_make(jax, donate=True)
        if real_tf is not None:
            fns["tf"], fns["tf_xla"] = make(real_tf, False), make(real_tf, True)
        rounds = max(3, args.rounds // 3) if name == "W4" else args.rounds
        timed = dict(zip(fns, _time_interleaved(list(fns.values()), rep, rounds=rounds)))
        rows.append((name, timed))
    print(
        f"{'':5} {'executor':>11} {'rill XLA':>11} {'jax.jit':>11} {'jax donated':>11} "
        f"{'TF':>11} {'TF XLA':>11} {'XLA/jax':>8} {'XLA/jax don':>11} {'XLA/TF XLA':>10}"
        f"   first call: rill XLA / jax / TF XLA"
    )
    none = (None, None)
    for name, t in rows:
        keys = ("ex", "xla", "jax", "jax_don", "tf", "tf_xla")
        ex, xla, jx, jd, tg, tx = (t.get(k, none) for k in keys)
        r_jax = f"{xla[1] / jx[1]:.2f}x" if jx[1] else "-"
        r_don = f"{xla[1] / jd[1]:.2f}x" if jd[1] else "-"
        r_tf = f"{xla[1] / tx[1]:.2f}x" if tx[1] else "-"
        first = " / ".join(f"{f:.2f}s" if f is not None else "-" for f in (xla[0], jx[0], tx[0]))
        print(
            f"{name:5} {_ms(ex[1])} {_ms(xla[1])} {_ms(jx[1])} {_ms(jd[1])} {_ms(tg[1])} "
            f"{_ms(tx[1])} {r_jax:>8} {r_don:>11} {r_tf:>10}   {first}"
        )


if __name__ == "__main__":
    main()
