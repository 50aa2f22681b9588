"""The MetaGraphDef's saver: the graph TF1-style loaders run to restore the variables.

TF Serving, ``saved_model_cli run`` and ``tf.compat.v1.saved_model.load`` do not read the
object graph: they feed the checkpoint prefix (``variables/variables``) to
``SaverDef.filename_tensor_name`` and run ``SaverDef.restore_op_name``. As TF 2.x writes
it, both ends are calls of library functions on the variables' handles: a restore
function (``RestoreV2`` of every checkpoint key, each assigned to its variable) and a save
function (``SaveV2`` into a temporary shard, merged into the prefix by
``MergeV2Checkpoints``).
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d

__all__ = ["add_saver"]

_CPU = "/device:CPU:0"
_OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"


def _on_cpu(fn) -> None:
    # the checkpoint kernels exist for the CPU only: pin them as TF does
    fn.fdef.node_def[-1].device = _CPU


def _names_consts(fn, base, keys):
    names = fn.const(np.array(keys, dtype=object), _d.string, f"{base}/tensor_names")
    _on_cpu(fn)
    slices = fn.const(
        np.array([""] * len(keys), dtype=object), _d.string, f"{base}/shape_and_slices"
    )
    _on_cpu(fn)
    return names, slices


def _finish(fn, out_ref, control) -> None:
    """Return ``out_ref`` (the prefix) once ``control`` nodes ran; they are control outputs."""
    sig = fn.fdef.signature
    name = fn.unique("Identity")
    nd = fn.fdef.node_def.add(name=name, op="Identity")
    nd.input.extend([out_ref] + [f"^{c}" for c in control])
    nd.attr["T"].type = _d.string.as_datatype_enum
    nd.device = _CPU
    sig.output_arg.add(name="identity", type=_d.string.as_datatype_enum)
    fn.fdef.ret["identity"] = f"{name}:output:0"
    for c in control:
        sig.control_output.append(c)
        fn.fdef.control_ret[c] = c
    sig.is_stateful = True
    fn.lib.fdefs[sig.name] = fn.fdef


def _restore_function(lib, variables, keys) -> str:
    from rill.saved_model.exporter import _Fn

    fn = _Fn(lib, lib.fresh_name("_traced_restore"))
    prefix = fn.arg("file_prefix", _d.string)
    handles = [fn.resource(v) for v in variables]
    names, slices = _names_consts(fn, "RestoreV2", keys + [_OBJECT_GRAPH_KEY])
    dtypes = [v.dtype for v in variables] + [_d.string]
    values = fn.node("RestoreV2", "RestoreV2", [prefix, names, slices], {"dtypes": dtypes})
    _on_cpu(fn)
    assigns = []
    for h, v, value in zip(handles, variables, values):
        fn.node("AssignVariableOp", "AssignVariableOp", [h, value], {"dtype": v.dtype})
        _on_cpu(fn)
        assigns.append(fn.fdef.node_def[-1].name)
    _finish(fn, prefix, assigns)
    return fn.fdef.signature.name


def _save_function(lib, variables, keys) -> str:
    from rill.saved_model.exporter import _Fn

    fn = _Fn(lib, lib.fresh_name("_traced_save"))
    prefix = fn.arg("file_prefix", _d.string)
    handles = [fn.resource(v) for v in variables]
    object_graph = fn.arg("savev2_const", _d.string)
    # the shard goes to a temporary prefix ("<prefix>_temp/part", or "<prefix>.part" on
    # S3, where renames are copies) and is merged into the prefix after
    is_s3 = fn.node("StaticRegexFullMatch", "StaticRegexFullMatch", [prefix],
                    {"pattern": "^s3://.*"})[0]  # fmt: skip
    dot_part = fn.const(np.array(".part", dtype=object), _d.string, "Const")
    temp_part = fn.const(np.array("_temp/part", dtype=object), _d.string, "Const")
    suffix = fn.node("Select", "Select", [is_s3, dot_part, temp_part], {"T": _d.string})[0]
    temp = fn.node("StringJoin", "StringJoin", [prefix, suffix], {"N": 2})[0]
    shard = fn.const(np.int32(0), _d.int32, "ShardedFilename/shard")
    n_shards = fn.const(np.int32(1), _d.int32, "num_shards")
    shard_file = fn.node("ShardedFilename", "ShardedFilename", [temp, shard, n_shards])[0]
    _on_cpu(fn)
    reads = [
        fn.node("ReadVariableOp", "Read/ReadVariableOp", [h], {"dtype": v.dtype})[0]
        for h, v in zip(handles, variables)
    ]
    names, slices = _names_consts(fn, "SaveV2", keys + [_OBJECT_GRAPH_KEY])
    dtypes = [v.dtype for v in variables] + [_d.string]
    fn.node("SaveV2", "SaveV2", [shard_file, names, slices, *reads, object_graph],
            {"dtypes": dtypes})  # fmt: skip
    _on_cpu(fn)
    save_name = fn.fdef.node_def[-1].name
    prefixes = fn.node(
        "Pack",
        "MergeV2Checkpoints/checkpoint_prefixes",
        [shard_file, f"^{save_name}"],
        {"T": _d.string, "N": 1},
    )[0]
    _on_cpu(fn)
    fn.node("MergeV2Checkpoints", "MergeV2Checkpoints", [prefixes, prefix])
    _on_cpu(fn)
    _finish(fn, prefix, [fn.fdef.node_def[-1].name])
    return fn.fdef.signature.name


def add_saver(meta, lib, handle_names: list, variables: list, keys: list, object_graph: bytes,
              first_call: int) -> None:  # fmt: skip
    """Write the saver functions into ``lib``, their calls into ``meta.graph_def`` (on the
    variables' ``VarHandleOp`` nodes ``handle_names``) and ``meta.saver_def``.

    ``keys``: each variable's checkpoint key; ``object_graph``: the serialized
    TrackableObjectGraph the save function writes next to them; ``first_call``: the
    number of the first ``StatefulPartitionedCall`` node still free in the main graph.
    """
    from rill.core.protos import make_tensor_proto
    from rill.tracing.graph_def import _set_attr

    restore_f = _restore_function(lib, variables, keys)
    save_f = _save_function(lib, variables, keys)
    gd = meta.graph_def
    const = gd.node.add(name="saver_object_graph", op="Const", device=_CPU)
    _set_attr(const.attr["dtype"], _d.string)
    make_tensor_proto(np.array(object_graph, dtype=object), _d.string,
                      proto=const.attr["value"].tensor)  # fmt: skip
    ph = gd.node.add(name="saver_filename", op="Placeholder")
    _set_attr(ph.attr["dtype"], _d.string)
    ph.attr["shape"].shape.SetInParent()  # a scalar

    def call(k, fname, extra_in, extra_types):
        nd = gd.node.add(name=f"StatefulPartitionedCall_{k}" if k else "StatefulPartitionedCall",
                         op="StatefulPartitionedCall")  # fmt: skip
        nd.input.extend([ph.name, *handle_names, *extra_in])
        nd.attr["Tin"].list.type.extend(
            [_d.string.as_datatype_enum] + [_d.resource.as_datatype_enum] * len(handle_names)
            + [t.as_datatype_enum for t in extra_types]
        )  # fmt: skip
        nd.attr["Tout"].list.type.append(_d.string.as_datatype_enum)
        nd.attr["f"].func.name = fname
        return nd.name

    save_node = call(first_call, save_f, [const.name], [_d.string])
    restore_node = call(first_call + 1, restore_f, [], [])
    sd = meta.saver_def
    sd.filename_tensor_name = f"{ph.name}:0"
    sd.save_tensor_name = f"{save_node}:0"
    sd.restore_op_name = restore_node
    sd.version = 2  # SaverDef.V2: the tensor-bundle format
