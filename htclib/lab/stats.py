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
  exchangeable, so swap them on a random half of the texts and recompute
  (``scipy.stats.permutation_test``, paired samples; two-sided p = twice the smaller tail).
  It keeps every test text, so macro-F1 is always computed over the labels the split has.
- **Interval: percentile bootstrap, of what each F1 averages.** Mi-F1 pools every text's
  label decisions, so its interval resamples test texts (paired: the same resample for A
  and B). Ma-F1 is a mean over labels, so its interval resamples the labels' paired F1
  differences. Resampling texts is what macro-F1 handles worst: a label seen once in a
  200-text split is absent from about a third of the resamples and then counts 0 for both
  models, so resampled differences shrink toward 0 (the text bootstrap used until stop 24
  put SPP vs the linear probe at 14.96 [9.32, 14.82]: an interval beside its own estimate;
  BCa, which corrects for the bias, went as far as [47.84, 47.87] around 47.77 on a
  synthetic case like the one in ``tests/test_stats.py``). Resampling labels keeps every
  text. ``scipy.stats.bootstrap`` draws both.

Verdict on a claim "A beats B" (or "A >= B"): p < 0.05 and A - B > 0: ``holds``; p < 0.05
and A - B < 0: ``reversed``; otherwise ``not resolved at this size``.

The statistic runs on per-text counts (true positives and predictions per label), so scipy's
batches of resamples or swaps are matrix products instead of loops over texts: fast enough
for the full WoS test split (9,397 texts). Micro-F1 needs only each text's totals (one
column instead of one per label), the randomisation test's unweighted sums are column sums,
and the counts are float32 (integers, exact): the cpu profile's 28 tests took 13 s of CPU
instead of 74 (identical tables). ``cached_compare`` remembers each answer on disk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HOLDS, REVERSED, UNRESOLVED = "holds", "reversed", "not resolved at this size"
ALPHA = 0.05


def _label_f1(tp, g, p) -> np.ndarray:
    """Each label's F1 from its counts ``(..., L)``; absent and unpredicted = 0."""
    tp, g, p = (np.asarray(x, dtype=np.float64) for x in (tp, g, p))
    return np.divide(2 * tp, g + p, out=np.zeros(np.broadcast(tp, g, p).shape), where=(g + p) > 0)


def _f1_from_counts(tp, g, p) -> tuple[np.ndarray, np.ndarray]:
    """Micro- and macro-F1 from per-label counts ``(..., L)`` (leading axes: resamples)."""
    tp, g, p = (np.asarray(x, dtype=np.float64) for x in (tp, g, p))
    micro = 2 * tp.sum(-1) / np.maximum(g.sum(-1) + p.sum(-1), 1)
    return micro, _label_f1(tp, g, p).mean(-1)


def f1s(gold: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    """Headline micro- and macro-F1 (every label counts; absent and unpredicted = 0) of bool
    ``(n, L)`` arrays; the same numbers as :func:`htclib.training.metrics.headline`."""
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


def _metric_index(metric: str) -> int:
    """Where a metric sits in ``_f1_from_counts``'s (micro, macro) pair."""
    k = {"micro": 0, "macro": 1}.get(metric)
    if k is None:
        raise ValueError(f"metric must be 'micro' or 'macro', not {metric!r}")
    return k


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
    from scipy.stats import bootstrap

    _check(gold, preds_a, preds_b)
    k = _metric_index(metric)
    n = len(gold)
    counts = _Counts(gold, preds_a, preds_b)
    full = float(counts.diff(None, k)[0])
    if k == 0:  # micro: resample texts (one resample for both sides: paired)

        def stat(idx, axis=-1):
            flat = np.asarray(idx, dtype=np.int64).reshape(-1, n)
            w = np.zeros((len(flat), n))
            np.add.at(w, (np.arange(len(flat))[:, None], flat), 1.0)
            return counts.diff(w, 0).reshape(np.shape(idx)[:-1])

        data, interval = (np.arange(n),), "texts"
    else:  # macro: resample the labels' paired F1 differences
        data = (100 * (_per_label_f1(gold, preds_a) - _per_label_f1(gold, preds_b)),)
        stat, interval = np.mean, "labels"
    res = bootstrap(
        data,
        stat,
        n_resamples=n_resamples,
        vectorized=True,
        batch=500,  # bounds the (resamples, texts) weight matrix
        method="percentile",
        confidence_level=1 - ALPHA,
        rng=np.random.default_rng(seed),
    )
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    p = _randomisation_p(counts, k, n_resamples, seed)
    return Comparison(
        metric, full, low, high, p, verdict(full, p), n, len(preds_a), len(preds_b), interval
    )


def cached_compare(
    gold: np.ndarray,
    preds_a: list[np.ndarray],
    preds_b: list[np.ndarray],
    metric: str = "micro",
    n_resamples: int = 2000,
    seed: int = 0,
) -> Comparison:
    """:func:`compare`, remembered on disk (:func:`disk_cached`). Why: every notebook of a
    profile prints the claims its records support, so one batch run computed the same ~30
    tests seven times."""
    return disk_cached(
        "compare",
        [Path(__file__)],
        (metric, n_resamples, seed),
        [gold, *preds_a, *preds_b],
        lambda: compare(gold, preds_a, preds_b, metric, n_resamples, seed),
        Comparison,
    )


def disk_cached(kind: str, sources: list[Path], args: tuple, arrays: list, compute, cls):
    """``compute()``'s dataclass answer, remembered under ``$HTCLIB_CACHE/<kind>`` (as the
    tokeniser's cache). The key hashes the code of ``sources``, the scipy and numpy versions
    (scipy draws the resamples and numpy sums them: another version may give other digits),
    ``args`` and the bool ``arrays``, so new predictions or a changed statistic never read an
    old answer; a damaged entry is recomputed, a read-only cache costs time, never the answer."""
    import hashlib
    import json
    from dataclasses import asdict

    import scipy

    from ..data.tokens import cache_dir
    from ..io import atomic_write_json

    h = hashlib.sha256()
    for f in sources:
        h.update(f.read_bytes())
    h.update(f"{scipy.__version__} {np.__version__}".encode())
    h.update(repr((args, len(arrays))).encode())
    for x in arrays:
        h.update(repr(np.shape(x)).encode())
        h.update(np.packbits(np.ascontiguousarray(x, dtype=bool)).tobytes())
    path = cache_dir() / kind / f"{h.hexdigest()[:32]}.json"
    try:
        return cls(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        pass
    answer = compute()
    try:  # atomic: notebooks run side by side share the cache
        atomic_write_json(path, asdict(answer))
    except OSError:
        pass
    return answer


class _Counts:
    """Per-text counts of both sides, seeds paired as lcm(#A, #B) pairs (each seed of a
    side equally often, so the pairs' mean difference is exactly the seed-mean difference).
    """

    def __init__(self, gold, preds_a, preds_b):
        m = math.lcm(len(preds_a), len(preds_b))
        pa = np.stack([preds_a[i % len(preds_a)] for i in range(m)])
        pb = np.stack([preds_b[i % len(preds_b)] for i in range(m)])
        # float32 is exact here: counts and resample weights are integers far below 2**24,
        # and it halves the matmuls' time against float64
        f = np.float32
        self.gold = gold.astype(f)
        self.per_label = (
            self.gold,
            (gold & pa).astype(f),
            pa.astype(f),
            (gold & pb).astype(f),
            pb.astype(f),
        )
        self.per_text = tuple(x.sum(-1, keepdims=True) for x in self.per_label)

    def diff(self, w: np.ndarray | None, k: int, swap: np.ndarray | None = None) -> np.ndarray:
        """100 x (seed-mean F1(A) - F1(B)) per row of text weights ``w`` ``(R, n)`` (None:
        every text once); where ``swap`` ``(R, n)`` is 1, that text's A and B predictions
        trade places."""
        # micro-F1 needs only each text's label totals: (R, n) @ (n, 1) instead of (n, L)
        gold, tps_a, prs_a, tps_b, prs_b = self.per_text if k == 0 else self.per_label
        if w is not None:
            w = np.asarray(w, dtype=np.float32)
        rows = len(w) if w is not None else 1 if swap is None else len(swap)
        g = np.broadcast_to(_sums(w, gold), (rows, gold.shape[1]))
        if swap is not None:
            # a swapped text moves its counts to the other side
            sw = np.asarray(swap, dtype=np.float32) * (1 if w is None else w)
        out = np.zeros(rows)
        for ta, qa, tb, qb in zip(tps_a, prs_a, tps_b, prs_b, strict=True):
            sa, sb = (_sums(w, ta), _sums(w, qa)), (_sums(w, tb), _sums(w, qb))
            if swap is not None:
                dt, dq = sw @ (tb - ta), sw @ (qb - qa)
                sa, sb = (sa[0] + dt, sa[1] + dq), (sb[0] - dt, sb[1] - dq)
            out += _f1_from_counts(sa[0], g, sa[1])[k] - _f1_from_counts(sb[0], g, sb[1])[k]
        return 100 * out / len(tps_a)


def _sums(w: np.ndarray | None, x: np.ndarray) -> np.ndarray:
    """Weighted column sums ``w @ x``; ``w`` None weighs every text once (the randomisation
    test), where plain column sums cost a fraction of the product with a matrix of ones."""
    return x.sum(0) if w is None else w @ x


def _per_label_f1(gold: np.ndarray, preds: list[np.ndarray]) -> np.ndarray:
    """Seed-mean F1 of each label ``(L,)``; absent and unpredicted = 0, as the headline."""
    return np.mean([_label_f1((gold & p).sum(0), gold.sum(0), p.sum(0)) for p in preds], 0)


def randomisation_p(
    gold: np.ndarray,
    preds_a: list[np.ndarray],
    preds_b: list[np.ndarray],
    metric: str = "micro",
    n_permutations: int = 2000,
    seed: int = 0,
) -> float:
    """Two-sided p-value of the paired approximate-randomisation test of seed-mean F1(A) -
    F1(B) (``scipy.stats.permutation_test``, paired: on each permutation every text's A and
    B predictions swap with probability 1/2, one coin per text for every seed pair)."""
    _check(gold, preds_a, preds_b)
    k = _metric_index(metric)
    return _randomisation_p(_Counts(gold, preds_a, preds_b), k, n_permutations, seed)


def _randomisation_p(counts: _Counts, k: int, n_permutations: int, seed: int) -> float:
    from scipy.stats import permutation_test

    n = len(counts.gold)

    def stat(x, y, axis=-1):
        # x holds text i where A's prediction of text i stays on side A, i + n where swapped
        swap = (np.asarray(x).reshape(-1, n) >= n).astype(np.float32)  # diff's dtype: no copy
        return counts.diff(None, k, swap).reshape(np.shape(x)[:-1])

    res = permutation_test(
        (np.arange(n), np.arange(n) + n),
        stat,
        permutation_type="samples",
        vectorized=True,
        n_resamples=n_permutations,
        batch=500,
        alternative="two-sided",
        rng=np.random.default_rng(seed + 1),
    )
    return float(res.pvalue)


def verdict(diff: float, p: float) -> str:
    if p < ALPHA and diff > 0:
        return HOLDS
    if p < ALPHA and diff < 0:
        return REVERSED
    return UNRESOLVED
