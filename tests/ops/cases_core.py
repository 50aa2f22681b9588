"""Cases for rill.ops.math_ops and rill.ops.array_ops (the core primitives)."""

import numpy as np

from rill.core import dtypes as d
from tests.ops.cases import case, pos, rnd

# binary arithmetic, with broadcasting
for name in ("AddV2", "Sub", "Mul", "Maximum", "Minimum", "SquaredDifference"):
    case(name, rnd(3, 4), rnd(3, 4))
    case(name, rnd(2, 3, 4), rnd(4))
    case(name, rnd(3, 1), rnd(1, 4))
case("RealDiv", rnd(3, 4), pos(3, 4))
case("RealDiv", rnd(2, 3), pos(3))
case("DivNoNan", rnd(3, 4), pos(3, 4))
case("DivNoNan", rnd(2, 3), pos(3))
# where y is 0 the result and both gradients are 0; only x is perturbed there
case("DivNoNan", rnd(2, 3), np.array([0.0, 2.0, -1.5]), wrt=[0])
case("FloorMod", pos(3, 4) * 3, pos(3, 4))
case("FloorDiv", pos(3, 4) * 3, pos(3, 4), grad=False)
case("FloorDiv", np.array([7, -7, 6]), np.array([2, 2, -4]), grad=False)
case("TruncateDiv", np.array([7, -7, 6]), np.array([2, 2, -4]), grad=False)
case("TruncateMod", np.array([7, -7, 6]), np.array([2, 2, -4]), grad=False)
case("Pow", pos(3, 4), rnd(3, 4))
case("Pow", pos(2, 3), rnd(3))
case("Neg", rnd(3, 2))
for name in ("Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual"):
    case(name, rnd(3, 4), rnd(4), grad=False)
b1, b2 = rnd(3, 4) > 0, rnd(4) > 0
for name in ("LogicalAnd", "LogicalOr"):
    case(name, b1, b2, grad=False)
case("LogicalNot", b1, grad=False)
i1, i2 = np.array([[5, 3, 12]], np.int32), np.array([6, 1, 10], np.int32)
for name in ("BitwiseAnd", "BitwiseOr", "BitwiseXor"):
    case(name, i1, i2, grad=False)
case("LeftShift", i1, np.array([1, 2, 3], np.int32), grad=False)
case("RightShift", i1, np.array([1, 2, 3], np.int32), grad=False)
case("Invert", i1, grad=False)

# array_ops
case("Shape", rnd(2, 3), out_type=d.int32, grad=False)
case("Reshape", rnd(2, 3), np.array([3, 2]))
case("Reshape", rnd(2, 3, 2), np.array([-1, 4]))
case("Cast", rnd(2, 3), dtype=d.float32, eps=1e-2, rtol=1e-3, atol=1e-4)
case("Cast", rnd(2, 3) * 5, dtype=d.int32, grad=False)
case("Identity", rnd(2, 3))
case("ZerosLike", rnd(2, 3))
case("OnesLike", rnd(2, 3))
case("Pack", rnd(2, 3), rnd(2, 3), rnd(2, 3), axis=1)
case("Pack", rnd(4), rnd(4), axis=0)
case("Unpack", rnd(3, 2, 4), num=2, axis=1)
case("BroadcastTo", rnd(3, 1), np.array([2, 3, 4]))
case("SumToShape", rnd(2, 3, 4), np.array([3, 1]))
case("SelectV2", rnd(3, 4) > 0, rnd(3, 4), rnd(4))
