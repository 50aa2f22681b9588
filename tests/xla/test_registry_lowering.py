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
    not_lowering = {}
    checked = 0
    for name, cases in sorted(CASES.items()):
        prim = REGISTRY.get(name)
        if prim is None:
            continue
        for c in cases:
            got, reason = lower_case(prim, [x.copy() for x in c.inputs], c.params)
            if reason is not None:
                not_lowering.setdefault(name, reason)
                continue
            _compare(prim, c, got)
            checked += 1
    assert checked > 300
    unexpected = sorted(set(not_lowering) - set(NOT_LOWERED))
    assert not unexpected, {k: not_lowering[k] for k in unexpected}
    stale = sorted(set(NOT_LOWERED) - set(not_lowering) - _partial_only(not_lowering))
    assert not stale, f"these lower now; remove them from NOT_LOWERED: {stale}"


def _partial_only(not_lowering):
    return set()
