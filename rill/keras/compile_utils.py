"""What ``Model.compile`` turns its ``loss``, ``loss_weights``, ``metrics`` and
``weighted_metrics`` into, for one output or several (lists, or dicts keyed by output name).

Follows Keras 3's observable rules: one loss given for several outputs applies to each;
the total is the weighted sum; with several losses each also gets a ``<output>_loss``
tracker; ``metrics`` ignore sample weights while ``weighted_metrics`` use them; metric names
are prefixed with the output name when a model has several outputs; ``"accuracy"`` and
``"crossentropy"`` pick their binary/categorical/sparse variant from the data's shapes.
"""

from __future__ import annotations

import rill as tf
from rill.core import nest
from rill.keras import losses as losses_module
from rill.keras import metrics as metrics_module

__all__ = ["CompileLoss", "CompileMetrics"]


def _kind(y_true, y_pred):
    """(is_binary, is_sparse_categorical) from the shapes of labels and predictions."""
    yt, yp = y_true.shape, y_pred.shape
    is_binary = yp.rank is not None and yp.rank > 0 and yp[-1] == 1
    is_sparse = (
        yt.rank is not None
        and yp.rank is not None
        and (yt.rank < yp.rank or (yt.rank > 0 and yt[-1] == 1 and yp[-1] != 1))
    )
    return is_binary, is_sparse


def _object_name(obj) -> str:
    name = getattr(obj, "name", None) or getattr(obj, "__name__", None)
    return name or type(obj).__name__.lower()


def _metric(identifier, y_true, y_pred):
    if identifier is None:
        raise ValueError("compile(metrics=...): expected a metric, received None.")
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        binary, sparse = _kind(y_true, y_pred)
        cls = (
            metrics_module.BinaryAccuracy
            if binary
            else metrics_module.SparseCategoricalAccuracy
            if sparse
            else metrics_module.CategoricalAccuracy
        )
        return cls(name=identifier)
    metric = metrics_module.get(identifier)
    if isinstance(metric, type):
        metric = metric()
    if not isinstance(metric, metrics_module.Metric):  # a function: averaged over batches
        metric = metrics_module.MeanMetricWrapper(metric, name=_object_name(metric))
    if isinstance(identifier, str):
        metric.name = identifier  # Keras 3 reports a metric under the string it was given
    return metric


def _loss(identifier, y_true, y_pred):
    if identifier is None:
        return None  # no loss for this output
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
        binary, sparse = _kind(y_true, y_pred)
        fn = (
            losses_module.binary_crossentropy
            if binary
            else losses_module.sparse_categorical_crossentropy
            if sparse
            else losses_module.categorical_crossentropy
        )
        return losses_module.LossFunctionWrapper(fn, name=identifier)
    loss = losses_module.get(identifier)
    if isinstance(loss, type):
        loss = loss()
    if not isinstance(loss, losses_module.Loss):
        name = identifier if isinstance(identifier, str) else _object_name(loss)
        loss = losses_module.LossFunctionWrapper(loss, name=name)
    return loss


def _per_output(value, names, n, what):
    """``value`` (one per output as a list, a dict by output name, or a single item for
    every output) as a list of n entries."""
    if isinstance(value, dict):
        if names is None or not set(value) <= set(names):
            raise ValueError(
                f"compile({what}=...): dict keys {sorted(value)} must be output names; the "
                f"model's outputs are {names}."
            )
        return [value.get(k) for k in names]
    if isinstance(value, (list, tuple)) and n > 1:
        if len(value) != n:
            raise ValueError(
                f"compile({what}=...): got {len(value)} entries for a model with {n} outputs "
                f"{names or ''}; pass one per output, a dict keyed by output name, or a single "
                f"one for all."
            )
        return list(value)
    return [value] * n


def _flat_y(y, names, n, what):
    """Labels / sample weights in output order, from a list, a dict or a single array."""
    if y is None:
        return [None] * n
    if isinstance(y, dict):
        keys = names if names is not None else sorted(y)
        missing = [k for k in keys if k not in y]
        if missing:
            raise ValueError(f"{what}: missing entries for outputs {missing}; got {sorted(y)}.")
        return [y[k] for k in keys]
    if isinstance(y, (list, tuple)) and n > 1:
        if len(y) != n:
            raise ValueError(f"{what}: expected {n} entries (one per output), got {len(y)}.")
        return list(y)
    if n > 1 and what == "sample_weight":
        return [y] * n  # one weight array for every output
    if n > 1:
        raise ValueError(f"{what}: the model has {n} outputs; pass a list or dict of {n} targets.")
    return [y]


def _output_names(y_pred, model_names):
    if isinstance(y_pred, dict):
        return model_names if model_names and set(model_names) == set(y_pred) else sorted(y_pred)
    return model_names


class CompileLoss:
    """The compiled loss: per-output losses, weights and trackers."""

    def __init__(self, loss, loss_weights=None, output_names=None):
        self._user_loss = loss
        self._user_weights = loss_weights
        self._model_names = output_names
        self.built = False
        self.metrics = []  # a Mean per output loss when there are several

    def build(self, y_true, y_pred):
        flat_pred = nest.flatten(y_pred)
        n = len(flat_pred)
        names = _output_names(y_pred, self._model_names)
        self.names = names
        losses = _per_output(self._user_loss, names, n, "loss")
        weights = (
            [None] * n
            if self._user_weights is None
            else _per_output(self._user_weights, names, n, "loss_weights")
        )
        flat_true = _flat_y(y_true, names, n, "y")
        self.entries = []
        for i, (lo, w, yt, yp) in enumerate(zip(losses, weights, flat_true, flat_pred)):
            fn = _loss(lo, tf.convert_to_tensor(yt) if yt is not None else yp, yp)
            if fn is not None:
                self.entries.append((i, fn, w, names[i] if names else f"output_{i + 1}"))
        if len(self.entries) > 1:
            self.metrics = [metrics_module.Mean(name=f"{name}_loss") for *_, name in self.entries]
        self.n = n
        self.built = True

    def __call__(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        flat_pred = nest.flatten(y_pred)
        flat_true = _flat_y(y_true, self.names, self.n, "y")
        flat_sw = _flat_y(sample_weight, self.names, self.n, "sample_weight")
        total = None
        for k, (i, fn, w, _) in enumerate(self.entries):
            value = tf.cast(fn(flat_true[i], flat_pred[i], sample_weight=flat_sw[i]), "float32")
            if self.metrics:
                # Keras 3 (TF backend) weighs these by the static batch size, which is unknown
                # in its traced step: each batch counts once. Matched for equal numbers.
                self.metrics[k].update_state(value)
            if w is not None:
                value = value * w
            total = value if total is None else total + value
        return total


class CompileMetrics:
    """The compiled metrics (and weighted metrics), built on the first batch."""

    def __init__(self, metrics, weighted_metrics, output_names=None):
        self._user = (metrics, weighted_metrics)
        self._model_names = output_names
        self.built = False
        self.metrics = []

    def _lists(self, spec, names, n, y_true, y_pred):
        if not spec:
            return [[] for _ in range(n)]
        if n == 1:
            entries = [nest.flatten(spec)]
        elif isinstance(spec, dict) or (isinstance(spec, (list, tuple)) and len(spec) == n):
            entries = [
                [] if e is None else list(e) if isinstance(e, (list, tuple)) else [e]
                for e in _per_output(spec, names, n, "metrics")
            ]
        else:
            raise ValueError(
                f"compile(metrics={spec!r}): the model has {n} outputs {names or ''}; pass a "
                f"list with one entry (a metric or a list of metrics) per output, or a dict "
                f"keyed by output name."
            )
        return [[_metric(m, yt, yp) for m in ms] for ms, yt, yp in zip(entries, y_true, y_pred)]

    def build(self, y_true, y_pred):
        flat_pred = nest.flatten(y_pred)
        n = len(flat_pred)
        names = _output_names(y_pred, self._model_names)
        self.names, self.n = names, n
        flat_true = [
            tf.convert_to_tensor(y) if y is not None else p
            for y, p in zip(_flat_y(y_true, names, n, "y"), flat_pred)
        ]
        plain, weighted = self._user
        self.plain = self._lists(plain, names, n, flat_true, flat_pred)
        self.weighted = self._lists(weighted, names, n, flat_true, flat_pred)
        taken: dict[str, int] = {}

        def claim(name):
            if name not in taken:
                taken[name] = 1
                return name
            taken[name] += 1
            return f"{name}_{taken[name] - 1}"

        for weighted, group in ((False, self.plain), (True, self.weighted)):
            for i, ms in enumerate(group):
                prefix = f"{names[i]}_" if n > 1 and names else ""
                for m in ms:
                    name = prefix + m.name
                    if weighted and name in taken:
                        name = f"{prefix}weighted_{m.name}"
                    m.name = claim(name)
                    self.metrics.append(m)
        self.built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        flat_pred = nest.flatten(y_pred)
        flat_true = _flat_y(y_true, self.names, self.n, "y")
        flat_sw = _flat_y(sample_weight, self.names, self.n, "sample_weight")
        for ms, yt, yp in zip(self.plain, flat_true, flat_pred):
            for m in ms:
                m.update_state(yt, yp)
        for ms, yt, yp, sw in zip(self.weighted, flat_true, flat_pred, flat_sw):
            for m in ms:
                m.update_state(yt, yp, sample_weight=sw)
