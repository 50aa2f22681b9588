"""Registry-wide checks: every primitive has cases; shape rules agree with kernels;
every differentiable primitive's gradient matches central finite differences (float64)."""

from __future__ import annotations

import ast
import importlib
import inspect
import pathlib
import textwrap

import numpy as np
import pytest

import rill as tf
import tests.gradcheck as gc
from rill.core.dispatch import REGISTRY, AVal, bind
from rill.core.tensor import wrap
from tests.gradcheck import ORACLES
from tests.ops.cases import CASES, GRAD_CHECKED_BY, skip_if_dependency_missing


def _bind_or_skip(prim, inputs, params):
    try:
        return bind(prim, inputs, params)
    except tf.errors.UnimplementedError as e:
        skip_if_dependency_missing(prim.name, e)  # else: a real failure
        raise


for _p in sorted(pathlib.Path(__file__).parent.glob("cases_*.py")):
    importlib.import_module(f"tests.ops.{_p.stem}")

ALL_CASES = [c for cs in CASES.values() for c in cs]
GRAD_CASES = [c for c in ALL_CASES if c.grad and REGISTRY[c.prim].grad is not None]


# Graph inputs are fed by the executor and have no kernel to run.
NO_KERNEL = {"Placeholder"}


def test_every_primitive_has_a_case():
    missing = sorted(n for n in REGISTRY if n not in CASES and n not in NO_KERNEL)
    assert not missing, f"primitives without test cases in tests/ops/cases_*.py: {missing}"


def _wrt(c):
    """Indices of the inputs the finite-difference check perturbs (float inputs by default)."""
    if c.wrt is not None:
        return list(c.wrt)
    return [i for i, a in enumerate(c.inputs) if np.asarray(a).dtype.kind == "f"]


def test_every_gradient_case_perturbs_a_real_input():
    """A gradient case without a float input to perturb would check nothing and pass."""
    empty = [repr(c) for c in GRAD_CASES if not _wrt(c)]
    assert not empty, f"gradient cases with no real (float) input to perturb: {empty}"
    wrong = [
        f"{c!r} input {i}: {np.asarray(c.inputs[i]).dtype}"
        for c in GRAD_CASES
        for i in _wrt(c)
        if np.asarray(c.inputs[i]).dtype != np.float64
    ]
    assert not wrong, f"gradient cases must perturb float64 inputs: {wrong}"


def test_every_differentiable_primitive_has_a_gradient_case():
    missing = sorted(
        n for n, p in REGISTRY.items()
        if p.grad is not None and not any(c.grad for c in CASES.get(n, [])) and n not in GRAD_CHECKED_BY
    )  # fmt: skip
    assert not missing, f"differentiable primitives without a gradient case: {missing}"


def _called_names(fn):
    """Names of the functions ``fn``'s own body calls (``f(...)`` and ``m.f(...)``)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    return {
        node.func.id if isinstance(node.func, ast.Name) else node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))
    }


def test_gradients_checked_elsewhere_name_real_gradient_tests():
    root = pathlib.Path(__file__).parent.parent.parent
    assert GRAD_CHECKED_BY, "expected grad_checked_by entries (TensorList*, complex parts)"
    for prim, ref in GRAD_CHECKED_BY.items():
        assert prim in REGISTRY and REGISTRY[prim].grad is not None, f"{prim}: not differentiable"
        path, _, name = ref.partition("::")
        assert (root / path).exists(), f"{prim}: {path} does not exist"
        mod = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        fn = getattr(mod, name, None)
        assert name.startswith("test") and inspect.isfunction(fn), f"{prim}: no test {ref}"
        mod_marks = getattr(mod, "pytestmark", [])
        mod_marks = mod_marks if isinstance(mod_marks, list) else [mod_marks]
        marks = {m.name for m in [*getattr(fn, "pytestmark", []), *mod_marks]}
        assert not marks & {"skip", "skipif", "xfail"}, f"{prim}: {ref} is marked {marks}"
        oracles = {
            n for n in _called_names(fn) & ORACLES if getattr(mod, n, None) is getattr(gc, n)
        }
        assert oracles, (
            f"{prim}: {ref} does not compare a gradient against finite differences or a "
            f"closed form (it calls, imported by name, none of tests.gradcheck's {sorted(ORACLES)})"
        )


def test_cases_name_registered_primitives():
    unknown = sorted(n for n in CASES if n not in REGISTRY)
    assert not unknown, f"cases for unknown primitives: {unknown}"


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


@pytest.mark.parametrize("c", ALL_CASES, ids=repr)
def test_shape_rule_matches_kernel(c):
    prim = REGISTRY[c.prim]
    inputs = tuple(wrap(x) for x in c.inputs)
    outs = _as_tuple(_bind_or_skip(prim, inputs, c.params))
    avals = _as_tuple(prim.shape_rule(*[AVal.of(t) for t in inputs], **c.params))
    assert len(avals) == len(outs)
    for a, o in zip(avals, outs):
        assert a.dtype is o.dtype, f"{c.prim}: rule dtype {a.dtype} != kernel dtype {o.dtype}"
        assert a.shape.is_compatible_with(o.shape), f"{c.prim}: rule shape {a.shape} vs {o.shape}"
        if a.shape.is_fully_defined():
            assert a.shape == o.shape


def _weights(outs, rng):
    return [rng.standard_normal(o.shape) if o.dtype.is_floating else None for o in outs]


def _objective(prim, arrays, params, weights):
    outs = _as_tuple(bind(prim, tuple(wrap(a) for a in arrays), params))
    return sum(float(np.sum(o.numpy() * w)) for o, w in zip(outs, weights) if w is not None)


@pytest.mark.parametrize("c", GRAD_CASES, ids=repr)
def test_gradient_matches_finite_differences(c):
    _check_gradient(c)


# A rule declared ``grad_takes_none`` receives None for an output no gradient reached:
# each output is differentiated alone as well, so every such None reaches the rule.
NONE_CASES = [
    (c, k)
    for c in GRAD_CASES
    if REGISTRY[c.prim].grad_takes_none
    for k in range(REGISTRY[c.prim].n_out)
]


@pytest.mark.parametrize(
    "c,k", NONE_CASES, ids=lambda x: repr(x) if not isinstance(x, int) else f"output{x}"
)
def test_gradient_of_each_output_alone(c, k):
    _check_gradient(c, only=k)


def test_grad_takes_none_is_declared_somewhere():
    assert NONE_CASES, "no primitive declares grad_takes_none: the check above checks nothing"


def _check_gradient(c, only=None):
    """The tape gradient of a random weighting of the outputs (of output ``only`` alone if
    given) against central finite differences in every float input."""
    prim = REGISTRY[c.prim]
    rng = np.random.default_rng(1)
    arrays = [np.array(x, copy=True) for x in c.inputs]
    wrt = _wrt(c)
    assert wrt, f"{c}: no real (float) input to perturb: the check would compare nothing"
    for i in wrt:
        assert arrays[i].dtype == np.float64, f"{c}: input {i} must be float64 for the check"
    outs = _as_tuple(_bind_or_skip(prim, tuple(wrap(a) for a in arrays), c.params))
    weights = _weights(outs, rng)
    if only is not None:
        weights = [w if k == only else None for k, w in enumerate(weights)]
    assert any(w is not None for w in weights), f"{c}: no float output to differentiate"

    tensors = [wrap(a) for a in arrays]
    with tf.GradientTape() as tape:
        for i in wrt:
            tape.watch(tensors[i])
        outs = _as_tuple(bind(prim, tuple(tensors), c.params))
        loss = tf.add_n(
            [
                tf.reduce_sum(o * wrap(w.astype(o.dtype.np)))
                for o, w in zip(outs, weights)
                if w is not None
            ]
        )
    grads = tape.gradient(loss, [tensors[i] for i in wrt], unconnected_gradients="zero")

    eps = c.eps
    for i, g in zip(wrt, grads):
        num = np.zeros_like(arrays[i])
        flat = arrays[i].reshape(-1)
        for k in range(flat.size):
            old = flat[k]
            flat[k] = old + eps
            fp = _objective(prim, arrays, c.params, weights)
            flat[k] = old - eps
            fm = _objective(prim, arrays, c.params, weights)
            flat[k] = old
            num.reshape(-1)[k] = (fp - fm) / (2 * eps)
        np.testing.assert_allclose(
            g.numpy(), num, rtol=c.rtol, atol=c.atol, err_msg=f"{c}: gradient wrt input {i}"
        )
