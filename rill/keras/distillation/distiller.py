"""``Distiller``: a Model whose loss mixes the student's task loss with distillation
losses against a frozen teacher."""

from __future__ import annotations

from rill.keras import metrics as metrics_module
from rill.keras import ops, tree
from rill.keras.distillation.distillation_loss import _to_loss_fn
from rill.keras.models import Model, Sequential
from rill.keras.saving import serialization_lib
from rill.keras.saving.object_registration import register_keras_serializable


def _check_shapes(a, b, context):
    if len(a) != len(b):
        raise ValueError(
            f"Teacher and student {context} shapes have different dimensions. "
            f"Teacher: {a}, Student: {b}."
        )
    for x, y in zip(a, b):
        if x is not None and y is not None and x != y:
            raise ValueError(
                f"Teacher and student {context} shapes are incompatible. Teacher: {a}, "
                f"Student: {b}. All dimensions must match."
            )


def _check_dtypes(a, b, context):
    if a != b:
        raise ValueError(
            f"Teacher and student {context} dtypes must match. Teacher: {a}, Student: {b}."
        )


def _symbolic(model, attr):
    return getattr(model, attr, None) if hasattr(model, attr) else None


@register_keras_serializable(package="keras.distillation")
class Distiller(Model):
    """Train ``student`` on ``student_loss_weight * task loss + (1 - student_loss_weight)
    * sum(weight_i * distillation_loss_i)``; the teacher is frozen."""

    def __init__(self, teacher, student, distillation_losses, distillation_loss_weights=None,
                 student_loss_weight=0.5, name="distiller", **kwargs):  # fmt: skip
        super().__init__(name=name, **kwargs)
        self._validate_models(teacher, student)
        self.teacher = teacher
        self.student = student
        if not isinstance(student_loss_weight, (int, float)):
            raise ValueError(
                f"student_loss_weight must be a number, got {type(student_loss_weight)}"
            )
        if not 0.0 <= student_loss_weight <= 1.0:
            raise ValueError(
                f"student_loss_weight must be between 0.0 and 1.0, got {student_loss_weight}"
            )
        self.student_loss_weight = student_loss_weight
        if distillation_losses is None:
            raise ValueError(
                "'distillation_losses' cannot be `None`. Provide a distillation loss "
                "(e.g., LogitsDistillation or FeatureDistillation) or a list of "
                "distillation losses."
            )
        if not isinstance(distillation_losses, (list, tuple)):
            self.distillation_losses = [distillation_losses]
            self.distillation_loss_weights = [1.0]
        else:
            self.distillation_losses = list(distillation_losses)
            if distillation_loss_weights is None:
                self.distillation_loss_weights = [1.0] * len(distillation_losses)
            elif len(distillation_loss_weights) != len(distillation_losses):
                raise ValueError(
                    f"Number of distillation_loss_weights ({len(distillation_loss_weights)}) "
                    f"must match number of distillation_losses ({len(distillation_losses)})"
                )
            else:
                self.distillation_loss_weights = list(distillation_loss_weights)
        for loss in self.distillation_losses:
            loss.validate_model_compatibility(teacher, student)
        self._make_feature_extractors()
        self.teacher.trainable = False
        self.student_loss_tracker = metrics_module.Mean(name="student_loss")
        self.distillation_loss_tracker = metrics_module.Mean(name="distillation_loss")
        self.total_loss_tracker = metrics_module.Mean(name="total_loss")

    # validation ---------------------------------------------------------------------------
    def _validate_models(self, teacher, student):
        for role, m in (("Teacher", teacher), ("Student", student)):
            if not isinstance(m, Model):
                raise ValueError(f"{role} must be a keras.Model, got {type(m)}")
        t_in, s_in = _symbolic(teacher, "inputs"), _symbolic(student, "inputs")
        if t_in is None or s_in is None:
            return  # subclassed models: nothing symbolic to compare
        tree.map_structure(lambda a, b: _check_shapes(a.shape, b.shape, "input"), t_in, s_in)
        t_out, s_out = _symbolic(teacher, "outputs"), _symbolic(student, "outputs")
        if t_out is not None and s_out is not None:
            tree.map_structure(lambda a, b: _check_shapes(a.shape, b.shape, "output"), t_out, s_out)
        tree.map_structure(lambda a, b: _check_dtypes(a.dtype, b.dtype, "input"), t_in, s_in)
        if t_out is not None and s_out is not None:
            tree.map_structure(lambda a, b: _check_dtypes(a.dtype, b.dtype, "output"), t_out, s_out)

    # features -----------------------------------------------------------------------------
    def _make_feature_extractors(self):
        def names(attr):
            out = []
            for loss in self.distillation_losses:
                n = getattr(loss, attr, None)
                if n and n not in out:
                    out.append(n)
            return out

        self._teacher_feature_extractor = self._feature_extractor(
            self.teacher, names("teacher_layer_name")
        )
        self._student_feature_extractor = self._feature_extractor(
            self.student, names("student_layer_name")
        )

    @staticmethod
    def _feature_extractor(model, layer_names):
        """A functional model returning the final output and each named layer's output."""
        if not layer_names:
            return None
        if getattr(model, "inputs", None) is None:
            raise ValueError(
                f"Cannot create feature extractor for {model.name}. The model has no "
                f"symbolic inputs attribute."
            )
        final = model.layers[-1].output if isinstance(model, Sequential) else model.output
        outputs = {"final_output": final}
        for n in layer_names:
            outputs[n] = model.get_layer(name=n).output
        return Model(inputs=model.inputs, outputs=outputs,
                     name=f"{model.name}_multi_feature_extractor")  # fmt: skip

    def _teacher_features(self, x):
        if self._teacher_feature_extractor is not None:
            return self._teacher_feature_extractor(x, training=False)
        return {"final_output": self.teacher(x, training=False)}

    def _student_features(self, x, y_pred):
        if self._student_feature_extractor is not None:
            return self._student_feature_extractor(x, training=True)
        return {"final_output": y_pred}

    @staticmethod
    def _pick(features, name):
        name = name or "final_output"
        if name not in features:
            raise ValueError(
                f"Layer '{name}' not found in extracted features. Available: "
                f"{list(features.keys())}"
            )
        return features[name]

    # training -----------------------------------------------------------------------------
    def compile(self, optimizer="adam", loss=None, metrics=None, **kwargs):
        """Compile with the student's task ``loss`` (required); distillation losses were
        given to the constructor."""
        if loss is None:
            raise ValueError("'loss' cannot be `None`.")
        self._student_loss = tree.map_structure(_to_loss_fn, loss)
        self._student_loss_for_serialization = loss
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            raise ValueError(f"metrics must be a list or tuple, got {type(metrics)}")
        super().compile(optimizer=optimizer, loss=None, metrics=metrics, **kwargs)

    def call(self, inputs, training=None, **kwargs):
        return self.student(inputs, training=training, **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if y_pred is None:
            y_pred = self(x, training=training)
        student_loss = 0.0
        if self.student_loss_weight > 0.0 and y is not None:
            values = tree.flatten(
                tree.map_structure(lambda fn, t, p: fn(t, p), self._student_loss, y, y_pred)
            )
            student_loss = ops.sum(ops.stack(values)) if len(values) > 1 else values[0]
            if len(getattr(student_loss, "shape", ())) > 0:
                student_loss = ops.mean(student_loss)
        distill = 0.0
        if self.student_loss_weight < 1.0:
            t_feats = self._teacher_features(x)
            s_feats = self._student_features(x, y_pred)
            for loss_fn, weight in zip(self.distillation_losses, self.distillation_loss_weights):
                if getattr(loss_fn, "teacher_layer_name", None) is not None:
                    try:
                        t_out = self._pick(t_feats, loss_fn.teacher_layer_name)
                        s_out = self._pick(s_feats, loss_fn.student_layer_name)
                    except ValueError as e:
                        raise RuntimeError(
                            f"Failed to extract features for {type(loss_fn).__name__} "
                            f"targeting teacher layer '{loss_fn.teacher_layer_name}' and "
                            f"student layer '{loss_fn.student_layer_name}'. Original "
                            f"error: {e}"
                        ) from e
                else:
                    t_out, s_out = t_feats["final_output"], y_pred
                loss_fn.validate_outputs(t_out, s_out)
                value = loss_fn.compute_loss(t_out, s_out)
                if len(getattr(value, "shape", ())) > 0:
                    raise ValueError(
                        f"Distillation loss {type(loss_fn).__name__} returned a non-scalar "
                        f"loss with shape {value.shape}. The compute_loss method must "
                        f"return a scalar tensor."
                    )
                distill = ops.add(distill, ops.multiply(weight, value))
        w = self.student_loss_weight
        total = ops.add(ops.multiply(w, student_loss), ops.multiply(1.0 - w, distill))
        self.student_loss_tracker.update_state(student_loss)
        self.distillation_loss_tracker.update_state(distill)
        self.total_loss_tracker.update_state(total)
        return total

    def reset_metrics(self):
        super().reset_metrics()
        for m in (self.student_loss_tracker, self.distillation_loss_tracker,
                  self.total_loss_tracker):  # fmt: skip
            m.reset_state()

    # config -------------------------------------------------------------------------------
    def get_config(self):
        ser = serialization_lib.serialize_keras_object
        return {
            "name": self.name,
            "trainable": self.trainable,
            "teacher": ser(self.teacher),
            "student": ser(self.student),
            "distillation_losses": [ser(d) for d in self.distillation_losses],
            "distillation_loss_weights": self.distillation_loss_weights,
            "student_loss_weight": self.student_loss_weight,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        de = serialization_lib.deserialize_keras_object
        config = dict(config)
        config["teacher"] = de(config["teacher"])
        config["student"] = de(config["student"])
        config["distillation_losses"] = [de(d) for d in config["distillation_losses"]]
        return cls(**config)
