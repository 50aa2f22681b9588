"""tf.guarantee_const, check_pinned, conv, conv2d_backprop_*_v2, the raw N-D FFTs and
ragged_fill_empty_rows(_grad): against TF where TF has a CPU kernel, else NumPy."""

import numpy as np
import pytest

import rill as tf
from rill.ops import raw_top_ops as r

RNG = np.random.default_rng(7)


def _x(*s):
    return RNG.normal(size=s).astype(np.float32)


def test_guarantee_const_is_identity():
    x = _x(2, 3)
    np.testing.assert_array_equal(r.guarantee_const(x).numpy(), x)


def test_check_pinned_raises_on_cpu():
    # TF's CPU build raises FailedPreconditionError: no tensor is in pinned memory
    with pytest.raises(tf.errors.FailedPreconditionError, match="CheckPinned"):
        r.check_pinned(tf.constant([1.0]))


def _np_conv_nhwc(x, w, stride, pads, dil):
    """Direct-loop cross-correlation reference (NHWC input, HWIO filter)."""
    x = np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)])
    kh, kw, _, co = w.shape
    eh, ew = (kh - 1) * dil[0] + 1, (kw - 1) * dil[1] + 1
    oh = (x.shape[1] - eh) // stride[0] + 1
    ow = (x.shape[2] - ew) // stride[1] + 1
    y = np.zeros((x.shape[0], oh, ow, co))
    for i in range(oh):
        for j in range(ow):
            patch = x[
                :,
                i * stride[0] : i * stride[0] + eh : dil[0],
                j * stride[1] : j * stride[1] + ew : dil[1],
            ]
            y[:, i, j] = np.einsum("nhwc,hwco->no", patch, w)
    return y


@pytest.mark.parametrize("batch_dims", [1, 2])
def test_conv_explicit_dilated_vs_numpy(batch_dims):
    x, w = _x(2, 6, 7, 3), _x(2, 3, 3, 4)
    y = r.conv(
        x.reshape((1,) * (batch_dims - 1) + x.shape),
        w,
        [1, 2, 1, 1],
        "EXPLICIT",
        explicit_paddings=[0, 0, 1, 2, 0, 1, 0, 0],
        dilations=[1, 1, 2, 1],
        batch_dims=batch_dims,
    )
    ref = _np_conv_nhwc(x, w, (2, 1), [(1, 2), (0, 1)], (1, 2))
    np.testing.assert_allclose(y.numpy().reshape(ref.shape), ref, rtol=1e-4, atol=1e-4)
    assert y.shape.rank == 3 + batch_dims


def test_conv_groups_and_channels_first_vs_numpy():
    x, w = _x(2, 5, 5, 4), _x(3, 3, 2, 6)
    y = r.conv(
        x.transpose(0, 3, 1, 2), w, [1, 1, 1, 1], "VALID", data_format="CHANNELS_FIRST", groups=2
    )
    ref = np.concatenate(
        [
            _np_conv_nhwc(
                x[..., 2 * g : 2 * g + 2], w[..., 3 * g : 3 * g + 3], (1, 1), [(0, 0)] * 2, (1, 1)
            )
            for g in (0, 1)
        ],
        -1,
    )
    np.testing.assert_allclose(y.numpy(), ref.transpose(0, 3, 1, 2), rtol=1e-4, atol=1e-4)


def test_conv_errors():
    x, w = _x(2, 5, 5, 4), _x(3, 3, 2, 6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="depth"):
        r.conv(x, w, [1, 1, 1, 1], "SAME")
    with pytest.raises(tf.errors.InvalidArgumentError, match="strides"):
        r.conv(x, _x(3, 3, 4, 6), [1, 1], "SAME")
    with pytest.raises(tf.errors.InvalidArgumentError, match="2 or 3 spatial"):
        r.conv(_x(2, 5, 3), _x(2, 3, 2), [1, 1, 1], "VALID")


def test_conv_vs_tf():
    tfr = pytest.importorskip("tensorflow")
    x, w = _x(2, 4, 5, 5, 3), _x(2, 2, 2, 3, 2)
    for kw in ({"padding": "SAME"}, {"padding": "VALID", "batch_dims": 1}):
        want = tfr.conv(x, w, [1, 1, 2, 1, 1], **kw).numpy()
        got = r.conv(x, w, [1, 1, 2, 1, 1], **kw).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_conv2d_backprop_v2_vs_finite_differences_of_conv():
    # d/dw and d/dx of sum(conv2d(x, w) * dy): closed-form adjoints checked by
    # central differences on conv itself (float64)
    x = RNG.normal(size=(1, 4, 5, 2))
    w = RNG.normal(size=(2, 3, 2, 3))
    dy = RNG.normal(size=(1, 2, 3, 3))
    args = ([1, 2, 1, 1], "EXPLICIT")
    kw = {"explicit_paddings": [0, 0, 0, 1, 0, 0, 0, 0]}

    def f(x, w):
        return float(np.sum(r.conv(x, w, *args, **kw).numpy() * dy))

    gw = r.conv2d_backprop_filter_v2(x, w, dy, *args, **kw).numpy()
    gx = r.conv2d_backprop_input_v2(x, w, dy, *args, **kw).numpy()
    assert gw.shape == w.shape and gx.shape == x.shape
    eps = 1e-6
    for arr, g, which in ((w, gw, 1), (x, gx, 0)):
        for idx in [(0, 0, 0, 0), tuple(s - 1 for s in arr.shape), (1, 1, 1, 1)]:
            idx = tuple(min(i, s - 1) for i, s in zip(idx, arr.shape))
            p, m = arr.copy(), arr.copy()
            p[idx] += eps
            m[idx] -= eps
            fd = (f(*((x, p) if which else (p, w))) - f(*((x, m) if which else (m, w)))) / (2 * eps)
            np.testing.assert_allclose(g[idx], fd, rtol=1e-5, atol=1e-6)


def test_fft_raw_vs_numpy():
    z = (_x(3, 4, 5) + 1j * _x(3, 4, 5)).astype(np.complex64)
    np.testing.assert_allclose(
        r.fftnd(z, [4, 6], [1, 2]).numpy(), np.fft.fftn(z, [4, 6], [1, 2]), rtol=1e-4, atol=1e-4
    )
    np.testing.assert_allclose(
        r.ifftnd(z, [2, 5], [0, 2]).numpy(), np.fft.ifftn(z, [2, 5], [0, 2]), rtol=1e-4, atol=1e-4
    )
    x = _x(3, 4, 6)
    y = r.rfftnd(x, [4, 6], [1, 2])
    assert y.dtype == tf.complex64
    np.testing.assert_allclose(y.numpy(), np.fft.rfftn(x, [4, 6], [1, 2]), rtol=1e-4, atol=1e-4)
    y = r.rfftnd(x.astype(np.float64), [4, 6], [1, 2], Tcomplex=tf.complex128)
    assert y.dtype == tf.complex128
    back = r.irfftnd(np.fft.rfftn(x, axes=[1, 2]).astype(np.complex64), [4, 6], [1, 2])
    assert back.dtype == tf.float32
    np.testing.assert_allclose(back.numpy(), x, rtol=1e-4, atol=1e-4)


def _np_fill(rowids, values, nrows, default):
    """Reference: rows in order, each non-empty row's values in input order, empty -> default."""
    out_r, out_v, rev = [], [], np.zeros(len(rowids), np.int64)
    for row in range(nrows):
        hits = [i for i, rr in enumerate(rowids) if rr == row]
        for i in hits:
            rev[i] = len(out_r)
            out_r.append(row)
            out_v.append(values[i])
        if not hits:
            out_r.append(row)
            out_v.append(default)
    empty = np.array([row not in rowids for row in range(nrows)])
    return np.array(out_r), np.array(out_v, np.float32), empty, rev


@pytest.mark.parametrize("rowids,nrows", [([1, 1, 3], 5), ([], 2), ([2, 0, 2, 1], 3), ([1, 0], 3)])
def test_ragged_fill_empty_rows_vs_numpy(rowids, nrows):
    vals = np.arange(1, len(rowids) + 1, dtype=np.float32)
    got = r.ragged_fill_empty_rows(
        np.array(rowids, np.int64), vals, np.int64(nrows), np.float32(-1)
    )
    want = _np_fill(rowids, vals, nrows, -1.0)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), w)


def test_ragged_fill_empty_rows_grad_and_tape():
    rowids, vals = np.array([2, 0, 0], np.int64), tf.constant([1.0, 2.0, 3.0])
    d = tf.constant(-1.0)
    gout = np.array([1.0, 2.0, 3.0, 4.0, 5.0], np.float32)  # output has 5 values
    with tf.GradientTape() as tape:
        tape.watch([vals, d])
        out = r.ragged_fill_empty_rows(rowids, vals, np.int64(4), d)
        loss = tf.reduce_sum(out.output_values * gout)
    gv, gd = tape.gradient(loss, [vals, d])
    dv, dd = r.ragged_fill_empty_rows_grad(out.reverse_index_map, gout)
    # closed form: each input value's grad is gout at its output slot; the default's is the
    # sum over filled slots (rows 1 and 3: output positions 2 and 4)
    rev = out.reverse_index_map.numpy()
    np.testing.assert_allclose(dv.numpy(), gout[rev])
    np.testing.assert_allclose(dd.numpy(), gout[2] + gout[4])
    np.testing.assert_allclose(gv.numpy(), gout[rev])
    np.testing.assert_allclose(gd.numpy(), gout[2] + gout[4])


def test_ragged_fill_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="int64"):
        r.ragged_fill_empty_rows(tf.constant([0], tf.int32), [1.0], np.int64(2), -1.0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="value_rowids"):
        r.ragged_fill_empty_rows(np.array([3], np.int64), [1.0], np.int64(2), -1.0)


def test_ragged_fill_vs_tf():
    tfr = pytest.importorskip("tensorflow")
    rowids = np.array([2, 0, 2, 4], np.int64)
    vals = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    want = tfr.ragged_fill_empty_rows(rowids, vals, np.int64(6), np.float32(9))
    got = r.ragged_fill_empty_rows(rowids, vals, np.int64(6), np.float32(9))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), w.numpy())
    gv = np.arange(7, dtype=np.float32)
    for g, w in zip(
        r.ragged_fill_empty_rows_grad(got.reverse_index_map, gv),
        tfr.ragged_fill_empty_rows_grad(want.reverse_index_map, gv),
    ):
        np.testing.assert_allclose(g.numpy(), w.numpy())
