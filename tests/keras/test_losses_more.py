"""The Keras 3 losses added to rill (focal and generalized crossentropy, Dice, Tversky,
Circle, CTC), against NumPy formulas written here; CTC against a brute-force sum over
every alignment."""

import itertools

import numpy as np
import pytest

import rill as tf

L = tf.keras.losses
rng = np.random.default_rng(3)
EPS = 1e-7
ONEHOT = np.eye(4, dtype=np.float32)[[0, 2, 1, 3, 3]]
PROBS = rng.dirichlet(np.ones(4), size=5).astype(np.float32)
SEG_T = rng.integers(0, 2, size=(3, 4, 4)).astype(np.float32)
SEG_P = rng.uniform(size=(3, 4, 4)).astype(np.float32)


def test_categorical_focal_crossentropy_formula():
    p = np.clip(PROBS / PROBS.sum(-1, keepdims=True), EPS, 1 - EPS).astype(np.float64)
    ref = (0.25 * (1 - p) ** 2.0 * -ONEHOT * np.log(p)).sum(-1)
    got = L.categorical_focal_crossentropy(ONEHOT, PROBS)
    assert got.dtype == tf.float32 and got.shape == (5,)
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-5)
    np.testing.assert_allclose(L.CategoricalFocalCrossentropy()(ONEHOT, PROBS).numpy(),
                               ref.mean(), rtol=1e-5)  # fmt: skip


def test_categorical_generalized_cross_entropy_formula():
    labels = np.array([0, 2, 1, 3, 3])
    p = PROBS[np.arange(5), labels].astype(np.float64)
    ref = (1 - p**0.6) / 0.6
    np.testing.assert_allclose(
        L.categorical_generalized_cross_entropy(labels, PROBS, q=0.6).numpy(), ref, rtol=1e-5
    )
    np.testing.assert_allclose(
        L.CategoricalGeneralizedCrossEntropy(q=0.6)(labels[:, None], PROBS).numpy(),
        ref.mean(), rtol=1e-5,
    )  # fmt: skip
    with pytest.raises(ValueError, match="q"):
        L.CategoricalGeneralizedCrossEntropy(q=1.5)


def test_dice_and_tversky_formulas():
    t, p = SEG_T.astype(np.float64), SEG_P.astype(np.float64)
    dice_all = 1 - 2 * (t * p).sum() / (t.sum() + p.sum() + EPS)
    np.testing.assert_allclose(L.dice(SEG_T, SEG_P).numpy(), dice_all, rtol=1e-5)
    per = 1 - 2 * (t * p).sum((1, 2)) / (t.sum((1, 2)) + p.sum((1, 2)) + EPS)
    np.testing.assert_allclose(L.Dice(axis=(1, 2), reduction="none")(SEG_T, SEG_P).numpy(),
                               per, rtol=1e-5)  # fmt: skip
    tp, fp, fn = (t * p).sum(), ((1 - p) * t).sum(), (p * (1 - t)).sum()
    ref = 1 - tp / (tp + 0.3 * fp + 0.7 * fn + EPS)
    np.testing.assert_allclose(L.tversky(SEG_T, SEG_P, alpha=0.3, beta=0.7).numpy(), ref,
                               rtol=1e-5)  # fmt: skip
    # alpha = beta = 0.5 is the Dice loss
    np.testing.assert_allclose(L.tversky(SEG_T, SEG_P).numpy(), dice_all, rtol=1e-5)


def _circle_ref(labels, emb, gamma=80.0, margin=0.4):
    d = np.maximum(1 - emb @ emb.T, 0)
    pos = (labels[:, None] == labels[None, :]) & ~np.eye(len(labels), dtype=bool)
    neg = labels[:, None] != labels[None, :]
    out = []
    for i in range(len(labels)):
        ap = np.maximum(margin + d[i], 0) * pos[i]
        an = np.maximum(1 + margin - d[i], 0) * neg[i]
        lp = -gamma * ap * (margin - d[i])
        ln = gamma * an * (1 - margin - d[i])
        p = np.log(np.sum(np.exp(lp[pos[i]]))) if pos[i].any() else -np.inf
        n = np.log(np.sum(np.exp(ln[neg[i]]))) if neg[i].any() else -np.inf
        out.append(np.logaddexp(0, p + n))
    return np.array(out)


def test_circle_formula_and_zero_losses_left_out_of_the_mean():
    emb = rng.normal(size=(6, 4))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    labels = np.array([0, 1, 0, 2, 1, 3])  # class 3 has no positive pair: its loss is 0
    ref = _circle_ref(labels, emb, gamma=10.0)
    got = L.circle(labels, emb.astype(np.float32), gamma=10.0)
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-4)
    assert ref[-1] == 0
    mean = L.Circle(gamma=10.0)(labels, emb.astype(np.float32))
    np.testing.assert_allclose(mean.numpy(), ref[ref > 0].mean(), rtol=1e-4)


def _ctc_brute(labels, logits):
    """-log sum over every frame path that collapses (merge repeats, drop blanks 0) to
    ``labels``, of the product of the per-frame softmax probabilities."""
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    total = 0.0
    for path in itertools.product(range(logits.shape[1]), repeat=logits.shape[0]):
        merged = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
        if [c for c in merged if c != 0] == list(labels):
            total += np.exp(sum(logp[t, c] for t, c in enumerate(path)))
    return -np.log(total)


def test_ctc_against_every_alignment():
    logits = rng.normal(size=(2, 4, 3))
    y_true = np.array([[1, 2, 0], [2, 2, 0]])  # 0 pads (and is the blank)
    got = L.ctc(y_true, logits.astype(np.float32))
    ref = [_ctc_brute([1, 2], logits[0]), _ctc_brute([2, 2], logits[1])]
    assert got.shape == (2,)
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-4)
    np.testing.assert_allclose(L.CTC()(y_true, logits.astype(np.float32)).numpy(),
                               np.mean(ref), rtol=1e-4)  # fmt: skip
    with pytest.raises(ValueError, match="y_pred"):
        L.ctc(y_true, logits[0])


def test_dice_gradient_matches_finite_differences():
    p0 = SEG_P.astype(np.float64)
    p = tf.constant(p0)
    with tf.GradientTape() as tape:
        tape.watch(p)
        loss = L.dice(SEG_T.astype(np.float64), p)
    g = tape.gradient(loss, p).numpy()
    h, fd = 1e-6, np.zeros_like(p0)
    for idx in np.ndindex(p0.shape):
        up, dn = p0.copy(), p0.copy()
        up[idx] += h
        dn[idx] -= h
        fd[idx] = (L.dice(SEG_T, up).numpy() - L.dice(SEG_T, dn).numpy()) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize(
    "cls", ["CategoricalFocalCrossentropy", "CategoricalGeneralizedCrossEntropy", "CTC", "Dice",
            "Tversky", "Circle"],
)  # fmt: skip
def test_config_round_trip_and_lookup(cls):
    loss = getattr(L, cls)(name="mine")
    again = L.deserialize(L.serialize(loss))
    assert type(again) is type(loss) and again.get_config() == loss.get_config()
    assert isinstance(L.get(cls), getattr(L, cls))


def test_function_names_resolve():
    for fn in ["categorical_focal_crossentropy", "categorical_generalized_cross_entropy", "ctc",
               "dice", "tversky", "circle"]:  # fmt: skip
        assert L.get(fn) is getattr(L, fn)


def test_reduction_names():
    assert L.Reduction.all() == ("auto", "none", "sum", "sum_over_batch_size")
    L.Reduction.validate("sum")
    with pytest.raises(ValueError):
        L.Reduction.validate("bogus")
