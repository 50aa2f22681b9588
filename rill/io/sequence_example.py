"""``tf.io.parse_sequence_example`` and ``parse_single_sequence_example``.

A ``SequenceExample`` has a context (a ``Features`` map, parsed exactly as an
``Example``'s features by ``rill.data.example``) and feature lists (per key, one
``Feature`` per time step). Sequence features are ``FixedLenSequenceFeature`` (dense,
padded to the longest sequence of the batch, with its lengths reported),
``VarLenFeature`` (a SparseTensor indexed ``[batch, time, value]``) or ``RaggedFeature``
(a RaggedTensor ``[batch, (time), (values)]``). One host primitive
(``ParseSequenceExampleV2``) parses the batch, so it runs inside traced functions too.
Needs ``protobuf`` (``rill[proto]``).
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.data import example as _ex
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    TensorShape,
    bind,
    convert_to_tensor,
    op_error,
    primitive,
    tf_export,
)

__all__ = ["parse_sequence_example", "parse_single_sequence_example"]

_OP = "ParseSequenceExampleV2"


def _err(msg):
    return op_error(InvalidArgumentError, _OP, msg)


def _seq_config(features) -> tuple:
    """Sequence feature configs as static params: (kind, key, value key, dtype, shape,
    allow_missing, row_splits dtype), sorted by key."""
    if not features:
        return ()
    out = []
    for key in sorted(features):
        f = features[key]
        if isinstance(f, _ex.FixedLenSequenceFeature):
            if f.default_value is not None:
                raise ValueError(f"Value feature_list.dense_defaults[{key}] must be None")
            shape = TensorShape(f.shape)
            if not shape.is_fully_defined():
                raise ValueError(
                    f"Feature list {key!r}: FixedLenSequenceFeature needs a fully defined shape, got {shape}"
                )
            dt = _ex._feature_dtype(key, f.dtype)
            out.append(("dense", key, key, dt, tuple(shape.as_list()), bool(f.allow_missing), None))
        elif isinstance(f, _ex.VarLenFeature):
            out.append(("var", key, key, _ex._feature_dtype(key, f.dtype), (), True, None))
        elif isinstance(f, _ex.RaggedFeature):
            if f.partitions:
                raise ValueError(
                    f"Feature list {key!r}: RaggedFeature partitions are not supported in sequence features yet"
                )
            splits = _d.as_dtype(f.row_splits_dtype)
            dt = _ex._feature_dtype(key, f.dtype)
            out.append(("ragged", key, f.value_key or key, dt, (), True, splits))
        else:
            raise ValueError(f"Unsupported {type(f).__name__} {f!r} for key {key!r}")
    return tuple(out)


def _steps(flists, key, kind, single, b):
    """The per-step value lists of feature list ``key`` (None when absent)."""
    if key not in flists:
        return None
    steps = []
    for t, feat in enumerate(flists[key].feature):
        have = feat.WhichOneof("kind")
        if have is None:
            steps.append(())
            continue
        if have != kind:
            raise _err(
                f"{_ex._where(single, b)}Feature list: {key}, Index: {t}.  Data types don't "
                f"match. Expected type: {_ex._TF_NAME[kind]}, Actual type: {_ex._TF_NAME[have]}"
            )
        steps.append(getattr(feat, kind).value)
    return steps


def _seq_outputs(seq_config, per_example, single):
    outs, lengths = [], []
    nb = len(per_example)
    for i, (kind, key, _, dt, shape, allow_missing, splits_dt) in enumerate(seq_config):
        cols = [ex[i] for ex in per_example]
        if kind == "dense":
            size = int(np.prod(shape, dtype=np.int64))
            arrays = []
            for b, steps in enumerate(cols):
                if steps is None:
                    if not allow_missing:
                        raise _err(
                            f"{_ex._where(single, b)}Feature list '{key}' is required but could "
                            f"not be found.  Did you mean to include it in "
                            f"feature_list_dense_missing_assumed_empty or "
                            f"feature_list_dense_defaults?"
                        )
                    steps = []
                flat = [v for s in steps for v in s]
                if size == 0 or len(flat) % size:
                    if not (size == 0 and not flat):
                        raise _err(
                            f"Feature list '{key}' has an unexpected number of values.  Total "
                            f"values size: {len(flat)} is not consistent with output shape: "
                            f"[?,{','.join(str(d) for d in shape)}]"
                        )
                arrays.append(_ex._as_array(flat, dt).reshape((-1, *shape)))
            longest = max((len(a) for a in arrays), default=0)
            fill = b"" if dt is _d.string else 0
            out = np.full((nb, longest, *shape), fill, dt.np)
            for b, a in enumerate(arrays):
                out[b, : len(a)] = a
            lens = np.array([len(a) for a in arrays], np.int64)
            outs.append(out[0] if single else out)
            lengths.append(lens[0] if single else lens)
        elif kind == "var":
            idx, vals = [], []
            max_t = max_n = 0
            for b, steps in enumerate(cols):
                steps = steps or []
                max_t = max(max_t, len(steps))
                for t, s in enumerate(steps):
                    max_n = max(max_n, len(s))
                    for j, v in enumerate(s):
                        idx.append((t, j) if single else (b, t, j))
                        vals.append(v)
            r = 2 if single else 3
            outs.append(np.array(idx, np.int64).reshape(-1, r))
            outs.append(_ex._as_array(vals, dt))
            outs.append(np.array([max_t, max_n] if single else [nb, max_t, max_n], np.int64))
        else:
            inner, vals, outer = [0], [], [0]
            for steps in cols:
                steps = steps or []
                for s in steps:
                    vals.extend(s)
                    inner.append(len(vals))
                outer.append(len(inner) - 1)
            outs.append(_ex._as_array(vals, dt))
            outs.append(np.array(inner, splits_dt.np))
            if not single:
                outs.append(np.array(outer, splits_dt.np))
    return outs, lengths


def _kernel(serialized, *, ctx_config, seq_config, single):
    classes = _ex.message_classes()
    from google.protobuf.message import DecodeError

    SequenceExample, Example = classes["SequenceExample"], classes["Example"]
    if serialized.ndim > 1:
        raise _err(
            f"Expected serialized to be a scalar or vector, got shape: {list(serialized.shape)}"
        )
    flat = serialized.reshape(-1).tolist()
    contexts, per_example = [], []
    for b, s in enumerate(flat):
        try:
            se = SequenceExample.FromString(s)
        except (DecodeError, TypeError) as e:
            raise _err(
                f"{_ex._where(single, b)}Could not parse example input, value: {s[:80]!r} ({e})"
            ) from None
        contexts.append(Example(features=se.context).SerializeToString())
        fl = se.feature_lists.feature_list
        per_example.append(
            [_steps(fl, vkey, _ex._KINDS[dt], single, b) for _, _, vkey, dt, *_ in seq_config]
        )
    ctx = []
    if ctx_config:
        arr = np.empty(len(contexts), object)
        arr[:] = contexts
        ctx = list(
            _ex._parse_kernel(arr.reshape(serialized.shape), config=ctx_config, single=single)
        )
    seq, lengths = _seq_outputs(seq_config, per_example, single)
    return tuple(ctx + seq + lengths)


def _rule(serialized, *, ctx_config, seq_config, single):
    if serialized.dtype is not _d.string:
        raise _err(f"serialized must be a string tensor, got {serialized.dtype.name}")
    ctx = list(_ex._parse_rule(serialized, config=ctx_config, single=single)) if ctx_config else []
    nb = [] if single else [serialized.shape[0] if serialized.rank else None]
    seq, lengths = [], []
    for kind, _, _, dt, shape, _, splits in seq_config:
        if kind == "dense":
            seq.append(AVal(nb + [None, *shape], dt))
            lengths.append(AVal(nb, _d.int64))
        elif kind == "var":
            r = len(nb) + 2
            seq += [AVal([None, r], _d.int64), AVal([None], dt), AVal([r], _d.int64)]
        else:
            seq += [AVal([None], dt), AVal([None], splits)]
            if not single:
                seq.append(AVal([None if nb[0] is None else nb[0] + 1], splits))
    return tuple(ctx + seq + lengths)


parse_sequence_example_p = primitive(_OP, _kernel, _rule, n_out=-1, host=True)


def _assemble_seq(seq_config, it, single):
    from rill.structures.ragged_tensor import RaggedTensor
    from rill.structures.sparse_tensor import SparseTensor

    out = {}
    for kind, key, *_ in seq_config:
        if kind == "dense":
            out[key] = next(it)
        elif kind == "var":
            out[key] = SparseTensor(next(it), next(it), next(it))
        else:
            values, inner = next(it), next(it)
            rt = RaggedTensor.from_row_splits(values, inner, validate=False)
            if not single:
                rt = RaggedTensor.from_row_splits(rt, next(it), validate=False)
            out[key] = rt
    return out


def _parse(serialized, context_features, sequence_features, single):
    if not context_features and not sequence_features:
        raise ValueError(
            "Both context_features and sequence_features are None, but at least one should have values."
        )
    ctx_config = _ex._config(dict(context_features or {}), single)
    seq_config = _seq_config(dict(sequence_features or {}))
    params = {"ctx_config": ctx_config, "seq_config": seq_config, "single": single}
    outs = bind(parse_sequence_example_p, (serialized,), params)
    outs = outs if isinstance(outs, tuple) else (outs,)
    n_ctx = (
        len(_ex._parse_rule(AVal(serialized.shape, _d.string), config=ctx_config, single=single))
        if ctx_config
        else 0
    )
    context = _ex._assemble(ctx_config, outs[:n_ctx], single) if ctx_config else {}
    it = iter(outs[n_ctx:])
    feature_lists = _assemble_seq(seq_config, it, single)
    lengths = {key: next(it) for kind, key, *_ in seq_config if kind == "dense"}
    return context, feature_lists, lengths


def _check_keys(context_features, sequence_features):
    """TensorFlow parses ragged and sparse features of one key once: they may not share it."""
    for feats in (context_features or {}, sequence_features or {}):
        ragged = sorted(k for k, f in feats.items() if isinstance(f, _ex.RaggedFeature))
        sparse = sorted(k for k, f in feats.items() if isinstance(f, _ex.VarLenFeature))
        both = set(ragged) & set(sparse)
        if both:
            raise ValueError(
                f"Ragged and sparse keys must not intersect; ragged_keys: {ragged}, "
                f"sparse_keys: {sparse}, intersection: {both}"
            )


@tf_export("io.parse_sequence_example")
def parse_sequence_example(
    serialized, context_features=None, sequence_features=None, example_names=None, name=None
) -> tuple:
    """Parse a vector (or scalar) of serialized ``SequenceExample`` protos into
    ``(context, feature_lists, feature_list_lengths)`` dicts; the lengths are the number
    of steps of each ``FixedLenSequenceFeature`` per example."""
    _check_keys(context_features, sequence_features)
    s = convert_to_tensor(serialized, dtype=_d.string)
    return _parse(s, context_features, sequence_features, single=s.shape.rank == 0)


@tf_export("io.parse_single_sequence_example")
def parse_single_sequence_example(
    serialized, context_features=None, sequence_features=None, example_name=None, name=None
) -> tuple:
    """Parse one serialized ``SequenceExample`` (a scalar string) into ``(context,
    feature_lists)`` dicts."""
    _check_keys(context_features, sequence_features)
    s = convert_to_tensor(serialized, dtype=_d.string)
    if s.shape.rank is not None and s.shape.rank != 0:
        raise ValueError(
            f"parse_single_sequence_example: serialized must be a scalar string, got shape {s.shape}"
        )
    context, feature_lists, _ = _parse(s, context_features, sequence_features, single=True)
    return context, feature_lists
