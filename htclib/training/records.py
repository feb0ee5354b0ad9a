"""Compact per-text test predictions: what the bootstrap needs, small enough for git.

``test_pred.json`` next to a run's ``result.json``: the gold label ids of every test text and
the ids each decoding predicts (the headline's sigmoid > 0.5, and our best path or top-down),
as lists of ints, never probability matrices. A fresh clone recomputes every table, interval
and verdict from these files without retraining or the data.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..io import atomic_write_json, read_json

PRED_FILE = "test_pred.json"


def multi_hot(ids: Sequence[Sequence[int]], n_labels: int) -> np.ndarray:
    """Label-id lists -> ``(n, n_labels)`` bool."""
    out = np.zeros((len(ids), n_labels), dtype=bool)
    for row, lab in enumerate(ids):
        out[row, list(lab)] = True
    return out


def ids_of(y: np.ndarray) -> list[list[int]]:
    """``(n, L)`` 0/1 -> the on label ids of each row."""
    return [np.flatnonzero(row).tolist() for row in np.asarray(y) > 0.5]


def save_predictions(folder: str | os.PathLike, gold: np.ndarray, preds: dict[str, np.ndarray]):
    """Write ``test_pred.json``: ``n_labels``, ``gold`` and ``{decoding: ids}``."""
    gold = np.asarray(gold)
    for name, p in preds.items():
        if np.asarray(p).shape != gold.shape:
            raise ValueError(f"{name}: predictions {np.asarray(p).shape} vs gold {gold.shape}")
    atomic_write_json(
        Path(folder) / PRED_FILE,
        {
            "n_labels": int(gold.shape[1]),
            "gold": ids_of(gold),
            "pred": {k: ids_of(v) for k, v in preds.items()},
        },
    )


def load_predictions(folder: str | os.PathLike) -> dict | None:
    """``{"gold": (n, L) bool, "pred": {decoding: (n, L) bool}}`` or None when absent."""
    f = Path(folder) / PRED_FILE
    if not f.exists():
        return None
    obj = read_json(f)
    n = obj["n_labels"]
    return {
        "gold": multi_hot(obj["gold"], n),
        "pred": {k: multi_hot(v, n) for k, v in obj["pred"].items()},
    }
