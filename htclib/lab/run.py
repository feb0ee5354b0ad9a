"""Run the workbook headlessly: ``python -m htclib.run --profile smoke [--dataset wos] [--only 03]
[--records-only]``.

Executes the notebooks in order with papermill, writes executed copies to
``runs/<profile>/`` and collects every run's result into ``results/<profile>/results.csv``
and ``results.md``. Finished runs are reused (cached by config hash) unless ``--force``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .profiles import NOTEBOOKS, PROFILES, get_profile, profile_arg

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = REPO / "notebooks"


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m htclib.run", description=__doc__.splitlines()[0])
    ap.add_argument(
        "--profile",
        default="smoke",
        type=profile_arg,
        help="a profile: " + ", ".join(sorted(PROFILES)) + ", or a profile file (.json)",
    )
    ap.add_argument(
        "--dataset", action="append", help="data set(s) to run (default: the profile's)"
    )
    ap.add_argument(
        "--only", action="append", help="notebook number(s) to run, e.g. 03 (default: all)"
    )
    ap.add_argument("--force", action="store_true", help="retrain runs that already finished")
    ap.add_argument(
        "--records-only",
        action="store_true",
        help="train nothing: draw the tables and figures from the runs that have a record "
        "(a fresh clone of a long profile such as cpu)",
    )
    ap.add_argument(
        "--out", default=str(REPO), help="root for runs/, results/ and figures/ (default: the repo)"
    )
    args = ap.parse_args(argv)
    known = {nb[:2] for nb in NOTEBOOKS}
    for o in args.only or []:
        if o[:2] not in known:
            ap.error(f"--only {o!r}: expected one of {sorted(known)}")
    return args


def main(argv=None) -> int:
    import os

    import papermill as pm

    os.environ["HTCLIB_PROGRESS"] = "0"  # the notebooks' kernels inherit it: no text bars

    from ..io import ensure_writable_dir
    from .report import write_tables

    args = parse_args(argv)
    profile = get_profile(args.profile)
    datasets = args.dataset or profile.datasets
    out = Path(args.out).resolve()
    try:
        run_dir = ensure_writable_dir(out / "runs" / profile.name)
        results_dir = ensure_writable_dir(out / "results" / profile.name)
    except PermissionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    selected = [nb for nb in NOTEBOOKS if not args.only or nb[:2] in {o[:2] for o in args.only}]
    t_all = time.perf_counter()
    timings = {}
    for nb in selected:
        t0 = time.perf_counter()
        print(
            f"[htclib.run] {nb} (profile {profile.name}, data {', '.join(datasets)})",
            flush=True,
        )
        try:
            pm.execute_notebook(
                str(NOTEBOOK_DIR / f"{nb}.ipynb"),
                str(run_dir / f"{nb}.ipynb"),
                parameters={
                    "profile": profile.name,
                    "datasets": datasets,
                    "out_root": str(out),
                    "force": args.force,
                    "train": not args.records_only,
                },
                kernel_name="python3",
                cwd=str(NOTEBOOK_DIR),
                progress_bar=False,
                # the kernel's "running over TCP without encryption" warning, once per notebook, says
                # nothing about the notebook: only errors from the kernel process itself
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
            )
        except pm.PapermillExecutionError as e:
            print(
                f"[htclib.run] {nb} failed in cell {e.exec_count}: {e.ename}: {e.evalue}\n"
                f"  executed copy with the traceback: {run_dir / (nb + '.ipynb')}",
                file=sys.stderr,
            )
            return 1
        except Exception as e:  # a dead kernel, a missing kernelspec: not a cell error
            print(f"[htclib.run] {nb} could not run: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        timings[nb] = time.perf_counter() - t0
        print(f"[htclib.run] {nb} done in {timings[nb]:.0f} s", flush=True)
    tables = write_tables(results_dir, profile.name)
    total = time.perf_counter() - t_all
    print(f"[htclib.run] all done in {total:.0f} s; tables: {tables['md']}, {tables['csv']}")
    print(f"[htclib.run] figures: {out / 'figures' / profile.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
