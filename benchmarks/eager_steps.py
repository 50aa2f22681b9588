"""Time (and optionally profile) rill's eager training paths (issue 11).

    python benchmarks/eager_steps.py [--profile] [--repeat 7] [--only keras_step,fit,...]

Workloads, all float32 on the same seeded data:

- ``keras_step``: one custom-loop step of a Keras 784-256-128-10 ReLU MLP, batch 128:
  forward through ``Dense`` layers under a ``GradientTape``, sparse softmax
  cross-entropy, ``tape.gradient`` and ``keras.optimizers.Adam.apply_gradients``
  (ms per step);
- ``fit``: ``Model.fit`` on that MLP, one epoch of 12,800 samples, batch 128 (ms per
  step, i.e. the epoch time over its 100 batches);
- ``convnet``: the main demo's convnet (``examples/demo.py``: Conv2D 32/64 +
  BatchNormalization + pooling + Dropout on 8x8 digits), ``fit`` with batch 32
  (ms per step);
- ``numpy_floor``: the ``keras_step`` arithmetic hand-written in NumPy (forward,
  backward and Adam), the floor no framework can beat;
- ``tape_step``: ``run.py``'s eager MLP Adam step (the row issue 11's PyTorch target is
  measured on): ``tf.Variable``s, a ``GradientTape`` and Adam written with rill ops, no
  Keras (ms per step).

Each workload reports the median over ``--repeat`` runs of the per-step time. With
``--profile`` each workload also runs under cProfile and its top entries (by own time)
are printed, which is how the issue's before/after profiles are produced.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402


def _data(n=128, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 784)).astype(np.float32)
    y = rng.integers(0, 10, n).astype(np.int64)
    return x, y


def _mlp(keras):
    return keras.Sequential(
        [
            keras.Input(shape=(784,)),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10),
        ]
    )


def keras_step():
    """A step function of the Keras custom training loop."""
    import rill as tf
    from rill import keras

    tf.random.set_seed(0)
    x, y = _data()
    x, y = tf.constant(x), tf.constant(y)
    model = _mlp(keras)
    opt = keras.optimizers.Adam()
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))

    return step, 1


def tape_step():
    """``run.py``'s hand-written eager step, on its weights and batch."""
    import rill

    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    import run

    params, x, y = run.mlp_data()
    ns = run._tf_style_mlp(rill, params, x, y, compiled=False)
    f, tx, ty = ns["f"], ns["x"], ns["y"]
    return (lambda: f(tx, ty)), 1


def fit():
    """One fit epoch of the MLP: 100 batches of 128."""
    import rill as tf
    from rill import keras

    tf.random.set_seed(0)
    x, y = _data(12800)
    model = _mlp(keras)
    model.compile(
        optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    model.fit(x, y, batch_size=128, epochs=1, verbose=0)

    def step():
        model.fit(x, y, batch_size=128, epochs=1, verbose=0)

    return step, 100


def convnet():
    """One fit epoch of the demo's convnet on 8x8 inputs: 40 batches of 32."""
    import rill as tf
    from rill import keras

    tf.random.set_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((1280, 64)).astype(np.float32)
    y = rng.integers(0, 10, 1280).astype(np.int64)
    model = keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Reshape((8, 8, 1)),
            keras.layers.Conv2D(32, 3, padding="same", use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=2e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)

    def step():
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)

    return step, 40


def numpy_floor():
    """The keras_step arithmetic in NumPy: forward, backward, Adam (the floor)."""
    x, y = _data()
    rng = np.random.default_rng(1)
    sizes = [(784, 256), (256, 128), (128, 10)]
    params = []
    for a, b in sizes:
        lim = np.sqrt(6 / (a + b))
        params += [rng.uniform(-lim, lim, (a, b)).astype(np.float32), np.zeros(b, np.float32)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = [0]
    onehot = np.eye(10, dtype=np.float32)[y]

    def step():
        w1, b1, w2, b2, w3, b3 = params
        h1 = np.maximum(x @ w1 + b1, 0)
        h2 = np.maximum(h1 @ w2 + b2, 0)
        z = h2 @ w3 + b3
        z = z - z.max(1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(1, keepdims=True)
        dz = (p - onehot) / len(x)
        dh2 = (dz @ w3.T) * (h2 > 0)
        dh1 = (dh2 @ w2.T) * (h1 > 0)
        grads = [x.T @ dh1, dh1.sum(0), h1.T @ dh2, dh2.sum(0), h2.T @ dz, dz.sum(0)]
        t[0] += 1
        alpha = 1e-3 * np.sqrt(1 - 0.999 ** t[0]) / (1 - 0.9 ** t[0])
        for p_, g, m_, v_ in zip(params, grads, m, v):
            m_ += (g - m_) * 0.1
            v_ += (g * g - v_) * 0.001
            p_ -= alpha * m_ / (np.sqrt(v_) + 1e-7)

    return step, 1


def torch_step():
    """The keras_step model in PyTorch: nn.Linear layers, autograd, torch.optim.Adam."""
    import torch

    torch.manual_seed(0)
    x, y = _data()
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    net = torch.nn.Sequential(
        torch.nn.Linear(784, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(tx), ty).backward()
        opt.step()

    return step, 1


def torch_fit():
    """The fit workload as a PyTorch hand loop (shuffled batches of 128, 100 per epoch)."""
    import torch

    torch.manual_seed(0)
    x, y = _data(12800)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    net = torch.nn.Sequential(
        torch.nn.Linear(784, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)

    def step():
        perm = torch.randperm(len(tx))
        for s in range(0, len(tx), 128):
            idx = perm[s : s + 128]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(tx[idx]), ty[idx]).backward()
            opt.step()

    return step, 100


WORKLOADS = {
    "numpy_floor": numpy_floor,
    "keras_step": keras_step,
    "tape_step": tape_step,
    "torch_step": torch_step,
    "fit": fit,
    "torch_fit": torch_fit,
    "convnet": convnet,
}


def _loops(step, target_s=0.3):
    step()  # warm-up
    t0 = time.perf_counter()
    step()
    return max(1, int(target_s / max(time.perf_counter() - t0, 1e-9)))


def _run(step, loops, per):
    t0 = time.perf_counter()
    for _ in range(loops):
        step()
    return (time.perf_counter() - t0) / loops / per


def _profile(step, top):
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(20):
        step()
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--only", default=",".join(WORKLOADS))
    p.add_argument("--profile", action="store_true", help="print cProfile's top entries")
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args(argv)
    names = []
    for n in args.only.split(","):
        try:
            if n == "torch_step" or n == "torch_fit":
                import torch  # noqa: F401
            names.append(n)
        except ImportError:
            print(f"{n:12s} n/a (torch is not importable)")
    setups = {n: WORKLOADS[n]() for n in names}
    loops = {n: _loops(setups[n][0]) for n in names}
    # interleaved rounds: a burst of load on the shared machine spoils one round of every
    # workload, not every run of one, so ratios within the run stay fair
    runs = {n: [] for n in names}
    for _ in range(args.repeat):
        for n in names:
            runs[n].append(_run(setups[n][0], loops[n], setups[n][1]))
    results = {n: statistics.median(r) * 1e3 for n, r in runs.items()}
    for n in names:
        print(f"{n:12s} {results[n]:8.3f} ms/step (median of {args.repeat})", flush=True)
    try:
        import resource

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        print(f"peak RSS of this process: {rss:.0f} MiB")
    except ImportError:  # not on Windows
        pass
    for a, b in (
        ("keras_step", "numpy_floor"),
        ("keras_step", "torch_step"),
        ("fit", "torch_fit"),
    ):
        if a in results and b in results:
            print(f"{a} / {b}: {results[a] / results[b]:.2f}x")
    if args.profile:
        for n in names:
            if n in ("numpy_floor", "torch_step", "torch_fit"):
                continue
            step, _ = setups[n]
            print(f"\n==== profile: {n} (20 calls, by own time) ====")
            print(_profile(step, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
