"""rill.ops.patch_ops: extract_patches / extract_volume_patches and max_pool_with_argmax
against NumPy loops, and against TensorFlow where it is installed."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import rill as tf
from rill.core.dispatch import bind
from rill.ops import patch_ops

RNG = np.random.default_rng(11)


def _params(k, s, r, padding):
    return dict(ksizes=tuple(k), strides=tuple(s), rates=tuple(r), padding=padding)


def _patches(x, *args):
    """The rank-generic primitive (the public ops are 2-D and 3-D only)."""
    return bind(patch_ops.patches_p, (tf.constant(x),), _params(*args))


def _patches_transpose(sizes, cols, *args):
    sizes = tf.constant(sizes, dtype=tf.int32)
    return bind(patch_ops.col2im_p, (sizes, tf.constant(cols)), _params(*args))


def _ref_patches(x, k, s, r, padding):
    sr = x.ndim - 2
    if padding == "SAME":
        pads = []
        for n, kk, ss, rr in zip(x.shape[1:-1], k, s, r):
            eff = (kk - 1) * rr + 1
            total = max((-(-n // ss) - 1) * ss + eff - n, 0)
            pads.append((total // 2, total - total // 2))
        x = np.pad(x, [(0, 0), *pads, (0, 0)])
    eff = [(kk - 1) * rr + 1 for kk, rr in zip(k, r)]
    out = [(n - e) // ss + 1 for n, e, ss in zip(x.shape[1:-1], eff, s)]
    y = np.zeros((x.shape[0], *out, int(np.prod(k)) * x.shape[-1]), x.dtype)
    for pos in itertools.product(*[range(o) for o in out]):
        win = x[(slice(None),) + tuple(slice(p * ss, p * ss + e, rr) for p, ss, e, rr in
                                       zip(pos, s, eff, r))]  # fmt: skip
        y[(slice(None), *pos)] = win.reshape(x.shape[0], -1)
    assert sr == len(k)
    return y


@pytest.mark.parametrize(
    "shape,k,s,r,padding",
    [
        ((2, 7, 6, 3), (3, 2), (2, 1), (1, 1), "VALID"),
        ((1, 6, 7, 2), (2, 3), (1, 2), (2, 1), "SAME"),
        ((2, 9, 2), (3,), (2,), (2,), "SAME"),
        ((1, 4, 5, 3, 2), (2, 2, 3), (2, 1, 1), (1, 1, 1), "VALID"),
    ],
)
def test_patches_match_a_loop(shape, k, s, r, padding):
    x = RNG.standard_normal(shape).astype("float32")
    y = _patches(x, k, s, r, padding)
    np.testing.assert_array_equal(y.numpy(), _ref_patches(x, k, s, r, padding))


def test_patches_transpose_is_the_adjoint():
    x = RNG.standard_normal((2, 6, 5, 3))
    args = ((3, 2), (2, 1), (1, 2), "SAME")
    p = _patches(x, *args)
    c = RNG.standard_normal(p.shape.as_list())
    back = _patches_transpose(list(x.shape), c, *args)
    np.testing.assert_allclose(np.sum(p.numpy() * c), np.sum(x * back.numpy()), rtol=1e-10)


def test_public_signatures_and_errors():
    x = tf.constant(RNG.standard_normal((1, 5, 5, 2)).astype("float32"))
    y = tf.image.extract_patches(x, [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID") \
        if hasattr(tf, "image") else patch_ops.extract_patches(x, [1, 2, 2, 1], [1, 1, 1, 1],
                                                                [1, 1, 1, 1], "VALID")  # fmt: skip
    assert y.shape.as_list() == [1, 4, 4, 8]
    v = tf.extract_volume_patches(tf.zeros((1, 3, 4, 4, 2)), [1, 2, 2, 2, 1], [1, 1, 2, 2, 1],
                                  "SAME")  # fmt: skip
    assert v.shape.as_list() == [1, 3, 2, 2, 16]
    with pytest.raises(ValueError, match="SAME"):
        patch_ops.extract_patches(x, [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "FULL")
    with pytest.raises(tf.errors.InvalidArgumentError, match="batch and depth"):
        patch_ops.extract_patches(x, [2, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID")
    out, arg = tf.nn.max_pool_with_argmax(x, 2, 2, "VALID")
    assert out.shape.as_list() == [1, 2, 2, 2] and arg.dtype == tf.int64
    with pytest.raises(ValueError, match="4-D"):
        tf.nn.max_pool_with_argmax(tf.zeros((1, 4, 2)), 2, 2, "VALID")


@pytest.mark.parametrize("include_batch", [False, True])
def test_max_pool_with_argmax_matches_a_loop(include_batch):
    x = RNG.standard_normal((2, 5, 6, 3)).astype("float32")
    out, arg = tf.nn.max_pool_with_argmax(x, [1, 3, 2, 1], [1, 2, 2, 1], "SAME",
                                          include_batch_in_index=include_batch)  # fmt: skip
    flat = x.reshape(-1) if include_batch else x.reshape(2, -1)
    for b in range(2):
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                # SAME: 1 padding row on top (5 rows, 3x2 windows, stride 2), none on the left
                r0, c0 = max(i * 2 - 1, 0), j * 2
                win = x[b, r0 : i * 2 - 1 + 3, c0 : j * 2 + 2]
                np.testing.assert_array_equal(out.numpy()[b, i, j], win.max(axis=(0, 1)))
                a = arg.numpy()[b, i, j]
                vals = flat[a] if include_batch else flat[b][a]
                np.testing.assert_array_equal(vals, out.numpy()[b, i, j])


def test_against_tensorflow():
    T = pytest.importorskip("tensorflow")
    x = RNG.standard_normal((2, 7, 6, 3)).astype("float32")
    for padding in ("VALID", "SAME"):
        args = ([1, 3, 2, 1], [1, 2, 1, 1], [1, 1, 2, 1], padding)
        np.testing.assert_array_equal(
            tf.image.extract_patches(x, *args).numpy()
            if hasattr(tf, "image") else patch_ops.extract_patches(x, *args).numpy(),
            T.image.extract_patches(x, *args).numpy(),
        )  # fmt: skip
        for include_batch in (False, True):
            ours = tf.nn.max_pool_with_argmax(x, [1, 3, 2, 1], [1, 2, 2, 1], padding,
                                              include_batch_in_index=include_batch)  # fmt: skip
            theirs = T.nn.max_pool_with_argmax(x, [1, 3, 2, 1], [1, 2, 2, 1], padding,
                                               include_batch_in_index=include_batch)  # fmt: skip
            for a, b in zip(ours, theirs):
                np.testing.assert_array_equal(a.numpy(), b.numpy())
        # the gradient through the argmax, and through the patches
        xt, xr = T.constant(x), tf.constant(x)
        with T.GradientTape() as t1:
            t1.watch(xt)
            yt = T.nn.max_pool_with_argmax(xt, 3, 2, padding)[0]
        with tf.GradientTape() as t2:
            t2.watch(xr)
            yr = tf.nn.max_pool_with_argmax(xr, 3, 2, padding)[0]
        up = RNG.standard_normal(yt.shape).astype("float32")
        np.testing.assert_allclose(t2.gradient(yr, xr, up).numpy(),
                                   t1.gradient(yt, xt, up).numpy(), rtol=1e-6)  # fmt: skip
