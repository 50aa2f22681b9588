"""``keras.optimizers.schedules``: learning rates as a function of the optimizer step.

Every schedule is evaluated with rill ops, so it works on a Python int, an eager tensor, or
the optimizer's ``iterations`` variable read inside a traced ``rill.function`` step.
"""

from __future__ import annotations

import math

import rill as _tf
from rill.core import dtypes as _dtypes
from rill.core.convert import convert_to_tensor

__all__ = [
    "LearningRateSchedule",
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "CosineDecayRestarts",
    "serialize",
    "deserialize",
]


def _f32(x):
    """A float tensor for ``x``: Python numbers become float32, float tensors keep their dtype."""
    t = convert_to_tensor(x)
    if not t.dtype.is_floating:
        t = _tf.cast(t, _dtypes.float32)
    return t


def _check_decay_steps(decay_steps):
    if decay_steps <= 0:
        raise ValueError(f"Argument `decay_steps` must be > 0. Received: decay_steps={decay_steps}")


class LearningRateSchedule:
    """Base class: subclasses implement ``__call__(step)`` and ``get_config()``."""

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` "
            "in order to be serializable."
        )

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (floored if staircase)."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        decay_rate,
        staircase=False,
        name="ExponentialDecay",
    ):
        _check_decay_steps(decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        lr = _f32(self.initial_learning_rate)
        dt = lr.dtype
        p = _tf.cast(step, dt) / _tf.cast(self.decay_steps, dt)
        if self.staircase:
            p = _tf.math.floor(p)
        return lr * _tf.pow(_tf.cast(self.decay_rate, dt), p)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` up to ``boundaries[0]`` (inclusive), ``values[i]`` on
    ``(boundaries[i-1], boundaries[i]]``, and ``values[-1]`` after the last boundary."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}."
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        x = convert_to_tensor(step)
        values = [_f32(v) for v in self.values]
        result = values[-1]
        # walk from the last interval down so the first matching interval wins
        for b, v in zip(reversed(self.boundaries), reversed(values[:-1])):
            bt = _tf.cast(b, x.dtype)
            result = _tf.where(x <= bt, _tf.cast(v, values[0].dtype), result)
        return _tf.cast(result, values[0].dtype)

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate`` over
    ``decay_steps`` (restarting with a longer period when ``cycle``)."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        end_learning_rate=0.0001,
        power=1.0,
        cycle=False,
        name="PolynomialDecay",
    ):
        _check_decay_steps(decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        lr = _f32(self.initial_learning_rate)
        dt = lr.dtype
        end = _tf.cast(self.end_learning_rate, dt)
        power = _tf.cast(self.power, dt)
        s = _tf.cast(step, dt)
        steps = _tf.cast(self.decay_steps, dt)
        if self.cycle:
            mult = _tf.where(_tf.equal(s, 0.0), _tf.ones_like(s), _tf.math.ceil(s / steps))
            steps = steps * mult
        else:
            s = _tf.minimum(s, steps)
        frac = s / steps
        return (lr - end) * _tf.pow(1.0 - frac, power) + end

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (floored if staircase)."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        decay_rate,
        staircase=False,
        name="InverseTimeDecay",
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        lr = _f32(self.initial_learning_rate)
        dt = lr.dtype
        p = _tf.cast(step, dt) / _tf.cast(self.decay_steps, dt)
        if self.staircase:
            p = _tf.math.floor(p)
        return lr / (1.0 + _tf.cast(self.decay_rate, dt) * p)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


def _cosine(step, decay_steps, lr, alpha):
    frac = step / decay_steps
    cos = 0.5 * (1.0 + _tf.math.cos(math.pi * frac))
    return ((1.0 - alpha) * cos + alpha) * lr


class CosineDecay(LearningRateSchedule):
    """Cosine decay over ``decay_steps`` to ``alpha * lr``, after an optional linear warmup
    from ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        alpha=0.0,
        name="CosineDecay",
        warmup_target=None,
        warmup_steps=0,
    ):
        _check_decay_steps(decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        lr = _f32(self.initial_learning_rate)
        dt = lr.dtype
        steps = _tf.cast(self.decay_steps, dt)
        alpha = _tf.cast(self.alpha, dt)
        s = _tf.cast(step, dt)
        if self.warmup_target is None:
            return _cosine(_tf.minimum(s, steps), steps, lr, alpha)
        target = _tf.cast(self.warmup_target, dt)
        warm = _tf.cast(self.warmup_steps, dt)
        s = _tf.minimum(s, steps + warm)
        # the division is guarded so warmup_steps=0 gives no nan in the unused branch
        safe_warm = _tf.maximum(warm, _tf.ones_like(warm))
        warming = lr + (s / safe_warm) * (target - lr)
        decayed = _cosine(s - warm, steps, target, alpha)
        return _tf.where(s < warm, warming, decayed)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """SGDR: cosine decay restarting every period, the period growing by ``t_mul`` and the
    peak shrinking by ``m_mul`` at each restart."""

    def __init__(
        self,
        initial_learning_rate,
        first_decay_steps,
        t_mul=2.0,
        m_mul=1.0,
        alpha=0.0,
        name="SGDRDecay",
    ):
        if first_decay_steps <= 0:
            raise ValueError(
                "Argument `first_decay_steps` must be > 0. "
                f"Received: first_decay_steps={first_decay_steps}"
            )
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        lr = _f32(self.initial_learning_rate)
        dt = lr.dtype
        first = _tf.cast(self.first_decay_steps, dt)
        alpha = _tf.cast(self.alpha, dt)
        t_mul = _tf.cast(self._t_mul, dt)
        m_mul = _tf.cast(self._m_mul, dt)
        frac = _tf.cast(step, dt) / first
        if self._t_mul == 1.0:
            i = _tf.math.floor(frac)
            frac = frac - i
        else:
            i = _tf.math.floor(_tf.math.log(1.0 - frac * (1.0 - t_mul)) / _tf.math.log(t_mul))
            done = (1.0 - _tf.pow(t_mul, i)) / (1.0 - t_mul)
            frac = (frac - done) / _tf.pow(t_mul, i)
        m_fac = _tf.pow(m_mul, i)
        cos = 0.5 * m_fac * (1.0 + _tf.math.cos(math.pi * frac))
        return lr * ((1.0 - alpha) * cos + alpha)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


_SCHEDULES = {
    c.__name__: c
    for c in (
        LearningRateSchedule,
        ExponentialDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        InverseTimeDecay,
        CosineDecay,
        CosineDecayRestarts,
    )
}


# the names `deserialize` resolves (the abstract base is not one)
_OBJECTS = {k: v for k, v in _SCHEDULES.items() if k != "LearningRateSchedule"}


def serialize(learning_rate_schedule):
    """``{"module", "class_name", "config", "registered_name"}`` for a schedule."""
    from rill.keras.saving import serialization_lib

    if not isinstance(learning_rate_schedule, LearningRateSchedule):
        raise TypeError(
            "serialize() expects a LearningRateSchedule instance. "
            f"Received: {learning_rate_schedule!r} of type {type(learning_rate_schedule).__name__}."
        )
    return serialization_lib.serialize_keras_object(learning_rate_schedule)


def deserialize(config, custom_objects=None):
    """Rebuild a schedule from ``serialize``'s dict, resolving the class name only through
    this module's table and custom/registered objects (no module named in a config is
    imported)."""
    from rill.keras.saving import serialization_lib

    if isinstance(config, LearningRateSchedule):
        return config
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "Could not deserialize a learning rate schedule from "
            f"{config!r}: expected a dict with 'class_name' and 'config'."
        )
    return serialization_lib.deserialize_catalog(
        config, _OBJECTS, "learning rate schedule", custom_objects
    )
