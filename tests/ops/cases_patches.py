"""Cases for rill.ops.patch_ops (patches, their transpose, max pooling with argmax)."""

import numpy as np

import rill
from rill.core.dispatch import bind
from rill.ops import patch_ops
from tests.ops.cases import case, rnd

_PATCHES = [
    # (input shape, ksizes, strides, rates, padding)
    ((1, 5, 5, 2), (3, 3), (1, 1), (1, 1), "VALID"),
    ((2, 5, 6, 2), (3, 2), (2, 2), (1, 1), "SAME"),
    ((1, 7, 6, 1), (2, 3), (2, 1), (2, 1), "VALID"),
    ((1, 6, 6, 2), (3, 3), (1, 1), (2, 2), "SAME"),
    ((2, 7, 3), (3,), (2,), (1,), "SAME"),
    ((1, 3, 4, 3, 2), (2, 2, 2), (1, 2, 1), (1, 1, 1), "SAME"),
    ((1, 4, 4, 3), (1, 1), (1, 1), (1, 1), "VALID"),
]


def _out(n, k, s, r, padding):
    eff = (k - 1) * r + 1
    return -(-n // s) if padding == "SAME" else (n - eff) // s + 1


for xs, k, s, r, pad in _PATCHES:
    p = dict(ksizes=k, strides=s, rates=r, padding=pad)
    out = [_out(n, kk, ss, rr, pad) for n, kk, ss, rr in zip(xs[1:-1], k, s, r)]
    ps = (xs[0], *out, xs[-1] * int(np.prod(k)))
    case("ExtractImagePatches", rnd(*xs), **p)
    case("ExtractImagePatchesGrad", np.array(xs, np.int32), rnd(*ps), **p)

case(
    "ExtractImagePatches",
    np.arange(32, dtype=np.int32).reshape(1, 4, 4, 2),
    grad=False,
    ksizes=(2, 2),
    strides=(1, 1),
    rates=(1, 1),
    padding="VALID",
)

_POOLS = [
    ((1, 4, 4, 2), (2, 2), (2, 2), "VALID"),
    ((2, 5, 5, 2), (3, 3), (2, 2), "SAME"),
    ((1, 5, 4, 1), (2, 3), (1, 2), "VALID"),
    ((2, 7, 3), (3,), (2,), "SAME"),
    ((1, 4, 3, 4, 2), (2, 2, 2), (2, 1, 2), "SAME"),
]


def _distinct(*shape):
    """Distinct values (no ties), so finite differences do not cross a max switch."""
    n = int(np.prod(shape))
    return (np.random.default_rng(n).permutation(n).reshape(shape) * 0.1).astype(np.float64)


def _argmax(x, k, s, pad, include_batch):
    p = dict(ksize=k, strides=s, padding=pad, include_batch_in_index=include_batch)
    _, a = bind(patch_ops.max_pool_argmax_p, (rill.constant(x),), dict(p, Targmax=rill.int64))
    return a.numpy()


for xs, k, s, pad in _POOLS:
    for include_batch in (False, True):
        p = dict(ksize=k, strides=s, padding=pad, include_batch_in_index=include_batch)
        x = _distinct(*xs)
        case("MaxPoolWithArgmax", x, Targmax=rill.int64, **p)
        a = _argmax(x, k, s, pad, include_batch)
        case("MaxPoolGradWithArgmax", x, rnd(*a.shape), a, wrt=(1,), **p)
        case("MaxPoolGradGradWithArgmax", x, rnd(*xs), a, wrt=(1,), **p)

case(
    "MaxPoolWithArgmax",
    np.arange(32, dtype=np.int32).reshape(1, 4, 4, 2),
    grad=False,
    ksize=(2, 2),
    strides=(2, 2),
    padding="VALID",
    include_batch_in_index=False,
    Targmax=rill.int32,
)
