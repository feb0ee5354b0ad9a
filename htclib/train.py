"""Training loop on Hugging Face ``accelerate``: BCE, AdamW, early stopping, resumable checkpoints.

One loop trains every model (CLS-tuning, global SPP, each level of a local SPP): a model maps
``(input_ids, attention_mask) -> logits`` and its targets are a multi-hot array. Under
``accelerate launch`` the same code runs data-parallel; batches are sharded by process.

Resumability: after every epoch a checkpoint (trainable tensors, optimiser, scheduler, RNG
states, early-stopping state, history) is written atomically with a size/hash manifest.
Each epoch's order is drawn from ``seed + epoch`` alone, so a run resumed from the last
complete epoch continues exactly as an uninterrupted one.
"""

from __future__ import annotations

import copy
import os
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .io import atomic_write_bytes, atomic_write_json, verify_manifest, write_manifest

SELECTIONS = ("single", "hgclr")


@dataclass
class TrainConfig:
    """One training run. Learning rates: ``lr`` for the body (prefix, or the whole encoder for
    CLS-tuning; the paper uses 1e-2 and 2e-5), ``head_lr`` for the classifier head (None: the
    same as ``lr``, as P-tuning v2 trains).

    early_stop_on: dev score used for early stopping and best-state restore: ``"headline"``
        (default: the paper's micro-F1, sigmoid > 0.5 over all labels; ties, e.g. epochs before
        any label fires, broken by the scorer's ``tiebreak``), or our additions
        ``"best_path_micro_f1"`` (single-path data) and ``"auto"`` (best path on single-path
        data, threshold otherwise).
    selection: how a run picks its checkpoint and when it stops. ``"single"``: one dev score
        (``early_stop_on``) decides both. ``"hgclr"``: the rule of HGCLR's ``train.py`` and
        ``test.py`` (Wang et al. 2022, the protocol HPT and the prefix papers report under):
        patience counts epochs in which neither dev headline micro- nor macro-F1 improved on
        its own best, and the kept checkpoint is the best dev macro-F1's. Tables label its
        rows ``+hgclr``.
    max_steps: stop after this many optimiser steps (tests, widgets); None = no limit.
    epoch_repeats: passes over the training split per epoch, drawn as one shuffle of the split
        repeated that many times (every text ``epoch_repeats`` times an epoch; the passes
        interleave, and a batch may hold a text twice). The training-size
        curve sets round(1 / fraction), so that a run on 10% of the texts has the whole split's
        steps per epoch: the same step budget (``max_epochs``), early-stopping patience and dev
        scoring cadence as a run on all of them, instead of a tenth of the steps.
    """

    lr: float = 1e-2
    head_lr: float | None = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 16
    eval_batch_size: int = 64
    max_epochs: int = 40
    patience: int = 5
    max_length: int = 128
    schedule: str = "linear"
    warmup_ratio: float = 0.0
    clip_norm: float = 1.0
    grad_accum: int = 1
    bf16: bool = False
    bucketing: bool = False
    pad_to_max: bool = False
    seed: int = 0
    threshold: float = 0.5
    early_stop_on: str = "headline"
    selection: str = "single"
    max_steps: int | None = None
    epoch_repeats: int = 1
    device: str | None = None

    def __post_init__(self):
        for name in ("lr", "head_lr"):
            v = getattr(self, name)
            if (v is not None or name == "lr") and not (isinstance(v, (int, float)) and v > 0):
                raise ValueError(
                    f"{name} must be > 0{' or None (= lr)' if name == 'head_lr' else ''}, got {v!r}"
                )
        for name in (
            "batch_size",
            "eval_batch_size",
            "max_epochs",
            "grad_accum",
            "max_length",
            "epoch_repeats",
        ):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if self.selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {SELECTIONS}, got {self.selection!r}")
        if self.schedule not in ("linear", "constant"):
            raise ValueError(f"schedule must be 'linear' or 'constant', got {self.schedule!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def seed_everything(seed: int) -> None:
    """One seed for Python, NumPy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


# ---- batching --------------------------------------------------------------------------------
def make_batches(
    lengths: np.ndarray, batch_size: int, seed: int | None, bucketing: bool = False
) -> list[np.ndarray]:
    """Index batches. ``seed=None``: in order of length (inference, least padding); otherwise a
    seeded shuffle, optionally bucketed (sorted by length within chunks of 50 batches, then
    the batches shuffled) to cut padding while keeping batches random."""
    n = len(lengths)
    if seed is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, n, batch_size)]
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    if bucketing:
        chunk = batch_size * 50
        order = np.concatenate(
            [
                c[np.argsort(lengths[c], kind="stable")]
                for c in np.array_split(order, max(1, -(-n // chunk)))
            ]
        )
        batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
        return [batches[i] for i in rng.permutation(len(batches))]
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def shard_batches(batches: list[np.ndarray], rank: int, world: int) -> list[np.ndarray]:
    """Each process's part of every global batch (``batch_size`` rows each): the gradients that
    data-parallel training averages are then those of the one-process run with a global batch
    of ``world * batch_size`` rows. A last batch with fewer rows than processes is dropped on
    every process (they must all take the same number of steps)."""
    if world == 1:
        return batches
    return [np.array_split(b, world)[rank] for b in batches if len(b) >= world]


def token_rows(ds) -> list[list[int]]:
    """Token ids of a tokenised dataset as plain lists (read once, not per batch)."""
    return [list(r) for r in ds["input_ids"]]


def collate(
    rows_all: list[list[int]], idx: np.ndarray, pad_id: int, pad_to: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Dynamic padding to the longest row of the batch (or to ``pad_to``)."""
    rows = [rows_all[i] for i in idx]
    width = pad_to or max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.as_tensor(r)
        mask[i, : len(r)] = 1
    return ids, mask


# ---- accelerate ------------------------------------------------------------------------------
def native_bf16(device_type: str) -> bool:
    """Whether bf16 runs natively here: CUDA, or a CPU with AVX-512 BF16 or AMX. Elsewhere
    torch emulates it (measured 18x slower per training step on an AVX2-only CPU)."""
    if device_type == "cuda":
        return True
    cpu = torch.cpu
    return bool(
        getattr(cpu, "_is_avx512_bf16_supported", lambda: False)()
        or getattr(cpu, "_is_amx_tile_supported", lambda: False)()
    )


def warn_slow_bf16(cfg: TrainConfig, device_type: str) -> None:
    if cfg.bf16 and not native_bf16(device_type):
        import warnings

        warnings.warn(
            "bf16=True on a CPU without native bf16 (no AVX-512 BF16 / AMX): torch emulates it, "
            "about 18x slower per step here. Set bf16=False (the numbers differ slightly).",
            RuntimeWarning,
            stacklevel=3,
        )


def make_accelerator(cfg: TrainConfig):
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState

    # Notebooks train several models with different precisions in one process; accelerate keeps
    # a global state that refuses a change. Reset it unless a launcher set up distributed training.
    if int(os.environ.get("WORLD_SIZE", "1")) == 1:
        AcceleratorState._reset_state(True)
    cpu = cfg.device == "cpu" or (cfg.device is None and not torch.cuda.is_available())
    return Accelerator(
        mixed_precision="bf16" if cfg.bf16 else "no",
        cpu=cpu,
        gradient_accumulation_steps=cfg.grad_accum,
    )


@torch.no_grad()
def predict_logits(
    model: nn.Module,
    ds,
    pad_id: int,
    batch_size: int = 64,
    device=None,
    bf16: bool = False,
    progress: bool = False,
) -> np.ndarray:
    """Logits ``(n, n_out)`` for a tokenised dataset, rows in dataset order."""
    from tqdm import tqdm  # text bars: no widget state to go stale in a saved notebook

    was = model.training
    model.eval()
    device = device or next(model.parameters()).device
    lengths = np.asarray(ds["length"])
    rows = token_rows(ds)
    out = [None] * len(lengths)
    batches = make_batches(lengths, batch_size, seed=None)
    for idx in tqdm(batches, desc="predict", disable=not progress, leave=False):
        ids, mask = collate(rows, idx, pad_id)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            logits = model(ids.to(device), mask.to(device)).float().cpu().numpy()
        for row, i in enumerate(idx):
            out[i] = logits[row]
    model.train(was)
    return np.stack(out) if out else np.zeros((0, 0), dtype=np.float32)


@torch.no_grad()
def head_states(
    model: nn.Module, ds, pad_id: int, batch_size: int = 64, device=None, bf16: bool = False
) -> torch.Tensor:
    """The states ``(n, hidden)`` the model's ``head`` reads for each text (rows in dataset
    order), in eval mode: what a probe of the head (:meth:`ClassifierHead.fit_probe`) fits to.
    Read with a forward hook, so any model with a ``head`` module works unchanged."""
    if not isinstance(getattr(model, "head", None), nn.Module):
        raise ValueError(f"{type(model).__name__} has no `head` module to read states for")
    seen: list[torch.Tensor] = []
    hook = model.head.register_forward_hook(lambda _m, args, _out: seen.append(args[0].float()))
    try:
        predict_logits(model, ds, pad_id, batch_size, device, bf16)
    finally:
        hook.remove()
    # predict_logits batches by length: put the rows back in dataset order
    order = np.concatenate(make_batches(np.asarray(ds["length"]), batch_size, seed=None))
    states = torch.cat(seen).cpu()
    out = torch.empty_like(states)
    out[torch.as_tensor(order)] = states
    return out


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# ---- the loop --------------------------------------------------------------------------------
@dataclass
class FitResult:
    history: list[dict]
    best_epoch: int
    best_score: float
    seconds: float
    stopped: str


def fit(
    model: nn.Module,
    body_params: list[nn.Parameter],
    head_params: list[nn.Parameter],
    train_ds,
    y_train: np.ndarray,
    dev_ds,
    y_dev: np.ndarray,
    cfg: TrainConfig,
    pad_id: int,
    dev_score: Callable[[np.ndarray, np.ndarray], dict[str, float]],
    out_dir: str | os.PathLike | None = None,
    resume: bool = False,
    progress: bool = True,
    desc: str = "train",
) -> FitResult:
    """Train ``model`` with BCE until early stopping; restore the best dev state.

    dev_score(probs, y_dev) returns a dict holding ``cfg.early_stop_on``. With ``out_dir``, a
    checkpoint is written every epoch and ``history.json`` kept current; ``resume=True``
    continues from the last complete checkpoint there.
    """
    from tqdm import tqdm  # text bars: no widget state to go stale in a saved notebook
    from transformers import get_constant_schedule_with_warmup, get_linear_schedule_with_warmup

    if len(y_train) != len(train_ds) or len(y_dev) != len(dev_ds):
        raise ValueError(
            f"labels and texts differ in length: train {len(y_train)} vs {len(train_ds)}, "
            f"dev {len(y_dev)} vs {len(dev_ds)}"
        )
    seed_everything(cfg.seed)
    acc = make_accelerator(cfg)
    warn_slow_bf16(cfg, acc.device.type)
    groups = [
        g
        for g in (
            {"params": body_params, "lr": cfg.lr},
            {"params": head_params, "lr": cfg.head_lr or cfg.lr},
        )
        if g["params"]
    ]
    optimizer = torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)
    lengths = np.asarray(train_ds["length"])
    rows = token_rows(train_ds)
    n_epoch = len(lengths) * cfg.epoch_repeats  # texts an epoch passes over
    steps_per_epoch = -(-n_epoch // (cfg.batch_size * acc.num_processes * cfg.grad_accum))
    total = (
        steps_per_epoch * cfg.max_epochs
        if cfg.max_steps is None
        else min(cfg.max_steps, steps_per_epoch * cfg.max_epochs)
    )
    warm = int(cfg.warmup_ratio * total)
    scheduler = (
        get_linear_schedule_with_warmup(optimizer, warm, total)
        if cfg.schedule == "linear"
        else get_constant_schedule_with_warmup(optimizer, warm)
    )
    # The scheduler stays unprepared and steps once per optimiser step: accelerate's wrapper
    # would step it once per process, so a 2-process run would not follow the schedule of the
    # one-process run with the same global batch.
    model, optimizer = acc.prepare(model, optimizer)
    trainable = [p for g in groups for p in g["params"]]
    loss_fn = nn.BCEWithLogitsLoss()
    y_train_t = torch.as_tensor(np.asarray(y_train), dtype=torch.float32)

    state = {
        "epoch": 0,
        "best_score": -1.0,
        "best_epoch": 0,
        "bad_epochs": 0,
        "history": [],
        "step": 0,
        "best": None,
    }
    ckpt = Path(out_dir) / "checkpoint" if out_dir else None
    if resume and ckpt is not None and (ckpt / "MANIFEST.json").exists():
        state = _load_checkpoint(ckpt, acc.unwrap_model(model), trainable, optimizer, scheduler)
        acc.print(f"{desc}: resumed after epoch {state['epoch']} from {ckpt}")

    start = time.perf_counter() - sum(h["seconds"] for h in state["history"])
    stopped = "max_epochs"
    epoch = state["epoch"]
    while epoch < cfg.max_epochs:
        epoch += 1
        model.train()
        batches = make_batches(
            np.tile(lengths, cfg.epoch_repeats),
            cfg.batch_size * acc.num_processes,
            seed=cfg.seed * 1000 + epoch,
            bucketing=cfg.bucketing,
        )
        if cfg.epoch_repeats > 1:  # positions in the repeated split -> rows of the split
            batches = [b % len(lengths) for b in batches]
        batches = shard_batches(batches, acc.process_index, acc.num_processes)
        t0, seen, loss_sum = time.perf_counter(), 0, 0.0
        bar = tqdm(
            batches,
            desc=f"{desc} epoch {epoch}",
            disable=not (progress and acc.is_main_process),
            leave=False,
        )
        for idx in bar:
            ids, mask = collate(rows, idx, pad_id, cfg.max_length if cfg.pad_to_max else None)
            target = y_train_t[torch.as_tensor(idx)]
            with acc.accumulate(model):
                logits = model(ids.to(acc.device), mask.to(acc.device))
                loss = loss_fn(logits.float(), target.to(acc.device))
                acc.backward(loss)
                if acc.sync_gradients and cfg.clip_norm:
                    acc.clip_grad_norm_(trainable, cfg.clip_norm)
                optimizer.step()
                if acc.sync_gradients:
                    scheduler.step()
                optimizer.zero_grad(set_to_none=True)
            if acc.sync_gradients:
                state["step"] += 1
            if acc.num_processes > 1:  # the global batch's loss and rows, as one process sees them
                loss = acc.reduce(loss.detach(), reduction="mean")
            seen += len(idx) * acc.num_processes
            loss_sum += loss.item() * len(idx) * acc.num_processes
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}")
            if cfg.max_steps is not None and state["step"] >= cfg.max_steps:
                stopped = "max_steps"
                break
        train_seconds = time.perf_counter() - t0
        probs = sigmoid(
            predict_logits(model, dev_ds, pad_id, cfg.eval_batch_size, acc.device, cfg.bf16)
        )
        scores = dev_score(probs, y_dev)
        if cfg.early_stop_on not in scores:
            raise ValueError(
                f"early_stop_on={cfg.early_stop_on!r} is not a dev score; have {sorted(scores)}"
            )
        current = scores[cfg.early_stop_on]
        rank = (current, scores.get("tiebreak", 0.0))
        keep, improved = _select(cfg, scores, rank, state)
        row = {
            "epoch": epoch,
            "train_loss": loss_sum / max(seen, 1),
            **{f"dev_{k}": v for k, v in scores.items()},
            "examples_per_s": seen / max(train_seconds, 1e-9),
            "seconds": time.perf_counter() - t0,
            "lr": scheduler.get_last_lr()[0],
        }
        state["history"].append(row)
        if keep:
            state.update(best_score=keep[0], best_tiebreak=keep[1], best_epoch=epoch)
            state["best"] = {
                k: v.detach().cpu().clone()
                for k, v in _trainable_state(acc.unwrap_model(model), trainable).items()
            }
        state["bad_epochs"] = 0 if improved else state["bad_epochs"] + 1
        state["epoch"] = epoch
        if progress and acc.is_main_process:
            tqdm.write(
                f"{desc} epoch {epoch}: loss {row['train_loss']:.4f}  dev {cfg.early_stop_on} {100 * current:.2f}%  "
                f"({row['examples_per_s']:.1f} ex/s)"
            )
        if ckpt is not None and acc.is_main_process:
            _save_checkpoint(ckpt, acc.unwrap_model(model), trainable, optimizer, scheduler, state)
            atomic_write_json(Path(out_dir) / "history.json", state["history"])
        if stopped == "max_steps":
            break
        if state["bad_epochs"] >= cfg.patience:
            stopped = "early_stopping"
            break
    model = acc.unwrap_model(model, keep_fp32_wrapper=False)
    if state["best"] is not None:
        model.load_state_dict(state["best"], strict=False)
    model.eval()
    return FitResult(
        state["history"],
        state["best_epoch"],
        state["best_score"],
        time.perf_counter() - start,
        stopped,
    )


def _select(cfg: TrainConfig, scores: dict, rank: tuple, state: dict):
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


def _trainable_state(model: nn.Module, trainable: list[nn.Parameter]) -> dict[str, torch.Tensor]:
    ids = {id(p) for p in trainable}
    return {k: v for k, v in model.named_parameters() if id(v) in ids}


def _save_checkpoint(folder: Path, model, trainable, optimizer, scheduler, state) -> None:
    import io

    blob = io.BytesIO()
    torch.save(
        {
            "model": {k: v.detach().cpu() for k, v in _trainable_state(model, trainable).items()},
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng": {
                "torch": torch.get_rng_state(),
                # plain types, so that the file loads with weights_only=True
                "numpy": _plain_numpy_state(np.random.get_state()),
                "python": random.getstate(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            },
            "state": copy.copy(state),
        },
        blob,
    )
    atomic_write_bytes(folder / "state.pt", blob.getvalue())
    write_manifest(folder, ["state.pt"])


def _plain_numpy_state(st: tuple) -> tuple:
    name, keys, pos, has_gauss, cached = st
    return (name, torch.as_tensor(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached))


class CheckpointError(RuntimeError):
    """A resume checkpoint that does not fit the model it would resume (names the folder)."""


def _load_checkpoint(folder: Path, model, trainable, optimizer, scheduler) -> dict:
    """Load a resume checkpoint with ``weights_only=True`` (tensors and plain containers only:
    a checkpoint file cannot run code) and its weights checked key by key against the model's
    trainable parameters, so a checkpoint of another model or config fails with a message
    instead of resuming half-loaded."""
    verify_manifest(folder)
    try:
        # checkpoints written before 2026-12-07 hold NumPy's RNG state as an array
        with torch.serialization.safe_globals(_NUMPY_RNG_GLOBALS):
            ck = torch.load(folder / "state.pt", weights_only=True)
    except Exception as e:  # pickle's errors vary by what the file holds
        raise CheckpointError(
            f"{folder / 'state.pt'}: not a checkpoint htclib can load safely ({e}); delete the "
            "folder (or train with force) to start this run over"
        ) from None
    want = set(_trainable_state(model, trainable))
    have = set(ck["model"])
    if want != have:
        raise CheckpointError(
            f"{folder}: the checkpoint's weights do not match this model's trainable parameters "
            f"(missing {sorted(want - have)[:3]}, unexpected {sorted(have - want)[:3]}); it was "
            "written by another model or config. Delete the folder to start over."
        )
    model.load_state_dict(ck["model"], strict=False)  # the frozen weights are not in it
    optimizer.load_state_dict(ck["optimizer"])
    scheduler.load_state_dict(ck["scheduler"])
    torch.set_rng_state(ck["rng"]["torch"])
    np_state = ck["rng"]["numpy"]
    if isinstance(np_state[1], torch.Tensor):
        np_state = (np_state[0], np_state[1].numpy().astype(np.uint32), *np_state[2:])
    np.random.set_state(np_state)
    random.setstate(ck["rng"]["python"])
    if ck["rng"]["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(ck["rng"]["cuda"])
    return ck["state"]


def _numpy_rng_globals() -> list:
    import numpy.core.multiarray as ma

    return [ma._reconstruct, np.ndarray, np.dtype, type(np.dtype(np.uint32))]


_NUMPY_RNG_GLOBALS = _numpy_rng_globals()
