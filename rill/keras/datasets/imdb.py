"""``keras.datasets.imdb``: 50,000 movie reviews as word-id sequences, labelled by
sentiment (1 positive, 0 negative)."""

from __future__ import annotations

import json

import numpy as np

from rill.keras.datasets._storage import (
    ORIGIN,
    encode_sequences,
    limit_vocabulary,
    load_npz,
    object_array,
)
from rill.keras.utils.file_utils import get_file

__all__ = ["get_word_index", "load_data"]


def load_data(
    path="imdb.npz",
    num_words=None,
    skip_top=0,
    maxlen=None,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
    **kwargs,
):
    """``(x_train, y_train), (x_test, y_test)``: object arrays of word-id lists (ids are
    frequency ranks shifted by ``index_from``, each review starting with ``start_char``;
    words outside ``[skip_top, num_words)`` become ``oov_char``; reviews of ``maxlen``
    words or more are dropped) and int labels, both sets shuffled with ``seed``."""
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    path = get_file(
        fname=path,
        origin=f"{ORIGIN}imdb.npz",
        file_hash="69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
    )
    f = load_npz(path)
    rng = np.random.RandomState(seed)  # one stream: train is shuffled first, then test
    parts = []
    for xs, ys in ((f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])):
        order = np.arange(len(xs))
        rng.shuffle(order)
        parts.append(encode_sequences(xs[order], ys[order], start_char, index_from, maxlen))
    (x_train, y_train), (x_test, y_test) = parts
    if maxlen and (not x_train or not x_test):
        raise ValueError(
            f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was "
            "kept. Increase maxlen."
        )
    xs = limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([np.asarray(y_train), np.asarray(y_test)])
    n = len(x_train)
    return (object_array(xs[:n]), labels[:n]), (object_array(xs[n:]), labels[n:])


def get_word_index(path="imdb_word_index.json") -> dict:
    """The word -> rank dictionary (rank 1 is the most frequent word; add ``index_from``
    to get the ids ``load_data`` uses)."""
    path = get_file(
        fname=path,
        origin=f"{ORIGIN}imdb_word_index.json",
        file_hash="bfafd718b763782e994055a2d397834f",
    )
    with open(path) as f:
        return json.load(f)
