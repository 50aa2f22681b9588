"""keras.tree: Keras 3's nested-structure rules (sorted dict keys, namedtuples, None as a
leaf, strict type matching), checked directly and against Keras 3 when installed."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from rill.keras import tree

NT = collections.namedtuple("NT", "b a")
S = {"b": [1, (2, None)], "a": NT(3, {"z": 4, "y": 5})}


def test_flatten_and_paths():
    assert tree.flatten(S) == [3, 5, 4, 1, 2, None]
    assert tree.flatten_with_path(S) == [
        (("a", 0), 3), (("a", 1, "y"), 5), (("a", 1, "z"), 4), (("b", 0), 1),
        (("b", 1, 0), 2), (("b", 1, 1), None),
    ]  # fmt: skip
    assert tree.flatten(None) == [None] and tree.flatten(1) == [1] and tree.flatten({}) == []
    assert tree.flatten(collections.OrderedDict([("b", 1), ("a", 2)])) == [1, 2]
    arr = np.ones(2)
    assert tree.flatten(arr)[0] is arr and not tree.is_nested(arr)
    assert tree.is_nested([]) and tree.is_nested(NT(1, 2)) and not tree.is_nested("abc")
    assert not tree.is_nested(None)


def test_pack_and_map():
    assert tree.pack_sequence_as(S, list(range(10, 16))) == {
        "b": [13, (14, 15)], "a": NT(10, {"z": 12, "y": 11}),
    }  # fmt: skip
    packed = tree.pack_sequence_as({"b": 1, "a": 2}, [5, 6])
    assert packed == {"b": 6, "a": 5} and list(packed) == ["b", "a"]
    od = tree.pack_sequence_as(collections.OrderedDict([("b", 1), ("a", 2)]), [5, 6])
    assert isinstance(od, collections.OrderedDict) and list(od.items()) == [("b", 5), ("a", 6)]
    with pytest.raises(ValueError):
        tree.pack_sequence_as([1, 2], [1])
    assert tree.map_structure(lambda x: x, S) == S
    assert tree.map_structure(lambda x, y: (x, y), [1, 2], [3, 4]) == [(1, 3), (2, 4)]
    assert tree.map_structure(lambda x: x * 2, [1, None, 3], none_is_leaf=False) == [2, None, 6]
    assert tree.map_structure(lambda x: x is None, [None]) == [True]
    assert tree.map_structure(lambda *a: sum(a), {"a": 1}, {"a": 2}) == {"a": 3}
    dd = collections.defaultdict(list, {"x": 1})
    assert type(tree.map_structure(lambda v: v, dd)) is collections.defaultdict
    for a, b in [([1], [1, 2]), ([1], (1,)), ({"a": 1}, {"b": 1}), (NT(1, 2), (1, 2)),
                 ([1], [[1]])]:  # fmt: skip
        with pytest.raises(ValueError):
            tree.map_structure(lambda *v: 0, a, b)
    with pytest.raises(ValueError):
        tree.map_structure(lambda x: x)


def test_up_to_traverse_and_shapes():
    got = tree.map_structure_up_to([1, (2, 3)], lambda x, y: (x, y), [[1, 2], ([3], 4)],
                                   [5, (6, 7)])  # fmt: skip
    assert got == [([1, 2], 5), (([3], 6), (4, 7))]
    assert tree.traverse(lambda x: None, [1, [2, 3]]) == [1, [2, 3]]
    assert tree.traverse(lambda x: "X" if x == [2, 3] else None, [1, [2, 3]]) == [1, "X"]
    assert tree.traverse(lambda x: tree.MAP_TO_NONE if x == 1 else None, [1, 2]) == [None, 2]
    seen = []
    tree.traverse(lambda x: seen.append(x), [1, [2, 3]], top_down=False)
    assert seen == [1, 2, 3, [2, 3], [1, [2, 3]]]
    assert tree.lists_to_tuples([1, [2, {"a": [3]}]]) == (1, (2, {"a": (3,)}))
    shapes = {"a": (2, 3), "b": [(None, 4), (5,)]}
    assert tree.map_shape_structure(lambda s: len(s), shapes) == {"a": 2, "b": [2, 1]}


def test_assertions():
    tree.assert_same_structure([1, (2, 3)], [4, (5, 6)])
    tree.assert_same_structure({"a": 1}, {"a": [1]}.fromkeys(["a"], 2))
    for a, b in [([1, 2], (1, 2)), ([1, 2], [1, [2]]), ({"a": 1}, {"b": 1}), (NT(1, 2), (1, 2))]:
        with pytest.raises(ValueError):
            tree.assert_same_structure(a, b)
    tree.assert_same_paths([1, 2], (1, 2))
    tree.assert_same_paths(NT(1, 2), (1, 2))
    with pytest.raises(ValueError, match="Paths in `a` missing in `b`"):
        tree.assert_same_paths([1, 2], [1, [2]])


STRUCTURES = [
    S, [1, (2, [3, {"k": 4}])], {"x": None, "a": [None, 1]}, NT(1, NT(2, 3)), (), [],
    collections.OrderedDict([("z", 1), ("a", (2, 3))]), 7, None, "leaf", {"b": {}, "a": [()]},
]  # fmt: skip


@pytest.mark.parametrize("s", STRUCTURES, ids=[str(i) for i in range(len(STRUCTURES))])
def test_matches_keras(s):
    keras = pytest.importorskip("keras")
    K = keras.tree
    assert tree.flatten(s) == K.flatten(s)
    assert tree.flatten_with_path(s) == K.flatten_with_path(s)
    assert tree.is_nested(s) == K.is_nested(s)
    n = len(K.flatten(s))
    assert tree.pack_sequence_as(s, list(range(n))) == K.pack_sequence_as(s, list(range(n)))
    f = lambda x: (x, 1)  # noqa: E731
    assert tree.map_structure(f, s) == K.map_structure(f, s)
    assert tree.map_structure(f, s, none_is_leaf=False) == K.map_structure(f, s, none_is_leaf=False)
    assert tree.lists_to_tuples(s) == K.lists_to_tuples(s)
    assert tree.traverse(lambda x: None, s, top_down=False) == K.traverse(
        lambda x: None, s, top_down=False
    )
