"""``tf.linalg``: re-exports of the ops registered under this namespace, and the
LinearOperator classes (loaded on first access, so ``import rill`` stays fast)."""

import importlib as _importlib

import rill.ops as _ops  # noqa: F401 - registers the ops
from rill.ops._op import populate as _populate

_populate(globals(), "linalg")
del _populate

_OPERATORS = {
    "LinearOperator": "linear_operator",
    "LinearOperatorFullMatrix": "linear_operator_basic",
    "LinearOperatorDiag": "linear_operator_basic",
    "LinearOperatorIdentity": "linear_operator_basic",
    "LinearOperatorScaledIdentity": "linear_operator_basic",
    "LinearOperatorZeros": "linear_operator_basic",
    "LinearOperatorLowerTriangular": "linear_operator_basic",
    "LinearOperatorHouseholder": "linear_operator_basic",
    "LinearOperatorPermutation": "linear_operator_basic",
    "LinearOperatorTridiag": "linear_operator_basic",
    "LinearOperatorToeplitz": "linear_operator_basic",
    "LinearOperatorCirculant": "linear_operator_circulant",
    "LinearOperatorCirculant2D": "linear_operator_circulant",
    "LinearOperatorCirculant3D": "linear_operator_circulant",
    "LinearOperatorComposition": "linear_operator_combined",
    "LinearOperatorInversion": "linear_operator_combined",
    "LinearOperatorAdjoint": "linear_operator_combined",
    "LinearOperatorBlockDiag": "linear_operator_combined",
    "LinearOperatorBlockLowerTriangular": "linear_operator_combined",
    "LinearOperatorKronecker": "linear_operator_combined",
    "LinearOperatorLowRankUpdate": "linear_operator_combined",
}


def __getattr__(name):
    if name == "experimental":
        return _importlib.import_module("rill.linalg.experimental")
    mod = _OPERATORS.get(name)
    if mod is None:
        raise AttributeError(f"module 'rill.linalg' has no attribute {name!r}")
    return getattr(_importlib.import_module(f"rill.linalg.{mod}"), name)


def __dir__():
    return sorted(list(globals()) + list(_OPERATORS) + ["experimental"])
