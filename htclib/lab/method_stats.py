"""Verdicts about methods, not about trained instances: A - B with an interval and a p-value
that contain both sources of variation a claim about a method has to survive.

A claim "method A beats method B" is about what a researcher gets when she trains A or B
again and scores it on texts from the same population. Two things vary:

- **the training run** (the seed: initialisation, batch order, dropout): on the wos sample SPP
  P = 30's seeds score 59.65, 59.76 and 56.36 Mi-F1, as far apart as the effects under test;
- **the test texts** (a finite sample of the population).

The instance-level test of :mod:`htclib.lab.stats` holds the trained models fixed and resamples
texts only, so it answers "are these k trained models better than those?", not the claim.

**The scheme (one for verdict, interval and p; Mi-F1 and Ma-F1 alike).** The estimate is the
difference of seed-mean F1s on the test split. Its variance is the sum of

- the training-run part, ``s_A^2 / k_A + s_B^2 / k_B`` (``s``: the sample SD of a method's
  per-seed F1 on the test split, ``k``: its seeds), and
- the test-text part, the variance of the same difference over a paired bootstrap of test
  texts (one resample for both sides and every seed; texts, not labels, for Ma-F1 too: only
  its variance is used, centred on the estimate, so the bootstrap's pull of Ma-F1 toward 0 on
  a small split does not move the interval).

A t distribution with Welch-Satterthwaite degrees of freedom from the seed parts (the text
part, estimated from hundreds of texts, counts as known) gives the 95% interval and the
two-sided p, so the interval excludes 0 exactly when p < 0.05 and the verdict follows from
either. With few seeds the t quantile widens the interval (at 3 against 3 seeds and equal
SDs, df = 4: 2.78 standard errors instead of 1.96); a bootstrap over 3 seeds would do the
opposite (it underestimates a variance from 3 values by a third). A side trained once that
has no seed (a deterministic baseline: TF-IDF + LR, the linear probe, hiclass) adds no
training-run term; a neural side trained once has no estimate of it, and the comparison says
so instead of testing.

**Power.** ``mde`` is the minimum detectable effect: the true difference this comparison finds
with probability 0.8 at alpha 0.05 two-sided, ``(t_{0.975} + t_{0.8}) x SE`` at the current
seed counts; "not resolved" says no more than "an effect smaller than this could hide".
``seeds_for(1.0)`` is the seed count per side at which a 1-point effect would reach that power,
at the SDs measured so far (None: not within 50). ``mde_floor`` is the MDE with infinitely many
seeds, the test texts' part alone: where it exceeds 1 point no number of seeds resolves a
1-point effect on this test split (wos's 200 texts), only a larger one does.

**Almost Stochastic Order** (Dror et al., ACL 2019; ``deepsig.aso``): ``eps_min`` over the
per-seed scores, an upper bound (95% confidence) on the degree to which "A is stochastically
larger than B" is violated: below 0.5 A is the better method (deepsig's rule), near 1 nothing
says so. Computed both ways (A over B, B over A). It sees the training runs only (each seed's
score on the fixed test split), and with 3 scores a side it rarely leaves 1. **P(A > B)**: the share of
(seed of A, seed of B) pairs where A scores higher, ties counting half (the probability of
improvement, as rliable reports it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .stats import ALPHA, _Counts, _f1_from_counts, _metric_index, verdict

POWER = 0.8
# deepsig's bootstrap iterations for eps_min. Its default is 1,000 at ~3 s a call (NumPy's
# vectorize in a Python loop); a claims table makes ~110 calls. At 200 eps_min moved by about
# 0.01 against 1,000 on a 5-against-5 list of wos-like scores (0.807 vs 0.797), inside the
# 0.5 rule's margin for all but a row already at the edge.
ASO_ITERATIONS = 200


@dataclass
class MethodComparison:
    """A - B over training runs and test texts (points), and what it can resolve."""

    metric: str
    diff: float
    low: float
    high: float
    p: float
    verdict: str
    se: float
    df: float
    mde: float
    seeds_for_1pt: int | None
    aso_eps: float
    aso_eps_reverse: float
    p_improve: float
    seeds_a: int
    seeds_b: int
    n_texts: int
    scores_a: list[float] = field(default_factory=list)
    scores_b: list[float] = field(default_factory=list)
    seed_sd_a: float = float("nan")
    seed_sd_b: float = float("nan")
    text_se: float = float("nan")

    @property
    def mde_floor(self) -> float:
        """The MDE with infinitely many seeds: the test texts' part alone (points)."""
        return (_t(1 - ALPHA / 2, math.inf) + _t(POWER, math.inf)) * self.text_se

    def seeds_for_1pt_text(self) -> str:
        """How the claims table says what a 1-point effect would take: a seed count, "> 50",
        or that the test texts bound it whatever the seeds (their MDE floor)."""
        if self.mde_floor > 1.0:
            return f"none: texts ({self.mde_floor:.2f})"
        return str(self.seeds_for_1pt) if self.seeds_for_1pt else "> 50"


def per_seed_f1(gold: np.ndarray, preds: list[np.ndarray], metric: str) -> list[float]:
    """Each seed's headline F1 (points) on the test split."""
    k = _metric_index(metric)
    return [
        100 * float(_f1_from_counts((gold & p).sum(0), gold.sum(0), p.sum(0))[k]) for p in preds
    ]


def text_variance(
    gold: np.ndarray,
    preds_a: list[np.ndarray],
    preds_b: list[np.ndarray],
    metric: str,
    n_resamples: int = 1000,
    seed: int = 0,
) -> float:
    """Variance (points^2) of the seed-mean difference over a paired bootstrap of test texts."""
    k = _metric_index(metric)
    counts = _Counts(gold, preds_a, preds_b)
    rng = np.random.default_rng(seed)
    n = len(gold)
    out = []
    for start in range(0, n_resamples, 250):  # bounds the (resamples, texts) weight matrix
        r = min(250, n_resamples - start)
        w = rng.multinomial(n, np.full(n, 1 / n), size=r).astype(np.float32)
        out.append(counts.diff(w, k))
    return float(np.var(np.concatenate(out), ddof=1))


def _welch(var_a: float, k_a: int, var_b: float, k_b: int, v_text: float) -> tuple[float, float]:
    """(SE, Welch-Satterthwaite df): seed parts with k - 1 df, the text part as known."""
    parts = [(var_a / k_a, k_a - 1), (var_b / k_b, k_b - 1)]
    se2 = sum(v for v, _ in parts) + v_text
    denom = sum(v * v / d for v, d in parts if d > 0 and v > 0)
    df = se2 * se2 / denom if denom > 0 else math.inf
    return math.sqrt(se2), df


def _t(q: float, df: float) -> float:
    from scipy.stats import norm, t

    return float(norm.ppf(q) if math.isinf(df) else t.ppf(q, df))


def mde(se: float, df: float, alpha: float = ALPHA, power: float = POWER) -> float:
    """The smallest true difference found with probability ``power`` (two-sided ``alpha``)."""
    return (_t(1 - alpha / 2, df) + _t(power, df)) * se


def seeds_for(
    effect: float, sd_a: float, sd_b: float, v_text: float, max_seeds: int = 50
) -> int | None:
    """Seeds per side at which ``effect`` points reach 80% power, at these SDs."""
    for k in range(2, max_seeds + 1):
        se, df = _welch(sd_a**2, k, sd_b**2, k, v_text)
        if mde(se, df) <= effect:
            return k
    return None


def aso_eps(
    scores_a: list[float], scores_b: list[float], seed: int = 0, iterations: int = ASO_ITERATIONS
) -> float:
    """deepsig's ``eps_min`` of "A is better than B" (nan with fewer than 2 scores a side)."""
    if len(scores_a) < 2 or len(scores_b) < 2:
        return float("nan")
    import warnings

    from deepsig import aso

    with warnings.catch_warnings():  # identical scores: deepsig warns of a 0/0 it then handles
        warnings.simplefilter("ignore")
        return float(
            aso(
                scores_a, scores_b, confidence_level=0.95, num_bootstrap_iterations=iterations,
                seed=seed, show_progress=False,
            )
        )  # fmt: skip


def p_improve(scores_a: list[float], scores_b: list[float]) -> float:
    a, b = np.asarray(scores_a)[:, None], np.asarray(scores_b)[None, :]
    return float(np.mean((a > b) + 0.5 * (a == b)))


def compare_methods(
    gold: np.ndarray,
    preds_a: list[np.ndarray],
    preds_b: list[np.ndarray],
    metric: str = "micro",
    seeded_a: bool = True,
    seeded_b: bool = True,
    n_resamples: int = 1000,
    seed: int = 0,
    aso_iterations: int = ASO_ITERATIONS,
) -> MethodComparison:
    """The method-level comparison (module docstring). ``seeded_*``: whether that side's
    training depends on a seed (False for deterministic baselines, whose one run is the
    method). ``aso_iterations``: deepsig's bootstrap iterations (:data:`ASO_ITERATIONS`)."""
    from scipy.stats import t as t_dist

    sa, sb = per_seed_f1(gold, preds_a, metric), per_seed_f1(gold, preds_b, metric)
    ka, kb = len(sa), len(sb)
    diff = float(np.mean(sa) - np.mean(sb))
    v_text = text_variance(gold, preds_a, preds_b, metric, n_resamples, seed)
    var_a = float(np.var(sa, ddof=1)) if ka > 1 else (0.0 if not seeded_a else math.nan)
    var_b = float(np.var(sb, ddof=1)) if kb > 1 else (0.0 if not seeded_b else math.nan)
    base = dict(
        metric=metric, diff=diff, seeds_a=ka, seeds_b=kb, n_texts=len(gold),
        scores_a=sa, scores_b=sb, seed_sd_a=math.sqrt(var_a) if var_a == var_a else math.nan,
        seed_sd_b=math.sqrt(var_b) if var_b == var_b else math.nan,
        text_se=math.sqrt(v_text), p_improve=p_improve(sa, sb),
        aso_eps=aso_eps(sa, sb, seed, aso_iterations),
        aso_eps_reverse=aso_eps(sb, sa, seed, aso_iterations),
    )  # fmt: skip
    if math.isnan(var_a) or math.isnan(var_b):
        nan = math.nan
        one = "A" if math.isnan(var_a) else "B"
        return MethodComparison(
            **base, low=nan, high=nan, p=nan, se=nan, df=nan, mde=nan, seeds_for_1pt=None,
            verdict=f"not testable: one training run of {one}, no seed variance",
        )  # fmt: skip
    se, df = _welch(var_a, ka, var_b, kb, v_text)
    half = _t(1 - ALPHA / 2, df) * se
    if se > 0:
        tstat = diff / se
        p = float(2 * (t_dist.sf(abs(tstat), df) if not math.isinf(df) else _norm_sf(tstat)))
    else:
        p = 1.0 if diff == 0 else 0.0
    # the seed SD to plan with: each side's own, or the other side's for a deterministic one
    plan_a = base["seed_sd_a"] if seeded_a else 0.0
    plan_b = base["seed_sd_b"] if seeded_b else 0.0
    return MethodComparison(
        **base, low=diff - half, high=diff + half, p=p, verdict=verdict(diff, p), se=se, df=df,
        mde=mde(se, df), seeds_for_1pt=seeds_for(1.0, plan_a, plan_b, v_text),
    )  # fmt: skip


def _norm_sf(z: float) -> float:
    from scipy.stats import norm

    return float(norm.sf(abs(z)))


def cached_compare_methods(
    gold: np.ndarray,
    preds_a: list[np.ndarray],
    preds_b: list[np.ndarray],
    metric: str = "micro",
    seeded_a: bool = True,
    seeded_b: bool = True,
    n_resamples: int = 1000,
    seed: int = 0,
) -> MethodComparison:
    """:func:`compare_methods`, remembered on disk (:func:`htclib.lab.stats.disk_cached`; ASO's
    bootstrap costs a second a call, and every notebook prints the claims)."""
    from .stats import disk_cached

    here = Path(__file__)
    return disk_cached(
        "compare_methods",
        [here, here.with_name("stats.py")],
        (metric, seeded_a, seeded_b, n_resamples, seed, gold.shape, _deepsig_version()),
        [gold, *preds_a, *preds_b],
        lambda: compare_methods(
            gold, preds_a, preds_b, metric, seeded_a, seeded_b, n_resamples, seed
        ),
        MethodComparison,
    )


def _deepsig_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("deepsig")
    except PackageNotFoundError:
        return "none"
