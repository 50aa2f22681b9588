"""Convolutions and pooling: ``tf.nn``'s ops, and the Keras layers' (which call them).

Every kernel here is rank-generic over the spatial dimensions (1-D, 2-D and 3-D share one
implementation; the number of spatial dims is ``len(strides)``) and works on channels-last
arrays (NCHW inputs are viewed channels-last and back). They run on the window kernels of
``patch_ops``: a convolution is ``im2col`` and one matmul with the filter (a batched
matmul over groups); its filter gradient ``im2col`` and one matmul with the upstream
gradient; its input gradient (and so a transposed convolution) one matmul and
``col2im``. Convolutions with one input channel per group (depthwise) skip the patches:
a broadcast multiply-add per window tap. The three conv primitives are each other's
duals, so gradients of gradients work to any order.

Pooling is one strided slice per window tap: max pooling a running maximum, its gradient
the tap-by-tap first-maximum masks (``first_max_masks``) of the input against the pooled
output; average pooling a running sum divided by the number of real
(unpadded) elements, its gradient one store or add per tap.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import UnimplementedError
from rill.ops import lowering_math as _lowering_math
from rill.ops import lowering_rules as _lowering
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    TensorShape,
    attr_int,
    binary_args,
    bind,
    convert_to_tensor,
    is_tensor_like,
    op_error,
    primitive,
    static_value,
    tf_export,
)
from rill.ops.array_ops import reshape, shape
from rill.ops.patch_ops import (
    col2im,
    crop_index,
    fill_min,
    first_max_masks,
    im2col,
    overlapping,
    pad_spatial,
    scratch,
    tap_index,
    window_geometry,
    window_max,
)

_CONV_DTYPES = frozenset([_d.float16, _d.bfloat16, _d.float32, _d.float64, _d.int32])
_POOL_DTYPES = _d.REAL
_AVG_DTYPES = _d.FLOATS

# --------------------------------------------------------------------------------------
# Layout helpers
# --------------------------------------------------------------------------------------


def _split(dims, sr, data_format):
    """(batch dims, spatial dims, channels) of a shape list in ``data_format``."""
    nb = len(dims) - sr - 1
    if data_format == "NCHW":
        return dims[:nb], dims[nb + 1 :], dims[nb]
    return dims[:nb], dims[nb:-1], dims[-1]


def _join(batch, spatial, ch, data_format):
    if data_format == "NCHW":
        return list(batch) + [ch] + list(spatial)
    return list(batch) + list(spatial) + [ch]


def _to_nhwc(xp, x, sr, data_format):
    """Channels-last array with the batch dims flattened to one; returns (array, batch shape)."""
    nb = x.ndim - sr - 1
    bshape = x.shape[:nb]
    if data_format == "NCHW":
        x = xp.moveaxis(x, nb, -1)
    # the batch count spelled out: NumPy cannot infer a -1 when a dim of x is 0
    return xp.reshape(x, (math.prod(bshape),) + x.shape[nb:]), bshape


def _from_nhwc(xp, y, bshape, data_format):
    y = xp.reshape(y, tuple(bshape) + y.shape[1:])
    if data_format == "NCHW":
        y = xp.moveaxis(y, -1, len(bshape))
    return y


def _compute_dtype(x):
    return np.float32 if x.dtype.kind == "f" and x.dtype.itemsize < 4 else x.dtype


def _store(xp, dst, idx, v, add):
    """``dst[idx] = v``, or ``dst[idx] += v`` where windows overlap (in place with NumPy)."""
    if not add:
        dst[idx] = v
    elif xp is np:
        d = dst[idx]
        np.add(d, v, out=d)
    else:
        dst[idx] = dst[idx] + v


def _finite(xp, v):
    """Whether ``v * mask`` selects exactly (no 0 * inf): NumPy, and integers or finite."""
    return xp is np and (v.dtype.kind in "iu" or (v.dtype.kind == "f" and np.isfinite(v.sum())))


# --------------------------------------------------------------------------------------
# Convolution kernels (channels last, one batch dim)
# --------------------------------------------------------------------------------------


def _conv_nhwc(xp, x, w, strides, dilations, pads):
    """Grouped N-d convolution of ``x`` (N, *S, C) with ``w`` (*K, C/G, Co)."""
    sr = len(strides)
    ksizes = tuple(w.shape[:sr])
    cg, co = w.shape[sr], w.shape[sr + 1]
    n, c = x.shape[0], x.shape[-1]
    groups = c // cg
    _, out = window_geometry(x.shape[1:-1], ksizes, strides, dilations, "EXPLICIT", pads)
    for size, k, s, d, p in zip(x.shape[1:-1], ksizes, strides, dilations, pads):
        # TF's windowed size, truncated toward zero: an overhanging filter is an error
        q = size + p[0] + p[1] - (k - 1) * d - 1 + s
        osize = q // s if q >= 0 else -(-q // s)
        if osize < 0:
            raise op_error(
                InvalidArgumentError, "Conv2D" if sr == 2 else f"Conv{sr}D",
                f"Computed output size would be negative: {osize} [input_size: {size}, "
                f"effective_filter_size: {(k - 1) * d + 1}, stride: {s}]",
            )  # fmt: skip
    if n == 0 or 0 in out or c == 0 or co == 0 or 0 in ksizes:
        # nothing to sum (an empty input, filter or window): zeros, and no groups to divide by
        return xp.zeros((n, *out, co), dtype=x.dtype)
    if cg == 1 and groups > 1:
        return _depthwise(xp, x, w, strides, dilations, pads, out)
    cols = im2col(xp, x, ksizes, strides, dilations, pads, out, groups, temporary=True)
    k = cols.shape[-1]
    if groups == 1:
        y = xp.matmul(cols[0], xp.reshape(w, (k, co)))
    else:
        wg = xp.reshape(w, (k, groups, co // groups)).transpose(1, 0, 2)  # (G, K, Co/G)
        y = xp.matmul(cols, wg).transpose(1, 0, 2)  # (M, G, Co/G)
    return xp.reshape(y, (n, *out, co))


def _conv_input_grad(xp, dy, w, spatial, strides, dilations, pads, groups):
    """Gradient of ``_conv_nhwc`` w.r.t. its input, (N, *spatial, C): the transposed
    convolution of ``dy`` (N, *out, Co)."""
    sr = len(strides)
    ksizes = tuple(w.shape[:sr])
    cg, co = w.shape[sr], w.shape[sr + 1]
    n, out, c = dy.shape[0], dy.shape[1:-1], cg * groups
    if n == 0 or 0 in out or 0 in spatial or c == 0:
        return xp.zeros((n, *spatial, c), dtype=dy.dtype)
    if cg == 1 and groups > 1:
        return _depthwise_input_grad(xp, dy, w, spatial, strides, dilations, pads, c)
    m, k = n * math.prod(out), math.prod(ksizes) * cg
    d2 = xp.reshape(dy, (m, co))
    if groups == 1 and c > 1:
        return _input_grad_by_taps(xp, d2, w, n, spatial, strides, dilations, pads, out)
    if groups == 1:
        cols = xp.matmul(d2, xp.reshape(w, (k, co)).T)  # (M, K)
    else:
        cog = co // groups
        wg = xp.reshape(w, (k, groups, cog)).transpose(1, 2, 0)  # (G, Co/G, K)
        cols = xp.matmul(xp.reshape(d2, (m, groups, cog)).transpose(1, 0, 2), wg)
        cols = xp.reshape(cols, (groups, m, k // cg, cg)).transpose(1, 2, 0, 3)
        cols = xp.reshape(cols, (m, k * groups))  # (M, taps, G, C/G)
    return col2im(xp, cols, n, spatial, ksizes, strides, dilations, pads, out)


def _input_grad_by_taps(xp, d2, w, n, spatial, strides, dilations, pads, out):
    """``col2im(d2 @ w.T)`` one tap at a time: each tap's (M, C) block of the patch matrix
    is its own matmul, added onto the input in long contiguous runs (the whole patch
    matrix, taps and channels interleaved, would be added in runs of C)."""
    sr = len(strides)
    ksizes = tuple(w.shape[:sr])
    c, co = w.shape[sr], w.shape[sr + 1]
    taps = tap_index(ksizes, tuple(strides), tuple(dilations), tuple(out))
    wt = xp.reshape(w, (len(taps), c, co))
    padded = tuple(s + a + b for s, (a, b) in zip(spatial, pads))
    dx = xp.zeros((n, *padded, c), dtype=d2.dtype)
    add = overlapping(ksizes, strides, dilations)
    buf = scratch(xp, (d2.shape[0], c), d2.dtype) if xp is np else None
    for t, idx in enumerate(taps):
        if xp is np:
            v = np.matmul(d2, wt[t].T, out=buf)
        else:
            v = xp.matmul(d2, wt[t].T)
        _store(xp, dx, idx, xp.reshape(v, (n, *out, c)), add)
    if any(a or b for a, b in pads):
        dx = dx[crop_index(pads, spatial)]
    return dx


def _conv_filter_grad(xp, x, dy, ksizes, strides, dilations, pads, groups):
    """Gradient of ``_conv_nhwc`` w.r.t. its filter: (*K, C/G, Co)."""
    c, co = x.shape[-1], dy.shape[-1]
    cg = c // groups
    n, out = dy.shape[0], dy.shape[1:-1]
    if n == 0 or 0 in out or c == 0:
        return xp.zeros((*ksizes, cg, co), dtype=x.dtype)
    if cg == 1 and groups > 1:
        return _depthwise_filter_grad(xp, x, dy, ksizes, strides, dilations, pads)
    cols = im2col(xp, x, ksizes, strides, dilations, pads, out, groups, temporary=True)
    m = cols.shape[1]
    if groups == 1:
        g = xp.matmul(cols[0].T, xp.reshape(dy, (m, co)))  # (K, Co)
    else:
        dg = xp.reshape(dy, (m, groups, co // groups)).transpose(1, 0, 2)  # (G, M, Co/G)
        g = xp.matmul(cols.transpose(0, 2, 1), dg).transpose(1, 0, 2)  # (K, G, Co/G)
    return xp.reshape(g, (*ksizes, cg, co))


def _depthwise(xp, x, w, strides, dilations, pads, out):
    """One input channel per group: output channel ``c * mult + j`` is the sum over the
    taps of input channel ``c`` times ``w[tap, 0, c * mult + j]``."""
    sr = len(strides)
    n, c = x.shape[0], x.shape[-1]
    mult = w.shape[-1] // c
    taps = tap_index(tuple(w.shape[:sr]), tuple(strides), tuple(dilations), tuple(out))
    xpd = pad_spatial(xp, x, pads)
    wt = xp.reshape(w, (len(taps), c, mult))
    y = None
    for t, idx in enumerate(taps):
        term = xpd[idx] * wt[t, :, 0] if mult == 1 else xpd[idx][..., None] * wt[t]
        y = term if y is None else _acc(xp, y, term)
    return xp.reshape(y, (n, *out, c * mult))


def _acc(xp, y, term):
    if xp is np:
        return np.add(y, term, out=y)
    return y + term


def _depthwise_input_grad(xp, dy, w, spatial, strides, dilations, pads, c):
    sr = len(strides)
    ksizes = tuple(w.shape[:sr])
    n, out = dy.shape[0], tuple(dy.shape[1:-1])
    mult = w.shape[-1] // c
    taps = tap_index(ksizes, tuple(strides), tuple(dilations), out)
    wt = xp.reshape(w, (len(taps), c, mult))
    d = dy if mult == 1 else xp.reshape(dy, (n, *out, c, mult))
    padded = tuple(s + a + b for s, (a, b) in zip(spatial, pads))
    dx = xp.zeros((n, *padded, c), dtype=dy.dtype)
    add = overlapping(ksizes, strides, dilations)
    for t, idx in enumerate(taps):
        v = d * wt[t, :, 0] if mult == 1 else xp.sum(d * wt[t], axis=-1)
        _store(xp, dx, idx, v, add)
    if any(a or b for a, b in pads):
        dx = dx[crop_index(pads, spatial)]
    return dx


def _depthwise_filter_grad(xp, x, dy, ksizes, strides, dilations, pads):
    n, c = x.shape[0], x.shape[-1]
    out = tuple(dy.shape[1:-1])
    mult = dy.shape[-1] // c
    taps = tap_index(tuple(ksizes), tuple(strides), tuple(dilations), out)
    xpd = pad_spatial(xp, x, pads)
    d = dy if mult == 1 else xp.reshape(dy, (n, *out, c, mult))
    rows = []
    for idx in taps:
        p = xpd[idx] * d if mult == 1 else xpd[idx][..., None] * d
        rows.append(xp.sum(xp.reshape(p, (-1, c * mult)), axis=0))
    return xp.reshape(xp.stack(rows), (*ksizes, 1, c * mult))


# --------------------------------------------------------------------------------------
# Convolution primitives
# --------------------------------------------------------------------------------------


def _dims(aval):
    return aval.shape.as_list() if aval.shape.rank is not None else None


def _sizes_of(aval, n):
    """A shape given as a 1-D int tensor: its values if known, else ``n`` unknown dims."""
    if aval.value is not None:
        return [int(v) for v in np.asarray(aval.value).reshape(-1)]
    if aval.shape.rank == 1 and aval.shape[0] is not None:
        return [None] * aval.shape[0]
    return [None] * n if n is not None else None


def _check_conv(op, xdims, wdims, sr, data_format):
    """Validate input/filter dims (None allowed); return (batch, spatial, channels, groups)."""
    if len(wdims) != sr + 2:
        raise op_error(
            InvalidArgumentError, op, f"filter must be {sr + 2}-dimensional, got shape {wdims}"
        )
    if len(xdims) < sr + 2:
        raise op_error(
            InvalidArgumentError, op, f"convolution input must be at least {sr + 2}-dimensional "
            f"(batch, {sr} spatial, channels), got shape {xdims}"
        )  # fmt: skip
    batch, spatial, c = _split(xdims, sr, data_format)
    cg, co = wdims[sr], wdims[sr + 1]
    groups = None
    if c is not None and cg is not None:
        if cg == 0 or c % cg:
            raise op_error(
                InvalidArgumentError, op, f"input depth must be evenly divisible by filter depth: {c} vs {cg} "
                f"(input shape {xdims}, filter shape {wdims})"
            )  # fmt: skip
        groups = c // cg
        if groups and co is not None and co % groups:  # (an empty input has 0 groups)
            raise op_error(
                InvalidArgumentError, op, f"output depth {co} must be divisible by the number of groups "
                f"{groups} (input depth {c} / filter depth {cg})"
            )  # fmt: skip
    return batch, spatial, c, groups


def _out_sizes(spatial, ksizes, strides, dilations, padding, explicit_paddings):
    return window_geometry(spatial, ksizes, strides, dilations, padding, explicit_paddings)[1]


def _conv_rule(x, w, strides, dilations, padding, explicit_paddings, data_format):
    sr = len(strides)
    xd = _dims(x)
    wd = _dims(w) or [None] * (sr + 2)
    if xd is None:
        return AVal(TensorShape(None), x.dtype)
    batch, spatial, _, _ = _check_conv("Conv2D", xd, wd, sr, data_format)
    out = _out_sizes(spatial, wd[:sr], strides, dilations, padding, explicit_paddings)
    return AVal(_join(batch, out, wd[sr + 1], data_format), x.dtype)


def _conv_kernel(x, w, strides, dilations, padding, explicit_paddings, data_format, xp=np):
    sr = len(strides)
    _check_conv("Conv2D", list(x.shape), list(w.shape), sr, data_format)
    cd = _compute_dtype(x)
    xn, bshape = _to_nhwc(xp, x.astype(cd, copy=False), sr, data_format)
    pads, _ = window_geometry(
        xn.shape[1:-1], w.shape[:sr], strides, dilations, padding, explicit_paddings
    )
    y = _conv_nhwc(xp, xn, w.astype(cd, copy=False), strides, dilations, pads)
    return _from_nhwc(xp, y, bshape, data_format).astype(x.dtype, copy=False)


def _check_out(op, dy_spatial, expect, in_spatial):
    if list(dy_spatial) != list(expect):
        raise op_error(
            InvalidArgumentError, op,
            f"Size of out_backprop doesn't match computed: actual = {list(dy_spatial)}, computed = "
            f"{list(expect)} for input spatial size {list(in_spatial)}",
        )  # fmt: skip


def _bpi_rule(sizes, w, dy, strides, dilations, padding, explicit_paddings, data_format):
    sr = len(strides)
    dyd = _dims(dy)
    s = _sizes_of(sizes, None if dyd is None else len(dyd))
    if s is None:
        return AVal(TensorShape(None), dy.dtype)
    wd = _dims(w) or [None] * (sr + 2)
    _, spatial, _, _ = _check_conv("Conv2DBackpropInput", s, wd, sr, data_format)
    if dyd is not None and None not in spatial and None not in wd[:sr]:
        _, dsp, _ = _split(dyd, sr, data_format)
        if None not in dsp:
            exp = _out_sizes(spatial, wd[:sr], strides, dilations, padding, explicit_paddings)
            _check_out("Conv2DBackpropInput", dsp, exp, spatial)
    return AVal(s, dy.dtype)


def _bpi_kernel(sizes, w, dy, strides, dilations, padding, explicit_paddings, data_format, xp=np):
    sr = len(strides)
    s = [int(v) for v in xp.reshape(sizes, (-1,))]
    batch, spatial, c, groups = _check_conv(
        "Conv2DBackpropInput", s, list(w.shape), sr, data_format
    )
    cd = _compute_dtype(dy)
    dyn, _ = _to_nhwc(xp, dy.astype(cd, copy=False), sr, data_format)
    pads, exp = window_geometry(
        spatial, w.shape[:sr], strides, dilations, padding, explicit_paddings
    )
    _check_out("Conv2DBackpropInput", dyn.shape[1:-1], exp, spatial)
    dx = _conv_input_grad(
        xp, dyn, w.astype(cd, copy=False), spatial, strides, dilations, pads, groups
    )
    return _from_nhwc(xp, dx, batch, data_format).astype(dy.dtype, copy=False)


def _bpf_rule(x, fsizes, dy, strides, dilations, padding, explicit_paddings, data_format):
    sr = len(strides)
    s = _sizes_of(fsizes, sr + 2)
    xd = _dims(x)
    if xd is not None:
        _, spatial, _, _ = _check_conv("Conv2DBackpropFilter", xd, s, sr, data_format)
        dyd = _dims(dy)
        if dyd is not None and None not in spatial and None not in s[:sr]:
            _, dsp, _ = _split(dyd, sr, data_format)
            if None not in dsp:
                exp = _out_sizes(spatial, s[:sr], strides, dilations, padding, explicit_paddings)
                _check_out("Conv2DBackpropFilter", dsp, exp, spatial)
    return AVal(s, x.dtype)


def _bpf_kernel(x, fsizes, dy, strides, dilations, padding, explicit_paddings, data_format, xp=np):
    sr = len(strides)
    s = [int(v) for v in xp.reshape(fsizes, (-1,))]
    _, spatial, _, groups = _check_conv("Conv2DBackpropFilter", list(x.shape), s, sr, data_format)
    cd = _compute_dtype(x)
    xn, _ = _to_nhwc(xp, x.astype(cd, copy=False), sr, data_format)
    dyn, _ = _to_nhwc(xp, dy.astype(cd, copy=False), sr, data_format)
    pads, exp = window_geometry(spatial, s[:sr], strides, dilations, padding, explicit_paddings)
    _check_out("Conv2DBackpropFilter", dyn.shape[1:-1], exp, spatial)
    g = _conv_filter_grad(xp, xn, dyn, tuple(s[:sr]), strides, dilations, pads, groups)
    return g.astype(x.dtype, copy=False)


def _conv_grad(inputs, out, dy, needed=None, **p):
    x, w = inputs
    # the input gradient of a first layer (its input is data) is never read: not computed
    gx = None if needed is not None and not needed[0] else bind(conv_bpi_p, (shape(x), w, dy), p)
    gw = None if needed is not None and not needed[1] else bind(conv_bpf_p, (x, shape(w), dy), p)
    return gx, gw


def _bpi_grad(inputs, out, g, **p):
    _, w, dy = inputs
    return None, bind(conv_bpf_p, (g, shape(w), dy), p), bind(conv2d_p, (g, w), p)


def _bpf_grad(inputs, out, g, **p):
    x, _, dy = inputs
    return bind(conv_bpi_p, (shape(x), g, dy), p), None, bind(conv2d_p, (x, g), p)


# Every kernel of this module returns arrays of its own (fresh: a compiled plan may update
# them in place, the bias add after a convolution for one); each gradient rule reads only
# the values its ``saves`` name.
conv2d_p = primitive(
    "Conv2D",
    _conv_kernel,
    _conv_rule,
    _conv_grad,
    dtypes=_CONV_DTYPES,
    same_dtype=True,
    saves_output=False,
    fresh=True,
    lowering=_lowering.conv2d,
    partial_grad=True,
)
conv_bpi_p = primitive(
    "Conv2DBackpropInput",
    _bpi_kernel,
    _bpi_rule,
    _bpi_grad,
    saves=(1, 2),
    saves_output=False,
    fresh=True,
    lowering=_lowering.conv2d_backprop_input,
)
conv_bpf_p = primitive(
    "Conv2DBackpropFilter",
    _bpf_kernel,
    _bpf_rule,
    _bpf_grad,
    saves=(0, 2),
    saves_output=False,
    fresh=True,
    lowering=_lowering.conv2d_backprop_filter,
)

# --------------------------------------------------------------------------------------
# Pooling primitives
# --------------------------------------------------------------------------------------


def _pool_geometry(op, dims, ksize, strides, padding, explicit_paddings, data_format):
    """(batch, spatial, channels, pads, output spatial) of a pooling input's dims."""
    sr = len(ksize)
    if len(dims) != sr + 2:
        raise op_error(
            InvalidArgumentError, op, f"input must be {sr + 2}-dimensional (batch, {sr} spatial, channels), "
            f"got shape {dims}"
        )  # fmt: skip
    batch, spatial, c = _split(dims, sr, data_format)
    pads, out = window_geometry(spatial, ksize, strides, (1,) * sr, padding, explicit_paddings)
    for n, k, s, p in zip(spatial, ksize, strides, pads):
        if n is None or p is None or s <= 0:
            continue
        # TF's windowed size, (n + pads - k + s) / s truncated toward zero: a window that
        # overhangs the input by a stride or more is an error there, not an empty result
        q = n + p[0] + p[1] - k + s
        size = q // s if q >= 0 else -(-q // s)
        if size < 0:
            raise op_error(
                InvalidArgumentError, op,
                f"Computed output size would be negative: {size} [input_size: {n}, "
                f"effective_filter_size: {k}, stride: {s}]",
            )  # fmt: skip
    return batch, spatial, c, pads, out


def _pool_rule(op):
    def rule(x, ksize, strides, padding, explicit_paddings, data_format):
        xd = _dims(x)
        if xd is None:
            return AVal(TensorShape(None), x.dtype)
        batch, _, c, _, out = _pool_geometry(
            op, xd, ksize, strides, padding, explicit_paddings, data_format
        )
        return AVal(_join(batch, out, c, data_format), x.dtype)

    return rule


def _pool_taps(ksize, strides, out):
    return tap_index(tuple(ksize), tuple(strides), (1,) * len(ksize), tuple(out))


def _max_pool_kernel(x, ksize, strides, padding, explicit_paddings, data_format, xp=np):
    sr = len(ksize)
    _, _, c, pads, out = _pool_geometry(
        "MaxPool", list(x.shape), ksize, strides, padding, explicit_paddings, data_format
    )
    xn, bshape = _to_nhwc(xp, x, sr, data_format)
    if xn.size == 0 or 0 in out:
        y = xp.zeros((xn.shape[0], *out, c), dtype=x.dtype)
    else:
        xpd = pad_spatial(xp, xn, pads, fill_min(x.dtype))
        y = window_max(xp, xpd, _pool_taps(ksize, strides, out))
    return _from_nhwc(xp, y, bshape, data_format)


def _pooled_nhwc(xp, op, x, out, g, ksize, strides, padding, explicit_paddings, data_format):
    """Channels-last views of MaxPoolGrad's (or MaxPoolGradGrad's) arrays, checked, with
    the geometry: ``(xn, yn, gn, bshape, pads, spatial)``."""
    sr = len(ksize)
    _, spatial, c, pads, osz = _pool_geometry(
        op, list(x.shape), ksize, strides, padding, explicit_paddings, data_format
    )
    xn, bshape = _to_nhwc(xp, x, sr, data_format)
    yn, _ = _to_nhwc(xp, out, sr, data_format)
    gn, _ = _to_nhwc(xp, g, sr, data_format)
    pooled = (xn.shape[0], *osz, c)
    for name, a, want in (
        ("orig_output", yn, pooled),
        ("grad", gn, pooled if op == "MaxPoolGrad" else xn.shape),
    ):
        if tuple(a.shape) != tuple(want):
            raise op_error(
                InvalidArgumentError, op,
                f"{name} shape {list(a.shape)} does not match the pooled output of input shape "
                f"{list(x.shape)} (expected {list(want)})",
            )  # fmt: skip
    return xn, yn, gn, bshape, pads, spatial


def _max_pool_grad_kernel(
    x, out, dy, ksize, strides, padding, explicit_paddings, data_format, xp=np
):
    """The gradient of max pooling: each window's upstream gradient to its first maximum
    (``out`` is the pooled maximum of ``x``, as the gradient rule passes it)."""
    xn, yn, dyn, bshape, pads, spatial = _pooled_nhwc(
        xp, "MaxPoolGrad", x, out, dy, ksize, strides, padding, explicit_paddings, data_format
    )
    if xn.size == 0 or dyn.size == 0:
        return xp.zeros(x.shape, dtype=dy.dtype)
    xpd = pad_spatial(xp, xn, pads, fill_min(x.dtype))
    dx = xp.zeros(xpd.shape, dtype=dy.dtype)
    add = overlapping(ksize, strides, (1,) * len(ksize))
    fast = _finite(xp, dyn)
    zero = xp.zeros((), dtype=dy.dtype)
    for idx, m in first_max_masks(xp, xpd, yn, _pool_taps(ksize, strides, yn.shape[1:-1])):
        if fast and not add:
            np.multiply(dyn, m, out=dx[idx])
        else:
            _store(xp, dx, idx, dyn * m if fast else xp.where(m, dyn, zero), add)
    if any(a or b for a, b in pads):
        dx = dx[crop_index(pads, spatial)]
    return _from_nhwc(xp, dx, bshape, data_format)


def _max_pool_grad_grad_kernel(
    x, out, g, ksize, strides, padding, explicit_paddings, data_format, xp=np
):
    """The gradient's gradient: each window's first maximum's element of ``g``."""
    xn, yn, gn, bshape, pads, _ = _pooled_nhwc(
        xp, "MaxPoolGradGrad", x, out, g, ksize, strides, padding, explicit_paddings, data_format
    )
    if yn.size == 0:
        return _from_nhwc(xp, xp.zeros(yn.shape, dtype=g.dtype), bshape, data_format)
    xpd = pad_spatial(xp, xn, pads, fill_min(x.dtype))
    gpd = pad_spatial(xp, gn, pads)
    fast = _finite(xp, gn)
    zero = xp.zeros((), dtype=g.dtype)
    res = None
    for idx, m in first_max_masks(xp, xpd, yn, _pool_taps(ksize, strides, yn.shape[1:-1])):
        term = gpd[idx] * m if fast else xp.where(m, gpd[idx], zero)
        res = term if res is None else _acc(xp, res, term)
    return _from_nhwc(xp, res, bshape, data_format)


def _mp_rule_from_x(op):
    def rule(x, out, dy, ksize, strides, padding, explicit_paddings, data_format):
        xd = _dims(x)
        if xd is not None:
            batch, _, c, _, osz = _pool_geometry(
                op, xd, ksize, strides, padding, explicit_paddings, data_format
            )
            if op == "MaxPoolGradGrad":
                return AVal(_join(batch, osz, c, data_format), x.dtype)
        return AVal(x.shape, x.dtype)

    return rule


max_pool_p = primitive(
    "MaxPool",
    _max_pool_kernel,
    _pool_rule("MaxPool"),
    lambda inputs, out, dy, **p: (bind(max_pool_grad_p, (inputs[0], out, dy), p),),
    dtypes=_POOL_DTYPES,
    fresh=True,
    lowering=_lowering.max_pool,
)
max_pool_grad_p = primitive(
    "MaxPoolGrad",
    _max_pool_grad_kernel,
    _mp_rule_from_x("MaxPoolGrad"),
    lambda inputs, out, g, **p: (
        None,
        None,
        bind(max_pool_grad_grad_p, (inputs[0], inputs[1], g), p),
    ),
    dtypes=_POOL_DTYPES,
    same_dtype=True,
    saves=(0, 1),
    saves_output=False,
    fresh=True,
    lowering=_lowering.max_pool_grad,
)
max_pool_grad_grad_p = primitive(
    "MaxPoolGradGrad",
    _max_pool_grad_grad_kernel,
    _mp_rule_from_x("MaxPoolGradGrad"),
    lambda inputs, out, g, **p: (None, None, bind(max_pool_grad_p, (inputs[0], inputs[1], g), p)),
    dtypes=_POOL_DTYPES,
    same_dtype=True,
    saves=(0, 1),
    saves_output=False,
    fresh=True,
    lowering=_lowering_math.max_pool_grad_grad,
)


@functools.lru_cache(maxsize=256)
def _avg_counts(spatial, ksize, strides, pads, out):
    """Number of real (unpadded) input elements under each output window, shape (*out)
    (host NumPy), or None where every window is whole."""
    if not any(a or b for a, b in pads):
        return None
    cnt = np.ones((), dtype=np.float64)
    for n, k, s, p, o in zip(spatial, ksize, strides, pads, out):
        start = np.arange(o) * s - p[0]
        cnt = cnt[..., None] * (np.minimum(start + k, n) - np.maximum(start, 0))
    return cnt[..., None]


def _avg_divisor(xp, spatial, ksize, strides, pads, out, dtype):
    cnt = _avg_counts(tuple(spatial), tuple(ksize), tuple(strides), tuple(map(tuple, pads)),
                      tuple(out))  # fmt: skip
    return math.prod(ksize) if cnt is None else xp.asarray(cnt, dtype=dtype)


def _avg_pool_kernel(x, ksize, strides, padding, explicit_paddings, data_format, xp=np):
    sr = len(ksize)
    _, spatial, c, pads, out = _pool_geometry(
        "AvgPool", list(x.shape), ksize, strides, padding, explicit_paddings, data_format
    )
    cd = _compute_dtype(x)
    xn, bshape = _to_nhwc(xp, x.astype(cd, copy=False), sr, data_format)
    if xn.size == 0 or 0 in out:
        y = xp.zeros((xn.shape[0], *out, c), dtype=cd)
    else:
        xpd = pad_spatial(xp, xn, pads)
        taps = _pool_taps(ksize, strides, out)
        y = xp.asarray(xpd[taps[0]], copy=True)
        for idx in taps[1:]:
            y = _acc(xp, y, xpd[idx])
        y = y / _avg_divisor(xp, spatial, ksize, strides, pads, out, cd)
    return _from_nhwc(xp, y, bshape, data_format).astype(x.dtype, copy=False)


def _avg_grad_rule(sizes, dy, ksize, strides, padding, explicit_paddings, data_format):
    dyd = _dims(dy)
    s = _sizes_of(sizes, None if dyd is None else len(dyd))
    if s is None:
        return AVal(TensorShape(None), dy.dtype)
    _pool_geometry("AvgPoolGrad", s, ksize, strides, padding, explicit_paddings, data_format)
    return AVal(s, dy.dtype)


def _avg_pool_grad_kernel(
    sizes, dy, ksize, strides, padding, explicit_paddings, data_format, xp=np
):
    sr = len(ksize)
    s = [int(v) for v in xp.reshape(sizes, (-1,))]
    batch, spatial, c, pads, out = _pool_geometry(
        "AvgPoolGrad", s, ksize, strides, padding, explicit_paddings, data_format
    )
    cd = _compute_dtype(dy)
    dyn, _ = _to_nhwc(xp, dy.astype(cd, copy=False), sr, data_format)
    _check_out("AvgPoolGrad", dyn.shape[1:-1], out, spatial)
    n = dyn.shape[0]
    if dyn.size == 0 or 0 in spatial:
        dx = xp.zeros((n, *spatial, c), dtype=cd)
    else:
        g = dyn / _avg_divisor(xp, spatial, ksize, strides, pads, out, cd)
        padded = tuple(m + a + b for m, (a, b) in zip(spatial, pads))
        dx = xp.zeros((n, *padded, c), dtype=cd)
        add = overlapping(ksize, strides, (1,) * sr)
        for idx in _pool_taps(ksize, strides, out):
            _store(xp, dx, idx, g, add)
        if any(a or b for a, b in pads):
            dx = dx[crop_index(pads, spatial)]
    return _from_nhwc(xp, dx, batch, data_format).astype(dy.dtype, copy=False)


avg_pool_p = primitive(
    "AvgPool",
    _avg_pool_kernel,
    _pool_rule("AvgPool"),
    lambda inputs, out, dy, **p: (bind(avg_pool_grad_p, (shape(inputs[0]), dy), p),),
    dtypes=_AVG_DTYPES,
    saves=(),
    saves_output=False,
    fresh=True,
    lowering=_lowering.avg_pool,
)
avg_pool_grad_p = primitive(
    "AvgPoolGrad",
    _avg_pool_grad_kernel,
    _avg_grad_rule,
    lambda inputs, out, g, **p: (None, bind(avg_pool_p, (g,), p)),
    saves=(),
    saves_output=False,
    fresh=True,
    lowering=_lowering.avg_pool_grad,
)

# --------------------------------------------------------------------------------------
# Argument normalisation
# --------------------------------------------------------------------------------------


def _norm_format(data_format, default="NHWC"):
    if data_format is None:
        data_format = default
    if not isinstance(data_format, str):
        raise TypeError(f"data_format must be a string, got {data_format!r}")
    if data_format.startswith("NC"):
        return "NCHW"
    if data_format.startswith("N") and data_format.endswith("C"):
        return "NHWC"
    raise ValueError(
        f"`data_format` must be of the form `N...C` or `NC...`. Received: data_format={data_format}"
    )


def _ints(v, name="strides"):
    if is_tensor_like(v):
        v = static_value(v)
        if v is None:
            raise ValueError("conv/pool: strides, ksize and dilations must be known statically.")
    if isinstance(v, (int, np.integer)):
        return [int(v)]
    if isinstance(v, str):  # a padding string passed where strides belong
        raise TypeError(f"Expected int for argument '{name}' not {v!r}.")
    return [attr_int(name, t) for t in np.asarray(v).reshape(-1)]


def _norm_ints(v, sr, name, data_format, op):
    """int / list of length 1, sr or sr+2 -> tuple of sr spatial values (all >= 1)."""
    if v is None:
        return (1,) * sr
    vals = _ints(v, name)
    if len(vals) == 1:
        out = vals * sr
    elif len(vals) == sr:
        out = vals
    elif len(vals) == sr + 2:
        if data_format == "NCHW":
            outer, out = (vals[0], vals[1]), vals[2:]
        else:
            outer, out = (vals[0], vals[-1]), vals[1:-1]
        if outer != (1, 1):
            what = "Pooling" if name == "ksize" else f"{name} other than 1"
            raise op_error(
                UnimplementedError, op,
                f"Current implementation does not yet support {what} in the batch and depth dimensions "
                f"({name}={vals})",
            )  # fmt: skip
    else:
        lens = sorted({1, sr, sr + 2})
        raise ValueError(
            f"{name} should be of length {', '.join(map(str, lens[:-1]))} or {lens[-1]}. "
            f"Received: {name}={vals} of length {len(vals)}"
        )
    if any(t < 1 for t in out):
        raise op_error(InvalidArgumentError, op, f"{name} must all be >= 1, got {vals}")
    return tuple(out)


def _norm_padding(padding, sr, data_format, op, allow_explicit=True):
    if isinstance(padding, str):
        if padding not in ("SAME", "VALID"):
            raise op_error(
                InvalidArgumentError, op, f'padding must be "SAME" or "VALID" (uppercase) or a list of '
                f"explicit [before, after] pairs, got {padding!r}"
            )  # fmt: skip
        return padding, ()
    if not allow_explicit:
        raise ValueError(f"{op}: padding must be 'SAME' or 'VALID', got {padding!r}")
    pairs = (
        np.asarray(padding).reshape(-1, 2).tolist()
        if len(np.asarray(padding).reshape(-1)) % 2 == 0
        else None
    )
    if pairs is None or len(pairs) != sr + 2:
        raise ValueError(
            f"{op}: explicit padding must be a list of {sr + 2} [before, after] pairs, got {padding!r}"
        )
    if data_format == "NCHW":
        outer, spatial = pairs[:2], pairs[2:]
    else:
        outer, spatial = [pairs[0], pairs[-1]], pairs[1:-1]
    if any(p != [0, 0] for p in outer):
        raise op_error(
            InvalidArgumentError,
            op,
            "Nonzero explicit padding in the batch or depth dimensions is not supported",
        )
    if any(int(a) < 0 or int(b) < 0 for a, b in spatial):
        raise op_error(
            InvalidArgumentError, op, f"explicit padding must be non-negative, got {padding!r}"
        )
    return "EXPLICIT", tuple((int(a), int(b)) for a, b in spatial)


def _conv_params(sr, strides, padding, data_format, dilations, op):
    df = _norm_format(data_format)
    pad, explicit = _norm_padding(padding, sr, df, op)
    return {
        "strides": _norm_ints(strides, sr, "strides", df, op),
        "dilations": _norm_ints(dilations, sr, "dilations", df, op),
        "padding": pad,
        "explicit_paddings": explicit,
        "data_format": df,
    }


def _conv_args(input, filters):  # noqa: A002
    return binary_args(input, filters)


def _conv(input, filters, sr, strides, padding, data_format, dilations, op):  # noqa: A002
    x, w = _conv_args(input, filters)
    return bind(conv2d_p, (x, w), _conv_params(sr, strides, padding, data_format, dilations, op))


# --------------------------------------------------------------------------------------
# Public convolutions
# --------------------------------------------------------------------------------------


@tf_export("nn.conv2d")
def conv2d(input, filters, strides, padding, data_format="NHWC", dilations=None, name=None):  # noqa: A002
    """2-D convolution (cross-correlation) of ``input`` [N, H, W, C] with ``filters`` [kh, kw, C/G, out].

    ``padding`` is "SAME", "VALID" or explicit pairs per dimension; ``strides``/``dilations`` are
    an int or a list of 1, 2 or 4 ints. Input depth a multiple of the filter depth gives a
    grouped convolution.
    """
    return _conv(input, filters, 2, strides, padding, data_format, dilations, "Conv2D")


@tf_export("nn.conv1d")
def conv1d(input, filters, stride, padding, data_format="NWC", dilations=None, name=None):  # noqa: A002
    """1-D convolution of ``input`` [N, W, C] with ``filters`` [kw, C, out]."""
    return _conv(input, filters, 1, stride, padding, data_format, dilations, "Conv1D")


@tf_export("nn.conv3d")
def conv3d(input, filters, strides, padding, data_format="NDHWC", dilations=None, name=None):  # noqa: A002
    """3-D convolution of ``input`` [N, D, H, W, C] with ``filters`` [kd, kh, kw, C, out]."""
    return _conv(input, filters, 3, strides, padding, data_format, dilations, "Conv3D")


@tf_export("nn.convolution")
def convolution(
    input, filters, strides=None, padding="VALID", data_format=None, dilations=None, name=None
):  # noqa: A002
    """N-d convolution; the number of spatial dims is ``rank(filters) - 2``."""
    x, w = _conv_args(input, filters)
    r = w.shape.rank
    if r is None or r not in (3, 4, 5):
        raise ValueError(f"convolution: filters must have rank 3, 4 or 5, got shape {w.shape}")
    return bind(
        conv2d_p, (x, w), _conv_params(r - 2, strides, padding, data_format, dilations, "Conv")
    )


def _conv_transpose(input, filters, output_shape, sr, strides, padding, data_format, dilations, op):  # noqa: A002
    x, w = _conv_args(input, filters)
    p = _conv_params(sr, strides, padding, data_format, dilations, op)
    if is_tensor_like(output_shape):
        sizes = convert_to_tensor(output_shape)
    else:
        sizes = convert_to_tensor(
            [int(v) for v in np.asarray(output_shape).reshape(-1)], dtype=_d.int32
        )
    sv = static_value(sizes)
    if sv is not None:
        sv = [int(v) for v in np.asarray(sv).reshape(-1)]
        if (
            len(sv) == sr and x.shape.rank is not None
        ):  # spatial only: take batch/channels from the args
            xb, _, _ = _split(x.shape.as_list(), sr, p["data_format"])
            full = _join(xb, sv, w.shape[sr], p["data_format"])
            if None in full:
                raise ValueError(f"{op}: output_shape {sv} needs a known batch size")
            sizes = convert_to_tensor(full, dtype=_d.int32)
            sv = full
        if w.shape.rank == sr + 2 and w.shape[sr] is not None:
            _, _, c = _split(sv, sr, p["data_format"])
            if c is None or c % w.shape[sr]:  # equal unless grouped
                raise ValueError(
                    f"{op}: output_shape's channel dimension ({c}) must match the filter's output "
                    f"channels, filters.shape[{sr}] = {w.shape[sr]}"
                )
    return bind(conv_bpi_p, (sizes, w, x), p)


@tf_export("nn.conv2d_transpose")
def conv2d_transpose(
    input,
    filters,
    output_shape,
    strides,
    padding="SAME",
    data_format="NHWC",
    dilations=None,
    name=None,
):  # noqa: A002
    """Transposed 2-D convolution (the gradient of ``conv2d`` w.r.t. its input).

    ``filters`` is [kh, kw, out_channels, in_channels]; ``output_shape`` the full output shape.
    """
    return _conv_transpose(
        input,
        filters,
        output_shape,
        2,
        strides,
        padding,
        data_format,
        dilations,
        "conv2d_transpose",
    )


@tf_export("nn.conv1d_transpose")
def conv1d_transpose(
    input,
    filters,
    output_shape,
    strides,
    padding="SAME",
    data_format="NWC",
    dilations=None,
    name=None,
):  # noqa: A002
    """Transposed 1-D convolution; ``filters`` is [kw, out_channels, in_channels]."""
    return _conv_transpose(
        input,
        filters,
        output_shape,
        1,
        strides,
        padding,
        data_format,
        dilations,
        "conv1d_transpose",
    )


@tf_export("nn.conv3d_transpose")
def conv3d_transpose(
    input,
    filters,
    output_shape,
    strides,
    padding="SAME",
    data_format="NDHWC",
    dilations=None,
    name=None,
):  # noqa: A002
    """Transposed 3-D convolution; ``filters`` is [kd, kh, kw, out_channels, in_channels]."""
    return _conv_transpose(
        input,
        filters,
        output_shape,
        3,
        strides,
        padding,
        data_format,
        dilations,
        "conv3d_transpose",
    )


@tf_export("nn.conv_transpose")
def conv_transpose(
    input,
    filters,
    output_shape,
    strides,
    padding="SAME",
    data_format=None,
    dilations=None,
    name=None,
):  # noqa: A002
    """Transposed N-d convolution; the number of spatial dims is ``rank(filters) - 2``."""
    w = convert_to_tensor(filters)
    r = w.shape.rank
    if r is None or r not in (3, 4, 5):
        raise ValueError(f"conv_transpose: filters must have rank 3, 4 or 5, got shape {w.shape}")
    return _conv_transpose(
        input, w, output_shape, r - 2, strides, padding, data_format, dilations, "conv_transpose"
    )


@tf_export("nn.depthwise_conv2d")
def depthwise_conv2d(input, filter, strides, padding, data_format=None, dilations=None, name=None):  # noqa: A002
    """Depthwise 2-D convolution: each input channel c is convolved with ``filter[:, :, c, :]``.

    ``filter`` is [kh, kw, C, multiplier]; output channel ``c * multiplier + m``.
    """
    x, w = _conv_args(input, filter)
    p = _conv_params(2, strides, padding, data_format, dilations, "DepthwiseConv2dNative")
    ws = w.shape
    if ws.rank != 4:
        raise ValueError(
            f"depthwise_conv2d: filter must be 4-D [kh, kw, C, multiplier], got shape {ws}"
        )
    if x.shape.rank is not None:
        _, _, c = _split(x.shape.as_list(), 2, p["data_format"])
        if c is not None and ws[2] is not None and c != ws[2]:
            raise op_error(
                InvalidArgumentError, "DepthwiseConv2dNative",
                f"input and filter must have the same depth: {c} vs {ws[2]}",
            )  # fmt: skip
    if ws[0] is None or ws[1] is None:
        raise ValueError(
            f"depthwise_conv2d: the filter's spatial size must be known, got shape {ws}"
        )
    w2 = reshape(w, [ws[0], ws[1], 1, -1])
    return bind(conv2d_p, (x, w2), p)


@tf_export("nn.separable_conv2d")
def separable_conv2d(
    input,
    depthwise_filter,
    pointwise_filter,
    strides,
    padding,
    data_format=None,
    dilations=None,
    name=None,
):  # noqa: A002
    """Depthwise convolution followed by a 1x1 (pointwise) convolution."""
    d = depthwise_conv2d(
        input, depthwise_filter, strides, padding, data_format=data_format, dilations=dilations
    )
    return conv2d(d, pointwise_filter, 1, "VALID", data_format=_norm_format(data_format))


@tf_export("nn.atrous_conv2d")
def atrous_conv2d(value, filters, rate, padding, name=None):
    """2-D convolution with dilation ``rate`` (a.k.a. dilated convolution)."""
    return conv2d(value, filters, 1, padding, dilations=rate)


@tf_export("nn.atrous_conv2d_transpose")
def atrous_conv2d_transpose(value, filters, output_shape, rate, padding, name=None):
    """Transpose of ``atrous_conv2d``."""
    return conv2d_transpose(value, filters, output_shape, 1, padding, dilations=rate)


# --------------------------------------------------------------------------------------
# Public pooling
# --------------------------------------------------------------------------------------


def _pool(prim, input, ksize, strides, padding, data_format, sr, op, allow_explicit):  # noqa: A002
    x = convert_to_tensor(input)
    df = _norm_format(data_format)
    if sr is None:
        if x.shape.rank is None:
            raise ValueError(f"{op}: the input rank must be known.")
        sr = x.shape.rank - 2
        if sr not in (1, 2, 3):
            raise ValueError(f"{op}: input must have rank 3, 4 or 5, got shape {x.shape}")
    pad, explicit = _norm_padding(padding, sr, df, op, allow_explicit)
    params = {
        "ksize": _norm_ints(ksize, sr, "ksize", df, op),
        "strides": _norm_ints(strides, sr, "strides", df, op),
        "padding": pad,
        "explicit_paddings": explicit,
        "data_format": df,
    }
    if prim is avg_pool_p and x.dtype not in _AVG_DTYPES:
        raise op_error(
            InvalidArgumentError, op, f"input dtype {x.dtype.name} is not supported; average pooling "
            "needs half, bfloat16, float32 or float64"
        )  # fmt: skip
    return bind(prim, (x,), params)


@tf_export("nn.max_pool2d")
def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    """Max over ``ksize`` windows of a [N, H, W, C] input (SAME pads with -inf)."""
    return _pool(max_pool_p, input, ksize, strides, padding, data_format, 2, "MaxPool", True)


@tf_export("nn.max_pool1d")
def max_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    """Max pooling over a [N, W, C] input."""
    return _pool(max_pool_p, input, ksize, strides, padding, data_format, 1, "MaxPool1D", True)


@tf_export("nn.max_pool3d")
def max_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None):  # noqa: A002
    """Max pooling over a [N, D, H, W, C] input."""
    return _pool(max_pool_p, input, ksize, strides, padding, data_format, 3, "MaxPool3D", False)


@tf_export("nn.max_pool")
def max_pool(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
    """Max pooling; 1-D, 2-D or 3-D by the input's rank."""
    return _pool(max_pool_p, input, ksize, strides, padding, data_format, None, "MaxPool", True)


@tf_export("nn.avg_pool2d")
def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    """Mean over ``ksize`` windows of a [N, H, W, C] input (SAME averages only real elements)."""
    return _pool(avg_pool_p, input, ksize, strides, padding, data_format, 2, "AvgPool", False)


@tf_export("nn.avg_pool1d")
def avg_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    """Average pooling over a [N, W, C] input."""
    return _pool(avg_pool_p, input, ksize, strides, padding, data_format, 1, "AvgPool1D", False)


@tf_export("nn.avg_pool3d")
def avg_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None):  # noqa: A002
    """Average pooling over a [N, D, H, W, C] input."""
    return _pool(avg_pool_p, input, ksize, strides, padding, data_format, 3, "AvgPool3D", False)


@tf_export("nn.avg_pool")
def avg_pool(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
    """Average pooling; 1-D, 2-D or 3-D by the input's rank."""
    return _pool(avg_pool_p, input, ksize, strides, padding, data_format, None, "AvgPool", False)
