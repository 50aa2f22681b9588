"""Differential tests: rill.keras.metrics against Keras 3 on fixed multi-batch inputs.

Skipped unless TensorFlow (with Keras 3) is importable."""

import numpy as np
import pytest

tf_ref = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from rill.keras import metrics as M  # noqa: E402
from tests.keras.keras_compare import assert_matches_keras  # noqa: E402

R = np.random.RandomState(1234)
N, C = 12, 4


def _probs(n, c):
    x = R.rand(n, c).astype("float32") + 0.05
    return x / x.sum(-1, keepdims=True)


BATCHES = {
    "binary": [
        (
            (R.rand(N, 1) > 0.5).astype("float32"),
            R.rand(N, 1).astype("float32"),
            R.rand(N).astype("float32"),
        )
        for _ in range(3)
    ],
    "binary_flat": [
        (
            (R.rand(N) > 0.4).astype("float32"),
            R.rand(N).astype("float32"),
            R.rand(N).astype("float32"),
        )
        for _ in range(3)
    ],
    "multilabel": [
        (
            (R.rand(N, C) > 0.5).astype("float32"),
            R.rand(N, C).astype("float32"),
            R.rand(N).astype("float32"),
        )
        for _ in range(3)
    ],
    "onehot": [
        (np.eye(C, dtype="float32")[R.randint(0, C, N)], _probs(N, C), R.rand(N).astype("float32"))
        for _ in range(3)
    ],
    "sparse": [
        (R.randint(0, C, (N, 1)), _probs(N, C), R.rand(N).astype("float32")) for _ in range(3)
    ],
    "sparse_flat": [
        (R.randint(0, C, N), _probs(N, C), R.rand(N).astype("float32")) for _ in range(3)
    ],
    "regression": [
        (
            R.rand(N, 3).astype("float32") * 2,
            R.rand(N, 3).astype("float32") * 2,
            R.rand(N).astype("float32"),
        )
        for _ in range(3)
    ],
    "logits": [
        (
            (R.rand(N, C) > 0.5).astype("float32"),
            R.randn(N, C).astype("float32") * 2,
            R.rand(N).astype("float32"),
        )
        for _ in range(3)
    ],
    "signed": [
        (
            np.sign(R.randn(N, 3)).astype("float32"),
            R.randn(N, 3).astype("float32"),
            R.rand(N).astype("float32"),
        )
        for _ in range(3)
    ],
    "ids": [
        (R.randint(0, C, N), R.randint(0, C, N), R.rand(N).astype("float32")) for _ in range(3)
    ],
}

CASES = [
    ("Accuracy", {}, "ids"),
    ("BinaryAccuracy", {}, "binary"),
    ("BinaryAccuracy", {"threshold": 0.3}, "multilabel"),
    ("CategoricalAccuracy", {}, "onehot"),
    ("SparseCategoricalAccuracy", {}, "sparse"),
    ("SparseCategoricalAccuracy", {}, "sparse_flat"),
    ("TopKCategoricalAccuracy", {"k": 2}, "onehot"),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse_flat"),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, "sparse"),
    ("MeanSquaredError", {}, "regression"),
    ("RootMeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "regression"),
    ("CosineSimilarity", {}, "regression"),
    ("LogCoshError", {}, "regression"),
    ("BinaryCrossentropy", {}, "multilabel"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "logits"),
    ("CategoricalCrossentropy", {}, "onehot"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, "logits"),
    ("SparseCategoricalCrossentropy", {}, "sparse_flat"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse"),
    ("KLDivergence", {}, "onehot"),
    ("Poisson", {}, "regression"),
    ("Hinge", {}, "signed"),
    ("Hinge", {}, "multilabel"),
    ("SquaredHinge", {}, "signed"),
    ("CategoricalHinge", {}, "onehot"),
    ("TruePositives", {}, "binary"),
    ("TrueNegatives", {"thresholds": [0.2, 0.5, 0.8]}, "binary_flat"),
    ("FalsePositives", {"thresholds": 0.3}, "multilabel"),
    ("FalseNegatives", {}, "binary"),
    ("Precision", {}, "binary"),
    ("Precision", {"thresholds": [0.1, 0.6]}, "multilabel"),
    ("Precision", {"top_k": 2}, "multilabel"),
    ("Precision", {"class_id": 1}, "multilabel"),
    ("Recall", {}, "binary_flat"),
    ("Recall", {"top_k": 1, "class_id": 2}, "multilabel"),
    ("Recall", {"thresholds": [0.25, 0.75]}, "multilabel"),
    ("AUC", {}, "binary"),
    ("AUC", {"num_thresholds": 37, "curve": "PR"}, "binary_flat"),
    ("AUC", {"curve": "PR", "summation_method": "minoring"}, "multilabel"),
    ("AUC", {"summation_method": "majoring"}, "multilabel"),
    ("AUC", {"multi_label": True}, "multilabel"),
    ("AUC", {"multi_label": True, "curve": "PR"}, "multilabel"),
    ("AUC", {"multi_label": True, "label_weights": [1.0, 2.0, 0.5, 0.0]}, "multilabel"),
    ("AUC", {"thresholds": [0.3, 0.1, 0.7]}, "binary"),
    ("AUC", {"from_logits": True}, "logits"),
    ("PrecisionAtRecall", {"recall": 0.6}, "binary"),
    ("RecallAtPrecision", {"precision": 0.5}, "binary_flat"),
    ("SensitivityAtSpecificity", {"specificity": 0.5}, "multilabel"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.7, "num_thresholds": 50}, "binary"),
    ("SensitivityAtSpecificity", {"specificity": 0.4, "class_id": 2}, "multilabel"),
    ("MeanIoU", {"num_classes": C}, "ids"),
    ("MeanIoU", {"num_classes": C, "sparse_y_pred": False}, "sparse_flat"),
    ("F1Score", {}, "onehot"),
    ("F1Score", {"average": "micro", "threshold": 0.3}, "multilabel"),
    ("F1Score", {"average": "macro"}, "onehot"),
    ("F1Score", {"average": "weighted", "threshold": 0.5}, "multilabel"),
    ("FBetaScore", {"beta": 2.0, "average": "macro", "threshold": 0.4}, "multilabel"),
]


def _run(metric, batches, weighted):
    for i, (yt, yp, sw) in enumerate(batches):
        metric.update_state(yt, yp, sample_weight=sw if weighted and i != 1 else None)
    return metric.result()


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "cls,kwargs,data", CASES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)]
)
def test_matches_keras(cls, kwargs, data, weighted):
    batches = BATCHES[data]
    ours = getattr(M, cls)(**kwargs)
    ref = getattr(keras.metrics, cls)(**kwargs)
    got = _run(ours, batches, weighted)
    want = _run(ref, batches, weighted)
    assert_matches_keras(got, want, rtol=2e-5, atol=2e-6)
    # streaming restarts from zero after reset_state
    ours.reset_state()
    ref.reset_state()
    assert_matches_keras(
        _run(ours, batches[:1], weighted), _run(ref, batches[:1], weighted), rtol=2e-5, atol=2e-6
    )


@pytest.mark.parametrize("cls,kwargs,data", CASES[::3])
def test_config_matches_keras(cls, kwargs, data):
    ours = getattr(M, cls)(**kwargs).get_config()
    ref = getattr(keras.metrics, cls)(**kwargs).get_config()
    ours.pop("name"), ref.pop("name")
    assert set(ours) == set(ref), (ours, ref)


def test_mean_sum_with_weights():
    vals = [R.rand(4, 3).astype("float32") for _ in range(2)]
    ws = [R.rand(4).astype("float32"), R.rand(4, 3).astype("float32")]
    for cls in ("Mean", "Sum"):
        a, b = getattr(M, cls)(), getattr(keras.metrics, cls)()
        for v, w in zip(vals, ws):
            a.update_state(v, sample_weight=w)
            b.update_state(v, sample_weight=w)
        assert_matches_keras(a.result(), b.result(), rtol=1e-5)


def test_get_aliases_match_keras():
    for name in ("accuracy", "mse", "mae", "auc", "binary_accuracy", "msle", "Precision", "bce"):
        assert type(M.get(name)).__name__ == type(keras.metrics.get(name)).__name__


@pytest.mark.parametrize(
    "cls, kwargs",
    [("Precision", {}), ("Recall", {}), ("Precision", {"thresholds": [0.3, 0.7]}),
     ("Recall", {"top_k": 2}), ("AUC", {}), ("TruePositives", {})],
)  # fmt: skip
def test_metric_variables_match_keras(cls, kwargs):
    ours = getattr(M, cls)(**kwargs)
    theirs = getattr(keras.metrics, cls)(**kwargs)
    assert [v.name.split(":")[0] for v in ours.variables] == [v.name for v in theirs.variables]
    assert [tuple(v.shape) for v in ours.variables] == [tuple(v.shape) for v in theirs.variables]
