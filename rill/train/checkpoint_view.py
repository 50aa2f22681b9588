"""``tf.train.TrackableView`` and ``tf.train.CheckpointView``: the object graph of live
trackables, and the ``TrackableObjectGraph`` a TF2 checkpoint stores, walked and
matched against each other by child names (as ``Checkpoint.restore`` matches them)."""

from __future__ import annotations

import abc
import collections
import collections.abc
import dataclasses
import os
import warnings

from rill.ops._op import tf_export

__all__ = [
    "CheckpointView",
    "ShardByTaskPolicy",
    "ShardableTensor",
    "ShardingCallback",
    "TrackableView",
]


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
