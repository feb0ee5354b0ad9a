"""The label taxonomy: a forest of labels identified by their path from the top level.

A label is identified by its *path* (``("pet supplies", "dogs", "toys")``), never by its
name alone: the same leaf name occurs under several parents in real data (amazon3's
"toys", WoS's "Depression"). Labels get integer ids in one fixed global order, level 1
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

Path = tuple[str, ...]


class HierarchyError(ValueError):
    """A taxonomy or a label path that cannot be used (names the label and what was expected)."""


class Hierarchy:
    """Labels per level, parents, ids, paths and multi-hot conversion for any depth."""

    def __init__(self, labels_by_level: Sequence[Sequence[Path]]):
        self.levels: list[list[Path]] = [sorted(set(map(tuple, lv))) for lv in labels_by_level]
        if not self.levels or not self.levels[0]:
            raise HierarchyError("a hierarchy needs at least one label on level 1")
        self.labels: list[Path] = [p for lv in self.levels for p in lv]
        self.index: dict[Path, int] = {p: i for i, p in enumerate(self.labels)}
        self.level_of = np.array([len(p) - 1 for p in self.labels], dtype=np.int64)
        for depth, lv in enumerate(self.levels, start=1):
            for p in lv:
                if len(p) != depth:
                    raise HierarchyError(
                        f"label {_show(p)} has depth {len(p)} but is on level {depth}"
                    )
        self.parent = np.full(len(self.labels), -1, dtype=np.int64)
        for i, p in enumerate(self.labels):
            if len(p) > 1:
                if p[:-1] not in self.index:
                    raise HierarchyError(
                        f"label {_show(p)} has no parent {_show(p[:-1])} in the hierarchy"
                    )
                self.parent[i] = self.index[p[:-1]]
        self.children: list[list[int]] = [[] for _ in self.labels]
        for i, par in enumerate(self.parent):
            if par >= 0:
                self.children[par].append(i)
        bounds = np.cumsum([0] + [len(lv) for lv in self.levels])
        self.level_slices: list[slice] = [
            slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        ]

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_paths(cls, paths: Iterable[Sequence[str]], allow_partial: bool = True) -> Hierarchy:
        """Build from label paths (top -> leaf); every prefix of a path becomes a label.

        ``allow_partial=False`` requires every path to reach the same (maximum) depth.
        """
        paths = [_check_path(p) for p in paths]
        if not paths:
            raise HierarchyError("no label paths given")
        depth = max(len(p) for p in paths)
        if not allow_partial:
            for p in paths:
                if len(p) != depth:
                    raise HierarchyError(
                        f"label path {_show(p)} has depth {len(p)}, expected {depth} "
                        "(pass allow_partial=True for taxonomies of mixed depth)"
                    )
        levels: list[set[Path]] = [set() for _ in range(depth)]
        for p in paths:
            for d in range(1, len(p) + 1):
                levels[d - 1].add(p[:d])
        return cls(levels)

    @classmethod
    def from_edges(cls, edges: Iterable[tuple[str | None, str]]) -> Hierarchy:
        """Build from ``(parent_name, child_name)`` pairs (parent ``None`` for the top level).

        Names must be unique here; a child with two different parents or a cycle is an error.
        """
        parent_of: dict[str, str | None] = {}
        for par, child in edges:
            if not isinstance(child, str) or not child.strip():
                raise HierarchyError(f"edge ({par!r}, {child!r}): child must be a non-empty string")
            if child in parent_of and parent_of[child] != par:
                raise HierarchyError(
                    f"label {child!r} has two different parents: {parent_of[child]!r} and {par!r}"
                )
            parent_of[child] = par
        for par in set(parent_of.values()):
            if par is not None and par not in parent_of:
                parent_of[par] = None
        paths = []
        for child in parent_of:
            path, seen, node = [], set(), child
            while node is not None:
                if node in seen:
                    raise HierarchyError(f"cycle in the taxonomy through label {node!r}")
                seen.add(node)
                path.append(node)
                node = parent_of[node]
            paths.append(tuple(reversed(path)))
        return cls.from_paths(paths)

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
        return " > ".join(self.labels[i])

    def id_of(self, path: Sequence[str]) -> int:
        p = tuple(path)
        if p not in self.index:
            raise HierarchyError(f"label {_show(p)} is not in the hierarchy")
        return self.index[p]

    def ancestors(self, i: int) -> list[int]:
        """Ids of the ancestors of label ``i``, nearest first."""
        out, par = [], int(self.parent[i])
        while par >= 0:
            out.append(par)
            par = int(self.parent[par])
        return out

    def path_ids(self, i: int) -> list[int]:
        """Ids from the top level down to ``i`` (inclusive)."""
        return list(reversed(self.ancestors(i))) + [i]

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
        """Multi-hot row -> the deepest predicted paths (labels with no predicted child)."""
        on = set(np.flatnonzero(np.asarray(y_row) > 0.5).tolist())
        return [self.labels[i] for i in sorted(on) if not any(c in on for c in self.children[i])]

    def is_consistent(self, y: np.ndarray) -> np.ndarray:
        """``(n, n_labels)`` 0/1 -> ``(n,)`` bool: every predicted child has its parent."""
        y = np.asarray(y) > 0.5
        has_parent = self.parent >= 0
        par_on = np.zeros_like(y)
        par_on[:, has_parent] = y[:, self.parent[has_parent]]
        return ~np.any(y[:, has_parent] & ~par_on[:, has_parent], axis=1)

    def level(self, y: np.ndarray, level: int) -> np.ndarray:
        """Columns of level ``level`` (0-based) of a ``(n, n_labels)`` array."""
        return np.asarray(y)[:, self.level_slices[level]]

    # ---- identity -----------------------------------------------------------------------
    def to_json(self) -> dict:
        return {"levels": [[list(p) for p in lv] for lv in self.levels]}

    @classmethod
    def from_json(cls, obj: dict) -> Hierarchy:
        return cls([[tuple(p) for p in lv] for lv in obj["levels"]])

    def fingerprint(self) -> str:
        """Stable hash of the label list (order included): artifacts record it."""
        blob = json.dumps(self.to_json(), ensure_ascii=False, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Hierarchy) and self.labels == other.labels

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def __repr__(self) -> str:
        return f"Hierarchy(depth={self.depth}, sizes={self.sizes}, n_labels={self.n_labels})"


def _show(p: Sequence[str]) -> str:
    return " > ".join(map(str, p)) if p else "<empty path>"


def _check_path(p: Sequence[str]) -> Path:
    if isinstance(p, str) or not isinstance(p, Sequence) or len(p) == 0:
        raise HierarchyError(f"a label path must be a non-empty list of names, got {p!r}")
    for name in p:
        if not isinstance(name, str):
            raise HierarchyError(
                f"label path {list(p)!r}: names must be strings, got {type(name).__name__} {name!r}"
            )
        if not name.strip():
            raise HierarchyError(f"label path {list(p)!r} contains an empty name")
    return tuple(p)
