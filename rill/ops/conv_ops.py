"""Convolutions and pooling (NHWC), vectorised with one BLAS matmul per call.

Every kernel here is rank-generic over the spatial dimensions (1-D, 2-D and 3-D share one
implementation; the number of spatial dims is ``len(strides)``). Windows are gathered with
``sliding_window_view`` (a strided view, no copy) and contracted with the filter in one
``tensordot``/``matmul``. Transposed convolutions (the input gradient) are a forward
convolution of the stride-dilated upstream gradient with the flipped filter; filter
gradients are one contraction of the input windows with the upstream gradient. The three
conv primitives are each other's duals, so gradients of gradients work to any order.
"""

from __future__ import annotations

import math

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import UnimplementedError
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    TensorShape,
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

_CONV_DTYPES = frozenset([_d.float16, _d.bfloat16, _d.float32, _d.float64, _d.int32])
_POOL_DTYPES = _d.REAL
_AVG_DTYPES = _d.FLOATS

# --------------------------------------------------------------------------------------
# Geometry helpers (plain Python ints; None = unknown)
# --------------------------------------------------------------------------------------


def _pads(in_sizes, ksizes, strides, dilations, padding, explicit):
    """Per spatial axis (before, after) padding, TF's arithmetic (extra SAME pad at the end)."""
    if padding == "VALID":
        return [(0, 0)] * len(in_sizes)
    if padding == "EXPLICIT":
        return [tuple(p) for p in explicit]
    out = []
    for n, k, s, d in zip(in_sizes, ksizes, strides, dilations):
        if n is None:
            out.append(None)
            continue
        eff = (k - 1) * d + 1
        total = max((-(-n // s) - 1) * s + eff - n, 0)
        out.append((total // 2, total - total // 2))
    return out


def _out_sizes(in_sizes, ksizes, strides, dilations, padding, explicit):
    pads = _pads(in_sizes, ksizes, strides, dilations, padding, explicit)
    out = []
    for n, k, s, d, p in zip(in_sizes, ksizes, strides, dilations, pads):
        if n is None or k is None or p is None:
            out.append(None)
            continue
        eff = (k - 1) * d + 1
        full = n + p[0] + p[1] - eff
        out.append(full // s + 1 if full >= 0 else 0)
    return out


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


# Kernel helpers: arrays of the backend's namespace ``xp`` in and out.


def _to_nhwc(xp, x, sr, data_format):
    """Channels-last array with the batch dims flattened to one; returns (array, batch shape)."""
    nb = x.ndim - sr - 1
    bshape = x.shape[:nb]
    if data_format == "NCHW":
        x = xp.moveaxis(x, nb, -1)
    return x.reshape((-1,) + x.shape[nb:]), bshape


def _from_nhwc(xp, y, bshape, data_format):
    y = y.reshape(tuple(bshape) + y.shape[1:])
    if data_format == "NCHW":
        y = xp.moveaxis(y, -1, len(bshape))
    return y


def _compute_dtype(x):
    return np.float32 if x.dtype.kind == "f" and x.dtype.itemsize < 4 else x.dtype


def _windows(xp, padded, ksizes, strides, dilations):
    """View (N, *out, C, *k) of the (padded) channels-last input's windows."""
    sr = len(ksizes)
    eff = [(k - 1) * d + 1 for k, d in zip(ksizes, dilations)]
    if any(padded.shape[1 + i] < eff[i] for i in range(sr)):
        return None
    w = xp.lib.stride_tricks.sliding_window_view(padded, eff, axis=tuple(range(1, sr + 1)))
    idx = (slice(None),) + tuple(slice(None, None, s) for s in strides) + (slice(None),)
    idx += tuple(slice(None, None, d) for d in dilations)
    return w[idx]


def _pad_nhwc(xp, x, pads, value=0):
    if all(p == (0, 0) for p in pads):
        return x
    return xp.pad(x, [(0, 0)] + [tuple(p) for p in pads] + [(0, 0)], constant_values=value)


def _conv_nhwc(xp, x, w, strides, dilations, pads):
    """Grouped N-d convolution of channels-last ``x`` (N, *S, C) with ``w`` (*K, C/G, Co)."""
    sr = len(strides)
    ksizes = w.shape[:sr]
    cg, co = w.shape[sr], w.shape[sr + 1]
    n, c = x.shape[0], x.shape[-1]
    groups = c // cg
    in_sizes = list(x.shape[1:-1])
    out_sp = _out_sizes(in_sizes, ksizes, strides, dilations, "EXPLICIT", pads)
    if 0 in out_sp or n == 0:
        return xp.zeros((n, *out_sp, co), dtype=x.dtype)
    if groups == 1 and all(k == 1 for k in ksizes) and all(p == (0, 0) for p in pads):
        xs = x[(slice(None),) + tuple(slice(None, None, s) for s in strides)]
        return xp.tensordot(xs, w.reshape(cg, co), axes=([sr + 1], [0]))
    win = _windows(xp, _pad_nhwc(xp, x, pads), ksizes, strides, dilations)
    if groups == 1:
        return xp.tensordot(win, w, axes=([sr + 1, *range(sr + 2, 2 * sr + 2)], [sr, *range(sr)]))
    m = math.prod(win.shape[: sr + 1])
    kp = math.prod(ksizes)
    cog = co // groups
    p = win.reshape(m, groups, cg * kp).transpose(1, 0, 2)  # (G, M, Cg*K)
    wk = xp.moveaxis(w, sr, 0).reshape(cg * kp, groups, cog).transpose(1, 0, 2)  # (G, Cg*K, Cog)
    out = xp.matmul(p, wk)  # (G, M, Cog)
    return out.transpose(1, 0, 2).reshape(win.shape[: sr + 1] + (co,))


def _conv_filter_grad_nhwc(xp, x, dy, ksizes, strides, dilations, pads, groups):
    """Gradient of ``_conv_nhwc`` w.r.t. its filter: (*K, C/G, Co)."""
    sr = len(strides)
    c, co = x.shape[-1], dy.shape[-1]
    cg = c // groups
    win = _windows(xp, _pad_nhwc(xp, x, pads), ksizes, strides, dilations)
    if win is None or dy.size == 0:
        return xp.zeros((*ksizes, cg, co), dtype=x.dtype)
    win = win[(slice(None),) + tuple(slice(0, o) for o in dy.shape[1:-1])]
    if groups == 1:
        g = xp.tensordot(win, dy, axes=(list(range(sr + 1)), list(range(sr + 1))))  # (C, *K, Co)
        return xp.moveaxis(g, 0, sr)
    m = math.prod(dy.shape[:-1])
    kp = math.prod(ksizes)
    cog = co // groups
    p = win.reshape(m, groups, cg * kp).transpose(1, 2, 0)  # (G, Cg*K, M)
    d = dy.reshape(m, groups, cog).transpose(1, 0, 2)  # (G, M, Cog)
    g = xp.matmul(p, d).reshape(groups, cg, *ksizes, cog)
    g = xp.moveaxis(g, 0, -2)  # (Cg, *K, G, Cog)
    return xp.moveaxis(g, 0, sr).reshape(*ksizes, cg, co)


def _dilate_pad_crop(xp, dy, ksizes, in_sizes, strides, dilations, pads):
    """Stride-dilate ``dy`` and pad/crop it so a VALID stride-1 window pass gives the input range."""
    sr = len(strides)
    n = dy.shape[0]
    dil_shape = [(o - 1) * s + 1 for o, s in zip(dy.shape[1:-1], strides)]
    if all(s == 1 for s in strides):
        dd = dy
    else:
        dd = xp.zeros((n, *dil_shape, dy.shape[-1]), dtype=dy.dtype)
        dd[(slice(None),) + tuple(slice(None, None, s) for s in strides)] = dy
    widths, sl = [], [slice(None)]
    for i in range(sr):
        eff = (ksizes[i] - 1) * dilations[i] + 1
        hp = in_sizes[i] + pads[i][0] + pads[i][1]
        widths.append((eff - 1, max(hp - dil_shape[i], 0)))
        sl.append(slice(pads[i][0], pads[i][0] + in_sizes[i] + eff - 1))
    return _pad_nhwc(xp, dd, widths)[tuple(sl) + (slice(None),)]


def _conv_transpose_nhwc(xp, dy, w, in_sizes, strides, dilations, pads, groups):
    """Gradient of ``_conv_nhwc`` w.r.t. its input: (N, *in_sizes, C)."""
    sr = len(strides)
    ksizes = w.shape[:sr]
    cg, co = w.shape[sr], w.shape[sr + 1]
    n = dy.shape[0]
    if n == 0 or 0 in dy.shape[1:-1] or 0 in in_sizes:
        return xp.zeros((n, *in_sizes, cg * groups), dtype=dy.dtype)
    dd = _dilate_pad_crop(xp, dy, ksizes, in_sizes, strides, dilations, pads)
    cog = co // groups
    wf = w[tuple(slice(None, None, -1) for _ in range(sr))]
    wf = wf.reshape(*ksizes, cg, groups, cog)
    perm = (*range(sr), sr + 2, sr + 1, sr)
    wf = wf.transpose(perm).reshape(*ksizes, cog, groups * cg)  # (*K, Cog, G*Cg)
    return _conv_nhwc(xp, dd, wf, (1,) * sr, dilations, [(0, 0)] * sr)


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
        if co is not None and co % groups:
            raise op_error(
                InvalidArgumentError, op, f"output depth {co} must be divisible by the number of groups "
                f"{groups} (input depth {c} / filter depth {cg})"
            )  # fmt: skip
    return batch, spatial, c, groups


def _conv_rule(x, w, strides, dilations, padding, explicit_paddings, data_format):
    sr = len(strides)
    xd = _dims(x)
    wd = _dims(w) or [None] * (sr + 2)
    if xd is None:
        return AVal(TensorShape(None), x.dtype)
    batch, spatial, _, _ = _check_conv("Conv2D", xd, wd, sr, data_format)
    out = _out_sizes(spatial, wd[:sr], strides, dilations, padding, explicit_paddings)
    return AVal(_join(batch, out, wd[sr + 1], data_format), x.dtype)


def _conv_kernel(xp, x, w, strides, dilations, padding, explicit_paddings, data_format):
    sr = len(strides)
    _check_conv("Conv2D", list(x.shape), list(w.shape), sr, data_format)
    cd = _compute_dtype(x)
    xn, bshape = _to_nhwc(xp, x.astype(cd, copy=False), sr, data_format)
    pads = _pads(list(xn.shape[1:-1]), w.shape[:sr], strides, dilations, padding, explicit_paddings)
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


def _bpi_kernel(xp, sizes, w, dy, strides, dilations, padding, explicit_paddings, data_format):
    sr = len(strides)
    s = [int(v) for v in sizes.reshape(-1)]
    batch, spatial, c, groups = _check_conv(
        "Conv2DBackpropInput", s, list(w.shape), sr, data_format
    )
    cd = _compute_dtype(dy)
    dyn, _ = _to_nhwc(xp, dy.astype(cd, copy=False), sr, data_format)
    exp = _out_sizes(spatial, w.shape[:sr], strides, dilations, padding, explicit_paddings)
    _check_out("Conv2DBackpropInput", dyn.shape[1:-1], exp, spatial)
    pads = _pads(spatial, w.shape[:sr], strides, dilations, padding, explicit_paddings)
    dx = _conv_transpose_nhwc(
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


def _bpf_kernel(xp, x, fsizes, dy, strides, dilations, padding, explicit_paddings, data_format):
    sr = len(strides)
    s = [int(v) for v in fsizes.reshape(-1)]
    _, spatial, _, groups = _check_conv("Conv2DBackpropFilter", list(x.shape), s, sr, data_format)
    cd = _compute_dtype(x)
    xn, _ = _to_nhwc(xp, x.astype(cd, copy=False), sr, data_format)
    dyn, _ = _to_nhwc(xp, dy.astype(cd, copy=False), sr, data_format)
    exp = _out_sizes(spatial, s[:sr], strides, dilations, padding, explicit_paddings)
    _check_out("Conv2DBackpropFilter", dyn.shape[1:-1], exp, spatial)
    pads = _pads(spatial, s[:sr], strides, dilations, padding, explicit_paddings)
    g = _conv_filter_grad_nhwc(xp, xn, dyn, s[:sr], strides, dilations, pads, groups)
    return g.astype(x.dtype, copy=False)


def _conv_grad(inputs, out, dy, **p):
    x, w = inputs
    return bind(conv_bpi_p, (shape(x), w, dy), p), bind(conv_bpf_p, (x, shape(w), dy), p)


def _bpi_grad(inputs, out, g, **p):
    _, w, dy = inputs
    return None, bind(conv_bpf_p, (g, shape(w), dy), p), bind(conv2d_p, (g, w), p)


def _bpf_grad(inputs, out, g, **p):
    x, _, dy = inputs
    return bind(conv_bpi_p, (shape(x), g, dy), p), None, bind(conv2d_p, (x, g), p)


conv2d_p = primitive(
    "Conv2D", _conv_kernel, _conv_rule, _conv_grad, dtypes=_CONV_DTYPES, same_dtype=True
)
conv_bpi_p = primitive("Conv2DBackpropInput", _bpi_kernel, _bpi_rule, _bpi_grad)
conv_bpf_p = primitive("Conv2DBackpropFilter", _bpf_kernel, _bpf_rule, _bpf_grad)

# --------------------------------------------------------------------------------------
# Pooling primitives
# --------------------------------------------------------------------------------------


def _pool_geometry(op, dims, ksize, strides, padding, explicit_paddings, data_format):
    sr = len(ksize)
    if len(dims) != sr + 2:
        raise op_error(
            InvalidArgumentError, op, f"input must be {sr + 2}-dimensional (batch, {sr} spatial, channels), "
            f"got shape {dims}"
        )  # fmt: skip
    batch, spatial, c = _split(dims, sr, data_format)
    out = _out_sizes(spatial, ksize, strides, (1,) * sr, padding, explicit_paddings)
    return batch, spatial, c, out


def _pool_rule(op):
    def rule(x, ksize, strides, padding, explicit_paddings, data_format):
        xd = _dims(x)
        if xd is None:
            return AVal(TensorShape(None), x.dtype)
        batch, _, c, out = _pool_geometry(
            op, xd, ksize, strides, padding, explicit_paddings, data_format
        )
        return AVal(_join(batch, out, c, data_format), x.dtype)

    return rule


def _fill_min(dtype):
    return -math.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _max_pool_kernel(xp, x, ksize, strides, padding, explicit_paddings, data_format):
    sr = len(ksize)
    batch, spatial, c, out = _pool_geometry(
        "MaxPool", list(x.shape), ksize, strides, padding, explicit_paddings, data_format
    )
    xn, bshape = _to_nhwc(xp, x, sr, data_format)
    pads = _pads(spatial, ksize, strides, (1,) * sr, padding, explicit_paddings)
    win = _windows(xp, _pad_nhwc(xp, xn, pads, _fill_min(x.dtype)), ksize, strides, (1,) * sr)
    if win is None or win.size == 0:
        y = xp.zeros((xn.shape[0], *out, c), dtype=x.dtype)
    else:
        y = win.max(axis=tuple(range(-sr, 0)))
    return _from_nhwc(xp, y, bshape, data_format)


def _argmax_flat(xp, xn, ksize, strides, pads):
    """Flat indices (into the padded input) of each window's first maximum: (N, *out, C)."""
    sr = len(ksize)
    padded = _pad_nhwc(xp, xn, pads, _fill_min(xn.dtype))
    win = _windows(xp, padded, ksize, strides, (1,) * sr)
    if win is None or win.size == 0:
        return padded.shape, xp.zeros((0,), dtype=xp.int64)
    a = win.reshape(win.shape[: sr + 2] + (-1,)).argmax(axis=-1)
    taps = xp.unravel_index(a, ksize)
    flat = xp.arange(padded.shape[0], dtype=xp.int64).reshape((-1,) + (1,) * (sr + 1))
    for i in range(sr):
        o = xp.arange(a.shape[1 + i], dtype=xp.int64).reshape(
            (1,) * (1 + i) + (-1,) + (1,) * (sr - i)
        )
        flat = flat * padded.shape[1 + i] + (o * strides[i] + taps[i])
    flat = flat * padded.shape[-1] + xp.arange(padded.shape[-1], dtype=xp.int64)
    return padded.shape, flat


def _crop(padded, pads, spatial):
    return padded[
        (slice(None),)
        + tuple(slice(p[0], p[0] + n) for p, n in zip(pads, spatial))
        + (slice(None),)
    ]


def _max_pool_grad_kernel(xp, x, out, dy, ksize, strides, padding, explicit_paddings, data_format):
    sr = len(ksize)
    _, spatial, _, _ = _pool_geometry(
        "MaxPoolGrad", list(x.shape), ksize, strides, padding, explicit_paddings, data_format
    )
    xn, bshape = _to_nhwc(xp, x, sr, data_format)
    dyn, _ = _to_nhwc(xp, dy, sr, data_format)
    pads = _pads(spatial, ksize, strides, (1,) * sr, padding, explicit_paddings)
    pshape, flat = _argmax_flat(xp, xn, ksize, strides, pads)
    if flat.size != dyn.size:
        raise op_error(
            InvalidArgumentError,
            "MaxPoolGrad",
            f"grad shape {list(dy.shape)} does not match the pooled output",
        )
    g = xp.bincount(flat.reshape(-1), weights=dyn.reshape(-1), minlength=math.prod(pshape))
    g = _crop(g.reshape(pshape), pads, spatial).astype(dy.dtype)
    return _from_nhwc(xp, g, bshape, data_format)


def _max_pool_grad_grad_kernel(
    xp, x, out, g, ksize, strides, padding, explicit_paddings, data_format
):
    sr = len(ksize)
    _, spatial, c, osz = _pool_geometry(
        "MaxPoolGradGrad", list(x.shape), ksize, strides, padding, explicit_paddings, data_format
    )
    xn, bshape = _to_nhwc(xp, x, sr, data_format)
    gn, _ = _to_nhwc(xp, g, sr, data_format)
    pads = _pads(spatial, ksize, strides, (1,) * sr, padding, explicit_paddings)
    _, flat = _argmax_flat(xp, xn, ksize, strides, pads)
    gp = _pad_nhwc(xp, gn, pads)
    y = gp.reshape(-1)[flat] if flat.size else xp.zeros((xn.shape[0], *osz, c), dtype=g.dtype)
    return _from_nhwc(xp, y, bshape, data_format)


def _mp_rule_from_x(op):
    def rule(x, out, dy, ksize, strides, padding, explicit_paddings, data_format):
        xd = _dims(x)
        if xd is not None:
            batch, _, c, osz = _pool_geometry(
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
)
max_pool_grad_grad_p = primitive(
    "MaxPoolGradGrad",
    _max_pool_grad_grad_kernel,
    _mp_rule_from_x("MaxPoolGradGrad"),
    lambda inputs, out, g, **p: (None, None, bind(max_pool_grad_p, (inputs[0], inputs[1], g), p)),
    dtypes=_POOL_DTYPES,
    same_dtype=True,
)


def _avg_counts(xp, spatial, ksize, strides, pads, out):
    """Number of valid (non-padding) input elements under each output window: shape (*out)."""
    cnt = xp.ones((), dtype=xp.float64)
    for n, k, s, p, o in zip(spatial, ksize, strides, pads, out):
        start = xp.arange(o) * s - p[0]
        c = xp.minimum(start + k, n) - xp.maximum(start, 0)
        cnt = cnt[..., None] * c  # outer product
    return cnt


def _avg_pool_kernel(xp, x, ksize, strides, padding, explicit_paddings, data_format):
    sr = len(ksize)
    _, spatial, c, out = _pool_geometry(
        "AvgPool", list(x.shape), ksize, strides, padding, explicit_paddings, data_format
    )
    cd = _compute_dtype(x)
    xn, bshape = _to_nhwc(xp, x.astype(cd, copy=False), sr, data_format)
    pads = _pads(spatial, ksize, strides, (1,) * sr, padding, explicit_paddings)
    win = _windows(xp, _pad_nhwc(xp, xn, pads), ksize, strides, (1,) * sr)
    if win is None or win.size == 0:
        y = xp.zeros((xn.shape[0], *out, c), dtype=cd)
    else:
        cnt = _avg_counts(xp, spatial, ksize, strides, pads, out).astype(cd)
        y = win.sum(axis=tuple(range(-sr, 0))) / cnt[..., None]
    return _from_nhwc(xp, y, bshape, data_format).astype(x.dtype, copy=False)


def _avg_grad_rule(sizes, dy, ksize, strides, padding, explicit_paddings, data_format):
    dyd = _dims(dy)
    s = _sizes_of(sizes, None if dyd is None else len(dyd))
    if s is None:
        return AVal(TensorShape(None), dy.dtype)
    _pool_geometry("AvgPoolGrad", s, ksize, strides, padding, explicit_paddings, data_format)
    return AVal(s, dy.dtype)


def _avg_pool_grad_kernel(xp, sizes, dy, ksize, strides, padding, explicit_paddings, data_format):
    sr = len(ksize)
    s = [int(v) for v in sizes.reshape(-1)]
    batch, spatial, c, out = _pool_geometry(
        "AvgPoolGrad", s, ksize, strides, padding, explicit_paddings, data_format
    )
    cd = _compute_dtype(dy)
    dyn, _ = _to_nhwc(xp, dy.astype(cd, copy=False), sr, data_format)
    _check_out("AvgPoolGrad", dyn.shape[1:-1], out, spatial)
    n = dyn.shape[0]
    if dyn.size == 0 or 0 in spatial:
        dx = xp.zeros((n, *spatial, c), dtype=cd)
    else:
        pads = _pads(spatial, ksize, strides, (1,) * sr, padding, explicit_paddings)
        g = dyn / _avg_counts(xp, spatial, ksize, strides, pads, out).astype(cd)[..., None]
        dd = _dilate_pad_crop(xp, g, ksize, spatial, strides, (1,) * sr, pads)
        win = _windows(xp, dd, ksize, (1,) * sr, (1,) * sr)
        dx = win.sum(axis=tuple(range(-sr, 0)))
    return _from_nhwc(xp, dx, batch, data_format).astype(dy.dtype, copy=False)


avg_pool_p = primitive(
    "AvgPool",
    _avg_pool_kernel,
    _pool_rule("AvgPool"),
    lambda inputs, out, dy, **p: (bind(avg_pool_grad_p, (shape(inputs[0]), dy), p),),
    dtypes=_AVG_DTYPES,
)
avg_pool_grad_p = primitive(
    "AvgPoolGrad",
    _avg_pool_grad_kernel,
    _avg_grad_rule,
    lambda inputs, out, g, **p: (None, bind(avg_pool_p, (g,), p)),
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


def _ints(v):
    if is_tensor_like(v):
        v = static_value(v)
        if v is None:
            raise ValueError("conv/pool: strides, ksize and dilations must be known statically.")
    if isinstance(v, (int, np.integer)):
        return [int(v)]
    return [int(t) for t in np.asarray(v).reshape(-1)]


def _norm_ints(v, sr, name, data_format, op):
    """int / list of length 1, sr or sr+2 -> tuple of sr spatial values (all >= 1)."""
    if v is None:
        return (1,) * sr
    vals = _ints(v)
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
