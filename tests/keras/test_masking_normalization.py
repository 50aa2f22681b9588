"""Keras masks through the normalization layers and the Maximum / Minimum merges, as in
Keras 3: BatchNormalization computes its training statistics over the unmasked steps only;
Layer/Group/UnitNormalization pass the mask on; RMSNormalization (which Keras 3.15 does not
let support masking) drops it with a warning; Maximum and Minimum never let a masked step
win. References: NumPy formulas written here, padding invariance, and Keras 3 itself
(skipped without it).

    cd /work/main && PYTHONPATH=. /work/peers/bin/python -m pytest \
        tests/keras/test_masking_normalization.py
"""

from __future__ import annotations

import numpy as np
import pytest

import rill as tf
from rill import keras
from rill.keras.layer import get_keras_mask

L = keras.layers
EPS_KERAS = 1e-7  # keras.config.epsilon(): added to the count of unmasked steps
RNG = np.random.default_rng(3)
IDS = np.array([[3, 1, 0, 0], [2, 5, 4, 0], [7, 0, 0, 0]], "int32")
IDS2 = np.array([[1, 0, 2, 0], [0, 3, 3, 3], [1, 1, 0, 0]], "int32")
W = RNG.standard_normal((10, 4)).astype("float32")
W2 = RNG.standard_normal((10, 4)).astype("float32")


def _embedding(weights, mask_zero=True):
    e = L.Embedding(10, 4, mask_zero=mask_zero)
    e.build((None,))
    e.set_weights([weights])
    return e


# --------------------------------------------------------------------- BatchNormalization
def test_batch_norm_training_statistics_use_only_unmasked_steps():
    x = RNG.standard_normal((3, 5, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]], bool)
    x[~mask] = 1e4  # padding that would swamp the statistics if it were counted
    bn = L.BatchNormalization(momentum=0.5)
    out = np.asarray(bn(x, training=True, mask=mask))  # a NumPy mask is accepted too
    valid = x[mask]  # (n_valid, 4)
    n = mask.sum()
    mean = valid.sum(0) / (n + EPS_KERAS)
    var = ((valid - mean) ** 2).sum(0) / (n + EPS_KERAS)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.5 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.5 + 0.5 * var, rtol=1e-5)


def test_batch_norm_padding_invariance_from_an_embedding():
    # the statistics of a padded batch are those of its unpadded steps
    emb = _embedding(W)
    bn_masked, bn_plain = L.BatchNormalization(), L.BatchNormalization()
    bn_masked(emb(IDS), training=True)
    bn_plain(tf.constant(W[IDS[IDS != 0]]), training=True)  # only the real tokens
    np.testing.assert_allclose(bn_masked.moving_mean.numpy(), bn_plain.moving_mean.numpy(),
                               rtol=1e-5, atol=1e-7)  # fmt: skip
    np.testing.assert_allclose(bn_masked.moving_variance.numpy(),
                               bn_plain.moving_variance.numpy(), rtol=1e-5)  # fmt: skip
    y = bn_masked(emb(IDS), training=True)
    np.testing.assert_array_equal(get_keras_mask(y).numpy(), IDS != 0)  # passed on


def test_batch_norm_masked_inf_and_all_masked_stay_finite():
    x = np.ones((2, 3, 2), "float32")
    x[:, 2] = np.inf
    mask = np.array([[1, 1, 0], [1, 0, 0]], bool)
    out = np.asarray(L.BatchNormalization()(x, training=True, mask=tf.constant(mask)))
    assert np.all(np.isfinite(out[mask]))  # the inf was never multiplied into the sums
    bn = L.BatchNormalization()
    bn(np.ones((2, 3, 2), "float32"), training=True, mask=tf.zeros((2, 3), tf.bool))
    # nothing unmasked: mean and variance 0 / (0 + eps) = 0, so the moving stats decay
    np.testing.assert_allclose(bn.moving_mean.numpy(), [0.0, 0.0])
    np.testing.assert_allclose(bn.moving_variance.numpy(), [0.99, 0.99], rtol=1e-6)


def test_batch_norm_mask_rank_is_checked_even_in_inference():
    bn = L.BatchNormalization()
    x = np.ones((2, 3, 4), "float32")
    with pytest.raises(ValueError, match="one dimension less"):
        bn(x, training=False, mask=tf.ones((2, 3, 4), tf.bool))
    # inference: moving statistics, the mask only rides along
    y = bn(x, training=False, mask=tf.ones((2, 3), tf.bool))
    np.testing.assert_allclose(np.asarray(y), x / np.sqrt(1 + 1e-3), rtol=1e-6)


# ------------------------------------------------------- the layers that pass masks on
@pytest.mark.parametrize(
    "make, reference",
    [
        (
            lambda: L.LayerNormalization(),
            lambda h: (h - h.mean(-1, keepdims=True)) / np.sqrt(h.var(-1, keepdims=True) + 1e-3),
        ),
        (
            lambda: L.UnitNormalization(),
            lambda h: h / np.sqrt(np.maximum((h * h).sum(-1, keepdims=True), 1e-12)),
        ),
        (
            lambda: L.GroupNormalization(groups=2),
            # statistics per example and group, over the steps and the group's channels
            lambda h: np.concatenate(
                [
                    (g - g.mean((1, 2), keepdims=True))
                    / np.sqrt(g.var((1, 2), keepdims=True) + 1e-3)
                    for g in np.split(h, 2, axis=-1)
                ],
                axis=-1,
            ),  # fmt: skip
        ),
    ],
    ids=["layer", "unit", "group"],
)
def test_normalizations_pass_the_mask_on(make, reference):
    emb = _embedding(W)
    y = make()(emb(IDS))
    np.testing.assert_array_equal(get_keras_mask(y).numpy(), IDS != 0)
    np.testing.assert_allclose(np.asarray(y), reference(W[IDS]), rtol=1e-4, atol=1e-5)
    i = keras.Input((None,), dtype="int32")
    s = make()(L.Embedding(10, 4, mask_zero=True)(i))
    assert s._keras_mask is not None and tuple(s._keras_mask.shape) == (None, None)


def test_rms_normalization_drops_the_mask_like_keras():
    emb = _embedding(W)
    with pytest.warns(UserWarning, match="does not support masking"):
        y = L.RMSNormalization()(emb(IDS))
    assert get_keras_mask(y) is None


# -------------------------------------------------------------- Maximum and Minimum
def _fold_reference(op, values, masks):
    """Keras' rule, case by case: a step both inputs keep takes op of both, a step one
    keeps takes that one's value, a step neither keeps takes the running value."""
    out, out_m = values[0], masks[0]
    for v, m in zip(values[1:], masks[1:]):
        both, only_out, only_v = out_m & m, out_m & ~m, ~out_m & m
        out = np.where(both, op(out, v), np.where(only_out, out, np.where(only_v, v, out)))
        out_m = out_m | m
    return out, out_m


@pytest.mark.parametrize("cls, op", [(L.Maximum, np.maximum), (L.Minimum, np.minimum)])
def test_max_min_never_pick_a_masked_step(cls, op):
    big = W.copy()
    big[0] = 1e3 if cls is L.Maximum else -1e3  # padding that would win if not masked
    e1, e2 = _embedding(big), _embedding(W2)
    y = cls()([e1(IDS), e2(IDS2)])
    m1 = np.broadcast_to((IDS != 0)[..., None], (3, 4, 4))
    m2 = np.broadcast_to((IDS2 != 0)[..., None], (3, 4, 4))
    ref, ref_mask = _fold_reference(op, [big[IDS], W2[IDS2]], [m1, m2])
    np.testing.assert_allclose(np.asarray(y), ref, rtol=1e-6)
    np.testing.assert_array_equal(get_keras_mask(y).numpy(), ref_mask[..., 0])
    # three inputs
    y3 = cls()([e1(IDS), e2(IDS2), e1(IDS2)])
    m3 = m2
    ref3, mask3 = _fold_reference(op, [big[IDS], W2[IDS2], big[IDS2]], [m1, m2, m3])
    np.testing.assert_allclose(np.asarray(y3), ref3, rtol=1e-6)
    np.testing.assert_array_equal(get_keras_mask(y3).numpy(), mask3[..., 0])


def test_max_with_an_unmasked_input_fills_but_keeps_no_mask():
    e1, e3 = _embedding(W), _embedding(W2, mask_zero=False)
    y = L.Maximum()([e1(IDS), e3(IDS2)])
    m1 = np.broadcast_to((IDS != 0)[..., None], (3, 4, 4))
    # the unmasked input counts as kept everywhere
    ref, _ = _fold_reference(np.maximum, [W[IDS], W2[IDS2]], [m1, np.ones_like(m1)])
    np.testing.assert_allclose(np.asarray(y), ref, rtol=1e-6)
    assert get_keras_mask(y) is None
    plain = L.Maximum()([tf.constant(W[IDS]), tf.constant(W2[IDS2])])  # no masks at all
    np.testing.assert_allclose(np.asarray(plain), np.maximum(W[IDS], W2[IDS2]))


def test_max_symbolic_matches_eager():
    a, b = keras.Input((None,), dtype="int32"), keras.Input((None,), dtype="int32")
    e1, e2 = _embedding(W), _embedding(W2)
    out = L.Maximum()([e1(a), e2(b)])
    assert out._keras_mask is not None
    model = keras.Model([a, b], L.GlobalAveragePooling1D()(out))
    eager = L.GlobalAveragePooling1D()(L.Maximum()([e1(IDS), e2(IDS2)]))
    np.testing.assert_allclose(np.asarray(model([IDS, IDS2])), np.asarray(eager), rtol=1e-6)


# ---------------------------------------------------------------------- against Keras
def test_against_keras():
    k = pytest.importorskip("keras")
    from tests.keras.keras_compare import assert_matches_keras

    def run(mod):
        ly = mod.layers
        e1 = ly.Embedding(10, 4, mask_zero=True)
        e1.build((None,))
        big = W.copy()
        big[0] = 1e3
        e1.set_weights([big])
        e2 = ly.Embedding(10, 4, mask_zero=True)
        e2.build((None,))
        e2.set_weights([W2])
        bn = ly.BatchNormalization(momentum=0.9)
        res = {"bn": bn(e1(IDS), training=True)}
        res["moving_mean"], res["moving_variance"] = bn.moving_mean, bn.moving_variance
        res["ln"] = ly.LayerNormalization()(e1(IDS))
        res["gn"] = ly.GroupNormalization(groups=2)(e1(IDS))
        res["max"] = ly.Maximum()([e1(IDS), e2(IDS2)])
        res["min"] = ly.Minimum()([e2(IDS2), e1(IDS)])
        masks = {f"{n}_mask": get_mask(v) for n, v in res.items() if get_mask(v) is not None}
        return {n: np.asarray(v) for n, v in {**res, **masks}.items()}

    def get_mask(v):
        m = get_keras_mask(v)
        return m if m is not None else getattr(v, "_keras_mask", None)

    got, ref = run(keras), run(k)
    assert sorted(got) == sorted(ref)
    for name in ref:
        # the padded rows are ~1e3: compare relative to the values' scale
        assert_matches_keras(got[name], ref[name], rtol=1e-4, atol=1e-4, err_msg=name)
