"""The legacy per-image NumPy transforms of ``keras.preprocessing.image``: affine warps
(SciPy's ``ndimage``, an optional extra: ``pip install "rill[scipy]"``), channel and
brightness shifts, and their random versions (drawn from NumPy's global generator)."""

from __future__ import annotations

import numpy as np

from rill.keras.utils import image_utils


def _ndimage():
    try:
        from scipy import ndimage
    except ImportError:
        raise ImportError(
            "Affine image transforms need SciPy, an optional dependency of rill: "
            'pip install "rill[scipy]"'
        ) from None
    return ndimage


def _about_centre(matrix, h, w):
    # conjugate by a shift to the image centre, so rotations and zooms keep it fixed
    oh, ow = float(h) / 2 - 0.5, float(w) / 2 - 0.5
    to_centre = np.array([[1, 0, oh], [0, 1, ow], [0, 0, 1]])
    back = np.array([[1, 0, -oh], [0, 1, -ow], [0, 0, 1]])
    return to_centre @ matrix @ back


def apply_affine_transform(
    x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, row_axis=1, col_axis=2, channel_axis=0,
    fill_mode="nearest", cval=0.0, order=1,
):  # fmt: skip
    """Warp one image (rank 3): rotate by ``theta`` degrees, shift by ``tx`` rows and
    ``ty`` columns, shear by ``shear`` degrees, zoom by ``zx``/``zy`` (all about the
    centre; the matrix maps output pixels to input pixels, so ``zx=2`` shrinks). Pixels
    from outside are filled by ``fill_mode`` (SciPy's modes) or ``cval``."""
    if len({row_axis, col_axis, channel_axis}) != 3:
        raise ValueError("'row_axis', 'col_axis', and 'channel_axis' must be distinct")
    if {row_axis, col_axis, channel_axis} != {0, 1, 2}:
        raise ValueError(
            f"Invalid axis' indices: {set([row_axis, col_axis, channel_axis]) - {0, 1, 2}}"
        )
    if x.ndim != 3:
        raise ValueError("Input arrays must be multi-channel 2D images.")
    if channel_axis not in (0, 2):
        raise ValueError("Channels are allowed and the first and last dimensions.")
    steps = []
    if theta != 0:
        t = np.deg2rad(theta)
        steps.append(np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]]))
    if tx != 0 or ty != 0:
        steps.append(np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]]))
    if shear != 0:
        s = np.deg2rad(shear)
        steps.append(np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]]))
    if zx != 1 or zy != 1:
        steps.append(np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]]))
    if not steps:
        return x
    matrix = steps[0]
    for step in steps[1:]:
        matrix = matrix @ step
    matrix = _about_centre(matrix, x.shape[row_axis], x.shape[col_axis])
    if col_axis > row_axis:  # Keras' convention: swap the two spatial axes of the matrix
        matrix[:, [0, 1]] = matrix[:, [1, 0]]
        matrix[[0, 1]] = matrix[[1, 0]]
    ndimage = _ndimage()
    channels = np.rollaxis(x, channel_axis, 0)
    warped = [
        ndimage.affine_transform(c, matrix[:2, :2], matrix[:2, 2], order=order, mode=fill_mode,
                                 cval=cval)
        for c in channels
    ]  # fmt: skip
    return np.rollaxis(np.stack(warped, axis=0), 0, channel_axis + 1)


def random_rotation(
    x, rg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
    interpolation_order=1,
):  # fmt: skip
    """Rotate by an angle drawn uniformly from [-rg, rg] degrees."""
    theta = np.random.uniform(-rg, rg)
    return apply_affine_transform(x, theta=theta, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)  # fmt: skip


def random_shift(
    x, wrg, hrg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
    interpolation_order=1,
):  # fmt: skip
    """Shift by fractions of the height (``hrg``) and width (``wrg``) drawn uniformly."""
    h, w = x.shape[row_axis], x.shape[col_axis]
    tx = np.random.uniform(-hrg, hrg) * h
    ty = np.random.uniform(-wrg, wrg) * w
    return apply_affine_transform(x, tx=tx, ty=ty, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)  # fmt: skip


def random_shear(
    x, intensity, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
    interpolation_order=1,
):  # fmt: skip
    """Shear by an angle drawn uniformly from [-intensity, intensity] degrees."""
    shear = np.random.uniform(-intensity, intensity)
    return apply_affine_transform(x, shear=shear, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)  # fmt: skip


def random_zoom(
    x, zoom_range, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
    interpolation_order=1,
):  # fmt: skip
    """Zoom rows and columns by factors drawn independently from ``zoom_range``."""
    if len(zoom_range) != 2:
        raise ValueError(
            f"`zoom_range` should be a tuple or list of two floats. Received: {zoom_range}"
        )
    if zoom_range[0] == 1 and zoom_range[1] == 1:
        zx, zy = 1, 1
    else:
        zx, zy = np.random.uniform(zoom_range[0], zoom_range[1], 2)
    return apply_affine_transform(x, zx=zx, zy=zy, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)  # fmt: skip


def apply_channel_shift(x, intensity, channel_axis=0):
    """Add ``intensity`` to every channel, clipped to the image's original [min, max]."""
    channels = np.rollaxis(x, channel_axis, 0)
    low, high = np.min(channels), np.max(channels)
    shifted = np.stack([np.clip(c + intensity, low, high) for c in channels], axis=0)
    return np.rollaxis(shifted, 0, channel_axis + 1)


def random_channel_shift(x, intensity_range, channel_axis=0):
    """``apply_channel_shift`` by an intensity drawn from [-range, range]."""
    intensity = np.random.uniform(-intensity_range, intensity_range)
    return apply_channel_shift(x, intensity, channel_axis=channel_axis)


def apply_brightness_shift(x, brightness, scale=True):
    """Scale brightness by ``brightness`` with Pillow's ``ImageEnhance`` (0 black, 1 the
    same); values outside 0-255 are mapped there and back unless ``scale``."""
    image_utils.pil_image()
    from PIL import ImageEnhance

    low, high = np.min(x), np.max(x)
    outside = low < 0 or high > 255
    img = image_utils.array_to_img(x, scale=outside or scale)
    out = image_utils.img_to_array(ImageEnhance.Brightness(img).enhance(brightness))
    if not scale and outside:
        out = out / 255 * (high - low) + low
    return out


def random_brightness(x, brightness_range, scale=True):
    """``apply_brightness_shift`` by a factor drawn from ``brightness_range``."""
    if len(brightness_range) != 2:
        raise ValueError(
            f"`brightness_range should be tuple or list of two floats. Received: {brightness_range}"
        )
    factor = np.random.uniform(brightness_range[0], brightness_range[1])
    return apply_brightness_shift(x, factor, scale)
