"""Time-to-accuracy ablation (issue 17): the `cpu` profile's global SPP run (wos, P=30, seed 0)
with its prefix drawn N(0, std) for another std; data, seed, lr and everything else are the
profile's, so the profile's own record (std 0.5) is the baseline. PEFT's prefix starts N(0, 1)
(an ``nn.Embedding``) and reached the target in fewer epochs than ours: this asks whether the
scale of the start is why.

    .venv/bin/python -m benchmarks.ablation_init --std 1.0

Writes a normal run record under ``--out`` (default ``results/ablations``; its config, result
and compact test predictions are small and committed); ``benchmarks/time_to_accuracy.py`` reads
it beside the profile's records.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from benchmarks.ablation_train import run_ablation
from htclib.lab import profiles


def config(std: float, dataset: str = "wos", length: int = 30, seed: int = 0):
    p = profiles.get_profile("cpu")
    base = next(
        c
        for c in profiles.spp_runs(p, dataset, [length])
        if c.train.seed == seed and c.model.prefix.init == "random"
    )
    prefix = replace(base.model.prefix, init_std=std)
    return replace(
        base,
        name=f"{base.name.rsplit('/', 1)[0]}-std{std:g}/s{seed}",
        model=replace(base.model, prefix=prefix),
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--std", type=float, default=1.0)
    ap.add_argument("--dataset", default="wos")
    ap.add_argument("--out", default="results/ablations")
    args = ap.parse_args(argv)
    cfg = config(args.std, args.dataset)
    return run_ablation(cfg, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
