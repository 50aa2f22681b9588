"""``tf.keras.metrics``: Keras 3's streaming metrics on rill.

Every metric keeps its state in non-trainable ``rill.Variable`` objects made with
``add_variable``/``add_weight`` and updates them with rill ops through ``assign`` and
``assign_add``, so ``update_state`` works eagerly and inside ``rill.function`` alike.
"""

from __future__ import annotations

import re

import numpy as np

import rill as tf
from rill.keras.losses import (  # the per-sample formulas are the losses'
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
    squeeze_or_expand_to_same_rank,
)

EPSILON = 1e-7
NEG_INF = -1e10

__all__ = [
    "Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy",
    "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy", "MeanSquaredError", "RootMeanSquaredError",
    "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
    "CosineSimilarity", "LogCoshError", "BinaryCrossentropy", "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy", "KLDivergence", "Poisson", "Hinge", "SquaredHinge",
    "CategoricalHinge", "TruePositives", "TrueNegatives", "FalsePositives", "FalseNegatives",
    "Precision", "Recall", "AUC", "PrecisionAtRecall", "RecallAtPrecision",
    "SensitivityAtSpecificity", "SpecificityAtSensitivity", "MeanIoU", "FBetaScore",
    "F1Score", "IoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU", "R2Score",
    "PearsonCorrelation", "ConcordanceCorrelation", "pearson_correlation",
    "concordance_correlation", "binary_focal_crossentropy", "categorical_focal_crossentropy",
    "huber", "logcosh", "get", "serialize", "deserialize",
]  # fmt: skip


# --------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------
def _dtype_name(dtype):
    if dtype is None:
        return "float32"
    return tf.as_dtype(dtype).name


def _cast(x, dtype):
    if isinstance(x, tf.Variable):
        x = x.read_value()
    t = tf.convert_to_tensor(x)
    if t.dtype != tf.as_dtype(dtype):
        t = tf.cast(t, dtype)
    return t


def _rank(x):
    return x.shape.rank


def _to_snake(name):
    s = re.sub(r"\W+", "", name)
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", s)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


_UIDS: dict[str, int] = {}


def _auto_name(cls_name):
    base = _to_snake(cls_name)
    n = _UIDS.get(base, 0)
    _UIDS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def _make_initial(initializer, shape, dtype):
    shape = tuple(int(s) for s in shape)
    if initializer is None or initializer == "zeros":
        return np.zeros(shape, dtype=dtype)
    if initializer == "ones":
        return np.ones(shape, dtype=dtype)
    if isinstance(initializer, (int, float, np.ndarray, list, tuple)):
        return np.broadcast_to(np.asarray(initializer, dtype=dtype), shape).copy()
    if isinstance(initializer, str) or isinstance(initializer, dict):
        from rill.keras import initializers as _init  # resolved lazily (optional module)

        initializer = _init.get(initializer)
    if callable(initializer):
        return _cast(initializer(shape, dtype=dtype), dtype)
    raise ValueError(
        f"Could not interpret initializer {initializer!r}: use 'zeros', 'ones', a number, "
        "or a callable (shape, dtype) -> value."
    )


# --------------------------------------------------------------------------------------
# Metric base
# --------------------------------------------------------------------------------------
class Metric:
    """Base class for streaming metrics: state in variables, ``update_state`` to
    accumulate, ``result`` to read, ``reset_state`` to clear."""

    def __init__(self, dtype=None, name=None):
        if isinstance(dtype, str) and name is None and not _is_dtype_name(dtype):
            dtype, name = None, dtype  # tolerate Metric("name") positional use
        self.name = name or _auto_name(type(self).__name__)
        self._dtype = _dtype_name(dtype)
        self._variables = []
        self._initial_values = []

    # state ------------------------------------------------------------------------
    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None):
        if not hasattr(self, "_variables"):
            raise RuntimeError(
                "You forgot to call `super().__init__()` in the `__init__()` method of "
                f"{type(self).__name__}."
            )
        dtype = _dtype_name(dtype or self._dtype)
        shape = () if shape is None else tuple(shape)
        init = _make_initial(initializer, shape, dtype)
        var = tf.Variable(
            init,
            trainable=False,
            dtype=dtype,
            name=name or "variable",
            synchronization=tf.VariableSynchronization.ON_READ,
            aggregation=_AGG.get(aggregation, tf.VariableAggregation.SUM),
        )
        self._variables.append(var)
        self._initial_values.append(np.array(var.numpy()))
        return var

    def add_weight(self, name=None, shape=(), initializer="zeros", dtype=None, aggregation="sum"):
        """Keras 2 style alias of ``add_variable`` (``name`` may come first)."""
        if name is not None and not isinstance(name, str):  # Keras 3 order: shape first
            name, shape = None, name
        return self.add_variable(
            shape=shape, initializer=initializer, dtype=dtype, aggregation=aggregation, name=name
        )

    @property
    def variables(self):
        out = list(self._variables)
        for v in self.__dict__.values():
            if isinstance(v, Metric) and v is not self:
                out.extend(v.variables)
        return out

    weights = variables

    @property
    def trainable_weights(self):
        return []

    @property
    def non_trainable_weights(self):
        return self.variables

    @property
    def dtype(self):
        return self._dtype

    # protocol ---------------------------------------------------------------------
    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement update_state().")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must implement result().")

    def reset_state(self):
        for v, init in zip(self._variables, self._initial_values):
            v.assign(init)
        for v in self.__dict__.values():
            if isinstance(v, Metric) and v is not self:
                v.reset_state()

    reset_states = reset_state

    def __call__(self, *args, **kwargs):
        if not hasattr(self, "_variables"):
            raise RuntimeError(
                "You forgot to call `super().__init__()` in the `__init__()` method of "
                f"{type(self).__name__}."
            )
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"

    __str__ = __repr__


_AGG = {
    "sum": tf.VariableAggregation.SUM,
    "mean": tf.VariableAggregation.MEAN,
    "none": tf.VariableAggregation.NONE,
    None: tf.VariableAggregation.NONE,
    "only_first_replica": tf.VariableAggregation.ONLY_FIRST_REPLICA,
}


def _is_dtype_name(s):
    try:
        tf.as_dtype(s)
        return True
    except Exception:  # noqa: BLE001
        return False


# --------------------------------------------------------------------------------------
# Reduction metrics
# --------------------------------------------------------------------------------------
def _samplewise(values, sample_weight, reduce_fn, dtype):
    """Reduce ``values`` to one value per sample (weighted), Keras' rule."""
    values = _cast(values, dtype)
    if sample_weight is not None:
        sample_weight = _cast(sample_weight, dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        w_nd, v_nd = _rank(sample_weight), _rank(values)
        if v_nd > w_nd:
            values = reduce_fn(values, axis=list(range(w_nd, v_nd)))
        sample_weight = tf.broadcast_to(sample_weight, tf.shape(values))
        values = values * sample_weight
        if w_nd > 1:
            sample_weight = reduce_fn(sample_weight, axis=list(range(1, w_nd)))
    if _rank(values) > 1:
        values = reduce_fn(values, axis=list(range(1, _rank(values))))
    return values, sample_weight


class Sum(Metric):
    """Weighted sum of the given values."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = _samplewise(values, sample_weight, tf.reduce_sum, self.dtype)
        self.total.assign_add(tf.reduce_sum(values))

    def result(self):
        return tf.identity(self.total)


class Mean(Metric):
    """Weighted mean of the given values."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, values, sample_weight=None):
        values, sample_weight = _samplewise(values, sample_weight, tf.reduce_mean, self.dtype)
        self.total.assign_add(tf.reduce_sum(values))
        if sample_weight is not None:
            n = tf.reduce_sum(sample_weight)
        elif _rank(values) >= 1:
            n = tf.cast(tf.shape(values)[0], self.dtype)
        else:
            n = tf.constant(1.0, self.dtype)
        self.count.assign_add(n)

    def result(self):
        return tf.math.divide_no_nan(self.total.read_value(), self.count.read_value())


class MeanMetricWrapper(Mean):
    """Averages the per-sample values of ``fn(y_true, y_pred, **kwargs)`` over batches."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if isinstance(fn, str):
            fn = _FUNCTIONS.get(fn) or fn
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper needs a callable fn; received {fn!r}.")
        super().__init__(
            name=name or getattr(fn, "__name__", None) or "mean_metric_wrapper", dtype=dtype
        )
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        return super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        base = {"name": self.name, "dtype": self.dtype}
        if type(self) is MeanMetricWrapper:
            base["fn"] = _serialize_fn(self._fn)
        return {**base, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if cls is MeanMetricWrapper and "fn" in config:
            config["fn"] = _deserialize_fn(config["fn"])
        return cls(**config)


def _serialize_fn(fn):
    name = getattr(fn, "__name__", None)
    if name in _FUNCTIONS and _FUNCTIONS[name] is fn:
        return name
    return fn


def _deserialize_fn(fn):
    if isinstance(fn, str):
        if fn not in _FUNCTIONS:
            raise ValueError(f"Unknown metric function {fn!r}; known: {sorted(_FUNCTIONS)}.")
        return _FUNCTIONS[fn]
    return fn


# --------------------------------------------------------------------------------------
# per-sample functions
# --------------------------------------------------------------------------------------
def _prep(y_true, y_pred):
    y_pred = tf.convert_to_tensor(y_pred)
    if not y_pred.dtype.is_floating:
        y_pred = tf.cast(y_pred, "float32")
    y_true = _cast(y_true, y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def accuracy(y_true, y_pred):
    y_pred = tf.convert_to_tensor(y_pred)
    y_true = _cast(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return tf.cast(tf.equal(y_true, y_pred), "float32")


def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_pred = tf.convert_to_tensor(y_pred)
    y_true = _cast(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = tf.cast(y_pred > tf.cast(threshold, y_pred.dtype), y_true.dtype)
    return tf.cast(tf.equal(y_true, y_pred), "float32")


def _argmax_match(y_true_ids, y_pred):
    """Matches of integer class ids against argmax(y_pred), keeping y_true's shape."""
    org_shape = tf.shape(y_true_ids)
    squeezed = False
    if _rank(y_true_ids) == _rank(y_pred) and y_true_ids.shape[-1] == 1:
        y_true_ids = tf.squeeze(y_true_ids, -1)
        squeezed = True
    pred_ids = tf.cast(tf.argmax(y_pred, axis=-1), y_true_ids.dtype)
    m = tf.cast(tf.equal(y_true_ids, pred_ids), "float32")
    if squeezed:
        m = tf.reshape(m, org_shape)
    return m


def categorical_accuracy(y_true, y_pred):
    y_pred = tf.convert_to_tensor(y_pred)
    ids = tf.cast(tf.argmax(tf.convert_to_tensor(y_true), axis=-1), y_pred.dtype)
    pred_ids = tf.cast(tf.argmax(y_pred, axis=-1), y_pred.dtype)
    return tf.cast(tf.equal(ids, pred_ids), "float32")


def sparse_categorical_accuracy(y_true, y_pred):
    y_pred = tf.convert_to_tensor(y_pred)
    y_true = _cast(y_true, y_pred.dtype)
    m = _argmax_match(y_true, y_pred)
    if _rank(m) > 1 and m.shape[-1] == 1:
        m = tf.squeeze(m, -1)
    return m


def _in_top_k(ids, y_pred, k):
    org_rank, org_shape = _rank(ids), tf.shape(ids)
    if _rank(y_pred) > 2:
        y_pred = tf.reshape(y_pred, [-1, y_pred.shape[-1]])
    if _rank(ids) > 1:
        ids = tf.reshape(ids, [-1])
    m = tf.cast(tf.math.in_top_k(tf.cast(ids, "int32"), y_pred, k), "float32")
    if org_rank > 1:
        m = tf.reshape(m, org_shape)
    return m


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    y_pred = tf.convert_to_tensor(y_pred)
    ids = tf.argmax(_cast(y_true, y_pred.dtype), axis=-1)
    return _in_top_k(ids, y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """Whether the integer label is among the top ``k`` predictions; with
    ``from_sorted_ids``, ``y_pred`` already holds class ids, best first."""
    y_pred = tf.convert_to_tensor(y_pred)
    ids = _cast(y_true, "int32")
    if not from_sorted_ids:
        return _in_top_k(ids, y_pred, k)
    top = _cast(y_pred[..., :k], "int32")
    ids = tf.reshape(ids, tf.shape(top)[:-1])
    return tf.cast(tf.reduce_any(tf.equal(top, tf.expand_dims(ids, -1)), axis=-1), "float32")


def _l2_normalize(x, axis):
    sq = tf.reduce_sum(tf.square(x), axis=axis, keepdims=True)
    return x * tf.math.rsqrt(tf.maximum(sq, 1e-12))


def cosine_similarity(y_true, y_pred, axis=-1):
    y_true, y_pred = _prep(y_true, y_pred)
    return tf.reduce_sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh

_FUNCTIONS = {
    f.__name__: f
    for f in (
        accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
        top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, mean_squared_error,
        mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
        cosine_similarity, log_cosh, binary_crossentropy, categorical_crossentropy,
        sparse_categorical_crossentropy, kl_divergence, poisson, hinge, squared_hinge,
        categorical_hinge, binary_focal_crossentropy, categorical_focal_crossentropy, huber,
    )
}  # fmt: skip


# --------------------------------------------------------------------------------------
# MeanMetricWrapper subclasses
# --------------------------------------------------------------------------------------
def _wrapper(cls_name, fn, default_name, params=(), doc=""):
    """Build a MeanMetricWrapper subclass with keyword parameters ``params``
    (``(name, default)`` pairs) forwarded to ``fn`` and listed in ``get_config``."""
    params = tuple(params)

    def __init__(self, name=default_name, dtype=None, **kwargs):
        unknown = set(kwargs) - {p for p, _ in params}
        if unknown:
            raise TypeError(f"{cls_name}: unexpected arguments {sorted(unknown)}.")
        fn_kwargs = {p: kwargs.get(p, d) for p, d in params}
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **fn_kwargs)
        for p in fn_kwargs:
            setattr(self, p, fn_kwargs[p])

    cls = type(cls_name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": doc})
    cls.__module__ = __name__
    return cls


Accuracy = _wrapper("Accuracy", accuracy, "accuracy", doc="How often predictions equal labels.")
BinaryAccuracy = _wrapper(
    "BinaryAccuracy", binary_accuracy, "binary_accuracy", [("threshold", 0.5)],
    "How often thresholded predictions match binary labels.",
)  # fmt: skip
CategoricalAccuracy = _wrapper(
    "CategoricalAccuracy", categorical_accuracy, "categorical_accuracy",
    doc="How often argmax(y_pred) equals argmax(one-hot y_true).",
)  # fmt: skip
SparseCategoricalAccuracy = _wrapper(
    "SparseCategoricalAccuracy", sparse_categorical_accuracy, "sparse_categorical_accuracy",
    doc="How often argmax(y_pred) equals the integer label.",
)  # fmt: skip


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is in the top k predictions."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer target is in the top k predictions (or, with
    ``from_sorted_ids``, among the first k of the predicted ids)."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):  # fmt: skip
        super().__init__(
            sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
            from_sorted_ids=from_sorted_ids,
        )  # fmt: skip
        self.k, self.from_sorted_ids = k, from_sorted_ids


MeanSquaredError = _wrapper("MeanSquaredError", mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _wrapper("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error")
MeanAbsolutePercentageError = _wrapper(
    "MeanAbsolutePercentageError", mean_absolute_percentage_error,
    "mean_absolute_percentage_error",
)  # fmt: skip
MeanSquaredLogarithmicError = _wrapper(
    "MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error",
)  # fmt: skip
CosineSimilarity = _wrapper(
    "CosineSimilarity", cosine_similarity, "cosine_similarity", [("axis", -1)]
)
LogCoshError = _wrapper("LogCoshError", log_cosh, "logcosh")
BinaryCrossentropy = _wrapper(
    "BinaryCrossentropy", binary_crossentropy, "binary_crossentropy",
    [("from_logits", False), ("label_smoothing", 0.0)],
)  # fmt: skip
CategoricalCrossentropy = _wrapper(
    "CategoricalCrossentropy", categorical_crossentropy, "categorical_crossentropy",
    [("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)],
)  # fmt: skip
SparseCategoricalCrossentropy = _wrapper(
    "SparseCategoricalCrossentropy", sparse_categorical_crossentropy,
    "sparse_categorical_crossentropy",
    [("from_logits", False), ("ignore_class", None), ("axis", -1)],
)  # fmt: skip
KLDivergence = _wrapper("KLDivergence", kl_divergence, "kl_divergence")
Poisson = _wrapper("Poisson", poisson, "poisson")
Hinge = _wrapper("Hinge", hinge, "hinge")
SquaredHinge = _wrapper("SquaredHinge", squared_hinge, "squared_hinge")
CategoricalHinge = _wrapper("CategoricalHinge", categorical_hinge, "categorical_hinge")


class RootMeanSquaredError(Mean):
    """Square root of the (weighted) mean squared error."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _prep(y_true, y_pred)
        return super().update_state(tf.square(y_true - y_pred), sample_weight=sample_weight)

    def result(self):
        return tf.sqrt(super().result())


# --------------------------------------------------------------------------------------
# Confusion-matrix metrics
# --------------------------------------------------------------------------------------
def _as_list(x):
    return list(x) if isinstance(x, (list, tuple, np.ndarray)) else [x]


def _check_thresholds(thresholds):
    for t in _as_list(thresholds):
        if t is None or not (0.0 <= float(t) <= 1.0):
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {thresholds}")


def _parse_thresholds(thresholds, default):
    if thresholds is not None:
        _check_thresholds(thresholds)
    return [float(t) for t in _as_list(default if thresholds is None else thresholds)]


def _filter_top_k(x, k):
    _, idx = tf.math.top_k(x, k)
    mask = tf.reduce_sum(tf.one_hot(idx, x.shape[-1], dtype=x.dtype), axis=-2)
    return x * mask + NEG_INF * (1.0 - mask)


def _confusion_counts(
    y_true, y_pred, thresholds, sample_weight, dtype, top_k=None, class_id=None,
    multi_label=False, label_weights=None,
):  # fmt: skip
    """Weighted (tp, fp, tn, fn) per threshold: shape [T], or [T, labels] if multi_label.
    A prediction counts as positive at threshold t when it is > t."""
    y_true = _cast(y_true, dtype)
    y_pred = _cast(y_pred, dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = tf.expand_dims(_cast(sample_weight, dtype), -1)
        _, sample_weight = squeeze_or_expand_to_same_rank(
            y_true, sample_weight, expand_rank_1=False
        )
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if _rank(y_pred) == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes); received shape {y_pred.shape}."
            )
        y_true = y_true[..., class_id : class_id + 1]
        y_pred = y_pred[..., class_id : class_id + 1]
    th = tf.constant(np.asarray(thresholds, dtype=dtype))
    labels = tf.cast(y_true, "bool")  # non-zero labels are positives
    if sample_weight is not None:
        w = tf.broadcast_to(sample_weight, tf.shape(y_pred))
    else:
        w = tf.ones_like(y_pred)
    if label_weights is not None and not multi_label:
        w = w * _cast(label_weights, dtype)
    if multi_label:
        # [N, L] -> compare at [T, N, L], sum over N
        pred = tf.reshape(y_pred, [-1, y_pred.shape[-1]])
        lab = tf.reshape(labels, [-1, y_pred.shape[-1]])
        w = tf.reshape(w, [-1, y_pred.shape[-1]])
        above = tf.expand_dims(pred, 0) > tf.reshape(th, [-1, 1, 1])
        lab = tf.expand_dims(lab, 0)
        w = tf.expand_dims(w, 0)
        axis = 1
    else:
        pred = tf.reshape(y_pred, [-1])
        lab = tf.expand_dims(tf.reshape(labels, [-1]), 0)
        w = tf.expand_dims(tf.reshape(w, [-1]), 0)
        above = tf.expand_dims(pred, 0) > tf.reshape(th, [-1, 1])
        axis = 1
    zero = tf.zeros_like(w * tf.cast(above, dtype))
    nlab, nabove = tf.logical_not(lab), tf.logical_not(above)

    def count(cond):
        return tf.reduce_sum(tf.where(cond, w + zero, zero), axis=axis)

    return (
        count(tf.logical_and(lab, above)),
        count(tf.logical_and(nlab, above)),
        count(tf.logical_and(nlab, nabove)),
        count(tf.logical_and(lab, nabove)),
    )


class _ConfusionMatrixConditionCount(Metric):
    _which = 0  # index into (tp, fp, tn, fn)

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = _parse_thresholds(thresholds, 0.5)
        self.accumulator = self.add_variable(
            shape=(len(self.thresholds),), initializer="zeros", name="accumulator"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = _confusion_counts(y_true, y_pred, self.thresholds, sample_weight, self.dtype)
        self.accumulator.assign_add(counts[self._which])

    def result(self):
        v = self.accumulator.read_value()
        return v[0] if len(self.thresholds) == 1 else v

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """Weighted count of true positives (per threshold)."""

    _which = 0


class FalsePositives(_ConfusionMatrixConditionCount):
    """Weighted count of false positives (per threshold)."""

    _which = 1


class TrueNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of true negatives (per threshold)."""

    _which = 2


class FalseNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of false negatives (per threshold)."""

    _which = 3


class _PrecisionRecall(Metric):
    # The error count the subclass divides by, besides true_positives: Keras 3 creates
    # exactly these two variables (so checkpoints and weight lists match).
    _errors = "false_positives"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        self.thresholds = _parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        if thresholds is None and top_k is not None:
            self.thresholds = [NEG_INF]
        n = len(self.thresholds)
        self.true_positives = self.add_variable((n,), "zeros", name="true_positives")
        setattr(self, self._errors, self.add_variable((n,), "zeros", name=self._errors))

    def update_state(self, y_true, y_pred, sample_weight=None):
        tp, fp, _, fn = _confusion_counts(
            y_true, y_pred, self.thresholds, sample_weight, self.dtype,
            top_k=self.top_k, class_id=self.class_id,
        )  # fmt: skip
        self.true_positives.assign_add(tp)
        getattr(self, self._errors).assign_add(fp if self._errors == "false_positives" else fn)

    def result(self):
        tp = self.true_positives.read_value()
        errors = getattr(self, self._errors).read_value()
        return self._finish(tf.math.divide_no_nan(tp, tp + errors))

    def _finish(self, r):
        return r[0] if len(self.thresholds) == 1 else r

    def get_config(self):
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Precision(_PrecisionRecall):
    """tp / (tp + fp), per threshold (a scalar for one threshold)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(
            thresholds, top_k, class_id, name=name or _auto_name("Precision"), dtype=dtype
        )


class Recall(_PrecisionRecall):
    """tp / (tp + fn), per threshold (a scalar for one threshold)."""

    _errors = "false_negatives"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(
            thresholds, top_k, class_id, name=name or _auto_name("Recall"), dtype=dtype
        )


class _SensitivitySpecificityBase(Metric):
    _value_arg = "value"

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        if not 0 <= value <= 1:
            arg = self._value_arg
            raise ValueError(f"Argument `{arg}` must be in [0, 1]. Received: {value}")
        super().__init__(name=name or _auto_name(type(self).__name__), dtype=dtype)
        if num_thresholds <= 0:
            raise ValueError(
                f"Argument `num_thresholds` must be an integer > 0. Received: num_thresholds={num_thresholds}"
            )
        self.value = value
        self.class_id = class_id
        self.num_thresholds = num_thresholds
        if num_thresholds == 1:
            self.thresholds = [0.5]
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0] + inner + [1.0]
        n = len(self.thresholds)
        self.true_positives = self.add_variable((n,), "zeros", name="true_positives")
        self.false_positives = self.add_variable((n,), "zeros", name="false_positives")
        self.true_negatives = self.add_variable((n,), "zeros", name="true_negatives")
        self.false_negatives = self.add_variable((n,), "zeros", name="false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        tp, fp, tn, fn = _confusion_counts(
            y_true, y_pred, self.thresholds, sample_weight, self.dtype, class_id=self.class_id
        )
        self.true_positives.assign_add(tp)
        self.false_positives.assign_add(fp)
        self.true_negatives.assign_add(tn)
        self.false_negatives.assign_add(fn)

    def _rates(self):
        tp, fp = self.true_positives.read_value(), self.false_positives.read_value()
        tn, fn = self.true_negatives.read_value(), self.false_negatives.read_value()
        sens = tf.math.divide_no_nan(tp, tp + fn)
        spec = tf.math.divide_no_nan(tn, tn + fp)
        prec = tf.math.divide_no_nan(tp, tp + fp)
        return sens, spec, prec

    def _max_where(self, constrained, dependent):
        """Largest ``dependent`` among thresholds where ``constrained >= value`` (else 0)."""
        ok = constrained >= tf.cast(self.value, constrained.dtype)
        return tf.reduce_max(tf.where(ok, dependent, tf.zeros_like(dependent)))

    def get_config(self):
        return {
            **super().get_config(),
            self._value_arg: self.value,
            "num_thresholds": self.num_thresholds,
            "class_id": self.class_id,
        }


class SensitivityAtSpecificity(_SensitivitySpecificityBase):
    """Best sensitivity among thresholds whose specificity is >= ``specificity``."""

    _value_arg = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name=name, dtype=dtype)

    def result(self):
        sens, spec, _ = self._rates()
        return self._max_where(spec, sens)


class SpecificityAtSensitivity(_SensitivitySpecificityBase):
    """Best specificity among thresholds whose sensitivity is >= ``sensitivity``."""

    _value_arg = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name=name, dtype=dtype)

    def result(self):
        sens, spec, _ = self._rates()
        return self._max_where(sens, spec)


class PrecisionAtRecall(_SensitivitySpecificityBase):
    """Best precision among thresholds whose recall is >= ``recall``."""

    _value_arg = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name=name, dtype=dtype)

    def result(self):
        rec, _, prec = self._rates()
        return self._max_where(rec, prec)


class RecallAtPrecision(_SensitivitySpecificityBase):
    """Best recall among thresholds whose precision is >= ``precision``."""

    _value_arg = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name=name, dtype=dtype)

    def result(self):
        rec, _, prec = self._rates()
        return self._max_where(prec, rec)


class AUC(Metric):
    """Area under the ROC or PR curve, from confusion counts at ``num_thresholds``
    thresholds (Riemann sum; 'interpolation' uses Davis & Goadrich for PR)."""

    def __init__(
        self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None,
        dtype=None, thresholds=None, multi_label=False, num_labels=None, label_weights=None,
        from_logits=False,
    ):  # fmt: skip
        super().__init__(name=name or _auto_name("AUC"), dtype=dtype)
        curve = str(curve).upper()
        if curve not in ("ROC", "PR"):
            raise ValueError(
                f'Invalid AUC curve value: "{curve}". Expected values are ["ROC", "PR"]'
            )
        summation_method = str(summation_method).lower()
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(
                f'Invalid AUC summation method value: "{summation_method}". Expected values '
                'are ["interpolation", "majoring", "minoring"]'
            )
        self.curve = curve
        self.summation_method = summation_method
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            _check_thresholds(thresholds)
            self.num_thresholds = len(thresholds) + 2
            inner = sorted(float(t) for t in thresholds)
        else:
            if num_thresholds <= 1:
                raise ValueError(
                    f"Argument `num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds}"
                )
            self.num_thresholds = num_thresholds
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self._thresholds = np.array([0.0 - EPSILON] + inner + [1.0 + EPSILON])
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.from_logits = from_logits
        self.label_weights = (
            None if label_weights is None else np.asarray(label_weights, dtype=self.dtype)
        )
        self._built = False
        if not multi_label:
            self._build(None)
        elif num_labels:
            self._build(num_labels)

    @property
    def thresholds(self):
        return list(self._thresholds)

    def _build(self, num_labels):
        shape = (self.num_thresholds,) if num_labels is None else (self.num_thresholds, num_labels)
        self._num_labels = num_labels
        self.true_positives = self.add_variable(shape, "zeros", name="true_positives")
        self.false_positives = self.add_variable(shape, "zeros", name="false_positives")
        self.true_negatives = self.add_variable(shape, "zeros", name="true_negatives")
        self.false_negatives = self.add_variable(shape, "zeros", name="false_negatives")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = tf.convert_to_tensor(y_pred)
        if not self._built:
            if _rank(y_pred) != 2:
                raise ValueError(
                    f"AUC(multi_label=True) expects y_pred of rank 2; received shape {y_pred.shape}."
                )
            self._build(int(y_pred.shape[-1]))
        if self.from_logits:
            y_pred = tf.sigmoid(_cast(y_pred, self.dtype))
        tp, fp, tn, fn = _confusion_counts(
            y_true, y_pred, self._thresholds, sample_weight, self.dtype,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
        )  # fmt: skip
        self.true_positives.assign_add(tp)
        self.false_positives.assign_add(fp)
        self.true_negatives.assign_add(tn)
        self.false_negatives.assign_add(fn)

    def _by_label(self, terms):
        if not self.multi_label:
            return tf.reduce_sum(terms)
        per_label = tf.reduce_sum(terms, axis=0)
        if self.label_weights is None:
            return tf.reduce_mean(per_label)
        lw = tf.constant(self.label_weights)
        return tf.math.divide_no_nan(tf.reduce_sum(per_label * lw), tf.reduce_sum(lw))

    def _interpolate_pr_auc(self, tp, fp, fn):
        n = self.num_thresholds
        dtp = tp[: n - 1] - tp[1:]
        p = tp + fp
        dp = p[: n - 1] - p[1:]
        slope = tf.math.divide_no_nan(dtp, tf.maximum(dp, 0.0))
        intercept = tp[1:] - slope * p[1:]
        both = tf.logical_and(p[: n - 1] > 0, p[1:] > 0)
        ratio = tf.where(
            both, tf.math.divide_no_nan(p[: n - 1], tf.maximum(p[1:], 0.0)), tf.ones_like(p[1:])
        )
        inc = tf.math.divide_no_nan(
            slope * (dtp + intercept * tf.math.log(ratio)), tf.maximum(tp[1:] + fn[1:], 0.0)
        )
        return self._by_label(inc)

    def result(self):
        if not self._built:
            return tf.constant(0.0, self.dtype)
        tp, fp = self.true_positives.read_value(), self.false_positives.read_value()
        tn, fn = self.true_negatives.read_value(), self.false_negatives.read_value()
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc(tp, fp, fn)
        recall = tf.math.divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = tf.math.divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, tf.math.divide_no_nan(tp, tp + fp)
        n = self.num_thresholds
        if self.summation_method == "interpolation":
            heights = (y[: n - 1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = tf.minimum(y[: n - 1], y[1:])
        else:
            heights = tf.maximum(y[: n - 1], y[1:])
        return self._by_label((x[: n - 1] - x[1:]) * heights)

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        cfg = {
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
            "from_logits": self.from_logits,
        }
        if self._init_from_thresholds:
            cfg["thresholds"] = [float(t) for t in self._thresholds[1:-1]]
        return {**super().get_config(), **cfg}


# --------------------------------------------------------------------------------------
# IoU and F-scores
# --------------------------------------------------------------------------------------
class FBetaScore(Metric):
    """F-beta score per class, or averaged ('micro', 'macro', 'weighted')."""

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                "Invalid `average` argument value. Expected one of: {None, 'micro', 'macro', "
                f"'weighted'}}. Received: average={average}"
            )
        if not isinstance(beta, float) or beta <= 0.0:
            raise ValueError(f"`beta` must be a float greater than 0. Received: beta={beta}")
        if threshold is not None and (not isinstance(threshold, float) or not 0 < threshold <= 1):
            raise ValueError(
                f"`threshold` must be a float in the range (0, 1]. Received: threshold={threshold}"
            )
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self._built = False

    def _build(self, num_classes):
        self.true_positives = self.add_variable((num_classes,), "zeros", name="true_positives")
        self.false_positives = self.add_variable((num_classes,), "zeros", name="false_positives")
        self.false_negatives = self.add_variable((num_classes,), "zeros", name="false_negatives")
        self.intermediate_weights = self.add_variable(
            (num_classes,), "zeros", name="intermediate_weights"
        )
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = _cast(y_true, self.dtype)
        y_pred = _cast(y_pred, self.dtype)
        if _rank(y_pred) != 2 or _rank(y_true) != 2:
            raise ValueError(
                f"{type(self).__name__} expects 2D y_true and y_pred (batch, num_classes); "
                f"received shapes {y_true.shape} and {y_pred.shape}."
            )
        if not self._built:
            self._build(int(y_pred.shape[-1]))
        if self.threshold is None:
            top = tf.reduce_max(y_pred, axis=-1, keepdims=True)
            y_pred = tf.cast(y_pred >= top, self.dtype)
        else:
            y_pred = tf.cast(y_pred > self.threshold, self.dtype)
        sw = None if sample_weight is None else tf.expand_dims(_cast(sample_weight, self.dtype), 1)

        def wsum(v):
            if sw is not None:
                v = v * sw
            return tf.reduce_sum(v, axis=0)

        self.true_positives.assign_add(wsum(y_pred * y_true))
        self.false_positives.assign_add(wsum(y_pred * (1.0 - y_true)))
        self.false_negatives.assign_add(wsum((1.0 - y_pred) * y_true))
        self.intermediate_weights.assign_add(wsum(y_true))

    def result(self):
        if not self._built:
            return tf.constant(0.0, self.dtype)
        tp = self.true_positives.read_value()
        fp = self.false_positives.read_value()
        fn = self.false_negatives.read_value()
        if self.average == "micro":
            tp, fp, fn = tf.reduce_sum(tp), tf.reduce_sum(fp), tf.reduce_sum(fn)
        precision = tf.math.divide_no_nan(tp, tp + fp)
        recall = tf.math.divide_no_nan(tp, tp + fn)
        b2 = self.beta**2
        f = tf.math.divide_no_nan(precision * recall, b2 * precision + recall) * (1.0 + b2)
        if self.average == "weighted":
            iw = self.intermediate_weights.read_value()
            f = tf.reduce_sum(f * tf.math.divide_no_nan(iw, tf.reduce_sum(iw)))
        elif self.average is not None:
            f = tf.reduce_mean(f)
        return f

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        return {
            **super().get_config(),
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
        }


class F1Score(FBetaScore):
    """F1 score (FBetaScore with beta=1)."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        cfg = super().get_config()
        cfg.pop("beta", None)
        return cfg


# --------------------------------------------------------------------------------------
# identifiers
# --------------------------------------------------------------------------------------
# the metric families in their own modules import this one's base classes (one feature)
from rill.keras.metrics_correlation import (  # noqa: E402
    ConcordanceCorrelation,
    PearsonCorrelation,
    R2Score,
    concordance_correlation,
    pearson_correlation,
)
from rill.keras.metrics_iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU  # noqa: E402

_FUNCTIONS.update(
    pearson_correlation=pearson_correlation, concordance_correlation=concordance_correlation
)

_CLASSES = [
    Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
    SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, KLDivergence, Poisson, Hinge,
    SquaredHinge, CategoricalHinge, TruePositives, TrueNegatives, FalsePositives,
    FalseNegatives, Precision, Recall, AUC, PrecisionAtRecall, RecallAtPrecision,
    SensitivityAtSpecificity, SpecificityAtSensitivity, MeanIoU, FBetaScore, F1Score, IoU,
    BinaryIoU, OneHotIoU, OneHotMeanIoU, R2Score, PearsonCorrelation, ConcordanceCorrelation,
]  # fmt: skip

_NAME_TABLE: dict = {c.__name__: c for c in _CLASSES}
_NAME_TABLE.update({_to_snake(c.__name__): c for c in _CLASSES})
_NAME_TABLE.update(
    {
        "auc": AUC,
        "acc": Accuracy,
        "bce": BinaryCrossentropy,
        "BCE": BinaryCrossentropy,
        "mse": MeanSquaredError,
        "MSE": MeanSquaredError,
        "mae": MeanAbsoluteError,
        "MAE": MeanAbsoluteError,
        "mape": MeanAbsolutePercentageError,
        "MAPE": MeanAbsolutePercentageError,
        "msle": MeanSquaredLogarithmicError,
        "MSLE": MeanSquaredLogarithmicError,
        "rmse": RootMeanSquaredError,
        "logcosh": LogCoshError,
        "kld": KLDivergence,
        "KLD": KLDivergence,
    }
)

# Keras 3: a snake-case class name wins over the function of the same name
_OBJECTS = {**_FUNCTIONS, **_NAME_TABLE}


def serialize(metric):
    """A Keras 3 config dict for a metric (``None`` stays ``None``)."""
    from rill.keras.saving import serialization_lib

    return serialization_lib.serialize_catalog(metric, _OBJECTS, "metric")


def deserialize(config, custom_objects=None):
    """Names resolve only through this module's table, ``custom_objects``, the
    custom-object scope and the registry (nothing named in a config is imported)."""
    from rill.keras.saving import serialization_lib

    return serialization_lib.deserialize_catalog(config, _OBJECTS, "metric", custom_objects)


def get(identifier):
    """``None``, a name, a config dict, a class (instantiated) or a callable."""
    from rill.keras.saving import serialization_lib

    return serialization_lib.get_catalog(identifier, _OBJECTS, "metric")
