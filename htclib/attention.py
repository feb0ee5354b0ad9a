"""Self-attention for training with attention dropout, cheaper than SDPA's fallback on CPU.

With dropout on (CLS-tuning, P-tuning v2's recipe, SimCSE's two views, PEFT-like training),
``F.scaled_dot_product_attention`` leaves its fused kernel for the "math" path on CPU: it
materialises the scores and then (1) runs a "safe" softmax that scans every row for all -inf
(three extra passes over the (B, H, T, P+T) scores), and (2) draws the dropout mask as floats,
divides it by 1 - p and multiplies (three passes). Here: one softmax, a boolean mask drawn in one
pass and applied in one multiply, and the 1 / (1 - p) rescale moved to the output, which is D/(P+T)
the size of the probabilities. The same computation in distribution (each probability kept with
probability 1 - p and rescaled); not bit-identical to torch's dropout, since the masks come from
a different draw. Without dropout it is SDPA itself (the fused kernel), so inference and
htclib's own recipe (frozen encoder in eval mode) are untouched.

Used by :func:`htclib.prefix.encode` through :func:`training_attention` (a context that points
the encoder's config at this function for the forward pass), so PEFT's own path, which calls
the encoder directly, keeps transformers' default: the benchmarks compare engines.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask
from transformers.modeling_utils import AttentionInterface

NAME = "htclib_dropout_sdpa"


def dropout_attention(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs,
):
    """transformers' attention-function signature: (B, H, T, D) query, (B, H, S, D) key/value,
    a boolean or additive mask broadcastable to (B, H, T, S) (True / 0 = attend); returns
    ((B, T, H, D), None)."""
    if dropout == 0.0 or not module.training:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=0.0, scaling=scaling, **kwargs
        )
    if scaling is None:
        scaling = query.shape[-1] ** -0.5
    scores = torch.matmul(query * scaling, key.transpose(-1, -2))
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attention_mask, float("-inf"))
        else:
            scores = scores + attention_mask
    probs = torch.softmax(scores, dim=-1)
    keep = torch.empty_like(probs, dtype=torch.bool).bernoulli_(1.0 - dropout)
    out = torch.matmul(probs * keep, value) * (1.0 / (1.0 - dropout))
    return out.transpose(1, 2).contiguous(), None


AttentionInterface.register(NAME, dropout_attention)
# the mask this function receives is the one SDPA would (boolean, or None when nothing is masked)
AttentionMaskInterface.register(NAME, sdpa_mask)


@contextlib.contextmanager
def training_attention(encoder: nn.Module):
    """Within the block an encoder that uses SDPA uses :func:`dropout_attention` (the same
    thing without dropout). Any other implementation (eager, flash, a user's) is left alone."""
    cfg = getattr(encoder, "config", None)
    if cfg is None or getattr(cfg, "_attn_implementation", None) != "sdpa":
        yield
        return
    cfg._attn_implementation = NAME
    try:
        yield
    finally:
        cfg._attn_implementation = "sdpa"
