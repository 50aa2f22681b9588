"""Patch extraction and max pooling with argmax: the window ops behind fast convolutions.

``extract_patches`` gathers every sliding window of a channels-last input into the last
axis (window positions major, channels minor): a convolution is then one matmul of the
patches with the filter reshaped to ``(kh * kw * C, out)``, and its input gradient is the
transpose, ``Col2Im`` (a scatter-add of the patches back onto the input). Both kernels loop
over the window's taps (``kh * kw`` strided slices), never over pixels, and are each
other's gradient, so gradients of any order work.

``max_pool_with_argmax`` returns the pooled maximum and the flat index of each maximum in
the input; its gradient is one scatter-add through those indices (``bincount``), so the
backward pass never revisits the windows. The first maximum of a window (in row-major
window order) wins ties, as TF's ``MaxPoolGrad`` does.

All kernels are rank-generic over the spatial dims (their number is ``len(ksizes)``) and
take the array namespace ``xp``.
"""

from __future__ import annotations

import itertools

import numpy as np

from rill.core import dtypes as _d
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


def _geometry(spatial, ksizes, strides, rates, padding):
    """Per spatial axis: ((pad before, pad after) or None, output size or None)."""
    pads, out = [], []
    for n, k, s, r in zip(spatial, ksizes, strides, rates):
        eff = (k - 1) * r + 1
        if n is None:
            pads.append(None)
            out.append(None)
        elif padding == "SAME":
            o = -(-n // s)
            total = max((o - 1) * s + eff - n, 0)
            pads.append((total // 2, total - total // 2))
            out.append(o)
        else:
            pads.append((0, 0))
            out.append((n - eff) // s + 1 if n >= eff else 0)
    return pads, out


def _taps(ksizes):
    return list(itertools.product(*[range(k) for k in ksizes]))


def _tap_index(tap, rates, out, strides):
    """Index of one window tap in the padded input: the strided slice it reads."""
    return (
        (slice(None),)
        + tuple(
            slice(t * r, t * r + (o - 1) * s + 1, s) for t, r, o, s in zip(tap, rates, out, strides)
        )
        + (slice(None),)
    )


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
    _, out = _geometry(dims[1:-1], ksizes, strides, rates, padding)
    c = dims[-1]
    depth = None if c is None else c * int(np.prod(ksizes))
    return AVal([dims[0], *out, depth], x.dtype)


def _patches_kernel(xp, x, ksizes, strides, rates, padding):
    sr = len(ksizes)
    _check_input("ExtractImagePatches", list(x.shape), sr)
    pads, out = _geometry(list(x.shape[1:-1]), ksizes, strides, rates, padding)
    n, c = x.shape[0], x.shape[-1]
    kk = len(_taps(ksizes))
    if n == 0 or 0 in out or c == 0:
        return xp.zeros((n, *out, kk * c), dtype=x.dtype)
    if any(p != (0, 0) for p in pads):
        x = xp.pad(x, [(0, 0), *pads, (0, 0)])
    if kk == 1 and all(s == 1 for s in strides):
        return x[_tap_index(_taps(ksizes)[0], rates, out, strides)]
    cols = [x[_tap_index(t, rates, out, strides)] for t in _taps(ksizes)]
    return xp.reshape(xp.stack(cols, axis=-2), (n, *out, kk * c))


def _col2im_rule(sizes, patches, ksizes, strides, rates, padding):
    sr = len(ksizes)
    if sizes.value is not None:
        return AVal([int(v) for v in np.asarray(sizes.value).reshape(-1)], patches.dtype)
    return AVal([None] * (sr + 2), patches.dtype)


def _col2im_kernel(xp, sizes, patches, ksizes, strides, rates, padding):
    """Scatter-add patches ``(N, *out, kk * C)`` back onto an input of shape ``sizes``."""
    dims = [int(v) for v in sizes]
    n, spatial, c = dims[0], dims[1:-1], dims[-1]
    pads, out = _geometry(spatial, ksizes, strides, rates, padding)
    if list(patches.shape[1:-1]) != out:
        raise op_error(
            InvalidArgumentError, "ExtractImagePatchesGrad",
            f"patches of shape {list(patches.shape)} do not match input shape {dims} "
            f"(expected spatial output {out})",
        )  # fmt: skip
    padded = [s + a + b for s, (a, b) in zip(spatial, pads)]
    dx = xp.zeros((n, *padded, c), dtype=patches.dtype)
    if n == 0 or 0 in out or c == 0:
        return dx[_crop(pads, spatial)]
    taps = _taps(ksizes)
    p = xp.reshape(patches, (n, *out, len(taps), c))
    for i, t in enumerate(taps):
        dx[_tap_index(t, rates, out, strides)] += p[..., i, :]
    return dx[_crop(pads, spatial)]


def _crop(pads, spatial):
    return (
        (slice(None),) + tuple(slice(a, a + s) for (a, _), s in zip(pads, spatial)) + (slice(None),)
    )


patches_p = primitive(
    "ExtractImagePatches",
    _patches_kernel,
    _patches_rule,
    lambda inputs, out, dy, **p: (bind(col2im_p, (shape(inputs[0]), dy), p),),
    dtypes=_PATCH_DTYPES,
    saves=(),
    saves_output=False,
)
col2im_p = primitive(
    "ExtractImagePatchesGrad",
    _col2im_kernel,
    _col2im_rule,
    lambda inputs, out, g, **p: (None, bind(patches_p, (g,), p)),
    saves=(),
    saves_output=False,
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


def patches(x, ksizes, strides, rates=None, padding="VALID"):
    """Rank-generic patches of a channels-last ``x`` (1 batch dim): spatial-int params."""
    sr = len(ksizes)
    params = {
        "ksizes": tuple(int(k) for k in ksizes),
        "strides": tuple(int(s) for s in strides),
        "rates": tuple(int(r) for r in (rates or (1,) * sr)),
        "padding": padding,
    }
    return bind(patches_p, (convert_to_tensor(x),), params)


def patches_transpose(sizes, cols, ksizes, strides, rates=None, padding="VALID"):
    """The transpose of ``patches``: scatter-add ``cols`` onto an input of shape ``sizes``
    (a transposed convolution's last step)."""
    sr = len(ksizes)
    params = {
        "ksizes": tuple(int(k) for k in ksizes),
        "strides": tuple(int(s) for s in strides),
        "rates": tuple(int(r) for r in (rates or (1,) * sr)),
        "padding": padding,
    }
    sizes = convert_to_tensor(sizes, dtype=_d.int32)
    return bind(col2im_p, (sizes, convert_to_tensor(cols)), params)


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
    _, out = _geometry(dims[1:-1], ksize, strides, (1,) * sr, padding)
    shp = [dims[0], *out, dims[-1]]
    return AVal(shp, x.dtype), AVal(shp, Targmax)


def _fill_min(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _tree_max(xp, items, idt):
    """(max, label of the first maximum) over ``items``, a list of (int label, array), by
    a pairwise tree: maxima and comparisons only (no ``where``, which is slow), the left
    operand winning ties so the first maximum in the list wins. Labels are ``idt``."""
    while len(items) > 1:
        merged = []
        for (wa, va), (wb, vb) in zip(items[::2], items[1::2]):
            right = xp.astype(vb > va, idt)
            if isinstance(wa, int) and isinstance(wb, int):
                w = right * idt(wb - wa) + idt(wa)
            else:
                w = right * (wb - wa) + wa
            merged.append((w, xp.maximum(va, vb)))
        if len(items) % 2:
            merged.append(items[-1])
        items = merged
    w, v = items[0]
    if isinstance(w, int):
        w = xp.zeros(v.shape, dtype=idt) + idt(w)
    return v, w


def _pool_kernel(xp, x, ksize, strides, padding, include_batch_in_index, Targmax):  # noqa: N803
    sr = len(ksize)
    _check_input("MaxPoolWithArgmax", list(x.shape), sr)
    spatial = list(x.shape[1:-1])
    pads, out = _geometry(spatial, ksize, strides, (1,) * sr, padding)
    n, c = x.shape[0], x.shape[-1]
    idt = Targmax.as_numpy_dtype
    if n == 0 or 0 in out or c == 0:
        shp = (n, *out, c)
        return xp.zeros(shp, dtype=x.dtype), xp.zeros(shp, dtype=idt)
    if any(p != (0, 0) for p in pads):
        x = xp.pad(x, [(0, 0), *pads, (0, 0)], constant_values=_fill_min(x.dtype))
    taps = _taps(ksize)
    ones = (1,) * sr
    # flat index into the unpadded input, ((b * S0 + p0) * S1 + p1 ...) * C + c: the
    # winning tap's offset (carried through the max tree) plus the window's corner
    step = [int(np.prod(spatial[i + 1 :], dtype=np.int64)) * c for i in range(sr)]
    offsets = [sum(t_i * st for t_i, st in zip(t, step)) for t in taps]
    best, off = _tree_max(
        xp, [(o, x[_tap_index(t, ones, out, strides)]) for o, t in zip(offsets, taps)],
        xp.int32 if max(offsets) < 2**31 else xp.int64,
    )  # fmt: skip
    base = xp.reshape(xp.arange(c, dtype=xp.int64), (1,) * (sr + 1) + (c,))
    for i in range(sr):
        o = xp.arange(out[i], dtype=xp.int64) * strides[i] - pads[i][0]
        base = base + xp.reshape(o * step[i], (1,) * (1 + i) + (out[i],) + (1,) * (sr - i))
    if include_batch_in_index:
        per = int(np.prod(spatial, dtype=np.int64)) * c
        b = xp.arange(n, dtype=xp.int64) * per
        base = base + xp.reshape(b, (n,) + (1,) * (sr + 1))
    flat = off + base
    return best, xp.astype(flat, idt, copy=False)


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


def _pool_grad_kernel(xp, x, grad, argmax, ksize, strides, padding, include_batch_in_index):
    if grad.shape != argmax.shape:
        raise op_error(
            InvalidArgumentError, "MaxPoolGradWithArgmax",
            f"grad shape {list(grad.shape)} must match argmax shape {list(argmax.shape)}",
        )  # fmt: skip
    n = x.shape[0]
    size = int(np.prod(x.shape, dtype=np.int64))
    if size == 0 or grad.size == 0:
        return xp.zeros(x.shape, dtype=x.dtype)
    idx = _argmax_offsets(xp, argmax, n, size // n, include_batch_in_index)
    g = xp.reshape(grad, (-1,))
    if all(s >= k for s, k in zip(strides, ksize)):  # windows never overlap: unique indices
        dx = xp.zeros(size, dtype=x.dtype)
        dx[idx] = g
        return xp.reshape(dx, x.shape)
    dx = xp.bincount(idx, weights=g, minlength=size)
    return xp.reshape(xp.astype(dx, x.dtype), x.shape)


def _pool_gradgrad_rule(x, grad, argmax, ksize, strides, padding, include_batch_in_index):
    return AVal(argmax.shape, x.dtype)


def _pool_gradgrad_kernel(xp, x, grad, argmax, ksize, strides, padding, include_batch_in_index):
    n = x.shape[0]
    size = int(np.prod(x.shape, dtype=np.int64))
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


def max_pool_argmax(x, ksize, strides, padding="VALID", include_batch_in_index=False):
    """Rank-generic max pooling with argmax of a channels-last ``x``: spatial-int params."""
    params = {
        "ksize": tuple(int(k) for k in ksize),
        "strides": tuple(int(s) for s in strides),
        "padding": padding,
        "include_batch_in_index": bool(include_batch_in_index),
        "Targmax": _d.int64,
    }
    return bind(max_pool_argmax_p, (convert_to_tensor(x),), params)


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
