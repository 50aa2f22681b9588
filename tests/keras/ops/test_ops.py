"""rill.keras.ops without Keras: every name present, every case running eagerly, inside
rill.function and on KerasTensors (as nodes of a functional model), and values checked
against NumPy/SciPy references."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import rill
from rill import keras
from rill.keras import ops
from tests.keras.ops import cases as C

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
API = json.load(open(os.path.join(ROOT, "tools", "api", "tf-2.21.json")))["namespaces"]
ALL_CASES = [(n, a, k, False) for n, a, k in C.CASES] + [
    (n, a, k, True) for n, a, k in C.IMAGE_CASES
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(ALL_CASES)]


def _fn(name, image):
    return getattr(ops.image if image else ops, name)


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in _flat(item)]
    return [x]


def _close(a, b, what, tol=1e-5):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs {b.shape}"
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        np.testing.assert_allclose(a.astype(complex), b.astype(complex), rtol=tol, atol=tol,
                                   err_msg=what, equal_nan=True)  # fmt: skip
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


# ------------------------------------------------------------------------- namespaces
@pytest.mark.parametrize(
    "ns", ["keras.ops", "keras.ops.numpy", "keras.ops.nn", "keras.ops.linalg", "keras.ops.image"]
)
def test_every_keras_name_is_present(ns):
    mod = rill
    for part in ns.split("."):
        mod = getattr(mod, part)
    missing = [n for n in API[ns] if not hasattr(mod, n)]
    assert not missing, f"rill.{ns} lacks {missing}"


def test_cases_cover_the_namespace():
    """Every op with array inputs has a case here (control flow and converters are tested
    below, by hand)."""
    by_hand = {
        "associative_scan", "cond", "convert_to_numpy", "custom_gradient", "dtype", "fori_loop",
        "is_tensor", "map", "scan", "shape", "switch", "vectorize", "vectorized_map",
        "while_loop", "jvp", "eig", "lu_factor", "qr", "svd", "image", "linalg", "nn", "numpy",
        "elastic_transform",
    }  # fmt: skip
    covered = {c[0] for c in ALL_CASES}
    names = set(API["keras.ops"]) | set(API["keras.ops.image"])
    assert sorted(names - covered - by_hand) == []


# --------------------------------------------------------- eager, traced and symbolic
@pytest.mark.parametrize("case", ALL_CASES, ids=IDS)
def test_case_eager_traced_and_symbolic(case):
    name, args, kwargs, image = case
    fn = _fn(name, image)
    eager = fn(*args, **kwargs)
    arrays = [a for a in args if isinstance(a, np.ndarray)]

    def with_values(values):
        it = iter(values)
        return [next(it) if isinstance(a, np.ndarray) else a for a in args]

    traced = rill.function(lambda *v: fn(*with_values(v), **kwargs))(*arrays)
    for e, t in zip(_flat(eager), _flat(traced)):
        _close(e, t, f"{name}: rill.function")
    if not arrays:
        return
    inputs = [keras.Input(batch_shape=a.shape, dtype=str(a.dtype)) for a in arrays]
    symbolic = fn(*with_values(inputs), **kwargs)
    flat_sym = _flat(symbolic)
    if not all(isinstance(s, keras.KerasTensor) for s in flat_sym):
        return  # a Python value (ndim)
    for e, s in zip(_flat(eager), flat_sym):
        assert s.dtype == e.dtype, f"{name}: symbolic dtype {s.dtype} vs eager {e.dtype}"
        static = list(s.shape)  # a KerasTensor's shape is a tuple
        assert all(d is None or d == n for d, n in zip(static, e.shape.as_list())), (
            f"{name}: symbolic shape {static} vs eager {e.shape}"
        )
    model = keras.Model(inputs, symbolic)
    feed = [rill.constant(a) for a in arrays]
    replay = model(feed if len(feed) > 1 else feed[0])
    for e, r in zip(_flat(eager), _flat(replay)):
        _close(e, r, f"{name}: functional model")


def test_keras_op_nodes_are_named_like_keras():
    x = keras.Input((3,))
    y = ops.sum(ops.sin(x) * 2, axis=1)
    op = y._keras_history[0]
    assert op.name.startswith("sum") and op.keras_class == "Sum"
    assert op.keras_module == "keras.src.ops.numpy"
    assert ops.shape(x) == (None, 3)
    assert ops.ndim(x) == 2


# ------------------------------------------------------------------------ references
F, F2, P, G, I32 = C.F, C.F2, C.P, C.G, C.I32
REF_UNARY = {
    "abs": np.abs, "arccos": np.arccos, "arcsin": np.arcsin, "arctan": np.arctan,
    "arcsinh": np.arcsinh, "arctanh": np.arctanh, "ceil": np.ceil, "cos": np.cos,
    "cosh": np.cosh, "deg2rad": np.deg2rad, "exp": np.exp, "exp2": np.exp2, "expm1": np.expm1,
    "fabs": np.fabs, "floor": np.floor, "log": np.log, "log10": np.log10, "log1p": np.log1p,
    "log2": np.log2, "negative": np.negative, "rad2deg": np.rad2deg, "reciprocal": np.reciprocal,
    "round": np.round, "sign": np.sign, "sin": np.sin, "sinc": np.sinc, "sinh": np.sinh,
    "sqrt": np.sqrt, "square": np.square, "tan": np.tan, "tanh": np.tanh, "trunc": np.trunc,
    "cbrt": np.cbrt, "i0": np.i0, "signbit": np.signbit, "isfinite": np.isfinite,
    "isinf": np.isinf, "isnan": np.isnan, "isneginf": np.isneginf, "isposinf": np.isposinf,
    "ravel": np.ravel, "logical_not": np.logical_not,
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(REF_UNARY))
def test_unary_against_numpy(name):
    x = C._DOMAIN.get(name, F)
    got = getattr(ops, name)(x)
    _close(got, REF_UNARY[name](x), name)
    _close(getattr(ops, name)(C.INF) if name in ("isfinite", "isinf", "isnan", "isneginf",
                                                  "isposinf", "signbit") else got,
           REF_UNARY[name](C.INF) if name in ("isfinite", "isinf", "isnan", "isneginf",
                                              "isposinf", "signbit") else REF_UNARY[name](x),
           name)  # fmt: skip


def test_i0_wide_range():
    x = np.array([-40.0, -16.0, -3.0, 0.0, 0.5, 3.7, 14.9, 15.0, 15.1, 30.0, 100.0])
    np.testing.assert_allclose(ops.i0(x), np.i0(x), rtol=1e-12)


REF_BINARY = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
    "maximum": np.maximum, "minimum": np.minimum, "arctan2": np.arctan2, "hypot": np.hypot,
    "logaddexp": np.logaddexp, "logaddexp2": np.logaddexp2, "fmax": np.fmax, "fmin": np.fmin,
    "heaviside": np.heaviside, "mod": np.mod, "fmod": np.fmod, "floor_divide": np.floor_divide,
    "equal": np.equal, "less": np.less, "greater_equal": np.greater_equal, "outer": np.outer,
    "kron": np.kron, "logical_xor": np.logical_xor, "isclose": np.isclose,
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(REF_BINARY))
def test_binary_against_numpy(name):
    _close(getattr(ops, name)(F, F2), REF_BINARY[name](F, F2), name)


@pytest.mark.parametrize("name", ["gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor",
                                  "left_shift", "right_shift"])  # fmt: skip
def test_integer_binary_against_numpy(name):
    a = np.array([[12, -18, 7], [0, 5, 100]], np.int32)
    b = np.array([[8, 12, 3], [4, 0, 2]], np.int32)
    ref = getattr(np, name)(a, b)
    _close(getattr(ops, name)(a, b), ref, name)


REF_REDUCE = {
    "sum": np.sum, "prod": np.prod, "mean": np.mean, "max": np.max, "min": np.min,
    "amax": np.amax, "amin": np.amin, "std": np.std, "var": np.var, "median": np.median,
    "ptp": np.ptp, "argmax": np.argmax, "argmin": np.argmin, "cumsum": np.cumsum,
    "cumprod": np.cumprod, "count_nonzero": np.count_nonzero, "nansum": np.nansum,
    "nanmean": np.nanmean, "nanmax": np.nanmax, "nanmin": np.nanmin, "nanstd": np.nanstd,
    "nanvar": np.nanvar, "nanprod": np.nanprod, "nanmedian": np.nanmedian,
    "nanargmax": lambda x, axis: _nan_arg(np.nanargmax, x, axis),
    "nanargmin": lambda x, axis: _nan_arg(np.nanargmin, x, axis), "nancumsum": np.nancumsum,
    "nancumprod": np.nancumprod, "sort": np.sort, "argsort": np.argsort,
}  # fmt: skip


def _nan_arg(fn, x, axis):
    """NumPy's nanargmax/nanargmin, with Keras' -1 for all-NaN slices."""
    all_nan = np.all(np.isnan(x), axis=axis)
    filled = np.where(np.isnan(x), 0.0, x)
    safe = np.where(np.expand_dims(all_nan, axis) if axis is not None else all_nan, filled, x)
    return np.where(all_nan, -1, fn(safe, axis=axis))


@pytest.mark.parametrize("name", sorted(REF_REDUCE))
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_reductions_against_numpy(name, axis):
    x = C.NAN if name.startswith("nan") else F
    if name in ("sort", "argsort") and axis is None:
        axis = -1
    with np.errstate(all="ignore"):
        ref = REF_REDUCE[name](x, axis=axis)
    _close(getattr(ops, name)(x, axis=axis), ref, name)


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("axis", [None, 1, (0, 2)])
def test_quantile_against_numpy(method, axis):
    x = C.T3
    q = [0.1, 0.5, 0.95]
    ref = np.quantile(x, q, axis=axis, method=method, keepdims=True)
    _close(ops.quantile(x, q, axis=axis, method=method, keepdims=True), ref, "quantile", 1e-5)
    x = C.NAN
    _close(ops.nanquantile(x, 0.3, axis=1, method=method),
           np.nanquantile(x, 0.3, axis=1, method=method), "nanquantile")  # fmt: skip


def test_creation_and_shape_ops_against_numpy():
    _close(ops.linspace(2.0, 3.0, 5, endpoint=False), np.linspace(2.0, 3.0, 5, endpoint=False),
           "linspace")  # fmt: skip
    out, step = ops.linspace(0, 1, 5, retstep=True)
    assert float(step) == 0.25
    _close(ops.linspace([0.0, 1.0], [1.0, 3.0], 3, axis=1),
           np.linspace([0.0, 1.0], [1.0, 3.0], 3, axis=1), "linspace axis")  # fmt: skip
    _close(ops.logspace(0, 2, 3, base=2.0), np.logspace(0, 2, 3, base=2.0), "logspace")
    _close(ops.geomspace(1, 1000, 4), np.geomspace(1, 1000, 4), "geomspace", 1e-5)
    for w in ("bartlett", "blackman", "hamming", "hanning"):
        _close(getattr(ops, w)(7), getattr(np, w)(7), w, 1e-6)
    _close(ops.kaiser(8, 3.0), np.kaiser(8, 3.0), "kaiser", 1e-6)
    _close(ops.tri(3, 4, k=1), np.tri(3, 4, k=1), "tri")
    _close(ops.eye(3, 4, k=-1), np.eye(3, 4, k=-1), "eye")
    for k in range(4):
        _close(ops.rot90(C.T3, k, axes=(2, 0)), np.rot90(C.T3, k, axes=(2, 0)), f"rot90 {k}")
    _close(ops.vstack([C.V3, C.V3b]), np.vstack([C.V3, C.V3b]), "vstack")
    _close(ops.hstack([C.F, C.F2]), np.hstack([C.F, C.F2]), "hstack")
    _close(ops.dstack([C.V3, C.V3b]), np.dstack([C.V3, C.V3b]), "dstack")
    for a, b in zip(ops.array_split(C.V, 3), np.array_split(C.V, 3)):
        _close(a, b, "array_split")
    _close(ops.pad(F, 1), np.pad(F, 1), "pad")
    _close(ops.pad(F, ((1, 2), (0, 1)), mode="symmetric"),
           np.pad(F, ((1, 2), (0, 1)), mode="symmetric"), "pad symmetric")  # fmt: skip
    _close(ops.take_along_axis(C.T3, np.argsort(C.T3, 1), 1),
           np.take_along_axis(C.T3, np.argsort(C.T3, 1), 1), "take_along_axis")  # fmt: skip
    _close(ops.diagonal(C.T3, 1, 2, 0), np.diagonal(C.T3, 1, 2, 0), "diagonal")
    _close(ops.trace(C.T3, -1, 1, 2), np.trace(C.T3, -1, 1, 2), "trace")
    _close(ops.concatenate([F, F2], axis=None), np.concatenate([F, F2], axis=None), "concat")
    _close(ops.prod(I32, dtype="float32"), np.prod(I32).astype(np.float32), "prod dtype")
    _close(ops.select([F > 0.5, F < 0], [F, F2], 9.0),
           np.select([F > 0.5, F < 0], [F, F2], 9.0), "select")  # fmt: skip
    _close(ops.unravel_index(np.array([5, 7, 1]), (3, 4)),
           np.unravel_index(np.array([5, 7, 1]), (3, 4)), "unravel_index")  # fmt: skip


def test_sorting_and_searching_against_numpy():
    v = C.V
    part = ops.argpartition(v, 2).numpy()
    assert sorted(part) == list(range(5))
    assert v[part[:3]].max() <= v[part[3:]].min() and v[part[2]] == np.sort(v)[2]
    for side in ("left", "right"):
        s = np.array([0.5, 1.0, 1.0, 2.0], np.float32)
        _close(ops.searchsorted(s, np.array([1.0, 0.1, 3.0], np.float32), side=side),
               np.searchsorted(s, [1.0, 0.1, 3.0], side=side), "searchsorted")  # fmt: skip
    _close(ops.digitize(v, [-1.0, 0.0, 1.0]), np.digitize(v, [-1.0, 0.0, 1.0]), "digitize")
    counts, edges = ops.histogram(v, bins=4)
    rc, re = np.histogram(v, bins=4)
    _close(counts, rc, "histogram counts")
    _close(edges, re, "histogram edges")
    x = np.array([3, 1, 3, 2, 1, 5])
    got = ops.unique(x, return_index=True, return_inverse=True, return_counts=True)
    for g, r in zip(got, np.unique(x, return_index=True, return_inverse=True,
                                   return_counts=True)):  # fmt: skip
        _close(g, r, "unique")
    rows = np.array([[1, 2], [0, 5], [1, 2], [0, 1]])
    got = ops.unique(rows, axis=0, return_counts=True)
    for g, r in zip(got, np.unique(rows, axis=0, return_counts=True)):
        _close(g, r, "unique axis")
    _close(ops.unique(x, size=6, fill_value=-1), [1, 2, 3, 5, -1, -1], "unique size")
    _close(ops.bincount(np.array([[0, 1, 1], [2, 2, 0]])), [[1, 2, 0], [1, 0, 2]], "bincount 2d")


def test_linear_algebra_against_numpy():
    _close(ops.matmul(C.T3, C.R42), np.matmul(C.T3, C.R42), "matmul")
    _close(ops.matmul(C.V3, C.M), np.matmul(C.V3, C.M), "matmul vector")
    _close(ops.dot(C.T3, C.R42), np.dot(C.T3, C.R42), "dot", 1e-5)
    _close(ops.tensordot(C.T3, C.R34, axes=([1, 2], [0, 1])),
           np.tensordot(C.T3, C.R34, axes=([1, 2], [0, 1])), "tensordot", 1e-5)  # fmt: skip
    _close(ops.einsum("bij,jk->bik", C.T3, C.R42), np.einsum("bij,jk->bik", C.T3, C.R42),
           "einsum", 1e-5)  # fmt: skip
    _close(ops.cross(C.F, C.F2), np.cross(C.F, C.F2), "cross")
    _close(ops.cross(C.F[:, :2], C.F2[:, :2]), np.cross(C.F[:, :2], C.F2[:, :2]), "cross 2")
    for mode in ("valid", "same", "full"):
        _close(ops.correlate(C.V, C.V3, mode=mode), np.correlate(C.V, C.V3, mode=mode), mode,
               1e-5)  # fmt: skip
    _close(ops.diff(C.T3, n=2, axis=1), np.diff(C.T3, n=2, axis=1), "diff")
    _close(ops.trapezoid(C.F, x=C.V3, axis=1), np.trapezoid(C.F, x=C.V3, axis=1), "trapezoid")
    _close(ops.vander(C.V3, 4), np.vander(C.V3, 4), "vander", 1e-5)
    _close(ops.corrcoef(C.R34), np.corrcoef(C.R34), "corrcoef", 1e-5)
    _close(ops.vdot(C.C64, C.C64), np.vdot(C.C64, C.C64), "vdot complex", 1e-5)
    sign, logdet = ops.slogdet(C.M)
    rs, rl = np.linalg.slogdet(C.M)
    _close(sign, rs, "slogdet sign")
    _close(logdet, rl, "slogdet", 1e-5)


def test_linalg_against_numpy():
    M, SPD, R34 = C.M.astype(np.float64), C.SPD.astype(np.float64), C.R34.astype(np.float64)
    _close(ops.det(M), np.linalg.det(M), "det", 1e-10)
    _close(ops.inv(SPD), np.linalg.inv(SPD), "inv", 1e-10)
    _close(ops.cholesky(SPD), np.linalg.cholesky(SPD), "cholesky", 1e-10)
    _close(ops.cholesky_inverse(np.linalg.cholesky(SPD)), np.linalg.inv(SPD), "chol inv", 1e-10)
    w, v = ops.eigh(SPD)
    _close(w, np.linalg.eigh(SPD)[0], "eigh", 1e-10)
    _close(np.asarray(v) @ np.diag(w) @ np.asarray(v).T, SPD, "eigh vectors", 1e-10)
    w, v = ops.eig(M)
    assert w.dtype == rill.complex128
    _close(np.asarray(M) @ np.asarray(v), np.asarray(v) * np.asarray(w), "eig", 1e-10)
    u, s, vh = ops.svd(R34, full_matrices=False)
    _close(np.asarray(u) @ np.diag(s) @ np.asarray(vh), R34, "svd", 1e-10)
    assert [t.shape for t in ops.svd(R34)] == [(3, 3), (3,), (4, 4)]
    q, r = ops.qr(R34.T, mode="complete")
    assert q.shape == (4, 4) and r.shape == (4, 3)
    _close(np.asarray(q) @ np.asarray(r), R34.T, "qr", 1e-10)
    lu, piv = ops.lu_factor(M)
    low = np.tril(np.asarray(lu), -1) + np.eye(3)
    up = np.triu(np.asarray(lu))
    perm = np.argsort(np.asarray(piv))  # the pivots invert the row permutation
    _close(M[perm], low @ up, "lu", 1e-10)
    _close(ops.lstsq(R34.T, np.arange(4.0)), np.linalg.lstsq(R34.T, np.arange(4.0), rcond=None)[0],
           "lstsq", 1e-10)  # fmt: skip
    _close(ops.pinv(R34), np.linalg.pinv(R34), "pinv", 1e-10)
    assert int(ops.matrix_rank(np.array([[1.0, 2.0], [2.0, 4.0]]))) == 1
    for ord_, axis in [(None, 1), (1, 0), (np.inf, 1), (-np.inf, 0), (0, 1), (3, 0)]:
        _close(ops.norm(R34, ord=ord_, axis=axis), np.linalg.norm(R34, ord=ord_, axis=axis),
               f"norm {ord_}", 1e-10)  # fmt: skip
    for ord_ in ("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        _close(ops.norm(R34, ord=ord_), np.linalg.norm(R34, ord=ord_), f"norm {ord_}", 1e-10)
    _close(ops.solve(SPD, M), np.linalg.solve(SPD, M), "solve", 1e-10)
    low = np.tril(M) + 4 * np.eye(3)
    _close(ops.solve_triangular(low, np.arange(3.0), lower=True),
           np.linalg.solve(low, np.arange(3.0)), "solve_triangular", 1e-10)  # fmt: skip


def test_jvp_matches_the_jacobian():
    def f(a, b):
        return ops.sin(a) * b, ops.sum(a * a)

    a = np.array([0.3, -1.2, 2.0], np.float32)
    b = np.array([1.5, 0.5, -2.0], np.float32)
    ta = np.array([1.0, 0.5, -1.0], np.float32)
    tb = np.array([0.0, 2.0, 1.0], np.float32)
    out, tan = ops.jvp(f, (a, b), (ta, tb))
    _close(out[0], np.sin(a) * b, "primal")
    _close(tan[0], np.cos(a) * b * ta + np.sin(a) * tb, "tangent", 1e-5)
    _close(tan[1], np.sum(2 * a * ta), "tangent sum", 1e-5)
    _, _, aux = ops.jvp(lambda x: (ops.square(x), "aux"), (a,), (ta,), has_aux=True)
    assert aux == "aux"


def test_fft_against_numpy():
    re, im = ops.fft((C.F, C.F2))
    ref = np.fft.fft(C.F + 1j * C.F2)
    _close(re, ref.real, "fft", 1e-5)
    _close(im, ref.imag, "fft", 1e-5)
    re, im = ops.fft2((C.T3, C.T3 * 2))
    ref = np.fft.fft2(C.T3 + 2j * C.T3)
    _close(re, ref.real, "fft2", 1e-4)
    re, im = ops.ifft2((C.T3, C.T3 * 2))
    ref = np.fft.ifft2(C.T3 + 2j * C.T3)
    _close(im, ref.imag, "ifft2", 1e-5)
    for n in (None, 4, 7):
        re, im = ops.rfft(C.V, fft_length=n)
        ref = np.fft.rfft(C.V, n=n)
        _close(re, ref.real, "rfft", 1e-5)
        _close(im, ref.imag, "rfft", 1e-5)
    spec = np.fft.rfft(C.V)
    _close(ops.irfft((spec.real, spec.imag), fft_length=5), C.V, "irfft", 1e-5)
    x = np.random.default_rng(0).standard_normal(40)
    re, im = ops.stft(x, 16, 4, 16)
    back = ops.istft((re, im), 16, 4, 16, length=40)
    # exact where every sample is covered by all the frames that overlap it
    _close(back[8:-8], x[8:-8], "istft(stft(x))", 1e-6)


def test_nn_against_references():
    from scipy import special

    x = C.F * 3
    _close(ops.gelu(x, approximate=False), x * special.ndtr(x), "gelu", 1e-5)
    _close(ops.log_sigmoid(x), -np.logaddexp(0, -x), "log_sigmoid", 1e-6)
    _close(ops.softmax(C.T3, axis=(1, 2)), special.softmax(C.T3, axis=(1, 2)), "softmax", 1e-6)
    _close(ops.log_softmax(C.T3, axis=None), special.log_softmax(C.T3), "log_softmax", 1e-5)
    out = ops.sparsemax(np.array([[0.5, 0.3, -0.2, 1.5], [0.1, 0.2, 0.3, 0.4]], np.float32))
    _close(out, [[0.0, 0.0, 0.0, 1.0], [0.1, 0.2, 0.3, 0.4]], "sparsemax", 1e-6)
    _close(ops.glu(np.concatenate([C.F, C.F2], 1)), C.F * special.expit(C.F2), "glu", 1e-6)
    pooled = ops.adaptive_average_pool(np.arange(5.0).reshape(1, 5, 1), 3)
    _close(pooled, [[[0.5], [2.0], [3.5]]], "adaptive pool")  # windows [0,2) [1,4) [3,5)
    patches = ops.unfold(np.arange(16.0).reshape(1, 1, 4, 4), 2, stride=2)
    _close(patches[0, :, 0], [0, 1, 4, 5], "unfold")
    _close(ops.fold(patches, 4, 2, stride=2), np.arange(16.0).reshape(1, 1, 4, 4), "fold")
    d = np.arange(32.0).reshape(1, 2, 2, 8)
    _close(ops.space_to_depth(ops.depth_to_space(d, 2), 2), d, "depth/space")
    bn = ops.batch_normalization(C.T3, C.V3 * 0, np.ones(3, np.float32), axis=1, epsilon=0.0)
    _close(bn, C.T3, "batch_normalization")
    m, v = ops.moments(C.T3, axes=[0, 2])
    _close(m, C.T3.mean((0, 2)), "moments mean", 1e-6)
    _close(v, C.T3.var((0, 2)), "moments var", 1e-5)
    ln = ops.layer_normalization(C.T3, epsilon=0.0)
    ref = (C.T3 - C.T3.mean(-1, keepdims=True)) / C.T3.std(-1, keepdims=True)
    _close(ln, ref, "layer_normalization", 1e-5)
    _close(ops.psnr(C.P, C.P * 0.5, 1.0), 20 * np.log10(1.0) - 10 * np.log10(
        np.mean((C.P * 0.5) ** 2)), "psnr", 1e-5)  # fmt: skip


def test_dot_product_attention_reference():
    q, k, v = C.Q, C.Kk, C.Vv
    logits = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(q.shape[-1])
    causal = np.tril(np.ones((4, 6), bool))
    logits = np.where(causal, logits, -1e30)
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    ref = np.einsum("bnts,bsnh->btnh", probs, v)
    _close(ops.dot_product_attention(q, k, v, is_causal=True), ref, "attention", 1e-5)


def test_ctc_loss_and_decode():
    # two steps, classes {blank, a}: the label "a" is emitted by "a-", "-a", "aa"
    logits = np.log(np.array([[[0.4, 0.6], [0.7, 0.3]]], np.float32))
    loss = ops.ctc_loss(np.array([[1]]), logits, np.array([1]), np.array([2]))
    p = 0.6 * 0.7 + 0.4 * 0.3 + 0.6 * 0.3
    _close(loss, [-np.log(p)], "ctc_loss", 1e-5)
    decoded, scores = ops.ctc_decode(np.log(np.array([[[0.1, 0.9], [0.2, 0.8], [0.9, 0.1],
                                                       [0.1, 0.9]]], np.float32)),
                                     np.array([4]))  # fmt: skip
    _close(decoded, [[[1, 1, -1, -1]]], "ctc_decode")
    assert scores.shape == (1, 1)


def test_image_references():
    from scipy import ndimage

    img = C.RGB
    gray = ops.image.rgb_to_grayscale(img)
    _close(gray, (img @ np.array([0.2989, 0.587, 0.114], np.float32))[..., None], "gray", 1e-6)
    _close(ops.image.hsv_to_rgb(ops.image.rgb_to_hsv(img)), img, "hsv round trip", 1e-5)
    m = np.arange(12.0).reshape(3, 4)
    coords = np.array([[0.5, 4.7, -2.4, -1, 3.5], [2.2, 0.1, 6.0, -3.3, 4.0]])
    for mode, scipy_mode in [("mirror", "mirror"), ("reflect", "reflect"),
                             ("wrap", "grid-wrap"), ("nearest", "nearest"),
                             ("constant", "grid-constant")]:  # fmt: skip
        _close(
            ops.image.map_coordinates(m, coords, 1, fill_mode=mode),
            ndimage.map_coordinates(m, coords, order=1, mode=scipy_mode),
            mode,
            1e-10,
        )
    shift = np.array([1, 0, 0.5, 0, 1, -1, 0, 0], np.float32)  # out(x, y) = in(x + .5, y - 1)
    out = ops.image.affine_transform(img[:1], shift, fill_mode="constant")
    ref = ndimage.shift(img[0].astype(np.float64), (1, -0.5, 0), order=1, mode="grid-constant")
    _close(out[0], ref, "affine_transform", 1e-5)
    patches = ops.image.extract_patches(img, 2)
    assert patches.shape == (2, 2, 2, 12)
    _close(patches[0, 0, 0], img[0, :2, :2].reshape(-1), "extract_patches")
    assert ops.image.pad_images(img, 1, 2, 0, 1).shape == (2, 5, 7, 3)
    assert ops.image.crop_images(img, 1, 0, 1, 2).shape == (2, 2, 2, 3)
    same = ops.image.ssim(img, img, filter_size=3)
    _close(same, np.ones(2), "ssim", 1e-5)
    edges = ops.image.sobel_edges(img)
    assert edges.shape == (2, 4, 4, 3, 2)
