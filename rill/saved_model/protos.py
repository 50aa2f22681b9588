"""TensorFlow's SavedModel messages, declared for ``rill.core.protos``.

saved_model.proto, meta_graph.proto, saved_object_graph.proto, struct.proto and
fingerprint.proto, with TensorFlow's package, names and field numbers, so rill's files
are TensorFlow's files. Enums are declared as ``int32`` (the same varint on the wire).
The graph messages (GraphDef with its function library, FunctionDef, OpDef) are
``rill.core.protos``'.
"""

from __future__ import annotations

from rill.core.protos import (
    BOOL,
    DOUBLE,
    INT32,
    INT64,
    MSG,
    STRING,
    UINT64,
    declare,
    field,
    map_entry,
    message,
    message_classes,
)

__all__ = ["classes"]

SINT64 = 18  # FieldDescriptorProto.TYPE_SINT64 (StructuredValue.int64_value)
_rep = {"repeated": True}
_OBJ_REF = "TrackableObjectGraph.TrackableObject.ObjectReference"


_STRUCT = [
    message("NoneValue"),
    message(
        "TensorSpecProto",
        field("name", 1, STRING),
        field("shape", 2, MSG, "TensorShapeProto"),
        field("dtype", 3, INT32),
    ),
    message(
        "StructuredValue",
        field("none_value", 1, MSG, "NoneValue", oneof="kind"),
        field("float64_value", 11, DOUBLE, oneof="kind"),
        field("int64_value", 12, SINT64, oneof="kind"),
        field("string_value", 13, STRING, oneof="kind"),
        field("bool_value", 14, BOOL, oneof="kind"),
        field("tensor_shape_value", 31, MSG, "TensorShapeProto", oneof="kind"),
        field("tensor_dtype_value", 32, INT32, oneof="kind"),
        field("tensor_spec_value", 33, MSG, "TensorSpecProto", oneof="kind"),
        field("type_spec_value", 34, MSG, "TypeSpecProto", oneof="kind"),
        field("list_value", 51, MSG, "ListValue", oneof="kind"),
        field("tuple_value", 52, MSG, "TupleValue", oneof="kind"),
        field("dict_value", 53, MSG, "DictValue", oneof="kind"),
        field("named_tuple_value", 54, MSG, "NamedTupleValue", oneof="kind"),
        field("tensor_value", 55, MSG, "TensorProto", oneof="kind"),
        field("numpy_value", 56, MSG, "TensorProto", oneof="kind"),
    ),
    message(
        "TypeSpecProto",
        field("type_spec_class", 1, INT32),
        field("type_state", 2, MSG, "StructuredValue"),
        field("type_spec_class_name", 3, STRING),
        field("num_flat_components", 4, INT32),
    ),
    message("ListValue", field("values", 1, MSG, "StructuredValue", **_rep)),
    message("TupleValue", field("values", 1, MSG, "StructuredValue", **_rep)),
    message(
        "DictValue",
        field("fields", 1, MSG, "DictValue.FieldsEntry", **_rep),
        nested=[map_entry("FieldsEntry", STRING, MSG, "StructuredValue")],
    ),
    message("PairValue", field("key", 1, STRING), field("value", 2, MSG, "StructuredValue")),
    message(
        "NamedTupleValue",
        field("name", 1, STRING),
        field("values", 2, MSG, "PairValue", **_rep),
    ),
]

_SAVED = [
    message(
        "FunctionSpec",
        field("fullargspec", 1, MSG, "StructuredValue"),
        field("is_method", 2, BOOL),
        field("input_signature", 5, MSG, "StructuredValue"),
        field("jit_compile", 6, INT32),
    ),
    message(
        "SavedUserObject",
        field("identifier", 1, STRING),
        field("version", 2, MSG, "VersionDef"),
        field("metadata", 3, STRING),
    ),
    message("SavedAsset", field("asset_file_def_index", 1, INT32)),
    message(
        "SavedFunction",
        field("concrete_functions", 1, STRING, **_rep),
        field("function_spec", 2, MSG, "FunctionSpec"),
    ),
    message(
        "SavedBareConcreteFunction",
        field("concrete_function_name", 1, STRING),
        field("argument_keywords", 2, STRING, **_rep),
        field("allowed_positional_arguments", 3, INT64),
        field("function_spec", 4, MSG, "FunctionSpec"),
    ),
    message("SavedConstant", field("operation", 1, STRING)),
    message(
        "SavedVariable",
        field("dtype", 1, INT32),
        field("shape", 2, MSG, "TensorShapeProto"),
        field("trainable", 3, BOOL),
        field("synchronization", 4, INT32),
        field("aggregation", 5, INT32),
        field("name", 6, STRING),
        field("device", 7, STRING),
    ),
    message("SavedResource", field("device", 1, STRING)),
    message("CapturedTensor", field("name", 1, STRING), field("concrete_function", 2, STRING)),
    message(
        "SavedObject",
        field("children", 1, MSG, _OBJ_REF, **_rep),
        field("slot_variables", 3, MSG,
              "TrackableObjectGraph.TrackableObject.SlotVariableReference", **_rep),
        field("user_object", 4, MSG, "SavedUserObject", oneof="kind"),
        field("asset", 5, MSG, "SavedAsset", oneof="kind"),
        field("function", 6, MSG, "SavedFunction", oneof="kind"),
        field("variable", 7, MSG, "SavedVariable", oneof="kind"),
        field("bare_concrete_function", 8, MSG, "SavedBareConcreteFunction", oneof="kind"),
        field("constant", 9, MSG, "SavedConstant", oneof="kind"),
        field("resource", 10, MSG, "SavedResource", oneof="kind"),
        field("captured_tensor", 12, MSG, "CapturedTensor", oneof="kind"),
        field("registered_name", 13, STRING),
        field("dependencies", 15, MSG, _OBJ_REF, **_rep),
        field("registered_saver", 16, STRING),
    ),
    message(
        "SavedConcreteFunction",
        field("bound_inputs", 2, INT32, **_rep),
        field("canonicalized_input_signature", 3, MSG, "StructuredValue"),
        field("output_signature", 4, MSG, "StructuredValue"),
    ),
    message(
        "SavedObjectGraph",
        field("nodes", 1, MSG, "SavedObject", **_rep),
        field("concrete_functions", 2, MSG, "SavedObjectGraph.ConcreteFunctionsEntry", **_rep),
        nested=[map_entry("ConcreteFunctionsEntry", STRING, MSG, "SavedConcreteFunction")],
    ),
    message(
        "TensorInfo",
        field("name", 1, STRING, oneof="encoding"),
        field("dtype", 2, INT32),
        field("tensor_shape", 3, MSG, "TensorShapeProto"),
    ),
    message(
        "SignatureDef",
        field("inputs", 1, MSG, "SignatureDef.InputsEntry", **_rep),
        field("outputs", 2, MSG, "SignatureDef.OutputsEntry", **_rep),
        field("method_name", 3, STRING),
        nested=[
            map_entry("InputsEntry", STRING, MSG, "TensorInfo"),
            map_entry("OutputsEntry", STRING, MSG, "TensorInfo"),
        ],
    ),
    message("AssetFileDef", field("tensor_info", 1, MSG, "TensorInfo"),
            field("filename", 2, STRING)),
    message(
        "SaverDef",
        field("filename_tensor_name", 1, STRING),
        field("save_tensor_name", 2, STRING),
        field("restore_op_name", 3, STRING),
        field("max_to_keep", 4, INT32),
        field("sharded", 5, BOOL),
        field("keep_checkpoint_every_n_hours", 6, DOUBLE),
        field("version", 7, INT32),
    ),
    message(
        "MetaGraphDef",
        field("meta_info_def", 1, MSG, "MetaGraphDef.MetaInfoDef"),
        field("graph_def", 2, MSG, "GraphDef"),
        field("saver_def", 3, MSG, "SaverDef"),
        field("signature_def", 5, MSG, "MetaGraphDef.SignatureDefEntry", **_rep),
        field("asset_file_def", 6, MSG, "AssetFileDef", **_rep),
        field("object_graph_def", 7, MSG, "SavedObjectGraph"),
        nested=[
            message(
                "MetaInfoDef",
                field("meta_graph_version", 1, STRING),
                field("stripped_op_list", 2, MSG, "OpList"),
                field("tags", 4, STRING, **_rep),
                field("tensorflow_version", 5, STRING),
                field("tensorflow_git_version", 6, STRING),
                field("stripped_default_attrs", 7, BOOL),
                field("function_aliases", 8, MSG,
                      "MetaGraphDef.MetaInfoDef.FunctionAliasesEntry", **_rep),
                nested=[map_entry("FunctionAliasesEntry", STRING, STRING)],
            ),
            map_entry("SignatureDefEntry", STRING, MSG, "SignatureDef"),
        ],
    ),
    message(
        "SavedModel",
        field("saved_model_schema_version", 1, INT64),
        field("meta_graphs", 2, MSG, "MetaGraphDef", **_rep),
    ),
    message(
        "FingerprintDef",
        field("saved_model_checksum", 1, UINT64),
        field("graph_def_program_hash", 2, UINT64),
        field("signature_def_hash", 3, UINT64),
        field("saved_object_graph_hash", 4, UINT64),
        field("checkpoint_hash", 5, UINT64),
        field("version", 6, MSG, "VersionDef"),
        field("uuid", 7, STRING),
    ),
]  # fmt: skip


def classes() -> dict:
    """Every message class by name, the SavedModel ones included (needs ``protobuf``)."""
    import rill.train.tensor_bundle  # noqa: F401 - declares the checkpoint messages first

    declare("rill/tensorflow_struct.proto", _STRUCT)
    declare("rill/tensorflow_saved_model.proto", _SAVED)
    return message_classes()
