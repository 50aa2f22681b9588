"""rill.keras.ops against Keras 3 itself: every case of ``cases.py`` (dtype, shape and
values, or the same error class), dtype sweeps of the element-wise, reduction and
product ops, and the error classes of invalid calls. Skipped without TensorFlow/Keras.

Run with ``PYTHONPATH=. /work/peers/bin/python -m pytest tests/keras/ops``.
"""

from __future__ import annotations

import numpy as np
import pytest

tensorflow = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import rill  # noqa: E402
from rill.keras import ops as R  # noqa: E402
from tests.keras.keras_compare import assert_matches_keras, dtype_name  # noqa: E402
from tests.keras.ops import cases as C  # noqa: E402
from tests.tf_errors import compare_outcomes  # noqa: E402

K = keras.ops

# Where Keras' TensorFlow backend departs from the NumPy semantics Keras documents (its
# JAX backend follows NumPy), rill follows NumPy; test_ops.py checks these against NumPy.
KERAS_TF_BUGS = {
    ("rot90", "k=2"): "returns the transpose of the right answer",
    ("vstack", "1-D"): "concatenates 1-D inputs instead of stacking them as rows",
    ("concatenate", "axis=None"): "raises instead of flattening",
    ("pad", "scalar pad_width"): "raises for an int or a (before, after) pad_width",
    ("prod", "dtype"): "ignores `dtype`",
    ("argpartition", ""): "returns repeated indices (not a permutation)",
    ("adaptive_*_pool", ""): "raises AttributeError on static shapes",
    ("conv", "channels_first"): "unimplemented on CPU (NCHW)",
    ("linspace", "array start"): "raises Invalid dtype: list",
    ("sparsemax", ""): "the threshold sums all cumulative sums: outputs don't sum to 1",
    ("map_coordinates", "mirror"): "indexes out of range (crashes) at the far edge",
    ("dot_product_attention", "1 key/value head"): "fails to broadcast a single kv head",
}


def _skip_reason(name, args, kwargs):
    if name == "rot90" and kwargs.get("k") == 2:
        return "rot90 k=2"
    if name == "vstack" and np.ndim(args[0][0]) == 1:
        return "vstack 1-D"
    if name == "concatenate" and "axis" in kwargs and kwargs["axis"] is None:
        return "concatenate axis=None"
    if name == "pad" and np.ndim(args[1]) < 2:
        return "pad scalar pad_width"
    if name == "prod" and "dtype" in kwargs:
        return "prod dtype"
    if name in ("argpartition", "sparsemax") or name.startswith("adaptive"):
        return name
    if name == "conv" and kwargs.get("data_format") == "channels_first":
        return "conv channels_first"
    if name == "linspace" and isinstance(args[0], list):
        return "linspace array start"
    if name == "map_coordinates" and kwargs.get("fill_mode") == "mirror":
        return "map_coordinates mirror"
    if name == "dot_product_attention" and args[1].shape[2] == 1:
        return "dot_product_attention 1 key/value head"
    return None


ALL = [(n, a, k, False) for n, a, k in C.CASES] + [(n, a, k, True) for n, a, k in C.IMAGE_CASES]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(ALL)]


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in _flat(item)]
    return [x]


class _Ok(list):
    """A successful outcome (a list, so ``compare_outcomes`` never mistakes it for a
    ``("raise", exc)`` tuple)."""


def _run(fn, *args, **kwargs):
    try:
        return _Ok([fn(*args, **kwargs)])
    except Exception as e:  # compared with the other side's outcome
        return ("raise", e)


def _raised(out):
    return isinstance(out, tuple)


def _as_numpy(x):
    return x.numpy() if hasattr(x, "numpy") else x


def _tol(dtype):
    return (2e-2, 2e-2) if dtype in ("float16", "bfloat16") else (2e-5, 2e-5)


def _match(got, ref, what):
    g, r = _flat(got), _flat(ref)
    assert len(g) == len(r), f"{what}: {len(g)} outputs (rill) vs {len(r)} (Keras)"
    for a, b in zip(g, r):
        if isinstance(b, (int, float, bool)) and not hasattr(b, "dtype"):
            assert a == b, f"{what}: {a} vs {b}"
            continue
        rtol, atol = _tol(dtype_name(b))
        a, b = _as_numpy(a), _as_numpy(b)
        assert_matches_keras(a, b, rtol=rtol, atol=atol, err_msg=what)


@pytest.mark.parametrize("case", ALL, ids=IDS)
def test_case_matches_keras(case):
    name, args, kwargs, image = case
    reason = _skip_reason(name, args, kwargs)
    if reason:
        pytest.skip(f"Keras' TF backend bug: {reason} (rill follows NumPy)")
    got = _run(getattr(R.image if image else R, name), *args, **kwargs)
    ref = _run(getattr(K.image if image else K, name), *args, **kwargs)
    if compare_outcomes(got, ref, name):
        return
    got, ref = got[0], ref[0]
    if name == "eigh":  # eigenvectors are defined up to sign: compare values and A v = v w
        _match(got[0], ref[0], name)
        w, v = (_as_numpy(t) for t in got)
        np.testing.assert_allclose(args[0] @ v, v * w, rtol=1e-4, atol=1e-4)
        return
    _match(got, ref, name)


def test_known_keras_bugs_are_real():
    """The departures listed above still exist in this Keras (else drop them)."""
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    assert not np.array_equal(K.rot90(x, 2), np.rot90(x, 2))
    assert K.vstack([x[0], x[1]]).shape == (6,)
    assert float(K.sum(K.sparsemax(np.array([[0.1, 0.2, 0.3, 0.4]], np.float32)))) != 1.0
    assert K.prod(np.ones(2, np.int32), dtype="float32").dtype == tensorflow.int32


# ------------------------------------------------------------------------ dtype sweeps
DTYPES = ["bool", "uint8", "uint16", "uint32", "int8", "int16", "int32", "int64", "bfloat16",
          "float16", "float32", "float64"]  # fmt: skip


def _array(dtype, seed=0):
    r = np.random.default_rng(seed)
    if dtype == "bool":
        return r.integers(0, 2, (2, 3)).astype(bool)
    if dtype.startswith("uint"):
        return r.integers(1, 5, (2, 3)).astype(dtype)
    if dtype.startswith("int"):
        return r.integers(-3, 5, (2, 3)).astype(dtype)
    if dtype == "bfloat16":
        import ml_dtypes

        return r.uniform(0.2, 2.0, (2, 3)).astype(ml_dtypes.bfloat16)
    return r.uniform(0.2, 2.0, (2, 3)).astype(dtype)


UNARY_SWEEP = [
    "abs", "arctan", "ceil", "cos", "cosh", "exp", "expm1", "fabs", "floor", "log", "log1p",
    "sign", "sin", "sqrt", "square", "tanh", "trunc", "cbrt", "deg2rad", "isnan", "isfinite",
    "logical_not", "sum", "prod", "mean", "max", "std", "var", "argmax", "median", "cumsum",
    "count_nonzero", "nansum", "nanmean", "sort", "relu", "sigmoid", "softplus", "softmax",
    "gelu", "erf", "logsumexp", "norm", "zeros_like", "full_like", "tril", "trace", "average",
]  # fmt: skip
# Keras' TF kernels refuse some dtypes (uint negation, int reciprocal...): either both
# raise or rill, more lenient, computes; only dtype/value agreement is required then.


@pytest.mark.parametrize("name", UNARY_SWEEP)
def test_unary_dtype_sweep(name):
    extra = (2,) if name == "full_like" else ()
    for d in DTYPES:
        x = _array(d)
        ref = _run(getattr(K, name), x, *extra)
        if _raised(ref):
            continue
        _match(getattr(R, name)(x, *extra), ref[0], f"{name}[{d}]")


BINARY_SWEEP = [
    "add", "subtract", "multiply", "divide", "floor_divide", "mod", "power", "maximum",
    "minimum", "equal", "less", "arctan2", "hypot", "logaddexp", "fmax", "heaviside",
    "divide_no_nan", "logical_and", "bitwise_and", "where", "matmul", "dot", "outer",
    "concatenate", "append", "isclose",
]  # fmt: skip
OPERANDS = DTYPES + ["pyint", "pyfloat", "pybool"]
# every pair for the ops that define the promotion; a representative subset for the rest
FULL_SWEEP = {"add", "multiply", "divide", "maximum", "equal", "power", "arctan2", "where"}
FEW = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "pyint", "pyfloat"]


def _operand(d, seed):
    return (
        {"pyint": 2, "pyfloat": 1.5, "pybool": True}.get(d)
        if d.startswith("py")
        else (_array(d, seed))
    )


@pytest.mark.parametrize("name", BINARY_SWEEP)
def test_binary_dtype_sweep(name):
    """Keras' promotion lattice (with weak Python scalars for add/multiply/...) over every
    pair of operand types."""
    cond = _array("bool", 9)
    operands = OPERANDS if name in FULL_SWEEP else FEW
    for a in operands:
        for b in operands:
            if a.startswith("py") and b.startswith("py"):
                continue
            x, y = _operand(a, 1), _operand(b, 2)
            if name in ("matmul", "dot", "outer", "concatenate", "append") and (
                np.isscalar(x) or np.isscalar(y)
            ):
                continue
            if name in ("matmul", "dot"):
                y = y.T.copy()
            if name == "concatenate":
                ref = _run(K.concatenate, [x, y])
                got = _run(R.concatenate, [x, y])
            elif name == "where":
                ref = _run(K.where, cond, x, y)
                got = _run(R.where, cond, x, y)
            else:
                ref = _run(getattr(K, name), x, y)
                got = _run(getattr(R, name), x, y)
            if _raised(ref):
                continue
            assert not _raised(got), f"{name}[{a},{b}]: rill raised {got[1]!r}"
            _match(got[0], ref[0], f"{name}[{a},{b}]")


# ---------------------------------------------------------------------------- errors
F, M, V, T3 = C.F, C.M, C.V, C.T3
ERRORS = [
    ("reshape", (F, (4, 4)), {}), ("squeeze", (F,), {"axis": 0}),
    ("moveaxis", (T3, (0, 1), (2,)), {}), ("linspace", (0, 1, -1), {}),
    ("searchsorted", (M, V), {}), ("cholesky", (C.R34,), {}), ("det", (V,), {}),
    ("norm", (F,), {"ord": "bad"}), ("qr", (M,), {"mode": "bad"}),
    ("solve", (C.SPD, np.ones(4, np.float32)), {}), ("glu", (F,), {}),
    ("depth_to_space", (C.T4, 1), {}), ("binary_crossentropy", (C.P, C.P[:1]), {}),
    ("categorical_crossentropy", (C.ONEHOT, C.LOGITS[:, :4]), {}),
    ("dot_product_attention", (F, F, F), {}), ("fft", (F,), {}),
    ("stft", (np.ones(16, np.int32), 4, 2, 4), {}), ("stft", (np.ones(16, np.float32), 4, 0, 4), {}),
    ("scatter_update", (F, [[0, 0]], [1.0]), {"reduction": "bad"}),
    ("segment_sum", (C.D5, C.SEG[:3]), {}), ("unfold", (F, 2), {}), ("fold", (F, 2, 2), {}),
    ("cdist", (V, V), {}), ("view_as_complex", (F,), {}), ("gcd", (F, F), {}),
    ("ldexp", (F, F), {}), ("rot90", (V,), {}), ("rot90", (F,), {"axes": (0, 0)}),
    ("diff", (F,), {"n": -1}), ("take_along_axis", (F, np.zeros((2, 2), np.int64)), {}),
    ("unravel_index", (np.array([1]), (None, 2)), {}), ("multi_hot", (np.array([1]),), {}),
    ("normalize", (F,), {"order": 0}),
    ("histogram", (F,), {}), ("vander", (F,), {}), ("lstsq", (M, np.ones(4, np.float32)), {}),
    ("correlate", (V, V), {"mode": "bad"}), ("scan", (lambda c, x: (c, x), 0.0), {}),
    ("max_pool", (V, 2), {}), ("separable_conv", (C.T4[:, None], F, F), {}),
]  # fmt: skip
IMAGE_ERRORS = [
    ("resize", (C.RGB, (2,)), {}), ("resize", (C.RGB, (2, 0)), {}),
    ("resize", (C.RGB, (2, 2)), {"interpolation": "bad"}),
    ("resize", (C.RGB, (2, 2)), {"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True}),
    ("affine_transform", (C.RGB, np.ones(8, np.float32)), {"interpolation": "cubic"}),
    ("affine_transform", (C.RGB, np.ones(8, np.float32)), {"fill_mode": "bad"}),
    ("affine_transform", (F, np.ones(8, np.float32)), {}),
    ("pad_images", (C.RGB, 1, 1), {}), ("crop_images", (C.RGB, 1, 1), {}),
    ("rgb_to_grayscale", (C.RGB[..., :2],), {}), ("rgb_to_hsv", (np.ones((2, 2, 3), np.int32),), {}),
    ("map_coordinates", (M, np.ones((3, 2), np.float32), 1), {}),
    ("extract_patches", (C.RGB, (1, 2, 3, 4)), {}), ("extract_patches", (C.RGB, "a"), {}),
    ("scale_and_translate", (C.RGB, (2, 2, 2, 3), [1.0, 1.0], [0.0, 0.0], (1, 2), "bad"), {}),
    ("perspective_transform", (C.RGB, np.ones((3, 2), np.float32), np.ones((4, 2), np.float32)),
     {}),
]  # fmt: skip


@pytest.mark.parametrize(
    "case",
    [(*c, False) for c in ERRORS] + [(*c, True) for c in IMAGE_ERRORS],
    ids=[f"{c[0]}-{i}" for i, c in enumerate(ERRORS + IMAGE_ERRORS)],
)
def test_error_classes_match_keras(case):
    name, args, kwargs, image = case
    ref = _run(getattr(K.image if image else K, name), *args, **kwargs)
    got = _run(getattr(R.image if image else R, name), *args, **kwargs)
    assert _raised(ref), f"{name}: Keras did not raise"
    assert compare_outcomes(got, ref, name)


def test_result_type_matches_keras_everywhere():
    from rill.keras.ops._dtypes import result_type

    kinds = ["bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
             "bfloat16", "float16", "float32", "float64", "complex64", "complex128", int, float,
             bool, complex]  # fmt: skip
    for a in kinds:
        for b in kinds:
            assert result_type(a, b) == keras.backend.result_type(a, b), (a, b)
    for triple in [("int8", "uint8", float), (int, "uint16", "int8"), ("bfloat16", int, bool)]:
        assert result_type(*triple) == keras.backend.result_type(*triple)


def test_symbolic_outputs_match_keras():
    """On keras.Input, rill's ops give Keras' output shapes and dtypes."""
    calls = [
        ("add", lambda x: (x, 1.5)), ("sum", lambda x: (x,)), ("mean", lambda x: (x,)),
        ("matmul", lambda x: (x, np.ones((3, 4), np.float32))), ("argmax", lambda x: (x,)),
        ("expand_dims", lambda x: (x, 1)), ("transpose", lambda x: (x,)),
        ("concatenate", lambda x: ([x, x],)), ("one_hot", lambda x: (K.cast(x, "int32"), 4)),
        ("softmax", lambda x: (x,)), ("cumsum", lambda x: (x,)), ("sqrt", lambda x: (x,)),
    ]  # fmt: skip
    for name, build in calls:
        kx = keras.Input((3,))
        rx = rill.keras.Input((3,))
        kargs = build(kx)
        rargs = tuple(rx if a is kx else ([rx, rx] if isinstance(a, list) else a) for a in kargs)
        if name == "one_hot":
            rargs = (R.cast(rx, "int32"), 4)
        kout, rout = getattr(K, name)(*kargs), getattr(R, name)(*rargs)
        assert rout.shape == kout.shape, name  # both plain tuples
        assert rout.dtype == kout.dtype, name  # both dtype names
