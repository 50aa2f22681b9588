"""``tf.linalg.experimental``: the conjugate-gradient solver."""

from __future__ import annotations

import collections

import numpy as np

from rill.linalg.linear_operator import op
from rill.ops._op import convert_to_tensor

__all__ = ["conjugate_gradient"]

CGState = collections.namedtuple("CGState", ["i", "x", "r", "p", "gamma"])


def _dot(a, b):
    a = op("math.conj")(a) if a.dtype.is_complex else a
    return op("reduce_sum")(op("multiply")(a, b), axis=-1)


def _norm(v):
    n = op("norm")(v, axis=-1)
    return op("math.real")(n) if n.dtype.is_complex else n


def conjugate_gradient(operator, rhs, preconditioner=None, x=None, tol=1e-05, max_iter=20,
                       name="conjugate_gradient"):  # fmt: skip
    """Solve ``operator @ x = rhs`` for a self-adjoint positive definite operator by
    conjugate gradients; returns ``CGState(i, x, r, p, gamma)``. Stops when every residual
    norm is below ``tol`` times the initial one, or after ``max_iter`` steps."""
    if not (operator.is_self_adjoint and operator.is_positive_definite):
        raise ValueError("Expected a self-adjoint, positive definite operator.")
    rhs = convert_to_tensor(rhs, dtype=operator.dtype)
    x = op("zeros_like")(rhs) if x is None else convert_to_tensor(x, dtype=operator.dtype)
    r0 = op("subtract")(rhs, operator.matvec(x))
    p0 = r0 if preconditioner is None else preconditioner.matvec(r0)
    gamma0 = _dot(r0, p0)
    rdt = _norm(r0).dtype
    limit = op("multiply")(_norm(r0), convert_to_tensor(np.asarray(tol, rdt.np)))
    expand = op("expand_dims")

    def cond(i, state):
        busy = op("reduce_any")(op("greater")(_norm(state.r), limit))
        return op("logical_and")(op("less")(i, max_iter), busy)

    def body(i, state):
        z = operator.matvec(state.p)
        alpha = op("math.divide")(state.gamma, _dot(state.p, z))
        xn = op("add")(state.x, op("multiply")(expand(alpha, -1), state.p))
        rn = op("subtract")(state.r, op("multiply")(expand(alpha, -1), z))
        q = rn if preconditioner is None else preconditioner.matvec(rn)
        gamma = _dot(rn, q)
        beta = op("math.divide")(gamma, state.gamma)
        pn = op("add")(q, op("multiply")(expand(beta, -1), state.p))
        return i + 1, CGState(i + 1, xn, rn, pn, gamma)

    i0 = convert_to_tensor(np.int32(0))
    _, state = op("while_loop")(cond, body, [i0, CGState(i0, x, r0, p0, gamma0)],
                                maximum_iterations=max_iter)  # fmt: skip
    return state
