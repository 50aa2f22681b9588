"""Feature crosses: ``tf.sparse.cross`` / ``cross_hashed`` and ``tf.ragged.cross`` /
``cross_hashed``. Row by row, every combination of one feature from each input (the last
input varying fastest), joined as strings or hashed with TF's FingerprintCat64 chain."""

from __future__ import annotations

import itertools

import numpy as np

from rill.core import dtypes as _d
from rill.ops._op import AVal, bind, convert_to_tensor, primitive, tf_export
from rill.structures.ragged_tensor import RaggedTensor
from rill.structures.sparse_tensor import SparseTensor
from rill.structures.string_ops import _farmhash64

DEFAULT_HASH_KEY = 0xDECAFCAFFE  # TF's default hash_key for hashed crosses
_KMUL = np.uint64(0xC6A4A7935BD1E995)


def _shift_mix(v):
    return v ^ (v >> np.uint64(47))


def fingerprint_cat(a, b):
    """FarmHash's ``FingerprintCat64`` of two uint64 arrays (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        r = a ^ _KMUL
        r = r ^ (_shift_mix(b * _KMUL) * _KMUL)
        r = r * _KMUL
        r = _shift_mix(r) * _KMUL
        return _shift_mix(r)


def feature_hash(column: np.ndarray) -> np.ndarray:
    """A feature's hash in a cross: Fingerprint64 of a string, an integer as itself."""
    if column.dtype == object:
        return _farmhash64(column.reshape(-1).tolist()).astype(np.uint64)
    return column.reshape(-1).astype(np.int64).view(np.uint64)


def hash_cross(columns, num_buckets: int, hash_key: int = DEFAULT_HASH_KEY) -> np.ndarray:
    """The hashed cross of equally long 1-D feature columns: int64 ids in
    ``[0, num_buckets)`` (``num_buckets`` 0: modulo the largest int64, as TF)."""
    h = np.full(len(columns[0]), np.uint64(hash_key), dtype=np.uint64)
    for c in columns:
        h = fingerprint_cat(h, feature_hash(np.asarray(c)))
    return (h % np.uint64(num_buckets if num_buckets > 0 else 2**63 - 1)).astype(np.int64)


def _as_text(v) -> bytes:
    return v if isinstance(v, bytes) else str(v).encode()


def _cross_kernel(*arrays, n, hashed, separator, num_buckets, hash_key):
    """``arrays``: per input (values, row ids), then the batch size. Returns the row
    lengths, the crossed values (row-major), their [row, position] indices and the
    dense shape [batch, longest row]."""
    batch = int(arrays[-1])
    rows = []
    for values, ids in zip(arrays[0 : 2 * n : 2], arrays[1 : 2 * n : 2]):
        order = np.argsort(ids, kind="stable")
        counts = np.bincount(ids, minlength=batch)[:batch]
        rows.append(np.split(values[order], np.cumsum(counts)[:-1]))
    lengths, out = np.zeros(batch, np.int64), []
    for r in range(batch):
        combos = list(itertools.product(*[range(len(f[r])) for f in rows]))
        lengths[r] = len(combos)
        if not combos:
            continue
        cols = [rows[i][r][[c[i] for c in combos]] for i in range(n)]
        if hashed:
            out.append(hash_cross(cols, num_buckets, hash_key))
        else:
            joined = np.empty(len(combos), object)
            joined[:] = [separator.join(_as_text(c[j]) for c in cols) for j in range(len(combos))]
            out.append(joined)
    if out:
        values = np.concatenate(out)
    else:
        values = np.zeros(0, np.int64) if hashed else np.zeros(0, object)
    rows = np.repeat(np.arange(batch, dtype=np.int64), lengths)
    starts = np.cumsum(lengths) - lengths
    indices = np.stack([rows, np.arange(len(rows), dtype=np.int64) - starts[rows]], axis=1)
    dense_shape = np.array([batch, lengths.max() if batch else 0], np.int64)
    return lengths, values, indices.reshape(-1, 2), dense_shape


def _cross_rule(*avals, n, hashed, separator, num_buckets, hash_key):
    return (
        AVal([None], _d.int64),
        AVal([None], _d.int64 if hashed else _d.string),
        AVal([None, 2], _d.int64),
        AVal([2], _d.int64),
    )


cross_p = primitive("SparseCrossV2", _cross_kernel, _cross_rule, n_out=4, host=True)


def _features(x):
    """(values, row ids, batch size) of a SparseTensor, RaggedTensor or dense 2-D tensor."""
    if isinstance(x, SparseTensor):
        return x.values, x.indices[:, 0], x.dense_shape[0]
    if isinstance(x, RaggedTensor):
        if x.ragged_rank != 1:
            raise ValueError(f"cross: ragged inputs must have ragged_rank 1, got {x.ragged_rank}")
        return x.values, x.value_rowids(), x.nrows()
    t = convert_to_tensor(x)
    if t.shape.rank != 2:
        raise ValueError(f"cross: dense inputs must be 2-D [batch, features], got shape {t.shape}")
    from rill.ops.array_ops import reshape, shape
    from rill.ops.creation_ops import range as _range
    from rill.ops.math_ops import floordiv

    n = shape(t, out_type=_d.int64)
    flat = reshape(t, [-1])
    ids = floordiv(_range(n[0] * n[1], dtype=_d.int64), n[1])
    return flat, ids, n[0]


def _cross(inputs, hashed, separator=b"_X_", num_buckets=0, hash_key=None):
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise TypeError("cross: inputs must be a non-empty list of tensors")
    feats = [_features(x) for x in inputs]
    for f in feats:
        if not (f[0].dtype.is_string or f[0].dtype in (_d.int32, _d.int64)):
            raise TypeError(
                f"cross: features must be string, int32 or int64, got {f[0].dtype.name}"
            )
    args = []
    for values, ids, _ in feats:
        args += [values, convert_to_tensor(ids, dtype=_d.int64)]
    args.append(convert_to_tensor(feats[0][2], dtype=_d.int64))
    params = {
        "n": len(feats),
        "hashed": hashed,
        "separator": separator if isinstance(separator, bytes) else str(separator).encode(),
        "num_buckets": int(num_buckets),
        "hash_key": DEFAULT_HASH_KEY if hash_key is None else int(hash_key),
    }
    return bind(cross_p, tuple(args), params)


@tf_export("sparse.cross")
def sparse_cross(inputs, name=None, separator=None):
    """The string cross of ``inputs`` (SparseTensors or dense 2-D tensors) as a
    SparseTensor: features joined with ``separator`` (``"_X_"``)."""
    _, values, indices, dense_shape = _cross(
        inputs, False, b"_X_" if separator is None else separator
    )
    return SparseTensor(indices, values, dense_shape)


@tf_export("sparse.cross_hashed")
def sparse_cross_hashed(inputs, num_buckets=0, hash_key=None, name=None):
    """The hashed cross of ``inputs`` as a SparseTensor of int64 ids in
    ``[0, num_buckets)`` (TF's FingerprintCat64 chain, so the ids equal TF's)."""
    _, values, indices, dense_shape = _cross(
        inputs, True, num_buckets=num_buckets, hash_key=hash_key
    )
    return SparseTensor(indices, values, dense_shape)


@tf_export("ragged.cross")
def ragged_cross(inputs, name=None):
    """The string cross of ``inputs`` (RaggedTensors, SparseTensors or dense 2-D
    tensors) as a RaggedTensor."""
    lengths, values, _, _ = _cross(inputs, False)
    return RaggedTensor.from_row_lengths(values, lengths)


@tf_export("ragged.cross_hashed")
def ragged_cross_hashed(inputs, num_buckets=0, hash_key=None, name=None):
    """The hashed cross of ``inputs`` as a RaggedTensor of int64 ids."""
    lengths, values, _, _ = _cross(inputs, True, num_buckets=num_buckets, hash_key=hash_key)
    return RaggedTensor.from_row_lengths(values, lengths)
