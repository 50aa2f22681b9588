"""More of ``tf.data.experimental``: sources (``Counter``, ``RandomDataset``,
``from_list``, ``SqlDataset``), transformations for ``Dataset.apply`` (``group_by_reducer``,
``dense_to_sparse_batch``, ``rejection_resample``, ``parse_example_dataset``,
``snapshot``, ``pad_to_cardinality``, ``copy_to_device``, ``prefetch_to_device``), readers
and writers (``make_batched_features_dataset``, ``TFRecordWriter``), lookup tables built
from datasets, and small helpers (``at``, ``get_structure``, ``IteratorSpec``,
``NumpyIterator``).

Sources are ``DatasetV2`` generators over leaf tuples; transformations are compositions
of ``Dataset`` methods where one exists, so their specs and cardinalities follow.
"""

from __future__ import annotations

import itertools
import os

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import InvalidArgumentError, OutOfRangeError, op_error
from rill.core.tensor import TensorSpec
from rill.core.tensor_shape import TensorShape
from rill.data import structure as _s
from rill.data.dataset_ops import INFINITE, UNKNOWN, DatasetV2, _NumpyIterator
from rill.ops._op import tf_export

__all__ = [
    "Counter", "RandomDataset", "from_list", "SqlDataset", "Reducer", "group_by_reducer",
    "dense_to_sparse_batch", "rejection_resample", "parse_example_dataset", "snapshot",
    "pad_to_cardinality", "copy_to_device", "prefetch_to_device",
    "make_batched_features_dataset", "TFRecordWriter", "table_from_dataset",
    "index_table_from_dataset", "at", "get_structure", "IteratorSpec", "SHARD_HINT",
]  # fmt: skip

SHARD_HINT = tf_export("data.experimental.SHARD_HINT")(-1)
tf_export("data.NumpyIterator")(_NumpyIterator)


# --------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------


def _seed_entropy(seed):
    """NumPy seed entropy from the global and op seeds (None: nondeterministic)."""
    from rill.ops.random_ops import get_seed

    s1, s2 = get_seed(seed)
    return None if s1 is None else [int(s1), int(s2)]


@tf_export("data.experimental.Counter")
def Counter(start=0, step=1, dtype=_d.int64):  # noqa: N802 - TF's name
    """The infinite dataset ``start, start + step, start + 2 * step, ...``."""
    dt = _d.as_dtype(dtype)
    start, step = int(np.asarray(start)), int(np.asarray(step))

    def gen(ctx):
        return ((np.asarray(v, dt.np),) for v in itertools.count(start, step))

    return DatasetV2(gen, TensorSpec([], dt), INFINITE, kind="_CounterDataset")


@tf_export("data.experimental.RandomDataset")
class RandomDataset(DatasetV2):
    """An infinite dataset of pseudo-random int64 scalars (reproducible for a ``seed``;
    with ``rerandomize_each_iteration`` each new iteration draws a new sequence)."""

    def __init__(self, seed=None, rerandomize_each_iteration=None, name=None):
        base = _seed_entropy(seed)
        epoch = itertools.count()

        def gen(ctx):
            e = next(epoch) if rerandomize_each_iteration else 0
            rng = np.random.default_rng(None if base is None else base + [e])
            while True:
                yield (np.asarray(rng.integers(-(2**63), 2**63 - 1, dtype=np.int64)),)

        super().__init__(gen, TensorSpec([], _d.int64), INFINITE, kind="_RandomDataset")


@tf_export("data.experimental.from_list")
def from_list(elements, name=None):
    """A dataset of the given elements (each a nested structure of the same layout; a
    dimension that differs between elements becomes unknown in the element spec)."""
    elements = list(elements)
    if not elements:
        raise ValueError("Invalid `elements`. `elements` should not be empty.")
    values = [_s.normalize(e) for e in elements]
    flat = [_s.flatten(v) for v in values]
    leaves = [[_s.to_leaf(x) for x in row] for row in flat]
    specs = [_s.spec_of(x) for x in flat[0]]
    for i, row in enumerate(flat[1:], 1):
        if len(row) != len(specs):
            raise ValueError(
                f"Invalid `elements`. All elements must have the same structure, but element "
                f"{i} has {len(row)} components and element 0 has {len(specs)}."
            )
        merged = []
        for a, x in zip(specs, row):
            c = _s.compatible_spec(a, _s.spec_of(x))
            if c is None:
                raise TypeError(
                    f"Invalid `elements`. Element {i} has spec {_s.spec_of(x)!r}, incompatible "
                    f"with {a!r}."
                )
            merged.append(c)
        specs = merged
    spec = _s.pack(values[0], specs)
    items = [tuple(r) for r in leaves]
    return DatasetV2(lambda ctx: iter(items), spec, len(items), kind="_ListDataset")


@tf_export("data.experimental.SqlDataset")
class SqlDataset(DatasetV2):
    """The rows of a SQL ``query`` as tuples of scalars typed by ``output_types``
    (``driver_name`` ``"sqlite"``: ``data_source_name`` is the database file)."""

    def __init__(self, driver_name, data_source_name, query, output_types):
        if driver_name != "sqlite":
            raise op_error(
                InvalidArgumentError,
                "SqlDataset",
                f"The database type, {driver_name}, is not supported by SqlDataset. The set of "
                f"supported databases is: {{'sqlite'}}.",
            )
        single = isinstance(output_types, _d.DType) or not isinstance(output_types, (tuple, list))
        types = (output_types,) if single else tuple(output_types)
        dts = [_d.as_dtype(t) for t in types]
        path, q = os.fspath(data_source_name), str(query)

        def convert(v, dt):
            if dt is _d.string:
                a = np.empty((), object)
                a[()] = v if isinstance(v, bytes) else str(v).encode()
                return a
            return np.asarray(v, dt.np)

        def gen(ctx):
            import sqlite3

            con = sqlite3.connect(path)
            try:
                cur = con.execute(q)
                for row in cur:
                    if len(row) != len(dts):
                        raise op_error(
                            InvalidArgumentError,
                            "SqlDataset",
                            f"The query returned {len(row)} columns but output_types has {len(dts)}",
                        )
                    yield tuple(convert(v, dt) for v, dt in zip(row, dts))
            finally:
                con.close()

        spec = TensorSpec([], dts[0]) if single else tuple(TensorSpec([], dt) for dt in dts)
        super().__init__(gen, spec, UNKNOWN, kind="_SqlDataset")


# --------------------------------------------------------------------------------------
# Transformations
# --------------------------------------------------------------------------------------


@tf_export("data.experimental.Reducer")
class Reducer:
    """How ``group_by_reducer`` folds a group: ``init_func(key) -> state``,
    ``reduce_func(state, element) -> state``, ``finalize_func(state) -> output``."""

    def __init__(self, init_func, reduce_func, finalize_func):
        self._init_func = init_func
        self._reduce_func = reduce_func
        self._finalize_func = finalize_func

    @property
    def init_func(self):
        return self._init_func

    @property
    def reduce_func(self):
        return self._reduce_func

    @property
    def finalize_func(self):
        return self._finalize_func


@tf_export("data.experimental.group_by_reducer")
def group_by_reducer(key_func, reducer):
    """Group elements by ``key_func`` (an int64 scalar) and fold each group with
    ``reducer``; one output per key, by increasing key, once the input is exhausted."""

    def reduce_window(key, window):
        state = window.reduce(reducer.init_func(key), reducer.reduce_func)
        return DatasetV2.from_tensors(reducer.finalize_func(state))

    def apply(ds):
        return ds.group_by_window(key_func, reduce_window, window_size=np.iinfo(np.int64).max)

    return apply


@tf_export("data.experimental.dense_to_sparse_batch")
def dense_to_sparse_batch(batch_size, row_shape):
    """Batch elements of varying shape into SparseTensors of dense shape
    ``[batch] + row_shape`` (a ``-1``/None dimension: the largest in the batch)."""
    from rill.structures.sparse_tensor import SparseTensor, SparseTensorSpec

    rs = TensorShape(row_shape)
    if rs.rank is None:
        raise ValueError("dense_to_sparse_batch: row_shape must have a known rank")
    dims = [None if d is None or d < 0 else int(d) for d in rs.as_list()]
    n = int(np.asarray(batch_size))

    def apply(ds):
        sp = ds.element_spec
        if type(sp) is not TensorSpec:
            raise TypeError(f"dense_to_sparse_batch needs dense tensor elements, got {sp!r}")
        if sp.shape.rank is not None and sp.shape.rank != len(dims):
            raise ValueError(
                f"dense_to_sparse_batch: row_shape {dims} has rank {len(dims)} but the elements "
                f"have rank {sp.shape.rank}"
            )
        dt = sp.dtype

        def flush(rows):
            idx, vals = [], []
            shape = [len(rows)] + [0] * len(dims)
            for b, a in enumerate(rows):
                for k, d in enumerate(a.shape):
                    if dims[k] is not None and d > dims[k]:
                        raise op_error(
                            InvalidArgumentError,
                            "DenseToSparseBatchDataset",
                            f"Input element had shape ({', '.join(map(str, a.shape))}) that is "
                            f"incompatible with the row shape ({', '.join(str(-1 if x is None else x) for x in dims)}).",
                        )
                    shape[k + 1] = max(shape[k + 1], d)
                nz = np.argwhere(np.ones(a.shape, bool))
                idx.append(np.concatenate([np.full((len(nz), 1), b, np.int64), nz], 1))
                vals.append(a.reshape(-1))
            for k, d in enumerate(dims):
                if d is not None:
                    shape[k + 1] = d
            st = SparseTensor(
                np.concatenate(idx).astype(np.int64).reshape(-1, len(dims) + 1),
                np.concatenate(vals) if vals else np.zeros(0, dt.np),
                np.array(shape, np.int64),
            )
            return (_s.to_leaf(st),)

        def gen(ctx):
            rows = []
            for (leaf,) in ds._iter(ctx):
                rows.append(np.asarray(leaf))
                if len(rows) == n:
                    yield flush(rows)
                    rows = []
            if rows:
                yield flush(rows)

        spec = SparseTensorSpec([None, *dims], dt)
        return DatasetV2(gen, spec, UNKNOWN, inputs=[ds], kind="_DenseToSparseBatchDataset")

    return apply


@tf_export("data.experimental.rejection_resample")
def rejection_resample(class_func, target_dist, initial_dist=None, seed=None):
    """Resample a dataset towards the class distribution ``target_dist``: yields
    ``(class, element)`` pairs, keeping an element of class ``c`` with probability
    ``r_c / max(r)``, ``r = target / initial`` (``initial_dist`` estimated from the
    classes seen so far when not given)."""
    target = np.asarray(getattr(target_dist, "numpy", lambda: target_dist)(), np.float64)
    init = (
        None
        if initial_dist is None
        else np.asarray(getattr(initial_dist, "numpy", lambda: initial_dist)(), np.float64)
    )

    def apply(ds):
        classed = ds.map(lambda *x: (class_func(*x), x[0] if len(x) == 1 else x))
        base = _seed_entropy(seed)

        def gen(ctx):
            rng = np.random.default_rng(base)
            counts = np.zeros(len(target))
            for leaves in classed._iter(ctx):
                c = int(np.asarray(leaves[0]))
                if not 0 <= c < len(target):
                    raise op_error(
                        InvalidArgumentError,
                        "RejectionResample",
                        f"class_func returned {c}, outside [0, {len(target)})",
                    )
                if init is None:
                    counts[c] += 1
                    dist = counts / counts.sum()
                else:
                    dist = init
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = np.where(dist > 0, target / dist, 0.0)
                top = ratio.max()
                if top > 0 and rng.random() < ratio[c] / top:
                    yield leaves

        out = DatasetV2(
            gen, classed.element_spec, UNKNOWN, inputs=[classed], kind="_RejectionResampleDataset"
        )
        return out

    return apply


@tf_export("data.experimental.parse_example_dataset")
def parse_example_dataset(features, num_parallel_calls=1, deterministic=None):
    """Parse a dataset of serialized ``Example`` vectors (batched) into feature dicts, as
    ``tf.io.parse_example``."""
    if features is None:
        raise ValueError("Argument `features` is required, but not specified.")
    from rill.data.example import parse_example

    return lambda ds: ds.map(
        lambda s: parse_example(s, features), num_parallel_calls, deterministic
    )


@tf_export("data.experimental.snapshot")
def snapshot(path, compression="AUTO", reader_func=None, shard_func=None):
    """Persist the dataset under ``path`` the first time it is fully iterated; later
    iterations (in this or another program) read the snapshot instead of recomputing it."""
    from rill.data.dataset_ops import _from_leaf_list
    from rill.data.save_load import load, save

    path = os.fspath(path)
    comp = None if compression in (None, "AUTO", "") else compression

    def apply(ds):
        spec = ds.element_spec
        data_dir = os.path.join(path, "rill-snapshot")
        done = os.path.join(path, "rill-snapshot.done")

        def gen(ctx):
            if os.path.exists(done):
                loaded = load(data_dir, spec, compression=comp, reader_func=reader_func)
                yield from loaded._iter(ctx)
                return
            items = []
            for leaves in ds._iter(ctx):
                items.append(leaves)
                yield leaves
            # only a complete pass becomes the snapshot; the marker is written last
            save(_from_leaf_list(items, spec), data_dir, compression=comp, shard_func=shard_func)
            with open(done, "w") as f:
                f.write("complete\n")

        return DatasetV2(gen, spec, ds._card, inputs=[ds], kind="_SnapshotDataset")

    return apply


@tf_export("data.experimental.pad_to_cardinality")
def pad_to_cardinality(cardinality, mask_key="valid"):
    """Pad a dataset of dicts to ``cardinality`` elements with zero-valued elements; each
    element gets a boolean ``mask_key`` (True for the original ones)."""
    total = int(np.asarray(cardinality))

    def apply(ds):
        spec = ds.element_spec
        if not isinstance(spec, dict):
            raise ValueError(
                f"`pad_to_cardinality` requires its input dataset to be a dictionary, got {spec!r}."
            )
        if mask_key in spec:
            raise ValueError(f"The key {mask_key!r} is already present in the dataset elements.")
        n = ds._card
        if n == UNKNOWN or n == INFINITE:
            raise ValueError(
                f"The dataset passed into `pad_to_cardinality` must have a known cardinality, "
                f"but has cardinality {n}"
            )
        if n > total:
            raise ValueError(
                f"The dataset passed into `pad_to_cardinality` must have a cardinality less "
                f"than the target cardinality ({total}), but has cardinality {n}"
            )
        for k, sp in spec.items():
            if type(sp) is not TensorSpec or not sp.shape.is_fully_defined():
                raise ValueError(
                    f"pad_to_cardinality needs dense elements of fully defined shape; {k!r} has {sp!r}"
                )
        out_spec = dict(spec)
        out_spec[mask_key] = TensorSpec([], _d.bool)
        keys_in = list(_s.flatten(spec))  # leaf order of the input
        flat_keys = sorted(spec)  # dict leaves are in key order
        out_keys = sorted(out_spec)

        def leaf_for(k, leaves, valid):
            if k == mask_key:
                return np.asarray(valid)
            return leaves[flat_keys.index(k)]

        zeros = tuple(
            (
                np.zeros(spec[k].shape.as_list(), object)
                if spec[k].dtype is _d.string
                else np.zeros(spec[k].shape.as_list(), spec[k].dtype.np)
            )
            for k in flat_keys
        )
        for z, k in zip(zeros, flat_keys):
            if spec[k].dtype is _d.string:
                z.fill(b"")

        def gen(ctx):
            count = 0
            for leaves in ds._iter(ctx):
                count += 1
                yield tuple(leaf_for(k, leaves, True) for k in out_keys)
            for _ in range(total - count):
                yield tuple(leaf_for(k, zeros, False) for k in out_keys)

        del keys_in
        return DatasetV2(gen, out_spec, total, inputs=[ds], kind="_PadToCardinalityDataset")

    return apply


@tf_export("data.experimental.copy_to_device")
def copy_to_device(target_device, source_device="/cpu:0"):
    """Move elements to ``target_device``: on rill's single host device the elements stay
    where they are, so the dataset is unchanged."""
    return lambda ds: ds


@tf_export("data.experimental.prefetch_to_device")
def prefetch_to_device(device, buffer_size=None):
    """Prefetch ``buffer_size`` elements (autotuned when None) onto ``device`` (rill's one
    host device)."""
    from rill.data.dataset_ops import AUTOTUNE

    return lambda ds: ds.prefetch(AUTOTUNE if buffer_size is None else buffer_size)


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------


@tf_export("data.experimental.make_batched_features_dataset")
def make_batched_features_dataset(
    file_pattern,
    batch_size,
    features,
    reader=None,
    label_key=None,
    reader_args=None,
    num_epochs=None,
    shuffle=True,
    shuffle_buffer_size=10000,
    shuffle_seed=None,
    prefetch_buffer_size=None,
    reader_num_threads=None,
    parser_num_threads=None,
    sloppy_ordering=False,
    drop_final_batch=False,
):
    """Batches of feature dicts parsed from the ``Example`` records of the files matching
    ``file_pattern`` (``(features, label)`` pairs when ``label_key`` is given)."""
    from rill.data.dataset_ops import AUTOTUNE
    from rill.data.readers import TFRecordDataset

    files = DatasetV2.list_files(file_pattern, shuffle=shuffle, seed=shuffle_seed)
    reader = TFRecordDataset if reader is None else reader
    args = list(reader_args or [])
    # the readers take a dataset of file names: file by file, as interleave(cycle_length=1)
    ds = reader(files, *args)
    if num_epochs != 1:
        ds = ds.repeat(num_epochs)
    if shuffle:
        ds = ds.shuffle(shuffle_buffer_size, seed=shuffle_seed)
    ds = ds.batch(batch_size, drop_remainder=drop_final_batch)
    ds = ds.apply(parse_example_dataset(features))
    if label_key is not None:
        if label_key not in features:
            raise ValueError(
                f"The `label_key` provided ({label_key}) must be one of the `features` keys."
            )

        def split(d):
            d = dict(d)
            label = d.pop(label_key)
            return d, label

        ds = ds.map(split)
    return ds.prefetch(AUTOTUNE if prefetch_buffer_size is None else prefetch_buffer_size)


@tf_export("data.experimental.TFRecordWriter")
class TFRecordWriter:
    """Writes a dataset of scalar strings to one TFRecord file (``write(dataset)``)."""

    def __init__(self, filename, compression_type=None):
        self._filename = os.fspath(filename)
        self._compression_type = compression_type

    def write(self, dataset) -> None:
        """Write every element of ``dataset`` (scalar strings) as one record."""
        from rill.data.tfrecord import TFRecordOptions
        from rill.data.tfrecord import TFRecordWriter as _Writer

        sp = dataset.element_spec
        if not (type(sp) is TensorSpec and sp.dtype is _d.string and sp.shape.rank in (0, None)):
            raise TypeError(
                f"Invalid `dataset.` Expected a `dataset` that produces scalar `tf.string` "
                f"elements, but got a dataset which produces elements with shapes "
                f"{getattr(sp, 'shape', sp)} and types {getattr(sp, 'dtype', sp)}."
            )
        with _Writer(self._filename, TFRecordOptions(self._compression_type)) as w:
            for (leaf,) in dataset._iter():
                v = np.asarray(leaf, object)
                w.write(v.item())


# --------------------------------------------------------------------------------------
# Lookup tables from datasets
# --------------------------------------------------------------------------------------


def _pairs(dataset, vocab_size, what):
    sp = dataset.element_spec
    if not (isinstance(sp, tuple) and len(sp) == 2):
        raise ValueError(f"{what}: the dataset must produce (key, value) pairs, got {sp!r}")
    keys, values = [], []
    for k, v in dataset._iter():
        keys.append(np.asarray(k).item() if np.ndim(k) == 0 else k)
        values.append(np.asarray(v).item() if np.ndim(v) == 0 else v)
    if vocab_size is not None and len(keys) != int(vocab_size):
        raise op_error(
            InvalidArgumentError,
            "InitializeTableFromDataset",
            f"{what}: vocab_size is {int(vocab_size)} but the dataset has {len(keys)} elements",
        )
    return sp, keys, values


def _array(items, dtype):
    if dtype is _d.string:
        a = np.empty(len(items), object)
        a[:] = items
        return a
    return np.asarray(items, dtype.np)


@tf_export("data.experimental.table_from_dataset")
def table_from_dataset(
    dataset=None,
    num_oov_buckets=0,
    vocab_size=None,
    default_value=None,
    hasher_spec=None,
    key_dtype=None,
    name=None,
):
    """A lookup table from a dataset of ``(key, value)`` pairs: a ``StaticHashTable``
    (unknown keys give ``default_value``), or with ``num_oov_buckets`` a
    ``StaticVocabularyTable`` (int64 ids; unknown keys hash to the extra buckets)."""
    from rill.data import lookup as _lk

    if dataset is None:
        raise ValueError("table_from_dataset: dataset must be given")
    if num_oov_buckets < 0:
        raise ValueError(f"num_oov_buckets must be greater or equal than 0, got {num_oov_buckets}.")
    sp, keys, values = _pairs(dataset, vocab_size, "table_from_dataset")
    kdt = sp[0].dtype if key_dtype is None else _d.as_dtype(key_dtype)
    init = _lk.KeyValueTensorInitializer(
        _array(keys, kdt), _array(values, sp[1].dtype), kdt, sp[1].dtype
    )
    if num_oov_buckets:
        return _lk.StaticVocabularyTable(init, num_oov_buckets, name=name)
    if default_value is None:
        raise ValueError("table_from_dataset: default_value is required when num_oov_buckets is 0")
    return _lk.StaticHashTable(init, default_value, name=name)


@tf_export("data.experimental.index_table_from_dataset")
def index_table_from_dataset(
    dataset=None,
    num_oov_buckets=0,
    vocab_size=None,
    default_value=-1,
    hasher_spec=None,
    key_dtype=None,
    name=None,
):
    """A table mapping each key of a dataset of keys to its position (int64), unknown
    keys to ``default_value`` or, with ``num_oov_buckets``, to hashed extra ids."""
    indexed = dataset.enumerate().map(lambda i, k: (k, i))
    return table_from_dataset(
        indexed, num_oov_buckets, vocab_size, default_value, hasher_spec, key_dtype, name
    )


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


@tf_export("data.experimental.at")
def at(dataset, index):
    """The element of ``dataset`` at position ``index`` (``OutOfRangeError`` past the
    end)."""
    i = int(np.asarray(index))
    if i < 0:
        raise op_error(
            InvalidArgumentError, "GetElementAtIndex", f"Index must be non-negative, got {i}"
        )
    it = dataset._iter()
    for leaves in itertools.islice(it, i, i + 1):
        return dataset._pack()(leaves)
    raise op_error(
        OutOfRangeError, "GetElementAtIndex", f"Index {i} is out of range of the dataset"
    )


@tf_export("data.experimental.get_structure")
def get_structure(dataset_or_iterator):
    """The element spec of a dataset or an iterator."""
    spec = getattr(dataset_or_iterator, "element_spec", None)
    if spec is None:
        raise TypeError(
            f"Invalid `dataset_or_iterator`. `dataset_or_iterator` must be a `tf.data.Dataset` "
            f"or tf.data.Iterator object, but got {type(dataset_or_iterator)}."
        )
    return spec


@tf_export("data.IteratorSpec")
class IteratorSpec:
    """The type of a ``tf.data.Iterator`` over elements of ``element_spec``."""

    def __init__(self, element_spec):
        self._element_spec = element_spec

    @property
    def element_spec(self):
        return self._element_spec

    @property
    def value_type(self):
        from rill.data.dataset_ops import OwnedIterator

        return OwnedIterator

    @staticmethod
    def from_value(value):
        """The spec of iterator ``value``."""
        return IteratorSpec(value.element_spec)

    def is_compatible_with(self, spec_or_value) -> bool:
        other = (
            spec_or_value
            if isinstance(spec_or_value, IteratorSpec)
            else IteratorSpec.from_value(spec_or_value)
        )
        a, b = _s.flatten(self._element_spec), _s.flatten(other._element_spec)
        return len(a) == len(b) and all(_s.compatible_spec(x, y) is not None for x, y in zip(a, b))

    def __eq__(self, other):
        return isinstance(other, IteratorSpec) and self._element_spec == other._element_spec

    def __hash__(self):
        return hash(repr(self._element_spec))

    def __repr__(self):
        return f"IteratorSpec({self._element_spec!r})"
