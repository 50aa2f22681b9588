"""tnp against TF 2.21's ``tf.experimental.numpy`` (skipped without TensorFlow).

TF's ``experimental_enable_numpy_behavior`` changes process-wide state that cannot be
undone, so TF runs in a subprocess: it evaluates every expression below under each mode
and reports dtype, shape and value (or the error class); rill evaluates the same
expressions here, in the same modes, and must agree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("tensorflow")

import rill.experimental.numpy as tnp  # noqa: E402
from rill.experimental.numpy._behavior import _disable_numpy_behavior  # noqa: E402

SETUP = """
import numpy as np
rng = np.random.default_rng(1)
f64 = rng.standard_normal((2, 3))
vals = {
    "i8": np.array([[1, -2, 3], [4, 5, -6]], np.int8),
    "u8": np.array([[1, 2, 3], [4, 5, 6]], np.uint8),
    "i16": np.array([[1, -2, 3], [4, 5, -6]], np.int16),
    "i32": np.array([[1, -2, 3], [4, 5, -6]], np.int32),
    "i64": np.array([[1, -2, 3], [4, 5, -6]], np.int64),
    "f16": f64.astype(np.float16),
    "f32": f64.astype(np.float32),
    "f64": f64,
    "b": np.array([[True, False, True], [False, False, True]]),
}
"""

DTYPES = ["i8", "u8", "i32", "i64", "f16", "f32", "f64", "b"]
UNARY = (
    "sqrt exp log1p sin tanh arctan cbrt ceil floor fix abs fabs negative positive reciprocal "
    "square sign signbit deg2rad exp2 log2 isnan isfinite real imag logical_not"
).split()
REDUCE = "sum prod mean amax amin all any std var ptp count_nonzero argmax cumsum cumprod".split()
PAIRS = [
    ("i32", "f32"), ("i8", "u8"), ("i16", "f16"), ("i64", "f32"), ("f16", "f32"),
    ("b", "i8"), ("u8", "i32"), ("i32", "1.5"), ("f32", "2"), ("f32", "2.5"), ("i8", "3"),
    ("b", "b"),
]  # fmt: skip
BINARY = (
    "add subtract multiply divide true_divide floor_divide mod power maximum minimum arctan2 "
    "hypot logaddexp equal less logical_and"
).split()


def _arg(name):
    return name if name[0].isdigit() else f"T['{name}']"


def _expressions():
    ex = [
        f"tnp.{fn}(T['{d}'])"
        for fn in UNARY
        for d in DTYPES
        if not (d == "b" and fn in ("negative", "sign"))
    ]
    ex += [f"tnp.{fn}(T['{d}'])" for fn in REDUCE for d in ("i8", "u8", "i32", "f32", "b")]
    ex += [f"tnp.{fn}({_arg(a)}, {_arg(b)})" for fn in BINARY for a, b in PAIRS
           if not (fn in ("subtract", "arctan2", "hypot", "logaddexp") and "b" in (a, b))
           and not (fn == "power" and b == "2.5" and a.startswith("i"))]  # fmt: skip
    ex += [
        "tnp.asarray(1.5)", "tnp.asarray([1, 2])", "tnp.asarray([1.5, 2])", "tnp.array(3, ndmin=2)",
        "tnp.ones(3)", "tnp.zeros((2,), dtype=tnp.int32)", "tnp.arange(4)", "tnp.arange(0.5, 2, 0.5)",
        "tnp.linspace(0, 1, 5)", "tnp.logspace(0, 2, 3)", "tnp.geomspace(1, 100, 3)",
        "tnp.eye(3, k=1)", "tnp.tri(3)", "tnp.full((2, 2), 7)", "tnp.full_like(T['i32'], 2.5)",
        "tnp.vander(T['i32'][0])", "tnp.concatenate([T['i32'], T['f32']])",
        "tnp.stack([T['i8'], T['u8']])", "tnp.where(T['b'], T['i32'], 1.5)",
        "tnp.clip(T['i32'], 0, 2.5)", "tnp.around(T['f32'], 1)", "tnp.round(T['i32'])",
        "tnp.dot(T['i32'], T['f32'].T)", "tnp.matmul(T['i8'], T['u8'].T)",
        "tnp.outer(T['i32'][0], T['f16'][0])", "tnp.inner(T['f32'], T['f64'])",
        "tnp.average(T['i32'], axis=1)", "tnp.average(T['f32'], weights=T['i32'], axis=0)",
        "tnp.nanmean(T['f32'])", "tnp.nansum(T['i32'])", "tnp.diff(T['u8'])",
        "tnp.cross(T['f32'], T['i32'])", "tnp.kron(T['i8'], T['i32'])", "tnp.polyval([1, 2], T['f32'])",
        "tnp.gcd(T['i32'], 4)", "tnp.lcm(T['i8'], T['i32'])", "tnp.heaviside(T['f32'], 0.5)",
        "tnp.float_power(T['i32'], 2)", "tnp.trace(T['i8'])", "tnp.sort(T['f32'])",
        "tnp.argsort(T['i32'])", "tnp.take(T['f32'], [0, 4])", "tnp.sinc(T['i32'])",
        "tnp.isclose(T['f32'], T['f64'])", "tnp.nextafter(T['f32'], 0)",
        "tnp.result_type(tnp.int32, 1.0)", "tnp.result_type(T['i8'], T['u8'])",
        "tnp.result_type(tnp.float32, 1.0)", "tnp.random.uniform(size=2)", "tnp.random.randn(2)",
    ]  # fmt: skip
    return ex


OPERATORS = [
    "T['i32'] + T['f32']", "T['i32'] + 1.5", "T['f32'] + 1.5", "T['i8'] * T['u8']",
    "T['f32'] - T['f64']", "T['i32'] / T['i32']", "T['i64'] // 2", "T['f16'] < T['f32']",
    "T['i32'] ** 2", "T['b'] & T['b']", "T['i32'].T", "T['i32'].reshape(3, 2)",
    "T['f32'].reshape((6,))", "T['i32'].ravel()", "T['i32'].astype(tnp.float32)",
    "T['f32'].clip(0, 1)", "T['i32'].max()", "T['i32'].mean()", "T['f32'].min(axis=0)",
    "T['i32'].size", "T['i32'].tolist()", "T['f32'].transpose()", "T['i32'].flatten()",
    "T['i32'][[0, 1], [1, 2]]", "T['i32'][T['i32'] > 2]",
]  # fmt: skip

MODES = [
    {"prefer_float32": False, "dtype_conversion_mode": "legacy"},
    {"prefer_float32": True, "dtype_conversion_mode": "legacy"},
    {"prefer_float32": False, "dtype_conversion_mode": "off"},
]

RUNNER = (
    SETUP
    + """
import json, sys
import tensorflow as tf
tnp = tf.experimental.numpy
exprs, modes = json.load(sys.stdin)
out = []
for m in modes:
    tnp.experimental_enable_numpy_behavior(**m)
    T = {k: tf.constant(v) for k, v in vals.items()}
    res = {}
    for e in exprs:
        try:
            r = eval(e)
            if isinstance(r, (list, tuple)):
                r = tnp.asarray(r) if not isinstance(r[0], list) else r
            if hasattr(r, "numpy") or hasattr(r, "dtype") and hasattr(r, "shape"):
                a = np.asarray(r)
                res[e] = ["ok", str(np.dtype(r.dtype.as_numpy_dtype) if hasattr(r.dtype, "as_numpy_dtype") else r.dtype), list(a.shape), a.astype(np.float64).ravel().tolist() if a.dtype.kind != "c" else []]
            else:
                res[e] = ["value", repr(r)]
        except Exception as x:
            res[e] = ["error", type(x).__name__]
    out.append(res)
json.dump(out, sys.stdout)
"""
)


@pytest.fixture(scope="module")
def tf_results():
    exprs = _expressions() + OPERATORS
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER], input=json.dumps([exprs, MODES]), env=env,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _rill_eval(exprs, mode):
    import rill as tf

    ns: dict = {}
    exec(SETUP, ns)
    tnp.experimental_enable_numpy_behavior(**mode)
    try:
        T = {k: tf.constant(v) for k, v in ns["vals"].items()}  # noqa: N806
        env = {"tnp": tnp, "T": T, "np": np, "tf": tf}
        res = {}
        for e in exprs:
            try:
                r = eval(e, env)
                if isinstance(r, (list, tuple)):
                    r = tnp.asarray(r) if not isinstance(r[0], list) else r
                if isinstance(r, (tf.Tensor, np.generic)):
                    a = np.asarray(r.numpy() if isinstance(r, tf.Tensor) else r)
                    vals = a.astype(np.float64).ravel().tolist() if a.dtype.kind != "c" else []
                    res[e] = ["ok", str(a.dtype), list(a.shape), vals]
                else:
                    res[e] = ["value", repr(r)]
            except Exception as x:  # noqa: BLE001 - the error class is compared
                res[e] = ["error", type(x).__name__]
        return res
    finally:
        _disable_numpy_behavior()


# values that are random or TF-specific (its int8 pow overflows) are compared by dtype only
_DTYPE_ONLY = ("tnp.random",)


@pytest.mark.parametrize("mode_index", range(len(MODES)))
def test_against_tf(tf_results, mode_index):
    exprs = _expressions() + OPERATORS
    want = tf_results[mode_index]
    got = _rill_eval(exprs, MODES[mode_index])
    problems = []
    for e in exprs:
        w, g = want[e], got[e]
        if w[0] == "error":
            continue  # TF fails on some inputs rill accepts (e.g. its sign of uint8)
        if g[0] != w[0] or g[1] != w[1]:
            problems.append(f"{e}: rill {g[:3]} TF {w[:3]}")
            continue
        if w[0] == "ok":
            if g[2] != w[2]:
                problems.append(f"{e}: shape rill {g[2]} TF {w[2]}")
            elif not e.startswith(_DTYPE_ONLY) and w[3]:
                tol = 1e-2 if "f16" in e else 1e-5
                if not np.allclose(g[3], w[3], rtol=tol, atol=tol, equal_nan=True):
                    problems.append(f"{e}: values rill {g[3][:6]} TF {w[3][:6]}")
    assert not problems, (
        f"{len(problems)} disagreements in mode {MODES[mode_index]}:\n" + "\n".join(problems)
    )
