"""``tf.keras.random``: Keras 3's random samplers and ``SeedGenerator``.

Every sampler is a stateless one (``rill.random.stateless_*``) fed a seed pair: an int
``seed`` gives ``[seed, 0]`` (the same numbers each call); a ``SeedGenerator`` gives its
state and advances it (its state is a rill ``Variable``, so this also works inside
``rill.function``, where the advance is an assignment in the graph); ``None`` draws from
a process-wide generator. rill's stateless kernels are its own, so the numbers differ
from TensorFlow's for the same seed; distributions, shapes and dtypes are Keras'.
"""

from __future__ import annotations

import random as _py_random

import numpy as np

import rill as tf
from rill.keras import config
from rill.keras.naming import unique_name
from rill.keras.ops._base import cast, standardize_dtype, tensor
from rill.keras.ops._dtypes import is_float_dtype, is_int_dtype

__all__ = [
    "SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal",
    "randint", "shuffle", "truncated_normal", "uniform",
]  # fmt: skip


class SeedGenerator:
    """A source of seeds for the samplers: a non-trainable int64 variable ``state`` of
    shape (2,), ``[seed, counter]``, advanced by each draw."""

    def __init__(self, seed=None, name=None, **kwargs):
        kwargs.pop("backend", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
        self.name = name or unique_name("seed_generator")
        self._initial_seed = seed
        if seed is None:
            seed = _py_random.randint(1, int(1e9))
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed}")
        with tf.init_scope():
            self.state = tf.Variable(
                np.array([seed, 0], np.int64), trainable=False, name="seed_generator_state"
            )

    def next(self, ordered=True):
        """The current state (a seed pair), then advance it: the counter by one, or (not
        ``ordered``) by a scrambling step, as Keras' global generator does."""
        value = self.state.value() * 1
        if ordered:
            self.state.assign_add(tf.constant([0, 1], "int64"))
        else:
            self.state.assign(tf.math.floormod((self.state.value() + 1) * 5387, 933199))
        return value

    def get_config(self):
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator name={self.name!r}>"


_global: list = []  # the process-wide generator, made on first use


def _global_generator() -> SeedGenerator:
    if not _global:
        _global.append(SeedGenerator())
    return _global[0]


def draw_seed(seed):
    """The seed pair (int32, shape (2,)) a sampler uses for ``seed``."""
    if isinstance(seed, SeedGenerator):
        pair = seed.next()
    elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        pair = tf.constant([int(seed), 0], "int64")
    elif seed is None:
        pair = _global_generator().next(ordered=False)
    else:
        raise ValueError(
            "Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
            f"Received: seed={seed} (of type {type(seed)})"
        )
    return tf.cast(tf.math.floormod(pair, np.iinfo(np.int32).max - 1), "int32")


def _float(dtype):
    return standardize_dtype(dtype) if dtype is not None else config.floatx()


def _shape(shape):
    return [shape] if isinstance(shape, int) else shape


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of the normal distribution N(mean, stddev^2)."""
    dtype = _float(dtype)
    return tf.random.stateless_normal(_shape(shape), draw_seed(seed), mean=mean, stddev=stddev,
                                      dtype=dtype)  # fmt: skip


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of N(mean, stddev^2) redrawn beyond two standard deviations."""
    dtype = _float(dtype)
    return tf.random.stateless_truncated_normal(_shape(shape), draw_seed(seed), mean=mean,
                                                stddev=stddev, dtype=dtype)  # fmt: skip


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of the uniform distribution on ``[minval, maxval)`` (a float dtype)."""
    if dtype and not is_float_dtype(dtype):
        raise ValueError(
            f"`keras.random.uniform` requires a floating point `dtype`. Received: dtype={dtype} "
        )
    dtype = _float(dtype)
    return tf.random.stateless_uniform(_shape(shape), draw_seed(seed),
                                       minval=tf.cast(minval, dtype),
                                       maxval=tf.cast(maxval, dtype), dtype=dtype)  # fmt: skip


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers drawn uniformly from ``[minval, maxval)``."""
    if dtype and not is_int_dtype(dtype):
        raise ValueError(
            f"`keras.random.randint` requires an integer `dtype`. Received: dtype={dtype} "
        )
    dtype = standardize_dtype(dtype)
    work = dtype if dtype in ("int32", "int64") else "int64"
    out = tf.random.stateless_uniform(_shape(shape), draw_seed(seed), minval=minval,
                                      maxval=maxval, dtype=work)  # fmt: skip
    return cast(out, dtype)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """``num_samples`` class indices per row of the 2-D ``logits`` (unnormalised log
    probabilities)."""
    logits = tensor(logits)
    if logits.shape.rank != 2:
        raise ValueError(
            "`logits` should be a 2-D tensor with shape [batch_size, num_classes]. Received: "
            f"logits={logits}"
        )
    out = tf.random.stateless_categorical(logits, num_samples, draw_seed(seed))
    return cast(out, dtype)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """``inputs`` with each element (or each slice broadcast along ``noise_shape``'s 1s)
    zeroed with probability ``rate``, the rest scaled by ``1 / (1 - rate)``."""
    x = tensor(inputs)
    if rate == 1.0:
        return tf.zeros_like(x)
    if rate == 0.0:
        return x
    if noise_shape is None:
        noise_shape = tf.shape(x)
    else:
        dyn = tf.shape(x)
        noise_shape = tf.stack([dyn[i] if d is None else tf.constant(d, "int32")
                                for i, d in enumerate(noise_shape)])  # fmt: skip
    noise = tf.random.stateless_uniform(noise_shape, draw_seed(seed), dtype=x.dtype)
    keep = noise >= tf.cast(rate, x.dtype)
    return tf.where(keep, x / tf.cast(1.0 - rate, x.dtype), tf.zeros_like(x))


def shuffle(x, axis=0, seed=None):
    """``x`` with its slices along ``axis`` in random order."""
    x = tensor(x)
    keys = tf.random.stateless_uniform([tf.shape(x)[axis]], draw_seed(seed))
    return tf.gather(x, tf.argsort(keys), axis=axis)


def gamma(shape, alpha, dtype=None, seed=None):
    """Samples of the Gamma(alpha, 1) distribution."""
    dtype = _float(dtype)
    work = "float32" if dtype == "bfloat16" else dtype
    out = tf.random.stateless_gamma(_shape(shape), draw_seed(seed), alpha=alpha, dtype=work)
    return cast(out, dtype)


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Samples of the Binomial(counts, probabilities) distribution (as floats unless
    ``dtype`` says otherwise)."""
    dtype = _float(dtype)
    work = "float32" if dtype == "bfloat16" else dtype
    counts = tensor(counts, "float32")
    probabilities = tensor(probabilities, "float32")
    out = tf.random.stateless_binomial(_shape(shape), draw_seed(seed), counts=counts,
                                       probs=probabilities, output_dtype=work)  # fmt: skip
    return cast(out, dtype)


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Samples of the Beta(alpha, beta) distribution (as a ratio of two gammas)."""
    dtype = _float(dtype)
    work = "float32" if dtype == "bfloat16" else dtype
    seed1 = draw_seed(seed)
    seed2 = seed1 + 12
    shape = _shape(shape)
    a, b = tensor(alpha, work), tensor(beta, work)
    if a.shape.rank or b.shape.rank:  # per-element parameters (scalars stay scalars)
        a, b = tf.broadcast_to(a, shape), tf.broadcast_to(b, shape)
    ga = cast(tf.random.stateless_gamma(shape, seed1, alpha=a, dtype=work), dtype)
    gb = cast(tf.random.stateless_gamma(shape, seed2, alpha=b, dtype=work), dtype)
    return ga / (ga + gb)
