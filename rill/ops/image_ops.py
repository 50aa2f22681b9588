"""``tf.image``'s composite ops: flips and rotations, crops and pads, dtype conversion,
colour spaces, photometric adjustments (plain, random and stateless-random), quality
metrics (PSNR, SSIM, MS-SSIM), gradients and edges.

All of them are plain Python over public ops, so they trace into graphs and differentiate
(including the colour conversions, which TF's own kernels only partly do). Argument checks
follow TF's: a Python value that fails one raises ``ValueError`` at the call, a tensor
that fails one raises ``InvalidArgumentError`` when it is evaluated.
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import FailedPreconditionError
from rill.ops import (
    array_ops,
    conv_ops,
    creation_ops,
    debugging_ops,
    indexing_ops,
    linalg_ops,
    math_ops,
    nn_ops,
    random_ops,
    reduction_ops,
    shape_ops,
    unary_ops,
)
from rill.ops._op import (
    InvalidArgumentError,
    convert_to_tensor,
    is_tensor_like,
    op_error,
    static_value,
    tf_export,
)
from rill.ops.image_resize_ops import ResizeMethod, resize

cast = array_ops.cast

# --------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------


def _require(cond, exc, message):
    """TF's check: a Python condition raises ``exc`` now, a tensor one becomes an Assert
    (InvalidArgumentError when it evaluates false)."""
    if is_tensor_like(cond):
        debugging_ops.Assert(cond, [message])
    elif not cond:
        raise exc(message)


def _at_least_3d(image, what="image"):
    rank = image.shape.rank
    if rank is not None and rank < 3:
        raise ValueError(
            f"'{what}' (shape {tuple(image.shape)}) must be at least three-dimensional."
        )
    dims = image.shape.as_list() if rank is not None else []
    if any(d == 0 for d in dims[-3:]):
        raise ValueError(f"inner 3 dims of '{what}.shape' must be > 0: {tuple(image.shape)}")


def _rank_3_or_4(image, op):
    rank = image.shape.rank
    if rank not in (3, 4):
        raise ValueError(
            f"{op}: 'image' (shape {tuple(image.shape)}) must have either 3 or 4 dimensions."
        )
    return rank


def _dims(x):
    """Each dimension of ``x``: a Python int where static, else a scalar tensor."""
    static = x.shape.as_list()
    if all(d is not None for d in static):
        return static
    dyn = array_ops.shape(x)
    return [d if d is not None else dyn[i] for i, d in enumerate(static)]


def _batched(image, op):
    """``(image as [N, H, W, C], was_batched)``."""
    image = convert_to_tensor(image)
    rank = image.shape.rank
    if rank == 3:
        return shape_ops.expand_dims(image, 0), False
    if rank == 4:
        return image, True
    raise ValueError(
        f"{op}: 'image' (shape {tuple(image.shape)}) must have either 3 or 4 dimensions."
    )


def _unbatch(image, batched):
    return image if batched else shape_ops.squeeze(image, [0])


def _float_image(images, op):
    """Non-tensor input converts to float32 when it is not floating (like TF's ops);
    tensors keep their dtype."""
    if is_tensor_like(images):
        return convert_to_tensor(images)
    x = convert_to_tensor(images)
    return x if x.dtype.is_floating else cast(x, _d.float32)


# --------------------------------------------------------------------------------------
# Flips, rotations, transposes
# --------------------------------------------------------------------------------------


@tf_export("image.flip_left_right")
def flip_left_right(image):
    """Mirror ``image`` ([H, W, C] or [N, H, W, C]) horizontally."""
    image = convert_to_tensor(image)
    _at_least_3d(image)
    rank = _rank_3_or_4(image, "flip_left_right")
    return shape_ops.reverse(image, [rank - 2])


@tf_export("image.flip_up_down")
def flip_up_down(image):
    """Mirror ``image`` ([H, W, C] or [N, H, W, C]) vertically."""
    image = convert_to_tensor(image)
    _at_least_3d(image)
    rank = _rank_3_or_4(image, "flip_up_down")
    return shape_ops.reverse(image, [rank - 3])


def _random_flip(image, axis_from_end, uniform, op):
    image = convert_to_tensor(image)
    _at_least_3d(image)
    rank = _rank_3_or_4(image, op)
    axis = rank - axis_from_end
    flipped = shape_ops.reverse(image, [axis])
    if rank == 3:
        u = uniform([])
        return indexing_ops.where(u < 0.5, flipped, image)
    n = array_ops.shape(image)[0]
    u = uniform(array_ops.stack([n]))
    flip = array_ops.reshape(unary_ops.round(u) > 0.5, array_ops.stack([n, 1, 1, 1]))
    return indexing_ops.where(flip, flipped, image)


@tf_export("image.random_flip_left_right")
def random_flip_left_right(image, seed=None):
    """Flip ``image`` (each image of a batch independently) left-right with probability 1/2."""
    return _random_flip(
        image, 2, lambda s: random_ops.uniform(s, 0, 1.0, seed=seed), "random_flip_left_right"
    )


@tf_export("image.random_flip_up_down")
def random_flip_up_down(image, seed=None):
    """Flip ``image`` (each image of a batch independently) upside down with probability 1/2."""
    return _random_flip(
        image, 3, lambda s: random_ops.uniform(s, 0, 1.0, seed=seed), "random_flip_up_down"
    )


@tf_export("image.stateless_random_flip_left_right")
def stateless_random_flip_left_right(image, seed):
    """``random_flip_left_right`` as a function of ``seed`` (shape [2])."""
    return _random_flip(
        image, 2, lambda s: random_ops.stateless_uniform(s, seed, 0, 1.0),
        "stateless_random_flip_left_right",
    )  # fmt: skip


@tf_export("image.stateless_random_flip_up_down")
def stateless_random_flip_up_down(image, seed):
    """``random_flip_up_down`` as a function of ``seed`` (shape [2])."""
    return _random_flip(
        image, 3, lambda s: random_ops.stateless_uniform(s, seed, 0, 1.0),
        "stateless_random_flip_up_down",
    )  # fmt: skip


@tf_export("image.rot90")
def rot90(image, k=1, name=None):
    """Rotate ``image`` counter-clockwise by ``k`` quarter turns."""
    image = convert_to_tensor(image)
    _at_least_3d(image)
    rank = _rank_3_or_4(image, "rot90")
    h, w = rank - 3, rank - 2
    perm = list(range(rank))
    perm[h], perm[w] = w, h
    k_value = static_value(k) if is_tensor_like(k) else k
    if k_value is None:
        kt = math_ops.floormod(convert_to_tensor(k, dtype=_d.int32), 4)
        from rill.ops.control_flow import switch_case

        return switch_case(
            kt, [lambda: image] + [lambda q=q: _rot(image, q, h, w, perm) for q in (1, 2, 3)]
        )
    return _rot(image, int(np.asarray(k_value)) % 4, h, w, perm)


def _rot(image, k, h, w, perm):
    if k == 1:
        return shape_ops.transpose(shape_ops.reverse(image, [w]), perm)
    if k == 2:
        return shape_ops.reverse(image, [h, w])
    if k == 3:
        return shape_ops.reverse(shape_ops.transpose(image, perm), [w])
    return array_ops.identity(image)


@tf_export("image.transpose")
def transpose(image, name=None):
    """Swap the height and width axes of ``image``."""
    image = convert_to_tensor(image)
    _at_least_3d(image)
    rank = _rank_3_or_4(image, "transpose")
    return shape_ops.transpose(image, [1, 0, 2] if rank == 3 else [0, 2, 1, 3])


# --------------------------------------------------------------------------------------
# Crops and pads
# --------------------------------------------------------------------------------------


@tf_export("image.central_crop")
def central_crop(image, central_fraction):
    """The central ``central_fraction`` (0, 1] of ``image`` along height and width."""
    image = convert_to_tensor(image)
    frac = static_value(central_fraction) if is_tensor_like(central_fraction) else central_fraction
    if frac is None:
        raise ValueError("central_crop: central_fraction must be known when the op is built")
    frac = float(np.asarray(frac))
    if frac <= 0.0 or frac > 1.0:
        raise ValueError("central_fraction must be within (0, 1]")
    if frac == 1.0:
        return image
    _at_least_3d(image)
    rank = image.shape.rank
    if rank not in (3, 4):
        raise ValueError(
            f"`image` should either be a Tensor with rank = 3 or rank = 4. Had rank = {rank}."
        )
    dims = _dims(image)
    h, w = dims[rank - 3], dims[rank - 2]

    def start(n):
        if isinstance(n, int):
            return int((n - n * frac) / 2)
        nf = cast(n, _d.float64)
        return cast((nf - nf * frac) / 2, _d.int32)

    top, left = start(h), start(w)
    begin = [top, left, 0] if rank == 3 else [0, top, left, 0]
    size = [h - 2 * top, w - 2 * left, -1]
    size = size if rank == 3 else [-1, *size]
    return indexing_ops.slice(image, array_ops.stack(begin), array_ops.stack(size))


@tf_export("image.crop_to_bounding_box")
def crop_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """The ``target_height`` x ``target_width`` window of ``image`` whose top-left corner
    is at (``offset_height``, ``offset_width``)."""
    image, batched = _batched(image, "crop_to_bounding_box")
    _at_least_3d(image)
    _, h, w, _ = _dims(image)
    _require(offset_width >= 0, ValueError, "offset_width must be >= 0.")
    _require(offset_height >= 0, ValueError, "offset_height must be >= 0.")
    _require(target_width > 0, ValueError, "target_width must be > 0.")
    _require(target_height > 0, ValueError, "target_height must be > 0.")
    _require(w >= target_width + offset_width, ValueError, "width must be >= target + offset.")
    _require(h >= target_height + offset_height, ValueError, "height must be >= target + offset.")
    begin = array_ops.stack([0, offset_height, offset_width, 0])
    size = array_ops.stack([-1, target_height, target_width, -1])
    return _unbatch(indexing_ops.slice(image, begin, size), batched)


@tf_export("image.pad_to_bounding_box")
def pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """Zero-pad ``image`` to ``target_height`` x ``target_width``, placing it with its
    top-left corner at (``offset_height``, ``offset_width``)."""
    image, batched = _batched(image, "pad_to_bounding_box")
    _at_least_3d(image)
    _, h, w, _ = _dims(image)
    after_w = target_width - offset_width - w
    after_h = target_height - offset_height - h
    _require(offset_height >= 0, ValueError, "offset_height must be >= 0")
    _require(offset_width >= 0, ValueError, "offset_width must be >= 0")
    _require(after_w >= 0, ValueError, "width must be <= target - offset")
    _require(after_h >= 0, ValueError, "height must be <= target - offset")
    paddings = array_ops.stack(
        [array_ops.stack([0, 0]), array_ops.stack([offset_height, after_h]),
         array_ops.stack([offset_width, after_w]), array_ops.stack([0, 0])]
    )  # fmt: skip
    return _unbatch(shape_ops.pad(image, paddings), batched)


def _max(a, b):
    return math_ops.maximum(a, b) if is_tensor_like(a) or is_tensor_like(b) else max(a, b)


def _min(a, b):
    return math_ops.minimum(a, b) if is_tensor_like(a) or is_tensor_like(b) else min(a, b)


@tf_export("image.resize_with_crop_or_pad")
def resize_with_crop_or_pad(image, target_height, target_width):
    """Centre-crop and/or zero-pad ``image`` to ``target_height`` x ``target_width``."""
    image, batched = _batched(image, "resize_with_crop_or_pad")
    _at_least_3d(image)
    _require(target_width > 0, ValueError, "target_width must be > 0.")
    _require(target_height > 0, ValueError, "target_height must be > 0.")
    _, h, w, _ = _dims(image)
    dw, dh = target_width - w, target_height - h
    cropped = crop_to_bounding_box(
        image, _max(-dh // 2, 0), _max(-dw // 2, 0), _min(target_height, h), _min(target_width, w)
    )
    out = pad_to_bounding_box(
        cropped, _max(dh // 2, 0), _max(dw // 2, 0), target_height, target_width
    )
    return _unbatch(out, batched)


@tf_export("image.resize_with_pad")
def resize_with_pad(
    image, target_height, target_width, method=ResizeMethod.BILINEAR, antialias=False
):
    """Resize ``image`` to fit ``target_height`` x ``target_width`` keeping its aspect ratio,
    then zero-pad it (centred) to exactly that size."""
    image, batched = _batched(image, "resize_with_pad")
    _at_least_3d(image)
    _require(target_width > 0, ValueError, "target_width must be > 0.")
    _require(target_height > 0, ValueError, "target_height must be > 0.")
    _, h, w, _ = _dims(image)
    if all(isinstance(v, int) for v in (h, w, target_height, target_width)):
        f32 = np.float32
        ratio = max(f32(w) / f32(target_width), f32(h) / f32(target_height))
        rh, rw = f32(h) / ratio, f32(w) / ratio
        size = [int(np.floor(rh)), int(np.floor(rw))]
        ph = max(0, int(np.floor((f32(target_height) - rh) / f32(2))))
        pw = max(0, int(np.floor((f32(target_width) - rw) / f32(2))))
    else:
        fh, fw = cast(h, _d.float32), cast(w, _d.float32)
        th, tw = cast(target_height, _d.float32), cast(target_width, _d.float32)
        ratio = math_ops.maximum(fw / tw, fh / th)
        rh, rw = fh / ratio, fw / ratio
        size = cast(array_ops.stack([unary_ops.floor(rh), unary_ops.floor(rw)]), _d.int32)
        ph = math_ops.maximum(0, cast(unary_ops.floor((th - rh) / 2), _d.int32))
        pw = math_ops.maximum(0, cast(unary_ops.floor((tw - rw) / 2), _d.int32))
    resized = resize(image, size, method, antialias=antialias)
    return _unbatch(pad_to_bounding_box(resized, ph, pw, target_height, target_width), batched)


def _random_crop(value, size, uniform_ints, op):
    value = convert_to_tensor(value)
    size = convert_to_tensor(size, dtype=_d.int32)
    shape = array_ops.shape(value)
    sv, zv = static_value(size), static_value(shape)
    if sv is not None and zv is not None:
        if len(sv) != len(zv) or np.any(np.asarray(sv) > np.asarray(zv)):
            raise op_error(
                InvalidArgumentError, op,
                f"Need value.shape >= size, got value shape {list(zv)} and size {list(sv)}",
            )  # fmt: skip
    else:
        debugging_ops.Assert(
            reduction_ops.reduce_all(shape >= size), ["Need value.shape >= size, got ", shape, size]
        )
    limit = shape - size + 1
    offset = uniform_ints(array_ops.shape(shape), limit) % limit
    return indexing_ops.slice(value, offset, size)


@tf_export("image.random_crop")
def random_crop(value, size, seed=None, name=None):
    """A uniformly placed window of ``size`` (one entry per dimension) out of ``value``."""
    return _random_crop(
        value, size,
        lambda s, limit: random_ops.uniform(s, 0, _d.int32.max, dtype=_d.int32, seed=seed),
        "random_crop",
    )  # fmt: skip


@tf_export("image.stateless_random_crop")
def stateless_random_crop(value, size, seed, name=None):
    """``random_crop`` as a function of ``seed`` (shape [2])."""
    return _random_crop(
        value, size,
        lambda s, limit: random_ops.stateless_uniform(s, seed, 0, _d.int32.max, dtype=_d.int32),
        "stateless_random_crop",
    )  # fmt: skip


# --------------------------------------------------------------------------------------
# convert_image_dtype
# --------------------------------------------------------------------------------------


def _saturate_cast(x, dtype):
    """Cast ``x`` to ``dtype`` after clamping it to the range both dtypes share, as TF's
    ``saturate_cast`` does: a limit the input dtype cannot hold exactly is moved one step
    toward zero (compared in the dtypes' common type, so float32 -> int64 keeps TF's
    limit of 2**63)."""
    src = x.dtype
    np_src = src.as_numpy_dtype
    try:
        wide = np.promote_types(np_src, dtype.as_numpy_dtype)
    except TypeError:
        wide = np.float64
    lo = np_src(max(src.min, dtype.min))
    if np.asarray(lo, wide) < np.asarray(dtype.min, wide):
        lo = np.nextafter(lo, np_src(0), dtype=np_src)
    hi = np_src(min(float(src.max), float(dtype.max)))
    if np.asarray(hi, wide) > np.asarray(dtype.max, wide):
        hi = np.nextafter(hi, np_src(0), dtype=np_src)
    x = math_ops.minimum(
        math_ops.maximum(x, convert_to_tensor(lo, dtype=src)), convert_to_tensor(hi, dtype=src)
    )
    return cast(x, dtype)


@tf_export("image.convert_image_dtype")
def convert_image_dtype(image, dtype, saturate=False, name=None):
    """Convert between image dtypes, rescaling: floats span [0, 1], integers [0, max].

    Integer to integer shifts by the ratio of the ranges; integer to float multiplies by
    1 / max; float to integer multiplies by (max + 0.5) and truncates (clamping first when
    ``saturate``)."""
    image = convert_to_tensor(image)
    dtype = _d.as_dtype(dtype)
    if not dtype.is_floating and not dtype.is_integer:
        raise AttributeError("dtype must be either floating point or integer")
    src = image.dtype
    if not src.is_floating and not src.is_integer:
        raise AttributeError("image dtype must be either floating point or integer")
    if src is dtype:
        return array_ops.identity(image)
    if src.is_integer and dtype.is_integer:
        if src.max > dtype.max:
            scale = (src.max + 1) // (dtype.max + 1)
            scaled = math_ops.floordiv(image, convert_to_tensor(scale, dtype=src))
            return _saturate_cast(scaled, dtype) if saturate else cast(scaled, dtype)
        c = _saturate_cast(image, dtype) if saturate else cast(image, dtype)
        return c * convert_to_tensor((dtype.max + 1) // (src.max + 1), dtype=dtype)
    if src.is_floating and dtype.is_floating:
        return cast(image, dtype)
    if src.is_integer:
        return cast(image, dtype) * convert_to_tensor(1.0 / src.max, dtype=dtype)
    scaled = image * convert_to_tensor(dtype.max + 0.5, dtype=src)
    return _saturate_cast(scaled, dtype) if saturate else cast(scaled, dtype)


# --------------------------------------------------------------------------------------
# Colour spaces
# --------------------------------------------------------------------------------------

# RGB -> YIQ / YUV and back, columns are the output channels (as TF's tables are)
_RGB_TO_YIQ = [[0.299, 0.59590059, 0.2115], [0.587, -0.27455667, -0.52273617],
               [0.114, -0.32134392, 0.31119955]]  # fmt: skip
_YIQ_TO_RGB = [[1, 1, 1], [0.95598634, -0.27201283, -1.10674021],
               [0.6208248, -0.64720424, 1.70423049]]  # fmt: skip
_RGB_TO_YUV = [[0.299, -0.14714119, 0.61497538], [0.587, -0.28886916, -0.51496512],
               [0.114, 0.43601035, -0.10001026]]  # fmt: skip
_YUV_TO_RGB = [[1, 1, 1], [0, -0.394642334, 2.03206185], [1.13988303, -0.58062185, 0]]


def _three_channels(images, op, exc=InvalidArgumentError):
    """RGB (or HSV...) images have 3 channels: ``exc`` naming ``op`` otherwise."""
    c = images.shape[-1] if images.shape.rank else None
    if images.shape.rank == 0 or (c is not None and c != 3):
        raise op_error(
            exc,
            op,
            f"input must have 3 channels but instead has {c} channels (shape {images.shape})",
        )


def _color_matrix(images, table, op):
    images = convert_to_tensor(images)
    _three_channels(images, op)
    kernel = convert_to_tensor(table, dtype=images.dtype)
    return linalg_ops.tensordot(images, kernel, [[images.shape.rank - 1], [0]])


@tf_export("image.rgb_to_yiq")
def rgb_to_yiq(images):
    """RGB (last axis, floats in [0, 1]) to YIQ."""
    return _color_matrix(images, _RGB_TO_YIQ, "rgb_to_yiq")


@tf_export("image.yiq_to_rgb")
def yiq_to_rgb(images):
    """YIQ (last axis) to RGB."""
    return _color_matrix(images, _YIQ_TO_RGB, "yiq_to_rgb")


@tf_export("image.rgb_to_yuv")
def rgb_to_yuv(images):
    """RGB (last axis, floats in [0, 1]) to YUV."""
    return _color_matrix(images, _RGB_TO_YUV, "rgb_to_yuv")


@tf_export("image.yuv_to_rgb")
def yuv_to_rgb(images):
    """YUV (last axis) to RGB."""
    return _color_matrix(images, _YUV_TO_RGB, "yuv_to_rgb")


@tf_export("image.rgb_to_grayscale")
def rgb_to_grayscale(images, name=None):
    """Luma (ITU-R 601: 0.2989 R + 0.587 G + 0.114 B) of RGB images, keeping a last axis
    of size 1 and the input dtype."""
    images = convert_to_tensor(images)
    flt = convert_image_dtype(images, _d.float32)
    gray = linalg_ops.tensordot(flt, convert_to_tensor([0.2989, 0.587, 0.114]), [[-1], [-1]])
    return convert_image_dtype(shape_ops.expand_dims(gray, -1), images.dtype)


@tf_export("image.grayscale_to_rgb")
def grayscale_to_rgb(images, name=None):
    """Repeat the single channel of grayscale images three times."""
    images = convert_to_tensor(images)
    rank = images.shape.rank
    if rank is not None and rank < 2:
        raise ValueError(
            f"A grayscale image (shape {tuple(images.shape)}) must be at least two-dimensional."
        )
    if rank is not None and images.shape[-1] is not None and images.shape[-1] != 1:
        raise ValueError("Last dimension of a grayscale image should be size 1.")
    return shape_ops.tile(images, [1] * (rank - 1) + [3])


def _channels(images):
    return images[..., 0], images[..., 1], images[..., 2]


def _hsv_input(images, op):
    images = _float_image(images, op)
    if not images.dtype.is_floating:
        raise op_error(
            InvalidArgumentError, op, f"images must be a float tensor, got {images.dtype.name}"
        )
    _three_channels(images, op, FailedPreconditionError)  # TF's RGBToHSV kernel's class
    return images


@tf_export("image.rgb_to_hsv")
def rgb_to_hsv(images, name=None):
    """RGB (last axis, floats in [0, 1]) to HSV, each in [0, 1]."""
    images = _hsv_input(images, "RGBToHSV")
    r, g, b = _channels(images)
    v = math_ops.maximum(math_ops.maximum(r, g), b)
    spread = v - math_ops.minimum(math_ops.minimum(r, g), b)
    zero = array_ops.zeros_like(v)
    s = indexing_ops.where(
        v > 0, spread / indexing_ops.where(v > 0, v, array_ops.ones_like(v)), zero
    )
    safe = indexing_ops.where(spread > 0, spread, array_ops.ones_like(spread)) * 6
    h = indexing_ops.where(
        r == v,
        (g - b) / safe,
        indexing_ops.where(g == v, (b - r) / safe + 2.0 / 6, (r - g) / safe + 4.0 / 6),
    )
    h = indexing_ops.where(spread > 0, h, zero)
    h = indexing_ops.where(h < 0, h + 1, h)
    return array_ops.stack([h, s, v], axis=-1)


@tf_export("image.hsv_to_rgb")
def hsv_to_rgb(images, name=None):
    """HSV (last axis, each in [0, 1]) to RGB."""
    images = _hsv_input(images, "HSVToRGB")
    h, s, v = _channels(images)
    c = s * v
    m = v - c
    dh = h * 6
    sector = unary_ops.floor(dh)
    frac2 = dh - 2 * unary_ops.floor(dh / 2)
    x = c * (1 - unary_ops.abs(frac2 - 1))
    zero = array_ops.zeros_like(c)
    # sectors 0..5 of the hue circle; a hue outside [0, 1) falls back to (c, 0, 0)
    rgb_by_sector = [
        (c, x, zero),
        (x, c, zero),
        (zero, c, x),
        (zero, x, c),
        (x, zero, c),
        (c, zero, x),
    ]
    r, g, b = c, zero, zero
    for k, (rk, gk, bk) in enumerate(rgb_by_sector):
        here = sector == k
        r = indexing_ops.where(here, rk, r)
        g = indexing_ops.where(here, gk, g)
        b = indexing_ops.where(here, bk, b)
    return array_ops.stack([r + m, g + m, b + m], axis=-1)


# --------------------------------------------------------------------------------------
# Photometric adjustments
# --------------------------------------------------------------------------------------


def _as_working_float(image):
    image = convert_to_tensor(image)
    if image.dtype in (_d.float16, _d.float32):
        return image, image.dtype
    return convert_image_dtype(image, _d.float32), image.dtype


@tf_export("image.adjust_brightness")
def adjust_brightness(image, delta):
    """Add ``delta`` to every (float-scaled) pixel, saturating back to the input dtype."""
    flt, orig = _as_working_float(image)
    return convert_image_dtype(flt + cast(delta, flt.dtype), orig, saturate=True)


@tf_export("image.adjust_contrast")
def adjust_contrast(images, contrast_factor):
    """Scale each channel's deviation from its per-image mean by ``contrast_factor``."""
    flt, orig = _as_working_float(images)
    if flt.shape.rank is not None and flt.shape.rank < 3:
        raise op_error(
            InvalidArgumentError,
            "AdjustContrastv2",
            f"input must be at least 3-D, got shape {flt.shape}",
        )
    mean = reduction_ops.reduce_mean(flt, axis=[-3, -2], keepdims=True)
    adjusted = (flt - mean) * cast(contrast_factor, flt.dtype) + mean
    return convert_image_dtype(adjusted, orig, saturate=True)


@tf_export("image.adjust_gamma")
def adjust_gamma(image, gamma=1, gain=1):
    """``gain * image ** gamma`` on the float-scaled image."""
    flt, orig = _as_working_float(image)
    _require(gamma >= 0, ValueError, "Gamma should be a non-negative real number.")
    adjusted = cast(gain, flt.dtype) * math_ops.pow(flt, cast(gamma, flt.dtype))
    return convert_image_dtype(adjusted, orig, saturate=True)


@tf_export("image.adjust_hue")
def adjust_hue(image, delta, name=None):
    """Rotate the hue of RGB images by ``delta`` (a fraction of the hue circle, in [-1, 1])."""
    if not is_tensor_like(delta) and (delta < -1 or delta > 1):
        raise ValueError("delta must be in the interval [-1, 1]")
    flt, orig = _as_working_float(image)
    _three_channels(flt, "AdjustHue")
    hsv = rgb_to_hsv(cast(flt, _d.float32))
    h = math_ops.floormod(hsv[..., 0] + cast(delta, _d.float32), 1.0)
    rgb = hsv_to_rgb(array_ops.stack([h, hsv[..., 1], hsv[..., 2]], axis=-1))
    return convert_image_dtype(cast(rgb, flt.dtype), orig)


@tf_export("image.adjust_saturation")
def adjust_saturation(image, saturation_factor, name=None):
    """Scale the saturation of RGB images by ``saturation_factor`` (clipped to [0, 1])."""
    flt, orig = _as_working_float(image)
    _three_channels(flt, "AdjustSaturation")
    hsv = rgb_to_hsv(cast(flt, _d.float32))
    s = math_ops.minimum(
        math_ops.maximum(hsv[..., 1] * cast(saturation_factor, _d.float32), 0.0), 1.0
    )
    rgb = hsv_to_rgb(array_ops.stack([hsv[..., 0], s, hsv[..., 2]], axis=-1))
    return convert_image_dtype(cast(rgb, flt.dtype), orig)


@tf_export("image.per_image_standardization")
def per_image_standardization(image):
    """Scale each image to zero mean and unit variance (float32); the standard deviation
    is floored at 1 / sqrt(number of elements) so uniform images do not divide by zero."""
    image = convert_to_tensor(image)
    _at_least_3d(image)
    image = cast(image, _d.float32)
    n = reduction_ops.reduce_prod(array_ops.shape(image)[-3:])
    mean = reduction_ops.reduce_mean(image, axis=[-1, -2, -3], keepdims=True)
    std = reduction_ops.reduce_std(image, axis=[-1, -2, -3], keepdims=True)
    floor = unary_ops.rsqrt(cast(n, _d.float32))
    return (image - mean) / math_ops.maximum(std, floor)


def _uniform(seed, stateless, lo, hi, dtype=_d.float32):
    if stateless:
        return random_ops.stateless_uniform([], seed, lo, hi, dtype=dtype)
    return random_ops.uniform([], lo, hi, dtype=dtype, seed=seed)


def _check_range(lower, upper):
    if upper <= lower:
        raise ValueError("upper must be > lower.")
    if lower < 0:
        raise ValueError("lower must be non-negative.")


@tf_export("image.random_brightness")
def random_brightness(image, max_delta, seed=None):
    """``adjust_brightness`` by a delta drawn uniformly from [-max_delta, max_delta)."""
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    return adjust_brightness(image, _uniform(seed, False, -max_delta, max_delta))


@tf_export("image.stateless_random_brightness")
def stateless_random_brightness(image, max_delta, seed):
    """``random_brightness`` as a function of ``seed`` (shape [2])."""
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    return adjust_brightness(image, _uniform(seed, True, -max_delta, max_delta))


@tf_export("image.random_contrast")
def random_contrast(image, lower, upper, seed=None):
    """``adjust_contrast`` by a factor drawn uniformly from [lower, upper)."""
    _check_range(lower, upper)
    return adjust_contrast(image, _uniform(seed, False, lower, upper))


@tf_export("image.stateless_random_contrast")
def stateless_random_contrast(image, lower, upper, seed):
    """``random_contrast`` as a function of ``seed`` (shape [2])."""
    _check_range(lower, upper)
    return adjust_contrast(image, _uniform(seed, True, lower, upper))


@tf_export("image.random_saturation")
def random_saturation(image, lower, upper, seed=None):
    """``adjust_saturation`` by a factor drawn uniformly from [lower, upper)."""
    _check_range(lower, upper)
    return adjust_saturation(image, _uniform(seed, False, lower, upper))


@tf_export("image.stateless_random_saturation")
def stateless_random_saturation(image, lower, upper, seed=None):
    """``random_saturation`` as a function of ``seed`` (shape [2])."""
    _check_range(lower, upper)
    return adjust_saturation(image, _uniform(seed, True, lower, upper))


def _check_hue_delta(max_delta):
    if max_delta > 0.5:
        raise ValueError("max_delta must be <= 0.5.")
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")


@tf_export("image.random_hue")
def random_hue(image, max_delta, seed=None):
    """``adjust_hue`` by a delta drawn uniformly from [-max_delta, max_delta), max_delta <= 0.5."""
    _check_hue_delta(max_delta)
    return adjust_hue(image, _uniform(seed, False, -max_delta, max_delta))


@tf_export("image.stateless_random_hue")
def stateless_random_hue(image, max_delta, seed):
    """``random_hue`` as a function of ``seed`` (shape [2])."""
    _check_hue_delta(max_delta)
    return adjust_hue(image, _uniform(seed, True, -max_delta, max_delta))


# --------------------------------------------------------------------------------------
# Metrics, gradients, edges
# --------------------------------------------------------------------------------------


def _check_compatible(a, b, op):
    sa, sb = a.shape, b.shape
    if sa.rank is not None and sa.rank < 3 or sb.rank is not None and sb.rank < 3:
        raise ValueError(f"{op}: images must be at least 3-D, got shapes {sa} and {sb}")
    if sa.rank is not None and sb.rank is not None:
        if not sa[-3:].is_compatible_with(sb[-3:]):
            raise ValueError(f"{op}: images are not compatible: {sa} and {sb}")
        for d1, d2 in zip(reversed(sa.as_list()[:-3]), reversed(sb.as_list()[:-3])):
            if not (d1 == 1 or d2 == 1 or d1 is None or d2 is None or d1 == d2):
                raise ValueError(f"Two images are not compatible: {sa} and {sb}")


@tf_export("image.psnr")
def psnr(a, b, max_val, name=None):
    """Peak signal-to-noise ratio (dB) between images ``a`` and ``b`` over their last
    three axes: 20 log10(max_val) - 10 log10(MSE)."""
    a, b = convert_to_tensor(a), convert_to_tensor(b)
    max_val = convert_image_dtype(cast(max_val, a.dtype), _d.float32)
    a = convert_image_dtype(a, _d.float32)
    b = convert_image_dtype(b, _d.float32)
    # the difference raises first for shapes that do not broadcast, as in TF
    mse = reduction_ops.reduce_mean(math_ops.squared_difference(a, b), [-3, -2, -1])
    _check_compatible(a, b, "psnr")
    return 20 * unary_ops.log(max_val) / np.float32(np.log(10.0)) - np.float32(
        10 / np.log(10)
    ) * unary_ops.log(mse)


def _gaussian_filter(size, sigma):
    """The normalised ``size`` x ``size`` Gaussian window, [size, size, 1, 1]."""
    coords = cast(creation_ops.range(size), sigma.dtype) - cast(size - 1, sigma.dtype) / 2.0
    g = -0.5 * unary_ops.square(coords) / unary_ops.square(sigma)
    g = array_ops.reshape(g, [1, -1]) + array_ops.reshape(g, [-1, 1])
    g = nn_ops.softmax(array_ops.reshape(g, [1, -1]))
    return array_ops.reshape(g, [size, size, 1, 1])


def _ssim_parts(img1, img2, max_val, filter_size, filter_sigma, k1, k2, index_map=False):
    """(per-channel SSIM, per-channel contrast-structure), averaged over the image unless
    ``index_map``."""
    shape1, shape2 = array_ops.shape(img1), array_ops.shape(img2)
    s1, s2 = static_value(shape1), static_value(shape2)
    if s1 is not None and s2 is not None:
        if np.any(np.asarray(s1)[-3:-1] < filter_size) or np.any(
            np.asarray(s2)[-3:-1] < filter_size
        ):
            raise op_error(
                InvalidArgumentError, "ssim",
                f"images of shape {list(s1)} and {list(s2)} are smaller than the filter "
                f"({filter_size})",
            )  # fmt: skip
    else:
        debugging_ops.Assert(
            reduction_ops.reduce_all(shape1[-3:-1] >= filter_size), [shape1, filter_size]
        )
    kernel = _gaussian_filter(filter_size, convert_to_tensor(filter_sigma, dtype=img1.dtype))
    kernel = shape_ops.tile(kernel, array_ops.stack([1, 1, shape1[-1], 1]))

    def blur(x):
        shp = array_ops.shape(x)
        flat = array_ops.reshape(x, shape_ops.concat([[-1], shp[-3:]], 0))
        y = conv_ops.depthwise_conv2d(flat, kernel, [1, 1, 1, 1], "VALID")
        return array_ops.reshape(y, shape_ops.concat([shp[:-3], array_ops.shape(y)[1:]], 0))

    c1 = (k1 * max_val) ** 2
    c2 = (k2 * max_val) ** 2
    mean1, mean2 = blur(img1), blur(img2)
    num0 = mean1 * mean2 * 2.0
    den0 = unary_ops.square(mean1) + unary_ops.square(mean2)
    luminance = (num0 + c1) / (den0 + c1)
    num1 = blur(img1 * img2) * 2.0
    den1 = blur(unary_ops.square(img1) + unary_ops.square(img2))
    cs = (num1 - num0 + c2) / (den1 - den0 + c2)
    if index_map:
        return luminance * cs, cs
    return (
        reduction_ops.reduce_mean(luminance * cs, [-3, -2]),
        reduction_ops.reduce_mean(cs, [-3, -2]),
    )


def _ssim_inputs(img1, img2, max_val, op):
    img1, img2 = convert_to_tensor(img1), convert_to_tensor(img2)
    _check_compatible(img1, img2, op)
    max_val = convert_image_dtype(cast(max_val, img1.dtype), _d.float32)
    return convert_image_dtype(img1, _d.float32), convert_image_dtype(img2, _d.float32), max_val


@tf_export("image.ssim")
def ssim(
    img1, img2, max_val, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03, return_index_map=False
):
    """Structural similarity (Wang et al. 2004) of two batches of images over their last
    three axes, with a ``filter_size`` Gaussian window (VALID); per pixel with
    ``return_index_map``."""
    img1, img2, max_val = _ssim_inputs(img1, img2, max_val, "ssim")
    per_channel, _ = _ssim_parts(
        img1, img2, max_val, filter_size, filter_sigma, k1, k2, return_index_map
    )
    return reduction_ops.reduce_mean(per_channel, [-1])


_MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


@tf_export("image.ssim_multiscale")
def ssim_multiscale(
    img1, img2, max_val, power_factors=_MS_SSIM_WEIGHTS, filter_size=11, filter_sigma=1.5,
    k1=0.01, k2=0.03,
):  # fmt: skip
    """Multi-scale SSIM (Wang et al. 2003): contrast-structure at each of
    ``len(power_factors)`` halvings (2x2 average pooling, symmetric padding of odd sizes)
    and SSIM at the coarsest, combined as a weighted geometric mean."""
    img1, img2, max_val = _ssim_inputs(img1, img2, max_val, "ssim_multiscale")
    imgs = [img1, img2]
    heads = [array_ops.shape(x)[:-3] for x in imgs]
    tails = [array_ops.shape(x)[-3:] for x in imgs]
    divisor = convert_to_tensor([2, 2, 1], dtype=_d.int32)
    mcs = []
    per_channel = None
    for k in range(len(power_factors)):
        if k > 0:
            flat = [
                array_ops.reshape(x, shape_ops.concat([[-1], t], 0)) for x, t in zip(imgs, tails)
            ]
            remainder = tails[0] % divisor
            rv = static_value(remainder)
            if rv is None:
                raise ValueError("ssim_multiscale: image sizes must be known when the op is built")
            if np.any(rv != 0):  # odd sizes: mirror one more row / column before pooling
                pad = np.pad(np.asarray(rv)[:, None], [[1, 0], [1, 0]])
                flat = [shape_ops.pad(x, pad, mode="SYMMETRIC") for x in flat]
            down = [conv_ops.avg_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID") for x in flat]
            tails = [array_ops.shape(x)[1:] for x in down]
            imgs = [
                array_ops.reshape(x, shape_ops.concat([h, t], 0))
                for x, h, t in zip(down, heads, tails)
            ]
        per_channel, cs = _ssim_parts(imgs[0], imgs[1], max_val, filter_size, filter_sigma, k1, k2)
        mcs.append(nn_ops.relu(cs))
    mcs.pop()
    stacked = array_ops.stack(mcs + [nn_ops.relu(per_channel)], axis=-1)
    weights = convert_to_tensor(power_factors, dtype=stacked.dtype)
    ms = reduction_ops.reduce_prod(math_ops.pow(stacked, weights), [-1])
    return reduction_ops.reduce_mean(ms, [-1])


@tf_export("image.total_variation")
def total_variation(images, name=None):
    """Sum of absolute differences between neighbouring pixels (per image for a batch)."""
    images = convert_to_tensor(images)
    rank = images.shape.rank
    if rank == 3:
        d1 = images[1:, :, :] - images[:-1, :, :]
        d2 = images[:, 1:, :] - images[:, :-1, :]
        axis = None
    elif rank == 4:
        d1 = images[:, 1:, :, :] - images[:, :-1, :, :]
        d2 = images[:, :, 1:, :] - images[:, :, :-1, :]
        axis = [1, 2, 3]
    else:
        raise ValueError("'images' must be either 3 or 4-dimensional.")
    return reduction_ops.reduce_sum(unary_ops.abs(d1), axis=axis) + reduction_ops.reduce_sum(
        unary_ops.abs(d2), axis=axis
    )


@tf_export("image.image_gradients")
def image_gradients(image):
    """Forward differences ``(dy, dx)`` of [N, H, W, C] images, zero in the last row/column."""
    image = convert_to_tensor(image)
    if image.shape.rank != 4:
        raise ValueError(
            f"image_gradients expects a 4D tensor [batch_size, h, w, d], not {image.shape}."
        )
    dy = image[:, 1:, :, :] - image[:, :-1, :, :]
    dx = image[:, :, 1:, :] - image[:, :, :-1, :]
    dy = shape_ops.pad(dy, [[0, 0], [0, 1], [0, 0], [0, 0]])
    dx = shape_ops.pad(dx, [[0, 0], [0, 0], [0, 1], [0, 0]])
    return dy, dx


_SOBEL = np.array([[[-1, -2, -1], [0, 0, 0], [1, 2, 1]], [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]])


@tf_export("image.sobel_edges")
def sobel_edges(image):
    """Sobel responses of [N, H, W, C] images: [N, H, W, C, 2] (dy, dx), reflect-padded."""
    image = convert_to_tensor(image)
    if image.shape.rank is not None and image.shape.rank != 4:
        raise op_error(
            InvalidArgumentError,
            "sobel_edges",
            f"image must be 4-D [batch, height, width, channels], got {image.shape}",
        )
    shape = array_ops.shape(image)
    kernels = np.expand_dims(np.transpose(_SOBEL, (1, 2, 0)), -2)  # [3, 3, 1, 2]
    k = shape_ops.tile(
        convert_to_tensor(kernels, dtype=image.dtype), array_ops.stack([1, 1, shape[-1], 1])
    )
    padded = shape_ops.pad(image, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
    out = conv_ops.depthwise_conv2d(padded, k, [1, 1, 1, 1], "VALID")
    return array_ops.reshape(out, shape_ops.concat([shape, [2]], 0))
