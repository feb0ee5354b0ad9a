"""Post-hoc views of finished runs: per-label F1 against frequency, and the most confused labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..training.experiment import DataConfig, get_data
from ..training.metrics import decode, per_label_f1
from ..training.records import load_predictions
from .results import decoding_for, method_label


def _predicted(record: dict, results_dir, h) -> np.ndarray | None:
    """The run's test predictions under its table decoding: from the probabilities where they
    are (the machine that trained it), else from the committed compact record (a fresh clone)."""
    folder = Path(results_dir) / "runs" / record["key"]
    dec = decoding_for(record)
    if (folder / "test_probs.npy").exists():
        return decode(np.load(folder / "test_probs.npy"), h, dec)
    preds = load_predictions(folder)
    if preds is None or dec not in preds["pred"]:
        return None
    return preds["pred"][dec].astype(np.int8)


def best_per_method(records: list[dict], dataset: str) -> list[dict]:
    """The run of each method on ``dataset`` chosen on dev (its best dev score; baselines,
    which have no dev score, by their single run). Never chosen by test score."""
    best: dict[str, dict] = {}
    for r in records:
        if r["dataset"] != dataset or r.get("config", {}).get("data", {}).get("train_fraction"):
            continue
        m = method_label(r)
        s = r.get("best_dev", 0.0)
        if m not in best or s > best[m].get("best_dev", 0.0):
            best[m] = r
    return list(best.values())


def best_on_dev(records: list[dict]) -> dict | None:
    """The neural run with the best dev score (the one a researcher would pick), or None."""
    neural = [r for r in records if "best_dev" in r]
    return max(neural, key=lambda r: r["best_dev"]) if neural else None


def per_label_frame(records: list[dict], results_dir) -> pd.DataFrame:
    """One row per (model, label): level, training count, test F1 (NaN when absent from test)."""
    rows = []
    for r in records:
        ds = get_data(DataConfig(**r["config"]["data"]))
        h = ds.hierarchy
        pred = _predicted(r, results_dir, h)
        if pred is None:
            continue
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
    cols = ["gold", "pred", "count"]
    ds = get_data(DataConfig(**record["config"]["data"]))
    h = ds.hierarchy
    full = _predicted(record, results_dir, h)
    if full is None or level > h.depth:
        return pd.DataFrame(columns=cols)
    sl = h.level_slices[level - 1]
    pred = full[:, sl]
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


def peft_search_table(records: list[dict], profile) -> pd.DataFrame:
    """The learning-rate search of the other parameter-efficient rows as a table: per row and
    lr, the dev score early stopping kept (seed 0), the chosen lr marked. ``profile``: a
    :class:`~htclib.lab.profiles.Profile`."""
    from .profiles import peft_search_winners

    won = peft_search_winners(records, profile)
    rows = [
        {
            "row": tag,
            "method": profile.peft_rows[tag][0],
            "lr": f"{lr:g}",
            "dev headline Mi-F1": round(100 * score, 2),
            "best on dev": "yes" if lr == d["lr"] else "",
            "in the profile": f"{profile.peft_lrs[tag]:g}"
            if tag in profile.peft_lrs
            else "not yet",
        }
        for tag, d in won.items()
        for lr, score in sorted(d["scores"].items())
    ]
    return pd.DataFrame(rows)


def time_to_target(records: list[dict], fraction: float = 0.95) -> pd.DataFrame:
    """Time to accuracy of global models from their histories: per data set and model, the
    epochs and the recorded training seconds until the dev headline micro-F1 first reaches
    ``fraction`` x CLS-tuning's best dev score *with the same seed* (the number a practitioner
    feels: how long until a model is about as good as full fine-tuning), as the median over
    seeds and how many seeds reached it. Seconds include contrastive pre-training where a run
    has it; they were recorded while several runs shared the cores, so they compare roughly,
    epochs exactly. Local models (scored whole only once their last level trains) are left to
    ``benchmarks.time_to_accuracy``."""
    from .results import method_label, recipe_label, size_tag

    # a training-size curve run is not its row (and its CLS run is not the target)
    records = [r for r in records
               if r.get("config", {}).get("data", {}).get("train_fraction") is None]  # fmt: skip
    cls_best = {(r["dataset"], r.get("seed", 0)): r["best_dev"] for r in records
                if r["method"] == "cls" and r.get("best_dev") is not None}  # fmt: skip
    rows = []
    for r in records:
        hist = r.get("history") or []
        target = cls_best.get((r["dataset"], r.get("seed", 0)))
        if r["method"] in ("cls", "local") or not hist or target is None:
            continue
        size = size_tag(r["method"], r.get("config", {}).get("model", {}).get("peft_size"))
        prefix = r.get("prefix_length", "-")
        cl_lr = (r.get("config", {}).get("contrastive") or {}).get("lr")
        recipe = recipe_label(r)
        parts = (
            method_label(r),
            size,
            prefix,
            f"CL lr {cl_lr:g}" if cl_lr else "",
            "" if recipe == "htclib" else recipe,  # the default recipe unsaid
        )
        model = " ".join(str(x) for x in parts if x and x != "-")
        seconds = float((r.get("contrastive_history") or {}).get("seconds", 0.0))
        reached = None
        for n, h in enumerate(hist, start=1):
            seconds += h["seconds"]
            if h["dev_headline"] >= fraction * target:
                reached = (n, seconds)
                break
        rows.append({"dataset": r["dataset"], "model": model, "seed": r.get("seed", 0),
                     "epochs": reached[0] if reached else None,
                     "seconds": reached[1] if reached else None})  # fmt: skip
    cols = ["dataset", "model", "seeds reaching", "epochs to target", "seconds to target"]
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows)
    out = (
        df.groupby(["dataset", "model"], sort=True)
        .agg(
            n=("seed", "size"),
            hit=("epochs", "count"),
            epochs=("epochs", "median"),
            seconds=("seconds", "median"),
        )
        .reset_index()
    )
    out["seeds reaching"] = [f"{h}/{n}" for h, n in zip(out.hit, out.n, strict=True)]
    out["epochs to target"] = out.epochs.round(1)
    out["seconds to target"] = out.seconds.round(0)
    return out[cols]
