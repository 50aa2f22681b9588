"""Correlation and regression-fit metrics: ``pearson_correlation``,
``concordance_correlation`` (functions and ``MeanMetricWrapper`` classes) and
``R2Score`` (streaming sums per output)."""

from __future__ import annotations

import warnings

import rill as tf
from rill.keras.losses import squeeze_or_expand_to_same_rank
from rill.keras.metrics import EPSILON, MeanMetricWrapper, Metric, _cast

__all__ = ["pearson_correlation", "concordance_correlation", "PearsonCorrelation",
           "ConcordanceCorrelation", "R2Score"]  # fmt: skip


def _pair(y_true, y_pred):
    y_pred = tf.convert_to_tensor(y_pred)
    y_true = _cast(y_true, y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def _std(x, axis):
    return tf.sqrt(tf.reduce_mean(tf.square(x - tf.reduce_mean(x, axis, keepdims=True)), axis,
                                  keepdims=True))  # fmt: skip


def _var(x, axis):
    return tf.reduce_mean(tf.square(x - tf.reduce_mean(x, axis, keepdims=True)), axis,
                          keepdims=True)  # fmt: skip


def pearson_correlation(y_true: tf.Tensor, y_pred: tf.Tensor, axis: int = -1) -> tf.Tensor:
    """Pearson's correlation coefficient of ``y_true`` and ``y_pred`` along ``axis``."""
    y_true, y_pred = _pair(y_true, y_pred)
    t = y_true - tf.reduce_mean(y_true, axis=axis, keepdims=True)
    p = y_pred - tf.reduce_mean(y_pred, axis=axis, keepdims=True)
    t = t / _std(t, axis)
    p = p / _std(p, axis)
    return tf.reduce_mean(t * p, axis=axis)


def concordance_correlation(y_true: tf.Tensor, y_pred: tf.Tensor, axis: int = -1) -> tf.Tensor:
    """Lin's concordance correlation coefficient along ``axis``, as Keras 3 computes it."""
    y_true, y_pred = _pair(y_true, y_pred)
    mean_t = tf.reduce_mean(y_true, axis=axis, keepdims=True)
    mean_p = tf.reduce_mean(y_pred, axis=axis, keepdims=True)
    var_t = _var(y_true - mean_t, axis)
    var_p = _var(y_pred - mean_p, axis)
    # Keras 3.15 centres y_true on y_pred's mean in the covariance term; kept for equal values
    covar = (y_true - mean_p) * (y_pred - mean_p)
    norm = var_t + var_p + tf.square(mean_t - mean_p)
    return tf.reduce_mean(2.0 * covar / (norm + EPSILON), axis=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """The mean over batches of ``pearson_correlation``."""

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class ConcordanceCorrelation(MeanMetricWrapper):
    """The mean over batches of ``concordance_correlation``."""

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


class R2Score(Metric):
    """Coefficient of determination of (batch, outputs) predictions, per output or
    averaged, optionally adjusted for ``num_regressors``."""

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score",
                 dtype=None):  # fmt: skip
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in _AGGREGATIONS:
            raise ValueError(
                f"R2Score: invalid `class_aggregation`; expected one of {_AGGREGATIONS}, "
                f"received class_aggregation={class_aggregation!r}"
            )
        if num_regressors < 0:
            raise ValueError(f"R2Score: `num_regressors` must be >= 0, received {num_regressors}")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable(shape=(), name="num_samples")
        self._built = False

    def _build(self, true_shape, pred_shape):
        if len(pred_shape) != 2 or len(true_shape) != 2:
            raise ValueError(
                "R2Score expects 2D inputs with shape (batch_size, output_dim). Received "
                f"input shapes: y_pred.shape={pred_shape} and y_true.shape={true_shape}."
            )
        if pred_shape[-1] is None or true_shape[-1] is None:
            raise ValueError(
                "R2Score expects 2D inputs with shape (batch_size, output_dim), with "
                f"output_dim fully defined. Received input shapes: y_pred.shape={pred_shape} "
                f"and y_true.shape={true_shape}."
            )
        n = pred_shape[-1]
        self.squared_sum = self.add_variable(shape=[n], name="squared_sum")
        self.sum = self.add_variable(shape=[n], name="sum")
        self.total_mse = self.add_variable(shape=[n], name="residual")
        self.count = self.add_variable(shape=[n], name="count")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulate weighted sums of y, y**2 and squared residuals per output."""
        y_true = _cast(y_true, self.dtype)
        y_pred = _cast(y_pred, self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if not self._built:
            self._build(tuple(y_true.shape.as_list()), tuple(y_pred.shape.as_list()))
        w = _cast(1.0 if sample_weight is None else sample_weight, self.dtype)
        if w.shape.rank == 1:
            w = tf.expand_dims(w, 1)
        w = tf.broadcast_to(w, tf.shape(y_true))
        weighted = y_true * w
        self.sum.assign_add(tf.reduce_sum(weighted, axis=0))
        self.squared_sum.assign_add(tf.reduce_sum(y_true * weighted, axis=0))
        self.total_mse.assign_add(tf.reduce_sum(tf.square(y_true - y_pred) * w, axis=0))
        self.count.assign_add(tf.reduce_sum(w, axis=0))
        # Keras 3 counts elements (batch x outputs), and so does the adjusted score
        self.num_samples.assign_add(tf.cast(tf.size(y_true), self.dtype))

    def result(self):
        """R2 per output, or their plain or variance-weighted mean, maybe adjusted."""
        if not self._built:
            # nothing seen yet: Keras 3 has no per-output state either; report 0
            return tf.constant(0.0, self.dtype)
        mean = self.sum / self.count
        total = self.squared_sum - self.sum * mean
        raw = 1.0 - self.total_mse / total
        raw = tf.where(tf.math.is_inf(raw), tf.zeros_like(raw), raw)
        if self.class_aggregation == "uniform_average":
            score = tf.reduce_mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = tf.reduce_sum(total * raw) / tf.reduce_sum(total)
        else:
            score = raw
        if self.num_regressors != 0:
            n = float(self.num_samples.numpy())
            p = float(self.num_regressors)
            if p > n - 1:
                warnings.warn(
                    "R2Score: more independent predictors than data points in the adjusted "
                    "R2 score; falling back to the standard R2 score.",
                    stacklevel=2,
                )
            elif p == n - 1:
                warnings.warn(
                    "R2Score: division by zero in the adjusted R2 score; falling back to the "
                    "standard R2 score.",
                    stacklevel=2,
                )
            else:
                score = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
        return score

    def reset_state(self):
        for v in self.variables:
            v.assign(tf.zeros(v.shape, dtype=v.dtype))

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype,
                "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}  # fmt: skip
