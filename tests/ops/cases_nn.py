"""Cases for rill.ops.nn_ops (activations, softmax, cross-entropies, bias_add)."""

import numpy as np

from tests.ops.cases import case, rnd


def _away(x, *kinks, gap=0.05):
    """Move samples closer than ``gap`` to a kink out of the way (FD checks need smoothness)."""
    x = np.array(x)
    for k in kinks:
        near = np.abs(x - k) < gap
        x[near] = k + 2 * gap
    return x


for shape in [(3, 4), (2, 3, 2)]:
    case("Relu", _away(rnd(*shape), 0.0))
    case("Relu6", _away(rnd(*shape) * 8, 0.0, 6.0))
    case("Elu", _away(rnd(*shape) * 2, 0.0))
    case("Selu", _away(rnd(*shape) * 2, 0.0))
    case("LeakyRelu", _away(rnd(*shape), 0.0), alpha=0.2)
    case("Softsign", rnd(*shape) * 3)
case("LeakyRelu", _away(rnd(5), 0.0), alpha=1.7)
case("Relu", np.array([-2, 0, 3], np.int32), grad=False)
case("Relu6", np.array([-2, 4, 9], np.int32), grad=False)

for shape, axis in [((3, 4), -1), ((2, 3, 4), 1), ((5,), 0), ((2, 3), 0)]:
    case("Softmax", rnd(*shape) * 3, axis=axis)
    case("LogSoftmax", rnd(*shape) * 3, axis=axis)


def _probs(*shape, axis=-1):
    p = np.random.default_rng(7).uniform(0.1, 1.0, size=shape)
    return p / p.sum(axis=axis, keepdims=True)


# TF's op takes [batch, classes] rows (the public function moves the axis and flattens)
case("SoftmaxCrossEntropyWithLogits", rnd(3, 4) * 2, _probs(3, 4))
case("SoftmaxCrossEntropyWithLogits", (rnd(2, 3, 4) * 2).reshape(6, 4), _probs(6, 4))
case("SoftmaxCrossEntropyWithLogits", (rnd(5) * 2).reshape(1, 5), _probs(1, 5))

case("SparseSoftmaxCrossEntropyWithLogits", rnd(3, 4) * 2, np.array([0, 3, 1], np.int32))
case("SparseSoftmaxCrossEntropyWithLogits", rnd(2, 2, 5) * 2, np.array([[4, 0], [2, 2]], np.int64))

case("BiasAdd", rnd(2, 3), rnd(3), data_format="NHWC")
case("BiasAdd", rnd(2, 3, 4, 2), rnd(2), data_format="NHWC")
case("BiasAdd", rnd(2, 3, 4), rnd(3), data_format="NCHW")
case(
    "BiasAdd",
    np.array([[1, 2], [3, 4]], np.int32),
    np.array([10, 20], np.int32),
    grad=False,
    data_format="NHWC",
)

# ReluGrad: dy masked by out > 0 (out holds no zeros, so the mask is away from the kink)
case("ReluGrad", rnd(3, 4), np.abs(rnd(3, 4)) * np.sign(rnd(3, 4)), wrt=(0,))
