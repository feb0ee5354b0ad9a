"""Building a taxonomy from what data sets give: label paths or parent-child edges, checked,
each error naming the label and what was expected. :class:`htclib.data.hierarchy.Hierarchy`
holds the result (ids, levels, edges, multi-hot conversion)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

Path = tuple[str, ...]


class HierarchyError(ValueError):
    """A taxonomy or a label path that cannot be used (names the label and what was expected)."""


def levels_from_paths(
    paths: Iterable[Sequence[str]], allow_partial: bool = True, keying: str = "path"
) -> tuple[list[set[Path]], set | None]:
    """Label keys per level from label paths (every prefix of a path is a label), and the
    name-keyed edges ``(child level, parent name, child name)`` (None for path keying)."""
    if keying not in ("path", "name"):
        raise HierarchyError(f"keying must be 'path' or 'name', got {keying!r}")
    paths = [check_path(p) for p in paths]
    if not paths:
        raise HierarchyError("no label paths given")
    depth = max(len(p) for p in paths)
    if not allow_partial:
        for p in paths:
            if len(p) != depth:
                raise HierarchyError(
                    f"label path {show(p)} has depth {len(p)}, expected {depth} "
                    "(pass allow_partial=True for taxonomies of mixed depth)"
                )
    levels: list[set[Path]] = [set() for _ in range(depth)]
    if keying == "name":
        edges = set()
        for p in paths:
            for d, name in enumerate(p):
                levels[d].add((name,))
                if d:
                    edges.add((d, p[d - 1], name))
        return levels, edges
    for p in paths:
        for d in range(1, len(p) + 1):
            levels[d - 1].add(p[:d])
    return levels, None


def paths_from_edges(edges: Iterable[tuple[str | None, str]]) -> list[Path]:
    """Root-to-label paths from ``(parent_name, child_name)`` pairs (unique names; a child with
    two parents or a cycle is an error)."""
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
    return paths


def resolve_parents(
    levels: list[list[Path]], labels: list[Path], key_id: dict, edges
) -> list[list[int]]:
    """Each label's parent ids: by path (a label's parent is its path minus the last name) or,
    with ``edges``, by name per level. ``key_id`` maps ``(level, key)`` to a label's id."""
    level_of = np.array([d for d, lv in enumerate(levels) for _ in lv], dtype=np.int64)
    parents: list[list[int]] = [[] for _ in labels]
    if edges is None:
        for depth, lv in enumerate(levels, start=1):
            for p in lv:
                if len(p) != depth:
                    raise HierarchyError(
                        f"label {show(p)} has depth {len(p)} but is on level {depth}"
                    )
        for i, p in enumerate(labels):
            if len(p) > 1:
                par = key_id.get((len(p) - 2, p[:-1]))
                if par is None:
                    raise HierarchyError(
                        f"label {show(p)} has no parent {show(p[:-1])} in the hierarchy"
                    )
                parents[i].append(par)
    else:
        for p in labels:
            if len(p) != 1:
                raise HierarchyError(f"name-keyed label {p!r} must be a 1-tuple (name,)")
        for lv, par, child in sorted(set(edges)):
            c, pa = key_id.get((lv, (child,))), key_id.get((lv - 1, (par,)))
            if c is None or pa is None:
                raise HierarchyError(
                    f"edge {par!r} -> {child!r} (level {lv + 1}) names a label not in the hierarchy"
                )
            parents[c].append(pa)
        for i, ps in enumerate(parents):
            if level_of[i] > 0 and not ps:
                raise HierarchyError(f"label {labels[i][0]!r} has no parent")
    return parents


def show(p: Sequence[str]) -> str:
    return " > ".join(map(str, p)) if p else "<empty path>"


def check_path(p: Sequence[str]) -> Path:
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
