"""Discrete Fourier transforms: ``tf.signal``'s fft/ifft (1-3 D and N-D), rfft/irfft
(1-3 D and N-D, with ``fft_length``) and fftshift.

One kernel serves every transform: the backend's ``fft`` module over the innermost axes
(or the given ``axes`` for the N-D ops), cropping or zero-padding each transformed axis to
its ``fft_length`` as TF's ops do. Single precision stays single (complex64 / float32).

Gradients follow TF's conventions (the gradient of a real loss with respect to a complex
tensor is dL/dRe + i dL/dIm), written as transforms again, so they differentiate too:
the gradient of an FFT of N points is N times the inverse FFT of the incoming gradient,
of an inverse FFT the FFT over N; a real FFT's gradient is N times the real part of the
inverse FFT of the gradient zero-filled to the full spectrum, an inverse real FFT's the
real FFT of the gradient weighted 2 (1 for the DC and Nyquist bins) over N. Unlike TF,
every transform has one, RFFT3D, IRFFT3D and the N-D ops included.
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    bind,
    convert_to_tensor,
    is_tensor_like,
    op_error,
    primitive,
    static_value,
    tf_export,
)
from rill.ops.array_ops import cast, shape
from rill.ops.indexing_ops import slice as _slice
from rill.ops.shape_ops import pad, roll
from rill.ops.unary_ops import real

__all__ = [
    "fft", "ifft", "fft2d", "ifft2d", "fft3d", "ifft3d", "fftnd", "ifftnd", "rfft", "irfft",
    "rfft2d", "irfft2d", "rfft3d", "irfft3d", "rfftnd", "irfftnd", "fftshift", "ifftshift",
]  # fmt: skip

_COMPLEX = frozenset({_d.complex64, _d.complex128})
_REAL = frozenset({_d.float32, _d.float64})
_TO_COMPLEX = {_d.float32: _d.complex64, _d.float64: _d.complex128}
_TO_REAL = {_d.complex64: _d.float32, _d.complex128: _d.float64}

# --------------------------------------------------------------------------------------
# Kernels and shape rules
# --------------------------------------------------------------------------------------


def _axes_of(op, ndim, rank, axes=None):
    """The transformed axes (non-negative): the innermost ``rank``, or ``axes``."""
    if axes is None:
        if ndim < rank:
            raise op_error(
                InvalidArgumentError, op, f"input must have rank at least {rank}, got rank {ndim}"
            )
        return tuple(range(ndim - rank, ndim))
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise op_error(
                InvalidArgumentError, op, f"axis {a} is out of range for a tensor of rank {ndim}"
            )
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise op_error(InvalidArgumentError, op, f"axes must be distinct, got {list(axes)}")
    return tuple(out)


def _lengths(op, fft_length, count):
    n = [int(v) for v in fft_length]
    if len(n) != count:
        raise op_error(
            InvalidArgumentError, op,
            f"fft_length must have {count} elements (one per transformed axis), got {n}",
        )  # fmt: skip
    if any(v < 0 for v in n):
        raise op_error(InvalidArgumentError, op, f"fft_length must be non-negative, got {n}")
    return n


def _transform(xp, op, kind, x, axes, n):
    """``kind`` in fft / ifft / rfft / irfft over ``axes`` with lengths ``n`` (None: the
    input's). Empty transforms give zeros of the right shape."""
    if kind == "rfft":
        out_dtype = np.complex64 if x.dtype == np.float32 else np.complex128
    elif kind == "irfft":
        out_dtype = np.float32 if x.dtype == np.complex64 else np.float64
    else:
        out_dtype = x.dtype
    sizes = list(n) if n is not None else [x.shape[a] for a in axes]
    out_shape = list(x.shape)
    for a, s in zip(axes, sizes):
        out_shape[a] = s
    if kind == "rfft" and axes:
        out_shape[axes[-1]] = sizes[-1] // 2 + 1
    if 0 in out_shape or 0 in sizes or any(x.shape[a] == 0 for a in axes):
        return xp.zeros(out_shape, dtype=out_dtype)
    fn = {"fft": xp.fft.fftn, "ifft": xp.fft.ifftn, "rfft": xp.fft.rfftn, "irfft": xp.fft.irfftn}[
        kind
    ]
    y = fn(x, s=sizes, axes=axes)
    return y if y.dtype == out_dtype else xp.astype(y, out_dtype)


def _fixed_kernel(op, kind, rank):
    if kind in ("fft", "ifft"):

        def kernel(x, *, xp=np):
            return _transform(xp, op, kind, x, _axes_of(op, x.ndim, rank), None)

        return kernel

    def kernel(x, fft_length, Tcomplex=None, Treal=None, *, xp=np):  # noqa: N803
        return _transform(
            xp, op, kind, x, _axes_of(op, x.ndim, rank), _lengths(op, fft_length, rank)
        )

    return kernel


def _nd_kernel(op, kind):
    def kernel(x, fft_length, axes, Tcomplex=None, Treal=None, *, xp=np):  # noqa: N803
        ax = _axes_of(op, x.ndim, None, [int(a) for a in axes])
        return _transform(xp, op, kind, x, ax, _lengths(op, fft_length, len(ax)))

    return kernel


def _rule(op, kind, rank, nd=False):
    def rule(x, *rest, Tcomplex=None, Treal=None):  # noqa: N803
        if kind == "rfft":
            dtype = Tcomplex or _TO_COMPLEX.get(x.dtype, _d.complex64)
        elif kind == "irfft":
            dtype = Treal or _TO_REAL.get(x.dtype, _d.float32)
        else:
            dtype = x.dtype
        if x.rank is None:
            return AVal(None, dtype)
        dims = x.shape.as_list()
        if nd:
            fl, ax = rest
            if ax.value is None:
                return AVal([None] * len(dims), dtype)
            axes = _axes_of(op, len(dims), None, np.asarray(ax.value).reshape(-1))
        else:
            if len(dims) < rank:
                raise op_error(
                    InvalidArgumentError, op,
                    f"input must have rank at least {rank}, got shape {x.shape}",
                )  # fmt: skip
            axes = tuple(range(len(dims) - rank, len(dims)))
            fl = rest[0] if rest else None
        if fl is not None:
            n = None if fl.value is None else [int(v) for v in np.asarray(fl.value).reshape(-1)]
            if n is not None and len(n) != len(axes):
                raise op_error(
                    InvalidArgumentError, op,
                    f"fft_length must have {len(axes)} elements, got {n}",
                )  # fmt: skip
            for i, a in enumerate(axes):
                dims[a] = None if n is None else n[i]
            if kind == "rfft" and axes:
                last = dims[axes[-1]]
                dims[axes[-1]] = None if last is None else last // 2 + 1
        return AVal(dims, dtype)

    return rule


# --------------------------------------------------------------------------------------
# Gradients
# --------------------------------------------------------------------------------------


def _n_total(fft_length, dtype):
    from rill.ops.reduction_ops import reduce_prod

    return cast(reduce_prod(cast(fft_length, _d.int64)), dtype)


def _fit(t, axes, target, source_dims):
    """Crop or zero-pad ``t`` along ``axes`` to the sizes ``target`` (Python ints):
    the adjoint of the crop-or-pad a transform applied to its input."""
    begin = [0] * len(source_dims)
    size = [-1] * len(source_dims)
    paddings = [[0, 0] for _ in source_dims]
    crop = pad_any = False
    for a, want in zip(axes, target):
        have = source_dims[a]
        if have > want:
            size[a] = want
            crop = True
        elif have < want:
            paddings[a][1] = want - have
            pad_any = True
    if crop:
        t = _slice(t, begin, size)
    if pad_any:
        t = pad(t, paddings)
    return t


def _static_dims(t, what):
    dims = t.shape.as_list() if t.shape.rank is not None else None
    if dims is None or any(d is None for d in dims):
        raise op_error(
            InvalidArgumentError, "FFT gradient",
            f"the gradient of a transform with fft_length needs the static shape of its {what}, "
            f"got {t.shape}",
        )  # fmt: skip
    return dims


def _grad_axes(x, rank, axes_t=None):
    ndim = x.shape.rank
    if axes_t is None:
        return tuple(range(ndim - rank, ndim))
    v = static_value(axes_t)
    return tuple(int(a) % ndim for a in np.asarray(v).reshape(-1))


def _complex_grad(kind, rank, nd=False):
    """Gradient of fft (``kind`` "fft") or ifft over ``rank`` axes (or N-D)."""

    def grad(inputs, out, dy, **_):
        x = inputs[0]
        if not nd and len(inputs) == 1:
            n = 1
            for a in range(x.shape.rank - rank, x.shape.rank):
                n *= int(dy.shape[a]) if dy.shape[a] is not None else 0
            n_t = None if n == 0 else n
            if n_t is None:
                dims = shape(dy)[-rank:]
                n_t = _n_total(dims, dy.dtype)
            if kind == "fft":
                return (bind(_PRIMS[("ifft", rank)], (dy,)) * cast(n_t, dy.dtype),)
            return (bind(_PRIMS[("fft", rank)], (dy,)) / cast(n_t, dy.dtype),)
        fl, ax = inputs[1], inputs[2]
        axes = _grad_axes(x, None, ax)
        inv = bind(_PRIMS[("ifft" if kind == "fft" else "fft", "nd")], (dy, fl, ax))
        n_t = _n_total(fl, dy.dtype)
        g = inv * n_t if kind == "fft" else inv / n_t
        dims = _static_dims(x, "input")
        target = [dims[a] for a in axes]
        return _fit(g, axes, target, _static_dims(g, "gradient")), None, None

    return grad


def _rfft_grad(rank, nd=False):
    def grad(inputs, out, dy, Tcomplex=None, Treal=None):  # noqa: N803
        x, fl = inputs[0], inputs[1]
        ax = inputs[2] if nd else None
        axes = _grad_axes(x, rank, ax)
        n = [int(v) for v in np.asarray(static_value(fl)).reshape(-1)]
        gdims = _static_dims(dy, "gradient")
        # zero-fill the half spectrum of the last axis to the full length
        paddings = [[0, 0] for _ in gdims]
        paddings[axes[-1]][1] = n[-1] - gdims[axes[-1]]
        full = pad(dy, paddings) if paddings[axes[-1]][1] > 0 else dy
        full_len = convert_to_tensor(np.asarray(n, np.int32))
        axes_t = convert_to_tensor(np.asarray(axes, np.int32))
        inv = bind(_PRIMS[("ifft", "nd")], (full, full_len, axes_t))
        g = real(inv) * _n_total(full_len, _TO_REAL[dy.dtype])
        xdims = _static_dims(x, "input")
        return (_fit(g, axes, [xdims[a] for a in axes], _static_dims(g, "gradient")), None) + (
            (None,) if nd else ()
        )

    return grad


def _irfft_grad(rank, nd=False):
    def grad(inputs, out, dy, Tcomplex=None, Treal=None):  # noqa: N803
        y, fl = inputs[0], inputs[1]
        ax = inputs[2] if nd else None
        axes = _grad_axes(y, rank, ax)
        n = [int(v) for v in np.asarray(static_value(fl)).reshape(-1)]
        fl_t = convert_to_tensor(np.asarray(n, np.int32))
        axes_t = convert_to_tensor(np.asarray(axes, np.int32))
        spec = bind(_PRIMS[("rfft", "nd")], (dy, fl_t, axes_t), {"Tcomplex": _TO_COMPLEX[dy.dtype]})
        bins = n[-1] // 2 + 1
        weights = np.full(bins, 2.0)
        weights[0] = 1.0
        if n[-1] % 2 == 0 and bins > 1:
            weights[-1] = 1.0
        shp = [1] * y.shape.rank
        shp[axes[-1]] = bins
        total = float(np.prod(n)) if n else 1.0
        w = convert_to_tensor(
            (weights / total).reshape(shp).astype(np.complex128), dtype=spec.dtype
        )
        g = spec * w
        ydims = _static_dims(y, "input")
        target = [ydims[a] for a in axes]
        return (_fit(g, axes, target, _static_dims(g, "gradient")), None) + ((None,) if nd else ())

    return grad


# --------------------------------------------------------------------------------------
# The primitives
# --------------------------------------------------------------------------------------

_PRIMS = {}
for _rank, _suffix in ((1, ""), (2, "2D"), (3, "3D")):
    for _kind in ("fft", "ifft"):
        _name = _kind.upper() + _suffix
        _PRIMS[(_kind, _rank)] = primitive(
            _name, _fixed_kernel(_name, _kind, _rank), _rule(_name, _kind, _rank),
            _complex_grad(_kind, _rank), dtypes=_COMPLEX, saves=(), saves_output=False,
        )  # fmt: skip
    _name = "RFFT" + _suffix
    _PRIMS[("rfft", _rank)] = primitive(
        _name, _fixed_kernel(_name, "rfft", _rank), _rule(_name, "rfft", _rank),
        _rfft_grad(_rank), dtypes=_REAL, n_typed=1, saves=(1,), saves_output=False,
    )  # fmt: skip
    _name = "IRFFT" + _suffix
    _PRIMS[("irfft", _rank)] = primitive(
        _name, _fixed_kernel(_name, "irfft", _rank), _rule(_name, "irfft", _rank),
        _irfft_grad(_rank), dtypes=_COMPLEX, n_typed=1, saves=(1,), saves_output=False,
    )  # fmt: skip
for _kind, _name in (("fft", "FFTND"), ("ifft", "IFFTND")):
    _PRIMS[(_kind, "nd")] = primitive(
        _name, _nd_kernel(_name, _kind), _rule(_name, _kind, None, nd=True),
        _complex_grad(_kind, None, nd=True), dtypes=_COMPLEX, n_typed=1, saves=(1, 2),
        saves_output=False,
    )  # fmt: skip
_PRIMS[("rfft", "nd")] = primitive(
    "RFFTND", _nd_kernel("RFFTND", "rfft"), _rule("RFFTND", "rfft", None, nd=True),
    _rfft_grad(None, nd=True), dtypes=_REAL, n_typed=1, saves=(1, 2), saves_output=False,
)  # fmt: skip
_PRIMS[("irfft", "nd")] = primitive(
    "IRFFTND", _nd_kernel("IRFFTND", "irfft"), _rule("IRFFTND", "irfft", None, nd=True),
    _irfft_grad(None, nd=True), dtypes=_COMPLEX, n_typed=1, saves=(1, 2), saves_output=False,
)  # fmt: skip
del _rank, _suffix, _kind, _name

# --------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------


def _complex_input(x, op):
    t = convert_to_tensor(x)
    if (
        not is_tensor_like(x)
        and t.dtype not in _COMPLEX
        and (t.dtype.is_floating or t.dtype.is_integer)
    ):
        t = cast(t, _d.complex64)  # TF's op conversion: a non-tensor takes the default dtype
    if t.dtype not in _COMPLEX:
        raise op_error(
            InvalidArgumentError, op,
            f"input must be complex64 or complex128, got {t.dtype.name} (cast it with "
            f"tf.cast(x, tf.complex64))",
        )  # fmt: skip
    return t


def _simple(kind, rank, op):
    def f(input, name=None):  # noqa: A002
        return bind(_PRIMS[(kind, rank)], (_complex_input(input, op),))

    f.__name__ = op.lower()
    return f


fft = tf_export("signal.fft")(_simple("fft", 1, "FFT"))
ifft = tf_export("signal.ifft")(_simple("ifft", 1, "IFFT"))
fft2d = tf_export("signal.fft2d")(_simple("fft", 2, "FFT2D"))
ifft2d = tf_export("signal.ifft2d")(_simple("ifft", 2, "IFFT2D"))
fft3d = tf_export("signal.fft3d")(_simple("fft", 3, "FFT3D"))
ifft3d = tf_export("signal.ifft3d")(_simple("ifft", 3, "IFFT3D"))
fft.__doc__ = "FFT over the innermost axis of a complex tensor."
ifft.__doc__ = "Inverse FFT over the innermost axis of a complex tensor."
fft2d.__doc__ = "2-D FFT over the innermost two axes of a complex tensor."
ifft2d.__doc__ = "2-D inverse FFT over the innermost two axes of a complex tensor."
fft3d.__doc__ = "3-D FFT over the innermost three axes of a complex tensor."
ifft3d.__doc__ = "3-D inverse FFT over the innermost three axes of a complex tensor."


def _length_tensor(fft_length, default):
    if fft_length is None:
        return convert_to_tensor(np.asarray(default, np.int32))
    return convert_to_tensor(fft_length, dtype=_d.int32)


def _static_tail(x, rank, op):
    dims = x.shape.as_list() if x.shape.rank is not None else None
    if dims is None or len(dims) < rank:
        raise ValueError(f"{op}: input must have rank at least {rank}, got shape {x.shape}")
    tail = dims[len(dims) - rank :]
    if any(d is None for d in tail):
        return None
    return tail


def _real_input(x, op):
    t = convert_to_tensor(x, dtype_hint=_d.float32)
    if t.dtype not in _REAL:
        raise ValueError(f"RFFT requires tf.float32 or tf.float64 inputs, got: {t}")
    return t


def _rfft_fn(rank, op):
    def f(input_tensor, fft_length=None, name=None):
        x = _real_input(input_tensor, op)
        tail = _static_tail(x, rank, op)
        if fft_length is None and tail is None:
            fl = shape(x)[-rank:]
        else:
            fl = _length_tensor(fft_length, tail)
        return bind(_PRIMS[("rfft", rank)], (x, fl), {"Tcomplex": _TO_COMPLEX[x.dtype]})

    f.__name__ = op.lower()
    f.__doc__ = (
        f"Real-input FFT over the innermost {rank} axes, each cropped or zero-padded to "
        "``fft_length``; the last axis keeps fft_length // 2 + 1 bins."
    )
    return f


def _irfft_fn(rank, op):
    def f(input_tensor, fft_length=None, name=None):
        x = convert_to_tensor(input_tensor, dtype_hint=_d.complex64)
        if x.dtype not in _COMPLEX:
            raise ValueError(f"IRFFT requires tf.complex64 or tf.complex128 inputs, got: {x}")
        tail = _static_tail(x, rank, op)
        if fft_length is None:
            if tail is None:
                raise ValueError(f"{op}: fft_length is needed when the input's shape is not known")
            tail = list(tail)
            tail[-1] = max(0, 2 * (tail[-1] - 1))
        fl = _length_tensor(fft_length, tail)
        return bind(_PRIMS[("irfft", rank)], (x, fl), {"Treal": _TO_REAL[x.dtype]})

    f.__name__ = op.lower()
    f.__doc__ = (
        f"Inverse of ``rfft`` over the innermost {rank} axes: a real signal of ``fft_length`` "
        "(default: 2 * (bins - 1) on the last axis)."
    )
    return f


rfft = tf_export("signal.rfft")(_rfft_fn(1, "RFFT"))
irfft = tf_export("signal.irfft")(_irfft_fn(1, "IRFFT"))
rfft2d = tf_export("signal.rfft2d")(_rfft_fn(2, "RFFT2D"))
irfft2d = tf_export("signal.irfft2d")(_irfft_fn(2, "IRFFT2D"))
rfft3d = tf_export("signal.rfft3d")(_rfft_fn(3, "RFFT3D"))
irfft3d = tf_export("signal.irfft3d")(_irfft_fn(3, "IRFFT3D"))


def _nd_args(x, fft_length, axes, inverse_real=False):
    rank = x.shape.rank
    if axes is None:
        axes = list(range(rank))
    axes = [
        int(a)
        for a in np.asarray(static_value(convert_to_tensor(axes, dtype=_d.int32))).reshape(-1)
    ]
    if fft_length is None:
        dims = x.shape.as_list()
        n = [dims[a] for a in axes]
        if any(d is None for d in n):
            raise ValueError("fft_length is needed when the transformed axes' sizes are not known")
        if inverse_real and n:
            n[-1] = max(0, 2 * (n[-1] - 1))
    else:
        n = [
            int(v)
            for v in np.asarray(
                static_value(convert_to_tensor(fft_length, dtype=_d.int32))
            ).reshape(-1)
        ]
    return n, axes


def _norm_scale(norm, n, forward):
    """The factor TF's N-D wrappers apply to the input for ``norm``."""
    if norm in (None, "backward"):
        return None
    total = float(np.prod(n)) if n else 1.0
    if norm == "forward":
        return 1.0 / total if forward else total
    if norm == "ortho":
        return 1.0 / np.sqrt(total) if forward else np.sqrt(total)
    raise ValueError(f"norm must be 'backward', 'forward' or 'ortho', got {norm!r}")


def _nd(kind, op):
    forward = kind in ("fft", "rfft")

    def f(input_tensor, fft_length=None, axes=None, norm=None, name=None):
        if kind == "rfft":
            x = _real_input(input_tensor, op)
        else:
            x = convert_to_tensor(input_tensor, dtype_hint=_d.complex64)
            if x.dtype not in _COMPLEX:
                raise ValueError(f"{op} requires tf.complex64 or tf.complex128 inputs, got: {x}")
        n, axes = _nd_args(x, fft_length, axes, inverse_real=kind == "irfft")
        scale = _norm_scale(norm, n, forward)
        if scale is not None:
            x = x * convert_to_tensor(scale, dtype=x.dtype)
        params = {}
        if kind == "rfft":
            params["Tcomplex"] = _TO_COMPLEX[x.dtype]
        elif kind == "irfft":
            params["Treal"] = _TO_REAL[x.dtype]
        fl = convert_to_tensor(np.asarray(n, np.int32))
        ax = convert_to_tensor(np.asarray(axes, np.int32))
        return bind(_PRIMS[(kind, "nd")], (x, fl, ax), params)

    f.__name__ = op.lower()
    f.__doc__ = (
        f"N-D {'inverse ' if not forward else ''}{'real ' if 'r' in kind else ''}FFT over "
        "``axes`` (default: all), each cropped or zero-padded to ``fft_length``; ``norm`` is "
        "'backward' (default), 'forward' or 'ortho'."
    )
    return f


fftnd = tf_export("signal.fftnd")(_nd("fft", "FFTND"))
ifftnd = tf_export("signal.ifftnd")(_nd("ifft", "IFFTND"))
rfftnd = tf_export("signal.rfftnd")(_nd("rfft", "RFFTND"))
irfftnd = tf_export("signal.irfftnd")(_nd("irfft", "IRFFTND"))


def _shift(x, axes, sign):
    x = convert_to_tensor(x)
    dims = x.shape.as_list()
    if axes is None:
        axes = list(range(len(dims)))
    elif isinstance(axes, int):
        axes = [axes]
    axes = [int(a) for a in axes]
    if any(dims[a] is None for a in axes):
        n = shape(x)
        from rill.ops.array_ops import stack

        shifts = stack([sign * (n[a] // 2) for a in axes])
    else:
        shifts = [sign * (dims[a] // 2) for a in axes]
    return roll(x, shifts, axes)


@tf_export("signal.fftshift")
def fftshift(x, axes=None, name=None):
    """Move the zero-frequency term to the centre of ``axes`` (default: all)."""
    return _shift(x, axes, 1)


@tf_export("signal.ifftshift")
def ifftshift(x, axes=None, name=None):
    """The inverse of ``fftshift``."""
    return _shift(x, axes, -1)
