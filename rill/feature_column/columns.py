"""The feature column classes and their constructors (``tf.feature_column.*``).

Columns are immutable descriptions (namedtuples, as in TF, so they compare and hash by
value and print the same): ``parse_example_spec`` says how to read them from
``tf.train.Example``s, and ``rill.feature_column.transform`` turns features into tensors.
"""

from __future__ import annotations

import collections
import math

from rill.core import dtypes as _d
from rill.data.example import FixedLenFeature, VarLenFeature
from rill.ops._op import tf_export

# --------------------------------------------------------------------------------------
# bases
# --------------------------------------------------------------------------------------


class FeatureColumn:
    """A feature column: ``name`` (unique, sorts the outputs), ``parse_example_spec``."""

    __slots__ = ()

    @property
    def parents(self) -> list:
        return []


class DenseColumn(FeatureColumn):
    """A column that becomes a dense ``[batch, prod(variable_shape)]`` tensor."""

    __slots__ = ()


class CategoricalColumn(FeatureColumn):
    """A column whose values are ids in ``[0, num_buckets)`` (sparse, per example)."""

    __slots__ = ()


class SequenceDenseColumn(FeatureColumn):
    """A dense column over sequences: ``[batch, time, ...]``."""

    __slots__ = ()


class _KeyedColumn:
    """Mixin: a column read from one raw feature and named by its ``key``."""

    __slots__ = ()

    @property
    def name(self):
        return self.key


class _VarLenKeyedColumn(_KeyedColumn):
    """Mixin: a keyed column parsed as a ``VarLenFeature`` of its ``dtype``."""

    __slots__ = ()

    @property
    def parse_example_spec(self):
        return {self.key: VarLenFeature(self.dtype)}


class _CategoricalView:
    """Mixin: a column over ``categorical_column``, parsed as that column is."""

    __slots__ = ()

    @property
    def parse_example_spec(self):
        return self.categorical_column.parse_example_spec

    @property
    def parents(self):
        return [self.categorical_column]


def _check_key(key, what="key"):
    if not isinstance(key, str):
        raise ValueError(f"{what} must be a string. Given: {key}")


def _check_buckets(n, what):
    if n is None or int(n) < 1:
        raise ValueError(f"{what} must be at least 1. Given: {n}")


# --------------------------------------------------------------------------------------
# dense columns
# --------------------------------------------------------------------------------------

_NumericBase = collections.namedtuple(
    "NumericColumn", ["key", "shape", "default_value", "dtype", "normalizer_fn"]
)


class NumericColumn(_KeyedColumn, DenseColumn, _NumericBase):
    """Real-valued features of a fixed ``shape``."""

    __slots__ = ()

    @property
    def variable_shape(self):
        return tuple(self.shape)

    @property
    def parse_example_spec(self):
        return {self.key: FixedLenFeature(self.shape, self.dtype, self.default_value)}


def _shape_tuple(key, shape):
    if isinstance(shape, int):
        shape = (shape,)
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise TypeError(f"shape must be an int or an iterable of ints. Given: {shape}") from None
    for s in shape:
        if s < 1:
            raise ValueError(f"shape dimensions must be greater than 0. Given: {shape}, key: {key}")
    return shape


def _default_tuple(key, default_value, dtype, shape):
    if default_value is None:
        return None
    is_int = dtype.is_integer
    if isinstance(default_value, (int, float)) and not isinstance(default_value, bool):
        if is_int and not float(default_value).is_integer():
            raise TypeError(
                f"If dtype is integer, default_value must be integer. dtype: {dtype}, "
                f"default_value: {default_value}."
            )
        v = int(default_value) if is_int else float(default_value)
        return tuple([v] * math.prod(shape)) if len(shape) == 1 else _nested(v, shape)
    import numpy as np

    arr = np.asarray(default_value)
    if arr.shape != tuple(shape):
        raise ValueError(
            f"The shape of default_value must be equal to given shape. default_value: "
            f"{default_value}, shape: {shape}, key: {key}"
        )
    return _to_tuple(arr.astype(np.int64 if is_int else np.float64).tolist())


def _nested(v, shape):
    if len(shape) == 1:
        return tuple([v] * shape[0])
    return tuple(_nested(v, shape[1:]) for _ in range(shape[0]))


def _to_tuple(x):
    return tuple(_to_tuple(i) for i in x) if isinstance(x, list) else x


def _check_numeric(key, shape, dtype, normalizer_fn):
    """The checks numeric_column and sequence_numeric_column share: (shape, dtype)."""
    _check_key(key)
    shape = _shape_tuple(key, shape)
    dtype = _d.as_dtype(dtype)
    if not (dtype.is_integer or dtype.is_floating):
        raise ValueError(f"dtype must be convertible to float. dtype: {dtype}, key: {key}")
    if normalizer_fn is not None and not callable(normalizer_fn):
        raise TypeError(f"normalizer_fn must be a callable. Given: {normalizer_fn}")
    return shape, dtype


@tf_export("feature_column.numeric_column")
def numeric_column(key, shape=(1,), default_value=None, dtype=_d.float32, normalizer_fn=None):
    """A dense column of real values of ``shape`` read from ``features[key]``."""
    shape, dtype = _check_numeric(key, shape, dtype, normalizer_fn)
    default_value = _default_tuple(key, default_value, dtype, shape)
    return NumericColumn(key, shape, default_value, dtype, normalizer_fn)


_BucketBase = collections.namedtuple("BucketizedColumn", ["source_column", "boundaries"])


class BucketizedColumn(DenseColumn, CategoricalColumn, _BucketBase):
    """A numeric column's values, replaced by the index of their bucket."""

    __slots__ = ()

    @property
    def name(self):
        return f"{self.source_column.name}_bucketized"

    @property
    def parse_example_spec(self):
        return self.source_column.parse_example_spec

    @property
    def variable_shape(self):
        return tuple(self.source_column.shape) + (len(self.boundaries) + 1,)

    @property
    def num_buckets(self):
        return math.prod(self.source_column.shape) * (len(self.boundaries) + 1)

    @property
    def parents(self):
        return [self.source_column]


@tf_export("feature_column.bucketized_column")
def bucketized_column(source_column, boundaries):
    """Discretise a 1-D-shaped numeric column by sorted ``boundaries``."""
    if not isinstance(source_column, NumericColumn):
        raise ValueError(
            f"source_column must be a column generated with numeric_column(). Given: "
            f"{source_column}"
        )
    if len(source_column.shape) > 1:
        raise ValueError(f"source_column must be one-dimensional column. Given: {source_column}")
    if not boundaries:
        raise ValueError("boundaries must not be empty.")
    if not isinstance(boundaries, (list, tuple)):
        raise ValueError("boundaries must be a sorted list.")
    for a, b in zip(boundaries, boundaries[1:]):
        if not a < b:
            raise ValueError("boundaries must be a sorted list.")
    return BucketizedColumn(source_column, tuple(float(b) for b in boundaries))


# --------------------------------------------------------------------------------------
# categorical columns
# --------------------------------------------------------------------------------------

_IdentityBase = collections.namedtuple(
    "IdentityCategoricalColumn", ["key", "number_buckets", "default_value"]
)


class IdentityCategoricalColumn(_KeyedColumn, CategoricalColumn, _IdentityBase):
    """Integer features used as ids directly."""

    __slots__ = ()

    @property
    def num_buckets(self):
        return self.number_buckets

    @property
    def parse_example_spec(self):
        return {self.key: VarLenFeature(_d.int64)}


@tf_export("feature_column.categorical_column_with_identity")
def categorical_column_with_identity(key, num_buckets, default_value=None):
    """Integer ids in ``[0, num_buckets)``; others become ``default_value`` (or raise)."""
    _check_key(key)
    _check_buckets(num_buckets, "num_buckets")
    if default_value is not None and not 0 <= default_value < num_buckets:
        raise ValueError(
            f"default_value {default_value} not in range [0, {num_buckets}), column_name {key}"
        )
    return IdentityCategoricalColumn(key, int(num_buckets), default_value)


_HashBase = collections.namedtuple("HashedCategoricalColumn", ["key", "hash_bucket_size", "dtype"])


class HashedCategoricalColumn(_VarLenKeyedColumn, CategoricalColumn, _HashBase):
    """String (or integer) features hashed into ``hash_bucket_size`` ids."""

    __slots__ = ()

    @property
    def num_buckets(self):
        return self.hash_bucket_size


def _check_categorical_dtype(dtype):
    dtype = _d.as_dtype(dtype)
    if dtype is not _d.string and not dtype.is_integer:
        raise ValueError(f"dtype must be string or integer. dtype: {dtype}.")
    return dtype


@tf_export("feature_column.categorical_column_with_hash_bucket")
def categorical_column_with_hash_bucket(key, hash_bucket_size, dtype=_d.string):
    """Hash each feature value (strings; integers by their decimal text) into buckets."""
    _check_key(key)
    if hash_bucket_size is None:
        raise ValueError(f"hash_bucket_size must be set. key: {key}")
    if hash_bucket_size < 1:
        raise ValueError(
            f"hash_bucket_size must be at least 1. hash_bucket_size: {hash_bucket_size}, key: {key}"
        )
    return HashedCategoricalColumn(key, int(hash_bucket_size), _check_categorical_dtype(dtype))


_VocabListBase = collections.namedtuple(
    "VocabularyListCategoricalColumn",
    ["key", "vocabulary_list", "dtype", "default_value", "num_oov_buckets"],
)


class VocabularyListCategoricalColumn(_VarLenKeyedColumn, CategoricalColumn, _VocabListBase):
    """Features looked up in an in-memory vocabulary."""

    __slots__ = ()

    @property
    def num_buckets(self):
        return len(self.vocabulary_list) + self.num_oov_buckets


def _check_oov(key, default_value, num_oov_buckets, unset=-1):
    # A vocabulary list's default_value is unset at -1, a vocabulary file's at None.
    if num_oov_buckets:
        if default_value != unset:
            raise ValueError(f"Can't specify both num_oov_buckets and default_value in {key}.")
        if num_oov_buckets < 0:
            raise ValueError(f"Invalid num_oov_buckets {num_oov_buckets} in {key}.")


@tf_export("feature_column.categorical_column_with_vocabulary_list")
def categorical_column_with_vocabulary_list(key, vocabulary_list, dtype=None, default_value=-1,
                                            num_oov_buckets=0):  # fmt: skip
    """Ids are positions in ``vocabulary_list``; unknown values get an OOV bucket (by
    hash) or ``default_value``."""
    _check_key(key)
    if vocabulary_list is None or len(vocabulary_list) < 1:
        raise ValueError(f"vocabulary_list {vocabulary_list} must be non-empty, column_name: {key}")
    vocab = tuple(vocabulary_list)
    if len(set(vocab)) != len(vocab):
        raise ValueError(f"Duplicate keys in vocabulary_list {vocab}, column_name: {key}")
    vocab_dtype = _d.string if isinstance(vocab[0], (str, bytes)) else _d.int64
    if dtype is None:
        dtype = vocab_dtype
    else:
        dtype = _check_categorical_dtype(dtype)
        if (dtype is _d.string) != (vocab_dtype is _d.string):
            raise ValueError(
                f"dtype {dtype} and vocabulary dtype {vocab_dtype} do not match, column_name: {key}"
            )
    _check_oov(key, default_value, num_oov_buckets)
    return VocabularyListCategoricalColumn(key, vocab, dtype, default_value, int(num_oov_buckets))


_VocabFileBase = collections.namedtuple(
    "VocabularyFileCategoricalColumn",
    ["key", "vocabulary_file", "vocabulary_size", "num_oov_buckets", "dtype", "default_value",
     "file_format"],
)  # fmt: skip


class VocabularyFileCategoricalColumn(_VarLenKeyedColumn, CategoricalColumn, _VocabFileBase):
    """Features looked up in a vocabulary file (one entry per line)."""

    __slots__ = ()

    @property
    def num_buckets(self):
        return self.vocabulary_size + self.num_oov_buckets


def _read_vocab_lines(path):
    from rill.io import gfile

    with gfile.GFile(path, "r") as f:
        return [line.rstrip("\n").rstrip("\r") for line in f]


@tf_export("feature_column.categorical_column_with_vocabulary_file")
def categorical_column_with_vocabulary_file(key, vocabulary_file, vocabulary_size=None,
                                            dtype=_d.string, default_value=None,
                                            num_oov_buckets=0, file_format=None):  # fmt: skip
    """Ids are line numbers of the values in ``vocabulary_file``."""
    return _vocab_file(key, vocabulary_file, vocabulary_size, num_oov_buckets, default_value,
                       dtype, file_format)  # fmt: skip


def _vocab_file(key, vocabulary_file, vocabulary_size, num_oov_buckets, default_value, dtype,
                file_format):  # fmt: skip
    _check_key(key)
    if not vocabulary_file:
        raise ValueError(f"Missing vocabulary_file in {key}.")
    if vocabulary_size is None:
        vocabulary_size = len(_read_vocab_lines(vocabulary_file))
    if vocabulary_size < 1:
        raise ValueError(f"Invalid vocabulary_size in {key}.")
    _check_oov(key, default_value, num_oov_buckets, unset=None)
    dtype = _check_categorical_dtype(dtype)
    return VocabularyFileCategoricalColumn(
        key, vocabulary_file, int(vocabulary_size), int(num_oov_buckets), dtype,
        -1 if default_value is None else default_value, file_format,
    )  # fmt: skip


_CrossedBase = collections.namedtuple("CrossedColumn", ["keys", "hash_bucket_size", "hash_key"])


class CrossedColumn(CategoricalColumn, _CrossedBase):
    """The hashed cross of raw features and categorical columns."""

    __slots__ = ()

    @property
    def name(self):
        return "_X_".join(sorted(k if isinstance(k, str) else k.name for k in self.keys))

    @property
    def num_buckets(self):
        return self.hash_bucket_size

    @property
    def parse_example_spec(self):
        spec = {}
        for k in self.keys:
            spec.update({k: VarLenFeature(_d.string)} if isinstance(k, str)
                        else k.parse_example_spec)  # fmt: skip
        return spec

    @property
    def parents(self):
        return list(self.keys)


@tf_export("feature_column.crossed_column")
def crossed_column(keys, hash_bucket_size, hash_key=None):
    """Cross raw string features and categorical columns, hashed into buckets."""
    if not hash_bucket_size or hash_bucket_size < 1:
        raise ValueError(f"hash_bucket_size must be > 1. hash_bucket_size: {hash_bucket_size}")
    if not keys or len(keys) < 2:
        raise ValueError(f"keys must be a list with length > 1. Given: {keys}")
    for k in keys:
        if not isinstance(k, (str, CategoricalColumn)):
            raise ValueError(f"Unsupported key type. All keys must be either string, or "
                             f"categorical column except HashedCategoricalColumn. Given: {k}")  # fmt: skip
        if isinstance(k, HashedCategoricalColumn):
            raise ValueError(
                "categorical_column_with_hash_bucket is not supported for crossing. Hashing "
                f"before crossing will increase probability of collision. Instead, use the "
                f"feature name as a string. Given: {k}"
            )
    return CrossedColumn(tuple(keys), int(hash_bucket_size), hash_key)


_WeightedBase = collections.namedtuple(
    "WeightedCategoricalColumn", ["categorical_column", "weight_feature_key", "dtype"]
)


class WeightedCategoricalColumn(CategoricalColumn, _WeightedBase):
    """A categorical column whose ids carry weights from ``features[weight_feature_key]``."""

    __slots__ = ()

    @property
    def name(self):
        return f"{self.categorical_column.name}_weighted_by_{self.weight_feature_key}"

    @property
    def num_buckets(self):
        return self.categorical_column.num_buckets

    @property
    def parse_example_spec(self):
        spec = dict(self.categorical_column.parse_example_spec)
        if self.weight_feature_key in spec:
            raise ValueError(f"Parse config {spec} already exists for {self.weight_feature_key}.")
        spec[self.weight_feature_key] = VarLenFeature(self.dtype)
        return spec

    @property
    def parents(self):
        return [self.categorical_column, self.weight_feature_key]


@tf_export("feature_column.weighted_categorical_column")
def weighted_categorical_column(categorical_column, weight_feature_key, dtype=_d.float32):
    """Pair each id of ``categorical_column`` with a float weight feature."""
    dtype = _d.as_dtype(dtype)
    if dtype is None or not (dtype.is_integer or dtype.is_floating):
        raise ValueError(f"dtype {dtype} is not convertible to float.")
    return WeightedCategoricalColumn(categorical_column, weight_feature_key, dtype)


# --------------------------------------------------------------------------------------
# dense views of categorical columns
# --------------------------------------------------------------------------------------

_IndicatorBase = collections.namedtuple("IndicatorColumn", ["categorical_column"])


class IndicatorColumn(_CategoricalView, DenseColumn, SequenceDenseColumn, _IndicatorBase):
    """Multi-hot (counts, or summed weights) of a categorical column's ids."""

    __slots__ = ()

    @property
    def name(self):
        return f"{self.categorical_column.name}_indicator"

    @property
    def variable_shape(self):
        return (1, self.categorical_column.num_buckets)


@tf_export("feature_column.indicator_column")
def indicator_column(categorical_column):
    """Represent a categorical column as multi-hot counts over its buckets."""
    if not isinstance(categorical_column, CategoricalColumn):
        raise ValueError(
            f"Unsupported input type. Input must be a CategoricalColumn. Given: "
            f"{categorical_column}"
        )
    return IndicatorColumn(categorical_column)


class _TruncatedNormal:
    """TF's default embedding initializer: truncated normal, stddev 1/sqrt(dimension)."""

    def __init__(self, mean=0.0, stddev=1.0):
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=_d.float32, partition_info=None):
        from rill import random

        return random.truncated_normal(shape, self.mean, self.stddev, dtype=dtype)

    def __repr__(self):
        return f"TruncatedNormal(mean={self.mean}, stddev={self.stddev})"


_EmbeddingBase = collections.namedtuple(
    "EmbeddingColumn",
    ["categorical_column", "dimension", "combiner", "initializer", "ckpt_to_load_from",
     "tensor_name_in_ckpt", "max_norm", "trainable", "use_safe_embedding_lookup"],
)  # fmt: skip


class EmbeddingColumn(_CategoricalView, DenseColumn, SequenceDenseColumn, _EmbeddingBase):
    """A trainable ``[num_buckets, dimension]`` table, looked up by a categorical column's
    ids and combined per example."""

    __slots__ = ()

    @property
    def name(self):
        return f"{self.categorical_column.name}_embedding"

    @property
    def variable_shape(self):
        return (self.dimension,)


def _check_embedding(dimension, combiner, initializer, ckpt_to_load_from, tensor_name_in_ckpt):
    if dimension is None or dimension < 1:
        raise ValueError(f"Invalid dimension {dimension}.")
    if (ckpt_to_load_from is None) != (tensor_name_in_ckpt is None):
        raise ValueError(
            "Must specify both `ckpt_to_load_from` and `tensor_name_in_ckpt` or none of them."
        )
    if initializer is not None and not callable(initializer):
        raise ValueError(f"initializer must be callable if specified. Embedding of column_name: "
                         f"{initializer}")  # fmt: skip
    if combiner not in ("mean", "sqrtn", "sum"):
        raise ValueError(f"combiner must be one of 'mean', 'sqrtn', 'sum'; got {combiner!r}")
    return initializer or _TruncatedNormal(0.0, 1.0 / math.sqrt(dimension))


@tf_export("feature_column.embedding_column")
def embedding_column(categorical_column, dimension, combiner="mean", initializer=None,
                     ckpt_to_load_from=None, tensor_name_in_ckpt=None, max_norm=None,
                     trainable=True, use_safe_embedding_lookup=True):  # fmt: skip
    """Embed a categorical column's ids in ``dimension`` dense values."""
    init = _check_embedding(dimension, combiner, initializer, ckpt_to_load_from,
                            tensor_name_in_ckpt)  # fmt: skip
    return EmbeddingColumn(categorical_column, int(dimension), combiner, init, ckpt_to_load_from,
                           tensor_name_in_ckpt, max_norm, trainable, use_safe_embedding_lookup)  # fmt: skip


class SharedEmbeddingColumnCreator:
    """Holds the one table several ``SharedEmbeddingColumn``s look up."""

    def __init__(self, dimension, initializer, ckpt_to_load_from, tensor_name_in_ckpt,
                 num_buckets, trainable, name="shared_embedding_column_creator"):  # fmt: skip
        self.dimension = dimension
        self.initializer = initializer
        self.ckpt_to_load_from = ckpt_to_load_from
        self.tensor_name_in_ckpt = tensor_name_in_ckpt
        self.num_buckets = num_buckets
        self.trainable = trainable
        self.name = name
        self.embedding_weights = None  # created on first use, then shared

    def get_embedding_weights(self):
        """The shared table (a Variable), created on first use."""
        if self.embedding_weights is None:
            from rill.core.variables import Variable

            init = self.initializer([self.num_buckets, self.dimension], _d.float32)
            self.embedding_weights = Variable(init, trainable=self.trainable,
                                              name=f"{self.name}/embedding_weights")  # fmt: skip
        return self.embedding_weights


_SharedBase = collections.namedtuple(
    "SharedEmbeddingColumn",
    ["categorical_column", "shared_embedding_column_creator", "combiner", "max_norm",
     "use_safe_embedding_lookup"],
)  # fmt: skip


class SharedEmbeddingColumn(_CategoricalView, DenseColumn, SequenceDenseColumn, _SharedBase):
    """An embedding column whose table is shared with the other columns of its creator."""

    __slots__ = ()

    @property
    def name(self):
        return f"{self.categorical_column.name}_shared_embedding"

    @property
    def dimension(self):
        return self.shared_embedding_column_creator.dimension

    @property
    def variable_shape(self):
        return (self.dimension,)


@tf_export("feature_column.shared_embeddings")
def shared_embeddings(categorical_columns, dimension, combiner="mean", initializer=None,
                      shared_embedding_collection_name=None, ckpt_to_load_from=None,
                      tensor_name_in_ckpt=None, max_norm=None, trainable=True,
                      use_safe_embedding_lookup=True):  # fmt: skip
    """Embedding columns for ``categorical_columns`` that look up one shared table.

    TF builds these only in graph mode; rill's eager columns share the table directly."""
    init = _check_embedding(dimension, combiner, initializer, ckpt_to_load_from,
                            tensor_name_in_ckpt)  # fmt: skip
    cols = list(categorical_columns)
    if not cols:
        raise ValueError("categorical_columns must not be empty.")
    num_buckets = cols[0].num_buckets
    for c in cols:
        if not isinstance(c, (IdentityCategoricalColumn, HashedCategoricalColumn,
                              VocabularyListCategoricalColumn, VocabularyFileCategoricalColumn,
                              WeightedCategoricalColumn, SequenceCategoricalColumn)):  # fmt: skip
            raise TypeError(
                f"categorical_column for shared_embeddings must be of type "
                f"IdentityCategoricalColumn, HashedCategoricalColumn, "
                f"VocabularyListCategoricalColumn, VocabularyFileCategoricalColumn, "
                f"WeightedCategoricalColumn or SequenceCategoricalColumn. Given type: {type(c)}"
            )
        if c.num_buckets != num_buckets:
            raise ValueError(
                f"To use shared_embedding_column, all categorical_columns must have the same "
                f"number of buckets. Given column: {cols[0]} with buckets: {num_buckets}, and "
                f"column: {c} with buckets: {c.num_buckets}"
            )
    name = (
        shared_embedding_collection_name
        or "_".join(sorted(c.name for c in cols)) + "_shared_embedding"
    )
    creator = SharedEmbeddingColumnCreator(dimension, init, ckpt_to_load_from,
                                           tensor_name_in_ckpt, num_buckets, trainable, name)  # fmt: skip
    return [SharedEmbeddingColumn(c, creator, combiner, max_norm, use_safe_embedding_lookup)
            for c in cols]  # fmt: skip


# --------------------------------------------------------------------------------------
# sequence columns
# --------------------------------------------------------------------------------------

_SeqNumBase = collections.namedtuple(
    "SequenceNumericColumn", ["key", "shape", "default_value", "dtype", "normalizer_fn"]
)


class SequenceNumericColumn(_VarLenKeyedColumn, SequenceDenseColumn, _SeqNumBase):
    """A sequence of real values of ``shape`` per step."""

    __slots__ = ()

    @property
    def variable_shape(self):
        return tuple(self.shape)


@tf_export("feature_column.sequence_numeric_column")
def sequence_numeric_column(key, shape=(1,), default_value=0.0, dtype=_d.float32,
                            normalizer_fn=None):  # fmt: skip
    """A column of real-valued sequences (each step of ``shape``)."""
    shape, dtype = _check_numeric(key, shape, dtype, normalizer_fn)
    return SequenceNumericColumn(key, shape, default_value, dtype, normalizer_fn)


_SeqCatBase = collections.namedtuple("SequenceCategoricalColumn", ["categorical_column"])


class SequenceCategoricalColumn(_CategoricalView, CategoricalColumn, _SeqCatBase):
    """A categorical column over sequences (ids per step)."""

    __slots__ = ()

    @property
    def name(self):
        return self.categorical_column.name

    @property
    def num_buckets(self):
        return self.categorical_column.num_buckets


@tf_export("feature_column.sequence_categorical_column_with_identity")
def sequence_categorical_column_with_identity(key, num_buckets, default_value=None):
    """A sequence of integer ids."""
    return SequenceCategoricalColumn(
        categorical_column_with_identity(key, num_buckets, default_value)
    )


@tf_export("feature_column.sequence_categorical_column_with_hash_bucket")
def sequence_categorical_column_with_hash_bucket(key, hash_bucket_size, dtype=_d.string):
    """A sequence of values hashed into buckets."""
    return SequenceCategoricalColumn(
        categorical_column_with_hash_bucket(key, hash_bucket_size, dtype)
    )


@tf_export("feature_column.sequence_categorical_column_with_vocabulary_list")
def sequence_categorical_column_with_vocabulary_list(key, vocabulary_list, dtype=None,
                                                     default_value=-1, num_oov_buckets=0):  # fmt: skip
    """A sequence of values looked up in an in-memory vocabulary."""
    return SequenceCategoricalColumn(categorical_column_with_vocabulary_list(
        key, vocabulary_list, dtype, default_value, num_oov_buckets))  # fmt: skip


@tf_export("feature_column.sequence_categorical_column_with_vocabulary_file")
def sequence_categorical_column_with_vocabulary_file(key, vocabulary_file, vocabulary_size=None,
                                                     num_oov_buckets=0, default_value=None,
                                                     dtype=_d.string):  # fmt: skip
    """A sequence of values looked up in a vocabulary file."""
    return SequenceCategoricalColumn(_vocab_file(key, vocabulary_file, vocabulary_size,
                                                 num_oov_buckets, default_value, dtype, None))  # fmt: skip


@tf_export("feature_column.make_parse_example_spec")
def make_parse_example_spec(feature_columns):
    """The ``tf.io.parse_example`` spec that reads every column's features."""
    out = {}
    for column in feature_columns:
        if not isinstance(column, FeatureColumn):
            raise ValueError(
                f"All feature_columns must be FeatureColumn instances. Given: {column}"
            )
        for key, value in column.parse_example_spec.items():
            if key in out and out[key] != value:
                raise ValueError(
                    f"feature_columns contain different parse_spec for key {key}. Given "
                    f"{value} and {out[key]}"
                )
        out.update(column.parse_example_spec)
    return out
