"""Data sets: finding, reading, validating and splitting hierarchical text classification data.

Layouts read by :func:`load` (first match wins inside a data folder):

- ``train.jsonl`` + ``dev.jsonl`` + ``test.jsonl``: already split;
- ``all.jsonl`` or a single other ``*.jsonl``: split here (:func:`split_indices`);
- the WoS ``Meta-data`` table (``Data.txt``, a tsv export of it such as the shared
  ``Data1k.tsv``, or ``Data.xlsx``): the literature's protocol, :mod:`htclib.data.wos` (name-keyed
  labels, merged codes, normalised text, the seed-7 split);
- WoS-46985 ``X.txt``, ``YL1.txt``, ``YL2.txt`` without the table: path-keyed, split with
  :func:`wos_standard_split` (not the literature's membership: prefer the table);
- ``*.csv`` with a text column and one column per level: :func:`read_csv_levels`.

JSONL lines are ``{"text": str, "labels": [[top, ..., leaf], ...]}`` (several paths allowed).
"""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .hierarchy import Hierarchy, HierarchyError

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_NAMES = ("wos", "dbpedia", "amazon3")
#: data shipped inside the package (the WoS 1,000-row sample, CC BY 4.0, SOURCE.md beside it)
BUNDLED = Path(__file__).resolve().parent / "resources"
WOS_URL = "https://data.mendeley.com/public-files/datasets/9rw3vkcfy4/files/c9ea673d-5542-44c0-ab7b-f1311f7d61df/file_downloaded"


class DataError(ValueError):
    """Unusable input data; the message names the file (and line) and what was expected."""


@dataclass
class Split:
    """Texts and their label paths (each text has one or more paths)."""

    texts: list[str]
    paths: list[list[tuple[str, ...]]]

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, idx: Sequence[int]) -> Split:
        return Split([self.texts[i] for i in idx], [self.paths[i] for i in idx])


@dataclass
class HTCDataset:
    """Train/dev/test splits of one data set and the hierarchy built from all its paths."""

    name: str
    train: Split
    dev: Split
    test: Split
    hierarchy: Hierarchy
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def split(self, name: str) -> Split:
        if name not in ("train", "dev", "test"):
            raise ValueError(f"split must be 'train', 'dev' or 'test', got {name!r}")
        return getattr(self, name)

    def y(self, split: str) -> np.ndarray:
        """Multi-hot labels ``(n, n_labels)`` of a split, ancestors included."""
        return self.hierarchy.encode(self.split(split).paths)

    def subset(
        self, n_train: int | None, n_dev: int | None, n_test: int | None, seed: int = 0
    ) -> HTCDataset:
        """A smaller copy (first n of a seeded shuffle of each split); the hierarchy is kept whole."""
        rng = np.random.default_rng(seed)
        parts = {}
        for name, n in (("train", n_train), ("dev", n_dev), ("test", n_test)):
            s = self.split(name)
            order = rng.permutation(len(s))
            parts[name] = s.take(order[: n if n is not None else len(s)].tolist())
        return HTCDataset(
            self.name,
            parts["train"],
            parts["dev"],
            parts["test"],
            self.hierarchy,
            self.source,
            self.notes + [f"subset {n_train}/{n_dev}/{n_test} seed {seed}"],
        )

    def summary(self) -> pd.DataFrame:
        """One row per split: sizes, labels present per level, multi-path texts, text length."""
        rows = []
        for name in ("train", "dev", "test"):
            s = self.split(name)
            y = self.hierarchy.encode(s.paths)
            row = {"split": name, "texts": len(s)}
            for lv in range(self.hierarchy.depth):
                row[f"L{lv + 1} labels"] = int((self.hierarchy.level(y, lv).sum(0) > 0).sum())
            row["multi-path"] = sum(len(p) > 1 for p in s.paths)
            row["mean words"] = (
                round(float(np.mean([len(t.split()) for t in s.texts])), 1) if len(s) else 0.0
            )
            rows.append(row)
        total = {"split": "all", "texts": len(self.train) + len(self.dev) + len(self.test)}
        for lv, n in enumerate(self.hierarchy.sizes):
            total[f"L{lv + 1} labels"] = n  # the label set: every label of every split
        total["multi-path"] = sum(r["multi-path"] for r in rows)
        total["mean words"] = round(
            float(
                np.mean(
                    [len(t.split()) for s in (self.train, self.dev, self.test) for t in s.texts]
                )
            ),
            1,
        )
        rows.append(total)
        return pd.DataFrame(rows).set_index("split")

    def label_counts(self, split: str = "train") -> pd.DataFrame:
        """Per-label example counts in a split: label, level, count (sorted by level, count)."""
        y = self.y(split)
        h = self.hierarchy
        df = pd.DataFrame(
            {
                "label": [h.display(i) for i in range(h.n_labels)],
                "level": h.level_of + 1,
                "count": y.sum(0).astype(int),
            }
        )
        return df.sort_values(["level", "count"], ascending=[True, False]).reset_index(drop=True)


def single_path(ds: HTCDataset, tolerance: float = 0.01) -> bool:
    """Whether texts (all but ``tolerance`` of them) have one label path.

    amazon3 has 0.29% multi-path titles (partly noise, its SOURCE.md says): best-path decoding
    is still the natural reading there, at the cost of recall on those few texts.
    """
    counts = [len(p) for s in (ds.train, ds.dev, ds.test) for p in s.paths]
    return sum(c > 1 for c in counts) <= tolerance * len(counts)


# ---- locating data -------------------------------------------------------------------------
def candidate_dirs(name: str) -> list[Path]:
    """Where :func:`find_data` looks, in order (after an explicit path)."""
    out = []
    env = os.environ.get("HTCLIB_DATA")
    if env:
        out += [Path(env) / name, Path(env)]
    out += [REPO_ROOT.parent / "shared" / "data" / name, REPO_ROOT / "data" / name]
    if (BUNDLED / name).is_dir():  # last: the demo runs on a bare machine
        out.append(BUNDLED / name)
    return out


def describe_source(source: str | os.PathLike) -> str:
    """Where data came from, without this machine's absolute paths (notebooks are committed
    with their outputs): relative to the checkout, ``$HTCLIB_DATA``, or the bundled sample."""
    p = Path(source).resolve()
    env = os.environ.get("HTCLIB_DATA")
    for root, shown in (
        (BUNDLED, "htclib/data/resources (the bundled sample)"),
        (Path(env).resolve() if env else None, "$HTCLIB_DATA"),
        (REPO_ROOT, "."),
        (REPO_ROOT.parent, ".."),
    ):
        if root is not None and (p == root or root in p.parents):
            return f"{shown}/{p.relative_to(root)}" if p != root else shown
    return p.name


def find_data(name: str, path: str | os.PathLike | None = None) -> Path:
    """The folder (or file) holding data set ``name``; a clear error lists where it looked."""
    if path is not None:
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(f"data path {p} does not exist")
        return p
    tried = candidate_dirs(name)
    for d in tried:
        if d.is_dir() and _has_data(d):
            return d
    hint = (
        "htclib.data.download_wos() fetches it (needs internet)"
        if name == "wos"
        else "put train/dev/test.jsonl or all.jsonl there"
    )
    raise FileNotFoundError(
        f"data set {name!r} not found; looked in: "
        + ", ".join(str(d) for d in tried)
        + f". Set HTCLIB_DATA, pass path=..., or {hint}."
    )


def _has_data(d: Path) -> bool:
    return (
        any(d.glob("*.jsonl"))
        or (d / "X.txt").exists()
        or any(d.glob("*.csv"))
        or _wos_table(d) is not None
    )


def _wos_table(d: Path) -> Path | None:
    """The WoS Meta-data table in folder ``d`` (Data.txt / a tsv export / Data.xlsx), if any."""
    from .wos import is_wos_table

    cands = [f for pat in ("*.txt", "*.tsv", "*.tsv.gz", "*.xlsx") for f in sorted(d.glob(pat))]
    return next((f for f in cands if f.is_file() and is_wos_table(f)), None)


# ---- reading -------------------------------------------------------------------------------
def _read_lines(file: Path) -> list[str]:
    raw = file.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):  # the UTF-8 BOM Excel and many Windows tools write
        raw = raw[3:]
    if not raw.strip():
        raise DataError(f"{file}: file is empty")
    lines = raw.split(b"\n")
    out = []
    for n, b in enumerate(lines, start=1):
        try:
            out.append(b.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise DataError(
                f"{file}, line {n}: not valid UTF-8 ({e.reason} at byte {e.start})"
            ) from None
    return out


def json_type(value) -> str:
    """A JSON value's type as the file's author wrote it (null, not NoneType)."""
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "a list", dict: "an object"}.get(type(value), type(value).__name__)  # fmt: skip


def read_jsonl(file: str | os.PathLike) -> Split:
    """Read ``{"text", "labels"}`` lines; every problem names the file and line."""
    file = Path(file)
    texts, paths = [], []
    for n, line in enumerate(_read_lines(file), start=1):
        if not line.strip():
            continue
        where = f"{file}, line {n}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{where}: malformed JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(obj, dict):
            raise DataError(f"{where}: expected a JSON object, got {json_type(obj)}")
        for key in ("text", "labels"):
            if key not in obj:
                raise DataError(f"{where}: missing key {key!r}")
        text = obj["text"]
        if not isinstance(text, str):
            raise DataError(f"{where}: 'text' must be a string, got {json_type(text)}")
        if not text.strip():
            raise DataError(f"{where}: empty text")
        labels = obj["labels"]
        if (
            not isinstance(labels, list)
            or not labels
            or not all(isinstance(p, list) and p for p in labels)
        ):
            raise DataError(
                f"{where}: 'labels' must be a non-empty list of label paths "
                f'like [["top", "leaf"]], got {labels!r}'
            )
        for p in labels:
            for name in p:
                if not isinstance(name, str) or not name.strip():
                    raise DataError(
                        f"{where}: label names must be non-empty strings, got {name!r} in {p!r}"
                    )
        texts.append(text.strip())
        paths.append(_dedupe([tuple(s.strip() for s in p) for p in labels]))
    if not texts:
        raise DataError(f"{file}: no records")
    return Split(texts, paths)


def read_csv_levels(file: str | os.PathLike, text_col: str, level_cols: Sequence[str]) -> Split:
    """Read a CSV with one text column and one column per level (one path per row)."""
    file = Path(file)
    content = "\n".join(_read_lines(file))
    reader = csv.DictReader(io.StringIO(content))
    missing = [c for c in [text_col, *level_cols] if c not in (reader.fieldnames or [])]
    if missing:
        raise DataError(f"{file}: missing column(s) {missing}; found {reader.fieldnames}")
    texts, paths = [], []
    for n, row in enumerate(reader, start=2):
        text = (row[text_col] or "").strip()
        if not text:
            raise DataError(f"{file}, line {n}: empty text")
        path = tuple((row[c] or "").strip() for c in level_cols)
        if not all(path):
            raise DataError(f"{file}, line {n}: empty label in {list(path)}")
        texts.append(text)
        paths.append([path])
    if not texts:
        raise DataError(f"{file}: no records")
    return Split(texts, paths)


def _dedupe(paths: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    return list(dict.fromkeys(paths))


# ---- splitting -----------------------------------------------------------------------------
def split_indices(
    n: int,
    strata: Sequence[str] | None = None,
    seed: int = 0,
    test_size: float = 0.2,
    dev_size: float = 0.2,
    where: str = "data",
) -> tuple[list[int], list[int], list[int]]:
    """Deterministic train/dev/test indices: test first, then dev from the remainder.

    Defaults give 64/16/20, the proportions of the WoS standard split. ``strata`` (e.g. the
    top-level label) stratifies both cuts; classes with fewer than 2 members on a cut are
    pooled into one stratum. Too little data for a split, or more top-level labels than a
    stratified test split can hold, is a :class:`DataError` saying how many texts there are,
    how many are needed and which label is too small (``where`` names the source).
    """
    import math

    from sklearn.model_selection import train_test_split

    n_test = math.ceil(test_size * n)
    n_dev = math.ceil(dev_size * (n - n_test))
    if n - n_test - n_dev < 1:
        raise DataError(
            f"{where}: {n} text(s); a train/dev/test split ({1 - test_size:.0%} then "
            f"{1 - dev_size:.0%} of the rest for training) needs at least 3 texts, one per split "
            "(more to learn anything). Add texts or give train.jsonl, dev.jsonl and test.jsonl."
        )
    idx = np.arange(n)

    def cut(ids, size, part):
        s = None
        if strata is not None:
            lab = np.array([strata[i] for i in ids], dtype=object)
            counts = Counter(lab)
            s = np.array([x if counts[x] >= 2 else "<rare>" for x in lab], dtype=object)
            k, need = len(set(s)), math.ceil(size * len(ids))
            if Counter(s).most_common()[-1][1] < 2:
                s = None
            elif need < k or len(ids) - need < k:
                small = min(counts, key=lambda x: (counts[x], str(x)))
                of = (
                    f"{n} texts"
                    if part == "test"
                    else f"the {len(ids)} texts left after the test cut"
                )
                raise DataError(
                    f"{where}: {of}, {k} top-level label groups: a stratified "
                    f"{part} cut of {need} texts cannot hold one of each (the smallest "
                    f"top-level label is {small!r} with {counts[small]} text(s)). Add texts "
                    f"(about {math.ceil(k / size)} or more) or give train/dev/test.jsonl."
                )
        return train_test_split(ids, test_size=size, random_state=seed, stratify=s)

    rest, test = cut(idx, test_size, "test")
    train, dev = cut(rest, dev_size, "dev")
    return sorted(train.tolist()), sorted(dev.tolist()), sorted(test.tolist())


def wos_standard_split(n: int) -> tuple[list[int], list[int], list[int]]:
    """The split HTC papers use on WoS-46985 (30,070 / 7,518 / 9,397).

    ``train_test_split(test_size=0.2, random_state=0)`` on the rows in file order, then the
    same call on the remainder for dev; no stratification, order as sklearn returns it.
    """
    from sklearn.model_selection import train_test_split

    rest, test = train_test_split(np.arange(n), test_size=0.2, random_state=0)
    train, dev = train_test_split(rest, test_size=0.2, random_state=0)
    return train.tolist(), dev.tolist(), test.tolist()


# ---- loading -------------------------------------------------------------------------------
def load(
    name: str,
    path: str | os.PathLike | None = None,
    seed: int = 0,
    text_col: str = "text",
    level_cols: Sequence[str] | None = None,
) -> HTCDataset:
    """Load data set ``name`` (``wos``, ``dbpedia``, ``amazon3`` or any folder/file).

    >>> ds = load("amazon3")            # doctest: +SKIP
    >>> ds.summary()                    # doctest: +SKIP
    """
    where = find_data(name, path)
    notes: list[str] = []
    if path is None and BUNDLED in where.resolve().parents:
        _warn_bundled(name, where)
        notes.append("the bundled demo sample (no full data found)")
    if where.is_file():
        files = {where.name: where}
        where_dir = where.parent
    else:
        files = {f.name: f for f in where.iterdir() if f.is_file()}
        where_dir = where
    keying = "path"
    wos_table = (
        where
        if where.is_file() and _is_wos_file(where)
        else (_wos_table(where_dir) if where.is_dir() else None)
    )
    if all(k in files for k in ("train.jsonl", "dev.jsonl", "test.jsonl")):
        parts = [read_jsonl(files[f"{k}.jsonl"]) for k in ("train", "dev", "test")]
        notes.append("given train/dev/test split")
    elif wos_table is not None:
        from .wos import WosFormatError, apply_protocol, read_wos_table

        try:
            proto = apply_protocol(read_wos_table(wos_table), str(wos_table))
        except WosFormatError as e:
            raise DataError(str(e)) from None
        full = Split(proto.texts, [[p] for p in proto.paths])
        parts = [full.take(i) for i in proto.split]
        keying = "name"
        notes += proto.notes
        source_note = f"{wos_table.name}: {len(full)} rows"
        notes.append(source_note)
    elif all(k in files for k in ("X.txt", "YL1.txt", "YL2.txt")):
        full = read_wos_raw(where_dir)
        ids = wos_standard_split(len(full))
        parts = [full.take(i) for i in ids]
        notes.append("WoS standard split: train_test_split(test_size=0.2, random_state=0) twice")
    else:
        jsonl = [f for k, f in sorted(files.items()) if k.endswith(".jsonl")]
        csvs = [f for k, f in sorted(files.items()) if k.endswith(".csv")]
        if "all.jsonl" in files:
            full = read_jsonl(files["all.jsonl"])
        elif len(jsonl) == 1:
            full = read_jsonl(jsonl[0])
        elif len(csvs) == 1 and level_cols:
            full = read_csv_levels(csvs[0], text_col, level_cols)
        else:
            raise DataError(
                f"{where}: expected train/dev/test.jsonl, all.jsonl, one *.jsonl, "
                f"WoS X.txt/YL1.txt/YL2.txt or one CSV with its level columns named (Python: "
                f"level_cols=[...]; htclib: --level-cols a,b); found {sorted(files)}"
            )
        parts = split_full(full, seed, str(where))
        notes.append(f"split 64/16/20 stratified by top level, seed {seed}")
    return assemble(name, parts, str(where), notes, keying)


_WARNED_BUNDLED: set[str] = set()


def _warn_bundled(name: str, where: Path) -> None:
    """Said once a process: the numbers then come from the package's small sample."""
    if name in _WARNED_BUNDLED:
        return
    _WARNED_BUNDLED.add(name)
    import warnings

    warnings.warn(
        f"data set {name!r}: no copy found in $HTCLIB_DATA, ../shared/data or data/; using the "
        f"sample bundled with htclib ({where.name}/, a demo). Set HTCLIB_DATA or pass path= "
        "for the real data.",
        UserWarning,
        stacklevel=3,
    )


def bundled_notice(names: Sequence[str]) -> str | None:
    """One plain sentence for the data sets among ``names`` that would come from the bundled
    demo sample, or None. Said here (a notebook's banner), the warning ``load`` would give is
    counted as said: a reader sees it once, as text, not as a stderr block in a committed
    notebook."""
    fallback = []
    for name in names:
        try:
            where = find_data(name)
        except FileNotFoundError:
            continue  # load() names where it looked when it is asked for this one
        if BUNDLED in where.resolve().parents:
            fallback.append(name)
            _WARNED_BUNDLED.add(name)
    if not fallback:
        return None
    sets = ", ".join(f"`{n}`" for n in fallback)
    return (
        f"**Data:** no copy of {sets} was found in `$HTCLIB_DATA`, `../shared/data` or `data/`, "
        "so this notebook uses the small sample bundled with htclib (a demo: its numbers are "
        "not the committed results'). Set `HTCLIB_DATA` to the real data's folder to change it."
    )


def split_full(full: Split, seed: int = 0, where: str = "data") -> list[Split]:
    """``[train, dev, test]`` of one unsplit :class:`Split` (64/16/20, stratified by top level)."""
    ids = split_indices(len(full), strata=[p[0][0] for p in full.paths], seed=seed, where=where)
    return [full.take(i) for i in ids]


def assemble(
    name: str, parts: Sequence[Split], where: str, notes: list[str], keying: str = "path"
) -> HTCDataset:
    """An :class:`HTCDataset` from its three splits, the hierarchy built from all their paths."""
    all_paths = [p for s in parts for ps in s.paths for p in ps]
    try:
        hierarchy = Hierarchy.from_paths(all_paths, keying=keying)
    except HierarchyError as e:
        raise DataError(f"{where}: {e}") from None
    return HTCDataset(name, *parts, hierarchy=hierarchy, source=where, notes=notes)


def _is_wos_file(f: Path) -> bool:
    from .wos import is_wos_table

    return is_wos_table(f)


def read_wos_raw(folder: str | os.PathLike) -> Split:
    """WoS ``X.txt`` / ``YL1.txt`` / ``YL2.txt`` (one line per document, same order).

    Names come from ``Data.xlsx`` (columns Y1, Y2, Domain, area) when it is there, else the
    ids are used as names (``"domain 3"``, ``"area 3.12"``).
    """
    folder = Path(folder)
    x, y1, y2 = (
        [t.strip() for t in _read_lines(folder / f)] for f in ("X.txt", "YL1.txt", "YL2.txt")
    )
    while x and not x[-1]:  # a trailing newline is not a document
        x.pop()
    y1, y2 = [v for v in y1 if v], [v for v in y2 if v]
    if not (len(x) == len(y1) == len(y2)):
        raise DataError(
            f"{folder}: X.txt has {len(x)} lines, YL1.txt {len(y1)}, YL2.txt {len(y2)}; expected equal"
        )
    names: dict[tuple[str, str], tuple[str, str]] = {}
    xlsx = folder / "Data.xlsx"
    if xlsx.exists():
        meta = pd.read_excel(xlsx)
        for r in meta.itertuples():
            names[(str(int(r.Y1)), str(int(r.Y2)))] = (str(r.Domain).strip(), str(r.area).strip())
    texts, paths = [], []
    for n, (t, a, b) in enumerate(zip(x, y1, y2, strict=True), start=1):
        if not t:
            raise DataError(f"{folder / 'X.txt'}, line {n}: empty text")
        if not (a.isdigit() and b.isdigit()):
            raise DataError(f"{folder}, line {n}: YL1/YL2 must be integers, got {a!r}/{b!r}")
        texts.append(t)
        paths.append([names.get((a, b), (f"domain {a}", f"area {a}.{b}"))])
    return Split(texts, paths)


def unpack_wos(archive: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Unpack the Mendeley WebOfScience.zip (nested zips allowed) to ``dest``; returns ``dest``.

    Keeps ``WOS46985/{X,YL1,YL2}.txt`` and ``Meta-data/Data.{xlsx,txt}`` (the table the
    literature's protocol reads) in ``dest``; fails clearly when they are not in the archive.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    wanted = {"X.txt", "YL1.txt", "YL2.txt"}
    found: dict[str, bytes] = {}

    def walk(zf: zipfile.ZipFile):
        for info in zf.infolist():
            base = info.filename.rsplit("/", 1)[-1]
            if info.filename.endswith(".zip"):
                with zipfile.ZipFile(io.BytesIO(zf.read(info))) as inner:
                    walk(inner)
            elif "WOS46985/" in info.filename and base in wanted:
                found[base] = zf.read(info)
            elif base in ("Data.xlsx", "Data.txt") and "Meta-data/" in info.filename:
                found[base] = zf.read(info)

    try:
        with zipfile.ZipFile(archive) as zf:
            bad = zf.testzip()
            if bad:
                raise DataError(f"{archive}: corrupt member {bad}")
            walk(zf)
    except zipfile.BadZipFile as e:
        raise DataError(f"{archive}: not a zip archive ({e})") from None
    missing = wanted - found.keys()
    if missing:
        raise DataError(f"{archive}: WOS46985/{sorted(missing)} not found in the archive")
    from ..io import atomic_write_bytes

    for base, blob in found.items():
        atomic_write_bytes(dest / base, blob)
    return dest


def download_wos(dest: str | os.PathLike | None = None, url: str = WOS_URL) -> Path:
    """Download WoS (Mendeley data 9rw3vkcfy4, CC BY 4.0) and unpack it to ``data/wos/``.

    Needs internet. The archive is verified (zip CRCs, expected members, 46,985 rows).
    """
    import tempfile
    import urllib.request

    from tqdm import tqdm  # text bars: no widget state to go stale in a saved notebook

    dest = Path(dest) if dest else REPO_ROOT / "data" / "wos"
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "WebOfScience.zip"
        with urllib.request.urlopen(url) as resp, open(archive, "wb") as out:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc="WebOfScience.zip") as bar:
                while chunk := resp.read(1 << 20):
                    out.write(chunk)
                    bar.update(len(chunk))
        unpack_wos(archive, dest)
    ds = load("wos", dest)
    n = len(ds.train) + len(ds.dev) + len(ds.test)
    if n != 46985:
        raise DataError(f"{dest}: expected 46,985 WoS documents, got {n}")
    return dest


def summaries(data: dict[str, HTCDataset]) -> pd.DataFrame:
    """:meth:`HTCDataset.summary` of several data sets in one table: the label columns of every
    depth in order, "-" where a data set has no such level."""
    out = pd.concat({d: ds.summary() for d, ds in data.items()}, names=["dataset", "split"])
    out = out.reset_index()
    levels = sorted((c for c in out.columns if c.endswith(" labels")), key=lambda c: int(c[1:-7]))
    rest = [c for c in out.columns if c not in levels and c not in ("dataset", "split", "texts")]
    out = out[["dataset", "split", "texts", *levels, *rest]]
    for c in levels:
        out[c] = out[c].map(lambda v: "-" if pd.isna(v) else int(v)).astype(object)
    return out
