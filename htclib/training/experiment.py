"""One experiment from one config: load data, train, score on test, save artifact and results.

A run is fully described by its :class:`RunConfig`; its results folder is named by the
config's hash, so rerunning the same config reuses the finished run (``force=True`` retrains)
and an interrupted run resumes from its last epoch checkpoint.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from ..data.dataset import HTCDataset, load, single_path
from ..data.hierarchy import Hierarchy
from ..io import atomic_write_json, ensure_writable_dir, read_json
from ..method.configs import (
    ContrastiveConfig,
    DataConfig,
    keyed_model_dict,
    stable_key,
)
from ..method.keydefaults import KEY_DEFAULTS
from ..method.models import ModelConfig
from .metrics import (
    decode,
    decode_threshold,
    headline,
    headline_record,
    majority_baseline,
    score,
    tune_threshold,
)
from .provenance import provenance, utc_now
from .records import save_predictions
from .train import TrainConfig


@dataclass
class RunConfig:
    """Everything that defines one run (saved as ``config.json`` next to its results)."""

    name: str = "run"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    contrastive: ContrastiveConfig | None = None

    def __post_init__(self):
        if isinstance(self.data, dict):
            self.data = DataConfig(**self.data)
        if isinstance(self.model, dict):
            self.model = ModelConfig(**self.model)
        if isinstance(self.train, dict):
            self.train = TrainConfig(**self.train)
        if isinstance(self.contrastive, dict):
            self.contrastive = ContrastiveConfig(**self.contrastive)

    def to_dict(self) -> dict:
        return asdict(self)

    def key(self) -> str:
        """Hash of everything but the display name (same config -> same results folder);
        fields at the frozen defaults of :mod:`htclib.method.keydefaults` are left out."""
        d = self.to_dict()
        d.pop("name")
        d["model"] = keyed_model_dict(d["model"])
        # frozen defaults (a CL config compares with ContrastiveConfig's as first keyed)
        return stable_key(d, KEY_DEFAULTS)


_DATA_CACHE: dict[tuple, HTCDataset] = {}
_ENCODER_CACHE: dict[str, tuple] = {}


def get_data(cfg: DataConfig) -> HTCDataset:
    key = (
        cfg.name,
        cfg.path,
        cfg.text_col,
        tuple(cfg.level_cols or ()),
        cfg.n_train,
        cfg.n_dev,
        cfg.n_test,
        cfg.split_seed,
        cfg.train_fraction,
    )
    if key not in _DATA_CACHE:
        ds = load(
            cfg.name, cfg.path, seed=cfg.split_seed, text_col=cfg.text_col,
            level_cols=cfg.level_cols,
        )  # fmt: skip
        if any(n is not None for n in (cfg.n_train, cfg.n_dev, cfg.n_test)):
            ds = ds.subset(cfg.n_train, cfg.n_dev, cfg.n_test, seed=cfg.split_seed)
        if cfg.train_fraction is not None:
            if not 0 < cfg.train_fraction <= 1:
                raise ValueError(f"train_fraction must be in (0, 1], got {cfg.train_fraction}")
            # the first k of a seeded shuffle: smaller fractions are subsets of larger ones
            k = max(1, round(cfg.train_fraction * len(ds.train)))
            ds = ds.subset(k, None, None, seed=cfg.split_seed)
        _DATA_CACHE[key] = ds
    return _DATA_CACHE[key]


def get_encoder(name: str):
    """A fresh encoder copy each call (training changes CLS-tuning's weights); the tokenizer and
    the loaded weights are cached so repeated runs skip the disk."""
    import copy

    from ..method.encoders import load_encoder

    if name not in _ENCODER_CACHE:
        _ENCODER_CACHE[name] = load_encoder(name)
    tok, enc = _ENCODER_CACHE[name]
    return tok, copy.deepcopy(enc)


def evaluate_probs(
    probs: np.ndarray, y: np.ndarray, h: Hierarchy, threshold: float, multi_path: bool
) -> dict:
    """The headline (the paper's metric, per level too), then our additions: every decoding
    (threshold, top-down consistent, best path on single-path data) under every convention."""
    out = headline_record(y, decode_threshold(probs, 0.5), h)
    for how in ("threshold", "topdown") + (() if multi_path else ("best_path",)):
        for k, v in score(y, decode(probs, h, how, threshold), h).items():
            out[f"{how}/{k}"] = v
    return out


def compact_predictions(probs: np.ndarray, h: Hierarchy, multi_path: bool) -> dict:
    """The decodings a run keeps per text (:mod:`htclib.training.records`): the headline and our extra."""
    extra = "topdown" if multi_path else "best_path"
    return {"headline": decode_threshold(probs, 0.5), extra: decode(probs, h, extra)}


def dev_scorer(h: Hierarchy, threshold: float, multi_path: bool):
    """Dev scores per epoch: ``headline`` (the paper's micro-F1, what early stopping selects on by
    default), its macro-F1, a ``tiebreak`` and our additions (``best_path_micro_f1``, ``auto``)."""
    from sklearn.metrics import label_ranking_average_precision_score

    def fn(probs, y):
        hl = headline(y, probs)
        out = {"headline": hl["micro_f1"], "headline_macro_f1": hl["macro_f1"]}
        # Early epochs often have no sigmoid above 0.5 yet (headline 0 for several epochs): a
        # ranking score that moves before any label fires breaks those ties, so patience
        # counts epochs without progress rather than epochs before the first prediction.
        out["tiebreak"] = float(label_ranking_average_precision_score(y, probs))
        s = score(y, decode(probs, h, "threshold", threshold), h)
        out.update(micro_f1=s["micro_f1"], macro_f1=s["macro_f1"])
        if not multi_path:
            out["best_path_micro_f1"] = score(y, decode(probs, h, "best_path"), h)["micro_f1"]
        # Single-path data: best-path decoding gives a dev signal from the first epoch, when no
        # sigmoid has crossed 0.5 yet; multi-path data has no single best path.
        out["auto"] = out["micro_f1"] if multi_path else out["best_path_micro_f1"]
        return out

    return fn


def run(
    cfg: RunConfig,
    out_root: str | os.PathLike = "results/adhoc",
    force: bool = False,
    resume: bool = True,
    progress: bool = True,
    wait_for_levels: bool = True,
) -> dict:
    """Train and test one config; returns (and saves) the result record.
    ``wait_for_levels=False``: a local run whose shared level another process is training
    raises :class:`htclib.training.topdown.LevelBusy` instead of waiting for it.

        Results go to ``out_root/runs/<cfg.key()>/``: ``config.json``, ``result.json``,
        ``history.json``, ``artifact/``, ``test_probs.npy`` and the compact ``test_pred.json`` (what
    git keeps, :mod:`htclib.training.records`). A finished run is reused.
    """
    folder = ensure_writable_dir(Path(out_root) / "runs" / cfg.key())
    done = folder / "result.json"
    if done.exists() and not force:
        return read_json(done)
    if force:  # train again from the start: a finished run's checkpoints would resume it
        resume = False
    atomic_write_json(folder / "config.json", cfg.to_dict())
    t0 = time.perf_counter()
    from .train import seed_everything

    # Before any module is built: the prefix and head initialisation must depend on the
    # config's seed alone, not on what ran earlier in this process.
    seed_everything(cfg.train.seed)
    # the code and machine at the start: what trains this run (the tree may change meanwhile)
    prov = provenance()
    ds = get_data(cfg.data)
    h = ds.hierarchy
    multi = not single_path(ds)  # mostly single-path data also gets best-path decoding
    tok, encoder = get_encoder(cfg.model.encoder)
    from ..data.tokens import tokenize

    splits = {
        s: tokenize(ds.split(s).texts, tok, cfg.train.max_length) for s in ("train", "dev", "test")
    }
    ys = {s: ds.y(s) for s in ("train", "dev", "test")}
    if cfg.model.method == "local":
        from .topdown import fit_local

        model, fit_info = fit_local(
            cfg,
            ds,
            encoder,
            tok,
            splits,
            ys,
            folder,
            resume=resume,
            progress=progress,
            force=force,
            wait=wait_for_levels,
        )
    else:
        model, fit_info = _fit_global(
            cfg, ds, encoder, tok, splits, ys, folder, resume, progress, multi
        )
    if _other_process():
        # Data-parallel (accelerate launch): every process holds the same trained weights;
        # the main one scores and writes the records, the others stop here.
        return {"name": cfg.name, "key": cfg.key(), "process": "not the main process"}
    from .artifacts import artifact_bytes, save_artifact
    from .train import precision_of, predict_logits, sigmoid

    precision = precision_of(cfg.train, next(model.parameters()).device.type)
    t_pred = time.perf_counter()
    dev_probs = sigmoid(
        predict_logits(
            model, splits["dev"], tok.pad_token_id, cfg.train.eval_batch_size, bf16=precision
        )
    )
    test_probs = sigmoid(
        predict_logits(
            model, splits["test"], tok.pad_token_id, cfg.train.eval_batch_size, bf16=precision
        )
    )
    predict_seconds = time.perf_counter() - t_pred
    tuned = tune_threshold(dev_probs, ys["dev"])
    test = evaluate_probs(test_probs, ys["test"], h, cfg.train.threshold, multi)
    test.update(
        {
            f"tuned/{k}": v
            for k, v in score(ys["test"], decode(test_probs, h, "threshold", tuned), h).items()
        }
    )
    np.save(folder / "test_probs.npy", test_probs.astype(np.float32))
    save_predictions(folder, ys["test"], compact_predictions(test_probs, h, multi))
    art = save_artifact(
        model,
        folder / "artifact",
        {"max_length": cfg.train.max_length, "multi_path": multi, "bf16": cfg.train.bf16},
    )
    result = {
        "name": cfg.name,
        "key": cfg.key(),
        "htclib_version": __version__,
        "dataset": cfg.data.name,
        "method": cfg.model.method,
        "variant": cfg.model.transfer if cfg.model.method == "local" else "",
        "prefix_length": _prefix_label(cfg),
        "contrastive": cfg.contrastive.denominator if cfg.contrastive else "",
        "seed": cfg.train.seed,
        "encoder": cfg.model.encoder,
        "n_train": len(ds.train),
        "n_dev": len(ds.dev),
        "n_test": len(ds.test),
        "n_labels": h.n_labels,
        "multi_path": multi,
        "trained_params": model.n_served(),
        "params_pct": model.params_share(),
        "artifact_bytes": artifact_bytes(art),
        "tuned_threshold": tuned,
        "test": test,
        "majority": majority_baseline(ys["train"], ys["test"], h),
        "predict_seconds": predict_seconds,
        "test_examples_per_s": len(ds.test) / max(predict_seconds, 1e-9),
        "wall_seconds": time.perf_counter() - t0,
        **fit_info,
        "config": cfg.to_dict(),
        "provenance": {**prov, "precision": precision, "finished_utc": utc_now()},
    }
    atomic_write_json(done, result)
    return result


def run_many(
    cfgs: list[RunConfig],
    out_root: str | os.PathLike,
    force: bool = False,
    train: bool = True,
    name_missing: bool = True,
) -> list[dict]:
    """The records of ``cfgs`` in order, each run once (two CL rows share their BCE-only
    twins), training the missing ones (:func:`run`). With
    ``train=False`` (records only: drawing a long profile from its committed runs on a fresh
    clone) a run without a record is left out, and the missing ones are named (unless
    ``name_missing`` is False: another notebook's runs read as a reference, which that
    notebook names). Progress bars
    are off where ``HTCLIB_PROGRESS=0`` (``python -m htclib.run`` sets it for its headless
    notebooks: a text bar in a saved notebook is a trail of stderr fragments)."""
    progress = os.environ.get("HTCLIB_PROGRESS", "1") != "0"
    out, missing = [], []
    firsts: dict[str, RunConfig] = {}
    for c in cfgs:
        firsts.setdefault(c.key(), c)
    cfgs = list(firsts.values())
    for cfg in cfgs:
        if train or (Path(out_root) / "runs" / cfg.key() / "result.json").exists():
            out.append(run(cfg, out_root, force=force and train, progress=progress))
        else:
            missing.append(cfg.name)
    if missing and name_missing:
        more = " ..." if len(missing) > 6 else ""
        print(
            f"records only: {len(missing)} of {len(cfgs)} runs have no record yet "
            f"({', '.join(missing[:6])}{more})"
        )
    return out


def label_name_ids(h: Hierarchy, tok, model_cfg) -> torch.Tensor:
    """Token ids ``(1, T)`` of the label names, top level first: the text a prefix with
    ``init="tokens"`` starts from (the task's own vocabulary)."""
    names = [h.name(i) for i in range(h.n_labels)]  # labels are stored level by level
    enc = tok([" ".join(names)], truncation=True, max_length=model_cfg.prefix.length + 2)
    return torch.as_tensor(enc["input_ids"][:1])


def _other_process() -> bool:
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized() and dist.get_rank() != 0


def _prefix_label(cfg: RunConfig) -> str:
    if cfg.model.method in ("cls", "lora", "ia3", "bitfit", "adapter"):  # no prefix
        return "-"
    if cfg.model.method == "local":
        return "/".join(map(str, cfg.model.level_lengths))
    return str(cfg.model.prefix.length)


def _probe_head(model, train_ds, y_train, cfg, pad_id) -> dict:
    """LP-FT's first step: the head fitted to the states of the model at its start (prefix or
    encoder as initialised, eval mode). Its seconds count toward the run's time: a time to
    accuracy that left them out would flatter the lever. A resumed run fits it again (the
    same fit: the start is seeded) so that its record keeps those seconds; the checkpoint's
    head then replaces it."""
    from .train import head_states

    t0 = time.perf_counter()
    device = torch.device(cfg.train.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    model.to(device)
    h = head_states(model, train_ds, pad_id, cfg.train.eval_batch_size, device, cfg.train.bf16)
    objective = model.head.fit_probe(h, y_train, cfg.model.head_probe)
    return {"head_probe_seconds": time.perf_counter() - t0, "head_probe_objective": objective}


def _fit_global(cfg, ds, encoder, tok, splits, ys, folder, resume, progress, multi):
    from ..method.models import build_model
    from .train import fit

    model = build_model(cfg.model, ds.hierarchy, encoder)
    model.head.init_bias(cfg.model.head_bias, ys["train"])
    if cfg.model.method == "spp" and cfg.model.prefix.init == "tokens":
        model.prefix.init_from_tokens(encoder, label_name_ids(ds.hierarchy, tok, cfg.model))
    info: dict = {}
    if cfg.contrastive is not None:
        if cfg.model.method != "spp":
            raise ValueError(
                "contrastive pre-training applies to prefix models (method 'spp' or 'local')"
            )
        from .pretrain import pretrain_prefix

        info["contrastive_history"] = pretrain_prefix(
            model,
            splits["train"],
            tok.pad_token_id,
            cfg.contrastive,
            cfg.train,
            progress=progress,
            diag_ds=splits["dev"],
            diag_labels=[p[0][0] for p in ds.dev.paths],
        )
    if cfg.model.head_probe is not None:
        info.update(_probe_head(model, splits["train"], ys["train"], cfg, tok.pad_token_id))
    res = fit(
        model,
        model.body_parameters(),
        model.head_parameters(),
        splits["train"],
        ys["train"],
        splits["dev"],
        ys["dev"],
        cfg.train,
        tok.pad_token_id,
        dev_scorer(ds.hierarchy, cfg.train.threshold, multi),
        out_dir=folder,
        resume=resume,
        progress=progress,
        desc=cfg.name,
    )
    info.update(
        history=res.history,
        best_epoch=res.best_epoch,
        best_dev=res.best_score,
        train_seconds=res.seconds,
        stopped=res.stopped,
        train_examples_per_s=float(np.median([r["examples_per_s"] for r in res.history]))
        if res.history
        else 0.0,
    )
    return model, info
