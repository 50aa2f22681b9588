"""Candidate sampling: ``tf.random.*_candidate_sampler`` and the sampled losses built on
them, ``tf.nn.nce_loss`` and ``tf.nn.sampled_softmax_loss``.

A sampler returns ``(sampled_candidates, true_expected_count, sampled_expected_count)``.
For a class of probability p among ``num_sampled`` draws the expected count is
``num_sampled * p``; with ``unique=True`` the draws are repeated until that many distinct
classes came up, and the count is ``1 - (1 - p) ** num_tries`` over the ``num_tries``
draws made (TF's formula, which equals ``num_sampled * p`` when nothing was rejected).
"""

from __future__ import annotations

import collections
import math

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import InvalidArgumentError
from rill.ops._op import AVal, bind, convert_to_tensor, op_error, primitive, tf_export

Sampled = collections.namedtuple(
    "Sampled", ["sampled_candidates", "true_expected_count", "sampled_expected_count"]
)


def _log_uniform_p(ids, range_max):
    ids = ids.astype(np.float64)
    return (np.log(ids + 2.0) - np.log(ids + 1.0)) / math.log(range_max + 1.0)


def _prob(dist, ids, range_max, probs):
    """Probability of each id (ids outside [0, range_max) have probability 0)."""
    inside = (ids >= 0) & (ids < range_max)
    safe = np.where(inside, ids, 0)
    if dist == "uniform":
        p = np.full(ids.shape, 1.0 / range_max)
    elif dist == "log_uniform":
        p = _log_uniform_p(safe, range_max)
    else:
        p = probs[safe]
    return np.where(inside, p, 0.0)


def _draw(rng, dist, n, range_max, probs):
    if dist == "uniform":
        return rng.integers(0, range_max, size=n)
    if dist == "log_uniform":
        # inverse CDF: P(id <= k) = log(k + 2) / log(range_max + 1)
        u = rng.random(n)
        return np.minimum(
            np.floor(np.exp(u * math.log(range_max + 1.0))) - 1, range_max - 1
        ).astype(np.int64)
    return rng.choice(range_max, size=n, p=probs)


def _sampler_kernel(true_classes, probs, dist, num_sampled, unique, range_max, seed, seed2):
    from rill.ops.random_ops import _stream  # the stateful ops' seeded streams

    rng = _stream(f"CandidateSampler/{dist}", "int64", seed, seed2)
    if unique:
        picked, seen, tries = [], set(), 0
        while len(picked) < num_sampled:
            batch = _draw(rng, dist, max(num_sampled - len(picked), 1), range_max, probs)
            for v in batch.tolist():
                tries += 1
                if v not in seen:
                    seen.add(v)
                    picked.append(v)
                    if len(picked) == num_sampled:
                        break
        sampled = np.asarray(picked, np.int64)
    else:
        sampled = _draw(rng, dist, num_sampled, range_max, probs).astype(np.int64)
        tries = num_sampled

    def expected(ids):
        p = _prob(dist, ids, range_max, probs)
        if tries == num_sampled:
            return (p * num_sampled).astype(np.float32)
        return (-np.expm1(tries * np.log1p(-p))).astype(np.float32)

    return sampled, expected(true_classes), expected(sampled)


def _sampler_rule(true_classes, probs, num_sampled, **_):
    return (
        AVal([num_sampled], _d.int64),
        AVal(true_classes.shape, _d.float32),
        AVal([num_sampled], _d.float32),
    )


candidate_sampler_p = primitive(
    "CandidateSampler",
    _sampler_kernel,
    _sampler_rule,
    n_out=3,
    n_typed=1,
    dtypes=frozenset({_d.int64}),
    host=True,
    stateful=True,
)


def _sample(op, dist, true_classes, num_true, num_sampled, unique, range_max, seed, probs=None):
    from rill.ops.random_ops import get_seed

    t = convert_to_tensor(true_classes, dtype=_d.int64)
    num_sampled, range_max, num_true = int(num_sampled), int(range_max), int(num_true)
    if t.shape.rank != 2 or (t.shape[1] is not None and t.shape[1] != num_true):
        raise op_error(
            InvalidArgumentError,
            op,
            f"true_classes must be a matrix [batch, num_true={num_true}], got shape {t.shape}",
        )
    if range_max < 1:
        raise op_error(InvalidArgumentError, op, f"range_max must be >= 1, got {range_max}")
    support = range_max if probs is None else int(np.count_nonzero(probs))
    if unique and num_sampled > support:
        raise op_error(
            InvalidArgumentError,
            op,
            f"Sampler's range is too small: num_sampled={num_sampled} distinct classes "
            f"requested from {support} possible",
        )
    s1, s2 = get_seed(seed)
    p = convert_to_tensor(np.zeros(0) if probs is None else probs, dtype=_d.float64)
    params = {
        "dist": dist,
        "num_sampled": num_sampled,
        "unique": bool(unique),
        "range_max": range_max,
        "seed": s1,
        "seed2": s2,
    }
    return Sampled(*bind(candidate_sampler_p, (t, p), params))


@tf_export("random.uniform_candidate_sampler")
def uniform_candidate_sampler(
    true_classes, num_true, num_sampled, unique, range_max, seed=None, name=None
):
    """Sample classes uniformly from [0, range_max)."""
    return _sample(
        "UniformCandidateSampler", "uniform", true_classes, num_true, num_sampled, unique,
        range_max, seed,
    )  # fmt: skip


@tf_export("random.log_uniform_candidate_sampler")
def log_uniform_candidate_sampler(
    true_classes, num_true, num_sampled, unique, range_max, seed=None, name=None
):
    """Sample classes with P(k) = log((k + 2) / (k + 1)) / log(range_max + 1) (Zipfian)."""
    return _sample(
        "LogUniformCandidateSampler", "log_uniform", true_classes, num_true, num_sampled,
        unique, range_max, seed,
    )  # fmt: skip


def _unigram_weights(range_max, vocab_file, distortion, num_reserved_ids, unigrams):
    if vocab_file and len(unigrams):
        raise ValueError("fixed_unigram_candidate_sampler: pass vocab_file or unigrams, not both")
    if vocab_file:
        counts = []  # local paths only: rill.io (gfile) is a layer above the ops
        with open(vocab_file) as f:
            for line in f:
                line = line.strip()
                if line:
                    counts.append(float(line.split(",")[-1]))
    else:
        counts = [float(u) for u in unigrams]
    if not counts:
        raise ValueError("fixed_unigram_candidate_sampler: vocab_file or unigrams is required")
    return [0.0] * int(num_reserved_ids) + [c**distortion for c in counts]


@tf_export("random.fixed_unigram_candidate_sampler", "nn.fixed_unigram_candidate_sampler")
def fixed_unigram_candidate_sampler(
    true_classes,
    num_true,
    num_sampled,
    unique,
    range_max,
    vocab_file="",
    distortion=1.0,
    num_reserved_ids=0,
    num_shards=1,
    shard=0,
    unigrams=(),
    seed=None,
    name=None,
):
    """Sample classes in proportion to ``unigrams`` (or a vocab file's last CSV column)
    raised to ``distortion``; the first ``num_reserved_ids`` classes are never sampled.
    With ``num_shards`` > 1 only the ids with ``id % num_shards == shard`` are kept, and
    the samples are those ids' positions in the shard."""
    weights = _unigram_weights(range_max, vocab_file, distortion, num_reserved_ids, unigrams)
    if len(weights) != int(range_max):
        raise op_error(
            InvalidArgumentError,
            "FixedUnigramCandidateSampler",
            f"range_max ({range_max}) must equal num_reserved_ids + the number of unigrams "
            f"({len(weights)})",
        )
    if int(num_shards) > 1:
        weights = [w for i, w in enumerate(weights) if i % int(num_shards) == int(shard)]
    total = sum(weights)
    if total <= 0:
        raise ValueError("fixed_unigram_candidate_sampler: the unigram weights sum to 0")
    probs = np.asarray(weights, np.float64) / total
    return _sample(
        "FixedUnigramCandidateSampler", "unigram", true_classes, num_true, num_sampled,
        unique, len(probs), seed, probs,
    )  # fmt: skip


@tf_export("random.all_candidate_sampler", "nn.all_candidate_sampler")
def all_candidate_sampler(true_classes, num_true, num_sampled, unique, seed=None, name=None):
    """'Sample' every class 0..num_sampled-1 once, each with expected count 1."""
    from rill.ops._op import static_value
    from rill.ops.array_ops import ones_like
    from rill.ops.creation_ops import ones
    from rill.ops.creation_ops import range as _range

    t = convert_to_tensor(true_classes, dtype=_d.int64)
    n = int(num_sampled)
    v = static_value(t)
    if v is not None and v.size and (v.min() < 0 or v.max() >= n):
        bad = int(v.max() if v.max() >= n else v.min())
        raise op_error(
            InvalidArgumentError,
            "AllCandidateSampler",
            f"`true_candidate` out of range [0, {n}), received {bad}",
        )
    return Sampled(
        _range(n, dtype=_d.int64),
        ones_like(t, dtype=_d.float32),
        ones([n], dtype=_d.float32),
    )


# --------------------------------------------------------------------------------------
# sampled losses
# --------------------------------------------------------------------------------------


def _sampled_logits(
    weights,
    biases,
    labels,
    inputs,
    num_sampled,
    num_classes,
    num_true,
    sampled_values,
    subtract_log_q,
    remove_accidental_hits,
    seed=None,
):
    """(logits [batch, num_true + num_sampled], labels) of the true and sampled classes."""
    from rill.ops.array_ops import cast, ones_like, reshape, shape, zeros_like
    from rill.ops.clip_ops import stop_gradient
    from rill.ops.indexing_ops import scatter_nd
    from rill.ops.linalg_ops import matmul
    from rill.ops.math_ops import add, multiply, realdiv, subtract
    from rill.ops.nn_extra_ops import compute_accidental_hits
    from rill.ops.nn_ops import embedding_lookup
    from rill.ops.reduction_ops import reduce_sum
    from rill.ops.shape_ops import concat, expand_dims
    from rill.ops.unary_ops import log

    if not isinstance(weights, (list, tuple)):
        weights = [weights]
    labels = cast(convert_to_tensor(labels), _d.int64)
    inputs = convert_to_tensor(inputs)
    num_true = int(num_true)
    labels_flat = reshape(labels, [-1])
    if sampled_values is None:
        sampled_values = log_uniform_candidate_sampler(
            labels, num_true, num_sampled, True, num_classes, seed=seed
        )
    sampled, true_expected, sampled_expected = (stop_gradient(s) for s in sampled_values)
    sampled = cast(sampled, _d.int64)
    all_ids = concat([labels_flat, sampled], 0)
    all_w = embedding_lookup(list(weights) if len(weights) > 1 else weights[0], all_ids)
    n_true = shape(labels_flat)[0]
    true_w = all_w[:n_true]
    sampled_w = all_w[n_true:]
    sampled_logits = matmul(inputs, sampled_w, transpose_b=True)
    all_b = embedding_lookup(biases, all_ids)
    true_b, sampled_b = all_b[:n_true], all_b[n_true:]
    dim = shape(true_w)[1]
    true_w3 = reshape(true_w, [-1, num_true, dim])
    true_logits = reduce_sum(multiply(expand_dims(inputs, 1), true_w3), axis=2)
    true_logits = add(true_logits, reshape(true_b, [-1, num_true]))
    sampled_logits = add(sampled_logits, sampled_b)
    if remove_accidental_hits:
        hits = compute_accidental_hits(labels, sampled, num_true=num_true)
        idx = concat(
            [
                reshape(cast(hits.indices, _d.int64), [-1, 1]),
                reshape(hits.ids, [-1, 1]),
            ],
            1,
        )
        mask = scatter_nd(
            idx, cast(hits.weights, sampled_logits.dtype), shape(sampled_logits, out_type=_d.int64)
        )
        sampled_logits = add(sampled_logits, mask)
    if subtract_log_q:
        true_logits = subtract(true_logits, log(cast(true_expected, true_logits.dtype)))
        sampled_logits = subtract(sampled_logits, log(cast(sampled_expected, true_logits.dtype)))
    logits = concat([true_logits, sampled_logits], 1)
    out_labels = concat(
        [
            realdiv(ones_like(true_logits), convert_to_tensor(num_true, dtype=true_logits.dtype)),
            zeros_like(sampled_logits),
        ],
        1,
    )
    return logits, out_labels


@tf_export("nn.nce_loss")
def nce_loss(
    weights,
    biases,
    labels,
    inputs,
    num_sampled,
    num_classes,
    num_true=1,
    sampled_values=None,
    remove_accidental_hits=False,
    name="nce_loss",
):
    """Noise-contrastive estimation loss per example: sigmoid cross-entropy of the true
    classes against ``num_sampled`` sampled ones (logits corrected by log Q)."""
    from rill.ops.nn_ops import sigmoid_cross_entropy_with_logits
    from rill.ops.reduction_ops import reduce_sum

    logits, labels = _sampled_logits(
        weights, biases, labels, inputs, num_sampled, num_classes, num_true, sampled_values,
        True, remove_accidental_hits,
    )  # fmt: skip
    losses = sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    return reduce_sum(losses, axis=1)


@tf_export("nn.sampled_softmax_loss")
def sampled_softmax_loss(
    weights,
    biases,
    labels,
    inputs,
    num_sampled,
    num_classes,
    num_true=1,
    sampled_values=None,
    remove_accidental_hits=True,
    seed=None,
    name="sampled_softmax_loss",
):
    """Softmax cross-entropy over the true class and ``num_sampled`` sampled classes
    (logits corrected by log Q), per example."""
    from rill.ops.clip_ops import stop_gradient
    from rill.ops.nn_ops import softmax_cross_entropy_with_logits

    logits, labels = _sampled_logits(
        weights, biases, labels, inputs, num_sampled, num_classes, num_true, sampled_values,
        True, remove_accidental_hits, seed,
    )  # fmt: skip
    return softmax_cross_entropy_with_logits(labels=stop_gradient(labels), logits=logits)
