"""tf.nn / tf.random stragglers: index shuffles, fractional pools, sparse embeddings,
with_space_to_batch, the learned unigram sampler and parameterized truncated normals.

Values are checked against TensorFlow where it is installed and against NumPy
formulas written here otherwise."""

import numpy as np
import pytest

import rill as tf
from rill.ops.nn_more_ops import fractional_pool_with_sequences
from tests.gradcheck import assert_grad_matches_finite_differences as fd_check


def _tf():
    return pytest.importorskip("tensorflow")


# ------------------------------------------------------------------- index shuffle
def test_index_shuffle_docstring_values():
    # the two permutations TF documents for tf.random.experimental.index_shuffle
    out = tf.random.experimental.index_shuffle(tf.range(4), [5, 9], 3)
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), [2, 0, 1, 3])
    out = tf.random.experimental.index_shuffle(tf.range(10, dtype=tf.int64), [5, 8], 9)
    np.testing.assert_array_equal(out.numpy(), [3, 8, 0, 1, 2, 7, 6, 9, 4, 5])


@pytest.mark.parametrize("max_index", [0, 1, 7, 1000, 65535, 65536, 2**20 + 3, 2**40])
def test_index_shuffle_is_a_permutation_or_in_range(max_index):
    n = min(max_index + 1, 3000)
    out = tf.random.experimental.index_shuffle(
        tf.range(n, dtype=tf.int64), [3, 4], tf.constant(max_index, tf.int64)
    ).numpy()
    assert out.min() >= 0 and out.max() <= max_index
    assert len(set(out.tolist())) == n  # a bijection maps distinct indices apart
    if n == max_index + 1:
        assert sorted(out.tolist()) == list(range(n))


def test_index_shuffle_scalar_and_vs_tf():
    tft = _tf()
    for dtype, seed, mx in [
        ("int32", [1, 2], 77),
        ("int64", [-3, 9], 10**9),
        ("int64", [0, 0], 2**33),
    ]:
        idx = np.arange(0, min(mx, 50), dtype=dtype)
        ours = tf.random.experimental.index_shuffle(tf.constant(idx), seed, tf.constant(mx, dtype))
        ref = tft.random.experimental.index_shuffle(
            tft.constant(idx), seed, tft.constant(mx, dtype)
        )
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    s = tf.random.experimental.index_shuffle(3, [5, 9], 10)
    assert s.shape == () and int(s) == int(tft.random.experimental.index_shuffle(3, [5, 9], 10))


def test_random_index_shuffle_rounds_and_batched_seeds_vs_tf():
    tft = _tf()
    idx = np.array([0, 1, 2, 3, 100000], np.int64)
    seeds = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9], [1, 1, 1], [0, 0, 2**31 + 5]], np.int64)
    for rounds in (4, 6, 8):
        ours = tf.random_index_shuffle(idx, [1, 2, 3], 200000, rounds=rounds)
        ref = tft.random_index_shuffle(idx, [1, 2, 3], 200000, rounds=rounds)
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    ours = tf.random_index_shuffle(idx, seeds, np.int64(200000))
    ref = tft.random_index_shuffle(idx, seeds, np.int64(200000))
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def test_random_index_shuffle_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="rounds"):
        tf.random_index_shuffle(1, [1, 2, 3], 10, rounds=3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Seed must be"):
        tf.random_index_shuffle(1, [1, 2], 10)


# ------------------------------------------------------------------- fractional pools
def _pool_reference(kind, x, rows, cols, overlapping):
    """Direct loops over the regions the boundaries cut."""
    b, h, w, c = x.shape
    out = np.zeros((b, len(rows) - 1, len(cols) - 1, c), x.dtype)
    for i in range(len(rows) - 1):
        r1 = min(rows[i + 1] if overlapping else rows[i + 1] - 1, h - 1)
        for j in range(len(cols) - 1):
            c1 = min(cols[j + 1] if overlapping else cols[j + 1] - 1, w - 1)
            region = x[:, rows[i] : r1 + 1, cols[j] : c1 + 1, :]
            out[:, i, j] = region.max(axis=(1, 2)) if kind == "max" else region.mean(axis=(1, 2))
    return out


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("pseudo_random", [False, True])
@pytest.mark.parametrize("overlapping", [False, True])
def test_fractional_pool_regions(kind, pseudo_random, overlapping):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 11, 9, 3)).astype(np.float32)
    fn = tf.nn.fractional_max_pool if kind == "max" else tf.nn.fractional_avg_pool
    out, rows, cols = fn(x, [1.0, 1.6, 1.3, 1.0], pseudo_random, overlapping, seed=7)
    rows, cols = rows.numpy(), cols.numpy()
    assert rows[0] == 0 and rows[-1] == 11 and len(rows) == int(11 / 1.6) + 1
    assert cols[0] == 0 and cols[-1] == 9 and len(cols) == int(9 / 1.3) + 1
    for seq, n_in in ((rows, 11), (cols, 9)):
        k = n_in // (len(seq) - 1)
        assert set(np.diff(seq).tolist()) <= {k, k + 1}
    np.testing.assert_allclose(
        out.numpy(), _pool_reference(kind, x, rows, cols, overlapping), rtol=1e-5, atol=1e-6
    )
    again = fn(x, [1.0, 1.6, 1.3, 1.0], pseudo_random, overlapping, seed=7)
    np.testing.assert_array_equal(again[1].numpy(), rows)  # deterministic given the seed


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_fractional_pool_given_tf_sequences_matches_tf(kind):
    tft = _tf()
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 10, 13, 2)).astype(np.float32)
    fn = getattr(tft.nn, f"fractional_{kind}_pool")
    for overlapping in (False, True):
        for pseudo in (False, True):
            out, rows, cols = fn(x, [1.0, 1.44, 1.73, 1.0], pseudo, overlapping, seed=5)
            ours = fractional_pool_with_sequences(kind, x, rows.numpy(), cols.numpy(), overlapping)
            np.testing.assert_allclose(ours.numpy(), out.numpy(), rtol=1e-5, atol=1e-6)


def test_fractional_pool_integer_avg_and_scalar_ratio():
    x = np.arange(2 * 6 * 6 * 1).reshape(2, 6, 6, 1).astype(np.int64)
    out, rows, cols = tf.nn.fractional_avg_pool(x, [1.0, 2.0, 2.0, 1.0], seed=1)
    assert out.dtype == tf.int64 and out.shape == (2, 3, 3, 1)
    np.testing.assert_array_equal(rows.numpy(), [0, 2, 4, 6])
    ref = x.reshape(2, 3, 2, 3, 2, 1).sum(axis=(2, 4)) // 4
    np.testing.assert_array_equal(out.numpy(), ref)


def test_fractional_pool_gradients():
    rng = np.random.default_rng(2)
    x = rng.permutation(5 * 7).reshape(1, 5, 7, 1).astype(np.float64)  # no ties
    for fn in (tf.nn.fractional_max_pool, tf.nn.fractional_avg_pool):
        _, rows, cols = fn(x, [1, 1.5, 1.5, 1], overlapping=True, seed=3)
        kind = "max" if fn is tf.nn.fractional_max_pool else "avg"
        wts = np.random.default_rng(9).normal(size=(1, len(rows) - 1, len(cols) - 1, 1))
        fd_check(
            lambda v, k=kind, r=rows, c=cols, w=wts: tf.reduce_sum(
                fractional_pool_with_sequences(k, v, r, c, True) * w
            ),
            x,
        )


def test_fractional_pool_errors():
    x = np.zeros((1, 4, 4, 1), np.float32)
    with pytest.raises(ValueError, match="pooling_ratio"):
        tf.nn.fractional_max_pool(x, 0.5)
    with pytest.raises(ValueError, match="first and last"):
        tf.nn.fractional_max_pool(x, [2.0, 1.5, 1.5, 1.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="higher than input dimension"):
        tf.nn.fractional_max_pool(x, 5.0)
    with pytest.raises(TypeError, match="Expected list"):
        tf.nn.fractional_avg_pool(x, 1.5)
    with pytest.raises(tf.errors.UnimplementedError, match="batch nor channel"):
        tf.nn.fractional_avg_pool(x, [1.5] * 4)
    with pytest.raises(tf.errors.InvalidArgumentError, match="4-dimensional"):
        tf.nn.fractional_max_pool(np.zeros((4, 4), np.float32), 1.5)


# ------------------------------------------------------------------- sparse embeddings
def _sparse(tfm, indices, values, shape):
    return tfm.sparse.SparseTensor(indices, values, shape)


def _embedding_reference(params, rows, ids, weights, combiner, n_rows):
    out = np.zeros((n_rows, params.shape[1]))
    for r in range(n_rows):
        sel = [k for k in range(len(ids)) if rows[k] == r]
        if not sel:
            continue
        w = np.array([weights[k] for k in sel])
        v = (params[[ids[k] for k in sel]] * w[:, None]).sum(0)
        if combiner == "mean":
            v = v / w.sum()
        elif combiner == "sqrtn":
            v = v / np.sqrt((w**2).sum())
        out[r] = v
    return out


@pytest.mark.parametrize("combiner", ["sum", "mean", "sqrtn", None])
@pytest.mark.parametrize("weighted", [False, True])
def test_embedding_lookup_sparse(combiner, weighted):
    params = np.arange(12, dtype=np.float32).reshape(6, 2)
    idx = [[0, 0], [0, 1], [2, 0], [2, 1], [2, 2]]
    ids = [1, 3, 0, 1, 5]
    wts = [1.0, 2.0, 0.5, 3.0, 1.0]
    sp = _sparse(tf, idx, np.array(ids, np.int64), [3, 3])
    sw = _sparse(tf, idx, np.array(wts, np.float32), [3, 3]) if weighted else None
    out = tf.nn.embedding_lookup_sparse(params, sp, sw, combiner=combiner)
    ref = _embedding_reference(
        params, [0, 0, 2, 2, 2], ids, wts if weighted else [1.0] * 5, combiner or "mean", 3
    )
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6)


def test_embedding_lookup_sparse_vs_tf_and_max_norm():
    tft = _tf()
    params = np.random.default_rng(3).normal(size=(7, 3)).astype(np.float32)
    idx = [[0, 0], [1, 0], [1, 2], [3, 1]]
    ids = np.array([6, 2, 2, 0], np.int64)
    w = np.array([0.5, 1.5, 2.0, 1.0], np.float32)
    for combiner in ("sum", "mean", "sqrtn"):
        for max_norm in (None, 1.0):
            ours = tf.nn.embedding_lookup_sparse(
                params, _sparse(tf, idx, ids, [5, 3]), _sparse(tf, idx, w, [5, 3]),
                combiner=combiner, max_norm=max_norm,
            )  # fmt: skip
            ref = tft.nn.embedding_lookup_sparse(
                params, _sparse(tft, idx, ids, [5, 3]), _sparse(tft, idx, w, [5, 3]),
                combiner=combiner, max_norm=max_norm,
            )  # fmt: skip
            assert ours.shape == tuple(ref.shape)
            np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


def test_embedding_lookup_sparse_gradient():
    idx = [[0, 0], [0, 1], [1, 0]]
    sp = _sparse(tf, idx, np.array([2, 0, 2], np.int64), [2, 2])
    sw = _sparse(tf, idx, np.array([1.0, 2.0, 3.0]), [2, 2])
    params = np.random.default_rng(4).normal(size=(3, 2))
    wts = np.random.default_rng(8).normal(size=(2, 2))
    fd_check(
        lambda p: tf.reduce_sum(
            tf.nn.embedding_lookup_sparse(p * 1.0, sp, sw, combiner="sqrtn") * wts
        ),
        params,
    )


def test_embedding_lookup_sparse_type_errors():
    with pytest.raises(TypeError, match="sp_ids must be SparseTensor"):
        tf.nn.embedding_lookup_sparse(np.zeros((2, 2)), [[0]], None)
    sp = _sparse(tf, [[0, 0]], np.array([0], np.int64), [1, 1])
    with pytest.raises(ValueError, match="combiner"):
        tf.nn.embedding_lookup_sparse(np.zeros((2, 2)), sp, None, combiner="max")


@pytest.mark.parametrize("combiner", ["sum", "mean", "sqrtn"])
@pytest.mark.parametrize("default_id", [None, 2])
def test_safe_embedding_lookup_sparse(combiner, default_id):
    params = np.arange(10, dtype=np.float64).reshape(5, 2)
    # rows 1 and 3 end up empty: row 1 has none, row 3 only an invalid id / weight
    idx = [[0, 0], [0, 1], [2, 0], [3, 0], [3, 1]]
    ids = np.array([1, 4, 3, -1, 2], np.int64)
    w = np.array([1.0, 2.0, 3.0, 1.0, -1.0])
    out = tf.nn.safe_embedding_lookup_sparse(
        params, _sparse(tf, idx, ids, [4, 2]), _sparse(tf, idx, w, [4, 2]),
        combiner=combiner, default_id=default_id,
    )  # fmt: skip
    keep = [k for k in range(5) if ids[k] >= 0 and (combiner == "sum" or w[k] > 0)]
    rows = [idx[k][0] for k in keep]
    kid, kw = [int(ids[k]) for k in keep], [w[k] for k in keep]
    for r in range(4):
        if r not in rows:
            rows.append(r)
            kid.append(default_id or 0)
            kw.append(1.0)
    ref = _embedding_reference(params, rows, kid, kw, combiner, 4)
    if default_id is None:
        for r in range(4):
            if r not in [idx[k][0] for k in keep]:
                ref[r] = 0
    np.testing.assert_allclose(out.numpy(), ref)


def test_safe_embedding_lookup_sparse_rank3_vs_tf():
    tft = _tf()
    params = np.random.default_rng(5).normal(size=(6, 4)).astype(np.float32)
    idx = [[0, 0, 0], [0, 0, 1], [1, 1, 0], [1, 2, 1]]
    ids = np.array([5, 1, -1, 3], np.int64)
    w = np.array([1.0, 0.5, 2.0, 1.5], np.float32)
    for combiner in ("sum", "mean"):
        for default_id in (None, 4):
            args = dict(combiner=combiner, default_id=default_id)
            ours = tf.nn.safe_embedding_lookup_sparse(
                params, _sparse(tf, idx, ids, [2, 3, 2]), _sparse(tf, idx, w, [2, 3, 2]), **args
            )
            ref = tft.nn.safe_embedding_lookup_sparse(
                params, _sparse(tft, idx, ids, [2, 3, 2]), _sparse(tft, idx, w, [2, 3, 2]), **args
            )
            assert ours.shape == (2, 3, 4)
            np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------- with_space_to_batch
def _dilated_conv_reference(x, k, rate, padding):
    """Direct dilated 2-D convolution (NHWC, one filter)."""
    kh, kw = k.shape[:2]
    eh, ew = (kh - 1) * rate[0] + 1, (kw - 1) * rate[1] + 1
    if padding == "SAME":
        ph, pw = eh - 1, ew - 1
        x = np.pad(x, [(0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)])
    h, w = x.shape[1] - eh + 1, x.shape[2] - ew + 1
    out = np.zeros((x.shape[0], h, w, k.shape[3]))
    for i in range(h):
        for j in range(w):
            patch = x[:, i : i + eh : rate[0], j : j + ew : rate[1], :]
            out[:, i, j] = np.einsum("bhwc,hwco->bo", patch, k)
    return out


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("rate", [(1, 1), (2, 2), (2, 3)])
def test_with_space_to_batch_dilated_conv(padding, rate):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(2, 9, 10, 2))
    k = rng.normal(size=(3, 2, 2, 3))

    def op(inp, num_spatial_dims, pad):
        assert num_spatial_dims == 2
        return tf.nn.convolution(inp, k, padding=pad)

    out = tf.nn.with_space_to_batch(x, list(rate), padding, op, filter_shape=[3, 2])
    np.testing.assert_allclose(out.numpy(), _dilated_conv_reference(x, k, rate, padding))


def test_with_space_to_batch_errors():
    with pytest.raises(ValueError, match="filter_shape"):
        tf.nn.with_space_to_batch(np.zeros((1, 4, 4, 1)), [2, 2], "SAME", lambda *a: a[0])
    with pytest.raises(ValueError, match="positive"):
        tf.nn.with_space_to_batch(np.zeros((1, 4, 4, 1)), [0, 2], "VALID", lambda *a: a[0])


# ------------------------------------------------------------------- samplers and normals
def test_learned_unigram_candidate_sampler_learns_counts():
    true = np.array([[1, 2], [2, 3]], np.int64)
    # a fresh attribute set (range_max=7) starts with every class at count 1
    r1 = tf.random.learned_unigram_candidate_sampler(true, 2, 5, False, 7, seed=11)
    np.testing.assert_allclose(r1.true_expected_count.numpy(), np.full((2, 2), 5 / 7), rtol=1e-6)
    r2 = tf.random.learned_unigram_candidate_sampler(true, 2, 5, False, 7, seed=11)
    counts = np.ones(7)
    np.add.at(counts, true.reshape(-1), 1)
    p = counts / counts.sum()
    np.testing.assert_allclose(r2.true_expected_count.numpy(), 5 * p[true], rtol=1e-6)
    np.testing.assert_allclose(
        r2.sampled_expected_count.numpy(), 5 * p[r2.sampled_candidates.numpy()], rtol=1e-6
    )
    u = tf.nn.learned_unigram_candidate_sampler(true, 2, 4, True, 9, seed=1)
    assert len(set(u.sampled_candidates.numpy().tolist())) == 4


def test_stateless_parameterized_truncated_normal_bounds_and_moments():
    lo = np.array([-1.0, 0.0, 3.0, 5.0, -20.0], np.float32)
    hi = np.array([1.0, 0.1, 4.0, 20.0, -19.9], np.float32)
    s = tf.random.stateless_parameterized_truncated_normal([20000, 5], [1, 2], 0.0, 1.0, lo, hi)
    v = s.numpy().astype(np.float64)
    assert s.dtype == tf.float32 and s.shape == (20000, 5)
    assert (v >= lo).all() and (v <= hi).all()
    again = tf.random.stateless_parameterized_truncated_normal([20000, 5], [1, 2], 0.0, 1.0, lo, hi)
    np.testing.assert_array_equal(again.numpy(), s.numpy())
    # truncated-normal mean: (phi(a) - phi(b)) / (Phi(b) - Phi(a)), Phi by integration
    for j in range(4):
        a, b = float(lo[j]), float(hi[j])
        t = np.linspace(a, b, 20001)
        dens = np.exp(-(t**2) / 2)
        mean = np.trapezoid(t * dens, t) / np.trapezoid(dens, t)
        assert abs(v[:, j].mean() - mean) < 0.02


def test_stateless_parameterized_truncated_normal_vs_tf_statistics():
    tft = _tf()
    args = ([5000], [3, 4], 1.5, 2.0, 0.5, 6.0)
    ours = tf.random.stateless_parameterized_truncated_normal(*args).numpy()
    ref = tft.random.stateless_parameterized_truncated_normal(*args).numpy()
    assert ours.dtype == ref.dtype
    assert abs(ours.mean() - ref.mean()) < 0.1 and abs(ours.std() - ref.std()) < 0.1
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.random.stateless_parameterized_truncated_normal([3], [1, 2], 0.0, 1.0, 2.0, 1.0)
