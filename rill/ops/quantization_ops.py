"""``tf.quantization``: fake quantization, quantize-and-dequantize, and TF's quantized dtypes.

The fake-quant ops snap float32 values to the grid of a ``num_bits`` integer type whose
range is *nudged* so that 0.0 is exactly representable; their gradients pass straight
through inside the nudged range and are zero outside it (to ``min``/``max`` for the
``vars`` forms). ``quantize`` / ``dequantize`` / ``quantized_concat`` convert between float
tensors and tensors of ``qint8``/``quint8``/``qint16``/``quint16``/``qint32``, which store
their integers in one-field NumPy record arrays. All arithmetic is float32, as TF's
kernels do it, so values match bit for bit.
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    bind,
    convert_to_tensor,
    op_error,
    primitive,
    static_int,
    tf_export,
)

_F32 = frozenset([_d.float32])
_QFLOATS = frozenset([_d.bfloat16, _d.float16, _d.float32, _d.float64])
_f32 = np.float32


# --------------------------------------------------------------------------------------
# fake quantization
# --------------------------------------------------------------------------------------


def _check_bits(op, num_bits, narrow_range):
    if not 2 <= num_bits <= 16:
        raise op_error(
            InvalidArgumentError, op, f"num_bits is out of range, expected between 2 and 16, "
            f"was: {num_bits}",
        )  # fmt: skip


def _nudge(mn, mx, num_bits, narrow_range):
    """(nudged_min, nudged_max, scale): the range moved so that 0.0 falls on the grid."""
    qmin = _f32(1.0 if narrow_range else 0.0)
    qmax = _f32((1 << num_bits) - 1)
    mn, mx = np.asarray(mn, _f32), np.asarray(mx, _f32)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = ((mx - mn) / (qmax - qmin)).astype(_f32)
        zp = (qmin - mn / scale).astype(_f32)
    # zp >= qmin >= 0 where it is rounded, so floor(x + 0.5) is C's round (half away)
    nudged_zp = np.where(zp < qmin, qmin, np.where(zp > qmax, qmax, np.floor(zp + _f32(0.5))))
    nudged_zp = nudged_zp.astype(_f32)
    return (
        ((qmin - nudged_zp) * scale).astype(_f32),
        ((qmax - nudged_zp) * scale).astype(_f32),
        scale,
    )


def _fake_quant(x, mn, mx, num_bits, narrow_range):
    nmin, nmax, scale = _nudge(mn, mx, num_bits, narrow_range)
    inv = (_f32(1.0) / scale).astype(_f32)
    clamped = np.minimum(np.maximum(x, nmin), nmax)
    q = np.floor(((clamped - nmin) * inv).astype(_f32) + _f32(0.5))
    # the dequantized value is (q - zero point) * scale: this order reproduces TF's
    # float32 results (q * scale + nudged_min rounds differently)
    zp = np.floor(-nmin / scale + _f32(0.5)).astype(_f32)
    return ((q - zp) * scale).astype(_f32)


def _args_kernel(x, min, max, num_bits, narrow_range):  # noqa: A002 - TF's attr names
    return _fake_quant(x, min, max, num_bits, narrow_range)


def _args_grad(inputs, out, dy, min, max, num_bits, narrow_range):  # noqa: A002
    params = dict(min=min, max=max, num_bits=num_bits, narrow_range=narrow_range)
    return (bind(fake_quant_args_grad_p, (dy, inputs[0]), params),)


def _unary_f32_rule(op):
    def rule(x, *rest, **_):
        return AVal(x.shape, x.dtype)

    return rule


fake_quant_args_p = primitive(
    "FakeQuantWithMinMaxArgs", _args_kernel, _unary_f32_rule("FakeQuantWithMinMaxArgs"),
    _args_grad, dtypes=_F32, host=True, saves=(0,), saves_output=False,
)  # fmt: skip


def _args_grad_kernel(g, x, min, max, num_bits, narrow_range):  # noqa: A002
    nmin, nmax, _ = _nudge(min, max, num_bits, narrow_range)
    return np.where((x >= nmin) & (x <= nmax), g, _f32(0)).astype(_f32)


def _grad_rule(op):
    def rule(g, x, *rest, **_):
        return AVal(x.shape, x.dtype)

    return rule


fake_quant_args_grad_p = primitive(
    "FakeQuantWithMinMaxArgsGradient", _args_grad_kernel,
    _grad_rule("FakeQuantWithMinMaxArgsGradient"), dtypes=_F32, host=True,
)  # fmt: skip


def _vars_kernel(x, mn, mx, num_bits, narrow_range):
    return _fake_quant(x, mn, mx, num_bits, narrow_range)


def _vars_grad_kernel(g, x, mn, mx, num_bits, narrow_range):
    nmin, nmax, _ = _nudge(mn, mx, num_bits, narrow_range)
    inside = (x >= nmin) & (x <= nmax)
    axes = tuple(range(x.ndim - np.ndim(mn)))  # per channel: keep the last axis
    zero = _f32(0)
    dmin = np.where(x < nmin, g, zero).sum(axis=axes, dtype=_f32)
    dmax = np.where(x > nmax, g, zero).sum(axis=axes, dtype=_f32)
    return np.where(inside, g, zero).astype(_f32), dmin.astype(_f32), dmax.astype(_f32)


def _vars_rule(op, per_channel):
    def rule(x, mn, mx, **_):
        want = 1 if per_channel else 0
        for name, a in (("min", mn), ("max", mx)):
            if a.rank is not None and a.rank != want:
                raise op_error(
                    InvalidArgumentError, op, f"{name} must be rank {want}, got shape {a.shape}"
                )
        if per_channel and x.rank is not None:
            d = x.shape.as_list()[-1] if x.rank else None
            m = mn.shape.as_list()[0] if mn.rank else None
            if x.rank == 0 or (d is not None and m is not None and d != m):
                raise op_error(
                    InvalidArgumentError, op, f"the last dimension of inputs {x.shape} must "
                    f"equal the length of min and max {mn.shape}",
                )  # fmt: skip
        return AVal(x.shape, x.dtype)

    return rule


def _vars_grad_rule(op, per_channel):
    fwd = _vars_rule(op, per_channel)

    def rule(g, x, mn, mx, **_):
        fwd(x, mn, mx)
        return AVal(x.shape, x.dtype), AVal(mn.shape, mn.dtype), AVal(mx.shape, mx.dtype)

    return rule


def _make_vars(name, per_channel):
    grad_p = primitive(
        name + "Gradient", _vars_grad_kernel, _vars_grad_rule(name + "Gradient", per_channel),
        dtypes=_F32, host=True, n_out=3,
    )  # fmt: skip

    def grad(inputs, out, dy, num_bits, narrow_range):
        params = dict(num_bits=num_bits, narrow_range=narrow_range)
        return bind(grad_p, (dy, *inputs), params)

    fwd_p = primitive(
        name, _vars_kernel, _vars_rule(name, per_channel), grad, dtypes=_F32, host=True,
        saves_output=False,
    )  # fmt: skip
    return fwd_p, grad_p


fake_quant_vars_p, fake_quant_vars_grad_p = _make_vars("FakeQuantWithMinMaxVars", False)
fake_quant_vars_pc_p, fake_quant_vars_pc_grad_p = _make_vars(
    "FakeQuantWithMinMaxVarsPerChannel", True
)


def _f32_tensor(op, what, x):
    t = convert_to_tensor(x, dtype=_d.float32) if not hasattr(x, "dtype") else x
    t = convert_to_tensor(t)
    if t.dtype is not _d.float32:
        raise op_error(
            InvalidArgumentError, op, f"{what} must be float32, got {t.dtype.name}"
        )  # fmt: skip
    return t


def _args_params(op, min, max, num_bits, narrow_range):  # noqa: A002
    num_bits = static_int(op, "num_bits", num_bits)
    _check_bits(op, num_bits, narrow_range)
    if not float(min) < float(max):
        raise op_error(
            InvalidArgumentError, op, f"min has to be smaller than max, was: {float(min)} >= "
            f"{float(max)}",
        )  # fmt: skip
    return dict(min=float(min), max=float(max), num_bits=num_bits, narrow_range=bool(narrow_range))


@tf_export("quantization.fake_quant_with_min_max_args")
def fake_quant_with_min_max_args(
    inputs,
    min=-6,
    max=6,
    num_bits=8,
    narrow_range=False,
    name=None,  # noqa: A002
):
    """Fake-quantize float32 ``inputs`` to ``num_bits`` over the nudged ``[min, max]``."""
    op = "FakeQuantWithMinMaxArgs"
    x = _f32_tensor(op, "inputs", inputs)
    return bind(fake_quant_args_p, (x,), _args_params(op, min, max, num_bits, narrow_range))


@tf_export("quantization.fake_quant_with_min_max_args_gradient")
def fake_quant_with_min_max_args_gradient(
    gradients,
    inputs,
    min=-6,
    max=6,
    num_bits=8,
    narrow_range=False,
    name=None,  # noqa: A002
):
    """Straight-through gradient of ``fake_quant_with_min_max_args``."""
    op = "FakeQuantWithMinMaxArgsGradient"
    g, x = _f32_tensor(op, "gradients", gradients), _f32_tensor(op, "inputs", inputs)
    params = _args_params(op, min, max, num_bits, narrow_range)
    return bind(fake_quant_args_grad_p, (g, x), params)


def _vars_call(prim, op, tensors, num_bits, narrow_range):
    num_bits = static_int(op, "num_bits", num_bits)
    _check_bits(op, num_bits, narrow_range)
    names = ("gradients", "inputs", "min", "max")[-len(tensors) :]
    ts = tuple(_f32_tensor(op, n, t) for n, t in zip(names, tensors))
    return bind(prim, ts, dict(num_bits=num_bits, narrow_range=bool(narrow_range)))


@tf_export("quantization.fake_quant_with_min_max_vars")
def fake_quant_with_min_max_vars(inputs, min, max, num_bits=8, narrow_range=False, name=None):  # noqa: A002
    """Fake-quantize ``inputs`` over the nudged range of scalar tensors ``min``, ``max``."""
    return _vars_call(
        fake_quant_vars_p, "FakeQuantWithMinMaxVars", (inputs, min, max), num_bits, narrow_range
    )


@tf_export("quantization.fake_quant_with_min_max_vars_gradient")
def fake_quant_with_min_max_vars_gradient(
    gradients,
    inputs,
    min,
    max,
    num_bits=8,
    narrow_range=False,
    name=None,  # noqa: A002
):
    """Gradients of ``fake_quant_with_min_max_vars``: (wrt inputs, wrt min, wrt max)."""
    op = "FakeQuantWithMinMaxVarsGradient"
    t = (gradients, inputs, min, max)
    return _vars_call(fake_quant_vars_grad_p, op, t, num_bits, narrow_range)


@tf_export("quantization.fake_quant_with_min_max_vars_per_channel")
def fake_quant_with_min_max_vars_per_channel(
    inputs,
    min,
    max,
    num_bits=8,
    narrow_range=False,
    name=None,  # noqa: A002
):
    """Fake-quantize along the last axis of ``inputs`` with per-channel ``min``/``max``."""
    op = "FakeQuantWithMinMaxVarsPerChannel"
    return _vars_call(fake_quant_vars_pc_p, op, (inputs, min, max), num_bits, narrow_range)


@tf_export("quantization.fake_quant_with_min_max_vars_per_channel_gradient")
def fake_quant_with_min_max_vars_per_channel_gradient(
    gradients,
    inputs,
    min,
    max,
    num_bits=8,
    narrow_range=False,
    name=None,  # noqa: A002
):
    """Gradients of ``fake_quant_with_min_max_vars_per_channel``."""
    op = "FakeQuantWithMinMaxVarsPerChannelGradient"
    t = (gradients, inputs, min, max)
    return _vars_call(fake_quant_vars_pc_grad_p, op, t, num_bits, narrow_range)


# --------------------------------------------------------------------------------------
# quantize and dequantize (simulated integer quantization, float in and out)
# --------------------------------------------------------------------------------------


def _slice_shape(x, axis):
    """Shape that broadcasts a per-slice vector along ``axis`` (-1: per tensor)."""
    if axis == -1:
        return ()
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    return tuple(shape)


def _qdq_kernel(x, mn, mx, signed_input, num_bits, range_given, round_mode, narrow_range, axis):
    op = "QuantizeAndDequantizeV2"
    dt = x.dtype.type
    bshape = _slice_shape(x, axis)
    if range_given:
        mn = np.asarray(mn, x.dtype).reshape(bshape)
        mx = np.asarray(mx, x.dtype).reshape(bshape)
        if np.any(mn > mx):
            raise op_error(
                InvalidArgumentError, op, f"Invalid range: input_min {mn.ravel()} > "
                f"input_max {mx.ravel()}",
            )  # fmt: skip
    elif x.size == 0:
        return x.copy()
    else:
        red = tuple(i for i in range(x.ndim) if axis == -1 or i != axis)
        mn = x.min(axis=red, keepdims=True).reshape(bshape)
        mx = x.max(axis=red, keepdims=True).reshape(bshape)
    if signed_input:
        qmin = -(1 << (num_bits - 1)) + (1 if narrow_range else 0)
        qmax = (1 << (num_bits - 1)) - 1
    else:
        qmin, qmax = 0, (1 << num_bits) - 1
    qmin, qmax, big = dt(qmin), dt(qmax), np.finfo(x.dtype).max
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s_min = np.where(qmin * mn > 0, qmin / mn, big).astype(x.dtype)
        s_max = np.where(qmax * mx > 0, qmax / mx, big).astype(x.dtype)
        # the side that sets the scale keeps its bound; the other is moved onto the grid
        from_min = s_min < s_max
        scale = np.where(from_min, s_min, s_max).astype(x.dtype)
        inv = np.where(from_min, mn / qmin, mx / qmax).astype(x.dtype)
        lo = np.where(from_min, mn, qmin * inv).astype(x.dtype)
        hi = np.where(from_min, qmax * inv, mx).astype(x.dtype)
    v = np.minimum(np.maximum(x, lo), hi) * scale
    v = np.rint(v) if round_mode == "HALF_TO_EVEN" else np.floor(v + dt(0.5))
    return (v * inv).astype(x.dtype)


def _qdq_rule(x, mn, mx, axis, **_):
    return AVal(x.shape, x.dtype)


def _qdq_v2_grad(inputs, out, dy, **_):
    return dy, None, None  # TF's QuantizeAndDequantizeV2: the identity


def _qdq_v4_grad(inputs, out, dy, axis, **_):
    # zero outside the given [input_min, input_max] (TF reads the given range even when
    # range_given is False)
    from rill.ops.array_ops import cast, reshape, where_v2, zeros_like
    from rill.ops.math_ops import greater_equal, less_equal, logical_and

    x, mn, mx = inputs
    if axis != -1:
        shape = [1] * x.shape.rank
        shape[axis] = -1
        mn, mx = reshape(mn, shape), reshape(mx, shape)
    inside = logical_and(greater_equal(x, cast(mn, x.dtype)), less_equal(x, cast(mx, x.dtype)))
    return where_v2(inside, dy, zeros_like(dy)), None, None


_QDQ_FACTS = dict(dtypes=_QFLOATS, same_dtype=True, host=True, saves_output=False)
qdq_v2_p = primitive(
    "QuantizeAndDequantizeV2", _qdq_kernel, _qdq_rule, _qdq_v2_grad, saves=(), **_QDQ_FACTS
)
qdq_v4_p = primitive("QuantizeAndDequantizeV4", _qdq_kernel, _qdq_rule, _qdq_v4_grad, **_QDQ_FACTS)


def _qdq(prim, input, input_min, input_max, signed_input, num_bits, range_given, round_mode,
         narrow_range, axis):  # fmt: skip
    op = prim.name
    x = convert_to_tensor(input)
    if x.dtype not in _QFLOATS:
        raise op_error(
            InvalidArgumentError, op, f"input must be a float tensor (bfloat16, float16, "
            f"float32, float64), got {x.dtype.name}",
        )  # fmt: skip
    if axis is None:
        axis = -1
    elif axis < 0:
        if x.shape.rank is None:
            raise ValueError("input should have known rank to use negative axis.")
        axis %= x.shape.rank
    if axis != -1 and x.shape.rank is not None and axis >= x.shape.rank:
        raise op_error(
            InvalidArgumentError, op, f"axis {axis} is out of range for input of shape "
            f"{x.shape} (rank {x.shape.rank})",
        )  # fmt: skip
    if round_mode not in ("HALF_TO_EVEN", "HALF_UP"):
        raise op_error(
            InvalidArgumentError, op, f"round_mode must be 'HALF_TO_EVEN' or 'HALF_UP', got "
            f"{round_mode!r}",
        )  # fmt: skip
    num_bits = static_int(op, "num_bits", num_bits)
    lo_bits = 2 if signed_input else 1
    if not lo_bits <= num_bits <= 63:
        raise op_error(
            InvalidArgumentError, op, f"num_bits is out of range: {num_bits} with signed_input "
            f"{signed_input} (valid: {lo_bits} to 63)",
        )  # fmt: skip
    mn = convert_to_tensor(input_min, dtype=x.dtype)
    mx = convert_to_tensor(input_max, dtype=x.dtype)
    params = dict(
        signed_input=bool(signed_input), num_bits=num_bits, range_given=bool(range_given),
        round_mode=round_mode, narrow_range=bool(narrow_range), axis=int(axis),
    )  # fmt: skip
    return bind(prim, (x, mn, mx), params)


@tf_export("quantization.quantize_and_dequantize")
def quantize_and_dequantize(
    input, input_min, input_max, signed_input=True, num_bits=8, range_given=False,  # noqa: A002
    round_mode="HALF_TO_EVEN", name=None, narrow_range=False, axis=None,
):  # fmt: skip
    """Quantize then dequantize ``input`` (gradient: the identity)."""
    args = (input, input_min, input_max, signed_input, num_bits, range_given, round_mode)
    return _qdq(qdq_v2_p, *args, narrow_range, axis)


@tf_export("quantization.quantize_and_dequantize_v2")
def quantize_and_dequantize_v2(
    input, input_min, input_max, signed_input=True, num_bits=8, range_given=False,  # noqa: A002
    round_mode="HALF_TO_EVEN", name=None, narrow_range=False, axis=None,
):  # fmt: skip
    """Quantize then dequantize ``input``; the gradient is zero outside [min, max]."""
    args = (input, input_min, input_max, signed_input, num_bits, range_given, round_mode)
    return _qdq(qdq_v4_p, *args, narrow_range, axis)


# --------------------------------------------------------------------------------------
# quantize / dequantize / quantized_concat: float <-> quantized dtypes
# --------------------------------------------------------------------------------------

_QUANT = (_d.qint8, _d.quint8, _d.qint16, _d.quint16, _d.qint32)


def _int_of(qdtype):
    """The plain NumPy integer type a quantized dtype stores."""
    return qdtype.np.fields[qdtype.name][0].type


def _limits(qdtype):
    info = np.iinfo(_int_of(qdtype))
    return int(info.min), int(info.max)


def _to_q(values, qdtype):
    lo, hi = _limits(qdtype)
    # saturate: float32 rounding can step one past the integer range (qint32's 2**31)
    values = np.clip(np.asarray(values, np.float64), lo, hi)
    return np.ascontiguousarray(values.astype(_int_of(qdtype))).view(qdtype.np)


def _from_q(x):
    return x.view(x.dtype.fields[x.dtype.names[0]][0])


def _bshape(x, axis):
    return () if axis == -1 else _slice_shape(x, axis)


def _eigen_round(v):
    return np.where(v < 0, -np.floor(-v + _f32(0.5)), np.floor(v + _f32(0.5))).astype(_f32)


def _quantize_kernel(x, mn, mx, T, mode, round_mode, narrow_range, axis, ensure_minimum_range):
    op = "QuantizeV2"
    bs = _bshape(x, axis)
    in_min = np.asarray(mn, _f32).reshape(bs)
    in_max = np.asarray(mx, _f32).reshape(bs)
    if np.any(in_min > in_max):
        raise op_error(
            InvalidArgumentError, op, f"input_min {in_min.ravel()} must be <= input_max "
            f"{in_max.ravel()}",
        )  # fmt: skip
    lo, hi = _limits(T)
    flo, fhi = _f32(lo), _f32(hi)
    min_range = np.minimum(_f32(0), in_min)
    eps = (np.maximum(_f32(1), np.maximum(np.abs(in_min), np.abs(in_max)))) * _f32(
        ensure_minimum_range
    )
    max_range = np.maximum(_f32(0), np.maximum(in_max, min_range + eps)).astype(_f32)
    min_range = min_range.astype(_f32)
    x = x.astype(_f32)
    if mode == "MIN_COMBINED":
        scale = _f32((float(hi) - float(lo)) / (max_range - min_range).astype(np.float64))
        v = (np.minimum(np.maximum(x, min_range), max_range) - min_range) * scale
        if lo < 0:
            q = _eigen_round(v - _f32((hi - lo + 1) / 2.0))
        else:
            q = np.floor(v + _f32(0.5))
    elif mode == "MIN_FIRST":
        steps = float(1 << (8 * np.dtype(_int_of(T)).itemsize))
        with np.errstate(divide="ignore"):
            rs = np.where(
                max_range == min_range, _f32(0), _f32(steps - 1.0) / (max_range - min_range)
            ).astype(_f32)
        min_scaled = _eigen_round(min_range * rs)
        q = _eigen_round(x * rs) - min_scaled + flo
        q = np.minimum(
            np.maximum(q, max(flo, _f32(-2.147483520e09))), min(fhi, _f32(2.147483520e09))
        )
    else:  # SCALED
        qlo = lo + (1 if narrow_range else 0)
        big = np.finfo(_f32).max
        with np.errstate(divide="ignore", invalid="ignore"):
            s_min = np.where(qlo * min_range > 0, _f32(qlo) / min_range, big)
            s_max = np.where(hi * max_range > 0, _f32(hi) / max_range, big)
        scale = np.minimum(s_min, s_max).astype(_f32)
        min_range = (_f32(qlo) / scale).astype(_f32)
        max_range = (_f32(hi) / scale).astype(_f32)
        v = np.minimum(np.maximum(x, min_range), max_range) * scale
        q = np.rint(v) if round_mode == "HALF_TO_EVEN" else _eigen_round(v)
    shape = np.shape(mn)
    return (
        _to_q(q, T),
        np.asarray(min_range, _f32).reshape(shape),
        np.asarray(max_range, _f32).reshape(shape),
    )


def _quantize_rule(x, mn, mx, T, **_):
    return AVal(x.shape, T), AVal(mn.shape, _d.float32), AVal(mx.shape, _d.float32)


quantize_p = primitive("QuantizeV2", _quantize_kernel, _quantize_rule, n_out=3, host=True)

_MODES = ("MIN_COMBINED", "MIN_FIRST", "SCALED")


def _check_mode(op, mode):
    if mode not in _MODES:
        raise op_error(
            InvalidArgumentError, op, f"mode must be one of {list(_MODES)}, got {mode!r}"
        )  # fmt: skip


def _axis_arg(op, x, axis, mn):
    if axis is None:
        return -1
    rank = x.shape.rank
    a = int(axis)
    if a < 0 and rank is not None:
        a += rank
    if rank is not None and not 0 <= a < rank:
        raise op_error(
            InvalidArgumentError, op, f"axis {axis} is out of range for input of rank {rank}"
        )  # fmt: skip
    if mn.shape.rank is not None and mn.shape.rank != 1:
        raise op_error(
            InvalidArgumentError, op, f"with axis set, min_range and max_range must be 1-D "
            f"(one value per slice), got shape {mn.shape}",
        )  # fmt: skip
    return a


@tf_export("quantization.quantize")
def quantize(
    input, min_range, max_range, T, mode="MIN_COMBINED", round_mode="HALF_AWAY_FROM_ZERO",  # noqa: A002
    name=None, narrow_range=False, axis=None, ensure_minimum_range=0.01,
):  # fmt: skip
    """Quantize float ``input`` to the quantized dtype ``T``: (output, output_min, output_max)."""
    op = "QuantizeV2"
    T = _d.as_dtype(T)
    if T not in _QUANT:
        raise op_error(
            InvalidArgumentError, op, f"T must be a quantized dtype (qint8, quint8, qint16, "
            f"quint16, qint32), got {T.name}",
        )  # fmt: skip
    _check_mode(op, mode)
    if round_mode not in ("HALF_AWAY_FROM_ZERO", "HALF_TO_EVEN"):
        raise op_error(
            InvalidArgumentError, op, f"round_mode must be 'HALF_AWAY_FROM_ZERO' or "
            f"'HALF_TO_EVEN', got {round_mode!r}",
        )  # fmt: skip
    if round_mode == "HALF_TO_EVEN" and mode != "SCALED":
        raise op_error(
            InvalidArgumentError, op, f"Round mode 'HALF_TO_EVEN' is only supported for mode "
            f"'SCALED', but mode is '{mode}'.",
        )  # fmt: skip
    x = convert_to_tensor(input, dtype=_d.float32)
    mn = convert_to_tensor(min_range, dtype=_d.float32)
    mx = convert_to_tensor(max_range, dtype=_d.float32)
    a = _axis_arg(op, x, axis, mn)
    params = dict(
        T=T, mode=mode, round_mode=round_mode, narrow_range=bool(narrow_range), axis=a,
        ensure_minimum_range=float(ensure_minimum_range),
    )  # fmt: skip
    return _QuantizeResult(*bind(quantize_p, (x, mn, mx), params))


def _dequantize_kernel(x, mn, mx, mode, narrow_range, axis, dtype):
    bs = _bshape(x, axis)
    qdt = next(q for q in _QUANT if q.np == x.dtype)
    lo, hi = _limits(qdt)
    v = _from_q(x).astype(_f32)
    mn = np.asarray(mn, _f32).reshape(bs)
    mx = np.asarray(mx, _f32).reshape(bs)
    if mode == "MIN_COMBINED":
        scale = (mx - mn) / (_f32(hi) - _f32(lo))
        out = (v + _f32((hi - lo + 1) / 2.0)) * scale + mn if lo < 0 else v * scale + mn
    elif mode == "MIN_FIRST":
        steps = float(1 << (8 * np.dtype(_int_of(qdt)).itemsize))
        rs = ((mx - mn) / _f32(steps - 1.0)).astype(_f32)
        with np.errstate(divide="ignore", invalid="ignore"):
            rounded = np.where(mx == mn, mn, _eigen_round(mn / rs) * rs).astype(_f32)
        out = (v - _f32(lo)) * rs + rounded
    else:  # SCALED
        qlo = lo + (1 if narrow_range else 0)
        if lo == 0:
            scale = mx / _f32(hi)
        else:
            scale = np.maximum(mn / _f32(qlo), mx / _f32(hi))
        out = v * scale
    return np.asarray(out, _f32).astype(dtype.np)


def _dequantize_rule(x, mn, mx, dtype, **_):
    return AVal(x.shape, dtype)


dequantize_p = primitive("Dequantize", _dequantize_kernel, _dequantize_rule, host=True)


@tf_export("quantization.dequantize")
def dequantize(
    input, min_range, max_range, mode="MIN_COMBINED", name=None, axis=None,  # noqa: A002
    narrow_range=False, dtype=_d.float32,
):  # fmt: skip
    """Convert a quantized tensor back to float over ``[min_range, max_range]``."""
    op = "Dequantize"
    x = convert_to_tensor(input)
    if x.dtype not in _QUANT:
        raise op_error(
            InvalidArgumentError, op, f"input must have a quantized dtype (qint8, quint8, "
            f"qint16, quint16, qint32), got {x.dtype.name}",
        )  # fmt: skip
    _check_mode(op, mode)
    dtype = _d.as_dtype(dtype)
    if dtype not in (_d.float32, _d.bfloat16):
        raise op_error(
            InvalidArgumentError, op, f"dtype must be float32 or bfloat16, got {dtype.name}"
        )  # fmt: skip
    mn = convert_to_tensor(min_range, dtype=_d.float32)
    mx = convert_to_tensor(max_range, dtype=_d.float32)
    a = _axis_arg(op, x, axis, mn)
    params = dict(mode=mode, narrow_range=bool(narrow_range), axis=a, dtype=dtype)
    return bind(dequantize_p, (x, mn, mx), params)


def _qconcat_kernel(dim, *arrays):
    n = len(arrays) // 3
    values, mins, maxes = arrays[:n], arrays[n : 2 * n], arrays[2 * n :]
    qdt = next(q for q in _QUANT if q.np == values[0].dtype)
    lo, hi = _limits(qdt)
    out_min = min(0.0, min(float(m) for m in mins))
    out_max = max(float(m) for m in maxes)
    if lo < 0:  # signed: a range symmetric about zero
        out_max = max(abs(out_min), abs(out_max))
        out_min = -out_max
    parts = []
    for v, mn, mx in zip(values, mins, maxes):
        if float(mn) == out_min and float(mx) == out_max:
            parts.append(_from_q(v))
            continue
        f = _dequantize_kernel(v, mn, mx, "MIN_FIRST", False, -1, _d.float32)
        q, _, _ = _min_first(f, out_min, out_max, qdt)
        parts.append(q)
    axis = int(dim) % values[0].ndim
    out = np.concatenate(parts, axis=axis)
    return _to_q(out, qdt), np.asarray(out_min, _f32), np.asarray(out_max, _f32)


def _min_first(f, mn, mx, qdt):
    """MIN_FIRST quantization of float32 ``f`` over exactly [mn, mx] (no range widening)."""
    lo, hi = _limits(qdt)
    steps = float(1 << (8 * np.dtype(_int_of(qdt)).itemsize))
    mn, mx = _f32(mn), _f32(mx)
    rs = _f32(0) if mx == mn else _f32(_f32(steps - 1.0) / (mx - mn))
    q = _eigen_round(f * rs) - _eigen_round(mn * rs) + _f32(lo)
    q = np.minimum(
        np.maximum(q, max(_f32(lo), _f32(-2.147483520e09))), min(_f32(hi), _f32(2.147483520e09))
    )
    return q.astype(_int_of(qdt)), mn, mx


def _qconcat_rule(dim, *avals):
    n = len(avals) // 3
    vals = avals[:n]
    first = vals[0]
    d = dim.value
    if first.rank is None or d is None:
        return AVal(None, first.dtype), AVal([], _d.float32), AVal([], _d.float32)
    axis = int(d) % max(first.rank, 1)
    dims = first.shape.as_list()
    for v in vals[1:]:
        if v.dtype is not first.dtype or v.rank != first.rank:
            raise op_error(
                InvalidArgumentError, "QuantizedConcat", f"all values must have one dtype and "
                f"rank; got {first.dtype.name}{first.shape} and {v.dtype.name}{v.shape}",
            )  # fmt: skip
        other = v.shape.as_list()
        for i, (a, b) in enumerate(zip(dims, other)):
            if i == axis:
                dims[i] = None if a is None or b is None else a + b
            elif a is not None and b is not None and a != b:
                raise op_error(
                    InvalidArgumentError, "QuantizedConcat", f"input shapes {first.shape} and "
                    f"{v.shape} differ in dimension {i}, which is not the concat dimension",
                )  # fmt: skip
    return AVal(dims, first.dtype), AVal([], _d.float32), AVal([], _d.float32)


quantized_concat_p = primitive(
    "QuantizedConcat", _qconcat_kernel, _qconcat_rule, n_out=3, host=True
)


@tf_export("quantization.quantized_concat")
def quantized_concat(concat_dim, values, input_mins, input_maxes, name=None):
    """Concatenate quantized tensors, requantizing each to the union of their ranges."""
    op = "QuantizedConcat"
    vals = [convert_to_tensor(v) for v in values]
    if not vals or len(input_mins) != len(vals) or len(input_maxes) != len(vals):
        raise op_error(
            InvalidArgumentError, op, f"expected one input_min and one input_max per value, "
            f"got {len(vals)} values, {len(input_mins)} mins, {len(input_maxes)} maxes",
        )  # fmt: skip
    if vals[0].dtype not in _QUANT:
        raise op_error(
            InvalidArgumentError, op, f"values must have a quantized dtype, got "
            f"{vals[0].dtype.name}",
        )  # fmt: skip
    dim = convert_to_tensor(concat_dim, dtype=_d.int32)
    mins = [convert_to_tensor(m, dtype=_d.float32) for m in input_mins]
    maxes = [convert_to_tensor(m, dtype=_d.float32) for m in input_maxes]
    out = bind(quantized_concat_p, (dim, *vals, *mins, *maxes))
    return _QuantizedConcatResult(*out)


def _named(name, fields):
    import collections

    return collections.namedtuple(name, fields)


_QuantizeResult = _named("QuantizeV2", ["output", "output_min", "output_max"])
_QuantizedConcatResult = _named("QuantizedConcat", ["output", "output_min", "output_max"])
