"""Dropout with cheaper masks, for the encoder's training steps (same distribution as torch's).

The profiler puts ``aten::bernoulli_`` at 12% of a MiniLM SPP training step with the encoder's
dropout on (6% at BERT-base size), most of it the attention-probability dropout over
``(B, H, T, P + T)`` and SDPA's math kernel, which dropout forces, adds a safe-softmax pass
(``isneginf``/``all``/``where``). On CPU, ``torch.bernoulli_`` costs ~10 ns per element where
``torch.rand_like`` costs ~3: a keep-mask ``rand >= p`` is the same Bernoulli(1 - p) draw
(up to float32's 2^-24 resolution of p) with the same inverted scaling 1 / (1 - p), so the
model and its gradients are the same random function; only which masks a given seed draws
differs from ``nn.Dropout``.

:func:`use_fast_dropout` swaps an encoder's ``nn.Dropout`` modules for :class:`FastDropout`
and routes its attention through :func:`attention`, which is SDPA itself whenever no dropout
applies (inference, a frozen encoder in eval mode) and attention with the cheap mask otherwise.
htclib's own models (CLS, SPP, local) use it; PEFT's cross-check keeps stock modules.

``masks="words"`` (``ModelConfig.dropout_masks="words"``; not the default, so the records'
runs keep their masks) draws the keep-mask from random
64-bit words cut into four 16-bit draws: one RNG call per four elements, where torch's CPU
``uniform_`` draws one float per element on one thread. The rate is p rounded to a multiple of
2^-16 (0.1 -> 0.100006) and the scaling is 1 / (1 - that rate), so the output is unbiased;
which masks a seed draws differs from ``masks="rand"``.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.integrations.sdpa_attention import sdpa_attention_forward

ATTENTION = "htclib_sdpa"
MASKS = ("rand", "words")
_INT64_MIN = torch.iinfo(torch.int64).min


def _word_keep(x: torch.Tensor, p: float) -> tuple[torch.Tensor, float]:
    """A keep-mask (bool, x's shape) from 16-bit draws, four per random 64-bit word, and its
    inverted scaling. ``random_(min, None)`` fills the full 64-bit range, so every 16-bit view
    of a word is uniform on [-32768, 32767]."""
    n, dropped = x.numel(), round(p * 65536)
    words = torch.empty((n + 3) // 4, dtype=torch.int64, device=x.device).random_(_INT64_MIN, None)
    draws = words.view(torch.int16)[:n].view(x.shape)
    return draws >= dropped - 32768, 65536 / (65536 - dropped)


def fast_dropout(
    x: torch.Tensor, p: float, training: bool = True, masks: str = "rand"
) -> torch.Tensor:
    """Inverted dropout: each element kept with probability 1 - p and scaled by 1 / (1 - p)
    (``masks="words"``: p to a multiple of 2^-16, see the module's note)."""
    if not training or p == 0.0:
        return x
    if p >= 1.0 or (masks == "words" and round(p * 65536) >= 65536):
        return x * 0.0
    if masks == "words":
        keep, scale = _word_keep(x, p)
        return torch.where(keep, x * scale, 0.0)  # autograd saves the bool mask
    if masks != "rand":
        raise ValueError(f"dropout masks {masks!r}: expected one of {MASKS}")
    keep = torch.rand_like(x).ge_(p)  # float 1.0 / 0.0 in place: no bool tensor, no copy
    return x * keep.mul_(1.0 / (1.0 - p))  # autograd saves the scaled mask, not x


class FastDropout(nn.Dropout):
    """``nn.Dropout`` drawing its mask with :func:`fast_dropout` (same p, same state dict)."""

    def __init__(self, p: float = 0.5, inplace: bool = False, masks: str = "rand"):
        super().__init__(p, inplace)
        self.masks = masks

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.inplace:  # nobody in BERT asks for it; keep torch's semantics if one does
            return super().forward(x)
        return fast_dropout(x, self.p, self.training, self.masks)


def attention(module, query, key, value, attention_mask, dropout=0.0, scaling=None, **kwargs):
    """An attention function for transformers' ``AttentionInterface``: SDPA without dropout,
    softmax attention with :func:`fast_dropout` on the probabilities with it."""
    plain = (
        dropout == 0.0
        or kwargs.get("is_causal")
        or getattr(module, "is_causal", False)
        or key.shape[1] != query.shape[1]  # grouped heads: SDPA handles them
    )
    if plain:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    scale = query.shape[-1] ** -0.5 if scaling is None else scaling
    scores = torch.matmul(query * scale, key.transpose(-1, -2))  # (B, H, Q, K)
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:  # SDPA's mask: True = attend
            scores = scores.masked_fill(~attention_mask, torch.finfo(scores.dtype).min)
        else:
            scores = scores + attention_mask
    probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(query.dtype)
    masks = getattr(module, "htclib_masks", "rand")  # set by use_fast_dropout
    out = torch.matmul(fast_dropout(probs, dropout, masks=masks), value)
    return out.transpose(1, 2).contiguous(), None


def _register() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    if ATTENTION not in AttentionInterface._global_mapping:
        AttentionInterface.register(ATTENTION, attention)
        ALL_MASK_ATTENTION_FUNCTIONS.register(ATTENTION, sdpa_mask)  # SDPA's masks, as they are


def use_fast_dropout(encoder: nn.Module, masks: str = "rand") -> nn.Module:
    """Swap ``encoder``'s dropout for :class:`FastDropout` and, if it runs SDPA, its attention
    for :func:`attention`, drawing ``masks`` ("rand", htclib's models; "words", the cheaper
    draw: ``ModelConfig.dropout_masks``); in place, returns ``encoder``. Weights and state
    dict are untouched."""
    if masks not in MASKS:
        raise ValueError(f"dropout masks {masks!r}: expected one of {MASKS}")
    for module in list(encoder.modules()):
        # attention() reads it from the module it is handed: set on every module, no guessing
        # which class an architecture calls its attention
        module.htclib_masks = masks
        for name, child in list(module.named_children()):
            if type(child) is nn.Dropout:
                setattr(module, name, FastDropout(child.p, child.inplace, masks))
            elif isinstance(child, FastDropout):
                child.masks = masks
    config = getattr(encoder, "config", None)
    if config is not None and getattr(config, "_attn_implementation", None) == "sdpa":
        _register()
        encoder.set_attn_implementation(ATTENTION)
    return encoder
