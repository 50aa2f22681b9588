"""Turning features into tensors with feature columns: ``input_layer`` (TF's
``tf.compat.v1.feature_column.input_layer``) and the per-column transformations.

Categorical ids are computed on the features' values (NumPy, eagerly): a column's ids are
an ``_Ids`` (row of each id, the id, its weight). Dense outputs are built with rill ops,
so embedding tables get gradients.
"""

from __future__ import annotations

import math

import numpy as np

import rill.feature_column.columns as C
import rill.structures  # noqa: F401 - SparseTensor and string ops
from rill.core import dtypes as _d
from rill.core.convert import convert_to_tensor
from rill.core.errors import InvalidArgumentError


class _Ids:
    """The ids of a batch: ``rows[i]`` is the example of ``ids[i]``, weighted ``weights[i]``."""

    def __init__(self, rows, ids, weights, batch):
        self.rows = np.asarray(rows, np.int64)
        self.ids = np.asarray(ids, np.int64)
        self.weights = None if weights is None else np.asarray(weights, np.float32)
        self.batch = int(batch)


def _value(x):
    if getattr(x, "_rill_dispatch", False) and hasattr(x, "indices"):
        return x
    t = convert_to_tensor(x)
    v = getattr(t, "_value", None)
    if v is None:
        raise TypeError(
            "rill's feature columns transform eager features; got a symbolic tensor (call "
            "them outside tf.function, or preprocess with Keras layers)"
        )
    return v


def _sparse_entries(x, dtype_is_string, drop=True):
    """(rows, values, batch) of a feature: a SparseTensor's entries, or a dense feature's
    values without the ignored ones ("" for strings, -1 for integers, 0 for floats), as
    TF drops them."""
    v = _value(x)
    if hasattr(v, "indices"):
        idx = np.asarray(v.indices.numpy())
        vals = np.asarray(v.values.numpy())
        batch = int(np.asarray(v.dense_shape.numpy())[0])
        return idx[:, 0], vals, batch
    v = np.asarray(v)
    if v.ndim == 0:
        raise ValueError(f"Feature (key: ...) cannot have rank 0. Given: {v}")
    if v.ndim == 1:
        v = v[:, None]
    batch = v.shape[0]
    flat = v.reshape(batch, -1)
    if not drop:  # raw features of a cross keep every value, as TF's dense cross inputs
        return np.repeat(np.arange(batch), flat.shape[1]), flat.reshape(-1), batch
    if flat.dtype == object or flat.dtype.kind in "SU":
        keep = np.array([[e not in (b"", "") for e in row] for row in flat], bool).reshape(
            flat.shape
        )
    elif flat.dtype.kind == "f":
        keep = flat != 0  # float features (weights) drop zeros
    else:
        keep = flat != -1
    rows = np.nonzero(keep)[0]
    return rows, flat[keep], batch


def _as_bytes(values):
    return [v if isinstance(v, bytes) else str(v).encode() for v in values.tolist()]


def _hash_buckets(values, num_buckets):
    from rill.structures.string_ops import _farmhash64

    if len(values) == 0:
        return np.zeros(0, np.int64)
    items = np.empty(len(values), object)
    items[:] = _as_bytes(np.asarray(values, object))
    return (_farmhash64(items).astype(np.uint64) % np.uint64(num_buckets)).astype(np.int64)


def _vocab_lookup(col, values, vocab):
    is_str = col.dtype is _d.string
    keys = _as_bytes(np.asarray(values, object)) if is_str else np.asarray(values).astype(np.int64)
    table = {(k.encode() if is_str and isinstance(k, str) else k): i for i, k in enumerate(vocab)}
    ids = np.array([table.get(k if is_str else int(k), -1) for k in keys], np.int64)
    miss = ids < 0
    if col.num_oov_buckets and miss.any():
        oov = _hash_buckets(np.asarray(values, object)[miss], col.num_oov_buckets)
        ids[miss] = len(vocab) + oov
    elif miss.any():
        ids[miss] = col.default_value
    return ids


_VOCAB_CACHE: dict = {}


def _file_vocab(col):
    key = (col.vocabulary_file, col.vocabulary_size)
    if key not in _VOCAB_CACHE:
        lines = C._read_vocab_lines(col.vocabulary_file)
        if len(lines) < col.vocabulary_size:
            raise InvalidArgumentError(
                None, None, f"Invalid vocab_size in {col.vocabulary_file}: expected "
                f"{col.vocabulary_size} lines, found {len(lines)}",
            )  # fmt: skip
        lines = lines[: col.vocabulary_size]
        if col.dtype is not _d.string:
            lines = [int(x) for x in lines]
        _VOCAB_CACHE[key] = tuple(lines)
    return _VOCAB_CACHE[key]


def _bucketize(col, features):
    """Bucket index (TF's Bucketize: the number of boundaries <= x) per value."""
    x = np.asarray(_numeric(col.source_column, features))
    return np.searchsorted(np.asarray(col.boundaries), x, side="right").astype(np.int64)


def categorical_ids(col, features) -> _Ids:
    """The ids (with rows and weights) of categorical column ``col`` for a batch."""
    if isinstance(col, C.SequenceCategoricalColumn):
        return categorical_ids(col.categorical_column, features)
    if isinstance(col, C.BucketizedColumn):
        b = _bucketize(col, features)
        batch, n = b.shape[0], b.reshape(b.shape[0], -1).shape[1]
        offsets = np.arange(n) * (len(col.boundaries) + 1)
        ids = (b.reshape(batch, n) + offsets).reshape(-1)
        return _Ids(np.repeat(np.arange(batch), n), ids, None, batch)
    if isinstance(col, C.WeightedCategoricalColumn):
        inner = categorical_ids(col.categorical_column, features)
        rows, w, _ = _sparse_entries(features[col.weight_feature_key], False)
        if len(w) != len(inner.ids) or not np.array_equal(rows, inner.rows):
            raise InvalidArgumentError(
                None, None, f"WeightedCategoricalColumn {col.name}: the weights "
                f"({len(w)} values) must line up with the ids ({len(inner.ids)} values)",
            )  # fmt: skip
        return _Ids(inner.rows, inner.ids, np.asarray(w, np.float32), inner.batch)
    if isinstance(col, C.CrossedColumn):
        return _crossed_ids(col, features)
    key = col.key
    if key not in features:
        raise ValueError(f"The feature {key!r} of column {col.name} is not in the features "
                         f"{sorted(features)}")  # fmt: skip
    rows, values, batch = _sparse_entries(features[key], col.dtype is _d.string
                                          if hasattr(col, "dtype") else False)  # fmt: skip
    if isinstance(col, C.IdentityCategoricalColumn):
        ids = np.asarray(values).astype(np.int64)
        bad = (ids < 0) | (ids >= col.number_buckets)
        if bad.any():
            if col.default_value is None:
                raise InvalidArgumentError(
                    None, None, f"assert_less_than_num_buckets: the ids of {col.name} must be "
                    f"in [0, {col.number_buckets}); got {ids[bad].tolist()}",
                )  # fmt: skip
            ids = np.where(bad, col.default_value, ids)
    elif isinstance(col, C.HashedCategoricalColumn):
        ids = _hash_buckets(np.asarray(values, object), col.hash_bucket_size)
    elif isinstance(col, C.VocabularyListCategoricalColumn):
        ids = _vocab_lookup(col, values, col.vocabulary_list)
    elif isinstance(col, C.VocabularyFileCategoricalColumn):
        ids = _vocab_lookup(col, values, _file_vocab(col))
    else:
        raise ValueError(f"Unsupported categorical column: {col}")
    return _Ids(rows, ids, None, batch)


_KMUL = np.uint64(0xC6A4A7935BD1E995)


def _shift_mix(v):
    return v ^ (v >> np.uint64(47))


def _fingerprint_cat(a, b):
    """FarmHash's FingerprintCat64 (TF's hashed sparse cross combines features with it)."""
    with np.errstate(over="ignore"):
        r = np.uint64(a) ^ _KMUL
        r = r ^ (_shift_mix(np.uint64(b) * _KMUL) * _KMUL)
        r = r * _KMUL
        r = _shift_mix(r) * _KMUL
        return _shift_mix(r)


def _crossed_ids(col, features):
    from rill.structures.string_ops import _farmhash64

    parts = []  # per key: list (per row) of uint64 feature hashes
    batch = None

    def is_sparse(k):
        return not isinstance(k, str) or hasattr(_value(features[k]), "indices")

    # TF's SparseCross takes its sparse inputs first, then the dense ones: that is the
    # order the hashes chain in (categorical columns give sparse ids)
    for k in sorted(col.keys, key=lambda k: not is_sparse(k)):
        if isinstance(k, str):
            rows, vals, b = _sparse_entries(features[k], True, drop=False)
            vals = np.asarray(vals)
            if vals.dtype == object or vals.dtype.kind in "SU":
                items = np.empty(len(vals), object)
                items[:] = _as_bytes(vals.astype(object))
                hashes = (
                    _farmhash64(items).astype(np.uint64) if len(vals) else np.zeros(0, np.uint64)
                )
            else:
                hashes = vals.astype(np.int64).view(np.uint64)
        else:
            ids = categorical_ids(k, features)
            rows, b = ids.rows, ids.batch
            hashes = ids.ids.view(np.uint64)
        batch = b if batch is None else batch
        parts.append([hashes[rows == r] for r in range(b)])
    key = np.uint64(0xDECAFCAFFE if col.hash_key is None else col.hash_key)
    out_rows, out_ids = [], []
    for r in range(batch):
        lists = [p[r] for p in parts]
        if any(len(x) == 0 for x in lists):
            continue
        for combo in np.ndindex(*[len(x) for x in lists]):  # last feature varies fastest
            h = key
            for lst, j in zip(lists, combo):
                h = _fingerprint_cat(h, lst[j])
            out_rows.append(r)
            out_ids.append(int(h % np.uint64(col.hash_bucket_size)))
    return _Ids(out_rows, out_ids, None, batch)


def _numeric(col, features):
    if col.key not in features:
        raise ValueError(f"The feature {col.key!r} of column {col.name} is not in the features "
                         f"{sorted(features)}")  # fmt: skip
    x = features[col.key]
    if getattr(x, "_rill_dispatch", False) and hasattr(x, "indices"):
        raise ValueError(
            f"The corresponding Tensor of numerical column must be a Tensor. SparseTensor is "
            f"not supported. key: {col.key}"
        )
    import rill as _tf

    t = convert_to_tensor(x)
    t = _tf.cast(t, _d.float32)
    if col.normalizer_fn is not None:
        t = col.normalizer_fn(t)
    return t


def dense_tensor(col, features, state=None):
    """The ``[batch, ...]`` dense tensor of dense column ``col`` (state: embedding tables)."""
    import rill as _tf

    if isinstance(col, C.NumericColumn):
        t = _numeric(col, features)
        n = math.prod(col.shape)
        return _tf.reshape(t, [-1, n])
    if isinstance(col, C.BucketizedColumn):
        b = _bucketize(col, features)
        oh = np.eye(len(col.boundaries) + 1, dtype=np.float32)[b]
        return convert_to_tensor(oh.reshape(b.shape[0], -1))
    if isinstance(col, C.IndicatorColumn):
        ids = categorical_ids(col.categorical_column, features)
        out = np.zeros((ids.batch, col.categorical_column.num_buckets), np.float32)
        ok = (ids.ids >= 0) & (ids.ids < out.shape[1])
        w = np.ones(len(ids.ids), np.float32) if ids.weights is None else ids.weights
        np.add.at(out, (ids.rows[ok], ids.ids[ok]), w[ok])
        return convert_to_tensor(out)
    if isinstance(col, (C.EmbeddingColumn, C.SharedEmbeddingColumn)):
        table = _embedding_table(col, state)
        return embedding_lookup(table, categorical_ids(col.categorical_column, features),
                                col.combiner, col.max_norm)  # fmt: skip
    raise ValueError(f"Unsupported dense column: {col}")


def _embedding_table(col, state):
    if isinstance(col, C.SharedEmbeddingColumn):
        return col.shared_embedding_column_creator.get_embedding_weights()
    if state is not None and col in state:
        return state[col]
    from rill.core.variables import Variable

    num = col.categorical_column.num_buckets
    init = col.initializer([num, col.dimension], _d.float32)
    var = Variable(init, trainable=col.trainable, name=f"{col.name}/embedding_weights")
    if state is not None:
        state[col] = var
    return var


def embedding_lookup(table, ids: _Ids, combiner, max_norm=None):
    """Combine each example's embeddings (weighted) by ``combiner``; empty examples and
    invalid (negative) ids give zeros, as TF's safe lookup."""
    from rill.ops import clip_ops
    from rill.ops.indexing_ops import gather
    from rill.ops.reduction_ops import unsorted_segment_sum as _segment_sum

    ok = ids.ids >= 0
    rows, idv = ids.rows[ok], ids.ids[ok]
    w = np.ones(len(idv), np.float32) if ids.weights is None else ids.weights[ok]
    emb = gather(table, convert_to_tensor(idv))
    if max_norm is not None:
        emb = clip_ops.clip_by_norm(emb, max_norm, axes=[1])
    emb = emb * convert_to_tensor(w[:, None])
    total = _segment_sum(emb, convert_to_tensor(rows), ids.batch)
    if combiner == "sum":
        return total
    denom = np.zeros(ids.batch, np.float32)
    np.add.at(denom, rows, w if combiner == "mean" else w * w)
    if combiner == "sqrtn":
        denom = np.sqrt(denom)
    denom = np.where(denom > 0, denom, 1.0).astype(np.float32)
    return total / convert_to_tensor(denom[:, None])


def input_layer(features, feature_columns, weight_collections=None, trainable=True,
                cols_to_vars=None, cols_to_output_tensors=None):  # fmt: skip
    """``[batch, sum of widths]``: each dense column's tensor, concatenated in the order
    of the columns' names (TF's ``tf.compat.v1.feature_column.input_layer``).

    ``cols_to_vars``, if a dict, is filled with each embedding column's tables (and, if
    already filled, reuses them: pass the same dict to train across calls)."""
    import rill as _tf

    cols = list(feature_columns)
    if not cols:
        raise ValueError("feature_columns must not be empty.")
    for c in cols:
        if not isinstance(c, C.DenseColumn):
            raise ValueError(
                f"Items of feature_columns must be a DenseColumn. You can wrap a categorical "
                f"column with an embedding_column or indicator_column. Given: {c}"
            )
    seen = {}
    for c in cols:
        if c.name in seen:
            raise ValueError(
                f"Duplicate feature column name found for columns: {seen[c.name]} and {c}. "
                f"This usually means that these columns refer to same base feature. Either "
                f"one must be discarded or a duplicated but renamed item must be inserted in "
                f"features dict."
            )
        seen[c.name] = c
    # embedding tables: reused from cols_to_vars when it already holds them
    state = {c: v[0] for c, v in (cols_to_vars or {}).items() if v}
    outs = []
    for c in sorted(cols, key=lambda c: c.name):
        t = dense_tensor(c, features, state)
        if cols_to_output_tensors is not None:
            cols_to_output_tensors[c] = t
        outs.append(_tf.reshape(t, [_tf.shape(t)[0], -1]))
    if cols_to_vars is not None:
        for c in cols:
            cols_to_vars[c] = [state[c]] if c in state else []
    return _tf.concat(outs, axis=1)
