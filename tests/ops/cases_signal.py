"""Cases for rill.ops.fft_ops (the Fourier transform primitives).

Every transform has a complex input or a complex output, which the registry's float64
finite differences cannot handle; their gradients are checked against finite differences
along the real and imaginary axes in tests/signal/test_fft.py (``grad_checked_by``).
"""

import numpy as np

from rill.core import dtypes as d
from tests.ops.cases import case, grad_checked_by, rnd

I32 = np.int32


def cplx(*shape, dtype=np.complex128):
    return (rnd(*shape) + 1j * rnd(*shape)).astype(dtype)


for _suffix, _rank in (("", 1), ("2D", 2), ("3D", 3)):
    for _kind in ("FFT", "IFFT"):
        case(_kind + _suffix, cplx(2, 3, 4, 5), grad=False)
        case(_kind + _suffix, cplx(3, 4, 5, dtype=np.complex64), grad=False)
    for _n in ([4, 6, 8], [3, 5, 5], [2, 4, 7]):
        n = np.array(_n[-_rank:], I32)
        case("RFFT" + _suffix, rnd(2, 3, 4, 5), n, Tcomplex=d.complex128, grad=False)
        half = list(_n[-_rank:])
        half[-1] = half[-1] // 2 + 1
        case("IRFFT" + _suffix, cplx(2, 3, 4, 5), n, Treal=d.float64, grad=False)
        case("IRFFT" + _suffix, cplx(2, *half), n, Treal=d.float64, grad=False)
    case("RFFT" + _suffix, rnd(3, 4, 5).astype(np.float32), np.array([4] * _rank, I32),
         Tcomplex=d.complex64, grad=False)  # fmt: skip

for _axes, _n in (([0, 2], [3, 6]), ([-1], [7]), ([1, 2, 3], [3, 4, 4])):
    ax, n = np.array(_axes, I32), np.array(_n, I32)
    case("FFTND", cplx(2, 3, 4, 5), n, ax, grad=False)
    case("IFFTND", cplx(2, 3, 4, 5), n, ax, grad=False)
    case("RFFTND", rnd(2, 3, 4, 5), n, ax, Tcomplex=d.complex128, grad=False)
    case("IRFFTND", cplx(2, 3, 4, 5), n, ax, Treal=d.float64, grad=False)

_T = "tests/signal/test_fft.py::"
for _prim in ("FFT", "IFFT", "FFT2D", "IFFT2D", "FFT3D", "IFFT3D", "FFTND", "IFFTND", "IRFFT",
              "IRFFT2D", "IRFFT3D", "IRFFTND"):  # fmt: skip
    grad_checked_by(_prim, _T + "test_complex_input_gradients_match_finite_differences")
for _prim in ("RFFT", "RFFT2D", "RFFT3D", "RFFTND"):
    grad_checked_by(_prim, _T + "test_real_input_gradients_match_finite_differences")
