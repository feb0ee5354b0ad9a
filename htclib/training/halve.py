"""Storing a finished run's prefix artifact at half precision, only where that changes no
prediction the run recorded.

Committed artifacts stay under 1.5 MB. A local model over three levels (amazon3 10/20/30:
prefixes of 60 positions in 6 layers plus heads over 385 labels) needs 1.7 MB at fp32, 0.85
MB at fp16. Rounding to fp16 moves each weight by at most 2^-11 of its size, which can flip a
text whose probability sits at the 0.5 threshold; so :func:`halve_artifact` first checks that
the fp32 artifact reproduces the run's ``test_pred.json``, then that the rounded weights give
the same labels for every test text under every decoding the record keeps. Where one text
changes, it tries again with the heads left at fp32 (amazon3 local: 1.15 MB), and refuses when
that changes one too. The check's numbers go into the artifact's ``config.json`` (``storage``) so a reader
sees what was verified. Loading casts the weights back to the model's fp32 parameters.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from ..io import atomic_write_json, read_json, write_manifest
from .artifacts import artifact_meta, load_artifact


@dataclass
class HalfCheck:
    """What the fp32 and the fp16 weights predict on the run's test split, against its record."""

    run: str
    test_texts: int
    decodings: list[str]
    fp32_changed_texts: int  # the fp32 artifact against test_pred.json: must be 0
    fp16_changed_texts: int  # the rounded weights against test_pred.json
    max_prob_change: float  # largest |p_fp16 - p_fp32| over texts and labels
    bytes_fp32: int
    bytes_fp16: int
    # tensors left at fp32 (the heads, where halving them changed a text)
    kept_fp32: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.fp32_changed_texts == 0 and self.fp16_changed_texts == 0


# What stays fp32, tried in order: nothing; then the heads. A head maps the encoder's output
# straight to a logit, so its rounding moves a probability more per byte than a prefix's does,
# and it is the smaller part of a prefix artifact (amazon3 local: 0.59 of 1.7 MB).
# Name prefixes, for str.startswith: the empty tuple matches no name.
_KEEP_FP32: tuple[tuple[str, ...], ...] = ((), ("heads.",))


class HalvingRefused(ValueError):
    """Half precision would change what a run recorded (or the artifact does not reproduce it)."""


def _predict(model, ds, pad_id: int, multi: bool) -> tuple[np.ndarray, dict]:
    from .experiment import compact_predictions
    from .train import predict_logits, sigmoid

    probs = sigmoid(predict_logits(model, ds, pad_id, 64, torch.device("cpu"), False))
    return probs, compact_predictions(probs, model.hierarchy, multi)


def _changed(preds: dict, recorded: dict) -> int:
    """Texts whose labels differ from the record under any decoding it keeps."""
    bad = np.zeros(len(next(iter(recorded.values()))), dtype=bool)
    for how, want in recorded.items():
        got = np.asarray(preds[how]) > 0.5
        bad |= (got != want).any(axis=1)
    return int(bad.sum())


def check_half(run_folder: str | os.PathLike) -> tuple[HalfCheck, dict]:
    """Predict the run's test split with its artifact at fp32 and rounded to fp16; compare both
    with the run's ``test_pred.json``. Returns the check and the fp16 tensors."""
    from ..data.tokens import tokenize
    from ..method.encoders import load_encoder
    from .experiment import RunConfig, get_data
    from .records import load_predictions

    run = Path(run_folder)
    art = run / "artifact"
    inner = sorted((run / "runs").glob("*/result.json")) if (run / "runs").is_dir() else []
    if inner and not (run / "config.json").exists():
        raise FileNotFoundError(
            f"{run} is a 'htclib train --out' folder; halve its run: "
            + ", ".join(str(f.parent) for f in inner)
        )
    for f in (run / "config.json", run / "test_pred.json", art / "weights.safetensors"):
        if not f.exists():
            raise FileNotFoundError(f"{f} is missing: halving checks a finished run's record")
    cfg = RunConfig(**read_json(run / "config.json"))
    meta = artifact_meta(art)
    serving = meta.get("serving") or {}
    tensors = load_file(str(art / "weights.safetensors"))
    if any(t.dtype == torch.float16 for t in tensors.values()):
        raise HalvingRefused(f"{art}: already stored at half precision")
    recorded = load_predictions(run)["pred"]
    test = get_data(cfg.data).split("test")
    if len(test.texts) != len(next(iter(recorded.values()))):
        raise HalvingRefused(
            f"{run}: the test split has {len(test.texts)} texts, its record "
            f"{len(next(iter(recorded.values())))}: not the data it was trained on"
        )
    tok, encoder = load_encoder(meta["encoder"])
    model = load_artifact(art, encoder)
    max_length = int(serving.get("max_length", cfg.train.max_length))
    multi = bool(serving.get("multi_path", False))
    ds = tokenize(list(test.texts), tok, max_length, use_cache=False)
    p32, pred32 = _predict(model, ds, tok.pad_token_id, multi)
    fp32_changed = _changed(pred32, recorded)
    nbytes = sum(t.numel() * t.element_size() for t in tensors.values())
    for kept in _KEEP_FP32:
        half = {
            k: (v.half() if v.is_floating_point() and not k.startswith(kept) else v)
            for k, v in tensors.items()
        }
        model.load_state_dict(half, strict=False)  # copies cast back to the fp32 parameters
        p16, pred16 = _predict(model, ds, tok.pad_token_id, multi)
        check = HalfCheck(
            run=run.name,
            test_texts=len(test.texts),
            decodings=sorted(recorded),
            fp32_changed_texts=fp32_changed,
            fp16_changed_texts=_changed(pred16, recorded),
            max_prob_change=float(np.abs(p16 - p32).max()) if p32.size else 0.0,
            bytes_fp32=nbytes,
            bytes_fp16=sum(t.numel() * t.element_size() for t in half.values()),
            kept_fp32=sorted(k for k, v in half.items() if v.dtype == torch.float32),
        )
        if fp32_changed or check.ok:
            break
    return check, half


def halve_artifact(run_folder: str | os.PathLike, dry_run: bool = False) -> HalfCheck:
    """Rewrite ``run_folder/artifact`` at fp16 when :func:`check_half` finds no changed
    prediction; raise :class:`HalvingRefused` (writing nothing) when it finds one."""
    check, half = check_half(run_folder)
    if check.fp32_changed_texts:
        raise HalvingRefused(
            f"{run_folder}: its fp32 artifact labels {check.fp32_changed_texts} of "
            f"{check.test_texts} test texts differently from test_pred.json; it does not "
            "reproduce its record, so no check against the record means anything"
        )
    if check.fp16_changed_texts:
        raise HalvingRefused(
            f"{run_folder}: at half precision {check.fp16_changed_texts} of {check.test_texts} "
            f"test texts change labels (largest probability change {check.max_prob_change:.2g}), "
            "even with the heads left at fp32; kept at fp32"
        )
    if dry_run:
        return check
    # Written whole beside the old folder, then swapped in: an interruption leaves either the
    # fp32 artifact or the fp16 one, never weights that disagree with their manifest.
    art = Path(run_folder) / "artifact"
    new, old = art.with_name("artifact.half.tmp"), art.with_name("artifact.fp32.old")
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir()
    save_file({k: v.contiguous() for k, v in half.items()}, str(new / "weights.safetensors"))
    meta = read_json(art / "config.json")
    meta["storage"] = {
        "dtype": "float16" + (" (heads float32)" if check.kept_fp32 else ""),
        "check": asdict(check),
    }
    atomic_write_json(new / "config.json", meta)
    write_manifest(new, ["weights.safetensors", "config.json"])
    shutil.rmtree(old, ignore_errors=True)
    os.replace(art, old)
    os.replace(new, art)
    shutil.rmtree(old)
    return check
