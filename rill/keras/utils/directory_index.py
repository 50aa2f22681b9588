"""Listing a folder of class sub-folders into (file paths, labels, class names), the
shared first step of the ``*_dataset_from_directory`` loaders, and their shared tail:
labels as a dataset, the training/validation split, batching."""

from __future__ import annotations

import os

import numpy as np

from rill.keras.utils.io import print_msg


def check_validation_split_arg(validation_split, subset, shuffle, seed) -> None:
    """Raise for an inconsistent ``validation_split`` / ``subset`` / ``seed``."""
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(
            f"`validation_split` must be between 0 and 1, received: {validation_split}"
        )
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(
            f'`subset` must be either "training", "validation" or "both", received: {subset}'
        )
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "If using `validation_split` and shuffling the data, you must provide a `seed` "
            "argument, to make sure that there is no overlap between the training and "
            "validation subset."
        )


def check_labels_arg(labels, label_mode, class_names, what: str) -> None:
    """Raise for a ``labels`` that is neither "inferred", None nor a list, or a
    ``label_mode`` Keras does not know."""
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                f"`labels` argument should be a list/tuple of integer labels, of the same size "
                f"as the number of {what} files in the target directory. If you wish to infer "
                'the labels from the subdirectory names in the target directory, pass `labels="'
                'inferred"`. If you wish to get a dataset that only contains '
                f"{what} samples (no labels), pass `labels=None`. Received: labels={labels}"
            )
        if class_names:
            raise ValueError(
                'You can only pass `class_names` if `labels="inferred"`. Received: '
                f"labels={labels}, and class_names={class_names}"
            )
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError(
            '`label_mode` argument must be one of "int", "categorical", "binary", or None. '
            f"Received: label_mode={label_mode}"
        )


def _files_under(directory, follow_links, formats):
    # sorted walk: the same listing (and so the same shuffle) on every machine
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links), key=lambda w: w[0]):
        for name in sorted(files):
            if name.lower().endswith(formats):
                yield os.path.join(root, name)


def index_directory(
    directory, labels, formats, class_names=None, shuffle=True, seed=None, follow_links=False,
    verbose=True,
):  # fmt: skip
    """``(file_paths, labels, class_names)``: with ``labels="inferred"`` each
    sub-folder (sorted, or in ``class_names``' order) is a class; files are shuffled (paths
    and labels alike) with ``np.random.RandomState(seed)``."""
    if labels == "inferred":
        subdirs = [
            d
            for d in sorted(os.listdir(directory))
            if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")
        ]
        if class_names is not None:
            if not set(class_names).issubset(subdirs):
                raise ValueError(
                    "The `class_names` passed did not match the names of the subdirectories of "
                    f"the target directory. Expected: {subdirs} (or a subset of it), but "
                    f"received: class_names={class_names}"
                )
            subdirs = list(class_names)
    else:
        if class_names is not None:
            raise ValueError(
                "When `labels=None` (no labels), argument `class_names` cannot be specified."
                if labels is None
                else "When argument `labels` is specified, argument `class_names` cannot be "
                "specified (the `class_names` will be the sorted list of labels)."
            )
        subdirs = [""]
    found, found_labels = [], []
    for index, sub in enumerate(subdirs):
        files = list(_files_under(os.path.join(directory, sub), follow_links, formats))
        found += files
        found_labels += [index] * len(files)
    if labels == "inferred":
        class_names = subdirs
        labels = np.asarray(found_labels, dtype="int32")
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(found):
            raise ValueError(
                "Expected the lengths of `labels` to match the number of files in the target "
                f"directory. len(labels) is {len(labels)} while we found {len(found)} files in "
                f"directory {directory}."
            )
        class_names = [str(label) for label in sorted(set(labels))]
    if verbose:
        if labels is None:
            print_msg(f"Found {len(found)} files.")
        else:
            print_msg(f"Found {len(found)} files belonging to {len(class_names)} classes.")
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(found)
        if labels is not None:
            labels = np.array(labels)
            np.random.RandomState(seed).shuffle(labels)  # the same permutation as the paths
    return found, labels, class_names


def training_or_validation_split(samples, labels, validation_split, subset):
    """The last ``validation_split`` of the samples for "validation", the rest for
    "training"."""
    if not validation_split:
        return samples, labels
    n_val = int(validation_split * len(samples))
    if subset == "training":
        print_msg(f"Using {len(samples) - n_val} files for training.")
        return samples[: len(samples) - n_val], None if labels is None else labels[
            : len(samples) - n_val
        ]
    if subset == "validation":
        print_msg(f"Using {n_val} files for validation.")
        return samples[len(samples) - n_val :], None if labels is None else labels[
            len(samples) - n_val :
        ]
    raise ValueError(f'`subset` must be either "training" or "validation", received: {subset}')


def labels_dataset(labels, label_mode, num_classes):
    """int32 labels as they are (``"int"``), one-hot float32 rows (``"categorical"``) or
    float32 columns of one value (``"binary"``)."""
    import rill as tf

    labels = np.asarray(labels, "int32")
    if label_mode == "binary":
        values = labels.astype("float32")[:, None]
    elif label_mode == "categorical":
        values = np.eye(num_classes, dtype="float32")[labels]
    else:
        values = labels
    return tf.data.Dataset.from_tensor_slices(values)


def build(
    directory, files, labels, label_mode, class_names, load, validation_split, subset,
    batch_size, shuffle, seed, what, batch=None,
):  # fmt: skip
    """The dataset(s) for one subset (a list of two for ``subset="both"``): ``load`` maps a
    dataset of paths to one of samples; ``batch`` batches (default ``Dataset.batch``)."""
    import rill as tf

    subsets = ("training", "validation") if subset == "both" else (subset,)
    out = []
    for part in subsets:
        paths, part_labels = training_or_validation_split(files, labels, validation_split, part)
        if not paths:
            kind = {"training": "training ", "validation": "validation "}.get(part, "")
            raise ValueError(f"No {kind}{what} found in directory {directory}.")
        ds = tf.data.Dataset.from_tensor_slices(list(paths))
        if label_mode:
            ds = tf.data.Dataset.zip(
                (ds, labels_dataset(part_labels, label_mode, len(class_names)))
            )
        if shuffle and not (subset == "both" and part == "validation"):
            ds = ds.shuffle(batch_size * 8 if batch_size is not None else 1024, seed=seed)
        ds = ds.map(lambda p, y: (load(p), y)) if label_mode else ds.map(load)
        if batch_size is not None:
            ds = batch(ds, batch_size) if batch else ds.batch(batch_size)
        ds = ds.prefetch(tf.data.AUTOTUNE)
        ds.class_names = class_names
        ds.file_paths = list(paths)
        out.append(ds)
    return out if subset == "both" else out[0]
