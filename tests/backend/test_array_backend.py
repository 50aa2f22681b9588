"""The backend seam, proved: every kernel that is not declared ``host`` runs on a foreign
array type through the namespace it is given, and computes what it computes on NumPy."""

from __future__ import annotations

import importlib
import pathlib

import numpy as np
import pytest

import rill  # noqa: F401 - registers every primitive
from rill.backend import NUMPY
from rill.core.dispatch import REGISTRY, active_backend, set_backend
from rill.errors import UnimplementedError
from tests.backend.foreign import FOREIGN, ForeignArray, unwrap
from tests.ops.cases import CASES, skip_if_dependency_missing

for _p in sorted((pathlib.Path(__file__).parents[1] / "ops").glob("cases_*.py")):
    importlib.import_module(f"tests.ops.{_p.stem}")

DEVICE_CASES = [
    c for cs in CASES.values() for c in cs if c.prim in REGISTRY and not REGISTRY[c.prim].host
]


def _outputs(prim, r):
    return r if prim.n_out != 1 else (r,)


def _run(prim, backend, inputs, params):
    previous = set_backend(backend)
    try:
        return prim.kernel(*inputs, **params)
    finally:
        set_backend(previous)


def test_foreign_arrays_refuse_numpy():
    x = ForeignArray(np.arange(3.0))
    with pytest.raises(TypeError):
        np.exp(x)
    with pytest.raises(TypeError):
        np.sum(x)
    assert isinstance(FOREIGN.xp.exp(x), ForeignArray)


def test_set_backend_rebinds_and_restores():
    sub = REGISTRY["Sub"]
    assert sub.kernel is np.subtract
    previous = set_backend(FOREIGN)
    try:
        assert active_backend() is FOREIGN and sub.kernel is not np.subtract
    finally:
        set_backend(previous)
    assert previous is NUMPY and sub.kernel is np.subtract


@pytest.mark.parametrize("c", DEVICE_CASES, ids=repr)
def test_kernel_runs_on_a_foreign_backend(c):
    prim = REGISTRY[c.prim]
    try:
        expected = _outputs(prim, _run(prim, NUMPY, [x.copy() for x in c.inputs], c.params))
    except UnimplementedError as e:  # skipped only if an optional dependency is missing
        skip_if_dependency_missing(c.prim, e)
        raise
    got = _outputs(prim, _run(prim, FOREIGN, [ForeignArray(x.copy()) for x in c.inputs], c.params))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert isinstance(g, (ForeignArray, bool, int, float, complex)), (
            f"{c.prim}: the kernel returned {type(g).__name__}, not the backend's array type"
        )
        g = np.asarray(unwrap(g))
        e = np.asarray(e)
        assert g.shape == e.shape and g.dtype == e.dtype, f"{c.prim}: {g.dtype}{g.shape}"
        if prim.stateful:
            continue
        if e.dtype.kind in "fc":
            # NumPy may take a SciPy fast path (lgamma, digamma) that the foreign backend
            # cannot: the two agree to the last few bits, not bit for bit (absolutely,
            # near a zero of the function, where relative error is unbounded)
            np.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-14, equal_nan=True)
        else:
            np.testing.assert_array_equal(g, e)
