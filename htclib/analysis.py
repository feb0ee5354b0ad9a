"""Post-hoc views of finished runs: per-label F1 against frequency, and the most confused labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .experiment import DataConfig, get_data
from .metrics import decode, per_label_f1
from .results import decoding_for, method_label


def _probs(record: dict, results_dir) -> np.ndarray | None:
    f = Path(results_dir) / "runs" / record["key"] / "test_probs.npy"
    return np.load(f) if f.exists() else None


def best_per_method(records: list[dict], dataset: str) -> list[dict]:
    """The best run (test micro-F1 under its table decoding) of each method on ``dataset``."""
    best: dict[str, dict] = {}
    for r in records:
        if r["dataset"] != dataset:
            continue
        m = method_label(r)
        s = r["test"][f"{decoding_for(r)}/micro_f1"]
        if m not in best or s > best[m]["test"][f"{decoding_for(best[m])}/micro_f1"]:
            best[m] = r
    return list(best.values())


def per_label_frame(records: list[dict], results_dir) -> pd.DataFrame:
    """One row per (model, label): level, training count, test F1 (NaN when absent from test)."""
    rows = []
    for r in records:
        probs = _probs(r, results_dir)
        if probs is None:
            continue
        ds = get_data(DataConfig(**r["config"]["data"]))
        h = ds.hierarchy
        pred = decode(probs, h, decoding_for(r))
        f1 = per_label_f1(ds.y("test"), pred)
        counts = ds.y("train").sum(0)
        name = method_label(r, with_variant=True)
        for i in range(h.n_labels):
            rows.append(
                {
                    "model": name,
                    "dataset": r["dataset"],
                    "label": h.display(i),
                    "level": int(h.level_of[i]) + 1,
                    "train_count": int(counts[i]),
                    "f1": f1[i],
                }
            )
    return (
        pd.DataFrame(rows).dropna(subset=["f1"])
        if rows
        else pd.DataFrame(columns=["model", "dataset", "label", "level", "train_count", "f1"])
    )


def confusion_pairs(record: dict, results_dir, level: int = 2) -> pd.DataFrame:
    """(gold, predicted) level-``level`` label pairs that differ, most frequent first."""
    probs = _probs(record, results_dir)
    cols = ["gold", "pred", "count"]
    if probs is None:
        return pd.DataFrame(columns=cols)
    ds = get_data(DataConfig(**record["config"]["data"]))
    h = ds.hierarchy
    if level > h.depth:
        return pd.DataFrame(columns=cols)
    sl = h.level_slices[level - 1]
    pred = decode(probs, h, decoding_for(record))[:, sl]
    gold = ds.y("test")[:, sl]
    pairs = {}
    for g, p in zip(gold, pred, strict=True):
        gi, pi = set(np.flatnonzero(g)), set(np.flatnonzero(p))
        for a in gi - pi:
            for b in (pi - gi) or {None}:
                key = (h.name(sl.start + a), h.name(sl.start + b) if b is not None else "(nothing)")
                pairs[key] = pairs.get(key, 0) + 1
    df = pd.DataFrame([(g, p, c) for (g, p), c in pairs.items()], columns=cols)
    return df.sort_values("count", ascending=False).reset_index(drop=True)
