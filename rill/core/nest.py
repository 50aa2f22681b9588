"""``tf.nest``: flatten and rebuild nested structures (lists, tuples, namedtuples, dicts)."""

from __future__ import annotations

import collections.abc as _abc
from abc import get_cache_token as _abc_token

__all__ = ["flatten", "pack_sequence_as", "map_structure", "is_nested", "assert_same_structure"]


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def is_nested(x) -> bool:
    """True for lists, tuples and mappings (the containers tf.nest recurses into)."""
    t = type(x)
    if t is list or t is tuple or t is dict:
        return True
    # the answer per type, cached: a tensor leaf would otherwise pay the Mapping ABC's
    # check each time. A registration with any ABC (Mapping.register) clears the cache.
    if _CACHE_TOKEN[0] != _abc_token():
        _NESTED_BY_TYPE.clear()
        _CACHE_TOKEN[0] = _abc_token()
    hit = _NESTED_BY_TYPE.get(t)
    if hit is None:
        hit = isinstance(x, (list, tuple, _abc.Mapping))
        if x.__class__ is t:  # a proxy's __class__ may answer differently per instance
            _remember(_NESTED_BY_TYPE, t, hit)
    return hit


def _remember(cache: dict, key, answer: bool) -> None:
    """Store a per-type answer; a full cache starts over, so classes made on the fly (a
    namedtuple per call) do not pile up in it."""
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = answer


_CACHE_LIMIT = 4096  # types per cache (their answers are cheap to recompute)
_NESTED_BY_TYPE: dict = {}
_CACHE_TOKEN = [_abc_token()]


def _children(x):
    if type(x) is dict or isinstance(x, _abc.Mapping):
        return [x[k] for k in sorted(x)]
    return list(x)


def _is_composite(x) -> bool:
    """A value made of tensors (a TensorArray...): ``_rill_components()`` lists them and
    ``_rill_rebuild(components)`` makes a like value from new ones."""
    return type_has(x, "_rill_components")


def type_has(x, name: str) -> bool:
    """``hasattr(x, name)`` for a protocol method, answered per type from a cache where
    the type decides it for every instance, so a tensor leaf does not pay a failed
    attribute lookup on each walk: the class has it, or its instances can have no
    attributes of their own (no ``__dict__``, no ``__getattr__``) and this one lacks it.
    Anything else is looked up each time."""
    t = type(x)
    hit = _TYPE_HAS.get((t, name))
    if hit is None:
        hit = hasattr(x, name)
        if hasattr(t, name) or not (hit or hasattr(x, "__dict__") or hasattr(t, "__getattr__")):
            _remember(_TYPE_HAS, (t, name), hit)
    return hit


_TYPE_HAS: dict = {}


def flatten(structure, expand_composites=False) -> list:
    """Leaves of ``structure`` in TF's order (dicts by sorted key), iteratively; with
    ``expand_composites``, composite values contribute their component tensors."""
    out = []
    stack = [structure]
    while stack:
        x = stack.pop()
        if is_nested(x):
            stack.extend(reversed(_children(x)))
        elif expand_composites and _is_composite(x):
            stack.extend(reversed(x._rill_components()))
        else:
            out.append(x)
    return out


def flatten_up_to(shallow, structure) -> list:
    """``structure`` flattened only as deep as ``shallow`` is nested: each leaf of
    ``shallow`` takes the whole substructure at its place (a list under a TensorSpec of an
    input_signature stays one value). Raises TypeError where the two do not match."""
    if not is_nested(shallow):
        return [structure]
    if not is_nested(structure) or isinstance(shallow, _abc.Mapping) != isinstance(
        structure, _abc.Mapping
    ):
        raise TypeError(f"expected a structure like {shallow!r}, got {structure!r}")
    if isinstance(shallow, _abc.Mapping):
        if sorted(shallow) != sorted(structure):
            raise TypeError(f"keys {sorted(structure)} do not match {sorted(shallow)}")
    elif len(shallow) != len(structure):
        raise TypeError(f"{len(structure)} elements where {len(shallow)} are expected")
    out = []
    for s, v in zip(_children(shallow), _children(structure)):
        out.extend(flatten_up_to(s, v))
    return out


def _rebuild(template, values):
    t = type(template)
    if t is list:
        return list(values)
    if t is tuple:
        return tuple(values)
    if isinstance(template, _abc.Mapping):
        keys = sorted(template)
        items = dict(zip(keys, values))
        if type(template) is dict:
            return {k: items[k] for k in template}
        return type(template)((k, items[k]) for k in template)
    if _is_namedtuple(template):
        return type(template)(*values)
    if isinstance(template, tuple):
        return tuple(values)
    return list(values)


def pack_sequence_as(structure, flat_sequence, expand_composites=False):
    """Rebuild ``structure`` with its leaves replaced by ``flat_sequence``."""
    flat_sequence = list(flat_sequence)
    it = iter(flat_sequence)

    def build(x):
        if is_nested(x):
            return _rebuild(x, [build(c) for c in _children(x)])
        if expand_composites and _is_composite(x):
            return x._rill_rebuild([build(c) for c in x._rill_components()])
        try:
            return next(it)
        except StopIteration:
            raise ValueError(
                f"Structure had more leaves than the flat sequence ({len(flat_sequence)})."
            ) from None

    result = build(structure)
    if next(it, _SENTINEL) is not _SENTINEL:
        raise ValueError(
            f"Flat sequence has more elements than structure {structure!r} has leaves."
        )
    return result


_SENTINEL = object()


def assert_same_structure(nest1, nest2, check_types=True, expand_composites=False):
    """Raise ValueError/TypeError unless both structures nest the same way."""
    stack = [(nest1, nest2)]
    while stack:
        a, b = stack.pop()
        if is_nested(a) != is_nested(b):
            raise ValueError(
                f"The two structures don't have the same nested structure: {nest1!r} vs {nest2!r}"
            )
        if not is_nested(a):
            continue
        if (
            check_types
            and type(a) is not type(b)
            and not (isinstance(a, _abc.Mapping) and isinstance(b, _abc.Mapping))
        ):
            raise TypeError(
                f"The two structures don't have the same sequence type: {type(a)} vs {type(b)}"
            )
        if isinstance(a, _abc.Mapping) and sorted(a) != sorted(b):
            raise ValueError(
                f"The two dictionaries don't have the same set of keys: {sorted(a)} vs {sorted(b)}"
            )
        ca, cb = _children(a), _children(b)
        if len(ca) != len(cb):
            raise ValueError(
                f"The two structures don't have the same number of elements: {nest1!r} vs {nest2!r}"
            )
        stack.extend(zip(ca, cb))


def map_structure(func, *structure, **kwargs):
    """Apply ``func`` leaf-wise across structures of the same shape."""
    check_types = kwargs.pop("check_types", True)
    kwargs.pop("expand_composites", None)
    if kwargs:
        raise ValueError(f"Unexpected arguments: {sorted(kwargs)}")
    for s in structure[1:]:
        assert_same_structure(structure[0], s, check_types=check_types)
    if len(structure) == 1 and not is_nested(structure[0]):
        return func(structure[0])  # a single leaf: nothing to flatten or rebuild
    flats = [flatten(s) for s in structure]
    return pack_sequence_as(structure[0], [func(*xs) for xs in zip(*flats)])
