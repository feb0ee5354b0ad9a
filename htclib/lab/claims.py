"""The paper's claims, each tested on a profile's committed records: the verdict, interval
and p over training runs and test texts (:mod:`htclib.lab.method_stats`), and beside it the
instance-level randomisation test over texts between the fixed trained models
(:mod:`htclib.lab.stats`), labelled as such.

Every claim compares two rows of the results table ("A beats B"); the rows are found by
their labels in the records (method, variant, prefix lengths, contrastive stage, recipe,
training size). Seeds are pooled only where their configs agree (:func:`run_identity`); the
``pooling`` column names any seed left out and says when the pooled seeds came from more than
one commit or from before records carried their provenance. A claim whose rows are not (yet)
in the records is listed as ``missing``, never silently dropped.
"""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..training.records import load_predictions
from .results import (
    head_probe,
    load_records,
    method_label,
    prefix_init,
    prefix_projection,
    prefix_top_layers,
    recipe_name,
    selection,
    size_tag,
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
    selection: str | None = None  # the checkpoint rule (TrainConfig.selection); None: any
    size: int | None = None  # LoRA's rank / the adapters' width (ModelConfig.peft_size)

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
        if self.size is not None and cfg.get("model", {}).get("peft_size") != self.size:
            return False  # LoRA at another rank is another row
        if self.selection is not None and selection(r) != self.selection:
            return False  # a profile's rows use the profile's checkpoint rule
        return r["method"] not in ("cls", "spp", "local") or recipe_name(r) == self.recipe

    def label(self) -> str:
        parts = [self.method, self.variant, self.prefix or ""]
        parts.append(size_tag(self.method, self.size))
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
    untrained, :func:`htclib.method.recipes.recipe_for`)."""
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


BASELINE_METHODS = ("tfidf-lr", "linear-probe", "hiclass")  # deterministic: no seed


def run_identity(record: dict) -> str:
    """What must agree for two seeds to be pooled: the run's cache key with its seed and name
    taken out (the full config, every field at its frozen default where an older record lacks
    it, :mod:`htclib.method.keydefaults`)."""
    from ..training.experiment import RunConfig

    cfg = {k: v for k, v in record.get("config", {}).items() if k != "name"}
    if "train" not in cfg:  # a baseline: its data is its identity
        return str(sorted(cfg.get("data", {}).items()))
    cfg["train"] = {**cfg["train"], "seed": 0}
    return RunConfig(**cfg).key()


def _config_diff(a: dict, b: dict, prefix: str = "") -> list[str]:
    """The dotted fields where two config dicts differ (missing = its frozen default)."""
    from ..method.keydefaults import KEY_DEFAULTS

    out = []
    for k in sorted(set(a) | set(b)):
        if k in ("name", "seed"):
            continue
        default = KEY_DEFAULTS
        for part in f"{prefix}{k}".split("."):
            default = default.get(part) if isinstance(default, dict) else None
        va, vb = a.get(k, default), b.get(k, default)
        if isinstance(va, dict) and isinstance(vb, dict):
            out += _config_diff(va, vb, f"{prefix}{k}.")
        elif va != vb:
            out.append(f"{prefix}{k}")
    return out


@dataclass
class Side:
    """The runs pooled as one side of a comparison, and what the pooling left out."""

    preds: list
    seeds: list[int]
    note: str = ""
    seconds: list[float] = field(default_factory=list)  # each pooled run's training time

    def seconds_per_seed(self) -> float | None:
        """The median training seconds of one more seed of this side (None: none recorded)."""
        return float(statistics.median(self.seconds)) if self.seconds else None


def _side(records: list[tuple[Path, dict]], row: Row, dataset: str) -> Side:
    """The runs of ``row`` on ``dataset`` whose configs agree (the largest such group; a tie
    goes to the group with the most recent record), and a note naming what was left out and
    which code trained the pooled seeds."""
    runs = [(d, r) for d, r in records if r["dataset"] == dataset and row.matches(r)]
    groups: dict[str, list] = {}
    for d, r in sorted(runs, key=lambda dr: dr[1].get("seed", 0)):
        groups.setdefault(run_identity(r), []).append((d, r))
    if not groups:
        return Side([], [])
    newest = {k: max(r.get("provenance", {}).get("finished_utc", "") for _, r in g)
              for k, g in groups.items()}  # fmt: skip
    best = max(groups, key=lambda k: (len(groups[k]), newest[k]))
    notes = []
    for k, g in groups.items():
        if k != best:
            diff = _config_diff(groups[best][0][1]["config"], g[0][1]["config"])
            seeds = ", ".join(f"s{r.get('seed', 0)}" for _, r in g)
            notes.append(f"{seeds} left out: config differs in {', '.join(diff) or 'the key'}")
    pooled = groups[best]
    prov = [r.get("provenance") for _, r in pooled]
    commits = {p["commit"][:7] for p in prov if p and p.get("commit")}
    unrecorded = sum(p is None for p in prov)
    if len(commits) > 1 or (commits and unrecorded):
        notes.append(
            f"code: {len(commits)} commit(s)" + (f", {unrecorded} unrecorded" if unrecorded else "")
        )
    preds, seeds, seconds = [], [], []
    for folder, r in pooled:
        p = load_predictions(folder / "runs" / r["key"])
        if p is not None and "headline" in p["pred"]:
            preds.append(p)
            seeds.append(r.get("seed", 0))
            if r.get("train_seconds"):
                seconds.append(float(r["train_seconds"]))
    return Side(preds, seeds, "; ".join(notes), seconds)


CLAIM_COLUMNS = [
    "claim", "dataset", "A", "B", "metric", "A - B", "95% CI", "p", "verdict", "p (BH)",
    "at 5% FDR", "MDE", "seeds for 1 pt", "ASO eps", "P(A>B)", "seeds A/B", "test texts",
    "instance p", "instance verdict", "pooling",
]  # fmt: skip
# for claims.csv and the forest plot: the method-level numbers, unrounded; seed_s_a / _b: the
# median training seconds of one seed of each side (what more seeds would cost)
NUMERIC_COLUMNS = [
    "diff", "ci_low", "ci_high", "p_value", "p_bh", "mde", "instance_p", "seed_s_a", "seed_s_b",
]  # fmt: skip
# each side's per-seed F1 (points), as JSON lists: what a claim's figure draws as dots
SCORE_COLUMNS = ["scores_a", "scores_b"]


def claims_table(
    results_dir: str | os.PathLike | list,
    claims: list[Claim] | None = None,
    n_resamples: int = 2000,
) -> pd.DataFrame:
    """One row per (claim, data set, metric): A - B in points with the method-level 95%
    interval, p and verdict (:mod:`htclib.lab.method_stats`: over training runs and test texts),
    its power (MDE, seeds for a 1-point effect), ASO and P(A > B) over seeds, and the
    instance-level randomisation test over texts (:mod:`htclib.lab.stats`), labelled as such.
    ``results_dir``: one folder, or several read together (a profile and its ablations)."""
    from .method_stats import cached_compare_methods

    dirs = [results_dir] if isinstance(results_dir, str | os.PathLike) else results_dir
    records = [(Path(d), r) for d in dirs for r in load_records(d)]
    datasets = sorted({r["dataset"] for _, r in records})
    rows = []
    for claim in claims or paper_claims():
        for ds in claim.datasets or datasets:
            sa, sb = _side(records, claim.a, ds), _side(records, claim.b, ds)
            pa, pb = sa.preds, sb.preds
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
            pooling = "; ".join(f"{side}: {s.note}" for side, s in (("A", sa), ("B", sb)) if s.note)
            for metric in ("micro", "macro"):
                a_preds = [p["pred"]["headline"] for p in pa]
                b_preds = [p["pred"]["headline"] for p in pb]
                inst = cached_compare(gold, a_preds, b_preds, metric, n_resamples)
                m = cached_compare_methods(
                    gold, a_preds, b_preds, metric,
                    seeded_a=claim.a.method not in BASELINE_METHODS,
                    seeded_b=claim.b.method not in BASELINE_METHODS,
                )  # fmt: skip
                tested = m.p == m.p  # not nan
                rows.append(
                    {
                        **base,
                        "metric": f"{'Mi' if metric == 'micro' else 'Ma'}-F1",
                        "A - B": round(m.diff, 2),
                        "95% CI": f"[{m.low:.2f}, {m.high:.2f}]" if tested else "",
                        "p": format_p(m.p) if tested else "",
                        "verdict": m.verdict,
                        "MDE": f"{m.mde:.2f}" if tested else "",
                        "seeds for 1 pt": m.seeds_for_1pt_text() if tested else "",
                        "ASO eps": f"{m.aso_eps:.2f} / {m.aso_eps_reverse:.2f}"
                        if m.aso_eps == m.aso_eps
                        else "",
                        "P(A>B)": f"{m.p_improve:.2f}",
                        "seeds A/B": f"{len(pa)}/{len(pb)}",
                        "test texts": m.n_texts,
                        "instance p": format_p(inst.p),
                        "instance verdict": inst.verdict,
                        "pooling": pooling,
                        "diff": m.diff,
                        "ci_low": m.low,
                        "ci_high": m.high,
                        "p_value": m.p if tested else None,
                        "mde": m.mde,
                        "instance_p": inst.p,
                        "seed_s_a": sa.seconds_per_seed(),
                        "seed_s_b": sb.seconds_per_seed(),
                        "scores_a": json.dumps([round(x, 4) for x in m.scores_a]),
                        "scores_b": json.dumps([round(x, 4) for x in m.scores_b]),
                    }
                )
    # fixed columns: a frame's order would follow its first row, and a first row without a
    # bootstrap ("no run of ...") would move the verdict from the last column to the sixth
    out = pd.DataFrame(rows, columns=CLAIM_COLUMNS + NUMERIC_COLUMNS + SCORE_COLUMNS)
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
    subset is shown). Verdicts read the unrounded difference (``diff``)."""
    from scipy.stats import false_discovery_control

    out = table.copy()
    tested = out["p_value"].notna()
    out["p (BH)"] = ""
    out["at 5% FDR"] = ""
    if tested.any():
        adj = false_discovery_control(out.loc[tested, "p_value"].astype(float).to_numpy())
        diff = out["diff"] if "diff" in out else out["A - B"]
        diffs = diff.where(diff.notna(), out["A - B"])[tested].astype(float)
        out.loc[tested, "p (BH)"] = [format_p(a) for a in adj]
        out.loc[tested, "at 5% FDR"] = [verdict(d, a) for d, a in zip(diffs, adj, strict=True)]
        out.loc[tested, "p_bh"] = adj
    return out


def seed_needs(table: pd.DataFrame) -> pd.DataFrame:
    """The claim rows where more seeds would resolve a 1-point effect: "seeds for 1 pt" is a
    count above the seeds either side has now (not "> 50", not bounded by the test texts).
    One row per claim, data set and metric, the largest need first: what to train next, and
    what it costs: the seeds each side still lacks times its median training time so far, in
    hours of one worker ("" where a side recorded no training time)."""
    cols = ["dataset", "claim", "metric", "seeds A/B", "seeds for 1 pt"]
    if table.empty or "seeds for 1 pt" not in table:
        return pd.DataFrame(columns=[*cols, "worker-hours"])
    t = table[table["seeds for 1 pt"].astype(str).str.fullmatch(r"\d+")].copy()
    need = t["seeds for 1 pt"].astype(int)
    ab = t["seeds A/B"].astype(str).str.split("/").map(lambda x: [int(v) for v in x])
    t = t[need > ab.map(min)].assign(_need=need, _ab=ab)

    def hours(row) -> str:
        secs = [row.get("seed_s_a"), row.get("seed_s_b")]
        if any(s is None or s != s for s in secs):
            return ""
        more = [max(0, row["_need"] - have) for have in row["_ab"]]
        return f"{sum(m * s for m, s in zip(more, secs, strict=True)) / 3600:.1f}"

    t["worker-hours"] = [hours(r) for _, r in t.iterrows()]
    return t.sort_values(["_need", "dataset"], ascending=[False, True])[
        [*cols, "worker-hours"]
    ].reset_index(drop=True)


def format_p(p: float) -> str:
    """A p-value as a reader takes it: two significant digits, below 0.001 as '< 0.001'."""
    return f"{p:.2g}" if p >= 0.001 else "< 0.001"


def claims_for(profile: str, records: list[dict] | None = None):
    """The paper's claims at the profile's own prefix lengths (the paper's 30 / 10-20 / 10-30
    where the profile is unknown), and with ``records`` the best parameter-efficient method per
    data set (:func:`best_method_claims`: it is chosen from the records' dev scores)."""
    from .profiles import PROFILES

    p = PROFILES.get(profile)
    if p is None:
        return paper_claims()
    wos_local = p.local_lengths.get("wos", [[10, 20], [10, 30]])
    short = "/".join(map(str, wos_local[0]))
    long = "/".join(map(str, wos_local[-1])) if len(wos_local) > 1 else short
    from dataclasses import replace

    from ..method.recipes import recipe_for

    claims = paper_claims(str(p.global_lengths[-1]), short, long, recipe_for("ptv2", p.encoder))
    claims += peft_method_claims(p)
    if records is not None:
        claims += best_method_claims(records, p)
    pin = lambda row: replace(row, selection=p.selection)  # noqa: E731
    return [replace(c, a=pin(c.a), b=pin(c.b)) for c in claims]


def peft_method_claims(p) -> list[Claim]:
    """Beyond the paper: the deep prefix against the other parameter-efficient rows of the
    profile (``Profile.peft_rows``): LoRA at the prefix's share (the first LoRA row, sized to
    match) and shallow prompt tuning at the prefix's P."""
    spp = Row("spp", prefix=str(p.global_lengths[-1]))
    out = []
    lora = next((v for v in p.peft_rows.values() if v[0] == "lora"), None)
    if lora is not None:
        out.append(Claim("deep prefix >= LoRA at equal share", spp,
                         Row("lora", prefix="-", size=lora[1])))  # fmt: skip
    if any(v[0] == "prompt" for v in p.peft_rows.values()):
        out.append(Claim("deep prefix >= shallow prompt tuning (input only)", spp,
                         Row("prompt", prefix=str(p.global_lengths[-1]))))  # fmt: skip
    return out


def peft_row(p, tag: str) -> Row:
    """The table row of ``Profile.peft_rows[tag]``: LoRA and adapters by their size, prompt
    tuning by its P, IA3 and BitFit by their method alone."""
    method, size = p.peft_rows[tag]
    prefix = str(p.global_lengths[-1]) if method == "prompt" else "-"
    return Row(method, prefix=prefix, size=size)


def best_method_claims(records: list[dict], p) -> list[Claim]:
    """Per data set of ``Profile.peft_method_datasets``: the parameter-efficient row with the
    best mean *dev* score over its seeds (the deep prefix at the last global length and every
    ``peft_rows`` row) against the runner-up, as a claim tested on test. Chosen on dev so the
    test interval is not the one that picked it; a data set with fewer than two such rows run
    gets no claim (its rows are listed as missing elsewhere), and so does a row whose lr the
    search has not chosen yet (``Profile.peft_lrs``)."""
    from dataclasses import replace

    candidates = [Row("spp", prefix=str(p.global_lengths[-1]))]
    # a row's runs at its chosen lr only: the search's other lrs share its labels
    candidates += [replace(peft_row(p, tag), train=(("lr", p.peft_lrs[tag]),))
                   for tag in p.peft_rows if tag in p.peft_lrs]  # fmt: skip
    out = []
    for ds in p.peft_method_datasets:
        dev = {}
        for row in candidates:
            row = replace(row, selection=p.selection)
            scores = [r["best_dev"] for r in records
                      if r.get("dataset") == ds and r.get("best_dev") is not None
                      and row.matches(r)]  # fmt: skip
            if scores:
                dev[row] = sum(scores) / len(scores)
        if len(dev) < 2:
            continue
        first, second = sorted(dev, key=lambda r: (-dev[r], r.label()))[:2]
        out.append(
            Claim(
                f"best parameter-efficient method on {ds} (chosen on dev): "
                f"{first.label()} over the runner-up",
                first,
                second,
                datasets=(ds,),
            )
        )
    return out


def verdicts_markdown(
    results_dir: str | os.PathLike, profile: str, topics: list[str] | None = None
) -> str:
    """What the current records say about the claims whose text contains one of ``topics``
    (every claim when None): one line per claim, data set and metric, drawn from the records
    (no typed numbers)."""
    t = topic_claims(results_dir, profile, topics)
    return verdicts_of(t, results_dir, profile)


def topic_claims(
    results_dir: str | os.PathLike, profile: str, topics: list[str] | None = None
) -> pd.DataFrame:
    """The profile's claims table, restricted to the claims whose text contains one of
    ``topics`` (every claim when None)."""
    # the whole profile's table, then the topics' rows: the false-discovery control counts
    # every claim of the table (as results.md does), and the same resamples give the same p
    t = claims_table(results_dir, claims_for(profile, load_records(results_dir)))
    if topics is not None:
        t = t[[any(k in c for k in topics) for c in t.claim]]
    return t


def verdicts_of(t: pd.DataFrame, results_dir: str | os.PathLike, profile: str) -> str:
    """:func:`verdicts_markdown` of a table already computed."""
    if t.empty:
        return f"*No runs for these claims in `results/{profile}/` yet.*"
    lines = [
        f"**What the current `{profile}` records say** (headline; A − B with its 95% interval "
        "and p over training runs and test texts, the verdict they give, and the minimum "
        "detectable effect (MDE) of that comparison; BH: Benjamini-Hochberg over every claim of "
        "`results.md`; the instance-level test between the fixed trained models in brackets):",
        "",
    ]
    for r in t.to_dict("records"):
        if not r.get("metric"):  # one side has no run
            lines.append(f"- {r['claim']} on {r['dataset']}: {r['verdict']}")
            continue
        if not r.get("p"):  # not testable (a neural side trained once)
            lines.append(
                f"- {r['claim']} on {r['dataset']}, {r['metric']}: A − B = {r['A - B']:+.2f}, "
                f"**{r['verdict']}** (seeds {r['seeds A/B']}; instance-level: "
                f"{r['instance verdict']}, p {r['instance p']})"
            )
            continue
        fdr = "" if r["at 5% FDR"] == r["verdict"] else f"; at 5% FDR: {r['at 5% FDR']}"
        lines.append(
            f"- {r['claim']} on {r['dataset']}, {r['metric']}: A − B = {r['A - B']:+.2f} "
            f"{r['95% CI']}, p {r['p']} (BH {r['p (BH)']}) → **{r['verdict']}**{fdr}; "
            f"MDE {r['MDE']} (seeds {r['seeds A/B']}, {r['test texts']} test texts; "
            f"{_one_point(r.get('seeds for 1 pt', ''))}"
            f"instance-level: {r['instance verdict']}, p {r['instance p']})"
        )
    return "\n".join(lines)


def _one_point(need: str) -> str:
    """What a 1-point effect would take, in words (the table's "seeds for 1 pt")."""
    need = str(need or "")
    if need.isdigit():
        return f"1 point needs {need} seeds a side; "
    if need.startswith("none: texts"):
        floor = need.split("(")[-1].rstrip(")")
        return f"no seed count resolves 1 point on these texts, whose MDE floor is {floor}; "
    if need == "> 50":
        return "1 point needs more than 50 seeds a side; "
    return ""
