"""``MultiOptimizer`` and ``OptimizerMap``: different optimizers for different variables,
chosen by variable path (exact, or a regular expression) or by a callable."""

from __future__ import annotations

import re
from collections.abc import MutableMapping

from rill.keras.optimizers._base import Optimizer
from rill.keras.optimizers.loss_scale_optimizer import LossScaleOptimizer

__all__ = ["MultiOptimizer", "OptimizerMap"]


def _path(variable) -> str:
    return getattr(variable, "path", None) or str(variable.name).split(":")[0]


class OptimizerMap(MutableMapping):
    """Variable paths (or ``re.fullmatch`` patterns) to optimizers, with
    ``default_optimizer`` for the paths it does not name; called on a variable, the
    optimizer for its path."""

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(
                "default_optimizer must be a Keras Optimizer instance. Received: "
                f"{default_optimizer}"
            )
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"optimizer_map must be a dictionary. Received: {optimizer_map}")
        self._default_optimizer = default_optimizer
        self._optimizer_map = optimizer_map or {}

    @property
    def default_optimizer(self) -> Optimizer:
        return self._default_optimizer

    def __getitem__(self, key) -> Optimizer:
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matches = [p for p in self._optimizer_map if re.fullmatch(p, key)]
        if len(matches) > 1:
            raise ValueError(f"Multiple optimizers assigned to variable {key}.")
        if matches:
            return self._optimizer_map[matches[0]]
        return self._default_optimizer

    def __setitem__(self, key, optimizer):
        if key in self._optimizer_map:
            raise ValueError(
                f"'{key}' already exists in the OptimizerMap with value "
                f"{self._optimizer_map[key]}. Please make sure to not use duplicated keys."
            )
        if not isinstance(key, str):
            raise ValueError(f"key must be a string. Received: {key}")
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"optimizer must be a Keras Optimizer instance. Received: {optimizer}")
        if isinstance(optimizer, LossScaleOptimizer):
            raise ValueError("optimizer cannot be LossScaleOptimizer.")
        if isinstance(optimizer, MultiOptimizer):
            raise ValueError("optimizer cannot be MultiOptimizer.")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self) -> int:
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable) -> Optimizer:
        return self[_path(variable)]

    def get_config(self) -> dict:
        from rill.keras.saving import serialization_lib as sl

        return {
            "default_optimizer": sl.serialize_keras_object(self._default_optimizer),
            "optimizer_map": {
                k: sl.serialize_keras_object(v) for k, v in self._optimizer_map.items()
            },
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from rill.keras import optimizers

        default = optimizers.deserialize(config["default_optimizer"], custom_objects)
        mapping = {
            k: optimizers.deserialize(v, custom_objects)
            for k, v in (config.get("optimizer_map") or {}).items()
        }
        return cls(default, mapping)


class MultiOptimizer(Optimizer):
    """Delegates each variable to the optimizer ``optimizer_map`` (an ``OptimizerMap`` or
    a callable ``variable -> Optimizer``) picks for it; ``loss_scale_factor`` overrides
    the inner optimizers'."""

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        self._inner_optimizers = []
        candidates = list(optimizer_map.values()) if hasattr(optimizer_map, "values") else []
        default = getattr(optimizer_map, "default_optimizer", None)
        if default is not None:
            candidates.append(default)
        for opt in candidates:
            if all(opt is not o for o in self._inner_optimizers):
                opt.loss_scale_factor = loss_scale_factor
                self._inner_optimizers.append(opt)

    def _index(self, opt) -> int:
        return next(i for i, o in enumerate(self._inner_optimizers) if o is opt)

    def build(self, variables):
        if self.built:
            return
        variables = list(variables)
        self._var_to_optimizer_idx = {}
        groups = [[] for _ in self._inner_optimizers]
        for var in variables:
            opt = self._optimizer_map(var)
            if not isinstance(opt, Optimizer):
                raise ValueError(f"Optimizer for variable {var.name} is not an Optimizer instance.")
            if isinstance(opt, LossScaleOptimizer):
                raise ValueError("LossScaleOptimizer cannot be used inside an MultiOptimizer.")
            if isinstance(opt, MultiOptimizer):
                raise ValueError("MultiOptimizer cannot be used inside an MultiOptimizer.")
            if all(opt is not o for o in self._inner_optimizers):
                opt.loss_scale_factor = self.loss_scale_factor
                self._inner_optimizers.append(opt)
                groups.append([])
            idx = self._index(opt)
            self._var_to_optimizer_idx[id(var)] = idx
            groups[idx].append(var)
        for opt, group in zip(self._inner_optimizers, groups):
            if group:
                opt.build(group)
        super().build(variables)

    @property
    def optimizers(self) -> list:
        return self._inner_optimizers

    @property
    def variables(self) -> list:
        out = self._variables[:]
        for opt in self._inner_optimizers:
            out.extend(opt.variables)
        return out

    @property
    def learning_rate(self):
        raise AttributeError(
            "Learning rate cannot be accessed on a MultiOptimizer. Access the learning rate "
            "on the individual sub-optimizers instead."
        )

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError(
            "Learning rate cannot be set on a MultiOptimizer. Set the learning rate on the "
            "individual sub-optimizers instead."
        )

    @property
    def loss_scale_factor(self):
        return self.__dict__.get("_loss_scale_factor")

    @loss_scale_factor.setter
    def loss_scale_factor(self, value):
        self._loss_scale_factor = value
        for opt in self.__dict__.get("_inner_optimizers", ()):
            opt.loss_scale_factor = value

    def apply(self, grads, trainable_variables=None):
        """Hand each (gradient, variable) pair to its optimizer; one step of ``iterations``."""
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already "
                    "be built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first."
                )
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
            self.built = True
        if len(grads) != len(self._trainable_variables_indices):
            raise ValueError(
                "Gradients must match trainable variables one-to-one. Received "
                f"{len(grads)} gradients and {len(self._trainable_variables_indices)} variables."
            )
        groups = [[] for _ in self._inner_optimizers]
        for g, v in zip(grads, trainable_variables):
            groups[self._var_to_optimizer_idx[id(v)]].append((g, v))
        for opt, pairs in zip(self._inner_optimizers, groups):
            if pairs:
                sub_g, sub_v = zip(*pairs)
                opt.apply(list(sub_g), list(sub_v))
        self._iterations.assign_add(1)

    def finalize_variable_values(self, var_list):
        groups = [[] for _ in self._inner_optimizers]
        for v in var_list:
            groups[self._var_to_optimizer_idx[id(v)]].append(v)
        for opt, group in zip(self._inner_optimizers, groups):
            if group:
                opt.finalize_variable_values(group)

    def set_weights(self, weights):
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. "
                "Call `optimizer.build(trainable_variables)` first."
            )
        own = len(self._variables)
        for v, w in zip(self._variables, weights[:own]):
            v.assign(w)
        i = own
        for opt in self._inner_optimizers:
            n = len(opt.variables)
            if n:
                opt.set_weights(weights[i : i + n])
                i += n

    def get_config(self) -> dict:
        from rill.keras.saving import serialization_lib as sl

        return {
            "optimizer_map": sl.serialize_keras_object(self._optimizer_map),
            "loss_scale_factor": self.loss_scale_factor,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        om = config["optimizer_map"]
        if isinstance(om, dict) and om.get("class_name") == "OptimizerMap":
            config["optimizer_map"] = OptimizerMap.from_config(om["config"], custom_objects)
        return cls(**config)
