"""Inputs for the keras.ops tests: one or more calls per op of the flat namespace, on fixed
NumPy arrays. The differential tests run each call through rill and Keras 3; the rill-only
tests run each eagerly, inside ``rill.function`` and on KerasTensors.

A case is ``(name, args, kwargs)``; its id is the name with a counter.
"""

from __future__ import annotations

import numpy as np

rng = np.random.default_rng(1234)
f32 = np.float32

F = rng.standard_normal((2, 3)).astype(f32)  # any reals
F2 = rng.standard_normal((2, 3)).astype(f32)
P = rng.uniform(0.1, 0.9, (2, 3)).astype(f32)  # in (0, 1)
G = rng.uniform(1.1, 3.0, (2, 3)).astype(f32)  # > 1
I32 = rng.integers(-5, 6, (2, 3)).astype(np.int32)
I32b = rng.integers(1, 6, (2, 3)).astype(np.int32)  # positive
U8 = rng.integers(0, 7, (2, 3)).astype(np.uint8)
BOOL = rng.integers(0, 2, (2, 3)).astype(bool)
BOOL2 = rng.integers(0, 2, (2, 3)).astype(bool)
V = rng.standard_normal(5).astype(f32)
V2 = rng.standard_normal(5).astype(f32)
V3 = rng.standard_normal(3).astype(f32)
V3b = rng.standard_normal(3).astype(f32)
T3 = rng.standard_normal((2, 3, 4)).astype(f32)
T4 = rng.standard_normal((2, 5, 5, 3)).astype(f32)  # NHWC images
M = rng.standard_normal((3, 3)).astype(f32)
M2 = rng.standard_normal((3, 3)).astype(f32)
SPD = (M @ M.T + 3 * np.eye(3)).astype(f32)
LOW = np.tril(M + 4 * np.eye(3)).astype(f32)
R34 = rng.standard_normal((3, 4)).astype(f32)
R42 = rng.standard_normal((4, 2)).astype(f32)
NAN = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, 2.0]], f32)
INF = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 2.5], f32)
SORTED = np.array([0.5, 1.0, 2.0, 3.5, 5.0], f32)
IDX = np.array([[0, 2], [1, 0]], np.int32)
SEG = np.array([0, 0, 1, 2, 2], np.int32)
D5 = rng.standard_normal((5, 2)).astype(f32)
RGB = rng.uniform(0, 1, (2, 4, 4, 3)).astype(f32)
C64 = (rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))).astype(np.complex64)
LOGITS = rng.standard_normal((4, 5)).astype(f32)
ONEHOT = np.eye(5, dtype=f32)[[0, 3, 1, 4]]
LABELS = np.array([0, 3, 1, 4], np.int32)
Q = rng.standard_normal((2, 4, 2, 3)).astype(f32)  # (batch, seq, heads, head_dim)
Kk = rng.standard_normal((2, 6, 2, 3)).astype(f32)
Vv = rng.standard_normal((2, 6, 2, 3)).astype(f32)


def _c(name, *args, **kwargs):
    return (name, args, kwargs)


# ------------------------------------------------------------------ keras.ops.numpy
UNARY_FLOAT = [
    "abs", "absolute", "arccos", "arccosh", "arcsin", "arctan", "arcsinh", "arctanh", "ceil", "cos",
    "cosh", "deg2rad", "exp", "exp2", "expm1", "fabs", "floor", "log", "log10", "log1p",
    "log2", "negative", "rad2deg", "reciprocal", "round", "sign", "sin", "sinc", "sinh",
    "sqrt", "square", "tan", "tanh", "trunc", "cbrt", "i0", "signbit", "isfinite", "isinf",
    "isnan", "isneginf", "isposinf", "isreal", "real", "imag", "conj", "conjugate", "angle",
    "logical_not", "copy", "ravel", "nan_to_num", "transpose", "array",
]  # fmt: skip
_DOMAIN = {"arccosh": G, "arccos": P, "arcsin": P, "arctanh": P, "log": G, "log10": G, "log2": G,
           "log1p": P, "sqrt": G, "reciprocal": G}  # fmt: skip

BINARY = [
    "add", "subtract", "multiply", "divide", "true_divide", "maximum", "minimum", "equal",
    "not_equal", "less", "less_equal", "greater", "greater_equal", "arctan2", "hypot",
    "logaddexp", "logaddexp2", "fmax", "fmin", "heaviside", "mod", "fmod", "floor_divide",
    "power", "logical_and", "logical_or", "logical_xor", "divide_no_nan", "nextafter",
    "isclose", "allclose", "outer", "kron", "append",
]  # fmt: skip

INT_BINARY = ["bitwise_and", "bitwise_or", "bitwise_xor", "gcd", "lcm"]
SHIFTS = ["bitwise_left_shift", "bitwise_right_shift", "left_shift", "right_shift"]

REDUCTIONS = [
    "sum", "prod", "mean", "max", "min", "amax", "amin", "all", "any", "std", "var",
    "argmax", "argmin", "median", "ptp", "count_nonzero", "nansum", "nanprod", "nanmean",
    "nanmax", "nanmin", "nanstd", "nanvar", "nanargmax", "nanargmin", "nanmedian",
]  # fmt: skip

CASES = []
for _n in UNARY_FLOAT:
    CASES.append(_c(_n, _DOMAIN.get(_n, F)))
for _n in BINARY:
    CASES.append(_c(_n, G if _n in ("power",) else F, F2 if _n != "power" else P))
for _n in INT_BINARY:
    CASES.append(_c(_n, I32b, np.array([[4, 6, 1], [3, 5, 2]], np.int32)))
for _n in SHIFTS:
    CASES.append(_c(_n, I32b, np.array([[1, 2, 0], [3, 1, 2]], np.int32)))
for _n in REDUCTIONS:
    CASES.append(_c(_n, F))
    if _n not in ("median",):
        CASES.append(_c(_n, F, axis=1, keepdims=True) if _n not in ("count_nonzero",) else
                     _c(_n, F, axis=1))  # fmt: skip
for _n in ("nansum", "nanmean", "nanmax", "nanmin", "nanstd", "nanvar", "nanargmax",
           "nanargmin", "nanmedian", "nanprod"):  # fmt: skip
    CASES.append(_c(_n, NAN, axis=1))

CASES += [
    _c("abs", I32), _c("sqrt", I32b), _c("mean", I32), _c("sum", BOOL), _c("sum", U8),
    _c("round", F * 10, decimals=1), _c("round", I32, decimals=-1),
    _c("isfinite", INF), _c("isinf", INF), _c("isnan", INF), _c("isposinf", INF),
    _c("isneginf", INF), _c("signbit", INF), _c("nan_to_num", INF), _c("nan_to_num", INF,
                                                                        nan=1.0, posinf=9.0),
    _c("bitwise_invert", I32), _c("bitwise_not", I32),
    _c("clip", F, -0.5, 0.5), _c("clip", I32, -2, 3),
    _c("arange", 5), _c("arange", 1, 7, 2), _c("arange", 0.5, 3.0, 0.5),
    _c("arange", 2, dtype="float32"),
    _c("linspace", 0, 1, 5), _c("linspace", 0.0, 2.0, 4, endpoint=False),
    _c("linspace", 0, 10, 4, dtype="int32"), _c("linspace", [0.0, 1.0], [1.0, 3.0], 3, axis=1),
    _c("logspace", 0, 2, 3), _c("geomspace", 1, 100, 3),
    _c("zeros", (2, 3)), _c("ones", (2,), dtype="int32"), _c("empty", (2, 2)),
    _c("full", (2, 2), 7), _c("full", (2,), 1.5, dtype="float64"),
    _c("zeros_like", F), _c("ones_like", I32), _c("empty_like", F),
    _c("full_like", F, 3), _c("full_like", I32, 2.7),
    _c("eye", 3), _c("eye", 3, 4, k=1), _c("identity", 3), _c("tri", 3), _c("tri", 3, 4, k=-1),
    _c("tril", M), _c("triu", M, k=1), _c("tril", T3, k=-1),
    _c("bartlett", 5), _c("blackman", 6), _c("hamming", 5), _c("hanning", 6),
    _c("kaiser", 6, 2.0),
    _c("reshape", F, (3, 2)), _c("reshape", F, (-1,)), _c("transpose", T3, (2, 0, 1)),
    _c("expand_dims", F, 1), _c("expand_dims", F, (0, 3)), _c("squeeze", F[None]),
    _c("squeeze", F[:, :1], axis=1), _c("moveaxis", T3, 0, -1),
    _c("moveaxis", T3, (0, 1), (2, 0)), _c("swapaxes", T3, 0, 2), _c("ravel", T3),
    _c("flip", F), _c("flip", T3, axis=(0, 2)), _c("fliplr", F), _c("flipud", F),
    _c("rot90", F), _c("rot90", T3, k=3, axes=(1, 2)), _c("rot90", F, k=2),
    _c("roll", V, 2), _c("roll", F, -1, axis=1), _c("roll", F, 4),
    _c("tile", V3, 2), _c("tile", F, (2, 1, 2)), _c("repeat", F, 2), _c("repeat", F, 2, axis=1),
    _c("broadcast_to", V3, (2, 3)),
    _c("concatenate", [F, F2]), _c("concatenate", [F, I32], axis=1),
    _c("concatenate", [F, F2], axis=None),
    _c("stack", [F, F2]), _c("stack", [V3, V3b], axis=1), _c("hstack", [F, F2]),
    _c("hstack", [V3, V3b]), _c("vstack", [F, F2]), _c("vstack", [V3, V3b]),
    _c("dstack", [F, F2]), _c("append", F, F2, axis=0),
    _c("split", V3, 3), _c("split", T3, [1, 3], axis=2), _c("array_split", V, 3),
    _c("hsplit", T3, 3), _c("vsplit", R34, [1]), _c("dsplit", T3, 2),
    _c("pad", F, 1), _c("pad", F, ((1, 0), (2, 1))), _c("pad", F, 1, constant_values=5.0),
    _c("pad", F, 1, mode="reflect"), _c("pad", F, 1, mode="symmetric"),
    _c("take", F, [0, 2, -1]), _c("take", F, IDX, axis=1), _c("take", T3, 1, axis=2),
    _c("take_along_axis", F, np.array([[0, 2], [1, 0]]), axis=1),
    _c("take_along_axis", F, np.array([[1, 0, 0]]), axis=0),
    _c("get_item", F, (slice(None), 1)), _c("get_item", T3, (0, slice(1, 3))),
    _c("diag", V3), _c("diag", V3, k=1), _c("diag", M), _c("diag", R34, k=-1),
    _c("diagflat", F), _c("diagonal", M), _c("diagonal", T3, offset=1, axis1=1, axis2=2),
    _c("trace", M), _c("trace", T3, axis1=1, axis2=2), _c("trace", I32b[:, :2]),
    _c("where", BOOL, F, F2), _c("where", BOOL, F, 0), _c("where", F > 0),
    _c("select", [F > 0.5, F < -0.5], [F, F2], 9.0),
    _c("nonzero", I32), _c("unravel_index", np.array([5, 7, 1]), (3, 4)),
    _c("meshgrid", V3, V), _c("meshgrid", V3, V, indexing="ij"),
    _c("sort", F), _c("sort", F, axis=0), _c("sort", F, axis=None), _c("argsort", F),
    _c("argsort", F, axis=0), _c("argpartition", V, 2), _c("searchsorted", SORTED, V),
    _c("searchsorted", SORTED, np.array([1.0, 2.0, 6.0], f32), side="right"),
    _c("digitize", V, [-1.0, 0.0, 1.0]), _c("histogram", V), _c("histogram", V, bins=3,
                                                                    range=(-1.0, 1.0)),
    _c("bincount", np.array([0, 1, 1, 3])), _c("bincount", np.array([0, 1, 1, 3]),
                                                weights=np.array([0.5, 1.0, 2.0, 1.0], f32),
                                                minlength=6),
    _c("unique", np.array([3, 1, 3, 2, 1])), _c("unique", np.array([3, 1, 3, 2, 1]),
                                                 return_counts=True, return_inverse=True),
    _c("isin", I32, np.array([0, 1, 2])), _c("isin", I32, np.array([0, 1]), invert=True),
    _c("matmul", M, M2), _c("matmul", T3, R42), _c("matmul", V3, M), _c("matmul", I32, I32.T),
    _c("dot", M, M2), _c("dot", V3, V3b), _c("dot", T3, R42), _c("dot", F, 2.0),
    _c("vdot", M, M2), _c("inner", M, M2), _c("inner", V3, V3b), _c("outer", V3, V),
    _c("tensordot", M, M2), _c("tensordot", T3, R42, axes=1),
    _c("tensordot", T3, R34, axes=([1, 2], [0, 1])),
    _c("einsum", "ij,jk->ik", M, M2), _c("einsum", "bij->bji", T3), _c("einsum", "ii", M),
    _c("kron", F, M), _c("cross", V3, V3b), _c("cross", F, F2),
    _c("correlate", V, V3), _c("correlate", V, V3, mode="same"),
    _c("correlate", V, V3, mode="full"), _c("diff", V), _c("diff", F, n=2, axis=0),
    _c("trapezoid", V), _c("trapezoid", F, dx=0.5), _c("trapezoid", V, x=SORTED),
    _c("vander", V3), _c("vander", V3, N=4, increasing=True), _c("corrcoef", R34),
    _c("slogdet", SPD), _c("cumsum", F), _c("cumsum", F, axis=1), _c("cumprod", F, axis=0),
    _c("nancumsum", NAN, axis=1), _c("nancumprod", NAN), _c("average", F),
    _c("average", F, axis=1, weights=V3), _c("average", F, axis=0, weights=np.ones((2, 3), f32)),
    _c("quantile", F, 0.3), _c("quantile", F, [0.25, 0.75], axis=1),
    _c("quantile", F, 0.5, axis=0, method="lower"), _c("quantile", F, 0.4, method="higher"),
    _c("quantile", F, 0.4, method="nearest"), _c("quantile", F, 0.4, method="midpoint"),
    _c("percentile", F, 40), _c("percentile", F, [10, 90], axis=1, keepdims=True),
    _c("nanquantile", NAN, 0.5, axis=1), _c("nanpercentile", NAN, 50),
    _c("median", F, axis=1), _c("median", T3, axis=(0, 2), keepdims=True),
    _c("ndim", T3), _c("size", T3), _c("view", F, "int32"), _c("view", I32, "float32"),
    _c("max", F, initial=0.5), _c("min", F, axis=0, initial=-0.5),
    _c("all", BOOL, axis=0), _c("any", F), _c("prod", I32, dtype="float32"),
    _c("ldexp", F, I32), _c("divide", I32, I32b), _c("floor_divide", I32, I32b),
    _c("mod", I32, I32b), _c("fmod", I32, I32b), _c("power", I32b, 2),
    _c("add", I32, 1.5), _c("multiply", U8, 3), _c("subtract", F, 1),
]  # fmt: skip

# ------------------------------------------------------------------------ keras.ops.nn
ACTIVATIONS = [
    "relu", "relu6", "sigmoid", "sparse_sigmoid", "softplus", "softsign", "soft_shrink",
    "sparse_plus", "silu", "swish", "squareplus", "log_sigmoid", "leaky_relu", "hard_sigmoid",
    "hard_silu", "hard_swish", "elu", "selu", "gelu", "celu", "tanh_shrink", "hard_tanh",
    "hard_shrink", "softmax", "log_softmax", "sparsemax",
]  # fmt: skip
for _n in ACTIVATIONS:
    CASES.append(_c(_n, F * 3))
CASES += [
    _c("gelu", F, approximate=False), _c("elu", F, alpha=0.5), _c("celu", F, alpha=2.0),
    _c("leaky_relu", F, negative_slope=0.1), _c("threshold", F, 0.1, -1.0),
    _c("glu", np.concatenate([F, F2], axis=1)), _c("softmax", T3, axis=(1, 2)),
    _c("log_softmax", T3, axis=0), _c("softmax", F, axis=None),
    _c("sparsemax", np.array([[0.5, 0.3, -0.2, 1.5], [0.1, 0.2, 0.3, 1.4]], f32)),
    _c("max_pool", T4, 2), _c("max_pool", T4, 3, strides=2, padding="same"),
    _c("average_pool", T4, 2, strides=1), _c("average_pool", T3, 2, padding="same"),
    _c("max_pool", T4, 2, data_format="channels_first"),
    _c("adaptive_average_pool", T4, (2, 3)), _c("adaptive_max_pool", T4, 2),
    _c("adaptive_average_pool", T3, 3),
    _c("conv", T4, rng.standard_normal((3, 3, 3, 4)).astype(f32)),
    _c("conv", T4, rng.standard_normal((2, 2, 3, 2)).astype(f32), strides=2, padding="same"),
    _c("conv", T3, rng.standard_normal((2, 4, 3)).astype(f32), dilation_rate=2,
       padding="same"),
    _c("conv", T4, rng.standard_normal((3, 3, 5, 2)).astype(f32), data_format="channels_first"),
    _c("depthwise_conv", T4, rng.standard_normal((3, 3, 3, 2)).astype(f32)),
    _c("depthwise_conv", T3, rng.standard_normal((2, 4, 1)).astype(f32), padding="same"),
    _c("separable_conv", T4, rng.standard_normal((3, 3, 3, 2)).astype(f32),
       rng.standard_normal((1, 1, 6, 4)).astype(f32)),
    _c("conv_transpose", T4, rng.standard_normal((3, 3, 2, 3)).astype(f32), strides=2),
    _c("conv_transpose", T4, rng.standard_normal((2, 2, 4, 3)).astype(f32), strides=2,
       padding="same"),
    _c("conv_transpose", T3, rng.standard_normal((3, 2, 4)).astype(f32), output_padding=1,
       strides=2),
    _c("batch_normalization", F, V3, np.abs(V3b), axis=-1),
    _c("batch_normalization", T3, np.ones(3, f32) * 0.1, np.ones(3, f32), axis=1,
       offset=np.ones(3, f32), scale=np.full(3, 2.0, f32)),
    _c("moments", T3, [0, 2]), _c("moments", T3, 1, keepdims=True),
    _c("normalize", F), _c("normalize", F, axis=0, order=1),
    _c("rms_normalization", F), _c("rms_normalization", F, scale=V3, epsilon=1e-3),
    _c("layer_normalization", F), _c("layer_normalization", T3, gamma=np.full(4, 2.0, f32),
                                     beta=np.ones(4, f32)),
    _c("binary_crossentropy", P, P[::-1].copy()),
    _c("binary_crossentropy", np.round(P), F, from_logits=True),
    _c("categorical_crossentropy", ONEHOT, np.abs(LOGITS) + 0.1),
    _c("categorical_crossentropy", ONEHOT, LOGITS, from_logits=True),
    _c("sparse_categorical_crossentropy", LABELS, np.abs(LOGITS) + 0.1),
    _c("sparse_categorical_crossentropy", LABELS, LOGITS, from_logits=True),
    _c("one_hot", LABELS, 5), _c("one_hot", np.array([[0, 2], [1, -1]]), 3, axis=0),
    _c("one_hot", LABELS, 5, dtype="int32"),
    _c("multi_hot", np.array([[0, 2], [1, 1]]), 4), _c("multi_hot", np.array([0, 3]), 5),
    _c("polar", P, F), _c("psnr", P, P[::-1].copy(), 1.0),
    _c("dot_product_attention", Q, Kk, Vv),
    _c("dot_product_attention", Q, Kk, Vv, is_causal=True),
    _c("dot_product_attention", Q, Kk, Vv, scale=0.5,
       bias=rng.standard_normal((2, 2, 4, 6)).astype(f32)),
    _c("dot_product_attention", Q, Kk[:, :, :1], Vv[:, :, :1],
       mask=rng.integers(0, 2, (2, 2, 4, 6)).astype(bool)),
    _c("unfold", np.transpose(T4, (0, 3, 1, 2)), 2),
    _c("unfold", np.transpose(T4, (0, 3, 1, 2)), (2, 3), dilation=1, padding=1, stride=2),
    _c("fold", rng.standard_normal((2, 12, 16)).astype(f32), (5, 5), 2),
    _c("depth_to_space", rng.standard_normal((1, 2, 2, 8)).astype(f32), 2),
    _c("space_to_depth", rng.standard_normal((1, 4, 4, 2)).astype(f32), 2),
    _c("depth_to_space", rng.standard_normal((1, 8, 2, 2)).astype(f32), 2,
       data_format="channels_first"),
    _c("ctc_loss", np.array([[1, 2, 2], [3, 1, 0]], np.int32),
       rng.standard_normal((2, 6, 5)).astype(f32), np.array([3, 2], np.int32),
       np.array([6, 5], np.int32)),
    _c("ctc_decode", rng.standard_normal((2, 6, 5)).astype(f32), np.array([6, 4], np.int32)),
]  # fmt: skip

# --------------------------------------------------------------------- linalg and math
CASES += [
    _c("cholesky", SPD), _c("cholesky", SPD, upper=True), _c("cholesky_inverse", LOW),
    _c("cholesky_inverse", LOW.T.copy(), upper=True), _c("det", M), _c("inv", SPD),
    _c("eigh", SPD), _c("norm", F), _c("norm", F, ord=1, axis=1), _c("norm", M, ord="fro"),
    _c("norm", M, ord="nuc"), _c("norm", M, ord=2), _c("norm", M, ord=-1),
    _c("norm", M, ord=np.inf, keepdims=True), _c("norm", V, ord=0), _c("norm", V, ord=3),
    _c("norm", I32), _c("solve", SPD, V3), _c("solve", SPD, M),
    _c("solve_triangular", LOW, V3, lower=True), _c("solve_triangular", LOW.T.copy(), M),
    _c("svd", R34, compute_uv=False), _c("lstsq", R42, V[:4].copy()),
    _c("lstsq", R34.T.copy(), rng.standard_normal((4, 2)).astype(f32)),
    _c("matrix_rank", M), _c("matrix_rank", np.array([[1.0, 2.0], [2.0, 4.0]], f32)),
    _c("pinv", R34), _c("logdet", SPD), _c("logsumexp", F), _c("logsumexp", F, axis=1,
                                                                 keepdims=True),
    _c("erf", F), _c("erfc", F), _c("erfinv", P), _c("rsqrt", G), _c("top_k", F, 2),
    _c("in_top_k", np.array([0, 2]), F, 2), _c("cdist", R34, rng.standard_normal((2, 4)).astype(f32)),
    _c("extract_sequences", V, 2, 1), _c("extract_sequences", F, 2, 1),
    _c("segment_sum", D5, SEG), _c("segment_max", D5, SEG, num_segments=4),
    _c("segment_min", D5, SEG, sorted=True), _c("segment_prod", D5, SEG),
    _c("fft", (F, F2)), _c("fft2", (T3, T3 * 2)), _c("ifft2", (T3, T3 * 0.5)),
    _c("rfft", V), _c("rfft", F, fft_length=4), _c("irfft", (F, F2)),
    _c("irfft", (F, F2), fft_length=5),
    _c("stft", rng.standard_normal((2, 32)).astype(f32), 8, 4, 8),
    _c("stft", rng.standard_normal(30).astype(f32), 6, 3, 8, window="hamming", center=False),
    _c("istft", (rng.standard_normal((9, 5)).astype(f32), rng.standard_normal((9, 5)).astype(f32)),
       8, 4, 8),
    _c("view_as_complex", np.stack([F, F2], -1)), _c("view_as_real", C64),
]  # fmt: skip

# ------------------------------------------------------------------------ keras.ops.core
CASES += [
    _c("cast", F, "int32"), _c("cast", I32, "bool"), _c("saturate_cast", F * 300, "uint8"),
    _c("saturate_cast", I32 * 100, "int8"), _c("convert_to_tensor", [1, 2.5]),
    _c("convert_to_tensor", F, dtype="float64"), _c("stop_gradient", F),
    _c("unstack", F), _c("unstack", F, axis=1), _c("slice", T3, (0, 1, 1), (2, 2, 2)),
    _c("slice_update", np.zeros((4, 4), f32), (1, 2), np.ones((2, 2), f32)),
    _c("scatter", np.array([[0, 1], [2, 0]]), np.array([5.0, 7.0], f32), (3, 2)),
    _c("scatter_update", np.zeros((3, 2), f32), np.array([[0, 1], [2, 0]]),
       np.array([5.0, 7.0], f32)),
    _c("scatter_update", np.ones((3, 2), f32), np.array([[0, 1], [0, 1]]),
       np.array([5.0, 7.0], f32), reduction="add"),
    _c("scatter_update", np.ones((3, 2), f32), np.array([[0, 1], [0, 1]]),
       np.array([5.0, 7.0], f32), reduction="mul"),
    _c("rearrange", T3, "a b c -> c (a b)"), _c("rearrange", R34, "(h w) c -> h w c", h=1),
]  # fmt: skip

# ---------------------------------------------------------------------- keras.ops.image
IMAGE_CASES = [
    _c("rgb_to_grayscale", RGB), _c("rgb_to_hsv", RGB), _c("hsv_to_rgb", RGB),
    _c("resize", RGB, (6, 3)), _c("resize", RGB, (2, 2), interpolation="nearest"),
    _c("resize", RGB, (6, 8), interpolation="bicubic", antialias=True),
    _c("resize", RGB, (3, 6), crop_to_aspect_ratio=True),
    _c("resize", RGB, (3, 6), pad_to_aspect_ratio=True, fill_value=0.5),
    _c("affine_transform", RGB, np.array([[1.2, 0.1, -0.5, -0.2, 0.9, 0.7, 0.0, 0.0],
                                          [0.8, -0.3, 1.0, 0.2, 1.1, -0.4, 0.01, 0.02]], f32)),
    _c("affine_transform", RGB, np.array([1.5, 0.0, -1.0, 0.0, 1.5, -1.0, 0, 0], f32),
       interpolation="nearest", fill_mode="reflect"),
    _c("affine_transform", RGB, np.array([1.5, 0.3, -1.0, 0.0, 1.5, -1.0, 0, 0], f32),
       fill_mode="wrap"),
    _c("affine_transform", RGB, np.array([1.5, 0.3, -1.0, 0.0, 1.5, -1.0, 0, 0], f32),
       fill_mode="nearest", fill_value=0.3),
    _c("perspective_transform", RGB, np.array([[0, 0], [3, 0], [0, 3], [3, 3]], f32),
       np.array([[0.2, 0.1], [2.8, 0.3], [0.1, 2.9], [3.2, 2.7]], f32)),
    _c("map_coordinates", M, np.array([[0.5, 1.7, -0.4], [2.2, 0.1, 1.0]], f32), 1),
    _c("map_coordinates", M, np.array([[0.5, 1.7, 3.4], [2.2, -1.1, 1.0]], f32), 0,
       fill_mode="nearest"),
    _c("map_coordinates", M, np.array([[0.5, 4.7, -2.4], [2.2, 0.1, 6.0]], f32), 1,
       fill_mode="mirror"),
    _c("map_coordinates", M, np.array([[0.5, 4.7, -2.4], [2.2, 0.1, 6.0]], f32), 1,
       fill_mode="wrap"),
    _c("pad_images", RGB, 1, 2, 0, 1), _c("pad_images", RGB[0], top_padding=1,
                                            target_height=6, left_padding=0, target_width=5),
    _c("crop_images", RGB, 1, 0, 1, 2), _c("crop_images", RGB, top_cropping=1,
                                             target_height=2, right_cropping=1,
                                             target_width=2),
    _c("extract_patches", RGB, 2), _c("extract_patches", RGB, (2, 3), strides=1,
                                      padding="same"),
    _c("extract_patches_3d", rng.standard_normal((1, 4, 4, 4, 2)).astype(f32), 2),
    _c("gaussian_blur", RGB), _c("gaussian_blur", RGB, kernel_size=(5, 3), sigma=(2.0, 0.5)),
    _c("scale_and_translate", RGB, (2, 6, 6, 3), np.array([1.5, 1.5], f32),
       np.array([0.0, 0.0], f32), (1, 2), "linear"),
    _c("scale_and_translate", RGB, (2, 2, 3, 3), np.array([0.5, 0.7], f32),
       np.array([0.1, 0.0], f32), (1, 2), "cubic"),
    _c("sobel_edges", RGB), _c("ssim", RGB, RGB[::-1].copy(), filter_size=3),
]  # fmt: skip
