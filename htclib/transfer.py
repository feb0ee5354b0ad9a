"""Starting a lower level's prefix from the trained upper one (local SPP), as pure tensor ops.

All prefixes are ``(L, 2, H, P, D)``: layers, key/value, heads, positions, head size.

- ``non``: a fresh prefix, nothing transferred.
- ``copy``: the trained upper prefix fills the first ``P_up`` positions of the lower prefix
  (every layer, keys and values); the remaining ``P_low - P_up`` positions stay fresh. When
  ``P_low <= P_up`` the upper prefix is truncated to its first ``P_low`` positions.
- ``transform``: :class:`TransformTransfer`, a small MLP over the *position axis*, shared by
  all layers, key/value, heads and channels: each ``(P_up,)`` column of the upper prefix maps
  to a ``(P_low,)`` column (``P_up -> hidden -> P_low``, tanh). It is the paper's "fully
  connected network" at its smallest faithful size (``P_up*h + h*P_low`` weights, not a map
  of the flattened prefix, which would need billions of weights for BERT-base). What trains
  it: the lower level's BCE loss. During the lower level's training the lower prefix is
  ``T(upper) + R`` with the upper prefix frozen, T trainable and R a free residual that starts
  at zero, so at step 0 the prefix is exactly the transformed upper prefix and the level still
  has a full prefix's capacity. After training the sum is materialised into a plain prefix
  (serving cost equals the other variants).
"""

from __future__ import annotations

import torch
from torch import nn

TRANSFERS = ("non", "copy", "transform")


def copy_init(upper: torch.Tensor, fresh: torch.Tensor) -> torch.Tensor:
    """``upper (L,2,H,P_up,D)`` into the first positions of ``fresh (L,2,H,P_low,D)`` (a new tensor)."""
    if upper.shape[:3] != fresh.shape[:3] or upper.shape[4] != fresh.shape[4]:
        raise ValueError(
            f"prefixes differ beyond their length: upper {tuple(upper.shape)} vs lower {tuple(fresh.shape)}"
        )
    out = fresh.detach().clone()
    k = min(upper.shape[3], fresh.shape[3])
    out[:, :, :, :k] = upper[:, :, :, :k].detach()
    return out


class TransformTransfer(nn.Module):
    """``(L,2,H,P_up,D) -> (L,2,H,P_low,D)``: an MLP over the position axis (see module doc)."""

    def __init__(self, p_up: int, p_low: int, hidden: int | None = None):
        super().__init__()
        hidden = hidden or max(p_up, p_low)
        self.net = nn.Sequential(nn.Linear(p_up, hidden), nn.Tanh(), nn.Linear(hidden, p_low))

    def forward(self, upper: torch.Tensor) -> torch.Tensor:
        x = upper.transpose(3, 4)  # (L, 2, H, D, P_up)
        return self.net(x).transpose(3, 4)  # (L, 2, H, P_low, D)


class TransformedPrefix(nn.Module):
    """The lower prefix while it trains under ``transform``: ``T(upper) + R``; upper frozen."""

    def __init__(self, upper: torch.Tensor, p_low: int):
        super().__init__()
        self.register_buffer("upper", upper.detach().clone())
        self.transform = TransformTransfer(upper.shape[3], p_low)
        shape = (*upper.shape[:3], p_low, upper.shape[4])
        self.residual = nn.Parameter(torch.zeros(shape))

    def forward(self) -> torch.Tensor:
        return self.transform(self.upper) + self.residual

    @torch.no_grad()
    def materialise(self) -> torch.Tensor:
        return self.forward().detach().clone()
