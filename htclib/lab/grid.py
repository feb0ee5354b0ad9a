"""Train a profile's whole grid without the notebooks: ``python -m htclib.grid --profile cpu``.

The notebooks make the same runs (same configs, same cache keys), so once the grid has run
they only read records and draw. Order: the classical baselines first (minutes), then every
neural config of seed 0, then seed 1, ...: an interrupted grid has the most claims covered
by at least one seed, and a rerun skips every finished run (``--force`` retrains). Each run's
small records land in ``results/<profile>/runs/<key>/`` as it finishes (commit them).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from ..io import claim, release
from .profiles import PROFILES, get_profile, profile_arg
from .profiles import grid_plan as grid


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m htclib.grid", description=__doc__.splitlines()[0])
    ap.add_argument(
        "--profile",
        default="cpu",
        type=profile_arg,
        help="a profile: " + ", ".join(sorted(PROFILES)) + ", or a profile file (.json)",
    )
    ap.add_argument("--dataset", action="append", help="data set(s) (default: the profile's)")
    ap.add_argument("--only", action="append", help="notebook number(s) whose runs to train")
    ap.add_argument(
        "--match",
        action="append",
        help="train only the runs whose name contains this (repeatable; e.g. 'spp-P10/' gives a"
        " row all its seeds before the rest of the grid)",
    )
    ap.add_argument("--force", action="store_true", help="retrain runs that already finished")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[2]))
    ap.add_argument("--dry-run", action="store_true", help="list the runs and exit")
    ap.add_argument(
        "--todo",
        action="store_true",
        help="list the runs without a record (resumable or new), each with an estimate from its "
        "row's finished seeds, and exit",
    )
    ap.add_argument(
        "--engine",
        choices=["files", "ray"],
        default="files",
        help="files (default): workers on this machine claim runs through files; ray: each run "
        "a Ray task, here or on a cluster (htclib.lab.ray_engine)",
    )
    ap.add_argument("--address", help="ray: join this cluster ('auto' after `ray start`)")
    ap.add_argument("--gpus-per-run", type=float, default=0, help="ray: GPUs a run asks for")
    ap.add_argument(
        "--download",
        action="store_true",
        help="fetch a data set that is not here first (needs internet): WoS from Mendeley "
        "(download_wos), Amazon Beauty's metadata built by build_amazon_beauty",
    )
    ap.add_argument(
        "--no-report",
        action="store_true",
        help="do not rewrite the profile's tables at the end (a worker that trains one run at a"
        " time leaves them to `python -m htclib.report`)",
    )
    args = ap.parse_args(argv)

    from ..io import ensure_writable_dir
    from ..training.baselines import run_baseline
    from ..training.experiment import run
    from ..training.topdown import LevelBusy

    p = get_profile(args.profile)
    baselines, configs = grid(args.profile, args.dataset, args.only)
    if args.match:
        configs = [c for c in configs if any(m in c.name for m in args.match)]
        baselines = [
            (b, dc) for b, dc in baselines if any(m in f"{dc.name}/{b}" for m in args.match)
        ]
        if not configs:
            ap.error(f"no run of the plan has a name containing {' or '.join(args.match)}")
        # (a baseline is named <dataset>/<baseline>: --match wos/tfidf selects it)
    if args.todo:
        from .todo import format_todo, todo

        print(format_todo(todo(configs, Path(args.out) / "results" / p.name / "runs")))
        return 0
    if args.dry_run:
        for b, dc in baselines:
            print(f"baseline {b} {dc.name} n_train={dc.n_train} train_fraction={dc.train_fraction}")
        for c in configs:
            print(c.name, c.key())
        return 0
    if args.download:
        for name in args.dataset or p.datasets:
            fetch(name)
    results = ensure_writable_dir(Path(args.out) / "results" / p.name)
    t_all = time.perf_counter()
    for b, dc in baselines:
        run_baseline(b, dc, results, p.encoder, p.max_len(dc.name), force=args.force)
    if args.engine == "ray":
        from .ray_engine import run_on_ray

        run_on_ray(configs, results, address=args.address, gpus_per_run=args.gpus_per_run)
        configs = []  # every run has its record now
    # A local run whose shared top level another worker is training goes to the back of the
    # queue (this worker trains the next run meanwhile) and waits for that level only when
    # nothing else is left.
    queue = [(i, cfg, False) for i, cfg in enumerate(configs, start=1)]
    while queue:
        i, cfg, wait = queue.pop(0)
        t0 = time.perf_counter()
        folder = results / "runs" / cfg.key()
        if not (folder / "result.json").exists() or args.force:
            if not claim(folder):
                print(f"[grid {i}/{len(configs)}] {cfg.name}: another worker has it", flush=True)
                continue
        try:
            rec = run(cfg, results, force=args.force, progress=False, wait_for_levels=wait)
        except LevelBusy as e:
            print(f"[grid {i}/{len(configs)}] {e}; back to it later", flush=True)
            queue.append((i, cfg, True))
            continue
        finally:
            release(folder)
        print(
            f"[grid {i}/{len(configs)}] {cfg.name}: headline "
            f"{100 * rec['test'].get('headline/micro_f1', float('nan')):.2f} / "
            f"{100 * rec['test'].get('headline/macro_f1', float('nan')):.2f}, "
            f"{time.perf_counter() - t0:.0f} s",
            flush=True,
        )
    # A fresh interpreter writes the tables: a grid runs for hours, and the tables must come
    # from the code on disk now, not from the modules this process imported when it started.
    if not args.no_report:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "htclib.lab.report",
                "--profile",
                p.name,
                "--results",
                str(results),
            ],
            check=True,
        )
    print(f"[grid] done in {time.perf_counter() - t_all:.0f} s")
    return 0


FETCHERS = {"wos": "download_wos", "amazon-beauty": "build_amazon_beauty"}


def fetch(name: str) -> str:
    """Make data set ``name`` loadable: nothing when it is found already, else its download
    (``wos``: the WoS-46985 archive; ``amazon-beauty``: McAuley et al.'s metadata, built into
    ``data/amazon-beauty/``). Returns what it did."""
    from ..data.dataset import find_data

    try:
        find_data(name)
        return "found"
    except FileNotFoundError:
        if name not in FETCHERS:
            raise FileNotFoundError(
                f"data set {name!r} is not here and htclib cannot download it; known: "
                f"{sorted(FETCHERS)}"
            ) from None
    print(f"[grid] fetching {name} ...", flush=True)
    if name == "wos":
        from ..data.dataset import download_wos

        download_wos()
    else:
        from ..data.amazon import build_amazon_beauty, download_amazon_beauty

        build_amazon_beauty(download_amazon_beauty())
    return "fetched"


if __name__ == "__main__":
    sys.exit(main())
