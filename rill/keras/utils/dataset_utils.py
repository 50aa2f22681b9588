"""``split_dataset`` and ``timeseries_dataset_from_array``: arrays or datasets in,
``tf.data.Dataset``s out."""

from __future__ import annotations

import random

import numpy as np


def _samples(dataset) -> tuple[list, str]:
    """Every sample of ``dataset`` as a list, and what kind of container it was."""
    from rill.data import dataset_ops

    if isinstance(dataset, dataset_ops.DatasetV2):
        return list(dataset.as_numpy_iterator()), "dataset"
    if isinstance(dataset, np.ndarray):
        return list(dataset), "array"
    if isinstance(dataset, (list, tuple)):
        if not dataset:
            raise ValueError(
                f"Received an empty {type(dataset).__name__} dataset. Please provide a "
                "non-empty list of arrays."
            )
        arrays = [np.asarray(a) for a in dataset]
        for i, a in enumerate(arrays):
            if len(a) != len(arrays[0]):
                raise ValueError(
                    f"Received a {type(dataset).__name__} of NumPy arrays with different "
                    f"lengths. Mismatch found at index {i}, Expected shape={arrays[0].shape} "
                    f"Received shape={a.shape}. Please provide arrays of the same length."
                )
        return [tuple(a[i] for a in arrays) for i in range(len(arrays[0]))], "tuple"
    if isinstance(dataset, dict):
        keys = list(dataset)
        arrays = [np.asarray(dataset[k]) for k in keys]
        return [dict(zip(keys, (a[i] for a in arrays))) for i in range(len(arrays[0]))], "dict"
    raise TypeError(
        "The `dataset` argument must be either a `tf.data.Dataset` object, or a list/tuple "
        f"of arrays. Received: dataset={dataset} of type {type(dataset)}"
    )


def kind_of_dataset(x) -> bool:
    """Whether ``x`` is a ``tf.data.Dataset``."""
    from rill.data import dataset_ops

    return isinstance(x, dataset_ops.DatasetV2)


def _split_sizes(left_size, right_size, total):
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if size is not None and type(size) not in (int, float):
            raise TypeError(
                f"Invalid `{name}` Type. Expected: int or float or None, Received: "
                f"type({name})={type(size)}."
            )
    if left_size == 0 and right_size == 0:
        raise ValueError(
            "Both `left_size` and `right_size` are zero. At least one of the split sizes must "
            "be non-zero."
        )
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        bad_int = type(size) is int and not 0 < size < total
        if bad_int or (type(size) is float and not 0 < size < 1):
            raise ValueError(
                f"`{name}` should be either a positive integer smaller than {total}, or a "
                f"float within the range `[0, 1]`. Received: {name}={size}"
            )
    if type(left_size) is float and type(right_size) is float and left_size + right_size > 1:
        raise ValueError(
            "The sum of `left_size` and `right_size` is greater than 1. It must be less than or "
            "equal to 1."
        )
    left = round(left_size * total) if type(left_size) is float else left_size
    right = round(right_size * total) if type(right_size) is float else right_size
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(
            f"The sum of `left_size` and `right_size` should be smaller than the {total}. "
            f"Received: left_size + right_size = {left + right} and total_length = {total}"
        )
    for size, side in ((left, "left"), (right, "right")):
        if size == 0:
            raise ValueError(
                f"With `dataset` of length={total}, `left_size`={left_size} and "
                f"`right_size`={right_size}. Resulting {side} side dataset split will be empty. "
                "Adjust any of the aforementioned parameters"
            )
    return int(left), int(right)


def _to_dataset(samples, kind):
    import rill as tf

    if kind == "dict":
        columns = {k: np.array([s[k] for s in samples]) for k in samples[0]}
    elif isinstance(samples[0], tuple):
        columns = tuple(np.array(c) for c in zip(*samples))
    elif isinstance(samples[0], dict):
        columns = {k: np.array([s[k] for s in samples]) for k in samples[0]}
    else:
        columns = np.array(samples)
    return tf.data.Dataset.from_tensor_slices(columns)


def split_dataset(
    dataset, left_size=None, right_size=None, shuffle=False, seed=None, preferred_backend=None
):
    """Split arrays, a tuple of arrays or a Dataset into two Datasets: the first
    ``left_size`` samples and the last ``right_size`` (ints are counts, floats fractions;
    one may be None for "the rest"), after a shuffle with Python's ``random`` and ``seed``."""
    if preferred_backend not in (None, "tensorflow"):
        raise ValueError(
            f"split_dataset: rill builds tf.data Datasets; preferred_backend must be None or "
            f"'tensorflow', got {preferred_backend!r}"
        )
    if left_size is None and right_size is None:
        raise ValueError(
            "At least one of the `left_size` or `right_size` must be specified. Received: "
            "left_size=None and right_size=None"
        )
    batch = _batch_size(dataset) if kind_of_dataset(dataset) else None
    samples, kind = _samples(dataset.unbatch() if batch is not None else dataset)
    if not samples:
        raise ValueError(
            "Received an empty dataset. Argument `dataset` must be a non-empty list/tuple of "
            "`numpy.ndarray` objects or `tf.data.Dataset` objects."
        )
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(1e6))
        random.seed(seed)
        random.shuffle(samples)
    left, right = _split_sizes(left_size, right_size, len(samples))
    left_ds = _to_dataset(samples[:left], kind)
    right_ds = _to_dataset(samples[-right:], kind)
    if batch is not None:
        left_ds, right_ds = left_ds.batch(batch), right_ds.batch(batch)
    return left_ds, right_ds


def _batch_size(dataset):
    """The batch size of a Dataset whose last step is ``batch`` (Keras splits such a
    dataset's rows, not its batches), else None."""
    if getattr(dataset, "_kind", None) != "_BatchDataset":
        return None
    for first in dataset.take(1):
        from rill.core import nest

        return int(nest.flatten(first)[0].shape[0])
    return None


def timeseries_dataset_from_array(
    data,
    targets,
    sequence_length,
    sequence_stride=1,
    sampling_rate=1,
    batch_size=128,
    shuffle=False,
    seed=None,
    start_index=None,
    end_index=None,
    format="tf",  # noqa: A002
):
    """Sliding windows over ``data``: window ``i`` is ``data[start + p_i : ... :
    sampling_rate]`` (``sequence_length`` steps) with ``p_i = i * sequence_stride``, and its
    target ``targets[start + p_i]``; batched, optionally shuffled."""
    n = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError(
                f"`start_index` must be 0 or greater. Received: start_index={start_index}"
            )
        if start_index >= n:
            raise ValueError(
                "`start_index` must be lower than the length of the data. Received: "
                f"start_index={start_index}, for data of length {n}"
            )
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(
                "`end_index` must be higher than `start_index`. Received: "
                f"start_index={start_index}, and end_index={end_index} "
            )
        if end_index >= n:
            raise ValueError(
                "`end_index` must be lower than the length of the data. Received: "
                f"end_index={end_index}, for data of length {n}"
            )
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value <= 0:
            raise ValueError(f"`{name}` must be higher than 0. Received: {name}={value}")
        if value >= n:
            raise ValueError(
                f"`{name}` must be lower than the length of the data. Received: {name}={value}, "
                f"for data of length {n}"
            )
    if format != "tf":
        raise ValueError(
            f'`format` should be "tf" (rill builds tf.data Datasets; "grain" needs Grain). '
            f"Received: format={format}"
        )
    import rill as tf

    start = start_index or 0
    end = n if end_index is None else end_index
    num_seqs = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    index_dtype = "int32" if num_seqs < 2**31 - 1 else "int64"
    positions = np.arange(0, max(num_seqs, 0), sequence_stride, dtype=index_dtype)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(positions)
    window = np.arange(0, sequence_length * sampling_rate, sampling_rate, dtype=index_dtype)
    steps = tf.convert_to_tensor(np.asarray(data)[start:end])
    window_t = tf.constant(window)
    ds = tf.data.Dataset.from_tensor_slices(positions).map(lambda p: tf.gather(steps, p + window_t))
    if targets is not None:
        goals = tf.convert_to_tensor(np.asarray(targets)[start:end])
        target_ds = tf.data.Dataset.from_tensor_slices(positions).map(lambda p: tf.gather(goals, p))
        ds = tf.data.Dataset.zip((ds, target_ds))
    if batch_size is not None:
        if shuffle:
            ds = ds.shuffle(batch_size * 8, seed=seed)
        ds = ds.batch(batch_size)
    elif shuffle:
        ds = ds.shuffle(1024, seed=seed)
    return ds.prefetch(tf.data.AUTOTUNE)
