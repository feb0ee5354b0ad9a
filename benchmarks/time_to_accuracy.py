"""Time to accuracy from a profile's run records: wall seconds of training (dev scoring
included) until the dev headline micro-F1 first reaches a target, by method and seed.

The target is ``fraction`` x the best dev headline of CLS-tuning with the same seed on the same
data (the number a researcher feels: how long until a model is about as good as full
fine-tuning). Read from the committed histories, so no training happens here; the runs were
timed by the grid on this machine (see the profile's README for its thread settings).
"""

from __future__ import annotations

from pathlib import Path

from htclib.results import load_records, method_label


def _label(r: dict) -> str:
    cfg = r.get("config", {})
    recipe = cfg.get("model", {}).get("recipe", "htclib")
    name = method_label(r, with_variant=True) + f" {r.get('prefix_length', '-')}"
    if cfg.get("model", {}).get("prefix", {}).get("init") == "tokens":
        name += " tokinit"
    if cfg.get("contrastive"):
        name += f" (CL lr {cfg['contrastive'].get('lr')})"
    return name + ("" if recipe == "htclib" else f" [{recipe}]")


def time_to_accuracy(results_dir: str | Path, dataset: str = "wos", fraction: float = 0.95):
    recs = [
        r
        for r in load_records(results_dir)
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
                "target_dev_mi_f1": round(100 * target, 2),
                "epochs_to_target": reached[0] if reached else None,
                "seconds_to_target": round(reached[1]) if reached else None,
                "best_dev_mi_f1": round(100 * r["best_dev"], 2),
                "train_seconds_total": round(sum(h["seconds"] for h in r["history"])),
                "epochs_run": len(r["history"]),
            }
        )
    return rows
