"""SimCSE pre-training of a prefix (CL -> BCE's first stage): the same text twice through the
frozen encoder with its dropout on gives two views; the prefix and a throw-away projection
learn to tell texts apart (:mod:`htclib.method.contrastive`'s loss)."""

from __future__ import annotations

import time
import warnings

import numpy as np
import torch

from ..method.contrastive import ProjectionHead, alignment_uniformity, collapsed_share, simcse_loss
from .train import collate, make_batches, seed_everything, token_rows


@torch.no_grad()
def two_views(
    model, ds, pad_id: int, n: int = 256, batch_size: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """[CLS] states of the first ``n`` texts, twice, with the encoder's dropout on (two masks)."""
    rows = token_rows(ds)[:n]
    was, was_drop = model.training, model.encoder_dropout
    model.encoder_dropout = True
    model.train()
    dev = next(model.parameters()).device
    outs = ([], [])
    for i in range(0, len(rows), batch_size):
        ids, mask = collate(rows, np.arange(i, min(i + batch_size, len(rows))), pad_id)
        for view in outs:
            view.append(model.cls_states(ids.to(dev), mask.to(dev)).float().cpu().numpy())
    model.encoder_dropout = was_drop
    model.train(was)
    return np.concatenate(outs[0]), np.concatenate(outs[1])


def pretrain_prefix(
    model,
    train_ds,
    pad_id: int,
    ccfg,
    tcfg,
    out_dir=None,
    progress: bool = True,
    diag_ds=None,
    diag_labels=None,
) -> dict:
    """Train ``model.prefix`` (and a throw-away projection g) with the contrastive loss.

    The encoder stays frozen but its dropout is on, so one text passed twice gives two views.
    Returns the loss per step, seconds, and alignment/uniformity (and a 2-D PCA of [CLS]
    states with the top-level labels when ``diag_labels`` is given) before and after.
    """
    from tqdm import tqdm  # text bars: no widget state to go stale in a saved notebook

    seed_everything(tcfg.seed)
    dev = next(model.parameters()).device
    g = ProjectionHead(model.encoder.config.hidden_size, ccfg.projection_dim).to(dev)
    opt = torch.optim.AdamW(list(model.prefix.parameters()) + list(g.parameters()), lr=ccfg.lr)
    diag_ds = diag_ds if diag_ds is not None else train_ds
    before = alignment_uniformity(*two_views(model, diag_ds, pad_id))
    pca_before = _cls_eval(model, diag_ds, pad_id)
    rows = token_rows(train_ds)
    lengths = np.asarray(train_ds["length"])
    losses, sizes, t0, step = [], [], time.perf_counter(), 0
    recipe_dropout = model.encoder_dropout  # what the BCE stage uses afterwards
    model.encoder_dropout = True
    model.train()
    for epoch in range(1, ccfg.epochs + 1):
        batches = [
            b
            for b in make_batches(lengths, ccfg.batch_size, seed=tcfg.seed * 7919 + epoch)
            if len(b) > 1
        ]
        for idx in tqdm(batches, desc=f"CL epoch {epoch}", disable=not progress, leave=False):
            ids, mask = collate(rows, idx, pad_id)
            ids, mask = ids.to(dev), mask.to(dev)
            z1, z2 = g(model.cls_states(ids, mask)), g(model.cls_states(ids, mask))
            loss = simcse_loss(z1, z2, ccfg.temperature, ccfg.denominator)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.prefix.parameters(), tcfg.clip_norm or 1e9)
            opt.step()
            losses.append(loss.item())
            sizes.append(len(idx))
            step += 1
            if ccfg.max_steps is not None and step >= ccfg.max_steps:
                break
        if ccfg.max_steps is not None and step >= ccfg.max_steps:
            break
    model.encoder_dropout = recipe_dropout
    model.eval()
    after = alignment_uniformity(*two_views(model, diag_ds, pad_id))
    share = collapsed_share(losses, sizes, ccfg.denominator)
    if share > 0.25 and len(losses) >= 10:  # a handful of steps says nothing
        # Seen on the shared data at lr 1e-2: the loss jumps to log(batch) after a few steps
        # and stays there (all [CLS] states alike); the BCE stage then starts far behind.
        warnings.warn(
            f"contrastive pre-training: the loss sat at the collapse value log(batch size) in "
            f"{share:.0%} of {len(losses)} steps (the [CLS] states stopped telling texts "
            f"apart); a lower ContrastiveConfig.lr (now {ccfg.lr:g}) may avoid it",
            stacklevel=2,
        )
    out = {
        "loss": losses,
        "batch_sizes": sizes,
        "collapsed_share": share,
        "seconds": time.perf_counter() - t0,
        "steps": step,
        "before": before,
        "after": after,
    }
    if diag_labels is not None:
        pca_after = _cls_eval(model, diag_ds, pad_id)
        both = _pca2(np.concatenate([pca_before, pca_after]))
        out.update(
            pca_before=both[: len(pca_before)].tolist(),
            pca_after=both[len(pca_before) :].tolist(),
            pca_labels=list(diag_labels[: len(pca_before)]),
        )
    return out


def _cls_eval(model, ds, pad_id, n: int = 300) -> np.ndarray:
    rows = token_rows(ds)[:n]
    dev = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        ids, mask = collate(rows, np.arange(len(rows)), pad_id)
        return model.cls_states(ids.to(dev), mask.to(dev)).float().cpu().numpy()


def _pca2(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    return x @ vt[:2].T


def diagnostics(records: list[dict]) -> dict[str, dict]:
    """Each finished CL run's pre-training record by display name: a global run's
    ``contrastive_history``, and one entry per level (``"<name> L2"``) for a local run."""
    out = {}
    for r in records:
        if "contrastive_history" in r:
            out[r["name"]] = r["contrastive_history"]
        for lv in r.get("levels", []):
            if "contrastive" in lv:
                out[f"{r['name']} L{lv['level']}"] = lv["contrastive"]
    return out
