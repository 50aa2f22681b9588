"""Cases for rill.ops.linalg_decomposition_ops and linalg_banded_ops (LU, eig, matrix
functions, least squares, tridiagonal solves)."""

import numpy as np

from rill import dtypes
from tests.ops.cases import case, grad_checked_by, rnd


def _well(*shape):
    return rnd(*shape) + 3.0 * np.eye(shape[-1])


def _spd(*shape):
    a = rnd(*shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


# LU: the pivots must not tie, or finite differences would cross a pivot switch
case(
    "Lu",
    np.array([[1.0, 2.0, 0.5], [4.0, 1.0, 1.5], [2.0, 7.0, 1.0]]),
    output_idx_type=dtypes.int32,
)
case("Lu", _well(2, 3, 3), output_idx_type=dtypes.int64)
case("Lu", rnd(3, 3).astype(np.float32), output_idx_type=dtypes.int32, grad=False)
case("Lu", rnd(2, 2) + 1j * rnd(2, 2) + 3 * np.eye(2), output_idx_type=dtypes.int32, grad=False)

# eig: complex outputs, so its gradient is checked in tests/linalg/test_decompositions.py
case("Eig", _spd(3, 3), compute_v=True, grad=False)
case("Eig", rnd(2, 3, 3), compute_v=False, grad=False)
case("Eig", rnd(2, 2).astype(np.float32), compute_v=True, grad=False)
grad_checked_by("Eig", "tests/linalg/test_decompositions.py::test_eig_gradient")

# matrix functions
case("MatrixExponential", rnd(3, 3))
case("MatrixExponential", 4.0 * rnd(2, 3, 3), rtol=1e-4)  # needs scaling and squaring
case("MatrixExponential", (rnd(2, 2) + 1j * rnd(2, 2)).astype(np.complex64), grad=False)
case("MatrixSquareRoot", _spd(3, 3))
case("MatrixSquareRoot", _spd(2, 2, 2))
case("MatrixLogarithm", (_spd(3, 3) + 0.1j * rnd(3, 3)), grad=False)

# least squares, minimum norm (fast=False): not differentiable, as in TF
case("MatrixSolveLs", rnd(4, 3), rnd(4, 2), grad=False)
case("MatrixSolveLs", rnd(2, 3, 2), rnd(2, 3, 1), grad=False)

# tridiagonal systems (compact [..., 3, M]); diagonally dominant so pivots do not switch
_tri = rnd(2, 3, 4)
_tri[..., 1, :] += 4.0
case("TridiagonalSolve", _tri, rnd(2, 4, 3), partial_pivoting=True, perturb_singular=False)
case("TridiagonalSolve", rnd(3, 5), rnd(5, 2), partial_pivoting=False, perturb_singular=False)
case("TridiagonalSolve", rnd(3, 5), rnd(5, 1), partial_pivoting=True, perturb_singular=False)
