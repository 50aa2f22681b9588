"""Circulant operators (1-D, and block-circulant 2-D / 3-D), given by their spectrum:
the FFT of the convolution kernel. Products and solves are pointwise in Fourier space."""

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

__all__ = ["LinearOperatorCirculant", "LinearOperatorCirculant2D", "LinearOperatorCirculant3D"]

_FFT = {1: ("signal.fft", "signal.ifft"), 2: ("signal.fft2d", "signal.ifft2d"),
        3: ("signal.fft3d", "signal.ifft3d")}  # fmt: skip


class _BaseCirculant(LinearOperator):
    _depth = 1

    def __init__(self, spectrum, input_output_dtype=_d.complex64, is_non_singular=None,
                 is_self_adjoint=None, is_positive_definite=None, is_square=True, name=None):  # fmt: skip
        params = dict(spectrum=spectrum, input_output_dtype=input_output_dtype,
                      is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                      is_positive_definite=is_positive_definite, is_square=is_square, name=name)  # fmt: skip
        if is_square is False:
            raise ValueError("A circulant operator is always square.")
        self._spectrum = to_tensor(spectrum)
        check_dtype("spectrum", self._spectrum)
        if self._spectrum.shape.rank is not None and self._spectrum.shape.rank < self._depth:
            raise ValueError(
                f"Argument `spectrum` must have at least {self._depth} dimensions, got "
                f"{self._spectrum.shape}"
            )
        if not self._spectrum.dtype.is_complex:
            if is_self_adjoint is False:
                raise ValueError("A real spectrum always corresponds to a self-adjoint operator.")
            is_self_adjoint = True
        super().__init__(input_output_dtype, None, is_non_singular, is_self_adjoint,
                         is_positive_definite, True, name or type(self).__name__, params)  # fmt: skip

    @property
    def spectrum(self):
        return self._spectrum

    @property
    def block_depth(self) -> int:
        return self._depth

    @property
    def block_shape(self) -> TensorShape:
        return TensorShape(self._spectrum.shape.as_list()[-self._depth :])

    def block_shape_tensor(self):
        return to_tensor(np.asarray(self.block_shape.as_list(), np.int32))

    def _ctype(self):
        hi = self.dtype in (_d.float64, _d.complex128) or self._spectrum.dtype in (
            _d.float64, _d.complex128)  # fmt: skip
        return _d.complex128 if hi else _d.complex64

    def _cspec(self, adjoint=False, inverse=False):
        s = op("cast")(self._spectrum, self._ctype())
        if adjoint:
            s = op("math.conj")(s)
        if inverse:
            s = op("math.reciprocal")(s)
        return s

    def _out(self, y):
        if self.dtype.is_complex:
            return op("cast")(y, self.dtype)
        return op("cast")(op("math.real")(y), self.dtype)

    def _shape(self):
        d = self._spectrum.shape.as_list()
        n = int(np.prod(d[len(d) - self._depth :]))
        return TensorShape(d[: len(d) - self._depth] + [n, n])

    def _apply(self, x, spec):
        fft, ifft = (op(n) for n in _FFT[self._depth])
        batch = broadcast_batch(self.batch_shape, batch_dims(x, 2)).as_list()
        block = self.block_shape.as_list()
        k = x.shape.as_list()[-1]
        xt = op("linalg.matrix_transpose")(op("cast")(x, self._ctype()))
        xt = op("broadcast_to")(xt, batch + [k, int(np.prod(block))])
        xt = op("reshape")(xt, batch + [k] + block)
        spec = op("expand_dims")(spec, -1 - self._depth)  # broadcast over the K columns
        y = ifft(op("multiply")(spec, fft(xt)))
        y = op("reshape")(y, batch + [k, int(np.prod(block))])
        return self._out(op("linalg.matrix_transpose")(y))

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = matrix_adjoint(x) if adjoint_arg else x
        return self._apply(x, self._cspec(adjoint=adjoint))

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        rhs = matrix_adjoint(rhs) if adjoint_arg else rhs
        return self._apply(rhs, self._cspec(adjoint=adjoint, inverse=True))

    def _flat_spec(self):
        s = self._cspec()
        d = s.shape.as_list()
        return op("reshape")(
            s, d[: len(d) - self._depth] + [int(np.prod(d[len(d) - self._depth :]))]
        )

    def convolution_kernel(self, name="convolution_kernel"):
        """The kernel h whose circular convolution this operator is: ifft(spectrum)."""
        return self._out(op(_FFT[self._depth][1])(self._cspec()))

    def _to_dense(self):
        n = self.domain_dimension.value
        eye = op("eye")(n, batch_shape=self.batch_shape.as_list(), dtype=self.dtype)
        return self._matmul(eye)

    def _diag_part(self):
        flat = self._flat_spec()
        mean = op("reduce_mean")(flat, axis=-1, keepdims=True)
        return self._out(op("multiply")(mean, op("ones_like")(flat)))

    def _trace(self):
        return self._out(op("reduce_sum")(self._flat_spec(), axis=-1))

    def _determinant(self):
        return self._out(op("reduce_prod")(self._flat_spec(), axis=-1))

    def _log_abs_determinant(self):
        la = op("reduce_sum")(op("math.log")(op("abs")(self._flat_spec())), axis=-1)
        return op("cast")(la, self.dtype)

    def _eigvals(self):
        return self._out(self._flat_spec())

    def eigvals(self, name="eigvals"):
        return self._eigvals()

    def _with_spectrum(self, s):
        return type(self)(s, input_output_dtype=self.dtype, is_non_singular=self.is_non_singular,
                          is_self_adjoint=self.is_self_adjoint,
                          is_positive_definite=self.is_positive_definite)  # fmt: skip

    def _linop_inverse(self):
        return self._with_spectrum(op("math.reciprocal")(self._spectrum))

    def _linop_adjoint(self):
        s = self._spectrum
        return self._with_spectrum(op("math.conj")(s) if s.dtype.is_complex else s)


class LinearOperatorCirculant(_BaseCirculant):
    """Circulant matrices [..., N, N] with eigenvalues ``spectrum`` [..., N]."""

    _depth = 1

    def __init__(self, spectrum, input_output_dtype=_d.complex64, is_non_singular=None,
                 is_self_adjoint=None, is_positive_definite=None, is_square=True,
                 name="LinearOperatorCirculant"):  # fmt: skip
        """Circulant operator with the given spectrum (the FFT of its first column)."""
        super().__init__(spectrum, input_output_dtype, is_non_singular, is_self_adjoint,
                         is_positive_definite, is_square, name)  # fmt: skip


class LinearOperatorCirculant2D(_BaseCirculant):
    """Block-circulant matrices with circulant blocks; ``spectrum`` [..., N0, N1]."""

    _depth = 2

    def __init__(self, spectrum, input_output_dtype=_d.complex64, is_non_singular=None,
                 is_self_adjoint=None, is_positive_definite=None, is_square=True,
                 name="LinearOperatorCirculant2D"):  # fmt: skip
        """2-D circulant operator with the given spectrum (the 2-D FFT of its kernel)."""
        super().__init__(spectrum, input_output_dtype, is_non_singular, is_self_adjoint,
                         is_positive_definite, is_square, name)  # fmt: skip


class LinearOperatorCirculant3D(_BaseCirculant):
    """3-D block-circulant matrices; ``spectrum`` [..., N0, N1, N2]."""

    _depth = 3

    def __init__(self, spectrum, input_output_dtype=_d.complex64, is_non_singular=None,
                 is_self_adjoint=None, is_positive_definite=None, is_square=True,
                 name="LinearOperatorCirculant3D"):  # fmt: skip
        """3-D circulant operator with the given spectrum (the 3-D FFT of its kernel)."""
        super().__init__(spectrum, input_output_dtype, is_non_singular, is_self_adjoint,
                         is_positive_definite, is_square, name)  # fmt: skip
