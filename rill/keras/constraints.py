"""``tf.keras.constraints``: projections ``c(w) -> w'`` applied to weights after updates."""

import rill as tf

_EPSILON = 1e-7


def _tensor(w):
    w = tf.convert_to_tensor(w)
    if not w.dtype.is_floating:
        w = tf.cast(w, tf.float32)
    return w


def _norms(w, axis):
    return tf.sqrt(tf.reduce_sum(tf.square(w), axis=axis, keepdims=True))


class Constraint:
    """Base class: subclasses implement ``__call__(w)`` returning the projected weight."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} {self.get_config()}>"


class MaxNorm(Constraint):
    """Rescale slices along ``axis`` whose L2 norm exceeds ``max_value``."""

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        w = _tensor(w)
        norms = _norms(w, self.axis)
        desired = tf.clip_by_value(norms, 0.0, float(self.max_value))
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Move slice norms into ``[min_value, max_value]`` (a fraction ``rate`` of the way)."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        w = _tensor(w)
        norms = _norms(w, self.axis)
        clipped = tf.clip_by_value(norms, float(self.min_value), float(self.max_value))
        desired = self.rate * clipped + (1.0 - self.rate) * norms
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}  # fmt: skip


class NonNeg(Constraint):
    def __call__(self, w):
        return tf.maximum(_tensor(w), 0.0)


class UnitNorm(Constraint):
    """Slices along ``axis`` rescaled to unit L2 norm."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = _tensor(w)
        return w / (_EPSILON + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


# Keras 3 exports the lowercase names as aliases of the classes
max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm

_CLASSES = {c.__name__: c for c in (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)}
_ALIASES = {"max_norm": MaxNorm, "min_max_norm": MinMaxNorm, "non_neg": NonNeg,
            "unit_norm": UnitNorm}  # fmt: skip

_OBJECTS = {**_CLASSES, **_ALIASES}


def serialize(constraint):
    """A Keras 3 config dict for a constraint (``None`` stays ``None``)."""
    from rill.keras.saving import serialization_lib

    return serialization_lib.serialize_catalog(constraint, _OBJECTS, "constraint")


def deserialize(config, custom_objects=None):
    """Names resolve only through this module's table, ``custom_objects``, the
    custom-object scope and the registry (nothing named in a config is imported)."""
    from rill.keras.saving import serialization_lib

    return serialization_lib.deserialize_catalog(config, _OBJECTS, "constraint", custom_objects)


def get(identifier):
    """``None``, a name, a config dict, a class (instantiated) or a callable."""
    from rill.keras.saving import serialization_lib

    return serialization_lib.get_catalog(identifier, _OBJECTS, "constraint")
