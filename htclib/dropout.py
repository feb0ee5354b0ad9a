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
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.integrations.sdpa_attention import sdpa_attention_forward

ATTENTION = "htclib_sdpa"


def fast_dropout(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """Inverted dropout: each element kept with probability 1 - p and scaled by 1 / (1 - p)."""
    if not training or p == 0.0:
        return x
    if p >= 1.0:
        return x * 0.0
    keep = torch.rand_like(x).ge_(p)  # float 1.0 / 0.0 in place: no bool tensor, no copy
    return x * keep.mul_(1.0 / (1.0 - p))  # autograd saves the scaled mask, not x


class FastDropout(nn.Dropout):
    """``nn.Dropout`` drawing its mask with :func:`fast_dropout` (same p, same state dict)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.inplace:  # nobody in BERT asks for it; keep torch's semantics if one does
            return super().forward(x)
        return fast_dropout(x, self.p, self.training)


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
    out = torch.matmul(fast_dropout(probs, dropout), value)
    return out.transpose(1, 2).contiguous(), None


def _register() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    if ATTENTION not in AttentionInterface._global_mapping:
        AttentionInterface.register(ATTENTION, attention)
        ALL_MASK_ATTENTION_FUNCTIONS.register(ATTENTION, sdpa_mask)  # SDPA's masks, as they are


def use_fast_dropout(encoder: nn.Module) -> nn.Module:
    """Swap ``encoder``'s dropout for :class:`FastDropout` and, if it runs SDPA, its attention
    for :func:`attention`; in place, returns ``encoder``. Weights and state dict are untouched."""
    for module in list(encoder.modules()):
        for name, child in list(module.named_children()):
            if type(child) is nn.Dropout:
                setattr(module, name, FastDropout(child.p, child.inplace))
    config = getattr(encoder, "config", None)
    if config is not None and getattr(config, "_attn_implementation", None) == "sdpa":
        _register()
        encoder.set_attn_implementation(ATTENTION)
    return encoder
