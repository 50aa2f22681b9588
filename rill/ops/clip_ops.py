"""clip_by_value, clip_by_norm, clip_by_global_norm, global_norm, stop_gradient.

Everything but ``stop_gradient`` is composed from other rill ops, so gradients (including
TF's "pass the gradient through where not clipped" for ``clip_by_value``) come from the
gradients of those ops.
"""

from __future__ import annotations

import collections.abc

from rill.core import dtypes as _d
from rill.core.tape import indexed_slices, is_indexed_slices
from rill.ops import lowering_rules as _lowering
from rill.ops._op import (
    InvalidArgumentError,
    bind,
    convert_to_tensor,
    op_error,
    primitive,
    tf_export,
    unary_rule,
)
from rill.ops.array_ops import cast, identity, ones_like, where_v2
from rill.ops.math_ops import greater, maximum, minimum, multiply, realdiv
from rill.ops.reduction_ops import add_n, reduce_sum
from rill.ops.unary_ops import is_finite, sqrt

# --------------------------------------------------------------------------------------
# stop_gradient
# --------------------------------------------------------------------------------------

# Declared not differentiable: tapes propagate nothing through it.
stop_gradient_p = primitive(
    "StopGradient", lambda x: x, unary_rule, host=True, alias=True, lowering=_lowering.identity
)


@tf_export("stop_gradient")
def stop_gradient(input, name=None):  # noqa: A002 - TF's argument name
    """The input's value, treated as a constant by gradient computations."""
    return bind(stop_gradient_p, (convert_to_tensor(input),))


# --------------------------------------------------------------------------------------
# Clipping
# --------------------------------------------------------------------------------------


@tf_export("clip_by_value")
def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """Clamp ``t`` elementwise to [clip_value_min, clip_value_max] (broadcast into t's shape).

    The gradient passes to ``t`` where it was not clipped (ties included, as in TF) and to
    the bound that was applied elsewhere.
    """
    values = convert_to_tensor(t)
    # TF checks each step's shape before the next op (so before that op's dtype check)
    upper = _same_shape(values, minimum(values, clip_value_max))
    return _same_shape(values, maximum(upper, clip_value_min))


def _same_shape(values, out):
    if not values.shape.is_compatible_with(out.shape):
        raise ValueError(
            f"clip_by_value: Shapes {values.shape} and {out.shape} are incompatible: the "
            f"clip bounds must broadcast to the shape of t, not enlarge it."
        )
    return out


@tf_export("clip_by_norm")
def clip_by_norm(t, clip_norm, axes=None, name=None):
    """Rescale ``t`` so its L2 norm over ``axes`` (all axes if None) is at most clip_norm.

    Computes ``t * clip_norm / max(l2norm(t), clip_norm)``; a zero norm leaves t unchanged
    (with a finite gradient).
    """
    if is_indexed_slices(t):  # clipped by the norm of its values; stays sparse, as in TF
        return _like_slices(t, clip_by_norm(t.values, clip_norm, axes))
    values = convert_to_tensor(t)
    # a negative clip_norm counts as zero (TF's documented rule), never flipping t's sign
    if isinstance(clip_norm, (int, float)):
        clip_norm = max(clip_norm, 0)
    else:
        clip_norm = maximum(convert_to_tensor(clip_norm, dtype_hint=values.dtype), 0)
        clip_norm = cast(clip_norm, values.dtype)
    sq = reduce_sum(multiply(values, values), axes, keepdims=True)
    positive = greater(sq, convert_to_tensor(0, dtype=sq.dtype))
    # sqrt only where the sum is positive, so the gradient at t == 0 stays finite
    norm = where_v2(positive, sqrt(where_v2(positive, sq, ones_like(sq))), sq)
    scaled = multiply(values, clip_norm)
    if not values.shape.is_compatible_with(scaled.shape):
        raise ValueError(
            f"clip_by_norm: Shapes {values.shape} and {scaled.shape} are incompatible: "
            f"clip_norm must broadcast to the shape of t, not enlarge it."
        )
    return realdiv(scaled, maximum(norm, convert_to_tensor(clip_norm, dtype=norm.dtype)))


def _like_slices(t, values):
    """An IndexedSlices like ``t`` with new ``values``."""
    return indexed_slices(values, t.indices, t.dense_shape)


def _check_sequence(t_list, op):
    if not isinstance(t_list, collections.abc.Sequence) or isinstance(t_list, (str, bytes)):
        raise TypeError(f"{op}: `t_list` should be a sequence of tensors. Received {type(t_list)}.")


@tf_export("linalg.global_norm")
def global_norm(t_list, name=None):
    """sqrt(sum of squares of all entries of all tensors in ``t_list``); None entries skipped."""
    _check_sequence(t_list, "global_norm")
    values = [
        convert_to_tensor(v.values if is_indexed_slices(v) else v) for v in t_list if v is not None
    ]
    if not values:
        return convert_to_tensor(0.0, dtype=_d.float32)
    dt = values[0].dtype
    for i, v in enumerate(values):
        if not v.dtype.is_floating:
            raise op_error(
                InvalidArgumentError,
                "global_norm",
                f"t_list[{i}] has dtype {v.dtype.name}; only floating tensors are supported",
            )
        if v.dtype is not dt:
            raise op_error(
                InvalidArgumentError,
                "global_norm",
                f"all tensors must have the same dtype: got {dt.name} and {v.dtype.name}",
            )
    sums = [reduce_sum(multiply(v, v)) for v in values]
    return sqrt(add_n(sums) if len(sums) > 1 else sums[0])


@tf_export("clip_by_global_norm")
def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scale every tensor by clip_norm / max(global_norm, clip_norm).

    Returns ``(list_clipped, global_norm)``; None entries stay None. If the global norm
    is inf or NaN, every clipped entry is NaN (as in TF).
    """
    _check_sequence(t_list, "clip_by_global_norm")
    t_list = list(t_list)
    if use_norm is None:
        use_norm = global_norm(t_list)
    use_norm = convert_to_tensor(use_norm)
    one = convert_to_tensor(1, dtype=use_norm.dtype)
    clip_norm = convert_to_tensor(clip_norm, dtype=use_norm.dtype)
    scale = multiply(clip_norm, minimum(realdiv(one, use_norm), realdiv(one, clip_norm)))
    # NaN when the norm is inf/NaN (TF adds use_norm - use_norm; this avoids inf - inf)
    scale = where_v2(is_finite(use_norm), scale, convert_to_tensor(float("nan"), dtype=scale.dtype))
    clipped = []
    for v in t_list:
        if v is None:
            clipped.append(None)
            continue
        if is_indexed_slices(v):
            values = convert_to_tensor(v.values)
            clipped.append(_like_slices(v, identity(multiply(values, cast(scale, values.dtype)))))
            continue
        v = convert_to_tensor(v)
        clipped.append(identity(multiply(v, cast(scale, v.dtype))))
    return clipped, use_norm
