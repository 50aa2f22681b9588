"""Reductions, scans, segment ops and other axis-wise math (``tf.math.reduce_*`` ...)."""

from __future__ import annotations

import collections
import functools
import math

import numpy as np

from rill.core import dtypes as _d
from rill.ops import lowering_indexing as _lix
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    TensorShape,
    bind,
    convert_to_tensor,
    op_error,
    primitive,
    reduce_rule,
    static_shape_tensor,
    static_value,
    tf_export,
    wrap,
)
from rill.ops.array_ops import (
    broadcast_to,
    cast,
    ones_like,
    reshape,
    shape,
    stack,
    unstack,
    where_v2,
    zeros_like,
)
from rill.ops.math_ops import (
    add,
    divide_no_nan,
    equal,
    greater,
    less,
    logical_and,
    maximum,
    multiply,
    negative,
    not_equal,
    realdiv,
    subtract,
    truediv,
)
from rill.ops.unary_ops import exp, imag, log, real, rsqrt, sqrt

_NUM = _d.NUMERIC
_REAL = _d.REAL
_BOOL = frozenset([_d.bool])
_INDEX = frozenset([_d.int32, _d.int64])

# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _on_host(kernel):
    """A host kernel (declare ``host=True``) running the ``xp`` kernel ``kernel`` on NumPy."""
    return functools.partial(kernel, xp=np)


def _const(v, dtype):
    return convert_to_tensor(v, dtype=dtype)


def _check_axes(op, axes, rank):
    """Validate reduction axes like TF: in [-rank, rank) and no duplicates; sorted tuple."""
    out = []
    for a in axes:
        if rank is not None:
            if not -rank <= a < rank:
                raise op_error(
                    InvalidArgumentError,
                    op,
                    f"Invalid reduction dimension ({a} for input with {rank} dimension(s)); "
                    f"valid axes are in [{-rank}, {rank})",
                )
            a %= rank
        if a in out:
            raise op_error(
                InvalidArgumentError,
                op,
                f"Invalid reduction arguments: Axes contains duplicate dimension: {a}",
            )
        out.append(a)
    return tuple(sorted(out))


def _axis_param(x, axis, op="reduce"):
    """Static reduction axes as a sorted tuple (None = all axes)."""
    if axis is None:
        return None
    v = np.asarray(axis.numpy() if hasattr(axis, "numpy") else axis)
    if v.size == 0:
        return ()
    if v.dtype.kind not in "iu":
        # TF: a float cannot become the int32 axis tensor (TypeError); a string tensor can
        # be made, and the op then rejects its dtype (InvalidArgumentError)
        raise op_error(
            InvalidArgumentError if v.dtype.kind in "USO" else TypeError, op,
            f"axis must be an int32 or int64 tensor or list of ints, got {axis!r}",
        )  # fmt: skip
    return _check_axes(op, [int(a) for a in v.reshape(-1)], x.shape.rank)


def _keepdims_shape(x, axis):
    """Shape of the reduction output with keepdims=True, as a list (static x shape)."""
    r = x.shape.rank
    axes = range(r) if axis is None else axis
    return [1 if i in axes else d for i, d in enumerate(x.shape.as_list())]


def _keepdims_shape_t(x, axis):
    """The reduction output's shape with keepdims=True as an int32 tensor: made from the
    dims where x's are known (always, eagerly), else from x's Shape op."""
    s = _keepdims_shape(x, axis)
    if None not in s:
        return static_shape_tensor(s)
    dims = unstack(shape(x), num=x.shape.rank)
    axes = range(x.shape.rank) if axis is None else axis
    return stack([_const(1, _d.int32) if i in axes else d for i, d in enumerate(dims)])


def _broadcast_back(dy, x, axis, keepdims):
    """Broadcast a reduction's upstream gradient back to the input's shape."""
    # reduced leading axes (all of them, for a scalar loss) need no size-1 dims put back:
    # broadcasting aligns the trailing ones
    if not keepdims and not (axis is None or axis == tuple(range(len(axis)))):
        dy = reshape(dy, _keepdims_shape_t(x, axis))
    xs = x.shape
    return broadcast_to(
        dy, static_shape_tensor(xs.as_list()) if xs.is_fully_defined() else shape(x)
    )


def _keepdims(keepdims):
    return False if keepdims is None else bool(keepdims)


def _reduce(prim, input_tensor, axis, keepdims):
    x = convert_to_tensor(input_tensor)
    return bind(
        prim, (x,), {"axis": _axis_param(x, axis, prim.name), "keepdims": _keepdims(keepdims)}
    )


def _reduction_size(x, out):
    """Number of input elements reduced into each output element, as a tensor of x's dtype."""
    xs, outs = x.shape, out.shape
    if xs.is_fully_defined() and outs.is_fully_defined():
        n = xs.num_elements() // max(outs.num_elements(), 1)
        return wrap(np.asarray(n, x.dtype.np), x.dtype)  # a known count: no conversion
    n = realdiv(cast(reduce_prod(shape(x)), _d.float64), cast(reduce_prod(shape(out)), _d.float64))
    return cast(n, x.dtype)


# --------------------------------------------------------------------------------------
# sum, mean, prod, max, min, any, all
# --------------------------------------------------------------------------------------


_F32_F64 = frozenset((np.dtype(np.float32), np.dtype(np.float64)))


def _sum_kernel(x, axis=None, keepdims=False, xp=np):
    if xp is np and x.dtype in _F32_F64:  # np.sum's own reduction, without its wrapper
        return np.asarray(np.add.reduce(x, axis=axis, keepdims=keepdims))
    out = xp.sum(x, axis=axis, keepdims=keepdims)
    return xp.asarray(out, dtype=x.dtype)


reduce_sum_p = primitive(
    "Sum",
    _sum_kernel,
    reduce_rule("Sum"),
    lambda inputs, out, dy, axis=None, keepdims=False: (
        _broadcast_back(dy, inputs[0], axis, keepdims),
    ),
    dtypes=_NUM,
    saves=(),
    saves_output=False,
)


@tf_export("math.reduce_sum", "reduce_sum")
def reduce_sum(input_tensor, axis=None, keepdims=False, name=None):
    """Sum over ``axis`` (all axes if None)."""
    return _reduce(reduce_sum_p, input_tensor, axis, keepdims)


def _mean_kernel(x, axis=None, keepdims=False, xp=np):
    if x.dtype.kind in "iu":  # accumulate wide, then truncating integer division (like TF)
        acc = xp.int64 if x.dtype.kind == "i" else xp.uint64
        s = xp.sum(x, axis=axis, keepdims=keepdims, dtype=acc)
        n = max(x.size // max(s.size, 1), 1) if x.size else 1
        q = xp.abs(s) // n if x.dtype.kind == "i" else s // n
        if x.dtype.kind == "i":
            q = q * xp.sign(s)
        return xp.asarray(q).astype(x.dtype)
    if x.size == 0:  # (a non-empty input has no 0 dimension to reduce over)
        s = xp.sum(x, axis=axis, keepdims=keepdims)
        return xp.asarray(s / 0, dtype=x.dtype) if s.size else xp.asarray(s, dtype=x.dtype)
    if xp is np and x.dtype in _F32_F64:
        # what np.mean computes for these dtypes (a sum in the input's dtype, divided by
        # the count), without its Python wrapper
        s = np.add.reduce(x, axis=axis, keepdims=keepdims)
        return np.asarray(s / (x.size // max(s.size, 1)), dtype=x.dtype)
    return xp.asarray(xp.mean(x, axis=axis, keepdims=keepdims), dtype=x.dtype)


def _mean_grad(inputs, out, dy, axis=None, keepdims=False):
    x = inputs[0]
    # divided before it is broadcast: the same quotient in every element, computed once
    return (_broadcast_back(realdiv(dy, _reduction_size(x, out)), x, axis, keepdims),)


reduce_mean_p = primitive("Mean", _mean_kernel, reduce_rule("Mean"), _mean_grad, dtypes=_NUM)


@tf_export("math.reduce_mean", "reduce_mean")
def reduce_mean(input_tensor, axis=None, keepdims=False, name=None):
    """Mean over ``axis`` (all axes if None); integer inputs use truncating division, like TF."""
    return _reduce(reduce_mean_p, input_tensor, axis, keepdims)


def _extreme_kernel(lowest):
    """reduce_max's kernel (``lowest``: an empty reduction gives the dtype's lowest value),
    or reduce_min's."""

    def kernel(x, axis=None, keepdims=False, xp=np):
        init = _d.from_numpy(x.dtype).min if lowest else _d.from_numpy(x.dtype).max
        if x.dtype.kind == "f":
            init = -math.inf if lowest else math.inf
        fn = xp.max if lowest else xp.min
        return xp.asarray(fn(x, axis=axis, keepdims=keepdims, initial=init), dtype=x.dtype)

    return kernel


def _extreme_grad(inputs, out, dy, axis=None, keepdims=False):
    """TF's rule: the gradient is shared equally between the tied extreme elements."""
    x = inputs[0]
    y = _broadcast_back(out, x, axis, keepdims)
    ind = cast(equal(x, y), dy.dtype)
    num = _broadcast_back(reduce_sum(ind, axis, keepdims), x, axis, keepdims)
    return (multiply(realdiv(ind, num), _broadcast_back(dy, x, axis, keepdims)),)


reduce_max_p = primitive(
    "Max", _extreme_kernel(True), reduce_rule("Max"), _extreme_grad, dtypes=_REAL
)
reduce_min_p = primitive(
    "Min", _extreme_kernel(False), reduce_rule("Min"), _extreme_grad, dtypes=_REAL
)


@tf_export("math.reduce_max", "reduce_max")
def reduce_max(input_tensor, axis=None, keepdims=False, name=None):
    """Maximum over ``axis``; an empty reduction gives the dtype's lowest value (-inf)."""
    return _reduce(reduce_max_p, input_tensor, axis, keepdims)


@tf_export("math.reduce_min", "reduce_min")
def reduce_min(input_tensor, axis=None, keepdims=False, name=None):
    """Minimum over ``axis``; an empty reduction gives the dtype's highest value (+inf)."""
    return _reduce(reduce_min_p, input_tensor, axis, keepdims)


def _prod_kernel(x, axis=None, keepdims=False, xp=np):
    return xp.asarray(xp.prod(x, axis=axis, keepdims=keepdims, dtype=x.dtype), dtype=x.dtype)


def _prod_grad(inputs, out, dy, axis=None, keepdims=False):
    """Product rule without division (correct with zeros): reduce one axis at a time and use
    exclusive cumulative products from both sides along each axis."""
    x = inputs[0]
    rank = x.shape.rank
    if rank is None:
        raise op_error(
            InvalidArgumentError, "Prod", "the gradient of reduce_prod needs a known input rank"
        )
    axes = tuple(range(rank)) if axis is None else axis
    partial = [x]  # partial[j]: x reduced (keepdims) over axes[:j]
    for a in axes[:-1]:
        partial.append(reduce_prod(partial[-1], a, keepdims=True))
    g = dy if keepdims else reshape(dy, _keepdims_shape_t(x, axis))
    for a, p in zip(reversed(axes), reversed(partial)):
        others = multiply(
            cumprod(p, a, exclusive=True), cumprod(p, a, exclusive=True, reverse=True)
        )
        g = multiply(g, others)
    return (g,)


reduce_prod_p = primitive("Prod", _prod_kernel, reduce_rule("Prod"), _prod_grad, dtypes=_NUM)


@tf_export("math.reduce_prod", "reduce_prod")
def reduce_prod(input_tensor, axis=None, keepdims=False, name=None):
    """Product over ``axis`` (all axes if None)."""
    return _reduce(reduce_prod_p, input_tensor, axis, keepdims)


reduce_any_p = primitive(
    "Any",
    lambda x, axis=None, keepdims=False, xp=np: xp.any(x, axis=axis, keepdims=keepdims),
    reduce_rule("Any"),
    dtypes=_BOOL,
)
reduce_all_p = primitive(
    "All",
    lambda x, axis=None, keepdims=False, xp=np: xp.all(x, axis=axis, keepdims=keepdims),
    reduce_rule("All"),
    dtypes=_BOOL,
)


@tf_export("math.reduce_any", "reduce_any")
def reduce_any(input_tensor, axis=None, keepdims=False, name=None):
    """Logical or over ``axis`` (bool input)."""
    return _reduce(reduce_any_p, input_tensor, axis, keepdims)


@tf_export("math.reduce_all", "reduce_all")
def reduce_all(input_tensor, axis=None, keepdims=False, name=None):
    """Logical and over ``axis`` (bool input)."""
    return _reduce(reduce_all_p, input_tensor, axis, keepdims)


# --------------------------------------------------------------------------------------
# logsumexp, euclidean norm, variance, std
# --------------------------------------------------------------------------------------


def _lse_kernel(x, axis=None, keepdims=False, xp=np):
    m = xp.max(x, axis=axis, keepdims=True, initial=-math.inf)
    m = xp.where(xp.isfinite(m), m, 0).astype(x.dtype)
    s = xp.sum(xp.exp(x - m), axis=axis, keepdims=True)
    out = xp.log(s) + m
    if not keepdims:
        out = xp.squeeze(out, axis=axis) if axis is None or len(axis) else out
    return xp.asarray(out, dtype=x.dtype)


def _lse_grad(inputs, out, dy, axis=None, keepdims=False):
    # softmax(x) along the axes, shifted by the (finite) max so that it is exact even when
    # the result is large (exp(x - out) would lose the low bits of out).
    x = inputs[0]
    m = reduce_max(x, axis, keepdims=True)
    inf = _const(math.inf, x.dtype)
    m = where_v2(logical_and(less(m, inf), greater(m, negative(inf))), m, zeros_like(m))
    e = exp(subtract(x, m))
    soft = realdiv(e, reduce_sum(e, axis, keepdims=True))
    return (multiply(soft, _broadcast_back(dy, x, axis, keepdims)),)


reduce_logsumexp_p = primitive(
    "ReduceLogSumExp", _lse_kernel, reduce_rule("ReduceLogSumExp"), _lse_grad, dtypes=_d.FLOATS
)


@tf_export("math.reduce_logsumexp", "reduce_logsumexp")
def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None):
    """log(sum(exp(x))) over ``axis``, computed stably (large inputs do not overflow)."""
    return _reduce(reduce_logsumexp_p, input_tensor, axis, keepdims)


def _enorm_kernel(x, axis=None, keepdims=False, xp=np):
    if x.dtype.kind in "iu":
        s = xp.sum(x.astype(xp.float64) ** 2, axis=axis, keepdims=keepdims)
        return xp.asarray(xp.floor(xp.sqrt(s)), dtype=x.dtype)
    s = xp.sum(xp.abs(x) ** 2, axis=axis, keepdims=keepdims)
    return xp.asarray(xp.sqrt(s), dtype=x.dtype)


def _enorm_grad(inputs, out, dy, axis=None, keepdims=False):
    x = inputs[0]
    n = _broadcast_back(out, x, axis, keepdims)
    return (multiply(realdiv(x, n), _broadcast_back(dy, x, axis, keepdims)),)


reduce_euclidean_norm_p = primitive(
    "EuclideanNorm", _enorm_kernel, reduce_rule("EuclideanNorm"), _enorm_grad, dtypes=_NUM
)


@tf_export("math.reduce_euclidean_norm")
def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    """sqrt(sum(|x|**2)) over ``axis``."""
    return _reduce(reduce_euclidean_norm_p, input_tensor, axis, keepdims)


def _abs_squared(d):
    if d.dtype.is_complex:
        re, im = real(d), imag(d)
        return add(multiply(re, re), multiply(im, im))
    return multiply(d, d)


@tf_export("math.reduce_variance")
def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """Population variance over ``axis`` (float or complex input; complex gives a real result)."""
    x = convert_to_tensor(input_tensor)
    if not (x.dtype.is_floating or x.dtype.is_complex):
        raise TypeError(
            f"reduce_variance: input must be either real or complex, got {x.dtype.name}"
        )
    axes = _axis_param(x, axis, "reduce_variance")
    mean = reduce_mean(x, axes, keepdims=True)
    return reduce_mean(_abs_squared(subtract(x, mean)), axes, keepdims=_keepdims(keepdims))


@tf_export("math.reduce_std")
def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """Population standard deviation over ``axis`` (float or complex input)."""
    x = convert_to_tensor(input_tensor)
    if not (x.dtype.is_floating or x.dtype.is_complex):
        raise TypeError(f"reduce_std: input must be either real or complex, got {x.dtype.name}")
    return sqrt(reduce_variance(x, axis, keepdims))


@tf_export("math.count_nonzero")
def count_nonzero(input, axis=None, keepdims=None, dtype=_d.int64, name=None):  # noqa: A002
    """Number of non-zero (non-empty for strings, True for bool) elements over ``axis``."""
    x = convert_to_tensor(input)
    zero = _const(b"" if x.dtype is _d.string else (False if x.dtype is _d.bool else 0), x.dtype)
    counts = reduce_sum(cast(not_equal(x, zero), _d.int64), axis, _keepdims(keepdims))
    return cast(counts, dtype)


@tf_export("math.l2_normalize", "nn.l2_normalize", "linalg.l2_normalize")
def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """x / sqrt(max(sum(|x|**2, axis), epsilon))."""
    if dim is not None:
        if axis is not None:
            raise ValueError("l2_normalize: cannot specify both 'axis' and 'dim'")
        axis = dim
    x = convert_to_tensor(x)
    axes = _axis_param(x, axis, "l2_normalize")
    if x.dtype.is_complex:
        sq = reduce_sum(_abs_squared(x), axes, keepdims=True)
        inv = rsqrt(maximum(sq, _const(epsilon, sq.dtype)))
        return multiply(x, cast(inv, x.dtype))
    sq = reduce_sum(multiply(x, x), axes, keepdims=True)
    return multiply(x, rsqrt(maximum(sq, _const(epsilon, x.dtype))))


# --------------------------------------------------------------------------------------
# argmax / argmin
# --------------------------------------------------------------------------------------

_ARG_OUT = frozenset([_d.int16, _d.uint16, _d.int32, _d.int64])


def _arg_rule(op):
    def rule(x, axis, output_type):
        if x.rank is None:
            return AVal(TensorShape(None), output_type)
        r = x.rank
        if not -r <= axis < r:
            raise op_error(
                InvalidArgumentError,
                op,
                f"Expected dimension in the range [{-r}, {r}), but got {axis}",
            )
        dims = x.shape.as_list()
        if dims[axis] == 0:
            raise op_error(
                InvalidArgumentError, op, f"Reduction axis {axis % r} is empty in shape {dims}"
            )
        del dims[axis]
        return AVal(dims, output_type)

    return rule


def _arg_kernel(largest):
    """argmax's kernel (``largest``), or argmin's."""
    fill = -math.inf if largest else math.inf

    def kernel(x, axis, output_type, xp=np):
        if x.dtype.kind == "f":  # NaNs never win (they lose every comparison), like TF's kernel
            x = xp.where(xp.isnan(x), fill, x)
        i = xp.argmax(x, axis=axis) if largest else xp.argmin(x, axis=axis)
        return i.astype(output_type.np)

    return kernel


argmax_p = primitive("ArgMax", _arg_kernel(True), _arg_rule("ArgMax"), dtypes=_REAL | _BOOL)
argmin_p = primitive("ArgMin", _arg_kernel(False), _arg_rule("ArgMin"), dtypes=_REAL | _BOOL)


def _arg(prim, input, axis, output_type):  # noqa: A002
    x = convert_to_tensor(input)
    if axis is None:
        axis = 0
    a = np.asarray(axis.numpy() if hasattr(axis, "numpy") else axis)
    if a.ndim != 0 or a.dtype.kind not in "iu":
        raise op_error(
            # TF: argmin makes a string axis tensor and its op rejects it; argmax refuses first
            InvalidArgumentError if a.dtype.kind in "USO" and prim is argmin_p else TypeError,
            prim.name, f"axis must be int or Tensor with integer datatype, got {axis!r}",
        )  # fmt: skip
    output_type = _d.as_dtype(output_type)
    if output_type not in _ARG_OUT:
        raise op_error(
            InvalidArgumentError,
            prim.name,
            f"output_type {output_type.name} is not one of int16, uint16, int32, int64",
        )
    r = x.shape.rank
    if r is not None and not -r <= int(a) < r:
        # checked here too: the eager fast path runs the kernel, and NumPy takes axis 0 of a
        # scalar, where TF rejects it
        raise op_error(
            InvalidArgumentError, prim.name, f"Expected dimension in the range [{-r}, {r}), but got {int(a)}"
        )  # fmt: skip
    return bind(prim, (x,), {"axis": int(a), "output_type": output_type})


@tf_export("math.argmax", "argmax")
def argmax(input, axis=None, output_type=_d.int64, name=None):  # noqa: A002
    """Index of the largest value along ``axis`` (0 if None); the first one on ties."""
    return _arg(argmax_p, input, axis, output_type)


@tf_export("math.argmin", "argmin")
def argmin(input, axis=None, output_type=_d.int64, name=None):  # noqa: A002
    """Index of the smallest value along ``axis`` (0 if None); the first one on ties."""
    return _arg(argmin_p, input, axis, output_type)


# --------------------------------------------------------------------------------------
# Scans: cumsum, cumprod, cumulative_logsumexp
# --------------------------------------------------------------------------------------


def _scan_rule(op):
    def rule(x, axis, exclusive, reverse):
        r = x.rank
        if r is not None and not -r <= axis < r:
            raise op_error(
                InvalidArgumentError,
                op,
                f"ScanOp: Expected scan axis in the range [{-r}, {r}), but got {axis}",
            )
        return AVal(x.shape, x.dtype)

    return rule


def _scan_kernel(accumulate, identity):
    """Kernel of a scan along ``axis``: ``accumulate(xp, x, axis)`` is the inclusive scan."""

    def kernel(x, axis, exclusive, reverse, xp=np):
        if reverse:
            x = xp.flip(x, axis=axis)
        out = accumulate(xp, x, axis)
        if exclusive:
            lead = (slice(None),) * (axis % out.ndim)
            n = out.shape[axis]
            head = xp.full_like(out[lead + (slice(0, 1),)], identity)
            out = xp.concat([head, out[lead + (slice(0, max(n - 1, 0)),)]], axis=axis)
        if reverse:
            out = xp.flip(out, axis=axis)
        return xp.ascontiguousarray(out, dtype=x.dtype)

    return kernel


def _cumsum_grad(inputs, out, dy, axis, exclusive, reverse):
    return (cumsum(dy, axis, exclusive=exclusive, reverse=not reverse),)


def _cumprod_grad(inputs, out, dy, axis, exclusive, reverse):
    # TF's rule: sum_{k>=i} dy_k * out_k / x_i (0 where x_i == 0, as TF does).
    x = inputs[0]
    s = cumsum(multiply(out, dy), axis, exclusive=exclusive, reverse=not reverse)
    return (divide_no_nan(s, x),)


def _cumsum(xp, x, axis):
    return xp.cumsum(x, axis=axis, dtype=x.dtype)


def _cumprod(xp, x, axis):
    return xp.cumprod(x, axis=axis, dtype=x.dtype)


def _cum_logsumexp(xp, x, axis):
    """Host only (``xp`` is NumPy): ``ufunc.accumulate`` has no array-API counterpart."""
    return np.logaddexp.accumulate(x, axis=axis)


# the kernels' ``ascontiguousarray`` (and ufunc.accumulate) have no jax.numpy counterpart
cumsum_p = primitive(
    "Cumsum",
    _scan_kernel(_cumsum, 0),
    _scan_rule("Cumsum"),
    _cumsum_grad,
    dtypes=_NUM,
    lowering=_lix.scan("sum"),
)
cumprod_p = primitive(
    "Cumprod",
    _scan_kernel(_cumprod, 1),
    _scan_rule("Cumprod"),
    _cumprod_grad,
    dtypes=_NUM,
    lowering=_lix.scan("prod"),
)


def _cum_lse_grad(inputs, out, dy, axis, exclusive, reverse):
    # dx_i = sum_k dy_k exp(x_i - out_k), over the k that include i, done in log space
    # separately for the positive and negative parts of dy (TF's approach).
    x = inputs[0]
    lowest = _const(x.dtype.min, x.dtype)
    zero = zeros_like(dy)
    one = ones_like(dy)
    pos, neg = greater(dy, zero), less(dy, zero)
    log_pos = where_v2(pos, log(where_v2(pos, dy, one)), lowest)
    log_neg = where_v2(neg, log(where_v2(neg, negative(dy), one)), lowest)
    kw = {"exclusive": exclusive, "reverse": not reverse}
    out_pos = exp(add(cumulative_logsumexp(subtract(log_pos, out), axis, **kw), x))
    out_neg = exp(add(cumulative_logsumexp(subtract(log_neg, out), axis, **kw), x))
    return (subtract(out_pos, out_neg),)


cumulative_logsumexp_p = primitive(
    "CumulativeLogsumexp",
    _on_host(_scan_kernel(_cum_logsumexp, -math.inf)),
    _scan_rule("CumulativeLogsumexp"),
    _cum_lse_grad,
    dtypes=_d.FLOATS,
    host=True,
    lowering=_lix.scan("logsumexp"),
)


def _scan(prim, x, axis, exclusive, reverse):
    x = convert_to_tensor(x)
    a = np.asarray(axis.numpy() if hasattr(axis, "numpy") else axis)
    if a.ndim != 0 or a.dtype.kind not in "iu":
        raise op_error(
            InvalidArgumentError if a.dtype.kind in "USO" else TypeError, prim.name,
            f"axis must be a scalar int32 or int64, got {axis!r}",
        )  # fmt: skip
    params = {"axis": int(a), "exclusive": bool(exclusive), "reverse": bool(reverse)}
    if x.shape.rank is not None:
        _scan_rule(prim.name)(AVal.of(x), **params)
    return bind(prim, (x,), params)


@tf_export("math.cumsum", "cumsum")
def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    """Cumulative sum along ``axis`` (exclusive: start from 0; reverse: from the end)."""
    return _scan(cumsum_p, x, axis, exclusive, reverse)


@tf_export("math.cumprod")
def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    """Cumulative product along ``axis`` (exclusive: start from 1; reverse: from the end)."""
    return _scan(cumprod_p, x, axis, exclusive, reverse)


@tf_export("math.cumulative_logsumexp")
def cumulative_logsumexp(x, axis=0, exclusive=False, reverse=False, name=None):
    """Cumulative log(sum(exp(x))) along ``axis``, computed stably."""
    return _scan(cumulative_logsumexp_p, x, axis, exclusive, reverse)


# --------------------------------------------------------------------------------------
# Gathers/scatters along an axis (private; used by the gradients of top_k, sort, segments)
# --------------------------------------------------------------------------------------


def _along_rule(op):
    def rule(x, idx, axis):
        if x.rank is not None and idx.rank is not None and x.rank != idx.rank:
            raise op_error(
                InvalidArgumentError, op, f"indices (shape {list(idx.shape)}) must have the rank of the input "
                f"(shape {list(x.shape)})",
            )  # fmt: skip
        return AVal(idx.shape, x.dtype)

    return rule


take_along_axis_p = primitive(
    "TakeAlongAxis",
    lambda x, idx, axis, xp=np: xp.take_along_axis(x, idx.astype(np.intp), axis=axis),
    _along_rule("TakeAlongAxis"),
    lambda inputs, out, dy, axis: (put_along_axis(dy, inputs[1], shape(inputs[0]), axis), None),
)


def _put_kernel(u, idx, s, axis):
    """Host kernel: the scatter-add is ``np.add.at``, which has no array-API counterpart."""
    out = np.zeros(tuple(int(v) for v in s), dtype=u.dtype)
    grids = list(np.ogrid[tuple(slice(n) for n in idx.shape)])
    grids[axis] = idx.astype(np.intp)
    np.add.at(out, tuple(grids), u)
    return out


def _put_rule(u, idx, s, axis):
    if s.value is not None:
        return AVal([int(v) for v in s.value], u.dtype)
    return AVal([None] * u.rank if u.rank is not None else TensorShape(None), u.dtype)


put_along_axis_p = primitive(
    "PutAlongAxis",
    _put_kernel,
    _put_rule,
    lambda inputs, out, dy, axis: (take_along_axis(dy, inputs[1], axis), None, None),
    host=True,
    lowering=_lix.put_along_axis,
)


def take_along_axis(x, indices, axis):
    """out[..., j, ...] = x[..., indices[..., j, ...], ...] along ``axis`` (gradient helper)."""
    x = convert_to_tensor(x)
    return bind(take_along_axis_p, (x, convert_to_tensor(indices)), {"axis": axis % x.shape.rank})


def put_along_axis(updates, indices, shape, axis):
    """Zeros of ``shape`` with ``updates`` added at ``indices`` along ``axis`` (duplicates add)."""
    u = convert_to_tensor(updates)
    s = convert_to_tensor(shape, dtype_hint=_d.int32)
    return bind(put_along_axis_p, (u, convert_to_tensor(indices), s), {"axis": axis % u.shape.rank})


# --------------------------------------------------------------------------------------
# top_k, in_top_k
# --------------------------------------------------------------------------------------


def stable_argsort(xp, x, axis=-1, descending=False):
    """Stable argsort along ``axis``; descending keeps ties in increasing index order and puts
    NaN first (ascending: NaN last), like TF's sort."""
    if not descending:
        return xp.argsort(x, axis=axis, stable=True)
    n = x.shape[axis]
    r = xp.argsort(xp.flip(x, axis=axis), axis=axis, stable=True)
    return xp.flip(n - 1 - r, axis=axis)


def _top_k_rule(x, k, index_type):
    if x.rank == 0:
        raise op_error(
            InvalidArgumentError, "TopKV2", f"input must be >= 1-D, got shape {list(x.shape)}"
        )
    if k < 0:
        raise op_error(InvalidArgumentError, "TopKV2", f"Need k >= 0, got {k}")
    if x.rank is None:
        return AVal(TensorShape(None), x.dtype), AVal(TensorShape(None), index_type)
    n = x.shape[-1]
    if n is not None and n < k:
        raise op_error(
            InvalidArgumentError, "TopKV2", f"input must have at least k columns. Had {n}, needed {k} "
            f"(input shape {list(x.shape)})",
        )  # fmt: skip
    dims = x.shape.as_list()[:-1] + [k]
    return AVal(dims, x.dtype), AVal(dims, index_type)


def _top_k_kernel(x, k, index_type, xp=np):
    if x.ndim == 0 or x.shape[-1] < k or k < 0:
        raise ValueError("invalid top_k arguments")
    idx = stable_argsort(xp, x, -1, descending=True)[..., :k]
    return xp.take_along_axis(x, idx, axis=-1), idx.astype(index_type.np)


def _top_k_grad(inputs, outs, dys, k, index_type):
    x = inputs[0]
    return (put_along_axis(dys[0], outs[1], shape(x), -1),)


top_k_p = primitive("TopKV2", _top_k_kernel, _top_k_rule, _top_k_grad, n_out=2, dtypes=_REAL)

TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])


@tf_export("math.top_k", "nn.top_k")
def top_k(input, k=1, sorted=True, index_type=_d.int32, name=None):  # noqa: A002
    """The ``k`` largest entries along the last axis and their indices (ties: lower index
    first). Returns a namedtuple ``(values, indices)``."""
    x = convert_to_tensor(input)
    kv = static_value(k)
    if kv is None or np.ndim(kv) != 0 or np.asarray(kv).dtype.kind not in "iu":
        raise TypeError(f"top_k: k must be a scalar int32, got {k!r}")
    index_type = _d.as_dtype(index_type)
    if index_type not in (_d.int16, _d.int32, _d.int64):
        raise op_error(
            InvalidArgumentError,
            "TopKV2",
            f"index_type must be int16, int32 or int64, got {index_type.name}",
        )
    values, indices = bind(top_k_p, (x,), {"k": int(kv), "index_type": index_type})
    return TopKV2(values, indices)


def _in_top_k_rule(p, t, k):
    if p.rank is not None and p.rank != 2:
        raise op_error(
            InvalidArgumentError,
            "InTopKV2",
            f"predictions must be 2-dimensional, got shape {list(p.shape)}",
        )
    if t.rank is not None and t.rank != 1:
        raise op_error(
            InvalidArgumentError,
            "InTopKV2",
            f"targets must be 1-dimensional, got shape {list(t.shape)}",
        )
    b = p.shape[0] if p.rank is not None else None
    if b is not None and t.rank is not None and t.shape[0] is not None and t.shape[0] != b:
        raise op_error(
            InvalidArgumentError, "InTopKV2",
            f"First dimension of predictions {b} must match length of targets {t.shape[0]}",
        )  # fmt: skip
    return AVal([b if b is not None else (t.shape[0] if t.rank == 1 else None)], _d.bool)


def _in_top_k_kernel(p, t, k, xp=np):
    if p.ndim != 2 or t.ndim != 1 or p.shape[0] != t.shape[0]:
        raise ValueError("bad shapes")
    n = p.shape[1]
    valid = (t >= 0) & (t < n)
    tv = p[xp.arange(p.shape[0]), xp.where(valid, t, 0)]
    better = xp.sum(p > tv[:, None], axis=1)
    finite = xp.all(xp.isfinite(p), axis=1)
    return valid & finite & (better < k)


in_top_k_p = primitive("InTopKV2", _in_top_k_kernel, _in_top_k_rule)


@tf_export("math.in_top_k", "nn.in_top_k")
def in_top_k(targets, predictions, k, name=None):
    """Whether each target class is among the top ``k`` predictions of its row (ties count as
    in; rows with non-finite predictions give False)."""
    p = convert_to_tensor(predictions, dtype=_d.float32)
    t = convert_to_tensor(targets)
    if t.dtype not in _INDEX:
        raise op_error(
            InvalidArgumentError, "InTopKV2", f"targets must be int32 or int64, got {t.dtype.name}"
        )
    if isinstance(k, (str, bytes)):  # TF cannot make its int32 tensor: TypeError
        raise TypeError(f"InTopKV2: cannot convert k={k!r} to an int32 tensor")
    kv = static_value(k)
    return bind(in_top_k_p, (p, t), {"k": int(kv)})


# --------------------------------------------------------------------------------------
# bincount
# --------------------------------------------------------------------------------------


def _bincount_kernel(arr, weights, minlength, maxlength, axis, binary_output, xp=np):
    if arr.size and arr.min() < 0:
        raise op_error(InvalidArgumentError, "DenseBincount", "Input arr must be non-negative!")
    size = int(arr.max()) + 1 if arr.size else 0
    if minlength is not None:
        size = max(size, minlength)
    if maxlength is not None:
        size = min(size, maxlength)
    size = max(size, 0)
    has_w = weights.size != 0
    if axis == 0 or arr.ndim <= 1:
        a, w, rows = arr.reshape(1, -1), weights.reshape(1, -1), None
    else:
        a, w, rows = arr, weights, arr.shape[0]
    keep = a < size
    flat = (a + size * xp.arange(a.shape[0])[:, None])[keep]
    nb = a.shape[0] * size
    if binary_output or not has_w:
        counts = xp.bincount(flat, minlength=nb)
        if binary_output:
            counts = counts > 0
        out = counts.astype(weights.dtype)
    else:
        out = xp.bincount(flat, weights=w[keep].astype(xp.float64), minlength=nb).astype(
            weights.dtype
        )
        if weights.dtype.kind == "c":
            out = xp.bincount(flat, weights=w[keep].real, minlength=nb) + 1j * xp.bincount(
                flat, weights=w[keep].imag, minlength=nb
            )
            out = out.astype(weights.dtype)
    return out.reshape(size) if rows is None else out.reshape(rows, size)


def _bincount_rule(arr, weights, minlength, maxlength, axis, binary_output):
    size = None
    if arr.value is not None:
        v = arr.value
        size = int(v.max()) + 1 if v.size else 0
        size = max(size, minlength) if minlength is not None else size
        size = min(size, maxlength) if maxlength is not None else size
    if axis == 0 or (arr.rank is not None and arr.rank <= 1):
        return AVal([size], weights.dtype)
    return AVal([arr.shape[0], size], weights.dtype)


bincount_p = primitive(
    "DenseBincount", _bincount_kernel, _bincount_rule, lowering=_lix.dense_bincount
)


@tf_export("math.bincount")
def bincount(
    arr,
    weights=None,
    minlength=None,
    maxlength=None,
    dtype=_d.int32,
    name=None,
    axis=None,
    binary_output=False,
):
    """Count occurrences of each value in ``arr`` (weighted sums if ``weights`` is given; the
    output dtype is then the weights' dtype). ``axis`` 0 (or None) counts over everything,
    -1 counts each row of a 2-D ``arr`` separately."""
    a = convert_to_tensor(arr)
    if weights is not None and binary_output:
        raise ValueError("bincount: arguments `binary_output` and `weights` are mutually exclusive")
    if not a.dtype.is_integer:
        a = cast(a, _d.int32)
    if axis is None:
        axis = 0
    if axis not in (0, -1):
        raise ValueError(
            f"bincount: unsupported value for argument axis={axis}; only 0 and -1 are supported"
        )
    if axis == -1 and a.shape.rank is not None and a.shape.rank > 2:
        raise op_error(
            InvalidArgumentError,
            "DenseBincount",
            f"axis=-1 needs a 1-D or 2-D arr, got shape {a.shape}",
        )
    if weights is not None:
        w = convert_to_tensor(weights)
        if a.shape.is_fully_defined() and w.shape.is_fully_defined() and w.shape != a.shape:
            raise op_error(
                InvalidArgumentError, "DenseBincount",
                f"weights shape {list(w.shape)} must equal arr shape {list(a.shape)}",
            )  # fmt: skip
    else:
        w = convert_to_tensor(np.zeros([0], _d.as_dtype(dtype).np))
    for what, v in (("minlength", minlength), ("maxlength", maxlength)):
        if isinstance(v, (str, bytes)):  # as TF: the int32 tensor cannot be made
            raise TypeError(f"bincount: cannot convert {what}={v!r} to an int32 tensor")
    if maxlength is not None and int(static_value(maxlength)) < 0:
        # TF clips the output size to maxlength and then rejects a negative size
        raise op_error(
            InvalidArgumentError,
            "DenseBincount",
            f"size ({int(static_value(maxlength))}) must be non-negative (maxlength)",
        )
    params = {
        "minlength": None if minlength is None else int(static_value(minlength)),
        "maxlength": None if maxlength is None else int(static_value(maxlength)),
        "axis": axis,
        "binary_output": bool(binary_output),
    }
    return bind(bincount_p, (a, w), params)


# --------------------------------------------------------------------------------------
# Segment reductions
# --------------------------------------------------------------------------------------


def _seg_ids_check(op, ids, n0):
    """Checks shared by the sorted segment ops; returns the number of segments."""
    if ids.ndim != 1:
        raise op_error(
            InvalidArgumentError, op, f"segment_ids should be a vector, got shape {list(ids.shape)}"
        )
    if ids.shape[0] != n0:
        raise op_error(
            InvalidArgumentError, op,
            f"segment_ids should be the same size as dimension 0 of input ({ids.shape[0]} vs {n0})",
        )  # fmt: skip
    if ids.size == 0:
        return 0
    if ids[0] < 0:
        raise op_error(
            InvalidArgumentError, op, f"Segment id {ids[0]} out of range; segment ids must be >= 0"
        )
    if np.any(np.diff(ids) < 0):
        raise op_error(InvalidArgumentError, op, "segment ids are not increasing")
    return int(ids[-1]) + 1


_SEG = {  # reduction name -> (ufunc for .at, identity for empty segments in unsorted ops)
    "Sum": (np.add, lambda dt: 0),
    "Prod": (np.multiply, lambda dt: 1),
    "Max": (np.maximum, lambda dt: _d.from_numpy(dt).min),
    "Min": (np.minimum, lambda dt: _d.from_numpy(dt).max),
}


def _seg_reduce(kind, data, flat_ids, num, lead):
    """Reduce rows of ``data`` (first ``lead`` dims flattened) into ``num`` segments (host
    NumPy arrays: the scatter is ``ufunc.at``, which has no array-API counterpart)."""
    rest = data.shape[lead:]
    # the leading count spelled out: NumPy cannot infer a -1 when ``rest`` holds a 0
    d = data.reshape((math.prod(data.shape[:lead]),) + rest)
    if kind == "Mean":
        s = _seg_reduce("Sum", data, flat_ids, num, lead)
        c = np.bincount(flat_ids, minlength=num).reshape((num,) + (1,) * len(rest))
        c = np.maximum(c, 1)
        if data.dtype.kind in "iu":
            q = (np.abs(s) // c) * np.sign(s) if data.dtype.kind == "i" else s // c
            return q.astype(data.dtype)
        return (s / c).astype(data.dtype)
    fn, ident = _SEG[kind]
    out = np.full((num,) + rest, ident(data.dtype), dtype=data.dtype)
    fn.at(out, flat_ids, d)
    return out


def _sorted_seg_kernel(kind):
    """Host kernel of a sorted segment reduction (``_seg_reduce`` scatters with ``ufunc.at``)."""
    op = "Segment" + kind

    def kernel(data, ids):
        if data.ndim == 0:
            raise op_error(InvalidArgumentError, op, "input must be at least rank 1")
        num = _seg_ids_check(op, ids, data.shape[0])
        out = _seg_reduce(kind, data, ids.astype(np.intp), num, 1)
        if kind in ("Max", "Min") and num:  # empty segments give 0 in the sorted ops
            empty = np.bincount(ids, minlength=num) == 0
            out[empty] = 0
        return out

    return kernel


def _sorted_seg_rule(kind):
    op = "Segment" + kind

    def rule(data, ids):
        if ids.rank is not None and ids.rank != 1:
            raise op_error(
                InvalidArgumentError,
                op,
                f"segment_ids should be a vector, got shape {list(ids.shape)}",
            )
        if data.rank is None:
            return AVal(TensorShape(None), data.dtype)
        if data.rank == 0:
            raise op_error(InvalidArgumentError, op, "input must be at least rank 1")
        n0 = data.shape[0]
        if ids.rank == 1 and None not in (n0, ids.shape[0]) and n0 != ids.shape[0]:
            raise op_error(
                InvalidArgumentError, op,
                f"segment_ids should be the same size as dimension 0 of input ({ids.shape[0]} vs {n0})",
            )  # fmt: skip
        num = None
        if ids.value is not None:
            num = int(ids.value[-1]) + 1 if ids.value.size else 0
        return AVal([num] + data.shape.as_list()[1:], data.dtype)

    return rule


def _unsorted_seg_kernel(kind):
    """Host kernel of an unsorted segment reduction (``_seg_reduce`` scatters with
    ``ufunc.at``)."""
    op = "UnsortedSegment" + kind

    def kernel(data, ids, num_segments):
        _unsorted_check(op, data.shape, ids.shape, np.shape(num_segments))
        num = int(num_segments)
        flat = ids.reshape(-1).astype(np.intp)
        _check_unsorted_ids(op, flat, num)
        keep = flat >= 0
        lead = ids.ndim
        d = data.reshape((flat.size,) + data.shape[lead:])[keep]
        return _seg_reduce(kind, d, flat[keep], num, 1)

    return kernel


def _check_unsorted_ids(op, flat, num):
    """num_segments must be non-negative and no id (``flat``, host values) reach it."""
    if num < 0:
        raise op_error(InvalidArgumentError, op, f"num_segments ({num}) must be non-negative")
    bad = flat >= num
    if np.any(bad):
        i = int(np.argmax(bad))
        raise op_error(
            InvalidArgumentError, op, f"segment_ids[{i}] = {flat[i]} is out of range [0, {num})"
        )


def _unsorted_check(op, dshape, ishape, nshape):
    if len(nshape) != 0:
        raise op_error(
            InvalidArgumentError, op, f"num_segments should be a scalar, not shape {list(nshape)}"
        )
    if dshape is None or ishape is None:
        return
    k = len(ishape)
    if k > len(dshape) or any(
        a is not None and b is not None and a != b for a, b in zip(dshape[:k], ishape)
    ):
        raise op_error(
            InvalidArgumentError, op,
            f"data.shape = {list(dshape)} does not start with segment_ids.shape = {list(ishape)}",
        )  # fmt: skip


def _unsorted_seg_rule(kind):
    op = "UnsortedSegment" + kind

    def rule(data, ids, num_segments):
        nshape = num_segments.shape.as_list() if num_segments.rank is not None else []
        dshape = data.shape.as_list() if data.rank is not None else None
        ishape = ids.shape.as_list() if ids.rank is not None else None
        _unsorted_check(op, dshape, ishape, nshape)
        num = None if num_segments.value is None else int(num_segments.value)
        if dshape is None or ishape is None:
            return AVal(TensorShape(None), data.dtype)
        return AVal([num] + dshape[len(ishape) :], data.dtype)

    return rule


def _expand_seg(v, extra):
    """[n] -> [n, 1, ..., 1] with ``extra`` trailing ones (for broadcasting per-segment values)."""
    return reshape(v, [-1] + [1] * extra) if extra else v


def _num_rows(x):
    n = x.shape[0] if x.shape.rank else None
    return n if n is not None else unstack(shape(x), num=x.shape.rank)[0]


def _seg_grad(kind, sorted_):
    """Gradient rules shared by the sorted and unsorted segment reductions."""

    def seg_sum(v, ids, num):
        return segment_sum(v, ids) if sorted_ else unsorted_segment_sum(v, ids, num)

    def seg_prod(v, ids, num):
        return segment_prod(v, ids) if sorted_ else unsorted_segment_prod(v, ids, num)

    def grad(inputs, out, dy, **_):
        data, ids = inputs[0], inputs[1]
        num = None if sorted_ else inputs[2]
        extra = data.shape.rank - ids.shape.rank
        if kind == "Sum":
            return (segment_gather(dy, ids),) + (None,) * (len(inputs) - 1)
        if kind == "Mean":
            c = seg_sum(ones_like(cast(ids, dy.dtype)), ids, num)
            counts = maximum(c, ones_like(c))
            return (segment_gather(realdiv(dy, _expand_seg(counts, extra)), ids), None)
        if kind in ("Max", "Min"):
            gathered = segment_gather(out, ids)
            selected = equal(data, gathered)
            if not sorted_:
                pos = _expand_seg_like(ids, extra)
                selected = logical_and(selected, broadcast_to(pos, shape(data)))
            sel = cast(selected, dy.dtype)
            num_sel = seg_sum(sel, ids, num)
            weighted = divide_no_nan(dy, num_sel)
            return (multiply(sel, segment_gather(weighted, ids)),) + (None,) * (len(inputs) - 1)
        # Prod: exact with zeros (one zero: the product of the others; two or more: 0).
        is_zero = equal(data, zeros_like(data))
        nz = seg_sum(cast(is_zero, _d.int32), ids, num)
        g = where_v2(greater(nz, _const(1, _d.int32)), zeros_like(dy), dy)
        non_zero = where_v2(is_zero, ones_like(data), data)
        non_zero_prod = seg_prod(non_zero, ids, num)
        by_el = realdiv(segment_gather(out, ids), non_zero)
        partial = where_v2(is_zero, segment_gather(non_zero_prod, ids), by_el)
        return (multiply(segment_gather(g, ids), partial),) + (None,) * (len(inputs) - 1)

    return grad


def _expand_seg_like(ids, extra):
    pos = greater(ids, _const(-1, ids.dtype))
    if not extra:
        return pos
    return reshape(pos, _concat_shape(ids, extra))


def _concat_shape(ids, extra):
    s = ids.shape.as_list()
    if None not in s:
        return s + [1] * extra
    return stack(unstack(shape(ids), num=len(s)) + [_const(1, _d.int32)] * extra)


segment_sum_p = primitive(
    "SegmentSum",
    _sorted_seg_kernel("Sum"),
    _sorted_seg_rule("Sum"),
    _seg_grad("Sum", True),
    dtypes=_NUM,
    host=True,
    lowering=_lix.sorted_segment("Sum"),
)
segment_mean_p = primitive(
    "SegmentMean",
    _sorted_seg_kernel("Mean"),
    _sorted_seg_rule("Mean"),
    _seg_grad("Mean", True),
    dtypes=_NUM,
    host=True,
    lowering=_lix.sorted_segment("Mean"),
)
segment_max_p = primitive(
    "SegmentMax",
    _sorted_seg_kernel("Max"),
    _sorted_seg_rule("Max"),
    _seg_grad("Max", True),
    dtypes=_REAL,
    host=True,
    lowering=_lix.sorted_segment("Max"),
)
segment_min_p = primitive(
    "SegmentMin",
    _sorted_seg_kernel("Min"),
    _sorted_seg_rule("Min"),
    _seg_grad("Min", True),
    dtypes=_REAL,
    host=True,
    lowering=_lix.sorted_segment("Min"),
)
segment_prod_p = primitive(
    "SegmentProd",
    _sorted_seg_kernel("Prod"),
    _sorted_seg_rule("Prod"),
    _seg_grad("Prod", True),
    dtypes=_NUM,
    host=True,
    lowering=_lix.sorted_segment("Prod"),
)
unsorted_segment_sum_p = primitive(
    "UnsortedSegmentSum",
    _unsorted_seg_kernel("Sum"),
    _unsorted_seg_rule("Sum"),
    _seg_grad("Sum", False),
    dtypes=_NUM,
    host=True,
    lowering=_lix.unsorted_segment("Sum"),
)
unsorted_segment_max_p = primitive(
    "UnsortedSegmentMax",
    _unsorted_seg_kernel("Max"),
    _unsorted_seg_rule("Max"),
    _seg_grad("Max", False),
    dtypes=_REAL,
    host=True,
    lowering=_lix.unsorted_segment("Max"),
)
unsorted_segment_min_p = primitive(
    "UnsortedSegmentMin",
    _unsorted_seg_kernel("Min"),
    _unsorted_seg_rule("Min"),
    _seg_grad("Min", False),
    dtypes=_REAL,
    host=True,
    lowering=_lix.unsorted_segment("Min"),
)
unsorted_segment_prod_p = primitive(
    "UnsortedSegmentProd",
    _unsorted_seg_kernel("Prod"),
    _unsorted_seg_rule("Prod"),
    _seg_grad("Prod", False),
    dtypes=_NUM,
    host=True,
    lowering=_lix.unsorted_segment("Prod"),
)


def _seg_ids(segment_ids, op):
    ids = convert_to_tensor(segment_ids)
    if ids.dtype not in _INDEX:
        raise op_error(
            InvalidArgumentError, op, f"segment_ids must be int32 or int64, got {ids.dtype.name}"
        )
    return ids


def _sorted(prim, data, segment_ids):
    return bind(prim, (convert_to_tensor(data), _seg_ids(segment_ids, prim.name)))


def _unsorted(prim, data, segment_ids, num_segments):
    n = convert_to_tensor(num_segments, dtype_hint=_d.int32)
    if n.dtype not in _INDEX:
        raise op_error(
            InvalidArgumentError,
            prim.name,
            f"num_segments must be int32 or int64, got {n.dtype.name}",
        )
    return bind(prim, (convert_to_tensor(data), _seg_ids(segment_ids, prim.name), n))


@tf_export("math.segment_sum")
def segment_sum(data, segment_ids, name=None):
    """Sum of the rows of ``data`` in each segment (ids sorted; empty segments give 0)."""
    return _sorted(segment_sum_p, data, segment_ids)


@tf_export("math.segment_mean")
def segment_mean(data, segment_ids, name=None):
    """Mean of the rows of ``data`` in each segment (ids sorted; empty segments give 0)."""
    return _sorted(segment_mean_p, data, segment_ids)


@tf_export("math.segment_max")
def segment_max(data, segment_ids, name=None):
    """Maximum of the rows of ``data`` in each segment (ids sorted; empty segments give 0)."""
    return _sorted(segment_max_p, data, segment_ids)


@tf_export("math.segment_min")
def segment_min(data, segment_ids, name=None):
    """Minimum of the rows of ``data`` in each segment (ids sorted; empty segments give 0)."""
    return _sorted(segment_min_p, data, segment_ids)


@tf_export("math.segment_prod")
def segment_prod(data, segment_ids, name=None):
    """Product of the rows of ``data`` in each segment (ids sorted; empty segments give 1)."""
    return _sorted(segment_prod_p, data, segment_ids)


@tf_export("math.unsorted_segment_sum")
def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    """Sum of the entries of ``data`` with each segment id (negative ids are dropped)."""
    return _unsorted(unsorted_segment_sum_p, data, segment_ids, num_segments)


@tf_export("math.unsorted_segment_max")
def unsorted_segment_max(data, segment_ids, num_segments, name=None):
    """Maximum per segment id; empty segments give the dtype's lowest finite value."""
    return _unsorted(unsorted_segment_max_p, data, segment_ids, num_segments)


@tf_export("math.unsorted_segment_min")
def unsorted_segment_min(data, segment_ids, num_segments, name=None):
    """Minimum per segment id; empty segments give the dtype's highest finite value."""
    return _unsorted(unsorted_segment_min_p, data, segment_ids, num_segments)


@tf_export("math.unsorted_segment_prod")
def unsorted_segment_prod(data, segment_ids, num_segments, name=None):
    """Product per segment id; empty segments give 1."""
    return _unsorted(unsorted_segment_prod_p, data, segment_ids, num_segments)


def _segment_counts(data, ids, num_segments):
    """Number of entries in each segment, shaped [num_segments, 1, ..., 1] like the output."""
    ids = _seg_ids(ids, "UnsortedSegmentSum")
    ones = ones_like(ids)
    n = unsorted_segment_sum(ones, ids, num_segments)
    return _expand_seg(n, data.shape.rank - ids.shape.rank)


@tf_export("math.unsorted_segment_mean")
def unsorted_segment_mean(data, segment_ids, num_segments, name=None):
    """Mean per segment id (empty segments give 0; integer data gives a float result, as TF)."""
    x = convert_to_tensor(data)
    n = _segment_counts(x, segment_ids, num_segments)
    n = maximum(n, ones_like(n))
    s = unsorted_segment_sum(x, segment_ids, num_segments)
    return truediv(s, cast(n, s.dtype))


@tf_export("math.unsorted_segment_sqrt_n")
def unsorted_segment_sqrt_n(data, segment_ids, num_segments, name=None):
    """Sum per segment id divided by sqrt(count) (empty segments give 0)."""
    x = convert_to_tensor(data)
    if not (x.dtype.is_floating or x.dtype.is_complex):
        raise op_error(
            InvalidArgumentError,
            "unsorted_segment_sqrt_n",
            f"data must be float, got {x.dtype.name}",
        )
    n = _segment_counts(x, segment_ids, num_segments)
    n = cast(maximum(n, ones_like(n)), x.dtype)
    return realdiv(unsorted_segment_sum(x, segment_ids, num_segments), sqrt(n))


# The gather that segment gradients need: out = params[ids], zeros where ids < 0.


def _seg_gather_kernel(params, ids, xp=np):
    safe = xp.where(ids < 0, 0, ids).astype(np.intp)
    if params.shape[0]:
        out = params[safe]
    else:
        out = xp.zeros(ids.shape + params.shape[1:], dtype=params.dtype)
    if xp.any(ids < 0):
        out = xp.where(
            (ids >= 0).reshape(ids.shape + (1,) * (params.ndim - 1)),
            out,
            xp.zeros((), dtype=params.dtype),
        )
    return out


def _seg_gather_rule(params, ids):
    if params.rank is None or ids.rank is None:
        return AVal(TensorShape(None), params.dtype)
    return AVal(ids.shape.as_list() + params.shape.as_list()[1:], params.dtype)


segment_gather_p = primitive(
    "SegmentGather",
    _seg_gather_kernel,
    _seg_gather_rule,
    lambda inputs, out, dy: (unsorted_segment_sum(dy, inputs[1], _num_rows(inputs[0])), None),
    lowering=_lix.segment_gather,
)


def segment_gather(params, segment_ids):
    """params[segment_ids] along axis 0, with zeros where an id is negative (gradient helper)."""
    return bind(segment_gather_p, (convert_to_tensor(params), convert_to_tensor(segment_ids)))


# --------------------------------------------------------------------------------------
# add_n
# --------------------------------------------------------------------------------------

add_n_p = primitive(
    "AddN",
    lambda *xs, xp=np: xp.asarray(sum(xs[1:], xs[0]), dtype=xs[0].dtype),
    lambda *xs: AVal(xs[0].shape, xs[0].dtype),
    lambda inputs, out, dy: tuple(dy for _ in inputs),
    dtypes=_NUM,
    same_dtype=True,
    saves=(),
    saves_output=False,
)


@tf_export("math.add_n", "add_n")
def add_n(inputs, name=None):
    """Sum a list of same-shape, same-dtype tensors."""
    ts = [convert_to_tensor(t) for t in inputs]
    if not ts:
        raise ValueError("add_n: inputs must be a non-empty list of tensors.")
    for t in ts[1:]:
        if t.shape.is_fully_defined() and ts[0].shape.is_fully_defined() and t.shape != ts[0].shape:
            raise ValueError(
                f"add_n: all inputs must have the same shape, got {ts[0].shape} and {t.shape}."
            )
    return bind(add_n_p, tuple(ts))
