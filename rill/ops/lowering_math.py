"""Lowerings to JAX for ops whose NumPy kernels cannot trace: integer division (a host
check for zero divisors), permutation, sequence, histogram and bit ops, the transposes of
pads, repeats and window gathers, and the integer random samplers. Each is a
``lowering=`` fact of its primitive; ``ctx`` is ``rill.xla``'s LoweringContext, so this
module imports nothing from JAX itself.

A compiled computation cannot raise on values: where a kernel checks its inputs on the
host (a zero integer divisor, an out-of-range permutation entry) the lowering documents
what XLA computes instead. Shapes and counts are host-known (params, or ``_static``
inputs), since XLA's shapes are fixed when compiling.
"""

from __future__ import annotations

import math

import numpy as np

from rill.ops.lowering_rules import _inexact, _static

__all__ = [
    "floor_div",
    "truncate_div",
    "invert_permutation",
    "searchsorted",
    "reverse_sequence",
    "histogram",
    "histogram_bins",
    "bitcast",
    "mirror_pad_grad",
    "repeat",
    "repeat_grad",
    "extract_patches",
    "extract_patches_grad",
    "max_pool_grad_grad",
    "host_random_int",
    "stateless_full_int",
]


# integer division -----------------------------------------------------------------------


def _int_quotient(ctx, x, y):
    """``x / y`` rounded toward zero, with XLA's values where C leaves it undefined: x / 0
    is -1 (all bits set, so the largest value of an unsigned type) and INT_MIN / -1 is
    INT_MIN. Spelled out (a divisor of 1 stands in) rather than left to the backend, so
    every device gives the same numbers."""
    jnp = ctx.jnp
    x, y = jnp.broadcast_arrays(jnp.asarray(x), jnp.asarray(y))
    dt = np.dtype(x.dtype)
    info = np.iinfo(dt)
    zero = y == 0
    undefined = zero
    if info.min < 0:
        undefined = zero | ((x == info.min) & (y == -1))
    one = np.ones((), dt)
    q = ctx.lax.div(x, jnp.where(undefined, one, y))  # INT_MIN / 1 is INT_MIN already
    return jnp.where(zero, np.asarray(-1 if info.min < 0 else info.max, dt), q), x, y


def floor_div(ctx, x, y):
    """FloorDiv. Floats: ``floor(x / y)``, as the kernel (and TF) compute it. Integers:
    the truncated quotient less one where the division is inexact and the signs differ.
    A zero divisor is not an error here (the executor raises): as in TF's XLA kernel,
    which builds on XLA's x / 0 == -1, ``x // 0`` is -1 for x >= 0 and -2 for x < 0 (for
    unsigned types the largest value), and INT_MIN // -1 is INT_MIN."""
    jnp = ctx.jnp
    if _inexact(ctx, x.dtype):
        return jnp.floor(jnp.divide(x, y))
    q, x, y = _int_quotient(ctx, x, y)
    if np.iinfo(np.dtype(q.dtype)).min == 0:
        return q  # unsigned: truncation is the floor
    inexact = q * y != x  # with y == 0: true unless x == 0 (q * 0 == 0)
    return jnp.where(inexact & ((x < 0) != (y < 0)), q - np.ones((), q.dtype), q)


def truncate_div(ctx, x, y):
    """TruncateDiv. Floats: ``trunc(x / y)``. Integers: XLA's division, which rounds
    toward zero; ``x / 0`` is -1 (the largest value for unsigned types) and INT_MIN / -1
    is INT_MIN, where the executor raises for a zero divisor."""
    jnp = ctx.jnp
    if _inexact(ctx, x.dtype):
        return jnp.trunc(jnp.divide(x, y))
    return _int_quotient(ctx, x, y)[0]


# permutations, sequences, histograms ---------------------------------------------------


def invert_permutation(ctx, x):
    """InvertPermutation: ``arange(n)`` scattered to ``x``. The executor raises on an
    entry out of [0, n) or a duplicate; here an out-of-range entry is dropped, so the
    position nothing lands on stays -1, and of duplicates one write wins."""
    jnp = ctx.jnp
    x = jnp.asarray(x)
    n = x.shape[0]
    idx = jnp.where((x < 0) | (x >= n), n, x)  # negatives would wrap: send them past the end
    out = jnp.full((n,), -1, dtype=x.dtype)
    return out.at[idx].set(jnp.arange(n, dtype=x.dtype), mode="drop")


def searchsorted(ctx, seq, values, side, out_type):
    """SearchSorted: one binary search per innermost row, vectorised over the rows
    (NaNs sort last, as NumPy's)."""
    jnp = ctx.jnp
    seq, values = jnp.asarray(seq), jnp.asarray(values)
    n = seq.shape[-1]
    rows = math.prod(seq.shape[:-1])
    if n == 0 or values.size == 0:
        return jnp.zeros(values.shape, out_type.np)
    s2 = seq.reshape(rows, n)
    v2 = values.reshape(rows, -1)
    out = ctx.jax.vmap(lambda s, v: jnp.searchsorted(s, v, side=side))(s2, v2)
    return out.astype(out_type.np).reshape(values.shape)


def reverse_sequence(ctx, x, lengths, seq_axis, batch_axis):
    """ReverseSequence: a gather along ``seq_axis`` reversing each batch row's first
    ``lengths[b]`` elements, lengths dynamic. The executor raises on a length outside
    [0, n]; here it is clamped to that range."""
    jnp = ctx.jnp
    x = jnp.asarray(x)
    n = x.shape[seq_axis]
    t = jnp.arange(n)
    ln = jnp.clip(jnp.asarray(lengths).astype(np.int64), 0, n).reshape(-1, 1)
    idx = jnp.where(t < ln, ln - 1 - t, t)  # (batch, seq)
    if batch_axis > seq_axis:
        idx = idx.T
    shape = [1] * x.ndim
    shape[batch_axis], shape[seq_axis] = x.shape[batch_axis], n
    return jnp.take_along_axis(x, idx.reshape(shape), axis=seq_axis)


def _bin_index(ctx, values, value_range, nbins):
    """Each value's bin, as the kernel computes it (in float64; clipped into the first and
    last bins). The executor raises for an empty or reversed range; here such a range
    is not checked (its values land where the arithmetic puts them)."""
    jnp = ctx.jnp
    vr = jnp.asarray(value_range).astype(np.float64)
    lo, hi = vr[0], vr[1]
    scaled = (jnp.asarray(values).astype(np.float64) - lo) / (hi - lo)
    return jnp.clip(jnp.floor(scaled * nbins), 0, nbins - 1).astype(np.int64)


def histogram(ctx, values, value_range, nbins, dtype):
    """HistogramFixedWidth: counts of the bin indices (nbins is a param: a static
    length)."""
    idx = _bin_index(ctx, ctx.jnp.reshape(values, (-1,)), value_range, nbins)
    return ctx.jnp.bincount(idx, length=nbins).astype(dtype.np)


def histogram_bins(ctx, values, value_range, nbins, dtype):
    """HistogramFixedWidthBins: the bin index of each value."""
    return _bin_index(ctx, values, value_range, nbins).astype(dtype.np)


# bits -----------------------------------------------------------------------------------


def _uint(size):
    return np.dtype(f"uint{8 * size}")


def bitcast(ctx, x, type):  # noqa: A002 - TF's attribute name
    """Bitcast: ``lax.bitcast_convert_type`` (to a smaller type it adds a last dimension
    of the size ratio, to a larger one it consumes it: TF's shape rule). Complex types,
    which it does not take, travel as their (real, imaginary) float pairs."""
    jnp, lax = ctx.jnp, ctx.lax
    x = jnp.asarray(x)
    src, dst = np.dtype(x.dtype), np.dtype(type.np)
    if src.kind != "c" and dst.kind != "c":
        if src.itemsize < dst.itemsize and (
            x.ndim == 0 or x.shape[-1] != dst.itemsize // src.itemsize
        ):
            raise ValueError("last dimension must equal the size ratio")
        return lax.bitcast_convert_type(x, dst)
    # through bytes: (..., itemsize) uint8 in memory order, then to the target type
    if src.kind == "c":
        half = np.dtype(f"float{4 * src.itemsize}")
        parts = jnp.stack([jnp.real(x), jnp.imag(x)], axis=-1).astype(half)
        raw = lax.bitcast_convert_type(parts, np.uint8).reshape(x.shape + (src.itemsize,))
    elif src.itemsize == 1:
        raw = lax.bitcast_convert_type(x, np.uint8)[..., None]
    else:
        raw = lax.bitcast_convert_type(x, np.uint8)
    if src.itemsize > dst.itemsize:
        shape = x.shape + (src.itemsize // dst.itemsize,)
    elif src.itemsize < dst.itemsize:
        if x.ndim == 0 or x.shape[-1] != dst.itemsize // src.itemsize:
            raise ValueError("last dimension must equal the size ratio")
        shape = x.shape[:-1]
    else:
        shape = x.shape
    raw = raw.reshape(shape + (dst.itemsize,))
    if dst.kind == "c":
        half = np.dtype(f"float{4 * dst.itemsize}")
        pair = raw.reshape(shape + (2, dst.itemsize // 2))
        re_im = lax.bitcast_convert_type(pair, half)
        return lax.complex(re_im[..., 0], re_im[..., 1])
    if dst.itemsize == 1:
        return lax.bitcast_convert_type(raw[..., 0], dst)
    return lax.bitcast_convert_type(raw, dst)


# gradients of pads, repeats and windows -------------------------------------------------


def mirror_pad_grad(ctx, dy, paddings, mode):
    """MirrorPadGrad: each border of ``dy`` added back, reversed, onto the elements it
    mirrored (REFLECT skips the edge element, SYMMETRIC includes it), axis by axis."""
    jnp = ctx.jnp
    off = 1 if mode == "REFLECT" else 0
    out = jnp.asarray(dy)
    for ax, (b, a) in enumerate(paddings):
        if not (b or a):
            continue
        out = jnp.moveaxis(out, ax, 0)
        n = out.shape[0] - b - a
        core = out[b : b + n]
        if b:
            core = core.at[off : off + b].add(out[:b][::-1])
        if a:
            core = core.at[n - off - a : n - off].add(out[b + n :][::-1])
        out = jnp.moveaxis(core, 0, ax)
    return out


def repeat(ctx, x, repeats, axis):
    """Repeat: ``jnp.repeat`` with the (host-known) counts and their total as the static
    output length."""
    reps = np.asarray(repeats, dtype=np.int64)
    total = int(reps[0]) * x.shape[axis] if reps.size == 1 else int(reps.sum())
    if reps.size != 1 and x.shape[axis] != reps.size:
        raise ValueError("repeats do not match the dimension")
    r = int(reps[0]) if reps.size == 1 else reps
    return ctx.jnp.repeat(x, r, axis=axis, total_repeat_length=total)


def repeat_grad(ctx, dy, repeats, axis):
    """RepeatGrad: each block of repeated copies summed back into its element: a reshape
    and sum for one count, else a scatter-add by the (host) element index of each copy."""
    jnp = ctx.jnp
    y = jnp.moveaxis(jnp.asarray(dy), axis, 0)
    rest = y.shape[1:]
    if len(repeats) == 1:
        r = repeats[0]
        if not r:
            raise ValueError("cannot infer the size of the repeated dimension from 0 repeats")
        nb = y.shape[0] // r
        out = jnp.sum(y[: nb * r].reshape((nb, r) + rest), axis=1, dtype=y.dtype)
    else:
        ids = np.repeat(np.arange(len(repeats)), np.asarray(repeats, dtype=np.int64))
        m = min(len(ids), y.shape[0])
        out = jnp.zeros((len(repeats),) + rest, y.dtype).at[ids[:m]].add(y[:m])
    return jnp.moveaxis(out, 0, axis)


def _pad_spatial(ctx, x, pads, value=0):
    return ctx.jnp.pad(x, [(0, 0), *[tuple(p) for p in pads], (0, 0)], constant_values=value)


def extract_patches(ctx, x, ksizes, strides, rates, padding):
    """ExtractImagePatches: each window tap is one strided slice of the padded input;
    stacked taps-major, channels minor (``im2col``'s column order)."""
    from rill.ops.patch_ops import tap_index, window_geometry

    jnp = ctx.jnp
    x = jnp.asarray(x)
    pads, out = window_geometry(x.shape[1:-1], ksizes, strides, rates, padding)
    n, c = x.shape[0], x.shape[-1]
    depth = math.prod(ksizes) * c
    if n == 0 or 0 in out or c == 0:
        return jnp.zeros((n, *out, depth), dtype=x.dtype)
    xpd = _pad_spatial(ctx, x, pads)
    taps = tap_index(tuple(ksizes), tuple(strides), tuple(rates), tuple(out))
    cols = jnp.stack([xpd[idx] for idx in taps], axis=-2)  # (n, *out, taps, c)
    return cols.reshape((n, *out, depth))


def extract_patches_grad(ctx, sizes, patches, ksizes, strides, rates, padding):
    """ExtractImagePatchesGrad: each tap's slice of the patches added back onto the padded
    input (``col2im``), then cropped; the input shape must be known when compiling."""
    from rill.ops.patch_ops import col2im_geometry, crop_index, tap_index

    jnp = ctx.jnp
    patches = jnp.asarray(patches)
    dims = _static(sizes, "ExtractImagePatchesGrad's input sizes")
    n, spatial, c, pads, out = col2im_geometry(dims, patches.shape, ksizes, strides, rates, padding)
    kk = math.prod(ksizes)
    if n == 0 or 0 in out or c == 0:
        return jnp.zeros((n, *spatial, c), dtype=patches.dtype)
    p = patches.reshape((n, *out, kk, c))
    padded = tuple(s + a + b for s, (a, b) in zip(spatial, pads))
    dx = jnp.zeros((n, *padded, c), dtype=patches.dtype)
    for t, idx in enumerate(tap_index(tuple(ksizes), tuple(strides), tuple(rates), tuple(out))):
        dx = dx.at[idx].add(p[..., t, :])
    if any(a or b for a, b in pads):
        dx = dx[crop_index(pads, spatial)]
    return dx


def max_pool_grad_grad(ctx, x, out, g, ksize, strides, padding, explicit_paddings, data_format):
    """MaxPoolGradGrad: per window, ``g`` at its first maximum in row-major tap order (a
    NaN maximum: its first NaN), the kernel's masks over the window taps."""
    from rill.ops.lowering_rules import _channels_last, _restore
    from rill.ops.patch_ops import tap_index, window_geometry

    jnp = ctx.jnp
    sr = len(ksize)
    xn, bshape = _channels_last(ctx, jnp.asarray(x), sr, data_format)
    yn, _ = _channels_last(ctx, jnp.asarray(out), sr, data_format)
    gn, _ = _channels_last(ctx, jnp.asarray(g), sr, data_format)
    if yn.size == 0:
        return _restore(ctx, jnp.zeros(yn.shape, gn.dtype), bshape, data_format)
    pads, _ = window_geometry(xn.shape[1:-1], ksize, strides, (1,) * sr, padding, explicit_paddings)
    dt = np.dtype(xn.dtype)
    nan_aware = _inexact(ctx, dt)
    lowest = -np.inf if nan_aware else np.iinfo(dt).min
    xpd = _pad_spatial(ctx, xn, pads, np.asarray(lowest, dt))
    gpd = _pad_spatial(ctx, gn, pads)
    zero = jnp.zeros((), gn.dtype)
    res = claimed = None
    for idx in tap_index(tuple(ksize), tuple(strides), (1,) * sr, tuple(yn.shape[1:-1])):
        v = xpd[idx]
        hit = v == yn
        if nan_aware:  # a window holding a NaN has a NaN maximum, won by its first NaN
            hit = hit | jnp.isnan(v)
        if claimed is not None:
            hit = hit & ~claimed
        claimed = hit if claimed is None else claimed | hit
        term = jnp.where(hit, gpd[idx], zero)
        res = term if res is None else res + term
    return _restore(ctx, res, bshape, data_format)


# integer random samplers ----------------------------------------------------------------


def host_random_int(draw_stream):
    """The lowering of RandomUniformInt: a fresh key per execution from the op's seeded
    NumPy stream (``draw_stream(name, dtype_name, seed, seed2)``, the kernel's), then
    JAX's ``randint`` in [minval, maxval). The executor raises for minval >= maxval;
    here, the bounds being known only when running, JAX's sampler returns minval."""

    def lowering(ctx, s, minval, maxval, seed=None, seed2=None, stream=None):
        dt = np.dtype(minval.dtype)
        key = ctx.host_key(lambda: draw_stream(stream, dt.name, seed, seed2))
        dims = tuple(_static(s, "a random op's shape"))
        return ctx.random.randint(key, dims, minval, maxval, dt)

    return lowering


def stateless_full_int(ctx, s, seed, dtype):
    """StatelessRandomUniformFullInt: JAX's random bits of the seed pair's key over the
    whole range of ``dtype`` (unsigned bits reinterpreted for signed types)."""
    dims = tuple(_static(s, "a random op's shape"))
    dt = np.dtype(dtype.np)
    bits = ctx.random.bits(ctx.seed_key(seed), dims, _uint(dt.itemsize))
    return bits if dt.kind == "u" else ctx.lax.bitcast_convert_type(bits, dt)
