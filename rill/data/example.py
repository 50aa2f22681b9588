"""``tf.train.Example`` and friends, ``tf.io.parse_example`` / ``parse_single_example`` and
``tf.io.serialize_tensor`` / ``parse_tensor``.

The protocol buffer classes (``Example``, ``Features``, ``Feature``, ``BytesList``,
``FloatList``, ``Int64List``, ``SequenceExample``, ``FeatureList``, ``FeatureLists`` and
the ``TensorProto`` behind ``serialize_tensor``) are built at first use from descriptors
declared here with TensorFlow's package, message names and field numbers, so their bytes
are TensorFlow's. They need the ``protobuf`` package (``pip install rill[proto]``), which
is imported only when one of them is first used; ``import rill`` never needs it. The
classes live in a private descriptor pool, so they coexist with TensorFlow's own in one
process.

Parsing is a primitive (``ParseExampleV2``) so it runs inside traced functions such as a
``Dataset.map``; its shape rule gives the static shapes TensorFlow gives.
"""

from __future__ import annotations

import collections

import numpy as np

from rill.core import dtypes as _d
from rill.core import protos as _protos
from rill.core.errors import InvalidArgumentError, UnimplementedError, op_error
from rill.core.protos import ProtobufMissingError  # noqa: F401 - raised by message_classes()
from rill.ops._op import AVal, TensorShape, bind, convert_to_tensor, primitive, tf_export

__all__ = [
    "Example", "Features", "Feature", "BytesList", "FloatList", "Int64List",
    "SequenceExample", "FeatureList", "FeatureLists", "FixedLenFeature", "VarLenFeature",
    "RaggedFeature", "FixedLenSequenceFeature", "SparseFeature", "parse_example", "parse_single_example",
    "serialize_tensor", "parse_tensor", "message_classes",
]  # fmt: skip


# --------------------------------------------------------------------------------------
# Message classes, built from descriptors at first use (rill.core.protos)
# --------------------------------------------------------------------------------------

_S, _M, _F, _I = _protos.STRING, _protos.MSG, _protos.FLOAT, _protos.INT64
_field, _message, _map_entry = _protos.field, _protos.message, _protos.map_entry

# tensorflow/core/example/feature.proto and example.proto (TensorProto is core's)
_protos.declare(
    "rill/tensorflow_example.proto",
    [
        _message("BytesList", _field("value", 1, _protos.BYTES, repeated=True)),
        _message("FloatList", _field("value", 1, _F, repeated=True)),
        _message("Int64List", _field("value", 1, _I, repeated=True)),
        _message(
            "Feature",
            _field("bytes_list", 1, _M, "BytesList", oneof="kind"),
            _field("float_list", 2, _M, "FloatList", oneof="kind"),
            _field("int64_list", 3, _M, "Int64List", oneof="kind"),
        ),
        _message(
            "Features",
            _field("feature", 1, _M, "Features.FeatureEntry", repeated=True),
            nested=[_map_entry("FeatureEntry", _S, _M, "Feature")],
        ),
        _message("FeatureList", _field("feature", 1, _M, "Feature", repeated=True)),
        _message(
            "FeatureLists",
            _field("feature_list", 1, _M, "FeatureLists.FeatureListEntry", repeated=True),
            nested=[_map_entry("FeatureListEntry", _S, _M, "FeatureList")],
        ),
        _message("Example", _field("features", 1, _M, "Features")),
        _message(
            "SequenceExample",
            _field("context", 1, _M, "Features"),
            _field("feature_lists", 2, _M, "FeatureLists"),
        ),
    ],
)


def message_classes() -> dict:
    """name -> protobuf message class (built once; needs ``protobuf``)."""
    return _protos.message_classes()


class _LazyMessage:
    """Stands for a protobuf message class until first use (so protobuf is imported only
    then): calling it, its attributes (``FromString``...) and ``isinstance`` go to the
    real class."""

    def __init__(self, name):
        self._name = name
        self.__doc__ = f"TensorFlow's ``tensorflow.{name}`` protocol buffer message."

    @property
    def _cls(self):
        return message_classes()[self._name]

    def __call__(self, *args, **kwargs):
        return self._cls(*args, **kwargs)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(self._cls, attr)

    def __instancecheck__(self, obj):
        cls = _protos.built_classes().get(self._name)
        return cls is not None and isinstance(obj, cls)

    def __eq__(self, other):
        return other is self or other is _protos.built_classes().get(self._name)

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f"<class 'tensorflow.{self._name}' (rill)>"


Example = tf_export("train.Example")(_LazyMessage("Example"))
Features = tf_export("train.Features")(_LazyMessage("Features"))
Feature = tf_export("train.Feature")(_LazyMessage("Feature"))
BytesList = tf_export("train.BytesList")(_LazyMessage("BytesList"))
FloatList = tf_export("train.FloatList")(_LazyMessage("FloatList"))
Int64List = tf_export("train.Int64List")(_LazyMessage("Int64List"))
SequenceExample = tf_export("train.SequenceExample")(_LazyMessage("SequenceExample"))
FeatureList = tf_export("train.FeatureList")(_LazyMessage("FeatureList"))
FeatureLists = tf_export("train.FeatureLists")(_LazyMessage("FeatureLists"))


# --------------------------------------------------------------------------------------
# Feature configurations
# --------------------------------------------------------------------------------------


@tf_export("io.FixedLenFeature")
class FixedLenFeature(
    collections.namedtuple("FixedLenFeature", ["shape", "dtype", "default_value"])
):
    """A feature with a fixed number of values per example, parsed to a dense tensor of
    ``shape``; ``default_value`` is used where an example lacks it."""

    def __new__(cls, shape, dtype, default_value=None):
        return super().__new__(cls, shape, dtype, default_value)


@tf_export("io.VarLenFeature")
class VarLenFeature(collections.namedtuple("VarLenFeature", ["dtype"])):
    """A feature with any number of values per example, parsed to a ``SparseTensor``."""


@tf_export("io.FixedLenSequenceFeature")
class FixedLenSequenceFeature(
    collections.namedtuple(
        "FixedLenSequenceFeature", ["shape", "dtype", "allow_missing", "default_value"]
    )
):
    """A feature whose values are a sequence of items of ``shape``, parsed to a dense
    tensor padded (with ``default_value``) to the longest sequence of the batch."""

    def __new__(cls, shape, dtype, allow_missing=False, default_value=None):
        return super().__new__(cls, shape, dtype, allow_missing, default_value)


_RaggedBase = collections.namedtuple(
    "RaggedFeature", ["dtype", "value_key", "partitions", "row_splits_dtype", "validate"]
)


@tf_export("io.RaggedFeature")
class RaggedFeature(_RaggedBase):
    """A feature with any number of values per example, parsed to a ``RaggedTensor``
    (``value_key`` names the feature to read, by default the output's key). Nested
    ``partitions`` are not supported yet."""

    RowSplits = collections.namedtuple("RowSplits", ["key"])
    RowLengths = collections.namedtuple("RowLengths", ["key"])
    RowStarts = collections.namedtuple("RowStarts", ["key"])
    RowLimits = collections.namedtuple("RowLimits", ["key"])
    ValueRowIds = collections.namedtuple("ValueRowIds", ["key"])
    UniformRowLength = collections.namedtuple("UniformRowLength", ["length"])

    def __new__(
        cls, dtype, value_key=None, partitions=(), row_splits_dtype=_d.int32, validate=False
    ):
        return super().__new__(cls, dtype, value_key, tuple(partitions), row_splits_dtype, validate)


@tf_export("io.SparseFeature")
class SparseFeature(
    collections.namedtuple(
        "SparseFeature", ["index_key", "value_key", "dtype", "size", "already_sorted"]
    )
):
    """A ``SparseTensor`` assembled from index feature(s) and a value feature of the same
    length: ``index_key`` (a name, or a list of names for a multi-dimensional tensor)
    holds int64 coordinates in ``[0, size)``, ``value_key`` the values."""

    def __new__(cls, index_key, value_key, dtype, size, already_sorted=False):
        return super().__new__(cls, index_key, value_key, dtype, size, already_sorted)


def _expand_sparse_features(features):
    """``features`` with each SparseFeature replaced by VarLenFeatures of its index and
    value keys (as TF parses them), and the SparseFeatures to assemble afterwards."""
    if not isinstance(features, dict):
        return features, {}
    sparse = {k: f for k, f in features.items() if isinstance(f, SparseFeature)}
    if not sparse:
        return features, {}
    plain = {k: f for k, f in features.items() if not isinstance(f, SparseFeature)}
    for key, f in sparse.items():
        index_keys = [f.index_key] if isinstance(f.index_key, str) else list(f.index_key)
        sizes = [f.size] if isinstance(f.size, int) else list(f.size)
        if not index_keys or len(sizes) != len(index_keys):
            raise ValueError(
                f"SparseFeature {key!r}: index_key {f.index_key!r} and size {f.size!r} must "
                f"have the same length"
            )
        for ik in index_keys:
            _claim(plain, ik, VarLenFeature(_d.int64), key)
        _claim(plain, f.value_key, VarLenFeature(f.dtype), key)
    return plain, sparse


def _claim(plain, key, feature, owner):
    have = plain.get(key)
    if have is not None and have != feature:
        raise ValueError(
            f"SparseFeature {owner!r} reads {key!r} as {feature}, but features also asks "
            f"for it as {have}"
        )
    plain[key] = feature


def _assemble_sparse(result, sparse, requested, single):
    """Build each SparseFeature's SparseTensor from its parsed index and value parts."""
    from rill.ops.array_ops import cast, stack
    from rill.structures import sparse_ops
    from rill.structures.sparse_tensor import SparseTensor

    for key, f in sparse.items():
        index_keys = [f.index_key] if isinstance(f.index_key, str) else list(f.index_key)
        sizes = [f.size] if isinstance(f.size, int) else list(f.size)
        values = result[f.value_key]
        parts = [result[k] for k in index_keys]
        n_vals = values.values.shape[0]
        for k, part in zip(index_keys, parts):
            n_idx = part.values.shape[0]
            if n_vals is not None and n_idx is not None and n_idx != n_vals:
                raise _err(
                    f"SparseFeature {key!r}: index feature {k!r} has {n_idx} "
                    f"values but value feature {f.value_key!r} has {n_vals}; each value "
                    f"needs one index per dimension"
                )
        if single:
            cols = [cast(p.values, _d.int64) for p in parts]
            shape = convert_to_tensor([int(n) for n in sizes], _d.int64)
            vals = values.values
        else:
            cols = [values.indices[:, 0]] + [p.values for p in parts]
            shape = stack([values.dense_shape[0]] + [convert_to_tensor(n, _d.int64) for n in sizes])
            vals = values.values
        st = SparseTensor(stack(cols, axis=1), vals, shape)
        result[key] = st if f.already_sorted else sparse_ops.reorder(st)
    for k in list(result):
        if k not in requested:
            del result[k]
    return result


_KINDS = {_d.int64: "int64_list", _d.float32: "float_list", _d.string: "bytes_list"}
_TF_NAME = {"int64_list": "int64", "float_list": "float", "bytes_list": "string"}


def _feature_dtype(key, dtype):
    d = _d.as_dtype(dtype)
    if d not in _KINDS:
        raise ValueError(
            f"Feature {key!r}: unsupported dtype {d.name}; Example features hold int64, "
            f"float32 or string values (cast after parsing)"
        )
    return d


def _default_array(key, default, dtype, shape):
    if default is None:
        return None
    d = (
        convert_to_tensor(default, dtype=dtype)._value
        if not isinstance(default, np.ndarray)
        else default
    )
    a = np.asarray(d, dtype=dtype.np)
    size = int(np.prod(shape, dtype=np.int64))
    if a.size == size:
        return tuple(a.reshape(-1).tolist())
    if a.size == 1:
        return tuple(a.reshape(-1).tolist()) * size
    raise ValueError(
        f"Feature {key!r}: default_value has {a.size} values but shape {list(shape)} needs {size}"
    )


def _config(features: dict, single: bool) -> tuple:
    """Validate ``features`` and turn them into the parse primitive's static params:
    a tuple of (kind, output key, feature key, dtype, shape, default, extra) sorted by
    output key."""
    if not isinstance(features, dict):
        raise TypeError(
            f"features must be a dict of feature configs, got {type(features).__name__}"
        )
    out = []
    for key in sorted(features):
        f = features[key]
        if not isinstance(key, str):
            raise TypeError(f"feature keys must be strings, got {key!r}")
        if isinstance(f, FixedLenFeature):
            dt = _feature_dtype(key, f.dtype)
            shape = TensorShape(f.shape)
            if not shape.is_fully_defined():
                raise ValueError(
                    f"Feature {key!r}: FixedLenFeature needs a fully defined shape, got "
                    f"{shape}; use FixedLenSequenceFeature for a variable first dimension"
                )
            shape = tuple(shape.as_list())
            out.append(
                (
                    "fixed",
                    key,
                    key,
                    dt,
                    shape,
                    _default_array(key, f.default_value, dt, shape),
                    None,
                )
            )
        elif isinstance(f, FixedLenSequenceFeature):
            dt = _feature_dtype(key, f.dtype)
            shape = TensorShape(f.shape)
            if not shape.is_fully_defined():
                raise ValueError(
                    f"Feature {key!r}: FixedLenSequenceFeature needs a fully defined shape, got {shape}"
                )
            shape = tuple(shape.as_list())
            pad = _default_array(key, f.default_value, dt, ())
            out.append(("seq", key, key, dt, shape, pad, bool(f.allow_missing)))
        elif isinstance(f, VarLenFeature):
            out.append(("var", key, key, _feature_dtype(key, f.dtype), (), None, None))
        elif isinstance(f, RaggedFeature):
            if f.partitions:
                raise UnimplementedError(
                    f"Feature {key!r}: RaggedFeature partitions are not supported yet; parse "
                    f"the values and row lengths separately and build the RaggedTensor with "
                    f"tf.RaggedTensor.from_row_lengths"
                )
            splits = _d.as_dtype(f.row_splits_dtype)
            if splits not in (_d.int32, _d.int64):
                raise ValueError(
                    f"Feature {key!r}: row_splits_dtype must be int32 or int64, got {splits.name}"
                )
            out.append(
                ("ragged", key, f.value_key or key, _feature_dtype(key, f.dtype), (), None, splits)
            )
        else:
            raise ValueError(
                f"Feature {key!r}: unsupported feature config {f!r}; expected FixedLenFeature, "
                f"VarLenFeature, RaggedFeature or FixedLenSequenceFeature"
            )
    return tuple(out)


# --------------------------------------------------------------------------------------
# The parse primitive
# --------------------------------------------------------------------------------------

_OP = "ParseExampleV2"


def _err(msg):
    return op_error(InvalidArgumentError, _OP, msg)


def _where(single, b):
    return "" if single else f"Name: <unknown>, Index: {b}, "


def _fetch(fmap, key, kind, dtype, single, b):
    """The values of feature ``key`` as a list-like, or None if absent/empty-kind."""
    if key not in fmap:
        return None
    f = fmap[key]
    have = f.WhichOneof("kind")
    if have is None:
        return None
    if have != kind:
        raise _err(
            f"{_where(single, b)}Key: {key}.  Data types don't match. Data type: "
            f"{_TF_NAME[have]} but expected type: {_TF_NAME[kind]}"
        )
    return getattr(f, kind).value


def _as_array(values, dtype):
    if dtype is _d.string:
        a = np.empty(len(values), object)
        a[:] = list(values)
        return a
    return np.array(values, dtype=dtype.np)


def _parse_kernel(serialized, *, config, single):
    classes = message_classes()
    from google.protobuf.message import DecodeError

    Example = classes["Example"]
    if serialized.ndim > 1:
        raise _err(
            f"Expected serialized to be a scalar or vector, got shape: {list(serialized.shape)}"
        )
    flat = serialized.reshape(-1)
    nb = len(flat)
    cols = [[None] * nb for _ in config]
    for b, s in enumerate(flat.tolist()):
        try:
            ex = Example.FromString(s)
        except (DecodeError, TypeError) as e:
            raise _err(
                f"{_where(single, b)}Could not parse example input, value: {s[:80]!r} ({e})"
            ) from None
        fmap = ex.features.feature
        for i, (_, _, key, dt, _, _, _) in enumerate(config):
            cols[i][b] = _fetch(fmap, key, _KINDS[dt], dt, single, b)
    outs = []
    for (kind, _, key, dt, shape, default, extra), vals in zip(config, cols):
        if kind == "fixed":
            outs.append(_fixed(key, dt, shape, default, vals, single))
        elif kind == "seq":
            outs.append(_seq(key, dt, shape, default, extra, vals, single))
        else:
            arrays = [_as_array(v, dt) if v is not None else _as_array((), dt) for v in vals]
            lens = np.array([len(a) for a in arrays], np.int64)
            values = np.concatenate(arrays) if arrays else _as_array((), dt)
            if kind == "var":
                pos = np.arange(len(values), dtype=np.int64) - np.repeat(
                    np.cumsum(lens) - lens, lens
                )
                width = int(lens.max()) if nb else 0
                if single:
                    outs += [pos[:, None], values, np.array([width], np.int64)]
                else:
                    rows = np.repeat(np.arange(nb, dtype=np.int64), lens)
                    outs += [np.stack([rows, pos], 1), values, np.array([nb, width], np.int64)]
            else:
                outs.append(values)
                if not single:
                    splits = np.concatenate([[0], np.cumsum(lens)]).astype(extra.np)
                    outs.append(splits)
    return tuple(outs)


def _fixed(key, dt, shape, default, vals, single):
    size = int(np.prod(shape, dtype=np.int64))
    out = np.empty((len(vals), *shape), dt.np)
    for b, v in enumerate(vals):
        if v is None:
            if default is None:
                raise _err(
                    f"{_where(single, b)}Feature: {key} (data type: {_TF_NAME[_KINDS[dt]]}) is "
                    f"required but could not be found."
                )
            v = default
        if len(v) != size:
            raise _err(
                f"{_where(single, b)}Key: {key}.  Number of {_TF_NAME[_KINDS[dt]]} values != "
                f"expected.  Values size: {len(v)} but output shape: {list(shape)}"
            )
        out[b] = _as_array(v, dt).reshape(shape)
    return out[0] if single else out


def _seq(key, dt, shape, pad, allow_missing, vals, single):
    size = int(np.prod(shape, dtype=np.int64))
    arrays = []
    for b, v in enumerate(vals):
        if v is None:
            if not allow_missing:
                raise _err(
                    f"{_where(single, b)}Feature: {key} (data type: {_TF_NAME[_KINDS[dt]]}) is "
                    f"required but could not be found (set allow_missing=True to allow it)."
                )
            v = ()
        if size == 0 or len(v) % size:
            if size == 0 and len(v) == 0:
                arrays.append(np.zeros((0, *shape), dt.np))
                continue
            raise _err(
                f"{_where(single, b)}Key: {key}.  Number of {_TF_NAME[_KINDS[dt]]} values is not "
                f"a multiple of {size} (the size of shape {list(shape)}): {len(v)}"
            )
        arrays.append(_as_array(v, dt).reshape((-1, *shape)))
    longest = max((len(a) for a in arrays), default=0)
    fill = pad[0] if pad is not None else (b"" if dt is _d.string else 0)
    out = np.full((len(arrays), longest, *shape), fill, dt.np)
    for b, a in enumerate(arrays):
        out[b, : len(a)] = a
    return out[0] if single else out


def _parse_rule(serialized, *, config, single):
    if serialized.rank is not None and serialized.rank > 1:
        raise _err(f"Expected serialized to be a scalar or vector, got shape: {serialized.shape}")
    if serialized.dtype is not _d.string:
        raise _err(f"serialized must be a string tensor, got {serialized.dtype.name}")
    nb = [] if single else [serialized.shape[0] if serialized.rank else None]
    outs = []
    for kind, _, _, dt, shape, _, extra in config:
        if kind == "fixed":
            outs.append(AVal(nb + list(shape), dt))
        elif kind == "seq":
            outs.append(AVal(nb + [None] + list(shape), dt))
        elif kind == "var":
            r = len(nb) + 1
            outs += [AVal([None, r], _d.int64), AVal([None], dt), AVal([r], _d.int64)]
        else:
            outs.append(AVal([None], dt))
            if not single:
                outs.append(AVal([None if nb[0] is None else nb[0] + 1], extra))
    return tuple(outs)


parse_example_p = primitive(_OP, _parse_kernel, _parse_rule, n_out=-1, host=True)


def _assemble(config, outs, single):
    result = {}
    it = iter(outs)
    for kind, key, _, _, _, _, _ in config:
        if kind in ("fixed", "seq"):
            result[key] = next(it)
        elif kind == "var":
            from rill.structures.sparse_tensor import SparseTensor

            result[key] = SparseTensor(next(it), next(it), next(it))
        elif single:
            result[key] = next(it)
        else:
            from rill.structures.ragged_tensor import RaggedTensor

            values = next(it)
            result[key] = RaggedTensor.from_row_splits(values, next(it), validate=False)
    return result


def _parse(serialized, features, single):
    s = convert_to_tensor(serialized, dtype=_d.string)
    requested = features
    features, sparse = _expand_sparse_features(features)
    config = _config(features, single)
    if not config:
        return {}
    outs = bind(parse_example_p, (s,), {"config": config, "single": single})
    result = _assemble(config, outs if isinstance(outs, tuple) else (outs,), single)
    return _assemble_sparse(result, sparse, requested, single) if sparse else result


@tf_export("io.parse_example")
def parse_example(serialized, features: dict, example_names=None, name=None) -> dict:
    """Parse a batch (vector) of serialized ``Example`` protos into a dict of tensors:
    ``FixedLenFeature`` -> dense ``[batch] + shape``, ``VarLenFeature`` -> ``SparseTensor``,
    ``RaggedFeature`` -> ``RaggedTensor``, ``FixedLenSequenceFeature`` -> dense
    ``[batch, longest] + shape`` padded with its default value."""
    s = convert_to_tensor(serialized, dtype=_d.string)
    return _parse(s, features, single=s.shape.rank == 0)


@tf_export("io.parse_single_example")
def parse_single_example(serialized, features: dict, example_names=None, name=None) -> dict:
    """Parse one serialized ``Example`` (a scalar string) into a dict of tensors (like
    ``parse_example`` without the batch dimension; ragged features give dense vectors)."""
    s = convert_to_tensor(serialized, dtype=_d.string)
    if s.shape.rank is not None and s.shape.rank != 0:
        raise ValueError(
            f"parse_single_example: serialized must be a scalar string, got shape {s.shape}; "
            f"use tf.io.parse_example for a batch"
        )
    return _parse(s, features, single=True)


# --------------------------------------------------------------------------------------
# serialize_tensor / parse_tensor: TensorFlow's TensorProto bytes
# --------------------------------------------------------------------------------------

# dtype -> (TensorProto field holding typed values, NumPy dtype of those values)


def _serialize_kernel(x):
    proto = _protos.make_tensor_proto(x)
    return np.array(proto.SerializeToString(), dtype=object)


def _parse_tensor_kernel(serialized, *, out_type):
    classes = message_classes()
    from google.protobuf.message import DecodeError

    data = serialized.item() if isinstance(serialized, np.ndarray) else serialized
    try:
        proto = classes["TensorProto"].FromString(data)
    except (DecodeError, TypeError):
        raise op_error(
            InvalidArgumentError,
            "ParseTensor",
            f"Could not parse `serialized` as TensorProto: {data[:80]!r}",
        ) from None
    try:
        dt = _d.as_dtype(proto.dtype)
    except (TypeError, ValueError, KeyError):
        dt = None
    if dt is not out_type:
        got = dt.name if dt is not None else f"DataType enum {proto.dtype}"
        raise op_error(
            InvalidArgumentError,
            "ParseTensor",
            f"Type mismatch between parsed tensor ({got}) and dtype ({out_type.name})",
        )
    try:
        return _protos.array_from_tensor_proto(proto)
    except ValueError as e:
        raise op_error(InvalidArgumentError, "ParseTensor", str(e)) from None


serialize_tensor_p = primitive(
    "SerializeTensor", _serialize_kernel, lambda x: AVal([], _d.string), host=True
)
parse_tensor_p = primitive(
    "ParseTensor",
    _parse_tensor_kernel,
    lambda s, *, out_type: AVal(TensorShape(None), out_type),
    host=True,
)


@tf_export("io.serialize_tensor")
def serialize_tensor(tensor, name=None):
    """A scalar string: ``tensor`` as TensorFlow's serialized ``TensorProto``."""
    return bind(serialize_tensor_p, (convert_to_tensor(tensor),))


@tf_export("io.parse_tensor")
def parse_tensor(serialized, out_type, name=None):
    """The tensor in a serialized ``TensorProto`` (from ``serialize_tensor``); its dtype
    must be ``out_type``."""
    s = convert_to_tensor(serialized, dtype=_d.string)
    if s.shape.rank is not None and s.shape.rank != 0:
        raise op_error(
            InvalidArgumentError,
            "ParseTensor",
            f"serialized must be a scalar string, got shape {s.shape}",
        )
    return bind(parse_tensor_p, (s,), {"out_type": _d.as_dtype(out_type)})
