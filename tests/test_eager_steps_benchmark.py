"""benchmarks/eager_steps.py keeps working: its rill step and its NumPy floor train the same
model the same way (the floor's hand-written gradients agree with rill's tape)."""

import numpy as np
import pytest

import rill as tf
from rill import keras
from tests.benchmark_module import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("eager_steps.py")


def test_floor_gradients_match_the_tape(bench):
    x, y = bench._data(16)
    model = bench._mlp(keras)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        loss = loss_fn(tf.constant(y), model(tf.constant(x)))
    grads = [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]
    w1, b1, w2, b2, w3, b3 = [v.numpy() for v in model.trainable_variables]
    # the floor's backward pass, as written in numpy_floor()
    h1 = np.maximum(x @ w1 + b1, 0)
    h2 = np.maximum(h1 @ w2 + b2, 0)
    z = h2 @ w3 + b3
    e = np.exp(z - z.max(1, keepdims=True))
    p = e / e.sum(1, keepdims=True)
    dz = (p - np.eye(10, dtype=np.float32)[y]) / len(x)
    dh2 = (dz @ w3.T) * (h2 > 0)
    dh1 = (dh2 @ w2.T) * (h1 > 0)
    ref = [x.T @ dh1, dh1.sum(0), h1.T @ dh2, dh2.sum(0), h2.T @ dz, dz.sum(0)]
    for g, r in zip(grads, ref):
        np.testing.assert_allclose(g, r, rtol=2e-4, atol=1e-6)


def test_the_script_runs(bench, capsys):
    assert bench.main(["--repeat", "1", "--only", "numpy_floor,keras_step,tape_step"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if "ms/step" in line]
    assert [r[0] for r in rows] == ["numpy_floor", "keras_step", "tape_step"]
    assert all(float(r[1]) > 0 for r in rows)
