"""TF's own initializers at the top level: ``tf.zeros_initializer``,
``tf.ones_initializer``, ``tf.constant_initializer``, ``tf.random_uniform_initializer``
and ``tf.random_normal_initializer``. Each is called as ``init(shape, dtype)``."""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.core.convert import convert_to_tensor
from rill.ops import random_ops
from rill.ops._op import tf_export
from rill.ops.array_ops import reshape
from rill.ops.creation_ops import fill, ones, zeros


class Initializer:
    """Base: ``__call__(shape, dtype)`` gives a tensor; configs round-trip."""

    def __call__(self, shape, dtype=None, **kwargs):
        raise NotImplementedError  # each subclass defines it

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        config.pop("dtype", None)
        return cls(**config)


def _dtype(dtype, kinds: str, who: str) -> _d.DType:
    d = _d.float32 if dtype is None else _d.as_dtype(dtype)
    ok = (
        (d.is_floating and "f" in kinds)
        or (d.is_integer and "i" in kinds)
        or ((d.is_bool or d.is_complex or d.is_string) and "*" in kinds)
    )
    if not ok:
        raise ValueError(
            f"{who}: expected a {'floating' if kinds == 'f' else 'numeric'} dtype, got {d.name}"
        )
    return d


@tf_export("zeros_initializer")
class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=_d.float32, **kwargs):
        return zeros(shape, dtype=_dtype(dtype, "fi*", "zeros_initializer"))


@tf_export("ones_initializer")
class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=_d.float32, **kwargs):
        return ones(shape, dtype=_dtype(dtype, "fi*", "ones_initializer"))


@tf_export("constant_initializer")
class Constant(Initializer):
    """``value`` everywhere (a scalar), or ``value`` reshaped to the requested shape (it
    must have exactly that many elements)."""

    def __init__(self, value=0, support_partition=False):
        if not (
            np.isscalar(value)
            or isinstance(value, (list, tuple, np.ndarray))
            or hasattr(value, "numpy")
        ):
            raise TypeError(
                f"constant_initializer: invalid type for value: {type(value).__name__}; expected "
                f"a Python scalar, list or tuple of values, or a NumPy array"
            )
        self.value = value
        self.support_partition = support_partition

    def __call__(self, shape, dtype=None, **kwargs):
        v = convert_to_tensor(self.value, dtype=None if dtype is None else _d.as_dtype(dtype))
        shape = [int(s) for s in shape]
        n = int(np.prod(shape, dtype=np.int64))
        if v.shape.rank == 0:
            return fill(shape, v)
        if v.shape.num_elements() != n:
            raise TypeError(
                f"constant_initializer: eager initialization requires {n} values for shape "
                f"{shape}, got {v.shape.num_elements()}"
            )
        return reshape(v, shape)

    def get_config(self) -> dict:
        v = self.value.numpy() if hasattr(self.value, "numpy") else self.value
        return {"value": np.asarray(v).tolist() if not np.isscalar(v) else v}


@tf_export("random_uniform_initializer")
class RandomUniform(Initializer):
    """Uniform in ``[minval, maxval)``; with a ``seed``, the same values on every call."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=_d.float32, **kwargs):
        d = _dtype(dtype, "fi", "random_uniform_initializer")
        if self.seed is None:
            return random_ops.uniform(shape, self.minval, self.maxval, dtype=d)
        # a seeded initializer gives the same values on every call, as TF's (stateless)
        return random_ops.stateless_uniform(
            shape, [self.seed, 0], self.minval, self.maxval, dtype=d
        )

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


@tf_export("random_normal_initializer")
class RandomNormal(Initializer):
    """Normal with ``mean`` and ``stddev``; with a ``seed``, the same values on every call."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=_d.float32, **kwargs):
        d = _dtype(dtype, "f", "random_normal_initializer")
        if self.seed is None:
            return random_ops.normal(shape, self.mean, self.stddev, dtype=d)
        return random_ops.stateless_normal(shape, [self.seed, 0], self.mean, self.stddev, dtype=d)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}
