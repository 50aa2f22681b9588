"""``tf.lookup``: static tables mapping keys to values, the vocabulary step of pipelines.

``StaticHashTable`` maps keys (string or integer tensors, or the values of a SparseTensor or
RaggedTensor) to values, with a default for missing keys. ``StaticVocabularyTable`` maps
known keys to their ids and hashes unknown ones into ``num_oov_buckets`` extra ids with
TensorFlow's own hash (FarmHash ``Fingerprint64`` of the key's bytes, of the decimal string
for integer keys), so ids match TensorFlow's. Tables are filled from a
``KeyValueTensorInitializer`` or a ``TextFileInitializer``. A lookup is one primitive, so
it runs inside traced functions (``Dataset.map``); a table is immutable, so it is a static
parameter of that primitive.
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from rill.ops._op import AVal, bind, convert_to_tensor, primitive, tf_export, wrap

__all__ = [
    "StaticHashTable", "StaticVocabularyTable", "KeyValueTensorInitializer",
    "TextFileInitializer", "TextFileIndex", "fingerprint64",
]  # fmt: skip

# --------------------------------------------------------------------------------------
# TensorFlow's string hash (FarmHash Fingerprint64), shared with tf.strings
# --------------------------------------------------------------------------------------


def fingerprint64(s: bytes) -> int:
    """TF's Fingerprint64 of one byte string."""
    from rill.structures.string_ops import _farmhash64

    arr = np.empty(1, dtype=object)
    arr[0] = s
    return int(_farmhash64(arr)[0])


# --------------------------------------------------------------------------------------
# Initializers
# --------------------------------------------------------------------------------------


@tf_export("lookup.KeyValueTensorInitializer")
class KeyValueTensorInitializer:
    """Table contents from a tensor of keys and a tensor of values (same length)."""

    def __init__(self, keys, values, key_dtype=None, value_dtype=None, name=None):
        k = convert_to_tensor(keys, dtype=key_dtype)
        v = convert_to_tensor(values, dtype=value_dtype)
        self._keys = np.asarray(k._value).reshape(-1)
        self._values = np.asarray(v._value).reshape(-1)
        if len(self._keys) != len(self._values):
            raise ValueError(
                f"KeyValueTensorInitializer: {len(self._keys)} keys but {len(self._values)} values"
            )
        self._key_dtype, self._value_dtype = k.dtype, v.dtype
        self._name = name or "key_value_init"

    key_dtype = property(lambda self: self._key_dtype)
    value_dtype = property(lambda self: self._value_dtype)

    def _contents(self):
        return self._keys, self._values


@tf_export("lookup.TextFileIndex")
class TextFileIndex:
    """Special column indices of ``TextFileInitializer``."""

    WHOLE_LINE = -2
    LINE_NUMBER = -1


def _parse_column(text: bytes, dtype, where):
    if dtype is _d.string:
        return text
    try:
        return int(text) if dtype.is_integer else float(text)
    except ValueError:
        raise InvalidArgumentError(f"{where}: field {text!r} is not a valid {dtype.name}") from None


@tf_export("lookup.TextFileInitializer")
class TextFileInitializer:
    """Table contents from a text file, one entry per line: ``key_index`` and
    ``value_index`` are column numbers (split by ``delimiter``) or
    ``TextFileIndex.WHOLE_LINE`` / ``TextFileIndex.LINE_NUMBER``."""

    def __init__(
        self,
        filename,
        key_dtype,
        key_index,
        value_dtype,
        value_index,
        vocab_size=None,
        delimiter="\t",
        name=None,
        value_index_offset=0,
    ):
        if hasattr(filename, "numpy"):
            filename = filename.numpy()
        self._filename = filename.decode() if isinstance(filename, bytes) else str(filename)
        self._key_dtype, self._value_dtype = _d.as_dtype(key_dtype), _d.as_dtype(value_dtype)
        for idx, dt, what in (
            (key_index, self._key_dtype, "key"),
            (value_index, self._value_dtype, "value"),
        ):
            if idx < TextFileIndex.WHOLE_LINE:
                raise ValueError(f"Invalid {what}_index {idx}; column indices are >= -2")
            if idx == TextFileIndex.LINE_NUMBER and dt is not _d.int64:
                raise ValueError(
                    f"Signature mismatch: {what}_index LINE_NUMBER needs dtype int64, got {dt.name}"
                )
            if idx == TextFileIndex.WHOLE_LINE and not (dt is _d.string or dt.is_integer):
                raise ValueError(
                    f"Signature mismatch: {what}_index WHOLE_LINE needs a string or integer dtype, got {dt.name}"
                )
        if vocab_size is not None and vocab_size <= 0:
            raise ValueError(f"Invalid vocab_size {vocab_size}; it must be positive")
        self._key_index, self._value_index = key_index, value_index
        self._vocab_size = vocab_size
        self._delimiter = delimiter.encode() if isinstance(delimiter, str) else delimiter
        self._offset = value_index_offset
        self._name = name

    key_dtype = property(lambda self: self._key_dtype)
    value_dtype = property(lambda self: self._value_dtype)

    def _contents(self):
        try:
            with open(self._filename, "rb") as f:
                lines = f.read().split(b"\n")
        except FileNotFoundError:
            raise NotFoundError(f"{self._filename}; No such file or directory") from None
        if lines and lines[-1] == b"":
            lines.pop()
        if self._vocab_size is not None:
            if len(lines) < self._vocab_size:
                raise InvalidArgumentError(
                    f"Invalid vocab_size in {self._filename}: expected {self._vocab_size} got {len(lines)}"
                )
            lines = lines[: self._vocab_size]
        need = max(self._key_index, self._value_index) + 1
        keys, values = [], []
        for i, line in enumerate(lines):
            cols = line.split(self._delimiter) if need > 0 else ()
            where = f"{self._filename} line {i} ({line.decode(errors='replace')})"
            if len(cols) < need:
                raise InvalidArgumentError(
                    f"Invalid number of columns in {where} : expected at least {need} got {len(cols)}"
                )
            out = []
            for idx, dt in (
                (self._key_index, self._key_dtype),
                (self._value_index, self._value_dtype),
            ):
                if idx == TextFileIndex.LINE_NUMBER:
                    out.append(
                        i
                        + (
                            self._offset
                            if dt is self._value_dtype and idx == self._value_index
                            else 0
                        )
                    )
                else:
                    out.append(
                        _parse_column(
                            line if idx == TextFileIndex.WHOLE_LINE else cols[idx], dt, where
                        )
                    )
            keys.append(out[0])
            values.append(out[1])
        return _as_np(keys, self._key_dtype), _as_np(values, self._value_dtype)


def _as_np(items, dtype):
    if dtype is _d.string:
        a = np.empty(len(items), object)
        a[:] = items
        return a
    return np.array(items, dtype=dtype.np)


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------


def _lookup_kernel(keys, *, table):
    return table._find(keys)


def _lookup_rule(keys, *, table):
    return AVal(keys.shape.concatenate(table._value_shape), table._value_dtype)


# stateful as in TF (a resource read): a mutable table's lookups must not be merged or
# reordered across its inserts
lookup_p = primitive("LookupTableFindV2", _lookup_kernel, _lookup_rule, stateful=True, host=True)


def _map_values(keys, fn):
    """Apply ``fn`` to a dense tensor or to the values of a SparseTensor / RaggedTensor."""
    if hasattr(keys, "indices") and hasattr(keys, "dense_shape"):  # SparseTensor
        return type(keys)(keys.indices, fn(keys.values), keys.dense_shape)
    if hasattr(keys, "flat_values") and hasattr(keys, "with_flat_values"):  # RaggedTensor
        return keys.with_flat_values(fn(keys.flat_values))
    return fn(keys)


def _key_tensor(keys, want, op):
    t = convert_to_tensor(keys, dtype=want if not hasattr(keys, "dtype") else None)
    if t.dtype is not want:
        raise TypeError(f"Dtype of argument `keys` must be {want!r}, received: {t.dtype!r}")
    return t


class _Table:
    _value_dtype = None
    _value_shape = ()  # each key's value: a scalar, or (MutableHashTable) a vector

    def _fill(self, keys, values):
        """Validate the initializer's contents and build the lookup structures."""
        if self._key_dtype is _d.string:
            d = {}
            for k, v in zip(keys.tolist(), values.tolist()):
                old = d.setdefault(k, v)
                if old != v:
                    raise FailedPreconditionError(
                        f"HashTable has different value for same key. Key {k.decode(errors='replace')} "
                        f"has {old} and trying to add value {v}"
                    )
            self._dict = d
            self._keys = _as_np(list(d), _d.string)
            self._values = _as_np(list(d.values()), self._value_dtype)
        else:
            order = np.argsort(keys, kind="stable")
            k, v = keys[order], values[order]
            dup = np.flatnonzero(k[1:] == k[:-1])
            bad = dup[v[dup + 1] != v[dup]]
            if len(bad):
                i = bad[0]
                raise FailedPreconditionError(
                    f"HashTable has different value for same key. Key {k[i]} has {v[i]} and "
                    f"trying to add value {v[i + 1]}"
                )
            keep = np.ones(len(k), bool)
            keep[dup + 1] = False
            self._keys, self._values = k[keep], v[keep]

    def _find_with(self, keys, default):
        """Values for ``keys`` (an array), ``default`` where a key is missing."""
        if self._key_dtype is _d.string:
            get = self._dict.get
            flat = [get(k, default) for k in keys.reshape(-1).tolist()]
            return _as_np(flat, self._value_dtype).reshape(keys.shape)
        k = keys.astype(self._keys.dtype, copy=False)
        pos = np.searchsorted(self._keys, k)
        pos = np.minimum(pos, max(len(self._keys) - 1, 0))
        if not len(self._keys):
            return np.full(keys.shape, default, self._value_dtype.np)
        hit = self._keys[pos] == k
        return np.where(hit, self._values[pos], np.asarray(default, self._value_dtype.np))

    key_dtype = property(lambda self: self._key_dtype)
    value_dtype = property(lambda self: self._value_dtype)
    name = property(lambda self: self._name)

    def lookup(self, keys, name=None):
        """Values for ``keys`` (a Tensor, SparseTensor or RaggedTensor of ``key_dtype``)."""
        want = self._lookup_key_dtype

        def fn(k):
            return bind(lookup_p, (_key_tensor(k, want, "lookup"),), {"table": self})

        return _map_values(keys, fn)

    def __getitem__(self, keys):
        return self.lookup(keys)

    def __repr__(self):
        return (
            f"<rill.lookup.{type(self).__name__} {self._name!r}: {self._key_dtype.name} -> "
            f"{self._value_dtype.name}, size={int(self.size())}>"
        )

    # a table is immutable: hash and compare by identity (it is a static op parameter)
    __hash__ = object.__hash__


@tf_export("lookup.StaticHashTable")
class StaticHashTable(_Table):
    """An immutable table from keys to values, filled once by ``initializer``; keys not in
    it map to ``default_value``."""

    def __init__(self, initializer, default_value, name=None, experimental_is_anonymous=False):
        self._name = name or "hash_table"
        self._initializer = initializer
        self._key_dtype = self._lookup_key_dtype = initializer.key_dtype
        self._value_dtype = initializer.value_dtype
        try:
            self._default = convert_to_tensor(default_value, dtype=self._value_dtype)
        except (TypeError, ValueError):
            raise TypeError(
                f"Cannot convert {default_value!r} to EagerTensor of dtype "
                f"{self._value_dtype.name} (the table's value dtype)"
            ) from None
        if self._default.shape.rank not in (0, None):
            raise ValueError(f"default_value must be a scalar, got shape {self._default.shape}")
        keys, values = initializer._contents()
        self._fill(keys, values)
        self._default_np = self._default._value.item()

    @property
    def default_value(self):
        return self._default

    @property
    def initializer(self):
        return self._initializer

    def _find(self, keys):
        return self._find_with(keys, self._default_np)

    def size(self, name=None):
        """The number of entries (an int64 scalar)."""
        return wrap(np.array(len(self._keys), np.int64))

    def export(self, name=None):
        """``(keys, values)``: the table's contents as two tensors."""
        return wrap(self._keys.copy(), self._key_dtype), wrap(
            self._values.copy(), self._value_dtype
        )


@tf_export("lookup.StaticVocabularyTable")
class StaticVocabularyTable(_Table):
    """Maps the keys of ``initializer`` (a vocabulary: int64 ids) to their ids and every
    other key to one of ``num_oov_buckets`` ids after them, by TensorFlow's hash
    (``Fingerprint64(key) % num_oov_buckets + vocab size``; integer keys hash their decimal
    string)."""

    def __init__(
        self,
        initializer,
        num_oov_buckets,
        lookup_key_dtype=None,
        name=None,
        experimental_is_anonymous=False,
    ):
        if num_oov_buckets <= 0:
            raise ValueError("`num_oov_buckets` must be > 0; use StaticHashTable.")
        self._name = name or "vocab_table"
        self._initializer = initializer
        self._num_oov = int(num_oov_buckets)
        self._value_dtype = _d.int64
        if initializer is not None:
            if initializer.value_dtype is not _d.int64:
                raise TypeError(
                    f"Invalid `value_dtype`, expected {_d.int64!r} but got {initializer.value_dtype!r}."
                )
            self._key_dtype = initializer.key_dtype
            keys, values = initializer._contents()
        else:
            self._key_dtype = _d.as_dtype(lookup_key_dtype or _d.string)
            keys, values = _as_np([], self._key_dtype), np.zeros(0, np.int64)
        if not (self._key_dtype is _d.string or self._key_dtype in (_d.int64, _d.int32)):
            raise TypeError(
                f"Invalid `key_dtype`, expected string or int64 but got {self._key_dtype!r}."
            )
        self._lookup_key_dtype = (
            _d.as_dtype(lookup_key_dtype) if lookup_key_dtype else self._key_dtype
        )
        if self._lookup_key_dtype is not self._key_dtype and not (
            self._lookup_key_dtype is _d.int32 and self._key_dtype is _d.int64
        ):
            raise TypeError(
                f"Invalid `lookup_key_dtype` {self._lookup_key_dtype!r} for table keys of "
                f"{self._key_dtype!r}; only int32 lookups into an int64 table are allowed"
            )
        self._fill(keys, values)
        self._cache = {}

    @property
    def initializer(self):
        return self._initializer

    def _bucket(self, key) -> int:
        b = self._cache.get(key)
        if b is None:
            data = key if isinstance(key, bytes) else str(int(key)).encode()
            b = self._cache[key] = fingerprint64(data) % self._num_oov + len(self._keys)
            if len(self._cache) > 1 << 16:
                self._cache.clear()
        return b

    def _find(self, keys):
        ids = self._find_with(keys, -1)
        miss = ids == -1
        if miss.any():
            uniq, inv = np.unique(keys[miss], return_inverse=True)
            ids[miss] = np.array([self._bucket(k) for k in uniq.tolist()], np.int64)[inv]
        return ids

    def size(self, name=None):
        """Vocabulary size plus ``num_oov_buckets`` (an int64 scalar)."""
        return wrap(np.array(len(self._keys) + self._num_oov, np.int64))
