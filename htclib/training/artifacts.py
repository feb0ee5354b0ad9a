"""Saving and loading trained models as small artifacts.

An artifact folder holds ``weights.safetensors`` (only the tensors training changed: the
prefix and head for SPP, everything for CLS-tuning), ``config.json`` (model config, label
list, hierarchy fingerprint, encoder name and fingerprint, htclib version) and a
``MANIFEST.json`` with sizes and hashes. Loading verifies the manifest and refuses an
artifact made for another encoder or another label set.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .. import __version__
from ..data.hierarchy import Hierarchy
from ..io import atomic_write_json, ensure_writable_dir, read_json, verify_manifest, write_manifest
from ..method.encoders import encoder_fingerprint, load_encoder
from ..method.models import HTCModel, ModelConfig, build_model


def _tensor_names(folder: Path) -> list[str]:
    from safetensors import safe_open

    try:
        with safe_open(str(folder / "weights.safetensors"), framework="pt") as f:
            return list(f.keys())
    except Exception:  # a damaged file: load_file below says so with its own message
        return []


class ArtifactMismatchError(ValueError):
    """An artifact does not fit the encoder or label set it is loaded onto."""


def save_artifact(model: HTCModel, folder: str | os.PathLike, serving: dict | None = None) -> Path:
    """Write ``model``'s trained tensors and identity to ``folder``; returns the folder.

    ``serving``: how to use it (``max_length``, ``multi_path``, ``bf16``), read back by
    :func:`htclib.serve.predict.load_predictor`."""
    folder = ensure_writable_dir(folder)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.trainable_state().items()}
    tmp = folder / ".weights.safetensors.tmp"
    save_file(tensors, str(tmp))
    os.replace(tmp, folder / "weights.safetensors")
    atomic_write_json(
        folder / "config.json",
        {
            "htclib_version": __version__,
            "model": model.cfg.to_dict(),
            "hierarchy": model.hierarchy.to_json(),
            "hierarchy_fingerprint": model.hierarchy.fingerprint(),
            "encoder": getattr(model.encoder.config, "htclib_name", model.cfg.encoder),
            "encoder_fingerprint": encoder_fingerprint(model.encoder, _trained_in_encoder(tensors)),
            "serving": serving or {},
        },
    )
    write_manifest(folder, ["weights.safetensors", "config.json"])
    return folder


def _trained_in_encoder(names) -> frozenset[str]:
    """The encoder's own parameters among an artifact's tensors (``encoder.<name>``)."""
    return frozenset(k[len("encoder.") :] for k in names if k.startswith("encoder."))


def artifact_bytes(folder: str | os.PathLike) -> int:
    return (Path(folder) / "weights.safetensors").stat().st_size


def artifact_meta(folder: str | os.PathLike) -> dict:
    """The verified ``config.json`` of an artifact (model config, labels, encoder, serving)."""
    folder = Path(folder)
    if not (folder / "config.json").exists():
        raise FileNotFoundError(f"{folder} is not an htclib artifact (no config.json)")
    verify_manifest(folder)
    return read_json(folder / "config.json")


def load_artifact(
    folder: str | os.PathLike,
    encoder: torch.nn.Module | None = None,
    hierarchy: Hierarchy | None = None,
) -> HTCModel:
    """Rebuild a trained model from ``folder`` on ``encoder`` (loaded by name when None).

    Raises :class:`ArtifactMismatchError` when ``encoder`` or ``hierarchy`` differ from the
    ones the artifact was trained with, and ``CorruptFileError`` when a file was damaged.
    """
    folder = Path(folder)
    meta = artifact_meta(folder)
    cfg = ModelConfig(**meta["model"])
    saved_h = Hierarchy.from_json(meta["hierarchy"])
    if hierarchy is not None and hierarchy.fingerprint() != meta["hierarchy_fingerprint"]:
        raise ArtifactMismatchError(
            f"{folder}: trained for a label set with fingerprint {meta['hierarchy_fingerprint']} "
            f"({saved_h.n_labels} labels), not this one ({hierarchy.fingerprint()}, {hierarchy.n_labels} labels)"
        )
    if encoder is None:
        _, encoder = load_encoder(meta["encoder"])
    fp = encoder_fingerprint(encoder, _trained_in_encoder(_tensor_names(folder)))
    if fp != meta["encoder_fingerprint"]:
        raise ArtifactMismatchError(
            f"{folder}: trained on encoder {meta['encoder']!r} (fingerprint {meta['encoder_fingerprint']}), "
            f"refusing to load onto a different encoder (fingerprint {fp})"
        )
    model = build_model(cfg, saved_h, encoder)
    try:
        tensors = load_file(str(folder / "weights.safetensors"))
    except Exception as e:  # safetensors raises its own SafetensorError on a damaged file
        from ..io import CorruptFileError

        raise CorruptFileError(
            f"{folder / 'weights.safetensors'}: not a readable safetensors file ({e}); "
            "train the run again (htclib train --force)"
        ) from None
    missing = set(model.trainable_state()) - set(tensors)
    if missing:
        raise ArtifactMismatchError(f"{folder}: weights lack {sorted(missing)[:3]}")
    model.load_state_dict(tensors, strict=False)
    return model.eval()
