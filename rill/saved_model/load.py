"""``tf.saved_model.load``: a SavedModel directory (TensorFlow's or rill's) as rill objects.

The MetaGraphDef's SavedObjectGraph is rebuilt node by node: user objects become
``tf.Module``s with their children as attributes, variables ``tf.Variable``s holding the
values of ``variables/`` (the tensor bundle, matched to nodes through the checkpoint's own
object graph), functions callables over their concrete functions, and the root's
``signatures`` a mapping of signature functions that take keyword tensors and return a
dict. Every function runs the FunctionDefs of the graph's library through
``rill.saved_model.importer`` inside a ``rill.function`` (traced once per signature,
then compiled). Ops rill cannot run are named when the model loads.
"""

from __future__ import annotations

import os

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import NotFoundError, UnimplementedError
from rill.core.module import Module
from rill.saved_model import constants
from rill.saved_model.importer import FunctionLibrary, _shape

__all__ = ["load", "LoadOptions", "read_saved_model", "decode_structure"]


class LoadOptions:
    """Options for ``tf.saved_model.load`` (accepted for compatibility; rill reads one
    device and does not shard)."""

    def __init__(
        self,
        allow_partial_checkpoint=False,
        experimental_io_device=None,
        experimental_skip_checkpoint=False,
        experimental_variable_policy=None,
        experimental_load_function_aliases=False,
    ):
        self.allow_partial_checkpoint = allow_partial_checkpoint
        self.experimental_io_device = experimental_io_device
        self.experimental_skip_checkpoint = experimental_skip_checkpoint
        self.experimental_variable_policy = experimental_variable_policy
        self.experimental_load_function_aliases = experimental_load_function_aliases


def read_saved_model(export_dir):
    """The ``SavedModel`` message of ``export_dir`` (``saved_model.pb`` or ``.pbtxt``)."""
    from rill.saved_model.protos import classes

    export_dir = os.fspath(export_dir)
    pb = os.path.join(export_dir, constants.SAVED_MODEL_FILENAME_PB)
    pbtxt = os.path.join(export_dir, constants.SAVED_MODEL_FILENAME_PBTXT)
    sm = classes()["SavedModel"]()
    if os.path.isfile(pb):
        with open(pb, "rb") as f:
            sm.ParseFromString(f.read())
    elif os.path.isfile(pbtxt):
        from google.protobuf import text_format

        with open(pbtxt) as f:
            text_format.Parse(f.read(), sm)
    else:
        raise OSError(
            f"SavedModel file does not exist at: {export_dir}{os.sep}"
            f"{{{constants.SAVED_MODEL_FILENAME_PBTXT}|{constants.SAVED_MODEL_FILENAME_PB}}}"
        )
    return sm


def decode_structure(sv):
    """A ``StructuredValue`` as Python (TensorSpec leaves, tuples, lists, dicts)."""
    from rill.core.tensor import TensorSpec

    kind = sv.WhichOneof("kind")
    if kind is None or kind == "none_value":
        return None
    if kind == "tensor_spec_value":
        s = sv.tensor_spec_value
        return TensorSpec(_shape(s.shape), _d.as_dtype(s.dtype), name=s.name or None)
    if kind == "list_value":
        return [decode_structure(v) for v in sv.list_value.values]
    if kind == "tuple_value":
        return tuple(decode_structure(v) for v in sv.tuple_value.values)
    if kind == "dict_value":
        return {k: decode_structure(v) for k, v in sv.dict_value.fields.items()}
    if kind == "named_tuple_value":
        return {p.key: decode_structure(p.value) for p in sv.named_tuple_value.values}
    if kind == "tensor_shape_value":
        return _shape(sv.tensor_shape_value)
    if kind == "tensor_dtype_value":
        return _d.as_dtype(sv.tensor_dtype_value)
    if kind in ("tensor_value", "numpy_value"):
        from rill.core.protos import array_from_tensor_proto

        return array_from_tensor_proto(getattr(sv, kind))
    if kind == "type_spec_value":
        raise UnimplementedError(
            None,
            None,
            f"SavedModel function signature uses a composite tensor "
            f"({sv.type_spec_value.type_spec_class_name or 'TypeSpec'}), which rill does "
            "not load",
        )
    return getattr(sv, kind)


def _flatten(structure) -> list:
    from rill import nest

    return nest.flatten(structure)


class _ConcreteFunction:
    """A restored concrete function: flat tensors (and the bound variables) in, its
    structured outputs out. Traced once with ``rill.function`` and then compiled."""

    def __init__(self, name, saved, lib, nodes):
        self.name = name
        self._lib = lib
        self.captured_inputs = [nodes[i] for i in saved.bound_inputs]
        self.structured_input_signature = decode_structure(saved.canonicalized_input_signature)
        self.structured_outputs = decode_structure(saved.output_signature)
        self._in_specs = [s for s in _flatten(self.structured_input_signature) if s is not None]
        self._traced = None

    @property
    def variables(self) -> tuple:
        return tuple(v for v in self.captured_inputs if getattr(v, "_rill_variable", False))

    def _run_flat(self, flat):
        from rill import nest

        outs = self._lib.call(self.name, list(flat) + self.captured_inputs)
        if self.structured_outputs is None:
            return None
        return nest.pack_sequence_as(self.structured_outputs, outs)

    def _call_flat(self, flat):
        if self._traced is None:
            from rill.tracing.polymorphic import function

            specs = list(self._in_specs)
            self._traced = function(lambda *xs: self._run_flat(xs), input_signature=specs)
        return self._traced(*flat)

    def _convert(self, values):
        from rill.core.convert import convert_to_tensor

        out = []
        for v, s in zip(values, self._in_specs):
            t = convert_to_tensor(v, dtype=s.dtype)
            if not s.shape.is_compatible_with(t.shape):
                raise ValueError(
                    f"{self.name}: input {s.name or len(out)} has shape {t.shape}, which is "
                    f"not compatible with the signature's {s.shape}"
                )
            out.append(t)
        return out

    def __call__(self, *args, **kwargs):
        args_sig, kwargs_sig = self.structured_input_signature
        if kwargs_sig and not args:
            missing = sorted(set(kwargs_sig) - set(kwargs))
            extra = sorted(set(kwargs) - set(kwargs_sig))
            if missing or extra:
                raise TypeError(
                    f"{self.name}() got unexpected keyword arguments {extra} and is missing "
                    f"{missing}; it takes {sorted(kwargs_sig)}"
                )
            flat = _flatten({k: kwargs[k] for k in kwargs_sig})
        else:
            names = [getattr(s, "name", None) for s in args_sig]
            values = list(args)
            for name in names[len(values) :]:
                if name not in kwargs:
                    raise TypeError(f"{self.name}() missing argument {name!r}")
                values.append(kwargs.pop(name))
            if len(values) != len(args_sig) or kwargs:
                raise TypeError(
                    f"{self.name}() takes {len(args_sig)} arguments ({names}), got "
                    f"{len(args)} positional and keywords {sorted(kwargs)}"
                )
            flat = _flatten(values)
        return self._call_flat(self._convert(flat))

    def __repr__(self):
        return f"<ConcreteFunction {self.name}>"


class _RestoredFunction:
    """A restored ``tf.function``: calls the first concrete function whose signature
    accepts the arguments."""

    def __init__(self, concrete):
        self.concrete_functions = list(concrete)

    def __call__(self, *args, **kwargs):
        errors = []
        for cf in self.concrete_functions:
            try:
                return cf(*args, **kwargs)
            except (TypeError, ValueError) as e:
                errors.append(str(e))
        raise ValueError(
            "Could not find a matching concrete function to call loaded from the "
            f"SavedModel. Got arguments {args}, {kwargs}; tried: " + "; ".join(errors)
        )

    def get_concrete_function(self, *args, **kwargs):
        return self.concrete_functions[0]


class _Signatures(dict):
    """``loaded.signatures``: signature key -> concrete function."""


class _Restored(Module):
    """A restored user object (``tf.Module``-like, its children as attributes)."""

    def __init__(self):
        super().__init__(name="restored")


def _variable_values(export_dir, og, n_nodes, options):
    """node id -> array, from ``variables/`` (matched through the checkpoint's graph)."""
    from rill.saved_model.protos import classes
    from rill.train.tensor_bundle import BundleReader

    prefix = os.path.join(export_dir, constants.VARIABLES_DIRECTORY, constants.VARIABLES_FILENAME)
    if not os.path.exists(prefix + ".index"):
        return {}
    reader = BundleReader(prefix)
    values = {}
    if reader.has("_CHECKPOINTABLE_OBJECT_GRAPH"):
        tog = classes()["TrackableObjectGraph"]()
        tog.ParseFromString(reader.get("_CHECKPOINTABLE_OBJECT_GRAPH").reshape(-1)[0])
        for i, node in enumerate(tog.nodes[:n_nodes]):
            for attr in node.attributes:
                if attr.name == "VARIABLE_VALUE" and reader.has(attr.checkpoint_key):
                    values[i] = reader.get(attr.checkpoint_key)
    return values


def load(export_dir, tags=None, options=None):
    """Load a SavedModel from ``export_dir``: its root object, with ``.signatures``."""
    from rill.core.variables import Variable

    export_dir = os.fspath(export_dir)
    sm = read_saved_model(export_dir)
    if isinstance(tags, str):
        tags = [tags]
    metas = list(sm.meta_graphs)
    if tags is None:
        meta = metas[0] if len(metas) == 1 else None
        if meta is None:
            meta = next((m for m in metas if constants.SERVING in m.meta_info_def.tags), None)
    else:
        meta = next((m for m in metas if set(m.meta_info_def.tags) == set(tags)), None)
    if meta is None:
        available = [list(m.meta_info_def.tags) for m in metas]
        raise RuntimeError(
            f"MetaGraphDef associated with tags {tags} could not be found in SavedModel, "
            f"with available tags '{available}'"
        )
    og = meta.object_graph_def
    if not og.nodes:
        raise UnimplementedError(
            None,
            None,
            f"The SavedModel at {export_dir} has no object graph (a TF1 SavedModel); rill "
            "loads TF2 SavedModels",
        )
    lib = FunctionLibrary(meta.graph_def.library)
    used = [n.bare_concrete_function.concrete_function_name for n in og.nodes
            if n.WhichOneof("kind") == "bare_concrete_function"]  # fmt: skip
    for n in og.nodes:
        if n.WhichOneof("kind") == "function":
            used.extend(n.function.concrete_functions)
    bad = lib.unsupported_ops(used)
    if bad:
        raise UnimplementedError(
            None,
            None,
            f"The SavedModel at {export_dir} uses TensorFlow ops rill cannot run: {', '.join(bad)}",
        )
    options = options or LoadOptions()
    values = (
        {}
        if options.experimental_skip_checkpoint
        else _variable_values(export_dir, og, len(og.nodes), options)
    )
    nodes: list = [None] * len(og.nodes)
    # variables first (functions bind them), then the rest
    for i, n in enumerate(og.nodes):
        if n.WhichOneof("kind") == "variable":
            sv = n.variable
            dtype = _d.as_dtype(sv.dtype)
            value = values.get(i)
            if value is None:
                shape = [max(d.size, 0) for d in sv.shape.dim]
                value = np.zeros(shape, dtype.np if not dtype.is_string else object)
            name = sv.name or f"Variable_{i}"
            nodes[i] = Variable(value, dtype=dtype, trainable=sv.trainable, name=name)
            lib.variables_by_name[name] = nodes[i]
    concretes: dict = {}

    def concrete(name):
        cf = concretes.get(name)
        if cf is None:
            cf = concretes[name] = _ConcreteFunction(name, og.concrete_functions[name], lib, nodes)
        return cf

    for i, n in enumerate(og.nodes):
        kind = n.WhichOneof("kind")
        if kind == "user_object":
            if n.user_object.identifier == "signature_map":
                obj = _Signatures()
            elif n.children and all(c.local_name.isdigit() for c in n.children):
                obj = [None] * len(n.children)  # a tracked list
            else:
                obj = _Restored()
            nodes[i] = obj
        elif kind == "bare_concrete_function":
            nodes[i] = ("bare", n.bare_concrete_function.concrete_function_name)
        elif kind == "function":
            nodes[i] = ("function", list(n.function.concrete_functions))
        elif kind == "constant":
            nodes[i] = None
        elif kind in ("asset", "resource", "captured_tensor") and nodes[i] is None:
            nodes[i] = _Restored()
    for i in range(len(og.nodes)):  # resolve functions after every variable exists
        if isinstance(nodes[i], tuple):
            what, names = nodes[i]
            if what == "bare":
                nodes[i] = concrete(names)
            else:
                nodes[i] = _RestoredFunction([concrete(c) for c in names])
    for i, n in enumerate(og.nodes):
        obj = nodes[i]
        for child in n.children:
            target = nodes[child.node_id]
            if isinstance(obj, _Signatures):
                obj[child.local_name] = target
            elif isinstance(obj, list):
                k = int(child.local_name)
                if k < len(obj):
                    obj[k] = target
            elif isinstance(obj, Module) and child.local_name.isidentifier():
                if not hasattr(type(obj), child.local_name):  # not over a property
                    object.__setattr__(obj, child.local_name, target)
    root = nodes[0]
    sigs = getattr(root, "signatures", None)
    if not isinstance(sigs, _Signatures):
        sigs = _Signatures()
        if isinstance(root, Module):
            object.__setattr__(root, "signatures", sigs)
    if isinstance(root, Module):
        object.__setattr__(root, "tensorflow_version", meta.meta_info_def.tensorflow_version)
        object.__setattr__(
            root, "tensorflow_git_version", meta.meta_info_def.tensorflow_git_version
        )
    return root


def _missing(export_dir) -> NotFoundError:
    return NotFoundError(None, None, f"no SavedModel at {export_dir}")
