"""tf.sparse.cross / cross_hashed and tf.ragged.cross / cross_hashed: string crosses
against itertools.product, hashed ids against TensorFlow where it is installed."""

import importlib.util
import itertools

import numpy as np
import pytest

import rill as tf

HAS_TF = importlib.util.find_spec("tensorflow") is not None


def _rows(lists_per_input):
    """Python reference: per row, every combination, last input fastest."""
    return [
        [b"_X_".join(p) for p in itertools.product(*[feats[r] for feats in lists_per_input])]
        for r in range(len(lists_per_input[0]))
    ]


def test_string_crosses_match_itertools_product():
    a = [[b"a", b"b"], [b"c"], []]
    b = [[b"x"], [b"y", b"z"], [b"w"]]
    ra, rb = tf.ragged.constant(a), tf.ragged.constant(b)
    assert tf.ragged.cross([ra, rb]).to_list() == _rows([a, b])
    sp = tf.ragged.cross([ra, rb]).to_sparse()
    got = tf.sparse.cross([sp_of(a), sp_of(b)])
    assert got.values.numpy().tolist() == [v for row in _rows([a, b]) for v in row]
    assert got.dense_shape.numpy().tolist() == [3, 2]
    np.testing.assert_array_equal(got.indices.numpy(), sp.indices.numpy())
    dense = tf.constant([[1, 2], [3, 4], [5, 6]])
    want = _rows([[[b"1", b"2"], [b"3", b"4"], [b"5", b"6"]], b])
    assert tf.ragged.cross([dense, rb]).to_list() == want
    assert tf.sparse.cross([dense, rb], separator="-").values.numpy()[0] == b"1-x"


def sp_of(lists):
    return tf.ragged.constant(lists).to_sparse()


def test_hashed_crosses_are_in_range_and_deterministic():
    ra = tf.ragged.constant([["a", "b"], ["c"]])
    rb = tf.ragged.constant([["x"], ["y", "z"]])
    h = tf.ragged.cross_hashed([ra, rb], num_buckets=10)
    assert h.to_list() == tf.ragged.cross_hashed([ra, rb], num_buckets=10).to_list()
    flat = np.concatenate([np.array(r) for r in h.to_list()])
    assert ((flat >= 0) & (flat < 10)).all()
    big = tf.sparse.cross_hashed([sp_of([[b"a"]]), sp_of([[b"x"]])]).values.numpy()
    assert big[0] >= 0  # modulo the largest int64 when num_buckets is 0
    with pytest.raises(TypeError):
        tf.sparse.cross([tf.constant([[1.5]])])


@pytest.mark.skipif(not HAS_TF, reason="TensorFlow not installed")
def test_against_tensorflow():
    import tensorflow as real

    def run(lib):
        a = lib.sparse.from_dense(lib.constant([["a", "b"], ["c", ""]]))
        b = lib.constant([["x"], ["y"]])
        c = lib.constant([[1, 2], [3, 4]])
        ra, rb = lib.ragged.constant([["a", "b"], ["c"]]), lib.ragged.constant([["x"], ["y", "z"]])
        out = []
        for s in (
            lib.sparse.cross([a, b]),
            lib.sparse.cross_hashed([a, b], num_buckets=100),
            lib.sparse.cross_hashed([a, b]),
            lib.sparse.cross_hashed([c, b], num_buckets=100, hash_key=7),
        ):
            out.append(
                (
                    s.indices.numpy().tolist(),
                    s.values.numpy().tolist(),
                    s.dense_shape.numpy().tolist(),
                )
            )
        out.append(lib.ragged.cross_hashed([ra, rb], num_buckets=10).to_list())
        return out

    assert run(tf) == run(real)


def test_sampled_addmm_against_a_dense_numpy_product():
    rng = np.random.default_rng(1)
    m1, m2 = rng.normal(size=(2, 2, 3)), rng.normal(size=(2, 3, 4))
    idx = np.array([[[0, 1], [1, 3]], [[0, 0], [1, 2]]])
    vals = rng.normal(size=(2, 2))
    out_idx, out, shape = tf.sparse.sampled_addmm(
        idx, vals, [2, 4], m1, m2, beta=0.25, alpha=0.75, output_type=tf.float64
    )
    prod = m1 @ m2
    want = np.array(
        [
            [0.75 * prod[b][tuple(i)] + 0.25 * vals[b, k] for k, i in enumerate(idx[b])]
            for b in range(2)
        ]
    )
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12)
    np.testing.assert_array_equal(out_idx.numpy(), idx)
    with pytest.raises(tf.errors.InvalidArgumentError, match="dense_shape"):
        tf.sparse.sampled_addmm(idx, vals, [3, 4], m1, m2)
