"""keras.preprocessing.sequence and .text: results worked out by hand here, and Keras 3's
legacy functions when installed."""

import json

import numpy as np
import pytest

from rill.keras.preprocessing import sequence, text


def test_timeseries_generator_windows():
    data = np.arange(10).reshape(10, 1)
    targets = np.arange(10) * 2
    gen = sequence.TimeseriesGenerator(data, targets, length=3, sampling_rate=1, batch_size=2)
    assert len(gen) == 4  # end steps 3..9: 7 windows in batches of 2
    x, y = gen[0]
    np.testing.assert_array_equal(x[..., 0], [[0, 1, 2], [1, 2, 3]])
    np.testing.assert_array_equal(y, [6, 8])
    x, y = sequence.TimeseriesGenerator(data, targets, length=4, sampling_rate=2, stride=3,
                                        reverse=True, batch_size=5)[0]  # fmt: skip
    np.testing.assert_array_equal(x[..., 0], [[2, 0], [5, 3]])  # end steps 4 and 7 (<= 9)
    assert json.loads(gen.to_json())["config"]["length"] == 3
    with pytest.raises(ValueError, match="same length"):
        sequence.TimeseriesGenerator(data, targets[:3], length=2)


def test_make_sampling_table_formula():
    table = sequence.make_sampling_table(5, sampling_factor=0.01)
    rank = np.array([1, 1, 2, 3, 4], float)
    f = 0.01 * (rank * (np.log(rank) + 0.577) + 0.5 - 1 / (12 * rank))
    np.testing.assert_allclose(table, np.minimum(1.0, np.sqrt(f)))


def test_skipgrams_pairs_and_labels():
    couples, labels = sequence.skipgrams([1, 2, 0, 3], 10, window_size=1, negative_samples=0,
                                         shuffle=False)  # fmt: skip
    assert couples == [[1, 2], [2, 1]] and labels == [1, 1]  # 0 is padding: never paired
    couples, labels = sequence.skipgrams([1, 2, 3], 10, window_size=2, seed=4)
    positives = {tuple(c) for c, lab in zip(couples, labels) if lab == 1}
    assert positives == {(1, 2), (1, 3), (2, 1), (2, 3), (3, 1), (3, 2)}
    assert labels.count(0) == 6 and all(
        1 <= c[1] < 10 for c, lab in zip(couples, labels) if not lab
    )


def test_text_to_word_sequence_and_hashing():
    assert text.text_to_word_sequence("Hello, World!  hi") == ["hello", "world", "hi"]
    ids = text.hashing_trick("a b a", 7, hash_function="md5")
    import hashlib

    expect = [int(hashlib.md5(w.encode()).hexdigest(), 16) % 6 + 1 for w in "a b a".split()]
    assert ids == expect and ids[0] == ids[2]
    assert all(1 <= i < 5 for i in text.one_hot("x y z", 5))


def test_tokenizer_index_sequences_matrix_and_json():
    tok = text.Tokenizer(num_words=4, oov_token="<?>")
    tok.fit_on_texts(["the cat sat", "the cat ran", "the dog"])
    # oov first, then by count (ties keep first-seen order)
    assert tok.word_index == {"<?>": 1, "the": 2, "cat": 3, "sat": 4, "ran": 5, "dog": 6}
    assert tok.texts_to_sequences(["the dog sat", "cat bird"]) == [[2, 1, 1], [3, 1]]
    m = tok.texts_to_matrix(["the the cat"], mode="count")
    np.testing.assert_array_equal(m, [[0, 0, 2, 1]])
    m = tok.texts_to_matrix(["the the cat"], mode="tfidf")
    idf = lambda docs: np.log(1 + 3 / (1 + docs))  # noqa: E731
    np.testing.assert_allclose(m[0, 2:], [(1 + np.log(2)) * idf(3), idf(2)])
    assert tok.sequences_to_texts([[2, 3, 9]]) == ["the cat <?>"]
    back = text.tokenizer_from_json(tok.to_json())
    assert back.word_index == tok.word_index and back.texts_to_sequences(["the"]) == [[2]]


def test_tokenizer_matches_keras():
    tf_ref = pytest.importorskip("tensorflow")
    keras = tf_ref.keras
    texts = ["Keras is great.", "rill runs Keras code", "great, great code!"]
    ref = keras.preprocessing.text.Tokenizer(num_words=5)
    got = text.Tokenizer(num_words=5)
    ref.fit_on_texts(texts)
    got.fit_on_texts(texts)
    assert got.word_index == ref.word_index
    assert got.texts_to_sequences(texts) == ref.texts_to_sequences(texts)
    for mode in ("binary", "count", "freq", "tfidf"):
        np.testing.assert_allclose(
            got.texts_to_matrix(texts, mode), ref.texts_to_matrix(texts, mode)
        )
