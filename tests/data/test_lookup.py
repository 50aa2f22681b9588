"""tf.lookup: StaticHashTable, StaticVocabularyTable and their initializers."""

from __future__ import annotations

import numpy as np
import pytest

import rill as tf
from rill.core.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from rill.data import lookup as L
from rill.structures.ragged_tensor import RaggedTensor
from rill.structures.sparse_tensor import SparseTensor


def _table(default=-1):
    return L.StaticHashTable(L.KeyValueTensorInitializer(["a", "b", "c"], [1, 2, 3]), default)


def test_static_hash_table_strings():
    t = _table()
    out = t.lookup(tf.constant([["a", "z"], ["c", "b"]]))
    assert out.dtype == tf.int32 and out.shape == (2, 2)
    np.testing.assert_array_equal(out.numpy(), [[1, -1], [3, 2]])
    assert t.key_dtype == tf.string and t.value_dtype == tf.int32
    assert t.size().dtype == tf.int64 and int(t.size()) == 3
    assert int(t.default_value) == -1 and t.default_value.dtype == tf.int32
    keys, values = t.export()
    assert sorted(zip(keys.numpy().tolist(), values.numpy().tolist())) == [
        (b"a", 1), (b"b", 2), (b"c", 3)
    ]  # fmt: skip
    assert int(t[tf.constant("b")]) == 2
    assert int(t.lookup("c")) == 3


def test_static_hash_table_numeric_keys():
    init = L.KeyValueTensorInitializer(
        tf.constant([5, 1, 3], tf.int64), tf.constant([0.5, 0.1, 0.3])
    )
    t = L.StaticHashTable(init, 0.0)
    np.testing.assert_allclose(
        t.lookup(tf.constant([1, 2, 3, 5, 9], tf.int64)).numpy(), [0.1, 0, 0.3, 0.5, 0]
    )
    empty = L.StaticHashTable(
        L.KeyValueTensorInitializer(tf.constant([], tf.int64), tf.constant([], tf.float32)), 7.0
    )
    np.testing.assert_array_equal(empty.lookup(tf.constant([1], tf.int64)).numpy(), [7.0])


def test_dtype_errors():
    t = _table()
    with pytest.raises(TypeError, match="`keys` must be tf.string, received: tf.int32"):
        t.lookup(tf.constant([1, 2]))
    with pytest.raises(TypeError, match="Cannot convert -1.5"):
        _table(-1.5)
    ti = L.StaticHashTable(L.KeyValueTensorInitializer(tf.constant([1], tf.int64), [1]), 0)
    with pytest.raises(TypeError, match="int64"):
        ti.lookup(tf.constant([1], tf.int32))


def test_duplicate_keys():
    with pytest.raises(FailedPreconditionError, match="different value for same key. Key a has 1"):
        L.StaticHashTable(L.KeyValueTensorInitializer(["a", "a"], [1, 2]), -1)
    with pytest.raises(FailedPreconditionError, match="Key 4 has 1"):
        L.StaticHashTable(L.KeyValueTensorInitializer(tf.constant([4, 4], tf.int64), [1, 2]), -1)
    same = L.StaticHashTable(L.KeyValueTensorInitializer(["a", "a", "b"], [1, 1, 2]), -1)
    assert int(same.size()) == 2


def test_lookup_in_function():
    t = _table()

    @tf.function
    def f(x):
        return t.lookup(x) * 2

    np.testing.assert_array_equal(f(tf.constant(["a", "q"])).numpy(), [2, -2])


def test_lookup_sparse_and_ragged():
    t = _table()
    sp = SparseTensor(indices=[[0, 0], [1, 2]], values=tf.constant(["c", "x"]), dense_shape=[2, 3])
    out = t.lookup(sp)
    np.testing.assert_array_equal(out.values.numpy(), [3, -1])
    np.testing.assert_array_equal(out.indices.numpy(), [[0, 0], [1, 2]])
    rt = RaggedTensor.from_row_splits(tf.constant(["a", "b", "z"]), [0, 1, 3])
    assert t.lookup(rt).to_list() == [[1], [2, -1]]


# ---------------------------------------------------------------------------- vocabulary

LONG = "a much longer string of more than sixty four bytes..............................."


def test_vocabulary_table_oov_buckets_match_tensorflow():
    init = L.KeyValueTensorInitializer(["a", "b", "c"], tf.constant([0, 1, 2], tf.int64))
    v = L.StaticVocabularyTable(init, num_oov_buckets=5)
    out = v.lookup(tf.constant(["a", "zz", "hello", "", "b", LONG]))
    np.testing.assert_array_equal(out.numpy(), [0, 5, 4, 6, 1, 4])  # TF 2.21's ids
    assert out.dtype == tf.int64 and int(v.size()) == 8


def test_vocabulary_table_integer_keys():
    init = L.KeyValueTensorInitializer(
        tf.constant([10, 20], tf.int64), tf.constant([0, 1], tf.int64)
    )
    v = L.StaticVocabularyTable(init, num_oov_buckets=3)
    np.testing.assert_array_equal(
        v.lookup(tf.constant([10, 30, 40, 20], tf.int64)).numpy(), [0, 4, 3, 1]
    )
    v32 = L.StaticVocabularyTable(init, 3, lookup_key_dtype=tf.int32)
    np.testing.assert_array_equal(v32.lookup(tf.constant([10, 30], tf.int32)).numpy(), [0, 4])


def test_vocabulary_table_errors_and_no_initializer():
    with pytest.raises(ValueError, match="must be > 0"):
        L.StaticVocabularyTable(L.KeyValueTensorInitializer(["a"], tf.constant([0], tf.int64)), 0)
    with pytest.raises(TypeError, match="Invalid `value_dtype`"):
        L.StaticVocabularyTable(L.KeyValueTensorInitializer(["a"], [0]), 2)
    all_oov = L.StaticVocabularyTable(None, 4)
    ids = all_oov.lookup(tf.constant(["zz", "hello"])).numpy()
    np.testing.assert_array_equal(ids, [L.fingerprint64(b"zz") % 4, L.fingerprint64(b"hello") % 4])


def test_fingerprint64_reference_values():
    # tf.strings.to_hash_bucket_fast(x, 2**62) in TensorFlow 2.21
    cases = {
        b"zz": 3546145076021770342,
        b"hello": 3786372426573024488,
        b"": 1936946117179621455,
        LONG.encode(): 243848218811087989,
        b"x" * 20: 3621402210320469444,
        b"y" * 40: 276292113409495006,
        bytes(range(200)): 525935771297148851,
        b"abcdefghij": 737107554567436283,
    }
    for s, h in cases.items():
        assert L.fingerprint64(s) % 2**62 == h


# ---------------------------------------------------------------------------- text files


@pytest.fixture
def vocab(tmp_path):
    p = tmp_path / "vocab.txt"
    p.write_text("apple\t5\nbanana\t7\ncherry\t9\n")
    return str(p)


def test_text_file_initializer_columns(vocab):
    ti = L.TextFileInitializer(vocab, tf.string, 0, tf.int64, 1)
    assert ti.key_dtype == tf.string and ti.value_dtype == tf.int64
    t = L.StaticHashTable(ti, -1)
    np.testing.assert_array_equal(t.lookup(tf.constant(["banana", "x"])).numpy(), [7, -1])


def test_text_file_initializer_whole_line_and_line_number(vocab, tmp_path):
    ti = L.TextFileInitializer(
        vocab, tf.string, L.TextFileIndex.WHOLE_LINE, tf.int64, L.TextFileIndex.LINE_NUMBER
    )
    t = L.StaticHashTable(ti, -1)
    np.testing.assert_array_equal(t.lookup(tf.constant(["banana\t7", "x"])).numpy(), [1, -1])
    assert (L.TextFileIndex.WHOLE_LINE, L.TextFileIndex.LINE_NUMBER) == (-2, -1)
    words = tmp_path / "words.txt"
    words.write_text("apple\nbanana\ncherry\n")
    vt = L.StaticVocabularyTable(
        L.TextFileInitializer(str(words), tf.string, -2, tf.int64, -1, vocab_size=2), 1
    )
    np.testing.assert_array_equal(vt.lookup(tf.constant(["apple", "cherry"])).numpy(), [0, 2])
    assert int(vt.size()) == 3
    nums = tmp_path / "nums.txt"
    nums.write_text("7 0.5\n9 1.5\n")
    t2 = L.StaticHashTable(
        L.TextFileInitializer(str(nums), tf.int64, 0, tf.float32, 1, delimiter=" "), 0.0
    )
    np.testing.assert_array_equal(
        t2.lookup(tf.constant([9, 8], tf.int64)).numpy(), np.float32([1.5, 0])
    )


def test_text_file_errors(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("apple\t5\nbanana\n")
    with pytest.raises(
        InvalidArgumentError,
        match="Invalid number of columns .* line 1 .*expected at least 2 got 1",
    ):
        L.StaticHashTable(L.TextFileInitializer(str(bad), tf.string, 0, tf.int64, 1), -1)
    dup = tmp_path / "dup.txt"
    dup.write_text("apple\t5\napple\t6\n")
    with pytest.raises(FailedPreconditionError, match="Key apple has 5"):
        L.StaticHashTable(L.TextFileInitializer(str(dup), tf.string, 0, tf.int64, 1), -1)
    with pytest.raises(InvalidArgumentError, match="vocab_size"):
        L.StaticHashTable(
            L.TextFileInitializer(str(dup), tf.string, 0, tf.int64, 1, vocab_size=5), -1
        )
    with pytest.raises(InvalidArgumentError, match="not a valid int64"):
        L.StaticHashTable(L.TextFileInitializer(str(dup), tf.string, 1, tf.int64, 0), -1)
    with pytest.raises(NotFoundError):
        L.StaticHashTable(
            L.TextFileInitializer(str(tmp_path / "none"), tf.string, 0, tf.int64, 1), -1
        )
    with pytest.raises(ValueError, match="LINE_NUMBER"):
        L.TextFileInitializer(str(dup), tf.string, 0, tf.string, -1)
