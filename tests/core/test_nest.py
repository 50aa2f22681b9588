"""tf.nest: flatten order, rebuilding each container kind, and the per-type answer of
is_nested staying right when a class is registered with an ABC later."""

from __future__ import annotations

import collections
import collections.abc

import numpy as np
import pytest

import rill as tf
from rill.core import nest

Point = collections.namedtuple("Point", "x y")


def test_flatten_orders_dict_keys_and_rebuilds_every_container_kind():
    t = tf.constant([1.0, 2.0])
    structure = {"b": [t, (1, 2)], "a": Point(3, {"z": 4, "y": 5}), "c": ()}
    flat = nest.flatten(structure)
    # dicts by sorted key, depth first; the empty tuple has no leaves
    assert flat[:5] == [3, 5, 4, t, 1] and flat[5] == 2 and len(flat) == 6
    rebuilt = nest.pack_sequence_as(structure, [str(i) for i in range(6)])
    assert rebuilt == {"b": ["3", ("4", "5")], "a": Point("0", {"z": "2", "y": "1"}), "c": ()}
    assert type(rebuilt["a"]) is Point and type(rebuilt["b"]) is list
    assert type(rebuilt["b"][1]) is tuple
    assert list(rebuilt) == ["b", "a", "c"]  # a dict keeps the template's key order


def test_a_tensor_or_variable_is_a_leaf_and_a_list_of_them_round_trips():
    vs = [tf.Variable(float(i)) for i in range(4)]
    assert not nest.is_nested(vs[0]) and not nest.is_nested(tf.constant(1.0))
    assert nest.flatten(vs) == vs
    packed = nest.pack_sequence_as(tuple(vs), [1, 2, 3, 4])
    assert packed == (1, 2, 3, 4) and type(packed) is tuple


def test_leaf_count_mismatch_raises():
    with pytest.raises(ValueError, match="more leaves"):
        nest.pack_sequence_as([1, [2, 3]], [1, 2])
    with pytest.raises(ValueError, match="more elements"):
        nest.pack_sequence_as([1, 2], [1, 2, 3])


def test_a_class_registered_as_mapping_after_a_lookup_becomes_nested():
    class Table:  # a mapping in all but registration: keys, lookup and length
        def __init__(self, **items):
            self.items = items

        def __len__(self):
            return len(self.items)

        def __iter__(self):
            yield from self.items

        def __getitem__(self, key):
            return self.items[key]

    tbl = Table(b=1, a=2)
    assert not nest.is_nested(tbl)  # answered (and cached) as a leaf first
    assert nest.flatten([tbl]) == [tbl]
    collections.abc.Mapping.register(Table)
    assert nest.is_nested(tbl)
    assert nest.flatten([tbl]) == [2, 1]  # now a mapping: values by sorted key


def test_matches_tensorflow_nest_where_installed():
    tf_real = pytest.importorskip("tensorflow")
    structure = {"k": [np.float32(1), (2, Point(3, 4))], "a": {"q": 5, "b": [6]}}
    assert nest.flatten(structure) == tf_real.nest.flatten(structure)
    mine = nest.pack_sequence_as(structure, list(range(6)))
    theirs = tf_real.nest.pack_sequence_as(structure, list(range(6)))
    assert mine == theirs


def test_type_has_caches_class_answers_but_not_instance_attributes():
    class Plain:
        pass

    class Slotted:
        __slots__ = ()

    class Composite:
        def _rill_components(self):
            return []

    assert not nest.type_has(Plain(), "_rill_components")
    assert nest.type_has(Composite(), "_rill_components")
    odd = Plain()
    odd._rill_components = lambda: []  # an instance attribute: this instance only
    assert nest.type_has(odd, "_rill_components")
    assert not nest.type_has(Plain(), "_rill_components")
    assert nest.type_has(odd, "_rill_components")
    assert not nest.type_has(Slotted(), "_rill_components")
    assert (Slotted, "_rill_components") in nest._TYPE_HAS  # no instance can differ
    assert (Plain, "_rill_components") not in nest._TYPE_HAS


def test_type_caches_stay_bounded_when_classes_are_made_on_the_fly():
    for i in range(nest._CACHE_LIMIT + 10):
        cls = type(f"Leaf{i}", (), {"__slots__": ()})
        assert not nest.is_nested(cls())
        assert not nest.type_has(cls(), "_rill_components")
    assert len(nest._NESTED_BY_TYPE) <= nest._CACHE_LIMIT
    assert len(nest._TYPE_HAS) <= nest._CACHE_LIMIT
