"""Activations, softmax, cross-entropies and normalization (``tf.nn``)."""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.ops import lowering_rules as _lowering
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    TensorShape,
    binary_args,
    bind,
    broadcast_shapes,
    convert_to_tensor,
    is_tensor_like,
    op_error,
    primitive,
    static_int,
    static_shape_tensor,
    static_value,
    tf_export,
    unary_rule,
)
from rill.ops.array_ops import (
    broadcast_to,
    cast,
    ones_like,
    reshape,
    shape,
    stack,
    where_v2,
    zeros_like,
)
from rill.ops.indexing_ops import gather
from rill.ops.math_ops import (
    add,
    equal,
    greater,
    greater_equal,
    less,
    logical_and,
    maximum,
    multiply,
    negative,
    pow,
    realdiv,
    squared_difference,
    subtract,
    truediv,
    truncatediv,
)
from rill.ops.random_ops import uniform
from rill.ops.reduction_ops import reduce_sum
from rill.ops.shape_ops import concat, expand_dims, squeeze, transpose
from rill.ops.unary_ops import abs as _abs
from rill.ops.unary_ops import erf, exp, log, log1p, sigmoid, tanh

_FLOATS = _d.FLOATS
_REAL = _d.REAL


def _to_tensor(x, dtype=None):
    return convert_to_tensor(x, dtype=dtype)


def _scalar(v, like):
    """A Python number as a scalar tensor of ``like``'s dtype."""
    return convert_to_tensor(v, dtype=like.dtype)


def _require_float(op, x, arg="features"):
    if not x.dtype.is_floating:
        raise ValueError(
            f"{op}: `{arg}.dtype` must be a floating point tensor, got {x.dtype.name}; "
            f"cast it first, e.g. tf.cast({arg}, tf.float32)."
        )


def _upcast(x):
    """Half-precision arrays are computed in float32 (cast back by ``_down``)."""
    return x.astype(np.float32) if x.dtype.itemsize < 4 else x


def _down(y, like):
    return y.astype(like.dtype, copy=False)


def _keepdims_like(dy, ref, axis):
    """Reshape ``dy`` (``ref`` reduced over ``axis``) to ``ref``'s rank with a 1 at ``axis``."""
    dims = ref.shape.as_list() if ref.shape.rank is not None else None
    if dims is not None:
        axis %= len(dims)
        dims[axis] = 1
        if None not in dims:  # known (always, eagerly): the shape tensor directly
            return reshape(dy, static_shape_tensor(dims))
        if sum(d is None for d in dims) <= 1:
            return reshape(dy, [-1 if d is None else d for d in dims])
    return expand_dims(dy, axis)


# --------------------------------------------------------------------------------------
# Rectifiers and friends
# --------------------------------------------------------------------------------------


def _relu_kernel(x, xp=np):
    if xp is np and x.dtype.kind in "fiu":  # NumPy's own dtypes keep theirs with a weak 0,
        return np.maximum(x, 0)  # which skips making a typed zero scalar per call
    return xp.maximum(x, x.dtype.type(0))


def _relu_grad_kernel(dy, out, xp=np):
    return xp.multiply(dy, out > 0, dtype=dy.dtype)


# dy where the relu's output is positive (out > 0 exactly where x > 0), else 0; one
# kernel instead of compare + zeros + select. Linear in dy, so its own gradient is itself.
relu_grad_p = primitive(
    "ReluGrad",
    _relu_grad_kernel,
    lambda dy, out: AVal(dy.shape, dy.dtype),
    lambda inputs, out, ddy: (relu_grad(ddy, inputs[1]), None),
    dtypes=_REAL,
    same_dtype=True,
    saves=(1,),
    saves_output=False,
    lowering=_lowering.relu_grad,
)


def relu_grad(dy, out):
    """Backpropagate ``dy`` through a relu whose output was ``out``."""
    return bind(relu_grad_p, (dy, out))


relu_p = primitive(
    "Relu",
    _relu_kernel,
    unary_rule,
    lambda inputs, out, dy: (relu_grad(dy, out),),
    dtypes=_REAL,
    saves=(),
    saves_output=True,
)


@tf_export("nn.relu")
def relu(features, name=None):
    """Rectified linear: ``max(features, 0)`` (gradient 0 at 0, like TF)."""
    return bind(relu_p, (_to_tensor(features),))


def _relu6_grad(inputs, out, dy):
    x = inputs[0]
    inside = logical_and(greater(x, _scalar(0, x)), less(x, _scalar(6, x)))
    return (where_v2(inside, dy, zeros_like(dy)),)


relu6_p = primitive(
    "Relu6",
    lambda x, xp=np: xp.minimum(xp.maximum(x, x.dtype.type(0)), x.dtype.type(6)),
    unary_rule,
    _relu6_grad,
    dtypes=_REAL,
)


@tf_export("nn.relu6")
def relu6(features, name=None):
    """``min(max(features, 0), 6)``."""
    return bind(relu6_p, (_to_tensor(features),))


def _elu_kernel(x, xp=np):
    xu = _upcast(x)
    return _down(xp.where(xu > 0, xu, xp.expm1(xp.minimum(xu, 0))), x)


def _elu_grad(inputs, out, dy):
    neg = less(out, _scalar(0, out))
    return (where_v2(neg, multiply(dy, add(out, _scalar(1, out))), dy),)


elu_p = primitive("Elu", _elu_kernel, unary_rule, _elu_grad, dtypes=_FLOATS)


@tf_export("nn.elu")
def elu(features, name=None):
    """Exponential linear unit: ``x`` if ``x > 0`` else ``exp(x) - 1``."""
    return bind(elu_p, (_to_tensor(features),))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _selu_kernel(x, xp=np):
    xu = _upcast(x)
    y = _SELU_SCALE * xp.where(xu > 0, xu, _SELU_ALPHA * xp.expm1(xp.minimum(xu, 0)))
    return _down(y, x)


def _selu_grad(inputs, out, dy):
    neg = less(out, _scalar(0, out))
    g_neg = multiply(dy, add(out, _scalar(_SELU_SCALE * _SELU_ALPHA, out)))
    return (where_v2(neg, g_neg, multiply(dy, _scalar(_SELU_SCALE, dy))),)


selu_p = primitive("Selu", _selu_kernel, unary_rule, _selu_grad, dtypes=_FLOATS)


@tf_export("nn.selu")
def selu(features, name=None):
    """Scaled ELU with the self-normalizing constants (Klambauer et al., 2017)."""
    return bind(selu_p, (_to_tensor(features),))


def _leaky_kernel(x, alpha, xp=np):
    return xp.where(x > 0, x, x * xp.asarray(alpha, dtype=x.dtype))


def _leaky_grad(inputs, out, dy, alpha):
    x = inputs[0]
    return (where_v2(greater(x, _scalar(0, x)), dy, multiply(dy, _scalar(alpha, dy))),)


leaky_relu_p = primitive(
    "LeakyRelu", _leaky_kernel, lambda x, alpha: AVal(x.shape, x.dtype), _leaky_grad, dtypes=_FLOATS
)


@tf_export("nn.leaky_relu")
def leaky_relu(features, alpha=0.2, name=None):
    """``features`` where positive, ``alpha * features`` elsewhere (ints are cast to float32)."""
    x = _to_tensor(features)
    if x.dtype.is_integer:
        x = cast(x, _d.float32)
    return bind(leaky_relu_p, (x,), {"alpha": float(alpha)})


def _softsign_grad(inputs, out, dy):
    x = inputs[0]
    d = add(_scalar(1, x), _abs(x))
    return (realdiv(dy, multiply(d, d)),)


softsign_p = primitive(
    "Softsign",
    lambda x, xp=np: _down(_upcast(x) / (1 + xp.abs(_upcast(x))), x),
    unary_rule,
    _softsign_grad,
    dtypes=_FLOATS,
)


@tf_export("nn.softsign", "math.softsign")
def softsign(features, name=None):
    """``features / (abs(features) + 1)``."""
    return bind(softsign_p, (_to_tensor(features),))


@tf_export("nn.gelu")
def gelu(features, approximate=False, name=None):
    """Gaussian error linear unit ``x * Phi(x)`` (tanh approximation if ``approximate``)."""
    x = _to_tensor(features)
    _require_float("gelu", x)
    half = _scalar(0.5, x)
    if approximate:
        c = _scalar(0.7978845608028654, x)  # sqrt(2 / pi)
        inner = multiply(c, add(x, multiply(_scalar(0.044715, x), multiply(x, multiply(x, x)))))
        return multiply(multiply(half, x), add(_scalar(1, x), tanh(inner)))
    return multiply(
        multiply(half, x), add(_scalar(1, x), erf(multiply(x, _scalar(0.7071067811865476, x))))
    )


@tf_export("nn.silu", "nn.swish")
def silu(features, beta=1.0, name=None):
    """Sigmoid linear unit ``features * sigmoid(beta * features)``."""
    x = _to_tensor(features)
    if isinstance(beta, (int, float)) and beta == 1.0:
        return multiply(x, sigmoid(x))
    b = _to_tensor(beta, dtype=x.dtype)
    return multiply(x, sigmoid(multiply(b, x)))


swish = silu


@tf_export("nn.crelu")
def crelu(features, axis=-1, name=None):
    """Concatenated ReLU: ``concat([relu(x), relu(-x)], axis)``."""
    x = _to_tensor(features)
    return concat([relu(x), relu(negative(x))], axis)


# --------------------------------------------------------------------------------------
# Softmax
# --------------------------------------------------------------------------------------


def _softmax_rule(op):
    def rule(x, axis=-1):
        if x.rank is not None:
            if x.rank < 1:
                raise op_error(
                    InvalidArgumentError,
                    op,
                    f"logits must have >= 1 dimension, got {list(x.shape)}",
                )
            if not -x.rank <= axis < x.rank:
                raise op_error(
                    InvalidArgumentError, op,
                    f"axis {axis} is out of range for logits of rank {x.rank}; valid: [{-x.rank}, {x.rank})",
                )  # fmt: skip
        return AVal(x.shape, x.dtype)

    return rule


def _softmax(xp, x, axis):
    if x.size == 0:
        return x.copy()
    xu = _upcast(x)
    if xp is np:  # the ufuncs directly, and in place: e is this function's own array
        e = xu - np.maximum.reduce(xu, axis=axis, keepdims=True)
        np.exp(e, out=e)
        e /= np.add.reduce(e, axis=axis, keepdims=True)
        return _down(e, x)
    e = xp.exp(xu - xp.max(xu, axis=axis, keepdims=True))
    return _down(e / xp.sum(e, axis=axis, keepdims=True), x)


def _log_softmax(xp, x, axis):
    if x.size == 0:
        return x.copy()
    xu = _upcast(x)
    s = xu - xp.max(xu, axis=axis, keepdims=True)
    return _down(s - xp.log(xp.sum(xp.exp(s), axis=axis, keepdims=True)), x)


def _softmax_jvp_t(sm, dy, axis):
    """Transposed Jacobian of softmax applied to ``dy``: ``sm * (dy - sum(dy * sm))``."""
    return multiply(sm, subtract(dy, reduce_sum(multiply(dy, sm), axis=axis, keepdims=True)))


def _checked(op, f):
    """Kernel of ``f(xp, x, axis)`` that rejects scalar logits."""

    def kernel(x, axis=-1, xp=np):
        if x.ndim == 0:
            raise op_error(InvalidArgumentError, op, "logits must have >= 1 dimension, got []")
        return f(xp, x, axis)

    return kernel


softmax_p = primitive(
    "Softmax",
    _checked("Softmax", _softmax),
    _softmax_rule("Softmax"),
    lambda inputs, out, dy, axis=-1: (_softmax_jvp_t(out, dy, axis),),
    dtypes=_FLOATS,
    saves=(),
    saves_output=True,
)


def _log_softmax_grad(inputs, out, dy, axis=-1):
    sm = bind(softmax_p, (inputs[0],), {"axis": axis})
    return (subtract(dy, multiply(sm, reduce_sum(dy, axis=axis, keepdims=True))),)


log_softmax_p = primitive(
    "LogSoftmax",
    _checked("LogSoftmax", _log_softmax),
    _softmax_rule("LogSoftmax"),
    _log_softmax_grad,
    dtypes=_FLOATS,
)


def _softmax_axis(op, x, axis):
    if axis is None:
        return -1
    v = static_value(axis) if is_tensor_like(axis) else axis
    if isinstance(v, (str, bytes)):
        raise TypeError(f"{op}: `axis` must be an integer, got {axis!r}")
    if isinstance(v, (bool, np.bool_)) or (isinstance(v, float) and v.is_integer()):
        v = int(v)  # TF takes True and 1.0 as axes; only a fractional one is rejected
    a = static_int(op, "axis", v)
    r = x.shape.rank
    if r is not None and not -r <= a < r:
        raise op_error(
            InvalidArgumentError, op, f"`dim` must be in the range [{-r}, {r}) where {r} is the number "
            f"of dimensions in the input, got dim={a}"
        )  # fmt: skip
    return a


@tf_export("nn.softmax", "math.softmax")
def softmax(logits, axis=None, name=None):
    """``exp(logits) / reduce_sum(exp(logits), axis)`` computed stably (``axis`` default -1)."""
    x = _to_tensor(logits)
    return bind(softmax_p, (x,), {"axis": _softmax_axis("Softmax", x, axis)})


@tf_export("nn.log_softmax", "math.log_softmax")
def log_softmax(logits, axis=None, name=None):
    """``logits - log(reduce_sum(exp(logits), axis))`` computed stably (``axis`` default -1)."""
    x = _to_tensor(logits)
    return bind(log_softmax_p, (x,), {"axis": _softmax_axis("LogSoftmax", x, axis)})


# --------------------------------------------------------------------------------------
# Cross-entropies
# --------------------------------------------------------------------------------------


def _xent_rule(x, labels):
    op = "SoftmaxCrossEntropyWithLogits"
    for name, t in (("logits", x), ("labels", labels)):
        if t.rank is not None and t.rank != 2:
            raise op_error(
                InvalidArgumentError, op, f"{name} must be 2-dimensional, got {list(t.shape)}"
            )
    if not x.shape.is_compatible_with(labels.shape):
        raise op_error(
            InvalidArgumentError, op,
            f"logits and labels must be the same size: logits_size={list(x.shape)} labels_size={list(labels.shape)}",
        )  # fmt: skip
    dims = x.shape.merge_with(labels.shape)
    rows = TensorShape([None]) if dims.rank is None else dims[:1]
    return AVal(rows, x.dtype), AVal(
        TensorShape([None, None]) if dims.rank is None else dims, x.dtype
    )


def _shifted_exp(x):
    """For the cross-entropy kernels (NumPy): ``s = x - max(x)`` along the last axis,
    ``exp(s)`` and its row sums, ``s`` and ``exp(s)`` new C-ordered arrays whatever x's
    layout (NumPy keeps an input's), so flat views of them are views, not copies."""
    s = np.subtract(x, np.maximum.reduce(x, axis=-1, keepdims=True), order="C")
    e = np.exp(s)
    return s, e, np.add.reduce(e, axis=-1, keepdims=True)


def _logits_grad(x, dloss, backprop, dbackprop):
    """A cross-entropy's gradient for its logits ``x``: the saved ``backprop`` (softmax
    less the labels) scaled by the loss's upstream gradient, plus, for a second
    derivative, softmax's Jacobian applied to the backprop's."""
    dx = None if dloss is None else multiply(_keepdims_like(dloss, x, -1), backprop)
    if dbackprop is not None:
        second = _softmax_jvp_t(bind(softmax_p, (x,), {"axis": -1}), dbackprop, -1)
        dx = second if dx is None else add(dx, second)
    return dx


def _xent_kernel(x, labels, xp=np):
    """TF's op on [batch, classes] rows: the loss ``-sum(labels * log_softmax(x))`` and the
    backprop ``softmax(x) - labels`` (TF's gradient, exact when each row of labels sums to
    one), from one softmax."""
    if x.shape != labels.shape or x.ndim != 2:
        raise ValueError("logits and labels must be 2-D arrays of one shape")
    if x.size == 0:
        return xp.zeros(x.shape[:1], dtype=x.dtype), xp.zeros(x.shape, dtype=x.dtype)
    if xp is np:
        s, e, total = _shifted_exp(x)
        s -= np.log(total)  # log_softmax, in place: s is this kernel's own array
        loss = -np.add.reduce(labels * s, axis=-1)
        e /= total
        e -= labels
        return loss, e
    lsm = _log_softmax(xp, x, -1)
    return -xp.sum(labels * lsm, axis=-1), xp.exp(lsm) - labels


def _xent_grad(inputs, outs, dys, needed=None):
    """The logits' gradient scales the saved backprop; the labels' is ``-log_softmax``
    scaled. The backprop's own (a second derivative) is softmax's Jacobian for the
    logits and minus the identity for the labels."""
    x = inputs[0]
    dloss, dbackprop = dys
    dlab = None
    if needed is None or needed[1]:
        if dloss is not None:
            lsm = bind(log_softmax_p, (x,), {"axis": -1})
            dlab = multiply(_keepdims_like(dloss, x, -1), negative(lsm))
        if dbackprop is not None:
            dlab = negative(dbackprop) if dlab is None else subtract(dlab, dbackprop)
    return _logits_grad(x, dloss, outs[1], dbackprop), dlab


softmax_xent_p = primitive(
    "SoftmaxCrossEntropyWithLogits",
    _xent_kernel,
    _xent_rule,
    _xent_grad,
    n_out=2,
    dtypes=_FLOATS,
    same_dtype=True,
    partial_grad=True,
    grad_takes_none=True,
)


def _last_axis_rows(t, rank):
    """``t`` ([..., classes]) as the [rows, classes] matrix TF's op takes."""
    if rank == 2:
        return t
    classes = t.shape[-1] if rank is not None else None
    if classes is not None:
        return reshape(t, [-1, classes])
    return reshape(t, stack([-1, shape(t)[-1]]))


def _to_last_axis(t, axis, rank):
    """``t`` with ``axis`` moved to the end (TF's wrapper transposes the same way)."""
    if rank is None:  # rill's Transpose takes a static permutation
        raise ValueError(
            f"softmax_cross_entropy_with_logits: axis={axis} needs logits of known rank; "
            "give the traced function's input_signature a rank, or use axis=-1."
        )
    a = axis % rank
    if a == rank - 1:
        return t
    return transpose(t, [i for i in range(rank) if i != a] + [a])


@tf_export("nn.softmax_cross_entropy_with_logits")
def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    """``-reduce_sum(labels * log_softmax(logits), axis)``, differentiable w.r.t. both inputs.

    ``labels`` must broadcast to ``logits``; each row should be a probability distribution.
    """
    x = _to_tensor(logits)
    lab = _to_tensor(labels)
    if lab.dtype is not x.dtype:
        lab = cast(lab, x.dtype)
    rank = x.shape.rank
    if rank == 0:
        raise op_error(
            InvalidArgumentError,
            "SoftmaxCrossEntropyWithLogits",
            "logits must have >= 1 dimension, got []",
        )
    axis = int(axis)
    if rank is not None and not -rank <= axis < rank:
        raise op_error(
            InvalidArgumentError, "SoftmaxCrossEntropyWithLogits",
            f"axis {axis} is out of range for logits of rank {rank}; valid: [{-rank}, {rank})",
        )  # fmt: skip
    if x.shape != lab.shape:
        s = broadcast_shapes("SoftmaxCrossEntropyWithLogits", x.shape, lab.shape)
        if s != x.shape:
            raise op_error(
                InvalidArgumentError, "SoftmaxCrossEntropyWithLogits",
                f"logits and labels must be broadcastable: logits_size={list(x.shape)} labels_size={list(lab.shape)}",
            )  # fmt: skip
        lab = broadcast_to(lab, shape(x))
    dtype = x.dtype
    low = dtype in (_d.float16, _d.bfloat16)
    if low:
        x, lab = cast(x, _d.float32), cast(lab, _d.float32)
    if axis not in (-1, (rank or 0) - 1):
        x, lab = _to_last_axis(x, axis, rank), _to_last_axis(lab, axis, rank)
    loss = bind(softmax_xent_p, (_last_axis_rows(x, rank), _last_axis_rows(lab, rank)))[0]
    if rank != 2:  # the rows back into the batch shape
        lead = x.shape[:-1] if rank is not None else TensorShape(None)
        if lead.is_fully_defined():
            loss = reshape(loss, lead.as_list())
        else:
            loss = reshape(loss, shape(x)[:-1])
    return cast(loss, dtype) if low else loss


def _check_labels(xp, labels, depth):
    if labels.size == 0 or (
        xp is np
        and np.minimum.reduce(labels, None) >= 0
        and np.maximum.reduce(labels, None) < depth
    ):
        return
    bad = (labels < 0) | (labels >= depth)
    if xp.any(bad):
        v = labels[bad].reshape(-1)[0]
        raise op_error(
            InvalidArgumentError, "SparseSoftmaxCrossEntropyWithLogits",
            f"Received a label value of {v} which is outside the valid range of [0, {depth}).  "
            f"Label values: {' '.join(str(int(t)) for t in labels.reshape(-1)[:20])}",
        )  # fmt: skip


def _sparse_rule(x, labels):
    op = "SparseSoftmaxCrossEntropyWithLogits"
    if labels.dtype not in (_d.int32, _d.int64):
        raise op_error(
            InvalidArgumentError, op, f"labels must be int32 or int64, got {labels.dtype.name}"
        )
    if x.rank is not None and labels.rank is not None:
        if x.rank != labels.rank + 1 or not x.shape[:-1].is_compatible_with(labels.shape):
            raise op_error(
                InvalidArgumentError, op,
                f"labels.shape must equal logits.shape except for the last dimension; got "
                f"labels.shape={list(labels.shape)} and logits.shape={list(x.shape)}",
            )  # fmt: skip
    loss = AVal(TensorShape(None) if x.rank is None else x.shape[:-1], x.dtype)
    return loss, AVal(x.shape, x.dtype)  # (loss, backprop)


def _sparse_xent_kernel(x, labels, xp=np):
    """TF's op: the loss ``-log_softmax(x)[label]`` and its gradient with respect to the
    logits, ``softmax(x) - one_hot(label)`` (the backprop), from one softmax."""
    depth = x.shape[-1]
    _check_labels(xp, labels, depth)
    if labels.shape != x.shape[:-1]:
        raise ValueError("shape mismatch")
    if labels.size == 0:
        return xp.zeros(labels.shape, dtype=x.dtype), xp.zeros(x.shape, dtype=x.dtype)
    xu = _upcast(x)
    if xp is np:
        s, e, total = _shifted_exp(xu)
        e /= total  # the softmax, in place: e is this kernel's own array
        # each row's label as a flat index (one take, where indexing by row and column
        # builds index grids at several times the cost)
        at = np.arange(0, labels.size * depth, depth) + labels.reshape(-1)
        loss = np.log(total.reshape(labels.shape)) - s.reshape(-1).take(at).reshape(labels.shape)
        e.reshape(-1)[at] -= 1
        return _down(loss, x), _down(e, x)
    s = xu - xp.max(xu, axis=-1, keepdims=True)
    total = xp.sum(xp.exp(s), axis=-1, keepdims=True)
    onehot = labels[..., None] == xp.arange(depth)
    loss = xp.log(total[..., 0]) - xp.sum(xp.where(onehot, s, 0), axis=-1)
    backprop = xp.exp(s) / total - onehot.astype(s.dtype)
    return _down(loss, x), _down(backprop, x)


def _sparse_xent_grad(inputs, outs, dys):
    """The loss's gradient is the saved backprop scaled by the upstream gradient; the
    backprop's own (a second derivative) is softmax's Jacobian, as the backprop is
    softmax(x) less a constant."""
    return _logits_grad(inputs[0], dys[0], outs[1], dys[1]), None


sparse_xent_p = primitive(
    "SparseSoftmaxCrossEntropyWithLogits",
    _sparse_xent_kernel,
    _sparse_rule,
    _sparse_xent_grad,
    n_out=2,
    dtypes=_FLOATS,
    n_typed=1,
    lowering=_lowering.sparse_xent,
    grad_takes_none=True,
)


@tf_export("nn.sparse_softmax_cross_entropy_with_logits")
def sparse_softmax_cross_entropy_with_logits(labels, logits, name=None):
    """Cross-entropy between ``softmax(logits)`` and integer class ``labels`` (shape ``logits.shape[:-1]``).

    A label outside ``[0, num_classes)`` raises ``InvalidArgumentError`` (TF's CPU behaviour).
    """
    x = _to_tensor(logits)
    lab = _to_tensor(labels)
    if lab.dtype not in (_d.int32, _d.int64):
        raise op_error(
            InvalidArgumentError, "SparseSoftmaxCrossEntropyWithLogits",
            f"labels must be int32 or int64, got {lab.dtype.name}",
        )  # fmt: skip
    xs, ls = x.shape, lab.shape
    if xs.rank is not None and ls.rank is not None:
        if xs.rank == 0:
            raise ValueError(f"Logits cannot be scalars - received shape {xs}.")
        if ls.rank != xs.rank - 1 or not xs[:-1].is_compatible_with(ls):
            raise ValueError(
                f"`labels.shape` must equal `logits.shape` except for the last dimension. "
                f"Received: labels.shape={tuple(lab.shape.as_list())} and logits.shape={tuple(x.shape.as_list())}"
            )
    if x.dtype in (_d.float16, _d.bfloat16):
        return cast(bind(sparse_xent_p, (cast(x, _d.float32), lab))[0], x.dtype)
    return bind(sparse_xent_p, (x, lab))[0]


@tf_export("nn.sigmoid_cross_entropy_with_logits")
def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Elementwise logistic loss ``max(x, 0) - x * z + log(1 + exp(-abs(x)))`` (stable)."""
    if labels is None or logits is None:
        raise ValueError(
            "sigmoid_cross_entropy_with_logits: both `labels` and `logits` must be provided."
        )
    x = _to_tensor(logits)
    z = _to_tensor(labels, dtype=x.dtype) if not is_tensor_like(labels) else _to_tensor(labels)
    if z.dtype is not x.dtype:
        raise op_error(
            InvalidArgumentError, "sigmoid_cross_entropy_with_logits",
            f"labels has dtype {z.dtype.name} but logits has dtype {x.dtype.name}; cast one of them",
        )  # fmt: skip
    if not x.shape.is_compatible_with(z.shape):
        raise ValueError(
            f"`logits` and `labels` must have the same shape, received ({x.shape} vs {z.shape})."
        )
    zero = zeros_like(x)
    cond = greater_equal(x, zero)
    relu_x = where_v2(cond, x, zero)
    neg_abs = where_v2(cond, negative(x), x)
    return add(subtract(relu_x, multiply(x, z)), log1p(exp(neg_abs)))


@tf_export("nn.weighted_cross_entropy_with_logits")
def weighted_cross_entropy_with_logits(labels, logits, pos_weight, name=None):
    """Sigmoid cross-entropy with the positive term weighted by ``pos_weight`` (stable form)."""
    x = _to_tensor(logits)
    z = _to_tensor(labels, dtype=x.dtype)
    if not x.shape.is_compatible_with(z.shape):
        raise ValueError(
            f"`logits` and `labels` must have the same shape, received ({x.shape} vs {z.shape})."
        )
    q = _to_tensor(pos_weight, dtype=x.dtype)
    one = _scalar(1, x)
    log_weight = add(one, multiply(subtract(q, one), z))
    soft = add(log1p(exp(negative(_abs(x)))), relu(negative(x)))
    return add(multiply(subtract(one, z), x), multiply(log_weight, soft))


@tf_export("nn.log_poisson_loss")
def log_poisson_loss(targets, log_input, compute_full_loss=False, name=None):
    """``exp(log_input) - log_input * targets`` (+ Stirling's term for targets > 1 if full)."""
    c = _to_tensor(log_input)
    t = _to_tensor(targets, dtype=c.dtype)
    if not c.shape.is_compatible_with(t.shape):
        raise ValueError(f"log_input and targets must have the same shape ({c.shape} vs {t.shape})")
    result = subtract(exp(c), multiply(c, t))
    if compute_full_loss:
        one = _scalar(1, t)
        safe_t = where_v2(greater(t, one), t, one)
        stirling = add(
            subtract(multiply(safe_t, log(safe_t)), safe_t),
            multiply(_scalar(0.5, t), log(multiply(_scalar(2 * np.pi, t), safe_t))),
        )
        mask = greater(t, one)
        result = add(result, where_v2(mask, stirling, zeros_like(stirling)))
    return result


# --------------------------------------------------------------------------------------
# Losses, normalization
# --------------------------------------------------------------------------------------


@tf_export("nn.l2_loss")
def l2_loss(t, name=None):
    """``sum(t ** 2) / 2`` (a scalar of ``t``'s dtype)."""
    x = _to_tensor(t)
    if x.dtype not in _FLOATS:
        raise op_error(
            InvalidArgumentError, "L2Loss", f"t has dtype {x.dtype.name}; L2Loss supports float16, bfloat16, "
            "float32 and float64"
        )  # fmt: skip
    return multiply(reduce_sum(multiply(x, x)), _scalar(0.5, x))


def _bias_format(data_format):
    if data_format is None:
        return "NHWC"
    if data_format.startswith("NC"):
        return "NCHW"
    if data_format.startswith("N") and data_format.endswith("C"):
        return "NHWC"
    raise ValueError(
        f"`data_format` must be of the form `N...C` or `NC...`. Received: data_format={data_format}"
    )


def _bias_add_rule(x, b, data_format="NHWC"):
    if b.rank is not None and b.rank != 1:
        raise op_error(InvalidArgumentError, "BiasAdd", f"Biases must be 1D: {list(b.shape)}")
    if x.rank is None:
        return AVal(TensorShape(None), x.dtype)
    if x.rank < 2:
        raise op_error(
            InvalidArgumentError, "BiasAdd", f"Input tensor must be at least 2D: {list(x.shape)}"
        )
    c = x.shape[1] if data_format == "NCHW" else x.shape[-1]
    if c is not None and b.shape[0] is not None and c != b.shape[0]:
        raise op_error(
            InvalidArgumentError, "BiasAdd",
            f"Must provide as many biases as the channel dimension of the input tensor ({data_format}): "
            f"{list(b.shape)} vs. {list(x.shape)}",
        )  # fmt: skip
    return AVal(x.shape, x.dtype)


def _bias_add_kernel(x, b, data_format="NHWC", xp=np):
    if b.ndim != 1 or x.ndim < 2:
        raise ValueError("bad ranks")
    if data_format == "NCHW":
        b = b.reshape((-1,) + (1,) * (x.ndim - 2))
    if b.shape[0] != (x.shape[1] if data_format == "NCHW" else x.shape[-1]):
        raise ValueError("bad bias size")
    return x + b


def _bias_add_grad(inputs, out, dy, data_format="NHWC"):
    r = dy.shape.rank
    ch = 1 if data_format == "NCHW" else r - 1
    return dy, reduce_sum(dy, axis=[a for a in range(r) if a != ch])


bias_add_p = primitive(
    "BiasAdd",
    _bias_add_kernel,
    _bias_add_rule,
    _bias_add_grad,
    dtypes=_d.NUMERIC,
    same_dtype=True,
    saves=(),
    saves_output=False,
)


@tf_export("nn.bias_add")
def bias_add(value, bias, data_format=None, name=None):
    """Add a 1-D ``bias`` along the channel dimension (last for NHWC/``N...C``, 1 for NCHW/``NC...``)."""
    fmt = _bias_format(data_format)
    x, b = binary_args(value, bias)
    return bind(bias_add_p, (x, b), {"data_format": fmt})


def _axes_list(axes, rank):
    if axes is None:
        return list(range(rank))
    if is_tensor_like(axes):
        axes = static_value(axes)
    arr = np.asarray(axes)
    if arr.size and arr.dtype.kind not in "iu":
        # TF reduces with a Mean op whose axis attr takes only integers
        raise op_error(
            InvalidArgumentError, "Mean", f"axes must be int32 or int64, got {arr.dtype} ({axes!r})"
        )
    out = []
    for a in arr.reshape(-1).tolist():
        if not -rank <= a < rank:  # never wrapped modulo the rank: TF rejects it
            raise op_error(
                InvalidArgumentError, "Mean",
                f"Invalid reduction dimension ({a} for input with {rank} dimension(s)); "
                f"valid axes are in [{-rank}, {rank})",
            )  # fmt: skip
        out.append(a % rank)
    return out


def _count(x, axes):
    """Number of elements reduced over ``axes``, as a tensor of ``x``'s dtype."""
    dims = x.shape.as_list() if x.shape.rank is not None else None
    if dims is not None and all(dims[a] is not None for a in axes):
        return _scalar(int(np.prod([dims[a] for a in axes])), x)
    return reduce_sum(ones_like(x), axis=axes, keepdims=True)


def _mean_keepdims(x, axes):
    s = reduce_sum(x, axis=axes, keepdims=True)
    n = _count(x, axes)
    return truncatediv(s, n) if x.dtype.is_integer else realdiv(s, n)


@tf_export("nn.moments")
def moments(x, axes, shift=None, keepdims=False, name=None):
    """Mean and variance of ``x`` over ``axes`` (half precision is computed in float32)."""
    y = _to_tensor(x)
    dt = y.dtype
    if dt in (_d.float16, _d.bfloat16):
        y = cast(y, _d.float32)
    r = y.shape.rank
    if r is None:
        raise ValueError("moments: the rank of x must be known.")
    ax = _axes_list(axes, r)
    mean_k = _mean_keepdims(y, ax)
    var_k = _mean_keepdims(squared_difference(y, mean_k), ax)
    if keepdims:
        mean, var = mean_k, var_k
    else:
        mean = _squeeze_axes(mean_k, ax)
        var = _squeeze_axes(var_k, ax)
    if dt is not y.dtype:
        mean, var = cast(mean, dt), cast(var, dt)
    return mean, var


def _squeeze_axes(t, axes):
    dims = t.shape.as_list()
    keep = [d for i, d in enumerate(dims) if i not in axes]
    if sum(d is None for d in keep) <= 1:
        return reshape(t, [-1 if d is None else d for d in keep])
    return squeeze(t, axes)


@tf_export("nn.normalize_moments")
def normalize_moments(counts, mean_ss, variance_ss, shift, name=None):
    """Mean and variance from sufficient statistics (``counts``, sums, sums of squares)."""
    m_ss = _to_tensor(mean_ss)
    divisor = truediv(_scalar(1, m_ss), _to_tensor(counts, dtype=m_ss.dtype))
    shifted_mean = multiply(m_ss, divisor)
    if shift is not None:
        mean = add(shifted_mean, _to_tensor(shift, dtype=m_ss.dtype))
    else:
        mean = shifted_mean
    variance = subtract(
        multiply(_to_tensor(variance_ss, dtype=m_ss.dtype), divisor),
        multiply(shifted_mean, shifted_mean),
    )
    return mean, variance


@tf_export("nn.batch_normalization")
def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """``scale * (x - mean) / sqrt(variance + variance_epsilon) + offset`` (offset/scale may be None)."""
    x = _to_tensor(x)
    mean = _to_tensor(mean, dtype=x.dtype)
    variance = _to_tensor(variance, dtype=x.dtype)
    inv = pow(add(variance, _scalar(variance_epsilon, variance)), _scalar(-0.5, variance))
    if scale is not None:
        inv = multiply(inv, _to_tensor(scale, dtype=x.dtype))
    shift = multiply(mean, inv)
    if offset is not None:
        shift = subtract(_to_tensor(offset, dtype=x.dtype), shift)
        return add(multiply(x, inv), shift)
    return subtract(multiply(x, inv), shift)


# --------------------------------------------------------------------------------------
# Dropout, embeddings
# --------------------------------------------------------------------------------------


@tf_export("nn.dropout")
def dropout(x, rate, noise_shape=None, seed=None, name=None):
    """Zero each element with probability ``rate`` and scale the rest by ``1 / (1 - rate)``."""
    x = _to_tensor(x)
    if not x.dtype.is_floating:
        raise ValueError(
            f"`x.dtype` must be a floating point tensor as `x` will be scaled. Received: x_dtype={x.dtype!r}"
        )
    if is_tensor_like(rate):
        rv = static_value(rate)
        if rv is None:
            raise ValueError("dropout: rate must be known when the op runs.")
        rate_v = float(np.asarray(rv))
        if np.ndim(rv) != 0:
            raise ValueError(f"`rate` must be a scalar tensor. Received: rate={rate}")
    else:
        if not isinstance(rate, (int, float, np.integer, np.floating)) or isinstance(rate, bool):
            raise ValueError(
                f"`rate` must be a scalar tensor or a float in the range [0, 1). Received: rate={rate}"
            )
        rate_v = float(rate)
        if not 0 <= rate_v < 1:
            raise ValueError(
                f"`rate` must be a scalar tensor or a float in the range [0, 1). Received: rate={rate}"
            )
        if rate_v == 0:
            return x
    if noise_shape is None:
        ns = x.shape.as_list()
    else:
        ns = (
            np.asarray(static_value(noise_shape) if is_tensor_like(noise_shape) else noise_shape)
            .reshape(-1)
            .tolist()
        )
        ns = [int(d) for d in ns]
        xs = x.shape.as_list()
        if len(ns) == len(xs):
            ns = [xd if (d == -1 or d is None) else d for d, xd in zip(ns, xs)]
    if any(d is None for d in ns):
        # unknown dims (a traced batch): take them from the input's runtime shape
        dyn = shape(x)
        ns = stack(
            [dyn[i] if d is None else _to_tensor(d, dtype=_d.int32) for i, d in enumerate(ns)]
        )
    keep = greater_equal(uniform(ns, dtype=x.dtype, seed=seed), _to_tensor(rate_v, dtype=x.dtype))
    mask = multiply(cast(keep, x.dtype), _to_tensor(1.0 / (1.0 - rate_v), dtype=x.dtype))
    return multiply(x, mask)


@tf_export("nn.embedding_lookup")
def embedding_lookup(params, ids, max_norm=None, name=None):
    """Rows of ``params`` (a tensor, or a list of 'div'-partitioned shards) at ``ids``."""
    if isinstance(params, (list, tuple)):
        if not params:
            raise ValueError("embedding_lookup: params must be a non-empty list of tensors.")
        if len(params) == 1:
            p = params[0]
        else:
            p = concat(list(params), 0)
    else:
        p = params
    p = p if getattr(p, "_rill_variable", False) else _to_tensor(p)
    out = gather(p, ids)
    if max_norm is None:
        return out
    ids_t = _to_tensor(ids)
    r_ids, r_out = ids_t.shape.rank, out.shape.rank
    axes = list(range(r_ids, r_out))
    sq = reduce_sum(multiply(out, out), axis=axes, keepdims=True)
    pos = greater(sq, zeros_like(sq))
    one = _scalar(1, sq)
    norm = pow(where_v2(pos, sq, one), _scalar(0.5, sq))
    norm = where_v2(pos, norm, zeros_like(norm))
    mn = _scalar(max_norm, out)
    return realdiv(multiply(out, mn), maximum(norm, mn))


@tf_export("nn.compute_average_loss")
def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """Sum of (weighted) per-example losses divided by the global batch size."""
    loss = _to_tensor(per_example_loss)
    if sample_weight is not None:
        loss = multiply(loss, _to_tensor(sample_weight, dtype=loss.dtype))
    if global_batch_size is None:
        n = loss.shape[0] if loss.shape.rank else 1
        if n is None:
            n = cast(shape(loss)[0], loss.dtype)
        global_batch_size = n
    total = reduce_sum(loss)
    return realdiv(total, _to_tensor(global_batch_size, dtype=loss.dtype))


@tf_export("nn.zero_fraction", "math.zero_fraction")
def zero_fraction(value, name=None):
    """Fraction of zeros in ``value`` (float32 scalar)."""
    v = _to_tensor(value)
    z = cast(equal(v, zeros_like(v)), _d.float32)
    n = max(int(np.prod(v.shape.as_list())), 1) if v.shape.is_fully_defined() else None
    if n is None:
        return realdiv(reduce_sum(z), reduce_sum(ones_like(z)))
    return realdiv(reduce_sum(z), _scalar(float(n), z))
