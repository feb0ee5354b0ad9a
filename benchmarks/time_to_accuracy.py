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

from htclib.lab.results import (
    head_probe,
    load_records,
    method_label,
    prefix_init,
    prefix_projection,
    prefix_top_layers,
    recipe_name,
)
from htclib.method.prefix import PrefixConfig
from htclib.method.recipes import RECIPES
from htclib.training.train import TrainConfig


def _label(r: dict) -> str:
    cfg = r.get("config", {})
    recipe = recipe_name(r) or "htclib"
    name = method_label(r, with_variant=True) + f" {r.get('prefix_length', '-')}"
    if prefix_init(r) == "tokens":
        name += " tokinit"
    elif r["method"] == "spp" and recipe.startswith("htclib"):
        std = cfg.get("model", {}).get("prefix", {}).get("init_std", PrefixConfig.init_std)
        if std != PrefixConfig.init_std:
            name += f" init N(0, {std:g})"
    if cfg.get("contrastive"):
        name += f" (CL lr {cfg['contrastive'].get('lr')})"
    if head_probe(r) is not None:
        name += f" probe head C {head_probe(r):g}"
    if prefix_projection(r):
        name += " projection"
    if prefix_top_layers(r) is not None:
        name += f" top {prefix_top_layers(r)} layers"
    train = cfg.get("train", {})
    if r["method"] != "cls" and recipe.startswith("htclib"):
        # learning rates other than the recipe's (benchmarks/ablation_train.py)
        if train.get("lr", TrainConfig.lr) != TrainConfig.lr:
            name += f" lr {train['lr']:g}"
        if train.get("head_lr", TrainConfig.head_lr) != RECIPES["htclib"]["train.head_lr"]:
            name += f" head lr {train['head_lr']:g}"
    if train.get("batch_size", TrainConfig.batch_size) != TrainConfig.batch_size:
        name += f" batch {train['batch_size']}"
    if train.get("max_epochs", TrainConfig.max_epochs) != TrainConfig.max_epochs:
        name += f" lr to 0 at epoch {train['max_epochs']}"
    return name + ("" if recipe == "htclib" else f" [{recipe}]")


def speed_key(r: dict) -> tuple:
    """Records that train at the same speed (the prefix's start and the lrs do not change the
    cost; the batch size does, the frozen encoder's dropout (masks drawn every layer), and a
    local model's transfer variant: transform adds its MLP; a head probe adds its fit once; the
    prefix's projection MLP runs every step; contrastive pre-training runs once, before)."""
    cfg = r.get("config", {})
    probe = head_probe(r)
    return (
        r["method"],
        str(r.get("prefix_length")),
        recipe_name(r),  # -nodrop: no dropout masks to draw
        str(cfg.get("train", {}).get("batch_size", TrainConfig.batch_size)),
        *([r.get("variant") or ""] if r["method"] == "local" else []),
        *([f"probe{probe:g}"] if probe is not None else []),
        *(["projection"] if prefix_projection(r) else []),
        *([f"top{prefix_top_layers(r)}"] if prefix_top_layers(r) is not None else []),
        *([_cl_key(cfg["contrastive"])] if cfg.get("contrastive") else []),
    )


def _cl_key(cl: dict) -> str:
    """Contrastive pre-training's cost: its epochs (or steps) and batch, not its lr."""
    return f"cl{cl.get('epochs')}x{cl.get('batch_size')}" + (
        f"s{cl['max_steps']}" if cl.get("max_steps") else ""
    )


def once_off_seconds(r: dict) -> float:
    """Seconds a run spends outside its epochs, before the whole model's first dev score: the
    head fitted to the start (LP-FT) and contrastive pre-training (CL -> BCE: the prefix's, or
    each level's before its BCE epochs), all part of its time to accuracy."""
    cl = [r.get("contrastive_history") or {}] + [
        lv.get("contrastive") or {} for lv in r.get("levels") or []
    ]
    return float(r.get("head_probe_seconds", 0.0)) + sum(float(c.get("seconds", 0.0)) for c in cl)


COUNTS = ("dev_headline_tp", "dev_headline_fp", "dev_headline_fn")


def dev_curve(r: dict) -> list[dict] | None:
    """The whole model's dev headline micro-F1 after each epoch it trained, with the epochs per
    level and the seconds so far. A global model: its history. A local model trains level by
    level, each to its early stop: its whole dev micro-F1 exists once the last level trains, as
    the upper levels' headline counts at their kept epoch plus the last level's at this epoch
    (``htclib.training.topdown.level_scorer``); every epoch of the upper levels counts toward the time.
    None for a local record from before the levels kept their counts."""
    hist = r["history"]
    if r["method"] != "local":
        out, elapsed = [], once_off_seconds(r)
        for n, h in enumerate(hist, start=1):
            elapsed += h["seconds"]
            out.append({"epochs": {1: n}, "seconds": elapsed, "dev": h["dev_headline"]})
        return out
    if not all(k in h for h in hist for k in COUNTS):
        return None
    levels = sorted({h["level"] for h in hist})
    by = {lv: [h for h in hist if h["level"] == lv] for lv in levels}
    kept = {i["level"]: i["best_epoch"] for i in r["levels"]}
    upper, epochs, elapsed = [0, 0, 0], {}, once_off_seconds(r)
    for lv in levels[:-1]:
        best = next(h for h in by[lv] if h["epoch"] == kept[lv])
        upper = [a + best[k] for a, k in zip(upper, COUNTS, strict=True)]
        epochs[lv] = len(by[lv])
        elapsed += sum(h["seconds"] for h in by[lv])
    out = []
    for n, h in enumerate(by[levels[-1]], start=1):
        elapsed += h["seconds"]
        tp, fp, fn = (a + h[k] for a, k in zip(upper, COUNTS, strict=True))
        dev = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
        out.append({"epochs": {**epochs, levels[-1]: n}, "seconds": elapsed, "dev": dev})
    return out


def time_to_accuracy(results_dirs, dataset: str = "wos", fraction: float = 0.95) -> list[dict]:
    if isinstance(results_dirs, (str, Path)):
        results_dirs = [results_dirs]
    recs = [
        {**r, "_profile": i == 0}
        for i, d in enumerate(results_dirs)
        for r in load_records(d)
        if r["dataset"] == dataset
        and r.get("history")
        and r.get("config", {}).get("data", {}).get("train_fraction") is None
    ]
    # The target is the profile's own CLS-tuning run (the first folder): an ablation's CLS row
    # (another batch size, say) is measured against it, never moves it.
    best_cls = {r["seed"]: r["best_dev"] for r in recs if r["method"] == "cls" and r["_profile"]}
    rows = []
    for r in sorted(recs, key=lambda r: (_label(r), r["seed"])):
        curve = dev_curve(r)
        if r["seed"] not in best_cls or curve is None:
            continue
        target = fraction * best_cls[r["seed"]]
        reached = next((c for c in curve if c["dev"] >= target), None)
        rows.append(
            {
                "model": _label(r),
                "seed": r["seed"],
                "speed_key": "/".join(speed_key(r)),
                "config": r["config"],
                "target_dev_mi_f1": round(100 * target, 2),
                "epochs_to_target": sum(reached["epochs"].values()) if reached else None,
                # local: epochs of each level up to the target (level -> epochs)
                "epochs_by_level": reached["epochs"] if reached else None,
                "seconds_to_target": round(reached["seconds"]) if reached else None,
                "best_dev_mi_f1": round(100 * max(c["dev"] for c in curve), 2),
                "train_seconds_total": round(sum(h["seconds"] for h in r["history"])),
                "epochs_run": len(r["history"]),
            }
        )
    return rows


def epoch_seconds(config: dict) -> dict[int, float]:
    """Wall seconds of one training epoch plus its dev scoring, per level (a global model has
    level 1 only), through ``experiment.run`` (the path every run takes), in a scratch folder:
    nothing is written to the records. Key 0: seconds spent once (the head's probe fit before
    the first epoch, LP-FT; contrastive pre-training, CL -> BCE; a top-layers prefix's pass of
    the layers below), 0 for runs without."""
    from htclib.training.experiment import RunConfig, run

    cfg = RunConfig(**config)
    # A prefix in the top layers only runs the layers below once per text, in its first epoch:
    # two epochs timed, that once-off cost (the first's excess over the second) goes to key 0.
    once = cfg.model.prefix.top_layers is not None
    epochs = 2 if once else 1
    cfg = replace(cfg, train=replace(cfg.train, max_epochs=epochs, patience=epochs, max_steps=None))
    with tempfile.TemporaryDirectory() as tmp:
        r = run(cfg, tmp, force=True, resume=False, progress=False)
    hist = r["history"]
    once_off = max(float(hist[0]["seconds"] - hist[-1]["seconds"]), 0.0) if once else 0.0
    per_epoch = hist[-1:] if once else hist  # a local model: one epoch of each level
    return {
        0: once_off_seconds(r) + once_off,
        **{int(h.get("level", 1)): float(h["seconds"]) for h in per_epoch},
    }


def with_quiet_seconds(rows: list[dict], rounds: int = 2) -> list[dict]:
    """Add ``seconds_to_target_quiet`` (the epochs to target of each level x that level's epoch
    seconds, timed for each speed group in ``rounds`` rounds interleaved so drift hits all:
    the median over rounds) and ``epoch_seconds_quiet`` (that over the epochs to target; the
    range: lowest and highest round) to rows that reach the target."""
    keys = {r["speed_key"]: r["config"] for r in rows if r["epochs_to_target"] is not None}
    timed: dict[str, list[dict[int, float]]] = {k: [] for k in keys}
    for _ in range(rounds):
        for k, config in keys.items():
            timed[k].append(epoch_seconds(config))
    for r in rows:
        if r["epochs_to_target"] is None:
            continue
        n = r["epochs_to_target"]
        totals = [
            per_level.get(0, 0.0) + sum(e * per_level[lv] for lv, e in r["epochs_by_level"].items())
            for per_level in timed[r["speed_key"]]
        ]
        med = statistics.median(totals)
        r["epoch_seconds_quiet"] = round(med / n, 1)
        r["epoch_seconds_quiet_range"] = [round(min(totals) / n, 1), round(max(totals) / n, 1)]
        r["seconds_to_target_quiet"] = round(med)
    return rows


def epochs_text(row: dict) -> str:
    """Epochs to target; a local model's also per level (``5 (3 + 2)``)."""
    if row["epochs_to_target"] is None:
        return "never"
    by = row.get("epochs_by_level") or {}
    per = f" ({' + '.join(str(v) for v in by.values())})" if len(by) > 1 else ""
    return f"{row['epochs_to_target']}{per}"


def main(argv=None) -> int:
    """Epochs to the target from the committed records alone (exact, no timing); ``--time``
    also times an epoch of the chosen models here, interleaved (quiet machine only): the whole
    table's seconds come with ``make bench`` (``benchmarks.run_all``, section 7)."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="wos")
    ap.add_argument("--fraction", type=float, default=0.95)
    ap.add_argument("--results", nargs="+", default=["results/cpu", "results/ablations"])
    ap.add_argument(
        "--model",
        action="append",
        help="keep only the rows of this model (the table's label, e.g. 'cls -', 'spp 30';"
        " repeatable)",
    )
    ap.add_argument(
        "--time",
        action="store_true",
        help="time one epoch of each kept model here (rounds interleaved) and add the seconds",
    )
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    dirs = [Path(d) for d in args.results if Path(d).exists()]
    rows = time_to_accuracy(dirs, args.dataset, args.fraction)
    if args.model:
        unknown = set(args.model) - {r["model"] for r in rows}
        if unknown:
            ap.error(
                f"no row is labelled {sorted(unknown)}; labels: {sorted({r['model'] for r in rows})}"
            )
        rows = [r for r in rows if r["model"] in args.model]
    if args.time:
        rows = with_quiet_seconds(rows, args.rounds)
    print(
        f"{args.dataset}: epochs until the dev headline Mi-F1 first reaches {args.fraction:g} x "
        f"CLS-tuning's best dev score with the same seed (records: {', '.join(map(str, dirs))})"
    )
    timed = " quiet s/epoch (range) | quiet seconds to target |" if args.time else ""
    print(
        f"\n| model | seed | target | epochs to target (per level) |{timed} best dev | epochs run |"
    )
    print("|---|---|---|---|" + ("---|---|" if args.time else "") + "---|---|")
    for r in rows:
        t = ""
        if args.time:
            lo_hi = r.get("epoch_seconds_quiet_range")
            t = (
                f" {r['epoch_seconds_quiet']} ({lo_hi[0]}-{lo_hi[1]}) | {r['seconds_to_target_quiet']} |"
                if lo_hi
                else " - | - |"
            )
        print(
            f"| {r['model']} | {r['seed']} | {r['target_dev_mi_f1']} | {epochs_text(r)} |{t} "
            f"{r['best_dev_mi_f1']} | {r['epochs_run']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
