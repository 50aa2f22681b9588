"""Distillation losses: how far a student's outputs (or features) are from a teacher's."""

from __future__ import annotations

from rill.keras import losses as losses_module
from rill.keras import ops, tree
from rill.keras.saving import serialization_lib
from rill.keras.saving.object_registration import register_keras_serializable


def _to_loss_fn(item):
    """A loss named by a string becomes the loss object; None and callables stay."""
    if item is None or not isinstance(item, str):
        return item
    fn = losses_module.get(item)
    if fn is None:
        raise ValueError(f"Unknown loss function: '{item}'.")
    return fn


def _check_some_loss(loss, message):
    if all(item is None for item in tree.flatten(loss)):
        raise ValueError(message)


class DistillationLoss:
    """Base class: ``compute_loss(teacher_outputs, student_outputs)`` returns a scalar."""

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        """The scalar loss between matching teacher and student outputs."""
        raise NotImplementedError("Subclasses must implement compute_loss")

    def validate_outputs(self, teacher_outputs, student_outputs):
        """Raise ValueError unless the two outputs have the same structure."""
        tree.assert_same_structure(teacher_outputs, student_outputs)

    def validate_model_compatibility(self, teacher, student):
        """Raise ValueError if this loss cannot be used with these models."""


@register_keras_serializable(package="keras.distillation")
class FeatureDistillation(DistillationLoss):
    """Match intermediate features (or final outputs) of the teacher with ``loss``."""

    def __init__(self, loss="mse", teacher_layer_name=None, student_layer_name=None):
        self.teacher_layer_name = teacher_layer_name
        self.student_layer_name = student_layer_name
        self.loss = tree.map_structure(_to_loss_fn, loss)
        _check_some_loss(
            self.loss,
            "The `loss` argument in `FeatureDistillation` must contain at least one "
            "non-`None` value.",
        )

    def validate_model_compatibility(self, teacher, student):
        if self.teacher_layer_name is not None or self.student_layer_name is not None:
            # features of a named layer need a graph of layers: a subclassed model has none
            which = [
                role for role, m in (("teacher", teacher), ("student", student))
                if getattr(m, "inputs", None) is None
            ]  # fmt: skip
            if which:
                raise ValueError(
                    f"FeatureDistillation with specific layer names requires Functional or "
                    f"Sequential models. The {' and '.join(which)} model(s) appear to be "
                    f"subclassed (no symbolic inputs/outputs). Either use "
                    f"Functional/Sequential models, or use FeatureDistillation without "
                    f"layer names (to distill final outputs only), or use "
                    f"LogitsDistillation instead."
                )
        for role, model, name in (("teacher", teacher, self.teacher_layer_name),
                                  ("student", student, self.student_layer_name)):  # fmt: skip
            if name is not None:
                try:
                    model.get_layer(name=name)
                except ValueError as e:
                    raise ValueError(f"In {role} model: {e}") from None

    def validate_outputs(self, teacher_outputs, student_outputs):
        super().validate_outputs(teacher_outputs, student_outputs)
        try:
            tree.assert_same_structure(self.loss, teacher_outputs)
        except (ValueError, TypeError) as e:
            raise ValueError(
                f"Loss structure mismatch. Loss structure: {self.loss}, Output "
                f"structure: {teacher_outputs}. Error: {e}"
            ) from None

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        def one(loss_fn, t, s):
            return 0.0 if loss_fn is None else ops.mean(loss_fn(t, s))

        values = tree.map_structure(one, self.loss, teacher_outputs, student_outputs)
        return ops.sum(ops.stack(tree.flatten(values)))

    def get_config(self):
        return {
            "loss": losses_module.serialize(self.loss),
            "teacher_layer_name": self.teacher_layer_name,
            "student_layer_name": self.student_layer_name,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["loss"] = losses_module.deserialize(config["loss"])
        return cls(**config)


@register_keras_serializable(package="keras.distillation")
class LogitsDistillation(DistillationLoss):
    """Match the teacher's logits softened by ``temperature`` (KL divergence of the
    softmaxes, scaled by temperature**2, by default)."""

    def __init__(self, temperature=3.0, loss="kl_divergence"):
        self.temperature = temperature
        self.loss = tree.map_structure(_to_loss_fn, loss)
        _check_some_loss(self.loss, "At least one loss must be non-`None`.")
        if not isinstance(temperature, (int, float)):
            raise ValueError(f"temperature must be a number, got {type(temperature)}")
        if temperature <= 0.0:
            raise ValueError("temperature must be positive.")

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        T = self.temperature
        t_scaled = tree.map_structure(lambda x: ops.divide(x, T), teacher_outputs)
        s_scaled = tree.map_structure(lambda x: ops.divide(x, T), student_outputs)

        def one(loss_fn, t, s):
            if loss_fn is None:
                return 0.0
            if isinstance(loss_fn, losses_module.KLDivergence):
                # KL between the softened distributions; T**2 keeps gradients' scale
                p_t, p_s = ops.softmax(t, axis=-1), ops.softmax(s, axis=-1)
                return ops.mean(loss_fn(p_t, p_s)) * (T**2)
            return ops.mean(loss_fn(t, s))

        values = tree.map_structure(one, self.loss, t_scaled, s_scaled)
        return ops.sum(ops.stack(tree.flatten(values)))

    def get_config(self):
        return {
            "temperature": self.temperature,
            "loss": serialization_lib.serialize_keras_object(self.loss),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["loss"] = losses_module.deserialize(config["loss"])
        return cls(**config)
