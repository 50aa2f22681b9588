"""Gradients through keras.ops composites: tape gradients against central finite
differences (float64 inputs), so that models built from keras.ops train."""

from __future__ import annotations

import numpy as np
import pytest

from rill.keras import ops
from tests.gradcheck import assert_grad_matches_finite_differences

rng = np.random.default_rng(5)
A = rng.standard_normal((2, 3))
B = rng.standard_normal((2, 3))
SQ = rng.standard_normal((3, 3)) + 3 * np.eye(3)
IMG = rng.uniform(size=(1, 5, 5, 2))
W = rng.standard_normal((3, 3, 2, 2))

CASES = {
    "logaddexp": lambda a, b: ops.logaddexp(a, b),
    "hypot": lambda a, b: ops.hypot(a, b),
    "arctan2": lambda a, b: ops.arctan2(a, b),
    "cross": lambda a, b: ops.cross(a, b),
    "kron": lambda a, b: ops.kron(a, b),
    "correlate": lambda a, b: ops.correlate(a[0], b[0], mode="full"),
    "norm2": lambda a, b: ops.norm(a * b),
    "norm1": lambda a, b: ops.norm(a, ord=1, axis=1) * ops.norm(b, ord="fro"),
    "logsumexp": lambda a, b: ops.logsumexp(a + b, axis=1),
    "softmax": lambda a, b: ops.softmax(a, axis=(0, 1)) * b,
    "log_softmax": lambda a, b: ops.log_softmax(a) * b,
    "sparsemax": lambda a, b: ops.sparsemax(a * 3) * b,
    "gelu": lambda a, b: ops.gelu(a) + ops.celu(b) + ops.squareplus(a) + ops.hard_swish(b),
    "glu": lambda a, b: ops.glu(ops.concatenate([a, b], axis=1)),
    "layer_norm": lambda a, b: ops.layer_normalization(a, gamma=b[0], beta=b[1]),
    "rms_norm": lambda a, b: ops.rms_normalization(a, scale=b[0]) + ops.normalize(b),
    "cbrt_sinc_i0": lambda a, b: ops.cbrt(a * a + 1) + ops.sinc(b) + ops.i0(a),
    "quantile": lambda a, b: ops.quantile(a * b, [0.3, 0.7], axis=1),
    "std_var": lambda a, b: ops.std(a, axis=0) + ops.var(b),
    "trapezoid": lambda a, b: ops.trapezoid(a, x=ops.cumsum(ops.exp(b[0]))),
    "cumprod": lambda a, b: ops.cumprod(a + 2, axis=1) * b,
    "take_along_axis": lambda a, b: ops.take_along_axis(a, ops.argsort(b, axis=1), axis=1),
    "einsum": lambda a, b: ops.einsum("ij,kj->ik", a, b),
    "cdist": lambda a, b: ops.cdist(a, b + 3),
    "fft": lambda a, b: ops.concatenate(ops.fft((a, b)), axis=0),
    "rfft_irfft": lambda a, b: ops.irfft(ops.rfft(a * b)),
    "tri": lambda a, b: ops.trace(ops.tril(ops.outer(a, b))) + ops.diagonal(ops.outer(a, b), 1),
    "bce": lambda a, b: ops.binary_crossentropy(ops.sigmoid(a), ops.sigmoid(b)),
    "cce": lambda a, b: ops.categorical_crossentropy(ops.softmax(a), b, from_logits=True),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_binary_composites(name):
    w = rng.standard_normal(np.shape(CASES[name](A, B)))
    assert_grad_matches_finite_differences(lambda a, b: ops.sum(CASES[name](a, b) * w), A, B,
                                           rtol=1e-4, atol=1e-6)  # fmt: skip


def test_linear_algebra_and_convolution():
    def f(m, x):
        return (ops.sum(ops.inv(m)) + ops.det(m) + ops.sum(ops.solve(m, x[0]))
                + ops.sum(ops.pinv(m[:2])) + ops.logdet(ops.matmul(m, ops.transpose(m))))  # fmt: skip

    assert_grad_matches_finite_differences(f, SQ, A[:, :3], rtol=1e-4, atol=1e-6)

    def g(img, w):
        y = ops.conv(img, w, padding="same")
        y = y + ops.conv_transpose(img, w, strides=2)[:, :5, :5]
        y = ops.average_pool(y, 2) + ops.max_pool(y, 2)
        return ops.sum(ops.adaptive_average_pool(y, (2, 2)) ** 2)

    assert_grad_matches_finite_differences(g, IMG, W, rtol=1e-4, atol=1e-6)


def test_images_attention_and_ctc():
    t = np.array([1.2, 0.1, -0.4, -0.2, 0.9, 0.7, 0.0, 0.0])

    def f(img):
        a = ops.image.affine_transform(img, t)
        b = ops.image.map_coordinates(img[0, :, :, 0], np.array([[0.5, 2.2], [1.7, 3.1]]), 1)
        d = ops.image.scale_and_translate(img, (1, 3, 3, 2), [0.6, 0.6], [0.0, 0.0], (1, 2),
                                          "linear")  # fmt: skip
        return ops.sum(a) + ops.sum(b) + ops.sum(d) + ops.image.ssim(
            img, ops.flip(img, 1), filter_size=3)[0]  # fmt: skip

    assert_grad_matches_finite_differences(f, IMG, rtol=1e-4, atol=1e-6)
    q = rng.standard_normal((1, 3, 2, 2))
    kv = rng.standard_normal((1, 4, 2, 2))
    assert_grad_matches_finite_differences(
        lambda q, kv: ops.sum(ops.dot_product_attention(q, kv, kv, is_causal=True) ** 2),
        q,
        kv,
        rtol=1e-4,
        atol=1e-6,
    )
    logits = rng.standard_normal((2, 5, 4))
    # ctc_loss computes in float32 (as Keras' TensorFlow backend does): coarser differences
    assert_grad_matches_finite_differences(
        lambda z: ops.sum(
            ops.ctc_loss(np.array([[1, 2], [3, 3]]), z, np.array([2, 2]), np.array([5, 4]))
        ),  # fmt: skip
        logits,
        eps=1e-3,
        rtol=2e-2,
        atol=2e-3,
    )
