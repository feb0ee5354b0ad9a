"""A profile's tables from its run records: ``results.csv`` (every run) and ``results.md`` (the
summary with seeds, the claims with intervals and verdicts, the training-size curve)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np

from ..io import atomic_write_text
from ..training.metrics import HEADLINE, MACRO_CONVENTION
from .claims import CLAIM_COLUMNS, claims_for, claims_table, seed_needs
from .results import (
    _markdown,
    curve_table,
    load_records,
    row_and_seed,
    summary_table,
    to_frame,
)

CLAIMS_LEGEND = (
    "A claim is about a method, so its verdict must survive both another training run and "
    "other test texts. **A - B**: headline points on the test split, the difference of the "
    "seed-mean F1s (verdicts read it unrounded). **95% CI, p, verdict** come from one scheme "
    "(`htclib/lab/method_stats.py`): the variance of A - B is the seeds' part (each method's "
    "per-seed F1 variance over its seed count) plus the test texts' part (a paired bootstrap of "
    "texts, 1,000 resamples); a t distribution with Welch-Satterthwaite degrees of freedom gives "
    "the interval and the two-sided p, so the interval excludes 0 exactly when p < 0.05: holds "
    "(A ahead), reversed (B ahead), not resolved at this size. Mi-F1 and Ma-F1 alike. A "
    "neural row trained once has no seed variance and is not tested; a deterministic baseline "
    "(TF-IDF + LR, linear probe, hiclass) adds none. **p (BH), at 5% FDR**: p adjusted by "
    "Benjamini-Hochberg over every tested row of this table (one or two of ~50 rows at "
    "p < 0.05 are expected by chance alone). **MDE**: the smallest true difference this "
    "comparison detects with probability 0.8 at alpha 0.05 (what 'not resolved' can still hide); "
    "**seeds for 1 pt**: seeds per side at which a 1-point effect would reach that power at the "
    "SDs measured so far ('> 50': not within 50 seeds; 'none: texts (X)': the test texts alone "
    "give an MDE of X > 1 point even with infinitely many seeds, so only a larger test split "
    "resolves a 1-point effect). **ASO eps**: "
    "Almost Stochastic Order over the per-seed scores (Dror et al. 2019, `deepsig`, 200 bootstrap iterations), eps_min of "
    "A over B / of B over A; below 0.5 that side is the better method at 95% confidence. "
    "**P(A>B)**: the share of seed pairs where A scores higher (ties half). **instance p, "
    "instance verdict**: the paired randomisation test over test texts between these fixed "
    "trained models (Yeh 2000, 2,000 swaps): about these trained instances, not the methods. "
    "**pooling**: seeds left out because their config differs, and pooled seeds trained by "
    "more than one commit or recorded before runs carried their provenance."
)


def write_tables(results_dir: str | os.PathLike, profile: str) -> dict[str, Path]:
    """``results.csv`` (every run), ``results.md`` (summary, paper beside, claims) and
    ``claims.csv`` (the claims table with its numbers unrounded, for plots) for a profile."""
    results_dir = Path(results_dir)
    df = to_frame(load_records(results_dir))
    csv = results_dir / "results.csv"
    atomic_write_text(csv, df.to_csv(index=False))
    md = results_dir / "results.md"
    lines = [
        f"# Results: profile `{profile}`",
        "",
        f"Test split. Mi-F1 / Ma-F1: the {HEADLINE} (decoding `headline`; rows marked "
        "`best_path`/`topdown` are older records without it). "
        f"Our additions: best path (single-path data) or top-down consistent thresholding, "
        f"with {MACRO_CONVENTION}. "
        "'paper' = the paper's BERT-base numbers on the full data sets (not comparable in scale). "
        "params % = trained parameters / (encoder + head).",
        "",
    ]
    lines[-2] += (
        " ± = std over seeds (the seed sets initialisation and batch order; the split is fixed). "
        "epochs (capped): mean epochs run, and how many runs stopped at the max-epochs cap "
        "rather than by early stopping."
    )
    grid, other = _split_by_plan(df, profile)
    lines += _per_dataset(summary_table(grid), "##")
    rest = summary_table(other)
    if not rest.empty:
        lines += [
            "## Other records (not in the profile's grid)",
            "",
            f"Runs kept beside `python -m htclib.grid --profile {profile}`'s: earlier recipes and "
            "one-factor ablations (the grid's own one-seed rows too), with the seeds they were "
            "given (never pooled with the rows above; the claims that compare them name them).",
            "",
        ]
        lines += _per_dataset(rest, "###")
    claims = claims_table(results_dir, claims_for(profile, load_records(results_dir)))
    claims_csv = results_dir / "claims.csv"
    atomic_write_text(claims_csv, claims.to_csv(index=False))
    if not claims.empty:
        lines += [
            "## The paper's claims",
            "",
            CLAIMS_LEGEND,
            "",
            _markdown(claims[CLAIM_COLUMNS].astype(object).fillna("")),
            "",
        ]
        needs = seed_needs(claims)
        if not needs.empty:
            lines += [
                "### Where more seeds would resolve a 1-point effect",
                "",
                "The claim rows whose 'seeds for 1 pt' is a count above the seeds they have (at "
                "the seed SDs measured so far, so the count moves as seeds land): the runs that "
                "can still change a verdict. Rows marked 'none: texts' above need a larger test "
                "split instead. worker-hours: the seeds each side still lacks times the median "
                "training time of its seeds so far, in hours of one worker (one CPU thread "
                "here, beside a second worker).",
                "",
                _markdown(needs),
                "",
            ]
    curve = curve_table(df)
    if not curve.empty:
        fmt = lambda m, s: f"{m:.2f}" if np.isnan(s) else f"{m:.2f} ± {s:.2f}"  # noqa: E731
        show = curve.assign(
            **{
                "Mi-F1": [fmt(m, s) for m, s in zip(curve.micro, curve.micro_sd, strict=True)],
                "Ma-F1": [fmt(m, s) for m, s in zip(curve.macro, curve.macro_sd, strict=True)],
            }
        )[["dataset", "model", "n_train", "Mi-F1", "Ma-F1", "seeds"]]
        lines += ["## Training-set size (beyond the paper)", "", _markdown(show), ""]
    progress = grid_progress(results_dir, profile)
    if not progress.empty:
        lines += [
            "## Grid progress",
            "",
            f"Runs of `python -m htclib.grid --profile {profile}` with a record here, and the wall "
            "seconds they took (training with dev scoring, and test; a run resumed across "
            "sessions counts all its epochs; runs trained side by side shared the machine). "
            "Baselines not counted. Seconds left: each unfinished run at the mean of its row's "
            "finished seeds, else of its method's finished runs on the data set (a guide only).",
            "",
            _markdown(progress),
            "",
        ]
    atomic_write_text(md, "\n".join(lines) + "\n")
    return {"csv": csv, "md": md, "claims": claims_csv}


def _per_dataset(summ, heading: str) -> list[str]:
    """Markdown lines: one summary table per data set under ``heading`` (``##``, ``###``)."""
    lines = []
    for ds in summ["dataset"].unique() if not summ.empty else []:
        table = _markdown(summ[summ.dataset == ds].drop(columns="dataset"))
        lines += [f"{heading} {ds}", "", table, ""]
    return lines


def _split_by_plan(df, profile: str):
    """``(grid, other)``: the records of the profile's grid (with the classical baselines) and
    every other record (earlier recipes, ablations, the grid's one-seed rows), so the main
    tables hold exactly the rows the grid trains with every seed and a reader can count them.
    A folder none of whose neural records the plan names (a test's records, another config's
    runs) is not split."""
    from .profiles import BASELINES, PROFILES, grid_plan

    if df.empty or profile not in PROFILES:
        return df, df.iloc[0:0]
    plan = grid_plan(profile)[1]
    # a row the grid trains with fewer seeds than its claim rows (the token-initialised prefix,
    # seed 0) is an ablation the plan carries for the benchmarks: with the other records. A
    # row with extra seeds (Profile.extra_seeds) has more, and stays in the grid's tables.
    p = PROFILES[profile]
    seeds = Counter(row_and_seed(c.name)[0] for c in plan)
    full = min(max(seeds.values()), max(len(p.seeds), len(p.claim_seeds or [])))
    planned = df.key.isin({c.key() for c in plan if seeds[row_and_seed(c.name)[0]] >= full})
    if not planned.any():
        return df, df.iloc[0:0]
    keep = planned | df.method.isin(BASELINES)
    return df[keep], df[~keep]


def _seconds(r: dict) -> float:
    """A run's wall seconds; a resumed run's ``wall_seconds`` count its last start only, its
    ``train_seconds`` every epoch (they survive the resume)."""
    return max(r.get("wall_seconds", 0.0), r.get("train_seconds", 0.0))


def grid_progress(results_dir: str | os.PathLike, profile: str):
    """Per data set: the profile's neural runs finished / planned, their wall seconds, and an
    estimate of the seconds the unfinished ones still need (:func:`_estimate_left`)."""
    import pandas as pd

    from .profiles import PROFILES, grid_plan

    if profile not in PROFILES:
        return pd.DataFrame()
    _, configs = grid_plan(profile)
    done = {r["key"]: r for r in load_records(results_dir)}
    rows = []
    for ds in dict.fromkeys(c.data.name for c in configs):
        mine = [c for c in configs if c.data.name == ds]
        fin = [done[c.key()] for c in mine if c.key() in done]
        left, unknown = _estimate_left([c for c in mine if c.key() not in done], fin)
        rows.append(
            {
                "dataset": ds,
                "finished": len(fin),
                "planned": len(mine),
                "wall seconds (finished)": round(sum(_seconds(r) for r in fin)),
                "stopped at the epoch cap": sum(r.get("stopped") == "max_epochs" for r in fin),
                "seconds left (estimate)": round(left),
                "runs left with no estimate": unknown,
            }
        )
    return pd.DataFrame(rows)


def _estimate_left(todo: list, finished: list[dict]) -> tuple[float, int]:
    """Seconds the unfinished runs may take, at the pace of the finished ones: each run at the
    mean of its row's finished seeds, else of the finished runs of its method on the data set.
    A run with neither counts as unknown. Only a guide: the finished runs shared the machine
    with other workers, and a run's epochs to its early stop vary with the seed."""
    by_row: dict[str, list[float]] = {}
    by_method: dict[str, list[float]] = {}
    for r in finished:
        by_row.setdefault(row_and_seed(r["name"])[0], []).append(_seconds(r))
        by_method.setdefault(r["method"], []).append(_seconds(r))
    left, unknown = 0.0, 0
    for c in todo:
        pace = by_row.get(row_and_seed(c.name)[0]) or by_method.get(c.model.method)
        if pace:
            left += sum(pace) / len(pace)
        else:
            unknown += 1
    return left, unknown


def main(argv=None) -> int:
    """``python -m htclib.report --profile cpu``: regenerate a profile's tables from its records."""
    import argparse

    from .profiles import profile_arg

    ap = argparse.ArgumentParser(prog="python -m htclib.report", description=main.__doc__)
    ap.add_argument("--profile", default="cpu", type=profile_arg, help="a name or a .json file")
    ap.add_argument("--results", help="the records' folder (default: results/<profile>)")
    args = ap.parse_args(argv)
    folder = Path(args.results or Path("results") / args.profile)
    if not (folder / "runs").is_dir():
        ap.error(f"{folder}/runs: no run records there")
    for name, path in write_tables(folder, args.profile).items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
