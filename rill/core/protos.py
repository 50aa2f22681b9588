"""TensorFlow's protocol buffer messages, built at first use from declarations.

rill reads and writes TensorFlow's files (TFRecords of ``Example``, serialized tensors,
TensorBoard event files, graphs), so it needs TensorFlow's messages with their exact
package, names and field numbers. They are declared here as plain data and turned into
message classes only when first needed, with the optional ``protobuf`` package
(``pip install rill[proto]``): ``import rill`` never imports it. The classes live in a
private descriptor pool, so they coexist with TensorFlow's own in one process.

A module that needs more messages declares them with ``declare(file_name, messages)``
(see ``message``, ``field`` and ``map_entry``); ``message_classes()`` builds whatever was
declared since its last call and returns the classes by name (``"Event"``,
``"Summary.Value"``). Enum fields are declared as ``int32`` (the same varint on the wire).

This module declares what lower layers need: tensors, graphs, summaries and events.
"""

from __future__ import annotations

import threading

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import UnimplementedError

__all__ = [
    "ProtobufMissingError", "message", "field", "map_entry", "declare", "message_classes",
    "built_classes", "make_tensor_proto", "DOUBLE", "FLOAT", "INT64", "UINT64", "INT32",
    "BOOL", "STRING", "MSG", "BYTES", "UINT32", "FIXED32",
]  # fmt: skip


class ProtobufMissingError(UnimplementedError, ImportError):
    """Raised when a feature that needs the ``protobuf`` package is used without it."""


# FieldDescriptorProto.Type values
DOUBLE, FLOAT, INT64, UINT64, INT32, BOOL = 1, 2, 3, 4, 5, 8
STRING, MSG, BYTES, UINT32 = 9, 11, 12, 13


def field(name, number, ftype, ref=None, *, repeated=False, oneof=None) -> tuple:
    """One field: ``ref`` names the message type of a ``MSG`` field (``"Summary.Value"``);
    ``oneof`` the oneof group it belongs to."""
    return (name, number, ftype, ref, repeated, oneof)


def message(name, *fields, nested=(), map_entry=False) -> tuple:
    """One message type with its fields and nested message types."""
    return (name, fields, tuple(nested), map_entry)


def map_entry(name, key_type, value_type, value_ref=None) -> tuple:
    """The nested entry type of a ``map<key, value>`` field (declare the field repeated)."""
    return message(
        name, field("key", 1, key_type), field("value", 2, value_type, value_ref), map_entry=True
    )


_rep = {"repeated": True}

# tensorflow/core/framework: tensor_shape.proto, tensor.proto, attr_value.proto,
# node_def.proto, versions.proto, graph.proto, function.proto, op_def.proto;
# protobuf/config.proto (RunMetadata);
# summary.proto; util/event.proto
_CORE = [
    message(
        "TensorShapeProto",
        field("dim", 2, MSG, "TensorShapeProto.Dim", **_rep),
        field("unknown_rank", 3, BOOL),
        nested=[message("Dim", field("size", 1, INT64), field("name", 2, STRING))],
    ),
    message(
        "TensorProto",  # dtype is TF's DataType enum
        field("dtype", 1, INT32),
        field("tensor_shape", 2, MSG, "TensorShapeProto"),
        field("version_number", 3, INT32),
        field("tensor_content", 4, BYTES),
        field("float_val", 5, FLOAT, **_rep),
        field("double_val", 6, DOUBLE, **_rep),
        field("int_val", 7, INT32, **_rep),
        field("string_val", 8, BYTES, **_rep),
        field("scomplex_val", 9, FLOAT, **_rep),
        field("int64_val", 10, INT64, **_rep),
        field("bool_val", 11, BOOL, **_rep),
        field("dcomplex_val", 12, DOUBLE, **_rep),
        field("half_val", 13, INT32, **_rep),
        field("uint32_val", 16, UINT32, **_rep),
        field("uint64_val", 17, UINT64, **_rep),
    ),
    message(
        "AttrValue",
        field("list", 1, MSG, "AttrValue.ListValue", oneof="value"),
        field("s", 2, BYTES, oneof="value"),
        field("i", 3, INT64, oneof="value"),
        field("f", 4, FLOAT, oneof="value"),
        field("b", 5, BOOL, oneof="value"),
        field("type", 6, INT32, oneof="value"),
        field("shape", 7, MSG, "TensorShapeProto", oneof="value"),
        field("tensor", 8, MSG, "TensorProto", oneof="value"),
        field("placeholder", 9, STRING, oneof="value"),
        field("func", 10, MSG, "NameAttrList", oneof="value"),
        nested=[
            message(
                "ListValue",
                field("s", 2, BYTES, **_rep),
                field("i", 3, INT64, **_rep),
                field("f", 4, FLOAT, **_rep),
                field("b", 5, BOOL, **_rep),
                field("type", 6, INT32, **_rep),
                field("shape", 7, MSG, "TensorShapeProto", **_rep),
                field("tensor", 8, MSG, "TensorProto", **_rep),
                field("func", 9, MSG, "NameAttrList", **_rep),
            )
        ],
    ),
    message(
        "NameAttrList",
        field("name", 1, STRING),
        field("attr", 2, MSG, "NameAttrList.AttrEntry", **_rep),
        nested=[map_entry("AttrEntry", STRING, MSG, "AttrValue")],
    ),
    message(
        "NodeDef",
        field("name", 1, STRING),
        field("op", 2, STRING),
        field("input", 3, STRING, **_rep),
        field("device", 4, STRING),
        field("attr", 5, MSG, "NodeDef.AttrEntry", **_rep),
        nested=[map_entry("AttrEntry", STRING, MSG, "AttrValue")],
    ),
    message(
        "VersionDef",
        field("producer", 1, INT32),
        field("min_consumer", 2, INT32),
        field("bad_consumers", 3, INT32, **_rep),
    ),
    # function.proto and op_def.proto: a GraphDef's function library
    message(
        "OpDef",
        field("name", 1, STRING),
        field("input_arg", 2, MSG, "OpDef.ArgDef", **_rep),
        field("output_arg", 3, MSG, "OpDef.ArgDef", **_rep),
        field("attr", 4, MSG, "OpDef.AttrDef", **_rep),
        field("summary", 5, STRING),
        field("description", 6, STRING),
        field("is_aggregate", 16, BOOL),
        field("is_stateful", 17, BOOL),
        field("is_commutative", 18, BOOL),
        field("allows_uninitialized_input", 19, BOOL),
        field("control_output", 20, STRING, **_rep),
        nested=[
            message(
                "ArgDef",
                field("name", 1, STRING),
                field("description", 2, STRING),
                field("type", 3, INT32),
                field("type_attr", 4, STRING),
                field("number_attr", 5, STRING),
                field("type_list_attr", 6, STRING),
                field("handle_data", 7, MSG, "OpDef.ArgDef.DtypeAndShape", **_rep),
                field("is_ref", 16, BOOL),
                nested=[
                    # ResourceHandleProto.DtypeAndShape, wire-identical
                    message(
                        "DtypeAndShape",
                        field("dtype", 1, INT32),
                        field("shape", 2, MSG, "TensorShapeProto"),
                    )
                ],
            ),
            message(
                "AttrDef",
                field("name", 1, STRING),
                field("type", 2, STRING),
                field("default_value", 3, MSG, "AttrValue"),
                field("description", 4, STRING),
                field("has_minimum", 5, BOOL),
                field("minimum", 6, INT64),
                field("allowed_values", 7, MSG, "AttrValue"),
            ),
        ],
    ),
    message("OpList", field("op", 1, MSG, "OpDef", **_rep)),
    message(
        "FunctionDef",
        field("signature", 1, MSG, "OpDef"),
        field("node_def", 3, MSG, "NodeDef", **_rep),
        field("ret", 4, MSG, "FunctionDef.RetEntry", **_rep),
        field("attr", 5, MSG, "FunctionDef.AttrEntry", **_rep),
        field("control_ret", 6, MSG, "FunctionDef.ControlRetEntry", **_rep),
        field("arg_attr", 7, MSG, "FunctionDef.ArgAttrEntry", **_rep),
        field("resource_arg_unique_id", 8, MSG, "FunctionDef.ResourceArgUniqueIdEntry", **_rep),
        nested=[
            map_entry("RetEntry", STRING, STRING),
            map_entry("AttrEntry", STRING, MSG, "AttrValue"),
            map_entry("ControlRetEntry", STRING, STRING),
            message(
                "ArgAttrs",
                field("attr", 1, MSG, "FunctionDef.ArgAttrs.AttrEntry", **_rep),
                nested=[map_entry("AttrEntry", STRING, MSG, "AttrValue")],
            ),
            map_entry("ArgAttrEntry", UINT32, MSG, "FunctionDef.ArgAttrs"),
            map_entry("ResourceArgUniqueIdEntry", UINT32, UINT32),
        ],
    ),
    message("GradientDef", field("function_name", 1, STRING), field("gradient_func", 2, STRING)),
    message(
        "FunctionDefLibrary",
        field("function", 1, MSG, "FunctionDef", **_rep),
        field("gradient", 2, MSG, "GradientDef", **_rep),
    ),
    message(
        "GraphDef",
        field("node", 1, MSG, "NodeDef", **_rep),
        field("library", 2, MSG, "FunctionDefLibrary"),
        field("version", 3, INT32),
        field("versions", 4, MSG, "VersionDef"),
    ),
    message(
        "RunMetadata",
        field("partition_graphs", 3, MSG, "GraphDef", **_rep),
        field("function_graphs", 4, MSG, "RunMetadata.FunctionGraphs", **_rep),
        nested=[
            message(
                "FunctionGraphs",
                field("partition_graphs", 1, MSG, "GraphDef", **_rep),
                field("pre_optimization_graph", 2, MSG, "GraphDef"),
                field("post_optimization_graph", 3, MSG, "GraphDef"),
            )
        ],
    ),
    message(
        "HistogramProto",
        field("min", 1, DOUBLE),
        field("max", 2, DOUBLE),
        field("num", 3, DOUBLE),
        field("sum", 4, DOUBLE),
        field("sum_squares", 5, DOUBLE),
        field("bucket_limit", 6, DOUBLE, **_rep),
        field("bucket", 7, DOUBLE, **_rep),
    ),
    message(
        "SummaryMetadata",  # data_class is TF's DataClass enum
        field("plugin_data", 1, MSG, "SummaryMetadata.PluginData"),
        field("display_name", 2, STRING),
        field("summary_description", 3, STRING),
        field("data_class", 4, INT32),
        nested=[message("PluginData", field("plugin_name", 1, STRING), field("content", 2, BYTES))],
    ),
    message(
        "Summary",
        field("value", 1, MSG, "Summary.Value", **_rep),
        nested=[
            message(
                "Image",
                field("height", 1, INT32),
                field("width", 2, INT32),
                field("colorspace", 3, INT32),
                field("encoded_image_string", 4, BYTES),
            ),
            message(
                "Audio",
                field("sample_rate", 1, FLOAT),
                field("num_channels", 2, INT64),
                field("length_frames", 3, INT64),
                field("encoded_audio_string", 4, BYTES),
                field("content_type", 5, STRING),
            ),
            message(
                "Value",
                field("tag", 1, STRING),
                field("simple_value", 2, FLOAT, oneof="value"),
                field("obsolete_old_style_histogram", 3, BYTES, oneof="value"),
                field("image", 4, MSG, "Summary.Image", oneof="value"),
                field("histo", 5, MSG, "HistogramProto", oneof="value"),
                field("audio", 6, MSG, "Summary.Audio", oneof="value"),
                field("node_name", 7, STRING),
                field("tensor", 8, MSG, "TensorProto", oneof="value"),
                field("metadata", 9, MSG, "SummaryMetadata"),
            ),
        ],
    ),
    message("SourceMetadata", field("writer", 1, STRING)),
    message("LogMessage", field("level", 1, INT32), field("message", 2, STRING)),
    message(
        "SessionLog",
        field("status", 1, INT32),
        field("checkpoint_path", 2, STRING),
        field("msg", 3, STRING),
    ),
    message("TaggedRunMetadata", field("tag", 1, STRING), field("run_metadata", 2, BYTES)),
    message(
        "Event",
        field("wall_time", 1, DOUBLE),
        field("step", 2, INT64),
        field("file_version", 3, STRING, oneof="what"),
        field("graph_def", 4, BYTES, oneof="what"),
        field("summary", 5, MSG, "Summary", oneof="what"),
        field("log_message", 6, MSG, "LogMessage", oneof="what"),
        field("session_log", 7, MSG, "SessionLog", oneof="what"),
        field("tagged_run_metadata", 8, MSG, "TaggedRunMetadata", oneof="what"),
        field("meta_graph_def", 9, BYTES, oneof="what"),
        field("source_metadata", 10, MSG, "SourceMetadata"),
    ),
]

_FILES: list = [("rill/tensorflow_core.proto", _CORE)]  # declared, in order
_built = 0  # how many of _FILES are in the pool
_CLASSES: dict = {}
_POOL = None
_LOCK = threading.Lock()


def declare(file_name: str, messages) -> None:
    """Declare more of TensorFlow's messages (package ``tensorflow``); they may refer to
    every message declared before them. Built at the next ``message_classes()``."""
    with _LOCK:
        if any(name == file_name for name, _ in _FILES):
            return
        _FILES.append((file_name, list(messages)))


def _import_protobuf():
    try:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    except ImportError:
        raise ProtobufMissingError(
            "TensorFlow's file formats (tf.train.Example, tf.io.serialize_tensor, "
            "TensorBoard event files, GraphDefs) need the 'protobuf' package: "
            "pip install 'rill[proto]' (or pip install protobuf)"
        ) from None
    return descriptor_pb2, descriptor_pool, message_factory


def _add_message(container, decl):
    name, fields, nested, is_map = decl
    m = container.add(name=name)
    if is_map:
        m.options.map_entry = True
    oneofs: list = []
    for fname, number, ftype, ref, repeated, oneof in fields:
        f = m.field.add(name=fname, number=number, type=ftype, label=3 if repeated else 1)
        if ref:
            f.type_name = ".tensorflow." + ref
        if oneof is not None:
            if oneof not in oneofs:
                oneofs.append(oneof)
                m.oneof_decl.add(name=oneof)
            f.oneof_index = oneofs.index(oneof)
    for n in nested:
        _add_message(m.nested_type, n)


def _names(decl, prefix=""):
    """Full names of a message and its nested messages (map entries have no class)."""
    name = prefix + decl[0]
    if not decl[3]:
        yield name
    for n in decl[2]:
        yield from _names(n, name + ".")


def message_classes() -> dict:
    """Message name -> protobuf class, for every declared message (needs ``protobuf``)."""
    global _built, _POOL
    if _built == len(_FILES):
        return _CLASSES
    descriptor_pb2, descriptor_pool, message_factory = _import_protobuf()
    with _LOCK:
        if _POOL is None:
            _POOL = descriptor_pool.DescriptorPool()
        get = getattr(message_factory, "GetMessageClass", None)
        if get is None:  # protobuf < 4.22
            get = message_factory.MessageFactory(_POOL).GetPrototype
        while _built < len(_FILES):
            file_name, decls = _FILES[_built]
            fdp = descriptor_pb2.FileDescriptorProto(
                name=file_name, package="tensorflow", syntax="proto3"
            )
            fdp.dependency.extend(name for name, _ in _FILES[:_built])
            for decl in decls:
                _add_message(fdp.message_type, decl)
            _POOL.AddSerializedFile(fdp.SerializeToString())
            classes = {}
            for decl in decls:
                for name in _names(decl):
                    classes[name] = get(_POOL.FindMessageTypeByName("tensorflow." + name))
            _CLASSES.update(classes)
            _built += 1
    return _CLASSES


def built_classes() -> dict:
    """The classes built so far (empty until ``message_classes()`` first runs): for
    ``isinstance`` checks that must not import protobuf."""
    return _CLASSES


# --------------------------------------------------------------------------------------
# Arrays as TensorProtos
# --------------------------------------------------------------------------------------


def make_tensor_proto(x: np.ndarray, dtype=None, compact: bool = False, proto=None):
    """A ``TensorProto`` holding ``x`` (``dtype``: its rill DType, by default from the
    array). Numbers go in ``tensor_content`` (little-endian bytes), as TensorFlow's C++
    writes them; ``compact`` puts a single value in its typed field instead (``float_val:
    1``), as TensorFlow's Python ``make_tensor_proto`` does for graph constants. Strings
    go in ``string_val``. Fills ``proto`` (an empty ``TensorProto``) if given."""
    if proto is None:
        proto = message_classes()["TensorProto"]()
    x = np.asarray(x)
    dt = (
        dtype if dtype is not None else (_d.string if x.dtype == object else _d.from_numpy(x.dtype))
    )
    proto.dtype = dt.as_datatype_enum
    proto.tensor_shape.SetInParent()
    for n in x.shape:
        proto.tensor_shape.dim.add(size=n)
    if dt is _d.string:
        proto.string_val.extend(
            v if isinstance(v, bytes) else str(v).encode() for v in x.reshape(-1).tolist()
        )
    elif compact and x.size == 1 and dt.name in _TYPED_FIELDS:
        name, conv = _TYPED_FIELDS[dt.name]
        getattr(proto, name).append(conv(x.reshape(-1)[0]))
    elif x.size:
        proto.tensor_content = np.ascontiguousarray(x).astype(x.dtype.newbyteorder("<")).tobytes()
    return proto


_TYPED_FIELDS = {
    "float32": ("float_val", float), "float64": ("double_val", float),
    "int32": ("int_val", int), "int16": ("int_val", int), "int8": ("int_val", int),
    "uint8": ("int_val", int), "uint16": ("int_val", int), "int64": ("int64_val", int),
    "bool": ("bool_val", bool), "uint32": ("uint32_val", int), "uint64": ("uint64_val", int),
}  # fmt: skip


_VAL_FIELDS = {
    "float32": "float_val", "float64": "double_val", "int32": "int_val", "int16": "int_val",
    "int8": "int_val", "uint8": "int_val", "uint16": "int_val", "int64": "int64_val",
    "bool": "bool_val", "string": "string_val", "complex64": "scomplex_val",
    "complex128": "dcomplex_val", "float16": "half_val", "bfloat16": "half_val",
    "uint32": "uint32_val", "uint64": "uint64_val",
}  # fmt: skip


def array_from_tensor_proto(proto) -> np.ndarray:
    """The array a ``TensorProto`` holds: its ``tensor_content`` bytes, or its typed
    values with the last one repeated to fill the shape (zeros when there is none), as
    TensorFlow reads them. Raises ValueError for a malformed proto."""
    dt = _d.as_dtype(proto.dtype)
    if proto.tensor_shape.unknown_rank:
        raise ValueError("the TensorProto has an unknown rank")
    shape = tuple(d.size for d in proto.tensor_shape.dim)
    n = int(np.prod(shape, dtype=np.int64))
    npd = dt.np
    if proto.tensor_content:
        content = proto.tensor_content
        if len(content) != n * npd.itemsize:
            raise ValueError(
                f"tensor_content has {len(content)} bytes but shape {list(shape)} of "
                f"{dt.name} needs {n * npd.itemsize}"
            )
        return np.frombuffer(content, npd.newbyteorder("<")).astype(npd).reshape(shape)
    vals = list(getattr(proto, _VAL_FIELDS[dt.name]))
    if dt.name in ("complex64", "complex128"):
        vals = [complex(a, b) for a, b in zip(vals[::2], vals[1::2])]
    if len(vals) > n:
        raise ValueError(f"{len(vals)} values for a tensor of shape {list(shape)}")
    if dt is _d.string:
        out = np.empty(n, object)
        out[:] = vals + [vals[-1] if vals else b""] * (n - len(vals))
        return out.reshape(shape)
    if dt.name in ("float16", "bfloat16"):
        arr = np.array(vals, np.uint16).view(npd)
    else:
        arr = np.array(vals, npd)
    if len(arr) < n:
        last = arr[-1] if len(arr) else np.zeros((), npd)
        arr = np.concatenate([arr, np.full(n - len(arr), last, npd)])
    return arr.reshape(shape)


# --------------------------------------------------------------------------------------
# Checkpoints: tensorflow/core/protobuf/tensor_bundle.proto, framework/tensor_slice.proto,
# protobuf/trackable_object_graph.proto
# --------------------------------------------------------------------------------------

FIXED32 = 7  # FieldDescriptorProto.Type of BundleEntryProto.crc32c

# ``has_checkpoint_values`` is a ``google.protobuf.BoolValue`` in TensorFlow; a nested
# message with the same single field is identical on the wire and keeps this file free of
# a dependency on protobuf's well-known types.
_CHECKPOINT = [
    message(
        "TensorSliceProto",
        field("extent", 1, MSG, "TensorSliceProto.Extent", **_rep),
        nested=[
            message(
                "Extent",
                field("start", 1, INT64),
                field("length", 2, INT64, oneof="has_length"),
            )
        ],
    ),
    message(
        "BundleHeaderProto",  # endianness: 0 little, 1 big
        field("num_shards", 1, INT32),
        field("endianness", 2, INT32),
        field("version", 3, MSG, "VersionDef"),
    ),
    message(
        "BundleEntryProto",  # dtype is TF's DataType enum; crc32c is masked
        field("dtype", 1, INT32),
        field("shape", 2, MSG, "TensorShapeProto"),
        field("shard_id", 3, INT32),
        field("offset", 4, INT64),
        field("size", 5, INT64),
        field("crc32c", 6, FIXED32),
        field("slices", 7, MSG, "TensorSliceProto", **_rep),
    ),
    message("RegisteredSaver", field("name", 1, STRING), field("object_name", 2, STRING)),
    message(
        "TrackableObjectGraph",
        field("nodes", 1, MSG, "TrackableObjectGraph.TrackableObject", **_rep),
        nested=[
            message(
                "TrackableObject",
                field(
                    "children", 1, MSG, "TrackableObjectGraph.TrackableObject.ObjectReference",
                    **_rep,
                ),
                field(
                    "attributes", 2, MSG,
                    "TrackableObjectGraph.TrackableObject.SerializedTensor", **_rep,
                ),
                field(
                    "slot_variables", 3, MSG,
                    "TrackableObjectGraph.TrackableObject.SlotVariableReference", **_rep,
                ),
                field("registered_saver", 4, MSG, "RegisteredSaver"),
                field(
                    "has_checkpoint_values", 5, MSG,
                    "TrackableObjectGraph.TrackableObject.BoolValue",
                ),
                nested=[
                    message(
                        "ObjectReference",
                        field("node_id", 1, INT32),
                        field("local_name", 2, STRING),
                    ),
                    message(
                        "SerializedTensor",
                        field("name", 1, STRING),
                        field("full_name", 2, STRING),
                        field("checkpoint_key", 3, STRING),
                    ),
                    message(
                        "SlotVariableReference",
                        field("original_variable_node_id", 1, INT32),
                        field("slot_name", 2, STRING),
                        field("slot_variable_node_id", 3, INT32),
                    ),
                    message("BoolValue", field("value", 1, BOOL)),
                ],
            )
        ],
    ),
]  # fmt: skip

declare("rill/tensorflow_checkpoint.proto", _CHECKPOINT)
