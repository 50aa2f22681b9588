"""``ImageDataGenerator`` and its iterators (legacy ``keras.preprocessing.image``): batches
of randomly transformed images from arrays, class folders or a pandas DataFrame."""

from __future__ import annotations

import math
import os
import threading
import warnings

import numpy as np

from rill.keras import config
from rill.keras.preprocessing.image_transforms import (
    apply_affine_transform,
    apply_brightness_shift,
    apply_channel_shift,
)
from rill.keras.utils import image_utils
from rill.keras.utils.io import print_msg
from rill.keras.utils.py_dataset import PyDataset


class Iterator(PyDataset):
    """Indexable and iterable batches over ``n`` samples: subclasses define
    ``_get_batches_of_transformed_samples(index_array)``. ``seed`` reseeds NumPy's global
    generator before each batch (Keras' behaviour), so runs repeat."""

    white_list_formats = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")

    def __init__(self, n, batch_size, shuffle, seed, **kwargs):
        super().__init__(**kwargs)
        self.n, self.batch_size, self.seed, self.shuffle = n, batch_size, seed, shuffle
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array = None
        self.index_generator = self._flow_index()

    def _set_index_array(self):
        self.index_array = np.random.permutation(self.n) if self.shuffle else np.arange(self.n)

    def __getitem__(self, idx):
        if idx >= len(self):
            raise ValueError(
                f"Asked to retrieve element {idx}, but the Sequence has length {len(self)}"
            )
        if self.seed is not None:
            np.random.seed(self.seed + self.total_batches_seen)
        self.total_batches_seen += 1
        if self.index_array is None:
            self._set_index_array()
        chosen = self.index_array[self.batch_size * idx : self.batch_size * (idx + 1)]
        return self._get_batches_of_transformed_samples(chosen)

    def __len__(self) -> int:
        return (self.n + self.batch_size - 1) // self.batch_size

    def on_epoch_end(self):
        self._set_index_array()

    def reset(self):
        """Start the next ``next()`` from the first batch."""
        self.batch_index = 0

    def _flow_index(self):
        self.reset()
        while True:
            if self.seed is not None:
                np.random.seed(self.seed + self.total_batches_seen)
            if self.batch_index == 0:
                self._set_index_array()
            start = 0 if self.n == 0 else self.batch_index * self.batch_size % self.n
            self.batch_index = self.batch_index + 1 if self.n > start + self.batch_size else 0
            self.total_batches_seen += 1
            yield self.index_array[start : start + self.batch_size]

    def __iter__(self):
        return self

    def __next__(self):
        with self.lock:
            chosen = next(self.index_generator)
        return self._get_batches_of_transformed_samples(chosen)

    def _get_batches_of_transformed_samples(self, index_array):
        raise NotImplementedError(
            f"{type(self).__name__} must define _get_batches_of_transformed_samples."
        )


def _save_batch(batch_x, index_array, data_format, directory, prefix, fmt, hash_range):
    for i, j in enumerate(index_array):
        img = image_utils.array_to_img(batch_x[i], data_format, scale=True)
        name = f"{prefix}_{j}_{np.random.randint(hash_range)}.{fmt}"
        img.save(os.path.join(directory, name))


class _FilesBatches:
    """What DirectoryIterator and DataFrameIterator share: loading files into batches."""

    def _set_processing_attrs(
        self, image_data_generator, target_size, color_mode, data_format, save_to_dir,
        save_prefix, save_format, subset, interpolation, keep_aspect_ratio,
    ):  # fmt: skip
        self.image_data_generator = image_data_generator
        self.target_size = tuple(target_size)
        self.keep_aspect_ratio = keep_aspect_ratio
        channels = {"rgba": 4, "rgb": 3, "grayscale": 1}.get(color_mode)
        if channels is None:
            raise ValueError(
                f'Invalid color mode: {color_mode}; expected "rgb", "rgba", or "grayscale".'
            )
        self.color_mode, self.data_format = color_mode, data_format
        if data_format == "channels_last":
            self.image_shape = self.target_size + (channels,)
        else:
            self.image_shape = (channels,) + self.target_size
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        self.interpolation = interpolation
        if subset is None:
            self.split = None
        elif subset == "validation":
            self.split = (0, image_data_generator._validation_split)
        elif subset == "training":
            self.split = (image_data_generator._validation_split, 1)
        else:
            raise ValueError(f'Invalid subset name: {subset};expected "training" or "validation"')
        self.subset = subset

    def _get_batches_of_transformed_samples(self, index_array):
        batch_x = np.zeros((len(index_array),) + self.image_shape, dtype=self.dtype)
        for i, j in enumerate(index_array):
            img = image_utils.load_img(
                self.filepaths[j], color_mode=self.color_mode, target_size=self.target_size,
                interpolation=self.interpolation, keep_aspect_ratio=self.keep_aspect_ratio,
            )  # fmt: skip
            x = image_utils.img_to_array(img, data_format=self.data_format)
            img.close()
            gen = self.image_data_generator
            if gen:
                x = gen.standardize(gen.apply_transform(x, gen.get_random_transform(x.shape)))
            batch_x[i] = x
        if self.save_to_dir:
            _save_batch(batch_x, index_array, self.data_format, self.save_to_dir,
                        self.save_prefix, self.save_format, 1e7)  # fmt: skip
        mode = self.class_mode
        if mode == "input":
            batch_y = batch_x.copy()
        elif mode in ("binary", "sparse"):
            batch_y = np.asarray([self.classes[j] for j in index_array], dtype=self.dtype)
        elif mode == "categorical":
            batch_y = np.zeros((len(batch_x), len(self.class_indices)), dtype=self.dtype)
            for i, j in enumerate(index_array):
                batch_y[i, self.classes[j]] = 1.0
        elif mode == "multi_output":
            batch_y = [out[index_array] for out in self.labels]
        elif mode == "raw":
            batch_y = self.labels[index_array]
        else:
            return batch_x
        if self.sample_weight is None:
            return batch_x, batch_y
        return batch_x, batch_y, self.sample_weight[index_array]


def _valid_files(directory, formats, follow_links):
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links), key=lambda w: w[0]):
        for name in sorted(files):
            if name.lower().endswith(".tiff"):
                warnings.warn(
                    'Using ".tiff" files with multiple bands will cause distortion. Please '
                    "verify your output.",
                    stacklevel=2,
                )
            if name.lower().endswith(formats):
                yield os.path.join(root, name)


class DirectoryIterator(_FilesBatches, Iterator):
    """Batches of images from ``directory/<class>/...`` with labels per ``class_mode``:
    ``"categorical"`` (one-hot), ``"binary"``/``"sparse"`` (class index), ``"input"``
    (the images), or None (images only)."""

    allowed_class_modes = {"categorical", "binary", "sparse", "input", None}

    def __init__(
        self, directory, image_data_generator, target_size=(256, 256), color_mode="rgb",
        classes=None, class_mode="categorical", batch_size=32, shuffle=True, seed=None,
        data_format=None, save_to_dir=None, save_prefix="", save_format="png",
        follow_links=False, subset=None, interpolation="nearest", keep_aspect_ratio=False,
        dtype=None,
    ):  # fmt: skip
        data_format = data_format or config.image_data_format()
        self._set_processing_attrs(
            image_data_generator, target_size, color_mode, data_format, save_to_dir,
            save_prefix, save_format, subset, interpolation, keep_aspect_ratio,
        )  # fmt: skip
        self.directory = directory
        if class_mode not in self.allowed_class_modes:
            raise ValueError(
                f"Invalid class_mode: {class_mode}; expected one of: {self.allowed_class_modes}"
            )
        self.class_mode = class_mode
        self.dtype = dtype or config.floatx()
        if not classes:
            classes = [d for d in sorted(os.listdir(directory))
                       if os.path.isdir(os.path.join(directory, d))]  # fmt: skip
        self.num_classes = len(classes)
        self.class_indices = dict(zip(classes, range(len(classes))))
        self.filenames, labels = [], []
        for name in classes:
            sub = os.path.join(directory, name)
            files = list(_valid_files(sub, self.white_list_formats, follow_links))
            if self.split:
                files = files[int(self.split[0] * len(files)) : int(self.split[1] * len(files))]
            self.filenames += [os.path.join(name, os.path.relpath(f, sub)) for f in files]
            labels += [self.class_indices[name]] * len(files)
        self.samples = len(self.filenames)
        self.classes = np.asarray(labels, dtype="int32")
        print_msg(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        self._filepaths = [os.path.join(directory, f) for f in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    @property
    def filepaths(self):
        return self._filepaths

    @property
    def labels(self):
        return self.classes

    @property
    def sample_weight(self):
        return None


class DataFrameIterator(_FilesBatches, Iterator):
    """Batches of images named in a pandas DataFrame column (``x_col``), labelled from
    ``y_col``."""

    allowed_class_modes = {"binary", "categorical", "input", "multi_output", "raw", "sparse", None}

    def __init__(
        self, dataframe, directory=None, image_data_generator=None, x_col="filename",
        y_col="class", weight_col=None, target_size=(256, 256), color_mode="rgb", classes=None,
        class_mode="categorical", batch_size=32, shuffle=True, seed=None,
        data_format="channels_last", save_to_dir=None, save_prefix="", save_format="png",
        subset=None, interpolation="nearest", keep_aspect_ratio=False, dtype="float32",
        validate_filenames=True,
    ):  # fmt: skip
        self._set_processing_attrs(
            image_data_generator, target_size, color_mode, data_format, save_to_dir,
            save_prefix, save_format, subset, interpolation, keep_aspect_ratio,
        )  # fmt: skip
        df = dataframe.copy()
        self.directory = directory or ""
        self.class_mode, self.dtype = class_mode, dtype
        if class_mode not in self.allowed_class_modes:
            raise ValueError(
                f"Invalid class_mode: {class_mode}; expected one of: {self.allowed_class_modes}"
            )
        if class_mode == "multi_output" and not isinstance(y_col, list):
            raise TypeError(
                f'If class_mode="{class_mode}", y_col must be a list. Received '
                f"{type(y_col).__name__}."
            )
        if not all(isinstance(v, str) for v in df[x_col]):
            raise TypeError(f"All values in column x_col={x_col} must be strings.")
        if validate_filenames:
            keep = [
                f.lower().endswith(self.white_list_formats)
                and os.path.isfile(os.path.join(self.directory, f))
                for f in df[x_col]
            ]
            if not all(keep):
                warnings.warn(
                    f'Found {keep.count(False)} invalid image filename(s) in x_col="{x_col}". '
                    "These filename(s) will be ignored.",
                    stacklevel=2,
                )
            df = df[keep]
        labelled = class_mode not in ("input", "multi_output", "raw", None)
        if labelled:
            if classes:
                classes = list(dict.fromkeys(classes))
                df = df[[self._has_class(v, classes) for v in df[y_col]]]
            else:
                found = set()
                for v in df[y_col]:
                    found.update(v if isinstance(v, (list, tuple)) else [v])
                classes = sorted(found)
            if class_mode == "binary" and len(classes) != 2:
                raise ValueError(
                    f'If class_mode="binary" there must be 2 classes. Found {len(classes)} classes.'
                )
            self.class_indices = dict(zip(classes, range(len(classes))))
        if self.split:
            n = len(df)
            df = df.iloc[int(self.split[0] * n) : int(self.split[1] * n)]
        if labelled:
            self.classes = [
                [self.class_indices[c] for c in v if c in self.class_indices]
                if isinstance(v, (list, tuple)) else self.class_indices[v]
                for v in df[y_col]
            ]  # fmt: skip
        self.filenames = df[x_col].tolist()
        self._sample_weight = df[weight_col].values if weight_col else None
        if class_mode == "multi_output":
            self._targets = [np.array(df[c].tolist()) for c in y_col]
        if class_mode == "raw":
            self._targets = df[y_col].values
        self.samples = len(self.filenames)
        checked = "validated" if validate_filenames else "non-validated"
        message = f"Found {self.samples} {checked} image filenames"
        print_msg(message + (f" belonging to {len(classes)} classes." if labelled else "."))
        self._filepaths = [os.path.join(self.directory, f) for f in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    @staticmethod
    def _has_class(value, classes) -> bool:
        if isinstance(value, (list, tuple)):
            return any(c in classes for c in value)
        return value in classes

    def _get_batches_of_transformed_samples(self, index_array):
        if self.class_mode == "categorical" and any(isinstance(c, list) for c in self.classes):
            # multi-label rows: several ones per row
            out = super()._get_batches_of_transformed_samples(index_array)
            y = np.zeros((len(index_array), len(self.class_indices)), dtype=self.dtype)
            for i, j in enumerate(index_array):
                y[i, self.classes[j]] = 1.0
            return (out[0], y) + tuple(out[2:])
        return super()._get_batches_of_transformed_samples(index_array)

    @property
    def filepaths(self):
        return self._filepaths

    @property
    def labels(self):
        return self._targets if self.class_mode in ("multi_output", "raw") else self.classes

    @property
    def sample_weight(self):
        return self._sample_weight


class NumpyArrayIterator(Iterator):
    """Batches of transformed images from a rank-4 array ``x`` (or ``[x, extra arrays]``),
    with ``y`` and ``sample_weight`` sliced alongside."""

    def __init__(
        self, x, y, image_data_generator, batch_size=32, shuffle=False, sample_weight=None,
        seed=None, data_format=None, save_to_dir=None, save_prefix="", save_format="png",
        subset=None, ignore_class_split=False, dtype=None,
    ):  # fmt: skip
        data_format = data_format or config.image_data_format()
        self.dtype = dtype or config.floatx()
        if isinstance(x, (tuple, list)):
            extra = [np.asarray(a) for a in x[1]] if isinstance(x[1], list) else [np.asarray(x[1])]
            x = x[0]
            for a in extra:
                if len(x) != len(a):
                    raise ValueError(
                        "All of the arrays in `x` should have the same length. Found a pair "
                        f"with: len(x[0]) = {len(x)}, len(x[?]) = {len(a)}"
                    )
        else:
            extra = []
        if y is not None and len(x) != len(y):
            raise ValueError(
                "`x` (images tensor) and `y` (labels) should have the same length. Found: "
                f"x.shape = {np.asarray(x).shape}, y.shape = {np.asarray(y).shape}"
            )
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError(
                "`x` (images tensor) and `sample_weight` should have the same length. Found: "
                f"x.shape = {np.asarray(x).shape}, sample_weight.shape = "
                f"{np.asarray(sample_weight).shape}"
            )
        if subset is not None:
            if subset not in ("training", "validation"):
                raise ValueError(
                    f'Invalid subset name: {subset}; expected "training" or "validation".'
                )
            cut = int(len(x) * image_data_generator._validation_split)
            if (y is not None and not ignore_class_split
                    and not np.array_equal(np.unique(y[:cut]), np.unique(y[cut:]))):  # fmt: skip
                raise ValueError(
                    "Training and validation subsets have different number of classes after the "
                    "split. If your numpy arrays are sorted by the label, you might want to "
                    "shuffle them."
                )
            part = slice(None, cut) if subset == "validation" else slice(cut, None)
            x, extra = x[part], [np.asarray(a[part]) for a in extra]
            y = None if y is None else y[part]
            # Keras does not slice sample_weight here; neither do we (it must match x)
        self.x = np.asarray(x, dtype=self.dtype)
        self.x_misc = extra
        if self.x.ndim != 4:
            raise ValueError(
                "Input data in `NumpyArrayIterator` should have rank 4. You passed an array "
                f"with shape {self.x.shape}"
            )
        axis = 3 if data_format == "channels_last" else 1
        if self.x.shape[axis] not in (1, 3, 4):
            warnings.warn(
                f'NumpyArrayIterator is set to use the data format convention "{data_format}" '
                f"(channels on axis {axis}), i.e. expected either 1, 3, or 4 channels on axis "
                f"{axis}. However, it was passed an array with shape {self.x.shape} "
                f"({self.x.shape[axis]} channels).",
                stacklevel=2,
            )
        self.y = None if y is None else np.asarray(y)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        self.image_data_generator = image_data_generator
        self.data_format = data_format
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        super().__init__(self.x.shape[0], batch_size, shuffle, seed)

    def _get_batches_of_transformed_samples(self, index_array):
        gen = self.image_data_generator
        batch_x = np.zeros((len(index_array),) + self.x.shape[1:], dtype=self.dtype)
        for i, j in enumerate(index_array):
            x = self.x[j]
            params = gen.get_random_transform(x.shape)
            batch_x[i] = gen.standardize(gen.apply_transform(x.astype(self.dtype), params))
        if self.save_to_dir:
            _save_batch(batch_x, index_array, self.data_format, self.save_to_dir,
                        self.save_prefix, self.save_format, 1e4)  # fmt: skip
        extras = [a[index_array] for a in self.x_misc]
        inputs = [batch_x] + extras if extras else batch_x
        if self.y is None:
            return inputs
        out = (inputs, self.y[index_array])
        if self.sample_weight is not None:
            out += (self.sample_weight[index_array],)
        return out


def _flip(x, axis):
    return np.flip(np.asarray(x), axis)


class ImageDataGenerator:
    """Real-time image augmentation (rotations, shifts, shears, zooms, flips, channel and
    brightness shifts) and normalisation (rescale, sample- or feature-wise centring and
    scaling, ZCA whitening), applied batch by batch by ``flow*``."""

    def __init__(
        self, featurewise_center=False, samplewise_center=False,
        featurewise_std_normalization=False, samplewise_std_normalization=False,
        zca_whitening=False, zca_epsilon=1e-6, rotation_range=0, width_shift_range=0.0,
        height_shift_range=0.0, brightness_range=None, shear_range=0.0, zoom_range=0.0,
        channel_shift_range=0.0, fill_mode="nearest", cval=0.0, horizontal_flip=False,
        vertical_flip=False, rescale=None, preprocessing_function=None, data_format=None,
        validation_split=0.0, interpolation_order=1, dtype=None,
    ):  # fmt: skip
        data_format = data_format or config.image_data_format()
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening, self.zca_epsilon = zca_whitening, zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range, self.height_shift_range = width_shift_range, height_shift_range
        self.shear_range = shear_range
        self.channel_shift_range = channel_shift_range
        self.fill_mode, self.cval = fill_mode, cval
        self.horizontal_flip, self.vertical_flip = horizontal_flip, vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.dtype = dtype or config.floatx()
        self.interpolation_order = interpolation_order
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                '`data_format` should be `"channels_last"` (channel after row and column) or '
                f'`"channels_first"` (channel before row and column). Received: {data_format}'
            )
        self.data_format = data_format
        # axes of a batch (N, ...); a single image's are one less
        if data_format == "channels_first":
            self.channel_axis, self.row_axis, self.col_axis = 1, 2, 3
        else:
            self.channel_axis, self.row_axis, self.col_axis = 3, 1, 2
        if validation_split and not 0 < validation_split < 1:
            raise ValueError(
                f"`validation_split` must be strictly between 0 and 1.  Received: {validation_split}"
            )
        self._validation_split = validation_split
        self.mean = self.std = self.zca_whitening_matrix = None
        if isinstance(zoom_range, (float, int)):
            self.zoom_range = [1 - zoom_range, 1 + zoom_range]
        elif len(zoom_range) == 2 and all(isinstance(v, (float, int)) for v in zoom_range):
            self.zoom_range = [zoom_range[0], zoom_range[1]]
        else:
            raise ValueError(
                "`zoom_range` should be a float or a tuple or list of two floats. Received: "
                f"{zoom_range}"
            )
        if zca_whitening:
            if not featurewise_center:
                self.featurewise_center = True
                warnings.warn(
                    "This ImageDataGenerator specifies `zca_whitening`, which overrides setting "
                    "of `featurewise_center`.",
                    stacklevel=2,
                )
            if featurewise_std_normalization:
                self.featurewise_std_normalization = False
                warnings.warn(
                    "This ImageDataGenerator specifies `zca_whitening` which overrides setting "
                    "of`featurewise_std_normalization`.",
                    stacklevel=2,
                )
        if featurewise_std_normalization and not featurewise_center:
            self.featurewise_center = True
            warnings.warn(
                "This ImageDataGenerator specifies `featurewise_std_normalization`, which "
                "overrides setting of `featurewise_center`.",
                stacklevel=2,
            )
        if samplewise_std_normalization and not samplewise_center:
            self.samplewise_center = True
            warnings.warn(
                "This ImageDataGenerator specifies `samplewise_std_normalization`, which "
                "overrides setting of `samplewise_center`.",
                stacklevel=2,
            )
        if brightness_range is not None and (
            not isinstance(brightness_range, (tuple, list)) or len(brightness_range) != 2
        ):
            raise ValueError(
                f"`brightness_range should be tuple or list of two floats. Received: "
                f"{brightness_range}"
            )
        self.brightness_range = brightness_range

    def flow(
        self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None,
        save_to_dir=None, save_prefix="", save_format="png", ignore_class_split=False,
        subset=None,
    ):  # fmt: skip
        """A ``NumpyArrayIterator`` over arrays."""
        return NumpyArrayIterator(
            x, y, self, batch_size=batch_size, shuffle=shuffle, sample_weight=sample_weight,
            seed=seed, data_format=self.data_format, save_to_dir=save_to_dir,
            save_prefix=save_prefix, save_format=save_format,
            ignore_class_split=ignore_class_split, subset=subset, dtype=self.dtype,
        )  # fmt: skip

    def flow_from_directory(
        self, directory, target_size=(256, 256), color_mode="rgb", classes=None,
        class_mode="categorical", batch_size=32, shuffle=True, seed=None, save_to_dir=None,
        save_prefix="", save_format="png", follow_links=False, subset=None,
        interpolation="nearest", keep_aspect_ratio=False,
    ):  # fmt: skip
        """A ``DirectoryIterator`` over class folders."""
        return DirectoryIterator(
            directory, self, target_size=target_size, color_mode=color_mode,
            keep_aspect_ratio=keep_aspect_ratio, classes=classes, class_mode=class_mode,
            data_format=self.data_format, batch_size=batch_size, shuffle=shuffle, seed=seed,
            save_to_dir=save_to_dir, save_prefix=save_prefix, save_format=save_format,
            follow_links=follow_links, subset=subset, interpolation=interpolation,
            dtype=self.dtype,
        )  # fmt: skip

    def flow_from_dataframe(
        self, dataframe, directory=None, x_col="filename", y_col="class", weight_col=None,
        target_size=(256, 256), color_mode="rgb", classes=None, class_mode="categorical",
        batch_size=32, shuffle=True, seed=None, save_to_dir=None, save_prefix="",
        save_format="png", subset=None, interpolation="nearest", validate_filenames=True,
        **kwargs,
    ):  # fmt: skip
        """A ``DataFrameIterator`` over a pandas DataFrame of file names and labels."""
        for old in ("has_ext", "sort", "drop_duplicates"):
            if old in kwargs:
                warnings.warn(f"{old} is deprecated and ignored.", DeprecationWarning, stacklevel=2)
        if class_mode == "other":
            warnings.warn(
                '`class_mode="other"` is deprecated, please use `class_mode="raw"`.',
                DeprecationWarning,
                stacklevel=2,
            )
            class_mode = "raw"
        return DataFrameIterator(
            dataframe, directory, self, x_col=x_col, y_col=y_col, weight_col=weight_col,
            target_size=target_size, color_mode=color_mode, classes=classes,
            class_mode=class_mode, data_format=self.data_format, batch_size=batch_size,
            shuffle=shuffle, seed=seed, save_to_dir=save_to_dir, save_prefix=save_prefix,
            save_format=save_format, subset=subset, interpolation=interpolation,
            validate_filenames=validate_filenames, dtype=self.dtype,
        )  # fmt: skip

    def standardize(self, x):
        """Apply the normalisation settings to one image or a batch (in place where
        possible)."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, keepdims=True) + 1e-6
        unfit = "This ImageDataGenerator specifies `{}`, but it hasn't been fit on any " \
                "training data. Fit it first by calling `.fit(numpy_data)`."  # fmt: skip
        if self.featurewise_center:
            if self.mean is None:
                warnings.warn(unfit.format("featurewise_center"), stacklevel=2)
            else:
                x -= self.mean
        if self.featurewise_std_normalization:
            if self.std is None:
                warnings.warn(unfit.format("featurewise_std_normalization"), stacklevel=2)
            else:
                x /= self.std + 1e-6
        if self.zca_whitening:
            if self.zca_whitening_matrix is None:
                warnings.warn(unfit.format("zca_whitening"), stacklevel=2)
            else:
                flat = x.reshape(-1, math.prod(x.shape[-3:]))
                x = np.reshape(flat @ self.zca_whitening_matrix, x.shape)
        return x

    def _shift(self, shift_range, size):
        try:  # a list of allowed shifts, each taken with a random sign
            shift = np.random.choice(shift_range) * np.random.choice([-1, 1])
        except ValueError:  # a number: a uniform draw from [-range, range]
            shift = np.random.uniform(-shift_range, shift_range)
        return shift * size if np.max(shift_range) < 1 else shift

    def get_random_transform(self, img_shape, seed=None) -> dict:
        """Draw one set of transform parameters for an image of ``img_shape``."""
        row, col = self.row_axis - 1, self.col_axis - 1
        if seed is not None:
            np.random.seed(seed)
        theta = (
            np.random.uniform(-self.rotation_range, self.rotation_range)
            if self.rotation_range
            else 0
        )
        tx = self._shift(self.height_shift_range, img_shape[row]) if self.height_shift_range else 0
        ty = self._shift(self.width_shift_range, img_shape[col]) if self.width_shift_range else 0
        shear = np.random.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = np.random.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = (np.random.random() < 0.5) * self.horizontal_flip
        flip_vertical = (np.random.random() < 0.5) * self.vertical_flip
        channel_shift = None
        if self.channel_shift_range != 0:
            channel_shift = np.random.uniform(-self.channel_shift_range, self.channel_shift_range)
        brightness = None
        if self.brightness_range is not None:
            brightness = np.random.uniform(self.brightness_range[0], self.brightness_range[1])
        return {
            "theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
            "flip_horizontal": flip_horizontal, "flip_vertical": flip_vertical,
            "channel_shift_intensity": channel_shift, "brightness": brightness,
        }  # fmt: skip

    def apply_transform(self, x, transform_parameters):
        """Apply the parameters from ``get_random_transform`` to one image."""
        p = transform_parameters
        row, col, channel = self.row_axis - 1, self.col_axis - 1, self.channel_axis - 1
        x = apply_affine_transform(
            x, p.get("theta", 0), p.get("tx", 0), p.get("ty", 0), p.get("shear", 0),
            p.get("zx", 1), p.get("zy", 1), row_axis=row, col_axis=col, channel_axis=channel,
            fill_mode=self.fill_mode, cval=self.cval, order=self.interpolation_order,
        )  # fmt: skip
        if p.get("channel_shift_intensity") is not None:
            x = apply_channel_shift(x, p["channel_shift_intensity"], channel)
        if p.get("flip_horizontal", False):
            x = _flip(x, col)
        if p.get("flip_vertical", False):
            x = _flip(x, row)
        if p.get("brightness") is not None:
            x = apply_brightness_shift(x, p["brightness"], False)
        return x

    def random_transform(self, x, seed=None):
        """One randomly transformed copy of image ``x``."""
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Compute the feature-wise mean, std and ZCA matrix from sample images ``x``
        (rank 4), optionally over ``rounds`` augmented copies."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(
                f"Input to `.fit()` should have rank 4. Got array with shape: {x.shape}"
            )
        if x.shape[self.channel_axis] not in (1, 3, 4):
            warnings.warn(
                f"Expected input to be images (as Numpy array) following the data format "
                f'convention "{self.data_format}" (channels on axis {self.channel_axis}), i.e. '
                f"expected either 1, 3 or 4 channels on axis {self.channel_axis}. However, it "
                f"was passed an array with shape {x.shape} ({x.shape[self.channel_axis]} "
                "channels).",
                stacklevel=2,
            )
        if seed is not None:
            np.random.seed(seed)
        x = np.copy(x)
        if self.rescale:
            x *= self.rescale
        if augment:
            x = np.stack([self.random_transform(img) for _ in range(rounds) for img in x])
            x = x.astype(self.dtype)
        shape = [1, 1, 1]
        shape[self.channel_axis - 1] = x.shape[self.channel_axis]
        if self.featurewise_center:
            self.mean = np.reshape(np.mean(x, axis=(0, self.row_axis, self.col_axis)), shape)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(np.std(x, axis=(0, self.row_axis, self.col_axis)), shape)
            x /= self.std + 1e-6
        if self.zca_whitening:
            n = len(x)
            u, s, _ = np.linalg.svd(np.reshape(x, (n, -1)).T, full_matrices=False)
            self.zca_whitening_matrix = (u * (np.sqrt(n) / (s + self.zca_epsilon))) @ u.T
