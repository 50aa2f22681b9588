"""tnp against NumPy itself: the same inputs give the same values, shapes and dtypes.

The inputs are float64, int32/int64 and bool arrays, where TF's tnp rules and NumPy's
agree on the result dtype; the cases where they differ (float functions of small ints,
``divide`` of int8...) are checked against TF in ``test_numpy_against_tf.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

import rill as tf
import rill.experimental.numpy as tnp

RNG = np.random.default_rng(0)
F = RNG.standard_normal((3, 4))  # float64
FP = np.abs(F) + 0.5  # positive
U = RNG.uniform(-0.9, 0.9, (3, 4))  # in (-1, 1)
G = RNG.uniform(1.1, 3.0, (3, 4))  # > 1
I32 = RNG.integers(-5, 6, (3, 4)).astype(np.int32)
I64 = RNG.integers(1, 9, (3, 4)).astype(np.int64)
B = RNG.integers(0, 2, (3, 4)).astype(bool)
V = RNG.standard_normal(4)
C = (RNG.standard_normal((2, 3)) + 1j * RNG.standard_normal((2, 3))).astype(np.complex128)
SPECIAL = np.array([0.0, -0.0, 1.5, -2.5, np.inf, -np.inf, np.nan])


def check(got, want, rtol=1e-10, atol=1e-12):
    """``got`` (rill) equals NumPy's ``want`` in value, shape and dtype."""
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want)
        for g, w in zip(got, want):
            check(g, w, rtol, atol)
        return
    want = np.asarray(want)
    assert isinstance(got, tf.Tensor), f"expected a Tensor, got {type(got)}"
    g = np.asarray(got.numpy())
    assert g.shape == want.shape, (g.shape, want.shape)
    assert g.dtype == want.dtype, (g.dtype, want.dtype)
    if want.dtype.kind in "fc":
        np.testing.assert_allclose(g, want, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(g, want)


UNARY = [
    ("sqrt", FP), ("exp", F), ("log", FP), ("log2", FP), ("log10", FP), ("log1p", FP),
    ("expm1", F), ("exp2", F), ("sin", F), ("cos", F), ("tan", F), ("sinh", F), ("cosh", F),
    ("tanh", F), ("arcsin", U), ("arccos", U), ("arctan", F), ("arcsinh", F), ("arccosh", G),
    ("arctanh", U), ("deg2rad", F), ("rad2deg", F), ("cbrt", F), ("sinc", np.append(F.ravel(), 0.0)),
    ("ceil", F), ("floor", F), ("fix", F), ("abs", F), ("absolute", I32), ("fabs", F),
    ("negative", F), ("negative", I32), ("positive", I32), ("reciprocal", FP), ("square", F),
    ("square", I32), ("sign", F), ("sign", I32), ("signbit", SPECIAL), ("conj", C),
    ("conjugate", C), ("real", C), ("imag", C), ("real", F), ("angle", C), ("angle", F),
    ("isnan", SPECIAL), ("isinf", SPECIAL), ("isfinite", SPECIAL), ("isposinf", SPECIAL),
    ("isneginf", SPECIAL), ("iscomplex", C), ("isreal", C), ("logical_not", I32),
    ("bitwise_not", I32), ("bitwise_not", B), ("sqrt", I32.astype(np.int64) ** 2),
    ("exp", I64), ("sign", C), ("around", F * 10), ("round", F * 10),
]  # fmt: skip


@pytest.mark.parametrize("name,x", UNARY, ids=[f"{n}-{x.dtype}" for n, x in UNARY])
def test_unary(name, x):
    check(getattr(tnp, name)(x), getattr(np, name)(x))


BINARY = [
    ("add", F, V), ("add", I32, I64), ("add", B, B), ("subtract", F, I32), ("multiply", I32, 3),
    ("multiply", B, B), ("divide", F, FP), ("divide", I64, I64), ("true_divide", I32, I64),
    ("floor_divide", F, FP), ("floor_divide", I64, 3), ("mod", F, FP), ("mod", I64, 3),
    ("remainder", I32, 4), ("power", FP, F), ("power", I64, 2), ("float_power", FP, 2),
    ("arctan2", F, FP), ("hypot", F, V), ("logaddexp", F, V), ("logaddexp2", F, V),
    ("maximum", F, V), ("minimum", I32, 0), ("maximum", B, B), ("heaviside", F, 0.5),
    ("nextafter", F, V), ("gcd", I32, 6), ("lcm", I64, 6), ("equal", I32, I64),
    ("not_equal", F, 0.0), ("greater", F, V), ("greater_equal", I32, 0), ("less", F, V),
    ("less_equal", I64, 4), ("logical_and", I32, B), ("logical_or", F, B), ("logical_xor", B, I64),
    ("bitwise_and", I32, 6), ("bitwise_or", I64, 3), ("bitwise_xor", I32, I32), ("bitwise_and", B, B),
    ("isclose", F, F + 1e-9), ("add", F, 2.5), ("subtract", 1, I32), ("multiply", I32, 1.5),
    ("maximum", F, np.nan),
]  # fmt: skip


@pytest.mark.parametrize(
    "name,a,b",
    BINARY,
    ids=[f"{n}-{np.asarray(a).dtype}-{np.asarray(b).dtype}" for n, a, b in BINARY],
)
def test_binary(name, a, b):
    check(getattr(tnp, name)(a, b), getattr(np, name)(a, b))


def test_divmod():
    check(tnp.divmod(F, FP), np.divmod(F, FP))
    check(tnp.divmod(I64, 3), np.divmod(I64, 3))


A3 = RNG.standard_normal((2, 3, 4))
REDUCTIONS = [
    ("sum", A3, {}), ("sum", A3, {"axis": 1}), ("sum", I32, {"axis": 0}), ("sum", B, {}),
    ("sum", A3, {"axis": (0, 2), "keepdims": True}), ("prod", I32, {"axis": 1}),
    ("prod", F, {"dtype": np.float32}), ("mean", A3, {"axis": -1}), ("mean", I32, {}),
    ("amax", A3, {"axis": 1}), ("amin", I32, {}), ("max", B, {"axis": 0}), ("min", A3, {"axis": 2}),
    ("all", I32, {"axis": 0}), ("any", B, {}), ("all", F, {"keepdims": True}),
    ("var", A3, {"axis": 1}), ("var", I32, {"ddof": 1}), ("std", A3, {"axis": (0, 1)}),
    ("std", I64, {}), ("ptp", A3, {"axis": 1}), ("count_nonzero", I32, {"axis": 1}),
    ("count_nonzero", B, {}), ("average", A3, {"axis": 1}), ("cumsum", I32, {"axis": 1}),
    ("cumsum", A3, {}), ("cumprod", F, {"axis": 0}), ("cumsum", B, {"axis": 0}),
    ("argmax", A3, {}), ("argmax", A3, {"axis": 1}), ("argmin", I32, {"axis": 0}),
    ("trace", A3, {}), ("trace", F, {"offset": 1}), ("nansum", SPECIAL[:4], {}),
    ("nanprod", np.array([1.0, np.nan, 3.0]), {}), ("nanmean", np.array([[1.0, np.nan], [3.0, 4.0]]), {"axis": 0}),
]  # fmt: skip


@pytest.mark.parametrize("name,a,kw", REDUCTIONS, ids=[f"{n}-{kw}" for n, _, kw in REDUCTIONS])
def test_reductions(name, a, kw):
    check(getattr(tnp, name)(a, **kw), getattr(np, name)(a, **kw))


def test_average_weighted():
    w = RNG.uniform(0.5, 1.0, 4)
    check(tnp.average(F, axis=1, weights=w), np.average(F, axis=1, weights=w))
    got, wsum = tnp.average(F, axis=1, weights=w, returned=True)
    want, wsum_np = np.average(F, axis=1, weights=w, returned=True)
    check(got, want)
    check(wsum, wsum_np)


M = RNG.standard_normal((3, 3))
PRODUCTS = [
    ("dot", F, V), ("dot", M, M), ("dot", 2.0, F), ("dot", A3, RNG.standard_normal((4, 2))),
    ("matmul", A3, RNG.standard_normal((4, 5))), ("matmul", V, V), ("matmul", F, V),
    ("matmul", RNG.standard_normal((2, 1, 3, 4)), RNG.standard_normal((5, 4, 2))),
    ("inner", F, V), ("outer", V, F[0]), ("vdot", C, C), ("kron", M, I32[:2, :2]),
    ("kron", V, F), ("cross", RNG.standard_normal((4, 3)), RNG.standard_normal(3)),
    ("cross", RNG.standard_normal(2), RNG.standard_normal(2)), ("polyval", [2.0, -1.0, 3.0], F),
]  # fmt: skip


@pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")
@pytest.mark.parametrize("name,a,b", PRODUCTS, ids=[p[0] for p in PRODUCTS])
def test_products(name, a, b):
    check(getattr(tnp, name)(a, b), getattr(np, name)(a, b), rtol=1e-9)


def test_tensordot_einsum():
    x, y = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((4, 3, 5))
    check(tnp.tensordot(x, y, axes=([1, 2], [1, 0])), np.tensordot(x, y, axes=([1, 2], [1, 0])))
    check(tnp.tensordot(M, M), np.tensordot(M, M))
    check(tnp.einsum("ij,jk->ik", M, I32[:3, :3]), np.einsum("ij,jk->ik", M, I32[:3, :3]))


CREATION = [
    ("zeros", ((2, 3),), {}), ("zeros", (3,), {"dtype": np.int32}), ("ones", ([2, 2],), {}),
    ("full", ((2, 3), 7), {}), ("full", ((2, 2), 1.5), {}),
    ("full", ((2, 3), [1, 2, 3]), {"dtype": np.float32}), ("zeros_like", (I32,), {}),
    ("ones_like", (F,), {"dtype": np.int64}),
    ("full_like", (I32, 2.7), {}), ("eye", (3,), {}), ("eye", (3, 4), {"k": 1, "dtype": np.int32}),
    ("identity", (2,), {}), ("tri", (3, 4), {"k": -1, "dtype": np.float64}),
    ("arange", (5,), {}), ("arange", (1, 7, 2), {}), ("arange", (0.5, 3.0, 0.5), {}),
    ("arange", (5, 1, -1), {}), ("arange", (3,), {"dtype": np.float32}),
    ("linspace", (0, 1, 5), {}), ("linspace", (0, 1, 5), {"endpoint": False}),
    ("linspace", ([0.0, 1.0], [1.0, 3.0], 4), {"axis": 1}), ("linspace", (2, 10, 4), {"dtype": np.float64}),
    ("logspace", (0, 3, 4), {}), ("logspace", (0.0, 2.0, 3), {"base": 2.0}),
    ("geomspace", (1, 1000, 4), {}), ("geomspace", (2.0, 32.0, 5), {"endpoint": False}),
    ("array", ([[1, 2], [3, 4]],), {}), ("array", ([1.5, 2],), {}), ("array", (3,), {"ndmin": 2}),
    ("asarray", ([True, False],), {}), ("asarray", (F,), {"dtype": np.float32}),
    ("asanyarray", (I32,), {}), ("ascontiguousarray", (5.0,), {}), ("copy", (F,), {}),
    ("diag", (V,), {"k": 1}), ("diag", (M,), {"k": -1}), ("diagflat", (M[:2, :2],), {}),
    ("diagonal", (A3,), {"offset": 1, "axis1": 1, "axis2": 2}), ("tril", (F,), {"k": 1}),
    ("triu", (A3,), {}), ("vander", (V,), {}), ("vander", (I64[0],), {"N": 3, "increasing": True}),
]  # fmt: skip


@pytest.mark.parametrize("name,args,kw", CREATION, ids=[f"{c[0]}-{c[2]}" for c in CREATION])
def test_creation(name, args, kw):
    check(getattr(tnp, name)(*args, **kw), getattr(np, name)(*args, **kw))


def test_linspace_retstep_and_diag_indices():
    got, step = tnp.linspace(0.0, 2.0, 5, retstep=True)
    want, wstep = np.linspace(0.0, 2.0, 5, retstep=True)
    check(got, want)
    assert float(step) == pytest.approx(wstep)
    check(tnp.diag_indices(3, 3), np.diag_indices(3, 3))


SHAPES = [
    ("reshape", (A3, (4, 6)), {}), ("reshape", (A3, (3, -1)), {"order": "F"}), ("ravel", (A3,), {}),
    ("transpose", (A3,), {}), ("transpose", (A3, (1, 0, 2)), {}),
    ("swapaxes", (A3, 0, 2), {}), ("moveaxis", (A3, 0, -1), {}), ("moveaxis", (A3, [0, 1], [2, 0]), {}),
    ("expand_dims", (F, 1), {}), ("expand_dims", (F, (0, 3)), {}), ("squeeze", (A3[:1],), {}),
    ("squeeze", (np.ones((1, 3, 1)), 2), {}), ("broadcast_to", (V, (3, 4)), {}),
    ("flip", (A3,), {}), ("flip", (A3, (0, 2)), {}), ("fliplr", (F,), {}), ("flipud", (F,), {}),
    ("rot90", (F,), {}), ("rot90", (A3, 3, (1, 2)), {}), ("rot90", (F, 2), {}), ("roll", (F, 2), {}),
    ("roll", (F, -1, 1), {}), ("tile", (V, 2), {}), ("tile", (F, (2, 1, 2)), {}),
    ("repeat", (F, 2), {}), ("repeat", (F, [1, 2, 0, 1], 1), {}),
    ("pad", (F, 1, "constant"), {}), ("pad", (F, ((1, 0), (2, 1)), "reflect"), {}),
    ("pad", (I32, 2, "symmetric"), {}), ("pad", (F, 1, "constant"), {"constant_values": 9}),
    ("concatenate", ([F, I32],), {}), ("concatenate", ([F, M[:, :2]], 1), {}),
    ("concatenate", ([F, V],), {"axis": None}), ("stack", ([V, V, V],), {"axis": 1}),
    ("hstack", ([F, I32],), {}), ("hstack", ([V, V],), {}), ("vstack", ([V, F],), {}),
    ("dstack", ([F, F],), {}), ("append", (F, V), {}), ("append", (F, F, 0), {}),
    ("atleast_1d", (3.0,), {}), ("atleast_2d", (V,), {}), ("atleast_3d", (F,), {}),
    ("atleast_3d", (V,), {}), ("atleast_2d", (1, V), {}),
    ("split", (np.arange(12.0), 3), {}), ("split", (A3, [1, 3], 2), {}), ("hsplit", (F, 2), {}),
    ("vsplit", (A3, [1]), {}), ("dsplit", (A3, 2), {}), ("split", (np.arange(6), [4, 2]), {}),
    ("take", (F, [0, 5, 11]), {}), ("take", (F, [[0, 2]], 1), {}), ("take", (V, [-1, 7]), {"mode": "clip"}),
    ("take", (V, [-1, 7]), {"mode": "wrap"}), ("take_along_axis", (F, np.argsort(F, axis=1), 1), {}),
    ("compress", ([True, False, True], F), {"axis": 0}), ("compress", ([0, 1, 1], F), {}),
    ("where", (F > 0, F, 0), {}), ("where", (I32, 1.5, I32), {}), ("where", (F > 0,), {}),
    ("nonzero", (I32,), {}), ("sort", (F,), {}), ("sort", (A3, 0), {}), ("sort", (F, None), {}),
    ("argsort", (I32,), {"kind": "stable"}), ("argsort", (F, 0), {}), ("clip", (F, -0.5, 0.5), {}),
    ("clip", (I32, None, 2), {}), ("clip", (I32, 0, 2.5), {}), ("diff", (F,), {}),
    ("diff", (A3, 2, 1), {}), ("diff", (B,), {}), ("select", ([F < 0, F > 1], [F, -F], 9.0), {}),
    ("broadcast_arrays", (F, V), {}), ("meshgrid", (V, V[:2]), {}),
    ("meshgrid", (V, V[:2]), {"indexing": "ij"}), ("ix_", ([0, 1], [2, 0, 1]), {}),
]  # fmt: skip


@pytest.mark.parametrize("name,args,kw", SHAPES, ids=[f"{c[0]}-{c[2]}" for c in SHAPES])
def test_shapes_and_indexing(name, args, kw):
    got = getattr(tnp, name)(*args, **kw)
    want = getattr(np, name)(*args, **kw)
    check(
        list(got) if isinstance(got, tuple) else got,
        list(want) if isinstance(want, tuple) else want,
    )


def test_empty_and_flatten():
    # empty's values are unspecified in NumPy: only its shape and dtype are compared
    for got, want in [
        (tnp.empty((2,), dtype=bool), np.empty((2,), dtype=bool)),
        (tnp.empty_like(B), np.empty_like(B)),
    ]:
        assert got.shape == want.shape and got.dtype.np == want.dtype
    check(tnp.flatten(F, order="F"), F.flatten(order="F"))
    check(tnp.flatten(A3), A3.flatten())


def test_queries():
    assert tnp.shape(A3) == np.shape(A3)
    assert tnp.ndim(A3) == np.ndim(A3)
    assert tnp.size(A3) == np.size(A3)
    assert tnp.size(A3, 1) == np.size(A3, 1)
    assert tnp.isscalar(3.0) and not tnp.isscalar(V) and tnp.isscalar(tnp.asarray(1.0))
    assert tnp.iscomplexobj(C) and tnp.isrealobj(F)
    assert bool(tnp.allclose(F, F + 1e-10)) == np.allclose(F, F + 1e-10)
    assert bool(tnp.array_equal(I32, I32)) and not bool(tnp.array_equal(I32, I32[:2]))
    assert bool(tnp.array_equal(F, F + 1)) is False


def test_dtype_objects_and_constants():
    assert tnp.float32 is np.float32 and tnp.int64 is np.int64 and tnp.bool_ is np.bool_
    assert tnp.ndarray is tf.Tensor
    assert tnp.iinfo(tnp.int8).max == 127
    assert tnp.finfo(tnp.float32).eps == np.finfo(np.float32).eps
    assert tnp.finfo(tf.float64).eps == np.finfo(np.float64).eps
    assert tnp.issubdtype(tnp.float32, tnp.inexact)
    assert tnp.pi == np.pi and tnp.e == np.e and tnp.inf == np.inf and tnp.newaxis is None
    assert tnp.promote_types(tnp.int32, tnp.float32) == np.promote_types(np.int32, np.float32)
    for args in [(np.int32, 1.0), (np.int8, np.uint8), (np.float32, 2), (I32, np.float32)]:
        assert tnp.result_type(*args) == tf.as_dtype(np.result_type(*args))


def test_returns_tensors_and_default_dtypes():
    # Python floats are float64 and ints int64, as in NumPy
    assert tnp.asarray(1.5).dtype == tf.float64
    assert tnp.asarray([1, 2]).dtype == tf.int64
    assert tnp.add(tnp.ones(3, dtype=tnp.int32), 1.5).dtype == tf.float64
    assert tnp.ones(3).dtype == tf.float64
    t = tf.constant([1.0, 2.0])
    assert tnp.asarray(t) is t


def test_random():
    tnp.random.seed(3)
    a = tnp.random.randn(2, 3)
    tnp.random.seed(3)
    b = tnp.random.randn(2, 3)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.shape == (2, 3) and a.dtype == tf.float64
    u = tnp.random.uniform(2.0, 5.0, size=(1000,))
    assert u.dtype == tf.float64 and 2.0 <= float(tnp.min(u)) and float(tnp.max(u)) < 5.0
    assert tnp.random.uniform(np.zeros(3), 1.0).shape == (3,)
    r = tnp.random.randint(0, 4, size=500)
    assert r.dtype == tf.int64 and set(np.unique(r.numpy())) <= {0, 1, 2, 3}
    assert tnp.random.randint(3, size=2, dtype=np.int32).dtype == tf.int32
    with pytest.raises(ValueError, match="int32 or int64"):
        tnp.random.randint(3, dtype=np.float32)
    x = tnp.random.rand(4000)
    assert x.shape == (4000,) and abs(float(tnp.mean(x)) - 0.5) < 0.03
    assert tnp.random.random(3).shape == (3,)
    n = tnp.random.standard_normal(4000)
    assert abs(float(tnp.std(n)) - 1.0) < 0.05
    p = tnp.random.poisson(3.0, size=4000)
    assert p.dtype == tf.int64 and abs(float(tnp.mean(p)) - 3.0) < 0.15


def test_errors():
    with pytest.raises(ValueError, match="a_min and a_max"):
        tnp.clip(F, None, None)
    with pytest.raises(ValueError, match="equal division"):
        tnp.split(np.arange(5), 2)
    with pytest.raises(ValueError, match="padding mode"):
        tnp.pad(F, 1, "wrap")
    with pytest.raises(TypeError, match="integer"):
        tnp.gcd(F, 2)
    with pytest.raises(ValueError, match="dtype_conversion_mode"):
        tnp.experimental_enable_numpy_behavior(dtype_conversion_mode="nope")
