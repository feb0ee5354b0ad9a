"""The paper's claims, each tested on a profile's committed records: a paired randomisation
test for the verdict, a bootstrap for the interval (:mod:`htclib.stats`).

Every claim compares two rows of the results table ("A beats B"); the rows are found by
their labels in the records (method, variant, prefix lengths, contrastive stage, recipe,
training size), their seeds pooled (:mod:`htclib.stats`). A claim whose rows are not (yet)
in the records is listed as ``missing``, never silently dropped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .records import load_predictions
from .results import (
    head_probe,
    load_records,
    method_label,
    prefix_init,
    prefix_projection,
    prefix_top_layers,
    recipe_name,
)
from .stats import cached_compare, verdict


@dataclass(frozen=True)
class Row:
    """Which runs form one side of a comparison (``None`` = any)."""

    method: str
    variant: str = ""
    prefix: str | None = None
    cl_lr: float | None = None
    recipe: str = "htclib"
    init: str = "random"  # the prefix's start (PrefixConfig.init)
    head_probe: float | None = None  # the head fitted first (LP-FT) with this C; None: not
    projection: bool = False  # the prefix trained through P-tuning v2's projection MLP
    top_layers: int | None = None  # the prefix in the top N layers only; None: every layer
    # training settings the runs must have, e.g. (("batch_size", 8),): ablations read beside
    # a profile's records differ from its rows only there (empty: whatever the folder has)
    train: tuple[tuple[str, float], ...] = ()
    tag: str = ""  # shown after the label (what ``train`` pins, in words)

    def matches(self, r: dict) -> bool:
        cfg = r.get("config", {})
        cl = cfg.get("contrastive") or {}
        if any(cfg.get("train", {}).get(k) != v for k, v in self.train):
            return False
        if method_label(r) != self.method or r.get("variant", "") != self.variant:
            return False
        if self.prefix is not None and str(r.get("prefix_length")) != self.prefix:
            return False
        if self.cl_lr is not None and cl.get("lr") != self.cl_lr:
            return False
        if cfg.get("data", {}).get("train_fraction") is not None:
            return False  # training-size curve runs are not the main rows
        if prefix_init(r) != self.init:
            return False  # a token-initialised prefix is its own row
        if head_probe(r) != self.head_probe:
            return False  # so is a run whose head was fitted first
        if prefix_projection(r) != self.projection:
            return False  # and a prefix trained through the projection MLP
        if prefix_top_layers(r) != self.top_layers:
            return False  # and a prefix in the top layers only
        return r["method"] not in ("cls", "spp", "local") or recipe_name(r) == self.recipe

    def label(self) -> str:
        parts = [self.method, self.variant, self.prefix or ""]
        if self.cl_lr is not None:
            parts.append(f"CL lr {self.cl_lr:g}")
        if self.recipe != "htclib":
            parts.append(self.recipe)
        if self.head_probe is not None:
            parts.append(f"probe head C {self.head_probe:g}")
        if self.projection:
            parts.append("projection")
        if self.top_layers is not None:
            parts.append(f"top {self.top_layers} layers")
        return " ".join(p for p in parts + [self.tag] if p and p != "-")


@dataclass(frozen=True)
class Claim:
    text: str
    a: Row
    b: Row
    datasets: tuple[str, ...] | None = None  # None: every data set with both rows


def paper_claims(
    global_p: str = "30",
    local_short: str = "10/20",
    local_long: str = "10/30",
    ptv2: str = "ptv2",
):
    """The paper's claims (and SPP vs the linear probe), as comparisons of table rows.
    ``ptv2``: the recipe row of P-tuning v2 (``ptv2-cls`` where the encoder's pooler is
    untrained, :func:`htclib.recipes.recipe_for`)."""
    spp = Row("spp", prefix=global_p)
    out = [
        Claim("SPP >= CLS-tuning at < 1% of the parameters", spp, Row("cls", prefix="-")),
        Claim("SPP beats the frozen-encoder linear probe", spp, Row("linear-probe")),
        Claim(
            "CL -> BCE beats BCE (global, collapse-free CL lr 1e-3)",
            Row("spp+cl", prefix=global_p, cl_lr=1e-3),
            spp,
        ),
        Claim(
            "CL -> BCE beats BCE (global, the paper's CL lr 1e-2)",
            Row("spp+cl", prefix=global_p, cl_lr=1e-2),
            spp,
        ),
        Claim(
            "P-tuning v2 recipe vs ours (global SPP)",
            Row("spp", prefix=global_p, recipe=ptv2),
            spp,
        ),
        Claim(
            "the frozen encoder's dropout on (P-tuning v2, PEFT) vs off (global SPP)",
            spp,
            Row("spp", prefix=global_p, recipe="htclib-nodrop"),
        ),
        Claim(
            "our prefix engine vs PEFT's prefix tuning (same P, head and trainer)",
            spp,
            Row("peft", prefix=global_p),
        ),
    ]
    for lengths in (local_short, "10/20/30"):
        copy, tr, non = (Row("local", v, lengths) for v in ("copy", "transform", "non"))
        out += [
            Claim(f"local copy > transform ({lengths})", copy, tr),
            Claim(f"local transform > non ({lengths})", tr, non),
            # the chain's two ends: does transferring the upper prefix help at all?
            Claim(f"local copy > non ({lengths})", copy, non),
        ]
    if local_long != local_short:
        out.append(
            Claim(
                f"a longer lower prefix helps (copy {local_long} vs {local_short})",
                Row("local", "copy", local_long),
                Row("local", "copy", local_short),
            )
        )
    return out


def _preds(records: list[tuple[Path, dict]], row: Row, dataset: str):
    runs = [(d, r) for d, r in records if r["dataset"] == dataset and row.matches(r)]
    out = []
    for folder, r in sorted(runs, key=lambda dr: dr[1].get("seed", 0)):
        p = load_predictions(folder / "runs" / r["key"])
        if p is not None and "headline" in p["pred"]:
            out.append(p)
    return out


CLAIM_COLUMNS = [
    "claim", "dataset", "A", "B", "metric", "A - B", "95% CI", "p", "seeds A/B", "test texts",
    "verdict", "p (BH)", "at 5% FDR",
]  # fmt: skip
NUMERIC_COLUMNS = ["ci_low", "ci_high", "p_value", "p_bh"]  # for claims.csv and the forest plot


def claims_table(
    results_dir: str | os.PathLike | list,
    claims: list[Claim] | None = None,
    n_resamples: int = 2000,
) -> pd.DataFrame:
    """One row per (claim, data set, metric): A - B in points, 95% interval, p, verdict.
    ``results_dir``: one folder, or several read together (a profile and its ablations)."""
    dirs = [results_dir] if isinstance(results_dir, str | os.PathLike) else results_dir
    records = [(Path(d), r) for d in dirs for r in load_records(d)]
    datasets = sorted({r["dataset"] for _, r in records})
    rows = []
    for claim in claims or paper_claims():
        for ds in claim.datasets or datasets:
            pa = _preds(records, claim.a, ds)
            pb = _preds(records, claim.b, ds)
            base = {"claim": claim.text, "dataset": ds, "A": claim.a.label(), "B": claim.b.label()}
            if not pa or not pb:
                if pa or pb:  # one side ran: say which side has no run on this data set
                    # (not "yet": a profile may plan a comparison on one data set only)
                    missing = claim.b.label() if pa else claim.a.label()
                    rows.append({**base, "metric": "", "verdict": f"no run of {missing} on {ds}"})
                continue
            gold = pa[0]["gold"]
            if any(p["gold"].shape != gold.shape or (p["gold"] != gold).any() for p in pa + pb):
                rows.append(
                    {**base, "metric": "", "verdict": "not comparable: different test sets"}
                )
                continue
            for metric in ("micro", "macro"):
                c = cached_compare(
                    gold,
                    [p["pred"]["headline"] for p in pa],
                    [p["pred"]["headline"] for p in pb],
                    metric,
                    n_resamples,
                )
                rows.append(
                    {
                        **base,
                        "metric": f"{'Mi' if metric == 'micro' else 'Ma'}-F1",
                        "A - B": round(c.diff, 2),
                        "95% CI": f"[{c.low:.2f}, {c.high:.2f}]",
                        "p": format_p(c.p),
                        "seeds A/B": f"{c.seeds_a}/{c.seeds_b}",
                        "test texts": c.n_texts,
                        "verdict": c.verdict,
                        "ci_low": c.low,
                        "ci_high": c.high,
                        "p_value": c.p,
                    }
                )
    # fixed columns: a frame's order would follow its first row, and a first row without a
    # bootstrap ("no run of ...") would move the verdict from the last column to the sixth
    out = pd.DataFrame(rows, columns=CLAIM_COLUMNS + NUMERIC_COLUMNS)
    if "test texts" in out:
        out["test texts"] = out["test texts"].astype("Int64")
    return with_fdr(out)


def with_fdr(table: pd.DataFrame) -> pd.DataFrame:
    """The table with Benjamini-Hochberg adjusted p over every tested row, and the verdict
    those give at a 5% false discovery rate.

    Why: a table of ~30 tests at p < 0.05 each expects one or two "holds"/"reversed" by chance
    alone when nothing differs, so a lone per-row verdict overstates what the runs resolve.
    BH (``scipy.stats.false_discovery_control``) keeps the expected share of false verdicts
    among the resolved rows at 5%; the family is the rows of this one table (say so where a
    subset is shown)."""
    from scipy.stats import false_discovery_control

    out = table.copy()
    tested = out["p_value"].notna()
    out["p (BH)"] = ""
    out["at 5% FDR"] = ""
    if tested.any():
        adj = false_discovery_control(out.loc[tested, "p_value"].astype(float).to_numpy())
        out.loc[tested, "p (BH)"] = [format_p(a) for a in adj]
        out.loc[tested, "at 5% FDR"] = [
            verdict(d, a) for d, a in zip(out.loc[tested, "A - B"], adj, strict=True)
        ]
        out.loc[tested, "p_bh"] = adj
    return out


def format_p(p: float) -> str:
    """A p-value as a reader takes it: two significant digits, the test's floor as '<'."""
    return f"{p:.2g}" if p >= 0.001 else "< 0.001"


def claims_for(profile: str):
    """The paper's claims at the profile's own prefix lengths (the paper's 30 / 10-20 / 10-30
    where the profile is unknown)."""
    from .profiles import PROFILES

    p = PROFILES.get(profile)
    if p is None:
        return paper_claims()
    wos_local = p.local_lengths.get("wos", [[10, 20], [10, 30]])
    short = "/".join(map(str, wos_local[0]))
    long = "/".join(map(str, wos_local[-1])) if len(wos_local) > 1 else short
    from .recipes import recipe_for

    return paper_claims(str(p.global_lengths[-1]), short, long, recipe_for("ptv2", p.encoder))


def verdicts_markdown(
    results_dir: str | os.PathLike, profile: str, topics: list[str] | None = None
) -> str:
    """What the current records say about the claims whose text contains one of ``topics``
    (every claim when None): one line per claim, data set and metric, drawn from the records
    (no typed numbers)."""
    # the whole profile's table, then the topics' rows: the false-discovery control counts
    # every claim of the table (as results.md does), and the same resamples give the same p
    t = claims_table(results_dir, claims_for(profile))
    if topics is not None:
        t = t[[any(k in c for k in topics) for c in t.claim]]
    if t.empty:
        return f"*No runs for these claims in `{results_dir}` yet (profile `{profile}`).*"
    lines = [
        f"**What the current `{profile}` records say** (headline; 95% CI: bootstrap over "
        "texts for Mi-F1, over labels for Ma-F1; p: paired randomisation test, behind the "
        "verdict; BH: Benjamini-Hochberg adjusted over every claim of `results.md`, behind "
        "the verdict at a 5% false discovery rate):",
        "",
    ]
    for r in t.to_dict("records"):
        if not r.get("metric"):  # one side has no run
            lines.append(f"- {r['claim']} on {r['dataset']}: {r['verdict']}")
            continue
        fdr = "" if r["at 5% FDR"] == r["verdict"] else f"; at 5% FDR: {r['at 5% FDR']}"
        lines.append(
            f"- {r['claim']} on {r['dataset']}, {r['metric']}: A − B = {r['A - B']:+.2f} "
            f"{r['95% CI']}, p {r['p']} (BH {r['p (BH)']}) → **{r['verdict']}**{fdr} "
            f"(seeds {r['seeds A/B']}, {r['test texts']} test texts)"
        )
    return "\n".join(lines)
