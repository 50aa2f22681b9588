"""IoU metrics, R2Score and the correlation metrics added to rill.keras.metrics, against
NumPy written here (a confusion matrix by counting, R2 and correlations by formula)."""

import numpy as np
import pytest

import rill as tf

M = tf.keras.metrics
rng = np.random.default_rng(9)


def _cm(t, p, n, w=None):
    cm = np.zeros((n, n))
    w = np.ones(len(t)) if w is None else w
    for a, b, c in zip(t, p, w):
        if 0 <= a < n and 0 <= b < n:
            cm[a, b] += c
    return cm


def _iou(cm, ids):
    tp = np.diag(cm)
    denom = cm.sum(0) + cm.sum(1) - tp
    ious = [tp[i] / denom[i] for i in ids if denom[i] > 0]
    return np.mean(ious) if ious else 0.0


def test_iou_and_mean_iou_stream_a_confusion_matrix():
    t = rng.integers(0, 4, size=30)
    p = rng.integers(0, 4, size=30)
    w = rng.integers(0, 3, size=30)
    m = M.IoU(num_classes=4, target_class_ids=[1, 3])
    mean = M.MeanIoU(num_classes=4)
    for half in (slice(0, 15), slice(15, None)):
        m.update_state(t[half], p[half], sample_weight=w[half])
        mean.update_state(t[half], p[half], sample_weight=w[half])
    cm = _cm(t, p, 4, w)
    np.testing.assert_array_equal(m.total_cm.numpy(), cm)
    assert m.result().dtype == tf.float32 and m.total_cm.dtype == tf.int64
    np.testing.assert_allclose(m.result().numpy(), _iou(cm, [1, 3]), rtol=1e-5)
    np.testing.assert_allclose(mean.result().numpy(), _iou(cm, range(4)), rtol=1e-5)
    m.reset_state()
    assert not m.total_cm.numpy().any()


def test_ignore_class_and_out_of_range_ids_are_left_out():
    t = np.array([0, 1, 2, 5, -1, 1])
    p = np.array([0, 2, 2, 1, 0, 1])
    m = M.MeanIoU(num_classes=3, ignore_class=1)
    m.update_state(t, p)
    keep = (t != 1) & (t >= 0) & (t < 3)
    np.testing.assert_array_equal(m.total_cm.numpy(), _cm(t[keep], p[keep], 3))


def test_binary_iou_thresholds_predictions():
    t = rng.integers(0, 2, size=40)
    scores = rng.uniform(size=40).astype(np.float32)
    m = M.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    m.update_state(t, scores)
    cm = _cm(t, (scores >= 0.3).astype(int), 2)
    np.testing.assert_allclose(m.result().numpy(), _iou(cm, [0, 1]), rtol=1e-5)
    assert m.get_config()["threshold"] == 0.3 and m.num_classes == 2


def test_one_hot_variants_take_the_argmax():
    ids_t = rng.integers(0, 3, size=12)
    onehot = np.eye(3, dtype=np.float32)[ids_t]
    scores = rng.dirichlet(np.ones(3), size=12).astype(np.float32)
    cm = _cm(ids_t, scores.argmax(-1), 3)
    m = M.OneHotIoU(num_classes=3, target_class_ids=[0, 2])
    m.update_state(onehot, scores)
    np.testing.assert_allclose(m.result().numpy(), _iou(cm, [0, 2]), rtol=1e-5)
    mm = M.OneHotMeanIoU(num_classes=3)
    mm.update_state(onehot, scores)
    np.testing.assert_allclose(mm.result().numpy(), _iou(cm, range(3)), rtol=1e-5)
    with pytest.raises(ValueError, match="out of range"):
        M.IoU(num_classes=2, target_class_ids=[2])


def test_r2_score_aggregations_and_adjustment():
    yt = rng.normal(size=(20, 3))
    yp = yt + 0.4 * rng.normal(size=(20, 3))
    ss_res = ((yt - yp) ** 2).sum(0)
    ss_tot = ((yt - yt.mean(0)) ** 2).sum(0)
    raw = 1 - ss_res / ss_tot
    m = M.R2Score(class_aggregation=None)
    m.update_state(yt[:8], yp[:8])
    m.update_state(yt[8:], yp[8:])
    np.testing.assert_allclose(m.result().numpy(), raw, rtol=1e-4)
    m = M.R2Score(class_aggregation="variance_weighted_average")
    m.update_state(yt, yp)
    np.testing.assert_allclose(m.result().numpy(), (ss_tot * raw).sum() / ss_tot.sum(), rtol=1e-4)
    m = M.R2Score(num_regressors=2)
    m.update_state(yt, yp)
    n = yt.size  # Keras 3 counts every element as a sample
    np.testing.assert_allclose(m.result().numpy(), 1 - (1 - raw.mean()) * (n - 1) / (n - 3),
                               rtol=1e-4)  # fmt: skip
    with pytest.raises(ValueError, match="2D"):
        M.R2Score().update_state(yt[:, 0], yp[:, 0, None, None])


def test_correlations_match_their_definitions():
    yt = rng.normal(size=(4, 10))
    yp = 0.6 * yt + rng.normal(size=(4, 10))
    pear = [np.corrcoef(a, b)[0, 1] for a, b in zip(yt, yp)]
    np.testing.assert_allclose(M.pearson_correlation(yt, yp).numpy(), pear, rtol=1e-6)
    m = M.PearsonCorrelation()
    m.update_state(yt, yp)
    np.testing.assert_allclose(m.result().numpy(), np.mean(pear), rtol=1e-5)
    mt, mp = yt.mean(1, keepdims=True), yp.mean(1, keepdims=True)
    norm = yt.var(1, keepdims=True) + yp.var(1, keepdims=True) + (mt - mp) ** 2
    # Keras 3.15's formula (y_true centred on y_pred's mean), see metrics_correlation
    ccc = (2 * (yt - mp) * (yp - mp) / (norm + 1e-7)).mean(1)
    np.testing.assert_allclose(M.concordance_correlation(yt, yp).numpy(), ccc, rtol=1e-6)


def test_new_metrics_resolve_by_name_and_round_trip():
    for name in ["IoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU", "MeanIoU", "R2Score",
                 "PearsonCorrelation", "ConcordanceCorrelation"]:  # fmt: skip
        cls = getattr(M, name)
        kwargs = {"num_classes": 3} if "IoU" in name and name != "BinaryIoU" else {}
        if name in ("IoU", "OneHotIoU"):
            kwargs["target_class_ids"] = [0]
        metric = cls(**kwargs)
        again = M.deserialize(M.serialize(metric))
        assert type(again) is cls and again.get_config() == metric.get_config()
    for fn in ["pearson_correlation", "concordance_correlation", "huber", "logcosh",
               "binary_focal_crossentropy", "categorical_focal_crossentropy"]:  # fmt: skip
        assert callable(getattr(M, fn))
    # as in Keras 3, the snake-case name of a class resolves to the class, not the function
    assert isinstance(M.get("pearson_correlation"), M.PearsonCorrelation)
