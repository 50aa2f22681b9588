"""``tf.train.TrackableView`` and ``tf.train.CheckpointView``: the object graph of live
trackables, and the ``TrackableObjectGraph`` a TF2 checkpoint stores, walked and
matched against each other by child names (as ``Checkpoint.restore`` matches them)."""

from __future__ import annotations

import abc
import collections
import collections.abc
import dataclasses
import logging
import math
import os
import warnings

from rill.ops._op import tf_export

__all__ = [
    "CheckpointView",
    "MaxShardSizePolicy",
    "ShardByTaskPolicy",
    "ShardableTensor",
    "ShardingCallback",
    "TrackableView",
]

_log = logging.getLogger(__name__)


@tf_export("train.TrackableView")
class TrackableView:
    """The trackable objects reachable from ``root`` (variables, modules, layers,
    optimizers, checkpoints...), by the names a checkpoint records them under."""

    def __init__(self, root):
        self._root = root

    @classmethod
    def children(cls, obj, save_type="checkpoint", **kwargs) -> dict:
        """``{name: child}`` of the trackables ``obj`` holds directly."""
        from rill.core.variables import is_variable
        from rill.train.checkpoint import _children

        if is_variable(obj):
            return {}
        return dict(_children(obj))

    @property
    def root(self):
        """The object this view starts from."""
        return self._root

    def descendants(self) -> list:
        """Every object reachable from the root (the root first), breadth first."""
        from rill.train.checkpoint import _walk

        return list(_walk(self._root)[0].values())


@tf_export("train.CheckpointView")
class CheckpointView:
    """The object graph stored in the TF2 checkpoint ``save_path``: node 0 is the root,
    each node has named children (node ids)."""

    def __init__(self, save_path):
        from rill.core.protos import message_classes
        from rill.train.checkpoint import _GRAPH_KEY, _Reader

        reader = _Reader(os.fspath(save_path), "CheckpointView")
        if not reader.has(_GRAPH_KEY):
            raise ValueError(
                f'The specified checkpoint "{save_path}" does not appear to be object-based '
                f'(saved with TF2) since it is missing the key "{_GRAPH_KEY}". Likely it was '
                "created with the TF1 name-based saver and does not contain an object "
                "dependency graph."
            )
        graph = message_classes()["TrackableObjectGraph"]()
        graph.ParseFromString(reader.get(_GRAPH_KEY).reshape(-1)[0])
        self._object_graph_proto = graph

    def children(self, node_id) -> dict:
        """``{local_name: child node id}`` of node ``node_id``."""
        return {c.local_name: c.node_id for c in self._object_graph_proto.nodes[node_id].children}

    def descendants(self) -> list:
        """Node ids reachable from the root (0 first), breadth first."""
        return list(self._descendants_with_paths())

    def _descendants_with_paths(self) -> dict:
        paths = {0: "root"}
        todo = collections.deque([0])
        while todo:
            nid = todo.popleft()
            for c in self._object_graph_proto.nodes[nid].children:
                if c.node_id in paths:
                    continue
                paths[c.node_id] = f"{paths[nid]}.{c.local_name}"
                todo.append(c.node_id)
        return paths

    def match(self, obj) -> dict:
        """``{node_id: trackable}`` for the checkpoint nodes that ``obj``'s graph has at
        the same child-name paths (the root always matches)."""
        from rill.train.checkpoint import _trackable

        if not _trackable(obj):
            raise ValueError(f"Expected a Trackable, got {obj} of type {type(obj)}.")
        matched = {0: obj}
        todo = collections.deque([(0, obj)])
        visited = set()
        while todo:
            nid, live = todo.popleft()
            live_children = TrackableView.children(live)
            for name, child_id in self.children(nid).items():
                if child_id in visited or child_id == 0 or name not in live_children:
                    continue
                have = matched.get(child_id)
                if have is None:
                    matched[child_id] = live_children[name]
                    todo.append((child_id, live_children[name]))
                elif have is not live_children[name]:
                    warnings.warn(
                        "Inconsistent references when matching the checkpoint into this "
                        f"object graph: node {child_id} reached as both {have} and "
                        f"{live_children[name]}",
                        stacklevel=2,
                    )
            visited.add(nid)
        return matched

    def diff(self, obj) -> tuple:
        """``(matched, node ids only in the checkpoint, trackables only in obj)``."""
        matched = self.match(obj)
        only_ckpt = [n for n in self.descendants() if n not in matched]
        ids = {id(v) for v in matched.values()}
        only_live = [t for t in TrackableView(obj).descendants() if id(t) not in ids]
        return matched, only_ckpt, only_live


# ======================================================================================
# tf.train.experimental sharding callbacks (for CheckpointOptions'
# experimental_sharding_callback): a policy maps the tensors to save to shards, each
# shard {checkpoint_key: {slice_spec: tensor}}.
# ======================================================================================


@tf_export("train.experimental.ShardableTensor")
@dataclasses.dataclass(frozen=True)
class ShardableTensor:
    """One tensor to save, with what a sharding policy may group it by."""

    _tensor_save_spec: object
    tensor: object
    dtype: object
    device: object
    name: str
    shape: object
    slice_spec: object
    checkpoint_key: str
    trackable: object

    def __hash__(self) -> int:
        return hash((self.name, self.dtype, str(self.device), self.checkpoint_key))


@tf_export("train.experimental.ShardingCallback")
class ShardingCallback(abc.ABC):
    """A checkpoint sharding policy: ``__call__(shardable_tensors)`` returns a list of
    shards, each ``{checkpoint_key: {slice_spec: tensor}}``."""

    @property
    @abc.abstractmethod
    def description(self) -> str:
        """A text description of the policy."""

    @abc.abstractmethod
    def __call__(self, shardable_tensors):
        """The shards for ``shardable_tensors``."""

    def __hash__(self) -> int:
        h = hash(self.description)
        # a policy's identity is its description and its plain attributes
        for name, value in vars(self).items():
            if callable(value):
                continue
            h ^= hash(name)
            if isinstance(value, collections.abc.Hashable):
                h ^= hash(value)
        return h


@tf_export("train.experimental.ShardByTaskPolicy")
class ShardByTaskPolicy(ShardingCallback):
    """All tensors in one shard per task (rill runs one task: one shard)."""

    @property
    def description(self) -> str:
        return "Split tensors into shards based on their device spec task."

    def __call__(self, shardable_tensors):
        shard: dict = {}
        for t in shardable_tensors:
            shard.setdefault(t.checkpoint_key, {})[t.slice_spec] = t.tensor
        return [shard]


@tf_export("train.experimental.MaxShardSizePolicy")
class MaxShardSizePolicy(ShardingCallback):
    """Shards of at most ``max_shard_size`` bytes: tensors fill shards in order, and one
    that does not fit is cut into slices along the axis giving the fewest pieces.

    A shard may still exceed the limit when it holds a single scalar (or string) larger
    than it, or the object graph, whose size is not counted (as in TF)."""

    def __init__(self, max_shard_size: int):
        self.max_shard_size = max_shard_size

    @property
    def description(self) -> str:
        return "Split tensors into shards with a max shard size."

    def __call__(self, shardable_tensors):
        return _MaxSizePartitioner(self.max_shard_size).shards(shardable_tensors)


class _MaxSizePartitioner:
    """One run of ``MaxShardSizePolicy``: fills ``self.filled`` shard by shard; tensors
    whose smallest piece exceeds the limit go alone into ``self.oversized``."""

    def __init__(self, max_shard_size: int):
        self.max = max_shard_size
        self.filled: list = [{}]
        self.oversized: list = []
        self.room = max_shard_size  # bytes left in the last filled shard

    def _new_shard(self) -> None:
        self.filled.append({})
        self.room = self.max

    def shards(self, shardable_tensors) -> list:
        for t in shardable_tensors:
            self._place(t)
        return (self.filled if self.filled[0] else []) + self.oversized

    def _sizes(self, t, shape) -> tuple:
        """``(bytes per element, total bytes)``; strings count their bytes, the largest
        element standing for every element when cutting."""
        from rill.train.checkpoint import _GRAPH_KEY

        dtype = _as_dtype(t.dtype)
        # the object graph is serialized after sharding, and variants have no byte size
        if t.checkpoint_key == _GRAPH_KEY or dtype.is_variant:
            return 0, 0
        if dtype.is_string:
            import numpy as np

            flat = np.asarray(getattr(t.tensor, "numpy", lambda: t.tensor)()).reshape(-1)
            lengths = [len(x.encode() if isinstance(x, str) else x) for x in flat.tolist()]
            return max(lengths, default=0), sum(lengths)
        return dtype.size, _prod(shape) * dtype.size

    def _place(self, t) -> None:
        from rill.train.tensor_bundle import parse_slice_spec

        key, spec = t.checkpoint_key, t.slice_spec
        if spec:  # already a slice: keep the offsets relative to the whole tensor
            full, extents = parse_slice_spec(spec)
            shape = [n if ln < 0 else ln for n, (_, ln) in zip(full, extents)]
            origin = [s for s, _ in extents]
        else:
            full = shape = [int(n) for n in _shape_list(t.shape)]
            origin = [0] * len(shape)
        item, total = self._sizes(t, shape)
        if not shape:  # a scalar cannot be cut
            if total > self.max:
                _log.warning(
                    "Tensor %s is a %s scalar of %s bytes, more than the max shard size %s: "
                    "it gets a shard of its own.",
                    key,
                    _as_dtype(t.dtype).name,
                    total,
                    self.max,
                )
                self.oversized.append({key: {spec: t.tensor}})
                return
            if total > self.room:
                self._new_shard()
            self.filled[-1].setdefault(key, {})[spec] = t.tensor
            self.room -= total
            return
        cut = _Cut(t.tensor, key, full, shape, origin, item)
        while cut.nbytes() > self.room:
            axis, size = cut.next_part(self.room)
            if size == 0 and self.room == self.max:
                # not even one slice of the best axis fits an empty shard (TF loops here
                # for ever): cut single slices along the axis with the smallest ones
                axis, size = max(range(len(cut.shape)), key=lambda a: cut.shape[a]), 1
            if size == 0:
                self._new_shard()
                continue
            spec_i, piece, nbytes = cut.take(axis, size)
            if nbytes > self.max:
                _log.warning(
                    "Tensor %s's smallest slice %s has %s bytes, more than the max shard "
                    "size %s: it gets a shard of its own.",
                    key,
                    spec_i,
                    nbytes,
                    self.max,
                )
                self.oversized.append({key: {spec_i: piece}})
                continue
            self.filled[-1].setdefault(key, {})[spec_i] = piece
            self.room -= nbytes
            if self.room == 0:
                self._new_shard()
        left = cut.nbytes()
        if _prod(cut.shape) > 0:  # the rest, as one slice (even when it is all of it)
            spec_i, piece, _ = cut.take(0, cut.shape[0])
            self.filled[-1].setdefault(key, {})[spec_i] = piece
        self.room -= left


class _Cut:
    """What is left of one tensor being cut: its ``offset`` (within the whole tensor)
    and ``shape``; ``take`` cuts the leading part off along an axis."""

    def __init__(self, tensor, key, full, shape, origin, item):
        self.tensor, self.key, self.full, self.item = tensor, key, full, item
        self.root_shape, self.origin = list(shape), list(origin)
        self.offset, self.shape = list(origin), list(shape)

    def nbytes(self) -> int:
        return _prod(self.shape) * self.item

    def next_part(self, room: int) -> tuple:
        """``(axis, size)`` of the next piece: along the axis that needs the fewest pieces
        to fill ``room``-byte shards (size 0 when no slice fits ``room``)."""
        n = _prod(self.shape)

        def pieces(axis):
            per_shard = room // (n // self.shape[axis] * self.item)
            return math.ceil(self.shape[axis] / per_shard) if per_shard else math.inf

        best, best_axis = pieces(0), 0
        for axis in range(1, len(self.shape)):
            p = pieces(axis)
            if p < best and n * self.item / p <= room:
                best, best_axis = p, axis
        size = 0 if best == math.inf else math.ceil(self.shape[best_axis] / best)
        return best_axis, size

    def take(self, axis: int, size: int) -> tuple:
        """Cut ``size`` along ``axis`` off the front: ``(slice spec, tensor, bytes)``."""
        from rill.ops.indexing_ops import slice as slice_op
        from rill.train.tensor_bundle import slice_spec

        begin = [o - r for o, r in zip(self.offset, self.origin)]
        shape = list(self.shape)
        shape[axis] = size
        piece = slice_op(self.tensor, begin, shape)
        spec = slice_spec(self.full, self.offset, shape)
        self.offset[axis] += size
        self.shape[axis] -= size
        return spec, piece, _prod(shape) * self.item


def _prod(shape) -> int:
    out = 1
    for n in shape:
        out *= int(n)
    return out


def _as_dtype(dtype):
    from rill.core import dtypes

    return dtypes.as_dtype(dtype)


def _shape_list(shape) -> list:
    dims = getattr(shape, "as_list", None)
    return dims() if dims is not None else list(shape)
