"""Type-changing ops beyond ``tf.cast``: ``tf.complex``, ``tf.dtypes.saturate_cast`` and
``tf.bitcast``."""

from __future__ import annotations

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
from rill.ops.array_ops import cast
from rill.ops.clip_ops import clip_by_value


@tf_export("complex", "dtypes.complex")
def complex(real, imag, name=None):  # noqa: A001 - TF's public name
    """``real + imag * 1j``, broadcast; float32 parts give complex64, float64 complex128.
    Differentiable: the gradient's real part goes to ``real``, its imaginary part to
    ``imag``."""
    real, imag = convert_to_tensor(real), convert_to_tensor(imag)
    if real.dtype is not imag.dtype or real.dtype not in (_d.float32, _d.float64):
        raise TypeError(
            f"tf.complex: the `real` and `imag` components have incorrect types: "
            f"{real.dtype.name} {imag.dtype.name}. They must be consistent, and one of "
            f"[tf.float32, tf.float64]"
        )
    ctype = _d.complex64 if real.dtype is _d.float32 else _d.complex128
    # casts to complex and back are differentiable, so this composes the gradient
    return cast(real, ctype) + cast(imag, ctype) * np.array(1j, ctype.np)


@tf_export("dtypes.saturate_cast", "saturate_cast")
def saturate_cast(value, dtype, name=None):
    """Cast ``value`` to ``dtype``, clamping it to the target's range first (so 300. cast
    to uint8 is 255, not a wrapped value). Complex to real keeps the real part."""
    dtype = _d.as_dtype(dtype)
    x = convert_to_tensor(value)
    if x.dtype.is_complex and not dtype.is_complex:
        x = cast(x, x.dtype.real_dtype)
    src = x.dtype.real_dtype
    if (src.is_floating or src.is_integer) and (dtype.is_floating or dtype.is_integer):
        lo, hi = _clamp_bounds(src, dtype.real_dtype)
        if lo is not None or hi is not None:
            x = clip_by_value(
                x,
                src.min if lo is None else np.array(lo, src.np),
                src.max if hi is None else np.array(hi, src.np),
            )
    return cast(x, dtype)


def _clamp_bounds(src: _d.DType, dst: _d.DType):
    """The (low, high) of ``dst`` representable in ``src``, None where no clamp is needed.
    A float bound is rounded toward the inside of ``dst``'s range, so the clamped value
    always casts without wrapping (float32(2**31 - 1) would round up past int32.max)."""
    lo = hi = None
    if dst.min > src.min:
        lo = _inside(src, dst.min, up=True)
    if dst.max < src.max:
        hi = _inside(src, dst.max, up=False)
    return lo, hi


def _inside(src: _d.DType, bound, up: bool):
    if src.is_integer:
        return bound
    v = np.array(bound, src.np)
    if (float(v) < bound) if up else (float(v) > bound):
        v = np.nextafter(v, np.array(np.inf if up else -np.inf, src.np))
    return v


_BITCAST_DTYPES = frozenset(d for d in _d.NUMERIC if d is not _d.bfloat16) | {_d.bfloat16}


def _bitcast_rule(x, type):  # noqa: A002 - TF's attribute name
    src, dst = x.dtype.size, type.size
    dims = x.shape.as_list() if x.shape.rank is not None else None
    if src == dst or dims is None:
        return AVal(x.shape if src == dst else TensorShape(None), type)
    if src > dst:
        return AVal(dims + [src // dst], type)
    if not dims or (dims[-1] is not None and dims[-1] != dst // src):
        raise op_error(
            InvalidArgumentError,
            "Bitcast",
            f"cannot bitcast from {x.dtype.name} to {type.name}: the last dimension of the "
            f"input must be {dst // src} (the size ratio), got shape {dims}",
        )
    return AVal(dims[:-1], type)


def _bitcast_kernel(x, type, xp=np):  # noqa: A002
    src, dst = x.dtype.itemsize, type.size
    if src < dst:
        if x.ndim == 0 or x.shape[-1] != dst // src:
            raise ValueError("last dimension must equal the size ratio")
        return xp.ascontiguousarray(x).view(type.np).reshape(x.shape[:-1])
    return (
        xp.ascontiguousarray(x)
        .view(type.np)
        .reshape(x.shape + ((src // dst,) if src > dst else ()))
    )


bitcast_p = primitive(
    "Bitcast", _bitcast_kernel, _bitcast_rule, dtypes=_BITCAST_DTYPES, lowering=_lowering.bitcast
)


@tf_export("bitcast")
def bitcast(input, type, name=None):  # noqa: A002 - TF's public names
    """Reinterpret the bytes of ``input`` as ``type``, no copy of values: to a smaller type
    adds a last dimension of the size ratio, to a larger one consumes it."""
    type = _d.as_dtype(type)
    if type not in _BITCAST_DTYPES:
        raise TypeError(f"tf.bitcast: cannot bitcast to {type.name}; numeric types only")
    return bind(bitcast_p, (convert_to_tensor(input),), {"type": type})
