"""What the dataset loaders share: Keras' download folder, a reader for ``.npz`` files
that never runs code from the file, and the shuffle-and-split of the small tables."""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

# An object array (IMDB's and Reuters' ragged sequences, CIFAR's pickled batches) needs
# exactly these globals to be rebuilt; anything else a pickle names is refused, so a
# tampered file cannot run code through a __reduce__ gadget.
_ALLOWED = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }
)


class ArrayUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds NumPy arrays and plain Python values, nothing else."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"Refusing to load `{module}.{name}` from a dataset file: only NumPy arrays and "
            "plain Python values are allowed. The file may be corrupted or malicious."
        )


def _read_npy(buffer: io.BytesIO):
    try:  # numeric arrays: no pickle at all
        return np.lib.format.read_array(buffer, allow_pickle=False)
    except ValueError:  # an object array: its payload is a pickle after the header
        buffer.seek(0)
        major, _ = np.lib.format.read_magic(buffer)
        if major == 1:
            np.lib.format.read_array_header_1_0(buffer)
        elif major in (2, 3):  # 3.0 differs from 2.0 only in the header's text encoding
            np.lib.format.read_array_header_2_0(buffer)
        else:
            raise ValueError(f"Unsupported .npy format version {major}.") from None
        return ArrayUnpickler(buffer).load()


def load_npz(path: str) -> dict:
    """The arrays of an ``.npz`` file by name; object arrays allowed, code never run."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                with archive.open(member) as raw:
                    arrays[member[:-4]] = _read_npy(io.BytesIO(raw.read()))
    return arrays


def check_test_split(test_split) -> None:
    if not 0 <= test_split < 1:
        raise ValueError(
            f"Invalid `test_split` argument: {test_split}. It must be between 0 and 1 "
            "(exclusive of 1)."
        )


def shuffle_split(x, y, test_split, seed):
    """Shuffle with ``np.random.RandomState(seed)`` and cut the first ``1 - test_split``
    off as the training set (Keras' order, so the same seed gives the same split)."""
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    x, y = x[order], y[order]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))


def encode_sequences(seqs, labels, start_char, index_from, maxlen):
    """Shift word ids by ``index_from``, prepend ``start_char``, and drop sequences of
    ``maxlen`` words or more (with their labels)."""
    if start_char is not None:
        seqs = [[start_char] + [w + index_from for w in s] for s in seqs]
    else:
        seqs = [[w + index_from for w in s] for s in seqs]
    labels = list(labels)
    if maxlen:
        kept = [i for i, s in enumerate(seqs) if len(s) < maxlen]
        seqs, labels = [seqs[i] for i in kept], [labels[i] for i in kept]
    return seqs, labels


def limit_vocabulary(seqs, num_words, skip_top, oov_char):
    """Words outside ``[skip_top, num_words)`` become ``oov_char`` (dropped when it is
    None); ``num_words`` defaults to the largest id."""
    if not num_words:
        num_words = max(max(s) for s in seqs if len(s)) if any(len(s) for s in seqs) else 0
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in s] for s in seqs]
    return [[w for w in s if skip_top <= w < num_words] for s in seqs]


def object_array(seqs) -> np.ndarray:
    """A 1-D object array of lists (``np.array`` would make a 2-D one of equal lengths)."""
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = s
    return out
