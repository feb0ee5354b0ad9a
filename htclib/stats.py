"""What a set of runs can and cannot resolve: a paired randomisation test, a paired
bootstrap interval, and the verdict.

A run's compact test record holds, per test text, the gold label ids and the ids its model
predicts under the headline (sigmoid > 0.5). Comparing model A with model B on the same
test texts, the statistic is the difference of the seed-mean headline F1s ("seeds pooled":
each model's seed-to-seed variation stays inside the statistic; text sampling is what is
tested).

- **Verdict: paired approximate randomisation** (Noreen 1989; Yeh 2000, "More accurate
  tests for the statistical significance of result differences", for F-scores; the NLP
  standard). Under "A and B are the same system" the two predictions of a text are
  exchangeable, so swap them on a random half of the texts and recompute; the p-value is
  the share of swaps whose |A - B| reaches the observed one. It keeps every test text, so
  macro-F1 is always computed over the labels the split has.
- **Interval: percentile bootstrap, of what each F1 averages.** Mi-F1 pools every text's
  label decisions, so its interval resamples test texts (paired: the same resample for A
  and B). Ma-F1 is a mean over labels, so its interval resamples the labels' paired F1
  differences. Resampling texts is what macro-F1 handles worst: a label seen once in a
  200-text split is absent from about a third of the resamples and then counts 0 for both
  models, so resampled differences shrink toward 0 (the text bootstrap used until stop 24
  put SPP vs the linear probe at 14.96 [9.32, 14.82]: an interval beside its own estimate;
  BCa, which corrects for the bias, went as far as [47.84, 47.87] around 47.77 on a
  synthetic case, see ``tests/test_stats.py``). Resampling labels keeps every text.

Verdict on a claim "A beats B" (or "A >= B"): p < 0.05 and A - B > 0: ``holds``; p < 0.05
and A - B < 0: ``reversed``; otherwise ``not resolved at this size``.

Both run on per-text counts (true positives and predictions per label), so a resample or a
swap is one matrix product instead of a loop over texts: fast enough for the full WoS test
split (9,397 texts).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

HOLDS, REVERSED, UNRESOLVED = "holds", "reversed", "not resolved at this size"
ALPHA = 0.05


def multi_hot(ids: Sequence[Sequence[int]], n_labels: int) -> np.ndarray:
    """Label-id lists -> ``(n, n_labels)`` bool."""
    out = np.zeros((len(ids), n_labels), dtype=bool)
    for row, lab in enumerate(ids):
        out[row, list(lab)] = True
    return out


def _f1_from_counts(tp, g, p) -> tuple[np.ndarray, np.ndarray]:
    """Micro- and macro-F1 from per-label counts ``(..., L)`` (leading axes: resamples)."""
    tp, g, p = (np.asarray(x, dtype=np.float64) for x in (tp, g, p))
    micro = 2 * tp.sum(-1) / np.maximum(g.sum(-1) + p.sum(-1), 1)
    per = np.divide(2 * tp, g + p, out=np.zeros(np.broadcast(tp, g, p).shape), where=(g + p) > 0)
    return micro, per.mean(-1)


def f1s(gold: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    """Headline micro- and macro-F1 (every label counts; absent and unpredicted = 0) of bool
    ``(n, L)`` arrays; the same numbers as :func:`htclib.metrics.headline`."""
    mi, ma = _f1_from_counts((gold & pred).sum(0), gold.sum(0), pred.sum(0))
    return float(mi), float(ma)


@dataclass
class Comparison:
    """A - B on the headline (percentage points), its 95% interval, p and the verdict."""

    metric: str
    diff: float
    low: float
    high: float
    p: float
    verdict: str
    n_texts: int
    seeds_a: int
    seeds_b: int
    interval: str = "texts"  # what the bootstrap resampled: "texts" (micro) or "labels" (macro)


def _check(gold, preds_a, preds_b):
    if not preds_a or not preds_b:
        raise ValueError("each side needs at least one seed's predictions")
    for p in preds_a + preds_b:
        if p.shape != gold.shape:
            raise ValueError(f"predictions of shape {p.shape} against gold {gold.shape}")


def _side(gold, preds) -> tuple[np.ndarray, np.ndarray]:
    """Per-text counts of one model's seeds: tp and predicted, each ``(seeds, n, L)``."""
    return np.stack([gold & p for p in preds]), np.stack(preds)


def _seed_mean_f1(weights, gold, tp, pr, k) -> np.ndarray:
    """Seed-mean F1 (k: 0 micro, 1 macro) on each row of text ``weights`` ``(R, n)``."""
    g = weights @ gold
    per_seed = [
        _f1_from_counts(weights @ t, g, weights @ q)[k] for t, q in zip(tp, pr, strict=True)
    ]
    return np.mean(per_seed, 0)


def compare(
    gold: np.ndarray,
    preds_a: list[np.ndarray],
    preds_b: list[np.ndarray],
    metric: str = "micro",
    n_resamples: int = 2000,
    seed: int = 0,
) -> Comparison:
    """A - B (seed-mean F1, points), its 95% percentile-bootstrap interval (micro: over
    test texts; macro: over labels) and the paired randomisation test's p-value
    (``n_resamples`` swaps) behind the verdict.

    gold: ``(n, L)`` bool; preds_a / preds_b: one ``(n, L)`` bool array per seed.
    """
    _check(gold, preds_a, preds_b)
    rng = np.random.default_rng(seed)
    n, n_labels = gold.shape
    if metric == "micro":
        gold_f = gold.astype(np.float64)
        tp_a, pr_a = (x.astype(np.float64) for x in _side(gold, preds_a))
        tp_b, pr_b = (x.astype(np.float64) for x in _side(gold, preds_b))

        def stat(w):  # text weights (R, n) -> A - B on each row
            d = _seed_mean_f1(w, gold_f, tp_a, pr_a, 0) - _seed_mean_f1(w, gold_f, tp_b, pr_b, 0)
            return 100 * d

        full = float(stat(np.ones((1, n)))[0])
        draws = []
        for start in range(0, n_resamples, 500):  # batches bound the (R, n) weight matrix
            r = min(500, n_resamples - start)
            w = np.zeros((r, n))
            np.add.at(w, (np.arange(r)[:, None], rng.integers(0, n, (r, n))), 1.0)
            draws.append(stat(w))
        resampled, interval = np.concatenate(draws), "texts"
    elif metric == "macro":
        diff = 100 * (_per_label_f1(gold, preds_a) - _per_label_f1(gold, preds_b))
        full = float(diff.mean())
        resampled = diff[rng.integers(0, n_labels, (n_resamples, n_labels))].mean(1)
        interval = "labels"
    else:
        raise ValueError(f"metric must be 'micro' or 'macro', not {metric!r}")
    low, high = (float(x) for x in np.percentile(resampled, [50 * ALPHA, 100 - 50 * ALPHA]))
    p = randomisation_p(gold, preds_a, preds_b, metric, n_resamples, seed)
    return Comparison(
        metric, full, low, high, p, verdict(full, p), n, len(preds_a), len(preds_b), interval
    )


def _per_label_f1(gold: np.ndarray, preds: list[np.ndarray]) -> np.ndarray:
    """Seed-mean F1 of each label ``(L,)``; absent and unpredicted = 0, as the headline."""
    out = []
    for p in preds:
        tp, g, q = (gold & p).sum(0), gold.sum(0), p.sum(0)
        out.append(np.divide(2 * tp, g + q, out=np.zeros(len(g)), where=(g + q) > 0))
    return np.mean(out, 0)


def randomisation_p(
    gold: np.ndarray,
    preds_a: list[np.ndarray],
    preds_b: list[np.ndarray],
    metric: str = "micro",
    n_permutations: int = 2000,
    seed: int = 0,
) -> float:
    """Two-sided p-value of the paired approximate-randomisation test of seed-mean F1(A) -
    F1(B): on each permutation every text's A and B predictions swap with probability 1/2.

    Seeds pair up as lcm(#A, #B) pairs (each seed of a side equally often), so the paired
    statistic is exactly the seed-mean difference and one coin per text swaps every pair.
    """
    _check(gold, preds_a, preds_b)
    k = 0 if metric == "micro" else 1
    m = math.lcm(len(preds_a), len(preds_b))
    pa = [preds_a[i % len(preds_a)] for i in range(m)]
    pb = [preds_b[i % len(preds_b)] for i in range(m)]
    tp_a, pr_a = (x.astype(np.float64) for x in _side(gold, pa))
    tp_b, pr_b = (x.astype(np.float64) for x in _side(gold, pb))
    g = gold.sum(0).astype(np.float64)
    swaps = np.random.default_rng(seed + 1).random((n_permutations, len(gold))) < 0.5
    s = np.vstack([np.zeros(len(gold)), swaps]).astype(np.float64)  # row 0: as observed
    diffs = np.zeros(len(s))
    for i in range(m):
        ta, qa = tp_a[i].sum(0), pr_a[i].sum(0)
        dt, dq = s @ (tp_b[i] - tp_a[i]), s @ (pr_b[i] - pr_a[i])  # what a swap moves
        fa = _f1_from_counts(ta + dt, g, qa + dq)[k]
        fb = _f1_from_counts(tp_b[i].sum(0) - dt, g, pr_b[i].sum(0) - dq)[k]
        diffs += (fa - fb) / m
    observed = abs(diffs[0])
    # +1 on both sides: the observed assignment is one of the permutations (never p = 0)
    return float((np.sum(np.abs(diffs[1:]) >= observed - 1e-12) + 1) / (n_permutations + 1))


def verdict(diff: float, p: float) -> str:
    if p < ALPHA and diff > 0:
        return HOLDS
    if p < ALPHA and diff < 0:
        return REVERSED
    return UNRESOLVED
