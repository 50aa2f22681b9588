"""Fuzzing the public ops: random shapes, dtypes, values and adversarial arguments.

Every call must end in a value or in an error of one of TF's classes raised deliberately
by rill (tests/fuzz/outcomes.py says what counts as a leak). Where TensorFlow is
installed, each call also runs on TF: if either raises, both must, with classes matching
through tests/tf_errors.py; otherwise dtypes, shapes and values must agree.

The example budget per op is fixed for CI (``RILL_FUZZ_EXAMPLES``, default 12, examples
drawn deterministically); set ``RILL_FUZZ_EXAMPLES=500 RILL_FUZZ_RANDOM=1`` for a long
run with fresh examples. ``RILL_FUZZ_TF=0`` skips the comparison with TF.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

import rill  # noqa: E402
from tests.fuzz.ops_table import OPS  # noqa: E402
from tests.fuzz.outcomes import (  # noqa: E402
    STATS,
    assert_same_values,
    leak_reason,
    outcome_class,
    run,
)
from tests.tf_errors import compare_outcomes  # noqa: E402

EXAMPLES = int(os.environ.get("RILL_FUZZ_EXAMPLES", "12"))
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("RILL_FUZZ_RANDOM"),
    database=None,  # no .hypothesis folder in the work tree
    suppress_health_check=list(HealthCheck),
)

_TF: list = []


def _tensorflow():
    """TensorFlow when installed (and not switched off), else None; imported once."""
    if not _TF:
        use = os.environ.get("RILL_FUZZ_TF", "1") != "0"
        if use and importlib.util.find_spec("tensorflow") is not None:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # its kernels log each failure
            import tensorflow

            _TF.append(tensorflow)
        else:
            _TF.append(None)
    return _TF[0]


def _ints(v):
    return [d for d in (v if isinstance(v, list) else [v]) if isinstance(d, int)]


def _beyond_int32(*vals):
    return any(abs(d) >= 2**31 for v in vals for d in _ints(v))


def _empty(a):
    return isinstance(a, np.ndarray) and a.size == 0


def _tile_overflows(a):
    n = 1
    for d, m in zip(a["x"].shape, a["m"]):
        n *= d * m
    return n > 2**63 - 1 or n < 0


def _scatter_fits(a):
    """scatter_nd's arguments agree in shape (TF aborts the process on some that do not)."""
    i, shape = a["i"], list(a["shape"])
    k = i.shape[-1]
    return 0 not in shape and k <= len(shape) and a["u"].shape == i.shape[:-1] + tuple(shape[k:])


# Calls where TF 2.21 itself is wrong or skips a check (so rill deliberately differs), as
# op -> (predicate on the drawn arguments, why). Each was checked by hand against TF.
TF_BUGS = {
    # sizes past int32 wrap around in TF's kernels (a depth, a length, a segment count of
    # 2**40 becomes 0; 2**63 - 1 becomes -1) and TF returns or rejects the wrapped size
    "one_hot": (lambda a: _beyond_int32(a["depth"]), "depth wraps to int32"),
    "bincount": (lambda a: _beyond_int32(a["minlength"], a["maxlength"]), "length wraps"),
    # (and TF checks no segment id when the data is empty)
    "unsorted_segment_sum": (lambda a: _beyond_int32(a["n"]) or _empty(a["x"]), "wraps"),
    "unsorted_segment_max": (lambda a: _beyond_int32(a["n"]) or _empty(a["x"]), "wraps"),
    # TF's Python layer multiplies huge or very negative dims into a wrapped element count
    # and returns an empty tensor (tf.ones([-2**62]) has shape (0,))
    "constant_shape": (lambda a: _beyond_int32(a["shape"]), "element count wraps"),
    "ones": (lambda a: any(d < -(2**31) for d in _ints(a["shape"])), "negative dim wraps"),
    "zeros": (lambda a: any(d < -(2**31) for d in _ints(a["shape"])), "negative dim wraps"),
    # TF converts scatter_nd's shape to the indices' int32 and wraps it (2**40 becomes 0),
    # and aborts the whole process (a failed CHECK) on index vectors longer than the shape
    # when the shape is empty: neither is sent to TF
    "scatter_nd": (
        lambda a: any(d < 0 or d >= 2**31 for d in _ints(a["shape"])) or not _scatter_fits(a),
        "shape wraps to int32, or TF aborts",
    ),
    # TF checks tile's element count for overflow only in some ranks ([4] * 2**62 passes)
    "tile": (lambda a: _tile_overflows(a), "element count overflow unchecked"),
    # TF checks no group divisibility for an empty convolution input
    # TF checks no group divisibility for an empty convolution input
    "conv2d": (lambda a: _empty(a["x"]), "group checks skipped for an empty input"),
    # TF's repeat of an empty tensor by counts with a negative one drops every count
    "repeat": (
        lambda a: _empty(a["x"]) and isinstance(a["r"], list) and any(r < 0 for r in a["r"]),
        "negative counts on an empty tensor",
    ),
    # TF skips the index and axis checks when the result holds no element
    "gather": (lambda a: _empty(a["x"]), "indices unchecked for empty params"),
    "reverse": (lambda a: _empty(a["x"]), "duplicate axes unchecked for empty input"),
    "sparse_dense_matmul": (lambda a: a["n"] == 0, "indices unchecked for an empty product"),
    # tf.size(scalar, out_type=string) raises AttributeError, of a non-scalar TypeError
    "size": (lambda a: a["t"] == "string", "AttributeError or TypeError by rank"),
    # LAPACK (NumPy) and Eigen (TF) pivot differently: det of [[0, 0], [0, nan]] is 0 or nan,
    # and float32 decompositions of a matrix holding 1e30 differ in their smallest values
    "det": (lambda a: not np.all(np.abs(a["x"]) < 1e29), "non-finite or huge entries"),
    "svd_values": (lambda a: not np.all(np.abs(a["x"]) < 1e29), "non-finite or huge entries"),
    # whether Eigen's solver gives up on an infinite diagonal depends on the matrix size
    "eigvalsh": (
        lambda a: a["x"].size > 0 and not np.all(np.abs(a["x"]) < 1e29),
        "inf handling decided by Eigen's iteration",
    ),
}

# Calls where rill knowingly differs from TF and the fix is still open (listed in the
# report of issue 12), as op -> (predicate, what differs). Keep this short.
KNOWN_DIVERGENCES = {
    # TF's CPU max pool starts from float's lowest value and skips NaNs (a window of NaNs
    # or of -inf gives -3.4e38); rill's gives the true maximum and propagates NaNs, as
    # NumPy and Keras' other backends do
    "max_pool2d": (lambda a: not np.isfinite(a["x"]).all(), "NaN or -inf in a window"),
    "max_pool1d": (lambda a: not np.isfinite(a["x"]).all(), "NaN or -inf in a window"),
    # NumPy cannot represent an empty shape whose other dims multiply past 2**63 bytes
    # ([0, 2**62]); TF returns it, rill raises
    "ones": (lambda a: _huge_empty(a["shape"]), "empty shape with a huge dim"),
    "zeros": (lambda a: _huge_empty(a["shape"]), "empty shape with a huge dim"),
    "fill": (lambda a: _huge_empty(a["shape"]), "empty shape with a huge dim"),
    "constant_shape": (lambda a: _huge_empty(a["shape"]), "empty shape with a huge dim"),
    "broadcast_to": (lambda a: _huge_empty(a["shape"]), "empty shape with a huge dim"),
    # NaNs sort last in rill (NumPy's order); TF's sort and top_k rank them lowest
    "sort": (lambda a: np.isnan(a["x"]).any(), "order of NaNs"),
    "top_k": (lambda a: np.isnan(a["x"]).any(), "order of NaNs"),
    # a filter with a zero-size window under SAME padding: rill gives one output position
    "conv2d": (lambda a: 0 in a["w"].shape[:2], "zero-size filter window"),
    # a zero-length index vector (indices of shape (0,)) addresses the whole output in rill;
    # TF's ScatterNd rejects it with a message about an empty output shape
    "scatter_nd": (lambda a: a["i"].shape[-1] == 0, "zero-length index vector"),
}


def _huge_empty(shape):
    dims = _ints(shape)
    return 0 in dims and any(d >= 2**31 for d in dims)


def _check(name, call, args):
    what = f"{name}({args!r})"
    r = run(rill, call, args)
    STATS["calls"] += 1
    STATS[f"rill outcome: {outcome_class(r)}"] += 1
    if r[0] == "raise":
        reason = leak_reason(r[1])
        assert reason is None, f"{what}: leaked error {type(r[1]).__name__}: {r[1]} ({reason})"
    else:
        rill.nest.map_structure(lambda t: t.numpy(), r[1])  # the value is readable
    tf = _tensorflow()
    if tf is None:
        return
    bug = TF_BUGS.get(name)
    if bug is not None and bug[0](args):
        STATS["TF comparisons skipped (TF's own bug)"] += 1
        return
    known = KNOWN_DIVERGENCES.get(name)
    if known is not None and known[0](args):
        STATS["TF comparisons skipped (known rill divergence)"] += 1
        return
    t = run(tf, call, args)
    STATS["TF calls"] += 1
    if not compare_outcomes(r, t, what):
        assert_same_values(r[1], t[1], what)
    STATS["agreed with TF"] += 1
    STATS[f"agreed with TF: {'both raised' if r[0] == 'raise' else 'same value'}"] += 1


@pytest.mark.parametrize("name", sorted(OPS))
def test_fuzz_op(name):
    strategy, call = OPS[name]

    @FUZZ_SETTINGS
    @given(strategy)
    def fuzz(args):
        _check(name, call, args)

    fuzz()
