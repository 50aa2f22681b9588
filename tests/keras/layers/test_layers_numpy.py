"""The layer catalog against independent NumPy references written here (direct loops over
windows and taps, the textbook formulas), on fixed random weights."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import rill as tf
from rill import keras

L = keras.layers
RNG = np.random.default_rng(7)


def _rand(*shape):
    return RNG.standard_normal(shape).astype("float32")


def _close(a, b, tol=1e-4):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


# ------------------------------------------------------------------------------------------
# references
# ------------------------------------------------------------------------------------------


def _same_pads(n, k, s, d):
    eff = (k - 1) * d + 1
    out = -(-n // s)
    total = max((out - 1) * s + eff - n, 0)
    return total // 2, total - total // 2


def ref_conv(x, w, strides, padding, dilation, groups=1):
    """Channels-last N-d convolution by a loop over output positions."""
    sr = x.ndim - 2
    k = w.shape[:sr]
    if padding == "same":
        pads = [_same_pads(n, kk, s, d) for n, kk, s, d in zip(x.shape[1:-1], k, strides, dilation)]
    elif padding == "causal":
        pads = [((k[0] - 1) * dilation[0], 0)]
    else:
        pads = [(0, 0)] * sr
    xp = np.pad(x, [(0, 0), *pads, (0, 0)])
    eff = [(kk - 1) * d + 1 for kk, d in zip(k, dilation)]
    out = [(n - e) // s + 1 for n, e, s in zip(xp.shape[1:-1], eff, strides)]
    cg, co = w.shape[-2], w.shape[-1]
    cog = co // groups
    y = np.zeros((x.shape[0], *out, co), np.float64)
    for pos in itertools.product(*[range(o) for o in out]):
        win = xp[(slice(None),) + tuple(
            slice(p * s, p * s + e, d) for p, s, e, d in zip(pos, strides, eff, dilation)
        )]  # fmt: skip
        for g in range(groups):
            patch = win[..., g * cg : (g + 1) * cg].reshape(x.shape[0], -1)
            wg = w[..., g * cog : (g + 1) * cog].reshape(-1, cog)
            y[(slice(None), *pos, slice(g * cog, (g + 1) * cog))] = patch @ wg
    return y


def ref_conv_transpose(x, w, strides, padding, out_sizes, dilation):
    """Scatter every input pixel through the kernel (w: *k, filters, in)."""
    sr = x.ndim - 2
    k = w.shape[:sr]
    pads = [
        _same_pads(n, kk, s, d)[0] if padding == "same" else 0
        for n, kk, s, d in zip(out_sizes, k, strides, dilation)
    ]
    y = np.zeros((x.shape[0], *out_sizes, w.shape[-2]), np.float64)
    for pos in itertools.product(*[range(n) for n in x.shape[1:-1]]):
        for tap in itertools.product(*[range(kk) for kk in k]):
            o = [p * s + t * d - pad for p, s, t, d, pad in zip(pos, strides, tap, dilation, pads)]
            if all(0 <= v < n for v, n in zip(o, out_sizes)):
                y[(slice(None), *o)] += x[(slice(None), *pos)] @ w[tap].T
    return y


def ref_pool(x, size, strides, padding, op):
    sr = x.ndim - 2
    pads = (
        [_same_pads(n, k, s, 1) for n, k, s in zip(x.shape[1:-1], size, strides)]
        if padding == "same" else [(0, 0)] * sr
    )  # fmt: skip
    fill = -np.inf if op == "max" else np.nan
    xp = np.pad(x.astype(np.float64), [(0, 0), *pads, (0, 0)], constant_values=fill)
    out = [(n - k) // s + 1 for n, k, s in zip(xp.shape[1:-1], size, strides)]
    y = np.zeros((x.shape[0], *out, x.shape[-1]))
    for pos in itertools.product(*[range(o) for o in out]):
        win = xp[(slice(None),) + tuple(slice(p * s, p * s + k) for p, s, k in
                                        zip(pos, strides, size))]  # fmt: skip
        win = win.reshape(x.shape[0], -1, x.shape[-1])
        y[(slice(None), *pos)] = win.max(1) if op == "max" else np.nanmean(win, 1)
    return y


# ------------------------------------------------------------------------------------------
# convolutions
# ------------------------------------------------------------------------------------------

CONVS = [
    (L.Conv1D, dict(filters=3, kernel_size=3, strides=2, padding="same"), (2, 9, 2)),
    (L.Conv1D, dict(filters=4, kernel_size=3, padding="causal", dilation_rate=2, groups=2),
     (2, 8, 4)),
    (L.Conv2D, dict(filters=4, kernel_size=(3, 2), strides=(2, 1)), (2, 7, 6, 3)),
    (L.Conv2D, dict(filters=6, kernel_size=3, padding="same", dilation_rate=2, groups=3),
     (1, 6, 7, 3)),
    (L.Conv3D, dict(filters=2, kernel_size=2, strides=(2, 1, 1), padding="same"),
     (1, 5, 4, 3, 2)),
]  # fmt: skip


@pytest.mark.parametrize("cls,kwargs,shape", CONVS)
def test_convolutions_match_a_direct_loop(cls, kwargs, shape):
    layer = cls(**kwargs)
    x = _rand(*shape)
    y = layer(x).numpy()
    w, b = layer.kernel.numpy(), layer.bias.numpy()
    b[:] = _rand(*b.shape)
    layer.bias.assign(b)
    y = layer(x).numpy()
    r = layer.rank
    ref = ref_conv(x, w, layer.strides, layer.padding, layer.dilation_rate, layer.groups) + b
    _close(y, ref)
    # channels_first: the same numbers, transposed
    cf = cls(**kwargs, data_format="channels_first")
    perm = [0, r + 1, *range(1, r + 1)]
    cf(np.transpose(x, perm))
    cf.set_weights([w, b])
    _close(cf(np.transpose(x, perm)).numpy(), np.transpose(ref, perm))


@pytest.mark.parametrize(
    "cls,kwargs,shape",
    [
        (L.Conv1DTranspose, dict(filters=3, kernel_size=3, strides=2), (2, 5, 2)),
        (L.Conv2DTranspose, dict(filters=3, kernel_size=3, strides=2, padding="same",
                                 output_padding=1), (1, 3, 4, 2)),
        (L.Conv2DTranspose, dict(filters=2, kernel_size=2, dilation_rate=2, padding="same"),
         (1, 4, 3, 2)),
        (L.Conv3DTranspose, dict(filters=2, kernel_size=2, strides=(1, 2, 2)), (1, 2, 3, 2, 2)),
    ],
)  # fmt: skip
def test_transposed_convolutions_match_a_scatter(cls, kwargs, shape):
    layer = cls(**kwargs, use_bias=False)
    x = _rand(*shape)
    y = layer(x).numpy()
    ref = ref_conv_transpose(x, layer.kernel.numpy(), layer.strides, layer.padding,
                             y.shape[1:-1], layer.dilation_rate)  # fmt: skip
    _close(y, ref)


def test_transposed_convolution_output_lengths():
    from rill.keras.layers.conv_utils import deconv_output_length as f

    assert f(5, 3, "valid", None, 2) == 11
    assert f(5, 3, "same", None, 2) == 10
    assert f(5, 3, "same", 1, 2) == 10
    assert f(5, 4, "valid", 2, 3) == 18
    assert f(4, 1, "valid", None, 3) == 12


def test_depthwise_and_separable():
    x = _rand(2, 6, 5, 3)
    dw = L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", use_bias=False)
    y = dw(x).numpy()
    w = dw.kernel.numpy()  # (3, 3, C, mult): output channel c * mult + m
    ref = np.concatenate(
        [ref_conv(x[..., c : c + 1], w[:, :, c : c + 1, :], (1, 1), "same", (1, 1))
         for c in range(3)], axis=-1)  # fmt: skip
    _close(y, ref)
    sep = L.SeparableConv1D(4, 3, depth_multiplier=2)
    x1 = _rand(2, 7, 3)
    y1 = sep(x1).numpy()
    dk, pk, b = (v.numpy() for v in sep.weights)
    d = np.concatenate(
        [ref_conv(x1[..., c : c + 1], dk[:, c : c + 1, :], (1,), "valid", (1,))
         for c in range(3)], axis=-1)  # fmt: skip
    _close(y1, d @ pk[0] + b)


# ------------------------------------------------------------------------------------------
# pooling
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls,kwargs,shape,op",
    [
        (L.MaxPooling1D, dict(pool_size=3, strides=2, padding="same"), (2, 8, 3), "max"),
        (L.MaxPooling2D, dict(pool_size=(3, 2), strides=(2, 1)), (2, 7, 6, 2), "max"),
        (L.MaxPooling3D, dict(pool_size=2, padding="same"), (1, 3, 5, 4, 2), "max"),
        (L.AveragePooling1D, dict(pool_size=2, padding="same"), (2, 7, 3), "avg"),
        (L.AveragePooling2D, dict(pool_size=3, strides=2, padding="same"), (2, 7, 6, 2), "avg"),
        (L.AveragePooling3D, dict(pool_size=(2, 2, 1)), (1, 4, 4, 3, 2), "avg"),
    ],
)  # fmt: skip
def test_pooling_matches_a_direct_loop(cls, kwargs, shape, op):
    layer = cls(**kwargs)
    x = _rand(*shape)
    _close(layer(x).numpy(), ref_pool(x, layer.pool_size, layer.strides, layer.padding, op))


def test_max_pooling_gradient_goes_to_the_first_maximum():
    x = tf.constant(np.array([[[[1.0], [3.0]], [[3.0], [2.0]]]], "float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = L.MaxPooling2D(2)(x)
    g = tape.gradient(y, x).numpy().reshape(-1)
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0, 0.0])


def test_global_and_adaptive_pooling():
    x = _rand(2, 7, 5, 3)
    _close(L.GlobalMaxPooling2D()(x).numpy(), x.max(axis=(1, 2)))
    _close(L.GlobalAveragePooling2D(keepdims=True)(x).numpy(), x.mean(axis=(1, 2), keepdims=True))
    ref_max = np.zeros((2, 3, 2, 3))
    ref_avg = np.zeros((2, 3, 2, 3))
    for i in range(3):
        for j in range(2):
            r0, r1 = (i * 7) // 3, -((-(i + 1) * 7) // 3)
            c0, c1 = (j * 5) // 2, -((-(j + 1) * 5) // 2)
            ref_max[:, i, j] = x[:, r0:r1, c0:c1].max(axis=(1, 2))
            ref_avg[:, i, j] = x[:, r0:r1, c0:c1].mean(axis=(1, 2))
    _close(L.AdaptiveMaxPooling2D((3, 2))(x).numpy(), ref_max)
    _close(L.AdaptiveAveragePooling2D((3, 2))(x).numpy(), ref_avg)


# ------------------------------------------------------------------------------------------
# normalization
# ------------------------------------------------------------------------------------------


def test_batch_normalization_formulas():
    x = _rand(8, 4, 3) * 2 + 1
    bn = L.BatchNormalization(momentum=0.8, epsilon=1e-2)
    bn(x)
    g, b = _rand(3), _rand(3)
    bn.gamma.assign(g)
    bn.beta.assign(b)
    mean, var = x.mean(axis=(0, 1)), x.var(axis=(0, 1))
    _close(bn(x, training=True).numpy(), (x - mean) / np.sqrt(var + 1e-2) * g + b)
    _close(bn.moving_mean.numpy(), 0.2 * mean)
    _close(bn.moving_variance.numpy(), 0.8 + 0.2 * var)
    mm, mv = bn.moving_mean.numpy(), bn.moving_variance.numpy()
    _close(bn(x).numpy(), (x - mm) / np.sqrt(mv + 1e-2) * g + b)


def test_per_example_normalizations():
    x = _rand(3, 4, 6)
    ln = L.LayerNormalization(axis=[1, 2], epsilon=1e-3)
    m, v = x.mean(axis=(1, 2), keepdims=True), x.var(axis=(1, 2), keepdims=True)
    _close(ln(x).numpy(), (x - m) / np.sqrt(v + 1e-3))
    gn = L.GroupNormalization(groups=2, epsilon=1e-3)
    xg = x.reshape(3, 4, 2, 3)
    m, v = xg.mean(axis=(1, 3), keepdims=True), xg.var(axis=(1, 3), keepdims=True)
    _close(gn(x).numpy(), ((xg - m) / np.sqrt(v + 1e-3)).reshape(x.shape))
    rms = L.RMSNormalization(epsilon=1e-6)
    _close(rms(x).numpy(), x / np.sqrt((x**2).mean(-1, keepdims=True) + 1e-6))
    _close(L.UnitNormalization()(x).numpy(), x / np.linalg.norm(x, axis=-1, keepdims=True))


def test_spectral_normalization_divides_by_the_largest_singular_value():
    dense = L.Dense(3)
    sn = L.SpectralNormalization(dense, power_iterations=30)
    x = _rand(2, 4)
    sn(x)
    sn(x, training=True)
    s = np.linalg.svd(dense.kernel.numpy(), compute_uv=False)
    _close(s[0], 1.0, tol=1e-3)
    names = [w.name.split("/")[-1].split(":")[0] for w in sn.weights]
    assert names == ["kernel", "vector_u", "bias"]


# ------------------------------------------------------------------------------------------
# activations, noise, reshaping, merging, dense family
# ------------------------------------------------------------------------------------------


def test_activation_layers():
    x = np.linspace(-3, 3, 25, dtype="float32").reshape(1, 25)
    _close(L.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.5)(x).numpy(),
           np.where(x >= 2.0, 2.0, np.where(x > 0.5, x, 0.1 * (x - 0.5))))  # fmt: skip
    _close(L.LeakyReLU(0.2)(x).numpy(), np.where(x >= 0, x, 0.2 * x))
    _close(L.ELU(0.5)(x).numpy(), np.where(x > 0, x, 0.5 * (np.exp(x) - 1)))
    _close(L.ThresholdedReLU(theta=1.0)(x).numpy(), np.where(x > 1.0, x, 0.0))
    p = L.PReLU(alpha_initializer=keras.initializers.Constant(0.25))
    _close(p(x).numpy(), np.where(x >= 0, x, 0.25 * x))
    s = L.Softmax(axis=[0, 1])(x).numpy()
    _close(s, np.exp(x) / np.exp(x).sum())


def test_noise_layers_in_training_and_inference():
    x = np.ones((200, 50), "float32")
    for layer in (L.GaussianNoise(0.5), L.GaussianDropout(0.3), L.AlphaDropout(0.2),
                  L.SpatialDropout1D(0.5)):  # fmt: skip
        xi = x if not isinstance(layer, L.SpatialDropout1D) else x.reshape(20, 10, 50)
        np.testing.assert_array_equal(layer(xi).numpy(), xi)
        y = layer(xi, training=True).numpy()
        assert not np.array_equal(y, xi)
    y = L.GaussianNoise(0.5)(x, training=True).numpy()
    assert abs(y.std() - 0.5) < 0.02 and abs(y.mean() - 1.0) < 0.02
    y = L.SpatialDropout1D(0.5)(x.reshape(20, 10, 50), training=True).numpy()
    assert (y.std(axis=1) == 0).all()  # whole channels dropped or kept
    assert set(np.unique(y)) <= {0.0, 2.0}
    ar = L.ActivityRegularization(l1=0.1, l2=0.01)
    ar(x)
    _close(float(ar.losses[0]), 0.1 * 200 * 50 + 0.01 * 200 * 50)


def test_reshaping_layers():
    x = _rand(2, 4, 5, 3)
    _close(L.Permute((3, 1, 2))(x).numpy(), x.transpose(0, 3, 1, 2))
    _close(L.RepeatVector(3)(x[:, 0, 0]).numpy(), np.repeat(x[:, None, 0, 0], 3, axis=1))
    _close(L.Cropping2D(((1, 0), (2, 1)))(x).numpy(), x[:, 1:, 2:-1])
    _close(L.ZeroPadding2D(((1, 0), (2, 1)))(x).numpy(),
           np.pad(x, [(0, 0), (1, 0), (2, 1), (0, 0)]))  # fmt: skip
    _close(L.UpSampling2D((2, 3))(x).numpy(), x.repeat(2, 1).repeat(3, 2))
    # bilinear, half-pixel centres, edges clamped
    up = L.UpSampling2D((2, 3), interpolation="bilinear")(x).numpy()
    ref = np.zeros((2, 8, 15, 3))
    for i in range(8):
        for j in range(15):
            si, sj = (i + 0.5) / 2 - 0.5, (j + 0.5) / 3 - 0.5
            i0, j0 = int(np.floor(si)), int(np.floor(sj))
            fi, fj = si - i0, sj - j0
            rows = [min(max(i0, 0), 3), min(max(i0 + 1, 0), 3)]
            cols = [min(max(j0, 0), 4), min(max(j0 + 1, 0), 4)]
            top = x[:, rows[0], cols[0]] * (1 - fj) + x[:, rows[0], cols[1]] * fj
            bot = x[:, rows[1], cols[0]] * (1 - fj) + x[:, rows[1], cols[1]] * fj
            ref[:, i, j] = top * (1 - fi) + bot * fi
    _close(up, ref)


def test_dot_einsum_dense_embedding():
    a, b = _rand(2, 3, 4), _rand(2, 5, 4)
    _close(L.Dot(axes=2)([a, b]).numpy(), np.einsum("bik,bjk->bij", a, b))
    an = a / np.linalg.norm(a, axis=2, keepdims=True)
    bn = b / np.linalg.norm(b, axis=2, keepdims=True)
    _close(L.Dot(axes=2, normalize=True)([a, b]).numpy(), np.einsum("bik,bjk->bij", an, bn))
    ed = L.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de")
    y = ed(a).numpy()
    k, bias = ed.kernel.numpy(), ed.bias.numpy()
    assert k.shape == (4, 2, 3) and bias.shape == (2, 3)
    _close(y, np.einsum("abc,cde->abde", a, k) + bias)
    emb = L.Embedding(6, 2)
    ids = np.array([[0, 5, 2]])
    _close(emb(ids).numpy(), emb.embeddings.numpy()[ids])
