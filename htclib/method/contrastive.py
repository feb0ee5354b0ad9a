"""SimCSE, the objective: the contrastive loss, its projection head and its diagnostics.

The prefix is pre-trained with it (unsupervised: the same text twice, two dropout masks) by
:func:`htclib.training.pretrain.pretrain_prefix`.

The loss is a pure function of two views ``(N, d)``. Two denominators:

- ``"simcse"`` (standard SimCSE, Gao et al. 2021): ``-log exp(s(t_i, t_i+)/tau) /
  sum_j exp(s(t_i, t_j+)/tau)``, the positive included: a cross-entropy over the batch.
- ``"paper"`` (as printed in the HTC prefix paper): ``-log exp(s(t_i, t_i+)/tau) /
  sum_{j != i} exp(s(t_i, t_j)/tau)``: negatives only, taken within the first view.

The default is ``"simcse"``: it is the bounded, well-studied form (the loss is a proper
cross-entropy, >= 0), the paper's form can go negative and rewards pushing negatives apart
without limit; the measured comparison on the shared data is in the closing notes and
``results/``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

DENOMINATORS = ("simcse", "paper")


def simcse_loss(
    z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.1, denominator: str = "simcse"
) -> torch.Tensor:
    """Mean contrastive loss of two views ``z1, z2 (N, d)`` (row i of each: the same text)."""
    if denominator not in DENOMINATORS:
        raise ValueError(f"denominator must be one of {DENOMINATORS}, got {denominator!r}")
    if z1.shape != z2.shape or z1.dim() != 2 or z1.shape[0] < 2:
        raise ValueError(
            f"expected two views of shape (N >= 2, d), got {tuple(z1.shape)} and {tuple(z2.shape)}"
        )
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    a, b = F.normalize(z1, dim=-1), F.normalize(z2, dim=-1)
    if denominator == "simcse":
        logits = a @ b.T / temperature  # (N, N): s(t_i, t_j+)
        return F.cross_entropy(logits, torch.arange(len(a), device=a.device))
    pos = (a * b).sum(-1) / temperature  # s(t_i, t_i+)
    same = a @ a.T / temperature  # s(t_i, t_j)
    same = same.masked_fill(torch.eye(len(a), dtype=torch.bool, device=a.device), float("-inf"))
    return (torch.logsumexp(same, dim=1) - pos).mean()


def collapse_value(n: int, denominator: str = "simcse") -> float:
    """The loss when every pair in a batch of ``n`` is equally similar (the embeddings carry no
    information about which text is which): ``log n`` (SimCSE), ``log(n - 1)`` (paper's form)."""
    return math.log(n if denominator == "simcse" else n - 1)


def collapsed_share(
    losses: list[float], sizes: list[int], denominator: str = "simcse", tol: float = 0.1
) -> float:
    """Share of steps whose loss sat within ``tol`` of (or above) :func:`collapse_value`."""
    if not losses:
        return 0.0
    hits = [
        loss >= collapse_value(n, denominator) - tol for loss, n in zip(losses, sizes, strict=True)
    ]
    return float(np.mean(hits))


class ProjectionHead(nn.Module):
    """g: the small MLP on h[CLS] used only during pre-training, discarded afterwards."""

    def __init__(self, hidden: int, out: int = 256):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, out))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(h)


def alignment_uniformity(h1: np.ndarray, h2: np.ndarray) -> dict[str, float]:
    """Wang & Isola (2020) on L2-normalised embeddings: alignment = E||f(x)-f(x+)||^2 over the
    two dropout views; uniformity = log E exp(-2||f(x)-f(y)||^2) over distinct pairs."""
    a = h1 / np.linalg.norm(h1, axis=1, keepdims=True)
    b = h2 / np.linalg.norm(h2, axis=1, keepdims=True)
    align = float(((a - b) ** 2).sum(1).mean())
    sq = ((a[:, None, :] - a[None, :, :]) ** 2).sum(-1)
    iu = np.triu_indices(len(a), k=1)
    uniform = float(np.log(np.exp(-2 * sq[iu]).mean()))
    return {"alignment": align, "uniformity": uniform}
