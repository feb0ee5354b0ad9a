"""What a set of runs can and cannot resolve: paired bootstrap intervals and verdicts.

A run's compact test record holds, per test text, the gold label ids and the ids its model
predicts under the headline (sigmoid > 0.5). Comparing model A with model B: resample the
*test texts* (the same resample for both models: paired), recompute the headline F1 of each
model on the resample, and take the difference. With several seeds per model, the statistic
is the difference of the seed-mean F1s on the same resample ("seeds pooled": each model's
seed-to-seed variation stays inside the statistic, text sampling is what is resampled).
``scipy.stats.bootstrap`` does the resampling and the percentile interval.

Verdict on a claim "A beats B" (or "A >= B"): the 95% interval of A - B entirely above 0:
``holds``; entirely below 0: ``reversed``; containing 0: ``not resolved at this size``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

HOLDS, REVERSED, UNRESOLVED = "holds", "reversed", "not resolved at this size"


def multi_hot(ids: Sequence[Sequence[int]], n_labels: int) -> np.ndarray:
    """Label-id lists -> ``(n, n_labels)`` bool."""
    out = np.zeros((len(ids), n_labels), dtype=bool)
    for row, lab in enumerate(ids):
        out[row, list(lab)] = True
    return out


def f1s(gold: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    """Headline micro- and macro-F1 (every label counts; absent and unpredicted = 0) of bool
    ``(n, L)`` arrays; the same numbers as :func:`htclib.metrics.headline`."""
    tp = (gold & pred).sum(0).astype(np.float64)
    g, p = gold.sum(0), pred.sum(0)
    micro = 2 * tp.sum() / max(g.sum() + p.sum(), 1)
    per = np.divide(2 * tp, g + p, out=np.zeros_like(tp), where=(g + p) > 0)
    return float(micro), float(per.mean())


@dataclass
class Comparison:
    """A - B on the headline (percentage points), its 95% interval and the verdict."""

    metric: str
    diff: float
    low: float
    high: float
    verdict: str
    n_texts: int
    seeds_a: int
    seeds_b: int


def paired_bootstrap(
    gold: np.ndarray,
    preds_a: list[np.ndarray],
    preds_b: list[np.ndarray],
    metric: str = "micro",
    n_resamples: int = 2000,
    seed: int = 0,
) -> Comparison:
    """Interval of seed-mean F1(A) - seed-mean F1(B) over resamples of the test texts.

    gold: ``(n, L)`` bool; preds_a / preds_b: one ``(n, L)`` bool array per seed.
    """
    from scipy.stats import bootstrap

    if not preds_a or not preds_b:
        raise ValueError("each side needs at least one seed's predictions")
    for p in preds_a + preds_b:
        if p.shape != gold.shape:
            raise ValueError(f"predictions of shape {p.shape} against gold {gold.shape}")
    k = 0 if metric == "micro" else 1

    def stat(idx):
        idx = np.asarray(idx, dtype=np.int64)
        g = gold[idx]
        a = np.mean([f1s(g, p[idx])[k] for p in preds_a])
        b = np.mean([f1s(g, p[idx])[k] for p in preds_b])
        return 100 * (a - b)

    n = len(gold)
    full = stat(np.arange(n))
    res = bootstrap(
        (np.arange(n),),
        stat,
        n_resamples=n_resamples,
        vectorized=False,
        method="percentile",
        confidence_level=0.95,
        random_state=np.random.default_rng(seed),
    )
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return Comparison(metric, full, low, high, verdict(low, high), n, len(preds_a), len(preds_b))


def verdict(low: float, high: float) -> str:
    if low > 0:
        return HOLDS
    if high < 0:
        return REVERSED
    return UNRESOLVED
