"""Amazon Beauty, the paper's second data set, built from the public product metadata.

Source: McAuley et al.'s Amazon product data (2014 crawl, SNAP), ``meta_Beauty.json.gz``:
one Python dict literal per line (single quotes, so not JSON) with ``asin``, ``title`` and
``categories``, a list of category paths such as ``['Beauty', 'Skin Care', 'Face']``.

The builder's rules, each one a choice the paper does not spell out:

1. Each line is parsed with ``ast.literal_eval`` (never ``eval``); a line that is not a dict
   literal is an error naming the line.
2. Text: the ``title``, whitespace collapsed. Products without a non-empty title are dropped
   (counted in the report as ``no_title``).
3. Label paths: the ``categories`` paths whose first name is ``Beauty``, with that root
   removed (it is shared by every product), cut to ``max_depth`` levels (5, the paper's
   depth); paths that become empty are dropped; a path that is a prefix of another path of
   the same product is dropped (the longer one implies it); duplicates are removed. A
   product may keep several paths. Products left with none are dropped (``no_beauty_path``).
4. Labels are path-keyed (the same name under two parents is two labels).
5. Labels seen on fewer than ``min_label_count`` products are cut from the paths (the path is
   truncated above them); 1 keeps everything.
6. Split: ``test_size=0.3`` then ``0.2`` of the rest for dev (seed ``seed``), the proportions
   of the paper's 116,240 / 29,061 / 62,273: on 207,574 texts exactly those sizes.

How close this gets to the paper (241 labels, 207,574 texts) can only be measured with the
real file, which this machine cannot fetch: the report that :func:`build_amazon_beauty`
writes next to the data gives the counts to compare.
"""

from __future__ import annotations

import ast
import gzip
import json
import os
from collections import Counter
from pathlib import Path

from .dataset import DataError

BEAUTY_URL = "http://snap.stanford.edu/data/amazon/productGraph/categoryFiles/meta_Beauty.json.gz"
PAPER_SIZES = {"train": 116240, "dev": 29061, "test": 62273, "labels": 241}


def _paths(categories, max_depth: int) -> list[tuple[str, ...]]:
    """Rule 3: the product's Beauty paths, root removed, cut to ``max_depth``, cleaned."""
    cut = []
    for cat in categories or []:
        if not isinstance(cat, (list, tuple)) or not cat or str(cat[0]).strip() != "Beauty":
            continue
        p = tuple(" ".join(str(c).split()) for c in cat[1 : 1 + max_depth])
        cut.append(p[: next((i for i, c in enumerate(p) if not c), len(p))])  # stop at ""
    return _clean(cut)


def _clean(paths: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Drop empty paths, duplicates and paths that are a prefix of another path."""
    paths = list(dict.fromkeys(p for p in paths if p))
    return [p for p in paths if not any(q != p and q[: len(p)] == p for q in paths)]


def read_meta(meta_file: str | os.PathLike, max_depth: int = 5, progress: bool = True):
    """``(texts, paths, report)`` from a ``meta_*.json.gz`` (or plain) file, rules 1-3."""
    from tqdm import tqdm  # text bars: no widget state to go stale in a saved notebook

    meta_file = Path(meta_file)
    opener = gzip.open if meta_file.suffix == ".gz" else open
    texts, paths = [], []
    report = Counter()
    with opener(meta_file, "rt", encoding="utf-8") as f:
        for n, line in enumerate(tqdm(f, desc=meta_file.name, disable=not progress), start=1):
            if not line.strip():
                continue
            report["lines"] += 1
            try:
                obj = ast.literal_eval(line)
            except (ValueError, SyntaxError, MemoryError, RecursionError) as e:
                raise DataError(
                    f"{meta_file}, line {n}: not a Python dict literal ({type(e).__name__})"
                ) from None
            if not isinstance(obj, dict):
                raise DataError(f"{meta_file}, line {n}: expected a dict, got {type(obj).__name__}")
            title = " ".join(str(obj.get("title") or "").split())
            if not title:
                report["no_title"] += 1
                continue
            ps = _paths(obj.get("categories"), max_depth)
            if not ps:
                report["no_beauty_path"] += 1
                continue
            texts.append(title)
            paths.append(ps)
    if not texts:
        raise DataError(f"{meta_file}: no product with a title and a Beauty category path")
    report["kept"] = len(texts)
    return texts, paths, dict(report)


def _prune(paths: list[list[tuple[str, ...]]], min_count: int) -> list[list[tuple[str, ...]]]:
    """Rule 5: truncate every path above its first label seen on fewer than ``min_count``
    products."""
    if min_count <= 1:
        return paths
    seen = Counter(q for ps in paths for q in {p[:d] for p in ps for d in range(1, len(p) + 1)})
    out = []
    for ps in paths:
        cut = []
        for p in ps:
            d = next((d for d in range(1, len(p) + 1) if seen[p[:d]] < min_count), len(p) + 1)
            cut.append(p[: d - 1])
        out.append(_clean(cut))
    return out


def build_amazon_beauty(
    meta_file: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    max_depth: int = 5,
    min_label_count: int = 1,
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """Build Amazon Beauty (rules in the module doc) as ``train/dev/test.jsonl`` in ``out_dir``
    (default ``data/amazon-beauty/``) and return the report (also written as ``report.json``).

    >>> build_amazon_beauty("meta_Beauty.json.gz")   # doctest: +SKIP
    """
    from sklearn.model_selection import train_test_split

    from ..io import atomic_write_json, atomic_write_text, ensure_writable_dir
    from .dataset import REPO_ROOT
    from .hierarchy import Hierarchy

    texts, paths, report = read_meta(meta_file, max_depth, progress)
    paths = _prune(paths, min_label_count)
    keep = [i for i, ps in enumerate(paths) if ps]
    report["no_path_after_pruning"] = len(texts) - len(keep)
    texts, paths = [texts[i] for i in keep], [paths[i] for i in keep]
    if len(texts) < 10:
        raise DataError(f"{meta_file}: {len(texts)} usable products; a split needs at least 10")
    ids = list(range(len(texts)))
    rest, test = train_test_split(ids, test_size=0.3, random_state=seed)
    train, dev = train_test_split(rest, test_size=0.2, random_state=seed)
    out = ensure_writable_dir(Path(out_dir) if out_dir else REPO_ROOT / "data" / "amazon-beauty")
    for name, part in (("train", train), ("dev", dev), ("test", test)):
        lines = [
            json.dumps(
                {"text": texts[i], "labels": [list(p) for p in paths[i]]}, ensure_ascii=False
            )
            for i in sorted(part)
        ]
        atomic_write_text(out / f"{name}.jsonl", "\n".join(lines) + "\n")
    h = Hierarchy.from_paths([p for ps in paths for p in ps])
    report.update(
        texts=len(texts),
        train=len(train),
        dev=len(dev),
        test=len(test),
        labels=h.n_labels,
        labels_per_level=h.sizes,
        multi_path=sum(len(ps) > 1 for ps in paths),
        rules={"max_depth": max_depth, "min_label_count": min_label_count, "seed": seed},
        paper=PAPER_SIZES,
    )
    atomic_write_json(out / "report.json", report)
    return report


def download_amazon_beauty(
    dest: str | os.PathLike | None = None, url: str = BEAUTY_URL, progress: bool = True
) -> Path:
    """Download ``meta_Beauty.json.gz`` (needs internet) to ``dest`` (default ``data/``)."""
    import urllib.request

    from tqdm import tqdm  # text bars: no widget state to go stale in a saved notebook

    from .dataset import REPO_ROOT

    dest = Path(dest) if dest else REPO_ROOT / "data" / "meta_Beauty.json.gz"
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".part")
    with urllib.request.urlopen(url) as resp, open(tmp, "wb") as out:
        total = int(resp.headers.get("Content-Length") or 0) or None
        with tqdm(
            total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress
        ) as bar:
            while chunk := resp.read(1 << 20):
                out.write(chunk)
                bar.update(len(chunk))
    os.replace(tmp, dest)  # a broken download never sits under the final name
    return dest
