"""The WoS-46985 protocol of the HTC literature (HiAGM, HGCLR, HPT), reimplemented.

Every WoS number the paper compares with was produced by one preprocessing script family
(HGCLR's ``data/WebOfScience/preprocess_wos.py``, HPT's ``data_wos.py``). Its rules, as this
module applies them:

1. **Rows** are those of ``Meta-data/Data.txt`` (the tab-separated export of ``Data.xlsx``:
   columns ``Y1 Y2 Y Domain area keywords Abstract``), header skipped, in file order. Not the
   order of ``WOS46985/X.txt``.
2. **Labels are keyed by name**: level 1 is the stripped ``Domain``, level 2 the stripped
   ``area``. An area name used under two domains ("Depression", "Schizophrenia") is one label
   with two parents (:class:`~htclib.data.hierarchy.Hierarchy` with ``keying="name"``).
3. **Merge**: area names that share one ``Y1-Y2`` code are merged, row by row in file order:
   the code's names are collected in order of first appearance, and a row's area becomes the
   *first* name of that list (as seen so far, the row's own included) whose count in the full
   data is strictly greater than its own. Order-dependent on purpose: it is what the script
   does. The counts are those of the full 46,985-row table (:data:`AREA_COUNTS`, the same
   table the script hard-codes); loading the full table recomputes them and checks.
4. **Text**: strip, strip surrounding ``"``, split the English contractions ``'s 've n't 're
   'd 'll`` off with a space, collapse runs of whitespace, lower-case. CSV-style ``""`` inside
   a field is kept as it is (the script does not unquote it).
5. **Split**: NumPy's legacy generator seeded with 7 shuffles the row indices, then
   ``train_test_split(test_size=0.2, random_state=0)`` cuts test and the same call on the rest
   cuts dev: 30,070 / 7,518 / 9,397 on the full data. The same rules apply to any number of
   rows (the 1,000-row sample gives 640 / 160 / 200).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

WOS_COLUMNS = ("Y1", "Y2", "Y", "Domain", "area", "keywords", "Abstract")
FULL_ROWS = 46985
_HEADER = "\t".join(WOS_COLUMNS)
_COUNTS_FILE = Path(__file__).with_name("resources") / "wos_area_counts.json"


class WosFormatError(ValueError):
    """A WoS table that does not have the expected layout (names the file and line)."""


@dataclass
class WosRow:
    y1: str
    y2: str
    domain: str
    area: str
    abstract: str


@cache
def area_counts() -> dict[str, dict[str, int]]:
    """``{domain: {area name: rows}}`` in the full 46,985-row ``Data.xlsx`` (before merging)."""
    return json.loads(_COUNTS_FILE.read_text(encoding="utf-8"))


def is_wos_table(file: str | os.PathLike) -> bool:
    """Whether ``file`` is a WoS ``Data.txt``/tsv export (its header) or ``Data.xlsx``."""
    file = Path(file)
    if file.suffix == ".xlsx":
        return file.name.lower().startswith("data")
    suffixes = file.suffixes[-2:] if file.suffix == ".gz" else file.suffixes[-1:]
    if not suffixes or suffixes[0] not in (".txt", ".tsv"):
        return False
    with _open(file) as f:
        head = f.readline().decode("utf-8", "replace").lstrip("\ufeff").rstrip("\r\n")
    return tuple(c.strip() for c in head.split("\t")) == WOS_COLUMNS


def _open(file: Path):
    import gzip

    return gzip.open(file, "rb") if file.suffix == ".gz" else open(file, "rb")


def read_wos_table(file: str | os.PathLike) -> list[WosRow]:
    """Rows of ``Data.txt`` (or a tsv export of it, gzipped or not) or ``Data.xlsx``, in file
    order."""
    file = Path(file)
    if file.suffix == ".xlsx":
        return _read_xlsx(file)
    with _open(file) as f:
        raw = f.read()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the newline that ends the last row
    if not lines:
        raise WosFormatError(f"{file}: file is empty")
    header = lines[0].decode("utf-8", "replace").rstrip("\r").split("\t")
    if tuple(c.strip() for c in header) != WOS_COLUMNS:
        raise WosFormatError(f"{file}, line 1: expected the WoS header {_HEADER!r}, got {header}")
    rows = []
    for n, b in enumerate(lines[1:], start=2):
        try:
            line = b.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError as e:
            raise WosFormatError(
                f"{file}, line {n}: not valid UTF-8 ({e.reason} at byte {e.start})"
            ) from None
        f = line.split("\t")
        if len(f) != 7:
            raise WosFormatError(f"{file}, line {n}: expected 7 tab-separated fields, got {len(f)}")
        rows.append(_row(f, file, n))
    if not rows:
        raise WosFormatError(f"{file}: no rows after the header")
    return rows


def _read_xlsx(file: Path) -> list[WosRow]:
    import pandas as pd

    df = pd.read_excel(file, dtype=str, keep_default_na=False)
    missing = [c for c in WOS_COLUMNS if c not in df.columns]
    if missing:
        raise WosFormatError(f"{file}: missing column(s) {missing}; found {list(df.columns)}")
    return [
        _row([_as_exported(str(r[c])) for c in WOS_COLUMNS], file, n)
        for n, r in enumerate(df.to_dict("records"), start=2)
    ]


def _as_exported(cell: str) -> str:
    """A cell of ``Data.xlsx`` as ``Data.txt`` (Excel's tab-separated export) holds it: a field
    with a quote, tab or line break is wrapped in quotes with its quotes doubled. The
    literature's script reads ``Data.txt`` and keeps those doubled quotes (rule 4), so the
    workbook's texts are the same from either file (56 of the 1,000 sample abstracts have one)."""
    if any(ch in cell for ch in '"\t\n\r'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def _row(f: list[str], file: Path, n: int) -> WosRow:
    y1, y2 = f[0].strip(), f[1].strip()
    if not (y1.isdigit() and y2.isdigit()):
        raise WosFormatError(f"{file}, line {n}: Y1/Y2 must be integers, got {y1!r}/{y2!r}")
    domain, area = f[3].strip(), f[4].strip()
    if not domain or not area:
        raise WosFormatError(f"{file}, line {n}: empty Domain or area ({domain!r}, {area!r})")
    return WosRow(y1, y2, domain, area, f[6])


_CONTRACTIONS = [(re.compile(p), r) for p, r in (
    (r"\'s", " 's"), (r"\'ve", " 've"), (r"n\'t", " n't"),
    (r"\'re", " 're"), (r"\'d", " 'd"), (r"\'ll", " 'll"),
)]  # fmt: skip
_SPACES = re.compile(r"\s{2,}")


def normalise_text(text: str) -> str:
    """The literature's WoS text cleaning (rule 4 of the module doc)."""
    text = text.strip().strip('"')
    for pattern, repl in _CONTRACTIONS:
        text = pattern.sub(repl, text)
    return _SPACES.sub(" ", text).strip().lower()


def merge_areas(
    rows: list[WosRow], counts: dict[str, dict[str, int]] | None = None
) -> tuple[list[str], dict[str, list[str]]]:
    """The merged area name of every row (rule 3) and the names seen per ``Y1-Y2`` code.

    ``counts`` defaults to the full data's :func:`area_counts`; a name it does not know is an
    error naming the row (the rule is undefined without its count).
    """
    counts = area_counts() if counts is None else counts
    names: dict[str, list[str]] = {}
    merged = []
    for n, r in enumerate(rows, start=1):
        code = f"{r.y1}-{r.y2}"
        seen = names.setdefault(code, [])
        if r.area not in seen:
            seen.append(r.area)
        by_name = counts.get(r.domain, {})
        if r.area not in by_name:
            raise WosFormatError(
                f"row {n}: area {r.area!r} under domain {r.domain!r} has no count in the full "
                "WoS table; pass counts= computed from your rows (count_areas) to merge it"
            )
        area = r.area
        for candidate in seen:
            if by_name.get(candidate, 0) > by_name[area]:
                area = candidate
                break
        merged.append(area)
    return merged, names


def count_areas(rows: list[WosRow]) -> dict[str, dict[str, int]]:
    """``{domain: {area: rows}}`` of the given rows (the full table's equals :func:`area_counts`)."""
    out: dict[str, Counter] = {}
    for r in rows:
        out.setdefault(r.domain, Counter())[r.area] += 1
    return {d: dict(c) for d, c in out.items()}


def wos_split(n: int, seed: int = 7) -> tuple[list[int], list[int], list[int]]:
    """Row indices (train, dev, test) as the literature cuts them (rule 5), in sklearn's order."""
    from sklearn.model_selection import train_test_split

    ids = list(range(n))
    # The script seeds NumPy's global legacy generator and shuffles a Python list; a
    # RandomState with the same seed draws the same permutation without touching global state.
    np.random.RandomState(seed).shuffle(ids)
    rest, test = train_test_split(np.asarray(ids), test_size=0.2, random_state=0)
    train, dev = train_test_split(rest, test_size=0.2, random_state=0)
    return train.tolist(), dev.tolist(), test.tolist()


@dataclass
class WosProtocol:
    """What :func:`apply_protocol` made of a table: texts, name paths, split, what merged."""

    texts: list[str]
    paths: list[tuple[str, str]]
    split: tuple[list[int], list[int], list[int]]
    merged: dict[str, list[str]]
    notes: list[str]


def apply_protocol(rows: list[WosRow], where: str = "") -> WosProtocol:
    """Rules 2-5 on rows in file order."""
    notes = []
    if len(rows) == FULL_ROWS:
        mine = count_areas(rows)
        if mine != area_counts():
            notes.append(
                f"{where}: area counts differ from the published table: merges use the "
                "published counts (the literature's), check your copy of Data.xlsx"
            )
    areas, names = merge_areas(rows)
    merged = {code: v for code, v in names.items() if len(v) > 1}
    texts = [normalise_text(r.abstract) for r in rows]
    for i, t in enumerate(texts):
        if not t:
            raise WosFormatError(f"{where}, row {i + 1}: empty abstract after normalisation")
    paths = [(r.domain, a) for r, a in zip(rows, areas, strict=True)]
    notes.append(
        "WoS protocol of HGCLR/HPT: Data.txt rows, name-keyed labels, merged codes "
        f"{sorted(merged)}, normalised text, seed-7 shuffle then train_test_split(0.2, 0) twice"
    )
    return WosProtocol(texts, paths, wos_split(len(rows)), merged, notes)
