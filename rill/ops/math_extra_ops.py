"""Smaller ``tf.math`` ops: ``multiply_no_nan``, ``nextafter``, ``invert_permutation``,
``is_non_decreasing`` / ``is_strictly_increasing``, ``confusion_matrix``,
``accumulate_n``, ``approx_max_k`` / ``approx_min_k`` and ``sobol_sample``."""

from __future__ import annotations

import collections

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import InvalidArgumentError
from rill.ops import lowering_math as _lowering
from rill.ops._op import (
    AVal,
    TensorShape,
    binary_args,
    bind,
    broadcast_rule,
    convert_to_tensor,
    op_error,
    primitive,
    static_value,
    tf_export,
    unbroadcast,
)
from rill.ops.array_ops import cast, ones_like, reshape, stack
from rill.ops.math_ops import greater, greater_equal, subtract
from rill.ops.reduction_ops import add_n, reduce_all, reduce_max, top_k
from rill.ops.shape_ops import transpose

# --------------------------------------------------------------------------------------
# multiply_no_nan, nextafter
# --------------------------------------------------------------------------------------


def _mul_no_nan_kernel(x, y, xp=np):
    # 0 wherever y is 0, even where x is inf or nan
    return xp.where(y == 0, xp.zeros((), dtype=x.dtype), x * y)


def _mul_no_nan_grad(inputs, out, dy):
    x, y = inputs
    # TF: dx = mul_no_nan(dy, y), dy_in = mul_no_nan(x, dy)
    return (
        unbroadcast(bind(mul_no_nan_p, (dy, y)), x),
        unbroadcast(bind(mul_no_nan_p, (x, dy)), y),
    )


mul_no_nan_p = primitive(
    "MulNoNan",
    _mul_no_nan_kernel,
    broadcast_rule("MulNoNan"),
    _mul_no_nan_grad,
    dtypes=_d.INEXACT,
    same_dtype=True,
)


@tf_export("math.multiply_no_nan")
def multiply_no_nan(x, y, name=None):
    """x * y, but 0 wherever y is 0 (even if x is inf or nan)."""
    return bind(mul_no_nan_p, binary_args(x, y))


nextafter_p = primitive(
    "NextAfter",
    "nextafter",
    broadcast_rule("NextAfter"),
    dtypes=frozenset({_d.float32, _d.float64}),
    same_dtype=True,
)


@tf_export("math.nextafter")
def nextafter(x1, x2, name=None):
    """The next representable value after x1 in the direction of x2."""
    return bind(nextafter_p, binary_args(x1, x2))


# --------------------------------------------------------------------------------------
# invert_permutation, monotonicity
# --------------------------------------------------------------------------------------


def _invert_permutation_kernel(x):
    n = x.shape[0]
    bad = (x < 0) | (x >= n)
    if np.any(bad):
        v = int(x[np.argmax(bad)])
        raise op_error(InvalidArgumentError, "InvertPermutation", f"{v} is not between 0 and {n}")
    out = np.full(n, -1, dtype=x.dtype)
    out[x] = np.arange(n, dtype=x.dtype)
    if np.any(out < 0):
        seen = np.zeros(n, bool)
        for v in x:  # name the first duplicate, as TF does
            if seen[v]:
                raise op_error(
                    InvalidArgumentError, "InvertPermutation", f"{v} is duplicated in the input."
                )
            seen[v] = True
    return out


def _invert_permutation_rule(x):
    if x.rank is not None and x.rank != 1:
        raise op_error(
            InvalidArgumentError,
            "InvertPermutation",
            f"invert_permutation expects a 1-D vector, got shape {x.shape}",
        )
    return AVal(x.shape if x.rank is not None else TensorShape([None]), x.dtype)


invert_permutation_p = primitive(
    "InvertPermutation",
    _invert_permutation_kernel,
    _invert_permutation_rule,
    dtypes=frozenset({_d.int32, _d.int64}),
    host=True,
    lowering=_lowering.invert_permutation,
)


@tf_export("math.invert_permutation", "invert_permutation")
def invert_permutation(x, name=None):
    """The inverse permutation: ``y[x[i]] = i`` (x a 1-D permutation of 0..n-1)."""
    return bind(invert_permutation_p, (convert_to_tensor(x),))


def _flat_numeric(x, op):
    x = convert_to_tensor(x)
    if not (x.dtype.is_floating or x.dtype.is_integer or x.dtype.is_complex):
        raise TypeError(f"Expected x to be numeric, instead found: {x!r}")
    return reshape(x, [-1])


def _pairwise(x, compare):
    from rill.ops.indexing_ops import strided_slice  # local: indexing_ops is a peer module

    n = x.shape[0]
    if n is not None and n < 2:
        return convert_to_tensor(True)
    return reduce_all(compare(strided_slice(x, [1], [0], end_mask=1), strided_slice(x, [0], [-1])))


@tf_export("math.is_non_decreasing")
def is_non_decreasing(x, name=None):
    """True if the flattened x satisfies x[i] <= x[i + 1] (True for fewer than 2 elements)."""
    return _pairwise(_flat_numeric(x, "is_non_decreasing"), greater_equal)


@tf_export("math.is_strictly_increasing")
def is_strictly_increasing(x, name=None):
    """True if the flattened x satisfies x[i] < x[i + 1] (True for fewer than 2 elements)."""
    return _pairwise(_flat_numeric(x, "is_strictly_increasing"), greater)


# --------------------------------------------------------------------------------------
# confusion_matrix, accumulate_n
# --------------------------------------------------------------------------------------


def _check_labels(v, what, n):
    if v is None:
        return
    if np.any(v < 0):
        raise op_error(
            InvalidArgumentError,
            "confusion_matrix",
            f"`{what}` contains negative values: {v.tolist()[:10]}",
        )
    if n is not None and np.any(v >= n):
        raise op_error(
            InvalidArgumentError,
            "confusion_matrix",
            f"`{what}` out of bound: values {v.tolist()[:10]} must be < num_classes={n}",
        )


@tf_export("math.confusion_matrix")
def confusion_matrix(
    labels, predictions, num_classes=None, weights=None, dtype=_d.int32, name=None
):
    """[n, n] matrix counting (or summing ``weights`` of) each (label, prediction) pair."""
    from rill.ops.indexing_ops import scatter_nd

    dtype = _d.as_dtype(dtype)
    labels = cast(reshape(convert_to_tensor(labels), [-1]), _d.int64)
    predictions = cast(reshape(convert_to_tensor(predictions), [-1]), _d.int64)
    n_static = None if num_classes is None else static_value(num_classes)
    _check_labels(static_value(labels), "labels", n_static)
    _check_labels(static_value(predictions), "predictions", n_static)
    if num_classes is None:
        top = reduce_max(stack([reduce_max(labels), reduce_max(predictions)]))
        n = add_n([top, convert_to_tensor(1, dtype=_d.int64)])
    else:
        n = cast(convert_to_tensor(num_classes), _d.int64)
    if weights is None:
        updates = ones_like(labels, dtype=dtype)
    else:
        updates = cast(reshape(convert_to_tensor(weights), [-1]), dtype)
    idx = stack([labels, predictions], axis=1)
    return scatter_nd(idx, updates, stack([n, n]))


@tf_export("math.accumulate_n")
def accumulate_n(inputs, shape=None, tensor_dtype=None, name=None):
    """Elementwise sum of a list of same-shape, same-dtype tensors (as ``add_n``)."""

    def bad():
        return ValueError(
            "inputs must be a list of at least one Tensor with the same dtype and shape"
        )

    if not inputs or not isinstance(inputs, (list, tuple)):
        raise bad()
    ts = [convert_to_tensor(t) for t in inputs]
    if any(t.dtype != ts[0].dtype for t in ts) or any(
        not t.shape.is_compatible_with(ts[0].shape) for t in ts
    ):
        raise bad()
    if shape is not None and not TensorShape(shape).is_compatible_with(ts[0].shape):
        raise ValueError(f"accumulate_n: shape {shape} is incompatible with the inputs' shape")
    if tensor_dtype is not None and _d.as_dtype(tensor_dtype) != ts[0].dtype:
        raise TypeError(f"accumulate_n: tensor_dtype {tensor_dtype} != inputs' {ts[0].dtype}")
    return add_n(ts)


# --------------------------------------------------------------------------------------
# approx_max_k / approx_min_k (exact on the CPU, which satisfies any recall target)
# --------------------------------------------------------------------------------------

ApproxTopK = collections.namedtuple("ApproxTopK", ["values", "indices"])


def _approx_k(operand, k, reduction_dimension, is_max):
    x = convert_to_tensor(operand)
    r = x.shape.rank
    if r is None:
        raise ValueError("approx_max_k / approx_min_k: the operand's rank must be known")
    if not -r <= reduction_dimension < r:
        raise ValueError(f"reduction_dimension {reduction_dimension} is out of range for rank {r}")
    ax = reduction_dimension % r
    perm = [i for i in range(r) if i != ax] + [ax]
    inv = list(np.argsort(perm))
    xt = transpose(x, perm) if ax != r - 1 else x
    if is_max:
        values, indices = top_k(xt, k=int(k))
    else:
        values, indices = top_k(subtract(convert_to_tensor(0, dtype=x.dtype), xt), k=int(k))
        values = subtract(convert_to_tensor(0, dtype=x.dtype), values)
    if ax != r - 1:
        values, indices = transpose(values, inv), transpose(indices, inv)
    return ApproxTopK(values, indices)


@tf_export("math.approx_max_k", "nn.approx_max_k")
def approx_max_k(
    operand,
    k,
    reduction_dimension=-1,
    recall_target=0.95,
    reduction_input_size_override=-1,
    aggregate_to_topk=True,
    name=None,
):
    """The k largest values along ``reduction_dimension`` and their int32 indices.
    rill computes them exactly (recall 1, above any ``recall_target``)."""
    return _approx_k(operand, k, reduction_dimension, True)


@tf_export("math.approx_min_k", "nn.approx_min_k")
def approx_min_k(
    operand,
    k,
    reduction_dimension=-1,
    recall_target=0.95,
    reduction_input_size_override=-1,
    aggregate_to_topk=True,
    name=None,
):
    """The k smallest values along ``reduction_dimension`` and their int32 indices
    (computed exactly)."""
    return _approx_k(operand, k, reduction_dimension, False)


# --------------------------------------------------------------------------------------
# sobol_sample
# --------------------------------------------------------------------------------------


def _sobol_kernel(dim, num_results, skip, dtype):
    from rill.ops.special_ops import _require_scipy

    _require_scipy("SobolSample")
    from scipy.stats import qmc  # optional dependency (rill[scipy])

    d, n, s = int(dim), int(num_results), int(skip)
    if d < 1 or n < 0 or s < 0:
        raise op_error(
            InvalidArgumentError,
            "SobolSample",
            f"dim must be >= 1 and num_results, skip >= 0; got dim={d}, num_results={n}, skip={s}",
        )
    # TF's sequence is the unscrambled Joe-Kuo Sobol sequence without its leading 0 point
    eng = qmc.Sobol(d, scramble=False)
    if s + 1:
        eng.fast_forward(s + 1)
    return np.asarray(eng.random(n), dtype=dtype.np)


def _sobol_rule(dim, num_results, skip, dtype):
    d, n = dim.value, num_results.value
    return AVal([None if n is None else int(n), None if d is None else int(d)], dtype)


sobol_p = primitive(
    "SobolSample", _sobol_kernel, _sobol_rule, dtypes=frozenset({_d.int32}), host=True
)


@tf_export("math.sobol_sample")
def sobol_sample(dim, num_results, skip=0, dtype=_d.float32, name=None):
    """``num_results`` points of the ``dim``-dimensional Sobol sequence, after ``skip``."""
    dtype = _d.as_dtype(dtype)
    if dtype not in (_d.float32, _d.float64):
        raise TypeError(f"sobol_sample: dtype must be float32 or float64, got {dtype.name}")
    args = tuple(convert_to_tensor(v, dtype=_d.int32) for v in (dim, num_results, skip))
    return bind(sobol_p, args, {"dtype": dtype})
