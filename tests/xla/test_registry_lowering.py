"""Registry-wide: every primitive's lowering (its ``lowering`` fact, or its kernel on
``jax.numpy``) against its NumPy kernel, on every case of tests/ops/cases_*.py.

Like the gradient check, the suite lists the primitives that do not lower
(``not_lowered.NOT_LOWERED``, with why): a new primitive either lowers and matches its
kernel, or is added there on purpose.
"""

from __future__ import annotations

import importlib
import pathlib

import numpy as np
import pytest

pytest.importorskip("jax")

import rill  # noqa: E402,F401 - registers every primitive
from rill.core.dispatch import REGISTRY  # noqa: E402
from rill.errors import UnimplementedError  # noqa: E402
from tests.ops.cases import CASES  # noqa: E402
from tests.xla.not_lowered import NOT_LOWERED  # noqa: E402
from tests.xla.registry_lowering import lower_case  # noqa: E402

for _p in sorted((pathlib.Path(__file__).parents[1] / "ops").glob("cases_*.py")):
    importlib.import_module(f"tests.ops.{_p.stem}")

# samplers: JAX's streams, not NumPy's, so only shapes and dtypes can agree
_RANDOM = {"RandomStandardNormal", "RandomUniform", "TruncatedNormal"}


def _compare(prim, case, got):
    try:
        r = prim.kernel(*[x.copy() for x in case.inputs], **case.params)
    except UnimplementedError:
        return  # an optional dependency is missing: nothing to compare against
    want = [np.asarray(v) for v in (r if prim.n_out != 1 else (r,))]
    assert len(got) == len(want), f"{case}: {len(got)} outputs, kernel {len(want)}"
    random = prim.stateful or prim.name.startswith("StatelessRandom") or prim.name in _RANDOM
    random = random or prim.name == "StatelessTruncatedNormal"
    for g, w in zip(got, want):
        if w.dtype == object:
            continue
        assert g.shape == w.shape, f"{case}: shape {g.shape}, kernel {w.shape}"
        if random:
            continue
        g = g.astype(w.dtype)
        if w.dtype.kind in "fc":
            tol = 1e-3 if w.dtype.itemsize <= 4 else 1e-6
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol, err_msg=repr(case))
        else:
            np.testing.assert_array_equal(g, w, err_msg=repr(case))


def test_every_primitive_lowers_or_is_listed():
    not_lowering, host_inputs = {}, {}
    checked = 0
    for name, cases in sorted(CASES.items()):
        prim = REGISTRY.get(name)
        if prim is None:
            continue
        for c in cases:
            got, reason, needed = lower_case(prim, [x.copy() for x in c.inputs], c.params)
            if reason is not None:
                not_lowering.setdefault(name, reason)
                continue
            if needed:
                host_inputs.setdefault(name, set()).update(needed)
            _compare(prim, c, got)
            checked += 1
    assert checked > 300
    unexpected = sorted(set(not_lowering) - set(NOT_LOWERED))
    assert not unexpected, {k: not_lowering[k] for k in unexpected}
    stale = sorted(set(NOT_LOWERED) - set(not_lowering) - _partial_only(not_lowering))
    assert not stale, f"these lower now; remove them from NOT_LOWERED: {stale}"
    # only shape-like integer inputs may need to be known when compiling, never data
    # (indices, segment ids, positions: an Embedding's lookup, x[i] in a loop)
    assert host_inputs == HOST_INTEGER_INPUTS


# The integer inputs (by position) that must be host constants when compiling, because
# XLA's shapes are static: each sets an output or intermediate shape (a shape, size,
# length, count, axis or window). Measured per registry case by tracing each alone.
HOST_INTEGER_INPUTS = {
    # output shapes, sizes and lengths
    "BroadcastTo": {1}, "Fill": {0}, "Reshape": {1}, "SumToShape": {1}, "Range": {0, 1, 2},
    "SplitV": {1}, "ScatterNd": {2}, "GatherV2Grad": {2}, "PutAlongAxis": {2},
    "DenseBincount": {0},  # the values set the length unless minlength >= maxlength
    "Multinomial": {1}, "StatelessMultinomial": {1, 2},
    "RandomStandardNormal": {0}, "RandomUniform": {0}, "RandomUniformInt": {0},
    "TruncatedNormal": {0}, "StatelessRandomNormal": {0}, "StatelessRandomUniform": {0},
    "StatelessRandomUniformInt": {0}, "StatelessRandomUniformFullInt": {0},
    "StatelessTruncatedNormal": {0},
    # segment counts: sorted ids set the number of segments, unsorted ones are given it
    "SegmentMax": {1}, "SegmentMean": {1}, "SegmentMin": {1}, "SegmentProd": {1},
    "SegmentSum": {1}, "UnsortedSegmentMax": {2}, "UnsortedSegmentMin": {2},
    "UnsortedSegmentProd": {2}, "UnsortedSegmentSum": {2},
    # slice bounds where they set the slice's size (a shrunk x[i] takes a traced i)
    "Slice": {1, 2}, "StridedSlice": {1, 2, 3}, "StridedSliceGrad": {0, 1, 2, 3},
    # gradients' input sizes, image sizes, FFT lengths
    "AvgPoolGrad": {0}, "Conv2DBackpropFilter": {1}, "Conv2DBackpropInput": {0},
    "ExtractImagePatchesGrad": {0}, "CropAndResize": {3},
    "ResizeArea": {1}, "ResizeBicubic": {1}, "ResizeBilinear": {1},
    "ResizeNearestNeighbor": {1}, "ResizeNearestNeighborGrad": {1},
    "FFTND": {1, 2}, "IFFTND": {1, 2}, "RFFTND": {1, 2}, "IRFFTND": {1, 2},
    "RFFT": {1}, "RFFT2D": {1}, "RFFT3D": {1}, "IRFFT": {1}, "IRFFT2D": {1}, "IRFFT3D": {1},
}  # fmt: skip


def _partial_only(not_lowering):
    return set()
