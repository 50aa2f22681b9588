"""``tf.linalg.LinearOperator``: a (batch of) matrices known by how they act.

Subclasses define ``_shape`` and ``_matmul`` (and, where their structure allows, faster
``_solve``, ``_determinant``, ``_diag_part``...); everything else has a dense default
here, written with rill's public ops so it works eagerly, on a tape and in a graph.
"""

from __future__ import annotations

import numpy as np

import rill.ops  # noqa: F401 - registers the ops used below
from rill.core import dtypes as _d
from rill.core.errors import InvalidArgumentError
from rill.core.tensor_shape import Dimension, TensorShape
from rill.ops._op import EXPORTS, convert_to_tensor, static_value

__all__ = ["LinearOperator"]


def op(name: str):
    """A public rill op by its TF name ("linalg.matmul", "reduce_sum")."""
    ns, _, leaf = name.rpartition(".")
    return EXPORTS[(ns, leaf)]


_FLOATS = (_d.float16, _d.float32, _d.float64, _d.complex64, _d.complex128)


def check_dtype(arg_name, x, allowed=_FLOATS):
    if x.dtype not in allowed:
        names = ", ".join(f"tf.{t.name}" for t in allowed)
        raise TypeError(
            f"Argument `{arg_name}` must have dtype in [{names}]. Received: {x.dtype.name}."
        )


def to_tensor(x, dtype=None, name="x"):
    """Convert an operator argument; a Python value takes ``dtype`` when given."""
    return convert_to_tensor(x, dtype=dtype)


def broadcast_batch(*shapes):
    """Broadcast batch shapes (TensorShapes, possibly partial) statically."""
    out = TensorShape([])
    for s in shapes:
        out = TensorShape(op("broadcast_static_shape")(out, TensorShape(s)))
    return out


def matrix_adjoint(x):
    return op("linalg.adjoint")(x)


def batch_dims(x, n):
    """Static dims of ``x`` without its last ``n``."""
    d = x.shape.as_list()
    return d[: len(d) - n]


class LinearOperator:
    """Base class: a [B1, ..., Bb, M, N] batch of linear maps, with TF's methods."""

    def __init__(
        self,
        dtype,
        graph_parents=None,
        is_non_singular=None,
        is_self_adjoint=None,
        is_positive_definite=None,
        is_square=None,
        name=None,
        parameters=None,
    ):
        """Record the dtype and the hints, checking that they are consistent."""
        if is_positive_definite:
            if is_non_singular is False:
                raise ValueError("A positive definite matrix is always non-singular.")
            is_non_singular = True
        if is_non_singular:
            if is_square is False:
                raise ValueError("A non-singular matrix is always square.")
            is_square = True
        if is_self_adjoint:
            if is_square is False:
                raise ValueError("A self-adjoint matrix is always square.")
            is_square = True
        self._dtype = _d.as_dtype(dtype) if dtype is not None else None
        self._is_non_singular = is_non_singular
        self._is_self_adjoint = is_self_adjoint
        self._is_positive_definite = is_positive_definite
        self._name = name or type(self).__name__
        self._parameters = dict(parameters) if parameters is not None else {}
        self._graph_parents = list(graph_parents or [])
        self._is_square_set = is_square
        if is_square is not None:
            auto = self._is_square_from_shape()
            if auto is not None and auto != is_square:
                raise ValueError(
                    f"User set is_square hint to {is_square}, but the operator was square = "
                    f"{auto} (shape {self.shape})."
                )

    # ---------------------------------------------------------------- properties
    @property
    def dtype(self):
        """The dtype of the matrix and of the tensors it acts on."""
        return self._dtype

    @property
    def name(self) -> str:
        """Name given at construction."""
        return self._name

    @property
    def parameters(self) -> dict:
        """The constructor arguments."""
        return dict(self._parameters)

    @property
    def graph_parents(self) -> list:
        """Deprecated in TF: always an empty list here."""
        return list(self._graph_parents)

    @property
    def is_non_singular(self):
        return self._is_non_singular

    @property
    def is_self_adjoint(self):
        return self._is_self_adjoint

    @property
    def is_positive_definite(self):
        return self._is_positive_definite

    def _is_square_from_shape(self):
        try:
            s = self.shape
        except Exception:  # noqa: BLE001 - subclasses finishing their __init__
            return None
        if s.rank is None or s[-1] is None or s[-2] is None:
            return None
        return s[-1] == s[-2]

    @property
    def is_square(self):
        """True/False when known: the hint, else whether the static shape is square."""
        if self._is_square_set is not None:
            return self._is_square_set
        return self._is_square_from_shape()

    @property
    def shape(self) -> TensorShape:
        """Static shape [B1, ..., Bb, M, N]."""
        return self._shape()

    def shape_tensor(self, name="shape_tensor"):
        """The shape as an int32 tensor."""
        s = self.shape
        if s.is_fully_defined():
            return convert_to_tensor(np.asarray(s.as_list(), np.int32))
        return self._shape_tensor()

    def _shape_tensor(self):
        raise ValueError(f"{self.name}: the shape is not statically known")

    @property
    def batch_shape(self) -> TensorShape:
        return TensorShape(self.shape.as_list()[:-2])

    def batch_shape_tensor(self, name="batch_shape_tensor"):
        return self.shape_tensor()[:-2]

    @property
    def tensor_rank(self):
        return self.shape.rank

    def tensor_rank_tensor(self, name="tensor_rank_tensor"):
        return convert_to_tensor(np.int32(self.shape.rank))

    @property
    def domain_dimension(self) -> Dimension:
        return Dimension(self.shape.as_list()[-1])

    def domain_dimension_tensor(self, name="domain_dimension_tensor"):
        return self.shape_tensor()[-1]

    @property
    def range_dimension(self) -> Dimension:
        return Dimension(self.shape.as_list()[-2])

    def range_dimension_tensor(self, name="range_dimension_tensor"):
        return self.shape_tensor()[-2]

    @property
    def H(self):  # noqa: N802 - TF's name
        return self.adjoint()

    # ---------------------------------------------------------------- checks
    def _check_input_dtype(self, x):
        if x.dtype is not self.dtype:
            raise TypeError(
                f"Expected argument to have dtype {self.dtype.name}. Found: {x.dtype.name} in "
                f"tensor {x.shape}"
            )

    def _check_inner(self, x, adjoint, adjoint_arg, vector=False):
        want = self.range_dimension.value if adjoint else self.domain_dimension.value
        d = x.shape.as_list()
        have = d[-1] if vector or adjoint_arg else d[-2]
        if want is not None and have is not None and want != have:
            raise ValueError(
                f"Dimensions {want} and {have} are not compatible: {self.name} of shape "
                f"{self.shape}{' (adjoint)' if adjoint else ''} cannot act on an argument of "
                f"shape {x.shape}{' (adjoint_arg)' if adjoint_arg else ''}"
            )

    def _check_square(self, what):
        if self.is_square is False:
            raise NotImplementedError(
                f"{what} not implemented for an operator that is expected to not be square."
            )

    # ---------------------------------------------------------------- products
    def matmul(self, x, adjoint=False, adjoint_arg=False, name="matmul"):
        """``op(A) @ op(x)``: an operator x gives a composed operator."""
        if isinstance(x, LinearOperator):
            left = self.adjoint() if adjoint else self
            right = x.adjoint() if adjoint_arg else x
            return left._linop_matmul(right)
        x = to_tensor(x, self.dtype)
        self._check_input_dtype(x)
        self._check_inner(x, adjoint, adjoint_arg)
        return self._matmul(x, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def _linop_matmul(self, other):
        from rill.linalg.linear_operator_combined import LinearOperatorComposition

        return LinearOperatorComposition([self, other])

    def __matmul__(self, other):
        return self.matmul(other)

    def matvec(self, x, adjoint=False, name="matvec"):
        """``op(A) @ x`` for a (batch of) vectors x [..., N]."""
        x = to_tensor(x, self.dtype)
        self._check_input_dtype(x)
        self._check_inner(x, adjoint, False, vector=True)
        return self._matvec(x, adjoint=adjoint)

    def _matvec(self, x, adjoint=False):
        expand, squeeze = op("expand_dims"), op("squeeze")
        return squeeze(self._matmul(expand(x, -1), adjoint=adjoint), -1)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return op("linalg.matmul")(self.to_dense(), x, adjoint_a=adjoint, adjoint_b=adjoint_arg)

    def to_dense(self, name="to_dense"):
        """The dense [..., M, N] matrix."""
        return self._to_dense()

    def _to_dense(self):
        n = self.domain_dimension.value
        ident = op("eye")(n, batch_shape=self.batch_shape.as_list(), dtype=self.dtype)
        return self._matmul(ident)

    # ---------------------------------------------------------------- solves
    def solve(self, rhs, adjoint=False, adjoint_arg=False, name="solve"):
        """``x`` with ``op(A) @ x = op(rhs)``; an operator rhs gives a composed operator."""
        if self.is_non_singular is False:
            raise NotImplementedError(
                "Exact solve not implemented for an operator that is expected to be singular."
            )
        self._check_square("Exact solve")
        if isinstance(rhs, LinearOperator):
            left = self.adjoint() if adjoint else self
            right = rhs.adjoint() if adjoint_arg else rhs
            return left.inverse().matmul(right)
        rhs = to_tensor(rhs, self.dtype)
        self._check_input_dtype(rhs)
        self._check_inner(rhs, not adjoint, adjoint_arg)
        return self._solve(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        if adjoint_arg:
            rhs = matrix_adjoint(rhs)
        mat = self.to_dense()
        batch = broadcast_batch(batch_dims(mat, 2), batch_dims(rhs, 2)).as_list()
        bt = op("broadcast_to")
        mat = bt(mat, batch + mat.shape.as_list()[-2:])
        rhs = bt(rhs, batch + rhs.shape.as_list()[-2:])
        return op("linalg.solve")(mat, rhs, adjoint=adjoint)

    def solvevec(self, rhs, adjoint=False, name="solve"):
        """``x`` with ``op(A) @ x = rhs`` for (a batch of) vectors."""
        rhs = to_tensor(rhs, self.dtype)
        self._check_input_dtype(rhs)
        if self.is_non_singular is False:
            raise NotImplementedError(
                "Exact solve not implemented for an operator that is expected to be singular."
            )
        self._check_square("Exact solve")
        self._check_inner(rhs, not adjoint, False, vector=True)
        return self._solvevec(rhs, adjoint=adjoint)

    def _solvevec(self, rhs, adjoint=False):
        expand, squeeze = op("expand_dims"), op("squeeze")
        return squeeze(self._solve(expand(rhs, -1), adjoint=adjoint), -1)

    # ---------------------------------------------------------------- scalars
    def determinant(self, name="det"):
        """det(A) for each matrix of the batch."""
        if self.is_square is False:
            raise NotImplementedError(
                "Determinant not implemented for an operator that is expected to not be square."
            )
        return self._determinant()

    def _determinant(self):
        return op("linalg.det")(self.to_dense())

    def log_abs_determinant(self, name="log_abs_det"):
        """log|det(A)| for each matrix of the batch."""
        if self.is_square is False:
            raise NotImplementedError(
                "Determinant not implemented for an operator that is expected to not be square."
            )
        return self._log_abs_determinant()

    def _log_abs_determinant(self):
        la = op("linalg.slogdet")(self.to_dense()).log_abs_determinant
        return la

    def diag_part(self, name="diag_part"):
        """The main diagonal [..., min(M, N)]."""
        return self._diag_part()

    def _diag_part(self):
        return op("linalg.diag_part")(self.to_dense())

    def trace(self, name="trace"):
        """Sum of the diagonal."""
        return self._trace()

    def _trace(self):
        return op("reduce_sum")(self.diag_part(), axis=-1)

    def add_to_tensor(self, x, name="add_to_tensor"):
        """``A + x`` as a dense tensor."""
        x = to_tensor(x, self.dtype)
        self._check_input_dtype(x)
        return self._add_to_tensor(x)

    def _add_to_tensor(self, x):
        return op("add")(self.to_dense(), x)

    def eigvals(self, name="eigvals"):
        """Eigenvalues; only self-adjoint operators are supported (as in TF)."""
        if not self.is_self_adjoint:
            raise NotImplementedError("Only self-adjoint matrices are supported.")
        return self._eigvals()

    def _eigvals(self):
        return op("linalg.eigvalsh")(self.to_dense())

    def cond(self, name="cond"):
        """Condition number: largest over smallest singular value."""
        s = op("linalg.svd")(self.to_dense(), compute_uv=False)
        return op("math.divide")(op("reduce_max")(s, axis=-1), op("reduce_min")(s, axis=-1))

    # ---------------------------------------------------------------- derived operators
    def adjoint(self, name="adjoint"):
        """The adjoint operator (``self`` when self-adjoint)."""
        if self.is_self_adjoint is True:
            return self
        return self._linop_adjoint()

    def _linop_adjoint(self):
        from rill.linalg.linear_operator_combined import LinearOperatorAdjoint

        return LinearOperatorAdjoint(self)

    def inverse(self, name="inverse"):
        """The inverse operator."""
        if self.is_square is False:
            raise ValueError(
                "Cannot take the Inverse: This operator represents a non square matrix."
            )
        if self.is_non_singular is False:
            raise ValueError("Cannot take the Inverse: This operator represents a singular matrix.")
        return self._linop_inverse()

    def _linop_inverse(self):
        from rill.linalg.linear_operator_combined import LinearOperatorInversion

        return LinearOperatorInversion(self)

    def cholesky(self, name="cholesky"):
        """Lower-triangular Cholesky factor, as an operator (needs the PD, self-adjoint hints)."""
        if not (self.is_positive_definite and self.is_self_adjoint):
            raise ValueError(
                "Cannot take the Cholesky decomposition: Not a positive definite self adjoint matrix."
            )
        return self._linop_cholesky()

    def _linop_cholesky(self):
        from rill.linalg.linear_operator_basic import LinearOperatorLowerTriangular

        return LinearOperatorLowerTriangular(
            op("linalg.cholesky")(self.to_dense()),
            is_non_singular=True,
            is_self_adjoint=False,
            is_square=True,
        )

    # ---------------------------------------------------------------- assertions
    def _eager_check(self, ok, message):
        v = static_value(ok)
        if v is not None and not bool(np.all(v)):
            raise InvalidArgumentError(None, None, f"{self.name}: {message}")

    def assert_non_singular(self, name="assert_non_singular"):
        """Raise InvalidArgumentError (eagerly) if some matrix is singular."""
        s = op("linalg.svd")(self.to_dense(), compute_uv=False)
        big = op("reduce_max")(s, axis=-1)
        small = op("reduce_min")(s, axis=-1)
        eps = np.finfo(self.dtype.real_dtype.np).eps
        tol = op("multiply")(big, convert_to_tensor(np.asarray(eps * 100, big.dtype.np)))
        self._eager_check(op("greater")(small, tol), "Singular matrix up to tolerance.")

    def assert_positive_definite(self, name="assert_positive_definite"):
        """Raise InvalidArgumentError (eagerly) if some matrix is not positive definite."""
        dense = self.to_dense()
        sym = op("multiply")(
            op("add")(dense, matrix_adjoint(dense)), convert_to_tensor(0.5, dtype=self.dtype)
        )
        e = op("linalg.eigvalsh")(sym)
        if e.dtype.is_complex:
            e = op("math.real")(e)
        self._eager_check(op("greater")(e, op("zeros_like")(e)), "Not positive definite.")

    def assert_self_adjoint(self, name="assert_self_adjoint"):
        """Raise InvalidArgumentError (eagerly) if some matrix is not self-adjoint."""
        dense = self.to_dense()
        v = static_value(dense)
        if v is not None and not np.allclose(v, np.conj(np.swapaxes(v, -1, -2))):
            raise InvalidArgumentError(None, None, f"{self.name}: Matrix was not self-adjoint.")

    def __repr__(self):
        return f"<rill.linalg.{type(self).__name__} '{self.name}' shape={self.shape} dtype={self.dtype.name}>"
