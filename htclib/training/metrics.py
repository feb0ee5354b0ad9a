"""Decoding probabilities into label sets and scoring them (pure functions over arrays).

Arrays are ``(n_samples, n_labels)`` in the hierarchy's global label order.

**The headline** (:func:`headline`) is the paper's metric as HGCLR's ``eval.py`` computes it,
which the WoS literature shares: a label is predicted when its sigmoid is *> 0.5* (no
hierarchy constraint); micro-F1 over all label decisions; macro-F1 the mean of per-label F1
over *every* label of the label set, a label with no gold and no prediction counting 0.
Tables lead with it (:data:`HEADLINE`).

Our additions, labelled as such wherever they appear: best-path decoding (single-path data),
top-down consistent thresholding, a dev-tuned threshold, and ``macro_f1`` over labels present
in the split's gold (small test splits leave many labels absent, which the headline counts 0).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score

from ..data.hierarchy import Hierarchy

HEADLINE = (
    "headline: sigmoid > 0.5 over all labels; Mi-F1 over all label decisions, Ma-F1 averaged "
    "over every label of the label set (absent labels count 0), as HGCLR's eval.py"
)
MACRO_CONVENTION = "macro-F1 over labels present in the split's gold (our addition)"


def decode_threshold(probs: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Every label with probability > threshold (no hierarchy constraint; strict, as eval.py)."""
    return (np.asarray(probs) > threshold).astype(np.int8)


def decode_topdown(probs: np.ndarray, hierarchy: Hierarchy, threshold: float = 0.5) -> np.ndarray:
    """Hierarchy-consistent thresholding: a label is kept only when its parent is kept.

    Level 1 keeps labels > threshold; each lower level keeps labels above the threshold with
    at least one kept parent. Never outputs a label without a parent.
    """
    probs = np.asarray(probs)
    out = np.zeros(probs.shape, dtype=np.int8)
    for sl in hierarchy.level_slices:
        on = probs[:, sl] > threshold
        out[:, sl] = on & hierarchy.parent_on(out)[:, sl]
    return out


def decode_best_path(probs: np.ndarray, hierarchy: Hierarchy) -> np.ndarray:
    """For single-path data: the one root-to-leaf path with the highest sum of log-probabilities
    (ancestors included). Always predicts exactly one path."""
    probs = np.clip(np.asarray(probs, dtype=np.float64), 1e-7, 1.0)
    logp = np.log(probs)
    paths = hierarchy.leaf_paths  # a leaf with two parents gives two candidate paths
    scores = np.stack([logp[:, p].sum(1) for p in paths], axis=1)  # (n, n_leaves)
    best = scores.argmax(1)
    out = np.zeros(probs.shape, dtype=np.int8)
    for row, b in enumerate(best):
        out[row, paths[b]] = 1
    return out


def decode(
    probs: np.ndarray, hierarchy: Hierarchy, how: str = "threshold", threshold: float = 0.5
) -> np.ndarray:
    """``how``: ``"headline"`` (sigmoid > 0.5, the paper's), ``"threshold"``, ``"topdown"``
    (consistent) or ``"best_path"``."""
    if how == "headline":
        return decode_threshold(probs, 0.5)
    if how == "threshold":
        return decode_threshold(probs, threshold)
    if how == "topdown":
        return decode_topdown(probs, hierarchy, threshold)
    if how == "best_path":
        return decode_best_path(probs, hierarchy)
    raise ValueError(
        f"decoding must be 'headline', 'threshold', 'topdown' or 'best_path', got {how!r}"
    )


def tune_threshold(probs: np.ndarray, y: np.ndarray, grid: np.ndarray | None = None) -> float:
    """The global threshold in ``grid`` with the best micro-F1 on (dev) data."""
    grid = np.arange(0.05, 0.96, 0.05) if grid is None else grid
    scores = [micro_f1(y, decode_threshold(probs, t)) for t in grid]
    return float(grid[int(np.argmax(scores))])


def micro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(f1_score(y_true, y_pred, average="micro", zero_division=0))


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, labels: str = "present") -> float:
    """``labels="present"``: labels with a gold positive; ``"all"``: every column."""
    y_true = np.asarray(y_true)
    cols = np.flatnonzero(y_true.sum(0) > 0) if labels == "present" else np.arange(y_true.shape[1])
    if len(cols) == 0:
        return 0.0
    return float(
        f1_score(y_true[:, cols], np.asarray(y_pred)[:, cols], average="macro", zero_division=0)
    )


def add_ancestors(y: np.ndarray, hierarchy: Hierarchy) -> np.ndarray:
    """Close a label set upwards: every ancestor of a predicted label becomes predicted."""
    y = np.asarray(y).astype(bool).copy()
    for lv in range(hierarchy.depth - 1, 0, -1):  # bottom-up, so grandparents see parents
        for par, child in hierarchy.edges:
            if hierarchy.level_of[child] == lv:
                y[:, par] |= y[:, child]
    return y.astype(np.int8)


def hierarchical_prf(
    y_true: np.ndarray, y_pred: np.ndarray, hierarchy: Hierarchy
) -> tuple[float, float, float]:
    """Kiritchenko et al.'s hP/hR/hF over ancestor-augmented sets (micro over samples)."""
    t = add_ancestors(y_true, hierarchy).astype(bool)
    p = add_ancestors(y_pred, hierarchy).astype(bool)
    inter = (t & p).sum()
    hp = inter / max(p.sum(), 1)
    hr = inter / max(t.sum(), 1)
    hf = 2 * hp * hr / (hp + hr) if hp + hr else 0.0
    return float(hp), float(hr), float(hf)


def score(y_true: np.ndarray, y_pred: np.ndarray, hierarchy: Hierarchy) -> dict[str, float]:
    """All metrics of one prediction: micro/macro-F1 over all labels, per level, hierarchical."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.shape[1] != hierarchy.n_labels:
        raise ValueError(
            f"expected y_true and y_pred of shape (n, {hierarchy.n_labels}), "
            f"got {y_true.shape} and {y_pred.shape}"
        )
    out = {
        "micro_f1": micro_f1(y_true, y_pred),
        "macro_f1": macro_f1(y_true, y_pred, "present"),
        "macro_f1_all": macro_f1(y_true, y_pred, "all"),
    }
    for lv, sl in enumerate(hierarchy.level_slices, start=1):
        out[f"L{lv}_micro_f1"] = micro_f1(y_true[:, sl], y_pred[:, sl])
        out[f"L{lv}_macro_f1"] = macro_f1(y_true[:, sl], y_pred[:, sl], "present")
    out["h_precision"], out["h_recall"], out["h_f1"] = hierarchical_prf(y_true, y_pred, hierarchy)
    out["consistent_share"] = float(hierarchy.is_consistent(y_pred).mean()) if len(y_pred) else 1.0
    return out


def per_label_f1(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """F1 of every label column ``(n_labels,)`` (NaN where the label never occurs in gold)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    f1 = f1_score(y_true, y_pred, average=None, zero_division=0)
    return np.where(y_true.sum(0) > 0, f1, np.nan)


def majority_baseline(
    y_train: np.ndarray, y_eval: np.ndarray, hierarchy: Hierarchy
) -> dict[str, float]:
    """Scores of predicting the most frequent training path for every text."""
    y_train = np.asarray(y_train) > 0.5
    best = max(hierarchy.leaf_paths, key=lambda p: int(y_train[:, p].all(1).sum()))
    pred = np.zeros_like(y_eval, dtype=np.int8)
    pred[:, best] = 1
    return score(y_eval, pred, hierarchy)


def headline(y_true: np.ndarray, probs: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """The paper's metric (:data:`HEADLINE`): ``{"micro_f1", "macro_f1"}`` from probabilities."""
    return headline_of_labels(y_true, decode_threshold(probs, threshold))


def headline_of_labels(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """The headline's F1s of a 0/1 prediction (for models that output label sets, e.g. hiclass)."""
    y_true = np.asarray(y_true)
    return {"micro_f1": micro_f1(y_true, y_pred), "macro_f1": macro_f1(y_true, y_pred, "all")}


def headline_record(y_true: np.ndarray, y_pred: np.ndarray, hierarchy: Hierarchy) -> dict:
    """``headline/{micro_f1, macro_f1, L<i>_micro_f1, L<i>_macro_f1}`` of a 0/1 prediction."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    out = {f"headline/{k}": v for k, v in headline_of_labels(y_true, y_pred).items()}
    for lv, sl in enumerate(hierarchy.level_slices, start=1):
        for k, v in headline_of_labels(y_true[:, sl], y_pred[:, sl]).items():
            out[f"headline/L{lv}_{k}"] = v
    return out
