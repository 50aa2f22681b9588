"""``tf.keras.activations``: Keras 3's activation functions on rill ops, looked up by name."""

import math as _math

import rill as tf


def _t(x):
    x = tf.convert_to_tensor(x)
    if not x.dtype.is_floating:
        x = tf.cast(x, tf.float32)
    return x


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0), with a slope below ``threshold``, and a cap at ``max_value``."""
    x = _t(x)
    if negative_slope != 0.0 and max_value is None and threshold == 0:
        return tf.nn.leaky_relu(x, alpha=negative_slope)
    negative_part = None
    if negative_slope != 0.0:
        negative_part = tf.nn.relu(threshold - x) if threshold != 0 else tf.nn.relu(-x)
    if threshold != 0:
        y = tf.where(x > tf.cast(threshold, x.dtype), x, tf.zeros_like(x))
    else:
        y = tf.nn.relu(x)
    if max_value is not None:
        y = tf.clip_by_value(y, tf.cast(0.0, x.dtype), tf.cast(max_value, x.dtype))
    if negative_part is not None:
        y = y - negative_slope * negative_part
    return y


def leaky_relu(x, negative_slope=0.2):
    return tf.nn.leaky_relu(_t(x), alpha=negative_slope)


def relu6(x):
    return tf.nn.relu6(_t(x))


def sigmoid(x):
    return tf.sigmoid(_t(x))


def tanh(x):
    return tf.tanh(_t(x))


def softmax(x, axis=-1):
    return tf.nn.softmax(_t(x), axis=axis)


def log_softmax(x, axis=-1):
    return tf.nn.log_softmax(_t(x), axis=axis)


def elu(x, alpha=1.0):
    x = _t(x)
    return tf.where(x > 0, x, alpha * tf.math.expm1(tf.minimum(x, 0.0)))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x):
    x = _t(x)
    return _SELU_SCALE * tf.where(x > 0, x, _SELU_ALPHA * tf.math.expm1(tf.minimum(x, 0.0)))


def gelu(x, approximate=False):
    x = _t(x)
    if approximate:
        c = _math.sqrt(2.0 / _math.pi)
        return 0.5 * x * (1.0 + tf.tanh(c * (x + 0.044715 * x * x * x)))
    return 0.5 * x * (1.0 + tf.math.erf(x / _math.sqrt(2.0)))


def silu(x):
    x = _t(x)
    return x * tf.sigmoid(x)


swish = silu


def softplus(x):
    return tf.nn.softplus(_t(x))


def softsign(x):
    return tf.nn.softsign(_t(x))


def hard_sigmoid(x):
    """relu6(x + 3) / 6 (Keras 3's definition)."""
    return tf.nn.relu6(_t(x) + 3.0) / 6.0


def hard_silu(x):
    x = _t(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def exponential(x):
    return tf.exp(_t(x))


def linear(x):
    return x


def mish(x):
    x = _t(x)
    return x * tf.tanh(tf.nn.softplus(x))


def log_sigmoid(x):
    return tf.math.log_sigmoid(_t(x))


def _kops():
    # rill.keras.ops is imported on first use so `import rill.keras.activations` stays light
    from rill.keras.ops import nn

    return nn


def celu(x, alpha=1.0):
    """Continuously differentiable ELU: max(x, 0) + alpha * expm1(min(x, 0) / alpha)."""
    return _kops().celu(_t(x), alpha=alpha)


def glu(x, axis=-1):
    """Gated linear unit: the first half of ``axis`` times sigmoid of the second half."""
    return _kops().glu(_t(x), axis=axis)


def hard_tanh(x):
    """tanh's piecewise-linear stand-in: x clipped to [-1, 1]."""
    return _kops().hard_tanh(_t(x))


def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, else 0."""
    return _kops().hard_shrink(_t(x), threshold=threshold)


def soft_shrink(x, threshold=0.5):
    """x moved towards 0 by ``threshold``, and 0 inside [-threshold, threshold]."""
    return _kops().soft_shrink(_t(x), threshold=threshold)


def sparse_plus(x):
    """0 below -1, (x + 1)**2 / 4 on [-1, 1), x above: a smooth-ish relu."""
    return _kops().sparse_plus(_t(x))


def sparse_sigmoid(x):
    """0 below -1, (x + 1) / 2 on [-1, 1], 1 above."""
    return _kops().sparse_sigmoid(_t(x))


def sparsemax(x, axis=-1):
    """The Euclidean projection of x onto the probability simplex along ``axis``."""
    return _kops().sparsemax(_t(x), axis=axis)


def squareplus(x, b=4):
    """(x + sqrt(x**2 + b)) / 2, a smooth relu."""
    return _kops().squareplus(_t(x), b=b)


def tanh_shrink(x):
    """x - tanh(x)."""
    return _kops().tanh_shrink(_t(x))


def threshold(x, threshold, default_value):
    """x where x > threshold, else ``default_value``."""
    return _kops().threshold(_t(x), threshold, default_value)


_ALL = {
    f.__name__: f
    for f in (relu, leaky_relu, relu6, sigmoid, tanh, softmax, log_softmax, elu, selu, gelu,
              silu, softplus, softsign, hard_sigmoid, hard_silu, exponential, linear, mish,
              log_sigmoid, celu, glu, hard_tanh, hard_shrink, soft_shrink, sparse_plus,
              sparse_sigmoid, sparsemax, squareplus, tanh_shrink, threshold)
}  # fmt: skip
_ALL["swish"] = silu
_ALL["hard_swish"] = hard_silu

_OBJECTS = _ALL  # the names `get` / `deserialize` resolve (nothing else is imported)


def serialize(activation):
    """A built-in activation's name; a registered function's name; a custom object's
    Keras 3 config dict."""
    from rill.keras.saving import serialization_lib

    return serialization_lib.serialize_catalog(activation, _ALL, "activation function")


def deserialize(config, custom_objects=None):
    """An activation from its name or config dict; names resolve only through this
    module's table, ``custom_objects``, the custom-object scope and the registry."""
    from rill.keras.saving import serialization_lib

    return serialization_lib.deserialize_catalog(
        config, _ALL, "activation function", custom_objects, instantiate=False
    )


def get(identifier):
    """``None`` gives ``linear``; a name or dict resolves via ``deserialize``; callables pass."""
    from rill.keras.saving import serialization_lib

    return serialization_lib.get_catalog(
        identifier, _ALL, "activation function", default=linear, instantiate=False
    )
