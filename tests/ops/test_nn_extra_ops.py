"""The rest of tf.nn and the smaller tf.math ops: values against NumPy formulas written
here (brute-force CTC over all alignments, loops for morphology and LRN), gradients
against finite differences, and everything against TensorFlow itself when installed."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import rill
from rill.errors import InvalidArgumentError
from tests.gradcheck import assert_grad_matches_finite_differences

rng = np.random.default_rng(2024)
X = rng.standard_normal((2, 4, 6, 3)).astype(np.float32)


def _tf():
    return pytest.importorskip("tensorflow")


def _close(a, b, tol=1e-5):
    a = a if isinstance(a, (list, tuple)) else [a]
    b = b if isinstance(b, (list, tuple)) else [b]
    assert len(a) == len(b)
    for u, v in zip(a, b):
        u, v = np.asarray(u), np.asarray(v)
        assert u.shape == v.shape, (u.shape, v.shape)
        np.testing.assert_allclose(u, v, rtol=tol, atol=tol)


# ----------------------------------------------------------------- NumPy references


def test_space_to_depth_and_back_match_numpy():
    bs = 2
    b, h, w, c = X.shape
    want = X.reshape(b, h // bs, bs, w // bs, bs, c).transpose(0, 1, 3, 2, 4, 5)
    want = want.reshape(b, h // bs, w // bs, bs * bs * c)
    got = rill.nn.space_to_depth(X, bs)
    _close(got.numpy(), want, 0)
    _close(rill.nn.depth_to_space(got, bs).numpy(), X, 0)
    nchw = rill.nn.space_to_depth(np.transpose(X, (0, 3, 1, 2)), bs, data_format="NCHW")
    _close(nchw.numpy(), np.transpose(want, (0, 3, 1, 2)), 0)
    with pytest.raises(InvalidArgumentError, match="divisible"):
        rill.nn.space_to_depth(X[:, :3], 2)


def test_lrn_matches_loop():
    r, bias, alpha, beta = 2, 0.7, 0.2, 0.6
    want = np.empty_like(X)
    c = X.shape[-1]
    for d in range(c):
        lo, hi = max(0, d - r), min(c, d + r + 1)
        sq = np.sum(X[..., lo:hi] ** 2, axis=-1)
        want[..., d] = X[..., d] / (bias + alpha * sq) ** beta
    _close(rill.nn.lrn(X, r, bias, alpha, beta).numpy(), want)


def test_weighted_moments_and_sufficient_statistics_match_numpy():
    w = rng.uniform(0.1, 2, (2, 4, 1, 3))
    x = X.astype(np.float64)
    mean, var = rill.nn.weighted_moments(x, [1, 2], w)
    wb = np.broadcast_to(w, x.shape)
    m = np.sum(wb * x, axis=(1, 2)) / np.sum(wb, axis=(1, 2))
    v = np.sum(wb * (x - m[:, None, None]) ** 2, axis=(1, 2)) / np.sum(wb, axis=(1, 2))
    _close([mean.numpy(), var.numpy()], [m, v], 1e-12)
    count, m_ss, v_ss, shift = rill.nn.sufficient_statistics(x, [0, 2], shift=0.25)
    _close(
        [count.numpy(), m_ss.numpy(), v_ss.numpy()],
        [12.0, np.sum(x - 0.25, axis=(0, 2)), np.sum((x - 0.25) ** 2, axis=(0, 2))],
        1e-12,
    )
    assert float(shift) == 0.25


def _dilation_loop(x, f, stride, rate, padding):
    b, h, w, c = x.shape
    kh, kw, _ = f.shape
    eh, ew = (kh - 1) * rate[0] + 1, (kw - 1) * rate[1] + 1
    if padding == "VALID":
        oh, ow, pt, pl = (h - eh) // stride[0] + 1, (w - ew) // stride[1] + 1, 0, 0
    else:
        oh, ow = -(-h // stride[0]), -(-w // stride[1])
        pt = max((oh - 1) * stride[0] + eh - h, 0) // 2
        pl = max((ow - 1) * stride[1] + ew - w, 0) // 2
    out = np.full((b, oh, ow, c), -np.inf)
    for y, xx, dy, dx in itertools.product(range(oh), range(ow), range(kh), range(kw)):
        iy, ix = y * stride[0] + dy * rate[0] - pt, xx * stride[1] + dx * rate[1] - pl
        if 0 <= iy < h and 0 <= ix < w:
            out[:, y, xx] = np.maximum(out[:, y, xx], x[:, iy, ix] + f[dy, dx])
    return out


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_dilation2d_and_erosion2d_match_loop(padding):
    x = X.astype(np.float64)
    f = rng.standard_normal((2, 3, 3))
    s, d = [1, 2, 1, 1], [1, 1, 2, 1]
    want = _dilation_loop(x, f, (2, 1), (1, 2), padding)
    _close(rill.nn.dilation2d(x, f, s, padding, "NHWC", d).numpy(), want, 1e-12)
    want_e = -_dilation_loop(-x, f[::-1, ::-1], (2, 1), (1, 2), padding)
    _close(rill.nn.erosion2d(x, f, s, padding, "NHWC", d).numpy(), want_e, 1e-12)


def test_dilated_pool_matches_loop_and_rejects_same():
    x = X.astype(np.float64)
    got = rill.nn.pool(x, [2, 2], "MAX", dilations=[2, 1]).numpy()
    want = np.max([x[:, i * 2 : i * 2 + 2, j : j + 5] for i in range(2) for j in range(2)], axis=0)
    _close(got, want, 0)
    got = rill.nn.pool(x, [2, 2], "AVG", dilations=[2, 1]).numpy()
    _close(
        got,
        np.mean([x[:, i * 2 : i * 2 + 2, j : j + 5] for i in range(2) for j in range(2)], axis=0),
        1e-12,
    )
    with pytest.raises(ValueError, match="SAME"):
        rill.nn.pool(x, [2, 2], "MAX", padding="SAME", dilations=[2, 2])


def test_composite_gradients_match_finite_differences():
    x = rng.standard_normal((1, 4, 4, 2))
    f = rng.standard_normal((2, 2, 2))
    assert_grad_matches_finite_differences(
        lambda t, g: rill.reduce_sum(
            rill.nn.dilation2d(t, g, [1, 1, 1, 1], "SAME", "NHWC", [1, 1, 1, 1]) ** 2
        ),
        x,
        f,
    )
    w = rng.uniform(0.5, 1.5, (1, 4, 4, 1))
    assert_grad_matches_finite_differences(
        lambda t: rill.reduce_sum(rill.nn.weighted_moments(t, [1, 2], w)[1]), x
    )
    assert_grad_matches_finite_differences(
        lambda t: rill.reduce_sum(rill.nn.space_to_depth(t, 2) * np.arange(8.0)), x
    )
    assert_grad_matches_finite_differences(
        lambda t: rill.reduce_sum(rill.nn.pool(t, [2, 2], "MAX", dilations=[2, 1]) ** 2), x
    )
    _lrn_grad_check(rng.standard_normal((1, 2, 2, 5)))


def _lrn_grad_check(x):
    # LRN is float32-only (as in TF): compare its float32 gradient against float64
    # central differences of the same formula written in NumPy
    xt = rill.constant(x.astype(np.float32))
    with rill.GradientTape() as tape:
        tape.watch(xt)
        loss = rill.reduce_sum(rill.nn.lrn(xt, 1, 1.0, 0.5, 0.75) ** 2)
    g = tape.gradient(loss, xt).numpy()

    def f(a):
        sq = np.pad(a**2, [(0, 0)] * 3 + [(1, 1)])
        win = sq[..., :-2] + sq[..., 1:-1] + sq[..., 2:]
        return np.sum((a / (1.0 + 0.5 * win) ** 0.75) ** 2)

    num = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = 1e-6
        num.flat[i] = (f(x + e) - f(x - e)) / 2e-6
    np.testing.assert_allclose(g, num, rtol=1e-3, atol=1e-4)


def test_isotonic_regression_is_the_least_squares_monotone_fit():
    y = np.array([[1.0, 3.0, 2.0, 4.0, 0.5], [5.0, 4.0, 4.5, 1.0, 2.0]])
    fit, seg = rill.nn.isotonic_regression(y)  # decreasing by default
    fit, seg = fit.numpy(), seg.numpy()
    assert np.all(np.diff(fit, axis=1) <= 0)
    for row, s, fr in zip(y, seg, fit):  # each segment's value is its inputs' mean
        for k in np.unique(s):
            np.testing.assert_allclose(fr[s == k], row[s == k].mean())
    # brute force over all monotone step patterns of a short row: nothing fits better
    best = min(
        np.sum((y[0] - c) ** 2)
        for c in itertools.product(np.unique(np.round(fit[0], 6)), repeat=5)
        if all(a >= b for a, b in zip(c, c[1:]))
    )
    assert np.sum((y[0] - fit[0]) ** 2) <= best + 1e-9
    up, _ = rill.nn.isotonic_regression(y, decreasing=False, axis=0)
    assert np.all(np.diff(up.numpy(), axis=0) >= 0)


def test_isotonic_regression_gradient_averages_over_segments():
    y = rill.constant([[1.0, 3.0, 2.0, 4.0]])
    with rill.GradientTape() as tape:
        tape.watch(y)
        fit, seg = rill.nn.isotonic_regression(y)
        loss = rill.reduce_sum(fit * [[1.0, 2.0, 3.0, 4.0]])
    # the whole row pools into one segment of mean value: each input gets mean(weights)
    np.testing.assert_allclose(tape.gradient(loss, y).numpy(), [[2.5, 2.5, 2.5, 2.5]])


def test_label_utilities():
    labels, lens = rill.nn.collapse_repeated([[1, 1, 2, 2, 3], [4, 4, 4, 0, 0]], [5, 3])
    np.testing.assert_array_equal(labels.numpy(), [[1, 2, 3], [4, 0, 0]])
    np.testing.assert_array_equal(lens.numpy(), [3, 1])
    u, idx = rill.nn.ctc_unique_labels([[3, 4, 4, 3], [1, 1, 5, 0]])
    np.testing.assert_array_equal(u.numpy(), [[3, 4, 0, 0], [1, 5, 0, 0]])
    np.testing.assert_array_equal(idx.numpy(), [[0, 1, 1, 0], [0, 0, 1, 2]])
    hits = rill.nn.compute_accidental_hits([[1, 2], [3, 4]], [2, 3, 1, 9, 2], 2)
    np.testing.assert_array_equal(hits.indices.numpy(), [0, 0, 1])
    np.testing.assert_array_equal(hits.ids.numpy(), [2, 4, 1])  # last position of a repeat
    assert np.all(hits.weights.numpy() == -np.finfo(np.float32).max)


# ------------------------------------------------------------------------------ CTC


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _collapse(path, blank):
    out, prev = [], None
    for k in path:
        if k != prev and k != blank:
            out.append(k)
        prev = k
    return tuple(out)


def _labelling_probs(logits, blank):
    """P(labelling) for every labelling, by enumerating all alignments (tiny T, C)."""
    p = _softmax(logits.astype(np.float64))
    probs = {}
    for path in itertools.product(range(p.shape[1]), repeat=p.shape[0]):
        key = _collapse(path, blank)
        probs[key] = probs.get(key, 0.0) + math.prod(p[t, k] for t, k in enumerate(path))
    return probs


def test_ctc_loss_matches_brute_force_and_finite_differences():
    logits = rng.standard_normal((4, 2, 3))  # time major, 3 classes, blank 0
    labels = np.array([[1, 2], [2, 0]], np.int32)
    label_length, logit_length = [2, 1], [4, 3]
    got = rill.nn.ctc_loss(labels, logits, label_length, logit_length).numpy()
    want = [
        -math.log(_labelling_probs(logits[:4, 0], 0)[(1, 2)]),
        -math.log(_labelling_probs(logits[:3, 1], 0)[(2,)]),
    ]
    np.testing.assert_allclose(got, want, rtol=1e-10)
    assert_grad_matches_finite_differences(
        lambda t: rill.reduce_sum(
            rill.nn.ctc_loss(labels, t, label_length, logit_length) * [1.0, 0.5]
        ),
        logits,
    )


def test_ctc_greedy_and_beam_search_decoders():
    logits = rng.standard_normal((4, 2, 3))
    seq = [4, 3]
    dec, neg = rill.nn.ctc_greedy_decoder(logits, seq)
    dense = rill.sparse.to_dense(dec[0]).numpy()
    for i, t in enumerate(seq):
        want = _collapse(np.argmax(logits[:t, i], -1).tolist(), 2)
        assert tuple(dense[i, : len(want)]) == want
        np.testing.assert_allclose(neg.numpy()[i, 0], -np.sum(np.max(logits[:t, i], -1)))
    decs, logp = rill.nn.ctc_beam_search_decoder(logits, seq, beam_width=50, top_paths=2)
    for i, t in enumerate(seq):
        ranked = sorted(_labelling_probs(logits[:t, i], 2).items(), key=lambda kv: -kv[1])
        for p in range(2):
            row = rill.sparse.to_dense(decs[p]).numpy()[i]
            assert tuple(row[: len(ranked[p][0])]) == ranked[p][0]
            np.testing.assert_allclose(logp.numpy()[i, p], math.log(ranked[p][1]), rtol=1e-6)


# ------------------------------------------------------------------- smaller tf.math


def test_math_extras_match_numpy():
    perm = rng.permutation(7).astype(np.int32)
    np.testing.assert_array_equal(rill.math.invert_permutation(perm).numpy(), np.argsort(perm))
    with pytest.raises(InvalidArgumentError, match="duplicated"):
        rill.math.invert_permutation([0, 0, 1])
    for v in ([1, 2, 2, 5], [[1, 2], [3, 4]], [3, 1], [], 7):
        a = np.ravel(v)
        assert bool(rill.math.is_non_decreasing(v)) == bool(np.all(np.diff(a) >= 0))
        assert bool(rill.math.is_strictly_increasing(v)) == bool(np.all(np.diff(a) > 0))
    with pytest.raises(TypeError):
        rill.math.is_non_decreasing(["a"])
    lab, pred = np.array([1, 2, 4, 2]), np.array([2, 2, 4, 1])
    want = np.zeros((5, 5), np.int32)
    np.add.at(want, (lab, pred), 1)
    cm = rill.math.confusion_matrix(lab, pred)
    assert cm.dtype == rill.int32
    np.testing.assert_array_equal(cm.numpy(), want)
    wcm = rill.math.confusion_matrix(
        lab, pred, num_classes=6, weights=[0.5, 1, 2, 3], dtype=rill.float32
    )
    wantw = np.zeros((6, 6), np.float32)
    np.add.at(wantw, (lab, pred), [0.5, 1, 2, 3])
    np.testing.assert_array_equal(wcm.numpy(), wantw)
    with pytest.raises(InvalidArgumentError, match="negative"):
        rill.math.confusion_matrix([-1, 2], [2, 2])
    x1, x2 = np.float32([1, 2, -1]), np.float32([2, 0, -3])
    np.testing.assert_array_equal(rill.math.nextafter(x1, x2).numpy(), np.nextafter(x1, x2))
    np.testing.assert_array_equal(
        rill.math.multiply_no_nan([np.inf, np.nan, 2.0], [0.0, 0.0, 3.0]).numpy(), [0, 0, 6]
    )
    m = rng.standard_normal((3, 5)).astype(np.float32)
    v, i = rill.math.approx_max_k(m, 2)
    np.testing.assert_array_equal(v.numpy(), -np.sort(-m, axis=1)[:, :2])
    v, i = rill.math.approx_min_k(m, 1, reduction_dimension=0)
    np.testing.assert_array_equal(i.numpy(), np.argmin(m, axis=0)[None])
    assert rill.nn.approx_max_k is rill.math.approx_max_k
    s = rill.math.accumulate_n([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_array_equal(s.numpy(), [9.0, 12.0])
    with pytest.raises(ValueError):
        rill.math.accumulate_n([])


def test_sobol_sample_is_scipys_sequence_without_the_origin():
    qmc = pytest.importorskip("scipy.stats.qmc")
    ref = qmc.Sobol(4, scramble=False).random(16)
    np.testing.assert_array_equal(
        rill.math.sobol_sample(4, 7, skip=3, dtype=rill.float64).numpy(), ref[4:11]
    )
    assert rill.math.sobol_sample(2, 3).dtype == rill.float32


def test_multiply_no_nan_gradient_follows_tf():
    x, y = rill.constant([np.inf, 2.0]), rill.constant([0.0, 3.0])
    with rill.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        z = rill.math.multiply_no_nan(x, y)
    np.testing.assert_array_equal(tape.gradient(z, x).numpy(), [0.0, 3.0])
    np.testing.assert_array_equal(tape.gradient(z, y).numpy(), [np.inf, 2.0])


def test_experimental_dropouts():
    x = rill.ones([200, 50])
    y = rill.nn.experimental.stateless_dropout(x, 0.25, seed=[3, 4]).numpy()
    np.testing.assert_array_equal(
        y, rill.nn.experimental.stateless_dropout(x, 0.25, seed=[3, 4]).numpy()
    )
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert abs(np.mean(y == 0) - 0.25) < 0.02
    u = np.linspace(0, 0.99, 10, dtype=np.float32).reshape(2, 5)
    z = rill.nn.experimental.general_dropout(
        rill.ones([2, 5]), 0.5, lambda shape, dtype: rill.constant(u)
    )
    np.testing.assert_allclose(z.numpy(), np.where(u >= 0.5, 2.0, 0.0))
    with pytest.raises(ValueError, match="rate"):
        rill.nn.experimental.stateless_dropout(x, 1.0, seed=[1, 2])


# ------------------------------------------------------------------ against TensorFlow


def test_against_tensorflow_nn():
    tf = _tf()
    _close(rill.nn.space_to_depth(X, 2), tf.nn.space_to_depth(X, 2))
    y = rng.standard_normal((2, 2, 3, 8)).astype(np.float32)
    _close(rill.nn.depth_to_space(y, 2), tf.nn.depth_to_space(y, 2))
    _close(rill.nn.lrn(X, 1, 0.5, 0.3, 0.75), tf.nn.lrn(X, 1, 0.5, 0.3, 0.75))
    _close(rill.nn.local_response_normalization(X), tf.nn.local_response_normalization(X))
    w = rng.uniform(0, 2, (2, 4, 1, 3)).astype(np.float32)
    _close(list(rill.nn.weighted_moments(X, [1, 2], w)), list(tf.nn.weighted_moments(X, [1, 2], w)))
    _close(list(rill.nn.sufficient_statistics(X, [1], shift=0.5, keepdims=True)),
           list(tf.nn.sufficient_statistics(X, [1], shift=0.5, keepdims=True)))  # fmt: skip
    for pt, pd in itertools.product(("MAX", "AVG"), ("SAME", "VALID")):
        _close(rill.nn.pool(X, [2, 2], pt, strides=[2, 1], padding=pd),
               tf.nn.pool(X, [2, 2], pt, strides=[2, 1], padding=pd))  # fmt: skip
    for pt in ("MAX", "AVG"):
        _close(
            rill.nn.pool(X[:, 0], [3], pt, dilations=[2]),
            tf.nn.pool(X[:, 0], [3], pt, dilations=[2]),
        )
    f = rng.standard_normal((2, 3, 3)).astype(np.float32)
    for pd in ("SAME", "VALID"):
        args = ([1, 2, 1, 1], pd, "NHWC", [1, 1, 2, 1])
        _close(rill.nn.dilation2d(X, f, *args), tf.nn.dilation2d(X, f, *args))
        _close(rill.nn.erosion2d(X, f, *args), tf.nn.erosion2d(X, f, *args))
    dw = rng.standard_normal((3, 3, 3, 2)).astype(np.float32)
    dy = rng.standard_normal((2, 2, 3, 6)).astype(np.float32)
    s = [1, 2, 2, 1]
    _close(rill.nn.depthwise_conv2d_backprop_input([2, 4, 6, 3], dw, dy, s, "SAME"),
           tf.nn.depthwise_conv2d_backprop_input([2, 4, 6, 3], dw, dy, s, "SAME"))  # fmt: skip
    _close(rill.nn.depthwise_conv2d_backprop_filter(X, [3, 3, 3, 2], dy, s, "SAME"),
           tf.nn.depthwise_conv2d_backprop_filter(X, [3, 3, 3, 2], dy, s, "SAME"), 1e-4)  # fmt: skip
    iv = rng.standard_normal((3, 5)).astype(np.float32)
    for dec, ax in itertools.product((True, False), (-1, 0)):
        _close(list(rill.nn.isotonic_regression(iv, decreasing=dec, axis=ax)),
               list(tf.nn.isotonic_regression(iv, decreasing=dec, axis=ax)))  # fmt: skip
    for dt in ("int16", "int64"):
        got = rill.nn.isotonic_regression(rill.constant([[3, 1, 2]], dt))[0]
        assert (
            got.dtype.name == tf.nn.isotonic_regression(tf.constant([[3, 1, 2]], dt))[0].dtype.name
        )
    args = (X, 0.1, 2.0, 0.3, 1.5, 1e-3, True)
    _close(
        rill.nn.batch_norm_with_global_normalization(*args),
        tf.nn.batch_norm_with_global_normalization(*args),
    )
    _close(
        rill.nn.scale_regularization_loss([1.0, 2.5]), tf.nn.scale_regularization_loss([1.0, 2.5])
    )
    t, sc = np.array([[1, 2], [3, 4]], np.int64), np.array([2, 3, 1, 9, 2], np.int64)
    _close(
        list(rill.nn.compute_accidental_hits(t, sc, 2)),
        list(tf.nn.compute_accidental_hits(t, sc, 2)),
    )


def test_against_tensorflow_ctc():
    tf = _tf()
    logits = rng.standard_normal((5, 2, 4)).astype(np.float32)
    labels = np.array([[1, 2, 0], [3, 3, 0]], np.int32)
    ll, tl = [2, 2], [5, 4]
    for bi in (None, 0, -1, 2):
        _close(
            rill.nn.ctc_loss(labels, logits, ll, tl, blank_index=bi),
            tf.nn.ctc_loss(labels, logits, ll, tl, blank_index=bi),
        )
    _close(rill.nn.ctc_loss(rill.sparse.from_dense(labels), logits, None, tl, blank_index=-1),
           tf.nn.ctc_loss(tf.sparse.from_dense(labels), logits, None, tl, blank_index=-1))  # fmt: skip
    with pytest.raises(ValueError, match="blank_index"):
        rill.nn.ctc_loss(rill.sparse.from_dense(labels), logits, None, tl)
    bm = np.transpose(logits, (1, 0, 2))
    _close(rill.nn.ctc_loss(labels, bm, ll, tl, logits_time_major=False),
           tf.nn.ctc_loss(labels, bm, ll, tl, logits_time_major=False))  # fmt: skip
    x, xt = rill.constant(logits), tf.constant(logits)
    with rill.GradientTape() as t1:
        t1.watch(x)
        loss = rill.nn.ctc_loss(labels, x, ll, tl)
    with tf.GradientTape() as t2:
        t2.watch(xt)
        loss_t = tf.nn.ctc_loss(labels, xt, ll, tl)
    _close(t1.gradient(loss, x), t2.gradient(loss_t, xt))
    for bi in (None, 0):
        d, s = rill.nn.ctc_greedy_decoder(logits, tl, blank_index=bi)
        dt, st = tf.nn.ctc_greedy_decoder(logits, tl, blank_index=bi)
        _close(
            [d[0].indices, d[0].values, d[0].dense_shape, s],
            [dt[0].indices, dt[0].values, dt[0].dense_shape, st],
        )
    l4 = rng.standard_normal((4, 3, 4)).astype(np.float32)
    d, s = rill.nn.ctc_beam_search_decoder(l4, [4, 3, 4], beam_width=100, top_paths=3)
    dt, st = tf.nn.ctc_beam_search_decoder(l4, [4, 3, 4], beam_width=100, top_paths=3)
    for p in range(3):
        _close(
            [d[p].indices, d[p].values, d[p].dense_shape],
            [dt[p].indices, dt[p].values, dt[p].dense_shape],
        )
    _close(s, st)


def test_against_tensorflow_math():
    tf = _tf()
    m = rng.standard_normal((3, 5)).astype(np.float32)
    _close(list(rill.math.approx_max_k(m, 2)), list(tf.math.approx_max_k(m, 2)))
    _close(
        rill.math.confusion_matrix([1, 2, 4], [2, 2, 4]),
        tf.math.confusion_matrix([1, 2, 4], [2, 2, 4]),
    )
    _close(rill.math.sobol_sample(3, 6, skip=2), tf.math.sobol_sample(3, 6, skip=2))
    _close(rill.math.invert_permutation([3, 0, 2, 1]), tf.math.invert_permutation([3, 0, 2, 1]))
    x, y = tf.constant([np.inf, 2.0]), tf.constant([0.0, 3.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        z = tf.math.multiply_no_nan(x, y)
    xr, yr = rill.constant([np.inf, 2.0]), rill.constant([0.0, 3.0])
    with rill.GradientTape(persistent=True) as t2:
        t2.watch([xr, yr])
        zr = rill.math.multiply_no_nan(xr, yr)
    _close([zr, *t2.gradient(zr, [xr, yr])], [z, *tape.gradient(z, [x, y])])


# ------------------------------------------------------------------ candidate sampling

TC = np.array([[1, 5], [2, 7]], np.int64)


def _log_uniform_p(k, n):
    return (np.log(k + 2.0) - np.log(k + 1.0)) / np.log(n + 1.0)


@pytest.mark.parametrize("unique", [False, True])
def test_samplers_ranges_counts_and_determinism(unique):
    r = rill.random
    s, te, se = r.log_uniform_candidate_sampler(TC, 2, 6, unique, 10, seed=3)
    s = s.numpy()
    assert s.dtype == np.int64 and s.shape == (6,) and np.all((s >= 0) & (s < 10))
    if unique:
        assert len(set(s.tolist())) == 6
    else:  # no rejection: expected count = num_sampled * P(class)
        np.testing.assert_allclose(te.numpy(), 6 * _log_uniform_p(TC, 10), rtol=1e-6)
        np.testing.assert_allclose(se.numpy(), 6 * _log_uniform_p(s, 10), rtol=1e-6)
    rill.random.set_seed(5)
    a = r.uniform_candidate_sampler(TC, 2, 5, unique, 10, seed=7)[0].numpy()
    rill.random.set_seed(5)
    b = r.uniform_candidate_sampler(TC, 2, 5, unique, 10, seed=7)[0].numpy()
    np.testing.assert_array_equal(a, b)


def test_log_uniform_sampler_frequencies_follow_zipf():
    s = rill.random.log_uniform_candidate_sampler(TC, 2, 20000, False, 8, seed=1)[0].numpy()
    freq = np.bincount(s, minlength=8) / s.size
    np.testing.assert_allclose(freq, _log_uniform_p(np.arange(8), 8), atol=0.015)


def test_fixed_unigram_and_all_samplers():
    uni = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    s, te, se = rill.random.fixed_unigram_candidate_sampler(
        TC, 2, 4, False, 8, unigrams=uni, num_reserved_ids=2, distortion=0.5, seed=2
    )
    w = np.array([0, 0] + [u**0.5 for u in uni])
    p = w / w.sum()
    np.testing.assert_allclose(te.numpy(), 4 * p[TC], rtol=1e-6)
    np.testing.assert_allclose(se.numpy(), 4 * p[s.numpy()], rtol=1e-6)
    assert np.all(s.numpy() >= 2)  # reserved ids have probability 0
    with pytest.raises(InvalidArgumentError, match="range_max"):
        rill.random.fixed_unigram_candidate_sampler(TC, 2, 4, False, 9, unigrams=uni)
    s, te, se = rill.nn.all_candidate_sampler(TC, 2, 8, True)
    np.testing.assert_array_equal(s.numpy(), np.arange(8))
    assert np.all(te.numpy() == 1) and np.all(se.numpy() == 1)


def _np_sampled_logits(w, b, labels, x, sampled, te, se, num_true, remove_hits):
    true_logits = np.einsum("bd,btd->bt", x, w[labels]) + b[labels] - np.log(te)
    samp = x @ w[sampled].T + b[sampled]
    if remove_hits:
        samp = samp + np.where(
            labels[:, :, None] == sampled[None, None], -np.finfo(np.float32).max, 0
        ).sum(1)
    samp = samp - np.log(se)
    return np.concatenate([true_logits, samp], 1), np.concatenate(
        [np.full(true_logits.shape, 1.0 / num_true), np.zeros(samp.shape)], 1
    )


@pytest.mark.parametrize("remove_hits", [False, True])
def test_nce_and_sampled_softmax_losses_match_numpy(remove_hits):
    w = rng.standard_normal((10, 4))
    b = rng.standard_normal(10)
    x = rng.standard_normal((2, 4))
    sv = (
        np.array([1, 3, 8], np.int64),
        np.array([[0.3, 0.2], [0.4, 0.1]]),
        np.array([0.2, 0.5, 0.1]),
    )
    logits, labels = _np_sampled_logits(w, b, TC, x, *sv, 2, remove_hits)
    sig = np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))
    got = rill.nn.nce_loss(
        w, b, TC, x, 3, 10, num_true=2, sampled_values=sv, remove_accidental_hits=remove_hits
    )
    np.testing.assert_allclose(got.numpy(), sig.sum(1), rtol=1e-6)
    lse = np.log(np.sum(np.exp(logits - logits.max(1, keepdims=True)), 1)) + logits.max(1)
    got = rill.nn.sampled_softmax_loss(
        w, b, TC, x, 3, 10, num_true=2, sampled_values=sv, remove_accidental_hits=remove_hits
    )
    np.testing.assert_allclose(got.numpy(), lse - np.sum(labels * logits, 1), rtol=1e-6)


def test_sampled_softmax_trains_through_its_gradient():
    w = rill.Variable(rng.standard_normal((10, 4)))
    b = rill.Variable(np.zeros(10))
    x = rng.standard_normal((2, 4))
    with rill.GradientTape() as tape:
        loss = rill.reduce_sum(rill.nn.sampled_softmax_loss(w, b, TC[:, :1], x, 3, 10, seed=1))
    gw, gb = tape.gradient(loss, [w, b])
    gw, gb = rill.convert_to_tensor(gw), rill.convert_to_tensor(gb)  # IndexedSlices, as TF
    assert np.any(gw.numpy() != 0) and gb is not None


def test_samplers_and_losses_against_tensorflow():
    tf = _tf()
    for f in ("uniform_candidate_sampler", "log_uniform_candidate_sampler"):
        got = getattr(rill.random, f)(TC, 2, 6, False, 10, seed=3)
        want = getattr(tf.random, f)(TC, 2, 6, False, 10, seed=3)
        _close(got[1], want[1])  # the true classes' expected counts are deterministic
    kw = {"unigrams": [1, 2, 3, 4, 5, 6], "num_reserved_ids": 2, "distortion": 0.75, "seed": 1}
    _close(rill.random.fixed_unigram_candidate_sampler(TC, 2, 4, False, 8, **kw)[1],
           tf.random.fixed_unigram_candidate_sampler(TC, 2, 4, False, 8, **kw)[1])  # fmt: skip
    _close(
        list(rill.random.all_candidate_sampler(TC, 2, 8, True)),
        list(tf.random.all_candidate_sampler(TC, 2, 8, True)),
    )
    w = rng.standard_normal((10, 4)).astype(np.float32)
    b = rng.standard_normal(10).astype(np.float32)
    x = rng.standard_normal((2, 4)).astype(np.float32)
    sv = (
        np.array([1, 3, 8], np.int64),
        np.float32([[0.3, 0.2], [0.4, 0.1]]),
        np.float32([0.2, 0.5, 0.1]),
    )
    for rah in (False, True):
        kw = {"num_true": 2, "sampled_values": sv, "remove_accidental_hits": rah}
        _close(rill.nn.nce_loss(w, b, TC, x, 3, 10, **kw), tf.nn.nce_loss(w, b, TC, x, 3, 10, **kw))
        _close(
            rill.nn.sampled_softmax_loss(w, b, TC, x, 3, 10, **kw),
            tf.nn.sampled_softmax_loss(w, b, TC, x, 3, 10, **kw),
        )


def test_fixed_unigram_sampler_reads_a_vocab_file(tmp_path):
    vocab = tmp_path / "vocab.csv"
    vocab.write_text("the,8\ncat,2\nsat,6\n")
    s, te, se = rill.random.fixed_unigram_candidate_sampler(
        [[0], [2]], 1, 3, False, 3, vocab_file=str(vocab), seed=4
    )
    np.testing.assert_allclose(te.numpy(), [[3 * 8 / 16], [3 * 6 / 16]], rtol=1e-6)
