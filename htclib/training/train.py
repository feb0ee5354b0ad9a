"""Training loop on Hugging Face ``accelerate``: BCE, AdamW, early stopping, resumable checkpoints.

One loop trains every model (CLS-tuning, global SPP, each level of a local SPP): a model maps
``(input_ids, attention_mask) -> logits`` and its targets are a multi-hot array. Under
``accelerate launch`` the same code runs data-parallel; batches are sharded by process.

Resumability: after every epoch a checkpoint (:mod:`htclib.training.checkpoint`) is written.
Each epoch's order is drawn from ``seed + epoch`` alone, so a run resumed from the last
complete epoch continues exactly as an uninterrupted one. Which epoch is kept and when the
run stops: :mod:`htclib.training.selection`.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..io import atomic_write_json
from .checkpoint import load_checkpoint, save_checkpoint, trainable_state
from .precision import MODES, autocast_dtype, native_bf16, resolve, to_device
from .selection import keep_best, new_state

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
    bf16, mixed_precision: the arithmetic (:mod:`htclib.training.precision`): ``"auto"`` is bf16
        where native, fp16 with a gradient scaler on other CUDA GPUs, fp32 elsewhere; None
        (default) keeps the older ``bf16`` switch.
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
    mixed_precision: str | None = None
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
        if self.mixed_precision is not None and self.mixed_precision not in MODES:
            raise ValueError(
                f"mixed_precision must be one of {MODES} or None, got {self.mixed_precision!r}"
            )
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


class PackedRows:
    """A split's token ids in one padded array (``int32``, ``(n, longest)``) and their lengths:
    a batch is then one fancy index instead of a Python loop over rows (2.3 ms -> 0.05 ms for
    48 x 256 tokens, ``benchmarks/results/gpu_path.md``: the loop was about a fifth of an H100
    prefix step as estimated from its FLOPs).
    Indexing a row gives its ids as a list, a slice gives a PackedRows."""

    def __init__(self, rows):
        rows = rows if isinstance(rows, list) else list(rows)  # a datasets Column reads once
        self.lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        width = int(self.lengths.max()) if len(rows) else 0
        self.ids = np.zeros((len(rows), width), dtype=np.int32)
        for i, r in enumerate(rows):
            self.ids[i, : len(r)] = r

    @classmethod
    def _of(cls, ids: np.ndarray, lengths: np.ndarray) -> PackedRows:
        out = cls.__new__(cls)
        out.ids, out.lengths = ids, lengths
        return out

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return PackedRows._of(self.ids[i], self.lengths[i])
        return self.ids[i, : self.lengths[i]].tolist()


def token_rows(ds) -> PackedRows:
    """Token ids of a tokenised dataset, packed (read once, not per batch)."""
    return PackedRows(ds["input_ids"])


def collate(
    rows_all: PackedRows | list[list[int]], idx: np.ndarray, pad_id: int, pad_to: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Dynamic padding to the longest row of the batch (or to ``pad_to``): ``(ids, mask)``,
    both ``long``."""
    if isinstance(rows_all, PackedRows):
        idx = np.asarray(idx, dtype=np.int64)
        lengths = rows_all.lengths[idx]
        width = pad_to or int(lengths.max())
        if int(lengths.max()) > width:
            raise ValueError(f"a row of {int(lengths.max())} tokens does not fit pad_to={width}")
        keep = min(width, rows_all.ids.shape[1])
        mask = np.zeros((len(idx), width), dtype=np.int64)
        mask[:, :keep] = np.arange(keep) < lengths[:, None]
        ids = np.full((len(idx), width), pad_id, dtype=np.int64)
        ids[:, :keep] = np.where(mask[:, :keep] == 1, rows_all.ids[idx, :keep], pad_id)
        return torch.from_numpy(ids), torch.from_numpy(mask)
    rows = [rows_all[i] for i in idx]
    width = pad_to or max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.as_tensor(r)
        mask[i, : len(r)] = 1
    return ids, mask


# ---- accelerate ------------------------------------------------------------------------------
def precision_of(cfg: TrainConfig, device_type: str) -> str:
    """The run's resolved arithmetic on ``device_type``: "no", "bf16" or "fp16"."""
    return resolve(cfg.mixed_precision, cfg.bf16, device_type)


def warn_slow_bf16(cfg: TrainConfig, device_type: str) -> None:
    if precision_of(cfg, device_type) == "bf16" and not native_bf16(device_type):
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
    # fp16 gets accelerate's gradient scaler (acc.backward scales, the optimiser step unscales)
    return Accelerator(
        mixed_precision=precision_of(cfg, "cpu" if cpu else "cuda"),
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
    bf16: bool | str = False,
    progress: bool = False,
) -> np.ndarray:
    """Logits ``(n, n_out)`` for a tokenised dataset, rows in dataset order. ``bf16``: True
    (bf16 autocast) or a resolved mode ("no", "bf16", "fp16": :func:`precision_of`)."""
    from tqdm import tqdm  # text bars: no widget state to go stale in a saved notebook

    was = model.training
    model.eval()
    device = device or next(model.parameters()).device
    dtype = autocast_dtype("bf16" if bf16 is True else (bf16 or "no"))
    lengths = np.asarray(ds["length"])
    rows = token_rows(ds)
    out = [None] * len(lengths)
    batches = make_batches(lengths, batch_size, seed=None)
    for idx in tqdm(batches, desc="predict", disable=not progress, leave=False):
        ids, mask = collate(rows, idx, pad_id)
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            logits = model(to_device(ids, device), to_device(mask, device))
        logits = logits.float().cpu().numpy()
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
    continues from the last complete checkpoint there (:mod:`htclib.training.checkpoint`).
    Which epoch's weights are kept and when to stop: :mod:`htclib.training.selection`.
    """
    if len(y_train) != len(train_ds) or len(y_dev) != len(dev_ds):
        raise ValueError(
            f"labels and texts differ in length: train {len(y_train)} vs {len(train_ds)}, "
            f"dev {len(y_dev)} vs {len(dev_ds)}"
        )
    seed_everything(cfg.seed)
    acc = make_accelerator(cfg)
    warn_slow_bf16(cfg, acc.device.type)
    data = _TrainData(train_ds, y_train, cfg.epoch_repeats)
    optimizer, scheduler, trainable = _optimiser(cfg, body_params, head_params, len(data), acc)
    # The scheduler stays unprepared and steps once per optimiser step: accelerate's wrapper
    # would step it once per process, so a 2-process run would not follow the schedule of the
    # one-process run with the same global batch.
    model, optimizer = acc.prepare(model, optimizer)
    state = new_state()
    ckpt = Path(out_dir) / "checkpoint" if out_dir else None
    if resume and ckpt is not None and (ckpt / "MANIFEST.json").exists():
        state = load_checkpoint(ckpt, acc.unwrap_model(model), trainable, optimizer, scheduler)
        acc.print(f"{desc}: resumed after epoch {state['epoch']} from {ckpt}")

    start = time.perf_counter() - sum(h["seconds"] for h in state["history"])
    stopped = "max_epochs"
    while state["epoch"] < cfg.max_epochs:
        epoch, t0 = state["epoch"] + 1, time.perf_counter()
        seen, loss_sum, at_max_steps = _train_epoch(
            model,
            optimizer,
            scheduler,
            trainable,
            acc,
            data,
            cfg,
            pad_id,
            epoch,
            state,
            desc=f"{desc} epoch {epoch}",
            progress=progress,
        )
        train_seconds = time.perf_counter() - t0
        probs = sigmoid(
            predict_logits(
                model, dev_ds, pad_id, cfg.eval_batch_size, acc.device, acc.mixed_precision
            )
        )
        scores = dev_score(probs, y_dev)
        current = keep_best(
            cfg, scores, state, epoch, lambda: _trainable_copy(acc, model, trainable)
        )
        row = {
            "epoch": epoch,
            "train_loss": loss_sum / max(seen, 1),
            **{f"dev_{k}": v for k, v in scores.items()},
            "examples_per_s": seen / max(train_seconds, 1e-9),
            "seconds": time.perf_counter() - t0,
            "lr": scheduler.get_last_lr()[0],
        }
        state["history"].append(row)
        state["epoch"] = epoch
        if progress and acc.is_main_process:
            from tqdm import tqdm

            tqdm.write(
                f"{desc} epoch {epoch}: loss {row['train_loss']:.4f}  dev {cfg.early_stop_on} "
                f"{100 * current:.2f}%  ({row['examples_per_s']:.1f} ex/s)"
            )
        if ckpt is not None and acc.is_main_process:
            save_checkpoint(ckpt, acc.unwrap_model(model), trainable, optimizer, scheduler, state)
            atomic_write_json(Path(out_dir) / "history.json", state["history"])
        if at_max_steps:
            stopped = "max_steps"
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


class _TrainData:
    """The training split as the loop reads it: token rows, lengths (for the batches) and
    multi-hot targets; an epoch passes over it ``repeats`` times."""

    def __init__(self, ds, y: np.ndarray, repeats: int):
        self.rows = token_rows(ds)
        self.lengths = np.asarray(ds["length"])
        self.y = torch.as_tensor(np.asarray(y), dtype=torch.float32)
        self.repeats = repeats

    def __len__(self) -> int:  # texts an epoch passes over
        return len(self.lengths) * self.repeats

    def batches(self, size: int, seed: int, bucketing: bool) -> list[np.ndarray]:
        out = make_batches(
            np.tile(self.lengths, self.repeats), size, seed=seed, bucketing=bucketing
        )
        if self.repeats > 1:  # positions in the repeated split -> rows of the split
            out = [b % len(self.lengths) for b in out]
        return out


def _optimiser(cfg: TrainConfig, body_params, head_params, n_epoch: int, acc):
    """AdamW over the body and head groups (the head at its own lr where set) and the lr
    schedule over the run's optimiser steps; also the trainable parameters in group order."""
    from transformers import get_constant_schedule_with_warmup, get_linear_schedule_with_warmup

    groups = [
        g
        for g in (
            {"params": body_params, "lr": cfg.lr},
            {"params": head_params, "lr": cfg.head_lr or cfg.lr},
        )
        if g["params"]
    ]
    optimizer = torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)
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
    return optimizer, scheduler, [p for g in groups for p in g["params"]]


def _train_epoch(
    model,
    optimizer,
    scheduler,
    trainable,
    acc,
    data: _TrainData,
    cfg: TrainConfig,
    pad_id: int,
    epoch: int,
    state: dict,
    desc: str,
    progress: bool,
) -> tuple[int, float, bool]:
    """One pass of BCE steps: ``(texts seen, summed loss, whether max_steps was reached)``.
    Each epoch's order is drawn from ``seed * 1000 + epoch`` alone (resumable mid-run)."""
    from tqdm import tqdm  # text bars: no widget state to go stale in a saved notebook

    model.train()
    batches = data.batches(
        cfg.batch_size * acc.num_processes, cfg.seed * 1000 + epoch, cfg.bucketing
    )
    batches = shard_batches(batches, acc.process_index, acc.num_processes)
    loss_fn = nn.BCEWithLogitsLoss()
    seen, loss_sum = 0, 0.0
    bar = tqdm(batches, desc=desc, disable=not (progress and acc.is_main_process), leave=False)
    for idx in bar:
        ids, mask = collate(data.rows, idx, pad_id, cfg.max_length if cfg.pad_to_max else None)
        target = data.y[torch.as_tensor(idx)]
        with acc.accumulate(model):
            logits = model(to_device(ids, acc.device), to_device(mask, acc.device))
            loss = loss_fn(logits.float(), to_device(target, acc.device))
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
            return seen, loss_sum, True
    return seen, loss_sum, False


def _trainable_copy(acc, model, trainable) -> dict[str, torch.Tensor]:
    return {
        k: v.detach().cpu().clone()
        for k, v in trainable_state(acc.unwrap_model(model), trainable).items()
    }
