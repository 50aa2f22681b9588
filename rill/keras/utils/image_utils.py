"""Images as files, PIL images and arrays: ``load_img``, ``img_to_array``,
``array_to_img``, ``save_img`` (Pillow, an optional extra: ``pip install "rill[image]"``),
and ``smart_resize`` (rill ops, no Pillow)."""

from __future__ import annotations

import io
import pathlib
import warnings

import numpy as np

from rill.keras import config

_RESAMPLING = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def pil_image():
    """Pillow's ``Image`` module, or an ImportError naming the extra to install."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "Loading and saving images needs Pillow, an optional dependency of rill: "
            'pip install "rill[image]"'
        ) from None
    return Image


def _resample(image_module, interpolation: str):
    if interpolation not in _RESAMPLING:
        raise ValueError(
            f"Invalid interpolation method {interpolation} specified. Supported methods are "
            + ", ".join(_RESAMPLING)
        )
    resampling = getattr(image_module, "Resampling", image_module)
    return getattr(resampling, interpolation.upper())


def _data_format(data_format) -> str:
    data_format = config.image_data_format() if data_format is None else data_format
    data_format = str(data_format).lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    return data_format


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A rank-3 array -> a PIL image (RGB, RGBA, or L / I for one channel); ``scale``
    stretches the values to 0-255 first."""
    data_format = _data_format(data_format)
    image = pil_image()
    x = np.array(x, dtype=dtype or config.floatx())
    if x.ndim != 3:
        raise ValueError(
            f"Expected image array to have rank 3 (single image). Got array with shape: {x.shape}"
        )
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x /= top
        x *= 255
    channels = x.shape[2]
    if channels in (3, 4):
        return image.fromarray(x.astype("uint8"), "RGBA" if channels == 4 else "RGB")
    if channels == 1:
        if np.max(x) > 255:  # 16-bit (or deeper) grayscale keeps its range as 32-bit ints
            return image.fromarray(x[:, :, 0].astype("int32"), "I")
        return image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def img_to_array(img, data_format=None, dtype=None):
    """A PIL image (or anything array-like) -> a rank-3 float array, channels where
    ``data_format`` puts them."""
    data_format = _data_format(data_format)
    x = np.asarray(img, dtype=dtype or config.floatx())
    if x.ndim == 3:
        return x.transpose(2, 0, 1) if data_format == "channels_first" else x
    if x.ndim == 2:
        return x[None] if data_format == "channels_first" else x[..., None]
    raise ValueError(f"Unsupported image shape: {x.shape}")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Write an image array to ``path`` (format from the extension unless given); extra
    keyword arguments go to ``PIL.Image.save``."""
    data_format = _data_format(data_format)
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn(
            "The JPEG format does not support RGBA images, converting to RGB.", stacklevel=2
        )
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def load_img(
    path, color_mode="rgb", target_size=None, interpolation="nearest", keep_aspect_ratio=False
):
    """Read an image file (or a ``BytesIO``) into a PIL image, converted to
    ``"grayscale"``, ``"rgb"`` or ``"rgba"`` and resized to ``target_size`` = (height,
    width) if given (centre-cropped to that aspect ratio first with
    ``keep_aspect_ratio``)."""
    image = pil_image()
    if isinstance(path, io.BytesIO):
        img = image.open(path)
    elif isinstance(path, (pathlib.Path, bytes, str)):
        with open(str(path.resolve()) if isinstance(path, pathlib.Path) else path, "rb") as f:
            img = image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    wanted = {"grayscale": ("L", "I;16", "I"), "rgba": ("RGBA",), "rgb": ("RGB",)}
    if color_mode not in wanted:
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba"')
    if img.mode not in wanted[color_mode]:
        img = img.convert(wanted[color_mode][0])
    if target_size is None:
        return img
    size = (target_size[1], target_size[0])  # PIL sizes are (width, height)
    if img.size == size:
        return img
    resample = _resample(image, interpolation)
    if not keep_aspect_ratio:
        return img.resize(size, resample)
    width, height = img.size
    crop_h = min(height, width * size[1] // size[0])
    crop_w = min(width, height * size[0] // size[1])
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    return img.resize(size, resample, box=[left, top, left + crop_w, top + crop_h])


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last", **kwargs):
    """Resize image(s) to ``size`` without distorting them: centre-crop the largest window
    of the target aspect ratio, then resize it. NumPy in, NumPy out."""
    kwargs.pop("backend_module", None)
    if kwargs:
        raise TypeError(f"smart_resize() got unexpected keyword arguments: {list(kwargs)}")
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers, but got: {size}.")
    from rill.keras.ops import image as keras_image
    from rill.keras.ops._base import tensor

    img = tensor(x)
    rank = img.shape.rank
    if rank is None or not 3 <= rank <= 4:
        raise ValueError(
            "Expected an image array with shape `(height, width, channels)`, or "
            "`(batch_size, height, width, channels)`, but got input with incorrect rank, of "
            f"shape {tuple(img.shape.as_list()) if rank is not None else None}."
        )
    last = data_format == "channels_last"
    shape = img.shape.as_list()
    height, width = (shape[-3], shape[-2]) if last else (shape[-2], shape[-1])
    th, tw = size
    crop_h = max(min(height, int(float(width * th) / tw)), 1)
    crop_w = max(min(width, int(float(height * tw) / th)), 1)
    top, left = int(float(height - crop_h) / 2), int(float(width - crop_w) / 2)
    window = (slice(top, top + crop_h), slice(left, left + crop_w))
    index = (Ellipsis,) + window + (slice(None),) if last else (Ellipsis,) + window
    img = keras_image.resize(img[index], size, interpolation=interpolation, data_format=data_format)
    return np.array(img) if isinstance(x, np.ndarray) else img
