"""Cases for rill.ops.unary_ops (elementwise unary math, special functions, rounding).

Complex-input primitives (ComplexAbs, Real, Imag, Angle) cannot be differentiated by the
registry's float64 finite-difference check (it only perturbs float inputs), so their
cases here check the shape rule only; ``grad_checked_by`` names the test that checks their
complex gradients against finite differences along the real and imaginary axes.
"""

import numpy as np

from tests.ops.cases import case, grad_checked_by, pos, rnd

_rng = np.random.default_rng(7)


def away(*shape):
    """Random float64 in +-[0.5, 2): no zeros (kinks of abs/sign, poles of 1/x)."""
    return pos(*shape) * _rng.choice([-1.0, 1.0], size=shape)


def cplx(*shape, dtype=np.complex128):
    return (rnd(*shape) + 1j * rnd(*shape)).astype(dtype)


# abs / sign / powers
case("Abs", away(3, 4))
case("Abs", np.array([-3, 0, 4], np.int32), grad=False)
case("ComplexAbs", cplx(2, 3), grad=False)
case("ComplexAbs", cplx(4, dtype=np.complex64), grad=False)
case("Sign", away(3, 4))
case("Sign", np.array([-3, 0, 4], np.int64), grad=False)
case("Sign", cplx(3), grad=False)
case("Reciprocal", away(3, 4))
case("Reciprocal", cplx(2, 2), grad=False)
case("Square", rnd(3, 4))
case("Square", np.array([1, 2, 3], np.uint8), grad=False)
case("Sqrt", pos(3, 4))
case("Sqrt", cplx(3), grad=False)
case("Rsqrt", pos(3, 4))
case("Rsqrt", pos(2).astype(np.float32), grad=False)

# exp / log
case("Exp", rnd(3, 4))
case("Exp", cplx(2, 3), grad=False)
case("Expm1", rnd(3, 4))
case("Log", pos(3, 4))
case("Log", cplx(3), grad=False)
case("Log1p", rnd(3, 4) * 0.9)

# trigonometric and hyperbolic
for _name in ("Sin", "Cos", "Tan"):
    case(_name, rnd(3, 4))
    case(_name, cplx(2), grad=False)
case("Asin", rnd(3, 4) * 0.9)
case("Acos", rnd(3, 4) * 0.9)
case("Atan", rnd(3, 4) * 3)
case("Atan2", rnd(3, 4), away(3, 4))
case("Atan2", rnd(2, 3), away(3))
case("Atan2", rnd(3, 1), away(1, 4))
for _name in ("Sinh", "Cosh", "Tanh"):
    case(_name, rnd(3, 4) * 2)
case("Tanh", cplx(3), grad=False)
case("Asinh", rnd(3, 4) * 3)
case("Acosh", pos(3, 4) + 1.1)
case("Atanh", rnd(3, 4) * 0.9)
case("Sigmoid", rnd(3, 4) * 5)
case("Sigmoid", cplx(3), grad=False)
case("Softplus", rnd(3, 4) * 5)
case("Softplus", rnd(4).astype(np.float32) * 30, grad=False)

# special functions
case("Erf", rnd(3, 4) * 2)
case("Erfc", rnd(3, 4) * 2)
case("Erfc", rnd(3).astype(np.float32), grad=False)
case("Erfinv", rnd(3, 4) * 0.95)
case("Ndtri", _rng.uniform(0.05, 0.95, size=(3, 4)))
_gamma_x = np.array([[-2.5, -0.3, 0.4], [1.7, 5.2, 12.3]])
case("Lgamma", _gamma_x)
case("Lgamma", pos(3, 4) * 3)
case("Digamma", _gamma_x)
case("Digamma", pos(3, 4) * 3)
case("Polygamma", np.array([[0.0], [1.0], [2.0], [3.0]]), pos(3) * 2, wrt=(1,))
case("Polygamma", np.array([1.0, 2.0, 1.0]), np.array([-1.5, 0.7, 4.0]), wrt=(1,))
case("Polygamma", np.array([0.5, -1.0]), np.array([1.0, 2.0]), grad=False)

# rounding and classification (not differentiable)
_r = rnd(3, 4) * 10
case("Floor", _r, grad=False)
case("Ceil", _r, grad=False)
case("Round", _r, grad=False)
case("Round", np.array([0.5, 1.5, 2.5, -0.5]), grad=False)
case("Rint", _r.astype(np.float32), grad=False)
_special = np.array([[1.0, np.nan, np.inf], [-np.inf, 0.0, -2.0]])
case("IsNan", _special, grad=False)
case("IsInf", _special, grad=False)
case("IsFinite", _special.astype(np.float32), grad=False)

# complex parts
case("Real", cplx(2, 3), grad=False)
case("Real", cplx(3, dtype=np.complex64), grad=False)
case("Imag", cplx(2, 3), grad=False)
case("Imag", cplx(3, dtype=np.complex64), grad=False)
case("Angle", cplx(2, 3), grad=False)
case("Angle", cplx(3, dtype=np.complex64), grad=False)
case("Conj", rnd(3, 4))
case("Conj", cplx(2, 3), grad=False)
# complex-input gradients: finite differences along both axes, in test_unary_ops.py
for _prim in ("ComplexAbs", "Real", "Imag", "Angle"):
    grad_checked_by(
        _prim, "tests/ops/test_unary_ops.py::test_complex_gradients_match_finite_differences"
    )

# x * log(y) family: no zeros in x for the gradient check (TF's gradient is 0 there)
for _name in ("Xlogy", "Xdivy"):
    case(_name, away(3, 4), pos(3, 4))
    case(_name, away(2, 3), pos(3))
    case(_name, np.array([0.0, 1.0, 0.0]), np.array([0.0, 2.0, -1.0]), grad=False)
case("Xlog1py", away(3, 4), pos(3, 4) - 0.4)
case("Xlog1py", away(3, 1), pos(1, 4))
