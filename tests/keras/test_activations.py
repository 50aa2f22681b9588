"""The Keras 3 activations added to rill.keras.activations, against NumPy formulas written
here, and their lookup by name (``activations.get``, layers' ``activation=``)."""

import numpy as np
import pytest

import rill as tf

A = tf.keras.activations
X = np.linspace(-3.0, 3.0, 25, dtype=np.float32).reshape(5, 5)


def _sparsemax_ref(z):
    """The Euclidean projection of each row onto the simplex (Martins & Astudillo 2016)."""
    out = np.zeros_like(z, dtype=np.float64)
    for i, row in enumerate(z.astype(np.float64)):
        s = np.sort(row)[::-1]
        k = np.arange(1, len(s) + 1)
        support = 1 + k * s > np.cumsum(s)
        kz = k[support][-1]
        tau = (np.cumsum(s)[kz - 1] - 1) / kz
        out[i] = np.maximum(row - tau, 0)
    return out


REFS = {
    "celu": (lambda x: np.maximum(x, 0) + 0.7 * np.expm1(np.minimum(x, 0) / 0.7), {"alpha": 0.7}),
    "hard_shrink": (lambda x: np.where(np.abs(x) > 0.5, x, 0), {}),
    "hard_tanh": (lambda x: np.clip(x, -1, 1), {}),
    "soft_shrink": (lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.8, 0), {"threshold": 0.8}),
    "sparse_plus": (lambda x: np.where(x <= -1, 0, np.where(x < 1, (x + 1) ** 2 / 4, x)), {}),
    "sparse_sigmoid": (lambda x: np.clip((x + 1) / 2, 0, 1), {}),
    "squareplus": (lambda x: (x + np.sqrt(x * x + 2.0)) / 2, {"b": 2.0}),
    "tanh_shrink": (lambda x: x - np.tanh(x), {}),
    "threshold": (lambda x: np.where(x > 0.25, x, -2.0), {"threshold": 0.25, "default_value": -2.0}),
    "sparsemax": (_sparsemax_ref, {}),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(REFS))
def test_values_dtype_and_shape(name):
    ref, kwargs = REFS[name]
    got = getattr(A, name)(X, **kwargs)
    assert got.dtype == tf.float32 and got.shape == X.shape
    np.testing.assert_allclose(got.numpy(), ref(X.astype(np.float64)), rtol=1e-5, atol=1e-6)


def test_glu_gates_the_first_half_with_the_second():
    got = A.glu(X[:, :4])
    ref = X[:, :2] / (1 + np.exp(-X[:, 2:4]))
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-6)
    with pytest.raises(ValueError):
        A.glu(X)  # 5 columns: no even split


def test_sparsemax_rows_are_distributions():
    got = A.sparsemax(np.random.default_rng(0).normal(size=(6, 7)) * 3).numpy()
    np.testing.assert_allclose(got.sum(-1), 1.0, rtol=1e-6)
    assert (got >= 0).all()


@pytest.mark.parametrize("name", sorted(REFS) + ["glu"])
def test_resolved_by_name_in_layers(name):
    assert A.get(name) is getattr(A, name)
    assert A.deserialize(A.serialize(getattr(A, name))) is getattr(A, name)
    if name not in ("threshold", "glu"):  # threshold needs its arguments; glu halves units
        layer = tf.keras.layers.Dense(3, activation=name)
        assert layer.activation is getattr(A, name)


def test_gradient_of_celu_matches_finite_differences():
    # off the grid point 0, where max/min ties make the one-sided rules disagree
    pts = X.astype(np.float64) + 0.01
    x = tf.constant(pts)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(A.celu(x, alpha=0.7))
    g = tape.gradient(y, x).numpy()
    h = 1e-6
    fd = (A.celu(pts + h, alpha=0.7).numpy() - A.celu(pts - h, alpha=0.7).numpy()) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-7)
