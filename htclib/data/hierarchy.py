"""The label taxonomy: labels per level and the parent-child edges between them (how one is
built from label paths or edges, and checked: :mod:`htclib.data.taxonomy`).

By default a label is identified by its *path* (``("pet supplies", "dogs", "toys")``), not
by its name alone: the same leaf name occurs under several parents in real data (amazon3's
"toys"). Name keying (one label, several parents) is the WoS literature's choice. Labels get integer ids in one fixed global order, level 1
first, then level 2, ..., each level sorted by path, so every level is a contiguous slice
of the multi-hot vector.

>>> h = Hierarchy.from_paths([("a", "x"), ("a", "y"), ("b", "x")])
>>> h.depth, h.n_labels, h.sizes
(2, 5, [2, 3])
>>> h.encode([[("a", "y")]]).tolist()
[[1.0, 0.0, 0.0, 1.0, 0.0]]
>>> h.decode([1, 0, 0, 1, 0])
[('a', 'y')]
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence

import numpy as np

from .taxonomy import (
    HierarchyError,
    Path,
    levels_from_paths,
    paths_from_edges,
    resolve_parents,
)
from .taxonomy import show as _show


class Hierarchy:
    """Labels per level, parent-child edges, ids, paths and multi-hot conversion for any depth.

    Two ways to key labels:

    - ``keying="path"`` (default): a label *is* its path; every label has one parent. Right for
      taxonomies where the same name under two parents means two things (amazon3's "toys").
    - ``keying="name"``: a label is its name on its level, so one label can have several
      parents (WoS as the literature keys it: "Depression" under Medical and Psychology is one
      label). ``labels[i]`` is then the 1-tuple ``(name,)``.

    In both modes ``index`` maps every valid root-to-label *path* to the label's id, so gold
    paths encode the same way, and decoding and metrics work over the parent-child ``edges``.

    >>> h = Hierarchy.from_paths([("a", "x"), ("b", "x")], keying="name")
    >>> h.sizes, h.parents[h.id_of(("b", "x"))]
    ([2, 1], [0, 1])
    """

    def __init__(
        self,
        labels_by_level: Sequence[Sequence[Path]],
        edges: Iterable[tuple[int, str, str]] | None = None,
    ):
        """``labels_by_level``: label keys per level. Path keying (``edges=None``): keys are
        paths and each label's parent is its path minus the last name. Name keying: keys are
        ``(name,)`` and ``edges`` lists ``(child level (0-based), parent name, child name)``."""
        self.keying = "path" if edges is None else "name"
        self.levels: list[list[Path]] = [sorted(set(map(tuple, lv))) for lv in labels_by_level]
        if not self.levels or not self.levels[0]:
            raise HierarchyError("a hierarchy needs at least one label on level 1")
        self.labels: list[Path] = [p for lv in self.levels for p in lv]
        self.level_of = np.array(
            [d for d, lv in enumerate(self.levels) for _ in lv], dtype=np.int64
        )
        key_id = {
            (d, p): i
            for i, (d, p) in enumerate(zip(self.level_of.tolist(), self.labels, strict=True))
        }
        self.parents: list[list[int]] = resolve_parents(self.levels, self.labels, key_id, edges)
        self.children: list[list[int]] = [[] for _ in self.labels]
        for i, ps in enumerate(self.parents):
            for par in ps:
                self.children[par].append(i)
        self.edges = np.array(
            [(par, i) for i, ps in enumerate(self.parents) for par in ps], dtype=np.int64
        ).reshape(-1, 2)  # (n_edges, 2): parent id, child id
        # First parent only: one-parent code paths (and path keying, where it is the parent).
        self.parent = np.array([ps[0] if ps else -1 for ps in self.parents], dtype=np.int64)
        if edges is None:
            self.index: dict[Path, int] = {p: i for i, p in enumerate(self.labels)}
        else:
            self.index = {
                tuple(self.labels[j][0] for j in ids): i
                for i in range(len(self.labels))
                for ids in self.paths_to(i)
            }
        bounds = np.cumsum([0] + [len(lv) for lv in self.levels])
        self.level_slices: list[slice] = [
            slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        ]
        leaves = [i for i in range(len(self.labels)) if not self.children[i]]
        #: every root-to-leaf path as label ids (a multi-parent leaf has several)
        self.leaf_paths: list[list[int]] = [ids for i in leaves for ids in self.paths_to(i)]

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_paths(
        cls, paths: Iterable[Sequence[str]], allow_partial: bool = True, keying: str = "path"
    ) -> Hierarchy:
        """Build from label paths (top -> leaf); every prefix of a path becomes a label.

        ``allow_partial=False`` requires every path to reach the same (maximum) depth.
        ``keying="name"`` keys labels by name per level (see the class doc).
        """
        return cls(*levels_from_paths(paths, allow_partial, keying))

    @classmethod
    def from_edges(cls, edges: Iterable[tuple[str | None, str]]) -> Hierarchy:
        """Build from ``(parent_name, child_name)`` pairs (parent ``None`` for the top level).

        Names must be unique here; a child with two different parents or a cycle is an error.
        """
        return cls.from_paths(paths_from_edges(edges))

    # ---- basic facts --------------------------------------------------------------------
    @property
    def depth(self) -> int:
        return len(self.levels)

    @property
    def n_labels(self) -> int:
        return len(self.labels)

    @property
    def sizes(self) -> list[int]:
        return [len(lv) for lv in self.levels]

    def name(self, i: int) -> str:
        return self.labels[i][-1]

    def display(self, i: int) -> str:
        """``top > ... > label``; a label with several parents shows them as ``A|B > label``."""
        if self.keying == "path":
            return " > ".join(self.labels[i])
        if not self.parents[i]:
            return self.labels[i][0]
        ups = [self.display(p) for p in self.parents[i]]
        return (ups[0] if len(ups) == 1 else "|".join(self.name(p) for p in self.parents[i])) + (
            " > " + self.labels[i][0]
        )

    def id_of(self, path: Sequence[str]) -> int:
        """Id of the label a root-to-label path ends at (the path must follow the edges)."""
        p = tuple(path)
        if p not in self.index:
            raise HierarchyError(f"label {_show(p)} is not in the hierarchy")
        return self.index[p]

    def ancestors(self, i: int) -> list[int]:
        """Ids of every ancestor of label ``i`` (all parents' lines), nearest level first."""
        out, frontier = [], list(self.parents[i])
        while frontier:
            out += [p for p in frontier if p not in out]
            frontier = sorted({q for p in frontier for q in self.parents[p]})
        return out

    def paths_to(self, i: int) -> list[list[int]]:
        """Every root-to-``i`` path as ids (one in path keying, one per parent line in name keying)."""
        if not self.parents[i]:
            return [[i]]
        return [up + [i] for p in self.parents[i] for up in self.paths_to(p)]

    def path_ids(self, i: int) -> list[int]:
        """Ids from the top level down to ``i`` (inclusive) along first parents."""
        return self.paths_to(i)[0]

    def is_leaf(self, i: int) -> bool:
        return not self.children[i]

    # ---- conversion ---------------------------------------------------------------------
    def encode(self, paths_per_text: Sequence[Sequence[Sequence[str]]]) -> np.ndarray:
        """Label paths of each text -> multi-hot ``(n_texts, n_labels)`` float32, ancestors set."""
        y = np.zeros((len(paths_per_text), self.n_labels), dtype=np.float32)
        for row, paths in enumerate(paths_per_text):
            for p in paths:
                for d in range(1, len(p) + 1):
                    y[row, self.id_of(p[:d])] = 1.0
        return y

    def decode(self, y_row: Sequence[float] | np.ndarray) -> list[Path]:
        """Multi-hot row -> the deepest predicted paths (labels with no predicted child), each
        along predicted parents where there is a choice."""
        on = set(np.flatnonzero(np.asarray(y_row) > 0.5).tolist())
        out = []
        for i in sorted(on):
            if any(c in on for c in self.children[i]):
                continue
            ids = self.paths_to(i)
            ids = next((p for p in ids if all(j in on for j in p)), ids[0])
            out.append(
                tuple(self.labels[j][-1] for j in ids) if self.keying == "name" else self.labels[i]
            )
        return out

    def parent_on(self, y: np.ndarray) -> np.ndarray:
        """``(n, n_labels)`` 0/1 -> bool: whether some parent of each label is on (roots: True)."""
        y = np.asarray(y) > 0.5
        out = np.zeros_like(y)
        out[:, self.level_of == 0] = True
        for par, child in self.edges:
            out[:, child] |= y[:, par]
        return out

    def is_consistent(self, y: np.ndarray) -> np.ndarray:
        """``(n, n_labels)`` 0/1 -> ``(n,)`` bool: every predicted label has a predicted parent."""
        y = np.asarray(y) > 0.5
        return ~np.any(y & ~self.parent_on(y), axis=1)

    def level(self, y: np.ndarray, level: int) -> np.ndarray:
        """Columns of level ``level`` (0-based) of a ``(n, n_labels)`` array."""
        return np.asarray(y)[:, self.level_slices[level]]

    # ---- identity -----------------------------------------------------------------------
    def to_json(self) -> dict:
        out = {"levels": [[list(p) for p in lv] for lv in self.levels]}
        if self.keying == "name":  # path-keyed JSON (and fingerprints) stay as they were
            out["edges"] = [
                [int(self.level_of[c]), self.name(int(p)), self.name(int(c))] for p, c in self.edges
            ]
        return out

    @classmethod
    def from_json(cls, obj: dict) -> Hierarchy:
        edges = obj.get("edges")
        return cls(
            [[tuple(p) for p in lv] for lv in obj["levels"]],
            None if edges is None else [tuple(e) for e in edges],
        )

    def fingerprint(self) -> str:
        """Stable hash of the label list (order included): artifacts record it."""
        blob = json.dumps(self.to_json(), ensure_ascii=False, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Hierarchy) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def __repr__(self) -> str:
        return f"Hierarchy(depth={self.depth}, sizes={self.sizes}, n_labels={self.n_labels})"
