"""Sample inputs for every registered primitive, used by the registry-wide checks.

Each ``cases_*.py`` module beside this one calls ``case(...)`` for the primitives of one
ops module. ``test_registry.py`` fails if any registered primitive has no case, checks
each primitive's shape rule against its kernel on every case, and checks each
differentiable primitive's gradient against central finite differences in float64.
"""

from __future__ import annotations

import dataclasses
import importlib.util

import numpy as np
import pytest

CASES: dict[str, list] = {}


@dataclasses.dataclass
class Case:
    prim: str
    inputs: tuple  # NumPy arrays (float inputs should be float64 for the gradient check)
    params: dict
    wrt: tuple | None  # input indices to differentiate; None = every float input
    grad: bool  # False: only the shape rule is checked for this case
    rtol: float
    atol: float
    eps: float

    def __repr__(self):
        shapes = ",".join(str(np.shape(x)) for x in self.inputs)
        return f"{self.prim}[{shapes}]{self.params or ''}"


def case(prim, *inputs, wrt=None, grad=True, rtol=1e-5, atol=1e-6, eps=1e-6, **params):
    """Register sample inputs (arrays) and params for primitive ``prim``.

    ``eps`` is the finite-difference step; raise it (with rtol) for ops whose output is
    not float64.
    """
    CASES.setdefault(prim, []).append(
        Case(prim, tuple(np.asarray(x) for x in inputs), params, wrt, grad, rtol, atol, eps)
    )


# Primitives whose inputs the registry's float64 finite differences cannot perturb
# (list-valued (variant) or complex tensors); each names the test that checks its gradient
# instead. The registry verifies that the named test exists, is not skipped or xfailed,
# and itself calls one of the gradient oracles in tests/gradcheck.py (finite differences
# or a closed form).
GRAD_CHECKED_BY: dict[str, str] = {}


def grad_checked_by(prim: str, test: str) -> None:
    """Record that ``test`` ("tests/ops/test_x.py::test_name") checks ``prim``'s gradient
    against finite differences or a closed form (a ``tests.gradcheck.ORACLES`` call)."""
    GRAD_CHECKED_BY[prim] = test


# Primitives that need an optional dependency (an extra of rill's) raise UnimplementedError
# without it: the module each needs. A case of one is skipped only when that module really
# cannot be imported here; any other UnimplementedError is a failure.
OPTIONAL_DEPENDENCY = {
    "ParseExampleV2": "google.protobuf",
    "ParseTensor": "google.protobuf",
    "SerializeTensor": "google.protobuf",
    "StatelessRandomGammaV2": "scipy.special",
    "RandomGammaGrad": "scipy.special",
    # image codecs (rill[image]); JPEG XL also needs a Pillow plugin
    "DecodePng": "PIL",
    "DecodeGif": "PIL",
    "DecodeWebP": "PIL",
    "DecodeJpeg": "PIL",
    "DecodeAndCropJpeg": "PIL",
    "DecodeImage": "PIL",
    "ExtractJpegShape": "PIL",
    "EncodeJpeg": "PIL",
    "EncodeJpegVariableQuality": "PIL",
    "DecodeJxl": "pillow_jxl",
}


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # a parent package is missing
        return False


def skip_if_dependency_missing(prim: str, error: BaseException) -> None:
    """Call with the UnimplementedError a case of ``prim`` raised: skips the test when
    ``prim``'s optional dependency is really absent here; returns otherwise (re-raise)."""
    dep = OPTIONAL_DEPENDENCY.get(prim)
    if dep is not None and not _importable(dep):
        pytest.skip(f"{prim} needs {dep}, not installed here: {error}")


_rng = np.random.default_rng(0)


def rnd(*shape, lo=-1.0, hi=1.0):
    """Random float64 array in [lo, hi)."""
    return _rng.uniform(lo, hi, size=shape)


def pos(*shape):
    """Random float64 array in [0.5, 2) (for log, sqrt, division...)."""
    return _rng.uniform(0.5, 2.0, size=shape)
