"""``LossScaleOptimizer``: dynamic loss scaling around another optimizer, for float16
training (Keras 3's rule).

The loss is multiplied by ``dynamic_scale`` before differentiating (``scale_loss``) so
small float16 gradients do not underflow; ``apply`` divides the gradients by it. A step
with a non-finite gradient is skipped and halves the scale; ``dynamic_growth_steps``
finite steps in a row double it.
"""

from __future__ import annotations

import rill as _tf
from rill.keras.optimizers._base import Optimizer, _dense

__all__ = ["LossScaleOptimizer"]

# the base arguments Keras used to write into this optimizer's config: accepted at their
# defaults when loading, refused otherwise (they belong on the inner optimizer)
_BASE_DEFAULTS = {
    "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
    "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
    "loss_scale_factor": None, "gradient_accumulation_steps": None,
}  # fmt: skip


class LossScaleOptimizer(Optimizer):
    """Wraps ``inner_optimizer`` with dynamic loss scaling: starts at ``initial_scale``,
    halves on a non-finite gradient (skipping that step), doubles after
    ``dynamic_growth_steps`` finite steps."""

    def __init__(
        self,
        inner_optimizer,
        initial_scale=2.0**15,
        dynamic_growth_steps=2000,
        name=None,
        **kwargs,
    ):
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                "`loss_scale_factor` directly on the `inner_optimizer`."
            )
        for arg, default in _BASE_DEFAULTS.items():
            if arg in kwargs and kwargs.pop(arg) != default:
                raise ValueError(
                    f"LossScaleOptimizer does not support `{arg}`. Instead, set `{arg}` on "
                    "the `inner_optimizer`."
                )
        if kwargs:
            raise ValueError(
                f"LossScaleOptimizer does not support arguments: `{'`, `'.join(kwargs)}`."
            )
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(
                "LossScaleOptimizer: `inner_optimizer` must be a keras Optimizer instance. "
                f"Received: inner_optimizer={inner_optimizer!r}"
            )
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        # the inner optimizer must not scale again
        self.inner_optimizer.loss_scale_factor = None

    def build(self, var_list):
        self.step_counter = self.add_variable((), initializer=0, dtype="int64", name="step_counter")
        self.dynamic_scale = self.add_variable(
            (), initializer=self.initial_scale, dtype="float32", name="dynamic_scale"
        )
        self.inner_optimizer.build(var_list)
        super().build(var_list)

    @property
    def variables(self):
        return self._variables[:] + self.inner_optimizer.variables

    @staticmethod
    def check_finite(grads):
        """A scalar bool: every gradient (``None`` skipped) is finite."""
        checks = [_tf.reduce_all(_tf.math.is_finite(g)) for g in grads if g is not None]
        if not checks:
            return _tf.constant(True)
        return _tf.reduce_all(_tf.stack(checks))

    def apply(self, grads, trainable_variables=None):
        """Unscale ``grads`` and apply them with the inner optimizer if all are finite;
        then update the loss scale."""
        if trainable_variables is not None:
            trainable_variables = list(trainable_variables)
        if not self.built:
            if trainable_variables is None:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already "
                    "be built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first."
                )
            self.build(trainable_variables)
            self.built = True
        grads = [None if g is None else _dense(g) for g in grads]
        finite = self.check_finite(grads)
        scale = self.dynamic_scale.read_value()
        unscaled = [None if g is None else g / _tf.cast(scale, g.dtype) for g in grads]
        if _tf.executing_eagerly():
            if bool(finite.numpy()):
                self.inner_optimizer.apply(unscaled, trainable_variables)
                if int(self.step_counter.numpy()) == self.dynamic_growth_steps - 1:
                    self.step_counter.assign(0)
                    self.dynamic_scale.assign(scale * 2.0)
                else:
                    self.step_counter.assign_add(1)
            else:
                self.step_counter.assign(0)
                self.dynamic_scale.assign(scale * 0.5)
            return
        # Traced: run the update, then keep or roll back its writes with `where` (a graph
        # `cond` branch cannot hold side effects), which gives the eager values.
        tvs = trainable_variables if trainable_variables is not None else self._trainable_variables
        state = [v for v in self.inner_optimizer.variables]
        state += [v for v in tvs if all(v is not s for s in state)]
        before = [v.read_value() for v in state]
        self.inner_optimizer.apply(unscaled, trainable_variables)
        for v, old in zip(state, before):
            v.assign(_tf.where(finite, v.read_value(), old))
        counter = self.step_counter.read_value()
        grow = _tf.logical_and(finite, _tf.equal(counter, self.dynamic_growth_steps - 1))
        zero = _tf.zeros_like(counter)
        self.step_counter.assign(_tf.where(finite, _tf.where(grow, zero, counter + 1), zero))
        self.dynamic_scale.assign(
            _tf.where(finite, _tf.where(grow, scale * 2.0, scale), scale * 0.5)
        )

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        self.inner_optimizer.learning_rate = learning_rate

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    def scale_loss(self, loss):
        """``loss`` times the current loss scale."""
        scale = self.dynamic_scale if self.built else self.initial_scale
        return _tf.multiply(loss, _tf.cast(scale, _tf.convert_to_tensor(loss).dtype))

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self):
        from rill.keras.saving import serialization_lib

        return {
            "name": self.name,
            "inner_optimizer": serialization_lib.serialize_keras_object(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from rill.keras import optimizers

        config = dict(config)
        inner = optimizers.deserialize(config.pop("inner_optimizer"), custom_objects)
        return cls(inner, **config)
