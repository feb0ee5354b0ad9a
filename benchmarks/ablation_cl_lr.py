"""Quality ablation (not a speed benchmark): the `cpu` profile's CL -> BCE run (SimCSE
denominator, P=30) with the contrastive stage at lr 1e-3 instead of the paper's 1e-2;
data, seed and the BCE stage are identical, so the profile's own rows are its baseline.

    .venv/bin/python -m benchmarks.ablation_cl_lr wos amazon3 dbpedia [--out /tmp/abl]
    .venv/bin/python -m benchmarks.ablation_cl_lr wos --local   # local copy, first lengths

``--local`` runs the profile's local copy-transfer model (its first level lengths) with every
level's prefix pre-trained (CL -> BCE per level) instead; its BCE-only twin is the profile's
own local copy row.

Writes ``<out>/ablation_cl_lr.json`` (test Mi/Ma-F1, the share of CL steps at the collapse
value, alignment/uniformity, dev curve, loss curve, wall seconds per data set).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from htclib.lab import profiles
from htclib.training import experiment


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", nargs="+")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--out", default="/tmp/abl")
    ap.add_argument("--local", action="store_true", help="the local copy model, CL per level")
    args = ap.parse_args(argv)
    p = profiles.get_profile("cpu")
    rows = []
    for ds in args.datasets:
        if args.local:
            base = next(c for c in profiles.local_runs(p, ds) if c.model.transfer == "copy")
        else:
            base = profiles.spp_runs(p, ds, [p.global_lengths[-1]])[0]
        cl = profiles.cl_config(p, "simcse", lr=args.lr)
        cfg = profiles.with_cl(base, cl, tag=f"simcse-lr{args.lr:g}")
        t0 = time.perf_counter()
        r = experiment.run(cfg, args.out, progress=False)
        # a global run has one pre-training record, a local run one per level
        stages = [r["contrastive_history"]] if "contrastive_history" in r else []
        stages += [lv["contrastive"] for lv in r.get("levels", [])]
        rows.append(
            {
                "run": cfg.name,
                "micro": round(100 * r["test"]["best_path/micro_f1"], 2),
                "macro": round(100 * r["test"]["best_path/macro_f1"], 2),
                "collapsed_share": [ch["collapsed_share"] for ch in stages],
                "before": [ch["before"] for ch in stages],
                "after": [ch["after"] for ch in stages],
                "dev": [round(h["dev_auto"], 3) for h in r["history"]],
                "loss": [[round(x, 2) for x in ch["loss"]] for ch in stages],
                "wall_s": round(time.perf_counter() - t0),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    out = Path(args.out) / ("ablation_cl_lr_local.json" if args.local else "ablation_cl_lr.json")
    out.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
