"""Data a user already holds in memory: a pandas DataFrame or a Hugging Face ``datasets``
Dataset / DatasetDict with a text column and label-path column(s), as an :class:`HTCDataset`.

Labels come either as one column of paths (``labels``: a list of paths, or one path as a list
of names) or as one column per level (``level_cols``, one path per row; an empty cell ends a
shorter path). Unsplit data is split like a JSONL file (64/16/20, stratified by top level).

>>> import pandas as pd
>>> df = pd.DataFrame({"text": ["a b", "c d", "e f"], "l1": ["x", "y", "x"], "l2": ["p", "q", "r"]})
>>> from_frame(df, level_cols=["l1", "l2"]).hierarchy.sizes
[2, 3]
"""

from __future__ import annotations

from collections.abc import Sequence

from .dataset import DataError, HTCDataset, Split, assemble, split_full

SPLIT_NAMES = {"train": "train", "dev": "dev", "validation": "dev", "valid": "dev", "test": "test"}


def _paths(value, where: str) -> list[tuple[str, ...]]:
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise DataError(f"{where}: labels must be a path or a list of paths, got {value!r}")
    paths = [value] if all(isinstance(v, str) for v in value) else list(value)
    out = []
    for p in paths:
        if isinstance(p, str) or not isinstance(p, Sequence) or not p:
            raise DataError(f"{where}: a label path must be a list of names, got {p!r}")
        names = tuple(str(n).strip() for n in p)
        if not all(names):
            raise DataError(f"{where}: empty label name in {list(p)!r}")
        out.append(names)
    return list(dict.fromkeys(out))


def _split_of(rows, text_col: str, label_col: str, level_cols, where: str) -> Split:
    texts, paths = [], []
    for n, row in enumerate(rows, start=1):
        at = f"{where}, row {n}"
        if text_col not in row:
            raise DataError(f"{where}: no text column {text_col!r}; columns: {sorted(row)}")
        text = row[text_col]
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{at}: empty or non-text {text_col!r} ({text!r})")
        if level_cols:
            missing = [c for c in level_cols if c not in row]
            if missing:
                raise DataError(
                    f"{where}: missing level column(s) {missing}; columns: {sorted(row)}"
                )
            names = [row[c] for c in level_cols]
            cut = next(
                (i for i, v in enumerate(names) if v is None or str(v).strip() in ("", "nan")),
                len(names),
            )
            if cut == 0:
                raise DataError(f"{at}: no level-1 label in {level_cols[0]!r}")
            ps = [tuple(str(v).strip() for v in names[:cut])]
        else:
            if label_col not in row:
                raise DataError(f"{where}: no label column {label_col!r}; columns: {sorted(row)}")
            ps = _paths(row[label_col], at)
        texts.append(text.strip())
        paths.append(ps)
    if not texts:
        raise DataError(f"{where}: no rows")
    return Split(texts, paths)


def from_frame(
    df,
    text_col: str = "text",
    label_col: str = "labels",
    level_cols: Sequence[str] | None = None,
    name: str = "frame",
    split_col: str | None = None,
    seed: int = 0,
) -> HTCDataset:
    """A DataFrame as a data set. ``split_col`` (values train/dev|validation/test) keeps a
    given split; otherwise the rows are split 64/16/20 with ``seed``."""
    where = f"DataFrame {name!r}"
    records = df.to_dict("records")
    if split_col is None:
        full = _split_of(records, text_col, label_col, level_cols, where)
        return assemble(
            name, split_full(full, seed, where), where, [f"split 64/16/20, seed {seed}"]
        )
    groups: dict[str, list] = {"train": [], "dev": [], "test": []}
    for n, r in enumerate(records, start=1):
        part = SPLIT_NAMES.get(str(r.get(split_col)).strip().lower())
        if part is None:
            raise DataError(
                f"{where}, row {n}: {split_col}={r.get(split_col)!r}; expected train, dev/validation or test"
            )
        groups[part].append(r)
    parts = [
        _split_of(groups[k], text_col, label_col, level_cols, f"{where} ({k})")
        for k in ("train", "dev", "test")
    ]
    return assemble(name, parts, where, [f"given split from column {split_col!r}"])


def from_hf(
    ds,
    text_col: str = "text",
    label_col: str = "labels",
    level_cols: Sequence[str] | None = None,
    name: str = "hf",
    seed: int = 0,
) -> HTCDataset:
    """A ``datasets.Dataset`` (split here) or ``DatasetDict`` (its train / validation|dev /
    test splits kept) as a data set."""
    if (
        hasattr(ds, "keys")
        and not hasattr(ds, "column_names")
        or isinstance(getattr(ds, "column_names", None), dict)
    ):
        by = {SPLIT_NAMES.get(k.lower()): v for k, v in ds.items() if SPLIT_NAMES.get(k.lower())}
        if set(by) != {"train", "dev", "test"}:
            raise DataError(
                f"DatasetDict {name!r}: splits {sorted(ds.keys())}; expected train, validation (or dev) and test"
            )
        parts = [
            _split_of(by[k], text_col, label_col, level_cols, f"{name} ({k})")
            for k in ("train", "dev", "test")
        ]
        return assemble(name, parts, f"DatasetDict {name!r}", ["given split"])
    where = f"Dataset {name!r}"
    full = _split_of(ds, text_col, label_col, level_cols, where)
    return assemble(name, split_full(full, seed, where), where, [f"split 64/16/20, seed {seed}"])
