"""Time to accuracy from run records: epochs, and wall seconds, until the dev headline
micro-F1 first reaches a target, by model and seed.

The target is ``fraction`` x the best dev headline of CLS-tuning with the same seed on the same
data (the number a researcher feels: how long until a model is about as good as full
fine-tuning). Epochs to target come from the committed histories (exact: a run's dev score per
epoch does not depend on the machine's load). Seconds come two ways: as the grid recorded them
(several runs shared the cores, so they compare only roughly), and, with :func:`epoch_seconds`,
from one epoch of each model trained (dev scoring included) in one process on a quiet machine,
times the epochs to target.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from htclib.prefix import PrefixConfig
from htclib.results import load_records, method_label, prefix_init


def _label(r: dict) -> str:
    cfg = r.get("config", {})
    recipe = cfg.get("model", {}).get("recipe", "htclib")
    name = method_label(r, with_variant=True) + f" {r.get('prefix_length', '-')}"
    if prefix_init(r) == "tokens":
        name += " tokinit"
    elif r["method"] == "spp" and recipe == "htclib":
        std = cfg.get("model", {}).get("prefix", {}).get("init_std", PrefixConfig.init_std)
        if std != PrefixConfig.init_std:
            name += f" init N(0, {std:g})"
    if cfg.get("contrastive"):
        name += f" (CL lr {cfg['contrastive'].get('lr')})"
    return name + ("" if recipe == "htclib" else f" [{recipe}]")


def speed_key(r: dict) -> tuple:
    """Records that train at the same speed (the prefix's start does not change the cost)."""
    cfg = r.get("config", {})
    return (r["method"], str(r.get("prefix_length")), cfg.get("model", {}).get("recipe", "htclib"))


def time_to_accuracy(results_dirs, dataset: str = "wos", fraction: float = 0.95) -> list[dict]:
    if isinstance(results_dirs, (str, Path)):
        results_dirs = [results_dirs]
    recs = [
        r
        for d in results_dirs
        for r in load_records(d)
        if r["dataset"] == dataset
        and r.get("history")
        and r.get("config", {}).get("data", {}).get("train_fraction") is None
        # local models train level by level: their per-epoch dev score is one level's, not
        # the whole model's, so it says nothing about the target
        and r["method"] != "local"
    ]
    best_cls = {r["seed"]: r["best_dev"] for r in recs if r["method"] == "cls"}
    rows = []
    for r in sorted(recs, key=lambda r: (_label(r), r["seed"])):
        if r["seed"] not in best_cls:
            continue
        target = fraction * best_cls[r["seed"]]
        elapsed, reached = 0.0, None
        for h in r["history"]:
            elapsed += h["seconds"]
            if h["dev_headline"] >= target:
                reached = (h["epoch"], elapsed)
                break
        rows.append(
            {
                "model": _label(r),
                "seed": r["seed"],
                "speed_key": "/".join(speed_key(r)),
                "config": r["config"],
                "target_dev_mi_f1": round(100 * target, 2),
                "epochs_to_target": reached[0] if reached else None,
                "seconds_to_target": round(reached[1]) if reached else None,
                "best_dev_mi_f1": round(100 * r["best_dev"], 2),
                "train_seconds_total": round(sum(h["seconds"] for h in r["history"])),
                "epochs_run": len(r["history"]),
            }
        )
    return rows


def epoch_seconds(config: dict) -> float:
    """Wall seconds of one training epoch plus its dev scoring, through ``experiment.run`` (the
    path every run takes), in a scratch folder: nothing is written to the records."""
    from htclib.experiment import RunConfig, run

    cfg = RunConfig(**config)
    cfg = replace(cfg, train=replace(cfg.train, max_epochs=1, max_steps=None))
    with tempfile.TemporaryDirectory() as tmp:
        r = run(cfg, tmp, force=True, resume=False, progress=False)
    return float(r["history"][0]["seconds"])


def with_quiet_seconds(rows: list[dict]) -> list[dict]:
    """Add ``epoch_seconds_quiet`` (one epoch per speed group, timed now) and
    ``seconds_to_target_quiet`` (epochs to target x that) to rows that reach the target."""
    timed: dict[str, float] = {}
    for r in rows:
        if r["epochs_to_target"] is None:
            continue
        if r["speed_key"] not in timed:
            timed[r["speed_key"]] = epoch_seconds(r["config"])
        r["epoch_seconds_quiet"] = round(timed[r["speed_key"]], 1)
        r["seconds_to_target_quiet"] = round(r["epochs_to_target"] * timed[r["speed_key"]])
    return rows
