"""Sliding windows: the kernels behind every convolution and pooling op, and the window ops.

Every window op reads its input through the window's taps: tap ``(t0, t1, ...)`` of every
window at once is one strided slice of the (padded) channels-last input. On that:

- ``im2col`` gathers the windows into a patch matrix (one row per output position,
  taps major and channels minor), so that a convolution is one matmul with its filter
  reshaped to ``(kh * kw * C, out)`` and its filter gradient one matmul with the upstream
  gradient. With NumPy the patch matrix is one copy of a strided view (``as_strided``);
  single-channel inputs are gathered tap by tap into a taps-major matrix (long contiguous
  copies) and handed over transposed, a free view the matmul reads as it is.
- ``col2im``, its transpose, scatter-adds a patch matrix back onto the input: one strided
  add per tap (a plain store when windows do not overlap). A convolution's input gradient
  is one matmul and ``col2im``.
- ``window_max`` is the maximum over the taps, and ``first_max_masks`` marks, tap by tap
  in row-major window order, the windows whose first maximum the tap holds: max pooling's
  gradient and argmax without revisiting the windows, ties going to the first maximum as
  in TF.

conv_ops builds the convolution and pooling primitives of ``tf.nn`` (and so the Keras
layers) on these kernels; this module declares the window ops themselves:
``ExtractImagePatches`` (``tf.image.extract_patches``, ``tf.extract_volume_patches``) and
its transpose, and ``MaxPoolWithArgmax`` with its gradients. Everything is rank-generic
over the spatial dims (their number is ``len(ksizes)``) and takes the array namespace
``xp``; NumPy gets the strided-view and in-place fast paths (``xp is np``), any other
namespace the same results through plain slicing and arithmetic.
"""

from __future__ import annotations

import functools
import itertools
import math
import threading

import numpy as np

from rill.core import dtypes as _d
from rill.ops import lowering_math as _lowering
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    TensorShape,
    bind,
    convert_to_tensor,
    op_error,
    primitive,
    tf_export,
)
from rill.ops.array_ops import shape

__all__ = ["extract_patches", "extract_volume_patches", "max_pool_with_argmax"]

_PATCH_DTYPES = _d.REAL
_POOL_DTYPES = _d.REAL

# --------------------------------------------------------------------------------------
# Geometry (Python ints; None = unknown)
# --------------------------------------------------------------------------------------


def window_geometry(spatial, ksizes, strides, rates, padding, explicit=()):
    """Per spatial axis: ((pad before, pad after), output size), None where unknown.

    ``padding`` is "VALID", "SAME" (TF's arithmetic: the odd element of padding goes at
    the end) or "EXPLICIT" with ``explicit`` the (before, after) pairs."""
    return _geometry(tuple(spatial), tuple(ksizes), tuple(strides), tuple(rates), padding,
                     tuple(tuple(p) for p in explicit))  # fmt: skip


@functools.lru_cache(maxsize=512)
def _geometry(spatial, ksizes, strides, rates, padding, explicit):
    pads, out = [], []
    for i, (n, k, s, r) in enumerate(zip(spatial, ksizes, strides, rates)):
        if padding == "EXPLICIT":
            p = explicit[i]
        elif padding == "VALID":
            p = (0, 0)
        elif n is None or k is None:
            p = None
        else:
            total = max((-(-n // s) - 1) * s + (k - 1) * r + 1 - n, 0)
            p = (total // 2, total - total // 2)
        pads.append(p)
        if n is None or k is None or p is None:
            out.append(None)
        else:
            full = n + p[0] + p[1] - (k - 1) * r - 1
            out.append(full // s + 1 if full >= 0 else 0)
    return pads, out


@functools.lru_cache(maxsize=512)
def tap_index(ksizes, strides, rates, out):
    """Per window tap (row-major): the index of the strided slice of the padded input
    ``(N, *S, C)`` that the tap reads, one element per output position."""
    return tuple(
        (slice(None),)
        + tuple(slice(t * r, t * r + (o - 1) * s + 1, s)
                for t, r, o, s in zip(tap, rates, out, strides))
        + (slice(None),)
        for tap in itertools.product(*[range(k) for k in ksizes])
    )  # fmt: skip


def overlapping(ksizes, strides, rates):
    """Whether two taps can read the same input element (else scatters are plain stores)."""
    return any(k > 1 and s < (k - 1) * r + 1 for k, s, r in zip(ksizes, strides, rates))


def pad_spatial(xp, x, pads, value=0):
    """``x`` (N, *S, C) with ``pads`` (before, after) around each spatial axis."""
    if not any(a or b for a, b in pads):
        return x
    shp = (x.shape[0], *(n + a + b for n, (a, b) in zip(x.shape[1:-1], pads)), x.shape[-1])
    if value == 0:
        out = xp.zeros(shp, dtype=x.dtype)
    else:
        out = xp.full(shp, value, dtype=x.dtype)
    out[crop_index(pads, x.shape[1:-1])] = x
    return out


def crop_index(pads, spatial):
    """The index of the unpadded input in a padded one."""
    return (
        (slice(None),) + tuple(slice(a, a + n) for (a, _), n in zip(pads, spatial)) + (slice(None),)
    )


# --------------------------------------------------------------------------------------
# Kernels: arrays of the namespace ``xp`` in and out, channels last, one batch dim
# --------------------------------------------------------------------------------------

_SCRATCH = threading.local()
_SCRATCH_MAX = 1 << 25  # bytes (32 MiB): larger temporaries are allocated afresh


def scratch(xp, shape, dtype):
    """An uninitialised array for a kernel's own temporary, which it must not return: with
    NumPy, a view of a per-thread buffer reused by every call, so that a large temporary
    (a patch matrix is megabytes) does not fault in fresh pages each time. Valid until the
    next ``scratch`` on this thread."""
    if xp is not np:
        return xp.empty(shape, dtype=dtype)
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > _SCRATCH_MAX:
        return np.empty(shape, dtype=dtype)
    buf = getattr(_SCRATCH, "buf", None)
    if buf is None or buf.nbytes < nbytes:
        buf = _SCRATCH.buf = np.empty(nbytes, dtype=np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)


def im2col(xp, x, ksizes, strides, rates, pads, out, groups=1, temporary=False):
    """The patch matrices of ``x`` (N, *S, C): ``(groups, M, K)`` with one row per output
    position (``M = N * prod(out)``, row-major) and ``K = prod(ksizes) * C / groups``
    columns, taps major and the group's channels minor. The matrix may be a transposed
    view (only matmuls read it), and with ``temporary`` a ``scratch`` buffer."""
    alloc = functools.partial(scratch, xp) if temporary else _empty(xp)
    n, c = x.shape[0], x.shape[-1]
    cg = c // groups
    taps = tap_index(tuple(ksizes), tuple(strides), tuple(rates), tuple(out))
    kk, m = len(taps), n * math.prod(out)
    xpd = pad_spatial(xp, x, pads)
    if kk == 1 and groups == 1:
        return xp.reshape(xpd[taps[0]], (1, m, c))
    if c == 1:  # taps major: each tap is one long copy; the transpose is free
        buf = alloc((kk, n, *out), x.dtype)
        for t, idx in enumerate(taps):
            buf[t] = xpd[idx][..., 0]
        return xp.reshape(buf, (1, kk, m)).transpose(0, 2, 1)
    if xp is np:  # one copy of a strided view of every window
        st = xpd.strides
        view = np.lib.stride_tricks.as_strided(
            xpd,
            (groups, n, *out, *ksizes, cg),
            (cg * st[-1], st[0], *(s * st[1 + i] for i, s in enumerate(strides)),
             *(r * st[1 + i] for i, r in enumerate(rates)), st[-1]),
            writeable=False,
        )  # fmt: skip
        cols = alloc((groups, m, kk * cg), x.dtype)
        np.copyto(cols.reshape(view.shape), view)
        return cols
    buf = alloc((n, *out, kk, c), x.dtype)
    for t, idx in enumerate(taps):
        buf[..., t, :] = xpd[idx]
    if groups == 1:
        return xp.reshape(buf, (1, m, kk * c))
    buf = xp.reshape(buf, (m, kk, groups, cg)).transpose(2, 0, 1, 3)
    return xp.reshape(buf, (groups, m, kk * cg))


def _empty(xp):
    return lambda shape, dtype: xp.empty(shape, dtype=dtype)


def col2im(xp, cols, n, spatial, ksizes, strides, rates, pads, out):
    """The transpose of ``im2col`` (one group): scatter-add the patch matrix ``cols``
    (M, K) back onto an input of shape (N, *spatial, C)."""
    taps = tap_index(tuple(ksizes), tuple(strides), tuple(rates), tuple(out))
    kk = len(taps)
    c = cols.shape[-1] // kk
    p = xp.reshape(cols, (n, *out, kk, c))
    padded = tuple(s + a + b for s, (a, b) in zip(spatial, pads))
    if kk == 1 and tuple(out) == padded and all(s == 1 for s in strides):
        dx = p[..., 0, :]
    else:
        dx = xp.zeros((n, *padded, c), dtype=cols.dtype)
        add = overlapping(ksizes, strides, rates)
        for t, idx in enumerate(taps):
            if not add:
                dx[idx] = p[..., t, :]
            elif xp is np:
                v = dx[idx]
                np.add(v, p[..., t, :], out=v)
            else:
                dx[idx] = dx[idx] + p[..., t, :]
    if any(a or b for a, b in pads):
        dx = dx[crop_index(pads, spatial)]
    return dx


def window_max(xp, xpd, taps):
    """The maximum over the window taps of the padded input (a new array)."""
    y = xp.maximum(xpd[taps[0]], xpd[taps[1]]) if len(taps) > 1 else None
    for idx in taps[2:]:
        if xp is np:
            np.maximum(y, xpd[idx], out=y)
        else:
            y = xp.maximum(y, xpd[idx])
    return xp.asarray(xpd[taps[0]], copy=True) if y is None else y


def first_max_masks(xp, xpd, y, taps):
    """Per tap, in row-major window order: ``(index, mask)``, the mask true at the windows
    whose first maximum ``y`` this tap holds (each window has at most one; a window whose
    maximum is NaN has it at its first NaN, as an argmax would). A mask is only valid until
    the next one is drawn."""
    last = len(taps) - 1
    nan = y.dtype.kind == "f" and bool(xp.any(xp.isnan(y)))
    if xp is np:
        claimed = None
        for k, idx in enumerate(taps):
            m = np.equal(xpd[idx], y)
            if nan:
                m |= np.isnan(xpd[idx])
            if k:
                np.greater(m, claimed, out=m)  # and not claimed before
                if k < last:
                    np.logical_or(claimed, m, out=claimed)
            yield idx, m
            if not k:
                claimed = m  # its consumer is done with it: it becomes the running union
        return
    claimed = None
    for k, idx in enumerate(taps):
        m = xpd[idx] == y
        if nan:
            m = xp.logical_or(m, xp.isnan(xpd[idx]))
        if claimed is not None:
            m = xp.logical_and(m, xp.logical_not(claimed))
        if k < last:
            claimed = m if claimed is None else xp.logical_or(claimed, m)
        yield idx, m


def fill_min(dtype):
    """The padding value that never wins a maximum."""
    return np.iinfo(dtype).min if dtype.kind in "iu" else -np.inf


# --------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------


def _check_input(op, dims, sr):
    if len(dims) != sr + 2:
        raise op_error(
            InvalidArgumentError, op,
            f"input must be {sr + 2}-dimensional (batch, {sr} spatial, channels), got shape {dims}",
        )  # fmt: skip


def _check_params(op, ksizes, strides, rates, padding):
    if padding not in ("SAME", "VALID"):
        raise op_error(InvalidArgumentError, op, f"padding must be SAME or VALID, got {padding!r}")
    if not len(ksizes) == len(strides) == len(rates):
        raise op_error(
            InvalidArgumentError,
            op,
            f"ksizes {list(ksizes)}, strides {list(strides)} and rates {list(rates)} must "
            "have one entry per spatial dimension",
        )
    for name, v in (("ksizes", ksizes), ("strides", strides), ("rates", rates)):
        if any(int(t) < 1 for t in v):
            raise op_error(InvalidArgumentError, op, f"{name} must all be >= 1, got {list(v)}")


# --------------------------------------------------------------------------------------
# ExtractImagePatches and its transpose
# --------------------------------------------------------------------------------------


def _patches_rule(x, ksizes, strides, rates, padding):
    op = "ExtractImagePatches"
    _check_params(op, ksizes, strides, rates, padding)
    if x.rank is None:
        return AVal(TensorShape(None), x.dtype)
    dims = x.shape.as_list()
    _check_input(op, dims, len(ksizes))
    _, out = window_geometry(dims[1:-1], ksizes, strides, rates, padding)
    c = dims[-1]
    depth = None if c is None else c * math.prod(ksizes)
    return AVal([dims[0], *out, depth], x.dtype)


def _patches_kernel(x, ksizes, strides, rates, padding, xp=np):
    _check_input("ExtractImagePatches", list(x.shape), len(ksizes))
    pads, out = window_geometry(x.shape[1:-1], ksizes, strides, rates, padding)
    n, c = x.shape[0], x.shape[-1]
    depth = math.prod(ksizes) * c
    if n == 0 or 0 in out or c == 0:
        return xp.zeros((n, *out, depth), dtype=x.dtype)
    return xp.reshape(im2col(xp, x, ksizes, strides, rates, pads, out)[0], (n, *out, depth))


def _col2im_rule(sizes, patches, ksizes, strides, rates, padding):
    sr = len(ksizes)
    if sizes.value is not None:
        return AVal([int(v) for v in np.asarray(sizes.value).reshape(-1)], patches.dtype)
    return AVal([None] * (sr + 2), patches.dtype)


def col2im_geometry(dims, patches_shape, ksizes, strides, rates, padding):
    """``(n, spatial, c, pads, out)`` of ExtractImagePatchesGrad onto an input of ``dims``,
    checking that patches of ``patches_shape`` fit it (shared with the XLA lowering)."""
    n, spatial, c = dims[0], dims[1:-1], dims[-1]
    pads, out = window_geometry(spatial, ksizes, strides, rates, padding)
    if list(patches_shape[1:-1]) != list(out) or patches_shape[-1] != c * math.prod(ksizes):
        raise op_error(
            InvalidArgumentError, "ExtractImagePatchesGrad",
            f"patches of shape {list(patches_shape)} do not match input shape {dims} "
            f"(expected spatial output {out})",
        )  # fmt: skip
    return n, spatial, c, pads, out


def _col2im_kernel(sizes, patches, ksizes, strides, rates, padding, xp=np):
    """Scatter-add patches ``(N, *out, kk * C)`` back onto an input of shape ``sizes``."""
    dims = [int(v) for v in sizes]
    n, spatial, c, pads, out = col2im_geometry(dims, patches.shape, ksizes, strides, rates, padding)
    if n == 0 or 0 in out or c == 0:
        return xp.zeros((n, *spatial, c), dtype=patches.dtype)
    cols = xp.reshape(patches, (-1, patches.shape[-1]))
    return col2im(xp, cols, n, spatial, ksizes, strides, rates, pads, out)


patches_p = primitive(
    "ExtractImagePatches",
    _patches_kernel,
    _patches_rule,
    lambda inputs, out, dy, **p: (bind(col2im_p, (shape(inputs[0]), dy), p),),
    dtypes=_PATCH_DTYPES,
    saves=(),
    saves_output=False,
    lowering=_lowering.extract_patches,
)
col2im_p = primitive(
    "ExtractImagePatchesGrad",
    _col2im_kernel,
    _col2im_rule,
    lambda inputs, out, g, **p: (None, bind(patches_p, (g,), p)),
    saves=(),
    saves_output=False,
    lowering=_lowering.extract_patches_grad,
)


def _window_param(v, sr, name, op):
    """TF's ``[1, k..., 1]`` list (or an int, or one entry per spatial dim) -> spatial ints."""
    vals = [int(t) for t in np.asarray(v).reshape(-1)]
    if len(vals) == 1:
        return tuple(vals * sr)
    if len(vals) == sr:
        return tuple(vals)
    if len(vals) == sr + 2:
        if vals[0] != 1 or vals[-1] != 1:
            raise op_error(
                InvalidArgumentError, op,
                f"{name} must be 1 in the batch and depth dimensions, got {vals}",
            )  # fmt: skip
        return tuple(vals[1:-1])
    raise ValueError(f"{op}: {name} must have {sr + 2} entries [1, ..., 1], got {vals}")


def _padding(padding, op):
    if not isinstance(padding, str) or padding.upper() not in ("SAME", "VALID"):
        raise ValueError(f'{op}: padding must be "SAME" or "VALID", got {padding!r}')
    return padding.upper()


@tf_export("image.extract_patches")
def extract_patches(images, sizes, strides, rates, padding, name=None):
    """Every ``sizes`` window of a ``[N, H, W, C]`` image, flattened into the last axis:
    ``[N, out_h, out_w, kh * kw * C]`` (window rows, then columns, then channels)."""
    op = "ExtractImagePatches"
    x = convert_to_tensor(images)
    if x.shape.rank is not None and x.shape.rank != 4:
        raise ValueError(f"{op}: images must be 4-D [batch, rows, cols, depth], got {x.shape}")
    params = {
        "ksizes": _window_param(sizes, 2, "sizes", op),
        "strides": _window_param(strides, 2, "strides", op),
        "rates": _window_param(rates, 2, "rates", op),
        "padding": _padding(padding, op),
    }
    _check_params(op, **params)
    return bind(patches_p, (x,), params)


@tf_export("extract_volume_patches")
def extract_volume_patches(input, ksizes, strides, padding, name=None):  # noqa: A002
    """Every ``ksizes`` window of a ``[N, D, H, W, C]`` volume, flattened into the last axis."""
    op = "ExtractVolumePatches"
    x = convert_to_tensor(input)
    if x.shape.rank is not None and x.shape.rank != 5:
        raise ValueError(
            f"{op}: input must be 5-D [batch, planes, rows, cols, depth], got {x.shape}"
        )
    params = {
        "ksizes": _window_param(ksizes, 3, "ksizes", op),
        "strides": _window_param(strides, 3, "strides", op),
        "rates": (1, 1, 1),
        "padding": _padding(padding, op),
    }
    _check_params(op, **params)
    return bind(patches_p, (x,), params)


# --------------------------------------------------------------------------------------
# MaxPoolWithArgmax and its gradients
# --------------------------------------------------------------------------------------


def _pool_rule(x, ksize, strides, padding, include_batch_in_index, Targmax):  # noqa: N803
    op = "MaxPoolWithArgmax"
    sr = len(ksize)
    _check_params(op, ksize, strides, (1,) * sr, padding)
    if x.rank is None:
        return AVal(TensorShape(None), x.dtype), AVal(TensorShape(None), Targmax)
    dims = x.shape.as_list()
    _check_input(op, dims, sr)
    _, out = window_geometry(dims[1:-1], ksize, strides, (1,) * sr, padding)
    shp = [dims[0], *out, dims[-1]]
    return AVal(shp, x.dtype), AVal(shp, Targmax)


def _pool_kernel(x, ksize, strides, padding, include_batch_in_index, Targmax, xp=np):  # noqa: N803
    sr = len(ksize)
    _check_input("MaxPoolWithArgmax", list(x.shape), sr)
    spatial = list(x.shape[1:-1])
    ones = (1,) * sr
    pads, out = window_geometry(spatial, ksize, strides, ones, padding)
    n, c = x.shape[0], x.shape[-1]
    idt = Targmax.as_numpy_dtype
    if n == 0 or 0 in out or c == 0:
        shp = (n, *out, c)
        return xp.zeros(shp, dtype=x.dtype), xp.zeros(shp, dtype=idt)
    xpd = pad_spatial(xp, x, pads, fill_min(x.dtype))
    taps = tap_index(tuple(ksize), tuple(strides), ones, tuple(out))
    y = window_max(xp, xpd, taps)
    # flat index into the unpadded input, ((b * S0 + p0) * S1 + p1 ...) * C + c: the
    # winning tap's offset in its window plus the window's corner
    step = [math.prod(spatial[i + 1 :]) * c for i in range(sr)]
    offsets = [
        sum(t * st for t, st in zip(tap, step)) for tap in itertools.product(*map(range, ksize))
    ]
    flat = xp.reshape(xp.arange(c, dtype=xp.int64), (1,) * (sr + 1) + (c,))
    for i in range(sr):
        o = xp.arange(out[i], dtype=xp.int64) * strides[i] - pads[i][0]
        flat = flat + xp.reshape(o * step[i], (1,) * (1 + i) + (out[i],) + (1,) * (sr - i))
    if include_batch_in_index:
        b = xp.arange(n, dtype=xp.int64) * (math.prod(spatial) * c)
        flat = flat + xp.reshape(b, (n,) + (1,) * (sr + 1))
    for (_, m), off in zip(first_max_masks(xp, xpd, y, taps), offsets):
        if off:
            flat = flat + xp.astype(m, xp.int64) * off
    return y, xp.astype(flat, idt, copy=False)


def _argmax_offsets(xp, argmax, n, per_batch, include_batch_in_index):
    """Argmax indices into the whole flattened input."""
    a = xp.reshape(xp.astype(argmax, xp.int64), (-1,))
    if include_batch_in_index:
        return a
    per = a.shape[0] // max(n, 1)
    b = xp.reshape(xp.arange(n, dtype=xp.int64), (n, 1)) * per_batch
    return xp.reshape(xp.reshape(a, (n, per)) + b, (-1,))


def _pool_grad_rule(x, grad, argmax, ksize, strides, padding, include_batch_in_index):
    return AVal(x.shape, x.dtype)


def _pool_grad_kernel(x, grad, argmax, ksize, strides, padding, include_batch_in_index, xp=np):
    if grad.shape != argmax.shape:
        raise op_error(
            InvalidArgumentError, "MaxPoolGradWithArgmax",
            f"grad shape {list(grad.shape)} must match argmax shape {list(argmax.shape)}",
        )  # fmt: skip
    n = x.shape[0]
    size = math.prod(x.shape)
    if size == 0 or grad.size == 0:
        return xp.zeros(x.shape, dtype=x.dtype)
    idx = _argmax_offsets(xp, argmax, n, size // n, include_batch_in_index)
    g = xp.reshape(grad, (-1,))
    if not overlapping(ksize, strides, (1,) * len(ksize)):  # unique indices: a store
        dx = xp.zeros(size, dtype=x.dtype)
        dx[idx] = g
        return xp.reshape(dx, x.shape)
    dx = xp.bincount(idx, weights=g, minlength=size)
    return xp.reshape(xp.astype(dx, x.dtype), x.shape)


def _pool_gradgrad_rule(x, grad, argmax, ksize, strides, padding, include_batch_in_index):
    return AVal(argmax.shape, x.dtype)


def _pool_gradgrad_kernel(x, grad, argmax, ksize, strides, padding, include_batch_in_index, xp=np):
    n = x.shape[0]
    size = math.prod(x.shape)
    if argmax.size == 0:
        return xp.zeros(argmax.shape, dtype=grad.dtype)
    idx = _argmax_offsets(xp, argmax, n, size // max(n, 1), include_batch_in_index)
    return xp.reshape(xp.take(xp.reshape(grad, (-1,)), idx), argmax.shape)


def _grad_params(p):
    return {k: v for k, v in p.items() if k != "Targmax"}


max_pool_argmax_p = primitive(
    "MaxPoolWithArgmax",
    _pool_kernel,
    _pool_rule,
    lambda inputs, out, dy, **p: (
        bind(max_pool_argmax_grad_p, (inputs[0], dy[0], out[1]), _grad_params(p)),
    ),
    n_out=2,
    dtypes=_POOL_DTYPES,
    saves=(),
)
max_pool_argmax_grad_p = primitive(
    "MaxPoolGradWithArgmax",
    _pool_grad_kernel,
    _pool_grad_rule,
    lambda inputs, out, g, **p: (
        None,
        bind(max_pool_argmax_gradgrad_p, (inputs[0], g, inputs[2]), p),
        None,
    ),
    dtypes=_POOL_DTYPES,
    n_typed=2,
    same_dtype=True,
    saves=(2,),
    saves_output=False,
)
max_pool_argmax_gradgrad_p = primitive(
    "MaxPoolGradGradWithArgmax",
    _pool_gradgrad_kernel,
    _pool_gradgrad_rule,
    lambda inputs, out, g, **p: (
        None,
        bind(max_pool_argmax_grad_p, (inputs[0], g, inputs[2]), p),
        None,
    ),
    dtypes=_POOL_DTYPES,
    n_typed=2,
    same_dtype=True,
    saves=(2,),
    saves_output=False,
)


@tf_export("nn.max_pool_with_argmax")
def max_pool_with_argmax(
    input,  # noqa: A002
    ksize,
    strides,
    padding,
    data_format="NHWC",
    output_dtype=_d.int64,
    include_batch_in_index=False,
    name=None,
):
    """Max pooling of a ``[N, H, W, C]`` input and the flat index of each maximum,
    ``(y * W + x) * C + c`` (plus ``b * H * W * C`` with ``include_batch_in_index``)."""
    op = "MaxPoolWithArgmax"
    if data_format != "NHWC":
        raise ValueError(f"{op}: data_format must be NHWC, got {data_format!r}")
    x = convert_to_tensor(input)
    if x.shape.rank is not None and x.shape.rank != 4:
        raise ValueError(f"{op}: input must be 4-D [batch, height, width, channels], got {x.shape}")
    odt = _d.as_dtype(output_dtype)
    if odt not in (_d.int32, _d.int64):
        raise TypeError(f"{op}: output_dtype must be int32 or int64, got {odt.name}")
    params = {
        "ksize": _window_param(ksize, 2, "ksize", op),
        "strides": _window_param(strides, 2, "strides", op),
        "padding": _padding(padding, op),
        "include_batch_in_index": bool(include_batch_in_index),
        "Targmax": odt,
    }
    _check_params(op, params["ksize"], params["strides"], (1, 1), params["padding"])
    return bind(max_pool_argmax_p, (x,), params)
