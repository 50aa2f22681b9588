"""The facts a primitive declares about its kernel hold on every registry case: the
executor trusts them (it emits the operator form, forwards aliases, overwrites fresh
outputs and folds shape-only ops)."""

from __future__ import annotations

import importlib
import pathlib

import numpy as np
import pytest

import rill  # noqa: F401 - registers every primitive
from rill.core.dispatch import REGISTRY
from tests.ops.cases import CASES

for _p in sorted((pathlib.Path(__file__).parents[1] / "ops").glob("cases_*.py")):
    importlib.import_module(f"tests.ops.{_p.stem}")


def _cases(fact):
    return [c for n, p in REGISTRY.items() if getattr(p, fact) for c in CASES.get(n, [])]


def _same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("c", _cases("operator"), ids=repr)
def test_operator_form_computes_the_kernel(c):
    prim = REGISTRY[c.prim]
    names = [f"a{i}" for i in range(len(c.inputs))]
    env = dict(zip(names, c.inputs))
    _same(eval(prim.operator.format(*names), {}, env), prim.kernel(*c.inputs, **c.params))


def _keeps_first_input(c):
    """The executor only updates in place when the result keeps the first input's shape and
    dtype: the other cases do not apply (selected here rather than skipped)."""
    want = np.asarray(REGISTRY[c.prim].kernel(*c.inputs, **c.params))
    return want.shape == c.inputs[0].shape and want.dtype == c.inputs[0].dtype


INPLACE_CASES = [c for c in _cases("inplace_operator") if _keeps_first_input(c)]


@pytest.mark.parametrize("c", INPLACE_CASES, ids=repr)
def test_inplace_operator_computes_the_kernel(c):
    prim = REGISTRY[c.prim]
    want = np.asarray(prim.kernel(*c.inputs, **c.params))
    target = c.inputs[0].copy()
    env = {"a": target, "b": c.inputs[1]}
    exec(f"a {prim.inplace_operator} b", {}, env)
    _same(env["a"], want)


def test_operator_facts_are_declared():
    ops = {n: p.operator for n, p in REGISTRY.items() if p.operator}
    assert {"AddV2", "Sub", "Mul", "RealDiv", "Neg"} <= set(ops)


@pytest.mark.parametrize("c", _cases("alias"), ids=repr)
def test_alias_returns_its_input(c):
    (x,) = c.inputs
    _same(REGISTRY[c.prim].kernel(x, **c.params), x)


@pytest.mark.parametrize("c", _cases("fresh"), ids=repr)
def test_fresh_output_shares_no_memory_with_inputs(c):
    out = REGISTRY[c.prim].kernel(*c.inputs, **c.params)
    outs = out if isinstance(out, tuple) else (out,)
    for o in outs:
        for x in c.inputs:
            assert not np.shares_memory(np.asarray(o), x)


@pytest.mark.parametrize("c", _cases("shape_only"), ids=repr)
def test_shape_only_ops_depend_on_the_shape_alone(c):
    prim = REGISTRY[c.prim]
    zeros = np.zeros_like(c.inputs[0])
    _same(prim.kernel(zeros, **c.params), prim.kernel(*c.inputs, **c.params))
