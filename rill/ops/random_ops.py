"""Random ops with TF's global/op seed semantics, ``Generator`` and the stateless variants.

Three families, all drawn from NumPy's Philox bit generator:

* Stateful ops (``tf.random.normal`` ...): each op gets a pair of seeds from
  :func:`get_seed` (the global seed of ``tf.random.set_seed`` and the op seed). A seeded op
  draws from a stream cached per (op, seeds), so calling it again continues the stream
  (different values) and ``set_seed`` restarts every stream; unseeded ops draw from a
  non-deterministic stream.
* Stateless ops (``tf.random.stateless_*``): pure functions of ``(seed, shape)``; the
  seed words are hashed (``SeedSequence``) into a fresh Philox key on every call.
* ``Generator``: its state is an int64 ``Variable`` ``[counter_lo, counter_hi, key]``;
  each draw runs a stateless op keyed by the current state and advances the counter.

Random primitives are not differentiable; ``mean``/``stddev``/``minval``/``maxval`` get
gradients because the public functions combine a standard draw with rill ops.
"""

from __future__ import annotations

import enum
import functools
import random as _pyrandom
import threading
import weakref
import zlib

import numpy as np

from rill.core import dispatch as _dispatch
from rill.core import dtypes as _d
from rill.core.errors import UnimplementedError
from rill.core.variables import Variable
from rill.ops import lowering_math as _lowering_math
from rill.ops import lowering_rules as _lowering
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    TensorShape,
    bind,
    broadcast_shapes,
    convert_to_tensor,
    op_error,
    primitive,
    static_value,
    tf_export,
)
from rill.ops.array_ops import cast, stack, zeros_like
from rill.ops.math_ops import add, maximum, multiply, realdiv, subtract
from rill.ops.reduction_ops import reduce_sum

# Kernels that draw from NumPy's bit generators (the streams rill must reproduce exactly)
# are declared host=True: the draw runs on host NumPy whatever the backend. Kernels that
# transform an input with a drawn permutation or uniforms (shuffle, multinomial) use xp.

_MAXINT32 = 2**31 - 1
_DEFAULT_GRAPH_SEED = 87654321
_M64 = (1 << 64) - 1

_FLOATS = frozenset([_d.float16, _d.bfloat16, _d.float32, _d.float64])
_SEED_DTYPES = frozenset([_d.int32, _d.int64])
_UNIFORM_DTYPES = (_d.float16, _d.bfloat16, _d.float32, _d.float64, _d.int32, _d.int64)
_FULL_INT_DTYPES = frozenset([_d.int32, _d.int64, _d.uint32, _d.uint64])
_POISSON_DTYPES = frozenset([_d.float16, _d.float32, _d.float64, _d.int32, _d.int64])

# --------------------------------------------------------------------------------------
# Seeds: the global seed, op seeds and the per-(op, seeds) streams
# --------------------------------------------------------------------------------------


class _SeedState:
    def __init__(self):
        self.lock = threading.Lock()
        self.global_seed = None
        self.rng = None  # random.Random(global seed): the op-seed counter of eager ops
        self.streams = {}  # (op, dtype, seed, seed2) -> np.random.Generator
        self.graph_counters = weakref.WeakKeyDictionary()
        self.nondet = None


_seeds = _SeedState()


def _truncate_seed(s):
    return int(s) % _MAXINT32


@tf_export("random.set_seed")
def set_seed(seed):
    """Set the global random seed.

    With a global seed, every random op without an op seed gets one from an internal
    counter, so re-running ``set_seed(s)`` and the same sequence of ops reproduces the
    same values. ``set_seed`` also restarts the streams of seeded ops.
    """
    with _seeds.lock:
        if seed is None:
            _seeds.global_seed = None
            _seeds.rng = None
        else:
            seed = int(np.asarray(seed))
            _seeds.global_seed = seed
            _seeds.rng = _pyrandom.Random(seed)
        _seeds.streams.clear()


def _graph_op_seed(graph):
    try:
        n = _seeds.graph_counters.get(graph, 0)
        _seeds.graph_counters[graph] = n + 1
    except TypeError:  # graph objects that are not weak-referenceable
        n = getattr(graph, "_rill_random_seed_counter", 0)
        graph._rill_random_seed_counter = n + 1
    return n


def get_seed(op_seed):
    """The ``(seed, seed2)`` pair a random op uses, from the global seed and ``op_seed``.

    ``(None, None)`` means non-deterministic. Follows TF: a global seed alone gives each
    op a deterministic op seed from a counter; an op seed alone pairs with a default
    global seed.
    """
    graph = _dispatch.state.graph
    with _seeds.lock:
        gs = _seeds.global_seed
        if gs is not None:
            if op_seed is None:
                op_seed = (
                    _graph_op_seed(graph) if graph is not None else _seeds.rng.randint(0, _MAXINT32)
                )
            seeds = (_truncate_seed(gs), _truncate_seed(op_seed))
        elif op_seed is not None:
            seeds = (_DEFAULT_GRAPH_SEED, _truncate_seed(op_seed))
        else:
            return None, None
    if seeds == (0, 0):
        return 0, _MAXINT32
    return seeds


@functools.cache
def _salt(name: str) -> int:
    return zlib.crc32(name.encode())


def _keyed(words, salt: str) -> np.random.Generator:
    """A fresh Philox generator keyed by a hash of integer ``words`` and ``salt``."""
    entropy = [int(w) & _M64 for w in words] + [_salt(salt)]
    return np.random.Generator(np.random.Philox(np.random.SeedSequence(entropy)))


def _nondeterministic() -> np.random.Generator:
    g = _seeds.nondet
    if g is None:
        with _seeds.lock:
            if _seeds.nondet is None:
                _seeds.nondet = np.random.Generator(np.random.Philox())
            g = _seeds.nondet
    return g


def _stream(name, dtype, seed, seed2) -> np.random.Generator:
    """The stream of a stateful op: cached per (op, dtype, seeds) until ``set_seed``."""
    if seed is None:
        return _nondeterministic()
    key = (name, dtype, seed, seed2)
    g = _seeds.streams.get(key)
    if g is None:
        with _seeds.lock:
            g = _seeds.streams.setdefault(key, _keyed((seed, seed2), f"{name}/{dtype}"))
    return g


def _seed_gen(op, seed) -> np.random.Generator:
    """The generator of a stateless op for the seed array ``seed`` (1-D ints)."""
    if seed.ndim != 1 or seed.size == 0 or seed.dtype.kind not in "iu":
        raise op_error(
            InvalidArgumentError, op, f"seed must have shape [2], not {list(seed.shape)}"
        )
    return _keyed(seed, op)


# --------------------------------------------------------------------------------------
# Shapes and drawing helpers
# --------------------------------------------------------------------------------------


def _shape_tensor(shape):
    """Convert a shape argument (list, TensorShape, tensor) to an int32/int64 vector tensor."""
    if isinstance(shape, TensorShape):
        if not shape.is_fully_defined():
            raise ValueError(f"Random ops need a fully defined shape, got {shape}")
        shape = shape.as_list()
    t = convert_to_tensor(shape, dtype_hint=_d.int32)
    if t.dtype not in _SEED_DTYPES:
        raise op_error(
            InvalidArgumentError,
            "RandomOp",
            f"shape must be a vector of {{int32,int64}}, got dtype {t.dtype.name}",
        )
    return t


def _check_dims(op, dims):
    for d in dims:
        if d < 0:
            raise op_error(InvalidArgumentError, op, f"Dimension {d} must be >= 0 (shape {dims})")


def _dims(op, shape) -> tuple:
    """Kernel side: the concrete output shape from a shape array."""
    if shape.ndim != 1 or shape.dtype.kind not in "iu":
        raise op_error(
            InvalidArgumentError,
            op,
            f"shape must be a vector of {{int32,int64}}, got shape {list(shape.shape)}",
        )
    dims = tuple(int(d) for d in shape)
    _check_dims(op, dims)
    return dims


def _shape_of(op, s: AVal) -> TensorShape:
    """Shape-rule side: the (partial) output shape from the shape input's abstract value."""
    if s.dtype not in _SEED_DTYPES:
        raise op_error(
            InvalidArgumentError,
            op,
            f"shape must be a vector of {{int32,int64}}, got {s.dtype.name}",
        )
    if s.rank is not None and s.rank != 1:
        raise op_error(
            InvalidArgumentError,
            op,
            f"shape must be a vector of {{int32,int64}}, got shape {list(s.shape)}",
        )
    if s.value is not None:
        dims = [int(d) for d in np.asarray(s.value).reshape(-1)]
        _check_dims(op, dims)
        return TensorShape(dims)
    if s.rank == 1 and s.shape[0] is not None:
        return TensorShape([None] * s.shape[0])
    return TensorShape(None)


def _concat_shapes(a: TensorShape, b: TensorShape) -> TensorShape:
    if a.rank is None or b.rank is None:
        return TensorShape(None)
    return TensorShape(a.as_list() + b.as_list())


def _check_float(op, dtype):
    if dtype not in _FLOATS:
        ok = ", ".join(d.name for d in sorted(_FLOATS, key=lambda d: d.name))
        raise op_error(
            InvalidArgumentError, op, f"dtype {dtype.name} is not supported; supported dtypes: {ok}"
        )


def _normal(gen, dims, dtype):
    if dtype is _d.float64:
        return gen.standard_normal(dims)
    out = gen.standard_normal(dims, dtype=np.float32)
    return out if dtype is _d.float32 else out.astype(dtype.np)


_LOW_BITS = {_d.float16: 11, _d.bfloat16: 8}


def _uniform(gen, dims, dtype):
    """Floats in [0, 1); low-precision types are drawn on their own grid so 1 never appears."""
    if dtype is _d.float64:
        return gen.random(dims)
    out = gen.random(dims, dtype=np.float32)
    bits = _LOW_BITS.get(dtype)
    if bits is None:
        return out
    scale = np.float32(2.0**bits)
    return (np.floor(out * scale) / scale).astype(dtype.np)


def _truncated(gen, dims, dtype):
    z = gen.standard_normal(dims)
    bad = np.abs(z) > 2.0
    while bad.any():  # rejection rounds (each redraws only the ~4.6% outside the bounds)
        z[bad] = gen.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2.0
    return z.astype(dtype.np)


def _int_bounds(op, minval, maxval):
    if minval.ndim != 0:
        raise op_error(
            InvalidArgumentError, op, f"minval must be 0-D, got shape {list(minval.shape)}"
        )
    if maxval.ndim != 0:
        raise op_error(
            InvalidArgumentError, op, f"maxval must be 0-D, got shape {list(maxval.shape)}"
        )
    lo, hi = int(minval), int(maxval)
    if lo >= hi:
        raise op_error(InvalidArgumentError, op, f"Need minval < maxval, got {lo} >= {hi}")
    return lo, hi


def _full_int(gen, dims, dtype):
    info = np.iinfo(dtype.np)
    return gen.integers(info.min, info.max, size=dims, dtype=dtype.np, endpoint=True)


def _multinomial(xp, op, gen, logits, num_samples, out_dtype):
    """Categorical samples per row by inverse CDF (rows offset so one searchsorted serves
    all); the uniforms come from ``gen`` on the host."""
    if logits.ndim != 2:
        raise op_error(
            InvalidArgumentError, op, f"logits should be a matrix, got shape {list(logits.shape)}"
        )
    n = int(num_samples)
    if n < 0:
        raise op_error(InvalidArgumentError, op, f"num_samples should be non-negative, got {n}")
    b, k = logits.shape
    if k == 0 and b > 0:
        raise op_error(InvalidArgumentError, op, "num_classes should be positive, got 0")
    if b == 0 or n == 0:
        return xp.zeros((b, n), dtype=out_dtype.np)
    lg = logits.astype(np.float64)
    m = lg.max(axis=1, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0.0)
    p = xp.exp(lg - m)
    cdf = xp.cumsum(p, axis=1)
    cdf /= cdf[:, -1:]
    off = xp.arange(b, dtype=np.float64)[:, None]
    u = xp.asarray(gen.random((b, n)))
    idx = xp.searchsorted((cdf + off).reshape(-1), (u + off).reshape(-1), side="right")
    idx = idx.reshape(b, n) - (xp.arange(b) * k)[:, None]
    return xp.clip(idx, 0, k - 1).astype(out_dtype.np)


def _shuffle(xp, gen, value):
    """``value`` permuted along its first dimension by a permutation drawn on the host."""
    if value.ndim == 0:
        return value
    return value[xp.asarray(gen.permutation(value.shape[0]))]


# --------------------------------------------------------------------------------------
# Stateful primitives (params seed/seed2 pick the stream; never folded or deduplicated)
# --------------------------------------------------------------------------------------


def _float_rule(op):
    def rule(s, dtype, seed=None, seed2=None):
        _check_float(op, dtype)
        return AVal(_shape_of(op, s), dtype)

    return rule


def _float_kernel(op, draw):
    def kernel(s, dtype, seed=None, seed2=None):
        _check_float(op, dtype)
        return draw(_stream(op, dtype, seed, seed2), _dims(op, s), dtype)

    return kernel


random_normal_p = primitive(
    "RandomStandardNormal",
    _float_kernel("RandomStandardNormal", _normal),
    _float_rule("RandomStandardNormal"),
    stateful=True,
    host=True,
    lowering=_lowering.host_random(
        "normal", lambda dtype, seed, seed2: _stream("RandomStandardNormal", dtype, seed, seed2)
    ),
)
random_uniform_p = primitive(
    "RandomUniform",
    _float_kernel("RandomUniform", _uniform),
    _float_rule("RandomUniform"),
    stateful=True,
    host=True,
    lowering=_lowering.host_random(
        "uniform", lambda dtype, seed, seed2: _stream("RandomUniform", dtype, seed, seed2)
    ),
)
truncated_normal_p = primitive(
    "TruncatedNormal",
    _float_kernel("TruncatedNormal", _truncated),
    _float_rule("TruncatedNormal"),
    stateful=True,
    host=True,
    lowering=_lowering.host_random(
        "truncated", lambda dtype, seed, seed2: _stream("TruncatedNormal", dtype, seed, seed2)
    ),
)


def _uniform_int_rule(s, minval, maxval, seed=None, seed2=None, stream=None):
    op = "RandomUniformInt"
    if minval.dtype is not maxval.dtype or minval.dtype not in _SEED_DTYPES:
        raise op_error(
            InvalidArgumentError, op,
            f"minval and maxval must both be int32 or int64, got {minval.dtype.name} and {maxval.dtype.name}",
        )  # fmt: skip
    for nm, a in (("minval", minval), ("maxval", maxval)):
        if a.rank is not None and a.rank != 0:
            raise op_error(InvalidArgumentError, op, f"{nm} must be 0-D, got shape {list(a.shape)}")
    if (
        minval.value is not None
        and maxval.value is not None
        and int(minval.value) >= int(maxval.value)
    ):
        raise op_error(
            InvalidArgumentError,
            op,
            f"Need minval < maxval, got {int(minval.value)} >= {int(maxval.value)}",
        )
    return AVal(_shape_of(op, s), minval.dtype)


def _uniform_int_kernel(s, minval, maxval, seed=None, seed2=None, stream=None):
    op = "RandomUniformInt"
    dims = _dims(op, s)
    lo, hi = _int_bounds(op, minval, maxval)
    gen = _stream(stream or op, minval.dtype.name, seed, seed2)
    return gen.integers(lo, hi, size=dims, dtype=minval.dtype)


random_uniform_int_p = primitive(
    "RandomUniformInt",
    _uniform_int_kernel,
    _uniform_int_rule,
    stateful=True,
    host=True,
    # the kernel's own stream (its name, dtype and seeds) hands each execution a key
    lowering=_lowering_math.host_random_int(
        lambda name, dtype, seed, seed2: _stream(name or "RandomUniformInt", dtype, seed, seed2)
    ),
)


def _multinomial_rule(logits, num_samples, output_dtype, seed=None, seed2=None):
    op = "Multinomial"
    if logits.dtype not in _FLOATS:
        raise op_error(
            InvalidArgumentError, op, f"logits must be a float tensor, got {logits.dtype.name}"
        )
    if logits.rank is not None and logits.rank != 2:
        raise op_error(
            InvalidArgumentError, op, f"logits should be a matrix, got shape {list(logits.shape)}"
        )
    n = None
    if num_samples.value is not None:
        n = int(num_samples.value)
        if n < 0:
            raise op_error(InvalidArgumentError, op, f"num_samples should be non-negative, got {n}")
    b = logits.shape[0] if logits.rank is not None else None
    return AVal([b, n], output_dtype)


def _multinomial_kernel(logits, num_samples, output_dtype, seed=None, seed2=None, xp=np):
    gen = _stream("Multinomial", output_dtype, seed, seed2)
    return _multinomial(xp, "Multinomial", gen, logits, num_samples, output_dtype)


multinomial_p = primitive(
    "Multinomial", _multinomial_kernel, _multinomial_rule, dtypes=_FLOATS, n_typed=1, stateful=True
)

random_shuffle_p = primitive(
    "RandomShuffle",
    lambda x, seed=None, seed2=None, xp=np: _shuffle(
        xp, _stream("RandomShuffle", None, seed, seed2), x
    ),
    lambda x, **_: AVal(x.shape, x.dtype),
    stateful=True,
)


def _poisson_rule(s, rate, dtype, seed=None, seed2=None):
    if rate.dtype not in _POISSON_DTYPES or dtype not in _POISSON_DTYPES:
        raise op_error(
            InvalidArgumentError, "RandomPoissonV2",
            f"rate dtype {rate.dtype.name} / output dtype {dtype.name} not supported; "
            f"both must be one of float16, float32, float64, int32, int64",
        )  # fmt: skip
    return AVal(_concat_shapes(_shape_of("RandomPoissonV2", s), rate.shape), dtype)


def _poisson(gen, dims, rate, dtype):
    lam = np.broadcast_to(rate.astype(np.float64), dims + rate.shape)
    return gen.poisson(lam).astype(dtype.np)


def _poisson_kernel(s, rate, dtype, seed=None, seed2=None):
    op = "RandomPoissonV2"
    return _poisson(_stream(op, dtype, seed, seed2), _dims(op, s), rate, dtype)


random_poisson_p = primitive(
    "RandomPoissonV2", _poisson_kernel, _poisson_rule, stateful=True, host=True
)


# --------------------------------------------------------------------------------------
# Stateless primitives: pure functions of (shape, seed, ...)
# --------------------------------------------------------------------------------------


def _check_seed_aval(op, seed: AVal):
    if seed.dtype not in _SEED_DTYPES:
        raise op_error(
            InvalidArgumentError,
            op,
            f"seed must be an int32 or int64 tensor, got {seed.dtype.name}",
        )
    if seed.rank is not None and seed.rank != 1:
        raise op_error(
            InvalidArgumentError, op, f"seed must have shape [2], not {list(seed.shape)}"
        )


def _sl_float(op, draw, kind):
    def rule(s, seed, dtype):
        _check_float(op, dtype)
        _check_seed_aval(op, seed)
        return AVal(_shape_of(op, s), dtype)

    def kernel(s, seed, dtype):
        _check_float(op, dtype)
        return draw(_seed_gen(op, seed), _dims(op, s), dtype)

    return primitive(op, kernel, rule, host=True, lowering=_lowering.stateless_random(kind))


stateless_normal_p = _sl_float("StatelessRandomNormal", _normal, "normal")
stateless_uniform_p = _sl_float("StatelessRandomUniform", _uniform, "uniform")
stateless_truncated_normal_p = _sl_float("StatelessTruncatedNormal", _truncated, "truncated")


def _sl_uniform_int_rule(s, seed, minval, maxval):
    op = "StatelessRandomUniformInt"
    _check_seed_aval(op, seed)
    if minval.dtype is not maxval.dtype or minval.dtype not in _FULL_INT_DTYPES:
        raise op_error(
            InvalidArgumentError, op,
            f"minval and maxval must have the same integer dtype (int32, int64, uint32, uint64), "
            f"got {minval.dtype.name} and {maxval.dtype.name}",
        )  # fmt: skip
    if (
        minval.value is not None
        and maxval.value is not None
        and int(minval.value) >= int(maxval.value)
    ):
        raise op_error(
            InvalidArgumentError,
            op,
            f"Need minval < maxval, got {int(minval.value)} >= {int(maxval.value)}",
        )
    return AVal(_shape_of(op, s), minval.dtype)


def _sl_uniform_int_kernel(s, seed, minval, maxval):
    op = "StatelessRandomUniformInt"
    dims = _dims(op, s)
    lo, hi = _int_bounds(op, minval, maxval)
    return _seed_gen(op, seed).integers(lo, hi, size=dims, dtype=minval.dtype)


stateless_uniform_int_p = primitive(
    "StatelessRandomUniformInt",
    _sl_uniform_int_kernel,
    _sl_uniform_int_rule,
    host=True,
    lowering=_lowering.stateless_random("int"),
)


def _sl_full_int_rule(s, seed, dtype):
    op = "StatelessRandomUniformFullInt"
    _check_seed_aval(op, seed)
    if dtype not in _FULL_INT_DTYPES:
        raise op_error(
            InvalidArgumentError,
            op,
            f"dtype must be int32, int64, uint32 or uint64, got {dtype.name}",
        )
    return AVal(_shape_of(op, s), dtype)


stateless_full_int_p = primitive(
    "StatelessRandomUniformFullInt",
    lambda s, seed, dtype: _full_int(
        _seed_gen("StatelessRandomUniformFullInt", seed),
        _dims("StatelessRandomUniformFullInt", s),
        dtype,
    ),
    _sl_full_int_rule,
    host=True,
    lowering=_lowering_math.stateless_full_int,
)


def _sl_multinomial_rule(logits, num_samples, seed, output_dtype):
    _check_seed_aval("StatelessMultinomial", seed)
    return _multinomial_rule(logits, num_samples, output_dtype)


stateless_multinomial_p = primitive(
    "StatelessMultinomial",
    lambda logits, n, seed, output_dtype, xp=np: _multinomial(
        xp,
        "StatelessMultinomial",
        _seed_gen("StatelessMultinomial", seed),
        logits,
        n,
        output_dtype,
    ),
    _sl_multinomial_rule,
    dtypes=_FLOATS,
    n_typed=1,
)


def _sl_shuffle_rule(x, seed):
    _check_seed_aval("StatelessShuffle", seed)
    return AVal(x.shape, x.dtype)


stateless_shuffle_p = primitive(
    "StatelessShuffle",
    lambda x, seed, xp=np: _shuffle(xp, _seed_gen("StatelessShuffle", seed), x),
    _sl_shuffle_rule,
)


def _broadcast_into(op, what, a: AVal, out: TensorShape):
    if a.rank is None or out.rank is None:
        return
    if a.rank > out.rank or not all(
        x is None or y is None or x == 1 or x == y
        for x, y in zip(a.shape.as_list()[::-1], out.as_list()[::-1])
    ):
        raise op_error(
            InvalidArgumentError,
            op,
            f"{what} of shape {list(a.shape)} must broadcast to the output shape {list(out)}",
        )


def _sl_poisson_rule(s, seed, rate, dtype):
    op = "StatelessRandomPoisson"
    _check_seed_aval(op, seed)
    out = _poisson_rule(s, AVal([], rate.dtype), dtype)
    _broadcast_into(op, "lam", rate, out.shape)
    return out


def _broadcast_arg(op, what, a, dims):
    try:
        return np.broadcast_to(a, dims)
    except ValueError:
        raise op_error(
            InvalidArgumentError,
            op,
            f"{what} of shape {list(a.shape)} must broadcast to the output shape {list(dims)}",
        ) from None


def _sl_poisson_kernel(s, seed, rate, dtype):
    op = "StatelessRandomPoisson"
    dims = _dims(op, s)
    lam = _broadcast_arg(op, "lam", rate, dims).astype(np.float64)
    return _seed_gen(op, seed).poisson(lam).astype(dtype.np)


stateless_poisson_p = primitive(
    "StatelessRandomPoisson", _sl_poisson_kernel, _sl_poisson_rule, host=True
)


def _binomial_rule(s, seed, counts, probs, dtype):
    op = "StatelessRandomBinomial"
    _check_seed_aval(op, seed)
    if counts.dtype not in _FLOATS | _SEED_DTYPES or probs.dtype is not counts.dtype:
        raise op_error(
            InvalidArgumentError, op,
            f"counts and probs must have the same float or int dtype, got {counts.dtype.name} and {probs.dtype.name}",
        )  # fmt: skip
    if dtype not in _POISSON_DTYPES:
        raise op_error(InvalidArgumentError, op, f"output dtype {dtype.name} is not supported")
    out = _shape_of(op, s)
    _broadcast_into(op, "counts", counts, out)
    _broadcast_into(op, "probs", probs, out)
    return AVal(out, dtype)


def _binomial_kernel(s, seed, counts, probs, dtype):
    op = "StatelessRandomBinomial"
    dims = _dims(op, s)
    n = _broadcast_arg(op, "counts", counts, dims)
    p = _broadcast_arg(op, "probs", probs, dims)
    return _seed_gen(op, seed).binomial(n.astype(np.int64), p.astype(np.float64)).astype(dtype.np)


stateless_binomial_p = primitive(
    "StatelessRandomBinomial", _binomial_kernel, _binomial_rule, host=True
)


# Gamma: sampled by inverse CDF, so the sample is a smooth function of alpha for a fixed
# seed and its gradient is the implicit reparameterization d(sample)/d(alpha). The
# inverse of the regularised incomplete gamma comes from SciPy (an optional extra).


def _special(op):
    try:
        from scipy import special
    except ImportError:
        raise op_error(
            UnimplementedError,
            op,
            "gamma sampling needs SciPy's incomplete gamma functions; install them with "
            "pip install 'rill[scipy]'",
        ) from None
    return special


def _gamma_rule(s, seed, alpha):
    op = "StatelessRandomGammaV2"
    _check_seed_aval(op, seed)
    if alpha.dtype not in (_d.float16, _d.float32, _d.float64):
        raise op_error(
            InvalidArgumentError,
            op,
            f"alpha must be float16, float32 or float64, got {alpha.dtype.name}",
        )
    return AVal(_concat_shapes(_shape_of(op, s), alpha.shape), alpha.dtype)


def _gamma_kernel(s, seed, alpha):
    op = "StatelessRandomGammaV2"
    special = _special(op)
    dims = _dims(op, s)
    u = _seed_gen(op, seed).random(dims + alpha.shape)
    a = np.broadcast_to(alpha.astype(np.float64), u.shape)
    return special.gammaincinv(a, u).astype(alpha.dtype)


def _gamma_grad(inputs, out, dy):
    alpha = inputs[2]
    k = out.shape.rank - alpha.shape.rank
    partial = bind(random_gamma_grad_p, (alpha, out))
    return None, None, reduce_sum(multiply(dy, partial), axis=list(range(k)))


def _gamma_grad_kernel(alpha, sample):
    special = _special("RandomGammaGrad")

    a, x = np.broadcast_arrays(alpha.astype(np.float64), sample.astype(np.float64))
    h = 1e-4 * a
    dp = (special.gammainc(a + h, x) - special.gammainc(a - h, x)) / (2 * h)
    logpdf = (a - 1) * np.log(x) - x - special.gammaln(a)
    g = -dp / np.exp(logpdf)
    return np.where((x > 0) & np.isfinite(g), g, 0.0).astype(alpha.dtype)


stateless_gamma_p = primitive(
    "StatelessRandomGammaV2", _gamma_kernel, _gamma_rule, _gamma_grad, host=True
)
random_gamma_grad_p = primitive(
    "RandomGammaGrad",
    _gamma_grad_kernel,
    lambda a, x: AVal(broadcast_shapes("RandomGammaGrad", a.shape, x.shape), a.dtype),
    dtypes=frozenset([_d.float32, _d.float64]),
    same_dtype=True,
    host=True,  # SciPy's special functions run on host NumPy arrays
)


# --------------------------------------------------------------------------------------
# Public stateful ops
# --------------------------------------------------------------------------------------


def _is_py(v, x):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == x


def _affine(rnd, scale, shift, dtype):
    """``rnd * scale + shift`` with rill ops (so gradients reach scale and shift)."""
    if _is_py(scale, 1) and _is_py(shift, 0):
        return rnd
    return add(multiply(rnd, convert_to_tensor(scale, dtype)), convert_to_tensor(shift, dtype))


def _seed_params(seed):
    s1, s2 = get_seed(seed)
    return {"seed": s1, "seed2": s2}


def _normal_like(prim, shape, mean, stddev, dtype, seed):
    dtype = _d.as_dtype(dtype)
    shape_t = _shape_tensor(shape)
    mean, stddev = _params_for(mean, stddev, dtype, prim.name)
    rnd = bind(prim, (shape_t,), {"dtype": dtype, **_seed_params(seed)})
    return _affine(rnd, stddev, mean, dtype)


def _params_for(mean, stddev, dtype, op):
    """Convert mean/stddev to ``dtype`` (TypeError for int dtypes, like TF); Python 0/1 stay
    as they are so ``_affine`` can skip the arithmetic."""
    if dtype.is_integer or dtype.is_bool:
        raise TypeError(f"Cannot convert {mean!r} to EagerTensor of dtype {dtype.name}")
    if not _is_py(mean, 0):
        mean = convert_to_tensor(mean, dtype)
    if not _is_py(stddev, 1):
        stddev = convert_to_tensor(stddev, dtype)
    _check_float(op, dtype)
    return mean, stddev


@tf_export("random.normal")
def normal(shape, mean=0.0, stddev=1.0, dtype=_d.float32, seed=None, name=None):
    """Samples from a normal distribution: ``mean + stddev * z``."""
    return _normal_like(random_normal_p, shape, mean, stddev, dtype, seed)


@tf_export("random.truncated_normal")
def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=_d.float32, seed=None, name=None):
    """Normal samples with values more than 2 stddev from the mean re-drawn."""
    return _normal_like(truncated_normal_p, shape, mean, stddev, dtype, seed)


def _check_uniform_dtype(dtype):
    if dtype not in _UNIFORM_DTYPES:
        ok = ", ".join(repr(d) for d in _UNIFORM_DTYPES)
        raise ValueError(
            f"Argument `dtype` got invalid value {dtype!r}. Accepted dtypes are ({ok})."
        )


@tf_export("random.uniform")
def uniform(shape, minval=0, maxval=None, dtype=_d.float32, seed=None, name=None):
    """Uniform samples in ``[minval, maxval)`` (``maxval`` defaults to 1 for floats)."""
    dtype = _d.as_dtype(dtype)
    _check_uniform_dtype(dtype)
    if maxval is None:
        if dtype.is_integer:
            raise ValueError(f"Must specify maxval for integer dtype {dtype!r}")
        maxval = 1
    shape_t = _shape_tensor(shape)
    lo = convert_to_tensor(minval, dtype)
    hi = convert_to_tensor(maxval, dtype)
    if dtype.is_integer:
        return bind(random_uniform_int_p, (shape_t, lo, hi), _seed_params(seed))
    rnd = bind(random_uniform_p, (shape_t,), {"dtype": dtype, **_seed_params(seed)})
    if _is_py(minval, 0) and _is_py(maxval, 1):
        return rnd
    return add(multiply(rnd, subtract(hi, lo)), lo)


def _categorical_dtype(dtype):
    dtype = _d.int64 if dtype is None else _d.as_dtype(dtype)
    if dtype not in (_d.int32, _d.int64):
        raise ValueError(
            f"Argument `dtype` got invalid value {dtype!r}. Accepted dtypes are (tf.int32, tf.int64)."
        )
    return dtype


@tf_export("random.categorical")
def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """Draws ``num_samples`` class indices per row of ``logits`` ([batch, classes])."""
    dtype = _categorical_dtype(dtype)
    logits = convert_to_tensor(logits)
    n = convert_to_tensor(num_samples, _d.int32)
    return bind(multinomial_p, (logits, n), {"output_dtype": dtype, **_seed_params(seed)})


@tf_export("random.shuffle")
def shuffle(value, seed=None, name=None):
    """Randomly permutes ``value`` along its first dimension."""
    return bind(random_shuffle_p, (convert_to_tensor(value),), _seed_params(seed))


def _gamma_from_key(shape, key, alpha, beta, dtype):
    dtype = _d.as_dtype(dtype)
    if not dtype.is_floating or dtype is _d.bfloat16:
        raise ValueError(
            f"data type {dtype.np} not inexact: gamma needs dtype float16, float32 or float64"
        )
    alpha = convert_to_tensor(alpha, dtype)
    beta_t = convert_to_tensor(1 if beta is None else beta, dtype)
    alpha_b = alpha if beta is None else add(alpha, zeros_like(beta_t))
    sample = bind(stateless_gamma_p, (_shape_tensor(shape), key, alpha_b))
    if beta is not None:
        sample = realdiv(sample, beta_t)
    return maximum(sample, convert_to_tensor(np.finfo(dtype.np).tiny, dtype))


@tf_export("random.gamma")
def gamma(shape, alpha, beta=None, dtype=_d.float32, seed=None, name=None):
    """Gamma(alpha, rate=beta) samples of shape ``shape + broadcast(alpha, beta).shape``.

    Differentiable w.r.t. ``alpha`` and ``beta`` (implicit reparameterization).
    """
    key = bind(
        random_uniform_int_p,
        (
            convert_to_tensor([2], _d.int32),
            convert_to_tensor(0, _d.int64),
            convert_to_tensor(2**62, _d.int64),
        ),
        {"stream": "RandomGamma", **_seed_params(seed)},
    )
    return _gamma_from_key(shape, key, alpha, beta, dtype)


@tf_export("random.poisson")
def poisson(shape, lam, dtype=_d.float32, seed=None, name=None):
    """Poisson(lam) samples of shape ``shape + lam.shape``."""
    lam = convert_to_tensor(lam)
    params = {"dtype": _d.as_dtype(dtype), **_seed_params(seed)}
    return bind(random_poisson_p, (_shape_tensor(shape), lam), params)


# --------------------------------------------------------------------------------------
# Public stateless ops
# --------------------------------------------------------------------------------------


def _seed_tensor(seed, op="stateless random op"):
    """Validate a stateless seed: an int32/int64 tensor of shape [2]."""
    s = convert_to_tensor(seed, dtype_hint=_d.int32)
    if s.dtype not in _SEED_DTYPES:
        raise op_error(
            InvalidArgumentError, op, f"seed must be an int32 or int64 tensor, got {s.dtype.name}"
        )
    if s.shape.rank is not None and not s.shape.is_compatible_with([2]):
        raise op_error(InvalidArgumentError, op, f"seed must have shape [2], not {list(s.shape)}")
    return s


@tf_export("random.stateless_normal")
def stateless_normal(
    shape, seed, mean=0.0, stddev=1.0, dtype=_d.float32, name=None, alg="auto_select"
):
    """Normal samples, a pure function of ``(seed, shape)``."""
    return _sl_normal_like(stateless_normal_p, shape, seed, mean, stddev, dtype)


@tf_export("random.stateless_truncated_normal")
def stateless_truncated_normal(
    shape, seed, mean=0.0, stddev=1.0, dtype=_d.float32, name=None, alg="auto_select"
):
    """Truncated normal samples (within 2 stddev), a pure function of ``(seed, shape)``."""
    return _sl_normal_like(stateless_truncated_normal_p, shape, seed, mean, stddev, dtype)


def _sl_normal_like(prim, shape, seed, mean, stddev, dtype, key=None):
    dtype = _d.as_dtype(dtype)
    shape_t = _shape_tensor(shape)
    key = _seed_tensor(seed, prim.name) if key is None else key
    mean, stddev = _params_for(mean, stddev, dtype, prim.name)
    rnd = bind(prim, (shape_t, key), {"dtype": dtype})
    return _affine(rnd, stddev, mean, dtype)


def _sl_uniform(shape, key, minval, maxval, dtype):
    dtype = _d.as_dtype(dtype)
    if dtype not in _UNIFORM_DTYPES and dtype not in _FULL_INT_DTYPES:
        ok = ", ".join(repr(d) for d in (*_UNIFORM_DTYPES, _d.uint32, _d.uint64))
        raise ValueError(
            f"Argument `dtype` got invalid value {dtype!r}. Accepted dtypes are ({ok})."
        )
    if dtype.is_integer:
        if (minval is None) != (maxval is None):
            raise ValueError(
                f"For integer `dtype` argument {dtype!r}, argument `minval` and `maxval` must be both "
                f"None or not None. Got `minval`={minval} and `maxval`={maxval}."
            )
    elif maxval is None:
        maxval = 1
    shape_t = _shape_tensor(shape)
    if dtype.is_integer and minval is None:
        return bind(stateless_full_int_p, (shape_t, key), {"dtype": dtype})
    lo = convert_to_tensor(minval, dtype)
    hi = convert_to_tensor(maxval, dtype)
    if dtype.is_integer:
        return bind(stateless_uniform_int_p, (shape_t, key, lo, hi))
    rnd = bind(stateless_uniform_p, (shape_t, key), {"dtype": dtype})
    if _is_py(minval, 0) and _is_py(maxval, 1):
        return rnd
    return add(multiply(rnd, subtract(hi, lo)), lo)


@tf_export("random.stateless_uniform")
def stateless_uniform(
    shape, seed, minval=0, maxval=None, dtype=_d.float32, name=None, alg="auto_select"
):
    """Uniform samples in ``[minval, maxval)``, a pure function of ``(seed, shape)``.

    For integer dtypes pass both bounds, or ``minval=None, maxval=None`` for the full range.
    """
    return _sl_uniform(
        shape,
        _seed_tensor(seed, "StatelessRandomUniform"),
        minval,
        maxval,
        dtype,
    )


@tf_export("random.stateless_categorical")
def stateless_categorical(logits, num_samples, seed, dtype=_d.int64, name=None):
    """Categorical samples per row of ``logits``, a pure function of the seed."""
    dtype = _categorical_dtype(dtype)
    logits = convert_to_tensor(logits)
    n = convert_to_tensor(num_samples, _d.int32)
    return bind(
        stateless_multinomial_p,
        (logits, n, _seed_tensor(seed, "StatelessMultinomial")),
        {"output_dtype": dtype},
    )


@tf_export("random.stateless_gamma")
def stateless_gamma(shape, seed, alpha, beta=None, dtype=_d.float32, name=None):
    """Gamma samples, a pure function of ``(seed, shape, alpha, beta)``; differentiable."""
    return _gamma_from_key(shape, _seed_tensor(seed, "StatelessRandomGammaV2"), alpha, beta, dtype)


@tf_export("random.stateless_poisson")
def stateless_poisson(shape, seed, lam, dtype=_d.int32, name=None):
    """Poisson samples of shape ``shape`` (``lam`` broadcast to it), a pure function of the seed."""
    lam = convert_to_tensor(lam)
    key = _seed_tensor(seed, "StatelessRandomPoisson")
    return bind(
        stateless_poisson_p, (_shape_tensor(shape), key, lam), {"dtype": _d.as_dtype(dtype)}
    )


@tf_export("random.stateless_binomial")
def stateless_binomial(shape, seed, counts, probs, output_dtype=_d.int32, name=None):
    """Binomial(counts, probs) samples of shape ``shape``, a pure function of the seed."""
    counts = convert_to_tensor(counts)
    probs = convert_to_tensor(probs, counts.dtype)
    return bind(
        stateless_binomial_p,
        (_shape_tensor(shape), _seed_tensor(seed, "StatelessRandomBinomial"), counts, probs),
        {"dtype": _d.as_dtype(output_dtype)},
    )


@tf_export("random.split", "random.experimental.stateless_split")
def split(seed, num=2, alg="auto_select"):
    """``num`` new independent seeds (shape [num, 2]) derived from ``seed``."""
    s = _seed_tensor(seed, "split")
    return bind(
        stateless_full_int_p, (convert_to_tensor([int(num), 2], _d.int32), s), {"dtype": s.dtype}
    )


@tf_export("random.fold_in", "random.experimental.stateless_fold_in")
def fold_in(seed, data, alg="auto_select"):
    """A new seed derived from ``seed`` and the integer ``data``."""
    s = _seed_tensor(seed, "fold_in")
    data = convert_to_tensor(data, dtype_hint=_d.int32)
    first = bind(stateless_full_int_p, (convert_to_tensor([], _d.int32), s), {"dtype": data.dtype})
    return stack([first, data])


@tf_export("random.experimental.stateless_shuffle")
def stateless_shuffle(value, seed, alg="auto_select", name=None):
    """Permutes ``value`` along its first dimension, a pure function of the seed."""
    return bind(
        stateless_shuffle_p, (convert_to_tensor(value), _seed_tensor(seed, "StatelessShuffle"))
    )


# --------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------


@tf_export("random.Algorithm", "random.experimental.Algorithm")
class Algorithm(enum.Enum):
    """The RNG algorithms (rill draws every one of them from NumPy's Philox)."""

    PHILOX = 1
    THREEFRY = 2
    AUTO_SELECT = 3


_ALG_NAMES = {"philox": 1, "threefry": 2, "auto_select": 3}


def _alg_int(alg) -> int:
    if alg is None:
        return Algorithm.PHILOX.value
    if isinstance(alg, Algorithm):
        return alg.value
    if isinstance(alg, str):
        key = alg.lower()
        if key not in _ALG_NAMES:
            raise ValueError(
                f"Unsupported RNG algorithm {alg!r}; use 'philox', 'threefry' or 'auto_select'"
            )
        return _ALG_NAMES[key]
    v = int(static_value(alg))
    if v not in (1, 2, 3):
        raise ValueError(
            f"Unsupported RNG algorithm {v}; use 1 (philox), 2 (threefry) or 3 (auto_select)"
        )
    return v


def _state_size(alg: int) -> int:
    return 2 if alg == Algorithm.THREEFRY.value else 3


def _to_int64(v: int) -> int:
    v &= _M64
    return v - (1 << 64) if v >= (1 << 63) else v


# TF's stateful random kernels reserve this many Philox counter steps per output, so a
# generator's state after a draw is TF's.
_COUNTER_STEPS_PER_OUTPUT = 256


@tf_export("random.create_rng_state", "random.experimental.create_rng_state")
def create_rng_state(seed, alg):
    """The int64 RNG state tensor TF makes from ``seed`` (see ``_rng_state``)."""
    return convert_to_tensor(_rng_state(seed, alg))


def _rng_state(seed, alg) -> np.ndarray:
    """The RNG state as TF makes it from ``seed``: an int is cut into 64-bit words, least
    significant first, one per state word; a list of ints is taken as words, truncated to
    the state size and zero-padded on the left."""
    size = _state_size(_alg_int(alg))
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        s = int(seed)
        words = []
        for _ in range(size):
            words.append(s & _M64)
            s >>= 64
    else:
        v = static_value(seed)
        if v is None:
            raise ValueError("create_rng_state: the seed must be known (not a traced tensor)")
        words = [int(w) for w in np.asarray(v).reshape(-1).tolist()][:size]
    state = np.zeros(size, np.int64)
    if words:
        state[size - len(words) :] = [_to_int64(w) for w in words]
    return state


def _num_elements(shape_t):
    v = static_value(shape_t)
    return None if v is None else int(np.prod(np.asarray(v), dtype=np.int64))


@tf_export("random.Generator", "random.experimental.Generator")
class Generator:
    """A random-number generator whose state lives in an int64 ``Variable``.

    Draws are reproducible from the state and independent across ``split``; the state
    variable (``generator.state``) can be checkpointed and restored.
    """

    def __init__(self, copy_from=None, state=None, alg=None):
        if copy_from is not None:
            if state is not None or alg is not None:
                raise ValueError("Generator: pass either copy_from, or state and alg, not both.")
            self._alg = copy_from.algorithm
            self._state_var = self._make_var(copy_from.state.read_value())
            return
        if state is None or alg is None:
            raise ValueError("Generator: state and alg must both be given (or use from_seed).")
        self._alg = _alg_int(alg)
        if isinstance(state, Variable):
            self._check_shape(state.shape)
            self._state_var = state
        else:
            self._state_var = self._make_var(state)

    def _check_shape(self, shape):
        n = _state_size(self._alg)
        if not TensorShape(shape).is_compatible_with([n]):
            raise ValueError(
                f"Generator: state must have shape [{n}] for algorithm {self._alg}, got {shape}"
            )

    def _make_var(self, state):
        t = convert_to_tensor(state, dtype_hint=_d.int64)
        if t.dtype is not _d.int64:
            t = cast(t, _d.int64)
        self._check_shape(t.shape)
        return Variable(t, trainable=False, name="StateVar", dtype=_d.int64)

    # constructors ---------------------------------------------------------------------
    @classmethod
    def from_state(cls, state, alg):
        """A generator starting at ``state``."""
        return cls(state=state, alg=alg)

    @classmethod
    def from_seed(cls, seed, alg=None):
        """A generator whose state is derived from ``seed`` (an int or a list of ints)."""
        alg = _alg_int(alg)
        return cls(state=_rng_state(seed, alg), alg=alg)

    @classmethod
    def from_non_deterministic_state(cls, alg=None):
        """A generator with an OS-entropy state."""
        alg = _alg_int(alg)
        state = (
            np.random.SeedSequence().generate_state(_state_size(alg), np.uint64).astype(np.int64)
        )
        state[:-1] = 0  # counter starts at 0, the key is random
        return cls(state=state, alg=alg)

    @classmethod
    def from_key_counter(cls, key, counter, alg):
        """A generator from a scalar ``key`` and a ``counter`` vector."""
        return cls(state=_key_counter_state(key, counter, _alg_int(alg)), alg=alg)

    # state ----------------------------------------------------------------------------
    @property
    def state(self):
        """The state ``Variable`` (int64, ``[counter..., key]``)."""
        return self._state_var

    @property
    def algorithm(self):
        return self._alg

    @property
    def key(self):
        """The key part of the state (a scalar int64 tensor)."""
        return self._state_var.read_value()[-1]

    def reset(self, state):
        """Set the state."""
        t = convert_to_tensor(state, dtype_hint=_d.int64)
        self._check_shape(t.shape)
        self._state_var.assign(t)

    def reset_from_seed(self, seed):
        self._state_var.assign(_rng_state(seed, self._alg))

    def reset_from_key_counter(self, key, counter):
        self._state_var.assign(_key_counter_state(key, counter, self._alg))

    def skip(self, delta):
        """Advance the state as ``normal([delta])`` would (TF reserves 256 counter steps
        per output); returns the state before the skip."""
        old = self._state_var.read_value()
        n = static_value(delta)
        inc = np.zeros(_state_size(self._alg), np.int64)
        if n is not None:
            inc[0] = int(n) * _COUNTER_STEPS_PER_OUTPUT
            self._state_var.assign_add(inc)
        else:
            zero = convert_to_tensor(0, _d.int64)
            step = cast(delta, _d.int64) * _COUNTER_STEPS_PER_OUTPUT
            self._state_var.assign_add(stack([step] + [zero] * (len(inc) - 1)))
        return old

    def _key_for(self, shape_t):
        """The seed tensor for the next draw (the current state), advancing the counter as
        TF's stateful kernels do: 256 steps per output."""
        n = _num_elements(shape_t)
        return self.skip(n if n is not None else 1)

    # distributions --------------------------------------------------------------------
    def normal(self, shape, mean=0.0, stddev=1.0, dtype=_d.float32, name=None):
        """Normal samples ``mean + stddev * z``."""
        key = self._key_for(_shape_tensor(shape))
        return _sl_normal_like(stateless_normal_p, shape, None, mean, stddev, dtype, key=key)

    def truncated_normal(self, shape, mean=0.0, stddev=1.0, dtype=_d.float32, name=None):
        """Normal samples with values beyond 2 stddev re-drawn."""
        key = self._key_for(_shape_tensor(shape))
        return _sl_normal_like(
            stateless_truncated_normal_p, shape, None, mean, stddev, dtype, key=key
        )

    def uniform(self, shape, minval=0, maxval=None, dtype=_d.float32, name=None):
        """Uniform samples in ``[minval, maxval)``; integer dtypes need both bounds, or
        both None for the full range."""
        dtype = _d.as_dtype(dtype)
        if dtype.is_integer and (minval is None) != (maxval is None):
            raise ValueError(
                f"For integer dtype {dtype!r}, minval and maxval must be both `None` or both "
                f"non-`None`; got minval={minval} and maxval={maxval}"
            )
        key = self._key_for(_shape_tensor(shape))
        return _sl_uniform(shape, key, minval, maxval, dtype)

    def uniform_full_int(self, shape, dtype=_d.uint64, name=None):
        """Integers uniform over the whole range of ``dtype``."""
        shape_t = _shape_tensor(shape)
        key = self._key_for(shape_t)
        return bind(stateless_full_int_p, (shape_t, key), {"dtype": _d.as_dtype(dtype)})

    def binomial(self, shape, counts, probs, dtype=_d.int32, name=None):
        """Binomial(counts, probs) samples of shape ``shape``."""
        counts = convert_to_tensor(counts)
        probs = convert_to_tensor(probs, counts.dtype)
        shape_t = _shape_tensor(shape)
        key = self._key_for(shape_t)
        return bind(
            stateless_binomial_p, (shape_t, key, counts, probs), {"dtype": _d.as_dtype(dtype)}
        )

    def make_seeds(self, count=1):
        """``count`` seeds for stateless ops, as an int64 tensor of shape [2, count]."""
        keys = self.uniform_full_int([count], dtype=_d.int64)
        return stack([keys, zeros_like(keys)])

    def split(self, count=1):
        """``count`` new generators, independent of each other and of this one."""
        keys = self.uniform_full_int([count], dtype=_d.int64).numpy()
        n = _state_size(self._alg)
        return [
            Generator(state=np.array([0] * (n - 1) + [int(k)], np.int64), alg=self._alg)
            for k in keys
        ]

    def _trackable_children(self):
        """What a checkpoint saves: the state variable, under TF's attribute name."""
        return [("_state_var", self._state_var)]

    def __repr__(self):
        return f"<rill.random.Generator alg={self._alg} state={self._state_var.numpy().tolist()}>"


def _key_counter_state(key, counter, alg):
    c = np.asarray(static_value(counter), np.int64).reshape(-1)
    k = np.asarray(static_value(key), np.int64).reshape(-1)
    n = _state_size(alg)
    if c.size != n - 1 or k.size != 1:
        raise ValueError(f"Generator: counter must have shape [{n - 1}] and key must be a scalar")
    return np.concatenate([c, k])


_global_generator = None


@tf_export("random.get_global_generator", "random.experimental.get_global_generator")
def get_global_generator():
    """The global ``Generator`` (created from a non-deterministic state on first use)."""
    global _global_generator
    if _global_generator is None:
        with _seeds.lock:
            if _global_generator is None:
                _global_generator = Generator.from_non_deterministic_state()
    return _global_generator


@tf_export("random.set_global_generator", "random.experimental.set_global_generator")
def set_global_generator(generator):
    """Replace the global ``Generator``."""
    global _global_generator
    _global_generator = generator
