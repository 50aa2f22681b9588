"""``tf.saved_model.save``: rill objects as a TensorFlow SavedModel directory.

Writes TensorFlow's layout: ``saved_model.pb`` (one MetaGraphDef tagged ``serve``: a
GraphDef whose library holds every exported function as a FunctionDef of TF ops, the
SignatureDefs, and the SavedObjectGraph), ``variables/variables.{index,data-00000-of-
00001}`` (a tensor bundle, with the checkpoint's object graph under
``_CHECKPOINTABLE_OBJECT_GRAPH``), ``fingerprint.pb`` and ``assets/``. The object graph
mirrors the saved object: modules and their variables and functions by attribute name
(a Keras model's variables under ``variables``), the signatures under ``signatures``.
The main graph holds, per signature, its input placeholders and a call of its function
on them and on the variables' handles, so the SignatureDefs name real tensors.
"""

from __future__ import annotations

import hashlib
import os
import uuid

from rill.core import dtypes as _d
from rill.core.errors import UnimplementedError
from rill.core.tensor_shape import TensorShape
from rill.saved_model import constants
from rill.saved_model.exporter import LibraryBuilder
from rill.tracing.graph_def import GRAPH_DEF_VERSION, _set_attr, _set_shape

__all__ = ["save", "SaveOptions"]

_TF_VERSION = "2.21.0"


class SaveOptions:
    """Options for ``tf.saved_model.save`` (kept for compatibility; ``function_aliases``
    is written to the MetaInfoDef)."""

    def __init__(
        self,
        namespace_whitelist=None,
        save_debug_info=False,
        function_aliases=None,
        experimental_debug_stripper=False,
        experimental_io_device=None,
        experimental_variable_policy=None,
        experimental_custom_gradients=True,
        experimental_image_format=False,
        experimental_skip_saver=False,
        experimental_sharding_callback=None,
        extra_tags=None,
    ):
        self.namespace_whitelist = list(namespace_whitelist or [])
        self.save_debug_info = save_debug_info
        self.function_aliases = dict(function_aliases or {})
        self.experimental_debug_stripper = experimental_debug_stripper
        self.experimental_io_device = experimental_io_device
        self.experimental_variable_policy = experimental_variable_policy
        self.experimental_custom_gradients = experimental_custom_gradients
        self.experimental_image_format = experimental_image_format
        self.experimental_skip_saver = experimental_skip_saver
        self.experimental_sharding_callback = experimental_sharding_callback
        self.extra_tags = list(extra_tags or [])


def _is_var(x) -> bool:
    return getattr(x, "_rill_variable", False)


def _is_function(x) -> bool:
    from rill.tracing.polymorphic import Function

    return isinstance(x, Function)


def _is_concrete(x) -> bool:
    from rill.tracing.polymorphic import ConcreteFunction

    return isinstance(x, ConcreteFunction)


def _is_keras_model(x) -> bool:
    return any(
        c.__name__ == "Layer" and c.__module__ == "rill.keras.layer" for c in type(x).__mro__
    )


# -- structured values -------------------------------------------------------------------


def _encode(sv, value):
    from rill.core.tensor import TensorSpec

    if value is None:
        sv.none_value.SetInParent()
    elif isinstance(value, TensorSpec) or hasattr(value, "shape") and hasattr(value, "dtype"):
        spec = sv.tensor_spec_value
        spec.dtype = value.dtype.as_datatype_enum
        _set_shape(spec.shape, TensorShape(value.shape))
        if getattr(value, "name", None) and isinstance(value, TensorSpec):
            spec.name = value.name
    elif isinstance(value, dict):
        sv.dict_value.SetInParent()
        for k in value:
            _encode(sv.dict_value.fields[str(k)], value[k])
    elif isinstance(value, tuple):
        sv.tuple_value.SetInParent()
        for v in value:
            _encode(sv.tuple_value.values.add(), v)
    elif isinstance(value, list):
        sv.list_value.SetInParent()
        for v in value:
            _encode(sv.list_value.values.add(), v)
    elif isinstance(value, bool):
        sv.bool_value = value
    elif isinstance(value, int):
        sv.int64_value = value
    elif isinstance(value, float):
        sv.float64_value = value
    elif isinstance(value, str):
        sv.string_value = value
    else:
        raise UnimplementedError(None, None, f"tf.saved_model.save: cannot encode {value!r}")


def _spec_of(t, name=None):
    from rill.core.tensor import TensorSpec

    return TensorSpec(t.shape, t.dtype, name=name)


# -- functions ---------------------------------------------------------------------------


def _concrete(fn):
    """A traced ConcreteFunction of a Function with an input signature (or a concrete)."""
    if _is_concrete(fn):
        return fn
    if _is_function(fn):
        if fn.input_signature is None:
            cfs = getattr(fn, "_concrete", None)
            raise ValueError(
                "tf.saved_model.save: a tf.function given as a signature needs an "
                f"input_signature (or pass fn.get_concrete_function(...)); got {fn}{cfs or ''}"
            )
        return fn.get_concrete_function()
    raise ValueError(
        f"tf.saved_model.save: expected a tf.function or a concrete function, got {fn!r}"
    )


def _input_names(cf) -> list:
    specs = [s for s in _flat(cf.structured_input_signature)]
    names = []
    for i, s in enumerate(specs):
        n = getattr(s, "name", None) or (
            cf._arg_names[i] if i < len(getattr(cf, "_arg_names", []) or []) else None
        )
        names.append(n or f"input_{i}")
    seen = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, -1) + 1
        out.append(n if not seen[n] else f"{n}_{seen[n]}")
    return out


def _flat(structure):
    from rill import nest

    return [x for x in nest.flatten(structure) if x is not None]


def _output_dict(cf) -> dict:
    """A signature's outputs as TF names them: a dict as it is, else ``output_<i>``."""
    out = cf.structured_outputs
    if isinstance(out, dict):
        return {str(k): v for k, v in out.items()}
    if isinstance(out, (list, tuple)):
        return {f"output_{i}": v for i, v in enumerate(_flat(out))}
    return {"output_0": out}


def _graph_outputs(cf, values) -> list:
    """The graph tensors of ``values`` (the function's structured outputs)."""
    return list(values)


# -- the object graph --------------------------------------------------------------------


class _Node:
    def __init__(self, obj, kind):
        self.obj = obj
        self.kind = kind  # "user", "variable", "function", "bare", "sigmap", "list"
        self.children: list = []  # (local name, node id)
        self.extra: dict = {}


class _Graph:
    def __init__(self):
        self.nodes: list = []
        self.ids: dict = {}

    def add(self, obj, kind) -> int:
        if obj is not None and id(obj) in self.ids and kind not in ("bare",):
            return self.ids[id(obj)]
        self.nodes.append(_Node(obj, kind))
        i = len(self.nodes) - 1
        if obj is not None:
            self.ids[id(obj)] = i
        return i


def _collect(graph: _Graph, obj, i: int, depth=0):
    """Children of a module-like object: variables, modules, functions, lists of them."""
    from rill.core.module import Module

    if depth > 50:
        return
    items = []
    for key, value in sorted(vars(obj).items()):
        if key.startswith("_"):
            continue
        items.append((key, value))
    for key in dir(type(obj)):
        if not key.startswith("_") and _is_function(getattr(type(obj), key, None)):
            items.append((key, getattr(obj, key)))
    for key, value in items:
        if _is_var(value):
            graph.nodes[i].children.append((key, graph.add(value, "variable")))
        elif isinstance(value, Module):
            known = id(value) in graph.ids
            j = graph.add(value, "user")
            graph.nodes[i].children.append((key, j))
            if not known:
                _collect(graph, value, j, depth + 1)
        elif _is_function(value) and value.input_signature is not None:
            graph.nodes[i].children.append((key, graph.add(value, "function")))
        elif (
            isinstance(value, (list, tuple))
            and value
            and all(_is_var(v) or isinstance(v, Module) for v in value)
        ):
            j = graph.add(None, "list")
            graph.nodes[i].children.append((key, j))
            for n, v in enumerate(value):
                if _is_var(v):
                    graph.nodes[j].children.append((str(n), graph.add(v, "variable")))
                else:
                    known = id(v) in graph.ids
                    k = graph.add(v, "user")
                    graph.nodes[j].children.append((str(n), k))
                    if not known:
                        _collect(graph, v, k, depth + 1)


def _default_signatures(obj) -> dict:
    if _is_keras_model(obj) and getattr(obj, "inputs", None):
        from rill.tracing.polymorphic import function

        specs = [_spec_of(t, getattr(t, "name", None)) for t in obj.inputs]
        single = len(specs) == 1
        fn = function(
            (lambda x: obj(x, training=False))
            if single
            else (lambda *xs: obj(list(xs), training=False)),
            input_signature=specs,
        )
        return {constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY: fn.get_concrete_function()}
    found = []
    for key in dir(type(obj)):
        attr = getattr(type(obj), key, None)
        if _is_function(attr) and attr.input_signature is not None:
            found.append(getattr(obj, key))
    if len(found) == 1:
        return {constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY: _concrete(found[0])}
    return {}


def save(obj, export_dir, signatures=None, options=None):
    """Export ``obj`` (a ``tf.Module``, a Keras model, or a ``tf.function``) to
    ``export_dir`` in TensorFlow's SavedModel format."""
    from rill.core.module import Module
    from rill.saved_model.protos import classes

    options = options or SaveOptions()
    export_dir = os.fspath(export_dir)
    if _is_function(obj) or _is_concrete(obj):
        fn = obj
        obj = Module(name="root")
        if _is_function(fn) and fn.input_signature is not None:
            object.__setattr__(obj, "f", fn)
        if signatures is None:
            signatures = fn
    if signatures is None:
        signatures = _default_signatures(obj)
    elif not isinstance(signatures, dict):
        signatures = {constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY: signatures}
    signatures = {k: _concrete(v) for k, v in signatures.items()}
    for k in signatures:
        if not isinstance(k, str) or not k:
            raise ValueError(
                f"tf.saved_model.save: signature keys must be non-empty strings, got {k!r}"
            )

    c = classes()
    lib = LibraryBuilder()
    graph = _Graph()
    root = graph.add(obj, "user")
    if _is_keras_model(obj):
        j = graph.add(None, "list")
        graph.nodes[root].children.append(("variables", j))
        for n, v in enumerate(getattr(obj, "variables", [])):
            graph.nodes[j].children.append((str(n), graph.add(v, "variable")))
    elif isinstance(obj, Module):
        _collect(graph, obj, root)

    def ensure_var(v) -> int:
        if id(v) not in graph.ids:
            extra = graph.nodes[root].extra.setdefault("list", None)
            if extra is None:
                extra = graph.nodes[root].extra["list"] = graph.add(None, "list")
                graph.nodes[root].children.append(("_rill_captured_variables", extra))
            k = graph.add(v, "variable")
            graph.nodes[extra].children.append((str(len(graph.nodes[extra].children)), k))
        return graph.ids[id(v)]

    concrete_protos: dict = {}

    # tf.functions on the object: positional arguments, structured outputs
    for node in list(graph.nodes):
        if node.kind != "function":
            continue
        cf = _concrete(node.obj)
        name = lib.fresh_name(getattr(node.obj, "__name__", None) or "function")
        outs = _flat(cf.structured_outputs)
        fn = lib.add(cf.graph, name, [t for t in outs], _input_names(cf))
        scf = c["SavedConcreteFunction"]()
        scf.bound_inputs.extend(ensure_var(v) for v in fn.variables)
        specs = tuple(_spec_of(t, n) for t, n in zip(cf.graph.inputs, _input_names(cf)))
        _encode(scf.canonicalized_input_signature, (specs, {}))
        _encode(scf.output_signature, _structure_specs(cf.structured_outputs))
        concrete_protos[name] = scf
        node.extra["concrete"] = name
        node.extra["specs"] = specs

    # signatures: keyword arguments (sorted, as TF flattens them), a dict of outputs
    sig_map = graph.add(None, "sigmap")
    graph.nodes[root].children.append(("signatures", sig_map))
    sig_defs = {}
    main_nodes = []
    for key, cf in sorted(signatures.items()):
        names = _input_names(cf)
        order = sorted(range(len(names)), key=lambda i: names[i])
        outs = _output_dict(cf)
        out_keys = sorted(outs)
        name = lib.fresh_name(f"signature_wrapper_{key}")
        fn = _add_sorted(lib, cf.graph, name, [outs[k] for k in out_keys], names, order)
        scf = c["SavedConcreteFunction"]()
        bound = [ensure_var(v) for v in fn.variables]
        scf.bound_inputs.extend(bound)
        in_specs = {names[i]: _spec_of(cf.graph.inputs[i], names[i]) for i in order}
        _encode(scf.canonicalized_input_signature, ((), in_specs))
        _encode(scf.output_signature, {k: _spec_of(outs[k], k) for k in out_keys})
        concrete_protos[name] = scf
        j = graph.add(None, "bare")
        graph.nodes[j].extra.update(concrete=name, keywords=[names[i] for i in order])
        graph.nodes[sig_map].children.append((key, j))
        sig_defs[key] = (cf, names, order, outs, out_keys, name, fn.variables)
        main_nodes.append(key)

    # variables: checkpoint keys by path from the root
    paths = _paths(graph)
    var_nodes = [(i, n) for i, n in enumerate(graph.nodes) if n.kind == "variable"]

    meta = c["MetaGraphDef"]()
    info = meta.meta_info_def
    info.tags.append(constants.SERVING)
    info.tags.extend(options.extra_tags)
    info.tensorflow_version = _TF_VERSION
    info.tensorflow_git_version = "rill"
    info.stripped_default_attrs = True
    for k, v in options.function_aliases.items():
        info.function_aliases[str(v)] = str(k)
    gd = meta.graph_def
    gd.versions.producer = GRAPH_DEF_VERSION
    gd.versions.min_consumer = 12

    # main graph: variable handles, and each signature's placeholders and call
    handle_names = {}
    for i, n in var_nodes:
        v = n.obj
        base = paths[i].replace("/", "_").replace(".", "_") or f"Variable_{i}"
        nd = gd.node.add(name=f"{base}_handle_{i}", op="VarHandleOp")
        _set_attr(nd.attr["dtype"], v.dtype)
        _set_attr(nd.attr["shape"], TensorShape(v.shape))
        _set_attr(nd.attr["shared_name"], paths[i])
        handle_names[id(v)] = nd.name
    call_i = 0
    for key in main_nodes:
        cf, names, order, outs, out_keys, fname, fvars = sig_defs[key]
        sd = meta.signature_def[key]
        sd.method_name = constants.PREDICT_METHOD_NAME
        inputs = []
        for i in order:
            t = cf.graph.inputs[i]
            ph = gd.node.add(name=f"{key}_{names[i]}", op="Placeholder")
            _set_attr(ph.attr["dtype"], t.dtype)
            _set_attr(ph.attr["shape"], t.shape)
            inputs.append(ph.name)
            ti = sd.inputs[names[i]]
            ti.name = ph.name + ":0"
            ti.dtype = t.dtype.as_datatype_enum
            _set_shape(ti.tensor_shape, t.shape)
        call = gd.node.add(
            name="StatefulPartitionedCall" + (f"_{call_i}" if call_i else ""),
            op="StatefulPartitionedCall",
        )
        call_i += 1
        call.input.extend(inputs + [handle_names[id(v)] for v in fvars])
        _set_attr(call.attr["Tin"], [cf.graph.inputs[i].dtype for i in order])
        call.attr["Tin"].list.type.extend([20] * len(fvars))
        _set_attr(call.attr["Tout"], [outs[k].dtype for k in out_keys])
        call.attr["f"].func.name = fname
        for j, k in enumerate(out_keys):
            ti = sd.outputs[k]
            ti.name = f"{call.name}:{j}"
            ti.dtype = outs[k].dtype.as_datatype_enum
            _set_shape(ti.tensor_shape, outs[k].shape)

    tog, keys = _object_graph(graph, paths, c)
    if not options.experimental_skip_saver:
        from rill.saved_model.saver import add_saver

        saved = [n.obj for _, n in var_nodes]
        add_saver(meta, lib, [handle_names[id(v)] for v in saved], saved,
                  [keys[i] for i, _ in var_nodes], tog.SerializeToString(), call_i)  # fmt: skip
    for fdef in lib.fdefs.values():
        gd.library.function.add().CopyFrom(fdef)

    og = meta.object_graph_def
    for cname, scf in concrete_protos.items():
        og.concrete_functions[cname].CopyFrom(scf)
    for n in graph.nodes:
        so = og.nodes.add()
        for local, child in n.children:
            so.children.add(node_id=child, local_name=local)
        if n.kind in ("user", "list"):
            so.user_object.identifier = "_generic_user_object"
            so.user_object.version.producer = 1
            so.user_object.version.min_consumer = 1
        elif n.kind == "sigmap":
            so.user_object.identifier = "signature_map"
            so.user_object.version.producer = 1
            so.user_object.version.min_consumer = 1
        elif n.kind == "variable":
            v = n.obj
            so.variable.dtype = v.dtype.as_datatype_enum
            _set_shape(so.variable.shape, TensorShape(v.shape))
            so.variable.trainable = bool(getattr(v, "trainable", True))
            so.variable.name = str(getattr(v, "name", "Variable")).split(":")[0]
        elif n.kind == "function":
            so.function.concrete_functions.append(n.extra["concrete"])
            _function_spec(so.function.function_spec, [s.name for s in n.extra["specs"]],
                           n.extra["specs"])  # fmt: skip
        elif n.kind == "bare":
            b = so.bare_concrete_function
            b.concrete_function_name = n.extra["concrete"]
            b.argument_keywords.extend(n.extra["keywords"])

    sm = c["SavedModel"](saved_model_schema_version=constants.SAVED_MODEL_SCHEMA_VERSION)
    sm.meta_graphs.add().CopyFrom(meta)

    # write: variables first, then the graph, then the fingerprint
    os.makedirs(os.path.join(export_dir, constants.VARIABLES_DIRECTORY), exist_ok=True)
    os.makedirs(os.path.join(export_dir, constants.ASSETS_DIRECTORY), exist_ok=True)
    _write_variables(export_dir, graph, tog, keys)
    data = sm.SerializeToString()
    from rill.train.tensor_bundle import atomic_write

    atomic_write(os.path.join(export_dir, constants.SAVED_MODEL_FILENAME_PB), data)
    _write_fingerprint(export_dir, sm, meta, c)


def _structure_specs(structure):
    from rill import nest

    return nest.map_structure(lambda t: _spec_of(t) if t is not None else None, structure)


def _function_spec(fs, names, specs):
    fa = fs.fullargspec.named_tuple_value
    fa.name = "FullArgSpec"
    for key in ("args", "varargs", "varkw", "defaults", "kwonlyargs", "kwonlydefaults",
                "annotations"):  # fmt: skip
        p = fa.values.add(key=key)
        if key == "args":
            _encode(p.value, list(names))
        elif key == "kwonlyargs":
            _encode(p.value, [])
        elif key == "annotations":
            _encode(p.value, {})
        else:
            _encode(p.value, None)
    _encode(fs.input_signature, tuple(specs))


def _add_sorted(lib, graph, name, outputs, names, order):
    """``lib.add`` with the arguments in ``order`` (TF's sorted keyword order)."""
    from rill.saved_model.exporter import _Fn

    fn = _Fn(lib, name)
    env = {}
    for i in order:
        t = graph.inputs[i]
        env[id(t)] = fn.arg(names[i], t.dtype)
    lib._body(fn, graph, env)
    # resource args come after the keyword ones: move any the body added
    lib._finish(fn, outputs, env)
    _resources_last(fn)
    return fn


def _resources_last(fn):
    args = list(fn.fdef.signature.input_arg)
    plain = [a for a in args if a.type != 20]
    res = [a for a in args if a.type == 20]
    del fn.fdef.signature.input_arg[:]
    for a in plain + res:
        fn.fdef.signature.input_arg.add().CopyFrom(a)


def _paths(graph: _Graph) -> dict:
    """node id -> its path of local names from the root (breadth-first, first found)."""
    paths = {0: ""}
    todo = [0]
    while todo:
        i = todo.pop(0)
        for local, child in graph.nodes[i].children:
            if child not in paths:
                paths[child] = f"{paths[i]}/{local}" if paths[i] else local
                todo.append(child)
    return paths


def _escape(name: str) -> str:
    return name.replace(".", "..").replace("/", ".S")


def _object_graph(graph: _Graph, paths, c):
    """The checkpoint's TrackableObjectGraph (same node ids) and each variable node's
    checkpoint key."""
    tog = c["TrackableObjectGraph"]()
    keys = {}
    for i, n in enumerate(graph.nodes):
        t = tog.nodes.add()
        for local, child in n.children:
            t.children.add(node_id=child, local_name=local)
        if n.kind == "variable":
            key = "/".join(_escape(p) for p in paths[i].split("/")) + "/.ATTRIBUTES/VARIABLE_VALUE"
            a = t.attributes.add(name="VARIABLE_VALUE", checkpoint_key=key)
            a.full_name = str(getattr(n.obj, "name", "")).split(":")[0]
            keys[i] = key
    return tog, keys


def _write_variables(export_dir, graph: _Graph, tog, keys):
    """The tensor bundle: each variable under its key, and the object graph."""
    import numpy as np

    from rill.train.tensor_bundle import write_bundle

    tensors = [(k, np.asarray(graph.nodes[i].obj.numpy()), graph.nodes[i].obj.dtype)
               for i, k in keys.items()]  # fmt: skip
    obj_graph = np.array(tog.SerializeToString(), dtype=object)
    tensors.append(("_CHECKPOINTABLE_OBJECT_GRAPH", obj_graph, _d.string))
    prefix = os.path.join(export_dir, constants.VARIABLES_DIRECTORY, constants.VARIABLES_FILENAME)
    write_bundle(prefix, sorted(tensors, key=lambda x: x[0]))


def _hash64(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def _write_fingerprint(export_dir, sm, meta, c):
    from rill.train.tensor_bundle import atomic_write

    fp = c["FingerprintDef"]()
    fp.saved_model_checksum = _hash64(sm.SerializeToString())
    fp.graph_def_program_hash = _hash64(meta.graph_def.SerializeToString())
    fp.signature_def_hash = _hash64(
        b"".join(
            k.encode() + meta.signature_def[k].SerializeToString()
            for k in sorted(meta.signature_def)
        )  # fmt: skip
    )
    fp.saved_object_graph_hash = _hash64(meta.object_graph_def.SerializeToString())
    index = os.path.join(export_dir, constants.VARIABLES_DIRECTORY, "variables.index")
    with open(index, "rb") as f:
        fp.checkpoint_hash = _hash64(f.read())
    fp.version.producer = 1
    fp.uuid = str(uuid.uuid4())
    atomic_write(os.path.join(export_dir, constants.FINGERPRINT_FILENAME), fp.SerializeToString())
