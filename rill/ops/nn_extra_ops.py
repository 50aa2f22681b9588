"""The rest of ``tf.nn``: block rearrangements (``space_to_depth``, ``depth_to_space``),
local response normalization, generic and morphological pooling (``pool``,
``dilation2d``, ``erosion2d``), weighted moments and sufficient statistics, depthwise
convolution backprops, isotonic regression, label utilities (``collapse_repeated``,
``ctc_unique_labels``, ``compute_accidental_hits``) and ``tf.nn.experimental``'s dropouts.

Most are composites over rill's public ops, so eager, tape and trace agree and their
gradients come from the primitives they use; isotonic regression and accidental hits are
primitives with host kernels (sequential algorithms).
"""

from __future__ import annotations

import collections
import math

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import InvalidArgumentError
from rill.ops._op import (
    AVal,
    bind,
    convert_to_tensor,
    op_error,
    primitive,
    static_value,
    tf_export,
)
from rill.ops.array_ops import cast, reshape, shape, stack, zeros_like
from rill.ops.math_ops import (
    add,
    divide_no_nan,
    greater_equal,
    multiply,
    negative,
    realdiv,
    squared_difference,
    subtract,
)
from rill.ops.reduction_ops import reduce_max, reduce_sum
from rill.ops.shape_ops import pad, reverse, squeeze, transpose
from rill.ops.unary_ops import square

# --------------------------------------------------------------------------------------
# space_to_depth / depth_to_space
# --------------------------------------------------------------------------------------


def _block_size(op, block_size):
    bs = int(block_size)
    if bs < 2:
        raise ValueError(f"{op}: block_size should be > 1, got {bs}")
    return bs


def _to_nhwc(x, data_format, op):
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"{op}: data_format must be 'NHWC' or 'NCHW', got {data_format!r}")
    if x.shape.rank is not None and x.shape.rank != 4:
        raise ValueError(f"{op}: input must be 4-D, got shape {x.shape}")
    return transpose(x, [0, 2, 3, 1]) if data_format == "NCHW" else x


def _from_nhwc(y, data_format):
    return transpose(y, [0, 3, 1, 2]) if data_format == "NCHW" else y


def _dims4(x):
    """Static dims of a 4-D tensor where known, else dynamic scalars."""
    s = x.shape.as_list()
    dyn = shape(x)
    return [d if d is not None else dyn[i] for i, d in enumerate(s)]


@tf_export("nn.space_to_depth", "space_to_depth")
def space_to_depth(input, block_size, data_format="NHWC", name=None):  # noqa: A002
    """Move each block_size x block_size spatial block into the depth dimension."""
    bs = _block_size("space_to_depth", block_size)
    x = _to_nhwc(convert_to_tensor(input), data_format, "space_to_depth")
    b, h, w, c = _dims4(x)
    if isinstance(h, int) and isinstance(w, int) and (h % bs or w % bs):
        raise op_error(
            InvalidArgumentError,
            "SpaceToDepth",
            f"Image width {w} and height {h} should be divisible by block_size: {bs}",
        )
    y = reshape(x, [b, h // bs, bs, w // bs, bs, c])
    y = transpose(y, [0, 1, 3, 2, 4, 5])
    return _from_nhwc(reshape(y, [b, h // bs, w // bs, bs * bs * c]), data_format)


@tf_export("nn.depth_to_space", "depth_to_space")
def depth_to_space(input, block_size, data_format="NHWC", name=None):  # noqa: A002
    """Move depth into block_size x block_size spatial blocks (inverse of space_to_depth)."""
    bs = _block_size("depth_to_space", block_size)
    x = _to_nhwc(convert_to_tensor(input), data_format, "depth_to_space")
    b, h, w, c = _dims4(x)
    if isinstance(c, int) and c % (bs * bs):
        raise op_error(
            InvalidArgumentError,
            "DepthToSpace",
            f"Input depth dimension {c} should be divisible by: {bs * bs}",
        )
    y = reshape(x, [b, h, w, bs, bs, c // (bs * bs)])
    y = transpose(y, [0, 1, 3, 2, 4, 5])
    return _from_nhwc(reshape(y, [b, h * bs, w * bs, c // (bs * bs)]), data_format)


# --------------------------------------------------------------------------------------
# local response normalization
# --------------------------------------------------------------------------------------


@tf_export("nn.local_response_normalization", "nn.lrn")
def local_response_normalization(
    input,  # noqa: A002
    depth_radius=5,
    bias=1,
    alpha=1,
    beta=0.5,
    name=None,
):
    """``input / (bias + alpha * sum of squares over a depth window) ** beta`` (4-D)."""
    x = convert_to_tensor(input)
    if x.shape.rank is not None and x.shape.rank != 4:
        raise op_error(InvalidArgumentError, "LRN", f"input must be 4-D, got shape {x.shape}")
    if x.dtype not in (_d.float16, _d.bfloat16, _d.float32):
        raise op_error(
            InvalidArgumentError,
            "LRN",
            f"input has dtype {x.dtype.name}; supported dtypes: bfloat16, float16, float32",
        )
    r = int(depth_radius)
    sq = pad(square(x), [[0, 0], [0, 0], [0, 0], [r, r]])
    c = x.shape[3]
    if c is None:
        raise ValueError("local_response_normalization: the depth dimension must be known")
    window = add_all([sq[:, :, :, i : i + c] for i in range(2 * r + 1)])
    scale = add(
        convert_to_tensor(bias, dtype=x.dtype),
        multiply(convert_to_tensor(alpha, dtype=x.dtype), window),
    )
    from rill.ops.math_ops import pow as _pow

    return realdiv(x, _pow(scale, convert_to_tensor(beta, dtype=x.dtype)))


def add_all(ts):
    out = ts[0]
    for t in ts[1:]:
        out = add(out, t)
    return out


# --------------------------------------------------------------------------------------
# moments
# --------------------------------------------------------------------------------------


def _axes(axes):
    return [int(a) for a in (axes if isinstance(axes, (list, tuple)) else [axes])]


@tf_export("nn.weighted_moments")
def weighted_moments(x, axes, frequency_weights, keepdims=False, name=None):
    """Frequency-weighted mean and variance of ``x`` over ``axes``."""
    x = convert_to_tensor(x)
    dt = x.dtype
    w = convert_to_tensor(frequency_weights, dtype=dt)
    if dt == _d.float16:  # computed in float32, as TF does
        x, w = cast(x, _d.float32), cast(w, _d.float32)
    axes = _axes(axes)
    wsum = reduce_sum(multiply(w, x), axes, keepdims=True)
    total = reduce_sum(add(w, zeros_like(x)), axes, keepdims=True)
    mean = divide_no_nan(wsum, total)
    dist = reduce_sum(multiply(w, squared_difference(x, mean)), axes, keepdims=True)
    var = divide_no_nan(dist, total)
    if not keepdims:
        mean, var = squeeze(mean, axes), squeeze(var, axes)
    if dt == _d.float16:
        mean, var = cast(mean, dt), cast(var, dt)
    return mean, var


@tf_export("nn.sufficient_statistics")
def sufficient_statistics(x, axes, shift=None, keepdims=False, name=None):
    """(count, sum of (x - shift), sum of (x - shift)^2, shift) over ``axes``."""
    x = convert_to_tensor(x)
    axes = _axes(axes)
    dims = x.shape.as_list() if x.shape.rank is not None else None
    if dims is not None and all(dims[a] is not None for a in axes):
        count = convert_to_tensor(float(math.prod(dims[a] for a in axes)), dtype=x.dtype)
    else:
        from rill.ops.indexing_ops import gather
        from rill.ops.reduction_ops import reduce_prod

        count = cast(reduce_prod(gather(shape(x), axes)), x.dtype)
    if shift is not None:
        shift = convert_to_tensor(shift, dtype=x.dtype)
        m_ss = reduce_sum(subtract(x, shift), axes, keepdims=keepdims)
        v_ss = reduce_sum(squared_difference(x, shift), axes, keepdims=keepdims)
    else:
        m_ss = reduce_sum(x, axes, keepdims=keepdims)
        v_ss = reduce_sum(square(x), axes, keepdims=keepdims)
    return count, m_ss, v_ss, shift


@tf_export("nn.batch_norm_with_global_normalization")
def batch_norm_with_global_normalization(
    input=None,  # noqa: A002
    mean=None,
    variance=None,
    beta=None,
    gamma=None,
    variance_epsilon=None,
    scale_after_normalization=None,
    name=None,
):
    """Batch normalization with given moments; ``gamma`` scales only when
    ``scale_after_normalization``."""
    from rill.ops.nn_ops import batch_normalization

    scale = gamma if scale_after_normalization else None
    return batch_normalization(input, mean, variance, beta, scale, variance_epsilon)


@tf_export("nn.scale_regularization_loss")
def scale_regularization_loss(regularization_loss):
    """The sum of the regularization losses, divided by the number of replicas (1 here)."""
    from rill.ops.reduction_ops import add_n

    if isinstance(regularization_loss, (list, tuple)):
        regularization_loss = add_n(list(regularization_loss))
    return reduce_sum(convert_to_tensor(regularization_loss))


# --------------------------------------------------------------------------------------
# pooling: generic N-D, morphological
# --------------------------------------------------------------------------------------


def _spatial_taps(x, window, dilation, strides, out_sizes):
    """Strided slices of an N-D channels-last ``x`` (already padded), one per window tap."""
    import itertools

    taps = []
    for offs in itertools.product(*[range(k) for k in window]):
        idx = [slice(None)]
        for o, d, s, n in zip(offs, dilation, strides, out_sizes):
            start = o * d
            idx.append(slice(start, start + (n - 1) * s + 1, s))
        idx.append(slice(None))
        taps.append((offs, x[tuple(idx)]))
    return taps


def _out_sizes(op, sizes, window, dilation, strides, padding):
    eff = [(k - 1) * d + 1 for k, d in zip(window, dilation)]
    if padding == "VALID":
        out = [(n - e) // s + 1 for n, e, s in zip(sizes, eff, strides)]
        pads = [(0, 0)] * len(sizes)
    elif padding == "SAME":
        out = [-(-n // s) for n, s in zip(sizes, strides)]
        pads = []
        for n, e, s, o in zip(sizes, eff, strides, out):
            total = max((o - 1) * s + e - n, 0)
            pads.append((total // 2, total - total // 2))
    else:
        raise ValueError(f"{op}: padding must be 'SAME' or 'VALID', got {padding!r}")
    if any(o <= 0 for o in out):
        raise ValueError(f"{op}: the window {window} (dilation {dilation}) exceeds input {sizes}")
    return out, pads


def _channels_last(x, data_format, n):
    if data_format is None or not data_format.startswith("NC"):
        return x, None
    perm = [0] + list(range(2, n + 2)) + [1]
    return transpose(x, perm), [0, n + 1] + list(range(1, n + 1))


@tf_export("nn.pool")
def pool(
    input,  # noqa: A002
    window_shape,
    pooling_type,
    strides=None,
    padding="VALID",
    data_format=None,
    dilations=None,
    name=None,
):
    """N-D max or average pooling with optional dilation (``nn.max_pool`` /
    ``nn.avg_pool`` when undilated)."""
    from rill.ops.conv_ops import avg_pool, max_pool

    x = convert_to_tensor(input)
    window = [int(k) for k in window_shape]
    n = len(window)
    if x.shape.rank is not None and x.shape.rank != n + 2:
        raise ValueError(f"pool: input must have rank {n + 2}, got shape {x.shape}")
    strides = [1] * n if strides is None else [int(s) for s in strides]
    dilations = [1] * n if dilations is None else [int(d) for d in dilations]
    if pooling_type not in ("MAX", "AVG"):
        raise ValueError(f"pool: pooling_type must be 'MAX' or 'AVG', got {pooling_type!r}")
    if len(strides) != n or len(dilations) != n:
        raise ValueError("pool: strides and dilations must have len(window_shape) entries")
    if any(d != 1 for d in dilations) and any(s != 1 for s in strides):
        raise ValueError(
            f"pool: strides > window_shape not supported due to inconsistency between CPU "
            f"and GPU implementations; with dilation_rate {dilations}, strides must be 1, "
            f"got {strides}"
        )
    if all(d == 1 for d in dilations):
        fn = max_pool if pooling_type == "MAX" else avg_pool
        return fn(x, window, strides, padding, data_format=data_format)
    if padding == "SAME":
        raise ValueError(
            f"pooling with 'SAME' padding is not implemented for `dilation_rate` > 1. "
            f"Received: padding={padding} and dilation_rate={dilations}"
        )
    # dilated VALID pooling: every tap is inside the input
    xl, back = _channels_last(x, data_format, n)
    sizes = xl.shape.as_list()[1:-1]
    if any(s is None for s in sizes):
        raise ValueError("pool: dilated pooling needs static spatial sizes")
    out, pads = _out_sizes("pool", sizes, window, dilations, strides, padding)
    xp = pad(xl, [[0, 0], *[list(p) for p in pads], [0, 0]])
    taps = [t for _, t in _spatial_taps(xp, window, dilations, strides, out)]
    st = stack(taps, axis=0)
    if pooling_type == "MAX":
        y = reduce_max(st, axis=0)
    else:
        y = realdiv(reduce_sum(st, axis=0), convert_to_tensor(len(taps), dtype=x.dtype))
    return transpose(y, back) if back is not None else y


def _morph_args(op, x, filters, strides, dilations, data_format):
    if data_format != "NHWC":
        raise ValueError(f"{op}: data_format must be 'NHWC', got {data_format!r}")
    x = convert_to_tensor(x)
    f = convert_to_tensor(filters, dtype=x.dtype)
    if x.shape.rank != 4 or f.shape.rank != 3:
        raise ValueError(
            f"{op}: input must be 4-D [batch, height, width, depth] and filters 3-D "
            f"[height, width, depth]; got {x.shape} and {f.shape}"
        )

    def four(v, what):
        v = [1, 1, 1, 1] if v is None else [int(a) for a in v]
        if len(v) != 4 or v[0] != 1 or v[3] != 1:
            raise ValueError(f"{op}: {what} must be [1, h, w, 1], got {v}")
        return v[1:3]

    return x, f, four(strides, "strides"), four(dilations, "dilations")


def _dilation2d(op, x, f, strides, padding, dilations):
    kh, kw, _ = f.shape.as_list()
    sizes = x.shape.as_list()[1:3]
    if any(s is None for s in sizes) or kh is None or kw is None:
        raise ValueError(f"{op}: the spatial sizes of input and filters must be known")
    out, pads = _out_sizes(op, sizes, [kh, kw], dilations, strides, padding)
    # positions outside the input never win the max (TF skips them): pad with -inf
    ninf = convert_to_tensor(-np.inf, dtype=x.dtype)
    xp = pad(x, [[0, 0], list(pads[0]), list(pads[1]), [0, 0]], constant_values=ninf)
    taps = [
        add(t, f[oy, ox]) for (oy, ox), t in _spatial_taps(xp, [kh, kw], dilations, strides, out)
    ]
    return reduce_max(stack(taps, axis=0), axis=0)


@tf_export("nn.dilation2d")
def dilation2d(input, filters, strides, padding, data_format, dilations, name=None):  # noqa: A002
    """Grayscale morphological dilation: max over the window of input + filter."""
    x, f, s, d = _morph_args("dilation2d", input, filters, strides, dilations, data_format)
    return _dilation2d("Dilation2D", x, f, s, padding, d)


@tf_export("nn.erosion2d")
def erosion2d(value, filters, strides, padding, data_format, dilations, name=None):
    """Grayscale morphological erosion: min over the window of value - filter."""
    x, f, s, d = _morph_args("erosion2d", value, filters, strides, dilations, data_format)
    return negative(_dilation2d("Erosion2D", negative(x), reverse(f, [0, 1]), s, padding, d))


# --------------------------------------------------------------------------------------
# depthwise convolution backprops (the depthwise convolution is linear in each argument,
# so each backprop is the tape's vector-Jacobian product of the forward op)
# --------------------------------------------------------------------------------------


def _vjp(f, at, dy):
    from rill.core.tape import GradientTape

    with GradientTape() as tape:
        tape.watch(at)
        y = f(at)
    return tape.gradient(y, at, output_gradients=dy)


@tf_export("nn.depthwise_conv2d_backprop_input")
def depthwise_conv2d_backprop_input(
    input_sizes,
    filter,  # noqa: A002
    out_backprop,
    strides,
    padding,
    data_format="NHWC",
    dilations=None,
    name=None,
):
    """Gradient of ``depthwise_conv2d`` with respect to its input."""
    from rill.ops.conv_ops import depthwise_conv2d
    from rill.ops.creation_ops import zeros

    w = convert_to_tensor(filter)
    dy = convert_to_tensor(out_backprop, dtype=w.dtype)
    x0 = zeros(input_sizes, dtype=w.dtype)
    s, d = _hw(strides), _hw(dilations)
    return _vjp(
        lambda x: depthwise_conv2d(x, w, s, padding, data_format=data_format, dilations=d),
        x0,
        dy,
    )


@tf_export("nn.depthwise_conv2d_backprop_filter")
def depthwise_conv2d_backprop_filter(
    input,  # noqa: A002
    filter_sizes,
    out_backprop,
    strides,
    padding,
    data_format="NHWC",
    dilations=None,
    name=None,
):
    """Gradient of ``depthwise_conv2d`` with respect to its filter."""
    from rill.ops.conv_ops import depthwise_conv2d
    from rill.ops.creation_ops import zeros

    x = convert_to_tensor(input)
    dy = convert_to_tensor(out_backprop, dtype=x.dtype)
    w0 = zeros(filter_sizes, dtype=x.dtype)
    s, d = _hw(strides), _hw(dilations)
    return _vjp(
        lambda w: depthwise_conv2d(x, w, s, padding, data_format=data_format, dilations=d),
        w0,
        dy,
    )


def _hw(v):
    """A 4-element [1, h, w, 1] (or [1, 1, h, w]) stride list as depthwise_conv2d takes it."""
    if v is None:
        return [1, 1, 1, 1]
    v = [int(a) for a in (v if isinstance(v, (list, tuple)) else [v] * 4)]
    return v


# --------------------------------------------------------------------------------------
# isotonic regression
# --------------------------------------------------------------------------------------


def _pav_row(y):
    """Pool-adjacent-violators for a non-increasing fit of one row: (fit, segment ids)."""
    means, counts = [], []
    for v in y:
        means.append(float(v))
        counts.append(1)
        while len(means) > 1 and means[-2] <= means[-1]:
            m, c = means.pop(), counts.pop()
            means[-1] = (means[-1] * counts[-1] + m * c) / (counts[-1] + c)
            counts[-1] += c
    seg = np.repeat(np.arange(len(counts)), counts)
    return np.repeat(means, counts), seg


def _isotonic_kernel(x, out_dtype):
    rows = x.reshape(-1, x.shape[-1]) if x.ndim else x.reshape(1, 1)
    fit = np.empty(rows.shape, dtype=out_dtype.np)
    seg = np.empty(rows.shape, dtype=np.int32)
    for i, r in enumerate(rows.astype(np.float64)):
        fit[i], seg[i] = _pav_row(r)
    return fit.reshape(x.shape), seg.reshape(x.shape)


def _isotonic_rule(x, out_dtype):
    return AVal(x.shape, out_dtype), AVal(x.shape, _d.int32)


def _isotonic_grad(inputs, outs, dys, out_dtype):
    from rill.ops.reduction_ops import unsorted_segment_mean

    dy = dys[0]
    seg = outs[1]
    # the fit is the mean of the inputs of its segment: the gradient averages dy over it
    flat_dy = reshape(dy, [-1, shape(dy)[-1]])
    flat_seg = reshape(seg, [-1, shape(seg)[-1]])
    from rill.ops.creation_ops import range as _range

    rows = shape(flat_seg)[0]
    width = shape(flat_seg)[1]
    offs = multiply(reshape(_range(rows), [-1, 1]), width)
    ids = reshape(add(flat_seg, offs), [-1])
    means = unsorted_segment_mean(reshape(flat_dy, [-1]), ids, multiply(rows, width))
    from rill.ops.indexing_ops import gather

    dx = reshape(gather(means, ids), shape(dy))
    return (cast(dx, inputs[0].dtype),)


isotonic_p = primitive(
    "IsotonicRegression",
    _isotonic_kernel,
    _isotonic_rule,
    _isotonic_grad,
    n_out=2,
    dtypes=_d.FLOATS | {_d.int8, _d.int16, _d.int32, _d.int64},
    host=True,
)


@tf_export("nn.isotonic_regression")
def isotonic_regression(inputs, decreasing=True, axis=-1):
    """Least-squares monotone fit along ``axis``: (output, segments), where segments
    numbers the runs of equal fitted values in each row."""
    x = convert_to_tensor(inputs)
    r = x.shape.rank
    if r is None:
        raise ValueError("isotonic_regression: the input's rank must be known")
    ax = axis % r if r else 0
    perm = None
    if r and ax != r - 1:
        perm = [i for i in range(r) if i != ax] + [ax]
        x = transpose(x, perm)
    if not decreasing:
        x = negative(x)
    # TF's output dtypes: floats keep theirs; 8/16-bit ints -> float32, wider -> float64
    if x.dtype.is_floating:
        out_dtype = x.dtype
    else:
        out_dtype = _d.float32 if x.dtype in (_d.int8, _d.int16) else _d.float64
    y, seg = bind(isotonic_p, (x,), {"out_dtype": out_dtype})
    if not decreasing:
        y = negative(y)
    if perm is not None:
        inv = list(np.argsort(perm))
        y, seg = transpose(y, inv), transpose(seg, inv)
    return y, seg


# --------------------------------------------------------------------------------------
# label utilities
# --------------------------------------------------------------------------------------


def _collapse_kernel(labels, seq_length):
    b, width = labels.shape
    rows, lens = [], []
    for i in range(b):
        n = int(min(max(seq_length[i], 0), width))
        row = labels[i, :n]
        keep = np.ones(n, bool)
        keep[1:] = row[1:] != row[:-1]
        rows.append(row[keep])
        lens.append(len(rows[-1]))
    m = max(lens, default=0)
    out = np.zeros((b, m), dtype=labels.dtype)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out, np.asarray(lens, dtype=np.int32)


def _collapse_rule(labels, seq_length):
    return AVal([labels.shape[0], None], labels.dtype), AVal([labels.shape[0]], _d.int32)


collapse_p = primitive(
    "CollapseRepeated", _collapse_kernel, _collapse_rule, n_out=2, n_typed=1, host=True
)


@tf_export("nn.collapse_repeated")
def collapse_repeated(labels, seq_length, name=None):
    """Merge runs of repeated labels within each row's first ``seq_length`` entries:
    (collapsed labels padded with 0, new lengths)."""
    labels = convert_to_tensor(labels)
    seq_length = convert_to_tensor(seq_length)
    return bind(collapse_p, (labels, seq_length))


def _unique_labels_kernel(labels):
    b, width = labels.shape
    uniq = np.zeros((b, width), dtype=np.int64)
    idx = np.zeros((b, width), dtype=np.int32)
    for i in range(b):
        seen = {}
        for j, v in enumerate(labels[i].tolist()):
            idx[i, j] = seen.setdefault(v, len(seen))
        uniq[i, : len(seen)] = list(seen)
    return uniq, idx


ctc_unique_p = primitive(
    "CTCUniqueLabels",
    _unique_labels_kernel,
    lambda labels: (AVal(labels.shape, _d.int64), AVal(labels.shape, _d.int32)),
    n_out=2,
    dtypes=frozenset({_d.int32, _d.int64}),
    host=True,
)


@tf_export("nn.ctc_unique_labels")
def ctc_unique_labels(labels, name=None):
    """Per row: the distinct labels in order of first appearance (padded with 0) and each
    position's index into them."""
    return list(bind(ctc_unique_p, (convert_to_tensor(labels),)))


_FLOAT_MAX = float(np.finfo(np.float32).max)


def _accidental_hits_kernel(true_classes, sampled):
    # a sampled value seen twice hits at its last position only, as in TF's kernel
    where = {v: j for j, v in enumerate(sampled.tolist())}
    rows, ids = [], []
    for i, row in enumerate(true_classes.tolist()):
        for v in row:
            j = where.get(v)
            if j is not None:
                rows.append(i)
                ids.append(j)
    n = len(rows)
    return (
        np.asarray(rows, np.int32),
        np.asarray(ids, np.int64),
        np.full(n, -_FLOAT_MAX, np.float32),
    )


accidental_hits_p = primitive(
    "ComputeAccidentalHits",
    _accidental_hits_kernel,
    lambda t, s: (AVal([None], _d.int32), AVal([None], _d.int64), AVal([None], _d.float32)),
    n_out=3,
    dtypes=frozenset({_d.int64}),
    host=True,
    stateful=False,
)

ComputeAccidentalHits = collections.namedtuple(
    "ComputeAccidentalHits", ["indices", "ids", "weights"]
)


@tf_export("nn.compute_accidental_hits")
def compute_accidental_hits(true_classes, sampled_candidates, num_true, seed=None, name=None):
    """The (row, sampled position) pairs where a sampled candidate is one of the row's
    true classes, with weight -FLOAT_MAX (to mask those logits)."""
    t = convert_to_tensor(true_classes, dtype=_d.int64)
    s = convert_to_tensor(sampled_candidates, dtype=_d.int64)
    if t.shape.rank != 2 or (t.shape[1] is not None and t.shape[1] != int(num_true)):
        raise op_error(
            InvalidArgumentError,
            "ComputeAccidentalHits",
            f"true_classes must be [batch, num_true={num_true}], got shape {t.shape}",
        )
    return ComputeAccidentalHits(*bind(accidental_hits_p, (t, s)))


# --------------------------------------------------------------------------------------
# tf.nn.experimental dropouts
# --------------------------------------------------------------------------------------


def _dropout_with(x, rate, noise_shape, sample, op):
    x = convert_to_tensor(x)
    if not x.dtype.is_floating:
        raise ValueError(f"{op}: x has to be a floating point tensor, got {x.dtype.name}")
    r = static_value(rate) if not isinstance(rate, (int, float)) else rate
    if r is not None and not 0 <= float(r) < 1:
        raise ValueError(f"{op}: rate must be a scalar tensor or a float in [0, 1), got {r}")
    if r is not None and float(r) == 0:
        return x
    rate = convert_to_tensor(rate, dtype=x.dtype)
    ns = shape(x) if noise_shape is None else noise_shape
    u = sample(ns, x.dtype)
    keep = cast(greater_equal(u, rate), x.dtype)
    scale = realdiv(
        convert_to_tensor(1, dtype=x.dtype), subtract(convert_to_tensor(1, dtype=x.dtype), rate)
    )
    return multiply(multiply(x, scale), keep)


@tf_export("nn.experimental.stateless_dropout")
def stateless_dropout(x, rate, seed, rng_alg=None, noise_shape=None, name=None):
    """Dropout whose mask is a deterministic function of ``seed`` (a shape-[2] int)."""
    from rill.ops.random_ops import stateless_uniform

    return _dropout_with(
        x,
        rate,
        noise_shape,
        lambda s, dt: stateless_uniform(s, seed=seed, dtype=dt, alg=rng_alg or "auto_select"),
        "stateless_dropout",
    )


@tf_export("nn.experimental.general_dropout")
def general_dropout(x, rate, uniform_sampler, noise_shape=None, name=None):
    """Dropout whose mask comes from ``uniform_sampler(shape=..., dtype=...)``."""
    return _dropout_with(
        x,
        rate,
        noise_shape,
        lambda s, dt: uniform_sampler(shape=s, dtype=dt),
        "general_dropout",
    )


from rill.ops import ctc_ops, sampling_ops  # noqa: E402, F401 - register their ops

# tf.nn.space_to_batch is tf.space_to_batch_nd (same signature), defined with batch_to_space
from rill.ops.space_batch_ops import space_to_batch_nd as _space_to_batch_nd  # noqa: E402

tf_export("nn.space_to_batch")(_space_to_batch_nd)
