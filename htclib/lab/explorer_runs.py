"""What the prefix-length explorer reads: one profile's stored global-SPP runs of a data set,
their scores per prefix length, and the run whose prefix labels a pasted text. Plain functions
of the records (no widgets), so the explorer's numbers are testable without a browser.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .results import decoding_for, load_records, recipe_label


def runs_of(results_dir: str | Path, dataset: str) -> list[dict]:
    """The global SPP runs of ``dataset`` in ``results_dir`` (one profile's folder: a one-epoch
    smoke run beside converged seeds would draw an effect that does not exist): plain BCE, our
    recipe, the full training split. Each record gets ``_dir``, the folder it came from."""
    d = Path(results_dir)
    return [
        {**r, "_dir": str(d)}
        for r in load_records(d)
        if r["method"] == "spp"
        and not r.get("contrastive")
        and r["dataset"] == dataset
        and recipe_label(r) == "htclib"
        and not r.get("config", {}).get("data", {}).get("train_fraction")
    ]


def opening_length(runs: list[dict]) -> int:
    """Where the slider starts: P = 30 (the paper's and the claims' length) when it has runs,
    else the stored length nearest to it, else 30."""
    stored = sorted({int(r["prefix_length"]) for r in runs})
    return min(stored, key=lambda p: (abs(p - 30), p)) if stored else 30


def artifact_dir(rec: dict) -> Path:
    return Path(rec["_dir"]) / "runs" / rec["key"] / "artifact"


def pick_run(runs: list[dict], length: int) -> dict | None:
    """The stored run with prefix ``length`` whose prefix can predict here: the lowest seed
    with its artifact (the committed converged prefixes), else the lowest seed."""
    found = [r for r in runs if str(r["prefix_length"]) == str(length)]
    if not found:
        return None
    return min(
        found,
        key=lambda r: (not artifact_dir(r).joinpath("config.json").exists(), r.get("seed", 0)),
    )


def level_key(level: str) -> str:
    """The score-name infix of a level choice: "" for all labels, "L2_" for level 2."""
    return "" if level == "all labels" else f"{level}_"


def levels_of(rec: dict) -> list[str]:
    """The levels a record scores separately ("L1", "L2", ...)."""
    dec = decoding_for(rec)
    return sorted(
        {
            k.split("/")[1].split("_")[0]
            for k in rec["test"]
            if k.startswith(f"{dec}/L") and k.endswith("_micro_f1")
        }
    )


def series(runs: list[dict], level: str = "all labels") -> dict:
    """Per P: mean and std over seeds of the headline micro-/macro-F1 (percent)."""
    by_p: dict[int, list[tuple[float, float]]] = {}
    key = level_key(level)
    for r in runs:
        dec = decoding_for(r)
        mi = r["test"].get(f"{dec}/{key}micro_f1")
        ma = r["test"].get(f"{dec}/{key}macro_f1")
        if mi is not None:
            by_p.setdefault(int(r["prefix_length"]), []).append((100 * mi, 100 * (ma or 0)))
    ps = sorted(by_p)
    arr = [np.array(by_p[p]) for p in ps]
    return {
        "P": ps,
        "micro": [float(a[:, 0].mean()) for a in arr],
        "micro_sd": [float(a[:, 0].std(ddof=1)) if len(a) > 1 else 0.0 for a in arr],
        "macro": [float(a[:, 1].mean()) for a in arr],
        "macro_sd": [float(a[:, 1].std(ddof=1)) if len(a) > 1 else 0.0 for a in arr],
        "seeds": [len(a) for a in arr],
    }
