"""The Keras catalog additions (losses, metrics, activations, initializers, constraints,
regularizers) against Keras 3 itself: same inputs, same values, dtypes and configs
(skipped without TensorFlow)."""

import numpy as np
import pytest

tf_ref = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import rill as tf  # noqa: E402
from tests.keras.keras_compare import assert_matches_keras  # noqa: E402

rk = tf.keras
rng = np.random.default_rng(11)
B, C = 6, 4
PROBS = rng.dirichlet(np.ones(C), size=B).astype(np.float32)
LOGITS = (rng.normal(size=(B, C)) * 2).astype(np.float32)
ONEHOT = np.eye(C, dtype=np.float32)[rng.integers(0, C, size=B)]
SPARSE = rng.integers(0, C, size=B).astype(np.int64)
SEG_T = rng.integers(0, 2, size=(B, 5, 5, 1)).astype(np.float32)
SEG_P = rng.uniform(size=(B, 5, 5, 1)).astype(np.float32)
SW = rng.uniform(0, 2, size=B).astype(np.float32)
REG_T = rng.normal(size=(B, 3)).astype(np.float32)
REG_P = (REG_T + 0.5 * rng.normal(size=(B, 3))).astype(np.float32)


def _emb(n, d, seed):
    e = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return e / np.linalg.norm(e, axis=1, keepdims=True)


EMB = _emb(8, 5, 3)
EMB_LABELS = np.array([0, 1, 0, 2, 1, 2, 0, 1], np.int32)

LOSS_CASES = [
    ("CategoricalFocalCrossentropy", {}, ONEHOT, PROBS),
    ("CategoricalFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.1,
                                      "gamma": 1.5, "alpha": 0.4}, ONEHOT, LOGITS),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.7}, SPARSE, PROBS),
    ("Dice", {}, SEG_T, SEG_P),
    ("Dice", {"axis": (1, 2, 3)}, SEG_T, SEG_P),
    ("Tversky", {"alpha": 0.3, "beta": 0.7}, SEG_T, SEG_P),
    ("Tversky", {"axis": (1, 2, 3)}, SEG_T, SEG_P),
    ("Circle", {}, EMB_LABELS, EMB),
    ("Circle", {"gamma": 20.0, "margin": 0.25, "remove_diagonal": False}, EMB_LABELS, EMB),
]  # fmt: skip


@pytest.mark.parametrize("case", LOSS_CASES, ids=lambda c: f"{c[0]}{sorted(c[1])}")
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_loss_classes_match_keras(case, reduction):
    name, kwargs, y_true, y_pred = case
    got = getattr(rk.losses, name)(reduction=reduction, **kwargs)(y_true, y_pred)
    ref = getattr(keras.losses, name)(reduction=reduction, **kwargs)(y_true, y_pred)
    assert_matches_keras(got, ref, rtol=2e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("name", ["Dice", "CategoricalFocalCrossentropy"])
def test_loss_sample_weight_matches_keras(name):
    y_true, y_pred = (SEG_T, SEG_P) if name == "Dice" else (ONEHOT, PROBS)
    kwargs = {"axis": (1, 2, 3)} if name == "Dice" else {}
    got = getattr(rk.losses, name)(**kwargs)(y_true, y_pred, sample_weight=SW)
    ref = getattr(keras.losses, name)(**kwargs)(y_true, y_pred, sample_weight=SW)
    assert_matches_keras(got, ref, rtol=2e-5, err_msg=name)


def test_ctc_matches_keras():
    r = np.random.default_rng(5)
    logits = r.normal(size=(3, 6, 5)).astype(np.float32)
    labels = np.array([[1, 2, 2, 0], [3, 0, 0, 0], [4, 1, 3, 2]], np.int32)
    got = rk.losses.CTC(reduction="none")(labels, logits)
    ref = keras.losses.CTC(reduction="none")(labels, logits)
    assert_matches_keras(got, ref, rtol=1e-5, err_msg="CTC")
    assert_matches_keras(rk.losses.ctc(labels, logits), keras.losses.ctc(labels, logits),
                         rtol=1e-5)  # fmt: skip


@pytest.mark.parametrize(
    "name", ["CategoricalFocalCrossentropy", "CategoricalGeneralizedCrossEntropy", "CTC",
             "Dice", "Tversky", "Circle"],
)  # fmt: skip
def test_loss_configs_match_keras(name):
    assert getattr(rk.losses, name)().get_config() == getattr(keras.losses, name)().get_config()


def test_reduction_enum_matches_keras():
    assert rk.losses.Reduction.all() == tf_ref.keras.losses.Reduction.all()
    assert rk.losses.Reduction.SUM_OVER_BATCH_SIZE == "sum_over_batch_size"
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        rk.losses.Reduction.validate("mean")


# --------------------------------------------------------------------------- metrics
IOU_T = rng.integers(0, 3, size=(4, 5)).astype(np.int64)
IOU_P = rng.integers(0, 3, size=(4, 5)).astype(np.int64)
IOU_W = rng.integers(0, 3, size=(4, 5)).astype(np.float32)
BIN_T = rng.integers(0, 2, size=20).astype(np.float32)
BIN_P = rng.uniform(size=20).astype(np.float32)
OH_T = np.eye(3, dtype=np.float32)[rng.integers(0, 3, size=7)]
OH_P = rng.dirichlet(np.ones(3), size=7).astype(np.float32)

METRIC_CASES = [
    ("IoU", {"num_classes": 3, "target_class_ids": [0, 2]}, IOU_T, IOU_P, None),
    ("IoU", {"num_classes": 3, "target_class_ids": [1], "ignore_class": 2}, IOU_T, IOU_P, IOU_W),
    ("MeanIoU", {"num_classes": 3}, IOU_T, IOU_P, IOU_W),
    ("BinaryIoU", {"threshold": 0.3}, BIN_T, BIN_P, None),
    ("BinaryIoU", {"target_class_ids": [1], "dtype": "float32"}, BIN_T, BIN_P,
     rng.uniform(size=20).astype(np.float32)),
    ("OneHotIoU", {"num_classes": 3, "target_class_ids": [0, 1]}, OH_T, OH_P, None),
    ("OneHotMeanIoU", {"num_classes": 3}, OH_T, OH_P, None),
    ("R2Score", {}, REG_T, REG_P, None),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, REG_T, REG_P, SW),
    ("R2Score", {"class_aggregation": None, "num_regressors": 1}, REG_T, REG_P, None),
    ("PearsonCorrelation", {}, REG_T, REG_P, None),
    ("PearsonCorrelation", {"axis": 0}, REG_T, REG_P, None),
    ("ConcordanceCorrelation", {}, REG_T, REG_P, SW),
]  # fmt: skip


@pytest.mark.parametrize("case", METRIC_CASES, ids=lambda c: f"{c[0]}{sorted(c[1])}")
def test_metric_classes_match_keras(case):
    name, kwargs, y_true, y_pred, sw = case
    mine, ref = getattr(rk.metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    for half in (slice(0, 3), slice(3, None)):  # two batches: the state streams
        w = None if sw is None else sw[half]
        mine.update_state(y_true[half], y_pred[half], sample_weight=w)
        ref.update_state(y_true[half], y_pred[half], sample_weight=w)
    assert_matches_keras(mine.result(), ref.result(), rtol=2e-5, atol=1e-6, err_msg=name)
    cfg_m, cfg_r = mine.get_config(), ref.get_config()
    cfg_m.pop("name"), cfg_r.pop("name")
    assert cfg_m == cfg_r
    mine.reset_state()
    ref.reset_state()
    for v_m, v_r in zip(mine.variables, ref.variables):
        np.testing.assert_array_equal(v_m.numpy(), np.asarray(v_r))


@pytest.mark.parametrize(
    "fn", ["pearson_correlation", "concordance_correlation", "huber", "logcosh",
           "binary_focal_crossentropy", "categorical_focal_crossentropy"],
)  # fmt: skip
def test_metric_functions_match_keras(fn):
    if "focal" in fn:
        y_true, y_pred = (ONEHOT, PROBS)
    else:
        y_true, y_pred = (REG_T, REG_P)
    got = getattr(rk.metrics, fn)(y_true, y_pred)
    ref = getattr(tf_ref.keras.metrics, fn)(y_true, y_pred)  # tf.keras has `logcosh`
    assert_matches_keras(got, ref, rtol=2e-5, atol=1e-6, err_msg=fn)


# ------------------------------------------------------------------------ activations
NEW_ACTIVATIONS = [
    ("celu", {}), ("celu", {"alpha": 0.5}), ("glu", {}), ("hard_shrink", {}),
    ("hard_shrink", {"threshold": 1.0}), ("hard_tanh", {}), ("soft_shrink", {}),
    ("sparse_plus", {}), ("sparse_sigmoid", {}),
    ("squareplus", {}), ("squareplus", {"b": 1.0}), ("tanh_shrink", {}),
    ("threshold", {"threshold": 0.3, "default_value": -1.0}),
]  # fmt: skip


# sparsemax is left out: Keras 3.15's TensorFlow backend sums the whole support's cumulative
# sums into its threshold, so rows come out all zero; test_activations.py checks rill's
# against the definition (the simplex projection) instead


@pytest.mark.parametrize("case", NEW_ACTIVATIONS, ids=lambda c: f"{c[0]}{sorted(c[1])}")
def test_activations_match_keras(case):
    name, kwargs = case
    x = (rng.normal(size=(5, 6)) * 2).astype(np.float32)
    got = getattr(rk.activations, name)(x, **kwargs)
    ref = getattr(keras.activations, name)(x, **kwargs)
    assert_matches_keras(got, ref, rtol=1e-5, atol=1e-6, err_msg=name)
    assert rk.activations.get(name) is getattr(rk.activations, name)
    assert rk.activations.serialize(getattr(rk.activations, name)) == name


# ------------------------------------------------------------------ initializers etc.
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"side": "imag"}, {"window": "hamming", "scaling": "spectrum", "periodic": True},
     {"window": None}, {"window": "blackman"}],
)  # fmt: skip
def test_stft_initializer_matches_keras(kwargs):
    pytest.importorskip("scipy")
    got = rk.initializers.STFT(**kwargs)((16, 1, 9))
    ref = keras.initializers.STFT(**kwargs)((16, 1, 9))
    # Keras computes the angles in float32: its zeros of sin/cos are off by ~2e-6
    assert_matches_keras(got, ref, rtol=1e-5, atol=5e-6)
    assert (
        rk.initializers.STFT(**kwargs).get_config()
        == keras.initializers.STFT(**kwargs).get_config()
    )


@pytest.mark.parametrize(
    "ns, names",
    [
        ("initializers", ["constant", "glorot_normal", "glorot_uniform", "he_normal",
                          "he_uniform", "identity", "lecun_normal", "lecun_uniform", "ones",
                          "orthogonal", "random_normal", "random_uniform", "truncated_normal",
                          "variance_scaling", "zeros", "stft", "STFTInitializer"]),
        ("constraints", ["max_norm", "min_max_norm", "non_neg", "unit_norm"]),
        ("regularizers", ["l1", "l2", "l1_l2", "orthogonal_regularizer"]),
    ],
)  # fmt: skip
def test_lowercase_aliases_are_the_classes_keras_names(ns, names):
    for n in names:
        mine, ref = getattr(getattr(rk, ns), n), getattr(getattr(keras, ns), n)
        assert isinstance(mine, type), n
        assert mine.__name__ == ref.__name__, n  # the same class under the alias
        if (
            n == "identity"
        ):  # Keras 3.15's Identity has no get_config (gain is lost); rill's keeps it
            assert mine(gain=2.0).get_config() == {"gain": 2.0}
            continue
        # approx: Keras stores some factors through float32 (0.009999999776482582)
        assert mine().get_config() == pytest.approx(ref().get_config()), n


def test_variance_scaling_axes_match_keras():
    kw = {"scale": 2.0, "mode": "fan_out", "input_axes": [0, 1], "output_axes": [2]}
    mine, ref = rk.initializers.VarianceScaling(**kw), keras.initializers.VarianceScaling(**kw)
    assert mine.get_config() == ref.get_config()
    # fan_out is the size along output_axes=[2] alone (50000), not the conv-kernel rule
    big = np.asarray(mine((3, 4, 50000), dtype="float32"))
    np.testing.assert_allclose(big.std(), np.sqrt(2.0 / 50000), rtol=0.05)
