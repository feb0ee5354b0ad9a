"""Time to accuracy from run records: epochs, and wall seconds, until the dev headline
micro-F1 first reaches a target, by model and seed.

The target is ``fraction`` x the best dev headline of CLS-tuning with the same seed on the same
data (the number a researcher feels: how long until a model is about as good as full
fine-tuning). Epochs to target come from the committed histories (exact: a run's dev score per
epoch does not depend on the machine's load). Seconds come two ways: as the grid recorded them
(several runs shared the cores, so they compare only roughly), and, with :func:`epoch_seconds`,
from epochs of each model trained (dev scoring included) in one process on a quiet machine,
interleaved over rounds, times the epochs to target.
"""

from __future__ import annotations

import statistics
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


def with_quiet_seconds(rows: list[dict], rounds: int = 2) -> list[dict]:
    """Add ``epoch_seconds_quiet`` (the median of ``rounds`` epochs per speed group, the groups
    interleaved round by round so drift hits all), its lowest and highest, and
    ``seconds_to_target_quiet`` (epochs to target x the median) to rows that reach the target."""
    keys = {r["speed_key"]: r["config"] for r in rows if r["epochs_to_target"] is not None}
    timed: dict[str, list[float]] = {k: [] for k in keys}
    for _ in range(rounds):
        for k, config in keys.items():
            timed[k].append(epoch_seconds(config))
    for r in rows:
        if r["epochs_to_target"] is None:
            continue
        t = timed[r["speed_key"]]
        med = statistics.median(t)
        r["epoch_seconds_quiet"] = round(med, 1)
        r["epoch_seconds_quiet_range"] = [round(min(t), 1), round(max(t), 1)]
        r["seconds_to_target_quiet"] = round(r["epochs_to_target"] * med)
    return rows
