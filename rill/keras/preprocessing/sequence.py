"""``keras.preprocessing.sequence`` (Keras' legacy API): ``pad_sequences``,
``TimeseriesGenerator``, and the word2vec helpers ``make_sampling_table`` and
``skipgrams``."""

from __future__ import annotations

import json
import random

import numpy as np

from rill.keras.utils.py_dataset import PyDataset
from rill.keras.utils.sequence_padding import pad_sequences

__all__ = ["TimeseriesGenerator", "make_sampling_table", "pad_sequences", "skipgrams"]


class TimeseriesGenerator(PyDataset):
    """Batches of ``(windows, targets)`` from a series: the window ending before step ``t``
    is ``data[t - length : t : sampling_rate]``, its target ``targets[t]``, for ``t`` from
    ``start_index + length`` to ``end_index`` every ``stride`` steps."""

    def __init__(
        self, data, targets, length, sampling_rate=1, stride=1, start_index=0, end_index=None,
        shuffle=False, reverse=False, batch_size=128, **kwargs,
    ):  # fmt: skip
        super().__init__(**kwargs)
        if len(data) != len(targets):
            raise ValueError(
                f"Data and targets have to be of same length. Data length is {len(data)} while "
                f"target length is {len(targets)}"
            )
        self.data, self.targets = data, targets
        self.length, self.sampling_rate, self.stride = length, sampling_rate, stride
        self.start_index = start_index + length
        self.end_index = len(data) - 1 if end_index is None else end_index
        self.shuffle, self.reverse, self.batch_size = shuffle, reverse, batch_size
        if self.start_index > self.end_index:
            raise ValueError(
                f"`start_index+length={self.start_index} > end_index={self.end_index}` is "
                "disallowed, as no part of the sequence would be left to be used as current step."
            )

    def __len__(self) -> int:
        span = self.batch_size * self.stride
        return (self.end_index - self.start_index + span) // span

    def __getitem__(self, index):
        if self.shuffle:  # each batch draws its end steps at random (with replacement)
            rows = np.random.randint(self.start_index, self.end_index + 1, size=self.batch_size)
        else:
            first = self.start_index + self.batch_size * self.stride * index
            last = min(first + self.batch_size * self.stride, self.end_index + 1)
            rows = np.arange(first, last, self.stride)
        samples = np.array([self.data[r - self.length : r : self.sampling_rate] for r in rows])
        targets = np.array([self.targets[r] for r in rows])
        return (samples[:, ::-1, ...], targets) if self.reverse else (samples, targets)

    def get_config(self) -> dict:
        """The generator's settings, with data and targets as JSON strings."""

        def as_json(values, what):
            if isinstance(values, np.ndarray):
                values = values.tolist()
            try:
                return json.dumps(values)
            except TypeError as e:
                raise TypeError(f"{what} not JSON Serializable: {values}") from e

        return {
            "data": as_json(self.data, "Data"),
            "targets": as_json(self.targets, "Targets"),
            "length": self.length,
            "sampling_rate": self.sampling_rate,
            "stride": self.stride,
            "start_index": self.start_index,
            "end_index": self.end_index,
            "shuffle": self.shuffle,
            "reverse": self.reverse,
            "batch_size": self.batch_size,
        }

    def to_json(self, **kwargs) -> str:
        """``{"class_name": "TimeseriesGenerator", "config": ...}`` as JSON."""
        return json.dumps(
            {"class_name": type(self).__name__, "config": self.get_config()}, **kwargs
        )


def make_sampling_table(size, sampling_factor=1e-5):
    """For word ranks 0..size-1 (rank 0 treated as 1), the probability of keeping a word
    in ``skipgrams``: ``min(1, sqrt(sampling_factor * rank * (ln rank + gamma) + ...))``,
    a Zipf estimate of ``1 / frequency`` (word2vec's subsampling)."""
    gamma = 0.577
    rank = np.arange(size)
    rank[0] = 1
    inv_freq = rank * (np.log(rank) + gamma) + 0.5 - 1.0 / (12.0 * rank)
    f = sampling_factor * inv_freq
    return np.minimum(1.0, f / np.sqrt(f))


def skipgrams(
    sequence, vocabulary_size, window_size=4, negative_samples=1.0, shuffle=True,
    categorical=False, sampling_table=None, seed=None,
):  # fmt: skip
    """``(couples, labels)``: every (word, context word within ``window_size``) pair
    labelled 1, plus ``negative_samples`` times as many (word, random word) pairs labelled
    0 (``[0, 1]`` / ``[1, 0]`` with ``categorical``). Word 0 is padding and skipped."""
    couples, labels = [], []
    for i, wi in enumerate(sequence):
        if not wi:
            continue
        if sampling_table is not None and sampling_table[wi] < random.random():
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j != i and sequence[j]:
                couples.append([wi, sequence[j]])
                labels.append([0, 1] if categorical else 1)
    if negative_samples > 0:
        n = int(len(labels) * negative_samples)
        words = [c[0] for c in couples]
        random.shuffle(words)
        couples += [
            [words[i % len(words)], random.randint(1, vocabulary_size - 1)] for i in range(n)
        ]
        labels += [[1, 0] if categorical else 0] * n
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(1e7))
        # the same seed for both lists: one permutation, so pairs keep their labels
        random.seed(seed)
        random.shuffle(couples)
        random.seed(seed)
        random.shuffle(labels)
    return couples, labels
