"""Lowerings to JAX for kernels that the generic path (the kernel on ``jax.numpy``) cannot
take: in-place NumPy code (convolution, pooling), host random streams. Each is a
``lowering=`` fact of its primitive; ``ctx`` is ``rill.xla``'s LoweringContext, so this
module imports nothing from JAX itself."""

from __future__ import annotations

import numpy as np

__all__ = [
    "identity",
    "conv2d",
    "conv2d_backprop_input",
    "conv2d_backprop_filter",
    "max_pool",
    "max_pool_grad",
    "avg_pool",
    "avg_pool_grad",
    "relu_grad",
    "host_random",
    "stateless_random",
]


def identity(ctx, x):
    """Identity and StopGradient: the value itself (gradients are rill's, not JAX's)."""
    return x


def _is_host(*vs) -> bool:
    """Whether every value is known while lowering (a host NumPy value, not traced)."""
    return all(isinstance(v, (np.ndarray, np.generic)) for v in vs)


def _inexact(ctx, dtype) -> bool:
    """Whether ``dtype`` is floating or complex by JAX's test (bfloat16 included, which
    NumPy's kind test misses)."""
    return bool(ctx.jnp.issubdtype(dtype, ctx.jnp.inexact))


def _static(v, what):
    """A host-known integer vector (a static shape): XLA shapes are fixed at compile time."""
    try:
        return [int(d) for d in np.asarray(v).reshape(-1)]
    except Exception as e:  # noqa: BLE001 - a traced value
        from rill.core.errors import NotLowerable

        raise NotLowerable(f"{what} must be known when compiling ({type(e).__name__})") from e


def _channels_last(ctx, x, sr, data_format):
    """(batch-flattened channels-last array, batch shape), as the NumPy kernels work."""
    nb = x.ndim - sr - 1
    bshape = tuple(x.shape[:nb])
    if data_format == "NCHW":
        x = ctx.jnp.moveaxis(x, nb, -1)
    return ctx.jnp.reshape(x, (int(np.prod(bshape)),) + tuple(x.shape[nb:])), bshape


def _restore(ctx, y, bshape, data_format):
    y = ctx.jnp.reshape(y, bshape + tuple(y.shape[1:]))
    return ctx.jnp.moveaxis(y, -1, len(bshape)) if data_format == "NCHW" else y


def conv2d(ctx, x, w, strides, dilations, padding, explicit_paddings, data_format):
    """Conv2D (any spatial rank) as one ``lax.conv_general_dilated``, grouped when the
    filter takes fewer channels than the input has."""
    from rill.ops.patch_ops import window_geometry

    sr = len(strides)
    xn, bshape = _channels_last(ctx, ctx.jnp.asarray(x), sr, data_format)
    pads, _ = window_geometry(
        xn.shape[1:-1], w.shape[:sr], strides, dilations, padding, explicit_paddings
    )
    sp = "HWDXYZ"[:sr]
    y = ctx.lax.conv_general_dilated(
        xn,
        w,
        tuple(strides),
        [tuple(p) for p in pads],
        rhs_dilation=tuple(dilations),
        dimension_numbers=("N" + sp + "C", sp + "IO", "N" + sp + "C"),
        feature_group_count=xn.shape[-1] // w.shape[sr],
    )
    return _restore(ctx, y, bshape, data_format)


def _vjp(ctx, fn, primal, dy):
    _, pull = ctx.jax.vjp(fn, primal)
    return pull(ctx.jnp.asarray(dy))[0]


def conv2d_backprop_input(ctx, sizes, w, dy, **p):
    """The input gradient of Conv2D: the VJP of its lowering (XLA's transposed conv)."""
    x0 = ctx.jnp.zeros(_static(sizes, "Conv2DBackpropInput's input_sizes"), dy.dtype)
    return _vjp(ctx, lambda x: conv2d(ctx, x, w, **p), x0, dy)


def conv2d_backprop_filter(ctx, x, fsizes, dy, **p):
    """The filter gradient of Conv2D: the VJP of its lowering."""
    w0 = ctx.jnp.zeros(_static(fsizes, "Conv2DBackpropFilter's filter_sizes"), dy.dtype)
    return _vjp(ctx, lambda w: conv2d(ctx, x, w, **p), w0, dy)


def _pool(ctx, x, ksize, strides, padding, explicit_paddings, data_format, init, op):
    from rill.ops.patch_ops import window_geometry

    sr = len(ksize)
    xn, bshape = _channels_last(ctx, ctx.jnp.asarray(x), sr, data_format)
    pads, _ = window_geometry(xn.shape[1:-1], ksize, strides, [1] * sr, padding, explicit_paddings)
    y = ctx.lax.reduce_window(
        xn,
        np.asarray(init, xn.dtype),
        op,
        (1, *ksize, 1),
        (1, *strides, 1),
        [(0, 0), *[tuple(p) for p in pads], (0, 0)],
    )
    return y, bshape


def _tiles(ctx, xn, ksize, strides, padding, explicit_paddings):
    """Channels-last ``xn`` as ``(n, o1, k1, o2, k2, ..., c)`` when the pooling windows
    tile it (strides equal to the window, no padding: the usual 2x2/2 max pool), cropped
    to the whole windows; else None. XLA's CPU backend runs a tiled max pool's gradient
    (select-and-scatter) about 6x slower than the same reduction over a reshape (jax.jit,
    the W5 CNN step: 29 vs 4.9 ms)."""
    from rill.ops.patch_ops import window_geometry

    sr = len(ksize)
    if list(ksize) != list(strides):
        return None
    pads, _ = window_geometry(xn.shape[1:-1], ksize, strides, [1] * sr, padding, explicit_paddings)
    if any(a or b for a, b in pads):
        return None
    out = [int(n) // k for n, k in zip(xn.shape[1:-1], ksize)]
    if 0 in out:
        return None
    xn = xn[(slice(None), *[slice(0, o * k) for o, k in zip(out, ksize)], slice(None))]
    pairs = [d for o, k in zip(out, ksize) for d in (o, k)]
    return ctx.jnp.reshape(xn, (xn.shape[0], *pairs, xn.shape[-1]))


def max_pool(ctx, x, ksize, strides, padding, explicit_paddings, data_format):
    """MaxPool: a max over the window axes of a reshape where the windows tile the input,
    else ``lax.reduce_window`` (max; padding never wins)."""
    xn, b = _channels_last(ctx, ctx.jnp.asarray(x), len(ksize), data_format)
    t = _tiles(ctx, xn, ksize, strides, padding, explicit_paddings)
    if t is not None:
        y = ctx.jnp.max(t, axis=tuple(range(2, 2 * len(ksize) + 1, 2)))
        return _restore(ctx, y, b, data_format)
    dt = np.dtype(x.dtype)
    lowest = -np.inf if dt.kind == "f" else np.iinfo(dt).min
    y, b = _pool(
        ctx, x, ksize, strides, padding, explicit_paddings, data_format, lowest, ctx.lax.max
    )
    return _restore(ctx, y, b, data_format)


def max_pool_grad(ctx, x, out, dy, **p):
    """MaxPoolGrad: each window's gradient to its first maximum in row-major order (a NaN
    maximum: its first NaN), as rill's kernel and TF give it; where the windows tile the
    input, as a mask over the reshaped windows, else the VJP of max_pool."""
    jnp = ctx.jnp
    sr = len(p["ksize"])
    fmt = p["data_format"]
    xn, b = _channels_last(ctx, jnp.asarray(x), sr, fmt)
    t = _tiles(ctx, xn, p["ksize"], p["strides"], p["padding"], p["explicit_paddings"])
    if t is None:
        return _vjp(ctx, lambda v: max_pool(ctx, v, **p), jnp.asarray(x), dy)
    yn, _ = _channels_last(ctx, jnp.asarray(out), sr, fmt)
    gn, _ = _channels_last(ctx, jnp.asarray(dy), sr, fmt)
    # (n, o1, o2, .., c, k1 * k2 * ..): each window's elements along the last axis
    outer = [0, *range(1, 2 * sr, 2), 2 * sr + 1]
    perm = outer + list(range(2, 2 * sr + 1, 2))
    w = jnp.transpose(t, perm)
    w = jnp.reshape(w, (*w.shape[: sr + 2], -1))
    hit = w == yn[..., None]
    if _inexact(ctx, w.dtype):
        hit = hit | jnp.isnan(w)
    first = hit & (jnp.cumsum(hit, axis=-1) == 1)
    g = jnp.where(first, gn[..., None], jnp.zeros((), gn.dtype))
    g = jnp.reshape(g, tuple(t.shape[i] for i in perm))
    g = jnp.transpose(g, np.argsort(perm))
    g = jnp.reshape(g, (g.shape[0], *[o * k for o, k in zip(t.shape[1:-1:2], p["ksize"])], -1))
    rest = [(0, n - m) for n, m in zip(xn.shape[1:-1], g.shape[1:-1])]
    if any(r for _, r in rest):  # the rows and columns no window covers get nothing
        g = jnp.pad(g, [(0, 0), *rest, (0, 0)])
    return _restore(ctx, g, b, fmt)


def avg_pool(ctx, x, ksize, strides, padding, explicit_paddings, data_format):
    """AvgPool: window sums over the count of real (unpadded) elements, as TF divides."""
    geo = (ksize, strides, padding, explicit_paddings, data_format)
    total, b = _pool(ctx, x, *geo, 0, ctx.lax.add)
    ones = ctx.jnp.ones(x.shape, x.dtype)
    count, _ = _pool(ctx, ones, *geo, 0, ctx.lax.add)
    return _restore(ctx, total / count, b, data_format)


def avg_pool_grad(ctx, sizes, dy, **p):
    """AvgPoolGrad: the VJP of avg_pool."""
    x0 = ctx.jnp.zeros(_static(sizes, "AvgPoolGrad's orig_input_shape"), dy.dtype)
    return _vjp(ctx, lambda v: avg_pool(ctx, v, **p), x0, dy)


def relu_grad(ctx, dy, out):
    """ReluGrad: dy where the relu's output is positive."""
    return ctx.jnp.where(out > 0, dy, ctx.jnp.zeros((), dy.dtype))


# random ---------------------------------------------------------------------------------


def _draw(ctx, key, kind, dims, dtype, minval=None, maxval=None):
    random = ctx.random
    if kind == "normal":
        return random.normal(key, dims, dtype)
    if kind == "uniform":
        return random.uniform(key, dims, dtype)
    if kind == "truncated":
        return random.truncated_normal(key, -2.0, 2.0, dims, dtype)
    return random.randint(key, dims, minval, maxval, dtype)


def host_random(kind, stream):
    """The lowering of a stateful float sampler: a fresh key per execution from the op's
    own seeded NumPy stream (``stream(dtype, seed, seed2)``), then JAX's sampler."""

    def lowering(ctx, s, dtype, seed=None, seed2=None):
        key = ctx.host_key(lambda: stream(dtype, seed, seed2))
        return _draw(ctx, key, kind, tuple(_static(s, "a random op's shape")), dtype.np)

    return lowering


def stateless_random(kind):
    """The lowering of a stateless sampler: JAX's sampler keyed by the seed pair
    (deterministic per seed, as the op; JAX's stream, not the executor's numbers)."""

    def lowering(ctx, s, seed, *bounds, dtype=None, **_):
        dims = tuple(_static(s, "a random op's shape"))
        key = ctx.seed_key(seed)
        if kind == "int":
            lo, hi = bounds
            return _draw(ctx, key, kind, dims, np.dtype(lo.dtype), lo, hi)  # lo may be traced
        return _draw(ctx, key, kind, dims, dtype.np)

    return lowering


def _work(x):
    return np.float32 if np.dtype(x.dtype).itemsize < 4 else x.dtype


def _bad_labels(ctx, labels, depth):
    return (labels < 0) | (labels >= depth)


def sparse_xent(ctx, x, labels):
    """SparseSoftmaxCrossEntropyWithLogits: (loss, softmax minus the one-hot labels); an
    out-of-range label gives NaN in its row (XLA's rule, as TF's GPU kernel: no host check
    inside a compiled computation)."""
    jnp = ctx.jnp
    xu = jnp.asarray(x).astype(_work(x))
    lsm = ctx.jax.nn.log_softmax(xu, axis=-1)
    idx = jnp.clip(labels, 0, x.shape[-1] - 1).astype(np.int64)[..., None]
    loss = -jnp.take_along_axis(lsm, idx, axis=-1)[..., 0]
    onehot = labels[..., None] == jnp.arange(x.shape[-1])
    backprop = jnp.exp(lsm) - onehot.astype(lsm.dtype)
    bad = _bad_labels(ctx, labels, x.shape[-1])
    return (
        jnp.where(bad, np.nan, loss).astype(x.dtype),
        jnp.where(bad[..., None], np.nan, backprop).astype(x.dtype),
    )


# slices at traced positions ------------------------------------------------------------
# XLA shapes are static, so a slice may start at a traced position (``x[i]`` in a loop,
# ``x[i, 2:5]``, ``tf.slice(x, [i, 0], [2, 3])``) only where its size is still known: a
# shrunk index, a range of known bounds, or (in a gradient, whose sizes are dy's) a
# stride-1 range. The bounds a slice's begin/end vectors hold are known element by
# element where they were packed from constants (``ctx.known_elements``). XLA clamps a
# traced start into range (``lax.dynamic_slice``), where the executor raises.


def filled(value):
    """The lowering of ZerosLike / OnesLike: a host constant of the input's static shape."""

    def lowering(ctx, x):
        return np.full(x.shape, value, dtype=np.dtype(x.dtype))

    return lowering


def pack(ctx, *xs, axis):
    """Pack: ``jnp.stack``. A vector of scalars of which some are known (a slice's begin
    ``[i, 2]``) records those for the ops that need them static."""
    y = ctx.jnp.stack([ctx.jnp.asarray(x) for x in xs], axis=axis)
    if y.ndim == 1 and np.dtype(y.dtype).kind in "iu" and any(_is_host(x) for x in xs):
        ctx.note_known(y, [int(x) if _is_host(x) else None for x in xs])
    return y


def _slice_window(ctx, dims, b, e, strides, dy_sizes, op, **masks):
    """A strided slice of input ``dims`` as ``(starts, sizes, key)``: a dynamic slice of
    the input at ``starts`` (None: none needed) of ``sizes``, then the static NumPy ``key``
    (new axes included). ``dy_sizes``: the gradient's size of each range entry, or None."""
    from rill.core.errors import InvalidArgumentError, NotLowerable, op_error
    from rill.ops.indexing_ops import _dense_spec

    n = len(strides)
    bk = ctx.known_elements(b) or [None] * n
    ek = ctx.known_elements(e) or [None] * n
    spec = _dense_spec(len(dims), n, masks["ellipsis_mask"], masks["new_axis_mask"],
                       masks["shrink_axis_mask"])  # fmt: skip
    starts, sizes, key, dynamic = [0] * len(dims), list(dims), [], False
    for kind, dim, i in spec:
        size = None if dim is None else dims[dim]
        if kind == "new":
            key.append(None)
        elif kind == "all":
            key.append(slice(None))
        elif kind == "index":
            if bk[i] is not None:
                if not -size <= bk[i] < size:
                    raise op_error(InvalidArgumentError, op,
                                   f"slice index {bk[i]} of dimension {dim} out of bounds.")  # fmt: skip
                key.append(bk[i])
            else:
                starts[dim], sizes[dim], dynamic = (
                    ctx.jnp.where(b[i] < 0, b[i] + size, b[i]),
                    1,
                    True,
                )
                key.append(0)
        else:
            lo = None if masks["begin_mask"] >> i & 1 else bk[i]
            hi = None if masks["end_mask"] >> i & 1 else ek[i]
            traced_lo = lo is None and not masks["begin_mask"] >> i & 1
            traced_hi = hi is None and not masks["end_mask"] >> i & 1
            if not (traced_lo or traced_hi):
                key.append(slice(lo, hi, strides[i]))
            elif strides[i] == 1 and dy_sizes is not None:  # a gradient: dy has the size
                start = b[i] if traced_lo else (lo or 0)
                start = ctx.jnp.clip(ctx.jnp.where(start < 0, start + size, start), 0, size)
                starts[dim], sizes[dim], dynamic = start, dy_sizes[i], True
                key.append(slice(None))
            else:
                raise NotLowerable(
                    f"the slice of dim {dim} has a traced begin or end, so its size is known "
                    f"only when it runs, and XLA needs static shapes: give it a constant "
                    f"size (tf.slice(x, begin, size), x[i] for one element) or use tf.gather"
                )
    if not dynamic:
        return None, sizes, tuple(key)
    dtype = np.int64 if any(getattr(v, "dtype", None) == np.int64 for v in (b, e)) else np.int32
    return [ctx.jnp.asarray(v, dtype) for v in starts], sizes, tuple(key)


def strided_slice(ctx, x, b, e, s, **masks):
    """StridedSlice: NumPy's indexing where the bounds are known; from traced bounds, a
    dynamic slice of static size (see above)."""
    from rill.ops.indexing_ops import _ss_kernel

    if _is_host(b, e, s):
        return _ss_kernel(ctx.jnp.asarray(x), b, e, s, xp=ctx.jnp, **masks)
    strides = _static(s, "a slice's strides")
    starts, sizes, key = _slice_window(ctx, x.shape, b, e, strides, None, "StridedSlice", **masks)
    y = ctx.jnp.asarray(x) if starts is None else ctx.lax.dynamic_slice(x, starts, sizes)
    return y[key + (Ellipsis,)]


def strided_slice_grad(ctx, sh, b, e, s, dy, **masks):
    """StridedSliceGrad: ``dy`` scattered into zeros of the input's (static) shape, at the
    forward's window (from traced bounds, its dynamic slice: range sizes are dy's)."""
    dims = tuple(_static(sh, "a slice gradient's shape"))
    strides = _static(s, "a slice's strides")
    dy_sizes = _range_sizes(dims, b.shape[0], dy.shape, **masks)
    starts, sizes, key = _slice_window(ctx, dims, b, e, strides, dy_sizes, "StridedSliceGrad",
                                       **masks)  # fmt: skip
    block = ctx.jnp.zeros(sizes, dy.dtype)
    inner = tuple(k for k in key if k is not None)  # dy's new axes are its size-1 dims
    block = block.at[inner].set(ctx.jnp.reshape(dy, _indexed_shape(sizes, inner)))
    if starts is None:
        return block
    return ctx.lax.dynamic_update_slice(ctx.jnp.zeros(dims, dy.dtype), block, starts)


def _range_sizes(dims, n, dy_shape, **masks):
    """dy's size for each range entry of a slice spec (every entry but a shrunk index has
    its dim in dy)."""
    from rill.ops.indexing_ops import _dense_spec

    spec = _dense_spec(len(dims), n, masks["ellipsis_mask"], masks["new_axis_mask"],
                       masks["shrink_axis_mask"])  # fmt: skip
    sizes, k = [None] * n, 0
    for kind, _, i in spec:
        if kind == "range":
            sizes[i] = dy_shape[k]
        k += kind != "index"
    return sizes


def _indexed_shape(sizes, key):
    """The shape of an array of ``sizes`` indexed by basic ``key`` (ints and slices)."""
    out = []
    for k, n in zip(key, sizes):
        if isinstance(k, slice):
            out.append(len(range(*k.indices(n))))
    return out + list(sizes[len(key) :])


def slice_op(ctx, x, b, sz):
    """Slice: from a traced begin, a dynamic slice of the (known) size; a size of -1 (to
    the end) needs a known begin."""
    from rill.core.errors import NotLowerable
    from rill.ops.indexing_ops import _slice_kernel

    if _is_host(b, sz):
        return _slice_kernel(ctx.jnp.asarray(x), b, sz, xp=ctx.jnp)
    sizes = _static(sz, "a slice's size (XLA needs static shapes)")
    known = ctx.known_elements(b) or [None] * len(sizes)
    starts = []
    for i, (k, size, n) in enumerate(zip(known, sizes, x.shape)):
        if size == -1:
            if k is None:
                raise NotLowerable(f"a slice of dim {i} to its end (size -1) from a traced begin")
            sizes[i] = n - k
        starts.append(b[i] if k is None else k)
    dtype = np.asarray(b).dtype if _is_host(b) else b.dtype
    return ctx.lax.dynamic_slice(x, [ctx.jnp.asarray(v, dtype) for v in starts], sizes)
