"""Operators built from other operators: Composition, Inversion, Adjoint, BlockDiag,
BlockLowerTriangular, Kronecker, LowRankUpdate."""

from __future__ import annotations

import numpy as np

from rill.core.tensor_shape import TensorShape
from rill.linalg.linear_operator import (
    LinearOperator,
    batch_dims,
    broadcast_batch,
    matrix_adjoint,
    op,
    to_tensor,
)

__all__ = [
    "LinearOperatorComposition", "LinearOperatorInversion", "LinearOperatorAdjoint",
    "LinearOperatorBlockDiag", "LinearOperatorBlockLowerTriangular", "LinearOperatorKronecker",
    "LinearOperatorLowRankUpdate",
]  # fmt: skip


def _conj(x):
    return op("math.conj")(x) if x.dtype.is_complex else x


def _same_dtype(operators):
    dt = operators[0].dtype
    for o in operators[1:]:
        if o.dtype is not dt:
            names = [o.dtype.name for o in operators]
            raise TypeError(f"Expected all operators to have the same dtype.  Found {names}")
    return dt


def _check_list(operators, what):
    operators = list(operators)
    if not operators:
        raise ValueError(f"Expected a non-empty list of operators. Found: {operators}")
    for o in operators:
        if not isinstance(o, LinearOperator):
            raise TypeError(f"{what}: expected LinearOperators, got {type(o).__name__}")
    return operators


def _all(ops, attr):
    return all(getattr(o, attr) for o in ops)


def _bcast(x, batch):
    full = broadcast_batch(batch, batch_dims(x, 2)).as_list()
    if full == batch_dims(x, 2):
        return x
    return op("broadcast_to")(x, full + x.shape.as_list()[-2:])


def _split_rows(x, sizes):
    out, start = [], 0
    for s in sizes:
        out.append(x[..., start : start + s, :])
        start += s
    return out


class LinearOperatorComposition(LinearOperator):
    """The product ``A1 @ A2 @ ... @ An`` of operators, applied right to left."""

    def __init__(self, operators, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None, name=None):  # fmt: skip
        params = dict(operators=operators, is_non_singular=is_non_singular,
                      is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                      is_square=is_square, name=name)  # fmt: skip
        self._operators = _check_list(operators, "LinearOperatorComposition")
        dt = _same_dtype(self._operators)
        for a, b in zip(self._operators, self._operators[1:]):
            da, rb = a.domain_dimension.value, b.range_dimension.value
            if da is not None and rb is not None and da != rb:
                raise ValueError(
                    f"Operators are incompatible: {a.name} has domain dimension {da} but "
                    f"{b.name} has range dimension {rb}"
                )
        if _all(self._operators, "is_non_singular") and _all(self._operators, "is_square"):
            if is_non_singular is False:
                raise ValueError(
                    "The composition of non-singular operators is always non-singular."
                )
            is_non_singular = True
        name = name or "_o_".join(o.name for o in self._operators)
        super().__init__(dt, None, is_non_singular, is_self_adjoint, is_positive_definite,
                         is_square, name, params)  # fmt: skip

    @property
    def operators(self):
        return list(self._operators)

    def _shape(self):
        b = broadcast_batch(*[o.batch_shape for o in self._operators]).as_list()
        return TensorShape(
            b
            + [self._operators[0].range_dimension.value, self._operators[-1].domain_dimension.value]
        )

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        seq = self._operators if adjoint else self._operators[::-1]
        out = seq[0].matmul(x, adjoint=adjoint, adjoint_arg=adjoint_arg)
        for o in seq[1:]:
            out = o.matmul(out, adjoint=adjoint)
        return out

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        seq = self._operators[::-1] if adjoint else self._operators
        out = seq[0].solve(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg)
        for o in seq[1:]:
            out = o.solve(out, adjoint=adjoint)
        return out

    def _determinant(self):
        if not _all(self._operators, "is_square"):
            return super()._determinant()
        out = self._operators[0].determinant()
        for o in self._operators[1:]:
            out = op("multiply")(out, o.determinant())
        return out

    def _log_abs_determinant(self):
        if not _all(self._operators, "is_square"):
            return super()._log_abs_determinant()
        out = self._operators[0].log_abs_determinant()
        for o in self._operators[1:]:
            out = op("add")(out, o.log_abs_determinant())
        return out


class LinearOperatorInversion(LinearOperator):
    """``operator^-1``: its products are the operator's solves and vice versa."""

    def __init__(self, operator, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None, name=None):  # fmt: skip
        params = dict(operator=operator, is_non_singular=is_non_singular,
                      is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                      is_square=is_square, name=name)  # fmt: skip
        if operator.is_non_singular is False or is_non_singular is False:
            raise ValueError("operator and supplied hints must have is_non_singular=True or None.")
        if operator.is_square is False or is_square is False:
            raise ValueError("operator and supplied hints must have is_square=True or None.")
        self._operator = operator

        def pick(hint, inherited, what):
            if inherited is not None and hint is not None and hint != inherited:
                raise ValueError(f"An operator is {what} if and only if its inverse is {what}.")
            return inherited if hint is None else hint

        super().__init__(
            operator.dtype, None,
            pick(is_non_singular, operator.is_non_singular, "non singular"),
            pick(is_self_adjoint, operator.is_self_adjoint, "self adjoint"),
            pick(is_positive_definite, operator.is_positive_definite, "positive-definite"),
            pick(is_square, operator.is_square, "square"),
            name or operator.name + "_inv", params,
        )  # fmt: skip

    @property
    def operator(self):
        return self._operator

    def _shape(self):
        return self._operator.shape

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return self._operator.solve(x, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self._operator.matmul(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def _determinant(self):
        return op("math.reciprocal")(self._operator.determinant())

    def _log_abs_determinant(self):
        return op("negative")(self._operator.log_abs_determinant())

    def _linop_inverse(self):
        return self._operator


class LinearOperatorAdjoint(LinearOperator):
    """``operator^H``."""

    def __init__(self, operator, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None, name=None):  # fmt: skip
        params = dict(operator=operator, is_non_singular=is_non_singular,
                      is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                      is_square=is_square, name=name)  # fmt: skip
        self._operator = operator

        def pick(hint, inherited, what):
            if inherited is not None and hint is not None and hint != inherited:
                raise ValueError(f"An operator is {what} if and only if its adjoint is {what}.")
            return inherited if hint is None else hint

        super().__init__(
            operator.dtype, None,
            pick(is_non_singular, operator.is_non_singular, "non-singular"),
            pick(is_self_adjoint, operator.is_self_adjoint, "self-adjoint"),
            pick(is_positive_definite, operator.is_positive_definite, "positive-definite"),
            pick(is_square, operator.is_square, "square"),
            name or operator.name + "_adjoint", params,
        )  # fmt: skip

    @property
    def operator(self):
        return self._operator

    def _shape(self):
        d = self._operator.shape.as_list()
        return TensorShape(d[:-2] + [d[-1], d[-2]])

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return self._operator.matmul(x, adjoint=not adjoint, adjoint_arg=adjoint_arg)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self._operator.solve(rhs, adjoint=not adjoint, adjoint_arg=adjoint_arg)

    def _to_dense(self):
        return matrix_adjoint(self._operator.to_dense())

    def _determinant(self):
        return _conj(self._operator.determinant())

    def _log_abs_determinant(self):
        return self._operator.log_abs_determinant()

    def _diag_part(self):
        return _conj(self._operator.diag_part())

    def _trace(self):
        return _conj(self._operator.trace())

    def _linop_adjoint(self):
        return self._operator


class LinearOperatorBlockDiag(LinearOperator):
    """Operators on the diagonal blocks of a block-diagonal matrix."""

    def __init__(self, operators, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=True, name=None):  # fmt: skip
        params = dict(operators=operators, is_non_singular=is_non_singular,
                      is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                      is_square=is_square, name=name)  # fmt: skip
        self._operators = _check_list(operators, "LinearOperatorBlockDiag")
        dt = _same_dtype(self._operators)
        for attr, what in (("is_non_singular", "non-singular"), ("is_self_adjoint", "self-adjoint"),
                           ("is_positive_definite", "positive-definite")):  # fmt: skip
            if _all(self._operators, attr):
                if {"is_non_singular": is_non_singular, "is_self_adjoint": is_self_adjoint,
                        "is_positive_definite": is_positive_definite}[attr] is False:  # fmt: skip
                    raise ValueError(f"The direct sum of {what} operators is always {what}.")
                if attr == "is_non_singular":
                    is_non_singular = True
                elif attr == "is_self_adjoint":
                    is_self_adjoint = True
                else:
                    is_positive_definite = True
        square = all(o.is_square for o in self._operators)
        if not square:
            is_square = False if is_square is not True or not square else is_square
        super().__init__(dt, None, is_non_singular, is_self_adjoint, is_positive_definite,
                         is_square if square else None, name or "_ds_".join(o.name for o in self._operators),
                         params)  # fmt: skip

    @property
    def operators(self):
        return list(self._operators)

    def _shape(self):
        b = broadcast_batch(*[o.batch_shape for o in self._operators]).as_list()
        rows = sum(o.range_dimension.value for o in self._operators)
        cols = sum(o.domain_dimension.value for o in self._operators)
        return TensorShape(b + [rows, cols])

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = matrix_adjoint(x) if adjoint_arg else x
        x = _bcast(x, self.batch_shape.as_list())
        sizes = [
            (o.range_dimension if adjoint else o.domain_dimension).value for o in self._operators
        ]
        parts = [
            o.matmul(p, adjoint=adjoint) for o, p in zip(self._operators, _split_rows(x, sizes))
        ]
        return op("concat")([_bcast(p, self.batch_shape.as_list()) for p in parts], axis=-2)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        rhs = matrix_adjoint(rhs) if adjoint_arg else rhs
        rhs = _bcast(rhs, self.batch_shape.as_list())
        sizes = [o.range_dimension.value for o in self._operators]
        parts = [
            o.solve(p, adjoint=adjoint) for o, p in zip(self._operators, _split_rows(rhs, sizes))
        ]
        return op("concat")([_bcast(p, self.batch_shape.as_list()) for p in parts], axis=-2)

    def _to_dense(self):
        batch = self.batch_shape.as_list()
        cols = [o.domain_dimension.value for o in self._operators]
        rows = []
        for i, o in enumerate(self._operators):
            r = o.range_dimension.value
            blocks = []
            for j, c in enumerate(cols):
                if j == i:
                    d = o.to_dense()
                    blocks.append(op("broadcast_to")(d, batch + [r, c]))
                else:
                    blocks.append(op("zeros")(batch + [r, c], dtype=self.dtype))
            rows.append(op("concat")(blocks, axis=-1))
        return op("concat")(rows, axis=-2)

    def _bcast_last(self, t):
        b = self.batch_shape.as_list()
        return op("broadcast_to")(t, b + t.shape.as_list()[len(batch_dims(t, 1)) :])

    def _diag_part(self):
        return op("concat")([self._bcast_last(o.diag_part()) for o in self._operators], axis=-1)

    def _reduce(self, name, combine):
        out = getattr(self._operators[0], name)()
        for o in self._operators[1:]:
            out = op(combine)(out, getattr(o, name)())
        return out

    def _determinant(self):
        return self._reduce("determinant", "multiply")

    def _log_abs_determinant(self):
        return self._reduce("log_abs_determinant", "add")

    def _trace(self):
        return self._reduce("trace", "add")

    def _eigvals(self):
        return op("concat")([self._bcast_last(o.eigvals()) for o in self._operators], axis=-1)

    def _linop_inverse(self):
        return LinearOperatorBlockDiag([o.inverse() for o in self._operators],
                                       is_non_singular=self.is_non_singular,
                                       is_self_adjoint=self.is_self_adjoint,
                                       is_positive_definite=self.is_positive_definite)  # fmt: skip

    def _linop_adjoint(self):
        return LinearOperatorBlockDiag([o.adjoint() for o in self._operators],
                                       is_non_singular=self.is_non_singular,
                                       is_self_adjoint=self.is_self_adjoint,
                                       is_positive_definite=self.is_positive_definite)  # fmt: skip

    def _linop_cholesky(self):
        return LinearOperatorBlockDiag([o.cholesky() for o in self._operators],
                                       is_non_singular=True, is_self_adjoint=None,
                                       is_square=True)  # fmt: skip


class LinearOperatorBlockLowerTriangular(LinearOperator):
    """A block lower-triangular matrix: row i of ``operators`` holds its i+1 blocks, the
    last of them square (the diagonal block)."""

    def __init__(self, operators, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None, name="LinearOperatorBlockLowerTriangular"):  # fmt: skip
        params = dict(operators=operators, is_non_singular=is_non_singular,
                      is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                      is_square=is_square, name=name)  # fmt: skip
        rows = [list(r) for r in operators]
        if not rows:
            raise ValueError(
                f"Argument `operators` must be a list of >=1 operators. Received: {operators}"
            )
        for i, r in enumerate(rows):
            if len(r) != i + 1:
                raise ValueError(
                    f"Argument `operators[{i}]` must contain `{i + 1}` blocks. Received: {len(r)} blocks."
                )
            _check_list(r, "LinearOperatorBlockLowerTriangular")
        self._rows = rows
        dt = _same_dtype([o for r in rows for o in r])
        diag = [r[-1] for r in rows]
        for o in diag:
            if o.is_square is False:
                raise ValueError(
                    "Diagonal blocks of LinearOperatorBlockLowerTriangular must be square."
                )
        if all(o.is_non_singular for o in diag):
            if is_non_singular is False:
                raise ValueError("A blockwise lower-triangular operator with non-singular "
                                 "operators on the main diagonal is always non-singular.")  # fmt: skip
            is_non_singular = True
        super().__init__(dt, None, is_non_singular, is_self_adjoint, is_positive_definite, True,
                         name, params)  # fmt: skip

    @property
    def operators(self):
        return [list(r) for r in self._rows]

    def _sizes(self):
        return [r[-1].domain_dimension.value for r in self._rows]

    def _shape(self):
        b = broadcast_batch(*[o.batch_shape for r in self._rows for o in r]).as_list()
        n = sum(self._sizes())
        return TensorShape(b + [n, n])

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = matrix_adjoint(x) if adjoint_arg else x
        batch = self.batch_shape.as_list()
        xs = _split_rows(_bcast(x, batch), self._sizes())
        k = len(self._rows)
        out = []
        for i in range(k):
            terms = (
                [self._rows[j][i].matmul(xs[j], adjoint=True) for j in range(i, k)]
                if adjoint
                else [self._rows[i][j].matmul(xs[j]) for j in range(i + 1)]
            )
            acc = _bcast(terms[0], batch)
            for t in terms[1:]:
                acc = op("add")(acc, t)
            out.append(acc)
        return op("concat")(out, axis=-2)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        rhs = matrix_adjoint(rhs) if adjoint_arg else rhs
        batch = self.batch_shape.as_list()
        bs = _split_rows(_bcast(rhs, batch), self._sizes())
        k = len(self._rows)
        xs = [None] * k
        order = range(k - 1, -1, -1) if adjoint else range(k)
        for i in order:  # forward (or, for the adjoint, backward) block substitution
            acc = bs[i]
            others = range(i + 1, k) if adjoint else range(i)
            for j in others:
                blk = self._rows[j][i] if adjoint else self._rows[i][j]
                acc = op("subtract")(acc, blk.matmul(xs[j], adjoint=adjoint))
            xs[i] = _bcast(self._rows[i][i].solve(acc, adjoint=adjoint), batch)
        return op("concat")(xs, axis=-2)

    def _to_dense(self):
        batch = self.batch_shape.as_list()
        sizes = self._sizes()
        rows = []
        for i, r in enumerate(self._rows):
            blocks = [op("broadcast_to")(o.to_dense(), batch + [sizes[i], sizes[j]])
                      for j, o in enumerate(r)]  # fmt: skip
            blocks += [op("zeros")(batch + [sizes[i], s], dtype=self.dtype) for s in sizes[i + 1 :]]
            rows.append(op("concat")(blocks, axis=-1))
        return op("concat")(rows, axis=-2)

    def _determinant(self):
        out = self._rows[0][0].determinant()
        for r in self._rows[1:]:
            out = op("multiply")(out, r[-1].determinant())
        return out

    def _log_abs_determinant(self):
        out = self._rows[0][0].log_abs_determinant()
        for r in self._rows[1:]:
            out = op("add")(out, r[-1].log_abs_determinant())
        return out

    def _diag_part(self):
        batch = self.batch_shape.as_list()
        parts = []
        for r in self._rows:
            d = r[-1].diag_part()
            parts.append(op("broadcast_to")(d, batch + d.shape.as_list()[-1:]))
        return op("concat")(parts, axis=-1)


class LinearOperatorKronecker(LinearOperator):
    """The Kronecker product ``A1 (x) A2 (x) ... (x) An``; products and solves act factor by
    factor on the reshaped argument, never forming the big matrix."""

    def __init__(self, operators, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None, name=None):  # fmt: skip
        params = dict(operators=operators, is_non_singular=is_non_singular,
                      is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                      is_square=is_square, name=name)  # fmt: skip
        self._operators = _check_list(operators, "LinearOperatorKronecker")
        dt = _same_dtype(self._operators)
        for attr, label in (
            ("is_non_singular", "non-singular"),
            ("is_self_adjoint", "self-adjoint"),
        ):
            if _all(self._operators, attr):
                hint = is_non_singular if attr == "is_non_singular" else is_self_adjoint
                if hint is False:
                    raise ValueError(
                        f"The Kronecker product of {label} operators is always {label}."
                    )
                if attr == "is_non_singular":
                    is_non_singular = True
                else:
                    is_self_adjoint = True
        if _all(self._operators, "is_square") and is_square is None:
            is_square = True
        super().__init__(dt, None, is_non_singular, is_self_adjoint, is_positive_definite,
                         is_square, name or "_x_".join(o.name for o in self._operators), params)  # fmt: skip

    @property
    def operators(self):
        return list(self._operators)

    def _shape(self):
        b = broadcast_batch(*[o.batch_shape for o in self._operators]).as_list()
        rows = int(np.prod([o.range_dimension.value for o in self._operators]))
        cols = int(np.prod([o.domain_dimension.value for o in self._operators]))
        return TensorShape(b + [rows, cols])

    def _apply(self, x, fn, in_sizes, out_sizes):
        """Apply ``fn(op_i, block)`` on each factor's axis of x [..., prod(in_sizes), K]."""
        batch = self.batch_shape.as_list()
        x = _bcast(x, batch)
        b = batch_dims(x, 2)
        k = x.shape.as_list()[-1]
        nb, nf = len(b), len(in_sizes)
        cur = list(in_sizes)
        t = op("reshape")(x, b + cur + [k])
        for i, o in enumerate(self._operators):
            # move factor axis i next to the columns: [..., n_i, (others..., K)]
            perm = list(range(nb)) + [nb + i] + [nb + j for j in range(nf) if j != i] + [nb + nf]
            moved = op("transpose")(t, perm)
            others = [cur[j] for j in range(nf) if j != i]
            flat = op("reshape")(moved, b + [cur[i], int(np.prod(others)) * k])
            res = fn(o, flat)
            cur[i] = out_sizes[i]
            res = op("reshape")(res, b + [cur[i]] + others + [k])
            inv = np.argsort(perm).tolist()
            t = op("transpose")(res, inv)
        return op("reshape")(t, b + [int(np.prod(cur)), k])

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = matrix_adjoint(x) if adjoint_arg else x
        dom = [o.domain_dimension.value for o in self._operators]
        rng = [o.range_dimension.value for o in self._operators]
        ins, outs = (rng, dom) if adjoint else (dom, rng)
        return self._apply(x, lambda o, blk: o.matmul(blk, adjoint=adjoint), ins, outs)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        rhs = matrix_adjoint(rhs) if adjoint_arg else rhs
        sizes = [o.domain_dimension.value for o in self._operators]
        return self._apply(rhs, lambda o, blk: o.solve(blk, adjoint=adjoint), sizes, sizes)

    def _to_dense(self):
        out = self._operators[0].to_dense()
        for o in self._operators[1:]:
            d = o.to_dense()
            prod = op("einsum")("...ij,...kl->...ikjl", out, d)
            s = prod.shape.as_list()
            out = op("reshape")(prod, s[:-4] + [s[-4] * s[-3], s[-2] * s[-1]])
        return out

    def _kron_vec(self, vecs):
        out = vecs[0]
        for v in vecs[1:]:
            p = op("einsum")("...i,...j->...ij", out, v)
            s = p.shape.as_list()
            out = op("reshape")(p, s[:-2] + [s[-2] * s[-1]])
        return out

    def _diag_part(self):
        if not _all(self._operators, "is_square"):
            return super()._diag_part()
        return self._kron_vec([o.diag_part() for o in self._operators])

    def _eigvals(self):
        return self._kron_vec([o.eigvals() for o in self._operators])

    def _trace(self):
        out = self._operators[0].trace()
        for o in self._operators[1:]:
            out = op("multiply")(out, o.trace())
        return out

    def _determinant(self):
        # det(A (x) B) = det(A)^dim(B) det(B)^dim(A)
        total = self.domain_dimension.value
        out = None
        for o in self._operators:
            p = total // o.domain_dimension.value
            t = op("pow")(o.determinant(), to_tensor(np.asarray(p, self.dtype.np)))
            out = t if out is None else op("multiply")(out, t)
        return out

    def _log_abs_determinant(self):
        total = self.domain_dimension.value
        out = None
        for o in self._operators:
            p = total // o.domain_dimension.value
            la = o.log_abs_determinant()
            t = op("multiply")(la, to_tensor(np.asarray(p, la.dtype.np)))
            out = t if out is None else op("add")(out, t)
        return out

    def _linop_inverse(self):
        return LinearOperatorKronecker([o.inverse() for o in self._operators],
                                       is_non_singular=self.is_non_singular,
                                       is_self_adjoint=self.is_self_adjoint,
                                       is_positive_definite=self.is_positive_definite)  # fmt: skip

    def _linop_adjoint(self):
        return LinearOperatorKronecker([o.adjoint() for o in self._operators],
                                       is_non_singular=self.is_non_singular,
                                       is_self_adjoint=self.is_self_adjoint,
                                       is_positive_definite=self.is_positive_definite)  # fmt: skip

    def _linop_cholesky(self):
        return LinearOperatorKronecker([o.cholesky() for o in self._operators],
                                       is_non_singular=True, is_square=True)  # fmt: skip


class LinearOperatorLowRankUpdate(LinearOperator):
    """``base_operator + U diag(diag_update) V^H`` (V = U when not given); solves use the
    Woodbury identity and determinants the matrix determinant lemma."""

    def __init__(self, base_operator, u, diag_update=None, v=None, is_diag_update_positive=None,
                 is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=None, name="LinearOperatorLowRankUpdate"):  # fmt: skip
        params = dict(base_operator=base_operator, u=u, diag_update=diag_update, v=v,
                      is_diag_update_positive=is_diag_update_positive,
                      is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                      is_positive_definite=is_positive_definite, is_square=is_square, name=name)  # fmt: skip
        dt = base_operator.dtype
        self._base = base_operator
        self._u = to_tensor(u, dt)
        self._v = None if v is None else to_tensor(v, dt)
        self._diag_update = None if diag_update is None else to_tensor(diag_update, dt)
        for t, what in ((self._u, "u"), (self._v, "v"), (self._diag_update, "diag_update")):
            if t is not None and t.dtype is not dt:
                raise TypeError(f"Expected `{what}` to have dtype {dt.name}, got {t.dtype.name}")
        if self._diag_update is None and is_diag_update_positive is None:
            is_diag_update_positive = True
        self._is_diag_update_positive = is_diag_update_positive
        if v is None and base_operator.is_self_adjoint:
            if is_self_adjoint is False:
                raise ValueError("A = L + UDU^H, with L self-adjoint and D real diagonal. Since "
                                 "UDU^H is self-adjoint, this must be a self-adjoint operator.")  # fmt: skip
            is_self_adjoint = True
        if v is None and base_operator.is_positive_definite and is_diag_update_positive:
            if is_positive_definite is False:
                raise ValueError("A = L + UDU^H, with L positive definite and D positive, is "
                                 "always positive definite.")  # fmt: skip
            is_positive_definite = True
        super().__init__(dt, None, is_non_singular, is_self_adjoint, is_positive_definite,
                         is_square, name, params)  # fmt: skip

    @property
    def base_operator(self):
        return self._base

    @property
    def u(self):
        return self._u

    @property
    def v(self):
        return self._u if self._v is None else self._v

    @property
    def diag_update(self):
        return self._diag_update

    @property
    def is_diag_update_positive(self):
        return self._is_diag_update_positive

    def _shape(self):
        b = broadcast_batch(self._base.batch_shape, batch_dims(self._u, 2)).as_list()
        return TensorShape(b + self._base.shape.as_list()[-2:])

    def _scale(self, t, adjoint):
        """diag(D) t (conj(D) for the adjoint)."""
        if self._diag_update is None:
            return t
        d = _conj(self._diag_update) if adjoint else self._diag_update
        return op("multiply")(op("expand_dims")(d, -1), t)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = matrix_adjoint(x) if adjoint_arg else x
        left, right = (self.v, self._u) if adjoint else (self._u, self.v)
        base = self._base.matmul(x, adjoint=adjoint)
        low = op("linalg.matmul")(
            left, self._scale(op("linalg.matmul")(right, x, adjoint_a=True), adjoint)
        )
        return op("add")(base, low)

    def _capacitance(self, adjoint):
        """C = D^-1 + V^H L^-1 U (swapped for the adjoint)."""
        left, right = (self.v, self._u) if adjoint else (self._u, self.v)
        linv_u = self._base.solve(left, adjoint=adjoint)
        c = op("linalg.matmul")(right, linv_u, adjoint_a=True)
        k = self._u.shape.as_list()[-1]
        if self._diag_update is None:
            dinv = op("eye")(k, dtype=self.dtype)
        else:
            d = _conj(self._diag_update) if adjoint else self._diag_update
            dinv = op("linalg.diag")(op("math.reciprocal")(d))
        return op("add")(c, dinv), linv_u, right

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        rhs = matrix_adjoint(rhs) if adjoint_arg else rhs
        # Woodbury: A^-1 b = L^-1 b - L^-1 U C^-1 V^H L^-1 b
        linv_b = self._base.solve(rhs, adjoint=adjoint)
        cap, linv_u, right = self._capacitance(adjoint)
        t = op("linalg.matmul")(right, linv_b, adjoint_a=True)
        batch = broadcast_batch(batch_dims(cap, 2), batch_dims(t, 2)).as_list()
        bt = op("broadcast_to")
        cap = bt(cap, batch + cap.shape.as_list()[-2:])
        t = bt(t, batch + t.shape.as_list()[-2:])
        return op("subtract")(linv_b, op("linalg.matmul")(linv_u, op("linalg.solve")(cap, t)))

    def _log_abs_determinant(self):
        # det(L + U D V^H) = det(C) det(D) det(L)
        cap, _, _ = self._capacitance(False)
        out = op("add")(
            self._base.log_abs_determinant(), op("linalg.slogdet")(cap).log_abs_determinant
        )
        if self._diag_update is not None:
            la = op("reduce_sum")(op("math.log")(op("abs")(self._diag_update)), axis=-1)
            out = op("add")(out, op("cast")(la, out.dtype))
        return out

    def _determinant(self):
        cap, _, _ = self._capacitance(False)
        out = op("multiply")(self._base.determinant(), op("linalg.det")(cap))
        if self._diag_update is not None:
            out = op("multiply")(out, op("reduce_prod")(self._diag_update, axis=-1))
        return out
