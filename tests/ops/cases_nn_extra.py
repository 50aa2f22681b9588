"""Cases for rill.ops.nn_extra_ops and rill.ops.math_extra_ops (the primitives; the
composites there are checked in test_nn_extra_ops.py)."""

import numpy as np

from rill.core import dtypes as _d
from tests.ops.cases import OPTIONAL_DEPENDENCY, case, rnd

OPTIONAL_DEPENDENCY["SobolSample"] = "scipy.stats"

_rng = np.random.default_rng(16)

case("MulNoNan", rnd(3, 4), rnd(3, 4))
case("MulNoNan", rnd(3, 4), rnd(4))
case("MulNoNan", rnd(2, 3), np.array([[0.0, 1.5, -0.5], [0.25, 0.0, 2.0]]))
case("NextAfter", rnd(3, 4), rnd(3, 4), grad=False)
case("InvertPermutation", _rng.permutation(6).astype(np.int32), grad=False)
case("SobolSample", np.int32(3), np.int32(5), np.int32(2), dtype=_d.float64, grad=False)
# distinct values a few apart: finite differences stay inside one segment structure
_iso = _rng.permutation(12).reshape(3, 4).astype(np.float64) + rnd(3, 4) * 0.1
case("IsotonicRegression", _iso, out_dtype=_d.float64)
case("CollapseRepeated", np.array([[1, 1, 2, 3], [4, 4, 0, 0]], np.int32),
     np.array([4, 3], np.int32), grad=False)  # fmt: skip
case("CTCUniqueLabels", np.array([[3, 4, 4, 3], [1, 1, 5, 0]], np.int64), grad=False)
case("ComputeAccidentalHits", np.array([[1, 2], [3, 4]], np.int64),
     np.array([2, 3, 1, 9], np.int64), grad=False)  # fmt: skip

_tc = np.array([[1, 5], [2, 7]], np.int64)
for _dist, _probs in (("uniform", np.zeros(0)), ("log_uniform", np.zeros(0)),
                      ("unigram", np.full(10, 0.1))):  # fmt: skip
    case("CandidateSampler", _tc, _probs, dist=_dist, num_sampled=4, unique=True,
         range_max=10, seed=1, seed2=2, grad=False)  # fmt: skip

# CTC: time-major logits [T=4, B=2, C=3], dense labels and lengths
_ctc_logits = rnd(4, 2, 3) * 2
_ctc_args = (
    np.array([[1, 2], [2, 0]], np.int32),
    np.array([2, 1], np.int32),
    np.array([4, 3], np.int32),
)
case("CTCLossDense", _ctc_logits, *_ctc_args, blank_index=0)
case("CTCLossDense", _ctc_logits, *_ctc_args, blank_index=2, wrt=(0,))
case("CTCLossDenseGrad", _ctc_logits, *_ctc_args, blank_index=0, grad=False)
case("CTCGreedyDecoder", _ctc_logits, np.array([4, 3], np.int32), merge_repeated=True,
     blank_index=2, grad=False)  # fmt: skip
case("CTCBeamSearchDecoder", _ctc_logits, np.array([4, 3], np.int32), beam_width=5,
     top_paths=2, grad=False)  # fmt: skip
