"""Linear classification heads on the [CLS] state (dropout first)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class ClassifierHead(nn.Module):
    """``(B, hidden) -> (B, n_labels)`` logits: one head over all labels (global) or over one
    level's labels (local)."""

    def __init__(self, hidden: int, n_labels: int, dropout: float = 0.1):
        super().__init__()
        if n_labels < 1:
            raise ValueError(f"a head needs at least one label, got n_labels={n_labels}")
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(hidden, n_labels)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.linear(self.dropout(h))

    @torch.no_grad()
    def init_bias_from_prior(self, y: np.ndarray, eps: float = 1e-3) -> None:
        """Set the bias to each label's log prior odds from multi-hot ``y`` ``(n, n_labels)``.

        With hundreds of labels and BCE, a zero bias starts every sigmoid at 0.5 and the first
        epochs only learn "almost everything is negative"; starting at the prior skips that
        (without it CLS-tuning predicted nothing above 0.5 for 5 epochs on amazon3, NOTES.md).
        """
        prior = np.clip(np.asarray(y, dtype=np.float64).mean(0), eps, 1 - eps)
        self.linear.bias.copy_(
            torch.as_tensor(np.log(prior / (1 - prior)), dtype=self.linear.bias.dtype)
        )

    @torch.no_grad()
    def init_like_bert(self, std: float = 0.02) -> None:
        """BERT's ``_init_weights`` for a linear layer: weight ~ N(0, std), bias 0 (what a
        P-tuning v2 classifier gets from ``from_pretrained``, the head missing from the
        checkpoint)."""
        self.linear.weight.normal_(0.0, std)
        self.linear.bias.zero_()

    def init_bias(self, how: str, y: np.ndarray, std: float = 0.02) -> None:
        """``how="prior"``: :meth:`init_bias_from_prior`; ``"zero"``: :meth:`init_like_bert`."""
        if how == "prior":
            self.init_bias_from_prior(y)
        elif how == "zero":
            self.init_like_bert(std)
        else:
            raise ValueError(f"head_bias must be 'prior' or 'zero', got {how!r}")
