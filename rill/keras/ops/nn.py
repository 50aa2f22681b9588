"""``keras.ops.nn``: Keras 3's neural-network ops (activations, convolutions, pooling,
normalization, losses, attention, CTC) over ``rill.nn`` and rill's array ops.

Activations take ``x`` as it comes (as Keras' TensorFlow backend does: ints go to the
op, which may refuse them); convolutions and pooling accept Keras' ``data_format``
(``channels_first`` inputs are transposed to rill's channels-last kernels and back).
"""

from __future__ import annotations

import math as _math

import numpy as np

import rill as tf
from rill.keras import config
from rill.keras.ops._base import (
    cast,
    complex_from,
    keras_op,
    result_type,
    shape_list,
    standardize_dtype,
    tensor,
)
from rill.keras.ops.linalg import norm as _norm
from rill.keras.ops.numpy import cos as _cos
from rill.keras.ops.numpy import divide as _divide
from rill.keras.ops.numpy import log10 as _log10
from rill.keras.ops.numpy import maximum as _maximum
from rill.keras.ops.numpy import minimum as _minimum
from rill.keras.ops.numpy import sin as _sin
from rill.keras.ops.numpy import square as _square
from rill.keras.ops.numpy import sum as _sum

__all__ = [
    "adaptive_average_pool", "adaptive_max_pool", "average_pool", "batch_normalization",
    "binary_crossentropy", "categorical_crossentropy", "celu", "conv", "conv_transpose",
    "ctc_decode", "ctc_loss", "depth_to_space", "depthwise_conv", "dot_product_attention",
    "elu", "fold", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish",
    "hard_tanh", "layer_normalization", "leaky_relu", "log_sigmoid", "log_softmax", "max_pool",
    "moments", "multi_hot", "normalize", "one_hot", "polar", "psnr", "relu", "relu6",
    "rms_normalization", "selu", "separable_conv", "sigmoid", "silu", "soft_shrink", "softmax",
    "softplus", "softsign", "space_to_depth", "sparse_categorical_crossentropy", "sparse_plus",
    "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh_shrink", "threshold", "unfold",
]  # fmt: skip


def _op(cls):
    return keras_op(cls, module="nn")


def _c(v, x):
    """A constant ``v`` in ``x``'s dtype (truncated for int ``x``, as TensorFlow converts
    a Python float operand)."""
    if x.dtype.is_floating or x.dtype.is_complex:
        return tf.constant(v, x.dtype)
    return tf.cast(tf.constant(v), x.dtype)


# ========================================================================== activations
@_op("Relu")
def relu(x):
    """max(x, 0)."""
    return tf.nn.relu(tensor(x))


@_op("Relu6")
def relu6(x):
    """min(max(x, 0), 6)."""
    return tf.nn.relu6(tensor(x))


@_op("Sigmoid")
def sigmoid(x):
    """1 / (1 + exp(-x))."""
    return tf.sigmoid(tensor(x))


@_op("SparseSigmoid")
def sparse_sigmoid(x):
    """0 below -1, 1 above 1, (x + 1) / 2 between."""
    x = tensor(x)
    return tf.where(x <= -1, _c(0.0, x), tf.where(x >= 1, _c(1.0, x), 0.5 * (x + 1)))


@_op("Softplus")
def softplus(x):
    """log(1 + exp(x))."""
    return tf.math.softplus(tensor(x))


@_op("Softsign")
def softsign(x):
    """x / (1 + |x|)."""
    return tf.nn.softsign(tensor(x))


@_op("SoftShrink")
def soft_shrink(x, threshold=0.5):
    """x - threshold above it, x + threshold below -threshold, 0 between."""
    x = tensor(x)
    t = _c(threshold, x)
    return tf.where(x > t, x - t, tf.where(x < -t, x + t, tf.zeros_like(x)))


@_op("SparsePlus")
def sparse_plus(x):
    """0 below -1, (x + 1)^2 / 4 up to 1, x above."""
    x = tensor(x)
    return tf.where(x <= -1, tf.zeros_like(x), tf.where(x < 1, 0.25 * tf.square(x + 1), x))


@_op("Silu")
def silu(x):
    """x * sigmoid(x)."""
    return tf.nn.silu(tensor(x))


@_op("Silu")
def swish(x):
    """x * sigmoid(x) (``silu``)."""
    return tf.nn.silu(tensor(x))


@_op("Squareplus")
def squareplus(x, b=4):
    """(x + sqrt(x^2 + b)) / 2."""
    x = tensor(x)
    return (x + tf.sqrt(tf.square(x) + tensor(b, x.dtype.name))) / 2


@_op("LogSigmoid")
def log_sigmoid(x):
    """log(sigmoid(x)), stably."""
    return tf.math.log_sigmoid(tensor(x))


@_op("LeakyRelu")
def leaky_relu(x, negative_slope=0.2):
    """x above 0, ``negative_slope * x`` below."""
    return tf.nn.leaky_relu(tensor(x), alpha=negative_slope)


@_op("HardSigmoid")
def hard_sigmoid(x):
    """relu6(x + 3) / 6."""
    x = tensor(x)
    return tf.nn.relu6(x + _c(3.0, x)) / _c(6.0, x)


@_op("HardSilu")
def hard_silu(x):
    """x * hard_sigmoid(x)."""
    x = tensor(x)
    return x * hard_sigmoid.__wrapped__(x)


@_op("HardSilu")
def hard_swish(x):
    """x * hard_sigmoid(x) (``hard_silu``)."""
    x = tensor(x)
    return x * hard_sigmoid.__wrapped__(x)


@_op("Elu")
def elu(x, alpha=1.0):
    """x above 0, alpha * (exp(x) - 1) below."""
    x = tensor(x)
    res = tf.nn.elu(x)
    return res if alpha == 1 else tf.where(x > 0, res, alpha * res)


@_op("Selu")
def selu(x):
    """The scaled ELU of self-normalizing networks."""
    return tf.nn.selu(tensor(x))


@_op("Gelu")
def gelu(x, approximate=True):
    """The Gaussian error linear unit (tanh approximation by default)."""
    return tf.nn.gelu(tensor(x), approximate=approximate)


@_op("Celu")
def celu(x, alpha=1.0):
    """max(x, 0) + alpha * (exp(min(x, 0) / alpha) - 1)."""
    x = tensor(x)
    return tf.maximum(x, _c(0.0, x)) + alpha * tf.math.expm1(tf.minimum(x, _c(0.0, x)) / alpha)


@_op("Glu")
def glu(x, axis=-1):
    """The gated linear unit: the first half of ``axis`` times the sigmoid of the
    second."""
    x = tensor(x)
    n = x.shape.as_list()[axis]
    if n is not None and n % 2:
        raise ValueError(
            f"axis size must be divisible by 2. Received: x.shape={x.shape} with axis={axis}"
        )
    a, b = tf.split(x, 2, axis=axis)
    return a * tf.sigmoid(b)


@_op("TanhShrink")
def tanh_shrink(x):
    """x - tanh(x)."""
    x = tensor(x)
    return x - tf.tanh(x)


@_op("HardTanh")
def hard_tanh(x):
    """x clipped to [-1, 1]."""
    x = tensor(x)
    return tf.clip_by_value(x, _c(-1.0, x), _c(1.0, x))


@_op("HardShrink")
def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, else 0."""
    x = tensor(x)
    return tf.where(tf.abs(x) > _c(threshold, x), x, tf.zeros_like(x))


@_op("Threshold")
def threshold(x, threshold, default_value):
    """x where x > threshold, else ``default_value``."""
    x = tensor(x)
    return tf.where(x > _c(threshold, x), x, tf.broadcast_to(_c(default_value, x), tf.shape(x)))


def _over_axes(fn, x, axis):
    """``fn`` (over the last axis) applied over ``axis``: None is all axes, a tuple is
    those axes flattened together."""
    if axis is None:
        return tf.reshape(fn(tf.reshape(x, [-1])), tf.shape(x))
    if isinstance(axis, (tuple, list)):
        rank = x.shape.rank
        axes = [a % rank for a in axis]
        keep = [i for i in range(rank) if i not in axes]
        perm = keep + axes
        moved = tf.transpose(x, perm)
        dims = shape_list(moved)
        flat = tf.reshape(moved, [*dims[: len(keep)], -1])
        out = tf.reshape(fn(flat), tf.shape(moved))
        return tf.transpose(out, np.argsort(perm).tolist())
    return None


@_op("Softmax")
def softmax(x, axis=-1):
    """exp(x) normalised to sum to 1 over ``axis`` (an int, a tuple, or None for all)."""
    x = tensor(x)
    out = _over_axes(lambda v: tf.nn.softmax(v, axis=-1), x, axis)
    return out if out is not None else tf.nn.softmax(x, axis=axis)


@_op("LogSoftmax")
def log_softmax(x, axis=-1):
    """log(softmax(x)) over ``axis``, stably."""
    x = tensor(x)
    out = _over_axes(lambda v: tf.nn.log_softmax(v, axis=-1), x, axis)
    return out if out is not None else tf.nn.log_softmax(x, axis=axis)


@_op("Sparsemax")
def sparsemax(x, axis=-1):
    """The Euclidean projection of ``x`` onto the probability simplex over ``axis``."""
    x = tensor(x)
    srt = tf.sort(x, axis=axis, direction="DESCENDING")
    csum = tf.math.cumsum(srt, axis=axis)
    n = shape_list(x)[axis]
    r = tf.range(1, n + 1, dtype=x.dtype)
    shape = [1] * x.shape.rank
    shape[axis] = -1
    r = tf.reshape(r, shape)
    support = srt - (csum - 1) / r > 0
    k = tf.reduce_sum(tf.cast(support, x.dtype), axis=axis, keepdims=True)
    # the cumulative sum at the end of the support (a prefix of the sorted values)
    at_k = tf.equal(tf.broadcast_to(r, tf.shape(csum)), k)
    tau = (tf.reduce_sum(tf.where(at_k, csum, tf.zeros_like(csum)), axis=axis, keepdims=True)
           - 1) / k  # fmt: skip
    return tf.maximum(x - tau, _c(0.0, x))


# ============================================================== convolution and pooling
def _data_format(data_format):
    return config.standardize_data_format(data_format)


def _to_last(x):
    rank = x.shape.rank
    return tf.transpose(x, [0, *range(2, rank), 1])


def _to_first(x):
    rank = x.shape.rank
    return tf.transpose(x, [0, rank - 1, *range(1, rank - 1)])


def _tuple(v, n):
    return (v,) * n if isinstance(v, int) else tuple(v)


def _check_rank(x, what):
    if x.shape.rank not in (3, 4, 5):
        raise ValueError(f"Input rank not supported: {x.shape.rank}. Expected values are [3, 4, 5]")


def _channels_last(fn):
    """Run ``fn(inputs_channels_last, ...)`` for either data format."""

    def run(inputs, data_format, *args):
        if data_format == "channels_first":
            return _to_first(fn(_to_last(inputs), *args))
        return fn(inputs, *args)

    return run


def _check_empty(out, inputs):
    dims = out.shape.as_list()
    if None not in dims and _math.prod(dims) == 0 and _math.prod(
            d or 1 for d in inputs.shape.as_list()) != 0:  # fmt: skip
        raise ValueError(
            f"The convolution operation resulted in an empty output. Output shape: {out.shape}. "
            "This can happen if the input is too small for the given kernel size, strides, "
            "dilation rate, and padding mode. Please check the input shape and convolution "
            "parameters."
        )
    return out


@_op("MaxPool")
def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max pooling over 1-3 spatial dimensions."""
    x = tensor(inputs)
    _check_rank(x, "max_pool")
    strides = pool_size if strides is None else strides
    run = _channels_last(lambda v: tf.nn.max_pool(v, pool_size, strides, padding.upper()))
    return run(x, _data_format(data_format))


@_op("AveragePool")
def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling over 1-3 spatial dimensions (``"same"`` padding averages only the
    valid positions)."""
    x = tensor(inputs)
    _check_rank(x, "average_pool")
    strides = pool_size if strides is None else strides
    run = _channels_last(lambda v: tf.nn.avg_pool(v, pool_size, strides, padding.upper()))
    return run(x, _data_format(data_format))


def _adaptive(reduce_fn, x, output_size, data_format):
    data_format = _data_format(data_format)
    n = x.shape.rank - 2
    if n not in (1, 2, 3):
        raise ValueError("adaptive pooling supports 1D, 2D, or 3D inputs only.")
    out = _tuple(output_size, n)
    if data_format == "channels_first":
        x = _to_last(x)
    for d in range(n):
        axis = d + 1
        length = x.shape.as_list()[axis]
        if length is None:
            raise ValueError(
                "Input spatial dimensions must be statically known for adaptive pooling"
            )
        pieces = []
        for i in range(out[d]):
            start = (i * length) // out[d]
            end = -((-(i + 1) * length) // out[d])
            sl = tf.gather(x, tf.range(start, end), axis=axis)
            pieces.append(reduce_fn(sl, axis=axis, keepdims=True))
        x = tf.concat(pieces, axis=axis)
    return _to_first(x) if data_format == "channels_first" else x


@_op("AdaptiveAveragePool")
def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average pooling to a fixed ``output_size`` (windows as PyTorch's adaptive
    pooling)."""
    return _adaptive(tf.reduce_mean, tensor(inputs), output_size, data_format)


@_op("AdaptiveMaxPool")
def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max pooling to a fixed ``output_size``."""
    return _adaptive(tf.reduce_max, tensor(inputs), output_size, data_format)


def _check_channels(x, kernel, data_format, transpose=False):
    channels = x.shape.as_list()[-1 if data_format == "channels_last" else 1]
    k = kernel.shape.as_list()[-1 if transpose else -2]
    if channels is not None and k is not None and channels % k:
        raise ValueError(
            "The number of input channels must be evenly divisible by kernel.shape[-2]. "
            f"Received: inputs.shape={x.shape}, kernel.shape={kernel.shape}"
        )


@_op("Conv")
def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution (cross-correlation) of ``inputs`` with ``kernel`` (spatial dims,
    in channels (per group), out channels)."""
    x, k = tensor(inputs), tensor(kernel)
    data_format = _data_format(data_format)
    _check_rank(x, "conv")
    _check_channels(x, k, data_format)

    def run(v):
        return tf.nn.convolution(v, k, strides=strides, padding=padding.upper(),
                                 dilations=dilation_rate)  # fmt: skip

    out = _channels_last(run)(x, data_format)
    return _check_empty(out, x)


def _depthwise(x, k, strides, padding, dilation_rate, pointwise=None):
    n = x.shape.rank - 2
    if n > 2:
        raise ValueError(
            f"`inputs` rank must be 3 (1D conv) or 4 (2D conv). Received: {x.shape.rank}."
        )
    strides, dilation_rate = _tuple(strides, n), _tuple(dilation_rate, n)
    if n == 1:
        x = tf.expand_dims(x, 1)
        k = tf.expand_dims(k, 0)
        strides, dilation_rate = (1, *strides), (1, *dilation_rate)
        if pointwise is not None:
            pointwise = tf.expand_dims(pointwise, 0)
    if pointwise is None:
        out = tf.nn.depthwise_conv2d(x, k, (1, *strides, 1), padding.upper(),
                                     dilations=dilation_rate)  # fmt: skip
    else:
        out = tf.nn.separable_conv2d(x, k, pointwise, (1, *strides, 1), padding.upper(),
                                     dilations=dilation_rate)  # fmt: skip
    return tf.squeeze(out, 1) if n == 1 else out


@_op("DepthwiseConv")
def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):  # fmt: skip
    """Depthwise 1-D or 2-D convolution: each input channel with its own filters
    (``kernel``: spatial dims, in channels, channel multiplier)."""
    x, k = tensor(inputs), tensor(kernel)
    data_format = _data_format(data_format)
    _check_channels(x, k, data_format)
    return _channels_last(lambda v: _depthwise(v, k, strides, padding, dilation_rate))(
        x, data_format
    )


@_op("SeparableConv")
def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):  # fmt: skip
    """A depthwise convolution followed by a 1x1 (pointwise) one."""
    x = tensor(inputs)
    dk, pk = tensor(depthwise_kernel), tensor(pointwise_kernel)
    data_format = _data_format(data_format)
    if x.shape.rank - 2 > 2:
        raise ValueError(
            f"`num_spatial_dims` must be 1 or 2. Received: num_spatial_dims={x.shape.rank - 2}."
        )
    _check_channels(x, dk, data_format)
    return _channels_last(lambda v: _depthwise(v, dk, strides, padding, dilation_rate, pk))(
        x, data_format
    )


def _transpose_length(size, k, stride, padding, output_padding, dilation):
    if padding not in ("valid", "same"):
        raise ValueError(
            f"The `padding` argument must be one of 'valid', 'same'. Received: padding={padding}"
        )
    k = (k - 1) * dilation + 1
    if padding == "valid":
        extra = max(k, stride) - k if output_padding is None else output_padding
        return (size - 1) * stride + k + extra
    if output_padding is None:
        return size * stride
    return (size - 1) * stride + k % 2 + output_padding


@_op("ConvTranspose")
def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):  # fmt: skip
    """The transpose (gradient) of ``conv``; ``kernel``: spatial dims, out channels, in
    channels."""
    x, k = tensor(inputs), tensor(kernel)
    data_format = _data_format(data_format)
    padding = padding.lower()
    n = x.shape.rank - 2
    _check_channels(x, k, data_format, transpose=True)
    strides_t, dil = _tuple(strides, n), _tuple(dilation_rate, n)
    out_pad = (None,) * n if output_padding is None else _tuple(output_padding, n)
    xl = _to_last(x) if data_format == "channels_first" else x
    dims = shape_list(xl)
    spatial = [
        _transpose_length(
            dims[1 + i], k.shape.as_list()[i], strides_t[i], padding, out_pad[i], dil[i]
        )  # fmt: skip
        for i in range(n)
    ]
    out_shape = [dims[0], *spatial, k.shape.as_list()[-2]]
    if any(isinstance(d, tf.Tensor) for d in out_shape):
        out_shape = tf.stack([tf.cast(d, "int32") for d in out_shape])
    out = tf.nn.conv_transpose(xl, k, out_shape, strides_t, padding=padding.upper(), dilations=dil)
    return _to_first(out) if data_format == "channels_first" else out


# ======================================================================== normalization
@_op("Moments")
def moments(x, axes, keepdims=False, synchronized=False):
    """(mean, variance) over ``axes``; half floats compute in float32."""
    x = tensor(x)
    d = x.dtype.name
    half = d in ("float16", "bfloat16")
    if half:
        x = cast(x, "float32")
    mean, variance = tf.nn.moments(x, axes, keepdims=keepdims)
    if half:
        lo, hi = float(np.finfo(np.float16).min), float(np.finfo(np.float16).max)
        mean = cast(tf.clip_by_value(mean, lo, hi), d)
        variance = cast(tf.clip_by_value(variance, lo, hi), d)
    return mean, variance


@_op("BatchNorm")
def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """(x - mean) / sqrt(variance + epsilon) * scale + offset, the statistics along
    ``axis``."""
    x = tensor(x)
    mean, variance = tensor(mean), tensor(variance)
    offset = None if offset is None else tensor(offset)
    scale = None if scale is None else tensor(scale)
    if axis != -1 and axis != x.shape.rank - 1:
        shape = [1] * x.shape.rank
        shape[axis] = shape_list(mean)[0]

        def fix(v):
            return None if v is None else tf.reshape(v, shape)

        mean, variance, offset, scale = fix(mean), fix(variance), fix(offset), fix(scale)
    return tf.nn.batch_normalization(x, mean, variance, offset, scale, epsilon)


@_op("Normalize")
def normalize(x, axis=-1, order=2, epsilon=None):
    """``x`` divided by its ``order``-norm over ``axis`` (at least ``epsilon``)."""
    if not isinstance(order, int) or not order >= 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    x = tensor(x)
    if x.shape.rank == 0:
        x = tf.expand_dims(x, 0)
    eps = config.epsilon() if epsilon is None else epsilon
    if order == 2:
        sq = _sum.__wrapped__(_square.__wrapped__(x), axis, True)
        inv = tf.math.rsqrt(sq)
        inv = _minimum.__wrapped__(inv, 1.0 / eps)
        return x * inv
    n = _norm.__wrapped__(x, ord=order, axis=axis, keepdims=True)
    return _divide.__wrapped__(x, _maximum.__wrapped__(n, eps))


@_op("RMSNorm")
def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """``x`` divided by its root mean square over ``axis``, times ``scale``."""
    x = tensor(x)
    eps = config.epsilon() if epsilon is None else epsilon
    original = x.dtype.name
    x = cast(x, result_type(original, "float32"))
    if scale is not None:
        scale = tensor(scale, x.dtype.name)
    if x.shape.rank == 0:
        x = tf.expand_dims(x, 0)
    axis = sorted(axis) if isinstance(axis, (list, tuple)) else axis
    rrms = tf.math.rsqrt(tf.reduce_mean(tf.square(x), axis=axis, keepdims=True) + eps)
    out = x * rrms
    if scale is not None:
        out = out * scale
    return cast(out, original)


@_op("LayerNorm")
def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """(x - mean) / sqrt(var + epsilon) * gamma + beta, the statistics over ``axis``."""
    rms_scaling = kwargs.pop("rms_scaling", False)
    x = tensor(x)
    eps = config.epsilon() if epsilon is None else epsilon
    original = x.dtype.name
    x = cast(x, result_type(original, "float32"))
    gamma = None if gamma is None else tensor(gamma, x.dtype.name)
    beta = None if beta is None else tensor(beta, x.dtype.name)
    rank = x.shape.rank
    axes = sorted(a % rank for a in ([axis] if isinstance(axis, int) else axis))
    shape = [1] * rank
    for a in axes:
        shape[a] = shape_list(x)[a]

    def bcast(v):
        if v is not None and v.shape.rank != rank and axes != [rank - 1]:
            return tf.reshape(v, shape)
        return v

    if rms_scaling:
        _, variance = tf.nn.moments(x, axes, keepdims=True)
        out = x * tf.math.rsqrt(variance + eps)
        if gamma is not None:
            out = out * bcast(gamma)
        return cast(out, original)
    mean, variance = tf.nn.moments(x, axes, keepdims=True)
    inv = tf.math.rsqrt(variance + eps)
    if gamma is not None:
        inv = inv * bcast(gamma)
    res = -mean * inv
    if beta is not None:
        res = res + bcast(beta)
    return cast(x * inv + res, original)


# =============================================================================== losses
def _same_shape(target, output, rank_msg=True):
    if target.shape.rank != output.shape.rank:
        raise ValueError(
            "Arguments `target` and `output` must have the same rank (ndim). Received: "
            f"target.shape={target.shape}, output.shape={output.shape}"
        )
    for a, b in zip(target.shape.as_list(), output.shape.as_list()):
        if a is not None and b is not None and a != b:
            raise ValueError(
                "Arguments `target` and `output` must have the same shape. Received: "
                f"target.shape={target.shape}, output.shape={output.shape}"
            )


@_op("BinaryCrossentropy")
def binary_crossentropy(target, output, from_logits=False):
    """Element-wise binary crossentropy (``output`` probabilities, clipped to
    ``[epsilon, 1 - epsilon]``, or logits)."""
    target, output = tensor(target), tensor(output)
    _same_shape(target, output)
    if from_logits:
        return tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=output)
    eps = config.epsilon()
    output = tf.clip_by_value(output, _c(eps, output), _c(1.0 - eps, output))
    return -(target * tf.math.log(output) + (1 - target) * tf.math.log(1 - output))


@_op("CategoricalCrossentropy")
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy between one-hot (or soft) ``target`` and ``output`` probabilities
    (renormalised and clipped) or logits, over ``axis``."""
    target, output = tensor(target), tensor(output)
    if target.shape.rank < 1:
        raise ValueError(
            "Arguments `target` and `output` must be at least rank 1. Received: "
            f"target.shape={target.shape}, output.shape={output.shape}"
        )
    _same_shape(target, output)
    if from_logits:
        return tf.nn.softmax_cross_entropy_with_logits(labels=target, logits=output, axis=axis)
    output = output / tf.reduce_sum(output, axis, keepdims=True)
    eps = config.epsilon()
    output = tf.clip_by_value(output, _c(eps, output), _c(1.0 - eps, output))
    return -tf.reduce_sum(target * tf.math.log(output), axis)


@_op("SparseCategoricalCrossentropy")
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy between integer class ``target`` and ``output`` probabilities or
    logits (over the last axis)."""
    output = tensor(output)
    if axis != -1 and axis != output.shape.rank - 1:
        raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis}")
    target = cast(tensor(target), "int64")
    if target.shape.rank == output.shape.rank and target.shape.as_list()[-1] == 1:
        target = tf.squeeze(target, -1)
    if output.shape.rank < 1:
        raise ValueError(
            f"Argument `output` must be at least rank 1. Received: output.shape={output.shape}"
        )
    if target.shape.rank != output.shape.rank - 1:
        raise ValueError(
            "Argument `output` must have rank (ndim) `target.ndim - 1`. Received: "
            f"target.shape={target.shape}, output.shape={output.shape}"
        )
    for a, b in zip(target.shape.as_list(), output.shape.as_list()[:-1]):
        if a is not None and b is not None and a != b:
            raise ValueError(
                "Arguments `target` and `output` must have the same shape up until the last "
                f"dimension: target.shape={target.shape}, output.shape={output.shape}"
            )
    if not from_logits:
        eps = config.epsilon()
        output = tf.math.log(tf.clip_by_value(output, _c(eps, output), _c(1 - eps, output)))
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=output)


@_op("OneHot")
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encodings of the integer ``x`` (negative indices: all zeros), of
    ``num_classes`` along a new ``axis``."""
    dtype = standardize_dtype(dtype)
    x = cast(tensor(x), "int64")
    if dtype == "bool":
        out = tf.one_hot(x, num_classes, on_value=True, off_value=False, axis=axis, dtype="bool")
    else:
        out = tf.one_hot(x, num_classes, axis=axis, dtype=dtype)
    return tf.sparse.from_dense(out) if sparse else out


@_op("MultiHot")
def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """Multi-hot encodings: a 1 for every class present in each row of ``inputs``."""
    if num_classes is None and "num_tokens" in kwargs:
        num_classes = kwargs.pop("num_tokens")
    if num_classes is None:
        raise ValueError("Argument `num_classes` must be specified.")
    dtype = standardize_dtype(dtype)
    x = tensor(inputs)
    reduce_axis = 1 if x.shape.rank > 1 else 0
    hot = one_hot.__wrapped__(x, num_classes, axis=axis, dtype=dtype)
    out = tf.reduce_any(hot, reduce_axis) if dtype == "bool" else tf.reduce_max(hot, reduce_axis)
    return tf.sparse.from_dense(out) if sparse else out


@_op("Polar")
def polar(abs_, angle):
    """The complex number ``abs_ * exp(1j * angle)``."""
    r, a = tensor(abs_), tensor(angle)
    return complex_from(r * _cos.__wrapped__(a), r * _sin.__wrapped__(a))


@_op("PSNR")
def psnr(x1, x2, max_val):
    """The peak signal-to-noise ratio (dB) between two images of the same shape."""
    a, b = tensor(x1), tensor(x2)
    if a.shape.as_list() != b.shape.as_list():
        raise ValueError(f"Input shapes {a.shape} and {b.shape} must match for PSNR calculation. ")
    m = tensor(max_val, b.dtype.name)
    mse = tf.reduce_mean(tf.square(a - b))
    return 20 * _log10.__wrapped__(m) - 10 * _log10.__wrapped__(mse)


# ============================================================================ attention
def _large_negative(dtype):
    v = 65500.0 if dtype.name == "float16" else 3.38953e38
    return tf.constant(v * -0.7, dtype)


@_op("DotProductAttention")
def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False,
                          flash_attention=None, attn_logits_soft_cap=None):  # fmt: skip
    """Scaled dot-product attention over ``(batch, seq, heads, head_dim)`` inputs, with
    an additive ``bias``, a boolean ``mask`` (True: attend), causal masking, and grouped
    key/value heads."""
    if attn_logits_soft_cap is not None:
        raise ValueError(
            "attn_logits_soft_cap is only supported for JAX on TPU. Set "
            "attn_logits_soft_cap=None when not using JAX on TPU."
        )
    if flash_attention:
        raise ValueError("Flash attention is not supported in tensorflow backend.")
    q, k, v = tensor(query), tensor(key), tensor(value)
    if q.shape.rank != 4:
        raise ValueError(
            "`dot_product_attention` only supports 4D inputs. Received: "
            f"query.shape={q.shape}, key.shape={k.shape}, value.shape={v.shape}."
        )
    dtype = result_type(q.dtype.name, k.dtype.name, v.dtype.name)
    q, k, v = cast(q, dtype), cast(k, dtype), cast(v, dtype)
    nq, nk = q.shape.as_list()[2], k.shape.as_list()[2]
    if nq is not None and nk is not None and nq > nk >= 1 and nq % nk == 0:
        k = tf.repeat(k, nq // nk, axis=2)
        v = tf.repeat(v, nq // nk, axis=2)
    if scale is None:
        scale = 1.0 / tf.sqrt(tf.cast(tf.shape(k)[-1], "float32"))
    logits_dtype = result_type(dtype, "float32")
    logits = cast(tf.einsum("btnh,bsnh->bnts", q, k), logits_dtype)
    logits = logits * tf.cast(scale, logits.dtype)
    if bias is not None:
        logits = logits + tf.cast(tensor(bias, dtype), logits.dtype)
    if mask is not None or is_causal:
        keep = tf.ones_like(logits, dtype="bool")
        if mask is not None:
            keep = tf.logical_and(keep, cast(tensor(mask), "bool"))
        if is_causal:
            t, s = tf.shape(logits)[2], tf.shape(logits)[3]
            causal = tf.reshape(tf.range(s), [1, -1]) <= tf.reshape(tf.range(t), [-1, 1])
            keep = tf.logical_and(keep, causal[None, None])
        logits = tf.where(keep, logits, _large_negative(logits.dtype))
    probs = cast(tf.nn.softmax(cast(logits, result_type(logits.dtype.name, "float32")), -1),
                 dtype)  # fmt: skip
    return tf.einsum("bnts,bsnh->btnh", probs, v)


# ========================================================================= patches/space
def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


@_op("Unfold")
def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of an NCHW image as columns: ``(N, C*kH*kW, L)`` (PyTorch's
    ``unfold``)."""
    x = tensor(x)
    if x.shape.rank != 4:
        raise ValueError(f"Input must be a 4D tensor. Received: input.shape={x.shape}")
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = map(_pair, (kernel_size, dilation, padding, stride))
    if ph or pw:
        x = tf.pad(x, [[0, 0], [0, 0], [ph, ph], [pw, pw]])
    n, c, h, w = shape_list(x)
    nh = (h - dh * (kh - 1) - 1) // sh + 1
    nw = (w - dw * (kw - 1) - 1) // sw + 1
    rows = tf.reshape(tf.range(kh) * dh, [-1, 1]) + tf.reshape(tf.range(nh) * sh, [1, -1])
    cols = tf.reshape(tf.range(kw) * dw, [-1, 1]) + tf.reshape(tf.range(nw) * sw, [1, -1])
    g = tf.gather(x, tf.reshape(rows, [-1]), axis=2)  # (n, c, kh*nh, w)
    g = tf.gather(g, tf.reshape(cols, [-1]), axis=3)  # (n, c, kh*nh, kw*nw)
    g = tf.reshape(g, [n, c, kh, nh, kw, nw])
    g = tf.transpose(g, [0, 1, 2, 4, 3, 5])
    return tf.reshape(g, [n, c * kh * kw, nh * nw])


@_op("Fold")
def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The inverse of ``unfold``: columns summed back into an NCHW image of
    ``output_size``."""
    x = tensor(x)
    if x.shape.rank != 3:
        raise ValueError(f"Input must be a 3D tensor. Received: input.shape={x.shape}")
    (kh, kw), (oh, ow), (dh, dw), (ph, pw), (sh, sw) = map(
        _pair, (kernel_size, output_size, dilation, padding, stride)
    )
    n = shape_list(x)[0]
    c = shape_list(x)[1] // (kh * kw)
    nh = (oh + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    nw = (ow + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    hp, wp = oh + 2 * ph, ow + 2 * pw
    blocks = tf.reshape(x, [n, c, kh, kw, nh, nw])
    # target pixel of every (i, j, a, b): row i*dh + a*sh, col j*dw + b*sw
    r = np.arange(kh)[:, None, None, None] * dh + np.arange(nh)[None, None, :, None] * sh
    q = np.arange(kw)[None, :, None, None] * dw + np.arange(nw)[None, None, None, :] * sw
    flat_idx = (r * wp + q).reshape(-1)
    vals = tf.transpose(tf.reshape(blocks, [n, c, -1]), [2, 0, 1])  # (kh*kw*nh*nw, n, c)
    out = tf.math.unsorted_segment_sum(vals, tf.constant(flat_idx, "int32"), hp * wp)
    out = tf.reshape(tf.transpose(out, [1, 2, 0]), [n, c, hp, wp])
    return out[:, :, ph : hp - ph, pw : wp - pw]


def _block_check(block_size):
    if block_size < 2:
        raise ValueError(f"`block_size` must be at least 2. Received: block_size={block_size}")


@_op("DepthToSpace")
def depth_to_space(x, block_size, data_format="channels_last"):
    """Channels moved into ``block_size x block_size`` spatial blocks."""
    _block_check(block_size)
    x = tensor(x)
    data_format = _data_format(data_format)
    if data_format == "channels_first":
        x = _to_last(x)
    n, h, w, c = shape_list(x)
    b = block_size
    y = tf.reshape(x, [n, h, w, b, b, c // (b * b)])
    y = tf.transpose(y, [0, 1, 3, 2, 4, 5])
    y = tf.reshape(y, [n, h * b, w * b, c // (b * b)])
    return _to_first(y) if data_format == "channels_first" else y


@_op("SpaceToDepth")
def space_to_depth(x, block_size, data_format="channels_last"):
    """``block_size x block_size`` spatial blocks moved into channels."""
    _block_check(block_size)
    x = tensor(x)
    data_format = _data_format(data_format)
    if data_format == "channels_first":
        x = _to_last(x)
    n, h, w, c = shape_list(x)
    b = block_size
    y = tf.reshape(x, [n, h // b, b, w // b, b, c])
    y = tf.transpose(y, [0, 1, 3, 2, 4, 5])
    y = tf.reshape(y, [n, h // b, w // b, b * b * c])
    return _to_first(y) if data_format == "channels_first" else y


# ================================================================================== CTC
def _logsumexp(*xs):
    """log(sum(exp(x))) of same-shaped tensors; -inf where all are -inf, with finite
    gradients there (no log(0))."""
    m = xs[0]
    for v in xs[1:]:
        m = tf.maximum(m, v)
    empty = tf.math.is_inf(m)
    shift = tf.where(empty, tf.zeros_like(m), m)
    total = tf.zeros_like(m)
    for v in xs:
        total = total + tf.exp(v - shift)
    out = tf.math.log(tf.where(empty, tf.ones_like(total), total)) + shift
    return tf.where(empty, m, out)


@_op("CTCLoss")
def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """The CTC negative log-likelihood of the label sequences ``target`` (batch, max
    label length) given the logits ``output`` (batch, time, classes); ``mask_index`` is
    the blank class."""
    target = cast(tensor(target), "int32")
    output = tensor(output)
    result = result_type(output.dtype.name, "float32")
    compute = "float32" if result == "float64" else result
    logp = tf.nn.log_softmax(cast(output, compute), axis=-1)
    target_length = cast(tensor(target_length), "int32")
    output_length = cast(tensor(output_length), "int32")
    b, _, n_classes = shape_list(logp)
    max_len = shape_list(target)[1]
    s = 2 * max_len + 1
    # extended labels: blank, l1, blank, l2, ..., blank
    blank = tf.fill([b, s], tf.constant(mask_index % n_classes if isinstance(n_classes, int)
                                        else mask_index, "int32"))  # fmt: skip
    pos = tf.range(s)
    label_at = tf.gather(target, tf.clip_by_value((pos - 1) // 2, 0, max(max_len - 1, 0)), axis=1)
    ext = tf.where(tf.equal(pos % 2, 1)[None, :], label_at, blank)
    prev2 = tf.concat([tf.fill([b, 2], -1), ext[:, :-2]], axis=1)
    can_skip = tf.logical_and(tf.not_equal(ext, blank), tf.not_equal(ext, prev2))
    neg_inf = tf.constant(-np.inf, compute)
    # log-probabilities of the extended labels at each step: (time, batch, s)
    emit = tf.transpose(tf.gather(logp, ext, axis=2, batch_dims=1), [1, 0, 2])
    init = tf.where(pos[None, :] < 2, emit[0], tf.fill([b, s], neg_inf))
    steps = tf.range(1, tf.shape(emit)[0])

    def step(alpha, t):
        shift1 = tf.concat([tf.fill([b, 1], neg_inf), alpha[:, :-1]], axis=1)
        shift2 = tf.concat([tf.fill([b, 2], neg_inf), alpha[:, :-2]], axis=1)
        shift2 = tf.where(can_skip, shift2, tf.fill([b, s], neg_inf))
        new = _logsumexp(alpha, shift1, shift2) + tf.gather(emit, t)
        active = tf.reshape(t < output_length, [-1, 1])
        return tf.where(active, new, alpha)

    alpha = tf.foldl(step, steps, initializer=init)
    last = 2 * target_length
    end1 = tf.gather(alpha, last, axis=1, batch_dims=1)
    end2 = tf.gather(alpha, tf.maximum(last - 1, 0), axis=1, batch_dims=1)
    end2 = tf.where(last > 0, end2, tf.fill(tf.shape(end2), neg_inf))
    return cast(-_logsumexp(end1, end2), result)


@_op("CTCDecode")
def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1,
               merge_repeated=True, mask_index=0):  # fmt: skip
    """Decode CTC outputs ``inputs`` (batch, time, classes): the decoded label
    sequences (top_paths, batch, time; -1 padded) and their scores. Only the greedy
    strategy is implemented."""
    x = tensor(inputs)
    x = cast(x, result_type(x.dtype.name, "float32"))
    lengths = cast(tensor(sequence_lengths), "int32")
    if strategy == "beam_search":
        raise NotImplementedError("rill's keras.ops.ctc_decode implements strategy='greedy' only.")
    if strategy != "greedy":
        raise ValueError(
            f"Invalid strategy {strategy}. Supported values are 'greedy' and 'beam_search'."
        )
    b, t, _ = shape_list(x)
    best = tf.argmax(x, axis=-1, output_type="int32")  # (b, t)
    in_seq = tf.reshape(tf.range(t), [1, -1]) < tf.reshape(lengths, [-1, 1])
    keep = tf.logical_and(in_seq, tf.not_equal(best, mask_index))
    if merge_repeated:
        prev = tf.concat([tf.fill([b, 1], -1), best[:, :-1]], axis=1)
        keep = tf.logical_and(keep, tf.not_equal(best, prev))
    steps = tf.broadcast_to(tf.reshape(tf.range(t), [1, -1]), tf.shape(best))
    order = tf.argsort(tf.where(keep, steps, steps + t), axis=-1, stable=True)
    packed = tf.gather(best, order, batch_dims=1)
    count = tf.reduce_sum(cast(keep, "int32"), axis=-1, keepdims=True)
    decoded = tf.where(tf.reshape(tf.range(t), [1, -1]) < count, packed, -tf.ones_like(packed))
    masked_max = tf.where(in_seq, tf.reduce_max(x, axis=-1), tf.zeros_like(x[..., 0]))
    scores = -tf.reduce_sum(masked_max, axis=-1, keepdims=True)
    return tf.expand_dims(decoded, 0), scores
