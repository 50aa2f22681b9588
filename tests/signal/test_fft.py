"""tf.signal's Fourier transforms: values against NumPy's FFT, dtypes and shapes, crop and
pad to ``fft_length``, gradients against finite differences (complex inputs along their
real and imaginary axes), and their errors."""

import numpy as np
import pytest

import rill as tf
from tests.gradcheck import (
    assert_complex_grad_matches_finite_differences,
    assert_grad_matches_finite_differences,
)

RNG = np.random.default_rng(0)


def cplx(*shape, dtype=np.complex128):
    return (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(dtype)


def real(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


COMPLEX_OPS = [
    ("fft", np.fft.fft, 1), ("ifft", np.fft.ifft, 1), ("fft2d", np.fft.fft2, 2),
    ("ifft2d", np.fft.ifft2, 2), ("fft3d", np.fft.fftn, 3), ("ifft3d", np.fft.ifftn, 3),
]  # fmt: skip


@pytest.mark.parametrize("name,ref,rank", COMPLEX_OPS)
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_transforms_match_numpy(name, ref, rank, dtype):
    z = cplx(2, 3, 4, 5, dtype=dtype)
    out = getattr(tf.signal, name)(z)
    axes = tuple(range(4 - rank, 4))
    want = ref(z.astype(np.complex128), axes=axes) if rank > 1 else ref(z.astype(np.complex128))
    assert out.dtype == tf.as_dtype(dtype) and out.shape == z.shape
    tol = 1e-5 if dtype == np.complex64 else 1e-12
    np.testing.assert_allclose(out.numpy(), want, rtol=tol, atol=tol * np.abs(want).max())


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("n", [None, [4, 6, 8], [3, 5, 5], [9, 2, 7]])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_real_transforms_match_numpy_with_fft_length(rank, n, dtype):
    suffix = {1: "", 2: "2d", 3: "3d"}[rank]
    x = real(2, 3, 4, 5, dtype=dtype)
    fl = None if n is None else n[-rank:]
    axes = tuple(range(4 - rank, 4))
    y = getattr(tf.signal, "rfft" + suffix)(tf.constant(x), fl)
    want = np.fft.rfftn(x.astype(np.float64), s=fl, axes=axes)
    assert y.dtype == (tf.complex64 if dtype == np.float32 else tf.complex128)
    assert y.shape == want.shape
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y.numpy(), want, rtol=tol, atol=tol * np.abs(want).max())
    spec = want.astype(np.complex64 if dtype == np.float32 else np.complex128)
    back = getattr(tf.signal, "irfft" + suffix)(tf.constant(spec), fl)
    want_back = np.fft.irfftn(spec.astype(np.complex128), s=fl, axes=axes)
    assert back.dtype == tf.as_dtype(dtype) and back.shape == want_back.shape
    np.testing.assert_allclose(
        back.numpy(), want_back, rtol=tol, atol=tol * np.abs(want_back).max()
    )


@pytest.mark.parametrize("kind", ["fftnd", "ifftnd", "rfftnd", "irfftnd"])
@pytest.mark.parametrize(
    "axes,n", [(None, None), ([1, 3], [7, 7]), ([-1], [3]), ([0, 2, 3], [2, 5, 9])]
)
@pytest.mark.parametrize("norm", [None, "backward", "ortho", "forward"])
def test_nd_transforms_match_numpy(kind, axes, n, norm):
    z = cplx(3, 4, 5, 6)
    x = z.real if kind == "rfftnd" else z
    ref = {
        "fftnd": np.fft.fftn,
        "ifftnd": np.fft.ifftn,
        "rfftnd": np.fft.rfftn,
        "irfftnd": np.fft.irfftn,
    }
    ax = list(range(4)) if axes is None else axes
    want = ref[kind](x, s=n, axes=ax, norm=norm or "backward")
    got = getattr(tf.signal, kind)(tf.constant(x), n, axes, norm)
    assert got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-10 * np.abs(want).max())


def test_fft_keeps_double_precision_and_single_precision():
    assert tf.signal.fft(cplx(4)).dtype == tf.complex128
    assert tf.signal.fft(cplx(4, dtype=np.complex64)).dtype == tf.complex64
    assert tf.signal.rfft(tf.constant(real(8))).dtype == tf.complex128
    # like TF's wrappers: NumPy float64 given to rfft is taken as float32 (its preferred dtype)
    assert tf.signal.rfft(real(8)).dtype == tf.complex64
    assert tf.signal.rfft(real(8, dtype=np.float32)).dtype == tf.complex64


@pytest.mark.parametrize("axes", [None, 0, [1, 2], -1])
def test_fftshift_matches_numpy(axes):
    x = real(3, 4, 5)
    np.testing.assert_array_equal(tf.signal.fftshift(x, axes).numpy(), np.fft.fftshift(x, axes))
    np.testing.assert_array_equal(tf.signal.ifftshift(x, axes).numpy(), np.fft.ifftshift(x, axes))


def test_transform_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="FFT.*complex64 or complex128"):
        tf.signal.fft(tf.ones(4))
    assert tf.signal.fft(np.ones(4, np.float32)).dtype == tf.complex64  # TF converts non-tensors
    with pytest.raises(ValueError, match="RFFT requires tf.float32 or tf.float64"):
        tf.signal.rfft(tf.ones(4, tf.int32))
    with pytest.raises(ValueError, match="IRFFT requires"):
        tf.signal.irfft(tf.constant(np.ones(4, np.float32)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="FFT2D.*rank at least 2"):
        tf.signal.fft2d(cplx(4))
    with pytest.raises(tf.errors.InvalidArgumentError, match="fft_length must have 2 elements"):
        tf.signal.rfft2d(real(3, 4), [4])


def test_transforms_trace_into_functions():
    f = tf.function(lambda x: tf.signal.irfft(tf.signal.rfft(x)))
    x = real(3, 8)
    np.testing.assert_allclose(f(x).numpy(), x, atol=1e-12)
    c = f.get_concrete_function(tf.TensorSpec([None, 8], tf.float64))
    assert c.structured_outputs.shape.as_list() == [None, 8]


def _complex_cases():
    """(f, z): every transform with a complex input, with crops and pads."""
    s = tf.signal
    return [
        (s.fft, cplx(2, 5)), (s.ifft, cplx(3, 4)), (s.fft2d, cplx(2, 3, 4)),
        (s.ifft2d, cplx(3, 3)), (s.fft3d, cplx(2, 2, 3)), (s.ifft3d, cplx(1, 2, 3, 2)),
        (lambda z: s.fftnd(z, [3, 6], [0, 2]), cplx(2, 3, 4)),
        (lambda z: s.ifftnd(z, [4], [-2], norm="ortho"), cplx(3, 5)),
        (lambda z: s.irfft(z), cplx(2, 4)), (lambda z: s.irfft(z, [5]), cplx(3, 3)),
        (lambda z: s.irfft(z, [8]), cplx(2, 3)), (lambda z: s.irfft(z, [3]), cplx(1, 5)),
        (lambda z: s.irfft2d(z, [3, 4]), cplx(2, 4, 3)),
        (lambda z: s.irfft3d(z, [2, 3, 5]), cplx(2, 2, 3)),
        (lambda z: s.irfftnd(z, [4, 6], [0, 2], norm="forward"), cplx(3, 2, 4)),
    ]  # fmt: skip


def test_complex_input_gradients_match_finite_differences():
    for f, z in _complex_cases():
        assert_complex_grad_matches_finite_differences(f, z, rtol=1e-6, atol=1e-8)


def test_real_input_gradients_match_finite_differences():
    s = tf.signal
    for f, x in [
        (lambda t: s.rfft(t), real(2, 6)), (lambda t: s.rfft(t, [9]), real(3, 5)),
        (lambda t: s.rfft(t, [3]), real(2, 5)), (lambda t: s.rfft2d(t, [4, 5]), real(2, 3, 4)),
        (lambda t: s.rfft3d(t), real(2, 3, 4)), (lambda t: s.rfftnd(t, [5, 3], [0, 2]), real(3, 2, 4)),
    ]:  # fmt: skip
        shape = f(tf.constant(x)).shape
        w1, w2 = tf.constant(RNG.standard_normal(shape)), tf.constant(RNG.standard_normal(shape))

        def loss(t, f=f, w1=w1, w2=w2):
            y = f(t)
            return tf.reduce_sum(tf.math.real(y) * w1) + tf.reduce_sum(tf.math.imag(y) * w2)

        assert_grad_matches_finite_differences(loss, x, rtol=1e-6, atol=1e-8)


def test_fft_gradient_is_scaled_inverse_fft():
    z = tf.constant(cplx(2, 8))
    g = tf.constant(cplx(2, 8))
    with tf.GradientTape() as tape:
        tape.watch(z)
        y = tf.signal.fft(z)
    got = tape.gradient(y, z, output_gradients=g).numpy()
    np.testing.assert_allclose(got, np.fft.ifft(g.numpy()) * 8, rtol=1e-12)


def test_second_order_gradient_of_a_power_spectrum():
    x = tf.constant(real(6))
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(tf.abs(tf.signal.rfft(x)) ** 2)
        g = inner.gradient(y, x)
        z = tf.reduce_sum(g * g)
    h = outer.gradient(z, x).numpy()
    # Parseval: sum |rfft(x)|^2 is a fixed quadratic form x^T Q x; grad 2Qx, z = 4 x^T Q^2 x
    q = np.zeros((6, 6))
    for i in range(6):
        e = np.zeros(6)
        e[i] = 1
        for j in range(6):
            f_ = np.zeros(6)
            f_[j] = 1
            q[i, j] = np.real(np.sum(np.fft.rfft(e) * np.conj(np.fft.rfft(f_))))
    np.testing.assert_allclose(h, 8 * q @ q @ x.numpy(), rtol=1e-10)
