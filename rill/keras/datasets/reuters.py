"""``keras.datasets.reuters``: 11,228 Reuters newswires as word-id sequences, labelled
with one of 46 topics."""

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

__all__ = ["get_label_names", "get_word_index", "load_data"]

_LABELS = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)  # fmt: skip


def load_data(
    path="reuters.npz",
    num_words=None,
    skip_top=0,
    maxlen=None,
    test_split=0.2,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
):
    """``(x_train, y_train), (x_test, y_test)``: object arrays of word-id lists (encoded as
    in ``imdb.load_data``) and topic ids; shuffled with ``seed``, the last ``test_split``
    of them the test set."""
    path = get_file(
        path,
        origin=f"{ORIGIN}reuters.npz",
        file_hash="d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916",
    )
    f = load_npz(path)
    xs, labels = f["x"], f["y"]
    order = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(order)
    xs, labels = encode_sequences(xs[order], labels[order], start_char, index_from, maxlen)
    xs = limit_vocabulary(xs, num_words, skip_top, oov_char)
    cut = int(len(xs) * (1 - test_split))
    return (object_array(xs[:cut]), np.array(labels[:cut])), (
        object_array(xs[cut:]),
        np.array(labels[cut:]),
    )


def get_word_index(path="reuters_word_index.json") -> dict:
    """The word -> rank dictionary of the newswires."""
    path = get_file(
        path,
        origin=f"{ORIGIN}reuters_word_index.json",
        file_hash="4d44cc38712099c9e383dc6e5f11a921",
    )
    with open(path) as f:
        return json.load(f)


def get_label_names() -> tuple:
    """The 46 topic names, indexed by label."""
    return _LABELS
