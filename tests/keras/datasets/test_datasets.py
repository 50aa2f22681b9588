"""The dataset loaders on small files written here in the real formats (npz, gzipped IDX,
CIFAR's pickled batches in a tarball, JSON), in a temporary KERAS_HOME: nothing is
downloaded. Expected values follow from the files and Keras' documented encoding."""

import gzip
import io
import json
import os
import pickle
import tarfile

import numpy as np
import pytest

from rill.keras import datasets


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    # the loaders pass Keras' hashes; our tiny files cannot match them, so the hash check
    # is bypassed here (get_file's hash handling is tested in tests/keras/utils)
    from rill.keras.utils import file_utils

    monkeypatch.setattr(file_utils, "validate_file", lambda *a, **k: True)
    return tmp_path / "datasets"


def test_mnist_reads_the_cached_npz(home):
    x = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    np.savez(home / "mnist.npz", x_train=x, y_train=np.array([3, 4], np.uint8),
             x_test=x[:1], y_test=np.array([5], np.uint8))  # fmt: skip
    (xt, yt), (xs, ys) = datasets.mnist.load_data()
    np.testing.assert_array_equal(xt, x)
    assert yt.tolist() == [3, 4] and ys.tolist() == [5] and xs.shape == (1, 28, 28)


def test_fashion_mnist_reads_idx_files(home):
    sub = home / "fashion-mnist"
    sub.mkdir()
    images = np.random.RandomState(0).randint(0, 255, (3, 28, 28)).astype(np.uint8)
    for prefix, n in (("train", 3), ("t10k", 2)):
        with gzip.open(sub / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(b"\0" * 8 + bytes(range(n)))
        with gzip.open(sub / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(b"\0" * 16 + images[:n].tobytes())
    (xt, yt), (xs, ys) = datasets.fashion_mnist.load_data()
    np.testing.assert_array_equal(xt, images)
    np.testing.assert_array_equal(xs, images[:2])
    assert yt.tolist() == [0, 1, 2] and ys.dtype == np.uint8


def _cifar_batch(data, **labels):
    return pickle.dumps({b"data": data, **{k.encode(): v for k, v in labels.items()}}, protocol=4)


def _add(t, name, payload):
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    t.addfile(info, io.BytesIO(payload))


def test_cifar10_reads_pickled_batches_channels_last(home):
    rng = np.random.RandomState(1)
    chunks = [rng.randint(0, 255, (2, 3072)).astype(np.uint8) for _ in range(6)]
    with tarfile.open(home / "cifar-10-batches-py-target_archive", "w:gz") as t:
        for i in range(1, 6):
            _add(
                t, f"cifar-10-batches-py/data_batch_{i}", _cifar_batch(chunks[i - 1], labels=[i, 0])
            )
        _add(t, "cifar-10-batches-py/test_batch", _cifar_batch(chunks[5], labels=[9, 8]))
    (xt, yt), (xs, ys) = datasets.cifar10.load_data()
    assert xt.shape == (10, 32, 32, 3) and yt.shape == (10, 1) and yt.dtype == np.uint8
    # CIFAR rows are [R plane, G plane, B plane] of 32x32: pixel (r, c) channel k
    np.testing.assert_array_equal(xt[0, 1, 2], chunks[0][0].reshape(3, 32, 32)[:, 1, 2])
    assert yt[:, 0].tolist() == [1, 0, 2, 0, 3, 0, 4, 0, 5, 0] and ys[:, 0].tolist() == [9, 8]
    assert xs.shape == (2, 32, 32, 3)


def test_cifar100_label_modes(home):
    data = np.zeros((2, 3072), np.uint8)
    with tarfile.open(home / "cifar-100-python-target_archive", "w:gz") as t:
        for part in ("train", "test"):
            _add(t, f"cifar-100-python/{part}",
                 _cifar_batch(data, fine_labels=[55, 7], coarse_labels=[4, 1]))  # fmt: skip
    (_, fine), _ = datasets.cifar100.load_data()
    (_, coarse), _ = datasets.cifar100.load_data("coarse")
    assert fine[:, 0].tolist() == [55, 7] and coarse[:, 0].tolist() == [4, 1]
    with pytest.raises(ValueError, match="label_mode"):
        datasets.cifar100.load_data("medium")


def test_pickles_naming_code_are_refused(home):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    with tarfile.open(home / "cifar-100-python-target_archive", "w:gz") as t:
        for part in ("train", "test"):
            _add(t, f"cifar-100-python/{part}", pickle.dumps({b"data": Evil()}))
    with pytest.raises(pickle.UnpicklingError, match="Refusing"):
        datasets.cifar100.load_data()


def _ragged(seqs):
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = list(s)
    return out


def test_imdb_encoding_matches_the_documented_rules(home):
    train = [[1, 2, 3], [4, 5], [6]]
    test = [[7, 8], [9, 1, 2, 3]]
    np.savez(home / "imdb.npz", x_train=_ragged(train), y_train=np.array([1, 0, 1]),
             x_test=_ragged(test), y_test=np.array([0, 1]))  # fmt: skip
    (xt, yt), (xs, ys) = datasets.imdb.load_data(seed=5)
    # Keras: one RandomState(seed) shuffles train, then test; ids shifted by index_from=3
    # and prefixed with start_char=1
    rng = np.random.RandomState(5)
    order_train = np.arange(3)
    rng.shuffle(order_train)
    order_test = np.arange(2)
    rng.shuffle(order_test)
    expect = [[1] + [w + 3 for w in train[i]] for i in order_train]
    assert [list(s) for s in xt] == expect and yt.tolist() == [[1, 0, 1][i] for i in order_train]
    # num_words defaults to the largest id, and Keras keeps ids < num_words: the largest
    # id itself (9 + 3) becomes oov_char (2)
    expect_test = [[1] + [w + 3 for w in test[i]] for i in order_test]
    assert [list(s) for s in xs] == [[w if w < 12 else 2 for w in s] for s in expect_test]
    assert xt.dtype == object and xt.shape == (3,)
    # num_words: ids >= num_words become oov_char; skip_top too
    (xt, _), _ = datasets.imdb.load_data(seed=5, num_words=6, skip_top=2, oov_char=2)
    assert [list(s) for s in xt] == [[w if 2 <= w < 6 else 2 for w in s] for s in expect]
    # maxlen drops sequences of maxlen words or more (start_char included)
    (xt, yt), (xs, _) = datasets.imdb.load_data(seed=5, maxlen=4)
    assert all(len(s) < 4 for s in xt) and len(xt) == 2 and len(yt) == 2 and len(xs) == 1
    with pytest.raises(ValueError, match="maxlen=3"):  # no test review is that short
        datasets.imdb.load_data(seed=5, maxlen=3)


def test_imdb_word_index_and_reuters(home):
    (home / "imdb_word_index.json").write_text(json.dumps({"the": 1, "a": 2}))
    assert datasets.imdb.get_word_index() == {"the": 1, "a": 2}
    seqs = [[i, i + 1] for i in range(1, 11)]
    np.savez(home / "reuters.npz", x=_ragged(seqs), y=np.arange(10))
    (xt, yt), (xs, ys) = datasets.reuters.load_data(test_split=0.3, seed=0, start_char=None, num_words=100,
                                                     index_from=0)  # fmt: skip
    order = np.arange(10)
    np.random.RandomState(0).shuffle(order)
    assert len(xt) == 7 and len(xs) == 3
    assert yt.tolist() + ys.tolist() == order.tolist()
    assert [list(s) for s in xt] == [seqs[i] for i in order[:7]]
    assert len(datasets.reuters.get_label_names()) == 46


@pytest.mark.parametrize("module", ["boston_housing", "california_housing"])
def test_tabular_shuffle_split(home, module):
    x = np.arange(40, dtype="float64").reshape(20, 2)
    y = np.arange(20, dtype="float32")
    np.savez(home / f"{module}.npz", x=x, y=y)
    (xt, yt), (xs, ys) = getattr(datasets, module).load_data(test_split=0.25, seed=3)
    order = np.arange(20)
    np.random.RandomState(3).shuffle(order)
    np.testing.assert_array_equal(xt, x[order[:15]])
    np.testing.assert_array_equal(ys, y[order[15:]])
    with pytest.raises(ValueError, match="test_split"):
        getattr(datasets, module).load_data(test_split=1.0)


def test_california_small_version(home):
    np.savez(home / "california_housing.npz", x=np.arange(1400.0).reshape(700, 2),
             y=np.arange(700.0))  # fmt: skip
    (xt, _), (xs, _) = datasets.california_housing.load_data(version="small", test_split=0.5)
    assert len(xt) + len(xs) == 600 and xt.max() < 1200
    with pytest.raises(ValueError, match="version"):
        datasets.california_housing.load_data(version="huge")
