"""Image resampling: ``tf.image.resize`` (every method, with and without antialiasing),
``crop_and_resize`` and ``extract_glimpse``, with their gradients.

Every resize method is separable: each output row is a weighted sum of a few input rows,
and each output column of a few input columns. An axis' *taps* are two ``(K, n_out)``
arrays, the input index and the weight of each of the K terms of every output position;
they depend only on the sizes and the method, so they are computed once on the host
(cached) and a kernel is K ``take``s and multiply-adds along each of the two spatial axes,
never a loop over pixels. The gradient of a resize is the transpose of that linear map,
which is again a set of taps (each input position lists the outputs it fed), so every
``*Grad`` kernel is the same two-pass resampling with transposed taps, and the gradient of
a gradient is the forward op again.

The tap formulas follow TF's kernels: half-pixel or corner-aligned sample positions in
float32, bicubic weights looked up in a 1024-step table (Keys' a = -0.5 with half-pixel
centers, -0.75 otherwise), area weights from box overlaps, and ``ScaleAndTranslate``'s
kernels (lanczos3/5, gaussian, mitchellcubic, keyscubic, triangle, box) widened by the
downscaling factor when antialiasing, with weights renormalised to sum to one.
"""

from __future__ import annotations

import functools

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import OutOfRangeError
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    bind,
    convert_to_tensor,
    op_error,
    primitive,
    tf_export,
)
from rill.ops.array_ops import cast, shape
from rill.ops.indexing_ops import strided_slice
from rill.ops.shape_ops import expand_dims, squeeze

__all__ = ["resize", "ResizeMethod", "crop_and_resize", "extract_glimpse"]

_F32 = np.float32
_IMAGE_DTYPES = frozenset(
    {_d.int8, _d.uint8, _d.int16, _d.uint16, _d.int32, _d.int64, _d.bfloat16, _d.float16,
     _d.float32, _d.float64}
)  # fmt: skip
_GRAD_DTYPES = frozenset({_d.float16, _d.bfloat16, _d.float32, _d.float64})

# --------------------------------------------------------------------------------------
# Taps: per axis, input indices and weights of every output position (host, cached)
# --------------------------------------------------------------------------------------


def _resize_scale(n_in, n_out, align_corners):
    if align_corners and n_out > 1:
        return _F32((n_in - 1) / _F32(n_out - 1))
    return _F32(_F32(n_in) / _F32(n_out))


def _bilinear_taps(n_in, n_out, align_corners, half_pixel_centers):
    scale = _resize_scale(n_in, n_out, align_corners)
    o = np.arange(n_out, dtype=_F32)
    pos = (o + _F32(0.5)) * scale - _F32(0.5) if half_pixel_centers else o * scale
    base = np.floor(pos)
    lo = np.maximum(base, 0).astype(np.int64)
    hi = np.minimum(np.ceil(pos), n_in - 1).astype(np.int64)
    frac = (pos - base).astype(_F32)
    return np.stack([lo, hi]), np.stack([_F32(1) - frac, frac])


def _nearest_taps(n_in, n_out, align_corners, half_pixel_centers):
    scale = _resize_scale(n_in, n_out, align_corners)
    o = np.arange(n_out, dtype=_F32)
    if align_corners:
        pos = np.floor(o * scale + _F32(0.5))  # rounding half away from zero
    elif half_pixel_centers:
        pos = np.floor((o + _F32(0.5)) * scale)
    else:
        pos = np.floor(o * scale)
    idx = np.clip(pos, 0, n_in - 1).astype(np.int64)
    return idx[None], np.ones((1, n_out), _F32)


@functools.lru_cache(maxsize=2)
def _cubic_table(a):
    """Keys' cubic kernel at 1025 steps of [0, 1] (near taps) and of [1, 2] (far taps)."""
    a = _F32(a)
    t = np.arange(1025, dtype=_F32) / _F32(1024)
    near = ((a + _F32(2)) * t - (a + _F32(3))) * t * t + _F32(1)
    u = t + _F32(1)
    far = ((a * u - _F32(5) * a) * u + _F32(8) * a) * u - _F32(4) * a
    return near, far


def _normalise(w):
    total = w.sum(axis=0, dtype=_F32)
    ok = np.abs(total) >= 1000 * np.finfo(_F32).tiny
    return np.where(ok, w / np.where(ok, total, 1), 0).astype(_F32)


def _bicubic_taps(n_in, n_out, align_corners, half_pixel_centers):
    scale = _resize_scale(n_in, n_out, align_corners)
    o = np.arange(n_out, dtype=_F32)
    pos = (o + _F32(0.5)) * scale - _F32(0.5) if half_pixel_centers else o * scale
    base = np.floor(pos)
    step = np.rint((pos - base) * _F32(1024)).astype(np.int64)
    near, far = _cubic_table(-0.5 if half_pixel_centers else -0.75)
    w = np.stack([far[step], near[step], near[1024 - step], far[1024 - step]])
    raw = base.astype(np.int64)[None] + np.arange(-1, 3)[:, None]
    idx = np.clip(raw, 0, n_in - 1)
    if half_pixel_centers:  # taps outside the image get no weight; the rest sum to one
        w = _normalise(np.where(raw == idx, w, _F32(0)))
    return idx, w.astype(_F32)


def _area_taps(n_in, n_out, align_corners):
    scale = _resize_scale(n_in, n_out, align_corners)
    o = np.arange(n_out, dtype=_F32)
    if scale == 0:  # one input pixel, corners aligned: every output is that pixel
        return np.zeros((1, n_out), np.int64), np.ones((1, n_out), _F32)
    start_f, end_f = o * scale, (o + _F32(1)) * scale
    start = np.floor(start_f).astype(np.int64)
    end = np.ceil(end_f).astype(np.int64)
    k = max(int((end - start).max()), 1)
    v = start[None] + np.arange(k)[:, None]
    w = np.minimum(v + 1, end_f[None]) - np.maximum(v, start_f[None])
    w = np.where(v < end[None], w, 0).astype(_F32) / scale
    return np.clip(v, 0, n_in - 1), w.astype(_F32)


def _lanczos(radius):
    def f(x):
        x = np.abs(x)
        return np.where(x > radius, 0.0, np.sinc(x) * np.sinc(x / radius))

    return f, float(radius)


def _gaussian(x):
    radius, sigma = 1.5, 0.5
    return np.where(np.abs(x) >= radius, 0.0, np.exp(-x * x / (2 * sigma * sigma)))


def _keys_cubic(x):
    x = np.abs(x)
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    near = (1.5 * x - 2.5) * x * x + 1.0
    return np.where(x >= 2, 0.0, np.where(x >= 1, far, near))


def _mitchell_cubic(x):  # B = C = 1/3
    x = np.abs(x)
    far = ((-7.0 / 18.0 * x + 2.0) * x - 10.0 / 3.0) * x + 16.0 / 9.0
    near = (7.0 / 6.0 * x - 2.0) * x * x + 8.0 / 9.0
    return np.where(x >= 2, 0.0, np.where(x >= 1, far, near))


def _triangle(x):
    return np.maximum(1.0 - np.abs(x), 0.0)


def _box(x):
    x = np.abs(x)
    return np.where(x < 0.5, 1.0, np.where(x == 0.5, 0.5, 0.0))


_KERNELS = {
    "lanczos1": _lanczos(1),
    "lanczos3": _lanczos(3),
    "lanczos5": _lanczos(5),
    "gaussian": (_gaussian, 1.5),
    "keyscubic": (_keys_cubic, 2.0),
    "mitchellcubic": (_mitchell_cubic, 2.0),
    "triangle": (_triangle, 1.0),
    "box": (_box, 1.0),
}


def _scale_translate_taps(n_in, n_out, kernel_type, antialias, scale, translate):
    fn, radius = _KERNELS[kernel_type]
    scale = _F32(scale)
    inv = _F32(1) / scale
    widen = max(inv, _F32(1)) if antialias else _F32(1)
    reach = _F32(radius) * widen
    o = np.arange(n_out, dtype=_F32)
    sample = (o + _F32(0.5)) * inv - _F32(translate) * inv
    start = np.maximum(np.ceil(sample - reach - _F32(0.5)), 0).astype(np.int64)
    end = np.minimum(np.floor(sample + reach - _F32(0.5)), n_in - 1).astype(np.int64) + 1
    end = np.maximum(end, start)
    k = max(int((end - start).max()) if n_out else 1, 1)
    v = start[None] + np.arange(k)[:, None]
    w = fn(((v + 0.5).astype(_F32) - sample[None]) / widen)
    # a sample outside the image gets nothing (its output is zero), as in TF's kernel
    inside = (sample >= 0) & (sample <= _F32(n_in))
    w = np.where((v < end[None]) & inside[None], w, 0.0).astype(_F32)
    return np.clip(v, 0, max(n_in - 1, 0)), _normalise(w)


class _Taps:
    """One axis' taps in the form the kernels use: ``idx``/``w`` (K, n_out) NumPy arrays,
    with all-zero terms dropped; ``identity`` when the axis is left as it is; ``unit``
    when every weight is one (nearest neighbour: a pure gather)."""

    def __init__(self, idx, w, n_in):
        keep = np.any(w != 0, axis=1)
        if not keep.any():
            keep[:1] = True
        self.idx, self.w = np.ascontiguousarray(idx[keep]), np.ascontiguousarray(w[keep])
        self.n_in, self.n_out = n_in, idx.shape[1]
        self.unit = bool(np.all(self.w == 1))
        self.identity = (
            self.unit
            and self.idx.shape[0] == 1
            and n_in == self.n_out
            and bool(np.all(self.idx[0] == np.arange(n_in)))
        )

    @functools.cached_property
    def transposed(self) -> _Taps:
        """The taps of the transposed map: each input position lists the outputs it fed."""
        k, n = self.idx.shape
        src = self.idx.reshape(-1)
        dst = np.broadcast_to(np.arange(n), (k, n)).reshape(-1)
        w = self.w.reshape(-1)
        nz = w != 0
        src, dst, w = src[nz], dst[nz], w[nz]
        order = np.argsort(src, kind="stable")
        src, dst, w = src[order], dst[order], w[order]
        counts = np.bincount(src, minlength=self.n_in)
        width = max(int(counts.max()) if counts.size else 1, 1)
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        slot = np.arange(src.size) - first[src]
        idx = np.zeros((width, self.n_in), np.int64)
        wt = np.zeros((width, self.n_in), _F32)
        idx[slot, src] = dst
        wt[slot, src] = w
        return _Taps(idx, wt, n)


@functools.lru_cache(maxsize=256)
def _taps(kind, n_in, n_out, a, b, c=None, d=None) -> _Taps:
    """Cached taps of one axis. ``kind`` names the method; a, b, (c, d) its settings."""
    if kind == "bilinear":
        idx, w = _bilinear_taps(n_in, n_out, a, b)
    elif kind == "nearest":
        idx, w = _nearest_taps(n_in, n_out, a, b)
    elif kind == "bicubic":
        idx, w = _bicubic_taps(n_in, n_out, a, b)
    elif kind == "area":
        idx, w = _area_taps(n_in, n_out, a)
    else:  # scale and translate: a = kernel_type, b = antialias, c = scale, d = translation
        idx, w = _scale_translate_taps(n_in, n_out, a, b, c, d)
    return _Taps(idx, w, n_in)


# --------------------------------------------------------------------------------------
# Separable resampling of [N, H, W, C] arrays
# --------------------------------------------------------------------------------------


def _apply_axis(xp, x, axis, taps: _Taps):
    if taps.identity:
        return x
    shape = list(x.shape)
    pre, post = (
        int(np.prod(shape[:axis], dtype=np.int64)),
        int(np.prod(shape[axis + 1 :], dtype=np.int64)),
    )
    x3 = xp.reshape(x, (pre, taps.n_in, post))
    out = None
    for k in range(taps.idx.shape[0]):
        t = xp.take(x3, xp.asarray(taps.idx[k]), axis=1)
        if not taps.unit:
            # weights materialised over the trailing axis too, so that NumPy's loops run
            # over whole rows (a (n, 1) broadcast makes loops as short as the channels)
            w = np.repeat(taps.w[k][:, None], post, axis=1) if post < 64 else taps.w[k][:, None]
            t *= xp.asarray(w, dtype=x.dtype)
        if out is None:
            out = t
        else:
            out += t
    shape[axis] = taps.n_out
    return xp.reshape(out, shape)


def _resample(xp, x, th: _Taps, tw: _Taps, work_dtype, out_dtype):
    """Apply ``th`` along axis 1 and ``tw`` along axis 2 of ``x`` [N, H, W, C]."""
    if work_dtype is not None and x.dtype != work_dtype:
        x = xp.astype(x, work_dtype)
    n, c = x.shape[0], x.shape[3]
    if n == 0 or c == 0:
        y = xp.zeros((n, th.n_out, tw.n_out, c), dtype=x.dtype)
    else:
        # a column pass gathers C-element chunks and costs about twice a row pass (whole
        # rows): order the passes so the costlier one runs on the smaller array
        h_first = th.n_out * tw.n_in * (1 + 2 * tw.idx.shape[0]) <= th.n_in * tw.n_out * (
            2 + th.idx.shape[0]
        )
        if h_first:
            y = _apply_axis(xp, _apply_axis(xp, x, 1, th), 2, tw)
        else:
            y = _apply_axis(xp, _apply_axis(xp, x, 2, tw), 1, th)
        if y is x:
            y = xp.asarray(x, copy=True)
    if y.dtype != out_dtype:
        y = xp.astype(y, out_dtype)
    return y


def _work_dtype(dtype):
    """Float64 stays float64; everything else is resampled in float32."""
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


# --------------------------------------------------------------------------------------
# Shape rules and argument checks
# --------------------------------------------------------------------------------------


def _check_images(op, images: AVal, what="input"):
    if images.rank is not None and images.rank != 4:
        raise op_error(
            InvalidArgumentError, op, f"{what} must be 4-dimensional, got shape {images.shape}"
        )


def _static_size(op, size: AVal):
    if size.rank is not None and (size.rank != 1 or size.shape[0] not in (None, 2)):
        raise op_error(
            InvalidArgumentError,
            op,
            f"size must be a 1-D int32 Tensor of 2 elements (new_height, new_width), got "
            f"shape {size.shape}",
        )
    if size.value is None:
        return None, None
    v = [int(s) for s in np.asarray(size.value).reshape(-1)]
    if min(v) <= 0:
        raise op_error(InvalidArgumentError, op, f"output dimensions must be positive, got {v}")
    return v[0], v[1]


def _check_centers(op, align_corners, half_pixel_centers):
    if align_corners and half_pixel_centers:
        raise op_error(
            InvalidArgumentError, op, "If half_pixel_centers is True, align_corners must be False."
        )


def _resize_rule(op, out_dtype=None):
    def rule(images, size, align_corners=False, half_pixel_centers=False, **_):
        _check_centers(op, align_corners, half_pixel_centers)
        _check_images(op, images)
        h, w = _static_size(op, size)
        n, c = (None, None) if images.rank is None else (images.shape[0], images.shape[3])
        return AVal([n, h, w, c], out_dtype or images.dtype)

    return rule


def _sizes(op, x, size):
    """Checked (in_h, in_w, out_h, out_w) of a kernel call."""
    if x.ndim != 4:
        raise op_error(
            InvalidArgumentError, op, f"input must be 4-dimensional, got shape {list(x.shape)}"
        )
    oh, ow = int(size[0]), int(size[1])
    if oh <= 0 or ow <= 0:
        raise op_error(
            InvalidArgumentError, op, f"output dimensions must be positive, got {[oh, ow]}"
        )
    ih, iw = int(x.shape[1]), int(x.shape[2])
    if ih == 0 or iw == 0:
        raise op_error(
            InvalidArgumentError,
            op,
            f"input image must be of non-zero size, got shape {list(x.shape)}",
        )
    return ih, iw, oh, ow


# --------------------------------------------------------------------------------------
# ResizeBilinear / ResizeNearestNeighbor / ResizeBicubic / ResizeArea and their gradients
# --------------------------------------------------------------------------------------


def _fixed_kernel(op, kind, keep_dtype=False):
    def kernel(images, size, align_corners=False, half_pixel_centers=False, *, xp=np):
        _check_centers(op, align_corners, half_pixel_centers)
        ih, iw, oh, ow = _sizes(op, images, size)
        th = _taps(kind, ih, oh, align_corners, half_pixel_centers)
        tw = _taps(kind, iw, ow, align_corners, half_pixel_centers)
        if keep_dtype:
            return _resample(xp, images, th, tw, None, images.dtype)
        return _resample(xp, images, th, tw, _work_dtype(images.dtype), np.float32)

    return kernel


def _grad_kernel(op, kind):
    """Kernel of a ``*Grad`` op: (grads, original_image) -> gradient of the image."""

    def kernel(grads, original, align_corners=False, half_pixel_centers=False, *, xp=np):
        _check_centers(op, align_corners, half_pixel_centers)
        ih, iw = int(original.shape[1]), int(original.shape[2])
        oh, ow = int(grads.shape[1]), int(grads.shape[2])
        th = _taps(kind, ih, oh, align_corners, half_pixel_centers).transposed
        tw = _taps(kind, iw, ow, align_corners, half_pixel_centers).transposed
        return _resample(xp, grads, th, tw, _work_dtype(grads.dtype), original.dtype)

    return kernel


def _grad_rule(op):
    def rule(grads, original, **p):
        _check_centers(op, p.get("align_corners"), p.get("half_pixel_centers"))
        _check_images(op, grads, "grads")
        _check_images(op, original, "original_image")
        return AVal(original.shape, original.dtype)

    return rule


def _spatial_size(t):
    """int32 [2]: the height and width of a [N, H, W, C] tensor."""
    return strided_slice(shape(t), [1], [3], [1])


resize_bilinear_p = primitive(
    "ResizeBilinear",
    _fixed_kernel("ResizeBilinear", "bilinear"),
    _resize_rule("ResizeBilinear", _d.float32),
    lambda inputs, out, dy, **p: (bind(resize_bilinear_grad_p, (dy, inputs[0]), p), None),
    dtypes=_IMAGE_DTYPES,
    n_typed=1,
    saves=(),
    saves_output=False,
)
resize_bilinear_grad_p = primitive(
    "ResizeBilinearGrad",
    _grad_kernel("ResizeBilinearGrad", "bilinear"),
    _grad_rule("ResizeBilinearGrad"),
    lambda inputs, out, g, **p: (
        cast(bind(resize_bilinear_p, (g, _spatial_size(inputs[0])), p), inputs[0].dtype),
        None,
    ),
    dtypes=_GRAD_DTYPES,
    saves=(),
    saves_output=False,
)


def _nearest_grad_kernel(grads, size, align_corners=False, half_pixel_centers=False, *, xp=np):
    op = "ResizeNearestNeighborGrad"
    _check_centers(op, align_corners, half_pixel_centers)
    ih, iw = int(size[0]), int(size[1])
    oh, ow = int(grads.shape[1]), int(grads.shape[2])
    th = _taps("nearest", ih, oh, align_corners, half_pixel_centers).transposed
    tw = _taps("nearest", iw, ow, align_corners, half_pixel_centers).transposed
    return _resample(xp, grads, th, tw, _work_dtype(grads.dtype), grads.dtype)


def _nearest_grad_rule(grads, size, align_corners=False, half_pixel_centers=False):
    op = "ResizeNearestNeighborGrad"
    _check_centers(op, align_corners, half_pixel_centers)
    _check_images(op, grads, "grads")
    h, w = _static_size(op, size)
    n, c = (None, None) if grads.rank is None else (grads.shape[0], grads.shape[3])
    return AVal([n, h, w, c], grads.dtype)


resize_nearest_p = primitive(
    "ResizeNearestNeighbor",
    _fixed_kernel("ResizeNearestNeighbor", "nearest", keep_dtype=True),
    _resize_rule("ResizeNearestNeighbor"),
    lambda inputs, out, dy, **p: (
        bind(resize_nearest_grad_p, (dy, _spatial_size(inputs[0])), p),
        None,
    ),
    dtypes=_IMAGE_DTYPES,
    n_typed=1,
    saves=(),
    saves_output=False,
)
resize_nearest_grad_p = primitive(
    "ResizeNearestNeighborGrad",
    _nearest_grad_kernel,
    _nearest_grad_rule,
    lambda inputs, out, g, **p: (
        bind(resize_nearest_p, (g, _spatial_size(inputs[0])), p),
        None,
    ),
    dtypes=_GRAD_DTYPES | {_d.int8, _d.uint8, _d.int32},
    n_typed=1,
    saves=(),
    saves_output=False,
)
resize_bicubic_p = primitive(
    "ResizeBicubic",
    _fixed_kernel("ResizeBicubic", "bicubic"),
    _resize_rule("ResizeBicubic", _d.float32),
    lambda inputs, out, dy, **p: (
        bind(resize_bicubic_grad_p, (dy, inputs[0]), p)
        if inputs[0].dtype in (_d.float32, _d.float64)
        else None,
        None,
    ),
    dtypes=_IMAGE_DTYPES,
    n_typed=1,
    saves=(),
    saves_output=False,
)
resize_bicubic_grad_p = primitive(
    "ResizeBicubicGrad",
    _grad_kernel("ResizeBicubicGrad", "bicubic"),
    _grad_rule("ResizeBicubicGrad"),
    lambda inputs, out, g, **p: (
        cast(bind(resize_bicubic_p, (g, _spatial_size(inputs[0])), p), inputs[0].dtype),
        None,
    ),
    dtypes=frozenset({_d.float32, _d.float64}),
    saves=(),
    saves_output=False,
)


def _area_kernel(images, size, align_corners=False, *, xp=np):
    ih, iw, oh, ow = _sizes("ResizeArea", images, size)
    th = _taps("area", ih, oh, align_corners, None)
    tw = _taps("area", iw, ow, align_corners, None)
    return _resample(xp, images, th, tw, _work_dtype(images.dtype), np.float32)


# TF registers no gradient for ResizeArea: tf.GradientTape raises LookupError for it
resize_area_p = primitive(
    "ResizeArea",
    _area_kernel,
    _resize_rule("ResizeArea", _d.float32),
    dtypes=_IMAGE_DTYPES,
    n_typed=1,
)

# --------------------------------------------------------------------------------------
# ScaleAndTranslate and its gradient
# --------------------------------------------------------------------------------------

_KERNEL_TYPES = tuple(_KERNELS)


def _st_check(op, kernel_type):
    if kernel_type not in _KERNELS:
        raise op_error(
            InvalidArgumentError,
            op,
            f"Unrecognized kernel type: {kernel_type!r}; expected one of {list(_KERNEL_TYPES)}",
        )


def _st_taps(op, n_in, n_out, kernel_type, antialias, scale, translate):
    if scale <= 0:
        raise op_error(InvalidArgumentError, op, f"scale must be positive, got {scale}")
    return _taps("st", n_in, n_out, kernel_type, bool(antialias), float(scale), float(translate))


def _st_kernel(images, size, scale, translation, kernel_type="lanczos3", antialias=True, *, xp=np):
    op = "ScaleAndTranslate"
    _st_check(op, kernel_type)
    ih, iw, oh, ow = _sizes(op, images, size)
    sy, sx = float(scale[0]), float(scale[1])
    ty, tx = float(translation[0]), float(translation[1])
    th = _st_taps(op, ih, oh, kernel_type, antialias, sy, ty)
    tw = _st_taps(op, iw, ow, kernel_type, antialias, sx, tx)
    return _resample(xp, images, th, tw, _work_dtype(images.dtype), np.float32)


def _st_rule(images, size, scale, translation, kernel_type="lanczos3", antialias=True):
    op = "ScaleAndTranslate"
    _st_check(op, kernel_type)
    _check_images(op, images)
    h, w = _static_size(op, size)
    n, c = (None, None) if images.rank is None else (images.shape[0], images.shape[3])
    return AVal([n, h, w, c], _d.float32)


def _st_grad_kernel(
    grads, original, scale, translation, kernel_type="lanczos3", antialias=True, *, xp=np
):
    op = "ScaleAndTranslateGrad"
    _st_check(op, kernel_type)
    ih, iw = int(original.shape[1]), int(original.shape[2])
    oh, ow = int(grads.shape[1]), int(grads.shape[2])
    sy, sx = float(scale[0]), float(scale[1])
    ty, tx = float(translation[0]), float(translation[1])
    th = _st_taps(op, ih, oh, kernel_type, antialias, sy, ty).transposed
    tw = _st_taps(op, iw, ow, kernel_type, antialias, sx, tx).transposed
    return _resample(xp, grads, th, tw, _work_dtype(grads.dtype), original.dtype)


def _st_grad_rule(grads, original, scale, translation, kernel_type="lanczos3", antialias=True):
    op = "ScaleAndTranslateGrad"
    _st_check(op, kernel_type)
    _check_images(op, grads, "grads")
    _check_images(op, original, "original_image")
    return AVal(original.shape, original.dtype)


scale_and_translate_p = primitive(
    "ScaleAndTranslate",
    _st_kernel,
    _st_rule,
    lambda inputs, out, dy, **p: (
        bind(scale_and_translate_grad_p, (dy, inputs[0], inputs[2], inputs[3]), p),
        None,
        None,
        None,
    ),
    dtypes=_IMAGE_DTYPES,
    n_typed=1,
    saves=(2, 3),
    saves_output=False,
)
scale_and_translate_grad_p = primitive(
    "ScaleAndTranslateGrad",
    _st_grad_kernel,
    _st_grad_rule,
    lambda inputs, out, g, **p: (
        cast(
            bind(scale_and_translate_p, (g, _spatial_size(inputs[0]), inputs[2], inputs[3]), p),
            inputs[0].dtype,
        ),
        None,
        None,
        None,
    ),
    dtypes=frozenset({_d.float32, _d.float64}),
    n_typed=1,
    saves=(2, 3),
    saves_output=False,
)

# --------------------------------------------------------------------------------------
# tf.image.resize
# --------------------------------------------------------------------------------------


@tf_export("image.ResizeMethod")
class ResizeMethod:
    """The interpolation methods of ``tf.image.resize``."""

    BILINEAR = "bilinear"
    NEAREST_NEIGHBOR = "nearest"
    BICUBIC = "bicubic"
    AREA = "area"
    LANCZOS3 = "lanczos3"
    LANCZOS5 = "lanczos5"
    GAUSSIAN = "gaussian"
    MITCHELLCUBIC = "mitchellcubic"


_SCALE_AND_TRANSLATE = ("lanczos3", "lanczos5", "gaussian", "mitchellcubic")


def _size_tensor(size):
    try:
        s = convert_to_tensor(size, dtype=_d.int32)
    except (TypeError, ValueError):
        raise ValueError("'size' must be a 1-D int32 Tensor") from None
    if not s.shape.is_compatible_with([2]):
        raise ValueError("'size' must be a 1-D Tensor of 2 elements: new_height, new_width")
    return s


def _aspect_size(images, size):
    """The largest size within ``size`` that keeps the images' aspect ratio."""
    from rill.ops import math_ops, unary_ops
    from rill.ops.array_ops import stack

    hw = cast(_spatial_size(images), _d.float32)
    target = cast(size, _d.float32)
    ratio = math_ops.minimum(target[0] / hw[0], target[1] / hw[1])
    return cast(stack([unary_ops.round(ratio * hw[0]), unary_ops.round(ratio * hw[1])]), _d.int32)


def _resize_fn(images, size, method, antialias):
    if method == ResizeMethod.BILINEAR:
        if antialias:
            return _scale_and_translate(images, size, "triangle", True)
        return bind(
            resize_bilinear_p, (images, size), {"align_corners": False, "half_pixel_centers": True}
        )
    if method == ResizeMethod.NEAREST_NEIGHBOR:
        return bind(
            resize_nearest_p, (images, size), {"align_corners": False, "half_pixel_centers": True}
        )
    if method == ResizeMethod.BICUBIC:
        if antialias:
            return _scale_and_translate(images, size, "keyscubic", True)
        return bind(
            resize_bicubic_p, (images, size), {"align_corners": False, "half_pixel_centers": True}
        )
    if method == ResizeMethod.AREA:
        return bind(resize_area_p, (images, size), {"align_corners": False})
    if method in _SCALE_AND_TRANSLATE:
        return _scale_and_translate(images, size, method, antialias)
    raise ValueError(f"Resize method is not implemented: {method}")


def _scale_and_translate(images, size, kernel_type, antialias):
    scale = cast(size, _d.float32) / cast(_spatial_size(images), _d.float32)
    zeros = convert_to_tensor(np.zeros(2, np.float32))
    params = {"kernel_type": kernel_type, "antialias": bool(antialias)}
    return bind(scale_and_translate_p, (images, size, scale, zeros), params)


@tf_export("image.resize")
def resize(
    images, size, method=ResizeMethod.BILINEAR, preserve_aspect_ratio=False, antialias=False,
    name=None,
):  # fmt: skip
    """Resize ``images`` ([N, H, W, C] or [H, W, C]) to ``size`` = (height, width).

    Every method but nearest neighbour returns float32; nearest keeps the input dtype."""
    images = convert_to_tensor(images)
    rank = images.shape.rank
    if rank is None:
        raise ValueError("'images' contains no shape.")
    if rank not in (3, 4):
        raise ValueError("'images' must have either 3 or 4 dimensions.")
    method = getattr(method, "value", method)
    if method not in (ResizeMethod.BILINEAR, ResizeMethod.NEAREST_NEIGHBOR, ResizeMethod.BICUBIC,
                      ResizeMethod.AREA, *_SCALE_AND_TRANSLATE):  # fmt: skip
        raise ValueError(f"Resize method is not implemented: {method}")
    batched = images if rank == 4 else expand_dims(images, 0)
    size = _size_tensor(size)
    if preserve_aspect_ratio:
        size = _aspect_size(batched, size)
    out = _resize_fn(batched, size, method, antialias)
    return out if rank == 4 else squeeze(out, [0])


# --------------------------------------------------------------------------------------
# CropAndResize and its gradients
# --------------------------------------------------------------------------------------


def _crop_coords(xp, boxes, n_img, ch, cw, h, w):
    """Sample coordinates of each box: (ys [N, ch], xs [N, cw]) in float32 pixels."""
    b = xp.astype(boxes, np.float32)
    y1, x1, y2, x2 = b[:, 0:1], b[:, 1:2], b[:, 2:3], b[:, 3:4]
    hm, wm = np.float32(h - 1), np.float32(w - 1)
    if ch > 1:
        ry = xp.reshape(xp.arange(ch, dtype=np.float32), (1, ch))
        ys = y1 * hm + ry * ((y2 - y1) * hm / np.float32(ch - 1))
    else:
        ys = np.float32(0.5) * (y1 + y2) * hm
    if cw > 1:
        rx = xp.reshape(xp.arange(cw, dtype=np.float32), (1, cw))
        xs = x1 * wm + rx * ((x2 - x1) * wm / np.float32(cw - 1))
    else:
        xs = np.float32(0.5) * (x1 + x2) * wm
    return ys, xs


def _check_crop_args(op, image_shape, boxes, box_index, ch, cw):
    if len(image_shape) != 4:
        raise op_error(
            InvalidArgumentError, op, f"input image must be 4-D, got shape {list(image_shape)}"
        )
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise op_error(
            InvalidArgumentError, op, f"boxes must be 2-D [num_boxes, 4], got {list(boxes.shape)}"
        )
    if box_index.ndim != 1 or box_index.shape[0] != boxes.shape[0]:
        raise op_error(
            InvalidArgumentError,
            op,
            f"box_index has incompatible shape: boxes {list(boxes.shape)}, box_index "
            f"{list(box_index.shape)}",
        )
    if ch <= 0 or cw <= 0:
        raise op_error(
            InvalidArgumentError, op, f"crop dimensions must be positive, got {[ch, cw]}"
        )
    n_img = image_shape[0]
    # a traced box_index (compiled by XLA) cannot be checked: XLA's gather clamps it
    traced = not isinstance(box_index, (np.ndarray, np.generic))
    if (
        not traced
        and box_index.shape[0]
        and (int(box_index.min()) < 0 or int(box_index.max()) >= n_img)
    ):
        raise op_error(
            OutOfRangeError, op, f"box_index has values outside [0, batch_size = {n_img})"
        )


class _Corners:
    """Per box and output pixel: the four neighbours' indices, the lerp weights and
    whether the sample lies inside the image (bilinear), or the nearest index."""

    def __init__(self, xp, boxes, box_index, ch, cw, h, w, method):
        ys, xs = _crop_coords(xp, boxes, None, ch, cw, h, w)
        n = boxes.shape[0]
        ys = xp.broadcast_to(ys, (n, ch))
        xs = xp.broadcast_to(xs, (n, cw))
        self.ys, self.xs = ys, xs
        self.vy = (ys >= 0) & (ys <= np.float32(h - 1))
        self.vx = (xs >= 0) & (xs <= np.float32(w - 1))
        self.b = xp.reshape(xp.astype(box_index, np.int64), (n, 1, 1))
        if method == "nearest":
            self.ny = xp.astype(xp.clip(xp.floor(ys + np.float32(0.5)), 0, h - 1), np.int64)
            self.nx = xp.astype(xp.clip(xp.floor(xs + np.float32(0.5)), 0, w - 1), np.int64)
            return
        fy, fx = xp.floor(ys), xp.floor(xs)
        self.y0 = xp.astype(xp.clip(fy, 0, h - 1), np.int64)
        self.y1 = xp.astype(xp.clip(xp.ceil(ys), 0, h - 1), np.int64)
        self.x0 = xp.astype(xp.clip(fx, 0, w - 1), np.int64)
        self.x1 = xp.astype(xp.clip(xp.ceil(xs), 0, w - 1), np.int64)
        self.ly = ys - fy
        self.lx = xs - fx

    def valid(self, xp):
        return self.vy[:, :, None] & self.vx[:, None, :]


def _crop_kernel(
    image, boxes, box_index, crop_size, method="bilinear", extrapolation_value=0.0, *, xp=np
):
    op = "CropAndResize"
    ch, cw = int(crop_size[0]), int(crop_size[1])
    _check_crop_args(op, image.shape, boxes, box_index, ch, cw)
    if method not in ("bilinear", "nearest"):
        raise op_error(
            InvalidArgumentError, op, f"method must be 'bilinear' or 'nearest', got {method!r}"
        )
    n, (_, h, w, c) = boxes.shape[0], image.shape
    if n == 0 or h == 0 or w == 0:
        return xp.full((n, ch, cw, c), np.float32(extrapolation_value), dtype=np.float32)
    k = _Corners(xp, boxes, box_index, ch, cw, h, w, method)
    if method == "nearest":
        out = xp.astype(image[k.b, k.ny[:, :, None], k.nx[:, None, :]], np.float32)
    else:

        def at(yi, xi):
            return xp.astype(image[k.b, yi[:, :, None], xi[:, None, :]], np.float32)

        lx = k.lx[:, None, :, None]
        tl, tr = at(k.y0, k.x0), at(k.y0, k.x1)
        top = tl + (tr - tl) * lx
        bl, br = at(k.y1, k.x0), at(k.y1, k.x1)
        bottom = bl + (br - bl) * lx
        out = top + (bottom - top) * k.ly[:, :, None, None]
    fill = xp.asarray(np.float32(extrapolation_value))
    return xp.where(k.valid(xp)[..., None], out, fill)


def _crop_rule(image, boxes, box_index, crop_size, method="bilinear", extrapolation_value=0.0):
    op = "CropAndResize"
    if image.rank is not None and image.rank != 4:
        raise op_error(
            InvalidArgumentError, op, f"input image must be 4-D, got shape {image.shape}"
        )
    if boxes.rank is not None and (boxes.rank != 2 or boxes.shape[1] not in (None, 4)):
        raise op_error(
            InvalidArgumentError, op, f"boxes must be 2-D [num_boxes, 4], got {boxes.shape}"
        )
    h, w = _static_size(op, crop_size)
    n = boxes.shape[0] if boxes.rank is not None else None
    c = image.shape[3] if image.rank is not None else None
    return AVal([n, h, w, c], _d.float32)


def _crop_grad_image_kernel(grads, boxes, box_index, image_size, T, method="bilinear", *, xp=np):  # noqa: N803
    op = "CropAndResizeGradImage"
    dims = [int(v) for v in image_size]
    nb, h, w, c = dims
    n, ch, cw = grads.shape[0], grads.shape[1], grads.shape[2]
    _check_crop_args(op, dims, boxes, box_index, ch, cw)
    size = nb * h * w * c
    if n == 0 or size == 0:
        return xp.zeros(dims, dtype=T.as_numpy_dtype)
    k = _Corners(xp, boxes, box_index, ch, cw, h, w, method)
    g = xp.where(k.valid(xp)[..., None], xp.astype(grads, np.float64), 0.0)
    chan = xp.reshape(xp.arange(c, dtype=np.int64), (1, 1, 1, c))

    def flat(yi, xi):
        return ((k.b[..., None] * h + yi[:, :, None, None]) * w + xi[:, None, :, None]) * c + chan

    if method == "nearest":
        idx, wts = [flat(k.ny, k.nx)], [g]
    else:
        ly = xp.astype(k.ly, np.float64)[:, :, None, None]
        lx = xp.astype(k.lx, np.float64)[:, None, :, None]
        idx = [flat(k.y0, k.x0), flat(k.y0, k.x1), flat(k.y1, k.x0), flat(k.y1, k.x1)]
        wts = [g * (1 - ly) * (1 - lx), g * (1 - ly) * lx, g * ly * (1 - lx), g * ly * lx]
    full_idx = xp.concat([xp.reshape(xp.broadcast_to(i, g.shape), (-1,)) for i in idx])
    full_w = xp.concat([xp.reshape(v, (-1,)) for v in wts])
    out = xp.bincount(full_idx, weights=full_w, minlength=size)
    return xp.reshape(xp.astype(out, T.as_numpy_dtype), dims)


def _crop_grad_image_rule(grads, boxes, box_index, image_size, T, method="bilinear"):  # noqa: N803
    if image_size.value is not None:
        return AVal([int(v) for v in np.asarray(image_size.value).reshape(-1)], T)
    return AVal([None] * 4, T)


def _crop_grad_boxes_kernel(grads, image, boxes, box_index, method="bilinear", *, xp=np):
    op = "CropAndResizeGradBoxes"
    n, ch, cw = grads.shape[0], grads.shape[1], grads.shape[2]
    _check_crop_args(op, image.shape, boxes, box_index, ch, cw)
    _, h, w, _ = image.shape
    if n == 0:
        return xp.zeros((0, 4), dtype=np.float32)
    k = _Corners(xp, boxes, box_index, ch, cw, h, w, "bilinear")

    def at(yi, xi):
        return xp.astype(image[k.b, yi[:, :, None], xi[:, None, :]], np.float32)

    tl, tr, bl, br = at(k.y0, k.x0), at(k.y0, k.x1), at(k.y1, k.x0), at(k.y1, k.x1)
    lx = k.lx[:, None, :, None]
    ly = k.ly[:, :, None, None]
    top = tl + (tr - tl) * lx
    bottom = bl + (br - bl) * lx
    g = xp.where(k.valid(xp)[..., None], xp.astype(grads, np.float32), np.float32(0))
    d_y = xp.sum(g * (bottom - top), axis=3)  # [N, ch, cw]
    d_x = xp.sum(g * ((tr - tl) * (1 - ly) + (br - bl) * ly), axis=3)
    hm, wm = np.float32(h - 1), np.float32(w - 1)
    if ch > 1:
        r = xp.reshape(xp.arange(ch, dtype=np.float32), (1, ch, 1)) / np.float32(ch - 1)
        dy1 = xp.sum(d_y * (hm - r * hm), axis=(1, 2))
        dy2 = xp.sum(d_y * (r * hm), axis=(1, 2))
    else:
        dy1 = dy2 = xp.sum(d_y, axis=(1, 2)) * (np.float32(0.5) * hm)
    if cw > 1:
        r = xp.reshape(xp.arange(cw, dtype=np.float32), (1, 1, cw)) / np.float32(cw - 1)
        dx1 = xp.sum(d_x * (wm - r * wm), axis=(1, 2))
        dx2 = xp.sum(d_x * (r * wm), axis=(1, 2))
    else:
        dx1 = dx2 = xp.sum(d_x, axis=(1, 2)) * (np.float32(0.5) * wm)
    return xp.astype(xp.stack([dy1, dx1, dy2, dx2], axis=1), np.float32)


def _crop_grad_boxes_rule(grads, image, boxes, box_index, method="bilinear"):
    n = boxes.shape[0] if boxes.rank is not None else None
    return AVal([n, 4], _d.float32)


def _crop_grad(inputs, out, dy, method="bilinear", extrapolation_value=0.0):
    image, boxes, box_index = inputs[0], inputs[1], inputs[2]
    gi = None
    if image.dtype in (_d.float16, _d.float32, _d.float64):
        gi = bind(
            crop_grad_image_p,
            (dy, boxes, box_index, shape(image)),
            {"T": image.dtype, "method": method},
        )
    gb = bind(crop_grad_boxes_p, (dy, image, boxes, box_index), {"method": "bilinear"})
    return gi, cast(gb, boxes.dtype), None, None


crop_and_resize_p = primitive(
    "CropAndResize",
    _crop_kernel,
    _crop_rule,
    _crop_grad,
    dtypes=_IMAGE_DTYPES,
    n_typed=1,
    saves=(0, 1, 2),
    saves_output=False,
)
crop_grad_image_p = primitive(
    "CropAndResizeGradImage",
    _crop_grad_image_kernel,
    _crop_grad_image_rule,
    lambda inputs, out, g, T, method="bilinear": (
        cast(
            bind(
                crop_and_resize_p,
                (g, inputs[1], inputs[2], strided_slice(shape(inputs[0]), [1], [3], [1])),
                {"method": method, "extrapolation_value": 0.0},
            ),
            inputs[0].dtype,
        ),
        None,
        None,
        None,
    ),  # fmt: skip
    saves=(1, 2),
    saves_output=False,
)
crop_grad_boxes_p = primitive(
    "CropAndResizeGradBoxes",
    _crop_grad_boxes_kernel,
    _crop_grad_boxes_rule,
)


@tf_export("image.crop_and_resize")
def crop_and_resize(
    image, boxes, box_indices, crop_size, method="bilinear", extrapolation_value=0.0, name=None
):
    """Crop boxes (normalised [y1, x1, y2, x2]) out of a batch of images and resize each
    crop to ``crop_size``: float32 [num_boxes, crop_height, crop_width, depth]."""
    image = convert_to_tensor(image)
    boxes = convert_to_tensor(boxes, dtype=_d.float32)
    box_indices = convert_to_tensor(box_indices, dtype=_d.int32)
    crop_size = convert_to_tensor(crop_size, dtype=_d.int32)
    if method not in ("bilinear", "nearest"):
        raise ValueError(f"method must be 'bilinear' or 'nearest', got {method!r}")
    params = {"method": method, "extrapolation_value": float(extrapolation_value)}
    return bind(crop_and_resize_p, (image, boxes, box_indices, crop_size), params)


# --------------------------------------------------------------------------------------
# ExtractGlimpse
# --------------------------------------------------------------------------------------


def _glimpse_kernel(
    images,
    size,
    offsets,
    centered=True,
    normalized=True,
    uniform_noise=True,
    noise="uniform",
    *,
    xp=np,
):
    op = "ExtractGlimpseV2"
    if images.ndim != 4:
        raise op_error(
            InvalidArgumentError, op, f"input must be 4-dimensional, got {list(images.shape)}"
        )
    n, h, w, c = images.shape
    gh, gw = int(size[0]), int(size[1])
    if offsets.ndim != 2 or offsets.shape[0] != n or offsets.shape[1] != 2:
        raise op_error(
            InvalidArgumentError,
            op,
            f"offsets must be [batch_size, 2] = {[n, 2]}, got {list(offsets.shape)}",
        )
    if gh <= 0 or gw <= 0:
        raise op_error(InvalidArgumentError, op, f"glimpse size must be positive, got {[gh, gw]}")
    # the glimpse's top-left corner, as TF's ExtractGlimpseV2 places it: only a centred,
    # normalised offset is the glimpse's centre; every other offset is its corner
    off = xp.astype(offsets, np.float32)
    oy, ox = off[:, 0], off[:, 1]
    fh, fw = np.float32(h), np.float32(w)
    if normalized and centered:
        oy = (oy + np.float32(1)) * fh / np.float32(2) - np.float32(gh) / np.float32(2)
        ox = (ox + np.float32(1)) * fw / np.float32(2) - np.float32(gw) / np.float32(2)
    elif normalized:
        oy, ox = oy * fh, ox * fw
    elif centered:
        oy, ox = oy + fh / np.float32(2), ox + fw / np.float32(2)
    y0, x0 = xp.trunc(oy), xp.trunc(ox)
    ys = xp.astype(y0, np.int64)[:, None] + xp.arange(gh, dtype=np.int64)[None]
    xs = xp.astype(x0, np.int64)[:, None] + xp.arange(gw, dtype=np.int64)[None]
    vy = (ys >= 0) & (ys < h)
    vx = (xs >= 0) & (xs < w)
    b = xp.reshape(xp.arange(n, dtype=np.int64), (n, 1, 1))
    vals = images[
        b, xp.clip(ys, 0, max(h - 1, 0))[:, :, None], xp.clip(xs, 0, max(w - 1, 0))[:, None, :]
    ]
    inside = (vy[:, :, None] & vx[:, None, :])[..., None]
    if noise not in ("uniform", "gaussian", "zero", ""):
        raise op_error(
            InvalidArgumentError,
            op,
            f"The noise could only be uniform, gaussian, or zero, got {noise!r}",
        )
    if noise == "zero" or h == 0 or w == 0 or n == 0:
        fill = xp.zeros((), dtype=images.dtype)
    else:
        fill = _glimpse_noise(xp, images, noise, (n, gh, gw, c))
    return xp.where(inside, vals, fill)


def _glimpse_noise(xp, images, noise, shape):
    """Out-of-image pixels: uniform noise between each image's smallest and largest value,
    or Gaussian noise with each image's per-channel mean and standard deviation, clipped to
    the channel's range."""
    x = xp.astype(images, np.float64)
    rng = np.random.default_rng()
    if noise == "gaussian":
        mean = xp.mean(x, axis=(1, 2), keepdims=True)
        std = xp.std(x, axis=(1, 2), keepdims=True)
        r = xp.asarray(rng.standard_normal(shape))
        lo = xp.min(x, axis=(1, 2), keepdims=True)
        hi = xp.max(x, axis=(1, 2), keepdims=True)
        return xp.astype(xp.clip(mean + std * r, lo, hi), images.dtype)
    lo = xp.min(x, axis=(1, 2, 3), keepdims=True)
    hi = xp.max(x, axis=(1, 2, 3), keepdims=True)
    r = xp.asarray(rng.random(shape))
    return xp.astype(lo + (hi - lo) * r, images.dtype)


def _glimpse_rule(
    images, size, offsets, centered=True, normalized=True, uniform_noise=True, noise="uniform"
):
    op = "ExtractGlimpseV2"
    if images.rank is not None and images.rank != 4:
        raise op_error(InvalidArgumentError, op, f"input must be 4-dimensional, got {images.shape}")
    if noise not in ("uniform", "gaussian", "zero", ""):
        raise op_error(
            InvalidArgumentError, op, f"noise must be uniform, gaussian or zero, got {noise!r}"
        )
    h, w = (
        _static_size(op, size)
        if size.value is None or min(np.asarray(size.value)) > 0
        else (None, None)
    )
    n, c = (None, None) if images.rank is None else (images.shape[0], images.shape[3])
    return AVal([n, h, w, c], images.dtype)


extract_glimpse_p = primitive(
    "ExtractGlimpseV2",
    lambda images, size, offsets, **p: _glimpse_kernel(images, size, offsets, **p, xp=np),
    _glimpse_rule,
    dtypes=frozenset({_d.float32}),
    n_typed=1,
    stateful=True,
    host=True,  # its noise comes from NumPy's random generator
)


@tf_export("image.extract_glimpse")
def extract_glimpse(
    input,
    size,
    offsets,
    centered=True,
    normalized=True,
    noise="uniform",
    name=None,  # noqa: A002
):
    """Windows of ``size`` (height, width) from each image of ``input`` [N, H, W, C], at
    ``offsets`` [N, 2] (y, x; centred and/or normalised as the flags say). Pixels outside
    the image are filled with ``noise``: "uniform", "gaussian" or "zero"."""
    images = convert_to_tensor(input, dtype=_d.float32)
    size = convert_to_tensor(size, dtype=_d.int32)
    offsets = convert_to_tensor(offsets, dtype=_d.float32)
    params = {
        "centered": bool(centered),
        "normalized": bool(normalized),
        "uniform_noise": False,
        "noise": noise,
    }
    return bind(extract_glimpse_p, (images, size, offsets), params)
