"""Intersection-over-union metrics (``IoU``, ``MeanIoU``, ``BinaryIoU``, ``OneHotIoU``,
``OneHotMeanIoU``): a streaming confusion matrix, read out per target class.

As in Keras 3 the confusion matrix has the metric's dtype, int64 unless given, so labels,
predictions and sample weights are cast to it (fractional weights truncate); the result is
float32.
"""

from __future__ import annotations

import rill as tf
from rill.keras.metrics import EPSILON, Metric, _auto_name, _cast, _rank

__all__ = ["IoU", "MeanIoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU"]


class _IoUBase(Metric):
    """The confusion-matrix state and update shared by the IoU metrics."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):  # fmt: skip
        super().__init__(name=name or _auto_name(type(self).__name__), dtype=dtype or "int64")
        self.num_classes = int(num_classes)
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable(
            (self.num_classes, self.num_classes), "zeros", name="total_confusion_matrix"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add the (weighted) confusion matrix of this batch; out-of-range ids and
        ``ignore_class`` labels are left out."""
        if not self.sparse_y_true:
            y_true = tf.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = tf.argmax(y_pred, axis=self.axis)
        t = tf.reshape(_cast(y_true, self.dtype), [-1])
        p = tf.reshape(_cast(y_pred, self.dtype), [-1])
        if sample_weight is None:
            w = tf.ones_like(t)
        else:
            w = _cast(sample_weight, self.dtype)
            if _rank(w) > 1:
                w = tf.reshape(w, [-1])
            w = tf.broadcast_to(w, tf.shape(t))
        n = tf.constant(self.num_classes, t.dtype)
        zero = tf.zeros_like(t)
        ok = tf.logical_and(tf.logical_and(t >= zero, t < n), tf.logical_and(p >= zero, p < n))
        if self.ignore_class is not None:
            ok = tf.logical_and(ok, tf.not_equal(t, tf.constant(self.ignore_class, t.dtype)))
        w = tf.where(ok, w, tf.zeros_like(w))
        t = tf.cast(tf.where(ok, t, zero), tf.int64)
        p = tf.cast(tf.where(ok, p, zero), tf.int64)
        # cm[i, j] = total weight of samples with label i predicted as j
        index = t * self.num_classes + p
        flat = tf.math.unsorted_segment_sum(w, index, self.num_classes * self.num_classes)
        cm = tf.reshape(flat, [self.num_classes, self.num_classes])
        self.total_cm.assign_add(_cast(cm, self.dtype))


class IoU(_IoUBase):
    """Mean intersection-over-union, TP / (TP + FP + FN), over ``target_class_ids``
    (classes that never occur are left out of the mean)."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):  # fmt: skip
        target_class_ids = list(target_class_ids)
        if target_class_ids and max(target_class_ids) >= num_classes:
            raise ValueError(
                f"{type(self).__name__}: target class id {max(target_class_ids)} is out of "
                f"range, which is [0, {num_classes})."
            )
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred,
                         axis=axis)  # fmt: skip
        self.target_class_ids = target_class_ids

    def result(self):
        """The mean IoU of the target classes present so far, as float32."""
        cm = self.total_cm.read_value()
        tp = tf.linalg.diag_part(cm)
        denom = tf.reduce_sum(cm, axis=0) + tf.reduce_sum(cm, axis=1) - tp
        ids = tf.constant(self.target_class_ids, tf.int32)
        tp = tf.cast(tf.gather(tp, ids), tf.float32)
        denom = tf.cast(tf.gather(denom, ids), tf.float32)
        valid = denom > 1e-9
        iou = tf.where(valid, tp / (denom + EPSILON), tf.zeros_like(tp))
        n_valid = tf.reduce_sum(tf.cast(valid, tf.float32))
        return tf.reduce_sum(iou, axis=self.axis) / (n_valid + EPSILON)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}  # fmt: skip


class BinaryIoU(IoU):
    """IoU of two classes, predictions thresholded: ``y_pred >= threshold`` is class 1."""

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(2, target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Threshold ``y_pred`` (as float32), then add the confusion matrix."""
        y_pred = tf.cast(_cast(y_pred, "float32") >= self.threshold, self.dtype)
        return super().update_state(_cast(y_true, self.dtype), y_pred, sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}  # fmt: skip


class MeanIoU(IoU):
    """IoU averaged over all ``num_classes`` classes."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):  # fmt: skip
        super().__init__(num_classes, list(range(num_classes)), name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)  # fmt: skip

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}  # fmt: skip


class OneHotIoU(IoU):
    """``IoU`` for one-hot labels (and, unless ``sparse_y_pred``, per-class scores)."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):  # fmt: skip
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)  # fmt: skip

    def get_config(self):
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}  # fmt: skip


class OneHotMeanIoU(MeanIoU):
    """``MeanIoU`` for one-hot labels (and, unless ``sparse_y_pred``, per-class scores)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):  # fmt: skip
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)  # fmt: skip

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}  # fmt: skip
