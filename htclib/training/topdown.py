"""Local SPP, trained top-down: level 1 first, then each level from the one above.

Level 1 is trained first and cached by its own config hash, so the three transfer variants
(non / copy / transform, :mod:`htclib.method.transfer`) share one trained top level instead of
training it three times. Level ``l`` then starts from level ``l-1``'s trained prefix as the
variant says and trains with early stopping on its own dev score (:func:`htclib.training.train.fit`).

With a contrastive config, every level's prefix is first pre-trained with SimCSE (the global
CL -> BCE recipe, level by level) before its BCE stage; the level keys then include that config.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from safetensors.torch import load_file, save_file
from torch import nn

from ..data.dataset import single_path
from ..data.hierarchy import Hierarchy
from ..io import (
    atomic_write_json,
    claim,
    ensure_writable_dir,
    read_json,
    release,
    verify_manifest,
    write_manifest,
)
from ..method.configs import stable_key
from ..method.keydefaults import KEY_DEFAULTS
from ..method.local import LevelModel, LocalSPP
from ..method.transfer import TransformedPrefix, copy_init
from .metrics import headline, macro_f1, micro_f1
from .train import fit, seed_everything


def level_scorer(multi_path: bool):
    """Dev score of one level: ``headline`` (the paper's micro-F1 over this level's labels,
    sigmoid > 0.5), its macro-F1 over all the level's labels, a ranking ``tiebreak``, and our
    additions: top-1 micro-F1 (one label per level) and ``auto`` choosing between them.

    Also the headline decision's counts (``headline_tp``/``fp``/``fn``): the whole model's
    micro-F1 while a lower level trains is the upper levels' counts at their kept epoch plus
    this level's, which is how :mod:`benchmarks.time_to_accuracy` times a local model."""
    from sklearn.metrics import label_ranking_average_precision_score

    def fn(probs, y):
        top1 = np.zeros_like(y)
        top1[np.arange(len(y)), probs.argmax(1)] = 1
        hl = headline(y, probs)
        thr = (probs > 0.5).astype(np.int8)
        gold = np.asarray(y).astype(bool)
        fired = thr.astype(bool)
        out = {
            "headline": hl["micro_f1"],
            "headline_macro_f1": hl["macro_f1"],
            "headline_tp": int((fired & gold).sum()),
            "headline_fp": int((fired & ~gold).sum()),
            "headline_fn": int((~fired & gold).sum()),
            "tiebreak": float(label_ranking_average_precision_score(y, probs)),
            "micro_f1": micro_f1(y, thr),
            "macro_f1": macro_f1(y, thr),
            "top1_micro_f1": micro_f1(y, top1),
        }
        out["auto"] = out["micro_f1"] if multi_path else out["top1_micro_f1"]
        return out

    return fn


class LevelBusy(RuntimeError):
    """Another process is training a level this run needs, and the caller chose not to wait
    (a grid worker rather trains another run meanwhile and comes back to this one)."""


def _hold_level(folder: Path, force: bool, what: str, wait: bool = True) -> bool:
    """Wait until this process may use level ``folder``: it is finished (reuse it; False), or
    this process holds its claim (train it; True). Two local runs of one seed share their
    upper levels, and grid workers may start them side by side. ``wait=False`` raises
    :class:`LevelBusy` instead of waiting."""
    waited = False
    while True:
        if (folder / "MANIFEST.json").exists() and not force:
            return False
        if claim(folder):
            return True
        if not wait:
            raise LevelBusy(f"{what}: another process is training this level")
        if not waited:
            print(f"{what}: another process is training this level; waiting for it", flush=True)
            waited = True
        time.sleep(20)


def level_key(run_cfg, level: int, hierarchy: Hierarchy) -> str:
    """What level ``level`` depends on: data, encoder, training, prefix lengths down to it and,
    below the top, the transfer variant. The top level's key omits the variant (shared)."""
    m = run_cfg.model
    blob = {
        "data": asdict(run_cfg.data),
        "train": asdict(run_cfg.train),
        "encoder": m.encoder,
        "prefix": asdict(m.prefix),
        "head_dropout": m.head_dropout,
        "lengths": m.level_lengths[: level + 1],
        "transfer": m.transfer if level > 0 else None,
        "labels": hierarchy.fingerprint(),
        "model": {k: getattr(m, k) for k in ("pooling", "encoder_dropout", "head_bias")},
    }
    if run_cfg.contrastive is not None:  # only then, so keys of plain local runs stay stable
        blob["contrastive"] = asdict(run_cfg.contrastive)
    defaults = level_key_defaults()
    return stable_key(blob, defaults)


def level_key_defaults() -> dict:
    """The level-key fields at their frozen defaults (left out of the key, as for run keys:
    :mod:`htclib.method.keydefaults`)."""
    k = KEY_DEFAULTS
    return {
        "data": k["data"],
        "train": k["train"],
        "prefix": k["model"]["prefix"],
        "contrastive": k["contrastive"],
        "model": {f: k["model"][f] for f in ("pooling", "encoder_dropout", "head_bias")},
    }


def fit_local(
    cfg, ds, encoder, tok, splits, ys, folder, resume=True, progress=True, force=False, wait=True
):
    """Train a :class:`LocalSPP` level by level (top level cached and shared across variants).
    ``wait=False``: raise :class:`LevelBusy` where another process trains a level it needs."""
    h = ds.hierarchy
    multi = not single_path(ds)
    model = LocalSPP(cfg.model, h, encoder)
    levels_root = ensure_writable_dir(Path(folder).parent.parent / "levels")
    upper = None
    levels = []
    for lv in range(h.depth):
        sl = h.level_slices[lv]
        lf = levels_root / level_key(cfg, lv, h)
        head, prefix = model.heads[lv], model.prefixes[lv]
        claimed = _hold_level(lf, force, f"{cfg.name} L{lv + 1}", wait)
        try:
            if (lf / "MANIFEST.json").exists() and not force:
                verify_manifest(lf)
                tensors = load_file(str(lf / "level.safetensors"))
                prefix.kv.data.copy_(tensors["kv"])
                head.load_state_dict(
                    {"linear.weight": tensors["weight"], "linear.bias": tensors["bias"]}
                )
                info = {**read_json(lf / "info.json"), "reused": True}
            else:
                # Everything this level draws at random depends on the seed and the level alone,
                # not on whether the levels above were trained here or reused from the cache.
                seed_everything(cfg.train.seed * 1000 + lv)
                head.init_bias(cfg.model.head_bias, ys["train"][:, sl])
                trainable: nn.Module = prefix
                if lv > 0 and cfg.model.transfer == "copy":
                    prefix.kv.data = copy_init(upper, prefix.kv.data)
                elif lv > 0 and cfg.model.transfer == "transform":
                    trainable = TransformedPrefix(upper, prefix.kv.data)
                level_model = LevelModel(encoder, trainable, head, cfg.model)
                cl_info = None
                if cfg.contrastive is not None:
                    # CL -> BCE per level: SimCSE trains what this level trains (its prefix after
                    # the variant's start: fresh, copied, or the transform MLP), then BCE as usual.
                    from .pretrain import pretrain_prefix

                    cl = pretrain_prefix(
                        level_model,
                        splits["train"],
                        tok.pad_token_id,
                        cfg.contrastive,
                        cfg.train,
                        progress=progress,
                        diag_ds=splits["dev"],
                    )
                    cl_info = {
                        k: cl[k]
                        for k in ("loss", "collapsed_share", "seconds", "steps", "before", "after")
                    }
                res = fit(
                    level_model,
                    list(trainable.parameters()),
                    list(head.parameters()),
                    splits["train"],
                    ys["train"][:, sl],
                    splits["dev"],
                    ys["dev"][:, sl],
                    cfg.train,
                    tok.pad_token_id,
                    level_scorer(multi),
                    out_dir=lf,
                    resume=resume,
                    progress=progress,
                    desc=f"{cfg.name} L{lv + 1}",
                )
                if trainable is not prefix:
                    prefix.kv.data = trainable.materialise()
                info = {
                    "level": lv + 1,
                    "prefix_length": prefix.length,
                    "history": res.history,
                    "best_epoch": res.best_epoch,
                    "best_dev": res.best_score,
                    "seconds": res.seconds,
                    "stopped": res.stopped,
                }
                if cl_info is not None:
                    info["contrastive"] = cl_info
                save_file(
                    {
                        "kv": prefix.kv.detach().contiguous(),
                        "weight": head.linear.weight.detach().contiguous(),
                        "bias": head.linear.bias.detach().contiguous(),
                    },
                    str(lf / "level.safetensors"),
                )
                atomic_write_json(lf / "info.json", info)
                write_manifest(lf, ["level.safetensors", "info.json"])
                info = {**info, "reused": False}
        finally:
            if claimed:
                release(lf)
        upper = prefix.materialise()
        levels.append(info)
    model.eval()
    hist = [{**r, "level": i["level"]} for i in levels for r in i["history"]]
    return model, {
        "levels": [{k: v for k, v in i.items() if k != "history"} for i in levels],
        "history": hist,
        "train_seconds": sum(i["seconds"] for i in levels),
        "best_dev": levels[-1]["best_dev"],
        "train_examples_per_s": float(np.median([r["examples_per_s"] for r in hist]))
        if hist
        else 0.0,
    }
