"""``tf.lookup.experimental.MutableHashTable`` and ``DenseHashTable``: tables whose
contents change at run time (insert, remove), through stateful host ops so they keep
program order inside traced functions."""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import InvalidArgumentError, op_error
from rill.data.lookup import _as_np, _key_tensor, _Table
from rill.ops._op import AVal, bind, convert_to_tensor, primitive, tf_export


def _key_list(keys: np.ndarray) -> list:
    return keys.reshape(-1).tolist()


def _insert_kernel(keys, values, *, table):
    table._insert(keys, values)
    return ()


def _remove_kernel(keys, *, table):
    table._remove(keys)
    return ()


def _size_kernel(*, table):
    return np.array(len(table._data), np.int64)


def _export_kernel(*, table):
    keys = _as_np(list(table._data), table._key_dtype)
    vals = list(table._data.values())
    shape = (len(vals),) + table._value_shape
    values = (
        _as_np(vals, table._value_dtype)
        if table._value_dtype is _d.string
        else np.array(vals, table._value_dtype.np).reshape(shape)
    )
    return keys, values


insert_p = primitive(
    "LookupTableInsertV2",
    _insert_kernel,
    lambda k, v, *, table: (),
    n_out=-1,
    stateful=True,
    host=True,
)
remove_p = primitive(
    "LookupTableRemoveV2",
    _remove_kernel,
    lambda k, *, table: (),
    n_out=-1,
    stateful=True,
    host=True,
)
size_p = primitive(
    "LookupTableSizeV2", _size_kernel, lambda *, table: AVal([], _d.int64), stateful=True, host=True
)
export_p = primitive(
    "LookupTableExportV2",
    _export_kernel,
    lambda *, table: (
        AVal([None], table._key_dtype),
        AVal([None, *table._value_shape], table._value_dtype),
    ),
    n_out=2,
    stateful=True,
    host=True,
)


@tf_export("lookup.experimental.MutableHashTable")
class MutableHashTable(_Table):
    """A table of ``key_dtype`` keys to ``value_dtype`` values (scalars, or vectors of
    ``default_value``'s shape) filled by ``insert`` and emptied by ``remove``; missing keys
    map to ``default_value``."""

    _op = "MutableHashTable"

    def __init__(self, key_dtype, value_dtype, default_value, name="MutableHashTable",
                 checkpoint=True, experimental_is_anonymous=False):  # fmt: skip
        self._name = name
        self._key_dtype = self._lookup_key_dtype = _d.as_dtype(key_dtype)
        self._value_dtype = _d.as_dtype(value_dtype)
        self._default = convert_to_tensor(default_value, dtype=self._value_dtype)
        self._value_shape = tuple(self._default.shape.as_list())
        self._default_np = self._default._value
        self._data: dict = {}

    default_value = property(lambda self: self._default)

    def _check_keys(self, keys):
        """Hook: DenseHashTable refuses its reserved keys."""

    def _values_for(self, keys: np.ndarray, values: np.ndarray) -> list:
        want = keys.shape + self._value_shape
        if values.shape != want:
            raise op_error(
                InvalidArgumentError,
                "LookupTableInsertV2",
                f"Expected shape {list(want)} for value, got {list(values.shape)}",
            )
        flat = values.reshape((keys.size,) + self._value_shape)
        return [v.copy() if self._value_shape else v.item() for v in flat]

    def _insert(self, keys, values):
        self._check_keys(keys)
        self._data.update(zip(_key_list(keys), self._values_for(keys, values)))

    def _remove(self, keys):
        self._check_keys(keys)
        for k in _key_list(keys):
            self._data.pop(k, None)

    def _find(self, keys):
        self._check_keys(keys)
        get, default = self._data.get, self._default_np
        flat = [get(k, default) for k in _key_list(keys)]
        if self._value_dtype is _d.string:
            out = _as_np([v.item() if isinstance(v, np.ndarray) else v for v in flat], _d.string)
            return out.reshape(keys.shape + self._value_shape)
        out = np.array(flat, self._value_dtype.np).reshape(keys.shape + self._value_shape)
        return out

    def insert(self, keys, values, name=None):
        """Set ``table[keys[i]] = values[i]``; ``values`` has ``keys.shape + value_shape``."""
        k = _key_tensor(keys, self._key_dtype, "insert")
        v = convert_to_tensor(values, dtype=self._value_dtype)
        return bind(insert_p, (k, v), {"table": self}) or None

    def remove(self, keys, name=None):
        """Delete ``keys`` (absent keys are ignored)."""
        k = _key_tensor(keys, self._key_dtype, "remove")
        return bind(remove_p, (k,), {"table": self}) or None

    def size(self, name=None):
        """The number of entries (an int64 scalar)."""
        return bind(size_p, (), {"table": self})

    def export(self, name=None):
        """``(keys, values)``: the table's contents."""
        return tuple(bind(export_p, (), {"table": self}))


@tf_export("lookup.experimental.DenseHashTable")
class DenseHashTable(MutableHashTable):
    """A mutable table with two reserved keys, ``empty_key`` and ``deleted_key`` (TF's
    open-addressing layout needs them; they may never be inserted, looked up or erased)."""

    def __init__(self, key_dtype, value_dtype, default_value, empty_key, deleted_key,
                 initial_num_buckets=None, name="MutableDenseHashTable", checkpoint=True,
                 experimental_is_anonymous=False):  # fmt: skip
        super().__init__(key_dtype, value_dtype, default_value, name=name)
        self._empty = convert_to_tensor(empty_key, dtype=self._key_dtype)._value.item()
        self._deleted = convert_to_tensor(deleted_key, dtype=self._key_dtype)._value.item()
        if self._empty == self._deleted:
            raise op_error(
                InvalidArgumentError,
                "MutableDenseHashTable",
                f"empty_key and deleted_key cannot be the same (both {self._empty!r})",
            )

    def _check_keys(self, keys):
        flat = _key_list(keys)
        for reserved, what in ((self._empty, "empty_key"), (self._deleted, "deleted_key")):
            if reserved in flat:
                raise op_error(
                    InvalidArgumentError,
                    "MutableDenseHashTable",
                    f"Using the {what} ({reserved!r}) as a table key is not allowed",
                )

    def erase(self, keys, name=None):
        """Delete ``keys`` (absent keys are ignored)."""
        return self.remove(keys, name)
