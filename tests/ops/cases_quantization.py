"""Cases for rill.ops.quantization_ops. The fake-quant and quantize-and-dequantize outputs
are step functions, so finite differences cannot check their straight-through gradients:
tests/quantization/test_quantization.py checks them against closed forms."""

import numpy as np

import rill
import rill.ops.quantization_ops  # noqa: F401 - registers the primitives
from tests.ops.cases import case, grad_checked_by

_x = np.array([[-7.0, -1.3, 0.0, 0.4], [2.2, 5.9, 6.5, -6.0]], np.float32)
_g = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]], np.float32)
_mn, _mx = np.float32(-6.0), np.float32(6.0)
_mins, _maxs = np.float32([-1, -2, -3, -6]), np.float32([1, 2, 3, 6])
_q = dict(num_bits=8, narrow_range=False)

case("FakeQuantWithMinMaxArgs", _x, grad=False, min=-6.0, max=6.0, **_q)
case("FakeQuantWithMinMaxArgsGradient", _g, _x, grad=False, min=-6.0, max=6.0, **_q)
case("FakeQuantWithMinMaxVars", _x, _mn, _mx, grad=False, **_q)
case("FakeQuantWithMinMaxVarsGradient", _g, _x, _mn, _mx, grad=False, **_q)
case("FakeQuantWithMinMaxVarsPerChannel", _x, _mins, _maxs, grad=False, **_q)
case("FakeQuantWithMinMaxVarsPerChannelGradient", _g, _x, _mins, _maxs, grad=False, **_q)
_qdq = dict(signed_input=True, num_bits=8, range_given=True, round_mode="HALF_TO_EVEN")
for _name in ("QuantizeAndDequantizeV2", "QuantizeAndDequantizeV4"):
    case(_name, _x.astype(np.float64), -2.0, 3.0, grad=False, narrow_range=False, axis=-1, **_qdq)
    case(_name, _x, _mins, _maxs, grad=False, narrow_range=True, axis=1, **_qdq)

_T = "tests/quantization/test_quantization.py::"
for _name in ("FakeQuantWithMinMaxArgs", "FakeQuantWithMinMaxVars"):
    grad_checked_by(_name, _T + "test_fake_quant_gradients_closed_form")
grad_checked_by("FakeQuantWithMinMaxVarsPerChannel", _T + "test_per_channel_gradients_closed_form")
for _name in ("QuantizeAndDequantizeV2", "QuantizeAndDequantizeV4"):
    grad_checked_by(_name, _T + "test_quantize_and_dequantize_gradients_closed_form")

_q8 = np.array([[-128, 0, 5, 127]], np.int8).view(np.dtype([("qint8", "i1")]))
_qu8 = np.array([[0, 17, 200, 255]], np.uint8).view(np.dtype([("quint8", "u1")]))
for _T in (rill.qint8, rill.quint8, rill.qint32):
    case("QuantizeV2", _x, np.float32(-3), np.float32(5), grad=False, T=_T, mode="MIN_COMBINED",
         round_mode="HALF_AWAY_FROM_ZERO", narrow_range=False, axis=-1,
         ensure_minimum_range=0.01)  # fmt: skip
case("QuantizeV2", _x, _mins, _maxs, grad=False, T=rill.qint8, mode="SCALED",
     round_mode="HALF_TO_EVEN", narrow_range=True, axis=1, ensure_minimum_range=0.01)  # fmt: skip
for _m in ("MIN_COMBINED", "MIN_FIRST", "SCALED"):
    case("Dequantize", _q8, np.float32(-1), np.float32(2), grad=False, mode=_m,
         narrow_range=False, axis=-1, dtype=rill.float32)  # fmt: skip
case("Dequantize", _qu8, np.float32([0, 1, 2, 3]), np.float32([1, 2, 3, 4]), grad=False,
     mode="SCALED", narrow_range=False, axis=1, dtype=rill.float32)  # fmt: skip
case("QuantizedConcat", np.int32(1), _qu8, _qu8, np.float32(0), np.float32(-1), np.float32(1),
     np.float32(2), grad=False)  # fmt: skip
