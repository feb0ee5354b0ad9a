"""Which epoch's weights a run keeps, and when it stops (``cfg`` is a ``TrainConfig``: its
``selection``, ``early_stop_on`` and ``patience``).

``"single"``: keep the best dev ``early_stop_on`` score (ties broken by ``tiebreak``), stop after
``patience`` epochs without a better one. ``"hgclr"``: HGCLR's rule (their train.py): the
patience resets when dev micro *or* macro improves, and the best-dev-macro weights are kept.
"""

from __future__ import annotations

from collections.abc import Callable


def new_state() -> dict:
    """The loop's state before its first epoch (what a checkpoint stores and resumes)."""
    return {
        "epoch": 0,
        "best_score": -1.0,
        "best_epoch": 0,
        "bad_epochs": 0,
        "history": [],
        "step": 0,
        "best": None,
    }


def keep_best(cfg, scores: dict, state: dict, epoch: int, weights: Callable[[], dict]) -> float:
    """Update ``state`` after an epoch with dev ``scores``: the kept weights (``weights()``, called
    only when this epoch is kept) and the patience count. Returns the ``early_stop_on`` score."""
    if cfg.early_stop_on not in scores:
        raise ValueError(
            f"early_stop_on={cfg.early_stop_on!r} is not a dev score; have {sorted(scores)}"
        )
    current = scores[cfg.early_stop_on]
    rank = (current, scores.get("tiebreak", 0.0))
    keep, improved = _select(cfg, scores, rank, state)
    if keep:
        state.update(best_score=keep[0], best_tiebreak=keep[1], best_epoch=epoch)
        state["best"] = weights()
    state["bad_epochs"] = 0 if improved else state["bad_epochs"] + 1
    return current


def _select(cfg, scores: dict, rank: tuple, state: dict):
    """``(keep, improved)``: the (score, tiebreak) to keep this epoch's weights under (None: keep
    the earlier best), and whether the epoch resets the patience (``TrainConfig.selection``)."""
    if cfg.selection == "single":
        better = rank > (state["best_score"], state.get("best_tiebreak", -1.0))
        return (rank if better else None), better
    missing = {"headline", "headline_macro_f1"} - set(scores)
    if missing:
        raise ValueError(f"selection='hgclr' needs the dev scores {sorted(missing)}")
    improved = False
    for name in ("headline", "headline_macro_f1"):
        if scores[name] > state.setdefault(f"best_{name}", -1.0):
            state[f"best_{name}"] = scores[name]
            improved = True
    macro = scores["headline_macro_f1"]
    better = (macro, rank[1]) > (state["best_score"], state.get("best_tiebreak", -1.0))
    return ((macro, rank[1]) if better else None), improved
