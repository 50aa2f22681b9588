"""``tf.keras.regularizers``: weight penalties ``reg(x) -> scalar`` (Keras 3 API)."""

import math as _math

import rill as tf

_EPSILON = 1e-7


def _float_arg(value, name):
    if value is None or isinstance(value, bool):
        raise ValueError(f"`{name}` must be a finite number >= 0, got {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a finite number >= 0, got {value!r}") from None
    if not _math.isfinite(value) or value < 0:
        raise ValueError(f"`{name}` must be a finite number >= 0, got {value!r}")
    return value


def _tensor(x):
    x = tf.convert_to_tensor(x)
    if not x.dtype.is_floating:
        x = tf.cast(x, tf.float32)
    return x


class Regularizer:
    """Base class: subclasses implement ``__call__(x)`` returning a scalar penalty."""

    def __call__(self, x):
        return tf.constant(0.0, _tensor(x).dtype)

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement `get_config`.")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} {self.get_config()}>"


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _float_arg(0.0 if l1 is None else l1, "l1")
        self.l2 = _float_arg(0.0 if l2 is None else l2, "l2")

    def __call__(self, x):
        x = _tensor(x)
        penalty = tf.constant(0.0, x.dtype)
        if self.l1:
            penalty = penalty + self.l1 * tf.reduce_sum(tf.abs(x))
        if self.l2:
            penalty = penalty + self.l2 * tf.reduce_sum(tf.square(x))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    def __init__(self, l1=0.01):
        self.l1 = _float_arg(0.01 if l1 is None else l1, "l1")

    def __call__(self, x):
        return self.l1 * tf.reduce_sum(tf.abs(_tensor(x)))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    def __init__(self, l2=0.01):
        self.l2 = _float_arg(0.01 if l2 is None else l2, "l2")

    def __call__(self, x):
        return self.l2 * tf.reduce_sum(tf.square(_tensor(x)))

    def get_config(self):
        return {"l2": self.l2}


def _normalize(x, axis):
    inv = tf.math.rsqrt(tf.reduce_sum(tf.square(x), axis=axis, keepdims=True))
    return x * tf.minimum(inv, tf.constant(1.0 / _EPSILON, x.dtype))


class OrthogonalRegularizer(Regularizer):
    """Mean |cosine similarity| between distinct rows (or columns) of a 2D weight, times
    ``factor``/2: pushes the rows (columns) towards orthogonality."""

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _float_arg(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError(f"`mode` must be 'rows' or 'columns', got {mode!r}")
        self.mode = mode

    def __call__(self, x):
        x = _tensor(x)
        if x.shape.rank != 2:
            raise ValueError(f"OrthogonalRegularizer needs a rank-2 input, got shape {x.shape}")
        if self.mode == "rows":
            x = _normalize(x, 1)
            product = tf.matmul(x, x, transpose_b=True)
            size = x.shape[0]
        else:
            x = _normalize(x, 0)
            product = tf.matmul(x, x, transpose_a=True)
            size = x.shape[1]
        off_diag = product * (1.0 - tf.eye(size, dtype=x.dtype))
        pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * tf.reduce_sum(tf.abs(off_diag)) / pairs

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# Keras 3 exports the lowercase names as aliases of the classes
l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer


_CLASSES = {c.__name__: c for c in (Regularizer, L1, L2, L1L2, OrthogonalRegularizer)}
_ALIASES = {"l1": L1, "l2": L2, "l1l2": L1L2, "l1_l2": L1L2,
            "orthogonal_regularizer": OrthogonalRegularizer}  # fmt: skip

_OBJECTS = {**_CLASSES, **_ALIASES}


def serialize(regularizer):
    """A Keras 3 config dict for a regularizer (``None`` stays ``None``)."""
    from rill.keras.saving import serialization_lib

    return serialization_lib.serialize_catalog(regularizer, _OBJECTS, "regularizer")


def deserialize(config, custom_objects=None):
    """Names resolve only through this module's table, ``custom_objects``, the
    custom-object scope and the registry (nothing named in a config is imported)."""
    from rill.keras.saving import serialization_lib

    return serialization_lib.deserialize_catalog(config, _OBJECTS, "regularizer", custom_objects)


def get(identifier):
    """``None``, a name, a config dict, a class (instantiated) or a callable."""
    from rill.keras.saving import serialization_lib

    return serialization_lib.get_catalog(identifier, _OBJECTS, "regularizer")
