"""The last of ``tf.nn`` / ``tf.random``: sparse embedding lookups, fractional pooling,
``with_space_to_batch``, the learned unigram sampler, parameterized truncated normals
and the stateless index shuffle (``tf.random.experimental.index_shuffle``).

``index_shuffle`` reproduces TF's values bit for bit: its permutation is a small Simon
block cipher over the smallest even bit width (at least 16) holding ``max_index``,
cycle-walked until the result falls in ``[0, max_index]``. The fractional pooling
sequences follow TF's two recipes (Graham's pseudo-random one and a shuffled one) but
draw from rill's generators, so for a given seed they are deterministic, not TF's;
the pooling over given sequences matches TF's values.
"""

from __future__ import annotations

import collections
import math
import threading

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import InvalidArgumentError
from rill.ops._op import (
    AVal,
    bind,
    convert_to_tensor,
    op_error,
    primitive,
    static_value,
    tf_export,
)
from rill.ops.array_ops import cast, reshape, shape, zeros_like
from rill.ops.creation_ops import range as _range
from rill.ops.indexing_ops import gather
from rill.ops.linalg_ops import einsum
from rill.ops.math_ops import (
    divide_no_nan,
    greater_equal,
    less_equal,
    logical_and,
    minimum,
    multiply,
)
from rill.ops.reduction_ops import reduce_max, reduce_sum, segment_sum
from rill.ops.sort_ops import unique
from rill.ops.unary_ops import sqrt, square

_INDEX_DTYPES = frozenset({_d.int32, _d.int64, _d.uint32, _d.uint64})
_M64 = (1 << 64) - 1

# ======================================================================================
# index_shuffle: a Simon-cipher permutation of [0, max_index]
# ======================================================================================


def _rotl(x, r, w, mask):
    return ((x << np.uint64(r)) | (x >> np.uint64(w - r))) & mask


def _rotr(x, r, w, mask):
    return ((x >> np.uint64(r)) | (x << np.uint64(w - r))) & mask


def _simon_keys(key, rounds, w):
    """The Simon key schedule for word size ``w`` from three 32-bit key words."""
    mask = (1 << w) - 1
    c = 0xFFFFFFFC & mask
    z = 0x7369F885192C0EF5 & mask
    rk = [int(k) & mask for k in key]
    for i in range(3, rounds):
        prev = rk[i - 1]
        rot3 = ((prev >> 3) | (prev << (w - 3))) & mask
        rot4 = ((prev >> 4) | (prev << (w - 4))) & mask
        rk.append(c ^ (z & 1) ^ rk[i - 3] ^ rot3 ^ rot4)
        z >>= 1
    return rk[:rounds] if rounds >= 3 else rk


def _simon_encrypt(v, keys, w):
    """Encrypt the uint64 array ``v`` (two ``w``-bit words) with the round ``keys``."""
    mask = np.uint64((1 << w) - 1)
    left = (v >> np.uint64(w)) & mask
    right = v & mask

    def f(x):
        return (_rotl(x, 1, w, mask) & _rotl(x, 8, w, mask)) ^ _rotl(x, 2, w, mask)

    for i in range(0, len(keys) - 1, 2):
        left = left ^ f(right) ^ np.uint64(keys[i])
        right = right ^ f(left) ^ np.uint64(keys[i + 1])
    return (left << np.uint64(w)) | right


def _shuffle_one(index, key, max_index, rounds):
    """TF's ``index_shuffle`` for uint64 ``index`` arrays sharing one key and max."""
    if max_index == 0:
        return np.zeros_like(index)
    bits = int(math.ceil(math.log2(float(max_index))))
    bits = max(bits + bits % 2, 16)
    w = min(bits, 64) // 2
    keys = _simon_keys(key, rounds, w)
    out = _simon_encrypt(index, keys, w)
    bad = out > np.uint64(max_index)
    while bad.any():  # cycle-walk: re-encrypt until inside the range
        out[bad] = _simon_encrypt(out[bad], keys, w)
        bad = out > np.uint64(max_index)
    return out


def _index_shuffle_kernel(index, seed, max_index, rounds):
    op = "RandomIndexShuffle"
    index, seed, max_index = np.asarray(index), np.asarray(seed), np.asarray(max_index)
    n = max(index.size, max_index.size, seed.size // 3)
    if index.ndim > 1 or (index.ndim == 1 and index.shape[0] != n):
        raise op_error(InvalidArgumentError, op, "Index bust be a scalar or vector.")
    if not (seed.shape == (3,) or (seed.ndim == 2 and seed.shape == (n, 3))):
        raise op_error(
            InvalidArgumentError,
            op,
            f"Seed must be a vector of size [3] or a matrix of size [{n}, 3] but got "
            f"{list(seed.shape)}.",
        )
    if max_index.ndim > 1 or (max_index.ndim == 1 and max_index.shape[0] != n):
        raise op_error(
            InvalidArgumentError,
            op,
            "Maxval must be a scalar or a vector of the same size as index but got "
            f"{list(max_index.shape)}",
        )
    idx = np.broadcast_to(index.astype(np.uint64), (n,)) if index.ndim == 0 else index
    mx = np.broadcast_to(max_index, (n,)) if max_index.ndim == 0 else max_index
    idx = idx.astype(np.uint64)
    keys = seed.reshape(-1, 3).astype(np.int64).astype(np.uint64) & np.uint64(0xFFFFFFFF)
    out = np.empty(n, np.uint64)
    if keys.shape[0] == 1 and max_index.ndim == 0:
        out[:] = _shuffle_one(idx.copy(), keys[0].tolist(), int(mx[0]) & _M64, rounds)
    else:
        for i in range(n):
            k = keys[0 if keys.shape[0] == 1 else i].tolist()
            m = int(np.asarray(mx[i]).astype(np.uint64))
            out[i] = _shuffle_one(idx[i : i + 1].copy(), k, m, rounds)[0]
    out = out.astype(index.dtype)
    all_scalar = index.ndim == 0 and seed.ndim == 1 and max_index.ndim == 0
    return out.reshape(()) if all_scalar else out


def _index_shuffle_rule(index, seed, max_index, rounds):
    op = "RandomIndexShuffle"
    if index.dtype not in _INDEX_DTYPES or max_index.dtype is not index.dtype:
        raise op_error(
            InvalidArgumentError,
            op,
            f"index and max_index must share one dtype of int32, int64, uint32, uint64; got "
            f"{index.dtype.name} and {max_index.dtype.name}",
        )
    if seed.dtype not in _INDEX_DTYPES:
        raise op_error(InvalidArgumentError, op, f"Invalid seed type: {seed.dtype.name}")
    if index.rank == 0 and seed.rank == 1 and max_index.rank == 0:
        return AVal([], index.dtype)
    n = None
    for a in (index, max_index):
        if a.rank == 1 and a.shape[0] is not None:
            n = a.shape[0]
    if n is None and seed.rank == 2 and seed.shape[0] is not None:
        n = seed.shape[0]
    if n is None and index.rank == 0 and max_index.rank == 0:
        n = 1
    return AVal([n], index.dtype)


random_index_shuffle_p = primitive(
    "RandomIndexShuffle",
    _index_shuffle_kernel,
    _index_shuffle_rule,
    n_typed=1,
    dtypes=_INDEX_DTYPES,
    host=True,
)


@tf_export("random_index_shuffle")
def random_index_shuffle(index, seed, max_index, rounds=4, name=None):
    """The position of ``index`` in a pseudorandom permutation of ``[0, max_index]``
    keyed by a ``[3]`` (or ``[n, 3]``) ``seed``; ``rounds`` (even, >= 4) cipher rounds."""
    rounds = int(rounds)
    if rounds < 4 or rounds % 2:
        raise op_error(
            InvalidArgumentError,
            "RandomIndexShuffle",
            f"rounds must be an even integer >= 4, got {rounds}",
        )
    index = convert_to_tensor(index)
    max_index = convert_to_tensor(max_index, dtype=index.dtype)
    seed = convert_to_tensor(seed, dtype_hint=_d.int64)
    return bind(random_index_shuffle_p, (index, seed, max_index), {"rounds": rounds})


@tf_export("random.experimental.index_shuffle")
def index_shuffle(index, seed, max_index):
    """The position of ``index`` in the permutation of ``[0, max_index]`` that the
    stateless ``seed`` (shape ``[2]``) picks; vectors of indices shuffle elementwise."""
    seed = np.asarray(static_value(convert_to_tensor(seed)))
    if seed.ndim == 1:
        # TF's raw op takes three key words: it prepends a fixed one to the usual pair
        seed = np.concatenate([np.asarray([498247692], seed.dtype), seed])
    else:
        raise op_error(
            InvalidArgumentError,
            "RandomIndexShuffle",
            f"seed must have shape [2], got {list(seed.shape)}",
        )
    return random_index_shuffle(index, seed, max_index, rounds=4)


# ======================================================================================
# stateless_parameterized_truncated_normal
# ======================================================================================


def _truncnorm_draw(gen, lo, hi):
    """Standard normals truncated to ``[lo, hi]`` (float64 arrays of one shape).

    Each element picks the proposal that keeps its acceptance rate bounded below (the
    regimes TF's kernel distinguishes too): N(0, 1) for a wide interval near 0, a uniform
    one for a narrow interval, and Robert's (1995) shifted exponential for a far tail.
    Intervals below 0 are sampled mirrored.
    """
    a_all, b_all = lo.reshape(-1), hi.reshape(-1)
    mirror = b_all <= 0
    a_all, b_all = np.where(mirror, -b_all, a_all), np.where(mirror, -a_all, b_all)
    width = b_all - a_all
    straddle = a_all < 0
    uniform = np.where(straddle, width < 2.0, width * np.maximum(a_all, 1.0) < 1.0)
    normal = ~uniform & (straddle | (a_all < 0.5))
    res = np.empty(a_all.shape, np.float64)
    todo = np.arange(a_all.size)
    for _ in range(100000):
        if todo.size == 0:
            break
        a, b, m = a_all[todo], b_all[todo], todo.size
        # uniform proposal: accept with the density ratio to the interval's peak
        peak = np.where(straddle[todo], 0.0, a * a)
        xu = a + (b - a) * gen.random(m)
        ok_u = np.log1p(-gen.random(m)) <= (peak - xu * xu) / 2
        xn = gen.standard_normal(m)
        ok_n = (xn >= a) & (xn <= b)
        alpha = (a + np.sqrt(a * a + 4.0)) / 2
        xe = a - np.log1p(-gen.random(m)) / alpha
        ok_e = (np.log1p(-gen.random(m)) <= -((xe - alpha) ** 2) / 2) & (xe <= b)
        x = np.where(uniform[todo], xu, np.where(normal[todo], xn, xe))
        ok = np.where(uniform[todo], ok_u, np.where(normal[todo], ok_n, ok_e))
        res[todo[ok]] = x[ok]
        todo = todo[~ok]
    res[todo] = (a_all[todo] + b_all[todo]) / 2  # unreachable in practice
    return np.where(mirror, -res, res).reshape(lo.shape)


def _ptn_kernel(s, seed, means, stddevs, minvals, maxvals):
    from rill.ops.random_ops import _seed_gen

    op = "StatelessParameterizedTruncatedNormal"
    dims = tuple(int(d) for d in np.asarray(s).reshape(-1))
    try:
        bc = [np.broadcast_to(v, dims) for v in (means, stddevs, minvals, maxvals)]
    except ValueError:
        raise op_error(
            InvalidArgumentError,
            op,
            f"means {list(np.shape(means))}, stddevs {list(np.shape(stddevs))}, minvals "
            f"{list(np.shape(minvals))} and maxvals {list(np.shape(maxvals))} must broadcast "
            f"to the output shape {list(dims)}",
        ) from None
    mu, sd, lo, hi = (b.astype(np.float64) for b in bc)
    if np.any(lo >= hi):
        raise op_error(
            InvalidArgumentError, op, "Invalid parameters: minval must be less than maxval"
        )
    gen = _seed_gen(op, np.asarray(seed))
    std = _truncnorm_draw(gen, (lo - mu) / sd, (hi - mu) / sd)
    return np.clip(mu + sd * std, lo, hi).astype(np.asarray(means).dtype)


def _ptn_rule(s, seed, means, stddevs, minvals, maxvals):
    from rill.ops.random_ops import _check_seed_aval, _shape_of

    op = "StatelessParameterizedTruncatedNormal"
    _check_seed_aval(op, seed)
    dt = means.dtype
    if not dt.is_floating or any(a.dtype is not dt for a in (stddevs, minvals, maxvals)):
        raise op_error(
            InvalidArgumentError,
            op,
            f"means, stddevs, minvals and maxvals must share one float dtype, got "
            f"{[a.dtype.name for a in (means, stddevs, minvals, maxvals)]}",
        )
    return AVal(_shape_of(op, s), dt)


stateless_parameterized_truncated_normal_p = primitive(
    "StatelessParameterizedTruncatedNormal",
    _ptn_kernel,
    _ptn_rule,
    n_typed=0,
    host=True,
)


@tf_export("random.stateless_parameterized_truncated_normal")
def stateless_parameterized_truncated_normal(
    shape, seed, means=0.0, stddevs=1.0, minvals=-2.0, maxvals=2.0, name=None
):
    """Normal(means, stddevs) samples truncated to ``[minvals, maxvals]`` (broadcast to
    ``shape``), a pure function of the ``[2]`` seed."""
    from rill.ops.random_ops import _seed_tensor, _shape_tensor

    shape_t = _shape_tensor(shape)
    key = _seed_tensor(seed, "StatelessParameterizedTruncatedNormal")
    means = convert_to_tensor(means)
    dt = means.dtype if means.dtype.is_floating else _d.float32
    args = [convert_to_tensor(v, dtype=dt) for v in (means, stddevs, minvals, maxvals)]
    return bind(stateless_parameterized_truncated_normal_p, (shape_t, key, *args))


# ======================================================================================
# learned_unigram_candidate_sampler
# ======================================================================================

_learned = {}  # sampler attributes -> class counts; TF's eager kernel cache keeps these
_learned_lock = threading.Lock()

_LearnedSampled = collections.namedtuple(
    "LearnedUnigramCandidateSampler",
    ["sampled_candidates", "true_expected_count", "sampled_expected_count"],
)


def _learned_kernel(true_classes, num_true, num_sampled, unique, range_max, seed, seed2):
    from rill.ops.random_ops import _stream
    from rill.ops.sampling_ops import _draw

    key = (num_true, num_sampled, unique, range_max, seed, seed2)
    with _learned_lock:
        counts = _learned.setdefault(key, np.ones(range_max, np.float64))
        probs = counts / counts.sum()
        rng = _stream("LearnedUnigramCandidateSampler", "int64", seed, seed2)
        tries = num_sampled
        if unique:
            picked, seen, tries = [], set(), 0
            while len(picked) < num_sampled:
                for v in _draw(rng, "unigram", num_sampled, range_max, probs).tolist():
                    tries += 1
                    if v not in seen:
                        seen.add(v)
                        picked.append(v)
                        if len(picked) == num_sampled:
                            break
            sampled = np.asarray(picked, np.int64)
        else:
            sampled = _draw(rng, "unigram", num_sampled, range_max, probs).astype(np.int64)

        def expected(ids):
            inside = (ids >= 0) & (ids < range_max)
            p = np.where(inside, probs[np.where(inside, ids, 0)], 0.0)
            if tries == num_sampled:
                return (p * num_sampled).astype(np.float32)
            return (-np.expm1(tries * np.log1p(-p))).astype(np.float32)

        out = sampled, expected(true_classes), expected(sampled)
        # learn from this batch after sampling from what was known before it
        seen_ids = true_classes.reshape(-1)
        seen_ids = seen_ids[(seen_ids >= 0) & (seen_ids < range_max)]
        np.add.at(counts, seen_ids, 1.0)
    return out


def _learned_rule(true_classes, num_sampled, **_):
    return (
        AVal([num_sampled], _d.int64),
        AVal(true_classes.shape, _d.float32),
        AVal([num_sampled], _d.float32),
    )


learned_unigram_sampler_p = primitive(
    "LearnedUnigramCandidateSampler",
    _learned_kernel,
    _learned_rule,
    n_out=3,
    dtypes=frozenset({_d.int64}),
    host=True,
    stateful=True,
)


@tf_export("random.learned_unigram_candidate_sampler", "nn.learned_unigram_candidate_sampler")
def learned_unigram_candidate_sampler(
    true_classes, num_true, num_sampled, unique, range_max, seed=None, name=None
):
    """Sample classes by the unigram distribution learned from the ``true_classes`` seen
    so far (every class starts with count 1; each call counts its true classes after
    sampling)."""
    from rill.ops.random_ops import get_seed

    op = "LearnedUnigramCandidateSampler"
    t = convert_to_tensor(true_classes, dtype=_d.int64)
    num_true, num_sampled, range_max = int(num_true), int(num_sampled), int(range_max)
    if t.shape.rank != 2 or (t.shape[1] is not None and t.shape[1] != num_true):
        raise op_error(
            InvalidArgumentError,
            op,
            f"true_classes must be a matrix [batch, num_true={num_true}], got shape {t.shape}",
        )
    if range_max < 1:
        raise op_error(InvalidArgumentError, op, f"range_max must be >= 1, got {range_max}")
    if unique and num_sampled > range_max:
        raise op_error(
            InvalidArgumentError,
            op,
            f"Sampler's range is too small: num_sampled={num_sampled} distinct classes "
            f"requested from range_max={range_max}",
        )
    s1, s2 = get_seed(seed)
    params = {
        "num_true": num_true,
        "num_sampled": num_sampled,
        "unique": bool(unique),
        "range_max": range_max,
        "seed": s1,
        "seed2": s2,
    }
    return _LearnedSampled(*bind(learned_unigram_sampler_p, (t,), params))


# ======================================================================================
# Fractional pooling
# ======================================================================================


def _pool_sequence(gen, n_in, n_out, pseudo_random):
    """The cumulative boundaries ``[0, ..., n_in]`` of ``n_out`` pooling regions of
    sizes ``n_in // n_out`` or one more."""
    if pseudo_random:
        # Graham's a_i = ceil(alpha (i + u)), u capped so no gap leaves {k, k + 1}
        alpha = n_in / n_out
        k = n_in // n_out
        u_max = min((k + 2) / alpha - 1, (n_in + 1 - k) / alpha - (n_out - 1))
        u = gen.random() * u_max
        cum = np.empty(n_out + 1, np.int64)
        cum[0], cum[n_out] = 1, n_in + 1
        cum[1:n_out] = np.ceil(alpha * (np.arange(1, n_out) + u))
        diff = np.diff(cum)
    else:
        diff = np.full(n_out, n_in // n_out, np.int64)
        diff[: n_in % n_out] += 1
        gen.shuffle(diff)
    return np.concatenate([[0], np.cumsum(diff)]).astype(np.int64)


def _sequences_kernel(s, pooling_ratio, pseudo_random, seed, seed2, stream):
    from rill.ops.random_ops import _keyed, _stream

    dims = np.asarray(s).tolist()
    # a seeded op draws the same regions on every call (TF's deterministic=True)
    rng = _stream(stream, "int64", None, None) if seed is None else _keyed((seed, seed2), stream)
    rows = _pool_sequence(rng, dims[1], int(dims[1] / pooling_ratio[1]), pseudo_random)
    cols = _pool_sequence(rng, dims[2], int(dims[2] / pooling_ratio[2]), pseudo_random)
    return rows, cols


def _sequences_rule(s, pooling_ratio, **_):
    v = s.value
    if v is None:
        return AVal([None], _d.int64), AVal([None], _d.int64)
    v = np.asarray(v).tolist()
    return (
        AVal([int(v[1] / pooling_ratio[1]) + 1], _d.int64),
        AVal([int(v[2] / pooling_ratio[2]) + 1], _d.int64),
    )


fractional_pool_sequences_p = primitive(
    "FractionalPoolSequences",
    _sequences_kernel,
    _sequences_rule,
    n_out=2,
    n_typed=0,
    host=True,
    stateful=True,
)


def _windows(seq, n_in, width, overlapping):
    """``[n_out, width]`` input positions of each region, padded by repeating its last
    one (harmless for max, masked for the average)."""
    start = seq[:-1]
    last = seq[1:] if overlapping else seq[1:] - 1
    last = minimum(last, convert_to_tensor(n_in - 1, _d.int64))
    offs = _range(width, dtype=_d.int64)
    idx = reshape(start, [-1, 1]) + reshape(offs, [1, -1])
    return minimum(idx, reshape(last, [-1, 1])), last


def _avg_matrix(seq, n_in, overlapping, dtype):
    """``[n_out, n_in]``: row i averages region i."""
    start = reshape(seq[:-1], [-1, 1])
    last = seq[1:] if overlapping else seq[1:] - 1
    last = reshape(minimum(last, convert_to_tensor(n_in - 1, _d.int64)), [-1, 1])
    pos = reshape(_range(n_in, dtype=_d.int64), [1, -1])
    inside = cast(logical_and(greater_equal(pos, start), less_equal(pos, last)), dtype)
    return divide_no_nan(inside, reduce_sum(inside, axis=1, keepdims=True))


def fractional_pool_with_sequences(kind, value, row_seq, col_seq, overlapping, widths=None):
    """Max or average pool ``value`` (NHWC) over the regions that the cumulative
    ``row_seq`` / ``col_seq`` boundaries cut (TF's pooling given its sequences)."""
    x = convert_to_tensor(value)
    row_seq = convert_to_tensor(row_seq, dtype=_d.int64)
    col_seq = convert_to_tensor(col_seq, dtype=_d.int64)
    n_h, n_w = x.shape[1], x.shape[2]
    if kind == "max":
        wr, wc = widths or (_max_width(row_seq, overlapping), _max_width(col_seq, overlapping))
        ri, _ = _windows(row_seq, n_h, wr, overlapping)
        ci, _ = _windows(col_seq, n_w, wc, overlapping)
        y = reduce_max(gather(x, ri, axis=1), axis=2)  # [b, out_r, w, c]
        return reduce_max(gather(y, ci, axis=2), axis=3)
    ft = x.dtype if x.dtype.is_floating else _d.float64
    r = _avg_matrix(row_seq, n_h, overlapping, ft)
    c = _avg_matrix(col_seq, n_w, overlapping, ft)
    xf = x if ft is x.dtype else cast(x, ft)
    y = einsum("jw,biwc->bijc", c, einsum("ih,bhwc->biwc", r, xf))
    return y if ft is x.dtype else cast(y, x.dtype)


def _max_width(seq, overlapping):
    v = static_value(seq)
    if v is None:
        raise ValueError("fractional pooling needs sequences known when the op is built")
    d = np.diff(np.asarray(v))
    return int(d.max(initial=1)) + (1 if overlapping else 0)


def _max_pool_ratio(pooling_ratio):
    """tf.nn.fractional_max_pool's ratio: a number or 1, 2 or 4 of them, all >= 1."""
    if isinstance(pooling_ratio, (list, tuple)):
        if any(r < 1.0 for r in pooling_ratio):
            raise ValueError(
                f"`pooling_ratio` elements should be >= 1.0. Received: "
                f"pooling_ratio={pooling_ratio}"
            )
        ratio = [float(r) for r in pooling_ratio]
    elif isinstance(pooling_ratio, (int, float)):
        if pooling_ratio < 1.0:
            raise ValueError(
                f"`pooling_ratio` should be >= 1.0. Received: pooling_ratio={pooling_ratio}"
            )
        ratio = [float(pooling_ratio)]
    else:
        raise ValueError(
            "`pooling_ratio` should be an int or a list of ints. Received: "
            f"pooling_ratio={pooling_ratio}"
        )
    if len(ratio) == 1:
        return [1.0, ratio[0], ratio[0], 1.0]
    if len(ratio) == 2:
        return [1.0, *ratio, 1.0]
    if len(ratio) != 4 or ratio[0] != 1.0 or ratio[3] != 1.0:
        raise ValueError(
            "`pooling_ratio` should have first and last elements with value 1.0. Received: "
            f"pooling_ratio={pooling_ratio}"
        )
    return ratio


def _avg_pool_ratio(pooling_ratio):
    """tf.nn.fractional_avg_pool's ratio: four numbers, pooling rows and columns only."""
    if not isinstance(pooling_ratio, (list, tuple)):
        raise TypeError(
            "Expected list for 'pooling_ratio' argument to 'fractional_avg_pool' Op, not "
            f"{pooling_ratio}."
        )
    ratio = [float(r) for r in pooling_ratio]
    if len(ratio) < 4:
        raise op_error(
            InvalidArgumentError,
            "FractionalAvgPool",
            f"Length for attr 'pooling_ratio' of {len(ratio)} must be at least minimum 4",
        )
    if ratio[0] != 1.0 or ratio[3] != 1.0:
        from rill.core.errors import UnimplementedError

        raise op_error(
            UnimplementedError,
            "FractionalAvgPool",
            "Fractional average pooling is not yet supported on the batch nor channel "
            f"dimension: pooling_ratio={pooling_ratio}",
        )
    if any(r < 1.0 for r in ratio):
        raise op_error(
            InvalidArgumentError,
            "FractionalAvgPool",
            f"pooling_ratio elements must be >= 1.0, got {pooling_ratio}",
        )
    return ratio[:4]


def _fractional_pool(kind, value, pooling_ratio, pseudo_random, overlapping, seed):
    op = "FractionalMaxPool" if kind == "max" else "FractionalAvgPool"
    fn = f"tf.nn.fractional_{kind}_pool"
    ratio = _max_pool_ratio(pooling_ratio) if kind == "max" else _avg_pool_ratio(pooling_ratio)
    x = convert_to_tensor(value)
    if x.dtype not in (_d.float32, _d.float64, _d.int32, _d.int64):
        raise op_error(
            InvalidArgumentError,
            op,
            f"value must be float32, float64, int32 or int64, got {x.dtype.name}",
        )
    dims = x.shape.as_list() if x.shape.rank is not None else None
    if dims is None or len(dims) != 4 or None in dims[1:3]:
        raise op_error(
            InvalidArgumentError,
            op,
            f"value must be 4-dimensional (NHWC) with static height and width, got {x.shape}",
        )
    for i in (1, 2):
        if int(dims[i] / ratio[i]) <= 0:
            raise op_error(
                InvalidArgumentError,
                op,
                f"Pooling ratio is higher than input dimension size for dimension {i}. Input "
                f"dim size: {dims[i]} pooling ratio: {ratio[i]:g}",
            )
    if seed == 0:
        from rill import config as _config

        if kind == "max" and _config.is_op_determinism_enabled():
            raise ValueError(
                f"{fn} requires a non-zero seed to be passed in when determinism is "
                f"enabled, but got seed={seed}. Please pass in a non-zero seed, e.g. by "
                f'passing "seed=1".'
            )
        s1, s2 = None, None
    else:
        from rill.ops.random_ops import get_seed

        s1, s2 = get_seed(seed)
    params = {
        "pooling_ratio": tuple(ratio),
        "pseudo_random": bool(pseudo_random),
        "seed": s1,
        "seed2": s2,
        "stream": op,
    }
    if dims[0] is not None:
        s = convert_to_tensor(dims, _d.int64)
    else:  # the batch size is dynamic; the sequences depend on height and width only
        s = cast(shape(x), _d.int64)
    rows, cols = bind(fractional_pool_sequences_p, (s,), params)
    extra = 1 if overlapping else 0
    widths = [dims[i] // int(dims[i] / ratio[i]) + 1 + extra for i in (1, 2)]
    out = fractional_pool_with_sequences(kind, x, rows, cols, overlapping, widths)
    return out, rows, cols


@tf_export("nn.fractional_max_pool")
def fractional_max_pool(
    value, pooling_ratio, pseudo_random=False, overlapping=False, seed=0, name=None
):
    """Max pooling over pseudo-random regions of 1 or 2 rows / columns
    (``n_in // n_out`` or one more): ``(output, row_pooling_sequence,
    col_pooling_sequence)``. ``seed=0`` draws fresh regions on every call."""
    return _fractional_pool("max", value, pooling_ratio, pseudo_random, overlapping, seed)


@tf_export("nn.fractional_avg_pool")
def fractional_avg_pool(
    value, pooling_ratio, pseudo_random=False, overlapping=False, seed=0, name=None
):
    """Average pooling over pseudo-random regions, like ``fractional_max_pool``."""
    return _fractional_pool("avg", value, pooling_ratio, pseudo_random, overlapping, seed)


# ======================================================================================
# Sparse embedding lookups (SparseTensors read through their indices / values / shape)
# ======================================================================================


def _is_sparse(x):
    return all(hasattr(x, a) for a in ("indices", "values", "dense_shape"))


def _lookup_combine(params, segment_ids, ids, weights, combiner, max_norm, num_segments=None):
    """Embed ``ids`` and combine them per (sorted) ``segment_ids`` row."""
    from rill.ops.nn_ops import embedding_lookup

    uids, idx = unique(ids)
    emb = gather(embedding_lookup(params, uids, max_norm=max_norm), idx)
    segment_ids = cast(segment_ids, _d.int32)
    if weights is None:
        weights = zeros_like(cast(ids, emb.dtype)) + convert_to_tensor(1, emb.dtype)
    elif weights.dtype is not emb.dtype:
        weights = cast(weights, emb.dtype)
    rank = emb.shape.rank if emb.shape.rank is not None else 2
    w = reshape(weights, [-1] + [1] * (rank - 1))
    total = segment_sum(multiply(emb, w), segment_ids)
    if combiner == "sum":
        return total
    if combiner == "mean":
        return divide_no_nan(total, segment_sum(w, segment_ids))
    return divide_no_nan(total, sqrt(segment_sum(square(w), segment_ids)))


def _check_combiner(combiner):
    if combiner is None:
        return "mean"
    if combiner not in ("mean", "sqrtn", "sum"):
        raise ValueError(f"combiner must be one of 'mean', 'sqrtn' or 'sum', got {combiner}")
    return combiner


def _as_param_list(params):
    if isinstance(params, (list, tuple)):
        return list(params)
    return params


@tf_export("nn.embedding_lookup_sparse")
def embedding_lookup_sparse(
    params, sp_ids, sp_weights, combiner=None, max_norm=None, name=None, allow_fast_lookup=False
):
    """Embeddings of the ids in each row of ``sp_ids`` combined by ``combiner``
    ('mean' by default, 'sum' or 'sqrtn'), weighted by ``sp_weights`` when given."""
    combiner = _check_combiner(combiner)
    if hasattr(sp_ids, "to_sparse") and not _is_sparse(sp_ids):
        sp_ids = sp_ids.to_sparse()  # a RaggedTensor
        if sp_weights is not None and hasattr(sp_weights, "to_sparse"):
            sp_weights = sp_weights.to_sparse()
    if not _is_sparse(sp_ids):
        raise TypeError(f"sp_ids must be SparseTensor, got {type(sp_ids)}")
    weights = None
    if sp_weights is not None:
        if not _is_sparse(sp_weights):
            raise TypeError(
                f"sp_weights must be either None or SparseTensor,got {type(sp_weights)}"
            )
        ws, vs = sp_weights.values.shape, sp_ids.values.shape
        if not ws.is_compatible_with(vs):
            raise ValueError(f"Shapes {ws} and {vs} are incompatible")
        weights = sp_weights.values
    segment_ids = sp_ids.indices[:, 0]
    return _lookup_combine(
        _as_param_list(params), segment_ids, sp_ids.values, weights, combiner, max_norm
    )


@tf_export("nn.safe_embedding_lookup_sparse")
def safe_embedding_lookup_sparse(
    embedding_weights,
    sparse_ids,
    sparse_weights=None,
    combiner="mean",
    default_id=None,
    max_norm=None,
    name=None,
    allow_fast_lookup=False,
):
    """``embedding_lookup_sparse`` that drops invalid ids (< 0) and, unless the combiner
    is 'sum', non-positive weights; rows left empty get ``default_id``'s embedding, or
    zeros. ``sparse_ids`` may have rank > 2: all but its last dimension are kept."""
    if embedding_weights is None:
        raise ValueError(f"Missing embedding_weights {embedding_weights}.")
    ew = (
        list(embedding_weights)
        if isinstance(embedding_weights, (list, tuple))
        else [embedding_weights]
    )
    if not ew:
        raise ValueError(f"Missing embedding_weights {embedding_weights}.")
    combiner = _check_combiner(combiner)
    from rill.ops.array_ops import where_v2
    from rill.ops.indexing_ops import boolean_mask, where
    from rill.ops.math_ops import equal, greater
    from rill.ops.reduction_ops import unsorted_segment_sum
    from rill.ops.shape_ops import concat
    from rill.ops.sort_ops import argsort

    dense_shape = static_value(convert_to_tensor(sparse_ids.dense_shape))
    if dense_shape is None:
        raise ValueError(
            "safe_embedding_lookup_sparse: sparse_ids.dense_shape must be known when the op "
            "is built"
        )
    dense_shape = np.asarray(dense_shape, np.int64)
    outer = dense_shape[:-1]
    n_rows = int(np.prod(outer))
    ind = cast(convert_to_tensor(sparse_ids.indices), _d.int64)
    ids = convert_to_tensor(sparse_ids.values)
    w = None if sparse_weights is None else convert_to_tensor(sparse_weights.values)
    # the row of each entry once the leading dimensions are flattened into one
    strides = np.concatenate([np.cumprod(outer[::-1])[::-1][1:], [1]]).astype(np.int64)
    rows = reduce_sum(multiply(ind[:, :-1], convert_to_tensor(strides, _d.int64)), axis=1)
    keep = greater_equal(ids, convert_to_tensor(0, ids.dtype))
    if w is not None and combiner != "sum":
        keep = logical_and(keep, greater(w, convert_to_tensor(0, w.dtype)))
    rows, ids = boolean_mask(rows, keep), boolean_mask(ids, keep)
    w = None if w is None else boolean_mask(w, keep)
    # rows left without an entry get one, with id default_id (or 0) and weight 1
    per_row = unsorted_segment_sum(zeros_like(rows) + 1, rows, n_rows)
    empty = equal(per_row, convert_to_tensor(0, per_row.dtype))
    fill = reshape(where(empty), [-1])
    all_rows = concat([rows, fill], 0)
    order = argsort(all_rows, stable=True)
    fill_ids = zeros_like(fill) + (default_id or 0)
    ids = gather(concat([ids, cast(fill_ids, ids.dtype)], 0), order)
    if w is not None:
        w = gather(concat([w, cast(zeros_like(fill) + 1, w.dtype)], 0), order)
    params = ew if len(ew) > 1 else ew[0]
    result = _lookup_combine(params, gather(all_rows, order), ids, w, combiner, max_norm)
    if default_id is None:
        rank = result.shape.rank if result.shape.rank is not None else 2
        mask = reshape(empty, [-1] + [1] * (rank - 1))
        result = where_v2(mask, zeros_like(result), result)
    tail = result.shape.as_list()[1:]
    return reshape(result, [int(d) for d in outer] + [-1 if d is None else d for d in tail])


# ======================================================================================
# with_space_to_batch
# ======================================================================================


@tf_export("nn.with_space_to_batch")
def with_space_to_batch(
    input,  # noqa: A002
    dilation_rate,
    padding,
    op,
    filter_shape=None,
    spatial_dims=None,
    data_format=None,
):
    """Run ``op(converted_input, num_spatial_dims, padding)`` as a dilated op: the input
    is moved into the batch by ``dilation_rate`` blocks, ``op`` runs with 'VALID'
    padding, and the result is moved back (``padding='SAME'`` needs ``filter_shape``)."""
    from rill.ops.space_batch_ops import (
        batch_to_space,
        required_space_to_batch_paddings,
        space_to_batch_nd,
    )

    x = convert_to_tensor(input)
    rate = np.asarray(
        static_value(convert_to_tensor(dilation_rate, _d.int32))
        if not isinstance(dilation_rate, (list, tuple, int, np.ndarray))
        else dilation_rate
    )
    if rate.ndim != 1:
        raise ValueError(
            f"`dilation_rate.shape.rank` must be 1. Received: dilation_rate={dilation_rate} "
            f"of rank {rate.ndim}"
        )
    n = rate.size
    nc = data_format is not None and data_format.startswith("NC")
    first = 2 if nc else 1
    sdims = list(range(first, first + n)) if spatial_dims is None else list(spatial_dims)
    sorted_dims = sorted({int(d) for d in sdims})
    if sorted_dims != [int(d) for d in sdims] or any(d < 1 for d in sorted_dims):
        raise ValueError(
            "`spatial_dims` must be a monotonically increasing sequence of positive "
            f"integers. Received: spatial_dims={sdims}"
        )
    need = sorted_dims[-1] if nc else sorted_dims[-1] + 1
    if x.shape.rank is not None and x.shape.rank < need:
        raise ValueError(
            f"`input.shape.rank` must be at least {need}. Received: input.shape={x.shape} "
            f"with rank {x.shape.rank}"
        )
    if np.any(rate < 1):
        raise ValueError(f"`dilation_rate` must be positive. Received: dilation_rate={rate}")
    if np.all(rate == 1):
        return op(x, n, padding)
    if padding == "SAME":
        if filter_shape is None:
            raise ValueError(
                "`filter_shape` must be specified for `padding='SAME'`. Received: "
                f"filter_shape={filter_shape} and padding={padding}"
            )
        fs = np.asarray(
            static_value(convert_to_tensor(filter_shape))
            if not isinstance(filter_shape, (list, tuple, np.ndarray))
            else filter_shape
        )[:n]
        extra = (fs - 1) * rate
        base = np.stack([extra // 2, extra - extra // 2], axis=1)
    elif padding == "VALID":
        base = np.zeros([n, 2], np.int64)
    else:
        raise ValueError(f"`padding` must be one of 'SAME' or 'VALID'. Received: padding={padding}")
    dims = x.shape.as_list()
    spatial = [dims[d] for d in sorted_dims]
    if None in spatial:
        spatial = np.asarray(static_value(shape(x)))[sorted_dims]
    paddings, crops = required_space_to_batch_paddings(spatial, rate, base)
    paddings, crops = static_value(paddings), static_value(crops)
    # block dimensions run contiguously from dimension 1: non-spatial ones get block 1
    span = sorted_dims[-1]
    full_rate = np.ones(span, np.int64)
    full_pad = np.zeros([span, 2], np.int64)
    full_crop = np.zeros([span, 2], np.int64)
    for j, d in enumerate(sorted_dims):
        full_rate[d - 1] = rate[j]
        full_pad[d - 1] = paddings[j]
        full_crop[d - 1] = crops[j]
    converted = space_to_batch_nd(x, full_rate, full_pad)
    result = op(converted, n, "VALID")
    return batch_to_space(result, full_rate, full_crop)


__all__ = [
    "embedding_lookup_sparse",
    "fractional_avg_pool",
    "fractional_max_pool",
    "index_shuffle",
    "learned_unigram_candidate_sampler",
    "random_index_shuffle",
    "safe_embedding_lookup_sparse",
    "stateless_parameterized_truncated_normal",
    "with_space_to_batch",
]
