"""Cases for rill.ops.conv_ops (convolutions and pooling; small shapes for the FD checks)."""

import numpy as np

import rill
from rill.core.dispatch import bind
from rill.ops.conv_ops import max_pool_p
from tests.ops.cases import case, rnd


def _cp(strides=(1, 1), padding="SAME", dilations=None, explicit=(), data_format="NHWC"):
    sr = len(strides)
    return dict(
        strides=tuple(strides),
        dilations=tuple(dilations or (1,) * sr),
        padding=padding,
        explicit_paddings=tuple(explicit),
        data_format=data_format,
    )


def _out(n, k, s, d, padding, explicit=None):
    eff = (k - 1) * d + 1
    if padding == "SAME":
        return -(-n // s)
    if padding == "VALID":
        return (n - eff) // s + 1
    return (n + explicit[0] + explicit[1] - eff) // s + 1


_CONV = [
    # (input shape, filter shape, params)
    ((1, 5, 5, 2), (3, 3, 2, 3), _cp((1, 1), "SAME")),
    ((1, 5, 5, 2), (3, 3, 2, 3), _cp((1, 1), "VALID")),
    ((2, 5, 6, 2), (3, 2, 2, 3), _cp((2, 2), "SAME")),
    ((1, 6, 5, 2), (3, 3, 2, 2), _cp((2, 1), "VALID")),
    ((1, 6, 6, 2), (3, 3, 2, 3), _cp((1, 1), "SAME", dilations=(2, 2))),
    ((1, 7, 6, 1), (2, 3, 1, 2), _cp((2, 2), "VALID", dilations=(2, 1))),
    ((1, 4, 5, 2), (3, 3, 2, 2), _cp((1, 2), "EXPLICIT", explicit=((1, 2), (0, 1)))),
    ((1, 4, 5, 4), (3, 3, 2, 4), _cp((1, 1), "SAME")),  # grouped: 2 groups
    ((1, 2, 5, 4), (2, 3, 1, 8), _cp((1, 2), "SAME")),  # depthwise-style: 4 groups
    ((1, 2, 4, 5), (3, 2, 2, 3), _cp((1, 1), "SAME", data_format="NCHW")),
    ((2, 7, 3), (3, 3, 2), _cp((2,), "SAME")),  # 1-D
    ((1, 3, 4, 3, 2), (2, 2, 2, 2, 2), _cp((1, 2, 1), "SAME")),  # 3-D
    ((1, 4, 5, 3), (3, 3, 1, 3), _cp((1, 1), "SAME")),  # depthwise, multiplier 1
    ((1, 5, 4, 2), (2, 2, 1, 2), _cp((2, 2), "VALID")),  # depthwise, windows apart
    ((1, 2, 5, 4), (3, 2, 1, 4), _cp((1, 1), "SAME", data_format="NCHW")),  # depthwise NCHW
    ((2, 5, 4, 3), (1, 1, 3, 2), _cp((2, 1), "VALID")),  # 1x1, strided
    ((1, 3, 4, 4), (1, 1, 2, 4), _cp((1, 1), "VALID")),  # 1x1, 2 groups
    ((1, 6, 6, 2), (2, 2, 2, 3), _cp((2, 2), "VALID")),  # windows apart (no overlap)
]

for xs, ws, p in _CONV:
    x, w = rnd(*xs), rnd(*ws)
    sr = len(p["strides"])
    nchw = p["data_format"] == "NCHW"
    spatial = xs[2:] if nchw else xs[1:-1]
    exp = p["explicit_paddings"] or [None] * sr
    osp = [
        _out(n, k, s, d, p["padding"], e)
        for n, k, s, d, e in zip(spatial, ws[:sr], p["strides"], p["dilations"], exp)
    ]
    ys = (xs[0], ws[-1], *osp) if nchw else (xs[0], *osp, ws[-1])
    dy = rnd(*ys)
    case("Conv2D", x, w, **p)
    case("Conv2DBackpropInput", np.array(xs, np.int32), w, dy, **p)
    case("Conv2DBackpropFilter", x, np.array(ws, np.int32), dy, **p)

case(
    "Conv2D",
    np.arange(32, dtype=np.int32).reshape(1, 4, 4, 2),
    np.ones((2, 2, 2, 1), np.int32),
    grad=False,
    **_cp(),
)


def _pp(ksize, strides, padding="SAME", explicit=(), data_format="NHWC"):
    return dict(
        ksize=tuple(ksize),
        strides=tuple(strides),
        padding=padding,
        explicit_paddings=tuple(explicit),
        data_format=data_format,
    )


_POOL = [
    ((1, 5, 5, 2), _pp((2, 2), (2, 2), "SAME")),
    ((1, 5, 5, 2), _pp((3, 3), (2, 2), "SAME")),
    ((2, 5, 4, 1), _pp((3, 2), (1, 2), "VALID")),
    ((1, 4, 5, 2), _pp((2, 3), (2, 1), "SAME", data_format="NCHW")),
    ((2, 7, 2), _pp((3,), (2,), "SAME")),
    ((1, 3, 4, 3, 1), _pp((2, 2, 2), (1, 2, 2), "SAME")),
]

for xs, p in _POOL:
    sr = len(p["ksize"])
    nchw = p["data_format"] == "NCHW"
    spatial = xs[2:] if nchw else xs[1:-1]
    osp = [_out(n, k, s, 1, p["padding"]) for n, k, s in zip(spatial, p["ksize"], p["strides"])]
    ys = (xs[0], xs[1], *osp) if nchw else (xs[0], *osp, xs[-1])
    # distinct values (no ties) so max pooling is differentiable at the sample point
    x = np.random.default_rng(sr).permutation(int(np.prod(xs))).reshape(xs) * 0.1 + rnd(*xs) * 0.01
    y = bind(max_pool_p, (rill.constant(x),), p).numpy()  # the grads read the pooled max
    case("MaxPool", x, **p)
    case("MaxPoolGrad", x, y, rnd(*ys), wrt=(2,), **p)
    case("MaxPoolGradGrad", x, y, rnd(*xs), wrt=(2,), **p)
    case("AvgPool", rnd(*xs), **p)
    case("AvgPoolGrad", np.array(xs, np.int32), rnd(*ys), **p)

case("MaxPool", rnd(1, 4, 4, 1), **_pp((2, 2), (1, 1), "EXPLICIT", explicit=((1, 0), (0, 1))))
case(
    "MaxPool", np.arange(16, dtype=np.int32).reshape(1, 4, 4, 1), grad=False, **_pp((2, 2), (2, 2))
)
