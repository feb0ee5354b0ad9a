"""Resume checkpoints: after every epoch the trainable tensors, optimiser, scheduler, RNG states
and the loop's state (early stopping, history) are written atomically with a size/hash
manifest, and load with ``weights_only=True`` (a checkpoint file cannot run code)."""

from __future__ import annotations

import copy
import random
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..io import atomic_write_bytes, verify_manifest, write_manifest


def trainable_state(model: nn.Module, trainable: list[nn.Parameter]) -> dict[str, torch.Tensor]:
    ids = {id(p) for p in trainable}
    return {k: v for k, v in model.named_parameters() if id(v) in ids}


def save_checkpoint(folder: Path, model, trainable, optimizer, scheduler, state) -> None:
    import io

    blob = io.BytesIO()
    torch.save(
        {
            "model": {k: v.detach().cpu() for k, v in trainable_state(model, trainable).items()},
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


def load_checkpoint(folder: Path, model, trainable, optimizer, scheduler) -> dict:
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
    want = set(trainable_state(model, trainable))
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
