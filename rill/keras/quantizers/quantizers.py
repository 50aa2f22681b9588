"""Quantizer objects and the quantization arithmetic of ``keras.quantizers``: abs-max int8
(per axis or per group with a zero point), TF's fake quantization, float8 scaling, and
int4 packing two values per byte."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rill.keras import ops

__all__ = [
    "Quantizer",
    "AbsMaxQuantizer",
    "abs_max_quantize",
    "abs_max_quantize_grouped_with_zero_point",
    "compute_quantization_parameters",
    "fake_quant_with_min_max_vars",
    "compute_float8_scale",
    "compute_float8_amax_history",
    "quantize_and_dequantize",
    "pack_int4",
    "unpack_int4",
]

_EPSILON = 1e-7  # keras.config.epsilon()'s default, bound at definition as Keras does


def _dtype_name(x) -> str:
    from rill.keras.ops._dtypes import standardize_dtype

    return standardize_dtype(x.dtype)


def _numpy_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


class Quantizer:
    """Base class of quantizers: a callable mapping a float tensor to its quantized form
    (the identity here)."""

    def __init__(self, output_dtype="int8"):
        self.output_dtype = output_dtype

    def __call__(self, x):
        """Quantize ``x`` (the base class returns it unchanged)."""
        return x

    @classmethod
    def from_config(cls, config):
        """A quantizer from its ``get_config()`` dict."""
        return cls(**config)

    def get_config(self):
        """The quantizer's constructor arguments; subclasses must provide it."""
        raise NotImplementedError(f"{self} does not implement get_config()")


def abs_max_quantize(inputs, axis, value_range=(-127, 127), dtype="int8", epsilon=_EPSILON,
                     to_numpy=False):  # fmt: skip
    """Symmetric quantization by the absolute maximum along ``axis``: returns
    ``(round(x * scale) clipped to value_range, cast to dtype, scale)`` with
    ``scale = value_range[1] / (max|x| + epsilon)``."""
    if to_numpy:
        original = _dtype_name(inputs)
        x = np.asarray(ops.convert_to_numpy(inputs))
        scale = np.divide(value_range[1],
                          np.add(np.max(np.abs(x), axis=_numpy_axis(axis), keepdims=True),
                                 epsilon))  # fmt: skip
        out = np.clip(np.round(np.multiply(x, scale)), value_range[0], value_range[1])
        return (ops.convert_to_tensor(out.astype(dtype)),
                ops.convert_to_tensor(scale, dtype=original))  # fmt: skip
    x = ops.convert_to_tensor(inputs)
    scale = ops.divide(value_range[1],
                       ops.add(ops.max(ops.abs(x), axis=axis, keepdims=True), epsilon))  # fmt: skip
    scale = ops.cast(scale, _dtype_name(x))
    out = ops.clip(ops.round(ops.multiply(x, scale)), value_range[0], value_range[1])
    return ops.cast(out, dtype), scale


def compute_quantization_parameters(x, *, bits, symmetric=False, per_channel=False,
                                    group_size=-1, compute_dtype="float32", epsilon=0.0,
                                    signed=False):  # fmt: skip
    """(scale, zero point, maxq) for quantizing the rows of a 2-D weight ``x``
    (out_features, in_features) to ``bits`` bits: one pair per tensor, per row, or (with
    ``per_channel`` and ``group_size > 0``) per group of ``group_size`` columns."""
    if x is None:
        raise ValueError(f"Input tensor {x} cannot be None.")
    if len(x.shape) < 2:
        raise ValueError(
            f"Input weight tensor {x} must have a rank of at least 2, but got rank {len(x.shape)}."
        )
    if int(np.prod(x.shape)) == 0:
        raise ValueError("Input tensor 'x' cannot be empty.")
    x = ops.convert_to_tensor(x)
    out_features, in_features = x.shape[0], x.shape[1]
    grouped = per_channel and group_size > 0
    n_groups = (in_features + group_size - 1) // group_size if grouped else 1
    if n_groups > 1:
        pad = (-in_features) % group_size  # zero columns complete the last group
        if pad:
            x = ops.pad(x, [[0, 0], [0, pad]], constant_values=0.0)
        xg = ops.reshape(x, [out_features, n_groups, group_size])
        lo, hi = ops.min(xg, axis=2), ops.max(xg, axis=2)
    else:
        xr = ops.reshape(x, [out_features, -1] if per_channel else [1, -1])
        lo, hi = ops.min(xr, axis=1), ops.max(xr, axis=1)
    if symmetric:
        max_abs = ops.maximum(ops.abs(lo), hi)
        lo = ops.where(ops.less(lo, 0), ops.negative(max_abs), lo)
        hi = max_abs
    flat = ops.equal(lo, hi)  # a constant row gets a unit range around its value
    lo = ops.where(flat, ops.subtract(lo, 1), lo)
    hi = ops.where(flat, ops.add(hi, 1), hi)
    maxq = ops.cast(2**bits - 1, compute_dtype)
    rng = ops.subtract(hi, lo)
    if epsilon > 0:
        rng = ops.add(rng, epsilon)
    scale = ops.divide(rng, maxq)
    scale = ops.where(ops.less_equal(scale, 0), 1e-8, scale)
    if signed:
        qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        if symmetric:
            zero = ops.full_like(scale, (2**bits) / 2 + qmin)
        else:
            zero = ops.add(ops.round(ops.divide(ops.negative(lo), scale)), qmin)
        zero = ops.clip(zero, qmin, qmax)
    elif symmetric:
        zero = ops.full_like(scale, (2**bits) / 2)
    else:
        zero = ops.round(ops.divide(ops.negative(lo), scale))
    if n_groups == 1:
        if per_channel:
            scale, zero = ops.reshape(scale, [-1, 1]), ops.reshape(zero, [-1, 1])
        else:
            scale = ops.tile(ops.reshape(scale, (1, 1)), (out_features, 1))
            zero = ops.tile(ops.reshape(zero, (1, 1)), (out_features, 1))
    return scale, ops.cast(zero, "int8" if signed else "uint8"), maxq


def abs_max_quantize_grouped_with_zero_point(inputs, block_size, value_range=(-8, 7),
                                             dtype="int8", epsilon=_EPSILON,
                                             to_numpy=False):  # fmt: skip
    """Asymmetric quantization of a 2-D ``(input_dim, output_dim)`` weight in groups of
    ``block_size`` rows: returns ``(quantized, scale, zero_point)`` with one scale and
    zero point per (group, output column)."""
    original = _dtype_name(inputs)
    qmin, qmax = value_range
    if to_numpy:
        x = np.asarray(ops.convert_to_numpy(inputs))
        input_dim, output_dim = x.shape
        n_groups = math.ceil(input_dim / block_size)
        padded = n_groups * block_size
        if padded > input_dim:
            x = np.concatenate([x, np.zeros((padded - input_dim, output_dim), x.dtype)], axis=0)
        xg = x.reshape(n_groups, block_size, output_dim)
        lo = np.min(xg, axis=1, keepdims=True)
        hi = np.max(xg, axis=1, keepdims=True)
        scale = np.divide(np.subtract(hi, lo) + epsilon, qmax - qmin)
        zero = np.clip(np.round(np.divide(-lo, scale)) + qmin, qmin, qmax)
        out = np.clip(np.round(np.divide(xg, scale)) + zero, qmin, qmax).astype(dtype)
        out = out.reshape(padded, output_dim)[:input_dim, :]
        return (ops.convert_to_tensor(out),
                ops.convert_to_tensor(np.squeeze(scale, axis=1), dtype=original),
                ops.convert_to_tensor(np.squeeze(zero, axis=1).astype("int8")))  # fmt: skip
    x = ops.convert_to_tensor(inputs)
    input_dim, output_dim = int(x.shape[0]), int(x.shape[1])
    bits = int(math.log2(qmax - qmin + 1))
    n_groups = int(math.ceil(input_dim / block_size))
    padded = n_groups * block_size
    scale_t, zero_t, _ = compute_quantization_parameters(
        ops.transpose(x), bits=bits, symmetric=False, per_channel=True, group_size=block_size,
        compute_dtype=original, epsilon=epsilon, signed=True,
    )  # fmt: skip
    scale, zero = ops.transpose(scale_t), ops.transpose(zero_t)
    if padded > input_dim:
        x = ops.concatenate([x, ops.zeros((padded - input_dim, output_dim), dtype=x.dtype)], 0)
    xg = ops.reshape(x, (n_groups, block_size, output_dim))
    out = ops.add(ops.round(ops.divide(xg, ops.expand_dims(scale, 1))),
                  ops.expand_dims(zero, 1))  # fmt: skip
    out = ops.cast(ops.clip(out, qmin, qmax), dtype)
    return ops.reshape(out, (padded, output_dim))[:input_dim, :], scale, zero


class AbsMaxQuantizer(Quantizer):
    """Quantizes by the absolute maximum along ``axis`` (default: the last) into
    ``value_range``; calling it returns ``(quantized, scale)``."""

    def __init__(self, axis=None, value_range=(-127, 127), epsilon=_EPSILON,
                 output_dtype="int8"):  # fmt: skip
        Quantizer.__init__(self, output_dtype=output_dtype)
        if axis is not None:
            axis = (axis,) if isinstance(axis, int) else tuple(axis)
        self.axis = axis
        self.value_range = value_range
        self.epsilon = epsilon
        if output_dtype == "int8" and (value_range[0] < -128 or value_range[1] > 127):
            raise ValueError(
                "Quantizer with output_dtype='int8' requires value_range to be within the "
                f"interval [-128, 127]. Received: value_range={value_range}"
            )

    def __call__(self, x, axis=None, to_numpy=False):
        """``(quantized x, scale)`` along ``axis`` (the quantizer's, else the last)."""
        if axis is None:
            axis = self.axis if self.axis is not None else -1
        return abs_max_quantize(x, axis, self.value_range, self.output_dtype, self.epsilon,
                                to_numpy)  # fmt: skip

    def get_config(self):
        """The quantizer's constructor arguments."""
        config: dict[str, Any] = {"value_range": self.value_range, "epsilon": self.epsilon,
                                  "output_dtype": self.output_dtype}  # fmt: skip
        if self.axis is not None:
            config["axis"] = self.axis
        return config


# ----------------------------------------------------------------- fake quantization
def _round_half_away(x):
    # TF's kernel rounds the zero point with std::round (halves away from zero)
    return ops.multiply(ops.sign(x), ops.floor(ops.add(ops.abs(x), 0.5)))


def _nudge(min_val, max_val, num_bits, narrow_range):
    """TF's nudged (min, max, scale): the range shifted so that 0.0 is exactly
    representable."""
    quant_min = 1.0 if narrow_range else 0.0
    quant_max = float((1 << num_bits) - 1)
    scale = ops.divide(ops.subtract(max_val, min_val), quant_max - quant_min)
    zero_from_min = ops.subtract(quant_min, ops.divide(min_val, scale))
    zero = ops.clip(_round_half_away(zero_from_min), quant_min, quant_max)
    return (ops.multiply(ops.subtract(quant_min, zero), scale),
            ops.multiply(ops.subtract(quant_max, zero), scale), scale)  # fmt: skip


def fake_quant_with_min_max_vars(inputs, min_vals, max_vals, num_bits=8, narrow_range=False,
                                 axis=None):  # fmt: skip
    """Quantize-dequantize ``inputs`` to ``num_bits`` levels over [min, max] (per channel
    along ``axis`` when given), with the straight-through gradient inside the range and
    the clipped part's gradient going to min and max, as TF's op."""
    from rill.keras.backend import is_keras_tensor

    num_bits = int(num_bits)
    x = inputs if is_keras_tensor(inputs) else ops.convert_to_tensor(inputs)
    dtype = _dtype_name(x)
    ndim = len(x.shape)
    if axis is not None:
        axis = axis % ndim if ndim else 0
    lo = ops.cast(ops.convert_to_tensor(min_vals), "float32")
    hi = ops.cast(ops.convert_to_tensor(max_vals), "float32")
    bshape = None
    if axis is None:
        lo_b, hi_b = ops.reshape(lo, ()), ops.reshape(hi, ())
    else:
        bshape = tuple(-1 if i == axis else 1 for i in range(ndim))
        lo_b, hi_b = ops.reshape(lo, bshape), ops.reshape(hi, bshape)

    def forward(xf, lo_b, hi_b):
        nmin, nmax, scale = _nudge(lo_b, hi_b, num_bits, narrow_range)
        shifted = ops.subtract(ops.clip(xf, nmin, nmax), nmin)
        levels = ops.floor(ops.add(ops.divide(shifted, scale), 0.5))
        return ops.add(ops.multiply(levels, scale), nmin), nmin, nmax

    if is_keras_tensor(x):
        return ops.cast(forward(ops.cast(x, "float32"), lo_b, hi_b)[0], dtype)

    @ops.custom_gradient
    def fake_quant(xf, lo_b, hi_b):
        out, nmin, nmax = forward(xf, lo_b, hi_b)

        def grad(upstream):
            zero = ops.zeros_like(upstream)
            inside = ops.logical_and(ops.greater_equal(xf, nmin), ops.less_equal(xf, nmax))
            below = ops.where(ops.less(xf, nmin), upstream, zero)
            above = ops.where(ops.greater(xf, nmax), upstream, zero)
            if axis is None:
                g_lo, g_hi = ops.sum(below), ops.sum(above)
            else:
                axes = tuple(i for i in range(ndim) if i != axis)
                g_lo = ops.reshape(ops.sum(below, axis=axes), bshape)
                g_hi = ops.reshape(ops.sum(above, axis=axes), bshape)
            return ops.where(inside, upstream, zero), g_lo, g_hi

        return out, grad

    return ops.cast(fake_quant(ops.cast(x, "float32"), lo_b, hi_b), dtype)


# ------------------------------------------------------------------------ float8
def compute_float8_scale(amax, scale, dtype_max, margin=0):
    """The next delayed-scaling factor: ``amax / dtype_max * 2**margin``, keeping the
    old ``scale`` where ``amax`` is zero or not finite."""
    inv_old = ops.reciprocal(scale)
    sf = ops.divide(ops.divide(dtype_max, amax), 2**margin)
    sf = ops.where(ops.greater(amax, 0.0), sf, inv_old)
    sf = ops.where(ops.isfinite(amax), sf, inv_old)
    return ops.reciprocal(sf)


def compute_float8_amax_history(x, amax_history):
    """``amax_history`` rolled one step back with ``max|x|`` written at index 0."""
    amax = ops.cast(ops.max(ops.abs(x)), amax_history.dtype)
    return ops.scatter_update(ops.roll(amax_history, shift=-1), [[0]], ops.reshape(amax, [1]))


def quantize_and_dequantize(inputs, scale, quantized_dtype, compute_dtype):
    """``inputs / scale`` clipped to ``quantized_dtype``'s finite range, cast to it (the
    rounding) and back, times ``scale``, in ``compute_dtype``."""
    from rill.dtypes import as_dtype

    dtype_max = float(as_dtype(quantized_dtype).max)
    limit = ops.cast(dtype_max, compute_dtype)
    x = ops.divide(inputs, ops.cast(scale, compute_dtype))
    x = ops.cast(ops.clip(x, ops.negative(limit), limit), quantized_dtype)
    return ops.multiply(ops.cast(x, compute_dtype), ops.cast(scale, compute_dtype))


# -------------------------------------------------------------------------- int4
def _check_int4_dtype(dtype):
    if dtype not in ("int8", "uint8"):
        raise ValueError(f"Expected dtype to be 'int8' or 'uint8', but got '{dtype}'.")


def pack_int4(arr, axis=0, dtype="int8"):
    """Pack int4 values (held in ``dtype``) two per byte along ``axis`` (even index in
    the low nibble); returns ``(packed, packed_shape, original_length)``."""
    _check_int4_dtype(dtype)
    if _dtype_name(arr) != dtype:
        raise TypeError(f"Expected {dtype} tensor for packing, got {_dtype_name(arr)}.")
    a = np.moveaxis(np.asarray(ops.convert_to_numpy(arr)), axis % max(np.ndim(arr), 1), 0)
    n = a.shape[0]
    if n % 2:
        a = np.concatenate([a, np.zeros((1,) + a.shape[1:], a.dtype)], axis=0)
    nd = np.dtype(dtype)
    low = np.bitwise_and(a[::2].astype(nd), nd.type(15))
    high = np.bitwise_and(a[1::2].astype(nd), nd.type(15))
    packed = np.bitwise_or(low, np.left_shift(high, nd.type(4))).astype(nd)
    packed = np.moveaxis(packed, 0, axis % max(np.ndim(arr), 1))
    return ops.convert_to_tensor(packed), tuple(packed.shape), n


def unpack_int4(packed, orig_len, axis=0, dtype="int8"):
    """The inverse of ``pack_int4``: nibbles back to one value per element along
    ``axis`` (sign-extended for ``int8``), truncated to ``orig_len``."""
    _check_int4_dtype(dtype)
    if _dtype_name(packed) not in ("int8", "uint8"):
        raise TypeError(f"Expected int8 or uint8 tensor for unpacking, got {packed.dtype}")
    packed = ops.convert_to_tensor(packed)
    rank = len(packed.shape)
    axis = axis + rank if axis < 0 else axis
    perm = [axis] + [i for i in range(rank) if i != axis]
    t = ops.transpose(packed, perm) if perm != list(range(rank)) else packed
    mask = ops.cast(15, _dtype_name(t))
    nibbles = []
    for part in (ops.bitwise_and(t, mask), ops.bitwise_and(ops.right_shift(t, 4), mask)):
        if dtype == "int8":
            eight = ops.cast(8, _dtype_name(part))
            part = ops.subtract(ops.bitwise_xor(part, eight), eight)  # sign-extend 4 bits
        nibbles.append(ops.cast(part, dtype))
    stacked = ops.stack(nibbles, axis=1)
    unpacked = ops.reshape(stacked, (-1,) + tuple(t.shape[1:]))[:orig_len, ...]
    if perm == list(range(rank)):
        return unpacked
    return ops.transpose(unpacked, [perm.index(i) for i in range(rank)])
