"""Matrix products and linear algebra: matmul, tensordot, einsum, ``tf.linalg``.

Everything works on batches of matrices (the last two dimensions). Decompositions
and solvers use NumPy's batched LAPACK wrappers; transposes, traces, diagonals and
contractions go through one ``Einsum`` primitive whose gradient is itself an einsum.
"""

from __future__ import annotations

import collections
import string

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import FailedPreconditionError, NotFoundError, UnimplementedError
from rill.ops import lowering_linalg as _lowering
from rill.ops._op import (
    EXPORTS,
    AVal,
    EagerTensor,
    InvalidArgumentError,
    TensorShape,
    binary_args,
    bind,
    broadcast_shapes,
    convert_to_tensor,
    op_error,
    primitive,
    static_value,
    tf_export,
    unbroadcast,
)
from rill.ops.array_ops import cast, ones_like, reshape, sum_to_shape, zeros_like
from rill.ops.math_ops import add, multiply, negative, realdiv, subtract, truediv
from rill.ops.math_ops import pow as _pow
from rill.ops.reduction_ops import reduce_sum
from rill.ops.unary_ops import abs as absolute
from rill.ops.unary_ops import log, sqrt

# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------

_LA = frozenset([_d.float32, _d.float64, _d.complex64, _d.complex128])  # LAPACK-backed ops
_LA16 = _LA | {_d.float16}
_MATMUL_DT = frozenset(
    [_d.float16, _d.float32, _d.float64, _d.int32, _d.int64, _d.complex64, _d.complex128]
)
_MATMUL_NP = frozenset(t.np for t in _MATMUL_DT)
_EINSUM_DT = _MATMUL_DT
# bfloat16 (mixed_bfloat16 Keras layers) is multiplied in float32 and rounded back, as
# TF's CPU kernels do; kept out of _MATMUL_NP so that `import rill` needs no ml_dtypes
_MATMUL_DT = _MATMUL_DT | {_d.bfloat16}


def _fmt(dims) -> str:
    return "[" + ",".join("?" if v is None else str(v) for v in dims) + "]"


def _dims(a):
    return None if a.shape.rank is None else a.shape.as_list()


def _names(dts) -> str:
    return ", ".join(sorted(t.name for t in dts))


def _check_dtype(op, x, allowed, i=0):
    if x.dtype not in allowed:
        raise op_error(
            InvalidArgumentError,
            op,
            f"input #{i} has dtype {x.dtype.name}, which this op does not support; "
            f"supported dtypes: {_names(allowed)}",
        )


def _same_dtype(op, *xs):
    for i, x in enumerate(xs[1:], 1):
        if x.dtype is not xs[0].dtype:
            raise op_error(
                InvalidArgumentError,
                op,
                f"cannot compute {op} as input #{i}(zero-based) was expected to be a "
                f"{xs[0].dtype.name} tensor but is a {x.dtype.name} tensor "
                f"(rill does not promote dtypes; cast one input with tf.cast)",
            )


def _matrix_dims(op, x, square=False, i=0):
    """Validated dims of a (batch of) matrices, or None if the rank is unknown."""
    d = _dims(x)
    if d is None:
        return None
    if len(d) < 2:
        raise op_error(
            InvalidArgumentError,
            op,
            f"Input tensor {i} must have rank >= 2, got {len(d)} (shape {_fmt(d)}); "
            f"expected a matrix or a batch of matrices [..., M, N]",
        )
    if square and None not in d[-2:] and d[-1] != d[-2]:
        raise op_error(
            InvalidArgumentError,
            op,
            f"Input matrix must be square, got shape {_fmt(d)} ({d[-2]} != {d[-1]})",
        )
    return d


def _batch(op, sa, sb, what="batch dimensions"):
    """Broadcast two batch-dim lists, with a clear error."""
    try:
        return broadcast_shapes(op, TensorShape(sa), TensorShape(sb)).as_list()
    except InvalidArgumentError:
        raise op_error(
            InvalidArgumentError,
            op,
            f"In[0] and In[1] must have compatible {what}: {_fmt(sa)} vs. {_fmt(sb)}",
        ) from None


def _public(ns, name):
    """A public rill op owned by another module, looked up when first needed."""
    fn = EXPORTS.get((ns, name))
    if fn is None:
        raise op_error(
            UnimplementedError, "linalg", f"tf.{ns + '.' if ns else ''}{name} is not available"
        )
    return fn


def _conj(x):
    return _public("math", "conj")(x) if x.dtype.is_complex else x


def _real(x):
    return _public("math", "real")(x) if x.dtype.is_complex else x


def _const(value, dtype):
    return convert_to_tensor(np.asarray(value, dtype=dtype.np), dtype=dtype)


def _la_kernel(fn):
    """Run a linalg kernel ``fn(xp, x, **params)`` on square matrices, computing float16 in
    float32."""

    def square_kernel(x, *, xp=np, **params):
        if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
            raise ValueError("not a batch of square matrices")  # the shape rule says why
        if x.dtype == np.float16:
            out = fn(xp, x.astype(np.float32), **params)
            return out.astype(np.float16)
        return fn(xp, x, **params)

    return square_kernel


def _scale(x, c):
    return multiply(x, _const(c, x.dtype))


# --------------------------------------------------------------------------------------
# matmul
# --------------------------------------------------------------------------------------


def _matmul_rule(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False):
    _same_dtype("MatMul", a, b)
    _check_dtype("MatMul", a, _MATMUL_DT)
    sa, sb = _dims(a), _dims(b)
    if sa is None or sb is None:
        return AVal(TensorShape(None), a.dtype)
    if len(sa) < 2 or len(sb) < 2:
        what = (
            f"In[0] and In[1] has different ndims: {_fmt(sa)} vs. {_fmt(sb)}"
            if len(sa) != len(sb)
            else f"In[0] and In[1] ndims must be == 2: {len(sa)}"
        )
        raise op_error(
            InvalidArgumentError,
            "MatMul",
            f"{what} (matmul needs inputs of rank >= 2; use tf.linalg.matvec or tf.tensordot for vectors)",
        )
    ta, tb = transpose_a or adjoint_a, transpose_b or adjoint_b
    m, k1 = (sa[-1], sa[-2]) if ta else (sa[-2], sa[-1])
    k2, n = (sb[-1], sb[-2]) if tb else (sb[-2], sb[-1])
    if k1 is not None and k2 is not None and k1 != k2:
        flags = f"; transpose flags: a={ta}, b={tb}" if ta or tb else ""
        raise op_error(
            InvalidArgumentError,
            "MatMul",
            f"Matrix size-incompatible: In[0]: {_fmt(sa)}, In[1]: {_fmt(sb)} (the contracted dimensions "
            f"{k1} and {k2} must be equal{flags})",
        )
    return AVal(_batch("MatMul", sa[:-2], sb[:-2]) + [m, n], a.dtype)


def _matmul_kernel(
    a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False, xp=np
):
    # the eager hot path first (a layer's product): no flags, two float matrices alike
    if not (transpose_a or transpose_b or adjoint_a or adjoint_b):
        d = a.dtype
        if b.dtype is d and d in _BLAS_DTYPES and a.ndim == 2 and b.ndim == 2 and xp is np:
            return a.dot(b)  # the same BLAS product, without matmul's ufunc overhead
        if d.char in _FLOAT_CHARS and d == b.dtype and a.ndim >= 2 and b.ndim >= 2:
            return xp.matmul(a, b)
    if a.ndim < 2 or b.ndim < 2 or a.dtype != b.dtype:
        raise ValueError("invalid matmul inputs")  # the shape rule gives the message
    if a.dtype not in _MATMUL_NP:
        if a.dtype.name != "bfloat16":
            raise ValueError("invalid matmul dtype")
        f32 = _matmul_kernel(a.astype(np.float32), b.astype(np.float32), transpose_a,
                             transpose_b, adjoint_a, adjoint_b, xp=xp)  # fmt: skip
        return f32.astype(a.dtype)
    if transpose_a:
        a = a.swapaxes(-1, -2)
    elif adjoint_a:
        a = a.swapaxes(-1, -2).conj()
    if transpose_b:
        b = b.swapaxes(-1, -2)
    elif adjoint_b:
        b = b.swapaxes(-1, -2).conj()
    if a.ndim == 2 and b.ndim == 2 and xp is np and a.dtype in _BLAS_DTYPES:
        return a.dot(b)  # a gradient's transposed product: BLAS takes the transposed view
    return xp.matmul(a, b)


_FLOAT_CHARS = frozenset("efdFD")  # NumPy's float16/32/64, complex64/128 (BLAS or NumPy)
# where ndarray.dot and matmul both call BLAS's gemm
_BLAS_DTYPES = frozenset(np.dtype(c) for c in "fdFD")

# Modes for one side of a product: N (as is), T (transpose), H (adjoint), C (conjugate).
_CONJ_OF = {"N": "C", "T": "H", "H": "T", "C": "N"}  # conj(op(x))
_ADJ_OF = {"N": "H", "T": "C", "H": "N", "C": "T"}  # op(x)^H
_FLAG = {"T": "transpose", "H": "adjoint"}


def _matmul_modes(x, mx, y, my):
    """op_x(x) @ op_y(y) for modes N/T/H/C (used by gradients)."""
    if mx == "C":
        x, mx = _conj(x), "N"
    if my == "C":
        y, my = _conj(y), "N"
    cplx = x.dtype.is_complex
    p = {}
    if mx != "N":
        p[("adjoint" if cplx and mx == "H" else "transpose") + "_a"] = True
    if my != "N":
        p[("adjoint" if cplx and my == "H" else "transpose") + "_b"] = True
    return bind(matmul_p, (x, y), p)


def _matmul_grad(
    inputs,
    out,
    dy,
    transpose_a=False,
    transpose_b=False,
    adjoint_a=False,
    adjoint_b=False,
    needed=None,
):
    a, b = inputs
    ma = "T" if transpose_a else "H" if adjoint_a else "N"
    mb = "T" if transpose_b else "H" if adjoint_b else "N"
    # out = X @ Y with X = op_a(a), Y = op_b(b): dX = dy @ Y^H, dY = X^H @ dy, then undo op_a/op_b.
    # A side the tape will not read (`needed`, e.g. a layer's input data) costs no product.
    if needed is not None and not needed[0]:
        ga = None
    elif ma == "N":
        ga = _matmul_modes(dy, "N", b, _ADJ_OF[mb])
    elif ma == "T":
        ga = _matmul_modes(b, _CONJ_OF[mb], dy, "T")
    else:
        ga = _matmul_modes(b, mb, dy, "H")
    if needed is not None and not needed[1]:
        gb = None
    elif mb == "N":
        gb = _matmul_modes(a, _ADJ_OF[ma], dy, "N")
    elif mb == "T":
        gb = _matmul_modes(dy, "T", a, _CONJ_OF[ma])
    else:
        gb = _matmul_modes(dy, "H", a, ma)
    return (
        None if ga is None else unbroadcast(ga, a),
        None if gb is None else unbroadcast(gb, b),
    )


matmul_p = primitive(
    "MatMul",
    _matmul_kernel,
    _matmul_rule,
    _matmul_grad,
    saves=(0, 1),
    saves_output=False,
    partial_grad=True,
)


@tf_export("linalg.matmul", "matmul")
def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, grad_a=False, grad_b=False, name=None):  # fmt: skip
    """Matrix product ``a @ b`` of (batches of) matrices, batch dims broadcasting.

    ``transpose_*`` / ``adjoint_*`` transpose (conjugate-transpose) an input first; at
    most one of them per input. Inputs must have the same dtype and rank >= 2.
    """
    if type(a) is not EagerTensor or type(b) is not EagerTensor:
        a, b = binary_args(a, b)
    if transpose_a or transpose_b or adjoint_a or adjoint_b or output_type is not None:
        return _matmul_flags(a, b, transpose_a, transpose_b, adjoint_a, adjoint_b, output_type)
    return bind(matmul_p, (a, b))


def _matmul_flags(a, b, transpose_a, transpose_b, adjoint_a, adjoint_b, output_type):
    for side, t, adj in (("a", transpose_a, adjoint_a), ("b", transpose_b, adjoint_b)):
        if t and adj:
            raise ValueError(
                f"Only one of `transpose_{side}` and `adjoint_{side}` can be True. Received "
                f"`transpose_{side}`={t}, `adjoint_{side}`={adj}."
            )
    if output_type is not None:
        output_type = _d.as_dtype(output_type)
        small = (_d.int8, _d.uint8)
        if a.dtype in small and b.dtype in small and output_type is _d.int32:
            a, b = cast(a, _d.int32), cast(b, _d.int32)
        elif output_type is not a.dtype or b.dtype is not a.dtype:
            raise op_error(
                NotFoundError,
                "MatMul",
                f"no kernel for inputs {a.dtype.name}, {b.dtype.name} with output_type "
                f"{output_type.name}; output_type must equal the input dtype, or be int32 for "
                f"int8/uint8 inputs",
            )
    cplx = a.dtype.is_complex
    p = {}
    if transpose_a or (adjoint_a and not cplx):
        p["transpose_a"] = True
    elif adjoint_a:
        p["adjoint_a"] = True
    if transpose_b or (adjoint_b and not cplx):
        p["transpose_b"] = True
    elif adjoint_b:
        p["adjoint_b"] = True
    return bind(matmul_p, (a, b), p)


@tf_export("linalg.matvec")
def matvec(
    a, b, transpose_a=False, adjoint_a=False, a_is_sparse=False, b_is_sparse=False, name=None
):
    """Matrix-vector product ``a @ b`` for ``a`` [..., M, N] and ``b`` [..., N] -> [..., M]."""
    a, b = binary_args(a, b)
    if a.shape.rank is not None and a.shape.rank < 2:
        raise ValueError(
            f"Argument `a` should be a (batch) matrix with rank >= 2. Received `a` with shape: {a.shape}"
        )
    if b.shape.rank is not None and b.shape.rank < 1:
        raise ValueError(
            f"Argument `b` should be a (batch) vector with rank >= 1. Received shape: {b.shape}"
        )
    if transpose_a and adjoint_a:
        raise ValueError("Only one of `transpose_a` and `adjoint_a` can be True.")
    _check_matvec(a, b, transpose_a or adjoint_a)
    if adjoint_a:
        a = _conj(a)
    eq = "...ji,...j->...i" if (transpose_a or adjoint_a) else "...ij,...j->...i"
    return einsum(eq, a, b)


def _check_matvec(a, b, t):
    sa, sb = _dims(a), _dims(b)
    if sa is None or sb is None:
        return
    k1 = sa[-2] if t else sa[-1]
    if k1 is not None and sb[-1] is not None and k1 != sb[-1]:
        raise op_error(
            InvalidArgumentError,
            "MatMul",
            f"Matrix size-incompatible: In[0]: {_fmt(sa)}, In[1]: {_fmt(sb + [1])} (matvec: the "
            f"vector length {sb[-1]} must equal the matrix's {'rows' if t else 'columns'} {k1})",
        )


# --------------------------------------------------------------------------------------
# einsum
# --------------------------------------------------------------------------------------

_LETTERS = string.ascii_letters


def _tokens(s):
    """Subscripts -> list of labels, the ellipsis as one '...' token."""
    if "..." not in s:
        return list(s)
    pre, post = s.split("...", 1)
    return [*pre, "...", *post]


def _normalize_equation(equation, n_inputs):
    """Validate an equation and make its output explicit: 'ij,jk' -> 'ij,jk->ik'."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum: equation must be a string, got {type(equation).__name__}")
    eq = equation.replace(" ", "")
    if eq.count("->") > 1:
        raise ValueError(f'einsum: equation "{equation}" has more than one "->".')
    lhs, arrow, out = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != n_inputs:
        raise ValueError(f'Got {n_inputs} inputs for equation "{equation}", expecting {len(ins)}')
    for s in ins + ([out] if arrow else []):
        rest = s.replace("...", "", 1)
        bad = [c for c in rest if c not in _LETTERS]
        if bad:
            raise ValueError(
                f'einsum: invalid subscript {bad[0]!r} in equation "{equation}"; subscripts are '
                f"letters a-z, A-Z and at most one '...' per operand"
            )
    in_letters = [c for s in ins for c in s.replace("...", "")]
    if not arrow:
        counts = collections.Counter(in_letters)
        ell = "..." if any("..." in s for s in ins) else ""
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    else:
        for c in out.replace("...", ""):
            if c not in in_letters:
                raise ValueError(
                    f"Output subscripts contain the label {c} not present in the input subscripts."
                )
        letters = out.replace("...", "")
        if len(set(letters)) != len(letters):
            raise ValueError(f'einsum: output subscripts of "{equation}" repeat a label')
    return ",".join(ins) + "->" + out


def _split(equation):
    lhs, _, out = equation.partition("->")
    return lhs.split(","), out


def _einsum_shapes(equation, shapes):
    """Check operand shapes (lists, None dims allowed; None = unknown rank) against the
    equation; return the output dims (list) or None if unknown."""
    ins, out = _split(equation)
    dims = {}
    ell = []
    unknown = False
    for i, (s, d) in enumerate(zip(ins, shapes)):
        if d is None:
            unknown = True
            continue
        toks = _tokens(s)
        n_lab = len(toks) - ("..." in toks)
        if "..." in toks:
            pos = toks.index("...")
            r = len(d) - n_lab
            if r < 0:
                raise op_error(
                    InvalidArgumentError,
                    "Einsum",
                    f"input {i} of shape {_fmt(d)} has fewer dimensions than the {n_lab} labels in its "
                    f"subscripts '{s}' (equation '{equation}')",
                )
            ell = _batch("Einsum", ell, d[pos : pos + r], "broadcast (ellipsis) dimensions")
            lab_dims = list(
                zip(toks[:pos] + toks[pos + 1 :], range(len(d)), d[:pos] + d[pos + r :])
            )
        else:
            if len(d) != n_lab:
                raise op_error(
                    InvalidArgumentError,
                    "Einsum",
                    f"input {i} of shape {_fmt(d)} has rank {len(d)} but its subscripts '{s}' name "
                    f"{n_lab} dimensions (equation '{equation}')",
                )
            lab_dims = list(zip(toks, range(len(d)), d))
        for lab, ax, n in lab_dims:
            prev = dims.get(lab)
            if prev is None:
                dims[lab] = n
            elif n is not None and n != prev:
                raise op_error(
                    InvalidArgumentError,
                    "Einsum",
                    f"Expected dimension {prev} at axis {ax} of the input shaped {_fmt(d)} but got "
                    f"dimension {n} (label '{lab}' in equation '{equation}'; labelled dimensions "
                    f"must match exactly, only '...' dimensions broadcast)",
                )
    toks = _tokens(out)
    if ell and "..." not in toks:
        raise op_error(
            InvalidArgumentError,
            "Einsum",
            f"Output contains {len(ell)} broadcasting dimension(s) but no ellipsis (...) was found in "
            f"the output subscripts of '{equation}'",
        )
    if unknown and "..." in toks:
        return None
    res = []
    for t in toks:
        res.extend(ell if t == "..." else [dims.get(t)])
    return res


def _einsum_rule(*xs, equation):
    _same_dtype("Einsum", *xs)
    _check_dtype("Einsum", xs[0], _EINSUM_DT)
    out = _einsum_shapes(equation, [_dims(x) for x in xs])
    return AVal(TensorShape(out), xs[0].dtype)


def _einsum_kernel(*xs, equation, xp=np):
    _einsum_shapes(equation, [list(x.shape) for x in xs])  # TF never broadcasts labelled dims
    dt = xs[0].dtype
    if dt not in _MATMUL_NP or any(x.dtype != dt for x in xs):
        raise TypeError("einsum dtypes")
    big = len(xs) > 1 and max(x.size for x in xs) > 256
    return xp.asarray(xp.einsum(equation, *xs, optimize=big), dtype=dt)


def _perm(g, src, dst):
    """Reorder the axes of ``g`` labelled by token list ``src`` into ``dst``."""
    if src == dst:
        return g
    return einsum("".join(src) + "->" + "".join(dst), g)


def _einsum_grad(inputs, out, dy, equation):
    ins, osub = _split(equation)
    fresh = (c for c in _LETTERS if c not in equation)
    grads = []
    for k, x in enumerate(inputs):
        if x.dtype not in _d.INEXACT:
            grads.append(None)
            continue
        subs, ops = [osub], [dy]
        for j, (s, t) in enumerate(zip(ins, inputs)):
            if j != k:
                subs.append(s)
                ops.append(_conj(t))
        if not set(ins[k]) <= set("".join(subs)):  # labels summed away: let ones carry them
            subs.append(ins[k])
            ops.append(ones_like(x))
        toks = _tokens(ins[k])
        uniq = list(dict.fromkeys(toks))
        cur = (["..."] if "..." in uniq else []) + [t for t in uniq if t != "..."]
        g = einsum(",".join(subs) + "->" + "".join(cur), *ops)
        if "..." in toks:
            g = _sum_ellipsis(g, x, len(toks) - 1, len(cur) - 1, toks.index("..."))
        final = list(toks)
        seen = set()
        for i, t in enumerate(toks):
            if t != "..." and t in seen:  # repeated label (a diagonal): embed the diagonal back
                f = next(fresh)
                final[i] = f
                order = [c for c in cur if c != t] + [t]
                g = diag(_perm(g, cur, order))
                cur = order + [f]
            seen.add(t)
        grads.append(_perm(g, cur, final))
    return tuple(grads)


def _sum_ellipsis(g, x, n_lab, n_uniq, pos):
    """``g`` is laid out [broadcast ellipsis dims..., unique labels...]: sum it down to
    ``x``'s own ellipsis dims (undoing broadcasting). ``x`` has ``n_lab`` labelled dims,
    its ellipsis starting at ``pos``."""
    xs, gs = _dims(x), _dims(g)
    if xs is None or gs is None:
        return g
    x_ell = xs[pos : len(xs) - (n_lab - pos)]
    target = x_ell + gs[len(gs) - n_uniq :]
    if target == gs or None in target or None in gs:
        return g
    return sum_to_shape(g, target)


einsum_p = primitive("Einsum", _einsum_kernel, _einsum_rule, _einsum_grad)


@tf_export("einsum", "linalg.einsum")
def einsum(equation, *inputs, **kwargs):
    """Einstein summation, e.g. ``einsum('bij,bjk->bik', x, y)``.

    Labels are letters; '...' stands for broadcasting dimensions. Without '->' the output
    is '...' followed by the labels used once, sorted. All inputs share one dtype.
    """
    unknown = set(kwargs) - {"name", "optimize"}
    if unknown:
        raise TypeError(f"einsum: invalid keyword arguments {sorted(unknown)}")
    if (
        len(inputs) == 1
        and isinstance(inputs[0], (list, tuple))
        and "," in equation.partition("->")[0]
    ):
        inputs = tuple(inputs[0])
    ts = [convert_to_tensor(x) for x in inputs]
    eq = _normalize_equation(equation, len(ts))
    return bind(einsum_p, tuple(ts), {"equation": eq})


# --------------------------------------------------------------------------------------
# tensordot
# --------------------------------------------------------------------------------------


def _axes_list(v):
    v = static_value(v) if not isinstance(v, (list, tuple, int)) else v
    arr = np.asarray(v)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"tensordot: axes must be integers, got {v!r}")
    return [int(i) for i in arr.reshape(-1)]


@tf_export("tensordot", "linalg.tensordot")
def tensordot(a, b, axes, name=None):
    """Sum of products over ``axes``: an int N (last N dims of ``a`` with first N of ``b``)
    or a pair ``[a_axes, b_axes]`` of equally long axis lists."""
    a, b = binary_args(a, b)
    ra, rb = a.shape.rank, b.shape.rank
    if ra is None or rb is None:
        raise ValueError("tensordot: the ranks of both inputs must be known")
    if isinstance(axes, (list, tuple)) or (hasattr(axes, "shape") and len(axes.shape) > 0):
        if len(axes) != 2:
            raise ValueError(f"`axes` must be an integer or have length 2. Received {axes}.")
        ax_a, ax_b = _axes_list(axes[0]), _axes_list(axes[1])
        if len(ax_a) != len(ax_b):
            raise ValueError(
                f"Different number of contraction axes `a` and `b`, {len(ax_a)} != {len(ax_b)}."
            )
    else:
        n = int(static_value(axes)) if not isinstance(axes, int) else axes
        if n < 0:
            raise ValueError(f"`axes` must be at least 0. Received: {n}.")
        if n > ra or n > rb:
            raise ValueError(
                f"`axes` must not be larger than the number of dimensions of tensor. Received {n}, "
                f"vs tensor dimensions {ra} and {rb}."
            )
        ax_a, ax_b = list(range(ra - n, ra)), list(range(n))
    for ax, r, w in ((ax_a, ra, "a"), (ax_b, rb, "b")):
        for i in ax:
            if not -r <= i < r:
                raise ValueError(f"tensordot: axis {i} is out of range for `{w}` of rank {r}")
    ax_a = [i % ra for i in ax_a]
    ax_b = [i % rb for i in ax_b]
    if len(set(ax_a)) != len(ax_a) or len(set(ax_b)) != len(ax_b):
        raise ValueError(f"tensordot: repeated contraction axes {ax_a}, {ax_b}")
    sa, sb = a.shape.as_list(), b.shape.as_list()
    for i, j in zip(ax_a, ax_b):
        if sa[i] is not None and sb[j] is not None and sa[i] != sb[j]:
            raise op_error(
                InvalidArgumentError,
                "MatMul",
                f"tensordot: dimension {i} of a (shape {_fmt(sa)}) is {sa[i]} but dimension {j} of b "
                f"(shape {_fmt(sb)}) is {sb[j]}; contracted dimensions must be equal",
            )
    la = list(_LETTERS[:ra])
    lb = list(_LETTERS[ra : ra + rb])
    for i, j in zip(ax_a, ax_b):
        lb[j] = la[i]
    out = [la[i] for i in range(ra) if i not in ax_a] + [lb[j] for j in range(rb) if j not in ax_b]
    return einsum("".join(la) + "," + "".join(lb) + "->" + "".join(out), a, b)


# --------------------------------------------------------------------------------------
# transposes, trace
# --------------------------------------------------------------------------------------


@tf_export("linalg.matrix_transpose")
def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    """Swap the last two dimensions (conjugating too if ``conjugate``)."""
    a = convert_to_tensor(a)
    r = a.shape.rank
    if r is not None and r < 2:
        raise ValueError(
            f"Argument `a` should be a (batch) matrix with rank >= 2. Received `a` with shape: {a.shape}"
        )
    if a.dtype not in _EINSUM_DT:  # bool, string, small ints: the general transpose op
        perm = list(range(r - 2)) + [r - 1, r - 2]
        return _public("", "transpose")(a, perm)
    out = einsum("...ij->...ji", a)
    return _conj(out) if conjugate else out


@tf_export("linalg.adjoint")
def adjoint(matrix, name=None):
    """Conjugate transpose of the last two dimensions."""
    return matrix_transpose(matrix, conjugate=True)


@tf_export("linalg.trace")
def trace(x, name=None):
    """Sum of the main diagonal of each matrix: [..., M, N] -> [...]."""
    x = convert_to_tensor(x)
    _matrix_dims("Trace", x)
    d = _dims(x)
    if d is None or None in d[-2:] or d[-1] == d[-2]:
        return einsum("...ii->...", x)
    return reduce_sum(diag_part(x), axis=-1)


# --------------------------------------------------------------------------------------
# diagonals and bands
# --------------------------------------------------------------------------------------


def _diag_len(rows, cols, k):
    return min(rows + min(k, 0), cols - max(k, 0))


def _diag_index(xp, rows, cols, k):
    n = max(_diag_len(rows, cols, k), 0)
    i = xp.arange(n)
    return i + max(-k, 0), i + max(k, 0)


def _resolve_rc(n, k, num_rows, num_cols):
    min_r, min_c = n + max(-k, 0), n + max(k, 0)
    if num_rows == -1 and num_cols == -1:
        return max(min_r, min_c), max(min_r, min_c)
    if num_rows == -1:
        return min_r, num_cols
    if num_cols == -1:
        return num_rows, min_c
    return num_rows, num_cols


def _diag_rule(x, k=0, num_rows=-1, num_cols=-1, padding_value=0):
    _check_dtype("MatrixDiagV3", x, _d.NUMERIC | {_d.bool})
    d = _dims(x)
    if d is None:
        return AVal(TensorShape(None), x.dtype)
    if len(d) < 1:
        raise op_error(
            InvalidArgumentError,
            "MatrixDiagV3",
            f"diagonal must be at least 1-dim, got shape {_fmt(d)}",
        )
    n = d[-1]
    if n is None:
        return AVal(d[:-1] + [None, None], x.dtype)
    r, c = _resolve_rc(n, k, num_rows, num_cols)
    if _diag_len(r, c, k) != n:
        raise op_error(
            InvalidArgumentError,
            "MatrixDiagV3",
            f"The number of rows or columns is not consistent with the specified diagonal: a diagonal "
            f"of length {n} at offset k={k} does not fit num_rows={r}, num_cols={c}",
        )
    return AVal(d[:-1] + [r, c], x.dtype)


def _diag_kernel(x, k=0, num_rows=-1, num_cols=-1, padding_value=0, xp=np):
    r, c = _resolve_rc(x.shape[-1], k, num_rows, num_cols)
    if _diag_len(r, c, k) != x.shape[-1]:
        raise ValueError("bad diag size")
    out = xp.full(x.shape[:-1] + (r, c), padding_value, dtype=x.dtype)
    ri, ci = _diag_index(xp, r, c, k)
    out[..., ri, ci] = x
    return out


def _diag_grad(inputs, out, dy, k=0, num_rows=-1, num_cols=-1, padding_value=0):
    return (diag_part(dy, k=k),)


matrix_diag_p = primitive(
    "MatrixDiagV3", _diag_kernel, _diag_rule, _diag_grad, lowering=_lowering.matrix_diag
)


def _static_k(k):
    if isinstance(k, (str, bytes)):  # TF cannot make its int32 tensor: TypeError
        raise TypeError(f"MatrixDiagV3: cannot convert k={k!r} to an int32 tensor")
    kv = np.asarray(static_value(k) if not isinstance(k, int) else k)
    if kv.ndim != 0:
        if kv.size == 2 and kv[0] == kv[1]:
            return int(kv[0])
        raise op_error(
            UnimplementedError,
            "MatrixDiagV3",
            f"only a single diagonal offset k is supported, got {kv}",
        )
    return int(kv)


@tf_export("linalg.diag")
def diag(diagonal, name="diag", k=0, num_rows=-1, num_cols=-1, padding_value=0, align="RIGHT_LEFT"):
    """Batched diagonal matrices: [..., N] -> [..., N, N] (``k`` offsets the diagonal)."""
    x = convert_to_tensor(diagonal)
    p = {"k": _static_k(k), "num_rows": int(num_rows), "num_cols": int(num_cols)}
    if padding_value != 0:
        p["padding_value"] = np.asarray(padding_value, dtype=x.dtype.np).item()
    return bind(matrix_diag_p, (x,), p)


def _diag_part_rule(x, k=0, padding_value=0):
    _check_dtype("MatrixDiagPartV3", x, _d.NUMERIC | {_d.bool})
    d = _matrix_dims("MatrixDiagPartV3", x)
    if d is None:
        return AVal(TensorShape(None), x.dtype)
    r, c = d[-2:]
    if r is None or c is None:
        return AVal(d[:-2] + [None], x.dtype)
    if not (-r < k < c) and not (r == 0 or c == 0):
        raise op_error(
            InvalidArgumentError,
            "MatrixDiagPartV3",
            f"lower_diag_index is out of bound: {k}. It must be between {-r} and {c} (input shape {_fmt(d)})",
        )
    return AVal(d[:-2] + [max(_diag_len(r, c, k), 0)], x.dtype)


def _diag_part_kernel(x, k=0, padding_value=0, xp=np):
    r, c = x.shape[-2:]
    if x.ndim < 2 or (not (-r < k < c) and r and c):
        raise ValueError("bad diag_part")
    ri, ci = _diag_index(xp, r, c, k)
    return xp.ascontiguousarray(x[..., ri, ci])


def _diag_part_grad(inputs, out, dy, k=0, padding_value=0):
    r, c = _dims(inputs[0])[-2:]
    return (diag(dy, k=k, num_rows=r, num_cols=c),)


matrix_diag_part_p = primitive(
    "MatrixDiagPartV3",
    _diag_part_kernel,
    _diag_part_rule,
    _diag_part_grad,
    lowering=_lowering.matrix_diag_part,
)


@tf_export("linalg.diag_part")
def diag_part(input, name="diag_part", k=0, padding_value=0, align="RIGHT_LEFT"):  # noqa: A002
    """The ``k``-th diagonal of each matrix: [..., M, N] -> [..., min(M, N)] for k=0."""
    x = convert_to_tensor(input)
    return bind(matrix_diag_part_p, (x,), {"k": _static_k(k)})


def _set_diag_rule(x, dg, k=0):
    _same_dtype("MatrixSetDiagV3", x, dg)
    d = _matrix_dims("MatrixSetDiagV3", x)
    e = _dims(dg)
    if d is None or e is None or None in d:
        return AVal(x.shape, x.dtype)
    r, c = d[-2:]
    want = d[:-2] + [max(_diag_len(r, c, k), 0)]
    if e != want and None not in e:
        raise op_error(
            InvalidArgumentError,
            "MatrixSetDiagV3",
            f"diagonal has shape {_fmt(e)} but input of shape {_fmt(d)} needs a diagonal of shape "
            f"{_fmt(want)} for k={k}",
        )
    return AVal(x.shape, x.dtype)


def _set_diag_kernel(x, dg, k=0, xp=np):
    r, c = x.shape[-2:]
    ri, ci = _diag_index(xp, r, c, k)
    if dg.shape != x.shape[:-2] + (len(ri),) or x.dtype != dg.dtype:
        raise ValueError("bad set_diag")
    out = x.copy()
    out[..., ri, ci] = dg
    return out


def _set_diag_grad(inputs, out, dy, k=0):
    dd = diag_part(dy, k=k)
    return set_diag(dy, zeros_like(dd), k=k), dd


matrix_set_diag_p = primitive(
    "MatrixSetDiagV3",
    _set_diag_kernel,
    _set_diag_rule,
    _set_diag_grad,
    lowering=_lowering.matrix_set_diag,
)


@tf_export("linalg.set_diag")
def set_diag(input, diagonal, name="set_diag", k=0, align="RIGHT_LEFT"):  # noqa: A002
    """Replace the ``k``-th diagonal of each matrix with ``diagonal``."""
    x, dg = binary_args(input, diagonal)
    return bind(matrix_set_diag_p, (x, dg), {"k": _static_k(k)})


def _band_rule(x, num_lower, num_upper):
    d = _matrix_dims("MatrixBandPart", x)
    if d is not None:
        r, c = d[-2:]
        if r is not None and num_lower > r:
            raise op_error(
                InvalidArgumentError,
                "MatrixBandPart",
                f"num_lower must be negative or less or equal to number of rows ({r}) got: {num_lower}",
            )
        if c is not None and num_upper > c:
            raise op_error(
                InvalidArgumentError,
                "MatrixBandPart",
                f"num_upper must be negative or less or equal to number of columns ({c}) got: {num_upper}",
            )
    return AVal(x.shape, x.dtype)


def _band_kernel(x, num_lower, num_upper, xp=np):
    if x.ndim < 2 or num_lower > x.shape[-2] or num_upper > x.shape[-1]:
        raise ValueError("bad band_part")
    r, c = x.shape[-2:]
    off = xp.arange(c)[None, :] - xp.arange(r)[:, None]  # j - i
    mask = xp.ones((r, c), dtype=bool)
    if num_lower >= 0:
        mask &= -off <= num_lower
    if num_upper >= 0:
        mask &= off <= num_upper
    return xp.where(mask, x, xp.zeros((), dtype=x.dtype))


band_part_p = primitive(
    "MatrixBandPart",
    _band_kernel,
    _band_rule,
    lambda inputs, out, dy, num_lower, num_upper: (band_part(dy, num_lower, num_upper),),
)


def _static_int(op, v, what):
    if isinstance(v, (str, bytes)):  # TF cannot make its int64 tensor: TypeError
        raise TypeError(f"{op}: cannot convert {what}={v!r} to an integer tensor")
    s = static_value(v)
    if s is None:
        raise op_error(
            UnimplementedError,
            op,
            f"{what} must be known when the op is built (got a symbolic tensor)",
        )
    return int(np.asarray(s))


@tf_export("linalg.band_part")
def band_part(input, num_lower, num_upper, name=None):  # noqa: A002
    """Keep a band of each matrix: ``num_lower`` sub- and ``num_upper`` super-diagonals
    (negative = all); everything else is zeroed."""
    x = convert_to_tensor(input)
    p = {
        "num_lower": _static_int("MatrixBandPart", num_lower, "num_lower"),
        "num_upper": _static_int("MatrixBandPart", num_upper, "num_upper"),
    }
    return bind(band_part_p, (x,), p)


# --------------------------------------------------------------------------------------
# inverse, determinants, solves
# --------------------------------------------------------------------------------------


def _square_rule(op, allowed):
    def rule(x, **_):
        _check_dtype(op, x, allowed)
        _matrix_dims(op, x, square=True)
        return AVal(x.shape, x.dtype)

    return rule


def _inv_kernel(xp, x, adjoint=False):
    try:
        out = xp.linalg.inv(x)
    except np.linalg.LinAlgError:
        raise op_error(InvalidArgumentError, "MatrixInverse", "Input is not invertible.") from None
    return out.swapaxes(-1, -2).conj() if adjoint else out


def _inv_grad(inputs, out, dy, adjoint=False):
    # d(A^-1) = -A^-1 dA A^-1
    if adjoint:
        return (negative(_matmul_modes(out, "N", _matmul_modes(dy, "H", out, "N"), "N")),)
    return (negative(_matmul_modes(out, "H", _matmul_modes(dy, "N", out, "H"), "N")),)


inv_p = primitive(
    "MatrixInverse",
    _la_kernel(_inv_kernel),
    _square_rule("MatrixInverse", _LA16),
    _inv_grad,
    dtypes=_LA16,
)


@tf_export("linalg.inv")
def inv(input, adjoint=False, name=None):  # noqa: A002
    """Inverse of each square matrix (of its adjoint if ``adjoint``)."""
    x = convert_to_tensor(input)
    return bind(inv_p, (x,), {"adjoint": True} if adjoint else {})


def _batch_rule(op, allowed):
    def rule(x, **_):
        _check_dtype(op, x, allowed)
        d = _matrix_dims(op, x, square=True)
        return AVal(TensorShape(None) if d is None else d[:-2], x.dtype)

    return rule


def _det_kernel(x, xp=np):
    return xp.asarray(xp.linalg.det(x), dtype=x.dtype)


def _det_grad(inputs, out, dy):
    # d det(A) = det(A) tr(A^-1 dA)  ->  dA = dy * det * A^-H
    return (einsum("...,...ij->...ij", multiply(dy, out), inv(inputs[0], adjoint=True)),)


det_p = primitive(
    "MatrixDeterminant", _det_kernel, _batch_rule("MatrixDeterminant", _LA), _det_grad, dtypes=_LA
)


@tf_export("linalg.det")
def det(input, name=None):  # noqa: A002
    """Determinant of each square matrix: [..., M, M] -> [...]."""
    return bind(det_p, (convert_to_tensor(input),))


def _slogdet_kernel(x, xp=np):
    sign, logabs = xp.linalg.slogdet(x)
    return xp.asarray(sign, dtype=x.dtype), xp.asarray(logabs, dtype=x.dtype)


def _slogdet_rule(x):
    a = _batch_rule("LogMatrixDeterminant", _LA)(x)
    return a, AVal(a.shape, a.dtype)


def _slogdet_grad(inputs, outs, dys):
    return (einsum("...,...ij->...ij", dys[1], inv(inputs[0], adjoint=True)),)


slogdet_p = primitive(
    "LogMatrixDeterminant", _slogdet_kernel, _slogdet_rule, _slogdet_grad, n_out=2, dtypes=_LA
)

LogMatrixDeterminant = collections.namedtuple(
    "LogMatrixDeterminant", ["sign", "log_abs_determinant"]
)


@tf_export("linalg.slogdet")
def slogdet(input, name=None):  # noqa: A002
    """Sign and log of the absolute determinant of each square matrix."""
    return LogMatrixDeterminant(*bind(slogdet_p, (convert_to_tensor(input),)))


@tf_export("linalg.logdet")
def logdet(matrix, name=None):
    """log(det(matrix)) for Hermitian positive definite matrices, via Cholesky."""
    m = convert_to_tensor(matrix)
    d = log(_real(diag_part(cholesky(m))))
    out = _scale(reduce_sum(d, axis=-1), 2.0)
    if m.dtype.is_complex:
        out = cast(out, m.dtype)
    return out


def _solve_rule(a, b, adjoint=False):
    _same_dtype("MatrixSolve", a, b)
    _check_dtype("MatrixSolve", a, _LA)
    da = _matrix_dims("MatrixSolve", a, square=True)
    db = _matrix_dims("MatrixSolve", b, i=1)
    if da is None or db is None:
        return AVal(TensorShape(None), a.dtype)
    if len(da) != len(db):
        raise op_error(
            InvalidArgumentError,
            "MatrixSolve",
            f"All input tensors must have the same rank: matrix {_fmt(da)} vs. rhs {_fmt(db)}",
        )
    for x, y in zip(da[:-2], db[:-2]):
        if x is not None and y is not None and x != y:
            raise op_error(
                InvalidArgumentError,
                "MatrixSolve",
                f"All input tensors must have the same outer dimensions: matrix {_fmt(da)} vs. rhs "
                f"{_fmt(db)} (batch dimensions do not broadcast)",
            )
    if None not in (da[-1], db[-2]) and da[-1] != db[-2]:
        raise op_error(
            InvalidArgumentError,
            "MatrixSolve",
            f"Input matrix and right-hand side must have the same number of rows: {da[-2]} vs. {db[-2]} "
            f"(matrix {_fmt(da)}, rhs {_fmt(db)})",
        )
    return AVal(db, a.dtype)


def _solve_kernel(a, b, adjoint=False, xp=np):
    if a.ndim != b.ndim or a.shape[:-2] != b.shape[:-2] or a.dtype != b.dtype:
        raise ValueError("bad solve")
    if adjoint:
        a = a.swapaxes(-1, -2).conj()
    try:
        return xp.linalg.solve(a, b)
    except np.linalg.LinAlgError as e:
        if "Singular" in str(e):
            raise op_error(
                InvalidArgumentError, "MatrixSolve", "Input matrix is not invertible."
            ) from None
        raise


def _solve_grad(inputs, out, dy, adjoint=False):
    a = inputs[0]
    gb = solve(a, dy, adjoint=not adjoint)
    ga = negative(_matmul_modes(out, "N", gb, "H") if adjoint else _matmul_modes(gb, "N", out, "H"))
    return ga, gb


solve_p = primitive(
    "MatrixSolve", _solve_kernel, _solve_rule, _solve_grad, dtypes=_LA, same_dtype=True
)


@tf_export("linalg.solve")
def solve(matrix, rhs, adjoint=False, name=None):
    """Solve ``matrix @ x = rhs`` (``adjoint(matrix) @ x = rhs`` if ``adjoint``) for x."""
    a, b = binary_args(matrix, rhs)
    return bind(solve_p, (a, b), {"adjoint": True} if adjoint else {})


def _trisolve_rule(a, b, lower=True, adjoint=False):
    _same_dtype("MatrixTriangularSolve", a, b)
    _check_dtype("MatrixTriangularSolve", a, _LA)
    da = _matrix_dims("MatrixTriangularSolve", a, square=True)
    db = _matrix_dims("MatrixTriangularSolve", b, i=1)
    if da is None or db is None:
        return AVal(TensorShape(None), a.dtype)
    if None not in (da[-1], db[-2]) and da[-1] != db[-2]:
        raise op_error(
            InvalidArgumentError,
            "MatrixTriangularSolve",
            f"Input matrix and right-hand side must have the same number of rows: matrix {_fmt(da)}, "
            f"rhs {_fmt(db)}",
        )
    return AVal(_batch("MatrixTriangularSolve", da[:-2], db[:-2]) + db[-2:], a.dtype)


def _trisolve_kernel(a, b, lower=True, adjoint=False, xp=np):
    if a.dtype != b.dtype or a.ndim < 2 or b.ndim < 2:
        raise ValueError("bad triangular solve")
    a = xp.tril(a) if lower else xp.triu(a)
    if adjoint:
        a = a.swapaxes(-1, -2).conj()
    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])  # shape tuples only
    a = xp.broadcast_to(a, shape + a.shape[-2:])
    b = xp.broadcast_to(b, shape + b.shape[-2:])
    try:
        return xp.linalg.solve(a, b)
    except np.linalg.LinAlgError:  # a zero on the diagonal: TF gives inf/nan, not an error
        return xp.full(b.shape, xp.nan, dtype=b.dtype)


def _trisolve_grad(inputs, out, dy, lower=True, adjoint=False):
    a, b = inputs
    gb = triangular_solve(a, dy, lower=lower, adjoint=not adjoint)
    ga = negative(_matmul_modes(out, "N", gb, "H") if adjoint else _matmul_modes(gb, "N", out, "H"))
    ga = band_part(ga, -1, 0) if lower else band_part(ga, 0, -1)
    return unbroadcast(ga, a), unbroadcast(gb, b)


trisolve_p = primitive(
    "MatrixTriangularSolve",
    _trisolve_kernel,
    _trisolve_rule,
    _trisolve_grad,
    dtypes=_LA,
    same_dtype=True,
)


@tf_export("linalg.triangular_solve")
def triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None):
    """Solve ``matrix @ x = rhs`` for triangular ``matrix`` (only its lower, or upper if
    ``lower=False``, triangle is read); batch dims broadcast."""
    a, b = binary_args(matrix, rhs)
    return bind(trisolve_p, (a, b), {"lower": bool(lower), "adjoint": bool(adjoint)})


# --------------------------------------------------------------------------------------
# decompositions
# --------------------------------------------------------------------------------------


def _cholesky_kernel(xp, x):
    try:
        return xp.linalg.cholesky(x)
    except np.linalg.LinAlgError:
        pass
    # TF does not raise for matrices that are not positive definite: it returns NaNs there.
    flat = x.reshape((-1,) + x.shape[-2:])
    out = xp.full(flat.shape, xp.nan, dtype=x.dtype)
    for i, m in enumerate(flat):  # error path only: one LAPACK call per matrix
        try:
            out[i] = xp.linalg.cholesky(m)
        except np.linalg.LinAlgError:
            pass
    return out.reshape(x.shape)


def _cholesky_grad(inputs, out, dy):
    # Symmetric gradient (like TF): A^-bar = 1/2 L^-H Phi(L^H L-bar) L^-1 + its adjoint,
    # Phi = lower triangle with half the diagonal.
    low = out
    mid = _matmul_modes(low, "H", dy, "N")
    mid = subtract(band_part(mid, -1, 0), diag(_scale(diag_part(mid), 0.5)))
    z = triangular_solve(low, mid, lower=True, adjoint=True)  # L^-H M
    g = adjoint(triangular_solve(low, adjoint(z), lower=True, adjoint=True))  # L^-H M L^-1
    return (_scale(add(g, adjoint(g)), 0.5),)


cholesky_p = primitive(
    "Cholesky",
    _la_kernel(_cholesky_kernel),
    _square_rule("Cholesky", _LA),
    _cholesky_grad,
    dtypes=_LA,
)


@tf_export("linalg.cholesky")
def cholesky(input, name=None):  # noqa: A002
    """Lower-triangular L with ``L @ adjoint(L) == input`` for Hermitian positive definite
    matrices (only the lower triangle of ``input`` is read)."""
    return bind(cholesky_p, (convert_to_tensor(input),))


@tf_export("linalg.cholesky_solve")
def cholesky_solve(chol, rhs, name=None):
    """Solve ``A x = rhs`` given ``chol``, the Cholesky factor of A."""
    chol, rhs = binary_args(chol, rhs)
    y = triangular_solve(chol, rhs, lower=True, adjoint=False)
    return triangular_solve(chol, y, lower=True, adjoint=True)


def _qr_rule(x, full_matrices=False):
    _check_dtype("Qr", x, _LA)
    d = _matrix_dims("Qr", x)
    if d is None:
        return AVal(TensorShape(None), x.dtype), AVal(TensorShape(None), x.dtype)
    m, n = d[-2:]
    k = None if m is None or n is None else min(m, n)
    qc, rr = (m, m) if full_matrices else (k, k)
    return AVal(d[:-2] + [m, qc], x.dtype), AVal(d[:-2] + [rr, n], x.dtype)


def _qr_kernel(x, full_matrices=False, xp=np):
    q, r = xp.linalg.qr(x, mode="complete" if full_matrices else "reduced")
    return q.astype(x.dtype, copy=False), r.astype(x.dtype, copy=False)


def _tri_right(x, r):
    """x @ r^-H for upper-triangular r."""
    return adjoint(triangular_solve(r, adjoint(x), lower=False, adjoint=False))


def _qr_grad_deep(q, r, dq, dr):
    qdq = _matmul_modes(q, "H", dq, "N")
    qdq_ = subtract(qdq, adjoint(qdq))
    rdr = _matmul_modes(r, "N", dr, "H")
    rdr_ = subtract(rdr, adjoint(rdr))
    tril = band_part(add(qdq_, rdr_), -1, 0)
    ga = _matmul_modes(q, "N", add(dr, _tri_right(tril, r)), "N")
    gb = _tri_right(subtract(dq, _matmul_modes(q, "N", qdq, "N")), r)
    ret = add(ga, gb)
    if q.dtype.is_complex:
        mm = subtract(rdr, adjoint(qdq))
        eyem = diag(diag_part(mm))
        correction = subtract(eyem, cast(_real(eyem), q.dtype))
        ret = add(ret, _tri_right(_matmul_modes(q, "N", correction, "H"), r))
    return ret


def _qr_grad(inputs, outs, dys, full_matrices=False):
    (a,), (q, r), (dq, dr) = inputs, outs, dys
    d = _dims(a)
    if d is None or None in d[-2:]:
        raise op_error(UnimplementedError, "Qr", "QR gradient needs static matrix dimensions")
    m, n = d[-2:]
    if full_matrices and m > n:
        raise op_error(
            UnimplementedError,
            "Qr",
            "QR gradient is not implemented when nrows > ncols and full_matrices is True",
        )
    if m >= n:
        return (_qr_grad_deep(q, r, dq, dr),)
    # wide: a = [x | y] with x square (m x m); r = [u | v]
    dt = a.dtype.np
    s1 = _const(np.eye(n, dtype=dt)[:, :m], a.dtype)  # selects the first m columns
    s2 = _const(np.eye(n, dtype=dt)[:, m:], a.dtype)
    y = _matmul_modes(a, "N", s2, "N")
    u = _matmul_modes(r, "N", s1, "N")
    du, dv = _matmul_modes(dr, "N", s1, "N"), _matmul_modes(dr, "N", s2, "N")
    dy_ = _matmul_modes(q, "N", dv, "N")
    dx = _qr_grad_deep(q, u, add(dq, _matmul_modes(y, "N", dv, "H")), du)
    return (add(_matmul_modes(dx, "N", s1, "T"), _matmul_modes(dy_, "N", s2, "T")),)


qr_p = primitive("Qr", _qr_kernel, _qr_rule, _qr_grad, n_out=2, dtypes=_LA)

Qr = collections.namedtuple("Qr", ["q", "r"])


@tf_export("linalg.qr")
def qr(input, full_matrices=False, name=None):  # noqa: A002
    """QR decomposition ``input = q @ r`` of each matrix (q orthonormal columns, r upper
    triangular); ``full_matrices`` makes q square."""
    return Qr(*bind(qr_p, (convert_to_tensor(input),), {"full_matrices": bool(full_matrices)}))


def _real_of(dt):
    return {_d.complex64: _d.float32, _d.complex128: _d.float64}.get(dt, dt)


def _svd_rule(x, full_matrices=False, compute_uv=True):
    _check_dtype("Svd", x, _LA)
    d = _matrix_dims("Svd", x)
    sdt = _real_of(x.dtype)
    if d is None:
        s = AVal(TensorShape(None), sdt)
        return (
            (s, AVal(TensorShape(None), x.dtype), AVal(TensorShape(None), x.dtype))
            if compute_uv
            else (s,)
        )
    m, n = d[-2:]
    k = None if m is None or n is None else min(m, n)
    s = AVal(d[:-2] + [k], sdt)
    if not compute_uv:
        return (s,)
    uc, vc = (m, n) if full_matrices else (k, k)
    return s, AVal(d[:-2] + [m, uc], x.dtype), AVal(d[:-2] + [n, vc], x.dtype)


def _svd_kernel(x, full_matrices=False, compute_uv=True, xp=np):
    sdt = (
        np.float32
        if x.dtype == np.complex64
        else np.float64
        if x.dtype == np.complex128
        else x.dtype
    )
    # a matrix with a NaN or inf has an all-NaN decomposition in TF (LAPACK would fail or
    # return finite-looking vectors): decompose a zeroed stand-in, then poison its outputs
    bad = ~xp.all(xp.isfinite(x), axis=(-2, -1)) if x.size else None
    if bad is not None and xp.any(bad):
        x = xp.where(bad[..., None, None], xp.zeros_like(x), x)
    else:
        bad = None
    if not compute_uv:
        s = xp.linalg.svd(x, compute_uv=False).astype(sdt, copy=True)
        if bad is not None:
            s[bad] = np.nan
        return (s,)
    u, s, vh = xp.linalg.svd(x, full_matrices=full_matrices)
    outs = (
        s.astype(sdt, copy=True),
        u.astype(x.dtype, copy=True),
        vh.swapaxes(-1, -2).conj().astype(x.dtype, copy=True),
    )
    if bad is not None:
        for o in outs:
            o[bad] = np.nan
    return outs


def _safe_recip(x):
    # x / (x^2 + tiny): 1/x away from 0, 0 at 0 (TF's convention for the SVD/eigh gradients)
    return realdiv(x, add(multiply(x, x), _const(1e-20, x.dtype)))


def _pairwise_diff(e, plus=False):
    """D[..., i, j] = e[..., j] - e[..., i] (with ``plus``, e[..., j] + e[..., i])."""
    one = ones_like(e)
    f = add if plus else subtract
    return f(einsum("...j,...i->...ij", e, one), einsum("...i,...j->...ij", e, one))


def _pairwise_diff_of_squares(s):
    """D[..., i, j] = s_j^2 - s_i^2, as (s_j - s_i)(s_j + s_i): exactly zero wherever
    s_i == s_j, also where a compiler contracts s_j * s_j - s_i * s_i into a fused
    multiply-add (XLA on CPU did: the diagonal came out as the rounding error of s_i^2,
    and the gradient's 1 / D there as 1e16 instead of 0)."""
    return multiply(_pairwise_diff(s), _pairwise_diff(s, plus=True))


def _svd_grad(inputs, outs, dys, full_matrices=False, compute_uv=True):
    a = inputs[0]
    if a.dtype.is_complex:
        raise op_error(
            UnimplementedError, "Svd", "the SVD gradient is implemented for real matrices only"
        )
    if not compute_uv:
        s, u, v = svd(a, full_matrices=False, compute_uv=True)
        return (einsum("...ik,...k,...jk->...ij", u, dys[0], v),)
    s, u, v = outs
    ds, du, dv = dys
    d = _dims(a)
    if d is None or None in d[-2:]:
        raise op_error(UnimplementedError, "Svd", "SVD gradient needs static matrix dimensions")
    m, n = d[-2:]
    if full_matrices and m != n:
        raise op_error(
            UnimplementedError,
            "Svd",
            "SVD gradient is not implemented for non-square matrices with full_matrices=True",
        )
    # Thin SVD A = U S V^T (U: m x k, V: n x k), F_ij = 1 / (s_j^2 - s_i^2):
    # A-bar = U [diag(ds) + (J + J^T) S + S (K + K^T)] V^T
    #         + (I - U U^T) dU S^-1 V^T + U S^-1 dV^T (I - V V^T),  J = F o U^T dU, K = F o V^T dV
    f = _safe_recip(_pairwise_diff_of_squares(s))
    j = multiply(f, _matmul_modes(u, "T", du, "N"))
    kk = multiply(f, _matmul_modes(v, "T", dv, "N"))
    jj = add(j, matrix_transpose(j))
    kk = add(kk, matrix_transpose(kk))
    core = add(
        add(diag(ds), einsum("...ij,...j->...ij", jj, s)),
        einsum("...i,...ij->...ij", s, kk),
    )
    g = _matmul_modes(u, "N", _matmul_modes(core, "N", v, "T"), "N")
    s_inv = _safe_recip(s)
    if m > n:
        proj = subtract(
            du, _matmul_modes(u, "N", _matmul_modes(u, "T", du, "N"), "N")
        )  # (I - U U^T) dU
        g = add(g, _matmul_modes(einsum("...ij,...j->...ij", proj, s_inv), "N", v, "T"))
    elif n > m:
        proj = subtract(
            dv, _matmul_modes(v, "N", _matmul_modes(v, "T", dv, "N"), "N")
        )  # (I - V V^T) dV
        g = add(g, _matmul_modes(einsum("...ij,...j->...ij", u, s_inv), "N", proj, "T"))
    return (g,)


svd_p = primitive(
    "Svd", _svd_kernel, _svd_rule, _svd_grad, n_out=-1, dtypes=_LA, lowering=_lowering.svd
)


@tf_export("linalg.svd")
def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """Singular value decomposition ``tensor = u @ diag(s) @ adjoint(v)``.

    Returns ``(s, u, v)`` (``v`` not transposed), or just ``s`` if ``compute_uv`` is
    False; ``s`` is real and sorted in descending order.
    """
    x = convert_to_tensor(tensor)
    out = bind(svd_p, (x,), {"full_matrices": bool(full_matrices), "compute_uv": bool(compute_uv)})
    return tuple(out) if compute_uv else out[0]


def _eigh_rule(x, compute_v=True):
    _check_dtype("SelfAdjointEigV2", x, _LA)
    d = _matrix_dims("SelfAdjointEigV2", x, square=True)
    e = AVal(TensorShape(None) if d is None else d[:-1], x.dtype)
    return (e, AVal(x.shape, x.dtype)) if compute_v else (e,)


def _eigh_kernel(x, compute_v=True, xp=np):
    if x.size and x.dtype.kind in "fc":
        # TF's solver fails on a NaN anywhere in the lower triangle it reads, and on an
        # infinite off-diagonal entry there; LAPACK would return finite-looking values
        low = xp.tril(x)
        off = xp.tril(x, -1)
        if xp.any(xp.isnan(low)) or not xp.all(xp.isfinite(off)):
            raise op_error(
                InvalidArgumentError,
                "SelfAdjointEigV2",
                "Self-adjoint eigen decomposition was not successful: the input has a NaN, or "
                "an infinite off-diagonal entry, in its lower triangle",
            )
    if not compute_v:
        return (xp.linalg.eigvalsh(x).astype(x.dtype),)
    e, v = xp.linalg.eigh(x)  # reads the lower triangle, like TF
    return e.astype(x.dtype), v


def _eigh_grad(inputs, outs, dys, compute_v=True):
    if compute_v:
        (e, v), (de, dv) = outs, dys
        f = _safe_recip(_pairwise_diff(e))  # 1 / (e_j - e_i), 0 on the diagonal
        inner = add(diag(de), multiply(f, _matmul_modes(v, "H", dv, "N")))
    else:
        e, v = eigh(inputs[0])
        inner = diag(dys[0])
    g = _matmul_modes(v, "N", _matmul_modes(inner, "N", v, "H"), "N")
    # the op reads only the lower triangle: fold the upper half onto it
    g = band_part(add(g, adjoint(g)), -1, 0)
    return (set_diag(g, _scale(diag_part(g), 0.5)),)


eigh_p = primitive(
    "SelfAdjointEigV2",
    _eigh_kernel,
    _eigh_rule,
    _eigh_grad,
    n_out=-1,
    dtypes=_LA,
    lowering=_lowering.eigh,
)


@tf_export("linalg.eigh")
def eigh(tensor, name=None):
    """Eigen-decomposition of Hermitian matrices: ``(e, v)`` with ascending eigenvalues
    ``e`` and eigenvectors in the columns of ``v`` (only the lower triangle is read)."""
    return tuple(bind(eigh_p, (convert_to_tensor(tensor),), {"compute_v": True}))


@tf_export("linalg.eigvalsh")
def eigvalsh(tensor, name=None):
    """Eigenvalues (ascending) of Hermitian matrices."""
    return bind(eigh_p, (convert_to_tensor(tensor),), {"compute_v": False})[0]


# --------------------------------------------------------------------------------------
# cross, norms
# --------------------------------------------------------------------------------------


def _cross_rule(a, b):
    _same_dtype("Cross", a, b)
    _check_dtype("Cross", a, _d.REAL)
    da, db = _dims(a), _dims(b)
    if da is not None and db is not None:
        if not TensorShape(da).is_compatible_with(TensorShape(db)):
            raise op_error(
                InvalidArgumentError,
                "Cross",
                f"Both inputs must be of same shape: {_fmt(da)} vs. {_fmt(db)}",
            )
        last = da[-1] if da else None
        if not da or (last is not None and last != 3):
            raise op_error(
                FailedPreconditionError,
                "Cross",
                f"Cross-products are only defined for 3-element vectors, got shape {_fmt(da)}",
            )
    return AVal(a.shape, a.dtype)


def _cross_kernel(a, b, xp=np):
    if a.shape != b.shape or a.ndim < 1 or a.shape[-1] != 3 or a.dtype != b.dtype:
        raise ValueError("bad cross")
    return xp.cross(a, b)


cross_p = primitive(
    "Cross",
    _cross_kernel,
    _cross_rule,
    lambda inputs, out, dy: (cross(inputs[1], dy), cross(dy, inputs[0])),
)


@tf_export("linalg.cross")
def cross(a, b, name=None):
    """Pairwise cross product of 3-element vectors in the last dimension."""
    return bind(cross_p, binary_args(a, b))


_VEC_ORD_ERR = "'ord' must be a supported vector norm, got {}"
_MAT_ORDS = ("euclidean", "fro", 1, 2, np.inf)


def _norm_axes(x, axis):
    r = x.shape.rank
    if axis is None:
        return None
    if isinstance(axis, (list, tuple)) or (
        hasattr(axis, "shape") and np.ndim(static_value(axis)) > 0
    ):
        ax = [
            int(a)
            for a in np.asarray(static_value(axis) if not isinstance(axis, (list, tuple)) else axis)
        ]
        if len(ax) == 1:
            ax = ax[0]
        elif len(ax) != 2 or (r is not None and ax[0] % r == ax[1] % r) or ax[0] == ax[1]:
            raise ValueError(
                f"'axis' must be None, an integer, or a tuple of 2 unique integers, got {axis}"
            )
    else:
        ax = int(static_value(axis) if not isinstance(axis, int) else axis)
    for a in ax if isinstance(ax, list) else [ax]:
        if r is not None and not -r <= a < r:
            raise op_error(
                InvalidArgumentError,
                "Sum",
                f"Invalid reduction dimension ({a} for input with {r} dimension(s))",
            )
    return ax


@tf_export("norm", "linalg.norm")
def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None):  # noqa: A002
    """Vector or matrix norm.

    ``axis`` None (the whole tensor as a vector), an int (vector norms along it) or a pair
    (matrix norms). Vector ``ord``: 'euclidean', 1, 2, np.inf or any p > 0; matrix ``ord``:
    'euclidean' / 'fro' (Frobenius), 1 (max column sum), 2 (largest singular value), np.inf
    (max row sum).
    """
    x = convert_to_tensor(tensor)
    keep = bool(keepdims)
    ax = _norm_axes(x, axis)
    is_matrix = isinstance(ax, list)
    is_num = isinstance(ord, (int, float, np.number)) and not isinstance(ord, str)
    if is_matrix:
        if not (ord in ("euclidean", "fro") or (is_num and ord in (1, 2, np.inf))):
            raise ValueError(
                f"'ord' must be a supported matrix norm in ['euclidean', 'fro', 1, 2, inf], got {ord}"
            )
    elif not (ord == "euclidean" or (is_num and ord > 0)):
        raise ValueError(_VEC_ORD_ERR.format(ord))
    if not (x.dtype.is_floating or x.dtype.is_complex):
        raise op_error(
            InvalidArgumentError,
            "Norm",
            f"norm needs a floating or complex tensor, got {x.dtype.name}",
        )
    reduce_max = _public("math", "reduce_max")
    if ord in ("euclidean", "fro"):
        sq = reduce_sum(multiply(x, _conj(x)), axis=ax, keepdims=keep)
        return sqrt(sq)
    absx = absolute(x)
    if is_matrix:
        r = x.shape.rank
        a0, a1 = ax[0] % r, ax[1] % r
        if ord == 1:
            return reduce_max(
                reduce_sum(absx, axis=a0, keepdims=True), axis=[a0, a1], keepdims=keep
            )
        if ord == np.inf:
            return reduce_max(
                reduce_sum(absx, axis=a1, keepdims=True), axis=[a0, a1], keepdims=keep
            )
        # ord == 2: the largest singular value of the matrices spanned by the two axes
        letters = _LETTERS[:r]
        rest = [c for i, c in enumerate(letters) if i not in (a0, a1)]
        moved = einsum(letters + "->" + "".join(rest) + letters[a0] + letters[a1], x)
        s = svd(moved, compute_uv=False)
        out = reduce_max(s, axis=-1)
        if keep:
            shape = [1 if i in (a0, a1) else dd for i, dd in enumerate(x.shape.as_list())]
            out = reshape(out, shape)
        return out
    if ord == np.inf:
        return reduce_max(absx, axis=ax, keepdims=keep)
    if ord == 1:
        return reduce_sum(absx, axis=ax, keepdims=keep)
    p = _const(ord, absx.dtype)
    return _pow(reduce_sum(_pow(absx, p), axis=ax, keepdims=keep), _const(1.0 / ord, absx.dtype))


@tf_export("linalg.normalize")
def normalize(tensor, ord="euclidean", axis=None, name=None):  # noqa: A002
    """``(tensor / norm, norm)`` with the norm kept broadcastable."""
    x = convert_to_tensor(tensor)
    n = norm(x, ord=ord, axis=axis, keepdims=True)
    if n.dtype is not x.dtype:
        n = cast(n, x.dtype)
    return truediv(x, n), n
