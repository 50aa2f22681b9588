"""``keras.ops.image``: Keras 3's image ops over rill's array ops.

Images are ``(height, width, channels)`` or batches of them (``channels_first``
transposed in and out). Projective sampling (``affine_transform``,
``perspective_transform``) follows TensorFlow's ``ImageProjectiveTransformV3``: each output
pixel reads the input at the transformed position, mapped into the image by ``fill_mode``,
with nearest or bilinear interpolation. ``resize`` calls ``rill.image.resize``.
"""

from __future__ import annotations

import itertools

import numpy as np

import rill as tf
from rill.keras import config
from rill.keras.ops._base import cast, keras_op, result_type, shape_list, tensor
from rill.keras.ops.core import saturate_cast
from rill.keras.ops.nn import conv

__all__ = [
    "affine_transform", "crop_images", "elastic_transform", "extract_patches",
    "extract_patches_3d", "gaussian_blur", "hsv_to_rgb", "map_coordinates", "pad_images",
    "perspective_transform", "resize", "rgb_to_grayscale", "rgb_to_hsv",
    "scale_and_translate", "sobel_edges", "ssim",
]  # fmt: skip

_RESIZE = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic", "area")
_SAMPLING = ("nearest", "bilinear")
_FILL = ("constant", "nearest", "wrap", "reflect")
_MAP_FILL = ("constant", "nearest", "wrap", "mirror", "reflect")
_ST_METHODS = ("linear", "bilinear", "trilinear", "cubic", "bicubic", "tricubic", "lanczos3",
               "lanczos5")  # fmt: skip


def _op(cls):
    return keras_op(cls, module="image")


def _fmt(data_format):
    return config.standardize_data_format(data_format)


def _check_rank(images, what="images"):
    if images.shape.rank not in (3, 4):
        raise ValueError(
            f"Invalid {what} rank: expected rank 3 (single image) or rank 4 (batch of images). "
            f"Received input with shape: {what}.shape={images.shape}"
        )


def _to_nhwc(images, data_format):
    """(batched channels-last images, was it a single image)."""
    single = images.shape.rank == 3
    if single:
        images = tf.expand_dims(images, 0)
    if data_format == "channels_first":
        images = tf.transpose(images, [0, 2, 3, 1])
    return images, single


def _from_nhwc(images, data_format, single):
    if data_format == "channels_first":
        images = tf.transpose(images, [0, 3, 1, 2])
    return tf.squeeze(images, 0) if single else images


# ================================================================================ colour
@_op("RGBToGrayscale")
def rgb_to_grayscale(images, data_format=None):
    """Luma (0.2989 R + 0.5870 G + 0.1140 B) with one channel, in ``images``' dtype."""
    images = tensor(images)
    data_format = _fmt(data_format)
    axis = -1 if data_format == "channels_last" else -3
    _check_rank(images)
    if images.shape.as_list()[axis] not in (1, 3):
        raise ValueError(
            "Invalid channel size: expected 3 (RGB) or 1 (Grayscale). Received input with "
            f"shape: images.shape={images.shape}"
        )
    if images.shape.as_list()[axis] == 1:
        return tf.identity(images)
    original = images.dtype.name
    x = cast(images, result_type(original, float))
    w = tf.constant([0.2989, 0.5870, 0.1140], x.dtype)
    rank = x.shape.rank
    out = tf.tensordot(x, w, [[axis % rank], [0]])
    return cast(tf.expand_dims(out, axis), original)


def _check_float(images):
    if not images.dtype.is_floating:
        raise ValueError(
            f"Invalid images dtype: expected float dtype. Received: images.dtype={images.dtype.name}"
        )


def _channels_last_only(fn, images, data_format):
    images = tensor(images)
    data_format = _fmt(data_format)
    _check_rank(images)
    _check_float(images)
    if data_format == "channels_first":
        perm = [0, 2, 3, 1] if images.shape.rank == 4 else [1, 2, 0]
        out = fn(tf.transpose(images, perm))
        return tf.transpose(out, np.argsort(perm).tolist())
    return fn(images)


def _rgb_to_hsv(x):
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    v = tf.reduce_max(x, axis=-1)
    c = v - tf.reduce_min(x, axis=-1)
    zero = tf.zeros_like(v)
    s = tf.where(v > 0, c / tf.where(v > 0, v, tf.ones_like(v)), zero)
    safe = tf.where(c > 0, c, tf.ones_like(c))
    h = tf.where(tf.equal(v, r), (g - b) / safe,
                 tf.where(tf.equal(v, g), (b - r) / safe + 2, (r - g) / safe + 4))  # fmt: skip
    h = tf.where(c > 0, h / 6, zero)
    h = tf.where(h < 0, h + 1, h)
    return tf.stack([h, s, v], axis=-1)


def _hsv_to_rgb(x):
    h, s, v = x[..., 0], x[..., 1], x[..., 2]
    dh = h * 6
    dr = tf.clip_by_value(tf.abs(dh - 3) - 1, 0.0, 1.0)
    dg = tf.clip_by_value(2 - tf.abs(dh - 2), 0.0, 1.0)
    db = tf.clip_by_value(2 - tf.abs(dh - 4), 0.0, 1.0)
    keep = 1 - s
    return tf.stack([v * (keep + s * dr), v * (keep + s * dg), v * (keep + s * db)], axis=-1)


@_op("RGBToHSV")
def rgb_to_hsv(images, data_format=None):
    """RGB (floats in [0, 1]) to hue, saturation, value."""
    return _channels_last_only(_rgb_to_hsv, images, data_format)


@_op("HSVToRGB")
def hsv_to_rgb(images, data_format=None):
    """Hue, saturation, value to RGB."""
    return _channels_last_only(_hsv_to_rgb, images, data_format)


# ============================================================================ geometry
@_op("Resize")
def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
           data_format=None):  # fmt: skip
    """Images resized to ``size`` = (height, width) (optionally cropped or padded to its
    aspect ratio first); int images are rounded back to their dtype."""
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers. Received: size={size}")
    if size[0] <= 0 or size[1] <= 0:
        raise ValueError(f"`size` must have positive height and width. Received: size={size}")
    images = tensor(images)
    _check_rank(images)
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError(
            "Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`."
        )
    if interpolation not in _RESIZE:
        raise ValueError(
            f"Invalid value for argument `interpolation`. Expected of one {_RESIZE}. "
            f"Received: interpolation={interpolation}"
        )
    if fill_mode != "constant":
        raise ValueError(
            "Invalid value for argument `fill_mode`. Only `'constant'` is supported. "
            f"Received: fill_mode={fill_mode}"
        )
    data_format = _fmt(data_format)
    x, single = _to_nhwc(images, data_format)
    _, h, w, _ = shape_list(x)
    th, tw = size
    if crop_to_aspect_ratio:
        ch = max(min(h, int(w * th / tw)), 1)
        cw = max(min(w, int(h * tw / th)), 1)
        top, left = int((h - ch) / 2), int((w - cw) / 2)
        x = x[:, top : top + ch, left : left + cw, :]
    elif pad_to_aspect_ratio:
        ph = max(h, int(w * th / tw))
        pw = max(w, int(h * tw / th))
        top, left = int((ph - h) / 2), int((pw - w) / 2)
        x = tf.pad(x, [[0, 0], [top, top], [left, left], [0, 0]],
                   constant_values=tf.cast(fill_value, x.dtype))  # fmt: skip
    out = tf.image.resize(x, size, method=interpolation, antialias=antialias)
    if out.dtype != images.dtype:
        if images.dtype.is_integer:
            out = saturate_cast.__wrapped__(tf.round(out), images.dtype.name)
        else:
            out = cast(out, images.dtype.name)
    return _from_nhwc(out, data_format, single)


def _round_half_away(v):
    return tf.where(v >= 0, tf.floor(v + 0.5), -tf.floor(-v + 0.5))


def _map_coordinate(c, n, mode):
    """TensorFlow's mapping of an input coordinate into ``[0, n - 1]`` by ``mode``."""
    if mode == "constant":
        return c
    if mode == "nearest" or n <= 1:
        return tf.clip_by_value(c, 0.0, float(max(n - 1, 0)))
    if mode == "reflect":
        sz2 = 2.0 * n
        low = c < 0
        c_low = tf.where(c < sz2, sz2 * tf.cast(tf.cast(-c / sz2, "int64"), c.dtype) + c, c)
        c_low = tf.where(c_low < -n, c_low + sz2, -c_low - 1)
        c_high = c - sz2 * tf.cast(tf.cast(c / sz2, "int64"), c.dtype)
        c_high = tf.where(c_high >= n, sz2 - c_high - 1, c_high)
        out = tf.where(low, c_low, tf.where(c > n - 1, c_high, c))
    else:  # wrap
        sz = float(n - 1)
        c_low = c + n * (tf.cast(tf.cast(-c / sz, "int64"), c.dtype) + 1)
        c_high = c - n * tf.cast(tf.cast(c / sz, "int64"), c.dtype)
        out = tf.where(c < 0, c_low, tf.where(c > n - 1, c_high, c))
    return tf.clip_by_value(out, 0.0, float(n - 1))


def _projective(images, transforms, interpolation, fill_mode, fill_value):
    """TensorFlow's projective sampling of NHWC ``images`` by (batch, 8) ``transforms``."""
    b, h, w, c = shape_list(images)
    t = tf.cast(transforms, "float32")
    t = tf.broadcast_to(t, tf.stack([b, 8])) if not isinstance(b, int) else (
        tf.broadcast_to(t, [b, 8]))  # fmt: skip
    ys, xs = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32),
                         indexing="ij")  # fmt: skip
    xs, ys = tf.constant(xs.reshape(-1)), tf.constant(ys.reshape(-1))

    def coef(i):
        return t[:, i : i + 1]

    k = coef(6) * xs + coef(7) * ys + 1.0
    safe_k = tf.where(tf.equal(k, 0), tf.ones_like(k), k)
    x_in = (coef(0) * xs + coef(1) * ys + coef(2)) / safe_k
    y_in = (coef(3) * xs + coef(4) * ys + coef(5)) / safe_k
    x_in = _map_coordinate(x_in, w, fill_mode)
    y_in = _map_coordinate(y_in, h, fill_mode)
    work = images.dtype if images.dtype.is_floating else tf.float32
    # -1, not b: the batch size may be a tensor (unknown until run)
    flat = tf.reshape(cast(images, work.name), [-1, h * w, c])
    fill = tf.cast(fill_value, work)

    def read(yy, xx):
        valid = tf.logical_and(tf.logical_and(yy >= 0, yy <= h - 1),
                               tf.logical_and(xx >= 0, xx <= w - 1))  # fmt: skip
        yi = tf.cast(tf.clip_by_value(yy, 0.0, float(h - 1)), "int32")
        xi = tf.cast(tf.clip_by_value(xx, 0.0, float(w - 1)), "int32")
        vals = tf.gather(flat, yi * w + xi, batch_dims=1)
        return tf.where(tf.expand_dims(valid, -1), vals, fill)

    if interpolation == "nearest":
        out = read(_round_half_away(y_in), _round_half_away(x_in))
    else:
        y0, x0 = tf.floor(y_in), tf.floor(x_in)
        y1, x1 = y0 + 1, x0 + 1
        wy0 = tf.expand_dims(tf.cast(y1 - y_in, work), -1)
        wy1 = tf.expand_dims(tf.cast(y_in - y0, work), -1)
        wx0 = tf.expand_dims(tf.cast(x1 - x_in, work), -1)
        wx1 = tf.expand_dims(tf.cast(x_in - x0, work), -1)
        top = wx0 * read(y0, x0) + wx1 * read(y0, x1)
        bottom = wx0 * read(y1, x0) + wx1 * read(y1, x1)
        out = wy0 * top + wy1 * bottom
    out = tf.where(tf.expand_dims(tf.equal(k, 0), -1), fill, out)
    return cast(tf.reshape(out, [-1, h, w, c]), images.dtype.name)


@_op("AffineTransform")
def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                     fill_value=0, data_format=None):  # fmt: skip
    """Images sampled through projective transforms ``[a0, a1, a2, b0, b1, b2, c0, c1]``
    (the output pixel (x, y) reads the input at ``((a0 x + a1 y + a2) / k, (b0 x + b1 y +
    b2) / k)``, ``k = c0 x + c1 y + 1``)."""
    if interpolation not in _SAMPLING:
        raise ValueError(
            f"Invalid value for argument `interpolation`. Expected of one {_SAMPLING}. "
            f"Received: interpolation={interpolation}"
        )
    if fill_mode not in _FILL:
        raise ValueError(
            f"Invalid value for argument `fill_mode`. Expected of one {_FILL}. Received: "
            f"fill_mode={fill_mode}"
        )
    images, transform = tensor(images), tensor(transform)
    _check_rank(images)
    if transform.shape.rank not in (1, 2):
        raise ValueError(
            "Invalid transform rank: expected rank 1 (single transform) or rank 2 (batch of "
            f"transforms). Received input with shape: transform.shape={transform.shape}"
        )
    data_format = _fmt(data_format)
    x, single = _to_nhwc(images, data_format)
    if transform.shape.rank == 1:
        transform = tf.expand_dims(transform, 0)
    out = _projective(x, transform, interpolation, fill_mode, fill_value)
    return _from_nhwc(out, data_format, single)


def _homography(start, end):
    """The (batch, 8) transforms mapping ``end`` points to ``start`` points."""
    rows, target = [], []
    for i in range(4):
        sx, sy = start[:, i, 0], start[:, i, 1]
        ex, ey = end[:, i, 0], end[:, i, 1]
        one, zero = tf.ones_like(ex), tf.zeros_like(ex)
        rows.append(tf.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], -1))
        rows.append(tf.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], -1))
        target += [sx, sy]
    a = tf.stack(rows, axis=1)
    rhs = tf.expand_dims(tf.stack(target, -1), -1)
    return tf.reshape(tf.linalg.solve(a, rhs), [-1, 8])


@_op("PerspectiveTransform")
def perspective_transform(images, start_points, end_points, interpolation="bilinear",
                          fill_value=0, data_format=None):  # fmt: skip
    """Images warped so that the four ``start_points`` (x, y) move to ``end_points``."""
    if interpolation not in _SAMPLING:
        raise ValueError(
            f"Invalid value for argument `interpolation`. Expected of one {_SAMPLING}. "
            f"Received: interpolation={interpolation}"
        )
    images = tensor(images)
    start, end = tensor(start_points, "float32"), tensor(end_points, "float32")
    _check_rank(images)
    for name, p in (("start_points", start), ("end_points", end)):
        if p.shape.rank not in (2, 3) or p.shape.as_list()[-2:] != [4, 2]:
            raise ValueError(
                f"Invalid {name} shape: expected (4,2) for a single image or (N,4,2) for a "
                f"batch. Received shape: {p.shape}"
            )
    if start.shape.as_list() != end.shape.as_list():
        raise ValueError(
            "start_points and end_points must have the same shape. Received "
            f"start_points.shape={start.shape}, end_points.shape={end.shape}"
        )
    data_format = _fmt(data_format)
    x, single = _to_nhwc(images, data_format)
    if start.shape.rank == 2:
        start, end = tf.expand_dims(start, 0), tf.expand_dims(end, 0)
    out = _projective(x, _homography(start, end), interpolation, "constant", fill_value)
    return _from_nhwc(out, data_format, single)


@_op("MapCoordinates")
def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    """``inputs`` sampled at ``coordinates`` (one array per input axis), with
    nearest (``order=0``) or linear (``order=1``) interpolation."""
    x = tensor(inputs)
    coords = tensor(coordinates)
    rank = x.shape.rank
    if coords.shape.as_list()[0] != rank:
        raise ValueError(
            "First dim of `coordinates` must be the same as the rank of `inputs`. Received "
            f"inputs with shape: {x.shape} and coordinate leading dim of "
            f"{coords.shape.as_list()[0]}"
        )
    if coords.shape.rank < 2:
        raise ValueError(
            f"Invalid coordinates rank: expected at least rank 2. Received input with shape: "
            f"{coords.shape}"
        )
    if fill_mode not in _MAP_FILL:
        raise ValueError(
            f"Invalid value for argument `fill_mode`. Expected one of {set(_MAP_FILL)}. "
            f"Received: fill_mode={fill_mode}"
        )
    if order not in (0, 1):
        raise NotImplementedError("map_coordinates currently requires order<=1")
    fill = tensor(fill_value, x.dtype.name)
    dims = shape_list(x)

    def nodes(c):
        if order == 0:
            idx = c if c.dtype.is_integer else tf.round(c)
            return [(tf.cast(idx, "int32"), tf.constant(1, c.dtype))]
        lo = tf.floor(c)
        up = c - lo
        i = tf.cast(lo, "int32")
        return [(i, 1 - up), (i + 1, up)]

    def fix(i, n):
        if fill_mode == "constant":
            return tf.clip_by_value(i, 0, n - 1), tf.logical_and(i >= 0, i < n)
        if fill_mode == "nearest":
            return tf.clip_by_value(i, 0, n - 1), None
        if fill_mode == "mirror":  # about the edge pixels: d c b | a b c d | c b a
            return _mirror(i, n), None
        if fill_mode == "reflect":  # about the edges: c b a | a b c d | d c b
            return tf.math.floordiv(_mirror(2 * i + 1, 2 * n + 1) - 1, 2), None
        return tf.math.floormod(i, n), None

    per_axis = []
    for d in range(rank):
        c = coords[d]
        per_axis.append([(*fix(i, dims[d]), w) for i, w in nodes(c)])
    total = None
    for combo in itertools.product(*per_axis):
        idx = tf.stack([i for i, _, _ in combo], axis=-1)
        vals = tf.gather_nd(x, idx)
        wdtype = combo[0][2].dtype
        vals = tf.cast(vals, wdtype)
        valid = [v for _, v, _ in combo if v is not None]
        if valid:
            ok = valid[0]
            for v in valid[1:]:
                ok = tf.logical_and(ok, v)
            vals = tf.where(ok, vals, tf.cast(fill, wdtype))
        weight = combo[0][2]
        for _, _, w in combo[1:]:
            weight = weight * w
        term = weight * vals
        total = term if total is None else total + term
    if x.dtype.is_integer:
        total = tf.round(total)
    return cast(total, x.dtype.name)


def _mirror(i, n):
    """Index ``i`` reflected into ``[0, n)`` about the first and last elements."""
    if n == 1:
        return tf.zeros_like(i)
    s = n - 1
    return tf.abs(tf.math.floormod(i + s, 2 * s) - s)


def _validate_two_of(names, values):
    if list(values).count(None) != 1:
        raise ValueError(
            f"Must specify exactly two of {', '.join(names)}. Received: "
            + ", ".join(f"{n}={v}" for n, v in zip(names, values))
        )
    for n, v in zip(names, values):
        if v is not None and v < 0:
            raise ValueError(f"{n} must be >= 0. Received: {n}={v}")


@_op("PadImages")
def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None,
               right_padding=None, target_height=None, target_width=None,
               data_format=None):  # fmt: skip
    """Images zero-padded on each side (two of each of top/bottom/target height and
    left/right/target width given)."""
    data_format = _fmt(data_format)
    images = tensor(images)
    _check_rank(images, "images")
    _validate_two_of(("top_padding", "bottom_padding", "target_height"),
                     (top_padding, bottom_padding, target_height))  # fmt: skip
    _validate_two_of(("left_padding", "right_padding", "target_width"),
                     (left_padding, right_padding, target_width))  # fmt: skip
    dims = shape_list(images)
    h, w = (dims[-3], dims[-2]) if data_format == "channels_last" else (dims[-2], dims[-1])
    top = target_height - bottom_padding - h if top_padding is None else top_padding
    bottom = target_height - top - h if bottom_padding is None else bottom_padding
    left = target_width - right_padding - w if left_padding is None else left_padding
    right = target_width - left - w if right_padding is None else right_padding
    for n, v in (("top_padding", top), ("left_padding", left), ("right_padding", right),
                 ("bottom_padding", bottom)):  # fmt: skip
        if isinstance(v, int) and v < 0:
            raise ValueError(f"{n} must be >= 0. Received: {n}={v}")
    pads = [[top, bottom], [left, right]]
    pads = pads + [[0, 0]] if data_format == "channels_last" else [[0, 0]] + pads
    if images.shape.rank == 4:
        pads = [[0, 0]] + pads
    return tf.pad(images, pads)


@_op("CropImages")
def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None,
                right_cropping=None, target_height=None, target_width=None,
                data_format=None):  # fmt: skip
    """Images cropped on each side (two of each of top/bottom/target height and
    left/right/target width given)."""
    data_format = _fmt(data_format)
    images = tensor(images)
    _check_rank(images, "images")
    _validate_two_of(("top_cropping", "bottom_cropping", "target_height"),
                     (top_cropping, bottom_cropping, target_height))  # fmt: skip
    _validate_two_of(("left_cropping", "right_cropping", "target_width"),
                     (left_cropping, right_cropping, target_width))  # fmt: skip
    dims = shape_list(images)
    if data_format == "channels_last":
        h, w = dims[-3], dims[-2]
    else:
        h, w = dims[-2], dims[-1]
    top = h - target_height - bottom_cropping if top_cropping is None else top_cropping
    th = h - bottom_cropping - top if target_height is None else target_height
    left = w - target_width - right_cropping if left_cropping is None else left_cropping
    tw = w - right_cropping - left if target_width is None else target_width
    for n, v in (("top_cropping", top), ("target_height", th), ("left_cropping", left),
                 ("target_width", tw)):  # fmt: skip
        if isinstance(v, int) and v < 0:
            raise ValueError(f"{n} must be >= 0. Received: {n}={v}")
    if data_format == "channels_last":
        out = images[..., top : top + th, left : left + tw, :]
    else:
        out = images[..., top : top + th, left : left + tw]
    return out


def _patches(images, size, strides, dilation_rate, padding, data_format, spatial):
    data_format = _fmt(data_format)
    single = images.shape.rank == spatial + 1
    if single:
        images = tf.expand_dims(images, 0)
    channels = images.shape.as_list()[-1 if data_format == "channels_last" else 1]
    size = (size,) * spatial if isinstance(size, int) else tuple(size)
    strides = size if not strides else strides
    out_dim = int(np.prod(size)) * channels
    kernel = tf.reshape(tf.eye(out_dim, dtype=images.dtype), [*size, channels, out_dim])
    out = conv.__wrapped__(images, kernel, strides=strides, padding=padding,
                           data_format=data_format, dilation_rate=dilation_rate)  # fmt: skip
    return tf.squeeze(out, 0) if single else out


@_op("ExtractPatches")
def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid",
                    data_format=None):  # fmt: skip
    """Patches of ``size`` (2-D; a 3-tuple means ``extract_patches_3d``) every
    ``strides``, flattened into the channel axis (row, column, channel order)."""
    if not isinstance(size, int):
        if not isinstance(size, (tuple, list)):
            raise TypeError(
                "Invalid `size` argument. Expected an int or a tuple. Received: "
                f"size={size} of type {type(size).__name__}"
            )
        if len(size) not in (2, 3):
            raise ValueError(
                f"Invalid `size` argument. Expected a tuple of length 2 or 3. Received: "
                f"size={size} with length {len(size)}"
            )
        if len(size) == 3:
            return extract_patches_3d.__wrapped__(images, size, strides, dilation_rate,
                                                  padding, data_format)  # fmt: skip
    return _patches(tensor(images), size, strides, dilation_rate, padding, data_format, 2)


@_op("ExtractPatches")
def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid",
                       data_format=None):  # fmt: skip
    """Patches of 3-D ``volumes``, flattened into the channel axis."""
    if isinstance(strides, int):
        strides = (strides,) * 3
    if strides is not None and len(strides) != 3:
        raise ValueError(f"Invalid `strides` argument. Got: {strides}")
    return _patches(tensor(volumes), size, strides, dilation_rate, padding, data_format, 3)


def _gaussian_1d(size, sigma, dtype):
    x = tf.cast(tf.range(size), dtype) - tf.cast((size - 1) / 2, dtype)
    k = tf.exp(-0.5 * tf.square(x / tf.cast(sigma, dtype)))
    return k / tf.reduce_sum(k)


@_op("GaussianBlur")
def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Images blurred by a Gaussian kernel of ``kernel_size`` and ``sigma`` (per axis),
    ``"same"`` zero padding."""
    images = tensor(images)
    _check_rank(images)
    data_format = _fmt(data_format)
    x, single = _to_nhwc(images, data_format)
    dtype = x.dtype
    kx = _gaussian_1d(kernel_size[0], sigma[0], dtype)
    ky = _gaussian_1d(kernel_size[1], sigma[1], dtype)
    kernel = tf.reshape(tf.expand_dims(ky, 1) * tf.expand_dims(kx, 0),
                        [kernel_size[0], kernel_size[1], 1, 1])  # fmt: skip
    kernel = tf.tile(kernel, [1, 1, shape_list(x)[-1], 1])
    out = tf.nn.depthwise_conv2d(x, kernel, [1, 1, 1, 1], "SAME")
    return _from_nhwc(out, data_format, single)


@_op("ElasticTransform")
def elastic_transform(images, alpha=20.0, sigma=5.0, interpolation="bilinear",
                      fill_mode="reflect", fill_value=0.0, seed=None,
                      data_format=None):  # fmt: skip
    """Images displaced by a smooth random field (Gaussian-blurred noise of ``sigma``,
    scaled by ``alpha``)."""
    # keras.random is built on keras.ops: imported here, when the ops package is complete
    from rill.keras.random import draw_seed

    if interpolation not in _SAMPLING:
        raise ValueError(
            f"Invalid value for argument `interpolation`. Expected of one {_SAMPLING}. "
            f"Received: interpolation={interpolation}"
        )
    if fill_mode not in _FILL:
        raise ValueError(
            f"Invalid value for argument `fill_mode`. Expected of one {_FILL}. Received: "
            f"fill_mode={fill_mode}"
        )
    images = tensor(images)
    _check_rank(images)
    data_format = _fmt(data_format)
    x, single = _to_nhwc(images, data_format)
    b, h, w, c = shape_list(x)
    dtype = x.dtype
    ksize = int(sigma) * 6 | 1
    s = draw_seed(seed)
    dx = tf.random.stateless_normal([b, h, w], s, dtype=dtype) * tf.cast(sigma, dtype)
    dy = tf.random.stateless_normal([b, h, w], s, dtype=dtype) * tf.cast(sigma, dtype)
    blur = gaussian_blur.__wrapped__
    dx = tf.squeeze(blur(tf.expand_dims(dx, -1), (ksize, ksize), (sigma, sigma),
                         "channels_last"), -1)  # fmt: skip
    dy = tf.squeeze(blur(tf.expand_dims(dy, -1), (ksize, ksize), (sigma, sigma),
                         "channels_last"), -1)  # fmt: skip
    gx, gy = tf.meshgrid(tf.range(w, dtype=dtype), tf.range(h, dtype=dtype), indexing="xy")
    px = gx + tf.cast(alpha, dtype) * dx
    py = gy + tf.cast(alpha, dtype) * dy
    order = _SAMPLING.index(interpolation)
    outs = []
    for bi in range(b):
        chans = [map_coordinates.__wrapped__(x[bi, :, :, ci], tf.stack([py[bi], px[bi]]), order,
                                             fill_mode, fill_value) for ci in range(c)]  # fmt: skip
        outs.append(tf.stack(chans, -1))
    out = cast(tf.stack(outs), dtype.name)
    return _from_nhwc(out, data_format, single)


def _kernel_fn(method):
    def triangle(x):
        return tf.maximum(tf.zeros_like(x), 1 - tf.abs(x))

    def keys_cubic(x):
        out = ((1.5 * x - 2.5) * x) * x + 1.0
        out = tf.where(x >= 1.0, ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0, out)
        return tf.where(x >= 2.0, tf.zeros_like(x), out)

    def lanczos(radius):
        def k(x):
            y = radius * tf.sin(np.pi * x) * tf.sin(np.pi * x / radius)
            safe = tf.where(tf.not_equal(x, 0), np.pi**2 * x**2, tf.ones_like(x))
            out = tf.where(x > 1e-3, y / safe, tf.ones_like(x))
            return tf.where(x > radius, tf.zeros_like(x), out)

        return k

    return {"linear": triangle, "cubic": keys_cubic, "lanczos3": lanczos(3.0),
            "lanczos5": lanczos(5.0)}[method]  # fmt: skip


@_op("ScaleAndTranslate")
def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method,
                        antialias=True):  # fmt: skip
    """JAX's ``scale_and_translate``: resample ``spatial_dims`` of ``images`` to
    ``output_shape``, output coordinate ``y`` reading the input at ``(y - translation) /
    scale``, with the given kernel (widened by ``1 / scale`` when antialiasing)."""
    if method not in _ST_METHODS:
        raise ValueError(
            f"Invalid value for argument `method`. Expected of one {set(_ST_METHODS)}. "
            f"Received: method={method}"
        )
    kind = ("linear" if method in ("linear", "bilinear", "trilinear") else
            "cubic" if method in ("cubic", "bicubic", "tricubic") else method)  # fmt: skip
    kernel = _kernel_fn(kind)
    x = tensor(images)
    scale, translation = tensor(scale), tensor(translation)
    dtype = result_type(scale.dtype.name, translation.dtype.name)
    scale, translation = cast(scale, dtype), cast(translation, dtype)
    is_int = x.dtype.is_integer
    out = cast(x, "float32") if is_int else x
    dims = shape_list(x)
    for i, d in enumerate(spatial_dims):
        d = d % x.shape.rank
        m, n = dims[d], output_shape[d]
        inv = 1.0 / scale[i]
        kscale = tf.maximum(inv, tf.ones_like(inv)) if antialias else tf.ones_like(inv)
        sample = (tf.range(n, dtype=dtype) + 0.5) * inv - translation[i] * inv - 0.5
        dist = tf.abs(sample[None, :] - tf.range(m, dtype=dtype)[:, None]) / kscale
        wts = kernel(dist)
        total = tf.reduce_sum(wts, axis=0, keepdims=True)
        ok = tf.abs(total) > 1000.0 * float(np.finfo(np.float32).eps)
        wts = tf.where(ok, wts / tf.where(tf.not_equal(total, 0), total, tf.ones_like(total)),
                       tf.zeros_like(wts))  # fmt: skip
        inside = tf.logical_and(sample >= -0.5, sample <= m - 0.5)[None, :]
        wts = cast(tf.where(inside, wts, tf.zeros_like(wts)), out.dtype.name)
        rank = out.shape.rank
        out = tf.tensordot(out, wts, [[d], [0]])
        out = tf.transpose(out, [*range(d), rank - 1, *range(d, rank - 1)])
    if is_int:
        out = tf.clip_by_value(tf.round(out), tf.cast(tf.reduce_min(x), out.dtype),
                               tf.cast(tf.reduce_max(x), out.dtype))  # fmt: skip
        out = cast(out, x.dtype.name)
    return out


@_op("SobelEdges")
def sobel_edges(images, data_format=None):
    """Sobel gradients (dy, dx) of each channel: shape ``(..., channels, 2)``
    (reflect-padded borders)."""
    images = tensor(images)
    data_format = _fmt(data_format)
    x = tf.transpose(images, [0, 2, 3, 1]) if data_format == "channels_first" else images
    ky = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], np.float64)
    kernels = np.stack([ky, ky.T], axis=-1)  # (3, 3, 2)
    c = shape_list(x)[-1]
    k = tf.constant(np.tile(kernels[:, :, None, :], (1, 1, c, 1)), x.dtype)
    padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
    out = tf.nn.depthwise_conv2d(padded, k, [1, 1, 1, 1], "VALID")
    out = tf.reshape(out, tf.concat([tf.shape(x), [2]], 0))
    if data_format == "channels_first":
        out = tf.transpose(out, [0, 3, 1, 2, 4])
    return out


@_op("SSIM")
def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03,
         data_format=None):  # fmt: skip
    """The structural similarity of two images (a Gaussian-windowed, ``"valid"``-padded
    SSIM map averaged per image and channel)."""
    data_format = _fmt(data_format)
    a, b = tensor(image1), tensor(image2)
    original = a.dtype.name
    dtype = result_type(original, float)
    a, b = cast(a, dtype), cast(b, dtype)
    _check_rank(a, "image1")
    _check_rank(b, "image2")
    single = a.shape.rank == 3
    if single:
        a, b = tf.expand_dims(a, 0), tf.expand_dims(b, 0)
    if data_format == "channels_first":
        a, b = tf.transpose(a, [0, 2, 3, 1]), tf.transpose(b, [0, 2, 3, 1])
    n, h, w, c = shape_list(a)
    g = _gaussian_1d(filter_size, filter_sigma, a.dtype)
    kernel = tf.reshape(tf.expand_dims(g, 1) * tf.expand_dims(g, 0),
                        [filter_size, filter_size, 1, 1])  # fmt: skip
    c1 = (k1 * max_val) ** 2
    c2 = (k2 * max_val) ** 2

    def per_channel(v):
        return tf.reshape(tf.transpose(v, [0, 3, 1, 2]), [-1, h, w, 1])

    def blur(v):
        return tf.nn.convolution(v, kernel, padding="VALID")

    a1, b1 = per_channel(a), per_channel(b)
    mu1, mu2 = blur(a1), blur(b1)
    s11 = blur(a1 * a1) - mu1 * mu1
    s22 = blur(b1 * b1) - mu2 * mu2
    s12 = blur(a1 * b1) - mu1 * mu2
    num = (2.0 * mu1 * mu2 + c1) * (2.0 * s12 + c2)
    den = (mu1 * mu1 + mu2 * mu2 + c1) * (s11 + s22 + c2)
    per = tf.reshape(tf.reduce_mean(num / den, axis=[1, 2, 3]), [n, c])
    out = tf.reduce_mean(per, axis=-1)
    if single:
        out = tf.squeeze(out, 0)
    return cast(out, original)
