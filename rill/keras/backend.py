"""``tf.keras.backend``: Keras 3's legacy backend functions, as TF 2.21's ``tf.keras``
ships them (Keras 2's ``K.*`` API), on rill.

These are thin wrappers over TensorFlow ops, so they follow TensorFlow's dtype rules (no
Keras promotion: ``K.maximum(int_tensor, float_tensor)`` raises as ``tf.maximum`` does),
and functions that made Keras 2 variables (``K.zeros``, ``K.eye``...) return rill
``Variable``s. The configuration functions are ``keras.config``'s, and ``result_type`` /
``standardize_dtype`` are Keras 3's dtype rules.
"""

from __future__ import annotations

import builtins
import math as _math

import numpy as np

import rill as tf
from rill.core.tensor import Tensor
from rill.core.variables import Variable
from rill.keras import config as _config
from rill.keras import naming as _naming
from rill.keras import random as _random
from rill.keras.config import (
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from rill.keras.keras_tensor import KerasTensor
from rill.keras.ops import nn as _nn
from rill.keras.ops._dtypes import is_float_dtype, is_int_dtype, result_type, standardize_dtype

__all__ = [
    "abs", "all", "any", "arange", "argmax", "argmin", "backend", "batch_dot",
    "batch_flatten", "batch_get_value", "batch_normalization", "batch_set_value", "bias_add",
    "binary_crossentropy", "binary_focal_crossentropy", "cast", "cast_to_floatx",
    "categorical_crossentropy", "categorical_focal_crossentropy", "clear_session", "clip",
    "concatenate", "constant", "conv1d", "conv2d", "conv2d_transpose", "conv3d", "cos",
    "count_params", "ctc_batch_cost", "ctc_decode", "ctc_label_dense_to_sparse", "cumprod",
    "cumsum", "depthwise_conv2d", "dot", "dropout", "dtype", "elu", "epsilon", "equal", "eval",
    "exp", "expand_dims", "eye", "flatten", "floatx", "foldl", "foldr", "gather", "get_uid",
    "get_value", "gradients", "greater", "greater_equal", "hard_sigmoid", "image_data_format",
    "in_top_k", "int_shape", "is_float_dtype", "is_int_dtype", "is_keras_tensor", "is_sparse",
    "l2_normalize", "less", "less_equal", "log", "map_fn", "max", "maximum", "mean", "min",
    "minimum", "moving_average_update", "name_scope", "ndim", "not_equal", "one_hot", "ones",
    "ones_like", "permute_dimensions", "pool2d", "pool3d", "pow", "prod", "random_bernoulli",
    "random_normal", "random_normal_variable", "random_uniform", "random_uniform_variable",
    "relu", "repeat", "repeat_elements", "reshape", "resize_images", "resize_volumes",
    "result_type", "reverse", "rnn", "round", "separable_conv2d", "set_epsilon", "set_floatx",
    "set_image_data_format", "set_value", "shape", "sigmoid", "sign", "sin", "softmax",
    "softplus", "softsign", "sparse_categorical_crossentropy", "spatial_2d_padding",
    "spatial_3d_padding", "sqrt", "square", "squeeze", "stack", "standardize_dtype", "std",
    "stop_gradient", "sum", "switch", "tanh", "temporal_padding", "tile", "to_dense",
    "transpose", "truncated_normal", "update", "update_add", "update_sub", "var", "variable",
    "zeros", "zeros_like",
]  # fmt: skip


def _t(x):
    return x if isinstance(x, (Tensor, Variable)) else tf.convert_to_tensor(x)


# ============================================================================ session
def clear_session(free_memory=True):
    """Reset Keras' global state: automatic names start again (``dense``, ``dense_1``...),
    and the default dtype policy, the flash-attention switch and the global random seed
    generator go back to their defaults."""
    with _naming._names_lock:
        _naming._names.clear()
    _config._s.dtype_policy = None
    _config._s.flash_attention = None
    _random._global.clear()
    if free_memory:
        import gc

        gc.collect()


def get_uid(prefix=""):
    """A counter per ``prefix``, starting at 1 (shared with automatic layer names)."""
    name = _naming.unique_name(prefix)
    return 1 if name == prefix else int(name[len(prefix) + 1 :]) + 1


def is_keras_tensor(x) -> bool:
    """Whether ``x`` is a KerasTensor (a symbolic input of the functional API)."""
    return isinstance(x, KerasTensor)


# ===================================================================== element-wise ops
def abs(x):  # noqa: A001
    return tf.abs(x)


def all(x, axis=None, keepdims=False):  # noqa: A001
    return tf.reduce_all(tf.cast(x, "bool"), axis, keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001
    return tf.reduce_any(tf.cast(x, "bool"), axis, keepdims)


def argmax(x, axis=-1):
    return tf.argmax(x, axis)


def argmin(x, axis=-1):
    return tf.argmin(x, axis)


def arange(start, stop=None, step=1, dtype="int32"):
    """``tf.range`` (a negative ``start`` alone gives an empty range), cast to ``dtype``."""
    if stop is None and start < 0:
        start = 0
    out = tf.range(start, stop, step)
    return out if dtype == "int32" else tf.cast(out, dtype)


def cast(x, dtype):
    return tf.cast(x, dtype)


def cast_to_floatx(x):
    """``x`` as ``floatx()``: a tensor for tensors, a NumPy array otherwise."""
    if isinstance(x, (Tensor, Variable, tf.SparseTensor)):
        return tf.cast(x, floatx())
    return np.asarray(x, dtype=floatx())


def clip(x, min_value, max_value):
    if isinstance(min_value, (int, float)) and isinstance(max_value, (int, float)):
        max_value = builtins.max(min_value, max_value)
    min_value = -np.inf if min_value is None else min_value
    max_value = np.inf if max_value is None else max_value
    return tf.clip_by_value(x, min_value, max_value)


def cos(x):
    return tf.cos(x)


def equal(x, y):
    return tf.equal(x, y)


def not_equal(x, y):
    return tf.not_equal(x, y)


def greater(x, y):
    return tf.greater(x, y)


def greater_equal(x, y):
    return tf.greater_equal(x, y)


def less(x, y):
    return tf.less(x, y)


def less_equal(x, y):
    return tf.less_equal(x, y)


def exp(x):
    return tf.exp(x)


def log(x):
    return tf.math.log(x)


def maximum(x, y):
    return tf.maximum(x, y)


def minimum(x, y):
    return tf.minimum(x, y)


def pow(x, a):  # noqa: A001
    return tf.pow(x, a)


def round(x):  # noqa: A001
    return tf.round(x)


def sign(x):
    return tf.sign(x)


def sin(x):
    return tf.sin(x)


def sqrt(x):
    """sqrt(max(x, 0))."""
    x = _t(x)
    return tf.sqrt(tf.maximum(x, tf.zeros((), x.dtype)))


def square(x):
    return tf.square(x)


def tanh(x):
    return tf.tanh(x)


def sigmoid(x):
    return tf.sigmoid(x)


def softplus(x):
    return tf.math.softplus(x)


def softsign(x):
    return tf.math.softsign(x)


def hard_sigmoid(x):
    """clip(0.2 x + 0.5, 0, 1)."""
    x = _t(x)
    return tf.clip_by_value(x * tf.constant(0.2, x.dtype) + tf.constant(0.5, x.dtype), 0.0, 1.0)


def elu(x, alpha=1.0):
    x = _t(x)
    res = tf.nn.elu(x)
    return res if alpha == 1 else tf.where(x > 0, res, alpha * res)


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """max(x, 0) with a ``alpha`` slope below ``threshold`` and a cap at ``max_value``."""
    x = _t(x)
    if alpha != 0.0:
        if max_value is None and threshold == 0:
            return tf.nn.leaky_relu(x, alpha=alpha)
        negative = tf.nn.relu(-x + threshold) if threshold != 0 else tf.nn.relu(-x)
    clip_max = max_value is not None
    if threshold != 0:
        y = x * tf.cast(tf.greater(x, threshold), x.dtype)
    elif max_value == 6:
        y = tf.nn.relu6(x)
        clip_max = False
    else:
        y = tf.nn.relu(x)
    if clip_max:
        y = tf.clip_by_value(y, tf.zeros((), y.dtype), tf.constant(max_value, y.dtype))
    if alpha != 0.0:
        y = y - tf.constant(alpha, y.dtype) * negative
    return y


def softmax(x, axis=-1):
    x = _t(x)
    if x.shape.rank is not None and x.shape.rank <= 1:
        raise ValueError(f"Cannot apply softmax to a tensor that is 1D. Received input: {x}")
    if isinstance(axis, int):
        return tf.nn.softmax(x, axis=axis)
    e = tf.exp(x - tf.reduce_max(x, axis=axis, keepdims=True))
    return e / tf.reduce_sum(e, axis=axis, keepdims=True)


def l2_normalize(x, axis=None):
    return tf.math.l2_normalize(x, axis=axis)


def in_top_k(predictions, targets, k):
    return tf.math.in_top_k(targets, predictions, k)


def stop_gradient(variables):
    if isinstance(variables, (list, tuple)):
        return map(tf.stop_gradient, variables)
    return tf.stop_gradient(variables)


# ========================================================================== reductions
def max(x, axis=None, keepdims=False):  # noqa: A001
    return tf.reduce_max(x, axis, keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    return tf.reduce_min(x, axis, keepdims)


def sum(x, axis=None, keepdims=False):  # noqa: A001
    return tf.reduce_sum(x, axis, keepdims)


def prod(x, axis=None, keepdims=False):
    return tf.reduce_prod(x, axis, keepdims)


def _bool_to_floatx(x):
    x = _t(x)
    return tf.cast(x, floatx()) if x.dtype.is_bool else x


def mean(x, axis=None, keepdims=False):
    return tf.reduce_mean(_bool_to_floatx(x), axis, keepdims)


def std(x, axis=None, keepdims=False):
    return tf.math.reduce_std(_bool_to_floatx(x), axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    return tf.math.reduce_variance(_bool_to_floatx(x), axis=axis, keepdims=keepdims)


def cumsum(x, axis=0):
    return tf.math.cumsum(x, axis=axis)


def cumprod(x, axis=0):
    return tf.math.cumprod(x, axis=axis)


# ============================================================================== shapes
def shape(x):
    """The dynamic shape of ``x`` (an int32 tensor)."""
    return tf.shape(x)


def int_shape(x):
    """The static shape of ``x`` as a tuple (None for unknown dimensions)."""
    try:
        s = x.shape
        return s if isinstance(s, tuple) else tuple(s.as_list())
    except ValueError:
        return None


def ndim(x):
    return x.shape.rank


def dtype(x):
    return x.dtype.name


def count_params(x):
    """The number of elements of ``x`` (a variable or tensor of known shape)."""
    return _math.prod(x.shape.as_list())


def reshape(x, shape):
    return tf.reshape(x, shape)


def flatten(x):
    return tf.reshape(x, [-1])


def batch_flatten(x):
    """``x`` as a (batch, -1) matrix."""
    x = _t(x)
    return tf.reshape(x, tf.stack([-1, tf.reduce_prod(tf.shape(x)[1:])]))


def expand_dims(x, axis=-1):
    return tf.expand_dims(x, axis)


def squeeze(x, axis):
    return tf.squeeze(x, [axis])


def permute_dimensions(x, pattern):
    return tf.transpose(x, perm=pattern)


def transpose(x):
    return tf.transpose(x)


def reverse(x, axes):
    return tf.reverse(x, [axes] if isinstance(axes, int) else axes)


def stack(x, axis=0):
    return tf.stack(x, axis=axis)


def concatenate(tensors, axis=-1):
    """``tensors`` joined along ``axis`` (sparse ones stay sparse if all are)."""
    if axis < 0:
        rank = ndim(tensors[0])
        axis = axis % rank if rank else 0
    if builtins.all(is_sparse(x) for x in tensors):
        return tf.sparse.concat(axis, tensors)
    return tf.concat([to_dense(x) for x in tensors], axis)


def tile(x, n):
    return tf.tile(x, [n] if isinstance(n, int) else n)


def repeat(x, n):
    """A 2-D ``(batch, features)`` ``x`` repeated ``n`` times: ``(batch, n, features)``."""
    x = _t(x)
    if ndim(x) != 2:
        raise ValueError(f"Expected input `x` to have rank 2. Received: rank(x)={ndim(x)}")
    return tf.tile(tf.expand_dims(x, 1), [1, n, 1])


def repeat_elements(x, rep, axis):
    """Each slice of ``x`` along ``axis`` repeated ``rep`` times (``np.repeat``)."""
    return tf.repeat(_t(x), rep, axis=axis)


def gather(reference, indices):
    return tf.gather(reference, indices)


def one_hot(indices, num_classes):
    return tf.one_hot(indices, depth=num_classes, axis=-1)


def switch(condition, then_expression, else_expression):
    """A scalar ``condition`` picks one of two expressions (callables run lazily, as a
    conditional); a tensor condition selects element-wise."""
    condition = _t(condition)
    if condition.dtype != tf.bool:
        condition = tf.cast(condition, "bool")
    cond_ndim = ndim(condition)
    if not cond_ndim:
        then_fn = then_expression if callable(then_expression) else (lambda: then_expression)
        else_fn = else_expression if callable(else_expression) else (lambda: else_expression)
        return tf.cond(condition, then_fn, else_fn)
    if callable(then_expression):
        then_expression = then_expression()
    if callable(else_expression):
        else_expression = else_expression()
    expr_ndim = ndim(_t(then_expression))
    if cond_ndim > expr_ndim:
        raise ValueError(
            "Rank of `condition` should be less than or equal to rank of `then_expression` "
            f"and `else_expression`. ndim(condition)={cond_ndim}, "
            f"ndim(then_expression)={expr_ndim}"
        )
    if cond_ndim > 1:
        cond_shape = tf.concat([tf.shape(condition), [1] * (expr_ndim - cond_ndim)], 0)
        condition = tf.reshape(condition, cond_shape)
        expr_shape = tf.shape(then_expression)
        condition = tf.tile(condition, tf.where(expr_shape - cond_shape > 0, expr_shape,
                                                tf.ones_like(expr_shape)))  # fmt: skip
    return tf.where(condition, then_expression, else_expression)


def temporal_padding(x, padding=(1, 1)):
    """Zero-pad the middle (time) axis of a 3-D tensor."""
    if len(padding) != 2:
        raise ValueError(
            f"Expected `padding` to be a tuple of 2 integers. Received: padding={padding}"
        )
    return tf.pad(x, [[0, 0], list(padding), [0, 0]])


def _check_format(data_format):
    data_format = image_data_format() if data_format is None else data_format
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"Unknown data_format: {data_format}")
    return data_format


def spatial_2d_padding(x, padding=((1, 1), (1, 1)), data_format=None):
    """Zero-pad the two spatial axes of a 4-D tensor."""
    if len(padding) != 2 or len(padding[0]) != 2 or len(padding[1]) != 2:
        raise ValueError(
            f"Expected `padding` to be a tuple of 2 tuples of 2 integers. Received: padding={padding}"
        )
    data_format = _check_format(data_format)
    spatial = [list(p) for p in padding]
    pattern = ([[0, 0], [0, 0], *spatial] if data_format == "channels_first"
               else [[0, 0], *spatial, [0, 0]])  # fmt: skip
    return tf.pad(x, pattern)


def spatial_3d_padding(x, padding=((1, 1), (1, 1), (1, 1)), data_format=None):
    """Zero-pad the three spatial axes of a 5-D tensor."""
    if len(padding) != 3 or builtins.any(len(p) != 2 for p in padding):
        raise ValueError(
            f"Expected `padding` to be a tuple of 3 tuples of 2 integers. Received: padding={padding}"
        )
    data_format = _check_format(data_format)
    spatial = [list(p) for p in padding]
    pattern = ([[0, 0], [0, 0], *spatial] if data_format == "channels_first"
               else [[0, 0], *spatial, [0, 0]])  # fmt: skip
    return tf.pad(x, pattern)


def resize_images(x, height_factor, width_factor, data_format, interpolation="nearest"):
    """Upsample the spatial axes of a 4-D tensor by integer factors."""
    methods = ("area", "bicubic", "bilinear", "gaussian", "lanczos3", "lanczos5",
               "mitchellcubic", "nearest")  # fmt: skip
    if data_format == "channels_first":
        rows, cols = 2, 3
    elif data_format == "channels_last":
        rows, cols = 1, 2
    else:
        raise ValueError(f"Invalid `data_format` argument: {data_format}")
    if interpolation not in methods:
        listed = '"' + '", "'.join(methods) + '"'
        raise ValueError(
            f'`interpolation` argument should be one of: {listed}. Received: "{interpolation}".'
        )
    x = _t(x)
    dims = x.shape.as_list()[rows : cols + 1]
    new = tf.constant(dims, "int32") if None not in dims else tf.shape(x)[rows : cols + 1]
    new = new * tf.constant([height_factor, width_factor], "int32")
    if data_format == "channels_first":
        x = tf.transpose(x, [0, 2, 3, 1])
    if interpolation == "nearest":
        x = tf.repeat(tf.repeat(x, height_factor, axis=1), width_factor, axis=2)
    else:
        x = tf.image.resize(x, new, method=interpolation)
    if data_format == "channels_first":
        x = tf.transpose(x, [0, 3, 1, 2])
    return x


def resize_volumes(x, depth_factor, height_factor, width_factor, data_format):
    """Upsample the three spatial axes of a 5-D tensor by repetition."""
    if data_format == "channels_first":
        axes = (2, 3, 4)
    elif data_format == "channels_last":
        axes = (1, 2, 3)
    else:
        raise ValueError(f"Invalid data_format: {data_format}")
    for a, f in zip(axes, (depth_factor, height_factor, width_factor)):
        x = repeat_elements(x, f, axis=a)
    return x


# ========================================================================= linear algebra
def dot(x, y):
    """Matrix product; for ranks above 2, sums over the last axis of ``x`` and the
    second-to-last of ``y`` (Theano's ``dot``)."""
    x, y = _t(x), _t(y)
    if ndim(x) is not None and (ndim(x) > 2 or ndim(y) > 2):
        xs = [d if d is not None else tf.shape(x)[i] for i, d in enumerate(x.shape.as_list())]
        ys = [d if d is not None else tf.shape(y)[i] for i, d in enumerate(y.shape.as_list())]
        perm = list(range(ndim(y)))
        perm = [perm.pop(-2)] + perm
        xt = tf.reshape(x, [-1, xs[-1]])
        yt = tf.reshape(tf.transpose(y, perm), [ys[-2], -1])
        return tf.reshape(tf.matmul(xt, yt), xs[:-1] + ys[:-2] + ys[-1:])
    return tf.matmul(x, y)


def batch_dot(x, y, axes=None):
    """Dot products of matching batch entries of ``x`` and ``y`` over ``axes``."""
    x, y = _t(x), _t(y)
    xs, ys = x.shape.as_list(), y.shape.as_list()
    xn, yn = len(xs), len(ys)
    if xn < 2 or yn < 2:
        raise ValueError(
            f"Cannot do batch_dot on inputs with rank < 2. Received inputs with tf.shapes {tuple(xs)} and {tuple(ys)}."
        )
    if xs[0] is not None and ys[0] is not None and xs[0] != ys[0]:
        raise ValueError(
            "Cannot do batch_dot on inputs with different batch sizes. Received inputs with "
            f"tf.shapes {tuple(xs)} and {tuple(ys)}."
        )
    if isinstance(axes, int):
        axes = [axes, axes]
    if axes is None:
        axes = [xn - 1, yn - 1] if yn == 2 else [xn - 1, yn - 2]
    if builtins.any(isinstance(a, (list, tuple)) for a in axes):
        raise ValueError(
            "Multiple target dimensions are not supported. Expected: None, int, (int, int), "
            f"Provided: {axes}"
        )
    a0, a1 = axes[0] % xn, axes[1] % yn
    if 0 in (a0, a1):
        raise ValueError(
            "Cannot perform batch_dot over axis 0. If your inputs are not batched, add a dummy "
            "batch dimension to your inputs using K.expand_dims(x, 0)"
        )
    d1, d2 = xs[a0], ys[a1]
    if d1 is not None and d2 is not None and d1 != d2:
        raise ValueError(
            f"Cannot do batch_dot on inputs with tf.shapes {tuple(xs)} and {tuple(ys)} with "
            f"axes={[a0, a1]}. x.shape[{a0}] != y.shape[{a1}] ({d1} != {d2})."
        )
    # move the contracted axes next to each other: x's last, y's second
    xp = [i for i in range(xn) if i != a0] + [a0]
    yp = [0, a1] + [i for i in range(1, yn) if i != a1]
    letters = "bcdefghijklmnopqrstuvw"
    xl = "a" + letters[: xn - 2] + "z"
    yl = "a" + "z" + letters[xn - 2 : xn - 2 + yn - 2]
    out = tf.einsum(f"{xl},{yl}->a{xl[1:-1]}{yl[2:]}", tf.transpose(x, xp), tf.transpose(y, yp))
    if xn == 2 and yn == 2:
        out = tf.expand_dims(out, 1)
    return out


def bias_add(x, bias, data_format=None):
    """``x + bias`` along the channels axis."""
    data_format = _check_format(data_format)
    x, bias = _t(x), _t(bias)
    bshape = bias.shape.as_list()
    if len(bshape) != 1 and len(bshape) != ndim(x) - 1:
        raise ValueError(
            f"Unexpected bias dimensions {len(bshape)}. Expected it to be 1 or {ndim(x) - 1} dimensions"
        )
    if len(bshape) == 1:
        if data_format == "channels_first" and ndim(x) > 2:
            return x + tf.reshape(bias, [1, -1] + [1] * (ndim(x) - 2))
        return x + bias
    if data_format == "channels_first":
        return x + tf.reshape(bias, [1, bshape[-1], *bshape[:-1]])
    return x + tf.reshape(bias, [1, *bshape])


def batch_normalization(x, mean, var, beta, gamma, axis=-1, epsilon=1e-3):
    return tf.nn.batch_normalization(x, mean, var, beta, gamma, epsilon)


# =========================================================================== losses
def binary_crossentropy(target, output, from_logits=False):
    target, output = _t(target), _t(output)
    if from_logits:
        return tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=output)
    eps = tf.constant(epsilon(), output.dtype)
    output = tf.clip_by_value(output, eps, 1.0 - eps)
    bce = target * tf.math.log(output + epsilon())
    bce = bce + (1 - target) * tf.math.log(1 - output + epsilon())
    return -bce


def binary_focal_crossentropy(target, output, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False):  # fmt: skip
    target, output = _t(target), _t(output)
    p = tf.sigmoid(output) if from_logits else output
    p_t = target * p + (1 - target) * (1 - p)
    focal = tf.pow(1.0 - p_t, gamma) * binary_crossentropy(target, output, from_logits)
    if apply_class_balancing:
        focal = (target * alpha + (1 - target) * (1 - alpha)) * focal
    return focal


def _compatible(target, output):
    for a, b in zip(target.shape.as_list(), output.shape.as_list()):
        if a is not None and b is not None and a != b:
            raise ValueError(f"Shapes {target.shape} and {output.shape} are incompatible")
    if target.shape.rank != output.shape.rank:
        raise ValueError(f"Shapes {target.shape} and {output.shape} are incompatible")


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    target, output = _t(target), _t(output)
    _compatible(target, output)
    if from_logits:
        return tf.nn.softmax_cross_entropy_with_logits(labels=target, logits=output, axis=axis)
    output = output / tf.reduce_sum(output, axis, True)
    eps = tf.constant(epsilon(), output.dtype)
    output = tf.clip_by_value(output, eps, 1.0 - eps)
    return -tf.reduce_sum(target * tf.math.log(output), axis)


def categorical_focal_crossentropy(target, output, alpha=0.25, gamma=2.0, from_logits=False,
                                   axis=-1):  # fmt: skip
    target, output = _t(target), _t(output)
    _compatible(target, output)
    if from_logits:
        output = tf.nn.softmax(output, axis=axis)
    output = output / tf.reduce_sum(output, axis=axis, keepdims=True)
    eps = tf.constant(epsilon(), output.dtype)
    output = tf.clip_by_value(output, eps, 1.0 - eps)
    cce = -target * tf.math.log(output)
    return tf.reduce_sum(tf.pow(1.0 - output, gamma) * alpha * cce, axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1,
                                    ignore_class=None):  # fmt: skip
    target, output = _t(target), _t(output)
    target = tf.cast(target, "int64")
    if not from_logits:
        eps = tf.constant(epsilon(), output.dtype)
        output = tf.math.log(tf.clip_by_value(output, eps, 1 - eps))
    rank = output.shape.rank
    axis %= rank
    if axis != rank - 1:
        output = tf.transpose(output, [*range(axis), *range(axis + 1, rank), axis])
    out_shape = tf.shape(output)
    reshape = target.shape.rank != rank - 1
    if reshape:
        target = tf.reshape(target, [-1])
        output = tf.reshape(output, [-1, out_shape[-1]])
    if ignore_class is not None:
        valid = tf.not_equal(target, tf.cast(ignore_class, target.dtype))
        safe = tf.where(valid, target, tf.zeros_like(target))
        res = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=safe, logits=output)
        res = tf.where(valid, res, tf.zeros_like(res))
        return tf.reshape(res, out_shape[:-1])
    res = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=output)
    if reshape and rank >= 3:
        res = tf.reshape(res, out_shape[:-1])
    return res


# ===================================================================== convolutions
def _padding(padding):
    if padding not in ("same", "valid"):
        raise ValueError(f"Invalid padding: {padding}")
    return padding.upper()


def _conv(x, kernel, strides, padding, data_format, dilation_rate):
    data_format = _check_format(data_format)
    x, kernel = _t(x), _t(kernel)
    if data_format == "channels_first":
        x = tf.transpose(x, [0, *range(2, x.shape.rank), 1])
    out = tf.nn.convolution(x, kernel, strides=strides, padding=_padding(padding),
                            dilations=dilation_rate)  # fmt: skip
    if data_format == "channels_first":
        out = tf.transpose(out, [0, out.shape.rank - 1, *range(1, out.shape.rank - 1)])
    return out


def conv1d(x, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """1-D convolution (``"causal"`` padding pads the start of the sequence)."""
    if padding == "causal":
        x = temporal_padding(x, (dilation_rate * (_t(kernel).shape.as_list()[0] - 1), 0))
        padding = "valid"
    return _conv(x, kernel, strides, padding, data_format, dilation_rate)


def conv2d(x, kernel, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1)):
    return _conv(x, kernel, strides, padding, data_format, dilation_rate)


def conv3d(x, kernel, strides=(1, 1, 1), padding="valid", data_format=None,
           dilation_rate=(1, 1, 1)):  # fmt: skip
    return _conv(x, kernel, strides, padding, data_format, dilation_rate)


def conv2d_transpose(x, kernel, output_shape, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):  # fmt: skip
    """The transpose of ``conv2d`` to ``output_shape``."""
    data_format = _check_format(data_format)
    x = _t(x)
    if data_format == "channels_first":
        x = tf.transpose(x, [0, 2, 3, 1])
        output_shape = (output_shape[0], output_shape[2], output_shape[3], output_shape[1])
    output_shape = list(output_shape)
    if output_shape[0] is None:
        output_shape[0] = tf.shape(x)[0]
    if builtins.any(isinstance(d, Tensor) for d in output_shape):
        output_shape = tf.stack([tf.cast(d, "int32") for d in output_shape])
    if dilation_rate != (1, 1) and dilation_rate[0] != dilation_rate[1]:
        raise ValueError(
            "Expected the 2 dimensions of the `dilation_rate` argument to be equal to each "
            f"other. Received: dilation_rate={dilation_rate}"
        )
    out = tf.nn.conv_transpose(x, _t(kernel), output_shape, strides, padding=_padding(padding),
                               dilations=dilation_rate)  # fmt: skip
    if data_format == "channels_first":
        out = tf.transpose(out, [0, 3, 1, 2])
    return out


def depthwise_conv2d(x, depthwise_kernel, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):  # fmt: skip
    data_format = _check_format(data_format)
    x = _t(x)
    if data_format == "channels_first":
        x = tf.transpose(x, [0, 2, 3, 1])
    out = tf.nn.depthwise_conv2d(x, _t(depthwise_kernel), (1, *strides, 1), _padding(padding),
                                 dilations=dilation_rate)  # fmt: skip
    return tf.transpose(out, [0, 3, 1, 2]) if data_format == "channels_first" else out


def separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides=(1, 1), padding="valid",
                     data_format=None, dilation_rate=(1, 1)):  # fmt: skip
    data_format = _check_format(data_format)
    if len(strides) != 2:
        raise ValueError("`strides` must be a tuple of 2 integers.")
    x = _t(x)
    if data_format == "channels_first":
        x = tf.transpose(x, [0, 2, 3, 1])
    out = tf.nn.separable_conv2d(x, _t(depthwise_kernel), _t(pointwise_kernel),
                                 (1, *tuple(strides), 1), _padding(padding),
                                 dilations=dilation_rate)  # fmt: skip
    return tf.transpose(out, [0, 3, 1, 2]) if data_format == "channels_first" else out


def _pool(x, pool_size, strides, padding, data_format, pool_mode):
    data_format = _check_format(data_format)
    x = _t(x)
    if data_format == "channels_first":
        x = tf.transpose(x, [0, *range(2, x.shape.rank), 1])
    padding = _padding(padding)
    if pool_mode == "max":
        out = tf.nn.max_pool(x, pool_size, strides, padding)
    elif pool_mode == "avg":
        out = tf.nn.avg_pool(x, pool_size, strides, padding)
    else:
        raise ValueError(f"Invalid pooling mode: {pool_mode}")
    if data_format == "channels_first":
        out = tf.transpose(out, [0, out.shape.rank - 1, *range(1, out.shape.rank - 1)])
    return out


def pool2d(x, pool_size, strides=(1, 1), padding="valid", data_format=None, pool_mode="max"):
    if len(pool_size) != 2:
        raise ValueError("`pool_size` must be a tuple of 2 integers.")
    if len(strides) != 2:
        raise ValueError("`strides` must be a tuple of 2 integers.")
    return _pool(x, pool_size, strides, padding, data_format, pool_mode)


def pool3d(x, pool_size, strides=(1, 1, 1), padding="valid", data_format=None,
           pool_mode="max"):  # fmt: skip
    return _pool(x, pool_size, strides, padding, data_format, pool_mode)


# ======================================================================== variables
def variable(value, dtype=None, name=None, constraint=None):
    """A rill ``Variable`` of ``value`` (``floatx()`` by default); a SciPy sparse matrix
    becomes a SparseTensor."""
    dtype = floatx() if dtype is None else dtype
    if hasattr(value, "tocoo"):
        coo = value.tocoo()
        indices = np.stack([coo.row, coo.col], axis=1).astype(np.int64)
        return tf.SparseTensor(indices, coo.data, coo.shape)
    return tf.Variable(tf.cast(_t(value), dtype), name=name, constraint=constraint)


def constant(value, dtype=None, shape=None, name=None):
    return tf.constant(value, dtype=floatx() if dtype is None else dtype, shape=shape)


def _filled(fill, shape, dtype, name):
    dtype = floatx() if dtype is None else dtype
    with tf.init_scope():
        v = fill(shape, dtype=dtype)
        if builtins.all(v.shape.as_list()):
            return variable(v, dtype=dtype, name=name)
        return v


def zeros(shape, dtype=None, name=None):
    """A variable of zeros (a tensor if ``shape`` has a zero)."""
    return _filled(tf.zeros, shape, dtype, name)


def ones(shape, dtype=None, name=None):
    """A variable of ones (a tensor if ``shape`` has a zero)."""
    return _filled(tf.ones, shape, dtype, name)


def eye(size, dtype=None, name=None):
    """An identity-matrix variable."""
    dtype = floatx() if dtype is None else dtype
    return variable(tf.eye(size, dtype=dtype), dtype, name)


def zeros_like(x, dtype=None, name=None):
    return tf.zeros_like(x, dtype=dtype)


def ones_like(x, dtype=None, name=None):
    return tf.ones_like(x, dtype=dtype)


def get_value(x):
    """The value of a tensor or variable as NumPy (anything else as is)."""
    if not tf.is_tensor(x) and not isinstance(x, Variable):
        return x
    return x.numpy()


def batch_get_value(tensors):
    return [x.numpy() for x in tensors]


def set_value(x, value):
    x.assign(np.asarray(value, dtype=x.dtype.name))


def batch_set_value(tuples):
    for x, value in tuples:
        x.assign(np.asarray(value, dtype=x.dtype.name))


def update(x, new_x):
    return x.assign(new_x)


def update_add(x, increment):
    return x.assign_add(increment)


def update_sub(x, decrement):
    return x.assign_sub(decrement)


def moving_average_update(x, value, momentum):
    """``x -= (x - value) * (1 - momentum)``."""
    momentum = tf.cast(momentum, x.dtype)
    value = tf.cast(value, x.dtype)
    return x.assign_sub((x - value) * (1 - momentum))


def eval(x):  # noqa: A001
    return get_value(to_dense(x))


def is_sparse(tensor):
    return isinstance(tensor, tf.SparseTensor)


def to_dense(tensor):
    return tf.sparse.to_dense(tensor) if is_sparse(tensor) else tensor


def gradients(loss, variables):
    """Keras 2's symbolic gradients need a graph being built; TensorFlow 2 refuses them
    eagerly and so does rill (use ``GradientTape``)."""
    raise RuntimeError(
        "tf.gradients is not supported when eager execution is enabled. Use tf.GradientTape "
        "instead."
    )


def name_scope(name):
    return tf.name_scope(name)


# ===================================================================== random values
def _seed(seed):
    return np.random.randint(10e6) if seed is None else seed


def _pair(seed):
    return [int(_seed(seed)), 0]


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    dtype = floatx() if dtype is None else dtype
    return tf.random.stateless_normal(shape, _pair(seed), mean=mean, stddev=stddev, dtype=dtype)


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    dtype = floatx() if dtype is None else dtype
    return tf.random.stateless_uniform(shape, _pair(seed), minval=minval, maxval=maxval,
                                       dtype=dtype)  # fmt: skip


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    dtype = floatx() if dtype is None else dtype
    return tf.random.stateless_truncated_normal(shape, _pair(seed), mean=mean, stddev=stddev,
                                                dtype=dtype)  # fmt: skip


def random_bernoulli(shape, p=0.0, dtype=None, seed=None):
    """Ones with probability ``p``, zeros otherwise."""
    dtype = floatx() if dtype is None else dtype
    u = tf.random.stateless_uniform(shape, _pair(seed), dtype=dtype)
    return tf.where(u <= p, tf.ones(shape, dtype=dtype), tf.zeros(shape, dtype=dtype))


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    dtype = floatx() if dtype is None else dtype
    value = tf.random.stateless_normal(shape, [int(np.random.randint(10e8) if seed is None
                                                    else seed), 0],
                                       mean=mean, stddev=scale, dtype=dtype)  # fmt: skip
    return variable(value, dtype=dtype, name=name)


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    dtype = floatx() if dtype is None else dtype
    value = tf.random.stateless_uniform(shape, [int(np.random.randint(10e8) if seed is None
                                                     else seed), 0],
                                        minval=low, maxval=high, dtype=dtype)  # fmt: skip
    return variable(value, dtype=dtype, name=name)


def dropout(x, level, noise_shape=None, seed=None):
    return tf.nn.dropout(x, rate=level, noise_shape=noise_shape, seed=_seed(seed))


# ======================================================================= higher-order
def foldl(fn, elems, initializer=None, name=None):
    return tf.foldl(fn, elems, initializer=initializer)


def foldr(fn, elems, initializer=None, name=None):
    return tf.foldr(fn, elems, initializer=initializer)


def map_fn(fn, elems, name=None, dtype=None):
    return tf.map_fn(fn, elems, dtype=dtype)


def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None, constants=None,
        unroll=False, input_length=None, time_major=False, zero_output_for_mask=False,
        return_all_outputs=True):  # fmt: skip
    """Iterate ``step_function(input_t, states + constants) -> (output_t, new_states)``
    over the time axis of ``inputs``; returns ``(last_output, outputs, new_states)``.
    Masked steps keep the previous output and states (or zero outputs with
    ``zero_output_for_mask``)."""

    def swap(t):
        return tf.transpose(t, [1, 0, *range(2, t.shape.rank)])

    inputs = tf.nest.map_structure(_t, inputs)
    if not time_major:
        inputs = tf.nest.map_structure(swap, inputs)
    flat_inputs = [_t(v) for v in tf.nest.flatten(inputs)]
    constants = list(constants or [])
    n = flat_inputs[0].shape.as_list()[0]
    if mask is not None:
        mask = _t(mask)
        if mask.dtype != tf.bool:
            mask = tf.cast(mask, "bool")
        if mask.shape.rank == 2:
            mask = tf.expand_dims(mask, -1)
        if not time_major:
            mask = swap(mask)
    if n is None:
        raise ValueError("rill's keras.backend.rnn needs a statically known number of timesteps.")
    order = list(range(n))[::-1] if go_backwards else list(range(n))
    states = tuple(initial_states)
    outputs = []
    prev = None
    for i in order:
        inp = tf.nest.pack_sequence_as(inputs, [v[i] for v in flat_inputs])
        out, new_states = step_function(inp, tuple(states) + tuple(constants))
        if mask is not None:
            m = mask[i]

            def pick(new, old, m=m):
                mm = m
                while mm.shape.rank < new.shape.rank:
                    mm = tf.expand_dims(mm, -1)
                return tf.where(tf.broadcast_to(mm, tf.shape(new)), new, old)

            if prev is None:
                prev = tf.zeros_like(out)
            base = tf.zeros_like(out) if zero_output_for_mask else prev
            out = pick(out, base)
            flat_new = [pick(a, b) for a, b in zip(tf.nest.flatten(new_states),
                                                  tf.nest.flatten(states))]  # fmt: skip
            new_states = tf.nest.pack_sequence_as(new_states, flat_new)
        states = tuple(new_states) if isinstance(new_states, (list, tuple)) else (new_states,)
        prev = out
        if return_all_outputs:
            outputs.append(out)
        else:
            outputs = [out]
    last_output = outputs[-1]
    stacked = tf.stack(outputs)
    if not time_major:
        stacked = swap(stacked)
    return last_output, stacked, list(states)


# ============================================================================== CTC
def ctc_label_dense_to_sparse(labels, label_lengths):
    """The first ``label_lengths[i]`` labels of each row of ``labels`` as a
    SparseTensor."""
    labels = _t(labels)
    lengths = tf.cast(_t(label_lengths), "int32")
    n = tf.shape(labels)[1]
    mask = tf.reshape(tf.range(n), [1, -1]) < tf.reshape(lengths, [-1, 1])
    indices = tf.where(mask)
    values = tf.gather_nd(labels, indices)
    return tf.SparseTensor(indices, values, tf.cast(tf.shape(labels), "int64"))


def ctc_batch_cost(y_true, y_pred, input_length, label_length):
    """The CTC loss of each batch entry, ``(batch, 1)``, from softmax outputs ``y_pred``
    (the last class is the blank, as in Keras 2)."""
    y_pred = _t(y_pred)
    label_length = tf.cast(tf.squeeze(_t(label_length), axis=-1), "int32")
    input_length = tf.cast(tf.squeeze(_t(input_length), axis=-1), "int32")
    logits = tf.math.log(y_pred + epsilon())
    blank = y_pred.shape.as_list()[-1] - 1
    loss = _nn.ctc_loss.__wrapped__(y_true, logits, label_length, input_length, mask_index=blank)
    return tf.expand_dims(loss, 1)


def ctc_decode(y_pred, input_length, greedy=True, beam_width=100, top_paths=1):
    """Greedy CTC decoding of softmax outputs: ``([decoded], log_probabilities)`` with the
    decoded labels -1 padded (the last class is the blank). Beam search is not
    implemented in rill."""
    if not greedy:
        raise NotImplementedError("rill's keras.backend.ctc_decode implements greedy=True only.")
    y_pred = _t(y_pred)
    logp = tf.math.log(y_pred + epsilon())
    blank = y_pred.shape.as_list()[-1] - 1
    decoded, scores = _nn.ctc_decode.__wrapped__(logp, input_length, "greedy", mask_index=blank)
    return [decoded[0]], scores
