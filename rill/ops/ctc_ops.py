"""Connectionist temporal classification: the loss (forward-backward in log space) and
the greedy and prefix-beam-search decoders.

``CTCLossDense`` returns the per-sequence negative log-likelihood; its gradient rule calls
``CTCLossDenseGrad``, which reruns the forward-backward pass for ``softmax - posterior``
(the loss primitive keeps no second output, so its registry gradient check stays
honest). The decoders' kernels return the COO parts of their sparse results; the
SparseTensor wrappers live in ``rill.nn.ctc_decoders`` (the structures layer is above
this one).
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import InvalidArgumentError
from rill.ops._op import AVal, bind, convert_to_tensor, op_error, primitive, tf_export
from rill.ops.array_ops import cast, reshape
from rill.ops.math_ops import multiply
from rill.ops.shape_ops import transpose

_NEG_INF = -np.inf


def _log_softmax(z):
    m = np.max(z, axis=-1, keepdims=True)
    s = z - m
    return s - np.log(np.sum(np.exp(s), axis=-1, keepdims=True))


def _forward_backward(logp, lab, blank):
    """(log-likelihood, per-class log posterior [T, C]) of one sequence's labels."""
    t_len = logp.shape[0]
    ext = np.full(2 * len(lab) + 1, blank, dtype=np.int64)
    ext[1::2] = lab
    s_len = len(ext)
    # the skip transition s-2 -> s is allowed onto a label differing from the one before
    skip = np.zeros(s_len, bool)
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    emit = logp[:, ext]  # [T, S]
    alpha = np.full((t_len, s_len), _NEG_INF)
    alpha[0, 0] = emit[0, 0]
    if s_len > 1:
        alpha[0, 1] = emit[0, 1]
    for t in range(1, t_len):
        a = alpha[t - 1]
        acc = a.copy()
        acc[1:] = np.logaddexp(acc[1:], a[:-1])
        acc[2:] = np.where(skip[2:], np.logaddexp(acc[2:], a[:-2]), acc[2:])
        alpha[t] = acc + emit[t]
    ll = alpha[-1, -1] if s_len == 1 else np.logaddexp(alpha[-1, -1], alpha[-1, -2])
    beta = np.full((t_len, s_len), _NEG_INF)  # excludes the emission at t
    beta[-1, -1] = 0.0
    if s_len > 1:
        beta[-1, -2] = 0.0
    for t in range(t_len - 2, -1, -1):
        b = beta[t + 1] + emit[t + 1]
        acc = b.copy()
        acc[:-1] = np.logaddexp(acc[:-1], b[1:])
        acc[:-2] = np.where(skip[2:], np.logaddexp(acc[:-2], b[2:]), acc[:-2])
        beta[t] = acc
    occ = alpha + beta - ll  # log P(at ext[s] at time t | labels)
    post = np.full(logp.shape, _NEG_INF)
    for s in range(s_len):
        post[:, ext[s]] = np.logaddexp(post[:, ext[s]], occ[:, s])
    return ll, post


def _ctc(logits, labels, label_length, logit_length, blank, want_grad):
    t_max, b, c = logits.shape
    loss = np.zeros(b, np.float64)
    grad = np.zeros(logits.shape, np.float64) if want_grad else None
    for i in range(b):
        tb, lb = int(logit_length[i]), int(label_length[i])
        if tb > t_max or tb < 0 or lb < 0 or lb > labels.shape[1]:
            raise op_error(
                InvalidArgumentError,
                "CTCLossDense",
                f"sequence {i}: logit_length {tb} must be in [0, {t_max}] and label_length "
                f"{lb} in [0, {labels.shape[1]}]",
            )
        if tb == 0:
            loss[i] = 0.0 if lb == 0 else np.inf
            continue
        logp = _log_softmax(logits[:tb, i].astype(np.float64))
        lab = labels[i, :lb].astype(np.int64)
        if blank > 0:
            # TF moves the blank class to the front and shifts the labels below it up by
            # one, so a label equal to the blank index ends up naming class blank - 1
            lab = np.where(lab == blank, blank - 1, lab)
        ll, post = _forward_backward(logp, lab, blank)
        loss[i] = -ll
        if want_grad and np.isfinite(ll):
            grad[:tb, i] = np.exp(logp) - np.exp(post)
    return loss, grad


def _loss_kernel(logits, labels, label_length, logit_length, blank_index):
    loss, _ = _ctc(logits, labels, label_length, logit_length, blank_index, False)
    return loss.astype(logits.dtype)


def _grad_kernel(logits, labels, label_length, logit_length, blank_index):
    _, grad = _ctc(logits, labels, label_length, logit_length, blank_index, True)
    return grad.astype(logits.dtype)


def _loss_rule(logits, labels, label_length, logit_length, blank_index):
    if logits.rank is not None and logits.rank != 3:
        raise op_error(
            InvalidArgumentError,
            "CTCLossDense",
            f"logits must be 3-D [max_time, batch, num_classes], got shape {logits.shape}",
        )
    if labels.rank is not None and labels.rank != 2:
        raise op_error(
            InvalidArgumentError,
            "CTCLossDense",
            f"labels must be 2-D [batch, max_label_length], got shape {labels.shape}",
        )
    b = logits.shape[1] if logits.rank is not None else None
    return AVal([b], logits.dtype)


def _loss_grad(inputs, out, dy, blank_index):
    g = bind(ctc_loss_grad_p, inputs, {"blank_index": blank_index})
    return (multiply(reshape(dy, [1, -1, 1]), g), None, None, None)


_CTC_FLOATS = frozenset({_d.float16, _d.float32, _d.float64})

ctc_loss_grad_p = primitive(
    "CTCLossDenseGrad",
    _grad_kernel,
    lambda logits, *rest, blank_index: AVal(logits.shape, logits.dtype),
    dtypes=_CTC_FLOATS,
    n_typed=1,
    host=True,
)
ctc_loss_p = primitive(
    "CTCLossDense",
    _loss_kernel,
    _loss_rule,
    _loss_grad,
    dtypes=_CTC_FLOATS,
    n_typed=1,
    host=True,
    saves_output=False,
)


def _densify_sparse_labels(labels):
    """(dense [batch, max_len] labels, per-row lengths) of a SparseTensor of labels."""
    from rill.ops.indexing_ops import scatter_nd
    from rill.ops.math_ops import add
    from rill.ops.reduction_ops import unsorted_segment_max

    idx = cast(labels.indices, _d.int64)
    shape = cast(labels.dense_shape, _d.int64)
    dense = scatter_nd(idx, cast(labels.values, _d.int32), shape)
    rows = idx[:, 0]
    last = unsorted_segment_max(idx[:, 1], rows, shape[0])
    lengths = cast(add(last, convert_to_tensor(1, dtype=_d.int64)), _d.int32)
    from rill.ops.math_ops import maximum

    return dense, maximum(lengths, convert_to_tensor(0, dtype=_d.int32))


def _is_sparse(x):
    return hasattr(x, "indices") and hasattr(x, "dense_shape") and hasattr(x, "values")


@tf_export("nn.ctc_loss")
def ctc_loss(
    labels,
    logits,
    label_length,
    logit_length,
    logits_time_major=True,
    unique=None,
    blank_index=None,
    name=None,
):
    """Per-sequence CTC negative log-likelihood of ``labels`` (dense [batch, max_len] with
    ``label_length``, or a SparseTensor) under unnormalized ``logits``."""
    x = convert_to_tensor(logits)
    c = x.shape[-1] if x.shape.rank is not None else None
    if _is_sparse(labels):
        if blank_index is None:
            raise ValueError(
                "Argument `blank_index` must be provided when `labels` is a `SparseTensor`."
            )
        dense, lengths = _densify_sparse_labels(labels)
    else:
        dense = cast(convert_to_tensor(labels), _d.int32)
        if label_length is None:
            raise ValueError("ctc_loss: label_length is required for dense labels")
        lengths = cast(convert_to_tensor(label_length), _d.int32)
        if blank_index is None:
            blank_index = 0
    blank_index = int(blank_index)
    if blank_index < 0:
        if c is None:
            raise ValueError("ctc_loss: a negative blank_index needs a known number of classes")
        blank_index += c
    if not logits_time_major:
        x = transpose(x, [1, 0, 2])
    ll = cast(convert_to_tensor(logit_length), _d.int32)
    return bind(ctc_loss_p, (x, dense, lengths, ll), {"blank_index": blank_index})


# --------------------------------------------------------------------------------------
# decoders: kernels return padded paths [n_paths, batch, width], their lengths and scores;
# rill.nn.ctc_decoders turns them into SparseTensors
# --------------------------------------------------------------------------------------


def _padded(paths_per_rank, b):
    width = max((len(s) for paths in paths_per_rank for s in paths), default=0)
    dec = np.zeros((len(paths_per_rank), b, width), np.int64)
    lens = np.zeros((len(paths_per_rank), b), np.int64)
    for p, paths in enumerate(paths_per_rank):
        for i, s in enumerate(paths):
            dec[p, i, : len(s)] = s
            lens[p, i] = len(s)
    return dec, lens


def _greedy_kernel(inputs, sequence_length, merge_repeated, blank_index):
    t_max, b, _ = inputs.shape
    seqs, scores = [], np.zeros((b, 1), inputs.dtype)
    for i in range(b):
        tb = int(sequence_length[i])
        best = np.argmax(inputs[:tb, i], axis=-1)
        scores[i, 0] = -np.sum(np.max(inputs[:tb, i], axis=-1)) if tb else 0
        out, prev = [], -1
        for k in best.tolist():
            if k != blank_index and not (merge_repeated and k == prev):
                out.append(k)
            prev = k
        seqs.append(out)
    return (*_padded([seqs], b), scores)


def _decoder_rule(inputs, n_paths):
    b = inputs.shape[1] if inputs.rank is not None else None
    return (
        AVal([n_paths, b, None], _d.int64),
        AVal([n_paths, b], _d.int64),
        AVal([b, n_paths], inputs.dtype),
    )


_DECODER_DTYPES = frozenset({_d.float32, _d.float64})

ctc_greedy_p = primitive(
    "CTCGreedyDecoder",
    _greedy_kernel,
    lambda inputs, sequence_length, merge_repeated, blank_index: _decoder_rule(inputs, 1),
    n_out=3,
    dtypes=_DECODER_DTYPES,
    n_typed=1,
    host=True,
)


def _beam_one(logp, beam_width):
    """Prefix beam search over one sequence's log-probabilities [T, C] (blank C - 1):
    the surviving prefixes with (log P ending in blank, log P ending in a label)."""
    c = logp.shape[1]
    blank = c - 1
    beams = {(): (0.0, _NEG_INF)}
    for t in range(logp.shape[0]):
        nxt = {}

        def bump(prefix, pb, pnb, nxt=nxt):
            ob, onb = nxt.get(prefix, (_NEG_INF, _NEG_INF))
            nxt[prefix] = (np.logaddexp(ob, pb), np.logaddexp(onb, pnb))

        for prefix, (pb, pnb) in beams.items():
            tot = np.logaddexp(pb, pnb)
            bump(prefix, tot + logp[t, blank], _NEG_INF)
            for k in range(c - 1):
                p = logp[t, k]
                if prefix and prefix[-1] == k:
                    bump(prefix, _NEG_INF, pnb + p)  # the repeat merges into the prefix
                    bump(prefix + (k,), _NEG_INF, pb + p)  # a blank separated the two
                else:
                    bump(prefix + (k,), _NEG_INF, tot + p)
        ranked = sorted(nxt.items(), key=lambda kv: -np.logaddexp(*kv[1]))
        beams = dict(ranked[:beam_width])
    return sorted(beams.items(), key=lambda kv: -np.logaddexp(*kv[1]))


def _beam_kernel(inputs, sequence_length, beam_width, top_paths):
    t_max, b, c = inputs.shape
    paths = [[] for _ in range(top_paths)]
    scores = np.full((b, top_paths), _NEG_INF)
    for i in range(b):
        tb = int(sequence_length[i])
        ranked = _beam_one(_log_softmax(inputs[:tb, i].astype(np.float64)), beam_width)
        for p in range(top_paths):
            if p < len(ranked):
                prefix, probs = ranked[p]
                paths[p].append(list(prefix))
                scores[i, p] = np.logaddexp(*probs)
            else:
                paths[p].append([])
    return (*_padded(paths, b), scores.astype(inputs.dtype))


ctc_beam_p = primitive(
    "CTCBeamSearchDecoder",
    _beam_kernel,
    lambda inputs, sequence_length, beam_width, top_paths: _decoder_rule(inputs, top_paths),
    n_out=3,
    dtypes=_DECODER_DTYPES,
    n_typed=1,
    host=True,
)


def beam_search_parts(inputs, sequence_length, beam_width, top_paths):
    """(paths [top_paths, batch, width], lengths [top_paths, batch], log-probabilities
    [batch, top_paths]) of the prefix beam search."""
    x = convert_to_tensor(inputs)
    top_paths, beam_width = int(top_paths), int(beam_width)
    if top_paths < 1 or top_paths > beam_width:
        raise ValueError(
            f"ctc_beam_search_decoder: top_paths must be in [1, beam_width={beam_width}], "
            f"got {top_paths}"
        )
    sl = cast(convert_to_tensor(sequence_length), _d.int32)
    return bind(ctc_beam_p, (x, sl), {"beam_width": beam_width, "top_paths": top_paths})


def greedy_parts(inputs, sequence_length, merge_repeated=True, blank_index=None):
    """(path [1, batch, width], lengths [1, batch], negative summed max logits [batch, 1])."""
    x = convert_to_tensor(inputs)
    c = x.shape[-1]
    blank_index = -1 if blank_index is None else int(blank_index)
    if blank_index < 0:
        if c is None:
            raise ValueError("ctc_greedy_decoder: the number of classes must be known")
        blank_index += c
    sl = cast(convert_to_tensor(sequence_length), _d.int32)
    return bind(
        ctc_greedy_p,
        (x, sl),
        {"merge_repeated": bool(merge_repeated), "blank_index": blank_index},
    )
