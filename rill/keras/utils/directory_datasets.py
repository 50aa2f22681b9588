"""``image_dataset_from_directory``, ``text_dataset_from_directory`` and
``audio_dataset_from_directory``: a folder with one sub-folder per class -> a batched
``tf.data.Dataset`` of ``(samples, labels)``, with ``class_names`` and ``file_paths``."""

from __future__ import annotations

import numpy as np

from rill.keras.utils.directory_index import (
    build,
    check_labels_arg,
    check_validation_split_arg,
    index_directory,
)

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5",
                   "gaussian", "mitchellcubic")  # fmt: skip


def _check_format(format) -> None:  # noqa: A002 - Keras' parameter name
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    if format == "grain":
        raise ValueError(
            'format="grain" needs the Grain library, which rill does not use; pass format="tf" '
            "for a rill.data.Dataset."
        )


def _host(fn, path, dtype, shape):
    """``fn(path_bytes)`` run on the host inside the dataset's traced map, with its static
    shape restored."""
    import rill as tf

    def call(p):  # a 0-d string array arrives; files open from its bytes
        return fn(p.item() if isinstance(p, np.ndarray) else p)

    out = tf.numpy_function(call, [path], dtype, stateful=False)
    return tf.ensure_shape(out, shape)


def _image_loader(image_size, channels, interpolation, data_format, crop, pad):
    import rill as tf

    def load(path: bytes):
        with open(path, "rb") as f:
            img = tf.image.decode_image(f.read(), channels=channels, expand_animations=False)
        if crop:
            from rill.keras.utils.image_utils import smart_resize

            if data_format == "channels_first":
                img = tf.transpose(img, (2, 0, 1))
            img = smart_resize(
                img, image_size, interpolation=interpolation, data_format=data_format
            )
        else:
            if pad:
                img = tf.image.resize_with_pad(
                    img, image_size[0], image_size[1], method=interpolation
                )
            else:
                img = tf.image.resize(img, image_size, method=interpolation)
            if data_format == "channels_first":
                img = tf.transpose(img, (2, 0, 1))
        return np.asarray(img, dtype="float32")

    if data_format == "channels_last":
        shape = (image_size[0], image_size[1], channels)
    else:
        shape = (channels, image_size[0], image_size[1])
    return lambda p: _host(load, p, "float32", shape)


def _index(directory, labels, label_mode, formats, class_names, validation_split, subset,
           shuffle, seed, follow_links, verbose):  # fmt: skip
    """The split arguments checked, a seed drawn when none is given, and the files (with
    labels and class names) under ``directory``: ``(files, labels, class_names, seed)``."""
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    files, labels, class_names = index_directory(
        directory, labels, formats, class_names, shuffle, seed, follow_links, verbose
    )
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(
            'When passing `label_mode="binary"`, there must be exactly 2 class_names. '
            f"Received: class_names={class_names}"
        )
    return files, labels, class_names, seed


def image_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    color_mode="rgb",
    batch_size=32,
    image_size=(256, 256),
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    interpolation="bilinear",
    follow_links=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    data_format=None,
    format="tf",  # noqa: A002
    verbose=True,
):
    """Images (bmp, gif, jpeg, png) under ``directory`` -> float32 batches of
    ``image_size``, labelled by sub-folder (``"int"``, ``"categorical"``, ``"binary"``)."""
    check_labels_arg(labels, label_mode, class_names, "image")
    if labels is None or label_mode is None:
        labels = label_mode = None
    channels = {"rgb": 3, "rgba": 4, "grayscale": 1}.get(color_mode)
    if channels is None:
        raise ValueError(
            '`color_mode` must be one of {"rgb", "rgba", "grayscale"}. Received: '
            f"color_mode={color_mode}"
        )
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(
            f"Invalid `image_size` value. Expected a tuple of 2 integers. Received: "
            f"image_size={image_size}"
        )
    interpolation = interpolation.lower()
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(
            f"Argument `interpolation` should be one of {_INTERPOLATIONS}. Received: "
            f"interpolation={interpolation}"
        )
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError(
            "Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to `True`."
        )
    _check_format(format)
    files, labels, class_names, seed = _index(
        directory, labels, label_mode, IMAGE_FORMATS, class_names, validation_split, subset,
        shuffle, seed, follow_links, verbose,
    )  # fmt: skip
    from rill.keras.utils.image_utils import _data_format

    load = _image_loader(
        tuple(image_size), channels, interpolation, _data_format(data_format),
        crop_to_aspect_ratio, pad_to_aspect_ratio,
    )  # fmt: skip
    return build(
        directory, files, labels, label_mode, class_names, load, validation_split, subset,
        batch_size, shuffle, seed, f"images (allowed formats: {IMAGE_FORMATS})",
    )  # fmt: skip


def text_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=32,
    max_length=None,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    follow_links=False,
    format="tf",  # noqa: A002
    verbose=True,
):
    """``.txt`` files under ``directory`` -> batches of string tensors (each file's bytes,
    cut to ``max_length`` bytes), labelled by sub-folder."""
    check_labels_arg(labels, label_mode, class_names, "text")
    _check_format(format)
    if labels is None or label_mode is None:
        labels = label_mode = None
    files, labels, class_names, seed = _index(
        directory, labels, label_mode, (".txt",), class_names, validation_split, subset,
        shuffle, seed, follow_links, verbose,
    )  # fmt: skip

    def read(path: bytes):
        with open(path, "rb") as f:
            data = f.read()
        return np.array(data if max_length is None else data[:max_length], dtype=object)

    def load(p):
        return _host(read, p, "string", ())

    return build(
        directory, files, labels, label_mode, class_names, load, validation_split, subset,
        batch_size, shuffle, seed, "text files (allowed format: .txt)",
    )  # fmt: skip


def read_wav(path) -> np.ndarray:
    """A PCM WAV file -> float32 samples (frames, channels) in [-1, 1), as TF's
    ``decode_wav`` gives them (8-bit audio is unsigned, centred on 128)."""
    import wave

    with wave.open(path if isinstance(path, str) else path.decode(), "rb") as w:
        width, channels, frames = w.getsampwidth(), w.getnchannels(), w.getnframes()
        raw = w.readframes(frames)
    if width == 1:
        data = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128) / 128
    elif width == 2:
        data = np.frombuffer(raw, "<i2").astype(np.float32) / 32768
    elif width == 3:  # 24-bit: widen each little-endian triple to int32
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        data = ((b[:, 0] << 8 | b[:, 1] << 16 | b[:, 2] << 24) >> 8).astype(np.float32) / 2**23
    elif width == 4:
        data = np.frombuffer(raw, "<i4").astype(np.float32) / 2**31
    else:
        raise ValueError(f"{path!r}: unsupported WAV sample width of {width} bytes")
    return data.reshape(-1, channels)


def audio_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=32,
    sampling_rate=None,
    output_sequence_length=None,
    ragged=False,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    follow_links=False,
    verbose=True,
):
    """``.wav`` files under ``directory`` -> float32 batches (batch, samples, channels):
    cut or zero-padded to ``output_sequence_length``, else padded to the longest in each
    batch (or ragged batches with ``ragged=True``)."""
    check_labels_arg(labels, label_mode, class_names, "audio")
    if ragged and output_sequence_length is not None:
        raise ValueError("Cannot set both `ragged` and `output_sequence_length`")
    if sampling_rate is not None:
        if not isinstance(sampling_rate, int):
            raise ValueError(
                f"`sampling_rate` should have an integer value. Received: "
                f"sampling_rate={sampling_rate}"
            )
        if sampling_rate <= 0:
            raise ValueError(
                f"`sampling_rate` should be higher than 0. Received: sampling_rate={sampling_rate}"
            )
        raise ImportError(
            "To use the argument `sampling_rate`, you should install tensorflow_io (Keras "
            "resamples with it); rill does not resample audio. Resample the files beforehand "
            "and leave `sampling_rate=None`."
        )
    if labels is None or label_mode is None:
        labels = label_mode = None
    files, labels, class_names, seed = _index(
        directory, labels, label_mode, (".wav",), class_names, validation_split, subset,
        shuffle, seed, follow_links, verbose,
    )  # fmt: skip

    channels = read_wav(files[0]).shape[1] if files else 1
    length = output_sequence_length

    def read(path: bytes):
        audio = read_wav(path)
        if length is not None:
            audio = audio[:length]
            if len(audio) < length:
                audio = np.pad(audio, ((0, length - len(audio)), (0, 0)))
        return audio

    def load(p):
        return _host(read, p, "float32", (length, channels))

    def batch(ds, n):
        if ragged:
            return ds.ragged_batch(n)
        if length is None:  # pad each batch to its longest clip
            return ds.padded_batch(n)
        return ds.batch(n)

    return build(
        directory, files, labels, label_mode, class_names, load, validation_split, subset,
        batch_size, shuffle, seed, "audio files (allowed format: .wav)", batch=batch,
    )  # fmt: skip
