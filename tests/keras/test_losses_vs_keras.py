"""rill.keras.losses/activations against Keras 3 itself on fixed inputs (skipped without
TensorFlow)."""

import numpy as np
import pytest

tf_ref = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from rill.keras import activations as A  # noqa: E402
from rill.keras import losses as L  # noqa: E402
from tests.keras.keras_compare import assert_matches_keras  # noqa: E402

rng = np.random.default_rng(7)
B, C = 6, 4
PROBS = rng.dirichlet(np.ones(C), size=B).astype(np.float32)
LOGITS = rng.normal(size=(B, C)).astype(np.float32) * 2
ONEHOT = np.eye(C, dtype=np.float32)[rng.integers(0, C, size=B)]
SPARSE = rng.integers(0, C, size=B).astype(np.int64)
BIN = rng.integers(0, 2, size=(B, C)).astype(np.float32)
SIGP = (1 / (1 + np.exp(-LOGITS))).astype(np.float32)
REG_T = rng.normal(size=(B, C)).astype(np.float32) * 2
REG_P = rng.normal(size=(B, C)).astype(np.float32) * 2
POS_T = rng.uniform(0.1, 3, size=(B, C)).astype(np.float32)
POS_P = rng.uniform(0.1, 3, size=(B, C)).astype(np.float32)
SW = rng.uniform(0, 2, size=B).astype(np.float32)

CASES = [
    ("BinaryCrossentropy", {}, BIN, SIGP),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, BIN, LOGITS),
    ("CategoricalCrossentropy", {}, ONEHOT, PROBS),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, ONEHOT, LOGITS),
    ("SparseCategoricalCrossentropy", {}, SPARSE, PROBS),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, SPARSE, LOGITS),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 1}, SPARSE, LOGITS),
    ("BinaryFocalCrossentropy", {}, BIN, SIGP),
    (
        "BinaryFocalCrossentropy",
        {
            "apply_class_balancing": True,
            "alpha": 0.3,
            "gamma": 1.5,
            "from_logits": True,
            "label_smoothing": 0.1,
        },
        BIN,
        LOGITS,
    ),
    ("Poisson", {}, POS_T, POS_P),
    ("KLDivergence", {}, PROBS[::-1].copy(), PROBS),
    ("MeanSquaredError", {}, REG_T, REG_P),
    ("MeanAbsoluteError", {}, REG_T, REG_P),
    ("MeanAbsolutePercentageError", {}, REG_T, REG_P),
    ("MeanSquaredLogarithmicError", {}, POS_T, POS_P),
    ("CosineSimilarity", {}, REG_T, REG_P),
    ("CosineSimilarity", {"axis": 0}, REG_T, REG_P),
    ("Huber", {}, REG_T, REG_P),
    ("Huber", {"delta": 0.5}, REG_T, REG_P),
    ("LogCosh", {}, REG_T, REG_P),
    ("Hinge", {}, BIN, REG_P),
    ("Hinge", {}, 2 * BIN - 1, REG_P),
    ("SquaredHinge", {}, BIN, REG_P),
    ("CategoricalHinge", {}, ONEHOT, REG_P),
]
REDUCTIONS = ["sum_over_batch_size", "sum", "none", "mean", "mean_with_sample_weight"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{sorted(c[1])}")
def test_loss_matches_keras(case, weighted, reduction):
    name, kwargs, y_true, y_pred = case
    sw = SW if weighted else None
    if name == "CosineSimilarity" and kwargs.get("axis") == 0 and weighted:
        sw = SW[:C]
    ref = getattr(keras.losses, name)(reduction=reduction, **kwargs)(
        y_true, y_pred, sample_weight=sw
    )
    got = getattr(L, name)(reduction=reduction, **kwargs)(y_true, y_pred, sample_weight=sw)
    assert_matches_keras(got, ref, rtol=2e-5, atol=2e-6)


FUNCS = ["binary_crossentropy", "categorical_crossentropy", "mean_squared_error", "mae", "mape",
         "msle", "kl_divergence", "poisson", "huber", "log_cosh", "hinge", "squared_hinge",
         "categorical_hinge", "cosine_similarity"]  # fmt: skip


@pytest.mark.parametrize("fn", FUNCS)
def test_function_form_matches_keras(fn):
    y_true, y_pred = (ONEHOT, PROBS) if "categ" in fn or fn == "kl_divergence" else (POS_T, POS_P)
    if fn == "binary_crossentropy":
        y_true, y_pred = BIN, SIGP
    ref = keras.losses.get(fn)(y_true, y_pred)
    got = L.get(fn)(y_true, y_pred)
    assert_matches_keras(got, ref, rtol=2e-5, atol=2e-6)


X = np.array([-6.0, -2.5, -1.0, -0.3, 0.0, 0.2, 0.9, 1.7, 3.0, 7.5], np.float32)
ACTS = ["relu", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "selu", "gelu", "silu",
        "swish", "softplus", "softsign", "hard_sigmoid", "exponential", "linear", "leaky_relu",
        "relu6", "mish", "hard_silu"]  # fmt: skip


@pytest.mark.parametrize("name", ACTS)
def test_activation_matches_keras(name):
    ref = keras.activations.get(name)(X)
    got = A.get(name)(X)
    assert_matches_keras(got, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs", [{"negative_slope": 0.1}, {"max_value": 2.0},
                                    {"threshold": 0.5}, {"negative_slope": 0.2, "max_value": 4.0,
                                                         "threshold": -1.0}])  # fmt: skip
def test_relu_options_match_keras(kwargs):
    assert_matches_keras(A.relu(X, **kwargs), keras.activations.relu(X, **kwargs), rtol=1e-6)


def test_gelu_exact_and_softmax_axis_match_keras():
    assert_matches_keras(A.gelu(X, approximate=False),
                         keras.activations.gelu(X, approximate=False), rtol=1e-5, atol=1e-6)  # fmt: skip
    m = X.reshape(2, 5)
    assert_matches_keras(A.softmax(m, axis=0), keras.activations.softmax(m, axis=0), rtol=1e-5)


W = rng.normal(size=(5, 3)).astype(np.float32) * 2


@pytest.mark.parametrize("name, kwargs", [("L1", {"l1": 0.1}), ("L2", {"l2": 0.3}),
                                          ("L1L2", {"l1": 0.1, "l2": 0.2}),
                                          ("OrthogonalRegularizer", {"factor": 0.1}),
                                          ("OrthogonalRegularizer",
                                           {"factor": 0.1, "mode": "columns"})])  # fmt: skip
def test_regularizers_match_keras(name, kwargs):
    from rill.keras import regularizers as R

    ref = getattr(keras.regularizers, name)(**kwargs)(keras.ops.convert_to_tensor(W))
    assert_matches_keras(getattr(R, name)(**kwargs)(W), ref, rtol=1e-5)


@pytest.mark.parametrize("name, kwargs", [("MaxNorm", {"max_value": 2.5}),
                                          ("MaxNorm", {"axis": 1}),
                                          ("MinMaxNorm", {"min_value": 2.0, "max_value": 3.0,
                                                          "rate": 0.7}),
                                          ("NonNeg", {}), ("UnitNorm", {"axis": 1})])  # fmt: skip
def test_constraints_match_keras(name, kwargs):
    from rill.keras import constraints as K

    ref = getattr(keras.constraints, name)(**kwargs)(W)
    assert_matches_keras(getattr(K, name)(**kwargs)(W), ref, rtol=1e-5)


@pytest.mark.parametrize("name", ["GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal",
                                  "LecunUniform", "LecunNormal", "VarianceScaling"])  # fmt: skip
def test_initializer_scale_matches_keras(name):
    from rill.keras import initializers as I

    shape = (3, 3, 32, 64)
    ref = getattr(keras.initializers, name)(seed=1)(shape)
    got = getattr(I, name)(seed=1)(shape)
    assert got.dtype.name == ref.dtype.name and tuple(got.shape) == tuple(ref.shape)
    ref, got = np.asarray(ref), got.numpy()
    assert abs(got.std() - ref.std()) < 0.03 * ref.std()
    assert abs(np.abs(got).max() - np.abs(ref).max()) < 0.05 * np.abs(ref).max()
