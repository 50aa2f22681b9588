"""``tf.io.decode_proto`` / ``tf.io.encode_proto``: fields of arbitrary protocol buffer
messages to tensors and back, by the message's descriptor.

``descriptor_source`` is ``"local://"`` (the messages rill declares for TensorFlow's
formats, then protobuf's default pool: whatever generated modules the program imported)
or the path of a file holding a serialized ``FileDescriptorSet`` (``protoc
--descriptor_set_out --include_imports``). Needs the ``protobuf`` package
(``pip install "rill[proto]"``).
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import InvalidArgumentError, NotFoundError
from rill.ops._op import convert_to_tensor, op_error, static_value, tf_export

__all__ = ["decode_proto", "encode_proto"]

_POOLS: dict = {}  # descriptor file path -> DescriptorPool


def _protobuf():
    try:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
    except ImportError:
        raise ImportError(
            'tf.io.decode_proto / encode_proto need the protobuf package: pip install "rill[proto]"'
        ) from None
    return descriptor_pb2, descriptor_pool, message_factory, text_format


def _message_class(op, message_type, descriptor_source):
    """The message class of ``message_type`` (a full name) from ``descriptor_source``."""
    descriptor_pb2, descriptor_pool, message_factory, _ = _protobuf()
    pools = []
    if descriptor_source == "local://":
        from rill.core import protos

        protos.message_classes()  # builds rill's pool of TensorFlow's messages
        if protos._POOL is not None:
            pools.append(protos._POOL)
        pools.append(descriptor_pool.Default())
    else:
        pool = _POOLS.get(descriptor_source)
        if pool is None:
            try:
                with open(descriptor_source, "rb") as f:
                    raw = f.read()
            except OSError as e:
                raise op_error(
                    NotFoundError,
                    op,
                    f"descriptor_source {descriptor_source!r} could not be read ({e}); pass "
                    "'local://' or a file holding a serialized FileDescriptorSet",
                ) from None
            fds = descriptor_pb2.FileDescriptorSet()
            fds.ParseFromString(raw)
            pool = descriptor_pool.DescriptorPool()
            for fd in fds.file:
                pool.Add(fd)
            _POOLS[descriptor_source] = pool
        pools.append(pool)
    for pool in pools:
        try:
            desc = pool.FindMessageTypeByName(message_type)
        except KeyError:
            continue
        get = getattr(message_factory, "GetMessageClass", None)
        if get is None:  # protobuf < 4.21
            return message_factory.MessageFactory(pool).GetPrototype(desc)
        return get(desc)
    raise op_error(
        InvalidArgumentError,
        op,
        f"No descriptor found for message type {message_type} in {descriptor_source!r}",
    )


def _field_dtypes(fd):
    """The dtypes a field may decode to (the first is its natural one)."""
    t = fd.type
    T = fd  # FieldDescriptor.TYPE_* constants live on the descriptor class
    table = {
        T.TYPE_DOUBLE: (_d.float64, _d.float32),
        T.TYPE_FLOAT: (_d.float32, _d.float64),
        T.TYPE_INT64: (_d.int64,),
        T.TYPE_SINT64: (_d.int64,),
        T.TYPE_SFIXED64: (_d.int64,),
        T.TYPE_UINT64: (_d.uint64, _d.int64),
        T.TYPE_FIXED64: (_d.uint64, _d.int64),
        T.TYPE_INT32: (_d.int32, _d.int64),
        T.TYPE_SINT32: (_d.int32, _d.int64),
        T.TYPE_SFIXED32: (_d.int32, _d.int64),
        T.TYPE_ENUM: (_d.int32, _d.int64),
        T.TYPE_UINT32: (_d.uint32, _d.int64),
        T.TYPE_FIXED32: (_d.uint32, _d.int64),
        T.TYPE_BOOL: (_d.bool,),
        T.TYPE_STRING: (_d.string,),
        T.TYPE_BYTES: (_d.string,),
        T.TYPE_MESSAGE: (_d.string,),
        T.TYPE_GROUP: (_d.string,),
    }
    return table[t]


def _fields(op, cls, field_names):
    fds = []
    for name in field_names:
        fd = cls.DESCRIPTOR.fields_by_name.get(name)
        if fd is None:
            raise op_error(
                InvalidArgumentError,
                op,
                f"Unknown field: {name} in message type {cls.DESCRIPTOR.full_name}",
            )
        fds.append(fd)
    return fds


def _is_repeated(fd) -> bool:
    rep = getattr(fd, "is_repeated", None)  # protobuf >= 6 drops `label`
    return bool(rep) if rep is not None else fd.label == fd.LABEL_REPEATED


def _leaf_value(fd, v):
    if fd.type in (fd.TYPE_MESSAGE, fd.TYPE_GROUP):
        return v.SerializeToString()
    if fd.type == fd.TYPE_STRING:
        return v.encode("utf-8")
    return v


def _default(fd, dtype):
    if dtype is _d.string:
        if fd.type in (fd.TYPE_MESSAGE, fd.TYPE_GROUP):
            return b""
        d = fd.default_value
        return d.encode("utf-8") if isinstance(d, str) else (d or b"")
    return fd.default_value if not _is_repeated(fd) else 0


@tf_export("io.decode_proto")
def decode_proto(
    bytes,  # noqa: A002 - TF's parameter name
    message_type,
    field_names,
    output_types,
    descriptor_source="local://",
    message_format="binary",
    sanitize=False,
    name=None,
):
    """Parse serialized messages into ``(sizes, values)``: ``sizes[..., i]`` counts field
    ``i``'s values in each message, ``values[i]`` holds them, padded with the field's
    default to the largest count in the batch (messages as a string tensor)."""
    op = "DecodeProtoV2"
    _, _, _, text_format = _protobuf()
    if message_format not in ("binary", "text"):
        raise op_error(
            InvalidArgumentError, op, f"message_format must be 'binary' or 'text', got "
            f"{message_format!r}",
        )  # fmt: skip
    field_names = list(field_names)
    output_types = [_d.as_dtype(t) for t in output_types]
    if len(field_names) != len(output_types):
        raise op_error(
            InvalidArgumentError,
            op,
            f"field_names has {len(field_names)} entries but output_types has "
            f"{len(output_types)}; give one output type per field",
        )
    cls = _message_class(op, message_type, descriptor_source)
    fds = _fields(op, cls, field_names)
    for fd, dt in zip(fds, output_types):
        ok = _field_dtypes(fd)
        if dt not in ok:
            raise op_error(
                InvalidArgumentError,
                op,
                f"Unexpected output type for {fd.full_name}: {dt.name}; a field of this type "
                f"decodes to {' or '.join(t.name for t in ok)}",
            )
    data = static_value(convert_to_tensor(bytes, dtype=_d.string))
    data = np.asarray(data, dtype=object)
    batch = data.shape
    flat = data.reshape(-1)
    per_field = [[] for _ in fds]
    for raw in flat:
        msg = cls()
        try:
            if message_format == "binary":
                msg.ParseFromString(raw)
            else:
                text_format.Parse(raw.decode("utf-8"), msg)
        except Exception as e:  # noqa: BLE001 - protobuf's parse errors vary by backend
            raise op_error(
                InvalidArgumentError,
                op,
                f"Unable to parse {message_format} {message_type} message: {e}",
            ) from None
        for i, fd in enumerate(fds):
            if _is_repeated(fd):
                vals = [_leaf_value(fd, v) for v in getattr(msg, fd.name)]
            elif msg.HasField(fd.name) if _has_presence(fd) else _nondefault(msg, fd):
                vals = [_leaf_value(fd, getattr(msg, fd.name))]
            else:
                vals = []
            per_field[i].append(vals)
    sizes = np.array(
        [[len(per_field[i][b]) for i in range(len(fds))] for b in range(flat.size)], np.int32
    ).reshape(batch + (len(fds),))
    values = []
    for i, (fd, dt) in enumerate(zip(fds, output_types)):
        width = max((len(v) for v in per_field[i]), default=0)
        fill = _default(fd, dt)
        np_dt = object if dt is _d.string else dt.as_numpy_dtype
        arr = np.empty((flat.size, width), dtype=np_dt)
        arr[...] = fill
        for b, vals in enumerate(per_field[i]):
            if vals:
                arr[b, : len(vals)] = vals
        values.append(convert_to_tensor(arr.reshape(batch + (width,)), dtype=dt))
    return convert_to_tensor(sizes, _d.int32), values


def _has_presence(fd) -> bool:
    return getattr(fd, "has_presence", fd.type in (fd.TYPE_MESSAGE, fd.TYPE_GROUP))


def _nondefault(msg, fd) -> bool:
    # proto3 scalars without presence count as set when they differ from the default
    return getattr(msg, fd.name) != fd.default_value


@tf_export("io.encode_proto")
def encode_proto(sizes, values, field_names, message_type, descriptor_source="local://", name=None):
    """Serialize messages whose field ``i`` takes the first ``sizes[..., i]`` entries of
    ``values[i][...]`` (the inverse of ``decode_proto``)."""
    op = "EncodeProto"
    _protobuf()
    field_names = list(field_names)
    values = [convert_to_tensor(v) for v in values]
    if len(values) != len(field_names):
        raise op_error(
            InvalidArgumentError,
            op,
            f"Length of inputs list must match field_names: {len(values)} values for "
            f"{len(field_names)} field names",
        )
    cls = _message_class(op, message_type, descriptor_source)
    fds = _fields(op, cls, field_names)
    sz = np.asarray(static_value(convert_to_tensor(sizes, dtype=_d.int32)))
    if sz.ndim < 1 or sz.shape[-1] != len(fds):
        raise op_error(
            InvalidArgumentError,
            op,
            f"sizes must have shape batch_shape + [{len(fds)}], got {list(sz.shape)}",
        )
    batch = sz.shape[:-1]
    arrays = []
    for fd, v in zip(fds, values):
        ok = _field_dtypes(fd)
        if v.dtype not in ok:
            raise op_error(
                InvalidArgumentError,
                op,
                f"Incompatible type for field {fd.name}: {v.dtype.name}; expected "
                f"{' or '.join(t.name for t in ok)}",
            )
        a = np.asarray(v.numpy())
        if a.shape[:-1] != batch:
            raise op_error(
                InvalidArgumentError,
                op,
                f"values for field {fd.name} have shape {list(a.shape)}; expected "
                f"{list(batch)} + [max size]",
            )
        arrays.append(a.reshape((-1, a.shape[-1])))
    sz2 = sz.reshape(-1, len(fds))
    out = np.empty(sz2.shape[0], dtype=object)
    for b in range(sz2.shape[0]):
        msg = cls()
        for i, fd in enumerate(fds):
            n = int(sz2[b, i])
            if n > arrays[i].shape[1]:
                raise op_error(
                    InvalidArgumentError,
                    op,
                    f"Size {n} of field {fd.name} is larger than its values' last dimension "
                    f"{arrays[i].shape[1]}",
                )
            if n > 1 and not _is_repeated(fd):
                raise op_error(
                    InvalidArgumentError,
                    op,
                    f"Field {fd.name} is not repeated: its size must be 0 or 1, got {n}",
                )
            items = [_python_value(fd, x) for x in arrays[i][b, :n]]
            if _is_repeated(fd):
                target = getattr(msg, fd.name)
                if fd.type in (fd.TYPE_MESSAGE, fd.TYPE_GROUP):
                    for x in items:
                        target.add().ParseFromString(x)
                else:
                    target.extend(items)
            elif items:
                if fd.type in (fd.TYPE_MESSAGE, fd.TYPE_GROUP):
                    getattr(msg, fd.name).ParseFromString(items[0])
                else:
                    setattr(msg, fd.name, items[0])
        out[b] = msg.SerializeToString()
    return convert_to_tensor(out.reshape(batch), dtype=_d.string)


def _python_value(fd, x):
    if fd.type == fd.TYPE_STRING:
        return x.decode("utf-8") if isinstance(x, (bytes, np.bytes_)) else str(x)
    if fd.type in (fd.TYPE_BYTES, fd.TYPE_MESSAGE, fd.TYPE_GROUP):
        return x if isinstance(x, bytes) else bytes(x)
    if fd.type == fd.TYPE_BOOL:
        return bool(x)
    if fd.type in (fd.TYPE_FLOAT, fd.TYPE_DOUBLE):
        return float(x)
    return int(x)
