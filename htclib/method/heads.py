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

    @torch.no_grad()
    def fit_probe(self, h: torch.Tensor, y: np.ndarray, c: float, max_iter: int = 200) -> float:
        """Fit the linear layer to fixed states ``h`` ``(n, hidden)`` and multi-hot ``y`` by
        L2-regularised logistic regression, one sigmoid per label: mean BCE + ||W||^2 / (2 c n)
        (scikit-learn's ``LogisticRegression(C=c)`` per label, scaled by 1/(c n); the bias is
        not penalised), full batch, L-BFGS from the current weights. The head of LP-FT (Kumar
        et al. 2022, "Fine-tuning can distort pretrained features"): training then starts
        from a head that already fits the model's start instead of one that predicts nothing.
        Returns the fitted objective."""
        if c <= 0:
            raise ValueError(f"the probe's C must be > 0, got {c!r}")
        x = h.detach().float()
        t = torch.as_tensor(np.asarray(y), dtype=torch.float32)
        if x.ndim != 2 or x.shape != (len(t), self.linear.in_features):
            raise ValueError(
                f"states {tuple(x.shape)} do not fit a head of {self.linear.in_features} inputs"
                f" and {len(t)} label rows"
            )
        if t.shape[1] != self.linear.out_features:
            raise ValueError(f"{t.shape[1]} label columns for a head of {self.linear.out_features}")
        w = self.linear.weight.detach().float().clone().requires_grad_(True)
        b = self.linear.bias.detach().float().clone().requires_grad_(True)
        opt = torch.optim.LBFGS([w, b], max_iter=max_iter, line_search_fn="strong_wolfe")
        lam = 1.0 / (2.0 * c * len(t))

        def objective():
            opt.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(x @ w.T + b, t)
            loss = loss + lam * w.pow(2).sum()
            loss.backward()
            return loss

        with torch.enable_grad():
            opt.step(objective)
        self.linear.weight.copy_(w.detach())
        self.linear.bias.copy_(b.detach())
        logits = self.linear(x)
        bce = nn.functional.binary_cross_entropy_with_logits(logits, t)
        return float(bce + lam * self.linear.weight.pow(2).sum())

    def init_bias(self, how: str, y: np.ndarray, std: float = 0.02) -> None:
        """``how="prior"``: :meth:`init_bias_from_prior`; ``"zero"``: :meth:`init_like_bert`."""
        if how == "prior":
            self.init_bias_from_prior(y)
        elif how == "zero":
            self.init_like_bert(std)
        else:
            raise ValueError(f"head_bias must be 'prior' or 'zero', got {how!r}")
