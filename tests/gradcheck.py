"""Gradient oracles shared by the tests: a tape gradient against central finite differences
or against a closed form.

``tests/ops/test_registry.py`` accepts a test named by ``grad_checked_by`` (the gradient of a
primitive the registry's own finite differences cannot perturb) only if that test calls one
of ``ORACLES`` itself: a test that merely exists, or that only checks shapes, does not count.
"""

from __future__ import annotations

import numpy as np

import rill as tf


def assert_grad_matches_finite_differences(f, *xs, eps=1e-6, rtol=1e-5, atol=1e-7):
    """Tape gradient of scalar ``f(*tensors)`` vs central differences in every input.

    ``xs`` are float64 NumPy arrays; each element of each is perturbed by +-``eps``.
    """
    for k, x in enumerate(xs):
        assert np.asarray(x).dtype == np.float64, f"input {k} must be float64, not {x.dtype}"
    ts = [tf.constant(x) for x in xs]
    with tf.GradientTape() as tape:
        for t in ts:
            tape.watch(t)
        y = f(*ts)
    grads = tape.gradient(y, ts, unconnected_gradients="zero")
    for k, (x, g) in enumerate(zip(xs, grads)):
        num = np.zeros_like(x)
        for i in range(x.size):
            xp, xm = [a.copy() for a in xs], [a.copy() for a in xs]
            xp[k].reshape(-1)[i] += eps
            xm[k].reshape(-1)[i] -= eps
            fp = float(f(*[tf.constant(a) for a in xp]))
            fm = float(f(*[tf.constant(a) for a in xm]))
            num.reshape(-1)[i] = (fp - fm) / (2 * eps)
        np.testing.assert_allclose(g.numpy(), num, rtol=rtol, atol=atol, err_msg=f"input {k}")


def assert_complex_grad_matches_finite_differences(f, z, eps=1e-6, rtol=1e-6, atol=1e-7, seed=3):
    """Gradient of a real loss of ``f(z)`` for complex128 ``z``, against central differences
    along the real and the imaginary axis of every element.

    TF's convention: the gradient of a real L is dL/dRe(z) + i dL/dIm(z). L weights the
    real and imaginary parts of f(z) with real weights, so only f's own gradient (and
    Real/Imag) is exercised, not the complex gradient of Mul.
    """
    z = np.asarray(z)
    assert z.dtype == np.complex128, f"z must be complex128, not {z.dtype}"
    rng = np.random.default_rng(seed)
    shape = f(tf.constant(z)).shape
    wr = tf.constant(rng.standard_normal(shape))
    wi = tf.constant(rng.standard_normal(shape))

    def loss(t):
        out = f(t)
        total = tf.reduce_sum(tf.math.real(out) * wr)
        if out.dtype.is_complex:
            total = total + tf.reduce_sum(tf.math.imag(out) * wi)
        return total

    zt = tf.constant(z)
    with tf.GradientTape() as tape:
        tape.watch(zt)
        value = loss(zt)
    g = tape.gradient(value, zt).numpy()
    num = np.zeros_like(z)
    for k in range(z.size):
        for step in (1.0, 1j):
            zp, zm = z.copy(), z.copy()
            zp.flat[k] += eps * step
            zm.flat[k] -= eps * step
            d = (loss(tf.constant(zp)).numpy() - loss(tf.constant(zm)).numpy()) / (2 * eps)
            num.flat[k] += d * step
    np.testing.assert_allclose(g, num, rtol=rtol, atol=atol)


def assert_grad_matches_closed_form(f, xs, expected, rtol=1e-7, atol=1e-9):
    """Tape gradients of scalar ``f(*tensors)`` wrt each of ``xs`` equal ``expected`` (one
    array per input, worked out by hand)."""
    ts = [tf.constant(x) for x in xs]
    with tf.GradientTape() as tape:
        for t in ts:
            tape.watch(t)
        y = f(*ts)
    grads = tape.gradient(y, ts, unconnected_gradients="zero")
    assert len(grads) == len(expected)
    for k, (g, e) in enumerate(zip(grads, expected)):
        np.testing.assert_allclose(g.numpy(), e, rtol=rtol, atol=atol, err_msg=f"input {k}")


ORACLES = frozenset(
    {
        "assert_grad_matches_finite_differences",
        "assert_complex_grad_matches_finite_differences",
        "assert_grad_matches_closed_form",
    }
)
