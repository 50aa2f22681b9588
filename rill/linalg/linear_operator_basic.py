"""Operators defined by one tensor: FullMatrix, Diag, Identity, ScaledIdentity, Zeros,
LowerTriangular, Householder, Permutation, Tridiag, Toeplitz."""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.core.tensor_shape import TensorShape
from rill.linalg.linear_operator import (
    LinearOperator,
    batch_dims,
    broadcast_batch,
    check_dtype,
    matrix_adjoint,
    op,
    to_tensor,
)
from rill.ops._op import convert_to_tensor, static_value

__all__ = [
    "LinearOperatorFullMatrix", "LinearOperatorDiag", "LinearOperatorIdentity",
    "LinearOperatorScaledIdentity", "LinearOperatorZeros", "LinearOperatorLowerTriangular",
    "LinearOperatorHouseholder", "LinearOperatorPermutation", "LinearOperatorTridiag",
    "LinearOperatorToeplitz",
]  # fmt: skip


def _conj(x):
    return op("math.conj")(x) if x.dtype.is_complex else x


def _bcast_arg(x, batch):
    """Broadcast ``x`` [..., M, K] to the operator's batch shape (so results carry it)."""
    full = broadcast_batch(batch, batch_dims(x, 2)).as_list()
    if full == batch_dims(x, 2):
        return x
    return op("broadcast_to")(x, full + x.shape.as_list()[-2:])


def _scalar(value, dtype):
    return convert_to_tensor(np.asarray(value, dtype=dtype.np))


class LinearOperatorFullMatrix(LinearOperator):
    """An operator backed by a dense [..., M, N] matrix."""

    def __init__(self, matrix, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None, name="LinearOperatorFullMatrix"):  # fmt: skip
        params = dict(matrix=matrix, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                      is_positive_definite=is_positive_definite, is_square=is_square, name=name)  # fmt: skip
        self._matrix = to_tensor(matrix)
        check_dtype("matrix", self._matrix)
        if self._matrix.shape.rank is not None and self._matrix.shape.rank < 2:
            raise ValueError(
                f"Argument `matrix` must have at least 2 dimensions, got {self._matrix.shape}"
            )
        super().__init__(self._matrix.dtype, None, is_non_singular, is_self_adjoint,
                         is_positive_definite, is_square, name, params)  # fmt: skip

    @property
    def matrix(self):
        return self._matrix

    def _shape(self):
        return self._matrix.shape

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return op("linalg.matmul")(self._matrix, x, adjoint_a=adjoint, adjoint_b=adjoint_arg)

    def _to_dense(self):
        return self._matrix

    def _linop_cholesky(self):
        return LinearOperatorLowerTriangular(
            op("linalg.cholesky")(self._matrix), is_non_singular=True, is_self_adjoint=False,
            is_square=True,
        )  # fmt: skip


class LinearOperatorDiag(LinearOperator):
    """A (batch of) diagonal matrices, given by the diagonal [..., N]."""

    def __init__(self, diag, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=True, name="LinearOperatorDiag"):  # fmt: skip
        params = dict(diag=diag, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                      is_positive_definite=is_positive_definite, is_square=is_square, name=name)  # fmt: skip
        self._diag = to_tensor(diag)
        if self._diag.shape.rank is not None and self._diag.shape.rank < 1:
            raise ValueError(
                f"Argument `diag` must have at least 1 dimension, got {self._diag.shape}"
            )
        if not self._diag.dtype.is_complex:
            if is_self_adjoint is False:
                raise ValueError("A real diagonal operator is always self adjoint.")
            is_self_adjoint = True
        if is_square is False:
            raise ValueError("Only square diagonal operators currently supported.")
        super().__init__(self._diag.dtype, None, is_non_singular, is_self_adjoint,
                         is_positive_definite, True, name, params)  # fmt: skip

    @property
    def diag(self):
        return self._diag

    def _shape(self):
        d = self._diag.shape.as_list()
        return TensorShape(d + d[-1:])

    def _d(self, adjoint):
        return _conj(self._diag) if adjoint else self._diag

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = matrix_adjoint(x) if adjoint_arg else x
        return op("multiply")(op("expand_dims")(self._d(adjoint), -1), x)

    def _matvec(self, x, adjoint=False):
        return op("multiply")(self._d(adjoint), x)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        rhs = matrix_adjoint(rhs) if adjoint_arg else rhs
        return op("math.divide")(rhs, op("expand_dims")(self._d(adjoint), -1))

    def _solvevec(self, rhs, adjoint=False):
        return op("math.divide")(rhs, self._d(adjoint))

    def _to_dense(self):
        return op("linalg.diag")(self._diag)

    def _diag_part(self):
        return self._diag

    def _determinant(self):
        return op("reduce_prod")(self._diag, axis=-1)

    def _log_abs_determinant(self):
        a = op("abs")(self._diag)
        out = op("reduce_sum")(op("math.log")(a), axis=-1)
        return op("cast")(out, self.dtype) if self.dtype.is_complex else out

    def _eigvals(self):
        return self._diag

    def eigvals(self, name="eigvals"):
        return self._diag

    def _add_to_tensor(self, x):
        dp = op("linalg.diag_part")(x)
        return op("linalg.set_diag")(x, op("add")(dp, self._diag))

    def _linop_inverse(self):
        return LinearOperatorDiag(
            op("math.reciprocal")(self._diag), is_non_singular=self.is_non_singular,
            is_self_adjoint=self.is_self_adjoint, is_positive_definite=self.is_positive_definite,
            is_square=True,
        )  # fmt: skip

    def _linop_adjoint(self):
        return LinearOperatorDiag(_conj(self._diag), is_non_singular=self.is_non_singular,
                                  is_self_adjoint=self.is_self_adjoint,
                                  is_positive_definite=self.is_positive_definite, is_square=True)  # fmt: skip

    def _linop_cholesky(self):
        return LinearOperatorDiag(op("sqrt")(self._diag), is_non_singular=True,
                                  is_self_adjoint=True, is_positive_definite=True, is_square=True)  # fmt: skip

    def _linop_matmul(self, other):
        if isinstance(other, LinearOperatorDiag):
            return LinearOperatorDiag(op("multiply")(self._diag, other.diag), is_square=True)
        if isinstance(other, LinearOperatorIdentity):
            return self
        return super()._linop_matmul(other)

    def assert_non_singular(self, name="assert_non_singular"):
        nz = op("not_equal")(self._diag, op("zeros_like")(self._diag))
        self._eager_check(nz, "Singular operator: Diagonal contained zero values.")

    def assert_positive_definite(self, name="assert_positive_definite"):
        re = op("math.real")(self._diag) if self.dtype.is_complex else self._diag
        self._eager_check(
            op("greater")(re, op("zeros_like")(re)),
            "Diagonal operator had diagonal entries with non-positive real part, thus was not "
            "positive definite.",
        )

    def assert_self_adjoint(self, name="assert_self_adjoint"):
        if self.dtype.is_complex:
            im = op("math.imag")(self._diag)
            self._eager_check(op("equal")(im, op("zeros_like")(im)),
                              "This diagonal operator contained non-zero imaginary values.")  # fmt: skip


def _num(v, what):
    s = static_value(v) if not isinstance(v, (int, np.integer)) else v
    if s is None:
        raise ValueError(f"Argument `{what}` must be statically known, got a symbolic tensor")
    s = np.asarray(s)
    if s.ndim != 0 or s.dtype.kind not in "iu":
        raise ValueError(f"Argument `{what}` must be a 0-D integer, got {v!r}")
    if s < 0:
        raise ValueError(f"Argument `{what}` must be non-negative, got {int(s)}")
    return int(s)


def _batch_arg(batch_shape):
    if batch_shape is None:
        return []
    v = static_value(batch_shape) if not isinstance(batch_shape, (list, tuple)) else batch_shape
    v = np.asarray(v)
    if v.ndim != 1 or (v.size and v.dtype.kind not in "iu") or np.any(v < 0):
        raise ValueError(
            f"Argument `batch_shape` must be a 1-D non-negative integer list, got {batch_shape!r}"
        )
    return [int(i) for i in v]


class _BaseIdentity(LinearOperator):
    def _check_hints(self, is_non_singular, is_self_adjoint, is_positive_definite, is_square):
        if is_non_singular is False:
            raise ValueError("An identity operator is always non-singular.")
        if is_positive_definite is False:
            raise ValueError("An identity operator is always positive-definite.")
        if is_self_adjoint is False:
            raise ValueError("An identity operator is always self-adjoint.")
        if is_square is False:
            raise ValueError("An identity operator is always square.")


class LinearOperatorIdentity(_BaseIdentity):
    """The identity of size ``num_rows``, optionally repeated over ``batch_shape``."""

    def __init__(self, num_rows, batch_shape=None, dtype=None, is_non_singular=True,
                 is_self_adjoint=True, is_positive_definite=True, is_square=True,
                 assert_proper_shapes=False, name="LinearOperatorIdentity"):  # fmt: skip
        params = dict(num_rows=num_rows, batch_shape=batch_shape, dtype=dtype,
                      is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                      is_positive_definite=is_positive_definite, is_square=is_square,
                      assert_proper_shapes=assert_proper_shapes, name=name)  # fmt: skip
        self._check_hints(is_non_singular, is_self_adjoint, is_positive_definite, is_square)
        self._num_rows = _num(num_rows, "num_rows")
        self._batch = _batch_arg(batch_shape)
        super().__init__(dtype or _d.float32, None, True, True, True, True, name, params)

    def _shape(self):
        return TensorShape(self._batch + [self._num_rows, self._num_rows])

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = matrix_adjoint(x) if adjoint_arg else x
        return _bcast_arg(x, self._batch)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self._matmul(rhs, adjoint_arg=adjoint_arg)

    def _to_dense(self):
        return op("eye")(self._num_rows, batch_shape=self._batch, dtype=self.dtype)

    def _diag_part(self):
        return op("ones")(self._batch + [self._num_rows], dtype=self.dtype)

    def _determinant(self):
        return op("ones")(self._batch, dtype=self.dtype)

    def _log_abs_determinant(self):
        return op("zeros")(self._batch, dtype=self.dtype)

    def _trace(self):
        return op("fill")(self._batch, _scalar(self._num_rows, self.dtype))

    def _eigvals(self):
        return self._diag_part()

    def _add_to_tensor(self, x):
        return op("add")(x, self._to_dense())

    def _linop_inverse(self):
        return self

    def _linop_cholesky(self):
        return self

    def _linop_matmul(self, other):
        if isinstance(other, LinearOperator) and not self._batch:
            return other
        return super()._linop_matmul(other)


class LinearOperatorScaledIdentity(_BaseIdentity):
    """``multiplier`` times the identity; ``multiplier``'s shape is the batch shape."""

    def __init__(self, num_rows, multiplier, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=True, assert_proper_shapes=False,
                 name="LinearOperatorScaledIdentity"):  # fmt: skip
        params = dict(num_rows=num_rows, multiplier=multiplier, is_non_singular=is_non_singular,
                      is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                      is_square=is_square, assert_proper_shapes=assert_proper_shapes, name=name)  # fmt: skip
        if is_square is False:
            raise ValueError("A ScaledIdentity operator is always square.")
        self._multiplier = to_tensor(multiplier)
        check_dtype("multiplier", self._multiplier)
        self._num_rows = _num(num_rows, "num_rows")
        if not self._multiplier.dtype.is_complex and is_self_adjoint is None:
            is_self_adjoint = True
        super().__init__(self._multiplier.dtype, None, is_non_singular, is_self_adjoint,
                         is_positive_definite, True, name, params)  # fmt: skip

    @property
    def multiplier(self):
        return self._multiplier

    def _shape(self):
        return TensorShape(self._multiplier.shape.as_list() + [self._num_rows] * 2)

    def _m(self, adjoint):
        m = _conj(self._multiplier) if adjoint else self._multiplier
        return op("expand_dims")(op("expand_dims")(m, -1), -1)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = matrix_adjoint(x) if adjoint_arg else x
        return op("multiply")(self._m(adjoint), x)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        rhs = matrix_adjoint(rhs) if adjoint_arg else rhs
        return op("math.divide")(rhs, self._m(adjoint))

    def _to_dense(self):
        eye = op("eye")(self._num_rows, dtype=self.dtype)
        return op("multiply")(self._m(False), eye)

    def _diag_part(self):
        ones = op("ones")([self._num_rows], dtype=self.dtype)
        return op("multiply")(op("expand_dims")(self._multiplier, -1), ones)

    def _determinant(self):
        return op("pow")(self._multiplier, _scalar(self._num_rows, self.dtype))

    def _log_abs_determinant(self):
        out = op("multiply")(
            _scalar(self._num_rows, self.dtype.real_dtype),
            op("math.log")(op("abs")(self._multiplier)),
        )
        return op("cast")(out, self.dtype) if self.dtype.is_complex else out

    def _trace(self):
        return op("multiply")(self._multiplier, _scalar(self._num_rows, self.dtype))

    def _eigvals(self):
        return self._diag_part()

    def _add_to_tensor(self, x):
        dp = op("linalg.diag_part")(x)
        return op("linalg.set_diag")(x, op("add")(dp, op("expand_dims")(self._multiplier, -1)))

    def _linop_inverse(self):
        return LinearOperatorScaledIdentity(self._num_rows, op("math.reciprocal")(self._multiplier),
                                            is_non_singular=self.is_non_singular,
                                            is_self_adjoint=self.is_self_adjoint,
                                            is_positive_definite=self.is_positive_definite)  # fmt: skip

    def _linop_adjoint(self):
        return LinearOperatorScaledIdentity(self._num_rows, _conj(self._multiplier),
                                            is_non_singular=self.is_non_singular,
                                            is_self_adjoint=self.is_self_adjoint,
                                            is_positive_definite=self.is_positive_definite)  # fmt: skip

    def _linop_cholesky(self):
        return LinearOperatorScaledIdentity(self._num_rows, op("sqrt")(self._multiplier),
                                            is_non_singular=True, is_self_adjoint=True,
                                            is_positive_definite=True)  # fmt: skip


class LinearOperatorZeros(LinearOperator):
    """The zero matrix [batch_shape, num_rows, num_columns]."""

    def __init__(self, num_rows, num_columns=None, batch_shape=None, dtype=None,
                 is_non_singular=False, is_self_adjoint=True, is_positive_definite=False,
                 is_square=True, assert_proper_shapes=False, name="LinearOperatorZeros"):  # fmt: skip
        params = dict(num_rows=num_rows, num_columns=num_columns, batch_shape=batch_shape,
                      dtype=dtype, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                      is_positive_definite=is_positive_definite, is_square=is_square,
                      assert_proper_shapes=assert_proper_shapes, name=name)  # fmt: skip
        if is_non_singular:
            raise ValueError("A Zeros operator is always singular.")
        if is_positive_definite:
            raise ValueError("A Zeros operator is never positive-definite.")
        self._num_rows = _num(num_rows, "num_rows")
        self._num_columns = (
            self._num_rows if num_columns is None else _num(num_columns, "num_columns")
        )
        if is_square and self._num_rows != self._num_columns:
            raise ValueError(
                f"LinearOperatorZeros initialized as is_square=True, but got num_rows"
                f"({self._num_rows}) != num_columns({self._num_columns})"
            )
        if self._num_rows != self._num_columns:
            is_self_adjoint = False if is_self_adjoint else is_self_adjoint
            is_square = False
        self._batch = _batch_arg(batch_shape)
        super().__init__(dtype or _d.float32, None, False, is_self_adjoint or None, False,
                         is_square, name, params)  # fmt: skip

    def _shape(self):
        return TensorShape(self._batch + [self._num_rows, self._num_columns])

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = matrix_adjoint(x) if adjoint_arg else x
        rows = self._num_columns if adjoint else self._num_rows
        batch = broadcast_batch(self._batch, batch_dims(x, 2)).as_list()
        return op("zeros")(batch + [rows, x.shape.as_list()[-1]], dtype=self.dtype)

    def _to_dense(self):
        return op("zeros")(self.shape.as_list(), dtype=self.dtype)

    def _diag_part(self):
        return op("zeros")(self._batch + [min(self._num_rows, self._num_columns)], dtype=self.dtype)

    def _determinant(self):
        return op("zeros")(self._batch, dtype=self.dtype)

    def _log_abs_determinant(self):
        return op("fill")(self._batch, _scalar(-np.inf, self.dtype))

    def _trace(self):
        return op("zeros")(self._batch, dtype=self.dtype)

    def _eigvals(self):
        return self._diag_part()

    def _add_to_tensor(self, x):
        return op("identity")(x)

    def solve(self, rhs, adjoint=False, adjoint_arg=False, name="solve"):
        raise NotImplementedError("Zero operator can't be inverted.")

    def solvevec(self, rhs, adjoint=False, name="solve"):
        raise NotImplementedError("Zero operator can't be inverted.")


class LinearOperatorLowerTriangular(LinearOperator):
    """A lower-triangular matrix (only the lower triangle of ``tril`` is read)."""

    def __init__(self, tril, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None, name="LinearOperatorLowerTriangular"):  # fmt: skip
        params = dict(tril=tril, is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                      is_positive_definite=is_positive_definite, is_square=is_square, name=name)  # fmt: skip
        if is_square is False:
            raise ValueError("Only square lower triangular operators supported at this time.")
        t = to_tensor(tril)
        check_dtype("tril", t)
        self._tril = op("linalg.band_part")(t, -1, 0)
        super().__init__(t.dtype, None, is_non_singular, is_self_adjoint,
                         is_positive_definite, True, name, params)  # fmt: skip

    @property
    def tril(self):
        return self._tril

    def _shape(self):
        return self._tril.shape

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return op("linalg.matmul")(self._tril, x, adjoint_a=adjoint, adjoint_b=adjoint_arg)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        rhs = matrix_adjoint(rhs) if adjoint_arg else rhs
        return op("linalg.triangular_solve")(self._tril, rhs, lower=True, adjoint=adjoint)

    def _to_dense(self):
        return self._tril

    def _determinant(self):
        return op("reduce_prod")(self._diag_part(), axis=-1)

    def _log_abs_determinant(self):
        out = op("reduce_sum")(op("math.log")(op("abs")(self._diag_part())), axis=-1)
        return op("cast")(out, self.dtype) if self.dtype.is_complex else out

    def _eigvals(self):
        return self._diag_part()

    def eigvals(self, name="eigvals"):
        return self._diag_part()


class LinearOperatorHouseholder(LinearOperator):
    """The reflection ``I - 2 v v^H / (v^H v)`` about the hyperplane orthogonal to v."""

    def __init__(self, reflection_axis, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None, name="LinearOperatorHouseholder"):  # fmt: skip
        params = dict(reflection_axis=reflection_axis, is_non_singular=is_non_singular,
                      is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                      is_square=is_square, name=name)  # fmt: skip
        if is_self_adjoint is False:
            raise ValueError("A Householder operator is always self adjoint.")
        if is_non_singular is False:
            raise ValueError("A Householder operator is always non-singular.")
        if is_square is False:
            raise ValueError("A Householder operator is always square.")
        if is_positive_definite is True:
            raise ValueError("A Householder operator is never positive definite.")
        self._v = to_tensor(reflection_axis)
        check_dtype("reflection_axis", self._v)
        super().__init__(self._v.dtype, None, True, True, is_positive_definite, True, name, params)

    @property
    def reflection_axis(self):
        return self._v

    def _shape(self):
        d = self._v.shape.as_list()
        return TensorShape(d + d[-1:])

    def _unit(self):
        return op("math.l2_normalize")(self._v, axis=-1)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = matrix_adjoint(x) if adjoint_arg else x
        u = self._unit()
        proj = op("einsum")("...i,...ik->...k", _conj(u), x)  # u^H x
        two = _scalar(2.0, self.dtype)
        return op("subtract")(x, op("multiply")(two, op("einsum")("...i,...k->...ik", u, proj)))

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self._matmul(rhs, adjoint_arg=adjoint_arg)  # a reflection is its own inverse

    def _determinant(self):
        return op("fill")(self.batch_shape.as_list(), _scalar(-1.0, self.dtype))

    def _log_abs_determinant(self):
        return op("zeros")(self.batch_shape.as_list(), dtype=self.dtype)

    def _diag_part(self):
        u = self._unit()
        mag = op("multiply")(u, _conj(u))
        return op("subtract")(op("ones_like")(mag), op("multiply")(_scalar(2.0, self.dtype), mag))

    def _trace(self):
        n = self.domain_dimension.value
        return op("fill")(self.batch_shape.as_list(), _scalar(n - 2, self.dtype))

    def _eigvals(self):
        n = self.domain_dimension.value
        vals = np.ones(n, dtype=self.dtype.np)
        if n:
            vals[0] = -1
        ones = op("ones")(self.batch_shape.as_list() + [n], dtype=self.dtype)
        return op("multiply")(ones, convert_to_tensor(vals))

    def _linop_inverse(self):
        return self


class LinearOperatorPermutation(LinearOperator):
    """The permutation matrix P with ``(P x)[i] = x[perm[i]]``."""

    def __init__(self, perm, dtype=_d.float32, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None, name="LinearOperatorPermutation"):  # fmt: skip
        params = dict(perm=perm, dtype=dtype, is_non_singular=is_non_singular,
                      is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                      is_square=is_square, name=name)  # fmt: skip
        if is_non_singular is False:
            raise ValueError("A Permutation operator is always non-singular.")
        if is_square is False:
            raise ValueError("A Permutation operator is always square.")
        self._perm = to_tensor(perm)
        if not self._perm.dtype.is_integer:
            raise TypeError(
                f"Argument `perm` must be integer dtype. Received: {self._perm.dtype.name}"
            )
        p = static_value(self._perm)
        if p is not None:
            p = np.asarray(p)
            if p.ndim < 1 or (p.size and not np.all(np.sort(p, -1) == np.arange(p.shape[-1]))):
                raise ValueError(
                    f"Argument `perm` must be a permutation of [0, N), got {p.tolist()}"
                )
        super().__init__(
            dtype, None, True, is_self_adjoint, is_positive_definite, True, name, params
        )

    @property
    def perm(self):
        return self._perm

    def _shape(self):
        d = self._perm.shape.as_list()
        return TensorShape(d + d[-1:])

    def _to_dense(self):
        return op("one_hot")(self._perm, self.domain_dimension.value, dtype=self.dtype)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = matrix_adjoint(x) if adjoint_arg else x
        # P^T undoes P: gather with the inverse permutation
        idx = op("argsort")(self._perm, axis=-1) if adjoint else self._perm
        batch = broadcast_batch(self.batch_shape, batch_dims(x, 2)).as_list()
        bt = op("broadcast_to")
        x = bt(x, batch + x.shape.as_list()[-2:])
        idx = bt(idx, batch + idx.shape.as_list()[-1:])
        return op("gather")(x, idx, axis=-2, batch_dims=len(batch))

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self._matmul(rhs, adjoint=not adjoint, adjoint_arg=adjoint_arg)

    def _determinant(self):
        return op("linalg.slogdet")(self._to_dense()).sign

    def _log_abs_determinant(self):
        return op("zeros")(self.batch_shape.as_list(), dtype=self.dtype)

    def _linop_adjoint(self):
        return LinearOperatorPermutation(op("argsort")(self._perm, axis=-1), dtype=self.dtype)

    def _linop_inverse(self):
        return self._linop_adjoint()


class LinearOperatorTridiag(LinearOperator):
    """A tridiagonal matrix in 'compact', 'sequence' or 'matrix' format (as
    ``tf.linalg.tridiagonal_solve`` takes)."""

    def __init__(self, diagonals, diagonals_format="compact", is_non_singular=None,
                 is_self_adjoint=None, is_positive_definite=None, is_square=None,
                 name="LinearOperatorTridiag"):  # fmt: skip
        params = dict(diagonals=diagonals, diagonals_format=diagonals_format,
                      is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                      is_positive_definite=is_positive_definite, is_square=is_square, name=name)  # fmt: skip
        if diagonals_format not in ("compact", "matrix", "sequence"):
            raise ValueError(
                f"Diagonals Format must be one of compact, matrix, sequence, got : {diagonals_format}"
            )
        if is_square is False:
            raise ValueError("Only square tridiagonal operators are supported.")
        self._format = diagonals_format
        if diagonals_format == "sequence":
            self._diagonals = [to_tensor(t) for t in diagonals]
            dt = self._diagonals[0].dtype
        else:
            self._diagonals = to_tensor(diagonals)
            dt = self._diagonals.dtype
        from rill.ops.linalg_banded_ops import _to_compact

        self._compact = _to_compact("LinearOperatorTridiag", diagonals, diagonals_format, dtype=dt)
        super().__init__(dt, None, is_non_singular, is_self_adjoint, is_positive_definite, True,
                         name, params)  # fmt: skip

    @property
    def diagonals(self):
        return self._diagonals

    @property
    def diagonals_format(self):
        return self._format

    def _shape(self):
        d = self._compact.shape.as_list()
        return TensorShape(d[:-2] + [d[-1], d[-1]])

    def _adjoint_compact(self):
        from rill.ops.linalg_banded_ops import _adjoint_compact

        return _adjoint_compact(self._compact)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = matrix_adjoint(x) if adjoint_arg else x
        d = self._adjoint_compact() if adjoint else self._compact
        return op("linalg.tridiagonal_matmul")(d, _bcast_arg(x, self.batch_shape.as_list()))

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        d = self._adjoint_compact() if adjoint else self._compact
        return op("linalg.tridiagonal_solve")(d, rhs, transpose_rhs=adjoint_arg,
                                              conjugate_rhs=adjoint_arg)  # fmt: skip

    def _diag_part(self):
        return self._compact[..., 1, :]

    def _to_dense(self):
        c = self._compact
        n = self.domain_dimension.value
        dense = op("linalg.diag")(c[..., 1, :])
        if n > 1:
            dense = op("add")(dense, op("linalg.diag")(c[..., 0, :-1], k=1, num_rows=n, num_cols=n))
            dense = op("add")(dense, op("linalg.diag")(c[..., 2, 1:], k=-1, num_rows=n, num_cols=n))
        return dense


class LinearOperatorToeplitz(LinearOperator):
    """A Toeplitz matrix: first column ``col``, first row ``row`` (``row[0]`` ignored);
    products use a circulant embedding and the FFT."""

    def __init__(self, col, row, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None, name="LinearOperatorToeplitz"):  # fmt: skip
        params = dict(col=col, row=row, is_non_singular=is_non_singular,
                      is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                      is_square=is_square, name=name)  # fmt: skip
        self._col = to_tensor(col)
        check_dtype("col", self._col)
        self._row = to_tensor(row, self._col.dtype)
        if self._row.dtype is not self._col.dtype:
            raise TypeError(
                f"Expected `row` dtype {self._col.dtype.name}, got {self._row.dtype.name}"
            )
        super().__init__(self._col.dtype, None, is_non_singular, is_self_adjoint,
                         is_positive_definite, True, name, params)  # fmt: skip

    @property
    def col(self):
        return self._col

    @property
    def row(self):
        return self._row

    def _shape(self):
        b = broadcast_batch(batch_dims(self._col, 1), batch_dims(self._row, 1)).as_list()
        n = self._col.shape.as_list()[-1]
        return TensorShape(b + [n, n])

    def _vals(self):
        """v with T[i, j] = v[n - 1 + i - j]: the reversed row tail, then the column."""
        rev = op("reverse")(self._row[..., 1:], [-1])
        batch = self.batch_shape.as_list()
        bt = op("broadcast_to")
        n = self.domain_dimension.value
        rev = bt(rev, batch + [n - 1])
        col = bt(self._col, batch + [n])
        return op("concat")([rev, col], axis=-1)

    def _to_dense(self):
        n = self.domain_dimension.value
        idx = (n - 1) + np.arange(n)[:, None] - np.arange(n)[None, :]
        v = self._vals()
        return op("gather")(v, convert_to_tensor(idx.astype(np.int32)), axis=-1,
                            batch_dims=0)  # fmt: skip

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = matrix_adjoint(x) if adjoint_arg else x
        if adjoint:  # T^H is the Toeplitz matrix with col conj(row), row conj(col)
            other = LinearOperatorToeplitz(_conj(self._row_with_corner()), _conj(self._col))
            return other._matmul(x)
        n = self.domain_dimension.value
        ctype = _d.complex128 if self.dtype in (_d.float64, _d.complex128) else _d.complex64
        batch = self.batch_shape.as_list()
        bt = op("broadcast_to")
        col = bt(self._col, batch + [n])
        row = bt(self._row, batch + [n])
        # circulant embedding of size 2n: first column [col, 0, reversed row tail]
        zero = op("zeros_like")(col[..., :1])
        c = op("concat")([col, zero, op("reverse")(row[..., 1:], [-1])], axis=-1)
        spec = op("signal.fft")(op("cast")(c, ctype))
        xt = op("linalg.matrix_transpose")(op("cast")(x, ctype))  # [..., K, n]
        xt = op("concat")([xt, op("zeros_like")(xt)], axis=-1)
        y = op("signal.ifft")(op("multiply")(op("expand_dims")(spec, -2), op("signal.fft")(xt)))
        y = op("linalg.matrix_transpose")(y[..., :n])
        return (
            op("cast")(op("math.real")(y), self.dtype)
            if not self.dtype.is_complex
            else op("cast")(y, self.dtype)
        )

    def _row_with_corner(self):
        """The row with its first entry replaced by col[0] (the row of T^H is conj(col))."""
        return op("concat")([self._col[..., :1] + op("zeros_like")(self._row[..., :1]),
                             self._row[..., 1:]], axis=-1)  # fmt: skip

    def _diag_part(self):
        n = self.domain_dimension.value
        ones = op("ones")(self.batch_shape.as_list() + [n], dtype=self.dtype)
        return op("multiply")(ones, self._col[..., :1])
