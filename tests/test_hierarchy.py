import numpy as np
import pytest

from htclib.data.hierarchy import Hierarchy, HierarchyError

TWO = [("sci", "bio"), ("sci", "phys"), ("art", "music")]
FIVE = [("a", "b", "c", "d", "e"), ("a", "b", "c", "d", "f"), ("a", "x", "y", "z", "w")]


def test_two_level_ids_and_order():
    h = Hierarchy.from_paths(TWO)
    assert h.depth == 2 and h.sizes == [2, 3]
    assert h.labels == [("art",), ("sci",), ("art", "music"), ("sci", "bio"), ("sci", "phys")]
    assert h.parent.tolist() == [-1, -1, 0, 1, 1]
    assert h.level_slices == [slice(0, 2), slice(2, 5)]
    assert h.children[1] == [3, 4]
    assert h.path_ids(4) == [1, 4]


def test_five_levels_paths_and_ancestors():
    h = Hierarchy.from_paths(FIVE)
    assert h.depth == 5 and h.sizes == [1, 2, 2, 2, 3]
    leaf = h.id_of(("a", "b", "c", "d", "f"))
    assert [h.labels[i] for i in h.ancestors(leaf)] == [
        ("a", "b", "c", "d"),
        ("a", "b", "c"),
        ("a", "b"),
        ("a",),
    ]
    assert h.is_leaf(leaf) and not h.is_leaf(h.id_of(("a",)))


def test_multi_path_encode_decode_roundtrip():
    h = Hierarchy.from_paths(TWO)
    y = h.encode([[("sci", "bio"), ("art", "music")], [("sci",)]])
    assert y.tolist() == [[1, 1, 1, 1, 0], [0, 1, 0, 0, 0]]
    assert sorted(h.decode(y[0])) == [("art", "music"), ("sci", "bio")]
    assert h.decode(y[1]) == [("sci",)]


def test_same_name_under_two_parents_are_two_labels():
    h = Hierarchy.from_paths([("dogs", "toys"), ("cats", "toys")])
    assert h.sizes == [2, 2]
    assert h.id_of(("dogs", "toys")) != h.id_of(("cats", "toys"))


def test_consistency_check():
    h = Hierarchy.from_paths(TWO)
    y = np.array([[0, 1, 0, 1, 0], [0, 0, 0, 1, 0], [1, 1, 0, 0, 0]])
    assert h.is_consistent(y).tolist() == [True, False, True]


def test_level_slice_and_json_roundtrip():
    h = Hierarchy.from_paths(FIVE)
    y = h.encode([[FIVE[0]]])
    assert h.level(y, 4).tolist() == [[1, 0, 0]]
    h2 = Hierarchy.from_json(h.to_json())
    assert h2 == h and h2.fingerprint() == h.fingerprint()
    assert Hierarchy.from_paths(TWO).fingerprint() != h.fingerprint()


def test_unknown_label_is_named():
    h = Hierarchy.from_paths(TWO)
    with pytest.raises(HierarchyError, match="sci > chem"):
        h.encode([[("sci", "chem")]])


def test_mixed_depth_refused_when_not_allowed():
    with pytest.raises(HierarchyError, match="depth 1, expected 2"):
        Hierarchy.from_paths([("a", "b"), ("c",)], allow_partial=False)
    assert Hierarchy.from_paths([("a", "b"), ("c",)]).sizes == [2, 1]


def test_child_with_two_parents_and_cycle_refused():
    with pytest.raises(HierarchyError, match="two different parents"):
        Hierarchy.from_edges([(None, "a"), (None, "b"), ("a", "x"), ("b", "x")])
    with pytest.raises(HierarchyError, match="cycle"):
        Hierarchy.from_edges([("a", "b"), ("b", "a")])
    h = Hierarchy.from_edges([(None, "a"), ("a", "x"), ("x", "y")])
    assert h.labels[-1] == ("a", "x", "y")


@pytest.mark.parametrize("bad", [[], "ab", [1, 2], ["a", ""], ["a", None]])
def test_bad_paths(bad):
    with pytest.raises(HierarchyError):
        Hierarchy.from_paths([bad])
