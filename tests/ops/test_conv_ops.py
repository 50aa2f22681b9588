"""Behaviour of tf.nn convolutions and pooling against naive NumPy loop references."""

import itertools

import numpy as np
import pytest

import rill as tf
from rill.core.errors import InvalidArgumentError, UnimplementedError

rng = np.random.default_rng(42)


def _same_pads(n, k, s, d):
    eff = (k - 1) * d + 1
    total = max((-(-n // s) - 1) * s + eff - n, 0)
    return total // 2, total - total // 2


def ref_conv(x, w, strides, padding, dilations=(1, 1)):
    """Naive NHWC conv2d with groups: loops over output pixels (tiny inputs only)."""
    n, h, wd, c = x.shape
    kh, kw, cg, co = w.shape
    g = c // cg
    sh, sw = strides
    dh, dw = dilations
    if padding == "SAME":
        (pt, pb), (pl, pr) = _same_pads(h, kh, sh, dh), _same_pads(wd, kw, sw, dw)
    elif padding == "VALID":
        pt = pb = pl = pr = 0
    else:
        (pt, pb), (pl, pr) = padding
    xp = np.pad(x, [(0, 0), (pt, pb), (pl, pr), (0, 0)])
    ho = (h + pt + pb - (kh - 1) * dh - 1) // sh + 1
    wo = (wd + pl + pr - (kw - 1) * dw - 1) // sw + 1
    out = np.zeros((n, ho, wo, co))
    cog = co // g
    for i, j in itertools.product(range(ho), range(wo)):
        patch = xp[
            :, i * sh : i * sh + (kh - 1) * dh + 1 : dh, j * sw : j * sw + (kw - 1) * dw + 1 : dw, :
        ]
        for o in range(co):
            grp = o // cog
            out[:, i, j, o] = np.sum(
                patch[..., grp * cg : (grp + 1) * cg] * w[..., o], axis=(1, 2, 3)
            )
    return out


def ref_pool(x, k, s, padding, kind):
    n, h, wd, c = x.shape
    if padding == "SAME":
        (pt, _), (pl, _) = _same_pads(h, k[0], s[0], 1), _same_pads(wd, k[1], s[1], 1)
        ho, wo = -(-h // s[0]), -(-wd // s[1])
    else:
        pt = pl = 0
        ho, wo = (h - k[0]) // s[0] + 1, (wd - k[1]) // s[1] + 1
    out = np.zeros((n, ho, wo, c))
    for i, j in itertools.product(range(ho), range(wo)):
        r0, c0 = i * s[0] - pt, j * s[1] - pl
        win = x[:, max(r0, 0) : r0 + k[0], max(c0, 0) : c0 + k[1], :]  # only real elements
        out[:, i, j, :] = win.max(axis=(1, 2)) if kind == "max" else win.mean(axis=(1, 2))
    return out


CONV_CONFIGS = [
    ((1, 5, 5, 2), (3, 3, 2, 3), 1, "SAME", 1),
    ((1, 5, 5, 2), (3, 3, 2, 3), 1, "VALID", 1),
    ((2, 6, 5, 2), (3, 3, 2, 3), 2, "SAME", 1),
    ((2, 7, 6, 2), (3, 2, 2, 4), [2, 1], "VALID", 1),
    ((1, 6, 6, 2), (3, 3, 2, 3), 1, "SAME", 2),
    ((1, 8, 7, 2), (3, 3, 2, 3), 2, "SAME", 2),
    ((1, 5, 5, 4), (3, 3, 2, 6), 1, "SAME", 1),  # 2 groups
    ((1, 5, 6, 2), (2, 3, 2, 2), [1, 2], [[0, 0], [1, 2], [0, 1], [0, 0]], 1),
]


@pytest.mark.parametrize("xs,ws,strides,padding,dil", CONV_CONFIGS)
def test_conv2d_matches_naive_reference(xs, ws, strides, padding, dil):
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    y = tf.nn.conv2d(tf.constant(x), tf.constant(w), strides, padding, dilations=dil)
    s = (strides, strides) if isinstance(strides, int) else tuple(strides)
    pad = padding if isinstance(padding, str) else padding[1:3]
    ref = ref_conv(x, w, s, pad, (dil, dil))
    assert y.dtype == tf.float64
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-10, atol=1e-12)


def test_conv2d_same_output_size_and_float32():
    x = tf.ones([2, 7, 9, 3])
    y = tf.nn.conv2d(x, tf.ones([3, 3, 3, 5]), strides=[1, 2, 2, 1], padding="SAME")
    assert y.shape == (2, 4, 5, 5) and y.dtype == tf.float32
    # interior output sees 9 taps * 3 channels of ones
    assert y.numpy()[0, 1, 1, 0] == 27.0


def test_conv2d_int32():
    x = np.arange(16, dtype=np.int32).reshape(1, 4, 4, 1)
    y = tf.nn.conv2d(x, np.ones((2, 2, 1, 1), np.int32), 1, "VALID")
    assert y.dtype == tf.int32
    np.testing.assert_array_equal(
        y.numpy(), ref_conv(x, np.ones((2, 2, 1, 1)), (1, 1), "VALID").astype(np.int32)
    )


def test_conv2d_nchw_equals_transposed_nhwc():
    x, w = rng.standard_normal((2, 6, 5, 3)), rng.standard_normal((3, 3, 3, 4))
    a = tf.nn.conv2d(x, w, 2, "SAME").numpy()
    b = tf.nn.conv2d(x.transpose(0, 3, 1, 2), w, 2, "SAME", data_format="NCHW").numpy()
    np.testing.assert_allclose(b, a.transpose(0, 3, 1, 2), rtol=1e-12)


def test_conv1d_and_conv3d_match_conv2d():
    x, w = rng.standard_normal((2, 9, 3)), rng.standard_normal((3, 3, 4))
    y1 = tf.nn.conv1d(x, w, stride=2, padding="SAME").numpy()
    y2 = ref_conv(x[:, None], w[None], (1, 2), "SAME")[:, 0]
    np.testing.assert_allclose(y1, y2, rtol=1e-10)
    x3 = rng.standard_normal((1, 1, 5, 6, 2))
    w3 = rng.standard_normal((1, 3, 3, 2, 3))
    y3 = tf.nn.conv3d(x3, w3, strides=[1, 1, 2, 1, 1], padding="VALID").numpy()
    np.testing.assert_allclose(y3[:, 0], ref_conv(x3[:, 0], w3[0], (2, 1), "VALID"), rtol=1e-10)


def test_depthwise_conv2d_per_channel():
    x, w = rng.standard_normal((1, 5, 6, 3)), rng.standard_normal((3, 3, 3, 2))
    y = tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "SAME").numpy()
    assert y.shape == (1, 3, 3, 6)
    for c in range(3):
        ref = ref_conv(x[..., c : c + 1], w[:, :, c : c + 1, :], (2, 2), "SAME")
        np.testing.assert_allclose(y[..., c * 2 : c * 2 + 2], ref, rtol=1e-10)


@pytest.mark.parametrize("xs,ws,strides,padding,dil", CONV_CONFIGS)
def test_conv_gradients_are_adjoints(xs, ws, strides, padding, dil):
    """<conv(x, w), v> = <x, conv_transpose(v, w)> and the tape gradients agree with them."""
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    xt, wt = tf.constant(x), tf.constant(w)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([xt, wt])
        y = tf.nn.conv2d(xt, wt, strides, padding, dilations=dil)
        v = tf.constant(rng.standard_normal(y.shape))
        loss = tf.reduce_sum(y * v)
    gx, gw = tape.gradient(loss, [xt, wt])
    ct = tf.nn.conv2d_transpose(v, wt, list(xs), strides, padding, dilations=dil)
    np.testing.assert_allclose(gx.numpy(), ct.numpy(), rtol=1e-12)
    np.testing.assert_allclose(np.sum(gx.numpy() * x), loss.numpy(), rtol=1e-10)  # linear in x
    np.testing.assert_allclose(np.sum(gw.numpy() * w), loss.numpy(), rtol=1e-10)  # linear in w


def test_conv_second_order_matches_finite_differences():
    x, w = rng.standard_normal((1, 5, 5, 2)), rng.standard_normal((3, 3, 2, 2))

    def inner_grad_sum(wv):
        xt, wt = tf.constant(x), tf.constant(wv)
        with tf.GradientTape() as t1:
            t1.watch(xt)
            y = tf.nn.conv2d(xt, wt, 2, "SAME")
            loss = tf.reduce_sum(y * y)
        return t1.gradient(loss, xt)

    wt = tf.constant(w)
    with tf.GradientTape() as t2:
        t2.watch(wt)
        xt = tf.constant(x)
        with tf.GradientTape() as t1:
            t1.watch(xt)
            y = tf.nn.conv2d(xt, wt, 2, "SAME")
            loss = tf.reduce_sum(y * y)
        gx = t1.gradient(loss, xt)
        s = tf.reduce_sum(gx * gx)
    gw = t2.gradient(s, wt).numpy()
    eps, k = 1e-6, (1, 2, 0, 1)
    wp, wm = w.copy(), w.copy()
    wp[k] += eps
    wm[k] -= eps
    fd = (np.sum(inner_grad_sum(wp).numpy() ** 2) - np.sum(inner_grad_sum(wm).numpy() ** 2)) / (
        2 * eps
    )
    np.testing.assert_allclose(gw[k], fd, rtol=1e-5)


def test_conv2d_transpose_shapes_and_values():
    x, w = rng.standard_normal((1, 3, 3, 2)), rng.standard_normal((3, 3, 4, 2))
    y = tf.nn.conv2d_transpose(x, w, [1, 6, 6, 4], 2, "SAME")
    assert y.shape == (1, 6, 6, 4)
    # scatter reference: every input pixel adds w[:, :, :, c] * x at its strided position
    (pt, _), (pl, _) = _same_pads(6, 3, 2, 1), _same_pads(6, 3, 2, 1)
    ref = np.zeros((1, 6 + 3, 6 + 3, 4))
    for i, j in itertools.product(range(3), range(3)):
        ref[0, i * 2 : i * 2 + 3, j * 2 : j * 2 + 3, :] += np.einsum("hwoc,c->hwo", w, x[0, i, j])
    np.testing.assert_allclose(y.numpy(), ref[:, pt : pt + 6, pl : pl + 6], rtol=1e-10)
    with pytest.raises(InvalidArgumentError):
        tf.nn.conv2d_transpose(x, w, [1, 7, 7, 4], 2, "SAME")
    assert tf.nn.conv2d_transpose(x, w, [1, 8, 8, 4], 2, "VALID").shape == (1, 8, 8, 4)


def test_conv_errors():
    x = tf.ones([1, 5, 5, 4])
    with pytest.raises(InvalidArgumentError, match="divisible"):
        tf.nn.conv2d(x, tf.ones([3, 3, 3, 2]), 1, "SAME")
    with pytest.raises(ValueError, match="length"):
        tf.nn.conv2d(x, tf.ones([3, 3, 4, 2]), [1, 1, 1], "SAME")
    with pytest.raises(UnimplementedError):
        tf.nn.conv2d(x, tf.ones([3, 3, 4, 2]), [2, 1, 1, 1], "SAME")
    with pytest.raises(InvalidArgumentError):
        tf.nn.conv2d(x, tf.ones([3, 3, 4, 2]), 1, "same")
    with pytest.raises(InvalidArgumentError, match="batch or depth"):
        tf.nn.conv2d(x, tf.ones([3, 3, 4, 2]), 1, [[1, 0], [0, 0], [0, 0], [0, 0]])
    with pytest.raises(InvalidArgumentError):
        tf.nn.conv2d(x, tf.ones([3, 3, 4, 2], tf.float64), 1, "SAME")
    with pytest.raises(InvalidArgumentError):
        tf.nn.conv2d(tf.ones([5, 5, 4]), tf.ones([3, 3, 4, 2]), 1, "SAME")
    assert tf.nn.conv2d(tf.ones([1, 2, 2, 4]), tf.ones([3, 3, 4, 2]), 1, "VALID").shape == (
        1,
        0,
        0,
        2,
    )


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize(
    "k,s,padding", [(2, 2, "SAME"), (3, 2, "SAME"), (3, 1, "VALID"), ([3, 2], [2, 1], "SAME")]
)
def test_pool2d_matches_naive_reference(kind, k, s, padding):
    x = rng.standard_normal((2, 7, 6, 3))
    f = tf.nn.max_pool2d if kind == "max" else tf.nn.avg_pool2d
    y = f(x, k, s, padding)
    kk = (k, k) if isinstance(k, int) else tuple(k)
    ss = (s, s) if isinstance(s, int) else tuple(s)
    np.testing.assert_allclose(y.numpy(), ref_pool(x, kk, ss, padding, kind), rtol=1e-12)


def test_avg_pool_same_counts_only_real_elements():
    x = np.arange(16.0).reshape(1, 4, 4, 1)
    y = tf.nn.avg_pool2d(x, 3, 2, "SAME").numpy()[0, :, :, 0]
    # windows rows/cols {0,1,2} and {2,3}: the padded row/col is not counted
    expected = [
        [x[0, 0:3, 0:3].mean(), x[0, 0:3, 2:4].mean()],
        [x[0, 2:4, 0:3].mean(), x[0, 2:4, 2:4].mean()],
    ]
    np.testing.assert_allclose(y, expected)


def test_pool1d_pool3d_and_generic():
    x = rng.standard_normal((2, 7, 3))
    y = tf.nn.max_pool1d(x, 3, 2, "SAME").numpy()
    np.testing.assert_allclose(y, ref_pool(x[:, None], (1, 3), (1, 2), "SAME", "max")[:, 0])
    np.testing.assert_allclose(
        tf.nn.avg_pool1d(x, 2, 2, "VALID").numpy(), (x[:, 0:6:2] + x[:, 1:7:2]) / 2
    )
    np.testing.assert_allclose(tf.nn.max_pool(x, 3, 2, "SAME").numpy(), y)
    x3 = rng.standard_normal((1, 4, 4, 4, 2))
    y3 = tf.nn.max_pool3d(x3, 2, 2, "VALID").numpy()
    np.testing.assert_allclose(y3, x3.reshape(1, 2, 2, 2, 2, 2, 2, 2).max(axis=(2, 4, 6)))
    np.testing.assert_allclose(
        tf.nn.avg_pool3d(x3, 2, 2, "VALID").numpy(),
        x3.reshape(1, 2, 2, 2, 2, 2, 2, 2).mean(axis=(2, 4, 6)),
    )


def test_max_pool_gradient_goes_to_first_max():
    x = tf.constant(np.ones((1, 2, 4, 1)))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.max_pool2d(x, 2, 2, "VALID")
    g = tape.gradient(y, x).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(g, [[1, 0, 1, 0], [0, 0, 0, 0]])


def test_max_pool_gradient_routes_to_argmax():
    x = rng.standard_normal((1, 4, 4, 2))
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = tf.nn.max_pool2d(xt, 2, 2, "VALID")
    g = tape.gradient(y, xt).numpy()
    blocks = x.reshape(1, 2, 2, 2, 2, 2)
    mask = blocks == blocks.max(axis=(2, 4), keepdims=True)
    np.testing.assert_array_equal(g, mask.reshape(x.shape).astype(float))


def test_avg_pool_gradient_spreads_evenly():
    x = tf.constant(np.ones((1, 4, 4, 1)))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.avg_pool2d(x, 2, 2, "VALID")
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), np.full((1, 4, 4, 1), 0.25))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.avg_pool2d(x, 3, 2, "SAME")  # windows of 9, 6, 6 and 4 real elements
    g = tape.gradient(y, x).numpy()[0, :, :, 0]
    ref = np.zeros((4, 4))
    for r0, c0 in itertools.product([0, 2], [0, 2]):
        win = (slice(r0, min(r0 + 3, 4)), slice(c0, min(c0 + 3, 4)))
        ref[win] += 1.0 / ref[win].size
    np.testing.assert_allclose(g, ref)


def test_pool_errors_and_dtypes():
    assert tf.nn.max_pool2d(tf.ones([1, 4, 4, 1], tf.int32), 2, 2, "SAME").dtype == tf.int32
    with pytest.raises(InvalidArgumentError):
        tf.nn.avg_pool2d(tf.ones([1, 4, 4, 1], tf.int32), 2, 2, "SAME")
    with pytest.raises(UnimplementedError):
        tf.nn.max_pool2d(tf.ones([1, 4, 4, 1]), [2, 2, 2, 1], 1, "SAME")
    with pytest.raises(InvalidArgumentError):
        tf.nn.max_pool2d(tf.ones([4, 4, 1]), 2, 2, "SAME")
    # a window larger than the unpadded input: TF refuses it (no empty result)
    with pytest.raises(InvalidArgumentError, match="negative"):
        tf.nn.max_pool2d(tf.ones([1, 4, 4, 2]), 8, 1, "VALID")


def test_bigger_conv_and_gradient_match_reference_in_bounded_memory():
    """Its speed is measured by benchmarks/suite_timings.py; here, at the same size: values
    against a float64 NumPy reference, and working memory within a few im2col buffers."""
    import tracemalloc

    from numpy.lib.stride_tricks import sliding_window_view

    xn = rng.standard_normal((8, 32, 32, 16)).astype(np.float32)
    wn = rng.standard_normal((3, 3, 16, 32)).astype(np.float32)
    x, w = tf.constant(xn), tf.constant(wn)
    tracemalloc.start()
    try:
        with tf.GradientTape() as tape:
            tape.watch([x, w])
            y = tf.nn.conv2d(x, w, 1, "SAME")
        gx, gw = tape.gradient(y, [x, w])  # of sum(y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    im2col = 8 * 32 * 32 * (3 * 3 * 16) * 4  # bytes of one float32 patch matrix: 4.7 MB
    assert peak < 6 * im2col, f"peak {peak / 1e6:.1f} MB"

    xp = np.pad(xn.astype(np.float64), [(0, 0), (1, 1), (1, 1), (0, 0)])
    win = sliding_window_view(xp, (3, 3), axis=(1, 2))  # [n, i, j, c, a, b]
    np.testing.assert_allclose(
        y.numpy(), np.einsum("nijcab,abco->nijo", win, wn), rtol=1e-4, atol=1e-4
    )
    ref_gw = np.broadcast_to(win.sum((0, 1, 2)).transpose(1, 2, 0)[..., None], wn.shape)
    np.testing.assert_allclose(gw.numpy(), ref_gw, rtol=1e-4, atol=1e-3)
    ref_gx = np.zeros_like(xp)  # each output pixel adds sum_o w[a, b, c, o] to its window
    wsum = wn.astype(np.float64).sum(-1)
    for a, b in itertools.product(range(3), range(3)):
        ref_gx[:, a : a + 32, b : b + 32, :] += wsum[a, b]
    np.testing.assert_allclose(gx.numpy(), ref_gx[:, 1:-1, 1:-1, :], rtol=1e-4, atol=1e-4)


def test_max_pool_gradients_go_to_first_max_in_overlapping_windows():
    """Ties everywhere (ReLU zeros, repeated values), windows overlapping and padded: each
    window's gradient goes to its first maximum in row-major window order."""
    x = np.maximum(rng.integers(-2, 3, (2, 5, 6, 3)), 0).astype(np.float64)
    for k, s, padding in [
        (3, 1, "SAME"),
        (3, 2, "SAME"),
        (2, 1, "VALID"),
        ([2, 3], [1, 2], "SAME"),
    ]:
        kk = (k, k) if isinstance(k, int) else tuple(k)
        ss = (s, s) if isinstance(s, int) else tuple(s)
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y = tf.nn.max_pool2d(xt, k, s, padding)
            v = tf.constant(rng.standard_normal(y.shape))
            loss = tf.reduce_sum(y * v)
        g = tape.gradient(loss, xt).numpy()
        ref = np.zeros_like(x)
        n, h, wd, c = x.shape
        if padding == "SAME":
            pt, pl = _same_pads(h, kk[0], ss[0], 1)[0], _same_pads(wd, kk[1], ss[1], 1)[0]
        else:
            pt = pl = 0
        for b, i, j, ch in itertools.product(*map(range, v.shape)):
            best = None
            for a, bb in itertools.product(range(kk[0]), range(kk[1])):
                r, col = i * ss[0] - pt + a, j * ss[1] - pl + bb
                if 0 <= r < h and 0 <= col < wd and (best is None or x[b, r, col, ch] > best[0]):
                    best = (x[b, r, col, ch], r, col)
            ref[b, best[1], best[2], ch] += v.numpy()[b, i, j, ch]
        np.testing.assert_allclose(g, ref, err_msg=f"{k} {s} {padding}")


# --------------------------------------------------------------------------------------
# Against TensorFlow (where it is installed): values and gradients of the tf.nn ops
# --------------------------------------------------------------------------------------

TF_CONV = [
    # (op, input shape, filter shape, kwargs)
    ("conv2d", (2, 7, 6, 3), (3, 3, 3, 4), dict(strides=1, padding="SAME")),
    ("conv2d", (2, 7, 6, 3), (3, 2, 3, 4), dict(strides=[1, 2, 1, 1], padding="VALID")),
    ("conv2d", (1, 8, 8, 2), (3, 3, 2, 3), dict(strides=1, padding="SAME", dilations=2)),
    ("conv2d", (1, 6, 7, 4), (2, 3, 2, 6), dict(strides=2, padding="SAME")),  # 2 groups
    ("conv2d", (2, 5, 6, 1), (3, 3, 1, 4), dict(strides=1, padding="VALID")),  # one channel
    ("conv2d", (1, 6, 6, 2), (2, 2, 2, 3), dict(strides=2, padding="VALID")),  # apart
    ("conv2d", (1, 5, 6, 2), (2, 3, 2, 2),
     dict(strides=[1, 1, 2, 1], padding=[[0, 0], [1, 2], [0, 1], [0, 0]])),
    ("conv1d", (2, 9, 3), (3, 3, 4), dict(stride=2, padding="SAME")),
    ("conv3d", (1, 4, 5, 4, 2), (2, 3, 2, 2, 3), dict(strides=[1, 1, 2, 1, 1], padding="SAME")),
    ("depthwise_conv2d", (2, 6, 5, 3), (3, 3, 3, 2), dict(strides=[1, 2, 2, 1], padding="SAME")),
    ("depthwise_conv2d", (1, 7, 7, 2), (3, 3, 2, 1),
     dict(strides=[1, 1, 1, 1], padding="VALID", dilations=[2, 2])),
]  # fmt: skip


def _values_and_grads(lib, f, inputs, which=None):
    """``f``'s value and the gradients of ``sum(f * v)`` w.r.t. ``inputs`` (TF's CPU
    kernels have no dilated backprop: then the value alone)."""
    ts = [lib.constant(a) for a in inputs]
    with lib.GradientTape() as tape:
        tape.watch(ts)
        y = f(lib, *ts)
        v = lib.constant(np.cos(np.arange(np.prod(y.shape))).reshape(y.shape).astype(y.dtype.name))
        loss = lib.reduce_sum(y * v)
    if which == "value only":
        return [y.numpy()]
    return [y.numpy(), *(g.numpy() for g in tape.gradient(loss, ts))]


@pytest.mark.parametrize("op,xs,ws,kw", TF_CONV, ids=lambda v: str(v))
def test_convolutions_and_gradients_match_tensorflow(op, xs, ws, kw):
    T = pytest.importorskip("tensorflow")
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    grouped = op == "conv2d" and xs[-1] != ws[2]  # TF's CPU kernels: no grouped backprop
    which = "value only" if grouped or np.max(kw.get("dilations", 1)) > 1 else None
    results = [
        _values_and_grads(lib, lambda lib, a, b: getattr(lib.nn, op)(a, b, **kw), [x, w], which)
        for lib in (tf, T)
    ]
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


TF_TRANSPOSE = [
    # (input shape, filter shape, output shape, strides, padding, dilations)
    ((2, 3, 4, 3), (3, 3, 2, 3), (2, 6, 8, 2), 2, "SAME", 1),
    ((1, 3, 3, 2), (3, 2, 4, 2), (1, 7, 6, 4), [2, 2], "VALID", 1),
    ((1, 5, 5, 2), (2, 2, 3, 2), (1, 6, 6, 3), 1, "VALID", 1),
    ((1, 4, 4, 1), (3, 3, 2, 1), (1, 8, 8, 2), 2, "SAME", 1),
    ((1, 6, 6, 2), (3, 3, 1, 2), (1, 6, 6, 1), 1, "SAME", 2),
]


@pytest.mark.parametrize("xs,ws,os,s,padding,d", TF_TRANSPOSE)
def test_conv2d_transpose_and_gradients_match_tensorflow(xs, ws, os, s, padding, d):
    T = pytest.importorskip("tensorflow")
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)

    def f(lib, a, b):
        return lib.nn.conv2d_transpose(a, b, list(os), s, padding, dilations=d)

    if d > 1:  # TF's CPU kernels have no dilated transpose: the adjoint of our conv2d
        y = f(tf, tf.constant(x), tf.constant(w)).numpy()
        v = rng.standard_normal(os)
        cv = tf.nn.conv2d(v, w, s, padding, dilations=d).numpy()
        np.testing.assert_allclose(np.sum(y * v), np.sum(x * cv), rtol=1e-10)
        return
    results = [_values_and_grads(lib, f, [x, w]) for lib in (tf, T)]
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


TF_POOL = [
    # (op, input shape, ksize, strides, padding)
    ("max_pool2d", (2, 7, 6, 3), 2, 2, "VALID"),
    ("max_pool2d", (2, 7, 6, 3), 3, 2, "SAME"),
    ("max_pool2d", (1, 6, 7, 2), [3, 2], [1, 2], "SAME"),
    ("avg_pool2d", (2, 7, 6, 3), 3, 2, "SAME"),
    ("avg_pool2d", (1, 6, 7, 2), [2, 3], [2, 1], "VALID"),
    ("max_pool1d", (2, 9, 3), 3, 2, "SAME"),
    ("avg_pool1d", (2, 9, 3), 2, 2, "VALID"),
    ("max_pool3d", (1, 4, 5, 4, 2), 2, [1, 2, 2, 2, 1], "SAME"),
    ("avg_pool3d", (1, 4, 5, 4, 2), [2, 3, 2], 1, "SAME"),
]


@pytest.mark.parametrize("op,xs,k,s,padding", TF_POOL)
def test_pooling_and_gradients_match_tensorflow(op, xs, k, s, padding):
    T = pytest.importorskip("tensorflow")
    x = rng.permutation(np.prod(xs)).reshape(xs) * 0.1  # distinct values: no ties
    if op.startswith("max"):  # and ties, which go to the window's first maximum
        x = np.maximum(x - 0.05 * np.prod(xs), 0)
    if op.endswith("3d"):  # TF's 3-D pools have no float64 kernels
        x = x.astype(np.float32)
    results = [
        _values_and_grads(lib, lambda lib, a: getattr(lib.nn, op)(a, k, s, padding), [x])
        for lib in (tf, T)
    ]
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_max_pool_gradient_of_a_nan_window_goes_to_its_first_nan():
    x = np.array([[1.0, np.nan, 3.0, 2.0], [0.5, np.nan, 1.0, np.nan]]).reshape(1, 2, 4, 1)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = tf.nn.max_pool2d(xt, 2, 2, "VALID")
    assert np.isnan(y.numpy()).all()
    g = tape.gradient(y, xt).numpy().reshape(2, 4)
    np.testing.assert_array_equal(g, [[0, 1, 0, 0], [0, 0, 0, 1]])
