"""``tf.train.Checkpoint``, ``CheckpointManager`` and the checkpoint readers.

An object graph is saved by path: starting at the checkpoint, each tracked attribute
(a variable, a ``tf.Module``, a Keras layer or optimizer, a nested checkpoint, or a list,
tuple or dict holding them) is a child named by its attribute, index or key. A variable
reached first at path ``a/b`` is stored under ``a/b/.ATTRIBUTES/VARIABLE_VALUE``; an
optimizer slot is stored under the path of the variable it belongs to
(``model/dense/kernel/.OPTIMIZER_SLOT/optimizer/m/...``), so it follows that variable
into any program that names it the same way.

Files are TensorFlow's: a tensor bundle (``<prefix>.index`` + ``<prefix>.data-00000-of-
00001``, see ``rill.train.tensor_bundle``) holding every value with its CRC32C, plus the
object graph as a ``TrackableObjectGraph`` under ``_CHECKPOINTABLE_OBJECT_GRAPH``, so TF
reads rill's checkpoints and rill reads TF's. rill's earlier format (a JSON index and a
``.npz``) is still read. Every file is written under a temporary name, fsynced and renamed
into place, the index last; ``CheckpointManager`` rewrites its ``checkpoint`` state file
before it deletes old checkpoints, and removes temporaries left by killed writers.

Values for objects that do not exist yet (an unbuilt Keras layer's weights, an optimizer's
slots before its first step) are kept and assigned when the objects are created.
"""

from __future__ import annotations

import abc
import codecs
import collections
import glob
import json
import os
import time

import numpy as np

from rill.core import dtypes as _d
from rill.core.context import init_scope
from rill.core.errors import DataLossError, NotFoundError
from rill.core.module import Module
from rill.core.tensor_shape import TensorShape
from rill.core.variables import Variable, is_variable
from rill.ops._op import tf_export

__all__ = [
    "Checkpoint",
    "CheckpointManager",
    "CheckpointState",
    "latest_checkpoint",
    "get_checkpoint_state",
    "list_variables",
    "load_variable",
    "load_checkpoint",
]

_VALUE = ".ATTRIBUTES/VARIABLE_VALUE"
_SLOT = ".OPTIMIZER_SLOT"
_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
_DATA_SUFFIX = ".data-00000-of-00001"
_FORMAT = "rill.checkpoint"
# Layer bookkeeping that holds variables already reachable another way (or no state).
_LAYER_INTERNALS = frozenset(
    ("_tracked", "_own_weights", "_regularized", "_call_losses", "_deferred_restore")
)

# --------------------------------------------------------------------------------------
# What is tracked (duck-typed: this module never imports keras)
# --------------------------------------------------------------------------------------


def _is_layer(x) -> bool:
    d = getattr(x, "__dict__", None)
    return d is not None and "_own_weights" in d and "_tracked" in d


def _is_optimizer(x) -> bool:
    d = getattr(x, "__dict__", None)
    return (
        d is not None
        and "_iterations" in d
        and "_variables" in d
        and hasattr(type(x), "apply_gradients")
    )


def _is_node(x) -> bool:
    return isinstance(x, (Checkpoint, Module)) or _is_layer(x) or _is_optimizer(x)


def _is_iterator(x) -> bool:
    """A ``tf.data`` iterator (``iter(dataset)``): saved as its position."""
    d = getattr(x, "__dict__", None)
    return d is not None and "_dataset" in d and "_it" in d and "_packer" in d


def _saveable(x) -> bool:
    """An object saving tensors of its own (TF's ``_serialize_to_tensors`` protocol), or an
    iterator."""
    return hasattr(type(x), "_serialize_to_tensors") or _is_iterator(x)


def _serialize(obj) -> dict:
    """``{attribute name: array}`` of a saveable object."""
    if _is_iterator(obj):
        from rill.data.iterator_ops import iterator_state

        return {"ITERATOR_STATE": iterator_state(obj)}
    out = {}
    for name, value in obj._serialize_to_tensors().items():
        v = getattr(value, "_value", value)
        out[name] = np.asarray(v, dtype=object if isinstance(v, (str, bytes)) else None)
    return out


def _restore_saved(obj, name: str, value: np.ndarray) -> None:
    if _is_iterator(obj):
        from rill.data.iterator_ops import restore_iterator_state

        restore_iterator_state(obj, value)
        return
    obj._restore_from_tensors({name: value})


class _SavedAttribute:
    """One tensor a saveable object saves, standing where a variable would (``_value``,
    ``dtype``, ``shape``, ``assign``). The value is taken when a save reads it, so a
    restore never needs the object's current state."""

    def __init__(self, obj, name: str):
        self.obj, self.attr, self.name = obj, name, name
        self.shape = TensorShape(None)

    @property
    def _value(self) -> np.ndarray:
        return _serialize(self.obj)[self.attr]

    @property
    def dtype(self):
        if _is_iterator(self.obj):
            return _d.string
        value = self._value
        return _d.string if value.dtype == object else _d.from_numpy(value.dtype)

    def assign(self, value) -> None:
        _restore_saved(self.obj, self.attr, np.asarray(value))

    def __repr__(self):
        return f"<{type(self.obj).__name__} attribute {self.attr}>"


def _saved_names(obj) -> list:
    """The attribute names a saveable object saves its tensors under."""
    if _is_iterator(obj):
        return ["ITERATOR_STATE"]
    return list(obj._serialize_to_tensors())


def _trackable(x) -> bool:
    if is_variable(x) or _is_node(x) or _saveable(x) or hasattr(type(x), "_trackable_children"):
        return True
    if isinstance(x, dict):
        return any(_trackable(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return any(_trackable(v) for v in x)
    return False


def _escape(name) -> str:
    return str(name).replace(".", "..").replace("/", ".S")


def _weight_name(layer, var) -> str:
    """The name ``add_weight`` was given for ``var`` (``kernel`` for ``dense/kernel:0``)."""
    name = var.name[:-2] if var.name.endswith(":0") else var.name
    prefix = f"{layer.name}/"
    return name[len(prefix) :] if name.startswith(prefix) else name.rpartition("/")[2]


def _children(obj) -> list:
    """``(name, child)`` pairs of a tracked object, in a stable order."""
    if hasattr(type(obj), "_trackable_children"):
        return list(obj._trackable_children())
    if isinstance(obj, Checkpoint):
        out = []
        if obj._root is not None:
            out.extend(_children(obj._root))
        out.extend(obj._deps.items())
        if obj._save_counter is not None:
            out.append(("save_counter", obj._save_counter))
        return out
    if isinstance(obj, dict):
        return [(_escape(k), v) for k, v in obj.items() if _trackable(v)]
    if isinstance(obj, (list, tuple)):
        return [(str(i), v) for i, v in enumerate(obj) if _trackable(v)]
    if _is_optimizer(obj):
        out = [("_iterations", obj._iterations)]
        lr = obj.__dict__.get("_learning_rate")
        if is_variable(lr):
            out.append(("_learning_rate", lr))
        out.extend(_optimizer_extras(obj))
        return out
    if _is_layer(obj):
        out = [
            (_escape(k), v)
            for k, v in vars(obj).items()
            if k not in _LAYER_INTERNALS and _trackable(v)
        ]
        names = {n for n, _ in out}
        for w in obj._own_weights:  # add_weight results not held in an attribute
            n = base = _escape(_weight_name(obj, w))
            i = 0
            while n in names:
                i += 1
                n = f"{base}_{i}"
            names.add(n)
            out.append((n, w))
        return out
    if isinstance(obj, Module):
        from rill.core.module import _IGNORED

        return [
            (_escape(k), v) for k, v in vars(obj).items() if k not in _IGNORED and _trackable(v)
        ]
    return []


def _walk(root) -> tuple[dict, dict]:
    """Breadth-first from ``root``: ``{path: object}`` and ``{id(object): path}``, each
    object at the first (shortest) path that reaches it."""
    by_path, by_id = {"": root}, {id(root): ""}
    queue = collections.deque([("", root)])
    while queue:
        path, obj = queue.popleft()
        if is_variable(obj):
            continue
        for name, child in _children(obj):
            if id(child) in by_id:
                continue
            p = f"{path}/{name}" if path else name
            by_path[p] = child
            by_id[id(child)] = p
            queue.append((p, child))
    return by_path, by_id


def _slot_label(v) -> str:
    """How ``Optimizer.add_variable_from_reference`` names slots of ``v``."""
    ref = getattr(v, "path", None)
    if ref is not None:
        return ref.replace("/", "_")
    return str(v.name).replace("/", "_").replace(":", "_")


def _optimizer_slots(opt) -> list:
    """``(model_variable, slot_name, slot_variable)`` for each slot of ``opt``. Slots are
    named ``{optimizer}/{label}_{slot}``; variables sharing a label get their slots in the
    order they were built."""
    refs = list(opt.__dict__.get("_trainable_variables") or ())
    if not refs:
        return []
    owners: dict[str, list] = {}
    for v in refs:
        owners.setdefault(_slot_label(v), []).append(v)
    labels = sorted(owners, key=len, reverse=True)
    prefix = f"{opt.name}/"
    skip = {id(opt._iterations), id(opt.__dict__.get("_learning_rate"))}
    groups: dict[tuple, list] = {}
    for var in opt._variables:
        path = getattr(var, "path", "") or ""
        if id(var) in skip or not path.startswith(prefix):
            continue
        rest = path[len(prefix) :]
        for label in labels:
            if rest.startswith(label + "_") and len(rest) > len(label) + 1:
                groups.setdefault((label, rest[len(label) + 1 :]), []).append(var)
                break
    return [
        (ref, slot, var)
        for (label, slot), vs in groups.items()
        for ref, var in zip(owners[label], vs)
    ]


def _optimizer_extras(opt) -> list:
    """The optimizer's own variables that are neither slots nor iterations/learning rate."""
    slots = {id(s) for _, _, s in _optimizer_slots(opt)}
    skip = slots | {id(opt._iterations), id(opt.__dict__.get("_learning_rate"))}
    prefix = f"{opt.name}/"
    out = []
    for var in opt._variables:
        if id(var) in skip:
            continue
        path = getattr(var, "path", None) or var.name
        out.append((_escape(path[len(prefix) :] if path.startswith(prefix) else path), var))
    return out


def _slot_key(ref_path: str, opt_path: str, slot: str) -> str:
    return f"{ref_path}/{_SLOT}/{opt_path}/{_escape(slot)}/{_VALUE}"


def _gather(root) -> tuple[dict, list]:
    """``{key: (variable, meta)}`` for everything saved from ``root``, and the object list."""
    by_path, by_id = _walk(root)
    entries, graph = {}, []
    for path, obj in by_path.items():
        kind = (
            "variable"
            if is_variable(obj)
            else "checkpoint"
            if isinstance(obj, Checkpoint)
            else "layer"
            if _is_layer(obj)
            else "optimizer"
            if _is_optimizer(obj)
            else "module"
            if isinstance(obj, Module)
            else "container"
        )
        if _saveable(obj):
            kind = "saveable"
            for name in _saved_names(obj):
                entries[f"{path}/.ATTRIBUTES/{name}"] = (_SavedAttribute(obj, name), {})
        graph.append({"path": path, "kind": kind})
        if kind == "variable":
            meta = {}
            parent = by_path.get(path.rpartition("/")[0]) if "/" in path else root
            if _is_layer(parent) and any(obj is w for w in parent._own_weights):
                meta["weight_name"] = _weight_name(parent, obj)
            entries[f"{path}/{_VALUE}"] = (obj, meta)
        elif kind == "optimizer":
            for ref, slot, var in _optimizer_slots(obj):
                ref_path = by_id.get(id(ref))
                if ref_path is not None:  # TF saves slots of tracked variables only
                    entries[_slot_key(ref_path, path, slot)] = (var, {})
    return entries, graph


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------


def _graph_proto(root, entries: dict) -> bytes:
    """The ``TrackableObjectGraph`` TF stores under ``_CHECKPOINTABLE_OBJECT_GRAPH``: one
    node per object in breadth-first order (slot variables last), with its named children,
    the checkpoint keys of its values and, on optimizers, their slot variables."""
    from rill.core.protos import message_classes

    graph = message_classes()["TrackableObjectGraph"]()
    by_path, by_id = _walk(root)
    objs = list(by_path.values())
    ids = {id(o): i for i, o in enumerate(objs)}
    nodes = [graph.nodes.add() for _ in objs]
    for (path, obj), node in zip(by_path.items(), nodes):
        if is_variable(obj):
            node.attributes.add(
                name="VARIABLE_VALUE",
                full_name=_full_name(obj),
                checkpoint_key=f"{path}/{_VALUE}",
            )
            continue
        if _saveable(obj):
            for name in _saved_names(obj):
                node.attributes.add(name=name, checkpoint_key=f"{path}/.ATTRIBUTES/{name}")
        for name, child in _children(obj):
            node.children.add(node_id=ids[id(child)], local_name=name)
        if _is_optimizer(obj):
            for ref, slot, var in _optimizer_slots(obj):
                ref_path = by_id.get(id(ref))
                if ref_path is None or id(var) in ids:
                    continue
                ids[id(var)] = len(nodes)
                slot_node = graph.nodes.add()
                nodes.append(slot_node)
                slot_node.attributes.add(
                    name="VARIABLE_VALUE",
                    full_name=_full_name(var),
                    checkpoint_key=_slot_key(ref_path, path, slot),
                )
                node.slot_variables.add(
                    original_variable_node_id=ids[id(ref)],
                    slot_name=slot,
                    slot_variable_node_id=ids[id(var)],
                )
    # a node has values when it or anything it reaches holds one (TF's
    # has_checkpoint_values): propagate from the value holders up the reversed edges
    parents: dict = collections.defaultdict(list)
    for i, node in enumerate(nodes):
        for c in node.children:
            parents[c.node_id].append(i)
        for s in node.slot_variables:
            parents[s.slot_variable_node_id].append(i)
    has = {i for i, node in enumerate(nodes) if len(node.attributes)}
    todo = list(has)
    while todo:
        for p in parents[todo.pop()]:
            if p not in has:
                has.add(p)
                todo.append(p)
    for i, node in enumerate(nodes):
        node.has_checkpoint_values.value = i in has
    return graph.SerializeToString()


def _full_name(var) -> str:
    name = str(var.name)
    return name[:-2] if name.endswith(":0") else name


def _save(root, prefix: str, options=None) -> str:
    from rill.train import tensor_bundle

    prefix = os.fspath(prefix)
    d = os.path.dirname(prefix)
    if d:
        os.makedirs(d, exist_ok=True)
    tensor_bundle.remove_stale_temporaries(d, os.path.basename(prefix))
    entries, _ = _gather(root)
    tensors = [
        (key, np.asarray(var._value), var.dtype) for key, (var, _) in sorted(entries.items())
    ]
    graph = np.array(_graph_proto(root, entries), dtype=object)
    tensors.append((_GRAPH_KEY, graph, _d.string))
    callback = getattr(options, "experimental_sharding_callback", None)
    if callback is None:
        tensor_bundle.write_bundle(prefix, tensors)
    else:
        tensor_bundle.write_sharded_bundle(prefix, _shard(callback, tensors, entries, root))
    return prefix


def _shard(callback, tensors, entries, root) -> list:
    """The data files' contents as ``callback`` (a ``ShardingCallback``) groups the
    tensors: per shard, ``(key, slice_spec, array, dtype)``."""
    from rill.core.convert import constant
    from rill.device_spec import DeviceSpec
    from rill.train.checkpoint_view import ShardableTensor

    device = DeviceSpec.from_string("/job:localhost/replica:0/task:0/device:CPU:0")
    shardable = []
    for key, arr, dtype in tensors:
        t = constant(arr, dtype=dtype)
        trackable = entries[key][0] if key in entries else root
        shardable.append(ShardableTensor(None, t, dtype, device, key, t.shape, "", key, trackable))
    out = []
    for shard in callback(shardable):
        out.append(
            [
                (key, spec, np.asarray(t.numpy() if hasattr(t, "numpy") else t), _dtype_of(t))
                for key, slices in shard.items()
                for spec, t in slices.items()
                if t is not None  # recorded in the object graph, no value saved (as TF)
            ]
        )
    return out


def _dtype_of(t):
    return (
        t.dtype
        if hasattr(t, "dtype") and isinstance(t.dtype, _d.DType)
        else _d.as_dtype(np.asarray(t).dtype)
    )


def _saved_model_variables(path: str) -> str:
    """A SavedModel directory stands for the checkpoint of its variables, as in TF."""
    if os.path.isdir(path) and any(
        os.path.exists(os.path.join(path, f)) for f in ("saved_model.pb", "saved_model.pbtxt")
    ):
        return os.path.join(path, "variables", "variables")
    return path


def _not_found(prefix: str, context: str) -> NotFoundError:
    hint = (
        " It is a directory: pass a checkpoint prefix such as the result of "
        "tf.train.latest_checkpoint(directory)."
        if os.path.isdir(prefix)
        else ""
    )
    return NotFoundError(
        None,
        None,
        f"{context}Failed to find any matching files for {prefix} (no {prefix}.index).{hint} "
        "Please double-check that the path is correct. You may be missing the checkpoint "
        "suffix (e.g. the '-1' in 'path/to/ckpt-1').",
    )


def _Reader(prefix, context: str = ""):
    """The reader of the checkpoint ``prefix``: TF's tensor bundle, or rill's earlier
    format (a JSON index and a ``.npz``), told apart by the index's first byte."""
    from rill.train.tensor_bundle import BundleReader

    prefix = os.fspath(prefix)
    try:
        with open(prefix + ".index", "rb") as f:
            raw = f.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise _not_found(prefix, context) from None
    if raw[:1] == b"{":
        return _LegacyReader(prefix, raw)
    return _BundleCheckpoint(BundleReader(prefix, raw))


class _BundleCheckpoint:
    """A tensor bundle read as a checkpoint: its tensors plus the variable names its
    object graph records (what deferred Keras weights are matched by)."""

    def __init__(self, bundle):
        self._b = bundle
        self.prefix = bundle.prefix
        self.keys, self.has, self.shape, self.dtype = (
            bundle.keys,
            bundle.has,
            bundle.shape,
            bundle.dtype,
        )
        self.get = bundle.get
        self._names = None

    def full_name(self, key: str) -> str | None:
        if self._names is None:
            self._names = {}
            if self._b.has(_GRAPH_KEY):
                from google.protobuf.message import DecodeError

                from rill.core.protos import message_classes

                graph = message_classes()["TrackableObjectGraph"]()
                try:
                    graph.ParseFromString(self._b.get(_GRAPH_KEY).reshape(-1)[0])
                except (DecodeError, IndexError):
                    raise DataLossError(
                        None,
                        None,
                        f"Corrupted checkpoint {self.prefix}: its object graph "
                        f"({_GRAPH_KEY}) is unreadable.",
                    ) from None
                for node in graph.nodes:
                    for a in node.attributes:
                        self._names[a.checkpoint_key] = a.full_name
        return self._names.get(key)


class _LegacyReader:
    """rill's earlier checkpoints: ``<prefix>.index`` (JSON) and an uncompressed ``.npz``
    data file, both carrying a random token."""

    def __init__(self, prefix: str, raw: bytes):
        self.prefix = prefix
        try:
            index = json.loads(raw)
        except ValueError:
            index = None
        if not isinstance(index, dict) or index.get("format") != _FORMAT:
            raise DataLossError(
                None, None, f"{prefix}.index is neither a TensorFlow nor a rill checkpoint index."
            )
        self.index = index
        self.tensors: dict = index.get("tensors") or {}
        self._data = None

    def full_name(self, key: str) -> str | None:
        return self.tensors.get(key, {}).get("weight_name")

    def _load(self):
        if self._data is not None:
            return self._data
        import zipfile

        path = self.prefix + _DATA_SUFFIX
        try:
            with zipfile.ZipFile(path) as z:
                # np.savez stores members uncompressed, so no member can be larger than
                # the file: refuse anything else before NumPy allocates it
                if any(i.compress_type != zipfile.ZIP_STORED for i in z.infolist()):
                    raise ValueError("a member is compressed")
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except FileNotFoundError:
            raise NotFoundError(None, None, f"Checkpoint data file {path} is missing.") from None
        except (ValueError, OSError, zipfile.BadZipFile, KeyError, EOFError) as e:
            raise DataLossError(None, None, f"Checkpoint data file {path} is corrupt: {e}") from e
        token = data.pop("__token__", None)
        if token is None or str(token) != self.index.get("token"):
            raise DataLossError(
                None,
                None,
                f"Checkpoint {self.prefix}: the data file does not belong to the index (the "
                "checkpoint was only partly written).",
            )
        self._data = data
        return data

    def keys(self) -> list:
        return sorted([*self.tensors, _GRAPH_KEY])

    def has(self, key: str) -> bool:
        return key == _GRAPH_KEY or key in self.tensors

    def _info(self, key: str) -> dict:
        info = self.tensors.get(key)
        if not isinstance(info, dict):
            raise NotFoundError(None, None, f"Key {key} not found in checkpoint {self.prefix}")
        return info

    def shape(self, key: str) -> list:
        return [] if key == _GRAPH_KEY else list(self._info(key)["shape"])

    def dtype(self, key: str):
        return _d.string if key == _GRAPH_KEY else _d.as_dtype(self._info(key)["dtype"])

    def get(self, key: str) -> np.ndarray:
        if key == _GRAPH_KEY:
            return np.array(json.dumps(self.index.get("object_graph")).encode(), dtype=object)
        info = self._info(key)
        data = self._load()
        try:
            raw = data[info["entry"]]
            if info.get("encoding") == "bytes":
                lengths = data[info["entry"] + ".len"]
                buf = raw.tobytes()
                ends = np.cumsum(lengths)
                items = [buf[e - n : e] for e, n in zip(ends.tolist(), lengths.tolist())]
                out = np.empty(len(items), dtype=object)
                out[:] = items
                return out.reshape(info["shape"])
            return raw.reshape(info["shape"])
        except (KeyError, ValueError, TypeError) as e:
            raise DataLossError(
                None, None, f"Checkpoint {self.prefix}: tensor '{key}' is corrupt: {e}"
            ) from None


# --------------------------------------------------------------------------------------
# Restoring
# --------------------------------------------------------------------------------------


def _assign(var, value: np.ndarray, key: str = "") -> None:
    shape = var.shape
    if not shape.is_compatible_with(value.shape):
        raise ValueError(
            f"Received incompatible tensor with shape {value.shape} when attempting to "
            f"restore variable with shape {shape} and name {var.name} (checkpoint key {key})."
        )
    if var.dtype.is_string != (value.dtype == object) or (
        value.dtype != object and value.dtype != var.dtype.as_numpy_dtype
    ):
        raise ValueError(
            f"Checkpoint key {key} holds a {value.dtype} value, which cannot be restored into "
            f"variable {var.name} of dtype {var.dtype.name}."
        )
    with init_scope():  # restoring is eager, even while a function is being traced
        var.assign(value)


def _check_declared(var, reader, key: str) -> None:
    """Refuse a stored value whose declared shape or dtype cannot be restored into
    ``var``, before its bytes are read."""
    shape, dtype = reader.shape(key), reader.dtype(key)
    if not var.shape.is_compatible_with(shape):
        raise ValueError(
            f"Received incompatible tensor with shape {tuple(shape)} when attempting to "
            f"restore variable with shape {var.shape} and name {var.name} (checkpoint key "
            f"{key} in {reader.prefix})."
        )
    if dtype is not var.dtype:
        raise ValueError(
            f"Checkpoint key {key} in {reader.prefix} holds a {dtype.name} value, which "
            f"cannot be restored into variable {var.name} of dtype {var.dtype.name}."
        )


def _stored_weight_name(layer, full_name) -> str | None:
    """The ``add_weight`` name of a stored variable named ``full_name`` in ``layer``."""
    if not full_name:
        return None
    prefix = f"{layer.name}/"
    return (
        full_name[len(prefix) :] if full_name.startswith(prefix) else full_name.rpartition("/")[2]
    )


class _OptimizerPending:
    """Values for an optimizer's slots (and other variables) that do not exist yet.
    ``Optimizer.build`` calls ``attach`` before making slots; each slot made afterwards
    takes its value, matched through the checkpoint path of its model variable."""

    def __init__(self, root):
        self.root = root
        self.slots: dict[tuple, tuple] = {}  # (model variable path, slot name) -> (value, key)
        self.extras: dict[str, tuple] = {}  # variable name -> (value, key)
        self.applied: list[str] = []  # keys restored so far

    def remaining(self) -> list:
        return [k for _, k in self.slots.values()] + [k for _, k in self.extras.values()]

    def attach(self, opt, variables) -> None:
        cls = type(opt)
        paths = {}
        inside = [0]

        def path_of(v):
            if id(v) not in paths:
                paths.update({i: p for i, p in _walk(self.root)[1].items()})
            return paths.get(id(v))

        def done():
            if not self.slots and not self.extras:
                opt.__dict__.pop("add_variable_from_reference", None)
                opt.__dict__.pop("add_variable", None)
                if opt.__dict__.get("_deferred_restore") is self:
                    del opt.__dict__["_deferred_restore"]

        def add_variable_from_reference(reference_variable, name=None, initializer="zeros"):
            inside[0] += 1
            try:
                slot = cls.add_variable_from_reference(
                    opt, reference_variable, name=name, initializer=initializer
                )
            finally:
                inside[0] -= 1
            hit = self.slots.pop((path_of(reference_variable), name or "var"), None)
            if hit is not None:
                _assign(slot, hit[0], hit[1])
                self.applied.append(hit[1])
                done()
            return slot

        def add_variable(shape, initializer="zeros", dtype=None, aggregation="none", name=None):
            var = cls.add_variable(opt, shape, initializer, dtype, aggregation, name)
            if not inside[0]:
                hit = self.extras.pop(_escape(name or "variable"), None)
                if hit is not None:
                    _assign(var, hit[0], hit[1])
                    self.applied.append(hit[1])
                    done()
            return var

        opt.__dict__["add_variable_from_reference"] = add_variable_from_reference
        opt.__dict__["add_variable"] = add_variable


def _restore(ckpt, reader: _Reader) -> CheckpointLoadStatus:
    by_path, by_id = _walk(ckpt)
    live, _ = _gather(ckpt)
    matched, unresolved, deferred, optimizers = [], [], [], []
    for key in reader.keys():
        if key == _GRAPH_KEY:
            continue
        target = live.get(key)
        if target is not None:
            _check_declared(target[0], reader, key)  # before reading: no allocation bombs
            _assign(target[0], reader.get(key), key)
            matched.append(key)
            continue
        if f"/{_SLOT}/" in key:
            ref_path, _, rest = key.partition(f"/{_SLOT}/")
            opt_path, _, slot = rest[: -len(_VALUE) - 1].rpartition("/")
            opt = by_path.get(opt_path)
            if _is_optimizer(opt) and not opt.built:
                pending = _pending_for(opt, ckpt, optimizers)
                pending.slots[(ref_path, slot.replace(".S", "/").replace("..", "."))] = (
                    reader.get(key),
                    key,
                )
                continue
        elif key.endswith("/" + _VALUE):
            parent_path, _, child = key[: -len(_VALUE) - 1].rpartition("/")
            parent = by_path.get(parent_path)
            if _is_layer(parent):
                name = _stored_weight_name(parent, reader.full_name(key)) or child
                holder = parent.__dict__.setdefault("_deferred_restore", {})
                holder[name] = reader.get(key)
                deferred.append((holder, name, key))
                continue
            if _is_optimizer(parent) and not parent.built:
                _pending_for(parent, ckpt, optimizers).extras[child] = (reader.get(key), key)
                continue
        unresolved.append(key)
    return CheckpointLoadStatus(ckpt, reader, matched, unresolved, deferred, optimizers)


def _pending_for(opt, root, optimizers: list) -> _OptimizerPending:
    pending = opt.__dict__.get("_deferred_restore")
    if not isinstance(pending, _OptimizerPending):
        pending = _OptimizerPending(root)
        opt.__dict__["_deferred_restore"] = pending
    if all(p is not pending for p in optimizers):
        optimizers.append(pending)
    return pending


def _show(items, limit=10) -> str:
    items = list(items)
    shown = ", ".join(str(x) for x in items[:limit])
    more = f" (and {len(items) - limit} more)" if len(items) > limit else ""
    return f"[{shown}]{more}"


class CheckpointLoadStatus:
    """What a ``restore``/``read`` matched; its assertions check the match (including
    values restored later into objects created after the restore)."""

    def __init__(self, ckpt, reader, matched, unresolved, deferred, optimizers):
        self._ckpt = ckpt
        self._reader = reader
        self._matched = matched
        self._unresolved = unresolved
        self._deferred = deferred
        self._optimizers = optimizers
        self._partial = False

    def _pending_keys(self) -> list:
        out = [key for holder, name, key in self._deferred if name in holder]
        for p in self._optimizers:
            out.extend(p.remaining())
        return out

    def _unbound_objects(self) -> list:
        live, _ = _gather(self._ckpt)
        return [(key, var) for key, (var, _) in live.items() if not self._reader.has(key)]

    def _raise_unbound(self):
        unbound = self._unbound_objects()
        if unbound:
            raise AssertionError(
                f"Found {len(unbound)} Python objects that were not bound to checkpointed "
                "values, likely due to changes in the Python program. Unmatched objects: "
                + _show(f"{v!r} (at {k})" for k, v in unbound)
            )

    def assert_consumed(self) -> CheckpointLoadStatus:
        """Every value in the checkpoint was restored and every object got a value."""
        self._raise_unbound()
        missing = self._unresolved + self._pending_keys()
        if missing:
            raise AssertionError(
                f"Unresolved values in checkpoint {self._reader.prefix}: {len(missing)} "
                "checkpointed values were not restored into any Python object: " + _show(missing)
            )
        return self

    def assert_existing_objects_matched(self) -> CheckpointLoadStatus:
        """Every object that exists now got a value (the checkpoint may hold more)."""
        self._raise_unbound()
        return self

    def assert_nontrivial_match(self) -> CheckpointLoadStatus:
        """Something besides the root (and its save counter) was matched."""
        applied = [k for k in self._matched if not k.startswith("save_counter/")]
        pending = set(self._pending_keys())
        applied += [k for _, _, k in self._deferred if k not in pending]
        applied += [k for p in self._optimizers for k in p.applied]
        if not applied:
            unbound = [v for _, v in self._unbound_objects()]
            raise AssertionError(
                "Nothing except the root object matched a checkpointed value. Typically this "
                "means that the checkpoint does not match the Python program. The following "
                f"objects have no matching checkpointed value: {_show(unbound)}; the "
                f"checkpoint holds {_show(self._unresolved)}"
            )
        return self

    def expect_partial(self) -> CheckpointLoadStatus:
        """Mark a partial restore as intended."""
        self._partial = True
        return self

    def run_restore_ops(self, session=None) -> None:
        """Eager restores run immediately: nothing to do."""
        return None

    def initialize_or_restore(self, session=None) -> None:
        return None


class InitializationOnlyStatus:
    """The status of ``restore(None)``: nothing is restored; variables keep their initial
    values."""

    _MSG = "No checkpoint specified (save_path=None); nothing is being restored."

    def assert_consumed(self):
        raise AssertionError(self._MSG)

    def assert_existing_objects_matched(self):
        raise AssertionError(self._MSG)

    def assert_nontrivial_match(self):
        raise AssertionError(self._MSG)

    def expect_partial(self) -> InitializationOnlyStatus:
        return self

    def run_restore_ops(self, session=None):
        raise AssertionError(
            "No checkpoint specified, so no restore ops are available (save_path=None to "
            "Saver.restore)."
        )

    def initialize_or_restore(self, session=None) -> None:
        return None


# --------------------------------------------------------------------------------------
# Checkpoint
# --------------------------------------------------------------------------------------


def _check_trackable(name: str, value) -> None:
    if _is_iterator(value):  # count its elements from now on: its position is its state
        from rill.data.iterator_ops import track_position

        track_position(value)
    if not _trackable(value):
        raise ValueError(
            f"`Checkpoint` was expecting {name} to be a trackable object (a tf.Variable, "
            "tf.Module, Keras layer, model or optimizer, tf.train.Checkpoint, or a list/"
            f"tuple/dict of them), got {value!r}."
        )


@tf_export("train.experimental.PythonState")
class PythonState(abc.ABC):
    """Python state saved in a checkpoint: subclasses implement ``serialize()`` (returning a
    string) and ``deserialize(string_value)`` (given the bytes saved)."""

    @abc.abstractmethod
    def serialize(self):
        """The state as a string (``str`` or ``bytes``)."""

    @abc.abstractmethod
    def deserialize(self, string_value):
        """Set the state from the bytes ``serialize`` returned."""

    def _serialize_to_tensors(self) -> dict:
        value = self.serialize()
        if isinstance(value, str):
            value = value.encode()
        if not isinstance(value, bytes):
            raise TypeError(
                f"{type(self).__name__}.serialize() must return a string, got {value!r}"
            )
        return {"py_state": np.array(value, dtype=object)}

    def _restore_from_tensors(self, restored_tensors: dict):
        value = np.asarray(restored_tensors["py_state"], dtype=object).reshape(-1)[0]
        return self.deserialize(value)


@tf_export("train.Checkpoint")
class Checkpoint:
    """Groups trackable objects (keyword arguments) so they save and restore together."""

    def __init__(self, root=None, **kwargs):
        object.__setattr__(self, "_deps", {})
        object.__setattr__(self, "_save_counter", None)
        if root is not None:
            _check_trackable("root", root)
            if is_variable(root):
                raise ValueError("`Checkpoint` root must hold variables, not be a variable.")
        object.__setattr__(self, "_root", root)
        for k, v in sorted(kwargs.items()):
            _check_trackable(k, v)
            if k == "save_counter":
                raise ValueError("`save_counter` is reserved by tf.train.Checkpoint.")
            setattr(self, k, v)

    def __setattr__(self, name, value):
        if not name.startswith("_") and _trackable(value):
            _check_trackable(name, value)
            self._deps[name] = value
        elif name in self._deps:
            del self._deps[name]
        object.__setattr__(self, name, value)

    @property
    def save_counter(self) -> Variable:
        """Number of ``save()`` calls (an int64 variable, saved with the checkpoint)."""
        if self._save_counter is None:
            with init_scope():
                var = Variable(np.int64(0), trainable=False, name="save_counter", dtype=_d.int64)
            object.__setattr__(self, "_save_counter", var)
        return self._save_counter

    def write(self, file_prefix, options=None) -> str:
        """Save to ``file_prefix`` (no counter, no ``checkpoint`` state file)."""
        return _save(self, file_prefix, options)

    def save(self, file_prefix, options=None) -> str:
        """Increment ``save_counter``, write ``f"{file_prefix}-{n}"`` and record it in the
        directory's ``checkpoint`` file; returns the path."""
        from rill.train.tensor_bundle import remove_stale_temporaries

        file_prefix = os.fspath(file_prefix)
        directory, stem = os.path.split(file_prefix)
        remove_stale_temporaries(directory, stem + "-")
        remove_stale_temporaries(directory, "checkpoint")
        counter = self.save_counter
        with init_scope():
            counter.assign_add(1)
        path = self.write(f"{file_prefix}-{int(counter.numpy())}", options=options)
        _write_state(os.path.dirname(path) or ".", path, [path])
        return path

    def read(self, save_path) -> CheckpointLoadStatus:
        """Restore from ``save_path`` (as written by ``write``), without creating
        ``save_counter``."""
        save_path = _saved_model_variables(os.fspath(save_path))
        reader = _Reader(save_path, f"Error when restoring from checkpoint at {save_path}: ")
        return _restore(self, reader)

    def restore(self, save_path, options=None):
        """Restore from ``save_path``; ``None`` restores nothing. Values for objects not
        created yet are applied when they are."""
        if save_path is None:
            return InitializationOnlyStatus()
        self.save_counter  # noqa: B018 - restore always creates the counter, as TF does
        return self.read(save_path)

    def sync(self) -> None:
        return None


# --------------------------------------------------------------------------------------
# The ``checkpoint`` state file
# --------------------------------------------------------------------------------------


class CheckpointState:
    """The contents of a ``checkpoint`` state file."""

    def __init__(
        self,
        model_checkpoint_path="",
        all_model_checkpoint_paths=(),
        all_model_checkpoint_timestamps=(),
        last_preserved_timestamp=0.0,
    ):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths)
        self.all_model_checkpoint_timestamps = list(all_model_checkpoint_timestamps)
        self.last_preserved_timestamp = last_preserved_timestamp

    def _text(self) -> str:
        def q(s):
            return '"' + codecs.escape_encode(str(s).encode())[0].decode("ascii") + '"'

        lines = [f"model_checkpoint_path: {q(self.model_checkpoint_path)}"]
        lines += [f"all_model_checkpoint_paths: {q(p)}" for p in self.all_model_checkpoint_paths]
        lines += [
            f"all_model_checkpoint_timestamps: {float(t)!r}"
            for t in self.all_model_checkpoint_timestamps
        ]
        if self.last_preserved_timestamp:
            lines.append(f"last_preserved_timestamp: {float(self.last_preserved_timestamp)!r}")
        return "\n".join(lines) + "\n"

    __str__ = _text

    def __repr__(self):
        return self._text()

    @classmethod
    def _parse(cls, text: str, where: str) -> CheckpointState:
        st = cls()
        for line in text.splitlines():
            line = line.strip()
            if not line:
                continue
            field, sep, value = line.partition(":")
            value = value.strip()
            if not sep or field not in (
                "model_checkpoint_path",
                "all_model_checkpoint_paths",
                "all_model_checkpoint_timestamps",
                "last_preserved_timestamp",
            ):
                raise ValueError(f"Invalid checkpoint state loaded from {where}: {line!r}")
            if field.endswith("timestamps") or field == "last_preserved_timestamp":
                v = float(value)
            else:
                if len(value) < 2 or value[0] != '"' or value[-1] != '"':
                    raise ValueError(f"Invalid checkpoint state loaded from {where}: {line!r}")
                v = codecs.escape_decode(value[1:-1].encode())[0].decode()
            if field == "all_model_checkpoint_paths":
                st.all_model_checkpoint_paths.append(v)
            elif field == "all_model_checkpoint_timestamps":
                st.all_model_checkpoint_timestamps.append(v)
            else:
                setattr(st, field, v)
        return st


def _relative(path: str, directory: str) -> str:
    if os.path.dirname(os.path.abspath(path)) == os.path.abspath(directory):
        return os.path.basename(path)
    return path


def _write_state(
    directory, latest, paths, timestamps=(), last_preserved=0.0, latest_filename=None
) -> None:
    st = CheckpointState(
        _relative(latest, directory),
        [_relative(p, directory) for p in paths],
        timestamps,
        last_preserved,
    )
    from rill.train.tensor_bundle import atomic_write

    path = os.path.join(directory, latest_filename or "checkpoint")
    atomic_write(path, st._text().encode())


@tf_export("train.get_checkpoint_state")
def get_checkpoint_state(checkpoint_dir, latest_filename=None) -> CheckpointState | None:
    """The ``checkpoint`` file of ``checkpoint_dir`` (paths made absolute), or None."""
    checkpoint_dir = os.fspath(checkpoint_dir)
    path = os.path.join(checkpoint_dir, latest_filename or "checkpoint")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    st = CheckpointState._parse(text, path)
    if not st.model_checkpoint_path:
        raise ValueError(f"Invalid checkpoint state loaded from {checkpoint_dir}")

    def absolute(p):
        return p if os.path.isabs(p) else os.path.join(checkpoint_dir, p)

    st.model_checkpoint_path = absolute(st.model_checkpoint_path)
    st.all_model_checkpoint_paths = [absolute(p) for p in st.all_model_checkpoint_paths]
    return st


@tf_export("train.latest_checkpoint")
def latest_checkpoint(checkpoint_dir, latest_filename=None) -> str | None:
    """The prefix of the newest checkpoint recorded in ``checkpoint_dir``, or None."""
    st = get_checkpoint_state(checkpoint_dir, latest_filename)
    if st is not None and os.path.exists(st.model_checkpoint_path + ".index"):
        return st.model_checkpoint_path
    return None


# --------------------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------------------


def _reader_for(ckpt_dir_or_file) -> _Reader:
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        latest = latest_checkpoint(path)
        if latest is None:
            raise ValueError(
                f"Couldn't find 'checkpoint' file or checkpoints in given directory {path}"
            )
        path = latest
    return _Reader(path, "Unsuccessful TensorSliceReader constructor: ")


class CheckpointReader:
    """Reads the tensors of one checkpoint by key."""

    def __init__(self, reader: _Reader):
        self._r = reader

    def get_tensor(self, name: str) -> np.ndarray:
        """The stored value (a NumPy array; a NumPy scalar for shape ``[]``)."""
        arr = self._r.get(name)
        return arr[()] if arr.ndim == 0 else arr

    def has_tensor(self, name: str) -> bool:
        return self._r.has(name)

    def get_variable_to_shape_map(self) -> dict:
        return {k: self._r.shape(k) for k in self._r.keys()}

    def get_variable_to_dtype_map(self) -> dict:
        return {k: self._r.dtype(k) for k in self._r.keys()}


@tf_export("train.load_checkpoint")
def load_checkpoint(ckpt_dir_or_file) -> CheckpointReader:
    """A reader for a checkpoint prefix, or the latest checkpoint in a directory."""
    return CheckpointReader(_reader_for(ckpt_dir_or_file))


@tf_export("train.list_variables")
def list_variables(ckpt_dir_or_file) -> list:
    """``(key, shape)`` of every value in the checkpoint, sorted by key."""
    r = _reader_for(ckpt_dir_or_file)
    return [(k, r.shape(k)) for k in r.keys()]


@tf_export("train.load_variable")
def load_variable(ckpt_dir_or_file, name: str):
    """The value stored under ``name`` (a trailing ``:0`` is ignored)."""
    if name.endswith(":0"):
        name = name[:-2]
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)


# --------------------------------------------------------------------------------------
# CheckpointManager
# --------------------------------------------------------------------------------------


def _delete_checkpoint(prefix: str) -> None:
    for f in [prefix + ".index", *glob.glob(glob.escape(prefix) + ".data-*")]:
        try:
            os.remove(f)
        except FileNotFoundError:
            pass


@tf_export("train.CheckpointManager")
class CheckpointManager:
    """Numbered saves of a ``Checkpoint`` in one directory, keeping the newest
    ``max_to_keep`` (plus one every ``keep_checkpoint_every_n_hours``)."""

    def __init__(
        self,
        checkpoint: Checkpoint,
        directory,
        max_to_keep: int | None = 5,
        keep_checkpoint_every_n_hours: float | None = None,
        checkpoint_name: str = "ckpt",
        step_counter=None,
        checkpoint_interval: int | None = None,
        init_fn=None,
        last_checkpoint_step=None,
    ):
        if not isinstance(checkpoint, Checkpoint):
            raise TypeError(
                f"CheckpointManager expects a tf.train.Checkpoint, got {type(checkpoint)}."
            )
        if max_to_keep is not None and (not isinstance(max_to_keep, int) or max_to_keep <= 0):
            raise ValueError(
                f"Expected a positive integer or `None` for `max_to_keep`, got {max_to_keep}."
            )
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError(
                "`step_counter` should be passed if `checkpoint_interval` is not None."
            )
        self._checkpoint = checkpoint
        self._directory = os.fspath(directory)
        self._max_to_keep = max_to_keep
        self._keep_every_s = (
            None if keep_checkpoint_every_n_hours is None else keep_checkpoint_every_n_hours * 3600
        )
        self._prefix = os.path.join(self._directory, checkpoint_name)
        self._name = checkpoint_name
        self._step_counter = step_counter
        self._checkpoint_interval = checkpoint_interval
        self._init_fn = init_fn
        self._last_checkpoint_step = (
            None if last_checkpoint_step is None else int(np.asarray(last_checkpoint_step))
        )
        self._maybe_delete: collections.OrderedDict = collections.OrderedDict()
        self._remove_stale_temporaries()
        now = time.time()
        st = get_checkpoint_state(self._directory)
        if st is None:
            self._latest_checkpoint = None
            self._last_preserved_timestamp = now
            return
        self._latest_checkpoint = st.model_checkpoint_path
        stamps = st.all_model_checkpoint_timestamps
        if len(stamps) != len(st.all_model_checkpoint_paths):
            stamps = [now] * len(st.all_model_checkpoint_paths)
        for p, t in zip(st.all_model_checkpoint_paths, stamps):
            self._maybe_delete[p] = t
        self._last_preserved_timestamp = st.last_preserved_timestamp or now

    @property
    def directory(self) -> str:
        return self._directory

    @property
    def checkpoint(self) -> Checkpoint:
        return self._checkpoint

    @property
    def checkpoint_interval(self) -> int | None:
        return self._checkpoint_interval

    @property
    def latest_checkpoint(self) -> str | None:
        """The prefix of the newest checkpoint, or None."""
        return self._latest_checkpoint

    @property
    def checkpoints(self) -> list:
        """Prefixes of the managed checkpoints, oldest first."""
        return list(self._maybe_delete)

    def _record_state(self) -> None:
        os.makedirs(self._directory, exist_ok=True)
        _write_state(
            self._directory,
            self._latest_checkpoint,
            list(self._maybe_delete),
            list(self._maybe_delete.values()),
            self._last_preserved_timestamp,
        )

    def _sweep(self) -> list:
        """Drop the checkpoints beyond ``max_to_keep`` from the managed list; returns the
        prefixes whose files to delete once the state file no longer names them."""
        doomed: list = []
        if self._max_to_keep is None:
            return doomed
        while len(self._maybe_delete) > self._max_to_keep:
            path, stamp = self._maybe_delete.popitem(last=False)
            if (
                self._keep_every_s is not None
                and stamp - self._keep_every_s >= self._last_preserved_timestamp
            ):
                self._last_preserved_timestamp = stamp  # kept for good, no longer managed
                continue
            doomed.append(path)
        return doomed

    def _remove_stale_temporaries(self) -> None:
        from rill.train.tensor_bundle import remove_stale_temporaries

        remove_stale_temporaries(self._directory, self._name)
        remove_stale_temporaries(self._directory, "checkpoint")

    def save(self, checkpoint_number=None, check_interval: bool = True, options=None) -> str | None:
        """Write a numbered checkpoint and delete the ones beyond ``max_to_keep``; None
        when ``checkpoint_interval`` steps have not passed since the last save."""
        step = None
        if self._checkpoint_interval is not None:
            step = int(np.asarray(self._step_counter))
            if (
                check_interval
                and self._last_checkpoint_step is not None
                and step < self._last_checkpoint_step + self._checkpoint_interval
            ):
                return None
        counter = self._checkpoint.save_counter
        with init_scope():
            counter.assign_add(1)
        number = counter if checkpoint_number is None else checkpoint_number
        self._remove_stale_temporaries()
        path = self._checkpoint.write(f"{self._prefix}-{int(np.asarray(number))}", options=options)
        self._latest_checkpoint = path
        self._maybe_delete.pop(path, None)
        self._maybe_delete[path] = time.time()
        if step is not None:
            self._last_checkpoint_step = step
        doomed = self._sweep()
        # the state file names the new checkpoint before any old one is deleted, so at
        # every instant latest_checkpoint() finds a complete checkpoint
        self._record_state()
        for old in doomed:
            _delete_checkpoint(old)
        return path

    def restore_or_initialize(self) -> str | None:
        """Restore the latest checkpoint and return its path; without one, run
        ``init_fn`` (if given) and return None."""
        if self._latest_checkpoint is not None:
            self._checkpoint.restore(self._latest_checkpoint)
            if self._checkpoint_interval is not None:
                self._last_checkpoint_step = int(np.asarray(self._step_counter))
            return self._latest_checkpoint
        if self._init_fn is not None:
            self._init_fn()
        return None

    def sync(self) -> None:
        return None


# ``tf.train.experimental`` (PythonState is registered above).
import rill.train.experimental  # noqa: E402, F401
