"""Starting a lower level's prefix from the trained upper one (local SPP), as pure tensor ops.

All prefixes are ``(L, 2, H, P, D)``: layers, key/value, heads, positions, head size.

- ``non``: a fresh prefix, nothing transferred.
- ``copy``: the trained upper prefix fills the first ``P_up`` positions of the lower prefix
  (every layer, keys and values); the remaining ``P_low - P_up`` positions stay fresh. When
  ``P_low <= P_up`` the upper prefix is truncated to its first ``P_low`` positions.
- ``transform``: :class:`TransformTransfer`, a fully connected network over the *position
  axis*, shared by all layers, key/value, heads and channels: each ``(P_up,)`` column of the
  upper prefix maps to a ``(P_low,)`` column: ``S u + W2 tanh(W1 u + b1) + b2`` with a linear
  path ``S`` (``P_low x P_up``) and a tanh MLP, all trainable. It is the paper's "fully
  connected network" at its smallest faithful size (``P_up*h + h*P_low`` weights, not a map
  of the flattened prefix, which would need billions of weights for BERT-base).

  Which reading of the paper: the network maps the upper prefix to *initialise* the lower
  one, so at step 0 the map must carry the upper prefix. ``S`` starts as the copy matrix (the
  first ``P_up`` output positions reproduce the upper prefix) and ``W2``, ``b2`` start at 0;
  the lower prefix while it trains is ``T(upper) + R`` with the upper prefix frozen, T
  trainable and R a free residual that starts as the copy variant's fresh positions (0 where
  the upper prefix is copied). So transform starts exactly where copy starts, and differs
  from it only in what trains: the map (which moves every position together) as well as the
  free positions. After training the sum is materialised into a plain prefix (serving cost
  equals the other variants).
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
    """``(L,2,H,P_up,D) -> (L,2,H,P_low,D)``: ``S u + MLP(u)`` over the position axis, starting
    as copy (see module doc)."""

    def __init__(self, p_up: int, p_low: int, hidden: int | None = None):
        super().__init__()
        hidden = hidden or max(p_up, p_low)
        self.skip = nn.Linear(p_up, p_low, bias=False)
        self.net = nn.Sequential(nn.Linear(p_up, hidden), nn.Tanh(), nn.Linear(hidden, p_low))
        with torch.no_grad():
            self.skip.weight.copy_(torch.eye(p_low, p_up))  # output j = input j for j < P_up
            self.net[2].weight.zero_()
            self.net[2].bias.zero_()

    def forward(self, upper: torch.Tensor) -> torch.Tensor:
        x = upper.transpose(3, 4)  # (L, 2, H, D, P_up)
        return (self.skip(x) + self.net(x)).transpose(3, 4)  # (L, 2, H, P_low, D)


class TransformedPrefix(nn.Module):
    """The lower prefix while it trains under ``transform``: ``T(upper) + R``; upper frozen.

    ``fresh`` ``(L,2,H,P_low,D)`` is the level's own fresh prefix: R starts as its positions
    beyond ``P_up`` (0 on the first ``P_up``), so step 0 equals :func:`copy_init`.
    """

    def __init__(self, upper: torch.Tensor, fresh: torch.Tensor):
        super().__init__()
        self.register_buffer("upper", upper.detach().clone())
        p_up, p_low = upper.shape[3], fresh.shape[3]
        self.transform = TransformTransfer(p_up, p_low)
        residual = fresh.detach().clone()
        residual[:, :, :, : min(p_up, p_low)] = 0.0
        self.residual = nn.Parameter(residual)

    def forward(self) -> torch.Tensor:
        return self.transform(self.upper) + self.residual

    @torch.no_grad()
    def materialise(self) -> torch.Tensor:
        return self.forward().detach().clone()
