"""``tf.keras.tree``: Keras 3's functions over nested structures.

The rules (Keras' ``optree`` ones): lists, tuples, namedtuples, dicts and deques are
nodes; everything else (tensors, arrays, strings, numbers) is a leaf. Dict children are
visited in sorted key order (an ``OrderedDict``'s in its own order) and rebuilt with the
original key order. ``None`` is a leaf, except with ``map_structure(...,
none_is_leaf=False)``, where it is an empty node left as it is. Structures compared with
each other must match exactly: a list does not match a tuple, nor a namedtuple a tuple
(``assert_same_paths`` is the looser check, by paths only).
"""

from __future__ import annotations

import collections

__all__ = [
    "MAP_TO_NONE", "assert_same_paths", "assert_same_structure", "flatten",
    "flatten_with_path", "is_nested", "lists_to_tuples", "map_shape_structure",
    "map_structure", "map_structure_up_to", "pack_sequence_as", "traverse",
]  # fmt: skip


class MAP_TO_NONE:  # noqa: N801 - Keras' name
    """Returned by a ``traverse`` function to put ``None`` in place of a subtree."""


# ------------------------------------------------------------------------ node access
def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _dict_keys(d) -> list:
    if isinstance(d, collections.OrderedDict):
        return list(d)
    try:
        return sorted(d)
    except TypeError:
        return list(d)


def _node(x, none_is_leaf=True):
    """``(children, keys)`` of a node, or None for a leaf."""
    if isinstance(x, (list, tuple, collections.deque)):
        return list(x), list(range(len(x)))
    if isinstance(x, dict):
        keys = _dict_keys(x)
        return [x[k] for k in keys], keys
    if x is None and not none_is_leaf:
        return [], []
    return None


def _rebuild(x, children):
    """A node like ``x`` with ``children`` (in ``_node``'s order)."""
    if _is_namedtuple(x):
        return type(x)(*children)
    if isinstance(x, tuple):
        return tuple(children)
    if isinstance(x, list):
        return list(children)
    if isinstance(x, collections.deque):
        return collections.deque(children, maxlen=x.maxlen)
    if isinstance(x, dict):
        by_key = dict(zip(_dict_keys(x), children))
        items = [(k, by_key[k]) for k in x]
        if isinstance(x, collections.defaultdict):
            return collections.defaultdict(x.default_factory, items)
        if isinstance(x, collections.OrderedDict):
            return collections.OrderedDict(items)
        try:
            return type(x)(items)
        except TypeError:
            return dict(items)
    if x is None:
        return None
    raise TypeError(f"Not a node: {x!r}")


def _type_name(x) -> str:
    if _is_namedtuple(x):
        return "collections.namedtuple"
    return type(x).__name__


def _check_match(a, b):
    """Raise ValueError unless nodes ``a`` and ``b`` are of the same kind and keys."""
    if _is_namedtuple(a) or _is_namedtuple(b):
        if type(a) is not type(b):
            raise ValueError(f"Expected an instance of {_type_name(a)}, got {b!r}.")
    elif isinstance(a, dict):
        if not isinstance(b, dict):
            raise ValueError(f"Expected an instance of dict, got {b!r}.")
        ka, kb = _dict_keys(a), _dict_keys(b)
        if set(ka) != set(kb):
            missing = [k for k in ka if k not in kb]
            extra = [k for k in kb if k not in ka]
            raise ValueError(
                f"dictionary key mismatch; expected key(s): {ka}, got key(s): {kb}, missing "
                f"key(s): {missing}, extra key(s): {extra}; dict: {b!r}."
            )
    elif type(a) is not type(b):
        raise ValueError(f"Expected an instance of {_type_name(a)}, got {b!r}.")
    if isinstance(a, (list, tuple, collections.deque)) and len(a) != len(b):
        raise ValueError(
            f"{_type_name(a)} arity mismatch; expected: {len(a)}, got: {len(b)}; "
            f"{_type_name(a)}: {b!r}."
        )


# ------------------------------------------------------------------------ public API
def is_nested(structure) -> bool:
    """Whether ``structure`` is a node (a list, tuple, namedtuple, dict or deque)."""
    return _node(structure) is not None


def flatten(structure) -> list:
    """The leaves of ``structure``, depth first (dicts by sorted key)."""
    out = []
    stack = [structure]
    while stack:
        x = stack.pop()
        node = _node(x)
        if node is None:
            out.append(x)
        else:
            stack.extend(reversed(node[0]))
    return out


def flatten_with_path(structure) -> list:
    """``(path, leaf)`` pairs: a path is the tuple of indices and keys to the leaf."""
    out = []
    stack = [((), structure)]
    while stack:
        path, x = stack.pop()
        node = _node(x)
        if node is None:
            out.append((path, x))
        else:
            children, keys = node
            stack.extend(reversed([(path + (k,), c) for k, c in zip(keys, children)]))
    return out


def pack_sequence_as(structure, flat_sequence):
    """``structure`` with its leaves replaced, in order, by ``flat_sequence``."""
    flat = list(flat_sequence)
    count = len(flatten(structure))
    if count != len(flat):
        word = "few" if len(flat) < count else "many"
        raise ValueError(
            f"Too {word} leaves for the structure; expected: {count}, got: {len(flat)}."
        )
    it = iter(flat)

    def build(x):
        node = _node(x)
        if node is None:
            return next(it)
        return _rebuild(x, [build(c) for c in node[0]])

    return build(structure)


def map_structure(func, *structures, none_is_leaf=True):
    """``func`` applied to the leaves of ``structures`` (which must match), in a structure
    like the first. With ``none_is_leaf=False``, ``None`` entries are kept, not mapped."""
    if not structures:
        raise ValueError("Must provide at least one structure")

    def go(xs):
        first = xs[0]
        node = _node(first, none_is_leaf)
        if node is None:
            for other in xs[1:]:
                if _node(other, none_is_leaf) is not None:
                    raise ValueError("Structures don't have the same nested structure.")
            return func(*xs)
        for other in xs[1:]:
            if _node(other, none_is_leaf) is None:
                raise ValueError("Structures don't have the same nested structure.")
            _check_match(first, other)
        kids = [_node(x, none_is_leaf)[0] for x in xs]
        return _rebuild(first, [go(group) for group in zip(*kids)])

    return go(structures)


def map_structure_up_to(shallow_structure, func, *structures):
    """``func`` applied to the subtrees of ``structures`` found at the leaves of
    ``shallow_structure`` (which the structures must extend)."""
    if not structures:
        raise ValueError("Must provide at least one structure")

    def go(shallow, xs):
        node = _node(shallow)
        if node is None:
            return func(*xs)
        for x in xs:
            if _node(x) is None:
                raise ValueError("Structures don't have the same nested structure.")
            _check_match(shallow, x)
        kids = [_node(x)[0] for x in xs]
        return _rebuild(shallow, [go(s, group) for s, group in zip(node[0], zip(*kids))])

    return go(shallow_structure, structures)


def assert_same_structure(a, b, check_types=None):
    """Raise ValueError unless ``a`` and ``b`` have the same nesting (node types and
    keys). ``check_types`` is accepted and ignored, as in Keras 3."""

    def go(x, y):
        nx, ny = _node(x), _node(y)
        if (nx is None) != (ny is None):
            raise ValueError("Structures don't have the same nested structure.")
        if nx is None:
            return
        _check_match(x, y)
        for cx, cy in zip(nx[0], ny[0]):
            go(cx, cy)

    go(a, b)


def assert_same_paths(a, b):
    """Raise ValueError unless ``a`` and ``b`` have the same set of leaf paths (node types
    are not compared)."""
    pa = {p for p, _ in flatten_with_path(a)}
    pb = {p for p, _ in flatten_with_path(b)}
    if pa != pb:
        msg = "`a` and `b` don't have the same paths."
        if pa - pb:
            msg += f"\nPaths in `a` missing in `b`:\n{pa - pb}"
        if pb - pa:
            msg += f"\nPaths in `b` missing in `a`:\n{pb - pa}"
        raise ValueError(msg)


def traverse(func, structure, top_down=True):
    """Visit every subtree with ``func``. Top down: a non-None result replaces the subtree
    (which is then not entered); bottom up: ``func`` sees the already traversed subtree
    and a non-None result replaces it. ``MAP_TO_NONE`` as a result means ``None``."""

    def children_done(x):
        node = _node(x)
        if node is None:
            return x
        return _rebuild(x, [traverse(func, c, top_down) for c in node[0]])

    if top_down:
        ret = func(structure)
        if ret is None:
            return children_done(structure)
    else:
        done = children_done(structure)
        ret = func(done)
        if ret is None:
            return done
    return None if ret is MAP_TO_NONE else ret


def lists_to_tuples(structure):
    """``structure`` with every list turned into a tuple."""
    return traverse(lambda x: tuple(x) if isinstance(x, list) else None, structure,
                    top_down=False)  # fmt: skip


def _is_shape(x) -> bool:
    return isinstance(x, (list, tuple)) and all(isinstance(e, (int, type(None))) for e in x)


def map_shape_structure(func, structure):
    """``func`` applied to every shape (a list or tuple of ints and None) in
    ``structure``."""
    if _is_shape(structure):
        return func(structure)
    node = _node(structure)
    if node is None:
        return func(structure)
    return _rebuild(structure, [map_shape_structure(func, c) for c in node[0]])
